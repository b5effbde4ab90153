"""Claims of README.md lines 1-600, each pinned as the README writes it.

The README's code blocks run in ``tests/test_readme.py``; these tests check the sentences
around them: stated errors, dtypes, edge cases and names. Where a claim was false, the
code was fixed (a comment "Fixed; before the fix:" says what it did) or the README
corrected (the comment says so).
"""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest

import wonderland as wl
from wonderland import losses
from wonderland.optim import schedules

# --------------------------------------------------------------------------- false claims


def my_objective(x):
    return (x ** 2).sum()


def wrong_gradient(x):
    # the factor is read as a constant: the analytic gradient is half the true one
    return (x * wl.tensor(x.detach().numpy().copy())).sum()


# README line 399-400: "... a `ValueError` naming the entry; errors say `check_grad` and
# your function's name."
# Fixed; before the fix: README line 400 says check_grad's errors name the function; the
# ValueError for a NaN point says 'check_grad: argument 0 must be finite ...', without
# 'my_objective'
def test_check_grad_value_error_names_the_function():
    with pytest.raises(ValueError, match="check_grad") as info:
        wl.check_grad(my_objective, wl.tensor([np.nan, 1.0]))
    assert "my_objective" in str(info.value)


# README lines 395-400: check_grad "raises `AssertionError` naming the worst entry ...;
# errors say `check_grad` and your function's name."
# Fixed; before the fix: README line 400 says check_grad's errors say check_grad and the
# function's name; the AssertionError reads 'rev-mode derivative, argument 0: ...' and names
# neither
def test_check_grad_assertion_error_says_check_grad_and_the_function():
    with pytest.raises(AssertionError) as info:
        wl.check_grad(wrong_gradient, wl.tensor([1.0, 3.0]))
    message = str(info.value)
    assert "check_grad" in message and "wrong_gradient" in message


# README lines 485-487 (corrected: they said the optimizer refuses the limit 0 too): a
# schedule's limit `inf` is refused naming the step; at 0 the steps stop moving
def test_a_schedule_that_reached_zero_stops_the_steps():
    x = wl.tensor(1.0, requires_grad=True)
    opt = wl.optim.GD([x], lr=schedules.exponential(1.0, gamma=0.5))
    opt.t = 5000  # 0.5 ** 5000 underflows to 0.0
    assert schedules.exponential(1.0, gamma=0.5)(5001) == 0.0
    x.grad = wl.tensor(1.0)
    opt.step()
    assert x.item() == 1.0


# README lines 489-490 (corrected: they said every optimizer made without lr says so):
# SGD and Adam take PyTorch's default lr=0.001
@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_sgd_and_adam_default_to_pytorchs_lr(name):
    x = wl.tensor([1.0], requires_grad=True)
    opt = getattr(wl.optim, name)([x])
    assert opt.param_groups[0]["lr"] == 0.001


# ---------------------------------------------------------------------------- true claims

# README line 488-489 (the part that holds): GD, Momentum and Nesterov need lr
@pytest.mark.parametrize("name", ["GD", "Momentum", "Nesterov"])
def test_gd_momentum_nesterov_without_lr_say_so_by_name(name):
    with pytest.raises(TypeError, match=rf"^{name}: lr is required"):
        getattr(wl.optim, name)([wl.tensor([1.0], requires_grad=True)])


# README line 129: `wl.randn`, `wl.rand` (floating dtypes only, as PyTorch); the seed is
# an integer
def test_random_draws_need_a_floating_dtype_and_an_integer_seed():
    with pytest.raises(TypeError, match="floating dtype"):
        wl.randn(2, dtype=wl.int64)
    with pytest.raises(TypeError, match="floating dtype"):
        wl.rand(2, dtype="int32")
    assert wl.randn(2, 3, dtype=wl.float32).dtype == np.float32
    with pytest.raises(TypeError, match="integer"):
        wl.manual_seed(1.5)


