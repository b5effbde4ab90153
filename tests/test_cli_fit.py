"""`wonderland fit` and `wonderland predict`, end to end on CSV files written here."""

from __future__ import annotations

import csv
import json
import re
import subprocess

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

import wonderland as wl
from cli_helpers import run_wonderland, write_csv

_wonderland, _write = run_wonderland, write_csv


@pytest.fixture
def regression(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X @ [1.0, -2.0, 0.5] + 3.0 + 0.1 * rng.normal(size=60)
    return _write(tmp_path / "houses.csv", ["rooms", "age", "area", "price"],
                  np.column_stack([X, y])), X, y


@pytest.fixture
def classification(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 2))
    y = (X[:, 0] - X[:, 1] + 0.3 * rng.normal(size=80) > 0).astype(int)
    return _write(tmp_path / "spam.csv", ["links", "caps", "spam"],
                  np.column_stack([X, y])), X, y


def test_fit_prints_coefficients_by_name_and_metrics_and_saves_the_model(regression,
                                                                          tmp_path):
    path, X, y = regression
    done = _wonderland("fit", str(path), "--target", "price", "--model", "ridge",
                       "--alpha", "0.5", "--test-size", "0", "--save", "m.json",
                       cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    reference = Ridge(alpha=0.5).fit(X, y)
    for name, value in zip(["rooms", "age", "area"], reference.coef_):
        (line,) = [ln for ln in lines if ln.split()[0] == name]
        assert float(line.split()[1]) == pytest.approx(value, rel=1e-5)
    (line,) = [ln for ln in lines if ln.split()[0] == "intercept"]
    assert float(line.split()[1]) == pytest.approx(reference.intercept_, rel=1e-5)
    assert any(ln.startswith("train (60 rows): R2 ") and "RMSE" in ln for ln in lines)
    model = wl.linear.load(tmp_path / "m.json")
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-8)


