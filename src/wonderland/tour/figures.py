"""Drawing helpers of the tour: a common look (headless matplotlib, constrained layout)
and the figures that ``wl.plot`` does not provide.

Every function returns a :class:`matplotlib.figure.Figure` made without ``pyplot`` (no
display, no global state), so the tour runs on a machine without a screen.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatterSciNotation

__all__ = ["new_figure", "png_bytes", "matrix_panel", "plain_log_ticks", "COLORS"]

#: One colour per role, used across the tour (tab10).
COLORS = {"blue": "#1f77b4", "orange": "#ff7f0e", "green": "#2ca02c", "red": "#d62728",
          "purple": "#9467bd", "brown": "#8c564b", "pink": "#e377c2", "grey": "#7f7f7f",
          "olive": "#bcbd22", "cyan": "#17becf"}


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 9.0, height: float = 3.8,
               **kwargs: Any) -> tuple[Figure, Any]:
    """A figure with constrained layout and ``nrows × ncols`` axes (an array of axes,
    squeezed as ``plt.subplots`` does).

    Examples
    --------
    >>> fig, axes = new_figure(2)
    >>> len(axes)
    2
    """
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=True, **kwargs)
    return fig, axes


def png_bytes(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes.

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> png_bytes(fig)[:4]
    b'\\x89PNG'
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def matrix_panel(ax: Any, values: np.ndarray, title: str, spec: str = "g",
                 cmap: str = "Blues", xlabel: str = "index along axis 1",
                 ylabel: str = "index along axis 0", vmin: float | None = None,
                 vmax: float | None = None, text_color: Callable[[float], str] | None = None
                 ) -> None:
    """Draw a matrix (a 1-D array as one row) as coloured cells with its numbers.

    Examples
    --------
    >>> import numpy as np
    >>> fig, ax = new_figure()
    >>> matrix_panel(ax, np.arange(6).reshape(2, 3), "a (2, 3) tensor")
    >>> ax.get_title()
    'a (2, 3) tensor'
    """
    values = np.asarray(values, dtype=float)
    grid = values.reshape(1, -1) if values.ndim == 1 else values
    lo = float(np.nanmin(grid)) if vmin is None else vmin
    hi = float(np.nanmax(grid)) if vmax is None else vmax
    if hi == lo:
        hi = lo + 1.0
    ax.imshow(grid, cmap=cmap, vmin=lo - 0.15 * (hi - lo), vmax=hi + 0.35 * (hi - lo),
              aspect="equal")
    for (i, j), v in np.ndenumerate(grid):
        color = text_color(v) if text_color is not None else "black"
        ax.text(j, i, format(v, spec), ha="center", va="center", fontsize=9, color=color)
    ax.set_xticks(range(grid.shape[1]))
    ax.set_yticks(range(grid.shape[0]))
    if values.ndim == 1:
        ax.set_yticks([])
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel if values.ndim > 1 else "", fontsize=8)
    ax.tick_params(labelsize=8, length=0)
    ax.set_title(title, fontsize=9)
    for spine in ax.spines.values():
        spine.set_visible(False)


def contour(ax: Any, f: Callable[[np.ndarray], np.ndarray], xlim: Sequence[float],
            ylim: Sequence[float], levels: int = 25, resolution: int = 120,
            label: str = "f(x)") -> Any:
    """Filled contours of a vectorized ``f: (n, 2) -> (n,)`` (NumPy in, NumPy out) with a
    colour bar; returns the contour set.

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> cs = contour(ax, lambda P: (P ** 2).sum(1), (-1, 1), (-1, 1), resolution=20)
    >>> len(cs.levels) > 2
    True
    """
    xs = np.linspace(*xlim, resolution)
    ys = np.linspace(*ylim, resolution)
    gx, gy = np.meshgrid(xs, ys)
    values = np.asarray(f(np.stack([gx.ravel(), gy.ravel()], axis=1))).reshape(gx.shape)
    cs = ax.contourf(xs, ys, values, levels=levels, cmap="Greys_r", alpha=0.55)
    ax.contour(xs, ys, values, levels=cs.levels, colors="#555555", linewidths=0.3)
    ax.figure.colorbar(cs, ax=ax, label=label, shrink=0.9)
    return cs


class _PlainLogFormatter(LogFormatterSciNotation):
    """Labels the ticks matplotlib's log formatter would label, as plain decimals."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:g}" if super().__call__(x, pos) else ""


def plain_log_ticks(axis: Any) -> None:
    """Label a log-scaled ``axis`` (``ax.yaxis``) with plain decimals: on an axis that
    spans less than a decade or two, ``0.4`` reads at a glance where matplotlib's
    ``4 × 10⁻¹`` does not.

    Examples
    --------
    >>> fig, ax = new_figure()
    >>> _ = ax.plot([1, 2, 3], [2.0, 0.6, 0.25])
    >>> ax.set_yscale("log")
    >>> plain_log_ticks(ax.yaxis)
    >>> _ = png_bytes(fig)
    >>> {"0.3", "0.4", "1"} <= {t.get_text() for t in ax.get_yticklabels(which="both")}
    True
    """
    axis.set_major_formatter(_PlainLogFormatter())
    axis.set_minor_formatter(_PlainLogFormatter(labelOnlyBase=False))
