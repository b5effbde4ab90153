"""Code generation: a traced program as the source of one Python function of raw array
calls (no Tensor, no node, no heap), one line per operation, each with a comment naming
the user's file and line that produced it.

* The lines follow ``passes.schedule``: the function's own computation, then the
  derivative part (lines made by the rules the transforms ran).
* On NumPy, each primitive is written as the NumPy call its forward computation makes
  (``np.sin(x)``, ``a @ b``, ``x.sum(axis=-1)``); any other primitive calls its own
  forward (``sigmoid(x)``), so nothing is computed differently from the eager engine.
* Values that are 0-d float64 are Python floats computed with ``math`` (``x ** 3``,
  ``math.sin(x)``), much cheaper than NumPy's 0-d calls, for the functions whose C
  library version gives NumPy's values bit for bit on this machine (``_float_forms``).
  Python raises where NumPy gives inf or NaN (``1.0 / 0.0``, ``math.log(0.0)``): the same
  lines in NumPy then run instead.
* Buffer reuse: a NumPy ufunc whose argument is an intermediate array read for the last
  time here (no other value shares its memory any more, and it is no input, constant or
  output) writes its result into it (``np.sin(a, out=a)``).
* Outputs are handed over as arrays of the caller's own: one that shares memory with an
  input, a constant or another output is copied.
"""

from __future__ import annotations

import keyword
import math
import os
import re
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any

import numpy as np

from .. import backend
from ..primitives import elementwise as ew
from ..primitives import linalg, reductions, shape
from . import passes
from .trace import Const, Value

NUMPY = backend.numpy_namespace
F64 = np.dtype("float64")

# ----------------------------------------------------------------------- printing values


def literal(value: Any) -> str | None:
    """Python source for a plain value, None when it needs a named constant."""
    kind = type(value)
    if value is None or value is Ellipsis or kind in (bool, int, str):
        return "..." if value is Ellipsis else repr(value)
    if kind is float:
        if math.isnan(value):
            return "math.nan"
        if math.isinf(value):
            return "math.inf" if value > 0 else "-math.inf"
        return repr(value)
    if kind is complex:
        return repr(value)
    if isinstance(value, np.dtype) and value.isbuiltin and hasattr(np, value.name):
        return f"np.{value.name}"
    if kind is tuple:
        items = [literal(v) for v in value]
        if None in items:
            return None
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if kind is list:
        items = [literal(v) for v in value]
        return None if None in items else "[" + ", ".join(items) + "]"
    if kind is slice:
        parts = [literal(v) for v in (value.start, value.stop, value.step)]
        return None if None in parts else f"slice({', '.join(parts)})"
    return None


def _slice_text(s: slice, render: Any) -> str:
    start = "" if s.start is None else render(s.start)
    stop = "" if s.stop is None else render(s.stop)
    text = f"{start}:{stop}"
    return text + (f":{render(s.step)}" if s.step is not None else "")


# ----------------------------------------------------------------------- templates
# On NumPy, how each primitive's forward computation reads as NumPy code. ``a`` are the
# operands' sources, ``p`` the parameters, ``r`` renders a parameter.

_UNARY_NP = {ew.exp_: "exp", ew.log_: "log", ew.log1p_: "log1p", ew.sqrt_: "sqrt",
             ew.sin_: "sin", ew.cos_: "cos", ew.tan_: "tan", ew.tanh_: "tanh",
             ew.abs_: "abs", ew.sign_: "sign"}
_BINARY_OP = {ew.add: "+", ew.sub: "-", ew.mul: "*", ew.div: "/", ew.pow_: "**"}
_UFUNC = {ew.add: "add", ew.sub: "subtract", ew.mul: "multiply", ew.div: "divide",
          ew.neg: "negative", **{p: ("absolute" if n == "abs" else n)
                                 for p, n in _UNARY_NP.items()}}
