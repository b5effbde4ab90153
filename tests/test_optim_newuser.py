"""What a new user of ``wl.optim`` and the descent figures ran into: a failed
``load_state_dict`` that half-applied the state, schedules whose bad values passed or
leaked Python's own errors, unclear messages for wrong arguments, a dashed box hidden by
the axes' border, and an error bar on a single split."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.container import ErrorbarContainer

import wonderland as wl
from wonderland.optim import schedules


def _leaf():
    return wl.tensor([1.0, 2.0], requires_grad=True)


def _trained(opt_cls, **kwargs):
    x = _leaf()
    opt = opt_cls([x], **kwargs)
    for _ in range(3):
        opt.zero_grad()
        (x**2).sum().backward()
        opt.step()
    return x, opt


# ------------------------------------------------------------------ load_state_dict


@pytest.mark.parametrize("change, message", [
    ({"lr": -1.0}, r"^Momentum: the state's hyperparameters are refused: lr must be a "
                   r"positive number or a schedule, got -1\.0"),
    ({"momentum": 1.5}, r"^Momentum: the state's hyperparameters are refused: momentum "
                        r"must be in \[0, 1\), got 1\.5"),
    ({"params": []}, r"^Momentum: the state's hyperparameter\(s\) params are not this "
                     r"optimizer's \(lr, momentum\)"),
], ids=["negative-lr", "momentum-1.5", "params"])
def test_a_refused_state_leaves_the_optimizer_as_it_was(change, message):
    """The counter and buffers were replaced before the hyperparameters were checked (an
    lr of -1 was kept while steps used the old one), a momentum of 1.5 was taken without a
    check, and a hyperparameter named ``params`` replaced the parameters."""
    x, opt = _trained(wl.optim.Momentum, lr=0.1, momentum=0.5)
    before = opt.state_dict()
    state = opt.state_dict()
    state["t"] = 99
    state["hyperparameters"].update(change)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(state)
    assert opt.params[0] is x and opt.t == before["t"] == 3
    assert (opt.lr, opt.momentum) == (0.1, 0.5)
    np.testing.assert_array_equal(opt.state_dict()["state"][0]["velocity"],
                                  before["state"][0]["velocity"])


def test_a_state_without_buffers_is_refused_by_another_optimizer():
    """GD's state (no buffers) loaded into Adam silently gave Adam GD's step size."""
    _, gd = _trained(wl.optim.GD, lr=0.5)
    adam = wl.optim.Adam([_leaf()], lr=0.1)
    with pytest.raises(ValueError, match=r"^Adam: the state was saved by GD, not Adam"):
        adam.load_state_dict(gd.state_dict())
    assert adam.lr == 0.1 and adam.t == 0
    # a state saved without the optimizer's name (as before it was saved) still loads
    state = gd.state_dict()
    del state["optimizer"]
    again = wl.optim.GD([_leaf()], lr=0.1)
    again.load_state_dict(state)
    assert (again.lr, again.t) == (0.5, 3)


@pytest.mark.parametrize("state, message", [
    ({}, r"got keys \[\]"),
    ("state", "got str"),
    ({"t": -1, "state": [{}]}, r"step counter t must be a non-negative integer, got -1"),
    ({"t": 1.5, "state": [{}]}, r"step counter t must be a non-negative integer, got 1\.5"),
    ({"t": 1, "state": [[1.0]]}, r"the state of parameter 0 must be a dict of buffers, got "
                                 r"list"),
], ids=["empty", "str", "negative-t", "fractional-t", "buffers-not-a-dict"])
def test_a_malformed_state_is_a_value_error_naming_it(state, message):
    """A KeyError 'state', or ``int(-1)`` taken as the counter."""
    opt = wl.optim.Momentum([_leaf()], lr=0.1)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(state)


def test_pytorchs_state_dict_is_refused_by_name():
    """It failed with ``object of type 'int' has no len()``."""
    p = torch.ones(2, requires_grad=True)
    torch_state = torch.optim.SGD([p], lr=0.1, momentum=0.9).state_dict()
    with pytest.raises(ValueError, match=r"load_state_dict expects what state_dict\(\) "
                                         r"returns.*got keys \['param_groups', 'state'\]"):
        wl.optim.SGD([_leaf()], lr=0.1, momentum=0.9).load_state_dict(torch_state)


# ------------------------------------------------------------------ schedules


@pytest.mark.parametrize("value, shown", [
    (None, "NoneType None"),
    ("0.1", "str '0.1'"),
    (np.array([0.1, 0.2]), r"ndarray array\(\[0\.1, 0\.2\]\)"),
    (True, "bool True"),
], ids=["none", "str", "array", "bool"])
def test_a_schedule_giving_no_number_is_a_value_error_naming_it(value, shown):
    """``"0.1"`` was read by ``float()`` and stepped with; None and arrays leaked
    ``float()``'s messages, which named neither the schedule nor the step."""
    def warmup(t):
        return value

    x = _leaf()
    opt = wl.optim.GD([x], lr=warmup)
    x.grad = wl.ones(2)
    with pytest.raises(ValueError, match=rf"^GD: the schedule warmup must give a number at "
                                         rf"step 1, got {shown}"):
        opt.step()
    assert x.tolist() == [1.0, 2.0] and opt.t == 0
    with pytest.raises(ValueError, match="the schedule warmup must give a number"):
        wl.optim.minimize(lambda v: (v**2).sum(), [1.0], lr=warmup)


