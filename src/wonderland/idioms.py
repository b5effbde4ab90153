"""Other libraries' habits on ``Tensor``: PyTorch's and NumPy's spellings and idioms.

Everything here is built on the primitives (nothing here has a derivative rule of its
own): PyTorch's ``add(other, alpha=)``, ``add_``/``sub_``, ``clamp_``, ``t()``, ``mm``,
``repeat``, ``masked_fill``, ``type()``, ``dim()``, ``cpu()``, its comparison names
(``eq``, ``lt``, ...) and shape methods (``contiguous``, ``view_as``, ``reshape_as``,
``swapaxes``/``swapdims``, ``movedim``, ``flip``, ``roll``, ``chunk``, ``split``,
``unbind``, ``tril``, ``triu``), NumPy's ``float``/``double``/``to`` casts,
``round(decimals=)``, ``floor_divide`` and ``remainder``, printing, iteration, pickling
and ``copy.deepcopy``.
``wonderland`` installs them at import.

Examples
--------
>>> import wonderland as wl
>>> x = wl.tensor([[1.0, -2.0], [3.0, 4.0]])
>>> x.t().mm(x).masked_fill(x.t() < 0, 0.0).dim()
2
"""

from __future__ import annotations

import copy
import operator
from collections.abc import Iterator, Sequence
from typing import Any

from . import array_libraries, backend
from . import creation as _creation
from . import tensor as engine
from .primitives import elementwise as ew
from .primitives import linalg, reductions, shape
from .tensor import Primitive, Tensor, _GradMode, _new, as_tensor, undifferentiated

_add, _sub = ew.add, ew.sub


def install() -> None:
    """Put the methods on ``Tensor`` (done once, by ``import wonderland``)."""
    T = Tensor
    for name, fn in (("eq", ew.equal), ("ne", ew.not_equal), ("lt", ew.less),
                     ("le", ew.less_equal), ("gt", ew.greater), ("ge", ew.greater_equal),
                     ("neg", ew.negative), ("copy", ew.clone), ("isclose", isclose),
                     ("allclose", allclose), ("amax", reductions.max),
                     ("amin", reductions.min), ("clip_", clamp_),
                     ("__reduce__", _reduce), ("__copy__", _copy), ("__deepcopy__", _deepcopy),
                     ("__iter__", _iter)):
        setattr(T, name, fn)
    for fn in (add, sub, mul, div, add_, sub_, var, std, clamp_, _t, mm, repeat, masked_fill,
               masked_fill_, _type, dim, cpu, to, round, floor_divide, remainder, contiguous,
               view_as, reshape_as, swapaxes, movedim, flip, roll, chunk, split, unbind, tril,
               triu):
        setattr(T, fn.__name__, fn)
    T.swapdims = swapaxes
    T.pow = T.__pow__
    T.numel = lambda self: self.size
    for name, dtype in (("float", "float32"), ("double", "float64"), ("half", "float16"),
                        ("long", "int64"), ("int", "int32"), ("bool", "bool")):
        setattr(T, name, _cast_method(name, dtype))
    T.expand = expand
    T.__format__, T.__repr__, T.__str__ = _format, _repr, _repr


# ----------------------------------------------------------------------- NumPy's rounding
# and integer division, by name (the operators ``//`` and ``%`` are the primitives')

_round = engine.unary_function(ew.round_)


def round(x: Any, decimals: int = 0) -> Tensor:  # noqa: A001 - NumPy's and PyTorch's name
    """Elementwise rounding to ``decimals`` places, ties to even (as NumPy and PyTorch); a
    step function, so its gradient is zero.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.round(wl.tensor([0.5, 1.5, 2.6])).tolist()
    [0.0, 2.0, 3.0]
    >>> wl.round(wl.tensor([1.2345]), decimals=2).tolist()
    [1.23]
    """
    scale = 10.0 ** decimals  # NumPy's way: scale, round, scale back
    return _round(x * scale) / scale if decimals else _round(x)


def floor_divide(a: Any, b: Any) -> Tensor:
    """``a // b``: the quotient rounded toward minus infinity, as NumPy and Python round it.
    A step function, so its gradient is zero (PyTorch's ``floor``, JAX's ``//``).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.floor_divide(wl.tensor([7.0, -7.0]), 2).tolist()
    [3.0, -4.0]
    """
    return ew._binary(ew.floor_divide_, a, b)


def remainder(a: Any, b: Any) -> Tensor:
    """``a % b = a - b (a // b)``, with the sign of ``b`` (NumPy's, Python's and PyTorch's
    ``remainder``). Its gradient is 1 in ``a`` and ``-(a // b)`` in ``b``.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.remainder(wl.tensor([7.0, -7.0]), 3).tolist()
    [1.0, 2.0]
    """
    return ew._binary(ew.remainder_, a, b)


# ----------------------------------------------------------------------- printing


def _format(self: Tensor, spec: str) -> str:
    """``format(t, ".3f")``: a one-element tensor formats as its number (as PyTorch); any
    tensor prints with an empty spec."""
    if self.ndim == 0 or (self.size == 1 and spec):  # f"{t}" of a scalar: its number, as torch
        return format(self.item(), spec)
    if spec:
        raise TypeError(f"format spec {spec!r} needs a one-element tensor, got shape "
                        f"{self.shape}")
    return repr(self)


