"""Elementwise primitives: arithmetic, transcendental functions, kinks, comparisons.

Each primitive is one definition: forward on raw arrays, reverse rule(s), forward rule.
Subgradients at kinks follow PyTorch: ``abs'(0) = 0``, ``relu'(0) = 0``, ties of
``maximum``/``minimum`` split the gradient evenly, ``clip`` passes it at the bounds.
"""

from __future__ import annotations

import math
import operator
from types import SimpleNamespace
from typing import Any

from .. import backend
from ..backend import ops_for
from ..creation import zeros_like
from ..tensor import (
    Tensor,
    _new,
    apply,
    as_tensor,
    identity_rule,
    make_node,
    unary_function,
)
from .base import defprim, elementwise

# ----------------------------------------------------------------------- arithmetic

# Rules written with operators only run on Tensors and on raw arrays alike (poly=True).
add = defprim("add", lambda xp, a, b: a + b,
              (identity_rule, identity_rule), linear="joint", reads=(),
              raw=operator.add, poly=True, broadcasts=True)
sub = defprim("sub", lambda xp, a, b: a - b,
              (identity_rule, lambda g, ans, a, b: -g), linear="joint", reads=(),
              raw=operator.sub, poly=True, broadcasts=True)
# A cotangent of ones (``(a * b).sum()``) times a factor of its shape is the factor
# itself: no multiply (the reverse pass hands it to the user only as a copy).
_units, _ndarray, _pass_on = backend.SPREAD_UNIT_IDS, backend.ndarray, backend.PASSED_ON.append
mul = defprim("mul", lambda xp, a, b: a * b,
              (lambda g, ans, a, b: _pass_on(b) or b if id(g) in _units and type(b) is _ndarray
               and b.shape == g.shape else g * b,
               lambda g, ans, a, b: _pass_on(a) or a if id(g) in _units and type(a) is _ndarray
               and a.shape == g.shape else g * a),
              linear="multi", raw=operator.mul, poly=True, broadcasts=True)
neg = defprim("neg", lambda xp, a: -a, (lambda g, ans, a: -g,), linear="joint", reads=(),
              poly=True)


def _div_jvp(tangents: tuple, ans: Any, a: Any, b: Any) -> Any:
    ta, tb = tangents
    out = None if ta is None else ta / b
    if tb is not None:
        term = tb * (a / (b * b))
        out = -term if out is None else out - term
    return out


div = defprim("div", lambda xp, a, b: a / b,
              (lambda g, ans, a, b: g / b, lambda g, ans, a, b: -g * a / (b * b)), _div_jvp,
              raw=operator.truediv, poly=True, broadcasts=True)


def _pow_base_derivative(m: Any, a: Any, b: Any) -> Any:
    """d/da a**b, in the ops namespace ``m`` (Tensors or raw arrays)."""
    if isinstance(b, (int, float)):
        if b == 2:
            return a * 2.0
        if b == 0:  # 0 * a**-1 would be NaN at a = 0; the derivative is 0 (PyTorch)
            return 0.0 if isinstance(a, (int, float)) else m.zeros_like(a)
        return a ** (b - 1) * b
    return m.where(b == 0, 0.0, a ** (b - 1) * b)


def _pow_exponent_derivative(m: Any, a: Any, b: Any) -> Any:
    """d/db a**b = a**b log a; PyTorch's choice: 0 where a == 0 and b >= 0."""
    if isinstance(a, (int, float)):
        if a == 0:
            return m.where(b >= 0, 0.0, -math.inf)
        return (a ** b) * (math.log(a) if a > 0 else math.nan)
    zero_base = a == 0
    value = (a ** b) * m.log(m.where(zero_base, 1.0, a))
    return m.where(zero_base & (b >= 0), 0.0, value)


def _pow_jvp(tangents: tuple, ans: Any, a: Any, b: Any) -> Any:
    ta, tb = tangents
    out = None if ta is None else ta * _pow_base_derivative(ops_for(ta), a, b)
    if tb is not None:
        term = tb * _pow_exponent_derivative(ops_for(tb), a, b)
        out = term if out is None else out + term
    return out


