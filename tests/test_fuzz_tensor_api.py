"""Differential fuzzing of the non-differentiable Tensor API against PyTorch.

Hypothesis draws small tensors (0 to 3 dimensions, sides 0 to 3, so empty tensors of
shape ``(0,)`` and ``(2, 0)`` are common) of dtype ``bool int32 int64 float32 float64``,
with values from small grids on purpose (integers in ``-9 ... 9``; floats from ``0 -0 ±0.5
±1 ±1.5 ±2.5 ±3 ±7.5 nan ±inf`` or any float32 number in ``[-100, 100]``), so that ties,
halves, signed zeros and NaN appear often. It then runs the same thing on wonderland and
on PyTorch and compares the values, the dtype and the shape:

- binary operators ``+ - * / // % ** & | ^ == != < <= > >=`` between two tensors
  (broadcast shapes), and between a tensor and a Python ``int``/``float``/``bool``, a NumPy
  scalar or a 0-d tensor, on either side;
- unary ``-x ~x abs sign round floor ceil trunc`` and the casts ``float double long int
  bool to(dtype) type(dtype)``, ``item()`` and ``tolist()`` (Python types too);
- reductions ``sum prod mean max min argmax argmin any all`` over all or one dim, with
  ``keepdim``, on empty tensors too (an error must be an error in both);
- ``clamp`` with number bounds of either kind, one of them ``None``, or ``min > max``;
  ``where`` with tensors and Python numbers;
- creation: ``tensor()`` of nested lists of ints/floats/bools (mixed), ``full``,
  ``arange`` (int and float steps, either sign), ``linspace``, ``eye``, ``zeros``/``ones``
  (with and without ``dtype=``);
- indexing and assignment with ints, slices (negative ends, steps), ``...``, ``None``,
  boolean masks and integer arrays, the assigned value a Python number or a tensor of any
  dtype broadcast to the indexed part (float into int tensors truncates in both).

Where the README documents a difference, the expectation follows the README, and each
such place is modelled, never skipped:

- "floats default to float64": every comparison runs with PyTorch's default dtype set to
  float64 (restored afterwards), so ``int_tensor * 2.5``, ``int / int``, ``arange(0.5)``,
  ``linspace`` and ``tensor([1.5])`` are expected to be float64 as in PyTorch then;
- "NumPy 2's rules" for 0-d values: where one operand is a NumPy scalar or a 0-d tensor
  and the other is not 0-d, the expected dtype is NumPy's (``float32 + 0-d float64`` is
  float64) and the values are PyTorch's with both operands cast to NumPy's common dtype;
- ``max``/``min`` with a dim give values only (compared with ``torch.amax``/``amin``);
- ``full`` without ``dtype=`` is float64 whatever the fill value;
- an integer raised to a negative integer power is a ``ValueError`` (README, "Clear
  errors"; PyTorch computes ``2 ** -1 == 0`` for a tensor exponent).

Excluded from the random draws, and why: integer ``//`` and ``%`` by zero (both raise;
tested plainly below); integer values large enough to overflow (both libraries wrap,
neither promises more);
repeated integer indices in assignment (README: the last write lands, as NumPy; PyTorch
leaves the order unspecified); NaN or infinity assigned into integer tensors (both
raise). Where PyTorch raises and wonderland computes (``mean`` of an int tensor,
``argmax`` of bools, ``round`` of an int tensor with ``decimals``, ``bool // bool``),
nothing is compared: those are extensions, not silent differences. Where wonderland
raises and PyTorch computes, the test fails unless the README documents the error. The
sign of a zero result is not compared (wonderland's ``%`` follows Python, ``-0.0 % 3 ==
0.0``, which the README's "the sign of the divisor" describes; PyTorch gives ``-0.0``).

Every disagreement found is kept below as a plainly named test. Fixed since: ``where(c,
bool_tensor, 5)`` and ``bool_tensor.clamp(2)`` cast the number to bool (wrong values);
integer ``//`` and ``%`` by zero gave 0; a NumPy scalar on the left of ``& | ^`` raised.
Documented since (the README's differences from PyTorch), and tolerated in the random
draws as ``known=...`` (counted as Hypothesis events): an int tensor with a float32
tensor is float64; ``bool_tensor ** 2`` is int8; ``sign`` of bools is float64 and
``sign(nan)`` is NaN (PyTorch: 0). Floating ``arange`` entries are compared to
a few hundred ulps of the largest argument (NumPy computes ``start + i * delta`` with
``delta = (start + step) - start``, PyTorch ``start + i * step``; the lengths agree).

``WL_FUZZ_EXAMPLES=n`` runs n random (not derandomized) examples per test;
``WL_FUZZ_COLLECT=path`` appends each disagreement to ``path`` instead of failing, to
hunt for many at once.
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import wonderland as wl

EXAMPLES = int(os.environ.get("WL_FUZZ_EXAMPLES", "0"))
COLLECT = os.environ.get("WL_FUZZ_COLLECT")  # a file: append disagreements, do not fail
DTYPES = ("bool", "int32", "int64", "float32", "float64")
INTS = ("int32", "int64")
FLOATS = ("float32", "float64")
FLOAT_GRID = [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.5, -1.5, 2.5, -2.5, 3.0, -3.0, 7.5,
              -7.5, math.nan, math.inf, -math.inf]
FINITE_GRID = [v for v in FLOAT_GRID if math.isfinite(v)]
BINARY = ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "and", "or", "xor",
          "eq", "ne", "lt", "le", "gt", "ge"]
OPS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "truediv": lambda a, b: a / b, "floordiv": lambda a, b: a // b,
    "mod": lambda a, b: a % b, "pow": lambda a, b: a ** b, "and": lambda a, b: a & b,
    "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b, "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
}
# wonderland errors that the README documents, where PyTorch computes
DOCUMENTED_ERRORS = ("negative integer powers",)


def fuzz(n: int):
    """Hypothesis settings: ``n`` examples, or WL_FUZZ_EXAMPLES when it is set."""
    return settings(max_examples=EXAMPLES or n, deadline=None, derandomize=not EXAMPLES,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.filter_too_much])


@contextlib.contextmanager
def torch_float64_default():
    """PyTorch's default float dtype set to float64 (wonderland's, README) for a while."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            yield
    finally:
        torch.set_default_dtype(old)


