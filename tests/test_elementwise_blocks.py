"""The reverse rule of a large unary primitive multiplies its derivative into the cotangent
a block at a time (when the pass holds the cotangent alone): exact gradients, cotangents
the caller holds left untouched, and no temporary of the input's size (an MLP's peak)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import wonderland as wl

torch = pytest.importorskip("torch")

LARGE = (300, 1001)  # more elements than the blocked rule's threshold, not a block multiple

UNARY = {
    "tanh": (wl.tanh, torch.tanh, lambda r: r.normal(size=LARGE)),
    "sigmoid": (wl.sigmoid, torch.sigmoid, lambda r: r.normal(size=LARGE)),
    "exp": (wl.exp, torch.exp, lambda r: r.normal(size=LARGE)),
    "sin": (wl.sin, torch.sin, lambda r: r.normal(size=LARGE)),
    "log": (wl.log, torch.log, lambda r: r.uniform(0.1, 3.0, size=LARGE)),
    "sqrt": (wl.sqrt, torch.sqrt, lambda r: r.uniform(0.1, 3.0, size=LARGE)),
    "softplus": (wl.softplus, torch.nn.functional.softplus, lambda r: r.normal(size=LARGE)),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", UNARY)
def test_the_gradient_of_a_large_unary_primitive_equals_torch(name, dtype):
    ours, theirs, sample = UNARY[name]
    rng = np.random.default_rng(0)
    x0, w = sample(rng).astype(dtype), rng.normal(size=LARGE).astype(dtype)
    x = wl.tensor(x0, requires_grad=True)
    (ours(x) * wl.tensor(w)).sum().backward()  # the cotangent of ours(x): g * w, fresh
    xt = torch.tensor(x0, requires_grad=True)
    (theirs(xt) * torch.tensor(w)).sum().backward()
    assert x.grad.dtype == x.dtype
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol)


def test_a_cotangent_the_caller_holds_is_not_written_into():
    x = wl.tensor(np.random.default_rng(1).normal(size=LARGE), requires_grad=True)
    seed = np.full(LARGE, 2.0)
    y = wl.tanh(x)
    y.backward(grad=seed)
    assert (seed == 2.0).all()
    np.testing.assert_allclose(x.grad.numpy(), 2.0 * (1.0 - y.detach().numpy() ** 2))
    _, pullback = wl.vjp(wl.sin, x.detach())
    (gx,) = pullback(seed)
    assert (seed == 2.0).all()
    np.testing.assert_allclose(gx.numpy(), 2.0 * np.cos(x.detach().numpy()))


def test_an_mlp_gradient_holds_the_hidden_layer_and_its_cotangent_only():
    # mean((tanh(X W1) W2 - y)^2): the hidden layer T and its cotangent dT are alive at
    # tanh's rule; the derivative 1 - T² was two more arrays of T's size (peak 4 T)
    rng = np.random.default_rng(4)
    n, d, h = 2048, 64, 256
    X, y = rng.normal(size=(n, d)).astype("float32"), rng.normal(size=(n, 1)).astype("float32")
    W1 = wl.tensor((rng.normal(size=(d, h)) / 8).astype("float32"))
    W2 = wl.tensor((rng.normal(size=(h, 1)) / 16).astype("float32"))
    Xw, yw = wl.tensor(X), wl.tensor(y)
    value_and_grad = wl.value_and_grad(
        lambda a, b: ((wl.tanh(Xw @ a) @ b - yw) ** 2).mean(), argnums=(0, 1))
    value_and_grad(W1, W2)
    hidden = n * h * 4
    tracemalloc.start()
    try:
        _, (g1, g2) = value_and_grad(W1, W2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2.25 * hidden, f"peak {peak / hidden:.2f} hidden layers"
    T = np.tanh(X @ W1.numpy())
    dP = 2.0 / n * (T @ W2.numpy() - y)
    np.testing.assert_allclose(g1.numpy(), X.T @ ((1 - T**2) * (dP @ W2.numpy().T)),
                               rtol=1e-4, atol=1e-7)
