"""Interleaved timing of the workloads' rows in one process.

For each workload every row is set up and called once (untimed for the table: the first
call is kept apart, and its result checked against the right answer); the limit,
wonderland and HIPS autograd rows (all three compute with NumPy) of workloads that measure
memory are called once more under ``tracemalloc``; then all rows are timed in rounds, each
round running every row once in an order rotated by the round, so that drift on a busy
machine hits every row alike. The figure of a row is its median over the rounds, with the
spread ``(max - min) / median``.

Before each timed call, outside the timed region: ``gc.collect()`` (cheap: the objects
alive before the rounds are frozen out of the collector's view) and a short wait until
this process's own threads are idle (OpenBLAS keeps a worker spinning for about 0.1 s
after a call, which would steal a core from the next row on a small machine).
"""

from __future__ import annotations

import datetime
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

import wonderland as wl

from .peers import PEERS, PeerMissing, cores, load, short, versions
from .workloads import WORKLOADS, Case, NotAvailable, Workload, to_numpy

#: Cores used by other processes during a workload above which its numbers are disturbed.
DISTURBED = 0.2


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def machine_busy_s() -> float | None:
    """Busy CPU-seconds of the whole machine since boot (``/proc/stat``), else ``None``.

    Examples
    --------
    >>> busy = machine_busy_s()
    >>> busy is None or busy > 0
    True
    """
    try:
        with open("/proc/stat") as fh:
            ticks = [int(v) for v in fh.readline().split()[1:9]]
        return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # not idle, iowait
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class LoadMeter:
    """The CPU other processes use from its creation on, in cores (``None`` where the
    machine's CPU time cannot be read).

    Examples
    --------
    >>> meter = LoadMeter()
    >>> load = meter.others()
    >>> load is None or load >= 0
    True
    """

    def __init__(self) -> None:
        self.wall, self.busy, self.own = time.perf_counter(), machine_busy_s(), _own_cpu_s()

    def others(self) -> float | None:
        busy = machine_busy_s()
        if busy is None or self.busy is None:
            return None
        wall = max(time.perf_counter() - self.wall, 1e-9)
        return max((busy - self.busy) - (_own_cpu_s() - self.own), 0.0) / wall


def settle(max_wait: float = 0.5, window: float = 0.01) -> None:
    """Sleep until this process's threads have used under a fifth of a core for
    ``window`` seconds (at most ``max_wait`` seconds)."""
    deadline = time.perf_counter() + max_wait
    while time.perf_counter() < deadline:
        c0 = time.process_time()
        time.sleep(window)
        if time.process_time() - c0 < 0.2 * window:
            return


def peak_traced_bytes(fn: Callable[[], Any]) -> int:
    """The peak of memory allocations traced by ``tracemalloc`` while ``fn()`` runs, over
    what was allocated before (NumPy reports its buffers to ``tracemalloc``).

    Examples
    --------
    >>> peak_traced_bytes(lambda: np.ones(1_000_000)) >= 8_000_000
    True
    """
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
        del out
    finally:
        if not tracing:
            tracemalloc.stop()
    return int(peak)