_FAST_POWERS = {2: "square", 0.5: "sqrt", -1: "reciprocal"}  # what NumPy's ``a ** b``
# calls for these exponents (2.0 and -1.0 are the same keys)
# the same in Python floats (``math.sqrt`` raises below zero, as ``1.0 / x`` at zero)
_FAST_FLOAT_POWERS = {"square": "{0} * {0}", "sqrt": "math.sqrt({0})",
                      "reciprocal": "1.0 / {0}"}


def _fast_power(v: Value) -> str | None:
    """The ufunc NumPy's ``a ** b`` calls for ``v`` when its base is an array, 0-d too,
    and its exponent 2, 0.5 or -1 (NumPy's fast path); None otherwise. A NumPy scalar
    base goes through ``pow`` instead, which may round ``a ** 2`` otherwise and gives
    ``inf`` for ``(-inf) ** 0.5``: the trace-time type of the base says which one eager
    code ran."""
    base, exponent = v.args
    if type(exponent) not in (int, float) or \
            type(passes.operand_data(base)) is not np.ndarray:
        return None
    return _FAST_POWERS.get(exponent)


def _axis_text(axis: Any) -> str:
    if isinstance(axis, tuple) and len(axis) == 1:
        return repr(axis[0])
    return repr(axis)


def _reduction(fn: str) -> Any:
    def template(a: list, p: dict, r: Any) -> str:
        keep = ", keepdims=True" if p["keepdims"] else ""
        return f"{fn}({a[0]}, axis={_axis_text(p['axis'])}{keep})"

    return template


def _sum(a: list, p: dict, r: Any) -> str:
    keep = ", keepdims=True" if p["keepdims"] else ""
    return f"{a[0]}.sum(axis={_axis_text(p['axis'])}{keep})"


def _getitem(a: list, p: dict, r: Any) -> str:
    return f"{a[0]}[{r.index(p['index'])}]"


def _np_call(name: str) -> Any:
    return lambda a, p, r: f"np.{name}({a[0]})"


def _infix(op: str) -> Any:
    return lambda a, p, r: f"{a[0]} {op} {a[1]}"


def _joined(fn: str) -> Any:
    def template(a: list, p: dict, r: Any) -> str:
        return f"{fn}(({', '.join(a)}{',' if len(a) == 1 else ''}), axis={p['axis']})"

    return template


_TEMPLATES: dict[Any, Any] = {
    ew.neg: lambda a, p, r: f"-{a[0]}",
    linalg.matmul_: lambda a, p, r: f"{a[0]} @ {a[1]}",
    reductions.sum_: _sum,
    reductions.max_: _reduction("np.max"),
    reductions.min_: _reduction("np.min"),
    reductions.prod_: _reduction("np.prod"),
    shape.reshape_: lambda a, p, r: f"{a[0]}.reshape({r(p['shape'])})",
    shape.permute_: lambda a, p, r: f"{a[0]}.transpose({r(p['axes'])})",
    shape.broadcast_to_: lambda a, p, r: f"np.broadcast_to({a[0]}, {r(p['shape'])})",
    shape.getitem_: _getitem,
    shape.concat_: _joined("np.concatenate"),
    shape.stack_: _joined("np.stack"),
    ew.where_: lambda a, p, r: f"np.where({a[0]}, {a[1]}, {a[2]})",
    ew.astype_: lambda a, p, r: f"{a[0]}.astype({r(np.dtype(p['dtype']))})",
    ew.clone_: lambda a, p, r: f"{a[0]}.copy()",
    **{prim: _np_call(name) for prim, name in _UNARY_NP.items()},
    **{prim: _infix(op) for prim, op in _BINARY_OP.items()},
}
_COMPARE_OPS = {"less": "<", "less_equal": "<=", "greater": ">", "greater_equal": ">=",
                "equal": "==", "not_equal": "!=", "logical_and": "&", "logical_or": "|",
                "logical_xor": "^"}
_TEMPLATES.update({ew.COMPARISONS[name]: _infix(op) for name, op in _COMPARE_OPS.items()})
_TEMPLATES[ew.cast_] = _TEMPLATES[ew.astype_]


