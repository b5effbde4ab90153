"""wl.linear.LogisticRegression against scikit-learn and independent optima."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.linear_model as skl
from scipy.special import logsumexp
from sklearn.datasets import load_breast_cancer, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning

import wonderland as wl
import wonderland.linear as wll
from wonderland.linear.blocks import logistic_terms


def objective(model_or_coef, intercept, X, y, alpha, classes=None):
    """mean log-loss + alpha/2 |W|^2, written here independently of the package."""
    if intercept is None:
        model = model_or_coef
        coef, intercept, classes = model.coef_, model.intercept_, model.classes_
    else:
        coef = model_or_coef
    Z = X @ np.atleast_2d(coef).T + intercept
    index = np.searchsorted(classes, y)
    if Z.shape[1] == 1:
        z = Z[:, 0]
        loss = np.mean(np.logaddexp(0.0, z) - (index == 1) * z)
    else:
        loss = np.mean(logsumexp(Z, axis=1) - Z[np.arange(len(y)), index])
    return loss + 0.5 * alpha * np.sum(np.asarray(coef) ** 2)


def sklearn_optimum(X, y, alpha):
    """scikit-learn's Newton-Cholesky solver at a tight tolerance, same objective."""
    n = len(y)
    ref = skl.LogisticRegression(C=1.0 / (alpha * n), solver="newton-cholesky", tol=1e-12,
                                 max_iter=1000).fit(X, y)
    return ref


@pytest.mark.parametrize("alpha", [1e-2, 1e-4])
def test_unscaled_breast_cancer_converges_without_warning_to_the_optimum(alpha):
    X, y = load_breast_cancer(return_X_y=True)  # raw features, scales differ by 1e4
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning, nothing
        model = wll.LogisticRegression(alpha=alpha).fit(X, y)
    ref = sklearn_optimum(X, y, alpha)
    f_ours = objective(model, None, X, y, alpha)
    f_opt = objective(ref.coef_, ref.intercept_, X, y, alpha, ref.classes_)
    assert f_ours <= f_opt * (1 + 1e-6)
    assert model.n_iter_ <= 30
    assert model.loss_curve_[-1] == pytest.approx(f_ours, rel=1e-10)


def test_breast_cancer_beats_sklearn_default_lbfgs_where_it_stops_short():
    X, y = load_breast_cancer(return_X_y=True)
    alpha = 1e-2
    n = len(y)
    with pytest.warns(ConvergenceWarning):
        default = skl.LogisticRegression(C=1.0 / (alpha * n)).fit(X, y)
    model = wll.LogisticRegression(alpha=alpha).fit(X, y)
    f_default = objective(default.coef_, default.intercept_, X, y, alpha, default.classes_)
    assert objective(model, None, X, y, alpha) < f_default - 1e-3


@pytest.mark.parametrize("solver", ["newton", "lbfgs"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_binary_matches_sklearn_on_scaled_data(solver, fit_intercept):
    X, y = make_classification(n_samples=400, n_features=6, random_state=0)
    alpha = 1e-2
    n = len(y)
    model = wll.LogisticRegression(alpha=alpha, solver=solver, fit_intercept=fit_intercept,
                                   tol=1e-10).fit(X, y)
    ref = skl.LogisticRegression(C=1.0 / (alpha * n), fit_intercept=fit_intercept,
                                 solver="newton-cholesky", tol=1e-12).fit(X, y)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=1e-6, atol=1e-7)
    assert model.coef_.shape == (1, 6) and model.intercept_.shape == (1,)
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X), atol=1e-7)
    np.testing.assert_allclose(model.decision_function(X), ref.decision_function(X),
                               rtol=1e-6, atol=1e-6)


def test_gradient_descent_solver_decreases_the_objective_towards_the_optimum():
    X, y = make_classification(n_samples=300, n_features=4, random_state=1)
    alpha = 0.1
    model = wll.LogisticRegression(alpha=alpha, solver="gd", max_iter=3000,
                                   tol=1e-8).fit(X, y)
    ref = sklearn_optimum(X, y, alpha)
    f_opt = objective(ref.coef_, ref.intercept_, X, y, alpha, ref.classes_)
    assert objective(model, None, X, y, alpha) == pytest.approx(f_opt, rel=1e-6)
    assert np.all(np.diff(model.loss_curve_) <= 1e-12)


