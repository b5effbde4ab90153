"""Reverse-mode semantics (API.md §1, §9), PyTorch-style: accumulation, retain_graph,
grad mode, in-place operations and the version counter, detach, indexing gradients,
broadcasting, deep graphs and higher-order gradients."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.extra import numpy as hnp

import wonderland as wl


def g(t):
    """The values of ``t.grad`` as a NumPy array (fails clearly when there is none)."""
    assert t.grad is not None, "no gradient was accumulated"
    return np.asarray(t.grad.numpy())


# ---------------------------------------------------------------------- accumulation


def test_gradients_accumulate_across_backward_calls():
    x = wl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(g(x), [2.0, 4.0, 6.0])
    (3.0 * x).sum().backward()
    np.testing.assert_allclose(g(x), [5.0, 7.0, 9.0])


def test_grad_zero_resets():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad.zero_()
    np.testing.assert_array_equal(g(x), [0.0, 0.0])
    (x * 5.0).sum().backward()
    np.testing.assert_allclose(g(x), [5.0, 5.0])


def test_grad_is_not_an_alias_of_the_seed():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    seed = np.array([1.0, 1.0])
    (x + 0.0).backward(grad=seed)
    x.grad.zero_()
    np.testing.assert_array_equal(seed, [1.0, 1.0])


@pytest.mark.parametrize("as_tensor", [False, True])
def test_backward_with_grad_on_non_scalar(as_tensor):
    x = wl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    seed = np.array([1.0, 10.0, 100.0])
    y.backward(grad=wl.tensor(seed) if as_tensor else seed)
    np.testing.assert_allclose(g(x), 2 * np.array([1.0, 2.0, 3.0]) * seed)


def test_backward_positional_grad():
    x = wl.tensor([[1.0, 2.0]], requires_grad=True)
    (x * 2.0).backward(np.array([[1.0, -1.0]]))
    np.testing.assert_allclose(g(x), [[2.0, -2.0]])


@pytest.mark.parametrize("shape", [(), (1,), (1, 1), (1, 1, 1)])
def test_backward_on_any_one_element_tensor(shape):
    x = wl.tensor(np.full(shape, 3.0), requires_grad=True)
    (x * x).backward()
    np.testing.assert_allclose(g(x), np.full(shape, 6.0))
    assert x.grad.shape == shape


def test_backward_on_matmul_result_of_shape_1x1():
    w = wl.tensor([[1.0, 2.0]], requires_grad=True)
    v = wl.tensor([[3.0], [4.0]])
    (w @ v).backward()
    np.testing.assert_allclose(g(w), [[3.0, 4.0]])


def test_backward_on_leaf_itself():
    x = wl.tensor(2.0, requires_grad=True)
    x.backward()
    assert g(x) == 1.0


# ---------------------------------------------------------------------- retain_graph


def test_retain_graph_allows_second_backward():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    z = (x.sin() * x).sum()
    z.backward(retain_graph=True)
    first = g(x).copy()
    z.backward()
    np.testing.assert_allclose(g(x), 2 * first)


def test_second_backward_without_retain_graph_raises():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    z = (x.exp() * x).sum()
    z.backward()
    with pytest.raises(RuntimeError):
        z.backward()


def test_a_backward_that_fails_midway_leaves_no_stale_cotangent():
    """A rule that raises (here NumPy's overflow, turned into an error) after another
    rule of the same node has delivered: a second backward must not see that delivery."""
    a_leaf = wl.tensor(1e10, requires_grad=True)
    b = wl.tensor(1e-20, requires_grad=True)
    a = a_leaf * 1.0  # a node between the failing node and the leaf
    z = (a * b) * 1e300
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        z.backward(retain_graph=True)  # d/da = 1e300 * b is fine, d/db = 1e300 * a overflows
    a_leaf.grad = b.grad = None
    w = (a * b) * 2.0
    w.backward()
    assert a_leaf.grad.item() == 2e-20
    assert b.grad.item() == 2e10


@pytest.mark.parametrize("create_graph", [False, True])
def test_the_default_seed_is_never_shared_with_a_gradient(create_graph):
    """backward() without grad= seeds with ones; writing into a gradient afterwards must
    not change what the next backward() computes."""
    for _ in range(2):
        x = wl.tensor(3.0, requires_grad=True)
        (x + 0.0).backward(create_graph=create_graph)  # the seed reaches the leaf as it is
        assert x.grad.item() == 1.0
        x.grad.numpy()[...] = 7.0  # the user's gradient is their own, writable array
        assert x.grad.item() == 7.0


@pytest.mark.parametrize("create_graph", [False, True])
def test_the_gradient_of_a_sum_is_writable(create_graph):
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    x.sum().backward(create_graph=create_graph)
    x.grad.numpy()[0] = 5.0
    np.testing.assert_array_equal(g(x), [5.0, 1.0])


def test_a_gradient_summed_from_several_uses_is_a_fresh_array():
    x = wl.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    (x[:, 0] * 2.0 + x[:, 1] * 3.0 + x[:, 0]).sum().backward()
    np.testing.assert_allclose(g(x), [[3.0, 3.0]] * 3)
    x.grad.numpy()[...] = 0.0
    np.testing.assert_allclose(x.numpy(), np.arange(6.0).reshape(3, 2))


@pytest.mark.parametrize("first_use", ["index", "whole", "index_of_scalar"])
def test_indexing_a_leaf_several_times_sums_every_use(first_use):
    """x[i] of a leaf adds its cotangent straight into the leaf's sum: whatever reached the
    leaf first (another index, the whole tensor) is kept, and one-element results too."""
    xv = np.arange(1.0, 7.0).reshape(3, 2)
    x = wl.tensor(xv, requires_grad=True)
    if first_use == "index":
        out = (x[:, 0] * x[:, 1]).sum() + (x[1, :] ** 2).sum()
        want = np.stack([xv[:, 1], xv[:, 0]], axis=1)
        want[1] += 2 * xv[1]
    elif first_use == "whole":
        out = (x * 3.0).sum() + wl.sin(x[2, 1]) + x[:, 0].sum()
        want = np.full((3, 2), 3.0)
        want[2, 1] += np.cos(xv[2, 1])
        want[:, 0] += 1.0
    else:  # one element, with a 0-d array as its cotangent
        out = (x[2, 1] * wl.tensor(np.array(2.0))).sum() + x[0, 0] * x[2, 1]
        want = np.zeros((3, 2))
        want[2, 1], want[0, 0] = 2.0 + xv[0, 0], xv[2, 1]
    out.backward()
    np.testing.assert_allclose(g(x), want)
    gx = wl.grad(lambda t: t[0] * 2.0 + t[-1] + t[0])(wl.tensor(xv[0]))  # grad_of too
    np.testing.assert_allclose(gx.numpy(), [3.0, 1.0])


def test_indexing_a_float32_leaf_with_a_float64_seed_keeps_float32():
    x = wl.tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    x[:, 1].backward(np.array([1.5, 2.5]))
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(g(x), [[0, 1.5, 0], [0, 2.5, 0]])


def test_a_factor_passed_on_as_a_gradient_is_never_shared():
    """The cotangent of a in (a * b).sum() is b itself on the way (no multiply by ones); the
    gradient the user gets is their own array all the same."""
    yv = np.array([3.0, 4.0])
    y = wl.tensor(yv.copy())
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    (x * y).sum().backward()
    gx = wl.grad(lambda t: (t * y).sum())(wl.tensor([1.0, 2.0]))
    view = wl.tensor(np.arange(6.0).reshape(3, 2))
    gv = wl.grad(lambda t: (view[:, 0] * t.reshape(-1)).sum())(wl.tensor([[1.0], [2.0], [3.0]]))
    for grad, source in ((x.grad, y), (gx, y), (gv, view)):
        assert not np.shares_memory(grad.numpy(), source.numpy())
        grad.numpy()[...] = -1.0  # writable, and writing leaves the inputs alone
    np.testing.assert_array_equal(y.numpy(), yv)
    np.testing.assert_array_equal(view.numpy(), np.arange(6.0).reshape(3, 2))


def test_a_read_only_cotangent_of_a_sum_is_spread_as_it_is():
    """backward()'s unit seed is spread over x.sum() from a cache of ones: a read-only
    cotangent that is not that seed is spread with its own value."""
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    x.sum().backward()  # fills the cache of spread units
    three = np.array(3.0)
    three.flags.writeable = False
    _, pullback = wl.vjp(lambda t: t.sum(), wl.tensor([1.0, 2.0]))
    result = pullback(wl.tensor(three))
    gx = result[0] if isinstance(result, tuple) else result
    np.testing.assert_array_equal(gx.numpy(), [3.0, 3.0])
    x.grad = None
    x.sum().backward(three)
    np.testing.assert_array_equal(g(x), [3.0, 3.0])


@pytest.mark.parametrize("recorded", [False, True])
def test_vjp_never_returns_the_callers_cotangent_itself(recorded):
    """Also when the input requires grad (the pass is then recorded, for higher order)."""
    x = wl.tensor([1.0, 2.0], requires_grad=recorded)
    seed = wl.tensor([[5.0], [6.0]])
    for f in (lambda t: t.reshape(2, 1), lambda t: (t + 0.0).reshape(2, 1)):
        _, pullback = wl.vjp(f, x)
        result = pullback(seed)
        gx = result[0] if isinstance(result, tuple) else result
        np.testing.assert_array_equal(gx.numpy(), [5.0, 6.0])
        assert not np.shares_memory(gx.numpy(), seed.numpy())


@pytest.mark.parametrize("recorded", [False, True])
@pytest.mark.parametrize("how", ["grad", "vjp"])
def test_gradients_of_sums_are_writable_and_fresh(how, recorded):
    """The reverse rule of a sum spreads its cotangent as a read-only array (a cached unit,
    a broadcast view): the user gets a writable copy, never the cache."""
    x = wl.tensor(np.ones((2, 3)), requires_grad=recorded)
    for _ in range(2):
        if how == "grad":
            gx = wl.grad(lambda t: t.sum())(x)
        else:
            _, pullback = wl.vjp(lambda t: t.sum(axis=0), x)
            result = pullback(wl.tensor([1.0, 1.0, 1.0]))
            gx = result[0] if isinstance(result, tuple) else result
        np.testing.assert_array_equal(gx.numpy(), np.ones((2, 3)))
        gx.numpy()[...] = 5.0


# ---------------------------------------------------------------------- grad mode


def test_no_grad_context_manager():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    with wl.no_grad():
        y = x * 2 + x.exp()
        assert not wl.is_grad_enabled()
    assert wl.is_grad_enabled()
    assert not y.requires_grad
    assert y.is_leaf
    assert (x * 2).requires_grad


def test_no_grad_decorator_with_parentheses():
    @wl.no_grad()
    def f(t):
        return (t * t).sum()

    x = wl.tensor([1.0, 2.0], requires_grad=True)
    out = f(x)
    assert not out.requires_grad
    assert wl.is_grad_enabled()
    assert (x * x).requires_grad


def test_no_grad_decorator_without_parentheses():
    # PyTorch (>= 2.1) accepts ``@torch.no_grad`` without parentheses; API.md says
    # to follow PyTorch for the Tensor API where it is silent.
    @wl.no_grad
    def f(t):
        return t * 3

    x = wl.tensor([1.0], requires_grad=True)
    assert not f(x).requires_grad


def test_no_grad_restores_mode_after_exception():
    with pytest.raises(ZeroDivisionError):
        with wl.no_grad():
            1 / 0  # noqa: B018
    assert wl.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = wl.tensor(2.0, requires_grad=True)
    with wl.no_grad():
        with wl.enable_grad():
            y = x * x
        z = x * x
    assert y.requires_grad
    assert not z.requires_grad
    y.backward()
    assert g(x) == 4.0


def test_enable_grad_as_decorator_inside_no_grad():
    @wl.enable_grad()
    def f(t):
        return t * t

    x = wl.tensor(3.0, requires_grad=True)
    with wl.no_grad():
        y = f(x)
        assert not wl.is_grad_enabled()
    assert y.requires_grad


@pytest.mark.parametrize("make", [wl.no_grad, lambda: wl.no_grad, wl.inference_mode,
                                  lambda: wl.set_grad_enabled(False)],
                         ids=["no_grad()", "no_grad", "inference_mode", "set_grad_enabled"])
def test_a_decorated_generator_runs_its_body_in_the_mode(make):
    """PyTorch's: each time the body runs (first next, send, throw), not only while the
    generator object is made; between steps the caller's mode holds."""
    decorator = make()  # (set_grad_enabled(False) turns recording off as it is made)
    wl.set_grad_enabled(True)
    x = wl.tensor(2.0, requires_grad=True)
    seen = []

    @decorator
    def steps():
        sent = yield x * 3
        seen.append((sent, wl.is_grad_enabled()))
        try:
            yield x * sent
        except KeyError:
            seen.append(("thrown", wl.is_grad_enabled()))
            yield x * 5
        return "done"

    run = steps()
    assert not next(run).requires_grad
    assert wl.is_grad_enabled() and (x * 2).requires_grad  # the caller's mode, between steps
    assert not run.send(4).requires_grad
    assert not run.throw(KeyError("k")).requires_grad
    with pytest.raises(StopIteration) as stop:
        next(run)
    assert stop.value.value == "done"
    assert seen == [(4, False), ("thrown", False)]
    assert wl.is_grad_enabled()


def test_a_generator_decorated_with_enable_grad_records_inside_no_grad():
    x = wl.tensor(2.0, requires_grad=True)

    @wl.enable_grad()
    def steps():
        yield x * x
        yield x * 3

    with wl.no_grad():
        made = list(steps())
        assert not wl.is_grad_enabled()
    assert all(t.requires_grad for t in made)


def test_closing_a_decorated_generator_runs_its_cleanup_in_the_mode():
    x = wl.tensor(2.0, requires_grad=True)
    cleanup = []

    @wl.no_grad()
    def steps():
        try:
            yield x * 2
            yield x * 3
        finally:
            cleanup.append((x * 4).requires_grad)

    run = steps()
    next(run)
    run.close()
    assert cleanup == [False] and wl.is_grad_enabled()


# ---------------------------------------------------------------------- in place


def test_inplace_ops_on_non_leaf_are_differentiated():
    xv = np.array([1.0, 2.0, 3.0])
    x = wl.tensor(xv, requires_grad=True)
    y = x * 1.0
    y += x        # 2x
    y *= x        # 2x^2
    y -= 3.0 * x  # 2x^2 - 3x
    y /= 2.0      # x^2 - 1.5x
    np.testing.assert_allclose(y.numpy(), xv ** 2 - 1.5 * xv)
    y.sum().backward()
    np.testing.assert_allclose(g(x), 2 * xv - 1.5)


def test_inplace_with_scalar_and_tensor_operand_gradient():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    w = wl.tensor([3.0, 4.0], requires_grad=True)
    y = x + 0.0
    y *= w
    y.sum().backward()
    np.testing.assert_allclose(g(x), [3.0, 4.0])
    np.testing.assert_allclose(g(w), [1.0, 2.0])


def test_copy_is_differentiable_like_torch():
    """``y.copy_(src)``: the gradient reaches ``src`` (summed over the broadcast), none
    reaches what ``y`` held before."""
    import torch

    grads = []
    for lib in (wl, torch):
        src = lib.tensor([1.0, 2.0], requires_grad=True)
        x = lib.tensor([[0.5, -0.5]] * 3, requires_grad=True)
        y = x * 2.0
        y.copy_(src * 3.0)
        (y * lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).sum().backward()
        grads.append([np.asarray(src.grad.detach().numpy() if lib is torch else src.grad.numpy()),
                      np.asarray(x.grad.detach().numpy() if lib is torch else x.grad.numpy())])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs)


