"""Edge paths of the command line, the figures, the tour runner and a few library checks
that the rest of the suite does not reach in-process (coverage of ``wonderland.cli``,
``wonderland.plot``, ``wonderland.tour``, ``losses``, ``taylor`` and ``gradcheck``).

Every command runs in this process through ``wonderland.cli.main.main``: bad input must
exit 2 with one line on stderr and no traceback. Failures of the machine (a full disk, a
library that is not installed, Ctrl-C, a broken process pool) are simulated where no
command line can provoke them. Tests after a "# Fixed" comment pinned a real bug (they
failed before its fix).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib
import io
import json
import os
import subprocess
import sys
import webbrowser
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import wonderland as wl  # noqa: E402
import wonderland.plot  # noqa: E402, F401
import wonderland.tour as tour_package  # noqa: E402
from wonderland import linear  # noqa: E402
from wonderland.cli import main as cli_main  # noqa: E402
from wonderland.cli import tour as tour_cli  # noqa: E402
from wonderland.cli.main import main  # noqa: E402
from wonderland.tour.base import Section, SectionSpec, jsonable  # noqa: E402

HAS_PROC = os.path.isdir("/proc/self")
HAS_DEV_FULL = os.path.exists("/dev/full")


# ------------------------------------------------------------------ helpers


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch):
    monkeypatch.delenv("WONDERLAND_DEBUG", raising=False)


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _one_error_line(err: str, prog: str) -> str:
    """The single stderr line ``<prog>: error: ...`` (and nothing else, no traceback)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{prog}: error: "), err
    assert "Traceback" not in err
    return lines[0]


def _num(value) -> str:
    """A number as a CSV cell that reads back exactly."""
    return repr(float(value))