def _repr(self: Tensor) -> str:
    """``tensor([...], grad_fn=<mul>)``: NumPy's digits in PyTorch's frame."""
    body = repr(array_libraries.to_numpy(self._data))  # (printing a traced tensor is allowed)
    body = body[body.index("(") + 1: body.rindex(")")] if body.startswith("array(") else body
    body = body.replace("\n      ", "\n       ")
    if backend.dtype_name(self._data.dtype) == "bfloat16":  # (printed by way of float32)
        body = body.replace("dtype=float32", "dtype=bfloat16")
    extra = ""
    if self._node is not None:
        extra = f", grad_fn=<{self._node.prim.name}>"
    elif self._rg:
        extra = ", requires_grad=True"
    return f"tensor({body}{extra})"


def _scaled(other: Any, alpha: Any, name: str) -> Any:
    """``alpha * other`` (``other`` itself for ``alpha == 1``), recorded when it is a tensor."""
    if isinstance(alpha, bool) or not isinstance(alpha, int | float | backend.np.number):
        raise TypeError(f"{name}: alpha must be a number, got {alpha!r}")
    if alpha == 1:
        return other
    if isinstance(other, Tensor | int | float):
        return other * alpha
    return backend.asarray(other) * alpha  # (a raw array: it joins the tensor's library)


def add(self: Tensor, other: Any, alpha: float = 1) -> Tensor:
    """``self + alpha * other`` (PyTorch's ``add``), differentiable.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.tensor([1.0, 2.0]).add(wl.tensor([1.0, 1.0]), alpha=3).tolist()
    [4.0, 5.0]
    """
    return self + _scaled(other, alpha, "add")


def sub(self: Tensor, other: Any, alpha: float = 1) -> Tensor:
    """``self - alpha * other`` (PyTorch's ``sub``), differentiable.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.tensor([1.0, 2.0]).sub(1.0, alpha=2).tolist()
    [-1.0, 0.0]
    """
    return self - _scaled(other, alpha, "sub")


def mul(self: Tensor, other: Any) -> Tensor:
    """``self * other`` (PyTorch's ``mul``).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.tensor([1.0, 2.0]).mul(3).tolist()
    [3.0, 6.0]
    """
    return self * other


def div(self: Tensor, other: Any) -> Tensor:
    """``self / other`` (PyTorch's ``div``, true division).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.tensor([1.0, 2.0]).div(2).tolist()
    [0.5, 1.0]
    """
    return self / other


def add_(self: Tensor, other: Any, alpha: float = 1) -> Tensor:
    """``self += alpha * other`` in place (PyTorch's ``add_``), e.g. an update
    ``p.add_(p.grad, alpha=-lr)`` inside ``wl.no_grad()``.

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor([1.0, 2.0])
    >>> x.add_(wl.tensor([1.0, 1.0]), alpha=-0.5).tolist()
    [0.5, 1.5]
    """
    return self._inplace(_add, _scaled(other, alpha, "add_"), "add_", operator.add)


def sub_(self: Tensor, other: Any, alpha: float = 1) -> Tensor:
    """``self -= alpha * other`` in place (PyTorch's ``sub_``).

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor([1.0, 2.0])
    >>> x.sub_(1.0, alpha=2).tolist()
    [-1.0, 0.0]
    """
    return self._inplace(_sub, _scaled(other, alpha, "sub_"), "sub_", operator.sub)


var = reductions.var
std = reductions.std