def test_copy_casts_and_broadcasts_like_torch():
    import torch

    ours = wl.zeros(2, 3, dtype=wl.int64)
    ours.copy_(wl.tensor([1.7, -2.2, 0.5]))
    theirs = torch.zeros(2, 3, dtype=torch.int64)
    theirs.copy_(torch.tensor([1.7, -2.2, 0.5]))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        ours.copy_(wl.ones(4))


def test_inplace_keeps_object_identity():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    before = id(y)
    y += 1.0
    assert id(y) == before
    assert y.requires_grad


def test_setitem_gradient_zero_at_overwritten_position():
    x = wl.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1
    y[0] = 0
    np.testing.assert_array_equal(y.numpy(), [0.0, 2.0, 3.0, 4.0])
    y.sum().backward()
    np.testing.assert_array_equal(g(x), [0.0, 1.0, 1.0, 1.0])


def test_setitem_gradient_flows_into_assigned_value():
    x = wl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = wl.tensor(5.0, requires_grad=True)
    y = x * 2.0
    y[1] = v * 3.0
    np.testing.assert_allclose(y.numpy(), [2.0, 15.0, 6.0])
    (y * wl.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_allclose(g(x), [2.0, 0.0, 200.0])
    np.testing.assert_allclose(g(v), 30.0)


def test_setitem_slice_and_broadcast_value_gradient():
    x = wl.tensor(np.ones((2, 3)), requires_grad=True)
    v = wl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1.0
    y[1, :] = v
    y.sum().backward()
    np.testing.assert_array_equal(g(x), [[1, 1, 1], [0, 0, 0]])
    np.testing.assert_array_equal(g(v), [1.0, 1.0, 1.0])


@pytest.mark.parametrize("index, value", [
    (np.array([0, 0]), lambda x: x[2] * 3.0),        # one value written twice
    (np.array([0, 0]), lambda x: x[1:] * 2.0),       # two values, the last wins
    ((np.array([1, 0, 1]), slice(None)), lambda x: wl.stack([x[:3], x[1:] * 2, x[:3] * 3])),
    ((slice(None), np.array([2, 2, 0])), lambda x: x[:3] ** 2),
], ids=["broadcast", "last-wins", "rows", "columns"])
def test_setitem_with_a_repeated_index_differentiates_the_write_that_lands(index, value):
    # reverse mode once sent the gradient to every repeat (as torch's index_put), forward
    # mode only to the write that lands (as NumPy's values): jacrev != jacfwd
    def f(x):
        a = wl.zeros((3, 3)) + x[:3]
        a[index] = value(x)
        return (a * np.arange(1.0, 10.0).reshape(3, 3)).sum()

    x0 = np.array([1.0, 2.0, 3.0, 0.5])
    reverse = wl.grad(f)(x0).numpy()
    np.testing.assert_allclose(reverse, wl.jacfwd(f)(x0).numpy(), rtol=1e-12)
    np.testing.assert_allclose(reverse, wl.numerical_grad(f, x0).numpy(), rtol=1e-6)


def test_setitem_on_plain_tensor_then_requires_grad_tensor():
    # writing a differentiable value into a tensor that did not require grad
    base = wl.zeros(3)
    v = wl.tensor(2.0, requires_grad=True)
    base[2] = v * v
    assert base.requires_grad
    base.sum().backward()
    np.testing.assert_allclose(g(v), 4.0)


def test_zero_on_non_leaf_cuts_dependence():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 5.0
    y.zero_()
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.0])
    (y + x).sum().backward()
    np.testing.assert_array_equal(g(x), [1.0, 1.0])