def run(f, *args):
    """("ok", value) or ("err", exception) of ``f(*args)``."""
    try:
        return "ok", f(*args)
    except Exception as e:  # noqa: BLE001 -- every error is compared, not hidden
        return "err", e


def dtype_name(x) -> str:
    return str(x.dtype).removeprefix("torch.")


def values(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return np.asarray(x.numpy())


def assert_same(w, t, what: str, dtype: str | None = None, atol: float = 0.0) -> None:
    """``w`` (wonderland) has ``t``'s (PyTorch's) shape, dtype (or ``dtype``) and values."""
    assert isinstance(w, wl.Tensor), f"{what}: wonderland gave {type(w).__name__}"
    want = dtype or dtype_name(t)
    assert tuple(w.shape) == tuple(t.shape), f"{what}: shape {w.shape} != torch {t.shape}"
    assert dtype_name(w) == want, f"{what}: dtype {w.dtype} != expected {want}"
    wv, tv = values(w), values(t)
    if wv.dtype.kind == "f" or tv.dtype.kind == "f":
        rtol = 1e-6 if "float32" in (str(wv.dtype), str(tv.dtype)) else 1e-12
        np.testing.assert_allclose(wv.astype(np.float64), tv.astype(np.float64), rtol=rtol,
                                   atol=atol, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(wv, tv, err_msg=what)


def compare(fw, ft, what: str, dtype: str | None = None, atol: float = 0.0,
            known: str | None = None):
    """Run both; compare when both compute. Returns the outcome, for events. ``known``
    names a disagreement pinned by an xfail test below: it is tolerated (and counted)."""
    kw, w = run(fw)
    kt, t = run(ft)
    if kt == "err":
        event(f"torch raises ({what.split('(')[0]}); wl {'raises' if kw == 'err' else 'computes'}")
        return "torch-err"
    try:
        if kw == "err":
            if any(s in str(w) for s in DOCUMENTED_ERRORS):
                event("documented wonderland error")
                return "documented"
            raise AssertionError(f"{what}: wonderland raises {w!r}, torch gives {t!r}")
        assert_same(w, t, what, dtype, atol)
    except AssertionError as e:
        if known:
            event(f"known: {known}")
            return "known"
        if not COLLECT:
            raise
        with open(COLLECT, "a") as f:
            f.write(" ".join(str(e).split())[:400] + "\n")
        return "collected"
    return "ok"


# ----------------------------------------------------------------------- strategies


def elements(dtype: str, *, small: bool = False):
    if dtype == "bool":
        return st.booleans()
    if dtype in INTS:
        return st.integers(-3, 4) if small else st.integers(-9, 9)
    grid = FINITE_GRID if small else FLOAT_GRID
    return st.one_of(st.sampled_from(grid),
                     st.floats(-100, 100, width=32, allow_subnormal=False))


def arrays(dtype: str, shape, *, small: bool = False):
    return hnp.arrays(np.dtype(dtype), shape, elements=elements(dtype, small=small))


shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)


def pair(a: np.ndarray):
    """The same values as a wonderland and a PyTorch tensor (each its own copy)."""
    a = np.asarray(a)
    return wl.tensor(a.copy()), torch.from_numpy(a.copy())


def fix_operands(op: str, a: np.ndarray, b: np.ndarray):
    """Keep the draws inside the compared domain: no integer division by zero, no
    integer overflow in ``**``."""
    if op in ("floordiv", "mod") and b.dtype.kind in "biu" and a.dtype.kind in "biu":
        b = np.where(b == 0, np.ones_like(b), b)
    if op == "pow" and a.dtype.kind in "biu" and b.dtype.kind in "biu":
        b = np.clip(b, -3, 5).astype(b.dtype) if b.dtype.kind != "b" else b
    return a, b


def known_binary(op: str, da: str, db: str, numpy_left: bool = False) -> str | None:
    """The pinned disagreements (see the xfail tests) a binary draw may hit."""
    kinds = {da, db}
    if kinds & set(INTS) and "float32" in kinds:
        return "documented: int with float32 promotes to float64"
    if op == "pow" and da == "bool" and db in ("bool", "int", "int32", "int64"):
        return "documented: bool ** int is int8"
    return None


# ----------------------------------------------------------------------- binary ops


@fuzz(500)
@given(data=st.data())
def test_binary_tensor_tensor(data):
    op = data.draw(st.sampled_from(BINARY), label="op")
    da = data.draw(st.sampled_from(DTYPES), label="dtype a")
    db = data.draw(st.sampled_from(DTYPES), label="dtype b")
    (sa, sb), _ = data.draw(hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=0, max_dims=3, max_side=3), label="shapes")
    a = data.draw(arrays(da, sa, small=op == "pow"), label="a")
    b = data.draw(arrays(db, sb, small=op == "pow"), label="b")
    a, b = fix_operands(op, a, b)
    wa, ta = pair(a)
    wb, tb = pair(b)
    f = OPS[op]
    with torch_float64_default():
        if (a.ndim == 0) != (b.ndim == 0):
            # README: 0-d values promote by NumPy 2's rules (PyTorch: they do not)
            common = np.result_type(a, b)
            kn, n = run(f, a, b)
            event(f"0-d operand ({op})")
            if kn == "err" or not isinstance(n, np.ndarray | np.generic):
                return
            tc = getattr(torch, str(common))
            compare(lambda: f(wa, wb), lambda: f(ta.to(tc), tb.to(tc)),
                    f"{da}{sa} {op} {db}{sb}", dtype=str(n.dtype),
                    known=known_binary(op, da, db))
        else:
            compare(lambda: f(wa, wb), lambda: f(ta, tb), f"{da}{sa} {op} {db}{sb}",
                    known=known_binary(op, da, db))


