"""``wl.numerical_grad`` and ``wl.check_grad`` (API.md §2, §9 "gradient checks").

``numerical_grad`` is compared with derivatives known in closed form (and the Jacobian
layout ``out.shape + x.shape``); ``check_grad`` must pass on correct functions, in every
mode and order, and must fail, naming the index and both values, on primitives given a
deliberately wrong derivative.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import wonderland as wl
from wonderland.primitives.base import defprim
from wonderland.tensor import apply

# central differences with an absolute step of 1e-6: truncation ~1e-12, rounding ~1e-10
FD_RTOL, FD_ATOL = 1e-7, 1e-8


def as_np(t) -> np.ndarray:
    return np.asarray(t, dtype=np.float64)


# ----------------------------------------------------------------------- numerical_grad


def test_numerical_grad_of_a_scalar_function_of_a_scalar():
    g = wl.numerical_grad(lambda x: x**3, 2.0)
    assert isinstance(g, wl.Tensor)
    assert g.shape == ()
    np.testing.assert_allclose(g.item(), 12.0, rtol=FD_RTOL)


@pytest.mark.parametrize("x", [-2.0, -0.5, 0.0, 0.3, 1.7])
def test_numerical_grad_of_the_polynomial(x):
    g = wl.numerical_grad(lambda x: 2 * x**4 + x**3 - 3 * x**2, x)
    np.testing.assert_allclose(g.item(), 8 * x**3 + 3 * x**2 - 6 * x, rtol=FD_RTOL,
                               atol=FD_ATOL)


def test_numerical_grad_of_a_scalar_function_of_a_vector_has_the_input_shape():
    x = np.array([0.3, -1.2, 2.0, 0.7])
    g = wl.numerical_grad(lambda x: (wl.sin(x) * x).sum(), x)
    assert g.shape == (4,)
    np.testing.assert_allclose(as_np(g), np.cos(x) * x + np.sin(x), rtol=FD_RTOL,
                               atol=FD_ATOL)


def test_numerical_grad_of_a_scalar_function_of_a_matrix_has_the_input_shape():
    X = np.random.default_rng(0).standard_normal((3, 2))
    g = wl.numerical_grad(lambda X: (wl.tanh(X) ** 2).sum(), X)
    assert g.shape == (3, 2)
    t = np.tanh(X)
    np.testing.assert_allclose(as_np(g), 2 * t * (1 - t**2), rtol=FD_RTOL, atol=FD_ATOL)


def test_numerical_grad_of_the_practice_function():
    x = np.array([0.7, -1.3])

    def f(x):
        return wl.sin(x[0]) * wl.cos(x[1]) + wl.sin(0.5 * x[0]) * wl.cos(0.5 * x[1])

    expected = np.array([
        np.cos(x[0]) * np.cos(x[1]) + 0.5 * np.cos(0.5 * x[0]) * np.cos(0.5 * x[1]),
        -np.sin(x[0]) * np.sin(x[1]) - 0.5 * np.sin(0.5 * x[0]) * np.sin(0.5 * x[1]),
    ])
    np.testing.assert_allclose(as_np(wl.numerical_grad(f, x)), expected, rtol=FD_RTOL,
                               atol=FD_ATOL)


def test_numerical_grad_of_a_vector_function_is_the_jacobian_out_by_in():
    W = np.random.default_rng(1).standard_normal((3, 4))
    x = np.array([0.3, -1.2, 2.0, 0.7])
    J = wl.numerical_grad(lambda x: wl.tensor(W) @ wl.sin(x), x)
    assert J.shape == (3, 4)
    np.testing.assert_allclose(as_np(J), W * np.cos(x), rtol=FD_RTOL, atol=FD_ATOL)


def test_numerical_grad_of_a_vector_function_of_a_matrix():
    v = np.array([0.5, -1.0, 2.0])
    X = np.random.default_rng(2).standard_normal((4, 3))
    J = wl.numerical_grad(lambda X: wl.tanh(X @ wl.tensor(v)), X)
    assert J.shape == (4, 4, 3)
    s = 1 - np.tanh(X @ v) ** 2
    expected = np.einsum("ij,k->ijk", np.diag(s), v)
    np.testing.assert_allclose(as_np(J), expected, rtol=FD_RTOL, atol=FD_ATOL)


def test_numerical_grad_of_a_matrix_function_of_a_vector():
    x = np.array([0.4, -0.3])
    J = wl.numerical_grad(lambda x: wl.outer(x, x), x)
    assert J.shape == (2, 2, 2)
    expected = np.einsum("ik,j->ijk", np.eye(2), x) + np.einsum("i,jk->ijk", x, np.eye(2))
    np.testing.assert_allclose(as_np(J), expected, rtol=FD_RTOL, atol=FD_ATOL)


def test_numerical_grad_agrees_with_jacrev_and_jacfwd():
    x = np.array([0.4, -0.9, 1.3])

    def f(x):
        return wl.sin(x * x[::-1]) * wl.exp(0.2 * x) + x.sum()

    numeric = as_np(wl.numerical_grad(f, x))
    for jac in (wl.jacrev, wl.jacfwd):
        np.testing.assert_allclose(as_np(jac(f)(x)), numeric, rtol=FD_RTOL, atol=FD_ATOL)


def test_numerical_grad_uses_an_absolute_step():
    """For a cubic, central differences give exactly 3x² + eps²: the error is eps², not
    (eps·x)² as a step relative to x would give."""
    g = wl.numerical_grad(lambda x: x**3, 10.0, eps=0.5)
    np.testing.assert_allclose(g.item(), 300.0 + 0.25, rtol=1e-12)
    g = wl.numerical_grad(lambda x: (x**3).sum(), np.array([10.0, 1000.0]), eps=0.5)
    np.testing.assert_allclose(as_np(g), [300.25, 3e6 + 0.25], rtol=1e-12)


def test_numerical_grad_default_step_is_1e_minus_6():
    # for x³ the error is exactly eps²; default 1e-6 gives 1e-12, a visible 1e-3 would not pass
    g = wl.numerical_grad(lambda x: x**3, 1.0)
    np.testing.assert_allclose(g.item(), 3.0, rtol=0, atol=1e-8)


@pytest.mark.parametrize("x", [3, [1, 2], np.array([1, 2]), wl.tensor([1.0, 2.0]),
                               np.array([1.0, 2.0])], ids=lambda v: type(v).__name__)
def test_numerical_grad_accepts_numbers_lists_arrays_tensors(x):
    g = wl.numerical_grad(lambda x: (x**2).sum(), x)
    assert isinstance(g, wl.Tensor)
    assert g.dtype == np.float64
    np.testing.assert_allclose(as_np(g), 2 * np.asarray(x, dtype=np.float64), rtol=FD_RTOL)


def test_numerical_grad_does_not_change_its_input():
    x = np.array([0.5, 1.5])
    before = x.copy()
    wl.numerical_grad(lambda x: (x**2).sum(), x)
    np.testing.assert_array_equal(x, before)
    t = wl.tensor([0.5, 1.5])
    wl.numerical_grad(lambda x: (x**2).sum(), t)
    np.testing.assert_array_equal(t.numpy(), before)


# ----------------------------------------------------------------------- check_grad passes


rng = np.random.default_rng(3)
XD = rng.standard_normal((6, 3))
YD = rng.standard_normal(6)
LABELS = np.array([0, 2, 1, 1, 0, 2])


def practice(x):
    return wl.sin(x[0]) * wl.cos(x[1]) + wl.sin(0.5 * x[0]) * wl.cos(0.5 * x[1])


def least_squares(w, b):
    return ((wl.tensor(XD) @ w + b - wl.tensor(YD)) ** 2).mean()


def logistic(w):
    y = wl.tensor(np.sign(YD))
    return wl.softplus(-y * (wl.tensor(XD) @ w)).mean()


def softmax_xent(W):
    return -wl.log_softmax(wl.tensor(XD) @ W, dim=-1)[np.arange(6), LABELS].mean()


def tanh_net(W1, b1, W2):
    return ((wl.tanh(wl.tensor(XD) @ W1 + b1) @ W2 - wl.tensor(YD)) ** 2).mean()


def vector_valued(x):
    return wl.sin(x) * wl.exp(0.3 * x[::-1]) + wl.tanh(x).sum()


CORRECT = [
    ("practice", practice, (np.array([0.7, -1.3]),)),
    ("polynomial", lambda x: 2 * x**4 + x**3 - 3 * x**2, (0.8,)),
    ("least_squares", least_squares, (rng.standard_normal(3), 0.3)),
    ("logistic", logistic, (rng.standard_normal(3),)),
    ("softmax_xent", softmax_xent, (rng.standard_normal((3, 3)),)),
    ("tanh_net", tanh_net, (rng.standard_normal((3, 4)), rng.standard_normal(4),
                            rng.standard_normal(4))),
    ("sum(sin(x)·x)", lambda x: (wl.sin(x) * x).sum(), (wl.tensor([0.5, 1.0]),)),
]


@pytest.mark.parametrize("modes", [("rev",), ("fwd",), ("rev", "fwd")], ids=str)
@pytest.mark.parametrize(("f", "args"), [c[1:] for c in CORRECT], ids=[c[0] for c in CORRECT])
def test_check_grad_passes_on_correct_functions_order_1(f, args, modes):
    assert wl.check_grad(f, *args, modes=modes) is None


@pytest.mark.parametrize(("f", "args"), [c[1:] for c in CORRECT], ids=[c[0] for c in CORRECT])
def test_check_grad_passes_on_correct_functions_order_2(f, args):
    assert wl.check_grad(f, *args, order=2) is None


def test_check_grad_default_call_passes():
    assert wl.check_grad(practice, np.array([0.7, -1.3])) is None


def test_check_grad_passes_on_a_vector_valued_function():
    x = np.array([0.4, -0.9, 1.3])
    assert wl.check_grad(vector_valued, x) is None
    assert wl.check_grad(vector_valued, x, modes=("fwd",)) is None


def test_check_grad_rejects_bad_options():
    with pytest.raises(ValueError, match="order"):
        wl.check_grad(practice, np.array([0.7, -1.3]), order=3)
    with pytest.raises(ValueError, match="sideways"):
        wl.check_grad(practice, np.array([0.7, -1.3]), modes=("sideways",))


# ----------------------------------------------------------------------- check_grad fails


def _sin(xp, x):
    return xp.sin(x)


# both rules wrong: sin' taken as sin
bad_sin = defprim("bad_sin", _sin,
                  (lambda g, ans, x: g * wl.sin(x),),
                  lambda tangents, ans, x: tangents[0] * wl.sin(x))
# the reverse rule right, the forward rule wrong
fwd_bad_sin = defprim("fwd_bad_sin", _sin,
                      (lambda g, ans, x: g * wl.cos(x),),
                      lambda tangents, ans, x: tangents[0] * wl.sin(x))
# the forward rule right, the reverse rule wrong
rev_bad_sin = defprim("rev_bad_sin", _sin,
                      (lambda g, ans, x: g * wl.sin(x),),
                      lambda tangents, ans, x: tangents[0] * wl.cos(x))
# a slightly wrong derivative: cos(x) (1 + 1e-3)
near_sin = defprim("near_sin", _sin,
                   (lambda g, ans, x: g * wl.cos(x) * 1.001,),
                   lambda tangents, ans, x: tangents[0] * wl.cos(x) * 1.001)
# cos whose derivative has the wrong sign (+sin): right values, wrong derivative
bad_cos = defprim("bad_cos", lambda xp, x: xp.cos(x),
                  (lambda g, ans, x: g * wl.sin(x),),
                  lambda tangents, ans, x: tangents[0] * wl.sin(x))
# sin with a right first derivative written with bad_cos: its second derivative is wrong
sin_bad_second = defprim("sin_bad_second", _sin,
                         (lambda g, ans, x: g * apply(bad_cos, x),),
                         lambda tangents, ans, x: tangents[0] * apply(bad_cos, x))
# a derivative that is NaN
nan_sin = defprim("nan_sin", _sin,
                  (lambda g, ans, x: g * wl.cos(x) * float("nan"),),
                  lambda tangents, ans, x: tangents[0] * wl.cos(x) * float("nan"))

X4 = np.array([0.9, -2.0, 0.3, 1.2])


def summed(prim):
    return lambda x: apply(prim, x).sum()


NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _numbers(message: str) -> list[float]:
    return [float(s) for s in NUMBER.findall(message)]


def assert_names_entry(message: str, index: tuple, analytic: float, numeric: float) -> None:
    """The message says 'index', gives the worst entry's index and both values."""
    assert "index" in message, message
    idx = r"\D+".join(str(i) for i in index)
    assert re.search(r"index\D*" + idx + r"(?!\d)", message), (index, message)
    numbers = _numbers(message)
    assert any(np.isclose(v, analytic, rtol=1e-6, atol=1e-9) for v in numbers), (
        analytic, message)
    assert any(np.isclose(v, numeric, rtol=1e-5, atol=1e-7) for v in numbers), (
        numeric, message)


