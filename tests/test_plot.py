"""``wl.plot``: headless matplotlib figures (API.md §7)."""

from __future__ import annotations

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
