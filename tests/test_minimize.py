"""``wl.optim.minimize``: stopping rules, results, traces, batched runs (API.md §3, §9)."""

from __future__ import annotations

import numpy as np
import pytest

import wonderland as wl

METHODS = ["gd", "momentum", "nesterov", "adam"]
CONVERGED = {"tol_grad", "tol_x"}


def poly(x):
    """The text's polynomial ``2x⁴ + x³ − 3x²`` (elementwise)."""
    return 2 * x**4 + x**3 - 3 * x**2


def poly_grad(x):
    return 8 * x**3 + 3 * x**2 - 6 * x


def poly_rows(X):
    """Batched: ``(n, d) -> (n,)``, the polynomial summed over coordinates."""
    return poly(X).sum(1)


def poly_sum(x):
    """One row at a time: ``(d,) -> ()``, the same function."""
    return poly(x).sum()


def _f_numpy(x):
    x = np.asarray(x, dtype=float)
    return float(np.sum(2 * x**4 + x**3 - 3 * x**2))


def _check_result(res, x0_shape):
    """Shapes and consistency of a non-batched result."""
    n = res.n_iter
    assert isinstance(n, (int, np.integer)) and n >= 0
    assert res.trace.x.shape == (n + 1, *x0_shape)
    assert res.trace.fun.shape == (n + 1,)
    assert res.trace.grad_norm.shape == (n + 1,)
    assert tuple(res.x.shape) == tuple(x0_shape)
    np.testing.assert_array_equal(np.asarray(res.x.numpy()), res.trace.x[-1])
    assert float(res.fun) == pytest.approx(res.trace.fun[-1], rel=1e-15, abs=1e-300)
    assert float(res.grad_norm) == pytest.approx(res.trace.grad_norm[-1], rel=1e-15, abs=1e-300)
    assert bool(res.converged) == (res.reason in CONVERGED)
    assert np.all(np.isfinite(res.trace.x))
    assert np.all(np.isfinite(res.trace.fun)) and np.all(np.isfinite(res.trace.grad_norm))


# ---------------------------------------------------------------------- stopping reasons


def test_tol_grad_on_the_texts_polynomial():
    res = wl.optim.minimize(poly, 2.0, lr=0.01, max_iter=5000)
    assert res.reason == "tol_grad"
    assert res.converged is True or res.converged == np.True_
    _check_result(res, ())
    assert float(res.grad_norm) < 1e-6  # default tol_grad
    assert abs(poly_grad(res.x.item())) < 1e-6
    # a local minimum of 2x⁴+x³−3x² (8x²+3x−6 = 0, positive root)
    assert res.x.item() == pytest.approx((-3 + np.sqrt(9 + 192)) / 16, abs=1e-6)
    # every earlier iterate had a gradient at least tol_grad: it stopped at the first one below
    assert np.all(res.trace.grad_norm[:-1] >= 1e-6)
    assert 0 < res.n_iter < 5000


def test_tol_grad_is_checked_at_x0():
    """A start that is already stationary makes no update."""
    res = wl.optim.minimize(poly, 0.0, lr=0.01)
    assert res.reason == "tol_grad" and res.n_iter == 0 and res.converged
    _check_result(res, ())


def test_tol_x():
    res = wl.optim.minimize(poly, 2.0, lr=0.01, tol_grad=0.0, tol_x=1e-6, max_iter=5000)
    assert res.reason == "tol_x"
    assert res.converged
    _check_result(res, ())
    steps = np.abs(np.diff(res.trace.x))
    assert steps[-1] < 1e-6
    assert np.all(steps[:-1] >= 1e-6)


def test_max_iter():
    res = wl.optim.minimize(poly, 2.0, lr=0.01, max_iter=7)
    assert res.reason == "max_iter"
    assert res.n_iter == 7
    assert not res.converged
    _check_result(res, ())