python_scalars = st.one_of(st.integers(-5, 5), st.sampled_from(FLOAT_GRID), st.booleans())


@fuzz(500)
@given(data=st.data())
def test_binary_tensor_scalar(data):
    op = data.draw(st.sampled_from(BINARY), label="op")
    da = data.draw(st.sampled_from(DTYPES), label="dtype")
    a = data.draw(arrays(da, data.draw(shapes, label="shape"), small=op == "pow"), label="a")
    s = data.draw(python_scalars, label="scalar")
    kind = data.draw(st.sampled_from(["python", "numpy", "0-d tensor"]), label="kind")
    left = data.draw(st.booleans(), label="scalar on the left")
    sa = np.asarray(s)
    if left:
        sa, a = fix_operands(op, sa, a)
    else:
        a, sa = fix_operands(op, a, sa)
    s = sa.item()
    wa, ta = pair(a)
    f = OPS[op]
    g = (lambda x, y: f(y, x)) if left else f
    sd = type(s).__name__ if kind == "python" else str(np.asarray(s).dtype)
    known = known_binary(op, sd, da, kind == "numpy") if left else known_binary(op, da, sd)
    with torch_float64_default():
        if kind == "python":
            compare(lambda: g(wa, s), lambda: g(ta, s), f"{da}{a.shape} {op} {s!r} left={left}",
                    known=known)
            return
        sn = np.asarray(s)[()] if kind == "numpy" else np.asarray(s)
        if kind == "numpy" and left:
            # a NumPy scalar on the left dispatches through __array_ufunc__
            event("numpy scalar on the left")
        ws = sn if kind == "numpy" else wl.tensor(np.asarray(s))
        if a.ndim == 0:
            ts = torch.tensor(s) if kind == "0-d tensor" else torch.tensor(sn)
            compare(lambda: g(wa, ws), lambda: g(ta, ts), f"{da}() {op} 0-d {s!r}",
                    known=known)
            return
        kn, n = run(g, a, np.asarray(s))
        if kn == "err" or not isinstance(n, np.ndarray | np.generic):
            return
        tc = getattr(torch, str(np.result_type(a, np.asarray(s))))
        ts = torch.tensor(s).to(tc)
        compare(lambda: g(wa, ws), lambda: g(ta.to(tc), ts),
                f"{da}{a.shape} {op} {kind} {s!r} left={left}", dtype=str(n.dtype),
                known=known)