pow_ = defprim("pow", lambda xp, a, b: a ** b,
               (lambda g, ans, a, b: g * _pow_base_derivative(ops_for(g), a, b),
                lambda g, ans, a, b: g * _pow_exponent_derivative(ops_for(g), a, b)), _pow_jvp,
               raw=operator.pow, poly=True, broadcasts=True)

# ----------------------------------------------------------------------- unary


def _sigmoid(xp: Any, x: Any) -> Any:
    e = xp.exp(-xp.abs(x))  # never overflows
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus(xp: Any, x: Any) -> Any:
    return xp.logaddexp(x, xp.zeros_like(x))


# Derivatives f'(x) as ``(m, ans, x) -> value``, ``m`` the ops namespace (see base.py).
exp_ = elementwise("exp", "exp", lambda m, ans, x: ans, uses_ans=True)
log_ = elementwise("log", "log", lambda m, ans, x: 1.0 / x)
log1p_ = elementwise("log1p", "log1p", lambda m, ans, x: 1.0 / (1.0 + x))
sqrt_ = elementwise("sqrt", "sqrt", lambda m, ans, x: 0.5 / ans,
                    uses_ans=True)
abs_ = elementwise("abs", "abs", lambda m, ans, x: m.sign(x))
sign_ = elementwise("sign", "sign", lambda m, ans, x: m.zeros_like(x))
sin_ = elementwise("sin", "sin", lambda m, ans, x: m.cos(x))
cos_ = elementwise("cos", "cos", lambda m, ans, x: -m.sin(x))
tan_ = elementwise("tan", "tan", lambda m, ans, x: 1.0 + ans * ans,
                   uses_ans=True)
tanh_ = elementwise("tanh", "tanh", lambda m, ans, x: 1.0 - ans * ans,
                    uses_ans=True)
sigmoid_ = elementwise("sigmoid", _sigmoid, lambda m, ans, x: ans * (1.0 - ans), uses_ans=True)
relu_ = elementwise("relu", lambda xp, x: xp.where(x > 0, x, xp.zeros_like(x)),
                    lambda m, ans, x: m.where(x > 0, 1.0, 0.0))
softplus_ = elementwise("softplus", _softplus, lambda m, ans, x: m.sigmoid(x))


def _float_input(x: Any) -> Tensor:
    x = as_tensor(x)
    if not backend.is_floating(x._data.dtype, x._xp):
        return _new(x._xp.astype(x._data, backend.to_dtype("float64", x._xp)), x._xp)
    return x


def _unary_function(prim: Any, name: str, example: str):
    function = unary_function(prim)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"""Elementwise ``{name}``, differentiable.

    Examples
    --------
    >>> import wonderland as wl
    >>> {example}
    """
    return function


exp = _unary_function(exp_, "exp", "wl.exp(wl.tensor([0.0])).tolist()\n    [1.0]")
log = _unary_function(log_, "log", "wl.log(wl.tensor([1.0])).tolist()\n    [0.0]")
log1p = _unary_function(log1p_, "log1p", "wl.log1p(wl.tensor([0.0])).tolist()\n    [0.0]")
sqrt = _unary_function(sqrt_, "sqrt", "wl.sqrt(wl.tensor([4.0])).tolist()\n    [2.0]")
sin = _unary_function(sin_, "sin", "wl.sin(wl.tensor([0.0])).tolist()\n    [0.0]")
cos = _unary_function(cos_, "cos", "wl.cos(wl.tensor([0.0])).tolist()\n    [1.0]")
tan = _unary_function(tan_, "tan", "wl.tan(wl.tensor([0.0])).tolist()\n    [0.0]")
tanh = _unary_function(tanh_, "tanh", "wl.tanh(wl.tensor([0.0])).tolist()\n    [0.0]")
sigmoid = _unary_function(sigmoid_, "sigmoid",
                          "wl.sigmoid(wl.tensor([0.0])).tolist()\n    [0.5]")
softplus = _unary_function(softplus_, "softplus",
                           "round(wl.softplus(wl.tensor([0.0])).item(), 4)\n    0.6931")