def _write(path: Path, header: list[str], rows) -> Path:
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def exact_csv(tmp_path, monkeypatch) -> Path:
    """y = a + 2 b + 0.5 exactly, 40 rows, in the working folder."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    return _write(tmp_path / "d.csv", ["a", "b", "y"],
                  [(_num(a), _num(b), _num(a + 2 * b + 0.5)) for a, b in X])


@pytest.fixture
def three_classes_csv(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    labels = np.digitize(X[:, 0] - X[:, 1] + 0.3 * rng.normal(size=60), [-0.7, 0.7])
    return _write(tmp_path / "three.csv", ["a", "b", "y"],
                  [(_num(a), _num(b), int(k)) for (a, b), k in zip(X, labels)])


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


# ------------------------------------------------------------------ wonderland fit


@pytest.mark.parametrize("value", ["abc", "1", "nan", "-0.1"])
def test_fit_test_size_outside_unit_interval_is_one_line(capsys, exact_csv, value):
    # --test-size must be a fraction in [0, 1): a word, 1, NaN and a negative are refused
    status, _, err = _cli(capsys, "fit", "d.csv", "--target", "y", "--model", "linear",
                          "--test-size", value)
    assert status == 2
    assert _one_error_line(err, "wonderland fit").endswith(
        f"argument --test-size: must be a fraction in [0, 1), got {value!r}")


@pytest.mark.parametrize("value", ["x", "-1", "inf"])
def test_fit_alpha_must_be_a_finite_number_at_least_zero(capsys, exact_csv, value):
    # --alpha: a word, a negative and an infinite penalty are refused while parsing
    status, _, err = _cli(capsys, "fit", "d.csv", "--target", "y", "--model", "ridge",
                          "--alpha", value)
    assert status == 2
    assert _one_error_line(err, "wonderland fit").endswith(
        f"argument --alpha: must be a number >= 0, got {value!r}")


@pytest.mark.parametrize("save, says", [
    ("m.txt", "must end in .json or .npz, got 'm.txt'"),
    ("nope/m.json", "the folder of 'nope/m.json' does not exist"),
    ("folder.json", "'folder.json' is a folder, not a file name"),
])
def test_fit_save_that_cannot_be_a_model_file_is_refused(capsys, exact_csv, save, says):
    # --save: a wrong suffix, a missing folder, an existing folder: refused before the fit
    (exact_csv.parent / "folder.json").mkdir()
    status, _, err = _cli(capsys, "fit", "d.csv", "--target", "y", "--model", "ridge",
                          "--save", save)
    assert status == 2
    assert _one_error_line(err, "wonderland fit").endswith(f"argument --save: {says}")


@pytest.mark.skipif(not HAS_PROC, reason="needs /proc (a folder nobody may write into)")
def test_fit_save_into_an_unwritable_folder_is_refused(capsys, exact_csv):
    # --save in a folder that cannot be written (even by root: /proc/self) is refused up front
    status, _, err = _cli(capsys, "fit", "d.csv", "--target", "y", "--model", "ridge",
                          "--save", "/proc/self/m.json")
    assert status == 2
    assert _one_error_line(err, "wonderland fit").endswith(
        "argument --save: cannot write into the folder of '/proc/self/m.json'")


@pytest.mark.parametrize("model, solver, says", [
    ("ridge", "newton", "'newton' is not a solver of --model ridge (it has only auto)"),
    ("hinge", "lbfgs", "'lbfgs' is not a solver of --model hinge (it has only auto)"),
    ("linear", "newton", "'newton' is not a solver of --model linear (choose from auto, "
                         "normal, lstsq, gd)"),
])
def test_fit_solver_of_another_model_is_refused(capsys, exact_csv, model, solver, says):
    # --solver must be one of the chosen model's solvers; the message lists them
    status, _, err = _cli(capsys, "fit", "d.csv", "--target", "y", "--model", model,
                          "--solver", solver)
    assert status == 2
    assert _one_error_line(err, "wonderland fit").endswith(f"argument --solver: {says}")


def test_fit_alpha_with_linear_is_refused_but_alpha_zero_fits(capsys, exact_csv):
    # --model linear has no penalty: --alpha 0.5 is an error, --alpha 0 fits y = a + 2b + 0.5
    status, _, err = _cli(capsys, "fit", "d.csv", "--target", "y", "--model", "linear",
                          "--alpha", "0.5")
    assert status == 2
    assert "--model linear has no penalty; use --model ridge" in _one_error_line(
        err, "wonderland fit")
    status, out, err = _cli(capsys, "fit", "d.csv", "--target", "y", "--model", "linear",
                            "--alpha", "0")
    assert status == 0, err
    model = linear.load("model.json")
    np.testing.assert_allclose(model.coef_, [1.0, 2.0], atol=1e-10)
    assert model.intercept_ == pytest.approx(0.5, abs=1e-10)
    assert "train (30 rows): R2 1.0000, RMSE 0.0000" in out


def test_fit_one_row_hints_test_size_zero_which_then_fits(capsys, tmp_path, monkeypatch):
    # one row cannot be split: the error says --test-size 0, and with it the fit runs
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "one.csv", ["a", "y"], [(1, 2)])
    status, _, err = _cli(capsys, "fit", "one.csv", "--target", "y", "--model", "linear")
    assert status == 2
    assert _one_error_line(err, "wonderland fit").endswith(
        "; pass --test-size 0 to fit on every row")
    status, out, _ = _cli(capsys, "fit", "one.csv", "--target", "y", "--model", "linear",
                          "--test-size", "0")
    assert status == 0
    assert "train (1 row): R2 undefined for 1 row, RMSE 0.0000" in out


def test_fit_multiclass_prints_each_class_block_as_saved(capsys, three_classes_csv):
    # a 3-class logistic model prints "class k:" blocks matching the saved coefficients
    status, out, err = _cli(capsys, "fit", "three.csv", "--target", "y", "--model",
                            "logistic", "--alpha", "0.1")
    assert status == 0, err
    model = linear.load("model.json")
    for k, label in enumerate(model.classes_):
        block = out.split(f"class {label}:\n", 1)[1].splitlines()[:3]
        shown = [float(line.split()[-1]) for line in block]
        np.testing.assert_allclose(shown, [*model.coef_[k], model.intercept_[k]], rtol=1e-5)


def test_fit_on_a_folder_is_one_line(capsys, tmp_path, monkeypatch):
    # DATA naming a folder: one line, status 2 (the delimiter hint cannot open it either)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "adir").mkdir()
    status, _, err = _cli(capsys, "fit", "adir", "--target", "y", "--model", "linear")
    assert status == 2
    assert "'adir' is a directory" in _one_error_line(err, "wonderland fit")


def test_fit_warning_with_many_column_names_is_shortened(capsys, tmp_path, monkeypatch):
    # eight constant columns: the collinearity warning lists "c0, c1, c2, c3, ..., c7"
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    rows = [["1"] * 8 + [_num(x), _num(2 * x + 0.1 * e)] for x, e in rng.normal(size=(12, 2))]
    _write(tmp_path / "c.csv", [f"c{i}" for i in range(8)] + ["x", "y"], rows)
    status, _, err = _cli(capsys, "fit", "c.csv", "--target", "y", "--model", "linear")
    assert status == 0
    assert err.count("\n") == 1
    assert "columns c0, c1, c2, c3, ..., c7 (8 in all) are constant" in err


def test_fit_without_pandas_still_fits(capsys, exact_csv, monkeypatch):
    # pandas is optional: without it the fit runs on a plain array and names the features
    monkeypatch.setitem(sys.modules, "pandas", None)
    status, out, err = _cli(capsys, "fit", "d.csv", "--target", "y", "--model", "ridge")
    assert status == 0, err
    assert "  a " in out and "  b " in out and "model written to model.json" in out


# Fixed; before the fix: without pandas (an optional dependency) `fit` saves a model with no
# feature names, so `wonderland predict model.json data.csv` on the training CSV fails:
# "'d.csv' has 3 columns but the model was fitted on 2 features" (README: predict reads the
# features by name and ignores the target)
def test_fit_then_predict_on_the_same_csv_without_pandas(capsys, exact_csv, monkeypatch):
    # the README's workflow, fit then predict on the same file, must not need pandas
    monkeypatch.setitem(sys.modules, "pandas", None)
    assert _cli(capsys, "fit", "d.csv", "--target", "y", "--model", "ridge")[0] == 0
    status, out, err = _cli(capsys, "predict", "model.json", "d.csv")
    assert status == 0, err


# Fixed; before the fix: a target whose squares overflow float64 (y = ±1e200) makes
# fit.metrics compute inf/inf = nan, and the report says 'R2 undefined (the target is constant
# in these rows)' for a target that is not constant (true R² ≈ 0.048; RMSE is printed as inf)
def test_fit_report_does_not_call_a_huge_target_constant(capsys, tmp_path, monkeypatch):
    # the R² of a non-constant target must not be reported as "the target is constant"
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "big.csv", ["x", "y"], [(i, _num((-1.0) ** i * 1e200))
                                              for i in range(1, 9)])
    status, out, _ = _cli(capsys, "fit", "big.csv", "--target", "y", "--model", "linear",
                          "--test-size", "0")
    assert status == 0
    assert "constant" not in out


def test_fit_classifier_needs_whole_number_labels(capsys, exact_csv):
    # --model logistic on a continuous target: the first fractional value is named
    status, _, err = _cli(capsys, "fit", "d.csv", "--target", "y", "--model", "logistic")
    assert status == 2
    assert "--model logistic needs class labels (whole numbers) in column 'y', found " in \
        _one_error_line(err, "wonderland fit")


def test_fit_metric_that_is_not_a_number_is_said_in_words(capsys, tmp_path, monkeypatch):
    # a target at float64's limit (±1.7e308): RMSE is NaN and printed as "undefined", not nan
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "max.csv", ["x", "y"], [(i, _num((-1.0) ** i * 1.7e308))
                                              for i in range(1, 9)])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        status, out, _ = _cli(capsys, "fit", "max.csv", "--target", "y", "--model", "linear",
                              "--test-size", "0")
    assert status == 0
    assert "RMSE undefined" in out and "nan" not in out.split("train (", 1)[1]


# ------------------------------------------------------------------ wonderland predict


@pytest.fixture
def unnamed_model(tmp_path, monkeypatch) -> Path:
    """A model fitted on an array (no feature names): y = a + 2 b, two features."""
    monkeypatch.chdir(tmp_path)
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    linear.LinearRegression().fit(X, X @ [1.0, 2.0]).save(tmp_path / "m.json")
    _write(tmp_path / "two.csv", ["a", "b"], [(1, 2), (4, 5)])
    _write(tmp_path / "three.csv", ["a", "b", "c"], [(1, 2, 3)])
    return tmp_path / "m.json"


def test_predict_column_count_must_match_a_model_without_names(capsys, unnamed_model):
    # a model without feature names takes every column: 3 columns for 2 features is refused
    status, _, err = _cli(capsys, "predict", "m.json", "three.csv")
    assert status == 2
    assert _one_error_line(err, "wonderland predict").endswith(
        "'three.csv' has 3 columns but the model was fitted on 2 features")
    status, out, _ = _cli(capsys, "predict", "m.json", "two.csv")
    assert status == 0
    assert out.split() == ["prediction", "5", "14"]


def test_predict_missing_model_file_is_one_line(capsys, unnamed_model):
    # a MODEL that does not exist: "load: cannot read ...", status 2
    status, _, err = _cli(capsys, "predict", "missing.json", "two.csv")
    assert status == 2
    assert _one_error_line(err, "wonderland predict").endswith(
        "load: cannot read 'missing.json': No such file or directory")


def test_predict_bad_model_file_has_no_swapped_arguments_hint(capsys, unnamed_model):
    # a broken .json model is named as such; the "model comes first" hint is only for a .csv
    (unnamed_model.parent / "bad.json").write_text("{not json")
    status, _, err = _cli(capsys, "predict", "bad.json", "two.csv")
    assert status == 2
    line = _one_error_line(err, "wonderland predict")
    assert "'bad.json' is not a valid wl.linear model file" in line
    assert "comes first" not in line


@pytest.mark.skipif(not HAS_PROC, reason="needs /proc (a folder nobody may write into)")
def test_predict_out_in_an_unwritable_folder_is_refused(capsys, unnamed_model):
    # --out in a folder that cannot be written is refused before anything runs
    status, _, err = _cli(capsys, "predict", "m.json", "two.csv", "--out", "/proc/self/p.csv")
    assert status == 2
    assert _one_error_line(err, "wonderland predict").endswith(
        "argument --out: cannot write into the folder of '/proc/self/p.csv'")


def test_predict_out_that_cannot_be_opened_is_one_line(capsys, unnamed_model):
    # --out a dangling symbolic link: passes the checks, then open() fails: one line, 2
    os.symlink("/nonexistent-folder/p.csv", "link.csv")
    status, out, err = _cli(capsys, "predict", "m.json", "two.csv", "--out", "link.csv")
    assert status == 2
    assert out == ""
    assert _one_error_line(err, "wonderland predict").endswith(
        "argument --out: cannot write 'link.csv': No such file or directory")


def test_predict_python_warning_is_one_stderr_line(capsys, tmp_path, monkeypatch):
    # a warning while the command runs (NumPy's overflow) is one "warning:" line
    monkeypatch.chdir(tmp_path)
    X = np.array([[0.0], [1.0], [2.0]])
    linear.LinearRegression().fit(X, 3 * X[:, 0]).save(tmp_path / "m.json")
    _write(tmp_path / "huge.csv", ["x0"], [("1e308",), (2,)])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        status, out, err = _cli(capsys, "predict", "m.json", "huge.csv")
    assert status == 0
    assert out.split() == ["prediction", "inf", "6"]
    assert err == "wonderland predict: warning: overflow encountered in matmul\n"


# ------------------------------------------------------------------ wonderland (main)


def test_unknown_option_without_a_command_is_one_line(capsys):
    # `wonderland --foo`: no command, an unknown option: one line, status 2
    status, _, err = _cli(capsys, "--foo")
    assert status == 2
    assert _one_error_line(err, "wonderland") == "wonderland: error: unrecognized arguments: --foo"


@pytest.fixture
def raising_examples(monkeypatch):
    """Make `wonderland examples` (the default command) raise a given exception."""

    def install(exc: BaseException) -> None:
        def run(args):
            raise exc

        monkeypatch.setattr("wonderland.cli.examples.run", run)

    return install


def test_out_of_memory_is_one_line_status_1(capsys, raising_examples):
    # a MemoryError while a command runs: one line naming it, status 1
    raising_examples(MemoryError())
    status, _, err = _cli(capsys, "examples")
    assert status == 1
    assert _one_error_line(err, "wonderland examples").endswith(
        "out of memory; try smaller arguments")


@pytest.mark.parametrize("exc", [MemoryError(), KeyboardInterrupt(),
                                 OSError(28, "No space left on device")])
def test_debug_variable_shows_the_real_exception(capsys, raising_examples, monkeypatch, exc):
    # WONDERLAND_DEBUG=1: Ctrl-C, memory and OS errors propagate (the traceback on request)
    monkeypatch.setenv("WONDERLAND_DEBUG", "1")
    raising_examples(exc)
    with pytest.raises(type(exc)):
        main(["examples"])


def test_ctrl_c_while_loading_the_commands(capsys, monkeypatch):
    # Ctrl-C before a command runs (while the commands load): one line, status 130
    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_main, "_modules", interrupted)
    status, _, err = _cli(capsys, "practice")
    assert status == 130
    assert err == "wonderland: error: interrupted\n"
    monkeypatch.setenv("WONDERLAND_DEBUG", "1")
    with pytest.raises(KeyboardInterrupt):
        main(["practice"])


def test_help_on_an_ascii_terminal_escapes_what_it_lacks(monkeypatch):
    # stdout in ASCII (PYTHONIOENCODING=ascii): "×" and "η" of the help print as escapes
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stream)
    assert main(["practice", "--help"]) == 0
    stream.flush()
    text = raw.getvalue().decode("ascii")
    assert "N \\xd7" in text and "step size \\u03b7" in text


def test_a_stream_that_cannot_be_reconfigured_is_left_alone(monkeypatch):
    # a non-UTF-8 stdout whose reconfigure() fails is used as it is, without an error
    class Fixed(io.StringIO):
        encoding = "latin-1"

        def reconfigure(self, **kwargs):
            raise ValueError("cannot change now")

    stream = Fixed()
    monkeypatch.setattr(sys, "stdout", stream)
    assert main(["--version"]) == 0
    assert stream.getvalue() == f"wonderland {wl.__version__}\n"


def test_errors_with_stderr_closed_still_exit_2(monkeypatch, tmp_path):
    # started with stderr closed (2>&-, sys.stderr None): a bad input still exits 2
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stderr", None)
    assert main(["fit", "missing.csv", "--target", "y", "--model", "linear"]) == 2
    assert main(["practice", "--steps", "0"]) == 2


def test_momentum_in_unit_interval_is_accepted():
    # --momentum 0.5 parses to 0.5 (the valid side of the [0, 1) check)
    _, commands = cli_main.build_parser()
    assert commands["practice"].parse_args(["--momentum", "0.5"]).momentum == 0.5


@pytest.mark.skipif(not HAS_PROC, reason="needs /proc (a folder nobody may write into)")
@pytest.mark.parametrize("out, says", [
    ("/proc/self/figures", "cannot create '/proc/self/figures': '/proc/self' is not writable"),
    ("/proc/self", "cannot write into '/proc/self': '/proc/self' is not writable"),
])
def test_out_folder_that_cannot_be_written(capsys, out, says):
    # --out under (or at) a folder nobody may write: named before anything runs
    status, _, err = _cli(capsys, "practice", "--out", out)
    assert status == 2
    assert _one_error_line(err, "wonderland practice").endswith(f"argument --out: {says}")


def test_out_folder_name_too_long(capsys):
    # an --out name the system refuses (too long): "cannot use ...: File name too long"
    status, _, err = _cli(capsys, "tour", "--out", "x" * 300)
    assert status == 2
    assert _one_error_line(err, "wonderland tour").endswith(": File name too long")


# ------------------------------------------------------------------ wonderland practice


@pytest.mark.parametrize("framework, hint", [("torch", "pip install torch==2.13.0"),
                                             ("jax", "pip install jax")])
def test_practice_framework_not_installed(capsys, monkeypatch, tmp_path, framework, hint):
    # --framework torch/jax without it installed: one line with the pip command, status 2
    monkeypatch.setitem(sys.modules, framework, None)
    status, _, err = _cli(capsys, "practice", "--framework", framework, "--out",
                          str(tmp_path / "p"))
    assert status == 2
    assert _one_error_line(err, "wonderland practice").endswith(
        f"--framework {framework} needs {framework}, which is not installed ({hint})")


# ------------------------------------------------------------------ wonderland tour


def test_tour_module_main_bad_out(capsys):
    # `python -m wonderland.cli.tour --out ''`: the command's own main, one line, status 2
    assert tour_cli.main(["--out", ""]) == 2
    _, err = capsys.readouterr()
    assert err == "wonderland tour: error: argument --out: must name a folder, got ''\n"


def test_tour_module_runs_as_a_script():
    # the module entry point (`if __name__ == "__main__"`) exits with main's status
    done = subprocess.run([sys.executable, "-m", "wonderland.cli.tour", "--out", ""],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == "wonderland tour: error: argument --out: must name a folder, got ''\n"


def test_tour_module_main_interrupted(capsys, monkeypatch, tmp_path):
    # Ctrl-C during `python -m wonderland.cli.tour`: one line, status 130
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tour_package, "run_tour", interrupted)
    assert tour_cli.main(["--out", str(tmp_path / "t")]) == 130
    assert capsys.readouterr().err == "wonderland tour: error: interrupted\n"


def test_tour_run_checks_out_again_at_run_time(tmp_path):
    # run() re-checks --out (it may have become a file since parsing): status 2
    (tmp_path / "afile").write_text("x")
    args = argparse.Namespace(out=str(tmp_path / "afile"), quick=True, open=False,
                              progress=False)
    with pytest.raises(tour_cli.CommandError, match="is an existing file, not a folder") as info:
        tour_cli.run(args)
    assert info.value.status == 2


@pytest.mark.parametrize("opener", ["returns False", "raises"])
def test_tour_open_without_a_browser_warns(capsys, monkeypatch, tmp_path, opener):
    # --open where no browser opens: one warning naming the report, status still 0
    report = tmp_path / "t" / "report.html"

    def fake_tour(out, **kwargs):
        return tour_package.TourResult([Section("demo", 1, "Demo")], report, 0.1)

    def no_browser(url):
        if opener == "raises":
            raise webbrowser.Error("no runnable browser")
        return False

    monkeypatch.setattr(tour_package, "run_tour", fake_tour)
    monkeypatch.setattr(webbrowser, "open", no_browser)
    status, out, err = _cli(capsys, "tour", "--out", str(tmp_path / "t"), "--open")
    assert status == 0
    assert f"report: {report}" in out
    # a warning as every other: the command's name, then "warning:"
    assert err == f"wonderland tour: warning: could not open a web browser; open {report} " \
        f"yourself\n"


def _demo_spec(build=None, key="demo", title="Demo") -> SectionSpec:
    """A tiny tour section: one highlighted number and one small figure."""

    def default(ctx, s):
        s.number("answer", "the answer", 42, highlight=True)
        fig = Figure(figsize=(2, 2))
        ax = fig.add_subplot()
        ax.plot([0, 1], [1, 0])
        ax.set_title("demo")
        s.figure("demo_figure", "A demo figure.", fig)
        ctx.tick("step")

    return SectionSpec(key, title, 1, build or default)


def test_tour_failing_part_after_a_highlight(capsys, monkeypatch, tmp_path):
    # a part that fails after a highlighted number: the table shows both, the traceback
    # goes to stderr under WONDERLAND_DEBUG, and the command exits 1 naming the part
    def failing(ctx, s):
        s.number("answer", "the answer", 42, highlight=True)
        raise RuntimeError("section broke")

    monkeypatch.setattr(tour_package, "SECTIONS", (_demo_spec(failing),))
    monkeypatch.setenv("WONDERLAND_DEBUG", "1")
    status, out, err = _cli(capsys, "tour", "--out", str(tmp_path / "t"), "--no-progress")
    assert status == 1
    table = out.split("----\n", 1)[1]
    assert "the answer: 42" in table and "FAILED: RuntimeError: section broke" in table
    assert table.index("the answer: 42") < table.index("FAILED")
    assert "part 1 (Demo) failed: RuntimeError: section broke" in err
    assert "Traceback (most recent call last)" in err  # asked for with WONDERLAND_DEBUG
    assert err.strip().splitlines()[-1] == (
        "wonderland tour: error: 1 part(s) failed: 1. Demo (the report shows the error; set "
        "WONDERLAND_DEBUG=1 for the traceback)")


def test_tour_module_main_failing_part_is_status_1(capsys, monkeypatch, tmp_path):
    # `python -m wonderland.cli.tour`: a failed part is the command's one error line, 1
    def failing(ctx, s):
        raise RuntimeError("section broke")

    monkeypatch.setattr(tour_package, "SECTIONS", (_demo_spec(failing),))
    assert tour_cli.main(["--out", str(tmp_path / "t"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("wonderland tour: error: 1 part(s) failed: 1. Demo")
    assert "Traceback" not in err


def test_tour_progress_bar_on_a_terminal(monkeypatch, tmp_path):
    # stderr a terminal: a tqdm bar per part, ending at its total
    monkeypatch.setattr(tour_package, "SECTIONS", (_demo_spec(),))
    stream = _Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    result = tour_package.run_tour(tmp_path / "t", quick=True, progress=True, workers=0)
    assert result.report.exists()
    shown = stream.getvalue()
    assert "\r" in shown and "[1/1] 1. Demo" in shown and "2/2" in shown
    assert "] ," not in shown  # the elapsed time, then ", <note>" (no stray comma)


def test_tour_progress_on_a_closed_stream_is_plain(monkeypatch, tmp_path):
    # a stderr whose isatty() fails (closed): one plain line per part, no bar
    class Closed(io.StringIO):
        def isatty(self):
            raise ValueError("I/O operation on closed file")

    monkeypatch.setattr(tour_package, "SECTIONS", (_demo_spec(),))
    stream = Closed()
    monkeypatch.setattr(sys, "stderr", stream)
    tour_package.run_tour(tmp_path / "t", quick=True, progress=True, workers=0)
    assert stream.getvalue().startswith("[1/1] 1. Demo  ")
    assert "\r" not in stream.getvalue()


def test_run_tour_unknown_section_is_named():
    # only= with a key that is no section: ValueError listing the sections
    with pytest.raises(ValueError, match=r"no section named 'tensor'; the sections are "
                                         r"tensors, derivatives"):
        tour_package.run_tour("unused", only=["tensor"])


def test_tour_workers_variable_zero_renders_here(monkeypatch, tmp_path):
    # WONDERLAND_TOUR_WORKERS=0: no process pool at all, the figures are rendered here
    class NoPool:
        def __init__(self, *args, **kwargs):
            raise AssertionError("a process pool was started")

    monkeypatch.setattr(tour_package, "SECTIONS", (_demo_spec(),))
    monkeypatch.setenv("WONDERLAND_TOUR_WORKERS", "0")
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", NoPool)
    tour_package.run_tour(tmp_path / "t", quick=True, progress=False)
    assert (tmp_path / "t" / "demo_figure.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("failure", ["submit", "result"])
def test_tour_broken_render_pool_falls_back_to_here(monkeypatch, tmp_path, failure):
    # a process pool that breaks (at submit, or a worker that dies): rendered here instead
    class BrokenPool:
        def __init__(self, *args, **kwargs):
            pass

        def submit(self, fn, *args):
            if failure == "submit":
                raise BrokenProcessPool("a worker died")
            future = concurrent.futures.Future()
            future.set_exception(BrokenProcessPool("a worker died"))
            return future

        def shutdown(self, *args, **kwargs):
            pass

    monkeypatch.setattr(tour_package, "SECTIONS", (_demo_spec(),))
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", BrokenPool)
    result = tour_package.run_tour(tmp_path / "t", quick=True, progress=False, workers=1)
    assert not result.failed
    assert (tmp_path / "t" / "demo_figure.png").read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((tmp_path / "t" / "summary.json").read_text())
    assert summary["sections"]["demo"]["figures"] == ["demo_figure.png"]


def test_jsonable_arrays_and_other_objects():
    # summary.json values: arrays as lists (NaN as null), any other object as its str
    assert jsonable(np.array([1.0, np.nan])) == [1.0, None]
    assert jsonable(Path("a") / "b") == str(Path("a") / "b")
    assert jsonable(1 + 2j) == "(1+2j)"


def test_matrix_panel_of_a_constant_matrix():
    # a constant matrix still gets a colour range (vmin < vmax) and its numbers
    from wonderland.tour.figures import matrix_panel, new_figure, png_bytes

    fig, ax = new_figure()
    matrix_panel(ax, np.ones((2, 2)), "ones")
    low, high = ax.images[0].get_clim()
    assert low < 1.0 < high
    assert [t.get_text() for t in ax.texts] == ["1"] * 4
    assert png_bytes(fig)[:4] == b"\x89PNG"


def test_plain_log_ticks_are_plain_decimals():
    # plain_log_ticks labels a short log axis 0.3, 0.4, 1 rather than 3×10⁻¹
    from wonderland.tour.figures import new_figure, plain_log_ticks, png_bytes

    fig, ax = new_figure()
    ax.plot([1, 2, 3], [2.0, 0.6, 0.25])
    ax.set_yscale("log")
    plain_log_ticks(ax.yaxis)
    png_bytes(fig)
    labels = {t.get_text() for t in ax.get_yticklabels(which="both")}
    assert {"0.3", "0.4", "1"} <= labels
    assert not any("times" in label or "10^" in label for label in labels)


def test_pretrained_figure_of_the_full_run_is_labelled():
    # the full run's pre-trained network figure (the section itself takes ~30 s): labels
    from wonderland.tour.figures import png_bytes
    from wonderland.tour.sections import _digits_figure

    rng = np.random.default_rng(0)
    net = SimpleNamespace(filters=wl.tensor(rng.normal(size=(9, 16))))
    images = rng.random((3, 64))
    fig = _digits_figure(net, images, images[::-1], [2.0, 1.0, 0.5])
    loss_axes = fig.axes[-1]
    assert loss_axes.get_xlabel() == "epoch"
    assert loss_axes.get_ylabel() == "cross-entropy on digits 0–4 (nats)"
    assert loss_axes.get_title() == "pre-training loss"
    assert [ax.get_ylabel() for ax in fig.axes[:2]] == ["centred", "off-centre"]
    assert len(fig.axes) == 2 * 3 + 16 + 1
    assert fig.get_suptitle().startswith("new digits (left)")
    assert png_bytes(fig, 50)[:4] == b"\x89PNG"


# ------------------------------------------------------------------ wonderland bench


def test_bench_json_naming_a_folder(capsys, tmp_path):
    # --json a folder: refused before any workload runs
    status, _, err = _cli(capsys, "bench", "--quick", "--only", "W1", "--peers", "none",
                          "--json", str(tmp_path))
    assert status == 2
    assert _one_error_line(err, "wonderland bench").endswith(
        f"--json {str(tmp_path)!r} is a folder, not a file")


@pytest.mark.skipif(not HAS_DEV_FULL, reason="needs /dev/full")
def test_bench_files_on_a_full_disk(capsys, tmp_path):
    # a full disk (a link to /dev/full): the run's --json is one line naming it, status 1,
    # after the table (the run is not lost); --plot's chart too, naming --out
    os.symlink("/dev/full", tmp_path / "full.json")
    os.symlink("/dev/full", tmp_path / "full.png")
    status, out, err = _cli(capsys, "bench", "--quick", "--only", "W1", "--peers", "none",
                            "--json", str(tmp_path / "full.json"))
    assert status == 1
    assert "W1" in out and "limit" in out  # the table
    assert err.strip().splitlines()[-1] == (
        f"wonderland bench: error: --json {str(tmp_path / 'full.json')!r}: cannot write it: "
        f"No space left on device")
    assert "Traceback" not in err
    saved = tmp_path / "run.json"
    assert _cli(capsys, "bench", "--quick", "--only", "W1", "--peers", "none",
                "--json", str(saved))[0] == 0
    status, out, err = _cli(capsys, "bench", "--plot", str(saved), "--out",
                            str(tmp_path / "full.png"))
    assert status == 1
    assert _one_error_line(err, "wonderland bench") == (
        f"wonderland bench: error: --out {str(tmp_path / 'full.png')!r}: cannot write it: "
        f"No space left on device")


@pytest.mark.skipif(not HAS_DEV_FULL, reason="needs /dev/full")
def test_predict_out_on_a_full_disk_names_the_file(capsys, exact_csv, tmp_path):
    # predictions to a full disk: one line naming --out and its file, status 1
    assert _cli(capsys, "fit", "d.csv", "--target", "y", "--model", "ridge")[0] == 0
    os.symlink("/dev/full", tmp_path / "full.csv")
    status, _, err = _cli(capsys, "predict", "model.json", "d.csv", "--out",
                          str(tmp_path / "full.csv"))
    assert status == 1
    assert _one_error_line(err, "wonderland predict") == (
        f"wonderland predict: error: argument --out: cannot write "
        f"{str(tmp_path / 'full.csv')!r}: No space left on device")


# ------------------------------------------------------------------ wonderland fit --dask


@pytest.fixture(scope="module")
def inproc_scheduler():
    """A Dask cluster in this process (threads): fast to start, and seen by coverage."""
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("dask.dataframe")
    cluster = distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=2,
                                       dashboard_address=None)
    yield cluster.scheduler_address
    cluster.close()


@pytest.fixture
def two_class_csv(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 2))
    y = (X @ [2.0, -1.0] + 0.5 * rng.normal(size=200) > 0).astype(int)
    return _write(tmp_path / "cls.csv", ["a", "b", "y"],
                  [(_num(a), _num(b), int(t)) for (a, b), t in zip(X, y)])


def test_dask_logistic_matches_the_in_memory_fit(capsys, two_class_csv, inproc_scheduler):
    # --dask --model logistic: the same coefficients and metrics as in memory, int classes
    status, out_mem, _ = _cli(capsys, "fit", "cls.csv", "--target", "y", "--model",
                              "logistic", "--test-size", "0", "--save", "mem.json")
    assert status == 0
    status, out_dask, err = _cli(capsys, "fit", "cls.csv", "--target", "y", "--model",
                                 "logistic", "--test-size", "0", "--save", "dask.json",
                                 "--dask", "--scheduler", inproc_scheduler)
    assert status == 0, err
    mem, dask_model = linear.load("mem.json"), linear.load("dask.json")
    np.testing.assert_allclose(dask_model.coef_, mem.coef_, rtol=1e-8)
    assert dask_model.classes_.tolist() == [0, 1]
    train_line = [line for line in out_mem.splitlines() if line.startswith("train")][0]
    assert train_line in out_dask  # accuracy and log-loss as Dask reductions


def test_dask_test_size_splits_the_rows(capsys, two_class_csv, inproc_scheduler):
    # --dask --test-size 0.3: random_split; train and test rows add up to every row
    status, out, err = _cli(capsys, "fit", "cls.csv", "--target", "y", "--model", "logistic",
                            "--test-size", "0.3", "--dask", "--scheduler", inproc_scheduler)
    assert status == 0, err
    counts = {line.split()[0]: int(line.split("(")[1].split()[0])
              for line in out.splitlines() if line.startswith(("train (", "test ("))}
    assert counts["train"] + counts["test"] == 200
    assert 30 <= counts["test"] <= 90
    assert "log-loss" in out.split("test (", 1)[1]


def test_dask_warning_and_save_failure(capsys, tmp_path, monkeypatch, inproc_scheduler):
    # --dask: a fit warning is one stderr line; a --save that cannot be written comes
    # after the report, one line, status 2
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "k.csv", ["a", "k", "y"], [(a, 1, 2 * a + 1) for a in range(20)])
    os.symlink("/nonexistent-folder/m.json", tmp_path / "dangling.json")
    status, out, err = _cli(capsys, "fit", "k.csv", "--target", "y", "--model", "linear",
                            "--test-size", "0", "--save", "dangling.json", "--dask",
                            "--scheduler", inproc_scheduler)
    assert status == 2
    assert "train (20 rows): R2 1.0000" in out
    lines = err.strip().splitlines()
    assert lines[0].startswith("wonderland fit: warning: LinearRegression: column k is "
                               "constant")
    assert lines[1] == ("wonderland fit: error: argument --save: cannot write the model to "
                        "'dangling.json': No such file or directory")


def test_dask_only_the_target_column(capsys, tmp_path, monkeypatch, inproc_scheduler):
    # --dask on a file with only the target column: one line, status 2
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "y.csv", ["y"], [(1,), (2,), (3,)])
    status, _, err = _cli(capsys, "fit", "y.csv", "--target", "y", "--model", "linear",
                          "--dask", "--scheduler", inproc_scheduler)
    assert status == 2
    assert _one_error_line(err, "wonderland fit").endswith(
        "'y.csv' has only the target column 'y'; no features")


@pytest.mark.parametrize("cell, why", [("x", "a non-numeric value 'x'"),
                                       ("", "an empty cell"),
                                       ("inf", "a non-finite value 'inf'")])
def test_dask_bad_cell_is_named_by_file_row_and_column(capsys, tmp_path, monkeypatch,
                                                       inproc_scheduler, cell, why):
    # --dask: a bad cell, read on the cluster, is one line naming the file, row and column
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "bad.csv", ["a", "y"], [(1, 2), (cell, 3), (4, 5)])
    status, _, err = _cli(capsys, "fit", "bad.csv", "--target", "y", "--model", "linear",
                          "--dask", "--scheduler", inproc_scheduler)
    assert status == 2
    assert _one_error_line(err, "wonderland fit").endswith(
        f"{why} in file 'bad.csv' (block/partition 0), row 1 (data rows counted from 0), "
        f"column 'a'")


@pytest.fixture
def dask_ready(tmp_path, monkeypatch):
    pytest.importorskip("dask.dataframe")
    pytest.importorskip("distributed")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_dask_files_with_different_columns(capsys, dask_ready):
    # a glob whose files have other columns: one line naming both, before any cluster
    _write(dask_ready / "p1.csv", ["a", "y"], [(1, 2)])
    _write(dask_ready / "p2.csv", ["b", "y"], [(1, 2)])
    status, _, err = _cli(capsys, "fit", "p*.csv", "--target", "y", "--model", "linear",
                          "--dask")
    assert status == 2
    assert _one_error_line(err, "wonderland fit").endswith(
        "'p2.csv' has the columns b, y; 'p1.csv' has a, y")


def test_dask_empty_csv_is_one_line(capsys, dask_ready):
    # an empty CSV: "cannot read ...", status 2, before any cluster starts
    (dask_ready / "empty.csv").write_text("")
    status, _, err = _cli(capsys, "fit", "empty.csv", "--target", "y", "--model", "linear",
                          "--dask")
    assert status == 2
    line = _one_error_line(err, "wonderland fit")
    assert "cannot read 'empty.csv'" in line and "No columns to parse" in line


def test_dask_parquet_without_pyarrow(capsys, dask_ready, monkeypatch):
    # Parquet without pyarrow: one line with the pip command, status 2
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    (dask_ready / "x.parquet").write_bytes(b"PAR1")
    status, _, err = _cli(capsys, "fit", "x.parquet", "--target", "y", "--model", "linear",
                          "--dask")
    assert status == 2
    assert _one_error_line(err, "wonderland fit").endswith(
        "reading Parquet needs pyarrow: pip install pyarrow")


def test_dask_not_installed(capsys, exact_csv, monkeypatch):
    # --dask without distributed: one line with the pip command, status 2
    monkeypatch.setitem(sys.modules, "distributed", None)
    status, _, err = _cli(capsys, "fit", "d.csv", "--target", "y", "--model", "linear",
                          "--dask")
    assert status == 2
    line = _one_error_line(err, "wonderland fit")
    assert "--dask needs dask[dataframe] and distributed" in line
    assert line.endswith("pip install 'wonderland[dask]'")


def test_dask_metrics_of_a_classifier_match_in_memory(two_class_csv):
    # metrics_dask of a classifier (with and without predict_proba) equals fit.metrics
    dask = pytest.importorskip("dask")
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    from wonderland.cli.fit import metrics
    from wonderland.cli.fit_dask import metrics_dask

    frame = pd.read_csv(two_class_csv)
    X, y = frame[["a", "b"]], frame["y"].to_numpy()
    blocks = dd.from_pandas(frame, npartitions=3)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the hinge SGD's max_iter note
        models = [linear.LogisticRegression().fit(X, y),
                  linear.LinearModel(loss="hinge", random_state=0, max_iter=50).fit(X, y)]
    with dask.config.set(scheduler="sync"):
        for model in models:
            got = metrics_dask(model, blocks[["a", "b"]], blocks["y"], classifier=True)
            want = metrics(model, X, y, classifier=True)
            assert got.keys() == want.keys()
            for key in want:
                assert got[key] == pytest.approx(want[key], rel=1e-12)


def test_dask_progress_counts_tasks_on_a_terminal(inproc_scheduler):
    # the progress line on a terminal: tasks done (a scheduler plugin) and seconds, erased
    import time

    import dask.array as da
    import distributed

    from wonderland.cli.fit_dask import Progress

    stream = _Terminal()
    with distributed.Client(inproc_scheduler) as client:
        with Progress(client, stream, interval=0.01):
            da.ones(100, chunks=10).sum().compute()
            time.sleep(0.1)
    shown = stream.getvalue()
    assert "tasks done" in shown and shown.startswith("\rfitting on Dask: ")
    assert shown.endswith("\r\033[K")


def test_dask_progress_without_a_working_scheduler_shows_the_time_only():
    # a client that cannot register the counter nor answer: the display shows the time only
    import time

    from wonderland.cli.fit_dask import Progress

    stream = _Terminal()
    with Progress(object(), stream, interval=0.01):
        time.sleep(0.05)
    shown = stream.getvalue()
    assert "fitting on Dask: 0." in shown and "tasks done" not in shown
    assert shown.endswith("\r\033[K")


# ------------------------------------------------------------------ wl.plot


def test_plot_backend_switches_a_gui_backend_to_agg(monkeypatch):
    # importing wl.plot under a GUI backend without a display switches to Agg
    chosen = []
    monkeypatch.setattr(matplotlib, "get_backend", lambda: "TkAgg")
    monkeypatch.setattr(matplotlib, "is_interactive", lambda: False)
    monkeypatch.setattr(matplotlib, "use", chosen.append)
    importlib.reload(wl.plot)
    assert chosen == ["Agg"]


def _sphere(X):
    return (X ** 2).sum(1)


def test_contour_paths_of_a_function_of_one_point():
    # f that takes one point (not (n, 2) rows) is evaluated point by point: right values
    def f(p):
        return float(p[0]) ** 2 + float(p[1]) ** 2  # float() of a row fails on (n, 2)

    fig = wl.plot.contour_paths(f, [[[1.0, 1.0], [0.5, 0.5]]], (-2, 2), (-2, 2),
                                resolution=11)
    levels = fig.axes[0].collections[0].levels
    assert levels[0] <= 0.0 and levels[-1] >= 8.0  # 0 at the centre, 8 at the corners
    assert fig.axes[0].get_title() == "descent path from 1 starting point"


def test_contour_paths_of_an_all_nan_path():
    # a path with no finite point: the axes stay on the box, no end is marked, it draws
    from wonderland.tour.figures import png_bytes

    fig = wl.plot.contour_paths(_sphere, [np.full((3, 2), np.nan)], (-2, 2), (-2, 2),
                                resolution=10)
    ax = fig.axes[0]
    assert tuple(ax.get_xlim()) == (-2.0, 2.0) and tuple(ax.get_ylim()) == (-2.0, 2.0)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert not any("end" in label for label in labels)
    assert png_bytes(fig)[:4] == b"\x89PNG"


def test_contour_paths_end_of_a_path_never_inside_is_clipped_to_the_edge():
    # extend=0 and a path wholly outside the box: its end is marked on the box's corner
    fig = wl.plot.contour_paths(_sphere, [[[10.0, 10.0], [11.0, 12.0]]], (-2, 2), (-2, 2),
                                resolution=10, extend=0)
    ax = fig.axes[0]
    assert tuple(ax.get_xlim()) == (-2.0, 2.0)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "end beyond the plot,\ndrawn at its edge" in labels
    marks = [c.get_offsets().tolist() for c in ax.collections
             if isinstance(c, PathCollection)]
    assert [[2.0, 2.0]] in marks


# Fixed; before the fix: contour_paths draws start markers with clip_on=False wherever they
# are: a start outside the shown axes (extend=0, or further than extend box widths) is drawn
# outside the axes, over the colour bar, instead of being clipped or marked at the edge as
# ends are
def test_contour_paths_start_outside_the_axes_is_not_drawn_over_the_colour_bar():
    # every unclipped marker (start or end) lies inside the axes' limits
    fig = wl.plot.contour_paths(_sphere, [[[2.5, 0.0], [1.0, 1.0]]], (-2, 2), (-2, 2),
                                resolution=10, extend=0)
    ax = fig.axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for c in ax.collections:
        if isinstance(c, PathCollection) and not c.get_clip_on():
            for x, y in np.asarray(c.get_offsets()):
                assert x0 <= x <= x1 and y0 <= y <= y1


def test_loss_curve_of_a_2d_array_is_one_curve_per_row():
    # a (2, T) array: two curves "series 0" and "series 1", in the legend
    fig = wl.plot.loss_curve(np.array([[3.0, 2.0, 1.0], [4.0, 1.0, 0.5]]))
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["series 0", "series 1"]
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), [4.0, 1.0, 0.5])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["series 0", "series 1"]


def test_loss_curve_dict_with_labels_is_refused():
    # a dict names its curves by its keys: labels= as well is a ValueError
    with pytest.raises(ValueError, match="labels= goes with a list of results, not a dict"):
        wl.plot.loss_curve({"gd": [1.0, 0.5]}, labels=["x"])


@pytest.mark.parametrize("draw", ["loss_curve", "grad_norms"])
def test_curves_with_nothing_finite_to_show_still_draw(draw):
    # all-NaN objective / all-zero gradient norms: a labelled, drawable, empty figure
    from wonderland.tour.figures import png_bytes

    values = [np.nan, np.nan] if draw == "loss_curve" else [0.0, 0.0]
    fig = getattr(wl.plot, draw)(values)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "iteration t" and ax.get_ylabel() and ax.get_title()
    assert all(np.isfinite(ax.get_ylim()))
    assert png_bytes(fig)[:4] == b"\x89PNG"


def test_regression_fit_1d_and_3d_x():
    # X as a 1-D array is one feature; a 3-D X is refused
    from sklearn.linear_model import LinearRegression

    X = np.arange(10.0)
    model = LinearRegression().fit(X[:, None], 2 * X + 1)
    ax = wl.plot.regression_fit(model, X, 2 * X + 1).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x0", "target")
    assert ax.get_title() == "LinearRegression: R² = 1.000"
    with pytest.raises(ValueError, match=r"X must be 2-D \(samples, features\), got shape "
                                         r"\(2, 2, 2\)"):
        wl.plot.regression_fit(model, np.zeros((2, 2, 2)), np.zeros(2))


def test_regression_fit_plane_with_every_point_above_it():
    # new data all above the fitted plane: only "above" residuals, still a labelled plane
    from sklearn.linear_model import LinearRegression

    X = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [2, 1], [1, 2]], dtype=float)
    y = X @ [1.0, 2.0] + 3
    model = LinearRegression().fit(X, y)
    ax = wl.plot.regression_fit(model, X, y + 5).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "fitted plane", "data", "residuals"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()) == ("x0", "x1", "target")


def test_regression_fit_flat_plane_keeps_the_default_view():
    # a constant target: a flat plane, seen from matplotlib's default azimuth, and the
    # title says R² is undefined
    from sklearn.linear_model import LinearRegression

    X = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [2, 1], [1, 2]], dtype=float)
    y = np.full(6, 4.0)
    ax = wl.plot.regression_fit(LinearRegression().fit(X, y), X, y).axes[0]
    assert ax.azim == pytest.approx(-60.0)
    assert ax.get_title() == "LinearRegression: R² undefined (constant target)"


# Fixed; before the fix: regression_fit's R² overflows for a target whose squares exceed
# float64 (±1e200): inf/inf = nan and the title says 'R² undefined (constant target)' for a
# non-constant target (true R² ≈ 0.048)
def test_regression_fit_title_does_not_call_a_huge_target_constant():
    # the title must not claim a constant target when the target varies
    import warnings

    from sklearn.linear_model import LinearRegression

    X = np.arange(1.0, 9.0)[:, None]
    y = 1e200 * (-1.0) ** np.arange(1, 9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = LinearRegression().fit(X, y)
        title = wl.plot.regression_fit(model, X, y).axes[0].get_title()
    assert "constant" not in title


def test_decision_boundary_rows_of_x_and_y_must_match():
    # X of 6 rows with y of 2 labels: a ValueError naming both counts
    from sklearn.linear_model import LogisticRegression

    X = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [2, 1], [1, 2]], dtype=float)
    model = LogisticRegression().fit(X, [0, 0, 1, 1, 1, 1])
    with pytest.raises(ValueError, match="X has 6 rows but y has 2"):
        wl.plot.decision_boundary(model, X, [0, 1])


def test_decision_boundary_of_a_named_model_without_pandas(monkeypatch, tmp_path):
    # a model with feature names (loaded from a file) drawn where pandas is missing:
    # it still draws, the axes named by the features
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > X[:, 1]).astype(int)
    linear.LogisticRegression(alpha=1.0).fit(pd.DataFrame(X, columns=["rooms", "age"]), y).save(
        tmp_path / "m.json")
    model = linear.load(tmp_path / "m.json")
    monkeypatch.setitem(sys.modules, "pandas", None)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "X does not have valid feature names"
        ax = wl.plot.decision_boundary(model, X, y).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("rooms", "age")


# ------------------------------------------------------------------ gradcheck, losses, taylor


def _square_sum(x):
    return (x ** 2).sum()


@pytest.mark.parametrize("kwargs, error, says", [
    (dict(rtol="a"), TypeError, "check_grad: rtol must be a real number, got 'a' (str)"),
    (dict(atol=-1.0), ValueError, "check_grad: atol must be a finite non-negative number, "
                                  "got -1.0"),
    (dict(eps=0.0), ValueError, "check_grad: eps must be a finite positive number, got 0.0"),
    (dict(order=3), ValueError, "check_grad: order must be 1 or 2, got 3"),
    (dict(modes=()), ValueError, "check_grad: modes is empty, so nothing would be checked"),
    (dict(modes=None), TypeError, "check_grad: modes must be 'rev', 'fwd' or a tuple of them"),
    (dict(modes="both"), ValueError, "check_grad: unknown mode 'both'; use 'rev' and/or 'fwd'"),
])
def test_check_grad_refuses_bad_options(kwargs, error, says):
    # each bad option of check_grad is named, with the value given
    with pytest.raises(error) as info:
        wl.check_grad(_square_sum, wl.tensor([0.5, 1.0]), **kwargs)
    assert str(info.value).startswith(says)


def test_check_grad_needs_a_point_and_takes_an_absolute_step():
    # no point: ValueError; eps= an absolute step: a right gradient passes
    with pytest.raises(ValueError, match="no arguments to check; pass the point"):
        wl.check_grad(_square_sum)
    assert wl.check_grad(_square_sum, wl.tensor([0.5, 1.0]), eps=1e-5) is None


def test_losses_refuse_a_target_that_is_no_array():
    # a target that cannot be a tensor (a dict): TypeError naming the loss and the target
    with pytest.raises(TypeError, match="squared: the target must be a Tensor, an array, a "
                                        "list or a number"):
        wl.losses.squared(wl.tensor([1.0, 2.0]), {"a": 1})


def test_losses_refuse_a_target_requiring_grad_in_another_library():
    # a prediction of another library (array_api_strict) with a NumPy target that
    # requires grad: TypeError; a constant NumPy target joins it and gives the right value
    xp = pytest.importorskip("array_api_strict")
    pred = wl.tensor(xp.asarray([1.0, 2.0]))
    with pytest.raises(TypeError, match="give both in the same library"):
        wl.losses.squared(pred, wl.tensor([1.0, 2.0], requires_grad=True))
    assert float(wl.losses.squared(pred, [1.0, 3.0])) == pytest.approx(0.5)


@pytest.mark.parametrize("delta", ["1", True])
def test_huber_delta_must_be_a_number(delta):
    # huber's delta as a string or a bool: TypeError (reduction is keyword-only)
    with pytest.raises(TypeError, match="huber: delta must be a positive number"):
        wl.losses.huber(wl.tensor([1.0]), [0.0], delta)


def test_linearization_shapes_and_repr():
    # wl.linearize: a direction or point of another shape is refused; values and repr right
    model = wl.linearize(wl.sin, wl.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"a direction of shape \(3,\) for a point of shape"):
        model.jvp(wl.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"takes points of that shape, got shape \(1,\)"):
        model(wl.tensor([1.0]))
    np.testing.assert_allclose(model(wl.tensor([0.1, 1.0])).numpy(), [0.1, np.sin(1.0)])
    np.testing.assert_allclose(model.jvp(wl.tensor([1.0, 1.0])).numpy(), [1.0, np.cos(1.0)])
    shown = repr(model)
    assert shown.startswith("Linearization(value=tensor([0.") and "at=tensor([0., 1.])" in shown
