"""Second (and third) derivatives through ``backward(create_graph=True)``.

For ``L = sum(f(x) * R)``, ``L.backward(create_graph=True)`` leaves ``x.grad`` in the
graph; ``x.grad`` is then reset to ``None`` and ``sum(g * S)`` is differentiated again,
which gives the Hessian-vector product ``H S``. Both orders are compared with
``torch.autograd.grad(..., create_graph=True)`` (rtol 1e-6) and the second one with
central differences of wonderland's own first-order gradient.
"""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wonderland as wl

torch.set_num_threads(1)

# ATOL: the two libraries differ by rounding only (below 1e-15 on values up to ~150); 1e-9
# passed any derivative below 1e-9 unchecked (inputs drawn near 0 give such values)
RTOL, ATOL = 1e-6, 1e-12
FD_EPS, FD_RTOL, FD_ATOL = 1e-6, 1e-5, 1e-7

SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


def _np(t) -> np.ndarray:
    return np.asarray(t.numpy(), dtype=np.float64)


def _weight(shape, seed) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def _wl_grads(f_wl, arrays, R, create_graph):
    """Leaves, and the gradients of sum(f(*leaves) * R) (in the graph if create_graph)."""
    xs = [wl.tensor(a.copy(), requires_grad=True) for a in arrays]
    out = f_wl(*xs)
    (out * wl.tensor(R)).sum().backward(create_graph=create_graph)
    grads = []
    for i, x in enumerate(xs):
        assert x.grad is not None, f"input {i} got no gradient"
        assert tuple(x.grad.shape) == arrays[i].shape
        grads.append(x.grad)
    return xs, grads


def _wl_directional(f_wl, arrays, R, S, i) -> float:
    """sum_j <grad_j(x), S_j> at x = arrays, by first-order wonderland (for FD)."""
    _, grads = _wl_grads(f_wl, arrays, R, create_graph=False)
    return float(sum(np.sum(_np(g) * s) for g, s in zip(grads, S)))


