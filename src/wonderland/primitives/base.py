"""Helpers to define primitives: the linear and elementwise shorthands of DESIGN.md."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from .. import backend
from ..backend import ops_for
from ..tensor import Primitive, apply


class Variadic:
    """The reverse rules of a primitive with any number of arguments (stack, concat)."""

    def __init__(self, rule: Callable[..., Any]) -> None:
        self.rule = rule

    def __iter__(self):
        i = 0
        while True:
            yield partial(self.rule, i)
            i += 1

    def __getitem__(self, i: int) -> Callable[..., Any]:
        return partial(self.rule, i)


def defprim(name: str, forward: Callable[..., Any], vjps: Any,
            jvp: Callable[..., Any] | None = None,
            *, linear: str | None = None, **options: Any) -> Primitive:
    """Define a primitive; ``linear="joint"`` or ``"multi"`` writes its forward rule.

    A jointly linear primitive (add, sum, reshape) pushes the tangents through itself;
    a multilinear one (mul, matmul) sums one term per argument with a tangent.
    """
    prim = Primitive(name, forward, vjps, jvp, **options)
    if linear == "joint":
        prim.jvp = partial(_joint_linear_jvp, prim)
    elif linear == "multi":
        prim.jvp = partial(_multilinear_jvp, prim)
    return prim


def _joint_linear_jvp(prim: Primitive, tangents: tuple, ans: Any, *args: Any, **params: Any):
    # positional arguments are operands (constants have a zero tangent); settings travel
    # as keyword parameters
    parts = [0.0 if t is None else t for t in tangents]
    return apply(prim, *parts, **params)


def _multilinear_jvp(prim: Primitive, tangents: tuple, ans: Any, *args: Any, **params: Any):
    total = None
    for i, t in enumerate(tangents):
        if t is None:
            continue
        term = apply(prim, *args[:i], t, *args[i + 1:], **params)
        total = term if total is None else total + term
    return total


def elementwise(name: str, forward: Callable[..., Any] | str,
                derivative: Callable[[Any, Any, Any], Any], *, uses_ans: bool = False
                ) -> Primitive:
    """A unary elementwise primitive from its derivative ``f'(x)``, ``derivative(m, ans, x)``.

    ``m`` is the ops namespace of the values (``backend.ops_for``): the same derivative
    serves the reverse rule, the forward rule, on Tensors and on raw arrays.
    ``forward`` may be the name of the namespace's own function (``"sin"``).
    """
    xp_name = forward if isinstance(forward, str) else None
    if xp_name is not None:
        def forward(xp: Any, x: Any) -> Any:
            return getattr(xp, xp_name)(x)
    known = backend._OPS  # ops_for, inlined on the reverse pass's hot path
    return Primitive(
        name, forward,
        (lambda g, ans, x: g * derivative(known.get(type(g)) or ops_for(g), ans, x),),
        lambda tangents, ans, x: tangents[0] * derivative(ops_for(tangents[0]), ans, x),
        uses_ans=uses_ans,
        reads=() if uses_ans else (0,),
        poly=True,
        raw=xp_name,
    )
