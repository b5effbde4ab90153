"""Shape primitives: reshape, permute, broadcast, indexing (and its scatter-add
adjoint), in-place index writes, concatenate and stack; the rest are composites.

Rules take leading batch axes into account (``nb`` axes in front of the primal's own),
so that ``jacrev``/``jacfwd`` can push a whole basis through them in one pass.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from .. import array_libraries, backend
from ..creation import _integer
from ..tensor import Tensor, Variadic, _new, apply, as_tensor, finish, finish_one, one_library
from .base import defprim, ops_for, pad_tangent, tensor_ops, zero_tangents
from .elementwise import astype, where

_ndarray = backend.np.ndarray

# ----------------------------------------------------------------------- reshape


def _reshape_vjp(g: Any, ans: Any, x: Any, shape: tuple) -> Any:
    nb = g.ndim - len(shape)
    return ops_for(g).reshape(g, tuple(g.shape[:nb]) + tuple(x.shape))


def _reshape_jvp(tangents: tuple, ans: Any, x: Tensor, shape: tuple) -> Tensor:
    t = tangents[0]
    return reshape(t, t.shape[: t.ndim - x.ndim] + shape)


reshape_ = defprim("reshape", lambda xp, x, shape: xp.reshape(x, shape), (_reshape_vjp,),
                   _reshape_jvp, reads=(), view=True, poly=True)


def reshape(x: Any, *shape: Any) -> Tensor:
    """The same values in a new shape (``-1`` infers one dimension).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.reshape(wl.arange(6.0), (2, 3)).shape
    (2, 3)
    """
    x = as_tensor(x)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(_integer(s, "reshape: a shape must be integers") for s in shape)
    if shape.count(-1) > 1:
        raise ValueError(f"reshape: only one dimension can be -1, got {shape}")
    size = x.size
    known = -math.prod(shape) if -1 in shape else math.prod(shape)  # of the sizes but -1
    if -1 in shape:
        if known == 0 or size % known:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} into {shape}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    elif known != size:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} (size {size}) "
                         f"into {shape} (size {known})")
    return apply(reshape_, x, shape=shape)  # a new view even of the same shape (PyTorch)


# ----------------------------------------------------------------------- permute


def _permute_vjp(g: Tensor, ans: Any, x: Tensor, axes: tuple) -> Tensor:
    nb = g.ndim - len(axes)
    inverse = sorted(range(len(axes)), key=axes.__getitem__)
    return permute(g, tuple(range(nb)) + tuple(nb + i for i in inverse))


def _permute_jvp(tangents: tuple, ans: Any, x: Tensor, axes: tuple) -> Tensor:
    t = tangents[0]
    nb = t.ndim - len(axes)
    return permute(t, tuple(range(nb)) + tuple(nb + a for a in axes))


permute_ = defprim("permute", lambda xp, x, axes: xp.permute_dims(x, axes), (_permute_vjp,),
                   _permute_jvp, reads=(), view=True)


def permute(x: Any, *axes: Any) -> Tensor:
    """Reorder all axes: output axis ``i`` is input axis ``axes[i]``.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.permute(wl.zeros(2, 3, 4), (2, 0, 1)).shape
    (4, 2, 3)
    """
    x = as_tensor(x)
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    n = x.ndim
    axes = tuple(_axis(a, n, "permute") for a in axes)
    if sorted(axes) != list(range(n)):
        raise ValueError(f"permute: axes {axes} must name each dimension of shape {x.shape} once")
    return apply(permute_, x, axes=axes)


def _axis(axis: int, ndim: int, name: str) -> int:
    """``axis`` as a non-negative position, with a clear error when out of range."""
    if isinstance(axis, bool) or not isinstance(axis, (int, backend.np.integer)):
        raise TypeError(f"{name}: a dimension must be an integer, got {axis!r}")
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise IndexError(f"{name}: dimension {axis} is out of range [{-ndim}, {ndim - 1}]")
    return axis % ndim


def transpose(x: Any, dim0: int = -2, dim1: int = -1) -> Tensor:
    """Swap two axes (PyTorch's ``transpose``).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.transpose(wl.zeros(2, 3), 0, 1).shape
    (3, 2)
    """
    x = as_tensor(x)
    n = x.ndim
    if n < 2 and dim0 in (-2, -1, 0) and dim1 in (-2, -1, 0):
        return permute(x, tuple(range(n)))
    a, b = _axis(dim0, n, "transpose"), _axis(dim1, n, "transpose")
    axes = list(range(n))
    axes[a], axes[b] = axes[b], axes[a]
    return permute(x, tuple(axes))


def matrix_transpose(x: Any) -> Tensor:
    """Swap the last two axes (``x.mT``)."""
    return transpose(x, -2, -1)


# ----------------------------------------------------------------------- broadcast


def _broadcast_vjp(g: Any, ans: Any, x: Any, shape: tuple) -> Any:
    return ops_for(g).sum_to(g, tuple(x.shape), g.ndim - len(shape))


def _broadcast_jvp(tangents: tuple, ans: Any, x: Tensor, shape: tuple) -> Tensor:
    t = pad_tangent(tangents[0], x, len(shape))  # new leading axes: after the batch axes
    return broadcast_to(t, t.shape[: t.ndim - len(shape)] + shape)


broadcast_to_ = defprim("broadcast_to", lambda xp, x, shape: xp.broadcast_to(x, shape),
                        (_broadcast_vjp,), _broadcast_jvp, reads=(), view=True, poly=True)


# sum_to, broadcast_to's adjoint: ``nb`` leading axes of ``x`` are kept as they are.
def _sum_to_vjp(g: Any, ans: Any, x: Any, shape: tuple, nb: int) -> Any:
    lead = tuple(g.shape[: g.ndim - len(shape)])  # g's batch axes, then x's kept ones
    m = ops_for(g)
    kept = m.reshape(g, lead + (1,) * (x.ndim - nb - len(shape)) + shape)
    return m.broadcast_to(kept, lead + tuple(x.shape[nb:]))


sum_to_ = defprim("sum_to", backend.sum_to, (_sum_to_vjp,), lambda tangents, ans, x, shape, nb:
                  sum_to(tangents[0], shape, nb + tangents[0].ndim - x.ndim), reads=(), poly=True)


def sum_to(g: Any, shape: tuple, nb: int = 0) -> Tensor:
    """Sum ``g`` down to ``g.shape[:nb] + shape``: undoes broadcasting (ValueError if not)."""
    g, shape = as_tensor(g), tuple(shape)
    return g if g.shape[nb:] == shape else apply(sum_to_, g, shape=shape, nb=nb)


def broadcast_to(x: Any, shape: Any) -> Tensor:
    """A read-only view of ``x`` broadcast to ``shape``.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.broadcast_to(wl.tensor([1.0, 2.0]), (3, 2)).shape
    (3, 2)
    """
    x = as_tensor(x)
    shape = tuple(_integer(s, "broadcast_to: a shape must be integers") for s in shape)
    try:
        return apply(broadcast_to_, x, shape=shape)
    except ValueError:
        raise ValueError(f"broadcast_to: shape {x.shape} cannot be broadcast to {shape}") from None


def squeeze(x: Any, dim: Any = None) -> Tensor:
    """Remove axes of length one (all of them, or those in ``dim``).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.squeeze(wl.zeros(1, 3, 1)).shape
    (3,)
    """
    x = as_tensor(x)
    axes = range(x.ndim)
    if dim is not None:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        axes = {_axis(d, max(x.ndim, 1), "squeeze") for d in dims}  # 0-d: 0, -1 (PyTorch)
    # PyTorch: an axis of another size is left alone
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if s != 1 or i not in axes))


def unsqueeze(x: Any, dim: int) -> Tensor:
    """Insert an axis of length one at position ``dim``.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.unsqueeze(wl.zeros(3), 0).shape
    (1, 3)
    """
    x = as_tensor(x)
    pos = _axis(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:pos] + (1,) + x.shape[pos:])


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge the axes from ``start_dim`` to ``end_dim`` into one.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.flatten(wl.zeros(2, 3, 4), 1).shape
    (2, 12)
    """
    x = as_tensor(x)
    if x.ndim == 0:
        return reshape(x, (1,))
    a, b = _axis(start_dim, x.ndim, "flatten"), _axis(end_dim, x.ndim, "flatten")
    shape = x.shape
    return reshape(x, shape[:a] + (math.prod(shape[a: b + 1]),) + shape[b + 1:])


# ----------------------------------------------------------------------- indexing


def _simple(index: Any) -> bool:
    """An index tuple of ints and slices only (``x[:, 0]``): a view, never repeats."""
    return type(index) is tuple and all(map(_INT_OR_SLICE.__contains__, map(type, index)))


_INT_OR_SLICE = {int, slice}


def _batched(index: Any, batch: tuple, xp: Any) -> tuple:
    """``index`` for an array with leading ``batch`` axes, keeping them in front of the
    result.

    Leading full slices do that, except where NumPy moves the advanced-index axes to the
    front of the result (advanced indices not next to each other, as in ``x[0, :, [1, 2]]``):
    there the batch axes are indexed by broadcast ranges instead, which join the advanced
    axes in front, batch first.
    """
    items = index if isinstance(index, tuple) else (index,)
    if not _advanced_moves_to_front(items):
        return (slice(None),) * len(batch) + items
    items = sum(((*xp.nonzero(i),) if _is_index_array(i) and backend.is_bool(i.dtype, xp)
                 else (i,) for i in items), ())  # a bool mask: its nonzero() positions
    advanced = [i for i in items if not isinstance(i, (slice, type(None), type(Ellipsis)))]
    rank = len(backend.broadcast_shapes(*[tuple(getattr(i, "shape", ())) for i in advanced]))
    nb = len(batch)
    ranges = tuple(xp.reshape(xp.arange(size), (1,) * j + (size,) + (1,) * (nb - 1 - j + rank))
                   for j, size in enumerate(batch))
    return ranges + items


def _advanced_moves_to_front(items: tuple) -> bool:
    """NumPy's rule: with an array in the index, integers count as advanced indices too, and
    advanced indices that are not all adjacent put their axes first."""
    if not any(_is_index_array(i) for i in items):
        return False
    positions = [k for k, i in enumerate(items)
                 if _is_index_array(i) or (isinstance(i, int) and not isinstance(i, bool))]
    return positions[-1] - positions[0] + 1 != len(positions)


def _is_index_array(item: Any) -> bool:
    return backend.is_array(item) and getattr(item, "ndim", 0) > 0


def _getitem_vjp(g: Any, ans: Any, x: Any, index: Any, out_ndim: int) -> Any:
    if g.ndim == out_ndim:
        return ops_for(g).index_add(g, index, tuple(x.shape))
    batch = tuple(g.shape[: g.ndim - out_ndim])
    xp = g._xp if type(g) is Tensor else backend.namespace(g)
    return ops_for(g).index_add(g, _batched(index, batch, xp), batch + tuple(x.shape))


def _getitem_jvp(tangents: tuple, ans: Any, x: Tensor, index: Any, out_ndim: int) -> Tensor:
    t = tangents[0]
    return getitem_raw(t, _batched(index, t.shape[: t.ndim - x.ndim], t._xp))


# A view for a basic index (ints, slices, None, ...), a copy for an advanced one: getitem_raw
# says which.
getitem_ = defprim("getitem", lambda xp, x, index, out_ndim: backend.getitem(xp, x, index),
                   (_getitem_vjp,), _getitem_jvp, reads=(), view=True, poly=True)


def _raw_index(index: Any, xp: Any) -> Any:
    """Tensors inside an index become arrays of the tensor's namespace; lists become arrays."""
    if isinstance(index, tuple):
        if type(index) is tuple and backend.is_basic_index(index):
            return index
        return tuple(_raw_index(i, xp) for i in index)
    if isinstance(index, Tensor):
        if backend.is_floating(index._data.dtype, index._xp):
            raise IndexError(f"tensors used as indices must be integer or bool, got "
                             f"{backend.dtype_name(index._data.dtype)}")
        index = index._data
    if isinstance(index, list):  # an empty list indexes as integers, as in NumPy
        return backend.asarray(index or backend.np.zeros(0, backend.np.intp), xp=xp)
    if type(index) is _ndarray and xp is not backend.numpy_namespace:  # into x's library
        return backend.asarray(index, xp=xp)
    return index


# ``axis`` counts from the end (a batch of tangents goes in front); a copy, not a view
flip_ = defprim("flip", lambda xp, x, axis: xp.asarray(xp.flip(x, axis=axis), copy=True),
                (lambda g, ans, x, axis: apply(flip_, g, axis=axis),), linear="joint", reads=())


def reversed_along(x: Tensor, axis: int) -> Tensor:
    """A copy of ``x`` with ``axis`` (non-negative) in reverse order (torch refuses the
    negative steps of ``x[..., ::-1]``)."""
    return apply(flip_, x, axis=axis - x.ndim)


def getitem_raw(x: Tensor, index: Any) -> Tensor:
    """Index with an index already made of raw arrays."""
    if x._xp is not backend.numpy_namespace:
        index = backend.complete_index(index)
        if "torch" in x._xp.__name__ and _advanced_moves_to_front(
                index if type(index) is tuple else (index,)):
            raise IndexError("on torch data, an index whose arrays (or ints beside them) a "
                             "slice separates places their axis where NumPy would not; index "
                             "in two steps, e.g. x[0][:, [1, 3]] for x[0, :, [1, 3]]")
    try:
        probe = backend.getitem(x._xp, x._data, index)
    except IndexError as exc:
        raise IndexError(f"index {_describe(index)} is invalid for a tensor of shape "
                         f"{x.shape}: {exc}") from None
    return finish(getitem_, probe, x._xp, (x,), {"index": index, "out_ndim": len(probe.shape)},
                  x._rg, x._fw is not None, view=backend.is_basic_index(index))


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]``: basic, advanced and boolean indexing, differentiable."""
    if type(index) is tuple and x._xp is backend.numpy_namespace and _simple(index):
        try:  # x[:, 0], the common case: ints and slices, on NumPy
            data = x._data[index]
        except IndexError:
            pass  # the general path explains
        else:
            if type(data) is not _ndarray:  # a scalar: a 0-d view instead (backend.getitem)
                data = x._data[(*index, ...)]
            return finish_one(getitem_, data, x, {"index": index, "out_ndim": data.ndim})
    return getitem_raw(x, _raw_index(index, x._xp))


def _describe(index: Any) -> str:
    if isinstance(index, tuple):
        return "(" + ", ".join(_describe(i) for i in index) + ")"
    return f"<array of shape {tuple(index.shape)}>" if _is_index_array(index) else repr(index)


def _index_add_vjp(gg: Tensor, ans: Any, g: Tensor, index: Any, shape: tuple) -> Tensor:
    return getitem_raw(gg, _batched(index, gg.shape[: gg.ndim - len(shape)], gg._xp))


def _index_add_jvp(tangents: tuple, ans: Any, g: Tensor, index: Any, shape: tuple) -> Tensor:
    t = tangents[0]
    nb = t.ndim - g.ndim
    return index_add(t, _batched(index, t.shape[:nb], t._xp), t.shape[:nb] + shape)


index_add_ = defprim("index_add", lambda xp, g, index, shape: backend.scatter_add(
    xp, shape, index, g, g.dtype), (_index_add_vjp,), _index_add_jvp, reads=())


def index_add(values: Tensor, index: Any, shape: tuple) -> Tensor:
    """Zeros of ``shape`` with ``values`` added at ``index`` (repeats accumulate)."""
    return apply(index_add_, values, index=index, shape=tuple(shape))


def _index_put_forward(xp: Any, x: Any, value: Any, index: Any) -> Any:
    out = xp.asarray(x, copy=True)
    backend.setitem(xp, out, index, value)
    return out


def _index_put_x_vjp(g: Tensor, ans: Any, x: Tensor, value: Any, index: Any) -> Tensor:
    return index_put(g, 0.0, _batched(index, g.shape[: g.ndim - x.ndim], g._xp))


def _index_put_value_vjp(g: Tensor, ans: Any, x: Tensor, value: Any, index: Any) -> Tensor:
    nb = g.ndim - x.ndim
    picked = getitem_raw(g, _batched(index, g.shape[:nb], g._xp))
    items = index if isinstance(index, tuple) else (index,)
    if any(_is_index_array(i) and i.dtype != backend.bool_ for i in items):
        last = array_libraries.from_numpy(_last_writes(x.shape, index), g._data)
        picked = where(last, picked, 0.0)
    shape = as_tensor(value).shape
    extra = len(shape) - (picked.ndim - nb)  # leading ones of the value (NumPy drops them)
    if extra > 0:
        picked = reshape(picked, picked.shape[:nb] + (1,) * extra + picked.shape[nb:])
    return sum_to(picked, shape, nb)


def _last_writes(shape: tuple, index: Any) -> Any:
    """Which written entries land last on their place: where an index repeats, the last
    write wins (as in NumPy), so only it reaches the value's gradient (and the forward
    rule's tangent: the two modes agree)."""
    np = backend.np
    places = np.arange(math.prod(shape)).reshape(shape)[array_libraries.index_to_numpy(index)]
    last = np.zeros(places.size, dtype=bool)
    last[places.size - 1 - np.unique(places.ravel()[::-1], return_index=True)[1]] = True
    return last.reshape(places.shape)


