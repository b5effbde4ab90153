"""Differential fuzzing of NumPy's protocols on Tensor: ``np.f(t)`` must give NumPy's numbers.

Drawn: small programs written in NumPy only (``np.`` functions, ufuncs and operators), on
one or two float64 inputs of shapes up to 24 elements (0-d to 3-d). Each step takes a
variable and, where it needs one, a second operand: another variable (when it
broadcasts), a NumPy array of a broadcastable or aligned shape, a Python float or int,
an ``np.float64`` or a 0-d array, on either side. The steps cover reductions (``sum mean
max min amax amin prod``, ``np.add.reduce``) over ``axis`` None, an int, a negative int, a
tuple (also ``()``), with ``keepdims`` (also on 0-d results), ``var``/``std`` with
``ddof`` (0, 1, 0.5) or ``correction=``; ufuncs (``abs negative square sqrt exp log tanh
sin cos sign floor ceil rint``, ``np.round`` with ``decimals``, ``power`` with a number or
an array exponent, ``maximum minimum add subtract multiply divide mod floor_divide``) and
their operators; ``np.clip`` with None bounds, ``min=``/``max=``, array bounds and crossed
bounds; ``np.where`` with 3 arguments (a tensor, foreign or constant condition; numbers on
either branch) and with 1 (NumPy's indices, then used to index); ``dot`` (0-d to 3-d),
``matmul``/``@``, ``outer``, ``inner``, ``einsum``; ``np.linalg.norm`` (vector ords 1, 2,
3, 0.5, 0, inf, -inf over an axis, ``'fro'`` over two); ``reshape`` (with -1, an int,
``shape=``), ``ravel``, ``transpose`` (None, negative axes), ``swapaxes``, ``squeeze``,
``expand_dims`` (int, tuple), ``broadcast_to``, ``stack`` and ``concatenate`` (negative
axes, ``axis=None``). Default-valued keywords (``out=None``, ``dtype=None``,
``keepdims=False``) are passed at random, axes positionally or by keyword.

Compared: (1) the program on NumPy arrays against the same program on wonderland Tensors,
step by step: the result is a Tensor, of NumPy's shape and dtype, with NumPy's values to
1e-12; NumPy's queries (``np.shape ndim size argmax allclose any count_nonzero``) give
NumPy's own result, of the same type, on the Tensor. (2) ``wl.grad`` of ``Σ_k
np.sum(v_k * R_k)`` over every variable (fixed random ``R_k``) against ``jax.grad`` of the
same program run with ``m = jax.numpy`` (float64), rtol 1e-9. Separately: float32 tensors
promote as NumPy 2 does (README, "Differences from PyTorch"), unsupported NumPy functions
and refused keywords (``out= dtype= where= initial=``) raise ``TypeError`` naming the
function and write nothing, and ``np.asarray`` of a tensor that requires grad gives its
values (and, under a transform, warns that no derivative flows).

Excluded, and why: inputs are continuous random draws (not a grid), and a gradient
comparison is skipped when the NumPy run came within 1e-6 of a kink (``abs`` at 0, ties
of ``maximum``/``minimum``/``max``/``min``/norm-inf, ``clip`` at a bound, ``mod``/``//``
at a jump, ``std``/norm at zero): there the subgradient is a convention (wonderland's is
PyTorch's, JAX's may differ), not a wrong number; the values are still compared. Values
are kept in ``[-1e4, 1e4]`` (a larger result is squashed by ``np.tanh``, a NumPy op
itself), ``exp`` is applied to inputs under 5, ``log``/``sqrt``/``power`` to positive
bases (``a * a + 0.5``), ``divide`` by ``b * b + 0.5``, so that no step is NaN/inf. A
step NumPy refuses (misaligned shapes) must be refused by wonderland too and is then
dropped. ``np.clip(t, None, None)`` (NumPy 2.4 returns ``t``; wonderland refuses it with
a ValueError), vector norms with negative ``ord`` and matrix norms other than ``'fro'``
(documented refusals) are not drawn in the programs; ``test_documented_refusals`` checks
that they are refused, not answered wrongly.

Found (fixed since): ``np.maximum``/``np.minimum`` of a Python number on the left and a
tensor holding a NumPy scalar (any full reduction: ``np.maximum(0, np.sum(t))``, a hinge)
raised ``AttributeError`` inside wonderland
(``test_maximum_of_a_number_and_a_reduced_tensor``). No silent wrong value or gradient
was found.
"""

from __future__ import annotations

import random
import warnings

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, given, note, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import wonderland as wl  # noqa: E402

BOUND = 1e4  # a result beyond it is squashed with np.tanh
KINK = 1e-6  # the NumPy run came this close to a kink: no gradient comparison
RTOL, ATOL = 1e-12, 1e-12  # values, against NumPy
GRAD_RTOL, GRAD_ATOL = 1e-9, 1e-10  # gradients, against JAX

