"""``wl.plot``: headless matplotlib figures (API.md §7)."""

from __future__ import annotations

import os
import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

import wonderland as wl

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def bowl(X):
    """``(n, 2) -> (n,)``: an elongated quadratic bowl."""
    return X[:, 0] ** 2 + 3.0 * X[:, 1] ** 2


def bowl_one(x):
    return x[0] ** 2 + 3.0 * x[1] ** 2


STARTS = np.array([[2.5, 1.5], [-2.0, 2.0], [1.0, -2.5], [0.0, 0.0]])


@pytest.fixture(scope="module")
def batched():
    # the last row starts at the minimum (n_iter 0), the others stop at different t
    res = wl.optim.minimize(bowl, STARTS, lr=0.05, max_iter=200, tol_grad=1e-3, batched=True)
    assert len(set(np.asarray(res.n_iter).tolist())) >= 2
    return res


@pytest.fixture(scope="module")
def singles():
    return [wl.optim.minimize(bowl_one, row, lr=0.05, max_iter=200, tol_grad=1e-3)
            for row in STARTS[:3]]


def _main_axes(fig):
    """The axes holding the paths (a colorbar may add a second one)."""
    with_lines = [ax for ax in fig.axes if ax.get_lines()]
    assert len(with_lines) == 1, [len(ax.get_lines()) for ax in fig.axes]
    return with_lines[0]


def _offsets(ax):
    return [np.asarray(c.get_offsets(), dtype=float) for c in ax.collections
            if isinstance(c, PathCollection)]


def _check_paths(fig, expected_paths):
    """One Line2D per path, its points the path's; starts and ends marked by scatters."""
    ax = _main_axes(fig)
    lines = ax.get_lines()
    assert len(lines) == len(expected_paths)
    for line, path in zip(lines, expected_paths):
        xy = np.column_stack([np.asarray(line.get_xdata(), dtype=float),
                              np.asarray(line.get_ydata(), dtype=float)])
        # the line is the path (a padded trace may only repeat the final point)
        assert len(xy) >= len(path)
        np.testing.assert_array_equal(xy[: len(path)], path)
        np.testing.assert_array_equal(xy[len(path):], np.broadcast_to(path[-1],
                                                                      xy[len(path):].shape))
    starts = np.array([p[0] for p in expected_paths])
    ends = np.array([p[-1] for p in expected_paths])
    offsets = _offsets(ax)
    assert any(o.shape == starts.shape and np.array_equal(o, starts) for o in offsets), offsets
    assert any(o.shape == ends.shape and np.array_equal(o, ends) for o in offsets), offsets


def _batched_paths(res):
    n_iter = np.asarray(res.n_iter)
    return [res.trace.x[i, : n_iter[i] + 1] for i in range(len(n_iter))]


def test_backend_is_headless():
    assert matplotlib.get_backend().lower() in ("agg", "pdf", "svg", "ps", "cairo")


