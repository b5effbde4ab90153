"""The ``blocks`` interface on Dask collections: the same sums, one task per row block.

A Dask array (chunked by rows) or a Dask DataFrame (``to_dask_array(lengths=True)``
for a fit; ``predict`` computes nothing and keeps unknown row chunks unknown)
is read one row block at a time, on whatever scheduler is active (the
``dask.distributed.Client`` if one exists, else the threaded scheduler); nothing here
starts a cluster and ``X`` is never gathered onto one process. Each block gives the
same closed-form sums the in-memory solvers use (``blocks.logistic_terms`` for the
log-loss; centred moments for least squares, merged pairwise so that centring loses
no digits), and the sums are added up in a binary tree of ``dask.delayed`` tasks.
Only the sums (``O(d²)``) come back to the client. Least squares reads ``X`` once; the
logistic fit reads it once for the classes, counts, means and Gram matrix (which give
Newton's start point without a pass) and then once per Newton step.

A NaN, an infinity or a non-numeric value raises a ``ValueError`` naming the block
(partition), the row and the column: the first in row order, whatever order the
scheduler ran the blocks in (``checked``). Complex, date and duration dtypes are refused
from the metadata, before anything is computed.

This module imports Dask; the estimators import it only when given a Dask collection.

Examples
--------
>>> import dask.array as da  # doctest: +SKIP
>>> from wonderland.linear import Ridge  # doctest: +SKIP
>>> X = da.random.random((100_000, 5), chunks=(10_000, 5))  # doctest: +SKIP
>>> y = X @ da.arange(5.0)  # doctest: +SKIP
>>> Ridge(alpha=1.0).fit(X, y).coef_.round(2)  # doctest: +SKIP
array([0.  , 1.  , 2.  , 3.  , 4.  ])
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import dask
import dask.array as da
import numpy as np
from scipy.special import log_softmax
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.validation import check_is_fitted

from .base import first_too_large, refuse_non_real, too_large
from .blocks import (
    CANCELLATION,
    GramSummary,
    LogisticTerms,
    logistic_loss,
    logistic_terms,
    softplus_and_sigmoid,
)

__all__ = ["DaskRows", "dask_rows", "gram_summary_dask", "LogisticBlocks", "map_rows",
           "BlockError", "checked"]


# ------------------------------------------------------------------ input


@dataclass
class DaskRows:
    """``X`` (and ``y``) as Dask arrays with one column chunk and known row chunks (for
    ``predict``, possibly unknown: then ``offsets`` is ``None``), the column names (for
    messages) and the row offset of each block."""

    X: da.Array
    y: da.Array | None
    names: list[str]
    offsets: list[int] | None

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    def blocks(self) -> list[tuple[Any, Any, int, int]]:
        """``(X block, y block or None, block index, first row)`` as delayed objects."""
        xs = self.X.to_delayed()[:, 0].tolist()
        ys = self.y.to_delayed().tolist() if self.y is not None else [None] * len(xs)
        return [(xb, yb, i, self.offsets[i]) for i, (xb, yb) in enumerate(zip(xs, ys))]


def _is_frame(obj: Any) -> bool:
    """A Dask DataFrame (a Dask Series has ``columns`` too, ``[None]``: not one)."""
    return hasattr(obj, "to_dask_array") and getattr(obj, "ndim", None) == 2


def _to_array(obj: Any, lengths: bool = True) -> da.Array:
    """A Dask array of a Dask collection; ``lengths=True``: with known row chunks (a pass
    over the data when they are not known), else as they are (no computing)."""
    if hasattr(obj, "to_dask_array"):  # DataFrame or Series
        with warnings.catch_warnings():  # string labels become an object array: fine
            warnings.filterwarnings("ignore", message=".*Converting string to object dtype")
            return obj.to_dask_array(lengths=True if lengths else None)
    arr = obj if isinstance(obj, da.Array) else da.asarray(obj)
    if lengths and any(np.isnan(c) for c in arr.chunks[0]):
        # on a copy: compute_chunk_sizes writes the sizes into the caller's array
        arr = arr.copy().compute_chunk_sizes()
    return arr


def dask_rows(estimator: Any, X: Any, y: Any = None, *, reset: bool) -> DaskRows:
    """Check a Dask ``X`` (and ``y``) as ``validate_data`` would, without computing ``X``.

    ``reset=True`` (``fit``) sets ``n_features_in_`` and, for a DataFrame with string
    column names, ``feature_names_in_``; ``reset=False`` (``predict``) checks them and
    leaves unknown row chunks unknown (``offsets`` is then ``None``), so nothing is
    computed. ``y`` (Dask, NumPy or pandas) is rechunked to ``X``'s row blocks; a ``y``
    of shape ``(n, 1)`` is ravelled with scikit-learn's ``DataConversionWarning``.
    """
    name = type(estimator).__name__
    names = [str(c) for c in X.columns] if _is_frame(X) else None
    if hasattr(X, "to_dask_array") and not _is_frame(X):
        raise ValueError(f"{name}: expected a 2-D X (a Dask DataFrame or array), got a Series")
    refuse_non_real(X, name)  # (from the metadata: before the lengths are computed)
    if y is not None and dask.is_dask_collection(y):
        refuse_non_real(y, name, "y")
    arr = _to_array(X, lengths=reset)
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D X, got an array of shape {arr.shape}")
    arr = arr.rechunk({1: -1})
    d = int(arr.shape[1])
    str_names = names is not None and all(isinstance(c, str) for c in X.columns)
    if reset:
        estimator.n_features_in_ = d
        if str_names:
            estimator.feature_names_in_ = np.asarray(names, dtype=object)
        elif hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
    else:
        check_is_fitted(estimator)
        if d != estimator.n_features_in_:
            raise ValueError(f"X has {d} features, but {name} is expecting "
                             f"{estimator.n_features_in_} features as input.")
        fitted = getattr(estimator, "feature_names_in_", None)
        if fitted is not None and str_names and list(fitted) != names:
            raise ValueError(f"{name}: the feature names should match those that were "
                             f"passed during fit: {list(fitted)}, got {names}")
    if names is None:
        fitted = getattr(estimator, "feature_names_in_", None)
        names = [str(c) for c in fitted] if fitted is not None and len(fitted) == d \
            else [f"x{j}" for j in range(d)]
    if arr.shape[0] < 1:
        raise ValueError(f"{name}: found array with 0 sample(s) (shape={arr.shape}) while "
                         f"a minimum of 1 is required.")
    yarr = None
    if y is not None:
        if dask.is_dask_collection(y):
            yarr = _to_array(y)
        else:
            values = np.asarray(y)
            same = values.ndim >= 1 and values.shape[0] == arr.shape[0]
            yarr = da.from_array(values, chunks=((arr.chunks[0],) + values.shape[1:]) if same
                                 else -1)
        if yarr.ndim == 2 and yarr.shape[1] == 1:
            warnings.warn("A column-vector y was passed when a 1d array was expected. Please "
                          "change the shape of y to (n_samples, ), for example using "
                          "ravel().", DataConversionWarning, stacklevel=3)
            yarr = yarr[:, 0]
        if yarr.ndim != 1:
            several = estimator.__sklearn_tags__().target_tags.multi_output
            raise ValueError(f"{name}: y should be a 1-D array, got shape {yarr.shape}" + (
                "; several targets are fitted from NumPy arrays, not Dask ones" if several
                else ""))
        refuse_non_real(y, name, "y")
        if yarr.shape[0] != arr.shape[0]:
            raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                             f"[{arr.shape[0]}, {yarr.shape[0]}]")
        yarr = yarr.rechunk((arr.chunks[0],))
    offsets = None if any(np.isnan(c) for c in arr.chunks[0]) else \
        np.concatenate([[0], np.cumsum(arr.chunks[0])[:-1]]).astype(int).tolist()
    return DaskRows(arr, yarr, names, offsets)


def _row(first: int | None, i: int) -> str:
    """Row ``i`` of a block whose first row is ``first`` (``None``: not known)."""
    return f"row {i} of the block" if first is None else f"row {first + i}"


def _float_block(block: Any, index: int, first: int | None, names: list[str],
                 check: bool = True) -> np.ndarray:
    """One block as float64, with an error naming the block, row and column of a
    non-numeric value and (``check=True``) of a NaN or an infinity."""
    block = np.asarray(block)
    try:
        Xb = np.asarray(block, dtype=np.float64)
    except OverflowError:  # an integer beyond float64 (10**400 in an object column)
        where = first_too_large(block.reshape(len(block), -1))
        if where is None:
            raise
        i, j, what = where
        raise ValueError(f"X has {what}, too large for float64, in block (partition) "
                         f"{index}, column {names[j]!r} ({_row(first, i)})") from None
    except (TypeError, ValueError):
        flat, value = _first_unreadable(block.ravel())  # in row order, as the NaN check
        i, j = divmod(flat, block.shape[1])
        raise ValueError(f"X has a non-numeric value {value!r} in block (partition) "
                         f"{index}, column {names[j]!r} ({_row(first, i)})") from None
    if check:
        _check_finite(Xb, index, first, names)
    return Xb


def _check_finite(Xb: np.ndarray, index: int, first: int | None, names: list[str]) -> None:
    """Raise naming the first NaN or infinity of a block. A full scan (and a boolean copy
    of the block): the passes call it only when a sum they need anyway is not finite,
    which a NaN or an infinity always makes it."""
    bad = ~np.isfinite(Xb)
    if bad.any():
        i, j = (int(v[0]) for v in np.nonzero(bad))
        what = "NaN" if np.isnan(Xb[i, j]) else "infinity"
        raise ValueError(f"Input X contains {what}: block (partition) {index}, column "
                         f"{names[j]!r} ({_row(first, i)})")


def _float_y(yb: Any, index: int, first: int) -> np.ndarray:
    """One block of a regression target as float64: a value that is not a number, a NaN
    or an infinity is an error naming the block and the row."""
    raw = np.asarray(yb)
    try:
        y = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        i, value = _first_unreadable(raw.ravel())
        raise ValueError(f"Input y has a non-numeric value {value!r} in block (partition) "
                         f"{index} (row {first + i}); a regression target must be numbers"
                         ) from None
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        raise ValueError(f"Input y contains NaN or infinity: block (partition) {index} "
                         f"(row {first + int(bad[0])})")
    return y


def _first_unreadable(values: np.ndarray) -> tuple[int, Any]:
    """The position and value of the first entry ``float()`` cannot read (an error path
    only: the blocks are converted in one call when every entry reads)."""
    for i, value in enumerate(values):
        try:
            float(value)
        except (TypeError, ValueError):
            return i, value.item() if isinstance(value, np.generic) else value
    return 0, values[0]


def _is_missing(value: Any) -> bool:
    """A missing label among objects: None, a NaN or infinite float, pandas' NA."""
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return not np.isfinite(value)
    try:
        return bool(value != value)
    except TypeError:  # pandas' NA is neither equal nor unequal to itself
        return True


