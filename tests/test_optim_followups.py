"""Follow-ups from porting a PyTorch training loop to ``wl.optim`` and calling
``wl.optim.minimize`` as a SciPy user would: PyTorch's ``lr=torch.tensor(0.1)`` refused,
schedules that overflowed with Python's own message, ``nesterov="no"`` taken as true, errors
that named an internal class or the optimizer behind ``minimize``, and an unreadable result
for a long ``x``."""

import numpy as np
import pytest
import torch

import wonderland as wl
from wonderland.optim import schedules


def _quadratic_steps(opt, params, steps=3):
    for _ in range(steps):
        opt.zero_grad()
        sum((p**2).sum() for p in params).backward()
        opt.step()


@pytest.mark.parametrize("lr", [np.array(0.1), wl.tensor(0.1),
                                torch.tensor(0.1, dtype=torch.float64)],
                         ids=["numpy-0d", "wonderland-0d", "torch-0d"])
def test_lr_may_be_a_zero_d_array_or_tensor_as_in_pytorch(lr):
    """PyTorch takes ``lr=torch.tensor(0.1)``; it was refused as not a positive number."""
    ours = wl.tensor([1.0, -2.0], requires_grad=True)
    theirs = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = wl.optim.SGD([ours], lr=lr, momentum=0.9)
    _quadratic_steps(opt, [ours])
    _quadratic_steps(torch.optim.SGD([theirs], lr=0.1, momentum=0.9), [theirs])
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-14)
    assert opt.lr == 0.1 and type(opt.lr) is float
    assert wl.optim.Adam([wl.tensor(1.0, requires_grad=True)], lr=lr).lr == 0.1
    res = wl.optim.minimize(lambda x: (x**2).sum(), [1.0], lr=lr)
    assert res.reason == "tol_grad"
    assert schedules.constant(lr)(1) == 0.1
    assert schedules.cosine(1.0, t_max=2, lr_min=lr)(3) == 0.1


def test_lr_that_is_not_one_number_is_still_refused():
    x = wl.tensor(1.0, requires_grad=True)
    for lr in (np.array([0.1, 0.2]), wl.tensor(0.0), np.array(True), "0.1"):
        with pytest.raises(ValueError, match=r"^SGD: lr must be a positive number"):
            wl.optim.SGD([x], lr=lr)


@pytest.mark.parametrize("schedule, t, expected", [
    (lambda: schedules.exponential(1.0, gamma=2.0), 5000, np.inf),
    (lambda: schedules.step_decay(1.0, step_size=1, gamma=2.0), 5000, np.inf),
    (lambda: schedules.inverse_time(1.0, decay=1.0, power=2.0), 10**200, 0.0),
], ids=["exponential", "step_decay", "inverse_time"])
def test_schedules_long_past_their_start_give_their_limit(schedule, t, expected):
    """Python's ``float **`` raised ``OverflowError: (34, 'Numerical result out of range')``."""
    assert schedule()(t) == expected


def test_an_overflowing_schedule_is_refused_by_the_optimizer_naming_the_step():
    x = wl.tensor(1.0, requires_grad=True)
    opt = wl.optim.GD([x], lr=schedules.exponential(1.0, gamma=1e10))
    opt.t = 40
    x.grad = wl.tensor(0.0)
    with pytest.raises(ValueError, match=r"^GD: the schedule gave lr=inf at step 41"):
        opt.step()
    assert x.item() == 1.0 and opt.t == 40


@pytest.mark.parametrize("t", [None, "2"], ids=["none", "str"])
def test_a_schedule_called_without_a_step_number_names_itself(t):
    """``'>=' not supported between instances of 'str' and 'int'`` named no schedule."""
    with pytest.raises(TypeError, match=r"^cosine\(1\.0, t_max=3, lr_min=0\.0\): t must be a "
                                        r"step number"):
        schedules.cosine(1.0, t_max=3)(t)


