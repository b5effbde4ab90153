"""Graph passes over a traced program, before code is generated.

* dead-code elimination: only what the outputs need is kept (``reachable``);
* copies dropped: ``clone`` (the engine's hand-over copies) becomes its argument, since the
  generated code never writes into a value another one still reads (outputs are made
  fresh where they are handed to the caller);
* constant folding: an operation of constants only is its trace-time value; a constant
  whose entries are all equal (a broadcast seed of ones) becomes a Python number where the
  result's shape and dtype stay the same; then a product with one, a sum with zero, a
  quotient by one, a power one, reshapes and casts to what a value already is disappear;
* common-subexpression elimination: one Value per (primitive, arguments, parameters);
* rewrites that save whole passes over memory, or whole arrays:

  - ``(I * d) @ B`` for an identity constant ``I`` (the basis of ``jacrev``) is
    ``d[:, None] * B``, one product instead of a matrix product;
  - index-adds summed together (the gradient of ``X[:, 0]`` and ``X[:, 1]``) write into
    one buffer (``scatter_sum``);
  - a matrix product over one shared entry (``u @ vᵀ`` with one column, as the reverse
    rule of ``H @ W2`` makes) is a broadcast product, and a large array times such a
    product read once is ``(x * u) * vᵀ``: computed in ``x``'s buffer, never as an array
    of its own (the backward of an MLP's last layer);
  - numbers multiplied in turn (``-((x * 2.0) * 1e-5)``) are one product;
  - the sum of all squares of a float64 array read once (``((y - X @ w) ** 2).mean()``)
    is one dot product, no array of squares.

The passes rewrite the ``args`` of Values in place and make new Values; they add no
derivative rules: every operation is one of the engine's primitives (or of the tracer's
non-differentiable ones), evaluated by its own forward computation.
"""

from __future__ import annotations

import heapq
import math
from typing import Any

import numpy as np

from .. import backend
from ..primitives import elementwise as ew
from ..primitives import linalg, reductions, shape
from ..tensor import Primitive
from .trace import _UNKNOWN, Const, Value, pseudo_primitive

# ----------------------------------------------------------------------- graph walks


def values_in(items: Any) -> list[Value]:
    return [a for a in items if isinstance(a, Value)]


def reachable(outputs: list[Any]) -> list[Value]:
    """The Values the outputs depend on, inputs included, arguments before their users
    (a depth-first post-order). Iterative: a chain of any length."""
    order: list[Value] = []
    seen: set[int] = set()
    for root in values_in(outputs):
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(root.args))]
        while stack:
            v, pending = stack[-1]
            for a in pending:
                if isinstance(a, Value) and id(a) not in seen:
                    seen.add(id(a))
                    stack.append((a, iter(a.args)))
                    break
            else:
                stack.pop()
                order.append(v)
    return order


def schedule(outputs: list[Any]) -> list[Value]:
    """The operations in the order the generated code runs them: topological, and among
    the ready ones the function's own computation before the derivatives (then by trace
    order), so that the code reads as the forward part, then the derivative part."""
    values = [v for v in reachable(outputs) if v.prim is not None]
    members = {id(v) for v in values}
    waiting: dict[int, int] = {}
    users: dict[int, list[Value]] = {}
    for v in values:
        deps = {id(a) for a in v.args if isinstance(a, Value) and id(a) in members}
        waiting[id(v)] = len(deps)
        for d in deps:
            users.setdefault(d, []).append(v)
    ready = [(v.phase, v.index, k, v) for k, v in enumerate(values) if not waiting[id(v)]]
    heapq.heapify(ready)
    order = []
    position = {id(v): k for k, v in enumerate(values)}
    while ready:
        v = heapq.heappop(ready)[3]
        order.append(v)
        for u in users.get(id(v), ()):
            waiting[id(u)] -= 1
            if not waiting[id(u)]:
                heapq.heappush(ready, (u.phase, u.index, position[id(u)], u))
    return order