SHAPES = [(), (1,), (3,), (4,), (2, 3), (3, 2), (1, 3), (3, 1), (2, 2), (2, 1, 3), (2, 3, 2)]
REDUCTIONS = ["sum", "mean", "max", "min", "amax", "amin", "prod", "add.reduce"]
UNARY = ["abs", "negative", "square", "sqrt", "exp", "log", "tanh", "sin", "cos", "sign",
         "floor", "ceil", "rint", "round", "power_num", "power_pos", "rpow", "op_neg",
         "op_abs", "positive"]
BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "op_add", "op_sub",
          "op_mul", "op_div", "power_arr", "mod", "floor_divide"]
OPS = (["reduce"] * 6 + ["spread"] * 3 + ["unary"] * 6 + ["binary"] * 8
       + ["clip", "clip", "where3", "where3", "where1", "dot", "matmul", "outer", "inner",
          "einsum", "norm", "norm", "reshape", "ravel", "transpose", "swapaxes", "squeeze",
          "expand_dims", "broadcast_to", "stack", "concatenate"])


class Tape:
    """Data-dependent decisions: made in the NumPy run, replayed in the others, so that
    every run takes the same path (and JAX's tracers are never asked for a value)."""

    def __init__(self) -> None:
        self.items: list = []
        self.recording = True
        self.pos = 0
        self.kink = np.inf  # the smallest distance to a kink met by the NumPy run

    def decide(self, make):
        if self.recording:
            self.items.append(make())
            return self.items[-1]
        self.pos += 1
        return self.items[self.pos - 1]

    def replay(self) -> Tape:
        self.recording, self.pos = False, 0
        return self

    def near(self, distance, scale=1.0) -> None:
        if self.recording:
            d = np.asarray(distance, dtype=float)
            if d.size:
                self.kink = min(self.kink, float(np.min(d)) / max(1.0, scale))


def _vals(v) -> np.ndarray:
    return np.asarray(v.detach().numpy() if isinstance(v, wl.Tensor) else v, dtype=float)


def _top2_gap(a: np.ndarray, axis) -> np.ndarray:
    """Smallest gap between the largest two entries of each reduced group (ties of max)."""
    a = np.asarray(a, dtype=float)
    axes = tuple(range(a.ndim)) if axis is None else (
        (axis,) if isinstance(axis, int) else tuple(axis))
    axes = tuple(ax % a.ndim for ax in axes) if a.ndim else ()
    if not axes:
        return np.array([np.inf])
    keep = [i for i in range(a.ndim) if i not in axes]
    flat = np.transpose(a, keep + list(axes)).reshape(
        int(np.prod([a.shape[i] for i in keep])), -1)
    if flat.shape[1] < 2:
        return np.array([np.inf])
    s = np.sort(flat, axis=1)
    return np.concatenate([s[:, -1] - s[:, -2], s[:, 1] - s[:, 0]])


def _axis(r: random.Random, ndim: int, allow_empty: bool = True):
    """None, an int (maybe negative) or a tuple of distinct axes (maybe ``()``)."""
    kinds = ["none"] + (["int", "int", "tuple", "tuple"] if ndim else []) + (
        ["empty"] if allow_empty else [])
    kind = r.choice(kinds)
    if kind == "none":
        return None
    if kind == "empty":
        return ()
    if kind == "int":
        return r.randrange(-ndim, ndim)
    axes = r.sample(range(ndim), r.randint(1, ndim))
    return tuple(ax - ndim if r.random() < 0.5 else ax for ax in axes)


def _reduced_size(shape, axis) -> int:
    if axis is None:
        return int(np.prod(shape))
    axes = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[ax] for ax in axes]))


def _const_like(rng: np.random.Generator, r: random.Random, shape) -> np.ndarray:
    """A NumPy array that broadcasts against ``shape``: the shape, a trailing part of it,
    or the shape with some axes 1."""
    kind = r.choice(["same", "suffix", "ones"])
    if kind == "suffix" and shape:
        shape = shape[r.randrange(len(shape) + 1):]
    elif kind == "ones":
        shape = tuple(1 if r.random() < 0.5 else n for n in shape)
    return rng.uniform(-2.0, 2.0, size=shape)


def _other(m, env, r, rng, a, positive=False):
    """A second operand for ``a``: a variable, an array, a number, ``np.float64``, 0-d."""
    shape = np.shape(a)
    kind = r.choice(["var", "var", "array", "array", "float", "int", "f64", "zerod"])
    if kind == "var":
        fits = [v for v in env if _broadcasts(np.shape(v), shape)]
        b = r.choice(fits)
        return m.add(m.multiply(b, b), 0.5) if positive else b
    if kind == "array":
        c = _const_like(rng, r, shape)
    elif kind == "float":
        return r.choice([0.5, 1.5, 2.0, 0.75]) * (1 if positive else r.choice([-1, 1]))
    elif kind == "int":
        return r.choice([1, 2, 3]) * (1 if positive else r.choice([-1, 1]))
    elif kind == "f64":
        return np.float64(r.choice([0.5, 1.25, 2.0]) * (1 if positive else r.choice([-1, 1])))
    else:
        c = np.array(r.choice([0.5, -1.25, 2.0]))
    return np.abs(c) + 0.5 if positive else c