def _same_as_numpy(python: Any, ufunc: Any, exponents: tuple = ()) -> bool:
    """Whether ``python`` (a ``math`` function, or the generated code's ``x ** n`` and
    ``math.pow(x, b)`` for each of ``exponents``) gives NumPy's 0-d results bit for bit at
    a spread of points. The C library and NumPy's own SIMD code (AVX-512 on some
    machines: exp, log, pow, tan) may round the last bit differently, so that this is
    asked of the machine, once, and not assumed."""
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.uniform(-10.0, 10.0, 1500), rng.uniform(0.0, 2.0, 500),
                             np.exp(rng.uniform(-20.0, 20.0, 1000))]).tolist()
    calls = [(lambda x, b=b: x ** int(b) if float(b).is_integer() else math.pow(x, b),
              lambda a, b=float(b): ufunc(a, b)) for b in exponents] or [(python, ufunc)]
    with np.errstate(all="ignore"):
        for x in points:
            for by_python, by_numpy in calls:
                try:
                    mine = by_python(x)
                except (ValueError, OverflowError, ZeroDivisionError):
                    continue  # (the generated code runs NumPy's line there)
                theirs = by_numpy(np.array(x)).item()
                if mine != theirs and not (mine != mine and theirs != theirs):
                    return False
    return True


@cache
def _float_forms() -> tuple[dict, bool]:
    """The Python-float forms of 0-d float64 values (``math`` functions) that give NumPy's
    values bit for bit on this machine (``math.tanh`` never does: NumPy has its own tanh),
    and whether ``x ** b``/``math.pow`` does for powers other than NumPy's fast ones;
    elsewhere a 0-d value takes NumPy's call, as eager code does. Asked at the first
    compile."""
    unary = {prim: name for prim, name, fn, ufunc in [
        (ew.exp_, "math.exp", math.exp, np.exp), (ew.log_, "math.log", math.log, np.log),
        (ew.log1p_, "math.log1p", math.log1p, np.log1p),
        (ew.sqrt_, "math.sqrt", math.sqrt, np.sqrt), (ew.sin_, "math.sin", math.sin, np.sin),
        (ew.cos_, "math.cos", math.cos, np.cos), (ew.tan_, "math.tan", math.tan, np.tan),
        (ew.abs_, "abs", abs, np.absolute)] if _same_as_numpy(fn, ufunc)}
    return unary, _same_as_numpy(None, np.power, (3, -2, 4, 2.5, -0.5, 0.3))


_FLOAT_BINARY = {ew.add: "+", ew.sub: "-", ew.mul: "*", ew.div: "/"}

# primitives whose result is a new array of its own (when not 0-d): a buffer that may be
# reused once dead. Views share their argument's buffer; anything else may alias its
# arguments.
_FRESH = {*_UFUNC, ew.pow_, linalg.matmul_, reductions.sum_, reductions.max_,
          reductions.min_, reductions.prod_, ew.where_, ew.astype_, ew.cast_, ew.clone_,
          shape.concat_, shape.stack_, shape.index_add_, passes.scatter_sum_,
          passes.sum_of_squares_, passes.diagonal_product_,
          shape.getitem_}  # (getitem: only an advanced index, a copy; a basic one is a view)
_VIEWS = {shape.reshape_, shape.permute_, shape.broadcast_to_, shape.getitem_}


# ----------------------------------------------------------------------- the generator


@dataclass
class Version:
    """One version of the function: its lines (code, comment) and output expressions."""

    lines: list
    results: list
    floats: bool  # whether some lines compute with Python floats
    float_results: list = field(default_factory=list)  # per result: a Python float

    def body(self, indent: str = "    ") -> list[str]:
        """The lines, comments aligned, ending in ``return``."""
        width = min(max([len(c) for c, _ in self.lines] + [0]), 56)
        out = []
        for code, comment in self.lines:
            if comment and not code.startswith("# "):
                out.append(f"{indent}{code.ljust(width)}  # {comment}")
            else:
                out.append(f"{indent}{code}")
        out.append(f"{indent}return {', '.join(self.results)}" if self.results else
                   f"{indent}return None")
        return out