class _Row:
    """A case being run: its thunks, their times and results."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.fns: dict[str, Callable[[], Any]] = {}
        self.times: dict[str, list[float]] = {}
        self.first: dict[str, float] = {}
        self.results: dict[str, Any] = {}
        self.memory: int | None = None
        self.status, self.error = "ok", ""

    def fail(self, status: str, error: str) -> None:
        self.status, self.error, self.fns = status, error, {}

    def call(self, name: str) -> tuple[float, Any]:
        fn = self.fns[name]
        gc.collect()
        settle()
        t0 = time.perf_counter()
        out = fn()
        if self.case.impl in ("jax", "jax-jit"):  # JAX is asynchronous: wait for it
            import jax

            out = jax.block_until_ready(out)
        return time.perf_counter() - t0, out


def _set_up(row: _Row, missing: dict[str, str], memory: str | None) -> None:
    """Build, call each thunk once (kept as the first call), measure memory."""
    case = row.case
    if case.impl in missing:  # "not installed (...)" or "not importable (...)"
        status, _, detail = missing[case.impl].partition(" (")
        row.fail(status, detail.removesuffix(")"))
        return
    try:
        row.fns = case.build()
        for name in row.fns:
            row.first[name], out = row.call(name)
            row.results[name] = to_numpy(out)
        # (HIPS autograd computes with NumPy too: tracemalloc sees its arrays)
        if memory and case.impl in ("numpy", "wonderland", "autograd") and case.role != "info":
            row.memory = peak_traced_bytes(row.fns[memory])
    except NotAvailable as exc:
        row.fail("not available", str(exc))
    except Exception as exc:  # noqa: BLE001 - one row failing must not stop the run
        row.fail("error", short(exc))


def run_workload(w: Workload, peers: Iterable[str], missing: dict[str, str],
                 rounds: int | None = None, log: Callable[[str], None] | None = None
                 ) -> list[dict[str, Any]]:
    """Set up, warm up, time in interleaved rounds and summarize one workload.

    ``peers``: the peers to run (the limit row always runs); ``missing``: peer -> why it
    cannot run; ``rounds``: timed rounds (default: the workload's). Returns one dict a
    row, JSON-ready.

    Examples
    --------
    >>> w = WORKLOADS["W1"](quick=True)
    >>> rows = run_workload(w, peers=(), missing={}, rounds=1)
    >>> [(r["label"], r["status"]) for r in rows][:2]
    [('python, hand derivative (limit)', 'ok'), ('wonderland backward()', 'ok')]
    """
    peers, rounds, log = set(peers), rounds or w.rounds, log or (lambda text: None)
    chosen = [c for c in w.cases
              if c.role == "limit" or c.impl in ("numpy", "wonderland") or c.impl in peers]
    rows = [_Row(c) for c in chosen]
    log(f"{w.wid} {w.title}: {len(rows)} rows, {rounds} rounds ...")
    t_start, meter = time.perf_counter(), LoadMeter()
    # Everything alive (the modules of the peers, the data) goes out of the collector's
    # view: gc.collect() before each call then costs microseconds, not the ~0.2 s a full
    # scan of torch + jax + sklearn takes; again after the set-up, for its objects.
    gc.collect()
    gc.freeze()
    try:
        for row in rows:
            _set_up(row, missing, w.memory)
        gc.collect()
        gc.freeze()
        live = [r for r in rows if r.fns]
        for k in range(rounds):
            shift = k % max(len(live), 1)
            for row in live[shift:] + live[:shift]:
                if row.status != "ok":
                    continue
                try:
                    for name in row.fns:
                        row.times.setdefault(name, []).append(row.call(name)[0])
                except Exception as exc:  # noqa: BLE001
                    row.fail("error", short(exc))
    finally:
        gc.unfreeze()  # this workload's objects may go now
    load = meter.others()
    out = _summarize(w, rows, load)
    took = time.perf_counter() - t_start
    busy = "" if load is None else f", other processes used {load:.2f} cores"
    log(f"{w.wid} done in {took:.1f} s{busy}")
    return out


def new_row(**fields: Any) -> dict[str, Any]:
    """A row of the results with every key, ``fields`` over the defaults.

    Examples
    --------
    >>> row = new_row(workload="W1", label="x")
    >>> row["status"], row["ratio"], row["memory_bytes"]
    ('ok', None, None)
    """
    row: dict[str, Any] = dict(
        workload="", title="", impl="", label="", role="impl", unit="", status="ok", error="",
        value=None, ratio=None, ratio_torch=None, spread=None, rounds=0, check="",
        check_err=None, notes="", memory_bytes=None, medians_s=None, times_s={},
        first_call_s=None, background_load_cores=None)
    row.update(fields)
    return row


def round_spread(w: Workload, times: dict[str, list[float]]) -> tuple[int, float | None]:
    """The rounds of a row and the spread ``(max - min) / median`` of its figure round by
    round: for W4, whose figure is a quotient of two thunks' times, the spread of that
    quotient, not of one thunk's time.

    Examples
    --------
    >>> w = WORKLOADS["W4"](quick=True)
    >>> round_spread(w, {"fwd": [1.0, 2.0], "vg": [2.0, 4.0]})  # v&g/fwd is 2 in both
    (2, 0.0)
    """
    n = min(len(v) for v in times.values())
    if n == 0:
        return 0, None
    figures = [w.value({k: v[i] for k, v in times.items()}) for i in range(n)]
    middle = statistics.median(figures)
    return n, ((max(figures) - min(figures)) / middle if middle else None)


def _summarize(w: Workload, rows: list[_Row], load: float | None) -> list[dict[str, Any]]:
    def medians(row: _Row) -> dict[str, float] | None:
        if row.status != "ok" or not row.times:
            return None
        return {k: statistics.median(v) for k, v in row.times.items()}

    values = {id(r): w.value(m) for r in rows if (m := medians(r)) is not None}
    limit = next((r for r in rows if r.case.role == "limit"), None)
    limit_value = values.get(id(limit))
    torch_rows = [r for r in rows if r.case.impl == "torch" and id(r) in values]

    out = []
    for row in rows:
        c, value, med = row.case, values.get(id(row)), medians(row)
        d = new_row(workload=w.wid, title=w.title, impl=c.impl, label=c.label, role=c.role,
                    unit=w.unit, status=row.status, error=row.error, value=value,
                    memory_bytes=row.memory, medians_s=med, times_s=row.times,
                    first_call_s=row.first or None, background_load_cores=load)
        if value is not None and med is not None:
            d["rounds"], d["spread"] = round_spread(w, row.times)
            if c.role != "info" and limit_value:
                d["ratio"] = value / limit_value
            if w.vs_torch and c.impl == "wonderland" and torch_rows:
                pair = next((r for r in torch_rows if r.case.label == c.pair), torch_rows[0])
                d["ratio_torch"] = value / values[id(pair)]
            checked = c.role != "info" and (c.role != "limit" or w.limit_is_answer)
            if checked and w.check is not None:
                d["check"], d["check_err"] = w.check(row.results)
            if w.notes is not None:
                d["notes"] = w.notes(med, row.results)
            if c.impl == "jax-jit" and row.first:
                first = max(row.first.values())
                d["notes"] = "; ".join(filter(None, [d["notes"], f"first call {first:.3g} s"]))
        out.append(d)
    return out


def _targets(w: Workload, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each of ``w``'s targets, measured: its wonderland row (the first, unless it names
    one) over the limit's."""
    limit = next((r for r in rows if r["role"] == "limit"), None)
    out = []
    for t in w.targets:
        mine = next((r for r in rows if r["impl"] == "wonderland"
                     and t.row in (None, r["label"])), None)
        ratio = None
        if limit and mine and limit["status"] == "ok" and mine["status"] == "ok":
            if t.kind == "time" and limit["medians_s"] and mine["medians_s"]:
                ratio = mine["medians_s"][t.thunk] / limit["medians_s"][t.thunk]
            elif t.kind == "memory" and limit["memory_bytes"] and mine["memory_bytes"]:
                ratio = mine["memory_bytes"] / limit["memory_bytes"]
        out.append(dict(workload=w.wid, text=t.text, kind=t.kind, at_most=t.at_most,
                        ratio=ratio, met=None if ratio is None else ratio <= t.at_most))
    return out


def environment(peers: Iterable[str], missing: dict[str, str]) -> dict[str, Any]:
    """What the numbers depend on: date, machine, cores, versions and the BLAS in use.

    Examples
    --------
    >>> env = environment([], {})
    >>> env["wonderland"] == wl.__version__, env["cores"] >= 1
    (True, True)
    """
    env: dict[str, Any] = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": _cpu_name(),
        "cores": cores(),
        "numpy": np.__version__,
        "wonderland": wl.__version__,
        "peers": versions([p for p in peers if p not in missing]),
        "missing": dict(missing),
        "blas": blas_info(),
    }
    if "torch" in env["peers"]:
        env["torch_threads"] = sys.modules["torch"].get_num_threads()
    return env


