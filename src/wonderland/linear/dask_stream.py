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
``X`` is never gathered onto one process. The median and the spread of the target are
Dask's approximate percentiles (exact for one block): they only set the intercept's
starting value and the default step of ``absolute``, ``hinge`` and ``adam``.

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
from .dask_blocks import (
    DaskRows,
    _block_moments,
    _float_block,
    _float_y,
    _merge_moments,
    _tree_sum,
    dask_rows,
)

__all__ = ["fit_linear_model", "StreamStats"]

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


def _moments(block: tuple[np.ndarray, np.ndarray], index: int, names: list[str],
             fit_intercept: bool) -> Any:
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
        load = dask.delayed(_load_block, pure=True)
        self.sizes = [int(s) for s in rows.X.chunks[0]]
        # empty partitions (a filtered DataFrame) carry no rows: leave them out
        self.loads = [(i, load(xb, yb, i, first, rows.names, classes, loss))
                      for (xb, yb, i, first), m in zip(rows.blocks(), self.sizes) if m]
        self.names = rows.names
        self.n = int(sum(self.sizes))

    def target(self) -> da.Array:
        """The training target as a Dask array (for its percentiles)."""
        get = dask.delayed(operator.getitem, pure=True)
        return da.concatenate([da.from_delayed(get(load, 1), shape=(self.sizes[i],),
                                               dtype=np.float64) for i, load in self.loads])

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
    """The two labels of a Dask ``y``, with the in-memory fit's errors."""
    classes = np.asarray(da.unique(rows.y).compute())
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
        raise ValueError("Input X has values so large that their squares overflow float64; "
                         "rescale the features")
    mean = mom.x_mean if fit_intercept else np.zeros(d)
    gram = 0.5 * (mom.gram + mom.gram.T)
    # as blocks.column_scales: the spread around ``mean``, 1 for a constant column
    scale = np.sqrt(np.clip(np.diag(gram), 0.0, None) / mom.n)
    scale[~(scale > 1e-12 * np.abs(mean))] = 1.0
    scale[scale == 0] = 1.0
    return StreamStats(mom.n, d, mean, scale, gram, mom.y_mean)


# ------------------------------------------------------------------ training


def _target_spread(estimator: Any, blocks: _Blocks) -> tuple[float, float]:
    """``(median, spread)`` of the target where the fit uses them (else ``(0, 1)``), as
    the in-memory fit defines them, from Dask's percentiles."""
    if not estimator.needs_target_spread() and not estimator.needs_target_median():
        return 0.0, 1.0
    target = blocks.target()
    median = float(np.ravel(da.percentile(target, [50.0]).compute())[0])
    if not estimator.needs_target_spread():
        return median, 1.0
    spread = float(np.ravel(da.percentile(abs(target - median), [50.0]).compute())[0])
    if not spread > 0:
        spread = float(target.std().compute()) or 1.0
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
        lr = estimator._step_size(stats.gram, stats.n, stats.scale, spread)
    theta = tensor(estimator._start(stats.d, stats.target_mean, median), requires_grad=True)
    opt = estimator._optimizer(theta, lr)
    rng = check_random_state(estimator.random_state)
    size = estimator.batch_size
    batch = size if size is not None and size < stats.n else None
    objective = estimator._objective(np.empty((0, stats.d)), None, stats.mean, stats.scale)
    # full batch: the pass that gives the objective after a step gives the next gradient
    grad = blocks.evaluate(estimator, stats, theta.numpy(), gradient=True)[1] \
        if batch is None else None

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

    return estimator._descend(theta, epoch, batch is None)


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