def test_max_iter_zero_makes_no_update():
    res = wl.optim.minimize(poly, 2.0, lr=0.01, max_iter=0)
    assert res.reason == "max_iter" and res.n_iter == 0 and not res.converged
    _check_result(res, ())
    assert res.x.item() == 2.0


@pytest.mark.parametrize("method, lr", [("gd", 1.0), ("gd", 0.5), ("momentum", 0.3)])
def test_diverged_keeps_the_last_finite_iterate(method, lr):
    res = wl.optim.minimize(poly, 2.0, method=method, lr=lr, max_iter=1000)
    assert res.reason == "diverged"
    assert not res.converged
    _check_result(res, ())
    assert np.isfinite(res.x.item()) and np.isfinite(float(res.fun))
    assert res.n_iter < 1000
    # the last finite iterate really is one of the iterates: redo the GD/momentum recurrence
    x, v = np.float64(2.0), np.float64(0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(res.n_iter):
            assert x == pytest.approx(res.trace.x[t], rel=1e-12)
            v = -lr * poly_grad(x) + (0.9 * v if method == "momentum" else 0.0)
            x = x + v
        assert x == pytest.approx(res.x.item(), rel=1e-12)
        # and the next one is not finite (x, f or its gradient)
        v = -lr * poly_grad(x) + (0.9 * v if method == "momentum" else 0.0)
        nxt = x + v
        assert not (np.isfinite(nxt) and np.isfinite(poly(nxt)) and np.isfinite(poly_grad(nxt)))


def test_huge_but_finite_gradient_is_not_divergence():
    """f = 1e160·sin(x): f and ∇f are finite everywhere (|∇f| ≤ 1e160), so no NaN or inf
    appears and the run must reach max_iter — ‖∇f‖ may not be computed as sqrt(g²),
    which overflows."""
    res = wl.optim.minimize(lambda x: 1e160 * wl.sin(x), 0.0, lr=1e-160, max_iter=5)
    assert res.reason == "max_iter" and res.n_iter == 5
    assert res.trace.grad_norm[0] == pytest.approx(1e160, rel=1e-15)
    x = np.float64(0.0)
    for t in range(1, 6):
        x = x - 1e-160 * (1e160 * np.cos(x))
        assert res.trace.x[t] == pytest.approx(x, rel=1e-12)


def test_diverged_raises_no_warning_or_exception():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = wl.optim.minimize(poly, 2.0, lr=1.0)
    assert res.reason == "diverged"


def test_callback_stops_the_run():
    seen = []

    def callback(state):
        seen.append((state.t, state.x.numpy().copy(), float(state.fun), float(state.grad_norm)))
        return state.t == 5

    res = wl.optim.minimize(poly, 2.0, lr=0.01, callback=callback)
    assert res.reason == "callback"
    assert res.n_iter == 5
    assert not res.converged
    _check_result(res, ())
    assert [t for t, *_ in seen] == [1, 2, 3, 4, 5]
    for t, x, fun, gnorm in seen:
        np.testing.assert_array_equal(x, res.trace.x[t])
        assert fun == res.trace.fun[t]
        assert gnorm == res.trace.grad_norm[t]


def test_callback_returning_none_does_not_stop():
    calls = []
    res = wl.optim.minimize(poly, 2.0, lr=0.01, max_iter=9, callback=lambda s: calls.append(s.t))
    assert res.reason == "max_iter" and res.n_iter == 9
    assert calls == list(range(1, 10))


@pytest.mark.parametrize("kwargs, reason", [
    ({"lr": 0.01}, "tol_grad"),
    ({"lr": 0.01, "tol_grad": 0.0, "tol_x": 1e-6}, "tol_x"),
    ({"lr": 0.01, "max_iter": 3}, "max_iter"),
    ({"lr": 1.0}, "diverged"),
    ({"lr": 0.01, "callback": lambda s: s.t == 2}, "callback"),
])
def test_converged_exactly_for_tol_grad_and_tol_x(kwargs, reason):
    res = wl.optim.minimize(poly, 2.0, **kwargs)
    assert res.reason == reason
    assert bool(res.converged) is (reason in CONVERGED)


# ---------------------------------------------------------------------- results and traces


def test_trace_matches_the_gd_recurrence_and_f():
    res = wl.optim.minimize(poly, 2.0, lr=0.01, max_iter=40)
    x = 2.0
    for t in range(41):
        assert res.trace.x[t] == pytest.approx(x, rel=1e-13, abs=0)
        assert res.trace.fun[t] == pytest.approx(_f_numpy(x), rel=1e-12, abs=0)
        assert res.trace.grad_norm[t] == pytest.approx(abs(poly_grad(x)), rel=1e-12, abs=0)
        x = x - 0.01 * poly_grad(x)


@pytest.mark.parametrize("x0, shape", [
    (2.0, ()),
    (2, ()),
    (np.float64(2.0), ()),
    ([1.5, -0.5], (2,)),
    (np.array([[1.5, -0.5], [0.3, 1.2]]), (2, 2)),
    (np.array([1.5, -0.5, 2.0]), (3,)),
], ids=["float", "int", "np-scalar", "list", "matrix", "array"])
def test_x0_kinds_and_trace_shapes(x0, shape):
    x0_copy = np.array(x0, copy=True)
    res = wl.optim.minimize(poly_sum, x0, lr=0.01, max_iter=25)
    _check_result(res, shape)
    np.testing.assert_array_equal(res.trace.x[0], np.asarray(x0, dtype=float))
    assert res.trace.x.dtype == np.float64
    # trace.fun is f along trace.x, trace.grad_norm ‖∇f‖ along it
    for t in range(res.n_iter + 1):
        assert res.trace.fun[t] == pytest.approx(_f_numpy(res.trace.x[t]), rel=1e-12, abs=1e-14)
        gn = np.linalg.norm(poly_grad(np.asarray(res.trace.x[t])))
        assert res.trace.grad_norm[t] == pytest.approx(gn, rel=1e-12, abs=1e-14)
    if isinstance(x0, np.ndarray):
        np.testing.assert_array_equal(x0, x0_copy)  # the caller's start is not modified


def test_x0_tensor_that_requires_grad_is_left_alone():
    x0 = wl.tensor([1.5, -0.5], requires_grad=True)
    res = wl.optim.minimize(poly_sum, x0, lr=0.01, max_iter=10)
    assert x0.tolist() == [1.5, -0.5] and x0.grad is None
    np.testing.assert_array_equal(res.trace.x[0], [1.5, -0.5])


def _manual(method, f, x0, lr, momentum, steps):
    x = wl.tensor(np.array(x0, dtype=float), requires_grad=True)
    cls = {"gd": wl.optim.GD, "momentum": wl.optim.Momentum, "nesterov": wl.optim.Nesterov,
           "adam": wl.optim.Adam}[method]
    kwargs = {"momentum": momentum} if method in ("momentum", "nesterov") else {}
    opt = cls([x], lr=lr, **kwargs)
    xs = [x.numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        f(x).backward()
        opt.step()
        xs.append(x.numpy().copy())
    return np.stack(xs)


@pytest.mark.parametrize("method", METHODS)
def test_each_method_runs_its_optimizer(method):
    x0 = [1.2, -1.4]
    res = wl.optim.minimize(poly_sum, x0, method=method, lr=0.01, momentum=0.7, max_iter=30)
    assert res.reason == "max_iter" and res.n_iter == 30
    _check_result(res, (2,))
    np.testing.assert_allclose(res.trace.x, _manual(method, poly_sum, x0, 0.01, 0.7, 30),
                               rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("method, lr", [("gd", 0.05), ("momentum", 0.02), ("nesterov", 0.02),
                                        ("adam", 0.05)])
def test_each_method_minimizes_a_quadratic(method, lr):
    c = np.array([1.0, -2.0, 0.5])

    def f(x):
        return ((x - wl.tensor(c)) ** 2).sum()

    res = wl.optim.minimize(f, [0.0, 0.0, 0.0], method=method, lr=lr, max_iter=5000,
                            tol_grad=1e-6, tol_x=0.0)
    assert res.reason in ("tol_grad", "max_iter")
    np.testing.assert_allclose(res.x.numpy(), c, atol=1e-3)
    assert float(res.fun) < 1e-5
    if method != "adam":
        assert res.reason == "tol_grad"


def test_schedule_as_lr():
    from wonderland.optim import schedules

    s = schedules.exponential(0.02, 0.9)
    res = wl.optim.minimize(poly, 2.0, lr=s, max_iter=5)
    x = 2.0
    for t in range(1, 6):
        x = x - s(t) * poly_grad(x)
        assert res.trace.x[t] == pytest.approx(x, rel=1e-13, abs=0)


def test_progress_runs_and_gives_the_same_result(capsys):
    plain = wl.optim.minimize(poly, 2.0, lr=0.01, max_iter=60)
    capsys.readouterr()
    shown = wl.optim.minimize(poly, 2.0, lr=0.01, max_iter=60, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""  # a progress bar goes to stderr, never stdout
    assert shown.reason == plain.reason and shown.n_iter == plain.n_iter
    np.testing.assert_array_equal(shown.trace.x, plain.trace.x)
    batched = wl.optim.minimize(poly_rows, [[2.0, 1.0], [0.5, -1.0]], lr=0.01, max_iter=30,
                                batched=True, progress=True)
    assert capsys.readouterr().out == ""
    assert batched.trace.x.shape[0] == 2


# ---------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize("kwargs", [
    {"method": "newton"},
    {"method": "GD!"},
    {"max_iter": -1},
    {"max_iter": -10},
], ids=["method-newton", "method-junk", "max_iter-1", "max_iter-10"])
def test_bad_arguments_are_value_errors(kwargs):
    with pytest.raises(ValueError):
        wl.optim.minimize(poly, 2.0, **kwargs)


@pytest.mark.parametrize("x0", [[1.0, 2.0], 3.0, np.zeros((2, 2, 2))],
                         ids=["1-D", "scalar", "3-D"])
def test_batched_needs_a_2d_x0(x0):
    with pytest.raises(ValueError):
        wl.optim.minimize(poly_rows, x0, batched=True)


@pytest.mark.parametrize("compile", [False, True])
def test_non_scalar_f_without_batched_is_a_value_error_naming_minimize(compile):  # noqa: A002
    with pytest.raises(ValueError, match=r"^minimize: f must return a scalar, got shape "
                                         r"\(2,\); use batched=True"):
        wl.optim.minimize(poly, [1.0, 2.0], max_iter=3, compile=compile)


@pytest.mark.parametrize("x0", ["abc", None, [[1.0], [1.0, 2.0]], {"x": 1.0}],
                         ids=["str", "None", "ragged", "dict"])
def test_an_x0_that_is_not_numbers_is_a_type_error_naming_it(x0):
    with pytest.raises(TypeError, match=rf"^minimize: x0 must be numbers .*, got "
                                        rf"{type(x0).__name__} "):
        wl.optim.minimize(poly, x0)


# ---------------------------------------------------------------------- batched

# rows: stationary at x0 (tol_grad at 0), converging at different speeds, one diverging,
# one still running at max_iter
MIXED = np.array([
    [0.0, 0.0],     # ∇f = 0 at the start
    [2.0, 2.0],
    [0.5, -1.0],
    [20.0, 0.5],    # diverges with lr = 0.01
    [1.0, 0.9],
    [-2.5, 1.7],
    [-0.05, 0.02],  # near the local maximum: slow to leave it
])


def _single_runs(X0, **kwargs):
    return [wl.optim.minimize(poly_sum, row, **kwargs) for row in X0]


def _compare_batched_with_single(batched, singles, X0):
    n, d = X0.shape
    n_iter = np.asarray(batched.n_iter)
    T = int(n_iter.max())
    assert batched.trace.x.shape == (n, T + 1, d)
    assert batched.trace.fun.shape == (n, T + 1)
    assert batched.trace.grad_norm.shape == (n, T + 1)
    assert tuple(batched.x.shape) == (n, d)
    for name in ("fun", "grad_norm", "n_iter", "converged", "reason"):
        assert len(getattr(batched, name)) == n, name
    for i, single in enumerate(singles):
        k = single.n_iter
        assert int(n_iter[i]) == k, (i, batched.reason[i], single.reason)
        assert str(batched.reason[i]) == single.reason, i
        assert bool(batched.converged[i]) == bool(single.converged), i
        np.testing.assert_allclose(batched.x.numpy()[i], single.x.numpy(), rtol=1e-13, atol=0)
        assert float(batched.fun[i]) == pytest.approx(float(single.fun), rel=1e-13, abs=1e-300)
        assert float(batched.grad_norm[i]) == pytest.approx(float(single.grad_norm), rel=1e-12,
                                                            abs=1e-300)
        np.testing.assert_allclose(batched.trace.x[i, : k + 1], single.trace.x, rtol=1e-13,
                                   atol=0)
        np.testing.assert_allclose(batched.trace.fun[i, : k + 1], single.trace.fun, rtol=1e-13,
                                   atol=1e-300)
        np.testing.assert_allclose(batched.trace.grad_norm[i, : k + 1], single.trace.grad_norm,
                                   rtol=1e-12, atol=1e-300)
        # rows that stopped early are padded with their final values
        np.testing.assert_array_equal(batched.trace.x[i, k:],
                                      np.broadcast_to(single.trace.x[-1], (T + 1 - k, d)))
        np.testing.assert_array_equal(batched.trace.fun[i, k:], batched.trace.fun[i, k])
        np.testing.assert_array_equal(batched.trace.grad_norm[i, k:],
                                      batched.trace.grad_norm[i, k])
        np.testing.assert_array_equal(batched.trace.x[i, -1], batched.x.numpy()[i])
    assert np.all(np.isfinite(batched.trace.x))
    assert np.all(np.isfinite(batched.trace.fun))


@pytest.mark.parametrize("method", METHODS)
def test_batched_equals_one_at_a_time(method):
    kwargs = {"method": method, "lr": 0.01, "momentum": 0.8, "max_iter": 160, "tol_grad": 1e-6}
    batched = wl.optim.minimize(poly_rows, MIXED, batched=True, **kwargs)
    singles = _single_runs(MIXED, **kwargs)
    _compare_batched_with_single(batched, singles, MIXED)
    if method == "gd":
        # the mix the test is meant to cover really happened
        reasons = [str(r) for r in batched.reason]
        assert reasons[0] == "tol_grad" and int(batched.n_iter[0]) == 0
        assert reasons[3] == "diverged"
        assert "max_iter" in reasons
        assert len({int(k) for k, r in zip(batched.n_iter, reasons) if r == "tol_grad"}) >= 3


def test_batched_equals_one_at_a_time_with_tol_x():
    kwargs = {"lr": 0.01, "max_iter": 400, "tol_grad": 0.0, "tol_x": 1e-5}
    batched = wl.optim.minimize(poly_rows, MIXED, batched=True, **kwargs)
    singles = _single_runs(MIXED, **kwargs)
    _compare_batched_with_single(batched, singles, MIXED)
    reasons = [str(r) for r in batched.reason]
    assert "tol_x" in reasons and "diverged" in reasons


def test_batched_per_row_results_are_consistent():
    res = wl.optim.minimize(poly_rows, MIXED, lr=0.01, max_iter=250, batched=True)
    n_iter = np.asarray(res.n_iter)
    for i in range(len(MIXED)):
        k = int(n_iter[i])
        np.testing.assert_array_equal(res.trace.x[i, 0], MIXED[i])
        np.testing.assert_array_equal(res.trace.x[i, k], res.x.numpy()[i])
        assert res.trace.fun[i, k] == pytest.approx(float(res.fun[i]), rel=1e-15, abs=0)
        assert res.trace.fun[i, k] == pytest.approx(_f_numpy(res.x.numpy()[i]), rel=1e-12)
        assert bool(res.converged[i]) == (str(res.reason[i]) in CONVERGED)


def test_batched_callback():
    seen = []

    def callback(state):
        seen.append((state.t, state.x.numpy().copy(), np.array(state.fun, dtype=float),
                     np.array(state.grad_norm, dtype=float)))
        return state.t == 5

    X0 = np.array([[2.0, 2.0], [0.5, -1.0], [1.0, 0.9]])
    res = wl.optim.minimize(poly_rows, X0, lr=0.01, batched=True, callback=callback)
    assert [str(r) for r in res.reason] == ["callback"] * 3
    assert list(np.asarray(res.n_iter)) == [5, 5, 5]
    assert not np.any(res.converged)
    assert res.trace.x.shape == (3, 6, 2)
    assert [t for t, *_ in seen] == [1, 2, 3, 4, 5]
    for t, x, fun, gnorm in seen:
        assert x.shape == (3, 2) and fun.shape == (3,) and gnorm.shape == (3,)
        np.testing.assert_array_equal(x, res.trace.x[:, t])
        np.testing.assert_array_equal(fun, res.trace.fun[:, t])
        np.testing.assert_array_equal(gnorm, res.trace.grad_norm[:, t])


def test_batched_all_rows_stop_at_x0():
    X0 = np.zeros((3, 2))
    res = wl.optim.minimize(poly_rows, X0, lr=0.01, batched=True)
    assert list(np.asarray(res.n_iter)) == [0, 0, 0]
    assert [str(r) for r in res.reason] == ["tol_grad"] * 3
    assert res.trace.x.shape == (3, 1, 2)


def test_batched_accepts_a_list():
    res = wl.optim.minimize(poly_rows, [[2.0, 1.0], [0.5, -1.0]], lr=0.01, batched=True,
                            max_iter=10)
    assert res.trace.x.shape == (2, 11, 2)
    assert [str(r) for r in res.reason] == ["max_iter", "max_iter"]


# ---------------------------------------------------------------------- compiled, float32


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("lr", [0.01, wl.optim.schedules.exponential(0.01, 0.99)])
def test_compiled_float32_equals_eager_bit_for_bit(method, lr):
    # the step size (and Adam's corrections) enter the compiled step in x's dtype: as
    # float64 scalars they made f and its gradient be evaluated at an unrounded point
    kwargs = {"method": method, "lr": lr, "max_iter": 60, "tol_grad": 0.0}
    x0 = np.array([2.0, -1.3], dtype=np.float32)
    eager = wl.optim.minimize(poly_sum, x0, **kwargs)
    compiled = wl.optim.minimize(poly_sum, x0, compile=True, **kwargs)
    assert compiled.x.numpy().dtype == np.float32
    np.testing.assert_array_equal(compiled.trace.x, eager.trace.x)
    np.testing.assert_array_equal(compiled.trace.fun, eager.trace.fun)
    np.testing.assert_array_equal(compiled.trace.grad_norm, eager.trace.grad_norm)
    X0 = x0[:, None]
    eager = wl.optim.minimize(poly_rows, X0, batched=True, **kwargs)
    compiled = wl.optim.minimize(poly_rows, X0, batched=True, compile=True, **kwargs)
    assert compiled.fun.dtype == eager.fun.dtype == np.float32
    np.testing.assert_array_equal(compiled.trace.x, eager.trace.x)
    np.testing.assert_array_equal(compiled.trace.fun, eager.trace.fun)


@pytest.mark.parametrize("flag", ["batched", "progress", "compile"])
def test_a_flag_that_is_not_a_bool_is_refused_by_name(flag):
    with pytest.raises(TypeError, match=rf"^minimize: {flag} must be True or False, got 'no'"):
        wl.optim.minimize(lambda x: (x**2).sum(), [1.0, 2.0], **{flag: "no"})
