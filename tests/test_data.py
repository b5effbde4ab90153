"""wl.data: Dataset validation, batching and splitting, generators, loaders, read_csv,
shift_report."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wonderland as wl
from wonderland import data
from wonderland.data import Dataset


def _pandas():
    """pandas is a dev extra: the tests that need it skip without it."""
    return pytest.importorskip("pandas")


def _indexed(n: int, c: int = 2) -> Dataset:
    """Row i of X is (i, i + 0.5, ...) and y[i] = i: rows are recognisable."""
    X = np.arange(n, dtype=float)[:, None] + 0.5 * np.arange(c)
    return Dataset(X, np.arange(n, dtype=float))


# --------------------------------------------------------------------- Dataset basics

def test_dataset_holds_tensors_and_indexes_like_a_sequence():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    ds = Dataset(X, [10.0, 20.0, 30.0])
    assert isinstance(ds.X, wl.Tensor) and isinstance(ds.y, wl.Tensor)
    assert ds.X.shape == (3, 2) and ds.y.shape == (3,)
    assert ds.X.dtype == np.float64 and ds.y.dtype == np.float64
    assert len(ds) == 3
    assert ds.feature_names == ["x0", "x1"]
    x, y = ds[1]
    np.testing.assert_array_equal(x.numpy(), [3.0, 4.0])
    assert float(y) == 20.0
    x, y = ds[-1]
    assert float(y) == 30.0
    with pytest.raises(IndexError, match="3 rows"):
        ds[3]
    pairs = list(ds)
    assert len(pairs) == 3 and float(pairs[2][1]) == 30.0
    assert repr(ds) == "Dataset(3 rows, 2 features [x0, x1], target 'y', float64)"


def test_dataset_copies_its_input():
    X = np.ones((2, 2))
    ds = Dataset(X, np.zeros(2))
    X[0, 0] = 99.0
    assert float(ds.X[0, 0]) == 1.0


def test_slices_and_index_arrays_give_datasets_keeping_names_and_attributes():
    ds = _indexed(6)
    ds.true_coef = "kept"
    for index, expected in [(slice(1, 4), [1, 2, 3]), ([5, 0], [5, 0]),
                            (np.array([2, 2]), [2, 2]),
                            (np.array([True, False] * 3), [0, 2, 4]),
                            (wl.tensor([4, 1]), [4, 1]),
                            ([], [])]:
        sub = ds[index]
        assert isinstance(sub, Dataset)
        assert sub.y.tolist() == [float(i) for i in expected]
        assert sub.feature_names == ds.feature_names
        assert sub.true_coef == "kept"
    with pytest.raises(IndexError, match="out of range"):
        ds[[0, 6]]
    with pytest.raises(IndexError, match="mask"):
        ds[np.array([True, False])]
    with pytest.raises(TypeError):
        ds[0, 1]


def test_float32_is_kept_and_other_input_becomes_float64():
    ds = Dataset(np.ones((3, 2), dtype=np.float32), np.array([0, 1, 0]))
    assert ds.X.dtype == np.float32 and ds.y.dtype == np.float32  # int labels follow X
    ds = Dataset(np.ones((3, 2), dtype=np.int64), [True, False, True])
    assert ds.X.dtype == np.float64 and ds.y.dtype == np.float64
    ds = Dataset(wl.tensor([[1.0], [2.0]], requires_grad=True), wl.tensor([1.0, 2.0]))
    assert ds.X.dtype == np.float64 and not ds.X.requires_grad
    ds = Dataset(np.ones((2, 1)), np.ones(2), dtype="float32")
    assert ds.X.dtype == np.float32 and ds.y.dtype == np.float32
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        Dataset(np.ones((2, 1)), np.ones(2), dtype="int64")


@pytest.mark.parametrize("X, y, message", [
    (np.ones(3), np.ones(3), r"X must be 2-D .* got shape \(3,\); for one feature use "
                             r"X\.reshape\(-1, 1\)"),
    (np.ones((2, 2, 2)), np.ones(2), r"X must be 2-D .* got shape \(2, 2, 2\)"),
    (np.ones((3, 2)), np.ones((3, 1)), r"y must be 1-D .* got shape \(3, 1\); use y\.ravel"),
    (np.ones((3, 2)), np.ones(4), "X has 3 rows but y has 4 values"),
    (np.ones((3, 0)), np.ones(3), "X has no columns"),
    ([[1.0, 2.0], [3.0]], [1.0, 2.0], "X is ragged: row 1 has 1 value but row 0 has 2 values"),
    ([[1.0, 2.0], [3.0, "abc"]], [1.0, 2.0],
     r"X has a non-numeric value 'abc' at row 1, column 1\b"),
])
def test_dataset_shape_and_type_errors(X, y, message):
    with pytest.raises(ValueError, match=message):
        Dataset(X, y)


@pytest.mark.parametrize("row, col, value", [(0, 0, np.nan), (3, 1, np.inf), (4, 2, -np.inf),
                                             (2, 0, np.nan)])
def test_non_finite_X_names_the_first_bad_row_and_column(row, col, value):
    X = np.zeros((5, 3))
    X[row, col] = value
    X[4, 2] = np.nan if (row, col) != (4, 2) else value  # a later bad value is not reported
    with pytest.raises(ValueError, match=rf"at row {row}, column {col}; positions are 0-based"):
        Dataset(X, np.zeros(5))


def test_non_finite_y_names_the_row():
    y = np.zeros(6)
    y[4] = np.nan
    with pytest.raises(ValueError, match=r"y has a non-finite value \(nan\) at row 4\b"):
        Dataset(np.zeros((6, 2)), y)


def test_given_feature_names_are_checked_and_used_in_messages():
    with pytest.raises(ValueError, match="3 feature_names for the 2 columns"):
        Dataset(np.ones((2, 2)), np.ones(2), feature_names=["a", "b", "c"])
    X = np.ones((2, 2))
    X[1, 1] = np.nan
    with pytest.raises(ValueError, match=r"row 1, column 1 \('height'\)"):
        Dataset(X, np.ones(2), feature_names=["age", "height"])


def test_dataframe_input_keeps_names_and_series_name():
    pd = _pandas()
    frame = pd.DataFrame({"age": [50, 61, 47], "bmi": [22.5, 30.1, 25.0]})
    ds = Dataset(frame, pd.Series([1.0, 2.0, 3.0], name="progression"))
    assert ds.feature_names == ["age", "bmi"]
    assert ds.target_name == "progression"
    np.testing.assert_array_equal(ds.X.numpy(), frame.to_numpy(dtype=float))
    assert ds[1:].feature_names == ["age", "bmi"]


def test_dataframe_bad_cells_name_row_and_column():
    pd = _pandas()
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 2.0, np.nan]})
    with pytest.raises(ValueError, match=r"non-finite value \(nan\) at row 2, column 1 \('b'\)"):
        Dataset(frame, [0.0, 1.0, 2.0])
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "colour": ["1", "red", "3"]})
    with pytest.raises(ValueError, match=r"non-numeric value 'red' at row 1, column 1 "
                                         r"\('colour'\)"):
        Dataset(frame, [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"y must be 1-D .*DataFrame of shape \(3, 1\)"):
        Dataset(frame[["a"]], frame[["a"]])


# ----------------------------------------------------------------------- batches

@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 60), batch_size=st.integers(1, 70), shuffle=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_batches_visit_every_row_exactly_once(n, batch_size, shuffle, seed):
    ds = _indexed(n, c=3)
    batches = list(ds.batches(batch_size, shuffle=shuffle, seed=seed))
    sizes = [len(yb) for _, yb in batches]
    expected = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    assert sizes == expected
    seen = np.concatenate([yb.numpy() for _, yb in batches]) if batches else np.array([])
    assert sorted(seen.tolist()) == list(map(float, range(n)))
    for Xb, yb in batches:  # rows stay paired with their targets
        assert Xb.shape == (len(yb), 3)
        np.testing.assert_array_equal(Xb.numpy()[:, 0], yb.numpy())
    if not shuffle:
        assert seen.tolist() == list(map(float, range(n)))


def test_seeded_batches_are_reproducible_and_seeds_differ():
    ds = _indexed(50)

    def order(**kw):
        return np.concatenate([yb.numpy() for _, yb in ds.batches(7, **kw)]).tolist()

    assert order(seed=3) == order(seed=3)
    assert order(seed=3) != order(seed=4)
    assert order(seed=3) != list(map(float, range(50)))  # it did shuffle
    wl.manual_seed(11)
    first = order()
    wl.manual_seed(11)
    assert order() == first  # seed=None follows wl.manual_seed
    assert order() != first  # and the next epoch is another order


def test_drop_last():
    sizes = [len(yb) for _, yb in _indexed(10).batches(4, drop_last=True)]
    assert sizes == [4, 4]


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-2, ValueError), (2.5, TypeError),
                                        ("8", TypeError), (True, TypeError), (None, TypeError)])
def test_bad_batch_size_is_a_clear_error_at_the_call(bad, error):
    with pytest.raises(error, match="batch_size"):
        _indexed(5).batches(bad)  # raised before the first batch is asked for


# -------------------------------------------------------------------------- split

@pytest.mark.parametrize("test_size, n_test", [(0.25, 25), (0.3, 30), (0.001, 1), (10, 10),
                                               (99, 99), (np.int64(5), 5)])
def test_split_is_disjoint_and_covers_every_row(test_size, n_test):
    ds = _indexed(100)
    train, test = ds.split(test_size, seed=0)
    assert isinstance(train, Dataset) and isinstance(test, Dataset)
    assert len(test) == n_test and len(train) == 100 - n_test
    train_rows, test_rows = set(train.y.tolist()), set(test.y.tolist())
    assert not train_rows & test_rows
    assert train_rows | test_rows == set(map(float, range(100)))
    np.testing.assert_array_equal(train.X.numpy()[:, 0], train.y.numpy())


def test_split_seeded_reproducible_and_unshuffled_takes_the_last_rows():
    ds = _indexed(20)
    a, b = ds.split(0.5, seed=1), ds.split(0.5, seed=1)
    assert a[1].y.tolist() == b[1].y.tolist()
    assert ds.split(0.5, seed=2)[1].y.tolist() != a[1].y.tolist()
    train, test = ds.split(3, shuffle=False)
    assert test.y.tolist() == [17.0, 18.0, 19.0]
    assert train.y.tolist() == list(map(float, range(17)))


@pytest.mark.parametrize("bad, error", [(0.0, ValueError), (1.0, ValueError), (-0.1, ValueError),
                                        (1.5, ValueError), (0, ValueError), (10, ValueError),
                                        (True, TypeError), ("0.2", TypeError),
                                        (0.999, ValueError)])
def test_bad_test_size_is_a_clear_error(bad, error):
    with pytest.raises(error, match="test_size"):
        _indexed(10).split(bad)


def test_split_needs_two_rows():
    with pytest.raises(ValueError, match="1 row cannot be split"):
        _indexed(1).split(0.5)


# --------------------------------------------------------------------- generators

def test_make_linear_shapes_and_reproducibility():
    ds = data.make_linear(100, 4, seed=0)
    assert ds.X.shape == (100, 4) and ds.y.shape == (100,) and ds.true_coef.shape == (4,)
    again = data.make_linear(100, 4, seed=0)
    np.testing.assert_array_equal(ds.X.numpy(), again.X.numpy())
    np.testing.assert_array_equal(ds.y.numpy(), again.y.numpy())
    other = data.make_linear(100, 4, seed=1)
    assert not np.array_equal(ds.true_coef.numpy(), other.true_coef.numpy())


@pytest.mark.parametrize("noise", [0.0, 0.01, 0.25])
def test_make_linear_least_squares_recovers_w(noise):
    n, c = 2000, 5
    ds = data.make_linear(n, c, noise=noise, seed=42)
    X, y = ds.numpy()
    w = ds.true_coef.numpy()
    w_hat = np.linalg.lstsq(X, y, rcond=None)[0]
    # the estimate's standard deviation is about sqrt(noise / n) per coefficient
    tolerance = 6 * np.sqrt(noise / n) + 1e-10
    np.testing.assert_allclose(w_hat, w, atol=tolerance)


def test_make_linear_noise_is_the_variance():
    ds = data.make_linear(20000, 3, noise=0.25, seed=7)
    X, y = ds.numpy()
    residual = y - X @ ds.true_coef.numpy()
    assert ds.noise == 0.25
    assert abs(residual.var() - 0.25) < 0.02  # a standard deviation of 0.5, not 0.25
    assert abs(residual.mean()) < 0.02


def test_make_linear_intercept_and_errors():
    ds = data.make_linear(5000, 2, noise=0.01, seed=0, intercept=3.0)
    X, y = ds.numpy()
    assert ds.true_intercept == 3.0
    assert abs((y - X @ ds.true_coef.numpy()).mean() - 3.0) < 0.01
    with pytest.raises(ValueError, match="noise"):
        data.make_linear(10, 2, noise=-1.0)
    with pytest.raises(ValueError, match="n must be at least 1"):
        data.make_linear(0, 2)
    with pytest.raises(TypeError, match="c must be a whole number"):
        data.make_linear(10, 2.5)
    with pytest.raises(ValueError, match="seed must be non-negative"):
        data.make_linear(10, 2, seed=-1)


def test_generators_follow_manual_seed_when_seed_is_none():
    wl.manual_seed(5)
    a = data.make_linear(10, 2).y.numpy()
    wl.manual_seed(5)
    b = data.make_linear(10, 2).y.numpy()
    np.testing.assert_array_equal(a, b)


def test_make_collinear_columns_are_collinear():
    ds = data.make_collinear(200, 4, seed=0)
    X = ds.X.numpy()
    assert ds.collinear == (0, 1)
    np.testing.assert_array_equal(X[:, 0], X[:, 1])
    assert np.linalg.matrix_rank(X) == 3
    assert np.linalg.matrix_rank(np.delete(X, 1, axis=1)) == 3  # the others are not collinear
    ds = data.make_collinear(200, 3, seed=0, pair=(2, 0), jitter=1e-3)
    X = ds.X.numpy()
    assert not np.array_equal(X[:, 0], X[:, 2])
    assert np.corrcoef(X[:, 0], X[:, 2])[0, 1] > 0.9999
    assert np.linalg.cond(X) > 100 * np.linalg.cond(X[:, :2])
    with pytest.raises(ValueError, match="two different"):
        data.make_collinear(10, 3, pair=(1, 1))
    with pytest.raises(ValueError, match="positions from 0 to 2"):
        data.make_collinear(10, 3, pair=(0, 3))


def test_make_collinear_targets_follow_the_model():
    ds = data.make_collinear(500, 3, noise=0.0, seed=1)
    X, y = ds.numpy()
    np.testing.assert_allclose(y, X @ ds.true_coef.numpy(), atol=1e-12)


def test_make_classification_is_binary_and_reproducible():
    ds = data.make_classification(300, 5, seed=0)
    assert ds.X.shape == (300, 5)
    assert set(ds.y.tolist()) == {0.0, 1.0}
    assert 100 < ds.y.numpy().sum() < 200  # balanced by default
    again = data.make_classification(300, 5, seed=0)
    np.testing.assert_array_equal(ds.X.numpy(), again.X.numpy())
    easy = data.make_classification(400, 2, seed=1, class_sep=3.0)
    X, y = easy.numpy()
    from sklearn.linear_model import LogisticRegression

    assert LogisticRegression().fit(X, y).score(X, y) > 0.95
    one = data.make_classification(50, 1, seed=0)
    assert one.X.shape == (50, 1)
    with pytest.raises(ValueError, match="n_informative"):
        data.make_classification(50, 2, n_informative=3)


# ------------------------------------------------------------------------ loaders

def test_load_diabetes():
    ds = data.load_diabetes()
    assert ds.X.shape == (442, 10) and ds.y.shape == (442,)
    assert "bmi" in ds.feature_names and ds.feature_names[2] == "bmi"
    assert ds.target_name and ds.description
    X = ds.X.numpy()
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-10)  # scikit-learn's scaling
    np.testing.assert_allclose(np.linalg.norm(X, axis=0), 1.0, rtol=1e-6)
    raw = data.load_diabetes(scaled=False)
    bmi = raw.X.numpy()[:, 2]
    assert 15 < bmi.min() and bmi.max() < 50  # kg/m²
    np.testing.assert_array_equal(raw.y.numpy(), ds.y.numpy())  # the target is not scaled


def test_load_breast_cancer():
    ds = data.load_breast_cancer()
    assert ds.X.shape == (569, 30) and ds.y.shape == (569,)
    assert len(ds.feature_names) == 30 and ds.feature_names[0] == "mean radius"
    assert set(ds.y.tolist()) == {0.0, 1.0}
    assert ds.class_names == ("malignant", "benign")
    assert ds.X.numpy().max() > 1000  # raw scales (worst area)
    assert ds.target_name and ds.description


# ----------------------------------------------------------------------- read_csv

def _write(tmp_path, text: str, name: str = "data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_csv_reads_names_and_values(tmp_path):
    path = _write(tmp_path, "age,y,bmi\n50,1.5,22.5\n61,2.0,30.1\n\n47,-3e-1,25\n")
    ds = data.read_csv(path, target="y")
    assert ds.feature_names == ["age", "bmi"]
    assert ds.target_name == "y"
    np.testing.assert_array_equal(ds.X.numpy(), [[50, 22.5], [61, 30.1], [47, 25]])
    np.testing.assert_array_equal(ds.y.numpy(), [1.5, 2.0, -0.3])
    assert data.read_csv(str(path), "age").feature_names == ["y", "bmi"]


def test_read_csv_quotes_bom_crlf_and_delimiter(tmp_path):
    path = tmp_path / "q.csv"
    path.write_bytes(b'\xef\xbb\xbf"mean radius";target\r\n" 1.5 ";0\r\n2;1\r\n')
    ds = data.read_csv(path, "target", delimiter=";")
    assert ds.feature_names == ["mean radius"]
    np.testing.assert_array_equal(ds.X.numpy()[:, 0], [1.5, 2.0])


def test_read_csv_round_trips_pandas_to_csv(tmp_path):
    pd = _pandas()
    frame = pd.DataFrame({"a": [1.0, 2.5], "b": [3, 4], "t": [0.5, 0.25]})
    frame.to_csv(tmp_path / "f.csv", index=False)
    ds = data.read_csv(tmp_path / "f.csv", "t")
    np.testing.assert_array_equal(ds.X.numpy(), frame[["a", "b"]].to_numpy(dtype=float))


def test_read_csv_missing_file_names_the_path(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match=re.escape(repr(str(missing)))):
        data.read_csv(missing, "y")


@pytest.mark.parametrize("text, message", [
    ("", "is empty"),
    ("\n\n", "is empty"),
    ("a,b,y\n", "has a header but no data rows"),
    ("a,b\n1,2\n", r"no column 'y' in .*; the columns are: a, b"),
    ("a,b,y\n1,2,3\n4,5\n", r"row 1 \(line 3 of the file\) .* has 2 fields but the header has 3"),
    ("a,b,y\n1,2,3\n4,5,6,7\n", r"row 1 \(line 3 of the file\) .* has 4 fields"),
    ("a,b,y\n1,2,3\n4,5,6\n\n7,,9\n",
     r"empty cell at row 2 \(line 5 of the file\), column 1 \('b'\).*0-based data rows"),
    ("a,b,y\n1,2,3\n4,five,6\n",
     r"non-numeric value 'five' at row 1 \(line 3 of the file\), column 1 \('b'\)"),
    ("a,b,y\n1,2,3\n4,5,nan\n",
     r"non-finite value 'nan' at row 1 \(line 3 of the file\), column 2 \('y'\)"),
    ("a,a,y\n1,2,3\n", "names column 'a' twice"),
    (",a,y\n0,1,2\n", "column 0 of the header .* has no name"),
    ("y\n1\n2\n", "there are no features"),
])
def test_read_csv_bad_input_is_one_clear_line(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as info:
        data.read_csv(path, "y")
    assert "\n" not in str(info.value)


def test_read_csv_names_a_trailing_comma_in_the_header(tmp_path):
    # the empty last name is a delimiter at the end of the line, not a saved index
    path = _write(tmp_path, "a,b,y,\n1,2,3,\n4,5,6,\n")
    with pytest.raises(ValueError, match=r"column 3 of the header \(line 1 of .*\) has no "
                                         r"name: an empty name after a trailing ','") as info:
        data.read_csv(path, "y")
    assert "index" not in str(info.value)
    path = _write(tmp_path, "a;;y\n1;2;3\n", "middle.csv")
    with pytest.raises(ValueError, match=r"column 1 of the header .* has no name$"):
        data.read_csv(path, "y", delimiter=";")


def test_read_csv_refuses_underscores_in_numbers(tmp_path):
    # float() reads "1_000" as 1000; no CSV reader does
    path = _write(tmp_path, "a,b,y\n1,2,3\n4,1_000,6\n")
    with pytest.raises(ValueError, match=r"read_csv: non-numeric value '1_000' at row 1 "
                                         r"\(line 3 of the file\), column 1 \('b'\)"):
        data.read_csv(path, "y")
    with pytest.raises(ValueError, match=r"read_table: non-numeric value '1_000' at row 1"):
        data.read_table(path)


def test_read_csv_float32_overflow_names_the_cell_without_a_warning(tmp_path):
    path = _write(tmp_path, "a,y\n1,2\n1e39,3\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "overflow encountered in cast"
        with pytest.raises(ValueError, match=r"read_csv: value '1e39' overflows float32 "
                                             r"\(largest 3\.4028235e\+38; .*\) at row 1 "
                                             r"\(line 3 of the file\), column 0 \('a'\)"):
            data.read_csv(path, "y", dtype="float32")
        ds = data.read_csv(path, "y", dtype="float64")
        assert ds.X.numpy()[1, 0] == 1e39
        # the largest float32 and a value that rounds to it are not overflows
        path = _write(tmp_path, "a,y\n3.4028235e38,2\n-3.40282356e38,3\n", "edge.csv")
        ds = data.read_csv(path, "y", dtype="float32")
    assert ds.X.numpy().dtype == np.float32
    assert np.all(np.isfinite(ds.X.numpy()))


def test_read_csv_reports_the_first_bad_cell(tmp_path):
    path = _write(tmp_path, "a,b,y\n1,2,3\n4,x,6\n,8,9\n")
    with pytest.raises(ValueError, match=r"'x' at row 1 \(line 3"):
        data.read_csv(path, "y")


def test_read_csv_works_without_pandas(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)  # "import pandas" now fails
    path = _write(tmp_path, "a,y\n1,2\n3,4\n")
    ds = data.read_csv(path, "y")
    assert ds.X.shape == (2, 1)
    report = data.shift_report(np.zeros((5, 1)), np.ones((5, 1)))
    with pytest.raises(ImportError, match="needs pandas"):
        report.to_frame()


# -------------------------------------------------------------------- shift_report

def test_shift_report_flags_the_shifted_feature_only():
    rng = np.random.default_rng(0)
    X_ref = rng.normal(size=(600, 5))
    X_new = rng.normal(size=(500, 5))
    X_new[:, 1] += 0.6  # location shift
    X_new[:, 3] *= 2.0  # scale shift
    # BH at alpha lets a null feature through with probability about alpha once the true
    # shifts are found; a small alpha keeps the check about the shifts (p-values ~1e-20)
    report = data.shift_report(X_ref, X_new, alpha=0.001)
    assert report.shifted == [1, 3]
    assert report.statistic.shape == report.pvalue.shape == (5,)
    assert report.pvalue_adjusted.shape == (5,)
    assert np.all(report.pvalue_adjusted >= report.pvalue)
    assert report.pvalue[1] < 1e-6 and report.pvalue[3] < 1e-6
    assert report.statistic[1] > report.statistic[0]


def test_shift_report_matches_scipy():
    from scipy import stats

    rng = np.random.default_rng(1)
    X_ref, X_new = rng.normal(size=(80, 3)), rng.normal(size=(70, 3)) + 0.3
    report = data.shift_report(X_ref, X_new, alpha=0.1)
    for j in range(3):
        expected = stats.ks_2samp(X_ref[:, j], X_new[:, j])
        assert report.statistic[j] == pytest.approx(expected.statistic)
        assert report.pvalue[j] == pytest.approx(expected.pvalue)
    np.testing.assert_allclose(report.pvalue_adjusted,
                               stats.false_discovery_control(report.pvalue))
    assert report.alpha == 0.1


def test_shift_report_finds_nothing_in_samples_of_one_distribution():
    rng = np.random.default_rng(2)
    report = data.shift_report(rng.normal(size=(400, 8)), rng.normal(size=(400, 8)))
    assert report.shifted == []
    assert "0 of 8 features shifted" in str(report)


def test_shift_report_table_and_frame():
    rng = np.random.default_rng(3)
    X_new = rng.normal(size=(300, 2))
    X_new[:, 0] += 1.0
    report = data.shift_report(rng.normal(size=(300, 2)), X_new, alpha=0.001)
    text = repr(report)
    assert text == str(report)
    lines = text.splitlines()
    assert "1 of 2 features shifted" in lines[0]
    assert lines[1].split() == ["feature", "statistic", "pvalue", "adjusted", "shifted"]
    assert lines[2].startswith("x0") and lines[2].endswith("yes")
    assert lines[3].startswith("x1") and not lines[3].endswith("yes")
    _pandas()
    frame = report.to_frame()
    assert list(frame.columns) == ["feature", "statistic", "pvalue", "pvalue_adjusted",
                                   "shifted"]
    assert frame["feature"].tolist() == [0, 1]
    assert frame["shifted"].tolist() == [True, False]
    np.testing.assert_array_equal(frame["pvalue"].to_numpy(), report.pvalue)


def test_shift_report_dataframe_gives_names():
    pd = _pandas()
    rng = np.random.default_rng(4)
    ref = pd.DataFrame(rng.normal(size=(300, 3)), columns=["age", "bmi", "bp"])
    new = pd.DataFrame(rng.normal(size=(300, 3)), columns=["age", "bmi", "bp"])
    new["bmi"] += 1.0
    report = data.shift_report(ref, new, alpha=0.001)
    assert report.shifted == ["bmi"]
    assert report.to_frame()["feature"].tolist() == ["age", "bmi", "bp"]
    assert "bmi" in str(report)
    renamed = new.rename(columns={"bp": "pressure"})
    with pytest.raises(ValueError, match="column 2 is 'bp' in X_ref but 'pressure' in X_new"):
        data.shift_report(ref, renamed)


def test_shift_report_accepts_datasets_and_tensors():
    ds = data.load_diabetes()
    report = data.shift_report(ds[:200], ds[200:])
    assert report.features == ds.feature_names
    report = data.shift_report(ds.X[:200], wl.tensor(ds.X.numpy()[200:]))
    assert report.features == list(range(10))


@pytest.mark.parametrize("ref, new, message", [
    (np.zeros((10, 3)), np.zeros((10, 2)),
     r"X_ref has shape \(10, 3\) and X_new has shape \(10, 2\)"),
    (np.zeros(10), np.zeros((10, 1)), r"X_ref must be 2-D .* got shape \(10,\)"),
    (np.zeros((10, 2)), np.zeros((1, 2)), "X_new has 1 row .* at least 2 rows"),
    (np.zeros((10, 2)), np.array([[0.0, 1.0], [np.nan, 0.0]]),
     r"X_new has a non-finite value \(nan\) at row 1, column 0"),
])
def test_shift_report_validates_input(ref, new, message):
    with pytest.raises(ValueError, match=message):
        data.shift_report(ref, new)


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.5, float("nan"), "0.05"])
def test_shift_report_alpha_must_be_a_rate(alpha):
    with pytest.raises(ValueError, match="alpha"):
        data.shift_report(np.zeros((5, 1)), np.zeros((5, 1)), alpha=alpha)


def test_public_names():
    for name in ["Dataset", "make_linear", "make_collinear", "make_classification",
                 "load_diabetes", "load_breast_cancer", "read_csv", "shift_report"]:
        assert hasattr(data, name)
        assert getattr(data, name).__doc__
    import wonderland.data as module

    assert module is data


# ----------------------------------------------------------------------- read_table


def _table_file(tmp_path, text):
    path = tmp_path / "table.csv"
    path.write_text(text)
    return path


def test_read_table_reads_the_columns_asked_in_that_order_and_ignores_the_rest(tmp_path):
    path = _table_file(tmp_path, "a,target,b\n1,,2\n3,oops,4\n")
    names, values = data.read_table(path, ["b", "a"])
    assert names == ["b", "a"]
    np.testing.assert_array_equal(values, [[2.0, 1.0], [4.0, 3.0]])
    names, values = data.read_table(_table_file(tmp_path, "a,b\n1,2\n"))
    assert names == ["a", "b"] and values.shape == (1, 2)


def test_read_table_names_a_missing_column_and_the_columns_there_are(tmp_path):
    path = _table_file(tmp_path, "a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"no column 'c'.*the columns are: a, b"):
        data.read_table(path, ["a", "c"])


def test_read_table_names_a_bad_cell_by_its_row_and_file_column(tmp_path):
    path = _table_file(tmp_path, "a,b,c\n1,2,3\n4,5,x\n")
    with pytest.raises(ValueError, match=r"read_table: non-numeric value 'x' at row 1 \(line 3"
                       r" of the file\), column 2 \('c'\)"):
        data.read_table(path, ["c", "a"])


def test_read_table_refuses_a_bare_string_for_columns(tmp_path):
    """Its letters were taken for column names: "ab" read columns a and b, not ab."""
    path = tmp_path / "f.csv"
    path.write_text("ab,a,b\n1,2,3\n")
    with pytest.raises(TypeError, match=r"columns must be a list .* for one column write "
                                        r"\['ab'\]"):
        wl.data.read_table(path, "ab")
    assert wl.data.read_table(path, ["ab"])[0] == ["ab"]


@pytest.mark.parametrize("where", ["X", "y"])
def test_a_value_too_large_for_float32_is_named_as_an_overflow(where):
    # Dataset(..., dtype="float32") on 1e40 warned "overflow encountered in cast" and then
    # blamed the data: "X has a non-finite value (inf)", a value the data do not hold
    X = np.array([[1.0, 2.0], [3.0, 1e40 if where == "X" else 4.0]])
    y = [1.0, 1e40 if where == "y" else 2.0]
    at = "row 1, column 1" if where == "X" else "row 1"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from the cast either
        with pytest.raises(ValueError, match=rf"{where} has a value 1e\+40 at {at} that "
                                             rf"overflows float32"):
            Dataset(X, y, dtype="float32")


@pytest.mark.parametrize("delimiter", [";;", "", None, 5])
@pytest.mark.parametrize("reader", ["read_csv", "read_table"])
def test_a_bad_delimiter_is_named_by_the_reader(tmp_path, delimiter, reader):
    # it was the csv module's bare '"delimiter" must be a 1-character string'
    path = tmp_path / "tiny.csv"
    path.write_text("a,y\n1,2\n")
    read = getattr(data, reader)
    args = (path, "y") if reader == "read_csv" else (path,)
    with pytest.raises(TypeError, match=rf"^{reader}: delimiter must be one character"):
        read(*args, delimiter=delimiter)
