"""wl.linear.LinearModel: the losses of wl.losses on a linear model, trained by wl.optim."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.optimize
import sklearn.linear_model as skl
from sklearn.datasets import load_diabetes, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

import wonderland.linear as wll


def huber_objective(theta, X, y, delta, alpha):
    w, b = theta[:-1], theta[-1]
    r = X @ w + b - y
    a = np.abs(r)
    return np.mean(np.where(a < delta, 0.5 * r * r, delta * (a - 0.5 * delta))) \
        + 0.5 * alpha * w @ w


@pytest.mark.parametrize("optimizer", ["momentum", "gd"])
def test_squared_loss_full_batch_is_least_squares(optimizer):
    X, y = load_diabetes(return_X_y=True)
    if optimizer == "gd":  # plain descent is slow on diabetes (condition ~ 300): fewer digits
        X = X[:, [0, 2, 3]]
    model = wll.LinearModel(loss="squared", optimizer=optimizer, max_iter=5000,
                            tol=1e-10).fit(X, y)
    ref = skl.LinearRegression().fit(X, y)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-7, atol=1e-7 * 800)
    assert model.intercept_ == pytest.approx(ref.intercept_, rel=1e-7)
    assert len(model.loss_curve_) == model.n_iter_
    assert model.loss_curve_[-1] == pytest.approx(np.mean((model.predict(X) - y) ** 2))


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_huber_matches_sklearn_huber_regressor_on_the_same_objective(optimizer):
    # HuberRegressor minimizes sum(sigma + H_eps(r / sigma) sigma) + alpha_sk |w|^2 over
    # (w, sigma), with H_eps(z) = z^2 or 2 eps |z| - eps^2. At its fitted sigma, w minimizes
    # (2 / sigma) sum huber_delta(r) + alpha_sk |w|^2 with delta = eps sigma: our objective
    # mean huber_delta(r) + alpha/2 |w|^2 with alpha = alpha_sk sigma / n.
    X, y = load_diabetes(return_X_y=True)
    n = len(y)
    ref = skl.HuberRegressor(epsilon=1.35, alpha=1e-3, max_iter=10000, tol=1e-10).fit(X, y)
    delta, alpha = 1.35 * ref.scale_, 1e-3 * ref.scale_ / n
    model = wll.LinearModel(loss="huber", delta=delta, alpha=alpha, optimizer=optimizer,
                            max_iter=3000, tol=1e-9).fit(X, y)
    ours = huber_objective(np.r_[model.coef_, model.intercept_], X, y, delta, alpha)
    theirs = huber_objective(np.r_[ref.coef_, ref.intercept_], X, y, delta, alpha)
    assert ours <= theirs * (1 + 1e-6)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=0, atol=2e-3 * np.abs(ref.coef_).max())
    assert model.intercept_ == pytest.approx(ref.intercept_, rel=1e-4)


def test_minibatch_training_gets_close_and_is_reproducible():
    X, y = load_diabetes(return_X_y=True)
    delta, alpha = 30.0, 1e-3
    best = scipy.optimize.minimize(huber_objective, np.r_[np.zeros(10), np.median(y)],
                                   args=(X, y, delta, alpha), method="BFGS",
                                   options=dict(gtol=1e-10)).fun
    kwargs = dict(loss="huber", delta=delta, alpha=alpha, optimizer="adam", batch_size=32,
                  max_iter=100, random_state=0)
    a = wll.LinearModel(**kwargs).fit(X, y)
    b = wll.LinearModel(**kwargs).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert huber_objective(np.r_[a.coef_, a.intercept_], X, y, delta, alpha) <= best * 1.01
    assert a.loss_curve_.shape == (a.n_iter_,)
    c = wll.LinearModel(**{**kwargs, "random_state": 1}).fit(X, y)
    assert not np.array_equal(a.coef_, c.coef_)


def test_absolute_loss_approaches_the_median_regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 2))
    y = X @ [1.0, -2.0] + 3.0 + rng.standard_t(1.5, 300)  # heavy tails
    model = wll.LinearModel(loss="absolute", max_iter=2000).fit(X, y)
    ref = skl.QuantileRegressor(quantile=0.5, alpha=0.0).fit(X, y)
    lad = np.mean(np.abs(y - ref.predict(X)))
    assert np.mean(np.abs(y - model.predict(X))) <= lad * 1.01
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=0.1)


@pytest.mark.parametrize("n", [80, 500])
@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_every_optimizer_reaches_the_least_absolute_deviation_objective(optimizer, n):
    """The heavy ball on a subgradient used to stop at its first long stall, 1.5-6% above
    the optimum, without a warning."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.laplace(size=n)
    lad = np.mean(np.abs(y - skl.QuantileRegressor(quantile=0.5, alpha=0.0).fit(X, y)
                         .predict(X)))
    model = wll.LinearModel(loss="absolute", optimizer=optimizer).fit(X, y)
    assert np.mean(np.abs(y - model.predict(X))) <= lad * 1.001


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_every_optimizer_reaches_the_penalized_hinge_objective(optimizer):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    y = (X @ [1.0, -1.0, 0.5] + 0.5 * rng.normal(size=200) > 0).astype(int)
    best = wll.LinearModel(loss="hinge", alpha=0.1, max_iter=5000, tol=1e-9).fit(X, y)
    model = wll.LinearModel(loss="hinge", alpha=0.1, optimizer=optimizer).fit(X, y)
    assert min(model.loss_curve_) <= min(best.loss_curve_) * 1.002


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_every_optimizer_reaches_the_lad_optimum_on_wide_coefficients(optimizer):
    # coefficients of size 40-70: gd stopped 8% above the optimum after 60 epochs, adam
    # 3.5%, each at its first stall of 10 epochs, reporting success
    from sklearn.datasets import make_regression

    X, y = make_regression(200, 4, noise=5, random_state=0)
    lad = np.mean(np.abs(y - skl.QuantileRegressor(quantile=0.5, alpha=0.0).fit(X, y)
                         .predict(X)))
    model = wll.LinearModel(loss="absolute", optimizer=optimizer, max_iter=3000).fit(X, y)
    assert np.mean(np.abs(y - model.predict(X))) <= lad * 1.002