def _worst(analytic: np.ndarray, numeric: np.ndarray, rtol=1e-5, atol=1e-7) -> tuple:
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    return np.unravel_index(int(np.argmax(excess)), analytic.shape)


@pytest.mark.parametrize("modes", [("rev", "fwd"), ("rev",), ("fwd",)], ids=str)
def test_check_grad_fails_on_a_wrong_primitive_naming_index_and_values(modes):
    analytic, numeric = np.sin(X4), np.cos(X4)
    worst = _worst(analytic, numeric)
    assert worst == (2,)  # |sin - cos| is largest at x = 0.3
    with pytest.raises(AssertionError) as info:
        wl.check_grad(summed(bad_sin), X4, modes=modes)
    assert_names_entry(str(info.value), worst, analytic[worst], numeric[worst])


def test_check_grad_failure_on_a_matrix_input_names_a_two_dimensional_index():
    X = np.array([[0.9, -2.0, 1.2], [1.0, 0.5, 0.3]])
    analytic, numeric = np.sin(X), np.cos(X)
    worst = _worst(analytic, numeric)
    assert worst == (1, 2)
    with pytest.raises(AssertionError) as info:
        wl.check_grad(summed(bad_sin), X)
    assert_names_entry(str(info.value), worst, analytic[worst], numeric[worst])