# ----------------------------------------------------------------------- unary ops

UNARY = {
    "neg": (lambda x: -x, lambda x: -x),
    "invert": (lambda x: ~x, lambda x: ~x),
    "abs": (lambda x: x.abs(), lambda x: x.abs()),
    "sign": (lambda x: x.sign(), lambda x: x.sign()),
    "round": (lambda x: x.round(), lambda x: x.round()),
    "round1": (lambda x: x.round(decimals=1), lambda x: x.round(decimals=1)),
    "floor": (lambda x: x.floor(), lambda x: x.floor()),
    "ceil": (lambda x: x.ceil(), lambda x: x.ceil()),
    "trunc": (lambda x: x.trunc(), lambda x: x.trunc()),
    "float": (lambda x: x.float(), lambda x: x.float()),
    "double": (lambda x: x.double(), lambda x: x.double()),
    "long": (lambda x: x.long(), lambda x: x.long()),
    "int": (lambda x: x.int(), lambda x: x.int()),
    "bool": (lambda x: x.bool(), lambda x: x.bool()),
    "clone": (lambda x: x.clone(), lambda x: x.clone()),
}


@fuzz(300)
@given(data=st.data())
def test_unary(data):
    name = data.draw(st.sampled_from(sorted(UNARY)), label="op")
    dt = data.draw(st.sampled_from(DTYPES), label="dtype")
    a = data.draw(arrays(dt, data.draw(shapes, label="shape")), label="a")
    if name in ("long", "int"):  # NaN and infinity cast to integers: undefined in C
        a = np.where(np.isfinite(a), a, 0).astype(a.dtype) if dt in FLOATS else a
    wa, ta = pair(a)
    fw, ft = UNARY[name]
    known = None
    if name == "sign" and dt == "bool":
        known = "documented: sign(bool) is float64"
    elif name == "sign" and np.isnan(a).any():
        known = "documented: sign(nan) is nan"
    with torch_float64_default():
        compare(lambda: fw(wa), lambda: ft(ta), f"{name}({dt}{a.shape})", known=known)


@fuzz(200)
@given(data=st.data())
def test_casts_item_tolist(data):
    dt = data.draw(st.sampled_from(DTYPES), label="dtype")
    to = data.draw(st.sampled_from(DTYPES), label="to")
    a = data.draw(arrays(dt, data.draw(shapes, label="shape")), label="a")
    if to in INTS and dt in FLOATS:
        a = np.where(np.isfinite(a), a, 0).astype(a.dtype)
    wa, ta = pair(a)
    with torch_float64_default():
        compare(lambda: wa.to(to), lambda: ta.to(getattr(torch, to)), f"{dt}.to({to})")
        compare(lambda: wa.to(getattr(wl, to if to != "bool" else "bool_")),
                lambda: ta.to(getattr(torch, to)), f"{dt}.to(wl.{to})")
        compare(lambda: wa.type(to), lambda: ta.type(getattr(torch, to)), f"{dt}.type({to})")
    assert wa.type() == dt
    wl_list, t_list = wa.tolist(), ta.tolist()
    assert np.array_equal(np.asarray(wl_list, dtype=float), np.asarray(t_list, dtype=float),
                          equal_nan=True)

    def types(x):
        return [types(v) for v in x] if isinstance(x, list) else type(x)

    assert types(wl_list) == types(t_list)
    if a.size == 1:
        wi, ti = wa.item(), ta.item()
        assert type(wi) is type(ti), (wi, ti)
        assert wi == ti or (wi != wi and ti != ti)


# ----------------------------------------------------------------------- reductions

REDUCTIONS = ["sum", "prod", "mean", "max", "min", "argmax", "argmin", "any", "all"]


def torch_reduce(name, t, dim, keepdim):
    f = {"max": torch.amax, "min": torch.amin}.get(name)  # README: values only
    if f is not None:
        return f(t, dim=dim, keepdim=keepdim) if dim is not None else f(t)
    m = getattr(t, name)
    if dim is None:
        return m()
    return m(dim=dim, keepdim=keepdim) if keepdim else m(dim=dim)


def wl_reduce(name, w, dim, keepdim):
    m = getattr(w, name)
    if dim is None:
        return m()
    return m(dim=dim, keepdim=keepdim) if keepdim else m(dim=dim)