# README lines 127, 130: every shape is `*ints` or one tuple; floats default to float64;
# casts give `t` itself when it already has the dtype
def test_shapes_float64_default_and_casts_that_change_nothing():
    assert wl.zeros(2, 3).shape == wl.zeros((2, 3)).shape == wl.randn((2, 3)).shape == (2, 3)
    assert wl.tensor([1.0, 2.0]).dtype == np.float64
    assert wl.linspace(0, 1, 5).dtype == np.float64 and wl.eye(2).dtype == np.float64
    x = wl.tensor([1.5, 2.0])
    assert x.to(wl.float64) is x and x.type(wl.float64) is x
    assert x.astype(np.float64) is x and x.double() is x
    dtypes = [x.float().dtype, x.half().dtype, x.long().dtype, x.int().dtype, x.bool().dtype]
    assert dtypes == [np.float32, np.float16, np.int64, np.int32, np.bool_]


# README line 132: `format(t, ".3f")` (one element), `t.data` (detached, same storage,
# bypasses the version counter), `t.detach()` (shares the version counter)
def test_format_data_and_detach_as_the_values_row_says():
    assert format(wl.tensor(3.14159), ".3f") == "3.142"
    with pytest.raises(TypeError, match="one-element"):
        format(wl.tensor([1.0, 2.0]), ".3f")

    a = wl.tensor([1.0, 2.0], requires_grad=True)
    y = a * 1.0
    z = y.sin()
    d = y.data
    assert not d.requires_grad and np.shares_memory(d.numpy(), y.detach().numpy())
    d += 1  # bypasses the version counter: no error
    z.sum().backward()

    b = wl.tensor([1.0, 2.0], requires_grad=True)
    y = b * 1.0
    z = y.sin()
    y.detach().add_(1)  # shares it: backward sees the change
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


