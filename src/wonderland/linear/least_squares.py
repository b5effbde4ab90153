"""Least squares: ``LinearRegression`` (normal equations, QR/SVD, gradient descent) and
``Ridge``, both solved from the Gram matrix of ``blocks.gram_summary``."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.linalg
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning

from .. import optim
from ..autodiff import value_and_grad
from .base import (
    CollinearityWarning,
    LinearEstimatorMixin,
    all_or_nothing,
    check_bool,
    check_choice,
    check_number,
    checked_weights,
    column_names,
    is_dask,
    refuse_dask_weights,
)
from .blocks import (
    CANCELLATION,
    GramSummary,
    block_rows,
    column_means,
    gram_summary,
    row_slices,
)

__all__ = ["LinearRegression", "Ridge"]

# A direction u with uᵀCu <= COLLINEAR_RTOL * λmax(C), C the correlation matrix of the
# columns, counts as an exact linear dependency: the normal equations would have lost
# about ten digits along it, so the coefficients along it are noise.
COLLINEAR_RTOL = 1e-10
# "auto" solves the normal equations by Cholesky up to this condition number of C,
# and switches to QR/SVD on the data beyond it (digits lost: log10(cond) vs its root).
AUTO_NORMAL_MAX_COND = 1e8
# above this condition number the normal equations lose digits worth a refinement (their
# coefficients are good to about cond * 1e-16): "normal" then refines on the data in memory
REFINE_MIN_COND = 1e4
# a column whose centred sum of squares is below this fraction of its raw one (a spread
# below 1e-12 of its magnitude: rounding of the mean leaves ~1e-16) is constant
_CONSTANT_RTOL = 1e-24
# a column belongs to a dependency when its loading on a null direction exceeds this
_LOADING_TOL = 1e-6


@dataclass
class _Rank:
    """What the Gram matrix says about the columns: an orthonormal basis ``null`` of the
    (numerical) null space in the original coordinates, the constant columns, the
    columns in a linear dependency, and the condition number of the correlation
    matrix of the other columns."""

    null: np.ndarray | None  # None for data wider than tall: d - n vectors, never formed
    constant: list[int]
    dependent: list[int]
    cond: float

    @property
    def deficient(self) -> bool:
        return bool(self.constant or self.dependent)


def _unit_vector(d: int, j: int) -> np.ndarray:
    """The ``j``-th of ``d`` unit vectors, on memory of its own (a column of ``np.eye(d)``
    kept the whole d x d matrix alive, once per constant column)."""
    e = np.zeros(d)
    e[j] = 1.0
    return e


def _constant_columns(diag: np.ndarray, raw_diag: np.ndarray,
                      fit_intercept: bool) -> np.ndarray:
    """Which columns are constant (all zero without intercept), from their centred
    (``diag``) and raw (``raw_diag``) sums of squares."""
    return diag <= _CONSTANT_RTOL * raw_diag if fit_intercept else ~(diag > 0)


def _analyse(summary: GramSummary, fit_intercept: bool) -> _Rank:
    G = summary.gram
    d = G.shape[0]
    diag = np.diag(G).copy()
    constant = _constant_columns(diag, summary.raw_diag, fit_intercept)
    live = np.flatnonzero(~constant)
    null_vectors = [_unit_vector(d, j) for j in np.flatnonzero(constant)]
    dependent: list[int] = []
    cond = 1.0
    if live.size:
        root = np.sqrt(diag[live])
        C = G[np.ix_(live, live)] / np.outer(root, root)
        lam, V = np.linalg.eigh(C)
        top = max(lam[-1], np.finfo(float).tiny)
        small = lam <= COLLINEAR_RTOL * top
        cond = float(top / lam[0]) if lam[0] > 0 else np.inf
        if np.any(small):
            dependent = _dependencies(V[:, small], live, root, d, null_vectors)
    return _Rank(_null_basis(null_vectors, d), [int(j) for j in np.flatnonzero(constant)],
                 dependent, cond)


def _dependencies(Vs: np.ndarray, live: np.ndarray, scale: np.ndarray, d: int,
                  null_vectors: list) -> list[int]:
    """The columns that load on the null directions ``Vs`` of the scaled ``live`` columns;
    those directions, in the columns' own units, are appended to ``null_vectors``. A
    column that does not load on them gets an exact 0 there: its rounding (1e-16 in
    scaled units) would grow by the ratio of the column scales in the columns' units
    (1e-4 of the direction beside columns of scale 1e6), and the minimum-norm solution,
    kept orthogonal to it, then gave duplicated columns weights of +67 and -67."""
    loads = np.sqrt(np.sum(Vs * Vs, axis=1))
    in_dependency = loads > _LOADING_TOL
    for v in (np.where(in_dependency[:, None], Vs, 0.0) / scale[:, None]).T:
        full = np.zeros(d)
        full[live] = v
        null_vectors.append(full)
    return [int(j) for j in live[in_dependency]]


def complement_basis(null: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the orthogonal complement of ``null``'s (orthonormal)
    columns, each vector as near a coordinate axis as the complement allows: QR with
    column pivoting of the projector ``I - N Nᵀ``. A plain QR of ``N`` mixed columns of
    scales 1e6 and 1e-6 in every vector, and the reduced Gram matrix ``QᵀGQ`` lost the
    small ones to rounding (a residual of 0.7 where the minimum is 1e-7)."""
    d, k = null.shape
    basis = scipy.linalg.qr(np.eye(d) - null @ null.T, pivoting=True)[0]
    return basis[:, : d - k]