@fuzz(400)
@given(data=st.data())
def test_reductions(data):
    name = data.draw(st.sampled_from(REDUCTIONS), label="op")
    dt = data.draw(st.sampled_from(DTYPES), label="dtype")
    a = data.draw(arrays(dt, data.draw(shapes, label="shape")), label="a")
    dim = data.draw(st.none() | st.integers(-max(a.ndim, 1), max(a.ndim, 1) - 1), label="dim")
    keepdim = dim is not None and name not in ("any", "all") and data.draw(st.booleans())
    if name == "prod" and dt in INTS:
        a = np.clip(a, -3, 3).astype(a.dtype)
    wa, ta = pair(a)
    with torch_float64_default():
        compare(lambda: wl_reduce(name, wa, dim, keepdim),
                lambda: torch_reduce(name, ta, dim, keepdim),
                f"{name}({dt}{a.shape}, dim={dim}, keepdim={keepdim})")


@fuzz(150)
@given(data=st.data())
def test_reductions_as_functions(data):
    name = data.draw(st.sampled_from(["sum", "max", "min", "argmax", "argmin", "prod"]))
    dt = data.draw(st.sampled_from(DTYPES), label="dtype")
    a = data.draw(arrays(dt, data.draw(shapes, label="shape")), label="a")
    if name == "prod" and dt in INTS:
        a = np.clip(a, -3, 3).astype(a.dtype)
    wa, ta = pair(a)
    with torch_float64_default():
        compare(lambda: getattr(wl, name)(wa), lambda: torch_reduce(name, ta, None, False),
                f"wl.{name}({dt}{a.shape})")


# ----------------------------------------------------------------------- clamp, where

bounds = st.none() | st.integers(-5, 5) | st.sampled_from(FINITE_GRID)


@fuzz(300)
@given(data=st.data())
def test_clamp(data):
    dt = data.draw(st.sampled_from(DTYPES), label="dtype")
    a = data.draw(arrays(dt, data.draw(shapes, label="shape")), label="a")
    lo, hi = data.draw(bounds, label="min"), data.draw(bounds, label="max")
    assume(lo is not None or hi is not None)
    how = data.draw(st.sampled_from(["method", "clamp", "clip"]), label="how")
    wa, ta = pair(a)
    fw = {"method": lambda: wa.clamp(lo, hi), "clamp": lambda: wl.clamp(wa, lo, hi),
          "clip": lambda: wl.clip(wa, lo, hi)}[how]
    with torch_float64_default():
        compare(fw, lambda: torch.clamp(ta, lo, hi), f"clamp({dt}{a.shape}, {lo!r}, {hi!r})")


@fuzz(200)
@given(data=st.data())
def test_clamp_tensor_bounds(data):
    dt = data.draw(st.sampled_from(INTS + FLOATS), label="dtype")
    (sa, sl, sh), _ = data.draw(hnp.mutually_broadcastable_shapes(
        num_shapes=3, min_dims=1, max_dims=2, max_side=3), label="shapes")
    a = data.draw(arrays(dt, sa), label="a")
    lo = data.draw(arrays(dt, sl, small=True), label="min")
    hi = data.draw(arrays(dt, sh, small=True), label="max")
    wa, ta = pair(a)
    wlo, tlo = pair(lo)
    whi, thi = pair(hi)
    with torch_float64_default():
        compare(lambda: wa.clamp(wlo, whi), lambda: torch.clamp(ta, tlo, thi),
                f"clamp({dt}{sa}, tensor{sl}, tensor{sh})")


@fuzz(250)
@given(data=st.data())
def test_where(data):
    (sc, sx, sy), _ = data.draw(hnp.mutually_broadcastable_shapes(
        num_shapes=3, min_dims=1, max_dims=3, max_side=3), label="shapes")
    c = data.draw(arrays("bool", sc), label="cond")
    wc, tc = pair(c)
    operands, kinds = [], []
    for label, shape in (("x", sx), ("y", sy)):
        if data.draw(st.booleans(), label=f"{label} is a number"):
            v = data.draw(st.integers(-5, 5) | st.sampled_from(FINITE_GRID) | st.booleans())
            operands.append((v, v))
            kinds.append(type(v).__name__)
        else:
            dt = data.draw(st.sampled_from(DTYPES), label=f"dtype {label}")
            operands.append(pair(data.draw(arrays(dt, shape), label=label)))
            kinds.append(dt)
    (wx, tx), (wy, ty) = operands
    known = known_binary("where", *kinds)
    with torch_float64_default():
        compare(lambda: wl.where(wc, wx, wy), lambda: torch.where(tc, tx, ty),
                f"where(cond{sc}, {wx!r}, {wy!r})", known=known)


