"""The array backend: which namespace a tensor's data lives in, dtypes, and the few
array functions the Array-API standard lacks (scatter-add, einsum, logsumexp).

This is the one module that imports NumPy for computation; everything else calls
the namespace of the data it holds, so CuPy, PyTorch or ``array_api_strict`` arrays
work unchanged.
"""

from __future__ import annotations

import math
import operator
import os
import sys
import threading
from collections.abc import Callable
from functools import partial
from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np

from . import array_libraries

float32 = np.dtype("float32")
float64 = np.dtype("float64")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")

numpy_namespace: ModuleType = array_api_compat.array_namespace(np.zeros(0))

_NAMESPACES: dict[type, ModuleType] = {np.ndarray: numpy_namespace}

def namespace(data: Any) -> ModuleType:
    """The Array-API namespace of ``data`` (cached by array type)."""
    kind = type(data)
    xp = _NAMESPACES.get(kind)
    if xp is None:
        if isinstance(data, np.generic):
            return numpy_namespace
        xp = _NAMESPACES[kind] = array_api_compat.array_namespace(data)
    return xp


def is_array(value: Any) -> bool:
    """True for an array of any Array-API library (NumPy scalars included)."""
    return isinstance(value, (np.ndarray, np.generic)) or array_api_compat.is_array_api_obj(value)


def to_dtype(dtype: Any, xp: ModuleType = numpy_namespace) -> Any:
    """A dtype of ``xp`` from a NumPy dtype, a string or a dtype of ``xp`` itself (None as
    it is)."""
    if isinstance(dtype, (str, np.dtype, type)):
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"unknown dtype {dtype!r}; use float32, float64, int64 or bool, "
                            f"e.g. dtype='float64'") from None
        return dtype if xp is numpy_namespace else getattr(xp, dtype.name)
    return dtype


def _is_kind(kinds: str, api_kinds: Any) -> Callable[..., bool]:
    def test(dtype: Any, xp: ModuleType = numpy_namespace) -> bool:
        if isinstance(dtype, np.dtype):  # NumPy's kind letter: no call into the namespace
            return dtype.kind in kinds
        return bool(xp.isdtype(dtype, api_kinds))
    return test


# Tests of a dtype of NumPy or of ``xp``: floating (real or complex), complex, bool.
is_floating = _is_kind("fc", ("real floating", "complex floating"))
is_complex = _is_kind("c", "complex floating")
is_bool = _is_kind("b", "bool")


def kind_rank(dtype: Any, xp: ModuleType = numpy_namespace) -> int:
    """bool 0, integer 1, real floating 2, complex 3: NumPy's ``same_kind`` casts go down."""
    return is_floating(dtype, xp) + is_complex(dtype, xp) + (not is_bool(dtype, xp))


def dtype_name(dtype: Any) -> str:
    """``float32``, whatever the library (``torch.float32``, ``array_api_strict.float32``)."""
    return getattr(dtype, "name", None) or str(dtype).rpartition(".")[2]


def asarray(value: Any, dtype: Any = None, xp: ModuleType | None = None, copy: bool | None = None):
    """``value`` as an array of ``xp`` (NumPy by default). Python floats give float64."""
    if xp is None:
        xp = namespace(value) if is_array(value) else numpy_namespace
    if xp is numpy_namespace:
        return np.array(value, dtype=dtype, copy=True) if copy else np.asarray(value, dtype=dtype)
    if getattr(value, "requires_grad", False) and array_api_compat.is_torch_array(value):
        value = value.detach()  # torch's own autograd stays out (wonderland's records)
    return xp.asarray(value, dtype=to_dtype(dtype, xp), copy=copy)


def after_fork(renew: Callable[[], None]) -> None:
    """Call ``renew`` in a child process forked from this one: a lock that another thread
    held at the fork stays held in the child, where no thread will ever release it."""
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=renew)


def _renew_lock() -> None:
    global _ONES_LOCK
    _ONES_LOCK = threading.Lock()


