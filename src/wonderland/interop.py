"""NumPy's protocols on ``Tensor``: NumPy functions called on tensors run as wonderland ops.

``__array_ufunc__`` handles NumPy's ufuncs (``np.sin(t)``, ``np.ones(3) * t``) and
``__array_function__`` its other functions (``np.sum(t, axis=0)``, ``np.linalg.norm(t)``),
so NumPy code stays in the graph and is differentiable in reverse and forward mode.

* Differentiable functions map to wonderland operations through two tables, ``_UFUNCS``
  and ``_FUNCTIONS``, and return Tensors. A function's arguments are read with NumPy's own
  signature (same names, same positions); an argument the wonderland side has no use for
  (``out=``, ``dtype=``, ``where=``, ``order='F'``, ...) raises ``TypeError``.
* Comparisons and logical ufuncs (``np.less``, ``np.isnan``, ...) return bool Tensors, as
  ``np.zeros_like`` / ``np.ones_like`` return constant Tensors: no gradient flows there.
* Queries whose result needs no gradient (``np.shape``, ``np.allclose``, ``np.argmax``,
  ``np.isclose``, ...; the set ``_QUERIES``, and the one-argument ``np.where``) run on
  plain NumPy arrays (tensors converted with ``np.asarray``, also inside lists and tuples)
  and return exactly what NumPy returns: NumPy arrays and scalars, never Tensors.
* Anything else raises ``TypeError`` naming the NumPy function and, where one exists, the
  wonderland function to use instead. ``np.asarray(t)`` still gives a NumPy array; while a
  transform differentiates through ``t`` it also warns that no derivative flows through
  that array (NumPy builds one from a list of tensors this way: ``np.sum([x[0], x[1]])``).

Examples
--------
>>> import numpy as np
>>> import wonderland as wl
>>> wl.grad(lambda v: np.sin(v))(0.0).item()  # cos(0)
1.0
>>> x = wl.tensor([1.0, 2.0])
>>> wl.grad(lambda v: np.sum(np.square(v), axis=0))(x).tolist()
[2.0, 4.0]
>>> np.argmax(np.ones(2) + x)  # a query: NumPy's own result
np.int64(1)
"""

from __future__ import annotations

import functools
import inspect
import operator
import string
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from . import array_libraries, creation, idioms
from .autodiff import forward
from .primitives import elementwise as ew
from .primitives import linalg as la
from .primitives import reductions as red
from .primitives import shape as sh
from .tensor import Tensor, _thread_mode, as_tensor

# ----------------------------------------------------------------------- ufuncs


def _operator(name: str) -> Callable[[Any, Any], Tensor]:
    """``a <op> b`` by the Tensor's operator: the reflected one (``b.__radd__(a)``) when
    ``a`` is not a Tensor, so that NumPy is not asked again."""
    forward, reflected = getattr(operator, name), f"__r{name}__"
    return lambda a, b: forward(a, b) if isinstance(a, Tensor) else getattr(b, reflected)(a)


def _truth(x: Any) -> Any:
    """``x`` as booleans (``x != 0``): NumPy's logical ufuncs take any dtype."""
    return bool(x) if isinstance(x, (int, float)) else ew.astype(x, "bool")


def _logical(op: Callable[[Any, Any], Tensor]) -> Callable[[Any, Any], Tensor]:
    return lambda a, b: op(_truth(a), _truth(b))