# ----------------------------------------------------------------------- creation

leaf = st.integers(-5, 5) | st.sampled_from(FLOAT_GRID) | st.booleans()


@st.composite
def nested_lists(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3))
    kinds = draw(st.sampled_from(["int", "float", "bool", "mixed"]))
    el = {"int": st.integers(-5, 5), "float": st.sampled_from(FLOAT_GRID),
          "bool": st.booleans(), "mixed": leaf}[kinds]

    def build(s):
        if not s:
            return draw(el)
        return [build(s[1:]) for _ in range(s[0])]

    return build(shape)


@fuzz(300)
@given(data=nested_lists(), dtype=st.none() | st.sampled_from(DTYPES))
def test_tensor_from_nested_lists(data, dtype):
    if dtype in INTS:  # NaN and infinity into integers: undefined
        assume(all(math.isfinite(v) for v in np.asarray(data, dtype=float).ravel()))
    with torch_float64_default():
        compare(lambda: wl.tensor(data, dtype=dtype),
                lambda: torch.tensor(data, dtype=dtype and getattr(torch, dtype)),
                f"tensor({data!r}, dtype={dtype})")
        if not isinstance(data, list) or data:
            compare(lambda: wl.tensor(data[0] if isinstance(data, list) else data),
                    lambda: torch.tensor(data[0] if isinstance(data, list) else data),
                    f"tensor({data!r}[0])")


@fuzz(200)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3), v=leaf,
       dtype=st.none() | st.sampled_from(DTYPES))
def test_full_zeros_ones(shape, v, dtype):
    if dtype in INTS:
        assume(math.isfinite(v))
    td = dtype and getattr(torch, dtype)
    with torch_float64_default():
        # README: full without dtype= is float64 whatever the fill value
        compare(lambda: wl.full(shape, v, dtype=dtype),
                lambda: torch.full(shape, v, dtype=td or torch.float64),
                f"full({shape}, {v!r}, dtype={dtype})")
        for name in ("zeros", "ones"):
            compare(lambda n=name: getattr(wl, n)(*shape, dtype=dtype),
                    lambda n=name: getattr(torch, n)(*shape, dtype=td), f"{name}{shape}")
            compare(lambda n=name: getattr(wl, n)(shape, dtype=dtype),
                    lambda n=name: getattr(torch, n)(shape, dtype=td), f"{name}({shape})")
        a = np.zeros(shape, dtype=np.dtype(dtype or "int64"))
        wa, ta = pair(a)
        compare(lambda: wl.ones_like(wa), lambda: torch.ones_like(ta), "ones_like")
        compare(lambda: wl.zeros_like(wa, dtype=dtype), lambda: torch.zeros_like(ta, dtype=td),
                "zeros_like")
        compare(lambda: wl.full_like(wa, v), lambda: torch.full_like(ta, v), "full_like")


number = st.integers(-6, 6) | st.sampled_from([0.5, -0.5, 0.1, -0.1, 0.3, 1.5, 2.5, 0.25,
                                               1 / 3, -2.75, 0.7])


@fuzz(400)
@given(start=number, stop=number | st.none(), step=number | st.none(),
       dtype=st.none() | st.sampled_from(("int64", "float32", "float64")))
def test_arange(start, stop, step, dtype):
    if step is not None:
        assume(step != 0 and stop is not None)
    args = [start] if stop is None else [start, stop] if step is None else [start, stop, step]
    if dtype in INTS:
        assume(all(isinstance(v, int) for v in args))
    td = dtype and getattr(torch, dtype)
    # entries are start + i * step, rounded differently: compare to a few ulps of the ends
    eps = np.finfo(np.float32 if dtype == "float32" else np.float64).eps
    atol = 4 * 130 * eps * max(abs(v) for v in args + [1])  # NumPy: start + i * delta
    with torch_float64_default():
        compare(lambda: wl.arange(*args, dtype=dtype), lambda: torch.arange(*args, dtype=td),
                f"arange{tuple(args)} dtype={dtype}", atol=atol)


@fuzz(250)
@given(start=number, stop=number, steps=st.integers(0, 7),
       dtype=st.none() | st.sampled_from(FLOATS))