def test_minibatches_whose_objective_rises_are_reported_not_converged():
    # batch_size=1 with the full-batch step: the objective climbed from 97 to 1.9e10 and
    # the stall rule called it converged, with no warning
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = X @ [1.0, 2.0] + 5.0
    with pytest.warns(ConvergenceWarning, match="rose to .* best ones seen"):
        model = wll.LinearModel(batch_size=1, random_state=0).fit(X, y)
    assert np.isfinite(model.coef_).all()


def test_a_regressor_refit_after_a_classifier_has_no_classes_and_saves(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    model = wll.LinearModel(loss="log").fit(X, X[:, 0] > 0)
    model.set_params(loss="squared").fit(X, X @ [1.0, 2.0])
    assert not hasattr(model, "classes_")
    model.save(tmp_path / "m.json")  # load refused the file save had written
    np.testing.assert_array_equal(wll.load(tmp_path / "m.json").coef_, model.coef_)


@pytest.mark.parametrize("loss", ["log", "squared", "hinge"])
def test_an_all_zero_x_without_intercept_is_the_trivial_model(loss):
    # the default step was 1 / (curvature * tiny): inf, refused by the optimizer
    X = np.zeros((20, 2))
    y = np.arange(20) % 2 if loss != "squared" else np.arange(20.0)
    model = wll.LinearModel(loss=loss, fit_intercept=False).fit(X, y)
    assert np.all(model.coef_ == 0.0)


def test_log_loss_reaches_logistic_regression_objective():
    X, y = make_classification(n_samples=300, n_features=4, random_state=2)
    alpha = 0.05
    model = wll.LinearModel(loss="log", alpha=alpha, max_iter=3000, tol=1e-9).fit(X, y)
    ref = wll.LogisticRegression(alpha=alpha).fit(X, y)
    assert model.loss_curve_[-1] == pytest.approx(ref.loss_curve_[-1], rel=1e-7)
    # relative: atol=1e-4 let a coefficient of 0.08 or a probability of 0.0015 be 5% off
    # (both fits agree to ~2e-8 relative)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-6, atol=0)
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X), rtol=1e-6, atol=0)


