"""Paths of ``wl.linear`` that the rest of the suite never reached (found by coverage.py),
each run through the public API: values checked against an exact reference (the data's
closed form, the optimality condition, the in-memory fit, NumPy), errors checked for
naming what is wrong. Tests after a "# Fixed" comment pinned down a real bug (they failed
before its fix)."""

from __future__ import annotations

import json
import warnings
import zipfile
from fractions import Fraction
from io import BytesIO

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

import wonderland.linear as wll
from wonderland.linear.base import NonFiniteError, TooLargeError

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")

from wonderland.linear.dask_stream import exact_median  # noqa: E402


@pytest.fixture
def sync():
    """Dask's synchronous scheduler: no threads, the same order every run."""
    with dask.config.set(scheduler="sync"):
        yield


def _binary_gradient(model, X, y, alpha):
    """The gradient of ``mean log-loss + alpha/2 |w|²`` at the fitted (w, b): 0 at the
    optimum (the exact reference for a convex fit)."""
    w, b = model.coef_[0], model.intercept_[0]
    r = expit(X @ w + b) - y
    return np.r_[X.T @ r / len(y) + alpha * w, r.mean()]


# ===================================================================== base.py


def test_integer_beyond_float64_in_a_dataframe_names_row_and_column():
    # validated(): an OverflowError from a 401-digit int is named by row and column name
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0],
                      "b": pd.Series([1, 2, 10**400, 4], dtype=object)})
    with pytest.raises(ValueError, match=r"LinearRegression: X has an integer of 401 digits, "
                                         r"too large for float64, in row 2, column 'b'"):
        wll.LinearRegression().fit(X, [1.0, 2.0, 3.0, 4.0])


# Fixed; before the fix: an integer beyond float64 in y (object array) raises a bare
# OverflowError 'int too large to convert to float' naming neither the estimator, y nor the
# row: validated() looks for the culprit in X only
def test_integer_beyond_float64_in_y_names_y_and_row():
    y = np.array([1, 10**400, 3], dtype=object)
    with pytest.raises(ValueError, match=r"LinearRegression: .*y.*row 1"):
        wll.LinearRegression().fit([[1.0], [2.0], [3.0]], y)


# Fixed; before the fix: a number beyond float64 that is not an int (a Fraction in an object
# column) raises a bare OverflowError 'integer division result too large for a float' without
# row or column, in memory (base.first_too_large -> None) and on Dask
# (dask_blocks._float_block)
@pytest.mark.parametrize("on_dask", [False, True])
def test_fraction_beyond_float64_names_row_and_column(on_dask, sync):
    X = np.array([[1.0, 2.0], [3.0, Fraction(10**400)], [1.0, 1.0]], dtype=object)
    if on_dask:
        X = da.from_array(X, chunks=(2, 2))
    with pytest.raises(ValueError, match=r"row 1.*column|column.*row 1"):
        wll.Ridge().fit(X, [1.0, 2.0, 3.0])


def test_ragged_x_is_numpys_value_error():
    # _text_column: a ragged X cannot become an array; the conversion error is kept
    with pytest.raises(ValueError, match="inhomogeneous"):
        wll.Ridge().fit([[1.0, 2.0], [3.0]], [1.0, 2.0])


def test_hyper_parameter_of_the_wrong_type_is_named():
    # check_number: a string alpha fails the type test before the bound is looked at
    with pytest.raises(ValueError, match=r"LogisticRegression: alpha must be a finite number "
                                         r">= 0.0, got 'x'"):
        wll.LogisticRegression(alpha="x").fit([[0.0], [1.0]], [0, 1])


# ===================================================================== least_squares.py