_UFUNCS: dict[np.ufunc, Callable[..., Tensor]] = {
    np.add: _operator("add"),
    np.subtract: _operator("sub"),
    np.multiply: _operator("mul"),
    np.true_divide: _operator("truediv"),  # also np.divide
    np.power: _operator("pow"),
    np.matmul: la.matmul,
    np.maximum: ew.maximum,
    np.minimum: ew.minimum,
    np.negative: ew.negative,
    np.positive: lambda x: x,
    np.absolute: ew.abs,  # also np.abs
    np.exp: ew.exp,
    np.log: ew.log,
    np.log1p: ew.log1p,
    np.sqrt: ew.sqrt,
    np.square: lambda x: x * x,
    np.sin: ew.sin,
    np.cos: ew.cos,
    np.tan: ew.tan,
    np.tanh: ew.tanh,
    np.sign: ew.sign,
    np.floor: ew.floor,
    np.ceil: ew.ceil,
    np.trunc: ew.trunc,
    np.rint: idioms.round,
    np.floor_divide: _operator("floordiv"),
    np.remainder: _operator("mod"),  # also np.mod
    # not differentiable: bool tensors
    np.less: ew.less,
    np.less_equal: ew.less_equal,
    np.greater: ew.greater,
    np.greater_equal: ew.greater_equal,
    np.equal: ew.equal,
    np.not_equal: ew.not_equal,
    np.logical_and: _logical(ew.logical_and),
    np.logical_or: _logical(ew.logical_or),
    np.logical_xor: _logical(ew.logical_xor),
    np.logical_not: lambda x: ew.logical_not(_truth(x)),
    np.bitwise_and: ew.logical_and,  # (the operators ``& | ^ ~``: bitwise, as NumPy's)
    np.bitwise_or: ew.logical_or,
    np.bitwise_xor: ew.logical_xor,
    np.invert: ew.logical_not,
    np.isfinite: ew.isfinite,
    np.isnan: ew.isnan,
}

# What to use for a NumPy function or ufunc (method) that has no mapping, by name.
_HINTS = {
    "log10": "wl.log(t) / math.log(10)", "log2": "wl.log(t) / math.log(2)",
    "expm1": "wl.exp(t) - 1", "reciprocal": "1 / t", "expit": "wl.sigmoid",
    "logaddexp": "wl.logsumexp(wl.stack([a, b]), axis=0)", "tensordot": "wl.einsum",
    "trace": "wl.einsum('ii->', t)", "moveaxis": "wl.permute",
    "copyto": "assignment of the result (y = ...) or t.copy_(src)",
    "maximum.reduce": "wl.max", "minimum.reduce": "wl.min", "multiply.reduce": "wl.prod",
    "logaddexp.reduce": "wl.logsumexp",
    # NumPy names a user tries first, whose wonderland form is not called the same
    "fabs": "wl.abs", "isinf": "~wl.isfinite(t) & ~wl.isnan(t)", "exp2": "2.0 ** t",
    "float_power": "t ** p", "sinh": "(wl.exp(t) - wl.exp(-t)) / 2",
    "cosh": "(wl.exp(t) + wl.exp(-t)) / 2", "hypot": "wl.sqrt(a * a + b * b)",
    "average": "np.mean (with weights w: np.sum(w * t) / np.sum(w))",
    "nansum": "np.sum(np.where(np.isnan(t), 0.0, t))",
    "flip": "wl.flip(t, dims)", "roll": "wl.roll(t, shifts, dims)", "tril": "wl.tril",
    "triu": "wl.triu", "full_like": "wl.full_like", "empty_like": "np.zeros_like",
    "copy": "t.clone()", "vstack": "np.concatenate(..., axis=0) (np.stack for 1-D rows)",
    "hstack": "np.concatenate(..., axis=1) (axis=0 for 1-D)",
    "column_stack": "np.stack(..., axis=1)",
    "split": "wl.chunk(t, n, dim) for n equal pieces, or wl.split(t, sizes, dim) (sizes, "
             "not NumPy's split indices)",
    "array_split": "wl.chunk(t, n, dim)", "atleast_2d": "np.reshape or t[None]",
}


def _unsupported(name: str, key: str) -> TypeError:
    hint = _HINTS.get(key)
    if hint is not None:
        return TypeError(f"{name} is not supported on wonderland tensors; use {hint} instead")
    return TypeError(f"{name} is not differentiable in wonderland; if no gradient is needed, "
                     f"compute on plain arrays: t.numpy() (or t.detach().numpy())")


def _ufunc_name(ufunc: np.ufunc) -> str:
    return (f"numpy.{ufunc.__name__}" if getattr(np, ufunc.__name__, None) is ufunc
            else f"ufunc {ufunc.__name__!r}")


def _foreign(objects: Any) -> bool:
    """Whether an argument belongs to another library that overrides NumPy itself."""
    return any(hasattr(type(x), "__array_ufunc__")
               and not isinstance(x, (Tensor, np.ndarray, np.generic)) for x in objects)


