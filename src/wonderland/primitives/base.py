"""Helpers to define primitives: elementwise ones stated by their partial derivatives, the
linear shorthands of DESIGN.md, and the operations that rules call on either kind of value.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from types import SimpleNamespace
from typing import Any

from .. import backend
from ..tensor import Primitive, Tensor, _new, apply, identity_rule

# The operations a rule written for both kinds of values calls (``m.cos(x)``), on Tensors:
# differentiable, for higher order. wonderland.primitives fills it once its modules are
# loaded; on raw arrays the same names come from ``backend.RawOps``.
tensor_ops = SimpleNamespace()


def ops_for(value: Any) -> Any:
    """The operations for ``value``: wonderland's for a Tensor, raw ones for an array."""
    if type(value) is Tensor:
        return tensor_ops
    return _raw_ops.get(type(value)) or backend.raw_ops(value)


_raw_ops = backend.RAW_OPS


def defprim(name: str, forward: Callable[..., Any], vjps: Any,
            jvp: Callable[..., Any] | None = None, *, linear: str | None = None,
            poly: bool = False, **options: Any) -> Primitive:
    """Define a primitive. ``poly``: its reverse rules also run on raw arrays (they use
    operators, methods and ``ops_for``). ``linear="joint"`` writes the forward rule of a
    jointly linear primitive (sum, reshape): the primitive applied to the tangents.
    """
    prim = Primitive(name, forward, vjps, jvp, raw_vjps=vjps if poly else None, **options)
    if linear == "joint":
        prim.jvp = partial(_joint_linear_jvp, prim)
    return prim


def _joint_linear_jvp(prim: Primitive, tangents: tuple, ans: Any, *args: Any, **params: Any):
    # positional arguments are operands (a missing tangent is zeros: one operand has its
    # own); settings travel as keyword parameters
    if len(tangents) > 1:
        tangents = zero_tangents(tangents, args)
    return apply(prim, *tangents, **params)


def zero_tangents(tangents: tuple, args: tuple) -> list:
    """Tangents with zeros (of the batch shape) in place of the missing ones."""
    like, arg = next((t, a) for t, a in zip(tangents, args) if t is not None)
    batch = like.shape[: like.ndim - arg.ndim]
    return [t if t is not None else
            _new(like._xp.zeros(batch + a.shape, dtype=like._data.dtype), like._xp)
            for t, a in zip(tangents, args)]


def elementwise(name: str, derivative: Any, forward: Callable[..., Any] | None = None, *,
                uses_ans: bool = False) -> Primitive:
    """A unary elementwise primitive from its derivative ``f'(x)``: a number, or
    ``derivative(m, ans, x)`` written with ``m``'s operations (``ops_for``), so that one
    definition serves the reverse and forward rules, on Tensors and on raw arrays. The
    forward is the namespace's function of the same name unless given."""
    if forward is None:
        def forward(xp: Any, x: Any) -> Any:
            return getattr(xp, name)(x)

        if getattr(backend.numpy_namespace, name) is getattr(backend.np, name, None):
            forward.on_numpy = getattr(backend.np, name)  # for unary_function: no wrapper
    reads = () if uses_ans or isinstance(derivative, int) else (0,)  # ans, not x
    return _from_partials(name, forward, (derivative,), reads, uses_ans)


def binary(name: str, op: Callable[[Any, Any, Any], Any], partials: tuple) -> Primitive:
    """A binary elementwise primitive, ``op(xp, a, b)``, from its two partial derivatives
    ``∂/∂a`` and ``∂/∂b``: each a number (``1``, ``-1``) or ``(m, ans, a, b) -> value``.
    The engine sums each cotangent back to its argument's shape (broadcasting)."""
    reads = () if all(isinstance(p, int) for p in partials) else None
    return _from_partials(name, op, partials, reads, False)


def _from_partials(name: str, forward: Callable[..., Any], partials: tuple, reads: Any,
                   uses_ans: bool) -> Primitive:
    def jvp(tangents: tuple, ans: Any, *args: Any) -> Any:
        terms = [t if p == 1 else -t if p == -1 else t * p(tensor_ops, ans, *args)
                 for t, p in zip(pad_tangents(tangents, args), partials) if t is not None]
        return sum(terms[1:], terms[0])  # (the engine calls it with at least one tangent)

    return Primitive(name, forward, tuple(_scaled(p, len(partials), False) for p in partials),
                     jvp, raw_vjps=tuple(_scaled(p, len(partials), True, uses_ans)
                                         for p in partials),
                     uses_ans=uses_ans, reads=reads)


