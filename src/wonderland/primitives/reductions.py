"""Reductions: sum, max/min (ties share the gradient), prod, logsumexp as primitives;
mean, var, std, norm, softmax and log_softmax as composites of primitives.

Every reduction takes ``dim`` (int or tuple; ``axis`` is an alias) and ``keepdim``
(``keepdims`` is an alias). Axes are stored negative, so rules work under batching.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

from .. import backend
from ..creation import ones_like
from ..tensor import Primitive, Tensor, apply, as_tensor, finish_one, undifferentiated
from .base import defprim, ops_for
from .elementwise import _float_input, astype, cast_, exp, isfinite, isnan, sqrt, where
from .elementwise import abs as abs_
from .shape import _axis, concatenate, permute, reshape, reversed_along


def _dims(dim: Any, axis: Any, ndim: int, name: str) -> tuple[int, ...]:
    """The reduced axes as sorted negative positions (all axes for ``None``)."""
    if axis is not None and dim is not None:
        raise TypeError(f"{name}: give dim or axis, not both")
    dim = dim if axis is None else axis
    if dim is None:
        return tuple(range(-ndim, 0))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    positions = sorted(_axis(d, builtins.max(ndim, 1), name) for d in dims)  # a 0-d: 0 or -1
    if len(set(positions)) < len(positions):
        raise ValueError(f"{name}: dimension repeated in {dim} (tensor of {ndim} dimensions)")
    return tuple(p - ndim for p in positions) if ndim else ()


def _spec(x: Tensor, dim: Any, keepdim: bool, axis: Any, keepdims: bool | None,
          name: str) -> tuple[tuple[int, ...], bool]:
    """The reduced axes (as ``_dims``) and whether to keep them."""
    return _dims(dim, axis, x.ndim, name), bool(keepdim if keepdims is None else keepdims)


def _reduce(prim: Any, x: Tensor, dim: Any, keepdim: bool, axis: Any,
            keepdims: bool | None) -> Tensor:
    axes, keep = _spec(x, dim, keepdim, axis, keepdims, prim.name)
    return apply(prim, x, axis=axes, keepdims=keep)


def _kept_shape(shape: tuple, axes: tuple) -> tuple:  # (axes: negative positions)
    return tuple(1 if i - len(shape) in axes else s for i, s in enumerate(shape))


def _defreduction(name: str, forward: Any, weights: Any, **options: Any) -> Any:
    """A reduction whose derivative with respect to each entry is ``weights(ans, x, axis)``:
    the cotangent is spread back over the reduced axes (batch-safe), the tangent summed."""
    def vjp(g: Tensor, ans: Tensor, x: Tensor, axis: tuple, keepdims: bool) -> Tensor:
        lead = tuple(g.shape[: g.ndim - (x.ndim if keepdims else x.ndim - len(axis))])
        kept = ops_for(g).reshape(g, lead + _kept_shape(tuple(x.shape), axis))
        return kept * weights(ans, x, axis)

    def jvp(tangents: tuple, ans: Tensor, x: Tensor, **params: Any) -> Tensor:
        t = tangents[0]  # an entry not moved adds nothing, even where its weight overflowed
        return apply(sum_, where(t == 0, 0.0, t * weights(ans, x, params["axis"])), **params)

    return defprim(name, forward, (vjp,), jvp, **options)


# ----------------------------------------------------------------------- sum


def _sum_vjp(g: Any, ans: Any, x: Any, axis: tuple, keepdims: bool) -> Any:
    m = ops_for(g)
    if not g.ndim:  # everything summed (no batch): g spread over x
        return m.broadcast_to(g, tuple(x.shape))
    lead = tuple(g.shape[: g.ndim - (x.ndim if keepdims else x.ndim - len(axis))])
    kept = m.reshape(g, lead + _kept_shape(tuple(x.shape), axis))
    return m.broadcast_to(kept, lead + tuple(x.shape))


def _sum_forward(xp: Any, x: Any, axis: tuple, keepdims: bool) -> Any:
    if xp is backend.numpy_namespace and x.dtype.kind in "fc":  # the ufunc, no wrappers
        return _add_reduce(x, axis=axis, keepdims=keepdims)
    return xp.sum(x, axis=axis, keepdims=keepdims)


_add_reduce = backend.np.add.reduce  # NumPy's float sum as the ufunc: no wrappers
_ALL_AXES = [()] + [tuple(range(-n, 0)) for n in range(1, 33)]  # by ndim: no tuple per call


sum_ = defprim("sum", _sum_forward, (_sum_vjp,), linear="joint", reads=(), poly=True)


def sum(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,  # noqa: A001
        keepdims: bool | None = None) -> Tensor:
    """Sum over ``dim`` (all axes by default).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.sum(wl.tensor([[1.0, 2.0], [3.0, 4.0]]), dim=0).tolist()
    [4.0, 6.0]
    """
    if (type(x) is Tensor and dim is None and axis is None and keepdims is None
            and not keepdim and x._xp is backend.numpy_namespace
            and x._data.dtype.kind in "fc" and x._data.ndim <= 32):  # x.sum(), the common case
        axes = _ALL_AXES[x._data.ndim]
        return finish_one(sum_, _add_reduce(x._data, axis=axes), x,
                          {"axis": axes, "keepdims": False})
    x = as_tensor(x)
    if backend.is_bool(x._data.dtype, x._xp):
        x = undifferentiated(cast_, (x,), {"dtype": backend.to_dtype("int64", x._xp)})  # count
    return _reduce(sum_, x, dim, keepdim, axis, keepdims)


def mean(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
         keepdims: bool | None = None) -> Tensor:
    """Arithmetic mean over ``dim`` (all axes by default).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.mean(wl.tensor([1.0, 2.0, 3.0])).item()
    2.0
    """
    x = _float_input(x)
    if backend.dtype_name(x.dtype) == "float16":  # summed in float32, as NumPy and PyTorch
        return astype(mean(astype(x, "float32"), dim, keepdim, axis=axis, keepdims=keepdims),
                      "float16")
    axes, keep = _spec(x, dim, keepdim, axis, keepdims, "mean")
    count = math.prod(x.shape[a] for a in axes)
    total = apply(sum_, x, axis=axes, keepdims=keep)
    return total / count if count else total * math.nan


def _correction(name: str, dim: Any, unbiased: Any, correction: Any,
                ddof: Any) -> tuple[Any, float]:
    """``(dim, correction)`` from PyTorch's ``unbiased=`` (also positional: ``x.var(True)``),
    ``correction=`` or NumPy's ``ddof=``; the population form when none is given."""
    if isinstance(dim, bool | backend.np.bool_):
        if unbiased is not None:
            raise TypeError(f"{name}: unbiased given twice ({dim!r} and {unbiased!r})")
        dim, unbiased = None, dim
    given = [v for v in (unbiased, correction, ddof) if v is not None]
    if len(given) > 1:
        raise TypeError(f"{name}: give one of unbiased, correction and ddof, not several")
    if unbiased is not None and not isinstance(unbiased, bool | backend.np.bool_):
        raise TypeError(f"{name}: unbiased must be True or False, got {unbiased!r}")
    return dim, int(unbiased) if unbiased is not None else given[0] if given else 0


