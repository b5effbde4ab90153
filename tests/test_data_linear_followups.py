"""Follow-ups on wl.data and wl.linear: mixed boolean/integer indices, empty Datasets,
values too large to square, CSV files with another separator, and what a new user
tries next (duplicate names, y of the wrong length)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import wonderland.linear as wll
from wonderland import data
from wonderland.data import Dataset


def _ds(n: int = 3) -> Dataset:
    return Dataset(np.arange(2.0 * n).reshape(n, 2), np.arange(float(n)))


# ------------------------------------------------------------ mixed boolean/int index

@pytest.mark.parametrize("index", [[True, 1], [0, False], [np.True_, 2]])
def test_a_list_mixing_booleans_and_integers_is_refused_naming_it(index):
    with pytest.raises(IndexError, match="mixes booleans and integers") as info:
        _ds()[index]
    assert repr(index[0]) in str(info.value)


def test_an_object_array_mixing_booleans_and_integers_is_refused():
    with pytest.raises(IndexError, match="mixes booleans and integers"):
        _ds()[np.array([True, 1], dtype=object)]


def test_masks_positions_slices_and_arrays_still_select_rows():
    ds = _ds()
    assert ds[[True, False, True]].y.tolist() == [0.0, 2.0]
    assert ds[[np.True_, np.False_, np.True_]].y.tolist() == [0.0, 2.0]
    assert ds[np.array([True, False, True], dtype=object)].y.tolist() == [0.0, 2.0]
    assert ds[[2, 0]].y.tolist() == [2.0, 0.0]
    assert ds[np.array([1])].y.tolist() == [1.0]
    assert ds[1:].y.tolist() == [1.0, 2.0]
    assert len(ds[[]]) == 0


def test_an_iterator_index_is_a_type_error_and_a_huge_position_is_out_of_range():
    with pytest.raises(TypeError, match="iterator"):
        _ds()[(i for i in range(2))]
    with pytest.raises(IndexError, match=f"index {2**70} is out of range for 3 rows"):
        _ds()[[2**70]]


# ---------------------------------------------------------------- 0-row Datasets

def test_an_empty_dataset_has_length_0_and_iterates_over_nothing():
    empty = _ds()[_ds().y > 10]
    assert len(empty) == 0 and empty.shape == (0, 2)
    assert list(empty) == []
    assert "0 rows" in repr(empty)


def test_batches_of_an_empty_dataset_warn_and_split_is_refused_naming_0_rows():
    empty = Dataset(np.empty((0, 2)), np.empty(0))
    with pytest.warns(UserWarning, match="0 rows; the epoch has no batches"):
        assert list(empty.batches(4)) == []
    with pytest.raises(ValueError, match="0 rows"):
        empty.split(0.5)


def test_drop_last_that_leaves_no_batch_is_refused():
    with pytest.raises(ValueError, match="batch_size=5 with drop_last=True leaves no batch "
                                         "from 3 rows"):
        _ds().batches(5, drop_last=True)
    assert [len(y) for _, y in _ds().batches(5)] == [3]


@pytest.mark.parametrize("model", [wll.LinearRegression(), wll.Ridge(),
                                   wll.LogisticRegression(), wll.LinearModel()])
def test_fitting_an_empty_dataset_names_0_samples(model):
    empty = Dataset(np.empty((0, 2)), np.empty(0))
    with pytest.raises(ValueError, match="0 sample"):
        model.fit(empty.X, empty.y)


# ------------------------------------------------------ values too large to square

BIG = np.array([[1.0, 3.0], [2.0, 1e200], [3.0, 4.0], [4.0, 2.0]])


@pytest.mark.parametrize("model", [wll.LinearRegression(), wll.Ridge(),
                                   wll.LinearModel(), wll.LinearModel(lr=0.1),
                                   wll.LogisticRegression(),
                                   wll.LogisticRegression(solver="lbfgs")])
def test_values_too_large_name_their_column_and_row(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match=r"so large .* column 'x1' \(e\.g\. 1e\+200 at "
                                             r"row 1\)"):
            model.fit(BIG, [1.0, 0.0, 1.0, 0.0])


def test_values_too_large_name_a_dataframe_column():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(BIG, columns=["age", "income"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="so large .* column 'income'"):
            wll.LinearRegression().fit(frame, [1.0, 2.0, 3.0, 4.0])


def test_newton_on_many_rows_no_longer_returns_zero_coefficients_for_huge_values():
    # the row sample's checks saw only sums; the Hessian overflowed and Newton stopped
    # at W = 0 with a ConvergenceWarning that did not say why
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5000, 2))
    X[7, 1] = 1e200
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match=r"column 'x1' \(e\.g\. 1e\+200 at row 7\)"):
            wll.LogisticRegression().fit(X, (X[:, 0] > 0).astype(float))


# ------------------------------------------------------------ CSV separator hint

def test_read_csv_of_a_semicolon_file_names_the_delimiter_argument(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("a;b;y\n1;2;3\n4;5;6\n")
    with pytest.raises(ValueError, match="separated by ';', not ',': pass delimiter=';'"):
        data.read_csv(path, "y")
    assert data.read_csv(path, "y", delimiter=";").feature_names == ["a", "b"]


def test_read_csv_of_semicolons_and_decimal_commas_names_the_delimiter(tmp_path):
    path = tmp_path / "euro.csv"
    path.write_text("a;b;y\n1,5;2;3\n4;5;6\n")
    with pytest.raises(ValueError, match="fields .* pass delimiter=';'"):
        data.read_csv(path, "y")


def test_read_table_of_a_tab_separated_file_names_the_delimiter(tmp_path):
    path = tmp_path / "data.tsv"
    path.write_text("a\tb\n1\t2\n")
    with pytest.raises(ValueError, match=r"pass delimiter='\\t'"):
        data.read_table(path)


def test_a_good_one_column_file_gets_no_hint(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("a,y\n1,x\n")
    with pytest.raises(ValueError) as info:
        data.read_csv(path, "y")
    assert "delimiter" not in str(info.value)


# ------------------------------------------------------------------ new user

def test_repeated_feature_names_are_refused_naming_both_columns():
    with pytest.raises(ValueError, match=r"'a' is used twice \(columns 0 and 2\)"):
        Dataset(np.ones((2, 3)), [1.0, 2.0], feature_names=["a", "b", "a"])


def test_a_dataframe_with_repeated_columns_is_refused():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], columns=["a", "a"])
    with pytest.raises(ValueError, match="'a' is used twice"):
        Dataset(frame, [1.0, 2.0])


@pytest.mark.parametrize("model", [wll.LinearRegression(), wll.LogisticRegression()])
def test_y_of_the_wrong_length_says_which_is_which(model):
    with pytest.raises(ValueError, match="X has 2 rows but y has 3 values"):
        model.fit([[1.0], [2.0]], [0.0, 1.0, 1.0])