def test_ridge_with_a_penalty_below_rounding_splits_duplicated_columns_evenly():
    # _ridge_cholesky: gram + 1e-300 I is singular to Cholesky (LinAlgError): the dependency
    # is named and the solution orthogonal to it (the limit alpha -> 0) returned
    rng = np.random.default_rng(0)
    base = rng.normal(size=(20, 2)) * 1e3
    y = base @ [1e-3, 2e-3] + 0.5
    X = np.column_stack([base[:, 0], base[:, 0], base[:, 1]])
    with pytest.warns(wll.CollinearityWarning, match="columns x0, x1 are collinear"):
        model = wll.Ridge(alpha=1e-300).fit(X, y)
    np.testing.assert_allclose(model.coef_, [5e-4, 5e-4, 2e-3], rtol=1e-9)
    assert model.intercept_ == pytest.approx(0.5, rel=1e-9)


def test_normal_equations_refine_twice_on_ill_conditioned_columns():
    # _refined: columns correlated to 1 - 1e-9 (not dependent): both refinement steps move
    # the coefficients by more than rounding; exact integer data, so the answer is exact
    rng = np.random.default_rng(0)
    a = rng.integers(-100, 101, size=40).astype(float)
    b = 300.0 * a + rng.integers(-1, 2, size=40)
    c = rng.integers(-100, 101, size=40).astype(float)
    X = np.column_stack([a, b, c])
    y = X @ [3.0, -2.0, 1.0] + 7.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = wll.LinearRegression(solver="normal").fit(X, y)
    np.testing.assert_allclose(model.coef_, [3.0, -2.0, 1.0], rtol=1e-9)
    assert model.intercept_ == pytest.approx(7.0, abs=1e-9)


# ===================================================================== logistic.py


def test_logistic_dask_without_y_is_refused(sync):
    X = da.from_array(np.zeros((4, 1)), chunks=2)
    with pytest.raises(ValueError, match="LogisticRegression requires y to be passed"):
        wll.LogisticRegression().fit(X, None)


def test_logistic_dask_with_one_class_names_it(sync):
    X = da.from_array(np.arange(8.0).reshape(4, 2), chunks=(2, 2))
    with pytest.raises(ValueError, match=r"at least 2 classes.*only one class: 'a'"):
        wll.LogisticRegression().fit(X, np.array(["a"] * 4, dtype=object))


def test_logistic_nan_outside_the_row_sample_is_named_by_the_first_pass():
    # many rows (Newton's row sample checks only every 8th): the NaN in row 3 makes the
    # first full pass non-finite, which names its row and the DataFrame's column
    rng = np.random.default_rng(0)
    X = rng.normal(size=(800, 1))
    y = (X[:, 0] + rng.normal(size=800) > 0).astype(int)
    X[3, 0] = np.nan
    with pytest.raises(NonFiniteError, match=r"NaN at row 3, column 'feat'"):
        wll.LogisticRegression(alpha=0.1).fit(pd.DataFrame(X, columns=["feat"]), y)


def test_logistic_newton_with_a_large_hessian_uses_threaded_blas():
    # n p² = 2500 * 200² >= 1e8: the Hessian pass runs outside serial_blas; the result is
    # the optimum (gradient 0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2500, 199))
    y = (X @ rng.normal(size=199) / 10 + rng.normal(size=2500) > 0).astype(float)
    alpha = 1.0
    model = wll.LogisticRegression(alpha=alpha, solver="newton").fit(X, y)
    assert np.max(np.abs(_binary_gradient(model, X, y, alpha))) < 1e-8


def test_logistic_dask_without_intercept_splits_duplicated_columns(sync):
    # _DaskProblem with a null space and no intercept (null_mean None): minimum-norm
    # weights, a duplicated column sharing its weight evenly, as in memory
    rng = np.random.default_rng(0)
    base = rng.normal(size=(60, 2))
    y = (base @ [1.0, -1.0] + rng.normal(size=60) > 0).astype(int)
    X = np.column_stack([base[:, 0], base[:, 0], base[:, 1]])
    with pytest.warns(wll.CollinearityWarning, match="columns x0, x1 are collinear"):
        model = wll.LogisticRegression(fit_intercept=False).fit(
            da.from_array(X, chunks=(20, 3)), y)
    reference = wll.LogisticRegression(fit_intercept=False).fit(base, y)
    w = reference.coef_[0]
    np.testing.assert_allclose(model.coef_[0], [w[0] / 2, w[0] / 2, w[1]], rtol=1e-9)
    np.testing.assert_array_equal(model.intercept_, [0.0])