@pytest.mark.parametrize("solver", ["newton", "lbfgs"])
def test_multiclass_softmax_matches_sklearn(solver):
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    alpha = 1e-2
    n = len(y)
    model = wll.LogisticRegression(alpha=alpha, solver=solver, tol=1e-10).fit(X, labels)
    ref = skl.LogisticRegression(C=1.0 / (alpha * n), solver="lbfgs", tol=1e-12,
                                 max_iter=100000).fit(X, labels)
    assert list(model.classes_) == ["setosa", "versicolor", "virginica"]
    assert model.coef_.shape == (3, 4) and model.intercept_.shape == (3,)
    f_ours = objective(model, None, X, labels, alpha)
    f_ref = objective(ref.coef_, ref.intercept_, X, labels, alpha, ref.classes_)
    assert f_ours <= f_ref + 1e-10
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-4)
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X), atol=1e-5)
    np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X)), model.predict_proba(X))
    assert (model.predict(X) == ref.predict(X)).all()
    assert model.decision_function(X).shape == (150, 3)


def test_auto_uses_lbfgs_for_many_parameters_and_still_converges():
    X, y = make_classification(n_samples=600, n_features=200, n_informative=20,
                               n_classes=4, random_state=2)  # 4 * 201 parameters
    alpha = 1e-2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = wll.LogisticRegression(alpha=alpha).fit(X, y)
    ref = skl.LogisticRegression(C=1.0 / (alpha * len(y)), tol=1e-12,
                                 max_iter=10000).fit(X, y)
    f_ref = objective(ref.coef_, ref.intercept_, X, y, alpha, ref.classes_)
    assert objective(model, None, X, y, alpha) == pytest.approx(f_ref, rel=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_many_rows_reach_the_optimum_through_the_row_sample(fit_intercept):
    # enough rows that Newton starts on row samples (W8's shape, smaller)
    X, y = make_classification(n_samples=100_000, n_features=20, random_state=3)
    X[:, 0] += 3.0  # an offset, so that the centring matters
    alpha = 1e-4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = wll.LogisticRegression(alpha=alpha, fit_intercept=fit_intercept).fit(X, y)
    n = len(y)
    ref = skl.LogisticRegression(C=1.0 / (alpha * n), solver="newton-cholesky", tol=1e-12,
                                 fit_intercept=fit_intercept, max_iter=1000).fit(X, y)
    f_opt = objective(ref.coef_, ref.intercept_, X, y, alpha, ref.classes_)
    assert objective(model, None, X, y, alpha) <= f_opt * (1 + 1e-9)
    default = skl.LogisticRegression(C=1.0 / (alpha * len(y)), max_iter=1000,
                                     fit_intercept=fit_intercept).fit(X, y)
    f_default = objective(default.coef_, default.intercept_, X, y, alpha, default.classes_)
    assert objective(model, None, X, y, alpha) <= f_default


def test_many_rows_multiclass_through_the_row_sample():
    X, y = make_classification(n_samples=60_000, n_features=10, n_informative=6,
                               n_classes=3, random_state=7)
    alpha = 1e-3
    model = wll.LogisticRegression(alpha=alpha).fit(X, y)
    ref = skl.LogisticRegression(C=1.0 / (alpha * len(y)), tol=1e-12,
                                 max_iter=10000).fit(X, y)
    f_ref = objective(ref.coef_, ref.intercept_, X, y, alpha, ref.classes_)
    assert objective(model, None, X, y, alpha) <= f_ref * (1 + 1e-9)
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-4)


@pytest.mark.parametrize("row", [0, 1, 99_999])
def test_non_finite_x_is_an_error_wherever_it_is(row):
    X, y = make_classification(n_samples=100_000, n_features=5, random_state=4)
    X[row, 3] = np.nan  # inside and outside the Newton row sample
    with pytest.raises(ValueError, match=rf"Input X contains NaN at row {row}, column 'x3'$"):
        wll.LogisticRegression().fit(X, y)