def _index_put_jvp(tangents: tuple, ans: Any, x: Tensor, value: Any, index: Any) -> Tensor:
    tx, tv = tangents
    if tx is None:
        tx = zero_tangents((None, tv), (x, as_tensor(value)))[0]
    nb = tx.ndim - x.ndim
    if tv is not None:  # a value of lower rank than the selection: its batch axes in front
        missing = len(backend.getitem(x._xp, x._data, index).shape) - (tv.ndim - nb)
        tv = reshape(tv, tv.shape[:nb] + (1,) * missing + tv.shape[nb + max(-missing, 0):])
    return index_put(tx, 0.0 if tv is None else tv, _batched(index, tx.shape[:nb], tx._xp))


index_put_ = defprim("index_put", _index_put_forward, (_index_put_x_vjp, _index_put_value_vjp),
                     _index_put_jvp, reads=())


def index_put(x: Tensor, value: Any, index: Any) -> Tensor:
    """A copy of ``x`` with ``value`` written at ``index`` (the out-of-place ``x[index] = v``)."""
    return apply(index_put_, x, value, index=index)


def setitem(x: Tensor, index: Any, value: Any) -> None:
    """``x[index] = value`` in place, recorded on the tape when grad is needed."""
    _write_into(x, _raw_index(index, x._xp), value, "__setitem__")