@dataclass
class Generated:
    """The generated source and what it needs to run."""

    source: str                   # the function as shown by ``compiled.source()``
    code: str                     # what is compiled: the function (and its NumPy twin)
    name: str                     # the function's name
    fallback: str | None          # the NumPy twin of a function with Python-float lines
    inputs: list = field(default_factory=list)        # the functions' parameter names
    float_inputs: list = field(default_factory=list)  # per input: passed as a Python float
    main: Version | None = None
    twin: Version | None = None
    namespace: dict = field(default_factory=dict)


class _Names:
    def __init__(self, reserved: set[str]) -> None:
        self.taken = set(reserved)

    def fresh(self, base: str) -> str:
        base = re.sub(r"\W", "_", base) or "v"
        if base[0].isdigit() or base.startswith("_wl_"):  # (``_wl_`` names are the fast
            base = "_" + base  # entry's own, in whose scope the lines are inlined)
        name, k = base, 1
        while name in self.taken or keyword.iskeyword(name):
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name


_RESERVED = {"np", "math", "abs", "float", "slice", "range", "len", "tuple", "None", "True",
             "False"}


class _Writer:
    """The lines of one version of the function (with Python-float lines, or NumPy only)."""

    def __init__(self, gen: Generator, floats: bool) -> None:
        self.gen = gen
        self.floats = floats
        self.lines: list[tuple[str, str]] = []  # (code, comment)
        self.float_names: dict[int, str] = {}   # Value id -> its Python-float name
        self.array_names: dict[int, str] = {}   # Value id -> its NumPy name (a conversion)
        self.mode: dict[int, str] = {}          # Value id -> "float" or "array"

    # -- operands -------------------------------------------------------------------
    def operand(self, a: Any, want: str, consumer: Value | None = None) -> str:
        """The source of operand ``a`` for a consumer working in ``want`` mode."""
        gen = self.gen
        if isinstance(a, Value):
            mode = self.mode.get(id(a), "array")
            if want == "float":
                if mode == "float":
                    return gen.names[id(a)]
                name = self.float_names.get(id(a))
                if name is None:
                    name = self.float_names[id(a)] = gen.namer.fresh(gen.names[id(a)] + "_f")
                    self.lines.append((f"{name} = float({gen.names[id(a)]})", ""))
                return name
            if mode == "float":
                if consumer is not None and consumer.prim in _BINARY_OP and \
                        consumer.prim is not ew.pow_ and consumer.dtype == F64 and all(
                            o.dtype == F64 or o.dtype.kind in "iub" for o in consumer.args
                            if isinstance(o, Value | Const) and o is not a):
                    return gen.names[id(a)]  # NumPy promotes a Python float the same way
                    # (not in a power: a float's ** would be the C library's pow, a float)
                name = self.array_names.get(id(a))
                if name is None:
                    name = self.array_names[id(a)] = gen.namer.fresh(gen.names[id(a)] + "_a")
                    self.lines.append((f"{name} = np.float64({gen.names[id(a)]})", ""))
                return name
            return gen.names[id(a)]
        if isinstance(a, Const):
            if want == "float":
                return literal(float(a.value))
            return gen.const(a)
        text = literal(a)
        if text is None:
            return gen.const(Const(a))
        return text

    def float_ok(self, v: Value) -> bool:
        if not self.floats or v.xp is not NUMPY or v.shape != () or v.dtype != F64:
            return False
        unary, powers = _float_forms()
        if v.prim not in unary and v.prim not in _FLOAT_BINARY and \
                v.prim is not ew.pow_ and v.prim is not ew.neg:
            return False
        if v.prim is ew.pow_ and not powers and _fast_power(v) is None:
            return False  # (NumPy's pow rounds otherwise than the C library's here)
        for a in v.args:
            if isinstance(a, Value | Const):
                if a.shape != () or a.dtype != F64:
                    return False
            elif type(a) not in (int, float):
                return False
        return True

    def float_expression(self, v: Value) -> str:
        a = [self.operand(x, "float") for x in v.args]
        prim = v.prim
        if prim in _FLOAT_BINARY:
            return f"{a[0]} {_FLOAT_BINARY[prim]} {a[1]}"
        if prim is ew.neg:
            return f"-{a[0]}"
        if prim is ew.pow_:
            fast = _fast_power(v)
            if fast is not None:
                return _FAST_FLOAT_POWERS[fast].format(a[0])
            b = v.args[1]
            if type(b) is int or (type(b) is float and b.is_integer() and abs(b) < 2 ** 31):
                return f"{a[0]} ** {int(b)}"  # a whole power of a float: never complex
            return f"math.pow({a[0]}, {a[1]})"  # raises where the result is not real
        return f"{_float_forms()[0][prim]}({a[0]})"

    # -- arrays -----------------------------------------------------------------------
    def array_expression(self, v: Value, out: Value | None) -> str:
        gen = self.gen
        prim = v.prim
        a = [self.operand(x, "array", v) for x in v.args]
        r = gen  # templates call r(value) to render a parameter, r.index(...) for an index
        if v.xp is not NUMPY:
            if prim in _BINARY_OP:
                return f"{a[0]} {_BINARY_OP[prim]} {a[1]}"
            return gen.call(v, a)
        if out is not None:
            ufunc = _UFUNC.get(prim)
            if prim is ew.pow_:
                ufunc = _FAST_POWERS.get(v.args[1], "power") \
                    if type(v.args[1]) in (int, float) else "power"
                a = a[:1] if ufunc != "power" else a
            return f"np.{ufunc}({', '.join(a)}, out={gen.names[id(out)]})"
        if prim is ew.maximum_ or prim is ew.minimum_:
            if isinstance(v.args[1], Value | Const):
                return f"np.{prim.name}({a[0]}, {a[1]})"
            return gen.call(v, a)
        if prim is ew.pow_ and len(v.shape) == 0 and \
                type(passes.operand_data(v.args[0])) is np.ndarray:  # eager ran the ufunc:
            fast = _fast_power(v)  # the base may come as a NumPy scalar or a float, whose
            return f"np.{fast}({a[0]})" if fast else f"np.power({a[0]}, {a[1]})"  # ** is pow
        template = _TEMPLATES.get(prim)
        if template is None or (prim is ew.sign_ and v.dtype.kind not in "fiu"):
            return gen.call(v, a)
        return template(a, v.params, r)

    def out_target(self, v: Value, position: int) -> Value | None:
        """An argument whose buffer the result of ``v`` may be written into."""
        gen = self.gen
        prim = v.prim
        if v.xp is not NUMPY or len(v.shape) == 0:
            return None
        if prim is not ew.pow_ and prim not in _UFUNC:
            return None
        for k, x in enumerate(v.args):
            if not isinstance(x, Value) or self.mode.get(id(x)) == "float":
                continue
            if prim is ew.pow_ and k == 1:
                continue
            root = gen.root.get(id(x))
            if root is None or id(x) not in gen.whole or id(root) not in gen.owned or \
                    id(root) in gen.pinned:
                continue
            if x.shape != v.shape or x.dtype != v.dtype:
                continue
            if gen.root_last[id(root)] > position:
                continue  # the buffer is read later (by x or a view of it)
            others = [y for j, y in enumerate(v.args) if j != k and isinstance(y, Value)]
            if any(gen.root.get(id(y)) is root and y is not x for y in others):
                continue  # another operand views the same memory differently
            return x
        return None

    # -- the whole function -------------------------------------------------------------
    def write(self, order: list[Value]) -> None:
        gen = self.gen
        for v in gen.inputs:
            if self.floats and gen.float_input.get(id(v)):
                self.mode[id(v)] = "float"
        phase = None
        for position, v in enumerate(order):
            if v.phase != phase:
                phase = v.phase
                self.lines.append(("# " + ("forward: the function's own computation"
                                           if phase == 0 else
                                           "derivative: the rules the transforms ran"), ""))
            name = gen.names[id(v)]
            comment = gen.comment(v)
            if self.float_ok(v):
                self.mode[id(v)] = "float"
                gen.assign_root(v, None)
                self.lines.append((f"{name} = {self.float_expression(v)}", comment))
                continue
            self.mode[id(v)] = "array"
            if v.xp is NUMPY and (v.prim is passes.scatter_sum_ or v.prim is
                                  shape.index_add_):
                gen.assign_root(v, None)
                self.scatter(v, name, comment)
                continue
            out = self.out_target(v, position)
            gen.assign_root(v, out)
            self.lines.append((f"{name} = {self.array_expression(v, out)}", comment))
        self.results = self.returns()

    def scatter(self, v: Value, name: str, comment: str) -> None:
        gen = self.gen
        if v.prim is shape.index_add_:
            index = v.params["index"]
            parts = ((v.args[0], (index, backend.is_basic_index(index))),)
        else:
            parts = tuple(zip(v.args, v.params["parts"]))
        dtype = v.dtype if v.prim is shape.index_add_ else v.params["dtype"]
        tiles = _tiles(v.shape, [p[1] for p in parts])
        self.lines.append((f"{name} = np.{'empty' if tiles else 'zeros'}("
                           f"{gen.render(v.shape)}, {gen.render(np.dtype(dtype))})", comment))
        for k, (value, (index, basic)) in enumerate(parts):
            source = self.operand(value, "array", None)
            if not basic:
                line = f"np.add.at({name}, {gen.render(index)}, {source})"
            else:
                line = f"{name}[{gen.index(index)}] {'=' if k == 0 or tiles else '+='} {source}"
            self.lines.append((line, comment))

    def returns(self) -> list[str]:
        """The expressions of the outputs, each an array of the caller's own."""
        gen = self.gen
        claimed: set[int] = set()
        items = []
        for o in gen.outputs:
            if isinstance(o, Value):
                if self.mode.get(id(o)) == "float":
                    items.append(gen.names[id(o)])
                    continue
                text = gen.names[id(o)]
                root = gen.root.get(id(o))
                fresh = root is not None and id(root) in gen.owned and id(root) not in claimed \
                    and not gen.readonly.get(id(o))
                if fresh and len(o.shape):
                    claimed.add(id(root))
                    items.append(text)
                elif len(o.shape) == 0 and (o.prim in _FRESH or o.prim in _UFUNC):
                    items.append(text)  # a NumPy scalar, or a new 0-d array
                else:
                    items.append(gen.copy(text, o.xp))
            elif isinstance(o, Const):
                items.append(gen.copy(gen.const(o), o.xp))
            else:
                items.append(self.operand(o, "array"))
        return items


