"""Losses: the text's regression and classification losses, and the 0-1 error as a metric.

Every loss takes the prediction first and the target second, and a keyword
``reduction="mean" | "sum" | "none"``: the mean or the sum of the per-example losses, or
the per-example losses themselves (the prediction's shape).

Shapes are strict. A prediction and a target of different shapes are a ``ValueError``
naming both, above all when they would broadcast: a prediction of shape ``(n, 1)``
against targets of shape ``(n,)`` would silently give an ``(n, n)`` table of every
prediction against every target (the text's broadcasting trap). One exception, which
reads as meant: a scalar target (a Python number or a 0-d array) is compared with every
prediction, as in ``squared(pred, 0.0)``. Targets may be Tensors (a target that requires
grad gets its gradient too), NumPy arrays, lists or numbers; they are cast to the
prediction's floating dtype. Integer predictions are promoted to float64.

NaN: a NaN prediction gives a NaN loss for its entry, silently, as in PyTorch (a model
that diverged must show in its loss); a NaN or infinite target, like any bad target or
label, is a ``ValueError`` naming the first one and its position.

Layer 4 of DESIGN.md: written with wonderland's public functions and Tensor operators,
imported from the modules that define them (``import wonderland`` here would make an
import cycle once ``wonderland/__init__`` imports this module). The one exception is
``zero_one``'s guard, a primitive of its own (see ``_metric_guard``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

from . import array_libraries
from .compile.trace import TraceError
from .creation import as_tensor, tensor
from .primitives.base import defprim
from .primitives.elementwise import abs, astype, clip, exp, log, log1p, relu, where
from .primitives.reductions import log_softmax
from .tensor import Tensor, apply, identity_rule

__all__ = [
    "squared", "absolute", "huber", "hinge", "zero_one", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy",
]

TensorLike = Tensor | np.ndarray | Sequence | float | int
Reduction = Literal["mean", "sum", "none"]

_REDUCTIONS = ("mean", "sum", "none")


# ----------------------------------------------------------------------- helpers


def _check_reduction(reduction: Any, name: str) -> None:
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction={reduction!r} is not allowed; use one of "
                         f"'mean', 'sum' or 'none'")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _is_float(dtype: Any) -> bool:
    try:
        return np.dtype(dtype).kind == "f"
    except TypeError:  # a dtype of another Array-API library
        return "float" in str(dtype)


def _eps(dtype: Any) -> float:
    """The machine epsilon of a floating dtype (float64 when it cannot be told)."""
    try:
        return float(np.finfo(np.dtype(dtype)).eps)
    except TypeError:
        name = str(dtype)
        return float(np.finfo(np.float32 if "float32" in name else
                              np.float16 if "float16" in name else np.float64).eps)


def _as_tensor(value: Any, what: str, name: str) -> Tensor:
    if isinstance(value, Tensor):
        return value
    try:
        return tensor(value)
    except TypeError as exc:
        raise TypeError(f"{name}: the {what} must be a Tensor, an array, a list or a number; "
                        f"{exc}") from None


def _refuse_complex(t: Tensor, what: str, name: str) -> None:
    """A complex input is a TypeError: casting it to a real dtype would silently drop the
    imaginary part (NumPy only warns), and these losses are defined on real numbers."""
    if "complex" in str(t.dtype):
        raise TypeError(f"{name}: the {what} has the complex dtype {t.dtype}; the losses take "
                        f"real numbers (pass .real or abs(...) if that is what is meant)")


def _prediction(pred: Any, name: str) -> Tensor:
    """The prediction as a floating Tensor (integers and bools promoted to float64)."""
    pred = _as_tensor(pred, "prediction", name)
    _refuse_complex(pred, "prediction", name)
    if not _is_float(pred.dtype):
        pred = astype(pred, "float64")
    return pred


def _check_shapes(pred_shape: tuple, target_shape: tuple, name: str,
                  target: str = "target") -> None:
    """Identical shapes, or a 0-d target; else a ValueError naming both shapes."""
    if pred_shape == target_shape or target_shape == ():
        return
    plural = target.endswith("s")
    has, one = ("have", target[:-1]) if plural else ("has", target)
    try:
        joint = tuple(np.broadcast_shapes(pred_shape, target_shape))
    except ValueError:
        raise ValueError(f"{name}: the prediction has shape {pred_shape} but the {target} {has} "
                         f"shape {target_shape}; they must have the same shape") from None
    if joint not in (pred_shape, target_shape):  # the (n, 1) against (n,) table
        effect = (f"pairing every prediction with every {one} instead of each with its own. "
                  f"Give them the same shape (ravel an (n, 1) column with .reshape(-1))")
    else:  # one side would be repeated along the other
        effect = (f"repeating one side instead of pairing each prediction with its own "
                  f"{one}. Give them the same shape (a single {one} for every prediction "
                  f"is a number or a 0-d array)")
    raise ValueError(
        f"{name}: the prediction has shape {pred_shape} but the {target} {has} shape "
        f"{target_shape}; they would broadcast to {joint}, {effect}")


def _target(y: Any, pred: Tensor, name: str, what: str = "target",
            check: Callable[[Tensor, str], Tensor] | None = None) -> Tensor:
    """The target as a Tensor of the prediction's dtype, after the shape check and
    ``check(y, name)`` of its values (before the cast, to name them as given)."""
    y = _as_tensor(y, what, name)
    if y._xp is not pred._xp:  # a constant target joins the prediction's library (a list
        if y.requires_grad:  # or NumPy array beside a PyTorch or CuPy prediction)
            raise TypeError(f"{name}: the prediction is an array of {pred._xp.__name__} but "
                            f"the {what}, which requires grad, one of {y._xp.__name__}; give "
                            f"both in the same library")
        y = as_tensor(array_libraries.from_numpy(array_libraries.to_numpy(y._data), pred._data))
    _refuse_complex(y, what, name)
    _check_shapes(pred.shape, y.shape, name, what)
    if check is not None:
        y = check(y, name)
    if y.dtype != pred.dtype:
        y = astype(y, pred.dtype)
    return y


def _position(index: tuple) -> int | tuple[int, ...]:
    """A 0-based position as users write it: an int in 1-D, else a tuple."""
    index = tuple(int(i) for i in index)
    return index[0] if len(index) == 1 else index


def _first_bad(values: np.ndarray, bad: np.ndarray) -> tuple[Any, Any]:
    """The first offending value and its position."""
    where_bad = np.argwhere(bad)[0] if values.ndim else ()
    value = values[tuple(where_bad)] if values.ndim else values[()]
    return value.item(), _position(where_bad) if values.ndim else ()


def _values(t: Tensor) -> np.ndarray | None:
    """``t``'s values, or None while ``wl.compile`` traces ``t`` (they are each call's)."""
    try:
        return np.asarray(t.numpy())
    except TraceError:
        return None


def _bad_signs(values: np.ndarray, name: str, what: str) -> None:
    """Labels in {-1, +1}: else a ValueError naming the first bad label and its position."""
    bad = (values != 1) & (values != -1)
    if bad.any():
        value, position = _first_bad(values, bad)
        where_ = "" if position == () else f" at position {position}"
        raise ValueError(f"{name}: {what} must be -1 or +1, got {value!r}{where_}; map "
                         f"labels in {{0, 1}} to {{-1, +1}} with 2 * y - 1")


def _raise_first(values: np.ndarray, bad: np.ndarray, message: str) -> None:
    """A ValueError ``message`` (with ``{value}`` and ``{where}``) naming the first bad value
    and its position, if any is bad."""
    if bad.any():
        value, position = _first_bad(values, bad)
        where_ = "" if position == () else f" at position {position}"
        raise ValueError(message.format(value=repr(value), where=where_))


# NaN in a prediction (a probability here) passes through, to show in the loss as in
# PyTorch: a model that diverged must be seen in its loss curve (LinearModel reports it).
# A NaN target or label is bad data, refused as any other bad value.
def _outside_unit_interval(values: np.ndarray, name: str, what: str) -> None:
    """Probabilities in [0, 1] (NaN passes through, to show in the loss)."""
    _raise_first(values, (values < 0) | (values > 1),
                 f"{name}: {what} must lie in [0, 1], got {{value}}{{where}}")


def _targets_outside_unit_interval(values: np.ndarray, name: str, what: str) -> None:
    """Targets in [0, 1]: NaN is refused too."""
    _raise_first(values, ~((values >= 0) & (values <= 1)),
                 f"{name}: {what} must lie in [0, 1], got {{value}}{{where}}")


def _not_finite(values: np.ndarray, name: str, what: str) -> None:
    """Finite targets: a NaN (a missing value) or an infinity is refused."""
    if values.dtype.kind in "biu":  # integers are finite: no pass over them
        return
    _raise_first(values, ~np.isfinite(values),
                 f"{name}: {what} must be finite numbers, got {{value}}{{where}}")


_VALUE_CHECKS = {"signs": _bad_signs, "unit interval": _outside_unit_interval,
                 "unit targets": _targets_outside_unit_interval, "finite": _not_finite}


def _checked_forward(xp: Any, values: Any, check: str, name: str, what: str) -> Any:
    _VALUE_CHECKS[check](np.asarray(values), name, what)
    return values


# A value check as a step of the computation, for wl.compile: its program then checks each
# call's values as the eager function does (the check is its own forward; the gradient
# passes through unchanged).
_checked = defprim("checked", _checked_forward, (identity_rule,),
                   lambda tangents, ans, t, **params: tangents[0], reads=())


def _check_values(t: Tensor, check: str, name: str, what: str) -> Tensor:
    """``t``, its values checked now, or, while ``wl.compile`` traces it, at each call."""
    values = _values(t)
    if values is None:
        return apply(_checked, t, check=check, name=name, what=what)
    _VALUE_CHECKS[check](values, name, what)
    return t


def _check_signs(y: Tensor, name: str) -> Tensor:
    return _check_values(y, "signs", name, "labels")


def _check_unit_targets(y: Tensor, name: str) -> Tensor:
    return _check_values(y, "unit targets", name, "targets")


def _check_finite(y: Tensor, name: str) -> Tensor:
    return _check_values(y, "finite", name, "targets")


# ----------------------------------------------------------------------- regression


def squared(pred: TensorLike, y: TensorLike, *, reduction: Reduction = "mean") -> Tensor:
    """The squared error ``(p - y)²`` (PyTorch's ``mse_loss``).

    Parameters
    ----------
    pred : Tensor or array-like
        Predictions ``p``.
    y : Tensor or array-like
        Targets, of ``pred``'s shape (or a scalar).
    reduction : {"mean", "sum", "none"}
        The mean or sum of the per-example losses, or the losses themselves.

    Returns
    -------
    Tensor
        0-d for ``"mean"`` and ``"sum"``, else of ``pred``'s shape.

    Examples
    --------
    >>> import wonderland as wl
    >>> p = wl.tensor([1.0, 2.0, 4.0])
    >>> wl.losses.squared(p, [1.0, 3.0, 2.0]).item()
    1.6666666666666667
    >>> wl.losses.squared(p, [1.0, 3.0, 2.0], reduction="none").tolist()
    [0.0, 1.0, 4.0]
    """
    _check_reduction(reduction, "squared")
    pred = _prediction(pred, "squared")
    d = pred - _target(y, pred, "squared", check=_check_finite)
    return _reduce(d * d, reduction)


def absolute(pred: TensorLike, y: TensorLike, *, reduction: Reduction = "mean") -> Tensor:
    """The absolute error ``|p - y|`` (PyTorch's ``l1_loss``).

    At ``p = y`` the subgradient is 0 (as PyTorch).

    Parameters
    ----------
    pred : Tensor or array-like
        Predictions ``p``.
    y : Tensor or array-like
        Targets, of ``pred``'s shape (or a scalar).
    reduction : {"mean", "sum", "none"}
        The mean or sum of the per-example losses, or the losses themselves.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.losses.absolute(wl.tensor([1.0, 2.0, 4.0]), [1.0, 3.0, 2.0], reduction="sum").item()
    3.0
    """
    _check_reduction(reduction, "absolute")
    pred = _prediction(pred, "absolute")
    return _reduce(abs(pred - _target(y, pred, "absolute", check=_check_finite)), reduction)


def huber(pred: TensorLike, y: TensorLike, delta: float = 1.0, *,
          reduction: Reduction = "mean") -> Tensor:
    """The Huber loss (PyTorch's ``huber_loss``), quadratic near 0 and linear beyond ``delta``.

    With ``d = p - y``::

        ½ d²                 if |d| < delta
        delta (|d| - ½ delta)  otherwise

    Its derivative, ``d`` clipped to ``[-delta, delta]``, is continuous.

    Parameters
    ----------
    pred : Tensor or array-like
        Predictions ``p``.
    y : Tensor or array-like
        Targets, of ``pred``'s shape (or a scalar).
    delta : float
        Where the loss turns from quadratic to linear; must be positive.
    reduction : {"mean", "sum", "none"}
        The mean or sum of the per-example losses, or the losses themselves.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.losses.huber(wl.tensor([0.5, 3.0]), [0.0, 0.0], reduction="none").tolist()
    [0.125, 2.5]
    >>> wl.losses.huber(wl.tensor([0.5, 3.0]), [0.0, 0.0], delta=2.0, reduction="none").tolist()
    [0.125, 4.0]
    """
    _check_reduction(reduction, "huber")
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real):
        raise TypeError(f"huber: delta must be a positive number, got {delta!r} "
                        f"({type(delta).__name__}); reduction is a keyword argument")
    if not delta > 0:  # NaN fails too
        raise ValueError(f"huber: delta must be positive, got {delta!r}")
    delta = float(delta)
    pred = _prediction(pred, "huber")
    r = pred - _target(y, pred, "huber", check=_check_finite)
    if delta == math.inf:  # half the squared error (no linear branch: inf * 0 would be NaN)
        return _reduce(0.5 * r * r, reduction)
    # ½ r² below delta, delta (|r| - ½ delta) from delta on, as PyTorch: the quadratic
    # branch holds r = 0 (second derivative 1), the linear one the kink (second derivative 0)
    a, c = abs(r), clip(r, -delta, delta)  # (c: r where it counts, and no overflow of r²)
    return _reduce(where(a < delta, 0.5 * c * c, delta * (a - 0.5 * delta)), reduction)


# ----------------------------------------------------------------------- classification


def hinge(scores: TensorLike, y: TensorLike, *, reduction: Reduction = "mean") -> Tensor:
    """The hinge loss ``max(0, 1 - y s)`` for labels ``y`` in {-1, +1}.

    At the kink ``y s = 1`` the subgradient is 0 (the loss is already 0 there; note that
    PyTorch's ``clamp(1 - y*s, min=0)`` passes ``-y`` at that point).

    Parameters
    ----------
    scores : Tensor or array-like
        Scores ``s`` (the sign is the predicted class).
    y : Tensor or array-like
        Labels, each -1 or +1, of ``scores``' shape (or a scalar).
    reduction : {"mean", "sum", "none"}
        The mean or sum of the per-example losses, or the losses themselves.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.losses.hinge(wl.tensor([2.0, 0.5, -1.0]), [1, 1, 1], reduction="none").tolist()
    [0.0, 0.5, 2.0]
    """
    _check_reduction(reduction, "hinge")
    scores = _prediction(scores, "hinge")
    y = _target(y, scores, "hinge", "labels", _check_signs)
    return _reduce(relu(1.0 - y * scores), reduction)


def _blocked(*args: Any, **params: Any) -> Any:
    raise RuntimeError(
        "zero_one is a metric, not a differentiable loss: the count of errors is piecewise "
        "constant, its gradient is 0 wherever it exists, so it cannot be backpropagated. "
        "Train with a differentiable surrogate such as wl.losses.hinge (or "
        "wl.losses.binary_cross_entropy_with_logits), and compute zero_one to report the "
        "error rate, e.g. on scores.detach() or inside wl.no_grad()")


# The guard of zero_one: a primitive whose output is the metric's value (computed apart,
# outside the graph) and whose reverse and forward rules raise. A primitive's rules are
# where the engine asks for a derivative, so backward(), wl.grad, wl.jvp and friends all
# raise the same error when they reach the metric, and only then: in reverse mode a
# zero_one computed for logging beside the loss is never reached and stays harmless (in
# forward mode tangents are pushed as values are computed, so a traced score raises at once).
# The public API has no way to attach a rule to a value, hence the one use of internals
# in this module (defprim, apply).
_metric_guard = defprim("zero_one", lambda xp, value, scores, y: value,
                        (None, _blocked, _blocked), _blocked, reads=())


def zero_one(scores: TensorLike, y: TensorLike, *, reduction: Reduction = "mean") -> Tensor:
    """The 0-1 loss, a metric: 1 where the sign of ``s`` misses the label ``y``, else 0.

    ``[y s <= 0]`` for labels ``y`` in {-1, +1}: a score of 0 counts as an error (so does
    a NaN score). With ``reduction="mean"`` it is the error rate.

    The value is a tensor outside the graph: it has no useful derivative (0 almost
    everywhere), and backpropagating through it (``backward()``, ``wl.grad``, ``wl.jvp``,
    ...) raises a ``RuntimeError`` that suggests ``hinge``. Use it to report, not to train.

    Parameters
    ----------
    scores : Tensor or array-like
        Scores ``s`` (the sign is the predicted class).
    y : Tensor or array-like
        Labels, each -1 or +1, of ``scores``' shape (or a scalar).
    reduction : {"mean", "sum", "none"}
        The error rate, the number of errors, or the per-example errors (0.0 or 1.0).

    Examples
    --------
    >>> import wonderland as wl
    >>> s = wl.tensor([2.0, 0.0, -1.0, -3.0])
    >>> wl.losses.zero_one(s, [1, 1, 1, -1]).item()
    0.5
    >>> wl.losses.zero_one(s, [1, 1, 1, -1], reduction="none").tolist()
    [0.0, 1.0, 1.0, 0.0]
    """
    _check_reduction(reduction, "zero_one")
    scores = _prediction(scores, "zero_one")
    y = _target(y, scores, "zero_one", "labels", _check_signs)
    correct = (scores.detach() * y.detach()) > 0
    value = _reduce(1.0 - astype(correct, scores.dtype), reduction)
    return apply(_metric_guard, value, scores, y)


# ----------------------------------------------------------------------- cross-entropy


def binary_cross_entropy(prob: TensorLike, y: TensorLike, *,
                         reduction: Reduction = "mean") -> Tensor:
    """The binary cross-entropy ``-(y log p + (1 - y) log(1 - p))`` of probabilities ``p``.

    Probabilities are clipped to ``[eps, 1 - eps]``, ``eps`` the machine epsilon of their
    dtype (2.2e-16 for float64, 1.2e-7 for float32; scikit-learn's ``log_loss`` does the
    same), so that ``p = 0`` or ``1`` gives a finite loss (at most ``-log eps``, 36.04 in
    float64; PyTorch clamps the logarithm at -100 instead). The gradient at a clipped
    probability is the loss's gradient at the clip bound: finite, and for a wrong
    prediction pointing back inside (a plain clip would give 0 there, and descent would
    stall; at a right one, ``p = 0`` for ``y = 0``, PyTorch gives 0). For probabilities
    inside the bounds both agree with PyTorch's ``binary_cross_entropy``. Prefer
    :func:`binary_cross_entropy_with_logits` when the probabilities come from a sigmoid.

    Parameters
    ----------
    prob : Tensor or array-like
        Predicted probabilities ``p``, in [0, 1] (else ``ValueError``).
    y : Tensor or array-like
        Targets in [0, 1] (labels 0/1, or soft targets), of ``prob``'s shape (or a scalar).
    reduction : {"mean", "sum", "none"}
        The mean or sum of the per-example losses, or the losses themselves.

    Examples
    --------
    >>> import wonderland as wl
    >>> loss = wl.losses.binary_cross_entropy(wl.tensor([0.5, 0.9]), [1, 0], reduction="none")
    >>> [round(v, 4) for v in loss.tolist()]
    [0.6931, 2.3026]
    >>> round(wl.losses.binary_cross_entropy(wl.tensor([0.0]), [1.0]).item(), 2)
    36.04
    """
    name = "binary_cross_entropy"
    _check_reduction(reduction, name)
    prob = _prediction(prob, name)
    y = _target(y, prob, name, check=_check_unit_targets)
    prob = _check_values(prob, "unit interval", name, "probabilities")
    eps = _eps(prob.dtype)
    p = prob.detach()
    q = prob + (clip(p, eps, 1.0 - eps) - p)  # the clipped value, the gradient passed
    loss = -(y * log(q) + (1.0 - y) * log1p(-q))  # (log(1 - q) lost digits at small q)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(logits: TensorLike, y: TensorLike, *,
                                     reduction: Reduction = "mean") -> Tensor:
    """The binary cross-entropy of ``p = sigmoid(z)`` from logits ``z``, computed stably.

    ``-(y log σ(z) + (1 - y) log(1 - σ(z))) = softplus(z) - y z = (1 - y) z + softplus(-z)``,
    each form used where it loses no digits (``z < 0`` and ``z >= 0``), with ``softplus``
    of ``-|z|`` computed as ``log1p(exp(-|z|))``: finite values and gradients
    (``σ(z) - y``) for any finite logit, ``±1000`` included; a NaN logit gives a NaN loss
    and gradient for its entry, silently. PyTorch's ``binary_cross_entropy_with_logits``.

    An infinite logit gives the limit, without NaN or warning: a certain right prediction
    (``z = +inf`` with ``y = 1``, ``z = -inf`` with ``y = 0``) loses 0, any other target
    (soft targets included) ``inf``; the gradient in ``z`` is still ``σ(z) - y``, that is
    ``1 - y`` at ``+inf`` and ``-y`` at ``-inf``. PyTorch agrees on the gradient, but its
    loss is NaN for ``z = +inf`` with ``y = 1`` and for every target at ``z = -inf``
    (torch 2.13). The gradient in a target at an infinite logit is ``-z`` (``∓inf``), and 0
    where the loss is 0.

    Parameters
    ----------
    logits : Tensor or array-like
        Logits ``z`` (log-odds).
    y : Tensor or array-like
        Targets in [0, 1], of ``logits``' shape (or a scalar).
    reduction : {"mean", "sum", "none"}
        The mean or sum of the per-example losses, or the losses themselves.

    Examples
    --------
    >>> import wonderland as wl
    >>> z = wl.tensor([0.0, 1000.0, -1000.0])
    >>> loss = wl.losses.binary_cross_entropy_with_logits(z, [1, 0, 0], reduction="none")
    >>> [round(v, 4) for v in loss.tolist()]
    [0.6931, 1000.0, 0.0]
    >>> z = wl.tensor([float("inf"), float("inf"), -float("inf")])
    >>> wl.losses.binary_cross_entropy_with_logits(z, [1, 0, 0], reduction="none").tolist()
    [0.0, inf, 0.0]
    """
    name = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, name)
    z = _prediction(logits, name)
    y = _target(y, z, name, check=_check_unit_targets)
    # (1 - y) z + softplus(-z) for z >= 0, -y z + softplus(z) below: softplus of -|z| only,
    # as log1p(exp(-|z|)), never overflows, and a NaN logit gives a NaN loss and gradient
    # without NumPy's "invalid value in logaddexp" warning. -|z| is written as a where so
    # that at z = 0 its derivative is -1, not abs's 0: the gradient there is σ(0) - y.
    nonnegative = z >= 0
    slope = where(nonnegative, 1.0 - y, -y)  # the linear part is slope * z
    # An infinite logit whose slope is 0 (z = +inf with y = 1, z = -inf with y = 0) has
    # loss 0, the limit, but 0 * inf is NaN (with NumPy's warning): z is taken as 0 there
    # (the sign of z and of the slope agree, so any other infinite case is +inf). Its
    # gradient, slope = 0 = σ(z) - y, is unchanged; finite logits are untouched.
    z_linear = where((abs(z) == math.inf) & (slope == 0), 0.0, z)
    loss = slope * z_linear + log1p(exp(where(nonnegative, -z, z)))
    return _reduce(loss, reduction)


def _class_labels(labels: Any, name: str) -> np.ndarray:
    """Class labels as an integer NumPy array (floats allowed when integral)."""
    values = _values(labels) if isinstance(labels, Tensor) else np.asarray(labels)
    kind = values.dtype.kind
    if kind == "b" or kind not in "iuf":
        raise TypeError(f"{name}: labels must be integer class indices, got dtype "
                        f"{values.dtype}")
    if kind == "f":
        bad = ~np.isfinite(values) | (values != np.round(values)) | (abs(values) >= 2.0**63)
        if bad.any():
            value, position = _first_bad(values, bad)
            where_ = "" if position == () else f" at position {position}"
            raise ValueError(f"{name}: labels must be integer class indices, got "
                             f"{value!r}{where_}")
        values = values.astype(np.int64)
    return values


def cross_entropy(logits: TensorLike, labels: TensorLike, *,
                  reduction: Reduction = "mean") -> Tensor:
    """The cross-entropy of softmax probabilities and class labels (multiclass log-loss).

    For logits ``z`` of shape ``(n, k)`` and labels ``c`` in ``0 .. k-1`` of shape
    ``(n,)``, example ``i`` loses ``-log softmax(z_i)[c_i] = logsumexp(z_i) - z_i[c_i]``,
    computed stably (shifted by the row's max first, as PyTorch's). PyTorch's
    ``cross_entropy`` with class indices; one example, logits of shape ``(k,)`` and a 0-d
    label, is accepted too.

    Parameters
    ----------
    logits : Tensor or array-like
        Unnormalized log-probabilities, shape ``(n, k)``.
    labels : Tensor or array-like
        Integer class indices, shape ``(n,)`` (floats with integral values are accepted).
        A label outside ``0 .. k-1`` is a ``ValueError`` naming it and its position.
    reduction : {"mean", "sum", "none"}
        The mean or sum of the per-example losses, or the losses themselves (shape
        ``(n,)``).

    Examples
    --------
    >>> import wonderland as wl
    >>> z = wl.tensor([[0.0, 0.0], [0.0, 1000.0]])
    >>> loss = wl.losses.cross_entropy(z, [1, 1], reduction="none")
    >>> [round(v, 4) for v in loss.tolist()]
    [0.6931, 0.0]
    """
    name = "cross_entropy"
    _check_reduction(reduction, name)
    z = _prediction(logits, name)
    if z.ndim not in (1, 2):
        raise ValueError(f"{name}: logits must have shape (n, k) (or (k,) for one example), "
                         f"got shape {z.shape}")
    c = _class_labels(labels, name)
    expected = z.shape[:-1]
    if tuple(c.shape) != expected:
        got = tuple(c.shape)
        if not expected:  # one example: a single label
            raise ValueError(f"{name}: logits of shape {z.shape} are one example and need one "
                             f"label, a number or a 0-d array, got labels of shape {got}")
        hint = "; ravel them first (labels.reshape(-1))" if c.size == math.prod(expected) \
            else ""
        raise ValueError(f"{name}: logits of shape {z.shape} need labels of shape "
                         f"{expected}, one class index per row, got labels of shape "
                         f"{got}{hint}")
    k = z.shape[-1]
    if k == 0:
        raise ValueError(f"{name}: logits of shape {z.shape} have no classes (k = 0); they "
                         f"need one column per class")
    bad = (c < 0) | (c >= k)
    if bad.any():
        value, position = _first_bad(c, bad)
        where_ = "" if position == () else f" at position {position}"
        raise ValueError(f"{name}: label {value}{where_} is out of range for {k} classes "
                         f"(logits of shape {z.shape}); labels must be in 0..{k - 1}")
    c = c.astype(np.int64, copy=False)  # (uint64 + int64 arithmetic gives float64 in NumPy)
    # -log_softmax shifts by the max first: logsumexp(z) - z[c] would lose the small loss
    # of a confident example to the rounding of large logits (float32: z ~ 300, loss 4e-5);
    # 0 - (not a negation) keeps a zero loss +0.0
    if z.ndim == 1:
        loss = 0.0 - log_softmax(z, dim=0)[int(c)]
    else:
        rows = log_softmax(z, dim=1).reshape(-1)  # one index on one axis: every library's
        loss = 0.0 - rows[np.arange(z.shape[0]) * k + c]
    return _reduce(loss, reduction)