def _null_basis(null_vectors: list, d: int) -> np.ndarray:
    """An orthonormal basis of the span of ``null_vectors`` (``d`` rows, maybe no column).

    The rows go to Householder QR in decreasing size, which keeps each row's relative
    accuracy (Cox and Higham): a null vector of columns of scales 1e-6 and 1e6 holds
    entries 1e12 apart, and in the columns' order the reflections left the small rows
    good to 1e-4 (a ridge solution off its row space by as much)."""
    if not null_vectors:
        return np.zeros((d, 0))
    U = np.column_stack(null_vectors)
    order = np.argsort(-np.linalg.norm(U, axis=1), kind="stable")
    basis = np.empty_like(U)
    basis[order] = np.linalg.qr(U[order])[0]
    return basis


def _describe_collinear(estimator: Any, rank: _Rank, d: int) -> str:
    """``"columns x0, x2 are collinear (linearly dependent)"`` (and the constant or
    all-zero columns) for a deficient ``rank``: the columns by name (a DataFrame's) or
    as ``x<index>``. ``LogisticRegression`` words its warning with it too."""
    names = column_names(estimator, d)
    parts = []
    if rank.dependent and rank.null is None:  # (naming them all would name nearly every one)
        parts.append(f"X has more columns ({d}) than rows, so they are linearly dependent")
    elif rank.dependent:
        cols = ", ".join(names[j] for j in rank.dependent)
        parts.append(f"columns {cols} are collinear (linearly dependent)")
    if rank.constant:
        cols = ", ".join(names[j] for j in rank.constant)
        what = "constant, so collinear with the intercept" if estimator.fit_intercept \
            else "all zero"
        parts.append(f"column{'s' if len(rank.constant) > 1 else ''} {cols} "
                     f"{'are' if len(rank.constant) > 1 else 'is'} {what}")
    return "; ".join(parts)


def _warn_collinear(estimator: Any, rank: _Rank, d: int, alpha: float = 0.0) -> None:
    if alpha > 0:  # Ridge: unique coefficients, but float64 cannot resolve them
        tail = (f"With alpha={alpha!r} the penalty is below float64's rounding along the "
                f"dependency: returning the ridge solution orthogonal to it (exact when "
                f"the dependency is); a larger alpha determines it.")
    else:
        tail = ("The least-squares coefficients are not unique: returning the minimum-norm "
                "solution.")
    message = f"{type(estimator).__name__}: {_describe_collinear(estimator, rank, d)}. {tail}"
    warnings.warn(message, CollinearityWarning, stacklevel=3)


