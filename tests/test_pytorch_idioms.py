"""The idioms a PyTorch user types first: ``wl.autograd.grad``, the Tensor methods PyTorch
spells its own way (``add_(alpha=)``, ``var(unbiased=)``, ``clamp_``, ``t``, ``mm``,
``repeat``, ``masked_fill``, …), ``from_numpy``/``as_tensor``, ``allclose``/``isclose``,
the ``*_like`` creators, ``inference_mode`` and ``optim.SGD``.

Everything that computes is checked against PyTorch (float64): values, and gradients
where the operation is differentiable.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import wonderland as wl

RNG = np.random.default_rng(20240611)


def T(a, requires_grad=False):
    """A float64 PyTorch tensor from NumPy values."""
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def W(a, requires_grad=False):
    """A float64 wonderland tensor from NumPy values."""
    return wl.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def close(ours, theirs, rtol=1e-10, atol=1e-12):
    """Assert that a wonderland tensor (or None) equals a PyTorch one (or None)."""
    if theirs is None:
        assert ours is None
        return
    assert ours is not None
    np.testing.assert_allclose(np.asarray(ours.numpy()), theirs.detach().numpy(), rtol=rtol,
                               atol=atol)


# ====================================================================== wl.autograd.grad


def test_autograd_is_a_module_with_grad():
    import wonderland.autograd as autograd

    assert wl.autograd is autograd
    assert callable(wl.autograd.grad)


def test_grad_scalar_output_single_input_matches_torch():
    a = RNG.normal(size=(3, 2))
    x, xt = W(a, True), T(a, True)
    (g,) = wl.autograd.grad((wl.sin(x) * x).sum(), x)
    (gt,) = torch.autograd.grad((torch.sin(xt) * xt).sum(), xt)
    close(g, gt)
    assert x.grad is None  # nothing accumulated
    assert not g.requires_grad


def test_grad_returns_a_tuple_even_for_one_tensor_input():
    x = W([1.0, 2.0], True)
    result = wl.autograd.grad((x * x).sum(), x)
    assert isinstance(result, tuple) and len(result) == 1


def test_grad_several_outputs_inputs_and_grad_outputs_match_torch():
    a, b = RNG.normal(size=(4,)), RNG.normal(size=(4, 3))
    v1, v2 = RNG.normal(size=(3,)), RNG.normal(size=())
    x, y = W(a, True), W(b, True)
    xt, yt = T(a, True), T(b, True)
    outs = [x @ y, (x * x).sum() * y.sum()]
    outs_t = [xt @ yt, (xt * xt).sum() * yt.sum()]
    gx, gy = wl.autograd.grad(outs, [x, y], grad_outputs=[W(v1), W(v2)])
    gxt, gyt = torch.autograd.grad(outs_t, [xt, yt], grad_outputs=[T(v1), T(v2)])
    close(gx, gxt)
    close(gy, gyt)


def test_grad_outputs_may_be_arrays_and_none_for_scalars():
    a = RNG.normal(size=3)
    x, xt = W(a, True), T(a, True)
    v = RNG.normal(size=3)
    gx, = wl.autograd.grad([x * 2.0, (x ** 2).sum()], x, grad_outputs=[v, None])
    gxt, = torch.autograd.grad([xt * 2.0, (xt ** 2).sum()], xt, grad_outputs=[T(v), None])
    close(gx, gxt)


def test_grad_with_respect_to_an_intermediate_tensor_matches_torch():
    a = RNG.normal(size=(5,))
    x, xt = W(a, True), T(a, True)
    h, ht = wl.tanh(x), torch.tanh(xt)
    gh, gx = wl.autograd.grad((h ** 3).sum(), [h, x])
    ght, gxt = torch.autograd.grad((ht ** 3).sum(), [ht, xt])
    close(gh, ght)
    close(gx, gxt)


def test_grad_of_an_input_with_respect_to_itself():
    x = W([1.0, 2.0], True)
    (g,) = wl.autograd.grad(x, x, grad_outputs=wl.tensor([3.0, 4.0]))
    assert g.tolist() == [3.0, 4.0]


def test_grad_create_graph_gives_second_derivatives_matching_torch():
    a, v = RNG.normal(size=4), RNG.normal(size=4)
    x, xt = W(a, True), T(a, True)
    (g,) = wl.autograd.grad((wl.exp(x) * x ** 2).sum(), x, create_graph=True)
    (gt,) = torch.autograd.grad((torch.exp(xt) * xt ** 2).sum(), xt, create_graph=True)
    assert g.requires_grad
    close(g, gt)
    (hv,) = wl.autograd.grad(g, x, grad_outputs=W(v))  # Hessian-vector product
    (hvt,) = torch.autograd.grad(gt, xt, grad_outputs=T(v))
    close(hv, hvt)


def test_grad_frees_the_graph_unless_retained():
    x = W([1.0, 2.0], True)
    y = (x * x).sum()
    wl.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="second time"):
        wl.autograd.grad(y, x)
    z = (x * x).sum()
    first = wl.autograd.grad(z, x, retain_graph=True)[0]
    second = wl.autograd.grad(z, x)[0]
    assert first.tolist() == second.tolist() == [2.0, 4.0]


def test_grad_unused_input_is_an_error_unless_allowed():
    x, unused = W([1.0, 2.0], True), W([5.0], True)
    with pytest.raises(RuntimeError, match=r"input 1 \(shape \(1,\)\).*allow_unused=True"):
        wl.autograd.grad((x * x).sum(), [x, unused])
    gx, gu = wl.autograd.grad((x * x).sum(), [x, unused], allow_unused=True)
    gxt, gut = torch.autograd.grad((T([1.0, 2.0], True) ** 2).sum(),
                                   [T([1.0, 2.0], True), T([5.0], True)], allow_unused=True)
    assert gx.tolist() == [2.0, 4.0] and gu is None and gut is None


def test_grad_materialize_grads_gives_zeros():
    x, unused = W([1.0, 2.0], True), W([[5.0, 6.0]], True)
    _, gu = wl.autograd.grad((x * x).sum(), [x, unused], materialize_grads=True)
    assert gu.shape == (1, 2) and gu.tolist() == [[0.0, 0.0]]
    with pytest.raises(ValueError, match="allow_unused"):
        wl.autograd.grad((x * x).sum(), [x, unused], allow_unused=False,
                         materialize_grads=True)


def test_grad_same_input_twice_gives_equal_separate_tensors():
    x = W([1.0, 2.0], True)
    g1, g2 = wl.autograd.grad((x ** 2).sum(), [x, x])
    assert g1.tolist() == g2.tolist() == [2.0, 4.0]
    assert g1 is not g2


def test_grad_is_grads_batched_matches_torch():
    a, m = RNG.normal(size=(3,)), RNG.normal(size=(4, 3))
    basis = RNG.normal(size=(5, 4))
    x, xt = W(a, True), T(a, True)
    (g,) = wl.autograd.grad(W(m) @ wl.sin(x), x, grad_outputs=W(basis), is_grads_batched=True)
    (gt,) = torch.autograd.grad(T(m) @ torch.sin(xt), xt, grad_outputs=T(basis),
                                is_grads_batched=True)
    assert g.shape == (5, 3)
    close(g, gt)


def test_grad_works_inside_no_grad_on_a_graph_made_outside():
    x = W([1.0, 3.0], True)
    y = (x ** 2).sum()
    with wl.no_grad():
        (g,) = wl.autograd.grad(y, x)
    assert g.tolist() == [2.0, 6.0]


def test_grad_non_scalar_output_without_grad_outputs_names_the_shape():
    x = W([1.0, 2.0], True)
    with pytest.raises(ValueError, match=r"\(2,\).*grad_outputs"):
        wl.autograd.grad(x * 2, x)


def test_grad_outputs_of_the_wrong_shape_name_both_shapes():
    x = W([1.0, 2.0], True)
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] has shape \(3,\).*\(2,\)"):
        wl.autograd.grad(x * 2, x, grad_outputs=wl.ones(3))
    with pytest.raises(ValueError, match="2 grad_outputs for 1 outputs"):
        wl.autograd.grad(x * 2, x, grad_outputs=[wl.ones(2), wl.ones(2)])


def test_grad_refuses_outputs_and_inputs_that_do_not_require_grad():
    x, c = W([1.0, 2.0], True), W([1.0, 2.0])
    with pytest.raises(RuntimeError, match="output 0 .* does not require grad"):
        wl.autograd.grad((c * c).sum(), x)
    with pytest.raises(RuntimeError, match="input 0 .* does not require grad"):
        wl.autograd.grad((x * c).sum(), c)
    with pytest.raises(TypeError, match=r"inputs\[0\] is a list"):
        wl.autograd.grad((x * x).sum(), [[1.0]])


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                  elements=st.floats(-3, 3)))
def test_grad_equals_backward_and_torch(a):
    """Property: ``autograd.grad`` gives what ``backward`` accumulates, and what PyTorch gives."""
    x, xt = W(a, True), T(a, True)
    (g,) = wl.autograd.grad((wl.tanh(x) * x + x ** 2).sum(), x)
    leaf = W(a, True)
    (wl.tanh(leaf) * leaf + leaf ** 2).sum().backward()
    np.testing.assert_allclose(g.numpy(), leaf.grad.numpy(), rtol=1e-12)
    (gt,) = torch.autograd.grad((torch.tanh(xt) * xt + xt ** 2).sum(), xt)
    close(g, gt)


def test_grad_composes_with_the_functional_transforms():
    def first_derivative(x):
        if not x.requires_grad:  # under jvp the input carries a tangent, not a graph
            x = x.requires_grad_()
        return wl.autograd.grad((x ** 3).sum(), x, create_graph=True)[0]

    x = wl.tensor([1.0, 2.0])
    _, tangent = wl.jvp(first_derivative, (x,), (wl.tensor([1.0, -1.0]),))
    assert tangent.tolist() == [6.0, -12.0]  # d/dx 3x² = 6x, along (1, -1)
    assert wl.grad(lambda x: first_derivative(x).sum())(x).tolist() == [6.0, 12.0]


def test_autograd_backward_several_roots_matches_torch():
    a = RNG.normal(size=3)
    v = RNG.normal(size=3)
    x, xt = W(a, True), T(a, True)
    wl.autograd.backward([(x ** 2).sum(), wl.sin(x)], [None, W(v)])
    torch.autograd.backward([(xt ** 2).sum(), torch.sin(xt)], [None, T(v)])
    close(x.grad, xt.grad)


# ====================================================================== Tensor methods


def test_add_sub_with_alpha_out_of_place_match_torch():
    a, b = RNG.normal(size=(2, 3)), RNG.normal(size=(3,))
    x, y, xt, yt = W(a, True), W(b, True), T(a, True), T(b, True)
    out = x.add(y, alpha=2.5).sub(y * x, alpha=-0.5)
    out_t = xt.add(yt, alpha=2.5).sub(yt * xt, alpha=-0.5)
    close(out, out_t)
    out.sum().backward()
    out_t.sum().backward()
    close(x.grad, xt.grad)
    close(y.grad, yt.grad)
    close(x.mul(y).div(2.0), (xt * yt) / 2.0)


def test_add_sub_in_place_with_alpha_match_torch_under_no_grad():
    a, g = RNG.normal(size=4), RNG.normal(size=4)
    x, xt = W(a, True), T(a, True)
    with wl.no_grad():
        assert x.add_(W(g), alpha=-0.1) is x
        x.sub_(2.0, alpha=3)
    with torch.no_grad():
        xt.add_(T(g), alpha=-0.1)
        xt.sub_(2.0, alpha=3)
    close(x, xt)
    assert x.is_leaf and x.requires_grad


def test_add_in_place_with_alpha_is_recorded_matching_torch():
    a, b = RNG.normal(size=3), RNG.normal(size=3)
    x, y, xt, yt = W(a, True), W(b, True), T(a, True), T(b, True)
    h, ht = x * x, xt * xt
    h.add_(y, alpha=-2.0)
    ht.add_(yt, alpha=-2.0)
    (h * h).sum().backward()
    (ht * ht).sum().backward()
    close(x.grad, xt.grad)
    close(y.grad, yt.grad)


def test_add_in_place_on_a_leaf_that_requires_grad_is_refused():
    x = W([1.0], True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x.add_(1.0, alpha=2)
    with pytest.raises(TypeError, match="alpha must be a number"):
        W([1.0]).add_(1.0, alpha="2")


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("unbiased", [True, False])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), ((0, 1), False)])
def test_var_std_unbiased_match_torch(name, unbiased, dim, keepdim):
    a = RNG.normal(size=(4, 3))
    x, xt = W(a, True), T(a, True)
    out = getattr(x, name)(dim=dim, keepdim=keepdim, unbiased=unbiased)
    out_t = getattr(xt, name)(dim=dim, keepdim=keepdim, unbiased=unbiased)
    close(out, out_t)
    w = RNG.normal(size=out.shape)
    (out * W(w)).sum().backward()
    (out_t * T(w)).sum().backward()
    close(x.grad, xt.grad)


def test_var_std_defaults_are_the_population_form():
    a = RNG.normal(size=6)
    x, xt = W(a), T(a)
    close(x.var(), xt.var(correction=0))
    close(x.std(), xt.std(correction=0))
    close(x.var(True), xt.var(True))  # PyTorch's positional unbiased
    close(x.std(False), xt.std(False))
    close(x.var(correction=1), xt.var(correction=1))
    close(x.var(ddof=1), xt.var(correction=1))


def test_var_unbiased_with_correction_is_refused():
    with pytest.raises(TypeError, match="one of unbiased, correction and ddof"):
        W([1.0, 2.0]).var(unbiased=True, correction=1)
    with pytest.raises(TypeError, match="unbiased must be True or False"):
        W([1.0, 2.0]).std(unbiased=1)


def test_clamp_in_place_matches_torch_values_and_gradients():
    a = np.array([-2.0, -1.0, 0.3, 1.0, 4.0])  # both bounds hit exactly
    x, xt = W(a, True), T(a, True)
    h, ht = x * 1.0, xt * 1.0
    assert h.clamp_(-1.0, 1.0) is h
    ht.clamp_(-1.0, 1.0)
    close(h, ht)
    (h * W([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
    (ht * T([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
    close(x.grad, xt.grad)


@pytest.mark.parametrize("lo,hi", [(0.0, None), (None, 0.5), (-0.5, 0.5)])
def test_clamp_in_place_one_sided_under_no_grad_matches_torch(lo, hi):
    a = RNG.normal(size=(3, 4))
    x, xt = W(a, True), T(a, True)
    with wl.no_grad():
        x.clamp_(lo, hi)
    with torch.no_grad():
        xt.clamp_(lo, hi)
    close(x, xt)
    assert x.is_leaf and x.requires_grad
    y = W(a)
    assert y.clip_(lo, hi) is y
    close(y, xt)


def test_clamp_in_place_with_tensor_bounds_sends_gradient_to_them():
    a, lo = np.array([-2.0, 0.0, 2.0]), np.array([-1.0, -1.0, -1.0])
    x, m, xt, mt = W(a, True), W(lo, True), T(a, True), T(lo, True)
    h, ht = x * 1.0, xt * 1.0
    h.clamp_(m)
    ht.clamp_(mt)
    h.sum().backward()
    ht.sum().backward()
    close(x.grad, xt.grad)
    close(m.grad, mt.grad)


def test_clamp_in_place_errors():
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*clamp_"):
        W([1.0], True).clamp_(0.0, 0.5)
    with pytest.raises(ValueError, match="at least one of min and max"):
        W([1.0]).clamp_()
    with pytest.raises(TypeError, match="floating bound 0.5 .* int64 tensor"):
        wl.tensor([0, 1, 2]).clamp_(0.5)
    with pytest.raises(RuntimeError):
        torch.tensor([0, 1, 2]).clamp_(0.5)
    ints = wl.tensor([0, 5, 9])
    assert ints.clamp_(1, 8).tolist() == torch.tensor([0, 5, 9]).clamp_(1, 8).tolist()
    x = W([0.5, 2.0], True)
    h = x * 1.0
    z = h * h  # saves h
    h.clamp_(0.0, 1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_t_matches_torch(shape):
    a = RNG.normal(size=shape)
    x, xt = W(a, True), T(a, True)
    out, out_t = x.t(), xt.t()
    assert out.shape == tuple(out_t.shape)
    close(out, out_t)
    w = RNG.normal(size=out.shape)
    (out * W(w)).sum().backward()
    (out_t * T(w)).sum().backward()
    close(x.grad, xt.grad)


def test_t_of_more_than_two_axes_names_the_shape():
    with pytest.raises(ValueError, match=r"at most 2 dimensions, got shape \(2, 3, 4\)"):
        wl.zeros(2, 3, 4).t()


def test_dim_is_the_number_of_axes():
    for shape in [(), (3,), (2, 3, 4)]:
        assert wl.zeros(shape).dim() == torch.zeros(shape).dim() == len(shape)


def test_pow_and_neg_match_torch():
    a, e = np.abs(RNG.normal(size=4)) + 0.5, RNG.normal(size=4)
    x, y, xt, yt = W(a, True), W(e, True), T(a, True), T(e, True)
    out = x.pow(3).neg() + x.pow(y) + x.pow(0.5)
    out_t = xt.pow(3).neg() + xt.pow(yt) + xt.pow(0.5)
    close(out, out_t)
    out.sum().backward()
    out_t.sum().backward()
    close(x.grad, xt.grad)
    close(y.grad, yt.grad)


def test_mm_matches_torch():
    a, b = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4))
    x, y, xt, yt = W(a, True), W(b, True), T(a, True), T(b, True)
    close(x.mm(y), xt.mm(yt))
    (x.mm(y) ** 2).sum().backward()
    (xt.mm(yt) ** 2).sum().backward()
    close(x.grad, xt.grad)
    close(y.grad, yt.grad)


def test_mm_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(2, 3\) cannot be multiplied"):
        wl.zeros(2, 3).mm(wl.zeros(2, 3))
    with pytest.raises(ValueError, match=r"2-D.*\(2, 3, 3\) and \(3, 3\)"):
        wl.zeros(2, 3, 3).mm(wl.zeros(3, 3))
    with pytest.raises(ValueError, match=r"2-D.*\(3,\)"):
        wl.zeros(2, 3).mm(wl.zeros(3))


@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparison_methods_match_torch(name):
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    b = np.array([2.0, 2.0, 2.0])
    x = W(a, True)
    for other, other_t in [(W(b), T(b)), (2.0, 2.0)]:
        out = getattr(x, name)(other)
        out_t = getattr(T(a), name)(other_t)
        assert out.dtype == np.bool_
        assert not out.requires_grad
        np.testing.assert_array_equal(out.numpy(), out_t.numpy())


REPEATS = [((3,), (2,)), ((3,), (2, 2)), ((2, 3), (1, 1)), ((2, 3), (2, 1, 3)),
           ((), (4,)), ((), ()), ((1, 2), (3, 1)), ((2, 1), (0, 2)), ((2, 2), (1, 2, 1, 1))]


@pytest.mark.parametrize("shape,sizes", REPEATS)
def test_repeat_matches_torch_values_and_gradients(shape, sizes):
    a = RNG.normal(size=shape)
    x, xt = W(a, True), T(a, True)
    out, out_t = x.repeat(*sizes), xt.repeat(sizes)
    assert out.shape == tuple(out_t.shape)
    close(out, out_t)
    w = RNG.normal(size=out.shape)
    (out * W(w)).sum().backward()
    (out_t * T(w)).sum().backward()
    close(x.grad, xt.grad)
    assert x.repeat(sizes).shape == out.shape  # one tuple works too


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_repeat_is_numpy_tile_property(data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=3))
    extra = data.draw(st.integers(0, 2))
    sizes = tuple(data.draw(st.lists(st.integers(0, 3), min_size=len(shape) + extra,
                                     max_size=len(shape) + extra)))
    a = RNG.normal(size=shape)
    out = W(a).repeat(*sizes)
    np.testing.assert_array_equal(out.numpy(), np.tile(a, sizes))
    np.testing.assert_array_equal(out.numpy(), T(a).repeat(sizes).numpy())


def test_repeat_gradients_in_both_modes_pass_check_grad():
    wl.check_grad(lambda x: (x.repeat(2, 3) ** 2).sum(), W(RNG.normal(size=(2, 2))))
    wl.check_grad(lambda x: x.repeat(3, 1), W(RNG.normal(size=(2,))))


def test_repeat_result_is_a_new_tensor_not_a_view():
    x = W([1.0, 2.0])
    for sizes in [(1,), (2,), (1, 1)]:
        y = x.repeat(*sizes)
        y[0] = 99.0
        assert x.tolist() == [1.0, 2.0]
    # writing into the repeat of a tensor that requires grad is recorded, as in PyTorch
    w, wt = W([1.0, 2.0], True), T([1.0, 2.0], True)
    y, yt = w.repeat(2), wt.repeat(2)
    y[0] = 0.0
    yt[0] = 0.0
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    close(w.grad, wt.grad)


def test_repeat_errors():
    with pytest.raises(ValueError, match=r"1 sizes \(2,\) for a tensor of shape \(3, 2\)"):
        wl.zeros(3, 2).repeat(2)
    with pytest.raises(ValueError, match="negative"):
        wl.zeros(3).repeat(-1)
    with pytest.raises(TypeError, match="integers"):
        wl.zeros(3).repeat(1.5)


def test_masked_fill_matches_torch_values_and_gradients():
    a = RNG.normal(size=(3, 4))
    mask = RNG.random(size=(4,)) > 0.5  # broadcasts over rows
    x, xt = W(a, True), T(a, True)
    out = x.masked_fill(wl.tensor(mask), -1.5)
    out_t = xt.masked_fill(torch.tensor(mask), -1.5)
    close(out, out_t)
    w = RNG.normal(size=(3, 4))
    (out * W(w)).sum().backward()
    (out_t * T(w)).sum().backward()
    close(x.grad, xt.grad)


def test_masked_fill_with_a_0d_tensor_value_is_differentiable_in_it():
    a, mask = RNG.normal(size=5), np.array([True, False, True, True, False])
    x, v, xt, vt = W(a, True), W(2.0, True), T(a, True), T(2.0, True)
    out, out_t = x.masked_fill(mask, v), xt.masked_fill(torch.tensor(mask), vt)
    close(out, out_t)
    (out ** 2).sum().backward()
    (out_t ** 2).sum().backward()
    close(x.grad, xt.grad)
    close(v.grad, vt.grad)


def test_masked_fill_keeps_dtype_and_broadcasts_like_torch():
    ints = wl.tensor([0, 0, 0]).masked_fill(wl.tensor([True, False, True]), 1.7)
    ints_t = torch.tensor([0, 0, 0]).masked_fill(torch.tensor([True, False, True]), 1.7)
    assert ints.dtype == np.int64 and ints.tolist() == ints_t.tolist()
    grown = wl.zeros(3).masked_fill(np.ones((2, 3), dtype=bool), 1.0)
    grown_t = torch.zeros(3).masked_fill(torch.ones(2, 3, dtype=torch.bool), 1.0)
    assert grown.shape == tuple(grown_t.shape)
    f32 = wl.zeros(2, dtype=wl.float32).masked_fill(wl.tensor([True, False]), wl.tensor(1.0))
    assert f32.dtype == np.float32


def test_masked_fill_gradients_pass_check_grad():
    mask = np.array([[True, False], [False, False]])
    wl.check_grad(lambda x: x.masked_fill(mask, 3.0) * x, W(RNG.normal(size=(2, 2))))


def test_masked_fill_in_place_matches_torch():
    a = RNG.normal(size=(2, 3))
    mask = np.array([True, False, True])
    x, xt = W(a, True), T(a, True)
    h, ht = x * 2.0, xt * 2.0
    assert h.masked_fill_(mask, 0.0) is h
    ht.masked_fill_(torch.tensor(mask), 0.0)
    close(h, ht)
    (h * h).sum().backward()
    (ht * ht).sum().backward()
    close(x.grad, xt.grad)
    with pytest.raises(ValueError, match=r"mask of shape \(2, 3\) does not broadcast to .*\(3,\)"):
        wl.zeros(3).masked_fill_(np.ones((2, 3), dtype=bool), 1.0)


def test_masked_fill_errors():
    x = wl.zeros(3)
    with pytest.raises(TypeError, match="mask must be a bool tensor, got dtype float64"):
        x.masked_fill(wl.ones(3), 1.0)
    with pytest.raises(ValueError, match=r"mask of shape \(2,\) cannot be broadcast .*\(3,\)"):
        x.masked_fill(np.array([True, False]), 1.0)
    with pytest.raises(ValueError, match=r"0-d tensor, got a tensor of shape \(1,\)"):
        x.masked_fill(np.array([True, False, True]), wl.ones(1))
    with pytest.raises(TypeError, match="value must be a number"):
        x.masked_fill(np.array([True, False, True]), "a")


def test_cpu_returns_the_tensor_itself():
    x = W([1.0, 2.0], True)
    assert x.cpu() is x


def test_type_gives_the_dtype_name_or_converts():
    x = W([1.5, 2.5], True)
    assert x.type() == "float64"
    y = x.type(wl.float32)
    assert y.dtype == np.float32 and y.type() == "float32"
    assert x.type("float64") is x
    y.sum().backward()  # differentiable, as the conversion PyTorch's type(dtype) does
    assert x.grad.tolist() == [1.0, 1.0]
    assert wl.tensor([1, 2]).type() == "int64"
    with pytest.raises(TypeError, match="unknown dtype"):
        x.type("torch.FloatTensor")


# ====================================================================== from_numpy, as_tensor


def test_from_numpy_shares_memory_both_ways():
    a = np.zeros(3)
    t = wl.from_numpy(a)
    a[0] = 5.0
    assert t.tolist() == [5.0, 0.0, 0.0]
    with wl.no_grad():
        t.add_(1.0)
    assert a.tolist() == [6.0, 1.0, 1.0]
    t[2] = -1.0
    assert a[2] == -1.0
    assert np.shares_memory(a, t.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.bool_])
def test_from_numpy_keeps_dtype_like_torch(dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    t, tt = wl.from_numpy(a), torch.from_numpy(a)
    assert t.dtype == a.dtype and t.shape == tuple(tt.shape)
    np.testing.assert_array_equal(t.numpy(), tt.numpy())
    assert not t.requires_grad


def test_from_numpy_of_a_view_shares_its_memory():
    base = np.arange(12.0).reshape(3, 4)
    t = wl.from_numpy(base[:, 1])
    base[0, 1] = 100.0
    assert t.tolist() == [100.0, 5.0, 9.0]


@pytest.mark.parametrize("bad", [[1.0, 2.0], 3.0, np.float64(1.0), wl.tensor([1.0])],
                         ids=["list", "float", "numpy-scalar", "tensor"])
def test_from_numpy_refuses_other_objects(bad):
    with pytest.raises(TypeError, match="from_numpy: expected a numpy.ndarray, got"):
        wl.from_numpy(bad)


def test_from_numpy_refuses_non_numeric_arrays():
    with pytest.raises(TypeError, match="not numbers"):
        wl.from_numpy(np.array(["a", "b"]))


def test_as_tensor_shares_memory_when_it_can():
    a = np.ones(3)
    t = wl.as_tensor(a)
    a[1] = 7.0
    assert t.tolist() == [1.0, 7.0, 1.0]
    same = wl.as_tensor(a, dtype=wl.float64)
    assert np.shares_memory(a, same.numpy())
    converted = wl.as_tensor(a, dtype="float32")  # a copy, as torch.as_tensor
    assert converted.dtype == np.float32 and not np.shares_memory(a, converted.numpy())
    x = W([1.0, 2.0], True)
    assert wl.as_tensor(x) is x


def test_as_tensor_of_lists_and_dtype_conversion_match_torch():
    for data in [[1, 2, 3], [[1.5, 2.0]], 3.0]:
        ours, theirs = wl.as_tensor(data), torch.as_tensor(data, dtype=torch.float64)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    assert wl.as_tensor([1, 2]).dtype == np.int64
    assert wl.as_tensor([1, 2], dtype=wl.float32).dtype == np.float32
    x, xt = W([1.0, 2.0], True), T([1.0, 2.0], True)
    y, yt = wl.as_tensor(x, dtype=wl.float32), torch.as_tensor(xt, dtype=torch.float32)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    close(x.grad, xt.grad)


# ====================================================================== allclose, isclose


def test_isclose_allclose_defaults_match_torch():
    a = np.array([1.0, 1.0 + 1e-6, 1.0 + 2e-5, np.inf, -np.inf, np.nan, 0.0, 1e-9])
    b = np.array([1.0, 1.0, 1.0, np.inf, np.inf, np.nan, 1e-8, 0.0])
    for equal_nan in (False, True):
        ours = wl.isclose(W(a), W(b), equal_nan=equal_nan)
        theirs = torch.isclose(T(a), T(b), equal_nan=equal_nan)
        assert ours.dtype == np.bool_
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert wl.allclose(W(a), W(b), equal_nan=equal_nan) is \
            torch.allclose(T(a), T(b), equal_nan=equal_nan)
    assert wl.allclose(W(a[:3]), W(b[:3]), rtol=1e-4) is True
    assert wl.allclose(W(a[:3]), W(b[:3])) is False


finite = st.floats(-1e3, 1e3, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 6), elements=finite),
       st.data(),
       st.sampled_from([0.0, 1e-8, 1e-5, 1e-2]), st.sampled_from([0.0, 1e-8, 1e-3, 1.0]))
def test_isclose_matches_torch_property(a, data, rtol, atol):
    b = a + data.draw(hnp.arrays(np.float64, a.shape, elements=st.floats(-2.0, 2.0)))
    ours = wl.isclose(W(a), b, rtol=rtol, atol=atol)
    theirs = torch.isclose(T(a), T(b), rtol=rtol, atol=atol)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert W(a).allclose(W(b), rtol=rtol, atol=atol) is \
        torch.allclose(T(a), T(b), rtol=rtol, atol=atol)


def test_isclose_broadcasts_and_names_shapes_when_it_cannot():
    assert wl.isclose(wl.zeros(2, 3), 0.0).shape == (2, 3)
    assert wl.allclose(wl.zeros(2, 3), wl.zeros(3))
    with pytest.raises(ValueError, match=r"shapes \(2,\) and \(3,\) cannot be broadcast"):
        wl.allclose(wl.zeros(2), wl.zeros(3))
    with pytest.raises(ValueError, match="rtol must be a non-negative number"):
        wl.isclose(wl.zeros(2), wl.zeros(2), rtol=-1.0)


def test_isclose_is_outside_the_graph():
    x = W([1.0, 2.0], True)
    assert not wl.isclose(x, x).requires_grad


# ====================================================================== *_like creators


@pytest.mark.parametrize("name", ["randn_like", "rand_like"])
def test_random_like_respects_manual_seed_shape_and_dtype(name):
    fn = getattr(wl, name)
    x = wl.zeros(3, 2, dtype=wl.float32)
    wl.manual_seed(7)
    first = fn(x)
    wl.manual_seed(7)
    again = fn(x)
    assert first.shape == (3, 2) and first.dtype == np.float32
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    other = fn(x)
    assert not np.array_equal(other.numpy(), first.numpy())
    y = fn(x, dtype=wl.float64, requires_grad=True)
    assert y.dtype == np.float64 and y.requires_grad and y.is_leaf


def test_random_like_same_stream_as_randn_and_rand():
    wl.manual_seed(3)
    a = wl.randn(2, 2)
    wl.manual_seed(3)
    np.testing.assert_array_equal(wl.randn_like(wl.zeros(2, 2)).numpy(), a.numpy())
    wl.manual_seed(3)
    b = wl.rand(4)
    wl.manual_seed(3)
    u = wl.rand_like(wl.zeros(4))
    np.testing.assert_array_equal(u.numpy(), b.numpy())
    assert ((u.numpy() >= 0) & (u.numpy() < 1)).all()


@pytest.mark.parametrize("name", ["randn_like", "rand_like"])
def test_random_like_of_integers_needs_a_float_dtype(name):
    with pytest.raises(TypeError, match=f"{name}: random values need a floating dtype"):
        getattr(wl, name)(wl.tensor([1, 2]))
    assert getattr(wl, name)(wl.tensor([1, 2]), dtype=wl.float64).dtype == np.float64


def test_full_like_matches_torch():
    for src, value in [(np.zeros((2, 3)), 7.5), (np.arange(4), 2.5), (np.zeros(2), True)]:
        ours = wl.full_like(wl.tensor(src), value)
        theirs = torch.full_like(torch.tensor(src), value)
        assert ours.shape == tuple(theirs.shape)
        assert ours.tolist() == theirs.tolist()
    y = wl.full_like(wl.zeros(2), 1.0, dtype=wl.float32, requires_grad=True)
    assert y.dtype == np.float32 and y.requires_grad
    assert wl.full_like(wl.zeros(2), wl.tensor(3.0)).tolist() == [3.0, 3.0]
    with pytest.raises(TypeError, match="fill_value must be a number"):
        wl.full_like(wl.zeros(2), "x")
    with pytest.raises(TypeError, match="requires_grad must be a bool"):
        wl.full_like(wl.zeros(2), 1.0, requires_grad=1)


# ====================================================================== inference_mode


def test_inference_mode_context_records_nothing_and_restores():
    x = W([1.0, 2.0], True)
    with wl.inference_mode():
        assert not wl.is_grad_enabled()
        y = x * 2
    assert not y.requires_grad
    assert wl.is_grad_enabled()
    with pytest.raises(KeyError), wl.inference_mode():
        raise KeyError("inside")
    assert wl.is_grad_enabled()


def test_inference_mode_as_decorator_bare_and_called():
    x = W([1.0], True)

    @wl.inference_mode
    def bare(t):
        return t * 2

    @wl.inference_mode()
    def called(t):
        return t * 2

    assert not bare(x).requires_grad
    assert not called(x).requires_grad
    assert bare.__name__ == "bare"
    assert wl.is_grad_enabled()


def test_inference_mode_false_turns_recording_on_as_torch():
    x, xt = W([1.0], True), T([1.0], True)
    with wl.no_grad(), wl.inference_mode(mode=False):
        ours = (x * 2).requires_grad
    with torch.no_grad(), torch.inference_mode(mode=False):
        theirs = (xt * 2).requires_grad
    assert ours is theirs is True
    assert wl.is_grad_enabled()
    with wl.no_grad():
        with wl.inference_mode(False):
            pass
        assert not wl.is_grad_enabled()
    with pytest.raises(TypeError, match="True or False"):
        wl.inference_mode("yes")


# ====================================================================== optim.SGD


def _sgd_problem():
    """A non-quadratic objective on two parameters of different shapes."""
    a = RNG.normal(size=(3, 2))
    b = RNG.normal(size=(2,))
    target = RNG.normal(size=(4, 2))
    data = RNG.normal(size=(4, 3))

    def loss(w, c, lib):
        z = lib.tanh(data_of(lib) @ w + c) - target_of(lib)
        return (z ** 2).sum() + (w ** 4).sum() * 0.01

    def data_of(lib):
        return T(data) if lib is torch else W(data)

    def target_of(lib):
        return T(target) if lib is torch else W(target)

    return a, b, loss


SGD_SETTINGS = [dict(momentum=m, dampening=d, nesterov=n, weight_decay=wd)
                for m in (0.0, 0.9) for d in (0.0, 0.3) for n in (False, True)
                for wd in (0.0, 0.05)]


def _run_sgd(settings, steps, lr=0.05, maximize=False):
    a, b, loss = _sgd_problem()
    w, c, wt, ct = W(a, True), W(b, True), T(a, True), T(b, True)
    ours = wl.optim.SGD([w, c], lr=lr, maximize=maximize, **settings)
    theirs = torch.optim.SGD([wt, ct], lr=lr, maximize=maximize, **settings)
    sign = -1.0 if maximize else 1.0
    for _ in range(steps):
        ours.zero_grad()
        theirs.zero_grad()
        (sign * loss(w, c, wl)).backward()
        (sign * loss(wt, ct, torch)).backward()
        ours.step()
        theirs.step()
        close(w, wt, rtol=1e-9, atol=1e-11)
        close(c, ct, rtol=1e-9, atol=1e-11)
    return ours


@pytest.mark.parametrize("settings", SGD_SETTINGS,
                         ids=[",".join(f"{k}={v}" for k, v in s.items()) for s in SGD_SETTINGS])
def test_sgd_matches_torch_step_for_step(settings):
    if settings["nesterov"] and (settings["momentum"] == 0 or settings["dampening"] != 0):
        with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero "
                                             "dampening"):
            wl.optim.SGD([W([1.0], True)], lr=0.1, **settings)
        with pytest.raises(ValueError):
            torch.optim.SGD([T([1.0], True)], lr=0.1, **settings)
        return
    _run_sgd(settings, steps=40)


def test_sgd_maximize_matches_torch():
    _run_sgd(dict(momentum=0.5, dampening=0.1, nesterov=False, weight_decay=0.01), steps=20,
             maximize=True)


def test_sgd_with_a_schedule_matches_torch_lambda_lr():
    def schedule(t):  # t = 1 on the first step
        return 0.1 / t ** 0.5

    a, b, loss = _sgd_problem()
    w, c, wt, ct = W(a, True), W(b, True), T(a, True), T(b, True)
    ours = wl.optim.SGD([w, c], lr=schedule, momentum=0.9, nesterov=True, weight_decay=0.01)
    theirs = torch.optim.SGD([wt, ct], lr=1.0, momentum=0.9, nesterov=True, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(theirs, lambda epoch: schedule(epoch + 1))
    for _ in range(25):
        ours.zero_grad()
        theirs.zero_grad()
        loss(w, c, wl).backward()
        loss(wt, ct, torch).backward()
        ours.step()
        theirs.step()
        scheduler.step()
        close(w, wt, rtol=1e-9, atol=1e-11)
        close(c, ct, rtol=1e-9, atol=1e-11)


def test_sgd_defaults_are_torch_defaults_and_plain_sgd_is_gd():
    ours = wl.optim.SGD([W([1.0], True)])
    theirs = torch.optim.SGD([T([1.0], True)])
    assert ours.lr == theirs.defaults["lr"]
    for key in ("momentum", "dampening", "weight_decay", "nesterov", "maximize"):
        assert getattr(ours, key) == theirs.defaults[key]
    # without momentum and weight decay, SGD is the text's GD
    x, y = W([1.0, -2.0], True), W([1.0, -2.0], True)
    sgd, gd = wl.optim.SGD([x], lr=0.1), wl.optim.GD([y], lr=0.1)
    for _ in range(5):
        for p, opt in ((x, sgd), (y, gd)):
            opt.zero_grad()
            (p ** 4).sum().backward()
            opt.step()
    assert x.tolist() == y.tolist()


def test_sgd_state_dict_resumes_exactly():
    settings = dict(momentum=0.9, dampening=0.2, nesterov=False, weight_decay=0.01)
    a, b, loss = _sgd_problem()

    def run(w, c, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            loss(w, c, wl).backward()
            opt.step()

    w1, c1 = W(a, True), W(b, True)
    straight = wl.optim.SGD([w1, c1], lr=0.05, **settings)
    run(w1, c1, straight, 10)
    w2, c2 = W(a, True), W(b, True)
    first = wl.optim.SGD([w2, c2], lr=0.05, **settings)
    run(w2, c2, first, 4)
    resumed = wl.optim.SGD([w2, c2], lr=0.05)
    resumed.load_state_dict(first.state_dict())
    assert resumed.momentum == 0.9 and resumed.dampening == 0.2
    run(w2, c2, resumed, 6)
    assert w1.tolist() == w2.tolist() and c1.tolist() == c2.tolist()


@pytest.mark.parametrize("kwargs,match", [
    (dict(momentum=-0.1), "momentum must be a non-negative number"),
    (dict(dampening=float("nan")), "dampening must be a finite number"),
    (dict(weight_decay=-0.1), "weight_decay must be a non-negative number"),
    (dict(nesterov=True), "Nesterov momentum requires a momentum"),
    (dict(momentum=0.9, dampening=0.1, nesterov=True), "zero dampening"),
    (dict(lr=-1.0), "lr must be a positive number"),
])
def test_sgd_bad_settings_are_value_errors(kwargs, match):
    kwargs = {"lr": 0.1, **kwargs}
    with pytest.raises(ValueError, match=match):
        wl.optim.SGD([W([1.0], True)], **kwargs)
    if "dampening" not in kwargs or "nesterov" in kwargs:  # PyTorch takes any dampening
        with pytest.raises(ValueError):
            torch.optim.SGD([T([1.0], True)], **kwargs)


def test_sgd_negative_dampening_is_accepted_as_torch():
    _run_sgd(dict(momentum=0.9, dampening=-0.5, nesterov=False, weight_decay=0.0), steps=5)


@pytest.mark.parametrize("p", [1, 2, 3.0, float("inf")])
def test_norm_takes_pytorchs_p_and_matches_torch_with_its_gradient(p):
    a = RNG.normal(size=(3, 4))
    x = wl.tensor(a, requires_grad=True)
    wl.norm(x, p=p, dim=1).sum().backward()
    t = torch.tensor(a, requires_grad=True)
    torch.norm(t, p=p, dim=1).sum().backward()
    np.testing.assert_allclose(wl.norm(x, p=p, dim=1).numpy(), torch.norm(t, p=p, dim=1).detach(),
                               rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), t.grad, rtol=1e-10)
    np.testing.assert_allclose(x.norm(p=p).item(), wl.norm(x, ord=p).item(), rtol=1e-15)


def test_iterating_a_0d_tensor_says_it_is_a_scalar():
    for attempt in (list, len, lambda t: next(iter(t))):
        with pytest.raises(TypeError, match=r"0-d tensor \(a scalar\); use \.item\(\)"):
            attempt(wl.tensor(2.0))


def test_set_grad_enabled_works_called_as_a_context_manager_and_as_a_decorator():
    x = wl.tensor(2.0, requires_grad=True)
    with wl.set_grad_enabled(False):
        assert not (x * 3).requires_grad
    assert wl.is_grad_enabled()  # restored: it used to stay off for the rest of the program
    with wl.no_grad():
        with wl.autograd.set_grad_enabled(True):
            assert (x * 3).requires_grad
        assert not wl.is_grad_enabled()

    @wl.set_grad_enabled(False)
    def tripled():
        return x * 3

    assert wl.is_grad_enabled() and not tripled().requires_grad and wl.is_grad_enabled()
    try:
        wl.set_grad_enabled(False)  # called: at once, as torch.set_grad_enabled(False)
        assert not wl.is_grad_enabled() and not (x * 3).requires_grad
    finally:
        wl.set_grad_enabled(True)
    assert (x * 3).requires_grad
    with pytest.raises(TypeError, match="takes True or False, got 'no'"):
        wl.set_grad_enabled("no")


@pytest.mark.parametrize("shape, dim", [((2, 0), 1), ((0, 3), 0), ((0, 3), 1), ((0,), 0)])
def test_logsumexp_over_an_empty_axis_is_minus_infinity_as_torch(shape, dim):
    x = wl.zeros(*shape, requires_grad=True)
    out = wl.logsumexp(x, dim=dim)
    np.testing.assert_array_equal(out.numpy(), torch.logsumexp(torch.zeros(*shape), dim=dim))
    out.sum().backward()
    assert x.grad.shape == shape