def test_zero_on_leaf_inside_no_grad():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    with wl.no_grad():
        x.zero_()
    np.testing.assert_array_equal(x.numpy(), [0.0, 0.0])
    assert x.requires_grad and x.is_leaf


def test_sgd_step_inside_no_grad_keeps_leaf():
    x = wl.tensor([1.0, -2.0], requires_grad=True)
    lr = 0.1
    for _ in range(3):
        loss = (x * x).sum()
        loss.backward()
        with wl.no_grad():
            x -= lr * x.grad
        x.grad.zero_()
    assert x.is_leaf
    assert x.requires_grad
    assert x.grad_fn is None
    np.testing.assert_allclose(x.numpy(), np.array([1.0, -2.0]) * 0.8 ** 3)
    (x * x).sum().backward()
    np.testing.assert_allclose(g(x), 2 * np.array([1.0, -2.0]) * 0.8 ** 3)


@pytest.mark.parametrize("op", ["iadd", "isub", "imul", "idiv", "setitem", "zero_", "copy_"])
def test_inplace_on_leaf_requiring_grad_outside_no_grad_raises(op):
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError):
        if op == "iadd":
            x += 1.0
        elif op == "isub":
            x -= 1.0
        elif op == "imul":
            x *= 2.0
        elif op == "idiv":
            x /= 2.0
        elif op == "setitem":
            x[0] = 5.0
        elif op == "copy_":
            x.copy_(wl.tensor([3.0, 4.0]))
        else:
            x.zero_()