def test_a_schedule_may_give_zero_d_arrays_and_tensors():
    x = _leaf()
    opt = wl.optim.GD([x], lr=lambda t: wl.tensor(0.5) if t == 1 else np.float32(0.25))
    for _ in range(2):
        x.grad = wl.ones(2)
        opt.step()
    assert x.tolist() == [0.25, 1.25]


@pytest.mark.parametrize("make", [
    lambda: schedules.constant(0.1),
    lambda: schedules.step_decay(1.0, step_size=2, gamma=0.5),
    lambda: schedules.exponential(1.0, 0.5),
    lambda: schedules.inverse_time(1.0),
    lambda: schedules.cosine(1.0, t_max=4),
], ids=["constant", "step_decay", "exponential", "inverse_time", "cosine"])
def test_schedules_refuse_steps_before_the_first(make):
    """PyTorch's epochs count from 0: ``step_decay(1.0, 2, 0.5)(0)`` gave 2.0, above lr."""
    schedule = make()
    assert schedule(1) == 1.0 or schedule(1) == 0.1
    with pytest.raises(ValueError, match=r"t counts the steps from 1 \(the first step\), "
                                         r"got 0"):
        schedule(0)


@pytest.mark.parametrize("make, message", [
    (lambda: schedules.inverse_time(0.1, decay=float("nan")),
     r"decay must be a finite non-negative number, got nan"),
    (lambda: schedules.inverse_time(0.1, decay="1"),
     r"decay must be a finite non-negative number, got '1'"),
    (lambda: schedules.inverse_time(0.1, power=-1.0),
     r"power must be a finite non-negative number, got -1\.0"),
    (lambda: schedules.inverse_time(0.1, power=None),
     r"power must be a finite non-negative number, got None"),
    (lambda: schedules.constant("a"), r"lr must be a positive number, got 'a'"),
    (lambda: schedules.exponential(None, 0.9), r"lr must be a positive number, got None"),
], ids=["decay-nan", "decay-str", "power-negative", "power-none", "constant-str",
        "exponential-none"])
def test_schedule_arguments_are_checked_when_made(make, message):
    """A NaN decay or power gave NaN step sizes only when used, a negative power a growing
    step size; strings and None leaked ``float()``'s and ``<``'s messages."""
    with pytest.raises(ValueError, match=message):
        make()


# ------------------------------------------------------------------ arguments


