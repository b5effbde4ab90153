"""Figures of descent: paths over contours, loss curves, gradient norms.

Figures made here (no ``ax=``) use matplotlib's constrained layout and keep their legend
outside the axes, so that it never hides a curve or the end of a path."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LinearSegmentedColormap, ListedColormap, LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FixedLocator, MaxNLocator, NullLocator

from ..tensor import Tensor, no_grad

#: Saturated path colours that stand out on the grey contour map (tab10 less its grey and
#: olive).
PATH_COLORS = ("#d62728", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#e377c2", "#17becf",
               "#8c564b")
#: The contour map: mid grey (low f) to near white (high f), muted under the paths.
CONTOUR_CMAP = LinearSegmentedColormap.from_list("wonderland_greys", ["#8a8a8a", "#f4f4f4"])
START_STYLE = dict(marker="o", s=30, c="white", edgecolors="black", linewidths=0.8)
END_STYLE = dict(marker="*", s=130, c="#ffd400", edgecolors="black", linewidths=0.8)
OFF_PLOT_STYLE = dict(marker="X", s=70, c="#ffd400", edgecolors="black", linewidths=0.8)
NOT_FINITE_STYLE = dict(marker="X", s=70, c="black", edgecolors="#ffd400", linewidths=0.8)
#: A descent that stopped where it started (0 steps): one point, both start and end, the
#: start's circle in the end's gold.
STILL_STYLE = dict(marker="o", s=70, c="#ffd400", edgecolors="black", linewidths=0.8)
#: Margin around paths that leave the box, as a fraction of the box's width (height).
MARGIN = 0.03


def _axes(ax: Any, figsize: tuple[float, float] = (6.0, 5.0)) -> tuple[Figure, Any]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _outside_legend(ax: Any, handles: list[Any], labels: list[str], **kwargs: Any) -> Any:
    """A legend to the right of the axes, where it cannot cover what they show.

    In a figure without a layout engine (``plt.subplots()``'s default) nothing makes room
    for a legend outside the axes, and the saved figure would cut it off: there it goes
    inside, where matplotlib finds the emptiest corner."""
    columns = 1 if len(handles) <= 16 else math.ceil(len(handles) / 16)
    if ax.figure.get_layout_engine() is None:
        return ax.legend(handles, labels, loc="best", fontsize=8, ncols=columns,
                         framealpha=0.85, **kwargs)
    return ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                     borderaxespad=0.0, fontsize=8, ncols=columns, **kwargs)


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
            try:
                array = np.asarray(item, dtype=float)
            except (TypeError, ValueError):
                raise TypeError(f"contour_paths: results must be minimize results or arrays "
                                f"of points, got {type(item).__name__} {str(item)[:40]!r}"
                                ) from None
            paths.extend(array if array.ndim == 3 else [array])
    for p in paths:
        if p.ndim != 2 or p.shape[1] != 2:
            raise ValueError(f"contour_paths: results must hold paths of points in the "
                             f"plane, shape (T, 2); got a path of shape {p.shape} (it draws "
                             f"2-D problems: see a 1-D one with loss_curve)")
    return paths


def _grid_values(f: Callable, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``f`` on the grid: one vectorized call on ``(n, 2)`` points (``(n,)`` or ``(n, 1)``
    values), else point by point; when both fail, a TypeError naming what each gave."""
    gx, gy = np.meshgrid(xs, ys)
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    with no_grad():
        try:
            values = np.asarray(f(Tensor(points)), dtype=float)
            if values.shape in ((points.shape[0],), (points.shape[0], 1)):
                return values.reshape(gx.shape)
            vectorized = f"values of shape {values.shape}"
        except Exception as exc:  # noqa: BLE001 - f is not vectorized: evaluate point by point
            vectorized = f"{type(exc).__name__}: {exc}"
        try:
            values = np.array([float(np.asarray(f(Tensor(p)))) for p in points])
        except Exception as exc:  # noqa: BLE001 - reported with the vectorized attempt
            raise TypeError(
                f"contour_paths: f must map (n, 2) points to (n,) values, or one point of "
                f"shape (2,) to a number; on (n, 2) points it gave {vectorized[:150]}, on one "
                f"point {type(exc).__name__}: {str(exc)[:150]}") from None
    return values.reshape(gx.shape)


def _view(paths: list[np.ndarray], lim: Sequence[float], axis: int,
          extend: float) -> tuple[float, float]:
    """The axis range shown: ``lim``, grown to take in the paths' points (plus a margin), but
    by at most ``extend`` times the box's width on each side."""
    lo, hi = float(lim[0]), float(lim[1])
    if not paths or extend <= 0:
        return lo, hi
    values = np.concatenate([p[:, axis] for p in paths])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return lo, hi
    width = hi - lo
    new_lo = lo if values.min() >= lo else max(values.min() - MARGIN * width, lo - extend * width)
    new_hi = hi if values.max() <= hi else min(values.max() + MARGIN * width, hi + extend * width)
    return new_lo, new_hi


def _pad(view: tuple[float, float], box: tuple[float, float]) -> tuple[float, float]:
    """``view`` with a margin (``MARGIN`` of the box's width) beyond each edge of ``box``
    that it would otherwise end on, so that a dashed box is never hidden by the border."""
    margin = MARGIN * (box[1] - box[0])
    return min(view[0], box[0] - margin), max(view[1], box[1] + margin)


def _exit_point(path: np.ndarray, view: tuple[tuple[float, float], ...]) -> np.ndarray | None:
    """Where ``path`` last leaves the rectangle ``view`` (its finite part; clipped onto the
    rectangle when it never was inside), None when no point is finite."""
    finite = np.isfinite(path).all(axis=1)
    stop = int(np.argmin(finite)) if not finite.all() else len(path)
    path = path[:stop]
    if len(path) == 0:
        return None
    lo = np.array([view[0][0], view[1][0]])
    hi = np.array([view[0][1], view[1][1]])
    inside = np.flatnonzero(np.all((path >= lo) & (path <= hi), axis=1))
    if inside.size == 0:
        return np.clip(path[-1], lo, hi)
    if inside[-1] == len(path) - 1:
        return path[-1]
    a, b = path[inside[-1]], path[inside[-1] + 1]
    step = b - a
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(step > 0, (hi - a) / step, np.where(step < 0, (lo - a) / step, np.inf))
    return np.clip(a + min(1.0, float(t.min())) * step, lo, hi)


def contour_paths(f: Callable, results: Any, xlim: Sequence[float], ylim: Sequence[float],
                  ax: Any = None, levels: int = 30, resolution: int = 150,
                  title: str | None = None, extend: float = 0.5) -> Figure:
    """Descent paths from several starting points over the contour of a 2-D function.

    ``results`` is a ``minimize`` result (batched: one path per row), a list of results,
    or arrays of points. Each path is one line in a saturated colour over a grey contour
    map; starts are white circles, ends gold stars; the legend sits outside the axes. When
    every descent stopped where it started (0 steps: no path), each start is one gold
    circle, "start = end: did not move".

    Paths that leave the box ``xlim × ylim`` stay visible: the axes grow to take them in
    (the box is then drawn dashed, with a small margin beyond each of its edges, so that
    none lies on the axes' border), by at most ``extend`` times the box's width (height)
    on each side. When a path ends further out still, a gold ✕ ("end beyond the plot")
    marks the point where it last leaves the plot, on its edge (a path that turns
    non-finite is drawn up to its last finite point). ``extend=0`` keeps the axes on the
    box.

    In a figure of its own the colour bar is on the right and the legend right of it; in
    a given ``ax`` the colour bar goes below and the legend right of ``ax`` (give that
    figure ``layout="constrained"`` or save it with ``bbox_inches="tight"``).

    Examples
    --------
    >>> import wonderland as wl
    >>> res = wl.optim.minimize(lambda X: (X ** 2).sum(1), [[1.0, 2.0], [-2.0, 1.0]],
    ...                         lr=0.1, batched=True, max_iter=20)
    >>> fig = wl.plot.contour_paths(lambda X: (X ** 2).sum(1), res, (-3, 3), (-3, 3))
    >>> len(fig.axes[0].get_lines())
    2
    >>> [float(v) for v in fig.axes[0].get_xlim()]
    [-3.0, 3.0]

    A path leaving the box widens the axes:

    >>> path = [[1.0, 1.0], [2.0, 2.0], [3.5, 2.5]]
    >>> ax = wl.plot.contour_paths(lambda X: (X ** 2).sum(1), [path], (-3, 3), (-3, 3)).axes[0]
    >>> bool(ax.get_xlim()[1] > 3.5)
    True
    """
    if not extend >= 0:
        raise ValueError(f"contour_paths: extend must be >= 0, got {extend!r}")
    if not callable(f):
        raise TypeError(f"contour_paths: f must be a function of (n, 2) points, got "
                        f"{type(f).__name__} {f!r:.40}")
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        _check_limits(name, lim)
    own_figure = ax is None
    fig, ax = _axes(ax, figsize=(8.4, 5.6))
    paths = _paths(results)
    box = ((float(xlim[0]), float(xlim[1])), (float(ylim[0]), float(ylim[1])))
    view = (_view(paths, xlim, 0, extend), _view(paths, ylim, 1, extend))
    if view != box:  # the box is drawn dashed: none of its edges on the axes' border
        view = (_pad(view[0], box[0]), _pad(view[1], box[1]))
    xs = np.linspace(*view[0], resolution)
    ys = np.linspace(*view[1], resolution)
    values = _grid_values(f, xs, ys)
    finite = values[np.isfinite(values)]
    constant = finite.size > 0 and float(np.ptp(finite)) <= 1e-12 * max(1.0, float(
        np.abs(finite).max()))
    spread = None
    if constant:
        # contourf would invent levels 1e-14 apart (a colour bar labelled "1e-14+1"): one
        # flat band, and a colour bar with the one value f takes
        value = float(finite[0])
        half = 0.5 * max(1.0, abs(value))
        contour = ax.contourf(xs, ys, np.full_like(values, value), cmap=CONTOUR_CMAP,
                              levels=[value - half, value + half], zorder=0)
    else:
        spread = _log_levels(finite, levels)
        # f >= 0 over several decades (Rosenbrock's valley): evenly spaced levels put the
        # whole valley in one band, where the paths run; log-spaced ones show it
        contour = ax.contourf(xs, ys, values, levels=levels if spread is None else spread,
                              cmap=CONTOUR_CMAP, zorder=0,
                              **({} if spread is None else dict(
                                  norm=LogNorm(spread[0], spread[-1]), extend="min")))
        ax.contour(xs, ys, values, levels=contour.levels, colors="#5a5a5a", linewidths=0.3,
                   alpha=0.6, zorder=1)
    # a figure of its own: the colour bar on the right, the legend right of it (outside
    # every axes); in a given ``ax``: the colour bar below, the legend right of ``ax``
    bar = fig.colorbar(contour, ax=ax, label=f"f(x) = {value:g} everywhere" if constant
                       else "f(x)" if spread is None else "f(x) (log-spaced levels)",
                       location="right" if own_figure else "bottom")
    if constant:
        bar.set_ticks([value], labels=[f"{value:g}"])
    elif spread is not None:  # whole decades, not the levels' 1.19554×10¹
        powers = np.arange(math.ceil(math.log10(spread[0])),
                           math.floor(math.log10(spread[-1])) + 1)
        bar.set_ticks(10.0 ** powers, labels=[f"$10^{{{k}}}$" for k in powers])
    handles: list[Any] = []
    labels: list[str] = []
    if view != box:
        ax.add_patch(Rectangle((box[0][0], box[1][0]), box[0][1] - box[0][0],
                               box[1][1] - box[1][0], fill=False, edgecolor="black",
                               linestyle="--", linewidth=1.0, zorder=2))
        handles.append(Line2D([], [], color="black", linestyle="--", linewidth=1.0))
        labels.append(f"box [{box[0][0]:g}, {box[0][1]:g}] × [{box[1][0]:g}, {box[1][1]:g}]")
    for i, path in enumerate(paths):
        ax.plot(path[:, 0], path[:, 1], "-", color=PATH_COLORS[i % len(PATH_COLORS)],
                linewidth=1.4, zorder=3)
    # every descent stopped where it started (0 steps): there is no path to draw, no
    # start apart from an end; the one point each is marked once, as a start that did not
    # move
    still = bool(paths) and all(len(p) == 1 for p in paths)
    if paths and not still:
        handles.append(Line2D([], [], color=PATH_COLORS[0], linewidth=1.4))
        labels.append("descent path" if len(paths) == 1 else
                      f"{len(paths)} descent paths,\none colour each")
        starts = np.array([p[0] for p in paths])
        # markers are not clipped: a start on the border shows whole; one beyond the view
        # (extend=0) is left out, not drawn over the colour bar
        starts = starts[(view[0][0] <= starts[:, 0]) & (starts[:, 0] <= view[0][1]) &
                        (view[1][0] <= starts[:, 1]) & (starts[:, 1] <= view[1][1])]
        if len(starts):
            handles.append(ax.scatter(starts[:, 0], starts[:, 1], zorder=4, clip_on=False,
                                      **START_STYLE))
            labels.append("start")
    if paths:
        inside, beyond, lost = [], [], []
        for p in paths:
            end = p[-1]
            if np.all(np.isfinite(end)) and view[0][0] <= end[0] <= view[0][1] and \
                    view[1][0] <= end[1] <= view[1][1]:
                inside.append(end)
                continue
            mark = _exit_point(p, view)
            if mark is None:
                continue
            # a path that turned inf/NaN inside the plot has no end to point to: its last
            # finite point is marked for what it is, not as an end "beyond the plot"
            last = p[np.isfinite(p).all(axis=1)][-1]
            (lost if not np.isfinite(end).all() and np.array_equal(mark, last)
             else beyond).append(mark)
        if inside:
            ends = np.array(inside)
            handles.append(ax.scatter(ends[:, 0], ends[:, 1], zorder=5, clip_on=False,
                                      **(STILL_STYLE if still else END_STYLE)))
            labels.append(("start = end: did not move\n(0 steps)" if len(inside) == 1 else
                           f"start = end: {len(inside)} starts\ndid not move (0 steps)")
                          if still else "end")
        if beyond:
            marks = np.array(beyond)
            handles.append(ax.scatter(marks[:, 0], marks[:, 1], zorder=5, clip_on=False,
                                      **OFF_PLOT_STYLE))
            labels.append("end beyond the plot,\ndrawn at its edge")
        if lost:
            marks = np.array(lost)
            handles.append(ax.scatter(marks[:, 0], marks[:, 1], zorder=5, clip_on=False,
                                      **NOT_FINITE_STYLE))
            labels.append("last finite point, then\ninf/NaN (beyond any plot)")
    ax.set_xlim(*view[0])
    ax.set_ylim(*view[1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title or ("f(x) over the box (no descent paths given)" if not paths else
                           "descent path from 1 starting point" if len(paths) == 1 else
                           f"descent paths from {len(paths)} starting points"))
    if handles and own_figure:
        fig.legend(handles, labels, loc="outside right upper", fontsize=8)
    elif handles:
        _outside_legend(ax, handles, labels)
    return fig


def _log_levels(values: np.ndarray, count: int) -> np.ndarray | None:
    """Log-spaced contour levels when ``f >= 0`` spans three decades or more above its
    lowest percentile (None otherwise)."""
    if values.size == 0 or float(values.min()) < 0:
        return None
    positive = values[values > 0]
    if positive.size == 0:
        return None
    floor, top = float(np.percentile(positive, 1)), float(positive.max())
    if top < 1e3 * floor:
        return None
    return np.geomspace(floor, top, max(2, count))


def _check_limits(name: str, lim: Any) -> None:
    """``(low, high)``: two finite numbers, low below high."""
    try:
        low, high = (float(v) for v in lim)
    except (TypeError, ValueError):
        raise ValueError(f"contour_paths: {name} must be two numbers (low, high), got "
                         f"{lim!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"contour_paths: {name} must be finite with low < high, got "
                         f"{lim!r}")


def _is_scalar(value: Any) -> bool:
    """A number: a Python or NumPy number, or a 0-d array or Tensor (PyTorch's too)."""
    if isinstance(value, (str, bytes)) or value is None:
        return False
    if isinstance(value, numbers.Real):
        return True
    return getattr(value, "ndim", None) == 0 and _trace_of(value) is None


def _series(results: Any, attribute: str, who: str) -> list[tuple[str, np.ndarray]]:
    """``(default label, values)`` per series: one per result, one per row of a batched
    result, one per array."""
    if _is_dataframe(results):
        # a history table (one column per metric or run): a curve per column, named by it;
        # np.asarray(...).ravel() would interleave the columns into one zig-zag
        return [(str(name), np.asarray(results[name], dtype=float).ravel())
                for name in results.columns]
    if _is_pandas_series(results) and results.name is not None:
        return [(str(results.name), np.asarray(results, dtype=float).ravel())]
    items = results if isinstance(results, (list, tuple)) else [results]
    if not items:
        raise ValueError(f"{who}: nothing to draw: give a minimize result, a list of them, "
                         f"or arrays of values")
    if all(_is_scalar(v) for v in items):
        # one series given as numbers: a training loop's history of 0-d losses (Tensors,
        # NumPy scalars) too, which would otherwise be as many one-point, invisible runs
        items = [np.array([float(v.detach() if hasattr(v, "detach") else v) for v in items],
                          dtype=float)]
    several = len(items) > 1
    series = []
    for k, item in enumerate(items):
        run = f"run {k}" if several else ""
        trace = _trace_of(item)
        if trace is None:
            if item is None:
                raise TypeError(f"{who}: expected a minimize result, a list of them, or "
                                f"arrays of numbers; got None")
            try:
                array = np.asarray(item, dtype=float)
            except (TypeError, ValueError):
                raise TypeError(f"{who}: expected a minimize result, a list of them, or "
                                f"arrays of numbers; got {type(item).__name__} "
                                f"{str(item)[:60]!r}") from None
            rows = list(array) if array.ndim == 2 and isinstance(item, np.ndarray) and \
                array.shape[0] > 1 and not several else [array.ravel()]
            if len(rows) == 1:
                series.append((run or "series 0", rows[0].ravel()))
            else:
                series.extend((f"series {i}", r.ravel()) for i, r in enumerate(rows))
            continue
        values = np.asarray(getattr(trace, attribute), dtype=float)
        if getattr(item, "batched", False):
            steps = np.asarray(item.n_iter)
            series.extend((", ".join(filter(None, [run, f"start {i}"])),
                           values[i, : steps[i] + 1]) for i in range(values.shape[0]))
        else:
            series.append((run or "run 0", values))
    return series


def _is_dataframe(value: Any) -> bool:
    return hasattr(value, "columns") and hasattr(value, "iloc") and getattr(value, "ndim",
                                                                           0) == 2


def _is_pandas_series(value: Any) -> bool:
    return hasattr(value, "iloc") and hasattr(value, "name") and getattr(value, "ndim", 0) == 1


def _groups(results: Any, attribute: str, labels: Sequence[str] | None, who: str
            ) -> list[tuple[str, list[tuple[str, np.ndarray]]]]:
    """``(legend label, [(line label, values), ...])`` per colour."""
    if isinstance(results, Mapping):
        if labels is not None:
            raise ValueError(f"{who}: labels= goes with a list of results, not a dict "
                             "(its keys are the labels)")
        groups = []
        for name, item in results.items():
            members = _series(item, attribute, who)
            groups.append((str(name), [(str(name) if len(members) == 1 else f"{name}, {lab}",
                                        values) for lab, values in members]))
        return groups
    series = _series(results, attribute, who)
    if labels is not None:
        labels = [str(label) for label in labels]
        if len(labels) != len(series):
            raise ValueError(f"{who}: {len(labels)} labels for {len(series)} curves")
        series = [(label, values) for label, (_, values) in zip(labels, series)]
    return [(label, [(label, values)]) for label, values in series]


def _colors(n: int) -> list[Any]:
    if n <= 10:
        return [plt.get_cmap("tab10")(i) for i in range(n)]
    return list(plt.get_cmap("viridis")(np.linspace(0.0, 0.92, n)))


#: Above this many curves of default names (``start i``, ``run k``), a colour bar keyed by
#: the curve's number replaces the legend, which would crowd out the axes.
MANY_CURVES = 12
#: Values beyond this magnitude (a diverging run's, near float64's largest) would make
#: matplotlib's default margins overflow to inf: the limits are then set here.
EXTREME = 1e300
#: The widest linear range the axes draw: matplotlib divides by its width, which must stay
#: finite (float64's largest is 1.8e308); 1% short of it, for its rounding.
WIDEST = 0.99 * float(np.finfo(float).max)
DEFAULT_NAME = re.compile(r"^((run|series) \d+, )?(run|series|start) \d+$")


def _draw_groups(ax: Any, groups: list[tuple[str, list[tuple[str, np.ndarray]]]],
                 positive: bool = False) -> None:
    handles, names = [], []
    for g, ((name, members), color) in enumerate(zip(groups, _colors(len(groups)))):
        alone = len(members) == 1
        for j, (label, values) in enumerate(members):
            if positive:  # a log axis cannot show 0: leave a gap there
                values = np.where(values > 0, values, np.nan)
            # a single point draws no line segment: mark it, or it would not show
            (line,) = ax.plot(np.arange(values.size), values, color=color,
                              linewidth=1.2 if alone else 0.8, alpha=1.0 if alone else 0.6,
                              marker="o" if values.size == 1 else None,
                              label=label, zorder=2 + (len(groups) - g) / (len(groups) + 1))
            if j == 0:
                handles.append(line)
                names.append(name if alone else f"{name} ({len(members)} runs)")
    if len(handles) > MANY_CURVES and all(DEFAULT_NAME.match(n) for n in names):
        # dozens of "start i" entries say no more than a colour scale of i does
        mappable = ScalarMappable(Normalize(0, len(handles) - 1), _curve_cmap())
        kind = names[0].rsplit(" ", 1)[0]
        ax.figure.colorbar(mappable, ax=ax, label=f"curve: {kind} i", pad=0.02)
    elif handles:
        legend = _outside_legend(ax, handles, names)
        for handle in legend.legend_handles:
            handle.set_alpha(1.0)
            handle.set_linewidth(2.0)
    # iterations are whole numbers (MaxNLocator still splits an axis under one unit wide)
    longest = max((v.size for _, members in groups for _, v in members), default=0)
    ax.xaxis.set_major_locator(FixedLocator([0]) if longest <= 1 else
                               MaxNLocator(integer=True))


def _curve_cmap() -> Any:
    """The colours of :func:`_colors` for many curves, as a colour map."""
    return ListedColormap(plt.get_cmap("viridis")(np.linspace(0.0, 0.92, 256)))


def _finite_limits(ax: Any, log: bool) -> None:
    """Vertical limits from the finite values drawn, when matplotlib's own would overflow.

    A diverging run's objective or gradient norm climbs to ~1e308 before it turns inf; the
    default 5% margins then reach inf and the figure fails to draw (``arange: cannot
    compute length``) or shows limits that leave the curves out."""
    values = np.concatenate([np.asarray(line.get_ydata(), dtype=float).ravel()
                             for line in ax.get_lines()] or [np.zeros(0)])
    values = values[np.isfinite(values) & ((values > 0) if log else True)]
    if values.size == 0:
        return
    low, high = float(values.min()), float(values.max())
    if log:
        if high <= EXTREME and low >= 1.0 / EXTREME:
            return
        a, b = math.log10(low), math.log10(high)
        pad = min(0.05 * (b - a), 0.5) or 0.5  # half a decade at most: no empty decades
        ax.set_ylim(10.0 ** max(a - pad, -307.0), 10.0 ** min(b + pad, 308.25))
        # matplotlib's LogLocator places ticks a stride beyond the limits, and 10 ** 350
        # overflows while drawing ("cannot convert float infinity to integer"): decades
        # inside the limits only
        stride = next(k for k in (1, 2, 5, 10, 20, 25, 50, 100, 200) if k * 8 >= b - a)
        first = stride * math.ceil(max(a - pad, -307.0) / stride)  # round decades
        ax.yaxis.set_major_locator(FixedLocator(
            10.0 ** np.arange(first, math.floor(min(b + pad, 308.25)) + 1, stride)))
        ax.yaxis.set_minor_locator(NullLocator())
        return
    if max(abs(low), abs(high)) <= EXTREME:
        return
    # halves first: high - low itself can overflow (1 - -1.7e308 nearly does). The limits
    # take in every value, with a margin, as long as their difference stays finite (the
    # axes' transform divides by it): a span wider than WIDEST keeps the middle of the
    # values in view
    half, middle = high / 2 - low / 2, low / 2 + high / 2
    half_view = min(1.1 * half or 0.05 * abs(high), WIDEST / 2)  # margins: 5% of the span
    # a hair inside float64's range: matplotlib adds a 1e-10 tolerance to the limits
    largest = float(np.finfo(float).max) * (1 - 1e-9)
    ax.set_ylim(max(middle - half_view, -largest), min(middle + half_view, largest))
    # no offset ("1e308 + ..."): ScalarFormatter computes it with 10 ** 309, which overflows
    ax.ticklabel_format(axis="y", useOffset=False)
    # matplotlib's MaxNLocator computes ticks a step beyond the limits, where they
    # overflow ("arange: cannot compute length"): round ticks found on scaled values
    low_lim, high_lim = ax.get_ylim()
    scale = 10.0 ** math.floor(math.log10(max(abs(low_lim), abs(high_lim))))
    with np.errstate(over="ignore", invalid="ignore"):
        ticks = MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]).tick_values(
            low_lim / scale, high_lim / scale) * scale
    ax.yaxis.set_major_locator(FixedLocator(
        ticks[np.isfinite(ticks) & (ticks >= low_lim) & (ticks <= high_lim)]))
    ax.yaxis.set_minor_locator(NullLocator())


