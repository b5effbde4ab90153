"""More numerical follow-ups of ``wl.linear``: unpenalized logistic regression on
collinear (or constant) columns, and gradient descent for least squares on columns
whose means dwarf their spread."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn.linear_model as skl
from sklearn.exceptions import ConvergenceWarning

import wonderland.linear as wll

SOLVERS = ["newton", "lbfgs", "gd"]
# the solvers' own accuracy at their default tol (Newton's is quadratic)
PROBA_ATOL = {"newton": 1e-8, "lbfgs": 1e-4, "gd": 1e-4}


def _binary(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three independent columns and labels drawn from a logistic model (not separable)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    z = X @ [1.5, -1.0, 0.5] + 0.2
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-z))).astype(int)
    return X, y


def _fit(solver: str, X, y, **kwargs):
    return wll.LogisticRegression(solver=solver, max_iter=3000, **kwargs).fit(X, y)


# ---------------------------------------------------------------- logistic: collinear

@pytest.mark.parametrize("solver", SOLVERS)
def test_unpenalized_logistic_names_a_duplicated_column_and_splits_it_evenly(solver):
    # Newton split the weight 0.68820 / 0.68813 between the copies, without a word
    X, y = _binary()
    Xd = np.column_stack([X, X[:, 0]])
    with pytest.warns(wll.CollinearityWarning, match=r"columns x0, x3 are collinear") as rec:
        model = _fit(solver, Xd, y)
    message = str(rec[0].message)
    assert message.startswith("LogisticRegression: ")
    assert "alpha" in message and "drop one of the dependent columns" in message
    assert rec[0].filename == __file__  # points at the call of fit
    ref = _fit(solver, X, y)  # the same model without the copy
    np.testing.assert_allclose(model.predict_proba(Xd), ref.predict_proba(X),
                               atol=PROBA_ATOL[solver])
    np.testing.assert_array_equal(model.predict(Xd), ref.predict(X))
    coef = model.coef_[0]
    assert coef[0] == pytest.approx(coef[3], rel=1e-10)  # the minimum-norm split
    assert coef[0] + coef[3] == pytest.approx(ref.coef_[0, 0], rel=1e-4)
    for alpha in (1e-6, 1e-2):  # the penalty makes the solution unique: no warning
        with warnings.catch_warnings():
            warnings.simplefilter("error", wll.CollinearityWarning)
            penalized = _fit(solver, Xd, y, alpha=alpha)
        assert penalized.coef_[0, 0] == pytest.approx(penalized.coef_[0, 3], rel=1e-4)


@pytest.mark.parametrize("solver", SOLVERS)
def test_unpenalized_logistic_names_dataframe_columns_of_a_combination(solver):
    X, y = _binary(seed=1)
    df = pd.DataFrame(X, columns=["height", "weight", "age"])
    df["bmi_like"] = 2.0 * df["height"] - df["weight"]  # a combination, not a copy
    with pytest.warns(wll.CollinearityWarning) as rec:
        model = _fit(solver, df, y)
    messages = [str(w.message) for w in rec if w.category is wll.CollinearityWarning]
    assert len(messages) == 1
    assert "columns height, weight, bmi_like are collinear" in messages[0]
    assert "age" not in messages[0]
    ref = _fit(solver, X, y)
    np.testing.assert_allclose(model.predict_proba(df), ref.predict_proba(X),
                               atol=PROBA_ATOL[solver])
    u = np.array([2.0, -1.0, 0.0, -1.0]) / np.sqrt(6.0)  # the null direction
    assert abs(model.coef_[0] @ u) < 1e-8 * np.abs(model.coef_).max()


@pytest.mark.parametrize("solver", SOLVERS)
def test_unpenalized_softmax_and_weighted_fits_name_the_copy_too(solver):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(600, 3))
    scores = X @ rng.normal(size=(3, 3))
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    labels = (p.cumsum(axis=1) / p.sum(axis=1, keepdims=True)
              < rng.uniform(size=(600, 1))).sum(axis=1)
    weight = rng.uniform(0.5, 2.0, size=600)
    Xd = np.column_stack([X[:, 1], X])  # x0 copies x2
    for w in (None, weight):
        with pytest.warns(wll.CollinearityWarning, match=r"columns x0, x2 are collinear"):
            model = wll.LogisticRegression(solver=solver, max_iter=3000).fit(
                Xd, labels, sample_weight=w)
        ref = wll.LogisticRegression(solver=solver, max_iter=3000).fit(
            X, labels, sample_weight=w)
        np.testing.assert_allclose(model.predict_proba(Xd), ref.predict_proba(X),
                                   atol=PROBA_ATOL[solver])
        np.testing.assert_allclose(model.coef_[:, 0], model.coef_[:, 2], rtol=1e-9,
                                   atol=1e-12)


def test_unpenalized_newton_on_many_rows_names_the_copy():
    # many rows: the check screens a row sample first, and Newton runs on row samples
    X, y = _binary(n=170_000, seed=3)
    Xd = np.column_stack([X, X[:, 2]])
    with pytest.warns(wll.CollinearityWarning, match=r"columns x2, x3 are collinear"):
        model = wll.LogisticRegression().fit(Xd, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing for the independent columns
        ref = wll.LogisticRegression().fit(X, y)
    np.testing.assert_allclose(model.predict_proba(Xd), ref.predict_proba(X), atol=1e-6)


def test_unpenalized_newton_on_dask_blocks_names_the_copy():
    da = pytest.importorskip("dask.array")
    import dask

    X, y = _binary(seed=4)
    Xd = np.column_stack([X, X[:, 0]])
    with dask.config.set(scheduler="synchronous"):
        with pytest.warns(wll.CollinearityWarning, match=r"columns x0, x3 are collinear"):
            model = wll.LogisticRegression().fit(da.from_array(Xd, chunks=(100, 4)),
                                                 da.from_array(y, chunks=100))
    ref = wll.LogisticRegression().fit(X, y)
    np.testing.assert_allclose(model.predict_proba(Xd), ref.predict_proba(X), atol=1e-8)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("value", [0.1, 1.0 / 3.0, 3.7, 1e8])
def test_unpenalized_logistic_with_a_constant_column_fits_the_other_columns(solver, value):
    # Newton stalled at W = 0 ("the line search could not decrease the objective"), or
    # returned a coefficient of 3e16 or -786 on the constant column: its centred Hessian
    # diagonal is rounding, which the Jacobi scaling blew up into its step
    X, y = _binary(seed=5)
    Xc = np.column_stack([X[:, :2], np.full(len(X), value), X[:, 2:]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # its coefficient is 0: nothing to warn about
        model = _fit(solver, Xc, y)
        ref = _fit(solver, X, y)
    assert model.coef_[0, 2] == 0.0
    np.testing.assert_allclose(np.delete(model.coef_, 2, axis=1), ref.coef_, rtol=1e-4)
    np.testing.assert_allclose(model.predict_proba(Xc), ref.predict_proba(X),
                               atol=PROBA_ATOL[solver])


# ---------------------------------------------------------------- least squares: gd

def _dwarfed(n: int = 300, seed: int = 0, targets: int = 1):
    """A column 1e8 + 1e-3·noise that matters (coefficient 3e3: 3 per unit of its
    spread), beside an ordinary one; the target computed from the noise itself."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=n)
    other = rng.normal(size=n)
    X = np.column_stack([1e8 + 1e-3 * noise, other])
    Y = np.column_stack([0.5 + 3.0 * noise + k * other + 0.1 * rng.normal(size=n)
                         for k in range(1, targets + 1)])
    return X, (Y[:, 0] if targets == 1 else Y)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("targets", [1, 2])
