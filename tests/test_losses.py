"""wl.losses against PyTorch (float64), finite differences, and their documented errors.

The oracle is ``torch.nn.functional`` (hinge: ``clamp(1 - y*s, min=0)``; zero_one: a NumPy
expression). Gradients are taken with respect to the prediction, both by ``.backward()``
and by ``wl.grad``; ``reduction="none"`` is differentiated through a weighted sum with
random weights, so that every entry of the gradient is checked.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import wonderland as wl
from wonderland import losses

REDUCTIONS = ("mean", "sum", "none")
EPS64 = float(np.finfo(np.float64).eps)

# ----------------------------------------------------------------------- the cases
# Each case: (wonderland loss, torch reference, make(rng, shape) -> (pred, target)).
# Random continuous values keep away from the kinks with probability one.


def _torch_reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _regression(rng, shape):
    return rng.normal(size=shape) * 2, rng.normal(size=shape) * 2


def _signed(rng, shape):
    return rng.normal(size=shape) * 2, rng.choice([-1.0, 1.0], size=shape)


def _probabilities(rng, shape):
    return rng.uniform(0.02, 0.98, size=shape), rng.uniform(0, 1, size=shape)


def _logits(rng, shape):
    return rng.normal(size=shape) * 4, rng.integers(0, 2, size=shape).astype(float)


def _torch_hinge(s, y, reduction):
    return _torch_reduce(torch.clamp(1 - y * s, min=0), reduction)


def _keyword(reference):
    """torch.nn.functional's losses take ``reduction`` as a keyword (the third positional
    argument is the deprecated ``size_average``)."""
    return lambda p, y, reduction: reference(p, y, reduction=reduction)


def _huber(delta):
    return (lambda p, y, reduction: losses.huber(p, y, delta, reduction=reduction),
            lambda p, y, reduction: F.huber_loss(p, y, reduction=reduction, delta=delta))


ELEMENTWISE = {
    "squared": (losses.squared, _keyword(F.mse_loss), _regression),
    "absolute": (losses.absolute, _keyword(F.l1_loss), _regression),
    "huber": (*_huber(1.0), _regression),
    "huber_delta_0.3": (*_huber(0.3), _regression),
    "huber_delta_2.5": (*_huber(2.5), _regression),
    "hinge": (losses.hinge, _torch_hinge, _signed),
    "binary_cross_entropy": (losses.binary_cross_entropy,
                             _keyword(F.binary_cross_entropy), _probabilities),
    "binary_cross_entropy_with_logits": (losses.binary_cross_entropy_with_logits,
                                         _keyword(F.binary_cross_entropy_with_logits),
                                         _logits),
}

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5)


def _compare_with_torch(ours, theirs, pred, target, reduction, rng, *, rtol=1e-10,
                        atol=1e-12):
    """Values, then gradients w.r.t. the prediction by backward() and by wl.grad."""
    weights = rng.normal(size=np.shape(ours(wl.tensor(pred), target, reduction=reduction)))
    tp = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    tt = torch.tensor(np.asarray(target))
    expected = theirs(tp, tt, reduction)
    (expected * torch.tensor(weights)).sum().backward()

    p = wl.tensor(pred, requires_grad=True)
    value = ours(p, target, reduction=reduction)
    assert value.shape == tuple(expected.shape)
    np.testing.assert_allclose(value.numpy(), expected.detach().numpy(), rtol=rtol, atol=atol)

    if reduction == "none":
        value.backward(weights)
    else:
        (value * float(weights)).backward()
    assert p.grad.shape == p.shape
    np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=rtol, atol=atol)

    g = wl.grad(lambda q: (ours(q, target, reduction=reduction) * wl.tensor(weights)).sum())(
        wl.tensor(pred))
    np.testing.assert_allclose(g.numpy(), tp.grad.numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", sorted(ELEMENTWISE))
@settings(max_examples=15, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_elementwise_losses_match_torch(case, reduction, shape, seed):
    ours, theirs, make = ELEMENTWISE[case]
    rng = np.random.default_rng(seed)
    pred, target = make(rng, shape)
    _compare_with_torch(ours, theirs, pred, target, reduction, rng)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 6), k=st.integers(1, 5), scale=st.sampled_from([0.1, 3.0, 300.0]),
       seed=st.integers(0, 2**32 - 1))
def test_cross_entropy_matches_torch(reduction, n, k, scale, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)) * scale
    labels = rng.integers(0, k, size=n)

    _compare_with_torch(losses.cross_entropy, _keyword(F.cross_entropy), logits, labels,
                        reduction, rng, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_one_example(reduction):
    z = np.array([0.5, -1.0, 2.0])
    tz = torch.tensor(z, requires_grad=True)
    expected = F.cross_entropy(tz, torch.tensor(2), reduction=reduction)
    expected.backward()
    x = wl.tensor(z, requires_grad=True)
    value = losses.cross_entropy(x, 2, reduction=reduction)
    value.backward()
    assert value.shape == ()
    np.testing.assert_allclose(value.item(), expected.item(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tz.grad.numpy(), rtol=1e-12, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_values_match_torch_on_arbitrary_floats(data):
    """Values (kinks and ties included: a value has no subgradient to choose)."""
    shape = data.draw(shapes)
    floats = st.floats(-10, 10, allow_nan=False, width=64)
    pred = data.draw(hnp.arrays(np.float64, shape, elements=floats))
    target = data.draw(hnp.arrays(np.float64, shape, elements=floats))
    signs = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0])))
    tp, tt, ts = (torch.tensor(a) for a in (pred, target, signs))
    for reduction in REDUCTIONS:
        pairs = [
            (losses.squared(pred, target, reduction=reduction),
             F.mse_loss(tp, tt, reduction=reduction)),
            (losses.absolute(pred, target, reduction=reduction),
             F.l1_loss(tp, tt, reduction=reduction)),
            (losses.huber(pred, target, 1.5, reduction=reduction),
             F.huber_loss(tp, tt, reduction=reduction, delta=1.5)),
            (losses.hinge(pred, signs, reduction=reduction),
             _torch_hinge(tp, ts, reduction)),
            (losses.binary_cross_entropy_with_logits(pred, (signs + 1) / 2,
                                                     reduction=reduction),
             F.binary_cross_entropy_with_logits(tp, (ts + 1) / 2, reduction=reduction)),
        ]
        # atol=1e-12 passed any loss of a near-perfect fit below 1e-12. The losses are >= 0
        # (their sums do not cancel), but torch's binary_cross_entropy_with_logits is exact
        # to ~9e-16 absolute only (1.9e-11 relative at z = -10, y = 0): 2e-15 an element
        for ours, theirs in pairs:
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12,
                                       atol=2e-15 * pred.size)


# ----------------------------------------------------------------------- finite differences


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", sorted(ELEMENTWISE))
def test_gradients_match_finite_differences(case, reduction):
    ours, _, make = ELEMENTWISE[case]
    rng = np.random.default_rng(7)
    pred, target = make(rng, (3, 2))
    # rev and fwd modes: the full Jacobian for "none"
    wl.check_grad(lambda p: ours(p, target, reduction=reduction), wl.tensor(pred),
                  rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_gradient_matches_finite_differences(reduction):
    rng = np.random.default_rng(3)
    z = rng.normal(size=(4, 3))
    labels = np.array([0, 2, 1, 2])
    wl.check_grad(lambda x: losses.cross_entropy(x, labels, reduction=reduction),
                  wl.tensor(z), rtol=1e-6, atol=1e-7)


def test_second_order_of_a_smooth_loss():
    rng = np.random.default_rng(4)
    z, y = _logits(rng, (4,))
    wl.check_grad(lambda x: losses.binary_cross_entropy_with_logits(x, y), wl.tensor(z),
                  order=2, rtol=1e-5, atol=1e-6)


def test_target_that_requires_grad_gets_its_gradient():
    rng = np.random.default_rng(5)
    pred, target = _regression(rng, (5,))
    y = wl.tensor(target, requires_grad=True)
    losses.squared(wl.tensor(pred), y).backward()
    ty = torch.tensor(target, requires_grad=True)
    F.mse_loss(torch.tensor(pred), ty).backward()
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-12)


# ----------------------------------------------------------------------- kinks


def test_hinge_subgradient_is_zero_at_the_kink():
    s = wl.tensor([1.0, -1.0, 0.5, 2.0], requires_grad=True)
    y = [1.0, -1.0, 1.0, 1.0]  # y*s = 1, 1, 0.5, 2
    loss = losses.hinge(s, y, reduction="sum")
    loss.backward()
    assert loss.item() == 0.5
    assert s.grad.tolist() == [0.0, 0.0, -1.0, 0.0]
    assert wl.grad(lambda t: losses.hinge(t, y, reduction="sum"))(s.detach()).tolist() == \
        [0.0, 0.0, -1.0, 0.0]


def test_absolute_subgradient_is_zero_where_prediction_equals_target_as_torch():
    p = wl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    losses.absolute(p, [1.0, 1.0, 4.0], reduction="sum").backward()
    tp = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    F.l1_loss(tp, torch.tensor([1.0, 1.0, 4.0]), reduction="sum").backward()
    assert p.grad.tolist() == tp.grad.tolist() == [0.0, 1.0, -1.0]


@pytest.mark.parametrize("delta", [0.5, 1.0, 2.0])
def test_huber_at_zero_and_at_delta_matches_torch(delta):
    pred = np.array([0.0, delta, -delta, 1.0])
    target = np.array([0.0, 0.0, 0.0, 1.0])
    p = wl.tensor(pred, requires_grad=True)
    value = losses.huber(p, target, delta, reduction="sum")
    value.backward()
    tp = torch.tensor(pred, requires_grad=True)
    expected = F.huber_loss(tp, torch.tensor(target), reduction="sum", delta=delta)
    expected.backward()
    np.testing.assert_allclose(value.item(), expected.item(), rtol=1e-15)
    np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-15)
    assert p.grad.tolist() == [0.0, delta, -delta, 0.0]


# ----------------------------------------------------------------------- zero_one


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@settings(max_examples=15, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_zero_one_matches_numpy(requires_grad, reduction, shape, seed):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=shape)
    scores[rng.uniform(size=shape) < 0.2] = 0.0  # a score of 0 is an error
    y = rng.choice([-1, 1], size=shape)
    errors = (np.sign(scores) != y).astype(np.float64)
    expected = {"mean": errors.mean(), "sum": errors.sum(), "none": errors}[reduction]
    value = losses.zero_one(wl.tensor(scores, requires_grad=requires_grad), y,
                            reduction=reduction)
    assert value.dtype == np.float64
    assert value.shape == np.shape(expected)
    np.testing.assert_array_equal(value.numpy(), expected)


def test_zero_one_counts_a_zero_score_as_an_error_for_either_label():
    value = losses.zero_one(wl.tensor([0.0, 0.0, 1.0, -1.0]), [1, -1, 1, -1],
                            reduction="none")
    assert value.tolist() == [1.0, 1.0, 0.0, 0.0]


def _assert_zero_one_error(excinfo):
    message = str(excinfo.value)
    assert "zero_one" in message
    assert "hinge" in message


def test_zero_one_backward_raises_naming_zero_one_and_suggesting_hinge():
    s = wl.tensor([2.0, -1.0, 0.5], requires_grad=True)
    value = losses.zero_one(s, [1, 1, -1])
    assert value.item() == pytest.approx(2 / 3)
    with pytest.raises(RuntimeError) as excinfo:
        value.backward()
    _assert_zero_one_error(excinfo)
    assert s.grad is None


def test_zero_one_inside_a_larger_expression_raises_too():
    s = wl.tensor([2.0, -1.0, 0.5], requires_grad=True)
    y = [1, 1, -1]
    with pytest.raises(RuntimeError) as excinfo:
        (losses.hinge(s, y) + 0.0 * losses.zero_one(s, y)).backward()
    _assert_zero_one_error(excinfo)


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "jacrev", "jacfwd", "jvp"])
def test_zero_one_under_transforms_raises(transform):
    y = np.array([1, -1, 1])
    s = wl.tensor([0.3, 0.2, -4.0])

    def f(t):
        return losses.zero_one(t, y)

    with pytest.raises(RuntimeError) as excinfo:
        if transform == "jvp":
            wl.jvp(f, (s,), (wl.ones(3),))
        else:
            getattr(wl, transform)(f)(s)
    _assert_zero_one_error(excinfo)


def test_zero_one_for_reporting_beside_a_loss_does_not_disturb_training():
    s = wl.tensor([2.0, -1.0, 0.5], requires_grad=True)
    y = [1, 1, -1]
    loss = losses.hinge(s, y)
    rate = losses.zero_one(s, y)
    loss.backward()
    assert rate.item() == pytest.approx(2 / 3)
    np.testing.assert_allclose(s.grad.numpy(), [0.0, -1 / 3, 1 / 3], rtol=1e-15, atol=0)
    with wl.no_grad():
        assert not losses.zero_one(s, y).requires_grad
    assert not losses.zero_one(s.detach(), y).requires_grad


# ----------------------------------------------------------------------- extremes


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_cross_entropy_at_zero_and_one_is_finite(dtype):
    p = wl.tensor(np.array([0.0, 1.0, 0.0, 1.0], dtype=dtype), requires_grad=True)
    y = [1.0, 0.0, 0.0, 1.0]
    value = losses.binary_cross_entropy(p, y, reduction="none")
    value.sum().backward()
    eps = float(np.finfo(dtype).eps)
    assert value.dtype == dtype
    assert np.all(np.isfinite(value.numpy())) and np.all(np.isfinite(p.grad.numpy()))
    np.testing.assert_allclose(value.numpy(), [-math.log(eps)] * 2 + [0.0] * 2,
                               rtol=1e-6, atol=1e-6)
    g = p.grad.numpy()
    assert g[0] < 0 < g[1]  # the wrong confident answers are pushed back inside
    # the correct confident answers: nearly flat
    assert abs(g[2]) < 2 and abs(g[3]) < 2


def test_binary_cross_entropy_inside_the_clip_is_not_clipped():
    # (not closer to 0 and 1: PyTorch's gradient clamps p(1 - p) at 1e-12)
    p = np.array([1e-9, 0.5, 1 - 1e-9])
    y = np.array([1.0, 1.0, 0.0])
    tp = torch.tensor(p, requires_grad=True)
    F.binary_cross_entropy(tp, torch.tensor(y), reduction="sum").backward()
    x = wl.tensor(p, requires_grad=True)
    value = losses.binary_cross_entropy(x, y, reduction="sum")
    value.backward()
    np.testing.assert_allclose(value.item(), F.binary_cross_entropy(
        torch.tensor(p), torch.tensor(y), reduction="sum").item(), rtol=1e-9)
    np.testing.assert_allclose(x.grad.numpy(), tp.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_at_1000_matches_torch(reduction):
    z = np.array([1000.0, -1000.0, 1000.0, -1000.0, 750.0, -750.0])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.3, 0.7])
    x = wl.tensor(z, requires_grad=True)
    value = losses.binary_cross_entropy_with_logits(x, y, reduction=reduction)
    value.sum().backward()
    tz = torch.tensor(z, requires_grad=True)
    expected = F.binary_cross_entropy_with_logits(tz, torch.tensor(y), reduction=reduction)
    expected.sum().backward()
    assert np.all(np.isfinite(value.numpy())) and np.all(np.isfinite(x.grad.numpy()))
    np.testing.assert_allclose(value.numpy(), expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tz.grad.numpy(), rtol=1e-12, atol=1e-15)
    g = wl.grad(lambda t: losses.binary_cross_entropy_with_logits(t, y, reduction=reduction)
                .sum())(z)
    np.testing.assert_allclose(g.numpy(), tz.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_binary_cross_entropy_with_logits_keeps_small_losses():
    """softplus(z) - y*z would round 40 + 4e-18 - 40 to 0."""
    value = losses.binary_cross_entropy_with_logits(wl.tensor([40.0, -40.0]), [1.0, 0.0],
                                                    reduction="none")
    np.testing.assert_allclose(value.numpy(), [math.exp(-40)] * 2, rtol=1e-12)


def test_cross_entropy_with_huge_logits_is_finite():
    z = wl.tensor([[1000.0, -1000.0, 0.0], [-1e4, 1e4, 0.0]], requires_grad=True)
    value = losses.cross_entropy(z, [1, 1], reduction="none")
    value.sum().backward()
    np.testing.assert_allclose(value.numpy(), [2000.0, 0.0])
    assert np.all(np.isfinite(z.grad.numpy()))


# ----------------------------------------------------------------------- inputs


@pytest.mark.parametrize("convert", [np.asarray, list, wl.tensor],
                         ids=["ndarray", "list", "Tensor"])
def test_targets_may_be_arrays_lists_or_tensors(convert):
    pred = wl.tensor([0.5, -2.0, 3.0])
    y = [1.0, -1.0, 1.0]
    assert losses.squared(pred, convert(y)).item() == pytest.approx((0.25 + 1 + 4) / 3)
    assert losses.hinge(pred, convert(y), reduction="sum").item() == pytest.approx(0.5)
    assert losses.cross_entropy(wl.zeros(2, 3), convert([0, 2])).item() == \
        pytest.approx(math.log(3))


def test_a_scalar_target_is_compared_with_every_prediction():
    pred = wl.tensor([1.0, -2.0, 3.0])
    assert losses.squared(pred, 0.0, reduction="none").tolist() == [1.0, 4.0, 9.0]
    assert losses.hinge(pred, 1, reduction="none").tolist() == [0.0, 3.0, 0.0]


def test_the_loss_has_the_prediction_dtype():
    pred = wl.tensor(np.array([0.5, 0.25], dtype=np.float32), requires_grad=True)
    value = losses.squared(pred, np.array([0.0, 1.0]))  # float64 target
    assert value.dtype == np.float32
    value.backward()
    assert pred.grad.dtype == np.float32


def test_integer_predictions_are_promoted():
    value = losses.squared([1, 2], [0, 0], reduction="none")
    assert value.dtype == np.float64 and value.tolist() == [1.0, 4.0]


def test_cross_entropy_accepts_integral_float_labels():
    z = wl.tensor([[1.0, 2.0], [3.0, 0.0]])
    assert losses.cross_entropy(z, np.array([1.0, 0.0])).item() == \
        pytest.approx(losses.cross_entropy(z, [1, 0]).item())


# ----------------------------------------------------------------------- errors

ALL = {
    "squared": losses.squared,
    "absolute": losses.absolute,
    "huber": losses.huber,
    "hinge": losses.hinge,
    "zero_one": losses.zero_one,
    "binary_cross_entropy": losses.binary_cross_entropy,
    "binary_cross_entropy_with_logits": losses.binary_cross_entropy_with_logits,
}


@pytest.mark.parametrize("name", sorted(ALL))
@pytest.mark.parametrize("pred_shape, target_shape", [((4, 1), (4,)), ((4,), (4, 1)),
                                                      ((3, 1), (1, 3)), ((4,), (1,))])
def test_broadcasting_trap_names_both_shapes(name, pred_shape, target_shape):
    pred = wl.full(pred_shape, 0.5)
    target = np.ones(target_shape)
    with pytest.raises(ValueError) as excinfo:
        ALL[name](pred, target)
    message = str(excinfo.value)
    assert str(pred_shape) in message and str(target_shape) in message
    assert name in message


@pytest.mark.parametrize("name", sorted(ALL))
def test_shapes_that_cannot_broadcast_name_both_shapes(name):
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        ALL[name](wl.full((3,), 0.5), np.ones(4))


@pytest.mark.parametrize("reduction", ["avg", "MEAN", None, ""])
@pytest.mark.parametrize("name", sorted(ALL) + ["cross_entropy"])
def test_bad_reduction_names_it_and_the_allowed_values(name, reduction):
    loss = losses.cross_entropy if name == "cross_entropy" else ALL[name]
    args = (wl.zeros(2, 2), [0, 1]) if name == "cross_entropy" else (wl.full(2, 0.5),
                                                                     [1.0, 1.0])
    with pytest.raises(ValueError) as excinfo:
        loss(*args, reduction=reduction)
    message = str(excinfo.value)
    assert repr(reduction) in message
    assert all(repr(r) in message for r in REDUCTIONS)


@pytest.mark.parametrize("delta", [0.0, -1.0, float("nan")])
def test_huber_rejects_a_non_positive_delta(delta):
    with pytest.raises(ValueError, match="delta"):
        losses.huber(wl.zeros(2), [1.0, 2.0], delta)


@pytest.mark.parametrize("labels, bad, position", [([0, 3, 1], 3, 1), ([0, 1, -1], -1, 2),
                                                   ([2, 1, 7], 7, 2)])
def test_cross_entropy_names_the_bad_label_and_its_position(labels, bad, position):
    with pytest.raises(ValueError) as excinfo:
        losses.cross_entropy(wl.zeros(3, 3), labels)
    message = str(excinfo.value)
    assert f"label {bad}" in message and f"position {position}" in message
    assert "3 classes" in message


def test_cross_entropy_rejects_column_labels_naming_both_shapes():
    with pytest.raises(ValueError) as excinfo:
        losses.cross_entropy(wl.zeros(4, 3), np.zeros((4, 1), dtype=int))
    assert "(4, 3)" in str(excinfo.value) and "(4, 1)" in str(excinfo.value)


def test_cross_entropy_rejects_non_integer_labels():
    with pytest.raises(ValueError, match=r"0\.5"):
        losses.cross_entropy(wl.zeros(2, 3), [0.5, 1.0])
    with pytest.raises(TypeError, match="integer"):
        losses.cross_entropy(wl.zeros(2, 3), [True, False])
    with pytest.raises(ValueError, match=r"\(2, 3, 1\)"):
        losses.cross_entropy(wl.zeros(2, 3, 1), [0, 1])


@pytest.mark.parametrize("name", ["hinge", "zero_one"])
def test_labels_must_be_plus_or_minus_one(name):
    with pytest.raises(ValueError) as excinfo:
        ALL[name](wl.zeros(3), [1, 0, -1])
    message = str(excinfo.value)
    assert "got 0 at position 1" in message and name in message


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_targets_of_binary_cross_entropy_lie_in_the_unit_interval(name):
    with pytest.raises(ValueError, match=r"-1.* at position 2"):
        ALL[name](wl.full(3, 0.5), [1.0, 0.0, -1.0])


def test_probabilities_outside_the_unit_interval_are_rejected():
    with pytest.raises(ValueError, match=r"1\.5 at position 1"):
        losses.binary_cross_entropy(wl.tensor([0.5, 1.5]), [1.0, 0.0])


# ------------------------------------------------------------------- clear shape errors


def test_a_shape_error_about_labels_reads_as_english():
    """It said "pairing every prediction with every labels"."""
    with pytest.raises(ValueError, match="pairing every prediction with every label instead "
                                         "of each with its own"):
        losses.hinge(wl.zeros(3, 1), np.ones(3))


def test_a_one_element_target_is_refused_as_repeated_not_as_a_table():
    """(3,) against (1,) was described as pairing every prediction with every target."""
    with pytest.raises(ValueError, match=r"broadcast to \(3,\), repeating one side instead of "
                                         r"pairing each prediction with its own target\. .*a "
                                         r"number or a 0-d array"):
        losses.squared(wl.zeros(3), np.ones(1))


def test_cross_entropy_of_one_example_asks_for_one_label():
    """A list of one label got the hint "ravel them first", which changes nothing."""
    with pytest.raises(ValueError, match=r"logits of shape \(2,\) are one example and need one "
                                         r"label, a number or a 0-d array, got labels of shape "
                                         r"\(1,\)$"):
        losses.cross_entropy(wl.tensor([1.0, 2.0]), [1])


def test_cross_entropy_of_logits_without_classes_says_so():
    """It said "labels must be in 0..-1"."""
    with pytest.raises(ValueError, match=r"logits of shape \(2, 0\) have no classes"):
        losses.cross_entropy(np.zeros((2, 0)), [0, 0])