# README line 135: integers by 0 raise ZeroDivisionError; `//` rounds toward minus
# infinity, `%` has the sign of the divisor; ties of round go to even
def test_rounding_row_values_and_integer_division_by_zero():
    with pytest.raises(ZeroDivisionError):
        wl.tensor([3, 4]) % wl.tensor([1, 0])
    with pytest.raises(ZeroDivisionError):
        wl.tensor([3]) // 0
    with np.errstate(invalid="ignore"):
        assert np.isnan((wl.tensor([3.0]) % 0).item())  # floats do not raise
    assert (wl.tensor([-7.0, 7.0]) // 2).tolist() == [-4.0, 3.0]
    assert wl.remainder(wl.tensor([-7.0, 7.0]), wl.tensor([2.0, -2.0])).tolist() == [1.0, -1.0]
    assert wl.tensor([0.5, 1.5, 2.5, -2.5]).round().tolist() == [0.0, 2.0, 2.0, -2.0]


# README line 135: "the steps have a zero gradient ...; `a % b` has `1` in `a` and
# `-(a // b)` in `b`"
def test_rounding_gradients():
    for name in ("floor", "ceil", "trunc", "round"):
        v = wl.tensor([1.3, 2.7], requires_grad=True)
        getattr(wl, name)(v).sum().backward()
        assert v.grad.tolist() == [0.0, 0.0], name
    a = wl.tensor([7.0, -7.0], requires_grad=True)
    b = wl.tensor([2.0, 3.0], requires_grad=True)
    (a % b).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0]
    assert b.grad.tolist() == (-(a.detach() // b.detach())).tolist() == [-3.0, 3.0]


# README lines 142-144: var/std population by default (alias ddof=); `ord`/`p=` may be 2,
# 1, inf, -inf, 0 or any p > 0
def test_var_default_and_norm_orders():
    v = wl.tensor([1.0, 2.0, 3.0, 4.0])
    assert v.var().item() == pytest.approx(1.25, rel=1e-15, abs=0)
    assert v.var(ddof=1).item() == v.var(correction=1).item() == v.var(unbiased=True).item()
    x = wl.tensor([[1.0, -2.0], [0.0, 4.0]])
    flat = x.numpy().ravel()
    for order in (2, 1, np.inf, -np.inf, 0, 0.5, 3):
        expected = np.linalg.norm(flat, ord=order)
        assert x.norm(ord=order).item() == pytest.approx(expected, rel=1e-12, abs=0), order
    assert x.norm(p=1).item() == 7.0
    with pytest.raises(ValueError, match="ord"):
        x.norm(ord=-1)


# README lines 153-160: backward() needs grad= unless one element; a second pass without
# retain_graph is a clear RuntimeError
def test_backward_needs_grad_and_a_second_pass_is_refused():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="needs grad="):
        (x * 2).backward()
    (x[:1] * 2).backward()  # one element
    assert x.grad.tolist() == [2.0, 0.0]
    y = x.sin().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


# README lines 155-158: reading .grad of a non-leaf warns; retain_grad() or a leaf fixes it
def test_reading_a_non_leaf_grad_warns():
    w = wl.randn(3, requires_grad=True) * 0.1
    w.sum().backward()
    with pytest.warns(UserWarning, match="retain_grad"):
        assert w.grad is None
    leaf = wl.randn(3) * 0.1
    leaf.requires_grad_()
    leaf.sum().backward()
    assert leaf.grad.tolist() == [1.0, 1.0, 1.0]


# README lines 174-175: in-place on a leaf that requires grad (or a view of one), outside
# no_grad, is refused at once
def test_in_place_on_a_leaf_or_its_view_is_refused_at_once_but_not_under_no_grad():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x += 1
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        v = x[:1]
        v += 1
    with wl.no_grad():
        x -= 0.5
    assert x.tolist() == [0.5, 1.5] and x.requires_grad


# README lines 178-179: in-place on `reshape`/`permute` views of a tensor that requires
# grad, or with forward-mode tangents, is refused (`clone()` the view first)
def test_in_place_on_other_views_and_under_forward_mode_is_refused():
    x = wl.ones(2, 2, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"clone\(\) the view"):
        r = y.reshape(4)
        r += 1
    with pytest.raises(RuntimeError, match=r"clone\(\) the view"):
        y.permute(1, 0).mul_(2)

    def f(v):
        z = v * 2
        z[0] += 1.0
        return (z ** 2).sum()

    with pytest.raises(RuntimeError, match="forward-mode tangents"):
        wl.jvp(f, (wl.tensor([1.0, 2.0]),), (wl.ones(2),))


# README lines 186-189: a write that starts `a`'s history while an older view or a
# detach() of `a` exists is refused
def test_a_write_starting_a_history_is_refused_while_an_older_view_or_detach_exists():
    w = wl.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    a = wl.zeros(4)
    older = a[2:]  # noqa: F841 - its existence is the point
    with pytest.raises(RuntimeError, match="other views"):
        b = a[:2]
        b += w[:2]
    a = wl.zeros(4)
    detached = a.detach()  # noqa: F841
    with pytest.raises(RuntimeError, match="other views"):
        a += w


# README lines 190-194: a view taken before a recorded write that reaches its elements is
# refused when used; a write elsewhere, or under no_grad, leaves it usable
def test_a_stale_view_is_refused_only_when_the_write_reached_it():
    x = wl.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x * 1
    v = y[:2]
    y.clamp_(min=0)
    with pytest.raises(RuntimeError, match="take the view again"):
        (v * 2).sum().backward()

    for write_elsewhere in (True, False):
        x = wl.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x * 1
        v = y[:2]
        if write_elsewhere:
            y[2] = 5.0
        else:
            with wl.no_grad():
                y[0] = 5.0
        (v * 2).sum().backward()
        assert x.grad.tolist() == [2.0, 2.0, 0.0]


# README lines 195-198: shape methods that change nothing give a new view; a 0-d tensor
# takes dim 0 or -1 in reductions, argmax, any/all and squeeze
def test_no_op_shape_methods_and_zero_dim_axes():
    x = wl.ones(2, 3)
    for view in (x.reshape(x.shape), x.squeeze(), x.permute(0, 1)):
        assert view is not x
        view.requires_grad_()
    assert not x.requires_grad
    s = wl.tensor(3.0)
    for dim in (0, -1):
        assert s.sum(dim=dim).shape == () and s.mean(dim=dim).item() == 3.0
        assert s.argmax(dim=dim).item() == 0 and s.squeeze(dim).shape == ()
        assert (s > 0).any(dim=dim).item() and (s > 0).all(dim=dim).item()


# README lines 199-201: retain_grad keeps the gradient also after an in-place op; on a
# tensor that does not require grad it is a RuntimeError
def test_retain_grad_after_in_place_and_on_a_constant():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y += 1
    (y ** 2).sum().backward()
    assert y.grad.tolist() == [6.0, 10.0]
    with pytest.raises(RuntimeError, match="does not require grad"):
        wl.tensor([1.0]).retain_grad()


# README lines 209-210: `backward(gradient=g)` is `grad=g`; assigning `x.grad = t` checks
# that `t` is a Tensor of `x`'s shape and dtype
def test_gradient_keyword_and_grad_assignment_checks():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).backward(gradient=wl.tensor([1.0, 1.0]))
    assert x.grad.tolist() == [2.0, 2.0]
    with pytest.raises(ValueError, match="must match"):
        x.grad = wl.tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="must match"):
        x.grad = wl.tensor([1.0, 2.0], dtype=wl.float32)
    with pytest.raises(TypeError, match="Tensor"):
        x.grad = np.array([1.0, 2.0])