def _broadcasts(s1, s2) -> bool:
    try:
        return np.broadcast_shapes(s1, s2) == tuple(s2)
    except ValueError:
        return False


def _swap(m, r, a, b, f):
    """``f(a, b)`` or ``f(b, a)``; a NumPy constant on the left of a JAX tracer is made a
    jnp array (NumPy would ask the tracer for its values)."""
    if r.random() < 0.5:
        return f(a, b)
    if m is jnp and isinstance(b, (np.ndarray, np.generic)):
        b = jnp.asarray(b)
    return f(b, a)


def _defaults(m, r, kwargs: dict, *names) -> dict:
    """Default-valued NumPy keywords, passed at random (NumPy only: JAX's differ)."""
    for name in names:
        if r.random() < 0.3 and m is np:
            kwargs[name] = {"out": None, "dtype": None, "keepdims": False}[name]
    return kwargs


def step(m, env: list, r: random.Random, tape: Tape):
    """One NumPy step on the variables ``env``, with ``m`` NumPy (arrays or Tensors) or
    ``jax.numpy``; returns the new variable."""
    rng = np.random.default_rng(r.randrange(2**32))
    op = r.choice(OPS)
    a = r.choice(env)
    shape, ndim = np.shape(a), np.ndim(a)
    va = None if not tape.recording else _vals(a)

    if op == "reduce":
        name = r.choice(REDUCTIONS)
        axis = _axis(r, ndim)
        kw = {"keepdims": r.random() < 0.4}
        if name == "add.reduce":
            if m is jnp:
                return jnp.sum(a, axis=axis, **kw)
            return np.add.reduce(a, axis=axis, **kw)
        if name in ("max", "min", "amax", "amin"):
            if va is not None:
                tape.near(_top2_gap(va, axis), np.max(np.abs(va), initial=1.0))
        else:
            _defaults(m, r, kw, "out", "dtype")
        fn = getattr(m, name)
        if r.random() < 0.3:
            return fn(a, axis, **kw)
        return fn(a, axis=axis, **kw)

    if op == "spread":
        axis = _axis(r, ndim)
        n = _reduced_size(shape, axis)
        ddof = r.choice([0, 1, 0.5]) if n >= 2 else 0
        name = r.choice(["var", "std"])
        kw = {"keepdims": r.random() < 0.4}
        if r.random() < 0.3 and m is np:
            kw["correction"] = ddof
        else:
            kw["ddof"] = ddof
        if va is not None and name == "std":
            tape.near(np.var(va, axis=axis), np.max(va * va, initial=1.0))
        return getattr(m, name)(a, axis=axis, **kw)

    if op == "unary":
        name = r.choice(UNARY)
        if name in ("abs", "op_abs") and va is not None:
            tape.near(np.abs(va), np.max(np.abs(va), initial=1.0))
        pos = m.add(m.multiply(a, a), 0.5)
        if name == "op_neg":
            return -a
        if name == "op_abs":
            return abs(a)
        if name == "sqrt":
            return m.sqrt(m.add(m.square(a), 1.0))
        if name == "log":
            return m.log(pos)
        if name == "exp":
            small = tape.decide(lambda: bool(np.all(va < 5)))
            return m.exp(a) if small else m.exp(m.tanh(a))
        if name == "round":
            return m.round(a, r.choice([0, 1, 2, -1]))
        if name == "power_num":
            return m.power(a, r.choice([2, 3, 2.0, 1]))
        if name == "power_pos":
            p = r.choice([0.5, -1.0, 1.5, 2.5])
            return pos ** p if r.random() < 0.5 else m.power(pos, p)
        if name == "rpow":
            base = r.choice([2.0, np.float64(1.5), np.array(0.5), 3])
            return _swap(m, r, m.tanh(a), base, lambda u, v: v ** u)
        return getattr(m, name)(a)

    if op == "binary":
        name = r.choice(BINARY)
        if name in ("divide", "op_div", "power_arr"):
            b = _other(m, env, r, rng, a, positive=True)
            if name == "power_arr":  # a positive base to a bounded exponent
                expo = m.tanh(a)
                return m.power(b, expo) if r.random() < 0.5 else b ** expo
            return _swap(m, r, a, b, m.divide if name == "divide" else (lambda u, v: u / v))
        if name in ("mod", "floor_divide"):
            b = np.float64(r.choice([0.3, -0.7, 1.1])) if r.random() < 0.5 else (
                np.sign(c := _const_like(rng, r, shape)) * (np.abs(c) + 0.3))
            if va is not None:
                q = va / np.asarray(b)
                tape.near(np.abs(q - np.round(q)), np.max(np.abs(q), initial=1.0))
            fn = m.mod if name == "mod" else m.floor_divide
            return fn(a, b) if r.random() < 0.5 else (a % b if name == "mod" else a // b)
        b = _other(m, env, r, rng, a)
        if name in ("maximum", "minimum") and va is not None:
            tape.near(np.abs(va - _vals(b)), np.max(np.abs(va), initial=1.0))
        fn = {"op_add": lambda u, v: u + v, "op_sub": lambda u, v: u - v,
              "op_mul": lambda u, v: u * v}.get(name) or getattr(m, name)
        return _swap(m, r, a, b, fn)

    if op == "clip":
        lo, hi = r.choice([(-0.5, 1.0), (None, 0.5), (0.0, None), (1.0, -1.0), (0.25, 0.25),
                           ("array", None), ("array", "array"), (None, "array")])
        lo = _const_like(rng, r, shape) if lo == "array" else lo
        hi = np.abs(_const_like(rng, r, shape)) if hi == "array" else hi
        if va is not None:
            for bound in (lo, hi):
                if bound is not None:
                    tape.near(np.abs(va - bound), np.max(np.abs(va), initial=1.0))
        if r.random() < 0.5 or (lo is None and hi is None):
            return m.clip(a, lo, hi)
        kw = {k: v for k, v in (("min", lo), ("max", hi)) if v is not None}
        return m.clip(a, **kw)

    if op == "where3":
        cond_kind = r.choice(["self", "other", "const", "ufunc"])
        if cond_kind == "self":
            cond = a > 0
        elif cond_kind == "ufunc":
            cond = m.greater(a, 0.25)
        elif cond_kind == "other":
            cond = r.choice([v for v in env if _broadcasts(np.shape(v), shape)]) < 0
        else:
            cond = rng.uniform(size=shape) < 0.5
        b = _other(m, env, r, rng, a)
        return m.where(cond, a, b) if r.random() < 0.5 else m.where(cond, b, a)

    if op == "where1":
        if not ndim:
            return m.negative(a)
        positive, idx = tape.decide(
            lambda: (True, np.where(va > 0)) if np.any(va > 0) else (False, np.where(va == va)))
        if m is np and isinstance(a, wl.Tensor):  # NumPy's indices, as NumPy arrays
            got = np.where(a > 0) if positive else np.where(a == a)
            assert type(got) is tuple and all(type(g) is np.ndarray for g in got), got
            np.testing.assert_array_equal(np.stack(got), np.stack(idx))
        return a[idx]

    if op in ("dot", "matmul", "outer", "inner", "einsum"):
        return _product(m, op, a, shape, r, rng, env)

    if op == "norm":
        if ndim == 0:
            if va is not None:
                tape.near(np.abs(va))
            return m.linalg.norm(a)
        if ndim == 2 and r.random() < 0.3:
            axis = r.choice([None, (0, 1), (1, 0), (-1, 0)])
            ordr = r.choice([None, "fro"])
            if va is not None:
                tape.near(np.sqrt(np.sum(va * va)))
            return m.linalg.norm(a, ordr, axis=axis, keepdims=r.random() < 0.4)
        axis = r.randrange(-ndim, ndim) if ndim > 1 or r.random() < 0.5 else None
        ordr = r.choice([None, 1, 2, 3, 0.5, 0, np.inf, -np.inf])
        if va is not None:
            if ordr != 0:  # |x| at 0 (also a norm of zeros, where JAX's gradient is NaN)
                tape.near(np.abs(va), np.max(np.abs(va), initial=1.0))
            if ordr in (np.inf, -np.inf):
                tape.near(_top2_gap(np.abs(va), axis), np.max(np.abs(va), initial=1.0))
        return m.linalg.norm(a, ord=ordr, axis=axis, keepdims=r.random() < 0.4)

    return _shape_op(m, op, a, shape, r, rng, env)


def _product(m, op, a, shape, r, rng, env):
    ndim = len(shape)
    if op == "outer":
        b = r.choice(env + [rng.uniform(-1, 1, size=r.choice([(2,), (3,), (2, 2), ()]))])
        return _swap(m, r, a, b, m.outer)
    if op == "inner":
        if ndim == 0:
            return m.inner(a, r.choice(env))
        b = rng.uniform(-1, 1, size=r.choice([(), (2,), (3, 2)]) + shape[-1:])
        same = [v for v in env if np.shape(v)[-1:] == shape[-1:]]
        return _swap(m, r, a, r.choice([b] + same), m.inner)
    if op == "einsum":
        if ndim == 1:
            spec = r.choice(["i->", "i,i->", "i,j->ij", "i->i", "i,i"])
        elif ndim == 2:
            spec = r.choice(["ij->ji", "ij->", "ij->j", "ij,ij->i", "ij,kj->ik", "ij,j->i",
                             "...j->...", "ji", "ij,ij"])
        elif ndim == 3:
            spec = r.choice(["ijk->kji", "ijk,ijk->", "bij,bkj->bik", "ijk->j"])
        else:
            return m.einsum(",->", a, a)
        if spec == "ij,j->i":
            return m.einsum(spec, a, rng.uniform(-1, 1, size=shape[1:]))
        operands = [a] * (spec.split("->")[0].count(",") + 1)
        if len(operands) == 2 and r.random() < 0.5:  # a foreign operand of the same shape
            operands[1] = rng.uniform(-1, 1, size=shape)
        return m.einsum(spec, *operands)
    # dot / matmul: a second operand aligned with a's last axis
    if ndim == 0:
        return m.dot(a, r.choice(env)) if op == "dot" else m.multiply(a, 2.0)
    k = shape[-1]
    left = r.random() < 0.5
    if op == "dot":
        bshape = r.choice([(k,), (k, 2), (2, k, 3), ()])
        b = rng.uniform(-1, 1, size=bshape)
        same = [v for v in env if np.shape(v) == shape]
        if same and r.random() < 0.3 and ndim <= 2:
            b = m.transpose(r.choice(same)) if ndim == 2 else r.choice(same)
        if left and ndim <= 2:  # c . a: c's last axis against a's first
            return m.dot(rng.uniform(-1, 1, size=r.choice([(), (2,)]) + (shape[0],)), a)
        return m.dot(a, b)
    bshape = r.choice([(k,), (k, 2), (2, k, 3) if ndim <= 3 else (k,), (1, k, 2)])
    b = rng.uniform(-1, 1, size=bshape)
    if r.random() < 0.5:
        return m.matmul(a, b)
    return a @ b


def _shape_op(m, op, a, shape, r, rng, env):
    ndim = len(shape)
    size = int(np.prod(shape))
    if op == "reshape":
        kind = r.choice(["flat", "int", "split", "kw", "zerod"])
        if kind == "flat":
            return m.reshape(a, -1) if r.random() < 0.5 else m.reshape(a, (-1,))
        if kind == "int":
            return m.reshape(a, size)
        if kind == "zerod" and size == 1:
            return m.reshape(a, ())
        first = r.choice([d for d in range(1, size + 1) if size % d == 0])
        target = r.choice([(first, -1), (-1, first), (first, 1, -1)])
        if kind == "kw" and m is np:
            return np.reshape(a, shape=target)
        return m.reshape(a, target)
    if op == "ravel":
        return m.ravel(a)
    if op == "transpose":
        if ndim < 2 or r.random() < 0.3:
            return m.transpose(a)
        perm = [ax - ndim if r.random() < 0.5 else ax for ax in r.sample(range(ndim), ndim)]
        return m.transpose(a, perm if r.random() < 0.5 else tuple(perm))
    if op == "swapaxes":
        if ndim == 0:
            return m.negative(a)
        return m.swapaxes(a, r.randrange(-ndim, ndim), r.randrange(-ndim, ndim))
    if op == "squeeze":
        ones = [i for i, n in enumerate(shape) if n == 1]
        if not ones or r.random() < 0.3:
            return m.squeeze(a)
        axes = tuple(i - ndim if r.random() < 0.5 else i for i in r.sample(ones, len(ones)))
        return m.squeeze(a, axes[0] if len(axes) == 1 and r.random() < 0.5 else axes)
    if op == "expand_dims":
        if r.random() < 0.5:
            return m.expand_dims(a, r.randrange(-ndim - 1, ndim + 1))
        n = r.randint(1, 2)
        axes = r.sample(range(ndim + n), n)
        return m.expand_dims(a, tuple(ax - ndim - n if r.random() < 0.5 else ax for ax in axes))
    if op == "broadcast_to":
        return m.broadcast_to(a, (2,) + shape)
    if op == "stack":
        b = r.choice([v for v in env if np.shape(v) == shape] + [rng.uniform(-1, 1, shape)])
        axis = r.randrange(-ndim - 1, ndim + 1)
        parts = [a, b] if r.random() < 0.5 else [b, a, a]
        return m.stack(parts, axis=axis) if r.random() < 0.5 else m.stack(tuple(parts), axis)
    # concatenate
    if ndim == 0:
        return m.concatenate([m.reshape(a, (1,)), np.ones(2)])
    axis = r.choice([None, r.randrange(-ndim, ndim)])
    if axis is None:
        b = rng.uniform(-1, 1, size=r.choice([(2,), (1, 3), ()]) if r.random() < 0.5 else (3,))
        if np.ndim(b) == 0:
            b = np.atleast_1d(b)
    else:
        bshape = list(shape)
        bshape[axis] = r.choice([1, 2])
        same = [v for v in env if np.ndim(v) == ndim and all(
            n == s for i, (n, s) in enumerate(zip(np.shape(v), shape)) if i != axis % ndim)]
        b = r.choice(same + [rng.uniform(-1, 1, size=tuple(bshape))])
    parts = [a, b] if r.random() < 0.5 else [b, a]
    return m.concatenate(parts, axis=axis) if r.random() < 0.5 else m.concatenate(parts, axis)


def run(m, inputs: list, seeds: list[int], tape: Tape, record_errors: list | None = None):
    """The program: one step per seed; returns every variable (inputs first)."""
    env = list(inputs)
    for i, seed in enumerate(seeds):
        r = random.Random(seed)
        fails = tape.decide(lambda: None)  # placeholder, filled below when recording
        if tape.recording:
            mark = len(tape.items)
            try:
                with np.errstate(divide="raise", over="raise", invalid="raise"):
                    out = step(m, env, r, tape)
                big = not np.all(np.isfinite(out)) or np.max(np.abs(out), initial=0) > BOUND
            except (ValueError, TypeError, IndexError, FloatingPointError) as e:
                del tape.items[mark:]  # the step's own decisions are not replayed
                tape.items[mark - 1] = f"{type(e).__name__}: {e}"
                if record_errors is not None:
                    record_errors.append((i, tape.items[mark - 1]))
                continue
            tape.items[mark - 1] = big
        else:
            if isinstance(fails, str):
                if (m is np and any(isinstance(v, wl.Tensor) for v in env)
                        and not fails.startswith("FloatingPointError")):
                    with pytest.raises(Exception):  # noqa: B017 - NumPy refused the step too
                        step(m, env, r, tape.__class__())
                continue
            out = step(m, env, r, tape)
            big = fails
        if big:
            out = m.tanh(out)
        env.append(out)
    return env


def _weights(env: list, n_inputs: int) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [rng.uniform(-1, 1, size=np.shape(v)) for v in env[n_inputs:]]


def _loss(m, inputs, seeds, tape, weights):
    env = run(m, list(inputs), seeds, tape.replay())
    total = 0.0
    for v, w in zip(env[len(inputs):], weights):
        total = total + m.sum(v * w)
    return total


def _check_same(step_no: int, ref, got) -> None:
    assert isinstance(got, wl.Tensor), f"step {step_no}: {type(got).__name__}, not a Tensor"
    ref = np.asarray(ref)
    assert got.shape == ref.shape, f"step {step_no}: shape {got.shape} != NumPy's {ref.shape}"
    assert got.dtype == ref.dtype, f"step {step_no}: dtype {got.dtype} != NumPy's {ref.dtype}"
    values = got.detach().numpy()
    scale = 1.0 + np.max(np.abs(ref), initial=0.0) if ref.dtype.kind == "f" else 0.0
    np.testing.assert_allclose(values, ref, rtol=RTOL, atol=ATOL * scale, equal_nan=True,
                               err_msg=f"step {step_no}")
    # queries: NumPy's own result, computed on plain arrays
    for query in (np.shape, np.ndim, np.size, np.count_nonzero):
        q_ref, q_got = query(ref), query(got)
        assert type(q_got) is type(q_ref) and q_got == q_ref, (query, q_got, q_ref)
    assert np.allclose(got, ref, rtol=1e-12) is np.allclose(ref, ref, rtol=1e-12)
    assert np.any(got > 0) == np.any(ref > 0)
    if ref.size and ref.dtype.kind == "f" and np.all(np.isfinite(ref)):
        gap = _top2_gap(ref, None)
        if np.min(gap) > 1e-9 * (1 + np.max(np.abs(ref))):  # no near-tie: argmax agrees
            axis = -1 if ref.ndim else None
            assert np.array_equal(np.argmax(got, axis=axis), np.argmax(ref, axis=axis))


def check_program(shapes, seeds, value_seed, stats=None, report=note):
    rng = np.random.default_rng(value_seed)
    xs = [rng.uniform(-2.0, 2.0, size=s) for s in shapes]
    tape, errors = Tape(), []
    env_np = run(np, xs, seeds, tape, errors)
    report(f"shapes {shapes}, seeds {seeds}, value_seed {value_seed}, refused steps {errors}")
    ts = [wl.tensor(x, requires_grad=True) for x in xs]
    env_wl = run(np, ts, seeds, tape.replay())
    assert len(env_wl) == len(env_np)
    for i, (ref, got) in enumerate(zip(env_np, env_wl)):
        _check_same(i, ref, got)
    if stats is not None:
        stats["steps"] += len(env_np) - len(xs)
    if tape.kink < KINK or len(env_np) == len(xs):
        return
    weights = _weights(env_np, len(xs))
    argnums = tuple(range(len(xs)))
    g_wl = wl.grad(lambda *v: _loss(np, v, seeds, tape, weights), argnums=argnums)(*ts)
    g_jax = jax.jit(jax.grad(lambda *v: _loss(jnp, v, seeds, tape, weights), argnums=argnums))(
        *[jnp.asarray(x) for x in xs])
    for k, (gw, gj) in enumerate(zip(g_wl, g_jax)):
        gj = np.asarray(gj)
        scale = 1.0 + np.max(np.abs(gj), initial=0.0)
        np.testing.assert_allclose(_vals(gw), gj, rtol=GRAD_RTOL, atol=GRAD_ATOL * scale,
                                   err_msg=f"gradient of input {k}")
    if stats is not None:
        stats["grads"] += 1


programs = st.tuples(
    st.lists(st.sampled_from(SHAPES), min_size=1, max_size=2),
    st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=6),
    st.integers(0, 2**32 - 1),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(programs)
def test_numpy_programs_match_numpy_values_and_jax_gradients(program):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a cut of the gradient (np.asarray) would warn
        check_program(*program)


# ----------------------------------------------------------------------- findings


def test_maximum_of_a_number_and_a_reduced_tensor():
    """Found by this fuzzer: a NumPy scalar (a full reduction's value) is a Python float
    too, and was taken for the number beside another library's array (AttributeError)."""
    t = wl.tensor([0.5, 2.0], requires_grad=True)
    # NumPy: np.maximum(0, np.sum([0.5, 2.0])) == 2.5; a hinge loss, max(0, loss)
    assert np.maximum(0, np.sum(t)).item() == 2.5
    assert np.minimum(3.0, np.var(t)).item() == np.minimum(3.0, np.var([0.5, 2.0]))
    np.testing.assert_array_equal(wl.grad(lambda v: np.maximum(0, np.sum(v * v)))(t).numpy(),
                                  [1.0, 4.0])


# ----------------------------------------------------------------------- dtypes

F32_OPERANDS = {
    "python float": lambda: 2.5,
    "python int": lambda: 3,
    "np.float64": lambda: np.float64(2.5),
    "np.float32": lambda: np.float32(2.5),
    "0-d float64 array": lambda: np.array(2.5),
    "float64 array": lambda: np.full(3, 2.5),
    "float32 array": lambda: np.full(3, 2.5, dtype=np.float32),
    "int64 array": lambda: np.arange(3),
}
F32_OPS = {
    "add": np.add, "multiply": np.multiply, "maximum": np.maximum, "divide": np.divide,
    "op_sub": lambda u, v: u - v, "op_pow": lambda u, v: u ** v,
    "where": lambda u, v: np.where(np.asarray([True, False, True]), u, v),
    "dot": lambda u, v: np.dot(u, v) if np.ndim(v) else np.dot(u, np.full(3, v)),
}


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(sorted(F32_OPERANDS)), st.sampled_from(sorted(F32_OPS)),
       st.booleans())