def use_counts(outputs: list[Any]) -> dict[int, int]:
    """How many times each Value is read (an output counts once more)."""
    counts: dict[int, int] = {}
    for v in reachable(outputs):
        for a in v.args:
            if isinstance(a, Value):
                counts[id(a)] = counts.get(id(a), 0) + 1
    for o in values_in(outputs):
        counts[id(o)] = counts.get(id(o), 0) + 1
    return counts


# ----------------------------------------------------------------------- making Values


def operand_data(a: Any) -> Any:
    if isinstance(a, Value):
        return a.data
    if isinstance(a, Const):
        return a.value
    return a


def make(prim: Primitive, args: tuple, params: dict, like: Value) -> Value:
    """A new Value of ``prim`` (computed once now, for its shape, dtype and value), placed
    where ``like`` is in the program."""
    xp = like.xp
    data = prim.forward(xp, *[operand_data(a) for a in args], **params)
    if not hasattr(data, "shape"):
        data = np.asarray(data)
    v = Value(like.index, prim, tuple(args), params, data, xp)
    v.where, v.phase, v.label = like.where, like.phase, like.label
    return v


# ----------------------------------------------------------------------- constants


def uniform(c: Const) -> Any:
    """The one value of all the entries of a NumPy constant (a Python number), else None."""
    if c.uniform is not _UNKNOWN:
        return c.uniform
    if c.live:  # its values may change between calls
        return None
    value = None
    a = c.value
    if isinstance(a, np.ndarray | np.generic) and a.size and a.dtype.kind in "iuf":
        first = a.reshape(-1)[0]
        if bool(np.all(a == first)) and not np.isnan(first):
            value = first.item()
    c.uniform = value
    return value


def is_identity(c: Any) -> bool:
    """Whether ``c`` is a NumPy constant identity matrix."""
    if not isinstance(c, Const) or not isinstance(c.value, np.ndarray) or c.live:
        return False
    a = c.value
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.dtype.kind not in "fiu":
        return False
    return bool(np.array_equal(a, np.eye(a.shape[0], dtype=a.dtype)))


# ----------------------------------------------------------------------- simplification

_ARITHMETIC = {ew.add, ew.sub, ew.mul, ew.div, ew.pow_}


def _same(a: Any, v: Value) -> bool:
    """``a`` can stand for ``v``: a Value of the same shape and dtype."""
    return isinstance(a, Value) and a.shape == v.shape and a.dtype == v.dtype


def _numeric_literal(a: Any) -> bool:
    return type(a) in (int, float)


def simplify(v: Value) -> Any:
    """``v`` itself, or what replaces it (a Value, a Const or a Python number)."""
    prim, args, params = v.prim, v.args, v.params
    if prim is ew.clone_:
        return args[0]
    if not any(isinstance(a, Value) or isinstance(a, Const) and a.live for a in args):
        return Const(v.data)  # every argument a fixed constant: its trace-time value
    if prim in _ARITHMETIC and v.xp is backend.numpy_namespace:
        args = v.args = tuple(_as_literal(a, k, v) for k, a in enumerate(args))
        a, b = args
        if prim is ew.mul:
            if _numeric_literal(b) and b == 1 and _same(a, v):
                return a
            if _numeric_literal(a) and a == 1 and _same(b, v):
                return b
        elif prim is ew.add:
            if _numeric_literal(b) and b == 0 and _same(a, v):
                return a
            if _numeric_literal(a) and a == 0 and _same(b, v):
                return b
        elif prim in (ew.sub, ew.div, ew.pow_):
            unit = 0 if prim is ew.sub else 1
            if _numeric_literal(b) and b == unit and _same(a, v):
                return a
        return v
    x = args[0] if args else None
    if prim is shape.reshape_ or prim is shape.broadcast_to_:
        if _same(x, v):
            return x
        if prim is shape.reshape_ and isinstance(x, Value) and x.prim is shape.reshape_:
            v.args = (x.args[0],) + args[1:]  # a reshape of a reshape: one reshape
    elif prim is shape.permute_:
        if tuple(params["axes"]) == tuple(range(len(params["axes"]))) and _same(x, v):
            return x
    elif prim is ew.astype_ or prim is ew.cast_ or prim is shape.sum_to_:
        if _same(x, v):
            return x
    return v