def test_logistic_dask_without_intercept_matches_memory(sync):
    # _dask_column_rank without an intercept: the uncentred Gram matrix
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2))
    y = (X @ [1.0, -1.0] + rng.normal(size=60) > 0).astype(int)
    model = wll.LogisticRegression(fit_intercept=False).fit(da.from_array(X, chunks=(20, 2)),
                                                            y)
    reference = wll.LogisticRegression(fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-9)
    assert np.max(np.abs(_binary_gradient(model, X, y, 0.0)[:2])) < 1e-9


def test_logistic_dask_squares_overflowing_are_named_by_column(sync):
    # _dask_column_rank: a Gram matrix that overflows gives no rank; the Hessian then
    # names the column (its row would cost another pass over the blocks)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(int)
    y[:5] = 1 - y[:5]
    X[5, 1] = 1e200
    frame = dd.from_pandas(pd.DataFrame(X, columns=["u", "v"]), npartitions=3)
    with pytest.raises(TooLargeError, match=r"squares overflow float64 in column 'v'"):
        wll.LogisticRegression().fit(frame, y)


def test_logistic_sample_optimum_exact_for_all_rows_switches_to_exact_hessian():
    # the row sample's optimum (the log-odds, intercept only: the column is constant)
    # has a gradient of exactly 0 on all rows: no descent direction from the sample's
    # Hessian, so the exact one is taken, which stops there
    X = np.ones((800, 1))
    y = (np.arange(800) % 16 < 8).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = wll.LogisticRegression().fit(X, y)
    np.testing.assert_array_equal(model.coef_, [[0.0]])
    np.testing.assert_array_equal(model.intercept_, [0.0])
    np.testing.assert_array_equal(model.predict_proba(X[:2]), [[0.5, 0.5], [0.5, 0.5]])


def test_logistic_tol_zero_stops_at_a_step_below_rounding():
    # tol=0: never "near"; Newton stops once a step no longer changes θ (on this data
    # before max_iter: on others tol=0 rightly runs to max_iter with a warning)
    rng = np.random.default_rng(12)
    X = rng.normal(size=(50, 2))
    z = X @ rng.normal(size=2) + rng.normal(size=50)
    y = (z > np.median(z)).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = wll.LogisticRegression(alpha=0.02, tol=0.0).fit(X, y)
    assert np.max(np.abs(_binary_gradient(model, X, y, 0.02))) < 1e-14


# Fixed; before the fix: Newton's row-sample warm start: when a column is (nearly) 0 on the
# sampled rows (|x| <= 1e-10 on every 8th row) the sample's optimum has a huge weight; Newton
# on all rows starts there, its line search fails, and fit returns coef ~2e9 (objective ~1e8,
# far above the start's log 2) with only a 'line search could not decrease'
# ConvergenceWarning; lbfgs/sklearn give 3.646
def test_logistic_row_sample_with_a_near_zero_column_still_finds_the_optimum():
    rng = np.random.default_rng(0)
    x = rng.normal(size=800)
    x[::8] *= 1e-12
    y = (x + 0.5 * rng.normal(size=800) > 0).astype(float)
    X = x[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = wll.LogisticRegression().fit(X, y)
    reference = wll.LogisticRegression(solver="lbfgs", tol=1e-10).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-5)


def test_logistic_nan_in_the_screened_sample_is_named_in_all_rows():
    # _column_rank (alpha=0, n >= 160000): the row sample's Gram matrix meets the NaN
    # first; the pass over all rows then names its row in X, not in the sample
    rng = np.random.default_rng(0)
    X = rng.normal(size=(160_000, 1))
    y = (X[:, 0] + rng.normal(size=160_000) > 0).astype(int)
    X[16, 0] = np.nan
    with pytest.raises(NonFiniteError, match=r"NaN at row 16, column 'x0'"):
        wll.LogisticRegression().fit(X, y)


