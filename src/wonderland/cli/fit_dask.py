"""``wonderland fit --dask``: the same fit and report as in memory, the data read in
blocks by ``dask.dataframe`` and the model fitted on a Dask cluster.

DATA is a CSV file, a glob of CSV files (``'parts/*.csv'``, quoted) or a Parquet file or
folder (with pyarrow). The files are read once, in blocks (partitions), on the cluster:
every cell is converted to a number there (an empty, non-numeric or non-finite cell is
an error naming the file, the row within that file and the column) and the blocks stay
on the workers (``persist``; they spill to disk past ``--memory-limit``) for the fit's
passes. Nothing is gathered onto this process but the model's sums.

The cluster is a ``LocalCluster`` of ``--workers`` processes (one thread each), started
here and closed at the end, or the scheduler at ``--scheduler ADDRESS``. With
``--test-size F`` the rows are split by ``dask.dataframe``'s ``random_split`` (each row
draws its side with ``--seed``: the test part holds about ``F`` of the rows, not exactly),
and the metrics are computed as Dask reductions over the blocks.
"""

from __future__ import annotations

import glob
import logging
import math
import operator
import os
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from .common import (
    LARGEST_INT_LABEL,
    CommandError,
    check_labels,
    delimiter_hint,
    format_scores,
    plural,
    print_coefficients,
    save_model,
    warn,
)

CONNECT_TIMEOUT = "3s"  # an unreachable --scheduler fails in seconds, not 30
BLOCK_SIZE = "64MB"  # bytes of CSV per block (partition)
PROGRESS_NAME = "wonderland-progress"


# ------------------------------------------------------------------ reading


@dataclass
class DaskData:
    """The checked data on the cluster: all-float64 blocks and where they came from."""

    frame: Any  # dask DataFrame, persisted, float64 columns
    features: list[str]
    target: str
    n_rows: int
    n_blocks: int
    whole_target: bool  # every target value is a whole number (class labels as ints)


def _files(path: str) -> list[str]:
    """The files of DATA: a glob's matches (sorted) or the path itself."""
    if glob.has_magic(path):
        files = sorted(f for f in glob.glob(path) if os.path.isfile(f))
        if not files:
            raise CommandError(f"no file matches {path!r}", status=2)
        return files
    if not os.path.exists(path):
        raise CommandError(f"no such file: {path!r}", status=2)
    return [path]


def _is_parquet(files: list[str]) -> bool:
    return all(f.lower().endswith((".parquet", ".pq")) or os.path.isdir(f) for f in files)


def _scan(part: Any, columns: list[str]) -> tuple[Any, int, tuple | None, bool]:
    """One block to float64, its row count, its first bad cell ``(row, column, value,
    why)`` or None, and whether the last column (the target) holds whole numbers only."""
    import pandas as pd

    out = {}
    bad = None
    for column in columns:
        raw = part[column]
        values = pd.to_numeric(raw, errors="coerce").astype(np.float64)
        wrong = ~np.isfinite(values.to_numpy())
        if wrong.any() and bad is None:
            i = int(np.flatnonzero(wrong)[0])
            value = raw.iloc[i]
            text = "" if value is None or (isinstance(value, float) and math.isnan(value)) \
                else str(value).strip()
            why = "an empty cell" if text == "" else (
                f"a non-finite value {text!r}" if values.iloc[i] == values.iloc[i] or
                text.lower() in ("nan", "inf", "-inf", "+inf", "infinity")
                else f"a non-numeric value {text!r}")
            bad = (i, column, why)
        out[column] = values.to_numpy()
    frame = pd.DataFrame(out, index=part.index)
    target = frame[columns[-1]].to_numpy()
    finite = target[np.isfinite(target)]
    # (as `_target` of the in-memory fit: past 2**53 the labels stay floats)
    whole = bool(np.all(finite == np.round(finite)) and np.all(np.abs(finite) <= 2.0**53))
    return frame, len(part), bad, whole