def _auto_log(groups: list[tuple[str, list[tuple[str, np.ndarray]]]]) -> bool:
    """A log axis when every value is positive and they span three decades or more (a
    curve falling from 1e3 to 1e-3 is otherwise flat on the floor after a few steps)."""
    values = np.concatenate([v.ravel() for _, members in groups for _, v in members])
    values = values[~np.isnan(values)]
    if values.size == 0 or not np.all(values > 0):
        return False
    finite = values[np.isfinite(values)]
    return finite.size > 0 and float(finite.max()) >= 1e3 * float(finite.min())


def loss_curve(results: Any, ax: Any = None, log: bool | None = None,
               title: str | None = None, labels: Sequence[str] | None = None) -> Figure:
    """The objective ``f(x_t)`` along the iterations, one labelled curve per result or
    per batched row, the legend outside the axes.

    ``results``: a ``minimize`` result (batched or not), a list of them, arrays of values,
    a pandas DataFrame (a curve per column, named by it), or a dict ``{label: results}``
    that draws each entry's curves in one colour under one legend entry. ``labels`` names
    the curves of a list (default: ``run k``, ``start i``); more than a dozen curves of
    default names get a colour bar of their number instead of a legend.

    ``log``: a log axis for ``f``; by default (None) when every value is positive and
    they span three decades or more. Values too large to draw with margins (a diverging
    run's, near 1e308) set the limits from the finite values.

    Examples
    --------
    >>> import wonderland as wl
    >>> fig = wl.plot.loss_curve([3.0, 2.0, 1.5, 1.4])
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['series 0']
    >>> fig = wl.plot.loss_curve([[3.0, 2.0], [4.0, 1.0]], labels=["GD", "momentum"])
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['GD', 'momentum']
    >>> wl.plot.loss_curve([1e3, 1.0, 1e-3]).axes[0].get_yscale()
    'log'
    """
    groups = _groups(results, "fun", labels, "loss_curve")
    if log is None:
        log = _auto_log(groups)
    for _, members in groups if log else ():
        for label, values in members:
            if not np.any(values > 0):  # nothing a log axis can show
                raise ValueError(f"loss_curve: log=True needs positive values of f, but "
                                 f"{label!r} has none (its least is {np.nanmin(values):.4g}); "
                                 f"draw it with log=False, or shift f by its minimum")
    fig, ax = _axes(ax, figsize=(7.0, 4.5))
    # (autoscaling values near 1e308 overflows before _finite_limits replaces the limits)
    with np.errstate(over="ignore"):
        _draw_groups(ax, groups, positive=log)
        if log:
            ax.set_yscale("log")
        _finite_limits(ax, log)
    ax.set_xlabel("iteration t")
    ax.set_ylabel("objective f(x_t)" + (" (log scale)" if log else ""))
    ax.set_title(title or "loss curve: f(x_t) along the iterations")
    ax.grid(True, alpha=0.3)
    return fig


