"""wl.plot.regression_fit and decision_boundary: what the figures show."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from mpl_toolkits.mplot3d import proj3d
from mpl_toolkits.mplot3d.art3d import Line3DCollection, Poly3DCollection
from sklearn.datasets import load_iris, make_classification
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeRegressor

import wonderland as wl
from wonderland.plot.models import FIT_COLOR

RNG = np.random.default_rng(0)


def _line_data(n=40, features=1):
    X = RNG.normal(size=(n, features))
    y = X @ np.arange(1.0, features + 1) + 0.5 + 0.1 * RNG.normal(size=n)
    return X, y


def test_one_feature_shows_data_the_fitted_line_and_every_residual():
    X, y = _line_data()
    model = LinearRegression().fit(X, y)
    fig = wl.plot.regression_fit(model, X, y)
    ax = fig.axes[0]
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == "fitted line"]
    xs, ys = line.get_data()
    np.testing.assert_allclose(ys, model.predict(xs[:, None]))
    (residuals,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    segments = residuals.get_segments()
    assert len(segments) == len(y)
    lengths = sorted(abs(s[1][1] - s[0][1]) for s in segments)
    np.testing.assert_allclose(lengths, sorted(abs(y - model.predict(X))), atol=1e-12)
    assert "R² = " in ax.get_title()


def test_feature_names_come_from_a_dataframe_and_feature_picks_one():
    X, y = _line_data(features=3)
    frame = pd.DataFrame(X, columns=["age", "bmi", "bp"])
    model = LinearRegression().fit(frame, y)
    fig = wl.plot.regression_fit(model, frame, y, feature="bmi")
    assert fig.axes[0].get_xlabel() == "bmi"
    labels = [c.get_label() for c in fig.axes[0].collections]
    assert "fitted values" in labels


def test_two_features_draw_the_plane_in_3d_and_more_observed_against_fitted():
    X, y = _line_data(features=2)
    fig = wl.plot.regression_fit(LinearRegression().fit(X, y), X, y)
    assert fig.axes[0].name == "3d"
    X, y = _line_data(features=4)
    fig = wl.plot.regression_fit(LinearRegression().fit(X, y), X, y)
    assert fig.axes[0].get_xlabel() == "fitted value"
    assert fig.axes[0].get_ylabel() == "observed target"


def test_regression_fit_draws_into_a_given_axes():
    X, y = _line_data()
    fig = Figure()
    ax = fig.add_subplot()
    assert wl.plot.regression_fit(LinearRegression().fit(X, y), X, y, ax=ax) is fig
    assert ax.get_lines()


@pytest.mark.parametrize(("call", "message"), [
    (lambda m, X, y: wl.plot.regression_fit(m, X, y[:-1]), "rows"),
    (lambda m, X, y: wl.plot.regression_fit(m, X, y, feature="nope"), "nope"),
    (lambda m, X, y: wl.plot.regression_fit(m, X, y, feature=5), "5"),
    (lambda m, X, y: wl.plot.regression_fit(m, X, np.column_stack([y, y])),
     r"y of shape \(\d+, 2\) holds 2 targets; draw one at a time"),
])
def test_regression_fit_refuses_bad_input_clearly(call, message):
    X, y = _line_data(features=2)
    with pytest.raises(ValueError, match=message):
        call(LinearRegression().fit(X, y), X, y)


def test_two_features_on_a_flat_axes_is_a_clear_error():
    X, y = _line_data(features=2)
    with pytest.raises(ValueError, match="3-D"):
        wl.plot.regression_fit(LinearRegression().fit(X, y), X, y, ax=Figure().add_subplot())


def _blobs(n=60):
    X = np.vstack([RNG.normal(-1.5, 1, size=(n, 2)), RNG.normal(1.5, 1, size=(n, 2))])
    return X, np.repeat([0, 1], n)


def test_the_boundary_line_is_where_the_probability_is_one_half():
    X, y = _blobs()
    model = LogisticRegression().fit(X, y)
    fig = wl.plot.decision_boundary(model, X, y)
    ax = fig.axes[0]
    boundary = [c for c in ax.collections if hasattr(c, "levels") and
                list(c.levels) == [0.5]]
    assert boundary, "no contour at P = 0.5"
    points = np.vstack(boundary[0].get_paths()[0].vertices)
    np.testing.assert_allclose(model.predict_proba(points)[:, 1], 0.5, atol=0.01)
    assert "P(y = 1)" in fig.axes[1].get_xlabel()  # the colour bar, below


def test_the_legend_names_each_class_and_sits_outside_the_axes():
    X, y = _blobs()
    fig = wl.plot.decision_boundary(LogisticRegression().fit(X, y), X, y)
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts[:2] == ["class 0", "class 1"]
    assert legend.get_window_extent().x0 >= ax.get_window_extent().x1


def test_a_model_without_probabilities_draws_its_zero_score_line():
    X, y = _blobs()
    fig = wl.plot.decision_boundary(LinearSVC().fit(X, y), X, y)
    assert any(list(getattr(c, "levels", [])) == [0.0] for c in fig.axes[0].collections)


def test_several_classes_shade_each_predicted_region():
    iris = load_iris()
    X, y = iris.data[:, :2], iris.target
    fig = wl.plot.decision_boundary(LogisticRegression().fit(X, y), X, y)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts == ["class 0", "class 1", "class 2", "class boundaries"]


def test_decision_boundary_needs_two_features():
    X = RNG.normal(size=(20, 3))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match=r"two features.*\(20, 3\)"):
        wl.plot.decision_boundary(LogisticRegression().fit(X, y), X, y)


def test_a_regressor_is_no_decision_boundary_and_a_classifier_no_regression_fit():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = X[:, 0] + 0.1 * rng.normal(size=30)
    with pytest.raises(TypeError, match="decision_boundary: LinearRegression is not a fitted "
                                        "classifier"):
        wl.plot.decision_boundary(LinearRegression().fit(X, y), X, y)
    labels = (y > 0).astype(int)
    with pytest.raises(TypeError, match="regression_fit: LogisticRegression is a classifier"):
        wl.plot.regression_fit(LogisticRegression().fit(X, labels), X, labels)


def test_loss_curve_refuses_none_and_a_log_axis_for_values_never_positive():
    with pytest.raises(TypeError, match="loss_curve: .* got None"):
        wl.plot.loss_curve(None)
    with pytest.raises(ValueError, match=r"log=True needs positive values of f, but 'run 0' "
                                         r"has none \(its least is -5\)"):
        wl.plot.loss_curve(wl.optim.minimize(lambda x: (x**2).sum() - 5, [1.0, 2.0], lr=0.1),
                           log=True)
    assert wl.plot.loss_curve([1.0, 0.5, 0.0], log=True).axes[0].get_lines()  # a gap at 0


def test_decision_boundary_refuses_labels_the_model_was_not_fitted_on():
    """Their points matched no class and silently vanished from the figure."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match=r"^decision_boundary: y holds labels the model was "
                                         r"not fitted on, first 5 at row 0; the model's "
                                         r"classes are \[0, 1\]"):
        wl.plot.decision_boundary(model, X, np.where(np.arange(30) == 0, 5, y))
    ax = wl.plot.decision_boundary(model, X, y.astype(float)).axes[0]  # 0.0 is class 0
    assert sum(len(c.get_offsets()) for c in ax.collections
               if isinstance(c, PathCollection)) == 30


