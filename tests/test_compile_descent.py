"""Descent compiled: ``wl.optim.minimize(..., compile=True)`` (one point and batched) gives
the eager results, and ``wonderland practice --compile`` runs (API.md §3, §8, §8b)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import wonderland as wl
from wonderland.cli.main import main
from wonderland.cli.practice import practice_function
from wonderland.compile import TraceError
from wonderland.optim import schedules

METHODS = ["gd", "momentum", "nesterov", "adam"]
TOL = dict(rtol=1e-12, atol=1e-12)


def poly(x):
    return 2 * x**4 + x**3 - 3 * x**2


def assert_same_result(fast, slow):
    """Two minimize results: the same path and stopping, to 1e-12."""
    assert fast.reason == slow.reason if not slow.batched else \
        list(fast.reason) == list(slow.reason)
    np.testing.assert_array_equal(fast.n_iter, slow.n_iter)
    np.testing.assert_array_equal(fast.converged, slow.converged)
    for name in ("x", "fun", "grad_norm"):
        np.testing.assert_allclose(getattr(fast.trace, name), getattr(slow.trace, name),
                                   err_msg=name, **TOL)
    np.testing.assert_allclose(np.asarray(fast.x.numpy()), np.asarray(slow.x.numpy()), **TOL)
    np.testing.assert_allclose(fast.fun, slow.fun, **TOL)
    np.testing.assert_allclose(fast.grad_norm, slow.grad_norm, **TOL)


def both(f, x0, **kwargs):
    return (wl.optim.minimize(f, x0, compile=True, **kwargs),
            wl.optim.minimize(f, x0, **kwargs))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("x0", [2.0, np.array([2.0, -1.0, 0.5])], ids=["scalar", "vector"])
def test_minimize_compiled_equals_eager(method, x0):
    f = poly if np.ndim(x0) == 0 else (lambda x: poly(x).sum())
    fast, slow = both(f, x0, method=method, lr=0.01, max_iter=400)
    assert_same_result(fast, slow)


@pytest.mark.parametrize("method", METHODS)
def test_batched_minimize_compiled_equals_eager(method):
    X0 = np.random.default_rng(0).uniform(0.0, 10.0, size=(12, 2))
    fast, slow = both(practice_function, X0, method=method, lr=0.1, max_iter=150,
                      tol_grad=1e-3, batched=True)
    assert_same_result(fast, slow)
    if method == "gd":
        assert len(set(np.asarray(slow.n_iter))) > 1  # rows stopped at different steps


def test_compiled_stopping_rules_schedule_and_callback():
    seen = []
    fast, slow = both(poly, 2.0, lr=schedules.exponential(0.02, 0.99), tol_grad=0.0,
                      tol_x=1e-7, max_iter=3000)
    assert fast.reason == "tol_x"
    assert_same_result(fast, slow)
    res = wl.optim.minimize(poly, 2.0, lr=0.01, compile=True,
                            callback=lambda s: seen.append(s.t) or s.t == 5)
    assert res.reason == "callback" and seen == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("method", ["gd", "momentum"])
def test_compiled_divergence_keeps_the_last_finite_iterate(method):
    fast, slow = both(poly, 3.0, method=method, lr=1.0, max_iter=100)
    assert fast.reason == slow.reason == "diverged"
    assert_same_result(fast, slow)


def test_compiled_objective_must_be_traceable():
    def f(x):
        return poly(x) if float(x) > 0 else -poly(x)

    with pytest.raises(TraceError, match=r"float\(\)"):
        wl.optim.minimize(f, 2.0, compile=True)


def test_compile_keyword_is_a_bool_and_optional():
    res = wl.optim.minimize(poly, 2.0, lr=0.01, max_iter=3, compile=False)
    assert res.n_iter == 3


# ----------------------------------------------------------------------- practice --compile


def test_practice_compile_gives_the_eager_summary(tmp_path, capsys):
    common = ["practice", "--starts", "4", "--steps", "40"]
    assert main([*common, "--out", str(tmp_path / "a"), "--compile"]) == 0
    compiled = capsys.readouterr().out
    assert main([*common, "--out", str(tmp_path / "b")]) == 0
    eager = capsys.readouterr().out
    assert "compiled (wl.compile)" in compiled.splitlines()[0]
    # the same gradient check, paths and stopping, line for line (but the folder written)
    assert len(compiled.splitlines()) > 10
    assert compiled.splitlines()[1:-1] == eager.splitlines()[1:-1]
    for name in ("paths.png", "paths_momentum.png", "grad_norms.png"):
        assert (tmp_path / "a" / name).is_file()


def test_practice_compile_from_the_command_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "wonderland", "practice", "--starts", "3",
                           "--steps", "20", "--compile", "--framework", "numpy", "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "compiled" in proc.stdout


def test_practice_compile_refuses_other_frameworks(tmp_path, capsys):
    status = main(["practice", "--compile", "--framework", "torch", "--out", str(tmp_path)])
    assert status == 2
    assert "--compile" in capsys.readouterr().err
