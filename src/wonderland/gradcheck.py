"""Gradient checks: the text's definition of the derivative (central differences) against
the analytic derivatives of reverse and forward mode. A client of the transforms (it takes
no part in differentiating), so it sits outside ``autodiff``."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import array_libraries
from .autodiff.transforms import grad, hessian, jacfwd, jacrev
from .tensor import Tensor, _new, no_grad
from .transform_inputs import as_input, require_callable


def _require_finite(value: Any, name: str, what: str, positive: bool) -> None:
    """``value`` is a finite real number, ``> 0`` (``positive``) or else ``>= 0``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what}: {name} must be a real number, got {value!r} "
                        f"({type(value).__name__})")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        sign = "positive" if positive else "non-negative"
        raise ValueError(f"{what}: {name} must be a finite {sign} number, got {value!r}")


# The default steps, relative to each entry: ``eps * max(1, |x_i|)``. An absolute 1e-6
# vanishes below the float spacing of an entry of 1e12 (and is mostly rounding long
# before), while near 0 a purely relative step would vanish instead: hence the max.
_DEFAULT_EPS = 1e-6
_DEFAULT_EPS_HESSIAN = 1e-4  # differences of a gradient: a larger step against its noise


def numerical_grad(f: Callable, x: Any, eps: float | None = 1e-6) -> Tensor:
    """Central differences of ``f`` at ``x``, one entry at a time: the text's derivative.

    Each entry ``x_i`` is moved by a step ``h_i`` both ways, and the difference quotient is
    ``(f(x + h_i e_i) - f(x - h_i e_i)) / (2 h_i)``, where ``2 h_i`` is taken as the
    distance between the two points as stored, so that the rounding of ``x_i ± h_i`` does
    not bias the quotient. ``f`` is evaluated without recording a graph, at float64 points.

    Parameters
    ----------
    f : callable
        A function of one tensor, returning a Tensor, an array or a number.
    x : Tensor or array-like
        The point: a number, a list, an array or a Tensor (integers are promoted to
        float64). Its entries must be finite (else ``ValueError``).
    eps : float or None
        The absolute step ``h_i = eps`` for every entry, a finite positive number (the
        text's definition; ``1e-6`` by default). A step too small to move an entry at all
        (``eps=1e-6`` at ``1e12``, where floats are ``1.2e-4`` apart) is a ``ValueError``
        naming the entry, not a silent zero. ``None`` takes a step relative to each entry,
        ``h_i = 1e-6 * max(1, |x_i|)`` (``check_grad``'s default): ``1e-6`` up to
        ``|x_i| = 1``, and beyond large enough to stay well above the float spacing
        (``1e6`` at ``1e12``).

    Returns
    -------
    Tensor
        For a scalar ``f`` (shape ``()`` or ``(1,)``), the gradient, of ``x``'s shape;
        otherwise the Jacobian, shape ``out.shape + x.shape``.

    Examples
    --------
    >>> import wonderland as wl
    >>> round(wl.numerical_grad(lambda x: x ** 2, 3.0).item(), 6)
    6.0
    >>> f"{wl.numerical_grad(lambda x: x ** 2, 1e12, eps=None).item():.6g}"  # relative
    '2e+12'
    >>> wl.numerical_grad(lambda x: x ** 3, 10.0, eps=0.5).item()  # absolute: 300 + eps²
    300.25
    """
    require_callable(f, "numerical_grad")
    return _differences(f, x, eps, _DEFAULT_EPS, "numerical_grad")


