"""Every primitive of the oracle tests, compiled, equals eager; and random compositions.

For each function ``f`` of ``test_oracle_ops.py`` and ``test_second_order.py`` (on the
shapes and values their strategies draw), with ``L = sum(f(*x) * R)``:
``wl.compile(f)``, ``wl.compile(wl.value_and_grad(L))``, the compiled Hessian-vector
product ``grad(<grad L, S>)`` and the compiled ``jvp`` equal their eager runs to 1e-12
(float64). Hypothesis also builds random compositions of primitives (property tests).
"""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import test_oracle_ops as O
import test_second_order as S
import wonderland as wl
from test_compile_transforms import assert_same

SETTINGS = settings(max_examples=12, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def compiled_equals_eager(f_wl, *arrays, order=2, what=""):
    """``f``, the gradient of ``sum(f * R)``, a Hessian-vector product and a jvp: compiled
    against eager."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    n = len(arrays)
    out = f_wl(*[wl.tensor(a) for a in arrays])
    R = O.weights(tuple(out.shape))
    label = f"{what} shapes {[a.shape for a in arrays]}"

    def loss(*xs):
        return (f_wl(*xs) * wl.tensor(R)).sum()

    argnums = tuple(range(n))
    first = wl.value_and_grad(loss, argnums=argnums)
    cases = [("value", f_wl, arrays), ("value_and_grad", first, arrays)]
    directions = [np.random.default_rng(7 + i).standard_normal(a.shape)
                  for i, a in enumerate(arrays)]
    if order >= 2:
        def hvp(*xs_and_s):
            xs, s = xs_and_s[:n], xs_and_s[n:]
            g = wl.grad(loss, argnums=argnums)
            return wl.grad(lambda *ys: sum((gi * si).sum() for gi, si in zip(g(*ys), s)),
                           argnums=argnums)(*xs)

        cases.append(("hvp", hvp, [*arrays, *directions]))
    cases.append(("jvp", lambda *z: wl.jvp(f_wl, z[:n], z[n:]), [*arrays, *directions]))
    for name, fn, args in cases:
        want = fn(*[wl.tensor(a) for a in args])
        got = wl.compile(fn)(*args)
        assert_same(got, want, f"{label}: {name}")


# ----------------------------------------------------------------------- elementwise


@pytest.mark.parametrize("name", sorted(O.UNARY))
@SETTINGS
@given(data=st.data())
def test_unary(name, data):
    f_wl, _, elements = O.UNARY[name]
    x = O.draw_array(data, data.draw(O.SHAPES, label="shape"), elements)
    compiled_equals_eager(f_wl, x, what=name)


@pytest.mark.parametrize("name", O.METHODS)
def test_unary_methods(name):
    x = np.array([[0.3, 0.7], [1.2, 0.4]])
    compiled_equals_eager(lambda x: getattr(x, name)(), x, what=name)


@pytest.mark.parametrize("name", sorted(O.BINARY))
@SETTINGS
@given(data=st.data())
def test_binary_broadcast(name, data):
    op, ea, eb = O.BINARY[name]
    sa, sb = data.draw(O.TWO_SHAPES, label="shapes").input_shapes
    compiled_equals_eager(op, O.draw_array(data, sa, ea), O.draw_array(data, sb, eb),
                          what=name)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@SETTINGS
@given(data=st.data())
def test_maximum_minimum(name, data):
    sa, sb = data.draw(O.TWO_SHAPES, label="shapes").input_shapes
    scale = data.draw(O.floats(0.2, 1.0), label="scale")
    a = O.draw_grid(data, sa, 0.25, scale)
    b = O.draw_grid(data, sb, 0.75, scale)
    compiled_equals_eager(getattr(wl, name), a, b, what=name)
    compiled_equals_eager(lambda a: getattr(wl, name)(a, 0.1), a, what=f"{name} scalar")


@SETTINGS
@given(data=st.data())
def test_where_and_clip(data):
    sc, sa, sb = data.draw(O.THREE_SHAPES, label="shapes").input_shapes
    cond = data.draw(hnp.arrays(np.bool_, sc), label="cond")
    a = O.draw_array(data, sa, O.floats(-3, 3))
    b = O.draw_array(data, sb, O.floats(-3, 3))
    compiled_equals_eager(lambda a, b: wl.where(wl.tensor(cond), a, b), a, b, what="where")
    compiled_equals_eager(lambda a, b: wl.where(a > b, a * b, a - b), a, b, what="where >")
    compiled_equals_eager(lambda a: wl.clip(a, -1.0, 0.5), a, what="clip")
    compiled_equals_eager(lambda a, b: wl.clip(a, b - 1.0, b + 1.0), a, b, what="clip tensors")


def test_kinks():
    x = np.array([-1.0, 0.0, 0.0, 2.0])
    for f in (wl.abs, wl.relu, wl.sign, lambda x: wl.maximum(x, x[::-1]),
              lambda x: wl.clip(x, 0.0, 2.0), lambda x: wl.max(x), lambda x: wl.norm(x * 0.0),
              lambda x: wl.prod(x)):
        compiled_equals_eager(f, x, what="kink")


def test_mixed_with_numpy_operands():
    rng = np.random.default_rng(0)
    a, c = rng.standard_normal((3, 1)), rng.standard_normal((4,))
    compiled_equals_eager(lambda x: c * x + c - x / (c ** 2 + 1), a, what="ndarray op")
    compiled_equals_eager(lambda x: np.float64(2.0) * x - np.float64(1.0), a, what="np.float64")
    compiled_equals_eager(lambda x: np.sin(x) * np.exp(x), a, what="numpy ufuncs")


# ----------------------------------------------------------------------- reductions


@pytest.mark.parametrize("name", sorted(O.REDUCTIONS))
@SETTINGS
@given(data=st.data())
def test_reduction(name, data):
    f_wl, _, elements = O.REDUCTIONS[name]
    shape, dim, keep = data.draw(O.shape_dim(), label="shape, dim, keepdim")
    if elements == "grid":
        x = O.draw_grid(data, shape, 0.25, data.draw(O.floats(0.2, 1.0), label="scale"))
    else:
        x = O.draw_array(data, shape, elements)
    if name == "std" and O.reduced_count(shape, dim) < 2:
        return
    compiled_equals_eager(lambda x: f_wl(x, dim=dim, keepdim=keep), x, what=name)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax(name):
    x = np.random.default_rng(1).standard_normal((3, 4))
    for dim in (0, -1):
        compiled_equals_eager(lambda x: getattr(wl, name)(x, dim=dim), x, what=name)  # noqa: B023


@pytest.mark.parametrize("ord_", [1, 3, math.inf, -math.inf, "fro"])
def test_norm_orders(ord_):
    x = np.array([[0.5, -1.5, 2.0], [1.0, 0.25, -3.0]])
    compiled_equals_eager(lambda x: wl.norm(x, ord=ord_), x, what=f"norm {ord_}")


def test_counting_and_arg_reductions_follow_the_input():
    def f(x):
        return x * (x > 0).sum() + wl.isfinite(x).astype("float64") * wl.argmax(x, dim=0)

    x = np.array([[1.0, -2.0], [3.0, 0.5]])
    compiled_equals_eager(f, x, order=1, what="counts")


# ----------------------------------------------------------------------- shapes, indexing


def test_shapes():
    x = np.arange(24.0).reshape(2, 3, 4) / 10
    for f in (lambda x: wl.reshape(x, (4, 6)), lambda x: x.reshape(-1, 2),
              lambda x: wl.transpose(x, 0, 2), lambda x: wl.permute(x, (1, 2, 0)),
              lambda x: x.T, lambda x: wl.squeeze(x[:, :1]), lambda x: wl.unsqueeze(x, 1),
              lambda x: wl.flatten(x, 1), lambda x: wl.broadcast_to(x[:1], (5, 3, 4)),
              lambda x: wl.stack([x, x * 2], dim=1), lambda x: wl.cat([x, x[:1]], 0),
              lambda x: x.repeat(2, 1, 1), lambda x: x.masked_fill(x > 1.0, 0.0)):
        compiled_equals_eager(f, x, what="shape")


@pytest.mark.parametrize("index", [
    (0,), (slice(None), 1), (Ellipsis, 2), (None, 1, slice(0, 2)),
    (np.array([0, 1, 1]),), (slice(None), np.array([2, 0, 2])),
    (np.array([[0], [1]]), slice(None), np.array([1, 3])), (np.arange(24).reshape(2, 3, 4) > 9,),
], ids=str)
def test_indexing(index):
    x = np.arange(24.0).reshape(2, 3, 4) / 10
    compiled_equals_eager(lambda x: wl.sin(x[index]), x, what=f"x[{index}]")


def test_products_and_linear_algebra():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 2))
    compiled_equals_eager(lambda a, b: a @ b, a, b, what="matmul")
    compiled_equals_eager(lambda a, b: wl.einsum("bij,jk->bik", a, b), a, b, what="einsum")
    u, v = rng.standard_normal(3), rng.standard_normal(3)
    for f in (wl.dot, wl.inner, wl.outer):
        compiled_equals_eager(f, u, v, what=f.__name__)
    m = rng.standard_normal((3, 3))
    A = m + 6.0 * np.eye(3)
    compiled_equals_eager(wl.linalg.solve, A, rng.standard_normal((3, 2)), what="solve")
    compiled_equals_eager(wl.linalg.solve, A, rng.standard_normal(3), what="solve vector")
    compiled_equals_eager(wl.linalg.inv, A, what="inv")
    compiled_equals_eager(lambda a: wl.linalg.cholesky((a + a.T) * 0.5), m @ m.T + 3 * np.eye(3),
                          what="cholesky")


def test_losses():
    rng = np.random.default_rng(4)
    p, y = rng.standard_normal(5), rng.standard_normal(5)
    for loss in (wl.losses.squared, wl.losses.absolute, wl.losses.huber,
                 wl.losses.binary_cross_entropy_with_logits):
        target = (y > 0).astype(float) if "logits" in loss.__name__ else y
        compiled_equals_eager(lambda p: loss(p, target), p, what=loss.__name__)  # noqa: B023


# ----------------------------------------------------------------------- second order


@pytest.mark.parametrize("name", sorted(S.UNARY))
@settings(SETTINGS, max_examples=8)
@given(data=st.data())
def test_second_order_unary(name, data):
    f_wl, _, elements = S.UNARY[name]
    compiled_equals_eager(f_wl, S.draw_array(data, data.draw(S.SHAPES), elements), what=name)


@pytest.mark.parametrize("name", sorted(S.BINARY))
@settings(SETTINGS, max_examples=8)
@given(data=st.data())
def test_second_order_binary(name, data):
    op, ea, eb = S.BINARY[name]
    sa, sb = data.draw(S.TWO_SHAPES).input_shapes
    compiled_equals_eager(op, S.draw_array(data, sa, ea), S.draw_array(data, sb, eb),
                          what=name)


@pytest.mark.parametrize("name", sorted(S.REDUCTIONS))
@settings(SETTINGS, max_examples=8)
@given(data=st.data())
def test_second_order_reductions(name, data):
    f_wl, _, elements = S.REDUCTIONS[name]
    shape, d, k = data.draw(S.shape_dim())
    if elements == "grid":
        x = S.draw_grid(data, shape, 0.25, data.draw(S.floats(0.2, 1.0)))
    else:
        x = S.draw_array(data, shape, elements)
    compiled_equals_eager(lambda x: f_wl(x, d, k), x, what=name)


def test_third_order():
    for name in ("exp", "sin", "tanh", "sigmoid", "pow3", "composite"):
        d3 = wl.grad(wl.grad(wl.grad(S.UNARY[name][0])))
        for point in (0.3, -0.8):
            assert_same(wl.compile(d3)(point), d3(point), f"third derivative of {name}")


# ----------------------------------------------------------------------- random compositions

UNARY_OPS = [wl.sin, wl.cos, wl.tanh, wl.sigmoid, lambda x: x * x, lambda x: -x,
             lambda x: wl.exp(wl.tanh(x)), lambda x: wl.log1p(x * x), wl.softplus,
             lambda x: wl.sqrt(x * x + 1.0), lambda x: 1.0 / (1.0 + x * x), wl.abs,
             lambda x: wl.where(x > 0, x, 0.5 * x), lambda x: wl.clip(x, -1.0, 1.0)]
BINARY_OPS = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
              lambda a, b: a / (1.0 + b * b), wl.maximum, lambda a, b: wl.where(a > b, a, b)]
REDUCE_OPS = [lambda x: x.sum(0, keepdim=True), lambda x: x.mean(-1, keepdim=True),
              lambda x: wl.logsumexp(x, -1, keepdim=True), lambda x: x.max(0, keepdim=True),
              lambda x: wl.softmax(x, -1), lambda x: x.T.reshape(x.shape),
              lambda x: x[::-1], lambda x: x[:, ::-1]]


@st.composite
def programs(draw):
    """A random straight-line program of primitives over two (3, 4) inputs."""
    steps = []
    for _ in range(draw(st.integers(2, 10))):
        kind = draw(st.sampled_from(["unary", "binary", "reduce"]))
        table = {"unary": UNARY_OPS, "binary": BINARY_OPS, "reduce": REDUCE_OPS}[kind]
        steps.append((kind, draw(st.integers(0, len(table) - 1)), draw(st.integers(0, 50)),
                      draw(st.integers(0, 50))))
    return steps


def run_program(steps, a, b):
    values = [a, b]
    for kind, k, i, j in steps:
        x, y = values[i % len(values)], values[j % len(values)]
        if kind == "unary":
            values.append(UNARY_OPS[k](x))
        elif kind == "binary":
            values.append(BINARY_OPS[k](x, y))
        else:
            values.append(REDUCE_OPS[k](x))
    return values[-1] + values[-2] * 0.5


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(programs(), hnp.arrays(np.float64, (3, 4), elements=O.floats(-2, 2)),
       hnp.arrays(np.float64, (3, 4), elements=O.floats(-2, 2)))
def test_random_compositions(steps, a, b):
    f = lambda a, b: run_program(steps, a, b)  # noqa: E731
    compiled_equals_eager(f, a, b, order=2, what=f"program {steps}")