def _as_literal(a: Any, position: int, v: Value) -> Any:
    """A uniform constant operand of an arithmetic primitive as a Python number, when the
    result keeps the shape and dtype of the other operand (NumPy's weak scalars)."""
    if not isinstance(a, Const):
        return a
    number = uniform(a)
    if number is None:
        return a
    other = v.args[1 - position]
    if isinstance(other, Value) and other.shape == v.shape and other.dtype == v.dtype:
        return number
    return a


# ----------------------------------------------------------------------- CSE keys


def _freeze(value: Any) -> Any:
    """A hashable key for a parameter or a literal (None when there is none)."""
    kind = type(value)
    if value is None or value is Ellipsis or kind in (int, float, bool, str, complex):
        return (kind.__name__, value)
    if kind is tuple or kind is list:
        items = tuple(_freeze(v) for v in value)
        return None if None in items else (kind.__name__, items)
    if kind is dict:
        items = tuple((k, _freeze(v)) for k, v in sorted(value.items()))
        return None if any(f is None for _, f in items) else ("dict", items)
    if kind is slice:
        return ("slice", _freeze(value.start), _freeze(value.stop), _freeze(value.step))
    if isinstance(value, np.dtype):
        return ("dtype", value.str)
    if isinstance(value, np.ndarray | np.generic):
        if value.size <= 256:
            return ("array", value.dtype.str, value.shape, value.tobytes())
        return ("array-id", id(value))
    return None


def _key(a: Any) -> Any:
    if isinstance(a, Value):
        return ("value", id(a))
    if isinstance(a, Const):
        frozen = None if a.live else _freeze(a.value)
        return ("const", frozen if frozen is not None else id(a))
    return _freeze(a)


def cse_key(v: Value) -> Any:
    args = tuple(_key(a) for a in v.args)
    params = _freeze(v.params)
    if params is None or any(k is None for k in args):
        return None
    return (id(v.prim), args, params)


# ----------------------------------------------------------------------- rewrites


def _diagonal(p: Any) -> Any:
    """For ``p = I * d`` (either order), with ``I`` an identity constant and ``d`` a Value
    along one axis (``(n,)``, ``(1, n)`` or ``(n, 1)``): ``(d, I)``, ``d`` being what ``p``
    has on its diagonal. Else None."""
    if not isinstance(p, Value) or p.prim is not ew.mul or len(p.shape) != 2:
        return None
    n = p.shape[0]
    for e, d in (p.args, p.args[::-1]):
        if is_identity(e) and isinstance(d, Value) and e.shape == (n, n) and \
                d.shape in ((n,), (1, n), (n, 1)):
            return d, e
    return None


def _diagonal_product_forward(xp: Any, d: Any, other: Any, identity: Any, *,
                              side: int) -> Any:
    """``(identity * d) @ other`` (``side`` 0) or ``other @ (identity * d)`` (1) as a
    scaling of ``other``'s rows or columns, where ``d`` and ``other`` are finite; else the
    product itself, as the eager engine computes it: there the zeros off the diagonal
    times an infinity are NaN, which the scaling would not see. (A finite sum that
    overflows only takes the product's path.)"""
    if np.isfinite(np.add.reduce(d, axis=None)) and \
            np.isfinite(np.add.reduce(other, axis=None)):
        flat = d.reshape(-1)
        return flat.reshape(-1, 1) * other if side == 0 and other.ndim == 2 else \
            flat * other if side == 0 else other * flat
    p = identity * d
    return p @ other if side == 0 else other @ p


