"""A Tensor's values out as Python and NumPy objects: ``numpy()``, ``item()``, ``tolist()``,
``float(t)``, ``int(t)``, ``bool(t)``, ``len(t)`` and ``operator.index(t)``.

They read values and leave the graph, so none is part of the engine; they are installed
on :class:`~wonderland.tensor.Tensor` here, as ``interop`` installs NumPy's protocols.
``float(t)`` and ``.item()`` stay allowed while a transform traces ``t`` (for logging);
a transformed function whose result is a plain number is refused by the transform.

Examples
--------
>>> import wonderland as wl
>>> t = wl.tensor([[1.0, 2.0]])
>>> t.tolist(), len(t), float(t.sum()), t.numpy().shape
([[1.0, 2.0]], 1, 3.0, (1, 2))
"""

from __future__ import annotations

from typing import Any

from . import array_libraries, backend
from .tensor import Tensor


def numpy(self: Tensor) -> Any:
    """The values as a NumPy array (works on tensors that require grad)."""
    return array_libraries.to_numpy(self._data)


def item(self: Tensor) -> int | float | bool:
    """The value of a one-element tensor as a Python number."""
    if self.size != 1:
        raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
    return array_libraries.to_numpy(self._data).reshape(()).item()


def tolist(self: Tensor) -> Any:
    """The values as (nested) Python lists."""
    return array_libraries.to_numpy(self._data).tolist()


def _float(self: Tensor) -> float:
    return float(self.item())


def _int(self: Tensor) -> int:
    return int(self.item())


def _index(self: Tensor) -> int:
    if backend.is_floating(self._data.dtype, self._xp):
        raise TypeError("only integer tensors can be used as an index")
    return int(self.item())


def _bool(self: Tensor) -> bool:
    if self.size != 1:
        raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                         f"use .any() or .all()")
    return bool(self.item())


def _len(self: Tensor) -> int:
    if not self._data.shape:
        raise TypeError("len() of, or iteration over, a 0-d tensor (a scalar); use .item()")
    return self._data.shape[0]


Tensor.numpy, Tensor.item, Tensor.tolist = numpy, item, tolist
Tensor.__float__, Tensor.__int__, Tensor.__index__ = _float, _int, _index
Tensor.__bool__, Tensor.__len__ = _bool, _len

__all__: list[str] = []