def var(x: Any, dim: Any = None, keepdim: bool = False, *, unbiased: bool | None = None,
        correction: float | None = None, ddof: float | None = None, axis: Any = None,
        keepdims: bool | None = None) -> Tensor:
    """Variance over ``dim``: the population form unless asked (``correction=0``).

    ``unbiased=True`` (PyTorch's keyword; also ``x.var(True)``) is ``correction=1``, the
    sample variance; ``correction=`` and NumPy's ``ddof=`` are accepted too. With nothing
    given, ``correction=0`` (PyTorch's default is 1).

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor([1.0, 2.0, 3.0, 4.0])
    >>> wl.var(x).item(), x.var(unbiased=True).item()
    (1.25, 1.6666666666666667)
    """
    dim, correction = _correction("var", dim, unbiased, correction, ddof)
    x = _float_input(x)
    axes, keep = _spec(x, dim, keepdim, axis, keepdims, "var")
    centred = x - mean(x, dim=axes, keepdim=True)
    total = sum(centred * centred, dim=axes, keepdim=keep)
    return total / builtins.max(math.prod(x.shape[a] for a in axes) - correction, 0)


def std(x: Any, dim: Any = None, keepdim: bool = False, *, unbiased: bool | None = None,
        correction: float | None = None, ddof: float | None = None, axis: Any = None,
        keepdims: bool | None = None) -> Tensor:
    """Standard deviation over ``dim``: the population form unless asked (see ``var``).

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor([1.0, 3.0])
    >>> wl.std(x).item(), round(x.std(unbiased=True).item(), 6)
    (1.0, 1.414214)
    """
    v = var(x, dim, keepdim, unbiased=unbiased, correction=correction, ddof=ddof, axis=axis,
            keepdims=keepdims)
    return where(v == 0, 0.0, sqrt(where(v == 0, 1.0, v)))  # a gradient of 0 there, as PyTorch


# ----------------------------------------------------------------------- max, min


def _extremum_mask(ans: Tensor, x: Tensor, axis: tuple) -> Tensor:
    """Where ``x`` attains the extremum, each tie weighted 1/count (even split, as amax)."""
    ak = reshape(ans, _kept_shape(x.shape, axis))
    hits = where(x == ak, 1.0, 0.0)
    return hits / apply(sum_, hits, axis=axis, keepdims=True)