@pytest.mark.parametrize("op", ["iadd", "isub", "imul", "idiv", "setitem"])
def test_inplace_on_leaf_inside_no_grad_works(op):
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    with wl.no_grad():
        if op == "iadd":
            x += 1.0
            want = [2.0, 3.0]
        elif op == "isub":
            x -= 1.0
            want = [0.0, 1.0]
        elif op == "imul":
            x *= 2.0
            want = [2.0, 4.0]
        elif op == "idiv":
            x /= 2.0
            want = [0.5, 1.0]
        else:
            x[0] = 5.0
            want = [5.0, 2.0]
    np.testing.assert_allclose(x.numpy(), want)
    assert x.requires_grad and x.is_leaf


# ---------------------------------------------------------------------- version counter


def _assert_names(excinfo, *words):
    msg = str(excinfo.value)
    assert any(w in msg for w in words), f"message does not name {words}: {msg!r}"


def test_modifying_saved_input_of_mul_raises_at_backward():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    z = y * y
    y += 1
    with pytest.raises(RuntimeError) as excinfo:
        z.sum().backward()
    _assert_names(excinfo, "mul")


def test_modifying_saved_input_of_sin_raises_at_backward():
    x = wl.tensor([0.5, 1.0], requires_grad=True)
    y = x * 2.0
    z = y.sin()
    y *= 3.0
    with pytest.raises(RuntimeError) as excinfo:
        z.sum().backward()
    _assert_names(excinfo, "sin")