def _differences(f: Callable, x: Any, eps: float | None, default: float, who: str,
                 arg: str = "x") -> Tensor:
    """``numerical_grad`` for ``who``, the function the user called (named in errors);
    ``eps=None`` is the step ``default * max(1, |x_i|)``; ``arg`` names the point."""
    relative = eps is None
    if relative:
        eps = default
    else:
        _require_finite(eps, "eps", who, positive=True)
    x = as_input(x, who)
    base = _finite_point(x, who, arg)
    flat = base.reshape(-1)
    steps = eps * np.maximum(1.0, np.abs(flat)) if relative else np.full(flat.shape, float(eps))
    with np.errstate(over="ignore"):  # a step past the largest float is refused below
        plus, minus = flat + steps, flat - steps
    width = plus - minus
    stuck = ~(np.isfinite(plus) & np.isfinite(minus)) | (width == 0)
    if stuck.any():
        i = int(np.argmax(stuck))
        v = float(flat[i])
        why = (f"the step {float(steps[i])!r} leaves the float64 range" if width[i] != 0 else
               f"the step eps={eps!r} vanishes below the float64 spacing there "
               f"({float(np.spacing(abs(v)))!r}), so every difference would be 0")
        hint = ("; pass eps=None for a step relative to |x|" if not relative else "")
        raise ValueError(f"{who}: cannot take differences around {arg} = {v!r}"
                         f"{_at(i, base.shape)}: {why}{hint}")

    def f_at(i: int, value: float) -> np.ndarray:
        moved = flat.copy()
        moved[i] = value
        out = f(_new(array_libraries.from_numpy(moved.reshape(base.shape), x._data), x._xp))
        return _numbers(out, who)

    with no_grad():
        columns = []
        for i in range(flat.size):
            hi, lo = f_at(i, plus[i]), f_at(i, minus[i])
            shape = columns[0].shape if columns else hi.shape
            for out in (hi, lo):  # hi - lo would broadcast (1,) and (2,): silently wrong
                if out.shape != shape:
                    raise ValueError(f"{who}: f returned shape {shape} at one point and "
                                     f"shape {out.shape} at another (moving {arg}"
                                     f"{_at(i, base.shape)}); its output must keep one shape")
            columns.append((hi - lo) / width[i])
        if not columns:  # no entries: the output's shape is still f's
            columns_shape = _numbers(f(x.detach()), who).shape
        else:
            columns_shape = columns[0].shape
    # for a scalar f (of shape () or (1,)) the gradient has x's shape
    out_shape = columns_shape if columns_shape != (1,) else ()
    jac = np.stack(columns, axis=-1) if columns else np.zeros(out_shape + (0,))
    return _new(array_libraries.from_numpy(jac.reshape(out_shape + base.shape), x._data), x._xp)


def _finite_point(x: Tensor, who: str, arg: str) -> np.ndarray:
    """``x``'s values as float64; a NaN or infinite entry is a ValueError naming it, as
    differences around it measure nothing."""
    base = x.numpy().astype(np.float64)
    bad = ~np.isfinite(base.reshape(-1))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{who}: {arg} must be finite to take differences around it, got "
                         f"{float(base.reshape(-1)[i])!r}{_at(i, base.shape)}")
    return base


def _at(i: int, shape: tuple) -> str:
    """`` at index (…)`` for flat position ``i`` of ``shape``, written as ``check_grad``'s
    messages write indices; nothing for a 0-d point, which has one entry."""
    return f" at index {tuple(int(j) for j in np.unravel_index(i, shape))}" if shape else ""


def _numbers(out: Any, who: str) -> np.ndarray:
    """``f``'s output as float64 numbers; anything else (None, text, objects) is a
    TypeError, not the NaN that ``np.asarray(None, dtype=float)`` would silently give."""
    values = np.asarray(out.detach() if isinstance(out, Tensor) else out)
    if values.dtype.kind not in "biuf":
        raise TypeError(f"{who}: f must return numbers (a Tensor, an array or a number), "
                        f"got {type(out).__name__} {str(out)[:40]!r}")
    return values.astype(np.float64)