diagonal_product_ = pseudo_primitive("diagonal_product", _diagonal_product_forward, 3)


def _diagonal_matmul(v: Value) -> Any:
    """``diag(d) @ B`` as ``d[:, None] * B``; ``B @ diag(d)`` as ``B * d[None, :]``
    (``_diagonal_product_forward``)."""
    if v.prim is not linalg.matmul_ or v.xp is not backend.numpy_namespace:
        return None
    a, b = v.args
    for side, p, other in ((0, a, b), (1, b, a)):
        found = _diagonal(p)
        if found is None or not hasattr(other, "shape") or len(other.shape) not in (1, 2):
            continue
        d, identity = found
        new = make(diagonal_product_, (d, other, identity), {"side": side}, v)
        if new.shape == v.shape and new.dtype == v.dtype:
            return new
    return None


def _scatter_forward(xp: Any, *values: Any, shape: tuple, dtype: Any, parts: tuple) -> Any:
    """Zeros of ``shape`` with each value added at its index: the sum of the index-adds
    (``backend.scatter_add``) it replaces, in one buffer."""
    out = np.zeros(shape, dtype)
    for k, (value, (index, basic)) in enumerate(zip(values, parts)):
        if not basic:
            np.add.at(out, index, value)
        elif k == 0:
            out[index] = value
        else:
            out[index] += value
    return out


scatter_sum_ = pseudo_primitive("scatter_sum", _scatter_forward, 1)


def _scatter_parts(p: Any, uses: dict[int, int]) -> Any:
    """``p`` as a list of (value, index) parts added into zeros, when it is an index-add
    (or an earlier scatter_sum) read only once; else None."""
    if not isinstance(p, Value) or uses.get(id(p), 0) != 1 or \
            p.xp is not backend.numpy_namespace:
        return None
    if p.prim is shape.index_add_:
        index = p.params["index"]
        return [(p.args[0], (index, backend.is_basic_index(index)))]
    if p.prim is scatter_sum_:
        return list(zip(p.args, p.params["parts"]))
    return None


def _fused_scatter(v: Value, uses: dict[int, int]) -> Any:
    if v.prim is not ew.add or v.xp is not backend.numpy_namespace:
        return None
    a, b = v.args
    pa, pb = _scatter_parts(a, uses), _scatter_parts(b, uses)
    if pa is None or pb is None or a.shape != v.shape or b.shape != v.shape or \
            a.dtype != v.dtype or b.dtype != v.dtype:
        return None
    parts = pa + pb
    new = Value(v.index, scatter_sum_, tuple(p[0] for p in parts),
                {"shape": v.shape, "dtype": v.dtype, "parts": tuple(p[1] for p in parts)},
                v.data, v.xp)
    new.where, new.phase, new.label = v.where, v.phase, v.label
    uses[id(new)] = uses.get(id(v), 0)
    return new


def _negated(a: Any, uses: dict[int, int]) -> Any:
    """``b`` when ``a`` is ``-b`` read only here, else None."""
    if isinstance(a, Value) and a.prim is ew.neg and uses.get(id(a), 0) == 1:
        return a.args[0]
    return None