def test_hinge_classifier_with_any_two_labels():
    X, y = make_classification(n_samples=300, n_features=4, random_state=3)
    labels = np.where(y == 1, "spam", "ham")
    model = wll.LinearModel(loss="hinge", alpha=1e-3, optimizer="momentum",
                            max_iter=300).fit(X, labels)
    assert list(model.classes_) == ["ham", "spam"]
    svm = LinearSVC(C=1.0 / (1e-3 * 300), loss="hinge", dual=True, max_iter=100000,
                        tol=1e-8).fit(X, labels)
    assert model.score(X, labels) >= svm.score(X, labels) - 0.02
    scores = model.decision_function(X)
    assert set(model.predict(X)[scores > 0]) <= {"spam"}
    assert model.coef_.shape == (1, 4) and model.intercept_.shape == (1,)


def test_binary_only_and_single_class_errors():
    X = np.random.default_rng(0).standard_normal((30, 2))
    with pytest.raises(ValueError, match="Only binary classification"):
        wll.LinearModel(loss="hinge").fit(X, np.arange(30) % 3)
    with pytest.raises(ValueError, match=r"samples of 2 classes.* only one class: 1\.0$"):
        wll.LinearModel(loss="log").fit(X, np.ones(30))


@pytest.mark.parametrize("params", [{"loss": "cubic"}, {"optimizer": "sgd"}, {"lr": -1.0},
                                    {"batch_size": 0}, {"max_iter": 0}, {"delta": 0.0},
                                    {"alpha": -0.1}])
def test_bad_parameters_are_value_errors(params):
    with pytest.raises(ValueError, match=next(iter(params))):
        wll.LinearModel(**params).fit(np.eye(3), [1.0, 2.0, 3.0])


def test_max_iter_counts_epochs_and_warns():
    X, y = load_diabetes(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        model = wll.LinearModel(batch_size=100, max_iter=3, random_state=0).fit(X, y)
    assert model.n_iter_ == 3 and model.loss_curve_.shape == (3,)


def test_divergence_warns_and_keeps_finite_coefficients():
    X, y = load_diabetes(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="NaN or infinite"):
        model = wll.LinearModel(lr=1e6, max_iter=2000).fit(X, y)
    assert np.all(np.isfinite(model.coef_))


def test_schedules_are_accepted_as_lr():
    from wonderland.optim import schedules

    X, y = load_diabetes(return_X_y=True)
    model = wll.LinearModel(lr=schedules.inverse_time(0.1, decay=0.01), max_iter=50)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    assert model.loss_curve_[-1] < model.loss_curve_[0]


# ----------------------------------------------------------------------- sample_weight

@pytest.mark.parametrize(("loss", "classes"), [("squared", False), ("huber", False),
                                               ("log", True), ("hinge", True)])
def test_an_integer_weight_counts_a_row_that_many_times(loss, classes):
    rng = np.random.default_rng(11)
    X = rng.standard_normal((120, 3)) + 1.0
    score = X @ rng.standard_normal(3) + 0.5 * rng.standard_normal(120)
    y = (score > np.median(score)).astype(int) if classes else score
    counts = rng.integers(0, 4, 120)
    # hinge's subgradient never vanishes, so its descent never stops on tol: compare the
    # two paths after the same 1,000 epochs (they are one path if a weight is a count)
    max_iter = 1_000 if loss == "hinge" else 20_000
    make = lambda: wll.LinearModel(loss=loss, max_iter=max_iter, tol=1e-12)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = make().fit(X, y, sample_weight=counts)
        repeated = make().fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-9)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, atol=1e-9)


def test_weighted_squared_loss_is_weighted_least_squares():
    rng = np.random.default_rng(12)
    X = rng.standard_normal((200, 4))
    y = X @ rng.standard_normal(4) + 0.3 * rng.standard_normal(200) + 1.0
    weight = rng.uniform(0.0, 3.0, 200)
    model = wll.LinearModel(loss="squared", max_iter=50_000, tol=1e-14)
    model.fit(X, y, sample_weight=weight)
    exact = skl.LinearRegression().fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(model.coef_, exact.coef_, atol=1e-8)
    np.testing.assert_allclose(model.intercept_, exact.intercept_, atol=1e-8)
    # minibatches: rows drawn at random, each weighed by its weight over the mean weight
    sgd = wll.LinearModel(loss="squared", batch_size=32, random_state=0, max_iter=300)
    sgd.fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(sgd.coef_, exact.coef_, atol=0.1)


def test_linear_model_sample_weight_errors_name_it():
    X, y = np.ones((4, 2)), np.arange(4.0)
    with pytest.raises(ValueError, match="^LinearModel: Negative values"):
        wll.LinearModel().fit(X, y, sample_weight=[1.0, -1.0, 1.0, 1.0])
