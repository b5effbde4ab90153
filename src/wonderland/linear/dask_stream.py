"""``LinearModel.fit`` on Dask arrays and DataFrames: descent that streams the row blocks.

The statistics the in-memory fit takes from ``X`` (column means and spreads, the largest
curvature for the default step size, the target's mean, median and spread) come from one
pass of per-block sums merged in a tree (``dask_blocks``), which also checks every block
for NaN, infinity and non-numeric values (the error names the partition and column)
before any step is taken. Then:

* **minibatches** (``batch_size`` set): each epoch draws an order of the row blocks from
  ``random_state``, reads the blocks one at a time onto the client (the next one is
  computed in the background meanwhile), shuffles each block's rows and cuts them into
  ``batch_size`` minibatches, one optimizer step each. Every row is visited exactly once
  per epoch; only one or two blocks are ever held by the client. The objective over all
  rows after the epoch is one more pass of per-block sums on the workers.
* **full batch** (``batch_size=None``): each step is one exact gradient, the per-block
  gradients (wonderland's autodiff, on the workers) weighted by the block's share of the
  rows and summed in a tree. The same pass gives the objective, so an epoch is one pass
  and the steps are the in-memory fit's (up to rounding in the order of the sums).

The optimizer (``gd``, ``momentum``, ``adam``) runs on the client on ``d + 1`` numbers;
``X`` is never gathered onto one process. The median of the target (the intercept's
starting value of ``absolute`` and ``huber``) and its median absolute deviation (the
default step of the regression losses with ``absolute`` or ``adam``) are exact, as
``np.median`` in memory, from two passes each over the target's blocks
(``exact_median``): order statistics sampled from each block bracket the middle ranks,
and only the few values inside the bracket come to the client.

Examples
--------
>>> import dask.array as da  # doctest: +SKIP
>>> from wonderland.linear import LinearModel  # doctest: +SKIP
>>> X = da.random.random((100_000, 3), chunks=(10_000, 3))  # doctest: +SKIP
>>> y = X @ da.arange(3.0) + 1.0  # doctest: +SKIP
>>> model = LinearModel(loss="huber", batch_size=256, random_state=0, max_iter=5)  # doctest: +SKIP
>>> model.fit(X, y).coef_.round(1)  # doctest: +SKIP
array([0., 1., 2.])
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dask
import dask.array as da
import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from ..creation import tensor
from ..tensor import no_grad
from .base import too_large
from .blocks import scaled_top
from .dask_blocks import (
    BlockError,
    DaskRows,
    _block_labels,
    _block_moments,
    _float_block,
    _float_y,
    _merge_moments,
    _tree_sum,
    checked,
    dask_rows,
)

__all__ = ["fit_linear_model", "StreamStats", "exact_median"]

# ------------------------------------------------------------------ per block (workers)


def _load_block(Xb: Any, yb: Any, index: int, first: int, names: list[str],
                classes: np.ndarray | None, loss: str) -> tuple[np.ndarray, np.ndarray]:
    """One row block as float64 ``X`` and the training target, checked: a NaN, an
    infinity or a non-numeric value names the partition, the row and the column."""
    X = _float_block(Xb, index, first, names)
    if classes is None:
        return X, _float_y(yb, index, first)
    positive = np.asarray(yb) == classes[1]
    target = np.where(positive, 1.0, -1.0) if loss == "hinge" else positive.astype(np.float64)
    return X, target


def _moments(block: tuple[np.ndarray, np.ndarray] | BlockError, index: int,
             names: list[str], fit_intercept: bool) -> Any:
    if isinstance(block, BlockError):  # the block failed its checks: pass it on
        return block
    X, y = block
    return _block_moments(X, y, index, 0, names, fit_intercept)


def _evaluate(block: tuple[np.ndarray, np.ndarray], estimator: Any, mean: np.ndarray,
              scale: np.ndarray, theta: np.ndarray, weight: float,
              gradient: bool) -> tuple[float, np.ndarray | None]:
    """``weight`` times the objective on one block (and its gradient): the weights are
    the blocks' shares of the rows, so the sum over blocks is the objective over all
    rows (the penalty too, since the shares add up to one)."""
    X, y = block
    objective = estimator._objective(np.empty((0, X.shape[1])), y, mean, scale)
    with np.errstate(over="ignore", invalid="ignore"):
        if not gradient:
            with no_grad():
                return weight * float(objective(tensor(theta), X, y).item()), None
        t = tensor(theta, requires_grad=True)
        value = objective(t, X, y)
        value.backward()
        return weight * float(value.item()), weight * t.grad.numpy()


def _add_pairs(a: tuple, b: tuple) -> tuple:
    grad = None if a[1] is None else a[1] + b[1]
    return a[0] + b[0], grad


# ------------------------------------------------------------------ the data


class StreamStats:
    """What the descent needs from one pass over the blocks.

    Attributes
    ----------
    n, d : int
        Rows and features.
    mean, scale : ndarray of shape (d,)
        The standardization (as ``blocks.column_means`` and ``blocks.column_scales``).
    gram : ndarray of shape (d, d)
        ``Σ (x - mean)(x - mean)ᵀ`` (raw when there is no intercept).
    target_mean : float
    """

    def __init__(self, n: int, d: int, mean: np.ndarray, scale: np.ndarray,
                 gram: np.ndarray, target_mean: float) -> None:
        self.n, self.d = n, d
        self.mean, self.scale, self.gram = mean, scale, gram
        self.target_mean = target_mean


class _Blocks:
    """The checked, float64 row blocks of a Dask ``X`` and target as delayed objects."""

    def __init__(self, rows: DaskRows, classes: np.ndarray | None, loss: str) -> None:
        load = dask.delayed(checked, pure=True)
        self.sizes = [int(s) for s in rows.X.chunks[0]]
        # empty partitions (a filtered DataFrame) carry no rows: leave them out. A block
        # that fails its checks loads as a BlockError, raised by the first pass (_stats)
        self.loads = [(i, load(_load_block, i, xb, yb, i, first, rows.names, classes, loss))
                      for (xb, yb, i, first), m in zip(rows.blocks(), self.sizes) if m]
        self.names = rows.names
        self.n = int(sum(self.sizes))

    def targets(self) -> list[Any]:
        """The training target's blocks, as delayed arrays."""
        get = dask.delayed(operator.getitem, pure=True)
        return [get(load, 1) for _, load in self.loads]

    def target(self) -> da.Array:
        """The training target as a Dask array."""
        return da.concatenate([da.from_delayed(part, shape=(self.sizes[i],), dtype=np.float64)
                               for (i, _), part in zip(self.loads, self.targets())])

    def stream(self, order: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The blocks in ``order``, one at a time, the next one computed in the
        background (on the active scheduler) while the caller works on this one."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(dask.compute, self.loads[order[0]][1]) if len(order) else None
            for k in range(len(order)):
                (block,) = pending.result()
                if k + 1 < len(order):
                    pending = pool.submit(dask.compute, self.loads[order[k + 1]][1])
                yield block

    def evaluate(self, estimator: Any, stats: StreamStats, theta: np.ndarray,
                 gradient: bool) -> tuple[float, np.ndarray | None]:
        """The objective over all rows at ``theta`` (and its gradient): one pass."""
        task = dask.delayed(_evaluate, pure=True)
        spec = clone(estimator)  # the parameters only, whatever the estimator holds
        parts = [task(load, spec, stats.mean, stats.scale, theta, self.sizes[i] / self.n,
                      gradient) for i, load in self.loads]
        return _tree_sum(parts, _add_pairs)


def _classes(estimator: Any, rows: DaskRows) -> np.ndarray:
    """The two labels of a Dask ``y``, with the in-memory fit's errors (a NaN or a missing
    label names its block and row)."""
    task = dask.delayed(checked, pure=True)
    parts = [task(_block_labels, i, yb, i, first)
             for i, (yb, first) in enumerate(zip(rows.y.to_delayed().tolist(), rows.offsets))]
    classes = np.asarray(_tree_sum(parts, np.union1d))
    check_classification_targets(classes)
    y_type = type_of_target(classes, input_name="y", raise_unknown=True)
    if y_type != "binary":
        raise ValueError("Only binary classification is supported. The type of the "
                         f"target is {y_type}.")
    if classes.size < 2:
        raise ValueError(f"{type(estimator).__name__} needs samples of 2 classes, but the "
                         f"data contain only one class: {classes.tolist()[0]!r}")
    return classes


def _stats(blocks: _Blocks, d: int, fit_intercept: bool) -> StreamStats:
    task = dask.delayed(_moments, pure=True)
    mom = _tree_sum([task(load, i, blocks.names, fit_intercept) for i, load in blocks.loads],
                    _merge_moments)
    if not np.all(np.isfinite(mom.raw_diag)):
        # the column, from the sums; its row would cost another pass over X
        raise too_large(mom.raw_diag, d, blocks.names)
    mean = mom.x_mean if fit_intercept else np.zeros(d)
    gram = 0.5 * (mom.gram + mom.gram.T)
    # as blocks.column_scales: the spread around ``mean``, 1 for a constant column
    scale = np.sqrt(np.clip(np.diag(gram), 0.0, None) / mom.n)
    scale[~(scale > 1e-12 * np.abs(mean))] = 1.0
    scale[scale == 0] = 1.0
    return StreamStats(mom.n, d, mean, scale, gram, mom.y_mean)


# ------------------------------------------------------------------ training


# the order statistics each block sends for the bracket of the median: the client holds
# about ``SAMPLE`` values a block, and the values gathered from inside the bracket number
# about ``2 n / SAMPLE`` (``n`` the rows)
SAMPLE = 1024


def _centred(values: Any, center: float | None) -> np.ndarray:
    """The values whose median is sought: ``values``, or ``|values - center|`` (the
    in-memory fit's ``np.abs(target - np.median(target))``, the same operations)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    return values if center is None else np.abs(values - center)


def _block_sample(values: Any, center: float | None,
                  size: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Evenly spaced order statistics of one block (its smallest and largest value
    among them), their ranks in the block, and the block's size."""
    v = np.sort(_centred(values, center))
    # (at least two, so that the largest value is among them)
    ranks = np.unique(np.linspace(0, v.size - 1, min(max(size, 2), v.size)).round()
                      .astype(np.int64))
    return v[ranks], ranks, v.size


def _block_bracket(values: Any, center: float | None, low: float,
                   high: float) -> tuple[int, int, int, np.ndarray]:
    """One block's values below ``low``, equal to ``low``, equal to ``high`` (when above
    ``low``), and its values strictly between them."""
    v = _centred(values, center)
    inside = v[(v > low) & (v < high)]
    at_high = int(np.count_nonzero(v == high)) if high > low else 0
    return int(np.count_nonzero(v < low)), int(np.count_nonzero(v == low)), at_high, inside


def _bracket(samples: list[tuple[np.ndarray, np.ndarray, int]], k_low: int,
             k_high: int) -> tuple[float, float]:
    """Values ``low <= high`` with the ``k_low``-th smallest value (0-based) at least
    ``low`` and the ``k_high``-th at most ``high``, for sure: from each block's sampled
    order statistics, bounds on how many values lie below any threshold."""
    candidates = np.unique(np.concatenate([q for q, _, _ in samples]))

    def most_below(t: float) -> int:
        """At most this many values are ``< t``: in a block, none at or above the first
        sample ``>= t``."""
        total = 0
        for q, r, m in samples:
            j = int(np.searchsorted(q, t, side="left"))
            total += int(r[j]) if j < q.size else m
        return total

    def least_at_most(t: float) -> int:
        """At least this many values are ``<= t``: in a block, those up to the last
        sample ``<= t``."""
        total = 0
        for q, r, _ in samples:
            j = int(np.searchsorted(q, t, side="right"))
            total += int(r[j - 1]) + 1 if j else 0
        return total

    # both counts grow with t; the smallest value has most_below 0, the largest value
    # least_at_most n, so both searches find a candidate
    lo, hi = 0, candidates.size - 1  # the last candidate with most_below <= k_low
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if most_below(candidates[mid]) <= k_low else (lo, mid - 1)
    low = candidates[lo]
    lo, hi = 0, candidates.size - 1  # the first candidate with least_at_most > k_high
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if least_at_most(candidates[mid]) > k_high else (mid + 1, hi)
    return float(low), float(candidates[lo])


def exact_median(parts: list[Any], center: float | None = None,
                 sample: int = SAMPLE) -> float:
    """The median of the values in ``parts`` (of ``|values - center|`` with ``center``),
    exactly ``np.median`` of them all (for an even count the mean of the two middle
    values), without gathering them: two passes over the parts.

    The first pass sends ``sample`` evenly spaced order statistics of each part (with
    their ranks), which bound how many values lie below any threshold; they give a
    bracket ``[low, high]`` sure to hold the middle values. The second pass counts the
    values below ``low`` and equal to ``low`` and ``high`` and gathers those strictly
    between (about ``2 n / sample`` of ``n`` values), where the middle ranks are read.

    Parameters
    ----------
    parts : list
        1-D arrays of float64, or delayed objects computing them (Dask row blocks of a
        column, computed on the active scheduler); empty ones are allowed, not all.
    center : float or None
        ``None``: the median of the values; else of their distances to ``center`` (the
        median absolute deviation around ``center`` as the in-memory fit computes it).
    sample : int
        Order statistics per part in the first pass (at least 2: the smallest and the
        largest value).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> parts = [np.array([5.0, 1.0]), np.array([]), np.array([3.0, 2.0, 8.0, 2.0])]
    >>> exact_median(parts, sample=2), float(np.median(np.concatenate(parts)))
    (2.5, 2.5)
    >>> exact_median(parts, center=2.5, sample=2)
    1.0
    """
    sampled = dask.compute(*[dask.delayed(_block_sample, pure=True)(part, center, sample)
                             for part in parts])
    samples = [s for s in sampled if s[2]]
    n = sum(m for _, _, m in samples)
    if n == 0:
        raise ValueError("exact_median: no values")
    k_low, k_high = (n - 1) // 2, n // 2
    low, high = _bracket(samples, k_low, k_high)
    counted = dask.compute(*[dask.delayed(_block_bracket, pure=True)(part, center, low, high)
                             for part in parts])
    below = sum(c[0] for c in counted)
    at_low = sum(c[1] for c in counted)
    at_high = sum(c[2] for c in counted)
    inside = np.sort(np.concatenate([c[3] for c in counted]))

    def value(k: int) -> float:
        """The ``k``-th smallest value: ``low`` repeated, the ones inside, ``high``."""
        j = k - below
        if 0 <= j < at_low:
            return low
        if 0 <= j - at_low < inside.size:
            return float(inside[j - at_low])
        if 0 <= j - at_low - inside.size < at_high:
            return high
        raise RuntimeError(f"exact_median: rank {k} outside the bracket [{low}, {high}] "
                           f"(did the data change between the passes?)")

    middle = np.array([value(k_low), value(k_high)]) if k_low != k_high \
        else np.array([value(k_low)])
    return float(np.mean(middle))  # np.median's own last step: the mean of the middle


def _target_spread(estimator: Any, blocks: _Blocks) -> tuple[float, float]:
    """``(median, spread)`` of the target where the fit uses them (else ``(0, 1)``),
    exactly as the in-memory fit defines them (``exact_median``)."""
    if not estimator.needs_target_spread() and not estimator.needs_target_median():
        return 0.0, 1.0
    targets = blocks.targets()
    median = exact_median(targets)
    if not estimator.needs_target_spread():
        return median, 1.0
    spread = exact_median(targets, center=median)
    if not spread > 0:
        spread = float(blocks.target().std().compute()) or 1.0
    return median, spread


def _set_grad(theta: Any, grad: np.ndarray) -> None:
    """Make ``grad`` the gradient the optimizer sees (``θ·g`` has gradient ``g``)."""
    (theta * tensor(grad)).sum().backward()


def _train(estimator: Any, blocks: _Blocks, stats: StreamStats, median: float,
           spread: float) -> tuple[np.ndarray, list[float], str]:
    """The epochs of the in-memory fit (``LinearModel._descend``) over the streamed
    blocks: full batch, one gradient summed over the blocks a step; else minibatches of
    the blocks in a seeded order."""
    lr = estimator.lr
    if lr is None:
        lr = estimator._step_size(scaled_top(stats.gram, stats.n, stats.scale), stats.scale,
                                  spread)
    theta = tensor(estimator._start(stats.d, stats.target_mean, median), requires_grad=True)
    opt = estimator._optimizer(theta, lr)
    rng = check_random_state(estimator.random_state)
    size = estimator.batch_size
    batch = size if size is not None and size < stats.n else None
    objective = estimator._objective(np.empty((0, stats.d)), None, stats.mean, stats.scale)
    # the objective where descent starts (a fit that only made it worse returns the
    # start, as in memory); full batch: the pass that gives the objective after a step
    # gives the next gradient
    start, grad = blocks.evaluate(estimator, stats, theta.numpy(), gradient=batch is None)

    def epoch() -> tuple[float, float | None]:
        nonlocal grad
        if batch is None:
            opt.zero_grad()
            _set_grad(theta, grad)
            g_norm = float(np.linalg.norm(grad))
            opt.step()
            f, grad = blocks.evaluate(estimator, stats, theta.numpy(), gradient=True)
            return f, g_norm
        for X, y in blocks.stream(rng.permutation(len(blocks.loads))):
            order = rng.permutation(len(y))
            for i in range(0, len(y), batch):
                idx = order[i:i + batch]
                opt.zero_grad()
                objective(theta, X[idx], y[idx]).backward()
                opt.step()
        return blocks.evaluate(estimator, stats, theta.numpy(), gradient=False)[0], None

    return estimator._descend(theta, epoch, batch is None, start)


def fit_linear_model(estimator: Any, X: Any, y: Any) -> Any:
    """Fit ``estimator`` (a ``LinearModel``) on a Dask ``X`` and ``y``; returns it.

    The same model, attributes, warnings and errors as the in-memory fit; see the
    module's docstring for how the blocks are visited.

    Parameters
    ----------
    estimator : LinearModel
        Its parameters are already checked.
    X : dask.array.Array or dask.dataframe.DataFrame
        Chunked by rows (any column chunks).
    y : Dask array or Series, or an in-memory array of matching length

    Returns
    -------
    LinearModel
        ``estimator``, fitted.

    Examples
    --------
    >>> import numpy as np, dask, dask.array as da
    >>> from wonderland.linear import LinearModel
    >>> X = da.from_array(np.arange(8.0)[:, None], chunks=(3, 1))
    >>> with dask.config.set(scheduler="sync"):
    ...     model = fit_linear_model(LinearModel(max_iter=300), X, 1.0 + 2.0 * X[:, 0])
    >>> round(float(model.coef_[0]), 4), round(model.intercept_, 4)
    (2.0, 1.0)
    """
    rows = dask_rows(estimator, X, y, reset=True)
    if rows.y is None:
        raise ValueError(f"{type(estimator).__name__}.fit needs y")
    classifier = estimator._is_classifier()
    classes = _classes(estimator, rows) if classifier else None
    blocks = _Blocks(rows, classes, estimator.loss)
    stats = _stats(blocks, rows.n_features, bool(estimator.fit_intercept))
    median, spread = _target_spread(estimator, blocks)
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
        theta, curve, status = _train(estimator, blocks, stats, median, spread)
    if classifier:
        estimator.classes_ = classes
    # stacklevel 4: the warning points at the caller of ``fit``, as in memory
    return estimator._set_fitted(theta, stats.mean, stats.scale, curve, status, classifier,
                                 stacklevel=4)