def test_setitem_on_saved_input_raises_at_backward():
    x = wl.tensor([0.5, 1.0], requires_grad=True)
    y = x + 0.0
    z = y.exp() * y
    y[0] = 2.0
    with pytest.raises(RuntimeError) as excinfo:
        z.sum().backward()
    _assert_names(excinfo, "mul", "exp")


def test_modifying_saved_output_raises_at_backward():
    x = wl.tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()  # the gradient of exp reads its output
    y += 1.0
    with pytest.raises(RuntimeError) as excinfo:
        y.sum().backward()
    _assert_names(excinfo, "exp")


def test_modifying_through_detach_is_seen_by_version_counter():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    z = y * y
    d = y.detach()
    d[0] = 10.0
    np.testing.assert_allclose(y.numpy(), [10.0, 2.0])  # shares storage
    with pytest.raises(RuntimeError):
        z.sum().backward()


def test_modifying_through_data_bypasses_version_counter():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    z = y * y
    y.data[0] = 10.0
    z.sum().backward()  # no error, as PyTorch: .data bypasses the counter
    np.testing.assert_allclose(g(x), [20.0, 4.0])


def test_inplace_not_needed_by_graph_is_fine():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    z = y + 2.0  # add does not read its inputs' values
    y *= 5.0
    z.sum().backward()
    np.testing.assert_array_equal(g(x), [1.0, 1.0])


# ---------------------------------------------------------------------- detach


def test_detach_is_outside_graph():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad
    assert d.is_leaf
    np.testing.assert_array_equal(d.numpy(), x.numpy())
    (d * x).sum().backward()
    np.testing.assert_array_equal(g(x), [1.0, 2.0])  # not 2x: d is a constant


def test_detach_of_non_leaf():
    x = wl.tensor(3.0, requires_grad=True)
    y = x * x
    z = y.detach() * x + y
    z.backward()
    np.testing.assert_allclose(g(x), 9.0 + 6.0)


# ---------------------------------------------------------------------- indexing


def test_repeated_integer_indices_accumulate():
    x = wl.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    x[[0, 0, 1]].sum().backward()
    np.testing.assert_array_equal(g(x), [2.0, 1.0, 0.0, 0.0])


def test_repeated_integer_array_indices_accumulate_2d():
    x = wl.tensor(np.zeros((3, 2)), requires_grad=True)
    idx = np.array([2, 2, 2, 0])
    (x[idx] * wl.tensor([[1.0, 2.0]])).sum().backward()
    np.testing.assert_array_equal(g(x), [[1, 2], [0, 0], [3, 6]])


def test_tensor_index_accumulates():
    x = wl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[wl.tensor([2, 2])].sum().backward()
    np.testing.assert_array_equal(g(x), [0.0, 0.0, 2.0])


def test_boolean_mask_gradient():
    xv = np.array([[-1.0, 2.0], [3.0, -4.0]])
    x = wl.tensor(xv, requires_grad=True)
    (x[x > 0] ** 2).sum().backward()
    np.testing.assert_array_equal(g(x), np.where(xv > 0, 2 * xv, 0.0))


def test_basic_slicing_gradient():
    x = wl.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    x[1, :, 1:3].sum().backward()
    want = np.zeros((2, 3, 4))
    want[1, :, 1:3] = 1
    np.testing.assert_array_equal(g(x), want)
    x.grad = None
    (x[..., None] * 2.0).sum().backward()
    np.testing.assert_array_equal(g(x), np.full((2, 3, 4), 2.0))


