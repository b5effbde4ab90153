"""A new user's edge cases for wl.losses, wl.check_grad and NumPy functions on Tensors.

The rule for NaN in the losses: a NaN prediction (score, probability, logit) gives NaN in
the loss and in the gradient of that entry, silently, as PyTorch (a diverging model must
show in its loss curve); a NaN target or label is bad data, a ValueError naming it and
its position. PyTorch (``torch.nn.functional``) is the oracle for values and gradients.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import wonderland as wl
from wonderland import losses

NAN = float("nan")


def _wl_loss_and_grad(loss, pred, target, **kwargs):
    """The per-example loss and the gradient of its sum, with warnings as errors."""
    p = wl.tensor(pred, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = loss(p, target, reduction="none", **kwargs)
        value.sum().backward()
    return value.numpy(), p.grad.numpy()


def _torch_loss_and_grad(loss, pred, target, **kwargs):
    p = torch.tensor(pred, requires_grad=True)
    value = loss(p, torch.tensor(target, dtype=p.dtype), reduction="none", **kwargs)
    value.sum().backward()
    return value.detach().numpy(), p.grad.numpy()


# ----------------------------------------------------------------------- NaN input


def test_logits_loss_with_a_nan_logit_is_nan_without_a_warning():
    """A NaN logit printed NumPy's 'invalid value encountered in logaddexp'."""
    logits = np.array([NAN, 1.0, 0.0, -3.0, 1e4, -1e4])
    targets = np.array([1.0, 0.0, 1.0, 0.3, 0.0, 1.0])
    ours = _wl_loss_and_grad(losses.binary_cross_entropy_with_logits, logits, targets)
    theirs = _torch_loss_and_grad(F.binary_cross_entropy_with_logits, logits, targets)
    for got, expected in zip(ours, theirs):
        assert np.isnan(got[0])
        np.testing.assert_allclose(got[1:], expected[1:], rtol=1e-12)


PREDICTION_LOSSES = {
    "squared": (losses.squared, [1.0, 2.0]),
    "absolute": (losses.absolute, [1.0, 2.0]),
    "huber": (losses.huber, [1.0, 2.0]),
    "hinge": (losses.hinge, [1.0, -1.0]),
    "binary_cross_entropy": (losses.binary_cross_entropy, [1.0, 0.0]),
    "binary_cross_entropy_with_logits": (losses.binary_cross_entropy_with_logits, [1.0, 0.0]),
}


@pytest.mark.parametrize("name", PREDICTION_LOSSES)
def test_a_nan_prediction_gives_nan_for_that_entry_silently_in_every_loss(name):
    loss, target = PREDICTION_LOSSES[name]
    value, gradient = _wl_loss_and_grad(loss, np.array([NAN, 0.25]), np.array(target))
    assert np.isnan(value[0]) and np.isfinite(value[1])
    assert np.isfinite(gradient[1])
    # hinge's max(0, .) passes no gradient where its input is NaN, as PyTorch's clamp
    assert gradient[0] == 0 if name == "hinge" else np.isnan(gradient[0])


@pytest.mark.parametrize("name, bad", [
    ("squared", NAN), ("absolute", NAN), ("huber", NAN), ("squared", float("inf")),
    ("huber", -float("inf")), ("binary_cross_entropy", NAN),
    ("binary_cross_entropy_with_logits", NAN),
])
@pytest.mark.parametrize("compiled", [False, True])
def test_a_nan_or_infinite_target_is_an_error_naming_it_and_its_position(name, bad, compiled):
    loss = PREDICTION_LOSSES[name][0]
    call = wl.compile(loss) if compiled else loss
    pred = wl.tensor([0.5, 0.25, 0.75])
    with pytest.raises(ValueError) as info:
        call(pred, wl.tensor([1.0, 0.0, bad]))
    message = str(info.value)
    assert name in message and repr(bad) in message and "position 2" in message


def test_a_target_error_names_the_value_as_given():
    """An integer target 2 was reported as 2.0 (named after the cast to the dtype)."""
    with pytest.raises(ValueError, match=r"got 2 at position 1"):
        losses.binary_cross_entropy(wl.tensor([0.5, 0.5]), np.array([0, 2]))


# ----------------------------------------------------------------------- values, gradients


