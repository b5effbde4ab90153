"""``wonderland practice``: the text's practice exercise as a command (API.md §8)."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

import wonderland as wl
from wonderland.cli import practice
from wonderland.cli.main import main
from wonderland.cli.practice import (
    check_autodiff,
    descend,
    practice_function,
    practice_gradient,
)

FIGURES = ("paths.png", "paths_momentum.png", "grad_norms.png")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FRAMEWORKS = ("wonderland", "numpy", "torch", "jax")
# "  ( 6.37,  2.70) -> ( 4.712,  3.142)  f = -1.2  |grad| = 1.0e-07   123  tol_grad"
SUMMARY = re.compile(r"^\s+\(\s*(-?[\d.]+),\s*(-?[\d.]+)\)\s*->\s*\(\s*(-?[\d.]+),\s*(-?[\d.]+)\)"
                     r".*\b(tol_grad|tol_x|max_iter|diverged)\s*$")


def _summaries(stdout: str) -> dict[str, list[tuple[float, ...]]]:
    """The per-start summary lines, grouped under the method header that precedes them."""
    groups: dict[str, list[tuple[float, ...]]] = {}
    method = None
    for line in stdout.splitlines():
        header = re.match(r"^(gd|momentum):", line.strip())
        if header:
            method = header.group(1)
            groups.setdefault(method, [])
            continue
        m = SUMMARY.match(line)
        if m:
            assert method is not None, f"summary line before any method header: {line!r}"
            groups[method].append(tuple(float(v) for v in m.groups()[:4]))
    return groups


def _check_figures(out):
    for name in FIGURES:
        path = out / name
        assert path.is_file(), f"{name} was not written"
        assert path.read_bytes()[:8] == PNG_MAGIC, f"{name} is not a PNG"


def _check_summary(stdout, starts, seed=0):
    groups = _summaries(stdout)
    assert set(groups) == {"gd", "momentum"}, stdout
    X0 = np.random.default_rng(seed).uniform(0.0, 10.0, size=(starts, 2))
    for method, rows in groups.items():
        assert len(rows) == starts, (method, stdout)
        # each line starts from its own starting point (printed to 2 decimals)
        np.testing.assert_allclose(np.array([r[:2] for r in rows]), X0, atol=0.0051)
    return groups


def _run(args):
    return subprocess.run([sys.executable, "-m", "wonderland", *args], capture_output=True,
                          text=True, timeout=120)


# ---------------------------------------------------------------------- the command runs


def test_practice_through_main(tmp_path, capsys):
    out = tmp_path / "figs"
    status = main(["practice", "--starts", "5", "--steps", "50", "--out", str(out)])
    assert status == 0
    captured = capsys.readouterr()
    _check_figures(out)
    groups = _check_summary(captured.out, 5)
    # the printed end points are wonderland's descent
    X0 = np.random.default_rng(0).uniform(0.0, 10.0, size=(5, 2))
    for method, momentum in (("gd", 0.0), ("momentum", 0.9)):
        d = descend("wonderland", X0, 0.1, momentum, 50, 1e-6)
        ends = np.array([p[-1] for p in d.paths])
        np.testing.assert_allclose(np.array([r[2:] for r in groups[method]]), ends,
                                   atol=0.00051)


def test_practice_as_a_subprocess(tmp_path):
    out = tmp_path / "figs"
    proc = _run(["practice", "--starts", "5", "--steps", "50", "--out", str(out)])
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    _check_figures(out)
    _check_summary(proc.stdout, 5)


@pytest.mark.parametrize("framework", ["numpy", "torch", "jax"])
def test_practice_other_frameworks_print_the_same_end_points(framework, tmp_path, capsys):
    args = ["practice", "--starts", "3", "--steps", "30", "--seed", "4"]
    assert main([*args, "--out", str(tmp_path / "wl")]) == 0
    reference = _summaries(capsys.readouterr().out)
    assert main([*args, "--framework", framework, "--out", str(tmp_path / framework)]) == 0
    captured = capsys.readouterr()
    _check_figures(tmp_path / framework)
    groups = _check_summary(captured.out, 3, seed=4)
    assert framework in captured.out
    for method in ("gd", "momentum"):
        np.testing.assert_allclose(np.array(groups[method]), np.array(reference[method]),
                                   atol=0.0011)


# ---------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize("bad", [
    ["--lr", "-1"],
    ["--steps", "0"],
    ["--starts", "0"],
    ["--momentum", "1.5"],
    ["--framework", "nope"],
], ids=["lr", "steps", "starts", "momentum", "framework"])
def test_bad_arguments_exit_2_with_one_line(bad, tmp_path):
    proc = _run(["practice", "--starts", "2", "--steps", "2", "--out", str(tmp_path), *bad])
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert bad[0].lstrip("-") in lines[0], lines[0]  # names the offending option
    assert not any((tmp_path / name).exists() for name in FIGURES)


@pytest.mark.parametrize("bad", [["--lr", "0"], ["--momentum", "1"], ["--lr", "nan"],
                                 ["--steps", "-3"]])
def test_bad_arguments_through_main_exit_2(bad, tmp_path, capsys):
    assert main(["practice", "--out", str(tmp_path), *bad]) == 2
    err = capsys.readouterr().err
    assert len([line for line in err.splitlines() if line.strip()]) == 1, err
    assert err.startswith("wonderland practice: error: argument " + bad[0]), err


# ---------------------------------------------------------------- the gradient check


def _wrong_hand_gradient(X):
    g = practice_gradient(X)
    g[:, 1] += 0.01
    return g


def test_numpy_check_is_against_autodiff_not_the_hand_gradient(monkeypatch):
    """The NumPy run descends with the hand gradient; its check must differentiate the
    NumPy code, so that a wrong hand gradient is caught."""
    X = np.random.default_rng(3).uniform(0.0, 10.0, size=(4, 2))
    np.testing.assert_allclose(practice.autodiff_gradient("numpy")(X), practice_gradient(X),
                               rtol=1e-13, atol=1e-14)
    monkeypatch.setattr(practice, "practice_gradient", _wrong_hand_gradient)
    assert check_autodiff("numpy", X) == pytest.approx(0.01)
    # the descent itself still uses the (here wrong) hand gradient
    _, g = practice.value_and_gradient("numpy")(X)
    np.testing.assert_allclose(g, _wrong_hand_gradient(X))


def test_numpy_framework_reports_the_check(tmp_path, capsys):
    assert main(["practice", "--framework", "numpy", "--starts", "3", "--steps", "5",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("gradient check"))
    assert "wonderland autodiff of the NumPy code against the hand-written gradient" in line
    assert float(line.rsplit("=", 1)[1]) < 1e-12


@pytest.mark.parametrize("framework", ["numpy", "wonderland"])
def test_a_wrong_hand_gradient_fails_the_command(framework, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(practice, "practice_gradient", _wrong_hand_gradient)
    status = main(["practice", "--framework", framework, "--starts", "3", "--steps", "5",
                   "--out", str(tmp_path / "figs")])
    assert status == 1
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in captured.err
    assert lines[0].startswith("wonderland practice: error: the gradient check failed")
    assert "differ by 0.01" in lines[0]
    assert not (tmp_path / "figs").exists()  # stopped before descending and plotting


# ---------------------------------------------------------------------- frameworks agree


@pytest.fixture(scope="module")
def X0():
    return np.random.default_rng(11).uniform(0.0, 10.0, size=(6, 2))


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_descend_same_paths_in_every_framework(X0, momentum):
    runs = {fw: descend(fw, X0, 0.1, momentum, 80, 1e-6) for fw in FRAMEWORKS}
    ref = runs["wonderland"]
    assert len(ref.paths) == len(X0)
    for fw, d in runs.items():
        assert len(d.paths) == len(X0), fw
        np.testing.assert_array_equal(np.asarray(d.n_iter), np.asarray(ref.n_iter), err_msg=fw)
        assert list(d.reason) == list(ref.reason), fw
        for i, (p, q) in enumerate(zip(d.paths, ref.paths)):
            assert p.shape == q.shape == (int(ref.n_iter[i]) + 1, 2), (fw, i)
            np.testing.assert_array_equal(p[0], X0[i])
            np.testing.assert_allclose(p, q, rtol=0, atol=1e-9, err_msg=f"{fw} row {i}")
        np.testing.assert_allclose(d.values, ref.values, rtol=0, atol=1e-9, err_msg=fw)
        for g, h in zip(d.grad_norms, ref.grad_norms):
            np.testing.assert_allclose(g, h, rtol=1e-7, atol=1e-12, err_msg=fw)
    # the descent went somewhere: f decreased from every start
    assert np.all(ref.values < practice_function(X0, np))


def test_descend_wonderland_is_the_heavy_ball(X0):
    """Checked against the text's recurrence with the hand gradient."""
    d = descend("wonderland", X0, 0.1, 0.9, 40, 0.0)
    X, g = X0.copy(), np.zeros_like(X0)
    path = [X.copy()]
    for _ in range(40):
        g = -0.1 * practice_gradient(X) + 0.9 * g
        X = X + g
        path.append(X.copy())
    path = np.stack(path, axis=1)
    for i, p in enumerate(d.paths):
        np.testing.assert_allclose(p, path[i], rtol=0, atol=1e-11)


