"""Claims of README.md lines 601 to the end, each pinned as the README writes it.

The README's code blocks run in ``tests/test_readme.py``; these tests check the sentences
around them: stated errors, exit statuses, dtypes, edge cases and names. Where a claim was
false, the code was fixed or the README corrected; a comment "Fixed; before the fix:"
says what happened.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

import wonderland as wl
from cli_helpers import run_wonderland, write_csv
from wonderland import data, linear, losses, plot

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _one_line_error(done: subprocess.CompletedProcess, command: str) -> str:
    """The stderr of a command refused with status 2 in one line, checked as such."""
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"wonderland {command}: error: ")
    return lines[0]


@pytest.fixture
def prices(tmp_path: Path) -> Path:
    """A small regression CSV: price = 3 + rooms - 0.02 age plus noise."""
    rng = np.random.default_rng(0)
    rooms, age = rng.uniform(0, 5, 40), rng.uniform(0, 50, 40)
    price = 3 + rooms - 0.02 * age + rng.normal(0, 0.1, 40)
    return write_csv(tmp_path / "prices.csv", ["rooms", "age", "price"],
                     zip(rooms, age, price))


# =========================================================================== false claims

# README lines 634 and 640-641: values "equal to `torch.nn.functional`'s" and "the two
# differ only for probabilities within `eps` (2.2e-16) of 0 or 1".
# Fixed; before the fix: README lines 634/640-641 say binary_cross_entropy's values equal
# PyTorch's except within eps of 0 or 1; actually log(1 - p) loses digits for small p with y = 0:
# at p = 1e-10 the value is 1.0000000828e-10 where PyTorch (and -log1p(-p)) give 1.00000000005e-10
# (relative error 8e-8; 2e-5 at p = 1e-12)
def test_binary_cross_entropy_value_equals_torch_away_from_the_clip() -> None:
    p = np.array([1e-12, 1e-10, 1e-8])
    ours = losses.binary_cross_entropy(wl.tensor(p), wl.zeros(3), reduction="none").numpy()
    theirs = F.binary_cross_entropy(torch.tensor(p), torch.zeros(3, dtype=torch.float64),
                                    reduction="none").numpy()
    assert ours == pytest.approx(theirs, rel=1e-12, abs=0)


# README lines 715-717: "Gradient descent on an intercept-only problem (a constant or
# all-zero `X`) stops with the exact answer and no warning: at once in LinearRegression and
# LogisticRegression, after the ten flat epochs that LinearModel waits for".
# Fixed; before the fix: LinearModel(optimizer='gd') on an all-zero X ran all max_iter=500
# epochs at a constant objective and warned 'reached max_iter=500 epochs before the
# objective stopped improving' (the README said it stopped at once)
def test_linear_model_gradient_descent_on_intercept_only_stops_with_no_warning() -> None:
    y = np.random.default_rng(0).normal(size=20)
    for X in (np.zeros((20, 2)), np.full((20, 2), 5.0)):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            model = linear.LinearModel(optimizer="gd").fit(X, y)
        assert model.n_iter_ <= 11
        assert model.intercept_ == pytest.approx(y.mean(), rel=1e-12, abs=0)


# README lines 743-744 (Dask): "Complex, date and duration columns are refused from the
# metadata, before anything is computed."
# Fixed; before the fix: README lines 743-744 say complex/date/duration Dask columns are refused
# from the metadata before anything is computed; actually dask_rows() calls
# to_dask_array(lengths=True) first, which computes every partition of a Dask DataFrame X (a pass
# over the data) before refuse_non_real() raises
def test_dask_dataframe_date_column_refused_before_any_partition_is_computed() -> None:
    dd = pytest.importorskip("dask.dataframe")
    dask = pytest.importorskip("dask")
    frame = pd.DataFrame({"a": np.arange(40.0),
                          "when": pd.to_datetime(np.arange(40), unit="D")})
    computed: list[int] = []

    def spy(part: pd.DataFrame) -> pd.DataFrame:
        if len(part):
            computed.append(len(part))
        return part

    X = dd.from_pandas(frame, npartitions=4).map_partitions(spy, meta=frame.iloc[:0])
    y = dd.from_pandas(pd.Series(np.arange(40.0)), npartitions=4)
    computed.clear()
    with dask.config.set(scheduler="synchronous"):
        with pytest.raises(ValueError, match="'when'"):
            linear.Ridge().fit(X, y)
    assert computed == []


# README lines 957-959: "a mistyped command, option or choice gets the closest name:
# `wonderland practice --step 5` says `(did you mean '--steps'?)`".
# Fixed; before the fix: README lines 958-959 say a mistyped option gets the closest name;
# actually a mistyped required option (`fit --targt price`) says only 'the following arguments are
# required: --target', without '(did you mean '--target'?)' nor the typed name
def test_mistyped_required_option_gets_the_closest_name(prices: Path) -> None:
    done = run_wonderland("fit", prices.name, "--targt", "price", "--model", "ridge",
                          cwd=prices.parent)
    line = _one_line_error(done, "fit")
    assert "did you mean '--target'?" in line


# =========================================================================== wl.losses

# README lines 637-638: backpropagating through `zero_one` "is a `RuntimeError` that
# names it and suggests `hinge`".
def test_zero_one_backward_is_a_runtime_error_naming_it_and_suggesting_hinge() -> None:
    scores = wl.tensor([0.5, -1.0], requires_grad=True)
    loss = losses.zero_one(scores, wl.tensor([1.0, 1.0]))
    assert loss.item() == 0.5
    with pytest.raises(RuntimeError, match="zero_one") as info:
        loss.backward()
    assert "hinge" in str(info.value)


# README lines 638-640: probabilities clipped to [eps, 1 - eps]: "0 and 1 give finite values
# and gradients, at most 36.04 in float64".
def test_binary_cross_entropy_at_zero_and_one_is_finite_at_most_36_04() -> None:
    p = wl.tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    loss = losses.binary_cross_entropy(p, wl.tensor([1.0, 0.0, 0.0, 1.0]), reduction="none")
    loss.sum().backward()
    values = loss.numpy()
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(p.grad.numpy()))
    assert values[:2] == pytest.approx(-np.log(np.finfo(np.float64).eps), rel=1e-12)
    assert values.max() <= 36.05
    assert round(float(values.max()), 2) == 36.04


# README lines 641-645: logits finite at +-1000; at an infinite logit the limit without NaN
# or warning (0 right, inf otherwise), gradient sigma(z) - y; PyTorch's gradients agree.
def test_logits_at_1000_and_infinity_give_limits_without_nan_or_warning() -> None:
    z = np.array([1000.0, -1000.0, np.inf, -np.inf, np.inf, -np.inf])
    y = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])
    logits = wl.tensor(z, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = losses.binary_cross_entropy_with_logits(logits, wl.tensor(y), reduction="none")
        loss.sum().backward()
    assert loss.numpy().tolist() == [0.0, 0.0, 0.0, 0.0, np.inf, np.inf]
    sigma = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    assert logits.grad.numpy().tolist() == (sigma - y).tolist()
    t = torch.tensor(z, requires_grad=True)
    F.binary_cross_entropy_with_logits(t, torch.tensor(y), reduction="sum").backward()
    assert t.grad.numpy().tolist() == logits.grad.numpy().tolist()


# README lines 646-648: at a kink the subgradients are 0 (`absolute` at p = y, `hinge` at
# y s = 1); `huber(delta=inf)` is half the squared error.
def test_kink_subgradients_are_zero_and_huber_at_infinite_delta_is_half_squared() -> None:
    p = wl.tensor([1.0, 2.0], requires_grad=True)
    losses.absolute(p, wl.tensor([1.0, 2.0]), reduction="sum").backward()
    assert p.grad.numpy().tolist() == [0.0, 0.0]
    s = wl.tensor([1.0, -1.0], requires_grad=True)
    losses.hinge(s, wl.tensor([1.0, -1.0]), reduction="sum").backward()
    assert np.abs(s.grad.numpy()).tolist() == [0.0, 0.0]
    pred, target = np.array([0.0, 3.0, -7.5]), np.array([1.0, -1.0, 2.0])
    huber = losses.huber(wl.tensor(pred), wl.tensor(target), delta=np.inf, reduction="none")
    assert huber.numpy() == pytest.approx(0.5 * (pred - target) ** 2, rel=1e-15, abs=0)


# README lines 649-652: labels outside {-1, +1}, probabilities or targets outside [0, 1],
# NaN or infinite targets are a ValueError naming the first one and its position, in a
# compiled function too.
@pytest.mark.parametrize(("fn", "pred", "target", "match"), [
    (losses.hinge, [1.0, 2.0, 3.0], [1.0, 0.0, 2.0], "got 0.0 at position 1"),
    (losses.zero_one, [1.0, 2.0, 3.0], [1.0, -1.0, 2.0], "got 2.0 at position 2"),
    (losses.binary_cross_entropy, [0.5, 1.5, -1.0], [1.0, 0.0, 1.0], "got 1.5 at position 1"),
    (losses.binary_cross_entropy, [0.5, 0.5, 0.5], [1.0, 2.0, -1.0], "got 2.0 at position 1"),
    (losses.squared, [0.5, 0.5, 0.5], [1.0, np.nan, np.inf], "got nan at position 1"),
    (losses.absolute, [0.5, 0.5, 0.5], [np.inf, 1.0, np.nan], "got inf at position 0"),
])
def test_bad_labels_and_targets_name_the_first_and_its_position(fn, pred, target,
                                                                match) -> None:
    with pytest.raises(ValueError, match=match):
        fn(wl.tensor(pred), wl.tensor(target))


def test_bad_labels_are_refused_in_a_compiled_function_too() -> None:
    # README lines 651-652: "in a `wl.compile`d function too (its program checks each call's
    # values)"
    compiled = wl.compile(lambda s, y: losses.hinge(s, y))
    assert compiled(wl.tensor([1.0, 2.0]), wl.tensor([1.0, -1.0])).item() == 1.5
    with pytest.raises(ValueError, match="got 0.5 at position 1"):
        compiled(wl.tensor([1.0, 2.0]), wl.tensor([1.0, 0.5]))


# README lines 652-654: a NaN prediction is not an error: that entry's loss is NaN (and
# its gradient, but for hinge's 0), without a NumPy warning.
@pytest.mark.parametrize("name", ["squared", "absolute", "huber", "hinge",
                                  "binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_nan_prediction_gives_nan_loss_for_its_entry_without_warning(name: str) -> None:
    pred = wl.tensor([np.nan, 0.5], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = getattr(losses, name)(pred, wl.tensor([1.0, 1.0]), reduction="none")
        loss.sum().backward()
    assert np.isnan(loss.numpy()[0]) and np.isfinite(loss.numpy()[1])
    grad = pred.grad.numpy()
    assert (grad[0] == 0.0) if name == "hinge" else np.isnan(grad[0])
    assert np.isfinite(grad[1])


# README lines 654-655: complex predictions or targets are a TypeError.
def test_complex_prediction_or_target_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="complex"):
        losses.squared(np.array([1 + 1j, 2.0]), np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="complex"):
        losses.squared(np.array([1.0, 2.0]), np.array([1 + 2j, 2.0]))


# =========================================================================== wl.data

# README lines 656-657: the error names the first bad row and column, from 0.
def test_dataset_names_first_non_finite_row_and_column() -> None:
    X = np.zeros((4, 3))
    X[2, 0], X[1, 2] = np.nan, np.inf
    with pytest.raises(ValueError, match="row 1, column 2"):
        data.Dataset(X, np.zeros(4))


# README lines 663-664: `0.07` of 100 rows is 7 (scikit-learn's float product gives 8).
def test_split_counts_a_fraction_of_rows_exactly() -> None:
    train, test = data.Dataset(np.zeros((100, 1)), np.zeros(100)).split(0.07, seed=0)
    assert (len(train), len(test)) == (93, 7)


# README lines 664-665: date, duration and complex DataFrame columns are a ValueError
# naming the column.
@pytest.mark.parametrize("column", [pd.to_datetime(np.arange(3), unit="D"),
                                    pd.to_timedelta(np.arange(3), unit="s"),
                                    np.array([1j, 2.0, 3.0])])
def test_dataset_refuses_date_duration_and_complex_columns_by_name(column) -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "odd": column})
    with pytest.raises(ValueError, match="'odd'"):
        data.Dataset(frame, [1.0, 2.0, 3.0])


# README lines 666-667: make_linear's `w_i ~ N(0, 1)`, `eps ~ N(0, noise)`, noise the
# variance.
def test_make_linear_noise_is_the_variance() -> None:
    ds = data.make_linear(100_000, 2, noise=4.0, seed=0)
    X, y = ds.X.numpy(), ds.y.numpy()
    residual = y - X @ np.asarray(ds.true_coef) - ds.true_intercept
    assert residual.var() == pytest.approx(4.0, rel=0.03)


# =========================================================================== wl.linear

# README lines 689-693: several targets at once; a column y stays one target as a column;
# on Dask input `fit` takes one target.
def test_several_targets_shapes_and_column_target() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    Y = X @ rng.normal(size=(3, 2)) + [1.0, 2.0]
    for model in [linear.LinearRegression(solver=s) for s in ("normal", "lstsq", "gd")] + [
            linear.Ridge()]:
        model.fit(X, Y)
        assert model.coef_.shape == (2, 3) and np.shape(model.intercept_) == (2,)
        assert model.predict(X).shape == (30, 2)
        model.fit(X, Y[:, :1])
        assert model.coef_.shape == (1, 3) and model.predict(X).shape == (30, 1)
    da = pytest.importorskip("dask.array")
    with pytest.raises(ValueError, match="not Dask"):
        linear.Ridge().fit(da.from_array(X, chunks=10), da.from_array(Y, chunks=10))


# README lines 708-713: LogisticRegression with alpha=0 warns naming the dependent columns,
# returns the minimum-norm coefficients (copies share evenly), suggests alpha > 0 or
# dropping a column.
def test_logistic_alpha_zero_collinear_warns_and_shares_weight_evenly() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=100), rng.normal(size=100)
    X = np.c_[a, b, a]
    y = (a + b + rng.normal(size=100) > 0).astype(int)
    with pytest.warns(linear.CollinearityWarning, match="x0, x2") as caught:
        model = linear.LogisticRegression(alpha=0).fit(X, y)
    message = str(caught[0].message)
    assert "alpha > 0" in message and "drop one" in message
    assert model.coef_[0, 0] == pytest.approx(model.coef_[0, 2], rel=1e-12)


# README lines 713-714: a constant column gets coefficient 0 without a warning, whatever
# alpha.
@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_logistic_constant_column_gets_zero_without_warning(alpha: float) -> None:
    rng = np.random.default_rng(1)
    X = np.c_[rng.normal(size=(60, 2)), np.full(60, 5.0)]
    y = (X[:, 0] + rng.normal(size=60) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = linear.LogisticRegression(alpha=alpha).fit(X, y)
    assert model.coef_[0, 2] == 0.0


# README lines 718-719: a tampered or foreign model file is a clear ValueError.
def test_tampered_or_foreign_model_file_is_a_value_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    model = linear.Ridge().fit(rng.normal(size=(20, 2)), rng.normal(size=20))
    model.save(tmp_path / "m.json")
    saved = json.loads((tmp_path / "m.json").read_text())
    saved["class"] = "os.system"
    (tmp_path / "t.json").write_text(json.dumps(saved))
    (tmp_path / "f.json").write_text(json.dumps({"a": 1}))
    np.savez(tmp_path / "f.npz", a=np.zeros(3))
    for name in ("t.json", "f.json", "f.npz"):
        with pytest.raises(ValueError, match="is not a valid wl.linear model file"):
            linear.load(tmp_path / name)


# README lines 719-722: a column of text in X (a categorical of text too) or text in a
# regression y is a ValueError naming the column and a value.
def test_text_columns_and_text_target_name_the_column_and_a_value() -> None:
    frame = pd.DataFrame({"rooms": [1.0, 2.0, 3.0, 4.0], "n": [1, 2, 3, 4],
                          "city": pd.Categorical(["a", "b", "a", "b"])})
    with pytest.raises(ValueError, match=r"'city'.*'a'"):
        linear.LinearRegression().fit(frame, [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match=r"y is not numeric \(e.g. 'u'\)"):
        linear.LinearRegression().fit(frame[["rooms"]], np.array(["u", "v", "u", "v"]))


# README lines 722-723: NaN in X names its first row and column in fit and predict
# (`Input X contains NaN at row 57, column 'rooms'`).
def test_nan_in_x_names_row_and_column_in_fit_and_predict() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"rooms": rng.normal(size=80), "age": rng.normal(size=80)})
    y = rng.normal(size=80)
    model = linear.Ridge().fit(X, y)
    X.loc[57, "rooms"] = np.nan
    X.loc[70, "age"] = np.inf
    expected = "Input X contains NaN at row 57, column 'rooms'"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match=expected):
            linear.Ridge().fit(X, y)
        with pytest.raises(ValueError, match=expected):
            model.predict(X)


# README lines 723-726: squares that overflow name the column and the row of its largest
# value, in every estimator and solver.
@pytest.mark.parametrize("make", [
    lambda: linear.LinearRegression(solver="lstsq"), lambda: linear.LinearRegression(solver="gd"),
    lambda: linear.LogisticRegression(solver="lbfgs"), lambda: linear.LinearModel(loss="log"),
])
def test_overflowing_squares_name_column_and_row_of_largest(make) -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"rooms": rng.normal(size=50), "age": rng.normal(size=50) * 1e160})
    row = int(np.abs(X["age"]).argmax())
    y = (X["rooms"] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match=rf"column 'age' .*at row {row}\)"):
            make().fit(X, y)


# README lines 726-727: `y` of another length than `X` says which has how many rows.
def test_y_of_another_length_says_which_has_how_many() -> None:
    with pytest.raises(ValueError, match="X has 10 rows but y has 9 values"):
        linear.LogisticRegression().fit(np.zeros((10, 2)), np.arange(9) % 2)


# =========================================================================== Dask

# README lines 740-743: a NaN or infinity is an error naming its partition, row and column,
# the first one in row order.
def test_dask_non_finite_names_partition_row_and_column_first_in_row_order() -> None:
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    X[95, 2], X[40, 1] = np.nan, np.inf
    dX, dy = da.from_array(X, chunks=30), da.from_array(rng.normal(size=120), chunks=30)
    with pytest.raises(ValueError, match=r"partition\) 1, column 'x1' \(row 40\)"):
        linear.Ridge().fit(dX, dy)


# README lines 745-748: predict, predict_proba and decision_function on Dask input return
# lazy Dask arrays; unknown row blocks stay unknown.
def test_dask_predictions_are_lazy_and_keep_unknown_blocks() -> None:
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    model = linear.LogisticRegression(alpha=1.0).fit(X, (X[:, 0] > 0).astype(int))
    dX = da.from_array(X, chunks=15)
    filtered = dX[dX[:, 0] > 0]
    computed: list[int] = []
    spied = filtered.map_blocks(lambda b: (computed.append(1), b)[1], dtype=float)
    computed.clear()
    for method in ("predict", "predict_proba", "decision_function"):
        result = getattr(model, method)(spied)
        assert isinstance(result, da.Array)
        assert all(np.isnan(c) for c in result.chunks[0])
    assert computed == []
    assert all(np.isnan(c) for c in filtered.chunks[0])


# =========================================================================== the CLI

# README lines 915-917: a file whose header and first row show another separator (also
# beside a name holding a comma) is named as such in the error.
def test_fit_names_the_separator_beside_a_name_holding_a_comma(tmp_path: Path) -> None:
    (tmp_path / "q.csv").write_text('price;"rooms, n";age\n1.5;2;3\n2.5;3;4\n')
    done = run_wonderland("fit", "q.csv", "--target", "price", "--model", "ridge",
                          "--test-size", "0", cwd=tmp_path)
    assert "add --delimiter ';'" in _one_line_error(done, "fit")


# README lines 917-918: a row whose quoted cell runs over several lines is named at the
# line where the quote opens.
def test_predict_names_the_line_where_an_open_quote_starts(tmp_path: Path,
                                                           prices: Path) -> None:
    assert run_wonderland("fit", prices.name, "--target", "price", "--model", "linear",
                          "--save", "m.json", cwd=tmp_path).returncode == 0
    (tmp_path / "bad.csv").write_text('rooms,age,price\n1,2,3\n"4,5,6\n7,8,9\n')
    done = run_wonderland("predict", "m.json", "bad.csv", cwd=tmp_path)
    assert "quoted cell opened on line 3" in _one_line_error(done, "predict")


# README lines 919-922: an --out that is empty, a folder, in a missing folder, or would
# overwrite the model or the data, and a --save naming the data file: one line, status 2,
# before anything is written.
def test_predict_out_and_fit_save_refusals_write_nothing(tmp_path: Path,
                                                         prices: Path) -> None:
    assert run_wonderland("fit", prices.name, "--target", "price", "--model", "ridge",
                          "--save", "m.json", cwd=tmp_path).returncode == 0
    (tmp_path / "sub").mkdir()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    for out in ("", "sub", "missing/p.csv", "m.json", prices.name):
        done = run_wonderland("predict", "m.json", prices.name, "--out", out, cwd=tmp_path)
        assert "argument --out" in _one_line_error(done, "predict")
    (tmp_path / "data.json").write_bytes(prices.read_bytes())
    done = run_wonderland("fit", "data.json", "--target", "price", "--model", "ridge",
                          "--save", "data.json", cwd=tmp_path)
    assert "is the data file" in _one_line_error(done, "fit")
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    after.pop("data.json")
    assert after == before
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == []


# README lines 923-924: a model that cannot be written still gets its report, then one line
# naming --save (status 2).
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs an unwritable /proc")
def test_fit_that_cannot_save_prints_its_report_then_names_save(prices: Path) -> None:
    done = run_wonderland("fit", prices.name, "--target", "price", "--model", "ridge",
                          "--save", "/proc/model.json", cwd=prices.parent)
    assert "train (" in done.stdout and "test (" in done.stdout
    assert "argument --save" in _one_line_error(done, "fit")


# README lines 924-927: the fit's warnings go to stderr, one line each
# (`wonderland fit: warning: ...`), the report on stdout.
def test_fit_warnings_are_one_line_on_stderr(tmp_path: Path) -> None:
    a = np.random.default_rng(0).normal(size=30)
    write_csv(tmp_path / "twins.csv", ["a", "b", "y"], zip(a, 2 * a, a + 1))
    done = run_wonderland("fit", "twins.csv", "--target", "y", "--model", "linear",
                          cwd=tmp_path)
    assert done.returncode == 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("wonderland fit: warning: ") and "a, b" in lines[0]
    assert "warning" not in done.stdout and "LinearRegression on twins.csv" in done.stdout


# README lines 797 and 953-954: `--dask` without Dask, `--framework torch` without PyTorch
# are one line and status 2.
@pytest.mark.parametrize(("module", "args", "command"), [
    ("dask", ["fit", "prices.csv", "--target", "price", "--model", "ridge", "--dask"], "fit"),
    ("torch", ["practice", "--framework", "torch", "--starts", "2", "--steps", "2"],
     "practice"),
])
def test_a_missing_extra_is_one_line_and_status_2(tmp_path: Path, prices: Path,
                                                  module: str, args: list[str],
                                                  command: str) -> None:
    blocker = tmp_path / "blocked" / module
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text(f"raise ImportError('No module named {module}')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "blocked"), "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, "-m", "wonderland", *args], cwd=prices.parent,
                          capture_output=True, text=True, timeout=120, env=env)
    assert module in _one_line_error(done, command)


# README lines 960-962: in a terminal that is not UTF-8 the characters it lacks print as
# escapes instead of failing.
def test_ascii_terminal_prints_escapes() -> None:
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    done = subprocess.run([sys.executable, "-m", "wonderland", "practice", "--help"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0
    assert "\\u03b7" in done.stdout and "\\u03bb" in done.stdout


# =========================================================================== plots

# README lines 853-854: `import wonderland` does not import matplotlib; `wl.plot` loads it
# on first use.
def test_import_wonderland_does_not_import_matplotlib() -> None:
    code = ("import sys, wonderland; print('matplotlib' in sys.modules); "
            "import wonderland.plot; print('matplotlib' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.split() == ["False", "True"]


# README lines 857-858: loss_curve(log=None) uses a log axis when every value is positive
# and they span three decades or more.
def test_loss_curve_log_axis_only_for_positive_values_over_three_decades() -> None:
    assert plot.loss_curve(np.array([1000.0, 10.0, 1.0])).axes[0].get_yscale() == "log"
    assert plot.loss_curve(np.array([10.0, 5.0, 1.5])).axes[0].get_yscale() == "linear"
    assert plot.loss_curve(np.array([1000.0, 1.0, -1.0])).axes[0].get_yscale() == "linear"


# README lines 864-865: a 1-D problem is an error pointing to loss_curve;
# decision_boundary of an unfitted model says to fit it first.
def test_contour_paths_one_d_and_unfitted_decision_boundary_errors() -> None:
    with pytest.raises(ValueError, match="loss_curve"):
        plot.contour_paths(lambda x: x[..., 0] ** 2, [np.array([[1.0], [0.5]])],
                           (-1, 1), (-1, 1))
    with pytest.raises(TypeError, match="fit"):
        plot.decision_boundary(linear.LogisticRegression(), np.zeros((4, 2)),
                               np.array([0, 1, 0, 1]))


# =========================================================================== bench

# README lines 1106-1108: a path that cannot be written is refused before the run, and a
# file that is not a bench result is one line naming what is wrong.
def test_bench_refuses_unwritable_json_and_foreign_plot_file(tmp_path: Path) -> None:
    done = run_wonderland("bench", "--quick", "--only", "W1", "--json", "nodir/x.json",
                          cwd=tmp_path)
    assert "--json" in _one_line_error(done, "bench")
    assert done.stdout == ""
    (tmp_path / "other.json").write_text('{"a": 1}')
    (tmp_path / "cut.json").write_text('{"a":')
    for name in ("other.json", "cut.json"):
        done = run_wonderland("bench", "--plot", name, cwd=tmp_path)
        assert name in _one_line_error(done, "bench")


# =========================================================================== how it is built

# README lines 1051-1054: a cast to integers is a constant under wl.jvp too.
def test_cast_to_integers_is_a_constant_under_jvp_and_grad() -> None:
    x = wl.tensor([1.5, 2.5])
    out, tangent = wl.jvp(lambda v: v * v.astype("int64"), (x,), (wl.ones(2),))
    assert out.numpy().tolist() == [1.5, 5.0]
    assert tangent.numpy().tolist() == [1.0, 2.0]
    assert wl.grad(lambda v: (v * v.astype("int64")).sum())(x).numpy().tolist() == [1.0, 2.0]


# README lines 1081-1082: `a.grad` and `b.grad` never share memory with each other, with
# `a`, `b`, a seed you passed, or a forward value.
def test_gradients_share_no_memory_with_inputs_seed_or_forward_values() -> None:
    a = wl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = wl.tensor([4.0, 5.0, 6.0], requires_grad=True)
    seed = np.ones(3)
    y = a * b + 0.0
    y.backward(seed)
    grads = [a.grad.numpy(), b.grad.numpy()]
    assert not np.shares_memory(grads[0], grads[1])
    for other in (a.numpy(), b.numpy(), seed, y.detach().numpy()):
        assert not any(np.shares_memory(g, other) for g in grads)
    c = wl.tensor([1.0, 2.0], requires_grad=True)
    e = c.exp()
    given = np.ones(2)
    e.backward(given)
    assert not np.shares_memory(c.grad.numpy(), e.detach().numpy())
    assert not np.shares_memory(c.grad.numpy(), given)
