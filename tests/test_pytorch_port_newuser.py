"""What a PyTorch user met porting small training programs to wonderland: an ``opt.lr``
assignment that steps ignored, no ``param_groups`` or ``step(closure)``, Adam without
``weight_decay``, optimizers that could not be pickled, ``.to("cpu")`` read as a dtype,
``rand(dtype=int64)`` giving zeros, ``full(nan, dtype=int64)`` giving garbage,
``autograd.backward`` without ``inputs=``, and no ``long()``/``int()``/``bool()``/``half()``.

Every program that computes is run in PyTorch too (float64) and must agree to ~1e-12.
"""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import wonderland as wl
from wonderland.optim import schedules

RNG = np.random.default_rng(20261202)
X = RNG.standard_normal((40, 3))
Y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.1 * RNG.standard_normal(40)

TORCH = {"GD": torch.optim.SGD, "SGD": torch.optim.SGD, "Adam": torch.optim.Adam}
PAIRS = {  # wonderland optimizer -> (its keywords, PyTorch's keywords)
    "GD": ({}, {}),
    "Momentum": ({"momentum": 0.9}, {"momentum": 0.9}),
    "Nesterov": ({"momentum": 0.9}, {"momentum": 0.9, "nesterov": True}),
    "SGD": ({"momentum": 0.5, "weight_decay": 0.01}, {"momentum": 0.5, "weight_decay": 0.01}),
    "Adam": ({}, {}),
}


def _torch_optimizer(name, params, lr, **kwargs):
    cls = torch.optim.Adam if name == "Adam" else torch.optim.SGD
    return cls(params, lr=lr, **{**PAIRS[name][1], **kwargs})


def _wl_optimizer(name, params, lr, **kwargs):
    return getattr(wl.optim, name)(params, lr=lr, **{**PAIRS[name][0], **kwargs})


def _regression(lib, make_optimizer, steps=12, between=None):
    """Linear regression trained by hand; ``between(opt, i)`` runs before step ``i``.
    Returns the losses, the final parameters and their last gradients."""
    x, y = lib.tensor(X), lib.tensor(Y)
    w = lib.zeros(3, dtype=lib.float64, requires_grad=True)
    b = lib.zeros(1, dtype=lib.float64, requires_grad=True)
    opt = make_optimizer([w, b])
    losses = []
    for i in range(steps):
        if between is not None:
            opt = between(opt, i) or opt
        opt.zero_grad()
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return [np.array(losses), *(p.detach().numpy() for p in (w, b)),
            *(p.grad.numpy() for p in (w, b))]


def _agree(ours, theirs):
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ changing the step size


# Momentum is the text's heavy ball, PyTorch's SGD(momentum) only for a constant step size
SAME_AS_TORCH_FOR_ANY_LR = [name for name in PAIRS if name != "Momentum"]


def _lower_lr_at_step_4(opt, i):
    if i == 4:
        if isinstance(opt, torch.optim.Optimizer):
            opt.param_groups[0]["lr"] = 0.02
        else:
            opt.lr = 0.02


@pytest.mark.parametrize("name", SAME_AS_TORCH_FOR_ANY_LR)
def test_assigning_lr_takes_effect_at_the_next_step(name):
    """``opt.lr = 0.01`` was stored (and shown by state_dict) while every step kept the
    old step size, cached at construction."""
    ours = _regression(wl, lambda p: _wl_optimizer(name, p, 0.1),
                       between=_lower_lr_at_step_4)
    theirs = _regression(torch, lambda p: _torch_optimizer(name, p, 0.1),
                         between=_lower_lr_at_step_4)
    _agree(ours, theirs)


def test_assigning_lr_to_momentum_follows_the_heavy_ball():
    """The heavy ball ``g_t = -η_t ∇f + λ g_{t-1}`` with the assigned ``η_t``."""
    ours = _regression(wl, lambda p: wl.optim.Momentum(p, lr=0.1, momentum=0.9),
                       between=_lower_lr_at_step_4)
    w, b, velocity = np.zeros(3), np.zeros(1), np.zeros(4)
    for i in range(12):
        residual = X @ w + b - Y
        grad = np.concatenate([2 * X.T @ residual, [2 * residual.sum()]]) / len(Y)
        velocity = -(0.1 if i < 4 else 0.02) * grad + 0.9 * velocity
        w, b = w + velocity[:3], b + velocity[3:]
    np.testing.assert_allclose(ours[1], w, rtol=1e-12)
    np.testing.assert_allclose(ours[2], b, rtol=1e-12)