abs = _unary_function(abs_, "abs", "wl.abs(wl.tensor([-2.0])).tolist()\n    [2.0]")  # noqa: A001
sign = _unary_function(sign_, "sign", "wl.sign(wl.tensor([-2.0, 0.0])).tolist()\n    [-1.0, 0.0]")
relu = _unary_function(relu_, "relu", "wl.relu(wl.tensor([-1.0, 2.0])).tolist()\n    [0.0, 2.0]")
negative = _unary_function(neg, "negative", "wl.negative(wl.tensor([1.0])).tolist()\n    [-1.0]")


# ----------------------------------------------------------------------- binary helpers


def _binary(prim: Any, a: Any, b: Any) -> Tensor:
    """Apply a binary primitive to any mix of tensors, arrays and scalars."""
    if type(a) is Tensor:
        if type(b) is not Tensor and not isinstance(b, (int, float)):
            b = _constant_like(b, a)
        try:
            return apply(prim, a, b)
        except ValueError:
            raise ValueError(f"{prim.name}: shapes {a.shape} and {as_tensor(b).shape} cannot "
                             f"be broadcast together") from None
    if type(b) is Tensor:
        if not isinstance(a, (int, float)):
            a = _constant_like(a, b)
        try:
            return apply(prim, a, b)
        except ValueError as exc:
            raise ValueError(f"{prim.name}: shapes {tuple(as_tensor(a).shape)} and "
                             f"{tuple(b.shape)} cannot be broadcast together") from exc
    return _binary(prim, as_tensor(a), b)


def _constant_like(value: Any, like: Tensor) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if backend.is_array(value) and backend.namespace(value) is like._xp:
        return _new(value, like._xp)
    data = backend.asarray(value)
    if like._xp is not backend.numpy_namespace:
        data = backend.from_numpy(data, like._data)
    return _new(data, like._xp)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; a tie sends half the gradient to each side (as PyTorch).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.maximum(wl.tensor([1.0, 5.0]), 2.0).tolist()
    [2.0, 5.0]
    """
    return _binary(maximum_, a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum; a tie sends half the gradient to each side (as PyTorch).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.minimum(wl.tensor([1.0, 5.0]), 2.0).tolist()
    [1.0, 2.0]
    """
    return _binary(minimum_, a, b)


def _share(win: Any, tie: Any, g: Any) -> Any:
    return where(win, g, 0.0) + where(tie, 0.5 * g, 0.0)


def _extremum_jvp(first_wins: Any):
    def jvp(tangents: tuple, ans: Any, a: Any, b: Any) -> Any:
        ta = tangents[0] if tangents[0] is not None else 0.0
        tb = tangents[1] if tangents[1] is not None else 0.0
        tie = as_tensor(a) == b
        return where(first_wins(a, b), ta, where(tie, 0.5 * (ta + tb), tb))

    return jvp


maximum_ = defprim(
    "maximum", lambda xp, a, b: xp.maximum(a, b) if not isinstance(b, (int, float))
    else xp.where(a >= b, a, xp.asarray(b, dtype=a.dtype)),
    (lambda g, ans, a, b: _share(as_tensor(a) > b, as_tensor(a) == b, g),
     lambda g, ans, a, b: _share(as_tensor(b) > a, as_tensor(b) == a, g)),
    _extremum_jvp(lambda a, b: as_tensor(a) > b), broadcasts=True)
minimum_ = defprim(
    "minimum", lambda xp, a, b: xp.minimum(a, b) if not isinstance(b, (int, float))
    else xp.where(a <= b, a, xp.asarray(b, dtype=a.dtype)),
    (lambda g, ans, a, b: _share(as_tensor(a) < b, as_tensor(a) == b, g),
     lambda g, ans, a, b: _share(as_tensor(b) < a, as_tensor(b) == a, g)),
    _extremum_jvp(lambda a, b: as_tensor(a) < b), broadcasts=True)

# ----------------------------------------------------------------------- where, clip


def _where_forward(xp: Any, cond: Any, a: Any, b: Any) -> Any:
    if isinstance(a, (int, float)) or isinstance(b, (int, float)):
        like = b if isinstance(a, (int, float)) else a
        if not isinstance(like, (int, float)):
            a = xp.asarray(a, dtype=like.dtype) if isinstance(a, (int, float)) else a
            b = xp.asarray(b, dtype=like.dtype) if isinstance(b, (int, float)) else b
        else:
            a, b = xp.asarray(a), xp.asarray(b)
    return xp.where(cond, a, b)


