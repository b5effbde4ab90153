"""PyTorch's shape methods on Tensor: ``contiguous``, ``view_as``, ``reshape_as``,
``swapaxes``/``swapdims``, ``movedim``, ``flip``, ``roll``, ``chunk``, ``split``,
``unbind``, ``tril`` and ``triu`` (and the functions ``wl.flip``, ``wl.roll``, ...).

Values and gradients (of ``sum(out * R)``, ``R`` a fixed random weight) are checked
against PyTorch in float64, gradients also against central differences, and bad input
against a clear error that names the offending value.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import wonderland as wl

RNG = np.random.default_rng(20261202)


def _pieces(out):
    return list(out) if isinstance(out, tuple | list) else [out]


def _weights(outs, seed):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=tuple(o.shape)) for o in outs]


def _loss_wl(outs, weights):
    total = wl.tensor(0.0)
    for o, r in zip(outs, weights):
        total = total + (o * wl.tensor(r)).sum()
    return total


def match_torch(ours, theirs, shape, seed=0):
    """``ours(x)`` and ``theirs(xt)`` agree in values (piece by piece for tuples), and in the
    gradient of ``sum(out * R)``; the gradient also matches central differences."""
    a = np.random.default_rng(seed).normal(size=shape)
    x = wl.tensor(a, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    out, out_t = ours(x), theirs(xt)
    assert isinstance(out, tuple) == isinstance(out_t, tuple)
    outs, outs_t = _pieces(out), _pieces(out_t)
    assert len(outs) == len(outs_t)
    for o, ot in zip(outs, outs_t):
        assert o.shape == tuple(ot.shape)
        np.testing.assert_array_equal(o.numpy(), ot.detach().numpy())
    weights = _weights(outs, seed + 1)
    if not outs:
        return
    (g,) = wl.autograd.grad(_loss_wl(outs, weights), x)
    loss_t = sum((ot * torch.tensor(r)).sum() for ot, r in zip(outs_t, weights))
    (gt,) = torch.autograd.grad(loss_t, xt, allow_unused=True)
    gt = torch.zeros_like(xt) if gt is None else gt
    np.testing.assert_allclose(g.numpy(), gt.numpy(), rtol=1e-12, atol=1e-12)
    numeric = wl.numerical_grad(lambda y: _loss_wl(_pieces(ours(y)), weights), a)
    np.testing.assert_allclose(g.numpy(), numeric.numpy(), rtol=1e-6, atol=1e-7)


# ====================================================================== values and gradients

CASES = [
    # (name, ours, theirs, shape)
    ("contiguous", lambda x: x.t().contiguous(), lambda x: x.t().contiguous(), (2, 3)),
    ("view_as", lambda x: x.view_as(wl.zeros(3, 2)), lambda x: x.view_as(torch.zeros(3, 2)),
     (2, 3)),
    ("reshape_as", lambda x: x.reshape_as(wl.zeros(6)), lambda x: x.reshape_as(torch.zeros(6)),
     (2, 3)),
    ("swapaxes", lambda x: x.swapaxes(0, -1), lambda x: x.swapaxes(0, -1), (2, 3, 4)),
    ("swapdims", lambda x: x.swapdims(-2, 1), lambda x: x.swapdims(-2, 1), (2, 3, 4)),
    ("movedim int", lambda x: x.movedim(0, -1), lambda x: x.movedim(0, -1), (2, 3, 4)),
    ("movedim neg", lambda x: wl.movedim(x, -1, 1), lambda x: torch.movedim(x, -1, 1),
     (2, 3, 4)),
    ("movedim tuple", lambda x: x.movedim((0, 1), (2, 0)),
     lambda x: x.movedim((0, 1), (2, 0)), (2, 3, 4)),
    ("movedim tuple neg", lambda x: wl.movedim(x, (-1, 0, 2), (0, -1, 1)),
     lambda x: torch.movedim(x, (-1, 0, 2), (0, -1, 1)), (2, 3, 4, 5)),
    ("flip 0", lambda x: x.flip(0), lambda x: x.flip(0), (4,)),
    ("flip -1", lambda x: wl.flip(x, -1), lambda x: torch.flip(x, (-1,)), (2, 3, 4)),
    ("flip tuple", lambda x: wl.flip(x, (0, 2)), lambda x: torch.flip(x, (0, 2)), (2, 3, 4)),
    ("flip varargs", lambda x: x.flip(1, -3), lambda x: x.flip(1, -3), (2, 3, 4)),
    ("flip empty", lambda x: x.flip(()), lambda x: x.flip(()), (2, 3)),
    ("flip 0-d", lambda x: x.flip(0), lambda x: x.flip(0), ()),
    ("roll flat", lambda x: x.roll(2), lambda x: x.roll(2), (2, 3)),
    ("roll flat neg", lambda x: wl.roll(x, -7), lambda x: torch.roll(x, -7), (2, 3)),
    ("roll 0-d", lambda x: x.roll(1), lambda x: x.roll(1), ()),
    ("roll dim", lambda x: x.roll(1, 1), lambda x: x.roll(1, 1), (2, 3, 4)),
    ("roll neg dim", lambda x: wl.roll(x, -2, -1), lambda x: torch.roll(x, -2, -1), (2, 3, 4)),
    ("roll big shift", lambda x: x.roll(11, 0), lambda x: x.roll(11, 0), (4, 3)),
    ("roll zero shift", lambda x: x.roll(3, 1), lambda x: x.roll(3, 1), (2, 3)),
    ("roll tuple", lambda x: wl.roll(x, (1, -1), (0, 2)),
     lambda x: torch.roll(x, (1, -1), (0, 2)), (2, 3, 4)),
    ("roll repeated dim", lambda x: x.roll((1, 2), (0, 0)), lambda x: x.roll((1, 2), (0, 0)),
     (5, 2)),
    ("roll empty dim", lambda x: x.roll(1, 1), lambda x: x.roll(1, 1), (2, 0)),
    ("chunk even", lambda x: x.chunk(2), lambda x: x.chunk(2), (4, 3)),
    ("chunk uneven", lambda x: x.chunk(3), lambda x: x.chunk(3), (5,)),
    ("chunk fewer", lambda x: wl.chunk(x, 4), lambda x: torch.chunk(x, 4), (6,)),
    ("chunk more than size", lambda x: x.chunk(5, 1), lambda x: x.chunk(5, 1), (2, 3)),
    ("chunk neg dim", lambda x: x.chunk(2, -1), lambda x: x.chunk(2, -1), (2, 3, 5)),
    ("chunk empty", lambda x: x.chunk(3), lambda x: x.chunk(3), (0, 2)),
    ("split int", lambda x: x.split(2), lambda x: x.split(2), (5, 2)),
    ("split int big", lambda x: x.split(9, 1), lambda x: x.split(9, 1), (2, 3)),
    ("split neg dim", lambda x: wl.split(x, 3, -1), lambda x: torch.split(x, 3, -1), (2, 7)),
    ("split list", lambda x: x.split([1, 0, 3], 1), lambda x: x.split([1, 0, 3], 1), (2, 4)),
    ("split tuple", lambda x: wl.split(x, (2, 2), dim=-2), lambda x: torch.split(x, (2, 2), -2),
     (4, 3)),
    ("split empty int", lambda x: x.split(2), lambda x: x.split(2), (0, 3)),
    ("split empty zero", lambda x: x.split(0), lambda x: x.split(0), (0, 3)),
    ("unbind", lambda x: x.unbind(), lambda x: x.unbind(), (3, 2)),
    ("unbind dim", lambda x: wl.unbind(x, 1), lambda x: torch.unbind(x, 1), (2, 3, 4)),
    ("unbind neg dim", lambda x: x.unbind(-1), lambda x: x.unbind(-1), (2, 3, 4)),
    ("unbind empty", lambda x: x.unbind(1), lambda x: x.unbind(1), (2, 0)),
    ("tril", lambda x: x.tril(), lambda x: x.tril(), (4, 4)),
    ("tril wide", lambda x: x.tril(1), lambda x: x.tril(1), (3, 5)),
    ("tril tall neg", lambda x: wl.tril(x, -1), lambda x: torch.tril(x, -1), (5, 3)),
    ("tril far", lambda x: x.tril(-7), lambda x: x.tril(-7), (3, 4)),
    ("tril batch", lambda x: wl.tril(x, diagonal=2), lambda x: torch.tril(x, 2), (2, 3, 4, 5)),
    ("triu", lambda x: x.triu(), lambda x: x.triu(), (4, 4)),
    ("triu wide neg", lambda x: x.triu(-1), lambda x: x.triu(-1), (3, 5)),
    ("triu tall", lambda x: wl.triu(x, 2), lambda x: torch.triu(x, 2), (5, 3)),
    ("triu batch", lambda x: x.triu(1), lambda x: x.triu(1), (2, 3, 3)),
    ("triu far", lambda x: x.triu(9), lambda x: x.triu(9), (3, 4)),
]


@pytest.mark.parametrize("name,ours,theirs,shape", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients_match_torch(name, ours, theirs, shape):
    match_torch(ours, theirs, shape, seed=len(name))


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4)])
@pytest.mark.parametrize("k", [-2, 0, 1])
def test_tril_plus_strict_triu_is_the_tensor(shape, k):
    x = wl.tensor(RNG.normal(size=shape))
    np.testing.assert_array_equal((x.tril(k) + x.triu(k + 1)).numpy(), x.numpy())


def test_forward_and_reverse_mode_agree_with_differences():
    a = RNG.normal(size=(3, 4))
    for f in (lambda x: x.flip(0, 1) * x, lambda x: wl.roll(x, (1, -2), (0, 1)) ** 2,
              lambda x: wl.stack(x.chunk(2, 1), 0).sin(), lambda x: x.tril(1) * x.triu(),
              lambda x: wl.concatenate(x.split([1, 2], 0), 0).movedim(0, 1).cos(),
              lambda x: wl.stack(x.unbind(1)) * x.swapaxes(0, 1)):
        wl.check_grad(f, a)


def test_unbind_then_stack_and_split_then_concatenate_give_back_the_tensor():
    x = wl.tensor(RNG.normal(size=(2, 3, 4)))
    np.testing.assert_array_equal(wl.stack(x.unbind(1), 1).numpy(), x.numpy())
    np.testing.assert_array_equal(wl.concatenate(x.split([1, 3], -1), -1).numpy(), x.numpy())


def test_results_are_tuples_of_views_as_in_torch_and_flip_roll_copy():
    x = wl.zeros(4, 3)
    for pieces in (x.chunk(2), x.split(1), x.split([1, 3]), x.unbind()):
        assert isinstance(pieces, tuple)
    with wl.no_grad():
        x.chunk(2)[1].add_(1.0)  # a view, as torch.chunk's: writes reach x
        x.unbind(1)[0].add_(2.0)
    t = torch.zeros(4, 3)
    t.chunk(2)[1].add_(1.0)
    t.unbind(1)[0].add_(2.0)
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    y = wl.arange(4.0)
    with wl.no_grad():
        y.flip(0).add_(1.0)
        y.roll(1).add_(1.0)
        y.roll(4).add_(1.0)
    assert y.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_contiguous_is_identity_and_dtypes_are_kept():
    x = wl.arange(6.0).reshape(2, 3)
    assert x.contiguous() is x
    ints = wl.tensor([[1, 2], [3, 4]])
    assert ints.tril().dtype == ints.dtype and ints.tril().tolist() == [[1, 0], [3, 4]]
    bools = wl.tensor([[True, True], [True, True]])
    assert bools.triu().tolist() == [[True, True], [False, True]]
    f32 = wl.ones(2, 2, dtype=wl.float32)
    for out in (f32.tril(), f32.flip(0), f32.roll(1, 0), *f32.chunk(2), f32.movedim(0, 1)):
        assert out.dtype == wl.float32


def test_module_functions_are_exported_and_take_arrays():
    for name in ("flip", "roll", "tril", "triu", "chunk", "split", "unbind", "movedim"):
        assert name in wl.__all__ and callable(getattr(wl, name))
    a = np.arange(6.0).reshape(2, 3)
    assert wl.flip(a, 1).tolist() == np.flip(a, 1).tolist()
    assert wl.roll(a, 1, 1).tolist() == np.roll(a, 1, 1).tolist()
    assert wl.triu(a).tolist() == np.triu(a).tolist()
    assert wl.movedim(a, 0, 1).shape == (3, 2)


# ====================================================================== bad input


@pytest.mark.parametrize("call,exc,needle", [
    (lambda x: x.swapaxes(0, 3), IndexError, "3"),
    (lambda x: x.swapdims(-4, 0), IndexError, "-4"),
    (lambda x: x.swapaxes(0.5, 1), TypeError, "0.5"),
    (lambda x: x.movedim(3, 0), IndexError, "3"),
    (lambda x: x.movedim((0, 0), (1, 2)), ValueError, "(0, 0)"),
    (lambda x: x.movedim((0, 1), (2, -1)), ValueError, "(2, -1)"),
    (lambda x: x.movedim((0, 1), (2,)), ValueError, "(2,)"),
    (lambda x: x.movedim(0, (1, 0)), TypeError, "(1, 0)"),
    (lambda x: x.movedim(0.5, 1), TypeError, "0.5"),
    (lambda x: x.flip(3), IndexError, "3"),
    (lambda x: wl.flip(x, (0, -3)), ValueError, "(0, -3)"),
    (lambda x: x.flip("0"), TypeError, "'0'"),
    (lambda x: x.roll(1, 5), IndexError, "5"),
    (lambda x: x.roll((1, 2)), ValueError, "(1, 2)"),
    (lambda x: x.roll((1, 2), (0,)), ValueError, "(1, 2)"),
    (lambda x: x.roll(1.5, 0), TypeError, "1.5"),
    (lambda x: wl.tensor(3.0).roll(1, 0), IndexError, "0"),
    (lambda x: x.chunk(0), ValueError, "0"),
    (lambda x: x.chunk(-2), ValueError, "-2"),
    (lambda x: x.chunk(2.0), TypeError, "2.0"),
    (lambda x: x.chunk(2, 3), IndexError, "3"),
    (lambda x: wl.tensor(3.0).chunk(2), ValueError, "0-d"),
    (lambda x: x.split([2, 2], 1), ValueError, "[2, 2]"),
    (lambda x: x.split([4, -1], 1), ValueError, "[4, -1]"),
    (lambda x: x.split(0), ValueError, "0"),
    (lambda x: x.split(-1), ValueError, "-1"),
    (lambda x: x.split(1.5), TypeError, "1.5"),
    (lambda x: x.split([1, 1.5]), TypeError, "1.5"),
    (lambda x: x.split(1, -4), IndexError, "-4"),
    (lambda x: x.unbind(3), IndexError, "3"),
    (lambda x: wl.tensor(3.0).unbind(), IndexError, "0"),
    (lambda x: x.tril(1.5), TypeError, "1.5"),
    (lambda x: wl.arange(3.0).triu(), ValueError, "(3,)"),
    (lambda x: x.view_as(wl.zeros(5)), ValueError, "(5,)"),
    (lambda x: x.reshape_as((2, 3)), TypeError, "tuple"),
])
def test_bad_input_raises_a_clear_error(call, exc, needle):
    x = wl.zeros(2, 3, 4)
    with pytest.raises(exc) as info:
        call(x)
    assert needle in str(info.value)
    # raised by wonderland's own checks, not from deep inside NumPy
    assert info.traceback[-1].path.name in ("idioms.py", "shape.py")