def test_check_grad_failure_on_a_vector_function_names_a_jacobian_index():
    f = lambda x: apply(bad_sin, x) * 2.0  # noqa: E731
    analytic, numeric = 2 * np.diag(np.sin(X4)), 2 * np.diag(np.cos(X4))
    worst = _worst(analytic, numeric)
    assert worst == (2, 2)
    with pytest.raises(AssertionError) as info:
        wl.check_grad(f, X4)
    assert_names_entry(str(info.value), worst, analytic[worst], numeric[worst])


def test_forward_rule_wrong_is_caught_by_fwd_mode_only():
    f = summed(fwd_bad_sin)
    assert wl.check_grad(f, X4, modes=("rev",)) is None
    with pytest.raises(AssertionError) as info:
        wl.check_grad(f, X4, modes=("fwd",))
    assert_names_entry(str(info.value), (2,), np.sin(X4[2]), np.cos(X4[2]))
    with pytest.raises(AssertionError):
        wl.check_grad(f, X4)  # the default checks both modes


def test_reverse_rule_wrong_is_caught_by_rev_mode_only():
    f = summed(rev_bad_sin)
    assert wl.check_grad(f, X4, modes=("fwd",)) is None
    with pytest.raises(AssertionError) as info:
        wl.check_grad(f, X4, modes=("rev",))
    assert_names_entry(str(info.value), (2,), np.sin(X4[2]), np.cos(X4[2]))
    with pytest.raises(AssertionError):
        wl.check_grad(f, X4)


