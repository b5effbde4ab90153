"""``wl.compile`` keeps no array a hand-written gradient would not: the least-squares and
MLP gradients peak at the hand-written backward's memory, and the rewrites that get them
there (a sum of squares as a dot product, an outer product folded into the array it
multiplies) give the eager results wherever they apply, and stay out where they do not.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import wonderland as wl


def peak_bytes(fn) -> int:
    fn()  # warm: the trace, caches, first-call allocations
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def leaves(obj) -> list:
    """The arrays of a nested result, in order."""
    if isinstance(obj, tuple | list):
        return [leaf for item in obj for leaf in leaves(item)]
    return [np.asarray(obj)]


def assert_matches_eager(f, *args):
    got, want = leaves(wl.compile(f)(*args)), leaves(f(*args))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------- the two workloads


def test_least_squares_gradient_peaks_at_one_residual():
    n, d = 200_000, 5
    rng = np.random.default_rng(0)
    X, y, w = rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal(d)
    step = wl.compile(wl.value_and_grad(lambda w, X, y: ((y - X @ w) ** 2).mean()))
    Xt, yt, wt = wl.tensor(X), wl.tensor(y), wl.tensor(w)
    hand = peak_bytes(lambda: X.T @ (X @ w - y))
    mine = peak_bytes(lambda: step(wt, Xt, yt))
    assert mine <= 1.05 * hand, f"{mine / hand:.2f}x the hand-written gradient's peak"
    value, grad = step(wt, Xt, yt)
    r = X @ w - y
    np.testing.assert_allclose(float(value), np.mean(r**2), rtol=1e-12)
    np.testing.assert_allclose(grad.numpy(), 2.0 / n * (X.T @ r), rtol=1e-10)


def test_mlp_gradient_peaks_at_the_hidden_layer():
    n, din, h = 2048, 64, 256
    rng = np.random.default_rng(1)
    f32 = np.float32
    X = rng.standard_normal((n, din)).astype(f32)
    W1 = (rng.standard_normal((din, h)) / 8).astype(f32)
    W2 = (rng.standard_normal((h, 1)) / 16).astype(f32)
    y = rng.standard_normal((n, 1)).astype(f32)

    def loss(a, b, X, y):
        return ((wl.tanh(X @ a) @ b - y) ** 2).mean()

    vg = wl.compile(wl.value_and_grad(loss, argnums=(0, 1)))
    args = [wl.tensor(v) for v in (W1, W2, X, y)]
    mine = peak_bytes(lambda: vg(*args))
    hidden = n * h * 4
    assert mine <= 1.25 * hidden, f"{mine / hidden:.2f} hidden layers"
    (value, (g1, g2)) = vg(*args)
    (want, (e1, e2)) = wl.value_and_grad(loss, argnums=(0, 1))(*args)
    np.testing.assert_allclose(float(value), float(want), rtol=1e-6)
    np.testing.assert_allclose(g1.numpy(), e1.numpy(), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(g2.numpy(), e2.numpy(), rtol=1e-4, atol=1e-7)


# ----------------------------------------------------------------------- sum of squares

SQUARES = {
    "1-D": lambda x: (x**2).sum(),
    "mean of 2-D": lambda x: (x.reshape(40, 50) ** 2).mean(),
    "axes named": lambda x: (x.reshape(40, 50) ** 2).sum(dim=(0, 1)),
    "transposed": lambda x: (x.reshape(40, 50).T ** 2).sum(),
    "strided": lambda x: (x[::3] ** 2).sum(),
    "one axis (not all)": lambda x: (x.reshape(40, 50) ** 2).sum(dim=1).sum(),
    "keepdim": lambda x: (x.reshape(40, 50) ** 2).sum(dim=(0, 1), keepdim=True).sum(),
    "squares read twice": lambda x: (x**2).sum() + (x**2).max(),
    "cube": lambda x: (x**3).sum(),
    "one entry (0-d)": lambda x: (x[7] ** 2).sum(),
}


@pytest.mark.parametrize("name", list(SQUARES))
def test_sums_of_squares_equal_eager_with_their_gradient(name):
    x = np.random.default_rng(2).standard_normal(2000)
    assert_matches_eager(wl.value_and_grad(SQUARES[name]), x)


def test_a_float32_sum_of_squares_keeps_float32_summation():
    x = np.random.default_rng(3).standard_normal(10_000).astype(np.float32)
    f = wl.compile(lambda v: (v**2).sum())
    assert f(x).dtype == np.float32
    assert float(f(x)) == float(wl.sum(wl.tensor(x) ** 2))


# ----------------------------------------------------------------------- outer products


@pytest.mark.parametrize("a_shape, b_shape, c_shape", [
    ((300, 1), (1, 200), (300, 200)),
    ((4, 30, 1), (4, 1, 20), (4, 30, 20)),
    ((30, 1), (5, 1, 20), (5, 30, 20)),
])
def test_outer_products_equal_eager(a_shape, b_shape, c_shape):
    rng = np.random.default_rng(4)
    a, b, c = (rng.standard_normal(s) for s in (a_shape, b_shape, c_shape))

    def f(a, b, c):
        return (wl.sin(c) * (a @ b)).sum() + ((a @ b) * 2.0 * c).sum()

    assert_matches_eager(wl.value_and_grad(f, argnums=(0, 1, 2)), a, b, c)


def test_a_product_folded_into_a_mixed_dtype_array_keeps_the_result_dtype():
    rng = np.random.default_rng(5)
    h = rng.standard_normal((64, 32)).astype(np.float32)
    u, v = rng.standard_normal((64, 1)), rng.standard_normal((1, 32)).astype(np.float32)
    f = wl.compile(lambda h, u, v: wl.tanh(h) * (u @ v))
    got, want = f(h, u, v), wl.tanh(wl.tensor(h)) * (wl.tensor(u) @ wl.tensor(v))
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("xs, us, vs", [(1e-200, 1e200, 1e200), (1e200, 1e200, 1e-200)])
def test_a_product_that_overflows_in_one_order_is_compiled_in_the_functions(xs, us, vs):
    # x * (u * vT) regrouped as (x * u) * vT: finite where the function's order overflows,
    # or the other way round; the trace's check sees it and compiles the function's order
    # instead of reporting an internal error
    x, u, v = np.full((3, 4), xs), np.full((3, 1), us), np.full((1, 4), vs)
    f = lambda x, u, v: x * (u * v)  # noqa: E731
    compiled = wl.compile(f)
    with np.errstate(all="ignore"):
        want = f(wl.tensor(x), wl.tensor(u), wl.tensor(v)).numpy()
        got = compiled(x, u, v).numpy()
    np.testing.assert_array_equal(got, want)


# ----------------------------------------------------------------------- scalar chains

CHAINS = {
    "negated product": lambda x: -(x * 3.0),
    "two factors": lambda x: (x * 2.0) * 1e-5,
    "three, negated": lambda x: -(0.5 * ((x * 2.0) * 3.0)),
    "overflowing factors": lambda x: (x * 1e200) * 1e200,
    "underflowing factors": lambda x: (x * 1e-200) * 1e-200,
    "read twice": lambda x: (x * 2.0) * 3.0 + (x * 2.0),
}


@pytest.mark.parametrize("name", list(CHAINS))
def test_chains_of_numbers_equal_eager(name):
    x = np.array([0.0, -1.5, 2.0, np.inf, 1e-300, 3.0e7])
    with np.errstate(all="ignore"):
        got = wl.compile(CHAINS[name])(x).numpy()
        want = CHAINS[name](wl.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)


def test_chains_of_numbers_on_integers_stay_exact():
    x = wl.tensor(np.array([3, -7, 2**40], dtype=np.int64))  # a tensor: traced, not static
    f = lambda v: (v * 3) * 5  # noqa: E731
    np.testing.assert_array_equal(wl.compile(f)(x).numpy(), f(x).numpy())
