"""Numerical follow-ups of ``wl.linear``: nearly collinear columns under QR/SVD, and
descent started at an optimum (intercept-only problems)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import wonderland.linear as wll


def _exact(X: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> tuple:
    A = np.column_stack([X, np.ones(len(X))])
    root = np.ones(len(X)) if weight is None else np.sqrt(weight)
    theta = np.linalg.lstsq(A * root[:, None], y * root, rcond=None)[0]
    return theta[:-1], theta[-1]


@pytest.mark.parametrize("eps", [1e-5, 1e-6, 1e-7])
@pytest.mark.parametrize("weighted", [False, True])
def test_lstsq_resolves_nearly_collinear_columns_that_the_gram_matrix_cannot(eps, weighted):
    # x2 = x0 + eps·noise: the data's condition number is ~1/eps (1e5..1e7), which QR/SVD
    # resolves; the Gram matrix's is its square, and its rule called the columns
    # dependent, warned, and returned the minimum-norm coefficients (off by ~1e2..1e4)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    X[:, 2] = X[:, 0] + eps * rng.normal(size=200)
    y = X @ [1.0, 2.0, 3.0] + 0.5 + 0.01 * rng.normal(size=200)
    weight = rng.uniform(0.5, 2.0, size=200) if weighted else None
    coef, intercept = _exact(X, y, weight)
    for solver in ("lstsq", "auto"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", wll.CollinearityWarning)
            model = wll.LinearRegression(solver=solver).fit(X, y, sample_weight=weight)
        # digits lost: about log10(cond) of the data, so 1e-16 · 1e7 · |coef|
        np.testing.assert_allclose(model.coef_, coef, rtol=1e-6, atol=1e-6 * np.abs(coef).max())
        assert model.intercept_ == pytest.approx(intercept, rel=1e-8, abs=1e-8)


def test_lstsq_still_names_exactly_duplicated_columns():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 3))
    X[:, 2] = X[:, 0]
    y = X @ [1.0, 2.0, 3.0] + 1.0
    with pytest.warns(wll.CollinearityWarning, match="columns x0, x2 are collinear"):
        model = wll.LinearRegression(solver="lstsq").fit(X, y)
    np.testing.assert_allclose(model.coef_, [2.0, 2.0, 2.0], rtol=1e-9)  # minimum norm
    assert model.intercept_ == pytest.approx(1.0)


def test_lstsq_more_columns_than_rows_is_the_minimum_norm_interpolant():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(5, 20)), rng.normal(size=5)
    with pytest.warns(wll.CollinearityWarning):
        model = wll.LinearRegression(solver="lstsq").fit(X, y)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    np.testing.assert_allclose(model.coef_, np.linalg.pinv(Xc) @ yc, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.predict(X), y, atol=1e-12)


@pytest.mark.parametrize("X", [np.zeros((40, 2)), np.full((40, 1), 3.7)],
                         ids=["zeros", "constant"])
def test_gradient_descent_on_an_intercept_only_problem_converges_without_warning(X):
    # the start (coefficients 0, intercept ȳ) is the optimum: the gradient is rounding
    # only, which tol times itself cannot undercut; it ran to max_iter and warned
    y = np.random.default_rng(3).normal(5.0, 2.0, size=len(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", wll.CollinearityWarning)
        warnings.simplefilter("error", ConvergenceWarning)
        model = wll.LinearRegression(solver="gd").fit(X, y)
    np.testing.assert_allclose(model.coef_, 0.0, atol=1e-12)
    assert model.intercept_ == pytest.approx(y.mean(), rel=1e-12)
    assert model.n_iter_ < model.max_iter


def test_logistic_gradient_descent_on_an_intercept_only_problem_converges_without_warning():
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = wll.LogisticRegression(solver="gd").fit(np.zeros((10, 2)), y)
    np.testing.assert_allclose(model.coef_, 0.0, atol=1e-12)
    assert model.intercept_[0] == pytest.approx(np.log(0.3 / 0.7), rel=1e-12)
    np.testing.assert_allclose(model.predict_proba(np.zeros((1, 2))), [[0.7, 0.3]], rtol=1e-12)


def _mse(model: object, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> float:
    """The mean squared residual, summed over the targets, with exact fractions of the
    rows' float residuals scaled to 1 (no cancellation, no overflow)."""
    r = np.asarray(y - model.predict(X), dtype=np.float64)
    s = np.abs(r).max()
    q = (r / s) ** 2 * (1.0 if weight is None else (weight if r.ndim == 1 else weight[:, None]))
    root = s * np.sqrt(q.sum() / (len(X) if weight is None else weight.sum()))
    return root * root


