"""``LogisticRegression``: L2-penalized log-loss, binary or softmax, by damped Newton,
L-BFGS (gradients from wonderland's autodiff) or gradient descent (``wl.optim``)."""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import numpy as np
import scipy.linalg
import scipy.optimize
from scipy.special import expit, logsumexp, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .. import optim
from ..autodiff import value_and_grad
from ..primitives.elementwise import softplus
from ..primitives.reductions import log_softmax
from ..primitives.shape import reshape
from .base import (
    CollinearityWarning,
    LinearEstimatorMixin,
    NonFiniteError,
    TooLargeError,
    all_or_nothing,
    check_bool,
    check_choice,
    check_finite_from_sums,
    check_number,
    checked_weights,
    classification_data,
    is_dask,
    locate_non_finite,
    refuse_dask_weights,
    too_large,
)
from .blocks import (
    GramSummary,
    LogisticTerms,
    column_means,
    column_scales,
    gram_summary,
    logistic_loss,
    logistic_terms,
    serial_blas,
)
from .least_squares import _CONSTANT_RTOL, _analyse, _describe_collinear, complement_basis

__all__ = ["LogisticRegression"]

# "auto" uses damped Newton up to this many parameters ((d + 1) for two classes,
# k (d + 1) for k), L-BFGS beyond: one Newton step costs a pass of n p² flops.
NEWTON_MAX_PARAMS = 500
_ARMIJO = 1e-4
# Passes over row blocks run BLAS on one thread (each block's products are small and
# memory-bound), but for Hessians above this many multiply-adds (n p²)
_THREADED_HESSIAN_FLOPS = 1e8