# ---------------------------------------------------------------------- broadcasting


def _unbroadcast(full, shape):
    """Sum ``full`` back to ``shape`` (NumPy reference)."""
    while full.ndim > len(shape):
        full = full.sum(axis=0)
    for i, s in enumerate(shape):
        if s == 1 and full.shape[i] != 1:
            full = full.sum(axis=i, keepdims=True)
    return full


@settings(max_examples=40, deadline=None)
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3))
def test_gradient_has_input_shape_under_broadcasting(shapes):
    (sa, sb), out = shapes.input_shapes, shapes.result_shape
    av = np.arange(1.0, 1.0 + np.prod(sa)).reshape(sa)
    bv = np.arange(2.0, 2.0 + np.prod(sb)).reshape(sb) * 0.5
    a = wl.tensor(av, requires_grad=True)
    b = wl.tensor(bv, requires_grad=True)
    w = np.arange(np.prod(out), dtype=float).reshape(out) + 1.0
    ((a * b + a / b - b) * wl.tensor(w)).sum().backward()
    assert a.grad.shape == sa
    assert b.grad.shape == sb
    bb = np.broadcast_to(bv, out)
    ab = np.broadcast_to(av, out)
    np.testing.assert_allclose(g(a), _unbroadcast(w * (bb + 1 / bb), sa), atol=1e-9)
    np.testing.assert_allclose(g(b), _unbroadcast(w * (ab - ab / bb ** 2 - 1), sb), atol=1e-9)


def test_matmul_broadcast_batch_gradient_shapes():
    a = wl.tensor(np.random.default_rng(0).normal(size=(2, 1, 5, 2)), requires_grad=True)
    b = wl.tensor(np.random.default_rng(1).normal(size=(3, 2, 4)), requires_grad=True)
    (a @ b).sum().backward()
    assert a.grad.shape == (2, 1, 5, 2)
    assert b.grad.shape == (3, 2, 4)
    av, bv = a.numpy(), b.numpy()
    ga = np.ones((2, 3, 5, 4)) @ np.swapaxes(bv, -1, -2)
    gb = np.swapaxes(np.broadcast_to(av, (2, 3, 5, 2)), -1, -2) @ np.ones((2, 3, 5, 4))
    np.testing.assert_allclose(g(a), ga.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(g(b), gb.sum(axis=0))


def test_max_gradient_split_among_ties():
    x = wl.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    wl.max(x).backward()
    np.testing.assert_allclose(g(x), [0.0, 0.5, 0.5, 0.0])


# ---------------------------------------------------------------------- deep graphs


def test_long_chain_does_not_recurse():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(50_000):
        y = y + 0.0
    for _ in range(50_000):
        y = y * 1.0
    y.sum().backward()
    np.testing.assert_array_equal(g(x), [1.0, 1.0])
    del y  # freeing a 100 000-node graph must not overflow the stack either


def test_long_chain_of_unary_ops():
    x = wl.tensor(0.3, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = -y
    y.backward()
    assert g(x) == 1.0


# ---------------------------------------------------------------------- higher order


def test_create_graph_second_derivative_of_cube():
    x = wl.tensor(1.5, requires_grad=True)
    (x ** 3).backward(create_graph=True)
    dx = x.grad
    np.testing.assert_allclose(dx.item(), 3 * 1.5 ** 2)
    assert dx.requires_grad
    x.grad = None
    dx.backward()
    np.testing.assert_allclose(g(x), 6 * 1.5)


def test_create_graph_vector_second_derivative():
    xv = np.array([0.5, -1.0, 2.0])
    x = wl.tensor(xv, requires_grad=True)
    (x.sin() * x).sum().backward(create_graph=True)
    d1 = x.grad
    np.testing.assert_allclose(d1.numpy(), np.sin(xv) + xv * np.cos(xv))
    x.grad = None
    d1.sum().backward()
    np.testing.assert_allclose(g(x), 2 * np.cos(xv) - xv * np.sin(xv))


def test_backward_twice_with_create_graph_accumulates_differentiable_grad():
    x = wl.tensor(2.0, requires_grad=True)
    y = x ** 3
    y.backward(create_graph=True)
    y.backward(create_graph=True)
    d = x.grad
    np.testing.assert_allclose(d.item(), 2 * 3 * 2.0 ** 2)
    assert d.requires_grad
    x.grad = None
    d.backward()
    np.testing.assert_allclose(g(x), 2 * 6 * 2.0)


def test_third_derivative_by_repeated_create_graph():
    x = wl.tensor(1.25, requires_grad=True)
    (x ** 4).backward(create_graph=True)
    d1 = x.grad
    x.grad = None
    d1.backward(create_graph=True)
    d2 = x.grad
    np.testing.assert_allclose(d2.item(), 12 * 1.25 ** 2)
    x.grad = None
    d2.backward()
    np.testing.assert_allclose(g(x), 24 * 1.25)


def test_without_create_graph_grad_is_constant():
    x = wl.tensor(2.0, requires_grad=True)
    (x ** 3).backward()
    assert not x.grad.requires_grad


def test_retain_grad_keeps_the_gradient_of_a_non_leaf():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    y.retain_grad()
    (y**2).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [6.0, 12.0])
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 36.0])