def test_a_wrong_second_derivative_is_caught_by_order_2_only():
    f = summed(sin_bad_second)
    assert wl.check_grad(f, X4) is None  # the first derivative, cos, is right
    # the Hessian is diagonal: analytic +sin(x), numeric (differences of cos) -sin(x)
    analytic, numeric = np.diag(np.sin(X4)), -np.diag(np.sin(X4))
    worst = _worst(analytic, numeric, atol=1e-7, rtol=1e-5)
    assert worst == (3, 3)  # |2 sin x| is largest at x = 1.2
    with pytest.raises(AssertionError) as info:
        wl.check_grad(f, X4, order=2)
    # order 2 differences the gradient with a larger step: the numeric value to ~1e-8
    message = str(info.value)
    assert "index" in message
    assert re.search(r"index\D*3\D+3(?!\d)", message), message
    numbers = _numbers(message)
    assert any(np.isclose(v, analytic[worst], rtol=1e-6) for v in numbers), message
    assert any(np.isclose(v, numeric[worst], rtol=1e-5) for v in numbers), message


def test_check_grad_tolerances_are_used():
    f = summed(near_sin)
    with pytest.raises(AssertionError, match="index"):
        wl.check_grad(f, X4)  # 1e-3 relative off: fails at rtol=1e-5
    assert wl.check_grad(f, X4, rtol=1e-2) is None
    assert wl.check_grad(f, X4, atol=1e-2) is None


