"""Figures of fitted models: a regression's data, fit and residuals; a classifier's
decision boundary over its predicted probability.

The model is any fitted scikit-learn-style estimator (``wl.linear``'s, or scikit-learn's
own): these functions only call ``predict``, ``predict_proba`` or
``decision_function``."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from mpl_toolkits.mplot3d.art3d import Line3DCollection

from .descent import PATH_COLORS, _axes, _outside_legend

DATA_STYLE = dict(s=18, c="#1f77b4", alpha=0.7, edgecolors="none")
FIT_COLOR = "#d62728"
RESIDUAL_STYLE = dict(color="#7f7f7f", linewidth=0.7, alpha=0.6)
#: The fitted plane of a two-feature regression: a sheet solid enough to read at a
#: glance, with a darker grid that shows its tilt.
PLANE_STYLE = dict(alpha=0.45, edgecolor="#8b0000", linewidth=0.6)
PLANE_DATA_STYLE = dict(s=14, c="#1f77b4", edgecolors="none")
#: Grid points along each feature where the plane is evaluated.
PLANE_GRID = 25
#: The view of the plane: from this elevation, across its slope (of the two sides, the
#: one nearer matplotlib's default azimuth), turned this many degrees towards its face.
PLANE_ELEVATION = 25.0
PLANE_AZIMUTH = -60.0
PLANE_TURN = 20.0
BINARY_POINTS = (dict(marker="o", c="white", edgecolors="black", s=22),
                 dict(marker="^", c="#ffd23f", edgecolors="black", s=34))


def _table(X: Any, who: str) -> np.ndarray:
    values = np.asarray(X, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise ValueError(f"{who}: X must be 2-D (samples, features), got shape {values.shape}")
    return values


def _names(model: Any, X: Any, count: int) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        names = getattr(X, "columns", None)
    return [str(n) for n in names] if names is not None and len(names) == count \
        else [f"x{j}" for j in range(count)]


def _ask(model: Any, method: str, rows: np.ndarray, names: list[str]) -> np.ndarray:
    """``model.method(rows)`` as floats."""
    return np.asarray(getattr(model, method)(_frame(model, rows, names)), dtype=float)


def _r2(y: np.ndarray, fitted: np.ndarray) -> float:
    from ..linear.base import regression_scores  # (wl.plot loads no estimator)

    return regression_scores(y, fitted)[0]  # (NaN for a constant target only)


def regression_fit(model: Any, X: Any, y: Any, *, feature: int | str | None = None,
                   ax: Any = None, title: str | None = None) -> Figure:
    """The data, the fitted model and the residuals of a regression.

    With one feature (or ``feature=`` naming one of several): the targets against that
    feature, the fitted line (with one feature) or the fitted values, and each residual
    as a vertical segment. With two features: the fitted plane (a surface, for a model
    that is not linear) in 3-D over the data, named in the legend; in a figure of its own
    it is seen from above, across its slope, the points under it drawn behind it. With
    more: observed against fitted values, around the diagonal of a perfect fit.

    Parameters
    ----------
    model : fitted estimator with ``predict``
    X : array-like of shape (n, c), or a DataFrame
    y : array-like of shape (n,)
    feature : int or str, optional
        The feature to put on the horizontal axis (a column index or name).
    ax : matplotlib Axes, optional
        Where to draw (a 3-D Axes for two features without ``feature``).
    title : str, optional
        Defaults to the model's name and its R² on these data.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.arange(10.0)[:, None]; y = 2 * X[:, 0] + 1
    >>> fig = regression_fit(LinearRegression().fit(X, y), X, y)
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('x0', 'target')
    """
    if hasattr(model, "classes_"):  # (its labels against a feature are no regression)
        raise TypeError(f"regression_fit: {type(model).__name__} is a classifier; draw it "
                        f"with decision_boundary")
    table = _table(X, "regression_fit")
    target = np.asarray(y, dtype=float)
    if target.ndim == 2 and target.shape[1] != 1:
        raise ValueError(f"regression_fit: y of shape {target.shape} holds {target.shape[1]} "
                         f"targets; draw one at a time (a model fitted to that column)")
    target = target.ravel()
    if target.shape[0] != table.shape[0]:
        raise ValueError(f"regression_fit: X has {table.shape[0]} rows but y has "
                         f"{target.shape[0]}")
    names = _names(model, X, table.shape[1])
    fitted = _ask(model, "predict", table, names).ravel()
    r2 = _r2(target, fitted)
    # R² divides by the target's spread: with none (a constant target) it is undefined,
    # which a title reading "R² = nan" does not say
    heading = title or (f"{type(model).__name__}: R² = {r2:.3f}" if math.isfinite(r2) else
                        f"{type(model).__name__}: R² undefined (constant target)")
    if feature is not None:
        column = names.index(feature) if isinstance(feature, str) and feature in names \
            else feature
        if isinstance(column, bool) or not isinstance(column, int | np.integer) or \
                not 0 <= column < table.shape[1]:
            raise ValueError(f"regression_fit: feature {feature!r} is not one of the "
                             f"{table.shape[1]} features {names}")
        return _against_feature(model, table, target, fitted, int(column), names, ax,
                                heading)
    if table.shape[1] == 1:
        return _against_feature(model, table, target, fitted, 0, names, ax, heading)
    if table.shape[1] == 2:
        return _plane(model, table, target, fitted, names, ax, heading)
    return _observed_fitted(target, fitted, ax, heading)


def _against_feature(model: Any, table: np.ndarray, target: np.ndarray, fitted: np.ndarray,
                     column: int, names: list[str], ax: Any, heading: str) -> Figure:
    fig, ax = _axes(ax)
    x = table[:, column]
    ax.vlines(x, np.minimum(target, fitted), np.maximum(target, fitted),
              label="residuals", **RESIDUAL_STYLE)
    ax.scatter(x, target, label="data", **DATA_STYLE)
    if table.shape[1] == 1:
        grid = np.linspace(x.min(), x.max(), 200)[:, None]
        # one distinct x: the "line" has no length, so its one point is marked
        ax.plot(grid[:, 0], _ask(model, "predict", grid, names).ravel(), color=FIT_COLOR,
                linewidth=2, label="fitted line",
                marker="D" if x.min() == x.max() else None, markevery=[0])
    else:
        ax.scatter(x, fitted, s=12, c=FIT_COLOR, marker="x", label="fitted values")
    ax.set_xlabel(names[column])
    ax.set_ylabel("target")
    ax.set_title(heading)
    ax.legend(loc="best", fontsize=8)
    return fig


def _plane(model: Any, table: np.ndarray, target: np.ndarray, fitted: np.ndarray,
           names: list[str], ax: Any, heading: str) -> Figure:
    """The fitted plane (a surface, for a model that is not linear) over the data in 3-D.

    The plane is an opaque-enough red sheet with a darker grid on it, named in the
    legend through a proxy patch (a 3-D surface takes no legend entry of its own). On a
    figure of its own, the points and residuals below the plane are drawn before it and
    those above after it, so that the plane hides (dims) what lies beneath it.
    """
    own = ax is None
    if own:
        fig = Figure(figsize=(7.0, 6.0), layout="constrained")
        # drawn in the order below: points under the plane, the plane, points over it
        ax = fig.add_subplot(projection="3d", computed_zorder=False)
    elif getattr(ax, "name", "") != "3d":
        raise ValueError("regression_fit: two features draw a plane in 3-D: pass an Axes "
                         "made with projection='3d', or feature= to plot one feature")
    fig = ax.figure
    u = np.linspace(table[:, 0].min(), table[:, 0].max(), PLANE_GRID)
    v = np.linspace(table[:, 1].min(), table[:, 1].max(), PLANE_GRID)
    U, V = np.meshgrid(u, v)
    plane = _ask(model, "predict", np.column_stack([U.ravel(), V.ravel()]),
                 names).reshape(U.shape)
    above = target >= fitted
    for rows, order in ((~above, 1), (above, 3)):
        if not rows.any():
            continue
        x, w = table[rows, 0], table[rows, 1]
        segments = np.stack([np.column_stack([x, w, fitted[rows]]),
                             np.column_stack([x, w, target[rows]])], axis=1)
        ax.add_collection3d(Line3DCollection(segments, zorder=order, **RESIDUAL_STYLE))
        ax.scatter(x, w, target[rows], depthshade=False, zorder=order + 0.5,
                   **PLANE_DATA_STYLE)
    ax.plot_surface(U, V, plane, color=FIT_COLOR, alpha=PLANE_STYLE["alpha"], linewidth=0,
                    shade=True, zorder=2)
    stride = max(1, (PLANE_GRID - 1) // 6)  # a grid of 6 × 6 cells drawn on the plane
    ax.plot_wireframe(U, V, plane, rstride=stride, cstride=stride, zorder=2.5,
                      color=PLANE_STYLE["edgecolor"], linewidth=PLANE_STYLE["linewidth"])
    handles = [Patch(facecolor=FIT_COLOR, alpha=PLANE_STYLE["alpha"],
                     edgecolor=PLANE_STYLE["edgecolor"],
                     label="fitted plane" if _is_flat(U, V, plane) else "fitted surface"),
               Line2D([], [], marker="o", linestyle="none", markersize=5,
                      color=PLANE_DATA_STYLE["c"], label="data"),
               Line2D([], [], color=RESIDUAL_STYLE["color"], linewidth=1.2,
                      label="residuals")]
    ax.legend(handles=handles, loc="upper left", fontsize=8)
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_zlabel("target")
    ax.set_title(heading)
    if own:
        ax.view_init(elev=PLANE_ELEVATION, azim=_facing_azimuth(ax, U, V, plane))
    return fig


def _is_flat(U: np.ndarray, V: np.ndarray, plane: np.ndarray) -> bool:
    """Whether the fitted values on the grid lie on a plane (a linear model's do)."""
    design = np.column_stack([U.ravel(), V.ravel(), np.ones(U.size)])
    coef, *_ = np.linalg.lstsq(design, plane.ravel(), rcond=None)
    scale = float(np.abs(plane).max()) or 1.0
    return bool(np.abs(design @ coef - plane.ravel()).max() <= 1e-6 * scale)


def _facing_azimuth(ax: Any, U: np.ndarray, V: np.ndarray, plane: np.ndarray) -> float:
    """The azimuth (degrees) from which the plane is seen across its slope, from above.

    From matplotlib's default azimuth a steep plane can be seen edge-on or from beneath
    (its points then all but sit on a line). Looking along its contour lines instead
    (perpendicular to its slope), turned a little towards its upper face, shows the
    plane as a tilted sheet with the residuals upright on it: the points over the plane
    are in front of it and those under it behind.

    Parameters
    ----------
    ax : Axes3D
        The axes, already drawn into (their limits and box aspect scale the slopes).
    U, V, plane : ndarray of shape (m, m)
        The grid of the two features and the fitted values on it.

    Returns
    -------
    float
        The azimuth, in (-180, 180]; matplotlib's default -60 for a flat plane.
    """
    design = np.column_stack([U.ravel(), V.ravel(), np.ones(U.size)])
    (slope_u, slope_v, _), *_ = np.linalg.lstsq(design, plane.ravel(), rcond=None)
    box = np.asarray(ax.get_box_aspect(), dtype=float)
    spans = [float(np.ptp(lim)) or 1.0 for lim in (ax.get_xlim3d(), ax.get_ylim3d(),
                                                   ax.get_zlim3d())]
    # the plane's slopes in the drawn box's units; its upper face looks downhill
    scaled_u = slope_u * (spans[0] / box[0]) / (spans[2] / box[2])
    scaled_v = slope_v * (spans[1] / box[1]) / (spans[2] / box[2])
    if not np.isfinite([scaled_u, scaled_v]).all() or np.hypot(scaled_u, scaled_v) < 0.05:
        return PLANE_AZIMUTH
    downhill = float(np.degrees(np.arctan2(-scaled_v, -scaled_u)))

    def wrap(angle: float) -> float:
        return (angle + 180.0) % 360.0 - 180.0

    across = min((wrap(downhill + 90.0), wrap(downhill - 90.0)),
                 key=lambda a: abs(wrap(a - PLANE_AZIMUTH)))
    turn = PLANE_TURN if wrap(downhill - across) > 0 else -PLANE_TURN
    return wrap(across + turn)


def _observed_fitted(target: np.ndarray, fitted: np.ndarray, ax: Any, heading: str) -> Figure:
    fig, ax = _axes(ax)
    ax.vlines(fitted, np.minimum(target, fitted), np.maximum(target, fitted),
              label="residuals", **RESIDUAL_STYLE)
    ax.scatter(fitted, target, label="data", **DATA_STYLE)
    low, high = min(target.min(), fitted.min()), max(target.max(), fitted.max())
    ax.plot([low, high], [low, high], color=FIT_COLOR, linewidth=1.5,
            label="perfect fit (observed = fitted)")
    ax.set_xlabel("fitted value")
    ax.set_ylabel("observed target")
    ax.set_title(heading)
    ax.legend(loc="best", fontsize=8)
    return fig


def decision_boundary(model: Any, X: Any, y: Any, *, ax: Any = None, resolution: int = 200,
                      title: str | None = None) -> Figure:
    """A classifier over two features: the predicted probability of the second class as
    shading, the decision boundary (probability 0.5; score 0 for a model without
    probabilities) as a line, and the data coloured by class. With more than two classes,
    each predicted class is a shaded region.

    Parameters
    ----------
    model : fitted classifier with ``predict_proba`` (or ``decision_function``)
    X : array-like of shape (n, 2), or a DataFrame of two columns
    y : array-like of shape (n,): the labels, drawn as the points' colours
    ax : matplotlib Axes, optional
    resolution : int
        Grid points along each axis.
    title : str, optional

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.2]]); y = [0, 1, 0, 1]
    >>> fig = decision_boundary(LogisticRegression().fit(X, y), X, y)
    >>> fig.axes[0].get_title()
    'LogisticRegression: decision boundary'
    """
    if not hasattr(model, "classes_") and (hasattr(model, "predict_proba") or getattr(
            model, "_estimator_type", None) == "classifier"):
        raise TypeError(f"decision_boundary: {type(model).__name__} is not fitted yet (it "
                        f"has no classes_); call model.fit(X, y) first")
    if not hasattr(model, "classes_"):  # (a regressor's values are no classes)
        raise TypeError(f"decision_boundary: {type(model).__name__} is not a fitted "
                        f"classifier (it has no classes_); draw a regression with "
                        f"regression_fit")
    table = _table(X, "decision_boundary")
    if table.shape[1] != 2:
        raise ValueError(f"decision_boundary: draws two features, got X of shape "
                         f"{table.shape}; fit the model on two columns to see its boundary")
    labels = np.asarray(y).ravel()
    if labels.shape[0] != table.shape[0]:
        raise ValueError(f"decision_boundary: X has {table.shape[0]} rows but y has "
                         f"{labels.shape[0]}")
    if isinstance(resolution, bool) or not isinstance(resolution, numbers.Integral) or \
            resolution < 2:
        raise ValueError(f"decision_boundary: resolution must be an int >= 2, got "
                         f"{resolution!r}")
    resolution = int(resolution)
    classes = model.classes_
    # a label the model does not know matches no class: its points would silently vanish
    unknown = ~np.isin(labels, np.asarray(classes))
    if unknown.any():
        first = int(np.flatnonzero(unknown)[0])
        raise ValueError(f"decision_boundary: y holds labels the model was not fitted on, "
                         f"first {labels[first].tolist()!r} at row {first}; the model's "
                         f"classes are {np.asarray(classes).tolist()}")
    names = _names(model, X, 2)
    # a feature that does not vary gets a margin of its own size (or 0.5): 1e-12 drew an
    # axis 2e-12 wide, its tick labels under a "1e-12+1" offset
    spread = np.ptp(table, axis=0)
    margin = np.where(spread > 0, 0.05 * spread, 0.5 * np.maximum(np.abs(table[0]), 1.0))
    low, high = table.min(axis=0) - margin, table.max(axis=0) + margin
    U, V = np.meshgrid(np.linspace(low[0], high[0], resolution),
                       np.linspace(low[1], high[1], resolution))
    grid = np.column_stack([U.ravel(), V.ravel()])
    fig, ax = _axes(ax, figsize=(6.5, 5.0))
    if len(classes) == 2 and hasattr(model, "predict_proba"):
        surface = _ask(model, "predict_proba", grid, names)[:, 1].reshape(U.shape)
        shade = ax.contourf(U, V, surface, levels=np.linspace(0, 1, 11), cmap="RdBu_r",
                            alpha=0.5)
        fig.colorbar(shade, ax=ax, location="bottom", shrink=0.8,
                     label=f"predicted probability P(y = {classes[1]})")
        ax.contour(U, V, surface, levels=[0.5], colors="black", linewidths=2)
        boundary = "P = 0.5: the decision boundary"
    elif len(classes) == 2:
        surface = _ask(model, "decision_function", grid, names).reshape(U.shape)
        limit = float(np.abs(surface).max()) or 1.0
        # levels symmetric about the boundary (score 0 is white), a few round ticks
        shade = ax.contourf(U, V, surface, levels=np.linspace(-limit, limit, 21),
                            cmap="RdBu_r", alpha=0.5)
        bar = fig.colorbar(shade, ax=ax, location="bottom", shrink=0.8,
                           label="score (decision function)")
        ticks = MaxNLocator(nbins=6, symmetric=True).tick_values(-limit, limit)
        bar.set_ticks(ticks[np.abs(ticks) <= limit * (1 + 1e-9)])
        ax.contour(U, V, surface, levels=[0.0], colors="black", linewidths=2)
        boundary = "score = 0: the decision boundary"
    else:
        predicted = _ask_labels(model, grid, names, classes).reshape(U.shape)
        colours = ListedColormap([PATH_COLORS[k % len(PATH_COLORS)]
                                  for k in range(len(classes))])
        ax.contourf(U, V, predicted, levels=np.arange(len(classes) + 1) - 0.5, cmap=colours,
                    alpha=0.25)
        ax.contour(U, V, predicted, levels=np.arange(len(classes)) + 0.5, colors="black",
                   linewidths=1.5)
        boundary = "class boundaries"
    handles, texts = [], []
    for k, label in enumerate(classes):
        rows = labels == label
        # two classes: white circles and gold triangles, black-edged, read on either end
        # of the red-blue shading (dark triangles vanished into the dark red)
        style = (BINARY_POINTS[k] if len(classes) == 2 else
                 dict(marker="o", c=PATH_COLORS[k % len(PATH_COLORS)], edgecolors="black",
                      s=18))
        handles.append(ax.scatter(table[rows, 0], table[rows, 1], linewidths=0.6, **style))
        texts.append(f"class {label}")
    handles.append(Line2D([], [], color="black", linewidth=2))
    texts.append(boundary)
    _outside_legend(ax, handles, texts)
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title(title or f"{type(model).__name__}: decision boundary")
    return fig


def _ask_labels(model: Any, grid: np.ndarray, names: list[str], classes: Any) -> np.ndarray:
    """The predicted class of each grid point, as its position in ``classes``."""
    predicted = np.asarray(model.predict(_frame(model, grid, names)))
    return np.searchsorted(np.asarray(classes), predicted).astype(float)


def _frame(model: Any, rows: np.ndarray, names: list[str]) -> Any:
    """``rows`` as a DataFrame when the model was fitted on one (so that scikit-learn does
    not warn about missing feature names)."""
    if getattr(model, "feature_names_in_", None) is not None:
        try:
            import pandas as pd
        except ImportError:
            return rows
        return pd.DataFrame(rows, columns=names)
    return rows