def copy_(x: Tensor, src: Any) -> Tensor:
    """Copy the values of ``src`` into ``x`` in place (broadcast, cast to ``x``'s dtype).

    Like ``x[...] = src``: recorded when grad is needed, so the gradient reaches ``src``.

    Examples
    --------
    >>> import wonderland as wl
    >>> s = wl.tensor(2.0, requires_grad=True)
    >>> y = wl.zeros(3) * 1.0
    >>> y.copy_(s).sum().backward()
    >>> s.grad.item()
    3.0
    """
    return _write_into(x, Ellipsis, src, "copy_")


def fill_(x: Tensor, value: Any) -> Tensor:
    """Fill with ``value`` in place: a number, or a one-element tensor (which then gets the
    gradient). Like ``x[...] = value``: a view of a tensor that requires grad is refused.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.zeros(2).fill_(3.0).tolist()
    [3.0, 3.0]
    """
    return _write_into(x, Ellipsis, value, "fill_")


def _write_into(x: Tensor, index: Any, value: Any, opname: str) -> Tensor:
    if not isinstance(value, (int, float, Tensor)):  # arrays, lists: into x's library
        value = _new(backend.asarray(value, xp=x._xp), x._xp)
    if type(value) is Tensor:
        if backend.kind_rank(value.dtype, value._xp) > max(backend.kind_rank(x.dtype, x._xp),
                                                           2):  # (NumPy truncates floats)
            raise TypeError(f"{opname}: a {backend.dtype_name(value.dtype)} value cannot be "
                            f"stored in a tensor of {backend.dtype_name(x.dtype)}")
        if not backend.is_floating(x.dtype, x._xp):
            value = value.detach()  # (an integer or bool tensor has no gradient: PyTorch's)
    return x._inplace(index_put_, value, opname, index=index)