# Fixed; before the fix: on many rows Newton's row sample (every 8th row) raises the
# TooLargeError for squares that overflow with the sample's own X: the message names the row
# within the sample ('1e+200 at row 2', not row 16; on 6000 rows even another value, '-2.93 at
# row 61')
def test_logistic_too_large_in_the_row_sample_names_the_row_of_x():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(800, 1))
    y = (X[:, 0] + rng.normal(size=800) > 0).astype(int)
    X[16, 0] = 1e200
    with pytest.raises(TooLargeError, match=r"1e\+200 at row 16\)"):
        wll.LogisticRegression(alpha=0.1).fit(X, y)


# Fixed; before the fix: on many rows a value whose square overflows in a row outside Newton's
# row sample is never refused (the sample's sums are checked, the full passes only for NaN and
# inf): fit returns the sample's optimum (n_iter_ 0, objective ~1e197 >> log 2, predict_proba
# of that row [0, 1] for its class 0) with a 'line search could not decrease' warning, where
# 100 rows, lbfgs and gd raise TooLargeError '(e.g. 1e+200 at row 3)'
def test_logistic_too_large_outside_the_row_sample_is_refused():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(800, 1))
    y = (X[:, 0] + rng.normal(size=800) > 0).astype(int)
    X[3, 0] = 1e200
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(TooLargeError, match=r"1e\+200 at row 3\)"):
            wll.LogisticRegression(alpha=0.1).fit(X, y)


# ===================================================================== dask_stream.py


def test_linear_model_dask_target_spread_zero_falls_back_to_std(sync):
    # more than half the targets equal the median: its absolute deviation is 0 and the
    # default step of the absolute loss takes the standard deviation, as in memory
    x = np.r_[np.zeros(8), np.arange(1.0, 7.0)]
    X, y = x[:, None], 2.0 * x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        memory = wll.LinearModel(loss="absolute", max_iter=5).fit(X, y)
        streamed = wll.LinearModel(loss="absolute", max_iter=5).fit(
            da.from_array(X, chunks=(5, 1)), y)
    np.testing.assert_allclose(streamed.coef_, memory.coef_, rtol=1e-12)
    assert streamed.intercept_ == pytest.approx(memory.intercept_, rel=1e-12)
    np.testing.assert_allclose(streamed.loss_curve_, memory.loss_curve_, rtol=1e-12)


