"""Tensor operators and methods: thin calls into the primitives and their composites."""

from __future__ import annotations

import operator
from typing import Any

from ..tensor import Tensor, binary_operator
from . import elementwise as ew
from . import linalg, reductions, shape

_add, _sub, _mul, _div, _pow = ew.add, ew.sub, ew.mul, ew.div, ew.pow_


def _fast(prim: Any):
    """Operator ``self op other``: tensors and Python scalars go straight to the primitive."""
    return binary_operator(prim, ew._binary)


def _reflected(prim: Any):
    """Operator ``other op self`` for a left operand that is not a tensor."""
    return binary_operator(prim, ew._binary, reflected=True)


def _inplace(prim: Any, name: str, raw_op: Any):
    def op(self: Tensor, other: Any) -> Tensor:
        return self._inplace(prim, other, name, raw_op)

    op.__name__ = name
    return op


def _install() -> None:
    T = Tensor
    T.__add__ = _fast(_add)
    T.__radd__ = _reflected(_add)
    T.__sub__ = _fast(_sub)
    T.__rsub__ = _reflected(_sub)
    T.__mul__ = _fast(_mul)
    T.__rmul__ = _reflected(_mul)
    T.__truediv__ = _fast(_div)
    T.__rtruediv__ = _reflected(_div)
    T.__pow__ = _fast(_pow)
    T.__rpow__ = _reflected(_pow)
    T.__matmul__ = lambda self, other: linalg.matmul(self, other)
    T.__rmatmul__ = lambda self, other: linalg.matmul(other, self)
    T.__neg__ = ew.negative
    T.__pos__ = lambda self: self
    T.__abs__ = ew.abs
    T.__lt__ = lambda self, other: ew.less(self, other)
    T.__le__ = lambda self, other: ew.less_equal(self, other)
    T.__gt__ = lambda self, other: ew.greater(self, other)
    T.__ge__ = lambda self, other: ew.greater_equal(self, other)
    T.__eq__ = lambda self, other: ew.equal(self, other)
    T.__ne__ = lambda self, other: ew.not_equal(self, other)
    T.__and__ = T.__rand__ = lambda self, other: ew.logical_and(self, other)
    T.__or__ = T.__ror__ = lambda self, other: ew.logical_or(self, other)
    T.__xor__ = T.__rxor__ = lambda self, other: ew.logical_xor(self, other)
    T.__invert__ = lambda self: ew.logical_not(self)
    T.__iadd__ = T.add_ = _inplace(_add, "add_", operator.add)
    T.__isub__ = T.sub_ = _inplace(_sub, "sub_", operator.sub)
    T.__imul__ = T.mul_ = _inplace(_mul, "mul_", operator.mul)
    T.__itruediv__ = T.div_ = _inplace(_div, "div_", operator.truediv)
    T.__getitem__ = shape.getitem
    T.__setitem__ = shape.setitem
    T.copy_ = shape.copy_

    for name in ("exp", "log", "log1p", "sqrt", "sign", "sin", "cos", "tan", "tanh", "sigmoid",
                 "relu", "softplus", "maximum", "minimum", "clip", "astype", "clone"):
        setattr(T, name, getattr(ew, name))
    T.abs = ew.abs
    T.clamp = ew.clip
    T.where = lambda self, condition, other: ew.where(condition, self, other)
    for name in ("sum", "mean", "var", "std", "max", "min", "prod", "argmax", "argmin",
                 "logsumexp", "softmax", "log_softmax", "norm"):
        setattr(T, name, getattr(reductions, name))
    T.amax = reductions.max
    T.amin = reductions.min
    for name in ("reshape", "permute", "transpose", "squeeze", "unsqueeze", "flatten",
                 "broadcast_to"):
        setattr(T, name, getattr(shape, name))
    T.view = shape.reshape
    T.expand = lambda self, *sizes: shape.broadcast_to(
        self, tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list))
        else sizes)
    T.T = property(lambda self: shape.permute(self, tuple(reversed(range(self.ndim)))))
    T.mT = property(shape.matrix_transpose)
    for name in ("matmul", "dot", "inner", "outer"):
        setattr(T, name, getattr(linalg, name))
    T.to = lambda self, dtype: ew.astype(self, dtype)
    T.float = lambda self: ew.astype(self, "float32")
    T.double = lambda self: ew.astype(self, "float64")
    T.any = lambda self, dim=None: _logical_reduce(self, "any", dim)
    T.all = lambda self, dim=None: _logical_reduce(self, "all", dim)


def _logical_reduce(x: Tensor, name: str, dim: Any) -> Tensor:
    from ..tensor import _new

    xp = x._xp
    return _new(getattr(xp, name)(x._data, axis=dim), xp)


_install()
