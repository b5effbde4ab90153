"""Review nits: practice's divergence warning on stderr, a descent of 0 steps in
``contour_paths``, the limits of two tour figures, a linear loss curve down to -1.7e308."""

from __future__ import annotations

import re
import warnings

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

import wonderland as wl
from cli_helpers import run_wonderland
from wonderland.cli.main import main
from wonderland.tour import sections
from wonderland.tour.base import Context, Section

matplotlib.use("Agg")

# "wonderland practice: warning: 2 of 2 gd starts and 2 of 2 momentum starts diverged ..."
DIVERGED = re.compile(r"wonderland practice: warning: 2 of 2 gd starts and 2 of 2 momentum "
                      r"starts diverged or ran far from \[0, 10\]\^2; --lr 1e\+308 is likely "
                      r"too large for this function \(try 0\.1\)")
DIVERGING = ["practice", "--lr", "1e308", "--steps", "20", "--starts", "2", "--framework",
             "numpy"]


def _draw(fig):
    """Render with Agg (a bare Figure's canvas draws nothing): raises where saving would."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    return fig


def _legend_texts(fig):
    legends = [a.get_legend() for a in fig.axes if a.get_legend()] + list(fig.legends)
    assert len(legends) == 1, legends
    return [t.get_text() for t in legends[0].get_texts()]


def _marker_offsets(ax):
    return [np.asarray(c.get_offsets(), dtype=float) for c in ax.collections
            if isinstance(c, PathCollection)]


def bowl(X):
    return (X**2).sum(-1)


# ------------------------------------------------ practice: the warning goes to stderr


def test_a_diverging_lr_warns_on_stderr_in_the_commands_format(tmp_path, capsys):
    """The warning was a line of the report on stdout ("warning: 2 of 2 gd starts ...")."""
    assert main([*DIVERGING, "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert DIVERGED.fullmatch(captured.err.rstrip("\n")), captured.err
    assert captured.err.count("\n") == 1, captured.err  # one line
    # stdout keeps the report, and only it
    assert "warning" not in captured.out, captured.out
    assert captured.out.count("diverged") == 4 and "wrote " in captured.out, captured.out


def test_a_diverging_lr_in_a_subprocess_splits_report_and_warning(tmp_path):
    proc = run_wonderland(*DIVERGING, "--out", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [line for line in proc.stderr.splitlines() if line.strip()] == \
        [DIVERGED.fullmatch(proc.stderr.strip()).group(0)], proc.stderr
    assert "warning" not in proc.stdout and "gd: start -> end" in proc.stdout


def test_a_step_size_that_converges_warns_of_nothing(tmp_path, capsys):
    assert main(["practice", "--starts", "3", "--steps", "20", "--framework", "numpy",
                 "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "warning" not in captured.out


# ------------------------------------------------ contour_paths: a descent of 0 steps


@pytest.fixture(scope="module")
def stayed():
    # starts at the minimum: |grad| = 0 < tol_grad, 0 steps, a path of one point
    res = wl.optim.minimize(bowl, [[0.0, 0.0]], lr=0.1, max_iter=20, batched=True)
    assert np.asarray(res.n_iter).tolist() == [0]
    return res


@pytest.mark.parametrize("given_ax", [False, True], ids=["own-figure", "given-ax"])
def test_a_descent_of_0_steps_is_one_point_that_did_not_move(stayed, given_ax):
    """Its legend listed "descent path" and "start" (a circle hidden under the end's star)
    although no path was drawn."""
    if given_ax:
        fig = Figure(layout="constrained")
        ax = fig.add_subplot()
        wl.plot.contour_paths(bowl, stayed, (-3, 3), (-3, 3), ax=ax, resolution=20)
    else:
        fig = wl.plot.contour_paths(bowl, stayed, (-3, 3), (-3, 3), resolution=20)
        ax = fig.axes[0]
    assert _legend_texts(fig) == ["start = end: did not move\n(0 steps)"]
    (marks,) = _marker_offsets(ax)  # the point, marked once
    np.testing.assert_array_equal(marks, [[0.0, 0.0]])
    _draw(fig)


def test_several_descents_of_0_steps_share_one_legend_entry():
    points = [np.array([[1.0, 1.0]]), np.array([[-1.0, 2.0]])]
    fig = wl.plot.contour_paths(bowl, points, (-3, 3), (-3, 3), resolution=20)
    assert _legend_texts(fig) == ["start = end: 2 starts\ndid not move (0 steps)"]
    (marks,) = _marker_offsets(fig.axes[0])
    np.testing.assert_array_equal(marks, [[1.0, 1.0], [-1.0, 2.0]])


def test_paths_that_moved_keep_their_start_and_end():
    paths = [np.array([[1.0, 2.0], [0.5, 1.0]]), np.array([[0.0, 0.0]])]
    texts = _legend_texts(wl.plot.contour_paths(bowl, paths, (-3, 3), (-3, 3), resolution=20))
    assert texts == ["2 descent paths,\none colour each", "start", "end"]


# ------------------------------------------------ the tour's figures: limits to the data


@pytest.fixture(scope="module")
def descent_figures():
    section = Section("gradient_descent", 0, "gradient_descent")
    sections.gradient_descent(Context(quick=True), section)
    return {spec.name: spec.figure for spec in section.figures}


def _polynomial(x):
    return 2 * x**4 + x**3 - 3 * x**2


def test_the_polynomials_minima_fill_the_axes(descent_figures):
    """Up to f(x0) = 28, the minima (−2.04, −0.65) and the maximum between them (0) lay in
    the bottom 6% of the axes."""
    ax = descent_figures["descent_polynomial"].axes[0]
    low, high = ax.get_ylim()
    stationary = np.sort(np.roots([8.0, 3.0, -6.0, 0.0]).real)
    values = _polynomial(stationary)
    assert all(low < v < high for v in values)
    assert (values.max() - values.min()) / (high - low) >= 0.2, (low, high)
    # the descent path: every point but the start in view; the start named instead
    (path,) = [ln for ln in ax.get_lines() if ln.get_label().startswith("descent from")]
    ys = np.asarray(path.get_ydata(), dtype=float)
    assert ys[0] > high and all(low < y < high for y in ys[1:])
    assert any(f"f(x0) = {_polynomial(2.0):g}" in t.get_text() for t in ax.texts)
    _draw(descent_figures["descent_polynomial"])


def test_the_gradient_norms_end_at_the_last_iteration(descent_figures):
    """The iteration axis ran on past the last one (to 1050 for 1000 iterations)."""
    fig = descent_figures["practice_grad_norms"]
    (ax,) = [a for a in fig.axes if a.get_yscale() == "log"]
    last = max(np.asarray(ln.get_xdata(), dtype=float).max() for ln in ax.get_lines()
               if ln.get_label().startswith(("gradient descent", "momentum")))
    assert tuple(map(float, ax.get_xlim())) == (0.0, last)


# ------------------------------------------------ a linear loss curve near ±1.8e308


@pytest.mark.parametrize("values", [[1.0, -1e308, -1.7e308], [1.0, -1.0, -1e300, -1.7e308],
                                    [1.0, 1e308, 1.7e308]])
def test_a_linear_curve_near_1e308_stays_in_view(values):
    """Its limits stopped at ±4.5e307: the curve fell off the axes at -1.7e308."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow while drawing
        fig = _draw(wl.plot.loss_curve(values, log=False))
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert np.isfinite([low, high]).all() and np.isfinite(high - low)
    assert all(low <= v <= high for v in values), (low, high)
    # margins: no value on the border
    assert low < min(values) and high > max(values)
    ticks = ax.get_yticks()
    assert len(ticks) >= 3 and all(low <= t <= high for t in ticks), ticks
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert all(labels) and ax.get_ylabel() == "objective f(x_t)"
