"""wonderland's Dask fits on data several times larger than the cluster's memory.

A ``LocalCluster`` of 2 worker processes (1 thread each) with ``--memory-limit`` per
worker (default 1 GiB) fits ``Ridge`` and ``LogisticRegression`` on ``X`` of ``--times``
(default 4) times the two workers' memory limits together (8.6 GB by default), or of
``--gb`` GB. ``X`` is never stored:
each row block is drawn by ``dask.array.random`` from its own seed, so every pass over
the data draws the same block again, and the targets come from a linear model of the
same blocks (a regression target, and a binary one from it with logistic noise).

The script reports, per fit: the time, the passes over ``X`` (tasks that read a block /
blocks), the peak resident memory of each worker process (sampled every
``--interval`` seconds by a background thread through ``client.run``; a sampled peak,
so a short spike between two samples can be missed) and whether every worker survived
(the same worker addresses before and after: a worker that the nanny killed for memory
comes back under a new address).

    python benchmarks/dask_out_of_core.py                       # 2 x 1 GiB, 8.6 GB of X
    python benchmarks/dask_out_of_core.py --memory-limit 512MiB # 2 x 512 MiB, 4.3 GB
    python benchmarks/dask_out_of_core.py --gb 0.5              # quick check
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

try:
    import wonderland.linear as wll
except ImportError:  # a clone that is not installed: use its source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import wonderland.linear as wll

import dask.array as da
from dask.utils import parse_bytes
from distributed import Client, LocalCluster, get_task_stream
from distributed.utils import key_split

# the wonderland tasks that read a block of X, as ``key_split`` names them
READ_TASKS = {"block_moments", "block_counts", "block_terms", "block_loss"}


def _rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


class PeakMemory:
    """The largest RSS seen per worker, sampled by a background thread while in use."""

    def __init__(self, client: Client, interval: float) -> None:
        self.client, self.interval = client, interval
        self.peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                for worker, rss in self.client.run(_rss).items():
                    self.peak[worker] = max(self.peak.get(worker, 0), rss)
            except Exception:  # a worker restarting: the survival check reports it
                pass
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def make_data(n: int, d: int, block_rows: int, seed: int = 0) -> tuple[da.Array, ...]:
    """Lazy ``X`` (standard normal, shifted and scaled per column), ``y = Xw + 3 + noise``
    and ``t = [Xw + logistic noise > 0]``: every block drawn from its own seed, fixed
    when the graph is built, so a block is the same each time it is drawn."""
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.5, 2.0, d)
    offset = rng.uniform(-2.0, 2.0, d)
    w = rng.normal(size=d) / np.sqrt(d) / scale
    drng = da.random.default_rng(seed + 1)
    X = drng.standard_normal((n, d), chunks=(block_rows, d)) * scale + offset
    score = X @ w - offset @ w
    y = score + 3.0 + 0.5 * drng.standard_normal(n, chunks=block_rows)
    t = (score + drng.logistic(0.0, 1.0, n, chunks=block_rows) > 0).astype(np.float64)
    return X, y, t


def run(args: argparse.Namespace) -> dict:
    d = args.features
    limit = parse_bytes(args.memory_limit)
    data_bytes = args.gb * 1e9 if args.gb else args.times * 2 * limit
    n = -int(-data_bytes // (8 * d))
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           memory_limit=args.memory_limit, dashboard_address=None)
    client = Client(cluster)
    try:
        X, y, t = make_data(n, d, args.block_rows)
        report = {"rows": n, "features": d, "block_rows": args.block_rows,
                  "blocks": len(X.chunks[0]), "data_bytes": n * d * 8,
                  "worker_memory_limit": limit, "workers": 2, "fits": [],
                  "load_before": os.getloadavg()}
        print(f"X: {n:,} x {d} float64 = {n * d * 8 / 1e9:.1f} GB in {len(X.chunks[0])} "
              f"blocks; 2 workers x {limit / 2**30:.2f} GiB", file=sys.stderr, flush=True)

        def fit(name: str, make: Callable[[], Any], target: da.Array) -> None:
            before = set(client.scheduler_info()["workers"])
            with PeakMemory(client, args.interval) as memory, \
                    get_task_stream(client) as stream:
                start = time.perf_counter()
                model = make().fit(X, target)
                seconds = time.perf_counter() - start
            after = set(client.scheduler_info()["workers"])
            reads = sum(key_split(task["key"]).lstrip("_") in READ_TASKS
                        for task in stream.data)
            entry = {"name": name, "seconds": seconds, "passes_over_X": reads / len(X.chunks[0]),
                     "peak_rss": sorted(memory.peak.values(), reverse=True),
                     "workers_survived": before == after and len(after) == 2,
                     "n_iter": getattr(model, "n_iter_", None)}
            report["fits"].append(entry)
            print(f"  {name}: {seconds:.1f} s, peak RSS "
                  f"{[f'{r / 2**20:.0f} MiB' for r in entry['peak_rss']]}, survived: "
                  f"{entry['workers_survived']}", file=sys.stderr, flush=True)

        fit("wonderland Ridge(alpha=1)", lambda: wll.Ridge(alpha=1.0), y)
        fit("wonderland LogisticRegression(alpha=1e-6)",
            lambda: wll.LogisticRegression(alpha=1e-6), t)
        report["load_after"] = os.getloadavg()
        return report
    finally:
        client.close()
        cluster.close()


def table(report: dict) -> str:
    limit = report["worker_memory_limit"]
    data = report["data_bytes"]
    lines = [f"X: {report['rows']:,} x {report['features']} float64 = {data / 1e9:.1f} GB "
             f"({data / (2 * limit):.1f}× the workers' memory together), drawn lazily in "
             f"{report['blocks']} blocks of {report['block_rows']:,} rows; LocalCluster of "
             f"2 worker processes x 1 thread, memory_limit {limit / 2**20:.0f} MiB each. "
             f"Load average (1, 5, 15 min) before: "
             f"{', '.join(f'{v:.2f}' for v in report['load_before'])}, after: "
             f"{', '.join(f'{v:.2f}' for v in report['load_after'])}.", "",
             "| fit | s | passes over X | peak RSS per worker (MiB) | % of memory_limit | "
             "workers survived |", "|---|---|---|---|---|---|"]
    for e in report["fits"]:
        peaks = " / ".join(f"{r / 2**20:.0f}" for r in e["peak_rss"])
        share = " / ".join(f"{100 * r / limit:.0f}" for r in e["peak_rss"])
        lines.append(f"| {e['name']} | {e['seconds']:.1f} | {e['passes_over_X']:g} | {peaks} "
                     f"| {share} | {'yes' if e['workers_survived'] else 'NO'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--times", type=float, default=4.0,
                        help="size of X as a multiple of the workers' memory limits together")
    parser.add_argument("--gb", type=float, help="size of X in GB (1e9 bytes), instead")
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--block-rows", type=int, default=100_000)
    parser.add_argument("--memory-limit", default="1GiB", help="per worker")
    parser.add_argument("--interval", type=float, default=0.5,
                        help="seconds between memory samples")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        report = run(args)
    print(table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