def test_check_grad_fails_on_a_nan_derivative():
    with pytest.raises(AssertionError, match="index"):
        wl.check_grad(summed(nan_sin), X4)


def test_check_grad_checks_every_argument():
    def f(x, y):
        return (x * apply(bad_sin, y)).sum()

    x, y = np.array([1.0, 2.0]), np.array([0.3, 0.9])
    # argument 0 alone is right: d/dx = sin(y)
    assert wl.check_grad(lambda x: f(x, y), x) is None
    with pytest.raises(AssertionError) as info:
        wl.check_grad(f, x, y)
    message = str(info.value)
    # d/dy: analytic x sin(y), numeric x cos(y); the worst entry is at y = 0.3
    assert_names_entry(message, (0,), 1.0 * np.sin(0.3), 1.0 * np.cos(0.3))


def test_check_grad_failure_message_for_the_brief_example():
    """The primitive of the brief, on a scalar: one entry, index () or (0,)."""
    with pytest.raises(AssertionError) as info:
        wl.check_grad(lambda x: apply(bad_sin, x).sum(), 0.3)
    message = str(info.value)
    assert "index" in message
    numbers = _numbers(message)
    assert any(np.isclose(v, np.sin(0.3), rtol=1e-6) for v in numbers), message
    assert any(np.isclose(v, np.cos(0.3), rtol=1e-5) for v in numbers), message


# ------------------------------------------------------- what f returns, what is checked


@pytest.mark.parametrize("result", [None, "a", object()], ids=["None", "text", "object"])
def test_numerical_grad_refuses_a_function_that_returns_no_numbers(result):
    """None gave a gradient of NaNs, silently; text a bare NumPy ValueError."""
    with pytest.raises(TypeError, match=r"^numerical_grad: f must return numbers \(a Tensor, "
                                        r"an array or a number\), got "):
        wl.numerical_grad(lambda x: result, wl.tensor([1.0, 2.0]))


def test_check_grad_with_no_modes_is_an_error_not_a_pass():
    """modes=() compared nothing and returned None: a wrong derivative passed."""
    with pytest.raises(ValueError, match="check_grad: modes is empty, so nothing would be "
                                         "checked"):
        wl.check_grad(summed(bad_sin), X4, modes=())


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_check_grad_takes_one_mode_as_a_string(mode):
    """modes="rev" was read letter by letter: "unknown mode 'r'"."""
    wrong, other = (rev_bad_sin, fwd_bad_sin) if mode == "rev" else (fwd_bad_sin, rev_bad_sin)
    assert wl.check_grad(summed(other), X4, modes=mode) is None  # that mode only
    with pytest.raises(AssertionError, match=f"^check_grad of <lambda>: {mode}-mode derivative"):
        wl.check_grad(summed(wrong), X4, modes=mode)


def test_check_grad_refuses_a_bool_order():
    with pytest.raises(ValueError, match="order must be 1 or 2, got True"):
        wl.check_grad(lambda x: (x**3).sum(), X4, order=True)


# ---------------------------------------------------------------- the Taylor model


@pytest.mark.parametrize("point", [[1.1], 1.0, [[1.1, 2.1]]], ids=["(1,)", "()", "(1, 2)"])
def test_linearize_refuses_a_point_of_another_shape(point):
    """x - x0 broadcast: the model of [1, 2] at [1.1] gave 1.6, a silent wrong number."""
    model = wl.linearize(lambda x: (x**2).sum(), wl.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"^linearize: the model was built at a point of "
                                         r"shape \(2,\) and takes points of that shape"):
        model(point)
    assert model(wl.tensor([1.1, 2.1])).item() == pytest.approx(5.0 + 0.2 + 0.4)


def test_linearize_of_a_scalar_function_of_a_scalar_is_a_line_over_any_points():
    """The text's tangent line, drawn over a grid (it was a ValueError about a direction)."""
    model = wl.linearize(lambda x: x**2 - 1.5 * x, 0.5)
    xs = np.linspace(-1.0, 2.0, 7)
    np.testing.assert_allclose(as_np(model(xs)), -0.5 - 0.5 * (xs - 0.5))
    assert model(0.51).item() == pytest.approx(-0.505)
