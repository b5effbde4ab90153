"""What ``wl.compile`` cannot trace is an error at trace time that names the user's line
(API.md §8b): Python control flow on a traced value, ``.item()``, ``float()``,
``.numpy()`` / ``np.asarray`` of a traced tensor, in-place writes into an input (or into a
tensor that outlives the call), random draws inside the function, ``backward()``,
indexing with a traced tensor. Never a silently baked value.
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

import wonderland as wl
from wonderland.compile import TraceError

X = np.array([1.0, -2.0, 3.0])


def line_of(marker: str) -> int:
    """The line of this file holding ``marker`` (a comment at the end of the line)."""
    source = inspect.getsource(inspect.getmodule(line_of)).splitlines()
    return next(i + 1 for i, text in enumerate(source) if text.rstrip().endswith(marker))


def raises_at(f, marker: str, *hints: str, args=(X,)) -> str:
    with pytest.raises(TraceError) as info:
        wl.compile(f)(*args)
    message = str(info.value)
    assert f"test_compile_errors.py:{line_of(marker)}" in message, message
    for hint in hints:
        assert hint in message, (hint, message)
    return message


def test_if_on_a_traced_value():
    def f(x):
        if x.sum() > 0:  # <if>
            return x
        return -x

    message = raises_at(f, "# <if>", "bool()", "wl.where", "static_argnums")
    assert "if x.sum() > 0" in message  # the line's text too


def test_while_and_boolean_operators():
    def f(x):
        while x.max() > 10:  # <while>
            x = x / 2
        return x

    raises_at(f, "# <while>", "wl.where")

    def g(x):
        return x.sum() > 0 and x  # <and>

    raises_at(g, "# <and>", "bool()")


def test_item_float_int_format():
    raises_at(lambda x: x * x.sum().item(), "# <item>", ".item()", "static_argnums")  # <item>
    raises_at(lambda x: x * float(x[0]), "# <float>", "float()")  # <float>
    raises_at(lambda x: x[int(x[0] > 0)], "# <int>", "int()")  # <int>
    raises_at(lambda x: wl.tensor(f"{x[0]:.3f}" and 1.0), "# <format>", "format")  # <format>


def test_numpy_conversions():
    raises_at(lambda x: wl.tensor(x.numpy() * 2), "# <numpy>", ".numpy()")  # <numpy>
    raises_at(lambda x: wl.tensor(np.asarray(x) + 1), "# <asarray>", "np.asarray")  # <asarray>
    raises_at(lambda x: wl.tensor(x.tolist()), "# <tolist>", ".tolist()")  # <tolist>
    raises_at(lambda x: x * 2 if wl.allclose(x, 0.0) else x, "# <allclose>",  # <allclose>
              "allclose")


def test_in_place_write_into_an_input():
    def f(x):
        x += 1.0  # <iadd>
        return x

    raises_at(f, "# <iadd>", "in-place", "input", "x = x + 1")

    def g(x):
        with wl.no_grad():
            x[0] = 5.0  # <setitem>
        return x * 2

    raises_at(g, "# <setitem>", "input")
    t = wl.tensor(X)
    with pytest.raises(TraceError):
        wl.compile(lambda x: x.mul_(2.0))(t)
    np.testing.assert_array_equal(t.numpy(), X)  # the caller's data is left as it was


def test_in_place_write_into_a_tensor_that_outlives_the_call():
    buffer = wl.zeros(3)

    def f(x):
        buffer[...] = x * 2  # <closure>
        return buffer.sum()

    raises_at(f, "# <closure>", "lives on after the call")


def test_in_place_update_of_a_parameter():
    w = wl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    opt = wl.optim.GD([w], lr=0.1)

    def step(x):
        w.grad = x * 1.0
        opt.step()  # <step>
        return w * 1.0

    raises_at(step, "# <step>", "requires grad", "minimize(..., compile=True)")


def test_in_place_write_into_a_view():
    def f(x):
        y = x * 2.0
        y[1:] += x[:-1]  # <view>
        return y

    raises_at(f, "# <view>", "view", "y[1:] = y[1:] + v")


@pytest.mark.parametrize("draw", ["randn", "rand", "randn_like", "rand_like"])
def test_random_draws(draw):
    def f(x):
        noise = getattr(wl, draw)(x) if draw.endswith("like") else getattr(wl, draw)(3)  # <rnd>
        return x + noise

    raises_at(f, "# <rnd>", f"wl.{draw}", "pass them in as an argument")


def test_backward_inside():
    def f(x):
        w = wl.tensor([1.0, 1.0, 1.0], requires_grad=True)
        (w * x).sum().backward()  # <backward>
        return w.grad

    raises_at(f, "# <backward>", "backward()", "wl.grad")


def test_indexing_with_a_traced_tensor():
    raises_at(lambda x: x[x > 0].sum(), "# <mask>", "indexing", "wl.where")  # <mask>


def test_errors_inside_transforms_name_the_users_line():
    def f(x):
        return x * 2 if x.sum().item() > 0 else x  # <in-grad>

    raises_at(wl.grad(lambda x: f(x).sum()), "# <in-grad>", ".item()")


def test_an_error_leaves_the_engine_as_it_was():
    with pytest.raises(TraceError):
        wl.compile(lambda x: x if x.sum() > 0 else x)(X)
    # no hook left behind: eager code runs, .item() works, grad mode is on
    t = wl.tensor(X, requires_grad=True)
    (t * 2).sum().backward()
    assert t.grad.tolist() == [2.0, 2.0, 2.0]
    assert (t.sum() > 0).item() is True and wl.is_grad_enabled()
    assert float(wl.grad(lambda x: x ** 2)(3.0)) == 6.0
    assert wl.compile(lambda x: x * 2)(X).tolist() == [2.0, -4.0, 6.0]


def test_printing_inside_is_allowed(capsys):
    def f(x):
        print(x)
        return x * 2

    assert wl.compile(f)(X).tolist() == [2.0, -4.0, 6.0]
    assert re.search(r"tensor\(\[ 1\., -2\.,  3\.\]\)", capsys.readouterr().out)


def test_static_arguments_are_values_again():
    def f(x, n):
        return x * n.item()  # n is a value, not traced: reading it is fine

    assert wl.compile(f, static_argnums=1)(X, np.float64(2.0)).tolist() == [2.0, -4.0, 6.0]


def test_other_threads_run_eagerly_while_a_trace_runs():
    import threading

    results = {}

    def eager_work():
        w = wl.tensor([1.0, 2.0], requires_grad=True)
        (w * w).sum().backward()
        opt = wl.optim.GD([w], lr=0.5)
        opt.step()
        results["w"] = w.tolist()
        results["noise"] = wl.randn(2).shape

    def f(x):
        worker = threading.Thread(target=eager_work)
        worker.start()
        worker.join()
        return x * 2

    assert wl.compile(f)(X).tolist() == [2.0, -4.0, 6.0]
    assert results == {"w": [0.0, 0.0], "noise": (2,)}