def _array_ufunc(self: Tensor, ufunc: np.ufunc, method: str, *inputs: Any,
                 **kwargs: Any) -> Any:
    """NumPy's ufunc protocol: ``np.sin(t)``, ``np.ones(3) * t``, ``np.add.reduce(t)``.

    Parameters
    ----------
    ufunc : numpy.ufunc
        The ufunc called.
    method : str
        ``"__call__"``, or ``"reduce"`` (supported for ``np.add`` only), ...
    *inputs : Any
        Tensors, NumPy arrays and Python scalars, in any mix.
    **kwargs : Any
        NumPy's keywords; ``out=`` is refused, ``np.add.reduce`` takes ``axis`` and
        ``keepdims``.

    Returns
    -------
    Tensor
        The result, recorded for reverse and forward mode where differentiable.
    """
    name = _ufunc_name(ufunc)
    if _foreign(inputs + tuple(kwargs.get("out", ()))):
        return NotImplemented
    if "out" in kwargs:
        raise TypeError(f"{name}(..., out=...): wonderland tensors are not written through "
                        f"out=; assign the result instead (y = {name}(...))")
    if method == "reduce" and ufunc is np.add:
        axis, keepdims = kwargs.pop("axis", 0), kwargs.pop("keepdims", False)
        _refuse(f"{name}.reduce", {k: v for k, v in kwargs.items() if v is not None})
        return red.sum(inputs[0], axis=axis, keepdims=bool(keepdims))
    if method != "__call__":
        raise _unsupported(f"{name}.{method}", f"{ufunc.__name__}.{method}")
    fn = _UFUNCS.get(ufunc)
    if fn is None:
        raise _unsupported(name, ufunc.__name__)
    _refuse(name, kwargs)
    return fn(*inputs)


def _refuse(name: str, arguments: dict) -> None:
    if arguments:
        raise TypeError(f"{name}: argument(s) {', '.join(map(repr, arguments))} not supported "
                        f"on wonderland tensors")


# ----------------------------------------------------------------------- other functions
# Adapters take NumPy's parameter names; they see only the arguments given (not defaults).


