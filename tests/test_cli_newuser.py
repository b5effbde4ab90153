"""The ``wonderland`` command as a new user meets it: typos, European CSV files, a
diverging step size, a terminal that is not UTF-8, a closed stdout, a model that cannot
be saved."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import wonderland as wl
from wonderland.cli import practice
from wonderland.cli.common import DEBUG_VARIABLE
from wonderland.cli.main import main


def _write_csv(path: Path, separator: str = ",", rows: int = 12) -> Path:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 2))
    y = X @ [2.0, -1.0] + 0.5
    lines = [separator.join(["a", "b", "y"])]
    lines += [separator.join(f"{v:.6f}" for v in (*x, t)) for x, t in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _error_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != DEBUG_VARIABLE}
    return {**env, **extra}


# ---------------------------------------------------------------- typos: a suggestion


@pytest.mark.parametrize("argv, suggestion", [
    (["prac"], "did you mean 'practice'?"),
    (["practice", "--step", "5"], "did you mean '--steps'?"),
    (["practice", "--sed=3"], "did you mean '--seed'?"),
    (["fit", "x.csv", "--target", "y", "--model", "lin"], "did you mean 'linear'?"),
], ids=["command", "option", "option=value", "choice"])
def test_a_typo_gets_the_closest_name(argv, suggestion, capsys):
    assert main(argv) == 2
    assert suggestion in _error_line(capsys.readouterr().err)


def test_no_suggestion_when_nothing_is_close(capsys):
    assert main(["zzzz"]) == 2
    assert "did you mean" not in _error_line(capsys.readouterr().err)


# ---------------------------------------------------------------- CSV separated by ';'


def test_fit_names_the_separator_of_a_semicolon_file_and_reads_it_with_delimiter(
        tmp_path, capsys):
    data = _write_csv(tmp_path / "euro.csv", separator=";")
    model = tmp_path / "m.json"
    assert main(["fit", str(data), "--target", "y", "--model", "linear",
                 "--save", str(model)]) == 2
    assert "add --delimiter ';'" in _error_line(capsys.readouterr().err)
    assert main(["fit", str(data), "--target", "y", "--model", "linear", "--save", str(model),
                 "--delimiter", ";"]) == 0
    assert model.exists()
    out = tmp_path / "p.csv"
    assert main(["predict", str(model), str(data), "--out", str(out)]) == 2
    assert "add --delimiter ';'" in _error_line(capsys.readouterr().err)
    assert main(["predict", str(model), str(data), "--out", str(out), "--delimiter",
                 "semicolon"]) == 0
    assert out.read_text().splitlines()[0] == "prediction"


def test_fit_reads_a_tab_separated_file_with_delimiter_tab(tmp_path, capsys):
    data = _write_csv(tmp_path / "data.tsv", separator="\t")
    assert main(["fit", str(data), "--target", "y", "--model", "ridge", "--delimiter", "tab",
                 "--save", str(tmp_path / "m.json")]) == 0
    assert "12 rows, 2 features" in capsys.readouterr().out


def test_a_delimiter_of_several_characters_is_refused(tmp_path, capsys):
    data = _write_csv(tmp_path / "data.csv")
    assert main(["fit", str(data), "--target", "y", "--model", "ridge",
                 "--delimiter", ";;"]) == 2
    line = _error_line(capsys.readouterr().err)
    assert "argument --delimiter" in line and "';;'" in line


# ---------------------------------------------------------------- fit: never a lost result


def test_a_model_that_cannot_be_saved_still_gets_its_report(tmp_path, capsys, monkeypatch):
    def refuse(self, path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(wl.linear.LinearRegression, "save", refuse)
    data = _write_csv(tmp_path / "data.csv")
    status = main(["fit", str(data), "--target", "y", "--model", "linear",
                   "--save", str(tmp_path / "m.json")])
    captured = capsys.readouterr()
    assert status == 2
    assert "intercept" in captured.out and "train (" in captured.out  # the result is shown
    assert "model written" not in captured.out
    line = _error_line(captured.err)
    assert "argument --save" in line and "Permission denied" in line


def test_one_row_is_one_row(tmp_path, capsys):
    data = _write_csv(tmp_path / "data.csv", rows=4)
    assert main(["fit", str(data), "--target", "y", "--model", "ridge", "--test-size", "0.25",
                 "--save", str(tmp_path / "m.json")]) == 0
    out = capsys.readouterr().out
    assert "test (1 row):" in out and "1 rows" not in out


# ---------------------------------------------------------------- predict: --out and MODEL


@pytest.mark.parametrize("out, words", [
    ("", ["must name a file", "''"]),
    (".", ["is a folder"]),
    ("missing/p.csv", ["folder of", "does not exist"]),
], ids=["empty", "folder", "missing-folder"])
def test_predict_out_that_cannot_be_a_file(out, words, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = _write_csv(tmp_path / "data.csv")
    assert main(["fit", str(data), "--target", "y", "--model", "ridge", "--save", "m.json"]) == 0
    capsys.readouterr()
    assert main(["predict", "m.json", str(data), "--out", out]) == 2
    captured = capsys.readouterr()
    line = _error_line(captured.err)
    assert "argument --out" in line and all(word in line for word in words), line
    assert captured.out == ""


def test_predict_with_its_arguments_swapped_says_which_comes_first(tmp_path, capsys):
    data = _write_csv(tmp_path / "data.csv")
    model = tmp_path / "m.json"
    assert main(["fit", str(data), "--target", "y", "--model", "ridge",
                 "--save", str(model)]) == 0
    capsys.readouterr()
    assert main(["predict", str(data), str(model)]) == 2
    assert "the model comes first" in _error_line(capsys.readouterr().err)


# ---------------------------------------------------------------- practice: a large --lr


def test_descents_stop_diverged_rows_alike_in_every_framework():
    X0 = np.array([[6.37, 2.70], [0.41, 0.17]])
    runs = {fw: practice.descend(fw, X0, lr=1e308, momentum=0.9, steps=30, tol_grad=1e-6)
            for fw in ("wonderland", "numpy")}
    for descent in runs.values():
        assert descent.reason == ["diverged", "diverged"]
        assert all(np.isfinite(path).all() for path in descent.paths)
    np.testing.assert_array_equal(runs["numpy"].n_iter, runs["wonderland"].n_iter)


def test_a_diverging_step_size_is_readable_at_a_glance(tmp_path, capsys):
    assert main(["practice", "--lr", "1e308", "--steps", "20", "--starts", "2",
                 "--framework", "numpy", "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    summary = [line for line in out.splitlines() if line.startswith("  (")]  # per start, run
    assert len(summary) == 4 and max(map(len, summary)) < 100, out
    assert "diverged" in out
    warnings = err.splitlines()  # the warning is on stderr, one line, as every command's
    assert len(warnings) == 1 and warnings[0].startswith("wonderland practice: warning:") \
        and "--lr" in warnings[0], err


def test_a_diverging_step_size_writes_one_warning_line_on_stderr(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "wonderland", "practice", "--lr", "1e308", "--steps", "20",
         "--starts", "2", "--framework", "numpy", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300, env=_env())
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()  # no Python warning text, no traceback
    assert len(lines) == 1 and lines[0].startswith("wonderland practice: warning:"), \
        proc.stderr


# ---------------------------------------------------------------- the terminal


def test_help_in_a_terminal_that_is_not_utf8():
    proc = subprocess.run([sys.executable, "-m", "wonderland", "practice", "--help"],
                          capture_output=True, timeout=300,
                          env=_env(PYTHONIOENCODING="ascii"))
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Traceback" not in proc.stderr
    assert b"--lr ETA" in proc.stdout


def test_fit_with_stdout_closed_saves_the_model_without_a_traceback(tmp_path):
    data = _write_csv(tmp_path / "data.csv")
    model = tmp_path / "m.json"
    proc = subprocess.run(
        [sys.executable, "-m", "wonderland", "fit", str(data), "--target", "y", "--model",
         "ridge", "--save", str(model)],
        stderr=subprocess.PIPE, text=True, timeout=300, env=_env(),
        preexec_fn=lambda: os.close(1))  # as `wonderland fit ... >&-`
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr
    assert model.exists()