class LogisticRegression(LinearEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Logistic regression: minimize ``mean log-loss + alpha/2 ‖w‖²``.

    Two classes use one weight vector (the logistic model), more classes the softmax
    model with one weight vector per class. The intercept is not penalized. The scaling
    is scikit-learn's with ``C = 1 / (alpha n)``.

    Parameters
    ----------
    alpha : float, default=0.0
        L2 penalty weight. With ``alpha=0`` and classes that a hyperplane separates the
        log-loss has no minimizer: the fit stops as soon as every training sample is
        classified correctly, with a ``ConvergenceWarning``. With ``alpha=0`` and
        collinear columns (duplicated, or linearly dependent: read from the Gram matrix
        by ``LinearRegression``'s rule) the coefficients along the dependency are not
        unique: a ``CollinearityWarning`` names the columns (every solver, Dask input
        too) and the minimum-norm coefficients are returned (copies share the weight
        evenly); a constant column gets coefficient 0, without a warning (under an
        intercept with any ``alpha``: its centred values are 0).
    fit_intercept : bool, default=True
        Fit an (unpenalized) intercept. A bool: anything else (``"False"``, ``None``) is
        an ``InvalidParameterError``.
    solver : {"auto", "newton", "lbfgs", "gd"}, default="auto"
        ``"newton"``: damped Newton (Armijo backtracking) with the closed-form gradient
        and Hessian ``X̃ᵀ diag(p(1 - p)) X̃`` (softmax: its block form), summed over row
        blocks of ``X`` in one pass per step; affine invariant, so raw unscaled features
        converge in a handful of steps. On many rows (``n >= 320 p`` for ``p``
        parameters) Newton first solves the problem on a row sample (every 8th row or
        sparser, at most ``max(20000, 200 p)`` rows, copied; skipped when it holds fewer
        than ``10 (d + 1)`` rows of some class, or its solve does not converge; rare
        classes thus cost exact Newton steps on all rows), then continues on all
        rows from that optimum with the Hessian taken on the sample (exact again if
        progress slows or a line search fails): each of those steps costs one pass over
        ``X`` for loss and gradient.
        ``"lbfgs"``: ``scipy.optimize.minimize(method="L-BFGS-B")`` on value and gradient
        from wonderland's autodiff, in standardized coordinates. ``"gd"``:
        ``wl.optim.minimize`` (plain gradient descent with step ``1/L``) on the same
        autodiff objective. ``"auto"``: ``"newton"`` when the model
        has at most 500 parameters, ``(d + 1)`` for two classes and ``k (d + 1)`` for
        ``k`` classes, else ``"lbfgs"``.
    max_iter : int, default=100
        Newton steps, L-BFGS iterations or descent steps. Reaching it gives a
        ``ConvergenceWarning``.
    tol : float, default=1e-6
        Newton stops when half the Newton decrement ``gᵀH⁻¹g / 2`` (which estimates the
        gap to the optimum) is at most ``tol`` times the objective, then takes that last
        step; L-BFGS when the largest gradient entry (in standardized coordinates) is at
        most ``tol``, with a ``ConvergenceWarning`` if it stops short of that; descent
        when the gradient norm is below ``tol`` times its initial norm.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : int
        Iterations (Newton steps on all rows, after the row-sample warm start if any).
    loss_curve_ : ndarray
        The objective after each iteration.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` was a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from wonderland.linear import LogisticRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> model = LogisticRegression(alpha=0.1).fit(X, ["no", "no", "yes", "yes"])
    >>> model.predict([[0.5], [2.5]]).tolist()
    ['no', 'yes']
    >>> np.round(model.predict_proba([[1.5]]), 6).tolist()
    [[0.5, 0.5]]
    """

    _solvers = ("auto", "newton", "lbfgs", "gd")

    def __init__(self, alpha: float = 0.0, fit_intercept: bool = True, solver: str = "auto",
                 max_iter: int = 100, tol: float = 1e-6) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol

    # ------------------------------------------------------------------ fit

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LogisticRegression:
        """Fit the coefficients. ``X`` is never written (nor copied, but for Newton's row
        sample on many rows). ``sample_weight`` weights each row's log-loss (a weight of 2
        counts a row twice; the loss is then divided by the sum of the weights)."""
        with all_or_nothing(self):  # a failed fit keeps the previous one
            name = type(self).__name__
            check_number(name, "alpha", self.alpha, low=0.0)
            check_bool(name, "fit_intercept", self.fit_intercept)
            check_choice(name, "solver", self.solver, self._solvers)
            check_number(name, "max_iter", self.max_iter, low=1, integer=True)
            check_number(name, "tol", self.tol, low=0.0)
            if is_dask(X):
                refuse_dask_weights(self, sample_weight)
                return self._fit_dask(X, y)
            X, y = classification_data(self, X, y)
            weight = checked_weights(self, sample_weight, X)
            check_classification_targets(y)
            classes = np.unique(y)
            if classes.size < 2:
                raise ValueError(f"{name} needs samples of at least 2 classes in the data, but "
                                 f"the data contain only one class: {classes.tolist()[0]!r}")
            self.classes_ = classes
            n, d = X.shape
            fit_intercept = bool(self.fit_intercept)
            k = classes.size
            K = 1 if k == 2 else k
            Y = (y == classes[1]).astype(np.float64)[:, None] if K == 1 \
                else np.eye(k)[np.searchsorted(classes, y)]
            n_params = (d + fit_intercept) * K
            solver = self.solver
            if solver == "auto":
                solver = "newton" if n_params <= NEWTON_MAX_PARAMS else "lbfgs"
            problem = _Problem(X, Y, np.zeros(d), float(self.alpha), fit_intercept, weight)
            with self._naming_columns():  # NaN and inf are caught in the solvers' first pass
                # (or in the Gram matrix's: the same error)
                rank = _column_rank(problem) if problem.alpha == 0 else None
                problem.restrict(rank, None if problem.summary is None else problem.summary.x_mean)
                if solver == "newton":
                    W, c, curve, n_iter, status, flat = _newton_fit(problem, self.max_iter,
                                                                    self.tol)
                else:
                    problem.mean = column_means(X, fit_intercept, weight)  # checks NaN, inf too
                    problem.scale = column_scales(X, problem.mean, weight)
                    flat = np.flatnonzero(problem.scale == 1.0)  # (1 for a constant column)
                    if solver == "lbfgs":
                        W, c, curve, n_iter, status = _lbfgs(problem, self.max_iter, self.tol)
                    else:
                        W, c, curve, n_iter, status = _descent(problem, self.max_iter, self.tol)
            self._warn_collinear(rank, d, stacklevel=3)
            W, c = problem.minimum_norm(W, c)
            if fit_intercept:
                W = _constant_rows_zeroed(X, W, flat)
            self._set_solution(problem, W, c, curve, n_iter, status, solver)
            return self

    def _fit_dask(self, X: Any, y: Any) -> LogisticRegression:
        """Damped Newton on Dask row blocks: each step's loss, gradient and Hessian are
        ``blocks.logistic_terms`` summed over the blocks (one pass over ``X`` per
        evaluation); no row sample."""
        from .dask_blocks import LogisticBlocks, dask_rows

        name = type(self).__name__
        if self.solver not in ("auto", "newton"):
            raise ValueError(f"{name}: solver={self.solver!r} needs X in memory; on Dask "
                             f"input use solver='newton' (or 'auto')")
        if y is None:
            raise ValueError(f"{name} requires y to be passed, but the target y is None")
        fit_intercept = bool(self.fit_intercept)
        blocks = LogisticBlocks(dask_rows(self, X, y, reset=True), fit_intercept)
        classes = blocks.classes
        check_classification_targets(classes)
        if classes.size < 2:
            raise ValueError(f"{name} needs samples of at least 2 classes in the data, but "
                             f"the data contain only one class: {classes.tolist()[0]!r}")
        self.classes_ = classes
        problem = _DaskProblem(blocks, float(self.alpha), fit_intercept)
        # (from the first pass's Gram matrix: no pass of its own)
        rank = _dask_column_rank(blocks, fit_intercept) if problem.alpha == 0 else None
        problem.restrict(rank, blocks._first.x_mean if fit_intercept else None)
        with self._naming_columns():  # a Hessian that overflows names its column
            theta, curve, n_iter, status, _ = _newton(problem, self.max_iter, self.tol)
        W, c = problem.minimum_norm(*problem.unpack(theta))
        if fit_intercept:  # constant columns by the first pass's Gram matrix: exactly 0
            first = blocks._first
            W[_constant(np.diag(first.gram), first.n * first.x_mean**2)] = 0.0
        self._warn_collinear(rank, problem.d, stacklevel=4)
        self._set_solution(problem, W.copy(), np.array(c, dtype=np.float64), curve, n_iter,
                           status, "newton", stacklevel=5)  # (one frame deeper than fit's)
        return self

    def _warn_collinear(self, rank: Any, d: int, stacklevel: int) -> None:
        """The ``CollinearityWarning`` of an unpenalized fit whose columns are linearly
        dependent (``rank`` from ``least_squares._analyse``; None: not checked). Constant
        columns (all-zero ones without intercept) are left out: their coefficients are 0,
        the one answer that does not trade with the intercept, as they always were."""
        if rank is None or not rank.dependent:
            return
        described = _describe_collinear(self, replace(rank, constant=[]), d)
        warnings.warn(
            f"{type(self).__name__}: {described}. With alpha=0 the log-loss does not "
            f"determine the coefficients along the dependency (any split of the weight "
            f"between those columns fits equally well): returning the minimum-norm "
            f"coefficients (duplicated columns share the weight evenly; the predictions "
            f"are those of any split). Set a small alpha > 0 (e.g. alpha=1e-6) for the "
            f"penalized solution, or drop one of the dependent columns.",
            CollinearityWarning, stacklevel=stacklevel)

    def _set_solution(self, problem: _Problem, W: np.ndarray, c: np.ndarray, curve: Any,
                      n_iter: int, status: str, solver: str, stacklevel: int = 4) -> None:
        """The fitted attributes, and the ``ConvergenceWarning`` for ``status``; its
        ``stacklevel`` (counted from ``_warn``) points at the line that called ``fit``
        when ``fit`` calls this method."""
        K = problem.K
        fit_intercept = problem.fit_intercept
        mean = problem.mean
        if K > 1:  # the softmax is unchanged by a shift common to all classes: centre
            c = c - c.mean()
            if problem.alpha == 0:
                W = W - W.mean(axis=1, keepdims=True)
        self.coef_ = np.ascontiguousarray(W.T)
        self.intercept_ = c - mean @ W if fit_intercept else np.zeros(K)
        self.n_iter_ = int(n_iter)
        self.loss_curve_ = np.asarray(curve, dtype=np.float64)
        self._warn(status, solver, stacklevel)

    def _warn(self, status: str, solver: str, stacklevel: int) -> None:
        name = type(self).__name__
        if status == "separable":
            warnings.warn(
                f"{name}: alpha=0 and the training classes are linearly separable, so the "
                f"log-loss has no minimizer (the coefficients would grow without bound); "
                f"stopped after {self.n_iter_} iterations with every sample classified "
                f"correctly. Set alpha > 0 for a unique solution.",
                ConvergenceWarning, stacklevel=stacklevel)
        elif status == "max_iter":
            warnings.warn(f"{name}: solver {solver!r} reached max_iter={self.max_iter} before "
                          f"converging (tol={self.tol}); increase max_iter",
                          ConvergenceWarning, stacklevel=stacklevel)
        elif status == "stalled":
            warnings.warn(f"{name}: solver {solver!r} stopped: the line search could not "
                          f"decrease the objective further before reaching tol={self.tol}",
                          ConvergenceWarning, stacklevel=stacklevel)

    # ------------------------------------------------------------------ predict

    def decision_function(self, X: Any) -> np.ndarray:
        """Scores ``X @ coef_.T + intercept_``: shape ``(n,)`` for two classes (positive
        means ``classes_[1]``), ``(n, n_classes)`` for more. A lazy Dask array for Dask
        input (as are ``predict``, ``predict_proba`` and ``predict_log_proba``)."""
        return self._dask_or_numpy(X, self._scores)

    def predict(self, X: Any) -> np.ndarray:
        """The class of the highest score."""
        return self._dask_or_numpy(X, self._predict)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        return self._dask_or_numpy(X, self._proba)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of ``predict_proba``, computed stably."""
        return self._dask_or_numpy(X, self._log_proba)

    def _dask_or_numpy(self, X: Any, fn: Any) -> Any:
        """``fn`` on validated NumPy ``X``, or lazily on each row block of Dask ``X``."""
        if not is_dask(X):
            return fn(self._validate_X(X))
        from .dask_blocks import map_rows

        check_is_fitted(self)
        k = self.classes_.size
        if fn == self._predict:
            return map_rows(self, X, fn, None, self.classes_.dtype)
        if fn == self._scores:
            return map_rows(self, X, fn, None if k == 2 else k, np.float64)
        return map_rows(self, X, fn, k, np.float64)

    def _scores(self, X: np.ndarray) -> np.ndarray:
        scores = X @ self.coef_.T + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def _predict(self, X: np.ndarray) -> np.ndarray:
        scores = self._scores(X)
        index = (scores > 0).astype(int) if scores.ndim == 1 else np.argmax(scores, axis=1)
        return self.classes_[index]

    def _proba(self, X: np.ndarray) -> np.ndarray:
        scores = self._scores(X)
        if scores.ndim == 1:
            p = expit(scores)
            return np.column_stack([1.0 - p, p])
        return softmax(scores, axis=1)

    def _log_proba(self, X: np.ndarray) -> np.ndarray:
        scores = self._scores(X)
        if scores.ndim == 1:
            return np.column_stack([-np.logaddexp(0.0, scores), -np.logaddexp(0.0, -scores)])
        return scores - logsumexp(scores, axis=1, keepdims=True)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


class _Problem:
    """The data and constants of one fit: ``X`` (never modified), the targets ``Y``
    (one 0/1 column for two classes, one-hot for more), the centring ``mean``, the
    penalty, and (for the first-order solvers) the column ``scale``."""

    summary: GramSummary | None = None  # the rows' Gram statistics, once computed
    # alpha = 0 and columns linearly dependent (or constant): an orthonormal basis of
    # their null space (d, m) and of the parameters' directions orthogonal to it, to
    # which Newton keeps its steps; the data's column means (where X̃ null = 0)
    null: np.ndarray | None = None
    free: np.ndarray | None = None
    null_mean: np.ndarray | None = None

    def __init__(self, X: np.ndarray, Y: np.ndarray, mean: np.ndarray, alpha: float,
                 fit_intercept: bool, weight: np.ndarray | None = None) -> None:
        self.X, self.Y, self.mean, self.alpha = X, Y, mean, alpha
        self.fit_intercept = fit_intercept
        self.n, self.d = X.shape
        self.K = Y.shape[1]
        self.scale = np.ones(self.d)
        self.weight = weight  # rows' weights (None: all 1); the loss is divided by total
        self.total = float(weight.sum()) if weight is not None else float(self.n)

    def start(self) -> tuple[np.ndarray, np.ndarray]:
        """``W = 0`` and the intercept of the class frequencies."""
        W = np.zeros((self.d, self.K))
        c = np.zeros(self.K)
        if self.fit_intercept:
            freq = np.clip(self.class_freq(), 1e-12, 1.0 - 1e-12)
            c = np.log(freq / (1.0 - freq)) if self.K == 1 else np.log(freq) - np.log(freq).mean()
        return W, c

    def objective_terms(self, W: np.ndarray, c: np.ndarray, hessian: bool) -> tuple:
        """Objective, gradient and Hessian (flattened parameters: ``W`` in C order, then
        the intercepts when fitted), and whether every sample is classified correctly."""
        t = self.sums(W, c, hessian)
        d, K, n = self.d, self.K, self.total
        if hessian and not np.all(np.isfinite(np.diag(t.hess)[: d * K])):
            # p(1-p) <= 1/4: only squares of X that overflow make the diagonal infinite,
            # and Newton then stalled at W = 0 with a ConvergenceWarning that said nothing
            # of it. The diagonal holds column j, class k at j K + k: its columns
            raise too_large(np.diag(t.hess)[: d * K].reshape(d, K).T, d, None, self.X)
        f = t.loss / n + 0.5 * self.alpha * float(np.sum(W * W))
        if not (np.isfinite(f) and np.all(np.isfinite(t.grad))):
            self.check_finite()
            f = np.inf  # an overflowing trial point: the line search rejects it
        grad = t.grad / n
        grad[:d] += self.alpha * W
        g = grad.ravel() if self.fit_intercept else grad[:d].ravel()
        H = None
        if hessian:
            H = t.hess / n
            idx = np.arange(d * K)
            H[idx, idx] += self.alpha
            if not self.fit_intercept:
                H = H[: d * K, : d * K]
        return f, g, H, t.separated

    # the data interface (``_DaskProblem`` overrides these four)

    def class_freq(self) -> np.ndarray:
        """The mean of ``Y``: each class's share of the rows (of their weight)."""
        if self.weight is None:
            return self.Y.mean(axis=0)
        return (self.weight @ self.Y) / self.total

    def sums(self, W: np.ndarray, c: np.ndarray, hessian: bool) -> LogisticTerms:
        """``blocks.logistic_terms`` at ``(W, c)``."""
        p = self.K * (self.d + 1)
        if not hessian or self.n * p * p < _THREADED_HESSIAN_FLOPS:
            with serial_blas():  # memory-bound products over row blocks
                return logistic_terms(self.X, self.Y, W, c, self.mean, hessian,
                                      separation=self.alpha == 0, weight=self.weight)
        return logistic_terms(self.X, self.Y, W, c, self.mean, hessian,
                              separation=self.alpha == 0, weight=self.weight)

    def loss_sum(self, W: np.ndarray, c: np.ndarray) -> float:
        """``blocks.logistic_loss`` at ``(W, c)``."""
        with serial_blas():
            return logistic_loss(self.X, self.Y, W, c, self.mean, self.weight)

    def check_finite(self) -> None:
        """Raise ``NonFiniteError`` (row and column) if ``X`` has a NaN or an infinity."""
        locate_non_finite(self.X)

    def objective(self, W: np.ndarray, c: np.ndarray) -> float:
        loss = self.loss_sum(W, c)
        f = loss / self.total + 0.5 * self.alpha * float(np.sum(W * W))
        return f if np.isfinite(f) else np.inf

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d, K = self.d, self.K
        W = theta[: d * K].reshape(d, K)
        c = theta[d * K:] if self.fit_intercept else np.zeros(K)
        return W, c

    def restrict(self, rank: Any, x_mean: np.ndarray | None = None) -> None:
        """With ``rank`` (``least_squares._analyse`` of the columns, alpha = 0) deficient:
        keep the weights orthogonal to the null space of the (centred) columns, along
        which the objective is flat. Damped Newton stalled there: a constant column's
        centred Hessian diagonal is rounding (1e-33), its Jacobi scaling turned that into
        steps of 1e16, and the fit stopped at W = 0 ("the line search could not decrease
        the objective") or returned a coefficient of 3e16. ``x_mean``: the column means
        of the rows the null space is of (zeros without intercept)."""
        if rank is None or not rank.deficient:
            return
        K = self.K
        self.null, self.null_mean = rank.null, x_mean
        Q = complement_basis(rank.null)
        free = np.kron(Q, np.eye(K))  # W in C order: (feature, class)
        if self.fit_intercept:
            free = scipy.linalg.block_diag(free, np.eye(K))
        self.free = free

    def minimum_norm(self, W: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``W`` less its part ``δ`` in the null space of the columns (the minimum-norm
        weights: the solvers' own choice along it was rounding, or their coordinates'),
        and ``c`` moved by ``(x̄ - mean)·δ`` so that the scores stay the same."""
        if self.null is None:
            return W, c
        delta = self.null @ (self.null.T @ W)
        if self.null_mean is not None:
            c = c + (self.null_mean - self.mean) @ delta
        return W - delta, c

    def null_projection(self, v: np.ndarray) -> np.ndarray:
        """Remove from a parameter vector the directions the objective is flat in: those
        of the null space of the columns (``restrict``), and for softmax a shift of the
        intercepts common to all classes (and of each feature's weights when
        ``alpha = 0``)."""
        if self.free is not None:
            v = self.free @ (self.free.T @ v)
        if self.K == 1:
            return v
        d, K = self.d, self.K
        M = v.reshape(-1, K).copy()
        if self.alpha == 0:
            M -= M.mean(axis=1, keepdims=True)
        elif self.fit_intercept:
            M[d] -= M[d].mean()
        return M.ravel()


class _DaskProblem(_Problem):
    """The same problem with ``X`` in Dask row blocks: the sums come from
    ``dask_blocks.LogisticBlocks`` (``blocks.logistic_terms`` per block, added in a
    tree), which has also checked every block for NaN and infinity."""

    def __init__(self, blocks: Any, alpha: float, fit_intercept: bool) -> None:
        self.blocks = blocks
        self.X = self.Y = None
        self.mean, self.alpha, self.fit_intercept = blocks.mean, alpha, fit_intercept
        self.n, self.d = blocks.n, blocks.rows.n_features
        self.K = 1 if blocks.classes.size == 2 else blocks.classes.size
        self.scale = np.ones(self.d)
        self.weight, self.total = None, float(self.n)

    def class_freq(self) -> np.ndarray:
        freq = self.blocks.class_freq
        return freq[1:] if self.K == 1 else freq

    def sums(self, W: np.ndarray, c: np.ndarray, hessian: bool) -> LogisticTerms:
        return self.blocks.terms(W, c, self.mean, hessian, separation=self.alpha == 0)

    def loss_sum(self, W: np.ndarray, c: np.ndarray) -> float:
        return self.blocks.loss(W, c, self.mean)

    def check_finite(self) -> None:
        pass  # every block was checked by the first pass


def _newton_direction(H: np.ndarray, g: np.ndarray,
                      free: np.ndarray | None = None) -> np.ndarray:
    """``-H⁻¹g`` by Cholesky on the Jacobi-scaled Hessian (unit diagonal), with a tiny
    ridge for directions that are flat; an eigen-decomposition pseudo-inverse if that
    fails. With ``free`` (an orthonormal basis, as columns) the step within its span."""
    if free is not None:
        if free.shape[1] == 0:
            return np.zeros_like(g)
        return free @ _newton_direction(free.T @ H @ free, free.T @ g)
    diag = np.diag(H)
    root = np.sqrt(np.where(diag > 0, diag, 1.0))
    Hs = H / np.outer(root, root)
    gs = g / root
    try:
        factor = scipy.linalg.cho_factor(Hs + 1e-12 * np.eye(len(g)), check_finite=False)
        step = scipy.linalg.cho_solve(factor, -gs, check_finite=False)
    except np.linalg.LinAlgError:
        lam, V = np.linalg.eigh(0.5 * (Hs + Hs.T))
        keep = lam > 1e-12 * max(lam[-1], np.finfo(float).tiny)
        step = -(V[:, keep] @ ((V[:, keep].T @ gs) / lam[keep]))
    return step / root


def _newton(problem: _Problem, max_iter: int, tol: float, theta: np.ndarray | None = None,
            hessian: np.ndarray | None = None) -> tuple:
    """Damped Newton from ``theta`` (default: ``problem.start()``), Armijo backtracking.

    With ``hessian`` (the Hessian of the same problem on a row sample, near ``theta``)
    each step costs one pass over the rows, for the loss and gradient only: the step is
    Newton's with that fixed Hessian, which converges linearly at a rate set by how well
    the sample represents the rows. As soon as a step reduces the Newton decrement by
    less than a factor 2, or its direction is not one of descent, or its line search
    fails, the exact Hessian is computed at every point from then on.
    Returns ``(theta, curve, n_iter, status, H)`` with ``H`` the last Hessian used.
    """
    if theta is None:
        W, c = problem.start()
        theta = np.concatenate([W.ravel(), c]) if problem.fit_intercept else W.ravel()
    exact = hessian is None

    def evaluate(theta: np.ndarray) -> tuple:
        W, c = problem.unpack(theta)
        if exact:
            return problem.objective_terms(W, c, hessian=True)
        f, g, _, separated = problem.objective_terms(W, c, hessian=False)
        return f, g, hessian, separated

    f, g, H, separated = evaluate(theta)
    if not exact and not f <= _start_objective(problem):
        # a row sample's optimum worse on all rows than the cold start: a column near 0 on
        # the sampled rows only leaves its weight free there (a coefficient of 2e9 where
        # the rows' is 3.6, and no step could come back): start cold, exact Hessian
        exact = True
        W, c = problem.start()
        theta = np.concatenate([W.ravel(), c]) if problem.fit_intercept else W.ravel()
        f, g, H, separated = evaluate(theta)
    curve: list[float] = []
    status = "max_iter"
    n_iter = 0
    previous = np.inf
    while True:
        if problem.alpha == 0 and separated:
            status = "separable"
            break
        g = problem.null_projection(g)
        step = problem.null_projection(_newton_direction(H, g, problem.free))
        decrement = -float(g @ step)
        if not decrement > 0 or not np.isfinite(decrement):
            if not exact:  # the approximate Hessian failed: the exact one before giving up
                exact = True
                f, g, H, separated = evaluate(theta)
                continue
            status = "converged" if np.max(np.abs(g)) <= max(tol, 1e-12) else "stalled"
            break
        if not exact and decrement > 0.5 * previous:
            exact = True  # the sample's Hessian has stopped paying: exact from the next point
        prior, previous = previous, decrement
        near = 0.5 * decrement <= tol * abs(f)
        if n_iter >= max_iter:
            status = "converged" if near else "max_iter"
            break
        if near:
            # near the optimum: the full Newton step, checked on the loss alone
            f_new = problem.objective(*problem.unpack(theta + step))
            if f_new <= f:
                theta, f = theta + step, f_new
                n_iter += 1
                curve.append(f)
            status = "converged"
            break
        t = 1.0
        for _ in range(50):
            trial = theta + t * step
            f_new, g_new, H_new, sep_new = evaluate(trial)
            if f_new <= f - _ARMIJO * t * decrement:
                break
            t *= 0.5
        else:
            if not exact:  # the approximate Hessian's step is wrong (a sample's Hessian far
                exact = True  # from the rows'): retry from here with the exact one
                f, g, H, separated = evaluate(theta)
                continue
            status = "stalled" if 0.5 * decrement > 1e3 * np.finfo(float).eps * abs(f) \
                else "converged"
            break
        if np.array_equal(trial, theta) or (f_new >= f and decrement > 0.5 * prior):
            # a step below θ's rounding, or one that leaves f as it was with a decrement no
            # smaller than the last (quadratic convergence is over: what is left is
            # rounding, and θ wandered by ulps to max_iter with tol=0)
            status = "converged"
            break
        theta, f, g, H, separated = trial, f_new, g_new, H_new, sep_new
        n_iter += 1
        curve.append(f)
    if not curve:
        curve.append(f)
    return theta, curve, n_iter, status, H


# Newton on many rows starts from the optimum of a row sample: every STRIDE-th row,
# recursively (a sample of the sample, ...) while a sample keeps at least
# MIN_SAMPLE_PER_PARAM rows per parameter. The sample's optimum is within sampling
# error of the full one and its Hessian within about sqrt(p / rows): the steps far
# from the optimum, where Newton needs most of its iterations, cost a fraction of a
# pass over X each, and the steps on all rows a pass for the gradient only.
_STRIDE = 8
_MIN_SAMPLE_PER_PARAM = 40
_SAMPLE_TOL = 1e-4  # a sample's problem is solved to this (its optimum is only an estimate)
_MIN_SAMPLE_PER_CLASS_PARAM = 10  # rows of each class, per coefficient of a class


def _row_sample(problem: _Problem) -> _Problem | None:
    """Every ``_STRIDE``-th row of ``problem`` as a problem of its own, or None when those
    rows hold fewer than ``_MIN_SAMPLE_PER_CLASS_PARAM (d + 1)`` rows (of positive
    weight) of some class. A class's rows carry the curvature along its coefficients:
    with too few of them the sample's optimum and Hessian are no estimate of the full
    problem's (with none, the sample's optimum sends that class's intercept towards
    -inf, where its Hessian is near zero; with all weights 0 there is no problem)."""
    weight = None if problem.weight is None else problem.weight[::_STRIDE]
    Y = problem.Y[::_STRIDE]
    held = np.ones(len(Y), dtype=bool) if weight is None else weight > 0
    counts = held @ Y  # rows of each class (K = 1: of the second)
    if problem.K == 1:
        counts = np.array([np.count_nonzero(held) - counts[0], counts[0]])
    if np.min(counts) < _MIN_SAMPLE_PER_CLASS_PARAM * (problem.d + 1):
        return None
    sample = _Problem(np.ascontiguousarray(problem.X[::_STRIDE]), Y, problem.mean,
                      problem.alpha, problem.fit_intercept, weight)
    # a dependency of all the rows holds on the sample's too: the same null space
    sample.null, sample.free = problem.null, problem.free
    return sample


def _solve_levels(problem: _Problem, max_iter: int, tol: float, need_hessian: bool) -> tuple:
    """Newton on ``problem``, warm-started from its row sample when the sample is large
    enough, has enough rows of every class (``_row_sample``) and its solve converged.
    Returns ``(theta, curve, n_iter, status, H)``; ``H`` is an accurate Hessian at the
    result when ``need_hessian`` (for the level above)."""
    p = problem.K * (problem.d + 1)
    theta = hessian = None
    sample = _row_sample(problem) if problem.n // _STRIDE >= _MIN_SAMPLE_PER_PARAM * p \
        else None
    if sample is not None:
        try:
            start, _, _, sample_status, sample_hessian = _solve_levels(sample, max_iter,
                                                                       _SAMPLE_TOL, True)
        except TooLargeError:  # all rows' pass names the row of X (not of the sample)
            sample_status = "too large"
        if sample_status == "converged":  # (a separable or stalled sample: no estimate)
            theta, hessian = start, sample_hessian
    theta, curve, n_iter, status, H = _newton(problem, max_iter, tol, theta, hessian)
    if need_hessian and H is hessian and hessian is not None:
        H = problem.objective_terms(*problem.unpack(theta), hessian=True)[2]
    return theta, curve, n_iter, status, H


def _start_objective(problem: _Problem) -> float:
    """The objective at ``problem.start()`` (``W = 0``) from the class frequencies alone:
    every row's score is the intercept, so its loss is the cross-entropy of the classes
    against the intercept's probabilities (no pass over ``X``)."""
    c = problem.start()[1]
    freq = problem.class_freq()
    if problem.K == 1:
        return float(freq[0] * np.logaddexp(0.0, -c[0]) +
                     (1.0 - freq[0]) * np.logaddexp(0.0, c[0]))
    return float(-freq @ (c - logsumexp(c)))


def _newton_fit(problem: _Problem, max_iter: int, tol: float) -> tuple:
    """Damped Newton, on many rows through row samples (``_solve_levels``). Sets
    ``problem.mean`` (the centring: the first sample's column means, else all rows')."""
    p = problem.K * (problem.d + 1)
    weight = problem.weight
    sample_weight = None if weight is None else weight[::_STRIDE]
    if problem.n // _STRIDE >= _MIN_SAMPLE_PER_PARAM * p and \
            (sample_weight is None or sample_weight.sum() > 0):
        sample = problem.X[::_STRIDE]
        sums = sample.sum(axis=0) if weight is None else sample_weight @ sample
        check_finite_from_sums(problem.X, sums)  # the rest is checked by the first pass
        if problem.fit_intercept:
            problem.mean = sums / (len(sample) if weight is None else sample_weight.sum())
    else:
        problem.mean = column_means(problem.X, problem.fit_intercept, weight)
    theta, curve, n_iter, status, H = _solve_levels(problem, max_iter, tol, False)
    W, c = problem.unpack(theta)
    return W.copy(), np.array(c, dtype=np.float64), curve, n_iter, status, \
        _flat_columns(H, problem)


def _flat_columns(H: np.ndarray | None, problem: _Problem) -> np.ndarray:
    """The columns whose centred curvature (their diagonal of the Hessian ``H``, less the
    penalty) is rounding beside the curvature their mean alone would give: constant
    columns, by the Gram matrix's rule (``_constant_rows_zeroed`` confirms them)."""
    d, K = problem.d, problem.K
    if H is None or not problem.fit_intercept or not H[d * K, d * K] > 0:
        return np.zeros(0, dtype=int)
    return np.flatnonzero(_constant(np.diag(H)[: d * K: K] - problem.alpha,
                                    H[d * K, d * K] * problem.mean**2))


def _constant(centred: np.ndarray, from_mean: np.ndarray) -> np.ndarray:
    """The columns whose centred sum of squares (or curvature) ``centred`` is rounding
    beside the uncentred one, ``centred + from_mean``: ``LinearRegression``'s rule."""
    return centred <= _CONSTANT_RTOL * (centred + from_mean)


def _constant_rows_zeroed(X: np.ndarray, W: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """``W`` with the rows of the ``candidates`` that are constant columns of ``X`` set to
    0, their exact value under an intercept (the centred column is 0; with ``alpha > 0``
    the solvers left them at rounding over alpha: the gradient ``Xᵀr - x̄ Σr`` cancels,
    and a column of 1e6 moved the intercept by 1e-4). One pass over each candidate."""
    constant = [j for j in candidates if X[:, j].min() == X[:, j].max()]
    if constant:
        W = W.copy()
        W[constant] = 0.0
    return W


def _autodiff_objective(problem: _Problem):
    """The objective of θ (standardized coordinates ``v = s w``, centred intercept) as a
    function of wonderland tensors, for ``wl.value_and_grad``."""
    X, Y, mean, scale, alpha = problem.X, problem.Y, problem.mean, problem.scale, problem.alpha
    d, K = problem.d, problem.K
    fit_intercept = problem.fit_intercept
    share = None if problem.weight is None else problem.weight / problem.total

    def average(losses: Any) -> Any:  # the rows' mean, or their weighted mean
        return losses.mean() if share is None else (losses * share).sum()

    # each row's loss without cancellation: softplus of the signed score (binary), minus
    # the log-softmax of the true class (multinomial), as in blocks.softplus_and_sigmoid
    if K == 1:
        sign = 1.0 - 2.0 * Y[:, 0]

        def objective(theta: Any) -> Any:
            w = theta[:d] / scale
            z = X @ w
            if fit_intercept:
                z = z + (theta[d] - (mean * w).sum())
            return average(softplus(sign * z)) + 0.5 * alpha * (w * w).sum()
    else:
        def objective(theta: Any) -> Any:
            W = reshape(theta[: d * K], (d, K)) / scale[:, None]
            Z = X @ W
            if fit_intercept:
                Z = Z + (theta[d * K:] - (mean[:, None] * W).sum(axis=0))
            return -average((log_softmax(Z, dim=1) * Y).sum(axis=1)) \
                + 0.5 * alpha * (W * W).sum()
    return objective


def _from_standardized(problem: _Problem, theta: np.ndarray) -> tuple:
    d, K = problem.d, problem.K
    W = theta[: d * K].reshape(d, K) / problem.scale[:, None]
    c = theta[d * K:].copy() if problem.fit_intercept else np.zeros(K)
    return W, c


def _lbfgs(problem: _Problem, max_iter: int, tol: float) -> tuple:
    vg = value_and_grad(_autodiff_objective(problem))

    def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
        f, g = vg(theta)
        return float(f.item()), np.asarray(g, dtype=np.float64)

    W0, c0 = problem.start()
    theta0 = np.concatenate([W0.ravel(), c0]) if problem.fit_intercept else W0.ravel()
    curve: list[float] = []
    # ftol=0: only the gradient test (gtol=tol) ends a run as converged; the test on the
    # relative decrease of f would stop runs short of tol (and call them converged)
    res = scipy.optimize.minimize(
        fun, theta0, jac=True, method="L-BFGS-B",
        callback=lambda intermediate_result: curve.append(float(intermediate_result.fun)),
        options=dict(maxiter=max_iter, gtol=tol, ftol=0.0))
    W, c = _from_standardized(problem, res.x)
    if np.max(np.abs(res.jac), initial=0.0) <= tol:
        status = "converged"
    else:  # out of iterations, or the line search found no decrease (rounding)
        status = "max_iter" if res.status == 1 else "stalled"
    if problem.alpha == 0 and _separated(problem, W, c):
        status = "separable"
    if not curve:
        curve.append(float(res.fun))
    return W, c, curve, int(res.nit), status


def _descent(problem: _Problem, max_iter: int, tol: float) -> tuple:
    objective = _autodiff_objective(problem)
    X, scale = problem.X, problem.scale
    # Lipschitz constant of the gradient in standardized coordinates: the largest
    # eigenvalue of the standardized Gram matrix (the intercept's is 1) times 1/4
    # (binary) or 1/2 (softmax), plus the penalty's largest curvature
    summary = problem.summary if problem.summary is not None else \
        gram_summary(X, np.zeros(problem.n), problem.fit_intercept, problem.weight)
    C = summary.gram / np.outer(scale, scale) / problem.total
    top = max(float(np.linalg.eigvalsh(C)[-1]), 1.0 if problem.fit_intercept else 0.0)
    lipschitz = (0.25 if problem.K == 1 else 0.5) * top + problem.alpha * float(
        np.max(1.0 / scale**2))
    W0, c0 = problem.start()
    theta0 = np.concatenate([W0.ravel(), c0]) if problem.fit_intercept else W0.ravel()
    f0, g0 = value_and_grad(objective)(theta0)
    g0 = np.asarray(g0)
    if lipschitz == 0:  # X all zero, no intercept, no penalty: a constant objective, for
        W, c = _from_standardized(problem, theta0)  # which the start (p = 1/2) is optimal
        return W, c, [float(f0.item())], 0, "converged"
    # the floor: rounding error of a gradient whose entries are O(1) in standardized
    # coordinates; at a start already optimal (an intercept-only problem: the log-odds)
    # tol times the initial norm was below it, and descent ran to max_iter with a warning
    floor = 64.0 * np.finfo(float).eps * np.sqrt(theta0.size)
    res = optim.minimize(objective, theta0, method="gd", lr=1.0 / lipschitz,
                         max_iter=max_iter,
                         tol_grad=max(tol * float(np.linalg.norm(g0)), floor))
    if res.reason == "diverged":
        raise RuntimeError("LogisticRegression: gradient descent diverged")
    W, c = _from_standardized(problem, np.asarray(res.x))
    status = "max_iter" if res.reason == "max_iter" else "converged"
    if problem.alpha == 0 and _separated(problem, W, c):
        status = "separable"
    fun = np.asarray(res.trace.fun, dtype=np.float64)
    return W, c, (fun[1:] if fun.size > 1 else fun), int(res.n_iter), status


def _separated(problem: _Problem, W: np.ndarray, c: np.ndarray) -> bool:
    """Whether every training sample is classified correctly by ``(W, c)``."""
    Z = problem.X @ W + (c - problem.mean @ W)
    if problem.K == 1:
        right = (2.0 * problem.Y[:, 0] - 1.0) * Z[:, 0] > 0
    else:
        true = np.sum(Z * problem.Y, axis=1, keepdims=True)
        right = np.sum(Z >= true, axis=1) == 1
    return bool(np.all(right if problem.weight is None else right | (problem.weight == 0)))


# The check for collinear columns (alpha = 0) screens a row sample first: every
# _STRIDE-th row, recursively, while the sample keeps this many rows (and 200 per
# column). A dependency of all the rows holds on any subset of them, so a sample whose
# columns are far from dependent (the condition number of their correlation matrix at
# most _SCREEN_MAX_COND, 1e4 short of LinearRegression's 1e10) clears the data without
# the Gram matrix of all rows, a pass of n d² that could cost more than Newton's fit.
_SCREEN_MIN_ROWS = 20000
_SCREEN_MAX_COND = 1e6


def _column_rank(problem: _Problem) -> Any:
    """``least_squares._analyse`` of the columns of ``problem.X`` (centred with an
    intercept, rows weighted): the rule by which ``LinearRegression`` calls columns
    collinear. The Gram statistics of all rows, when computed, are kept in
    ``problem.summary``. None when their squares overflow (no Gram matrix to read; the
    solvers say so, or cope, as before)."""
    X, weight, fit_intercept = problem.X, problem.weight, problem.fit_intercept
    n, d = X.shape
    stride = 1
    while n // (stride * _STRIDE) >= max(_SCREEN_MIN_ROWS, 200 * (d + 1)):
        stride *= _STRIDE
    sample_weight = None if weight is None else weight[::stride]
    if stride > 1 and (sample_weight is None or sample_weight.sum() > 0):
        sample = np.ascontiguousarray(X[::stride])
        try:
            rank = _analyse(gram_summary(sample, np.zeros(len(sample)), fit_intercept,
                                         sample_weight), fit_intercept)
            if not rank.deficient and rank.cond <= _SCREEN_MAX_COND:
                return rank
        except (NonFiniteError, TooLargeError):
            pass  # all rows' pass below names the row of X (not of the sample)
    try:
        problem.summary = gram_summary(X, np.zeros(n), fit_intercept, weight)
    except TooLargeError:
        return None
    return _analyse(problem.summary, fit_intercept)


def _dask_column_rank(blocks: Any, fit_intercept: bool) -> Any:
    """``_column_rank`` from the centred Gram matrix and column means that the first pass
    over the Dask blocks computed (``dask_blocks.LogisticBlocks``)."""
    first = blocks._first
    gram, mean, n = first.gram, first.x_mean, float(first.n)
    if not fit_intercept:
        gram = gram + n * np.outer(mean, mean)  # XᵀX: the columns uncentred
    raw_diag = np.diag(gram) + (n * mean * mean if fit_intercept else 0.0)
    if not (np.all(np.isfinite(gram)) and np.all(np.isfinite(raw_diag))):
        return None
    summary = GramSummary(n, mean, 0.0, 0.5 * (gram + gram.T), np.zeros(mean.size), 0.0,
                          raw_diag)
    return _analyse(summary, fit_intercept)