@pytest.mark.parametrize("params, message", [
    ([torch.ones(2, requires_grad=True)],
     r"^GD: parameter 0 is a torch\.Tensor, not a wonderland Tensor"),
    (None, r"^GD: params must be an iterable of wonderland Tensors .* got NoneType None"),
], ids=["torch-tensor", "none"])
def test_wrong_parameters_are_named(params, message):
    """A PyTorch tensor was 'a Tensor, not a Tensor'; None leaked 'object is not
    iterable'."""
    with pytest.raises(TypeError, match=message):
        wl.optim.GD(params, lr=0.1)


def test_adam_refuses_an_infinite_eps():
    """Every step was zero, without a word."""
    with pytest.raises(ValueError, match=r"Adam: eps must be a finite non-negative number, "
                                         r"got inf"):
        wl.optim.Adam([_leaf()], eps=float("inf"))


def test_minimize_names_a_function_or_callback_that_cannot_be_called():
    with pytest.raises(TypeError, match=r"^minimize: f must be a function .* got float 3\.0"):
        wl.optim.minimize(3.0, [1.0])
    with pytest.raises(TypeError, match=r"^minimize: callback must be a function .* got int"):
        wl.optim.minimize(lambda v: (v**2).sum(), [1.0], callback=3)


@pytest.mark.parametrize("batched", [False, True], ids=["one", "batched"])
def test_a_callback_answer_without_one_truth_value_is_named(batched):
    """NumPy's 'truth value of an array is ambiguous' did not say it came from the
    callback."""
    x0 = [[1.0, 2.0], [3.0, 4.0]] if batched else [1.0, 2.0]

    def f(v):
        return (v**2).sum(1) if batched else (v**2).sum()

    with pytest.raises(TypeError, match=r"^minimize: callback must return True \(stop\), "
                                        r"False or None, got ndarray"):
        wl.optim.minimize(f, x0, lr=0.1, batched=batched,
                          callback=lambda state: state.x.numpy() > 0)
    res = wl.optim.minimize(f, x0, lr=0.1, batched=batched,
                            callback=lambda state: np.bool_(state.t >= 2))
    assert np.all(np.asarray(res.reason) == "callback") and np.all(np.asarray(res.n_iter) == 2)


# ------------------------------------------------------------------ figures


def _bowl(X):
    return (X**2).sum(1)


def test_the_dashed_box_never_lies_on_the_axes_border():
    """A path leaving the box [0, 10]² only to the left kept the axes on x2 ∈ [0, 10] and
    x1 ≤ 10: three edges of the dashed box lay on the border, invisible."""
    path = np.array([[1.0, 5.0], [0.5, 5.0], [-1.0, 5.0]])
    fig = wl.plot.contour_paths(_bowl, [path], (0, 10), (0, 10), resolution=20)
    ax = fig.axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    (box,) = [p for p in ax.patches if p.get_linestyle() == "--"]
    assert box.get_bbox().bounds == (0.0, 0.0, 10.0, 10.0)
    assert x0 < -1.0 and x1 > 10.0 and y0 < 0.0 and y1 > 10.0
    # a small margin: 3% of the box's width on the sides where no path goes
    assert (x1, y0, y1) == pytest.approx((10.3, -0.3, 10.3))


def test_the_split_by_size_bar_carries_no_error_bar():
    """One split has no spread: its bar had a zero-height error bar and caps."""
    from wonderland.tour import sections
    from wonderland.tour.base import Context, Section

    section = Section("datasets_and_shift", 0, "shift")
    sections.datasets_and_shift(Context(quick=True), section)
    (spec,) = [f for f in section.figures if f.name == "shift_split"]
    ax = spec.figure.axes[2]
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    segments = [s for c in bars for lines in c.lines[2] for s in lines.get_segments()]
    caps = [xy for c in bars for cap in c.lines[1] for xy in cap.get_xydata()]
    assert len(segments) == 1 and segments[0][0][0] == segments[0][1][0] == 0.0
    assert segments[0][1][1] > segments[0][0][1]  # the random splits' spread, drawn
    assert all(x == 0.0 for x, _ in caps)