def blas_info() -> list[dict[str, Any]]:
    """The BLAS / OpenMP thread pools loaded in this process (``threadpoolctl``), or
    NumPy's build-time BLAS where threadpoolctl is not installed.

    Examples
    --------
    >>> any(p.get("user_api") == "blas" for p in blas_info())
    True
    """
    try:
        from threadpoolctl import threadpool_info

        return [{k: p.get(k) for k in ("user_api", "internal_api", "version", "num_threads",
                                       "architecture")}
                | {"library": os.path.basename(p.get("filepath", ""))}
                for p in threadpool_info()]
    except ImportError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return [{"user_api": "blas", "internal_api": blas.get("name"),
                 "version": blas.get("version"), "num_threads": None, "architecture": None,
                 "library": "numpy (build configuration)"}]
    except Exception:  # noqa: BLE001 - older NumPy: nothing to say
        return []


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "?"


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`run_bench`: still a ``KeyboardInterrupt``, carrying the
    results of the workloads that finished before it.

    Parameters
    ----------
    workload : str
        The workload that was running (its rows are not in ``results``).
    results : dict
        What :func:`run_bench` returns, with the finished workloads only (``rows`` may be
        empty) and ``interrupted`` set to ``workload``.

    Examples
    --------
    >>> exc = Interrupted("W6", {"rows": [], "interrupted": "W6"})
    >>> isinstance(exc, KeyboardInterrupt), exc.workload
    (True, 'W6')
    """

    def __init__(self, workload: str, results: dict[str, Any]) -> None:
        super().__init__(f"interrupted during {workload}")
        self.workload, self.results = workload, results


def run_bench(only: Iterable[str] | None = None, peers: Iterable[str] | None = None,
              quick: bool = False, rounds: int | None = None,
              log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the workloads ``only`` (default all) with the ``peers`` (default all): the
    results, JSON-ready: ``environment``, ``quick``, ``sizes``, ``rows``, ``targets``,
    ``footnotes``.

    Ctrl-C during a workload raises :class:`Interrupted` (a ``KeyboardInterrupt``) with
    the results of the workloads that finished before it.

    Examples
    --------
    >>> res = run_bench(["W1"], peers=[], quick=True, rounds=1)  # doctest: +SKIP
    >>> sorted(res)  # doctest: +SKIP
    ['environment', 'footnotes', 'quick', 'rows', 'sizes', 'targets']
    """
    only = list(only) if only is not None else list(WORKLOADS)
    peers = list(peers) if peers is not None else list(PEERS)
    unknown = [p for p in peers if p not in PEERS]
    if unknown:  # (a misspelt peer had no row and no word)
        raise ValueError(f"run_bench: unknown peer(s) {', '.join(map(repr, unknown))}; the "
                         f"peers are {', '.join(PEERS)}")
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    needed = set(peers) | ({"sklearn"} if "W8" in only else set())  # W8's limit
    missing: dict[str, str] = {}
    needed = [p for p in PEERS if p in needed]
    for p in needed:
        try:
            load(p)
        except PeerMissing as exc:
            missing[p] = str(exc)
    results: dict[str, Any] = dict(environment=environment(needed, missing), quick=quick,
                                   sizes={}, rows=[], targets=[], footnotes=[])
    t0 = time.perf_counter()
    for wid in only:
        try:
            try:
                w = WORKLOADS[wid](quick)
            except Exception as exc:  # noqa: BLE001 - its data cannot be made: one row says so
                log(f"{wid}: set-up failed: {short(exc)}")
                results["rows"].append(new_row(workload=wid, label="(workload set-up)",
                                               status="error", error=short(exc)))
                continue
            rows = run_workload(w, peers, missing, rounds, log)
            targets, sizes, footnotes = _targets(w, rows), w.sizes, w.footnotes
            del w
            gc.collect()
        except KeyboardInterrupt:
            # minutes of finished workloads must not go with the one cut short
            results["environment"]["seconds"] = round(time.perf_counter() - t0, 1)
            results["interrupted"] = wid
            raise Interrupted(wid, results) from None
        # last, all at once: results never hold half a workload
        results["rows"] += rows
        results["targets"] += targets
        results["sizes"][wid] = sizes
        results["footnotes"] += footnotes
    results["environment"]["seconds"] = round(time.perf_counter() - t0, 1)
    return results


__all__ = ["DISTURBED", "Interrupted", "LoadMeter", "blas_info", "environment",
           "machine_busy_s", "new_row", "peak_traced_bytes", "round_spread", "run_bench",
           "run_workload", "settle"]