# README lines 214-217: subgradients at kinks match PyTorch
def test_subgradients_at_kinks_match_pytorch():
    torch = pytest.importorskip("torch")

    def grads(lib, fn, *values):
        args = [lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in values]
        fn(lib, *args).sum().backward()
        return [a.grad.tolist() for a in args]

    ties = ([0.0, 1.0, 1.0, -1.0], [0.0, 1.0, 2.0, -1.0])
    cases = [
        (lambda m, a: a.abs(), ([0.0, 1.0, -1.0],)),
        (lambda m, a: a.relu(), ([0.0, 1.0, -1.0],)),
        (lambda m, a, b: m.maximum(a, b), ties),
        (lambda m, a, b: m.minimum(a, b), ties),
        (lambda m, a: a.amax() if m is torch else a.max(), ([1.0, 3.0, 3.0, 3.0],)),
        (lambda m, a: a.clamp(0.0, 1.0), ([-1.0, 0.0, 0.5, 1.0, 2.0],)),
        (lambda m, a: a.norm(), ([0.0, 0.0, 0.0],)),
    ]
    for fn, values in cases:
        assert grads(wl, fn, *values) == grads(torch, fn, *values)


# README lines 262-263: the only device is "cpu"; another, such as "cuda", is a ValueError
def test_to_cuda_is_a_value_error_and_cpu_is_accepted():
    x = wl.tensor([1.0, 2.0])
    assert x.to("cpu") is x and x.to("cpu", wl.float32).dtype == np.float32
    with pytest.raises(ValueError, match="cuda"):
        x.to("cuda")


# README line 276 and line 476: zero_grad(set_to_none=False) zeroes in place; by default
# the gradients become None
def test_zero_grad_in_place_or_to_none():
    w = wl.tensor([1.0], requires_grad=True)
    opt = wl.optim.SGD([w], lr=0.1)
    (w * 2).sum().backward()
    g = w.grad
    opt.zero_grad(set_to_none=False)
    assert w.grad is g and w.grad.tolist() == [0.0]
    opt.zero_grad()
    assert w.grad is None


# README lines 283-285: the graph is not pickled (a non-leaf arrives as a leaf); deepcopy
# of a non-leaf is refused
def test_pickling_a_non_leaf_and_deep_copying_one():
    w = wl.tensor([1.0, 2.0], dtype=wl.float32, requires_grad=True)
    y = w * 2
    back = pickle.loads(pickle.dumps(y))
    assert back.is_leaf and back.requires_grad and back.dtype == np.float32
    with pytest.raises(RuntimeError, match="deepcopy"):
        copy.deepcopy(y)