def test_descend_rows_stop_on_their_own(X0):
    d = descend("wonderland", X0, 0.1, 0.0, 2000, 1e-4)
    assert set(d.reason) == {"tol_grad"}
    assert len(set(np.asarray(d.n_iter).tolist())) > 1
    for p, g in zip(d.paths, d.grad_norms):
        assert np.linalg.norm(practice_gradient(p[-1:])) < 1e-4
        assert np.all(g[:-1] >= 1e-4) and g[-1] < 1e-4


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_check_autodiff_is_tiny(framework, X0):
    assert check_autodiff(framework, X0) < 1e-13


def test_unknown_framework_in_the_library_is_a_value_error(X0):
    with pytest.raises(ValueError):
        check_autodiff("nope", X0)


# ---------------------------------------------------------------------- the hand gradient


def test_hand_gradient_matches_wonderland_autodiff(X0):
    ours = wl.grad(lambda X: practice_function(X).sum())(X0)
    assert ours.shape == X0.shape
    np.testing.assert_allclose(ours.numpy(), practice_gradient(X0), rtol=1e-13, atol=1e-14)


def test_hand_gradient_matches_finite_differences(X0):
    eps = 1e-6
    fd = np.empty_like(X0)
    for j in range(2):
        e = np.zeros_like(X0)
        e[:, j] = eps
        fd[:, j] = (practice_function(X0 + e, np) - practice_function(X0 - e, np)) / (2 * eps)
    np.testing.assert_allclose(practice_gradient(X0), fd, rtol=0, atol=1e-8)