# ----------------------------------------------------------------------- concat, stack


def _part(g: Any, index: tuple) -> Any:
    """``g[index]`` of a cotangent: recorded for a Tensor, as is for a raw array (the rules of
    concat and stack run on both: n rules wrapping all n arguments made a pass quadratic)."""
    return getitem_raw(g, index) if type(g) is Tensor else g[index]


def _concat_vjp(i: int, g: Any, ans: Any, args: Any, axis: int, starts: tuple) -> Any:
    return _part(g, (Ellipsis, slice(starts[i], starts[i + 1])) + (slice(None),) * (-axis - 1))


concat_ = defprim("concat", lambda xp, *arrays, axis, starts: xp.concat(arrays, axis=axis),
                  Variadic(_concat_vjp), linear="joint", reads=(), poly=True)


def concatenate(tensors: Any, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing axis (alias ``cat``).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.concatenate([wl.zeros(2, 3), wl.ones(1, 3)]).shape
    (3, 3)
    """
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate: need at least one tensor")
    ndim = tensors[0].ndim
    if ndim == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated")
    pos = _axis(dim if axis is None else axis, ndim, "concatenate")
    for i, t in enumerate(tensors):
        if t.ndim != ndim or t.shape[:pos] + t.shape[pos + 1:] != \
                tensors[0].shape[:pos] + tensors[0].shape[pos + 1:]:
            raise ValueError(f"concatenate: tensor {i} has shape {t.shape}, which does not "
                             f"match {tensors[0].shape} outside dimension {pos}")
    # each tensor's offset, once: n rules each summing the lengths before theirs were O(n²)
    starts = tuple(itertools.accumulate((t.shape[pos] for t in tensors), initial=0))
    return apply(concat_, *_common_dtype(tensors), axis=pos - ndim, starts=starts)


cat = concatenate


def _stack_vjp(i: int, g: Any, ans: Any, args: Any, axis: int) -> Any:
    return _part(g, (Ellipsis, i) + (slice(None),) * (-axis - 1))


stack_ = defprim("stack", lambda xp, *arrays, axis: xp.stack(arrays, axis=axis),
                 Variadic(_stack_vjp), linear="joint", reads=(), poly=True)


def stack(tensors: Any, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors of one shape along a new axis.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.stack([wl.zeros(3), wl.ones(3)]).shape
    (2, 3)
    """
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: need at least one tensor")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape}, tensor 0 has shape "
                             f"{tensors[0].shape}; all must match")
    ndim = tensors[0].ndim + 1
    pos = _axis(dim if axis is None else axis, ndim, "stack")
    return apply(stack_, *_common_dtype(tensors), axis=pos - ndim)


def _common_dtype(tensors: list) -> list:
    """Promote to a common dtype (NumPy rules) so concat/stack accept mixed inputs."""
    tensors = list(one_library(tuple(tensors))[0])  # (NumPy data beside another library's)
    if len({t._data.dtype for t in tensors}) == 1:
        return tensors
    target = tensors[0]._xp.result_type(*[t._data for t in tensors])
    return [astype(t, target) for t in tensors]


tensor_ops.__dict__.update(reshape=reshape, broadcast_to=broadcast_to, index_add=index_add,
                           sum_to=sum_to)