# README lines 289-290: a state_dict whose buffers do not fit is refused before anything
# changes
def test_a_state_dict_that_does_not_fit_is_refused_before_anything_changes():
    w = wl.tensor([1.0, 2.0], requires_grad=True)
    opt = wl.optim.Momentum([w], lr=0.1, momentum=0.9)
    (w * w).sum().backward()
    opt.step()
    u = wl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    other = wl.optim.Momentum([u], lr=0.5, momentum=0.5)
    before = repr(other.state_dict())
    with pytest.raises(ValueError, match="shape"):
        other.load_state_dict(opt.state_dict())
    assert repr(other.state_dict()) == before and other.lr == 0.5


# README lines 302-306: the dtype rows of "Differences from PyTorch"
def test_dtype_rows_of_the_differences_table():
    f32 = wl.ones(2, dtype=wl.float32)
    assert (f32 * np.float64(2.5)).dtype == np.float64
    assert (f32 * np.array(2.5)).dtype == np.float64
    assert (f32 * wl.tensor(2.5)).dtype == np.float64
    assert (f32 * 2.5).dtype == np.float32 and (f32 * np.float32(2.5)).dtype == np.float32
    exp_dtypes = {d: wl.exp(wl.tensor([1, 0], dtype=d)).dtype
                  for d in ("bool", "int8", "uint8", "int16", "int32", "int64")}
    assert exp_dtypes == {"bool": np.float16, "int8": np.float16, "uint8": np.float16,
                          "int16": np.float32, "int32": np.float64, "int64": np.float64}
    assert (f32 * wl.tensor([1, 2], dtype="int32")).dtype == np.float64
    assert (f32 * wl.tensor([1, 2], dtype="int64")).dtype == np.float64
    mask = wl.tensor([True, False])
    assert (mask ** 2).dtype == np.int8 and mask.sign().dtype == np.float64
    assert np.isnan(wl.tensor([np.nan]).sign().item())


# README lines 311-312: float32 @ float64 is float64 and a float32 leaf's .grad stays
# float32; full is float64 whatever the fill value
def test_mixed_matmul_and_full_dtypes():
    a = wl.ones(2, 2, dtype=wl.float32, requires_grad=True)
    r = a @ wl.ones(2, 2)
    r.sum().backward()
    assert r.dtype == np.float64 and a.grad.dtype == np.float32
    assert wl.full((2,), 3).dtype == wl.full((2,), True).dtype == np.float64


# README lines 315-320: no hooks; state_dict keys; lr=0 refused; cosine stays at lr_min;
# amsgrad and AdamW not available
def test_optimizer_rows_of_the_differences_table():
    assert not hasattr(wl.tensor([1.0], requires_grad=True), "register_hook")
    w = wl.tensor([1.0], requires_grad=True)
    opt = wl.optim.SGD([w], lr=0.1, momentum=0.9)
    (w * w).sum().backward()
    opt.step()
    assert set(opt.state_dict()) == {"optimizer", "t", "hyperparameters", "state"}
    with pytest.raises(ValueError, match="lr"):
        wl.optim.SGD([w], lr=0)
    cosine = schedules.cosine(1.0, 10, lr_min=0.1)
    assert [cosine(t) for t in (11, 20, 1000)] == [pytest.approx(0.1, abs=1e-15)] * 3
    with pytest.raises(TypeError, match="amsgrad"):
        wl.optim.Adam([w], lr=0.1, amsgrad=True)
    assert not hasattr(wl.optim, "AdamW")


# README line 321: a loss takes the prediction's dtype
def test_a_loss_takes_the_predictions_dtype():
    p32 = wl.tensor([0.5, 0.2], dtype=wl.float32)
    assert losses.squared(p32, np.array([1.0, 0.0])).dtype == np.float32
    assert losses.binary_cross_entropy(p32, np.array([1.0, 0.0])).dtype == np.float32
    p16 = wl.tensor([0.5, 0.2], dtype="float16")
    assert losses.squared(p16, wl.tensor([1.0, 0.0])).dtype == np.float16


