"""``wl.plot``: the text's figures with matplotlib (headless Agg): descent paths over
contours, loss curves, gradient norms. Each function returns a Figure and takes ``ax=``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import matplotlib

if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo") and \
        not matplotlib.is_interactive():
    matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .tensor import Tensor, no_grad  # noqa: E402


def _axes(ax: Any, figsize: tuple[float, float] = (6.0, 5.0)) -> tuple[Figure, Any]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize)
    return fig, fig.add_subplot()


def _trace_of(item: Any) -> Any:
    """The trace of a ``minimize`` result (None for plain arrays, whose ``.trace`` is a
    method)."""
    trace = getattr(item, "trace", None)
    return trace if hasattr(trace, "grad_norm") else None


def _paths(results: Any) -> list[np.ndarray]:
    """Descent paths, each ``(T + 1, 2)``, from results (batched or not) or arrays."""
    items = results if isinstance(results, (list, tuple)) else [results]
    paths = []
    for item in items:
        trace = _trace_of(item)
        if trace is not None:
            xs = np.asarray(trace.x, dtype=float)
            if getattr(item, "batched", False):
                steps = np.asarray(item.n_iter)
                paths.extend(xs[i, : steps[i] + 1] for i in range(xs.shape[0]))
            else:
                paths.append(xs.reshape(xs.shape[0], -1))
        else:
            array = np.asarray(item, dtype=float)
            paths.extend(array if array.ndim == 3 else [array])
    for p in paths:
        if p.ndim != 2 or p.shape[1] != 2:
            raise ValueError(f"contour_paths: paths must be points in the plane, got shape "
                             f"{p.shape}")
    return paths


def _grid_values(f: Callable, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``f`` on the grid: one vectorized call on ``(n, 2)`` points, else point by point."""
    gx, gy = np.meshgrid(xs, ys)
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    with no_grad():
        try:
            values = np.asarray(f(Tensor(points)), dtype=float)
            if values.shape == (points.shape[0],):
                return values.reshape(gx.shape)
        except Exception:  # noqa: BLE001 - f is not vectorized: evaluate point by point
            pass
        values = np.array([float(np.asarray(f(Tensor(p)))) for p in points])
    return values.reshape(gx.shape)


def contour_paths(f: Callable, results: Any, xlim: Sequence[float], ylim: Sequence[float],
                  ax: Any = None, levels: int = 30, resolution: int = 150,
                  title: str | None = None) -> Figure:
    """Descent paths from several starting points over the contour of a 2-D function.

    ``results`` is a ``minimize`` result (batched: one path per row), a list of results,
    or arrays of points. Each path is one line; starts are circles, ends are stars.

    Examples
    --------
    >>> import wonderland as wl
    >>> res = wl.optim.minimize(lambda X: (X ** 2).sum(1), [[1.0, 2.0], [-2.0, 1.0]],
    ...                         lr=0.1, batched=True, max_iter=20)
    >>> fig = wl.plot.contour_paths(lambda X: (X ** 2).sum(1), res, (-3, 3), (-3, 3))
    >>> len(fig.axes[0].get_lines())
    2
    """
    fig, ax = _axes(ax)
    xs = np.linspace(float(xlim[0]), float(xlim[1]), resolution)
    ys = np.linspace(float(ylim[0]), float(ylim[1]), resolution)
    contour = ax.contourf(xs, ys, _grid_values(f, xs, ys), levels=levels, cmap="viridis",
                          alpha=0.85)
    fig.colorbar(contour, ax=ax, label="f(x)")
    paths = _paths(results)
    colors = plt.get_cmap("autumn")(np.linspace(0, 1, max(len(paths), 1)))
    for path, color in zip(paths, colors):
        ax.plot(path[:, 0], path[:, 1], "-", color=color, linewidth=1.2)
    if paths:
        starts = np.array([p[0] for p in paths])
        ends = np.array([p[-1] for p in paths])
        ax.scatter(starts[:, 0], starts[:, 1], marker="o", s=18, c="white",
                   edgecolors="black", linewidths=0.5, zorder=3, label="start")
        ax.scatter(ends[:, 0], ends[:, 1], marker="*", s=60, c="red", edgecolors="black",
                   linewidths=0.5, zorder=4, label="end")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title or f"descent paths from {len(paths)} starting points")
    return fig


def _series(results: Any, attribute: str) -> list[np.ndarray]:
    items = results if isinstance(results, (list, tuple)) else [results]
    if items and all(isinstance(v, (int, float, np.number)) for v in items):
        items = [np.asarray(items, dtype=float)]  # one series given as numbers
    series = []
    for item in items:
        trace = _trace_of(item)
        if trace is None:
            series.append(np.asarray(item, dtype=float).ravel())
            continue
        values = np.asarray(getattr(trace, attribute), dtype=float)
        if getattr(item, "batched", False):
            steps = np.asarray(item.n_iter)
            series.extend(values[i, : steps[i] + 1] for i in range(values.shape[0]))
        else:
            series.append(values)
    return series


def loss_curve(results: Any, ax: Any = None, log: bool = False,
               title: str | None = None) -> Figure:
    """The objective along the iterations (one curve per result or per batched row).

    Examples
    --------
    >>> import wonderland as wl
    >>> fig = wl.plot.loss_curve([3.0, 2.0, 1.5, 1.4])
    >>> len(fig.axes[0].get_lines())
    1
    """
    fig, ax = _axes(ax)
    for values in _series(results, "fun"):
        ax.plot(np.arange(values.size), values, linewidth=1.0)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("iteration t")
    ax.set_ylabel("f(x_t)")
    ax.set_title(title or "loss curve")
    return fig


def grad_norms(results: Any, ax: Any = None, title: str | None = None) -> Figure:
    """``‖∇f(x_t)‖`` along the iterations on a log scale: it goes to zero at a stationary
    point.

    Examples
    --------
    >>> import wonderland as wl
    >>> fig = wl.plot.grad_norms([1.0, 0.1, 0.01])
    >>> fig.axes[0].get_yscale()
    'log'
    """
    fig, ax = _axes(ax)
    for values in _series(results, "grad_norm"):
        ax.plot(np.arange(values.size), np.maximum(values, 1e-300), linewidth=1.0)
    ax.set_yscale("log")
    ax.set_xlabel("iteration t")
    ax.set_ylabel("‖∇f(x_t)‖")
    ax.set_title(title or "gradient norms")
    return fig


__all__ = ["contour_paths", "loss_curve", "grad_norms"]