def test_gd_matches_the_closed_form_when_a_column_mean_dwarfs_its_spread(weighted, targets):
    # the residual was X w - x̄·w + b - y: X w and x̄·w are 3e11 and round at 3e-5, their
    # difference is the fit's O(1); the gradient was noise at 1e-5, descent ran to
    # max_iter (tol=1e-12) and its coefficients were 1e-7 .. 1e-5 off the closed form
    X, y = _dwarfed(targets=targets)
    weight = np.random.default_rng(7).uniform(0.5, 2.0, size=len(X)) if weighted else None
    ref = skl.LinearRegression().fit(X, y, sample_weight=weight)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning (nor anything else)
        model = wll.LinearRegression(solver="gd", tol=1e-12).fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-8)
    np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=1e-8)
    for solver in ("normal", "lstsq"):
        closed = wll.LinearRegression(solver=solver).fit(X, y, sample_weight=weight)
        np.testing.assert_allclose(model.coef_, closed.coef_, rtol=1e-8)
    assert model.n_iter_ < model.max_iter


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gd_does_not_depend_on_where_a_column_sits(seed):
    # least squares with an intercept is the same problem for x and x - 1e8 (the shift is
    # exact here): at the default tol, descent took the same steps on both, to rounding,
    # where it was 1e-6 apart
    X, y = _dwarfed(seed=seed)
    shifted = X.copy()
    shifted[:, 0] -= 1e8
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        far = wll.LinearRegression(solver="gd").fit(X, y)
        near = wll.LinearRegression(solver="gd").fit(shifted, y)
    np.testing.assert_allclose(far.coef_, near.coef_, rtol=1e-9)
    ref = skl.LinearRegression().fit(X, y)  # and the default tol's accuracy, as elsewhere
    np.testing.assert_allclose(far.coef_, ref.coef_, rtol=1e-5)