def _scaled(p: Any, arity: int, raw: bool, uses_ans: bool = False) -> Callable[..., Any]:
    """The reverse rule ``g * p``: the cotangent times the partial derivative ``p``, whose
    ``m`` is wonderland's operations, or on raw arrays those of the cotangent's namespace."""
    if p == 1:
        return identity_rule
    if p == -1:
        return _negated if raw else lambda g, ans, *args: -g
    if not raw:
        return lambda g, ans, *args: g * p(tensor_ops, ans, *args)
    unary = arity == 1

    def rule(g: Any, ans: Any, a: Any, b: Any = None) -> Any:
        if type(g) is not _ndarray:  # another library's arrays, NumPy scalars
            return g * (p(ops_for(g), ans, a) if unary else p(ops_for(g), ans, a, b))
        if unary and g.size >= _BLOCKED_SMALLEST and type(v := ans if uses_ans else a) is \
                _ndarray and g.shape == v.shape and g.dtype == v.dtype and \
                g.flags.c_contiguous and _sole(g, 2):  # (the pass's hold, and ours)
            return _in_blocks(p, _numpy_ops, g, v.reshape(-1), ans, uses_ans, a)
        d = p(_numpy_ops, ans, a) if unary else p(_numpy_ops, ans, a, b)
        # ones times d is d (the hand-over copies it if the user would share it); a large
        # d that nothing else holds takes the product in its own memory
        if type(d) is _ndarray and (id(g) in _units or d.size >= _smallest) and \
                d.shape == g.shape and d.dtype == g.dtype:
            if id(g) in _units:
                return d
            if _sole(d, 1):
                return _multiply(g, d, out=d)
        return g * d  # (x * 2.0: d is the number)
    return rule


# The reverse pass calls a raw rule holding the cotangent once itself (and more while
# another rule will read it): a cotangent held no more is the rule's to write over.
_ndarray, _units, _smallest = backend.np.ndarray, backend.UNITS, backend.IN_PLACE_SMALLEST
_multiply, _negative, _sole = backend.np.multiply, backend.np.negative, backend.sole
_numpy_ops = backend.raw_ops(backend.np.empty(0))


_BLOCK, _BLOCKED_SMALLEST = 1 << 15, 1 << 17  # elements: a block fits in a core's cache


def _in_blocks(p: Any, m: Any, g: Any, v: Any, ans: Any, uses_ans: bool, x: Any) -> Any:
    """``g * p(m, ans, x)`` written into ``g`` (which the pass holds alone) a block at a
    time, ``v`` being ``ans`` or ``x``, whichever ``p`` reads, flat: the derivative of a
    large unary primitive and its temporaries never live whole beside ``g`` (the hidden
    layer of an MLP: two arrays of its size fewer under tanh). ``x`` of a rule that reads
    ``ans`` only may stand in for the input: it is passed as is."""
    flat = g.reshape(-1)
    for i in range(0, flat.size, _BLOCK):
        block = v[i:i + _BLOCK]
        flat[i:i + _BLOCK] *= p(m, block, x) if uses_ans else p(m, ans, block)
    return g


def _negated(g: Any, ans: Any, *args: Any) -> Any:
    """``-g``, in the cotangent's own memory when the pass holds it no more."""
    if type(g) is _ndarray and g.size >= _smallest and _sole(g, 2):  # the pass's and ours
        return _negative(g, out=g)
    return -g


def pad_tangent(t: Tensor, arg: Any, ndim: int) -> Tensor:
    """A tangent of ``arg`` (batch axes, then ``arg``'s) with length-one axes inserted after
    its batch axes up to ``ndim`` axes of its own: under broadcasting against arguments of
    higher rank, batch axes stay in front."""
    shape = tuple(getattr(arg, "shape", ()))
    if len(shape) >= ndim:
        return t
    nb = t.ndim - len(shape)
    return t.reshape(t.shape[:nb] + (1,) * (ndim - len(shape)) + shape)


def pad_tangents(tangents: tuple, args: tuple) -> list:
    """``pad_tangent`` for the tangents of all ``args`` of a broadcasting primitive."""
    ndim = max(len(getattr(a, "shape", ())) for a in args)
    return [None if t is None else pad_tangent(t, a, ndim) for t, a in zip(tangents, args)]