# Fixed; before the fix: dask_stream._train calls _descend without the objective at the start
# point, so a Dask fit whose epochs only made things worse returns the last epoch (coef 0.138,
# intercept -0.276, MAE 0.763) where the in-memory fit returns the start (coef 0, intercept 0,
# MAE 0.625)
def test_linear_model_dask_keeps_the_start_when_descent_only_got_worse(sync):
    X = np.arange(8.0)[:, None]
    y = np.array([0.0] * 7 + [5.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        memory = wll.LinearModel(loss="absolute", max_iter=1).fit(X, y)
        streamed = wll.LinearModel(loss="absolute", max_iter=1).fit(
            da.from_array(X, chunks=(4, 1)), y)
    assert memory.coef_[0] == 0.0 and memory.intercept_ == 0.0
    np.testing.assert_allclose(streamed.coef_, memory.coef_, atol=1e-12)
    assert streamed.intercept_ == pytest.approx(memory.intercept_, abs=1e-12)


def test_linear_model_dask_squares_overflowing_are_named_by_column(sync):
    # _stats: the merged moments overflow although every value is finite
    X = np.random.default_rng(0).normal(size=(30, 2))
    X[12, 1] = 1e200
    with pytest.raises(TooLargeError, match=r"squares overflow float64 in column 'x1'"):
        wll.LinearModel(max_iter=5).fit(da.from_array(X, chunks=(10, 2)), np.zeros(30))


def test_linear_model_dask_without_y_is_refused(sync):
    X = da.from_array(np.zeros((4, 1)), chunks=2)
    with pytest.raises(ValueError, match="LinearModel.fit needs y"):
        wll.LinearModel().fit(X, None)


def test_exact_median_of_no_values_is_refused():
    with pytest.raises(ValueError, match="exact_median: no values"):
        exact_median([np.array([]), np.array([])])


def test_exact_median_notices_data_that_change_between_its_passes(sync):
    # the second pass finds the middle ranks outside the first pass's bracket
    calls = []

    def changing():
        calls.append(1)
        return np.arange(10.0) + (0.0 if len(calls) == 1 else 100.0)

    with pytest.raises(RuntimeError, match="did the data change between the passes"):
        exact_median([dask.delayed(changing, pure=False)()])


# ===================================================================== io.py


def _ridge_json(tmp_path):
    path = tmp_path / "m.json"
    wll.Ridge().fit([[0.0], [1.0], [2.0], [3.0]], [1.0, 2.0, 3.0, 5.0]).save(path)
    return path


def _edited(path, edit):
    header = json.loads(path.read_text())
    edit(header)
    path.write_text(json.dumps(header))
    return path


def _array(dtype, shape, data):
    return {"dtype": dtype, "shape": shape, "data": data}


JSON_TAMPERINGS = {
    "unknown dtype": (lambda h: h["arrays"]["coef_"].update(dtype="nonsense"),
                      "array 'coef_': unknown dtype 'nonsense'"),
    "int overflow": (lambda h: h["arrays"]["coef_"].update(dtype="<i8", data=[10**30]),
                     "array 'coef_': Python int too large"),
    "uint8 overflow": (lambda h: h["arrays"]["coef_"].update(dtype="|u1", data=[300]),
                       "array 'coef_': Python integer 300 out of bounds for uint8"),
    "params not an object": (lambda h: h.update(params=[1]), "'params' is not an object"),
    "regressor with classes_": (
        lambda h: h["arrays"].update(classes_=_array("<i8", [2], [0, 1])),
        "a regressor has no classes_"),
    "regressor with classes_object": (lambda h: h.update(classes_object=False),
                                      "a regressor has no classes_"),
    "2-D loss_curve_": (lambda h: h["arrays"].update(loss_curve_=_array("<f8", [1, 1], [1.0])),
                        r"loss_curve_ must be 1-D, got shape \(1, 1\)"),
    "feature names count": (
        lambda h: h["arrays"].update(feature_names_in_=_array("<U1", [2], ["a", "b"])),
        "feature_names_in_ must be 1 strings"),
    "feature names numbers": (
        lambda h: h["arrays"].update(feature_names_in_=_array("<i8", [1], [1])),
        "feature_names_in_ must be 1 strings"),
}


@pytest.mark.parametrize("name", sorted(JSON_TAMPERINGS))
def test_tampered_json_regressor_names_the_reason(tmp_path, name):
    # _json_array, _check_params, _build: each refusal names the file and its reason
    edit, reason = JSON_TAMPERINGS[name]
    path = _edited(_ridge_json(tmp_path), edit)
    with pytest.raises(ValueError, match=rf"load: .*m\.json.* is not a valid wl\.linear model "
                                         rf"file: {reason}"):
        wll.load(path)


def test_linear_model_file_with_three_classes_is_refused(tmp_path):
    # LinearModel is a binary classifier: a file giving it 3 classes is not one of its own
    path = tmp_path / "m.json"
    wll.LinearModel(loss="log", max_iter=5).fit([[0.0], [1.0], [2.0], [3.0]],
                                                [0, 0, 1, 1]).save(path)
    _edited(path, lambda h: h["arrays"].update(
        classes_=_array("<i8", [3], [0, 1, 2]), coef_=_array("<f8", [3, 1], [0.0] * 3),
        intercept_=_array("<f8", [3], [0.0] * 3)))
    with pytest.raises(ValueError, match="LinearModel is a binary classifier"):
        wll.load(path)


@pytest.mark.parametrize("flag", [1, True])
def test_bad_classes_object_flag_is_refused(tmp_path, flag):
    # classes_object must be a bool, and True only for string labels
    path = tmp_path / "m.json"
    wll.LogisticRegression(alpha=0.1).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]).save(path)
    _edited(path, lambda h: h.update(classes_object=flag))
    with pytest.raises(ValueError, match="bad classes_object flag"):
        wll.load(path)