def _signs(v: Value, uses: dict[int, int]) -> Any:
    """Negations moved out of the way, exactly (IEEE signs are symmetric): ``x * -y`` is
    ``-(x * y)``, ``-z * c`` is ``z * -c`` for a number ``c``, ``a + -b`` is ``a - b``,
    ``a - -b`` is ``a + b``, ``--x`` is ``x``. The rules of sin and cos leave such
    negations in a gradient; each one gone is one pass over memory less."""
    prim = v.prim
    if v.xp is not backend.numpy_namespace or prim not in (ew.neg, ew.mul, ew.add, ew.sub):
        return None
    new = None
    if prim is ew.neg:
        inner = v.args[0]
        if isinstance(inner, Value) and inner.prim is ew.neg and _same(inner.args[0], v):
            return inner.args[0]
    elif prim is ew.mul:
        for x, y in (v.args, v.args[::-1]):
            z = _negated(y, uses)
            if z is None:
                continue
            if _numeric_literal(x):
                new = make(ew.mul, (z, -x), {}, v)
            else:
                product = make(ew.mul, (x, z), {}, v)
                uses[id(product)] = 1
                new = make(ew.neg, (product,), {}, v)
            break
    else:
        a, b = v.args
        z = _negated(b, uses)
        if z is not None:
            new = make(ew.sub if prim is ew.add else ew.add, (a, z), {}, v)
        elif prim is ew.add and _negated(a, uses) is not None:
            new = make(ew.sub, (b, _negated(a, uses)), {}, v)
    if new is None or new.shape != v.shape or new.dtype != v.dtype:
        return None
    uses[id(new)] = uses.get(id(v), 0)
    return new


def _scaled_by(p: Any, uses: dict[int, int]) -> Any:
    """``(x, c)`` when ``p`` is ``x * c`` (either order) for a number ``c``, read only
    here; else None."""
    if isinstance(p, Value) and p.prim is ew.mul and uses.get(id(p), 0) == 1:
        for x, c in (p.args, p.args[::-1]):
            if _numeric_literal(c) and isinstance(x, Value):
                return x, c
    return None


def _scalar_chain(v: Value, uses: dict[int, int]) -> Any:
    """``-(x * c)`` as ``x * -c`` (exact) and ``(x * c1) * c2`` as ``x * (c1 * c2)``
    (within a rounding): the factors a chain of rules leaves (``∂ pow``, the ``1/n`` of a
    mean, ``∂ sub``) applied in one pass."""
    if v.xp is not backend.numpy_namespace or v.dtype.kind not in "fc":
        return None
    new = None
    if v.prim is ew.neg:
        inner = _scaled_by(v.args[0], uses)
        if inner is not None:
            new = make(ew.mul, (inner[0], -inner[1]), {}, v)
    elif v.prim is ew.mul:
        for p, c in (v.args, v.args[::-1]):
            inner = _scaled_by(p, uses)
            if inner is not None and _numeric_literal(c):
                product = inner[1] * c  # where it overflows or underflows, the two differ
                if math.isfinite(product) and (product == 0) == (inner[1] == 0 or c == 0):
                    new = make(ew.mul, (inner[0], product), {}, v)
                break
    if new is None or new.shape != v.shape or new.dtype != v.dtype:
        return None
    uses[id(new)] = uses.get(id(v), 0)
    return new


def _outer_matmul(v: Value, uses: dict[int, int]) -> Any:
    """``a @ b`` over one shared entry (``(..., n, 1) @ (..., 1, m)``) as ``a * b``: one
    pass, and a product the next rewrite can fold into its consumer."""
    if v.prim is not linalg.matmul_ or v.xp is not backend.numpy_namespace:
        return None
    a, b = v.args
    if not (isinstance(a, Value | Const) and isinstance(b, Value | Const)) or \
            len(a.shape) < 2 or len(b.shape) < 2 or a.shape[-1] != 1 or b.shape[-2] != 1:
        return None
    new = make(ew.mul, (a, b), {}, v)
    if new.shape != v.shape or new.dtype != v.dtype:
        return None
    uses[id(new)] = uses.get(id(v), 0)
    return new


def _smaller(a: Any, shape_: tuple) -> bool:
    """``a`` is a number, or an operand smaller than ``shape_`` that broadcasts to it."""
    return type(a) in (int, float) or (isinstance(a, Value | Const) and
                                       a.shape != shape_ and np.prod(a.shape) < np.prod(shape_))


