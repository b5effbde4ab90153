"""A new user's checks of ``wl.data`` and the Dask fits: splits that count rows
exactly, columns that are not real numbers refused, and errors that name the first bad
row whatever order the blocks ran in."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from wonderland import data, linear

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")


@pytest.fixture(autouse=True)
def _sync_scheduler():
    with dask.config.set(scheduler="sync"):
        yield


# ------------------------------------------------------------------ Dataset.split


def test_split_fraction_counts_rows_exactly():
    ds = data.make_linear(100, 2, seed=0)
    # 0.07 * 100 is 7.000000000000001 in floats: scikit-learn's ceil gives 8
    assert [len(part) for part in ds.split(0.07, seed=0)] == [93, 7]
    assert [len(part) for part in ds.split(np.float32(0.3), seed=0)] == [70, 30]


@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 400), percent=st.integers(1, 99))
@example(n=100, percent=7).via("0.07 * 100 == 7.000000000000001")
@example(n=25, percent=28).via("0.28 * 25 == 7.000000000000001")
@example(n=75, percent=68)
def test_split_fraction_is_the_ceiling_of_the_exact_share(n, percent):
    n_test = -(-percent * n // 100)  # ceil(percent * n / 100) in integers
    ds = data.Dataset(np.arange(n, dtype=float)[:, None], np.arange(n, dtype=float))
    if n_test >= n:
        with pytest.raises(ValueError, match="leaves no training rows"):
            ds.split(percent / 100, seed=0)
        return
    train, test = ds.split(percent / 100, seed=0)
    assert (len(train), len(test)) == (n - n_test, n_test)
    rows = np.sort(np.concatenate([train.y.numpy(), test.y.numpy()]))
    np.testing.assert_array_equal(rows, np.arange(n))


# ------------------------------------------------------------------ not real numbers


@pytest.mark.parametrize("column, kind", [
    (pd.date_range("2020-01-01", periods=4), "datetime64"),
    (pd.date_range("2020-01-01", periods=4, tz="UTC"), "datetime64"),
    (pd.to_timedelta(np.arange(4), unit="s"), "timedelta64"),
    (np.arange(4) + 1j, "complex128"),
])
def test_dataset_refuses_dates_durations_and_complex_columns(column, kind):
    frame = pd.DataFrame({"a": np.arange(4.0), "when": column})
    with pytest.raises(ValueError, match=rf"X column 1 \('when'\) must hold real numbers, "
                                         rf"got dtype {kind}"):
        data.Dataset(frame, np.arange(4.0))
    with pytest.raises(ValueError, match=rf"y must hold real numbers, got dtype {kind}"):
        data.Dataset(frame[["a"]], pd.Series(column))
    with pytest.raises(ValueError, match="X_new column 1"):
        data.shift_report(frame[["a", "a"]].set_axis(["a", "when"], axis=1), frame)


def _xy(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 3.0]) + 1.0


@pytest.mark.parametrize("make", [linear.LinearRegression, linear.Ridge,
                                  lambda: linear.LinearModel(max_iter=3)])
def test_dask_refuses_complex_and_date_columns_before_computing(make):
    X, y = _xy()
    with pytest.raises(ValueError, match=r"X holds complex numbers \(dtype complex128\)"):
        make().fit(da.from_array(X + 1j, chunks=(10, 3)), y)
    with pytest.raises(ValueError, match=r"y holds complex numbers"):
        make().fit(da.from_array(X, chunks=(10, 3)), y + 1j)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["when"] = pd.date_range("2020-01-01", periods=len(y))
    with pytest.raises(ValueError, match=r"X column 'when' holds dates \(datetime64\)"):
        make().fit(dd.from_pandas(frame, npartitions=4), y)


def test_dask_predict_refuses_a_date_column():
    X, y = _xy()
    model = linear.LinearRegression().fit(X, y)
    dates = da.from_array(np.arange(120).reshape(40, 3).astype("datetime64[D]"), chunks=10)
    with pytest.raises(ValueError, match=r"X holds dates"):
        model.predict(dates)


@pytest.mark.parametrize("make", [linear.LinearRegression, linear.Ridge,
                                  lambda: linear.LinearModel(max_iter=3)])
def test_dask_non_numeric_regression_target_names_block_and_row(make):
    X, y = _xy()
    target = y.astype(object)
    target[33] = "n/a"
    with pytest.raises(ValueError, match=r"Input y has a non-numeric value 'n/a' in block "
                                         r"\(partition\) 3 \(row 33\)"):
        make().fit(da.from_array(X, chunks=(10, 3)), target)


# ------------------------------------------------------------------ the first bad row


def _frame_with(column: str, first: float | str, second: float | str) -> pd.DataFrame:
    X, y = _xy(120)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(t=y)
    if isinstance(first, str):
        frame[column] = frame[column].astype(object)
    frame.loc[37, column] = first
    frame.loc[95, column] = second
    return frame


ESTIMATORS = [
    ("regression", linear.LinearRegression),
    ("classifier", lambda: linear.LogisticRegression(alpha=1e-2)),
    ("regression", lambda: linear.LinearModel(max_iter=2)),
    ("regression", lambda: linear.LinearModel(max_iter=2, batch_size=8, random_state=0)),
    ("classifier", lambda: linear.LinearModel(loss="log", max_iter=2)),
]


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("task, make", ESTIMATORS)
@pytest.mark.parametrize("column, first, second, message", [
    ("a", np.inf, np.nan, r"Input X contains infinity: block \(partition\) 1, column 'a' "
                          r"\(row 37\)"),
    ("c", "oops", "later", r"X has a non-numeric value 'oops' in block \(partition\) 1, "
                           r"column 'c' \(row 37\)"),
])
def test_dask_error_names_the_first_bad_row_in_row_order(scheduler, task, make, column,
                                                         first, second, message):
    ddf = dd.from_pandas(_frame_with(column, first, second), npartitions=4)
    y = ddf["t"] if task == "regression" else ddf["t"] > 0
    with dask.config.set(scheduler=scheduler), pytest.raises(ValueError, match=message):
        make().fit(ddf[["a", "b", "c"]], y)


@pytest.mark.parametrize("task, make", ESTIMATORS)
def test_dask_nan_target_names_the_first_bad_row(task, make):
    frame = _frame_with("t", np.nan, np.nan)
    ddf = dd.from_pandas(frame, npartitions=4)
    y = ddf["t"] if task == "regression" else ddf["t"].where(ddf["t"].isna(), ddf["t"] > 0)
    with pytest.raises(ValueError, match=r"block \(partition\) 1 \(row 37\)"):
        make().fit(ddf[["a", "b", "c"]], y)


def test_dask_non_numeric_value_is_the_first_in_row_order_within_a_block():
    X, y = _xy()
    cells = X.astype(object)
    cells[5, 0] = "late"   # a later row, an earlier column
    cells[2, 2] = "early"
    with pytest.raises(ValueError, match=r"'early' in block \(partition\) 0, column 'x2' "
                                         r"\(row 2\)"):
        linear.Ridge().fit(da.from_array(cells, chunks=(10, 3)), y)


def test_dask_fit_still_matches_memory_after_the_checks():
    X, y = _xy(103)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no stray warning either
        lazy = linear.Ridge(alpha=0.5).fit(da.from_array(X, chunks=((50, 3, 0, 50), 3)), y)
    eager = linear.Ridge(alpha=0.5).fit(X, y)
    np.testing.assert_allclose(lazy.coef_, eager.coef_, rtol=1e-10)
    assert math.isclose(lazy.intercept_, eager.intercept_, rel_tol=1e-10)