def grad_norms(results: Any, ax: Any = None, title: str | None = None,
               labels: Sequence[str] | None = None) -> Figure:
    """``‖∇f(x_t)‖`` along the iterations on a log scale: it goes to zero at a stationary
    point. One labelled curve per result or per batched row (an exact zero is left out:
    a log axis cannot show it); ``results`` and ``labels`` as in :func:`loss_curve`.

    Examples
    --------
    >>> import wonderland as wl
    >>> fig = wl.plot.grad_norms([1.0, 0.1, 0.01])
    >>> fig.axes[0].get_yscale()
    'log'
    >>> fig = wl.plot.grad_norms({"gd": [[1.0, 0.1], [2.0, 0.5]], "momentum": [[1.0, 0.3]]})
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['gd (2 runs)', 'momentum']
    """
    groups = _groups(results, "grad_norm", labels, "grad_norms")
    fig, ax = _axes(ax, figsize=(7.0, 4.5))
    with np.errstate(over="ignore"):  # as in loss_curve
        _draw_groups(ax, groups, positive=True)
        ax.set_yscale("log")
        _finite_limits(ax, log=True)
    ax.set_xlabel("iteration t")
    ax.set_ylabel("gradient norm ‖∇f(x_t)‖")
    ax.set_title(title or "gradient norm ‖∇f(x_t)‖ along the iterations")
    ax.grid(True, which="major", alpha=0.3)
    return fig


__all__ = ["contour_paths", "loss_curve", "grad_norms"]
