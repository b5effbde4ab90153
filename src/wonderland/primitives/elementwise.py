"""Elementwise primitives: arithmetic, transcendental functions, kinks, comparisons.

Each primitive is one definition: forward on raw arrays, reverse rule(s), forward rule.
Subgradients at kinks follow PyTorch: ``abs'(0) = 0``, ``relu'(0) = 0``, ties of
``maximum``/``minimum`` split the gradient evenly, ``clip`` passes it at the bounds.
"""

from __future__ import annotations

import math
import operator
from typing import Any

from .. import backend
from ..creation import zeros_like
from ..tensor import (
    Primitive,
    Tensor,
    _new,
    apply,
    as_tensor,
    binary_error,
    identity_rule,
    make_node,
    unary_function,
    undifferentiated,
)
from .base import binary, defprim, elementwise, pad_tangents, tensor_ops

# ----------------------------------------------------------------------- arithmetic
# Each binary operation by its partial derivatives (∂/∂a, ∂/∂b); derivatives are written
# with the operations of ``m`` (Tensors or raw arrays, see base.py).


def _pow_base_derivative(m: Any, ans: Any, a: Any, b: Any) -> Any:
    """d/da a**b."""
    if isinstance(b, (int, float)):
        if b == 2:
            return a * 2.0
        if b == 0:  # 0 * a**-1 would be NaN at a = 0; the derivative is 0 (PyTorch)
            return 0.0 if isinstance(a, (int, float)) else m.zeros_like(a)
        return a ** (b - 1) * b
    return m.where(b == 0, 0.0, a ** (b - 1) * b)


def _pow_exponent_derivative(m: Any, ans: Any, a: Any, b: Any) -> Any:
    """d/db a**b = a**b log a; PyTorch's choice: 0 where a == 0 and b >= 0."""
    if isinstance(a, (int, float)):
        if a == 0:
            return m.where(b >= 0, 0.0, -math.inf)
        return (a ** b) * (math.log(a) if a > 0 else math.nan)
    zero_base = a == 0  # 0 ** b: 0 for b >= 0, inf (times log 0: -inf) below
    value = (a ** b) * m.log(m.where(zero_base, 1.0, a))
    return m.where(zero_base, m.where(b >= 0, 0.0, -math.inf), value)


add = binary("add", lambda xp, a, b: a + b, (1, 1))
sub = binary("sub", lambda xp, a, b: a - b, (1, -1))
mul = binary("mul", lambda xp, a, b: a * b, (lambda m, ans, a, b: b, lambda m, ans, a, b: a))
div = binary("div", lambda xp, a, b: a / b,
             (lambda m, ans, a, b: 1.0 / b if not isinstance(b, (int, float)) or b
              else math.copysign(math.inf, b),  # a Python 0: IEEE's inf, as for arrays
              lambda m, ans, a, b: -(a / b) / b))  # (b * b overflows first: 1e200)
mul.crossed, div.crossed = (0, 1), (0,)  # (div: b is read by both rules, a by b's only)
pow_ = binary("pow", lambda xp, a, b: a ** b, (_pow_base_derivative, _pow_exponent_derivative))
# Steps are flat between their jumps: a zero derivative (PyTorch's floor, JAX's ``//``).
_flat = lambda m, ans, x, *other: m.zeros_like(x)  # noqa: E731


def _by_integers(op: Any, name: str) -> Any:
    """``op`` (``//``, ``%``) raising ``ZeroDivisionError`` for integers divided by 0, as
    Python and PyTorch do, where NumPy gives 0 (and a warning)."""
    def divide(a: Any, b: Any) -> Any:
        if _integral(a) and _integral(b) and not (
                bool(backend.namespace(b).all(b)) if hasattr(b, "dtype") else b):
            raise ZeroDivisionError(f"integer {name} by zero (floats give inf or nan)")
        return op(a, b)
    return divide


def _integral(v: Any) -> bool:
    """Integers or bools, of any library (a Python int or bool too)."""
    dtype = getattr(v, "dtype", None)
    return isinstance(v, int) if dtype is None else \
        backend.kind_rank(dtype, backend.namespace(v)) < 2


floordiv, mod = _by_integers(operator.floordiv, "division"), _by_integers(operator.mod, "modulo")
floor_divide_ = binary("floor_divide", lambda xp, a, b: floordiv(a, b),
                       (_flat, lambda m, ans, a, b: m.zeros_like(b)))
