"""Stateful optimizers and step-size schedules (API.md §3, §9 "schedules").

The heavy ball of the text, ``g_t = -lr_t ∇f(x_{t-1}) + λ g_{t-1}``, ``x_t = x_{t-1} + g_t``,
``g_0 = 0``, is checked against a hand recurrence; GD, Nesterov and Adam against PyTorch.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import wonderland as wl
from wonderland.cli.practice import practice_function, practice_gradient
from wonderland.optim import schedules

STEPS = 30


# ---------------------------------------------------------------------- helpers


def _quadratic_problem():
    """``f(x) = Σ c_i x_i²`` (ill-conditioned), its hand gradient and a start."""
    c = np.array([0.5, 2.0, 7.5, 0.1])
    x0 = np.array([1.0, -2.0, 0.3, 4.0])

    def f(x):
        return (wl.tensor(c) * x**2).sum()

    def grad(x):
        return 2.0 * c * x

    return f, grad, x0


def _practice_problem():
    """The text's practice function on 6 points of ``[0, 10]²`` (rows are points)."""
    x0 = np.random.default_rng(3).uniform(0.0, 10.0, size=(6, 2))

    def f(X):
        return practice_function(X).sum()

    return f, practice_gradient, x0


PROBLEMS = {"quadratic": _quadratic_problem, "practice": _practice_problem}


def _inverse_sqrt(t: int) -> float:
    return 0.2 / math.sqrt(t)


LRS = {"constant": 0.05, "schedule": _inverse_sqrt}


def _lr_at(lr, t: int) -> float:
    return lr(t) if callable(lr) else lr


def _heavy_ball(grad, x0, lr, momentum, steps):
    """The text's recurrence, by hand, in NumPy."""
    x, g = x0.copy(), np.zeros_like(x0)
    xs = [x.copy()]
    for t in range(1, steps + 1):
        g = -_lr_at(lr, t) * grad(x) + momentum * g
        x = x + g
        xs.append(x.copy())
    return np.stack(xs)