# README line 322: backward() and wl.grad of a complex result are a TypeError, as is a
# complex value stored into a real tensor
def test_complex_results_and_stores_are_type_errors():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError):
        (x * (1 + 1j)).sum().backward()
    with pytest.raises(TypeError):
        wl.grad(lambda v: (v * (1 + 1j)).sum())(wl.tensor([1.0]))
    y = wl.tensor([1.0])
    with pytest.raises(TypeError):
        y += 1j
    with pytest.raises(TypeError):
        y[0] = 1j
    assert y.tolist() == [1.0]


# README line 328: inputs may be numbers, lists, arrays or Tensors (integers become
# float64); results are Tensors
def test_transform_inputs_integers_become_float64():
    g = wl.grad(lambda v: (v ** 2).sum())
    for value in (3, [1, 2], np.array([1, 2])):
        out = g(value)
        assert isinstance(out, wl.Tensor) and out.dtype == np.float64


# README lines 404-406: argnums repeats are a ValueError (as JAX), out of range names the
# count; a transform of something not callable is a TypeError when you make it
def test_argnums_and_callable_errors():
    with pytest.raises(ValueError, match="repeats position 0"):
        wl.grad(lambda x, y: x.sum(), argnums=(0, 0))
    with pytest.raises(ValueError, match="1 positional argument"):
        wl.grad(lambda x: x.sum(), argnums=2)(wl.tensor([1.0]))
    for transform in (wl.grad, wl.jacrev, wl.hessian):
        with pytest.raises(TypeError, match="callable"):
            transform(3)


# README lines 407-409: inputs that are not numbers are a TypeError naming the position;
# a tangent or cotangent of the wrong shape a ValueError naming it
def test_bad_inputs_name_their_position():
    x0 = wl.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"argument 1"):
        wl.grad(lambda x, y: x.sum(), argnums=1)(x0, None)
    with pytest.raises(TypeError, match=r"argument 0"):
        wl.grad(lambda x: x.sum())(True)
    with pytest.raises(TypeError, match=r"tangent 0"):
        wl.jvp(lambda x: x.sum(), (x0,), ("ab",))
    with pytest.raises(TypeError, match=r"cotangent 0"):
        wl.vjp(lambda x: x * 2, x0)[1](None)
    with pytest.raises(ValueError, match=r"tangent 0 has shape \(3,\)"):
        wl.jvp(lambda x: x.sum(), (x0,), (wl.ones(3),))
    with pytest.raises(ValueError, match=r"cotangent 0 has shape \(3,\)"):
        wl.vjp(lambda x: x * 2, x0)[1](wl.ones(3))


# README lines 410-413: a plain-number result is a TypeError naming float()/.item(); errors
# name the transform called (`hessian of f`)
def test_a_cut_value_and_the_transform_named():
    with pytest.raises(TypeError, match=r"float\(\)"):
        wl.grad(lambda v: float(v) ** 2)(2.0)

    def f(x):
        return x * 2

    with pytest.raises(ValueError, match=r"^hessian of f:"):
        wl.hessian(f)(wl.tensor([1.0, 2.0]))


# README lines 438-444: queries return NumPy's result; a function not differentiated is a
# TypeError naming the wl alternative; out=, dtype=, where=, initial= refused; only
# np.add.reduce of the ufunc methods
def test_numpy_functions_refused_with_advice():
    t = wl.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    assert isinstance(np.argmax(t), np.integer) and np.shape(t) == (2, 2)
    assert np.add.reduce(t).requires_grad
    with pytest.raises(TypeError, match=r"wl\.flip"):
        np.flip(t, 0)
    with pytest.raises(TypeError, match=r"clone\(\)"):
        np.copy(t)
    with pytest.raises(TypeError, match=r"wl\.chunk"):
        np.split(t, 2)
    with pytest.raises(TypeError, match=r"t\.numpy\(\)"):
        np.cumsum(t)
    with pytest.raises(TypeError, match="out="):
        np.sin(t, out=np.zeros((2, 2)))
    for kwargs in ({"dtype": np.float32}, {"initial": 1.0}):
        with pytest.raises(TypeError, match=next(iter(kwargs))):
            np.sum(t, **kwargs)
    with pytest.raises(TypeError, match="where"):
        np.sin(t, where=np.ones((2, 2), bool))
    with pytest.raises(TypeError):
        np.multiply.reduce(t)