def test_float32_promotion_follows_numpy(operand, op, left):
    """A float32 tensor with each kind of operand: NumPy 2's result dtype and values."""
    x = np.array([0.5, 1.25, 2.0], dtype=np.float32)
    other, fn = F32_OPERANDS[operand](), F32_OPS[op]
    if op == "dot" and operand == "int64 array":
        other = np.full(3, 2.5)
    ref = fn(other, x) if left else fn(x, other)
    t = wl.tensor(x)
    got = fn(other, t) if left else fn(t, other)
    assert isinstance(got, wl.Tensor)
    assert got.dtype == np.asarray(ref).dtype, (operand, op, left, got.dtype, ref.dtype)
    np.testing.assert_allclose(got.numpy(), ref, rtol=1e-7)


# ----------------------------------------------------------------------- refusals

UNSUPPORTED = {
    "numpy.cumsum": lambda t: np.cumsum(t), "numpy.diff": lambda t: np.diff(t),
    "numpy.cumprod": lambda t: np.cumprod(t), "numpy.flip": lambda t: np.flip(t),
    "numpy.log10": lambda t: np.log10(t), "numpy.sinh": lambda t: np.sinh(t),
    "numpy.sort": lambda t: np.sort(t), "numpy.median": lambda t: np.median(t),
    "numpy.tile": lambda t: np.tile(t, 2), "numpy.repeat": lambda t: np.repeat(t, 2),
    "numpy.roll": lambda t: np.roll(t, 1), "numpy.trace": lambda t: np.trace(t),
    "numpy.tensordot": lambda t: np.tensordot(t, t), "numpy.copy": lambda t: np.copy(t),
    "numpy.average": lambda t: np.average(t), "numpy.nansum": lambda t: np.nansum(t),
    "numpy.linalg.det": lambda t: np.linalg.det(t), "numpy.hypot": lambda t: np.hypot(t, t),
    "numpy.arctan2": lambda t: np.arctan2(t, t), "numpy.expm1": lambda t: np.expm1(t),
    "numpy.maximum.reduce": lambda t: np.maximum.reduce(t),
    "numpy.add.accumulate": lambda t: np.add.accumulate(t),
    "numpy.multiply.outer": lambda t: np.multiply.outer(t, t),
    "numpy.ptp": lambda t: np.ptp(t), "numpy.percentile": lambda t: np.percentile(t, 50),
    "numpy.pad": lambda t: np.pad(t, 1), "numpy.kron": lambda t: np.kron(t, t),
    "numpy.vstack": lambda t: np.vstack([t, t]), "numpy.isinf": lambda t: np.isinf(t),
    "numpy.fabs": lambda t: np.fabs(t), "numpy.cbrt": lambda t: np.cbrt(t),
    "numpy.arcsin": lambda t: np.arcsin(t * 0.1), "numpy.fmax": lambda t: np.fmax(t, 0.0),
    "numpy.nanmax": lambda t: np.nanmax(t), "numpy.cov": lambda t: np.cov(t),
    "numpy.sum": lambda t: np.sum(t, dtype=np.float32),
    "numpy.mean": lambda t: np.mean(t, where=np.asarray(t) > 0),
    "numpy.max": lambda t: np.max(t, initial=0.0),
    "numpy.std": lambda t: np.std(t, dtype=np.float32),
    "numpy.reshape": lambda t: np.reshape(t, -1, order="F"),
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_numpy_function_raises_typeerror_naming_it(name):
    t = wl.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    with pytest.raises(TypeError, match=name.replace(".", r"\.")):
        UNSUPPORTED[name](t)
    # under a transform too: never a detached result
    with pytest.raises(TypeError, match=name.replace(".", r"\.")):
        wl.grad(lambda v: np.sum(UNSUPPORTED[name](v)))(t)


@pytest.mark.parametrize("call", [
    lambda t, o: np.add(t, 1.0, out=o), lambda t, o: np.sin(t, out=o),
    lambda t, o: np.sum(t, axis=0, out=o), lambda t, o: np.maximum(t, 0.0, out=o),
    lambda t, o: np.clip(t, 0, 1, out=o), lambda t, o: np.mean(t, axis=0, out=o),
    lambda t, o: np.multiply(o, t, out=o),
])
def test_out_is_refused_and_writes_nothing(call):
    t = wl.tensor([0.5, -1.0], requires_grad=True)
    out = np.full(2, 7.0) if call.__code__.co_names[-1] != "sum" else np.full(2, 7.0)
    with pytest.raises(TypeError, match="out"):
        call(t, out)
    np.testing.assert_array_equal(out, [7.0, 7.0])
    with pytest.raises(TypeError, match="out"):  # a Tensor as out: refused too
        np.add(np.ones(2), np.ones(2), out=(wl.zeros(2),))


def test_documented_refusals():
    """Not drawn in the programs: clear errors, never a wrong number."""
    t = wl.tensor([[0.5, -1.0], [2.0, 0.25]])
    with pytest.raises(TypeError, match="matrix norm"):
        np.linalg.norm(t, 2)
    with pytest.raises(TypeError, match="matrix norm"):
        np.linalg.norm(t, 1)
    with pytest.raises(ValueError, match="ord"):
        np.linalg.norm(t[0], -1)
    with pytest.raises(ValueError, match="min and max"):
        np.clip(t, None, None)


# ----------------------------------------------------------------------- conversions


def test_asarray_of_a_tensor_requiring_grad_gives_its_values():
    t = wl.tensor([1.0, -2.0, 3.0], requires_grad=True)
    a = np.asarray(t)
    assert type(a) is np.ndarray and a.dtype == np.float64
    np.testing.assert_array_equal(a, [1.0, -2.0, 3.0])
    assert np.shares_memory(a, t.detach().numpy())  # README: the same memory
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    with pytest.warns(UserWarning, match="no derivative"):  # under a transform: a cut, said
        g = wl.grad(lambda v: np.sum(v * np.asarray(v)))(t)
    np.testing.assert_array_equal(_vals(g), [1.0, -2.0, 3.0])  # the constant factor only
    with pytest.warns(UserWarning, match="no derivative"):  # a list of tensors: the same
        wl.grad(lambda v: np.sum(np.sum([v[0], v[1]]) * v))(t)


@given(st.sampled_from(SHAPES), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_queries_return_numpys_own_results(shape, seed):
    x = np.random.default_rng(seed).uniform(-1, 1, size=shape)
    t = wl.tensor(x, requires_grad=True)
    for query in (np.shape, np.ndim, np.size, np.argmax, np.argmin, np.any, np.all,
                  np.count_nonzero, np.flatnonzero, np.nonzero, np.argwhere, np.argsort):
        try:
            ref = query(x)
        except ValueError:  # NumPy refuses (nonzero of 0-d): so must the Tensor
            with pytest.raises(ValueError):
                query(t)
            continue
        got = query(t)
        assert type(got) is type(ref), (query, type(got), type(ref))
        if isinstance(ref, tuple):
            assert all(np.array_equal(g, r_) for g, r_ in zip(got, ref))
        else:
            assert np.array_equal(got, ref)
    if x.ndim == 0:
        return
    ref, got = np.where(x > 0), np.where(t > 0)
    assert type(got) is tuple and all(type(g) is np.ndarray for g in got)
    assert all(np.array_equal(g, r_) for g, r_ in zip(got, ref))
    assert np.size(t, -1) == np.size(x, -1)
    assert np.allclose(t, x) is np.allclose(x, x) and np.isclose(t, x).dtype == bool
