"""wl.linear.LinearRegression and Ridge against numpy.linalg.lstsq and scikit-learn."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn.linear_model as skl
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning

import wonderland.linear as wll

SOLVERS = ["auto", "normal", "lstsq"]


def _data(n=200, d=5, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 3.0, d) + offset
    w = rng.standard_normal(d)
    y = X @ w + 1.5 + 0.1 * rng.standard_normal(n)
    return X, y


def _lstsq(X, y, fit_intercept=True):
    A = np.column_stack([X, np.ones(len(X))]) if fit_intercept else X
    theta = np.linalg.lstsq(A, y, rcond=None)[0]
    return (theta[:-1], theta[-1]) if fit_intercept else (theta, 0.0)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_linear_regression_matches_numpy_lstsq(solver, fit_intercept):
    X, y = _data()
    model = wll.LinearRegression(fit_intercept=fit_intercept, solver=solver).fit(X, y)
    coef, intercept = _lstsq(X, y, fit_intercept)
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-10, atol=1e-12)
    assert model.intercept_ == pytest.approx(intercept, rel=1e-10, abs=1e-12)
    assert isinstance(model.intercept_, float)
    np.testing.assert_allclose(model.predict(X), X @ coef + intercept, rtol=1e-10)


@pytest.mark.parametrize("loader", [load_diabetes, load_breast_cancer])
@pytest.mark.parametrize("solver", SOLVERS)
def test_linear_regression_matches_sklearn_on_real_data(loader, solver):
    X, y = loader(return_X_y=True)  # breast cancer: raw features, scales differ by 1e4
    ours = wll.LinearRegression(solver=solver).fit(X, y)
    ref = skl.LinearRegression().fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8,
                               atol=1e-8 * np.max(np.abs(ref.coef_)))
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-8, abs=1e-8)
    assert ours.score(X, y) == pytest.approx(ref.score(X, y), rel=1e-12)


def test_large_means_are_centred_without_losing_digits():
    # means 1e6 times the spread: XᵀX - n x̄x̄ᵀ alone would lose ~12 digits
    X, y = _data(n=500, d=3, seed=1, offset=1e6)
    ours = wll.LinearRegression(solver="normal").fit(X, y)
    coef, intercept = _lstsq(X - 1e6, y)
    np.testing.assert_allclose(ours.coef_, coef, rtol=1e-7)


def test_gradient_descent_solver_reaches_the_least_squares_solution():
    X, y = _data(n=300, d=4, seed=2)
    model = wll.LinearRegression(solver="gd", max_iter=5000, tol=1e-10).fit(X, y)
    coef, intercept = _lstsq(X, y)
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-6, atol=1e-8)
    assert model.intercept_ == pytest.approx(intercept, rel=1e-6)
    assert model.n_iter_ == len(model.loss_curve_) > 1
    assert np.all(np.diff(model.loss_curve_) <= 1e-12)  # descent on a quadratic
    assert model.loss_curve_[-1] == pytest.approx(np.mean((y - model.predict(X)) ** 2))


def test_gradient_descent_warns_when_max_iter_is_reached():
    X, y = load_breast_cancer(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="max_iter=5"):
        model = wll.LinearRegression(solver="gd", max_iter=5).fit(X, y)
    assert model.n_iter_ == 5


@pytest.mark.parametrize("solver", ["auto", "normal", "lstsq", "gd"])
def test_duplicated_column_warns_with_names_and_gives_the_minimum_norm_solution(solver):
    # the text's example: x1 = x2
    rng = np.random.default_rng(3)
    x0, x1 = rng.standard_normal(100), rng.standard_normal(100)
    X = np.column_stack([x0, x1, x1])
    y = 2.0 * x0 + 4.0 * x1 + 1.0 + 0.01 * rng.standard_normal(100)
    with pytest.warns(wll.CollinearityWarning, match=r"columns x1, x2 are collinear"):
        model = wll.LinearRegression(solver=solver, max_iter=20000, tol=1e-12).fit(X, y)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    expected = np.linalg.pinv(Xc) @ yc  # the minimum-norm least-squares coefficients
    np.testing.assert_allclose(model.coef_, expected, rtol=1e-6 if solver == "gd" else 1e-9)
    assert model.coef_[1] == pytest.approx(model.coef_[2])
    assert model.intercept_ == pytest.approx(y.mean() - X.mean(axis=0) @ expected)


def test_collinearity_warning_names_dataframe_columns_and_combinations():
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"height": rng.normal(size=50), "weight": rng.normal(size=50),
                       "age": rng.normal(size=50)})
    df["bmi_like"] = 2 * df["height"] - df["weight"]  # a combination, not a copy
    df["const"] = 3.0
    y = df["height"] + df["age"]
    with pytest.warns(wll.CollinearityWarning) as record:
        model = wll.LinearRegression().fit(df, y)
    message = str(record[0].message)
    assert "height, weight, bmi_like are collinear" in message
    assert "const is constant" in message
    assert "age" not in message
    np.testing.assert_allclose(model.predict(df), y, atol=1e-10)
    assert issubclass(wll.CollinearityWarning, UserWarning)


def test_no_warning_for_well_posed_data():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wll.LinearRegression().fit(X, y)
        wll.Ridge().fit(X, y)


@pytest.mark.parametrize("alpha", [1e-3, 1.0, 100.0])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_matches_sklearn(alpha, fit_intercept):
    X, y = _data(n=300, d=8, seed=5, offset=3.0)
    ours = wll.Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(X, y)
    ref = skl.Ridge(alpha=alpha, fit_intercept=fit_intercept, solver="cholesky").fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8, atol=1e-10)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-8, abs=1e-10)


@pytest.mark.parametrize("loader", [load_diabetes, load_breast_cancer])
def test_ridge_matches_sklearn_on_real_data(loader):
    X, y = loader(return_X_y=True)
    ours = wll.Ridge(alpha=0.5).fit(X, y)
    ref = skl.Ridge(alpha=0.5).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8,
                               atol=1e-8 * np.max(np.abs(ref.coef_)))
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-8)


def test_ridge_minimizes_the_documented_objective():
    X, y = _data(n=100, d=3, seed=6)
    alpha = 2.5
    model = wll.Ridge(alpha=alpha).fit(X, y)

    def objective(w, b):
        r = y - X @ w - b
        return r @ r + alpha * w @ w

    best = objective(model.coef_, model.intercept_)
    assert model.loss_curve_[-1] == pytest.approx(best, rel=1e-10)
    rng = np.random.default_rng(0)
    for _ in range(20):  # any perturbation does worse; the intercept is not penalized
        dw, db = 1e-3 * rng.standard_normal(3), 1e-3 * rng.standard_normal()
        assert objective(model.coef_ + dw, model.intercept_ + db) > best
    # the gradient in w of the objective vanishes: the penalty is alpha |w|^2, not mean-scaled
    grad = -2 * X.T @ (y - X @ model.coef_ - model.intercept_) + 2 * alpha * model.coef_
    np.testing.assert_allclose(grad, 0, atol=1e-8)


def test_ridge_alpha_zero_is_least_squares_and_handles_collinearity():
    X, y = _data(n=80, d=3, seed=7)
    np.testing.assert_allclose(wll.Ridge(alpha=0.0).fit(X, y).coef_, _lstsq(X, y)[0],
                               rtol=1e-9)
    Xd = np.column_stack([X, X[:, 0]])
    with pytest.warns(wll.CollinearityWarning, match="x0, x3"):
        model = wll.Ridge(alpha=0.0).fit(Xd, y)
    np.testing.assert_allclose(model.coef_, np.linalg.pinv(Xd - Xd.mean(0)) @ (y - y.mean()),
                               rtol=1e-8)


@pytest.mark.parametrize("order", ["C", "F"])
def test_ridge_allocates_little_beyond_x_and_never_writes_it(order):
    rng = np.random.default_rng(8)
    X = np.asarray(rng.standard_normal((100_000, 40)), order=order)
    y = X @ rng.standard_normal(40) + 0.3
    X.flags.writeable = False  # a write would raise
    snapshot = X.copy()
    wll.Ridge(alpha=1.0).fit(X, y)  # warm up imports and caches
    tracemalloc.start()
    try:
        model = wll.Ridge(alpha=1.0).fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= 0.25 * X.nbytes, f"peak {peak / X.nbytes:.2f} of X's size"
    np.testing.assert_array_equal(X, snapshot)
    ref = skl.Ridge(alpha=1.0).fit(X, y)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-8)


def test_ridge_rejects_bad_alpha():
    X, y = _data(n=20, d=2)
    with pytest.raises(ValueError, match="alpha"):
        wll.Ridge(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="solver"):
        wll.LinearRegression(solver="qr").fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("make", [lambda: wll.Ridge(), lambda: wll.LinearRegression()])
def test_non_finite_x_is_an_error(bad, make):
    X, y = _data(n=30, d=3)
    X[17, 2] = bad
    what = "NaN" if np.isnan(bad) else "infinity"
    with pytest.raises(ValueError, match=rf"^Input X contains {what} at row 17, column 'x2'$"):
        make().fit(X, y)


def test_auto_switches_to_qr_svd_on_ill_conditioned_columns():
    # two columns correlated to 1 - 1e-8: the normal equations would lose ~8 digits,
    # not a dependency (no warning), so "auto" solves by QR/SVD and keeps them
    rng = np.random.default_rng(9)
    x = rng.standard_normal(400)
    X = np.column_stack([x, x + 1e-4 * rng.standard_normal(400), rng.standard_normal(400)])
    y = X @ [1.0, 2.0, 3.0] + 0.5 + 1e-3 * rng.standard_normal(400)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = wll.LinearRegression().fit(X, y)
    coef, intercept = _lstsq(X, y)
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-10)
    assert model.intercept_ == pytest.approx(intercept, rel=1e-12)


# ----------------------------------------------------------------------- sample_weight

def _weighted_problem():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((150, 4)) + 5.0  # means that dwarf the spread
    y = X @ rng.standard_normal(4) + 0.5 * rng.standard_normal(150) + 2.0
    weight = rng.uniform(0.0, 3.0, 150)
    weight[:7] = 0.0
    return X, y, weight


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("make", [
    lambda fi: (wll.LinearRegression(fit_intercept=fi), skl.LinearRegression(fit_intercept=fi)),
    lambda fi: (wll.LinearRegression(solver="lstsq", fit_intercept=fi),
                skl.LinearRegression(fit_intercept=fi)),
    lambda fi: (wll.LinearRegression(solver="gd", fit_intercept=fi, max_iter=50_000, tol=1e-12),
                skl.LinearRegression(fit_intercept=fi)),
    lambda fi: (wll.Ridge(alpha=4.0, fit_intercept=fi), skl.Ridge(alpha=4.0, fit_intercept=fi)),
], ids=["normal", "lstsq", "gd", "ridge"])
def test_sample_weight_matches_scikit_learn(make, fit_intercept):
    X, y, weight = _weighted_problem()
    ours, theirs = make(fit_intercept)
    ours.fit(X, y, sample_weight=weight)
    theirs.fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-7, atol=1e-8)


def test_an_integer_weight_counts_a_row_that_many_times():
    X, y, _ = _weighted_problem()
    counts = np.random.default_rng(8).integers(0, 4, len(y))
    weighted = wll.Ridge(alpha=2.0).fit(X, y, sample_weight=counts)
    repeated = wll.Ridge(alpha=2.0).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-10)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-10)


@pytest.mark.parametrize(("weight", "message"), [
    (-np.ones(150), "Negative values"), (np.zeros(150), "at least one non-zero"),
    (np.ones(10), r"sample_weight.shape == \(10,\)"), (np.full(150, np.nan), "NaN"),
])
def test_bad_sample_weight_is_a_value_error_naming_the_estimator(weight, message):
    X, y, _ = _weighted_problem()
    with pytest.raises(ValueError, match=rf"^Ridge: .*{message}"):
        wll.Ridge().fit(X, y, sample_weight=weight)


def test_sample_weight_with_dask_input_is_refused_clearly():
    da = pytest.importorskip("dask.array")
    X, y, weight = _weighted_problem()
    with pytest.raises(ValueError, match="^LinearRegression: sample_weight is not supported "
                                         "with Dask input"):
        wll.LinearRegression().fit(da.from_array(X, chunks=50), da.from_array(y, chunks=50),
                                   sample_weight=weight)


# ------------------------------------------------------------------ several targets


def _targets(n=150, d=4, k=3, seed=5, collinear=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 3.0, d)
    if collinear:
        X[:, -1] = 2.0 * X[:, 0] - X[:, 1]
    Y = X @ rng.standard_normal((d, k)) + rng.standard_normal(k) + 0.1 * rng.standard_normal((n, k))
    return X, Y, rng.uniform(0.2, 3.0, n)


@pytest.mark.parametrize("solver", SOLVERS + ["gd"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_several_targets_match_scikit_learn_and_one_fit_per_target(solver, fit_intercept,
                                                                   weighted):
    X, Y, weight = _targets()
    weight = weight if weighted else None
    model = wll.LinearRegression(fit_intercept=fit_intercept, solver=solver, max_iter=20000,
                                 tol=1e-12).fit(X, Y, sample_weight=weight)
    ref = skl.LinearRegression(fit_intercept=fit_intercept).fit(X, Y, sample_weight=weight)
    assert model.coef_.shape == (3, 4) and np.shape(model.intercept_) == (3,)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(model.predict(X), ref.predict(X), rtol=1e-7, atol=1e-8)
    singles = [wll.LinearRegression(fit_intercept=fit_intercept, solver=solver, max_iter=20000,
                                    tol=1e-12).fit(X, Y[:, j], sample_weight=weight)
               for j in range(3)]
    np.testing.assert_allclose(model.coef_, [m.coef_ for m in singles], rtol=1e-7, atol=1e-9)
    # the loss is each target's (weighted) mean squared error, summed
    np.testing.assert_allclose(model.loss_curve_[-1], sum(m.loss_curve_[-1] for m in singles),
                               rtol=1e-7)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_several_targets_matches_scikit_learn(fit_intercept):
    X, Y, weight = _targets()
    for w in (None, weight):
        model = wll.Ridge(alpha=4.0, fit_intercept=fit_intercept).fit(X, Y, sample_weight=w)
        ref = skl.Ridge(alpha=4.0, fit_intercept=fit_intercept).fit(X, Y, sample_weight=w)
        np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=1e-10, atol=1e-12)
        assert model.score(X, Y) == pytest.approx(ref.score(X, Y), rel=1e-12)


def test_a_column_y_is_one_target_as_a_column_as_scikit_learns_linear_regression():
    X, Y, _ = _targets()
    ref = skl.LinearRegression().fit(X, Y[:, :1])
    # (scikit-learn's Ridge alone ravels coef_ then; both of ours keep the column)
    for model in (wll.LinearRegression().fit(X, Y[:, :1]), wll.Ridge(alpha=0.0).fit(X, Y[:, :1])):
        assert model.coef_.shape == ref.coef_.shape == (1, 4)
        assert np.shape(model.intercept_) == np.shape(ref.intercept_) == (1,)
        assert model.predict(X).shape == ref.predict(X).shape == (150, 1)
        np.testing.assert_allclose(model.predict(X), ref.predict(X), rtol=1e-10)
    assert wll.Ridge().fit(X, Y[:, 0]).coef_.shape == (4,)


def test_several_collinear_targets_get_the_minimum_norm_solution_with_a_warning():
    X, Y, _ = _targets(collinear=True)
    with pytest.warns(wll.CollinearityWarning, match="x0, x1, x3"):
        model = wll.LinearRegression(solver="normal").fit(X, Y)
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    np.testing.assert_allclose(model.coef_.T, np.linalg.pinv(Xc) @ Yc, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_several_targets_save_and_load(tmp_path, suffix):
    X, Y, _ = _targets()
    for model in (wll.LinearRegression().fit(X, Y), wll.Ridge(alpha=2.0).fit(X, Y)):
        path = tmp_path / f"{type(model).__name__}{suffix}"
        model.save(path)
        loaded = wll.load(path)
        np.testing.assert_array_equal(loaded.coef_, model.coef_)
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_several_targets_with_dask_predict_lazily_and_refuse_to_fit_clearly():
    da = pytest.importorskip("dask.array")
    X, Y, _ = _targets()
    model = wll.Ridge().fit(X, Y)
    lazy = model.predict(da.from_array(X, chunks=40))
    assert lazy.shape == (150, 3)
    np.testing.assert_allclose(lazy.compute(), model.predict(X), rtol=1e-13)
    with pytest.raises(ValueError, match=r"^Ridge: y should be a 1-D array, got shape "
                                         r"\(150, 3\); several targets are fitted from NumPy"):
        wll.Ridge().fit(da.from_array(X, chunks=40), da.from_array(Y, chunks=40))


@pytest.mark.parametrize("offset, spread", [(1e6, 1e-3), (100.0, 1e-3), (2000.0, 1.0)])
def test_gd_does_not_stop_once_the_intercept_is_fitted_on_features_with_a_large_mean(offset,
                                                                                     spread):
    """The stopping test was relative to the first gradient, which a large ȳ dominated: one
    step fitted the intercept and stopped, the coefficients barely moved."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2)) * spread + offset
    y = X @ [1.0, 2.0] + 0.001 * rng.normal(size=100)
    ours = wll.LinearRegression(solver="gd").fit(X, y)
    exact = skl.LinearRegression().fit(X, y)
    np.testing.assert_allclose(ours.coef_, exact.coef_, rtol=1e-4)
    np.testing.assert_allclose(ours.predict(X), exact.predict(X), rtol=1e-5)
    assert ours.n_iter_ > 3


