"""Gradient checks: the text's definition of the derivative (central differences) against
the analytic derivatives of reverse and forward mode. A client of the transforms (it takes
no part in differentiating), so it sits outside ``autodiff``."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import backend
from .autodiff.transforms import _as_input, _require_callable, grad, hessian, jacfwd, jacrev
from .tensor import Tensor, _new, no_grad


def _require_finite(value: Any, name: str, what: str, positive: bool) -> None:
    """``value`` is a finite real number, ``> 0`` (``positive``) or else ``>= 0``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what}: {name} must be a real number, got {value!r} "
                        f"({type(value).__name__})")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        sign = "positive" if positive else "non-negative"
        raise ValueError(f"{what}: {name} must be a finite {sign} number, got {value!r}")


def numerical_grad(f: Callable, x: Any, eps: float = 1e-6) -> Tensor:
    """Central differences ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for each entry.

    ``eps`` is an absolute step. For a scalar ``f`` the result has ``x``'s shape; otherwise
    it is the Jacobian, shape ``out.shape + x.shape``.

    Examples
    --------
    >>> import wonderland as wl
    >>> round(wl.numerical_grad(lambda x: x ** 2, 3.0).item(), 6)
    6.0
    """
    _require_callable(f, "numerical_grad")
    _require_finite(eps, "eps", "numerical_grad", positive=True)
    x = _as_input(x, "numerical_grad")
    base = x.numpy().astype(np.float64)
    flat = base.reshape(-1)

    def f_at(i: int, step: float) -> np.ndarray:
        moved = flat.copy()
        moved[i] += step
        out = f(_new(backend.from_numpy(moved.reshape(base.shape), x._data), x._xp))
        return _numbers(out, "numerical_grad")

    with no_grad():
        columns = [(f_at(i, eps) - f_at(i, -eps)) / (2 * eps) for i in range(flat.size)]
    # for a scalar f (of shape () or (1,)) the gradient has x's shape
    out_shape = columns[0].shape if columns and columns[0].shape != (1,) else ()
    jac = np.stack(columns, axis=-1) if columns else np.zeros((0,))
    return _new(backend.from_numpy(jac.reshape(out_shape + base.shape), x._data), x._xp)


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

    ``order=1`` checks the Jacobian (the gradient for a scalar ``f``) in each of ``modes``
    (``"rev"``, ``"fwd"`` or both; one name alone is that one mode);
    ``order=2`` checks the Hessian (forward over reverse) against differences of the
    gradient. Raises ``AssertionError`` naming the worst entry: its index, the analytic
    and the numeric values. Returns ``None`` when all agree.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.check_grad(lambda x: (wl.sin(x) * x).sum(), wl.tensor([0.5, 1.0]))
    """
    _require_callable(f, "check_grad")
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
    if eps is None:
        eps = 1e-6 if order == 1 else 1e-4
    _require_finite(eps, "eps", "check_grad", positive=True)
    inputs = [_as_input(a, "check_grad") for a in args]
    for k in range(len(inputs)):
        def along_k(x: Any, k: int = k) -> Any:
            return f(*inputs[:k], x, *inputs[k + 1:])

        if order == 1:
            numeric = numerical_grad(along_k, inputs[k], eps)
            for mode in modes:
                analytic = (jacrev if mode == "rev" else jacfwd)(along_k)(inputs[k])
                _compare(analytic, numeric, f"{mode}-mode derivative, argument {k}", rtol, atol)
        else:
            numeric = numerical_grad(grad(along_k), inputs[k], eps)
            _compare(hessian(along_k)(inputs[k]), numeric, f"Hessian, argument {k}", rtol, atol)


def _compare(analytic: Tensor, numeric: Tensor, label: str, rtol: float, atol: float) -> None:
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.size == n.size:
        a = a.reshape(n.shape)
    if a.shape != n.shape:
        raise AssertionError(f"{label}: analytic shape {a.shape} differs from numeric shape "
                             f"{n.shape}")
    excess = np.abs(a - n) - (atol + rtol * np.abs(n))
    bad = ~np.isfinite(a) | (excess > 0)
    if bad.any():
        worst = np.unravel_index(int(np.argmax(np.where(bad, np.nan_to_num(excess, nan=np.inf),
                                                        -np.inf))), a.shape)
        raise AssertionError(
            f"{label}: {int(bad.sum())} of {a.size} entries differ; worst at index "
            f"{tuple(int(i) for i in worst)}: analytic {a[worst]!r}, numeric {n[worst]!r} "
            f"(rtol={rtol}, atol={atol})")