def test_linspace_eye(start, stop, steps, dtype):
    td = dtype and getattr(torch, dtype)
    with torch_float64_default():
        eps = np.finfo(np.float32 if dtype == "float32" else np.float64).eps
        compare(lambda: wl.linspace(start, stop, steps, dtype=dtype),
                lambda: torch.linspace(start, stop, steps, dtype=td),
                f"linspace({start}, {stop}, {steps}, dtype={dtype})",
                atol=4 * eps * max(abs(start), abs(stop)))
        w = wl.linspace(start, stop, steps)
        if steps >= 1:
            assert w[0].item() == start  # the first endpoint exactly, as torch
        if steps >= 2:
            assert w[-1].item() == stop  # and the last
        n, m = abs(int(start)) % 4, abs(int(stop)) % 4
        compare(lambda: wl.eye(n, m, dtype=dtype), lambda: torch.eye(n, m, dtype=td),
                f"eye({n}, {m})")
        compare(lambda: wl.eye(n), lambda: torch.eye(n), f"eye({n})")


# ----------------------------------------------------------------------- indexing


@st.composite
def indices(draw, shape):
    """An index for an array of ``shape``: ints, slices, ..., None, a mask or int arrays."""
    kind = draw(st.sampled_from(["basic", "mask", "mask0", "intarray", "intarray2"]))
    nd = len(shape)
    if kind == "mask":
        return np.asarray(draw(hnp.arrays(np.bool_, shape)))
    if kind == "mask0" and nd >= 1:
        return (np.asarray(draw(hnp.arrays(np.bool_, shape[:1]))), Ellipsis)
    if kind.startswith("intarray") and nd >= 1 and shape[0] > 0:
        n = shape[0]
        idx = np.asarray(draw(st.lists(st.integers(-n, n - 1), min_size=0, max_size=4,
                                       unique_by=lambda i: i % n)), dtype=np.int64)
        if kind == "intarray2" and nd >= 2 and shape[1] > 0:
            j = np.asarray(draw(st.lists(st.integers(0, shape[1] - 1), min_size=len(idx),
                                         max_size=len(idx))), dtype=np.int64)
            return (idx, j)
        return (idx,)
    out, axis = [], 0
    ellipsis_used = False
    for _ in range(draw(st.integers(0, nd + 1))):
        choice = draw(st.sampled_from(["int", "slice", "none", "ellipsis"]))
        if choice == "none":
            out.append(None)
        elif choice == "ellipsis" and not ellipsis_used:
            out.append(Ellipsis)
            ellipsis_used = True
            axis = nd  # the rest is taken from the end: keep it simple, stop here
            break
        elif axis < nd and choice == "int" and shape[axis] > 0:
            out.append(draw(st.integers(-shape[axis], shape[axis] - 1)))
            axis += 1
        elif axis < nd:
            n = shape[axis]
            out.append(slice(draw(st.none() | st.integers(-n - 1, n + 1)),
                             draw(st.none() | st.integers(-n - 1, n + 1)),
                             draw(st.none() | st.integers(1, 3))))
            axis += 1
    return tuple(out)


def torch_index(idx):
    if isinstance(idx, np.ndarray):
        return torch.from_numpy(idx.copy())
    return tuple(torch.from_numpy(i.copy()) if isinstance(i, np.ndarray) else i for i in idx)


def wl_index(idx, as_tensor):
    conv = (lambda i: wl.tensor(i.copy())) if as_tensor else (lambda i: i.copy())
    if isinstance(idx, np.ndarray):
        return conv(idx)
    return tuple(conv(i) if isinstance(i, np.ndarray) else i for i in idx)


@fuzz(300)
@given(data=st.data())
def test_getitem_setitem(data):
    dt = data.draw(st.sampled_from(DTYPES), label="dtype")
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4))
    a = data.draw(arrays(dt, shape), label="a")
    idx = data.draw(indices(shape), label="index")
    as_tensor = data.draw(st.booleans(), label="index arrays as tensors")
    wa, ta = pair(a)
    wi, ti = wl_index(idx, as_tensor), torch_index(idx)
    with torch_float64_default():
        kind = compare(lambda: wa[wi], lambda: ta[ti], f"{dt}{shape}[{idx!r}]")
        if kind != "ok":
            return
        part = ta[ti].shape
        # the value: a number, or a tensor whose shape broadcasts to the indexed part
        if data.draw(st.booleans(), label="number"):
            v = data.draw(st.integers(-5, 5) | st.sampled_from(FINITE_GRID) | st.booleans(),
                          label="value")
            wv, tv = v, v
        else:
            k = data.draw(st.integers(0, len(part)), label="value dims")
            vshape = tuple(data.draw(st.sampled_from([1, s])) for s in part[len(part) - k:])
            vd = data.draw(st.sampled_from(DTYPES), label="value dtype")
            vv = data.draw(arrays(vd, vshape), label="value")
            if dt in INTS and vd in FLOATS:
                vv = np.where(np.isfinite(vv), vv, 0).astype(vv.dtype)
            wv, tv = pair(vv)
        if dt in INTS and isinstance(wv, float):
            assume(math.isfinite(wv))

        def set_w():
            wa[wi] = wv
            return wa

        def set_t():
            ta[ti] = tv
            return ta

        compare(set_w, set_t, f"{dt}{shape}[{idx!r}] = {wv!r}")