def clamp_(self: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Limit the values to ``[min, max]`` in place (PyTorch's ``clamp_``, alias ``clip_``).

    Recorded like the other in-place ops: the gradient passes where ``min <= x <= max``.

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor([-2.0, 0.5, 3.0])
    >>> x.clamp_(-1.0, 1.0).tolist()
    [-1.0, 0.5, 1.0]
    """
    if min is None and max is None:
        raise ValueError("clamp_: give at least one of min and max")
    if not backend.is_floating(self.dtype, self._xp):
        for bound in (min, max):
            if isinstance(bound, float) or (isinstance(bound, Tensor) and backend.is_floating(
                    bound.dtype, bound._xp)):
                raise TypeError(f"clamp_: the floating bound {bound!r} would make a float "
                                f"result, which cannot be stored in this "
                                f"{backend.dtype_name(self.dtype)} tensor (as PyTorch)")
    return self._inplace_by(lambda old: ew.clip(old, min, max), "clamp_", (min, max))


def expand(self: Tensor, *sizes: Any) -> Tensor:
    """A broadcast view of ``sizes`` (``*ints`` or one tuple; PyTorch's ``expand``): ``-1``
    keeps the size of that axis; extra leading entries add axes in front.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.zeros(3, 1).expand(-1, 4).shape
    (3, 4)
    >>> wl.zeros(3).expand(2, -1).shape
    (2, 3)
    """
    if len(sizes) == 1 and isinstance(sizes[0], tuple | list):
        sizes = tuple(sizes[0])
    lead = len(sizes) - self.ndim
    if lead < 0 or any(s == -1 for s in sizes[:lead]):
        raise ValueError(f"expand: sizes {tuple(sizes)} for a tensor of shape {self.shape}: "
                         f"give one per dimension, and -1 only for existing ones")
    return shape.broadcast_to(self, tuple(self.shape[i - lead] if s == -1 and i >= lead else s
                                          for i, s in enumerate(sizes)))


def _t(self: Tensor) -> Tensor:
    """The transpose of a matrix (PyTorch's ``t()``); 0-D and 1-D tensors are returned as
    they are. More axes: use ``transpose(dim0, dim1)``, ``permute`` or ``.mT``.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.zeros(2, 3).t().shape
    (3, 2)
    """
    if self.ndim > 2:
        raise ValueError(f"t() expects a tensor with at most 2 dimensions, got shape "
                         f"{self.shape} ({self.ndim}-D); use transpose(dim0, dim1), permute "
                         f"or .mT")
    return self if self.ndim < 2 else shape.transpose(self, 0, 1)


_t.__name__ = _t.__qualname__ = "t"


def mm(self: Tensor, other: Any) -> Tensor:
    """The product of two matrices (PyTorch's ``mm``: 2-D only; ``matmul`` or ``@`` batch).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.ones(2, 3).mm(wl.ones(3, 4)).shape
    (2, 4)
    """
    other = as_tensor(other)
    if self.ndim != 2 or other.ndim != 2:
        raise ValueError(f"mm: expects two matrices (2-D), got shapes {self.shape} and "
                         f"{other.shape}; use matmul (@) for vectors and batches")
    if self.shape[1] != other.shape[0]:
        raise ValueError(f"mm: shapes {self.shape} and {other.shape} cannot be multiplied "
                         f"({self.shape[1]} != {other.shape[0]})")
    return linalg.matmul(self, other)


def repeat(self: Tensor, *sizes: Any) -> Tensor:
    """The tensor tiled ``sizes[i]`` times along axis ``i`` (PyTorch's ``repeat``, NumPy's
    ``tile``), differentiable: gradients of the copies add up.

    ``sizes`` (``*ints`` or one tuple) has at least one entry per axis; extra leading
    entries add axes in front. The result is a new tensor, never a view.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.tensor([1.0, 2.0]).repeat(2, 2).tolist()
    [[1.0, 2.0, 1.0, 2.0], [1.0, 2.0, 1.0, 2.0]]
    """
    if len(sizes) == 1 and isinstance(sizes[0], tuple | list):
        sizes = tuple(sizes[0])
    for s in sizes:
        if isinstance(s, bool | backend.np.bool_) or not isinstance(s, int | backend.np.integer):
            raise TypeError(f"repeat: sizes must be integers, got {sizes!r}")
    sizes = tuple(int(s) for s in sizes)
    if any(s < 0 for s in sizes):
        raise ValueError(f"repeat: sizes cannot be negative, got {sizes}")
    if len(sizes) < self.ndim:
        raise ValueError(f"repeat: {len(sizes)} sizes {sizes} for a tensor of shape "
                         f"{self.shape}: give at least one per dimension ({self.ndim})")
    own = (1,) * (len(sizes) - self.ndim) + self.shape
    # axis i of size s becomes the pair (1, s), broadcast to (r, s), merged into r * s: the
    # tile, with copy k of element j at k * s + j
    x = shape.reshape(self, tuple(d for s in own for d in (1, s)))
    x = shape.broadcast_to(x, tuple(d for r, s in zip(sizes, own) for d in (r, s)))
    x = shape.reshape(x, tuple(r * s for r, s in zip(sizes, own)))
    return ew.clone(x)  # its own storage, not a view of self


def _mask_and_value(self: Tensor, mask: Any, value: Any, name: str) -> tuple:
    """``mask`` as a bool tensor that broadcasts with ``self``, ``value`` a number or a 0-d
    tensor (as PyTorch demands), and the shape of the result."""
    if not isinstance(mask, Tensor):
        mask = as_tensor(backend.asarray(mask, xp=self._xp if backend.is_array(mask) else None))
    if not backend.is_bool(mask.dtype, mask._xp):
        raise TypeError(f"{name}: the mask must be a bool tensor, got dtype "
                        f"{backend.dtype_name(mask.dtype)}; e.g. make it with x > 0")
    try:
        out_shape = backend.broadcast_shapes(mask.shape, self.shape)
    except ValueError:
        raise ValueError(f"{name}: a mask of shape {mask.shape} cannot be broadcast with the "
                         f"tensor's shape {self.shape}") from None
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"{name}: the value must be a number or a 0-d tensor, got a "
                             f"tensor of shape {value.shape}")
    elif isinstance(value, bool | backend.np.bool_ | int | float | backend.np.number):
        value = value.item() if isinstance(value, backend.np.generic) else value
    else:
        raise TypeError(f"{name}: the value must be a number or a 0-d tensor, got "
                        f"{type(value).__name__}")
    return mask, value, out_shape


def masked_fill(self: Tensor, mask: Any, value: Any) -> Tensor:
    """A copy with ``value`` where ``mask`` is True (PyTorch's ``masked_fill``).

    ``mask`` is a bool tensor or array that broadcasts with ``self``; ``value`` a number or
    a 0-d tensor. Differentiable in ``self`` (zero gradient where filled) and in a tensor
    ``value``. The result keeps ``self``'s dtype.

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor([1.0, -2.0, 3.0])
    >>> x.masked_fill(x < 0, 0.0).tolist()
    [1.0, 0.0, 3.0]
    """
    mask, value, _ = _mask_and_value(self, mask, value, "masked_fill")
    out = ew.where(mask, value, self)
    return out if out.dtype == self.dtype else ew.astype(out, self.dtype)


def masked_fill_(self: Tensor, mask: Any, value: Any) -> Tensor:
    """``masked_fill`` in place; the mask must broadcast to this tensor's shape.

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor([1.0, -2.0, 3.0])
    >>> x.masked_fill_(x < 0, 0.0).tolist()
    [1.0, 0.0, 3.0]
    """
    mask, value, out_shape = _mask_and_value(self, mask, value, "masked_fill_")
    if out_shape != self.shape:
        raise ValueError(f"masked_fill_: a mask of shape {mask.shape} does not broadcast to "
                         f"the tensor's shape {self.shape}")
    return self._inplace_by(lambda old: masked_fill(old, mask, value), "masked_fill_",
                            (value,))


def _type(self: Tensor, dtype: Any = None) -> Any:
    """With no argument, the name of the dtype (``"float64"``; PyTorch would say
    ``"torch.DoubleTensor"``); with a ``dtype``, the tensor converted to it (as ``astype``,
    ``self`` itself when it already has it).

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor([1.0, 2.0])
    >>> x.type()
    'float64'
    >>> x.type("float32").type()
    'float32'
    """
    if dtype is None:
        return backend.dtype_name(self.dtype)
    return ew.astype(self, _creation._by_name(dtype, self._xp))  # (torch.float32 too)


_type.__name__ = _type.__qualname__ = "type"


def _cast_method(name: str, dtype: str) -> Any:
    """PyTorch's ``t.float()``-style casts: ``astype(dtype)`` (``self`` when it has it)."""
    def cast(self: Tensor) -> Tensor:
        return ew.astype(self, dtype)

    cast.__name__ = cast.__qualname__ = name
    cast.__doc__ = f"The tensor as {dtype} (PyTorch's ``{name}()``; ``self`` if it is already)."
    return cast


def dim(self: Tensor) -> int:
    """The number of axes (PyTorch's name for ``ndim``)."""
    return len(self._data.shape)


def cpu(self: Tensor) -> Tensor:
    """The tensor in host memory: itself for NumPy data (PyTorch's ``cpu()``).

    Data of another library becomes a NumPy copy of its values, which is outside the
    graph: a tensor that requires grad is refused rather than silently cut off.
    """
    if self._xp is backend.numpy_namespace:
        return self
    if self._rg:
        raise RuntimeError(f"cpu(): moving a tensor that requires grad out of its library "
                           f"({self._xp.__name__}) is not differentiable; use "
                           f"detach().cpu()")
    return _new(array_libraries.to_numpy(self._data), backend.numpy_namespace)


def _is_device(value: Any) -> bool:
    """A device as PyTorch code names one: ``"cpu"``, ``"cuda:0"``, a ``torch.device``."""
    return isinstance(value, str) and value.split(":")[0] in _DEVICE_KINDS or \
        type(value).__name__ == "device"


_DEVICE_KINDS = {"cpu", "cuda", "mps", "xpu", "meta", "hip", "xla"}


def to(self: Tensor, *args: Any, dtype: Any = None, device: Any = None, copy: bool = False,
       non_blocking: bool = False) -> Tensor:
    """PyTorch's ``to``: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``
    (``other``'s dtype) and the keywords ``dtype=``, ``device=``, ``copy=``.

    Differentiable between float dtypes; ``self`` itself when nothing changes (as
    PyTorch), a copy in the graph with ``copy=True``. The only device is ``"cpu"``, where
    NumPy data lives (``cpu()``): wonderland computes in the library of its data, so a GPU
    means CuPy or PyTorch arrays inside the tensor (``wl.tensor(cupy_array)``).
    ``non_blocking`` is accepted and ignored; a PyTorch dtype (``torch.float32``, in code
    half ported) is read by its name.

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor([1.0, 2.0])
    >>> x.to("cpu") is x, x.to(wl.float32).dtype, x.to("cpu", wl.float32).dtype
    (True, dtype('float32'), dtype('float32'))
    """
    if len(args) > 2:
        raise TypeError(f"to() takes a device, a dtype or a tensor (and a dtype after a "
                        f"device), got {len(args)} arguments")
    for arg in args:
        if isinstance(arg, Tensor):
            arg = arg.dtype
        if _is_device(arg):
            device = arg if device is None else device
        elif dtype is None:
            dtype = arg
        else:
            raise TypeError(f"to(): two dtypes given, {dtype!r} and {arg!r}")
    out = self if device is None else _to_device(self, device)
    out = out if dtype is None else ew.astype(out, _creation._by_name(dtype, out._xp))
    return ew.clone(out) if copy and out is self else out


def _to_device(self: Tensor, device: Any) -> Tensor:
    if not _is_device(device) or str(device).split(":")[0] != "cpu":
        raise ValueError(f"to(): unsupported device {device!r}; the only device is 'cpu' "
                         f"(wonderland computes in the library of the data: for a GPU, put "
                         f"CuPy or torch arrays in the tensor, wl.tensor(cupy_array))")
    return cpu(self)


# ----------------------------------------------------------------------- PyTorch's shape
# methods: contiguous, view_as, reshape_as, swapaxes, movedim, flip, roll, chunk, split,
# unbind, tril, triu (indexing, concatenate, permute and where underneath)


def _int(value: Any, name: str, what: str) -> int:
    """``value`` as a Python int, or a TypeError naming it."""
    if isinstance(value, bool | backend.np.bool_) or not isinstance(
            value, int | backend.np.integer):
        raise TypeError(f"{name}: {what} must be an integer, got {value!r}")
    return int(value)


def _ints(value: Any, name: str, what: str) -> tuple[int, ...]:
    """An int or a sequence of ints as a tuple of ints."""
    if isinstance(value, tuple | list):
        return tuple(_int(v, name, what) for v in value)
    return (_int(value, name, what),)


def _dims(dims: tuple[int, ...], ndim: int, name: str, repeats: str | None = None) -> tuple:
    """``dims`` as non-negative positions (a 0-d tensor takes 0 and -1, as in PyTorch); with
    ``repeats``, a repeated dimension is refused."""
    bad = [d for d in dims if type(d) is int and d not in (0, -1)] if not ndim else ()
    if bad:  # (checked as one dimension below: a 0-d tensor takes 0 and -1)
        raise IndexError(f"{name}: dimension {bad[0]} is out of range for a tensor with 0 "
                         f"dimensions (it takes 0 or -1)")
    out = tuple(shape._axis(d, max(ndim, 1), name) for d in dims)
    if repeats is not None and len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated dimension in {repeats} {dims}")
    return out


def _slice(x: Tensor, dim: int, index: Any) -> Tensor:
    """``x[..., index, ...]`` with ``index`` at axis ``dim`` (a view for an int or a slice)."""
    return shape.getitem(x, (slice(None),) * dim + (index,))


def contiguous(self: Tensor, memory_format: Any = None) -> Tensor:
    """The tensor itself (PyTorch's ``contiguous()``): wonderland has no strides to fix, as
    every operation accepts any layout.

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.zeros(2, 3).t()
    >>> x.contiguous() is x
    True
    """
    return self


def view_as(self: Tensor, other: Any) -> Tensor:
    """The tensor in ``other``'s shape (PyTorch's ``view_as``; ``view`` here is ``reshape``).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.arange(6.0).view_as(wl.zeros(2, 3)).shape
    (2, 3)
    """
    if not hasattr(other, "shape"):
        raise TypeError(f"view_as: expected a tensor (something with a shape), got "
                        f"{type(other).__name__}")
    return shape.reshape(self, tuple(other.shape))


def reshape_as(self: Tensor, other: Any) -> Tensor:
    """The tensor reshaped to ``other``'s shape (PyTorch's ``reshape_as``).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.arange(6.0).reshape_as(wl.zeros(3, 2)).tolist()
    [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    """
    if not hasattr(other, "shape"):
        raise TypeError(f"reshape_as: expected a tensor (something with a shape), got "
                        f"{type(other).__name__}")
    return shape.reshape(self, tuple(other.shape))


def swapaxes(self: Tensor, axis0: int, axis1: int) -> Tensor:
    """Swap two axes (PyTorch's and NumPy's ``swapaxes``, alias ``swapdims``; the same as
    ``transpose(axis0, axis1)``).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.zeros(2, 3, 4).swapaxes(0, -1).shape
    (4, 3, 2)
    """
    return shape.transpose(self, _int(axis0, "swapaxes", "a dimension"),
                           _int(axis1, "swapaxes", "a dimension"))


def movedim(x: Any, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """Move axes ``source`` to positions ``destination`` (PyTorch's ``movedim``, NumPy's
    ``moveaxis``); the other axes keep their order. Both ints, or sequences of one length.

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.zeros(2, 3, 4)
    >>> x.movedim(0, -1).shape
    (3, 4, 2)
    >>> wl.movedim(x, (0, 1), (2, 0)).shape
    (3, 4, 2)
    """
    x = as_tensor(x)
    if isinstance(source, tuple | list) != isinstance(destination, tuple | list):
        raise TypeError(f"movedim: source and destination must both be ints or both be "
                        f"sequences, got {source!r} and {destination!r}")
    src = _ints(source, "movedim", "a dimension")
    dst = _ints(destination, "movedim", "a dimension")
    if len(src) != len(dst):
        raise ValueError(f"movedim: source {tuple(src)} and destination {tuple(dst)} must "
                         f"have the same number of dimensions")
    src = _dims(src, x.ndim, "movedim", "source")
    dst = _dims(dst, x.ndim, "movedim", "destination")
    if x.ndim == 0:
        return x
    order: list = [None] * x.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(a for a in range(x.ndim) if a not in src)
    return shape.permute(x, tuple(next(rest) if o is None else o for o in order))


def flip(x: Any, dims: int | Sequence[int], *more: int) -> Tensor:
    """The values in reverse order along ``dims`` (PyTorch's ``flip``: a new tensor, not a
    view). ``dims`` is an int or a sequence; the method also takes ``x.flip(0, 1)``.

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> x.flip(0).tolist()
    [[3.0, 4.0], [1.0, 2.0]]
    >>> wl.flip(x, (0, 1)).tolist()
    [[4.0, 3.0], [2.0, 1.0]]
    """
    x = as_tensor(x)
    dims = _dims(_ints((dims, *more) if more else dims, "flip", "a dimension"), x.ndim,
                 "flip", "dims")
    if x.ndim == 0 or not dims:
        return ew.clone(x)
    for axis in dims:  # (each a copy: its own storage, as PyTorch's flip)
        x = shape.reversed_along(x, axis)
    return x


def roll(x: Any, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> Tensor:
    """The values shifted cyclically by ``shifts`` along ``dims`` (PyTorch's ``roll``):
    entries pushed past the end come back at the start. ``dims=None`` rolls the flattened
    tensor and restores its shape. A new tensor, not a view.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.tensor([1.0, 2.0, 3.0, 4.0]).roll(1).tolist()
    [4.0, 1.0, 2.0, 3.0]
    >>> wl.roll(wl.tensor([[1.0, 2.0], [3.0, 4.0]]), (1, -1), (0, 1)).tolist()
    [[4.0, 3.0], [2.0, 1.0]]
    """
    x = as_tensor(x)
    shifts = _ints(shifts, "roll", "a shift")
    if dims is None:
        if len(shifts) != 1:
            raise ValueError(f"roll: shifts {shifts} without dims: give one shift for the "
                             f"flattened tensor, or one dimension per shift")
        return shape.reshape(roll(shape.reshape(x, (-1,)), shifts, 0), x.shape)
    dims = _ints(dims, "roll", "a dimension")
    if len(shifts) != len(dims) or not dims:
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same "
                         f"(non-zero) length")
    dims = tuple(shape._axis(d, x.ndim, "roll") for d in dims)  # a 0-d tensor has none
    out = x
    for s, d in zip(shifts, dims):  # a repeated dim rolls again, as PyTorch
        n = out.shape[d]
        s = s % n if n else 0
        if s:
            out = shape.concatenate([_slice(out, d, slice(n - s, None)),
                                     _slice(out, d, slice(None, n - s))], d)
    return ew.clone(out) if out is x else out


def split(x: Any, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple:
    """Pieces of ``x`` along ``dim`` (PyTorch's ``split``): an int gives pieces of that
    size (the last may be smaller), a list gives pieces of those sizes, which must add up
    to the size of ``dim``. A tuple of views, as in PyTorch.

    Examples
    --------
    >>> import wonderland as wl
    >>> [p.tolist() for p in wl.arange(5.0).split(2)]
    [[0.0, 1.0], [2.0, 3.0], [4.0]]
    >>> [p.shape for p in wl.split(wl.zeros(2, 5), [1, 4], dim=1)]
    [(2, 1), (2, 4)]
    """
    x = as_tensor(x)
    d = shape._axis(_int(dim, "split", "a dimension"), x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, tuple | list):
        sizes = _ints(split_size_or_sections, "split", "a split size")
        if any(s < 0 for s in sizes):
            raise ValueError(f"split: split sizes must be non-negative, got {list(sizes)}")
        if sum(sizes) != n:
            raise ValueError(f"split: split sizes {list(sizes)} add up to {sum(sizes)}, not "
                             f"to {n}, the size of dimension {dim} of shape {x.shape}")
    else:
        size = _int(split_size_or_sections, "split", "split_size")
        if size < 0 or (size == 0 and n):
            raise ValueError(f"split: split_size must be positive (0 only for an empty "
                             f"dimension), got {size} for dimension {dim} of size {n}")
        sizes = (n,) if n <= size or size == 0 else \
            (size,) * (n // size) + ((n % size,) if n % size else ())
    starts = [0]
    for s in sizes:
        starts.append(starts[-1] + s)
    return tuple(_slice(x, d, slice(a, b)) for a, b in zip(starts, starts[1:]))


def chunk(x: Any, chunks: int, dim: int = 0) -> tuple:
    """``x`` cut into ``chunks`` pieces along ``dim`` (PyTorch's ``chunk``): each of size
    ``ceil(n / chunks)``, the last smaller, so there may be fewer than ``chunks``. A tuple of
    views.

    Examples
    --------
    >>> import wonderland as wl
    >>> [p.tolist() for p in wl.arange(5.0).chunk(3)]
    [[0.0, 1.0], [2.0, 3.0], [4.0]]
    >>> len(wl.chunk(wl.zeros(6), 4))
    3
    """
    x = as_tensor(x)
    chunks = _int(chunks, "chunk", "chunks")
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be greater than 0, got {chunks}")
    if x.ndim == 0:
        raise ValueError("chunk: expects a tensor with at least one dimension, got a 0-d one")
    d = shape._axis(_int(dim, "chunk", "a dimension"), x.ndim, "chunk")
    n = x.shape[d]
    if n == 0:  # as PyTorch: chunks empty pieces
        return split(x, [0] * chunks, d)
    return split(x, -(-n // chunks), d)


def unbind(x: Any, dim: int = 0) -> tuple:
    """The slices of ``x`` along ``dim``, each without that axis (PyTorch's ``unbind``): a
    tuple of views. ``wl.stack`` puts them back together.

    Examples
    --------
    >>> import wonderland as wl
    >>> a, b = wl.tensor([[1.0, 2.0], [3.0, 4.0]]).unbind(1)
    >>> a.tolist(), b.tolist()
    ([1.0, 3.0], [2.0, 4.0])
    """
    x = as_tensor(x)
    d = shape._axis(_int(dim, "unbind", "a dimension"), x.ndim, "unbind")
    return tuple(_slice(x, d, i) for i in range(x.shape[d]))


def _triangle(x: Any, diagonal: int, name: str, lower: bool) -> Tensor:
    x = as_tensor(x)
    k = _int(diagonal, name, "diagonal")
    if x.ndim < 2:
        raise ValueError(f"{name}: expects a tensor with at least 2 dimensions, got shape "
                         f"{x.shape}")
    rows, cols = x.shape[-2:]
    offset = backend.np.arange(cols)[None, :] - backend.np.arange(rows)[:, None]
    keep = offset <= k if lower else offset >= k
    return masked_fill(x, ~keep, 0)  # zero off the triangle: zero gradient there


def tril(x: Any, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two axes (PyTorch's ``tril``): entries with
    ``j - i <= diagonal`` are kept, the rest zeroed (with them, their gradient).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.ones(2, 3).tril().tolist()
    [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]
    >>> wl.tril(wl.ones(2, 2), diagonal=-1).tolist()
    [[0.0, 0.0], [1.0, 0.0]]
    """
    return _triangle(x, diagonal, "tril", True)


def triu(x: Any, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two axes (PyTorch's ``triu``): entries with
    ``j - i >= diagonal`` are kept, the rest zeroed (with them, their gradient).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.ones(2, 3).triu(1).tolist()
    [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]]
    """
    return _triangle(x, diagonal, "triu", False)


def _reduce(self: Tensor) -> tuple:
    # The values, requires_grad and .grad travel; the graph (and forward-mode tangents,
    # the version counter, view relations) does not: a non-leaf arrives as a leaf with
    # its values, as PyTorch unpickles one.
    return _rebuild, (self._data, self._rg, self._grad)


def _copy(self: Tensor) -> Tensor:
    """``copy.copy``: the same storage (a write through either shows in both), without
    ``.grad``, as PyTorch's (``__reduce__`` would hand over the ``.grad`` object itself:
    a backward through the copy added into the original's gradient)."""
    return _rebuild(self._data, self._rg, None)


def _deepcopy(self: Tensor, memo: dict) -> Tensor:
    if self._node is not None:
        raise RuntimeError(
            f"deepcopy: only tensors created explicitly by the user (graph leaves) "
            f"support the deepcopy protocol, as in PyTorch; this one (shape "
            f"{self.shape}) was made by {self._node.prim.name}. Deep-copy "
            f"t.detach() for its values, or use t.clone() to stay in the graph")
    data, base = self._data, self._base
    # through the memo: tensors (a Dataset's X and its rows' array) that share an array
    # share its copy, and a view stays a view of its base's copy, as in PyTorch
    base_copy = copy.deepcopy(base, memo) if base is not None else None
    view = None if base_copy is None else _same_place(data, base._data, base_copy._data)
    if view is not None:
        out = _new(view, self._xp)
        engine._viewing(out, base_copy)
    else:
        out = _new(copy.deepcopy(data, memo) if type(data) is backend.np.ndarray else
                   backend.asarray(data, xp=self._xp, copy=True), self._xp)
    memo[id(self)] = out
    out._rg = self._rg
    if self._grad is not None:
        out._grad = copy.deepcopy(self._grad, memo)
    return out


def _same_place(view: Any, base: Any, copied: Any) -> Any:
    """``view``'s elements of ``base``, in ``copied`` (a copy of ``base`` with its layout);
    None where that layout cannot be read back (not contiguous, another dtype) or the
    view's values lie outside the base's memory."""
    np = backend.np
    if not all(type(a) is np.ndarray for a in (view, base, copied)) or \
            view.dtype != base.dtype or copied.strides != base.strides or \
            not (base.flags.c_contiguous or base.flags.f_contiguous):
        return None
    low, high = np.lib.array_utils.byte_bounds(view)
    first, last = np.lib.array_utils.byte_bounds(base)
    if low < first or high > last:  # (a view whose write bound a copy of its own)
        return None
    start = (view.__array_interface__["data"][0] - first) // base.itemsize
    flat = copied.reshape(-1, order="F" if base.flags.f_contiguous else "C")
    return np.lib.stride_tricks.as_strided(flat[start:], view.shape, view.strides)


def _iter(self: Tensor) -> Iterator[Tensor]:
    for i in range(len(self)):
        yield self[i]


def _rebuild(data: Any, requires_grad: bool, grad: Tensor | None) -> Tensor:
    """A leaf from pickled state (``Tensor.__reduce__``). Read-only data (protocol 5's
    out-of-band buffers, as Dask and joblib pass arrays) is copied: a write would bind a
    private copy, and the tensor's views would no longer see its writes."""
    if isinstance(data, backend.np.ndarray) and not data.flags.writeable:  # (a memmap too)
        data = backend.np.array(data)
    t = _new(data, backend.namespace(data))
    t._rg = bool(requires_grad)
    t._grad = grad
    return t


def isclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """Elementwise ``|a - b| <= atol + rtol * |b|`` (a bool tensor, outside the graph), with
    PyTorch's defaults. Infinities are close to themselves; NaNs only with ``equal_nan``.
    Shapes broadcast; dtypes are promoted as NumPy does (PyTorch would insist on one dtype).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.isclose(wl.tensor([1.0, 2.0]), wl.tensor([1.0 + 1e-9, 2.1])).tolist()
    [True, False]
    """
    return undifferentiated(isclose_, _closeness_operands(a, b, rtol, atol, "isclose"),
                            {"rtol": rtol, "atol": atol, "equal_nan": equal_nan})


def _isclose(xp: Any, a: Any, b: Any, rtol: float, atol: float, equal_nan: bool) -> Any:
    if xp is backend.numpy_namespace:
        return backend.np.asarray(backend.np.isclose(a, b, rtol=rtol, atol=atol,
                                                     equal_nan=equal_nan))
    dtype = xp.result_type(a, b)
    if not backend.is_floating(dtype, xp):
        dtype = backend.to_dtype("float64", xp)
    a, b = xp.astype(a, dtype), xp.astype(b, dtype)
    finite = xp.isfinite(a) & xp.isfinite(b)
    near = xp.abs(a - b) <= atol + rtol * xp.abs(b)
    close = (a == b) | (finite & near)
    if equal_nan:
        close = close | (xp.isnan(a) & xp.isnan(b))
    return close


isclose_ = Primitive("isclose", _isclose, (None, None), None)


def allclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """Whether every pair is close (:func:`isclose`), as a Python bool.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.allclose(wl.tensor([1.0, 2.0]), [1.0, 2.0 + 1e-7])
    True
    """
    close = isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if engine._tracer is not None:  # inside wl.compile: a Python bool cannot be traced
        engine._tracer.read(close, "wl.allclose (a Python bool)")
    return bool(close._xp.all(close._data))


def _closeness_operands(a: Any, b: Any, rtol: float, atol: float, name: str) -> tuple:
    """``a`` and ``b`` as tensors (in the namespace of the tensor among them), once the
    tolerances and shapes are known to be valid."""
    for label, tol in (("rtol", rtol), ("atol", atol)):
        if isinstance(tol, bool) or not isinstance(tol, int | float) or not tol >= 0:
            raise ValueError(f"{name}: {label} must be a non-negative number, got {tol!r}")
    if type(a) is not Tensor and type(b) is not Tensor:
        a = as_tensor(a)
    a, b = ew._constant(a, name), ew._constant(b, name)  # (in one library when used)
    try:
        backend.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{name}: shapes {a.shape} and {b.shape} cannot be broadcast "
                         f"together") from None
    return a, b


class inference_mode(_GradMode):
    """Context manager and decorator, PyTorch's ``inference_mode``: like ``no_grad``,
    nothing inside is recorded.

    ``inference_mode(mode=True)``; ``mode=False`` turns recording on inside (as PyTorch,
    where leaving inference mode restores grad mode), which lets code switch it by a flag.
    Used bare (``@wl.inference_mode``) or called (``@wl.inference_mode()``). Tensors made
    inside are ordinary tensors (wonderland has no separate kind of inference tensor).

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor(2.0, requires_grad=True)
    >>> with wl.inference_mode():
    ...     y = x * 3
    >>> y.requires_grad
    False
    >>> with wl.inference_mode(mode=False):
    ...     (x * 3).requires_grad
    True
    """

    _mode = False

    def __new__(cls, mode: Any = True) -> Any:
        instance = object.__new__(cls)
        if callable(mode):  # used bare, as ``@wl.inference_mode``
            return instance(mode)
        if not isinstance(mode, bool | backend.np.bool_):
            raise TypeError(f"inference_mode(mode) takes True or False (or a function to "
                            f"decorate), got {mode!r}")
        return instance

    def __init__(self, mode: bool = True) -> None:
        self._mode = not bool(mode)  # the grad mode inside


class set_grad_enabled(_GradMode):
    """PyTorch's ``set_grad_enabled(mode)``: called, it turns recording on or off at once
    (``wl.set_grad_enabled(False)``); in a ``with`` block or as a decorator, only inside,
    the previous mode restored after.

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor(2.0, requires_grad=True)
    >>> with wl.set_grad_enabled(False):
    ...     (x * 3).requires_grad
    False
    >>> wl.is_grad_enabled()
    True
    """

    def __new__(cls, mode: Any) -> Any:
        if not isinstance(mode, bool | backend.np.bool_):
            raise TypeError(f"set_grad_enabled(mode) takes True or False, got {mode!r}")
        return object.__new__(cls)

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
        self._previous = engine.set_grad_enabled(self._mode)  # at once, as PyTorch's
        self._set_at_creation = True  # the with block that follows: the mode before it

    def __call__(self, func: Any) -> Any:  # as a decorator: only while func runs
        engine.set_grad_enabled(self._previous)
        self._set_at_creation = False  # each call records its caller's mode
        return super().__call__(func)

    def __enter__(self) -> None:
        if self._set_at_creation:
            self._set_at_creation = False
            engine.set_grad_enabled(self._mode)
        else:
            self._previous = engine.set_grad_enabled(self._mode)


install()
