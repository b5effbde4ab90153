"""wonderland's Dask fits against the bare chunked normal equations and against dask-ml.

One ``LocalCluster`` (2 worker processes, 1 thread each); ``X`` of ``--rows`` x 50
float64 in ``--blocks`` row blocks, a regression target from a noisy linear model and a
binary target from the same model, all persisted on the workers before any timing, so
that every row measures the fit and not the data generation.

Least squares, against *the limit*: ``XᵀX``, ``Xᵀy``, the column sums and ``Σy`` in one
``dask.compute`` (one read of ``X``), assembled into the normal equations of ``X`` with a
column of ones appended (the intercept, uncentred; the ones are never materialized) and
solved with ``np.linalg.solve``. wonderland's Ridge and LinearRegression, and dask-ml's
LinearRegression (its default solver, ADMM, and Newton), are reported as a ratio to it.

Logistic: every fit minimizes the same objective, the unpenalized mean log-loss with an
intercept: wonderland ``alpha=0``; dask-ml's ``newton`` and ``gradient_descent`` take no
penalty, and ``lbfgs`` and ``admm`` get ``C=1e10`` (an L2 weight of 1e-10 on a sum of
log-losses: nothing). Each row shows the time, its ratio to dask-ml's fastest solver and
the final mean log-loss of its coefficients, evaluated by one and the same function. For
wonderland the task stream also gives the number of passes over ``X`` (tasks that read a
block of ``X`` / number of blocks), next to its Newton steps.

    python benchmarks/dask_vs_daskml.py                          # 1e6 x 50, 10 blocks
    python benchmarks/dask_vs_daskml.py --rows 100000 --blocks 4 --no-admm   # quick
    python benchmarks/dask_vs_daskml.py --json dask.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
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

import dask
import dask.array as da
from distributed import Client, LocalCluster, get_task_stream, wait
from distributed.utils import key_split

N_FEATURES = 50
SLOW_S = 30.0  # a row slower than this is timed once: repeats would not change the picture
# the wonderland tasks that read a block of X (one per block per pass), as ``key_split``
# names them (it drops the leading underscore)
READ_TASKS = {"block_moments", "block_counts", "block_terms", "block_loss"}


def make_data(n: int, blocks: int, seed: int = 0) -> tuple[da.Array, da.Array, da.Array]:
    """``X`` with unequal column means and scales (so that the intercept and the centring
    matter), ``y = Xw + 3 + noise`` and ``t = [Xw + logistic noise > 0]``. ``w`` has norm
    about 1 per unit of column scale so that the classes overlap: the logistic optimum is
    finite and Newton needs several steps."""
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.5, 2.0, N_FEATURES)
    offset = rng.uniform(-2.0, 2.0, N_FEATURES)
    w = rng.normal(size=N_FEATURES) / np.sqrt(N_FEATURES) / scale
    drng = da.random.default_rng(seed + 1)
    rows = -(-n // blocks)
    X = drng.standard_normal((n, N_FEATURES), chunks=(rows, N_FEATURES)) * scale + offset
    score = X @ w - offset @ w
    y = score + 3.0 + 0.5 * drng.standard_normal(n, chunks=rows)
    t = (score + drng.logistic(0.0, 1.0, n, chunks=rows) > 0).astype(np.float64)
    return X, y, t


def limit_fit(X: da.Array, y: da.Array) -> np.ndarray:
    """The bare chunked normal equations of ``[X, 1]``: one compute, one solve."""
    xtx, xty, xs, ys = dask.compute(X.T @ X, X.T @ y, X.sum(axis=0), y.sum())
    d = X.shape[1]
    G = np.empty((d + 1, d + 1))
    G[:d, :d], G[:d, d], G[d, :d], G[d, d] = xtx, xs, xs, X.shape[0]
    return np.linalg.solve(G, np.append(xty, ys))


def mean_log_loss(X: da.Array, t: da.Array, coef: Any, intercept: Any) -> float:
    """The mean log-loss of ``(coef, intercept)`` on the data: the same code for every fit."""
    z = X @ np.ravel(np.asarray(coef, dtype=np.float64)) + float(np.ravel(intercept)[0])
    return float(da.mean(da.logaddexp(0.0, z) - t * z).compute())


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, list[float], Any]:
    """``fn`` once (its time if over ``SLOW_S``), else ``repeats`` more times: the median
    of those (the first call warms the workers: imports, pickled functions)."""
    start = time.perf_counter()
    result = fn()
    first = time.perf_counter() - start
    if first > SLOW_S or repeats < 1:
        return first, [first], result
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def run(args: argparse.Namespace) -> dict:
    import dask_ml.linear_model as dml

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           memory_limit=args.memory_limit, dashboard_address=None)
    client = Client(cluster)
    try:
        X, y, t = make_data(args.rows, args.blocks)
        X, y, t = client.persist([X, y, t])
        wait([X, y, t])
        rows: list[dict] = []
        report = {"rows": args.rows, "features": N_FEATURES, "blocks": args.blocks,
                  "workers": 2, "threads_per_worker": 1, "load_before": load(),
                  "least_squares": rows, "logistic": []}

        def row(name: str, fn: Callable[[], Any], repeats: int, check=None) -> Any:
            median, times, result = timed(fn, repeats)
            entry = {"name": name, "seconds": median, "times": times,
                     "one_run": times[0] > SLOW_S}
            if check is not None:
                entry.update(check(result))
            rows.append(entry)
            extra = {k: v for k, v in entry.items()
                     if k not in ("name", "seconds", "times", "one_run")}
            print(f"  {name}: {median:.3f} s {extra}", file=sys.stderr, flush=True)
            return result

        print("least squares", file=sys.stderr)
        reference = row("bare XᵀX + solve (the limit)", lambda: limit_fit(X, y), args.repeats)

        def against_limit(model: Any) -> dict:
            coef = np.append(np.ravel(model.coef_), np.ravel(model.intercept_)[0])
            return {"max_coef_diff": float(np.max(np.abs(coef - reference)))}

        row("wonderland LinearRegression", lambda: wll.LinearRegression().fit(X, y),
            args.repeats, against_limit)
        row("wonderland Ridge(alpha=1)", lambda: wll.Ridge(alpha=1.0).fit(X, y),
            args.repeats, against_limit)
        row("dask-ml LinearRegression (admm, default)",
            lambda: dml.LinearRegression().fit(X, y), args.repeats, against_limit)
        row("dask-ml LinearRegression (newton)",
            lambda: dml.LinearRegression(solver="newton").fit(X, y), args.repeats,
            against_limit)
        limit = rows[0]["seconds"]
        for entry in rows:
            entry["ratio"] = entry["seconds"] / limit

        print("logistic", file=sys.stderr)
        rows = report["logistic"]

        def wonderland_logistic() -> tuple[Any, int]:
            with get_task_stream(client) as stream:
                model = wll.LogisticRegression(alpha=0.0).fit(X, t)
            reads = sum(key_split(task["key"]).lstrip("_") in READ_TASKS for task in stream.data)
            return model, reads

        def logistic_check(result: Any) -> dict:
            model, reads = result if isinstance(result, tuple) else (result, None)
            entry = {"log_loss": mean_log_loss(X, t, model.coef_, model.intercept_)}
            if reads is not None:
                entry["newton_steps"] = int(model.n_iter_)
                entry["passes_over_X"] = reads / args.blocks
            return entry

        row("wonderland LogisticRegression (alpha=0)", wonderland_logistic, args.repeats,
            logistic_check)
        solvers = ["newton", "lbfgs", "gradient_descent"] + ([] if args.no_admm else ["admm"])
        for solver in solvers:
            # dask-ml's newton and gradient_descent take no penalty; C=1e10 makes the L2
            # weight of lbfgs and admm (1/C on a sum of log-losses) negligible
            kwargs = {} if solver in ("newton", "gradient_descent") else {"C": 1e10}
            row(f"dask-ml LogisticRegression ({solver})",
                lambda solver=solver, kwargs=kwargs:
                    dml.LogisticRegression(solver=solver, **kwargs).fit(X, t),
                args.repeats, logistic_check)
        fastest = min(entry["seconds"] for entry in rows if entry["name"].startswith("dask-ml"))
        for entry in rows:
            entry["ratio"] = entry["seconds"] / fastest
        report["load_after"] = load()
        return report
    finally:
        client.close()
        cluster.close()


def table(report: dict) -> str:
    lines = [f"X: {report['rows']:,} x {report['features']} float64 in {report['blocks']} "
             f"row blocks, persisted; LocalCluster of 2 worker processes x 1 thread. Load "
             f"average (1, 5, 15 min) before: {report['load_before']}, after: "
             f"{report['load_after']}.", "",
             "| least squares | s (median) | × limit | max \\|coef − limit's\\| |",
             "|---|---|---|---|"]
    for e in report["least_squares"]:
        diff = f"{e['max_coef_diff']:.1e}" if "max_coef_diff" in e else "—"
        lines.append(f"| {e['name']} | {e['seconds']:.3f} | {e['ratio']:.2f} | {diff} |")
    lines += ["", "| logistic (unpenalized) | s (median) | × dask-ml's fastest | mean log-loss "
              "| Newton steps / passes over X |", "|---|---|---|---|---|"]
    for e in report["logistic"]:
        passes = (f"{e['newton_steps']} / {e['passes_over_X']:g}" if "newton_steps" in e
                  else "—")
        runs = " (1 run)" if e.get("one_run", len(e["times"]) == 1) else ""
        lines.append(f"| {e['name']} | {e['seconds']:.2f}{runs} | {e['ratio']:.2f} | "
                     f"{e['log_loss']:.10f} | {passes} |")
    ls = {e["name"]: e for e in report["least_squares"]}
    lg = report["logistic"]
    ours = lg[0]
    best = min(lg[1:], key=lambda e: e["seconds"])
    met = ours["ratio"] <= 0.5 and ours["log_loss"] <= best["log_loss"] + 1e-9
    lr = ls["wonderland LinearRegression"]["ratio"]
    rr = ls["wonderland Ridge(alpha=1)"]["ratio"]
    lines += ["", "Targets (reported, not asserted):",
              f"- LinearRegression ≤ 1.3× the limit: {lr:.2f}× "
              f"({'met' if lr <= 1.3 else 'missed'})",
              f"- Ridge ≤ 1.3× the limit: {rr:.2f}× ({'met' if rr <= 1.3 else 'missed'})",
              f"- LogisticRegression ≤ 0.5× dask-ml's fastest ({best['name']}) at a loss no "
              f"higher: {ours['ratio']:.2f}×, loss {ours['log_loss']:.10f} vs "
              f"{best['log_loss']:.10f} ({ours['log_loss'] - best['log_loss']:+.1e}; "
              f"{'met' if met else 'missed'})",
              f"- one read of X per Newton step: {ours['passes_over_X']:g} passes for "
              f"{ours['newton_steps']} steps (one more: the first pass, for the classes, "
              f"counts, means and Gram matrix, which also give Newton's start point)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5,
                        help="timed runs after the first (median), for rows under 30 s")
    parser.add_argument("--no-admm", action="store_true", help="skip dask-ml's admm (minutes)")
    parser.add_argument("--memory-limit", default="4GiB", help="per worker")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        # dask-ml's solvers call np.linalg.lstsq without rcond and scipy's deprecated
        # options: noise that is not about the measurement
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        report = run(args)
    print(table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