max_ = _defreduction("max", lambda xp, x, axis, keepdims: xp.max(x, axis=axis, keepdims=keepdims),
                     _extremum_mask, uses_ans=True)
min_ = _defreduction("min", lambda xp, x, axis, keepdims: xp.min(x, axis=axis, keepdims=keepdims),
                     _extremum_mask, uses_ans=True)


def _extremum(prim: Any, x: Any, dim: Any, keepdim: bool, axis: Any, keepdims: Any) -> Tensor:
    x = as_tensor(x)
    axes, keep = _spec(x, dim, keepdim, axis, keepdims, prim.name)
    empty = [a + x.ndim for a in axes if x.shape[a] == 0]  # (others may be: as NumPy)
    if empty:
        raise ValueError(f"{prim.name}: the tensor of shape {x.shape} is empty along "
                         f"dimension {empty[0]}; there is no {prim.name} to take")
    return apply(prim, x, axis=axes, keepdims=keep)


def max(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,  # noqa: A001
        keepdims: bool | None = None) -> Tensor:
    """Largest value over ``dim`` (values only, as ``torch.amax``); ties share the gradient.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.max(wl.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1).tolist()
    [5.0, 7.0]
    """
    return _extremum(max_, x, dim, keepdim, axis, keepdims)


def min(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,  # noqa: A001
        keepdims: bool | None = None) -> Tensor:
    """Smallest value over ``dim`` (values only, as ``torch.amin``); ties share the gradient.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.min(wl.tensor([3.0, 1.0, 2.0])).item()
    1.0
    """
    return _extremum(min_, x, dim, keepdim, axis, keepdims)


def _arg_forward(xp: Any, x: Any, name: str, axis: Any, keepdims: bool) -> Any:
    fn = xp.argmax if name == "argmax" else xp.argmin
    return fn(xp.reshape(x, (-1,))) if axis is None else fn(x, axis=axis, keepdims=keepdims)


arg_ = Primitive("argmax_argmin", _arg_forward, (None,), None)  # indices: no derivative


def _arg(name: str, x: Any, dim: Any, keepdim: bool) -> Tensor:
    x = as_tensor(x)
    axis = None if dim is None else _axis(dim, builtins.max(x.ndim, 1), name)  # 0-d: 0, -1
    params = {"name": name, "axis": axis if x.ndim else None, "keepdims": keepdim}
    return undifferentiated(arg_, (x,), params)