def _beside(v: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """The vector ``v`` (one entry per row or per feature) as a column when ``targets``
    holds several targets as columns, so that it scales each of them alike."""
    return v.reshape(v.shape + (1,) * (targets.ndim - 1))


def _cholesky_solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``A x = b`` for a positive definite ``A`` by Cholesky on its Jacobi scaling
    (unit diagonal), which keeps badly scaled columns from costing digits."""
    root = np.sqrt(np.diag(A))
    factor = scipy.linalg.cho_factor(A / np.outer(root, root), check_finite=False)
    root_b = _beside(root, b)
    return scipy.linalg.cho_solve(factor, b / root_b, check_finite=False) / root_b


def _min_norm_normal(summary: GramSummary, rank: _Rank, alpha: float = 0.0,
                     xty: np.ndarray | None = None) -> np.ndarray:
    """The minimum-norm least-squares coefficients from the Gram matrix (with ``alpha``,
    the ridge coefficients orthogonal to the null space): solve on the orthogonal
    complement of the null space. ``xty`` replaces ``summary.xty`` (a refinement's)."""
    xty = summary.xty if xty is None else xty
    Q = complement_basis(rank.null)
    if Q.shape[1] == 0:
        return np.zeros(xty.shape)
    A = Q.T @ summary.gram @ Q + alpha * np.eye(Q.shape[1])
    b = Q.T @ xty
    try:
        u = _cholesky_solve(0.5 * (A + A.T), b)
    except (np.linalg.LinAlgError, ValueError):
        u = scipy.linalg.lstsq(A, b)[0]
    return Q @ u


def _refined(solve: Any, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None,
             summary: GramSummary, coef: np.ndarray) -> np.ndarray:
    """``coef`` after iterative refinement: the normal equations square the condition
    number, and the residual, computed on the data themselves, gives back the digits they
    lost. The rows are centred a block at a time (``X w - x̄·w`` would cancel where a
    column's mean dwarfs its spread). Each step is two passes over ``X`` (the Gram matrix
    took ``d``); a second is taken only when the first moved ``coef`` by more than
    rounding (ill-conditioned columns)."""
    for _ in range(2):
        xtr = np.zeros(summary.xty.shape)
        for rows in row_slices(len(X), block_rows(X.shape[1])):
            Xb = X[rows] - summary.x_mean
            r = (y[rows] - summary.y_mean) - Xb @ coef
            if weight is not None:
                r = r * _beside(weight[rows], r)
            xtr += Xb.T @ r
        step = solve(xtr)
        if not np.all(np.isfinite(step)):
            break
        coef = coef + step
        if np.linalg.norm(step) <= 1e-12 * np.linalg.norm(coef):
            break
    return coef


def _mean_square(sums: list[tuple[float, float]], n: float) -> float:
    """``Σ r² / n`` from ``(s, Σ (r/s)²)`` per part (``s`` the part's largest ``|r|``):
    scaled so that neither overflows nor underflows on the way (``|r|`` of 1e155 has a
    finite mean square; its square does not)."""
    top = max((s for s, _ in sums), default=0.0)
    if not 0.0 < top < np.inf:
        return top * top  # 0, or inf / NaN as the residual is
    root = top * float(np.sqrt(sum((s / top) ** 2 * t for s, t in sums) / n))
    return root * root


def _scaled_sum(r: np.ndarray, weight: np.ndarray | None = None) -> tuple[float, float]:
    s = float(np.max(np.abs(r))) if r.size else 0.0
    if not 0.0 < s < np.inf:
        return s, 0.0
    q = np.square(r / s)
    return s, float(np.sum(q if weight is None else q * _beside(weight, r)))


def _mean_squared_residual(X: np.ndarray, y: np.ndarray, weight: np.ndarray | None,
                           summary: GramSummary, coef: np.ndarray) -> float:
    """The (weighted) mean of the squared residuals, summed over the targets, from a pass
    over the rows. From the statistics instead, ``ỹᵀỹ - 2wᵀX̃ᵀỹ + wᵀX̃ᵀX̃w`` cancels terms
    of ``‖ỹ‖²``'s size: a fit to 1e-10 read 3e-14 for 1e-20, and ``ỹᵀỹ`` overflows for
    ``|y|`` beyond 1e154 (NaN)."""
    sums = []
    # centred as in _refined; a mat-vec a block: small blocks keep the peak at the Gram's
    for rows in row_slices(len(X), block_rows(X.shape[1], 2**19)):
        r = (y[rows] - summary.y_mean) - (X[rows] - summary.x_mean) @ coef
        sums.append(_scaled_sum(r, None if weight is None else weight[rows]))
    return _mean_square(sums, summary.n_samples)


def _constant_columns_out(summary: GramSummary, fit_intercept: bool) -> GramSummary:
    """``summary`` with the rows and columns of constant columns (under an intercept) set
    to 0: a constant column centres to rounding (the mean of ten 1e-6 is not 1e-6), not
    to 0, and the penalty then gave it a coefficient of rounding (1e-33) instead of 0."""
    if not fit_intercept:
        return summary
    constant = np.diag(summary.gram) <= _CONSTANT_RTOL * summary.raw_diag
    if not constant.any():
        return summary
    gram, xty = summary.gram.copy(), summary.xty.copy()
    gram[constant] = 0.0
    gram[:, constant] = 0.0
    xty[constant] = 0.0
    return replace(summary, gram=gram, xty=xty)


def _ridge_cholesky(gram: np.ndarray, xty: np.ndarray, alpha: float) -> np.ndarray | None:
    """``(gram + alpha I)⁻¹ xty`` by Cholesky, or None when the matrix is numerically
    singular: LAPACK's estimate of the condition number of its Jacobi scaling (unit
    diagonal; from the factor, ``O(d²)``) above ``1 / COLLINEAR_RTOL``. A penalty that
    small beside a (near) dependency of the columns leaves the coefficients along it to
    rounding (one duplicated column took 0.67 and the other 0.38 of a weight that the
    exact solution splits evenly)."""
    A = gram + alpha * np.eye(gram.shape[0])
    try:
        factor = scipy.linalg.cholesky(A, check_finite=False)  # upper: A = RᵀR
    except np.linalg.LinAlgError:
        return None
    # the scaled matrix D⁻¹AD⁻¹ (D = √diag A) has the factor R D⁻¹: no second one
    root = np.sqrt(np.diag(A))
    scaled_norm = np.linalg.norm(A / np.outer(root, root), 1)
    rcond, info = scipy.linalg.lapack.dpocon(factor / root, scaled_norm)
    if info != 0 or not rcond > COLLINEAR_RTOL:
        return None
    return scipy.linalg.cho_solve((factor, False), xty, check_finite=False)


# solver="lstsq": a direction of the Jacobi-scaled centred data with singular value at
# most this fraction of the largest counts as a dependency (QR/SVD loses about
# log10(1/ratio) digits along it, as the normal equations do at COLLINEAR_RTOL)
LSTSQ_RTOL = 1e-10


def _analyse_data(Xc: np.ndarray, rank: _Rank) -> tuple[_Rank, tuple]:
    """The dependencies of the centred (weighted) data ``Xc`` read from its own singular
    values rather than from the Gram matrix: the constant columns of ``rank`` stay, the
    other columns are Jacobi-scaled and a direction with ``σ <= LSTSQ_RTOL σmax`` is a
    dependency. Returns the new rank and ``(live, norms, U, s, Vt)`` for ``_svd_solve``
    (``_row_space_solve`` for data wider than tall, whose rank holds no null basis)."""
    n, d = Xc.shape
    wide = d > n  # the null space then has d - n dimensions: a basis of it outweighs X
    constant = set(rank.constant)
    live = np.array([j for j in range(d) if j not in constant], dtype=int)
    null_vectors = [] if wide else [_unit_vector(d, j) for j in rank.constant]
    dependent: list[int] = []
    cond = 1.0
    norms = np.ones(0)
    U, s, Vt = np.zeros((n, 0)), np.zeros(0), np.zeros((0, 0))
    if live.size:
        norms = np.linalg.norm(Xc[:, live], axis=0)
        norms = np.where(norms > 0, norms, 1.0)
        U, s, Vt = scipy.linalg.svd(Xc[:, live] / norms, full_matrices=False,
                                    check_finite=False)
        full_s = np.zeros(live.size)
        full_s[: s.size] = s  # more columns than rows: the missing ones are 0
        top = max(full_s[0], np.finfo(float).tiny)
        small = full_s <= LSTSQ_RTOL * top
        cond = float((top / full_s[-1]) ** 2) if full_s[-1] > 0 else np.inf
        if wide:  # a column's load on the null space: what the resolved directions leave
            resolved = Vt[~small[: s.size]]
            loads = np.sqrt(np.maximum(1.0 - np.sum(resolved * resolved, axis=0), 0.0))
            dependent = [int(j) for j in live[loads > _LOADING_TOL]]
        elif np.any(small):
            dependent = _dependencies(Vt[small].T, live, norms, d, null_vectors)
    null = None if wide else _null_basis(null_vectors, d)
    return _Rank(null, list(rank.constant), dependent, cond), (live, norms, U, s, Vt)


def _row_space_solve(svd: tuple, Xc: np.ndarray, yc: np.ndarray, d: int) -> np.ndarray:
    """The minimum-norm least-squares coefficients of data wider than tall, from
    ``_analyse_data``'s SVD of its scaled live columns: solved on a basis of the row space
    in the columns' own units (the complement of the null space there; n vectors at most,
    where the tall path's complement of the null basis takes d)."""
    live, norms, U, s, Vt = svd
    coef = np.zeros((d,) + yc.shape[1:])
    if live.size:
        resolved = Vt[s > LSTSQ_RTOL * max(s[0], np.finfo(float).tiny)]
        # the row space of the scaled columns, D⁻¹Vᵣᵀ, is D Vᵣᵀ in the columns' units
        Q = np.linalg.qr(norms[:, None] * resolved.T)[0]
        if Q.shape[1]:
            coef[live] = _scaled_lstsq(Xc[:, live] @ Q, yc, Q)
    return coef


def _svd_solve(svd: tuple, yc: np.ndarray, d: int) -> np.ndarray:
    """The least-squares coefficients from ``_analyse_data``'s SVD of the full-rank scaled
    data (every live singular value resolved)."""
    live, norms, U, s, Vt = svd
    coef = np.zeros((d,) + yc.shape[1:])
    if live.size:
        root = _beside(norms, yc)
        coef[live] = (Vt.T @ ((U.T @ yc) / _beside(s, yc))) / root
    return coef


def _scaled_lstsq(B: np.ndarray, yc: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """``Q u`` for the least-squares ``u`` of ``B u = yc``, solved on ``B``'s columns
    scaled to unit norm: LAPACK's cutoff is relative to the largest singular value, and
    columns of scales 1e6 and 1e-6 left the small ones resolved to a few digits."""
    norms = np.linalg.norm(B, axis=0)
    norms = np.where(norms > 0, norms, 1.0)
    return Q @ (scipy.linalg.lstsq(B / norms, yc, check_finite=False)[0] /
                _beside(norms, yc))


def _means_summary(X: np.ndarray, y: np.ndarray, weight: np.ndarray | None,
                   fit_intercept: bool) -> GramSummary:
    """The ``GramSummary`` of data wider than tall without its matrices (``gram``, ``xty``
    and ``yty`` are None): the d x d Gram matrix would outweigh ``X``, and QR/SVD on the
    data needs only the means, the count and the raw sums of squares."""
    x_mean = column_means(X, fit_intercept, weight)  # (checks NaN and infinity)
    Y = y.reshape(len(y), -1)
    y_mean = np.average(Y, axis=0, weights=weight) if fit_intercept else np.zeros(Y.shape[1])
    raw_diag = np.einsum("ij,ij->j", X, X) if weight is None else \
        np.einsum("i,ij,ij->j", weight, X, X)
    return GramSummary(float(len(X) if weight is None else weight.sum()), x_mean,
                       float(y_mean[0]) if y.ndim == 1 else y_mean, None, None, None,
                       raw_diag)


def _centred_copy(X: np.ndarray, mean: np.ndarray) -> np.ndarray:
    return X - mean if np.any(mean) else np.array(X, dtype=np.float64, copy=True)


class _LeastSquares(LinearEstimatorMixin, RegressorMixin, BaseEstimator):
    """What least squares and ridge share once fitted: the prediction ``Xw + b``."""

    def predict(self, X: Any) -> np.ndarray:
        """``X @ coef_ᵀ + intercept_``: shape ``(n,)``, or ``(n, k)`` for ``k`` targets (a
        lazy Dask array for Dask input)."""
        if is_dask(X):
            return _dask_predict(self, X)
        X = self._validate_X(X)
        return X @ self.coef_.T + self.intercept_

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.target_tags.multi_output = True
        return tags

    def _set_solution(self, coef: np.ndarray, summary: GramSummary) -> None:
        """``coef_`` and ``intercept_`` from the coefficients ``coef`` (one column per target
        for several), in scikit-learn's shapes: ``(d,)`` and a number for one target,
        ``(k, d)`` and ``(k,)`` for ``k``."""
        coef = np.asarray(coef, dtype=np.float64)
        intercept = summary.y_mean - summary.x_mean @ coef
        self.coef_ = coef if coef.ndim == 1 else np.ascontiguousarray(coef.T)
        self.intercept_ = float(intercept) if coef.ndim == 1 else np.asarray(intercept)

    def _training_mse(self, data: tuple[Any, Any], fitted: tuple, summary: GramSummary,
                      coef: np.ndarray) -> float:
        """The (weighted) mean squared error on the training rows, summed over the targets:
        a pass over ``X`` in memory (``fitted``: the validated ``X``, ``y``, weights); on
        Dask (``data``: ``X`` and ``y`` as given) from the statistics where they resolve
        it, else a pass."""
        X, y, weight = fitted
        if X is not None:
            return _mean_squared_residual(X, y, weight, summary, coef)
        value = _statistics_rss(summary, coef)
        return value / summary.n_samples if value is not None else \
            _dask_mean_squared_residual(self, *data, summary.n_samples)

    def _summary(self, X: Any, y: Any, sample_weight: Any, fit_intercept: bool,
                 wide_ok: bool = False) -> tuple:
        """``(X, y, weights, summary)``: the validated data (``X`` and ``y`` are None for
        Dask input), the checked ``sample_weight`` (None without) and the Gram statistics
        of the rows, weighted when weights are given; with ``wide_ok``, ``_means_summary``
        (no Gram matrix) of ``X`` in memory with more columns than rows."""
        if is_dask(X):
            refuse_dask_weights(self, sample_weight)
            return None, None, None, _dask_summary(self, X, y, fit_intercept)
        X, y = self._validate_X_y(X, y, numeric_y=True, ensure_all_finite=False,
                                  multi_output=True)
        weight = checked_weights(self, sample_weight, X)
        with self._naming_columns():  # NaN and inf are caught from the Gram matrix
            if wide_ok and X.shape[1] > X.shape[0]:
                return X, y, weight, _means_summary(X, y, weight, fit_intercept)
            return X, y, weight, gram_summary(X, y, fit_intercept, weight)


class LinearRegression(_LeastSquares):
    """Ordinary least squares: minimize ``‖y - Xw - b‖²``.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Fit ``b`` (unpenalized). The columns are centred for the solve. A bool: anything
        else (``"False"``, ``None``) is an ``InvalidParameterError``.
    solver : {"auto", "normal", "lstsq", "gd"}, default="auto"
        ``"normal"``: the closed form ``(XᵀX)⁻¹Xᵀy`` by Cholesky on the centred Gram
        matrix (one pass of BLAS over ``X``, no copy of it), refined on the data (one or
        two steps of two passes, rows centred a block at a time) when the columns'
        condition number exceeds 1e4 or they are dependent. ``"lstsq"``: QR/SVD on the
        centred data (``scipy.linalg.lstsq``; a copy of ``X``). ``"gd"``: gradient descent
        on the mean squared error, the gradient from wonderland's autodiff and the step
        from ``wl.optim.GD`` (in standardized coordinates, with the step
        ``2/(λmax + λmin)`` of the Hessian). ``"auto"``: ``"normal"`` when the
        correlation matrix of the columns has condition number at most 1e8, else
        ``"lstsq"``.
    max_iter : int, default=1000
        Iterations of ``"gd"`` (ignored by the others).
    tol : float, default=1e-6
        ``"gd"`` stops when the gradient norm falls below ``tol`` times its initial norm
        (in standardized coordinates: a coefficient is then within about ``tol`` times
        the condition number of the closed form's, relative to the largest standardized
        coefficient; ``tol=1e-10`` agrees with ``"normal"`` to about 1e-8).

    Collinear or duplicated columns (read from the Gram matrix: a direction ``u`` of the
    column correlation matrix ``C`` with ``uᵀCu <= 1e-10 λmax(C)``, or a constant
    column when there is an intercept) give a ``CollinearityWarning`` naming them and
    the minimum-norm coefficients (those of the pseudo-inverse). ``"lstsq"`` (and
    ``"auto"`` when it picks it) reads the dependencies from the singular values of the
    Jacobi-scaled centred data instead, ``σ <= 1e-10 σmax``: the Gram matrix squares the
    condition number, and QR/SVD resolves columns that its rule would call dependent.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
        Iterations of ``"gd"``; 1 for the direct solvers.
    loss_curve_ : ndarray
        The mean squared error after each iteration (one entry for a direct solve).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` was a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from wonderland.linear import LinearRegression
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 3.0]])
    >>> y = 1.0 + 2.0 * X[:, 0] - X[:, 1]
    >>> model = LinearRegression().fit(X, y)
    >>> np.round(model.coef_, 6).tolist(), round(model.intercept_, 6)
    ([2.0, -1.0], 1.0)
    """

    _solvers = ("auto", "normal", "lstsq", "gd")

    def __init__(self, fit_intercept: bool = True, solver: str = "auto", max_iter: int = 1000,
                 tol: float = 1e-6) -> None:
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LinearRegression:
        """Fit the coefficients; ``X`` is read, never written or copied (``"lstsq"``
        works on a centred copy, and ``"gd"`` does when a column's mean dwarfs its
        spread, for the digits that ``X w - x̄·w`` would cancel). ``sample_weight``
        weights the rows' squared residuals (a weight of 2 counts a row twice)."""
        with all_or_nothing(self):  # a failed fit keeps the previous one
            name = type(self).__name__
            check_bool(name, "fit_intercept", self.fit_intercept)
            check_choice(name, "solver", self.solver, self._solvers)
            check_number(name, "max_iter", self.max_iter, low=1, integer=True)
            check_number(name, "tol", self.tol, low=0.0)
            fit_intercept = bool(self.fit_intercept)  # (NumPy's bool too)
            if is_dask(X) and self.solver not in ("auto", "normal"):
                raise ValueError(f"{name}: solver={self.solver!r} needs X in memory; on Dask "
                                 f"input use solver='normal' (or 'auto')")
            data = X, y
            # X wider than tall goes to QR/SVD on the data (the normal equations are
            # singular there) without the d x d Gram matrix, which would outweigh it
            X, y, weight, summary = self._summary(X, y, sample_weight, fit_intercept,
                                                  wide_ok=self.solver in ("auto", "lstsq"))
            d = summary.x_mean.shape[0]
            wide = summary.gram is None
            rank = _Rank(None, [], [], np.inf) if wide else _analyse(summary, fit_intercept)
            solver = self.solver
            if solver == "auto":
                solver = "normal" if rank.cond <= AUTO_NORMAL_MAX_COND or X is None else "lstsq"
            Xc = yc = None
            if solver == "lstsq":
                Xc = _centred_copy(X, summary.x_mean)
                yc = y - summary.y_mean
                if weight is not None:  # rows scaled by √w: their squares weigh w
                    root = np.sqrt(weight)
                    Xc *= root[:, None]
                    yc = yc * _beside(root, y)
                if wide:
                    constant = _constant_columns(np.einsum("ij,ij->j", Xc, Xc),
                                                 summary.raw_diag, fit_intercept)
                    rank.constant = [int(j) for j in np.flatnonzero(constant)]
                # the Gram matrix squares the condition number: its rule (1e-10 on C's
                # eigenvalues) called columns correlated to 1 - 1e-10 dependent and returned
                # the minimum-norm coefficients, which QR/SVD on the data resolves to ~6 digits
                rank, svd = _analyse_data(Xc, rank)
            if rank.deficient:
                _warn_collinear(self, rank, d)
            self.n_iter_ = 1
            if solver == "normal":
                def solve(xty: np.ndarray) -> np.ndarray:
                    return _min_norm_normal(summary, rank, xty=xty) if rank.deficient \
                        else _cholesky_solve(summary.gram, xty)

                coef = solve(summary.xty)
                if X is not None and (rank.deficient or rank.cond > REFINE_MIN_COND):
                    coef = _refined(solve, X, y, weight, summary, coef)  # (Dask's X: read once)
            elif solver == "lstsq":
                if wide:
                    coef = _row_space_solve(svd, Xc, yc, d)
                elif rank.deficient:
                    Q = complement_basis(rank.null)
                    coef = _scaled_lstsq(Xc @ Q, yc, Q) if Q.shape[1] else \
                        np.zeros(summary.xty.shape)
                else:
                    coef = _svd_solve(svd, yc, d)
            else:
                coef = self._fit_gd(X, y, weight, summary, rank)
            self._set_solution(coef, summary)
            if solver != "gd":
                self.loss_curve_ = np.array([self._training_mse(data, (X, y, weight), summary,
                                                                coef)])
            return self

    def _fit_gd(self, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None,
                summary: GramSummary, rank: _Rank) -> np.ndarray:
        d = X.shape[1]
        n = summary.n_samples  # (the sum of the weights)
        share = None if weight is None else weight / n
        diag = np.diag(summary.gram).copy()
        # The residual was X w - x̄·w + b - y: where a column's mean dwarfs its spread
        # (1e8 + 1e-3·noise) its w_j is large (the spread is small) and X w, x̄·w and y
        # all round at |x̄ w| while their difference is of the spread's size: 11 digits
        # of 16 cancelled, the gradient was noise at 1e-5 of the fit, and descent stopped
        # (or wandered to max_iter) 1e-5 from the closed form. Descend on the centred
        # data instead: X̃ = X - x̄ (a copy, only when the means dwarf the spread, the
        # rule by which gram_summary centres its blocks) and ỹ = y - ȳ.
        mean = summary.x_mean
        if self.fit_intercept and np.any(diag < CANCELLATION * summary.raw_diag):
            X = X - mean
            mean = np.zeros(d)
        y = y - summary.y_mean  # (ȳ = 0 without an intercept)
        # descend on ỹ / 2ᵏ, of size about 1 (a power of two scales exactly): the squared
        # error of ỹ overflowed for |y| beyond 1e154 and "f is not finite at x0"
        unit = float(np.exp2(np.frexp(np.max(np.abs(y)))[1])) if y.size else 1.0
        unit = unit if 0.0 < unit < np.inf else 1.0
        y = y / unit
        # a constant column's centred sum of squares is rounding (1e-30, say): scaled by
        # its root, that rounding became a gradient of order 1 along a column that cannot
        # be fitted, and descent ran to max_iter
        diag[rank.constant] = 0.0
        scale = np.sqrt(np.where(diag > 0, diag, n) / n)
        C = summary.gram / np.outer(scale, scale) / n
        lam = np.linalg.eigvalsh(C)
        live = lam[lam > COLLINEAR_RTOL * lam[-1]] if lam.size else lam
        live = live if live.size else np.ones(1)  # every column constant: nothing to fit
        # Hessian of the mean squared error in (v, c): 2C for v, 2 for the intercept
        hi = 2.0 * max(live[-1], 1.0 if self.fit_intercept else 0.0)
        lo = 2.0 * min(live[0], 1.0) if self.fit_intercept else 2.0 * live[0]
        lr = 2.0 / (hi + lo)
        intercept = bool(self.fit_intercept)
        # one column of coefficients per target: each target's mean squared error, summed
        # (the Hessian is the same block per target, and so is the step)
        mean, scale_c = _beside(mean, y), _beside(scale, y)
        share = None if share is None else _beside(share, y)

        def mse(theta: Any) -> Any:
            w = theta[:d] / scale_c
            pred = X @ w - (mean * w).sum(axis=0)
            if intercept:
                pred = pred + theta[d]
            r = pred - y
            return (r * r).mean(axis=0).sum() if share is None else (r * r * share).sum()

        # the columns and the target are centred: 0 is the intercept's optimum, whatever
        # w, so tol measures the fit of w (the intercept is ȳ - x̄·w, set from the means)
        theta0 = np.zeros((d + 1 if intercept else d,) + y.shape[1:])
        g0 = np.asarray(value_and_grad(mse)(theta0)[1])
        # a start already optimal (an intercept-only problem) has a gradient of rounding
        # error only, which tol times itself cannot undercut: floor the test at the
        # rounding of the gradient (whose entries scale with the centred target's size),
        # else such fits ran to max_iter and warned that they had not converged
        y_size = float(np.sqrt(_mean_square([_scaled_sum(y, weight)],
                                            max(n, np.finfo(float).tiny))))
        floor = 64.0 * np.finfo(float).eps * np.sqrt(theta0.size) * y_size
        tol = max(self.tol * float(np.linalg.norm(g0)), floor, np.finfo(float).tiny)
        res = optim.minimize(mse, theta0, method="gd", lr=lr, max_iter=self.max_iter,
                             tol_grad=tol)
        _check_descent(self, res)
        theta = np.asarray(res.x)
        coef = theta[:d] / scale_c * unit
        if rank.deficient:  # descent from 0 is the minimum-norm one in scaled coordinates
            coef = coef - rank.null @ (rank.null.T @ coef)
        self.n_iter_ = int(res.n_iter)
        with np.errstate(over="ignore"):  # (a mean square beyond float64 is inf)
            fun = np.asarray(res.trace.fun, dtype=np.float64) * unit * unit
        self.loss_curve_ = fun[1:] if fun.size > 1 else fun
        return coef



def _dask_summary(estimator: Any, X: Any, y: Any, fit_intercept: bool) -> GramSummary:
    """``gram_summary`` of Dask ``X`` and ``y``: one pass over the row blocks."""
    from .dask_blocks import dask_rows, gram_summary_dask

    return gram_summary_dask(dask_rows(estimator, X, y, reset=True), fit_intercept)


def _dask_predict(estimator: Any, X: Any) -> Any:
    from .dask_blocks import map_rows

    coef, intercept = estimator.coef_, estimator.intercept_
    return map_rows(estimator, X, lambda Xb: Xb @ coef.T + intercept,
                    None if coef.ndim == 1 else coef.shape[0], np.float64)


def _statistics_rss(summary: GramSummary, w: np.ndarray) -> float | None:
    """``‖ỹ - X̃w‖²`` (summed over the targets) from the statistics, no pass over ``X``;
    None where they cannot resolve it: a residual under 1e-6 of ``‖ỹ‖²`` (the terms
    cancel to their rounding, about ``√n ε ‖ỹ‖²``), or an overflow."""
    with np.errstate(over="ignore", invalid="ignore"):  # (then None: a pass)
        value = summary.yty - 2.0 * np.sum(w * summary.xty, axis=0) + \
            np.sum(w * (summary.gram @ w), axis=0)
    total = float(np.sum(np.maximum(value, 0.0)))
    if not np.isfinite(total) or total <= 1e-6 * float(np.sum(summary.yty)):
        return None
    return total


def _dask_mean_squared_residual(estimator: Any, X: Any, y: Any, n: float) -> float:
    """``_mean_squared_residual`` of a fitted estimator on Dask ``X`` and ``y``: a pass
    (two where ``Σ r²`` overflows)."""
    import dask

    from .dask_blocks import dask_rows

    rows = dask_rows(estimator, X, y, reset=True)  # (as fit read them: known row chunks)
    r = rows.y - (rows.X.astype(np.float64) @ estimator.coef_ + estimator.intercept_)
    top, total = (float(v) for v in dask.compute(abs(r).max(), (r * r).sum()))
    if 0.0 < top < np.inf and not np.isfinite(total):
        return _mean_square([(top, float(((r / top) ** 2).sum().compute()))], n)
    return total / n


def _check_descent(estimator: Any, res: Any) -> None:
    name = type(estimator).__name__
    if res.reason == "diverged":
        raise RuntimeError(f"{name}: gradient descent diverged (a NaN or inf appeared)")
    if res.reason == "max_iter":
        warnings.warn(f"{name}: gradient descent reached max_iter={estimator.max_iter} "
                      f"before the gradient fell below tol; increase max_iter",
                      ConvergenceWarning, stacklevel=4)


class Ridge(_LeastSquares):
    """Least squares with an L2 penalty: minimize ``‖y - Xw - b‖² + alpha ‖w‖²``.

    The scaling is scikit-learn's (a sum of squares, not a mean; the intercept ``b`` is
    not penalized): the text's ``(1/n)‖y - Xw‖² + λ‖w‖²`` is ``alpha = n λ``. Solved in
    closed form, ``(X̃ᵀX̃ + alpha I) w = X̃ᵀỹ`` by Cholesky, with the centred Gram matrix
    taken from ``XᵀX`` and the column means (``X̃ᵀX̃ = XᵀX - n x̄x̄ᵀ``): ``X`` is never
    copied, centred or written; the memory used beyond it is ``O(n + d²)``.

    When ``alpha`` is too small for float64 to resolve a (near) linear dependency of the
    columns (the Jacobi-scaled system's condition number above 1e10), the coefficients
    along it would be rounding noise: the dependency is then found as in
    ``LinearRegression``, named in a ``CollinearityWarning``, and the ridge solution
    orthogonal to it is returned (the exact one for an exact dependency, e.g. duplicated
    columns, which it splits evenly).

    Parameters
    ----------
    alpha : float, default=1.0
        Penalty weight, ``>= 0``. With ``alpha=0`` this is ``LinearRegression``.
    fit_intercept : bool, default=True
        Fit ``b`` (unpenalized). A bool: anything else is an ``InvalidParameterError``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
        1 (one direct solve).
    loss_curve_ : ndarray of shape (1,)
        The objective at the solution.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` was a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from wonderland.linear import Ridge
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([1.0, 3.0, 5.0, 7.0])
    >>> model = Ridge(alpha=5.0).fit(X, y)  # Σ(x - x̄)² = 5: the slope 2 halves
    >>> model.coef_.tolist(), model.intercept_
    ([1.0], 2.5)
    """

    def __init__(self, alpha: float = 1.0, fit_intercept: bool = True) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Ridge:
        """Fit the coefficients (one pass of BLAS over ``X``, no copy of it).
        ``sample_weight`` weights the rows' squared residuals (as scikit-learn's)."""
        with all_or_nothing(self):  # a failed fit keeps the previous one
            name = type(self).__name__
            check_number(name, "alpha", self.alpha, low=0.0)
            check_bool(name, "fit_intercept", self.fit_intercept)
            data = X, y
            *fitted, summary = self._summary(X, y, sample_weight, bool(self.fit_intercept))
            summary = _constant_columns_out(summary, bool(self.fit_intercept))
            d = summary.gram.shape[0]
            alpha = float(self.alpha)
            coef = _ridge_cholesky(summary.gram, summary.xty, alpha) if alpha > 0 else None
            if coef is None:  # alpha = 0, or too small to resolve a dependency of the columns
                rank = _analyse(summary, bool(self.fit_intercept))
                if rank.deficient:
                    _warn_collinear(self, rank, d, alpha)
                    coef = _min_norm_normal(summary, rank, alpha)
                else:
                    coef = _cholesky_solve(summary.gram + alpha * np.eye(d), summary.xty)
            self._set_solution(coef, summary)
            self.n_iter_ = 1
            objective = summary.n_samples * self._training_mse(data, tuple(fitted), summary, coef) \
                + alpha * float(np.sum(coef * coef))
            self.loss_curve_ = np.array([objective])
            return self

