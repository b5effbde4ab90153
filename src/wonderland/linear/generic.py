"""``LinearModel``: any loss of ``wl.losses`` on a linear model, trained by ``wl.optim``
through wonderland's autodiff, full-batch or by minibatches."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import ClassifierTags, RegressorTags, check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from .. import losses, optim
from ..creation import tensor
from ..optim import schedules
from ..tensor import no_grad
from .base import (
    LinearEstimatorMixin,
    all_or_nothing,
    check_bool,
    check_choice,
    check_number,
    checked_weights,
    classification_data,
    is_dask,
    refuse_dask_weights,
)
from .blocks import column_means, column_scales, gram_summary, scaled_top

__all__ = ["LinearModel"]

REGRESSION_LOSSES = ("squared", "absolute", "huber")
CLASSIFICATION_LOSSES = ("hinge", "log")
OPTIMIZERS = {"gd": optim.GD, "momentum": optim.Momentum, "adam": optim.Adam}
# consecutive epochs without a relative improvement of ``tol`` that stop training
N_ITER_NO_CHANGE = 10


class LinearModel(LinearEstimatorMixin, BaseEstimator):
    """A linear model ``Xw + b`` trained on any loss of ``wl.losses``:
    minimize ``mean loss(Xw + b, y) + alpha/2 ‖w‖²`` by descent (``wl.optim``), the
    gradient from wonderland's autodiff.

    A regressor for ``loss="squared"``, ``"absolute"``, ``"huber"``; a binary classifier
    for ``"hinge"`` (labels mapped to -1/+1) and ``"log"`` (logistic: labels mapped to
    0/1, with ``predict_proba``), with any two labels. The estimator type follows
    ``loss`` (scikit-learn's tags), so one class serves both.

    Training runs in standardized coordinates (columns centred and scaled to unit
    spread, a reparametrization that leaves the objective unchanged), so the default
    step sizes work on raw features.

    Parameters
    ----------
    loss : {"squared", "absolute", "huber", "hinge", "log"}, default="squared"
    alpha : float, default=0.0
        L2 penalty on ``w`` (not on ``b``).
    optimizer : {"gd", "momentum", "adam"}, default="gd"
        ``wl.optim.GD``, ``wl.optim.Momentum`` (heavy ball, ``momentum=0.9``) or
        ``wl.optim.Adam``.
    lr : float, callable or None, default=None
        Step size or schedule ``t -> η_t``. ``None``: for the smooth losses ``1/L`` with
        ``L`` the largest curvature of the objective (with momentum ``3/L`` full batch,
        where the heavy ball contracts at the rate ``√0.9`` per step on every curvature
        down to ``L/1000``, and ``0.1/L`` on minibatches); for ``"absolute"`` and ``"hinge"`` the
        decreasing ``η_t = R / (G √t)`` of subgradient descent (``R`` the spread of
        ``y``, 1 for hinge; ``G`` the largest gradient norm); for Adam ``0.01 R``. With
        momentum on the Huber loss, whose curvature changes from place to place, ``0.18/L``
        (below ``2(1 - 0.9)/L``, where the heavy ball converges on any smooth convex
        objective).
    batch_size : int or None, default=None
        ``None``: full batch (one step per epoch). Else minibatches of this many rows,
        reshuffled every epoch with ``random_state``. With minibatches, with the
        non-smooth losses and when ``max_iter`` stops training the coefficients kept are
        those of the epoch with the lowest objective.
    max_iter : int, default=500
        Epochs (passes over the data). Reaching it gives a ``ConvergenceWarning``.
    tol : float, default=1e-6
        Full batch on a smooth loss (squared, huber, log): training stops when the
        gradient norm falls below ``tol`` times its initial norm. Otherwise (minibatches,
        or the absolute and hinge losses): when the objective over all rows has not
        improved by more than ``tol`` (relative) for 10 consecutive epochs (50 for the
        heavy ball on the absolute and hinge losses, whose way down has longer stalls).
    random_state : int, RandomState or None, default=None
        The shuffling of minibatches.
    fit_intercept : bool, default=True
    delta : float, default=1.0
        The ``delta`` of the Huber loss.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (1, n_features) for classifiers
    intercept_ : float or ndarray of shape (1,) for classifiers
    classes_ : ndarray of shape (2,)
        Classifiers only.
    n_iter_ : int
        Epochs run.
    loss_curve_ : ndarray of shape (n_iter_,)
        The objective over all rows after each epoch.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` was a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from wonderland.linear import LinearModel
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> model = LinearModel(loss="squared", max_iter=200).fit(X, 1.0 + 2.0 * X[:, 0])
    >>> np.round(model.coef_, 4).tolist(), round(model.intercept_, 4)
    ([2.0], 1.0)
    >>> clf = LinearModel(loss="hinge").fit(X, ["a", "a", "b", "b"])
    >>> clf.predict([[-1.0], [4.0]]).tolist()
    ['a', 'b']
    """

    def __init__(self, loss: str = "squared", alpha: float = 0.0, optimizer: str = "gd",
                 lr: float | Callable[[int], float] | None = None,
                 batch_size: int | None = None, max_iter: int = 500, tol: float = 1e-6,
                 random_state: Any = None, fit_intercept: bool = True,
                 delta: float = 1.0) -> None:
        self.loss = loss
        self.alpha = alpha
        self.optimizer = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.fit_intercept = fit_intercept
        self.delta = delta

    # ------------------------------------------------------------------ kind

    def _is_classifier(self) -> bool:
        return self.loss in CLASSIFICATION_LOSSES

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.target_tags.required = True
        if self._is_classifier():
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags(multi_class=False)
        else:
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
        return tags

    # ------------------------------------------------------------------ fit

    def _check_params(self) -> None:
        name = type(self).__name__
        check_choice(name, "loss", self.loss, REGRESSION_LOSSES + CLASSIFICATION_LOSSES)
        check_choice(name, "optimizer", self.optimizer, tuple(OPTIMIZERS))
        check_number(name, "alpha", self.alpha, low=0.0)
        check_number(name, "max_iter", self.max_iter, low=1, integer=True)
        check_number(name, "tol", self.tol, low=0.0)
        check_number(name, "delta", self.delta, low=0.0, low_inclusive=False)
        check_number(name, "batch_size", self.batch_size, low=1, integer=True, allow_none=True)
        check_bool(name, "fit_intercept", self.fit_intercept)
        if not callable(self.lr):
            check_number(name, "lr", self.lr, low=0.0, low_inclusive=False, allow_none=True)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LinearModel:
        """Train the model (``max_iter`` epochs at most). ``X`` is never written.
        ``sample_weight`` weights each row's loss (the objective is their weighted mean;
        a minibatch weighs its rows by their weight over the mean weight)."""
        with all_or_nothing(self):  # a failed fit keeps the previous one
            self._check_params()
            if is_dask(X):
                refuse_dask_weights(self, sample_weight)
                # descent that streams the row blocks (X is never gathered): dask_stream
                from .dask_stream import fit_linear_model

                return fit_linear_model(self, X, y)
            classifier = self._is_classifier()
            if classifier:
                X, y = classification_data(self, X, y)
                check_classification_targets(y)
                y_type = type_of_target(y, input_name="y", raise_unknown=True)
                if y_type != "binary":
                    raise ValueError("Only binary classification is supported. The type of the "
                                     f"target is {y_type}.")
                classes = np.unique(y)
                if classes.size < 2:
                    raise ValueError(f"{type(self).__name__} needs samples of 2 classes, but the "
                                     f"data contain only one class: {classes.tolist()[0]!r}")
                self.classes_ = classes
                positive = y == classes[1]
                target = np.where(positive, 1.0, -1.0) if self.loss == "hinge" \
                    else positive.astype(np.float64)
            else:
                X, target = self._validate_X_y(X, y, numeric_y=True, ensure_all_finite=False)
                if hasattr(self, "classes_"):  # a classifier's, from an earlier fit
                    del self.classes_
            weight = checked_weights(self, sample_weight, X)
            with self._naming_columns():
                mean = column_means(X, bool(self.fit_intercept), weight)  # checks NaN and inf too
                scale = column_scales(X, mean, weight)  # and squares that overflow
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
                theta, curve, status = self._train(X, target, mean, scale, weight)
            return self._set_fitted(theta, mean, scale, curve, status, classifier)

    def _set_fitted(self, theta: np.ndarray, mean: np.ndarray, scale: np.ndarray,
                    curve: list[float], status: str, classifier: bool,
                    stacklevel: int = 3) -> LinearModel:
        """The fitted attributes from the standardized coefficients ``theta``, and the
        warning of a fit that did not converge (in memory and on Dask alike)."""
        d = mean.shape[0]
        w = theta[:d] / scale
        b = float(theta[d] - mean @ w) if self.fit_intercept else 0.0
        if classifier:
            self.coef_ = w[None, :].copy()
            self.intercept_ = np.array([b])
        else:
            self.coef_ = w.copy()
            self.intercept_ = b
        self.n_iter_ = len(curve)
        self.loss_curve_ = np.asarray(curve, dtype=np.float64)
        name = type(self).__name__
        if status == "max_iter":
            warnings.warn(f"{name}: reached max_iter={self.max_iter} epochs before the "
                          f"objective stopped improving (tol={self.tol}); increase max_iter",
                          ConvergenceWarning, stacklevel=stacklevel)
        elif status == "diverged":
            warnings.warn(f"{name}: the objective became NaN or infinite after "
                          f"{self.n_iter_} epochs (lr too large?); the coefficients are the "
                          f"best ones seen, the start included", ConvergenceWarning,
                          stacklevel=stacklevel)
        elif status == "rose":
            warnings.warn(f"{name}: the objective rose to {curve[-1]:.4g} after "
                          f"{self.n_iter_} epochs, from {curve[0]:.4g} after the first "
                          f"(lr too large for the minibatches?); the coefficients are the "
                          f"best ones seen ({min(curve):.4g})", ConvergenceWarning,
                          stacklevel=stacklevel)
        return self

    def _objective(self, X: np.ndarray, target: np.ndarray, mean: np.ndarray,
                   scale: np.ndarray) -> Callable[[Any, Any, Any], Any]:
        """``(theta, X, y) -> objective`` with wonderland tensors (standardized
        coordinates ``v = s w``, intercept ``c`` of the centred columns)."""
        d = X.shape[1]
        alpha = float(self.alpha)
        loss_name = self.loss
        delta = float(self.delta)
        fit_intercept = bool(self.fit_intercept)

        def objective(theta: Any, Xb: np.ndarray, yb: np.ndarray, share: Any = None) -> Any:
            # share: the rows' weights over the mean weight (None: all 1)
            w = theta[:d] / scale
            pred = Xb @ w
            if fit_intercept:
                pred = pred + (theta[d] - (mean * w).sum())
            reduction = "mean" if share is None else "none"
            if loss_name == "squared":
                value = losses.squared(pred, yb, reduction=reduction)
            elif loss_name == "absolute":
                value = losses.absolute(pred, yb, reduction=reduction)
            elif loss_name == "huber":
                value = losses.huber(pred, yb, delta, reduction=reduction)
            elif loss_name == "hinge":
                value = losses.hinge(pred, yb, reduction=reduction)
            else:
                value = losses.binary_cross_entropy_with_logits(pred, yb, reduction=reduction)
            if share is not None:
                value = (value * share).mean()
            if alpha:
                value = value + 0.5 * alpha * (w * w).sum()
            return value

        return objective

    def _default_lr(self, X: np.ndarray, target: np.ndarray, mean: np.ndarray,
                    scale: np.ndarray, weight: np.ndarray | None = None) -> Any:
        """The step size of ``lr=None`` (see the class docstring)."""
        if self.lr is not None:
            return self.lr
        spread = 1.0
        if self.needs_target_spread():  # (weighted: a weight of 2 is the row twice)
            spread = _median(np.abs(target - _median(target, weight)), weight)
            deviation = target - np.average(target, weights=weight)
            spread = spread if spread > 0 else float(np.sqrt(np.average(
                deviation ** 2, weights=weight))) or 1.0
        return self._step_size(top_curvature(X, mean, scale, weight, bool(self.fit_intercept)),
                               scale, spread)

    def needs_target_spread(self) -> bool:
        """Whether the default step size depends on the target's spread (regression with
        Adam or the absolute loss; see ``_step_size``). On Dask the spread costs passes
        over the target, so it is computed only then."""
        return self.lr is None and self.loss in REGRESSION_LOSSES and (
            self.optimizer == "adam" or self.loss == "absolute")

    def _step_size(self, top: float, scale: np.ndarray, spread: float) -> Any:
        """The default step from ``top``, the largest eigenvalue of the standardized
        columns' correlation matrix (``top_curvature``), the column ``scale`` and the
        target's ``spread`` (the median absolute deviation; 1 for classifiers)."""
        # (an all-zero X without intercept: a flat objective, any finite step will do)
        top = max(top, 1.0) if self.fit_intercept or top <= 0 else top
        penalty = float(self.alpha) * float(np.max(1.0 / scale**2))
        if self.optimizer == "adam":
            return 0.01 * spread
        curvature = {"squared": 2.0, "huber": 1.0, "log": 0.25}.get(self.loss)
        if curvature is None:  # absolute, hinge: subgradient steps R / (G √t)
            lr0 = spread / (math.sqrt(top) + penalty * spread)
            if self.optimizer == "momentum":  # its steps add up to 1/(1 - λ) = 10 lr: a
                lr0 *= 0.3                      # third keeps the overshoot in check
            return schedules.inverse_time(lr0, decay=1.0, power=0.5)
        lr = 1.0 / (curvature * top + penalty)
        if self.optimizer == "momentum":
            # heavy ball, λ = 0.9: full batch, any lr·h in [(1 - √λ)², (1 + √λ)²] ≈
            # [0.003, 3.8] for the curvatures h contracts at the rate √λ per step, so 3/L;
            # minibatches: 0.1/L, the steps adding up to about GD's 1/L (less noise)
            if self.batch_size is not None:
                return 0.1 * lr
            if self.loss == "huber":
                # Huber's curvature jumps between 1 and 0 as residuals cross ±delta, and
                # at 3/L the heavy ball then circles for ever (a cycle of 6 steps at 100×
                # the minimum); below 2(1 - λ)/L = 0.2/L it converges on every convex
                # L-smooth objective (Ghadimi, Feyzmahdavian & Johansson, 2015)
                return 0.18 * lr
            return 3.0 * lr
        return lr

    def needs_target_median(self) -> bool:
        """Whether the start point is the target's median (robust losses, with intercept)."""
        return bool(self.fit_intercept) and self.loss in ("absolute", "huber")

    def _start(self, d: int, target_mean: float, target_median: float) -> np.ndarray:
        """Zeros, the intercept at the target's centre (its mean, median or log-odds)."""
        theta = np.zeros(d + 1 if self.fit_intercept else d)
        if self.fit_intercept:
            if self.loss == "squared":
                theta[d] = target_mean
            elif self.needs_target_median():
                theta[d] = target_median
            elif self.loss == "log":
                p = float(np.clip(target_mean, 1e-12, 1 - 1e-12))
                theta[d] = math.log(p / (1 - p))
        return theta

    def _train(self, X: np.ndarray, target: np.ndarray, mean: np.ndarray,
               scale: np.ndarray, weight: np.ndarray | None = None) -> tuple:
        n, d = X.shape
        objective = self._objective(X, target, mean, scale)
        lr = self._default_lr(X, target, mean, scale, weight)
        median = _median(target, weight) if self.needs_target_median() else 0.0
        centre = float(np.mean(target) if weight is None else np.average(target, weights=weight))
        theta = tensor(self._start(d, centre, median), requires_grad=True)
        opt = self._optimizer(theta, lr)
        rng = check_random_state(self.random_state)
        batch = self.batch_size if self.batch_size is not None and self.batch_size < n else None
        share = None if weight is None else weight / weight.mean()

        def epoch() -> tuple[float, float | None]:
            if batch is None:
                batches = [(X, target, share)]
            else:
                order = rng.permutation(n)
                batches = ((X[idx], target[idx], None if share is None else share[idx])
                           for idx in (order[i:i + batch] for i in range(0, n, batch)))
            g_norm = None
            for Xb, yb, sb in batches:
                opt.zero_grad()
                objective(theta, Xb, yb, sb).backward()
                if batch is None:
                    g_norm = float(np.linalg.norm(theta.grad.numpy()))
                opt.step()
            with no_grad():
                return float(objective(theta, X, target, share).item()), g_norm

        with no_grad():  # where descent starts: a fit that only made it worse returns it
            start = float(objective(theta, X, target, share).item())
        return self._descend(theta, epoch, batch is None, start)

    def _optimizer(self, theta: Any, lr: Any) -> Any:
        return OPTIMIZERS[self.optimizer]([theta], lr=lr)

    def _descend(self, theta: Any, epoch: Callable[[], tuple[float, float | None]],
                 full_batch: bool, start: float = np.inf) -> tuple[np.ndarray, list[float], str]:
        """Epochs until a stopping rule holds: ``epoch()`` takes the steps of one epoch
        and returns the objective after them and, full batch, the norm of the gradient
        of its step; ``start`` is the objective before the first. Returns the
        coefficients, the objective curve and how it ended (``"converged"``,
        ``"max_iter"``, ``"diverged"``, ``"rose"``)."""
        curve: list[float] = []
        best = (start if math.isfinite(start) else np.inf, theta.numpy().copy())
        stale = 0
        status = "max_iter"
        # full batch on a smooth loss: stop on the gradient (each step's gradient is the
        # full one); else when the objective stalls for N_ITER_NO_CHANGE epochs
        by_gradient = full_batch and self.loss not in ("absolute", "hinge")
        # subgradient steps overshoot and come back (the heavy ball most): stalls of 10
        # epochs are part of their way down, not its end (they stopped 2-8% above the
        # optimum)
        patience = N_ITER_NO_CHANGE * (5 if self.loss in ("absolute", "hinge") else 1)
        g_first = None
        flat = 0  # epochs in a row whose objective moved by rounding only
        for _epoch in range(self.max_iter):
            f, g_norm = epoch()
            if by_gradient and g_first is None:
                g_first = g_norm
            curve.append(f)
            if not math.isfinite(f):
                status = "diverged"
                break
            improved = f < best[0] - self.tol * max(abs(best[0]), np.finfo(float).tiny) \
                or not math.isfinite(best[0])
            if f < best[0]:
                best = (f, theta.numpy().copy())
            if by_gradient:
                # a start already optimal (an intercept-only problem: a constant X) has a
                # first gradient of rounding, which tol times itself cannot undercut; its
                # objective stays flat to rounding: converged too (it ran to max_iter)
                flat = flat + 1 if len(curve) > 1 and abs(f - curve[-2]) <= \
                    4.0 * np.finfo(float).eps * abs(f) else 0
                if g_norm <= self.tol * max(g_first, np.finfo(float).tiny) or flat >= patience:
                    status = "converged"
                    break
                continue
            stale = 0 if improved else stale + 1
            if stale >= patience:  # stalled: near the best, or far above where it started
                status = "rose" if curve[-1] > max(2.0 * best[0], curve[0]) else "converged"
                break
        values = theta.numpy().copy()
        # minibatch and subgradient steps wander, and the heavy ball need not descend:
        # unless the gradient rule stopped it, keep the best epoch
        if status in ("diverged", "rose") or (
                (not by_gradient or status == "max_iter") and best[0] < curve[-1]):
            values = best[1]
        return values, curve, status

    # ------------------------------------------------------------------ predict

    def _scores(self, X: Any) -> np.ndarray:
        """Scores of ``X``: a lazy Dask array for Dask ``X`` (then ``predict`` and
        ``predict_proba`` are lazy too)."""
        if is_dask(X):
            from .dask_blocks import map_rows

            return map_rows(self, X, self._raw_scores, None, np.float64)
        return self._raw_scores(self._validate_X(X))

    def _raw_scores(self, X: np.ndarray) -> np.ndarray:
        if self._is_classifier():
            return X @ self.coef_[0] + self.intercept_[0]
        return X @ self.coef_ + self.intercept_

    @available_if(_is_classifier)
    def decision_function(self, X: Any) -> np.ndarray:
        """Scores ``X @ coef_.T + intercept_`` (classifiers only): positive means
        ``classes_[1]``."""
        return self._scores(X)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values (regressors) or labels (classifiers)."""
        scores = self._scores(X)
        if self._is_classifier():
            classes = self.classes_
            if is_dask(scores):
                return scores.map_blocks(lambda s: classes[(s > 0).astype(int)],
                                         dtype=classes.dtype, meta=np.empty((0,), classes.dtype))
            return classes[(scores > 0).astype(int)]
        return scores

    def _has_proba(self) -> bool:
        return self.loss == "log"

    @available_if(_has_proba)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (``loss="log"`` only), columns in the order of
        ``classes_``."""
        scores = self._scores(X)
        if is_dask(scores):
            return scores.map_blocks(lambda s: np.column_stack([1.0 - expit(s), expit(s)]),
                                     new_axis=1, chunks=(scores.chunks[0], (2,)),
                                     dtype=np.float64, meta=np.empty((0, 0)))
        p = expit(scores)
        return np.column_stack([1.0 - p, p])

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy for classifiers, R² for regressors (scikit-learn's ``score``)."""
        if self._is_classifier():
            return float(accuracy_score(y, self.predict(X), sample_weight=sample_weight))
        return float(r2_score(y, self.predict(X), sample_weight=sample_weight))


def top_curvature(X: np.ndarray, mean: np.ndarray, scale: np.ndarray,
                  weight: np.ndarray | None, fit_intercept: bool = True) -> float:
    """``scaled_top`` of the centred (weighted) rows of ``X``: from their Gram matrix, or,
    for fewer rows than columns, from the ``n x n`` matrix of the rows' products, which has
    the same nonzero eigenvalues (the ``d x d`` one would outweigh ``X``). ``mean``: the
    column means, zeros without an intercept.

    Examples
    --------
    >>> X = np.random.default_rng(0).standard_normal((5, 40))
    >>> mean, scale = X.mean(axis=0), X.std(axis=0)
    >>> wide = top_curvature(X, mean, scale, None)
    >>> tall = scaled_top(((X - mean).T @ (X - mean)), 5, scale)
    >>> bool(np.isclose(wide, tall))
    True
    """
    n, d = X.shape
    if n >= d:
        summary = gram_summary(X, np.zeros(n), fit_intercept, weight)
        return scaled_top(summary.gram, summary.n_samples, scale)
    Z = (X - mean) / scale
    if weight is not None:
        Z *= np.sqrt(weight)[:, None]
    count = n if weight is None else float(weight.sum())
    return float(np.linalg.eigvalsh(Z @ Z.T)[-1]) / count


def _median(values: np.ndarray, weight: np.ndarray | None) -> float:
    """The median of ``values``, each counted ``weight`` times: NumPy's median of the rows
    repeated (the two middle values averaged when the total weight is even).

    Examples
    --------
    >>> _median(np.array([0.0, 1.0, 10.0]), np.array([1.0, 1.0, 2.0]))
    5.5
    >>> float(np.median([0.0, 1.0, 10.0, 10.0]))
    5.5
    """
    if weight is None:
        return float(np.median(values))
    order = np.argsort(values, kind="stable")
    cumulative, ordered = np.cumsum(weight[order]), values[order]
    half = cumulative[-1] / 2
    return float((ordered[np.searchsorted(cumulative, half)]
                  + ordered[np.searchsorted(cumulative, half, side="right")]) / 2)