def test_normal_equations_refined_reach_the_minimum_on_tiny_dependent_columns():
    # three rows centred leave rank 2 for three columns, two of them 1e-6 small: the
    # Gram matrix squares their condition (about 1e13) and Cholesky alone left a residual
    # sum of squares of 1e-9 where the minimum is 0 (coefficients right to 4 digits)
    X = np.array([[1.25730221e-01, -1.32104863e-07, 6.40422650e-07],
                  [1.04900117e-01, -5.35669373e-07, 3.61595055e-07],
                  [1.30400005e+00, 9.47080963e-07, -7.03735236e-07]])
    y = np.array([-0.05029804, 0.21606945, -2.26948358])
    with pytest.warns(wll.CollinearityWarning):
        normal = wll.LinearRegression(solver="normal").fit(X, y)
    with pytest.warns(wll.CollinearityWarning):
        lstsq = wll.LinearRegression(solver="lstsq").fit(X, y)
    residual = y - normal.predict(X)
    assert residual @ residual < 1e-20
    np.testing.assert_allclose(normal.coef_, lstsq.coef_, rtol=1e-9)


@pytest.mark.parametrize("weighted", [False, True])
def test_normal_equations_on_correlated_columns_agree_with_qr(weighted):
    # correlation 1 - 1e-7 (condition ~1e7, where "auto" still picks "normal"): the
    # refined coefficients agree with QR to 1e-10 (Cholesky alone: about 1e-8)
    rng = np.random.default_rng(5)
    a = rng.normal(size=2000)
    X = np.column_stack([a, a + 1e-3 * rng.normal(size=2000), rng.normal(size=2000)])
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.01 * rng.normal(size=2000)
    weight = rng.uniform(0.5, 2.0, size=2000) if weighted else None
    normal = wll.LinearRegression(solver="normal").fit(X, y, sample_weight=weight)
    lstsq = wll.LinearRegression(solver="lstsq").fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(normal.coef_, lstsq.coef_, rtol=1e-10)
    np.testing.assert_allclose(normal.intercept_, lstsq.intercept_, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("estimator", [wll.Ridge(alpha=0.001),
                                       wll.LinearRegression(solver="normal")])
def test_a_target_whose_mean_dwarfs_its_spread_keeps_its_digits(estimator):
    # y ~ 1e6 ± 0.1: Xᵀy - n x̄ȳ cancelled the fit's digits (2e-8 relative off the exact
    # slope); the targets are centred first when they would cancel
    from fractions import Fraction

    rng = np.random.default_rng(3)
    for n in (2, 3, 7):
        x = rng.normal(size=n)
        y = 1e6 + 0.1 * rng.normal(size=n)
        xm, ym = sum(map(Fraction, x)) / n, sum(map(Fraction, y)) / n
        sxx = sum((Fraction(a) - xm) ** 2 for a in x)
        sxy = sum((Fraction(a) - xm) * (Fraction(b) - ym) for a, b in zip(x, y))
        exact = sxy / (sxx + Fraction(getattr(estimator, "alpha", 0.0)))
        slope = estimator.fit(x[:, None], y).coef_[0]
        assert abs(float((Fraction(slope) - exact) / exact)) < 1e-12


# ------------------------------------------------- dependent columns of far-apart scales

def _scaled_square(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Four rows, four columns of scales 1, 1e-6, 1e-6 and 1e6 (in some order): under an
    intercept the centred columns are dependent (rank 3) and fit any target exactly."""
    rng = np.random.default_rng(seed)
    scales = np.array([1.0, 1e-6, 1e-6, 1e6])[rng.permutation(4)]
    return rng.normal(size=(4, 4)) * scales, rng.normal(size=4)


@pytest.mark.parametrize("solver", ["auto", "normal", "lstsq"])
def test_dependent_columns_of_far_apart_scales_reach_the_least_squares_minimum(solver):
    # the null space's complement came from a plain QR, which mixed the 1e6 and 1e-6
    # columns in every basis vector: the reduced Gram matrix lost the small ones
    # ("normal": residual 0.7 where the minimum is 1e-7) and lstsq's cutoff resolved them
    # to a few digits (3e-9 where it is 1e-31); a third of these fits missed
    for seed in range(30):
        X, y = _scaled_square(seed)
        with pytest.warns(wll.CollinearityWarning):
            model = wll.LinearRegression(solver=solver).fit(X, y)
        residual = y - model.predict(X)
        assert residual @ residual < 1e-20, seed


@pytest.mark.parametrize("solver", SOLVERS)
def test_unpenalized_logistic_with_a_duplicate_among_far_apart_scales(solver):
    # columns of scales 1e6, 1e-6 and 1, the second duplicated (times 2): Newton's
    # restricted space mixed the scales and its probabilities were 0.54 off, silently
    X, y = _binary()
    Xs = X * np.array([1e6, 1e-6, 1.0])
    Xd = np.column_stack([Xs, 2.0 * Xs[:, 1]])
    with pytest.warns(wll.CollinearityWarning, match=r"columns x1, x3 are collinear"):
        model = _fit(solver, Xd, y)
    ref = _fit(solver, Xs, y)
    np.testing.assert_allclose(model.predict_proba(Xd), ref.predict_proba(Xs),
                               atol=PROBA_ATOL[solver])


@pytest.mark.parametrize("solver", ["auto", "normal", "lstsq"])
def test_duplicated_large_columns_beside_a_tiny_one_share_their_weight(solver):
    # columns a·1e6, b·1e-6, a·1e6: the dependency's direction, mapped to raw units, took
    # 1e-4 of the tiny column from rounding, and the minimum-norm coefficients of the
    # copies came out +67 and -67 (their sum right, each 1e8 times its share)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(35, 3))
    X[:, 2] = X[:, 0]
    X *= np.array([1e6, 1e-6, 1e6])
    y = X @ np.array([1e-6, -1e6, 2e-6]) + 0.1 * rng.normal(size=35)
    with pytest.warns(wll.CollinearityWarning, match=r"columns x0, x2 are collinear"):
        model = wll.LinearRegression(solver=solver, fit_intercept=False).fit(X, y)
    ref = wll.LinearRegression(solver="lstsq", fit_intercept=False).fit(X[:, :2], y)
    assert model.coef_[0] == pytest.approx(model.coef_[2], rel=1e-9, abs=0)  # ~1.5e-6 each
    np.testing.assert_allclose(model.coef_[[0, 1]] * [2.0, 1.0], ref.coef_, rtol=1e-9)


# ------------------------------------------------------ logistic: a loss near zero

def _saturated() -> tuple[np.ndarray, np.ndarray]:
    """Five rows of scale 1e6 that a line through the origin nearly separates: with
    alpha = 0.05 the optimum's log-loss is about 1e-10, its scores about 25."""
    X = np.array([[125730.2, -132104.9], [640422.7, 104900.1], [-535669.4, 361595.1],
                  [1304000.0, 947081.0], [-703735.2, -1265421.5]])
    return X, np.array([0, 0, 1, 0, 1])


def test_newton_reaches_the_optimum_when_the_loss_is_near_zero():
    # the log-loss was summed as softplus(z) - y z, which cancels for rows fitted well:
    # good to 1e-16 of the scores (25), not of the loss (1e-10). Newton's rule, relative
    # to the loss, read rounding: the C and F layouts stopped 2e-6 apart, and tol=1e-12
    # took steps below θ's rounding until max_iter
    import scipy.optimize
    import scipy.special

    X, y = _saturated()
    sign = 1.0 - 2.0 * y

    def objective(w):
        u = sign * (X @ w)
        return np.mean(np.logaddexp(0.0, u)) + 0.025 * w @ w, \
            X.T @ (sign * scipy.special.expit(u)) / len(y) + 0.05 * w

    ref = scipy.optimize.minimize(objective, np.zeros(2), jac=True, method="BFGS",
                                  options=dict(gtol=1e-15, maxiter=1000)).x
    for tol in (1e-6, 1e-12):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            fits = [wll.LogisticRegression(alpha=0.05, fit_intercept=False, solver="newton",
                                           tol=tol).fit(layout(X), y)
                    for layout in (np.ascontiguousarray, np.asfortranarray)]
        for model in fits:
            np.testing.assert_allclose(model.coef_[0], ref, rtol=1e-8)
        np.testing.assert_allclose(fits[0].coef_, fits[1].coef_, rtol=1e-10)


@pytest.mark.parametrize("alpha", [1.0, 10.0])
def test_ridge_on_one_row_of_far_apart_scales_stays_in_its_row_space(alpha):
    # one row of scales 1e-6, 1e6, 1e6, 1e-6: alpha is below float64's rounding along the
    # row's null space, and the ridge solution orthogonal to it is x y / (‖x‖² + alpha).
    # The null basis, orthonormalized in the columns' order, kept its small rows to 1e-4
    # only: the coefficients of the two large columns were 1e-4 off that ratio
    scales = np.array([1e-6, 1e6, 1e6, 1e-6])
    x = np.array([0.7, -1.3, 2.1, 0.4]) * scales
    y = np.array([0.9])
    with pytest.warns(wll.CollinearityWarning, match="below float64's rounding"):
        model = wll.Ridge(alpha=alpha, fit_intercept=False).fit(x[None, :], y)
    exact = x * y[0] / (x @ x + alpha)
    # each coefficient in units of its column's effect on the prediction (w_j s_j): the
    # small columns' coefficients (1e-19) do not move a prediction
    np.testing.assert_allclose(model.coef_ * scales, exact * scales, rtol=0,
                               atol=1e-9 * np.linalg.norm(exact * scales))


def test_ridge_gives_a_constant_column_a_zero_coefficient():
    # 3.5e-6 in every row centres to 4e-22, not 0: the penalty gave it 1.5e-33
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=10), np.full(10, 3.5e-6)])
    y = X[:, 0] + rng.normal(size=10)
    model = wll.Ridge(alpha=1e-3).fit(X, y)
    assert model.coef_[1] == 0.0
    ref = wll.Ridge(alpha=1e-3).fit(X[:, :1], y)
    assert model.coef_[0] == pytest.approx(ref.coef_[0], rel=1e-12)
    assert model.intercept_ == pytest.approx(ref.intercept_, rel=1e-12)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("classes", [2, 3])