def _labels(yb: Any, index: int, first: int) -> np.ndarray:
    """One block of class labels, as an array: a NaN, an infinity or (object labels) a
    missing value is an error naming the block and the row, as ``_float_y``'s
    (scikit-learn's checks of the merged labels could not name the row)."""
    y = np.asarray(yb)
    if y.dtype.kind == "f":
        _float_y(y, index, first)  # (its check of NaN and infinity, its message)
    elif y.dtype.kind == "O":
        for i, value in enumerate(y.ravel()):
            if _is_missing(value):
                raise ValueError(f"Input y contains a missing value ({value!r}): block "
                                 f"(partition) {index} (row {first + i})")
        plain = np.asarray(y.tolist())  # pandas' nullable and category labels come as
        if plain.dtype.kind in "biuf":  # objects: their numbers, as the fit in memory reads
            y = plain
    return y


def _block_labels(yb: Any, index: int, first: int) -> np.ndarray:
    """The distinct labels of one block, checked (``_labels``)."""
    return np.unique(_labels(yb, index, first))


@dataclass
class BlockError:
    """A block's ``ValueError`` (a NaN, a non-numeric value), returned as a value rather
    than raised: the pass then reports the bad block that comes first in row order,
    whatever order the scheduler ran the blocks in (a raised error would be whichever
    failed first, which varies from run to run)."""

    index: int
    error: ValueError


