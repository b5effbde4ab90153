"""`wonderland fit` and `predict` as a new user meets them: warnings on stderr as one
line each, metrics that cannot be computed said in words, Ctrl-C while the command
starts, and CSV files as spreadsheets and editors write them."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from cli_helpers import run_wonderland, write_csv

_wonderland, _write = run_wonderland, write_csv


def _report_line(stdout: str, part: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith(f"{part} ("))


# ------------------------------------------------------------------ warnings


def test_fit_warnings_go_to_stderr_as_one_line_each(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2)) * 100
    y = (X[:, 0] > 0).astype(int)
    path = _write(tmp_path / "spam.csv", ["links", "caps", "spam"], np.column_stack([X, y]))
    done = _wonderland("fit", path.name, "--target", "spam", "--model", "logistic",
                       "--solver", "gd", "--save", "m.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stdout.lower(), done.stdout  # the report alone
    assert done.stdout.startswith("LogisticRegression on ")
    (line,) = done.stderr.splitlines()
    assert line.startswith("wonderland fit: warning: ") and "max_iter" in line


def _fit_warning_of_300_columns(tmp_path, X):
    """The one line ``wonderland fit`` prints to stderr for columns c0..c299 of ``X``."""
    path = _write(tmp_path / "cols.csv", [f"c{i}" for i in range(300)] + ["y"],
                  np.column_stack([X, X[:, 0]]))
    done = _wonderland("fit", str(path), "--target", "y", "--model", "linear",
                       "--test-size", "0", "--save", "m.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (line,) = done.stderr.splitlines()
    return line


def test_a_warning_naming_many_columns_stays_readable(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3)) @ rng.normal(size=(3, 300))  # 300 columns of rank 3
    line = _fit_warning_of_300_columns(tmp_path, X)
    assert line.startswith("wonderland fit: warning: ") and len(line) < 300, line
    assert "c0, c1, c2, c3, ..., c299 (300 in all)" in line
    assert "minimum-norm" in line  # what the warning says after the list is kept


def test_a_warning_about_data_wider_than_tall_names_no_column(tmp_path):
    X = np.random.default_rng(0).normal(size=(20, 300))  # more columns than rows
    line = _fit_warning_of_300_columns(tmp_path, X)
    assert "more columns (300) than rows" in line and "minimum-norm" in line, line
    assert "c1" not in line, line


def test_a_warning_outside_the_fit_is_one_line_without_python_source(tmp_path):
    rows = [[float(i), 2.0 * i + 1] for i in range(8)]
    path = _write(tmp_path / "line.csv", ["a", "y"], rows)
    done = _wonderland("fit", str(path), "--target", "y", "--model", "linear",
                       "--test-size", "0", "--save", "m.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    huge = _write(tmp_path / "huge.csv", ["a"], [[1e308]])
    done = _wonderland("predict", "m.json", str(huge), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["prediction", "inf"]
    (line,) = done.stderr.splitlines()  # not Python's "file.py:12: RuntimeWarning" + code
    assert line.startswith("wonderland predict: warning: ") and "overflow" in line
    assert ".py" not in line


# ------------------------------------------------------------------ tiny splits


def test_r2_of_a_single_test_row_is_said_to_be_undefined(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 2))
    y = X @ [1.0, 2.0] + 0.1 * rng.normal(size=12)
    path = _write(tmp_path / "small.csv", ["a", "b", "y"], np.column_stack([X, y]))
    done = _wonderland("fit", str(path), "--target", "y", "--model", "ridge",
                       "--test-size", "0.01", "--save", "m.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "nan" not in done.stdout.lower()
    test = _report_line(done.stdout, "test")
    assert test.startswith("test (1 row): R2 undefined for 1 row"), test
    assert "--test-size" in test and "RMSE " in test  # what to change; RMSE still shown
    assert "undefined" not in _report_line(done.stdout, "train")


def test_r2_of_a_constant_target_is_said_to_be_undefined(tmp_path):
    rows = [[float(i), float(i % 3), 3.0] for i in range(8)]
    path = _write(tmp_path / "flat.csv", ["a", "b", "y"], rows)
    done = _wonderland("fit", str(path), "--target", "y", "--model", "linear",
                       "--save", "m.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "nan" not in done.stdout.lower()
    for part in ("train", "test"):
        assert "R2 undefined (the target is constant" in _report_line(done.stdout, part)


def test_a_file_of_one_row_says_how_to_fit_it(tmp_path):
    path = _write(tmp_path / "one.csv", ["a", "b", "y"], [[1, 2, 3]])
    done = _wonderland("fit", str(path), "--target", "y", "--model", "linear",
                       "--save", "m.json", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert "1 row" in line and "--test-size 0" in line, line
    done = _wonderland("fit", str(path), "--target", "y", "--model", "linear",
                       "--test-size", "0", "--save", "m.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "train (1 row): R2 undefined for 1 row, RMSE 0.0000" in done.stdout


# ------------------------------------------------------------------ Ctrl-C

# Holds the loading of the commands (which main() does first) until the test sends
# SIGINT: the interrupt lands there every time, with no timing involved.
_INTERRUPTED_WHILE_LOADING = textwrap.dedent("""
    import importlib.abc, sys, time

    class HoldCommand(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name == "wonderland.cli.fit":
                print("loading", flush=True)
                time.sleep(300)
            return None

    sys.meta_path.insert(0, HoldCommand())
    from wonderland.cli.main import main
    sys.exit(main(["fit", "--help"]))
""")


def test_ctrl_c_while_the_command_starts_exits_quietly_with_130(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", _INTERRUPTED_WHILE_LOADING],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline() == "loading\n"
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 130, err
    assert "Traceback" not in err and len(err.splitlines()) <= 1, err
    assert "interrupted" in err


# ------------------------------------------------------------------ CSV as saved by others


@pytest.mark.parametrize("encoding, newline", [("utf-8-sig", "\r\n"), ("utf-8", "\n")])
def test_fit_and_predict_read_a_spreadsheet_export(tmp_path, encoding, newline):
    # Excel's "CSV UTF-8": a byte-order mark, CRLF line ends, a quoted name with a comma
    rows = [f"{i},{(i * 7) % 5},{2 * i + 1}" for i in range(10)]
    text = newline.join(['"size, m2",rooms,price', *rows]) + newline
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode(encoding))
    done = _wonderland("fit", str(path), "--target", "price", "--model", "linear",
                       "--test-size", "0", "--save", "m.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    coefficient = next(ln for ln in done.stdout.splitlines() if "size, m2" in ln)
    assert float(coefficient.split()[-1]) == pytest.approx(2.0)
    done = _wonderland("predict", "m.json", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    predicted = [float(v) for v in done.stdout.split()[1:]]
    assert predicted == pytest.approx([2 * i + 1 for i in range(10)])


# ------------------------------------------------------------------ help


@pytest.mark.parametrize("command", ["tour", "practice", "bench", "fit"])
def test_help_does_not_say_a_flag_defaults_to_false(command, tmp_path):
    done = run_wonderland(command, "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "(default: False)" not in done.stdout
    assert "(default:" in done.stdout  # other options still show theirs