def read_dask(path: str, target: str, client: Any, blocksize: str = BLOCK_SIZE,
              delimiter: str = ",") -> DaskData:
    """Read DATA in blocks on ``client``'s cluster, check every cell, keep the blocks there.

    Parameters
    ----------
    path : str
        A CSV file, a glob of CSV files, or a Parquet file or folder.
    target : str
        The column to predict; the other columns are the features.
    client : distributed.Client
    blocksize : str
        Bytes of CSV per block.
    delimiter : str
        The field separator of CSV files.

    Returns
    -------
    DaskData

    Raises
    ------
    CommandError
        (status 2) A missing file, a glob that matches nothing, files whose columns
        differ, no column ``target`` (the message lists the columns), an empty,
        non-numeric or non-finite cell (the message names the file, row and column).

    Examples
    --------
    >>> data = read_dask("parts/*.csv", "price", client)  # doctest: +SKIP
    >>> data.n_rows, data.n_blocks, data.features  # doctest: +SKIP
    (30000, 3, ['rooms', 'age'])
    """
    import dask
    import dask.dataframe as dd
    import pandas as pd

    files, frames, owners = _frames(path, delimiter)
    columns = check_target(frames, files, path, target, delimiter)
    features = [c for c in columns if c != target]
    if not features:
        raise CommandError(f"{path!r} has only the target column {target!r}; no features",
                           status=2)
    order = features + [target]  # the target last: _scan checks it for whole numbers
    raw = dd.concat(frames) if len(frames) > 1 else frames[0]
    scan = dask.delayed(_scan, pure=True)
    get = dask.delayed(operator.getitem, pure=True)
    scanned = dask.persist(*[scan(p[order], order) for p in raw.to_delayed()])
    infos = dask.compute(*[(get(s, 1), get(s, 2), get(s, 3)) for s in scanned])
    lengths = [n for n, _, _ in infos]
    for k, (_, bad, _) in enumerate(infos):
        if bad is not None:
            row, column, why = bad
            file = owners[k]
            # rows are counted within the file: add the earlier blocks of the same file
            row += sum(lengths[j] for j in range(k) if owners[j] == file)
            raise CommandError(f"{why} in file {file!r} (block/partition {k}), row {row} "
                               f"(data rows counted from 0), column {column!r}", status=2)
    meta = pd.DataFrame({c: np.empty(0) for c in order})
    frame = dd.from_delayed([get(s, 0) for s in scanned], meta=meta, verify_meta=False)
    frame = frame.persist()
    return DaskData(frame, features, target, int(sum(lengths)), len(lengths),
                    all(w for _, _, w in infos))


def check_labels_dask(data: DaskData, model: str) -> None:
    """``check_labels`` on the target column of the blocks (kept on the cluster), as the
    fit in memory checks the column read whole: its first value that is not a label, else
    the number of its distinct values.

    Examples
    --------
    >>> check_labels_dask(read_dask("parts/*.csv", "label", client), "hinge")  # doctest: +SKIP
    Traceback (most recent call last):
    CommandError: --model hinge needs two classes in column 'label', found 3
    """
    column = data.frame[data.target]
    if not data.whole_target:
        bad = column[(column != column.round()) | (abs(column) > LARGEST_INT_LABEL)]
        check_labels(bad.head(1, npartitions=-1).to_numpy(), model, data.target)
    check_labels(column.unique().compute().to_numpy(), model, data.target)


def check_target(frames: list[Any], files: list[str], path: str, target: str,
                 delimiter: str = ",") -> list[str]:
    """The columns of DATA, or a :class:`CommandError` (status 2) when ``target`` is not
    one of them (with a hint when the file seems separated by another character)."""
    columns = [str(c) for c in frames[0].columns]
    if target not in columns:
        hint = "" if _is_parquet(files) else delimiter_hint(files[0], delimiter)
        raise CommandError(f"no column {target!r} in {path!r}; the columns are: "
                           f"{', '.join(columns)}{hint}", status=2)
    return columns