def test_jupyters_inline_backend_is_left_alone():
    # wl.plot switched a notebook to Agg: no figure showed after its first use

    code = ("import matplotlib, wonderland as wl; wl.plot; "
            "print(matplotlib.get_backend())")
    env = {**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "module://matplotlib_inline.backend_inline"


def test_contour_paths_batched_one_line_per_start(batched):
    fig = wl.plot.contour_paths(bowl, batched, (-3, 3), (-3, 3))
    assert isinstance(fig, Figure)
    _check_paths(fig, _batched_paths(batched))
    ends = [p[-1] for p in _batched_paths(batched)]
    np.testing.assert_array_equal(np.array(ends), batched.x.numpy())


def test_contour_paths_list_of_results(singles):
    fig = wl.plot.contour_paths(bowl, singles, (-3, 3), (-3, 3))
    assert isinstance(fig, Figure)
    _check_paths(fig, [r.trace.x for r in singles])


def test_contour_paths_single_result(singles):
    fig = wl.plot.contour_paths(bowl, singles[0], [-3, 3], [-3, 3])
    _check_paths(fig, [singles[0].trace.x])


def test_contour_paths_with_a_non_vectorized_f(singles):
    """An ``f`` of one point (not of rows) still draws."""
    fig = wl.plot.contour_paths(bowl_one, singles[:2], (-3, 3), (-3, 3), resolution=20)
    _check_paths(fig, [r.trace.x for r in singles[:2]])


def test_contour_paths_draws_into_the_given_axes(batched):
    fig = Figure()
    ax = fig.add_subplot()
    out = wl.plot.contour_paths(bowl, batched, (-3, 3), (-3, 3), ax=ax)
    assert out is fig
    assert len(ax.get_lines()) == len(STARTS)
    _check_paths(fig, _batched_paths(batched))
    assert tuple(ax.get_xlim()) == (-3.0, 3.0) and tuple(ax.get_ylim()) == (-3.0, 3.0)


def test_contour_paths_draws_a_contour(batched):
    fig = wl.plot.contour_paths(bowl, batched, (-3, 3), (-3, 3))
    ax = _main_axes(fig)
    # a filled contour set besides the two scatters
    assert len(ax.collections) > len(_offsets(ax))


def test_loss_curve_one_line_per_series(batched, singles):
    fig = wl.plot.loss_curve(singles)
    assert isinstance(fig, Figure)
    ax = _main_axes(fig)
    assert len(ax.get_lines()) == len(singles)
    for line, res in zip(ax.get_lines(), singles):
        np.testing.assert_array_equal(np.asarray(line.get_ydata(), dtype=float), res.trace.fun)

    fig = wl.plot.loss_curve(batched)
    ax = _main_axes(fig)
    assert len(ax.get_lines()) == len(STARTS)
    n_iter = np.asarray(batched.n_iter)
    for i, line in enumerate(ax.get_lines()):
        y = np.asarray(line.get_ydata(), dtype=float)
        assert y[0] == batched.trace.fun[i, 0] and y[-1] == batched.trace.fun[i, n_iter[i]]


def test_loss_curve_accepts_ax(singles):
    fig = Figure()
    ax = fig.add_subplot()
    out = wl.plot.loss_curve(singles[0], ax=ax)
    assert out is fig and len(ax.get_lines()) == 1


def test_grad_norms_log_scale_one_line_per_series(batched, singles):
    fig = wl.plot.grad_norms(singles)
    assert isinstance(fig, Figure)
    ax = _main_axes(fig)
    assert ax.get_yscale() == "log"
    assert len(ax.get_lines()) == len(singles)
    for line, res in zip(ax.get_lines(), singles):
        np.testing.assert_allclose(np.asarray(line.get_ydata(), dtype=float),
                                   res.trace.grad_norm, rtol=1e-15)

    fig = wl.plot.grad_norms(batched)
    ax = _main_axes(fig)
    assert ax.get_yscale() == "log"
    assert len(ax.get_lines()) == len(STARTS)


def test_grad_norms_accepts_ax(singles):
    fig = Figure()
    ax = fig.add_subplot()
    out = wl.plot.grad_norms(singles, ax=ax)
    assert out is fig
    assert ax.get_yscale() == "log" and len(ax.get_lines()) == len(singles)


@pytest.mark.parametrize("name", ["contour_paths", "loss_curve", "grad_norms"])
def test_figures_save_as_png(name, batched, tmp_path):
    if name == "contour_paths":
        fig = wl.plot.contour_paths(bowl, batched, (-3, 3), (-3, 3), resolution=40)
    else:
        fig = getattr(wl.plot, name)(batched)
    path = tmp_path / f"{name}.png"
    fig.savefig(path)
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 1000


def test_importing_wonderland_leaves_matplotlib_until_wl_plot_is_used():
    code = ("import sys, wonderland as wl; assert 'matplotlib' not in sys.modules; "
            "wl.plot.loss_curve; assert 'matplotlib' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------- readable figures


def _drawn(fig):
    """Lay the figure out and draw it (Agg); returns the renderer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _legend(fig):
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    legends += list(fig.legends)
    assert len(legends) == 1, legends
    return legends[0]


def _legend_texts(fig):
    return [t.get_text() for t in _legend(fig).get_texts()]


def _scatter_with_marker(ax, label_word, fig):
    """The offsets of the scatter whose legend label contains ``label_word``."""
    legend = _legend(fig)
    for handle, text in zip(legend.legend_handles, legend.get_texts()):
        if label_word in text.get_text():
            for c in ax.collections:
                if isinstance(c, PathCollection) and c.get_paths()[0] is not None and \
                        np.allclose(c.get_facecolor()[0], handle.get_facecolor()[0]) and \
                        c.get_paths()[0].vertices.shape == handle.get_paths()[0].vertices.shape:
                    return np.asarray(c.get_offsets(), dtype=float)
    raise AssertionError(f"no scatter for {label_word!r}: {_legend_texts(fig)}")


def _inside(point, ax):
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return x0 <= point[0] <= x1 and y0 <= point[1] <= y1


def test_paths_leaving_the_box_widen_the_axes():
    paths = [np.array([[1.0, 1.0], [3.0, 2.0], [4.5, 3.6]]),
             np.array([[-1.0, 0.0], [-2.5, -1.0], [-3.8, -2.9]]),
             np.array([[0.5, 0.5], [0.0, 0.0]])]
    fig = wl.plot.contour_paths(bowl, paths, (-3, 3), (-3, 3), resolution=30)
    ax = _main_axes(fig)
    for p in paths:
        assert all(_inside(point, ax) for point in p)
    x0, x1 = ax.get_xlim()
    assert x0 < -3.8 and x1 > 4.5
    # the given box is drawn, dashed, and named in the legend
    boxes = [patch for patch in ax.patches if patch.get_linestyle() == "--"]
    assert len(boxes) == 1 and boxes[0].get_bbox().bounds == (-3.0, -3.0, 6.0, 6.0)
    assert any("box [-3, 3] × [-3, 3]" in t for t in _legend_texts(fig))
    _check_paths(fig, paths)  # every end is drawn as an end, none clipped away


def test_paths_inside_the_box_keep_it():
    paths = [np.array([[1.0, 1.0], [0.5, 0.2]])]
    fig = wl.plot.contour_paths(bowl, paths, (-3, 3), (-3, 3), resolution=20)
    ax = _main_axes(fig)
    assert tuple(map(float, ax.get_xlim())) == (-3.0, 3.0)
    assert not ax.patches and not any("box" in t for t in _legend_texts(fig))


def test_an_end_far_out_is_marked_where_the_path_leaves():
    far = np.array([[0.0, 0.0], [1.0, 0.0], [100.0, 0.0]])
    near = np.array([[0.0, 1.0], [0.5, 0.5]])
    fig = wl.plot.contour_paths(bowl, [far, near], (-3, 3), (-3, 3), resolution=20)
    ax = _main_axes(fig)
    # grown by at most half the box on the right; a small margin (3% of the box) left of
    # the dashed box, whose left edge would otherwise lie on the border
    assert tuple(map(float, ax.get_xlim())) == pytest.approx((-3.18, 6.0))
    marks = _scatter_with_marker(ax, "beyond", fig)
    np.testing.assert_allclose(marks, [[6.0, 0.0]])  # on the right edge, where it leaves
    assert all(_inside(m, ax) for m in marks)
    np.testing.assert_array_equal(_scatter_with_marker(ax, "end", fig), [[0.5, 0.5]])


def test_extend_zero_keeps_the_box_and_marks_the_border():
    path = np.array([[2.0, 2.0], [2.5, 2.9], [4.0, 4.0]])
    fig = wl.plot.contour_paths(bowl, [path], (-3, 3), (-3, 3), resolution=20, extend=0)
    ax = _main_axes(fig)
    assert tuple(map(float, ax.get_ylim())) == (-3.0, 3.0)
    mark = _scatter_with_marker(ax, "beyond", fig)[0]
    assert _inside(mark, ax) and np.isclose(max(mark), 3.0)
    with pytest.raises(ValueError, match="extend"):
        wl.plot.contour_paths(bowl, [path], (-3, 3), (-3, 3), extend=-1)


def test_a_path_that_turns_non_finite_still_draws():
    path = np.array([[1.0, 1.0], [2.0, 2.0], [np.nan, np.nan]])
    fig = wl.plot.contour_paths(bowl, [path], (-3, 3), (-3, 3), resolution=20)
    ax = _main_axes(fig)
    np.testing.assert_array_equal(_scatter_with_marker(ax, "beyond", fig), [[2.0, 2.0]])
    _drawn(fig)


@pytest.mark.parametrize("given_ax", [False, True], ids=["own-figure", "given-ax"])
def test_the_legend_covers_no_path_end(given_ax, batched):
    far = np.array([[0.0, 0.0], [2.9, 2.9], [3.5, 3.5]])  # an end in the top right corner
    paths = [*_batched_paths(batched), far]
    if given_ax:
        fig = Figure(figsize=(6, 5), layout="constrained")  # a layout makes room for it
        fig.add_subplot()
        wl.plot.contour_paths(bowl, paths, (-3, 3), (-3, 3), ax=fig.axes[0], resolution=30)
    else:
        fig = wl.plot.contour_paths(bowl, paths, (-3, 3), (-3, 3), resolution=30)
    renderer = _drawn(fig)
    ax = _main_axes(fig)
    box = _legend(fig).get_window_extent(renderer)
    for other in fig.axes:  # outside the axes, and off the colour bar
        assert not box.overlaps(other.get_window_extent(renderer)), other
    ends = ax.transData.transform(np.array([p[-1] for p in paths]))
    assert not any(box.contains(x, y) for x, y in ends)
    assert box.x1 <= fig.bbox.x1 + 1 and box.y1 <= fig.bbox.y1 + 1  # and on the figure


def test_paths_stand_out_against_a_grey_contour(batched):
    from matplotlib.colors import rgb_to_hsv, to_rgb

    fig = wl.plot.contour_paths(bowl, batched, (-3, 3), (-3, 3), resolution=30)
    ax = _main_axes(fig)
    contour = next(c for c in ax.collections if not isinstance(c, PathCollection))
    samples = contour.get_cmap()(np.linspace(0, 1, 16))[:, :3]
    assert np.ptp(samples, axis=1).max() < 1e-6  # grey: r == g == b
    for line in ax.get_lines():
        hue, saturation, value = rgb_to_hsv(to_rgb(line.get_color()))
        assert saturation > 0.5 and value > 0.3, line.get_color()
    # starts and ends are marked, and the legend says which is which
    assert {"start", "end"} <= set(_legend_texts(fig))


def test_contour_paths_labels_and_title(batched):
    ax = _main_axes(wl.plot.contour_paths(bowl, batched, (-3, 3), (-3, 3), resolution=20))
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


@pytest.mark.parametrize("name", ["loss_curve", "grad_norms"])
def test_every_curve_is_labelled(name, batched, singles):
    plot = getattr(wl.plot, name)
    for results, expected in [(singles, ["run 0", "run 1", "run 2"]),
                              (batched, [f"start {i}" for i in range(len(STARTS))]),
                              ([3.0, 2.0, 1.0], ["series 0"])]:
        fig = plot(results)
        ax = fig.axes[0]
        labels = [line.get_label() for line in ax.get_lines()]
        assert labels == expected
        assert _legend_texts(fig) == expected
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    fig = plot(singles, labels=["a", "b", "c"])
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="2 labels for 3 curves"):
        plot(singles, labels=["a", "b"])


@pytest.mark.parametrize("name", ["loss_curve", "grad_norms"])
def test_groups_share_a_colour_and_a_legend_entry(name, batched, singles):
    fig = getattr(wl.plot, name)({"batched": batched, "single": singles[0]})
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == len(STARTS) + 1
    assert all(not line.get_label().startswith("_") for line in lines)
    assert len({line.get_color() for line in lines[: len(STARTS)]}) == 1
    assert lines[-1].get_color() != lines[0].get_color()
    assert _legend_texts(fig) == [f"batched ({len(STARTS)} runs)", "single"]


@pytest.mark.parametrize("name", ["loss_curve", "grad_norms"])
def test_curve_legends_are_outside_the_axes(name, batched):
    fig = getattr(wl.plot, name)(batched)
    renderer = _drawn(fig)
    box = _legend(fig).get_window_extent(renderer)
    assert not box.overlaps(fig.axes[0].get_window_extent(renderer))


def test_grad_norms_leaves_exact_zeros_out():
    fig = wl.plot.grad_norms([[1.0, 0.1, 0.0]])
    y = np.asarray(fig.axes[0].get_lines()[0].get_ydata(), dtype=float)
    np.testing.assert_array_equal(y[:2], [1.0, 0.1])
    assert np.isnan(y[2])
    assert fig.axes[0].get_ylim()[0] > 1e-10


@pytest.mark.parametrize("name", ["loss_curve", "grad_norms"])
def test_curves_of_something_not_numbers_are_type_errors_naming_the_plot(name):
    plot = getattr(wl.plot, name)
    with pytest.raises(TypeError, match=rf"^{name}: expected a minimize result, a list of "
                                        r"them, or arrays of numbers; got str 'abc'"):
        plot("abc")
    with pytest.raises(TypeError, match=rf"^{name}: .*got list"):
        plot([[1.0, 2.0], ["a", 1.0]])
    with pytest.raises(ValueError, match=rf"^{name}: nothing to draw"):
        plot([])


@pytest.mark.parametrize("args, error, message", [
    ((3, [[[0, 0], [1, 1]]], (-1, 1), (-1, 1)), TypeError, "f must be a function"),
    ((lambda X: (X**2).sum(1), "abc", (-1, 1), (-1, 1)), TypeError, "got str 'abc'"),
    ((lambda X: (X**2).sum(1), [[[0, 0], [1, 1]]], (1, 0), (-1, 1)), ValueError,
     r"xlim must be finite with low < high, got \(1, 0\)"),
    ((lambda X: (X**2).sum(1), [[[0, 0], [1, 1]]], (0, 1, 2), (-1, 1)), ValueError,
     r"xlim must be two numbers"),
    ((lambda X: (X**2).sum(1), [[[0, 0], [1, 1]]], (-1, 1), (0, float("nan"))), ValueError,
     r"ylim must be finite"),
])
def test_contour_paths_refuses_bad_arguments_by_name(args, error, message):
    """They drew an inverted axis with a misplaced ✕, or failed inside NumPy/matplotlib."""
    with pytest.raises(error, match=f"^contour_paths: .*{message}"):
        wl.plot.contour_paths(*args)


# ------------------------------------------------------- a training loop's loss history


@pytest.mark.parametrize("plot", ["loss_curve", "grad_norms"])
@pytest.mark.parametrize("make", [
    lambda v: wl.tensor(v, requires_grad=True) * 1.0,   # losses appended as they come
    lambda v: wl.tensor(v),
    lambda v: np.array(v),                               # 0-d arrays
    lambda v: np.float32(v),
], ids=["tensor requiring grad", "tensor", "0-d array", "numpy scalar"])
def test_a_history_of_0d_values_is_one_curve(plot, make):
    """It was drawn as one one-point (invisible) run per value, with a legend entry each."""
    history = [make(v) for v in (3.0, 2.0, 1.5, 1.4)]
    lines = getattr(wl.plot, plot)(history).axes[0].get_lines()
    assert len(lines) == 1
    np.testing.assert_allclose(lines[0].get_ydata(), [3.0, 2.0, 1.5, 1.4], rtol=1e-6)


def test_a_history_of_torch_scalars_is_one_curve():
    torch = pytest.importorskip("torch")
    history = [torch.tensor(v, requires_grad=True) * 1.0 for v in (3.0, 2.0)]
    lines = wl.plot.loss_curve(history).axes[0].get_lines()
    assert [line.get_ydata().tolist() for line in lines] == [[3.0, 2.0]]


def test_a_one_point_curve_is_marked_so_that_it_shows():
    lines = wl.plot.loss_curve([[3.0], [2.0, 1.0]]).axes[0].get_lines()
    assert [line.get_marker() for line in lines] == ["o", "None"]


def test_contour_paths_takes_values_of_shape_n_by_1():
    """(n, 1) values sent it to point-by-point evaluation, where f failed with IndexError."""
    fig = wl.plot.contour_paths(lambda X: (X**2).sum(1, keepdims=True), [[[1.0, 1.0]]],
                                (-1, 1), (-1, 1), resolution=10)
    assert fig.axes[0].get_lines()


def test_contour_paths_names_both_failures_of_a_bad_f():
    with pytest.raises(TypeError, match=r"^contour_paths: f must map \(n, 2\) points to "
                                        r"\(n,\) values.*gave values of shape \(100, 2\), on "
                                        r"one point IndexError"):
        wl.plot.contour_paths(lambda X: X[:, :2], [[[1.0, 1.0]]], (-1, 1), (-1, 1),
                              resolution=10)


def test_the_default_title_of_one_path_is_singular():
    """It read "descent paths from 1 starting points"."""
    fig = wl.plot.contour_paths(bowl, [[[1.0, 1.0], [0.5, 0.2]]], (-2, 2), (-2, 2),
                                resolution=10)
    assert fig.axes[0].get_title() == "descent path from 1 starting point"
    fig = wl.plot.contour_paths(bowl, [[[1.0, 1.0]], [[0.5, 0.2]]], (-2, 2), (-2, 2),
                                resolution=10)
    assert fig.axes[0].get_title() == "descent paths from 2 starting points"