_ONES: dict[tuple, np.ndarray] = {}
_ONES_LOCK = threading.Lock()
after_fork(_renew_lock)
UNITS: set[int] = set()  # ids of the cached ones: a cotangent among them multiplies as 1
_UNIT_LARGEST = 1 << 16  # elements; larger ones are not kept
_FILL_LARGEST = 1 << 12  # a larger broadcast stays a view: no memory for a sum's cotangent


def ones(shape: tuple, dtype: Any) -> np.ndarray:
    """Read-only NumPy ones of ``shape`` and ``dtype``, cached (the seeds of backward(), and
    their spread over a sum's input), so that a reverse rule knows a unit cotangent by its
    id in ``UNITS``."""
    a = _ONES.get((shape, dtype))
    if a is None:
        with _ONES_LOCK:  # two threads missing at once left the id of a freed array in UNITS
            if len(_ONES) >= 64:
                _ONES.clear()
                UNITS.clear()
            a = np.ones(shape, dtype)
            a.flags.writeable = False
            a = _ONES.setdefault((shape, dtype), a)
            UNITS.add(id(a))
    return a


# ----------------------------------------------------------------------- ownership
# Whether a raw array may be written in place, decided from CPython's reference count as
# PyTorch's AccumulateGrad decides it: ``ALONE`` is what ``sys.getrefcount`` reports inside
# a function for an argument that nothing else holds (tests/test_ownership.py pins it).
refcount = sys.getrefcount


def refs(a: Any) -> int:
    """``sys.getrefcount(a)`` as a function of its own: the caller's holds, plus ``ALONE``."""
    return refcount(a)


ALONE = refs(np.empty(0))
IN_PLACE_SMALLEST = 1 << 12  # elements; below this a fresh array is cheaper than the checks


def sole(a: Any, holders: int, owner_holders: int = 1) -> bool:
    """Whether the NumPy array ``a`` is writable, shares no memory, and nothing holds it
    beyond the caller's ``holders`` references (a view's memory owner: beyond
    ``owner_holders``)."""
    if refcount(a) > ALONE + holders or type(a) is not np.ndarray or not a.flags.writeable:
        return False
    base = a.base
    return base is None or (type(base) is np.ndarray and refcount(base) <= ALONE + owner_holders)


device = array_api_compat.device  # the device an array lives on


def complete_index(index: Any) -> Any:
    """``index`` as a tuple ending in ``...`` when it has none (strict libraries want it)."""
    items = index if isinstance(index, tuple) else (index,)
    if not is_basic_index(items) or any(i is Ellipsis for i in items):
        return index
    return items + (Ellipsis,)


def setitem(xp: ModuleType, out: Any, index: Any, value: Any) -> None:
    """``out[index] = value``; strict libraries get the trailing ``...`` and the value in
    ``out``'s dtype that NumPy would supply itself."""
    if xp is not numpy_namespace:
        index = complete_index(index)
        if is_array(value) and value.dtype != out.dtype:
            value = xp.astype(value, out.dtype)
    out[index] = value


def getitem(xp: ModuleType, x: Any, index: Any) -> Any:
    """``x[index]``; one vector of integers (or a vector mask) among full slices, which
    strict libraries refuse, is a ``take`` along its axis. Where NumPy gives a scalar
    (``x[0]`` of a vector), a 0-d view instead: writes reach ``x``."""
    try:
        out = x[index]
        return x[(*index, ...) if type(index) is tuple else (index, ...)] \
            if isinstance(out, np.generic) else out
    except IndexError:
        out = None if xp is numpy_namespace else array_libraries.take_for_index(xp, x, index)
        if out is None:
            raise
        return out


def sum_to(xp: ModuleType, g: Any, shape: tuple, nb: int = 0) -> Any:
    """Sum raw ``g`` down to ``g.shape[:nb] + shape`` (undo broadcasting); ValueError if not."""
    gshape = tuple(g.shape)
    if len(gshape) - nb < len(shape) and all(s == 1 for s in gshape[nb:]):
        return xp.broadcast_to(g, gshape[:nb] + tuple(shape))  # a smaller cotangent
    lead = len(gshape) - len(shape)  # the first axis that lines up with shape
    if lead < nb or any(s not in (1, gshape[lead + i]) for i, s in enumerate(shape)):
        raise ValueError(f"cannot reduce shape {gshape} to {tuple(shape)}")
    # the axes to sum: those broadcasting added or stretched
    axes = (*range(nb, lead), *(lead + i for i, s in enumerate(shape) if gshape[lead + i] != s))
    if axes:
        g = xp.sum(g, axis=axes)
    return xp.reshape(g, gshape[:nb] + tuple(shape))


