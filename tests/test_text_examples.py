"""The course's PyTorch snippets, run with ``wl`` in place of ``torch``: same numbers."""

import numpy as np
import pytest
import torch

import wonderland as wl
from wonderland import examples


def test_broadcasting_column_plus_vector_gives_a_matrix():
    a_np = np.random.default_rng(0).standard_normal((4, 1))
    b_np = np.random.default_rng(1).standard_normal((4,))
    ours = wl.tensor(a_np) + wl.tensor(b_np)
    theirs = torch.tensor(a_np) + torch.tensor(b_np)
    assert ours.shape == (4, 4) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


def test_sum_along_dim_zero():
    a = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert wl.sum(wl.tensor(a), dim=0).tolist() == torch.sum(torch.tensor(a), dim=0).tolist()
    assert wl.tensor(a).sum(dim=0).tolist() == [9.0, 12.0]


def test_batched_matmul_shape_and_values():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((4, 5, 2)), rng.standard_normal((4, 2, 3))
    ours = wl.tensor(x) @ wl.tensor(y)
    assert ours.shape == (4, 5, 3)
    np.testing.assert_allclose(ours.numpy(), (torch.tensor(x) @ torch.tensor(y)).numpy())


def _descent(lib, steps=25, alpha=0.001):
    """The text's loop, written once for both libraries."""
    x = lib.tensor(2.0, requires_grad=True)
    printed = []
    for _ in range(steps):
        y = 2 * x**4 + x**3 - 3 * x**2
        y.backward()
        with lib.no_grad():
            x -= x.grad * alpha
        printed.append("{:.3f} {:.3f}".format(x.item(), x.grad.item()))
        printed.append("{:.3f}".format(y))
        x.grad.zero_()
    return printed


def test_polynomial_gradient_descent_prints_the_same_numbers_as_torch():
    assert _descent(wl) == _descent(torch)


def test_polynomial_descent_converges_to_the_text_minimum():
    x = wl.tensor(2.0, requires_grad=True)
    for _ in range(5000):
        (2 * x**4 + x**3 - 3 * x**2).backward()
        with wl.no_grad():
            x -= x.grad * 0.01
        x.grad.zero_()
    # f'(x) = 8x^3 + 3x^2 - 6x = 0 at x = (-3 + sqrt(201)) / 16
    assert x.item() == pytest.approx((-3 + np.sqrt(201)) / 16, rel=1e-9)


def test_format_of_one_element_tensor():
    assert "{:.3f}".format(wl.tensor(3.14159)) == "3.142"
    assert format(wl.tensor([2.5]), ".1f") == "2.5"


def test_f_string_of_a_scalar_tensor_is_its_number_as_in_torch():
    torch = pytest.importorskip("torch")
    for value in (3.5, 2, True):
        assert f"{wl.tensor(value)}" == f"{torch.tensor(value)}"
    assert f"{wl.tensor([1.0, 2.0])}" == str(wl.tensor([1.0, 2.0]))


def test_python_m_wonderland_prints_every_example(capsys):
    assert examples.main() == 0
    out = capsys.readouterr().out
    for name in examples.EXAMPLES:
        assert f"== {name}" in out
    assert "(4, 1) + (4,) -> (4, 4)" in out
    assert "(4, 5, 2) @ (4, 2, 3) -> (4, 5, 3)" in out
    assert "x = 1.936, f(x) = 28.000, f'(x) = 64.000" in out