def test_saving_a_subclass_outside_wl_linear_is_refused(tmp_path):
    # _collect: only the four classes of wl.linear are written (load could not rebuild others)
    class MyRidge(wll.Ridge):
        pass

    model = MyRidge().fit([[0.0], [1.0], [2.0]], [1.0, 2.0, 4.0])
    with pytest.raises(TypeError, match="save: MyRidge is not an estimator of wl.linear"):
        model.save(tmp_path / "m.json")


def test_missing_or_directory_npz_is_the_os_error(tmp_path):
    # _read_npz re-raises the OS's own error for a path that is not a readable file
    with pytest.raises(FileNotFoundError):
        wll.load(tmp_path / "missing.npz")
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(IsADirectoryError):
        wll.load(tmp_path / "dir.npz")


def _npz_with(tmp_path, edit):
    source = tmp_path / "source.npz"
    wll.Ridge().fit([[0.0], [1.0], [2.0], [3.0]], [1.0, 2.0, 3.0, 5.0]).save(source)
    with np.load(source) as npz:
        arrays = {key: npz[key] for key in npz.files}
    edit(arrays)
    path = tmp_path / "m.npz"
    np.savez(path, **arrays)
    return path


NPZ_TAMPERINGS = {
    "extra array": (lambda a: a.update(extra=np.ones(2)), "unexpected array 'extra'"),
    "header not a string": (lambda a: a.update(__wonderland__=np.ones(2)),
                            "the header is not a string"),
    "header not JSON": (lambda a: a.update(__wonderland__=np.array("{not json")),
                        "the header is not valid JSON"),
    "header not an object": (lambda a: a.update(__wonderland__=np.array("[1]")),
                             "the header is not a JSON object"),
    "3-D coef_": (lambda a: a.update(coef_=np.ones((1, 1, 1))),
                  r"array 'coef_' of dtype float64 and shape \(1, 1, 1\) is not allowed"),
    "complex coef_": (lambda a: a.update(coef_=np.array([1 + 2j])),
                      "array 'coef_' of dtype complex128 and shape"),
    "infinite coef_": (lambda a: a.update(coef_=np.array([np.inf])),
                       "coef_ has non-finite values"),
    "NaN coef_": (lambda a: a.update(coef_=np.array([np.nan])), "coef_ has non-finite values"),
    "text coef_": (lambda a: a.update(coef_=np.array(["x"])), "coef_ must hold numbers"),
}


@pytest.mark.parametrize("name", sorted(NPZ_TAMPERINGS))
def test_tampered_npz_names_the_reason(tmp_path, name):
    edit, reason = NPZ_TAMPERINGS[name]
    path = _npz_with(tmp_path, edit)
    with pytest.raises(ValueError, match=rf"load: .*m\.npz.* is not a valid wl\.linear model "
                                         rf"file: {reason}"):
        wll.load(path)


def test_npz_member_with_an_unknown_dtype_is_named(tmp_path):
    # _npz_member: a .npy header NumPy cannot read (not a pickle): its reason is relayed
    source = tmp_path / "source.npz"
    wll.Ridge().fit([[0.0], [1.0], [2.0]], [1.0, 2.0, 4.0]).save(source)
    with np.load(source) as npz:
        header = npz["__wonderland__"]
    meta, coef = BytesIO(), BytesIO()
    np.save(meta, header)
    np.save(coef, np.ones(1))
    path = tmp_path / "m.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("__wonderland__.npy", meta.getvalue())
        archive.writestr("coef_.npy", coef.getvalue().replace(b"'<f8'", b"'zz8'"))
    with pytest.raises(ValueError, match=r"m\.npz.*array 'coef_' cannot be read \(.*zz8"):
        wll.load(path)