_IN_PLACE = {operator.add: operator.iadd, operator.sub: operator.isub,
             operator.mul: operator.imul, operator.truediv: operator.itruediv}


def update_in_place(op: Any, data: Any, other: Any) -> bool:
    """``data op= other`` in one pass when ``data`` is a writable NumPy array that can hold
    the result; False when the caller must take the general path (which explains why)."""
    inplace = _IN_PLACE.get(op)
    if inplace is None or type(data) is not np.ndarray or not data.flags.writeable \
            or data.dtype.kind not in "fc":
        return False
    other_shape = getattr(other, "shape", ())
    if other_shape != data.shape and (len(other_shape) > data.ndim or any(
            o not in (1, d) for o, d in zip(reversed(other_shape), reversed(data.shape)))):
        return False
    try:
        inplace(data, other)
    except (TypeError, ValueError):
        return False
    return True


def scatter_add(xp: ModuleType, shape: tuple, index: Any, values: Any, dtype: Any):
    """Zeros of ``shape`` with ``values`` added at ``index``; repeated indices accumulate."""
    if xp is numpy_namespace:
        out = np.zeros(shape, dtype)
        if is_basic_index(index):
            out[index] = values
        else:
            np.add.at(out, index, values)
        return out
    return array_libraries.scatter_add(xp, shape, index, values, dtype)


broadcast_shapes = np.broadcast_shapes  # the shape shapes broadcast to; ValueError if none


def is_basic_index(index: Any) -> bool:
    """True when ``index`` holds only ints, slices, None and Ellipsis (no repeats possible)."""
    if type(index) is tuple and all(map(_BASIC.__contains__, map(type, index))):
        return True  # the common case, x[:, 0], looped over in C
    for item in index if type(index) is tuple else (index,):
        if type(item) not in _BASIC and not isinstance(item, (int, np.integer)):
            return False
    return True


_BASIC = {int, slice, type(None), type(Ellipsis)}