def _reduction(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    return lambda a, axis=None, keepdims=False: fn(a, axis=axis, keepdims=bool(keepdims))


def _spread(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``var``/``std``: NumPy's ``ddof`` or ``correction``."""
    def adapter(a: Any, axis: Any = None, ddof: float = 0, keepdims: bool = False,
                correction: float | None = None) -> Tensor:
        ddof = ddof if correction is None else correction
        return fn(a, axis=axis, keepdims=bool(keepdims), ddof=ddof)

    return adapter


def _dot(a: Any, b: Any) -> Tensor:
    """NumPy's ``dot``: past two dimensions, the last axis of ``a`` against the
    second-to-last of ``b`` (every other axis kept), unlike ``matmul``."""
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim and b.ndim:  # else a product with a scalar
        _check_dot_aligned(a.shape, b.shape)
    if min(a.ndim, b.ndim) <= 1 or max(a.ndim, b.ndim) <= 2:  # the same as matmul
        return la.dot(a, b)
    letters = iter(string.ascii_letters[2:])
    left = "".join(next(letters) for _ in range(a.ndim - 1))
    right = "".join(next(letters) for _ in range(b.ndim - 2))
    return la.einsum(f"{left}a,{right}ab->{left}{right}b", a, b)


def _check_dot_aligned(a_shape: tuple, b_shape: tuple) -> None:
    """NumPy's error for ``dot``, in its terms (matmul's and einsum's would name them)."""
    b_axis = 0 if len(b_shape) == 1 else len(b_shape) - 2
    if a_shape[-1] != b_shape[b_axis]:
        raise ValueError(f"numpy.dot: shapes {a_shape} and {b_shape} are not aligned: "
                         f"{a_shape[-1]} (dim {len(a_shape) - 1}) != {b_shape[b_axis]} "
                         f"(dim {b_axis})")


def _einsum(operands: tuple, optimize: Any = False) -> Tensor:
    if not operands or not isinstance(operands[0], str):
        raise TypeError("numpy.einsum: give the subscripts as a string on wonderland tensors")
    return la.einsum(*operands)  # ``optimize`` is a speed hint: nothing to do


def _where(condition: Any, x: Any = None, y: Any = None) -> Any:
    if x is None and y is None:  # the one-argument form: indices (a query, NumPy's result)
        return np.nonzero(np.asarray(condition))
    if x is None or y is None:
        raise ValueError("either both or neither of x and y should be given")
    return ew.where(condition, x, y)


def _concatenate(arrays: Any, axis: int | None = 0) -> Tensor:
    if axis is None:
        return sh.concatenate([sh.reshape(a, (-1,)) for a in arrays])
    return sh.concatenate(list(arrays), axis=axis)


def _clip(a: Any, a_min: Any = None, a_max: Any = None, *, min: Any = None,  # noqa: A002
          max: Any = None) -> Tensor:  # noqa: A002
    return ew.clip(a, a_min if min is None else min, a_max if max is None else max)


def _squeeze(a: Any, axis: Any = None) -> Tensor:
    a = as_tensor(a)
    if axis is not None:
        axes = normalize_axis_tuple(axis, a.ndim)
        if any(a.shape[i] != 1 for i in axes):
            raise ValueError("cannot select an axis to squeeze out which has size not "
                             f"equal to one (shape {a.shape}, axis {axis})")
        return sh.squeeze(a, axes)
    return sh.squeeze(a)


def _expand_dims(a: Any, axis: Any) -> Tensor:
    a = as_tensor(a)
    ndim = a.ndim + (len(axis) if isinstance(axis, (tuple, list)) else 1)
    axes, sizes = normalize_axis_tuple(axis, ndim), iter(a.shape)
    return sh.reshape(a, tuple(1 if i in axes else next(sizes) for i in range(ndim)))


def _transpose(a: Any, axes: Any = None) -> Tensor:
    a = as_tensor(a)
    return sh.permute(a, tuple(reversed(range(a.ndim))) if axes is None else tuple(axes))


def _norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A002
    """``np.linalg.norm``: vector norms, and the Frobenius norm of matrices."""
    x = as_tensor(x)
    matrix = len(axis) == 2 if isinstance(axis, tuple) else axis is None and x.ndim == 2
    if ord is not None and matrix and ord != "fro":
        raise TypeError(f"numpy.linalg.norm: the matrix norm ord={ord!r} is not supported on "
                        f"wonderland tensors; use ord='fro' or write it with wl operations")
    if axis is None and ord is not None and x.ndim > 2:
        raise ValueError("Improper number of dimensions to norm.")
    return red.norm(x, 2 if ord in (None, "fro") else ord, axis=axis, keepdims=bool(keepdims))


def _cholesky(a: Any, upper: bool = False) -> Tensor:
    low = la.cholesky(a)
    return sh.matrix_transpose(low) if upper else low


_FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.sum: _reduction(red.sum),
    np.mean: _reduction(red.mean),
    np.max: _reduction(red.max),
    np.amax: _reduction(red.max),
    np.min: _reduction(red.min),
    np.amin: _reduction(red.min),
    np.prod: _reduction(red.prod),
    np.var: _spread(red.var),
    np.std: _spread(red.std),
    np.dot: _dot,
    np.inner: la.inner,
    np.outer: la.outer,
    np.einsum: _einsum,
    np.where: _where,
    np.stack: lambda arrays, axis=0: sh.stack(list(arrays), axis=axis),
    np.concatenate: _concatenate,
    np.reshape: lambda a, shape: sh.reshape(a, shape),
    np.ravel: lambda a: sh.reshape(a, (-1,)),
    np.transpose: _transpose,
    np.swapaxes: lambda a, axis1, axis2: sh.transpose(a, axis1, axis2),
    np.clip: _clip,
    np.round: lambda a, decimals=0: idioms.round(a, decimals),
    np.around: lambda a, decimals=0: idioms.round(a, decimals),
    np.squeeze: _squeeze,
    np.expand_dims: _expand_dims,
    np.broadcast_to: lambda array, shape: sh.broadcast_to(array, shape),
    np.zeros_like: lambda a, dtype=None: creation.zeros_like(a, dtype=dtype),
    np.ones_like: lambda a, dtype=None: creation.ones_like(a, dtype=dtype),
    np.linalg.norm: _norm,
    np.linalg.solve: la.solve,
    np.linalg.inv: la.inv,
    np.linalg.cholesky: _cholesky,
}

# Results that need no gradient: NumPy computes them on plain arrays.
_QUERIES = {
    np.shape, np.ndim, np.size, np.allclose, np.isclose, np.array_equal, np.array_equiv,
    np.argmax, np.argmin, np.argsort, np.argwhere, np.nonzero, np.flatnonzero, np.any,
    np.all, np.count_nonzero, np.result_type, np.iscomplexobj, np.isrealobj,
}


def _plain(value: Any) -> Any:
    """``value`` with its Tensors (also inside lists and tuples) as NumPy arrays."""
    if isinstance(value, Tensor):
        return array_libraries.to_numpy(value._data)  # a query's values: no warning of a cut
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


def _function_name(func: Callable[..., Any]) -> str:
    module = getattr(func, "__module__", None) or "numpy"
    return f"{'numpy' if module.startswith('numpy._') else module}.{func.__name__}"


def _is_default(value: Any, default: Any) -> bool:
    return value is default or (isinstance(default, (str, bool)) and type(value) is type(default)
                                and value == default)


_signature = functools.cache(inspect.signature)


def _given(func: Callable[..., Any], args: tuple, kwargs: dict) -> dict[str, Any]:
    """The arguments given to ``func``, by NumPy's parameter names, defaults left out."""
    signature = _signature(func)
    given = {}
    for key, value in signature.bind(*args, **kwargs).arguments.items():
        parameter = signature.parameters[key]
        if parameter.kind is parameter.VAR_KEYWORD:
            given.update(value)
        elif not _is_default(value, parameter.default):
            given[key] = value
    return given


def _array_function(self: Tensor, func: Callable[..., Any], types: tuple, args: tuple,
                    kwargs: dict) -> Any:
    """NumPy's function protocol: ``np.sum(t, axis=0)``, ``np.stack([t, u])``, ...

    Parameters
    ----------
    func : callable
        The NumPy function called.
    types : tuple of type
        The types of the arguments that implement the protocol.
    args, kwargs : tuple, dict
        The arguments, as given to ``func``.

    Returns
    -------
    Any
        A Tensor for the mapped functions, NumPy's own result for the queries.
    """
    if not all(issubclass(t, (Tensor, np.ndarray)) for t in types):
        return NotImplemented
    if func in _QUERIES:
        return func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})
    name = _function_name(func)
    adapter = _FUNCTIONS.get(func)
    if adapter is None:
        raise _unsupported(name, func.__name__)
    given = _given(func, args, kwargs)
    _refuse(name, {k: v for k, v in given.items() if k not in _signature(adapter).parameters})
    return adapter(**given)