def checked(fn: Callable[..., Any], index: int, *args: Any) -> Any:
    """``fn(*args)``, or the ``BlockError`` of block ``index`` when it raises a
    ``ValueError``; a ``BlockError`` among ``args`` (a failed block it depends on) is
    passed on. Module level, so that a distributed scheduler can ship it."""
    for arg in args:
        if isinstance(arg, BlockError):
            return arg
    try:
        return fn(*args)
    except ValueError as exc:
        return BlockError(index, exc)


def _combine_checked(combine: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    """``combine(a, b)``, or the failure of the earlier block when either part failed."""
    failures = [part for part in (a, b) if isinstance(part, BlockError)]
    if failures:
        return min(failures, key=lambda failure: failure.index)
    return combine(a, b)


def _tree_sum(parts: list[Any], combine: Callable[[Any, Any], Any]) -> Any:
    """Add delayed parts pairwise (a binary tree of ``combine`` tasks) and compute; a
    ``BlockError`` among the parts (``checked``) is raised, the first block's."""
    step = dask.delayed(partial(_combine_checked, combine), pure=True)
    while len(parts) > 1:
        parts = [step(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i]
                 for i in range(0, len(parts), 2)]
    result = dask.compute(parts[0])[0]
    if isinstance(result, BlockError):
        raise result.error
    return result


# ------------------------------------------------------------------ least squares


@dataclass
class _Moments:
    """One block's (or several merged blocks') row count, means and centred sums."""

    n: int
    x_mean: np.ndarray
    y_mean: float
    gram: np.ndarray
    xty: np.ndarray
    yty: float
    raw_diag: np.ndarray


def _block_moments(Xb: Any, yb: Any, index: int, first: int, names: list[str],
                   fit_intercept: bool) -> _Moments:
    """One block's moments in two reads of it: ``XᵀX`` (one BLAS call, numpy's ``syrk``
    for ``X.T @ X``) and ``[ỹ, 1]ᵀX`` (``Xᵀỹ`` and the column sums). The block's centred
    Gram matrix is ``XᵀX - m x̄x̄ᵀ`` unless that loses digits (a centred diagonal entry
    below ``CANCELLATION`` of the raw one: the means dwarf the spread), and only then is
    the block centred by subtraction (a copy of it). The diagonal of ``XᵀX`` doubles as
    the check for NaN and infinity: a square of either is not finite."""
    X = _float_block(Xb, index, first, names, check=False)
    y = _float_y(yb, index, first)
    m, d = X.shape
    xtx = X.T @ X
    raw_diag = np.diag(xtx).copy()
    if not np.all(np.isfinite(raw_diag)):
        # names the bad value; finite values whose squares overflow pass, and
        # gram_summary_dask raises its own error for them
        _check_finite(X, index, first, names)
    if not (m and fit_intercept):
        return _Moments(m, np.zeros(d), 0.0, xtx, X.T @ y, float(y @ y), raw_diag)
    y_mean = float(y.mean())
    yc = y - y_mean
    rhs = np.empty((2, m))  # one read of X for Xᵀỹ and the column sums
    rhs[0] = yc
    rhs[1] = 1.0
    xtyc, x_sum = rhs @ X
    x_mean = x_sum / m
    gram = xtx - m * np.outer(x_mean, x_mean)
    if np.any(np.diag(gram) < CANCELLATION * raw_diag):
        Xc = X - x_mean
        gram, xty = Xc.T @ Xc, Xc.T @ yc
    else:
        xty = xtyc - x_mean * float(yc.sum())  # (X - x̄)ᵀỹ; Σỹ is 0 up to rounding
    return _Moments(m, x_mean, y_mean, gram, xty, float(yc @ yc), raw_diag)


def _merge_moments(a: _Moments, b: _Moments) -> _Moments:
    """Chan's pairwise update: centred sums of the union, exactly (no cancellation)."""
    if a.n == 0:
        return b
    if b.n == 0:
        return a
    n = a.n + b.n
    dx = b.x_mean - a.x_mean
    dy = b.y_mean - a.y_mean
    f = a.n * b.n / n
    return _Moments(n, a.x_mean + dx * (b.n / n), a.y_mean + dy * (b.n / n),
                    a.gram + b.gram + f * np.outer(dx, dx), a.xty + b.xty + f * dy * dx,
                    a.yty + b.yty + f * dy * dy, a.raw_diag + b.raw_diag)


def gram_summary_dask(rows: DaskRows, fit_intercept: bool) -> GramSummary:
    """``blocks.gram_summary`` over Dask row blocks: one pass, a tree of merges."""
    names = rows.names
    task = dask.delayed(checked, pure=True)
    parts = [task(_block_moments, i, xb, yb, i, first, names, fit_intercept)
             for xb, yb, i, first in rows.blocks()]
    mom = _tree_sum(parts, _merge_moments)
    if not np.all(np.isfinite(mom.raw_diag)):
        # the column, from the sums; its row would cost another pass over X
        raise too_large(mom.raw_diag, len(names), names)
    gram = 0.5 * (mom.gram + mom.gram.T)
    return GramSummary(mom.n, mom.x_mean, mom.y_mean, gram, mom.xty, mom.yty, mom.raw_diag)


# ------------------------------------------------------------------ logistic


def _one_hot(yb: Any, classes: np.ndarray) -> np.ndarray:
    y = np.asarray(yb)
    if classes.size == 2:
        return (y == classes[1]).astype(np.float64)[:, None]
    return np.eye(classes.size)[np.searchsorted(classes, y)]


@dataclass
class _Counts:
    """The first pass of the logistic fit over one block (or merged blocks): the rows,
    the column means and centred Gram matrix (as ``_Moments``), and the distinct labels
    with their counts and the column sums of their rows."""

    n: int
    x_mean: np.ndarray
    gram: np.ndarray
    labels: np.ndarray
    counts: np.ndarray
    class_sums: np.ndarray


def _block_counts(Xb: Any, yb: Any, index: int, first: int, names: list[str]) -> _Counts:
    """``_Counts`` of one block in two reads of it: ``XᵀX`` (``syrk``) and ``EᵀX`` with
    ``E`` the one-hot labels (the per-label sums, whose total is the column sum). The
    sums double as the check for NaN and infinity, so the later passes convert the
    blocks without checking them again."""
    X = _float_block(Xb, index, first, names, check=False)
    m, d = X.shape
    labels, inverse = np.unique(_labels(yb, index, first), return_inverse=True)
    onehot = np.zeros((labels.size, m))
    onehot[inverse.ravel(), np.arange(m)] = 1.0
    with np.errstate(invalid="ignore", over="ignore"):  # a NaN or inf is named below
        class_sums = onehot @ X
        xtx = X.T @ X
    raw_diag = np.diag(xtx)
    if not (np.all(np.isfinite(raw_diag)) and np.all(np.isfinite(class_sums))):
        _check_finite(X, index, first, names)
    x_mean = class_sums.sum(axis=0) / max(m, 1)
    gram = xtx - m * np.outer(x_mean, x_mean)
    if m and np.any(np.diag(gram) < CANCELLATION * raw_diag):
        Xc = X - x_mean  # the means dwarf the spread: centre by subtraction (a copy)
        gram = Xc.T @ Xc
    return _Counts(m, x_mean, gram, labels, onehot.sum(axis=1), class_sums)


def _add_counts(a: _Counts, b: _Counts) -> _Counts:
    """Labels merged (sorted, as ``np.unique``), their counts and sums aligned; the means
    and centred Gram matrices by Chan's pairwise update, as ``_merge_moments``."""
    if a.n == 0:
        return b
    if b.n == 0:
        return a
    labels, inverse = np.unique(np.concatenate([a.labels, b.labels]), return_inverse=True)
    inverse = inverse.ravel()
    counts = np.zeros(labels.size)
    np.add.at(counts, inverse, np.concatenate([a.counts, b.counts]))
    class_sums = np.zeros((labels.size, a.class_sums.shape[1]))
    np.add.at(class_sums, inverse, np.concatenate([a.class_sums, b.class_sums]))
    n = a.n + b.n
    dx = b.x_mean - a.x_mean
    return _Counts(n, a.x_mean + dx * (b.n / n),
                   a.gram + b.gram + (a.n * b.n / n) * np.outer(dx, dx), labels, counts,
                   class_sums)


def _terms_at_zero(stats: _Counts, classes: np.ndarray, c: np.ndarray, mean: np.ndarray,
                   hessian: bool, separation: bool) -> LogisticTerms:
    """``logistic_terms`` at ``W = 0`` from the first pass's sums, without a pass: every
    row has the same scores ``c``, so the probabilities ``p`` are one vector and the
    sums are closed forms in the counts, the per-class column sums and the Gram matrix
    (the Hessian is ``G̃ ⊗ (diag(p) - ppᵀ)``, ``G̃ = Σ x̃x̃ᵀ`` with ``x̃ = [x - mean, 1]``).
    Newton starts there, so this saves a pass over ``X``."""
    n, d = stats.n, stats.x_mean.size
    K = 1 if classes.size == 2 else classes.size
    counts, class_sums = stats.counts, stats.class_sums
    total = stats.x_mean * n
    if K == 1:
        c0 = float(c[0])
        softplus, p = softplus_and_sigmoid(np.array([c0]))
        p = float(p[0])
        n1 = float(counts[1])
        loss = n * float(softplus[0]) - n1 * c0
        g_sum = np.array([n * p - n1])
        gX = (p * total - class_sums[1])[:, None]
        curvature = np.array([[p * (1.0 - p)]])
        separated = separation and ((c0 > 0 and n1 == n) or (c0 < 0 and n1 == 0))
    else:
        logp = log_softmax(c)
        P = np.exp(logp)
        loss = -float(counts @ logp)
        g_sum = n * P - counts
        gX = np.outer(total, P) - class_sums.T
        curvature = np.diag(P) - np.outer(P, P)
        top = np.flatnonzero(c >= c.max())
        separated = separation and top.size == 1 and counts[top[0]] == n
    grad = np.empty((d + 1, K))
    grad[:d] = gX - np.outer(mean, g_sum)
    grad[d] = g_sum
    H = None
    if hessian:
        shift = stats.x_mean - mean
        G = np.empty((d + 1, d + 1))
        G[:d, :d] = stats.gram + n * np.outer(shift, shift)
        G[:d, d] = G[d, :d] = n * shift
        G[d, d] = n
        H = np.kron(G, curvature)
    return LogisticTerms(loss, grad, H, bool(separated))


def _block_terms(Xb: Any, yb: Any, index: int, first: int, names: list[str],
                 classes: np.ndarray, W: np.ndarray, c: np.ndarray, mean: np.ndarray,
                 hessian: bool, separation: bool) -> LogisticTerms:
    X = _float_block(Xb, index, first, names, check=False)  # checked by the first pass
    return logistic_terms(X, _one_hot(yb, classes), W, c, mean, hessian, separation)


def _add_terms(a: LogisticTerms, b: LogisticTerms) -> LogisticTerms:
    hess = None if a.hess is None else a.hess + b.hess
    return LogisticTerms(a.loss + b.loss, a.grad + b.grad, hess, a.separated and b.separated)


def _block_loss(Xb: Any, yb: Any, index: int, first: int, names: list[str],
                classes: np.ndarray, W: np.ndarray, c: np.ndarray, mean: np.ndarray) -> float:
    X = _float_block(Xb, index, first, names, check=False)  # checked by the first pass
    return logistic_loss(X, _one_hot(yb, classes), W, c, mean)


class LogisticBlocks:
    """The log-loss sums of ``blocks`` over Dask row blocks, for the Newton solver.

    Construction makes one pass for the classes (the distinct labels of each block,
    merged), ``n``, the column sums (the centring) and the class counts, which also
    checks every block for NaN, infinity and non-numeric values.
    """

    def __init__(self, rows: DaskRows, fit_intercept: bool) -> None:
        self.rows = rows
        task = dask.delayed(checked, pure=True)
        # the classes come with the counts rather than from a dask.array.unique of y
        # first: y is often computed from the same blocks as X (one pass saved)
        self._first = _tree_sum(
            [task(_block_counts, i, xb, yb, i, first, rows.names)
             for xb, yb, i, first in rows.blocks()], _add_counts)
        self.classes = self._first.labels
        self.n = int(self._first.n)
        self.mean = self._first.x_mean if fit_intercept else np.zeros(rows.n_features)
        self.class_freq = self._first.counts / self.n

    def terms(self, W: np.ndarray, c: np.ndarray, mean: np.ndarray, hessian: bool,
              separation: bool) -> LogisticTerms:
        """``blocks.logistic_terms`` summed over the blocks (one pass over ``X``), or, at
        ``W = 0`` (Newton's start), from the first pass's sums (no pass)."""
        if not np.any(W):
            return _terms_at_zero(self._first, self.classes, c, mean, hessian, separation)
        task = dask.delayed(_block_terms, pure=True)
        return _tree_sum([task(xb, yb, i, first, self.rows.names, self.classes, W, c, mean,
                               hessian, separation)
                          for xb, yb, i, first in self.rows.blocks()], _add_terms)

    def loss(self, W: np.ndarray, c: np.ndarray, mean: np.ndarray) -> float:
        """``blocks.logistic_loss`` summed over the blocks (one pass over ``X``)."""
        task = dask.delayed(_block_loss, pure=True)
        return float(_tree_sum([task(xb, yb, i, first, self.rows.names, self.classes, W, c,
                                     mean) for xb, yb, i, first in self.rows.blocks()],
                               lambda a, b: a + b))


# ------------------------------------------------------------------ predict


def map_rows(estimator: Any, X: Any, fn: Callable[[np.ndarray], np.ndarray],
             n_columns: int | None, dtype: Any) -> da.Array:
    """``fn`` (float64 block -> per-row output) on each row block of a Dask ``X``, lazily:
    a Dask array of shape ``(n,)`` (``n_columns=None``) or ``(n, n_columns)``. Nothing is
    computed here and ``X`` is left as it is: unknown row chunks stay unknown in the
    result (an error then names the row within its block)."""
    rows = dask_rows(estimator, X, reset=False)
    names, offsets = rows.names, rows.offsets

    def block(Xb: np.ndarray, block_info: dict | None = None) -> np.ndarray:
        index = block_info[None]["chunk-location"][0] if block_info else 0
        first = offsets[index] if offsets is not None and index < len(offsets) else None
        return fn(_float_block(Xb, index, first, names))

    dtype = np.dtype(dtype)
    if n_columns is None:
        return rows.X.map_blocks(block, drop_axis=1, dtype=dtype,
                                 meta=np.empty((0,), dtype=dtype))
    return rows.X.map_blocks(block, chunks=(rows.X.chunks[0], (n_columns,)), dtype=dtype,
                             meta=np.empty((0, 0), dtype=dtype))