def _tiles(shape: tuple, parts: list) -> bool:
    """Whether the basic indices of ``parts`` cover every entry of ``shape`` once: the
    buffer needs no zeros, each part is assigned (the gradient of ``X[:, 0]`` and
    ``X[:, 1]`` together)."""
    if not all(basic for _, basic in parts) or math.prod(shape) > 1 << 22:
        return False
    count = np.zeros(shape, np.uint8)
    for index, _ in parts:
        count[index] += 1
    return bool((count == 1).all())


def _copy_array(x: Any) -> Any:
    """A copy of an array of any namespace."""
    return backend.asarray(x, xp=backend.namespace(x), copy=True)


class Generator:
    """Names, constants and buffer bookkeeping shared by the two versions of a function."""

    def __init__(self, name: str, inputs: list[Value], input_names: list[str],
                 outputs: list[Any]) -> None:
        self.inputs = inputs
        self.outputs = outputs
        self.order = passes.schedule(outputs)
        self.namer = _Names(_RESERVED)
        self.name = self.namer.fresh(name)
        self.names: dict[int, str] = {}
        for v, n in zip(inputs, input_names):
            self.names[id(v)] = self.namer.fresh(n)
        count = 0
        for v in self.order:
            count += 1
            base = {"getitem": "item", "index_add": "scatter", "scatter_sum": "scatter"}.get(
                v.prim.name, v.prim.name)
            if v.prim.name in ("any_all", "argmax_argmin"):
                base = v.params["name"]
            self.names[id(v)] = self.namer.fresh(f"{'d_' if v.phase else ''}{base}_{count}")
        self.namespace: dict[str, Any] = {"np": np, "math": math}
        self.const_names: dict[int, str] = {}
        self.const_notes: list[str] = []
        self.helpers: dict[tuple, str] = {}
        self.helper_notes: list[str] = []
        self.positions = {id(v): k for k, v in enumerate(self.order)}
        self.last_use = self._last_uses()
        self.float_input = self._float_inputs()

    # -- bookkeeping ------------------------------------------------------------------
    def _last_uses(self) -> dict[int, float]:
        last: dict[int, float] = {}
        for k, v in enumerate(self.order):
            for a in v.args:
                if isinstance(a, Value):
                    last[id(a)] = max(last.get(id(a), -1), k)
        for o in self.outputs:
            if isinstance(o, Value):
                last[id(o)] = math.inf
        return last

    def _float_inputs(self) -> dict[int, bool]:
        consumers: dict[int, list[Value]] = {}
        for v in self.order:
            for a in v.args:
                if isinstance(a, Value):
                    consumers.setdefault(id(a), []).append(v)
        probe = _Writer(self, True)
        flags = {}
        for v in self.inputs:
            users = consumers.get(id(v), [])
            flags[id(v)] = (v.xp is NUMPY and v.shape == () and v.dtype == F64 and
                            bool(users) and all(probe.float_ok(u) for u in users))
        return flags

    def start_buffers(self) -> None:
        """Reset what the buffer reuse tracks, before writing one version. A value's root
        is the Value that owns its memory (itself for a new array, its argument's root for
        a view; None for a number or a result that may alias its arguments, whose roots
        are then pinned: never written into)."""
        self.root: dict[int, Any] = {}
        self.owned: set[int] = set()   # roots made by the generated code: writable
        self.whole: set[int] = set()   # values that are all of their root's buffer
        self.pinned: set[int] = set()
        self.readonly: dict[int, bool] = {}
        self.root_last: dict[int, float] = {}  # root -> the last use of any value on it
        for v in self.inputs:
            self.root[id(v)] = v
            self.root_last[id(v)] = math.inf

    def assign_root(self, v: Value, out: Value | None) -> None:
        """Record where ``v``'s memory comes from, once its line is chosen (``out``: the
        argument whose buffer it is written into)."""
        prim = v.prim
        arrays = [a for a in v.args if isinstance(a, Value)]
        if out is not None:
            root = self.root[id(out)]
            self.whole.add(id(v))
        elif prim in _VIEWS and arrays and not (
                prim is shape.getitem_ and not backend.is_basic_index(v.params["index"])):
            root = self.root.get(id(arrays[0]))
            self.readonly[id(v)] = prim is shape.broadcast_to_ or \
                self.readonly.get(id(arrays[0]), False)
        elif prim in _FRESH and len(v.shape) and v.xp is NUMPY:
            root = v
            self.owned.add(id(v))
            self.whole.add(id(v))
        elif prim in _FRESH:  # a number, or an array of another library: left alone
            root = None
        else:
            root = None
            for a in arrays:  # the result may share an argument's memory
                r = self.root.get(id(a))
                if r is not None:
                    self.pinned.add(id(r))
        self.root[id(v)] = root
        if root is not None:
            last = self.last_use.get(id(v), -1)
            self.root_last[id(root)] = max(self.root_last.get(id(root), -1), last)

    # -- rendering ------------------------------------------------------------------------
    def const(self, c: Const) -> str:
        key = id(c.value)  # (the namespace holds the value: its id stays unique)
        name = self.const_names.get(key)
        if name is None:
            name = self.const_names[key] = self.namer.fresh(f"c{len(self.const_names)}")
            self.namespace[name] = c.value
            shape_text = "x".join(map(str, c.shape)) or "scalar"
            self.const_notes.append(f"{name}: {c.dtype} {shape_text}" if c.dtype is not None
                                    else f"{name}: a {type(c.value).__name__}")
        return name

    def render(self, value: Any) -> str:
        text = literal(value)
        if text is not None:
            return text
        if isinstance(value, tuple):
            items = [self.render(v) for v in value]
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        if isinstance(value, list):
            return "[" + ", ".join(self.render(v) for v in value) + "]"
        if isinstance(value, slice):
            return f"slice({self.render(value.start)}, {self.render(value.stop)}, " \
                   f"{self.render(value.step)})"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k!r}: {self.render(v)}" for k, v in value.items()) + "}"
        return self.const(Const(value))

    __call__ = render

    def index(self, index: Any) -> str:
        items = index if isinstance(index, tuple) else (index,)
        parts = [_slice_text(i, self.render) if isinstance(i, slice) else self.render(i)
                 for i in items]
        if isinstance(index, tuple) and len(items) == 1:
            return parts[0] + ","
        return ", ".join(parts) if parts else "()"

    def call(self, v: Value, args: list[str]) -> str:
        """``v``'s primitive by its own forward computation (bound to its namespace)."""
        key = (id(v.prim), id(v.xp))
        name = self.helpers.get(key)
        if name is None:
            name = self.helpers[key] = self.namer.fresh(v.prim.name)
            self.namespace[name] = partial(v.prim.forward, v.xp)
            module = getattr(v.prim.forward, "__module__", "") or ""
            self.helper_notes.append(f"{name}: the forward computation of primitive "
                                     f"{v.prim.name!r} ({module})")
        params = [f"{k}={self.render(p)}" for k, p in v.params.items()]
        return f"{name}({', '.join([*args, *params])})"

    def copy(self, text: str, xp: Any) -> str:
        """Source for a copy of the array ``text`` of namespace ``xp``."""
        if xp is NUMPY or xp is None:
            return f"{text}.copy()"
        if "copy_array" not in self.namespace:
            self.namespace["copy_array"] = _copy_array
        return f"copy_array({text})"

    def comment(self, v: Value) -> str:
        filename, line = v.where
        text = f"{os.path.basename(filename)}:{line}"
        return f"{text} {v.label}" if v.phase else text

    # -- the function -------------------------------------------------------------------
    def version(self, floats: bool) -> Version:
        """The lines of one version (with Python-float lines where they apply, or not)."""
        self.start_buffers()
        writer = _Writer(self, floats)
        writer.write(self.order)
        float_results = [isinstance(o, Value) and writer.mode.get(id(o)) == "float"
                         for o in self.outputs]
        return Version(writer.lines, writer.results, "float" in writer.mode.values(),
                       float_results)

    def function(self, name: str, version: Version, header: list[str]) -> str:
        arguments = ", ".join(self.names[id(v)] for v in self.inputs)
        lines = [f"def {name}({arguments}):"] + [f"    # {h}" for h in header]
        return "\n".join(lines + version.body()) + "\n"


def generate(name: str, inputs: list[Value], input_names: list[str], outputs: list[Any],
             header: list[str]) -> Generated:
    """The source of the compiled function of ``inputs`` returning ``outputs``."""
    gen = Generator(name, inputs, input_names, outputs)
    main = gen.version(True)
    twin = fallback = None
    code = gen.function(gen.name, main, [])
    if main.floats:
        twin = gen.version(False)
        fallback = gen.namer.fresh(gen.name + "_numpy")
        code += "\n\n" + gen.function(fallback, twin, [])
        header = header + ["(lines in Python floats; where one raises, as 1.0 / 0.0 does, "
                           "the same lines run in NumPy)"]
    source = gen.function(gen.name, main, header + gen.const_notes + gen.helper_notes)
    float_inputs = [bool(main.floats and gen.float_input.get(id(v))) for v in inputs]
    return Generated(source=source, code=code, name=gen.name, fallback=fallback,
                     inputs=[gen.names[id(v)] for v in inputs], float_inputs=float_inputs,
                     main=main, twin=twin, namespace=gen.namespace)