# ----------------------------------------------------------------------- pinned cases


def test_documented_differences_hold():
    """The README's rows, checked once plainly, so that the model above stays honest."""
    x32 = wl.tensor([1.0, 2.0], dtype=wl.float32)
    assert (x32 + wl.tensor(2.5)).dtype == np.float64
    assert (x32 + np.float64(2.5)).dtype == np.float64
    assert (x32 + 2.5).dtype == np.float32
    assert wl.full((2,), 3).dtype == np.float64
    assert wl.full((2,), True).dtype == np.float64
    assert wl.tensor([1, 2]).max(0).shape == ()
    with pytest.raises(ValueError, match="negative integer powers"):
        wl.tensor(2) ** -1
    assert wl.tensor([-7.0, 7.0]).floor_divide(2).tolist() == [-4.0, 3.0]
    assert (wl.tensor([-7, 7]) % wl.tensor([2, -2])).tolist() == [1, -1]
    assert wl.tensor([0.5, 1.5, 2.5, -0.5, -2.5]).round().tolist() == [0, 2, 2, 0, -2]


def test_int_floor_divide_and_remainder_by_zero_raise_as_torch():
    """Found by this fuzzer: integer ``//`` and ``%`` by zero gave NumPy's 0 (a warning)."""
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        torch.tensor([7, -7]) // torch.tensor([0, 0])
    for op in (lambda a, b: a // b, lambda a, b: a % b):
        with pytest.raises(ZeroDivisionError, match="by zero"):
            op(wl.tensor([7, -7]), wl.tensor([0, 1]))
        with pytest.raises(ZeroDivisionError, match="by zero"):
            op(7, wl.tensor([0, 1]))  # reflected
    with pytest.raises(ZeroDivisionError):
        np.floor_divide(wl.tensor([7]), 0)
    with pytest.raises(ZeroDivisionError):
        t = wl.tensor([7, 8])
        t //= 0
    assert (wl.tensor([7, -7]) // 2).tolist() == [3, -4]  # Python's rounding
    with np.errstate(divide="ignore"):  # floats: IEEE's inf, as PyTorch
        assert (wl.tensor([1.0]) // 0.0).tolist() == [math.inf]


def test_sign_of_nan_and_of_bools_follow_numpy_as_documented():
    """PyTorch's sign(nan) is 0 and sign(bool) bool; wonderland keeps NaN (a NaN never
    turns into a number) and gives float64, as the README's differences table says."""
    assert np.isnan(wl.tensor([math.nan]).sign().item())
    assert wl.tensor([True, False]).sign().dtype == np.float64


def test_where_bool_tensor_with_int_number_promotes_as_torch():
    """Found by this fuzzer: the 5 was cast to True (silently wrong values)."""
    c = [True, False, False]
    w = wl.where(wl.tensor(c), wl.tensor([True, True, False]), 5)
    t = torch.where(torch.tensor(c), torch.tensor([True, True, False]), 5)
    assert w.tolist() == t.tolist() == [1, 5, 5]
    assert w.dtype == np.int64


def test_clamp_bool_tensor_with_int_bounds_promotes_as_torch():
    """Found by this fuzzer: the bounds were cast to bool (silently wrong values)."""
    w = wl.tensor([True, False]).clamp(2)
    t = torch.tensor([True, False]).clamp(2)
    assert w.tolist() == t.tolist() == [2, 2]
    assert wl.tensor([True, False]).clamp(5, 7.5).tolist() == [5.0, 5.0]  # torch: [5., 5.]


def test_int_tensor_with_float32_tensor_is_float64_as_documented():
    """NumPy's table (PyTorch keeps float32): the README's differences table says so."""
    x = wl.tensor([1.0, 2.0], dtype=wl.float32)
    n = wl.tensor([1, 2])
    assert (x * n).dtype == np.float64
    assert (x * n.to(wl.float32)).dtype == np.float32  # what to write instead


def test_bool_tensor_pow_int_is_int8_as_documented():
    assert (wl.tensor([True, False]) ** 2).dtype == np.int8  # NumPy's; PyTorch: int64


def test_numpy_scalar_on_the_left_of_bitwise_op():
    """Found by this fuzzer: ``np.bool_(True) & t`` went through ``__array_ufunc__``, which
    refused ``bitwise_and`` (TypeError)."""
    t = wl.tensor([True, False])
    assert (t & np.bool_(True)).tolist() == [True, False]
    assert (np.bool_(True) & t).tolist() == [True, False]
