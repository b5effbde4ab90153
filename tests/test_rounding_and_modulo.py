"""Rounding (floor, ceil, trunc, round) and integer division (``//``, ``%``): NumPy's
values and dtypes, PyTorch's and JAX's gradients (zero for the steps, ``1`` and
``-(a // b)`` for the remainder), on every spelling a NumPy or PyTorch user would write."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import wonderland as wl

X = np.array([7.5, -3.2, 4.04, -0.5, 2.5])
B = np.array([2.0, 1.5, -3.0, 0.7, -1.1])


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "round"])
def test_step_values_match_numpy_and_gradients_are_zero(name):
    x = wl.tensor(X, requires_grad=True)
    y = getattr(wl, name)(x)
    np.testing.assert_array_equal(y.numpy(), getattr(np, "rint" if name == "round" else name)(X))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros_like(X))
    np.testing.assert_array_equal(getattr(x, name)().numpy(), y.numpy())  # the method


def test_round_ties_to_even_and_decimals_as_numpy():
    x = wl.tensor([0.5, 1.5, 2.5, -0.5, 1.2345, -1.2355])
    np.testing.assert_array_equal(wl.round(x).numpy(), np.round(x.numpy()))
    np.testing.assert_allclose(wl.round(x, decimals=2).numpy(), np.round(x.numpy(), 2))
    np.testing.assert_allclose(x.round(decimals=1).numpy(), np.round(x.numpy(), 1))
    np.testing.assert_allclose(np.round(x, 2).numpy(), np.round(x.numpy(), 2))  # NumPy's call
    assert wl.grad(lambda v: wl.round(v, 2).sum())(x).tolist() == [0.0] * 6


def test_integer_tensors_keep_their_dtype():
    i = wl.tensor([7, -7, 9])
    assert wl.floor(i).dtype == np.int64 and wl.floor(i).tolist() == [7, -7, 9]
    assert (i // 2).dtype == np.int64 and (i // 2).tolist() == [3, -4, 4]
    assert (i % 4).tolist() == [3, 1, 1]  # the sign of the divisor, as Python's
    assert (-7 % wl.tensor(3)).item() == 2


def test_operators_match_numpy_both_sides_and_in_place():
    a, b = wl.tensor(X), wl.tensor(B)
    for got, want in [(a // b, X // B), (a % b, X % B), (a // 2, X // 2), (a % 2, X % 2),
                      (7 // b, 7 // B), (7 % b, 7 % B), (X // b, X // B), (X % b, X % B),
                      (wl.floor_divide(X, b), X // B), (wl.remainder(a, B), X % B),
                      (np.floor_divide(a, B), X // B), (np.mod(a, B), X % B)]:
        assert isinstance(got, wl.Tensor)
        np.testing.assert_allclose(got.numpy(), want)
    c = wl.tensor(X.copy())
    alias = c
    c //= 2
    c %= 3
    assert alias is c  # in place, as PyTorch's //= and %=
    np.testing.assert_allclose(c.numpy(), (X // 2) % 3)
    d = wl.tensor(X.copy())
    d.floor_divide_(2).remainder_(3)
    np.testing.assert_allclose(d.numpy(), (X // 2) % 3)


def test_remainder_gradients_match_torch_in_both_arguments():
    a, b = wl.tensor(X, requires_grad=True), wl.tensor(B, requires_grad=True)
    (a % b * wl.tensor(np.arange(1.0, 6.0))).sum().backward()
    at, bt = (torch.tensor(v, requires_grad=True) for v in (X, B))
    (torch.remainder(at, bt) * torch.arange(1.0, 6.0, dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy())
    np.testing.assert_allclose(b.grad.numpy(), bt.grad.numpy())
    # forward mode agrees with reverse mode
    J = wl.jacfwd(lambda u, v: u % v, argnums=(0, 1))(wl.tensor(X), wl.tensor(B))
    np.testing.assert_allclose(J[0].numpy(), np.eye(5))
    np.testing.assert_allclose(J[1].numpy(), np.diag(-(X // B)))


def test_floor_divide_has_zero_gradient_in_both_arguments():
    ga, gb = wl.grad(lambda a, b: (a // b).sum(), argnums=(0, 1))(wl.tensor(X), wl.tensor(B))
    assert ga.tolist() == [0.0] * 5 and gb.tolist() == [0.0] * 5


def test_numpy_rounding_ufuncs_run_as_wonderland_ops():
    x = wl.tensor(X, requires_grad=True)
    for f in (np.floor, np.ceil, np.trunc, np.rint):
        y = f(x)
        assert isinstance(y, wl.Tensor) and y.requires_grad
        np.testing.assert_array_equal(y.numpy(), f(X))
    g = wl.grad(lambda v: (np.mod(v, 2.0) + np.floor(v)).sum())(wl.tensor(X))
    np.testing.assert_array_equal(g.numpy(), np.ones(5))


def test_compiled_value_and_gradient_match_eager():
    def f(x):
        steps = wl.floor(x) + wl.ceil(x) + wl.trunc(x) + wl.round(x, 1) + x // 0.3
        return ((steps + x % 0.7) * x).sum()

    x = wl.tensor(X)
    value, grad = wl.compile(wl.value_and_grad(f))(x)
    want_value, want_grad = wl.value_and_grad(f)(x)
    assert float(value) == float(want_value)
    np.testing.assert_allclose(grad.numpy(), want_grad.numpy(), rtol=1e-12)