def test_penalized_logistic_gives_a_constant_column_zero(solver, classes):
    # a constant column of 1e6 beside the intercept: its centred values are 0, so is its
    # optimal weight; the gradient Xᵀr - x̄ Σr left it at rounding / alpha (1.6e-10), and
    # the intercept absorbed 1e6 times that (1% off), differently in C and F layouts
    X, y = _binary(60, seed=2)
    if classes == 3:
        y = np.where(X[:, 1] > 0.8, 2, y)
    Xc = np.column_stack([np.full(len(X), 1e6), X])
    ref = _fit(solver, X, y, alpha=0.05)
    for layout in (np.ascontiguousarray, np.asfortranarray):
        model = _fit(solver, layout(Xc), y, alpha=0.05)
        assert np.all(model.coef_[:, 0] == 0.0)
        np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(model.coef_[:, 1:], ref.coef_, rtol=1e-9, atol=1e-12)


def test_penalized_logistic_on_dask_gives_a_constant_column_zero():
    # the same on Dask row blocks (Newton on the blocks' sums): the intercept was 8e-5 off
    dask = pytest.importorskip("dask")
    import dask.array as da

    X, y = _binary(60, seed=2)
    Xc = np.column_stack([np.full(len(X), 1e6), X])
    ref = _fit("newton", X, y, alpha=0.05)
    with dask.config.set(scheduler="synchronous"):
        model = _fit("newton", da.from_array(Xc, chunks=(20, 4)), da.from_array(y, chunks=20),
                     alpha=0.05)
    assert model.coef_[0, 0] == 0.0
    np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.coef_[:, 1:], ref.coef_, rtol=1e-9, atol=1e-12)