def check_grad(f: Callable, *args: Any, modes: str | Sequence[str] = ("rev", "fwd"),
               order: int = 1, rtol: float = 1e-5, atol: float = 1e-7,
               eps: float | None = None) -> None:
    """Compare analytic derivatives of ``f`` with central differences, for every argument.

    ``order=1`` checks the Jacobian (the gradient for a scalar ``f``) in each of ``modes``;
    ``order=2`` checks the Hessian (forward over reverse) of a scalar ``f`` against
    differences of its gradient. An entry passes when ``|analytic - numeric| <= atol +
    rtol |numeric|`` and both are finite.

    Parameters
    ----------
    f : callable
        A function of the arguments, returning a Tensor.
    *args : Tensor or array-like
        The point: one value per argument of ``f`` (numbers, lists, arrays or Tensors),
        each checked in turn; their entries must be finite (else ``ValueError``).
    modes : {"rev", "fwd"} or tuple of them
        The modes checked by ``order=1``; one name alone is that one mode.
    order : {1, 2}
        First derivatives, or the Hessian.
    rtol, atol : float
        The relative and absolute tolerances, finite and non-negative.
    eps : float, optional
        The absolute step of the differences, as in :func:`numerical_grad`. By default
        (``None``) the step is relative to each entry, ``h_i = 1e-6 * max(1, |x_i|)``
        (``1e-4 * max(1, |x_i|)`` for ``order=2``), so that large entries check as well
        as small ones.

    Returns
    -------
    None
        When all entries agree; else an ``AssertionError`` names the worst entry: its
        index, the analytic and the numeric values.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.check_grad(lambda x: (wl.sin(x) * x).sum(), wl.tensor([0.5, 1.0]))
    >>> wl.check_grad(lambda x: (x ** 2).sum(), wl.tensor([1e12]))  # a relative step
    >>> wl.check_grad(lambda x: (x ** 3).sum(), wl.tensor([1.0, 2.0]), order=2)
    """
    who = require_callable(f, "check_grad")  # "check_grad of <f's name>"
    if not args:
        raise ValueError("check_grad: no arguments to check; pass the point(s) after f, "
                         "e.g. check_grad(f, x)")
    if isinstance(order, bool) or order not in (1, 2):
        raise ValueError(f"check_grad: order must be 1 or 2, got {order!r}")
    if isinstance(modes, str):  # modes="rev" means ("rev",), not the letters r, e, v
        modes = (modes,)
    try:
        modes = tuple(modes)
    except TypeError:  # modes=None: not Python's "'NoneType' object is not iterable"
        raise TypeError(f"check_grad: modes must be 'rev', 'fwd' or a tuple of them, got "
                        f"{modes!r} ({type(modes).__name__})") from None
    if order == 1 and not modes:  # checking no mode would pass without checking anything
        raise ValueError("check_grad: modes is empty, so nothing would be checked; use "
                         "('rev',), ('fwd',) or both")
    for mode in modes:
        if mode not in ("rev", "fwd"):
            raise ValueError(f"check_grad: unknown mode {mode!r}; use 'rev' and/or 'fwd'")
    for name, value in (("rtol", rtol), ("atol", atol)):
        _require_finite(value, name, "check_grad", positive=False)
    if eps is not None:
        _require_finite(eps, "eps", "check_grad", positive=True)
    inputs = [as_input(a, "check_grad", arg=f"argument {k}") for k, a in enumerate(args)]
    for k, x in enumerate(inputs):  # all before any check: f at a NaN fails every argument
        _finite_point(x, who, f"argument {k}")
    if order == 2:
        # said here, not as grad's advice to use wl.jacobian, which is no Hessian check
        with no_grad():
            shape = _numbers(f(*inputs), who).shape
        if math.prod(shape) != 1:
            raise ValueError(f"{who}: order=2 checks the Hessian of a scalar function, "
                             f"but f returned shape {shape}; check its Jacobian with order=1")
    for k in range(len(inputs)):
        def along_k(x: Any, k: int = k) -> Any:
            return f(*inputs[:k], x, *inputs[k + 1:])

        # the transforms' errors then read "check_grad of f", the function the user gave
        along_k.__name__ = along_k.__qualname__ = getattr(f, "__name__", "f")
        where_ = f"argument {k}"
        if order == 1:
            numeric = _differences(along_k, inputs[k], eps, _DEFAULT_EPS, who, where_)
            for mode in modes:
                jac = jacrev if mode == "rev" else jacfwd
                analytic = jac(along_k, _name="check_grad")(inputs[k])
                _compare(analytic, numeric, f"{who}: {mode}-mode derivative, {where_}", rtol, atol)
        else:
            numeric = _differences(grad(along_k, _name="check_grad"), inputs[k], eps,
                                   _DEFAULT_EPS_HESSIAN, who, where_)
            _compare(hessian(along_k)(inputs[k]), numeric, f"{who}: Hessian, {where_}", rtol, atol)


def _compare(analytic: Tensor, numeric: Tensor, label: str, rtol: float, atol: float) -> None:
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.size == n.size:
        a = a.reshape(n.shape)
    if a.shape != n.shape:
        raise AssertionError(f"{label}: analytic shape {a.shape} differs from numeric shape "
                             f"{n.shape}")
    with np.errstate(invalid="ignore"):  # inf - inf: flagged below, as a NaN excess
        excess = np.abs(a - n) - (atol + rtol * np.abs(n))
    # a NaN or infinite numeric value fails too: NaN > 0 is False, and a difference that
    # could not be measured must not pass as agreement
    bad = ~np.isfinite(a) | ~np.isfinite(n) | (excess > 0)
    if bad.any():
        worst = np.unravel_index(int(np.argmax(np.where(bad, np.nan_to_num(excess, nan=np.inf),
                                                        -np.inf))), a.shape)
        raise AssertionError(
            f"{label}: {int(bad.sum())} of {a.size} entries differ; worst at index "
            f"{tuple(int(i) for i in worst)}: analytic {float(a[worst])!r}, numeric "
            f"{float(n[worst])!r} (rtol={rtol}, atol={atol})")