def _stripped(columns: list[str], file: str) -> list[str]:
    """The CSV header's names without the spaces around them, as ``wl.data.read_csv``
    reads them; a name that then repeats another is an error, as there."""
    names = [c.strip() for c in columns]
    seen: dict[str, int] = {}
    for j, name in enumerate(names):
        if name in seen:
            raise CommandError(f"the header of {file!r} names column {name!r} twice "
                               f"(columns {seen[name]} and {j})", status=2)
        seen[name] = j
    return names


def _frames(path: str, delimiter: str = ",") -> tuple[list[str], list[Any], list[str]]:
    """The files, one lazy DataFrame per file, and each block's file."""
    import dask.dataframe as dd

    files = _files(path)
    frames, owners = [], []
    parquet = _is_parquet(files)
    if parquet:
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise CommandError("reading Parquet needs pyarrow: pip install pyarrow",
                               status=2) from None
    header = None
    for file in files:
        try:
            if parquet:
                frame = dd.read_parquet(file)
            else:
                frame = dd.read_csv(file, dtype=object, keep_default_na=False, sep=delimiter,
                                    blocksize=BLOCK_SIZE, skip_blank_lines=True)
        except (OSError, ValueError, TypeError) as exc:
            raise CommandError(f"cannot read {file!r}: {exc}", status=2) from None
        except Exception as exc:  # pandas' and pyarrow's parser errors
            raise CommandError(f"cannot read {file!r}: {type(exc).__name__}: {exc}",
                               status=2) from None
        columns = [str(c) for c in frame.columns]
        if not parquet and columns != [c.strip() for c in columns]:
            # the names as read_csv reads them (" a , b" gives a and b): the model keeps
            # them, and `wonderland predict` looks the columns up by them
            columns = _stripped(columns, file)
            frame = frame.rename(columns=dict(zip(frame.columns, columns)))
        if header is None:
            header = columns
        elif columns != header:
            raise CommandError(f"{file!r} has the columns {', '.join(columns)}; "
                               f"{files[0]!r} has {', '.join(header)}", status=2)
        frames.append(frame)
        owners.extend([file] * frame.npartitions)
    return files, frames, owners


# ------------------------------------------------------------------ cluster


