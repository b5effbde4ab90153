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
    with pytest.raises(ValueError, match="NaN"):
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
    with pytest.raises(ValueError, match="class"):
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