@pytest.mark.parametrize("make, message", [
    (lambda: schedules.cosine(0.1, t_max=2, lr_min=float("nan")), r"^cosine: lr_min "),
    (lambda: schedules.constant(None), r"^constant: lr must be a positive number, got None"),
    (lambda: schedules.step_decay(1.0, step_size=1.5), r"^step_decay: step_size must be"),
    (lambda: schedules.exponential(1.0, gamma=0), r"^exponential: gamma must be"),
    (lambda: schedules.inverse_time(1.0, power=-1), r"^inverse_time: power must be"),
], ids=["cosine", "constant", "step_decay", "exponential", "inverse_time"])
def test_schedule_argument_errors_name_the_schedule(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("make, name", [
    (lambda x: wl.optim.SGD([x], lr=0.1, momentum=0.9, nesterov="no"), "SGD: nesterov"),
    (lambda x: wl.optim.SGD([x], lr=0.1, maximize="no"), "SGD: maximize"),
    (lambda x: wl.optim.Adam([x], lr=0.1, maximize="False"), "Adam: maximize"),
], ids=["sgd-nesterov", "sgd-maximize", "adam-maximize"])
def test_flags_that_are_not_true_or_false_are_refused(make, name):
    """``nesterov="no"`` was taken as true and ``maximize="False"`` ascended, silently."""
    with pytest.raises(TypeError, match=rf"^{name} must be True or False, got '"):
        make(wl.tensor(1.0, requires_grad=True))


@pytest.mark.parametrize("cls", [wl.optim.GD, wl.optim.Momentum, wl.optim.Nesterov])
def test_an_optimizer_without_lr_names_itself(cls):
    """Python's message named ``Optimizer.__init__`` or ``_WithMomentum.__init__``."""
    with pytest.raises(TypeError, match=rf"^{cls.__name__}: lr is required"):
        cls([wl.tensor(1.0, requires_grad=True)])


def test_an_optimizers_repr_shows_its_schedule():
    """With a schedule, the repr showed no lr at all."""
    opt = wl.optim.SGD([wl.tensor(1.0, requires_grad=True)], lr=schedules.cosine(0.1, 10),
                       momentum=0.9)
    assert repr(opt).startswith("SGD(1 parameter(s), lr=cosine(0.1, t_max=10, lr_min=0.0), "
                                "momentum=0.9")
    assert "lr" not in opt.state_dict()["hyperparameters"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=0), r"^minimize: lr must be a positive number or a schedule, got 0 "
                 r"\(method='gd'\)"),
    (dict(method="momentum", lr=0.1, momentum=-0.5), r"^minimize: momentum must be in \[0, 1\), "
                                                     r"got -0\.5 \(method='momentum'\)"),
    (dict(lr=lambda t: -0.1), r"^minimize: the schedule gave lr=-0\.1 at step 1"),
    (dict(lr=lambda t: 0.1 if t < 3 else "a", compile=True),
     r"^minimize: the schedule <lambda> must give a number at step 3"),
], ids=["lr", "momentum", "schedule", "schedule-compiled"])
def test_minimize_names_itself_for_the_optimizers_checks(kwargs, message):
    """They said ``GD: lr must be ...`` or ``Momentum: ...``: not the function called."""
    with pytest.raises(ValueError, match=message):
        wl.optim.minimize(lambda x: (x**2).sum(), [1.0], **kwargs)


def test_minimize_refuses_a_method_that_is_not_a_string_by_name():
    """``method=["gd"]`` leaked ``unhashable type: 'list'``."""
    with pytest.raises(ValueError, match=r"^minimize: method must be one of .*, got \['gd'\]"):
        wl.optim.minimize(lambda x: (x**2).sum(), [1.0], method=["gd"])


def test_minimize_refuses_a_flag_that_is_not_a_bool_still():
    with pytest.raises(TypeError, match=r"^minimize: progress must be True or False, got 1"):
        wl.optim.minimize(lambda x: (x**2).sum(), [1.0], progress=1)


def test_the_result_of_a_long_x_is_summarized_on_one_line():
    """Every one of the 1000 entries was printed."""
    res = wl.optim.minimize(lambda x: (x**2).sum(), np.ones(1000), lr=0.1)
    text = repr(res)
    assert "..." in text and "\n" not in text and len(text) < 300
    assert text.endswith(f"n_iter={res.n_iter}, reason='tol_grad')")
    short = wl.optim.minimize(lambda x: (x**2).sum(), [1.0, 2.0], lr=0.5)
    assert repr(short).startswith("MinimizeResult(x=[0.0, 0.0], fun=0")


@pytest.mark.parametrize("scipy_name, ours", [
    ("success", "converged"), ("nit", "n_iter"), ("message", "reason"),
])
def test_scipys_result_names_point_to_ours(scipy_name, ours):
    res = wl.optim.minimize(lambda x: (x**2).sum(), [1.0], lr=0.1)
    with pytest.raises(AttributeError, match=rf"SciPy's name\); use \.{ours}"):
        getattr(res, scipy_name)
    assert not hasattr(res, "no_such_field")


def test_momentum_steps_never_write_into_a_loaded_state_or_a_gradient():
    # the velocity is updated in its own memory now: a state the user loaded and the
    # gradient they read must stay as they were
    x = wl.tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = wl.optim.Momentum([x], lr=0.1, momentum=0.9)
    (x ** 2).sum().backward()
    opt.step()
    saved = opt.state_dict()
    kept = saved["state"][0]["velocity"].copy()
    opt.load_state_dict(saved)
    for _ in range(3):
        opt.zero_grad()
        (x ** 2).sum().backward()
        grad = x.grad.numpy().copy()
        opt.step()
        np.testing.assert_array_equal(x.grad.numpy(), grad)
    np.testing.assert_array_equal(saved["state"][0]["velocity"], kept)


def test_momentum_in_place_buffer_matches_the_formula_bit_for_bit():
    rng = np.random.default_rng(1)
    x0 = rng.standard_normal(5)
    x = wl.tensor(x0.copy(), requires_grad=True)
    opt = wl.optim.Momentum([x], lr=0.05, momentum=0.8)
    want, v = x0.copy(), None
    for _ in range(4):
        opt.zero_grad()
        (x ** 3).sum().backward()
        g = 3 * want ** 2
        v = -0.05 * g if v is None else -0.05 * g + 0.8 * v
        want = want + v
        opt.step()
    np.testing.assert_array_equal(x.numpy(), want)