def test_decision_boundary_takes_a_numpy_integer_resolution_and_refuses_a_bool():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    assert wl.plot.decision_boundary(model, X, y, resolution=np.int64(20)).axes
    with pytest.raises(ValueError, match="resolution must be an int >= 2, got True"):
        wl.plot.decision_boundary(model, X, y, resolution=True)


def test_regression_fit_refuses_a_bool_feature():
    """feature=True drew column 1."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = X @ [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="regression_fit: feature True is not one of"):
        wl.plot.regression_fit(LinearRegression().fit(X, y), X, y, feature=True)


def _plane_figure(coef=(2.0, -1.0), model=None, n=80):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 2))
    y = X @ np.asarray(coef) + 0.5 + 0.5 * rng.normal(size=n)
    model = (model or LinearRegression()).fit(X, y)
    fig = wl.plot.regression_fit(model, X, y)
    fig.canvas.draw()
    return fig, fig.axes[0], X, model


def _surface(ax):
    (surface,) = [c for c in ax.collections if isinstance(c, Poly3DCollection)]
    return surface


def test_the_plane_is_named_in_the_legend_and_the_axes_are_labelled():
    """The legend named only the data: a 3-D surface takes no legend entry by itself."""
    _, ax, _, _ = _plane_figure()
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["fitted plane", "data", "residuals"]
    patch = ax.get_legend().get_patches()[0]
    assert patch.get_facecolor()[:3] == pytest.approx(to_rgba(_surface(ax).get_facecolor()[0])[:3],
                                                      abs=0.2)  # (the surface is shaded)
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()) == ("x0", "x1", "target")
    assert ax.get_title().startswith("LinearRegression: R² = ")


def test_a_model_that_is_not_linear_draws_a_surface_not_a_plane():
    _, ax, _, _ = _plane_figure(model=DecisionTreeRegressor(max_depth=3))
    assert [t.get_text() for t in ax.get_legend().get_texts()][0] == "fitted surface"


def test_the_plane_is_solid_enough_to_see_and_has_grid_lines_on_it():
    """It was drawn at alpha 0.25 without edges: faint, its tilt hard to read."""
    _, ax, _, model = _plane_figure()
    assert _surface(ax).get_alpha() >= 0.4
    # the 3-D points of each line collection (matplotlib has no public getter for them);
    # the residuals leave the plane, grid lines lie on it
    lines = [(c, np.vstack(c._segments3d)) for c in ax.collections
             if isinstance(c, Line3DCollection)]
    wire = [c for c, points in lines
            if len(points) >= 16 and np.allclose(points[:, 2], model.predict(points[:, :2]))]
    assert wire, "no grid lines drawn on the plane"
    assert to_rgba(wire[0].get_color()[0])[:3] != to_rgba(FIT_COLOR)[:3]  # darker: visible


@pytest.mark.parametrize("coef", [(2.0, -1.0), (3.0, 0.0), (0.0, -3.0), (0.5, 0.5)])
def test_the_view_shows_the_plane_face_on_not_edge_on(coef):
    """From matplotlib's default view a steep plane was seen nearly edge-on (about 2-6 %
    of the axes' area): its points all but sat on one line."""
    _, ax, X, model = _plane_figure(coef)
    low, high = X.min(axis=0), X.max(axis=0)
    corners = np.array([[low[0], low[1]], [high[0], low[1]], [high[0], high[1]],
                        [low[0], high[1]]])
    px, py, _ = proj3d.proj_transform(corners[:, 0], corners[:, 1], model.predict(corners),
                                      ax.get_proj())
    u, v = ax.transData.transform(np.column_stack([px, py])).T
    area = 0.5 * abs(u @ np.roll(v, 1) - v @ np.roll(u, 1))
    box = ax.get_window_extent()
    assert area / (box.width * box.height) >= 0.12
    assert ax.elev > 0  # from above: the points over the plane are in front of it


