"""What a new user of wl.linear, wl.data and `wonderland fit`/`predict` tries first:
each test pins down a bug found that way."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import wonderland.linear as wll


def huber_objective(model, X, y, delta=1.0):
    r = model.predict(X) - y
    a = np.abs(r)
    return float(np.mean(np.where(a < delta, 0.5 * r * r, delta * (a - 0.5 * delta))))


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_huber_with_momentum_reaches_the_minimum_of_plain_descent(seed):
    # the heavy ball at 3/L circled for ever on the Huber loss (a cycle of 6 steps at
    # 100x the minimum, R² 0.38 on noiseless-ish data), then returned its last point
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(200, 3))
    y = X @ (3 * rng.normal(size=3)) + 3 + 0.1 * rng.normal(size=200)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        heavy = wll.LinearModel(loss="huber", optimizer="momentum", max_iter=2000).fit(X, y)
    plain = wll.LinearModel(loss="huber", optimizer="gd", max_iter=5000).fit(X, y)
    assert huber_objective(heavy, X, y) == pytest.approx(huber_objective(plain, X, y),
                                                         rel=1e-4)
    assert heavy.score(X, y) > 0.99


def test_a_fit_stopped_by_max_iter_keeps_its_best_epoch():
    # full batch on a smooth loss, the heavy ball need not descend: when max_iter stops
    # it, the coefficients are those of the lowest objective seen, not the last step's
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2)) * [1.0, 30.0]
    y = X @ [1.0, -0.1] + 0.1 * rng.normal(size=100)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        model = wll.LinearModel(loss="squared", optimizer="momentum", max_iter=7,
                                lr=0.05).fit(X, y)
    final = float(np.mean((model.predict(X) - y) ** 2))
    assert final == pytest.approx(model.loss_curve_.min(), rel=1e-9)


def test_fit_piped_into_head_still_writes_the_model(tmp_path, monkeypatch,
                                                    stdout_closed_after_first_line):
    # `wonderland fit ... | head -n 1` stopped at the second line of the report, before
    # the model was saved: exit 141 and no model file
    from wonderland.cli.main import main

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    rows = np.column_stack([X, X @ [1.0, -2.0] + 3.0])
    data = tmp_path / "houses.csv"
    data.write_text("rooms,age,price\n" + "\n".join(",".join(map(str, r)) for r in rows))
    model = tmp_path / "model.json"
    monkeypatch.setattr("sys.stdout", stdout_closed_after_first_line)
    status = main(["fit", str(data), "--target", "price", "--model", "linear",
                   "--save", str(model)])
    assert status == 141
    assert wll.load(model).coef_ == pytest.approx([1.0, -2.0])


@pytest.mark.parametrize("make", [
    lambda: wll.LinearRegression(), lambda: wll.Ridge(alpha=0.5),
    lambda: wll.LinearRegression(solver="gd"), lambda: wll.LinearModel(loss="huber"),
])
@pytest.mark.parametrize("y", [
    [1.0, 2.0, None, 4.0, 5.0],                                   # a list with a gap
    np.array([1, 2, None, 4, 5], dtype=object),                   # an object array
    ["1", "2", None, "4", "5"],                                   # numbers read as text
], ids=["list", "object-array", "text"])
def test_a_missing_target_value_is_an_error_naming_its_row(make, y):
    # None in a regression target passed scikit-learn's check (y != y is False for
    # None) and became NaN: Ridge returned NaN coefficients without a word, LinearModel
    # warned "lr too large?" and returned zeros
    X = np.arange(10.0).reshape(5, 2) ** [1, 2]
    with pytest.raises(ValueError, match=r"Input y contains NaN .*at row 2$"):
        make().fit(X, y)


def test_a_missing_value_in_one_of_several_targets_names_its_column():
    X = np.arange(10.0).reshape(5, 2) ** [1, 2]
    Y = np.array([[1, 1], [2, 2], [3, None], [4, 4], [5, 5]], dtype=object)
    with pytest.raises(ValueError, match=r"Input y contains NaN .*at row 2, column 1$"):
        wll.Ridge().fit(X, Y)


@pytest.mark.parametrize("make", [lambda: wll.LogisticRegression(),
                                  lambda: wll.LinearModel(loss="hinge")])
def test_one_class_error_shows_the_label_as_written(make):
    # it read "only one class: np.int64(1)" (`wonderland fit` printed it so too)
    X = np.arange(6.0).reshape(3, 2)
    with pytest.raises(ValueError, match=r"only one class: 1$"):
        make().fit(X, np.array([1, 1, 1]))


def test_fit_refuses_class_labels_too_large_for_an_integer(tmp_path, capsys):
    # 1e20 is a whole number, so it was cast to int64 and wrapped: the model learned a
    # class -9223372036854775808 and `predict` wrote it, with the classes' order flipped
    from wonderland.cli.main import main

    data = tmp_path / "big.csv"
    data.write_text("a,b,y\n1,2,0\n4,5,1e20\n3,3,0\n5,1,1e20\n6,0,1e20\n0,1,0\n")
    status = main(["fit", str(data), "--target", "y", "--model", "logistic", "--alpha",
                   "0.1", "--test-size", "0", "--save", str(tmp_path / "m.json")])
    out, err = capsys.readouterr()
    assert status == 2
    assert err == ("wonderland fit: error: --model logistic needs class labels (whole "
                   "numbers of at most 2**53 in size) in column 'y', found 1e+20\n")
    assert not (tmp_path / "m.json").exists()


@pytest.mark.parametrize("targets", [1, 2])
def test_predict_writes_one_number_per_cell_for_a_model_of_several_targets(tmp_path, capsys,
                                                                          targets):
    # a Ridge fitted on y of shape (n, k) had each row's k predictions written into one
    # cell as NumPy prints an array: "[2.41908714 4.83817427]"
    import pandas as pd

    from wonderland.cli.main import main

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(20, 2)), columns=["rooms", "age"])
    Y = np.column_stack([X @ [1.0, 2.0], X @ [-1.0, 0.5]])[:, :targets]
    model = wll.Ridge(alpha=0.1).fit(X, Y)
    model.save(tmp_path / "model.json")
    X.to_csv(tmp_path / "new.csv", index=False)
    assert main(["predict", str(tmp_path / "model.json"), str(tmp_path / "new.csv")]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = ["prediction"] if targets == 1 else ["prediction_0", "prediction_1"]
    assert lines[0].split(",") == header
    written = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    np.testing.assert_allclose(written, model.predict(X).reshape(20, targets), rtol=1e-9)


@pytest.mark.parametrize("target", ["model", "data"])
def test_predict_refuses_to_write_over_its_model_or_its_data(tmp_path, capsys, target):
    # `--out model.json` replaced the fitted model by the CSV of predictions
    from wonderland.cli.main import main

    X = np.arange(12.0).reshape(6, 2) ** [1, 2]
    model_path, data_path = tmp_path / "model.json", tmp_path / "new.csv"
    wll.LinearRegression().fit(X, X @ [1.0, 0.5]).save(model_path)
    data_path.write_text("x0,x1\n" + "\n".join(f"{a},{b}" for a, b in X))
    before = {p: p.read_bytes() for p in (model_path, data_path)}
    out = model_path if target == "model" else data_path
    status = main(["predict", str(model_path), str(data_path), "--out", str(out)])
    assert status == 2
    assert capsys.readouterr().err == (f"wonderland predict: error: argument --out: "
                                       f"{str(out)!r} is the {target} file; write the "
                                       f"predictions to another file\n")
    assert {p: p.read_bytes() for p in before} == before


@pytest.mark.parametrize("optimizer", ["gd", "momentum"])
def test_a_fit_that_diverges_from_its_first_step_returns_its_start_not_a_worse_point(optimizer):
    # lr=10 on raw diabetes: every epoch is worse than the start (R² -2036 was returned as
    # "the best ones seen"); the start (the mean of y, no slope) is the best point seen
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)) * [1.0, 10.0, 0.1, 3.0]
    y = X @ [1.0, -2.0, 3.0, 0.5] + 4.0
    with pytest.warns(ConvergenceWarning, match="the best ones seen, the start included"):
        model = wll.LinearModel(optimizer=optimizer, lr=10.0, max_iter=200).fit(X, y)
    np.testing.assert_allclose(model.predict(X), np.full(200, y.mean()), atol=1e-9)
    assert model.score(X, y) == pytest.approx(0.0, abs=1e-12)


def test_a_nan_in_a_float_target_in_memory_names_its_row_as_on_dask():
    X = np.c_[np.arange(6.0), np.ones(6)]
    y = np.arange(6.0)
    y[3] = np.nan
    for model in (wll.LinearRegression(), wll.Ridge(), wll.LinearModel()):
        with pytest.raises(ValueError, match=r"^Input y contains NaN \(a missing value\) at "
                                             r"row 3$"):
            model.fit(X, y)


def test_complex_and_date_inputs_in_memory_are_refused_by_column():
    pd = pytest.importorskip("pandas")
    complex_X = np.c_[np.arange(6) + 1j, np.ones(6)]
    with pytest.raises(ValueError, match=r"^LinearRegression: X holds complex numbers "
                                         r"\(dtype complex128\)"):
        wll.LinearRegression().fit(complex_X, np.arange(6.0))  # (printed the whole array)
    dates = pd.DataFrame({"a": np.arange(4.0), "t": pd.date_range("2020", periods=4)})
    with pytest.raises(ValueError, match=r"^Ridge: X column 't' holds dates"):
        wll.Ridge().fit(dates, np.arange(4.0))  # (NumPy's DTypePromotionError)
    with pytest.raises(ValueError, match=r"^LinearRegression: y holds durations"):
        wll.LinearRegression().fit(np.c_[np.arange(4.0)], pd.Series(pd.to_timedelta(
            np.arange(4), unit="D")))