def test_retain_grad_accumulates_and_is_harmless_on_a_leaf():
    x = wl.tensor([1.0, -1.0], requires_grad=True)
    x.retain_grad()
    y = x.sin()
    y.retain_grad()
    (y * 2.0).sum().backward(retain_graph=True)
    (y * 2.0).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [4.0, 4.0])
    np.testing.assert_allclose(x.grad.numpy(), 4.0 * np.cos([1.0, -1.0]))


def test_backward_takes_pytorchs_gradient_keyword_as_well_as_grad():
    for keyword in ("gradient", "grad"):
        x = wl.tensor([1.0, 2.0], requires_grad=True)
        (x * 3.0).backward(**{keyword: wl.tensor([1.0, 10.0])})
        assert x.grad.tolist() == [3.0, 30.0]
    with pytest.raises(TypeError, match="gradient= or grad=, not both"):
        (x * 3.0).backward(gradient=wl.ones(2), grad=wl.ones(2))


# ----------------------------------------------------------------------- memory


def test_a_large_value_no_rule_reads_is_freed_before_the_reverse_pass():
    # tanh's rule reads its output, sum's only the shape: the pre-activation h and the
    # squares are not kept by the graph (an MLP's largest arrays)
    import weakref

    x = wl.tensor(np.linspace(-1.0, 1.0, 100_000), requires_grad=True)
    h = x * 2.0
    pre = weakref.ref(h._data)
    a = wl.tanh(h)
    squares = a * a
    kept = weakref.ref(squares._data)
    loss = squares.sum()
    del h, squares
    assert pre() is None and kept() is None
    loss.backward()
    t = np.tanh(2.0 * np.linspace(-1.0, 1.0, 100_000))
    np.testing.assert_allclose(x.grad.numpy(), 2.0 * t * (1.0 - t**2) * 2.0, rtol=1e-12)


def test_stand_ins_keep_higher_order_exact():
    x0 = np.linspace(-1.0, 1.0, 70_000)

    def first(x):
        return wl.grad(lambda y: wl.tanh(y * 2.0).sum())(x).sum()

    g2 = wl.grad(first)(wl.tensor(x0)).numpy()
    t = np.tanh(2.0 * x0)
    np.testing.assert_allclose(g2, -8.0 * t * (1.0 - t**2), rtol=1e-10, atol=1e-12)


UNDIFFERENTIATED = {
    "comparison": lambda x: x > 0.5,
    "isfinite": lambda x: wl.isfinite(x),
    "isnan": lambda x: wl.isnan(x),
    "logical_not": lambda x: ~(x > 0.5),
    "isclose": lambda x: wl.isclose(x, 2.0),
    "argmax": lambda x: wl.argmax(x),
    "any": lambda x: (x > 0.5).any(),
    "cast to integers": lambda x: x.astype("int64"),
}


@pytest.mark.parametrize("name", list(UNDIFFERENTIATED))
def test_operations_without_derivatives_are_constants_to_both_modes(name):
    op = UNDIFFERENTIATED[name]
    x = wl.tensor([-1.0, 2.0, 0.7], requires_grad=True)
    out = op(x)
    assert not out.requires_grad
    # forward mode: the output carries no tangent, so a product with it is linear in x
    f = lambda v: op(v).astype("float64") * v  # noqa: E731
    value, tangent = wl.jvp(f, (x.detach(),), (wl.ones(3),))
    np.testing.assert_array_equal(tangent.numpy(), op(x.detach()).astype("float64").numpy()
                                  * np.ones(3))
    np.testing.assert_array_equal(value.numpy(), f(x.detach()).numpy())
    # and wl.compile records it: the compiled function follows new inputs
    compiled = wl.compile(lambda v: op(v).astype("float64") * v)
    for v in ([-1.0, 2.0, 0.7], [3.0, -2.0, 0.1]):
        v = wl.tensor(v)
        np.testing.assert_array_equal(compiled(v).numpy(), f(v).numpy())


