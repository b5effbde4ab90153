"""``wl.plot`` follow-ups from a review of every figure: odd inputs, user axes, limits."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import wonderland as wl

matplotlib.use("Agg")


def bowl(X):
    return (X**2).sum(-1)


def rosen(X):
    return (1 - X[..., 0]) ** 2 + 100 * (X[..., 1] - X[..., 0] ** 2) ** 2


def _draw(fig):
    """Render with Agg (a bare Figure's canvas draws nothing): raises where saving would."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    return fig


def _legend_texts(fig):
    legends = [a.get_legend() for a in fig.axes if a.get_legend()] + list(fig.legends)
    return [t.get_text() for legend in legends for t in legend.get_texts()]


@pytest.fixture(scope="module")
def diverged():
    starts = np.random.default_rng(0).uniform(0, 10, (8, 2))
    res = wl.optim.minimize(bowl, starts, lr=1.5, max_iter=2000, batched=True)
    assert set(res.reason) == {"diverged"}
    return res


@pytest.mark.parametrize("plot", ["loss_curve", "grad_norms"])
def test_curves_of_diverged_runs_draw_with_finite_limits(plot, diverged):
    """loss_curve raised "arange: cannot compute length" while saving (values ~1e308)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = _draw(getattr(wl.plot, plot)(diverged))
    assert np.isfinite(fig.axes[0].get_ylim()).all()


@pytest.mark.parametrize("values", [[1.0, 2.0, np.inf, 1e308], [1.0, 1e200, 1.7e308]])
def test_a_log_axis_up_to_1e308_keeps_its_curve_in_view(values):
    """grad_norms showed limits (1, 10) for [1, 2, inf, 1e308], or failed while drawing."""
    fig = _draw(wl.plot.grad_norms(values))
    low, high = fig.axes[0].get_ylim()
    assert low <= 1.0 and high >= 1e300 and np.isfinite(high)


def test_a_linear_curve_falling_to_minus_1e308_draws():
    fig = _draw(wl.plot.loss_curve([1.0, -1e308, -1.7e308]))
    assert np.isfinite(fig.axes[0].get_ylim()).all()


def test_a_loss_spanning_decades_gets_a_log_axis_by_default():
    assert wl.plot.loss_curve(10.0 ** -np.arange(20)).axes[0].get_yscale() == "log"
    assert wl.plot.loss_curve([3.0, 2.0, 1.0]).axes[0].get_yscale() == "linear"
    assert wl.plot.loss_curve([1e3, 0.0, -1.0]).axes[0].get_yscale() == "linear"
    assert wl.plot.loss_curve(10.0 ** -np.arange(20), log=False).axes[0].get_yscale() == \
        "linear"


@pytest.mark.parametrize("plot", ["loss_curve", "grad_norms"])
def test_a_dataframe_is_a_curve_per_column_named_by_it(plot):
    """Its values were raveled row by row: one zig-zag 'series 0' through both columns."""
    history = pd.DataFrame({"train": np.geomspace(3, 1, 20), "valid": np.geomspace(4, 2, 20)})
    fig = getattr(wl.plot, plot)(history)
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["train", "valid"]
    np.testing.assert_allclose(lines[1].get_ydata(), history["valid"])
    assert _legend_texts(fig) == ["train", "valid"]


def test_a_named_pandas_series_is_one_curve_named_by_it():
    fig = wl.plot.loss_curve(pd.Series(np.linspace(3, 1, 10), name="loss", dtype="float32"))
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["loss"]


def test_iteration_ticks_are_whole_numbers():
    for fig in (wl.plot.loss_curve([3.0, 2.0, 1.0]), wl.plot.grad_norms([1.0]),
                wl.plot.loss_curve(np.linspace(1, 0, 20))):
        ticks = fig.axes[0].get_xticks()
        assert np.array_equal(ticks, np.round(ticks)), ticks


def test_dozens_of_runs_get_a_colour_bar_not_a_legend_of_dozens():
    starts = np.random.default_rng(1).uniform(-3, 3, (40, 2))
    res = wl.optim.minimize(bowl, starts, lr=0.1, max_iter=30, batched=True)
    fig = wl.plot.loss_curve(res)
    assert fig.axes[0].get_legend() is None
    assert len(fig.axes) == 2 and "start" in fig.axes[1].get_ylabel()
    assert len(fig.axes[0].get_lines()) == 40
    # names the user chose stay in a legend
    fig = wl.plot.loss_curve(res, labels=[f"s{i}" for i in range(40)])
    assert len(_legend_texts(fig)) == 40


@pytest.mark.parametrize("make", [
    lambda ax: wl.plot.loss_curve([3.0, 2.0, 1.0], ax=ax),
    lambda ax: wl.plot.grad_norms({"a": [1.0, 0.1], "b": [2.0, 0.5]}, ax=ax),
    lambda ax: wl.plot.contour_paths(bowl, [[[1.0, 1.0], [0.5, 0.5]]], (-2, 2), (-2, 2),
                                     ax=ax, resolution=20),
], ids=["loss_curve", "grad_norms", "contour_paths"])
def test_a_legend_in_a_figure_without_layout_stays_on_the_figure(make):
    """In plt.subplots()'s figure (no layout engine) the legend right of the axes was cut
    off at the figure's edge."""
    fig = Figure(figsize=(5, 4))
    ax = fig.add_subplot()
    assert make(ax) is fig and fig.axes[0] is ax
    renderer = _draw(fig).canvas.get_renderer()
    box = ax.get_legend().get_window_extent(renderer)
    assert box.x1 <= fig.bbox.x1 + 1 and box.x0 >= fig.bbox.x0 - 1


def test_a_constant_f_has_a_colour_bar_of_its_one_value():
    """Its colour bar read "1e-14+1" over ticks -0.8, 0.0, 0.8."""
    fig = _draw(wl.plot.contour_paths(lambda X: X[..., 0] * 0 + 1.0, [[[3.0, 4.0], [5, 5]]],
                                      (0, 10), (0, 10), resolution=20))
    bar = fig.axes[1]
    assert [t.get_text() for t in bar.get_yticklabels()] == ["1"]
    assert bar.yaxis.get_offset_text().get_text() == ""


def test_a_path_that_turns_inf_is_not_called_an_end_at_the_plots_edge():
    path = np.array([[1.0, 1.0], [2.0, 2.0], [np.inf, np.nan]])
    fig = wl.plot.contour_paths(bowl, [path], (0, 10), (0, 10), resolution=20)
    texts = _legend_texts(fig)
    assert not any("drawn at its edge" in t for t in texts)
    assert any("last finite point" in t for t in texts)


def test_contour_paths_without_paths_has_a_title_that_says_so():
    fig = wl.plot.contour_paths(bowl, [], (-1, 1), (-1, 1), resolution=10)
    assert "0 starting points" not in fig.axes[0].get_title()


def test_a_function_spanning_decades_gets_log_spaced_levels():
    fig = wl.plot.contour_paths(rosen, [[[-1.5, 2.0], [1.0, 1.0]]], (-2, 2), (-1, 3),
                                resolution=60)
    levels = fig.axes[0].collections[0].levels
    ratios = levels[1:] / levels[:-1]
    np.testing.assert_allclose(ratios, ratios[0])
    assert "log" in fig.axes[1].get_ylabel()


def test_a_one_dimensional_problem_in_contour_paths_names_the_shape():
    res = wl.optim.minimize(lambda x: (x - 2) ** 2, 5.0, lr=0.1, max_iter=20)
    with pytest.raises(ValueError, match=r"^contour_paths: results .*shape \(\d+, 1\).*"
                                         r"loss_curve"):
        wl.plot.contour_paths(bowl, res, (0, 10), (0, 10))


def test_an_unfitted_classifier_is_told_to_fit_first():
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(TypeError, match=r"^decision_boundary: LogisticRegression is not "
                                        r"fitted yet.*fit"):
        wl.plot.decision_boundary(LogisticRegression(), np.zeros((4, 2)), [0, 1, 0, 1])


def test_a_constant_feature_gets_a_readable_axis():
    """The margin of 1e-12 drew an axis 2e-12 wide under a "1e-12+1" offset."""
    from sklearn.linear_model import LogisticRegression

    X = np.c_[np.linspace(-2, 2, 20), np.ones(20)]
    y = (X[:, 0] > 0).astype(int)
    fig = _draw(wl.plot.decision_boundary(LogisticRegression().fit(X, y), X, y,
                                          resolution=20))
    low, high = fig.axes[0].get_ylim()
    assert low < 1.0 < high and high - low >= 0.5


def test_a_constant_target_says_r2_is_undefined():
    from sklearn.linear_model import LinearRegression

    X = np.arange(10.0)[:, None]
    fig = wl.plot.regression_fit(LinearRegression().fit(X, np.ones(10)), X, np.ones(10))
    title = fig.axes[0].get_title()
    assert "nan" not in title and "undefined" in title


def test_a_fitted_line_over_one_x_value_is_marked():
    from sklearn.linear_model import LinearRegression

    X, y = np.ones((10, 1)), np.arange(10.0)
    fig = wl.plot.regression_fit(LinearRegression().fit(X, y), X, y)
    (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "fitted line"]
    assert line.get_marker() not in (None, "None", "")


def test_drawing_in_a_loop_leaks_no_figures():
    import matplotlib.pyplot as plt

    before = len(plt.get_fignums())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "More than 20 figures have been opened"
        for _ in range(25):
            wl.plot.loss_curve([3.0, 2.0])
            wl.plot.contour_paths(bowl, [[[1.0, 1.0]]], (-2, 2), (-2, 2), resolution=5)
    assert len(plt.get_fignums()) == before