# README lines 444-449: np.asarray of a tensor a transform differentiates warns; a pandas
# Series on the left of an operator gives a Tensor in the graph
def test_asarray_under_a_transform_warns_and_pandas_left_operand():
    def f(v):
        np.asarray(v)
        return (v * 2).sum()

    with pytest.warns(UserWarning, match="no derivative flows"):
        wl.grad(f)(wl.tensor([1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.asarray(wl.tensor([1.0], requires_grad=True))  # outside a transform: quiet
    pd = pytest.importorskip("pandas")
    out = pd.Series([1.0, 2.0]) * wl.tensor([1.0, 2.0], requires_grad=True)
    assert isinstance(out, wl.Tensor) and out.requires_grad


# README lines 477-478: a tensor given twice in params is a ValueError naming both
def test_a_parameter_given_twice_names_both_positions():
    x = wl.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="parameter 2 is parameter 1"):
        wl.optim.Adam([wl.tensor([1.0], requires_grad=True), x, x], lr=0.1)


# README lines 483-484: lr may be a 0-d tensor or array, kept as its number
def test_lr_as_a_zero_dim_tensor_or_array():
    x = wl.tensor([1.0], requires_grad=True)
    for lr in (np.array(0.5), wl.tensor(0.5)):
        opt = wl.optim.SGD([x], lr=lr)
        assert type(opt.lr) is float and opt.lr == 0.5


# README lines 493-494: a NaN or inf stops minimize with "diverged", keeping the last
# finite iterate (no exception)
def test_minimize_diverged_keeps_a_finite_iterate():
    res = wl.optim.minimize(lambda x: x ** 4, 1.0, lr=10.0)
    assert res.reason == "diverged" and np.isfinite(float(res.x))


# README lines 496-498: momentum (default 0.9) is read by "momentum" and "nesterov" only
def test_minimize_momentum_read_only_by_momentum_methods():
    def f(x):
        return 2 * x ** 4 + x ** 3 - 3 * x ** 2

    def run(method, **kw):
        return float(wl.optim.minimize(f, 2.0, method=method, lr=0.01, **kw).x)

    assert run("gd", momentum=0.5) == run("gd")
    assert run("adam", momentum=0.5) == run("adam")
    assert run("momentum", momentum=0.9) == run("momentum")
    assert run("nesterov", momentum=0.5) != run("nesterov")


# README lines 501-505: minimize's errors say minimize; SciPy's names raise an
# AttributeError naming ours
def test_minimize_errors_and_scipy_names():
    def f(x):
        return x ** 2

    with pytest.raises(ValueError, match="^minimize: method"):
        wl.optim.minimize(f, 1.0, method="lbfgs", lr=0.1)
    with pytest.raises(ValueError, match="^minimize: lr"):
        wl.optim.minimize(f, 1.0, lr=-1.0)
    res = wl.optim.minimize(f, 1.0, lr=0.1)
    for scipy_name, ours in (("success", "converged"), ("nit", "n_iter"), ("message", "reason")):
        with pytest.raises(AttributeError, match=ours):
            getattr(res, scipy_name)


# README line 558: `compiled.cache_info()` counts hits, misses and entries (an LRU of 64)
def test_compile_cache_is_an_lru_of_64():
    compiled = wl.compile(lambda x: x.sum())
    for n in range(1, 67):
        compiled(np.ones(n))
    compiled(np.ones(66))
    info = compiled.cache_info()
    assert (info.hits, info.misses, info.maxsize, info.currsize) == (1, 66, 64, 64)


# README lines 582-584: a Python float argument is traced as float64, so beside float32
# tensors the compiled result is float64 where eager keeps float32
def test_compiled_python_float_argument_is_float64():
    def scale(x, s):
        return x * s

    x32 = wl.ones(2, dtype=wl.float32)
    assert scale(x32, 2.5).dtype == np.float32
    assert wl.compile(scale)(x32, 2.5).dtype == np.float64
    assert wl.compile(scale)(x32, np.float32(2.5)).dtype == np.float32