def argmax(x: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (over the flattened tensor when ``dim`` is None).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.argmax(wl.tensor([1.0, 5.0, 2.0])).item()
    1
    """
    return _arg("argmax", x, dim, keepdim)


def argmin(x: Any, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the smallest value (over the flattened tensor when ``dim`` is None).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.argmin(wl.tensor([1.0, 5.0, 0.0])).item()
    2
    """
    return _arg("argmin", x, dim, keepdim)


# ----------------------------------------------------------------------- prod


def _prod_grad(ans: Tensor, x: Tensor, axis: tuple) -> Tensor:
    """The product of the other entries: the products before each entry times those after
    it, over the reduced axes laid out as one. No division, so exact with zeros, and made
    of products only, so its own derivatives are exact too (a Hessian with zeros)."""
    ndim = x.ndim
    reduced = [a % ndim for a in axis]
    order = [a for a in range(ndim) if a not in reduced] + reduced
    moved = permute(x, order)
    n = math.prod(moved.shape[ndim - len(reduced):])
    if n <= 1:
        return ones_like(x)
    flat = reshape(moved, (*moved.shape[:ndim - len(reduced)], n))
    last = flat.ndim - 1
    before = _products_before(flat)
    after = reversed_along(_products_before(reversed_along(flat, last)), last)
    others = before * after  # 0 · inf (a zero, and others whose product overflows): the 0
    others = where(isnan(others) & ~isnan(before) & ~isnan(after), 0.0, others)
    return permute(reshape(others, moved.shape), [order.index(a) for a in range(ndim)])


def _products_before(v: Tensor) -> Tensor:
    """Along the last axis, the product of the entries before each one (1 for the first):
    a scan in log2(n) rounds of elementwise products."""
    out = concatenate([ones_like(v[..., :1]), v[..., :-1]], axis=-1)
    shift = 1
    while shift < v.shape[-1]:
        out = concatenate([out[..., :shift], out[..., shift:] * out[..., :-shift]], axis=-1)
        shift *= 2
    return out


prod_ = _defreduction("prod",
                      lambda xp, x, axis, keepdims: xp.prod(x, axis=axis, keepdims=keepdims),
                      _prod_grad)


def prod(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
         keepdims: bool | None = None) -> Tensor:
    """Product over ``dim`` (all axes by default); exact gradients even with zeros.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.prod(wl.tensor([2.0, 3.0, 4.0])).item()
    24.0
    """
    return _reduce(prod_, as_tensor(x), dim, keepdim, axis, keepdims)


# ----------------------------------------------------------------------- logsumexp


def _softmax(x: Tensor, axes: tuple) -> Tensor:
    """``exp(x) / sum(exp(x))``, shifted by the max: ``exp(x - logsumexp)`` lost the sum's
    rounding (weights [1, 1] for [1e16, 1e16]; 268 ulps at [-700, 0, 0])."""
    e = exp(_shifted(x, axes))
    return e / apply(sum_, e, axis=axes, keepdims=True)


logsumexp_ = _defreduction("logsumexp", backend.logsumexp, lambda ans, x, axis: _softmax(x, axis))


def logsumexp(x: Any, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
              keepdims: bool | None = None) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, computed stably.

    Examples
    --------
    >>> import wonderland as wl
    >>> round(wl.logsumexp(wl.tensor([1000.0, 1000.0])).item(), 4)
    1000.6931
    """
    return _reduce(logsumexp_, _float_input(x), dim, keepdim, axis, keepdims)


def softmax(x: Any, dim: int = -1, *, axis: int | None = None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim`` (the last axis by default), stably.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.softmax(wl.tensor([0.0, 0.0])).tolist()
    [0.5, 0.5]
    """
    x = _float_input(x)
    return _softmax(x, _dims(dim if axis is None else axis, None, x.ndim, "softmax"))


def log_softmax(x: Any, dim: int = -1, *, axis: int | None = None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim`` (the last axis by default).

    Examples
    --------
    >>> import wonderland as wl
    >>> round(wl.log_softmax(wl.tensor([0.0, 0.0]))[0].item(), 4)
    -0.6931
    """
    x = _float_input(x)
    axes = _dims(dim if axis is None else axis, None, x.ndim, "log_softmax")
    x = _shifted(x, axes)
    return x - apply(logsumexp_, x, axis=axes, keepdims=True)


def _shifted(x: Tensor, axes: tuple) -> Tensor:
    """``x`` less its max over ``axes`` (a constant: no gradient), as torch: logsumexp's
    rounding (``|x| ε``) stays out of what follows, and ``exp`` cannot overflow."""
    if not x.size:
        return x
    top = apply(max_, x.detach(), axis=axes, keepdims=True)
    return x - where(isfinite(top), top, 0.0)


# ----------------------------------------------------------------------- norm


def _norm2_weights(ans: Tensor, x: Tensor, axis: tuple) -> Tensor:
    ak = reshape(ans, _kept_shape(x.shape, axis))
    return x * where(ak == 0, 0.0, 1.0 / where(ak == 0, 1.0, ak))  # 0 at the origin (PyTorch)


norm2_ = _defreduction("norm2", lambda xp, x, axis, keepdims: xp.sqrt(
    xp.sum(x * x, axis=axis, keepdims=keepdims)), _norm2_weights, uses_ans=True)


def norm(x: Any, ord: Any = 2, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
         axis: Any = None, keepdims: bool | None = None, p: Any = None) -> Tensor:
    """Vector norm of the entries over ``dim`` (all entries by default: Frobenius for a matrix).

    ``ord`` (or ``p``, PyTorch's name) is 2 (default), 1, ``inf``, ``-inf``, 0 (count of
    non-zeros) or any p > 0.
    The gradient of a p-norm is 0 at the origin and at zero entries, as in PyTorch.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.norm(wl.tensor([3.0, 4.0])).item()
    5.0
    """
    x, ord = _float_input(x), ord if p is None else p  # noqa: A001
    axes, keep = _spec(x, dim, keepdim, axis, keepdims, "norm")
    if ord is None or ord == 2 or ord == "fro":
        return apply(norm2_, x, axis=axes, keepdims=keep)
    if ord == 1:
        return sum(abs_(x), dim=axes, keepdim=keep)
    if ord == math.inf or ord == -math.inf:
        return (max if ord > 0 else min)(abs_(x), dim=axes, keepdim=keep)
    if ord == 0:  # x ** 0: ones with a zero gradient, as PyTorch's
        return sum(where(x != 0, x ** 0, 0.0), dim=axes, keepdim=keep)
    if isinstance(ord, (int, float)) and ord > 0:  # 0 ** p and 0 ** (1/p): gradient 0, as PyTorch
        powers = where(x == 0, 0.0, abs_(where(x == 0, 1.0, x)) ** ord)
        total = sum(powers, dim=axes, keepdim=keep)
        return where(total == 0, 0.0, where(total == 0, 1.0, total) ** (1.0 / ord))
    raise ValueError(f"norm: unsupported ord {ord!r}; use 2, 1, inf, -inf, 0 or p > 0")