# np.asarray(t) (a NumPy array of the values, never a Tensor) and the DLPack exchange
def _array(self: Tensor, dtype: Any = None, copy: bool | None = None) -> Any:
    if _transformed(self):  # also np.sum([x[0], x[1]]), np.array([...]), df @ x: a cut of
        warnings.warn(  # the gradient that nothing else would show
            "a tensor that a transform differentiates became a NumPy array (np.asarray, "
            "np.array or np.sum of a list of tensors, a pandas operation, ...): no derivative "
            "flows through the result; build arrays with wl.stack / np.stack, or use "
            "t.detach().numpy() where no derivative is meant", stacklevel=2)
    array = array_libraries.to_numpy(self._data)
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    if copy:
        array = array.copy()
    return array


def _transformed(t: Tensor) -> bool:
    """Whether a transform running its function now differentiates through ``t``."""
    return ((t._rg and _thread_mode.reverse_transforms > 0)
            or any(level in forward._batch_ndim for level in t._fw or ()))


def _dlpack(self: Tensor, *args: Any, **kwargs: Any) -> Any:
    return self._data.__dlpack__(*args, **kwargs)


def _dlpack_device(self: Tensor) -> Any:
    return self._data.__dlpack_device__()


Tensor.__array__ = _array
Tensor.__dlpack__ = _dlpack
Tensor.__dlpack_device__ = _dlpack_device
Tensor.__array_ufunc__ = _array_ufunc
Tensor.__array_function__ = _array_function
# pandas defers to an operand of higher priority (Series 3000, DataFrame 4000): ``s * t``
# then runs as ``t.__rmul__(s)``, a Tensor in the graph, not a Series cut from it
Tensor.__pandas_priority__ = 5000

__all__: list[str] = []