def test_fit_holds_out_test_rows_and_classifiers_report_accuracy_and_log_loss(
        classification, tmp_path):
    path, X, y = classification
    done = _wonderland("fit", str(path), "--target", "spam", "--model", "logistic",
                       "--test-size", "0.25", "--seed", "3", "--save", "m.npz", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "train (60 rows): accuracy" in done.stdout
    assert "test (20 rows): accuracy" in done.stdout and "log-loss" in done.stdout


def test_predict_applies_the_saved_model_ignoring_the_target_column(classification,
                                                                    tmp_path):
    path, X, y = classification
    _wonderland("fit", str(path), "--target", "spam", "--model", "logistic", "--test-size",
                "0", "--save", "m.json", cwd=tmp_path)
    rows = _write(tmp_path / "new.csv", ["caps", "spam", "links"],  # other order, target
                  [[X[i, 1], "", X[i, 0]] for i in range(5)])
    done = _wonderland("predict", "m.json", str(rows), "--out", "p.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "p.csv") as fh:
        table = list(csv.reader(fh))
    assert table[0] == ["prediction", "P(0)", "P(1)"]
    reference = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(X, y)
    np.testing.assert_array_equal([int(r[0]) for r in table[1:]], reference.predict(X[:5]))
    # relative: written with 10 digits; atol=1e-4 let a P(1) of 5e-4 be 20% off
    np.testing.assert_allclose([float(r[2]) for r in table[1:]],
                               reference.predict_proba(X[:5])[:, 1], rtol=1e-5, atol=0)


def test_predict_writes_to_stdout_by_default(regression, tmp_path):
    path, X, y = regression
    _wonderland("fit", str(path), "--target", "price", "--model", "linear", "--save",
                "m.json", cwd=tmp_path)
    done = _wonderland("predict", "m.json", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "prediction"
    assert len(done.stdout.splitlines()) == 61


@pytest.mark.parametrize("model", ["linear", "huber", "hinge"])
def test_every_model_fits(model, classification, regression, tmp_path):
    path, _, _ = classification if model == "hinge" else regression
    target = "spam" if model == "hinge" else "price"
    done = _wonderland("fit", str(path), "--target", target, "--model", model, "--save",
                       "m.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "m.json").exists()


def _one_error_line(done: subprocess.CompletedProcess, command: str, *needles: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"wonderland {command}: error: ")
    assert "Traceback" not in done.stderr
    for needle in needles:
        assert needle in lines[0]


def test_fit_bad_inputs_are_one_line_and_exit_2(regression, tmp_path):
    path, _, _ = regression
    _one_error_line(_wonderland("fit", "missing.csv", "--target", "y", "--model", "linear",
                                cwd=tmp_path), "fit", "missing.csv")
    _one_error_line(_wonderland("fit", str(path), "--target", "cost", "--model", "linear",
                                cwd=tmp_path), "fit", "'cost'", "rooms, age, area, price")
    bad = _write(tmp_path / "bad.csv", ["a", "y"], [[1, 2], ["x", 3]])
    _one_error_line(_wonderland("fit", str(bad), "--target", "y", "--model", "linear",
                                cwd=tmp_path), "fit", "'x'", "row 1", "column 0")
    nan = _write(tmp_path / "nan.csv", ["a", "y"], [[1, 2], ["nan", 3]])
    _one_error_line(_wonderland("fit", str(nan), "--target", "y", "--model", "linear",
                                cwd=tmp_path), "fit", "row 1")
    _one_error_line(_wonderland("fit", str(path), "--target", "price", "--model", "lasso",
                                cwd=tmp_path), "fit", "lasso")
    _one_error_line(_wonderland("fit", str(path), "--target", "price", "--model", "ridge",
                                "--solver", "newton", cwd=tmp_path), "fit", "newton")
    _one_error_line(_wonderland("fit", str(path), "--target", "price", "--model", "ridge",
                                "--alpha", "-1", cwd=tmp_path), "fit", "--alpha")
    _one_error_line(_wonderland("fit", str(path), "--target", "price", "--model", "ridge",
                                "--test-size", "1.5", cwd=tmp_path), "fit", "--test-size")
    _one_error_line(_wonderland("fit", str(path), "--target", "price", "--model", "ridge",
                                "--save", "m.pkl", cwd=tmp_path), "fit", "m.pkl")


def test_fit_bad_targets_and_splits_are_one_line_and_exit_2(regression, classification,
                                                            tmp_path):
    path, _, _ = regression
    _one_error_line(_wonderland("fit", str(path), "--target", "price", "--model", "logistic",
                                cwd=tmp_path), "fit", "class labels (whole numbers)", "'price'")
    one = _write(tmp_path / "one.csv", ["a", "y"], [[0.5, 1], [1.5, 1], [2.5, 1]])
    _one_error_line(_wonderland("fit", str(one), "--target", "y", "--model", "logistic",
                                cwd=tmp_path), "fit", "two or more classes", "found 1")
    _one_error_line(_wonderland("fit", str(path), "--target", "price", "--model", "ridge",
                                "--test-size", "0.999", cwd=tmp_path), "fit", "--test-size",
                    "no training rows")
    # one class alone in the training rows: the estimator's own check, as one line
    rows = [[float(i), 0] for i in range(12)] + [[100.0, 1]]
    lonely = _write(tmp_path / "lonely.csv", ["a", "y"], rows)
    done = _wonderland("fit", str(lonely), "--target", "y", "--model", "logistic",
                       "--test-size", "0.1", "--seed", "3", cwd=tmp_path)  # (it is tested)
    _one_error_line(done, "fit", "at least 2 classes")


def test_fit_reports_a_test_class_the_training_rows_lack_instead_of_crashing(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    y[7] = 2  # one row of a third class: seed 1 puts it among the test rows
    path = _write(tmp_path / "rare.csv", ["a", "b", "y"], np.column_stack([X, y]))
    done = _wonderland("fit", str(path), "--target", "y", "--model", "logistic", "--alpha",
                       "0.1", "--seed", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "warning: the test rows hold class(es) 2 that the training rows lack" in done.stderr
    assert re.search(r"test \(10 rows\): accuracy 0\.\d+, log-loss \d", done.stdout)


def test_predict_refuses_a_file_that_is_not_a_model(regression, tmp_path):
    path, _, _ = regression
    (tmp_path / "notes.json").write_text(json.dumps({"hello": "world"}))
    _one_error_line(_wonderland("predict", "notes.json", str(path), cwd=tmp_path),
                    "predict")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    done = _wonderland("predict", "junk.npz", str(path), cwd=tmp_path)
    _one_error_line(done, "predict", "load: 'junk.npz' is not a valid wl.linear model file",
                    "no pickled data")
    assert "allow_pickle" not in done.stderr  # never NumPy's advice to load a pickle
    # a missing file: named as load names the others, without "[Errno 2]"
    done = _wonderland("predict", "none.json", str(path), cwd=tmp_path)
    _one_error_line(done, "predict",
                    "error: load: cannot read 'none.json': No such file or directory")
    assert "Errno" not in done.stderr


def test_predict_names_a_missing_feature_column(regression, tmp_path):
    path, _, _ = regression
    _wonderland("fit", str(path), "--target", "price", "--model", "linear", "--save",
                "m.json", cwd=tmp_path)
    rows = _write(tmp_path / "new.csv", ["rooms", "age"], [[1, 2]])
    _one_error_line(_wonderland("predict", "m.json", str(rows), cwd=tmp_path), "predict",
                    "'area'")
