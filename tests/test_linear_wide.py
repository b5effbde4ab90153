"""Least squares on data wider than tall (more columns than rows): the minimum-norm
coefficients from QR/SVD on the data, without the d x d Gram matrix; against
scikit-learn's ``LinearRegression`` (SciPy's ``lstsq`` on the centred data)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression as SkLinearRegression

from wonderland import linear
from wonderland.linear import CollinearityWarning
from wonderland.linear.blocks import scaled_top
from wonderland.linear.generic import top_curvature


def fit_quietly(model, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CollinearityWarning)
        return model.fit(X, y, **kwargs)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 12), extra=st.integers(1, 30), seed=st.integers(0, 2**32 - 1),
       weighted=st.booleans(), intercept=st.booleans(), targets=st.sampled_from([0, 1, 3]),
       constant=st.booleans())
def test_wide_fits_agree_with_scikit_learn(n, extra, seed, weighted, intercept, targets,
                                           constant):
    rng = np.random.default_rng(seed)
    d = n + extra
    X = rng.standard_normal((n, d)) * rng.uniform(0.1, 10.0, d)
    if constant:
        X[:, 0] = 3.0  # a constant column: collinear with the intercept
    y = rng.standard_normal((n, targets)) if targets else rng.standard_normal(n)
    weight = rng.uniform(0.5, 2.0, n) if weighted else None
    for solver in ("auto", "lstsq"):
        ours = fit_quietly(linear.LinearRegression(fit_intercept=intercept, solver=solver),
                           X, y, sample_weight=weight)
        theirs = SkLinearRegression(fit_intercept=intercept).fit(X, y, sample_weight=weight)
        np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-9, rtol=1e-7)
        np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-9)
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), atol=1e-8)


def test_wide_data_warns_once_that_the_columns_are_dependent_without_listing_them():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.standard_normal((5, 40)), columns=[f"gene{j}" for j in range(40)])
    X["flat"] = 1.0
    with pytest.warns(CollinearityWarning) as caught:
        linear.LinearRegression().fit(X, rng.standard_normal(5))
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "more columns (41) than rows" in message, message
    assert "column flat is constant" in message, message
    assert "gene7" not in message and "minimum-norm" in message, message


def test_wide_data_with_the_normal_equations_asked_for_still_solves_them():
    # solver="normal" is the Gram matrix by name: it stays on it (singular, so minimum norm)
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((6, 9)), rng.standard_normal(6)
    ours = fit_quietly(linear.LinearRegression(solver="normal"), X, y)
    np.testing.assert_allclose(ours.predict(X), y, atol=1e-8)


@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("weighted", [True, False])
def test_the_step_size_curvature_of_wide_data_is_the_gram_matrix_s(intercept, weighted):
    rng = np.random.default_rng(2)
    n, d = 7, 30
    X = rng.standard_normal((n, d)) + 5.0
    weight = rng.uniform(0.5, 2.0, n) if weighted else None
    mean = np.average(X, axis=0, weights=weight) if intercept else np.zeros(d)
    scale = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=weight))
    w = np.ones(n) if weight is None else weight
    gram = (X - mean).T @ ((X - mean) * w[:, None])
    expected = scaled_top(gram, float(w.sum()), scale)
    assert top_curvature(X, mean, scale, weight, intercept) == pytest.approx(expected,
                                                                             rel=1e-10)
