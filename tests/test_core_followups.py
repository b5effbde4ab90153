"""PyTorch's habits around ``backward`` and ``.grad``, and transforms that leave the
caller's NumPy arrays alone: each checked against PyTorch or against the out-of-place
function."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import wonderland as wl

# ----------------------------------------------------------------------- .grad of a non-leaf


def test_reading_the_grad_of_a_non_leaf_warns_as_pytorch_does():
    w = wl.randn(3, requires_grad=True) * 0.1  # the learner's slip: w is not a leaf
    (w * w).sum().backward()
    with pytest.warns(UserWarning, match=r"not a leaf \(made by mul\).*retain_grad"):
        assert w.grad is None
    tw = torch.randn(3, requires_grad=True) * 0.1
    (tw * tw).sum().backward()
    with pytest.warns(UserWarning):
        assert tw.grad is None


def test_no_warning_for_leaves_or_retained_non_leaves():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is None and y.grad is None  # before backward: nothing, quietly
        (y * y).sum().backward()
        assert y.grad.tolist() == [4.0, 8.0]
        assert x.grad.tolist() == [8.0, 16.0]
        assert wl.tensor(1.0).grad is None  # a constant is a leaf


# ----------------------------------------------------------------------- backward(inputs=)


def _pair(m):
    x = m.tensor([2.0, -1.0], requires_grad=True)
    w = m.tensor([3.0, 0.5], requires_grad=True)
    return x, w


@pytest.mark.parametrize("as_list", [True, False])
def test_backward_inputs_fills_only_those_grads_as_pytorch(as_list):
    results = []
    for m in (wl, torch):
        x, w = _pair(m)
        y = (x * w).sum() ** 2
        y.backward(inputs=[w] if as_list else w)
        results.append((x.grad, w.grad.tolist()))
    (wx, ww), (tx, tw) = results
    assert wx is None and tx is None
    np.testing.assert_allclose(ww, tw)


def test_backward_inputs_reaches_a_non_leaf_and_accumulates():
    grads = []
    for m in (wl, torch):
        x, w = _pair(m)
        z = x * w
        loss = (z * z).sum()
        loss.backward(inputs=[z, x, z], retain_graph=True)  # a repeated input counts once
        loss.backward(inputs=[z])  # adds into z.grad
        grads.append((z.grad.tolist(), x.grad.tolist(), w.grad))
    (wz, wx, ww), (tz, tx, tw) = grads
    np.testing.assert_allclose(wz, tz)
    np.testing.assert_allclose(wx, tx)
    assert ww is None and tw is None


def test_backward_inputs_with_create_graph_gives_a_differentiable_grad():
    x = wl.tensor(3.0, requires_grad=True)
    (x ** 3).backward(inputs=[x], create_graph=True)
    (g,) = wl.autograd.grad(x.grad, x)
    assert x.grad.item() == 27.0 and g.item() == 18.0


@pytest.mark.parametrize("inputs, error, match", [
    ([], ValueError, "inputs is empty"),
    ([wl.tensor(1.0)], RuntimeError, r"input 0 \(shape \(\)\) does not require grad"),
    ([np.ones(2)], RuntimeError, r"input 0 \(a ndarray\) is not a Tensor"),
])
def test_backward_inputs_refused_clearly(inputs, error, match):
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(error, match=match):
        (x * x).sum().backward(inputs=inputs)


def test_backward_inputs_is_autograd_backward_inputs():
    x, w = _pair(wl)
    (x * w).sum().backward(inputs=[x])
    x2, w2 = _pair(wl)
    wl.autograd.backward((x2 * w2).sum(), inputs=[x2])
    assert x.grad.tolist() == x2.grad.tolist() and w.grad is None and w2.grad is None


# ----------------------------------------------------------------------- freed graphs


def test_second_pass_after_autograd_grad_names_autograd_grad():
    x = wl.tensor(2.0, requires_grad=True)
    y = wl.sin(x) * x
    wl.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match=r"retain_graph=True to the first backward\(\) or "
                                           r"autograd.grad\(\)"):
        wl.autograd.grad(y, x)


# ----------------------------------------------------------------------- the caller's arrays


def _bump(v):
    v += 1.0  # an in-place op on the transform's input
    v[0] = v[0] * 3.0
    return v * v


def _bump_pure(v):
    v = v + 1.0
    v = wl.concatenate([v[:1] * 3.0, v[1:]])
    return v * v


@pytest.mark.parametrize("transform", [
    lambda f, x: wl.jvp(f, (x,), (np.array([1.0, -2.0]),)),
    lambda f, x: wl.jacfwd(f)(x),
    lambda f, x: wl.jacrev(f)(x),
    lambda f, x: wl.hessian(lambda v: f(v).sum())(x),
    lambda f, x: wl.vjp(f, x)[1](np.array([1.0, 1.0])),
], ids=["jvp", "jacfwd", "jacrev", "hessian", "vjp"])
def test_transforms_leave_the_callers_numpy_array_unchanged(transform):
    x = np.array([1.0, 2.0])
    try:
        got = transform(_bump, x)
    except RuntimeError as exc:  # reverse mode refuses in-place ops on its inputs, clearly
        assert "in-place" in str(exc)
        got = None
    assert x.tolist() == [1.0, 2.0]
    if got is not None:
        expected = transform(_bump_pure, np.array([1.0, 2.0]))
        for a, b in zip(np.atleast_1d(np.asarray(got, dtype=object)),
                        np.atleast_1d(np.asarray(expected, dtype=object))):
            np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float))


def test_jvp_of_the_identity_does_not_hand_back_the_callers_array_to_write_into():
    x = np.array([1.0, 2.0])
    out, tangent = wl.jvp(lambda v: v, (x,), (np.ones(2),))
    out += 5.0
    assert x.tolist() == [1.0, 2.0] and out.tolist() == [6.0, 7.0]
    assert tangent.tolist() == [1.0, 1.0]