def view_index(base: Any, view: Any) -> Any:
    """Where the elements of ``view``, a view of the NumPy array ``base`` (of any strides),
    lie in it: an index (arrays of positions) with ``base[index]`` equal to ``view``."""
    if not base.ndim:  # each view of one element is that element, with axes of length 1
        return (..., *[None] * view.ndim)
    # base's positions written where its elements lie in memory, into scratch memory
    size, ends = base.itemsize, [(n - 1) * s for n, s in zip(base.shape, base.strides)]
    low = sum(e for e in ends if e < 0)  # bytes before base's first element
    scratch = np.empty((sum(ends) - 2 * low) // size + 1, np.intp)
    lay = lambda a, at: np.lib.stride_tricks.as_strided(  # noqa: E731
        scratch[at // size:], a.shape, [s // size * scratch.itemsize for s in a.strides])
    lay(base, -low)[...] = np.arange(base.size).reshape(base.shape)
    return np.unravel_index(lay(view, view.ctypes.data - base.ctypes.data - low), base.shape)


def where(xp: ModuleType, condition: Any, a: Any, b: Any) -> Any:
    """``a`` where ``condition`` holds, else ``b``; a Python number takes the other's dtype
    (a float beside integers promotes them instead, as NumPy and PyTorch do)."""
    like = a if is_array(a) else b
    a, b = (v if is_array(v) else _number_as(xp, v, like) for v in (a, b))
    return xp.where(condition, a, b)


def _number_as(xp: ModuleType, value: Any, like: Any) -> Any:
    # like's dtype, unless the number needs a wider kind (NumPy 2's rule): a float beside
    # integers or bools, an int beside bools (``where(mask, flags, 5)`` is 5, not True)
    kinds = () if not is_array(like) else (bool,) if is_bool(like.dtype, xp) else (int, float) \
        if is_floating(like.dtype, xp) else (int,)
    return xp.asarray(value, dtype=like.dtype if isinstance(value, kinds) else None)


def matmul(xp: ModuleType, a: Any, b: Any) -> Any:
    """``a @ b``; a product over one shared entry (an outer product, as the reverse rule of
    ``X @ w`` with one column makes) is a broadcast multiply: one pass, where BLAS would
    run a matrix product of inner size one at a third of the speed."""
    if xp is numpy_namespace and a.ndim >= 2 and b.ndim >= 2 and a.shape[-1] == 1 \
            and b.shape[-2] == 1:
        return np.multiply(a, b)
    return xp.matmul(a, b)


def einsum(xp: ModuleType, subscripts: str, *operands: Any):
    """``einsum`` in the namespace of the operands (not in the Array-API standard)."""
    native = getattr(xp, "einsum", None)  # (NumPy's namespace has it)
    return native(subscripts, *operands) if native is not None else \
        array_libraries.einsum(subscripts, *operands)


def logsumexp(xp: ModuleType, x: Any, axis: Any, keepdims: bool):
    """Stable ``log(sum(exp(x)))`` over ``axis``."""
    if x.size == 0:  # an empty sum: log 0 = -inf (as torch), where max would fail
        return xp.sum(x, axis=axis, keepdims=keepdims) - np.inf
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        out = xp.squeeze(out, axis=axis) if axis is not None else xp.reshape(out, ())
    return out


class RawOps:
    """The functions that rules written for both kinds of values call (``m.cos(x)``), on
    the raw arrays of one namespace: what a reverse pass that records nothing runs. The
    primitives layer holds the same names for Tensors (differentiable, for higher order).
    """

    def __init__(self, xp: ModuleType) -> None:
        self.xp = xp
        for name in ("cos", "sin", "sign", "log", "exp", "zeros_like", "reshape",
                     "broadcast_to", "astype"):
            setattr(self, name, getattr(xp, name))
        for fn in (sum_to, matmul, where, sigmoid):  # backend's functions, on this namespace
            setattr(self, fn.__name__, partial(fn, xp))
        if xp is numpy_namespace:
            self.__dict__.update(where=np.where, reshape=_numpy_reshape,
                                 broadcast_to=_numpy_broadcast_to)

    def index_add(self, values: Any, index: Any, shape: tuple) -> Any:
        return scatter_add(self.xp, shape, index, values, values.dtype)


def sigmoid(xp: ModuleType, x: Any) -> Any:
    """``1 / (1 + exp(-x))`` without overflow (integers as float64)."""
    if not is_floating(x.dtype, xp):  # -|x| of an unsigned integer wraps around
        x = xp.astype(x, to_dtype("float64", xp))
    e = xp.exp(-xp.abs(x))  # never overflows
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _numpy_reshape(x: Any, shape: tuple) -> Any:
    if id(x) in UNITS and x.size <= _UNIT_LARGEST:  # a unit stays one, known by its id
        return ones(x.reshape(shape).shape, x.dtype)
    return x.reshape(shape)  # the method: no Python-level wrapper


def _numpy_broadcast_to(x: Any, shape: tuple) -> Any:
    if x.shape == shape:
        return x
    if id(x) in UNITS and math.prod(shape) <= _UNIT_LARGEST:  # x.sum()'s seed spread back
        return ones(shape, x.dtype)
    if x.size == 1 and math.prod(shape) <= _FILL_LARGEST:  # a filled array: cheaper than
        out = np.empty(shape, dtype=x.dtype)  # a broadcast view for small arrays
        out.fill(x.reshape(()))
        return out
    return np.broadcast_to(x, shape)


RAW_OPS: dict[type, RawOps] = {}


def raw_ops(value: Any) -> RawOps:
    """The functions rules call on raw arrays of ``value``'s type (cached by type)."""
    ops = RAW_OPS.get(type(value))
    if ops is None:
        ops = RAW_OPS[type(value)] = RawOps(namespace(value))
    return ops