def _where_jvp(tangents: tuple, ans: Any, cond: Any, a: Any, b: Any) -> Any:
    ta = tangents[1] if tangents[1] is not None else 0.0
    tb = tangents[2] if tangents[2] is not None else 0.0
    return where(cond, ta, tb)


where_ = defprim("where", _where_forward,
                 (None, lambda g, ans, c, a, b: where(c, g, 0.0),
                  lambda g, ans, c, a, b: where(c, 0.0, g)),
                 _where_jvp, reads=(0,), broadcasts=True)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Elementwise choice: ``x`` where ``condition`` holds, else ``y`` (differentiable in both).

    Examples
    --------
    >>> import wonderland as wl
    >>> t = wl.tensor([-1.0, 2.0])
    >>> wl.where(t > 0, t, 0.0).tolist()
    [0.0, 2.0]
    """
    condition = as_tensor(condition)
    if not isinstance(x, (int, float, Tensor)):
        x = as_tensor(x)
    if not isinstance(y, (int, float, Tensor)):
        y = as_tensor(y)
    try:
        return apply(where_, condition, x, y)
    except ValueError:
        shapes = [tuple(as_tensor(v).shape) for v in (condition, x, y)]
        raise ValueError(f"where: condition, x and y of shapes {shapes[0]}, {shapes[1]} and "
                         f"{shapes[2]} cannot be broadcast together") from None


def _clip_forward(xp: Any, x: Any, lo: Any, hi: Any) -> Any:
    out = x
    if lo is not None:
        out = xp.where(out < lo, xp.asarray(lo, dtype=x.dtype) if isinstance(lo, (int, float))
                       else lo, out)
    if hi is not None:
        out = xp.where(out > hi, xp.asarray(hi, dtype=x.dtype) if isinstance(hi, (int, float))
                       else hi, out)
    return out


def _inside(x: Any, lo: Any, hi: Any) -> Any:
    x = as_tensor(x)
    mask = None
    if lo is not None:
        mask = x >= lo
    if hi is not None:
        mask = (x <= hi) if mask is None else (mask & (x <= hi))
    return mask


def _clip_x_vjp(g: Any, ans: Any, x: Any, lo: Any, hi: Any) -> Any:
    mask = _inside(x, lo, hi)
    return g if mask is None else where(mask, g, 0.0)


def _clip_jvp(tangents: tuple, ans: Any, x: Any, lo: Any, hi: Any) -> Any:
    tx, tlo, thi = tangents
    out = 0.0 if tx is None else _clip_x_vjp(tx, ans, x, lo, hi)
    if tlo is not None:
        out = out + where(as_tensor(x) < lo, tlo, 0.0)
    if thi is not None:
        out = out + where(as_tensor(x) > hi, thi, 0.0)
    return out


clip_ = defprim("clip", _clip_forward,
                (_clip_x_vjp,
                 lambda g, ans, x, lo, hi: where(as_tensor(x) < lo, g, 0.0),
                 lambda g, ans, x, lo, hi: where(as_tensor(x) > hi, g, 0.0)),
                _clip_jvp, broadcasts=True)


def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Limit values to ``[min, max]``; the gradient passes where ``min <= x <= max`` (PyTorch).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.clip(wl.tensor([-2.0, 0.5, 3.0]), -1.0, 1.0).tolist()
    [-1.0, 0.5, 1.0]
    """
    x = as_tensor(x)
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max")
    lo = min if min is None or isinstance(min, (int, float, Tensor)) else as_tensor(min)
    hi = max if max is None or isinstance(max, (int, float, Tensor)) else as_tensor(max)
    return apply(clip_, x, lo, hi)


# ----------------------------------------------------------------------- casting

def _astype_forward(xp: Any, x: Any, dtype: Any) -> Any:
    return xp.astype(x, backend.to_dtype(dtype, xp))