def check2(f_wl, f_t, *arrays, fd=True, what=""):
    """Hessian-vector products of sum(f * R) along S, wonderland against torch and FD."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    label = f"{what} input shapes {[a.shape for a in arrays]}"
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out_t = f_t(*ts)
    R = _weight(tuple(out_t.shape), 0)
    S = [_weight(a.shape, 1 + i) for i, a in enumerate(arrays)]

    # torch
    gts = torch.autograd.grad((out_t * torch.from_numpy(R)).sum(), ts, create_graph=True)
    l2t = sum((g * torch.from_numpy(s)).sum() for g, s in zip(gts, S))
    if l2t.requires_grad:
        hts = torch.autograd.grad(l2t, ts, allow_unused=True)
    else:
        hts = [None] * len(ts)
    hts = [np.zeros_like(a) if h is None else h.numpy(force=True) for h, a in zip(hts, arrays)]

    # wonderland
    xs, grads = _wl_grads(f_wl, arrays, R, create_graph=True)
    for i, (g, gt) in enumerate(zip(grads, gts)):
        np.testing.assert_allclose(_np(g), gt.detach().numpy(), rtol=RTOL, atol=ATOL,
                                   err_msg=f"{label}: first derivative of input {i}")
    for x in xs:
        x.grad = None
    l2 = sum((g * wl.tensor(s)).sum() for g, s in zip(grads, S))
    if l2.requires_grad:
        l2.backward()
        hs = [np.zeros_like(a) if x.grad is None else _np(x.grad) for x, a in zip(xs, arrays)]
    else:  # the gradient does not depend on the inputs: a zero second derivative
        hs = [np.zeros_like(a) for a in arrays]
    for i, (h, ht, a) in enumerate(zip(hs, hts, arrays)):
        assert h.shape == a.shape, f"{label}: second derivative {i} has shape {h.shape}"
        np.testing.assert_allclose(h, ht, rtol=RTOL, atol=ATOL,
                                   err_msg=f"{label}: second derivative (H S) of input {i} "
                                           f"vs torch")
    if fd:
        for i, a in enumerate(arrays):
            num = np.zeros_like(a)
            flat, out = a.reshape(-1), num.reshape(-1)
            for j in range(flat.size):
                old = flat[j]
                flat[j] = old + FD_EPS
                fp = _wl_directional(f_wl, arrays, R, S, i)
                flat[j] = old - FD_EPS
                fm = _wl_directional(f_wl, arrays, R, S, i)
                flat[j] = old
                out[j] = (fp - fm) / (2 * FD_EPS)
            np.testing.assert_allclose(hs[i], num, rtol=FD_RTOL, atol=FD_ATOL,
                                       err_msg=f"{label}: second derivative of input {i} "
                                               f"vs FD of the gradient")


def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def nonzero(lo, hi):
    return st.one_of(floats(lo, hi), floats(-hi, -lo))


def draw_array(data, shape, elements):
    return data.draw(hnp.arrays(np.float64, shape, elements=elements))


def draw_grid(data, shape, offset, scale):
    """Distinct values (k + offset) * scale, none 0; offsets 0.25 and 0.75 never tie."""
    n = int(np.prod(shape))
    perm = np.array(data.draw(st.permutations(range(n))), dtype=np.float64)
    return ((perm - (n - 1) // 2 + offset) * scale).reshape(shape)


SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
TWO_SHAPES = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                               max_side=3)


# ----------------------------------------------------------------------- elementwise


UNARY = {
    "exp": (wl.exp, torch.exp, floats(-3, 3)),
    "log": (wl.log, torch.log, floats(0.2, 5)),
    "log1p": (wl.log1p, torch.log1p, floats(-0.8, 5)),
    "sqrt": (wl.sqrt, torch.sqrt, floats(0.2, 5)),
    "sin": (wl.sin, torch.sin, floats(-4, 4)),
    "cos": (wl.cos, torch.cos, floats(-4, 4)),
    "tan": (wl.tan, torch.tan, floats(-1.2, 1.2)),
    "tanh": (wl.tanh, torch.tanh, floats(-3, 3)),
    "sigmoid": (wl.sigmoid, torch.sigmoid, floats(-6, 6)),
    "softplus": (wl.softplus, torch.nn.functional.softplus, floats(-6, 6)),
    "abs": (wl.abs, torch.abs, nonzero(0.05, 3)),
    "relu": (wl.relu, torch.relu, nonzero(0.05, 3)),
    "sign": (wl.sign, torch.sign, nonzero(0.05, 3)),
    "square": (lambda x: x * x, lambda x: x * x, floats(-3, 3)),
    "pow3": (lambda x: x ** 3, lambda x: x ** 3, floats(-3, 3)),
    "pow2.5": (lambda x: x ** 2.5, lambda x: x ** 2.5, floats(0.2, 3)),
    "pow-1.5": (lambda x: x ** -1.5, lambda x: x ** -1.5, floats(0.3, 3)),
    "rpow": (lambda x: 2.0 ** x, lambda x: 2.0 ** x, floats(-3, 3)),
    "rdiv": (lambda x: 1.5 / x, lambda x: 1.5 / x, nonzero(0.4, 3)),
    "clip": (lambda x: wl.clip(x, -1.0, 1.0) ** 2, lambda x: torch.clamp(x, -1.0, 1.0) ** 2,
             nonzero(0.05, 0.95) | nonzero(1.05, 3)),
    "composite": (lambda x: wl.tanh(wl.sin(x) * wl.exp(-x * x)) / (1 + x * x),
                  lambda x: torch.tanh(torch.sin(x) * torch.exp(-x * x)) / (1 + x * x),
                  floats(-2, 2)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(data=st.data())
def test_unary_second_order(name, data):
    f_wl, f_t, elements = UNARY[name]
    x = draw_array(data, data.draw(SHAPES, label="shape"), elements)
    check2(f_wl, f_t, x, what=name)


BINARY = {
    "mul": (lambda a, b: a * b, floats(-3, 3), floats(-3, 3)),
    "div": (lambda a, b: a / b, floats(-3, 3), nonzero(0.4, 3)),
    # exponent != 0: torch zeroes d/da a**b where b == 0 exactly, which drops the mixed
    # second derivative there (a**(b-1) at b = 0); finite differences would catch wonderland
    "pow": (lambda a, b: a ** b, floats(0.3, 3), nonzero(0.1, 2)),
    "add_sq": (lambda a, b: (a + b) * (a - b), floats(-3, 3), floats(-3, 3)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(data=st.data())
def test_binary_second_order_broadcast(name, data):
    op, ea, eb = BINARY[name]
    sa, sb = data.draw(TWO_SHAPES, label="shapes").input_shapes
    a = draw_array(data, sa, ea)
    b = draw_array(data, sb, eb)
    check2(op, op, a, b, what=name)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@SETTINGS
@given(data=st.data())
def test_maximum_minimum_second_order(name, data):
    sa, sb = data.draw(TWO_SHAPES, label="shapes").input_shapes
    scale = data.draw(floats(0.2, 1.0), label="scale")
    a = draw_grid(data, sa, 0.25, scale)
    b = draw_grid(data, sb, 0.75, scale)
    f_wl, f_t = getattr(wl, name), getattr(torch, name)
    check2(lambda a, b: f_wl(a * a, b * a), lambda a, b: f_t(a * a, b * a), a, b, what=name)


@SETTINGS
@given(data=st.data())
def test_where_second_order(data):
    sa, sb = data.draw(TWO_SHAPES, label="shapes").input_shapes
    cond = data.draw(hnp.arrays(np.bool_, np.broadcast_shapes(sa, sb)), label="cond")
    a = draw_array(data, sa, floats(-2, 2))
    b = draw_array(data, sb, floats(-2, 2))
    check2(lambda a, b: wl.where(wl.tensor(cond), wl.sin(a) * b, a * a * b),
           lambda a, b: torch.where(torch.from_numpy(cond), torch.sin(a) * b, a * a * b),
           a, b, what="where")


# ----------------------------------------------------------------------- third order


def _nth_wl(f, a, k):
    x = wl.tensor(a.copy(), requires_grad=True)
    y = f(x)
    for order in range(k):
        (y * wl.tensor(_weight(tuple(y.shape), order))).sum().backward(
            create_graph=order < k - 1)
        y = x.grad
        x.grad = None
    return _np(y)


def _nth_t(f, a, k):
    x = torch.tensor(a, requires_grad=True)
    y = f(x)
    for order in range(k):
        (y,) = torch.autograd.grad((y * torch.from_numpy(_weight(tuple(y.shape), order))).sum(),
                                   x, create_graph=order < k - 1)
    return y.detach().numpy()


@pytest.mark.parametrize("name", ["exp", "log", "sin", "tanh", "sigmoid", "softplus", "pow3",
                                  "rdiv", "composite", "sqrt"])
@settings(SETTINGS, max_examples=10)
@given(data=st.data())
def test_third_order(name, data):
    f_wl, f_t, elements = UNARY[name]
    x = draw_array(data, data.draw(SHAPES, label="shape"), elements)
    np.testing.assert_allclose(_nth_wl(f_wl, x, 3), _nth_t(f_t, x, 3), rtol=RTOL, atol=ATOL,
                               err_msg=f"third derivative of {name}, shape {x.shape}")


def test_second_derivative_exact_values():
    """d²/dx² of x³ is 6x; of sin is -sin, evaluated pointwise (x.grad reset in between)."""
    a = np.array([-2.0, -0.5, 0.0, 1.5])
    x = wl.tensor(a, requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    np.testing.assert_allclose(_np(g), 3 * a ** 2, rtol=1e-12)
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(_np(x.grad), 6 * a, rtol=1e-12, atol=1e-15)
    x = wl.tensor(a, requires_grad=True)
    wl.sin(x).sum().backward(create_graph=True)
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(_np(x.grad), -np.sin(a), rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------- reductions, linalg


@st.composite
def shape_dim(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
    nd = len(shape)
    return shape, draw(st.integers(-nd, nd - 1)), draw(st.booleans())


REDUCTIONS = {
    "softmax": (lambda x, d, k: wl.softmax(x, dim=d), lambda x, d, k: torch.softmax(x, d),
                floats(-3, 3)),
    "log_softmax": (lambda x, d, k: wl.log_softmax(x, dim=d),
                    lambda x, d, k: torch.log_softmax(x, d), floats(-3, 3)),
    "logsumexp": (lambda x, d, k: wl.logsumexp(x, dim=d, keepdim=k),
                  lambda x, d, k: torch.logsumexp(x, d, keepdim=k), floats(-3, 3)),
    "var": (lambda x, d, k: wl.var(x, dim=d, keepdim=k) ** 2,
            lambda x, d, k: torch.var(x, d, keepdim=k, correction=0) ** 2, floats(-3, 3)),
    "std": (lambda x, d, k: wl.std(x, dim=d, keepdim=k),
            lambda x, d, k: torch.std(x, d, keepdim=k, correction=0), "grid"),
    "norm": (lambda x, d, k: wl.norm(x, dim=d, keepdim=k),
             lambda x, d, k: torch.linalg.vector_norm(x, dim=d, keepdim=k), nonzero(0.2, 3)),
    "prod": (lambda x, d, k: wl.prod(x, dim=d, keepdim=k),
             lambda x, d, k: torch.prod(x, d, keepdim=k), nonzero(0.5, 1.5)),
    "mean_sq": (lambda x, d, k: wl.mean(x * x, dim=d, keepdim=k),
                lambda x, d, k: torch.mean(x * x, d, keepdim=k), floats(-3, 3)),
    "max_cube": (lambda x, d, k: wl.max(x * x * x, dim=d, keepdim=k),
               lambda x, d, k: torch.amax(x * x * x, d, keepdim=k), "grid"),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@SETTINGS
@given(data=st.data())
def test_reduction_second_order(name, data):
    f_wl, f_t, elements = REDUCTIONS[name]
    shape, d, k = data.draw(shape_dim(), label="shape, dim, keepdim")
    if elements == "grid":
        x = draw_grid(data, shape, 0.25, data.draw(floats(0.2, 1.0), label="scale"))
    else:
        x = draw_array(data, shape, elements)
    check2(lambda x: f_wl(x, d, k), lambda x: f_t(x, d, k), x, what=f"{name}(dim={d})")


@SETTINGS
@given(data=st.data())
def test_matmul_second_order(data):
    m, n, k = (data.draw(st.integers(1, 3)) for _ in range(3))
    ba, bb = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2,
                                                         max_side=2)).input_shapes
    a = draw_array(data, ba + (m, n), floats(-2, 2))
    b = draw_array(data, bb + (n, k), floats(-2, 2))
    check2(lambda a, b: wl.tanh(a @ b), lambda a, b: torch.tanh(a @ b), a, b,
           what="tanh(a @ b)")
    check2(lambda a, b: (a @ b) ** 2, lambda a, b: (a @ b) ** 2, a, b, what="(a @ b)**2")
    check2(lambda a, b: wl.einsum("...ij,...jk->...ik", a, b) ** 2,
           lambda a, b: torch.einsum("...ij,...jk->...ik", a, b) ** 2, a, b,
           what="einsum(...)**2")


@SETTINGS
@given(data=st.data())
def test_linalg_second_order(data):
    n = data.draw(st.integers(1, 3), label="n")
    k = data.draw(st.integers(1, 2), label="k")
    m = draw_array(data, (n, n), floats(-1, 1))
    A = m + 2.0 * n * np.eye(n)
    b = draw_array(data, (n, k), floats(-2, 2))
    check2(wl.linalg.solve, torch.linalg.solve, A, b, what="solve")
    check2(wl.linalg.inv, torch.linalg.inv, A, what="inv")
    P = m @ m.T + n * np.eye(n)
    check2(lambda a: wl.linalg.cholesky((a + a.T) * 0.5),
           lambda a: torch.linalg.cholesky((a + a.T) * 0.5), P, what="cholesky(sym(A))")


@settings(SETTINGS, max_examples=10)
@given(data=st.data())
def test_mlp_hessian_vector(data):
    """A small network: a Hessian-vector product through matmul, softplus, log_softmax."""
    n, d, h, c = 3, 2, 3, 2
    X = draw_array(data, (n, d), floats(-2, 2))
    W1 = draw_array(data, (d, h), floats(-1, 1))
    b1 = draw_array(data, (h,), floats(-1, 1))
    W2 = draw_array(data, (h, c), floats(-1, 1))
    onehot = np.eye(c)[np.arange(n) % c]

    def f_wl(W1, b1, W2):
        z = wl.softplus(wl.tensor(X) @ W1 + b1)
        return -(wl.log_softmax(z @ W2, dim=1) * wl.tensor(onehot)).sum(axis=1)

    def f_t(W1, b1, W2):
        z = torch.nn.functional.softplus(torch.from_numpy(X) @ W1 + b1)
        return -(torch.log_softmax(z @ W2, dim=1) * torch.from_numpy(onehot)).sum(1)

    check2(f_wl, f_t, W1, b1, W2, what="mlp")


@pytest.mark.parametrize("zeros", [(), (0,), (0, 3), (1, 2, 4)])
@pytest.mark.parametrize("dim", [None, 1, (0, 2)])
def test_hessian_of_prod_with_zeros_matches_jax(zeros, dim):
    # the rule once wrote the other entries' gradient as a constant 0 where a zero was
    # present: first derivatives right, the Hessian not even symmetric
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    jax.config.update("jax_enable_x64", True)
    x = np.random.default_rng(len(zeros)).uniform(0.5, 1.5, size=(2, 3, 2))
    x.reshape(-1)[list(zeros)] = 0.0
    w = np.random.default_rng(7).standard_normal(x.prod(axis=dim).shape)

    def f(v, m):
        return (m.prod(v, axis=dim) * w).sum() if m is jnp else (wl.prod(v, dim=dim) * w).sum()

    expected = np.asarray(jax.hessian(lambda v: f(v, jnp))(jnp.asarray(x)))
    nestings = (wl.hessian, lambda g: wl.jacfwd(wl.jacrev(g)), lambda g: wl.jacfwd(wl.jacfwd(g)))
    for hessian in nestings:
        np.testing.assert_allclose(hessian(lambda v: f(v, wl))(x).numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(wl.grad(lambda v: f(v, wl))(x).numpy(),
                               np.asarray(jax.grad(lambda v: f(v, jnp))(jnp.asarray(x))),
                               atol=1e-12)


def test_gradient_of_prod_with_an_infinite_entry_is_the_product_of_the_others():
    # no division: d/dx0 prod([inf, 2, 3]) = 6, where dividing inf by inf gives NaN
    g = wl.grad(lambda v: v.prod())(np.array([np.inf, 2.0, 3.0]))
    assert g.tolist() == [6.0, np.inf, np.inf]