def _run_wl(opt_cls, f, x0, steps, **kwargs):
    """``steps`` steps of a wonderland optimizer on ``f`` (autodiff gradients)."""
    x = wl.tensor(x0.copy(), requires_grad=True)
    opt = opt_cls([x], **kwargs)
    xs = [x.numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        f(x).backward()
        opt.step()
        xs.append(x.numpy().copy())
    return np.stack(xs)


def _run_torch(opt_factory, f_torch, x0, steps):
    x = torch.tensor(x0.copy(), dtype=torch.float64, requires_grad=True)
    opt = opt_factory([x])
    xs = [x.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        f_torch(x).backward()
        opt.step()
        xs.append(x.detach().numpy().copy())
    return np.stack(xs)


def _torch_quadratic(x):
    c = torch.tensor([0.5, 2.0, 7.5, 0.1], dtype=torch.float64)
    return (c * x**2).sum()


def _torch_practice(X):
    return practice_function(X, torch).sum()


TORCH_PROBLEMS = {"quadratic": _torch_quadratic, "practice": _torch_practice}


# ---------------------------------------------------------------------- Momentum


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("lr_kind", sorted(LRS))
@pytest.mark.parametrize("momentum", [0.9, 0.5])
def test_momentum_is_the_texts_heavy_ball(problem, lr_kind, momentum):
    f, grad, x0 = PROBLEMS[problem]()
    lr = LRS[lr_kind]
    ours = _run_wl(wl.optim.Momentum, f, x0, STEPS, lr=lr, momentum=momentum)
    expected = _heavy_ball(grad, x0, lr, momentum, STEPS)
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("lr_kind", sorted(LRS))
def test_momentum_update_arithmetic_is_exact(lr_kind):
    """Given the gradients directly, the update is the recurrence to the last bit."""
    _, grad, x0 = _quadratic_problem()
    lr, momentum = LRS[lr_kind], 0.8
    x = wl.tensor(x0.copy(), requires_grad=True)
    opt = wl.optim.Momentum([x], lr=lr, momentum=momentum)
    ours = [x.numpy().copy()]
    for _ in range(STEPS):
        x.grad = wl.tensor(grad(x.numpy()))
        opt.step()
        ours.append(x.numpy().copy())
    np.testing.assert_array_equal(np.stack(ours), _heavy_ball(grad, x0, lr, momentum, STEPS))


def test_momentum_first_step_is_plain_gd_and_schedule_starts_at_one():
    """``g_0 = 0``: the first update is ``-lr(1) ∇f(x_0)``; the schedule is called with t=1."""
    calls = []

    def lr(t):
        calls.append(t)
        return 0.1 * t

    x = wl.tensor([1.0, -3.0], requires_grad=True)
    opt = wl.optim.Momentum([x], lr=lr, momentum=0.9)
    (x**2).sum().backward()
    opt.step()
    assert calls and calls[0] == 1
    np.testing.assert_allclose(x.numpy(), np.array([1.0, -3.0]) - 0.1 * 2 * np.array([1.0, -3.0]),
                               rtol=0, atol=1e-15)


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_momentum_equals_torch_sgd_momentum_for_constant_lr(problem):
    f, _, x0 = PROBLEMS[problem]()
    ours = _run_wl(wl.optim.Momentum, f, x0, STEPS, lr=0.05, momentum=0.9)
    theirs = _run_torch(lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
                        TORCH_PROBLEMS[problem], x0, STEPS)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)


def test_momentum_default_is_point_nine():
    f, grad, x0 = _quadratic_problem()
    x = wl.tensor(x0.copy(), requires_grad=True)
    opt = wl.optim.Momentum([x], lr=0.05)
    ours = [x0.copy()]
    for _ in range(10):
        opt.zero_grad()
        f(x).backward()
        opt.step()
        ours.append(x.numpy().copy())
    np.testing.assert_allclose(np.stack(ours), _heavy_ball(grad, x0, 0.05, 0.9, 10),
                               rtol=0, atol=1e-12)


# ---------------------------------------------------------------------- GD, Nesterov


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_gd_is_x_minus_lr_grad(problem):
    f, grad, x0 = PROBLEMS[problem]()
    x = wl.tensor(x0.copy(), requires_grad=True)
    opt = wl.optim.GD([x], lr=0.05)
    for _ in range(STEPS):
        before = x.numpy().copy()
        opt.zero_grad()
        f(x).backward()
        g = x.grad.numpy().copy()
        np.testing.assert_allclose(g, grad(before), rtol=1e-13, atol=1e-14)
        opt.step()
        np.testing.assert_array_equal(x.numpy(), before - 0.05 * g)


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_gd_equals_torch_sgd(problem):
    f, _, x0 = PROBLEMS[problem]()
    ours = _run_wl(wl.optim.GD, f, x0, STEPS, lr=0.05)
    theirs = _run_torch(lambda p: torch.optim.SGD(p, lr=0.05), TORCH_PROBLEMS[problem], x0,
                        STEPS)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("momentum", [0.9, 0.5])
def test_nesterov_equals_torch_sgd_nesterov(problem, momentum):
    f, _, x0 = PROBLEMS[problem]()
    ours = _run_wl(wl.optim.Nesterov, f, x0, STEPS, lr=0.05, momentum=momentum)
    theirs = _run_torch(lambda p: torch.optim.SGD(p, lr=0.05, momentum=momentum, nesterov=True),
                        TORCH_PROBLEMS[problem], x0, STEPS)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)


def test_nesterov_default_momentum_is_point_nine():
    f, _, x0 = _quadratic_problem()
    ours = _run_wl(wl.optim.Nesterov, f, x0, STEPS, lr=0.05)
    theirs = _run_torch(lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
                        _torch_quadratic, x0, STEPS)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)


# ---------------------------------------------------------------------- Adam


