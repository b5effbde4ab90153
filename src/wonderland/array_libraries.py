"""The glue between NumPy and the other array libraries (PyTorch, JAX, CuPy,
``array_api_strict``): values moved between them, and the few operations that their
namespaces lack or refuse, done another way.

The engine (``backend``, ``tensor``, the primitives) computes in the namespace of the data
it holds and calls here only off NumPy's path. This module knows nothing of wonderland.
"""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np


def to_numpy(data: Any) -> np.ndarray:
    """A NumPy array with the values of ``data`` (from any library, any device).

    Examples
    --------
    >>> to_numpy(np.float64(2.0))
    array(2.)
    """
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data)
    if array_api_compat.is_torch_array(data):  # (NumPy has no bfloat16: float32 holds it)
        data = data.detach().cpu()
        return (data.float() if str(data.dtype) == "torch.bfloat16" else data).numpy()
    if array_api_compat.is_cupy_array(data):
        return data.get()
    try:
        return np.from_dlpack(data)
    except Exception:  # noqa: BLE001 - libraries without DLPack export fall back to buffers
        return np.asarray(data)


def from_numpy(array: np.ndarray, like: Any) -> Any:
    """``array`` moved into the library (and onto the device) of the array ``like``.

    Examples
    --------
    >>> from_numpy(np.ones(2), like=np.zeros(3))
    array([1., 1.])
    """
    if isinstance(like, (np.ndarray, np.generic)):
        return array
    xp = array_api_compat.array_namespace(like)
    return xp.asarray(array, device=array_api_compat.device(like))


def index_to_numpy(index: Any) -> Any:
    """``index`` with the arrays in it (of any library) as NumPy arrays."""
    if isinstance(index, tuple):
        return tuple(index_to_numpy(i) for i in index)
    if isinstance(index, (np.ndarray, np.generic)) or array_api_compat.is_array_api_obj(index):
        return to_numpy(index)
    return index


def scatter_add(xp: Any, shape: tuple, index: Any, values: Any, dtype: Any) -> Any:
    """Zeros of ``shape`` with ``values`` added at ``index`` (repeated indices accumulate),
    in the library ``xp`` of ``values``: JAX's functional update, a plain write for a basic
    index (``basic``), else the accumulation done in NumPy and moved back."""
    out = xp.zeros(shape, dtype=dtype, device=array_api_compat.device(values))
    if array_api_compat.is_jax_array(out):  # immutable: JAX's functional update
        return out.at[index].add(values)
    items = index if isinstance(index, tuple) else (index,)
    if all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis
           for i in items):  # basic: no position repeats
        if any(i is None for i in items):  # strict libraries refuse None in assignments
            index = tuple(i for i in items if i is not None)
            values = xp.reshape(values, tuple(out[index].shape))
        out[index] = values
        return out
    host = np.zeros(shape, dtype=to_numpy(values).dtype)
    np.add.at(host, index_to_numpy(index), to_numpy(values))
    return from_numpy(host, values)


def einsum(subscripts: str, *operands: Any) -> Any:
    """``einsum`` of a library without one: computed in NumPy, moved back."""
    result = np.einsum(subscripts, *(to_numpy(o) for o in operands), optimize=True)
    return from_numpy(np.asarray(result), operands[0])


def take_for_index(xp: Any, x: Any, index: Any) -> Any:
    """``x[index]`` as a ``take`` where ``index`` is one vector of integers (or a vector
    mask) among full slices, which strict libraries refuse as an index; ``None`` for any
    other index (the library's refusal stands)."""
    items = index if isinstance(index, tuple) else (index,)
    axis = next((k for k, i in enumerate(items) if array_api_compat.is_array_api_obj(i)), 0)
    picked = items[axis]
    full = slice(None)
    if getattr(picked, "ndim", 0) != 1 or any(i != full for i in items[:axis]) or any(
            i is not Ellipsis and not (type(i) is slice and i == full) for i in items[axis + 1:]):
        return None
    picked = xp.asarray(picked)  # (NumPy's indices join xp)
    return xp.take(x, xp.nonzero(picked)[0] if xp.isdtype(picked.dtype, "bool") else picked,
                   axis=axis)
