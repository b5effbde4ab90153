"""Tensor operators and methods: thin calls into the primitives and their composites."""

from __future__ import annotations

import operator
from typing import Any

from ..tensor import Primitive, Tensor, binary_operator, undifferentiated
from . import elementwise as ew
from . import linalg, reductions, shape


def _inplace(prim: Any, name: str, raw_op: Any):
    def op(self: Tensor, other: Any) -> Tensor:
        return self._inplace(prim, other, name, raw_op)

    op.__name__ = name
    return op


def _install() -> None:
    T = Tensor
    for name, prim, inplace, op in (
            ("add", ew.add, "add_", operator.add), ("sub", ew.sub, "sub_", operator.sub),
            ("mul", ew.mul, "mul_", operator.mul), ("truediv", ew.div, "div_", operator.truediv),
            ("pow", ew.pow_, None, operator.pow),
            ("floordiv", ew.floor_divide_, "floor_divide_", ew.floordiv),
            ("mod", ew.remainder_, "remainder_", ew.mod)):
        # tensors and Python scalars go straight to the primitive; ``ew._binary`` the rest
        setattr(T, f"__{name}__", binary_operator(prim, op, ew._binary))
        setattr(T, f"__r{name}__", binary_operator(prim, op, ew._binary, reflected=True))
        if inplace is not None:
            setattr(T, f"__i{name}__", _inplace(prim, inplace, op))
            setattr(T, inplace, getattr(T, f"__i{name}__"))
    T.__rmatmul__ = lambda self, other: linalg.matmul(other, self)
    T.__pos__ = lambda self: self
    for dunder, fn in (("lt", ew.less), ("le", ew.less_equal), ("gt", ew.greater),
                       ("ge", ew.greater_equal), ("eq", ew.equal), ("ne", ew.not_equal),
                       ("and", ew.logical_and), ("rand", ew.logical_and), ("or", ew.logical_or),
                       ("ror", ew.logical_or), ("xor", ew.logical_xor), ("rxor", ew.logical_xor),
                       ("invert", ew.logical_not), ("neg", ew.negative), ("abs", ew.abs),
                       ("matmul", linalg.matmul), ("getitem", shape.getitem),
                       ("setitem", shape.setitem)):
        setattr(T, f"__{dunder}__", fn)
    T.zero_ = lambda self: shape._write_into(self, Ellipsis, 0, "zero_")  # (x.grad.zero_())
    for module, names in (
            (ew, "exp log log1p sqrt sign sin cos tan tanh sigmoid relu softplus maximum minimum "
                 "clip astype clone abs floor ceil trunc"),
            (reductions, "sum mean var std max min prod argmax argmin logsumexp softmax "
                         "log_softmax norm"),
            (shape, "reshape permute transpose squeeze unsqueeze flatten broadcast_to copy_ fill_"),
            (linalg, "matmul dot inner outer")):
        for name in names.split():
            setattr(T, name, getattr(module, name))
    T.clamp = ew.clip
    T.where = lambda self, condition, other: ew.where(condition, self, other)
    T.view = shape.reshape
    T.T = property(lambda self: shape.permute(self, tuple(reversed(range(self.ndim)))))
    T.mT = property(shape.matrix_transpose)
    T.any = lambda self, dim=None: _logical_reduce(self, "any", dim)
    T.all = lambda self, dim=None: _logical_reduce(self, "all", dim)


logical_reduce_ = Primitive("any_all", lambda xp, x, name, axis: getattr(xp, name)(x, axis=axis),
                            (None,), None)


def _logical_reduce(x: Tensor, name: str, dim: Any) -> Tensor:
    axis = None if dim is None else reductions._dims(dim, None, x.ndim, name)
    return undifferentiated(logical_reduce_, (x,), {"name": name, "axis": axis})


_install()