def _client(args: Any) -> tuple[Any, Any]:
    """``(client, cluster)``: a started LocalCluster (``cluster`` to close) or a client
    of ``--scheduler`` (``cluster`` None)."""
    import distributed
    from dask.utils import parse_bytes

    quiet = logging.CRITICAL  # worker logs (restarts, a failed task) are not the report
    if args.scheduler:
        try:
            client = distributed.Client(args.scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise CommandError(f"cannot reach the Dask scheduler at {args.scheduler!r} "
                               f"(within {CONNECT_TIMEOUT}): {exc}", status=2) from None
        return client, None
    limit: Any = "auto"
    if args.memory_limit is not None:
        try:
            limit = parse_bytes(args.memory_limit)
        except (ValueError, TypeError):
            raise CommandError(f"argument --memory-limit: must be a size such as 2GB or "
                               f"512MiB, got {args.memory_limit!r}", status=2) from None
    cluster = distributed.LocalCluster(n_workers=args.workers or 2, threads_per_worker=1,
                                       processes=True, memory_limit=limit,
                                       dashboard_address=":0", silence_logs=quiet)
    return distributed.Client(cluster), cluster


class Progress:
    """A one-line display on ``stream`` (stderr) of the tasks the cluster has finished
    and the time, refreshed while the fit runs; nothing when ``stream`` is not a
    terminal, so piped or redirected output stays clean.

    Examples
    --------
    >>> with Progress(client, sys.stderr):  # doctest: +SKIP
    ...     model.fit(X, y)
    """

    def __init__(self, client: Any, stream: TextIO, interval: float = 0.25) -> None:
        self.client, self.stream, self.interval = client, stream, interval
        self.active = bool(getattr(stream, "isatty", lambda: False)())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _done(self) -> int | None:
        try:
            return self.client.run_on_scheduler(_tasks_done)
        except Exception:  # noqa: BLE001 - a display must never stop the fit
            return None

    def _loop(self) -> None:
        start = time.perf_counter()
        while not self._stop.wait(self.interval):
            done = self._done()
            tasks = f"{done} tasks done, " if done is not None else ""
            self.stream.write(f"\rfitting on Dask: {tasks}{time.perf_counter() - start:.1f} s")
            self.stream.flush()

    def __enter__(self) -> Progress:
        if self.active:
            try:  # count finished tasks on the scheduler (needs wonderland there)
                self.client.register_plugin(_make_counter(), name=PROGRESS_NAME)
            except Exception:  # noqa: BLE001 - then show the time only
                pass
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self.stream.write("\r\033[K")  # erase the line: the report follows on stdout
            self.stream.flush()


def _make_counter() -> Any:
    """A scheduler plugin that counts the tasks finished (built here: distributed is
    optional)."""
    from distributed.diagnostics.plugin import SchedulerPlugin

    class Counter(SchedulerPlugin):
        name = PROGRESS_NAME

        def __init__(self) -> None:
            self.done = 0

        def transition(self, key: Any, start: str, finish: str, *args: Any,
                       **kwargs: Any) -> None:
            if finish == "memory":
                self.done += 1

    return Counter()


def _tasks_done(dask_scheduler: Any) -> int | None:
    plugin = dask_scheduler.plugins.get(PROGRESS_NAME)
    return getattr(plugin, "done", None)


# ------------------------------------------------------------------ metrics


def metrics_dask(model: Any, X: Any, y: Any, classifier: bool) -> dict[str, float]:
    """``fit.metrics`` as Dask reductions over the blocks (nothing gathered).

    Examples
    --------
    >>> metrics_dask(model, ddf[features], ddf["price"], classifier=False)  # doctest: +SKIP
    {'R2': 0.98, 'RMSE': 0.1}
    """
    import dask
    import dask.array as da

    # row chunks left unknown, as predict leaves them: the blocks pair up one to one
    yd = y.to_dask_array() if hasattr(y, "to_dask_array") else y
    if not classifier:
        fitted = model.predict(X)
        # deviations over the largest target (a lazy scalar), as linear.base's
        # regression_scores: squares of a target of 1e200 overflowed to inf / inf
        top = da.maximum(abs(yd).max(), np.finfo(float).tiny)
        scaled = ((yd - fitted) / top) ** 2
        residual, total, mse, top = dask.compute(scaled.sum(),
                                                 (((yd - yd.mean()) / top) ** 2).sum(),
                                                 scaled.mean(), top)
        return {"R2": round(1 - residual / total, 12) if total > 0 else float("nan"),
                "RMSE": round(float(top) * math.sqrt(mse), 12)}
    classes = np.asarray(model.classes_)
    accuracy = (model.predict(X) == yd).mean()
    if not hasattr(model, "predict_proba"):
        return {"accuracy": float(accuracy.compute())}
    proba = model.predict_proba(X)
    # the probability of each row's own class: Σ_j [y = class j] p_j, blockwise
    picked = sum((yd == label) * proba[:, j] for j, label in enumerate(classes))
    accuracy, log_loss = dask.compute(accuracy, -da.log(da.clip(picked, 1e-15, 1.0)).mean())
    return {"accuracy": float(accuracy), "log-loss": float(log_loss)}


# ------------------------------------------------------------------ the command


def check_options(args: Any) -> None:
    """The options that only make sense with ``--dask`` (and with each other).

    Examples
    --------
    >>> import argparse
    >>> check_options(argparse.Namespace(dask=False, workers=None, memory_limit=None,
    ...                                  scheduler=None))
    """
    given = [f"--{name.replace('_', '-')}" for name in ("workers", "memory_limit", "scheduler")
             if getattr(args, name, None) is not None]
    if given and not args.dask:
        raise CommandError(f"argument {given[0]}: only with --dask", status=2)
    if args.dask and args.scheduler and (args.workers is not None
                                         or args.memory_limit is not None):
        option = "--workers" if args.workers is not None else "--memory-limit"
        raise CommandError(f"argument {option}: not with --scheduler (they set up the "
                           f"local cluster that --scheduler replaces)", status=2)


def run_dask(args: Any, model: Any, classifier: bool) -> int:
    """``wonderland fit ... --dask``: read, start or reach the cluster, fit, report, save.

    Examples
    --------
    >>> from wonderland.cli.main import main
    >>> main(["fit", "parts/*.csv", "--target", "y", "--model", "ridge",
    ...       "--dask", "--workers", "2"])  # doctest: +SKIP
    0
    """
    try:
        import dask  # noqa: F401
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise CommandError(f"--dask needs dask[dataframe] and distributed ({exc}): pip "
                           f"install 'wonderland[dask]'", status=2) from None
    separator = getattr(args, "delimiter", ",")
    # a missing file, a bad glob or header, no target column: before any cluster starts
    files, frames, _ = _frames(args.data, separator)
    check_target(frames, files, args.data, args.target, separator)
    client, cluster = _client(args)
    try:
        with Progress(client, sys.stderr):
            started = time.perf_counter()
            data = read_dask(args.data, args.target, client, delimiter=separator)
            if classifier:
                check_labels_dask(data, args.model)
            frame = data.frame
            if args.test_size > 0:
                train, test = frame.random_split([1 - args.test_size, args.test_size],
                                                 random_state=args.seed)
                train, test = train.persist(), test.persist()
            else:
                train, test = frame, None
            y = train[data.target]
            if classifier and data.whole_target:
                y = y.astype(np.int64)  # class 1, not 1.0 (as in memory)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    model.fit(train[data.features], y)
                except ValueError as exc:  # one class, three classes for hinge, ...
                    raise CommandError(str(exc), status=2) from None
            elapsed = time.perf_counter() - started
            parts = [("train", train)] + ([("test", test)] if test is not None else [])
            scores = []
            for label, part in parts:
                target = part[data.target]
                if classifier and data.whole_target:
                    target = target.astype(np.int64)
                n = int(part.map_partitions(len).sum().compute())
                scores.append((label, n, metrics_dask(model, part[data.features], target,
                                                      classifier) if n else {}))
        workers = len(client.nthreads())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    # saved before the report: a reader that stops early (`| head`) ends the command at
    # its next print, and the fitted model must not be lost with it; a save that fails
    # still gets the report (the coefficients), then the error
    save_error = save_model(model, args.save)
    for warning in caught:  # on stderr: the report on stdout may be piped or redirected
        warn(warning.message, "wonderland fit", [str(c) for c in data.features])
    print(f"{type(model).__name__} on {args.data}: {plural(data.n_rows, 'row')}, "
          f"{plural(len(data.features), 'feature')}, target {args.target!r}")
    where = f"scheduler {args.scheduler}" if args.scheduler else "a local cluster"
    print(f"dask: {plural(data.n_blocks, 'block')} on {plural(workers, 'worker')} ({where}), "
          f"read and fitted in {elapsed:.2f} s")
    print_coefficients(model, data.features)
    for label, n, score in scores:
        shown = format_scores(score, n, label) or "no rows"
        print(f"{label} ({plural(n, 'row')}): {shown}")
    if save_error:
        raise CommandError(save_error, status=2)
    print(f"model written to {args.save}")
    return 0


__all__ = ["DaskData", "Progress", "check_options", "metrics_dask", "read_dask", "run_dask"]
