"""Forward mode and a view used after a write into the tensor it views.

A view's tangent is computed when the view is taken. ``b = y[:2]; y[0:2] = y[0:2] * 2;
b.sum()`` gave the tangent from before the write (2 where torch.func gives 4), a silent
wrong number; reverse mode already refused the same program. Now forward mode refuses
too, naming the view, and a view taken after the write is followed as torch.func.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import wonderland as wl

W = np.array([1.0, 2.0, 3.0, 4.0])
STALE = r"a view of shape \(2,\) is used after an in-place write .* its tangent misses it"


def _assigned_after_view(w, m):
    y = w * 1.0
    b = y[:2]
    y[0:2] = y[0:2] * 2
    return b.sum()


def _scaled_in_place_after_view(w, m):
    y = w * 1.0
    b = y[1:3]
    y.mul_(3.0)
    return (b * b).sum()


def _started_by_a_view_write(w, m):
    a = m.zeros(4, dtype=w.dtype)
    b = a[:2]
    b += w[:2]
    a[0:2] = a[0:2] * 2
    return b.sum()


def _view_taken_after_the_write(w, m):
    y = w * 1.0
    y[0:2] = y[0:2] * 2
    y.mul_(3.0)
    b = y[:2]
    return (b * y[1:3]).sum()


@pytest.mark.parametrize("f", [_assigned_after_view, _scaled_in_place_after_view,
                               _started_by_a_view_write])
def test_a_view_older_than_a_write_is_refused_in_forward_mode(f):
    with pytest.raises(RuntimeError, match=STALE):
        wl.jvp(lambda w: f(w, wl), (wl.tensor(W),), (wl.ones(4),))
    with pytest.raises(RuntimeError, match=STALE):
        wl.jacfwd(lambda w: f(w, wl))(wl.tensor(W))


@pytest.mark.parametrize("f", [_assigned_after_view, _started_by_a_view_write])
def test_reverse_mode_refuses_the_same_programs(f):
    with pytest.raises(RuntimeError, match=r"used after an in-place assignment"):
        wl.grad(lambda w: f(w, wl))(wl.tensor(W))


def test_a_view_taken_after_the_write_follows_torch_func():
    tangent = np.array([0.5, -1.0, 2.0, 0.25])
    ours = wl.jvp(lambda w: _view_taken_after_the_write(w, wl), (wl.tensor(W),),
                  (wl.tensor(tangent),))
    theirs = torch.func.jvp(lambda w: _view_taken_after_the_write(w, torch),
                            (torch.tensor(W),), (torch.tensor(tangent),))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-15)


def test_views_of_a_tensor_never_written_keep_their_tangents():
    def f(w):
        y = wl.sin(w)
        first, last = y[:2], y[2:]
        return (first * last).sum() + y[1:3].sum()

    ours = wl.jvp(f, (wl.tensor(W),), (wl.ones(4),))[1]
    theirs = torch.func.jvp(
        lambda w: (torch.sin(w)[:2] * torch.sin(w)[2:]).sum() + torch.sin(w)[1:3].sum(),
        (torch.tensor(W),), (torch.ones(4, dtype=torch.float64),))[1]
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-15)
