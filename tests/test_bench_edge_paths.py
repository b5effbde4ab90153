"""Edge paths of ``wonderland bench`` that the other bench tests do not reach: peers that
are broken or lack metadata, a machine without ``/proc``, rows failing mid-run, workloads
whose set-up fails, targets, notes, odd figures and saved files that are not bench runs.

Runs use tiny synthetic workloads (milliseconds a call), never the real W1-W8.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import types
from typing import Any

import numpy as np
import pytest

from bench_helpers import ENV, cli, failing_import
from wonderland.bench import format_table, peers, read_json, report, run_bench, runner, write_json
from wonderland.bench.workloads import WORKLOADS, Case, Target, Workload


def tiny(wid: str = "W0", extra: list[Case] | None = None, **kw: Any) -> Workload:
    """A workload of a limit and a wonderland row, each a cheap NumPy call."""
    x = np.arange(1000, dtype=np.float64)
    cases = [Case("numpy", "limit", lambda: {"main": lambda: x * 2.0}, role="limit"),
             Case("wonderland", "wl row", lambda: {"main": lambda: (x + 0.0) * 2.0})]
    return Workload(wid, "tiny", "ms", 2, cases + (extra or []),
                    value=lambda m: m["main"] * 1e3, **kw)


def run_tiny(monkeypatch, factory, peer_list=(), rounds=2, only=("W0",)) -> dict[str, Any]:
    """``run_bench`` of the synthetic workload(s) registered as ``only``."""
    for wid in only:
        monkeypatch.setitem(WORKLOADS, wid, factory)
    return run_bench(list(only), peers=list(peer_list), quick=True, rounds=rounds,
                     log=lambda text: None)


def line_of(table: str, label: str) -> str:
    return next(ln for ln in table.splitlines() if f" {label} " in f" {ln} ")


# ---------------------------------------------------------------- peers.py


def test_cores_without_affinity_uses_cpu_count(monkeypatch):
    # peers.py 42: platforms without sched_getaffinity (macOS, Windows)
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert peers.cores() == 3
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # unknown: still one core
    assert peers.cores() == 1


def test_load_of_an_unknown_peer_is_a_key_error():
    # peers.py 77: only reachable by calling load() directly (the CLI refuses the name
    # first; run_bench drops names outside PEERS before loading)
    with pytest.raises(KeyError, match="unknown peer 'fortran'"):
        peers.load("fortran")


def _broken_autograd(monkeypatch):
    failing_import(monkeypatch, "autograd",
                   ImportError("libfoo.so: cannot open shared object file"))
    return tiny(extra=[Case("autograd", "autograd row", lambda: {"main": lambda: 1.0})])


def test_an_installed_but_broken_peer_is_a_row_not_a_failure(monkeypatch):
    # peers.py 85-86: an import failing with something else than ModuleNotFoundError
    w = _broken_autograd(monkeypatch)
    res = run_tiny(monkeypatch, lambda quick: w, peer_list=["autograd"])
    row = next(r for r in res["rows"] if r["impl"] == "autograd")
    assert row["value"] is None and row["ratio"] is None
    assert row["status"] == "not importable"
    assert row["error"] == "ImportError: libfoo.so: cannot open shared object file"
    assert res["environment"]["missing"] == {
        "autograd": "not importable (ImportError: libfoo.so: cannot open shared object file)"}
    assert "autograd" not in res["environment"]["peers"]
    assert "not importable: ImportError" in line_of(format_table(res), "autograd row")


# Fixed; before the fix: a peer that is installed but fails to import gets status 'not
# installed'; its row reads 'not installed: not importable (...)' (peers.py promises 'not
# importable')
def test_a_broken_peer_is_not_called_not_installed(monkeypatch):
    # runner._set_up marks every peer in `missing` "not installed", whatever the reason
    w = _broken_autograd(monkeypatch)
    res = run_tiny(monkeypatch, lambda quick: w, peer_list=["autograd"])
    assert "not installed" not in line_of(format_table(res), "autograd row")


def test_a_peer_without_distribution_metadata_has_version_question_mark(monkeypatch):
    # peers.py 107-108: importable but no dist-info (a source checkout on sys.path)
    def no_dist(name):
        raise peers.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(peers.metadata, "version", no_dist)
    assert peers.versions(["jax-jit"]) == {"jax": "?", "jaxlib": "?"}
    assert runner.environment(["sklearn"], {})["peers"] == {"scikit-learn": "?"}


# ---------------------------------------------------------------- runner.py


def _no_proc(monkeypatch):
    def no_file(*args, **kwargs):
        raise OSError("no /proc here")

    monkeypatch.setattr(runner, "open", no_file, raising=False)  # shadows the builtin there


def test_without_proc_stat_the_load_is_unknown_not_a_crash(monkeypatch):
    # runner.py 58-59 (machine_busy_s -> None), 80 (LoadMeter.others -> None),
    # report.py 167 (the table says the load is unknown, warns of nothing)
    _no_proc(monkeypatch)
    assert runner.machine_busy_s() is None and runner.LoadMeter().others() is None
    res = run_tiny(monkeypatch, lambda quick: tiny())
    assert all(r["background_load_cores"] is None for r in res["rows"])
    table = format_table(res)
    assert table.splitlines()[-1] == "CPU used by other processes: unknown here (no /proc/stat)"
    assert "WARNING" not in table


def test_without_proc_cpuinfo_the_processor_comes_from_platform(monkeypatch):
    # runner.py 372-374: _cpu_name's fallback
    _no_proc(monkeypatch)
    monkeypatch.setattr(runner.platform, "processor", lambda: "")
    monkeypatch.setattr(runner.platform, "machine", lambda: "riscv64")
    assert runner.environment([], {})["processor"] == "riscv64"


def test_a_row_failing_in_a_timed_round_becomes_an_error_row(monkeypatch):
    # runner.py 208-209 (failure in a timed round) and 204 (skipped in later rounds)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 2:  # the set-up call passes, the first timed round fails
            raise RuntimeError("flaky\nsecond line")
        return 1.0

    w = tiny(extra=[Case("wonderland", "flaky row", lambda: {"main": flaky})])
    res = run_tiny(monkeypatch, lambda quick: w, rounds=3)
    by = {r["label"]: r for r in res["rows"]}
    assert len(calls) == 2  # never called again after failing
    flaky_row = by["flaky row"]
    assert (flaky_row["status"], flaky_row["error"]) == ("error", "RuntimeError: flaky")
    assert flaky_row["value"] is None and flaky_row["ratio"] is None
    assert by["wl row"]["rounds"] == 3 and by["limit"]["rounds"] == 3
    assert "error: RuntimeError: flaky" in line_of(format_table(res), "flaky row")


def test_notes_are_made_from_the_medians_and_the_results(monkeypatch):
    # runner.py 286: a workload's notes callable
    seen = []

    def notes(med, results):
        seen.append((set(med), results["main"].shape))
        return f"{len(med)} thunk"

    res = run_tiny(monkeypatch, lambda quick: tiny(notes=notes))
    assert [r["notes"] for r in res["rows"]] == ["1 thunk", "1 thunk"]
    assert seen == [({"main"}, (1000,))] * 2
    assert line_of(format_table(res), "wl row").endswith("1 thunk")


def test_time_targets_are_measured_and_listed(monkeypatch):
    # runner.py 305 (a time target's ratio), report.py 152-156 (the targets' lines)
    def broken():
        raise RuntimeError("no")

    targets = [Target("wl within 1000x", "time", "main", 1000.0),
               Target("wl as fast as nothing", "time", "main", 1e-9),
               Target("the broken row", "time", "main", 2.0, row="broken")]
    w = tiny(extra=[Case("wonderland", "broken", broken)], targets=targets)
    res = run_tiny(monkeypatch, lambda quick: w)
    limit, mine = res["rows"][0], res["rows"][1]
    want = mine["medians_s"]["main"] / limit["medians_s"]["main"]
    got = {t["text"]: (t["ratio"], t["met"]) for t in res["targets"]}
    assert got["wl within 1000x"] == (pytest.approx(want), True)
    assert got["wl as fast as nothing"] == (pytest.approx(want), False)
    assert got["the broken row"] == (None, None)
    table = format_table(res)
    assert "targets (reported, not asserted):" in table
    assert f"  wl within 1000x: {want:.2f}  (met), target <= 1000.0" in table
    assert "(MISSED), target <= 1e-09" in table
    assert "  the broken row: not measured, target <= 2.0" in table


def test_blas_info_without_threadpoolctl_reads_numpy_build_config(monkeypatch):
    # runner.py 355-359: threadpoolctl not installed
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import raises ImportError
    (pool,) = runner.blas_info()
    build = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    assert pool == {"user_api": "blas", "internal_api": build.get("name"),
                    "version": build.get("version"), "num_threads": None,
                    "architecture": None, "library": "numpy (build configuration)"}


def test_blas_info_with_nothing_known_is_empty_and_the_header_says_unknown(monkeypatch):
    # runner.py 360-363: neither threadpoolctl nor a NumPy that describes its build
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)

    def old_show_config(*args, **kwargs):
        raise TypeError("show_config() got an unexpected keyword argument 'mode'")

    monkeypatch.setattr(runner.np, "show_config", old_show_config)
    assert runner.blas_info() == []
    env = runner.environment([], {})
    header = report.format_header(dict(environment=env, quick=True, rows=[]))
    assert "  BLAS: unknown" in header.splitlines()


def test_a_workload_whose_set_up_fails_is_one_row_and_the_run_goes_on(monkeypatch):
    # runner.py 435-439: WORKLOADS[wid](quick) raising
    def broken(quick):
        raise MemoryError("cannot allocate the data")

    monkeypatch.setitem(WORKLOADS, "WX", broken)
    logged: list[str] = []
    monkeypatch.setitem(WORKLOADS, "W0", lambda quick: tiny())
    res = run_bench(["WX", "W0"], peers=[], quick=True, rounds=1, log=logged.append)
    first = res["rows"][0]
    assert (first["workload"], first["label"], first["status"]) == (
        "WX", "(workload set-up)", "error")
    assert first["error"] == "MemoryError: cannot allocate the data"
    assert [r["workload"] for r in res["rows"][1:]] == ["W0", "W0"]
    assert list(res["sizes"]) == ["W0"]
    assert logged[0] == "WX: set-up failed: MemoryError: cannot allocate the data"
    assert "error: MemoryError: cannot allocate" in line_of(format_table(res),
                                                           "(workload set-up)")


# Fixed; before the fix: a run whose only workload failed its set-up (no load measured) says
# 'no /proc/stat' on a machine that has one
def test_a_run_without_measured_load_does_not_blame_proc_stat(monkeypatch):
    # report.format_table reads "no load figures" as "no /proc/stat"
    assert runner.machine_busy_s() is not None  # /proc/stat is readable here

    def broken(quick):
        raise MemoryError("cannot allocate the data")

    monkeypatch.setitem(WORKLOADS, "WX", broken)
    res = run_bench(["WX"], peers=[], quick=True, rounds=1, log=lambda text: None)
    assert "no /proc/stat" not in format_table(res)


# ---------------------------------------------------------------- numbers and the warning


def test_medians_spreads_and_ratios_agree_with_the_round_times(monkeypatch):
    # the figures of a run recomputed from its own per-round times
    res = run_tiny(monkeypatch, lambda quick: tiny(), rounds=3)
    limit, mine = res["rows"]
    for r in (limit, mine):
        times = r["times_s"]["main"]
        assert len(times) == r["rounds"] == 3
        assert r["medians_s"] == {"main": statistics.median(times)}
        assert r["value"] == pytest.approx(1e3 * statistics.median(times))
        assert r["spread"] == pytest.approx((max(times) - min(times)) / statistics.median(times))
    assert limit["ratio"] == 1.0
    assert mine["ratio"] == pytest.approx(mine["value"] / limit["value"])


def test_load_meter_counts_only_other_processes(monkeypatch):
    # LoadMeter: (machine busy - own CPU) / wall time, never negative
    clock = types.SimpleNamespace(t=100.0)
    monkeypatch.setattr(runner.time, "perf_counter", lambda: clock.t)
    busy, own = [50.0], [5.0]
    monkeypatch.setattr(runner, "machine_busy_s", lambda: busy[0])
    monkeypatch.setattr(runner, "_own_cpu_s", lambda: own[0])
    meter = runner.LoadMeter()
    clock.t, busy[0], own[0] = 102.0, 53.0, 7.0  # 3 s busy, 2 s of them ours, over 2 s
    assert meter.others() == pytest.approx(0.5)
    busy[0] = 51.0  # less than our own (clock granularity): clamped at 0
    assert meter.others() == 0.0


@pytest.mark.parametrize("load, warned", [(0.2, False), (0.2001, True), (0.0, False)])
def test_the_busy_warning_is_for_more_than_the_threshold(load, warned):
    # report: "more than 0.2 cores", so exactly 0.2 is not disturbed
    rows = [runner.new_row(workload="W1", label="limit", role="limit", unit="ms", value=1.0,
                           ratio=1.0, spread=0.0, rounds=2, background_load_cores=load)]
    table = format_table(dict(environment=dict(ENV), quick=True, rows=rows))
    assert f"W1 {load:.2f}" in table
    assert ("WARNING: other processes used more than 0.2 cores during W1" in table) is warned


# ---------------------------------------------------------------- report.py


def test_the_table_writes_no_figure_tiny_and_huge_figures(monkeypatch):
    # report.py 36 (fmt(None): an ok row without a figure) and 39 (exponent notation)
    rows = [runner.new_row(workload="W1", label="nofigure", unit="ms", value=None),
            runner.new_row(workload="W1", label="tiny", unit="ms", value=2.5e-5,
                           ratio=123456.0),
            runner.new_row(workload="W1", label="huge", unit="ms", value=123456.0)]
    table = format_table(dict(environment=dict(ENV), quick=True, rows=rows))
    assert line_of(table, "nofigure").split()[2] == "-"
    assert line_of(table, "tiny").split()[2:5] == ["2.500e-05", "ms", "1.235e+05"]
    assert line_of(table, "huge").split()[2] == "1.235e+05"


def test_write_json_turns_numpy_scalars_and_arrays_into_json(tmp_path):
    # report.py 173 (np.generic) and 175 (np.ndarray) in _plain
    results = dict(rows=[], sizes={"W1": {"n": np.int64(3), "f": np.float32(0.5),
                                          "shape": np.array([2, 3]), "dtype": np.dtype("f8")}})
    write_json(results, tmp_path / "r.json")
    assert read_json(tmp_path / "r.json")["sizes"] == {
        "W1": {"n": 3, "f": 0.5, "shape": [2, 3], "dtype": "float64"}}


def test_a_run_round_trips_through_json(monkeypatch, tmp_path):
    # write_json then read_json gives back every figure, and the same table
    res = run_tiny(monkeypatch, lambda quick: tiny(targets=[Target("t", "time", "main", 9)]))
    write_json(res, tmp_path / "run.json")
    back = read_json(tmp_path / "run.json")
    assert back == json.loads(json.dumps(res))
    assert back["rows"][1]["times_s"] == res["rows"][1]["times_s"]
    assert format_table(back) == format_table(res)


def test_plot_of_a_file_whose_targets_is_not_a_list_is_one_line(tmp_path):
    # report.py 250: check_results on targets
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"rows": [], "targets": {"W1": 1}}))
    status, out, err = cli("--plot", str(path))
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("wonderland bench: error: --plot: ")
    assert "its targets is an object, not a list" in err


def test_plot_of_a_binary_file_is_one_line(tmp_path):
    # report.py 290-291: bytes that do not decode (a PNG passed by mistake)
    path = tmp_path / "chart.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x80")
    status, out, err = cli("--plot", str(path))
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "is not JSON" in err and "Traceback" not in err


def test_run_bench_refuses_an_unknown_peer():
    # a misspelt peer in the Python API had no row and no word (the command refuses it)
    with pytest.raises(ValueError, match=r"run_bench: unknown peer\(s\) 'tourch'; the peers "
                                         r"are torch"):
        run_bench(["W1"], peers=["tourch"], quick=True, rounds=1, log=lambda text: None)