@pytest.mark.parametrize("solver", ["newton", "lbfgs", "gd"])
def test_separable_data_with_alpha_zero_warns_and_stays_finite(solver):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((100, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    with pytest.warns(ConvergenceWarning, match="separable"):
        model = wll.LogisticRegression(alpha=0.0, solver=solver,
                                       max_iter=500 if solver == "gd" else 100).fit(X, y)
    assert np.all(np.isfinite(model.coef_)) and np.all(np.isfinite(model.intercept_))
    assert model.score(X, y) == 1.0
    assert np.all(np.isfinite(model.predict_proba(X)))


def test_max_iter_warning():
    X, y = load_breast_cancer(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        model = wll.LogisticRegression(alpha=1e-2, max_iter=2).fit(X, y)
    assert model.n_iter_ == 2


def test_single_class_is_an_error_naming_the_class():
    with pytest.raises(ValueError, match=r"at least 2 classes.* only one class: 1$"):
        wll.LogisticRegression().fit(np.eye(3), [1, 1, 1])


def _wl_objective(X, Y, mean, alpha, d, K):
    """The log-loss sum (as logistic_terms returns it) in centred coordinates, written
    with wonderland tensors for its autodiff."""
    def f(theta):
        W = wl.reshape(theta[: d * K], (d, K))
        c = theta[d * K:]
        Z = X @ W + (c - (mean[:, None] * W).sum(axis=0))
        if K == 1:
            z = Z[:, 0]
            return (wl.softplus(z) - Y[:, 0] * z).sum()
        return (wl.logsumexp(Z, dim=1) - (Z * Y).sum(axis=1)).sum()
    return f


@pytest.mark.parametrize("K", [1, 3])
def test_closed_form_gradient_and_hessian_equal_wonderland_autodiff(K):
    rng = np.random.default_rng(6)
    n, d = 40, 3
    X = rng.standard_normal((n, d)) * [1.0, 10.0, 0.1] + 5.0
    labels = rng.integers(0, 2 if K == 1 else K, n)
    Y = (labels == 1).astype(float)[:, None] if K == 1 else np.eye(K)[labels]
    mean = X.mean(axis=0)
    theta = rng.standard_normal((d + 1) * K) * 0.3
    W, c = theta[: d * K].reshape(d, K), theta[d * K:]
    terms = logistic_terms(X, Y, W, c, mean, hessian=True)
    f = _wl_objective(X, Y, mean, 0.0, d, K)
    # parameter order of the closed forms: W in C order then the intercepts
    assert terms.loss == pytest.approx(f(wl.tensor(theta)).item(), rel=1e-12)
    np.testing.assert_allclose(terms.grad.ravel(), wl.grad(f)(theta).numpy(), rtol=1e-10,
                               atol=1e-10)
    np.testing.assert_allclose(terms.hess, wl.hessian(f)(theta).numpy(), rtol=1e-9,
                               atol=1e-9)


# ----------------------------------------------------------------------- sample_weight

def _weighted_classes(n, k, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4)) + 2.0
    score = X @ rng.standard_normal(4) + 0.8 * rng.standard_normal(n)
    score -= np.median(score)
    y = (score > 0).astype(int) if k == 2 else np.digitize(score, [-0.5, 0.5])
    weight = rng.uniform(0.0, 3.0, n)
    weight[:5] = 0.0
    return X, y, weight


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("solver", ["newton", "lbfgs", "gd"])
def test_sample_weight_matches_scikit_learn(solver, k):
    X, y, weight = _weighted_classes(300, k, seed=3)
    alpha = 1e-2  # scikit-learn's C is 1 / (alpha * the sum of the weights)
    ours = wll.LogisticRegression(alpha=alpha, solver=solver, tol=1e-10, max_iter=100_000)
    ours.fit(X, y, sample_weight=weight)
    theirs = skl.LogisticRegression(C=1.0 / (alpha * weight.sum()), tol=1e-12,
                                    max_iter=100_000).fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("solver", ["newton", "lbfgs", "gd"])
def test_an_integer_weight_counts_a_row_that_many_times(solver):
    X, y, _ = _weighted_classes(200, 3, seed=4)
    counts = np.random.default_rng(5).integers(0, 4, len(y))
    make = lambda: wll.LogisticRegression(alpha=1e-2, solver=solver, tol=1e-10,  # noqa: E731
                                          max_iter=100_000)
    weighted = make().fit(X, y, sample_weight=counts)
    repeated = make().fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-7)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, atol=1e-7)