def test_practice_function_values():
    X = np.array([[0.0, 0.0], [np.pi / 2, 0.0], [np.pi, np.pi], [1.3, 2.1]])
    expected = np.sin(X[:, 0]) * np.cos(X[:, 1]) + np.sin(X[:, 0] / 2) * np.cos(X[:, 1] / 2)
    np.testing.assert_allclose(practice_function(X, np), expected, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(practice_function(wl.tensor(X)).numpy(), expected, rtol=1e-15,
                               atol=1e-15)
    assert practice.FIGURES == FIGURES


# ---------------------------------------------------------- inputs too large or unusable


@pytest.mark.parametrize("sizes", [["--starts", "99999999999999999999"],
                                   ["--starts", "100000", "--steps", "200"]],
                         ids=["huge starts", "starts times steps"])
def test_more_points_than_memory_allows_exit_2_naming_both_options(sizes, tmp_path, capsys):
    """A huge --starts was "unexpected ValueError: Maximum allowed dimension exceeded"
    (status 1); a large product ran out of memory late."""
    assert main(["practice", "--out", str(tmp_path), *sizes]) == 2
    err = capsys.readouterr().err
    assert len([line for line in err.splitlines() if line.strip()]) == 1, err
    assert re.match(r"wonderland practice: error: --starts \d+ with --steps \d+ would record "
                    r".* points per run, more than 2e\+07", err), err


def test_an_out_folder_that_cannot_be_made_exits_2_before_any_work(tmp_path, monkeypatch,
                                                                   capsys):
    """The folder was made after both descents: the work was lost, with status 1."""
    def refuse(path, exist_ok=False):
        raise PermissionError(13, "Permission denied")

    def no_work(*args, **kwargs):
        raise AssertionError("descended before checking --out")

    monkeypatch.setattr(practice.os, "makedirs", refuse)
    monkeypatch.setattr(practice, "descend", no_work)
    out = tmp_path / "figs"
    assert main(["practice", "--starts", "2", "--steps", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"wonderland practice: error: --out: cannot create {str(out)!r}: "
                   f"Permission denied\n")