@pytest.mark.parametrize("scale, alpha", [(1.0, 1e-14), (1.0, 1e-12), (1e4, 1e-6)])
def test_ridge_with_an_alpha_too_small_to_resolve_duplicated_columns(scale, alpha):
    # the Cholesky solve split a duplicated column's weight 0.67 / 0.38 (the solution,
    # unique, splits it evenly), silently: the dependency is now named and solved exactly
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = X @ [1.0, 2.0, 3.0] + rng.normal(size=30)
    Xd = np.c_[X, X[:, 0]] * scale  # x3 duplicates x0
    with pytest.warns(wll.CollinearityWarning, match=r"columns x0, x3 are collinear.*"
                                                     rf"alpha={alpha!r}"):
        model = wll.Ridge(alpha=alpha).fit(Xd, y)
    # the exact solution: w0 = w3 = v0 / 2, v minimizing |ỹ - X̃v|² + alpha (v0²/2 + v1² + v2²)
    Xc, yc = X * scale - X.mean(axis=0) * scale, y - y.mean()
    v = np.linalg.solve(Xc.T @ Xc + alpha * np.diag([0.5, 1.0, 1.0]), Xc.T @ yc)
    np.testing.assert_allclose(model.coef_, [v[0] / 2, v[1], v[2], v[0] / 2], rtol=1e-9)
    ref = skl.Ridge(alpha=alpha, solver="svd").fit(Xd, y)  # (its cholesky warns, rightly)
    np.testing.assert_allclose(model.predict(Xd), ref.predict(Xd), atol=1e-10)


def test_ridge_with_a_small_alpha_on_well_posed_data_stays_quiet_and_exact():
    X, y = _data(n=100, d=4, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = wll.Ridge(alpha=1e-12).fit(X, y)
    ref = skl.Ridge(alpha=1e-12, solver="svd").fit(X, y)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-10)