def test_sample_weight_through_newtons_row_sample_on_many_rows():
    # enough rows for Newton to start on every 8th row: the sample keeps its weights
    X, y, weight = _weighted_classes(40_000, 2, seed=6)
    ours = wll.LogisticRegression(alpha=1e-3, tol=1e-10).fit(X, y, sample_weight=weight)
    theirs = skl.LogisticRegression(C=1.0 / (1e-3 * weight.sum()), tol=1e-12,
                                    max_iter=10_000).fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-5)


def test_logistic_sample_weight_errors_name_the_estimator():
    X, y, _ = _weighted_classes(50, 2, seed=7)
    with pytest.raises(ValueError, match="^LogisticRegression: Negative values"):
        wll.LogisticRegression().fit(X, y, sample_weight=-np.ones(50))
    da = pytest.importorskip("dask.array")
    with pytest.raises(ValueError, match="^LogisticRegression: sample_weight is not supported "
                                         "with Dask input"):
        wll.LogisticRegression().fit(da.from_array(X, chunks=25), da.from_array(y, chunks=25),
                                     sample_weight=np.ones(50))


# ------------------------------------------------------- Newton's row sample, rare classes

def _rare_positives(seed, n=3000, positives=6):
    """Few positives at random rows, shifted away from the negatives: every 8th row
    (Newton's row sample on n >= 320 p rows) holds none of them for most seeds."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = np.zeros(n, int)
    rows = rng.choice(n, positives, replace=False)
    y[rows] = 1
    X[rows] += 3.0
    return X, y, rows


@pytest.mark.parametrize("seed", [0, 4, 5, 6, 17, 24])
def test_rare_positives_match_sklearn_whatever_the_row_sample_holds(seed):
    # seeds 0, 4, 5: no positive among every 8th row (the sample's optimum sent the
    # intercept towards -inf: coef 0, p about 1e-55, n_iter_ 0); 6, 17, 24: one (its
    # Hessian, a poor guess of the rows', stopped the fit 1e-4 off in probability)
    X, y, rows = _rare_positives(seed)
    alpha = 1e-3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = wll.LogisticRegression(alpha=alpha).fit(X, y)
    ref = skl.LogisticRegression(C=1.0 / (alpha * len(y)), tol=1e-12, max_iter=5000).fit(X, y)
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X), atol=1e-6)


def test_rare_class_weighted_out_of_the_row_sample_matches_sklearn():
    # the positives among every 8th row carry weight 0: the sample has none that count
    X, y, _ = _rare_positives(1, positives=0)
    rows = np.array([8, 16, 101, 502, 777, 1203, 1999, 2333, 2718, 2960])
    y[rows] = 1
    X[rows] += 3.0
    weight = np.ones(len(y))
    weight[rows[rows % 8 == 0]] = 0.0
    alpha = 1e-3
    model = wll.LogisticRegression(alpha=alpha).fit(X, y, sample_weight=weight)
    ref = skl.LogisticRegression(C=1.0 / (alpha * weight.sum()), tol=1e-12,
                                 max_iter=5000).fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X), atol=1e-6)


def test_zero_weight_on_every_row_of_newtons_sample_matches_sklearn():
    # every 8th row weighted 0 (a fold masked by weight): the row sample weighs nothing
    # (it crashed with ZeroDivisionError)
    rng = np.random.default_rng(0)
    n = 1000
    X = rng.normal(size=(n, 2))
    y = (X @ [1.0, -1.0] + rng.normal(size=n) > 0).astype(int)
    weight = np.ones(n)
    weight[::8] = 0.0
    model = wll.LogisticRegression(alpha=0.01, tol=1e-10).fit(X, y, sample_weight=weight)
    ref = skl.LogisticRegression(C=1.0 / (0.01 * weight.sum()), tol=1e-12).fit(
        X, y, sample_weight=weight)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-6)
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X), atol=1e-7)


def test_newton_falls_back_to_the_exact_hessian_when_the_approximate_one_fails():
    from wonderland.linear.logistic import _newton, _Problem

    X, y = make_classification(n_samples=300, n_features=3, n_redundant=0, random_state=2)
    problem = _Problem(X, y[:, None].astype(float), X.mean(axis=0), 1e-2, True)
    exact = _newton(problem, 100, 1e-12)
    # a Hessian far too small: its steps are far too long, no backtracking rescues them
    for wrong in (1e-30 * np.eye(4), np.zeros((4, 4))):
        theta, _, _, status, _ = _newton(problem, 100, 1e-12, hessian=wrong)
        assert status == "converged"
        np.testing.assert_allclose(theta, exact[0], rtol=1e-8, atol=1e-10)


# ---------------------------------------------------------------- solvers' edge cases

@pytest.mark.parametrize("solver", ["newton", "lbfgs", "gd"])
def test_all_zero_x_without_intercept_is_the_trivial_model(solver):
    X = np.zeros((6, 2))
    y = np.array([0, 0, 1, 1, 0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = wll.LogisticRegression(fit_intercept=False, solver=solver).fit(X, y)
    assert np.all(model.coef_ == 0.0)
    np.testing.assert_allclose(model.predict_proba(X), 0.5)


def _standardized_gradient(model, X, y, alpha):
    """The gradient of mean log-loss + alpha/2 |w|² in the coordinates L-BFGS works in
    (each weight times its column's spread, the intercept of the centred columns)."""
    w, b = model.coef_[0], model.intercept_[0]
    r = 1.0 / (1.0 + np.exp(-(X @ w + b))) - (y == model.classes_[1])
    spread = X.std(axis=0)
    spread[spread == 0] = 1.0
    centred = X - X.mean(axis=0)  # the weights' gradient with the centred intercept fixed:
    # X's own columns would add mean * r̄ (r̄ the intercept's entry, at most tol) to each
    return np.r_[(centred.T @ r / len(y) + alpha * w) / spread, r.mean()]


@pytest.mark.parametrize("tol", [1e-6, 1e-10])
def test_lbfgs_stops_on_tol_or_warns(tol):
    # raw breast cancer: scipy's relative-decrease test used to stop L-BFGS with the
    # largest gradient entry at 8e-7 (coefficients 1e-3 off), reported as converged
    X, y = load_breast_cancer(return_X_y=True)
    alpha = 1e-4
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = wll.LogisticRegression(alpha=alpha, solver="lbfgs", tol=tol,
                                       max_iter=15000).fit(X, y)
    warned = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    if not warned:  # converged means: every gradient entry at most tol (with rounding)
        assert np.max(np.abs(_standardized_gradient(model, X, y, alpha))) <= tol * 1.01
    else:
        assert "tol=" in str(warned[0].message)


def test_lbfgs_reaches_a_tight_tol_on_scaled_data():
    X, y = make_classification(n_samples=400, n_features=6, random_state=0)
    alpha = 1e-2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = wll.LogisticRegression(alpha=alpha, solver="lbfgs", tol=1e-9).fit(X, y)
    assert np.max(np.abs(_standardized_gradient(model, X, y, alpha))) <= 1e-9 * 1.01


# --------------------------------------------------------------- where warnings point

@pytest.mark.parametrize("solver, alpha, max_iter", [
    ("newton", 1e-2, 1), ("lbfgs", 1e-2, 1), ("gd", 1e-2, 1), ("newton", 0.0, 100)])
def test_convergence_warnings_point_at_the_callers_line(solver, alpha, max_iter):
    X, y = load_breast_cancer(return_X_y=True)
    if alpha == 0:  # separable: the "no minimizer" warning
        y = (X[:, 0] > np.median(X[:, 0])).astype(int)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wll.LogisticRegression(alpha=alpha, solver=solver, max_iter=max_iter).fit(X, y)
    warned = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert warned and all(w.filename == __file__ for w in warned), \
        [(w.filename, w.lineno) for w in warned]


def test_convergence_warning_on_dask_input_points_at_the_callers_line():
    da = pytest.importorskip("dask.array")
    X, y = load_breast_cancer(return_X_y=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wll.LogisticRegression(alpha=1e-2, max_iter=1).fit(da.from_array(X, chunks=200),
                                                           da.from_array(y, chunks=200))
    warned = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert warned and all(w.filename == __file__ for w in warned), \
        [(w.filename, w.lineno) for w in warned]