@pytest.mark.parametrize("noise", [1e-7, 1e-10])
@pytest.mark.parametrize("case", ["normal", "lstsq", "weighted", "targets", "ridge"])
def test_the_loss_of_a_close_fit_is_its_mean_squared_residual(noise, case):
    # loss_curve_ came from yᵀy - 2wᵀXᵀy + wᵀXᵀXw, terms of ‖y‖²'s size that cancel: a
    # fit to 1e-10 reported 2.9e-14 for a mean squared residual of 9.6e-21 (at 1e-7,
    # twice the value)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 5))
    y = X @ [1.0, 2.0, 3.0, 4.0, 5.0] + 3.0 + noise * rng.standard_normal(1000)
    weight = rng.uniform(0.5, 2.0, 1000) if case == "weighted" else None
    if case == "targets":
        y = np.column_stack([y, 2.0 * y])
    if case == "ridge":
        model = wll.Ridge(alpha=1e-3).fit(X, y)
        expected = 1000 * _mse(model, X, y) + 1e-3 * model.coef_ @ model.coef_
    else:
        solver = "lstsq" if case == "lstsq" else "normal"
        model = wll.LinearRegression(solver=solver).fit(X, y, sample_weight=weight)
        expected = _mse(model, X, y, weight)
    assert model.loss_curve_[0] == pytest.approx(expected, rel=1e-6, abs=0.0)


def test_on_dask_the_loss_of_a_close_fit_is_that_in_memory():
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(1)
    X = rng.standard_normal((900, 4))
    y = X @ [1.0, -2.0, 3.0, 0.5] + 1e-10 * rng.standard_normal(900)
    for make in (wll.LinearRegression, lambda: wll.Ridge(alpha=1e-3)):
        memory = make().fit(X, y)
        lazy = make().fit(da.from_array(X, chunks=(300, 4)), da.from_array(y, chunks=300))
        np.testing.assert_allclose(lazy.loss_curve_, memory.loss_curve_, rtol=1e-6)


@pytest.mark.parametrize("solver", ["normal", "lstsq", "gd"])
def test_a_target_of_1e155_gets_its_coefficients_and_a_finite_loss(solver):
    # its square overflows: loss_curve_ was [nan] (normal, lstsq), and solver="gd" said
    # "minimize: f or its gradient is not finite at x0" (now it descends on y / 2^k)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    y = 1e155 * (X @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(50))
    coef, intercept = _exact(X, y / 1e155)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = wll.LinearRegression(solver=solver, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(model.coef_ / 1e155, coef, rtol=1e-7)
    # (descent's first losses, at |y|'s size, are beyond float64: inf)
    assert model.loss_curve_[-1] == pytest.approx(_mse(model, X, y), rel=1e-6)


def test_on_dask_rows_of_unknown_lengths_the_loss_of_an_exact_fit_is_0():
    # the exact fit's loss takes a pass over the rows; on blocks of unknown lengths (rows
    # kept by a filter; `wonderland fit --dask`'s CSV blocks) that pass refused the target
    # as "inconsistent numbers of samples: [nan, 40]"
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(2)
    X = da.from_array(rng.standard_normal((40, 2)), chunks=(15, 2))
    y = X @ np.array([1.0, -2.0]) + 3.0
    kept = X[:, 0] > -100.0  # every row, in blocks whose lengths Dask does not know
    model = wll.LinearRegression().fit(X[kept], y[kept])
    np.testing.assert_allclose(model.coef_, [1.0, -2.0], rtol=1e-12)
    assert model.loss_curve_[0] == pytest.approx(0.0, abs=1e-28)
