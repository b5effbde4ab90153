"""Core Tensor semantics as a NumPy or PyTorch user first tries them: in-place writes through
element views, assignment broadcasting, reductions' dims, the version counter's false
alarms, fill_/zero_ on views, retain_grad and expand. Each is checked against NumPy or
PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import wonderland as wl

torch = pytest.importorskip("torch")


# ------------------------------------------------------------- x[i] is a view, as in torch


def test_an_integer_index_is_a_view_so_in_place_writes_reach_the_tensor():
    x = wl.zeros(3)
    v = x[0]
    v += 1.0
    assert x.tolist() == [1.0, 0.0, 0.0]
    m = wl.zeros(2, 2)
    m[1, 1].add_(3.0)
    m[0][1].fill_(2.0)
    assert m.tolist() == [[0.0, 2.0], [0.0, 3.0]]
    r = wl.zeros(2)
    for entry in r:  # iteration over a vector gives views too, as torch's
        entry.fill_(7.0)
    assert r.tolist() == [7.0, 7.0]
    t = torch.zeros(3)
    t[0] += 1.0
    assert x.tolist() == t.tolist()


def test_a_scalar_view_still_differentiates():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    (x[1] * x[0]).backward()
    assert x.grad.tolist() == [2.0, 1.0]


# ---------------------------------------------------- assignment with extra leading ones


def test_assigning_a_value_with_extra_leading_ones_differentiates_as_torch():
    weights = np.arange(12.0).reshape(3, 4)
    grads = []
    for lib in (wl, torch):
        v = lib.tensor(np.array([[1.0, -2.0, 3.0, 0.5]]), requires_grad=True)  # (1, 4)
        y = lib.zeros(3, 4, dtype=lib.float64) * 1.0
        y[0] = v  # NumPy and torch drop the leading one
        (y * lib.tensor(weights)).sum().backward()
        grads.append(v.grad.numpy())
    assert grads[0].shape == (1, 4)
    np.testing.assert_allclose(grads[0], grads[1])
    np.testing.assert_allclose(grads[0], weights[:1])


def test_copy_of_a_value_with_extra_leading_ones_differentiates():
    v = wl.tensor(np.array([[1.0, -2.0, 3.0, 0.5]]), requires_grad=True)
    y = wl.zeros(4) * 1.0
    y.copy_(v)  # as y[...] = v, which NumPy allows
    (y * wl.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert v.grad.tolist() == [[1.0, 2.0, 3.0, 4.0]]


def test_assigning_a_value_with_extra_leading_ones_under_the_transforms():
    def f(v):
        y = wl.zeros(3, 4) * 1.0
        y[0] = v
        return (y * y).sum()

    v = wl.tensor(np.arange(4.0).reshape(1, 4))
    expected = 2 * v.numpy()
    for transform in (wl.grad, wl.jacrev, wl.jacfwd):
        np.testing.assert_allclose(transform(f)(v).numpy(), expected)


# -------------------------------------------------------------------- reductions' dims


@pytest.mark.parametrize("name", ["sum", "mean", "max", "var", "logsumexp"])
def test_a_repeated_dim_is_an_error_as_in_numpy_and_torch(name):
    x = wl.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match=rf"^{name}: dimension repeated in \(1, -1\)"):
        getattr(x, name)(dim=(1, -1))
    with pytest.raises(RuntimeError):
        getattr(torch.arange(6.0).reshape(2, 3), {"max": "amax"}.get(name, name))(dim=(1, -1))


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_of_an_empty_tensor_along_a_non_empty_dim_is_empty_as_numpy(name):
    x = wl.zeros(0, 3, requires_grad=True)
    out = getattr(x, name)(dim=1)
    assert out.shape == getattr(np, name)(np.zeros((0, 3)), axis=1).shape == (0,)
    assert getattr(torch.zeros(0, 3), "a" + name)(1).shape == (0,)
    out.sum().backward()
    assert x.grad.shape == (0, 3)
    with pytest.raises(ValueError, match=rf"{name}: .* shape \(0, 3\) is empty along dimension 0"):
        getattr(x, name)(dim=0)


# ------------------------------------------------- the version counter's false alarms


_CONSTANT_PARTNERS = {
    "z * 3": lambda z, c, M: z * 3,
    "3 * z": lambda z, c, M: 3 * z,
    "z / 4": lambda z, c, M: z / 4,
    "z * c": lambda z, c, M: z * c,
    "M @ z": lambda z, c, M: M @ z,
}


@pytest.mark.parametrize("case", list(_CONSTANT_PARTNERS))
def test_writing_an_input_that_only_a_constants_gradient_reads_is_allowed(case):
    grads = []
    for lib in (wl, torch):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        z = x * 2
        c = lib.tensor([4.0, 5.0, 6.0], dtype=lib.float64)
        M = lib.tensor(np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0]]))
        y = _CONSTANT_PARTNERS[case](z, c, M)
        z.add_(100.0)  # z is not needed for x's gradient: PyTorch allows it
        (y * lib.tensor(np.arange(1.0, y.shape[0] + 1))).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1])


@pytest.mark.parametrize("case", ["z * z", "z * w", "w @ z"])
def test_writing_an_input_a_gradient_reads_still_raises(case):
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    w = wl.tensor([3.0, 4.0], requires_grad=True)
    z = x * 2
    y = {"z * z": z * z, "z * w": z * w, "w @ z": w @ z}[case]
    z.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


# ------------------------------------------------------------------------ fill_, zero_


@pytest.mark.parametrize("method", ["fill_", "zero_"])
def test_fill_on_a_view_by_indexing_of_a_tensor_that_requires_grad_is_torchs(method):
    # it gave x.grad = [2, 2, 2] (the write lost), then was refused; it goes through y now
    args = (5.0,) if method == "fill_" else ()
    grads = []
    for lib in (wl, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        getattr(y[0:2], method)(*args)
        (y * y).sum().backward()
        grads.append((y.tolist(), x.grad.tolist()))
    assert grads[0] == grads[1]


def test_fill_keeps_the_graph_as_torch_and_a_tensor_value_gets_its_gradient():
    results = []
    for lib in (wl, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        s = lib.tensor(2.0, requires_grad=True)
        y = x * 2
        y.fill_(s)
        (y * y).sum().backward()
        results.append((y.tolist(), x.grad.tolist(), s.grad.item()))
    assert results[0] == results[1] == ([2.0, 2.0, 2.0], [0.0, 0.0, 0.0], 12.0)


def test_zero_of_a_gradient_and_fill_of_plain_tensors_still_work():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad.zero_()
    assert x.grad.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x.fill_(1.0)
    with wl.no_grad():
        x.fill_(1.0)
    assert x.tolist() == [1.0, 1.0] and x.requires_grad
    s = wl.ones(3).sum()  # a NumPy scalar inside
    s.fill_(4.0)
    assert s.item() == 4.0


# ------------------------------------------------------------------------- retain_grad


def test_retain_grad_follows_a_later_in_place_operation_as_torch():
    results = []
    for lib in (wl, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        y += 1
        (y**2).sum().backward()
        results.append((y.grad.tolist(), x.grad.tolist()))
    assert results[0] == results[1] == ([6.0, 10.0], [12.0, 20.0])


# ------------------------------------------------------------------------------ expand


def test_expand_takes_minus_one_for_kept_sizes_as_torch():
    x = wl.zeros(2, 1, 4, requires_grad=True)
    assert x.expand(-1, 3, -1).shape == torch.zeros(2, 1, 4).expand(-1, 3, -1).shape
    assert x.expand((5, 2, 3, 4)).shape == (5, 2, 3, 4)
    x.expand(-1, 3, -1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 1, 4), 3.0))
    with pytest.raises(ValueError, match=r"expand: sizes \(-1, 2, 3, 4\) for a tensor of shape"):
        x.expand(-1, 2, 3, 4)


# ------------------------------------------------------------------------------ errors


def test_bitwise_operators_on_floats_name_the_dtypes():
    with pytest.raises(TypeError, match="^logical_and is not defined between float32 and "
                                        "float64 tensors"):
        wl.ones(2, dtype=wl.float32) & wl.ones(2)


def test_full_takes_a_one_element_tensor_as_its_value_as_torch():
    assert wl.full((2,), wl.tensor(3.0)).tolist() == torch.full((2,), torch.tensor(3.0)).tolist()
    assert wl.full_like(wl.zeros(2), wl.tensor(2.5)).tolist() == [2.5, 2.5]
    with pytest.raises(ValueError, match=r"one element, got shape \(2,\)"):
        wl.full((2,), wl.ones(2))


# --------------------------------------------- shape methods that change nothing: new views


NO_OP_VIEWS = {
    "reshape to its own shape": lambda t: t.reshape(t.shape),
    "view(-1) of a vector": lambda t: t.view(-1),
    "squeeze with no axis of one": lambda t: t.squeeze(),
    "permute in order": lambda t: t.permute(0),
    "broadcast_to its own shape": lambda t: t.broadcast_to(t.shape),
    "transpose of a vector": lambda t: t.transpose(0, -1),
    "T of a vector": lambda t: t.T,
}


@pytest.mark.parametrize("make", NO_OP_VIEWS.values(), ids=NO_OP_VIEWS.keys())
def test_a_shape_method_that_changes_nothing_still_gives_a_new_view(make):
    x = wl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = make(x)
    assert y is not x  # torch: a new view; it used to be x itself
    assert np.shares_memory(y.numpy(), x.numpy())
    y.detach_()  # detaches the view only (it detached x)
    assert x.requires_grad and x._node is None
    (make(x) * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0, 6.0]


# ----------------------------------------------- a 0-d tensor has the dimensions 0 and -1


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dim", [0, -1])
def test_argmax_of_a_zero_dimensional_tensor_along_its_dimension_is_zero(name, dim):
    for keepdim in (False, True):
        got = getattr(wl.tensor(2.0), name)(dim, keepdim=keepdim)
        want = getattr(torch.tensor(2.0), name)(dim, keepdim=keepdim)
        assert got.shape == tuple(want.shape) and got.item() == want.item() == 0
    with pytest.raises(IndexError, match=rf"^{name}: dimension 1 is out of range"):
        getattr(wl.tensor(2.0), name)(1)


@pytest.mark.parametrize("name", ["any", "all", "squeeze"])
def test_any_all_and_squeeze_take_dimension_zero_of_a_zero_dimensional_tensor(name):
    got = getattr(wl.tensor(2.0), name)(0)
    want = getattr(torch.tensor(2.0), name)(0)
    assert got.shape == () and got.item() == want.item()
    assert getattr(wl.tensor(2.0), name)(-1).item() == want.item()
    with pytest.raises(IndexError, match=rf"^{name}: dimension 1 is out of range"):
        getattr(wl.tensor(2.0), name)(1)


def test_any_and_all_refuse_a_repeated_dimension_as_the_other_reductions():
    with pytest.raises(ValueError, match=r"^any: dimension repeated in \(1, 1\)"):
        wl.tensor([[True, False]]).any((1, 1))


def _updates_through_index_views(lib):
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 2
    y[0] += x[1] * 5  # y.__getitem__, then __iadd__ on the view, then __setitem__
    y[1:, 0] *= x[0, :1]
    y[1][1].mul_(3)  # a view of a view
    h = x * 1
    h[1] += h[0] * 0.5  # the step-by-step recurrence of a learner's loop
    out = lib.zeros(3)
    out[0] = x[0, 0] * 2
    out[1:] += x[1] * 3  # a tensor that needed no grad until the line before
    loss = (y * y).sum() + (h**3).sum() + (out * out).sum()
    loss.backward()
    return y.tolist(), h.tolist(), out.tolist(), x.grad.tolist()


def test_in_place_updates_through_index_views_match_torch():
    # y[i] += v on a tensor that requires grad was refused ("clone() the view first")
    assert _updates_through_index_views(wl) == _updates_through_index_views(torch)


def test_in_place_on_other_views_of_a_tensor_that_requires_grad_is_still_refused():
    x = wl.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    v = (x * 2).reshape(2, 2)
    with pytest.raises(RuntimeError, match=r"in-place add_ on a view of a tensor that requires "
                                           r"grad is not supported \(except y\[i\] \+= v"):
        v += 1.0
    leaf_view = x[0]
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        leaf_view += 1.0  # a view of a leaf: refused as torch
    y = x * 2
    used = y[0]
    (used * 3).backward()  # frees the view's node, and with it where the view lies
    with pytest.raises(RuntimeError, match=r"in-place add_ on a view"):
        used += 1.0  # (PyTorch takes it; a clear refusal here, not an AttributeError)


def test_softplus_of_nan_is_nan_without_a_numpy_warning(recwarn):
    x = wl.tensor([float("nan"), -1e4, 0.0, 1e4], requires_grad=True)
    y = wl.softplus(x)
    y.sum().backward()
    assert np.isnan(y.numpy()[0]) and y.tolist()[1:] == [0.0, np.log(2.0), 1e4]
    assert np.isnan(x.grad.numpy()[0]) and x.grad.tolist()[1:] == [0.0, 0.5, 1.0]
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_an_in_place_write_on_a_transforms_input_says_what_to_write_instead():
    with pytest.raises(RuntimeError, match=r"as the inputs of wl.grad's function are\) is "
                                           r"used in the in-place operation mul_; write the "
                                           r"out-of-place form \(x = x \* 2"):
        wl.grad(lambda x: x.mul_(2).sum())(np.ones(2))