def test_an_assigned_lr_is_checked():
    opt = wl.optim.SGD([wl.tensor(1.0, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match=r"^SGD: lr must be a positive number or a "
                                         r"schedule, got -0\.5"):
        opt.lr = -0.5
    assert opt.lr == 0.1 and opt.current_lr() == 0.1
    opt.lr = schedules.exponential(1.0, 0.5)
    assert opt.current_lr() == 1.0


@settings(max_examples=25, deadline=None)
@given(factors=st.lists(st.floats(0.1, 1.0), min_size=8, max_size=8))
def test_param_groups_lr_decay_loop_matches_torch(factors):
    """PyTorch's manual decay, ``for g in opt.param_groups: g["lr"] *= f``, gave an
    AttributeError (and ``opt.lr = ...`` was ignored)."""
    def decay(opt, i):
        for group in opt.param_groups:
            group["lr"] *= factors[i]

    ours = _regression(wl, lambda p: _wl_optimizer("SGD", p, 0.1), 8, decay)
    theirs = _regression(torch, lambda p: _torch_optimizer("SGD", p, 0.1), 8, decay)
    _agree(ours, theirs)


def test_param_groups_reads_and_checks_the_optimizer_settings():
    w = wl.tensor([1.0], requires_grad=True)
    opt = wl.optim.SGD([w], lr=0.1, momentum=0.9)
    (group,) = opt.param_groups
    assert group["params"] == [w] and group["momentum"] == 0.9 and group["lr"] == 0.1
    assert set(group) == {"params", "lr", "momentum", "dampening", "weight_decay",
                          "nesterov", "maximize"}
    group["momentum"] = 0.5
    assert opt.momentum == 0.5
    group["nesterov"] = True  # (allowed: the current momentum is used in the check)
    assert opt.nesterov
    with pytest.raises(ValueError, match=r"^SGD: param_groups' hyperparameters are refused: "
                                         r"momentum must be a non-negative number, got -1"):
        group["momentum"] = -1
    with pytest.raises(KeyError, match="no 'betas'"):
        group["betas"]
    with pytest.raises(KeyError, match="cannot be replaced"):
        group["params"] = []
    assert opt.momentum == 0.5


# ------------------------------------------------------------------ step(closure), Adam's options


@pytest.mark.parametrize("name", list(PAIRS))
def test_step_with_a_closure_returns_its_loss_and_matches_torch(name):
    """``opt.step(closure)`` was a TypeError."""
    def train(lib, opt_factory):
        x, y = lib.tensor(X), lib.tensor(Y)
        w = lib.zeros(3, dtype=lib.float64, requires_grad=True)
        opt = opt_factory([w])

        def closure():
            opt.zero_grad()
            loss = ((x @ w - y) ** 2).mean()
            loss.backward()
            return loss

        losses = [opt.step(closure).item() for _ in range(6)]
        return np.array(losses), w.detach().numpy()

    _agree(train(wl, lambda p: _wl_optimizer(name, p, 0.05)),
           train(torch, lambda p: _torch_optimizer(name, p, 0.05)))
    w = wl.tensor(1.0, requires_grad=True)
    (w * w).backward()
    assert wl.optim.GD([w], lr=0.1).step() is None


@pytest.mark.parametrize("kwargs", [{"weight_decay": 0.1}, {"maximize": True},
                                    {"weight_decay": 0.05, "maximize": True,
                                     "betas": (0.8, 0.99)}])
def test_adam_weight_decay_and_maximize_match_torch(kwargs):
    """``Adam(weight_decay=...)``, common in ported code, was a TypeError."""
    ours = _regression(wl, lambda p: wl.optim.Adam(p, lr=0.05, **kwargs))
    theirs = _regression(torch, lambda p: torch.optim.Adam(p, lr=0.05, **kwargs))
    _agree(ours, theirs)


def test_adam_weight_decay_is_checked_and_saved():
    w = wl.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"^Adam: weight_decay must be a non-negative "
                                         r"number, got -0\.1"):
        wl.optim.Adam([w], weight_decay=-0.1)
    opt = wl.optim.Adam([w], lr=0.1, weight_decay=0.01)
    other = wl.optim.Adam([w], lr=0.1)
    other.load_state_dict(opt.state_dict())
    assert other.weight_decay == 0.01


# ------------------------------------------------------------------ saving an optimizer


@pytest.mark.parametrize("lr", [0.1, schedules.exponential(0.1, 0.9),
                                schedules.cosine(0.1, 5, 0.01), schedules.step_decay(0.1, 2),
                                schedules.inverse_time(0.1, 0.5)],
                         ids=["constant", "exponential", "cosine", "step_decay",
                              "inverse_time"])
@pytest.mark.parametrize("name", ["GD", "Nesterov", "Adam"])
def test_an_optimizer_pickles_and_deep_copies_and_trains_on(name, lr):
    """``pickle.dumps(opt)`` (``torch.save(opt)``'s habit) failed: the step size was held as
    a closure, which cannot be pickled."""
    def resume(how):
        def between(opt, i):
            if i == 5:  # the parameters and the optimizer saved together, then restored
                params, restored = how((opt.params, opt))
                assert restored.params is params
                return restored
        return between

    straight = _regression(wl, lambda p: _wl_optimizer(name, p, lr))
    for how in (lambda obj: pickle.loads(pickle.dumps(obj)), copy.deepcopy):
        resumed = _regression(wl, lambda p: _wl_optimizer(name, p, lr), between=resume(how))
        # (the regression's tensors are not the restored ones: compare the losses to step 5)
        np.testing.assert_array_equal(resumed[0][:6], straight[0][:6])
    schedule = pickle.loads(pickle.dumps(schedules.cosine(1.0, t_max=2)))
    assert [schedule(t) for t in (1, 3)] == [1.0, 0.0] and repr(schedule).startswith("cosine")


def test_a_pickled_optimizer_continues_exactly():
    x, y = wl.tensor(X), wl.tensor(Y)
    w = wl.zeros(3, requires_grad=True)
    opt = wl.optim.Adam([w], lr=schedules.exponential(0.1, 0.9))

    def steps(w, opt, n):
        out = []
        for _ in range(n):
            opt.zero_grad()
            loss = ((x @ w - y) ** 2).mean()
            loss.backward()
            opt.step()
            out.append(loss.item())
        return out

    steps(w, opt, 3)
    w2, opt2 = pickle.loads(pickle.dumps((w, opt)))
    assert opt2.params[0] is w2
    assert steps(w2, opt2, 4) == steps(w, opt, 4)


# ------------------------------------------------------------------ .to(...)


def test_to_takes_a_device_a_dtype_or_a_tensor_as_torch():
    """``x.to("cpu")`` and ``x.to(device)`` were read as dtypes ("unknown dtype 'cpu'")."""
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    assert x.to("cpu") is x and x.to(device="cpu") is x and x.to(torch.device("cpu")) is x
    assert x.to(wl.float64) is x  # as PyTorch: no change, no copy
    for y in (x.to("cpu", wl.float32), x.to("cpu", dtype="float32"),
              x.to(wl.zeros(1, dtype=wl.float32)), x.to(dtype=wl.float32)):
        assert y.dtype == np.float32 and y.requires_grad
    copied = x.to("cpu", copy=True)
    assert copied is not x and copied.tolist() == x.tolist() and copied.requires_grad
    (copied.to(wl.float32) ** 2).sum().backward()
    t = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    (t.to("cpu", copy=True).to(torch.float32) ** 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    assert x.grad.dtype == np.float64


@pytest.mark.parametrize("args, kwargs, message", [
    (("cuda",), {}, r"^to\(\): unsupported device 'cuda'; the only device is 'cpu'"),
    ((), {"device": "cuda:0"}, r"^to\(\): unsupported device 'cuda:0'"),
    (("float32", "float64"), {}, r"^to\(\): two dtypes given"),
])
def test_to_refuses_what_it_cannot_do_by_name(args, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        wl.ones(2).to(*args, **kwargs)


@pytest.mark.parametrize("method", ["float", "double", "half", "long", "int", "bool"])
def test_the_cast_methods_match_torch(method):
    """``labels.long()``, ``mask.bool()``, ``x.half()``, ``x.int()`` were AttributeErrors
    (only ``float()`` and ``double()`` existed)."""
    values = np.array([1.5, -2.0, 0.0, 3.75])
    ours = getattr(wl.tensor(values), method)()
    theirs = getattr(torch.tensor(values), method)()
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert ours.tolist() == theirs.tolist()
    same = getattr(ours, method)()
    assert same is ours  # as PyTorch: no copy when the dtype is already right


def test_a_cast_to_float_dtypes_stays_differentiable():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    (x.half().float() * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0] and x.grad.dtype == np.float64


@pytest.mark.parametrize("make", [
    lambda dtype: wl.zeros(2, dtype=dtype), lambda dtype: wl.tensor([1.5, 2.0], dtype=dtype),
    lambda dtype: wl.randn(2, dtype=dtype), lambda dtype: wl.full_like(wl.ones(2), 3, dtype),
    lambda dtype: wl.ones(2).to(dtype), lambda dtype: wl.ones(2).type(dtype),
    lambda dtype: wl.ones(2).to("cpu", dtype=dtype)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_torch_dtype_left_in_half_ported_code_is_read_by_its_name(make, dtype):
    """``wl.zeros(2, dtype=torch.float32)`` crashed with "'torch.dtype' object has no
    attribute 'kind'"; ``.to(torch.float32)`` with NumPy's "must be a NumPy dtype"."""
    assert make(dtype).dtype.name == str(dtype).removeprefix("torch.")


def test_a_torch_dtype_numpy_lacks_is_refused_by_name():
    with pytest.raises(TypeError, match=r"^zeros: unknown or non-numeric dtype "
                                        r"torch\.bfloat16"):
        wl.zeros(2, dtype=torch.bfloat16)


# ------------------------------------------------------------------ creation


@pytest.mark.parametrize("make", [wl.rand, wl.randn])
@pytest.mark.parametrize("dtype", [wl.int64, wl.int32, wl.bool_, "int8"])
def test_random_tensors_of_integers_are_refused_as_torch(make, dtype):
    """``wl.rand(3, dtype=wl.int64)`` was all zeros (uniform samples truncated),
    ``rand(dtype=bool)`` all True; PyTorch refuses both."""
    name = make.__name__
    with pytest.raises(TypeError, match=rf"^{name}: random values need a floating dtype, "
                                        rf"got {np.dtype(dtype).name}"):
        make(3, dtype=dtype)
    assert make(3, dtype=wl.float32).dtype == np.float32


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 1e30, 2**63])
@pytest.mark.parametrize("make", [lambda v: wl.full((2,), v, dtype=wl.int64),
                                  lambda v: wl.full_like(wl.arange(2), v)],
                         ids=["full", "full_like"])
def test_a_fill_value_an_integer_dtype_cannot_hold_is_refused(make, value):
    """``wl.full((2,), nan, dtype=int64)`` gave -9223372036854775808 with only a NumPy
    warning (PyTorch: "value cannot be converted to type int64_t without overflow")."""
    with pytest.raises(ValueError, match=r"fill value .* cannot be held by dtype int64"):
        make(value)
    with pytest.raises(RuntimeError):
        torch.full((2,), value, dtype=torch.int64)


def test_fill_values_that_fit_still_fill_as_numpy_and_torch():
    assert wl.full((2,), 2.5, dtype=wl.int64).tolist() == [2, 2]  # truncated, as both
    assert wl.full((2,), -1, dtype="int8").tolist() == [-1, -1]
    assert wl.full((2,), True, dtype=wl.int64).tolist() == [1, 1]
    assert wl.full_like(wl.arange(2), 7).tolist() == [7, 7]


def test_manual_seed_takes_integers_as_torch():
    """``manual_seed(1.5)`` was seed 1 and ``manual_seed("3")`` seed 3 without a word;
    ``manual_seed(-1)`` (PyTorch takes it) was NumPy's unexplained "expected non-negative
    integer"."""
    for bad in (1.5, "3", None, True):
        with pytest.raises(TypeError, match=r"^manual_seed: seed must be an integer, got"):
            wl.manual_seed(bad)
    wl.manual_seed(-1)
    a = wl.randn(3)
    wl.manual_seed(2**64 - 1)
    np.testing.assert_array_equal(a.numpy(), wl.randn(3).numpy())
    wl.manual_seed(np.int64(7))
    b = wl.rand(2)
    wl.manual_seed(7)
    np.testing.assert_array_equal(b.numpy(), wl.rand(2).numpy())


# ------------------------------------------------------------------ autograd.backward(inputs=)


def test_autograd_backward_with_inputs_matches_torch():
    """``wl.autograd.backward(..., inputs=[w])`` was a TypeError."""
    def run(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        unused = lib.tensor([3.0], dtype=lib.float64, requires_grad=True)
        h = x * w
        lib.autograd.backward((h * h * x).sum(), inputs=[w, h, unused])
        first = (x.grad, w.grad.clone(), h.grad, unused.grad)
        lib.autograd.backward([(w ** 3).sum()], inputs=w)  # accumulates
        return first, w.grad

    (x_grad, w_grad, h_grad, unused_grad), w_twice = run(wl)
    (tx, tw, th, tu), tw_twice = run(torch)
    assert x_grad is None and tx is None and unused_grad is None and tu is None
    for ours, theirs in ((w_grad, tw), (h_grad, th), (w_twice, tw_twice)):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-14)


def test_autograd_backward_inputs_create_graph_matches_torch():
    def run(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        lib.autograd.backward((x ** 3).sum(), inputs=[x], create_graph=True)
        (g2,) = lib.autograd.grad(x.grad.sum(), x)
        return x.grad.detach().numpy(), g2.numpy()

    with warnings.catch_warnings():  # PyTorch warns of the reference cycle, once a process
        warnings.simplefilter("ignore", UserWarning)
        theirs = run(torch)
    _agree(run(wl), theirs)


@pytest.mark.parametrize("inputs, error, message", [
    ([], ValueError, r"^autograd.backward: inputs is empty"),
    ([wl.ones(1)], RuntimeError, r"^autograd.backward: input 0 \(shape \(1,\)\) does not "
                                 r"require grad"),
    (["w"], TypeError, r"^inputs\[0\] is a str, not a Tensor"),
])
def test_autograd_backward_bad_inputs_are_named(inputs, error, message):
    w = wl.ones(1, requires_grad=True)
    with pytest.raises(error, match=message):
        wl.autograd.backward((w * 2).sum(), inputs=inputs)
    assert w.grad is None


# ------------------------------------------------------------------ a whole port


@pytest.mark.parametrize("name", SAME_AS_TORCH_FOR_ANY_LR)
def test_a_small_mlp_port_matches_torch_step_for_step_and_resumes(name):
    """A two-layer classifier trained by hand with a decaying step size (a schedule in
    wonderland, ``param_groups`` in PyTorch), its optimizer saved and restored midway."""
    rng = np.random.default_rng(5)
    inputs = rng.standard_normal((32, 4))
    labels = (inputs @ np.array([1.0, -1.0, 2.0, 0.0]) > 0).astype(float)
    w1, w2 = rng.standard_normal((4, 6)) * 0.5, rng.standard_normal((6, 1)) * 0.5

    def train(lib):
        x, y = lib.tensor(inputs), lib.tensor(labels)
        params = [lib.tensor(w1, requires_grad=True), lib.zeros(6, dtype=lib.float64,
                                                                 requires_grad=True),
                  lib.tensor(w2, requires_grad=True)]
        make = _torch_optimizer if lib is torch else _wl_optimizer
        opt = make(name, params, 0.2)
        losses = []
        for i in range(15):
            if i == 7:
                state = pickle.loads(pickle.dumps(opt.state_dict()))
                opt = make(name, params, 0.2)
                opt.load_state_dict(state)
            for group in opt.param_groups:
                group["lr"] = 0.2 * 0.9 ** i
            opt.zero_grad()
            hidden = lib.tanh(x @ params[0] + params[1])
            p = lib.sigmoid((hidden @ params[2]).reshape(-1))
            loss = -(y * lib.log(p) + (1 - y) * lib.log(1 - p)).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return [np.array(losses), *(q.detach().numpy() for q in params)]

    _agree(train(wl), train(torch))


def test_autograd_takes_a_generator_of_inputs_as_torch():
    """``wl.autograd.grad(loss, (p for p in params))`` (PyTorch's ``model.parameters()``
    is a generator) was "inputs must be a Tensor or a sequence of Tensors"."""
    def run(lib):
        params = [lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True),
                  lib.tensor([0.5], dtype=lib.float64, requires_grad=True)]
        loss = (params[0] ** 2).sum() * params[1].sum()
        grads = lib.autograd.grad([loss], (p for p in params), retain_graph=True,
                                  grad_outputs=(g for g in [lib.tensor(2.0, dtype=lib.float64)]))
        lib.autograd.backward(loss, inputs=iter(params))
        return [g.numpy() for g in grads] + [p.grad.numpy() for p in params]

    _agree(run(wl), run(torch))
    with pytest.raises(TypeError, match=r"^inputs must be a Tensor or a sequence of "
                                        r"Tensors, got str"):
        wl.autograd.grad(wl.ones(1, requires_grad=True).sum(), "x")
