"""A write with derivatives through a view into a tensor that records no history.

``b = a[0:2]; b += w`` with ``a`` made by ``wl.zeros`` changed ``a`` without ``a``'s
graph knowing: its gradient with respect to ``w`` came out as zeros, a silent wrong
answer. The graph and forward mode now follow the write through ``a`` (as PyTorch's
do); ``a[0:2] += w[0:2]``, which Python runs as a write into a view of ``a`` too, keeps
working in every mode.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import wonderland as wl

W = np.arange(1.0, 14.0)


def _through_view(w, m):
    a = m.zeros(4, dtype=w.dtype)
    b = a[0:2]
    b += w[0:2]
    return (a * a).sum()


def _through_tensor(w, m):
    a = m.zeros(4, dtype=w.dtype)
    a[0:2] += w[0:2]  # Python: a view of a, written, then assigned back
    return (a * a).sum()


def _many_views(w, m):
    a = m.zeros((3, 4), dtype=w.dtype)
    b = a.T[1:3]  # a strided view of a transpose
    b *= 0
    b += w[:6].reshape(2, 3)
    row = a[1]
    row *= w[6:10]
    tail = a[2, 1:]
    tail.mul_(w[9])
    tail.add_(w[10:])
    return (a * a * m.arange(12.0, dtype=w.dtype).reshape(3, 4)).sum()


def _torch_grad(f):
    w = torch.tensor(W, requires_grad=True)
    f(w, torch).backward()
    return w.grad.numpy()


@pytest.mark.parametrize("f", [_through_view, _through_tensor, _many_views])
def test_writes_through_views_of_a_tensor_with_no_history_give_torchs_gradient(f):
    ours = wl.grad(lambda w: f(w, wl))(wl.tensor(W))
    np.testing.assert_allclose(ours.numpy(), _torch_grad(f), rtol=1e-15, atol=0)


def test_the_silent_zero_gradient_is_gone():
    ours = wl.grad(lambda w: _through_view(w, wl))(wl.tensor(W))
    np.testing.assert_array_equal(ours.numpy()[:4], [2.0, 4.0, 0.0, 0.0])


def test_backward_reaches_the_leaf_and_the_view_sees_the_write():
    w = wl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = wl.zeros(5)
    b = a[1:4]
    b += w
    np.testing.assert_array_equal(a.numpy(), [0.0, 1.0, 2.0, 3.0, 0.0])
    assert b.requires_grad and a.requires_grad
    (a * wl.arange(5.0)).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 2.0, 3.0])


@pytest.mark.parametrize("f", [_through_view, _through_tensor])
def test_forward_mode_follows_the_write_as_torch_func(f):
    tangent = np.linspace(-1.0, 2.0, 13)
    ours = wl.jvp(lambda w: f(w, wl), (wl.tensor(W),), (wl.tensor(tangent),))
    theirs = torch.func.jvp(lambda w: f(w, torch), (torch.tensor(W),),
                            (torch.tensor(tangent),))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-14, atol=0)


def test_forward_mode_refuses_a_later_write_into_a_view_as_before():
    # once a has a tangent, a write into a view of it is refused (README), not lost
    with pytest.raises(RuntimeError, match=r"mul_ on a view of a tensor that carries "
                                           r"forward-mode tangents is not supported"):
        wl.jvp(lambda w: _many_views(w, wl), (wl.tensor(W),), (wl.ones(13),))


def test_second_order_and_compiled_follow_the_write():
    hess = wl.hessian(lambda w: _through_tensor(w, wl))(wl.tensor(W))
    expected = np.zeros((13, 13))
    expected[0, 0] = expected[1, 1] = 2.0
    np.testing.assert_array_equal(hess.numpy(), expected)
    compiled = wl.compile(wl.grad(lambda w: _through_tensor(w, wl)))
    for scale in (1.0, -2.5):
        np.testing.assert_array_equal(compiled(wl.tensor(W * scale)).numpy(),
                                      wl.grad(lambda w: _through_tensor(w, wl))(
                                          wl.tensor(W * scale)).numpy())


def test_views_without_derivatives_are_written_as_before():
    a = wl.zeros(4)
    b = a[0:2]
    b += wl.tensor([1.0, 2.0])  # nothing requires grad: a plain write into a
    np.testing.assert_array_equal(a.numpy(), [1.0, 2.0, 0.0, 0.0])
    assert not a.requires_grad
    with wl.no_grad():
        b += wl.tensor([1.0, 2.0], requires_grad=True)  # not recorded, as PyTorch
    np.testing.assert_array_equal(a.numpy(), [2.0, 4.0, 0.0, 0.0])
    assert not a.requires_grad


def test_a_zero_dimensional_view_and_a_float32_tensor():
    def f(w, m):
        a = m.zeros((2, 3), dtype=w.dtype)
        corner = a[1, 2]  # a 0-d view
        corner += w[0] * w[1]
        column = a[:, 0]
        column -= w[2:4]
        return (a * a).sum() + a[1].sum()

    w32 = np.array([1.5, -2.0, 0.25, 3.0], dtype=np.float32)
    ours = wl.grad(lambda w: f(w, wl))(wl.tensor(w32))
    w = torch.tensor(w32, requires_grad=True)
    f(w, torch).backward()
    assert ours.dtype == wl.float32
    np.testing.assert_allclose(ours.numpy(), w.grad.numpy(), rtol=1e-6)


def test_an_older_view_that_would_miss_the_history_is_named_not_left_stale():
    def f(w):
        a = wl.zeros(4)
        older = a[:2]  # taken before the write: it would hold new values, no history
        a[0:2] += w[0:2]
        return (older * older).sum()

    with pytest.raises(RuntimeError, match=r"starts the history of a tensor that other "
                                           r"views \(or detach\(\)\) share: they would miss it"):
        wl.grad(f)(wl.tensor(W))


def test_later_writes_through_new_views_follow_torch():
    def f(w, m):
        a = m.zeros(4, dtype=w.dtype)
        first = a[:2]
        first += w[:2]
        second = a[1:]  # a has a history now: an ordinary view by indexing
        second *= w[1:4]
        return (a * a).sum()

    ours = wl.grad(lambda w: f(w, wl))(wl.tensor(W))
    np.testing.assert_allclose(ours.numpy(), _torch_grad(f), rtol=1e-15, atol=0)


def test_a_write_into_the_tensor_itself_is_refused_while_an_older_view_shares_it():
    def f(x, m):
        a = m.zeros(3, dtype=x.dtype)
        older = a[0:2]  # taken while a has no history
        a += x  # would start a's history without older's
        return (older * x[0:2]).sum()

    with pytest.raises(RuntimeError, match=r"add_ starts the history of a tensor that other "):
        wl.grad(lambda x: f(x, wl))(wl.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match=r"starts the history of a tensor"):
        wl.jvp(lambda x: f(x, wl), (wl.tensor([1.0, 2.0, 3.0]),), (wl.ones(3),))


def test_an_in_place_op_on_a_view_older_than_a_write_into_its_base_is_refused():
    def f(x):
        y = x * 1.0
        v = y[0]
        y.mul_(2.0)  # v sees the values, its history does not
        v.mul_(3.0)  # gave the gradient [3, 2] where torch gives [6, 2]
        return y.sum()

    with pytest.raises(RuntimeError, match=r"a view of shape \(\) is used after an in-place "
                                           r"mul"):
        wl.grad(f)(wl.tensor([1.0, 2.0]))


@pytest.mark.parametrize("view", [lambda s: s[...], lambda s: s.reshape(1),
                                  lambda s: s[None]])
def test_views_of_a_reduction_result_share_its_storage_as_torch(view):
    def f(m):
        s = m.tensor([1.0, 2.0], dtype=m.float64).sum()  # 0-d: NumPy gives a scalar
        v = view(s)
        s += 2.0
        before = v.tolist()
        v += 10.0
        return before, s.item()

    ours, theirs = f(wl), f(torch)
    assert ours == theirs and ours[1] == 15.0


def test_an_index_write_into_a_reduction_result_keeps_its_value_and_gradient():
    def f(x, m):
        s = x.sum()
        s[...] += x.sum()  # 0-d: s[...] was a copy, the value stayed 1.0
        return s

    x = wl.tensor([1.0], requires_grad=True)
    out = f(x, wl)
    out.backward()
    y = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    theirs = f(y, torch)
    theirs.backward()
    assert (out.item(), x.grad.tolist()) == (theirs.item(), y.grad.tolist()) == (2.0, [2.0])


@pytest.mark.parametrize("layout", ["fortran", "negative steps", "transposed", "3-d permuted"])
def test_a_write_through_a_view_of_any_numpy_layout_is_followed(layout):
    """Data passed in without a copy keeps its layout: the write is followed in every one."""
    def make(lib):
        data = {"fortran": np.asfortranarray(np.arange(6.0).reshape(3, 2)),
                "negative steps": np.arange(24.0).reshape(4, 6)[::2, ::-2],
                "transposed": np.arange(12.0).reshape(3, 4).T,
                "3-d permuted": np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1)[:, ::-1]
                }[layout]
        return (wl.as_tensor(data), data) if lib is wl else (torch.tensor(data.copy()), None)

    def f(w, m):
        a, data = make(m)
        b = a[:, 1]
        b += w[:b.shape[0]].reshape(b.shape[:1]) ** 2 if b.ndim == 1 else \
            w[:b.numel()].reshape(b.shape) ** 2
        if data is not None:
            assert np.shares_memory(a.detach().numpy(), data)  # written in place
        return (a * a).sum()

    ours = wl.grad(lambda w: f(w, wl))(wl.tensor(W))
    np.testing.assert_allclose(ours.numpy(), _torch_grad(f), rtol=1e-15, atol=0)


def test_a_write_through_a_view_of_another_librarys_array_names_the_cause():
    xps = pytest.importorskip("array_api_strict")
    a = wl.as_tensor(xps.zeros(4, dtype=xps.float64))
    b = a[0:2]
    with pytest.raises(RuntimeError, match="holds no NumPy array") as info:
        b += wl.as_tensor(xps.ones(2, dtype=xps.float64)).requires_grad_()
    assert "requires grad" not in str(info.value)