astype_ = defprim("astype", _astype_forward,
                  (lambda g, ans, x, dtype: astype(g, as_tensor(x).dtype),),
                  lambda tangents, ans, x, dtype: astype(tangents[0], dtype), reads=())
# ``dtype`` travels as a positional constant so the rules see it.


def astype(x: Any, dtype: Any) -> Tensor:
    """A copy with element type ``dtype`` (differentiable between float types).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.astype(wl.tensor([1, 2]), "float32").dtype
    dtype('float32')
    """
    x = as_tensor(x)
    dtype = backend.to_dtype(dtype, x._xp)
    if x._data.dtype == dtype:
        return x
    if x._rg and not backend.is_floating(dtype, x._xp):
        return _new(_astype_forward(x._xp, x._data, dtype), x._xp)
    return apply(astype_, x, dtype)


# ----------------------------------------------------------------------- comparisons


def _compare(op: Any, name: str):
    def compare(a: Any, b: Any) -> Tensor:
        a_data = a._data if isinstance(a, Tensor) else a
        b_data = b._data if isinstance(b, Tensor) else b
        xp = a._xp if isinstance(a, Tensor) else b._xp
        try:
            return _new(op(a_data, b_data), xp)
        except ValueError:
            raise ValueError(f"{name}: shapes {tuple(as_tensor(a).shape)} and "
                             f"{tuple(as_tensor(b).shape)} cannot be broadcast together") from None

    compare.__name__ = name
    return compare


less = _compare(operator.lt, "less")
less_equal = _compare(operator.le, "less_equal")
greater = _compare(operator.gt, "greater")
greater_equal = _compare(operator.ge, "greater_equal")
equal = _compare(operator.eq, "equal")
not_equal = _compare(operator.ne, "not_equal")
logical_and = _compare(operator.and_, "logical_and")
logical_or = _compare(operator.or_, "logical_or")
logical_xor = _compare(operator.xor, "logical_xor")


def logical_not(x: Any) -> Tensor:
    """Elementwise logical not (also ``~x``)."""
    x = as_tensor(x)
    return _new(x._xp.logical_not(x._data) if x._data.dtype == backend.bool_
                or x._xp is not backend.numpy_namespace else ~x._data, x._xp)




def isfinite(x: Any) -> Tensor:
    """Elementwise test for finite values (a bool tensor)."""
    x = as_tensor(x)
    return _new(x._xp.isfinite(x._data), x._xp)


def isnan(x: Any) -> Tensor:
    """Elementwise test for NaN (a bool tensor)."""
    x = as_tensor(x)
    return _new(x._xp.isnan(x._data), x._xp)


clone_ = defprim("clone", lambda xp, x: xp.asarray(x, copy=True), (identity_rule,),
                 linear="joint", reads=())


def alias(x: Tensor) -> Tensor:
    """A new tensor with ``x``'s values (same storage and version) and reverse history: a
    leaf that requires grad is reached through an identity node, so gradients still flow
    to it. Transforms use it to hang their own tangents or inputs on ``x``."""
    twin = _new(x._data, x._xp)
    twin._vc = x._vc
    if x._rg:
        twin._node = x._node if x._node is not None else make_node(clone_, (x,), {})
        twin._rg = True
    twin._fw = x._fw
    return twin


def clone(x: Any) -> Tensor:
    """A copy with its own storage, still in the graph.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.clone(wl.tensor([1.0])).tolist()
    [1.0]
    """
    return _clone(x)


_clone = unary_function(clone_)


# The ops namespace of Tensors, for namespace-polymorphic rules (base.elementwise).
def _reshape(x: Any, shape: tuple) -> Tensor:
    from .shape import reshape

    return reshape(x, shape)


def _broadcast_to(x: Any, shape: tuple) -> Tensor:
    from .shape import broadcast_to

    return broadcast_to(x, shape)


def _index_add(values: Any, index: Any, shape: tuple) -> Tensor:
    from .shape import index_add

    return index_add(values, index, shape)


backend.register_ops(Tensor, SimpleNamespace(
    cos=cos, sin=sin, sign=sign, log=log, exp=exp, zeros_like=zeros_like, where=where,
    sigmoid=sigmoid, reshape=_reshape, broadcast_to=_broadcast_to, index_add=_index_add))