remainder_ = binary("remainder", lambda xp, a, b: mod(a, b),  # a % b = a - b (a // b)
                    (1, lambda m, ans, a, b: -(a // b)))


def _extremum(name: str, pick: str, wins: Any) -> Any:
    """maximum / minimum: the derivative is 1 on the winning side, 1/2 each at a tie."""
    def forward(xp: Any, a: Any, b: Any) -> Any:  # (NaN wins, as NumPy's and PyTorch's)
        # a number beside another library's array (strict ones take none) joins it; a
        # NumPy scalar (a full reduction's value) is a float too, beside a number or not
        if isinstance(b, (int, float)) and not isinstance(a, (int, float, backend.np.ndarray)):
            b = xp.asarray(b, dtype=a.dtype if backend.is_floating(a.dtype, xp) else None)
        return getattr(xp, pick)(a, b)

    return binary(name, forward,
                  (lambda m, ans, a, b: m.where(wins(a, b), 1.0, m.where(a == b, 0.5, 0.0)),
                   lambda m, ans, a, b: m.where(wins(b, a), 1.0, m.where(a == b, 0.5, 0.0))))


maximum_ = _extremum("maximum", "maximum", lambda a, b: a > b)
minimum_ = _extremum("minimum", "minimum", lambda a, b: a < b)

# ----------------------------------------------------------------------- unary
# Each by its derivative f'(x), ``(m, ans, x) -> value``.


neg = elementwise("neg", -1, lambda xp, x: -x)
exp_ = elementwise("exp", lambda m, ans, x: ans, uses_ans=True)
log_ = elementwise("log", lambda m, ans, x: 1.0 / x)
log1p_ = elementwise("log1p", lambda m, ans, x: 1.0 / (1.0 + x))
sqrt_ = elementwise("sqrt", lambda m, ans, x: 0.5 / ans, uses_ans=True)
abs_ = elementwise("abs", lambda m, ans, x: m.sign(x))
sign_, floor_, ceil_, trunc_, round_ = (elementwise(name, _flat)
                                        for name in ("sign", "floor", "ceil", "trunc", "round"))
sin_ = elementwise("sin", lambda m, ans, x: m.cos(x))
cos_ = elementwise("cos", lambda m, ans, x: -m.sin(x))
tan_ = elementwise("tan", lambda m, ans, x: 1.0 + ans * ans, uses_ans=True)
tanh_ = elementwise("tanh", lambda m, ans, x: 1.0 - ans * ans, uses_ans=True)
sigmoid_ = elementwise("sigmoid", lambda m, ans, x: ans * (1.0 - ans), backend.sigmoid,
                       uses_ans=True)
relu_ = elementwise("relu", lambda m, ans, x: m.where(x > 0, 1.0, 0.0),
                    lambda xp, x: xp.maximum(x, xp.zeros_like(x)))  # relu(NaN) is NaN
# softplus = max(x, 0) + log1p(exp(-|x|)), -|x| as min - max: no integer wraps around (an
# unsigned -|x|), and a NaN gives NaN without logaddexp's warning
softplus_ = elementwise("softplus", lambda m, ans, x: m.sigmoid(x), lambda xp, x: (
    top := xp.maximum(x, 0.0)) + xp.log1p(xp.exp(xp.minimum(x, 0.0) - top)))


def _float_input(x: Any) -> Tensor:
    x = as_tensor(x)
    if not backend.is_floating(x._data.dtype, x._xp):
        return undifferentiated(cast_, (x,), {"dtype": backend.to_dtype("float64", x._xp)})
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
sigmoid = _unary_function(sigmoid_, "sigmoid", "wl.sigmoid(wl.tensor([0.0])).tolist()\n    [0.5]")
softplus = _unary_function(softplus_, "softplus",
                           "round(wl.softplus(wl.tensor([0.0])).item(), 4)\n    0.6931")
abs = _unary_function(abs_, "abs", "wl.abs(wl.tensor([-2.0])).tolist()\n    [2.0]")  # noqa: A001
sign = _unary_function(sign_, "sign", "wl.sign(wl.tensor([-2.0, 0.0])).tolist()\n    [-1.0, 0.0]")
floor = _unary_function(floor_, "floor", "wl.floor(wl.tensor([-1.5])).tolist()\n    [-2.0]")
ceil = _unary_function(ceil_, "ceil", "wl.ceil(wl.tensor([-1.5, 1.5])).tolist()\n    [-1.0, 2.0]")
trunc = _unary_function(trunc_, "trunc", "wl.trunc(wl.tensor([-1.5])).tolist()\n    [-1.0]")
relu = _unary_function(relu_, "relu", "wl.relu(wl.tensor([-1.0, 2.0])).tolist()\n    [0.0, 2.0]")
negative = _unary_function(neg, "negative", "wl.negative(wl.tensor([1.0])).tolist()\n    [-1.0]")


# ----------------------------------------------------------------------- binary helpers


def _binary(prim: Any, a: Any, b: Any) -> Tensor:
    """Apply a binary primitive to any mix of tensors, arrays and scalars."""
    if type(a) is not Tensor and type(b) is not Tensor:
        a = as_tensor(a)
    if type(a) is Tensor and type(b) not in _PYTHON_SCALARS:  # NumPy's scalars are arrays
        b = _constant(b, prim.name)
    elif type(b) is Tensor and type(a) not in _PYTHON_SCALARS:
        a = _constant(a, prim.name)
    try:
        return apply(prim, a, b)
    except (ValueError, RuntimeError) as exc:  # (torch's shape errors: RuntimeError)
        raise binary_error(prim.name, a, b, exc) from None


_PYTHON_SCALARS = (int, float, bool, complex)  # (NumPy keeps them weak: f32 * 2j is c64)


def _constant(value: Any, name: str) -> Tensor:
    if isinstance(value, Tensor):
        return value
    data = value if backend.is_array(value) else backend.asarray(value)
    if getattr(data.dtype, "kind", "f") not in "biufc":  # strings, None, objects
        raise TypeError(f"{name}: a tensor cannot be combined with {type(value).__name__} "
                        f"{value!r}; give numbers, arrays or tensors")
    return _new(data, backend.namespace(data))  # (apply moves NumPy data beside a torch one)


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


# ----------------------------------------------------------------------- where, clip


def _where_jvp(tangents: tuple, ans: Any, cond: Any, a: Any, b: Any) -> Any:
    _, ta, tb = pad_tangents(tangents, (cond, a, b))
    return where(cond, 0.0 if ta is None else ta, 0.0 if tb is None else tb)


where_ = defprim("where", backend.where,
                 (None, lambda g, ans, c, a, b: where(c, g, 0.0),
                  lambda g, ans, c, a, b: where(c, 0.0, g)),
                 _where_jvp, reads=(0,))


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Elementwise choice: ``x`` where ``condition`` holds, else ``y`` (differentiable in both).

    Examples
    --------
    >>> import wonderland as wl
    >>> t = wl.tensor([-1.0, 2.0])
    >>> wl.where(t > 0, t, 0.0).tolist()
    [0.0, 2.0]
    """
    like = next((v for v in (x, y, condition) if type(v) is Tensor), None)  # its library
    condition = as_tensor(condition) if like is None else _constant(condition, "where")
    x, y = (v if type(v) in _PYTHON_SCALARS else _constant(v, "where") for v in (x, y))
    try:
        return apply(where_, condition, x, y)
    except (ValueError, RuntimeError):  # (torch's shape errors: RuntimeError)
        shapes = [tuple(as_tensor(v).shape) for v in (condition, x, y)]
        try:
            backend.broadcast_shapes(*shapes)
        except ValueError:
            raise ValueError(f"where: condition, x and y of shapes {shapes[0]}, {shapes[1]} "
                             f"and {shapes[2]} cannot be broadcast together") from None
        raise


def _clip_forward(xp: Any, x: Any, lo: Any, hi: Any) -> Any:
    if lo is not None:
        x = backend.where(xp, x < lo, lo, x)
    return x if hi is None else backend.where(xp, x > hi, hi, x)


def _inside(x: Any, lo: Any, hi: Any) -> Any:
    x = as_tensor(x)
    above, below = None if lo is None else x >= lo, None if hi is None else x <= hi
    return below if above is None else above if below is None else above & below


def _clip_x_vjp(g: Any, ans: Any, x: Any, lo: Any, hi: Any) -> Any:
    mask = _inside(x, lo, hi)
    return g if mask is None else where(mask, g, 0.0)


def _at_lo(x: Any, lo: Any, hi: Any) -> Tensor:
    """Where the output is ``lo``: below it, unless ``lo > hi`` (``max`` wins, as PyTorch)."""
    below = as_tensor(x) < lo
    return below if hi is None else below & (as_tensor(lo) <= hi)


def _at_hi(x: Any, lo: Any, hi: Any) -> Tensor:
    above = as_tensor(x) > hi
    return above if lo is None else above | (as_tensor(lo) > hi)


def _clip_jvp(tangents: tuple, ans: Any, x: Any, lo: Any, hi: Any) -> Any:
    tx, tlo, thi = pad_tangents(tangents, (x, lo, hi))
    out = 0.0 if tx is None else _clip_x_vjp(tx, ans, x, lo, hi)
    if tlo is not None:
        out = out + where(_at_lo(x, lo, hi), tlo, 0.0)
    if thi is not None:
        out = out + where(_at_hi(x, lo, hi), thi, 0.0)
    return out


clip_ = defprim("clip", _clip_forward,
                (_clip_x_vjp,
                 lambda g, ans, x, lo, hi: where(_at_lo(x, lo, hi), g, 0.0),
                 lambda g, ans, x, lo, hi: where(_at_hi(x, lo, hi), g, 0.0)),
                _clip_jvp)


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
                  (lambda g, ans, x, dtype: astype(g, x.dtype),),
                  lambda tangents, ans, x, dtype: astype(tangents[0], dtype), reads=())
# ``dtype`` travels as a keyword parameter (the rules get it so): a positional one would be
# taken for a second operand.
cast_ = Primitive("astype", _astype_forward, (None,), None)  # to integers, or of integers


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
    if not backend.is_floating(dtype, x._xp):  # to integers or bools: no derivative
        return undifferentiated(cast_, (x,), {"dtype": dtype})
    return apply(astype_, x, dtype=dtype)


# ----------------------------------------------------------------------- comparisons


def _compare(op: Any, name: str):
    prim = COMPARISONS[name] = Primitive(name, lambda xp, a, b: op(a, b), (None, None), None)

    def compare(a: Any, b: Any) -> Tensor:
        try:
            return undifferentiated(prim, (a, b))
        except ValueError as exc:
            raise binary_error(name, a, b, exc) from None
        except TypeError:  # x > "a", floats & floats: NumPy has no such loop
            if isinstance(a, Tensor) and isinstance(b, Tensor):
                raise TypeError(f"{name} is not defined between {backend.dtype_name(a.dtype)} "
                                f"and {backend.dtype_name(b.dtype)} tensors") from None
            other = b if isinstance(a, Tensor) else a
            raise TypeError(f"{name}: a tensor cannot be compared with "
                            f"{type(other).__name__} {other!r}") from None

    compare.__name__ = name
    return compare


COMPARISONS: dict[str, Primitive] = {}  # name -> primitive, for wl.compile's operators
less = _compare(operator.lt, "less")
less_equal = _compare(operator.le, "less_equal")
greater = _compare(operator.gt, "greater")
greater_equal = _compare(operator.ge, "greater_equal")
equal = _compare(operator.eq, "equal")
not_equal = _compare(operator.ne, "not_equal")
logical_and = _compare(operator.and_, "logical_and")
logical_or = _compare(operator.or_, "logical_or")
logical_xor = _compare(operator.xor, "logical_xor")
logical_not_ = Primitive("logical_not", lambda xp, x: xp.logical_not(x) if xp is not
                         backend.numpy_namespace or x.dtype == backend.bool_ else ~x, (None,), None)
isfinite_ = Primitive("isfinite", lambda xp, x: xp.isfinite(x), (None,), None)
isnan_ = Primitive("isnan", lambda xp, x: xp.isnan(x), (None,), None)


def logical_not(x: Any) -> Tensor:
    """Elementwise logical not (also ``~x``)."""
    return undifferentiated(logical_not_, (as_tensor(x),))


def isfinite(x: Any) -> Tensor:
    """Elementwise test for finite values (a bool tensor)."""
    return undifferentiated(isfinite_, (as_tensor(x),))


def isnan(x: Any) -> Tensor:
    """Elementwise test for NaN (a bool tensor)."""
    return undifferentiated(isnan_, (as_tensor(x),))


clone_ = defprim("clone", lambda xp, x: xp.asarray(x, copy=True), (identity_rule,),
                 linear="joint", reads=())


def alias(x: Tensor) -> Tensor:
    """A new tensor with ``x``'s values (same storage and version) and reverse history: a
    leaf that requires grad is reached through an identity node, so gradients still flow
    to it. Transforms use it to hang their own tangents or inputs on ``x``."""
    twin = _new(x._data, x._xp)
    twin._vc, twin._fw = x._vc, x._fw
    if x._rg:
        twin._node = x._node if x._node is not None else make_node(clone_, (x,), {})
        twin._rg = True
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


tensor_ops.__dict__.update(cos=cos, sin=sin, sign=sign, log=log, exp=exp, where=where,
                           zeros_like=zeros_like, sigmoid=sigmoid, astype=astype)