def _product_in_place(v: Value, uses: dict[int, int]) -> Any:
    """``x * (u * w)``, where ``u * w`` is read only here and spreads two smaller operands
    to the full shape, as ``(x * u) * w``: each step in ``x``'s shape, so the buffer pass
    writes it into ``x``'s memory once ``x`` is dead, and ``u * w`` is never an array."""
    if v.prim is not ew.mul or v.xp is not backend.numpy_namespace:
        return None
    for x, p in (v.args, v.args[::-1]):
        if not (isinstance(x, Value) and x.shape == v.shape and x.dtype == v.dtype and
                isinstance(p, Value) and p.prim is ew.mul and uses.get(id(p), 0) == 1 and
                p.shape == v.shape and all(_smaller(f, v.shape) for f in p.args)):
            continue
        u, w = p.args
        first = make(ew.mul, (x, u), {}, v)
        new = make(ew.mul, (first, w), {}, v)
        if first.shape == new.shape == v.shape and first.dtype == new.dtype == v.dtype:
            uses[id(first)], uses[id(new)] = 1, uses.get(id(v), 0)
            return new
    return None


def _sum_of_squares_forward(xp: Any, x: Any) -> Any:
    """``(x ** 2).sum()`` without the squares: a dot product of ``x`` with itself."""
    if x.flags.c_contiguous or x.flags.f_contiguous:
        flat = x.ravel(order="K")  # a view
        return np.dot(flat, flat)
    return np.square(x).sum()


sum_of_squares_ = pseudo_primitive("sum_of_squares", _sum_of_squares_forward, 1)


def _sum_of_squares(v: Value, uses: dict[int, int]) -> Any:
    """``(x ** 2).sum()`` over every axis, the squares read only there, in float64."""
    if v.prim is not reductions.sum_ or v.xp is not backend.numpy_namespace or \
            v.params.get("keepdims") or v.dtype != np.float64:
        return None
    p = v.args[0]
    if not (isinstance(p, Value) and p.prim is ew.pow_ and uses.get(id(p), 0) == 1 and
            p.shape and type(p.args[1]) in (int, float) and p.args[1] == 2 and
            isinstance(p.args[0], Value) and p.args[0].dtype == np.float64):
        return None
    axis = v.params.get("axis")
    if axis is not None and len({a % len(p.shape) for a in axis}) != len(p.shape):
        return None
    return make(sum_of_squares_, (p.args[0],), {}, v)


# ----------------------------------------------------------------------- the driver


def optimize(outputs: list[Any], regroup: bool = True) -> list[Any]:
    """The outputs of the program after the passes (Values, Consts or Python values).
    ``regroup=False`` leaves products in the order the function wrote them (no
    ``_scalar_chain``, ``_product_in_place``), for values where regrouping would change
    more than a rounding: an overflow or underflow."""
    outputs = _sweep(outputs, _local)
    uses = use_counts(outputs)
    outputs = _sweep(outputs, lambda v, cse: _diagonal_matmul(v) or _fused_scatter(v, uses)
                     or _signs(v, uses) or (regroup and _scalar_chain(v, uses))
                     or _outer_matmul(v, uses) or (regroup and _product_in_place(v, uses))
                     or _sum_of_squares(v, uses))
    return _sweep(outputs, _local)


def _local(v: Value, cse: dict) -> Any:
    new = simplify(v)
    if new is not v:
        return new
    key = cse_key(v)
    if key is None:
        return None
    other = cse.setdefault(key, v)
    return other if other is not v else None


def _sweep(outputs: list[Any], rewrite: Any) -> list[Any]:
    """One pass in topological order: each Value's arguments resolved to their
    replacements, then ``rewrite(v, cse)`` may replace it."""
    replaced: dict[int, Any] = {}
    cse: dict[Any, Value] = {}

    def resolve(a: Any) -> Any:
        while isinstance(a, Value) and id(a) in replaced:
            a = replaced[id(a)]
        return a

    for v in reachable(outputs):
        if v.prim is None:
            continue
        v.args = tuple(resolve(a) for a in v.args)
        new = rewrite(v, cse)
        if new is not None and new is not v:
            replaced[id(v)] = new
    return [resolve(o) for o in outputs]