def _regression_data():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((20, 3))
    Y = rng.standard_normal((20, 2))
    W0 = rng.standard_normal((3, 2))
    b0 = rng.standard_normal(2)
    return X, Y, W0, b0


@pytest.mark.parametrize("adam_kwargs", [
    {"lr": 0.01},
    {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 0.003, "betas": (0.5, 0.9), "eps": 1e-3},
], ids=["defaults", "custom", "big-eps"])
def test_adam_equals_torch_adam_on_two_parameters(adam_kwargs):
    X, Y, W0, b0 = _regression_data()
    W = wl.tensor(W0.copy(), requires_grad=True)
    b = wl.tensor(b0.copy(), requires_grad=True)
    opt = wl.optim.Adam([W, b], **adam_kwargs)
    Wt = torch.tensor(W0.copy(), requires_grad=True)
    bt = torch.tensor(b0.copy(), requires_grad=True)
    opt_t = torch.optim.Adam([Wt, bt], **adam_kwargs)
    Xw, Yw, Xt, Yt = wl.tensor(X), wl.tensor(Y), torch.tensor(X), torch.tensor(Y)
    for _ in range(20):
        opt.zero_grad()
        ((Xw @ W + b - Yw) ** 2).mean().backward()
        opt.step()
        opt_t.zero_grad()
        ((Xt @ Wt + bt - Yt) ** 2).mean().backward()
        opt_t.step()
        np.testing.assert_allclose(W.numpy(), Wt.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(b.numpy(), bt.detach().numpy(), rtol=1e-12, atol=1e-14)
    # the parameters did move (the comparison is not vacuous)
    assert np.max(np.abs(W.numpy() - W0)) > 1e-3


def test_adam_defaults_are_pytorchs():
    X, Y, W0, b0 = _regression_data()
    W = wl.tensor(W0.copy(), requires_grad=True)
    opt = wl.optim.Adam([W], lr=0.02)
    assert tuple(opt.betas) == (0.9, 0.999) and opt.eps == 1e-8
    Wt = torch.tensor(W0.copy(), requires_grad=True)
    opt_t = torch.optim.Adam([Wt], lr=0.02)
    for _ in range(20):
        opt.zero_grad()
        ((wl.tensor(X) @ W - wl.tensor(Y)) ** 2).sum().backward()
        opt.step()
        opt_t.zero_grad()
        ((torch.tensor(X) @ Wt - torch.tensor(Y)) ** 2).sum().backward()
        opt_t.step()
    np.testing.assert_allclose(W.numpy(), Wt.detach().numpy(), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------- zero_grad


@pytest.mark.parametrize("opt_cls", [wl.optim.GD, wl.optim.Momentum, wl.optim.Nesterov,
                                     wl.optim.Adam])
def test_zero_grad_sets_grad_to_none(opt_cls):
    a = wl.tensor([1.0, 2.0], requires_grad=True)
    b = wl.tensor([[3.0]], requires_grad=True)
    opt = opt_cls([a, b], lr=0.1)
    ((a**2).sum() + (b**3).sum()).backward()
    assert a.grad is not None and b.grad is not None
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_gradients_accumulate_without_zero_grad():
    """PyTorch semantics: forgetting zero_grad doubles the gradient, and GD follows it."""
    x = wl.tensor(1.0, requires_grad=True)
    opt = wl.optim.GD([x], lr=0.1)
    (x**2).backward()
    (x**2).backward()
    opt.step()
    assert x.item() == pytest.approx(1.0 - 0.1 * 4.0, abs=1e-15)


@pytest.mark.parametrize("opt_cls", [wl.optim.GD, wl.optim.Momentum, wl.optim.Nesterov,
                                     wl.optim.Adam])
def test_step_modifies_the_parameter_in_place_for_the_version_guard(opt_cls):
    """A graph that saved the parameter before step() refuses to run backward after it."""
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    opt = opt_cls([x], lr=0.1)
    stale = (x * x).sum()
    (x * x).sum().backward()
    storage = x.numpy()
    opt.step()
    assert np.shares_memory(storage, x.numpy())  # updated in place
    with pytest.raises(RuntimeError, match="in-place"):
        stale.backward()


@pytest.mark.parametrize("momentum", [0.9, 0.5])
def test_nesterov_equals_torch_when_gradients_accumulate(momentum):
    """Without zero_grad the gradient accumulates in place; the momentum buffer must not
    share its storage."""
    x0 = np.array([0.3, -1.2, 2.0])
    x = wl.tensor(x0.copy(), requires_grad=True)
    xt = torch.tensor(x0.copy(), requires_grad=True)
    ours = wl.optim.Nesterov([x], lr=0.05, momentum=momentum)
    theirs = torch.optim.SGD([xt], lr=0.05, momentum=momentum, nesterov=True)
    for _ in range(4):
        (x**3).sum().backward()
        ours.step()
        (xt**3).sum().backward()
        theirs.step()
    np.testing.assert_allclose(x.numpy(), xt.detach().numpy(), rtol=1e-12, atol=1e-13)


# ---------------------------------------------------------------------- state_dict


OPTIMIZERS = {
    "gd": (wl.optim.GD, {"lr": 0.05}),
    "momentum": (wl.optim.Momentum, {"lr": 0.05, "momentum": 0.7}),
    "momentum-schedule": (wl.optim.Momentum, {"lr": _inverse_sqrt, "momentum": 0.7}),
    "nesterov": (wl.optim.Nesterov, {"lr": 0.05, "momentum": 0.6}),
    "adam": (wl.optim.Adam, {"lr": 0.05, "betas": (0.8, 0.95), "eps": 1e-7}),
    "adam-schedule": (wl.optim.Adam, {"lr": schedules.exponential(0.1, 0.9)}),
}


def _loss(a, b):
    return practice_function(a).sum() + ((b - 1.0) ** 2).sum() * 0.5


def _steps(opt, a, b, n):
    out = []
    for _ in range(n):
        opt.zero_grad()
        _loss(a, b).backward()
        opt.step()
        out.append((a.numpy().copy(), b.numpy().copy()))
    return out


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_dict_round_trip_reproduces_the_next_steps(name):
    opt_cls, kwargs = OPTIMIZERS[name]
    a0 = np.random.default_rng(1).uniform(0.0, 10.0, size=(4, 2))
    b0 = np.array([3.0, -2.0, 0.5])
    a, b = wl.tensor(a0.copy(), requires_grad=True), wl.tensor(b0.copy(), requires_grad=True)
    opt = opt_cls([a, b], **kwargs)
    _steps(opt, a, b, 5)
    state = opt.state_dict()
    saved_a, saved_b = a.numpy().copy(), b.numpy().copy()
    continued = _steps(opt, a, b, 5)

    a2 = wl.tensor(saved_a.copy(), requires_grad=True)
    b2 = wl.tensor(saved_b.copy(), requires_grad=True)
    fresh = opt_cls([a2, b2], **kwargs)
    fresh.load_state_dict(state)
    replayed = _steps(fresh, a2, b2, 5)
    for (ea, eb), (ra, rb) in zip(continued, replayed, strict=True):
        np.testing.assert_array_equal(ra, ea)
        np.testing.assert_array_equal(rb, eb)
    # the state has memory: a fresh optimizer WITHOUT it takes different steps
    if name != "gd":
        a3 = wl.tensor(saved_a.copy(), requires_grad=True)
        b3 = wl.tensor(saved_b.copy(), requires_grad=True)
        amnesiac = _steps(opt_cls([a3, b3], **kwargs), a3, b3, 5)
        assert not np.array_equal(amnesiac[-1][0], continued[-1][0])


@pytest.mark.parametrize("name", ["momentum", "adam"])
def test_load_state_dict_restores_the_saved_learning_rate(name):
    """As PyTorch's ``load_state_dict`` (which restores ``lr``): the state saves
    ``lr`` among its hyperparameters, so the loaded optimizer must step with it, not
    with the one it was constructed with."""
    opt_cls, kwargs = OPTIMIZERS[name]
    a0 = np.random.default_rng(2).uniform(0.0, 10.0, size=(3, 2))
    b0 = np.array([0.5, 2.0, -1.0])
    a, b = wl.tensor(a0.copy(), requires_grad=True), wl.tensor(b0.copy(), requires_grad=True)
    opt = opt_cls([a, b], **kwargs)
    _steps(opt, a, b, 5)
    state = opt.state_dict()
    saved_a, saved_b = a.numpy().copy(), b.numpy().copy()
    continued = _steps(opt, a, b, 5)

    a2 = wl.tensor(saved_a.copy(), requires_grad=True)
    b2 = wl.tensor(saved_b.copy(), requires_grad=True)
    fresh = opt_cls([a2, b2], **{**kwargs, "lr": 10 * kwargs["lr"]})
    fresh.load_state_dict(state)
    assert fresh.lr == kwargs["lr"]
    replayed = _steps(fresh, a2, b2, 5)
    np.testing.assert_array_equal(replayed[-1][0], continued[-1][0])
    np.testing.assert_array_equal(replayed[-1][1], continued[-1][1])


# ---------------------------------------------------------------------- schedules


T = np.arange(1, 41)


@pytest.mark.parametrize("name, schedule, formula", [
    ("constant", schedules.constant(0.3), lambda t: 0.3),
    ("step_decay", schedules.step_decay(0.8, step_size=7, gamma=0.5),
     lambda t: 0.8 * 0.5 ** ((t - 1) // 7)),
    ("step_decay-default-gamma", schedules.step_decay(1.0, step_size=3),
     lambda t: 1.0 * 0.1 ** ((t - 1) // 3)),
    ("exponential", schedules.exponential(0.5, 0.9), lambda t: 0.5 * 0.9 ** (t - 1)),
    ("inverse_time", schedules.inverse_time(0.4, decay=0.5), lambda t: 0.4 / (1 + 0.5 * (t - 1))),
    ("inverse_time-power", schedules.inverse_time(0.4, decay=2.0, power=0.5),
     lambda t: 0.4 / (1 + 2.0 * (t - 1)) ** 0.5),
    ("inverse_time-defaults", schedules.inverse_time(1.0), lambda t: 1.0 / t),
    ("cosine", schedules.cosine(1.0, t_max=10),
     lambda t: 0.5 * (1 + math.cos(math.pi * min(t - 1, 10) / 10))),
    ("cosine-lr_min", schedules.cosine(0.6, t_max=25, lr_min=0.1),
     lambda t: 0.1 + 0.25 * (1 + math.cos(math.pi * min(t - 1, 25) / 25))),
])
def test_schedules_give_the_documented_values(name, schedule, formula):
    ours = np.array([schedule(int(t)) for t in T], dtype=float)
    expected = np.array([formula(int(t)) for t in T], dtype=float)
    np.testing.assert_allclose(ours, expected, rtol=1e-14, atol=1e-15)


def test_schedule_landmarks():
    """The first step uses the base rate; decays happen where documented."""
    assert schedules.constant(0.1)(1) == 0.1
    s = schedules.step_decay(1.0, step_size=2, gamma=0.5)
    assert [s(t) for t in (1, 2, 3, 4, 5)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    assert schedules.exponential(2.0, 0.5)(1) == 2.0
    assert schedules.exponential(1.0, 0.5)(3) == 0.25
    assert schedules.inverse_time(1.0, decay=1.0)(1) == 1.0
    assert schedules.inverse_time(1.0, decay=1.0)(3) == pytest.approx(1 / 3, rel=1e-15, abs=0)
    c = schedules.cosine(1.0, t_max=4, lr_min=0.2)
    assert c(1) == pytest.approx(1.0, abs=1e-15)
    assert c(3) == pytest.approx(0.6, abs=1e-15)  # half way
    assert c(5) == pytest.approx(0.2, abs=1e-15)  # t = t_max + 1 reaches lr_min
    assert c(6) == pytest.approx(0.2, abs=1e-15) and c(100) == pytest.approx(0.2, abs=1e-15)


SCHEDULES = {
    "constant": schedules.constant(0.3),
    "step_decay": schedules.step_decay(0.8, step_size=4, gamma=0.5),
    "exponential": schedules.exponential(0.5, 0.9),
    "inverse_time": schedules.inverse_time(0.4, decay=0.5),
    "cosine": schedules.cosine(1.0, t_max=12, lr_min=0.05),
    "lambda": (lambda t: 1.0 / t**2),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_gd_honours_the_schedule_from_t_equal_one(name):
    """GD on ``f(x) = x`` (gradient 1): ``x_t - x_{t-1} = -schedule(t)``, t = 1, 2, ..."""
    schedule = SCHEDULES[name]
    x = wl.tensor(0.0, requires_grad=True)
    opt = wl.optim.GD([x], lr=schedule)
    steps = []
    for t in range(1, 21):
        before = x.item()
        opt.zero_grad()
        (x * 1.0).backward()
        assert x.grad.item() == 1.0
        opt.step()
        steps.append((t, x.item() - before))
    for t, step in steps:
        assert step == pytest.approx(-schedule(t), rel=1e-12, abs=1e-15), (name, t)


@pytest.mark.parametrize("opt_cls", [wl.optim.Momentum, wl.optim.Nesterov, wl.optim.Adam])
def test_other_optimizers_honour_the_schedule(opt_cls):
    """A schedule and the same rates as a hand-made per-step constant give the same path:
    ``lr(t)`` is the rate of step ``t``."""
    schedule = schedules.step_decay(0.3, step_size=3, gamma=0.5)
    f, _, x0 = _quadratic_problem()
    scheduled = _run_wl(opt_cls, f, x0, 12, lr=schedule)

    # the same run, changing a constant lr by hand before each step
    x = wl.tensor(x0.copy(), requires_grad=True)
    rates = iter([schedule(t) for t in range(1, 13)])
    current = {"lr": next(rates)}
    opt = opt_cls([x], lr=lambda t: current["lr"])
    by_hand = [x0.copy()]
    for i in range(12):
        opt.zero_grad()
        f(x).backward()
        opt.step()
        by_hand.append(x.numpy().copy())
        if i < 11:
            current["lr"] = next(rates)
    np.testing.assert_array_equal(scheduled, np.stack(by_hand))
    # and the decay mattered: a constant base rate differs
    constant = _run_wl(opt_cls, f, x0, 12, lr=0.3)
    assert not np.allclose(constant[-1], scheduled[-1])


def test_momentum_with_torch_sgd_differs_under_a_schedule():
    """The text's form is implemented, not PyTorch's ``buf``-then-``lr`` form: under a
    decaying schedule they differ (and ours matches the text's recurrence)."""
    f, grad, x0 = _quadratic_problem()
    schedule = schedules.exponential(0.05, 0.8)
    ours = _run_wl(wl.optim.Momentum, f, x0, 10, lr=schedule, momentum=0.9)

    x = torch.tensor(x0.copy(), requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.8)
    for _ in range(10):
        opt.zero_grad()
        _torch_quadratic(x).backward()
        opt.step()
        sched.step()
    np.testing.assert_allclose(ours, _heavy_ball(grad, x0, schedule, 0.9, 10), rtol=0, atol=1e-13)
    assert not np.allclose(ours[-1], x.detach().numpy(), rtol=1e-6, atol=0)


# ---------------------------------------------------------------------- bad arguments


ALL = [wl.optim.GD, wl.optim.Momentum, wl.optim.Nesterov, wl.optim.Adam]


def _leaf():
    return wl.tensor([1.0, 2.0], requires_grad=True)


@pytest.mark.parametrize("opt_cls", ALL)
@pytest.mark.parametrize("lr", [-0.1, -1, 0.0, float("nan"), float("inf")])
def test_bad_lr_is_a_value_error(opt_cls, lr):
    with pytest.raises(ValueError):
        opt_cls([_leaf()], lr=lr)


@pytest.mark.parametrize("opt_cls", [wl.optim.Momentum, wl.optim.Nesterov])
@pytest.mark.parametrize("momentum", [1.0, 1.5, -0.1])
def test_bad_momentum_is_a_value_error(opt_cls, momentum):
    with pytest.raises(ValueError):
        opt_cls([_leaf()], lr=0.1, momentum=momentum)


@pytest.mark.parametrize("opt_cls", ALL)
def test_empty_params_is_a_value_error(opt_cls):
    with pytest.raises(ValueError):
        opt_cls([], lr=0.1)


@pytest.mark.parametrize("opt_cls", ALL)
def test_non_leaf_param_is_a_value_error(opt_cls):
    x = _leaf()
    with pytest.raises(ValueError):
        opt_cls([x, x * 2.0], lr=0.1)


@pytest.mark.parametrize("opt_cls", ALL)
def test_param_without_requires_grad_is_a_value_error(opt_cls):
    with pytest.raises(ValueError):
        opt_cls([wl.tensor([1.0, 2.0])], lr=0.1)


@pytest.mark.parametrize("betas", [(1.0, 0.999), (0.9, 1.0), (-0.1, 0.9)])
def test_adam_bad_betas_is_a_value_error(betas):
    with pytest.raises(ValueError):
        wl.optim.Adam([_leaf()], lr=0.1, betas=betas)


@pytest.mark.parametrize("make", [
    lambda: schedules.constant(-0.1),
    lambda: schedules.constant(0.0),
    lambda: schedules.step_decay(-1.0, step_size=2),
    lambda: schedules.step_decay(1.0, step_size=0),
    lambda: schedules.exponential(-1.0, 0.9),
    lambda: schedules.inverse_time(-1.0),
    lambda: schedules.cosine(-1.0, t_max=10),
    lambda: schedules.cosine(1.0, t_max=0),
], ids=["constant-neg", "constant-zero", "step-neg", "step-size-0", "exp-neg", "inv-neg",
        "cos-neg", "cos-tmax-0"])
def test_bad_schedule_arguments_are_value_errors(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize("make, message", [
    # int() used to cut these to 1 and 2 without a word
    (lambda: schedules.step_decay(1.0, step_size=1.5), r"step_size must be a positive "
                                                      r"integer, got 1\.5"),
    (lambda: schedules.step_decay(1.0, step_size=True), "step_size must be a positive integer"),
    (lambda: schedules.cosine(1.0, t_max=2.5), r"t_max must be a positive integer, got 2\.5"),
    # negative rates after t_max, or annealing upwards
    (lambda: schedules.cosine(0.1, t_max=2, lr_min=-1.0), r"lr_min must be a number in "
                                                         r"\[0, lr\] = \[0, 0\.1\], got -1\.0"),
    (lambda: schedules.cosine(0.1, t_max=2, lr_min=0.5), r"lr_min .* got 0\.5"),
    (lambda: schedules.cosine(0.1, t_max=2, lr_min=float("nan")), r"lr_min .* got nan"),
], ids=["step-size-1.5", "step-size-bool", "t-max-2.5", "lr-min-neg", "lr-min-above-lr",
        "lr-min-nan"])
def test_schedule_integer_and_lr_min_arguments_are_checked(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_schedule_whole_float_step_size_and_lr_min_at_the_ends_are_accepted():
    assert [schedules.step_decay(1.0, step_size=2.0, gamma=0.5)(t) for t in (1, 2, 3)] == \
        [1.0, 1.0, 0.5]
    assert schedules.cosine(0.1, t_max=2, lr_min=0.1)(3) == 0.1
    assert schedules.cosine(0.1, t_max=2, lr_min=0)(3) == 0.0


def test_adam_counts_each_parameters_own_steps_as_torch_does():
    """A parameter without a gradient at a step takes no step, and its bias correction
    does not count it (Adam used one counter for all, which moved b to 0.9256, not 0.9)."""
    ours = [wl.tensor(1.0, requires_grad=True), wl.tensor(-2.0, requires_grad=True)]
    theirs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (1.0, -2.0)]
    opt, ref = wl.optim.Adam(ours, lr=0.1), torch.optim.Adam(theirs, lr=0.1)
    opt.step()  # no gradient at all: nothing moves, nothing counts
    ref.step()
    for step in range(6):
        for (a, b), o in ((ours, opt), (theirs, ref)):
            o.zero_grad()
            (a**2 + b**2 if step % 2 else a**2).backward()  # b: a gradient every other step
            o.step()
        np.testing.assert_allclose([t.item() for t in ours], [t.item() for t in theirs],
                                   rtol=1e-14)
    restored = wl.optim.Adam(ours, lr=0.1)
    restored.load_state_dict(opt.state_dict())
    assert restored.state[1]["step"].item() == 3.0


def test_load_state_dict_refuses_another_optimizers_state():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    sgd = wl.optim.SGD([x], lr=0.1, momentum=0.9)
    (x**2).sum().backward()
    sgd.step()
    with pytest.raises(ValueError, match=r"^Adam: buffer 'momentum_buffer' of parameter 0 is "
                                         r"not one of this optimizer's \(m, v, step\)"):
        wl.optim.Adam([x]).load_state_dict(sgd.state_dict())


@pytest.mark.parametrize("make, message", [
    (lambda x: wl.optim.GD([x], lr=True), "GD: lr must be a positive number"),
    (lambda x: wl.optim.Momentum([x], lr=0.1, momentum="a"), r"momentum must be in \[0, 1\)"),
    (lambda x: wl.optim.Momentum([x], lr=0.1, momentum=None), r"momentum must be in \[0, 1\)"),
    (lambda x: wl.optim.Adam([x], betas=0.9), r"betas must be two numbers in \[0, 1\)"),
    (lambda x: wl.optim.GD([x, x], lr=0.1), "parameter 1 is parameter 0 again"),
])
def test_bad_hyperparameters_are_value_errors_naming_them(make, message):
    """They leaked Python's comparison and unpacking errors, or a duplicate parameter took
    every step twice."""
    with pytest.raises(ValueError, match=message):
        make(wl.tensor([1.0, 2.0], requires_grad=True))


def test_numpy_numbers_are_numbers_to_the_optimizers_and_minimize():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    (x**2).sum().backward()
    wl.optim.GD([x], lr=np.float32(0.5)).step()
    np.testing.assert_allclose(x.numpy(), [0.0, 0.0])
    res = wl.optim.minimize(lambda v: (v**2).sum(), [1.0], max_iter=np.int64(3))
    assert res.n_iter == 3
    with pytest.raises(ValueError, match="tol_grad must be a non-negative number, got None"):
        wl.optim.minimize(lambda v: (v**2).sum(), [1.0], tol_grad=None)


def test_zero_grad_set_to_none_false_zeroes_the_gradient_in_place():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    opt = wl.optim.SGD([x], lr=0.1)
    (x**2).sum().backward()
    grad = x.grad
    opt.zero_grad(set_to_none=False)
    assert x.grad is grad and x.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert x.grad is None


def test_minimize_names_itself_and_f_when_f_returns_a_plain_number():
    def energy(v):
        return float((v**2).sum())

    with pytest.raises(TypeError, match=r"^minimize of energy: the function returned a plain "
                                        r"number"):
        wl.optim.minimize(energy, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"^minimize: with batched=True, f must map \(n, d\) "
                                         r"to \(n,\); got an output of shape \(\)"):
        wl.optim.minimize(energy, [[1.0, 2.0]], batched=True)