def test_huber_with_an_infinite_delta_is_half_the_squared_error_with_its_gradient():
    """delta=inf gave the right value but a NaN gradient (0 * inf in the linear branch)."""
    pred, target = np.array([0.0, 1.0, 4.0]), np.array([1.0, 1.0, 1.0])
    ours = _wl_loss_and_grad(losses.huber, pred, target, delta=float("inf"))
    theirs = _torch_loss_and_grad(F.huber_loss, pred, target, delta=float("inf"))
    for got, expected in zip(ours, theirs):
        np.testing.assert_allclose(got, expected, rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(d=st.lists(st.floats(-5, 5), min_size=1, max_size=6),
       delta=st.sampled_from([0.5, 1.0, 2.0]), kink=st.booleans())
def test_huber_matches_torch_also_on_the_kink(d, delta, kink):
    pred = np.array(d)
    if kink:  # residuals of exactly ±delta, where the loss turns linear
        pred = np.sign(pred) * delta
    target = np.zeros_like(pred)
    ours = _wl_loss_and_grad(losses.huber, pred, target, delta=delta)
    theirs = _torch_loss_and_grad(F.huber_loss, pred, target, delta=delta)
    for got, expected in zip(ours, theirs):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(z=st.lists(st.one_of(st.floats(-1e4, 1e4), st.sampled_from([0.0, -0.0, 1e4, -1e4])),
                  min_size=1, max_size=6),
       soft=st.floats(0, 1), dtype=st.sampled_from([np.float64, np.float32]))
def test_logits_loss_matches_torch_on_extreme_and_zero_logits(z, soft, dtype):
    logits = np.array(z, dtype=dtype)
    targets = (np.arange(logits.size) % 3 / 2 * soft).astype(dtype)  # 0, soft/2, soft, ...
    ours = _wl_loss_and_grad(losses.binary_cross_entropy_with_logits, logits, targets)
    theirs = _torch_loss_and_grad(F.binary_cross_entropy_with_logits, logits, targets)
    eps = float(np.finfo(dtype).eps)
    # PyTorch forms (1 - y) z + softplus(-z) for every z, which cancels for z << 0: an
    # absolute error of a few eps |z| on its side
    tolerance = 1e3 * eps * np.abs(theirs[0]) + 8 * eps * (1 + np.abs(logits))
    for got, expected in zip(ours, theirs):
        assert got.dtype == dtype
        assert np.all(np.abs(got - expected) <= tolerance), (got, expected)


@pytest.mark.parametrize("where", ["prediction", "target"])
def test_complex_input_is_a_type_error_not_a_dropped_imaginary_part(where):
    """squared(np.array([1+2j]), [1.0]) gave 0.0 with only NumPy's ComplexWarning."""
    pred, target = np.array([1.0 + 2j]), np.array([1.0])
    if where == "target":
        pred, target = target, pred
    with pytest.raises(TypeError, match=rf"squared: the {where} has the complex dtype"):
        losses.squared(pred, target)


# ----------------------------------------------------------------------- NumPy on Tensors


@pytest.mark.parametrize("call, name, hint", [
    (lambda t: np.flip(t), "numpy.flip", "wl.flip"),
    (lambda t: np.roll(t, 1), "numpy.roll", "wl.roll"),
    (lambda t: np.copy(t), "numpy.copy", "t.clone()"),
    (lambda t: np.fabs(t), "numpy.fabs", "wl.abs"),
    (lambda t: np.isinf(t), "numpy.isinf", "wl.isfinite"),
    (lambda t: np.full_like(t, 2.0), "numpy.full_like", "wl.full_like"),
    (lambda t: np.tril(np.outer(t, t)), "numpy.tril", "wl.tril"),
    (lambda t: np.vstack([t, t]), "numpy.vstack", "np.concatenate"),
    (lambda t: np.split(t, 3), "numpy.split", "wl.chunk"),
    (lambda t: np.sinh(t), "numpy.sinh", "wl.exp"),
])
def test_numpy_functions_with_a_wonderland_form_name_it(call, name, hint):
    """These said 'is not differentiable in wonderland' though wl has them."""
    t = wl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(TypeError) as info:
        call(t)
    assert name in str(info.value) and hint in str(info.value)
    assert "not differentiable" not in str(info.value)


@pytest.mark.parametrize("a_shape, b_shape", [
    ((2, 3), (2, 3)), ((3,), (2,)), ((2, 2, 3), (3, 2, 4)), ((4,), (2, 3, 4)),
])
def test_np_dot_of_misaligned_shapes_names_numpy_dot_as_numpy_does(a_shape, b_shape):
    """The error named matmul, or an einsum subscript, for np.dot."""
    with pytest.raises(ValueError) as expected:
        np.dot(np.ones(a_shape), np.ones(b_shape))
    with pytest.raises(ValueError) as info:
        np.dot(wl.ones(*a_shape), np.ones(b_shape))
    message = str(info.value)
    assert message.startswith("numpy.dot:") and str(a_shape) in message
    assert str(b_shape) in message
    assert message.split(": ", 2)[-1] == str(expected.value).split(": ", 1)[-1]


def test_np_dot_of_aligned_shapes_still_matches_numpy():
    rng = np.random.default_rng(0)
    for a_shape, b_shape in [((2, 2, 3), (2, 3, 4)), ((3,), (2, 3, 4)), ((2, 3), ()),
                             ((2, 3), (3,))]:
        a, b = rng.normal(size=a_shape), rng.normal(size=b_shape)
        np.testing.assert_allclose(np.dot(wl.tensor(a), b).numpy(), np.dot(a, b))


# ----------------------------------------------------------------------- gradient checks


@pytest.mark.parametrize("modes", [None, 3])
def test_check_grad_with_modes_not_a_name_or_tuple_is_a_clear_type_error(modes):
    """modes=None raised Python's "'NoneType' object is not iterable"."""
    with pytest.raises(TypeError, match=r"check_grad: modes must be 'rev', 'fwd'"):
        wl.check_grad(lambda x: (x**3).sum(), [1.0, 2.0], modes=modes)


def test_check_grad_passes_on_the_losses_at_their_edge_points():
    y = [1.0, 0.0, 1.0]
    wl.check_grad(lambda z: losses.binary_cross_entropy_with_logits(z, y), [0.3, -40.0, 25.0])
    wl.check_grad(lambda p: losses.huber(p, y, float("inf")), [0.3, -2.0, 5.0])