def test_a_transformed_function_closing_over_tensors_that_require_grad_is_torch_funcs():
    """wl.grad used to run such a function's pass unrecorded: the gradient came back cut
    from the captured tensor (a silent wrong second derivative), and the pass freed the
    user's own graph on the way."""
    torch = pytest.importorskip("torch")
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    wl.grad(lambda z: (z * y * z).sum())(np.array([1.0, -1.0]))
    (y ** 2).sum().backward()  # the user's graph is intact
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 36.0])
    x.grad = None
    y = x * 3
    g = wl.grad(lambda z: (z * y * z).sum())(np.array([1.0, -1.0]))
    (g.sum() + x.sum()).backward()  # the gradient is differentiable in the capture
    xt = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    yt = xt * 3
    gt = torch.func.grad(lambda z: (z * yt * z).sum())(torch.tensor([1.0, -1.0],
                                                                    dtype=torch.float64))
    np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy())
    (gt.sum() + xt.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
    # a transform after the user freed that graph never walks into it
    y2 = x * 2
    (y2 ** 2).sum().backward()
    value, grad = wl.value_and_grad(lambda z: (z * y2).sum())(np.ones(2))
    np.testing.assert_allclose(grad.detach().numpy(), [2.0, 4.0])
    np.testing.assert_allclose(wl.jacrev(lambda z: z * y2)(np.ones(2)).detach().numpy(),
                               np.diag([2.0, 4.0]))
    (pull,) = wl.vjp(lambda z: z * y2, np.ones(2))[1](np.ones(2))
    np.testing.assert_allclose(pull.detach().numpy(), [2.0, 4.0])


# ---------------------------------------------------------------- grad mode per thread


def _in_thread_while(mode_switch, body):
    """Run ``body`` in this thread while another thread sits inside ``mode_switch``."""
    import threading

    entered, release = threading.Event(), threading.Event()
    seen = {}

    def other():
        with mode_switch():
            seen["inside"] = wl.is_grad_enabled()
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    try:
        assert entered.wait(10)
        return body(), seen
    finally:
        release.set()
        thread.join()


def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    # as PyTorch's grad mode: per thread (Dask runs blocks on threads)
    x = wl.tensor([1.0, 2.0], requires_grad=True)

    def body():
        assert wl.is_grad_enabled()
        y = (x * x).sum()
        y.backward()
        return y.requires_grad, x.grad.tolist()

    (recorded, grad), seen = _in_thread_while(wl.no_grad, body)
    assert seen["inside"] is False
    assert recorded and grad == [2.0, 4.0]
    assert wl.is_grad_enabled()


def test_enable_grad_in_another_thread_does_not_record_inside_this_no_grad():
    x = wl.tensor(3.0, requires_grad=True)

    def body():
        with wl.no_grad():
            return (x * 2).requires_grad

    recorded, seen = _in_thread_while(wl.enable_grad, body)
    assert seen["inside"] is True and recorded is False


def test_a_new_thread_starts_with_recording_on_even_inside_no_grad():
    import threading

    seen = []
    with wl.no_grad():
        thread = threading.Thread(target=lambda: seen.append(wl.is_grad_enabled()))
        thread.start()
        thread.join()
        assert not wl.is_grad_enabled()
    assert seen == [True] and wl.is_grad_enabled()


def test_backward_on_many_threads_at_once_gives_every_thread_its_gradient():
    import threading

    failures = []

    def work(seed):
        rng = np.random.default_rng(seed)
        for _ in range(40):
            v = rng.standard_normal(5000)
            x = wl.tensor(v, requires_grad=True)
            ((x * x).sum() + wl.sin(x).sum()).backward()
            if not np.allclose(x.grad.numpy(), 2 * v + np.cos(v)):
                failures.append(seed)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == [] and wl.is_grad_enabled()


def test_a_transform_running_on_another_thread_does_not_make_this_one_nested():
    import contextlib
    import threading

    entered, release = threading.Event(), threading.Event()

    def slow(v):
        entered.set()
        release.wait(10)
        return (v * v).sum()

    @contextlib.contextmanager
    def inside_grad():  # the other thread sits inside wl.grad's call of its function
        thread = threading.Thread(target=lambda: wl.grad(slow)(wl.tensor([1.0])))
        thread.start()
        yield
        release.set()
        thread.join()

    with inside_grad():
        assert entered.wait(10)
        g = wl.grad(lambda v: (v ** 3).sum())(wl.tensor([2.0]))
    assert g.tolist() == [12.0] and not g.requires_grad and g.grad_fn is None


# ----------------------------------------------------------------------- stale views


@pytest.mark.parametrize("write", [
    lambda y: y.mul_(2.0),                      # the whole base
    lambda y: y.clamp_(min=0.0),                # an in-place activation after a view
    lambda y: y.__setitem__(0, 5.0),            # an assignment over the view's element
    lambda y: y.fill_(1.0),
])
def test_a_view_used_after_a_recorded_write_on_its_base_is_refused_not_wrong(write):
    """PyTorch rewrites the view's history; wonderland refuses it, rather than give the
    gradient of the values before the write (``[1, 0, 0]`` where torch gives ``[2, 0, 0]``
    for ``mul_``)."""
    x = wl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1.0
    v = y[:1]
    write(y)
    with pytest.raises(RuntimeError, match=r"view of shape \(1,\).*take the view again"):
        (v * 1.0).sum()
    with pytest.raises(RuntimeError, match="take the view again"):
        v.sum()


def test_a_view_stays_usable_when_the_write_missed_it_or_was_not_recorded():
    x = wl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1.0
    prev = y[0]
    y[1] = prev * 2.0  # a write elsewhere in the base: prev's history is still right
    y[2] = prev * 3.0
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 0.0, 0.0]  # torch's
    x.grad = None
    y = x * 1.0
    v = y[1:]
    with wl.no_grad():  # not recorded: the graph treats the values as they are (torch too)
        y.mul_(2.0)
    (v * 1.0).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0]
    x.grad = None
    h = wl.zeros(3)  # a buffer filled step by step, each step taking a fresh view
    h[0] = x[0]
    for t in (1, 2):
        h[t] = h[t - 1] * 0.9 + x[t]
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.71, 1.9, 1.0])