def test_points_under_the_plane_are_drawn_behind_it():
    _, ax, _, _ = _plane_figure()
    assert ax.computed_zorder is False
    points = sorted(c.get_zorder() for c in ax.collections if isinstance(c, PathCollection))
    assert points[0] < _surface(ax).get_zorder() < points[-1]


def test_a_plane_in_a_given_3d_axes_keeps_its_view_and_gets_the_legend():
    X, y = _line_data(features=2)
    fig = Figure()
    ax = fig.add_subplot(projection="3d", elev=10, azim=40)
    assert wl.plot.regression_fit(LinearRegression().fit(X, y), X, y, ax=ax) is fig
    assert (ax.elev, ax.azim) == (10, 40)
    assert "fitted plane" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_the_score_colour_bar_is_symmetric_and_its_tick_labels_do_not_overlap():
    """Without probabilities the bar had 21 levels over the scores' own range and its
    tick labels ran into each other ("-2.4-1.6-0.8")."""
    X, y = make_classification(n_samples=300, n_features=2, n_redundant=0, n_informative=2,
                               n_clusters_per_class=1, random_state=1)
    fig = wl.plot.decision_boundary(LinearSVC().fit(X, y), X, y)
    fig.canvas.draw()
    bar = fig.axes[1]
    low, high = bar.get_xlim()
    assert low == pytest.approx(-high)
    labels = [t for t in bar.get_xticklabels() if t.get_text() and t.get_visible()]
    assert len(labels) >= 3
    boxes = sorted((t.get_window_extent() for t in labels), key=lambda b: b.x0)
    assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:]))
