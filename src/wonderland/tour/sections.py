"""The tour's sections: one function per part of the text, each computed by wonderland.

Every function has the signature ``(ctx: Context, s: Section) -> None``: it computes with
wonderland's public API, and fills ``s`` with prose, figures, tables and the numbers it
quotes. ``SECTIONS`` lists them in the text's order; :func:`wonderland.tour.run_tour`
runs them and :mod:`wonderland.tour.report` writes the report.

Parts 5 to 8 use ``wl.linear`` (scikit-learn compatible linear models) and the datasets
that ship with scikit-learn (diabetes, breast cancer, digits): nothing is downloaded.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from matplotlib import patheffects
from matplotlib.ticker import MaxNLocator

from .base import Context, Section, SectionSpec
from .figures import COLORS, contour, matrix_panel, new_figure, plain_log_ticks

__all__ = ["SECTIONS", "tensors", "derivatives", "gradient_descent", "losses",
           "least_squares", "logistic_regression", "datasets_and_shift", "pretrained"]


def _error_message(call: Any) -> tuple[str, str]:
    """Run ``call()``, which must raise; returns ``(exception type, message)``."""
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the point is to show the message
        return type(exc).__name__, str(exc)
    raise AssertionError("the call was expected to raise")


def _count(n: int, noun: str) -> str:
    """``n`` things in words: "no feature", "1 feature", "3 features".

    Examples
    --------
    >>> _count(0, "feature"), _count(1, "feature"), _count(29, "feature")
    ('no feature', '1 feature', '29 features')
    """
    return f"no {noun}" if n == 0 else f"{n} {noun}" + ("s" if n != 1 else "")


def _threshold_line(ax: Any, y: float, label: str) -> None:
    """Draw the horizontal line ``y`` that the caption names, and add it to the legend
    that ``wl.plot`` put outside the axes (same place and size)."""
    line = ax.axhline(y, color="black", ls="--", lw=1.0, label=label, zorder=5)
    legend = ax.get_legend()
    handles = [*(legend.legend_handles if legend else []), line]
    labels = [*(t.get_text() for t in (legend.get_texts() if legend else [])), label]
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0),
              borderaxespad=0.0, fontsize=8)


def _index_of(grid: np.ndarray, value: float) -> int:
    """The index of ``value`` in the sorted ``grid``, which must hold it (to rounding).

    Looked up by value, not hard-coded, so that the numbers quoted "at" a point stay at
    that point when the grid changes.

    Examples
    --------
    >>> _index_of(np.linspace(-2.5, 2.5, 501), 0.5)
    300
    """
    i = int(np.clip(np.searchsorted(grid, value), 1, len(grid) - 1))
    i = i if abs(grid[i] - value) <= abs(grid[i - 1] - value) else i - 1
    if not np.isclose(grid[i], value, rtol=0.0, atol=1e-9):
        raise ValueError(f"{value} is not a point of the grid (nearest: {grid[i]})")
    return i


# ===================================================================== 1. tensors


def tensors(ctx: Context, s: Section) -> None:
    """Part 1, tensors: shapes and rank, slicing, broadcasting (and its trap in a loss),
    reductions over axes, batched matrix products.

    Examples
    --------
    >>> from wonderland.tour.base import Context, Section
    >>> s = Section("tensors", 1, "Tensors")
    >>> tensors(Context(quick=True), s)
    >>> s.numbers()["broadcast_shape"]
    [4, 4]
    """
    import wonderland as wl
    import wonderland.losses as losses

    wl.manual_seed(ctx.seed)
    s.say(
        "A tensor is an n-dimensional array of numbers: its *shape* lists the length of "
        "each axis and its *rank* is the number of axes. A scalar has rank 0, a vector rank "
        "1, a matrix rank 2; a batch of matrices or of images simply adds axes. Everything "
        "a differentiable program computes is a composition of operations on such arrays.")
    examples = [("scalar", wl.tensor(3.0)), ("vector", wl.randn(5)),
                ("matrix", wl.randn(3, 4)), ("batch of 4 matrices 5 × 2", wl.randn(4, 5, 2)),
                ("batch of 8 RGB images 32 × 32", wl.zeros(8, 3, 32, 32))]
    s.table("ranks", "Tensors of each rank (wl.tensor, wl.randn, wl.zeros)",
            ["what", "shape", "rank (ndim)", "entries (size)"],
            [[name, tuple(t.shape), t.ndim, t.size] for name, t in examples])
    ctx.tick("ranks")

    X = wl.arange(2 * 3 * 5).reshape(2, 3, 5)
    piece = X[1, :, 1:4]
    s.say(
        "Indexing reads a tensor the way NumPy does. For `X = wl.arange(30).reshape(2, 3, 5)`"
        ", the slice `X[i, :, j:k]` with i = 1, j = 1, k = 4 keeps the whole second axis "
        "and a window of the third: an integer index removes its axis, a slice keeps it.")
    s.number("slice_shape", "X[1, :, 1:4] of a (2, 3, 5) tensor has shape", tuple(piece.shape))
    s.table("slice", "X[1, :, 1:4]", ["row", "values"],
            [[i, row] for i, row in enumerate(piece.tolist())])
    ctx.tick("slicing")

    a = wl.tensor([[0.0], [10.0], [20.0], [30.0]])
    b = wl.tensor([0.0, 1.0, 2.0, 3.0])
    c = a + b
    s.number("broadcast_shape", "(4, 1) + (4,) broadcasts to", tuple(c.shape),
             highlight="broadcast (4, 1) + (4,)")
    pred = wl.tensor([[1.0], [2.0], [3.0], [4.0]])   # a column of predictions (4, 1)
    y = wl.tensor([1.0, 2.0, 3.0, 4.0])              # the targets (4,): a perfect fit
    silent = ((pred - y) ** 2).mean().item()
    right = losses.squared(pred.reshape(-1), y).item()
    kind, text = _error_message(lambda: losses.squared(pred, y))
    s.number("trap_loss", "mean (p − y)² of perfect predictions, broadcast by mistake",
             silent, ".4g")
    s.number("right_loss", "the same loss with matching shapes", right, ".4g")
    s.say(
        "Broadcasting lines shapes up from the right and stretches axes of length 1: a "
        "(4, 1) column plus a (4,) vector is a (4, 4) table of every pairwise sum. It is "
        "what makes `X @ w + b` work for a whole batch, and it is also a classic bug: a "
        "model whose predictions come out as a column (n, 1) compared with targets (n,) "
        "silently computes the loss of *every prediction against every target*. Below, "
        f"four perfect predictions get a mean squared error of {silent:g} instead of "
        f"{right:g}. `wl.losses.squared` refuses the mismatch with a {kind} that names both "
        "shapes.")
    s.message("wl.losses.squared(pred of shape (4, 1), y of shape (4,))", f"{kind}: {text}")

    fig, axes = new_figure(4, width=12.0, height=3.3,
                           gridspec_kw={"width_ratios": [1, 4, 4, 4]})
    matrix_panel(axes[0], a.numpy(), "a: shape (4, 1)", xlabel="axis 1")
    matrix_panel(axes[1], b.numpy(), "b: shape (4,)", cmap="Oranges", xlabel="axis 0 of b")
    matrix_panel(axes[2], c.numpy(), "a + b: shape (4, 4)", cmap="Greens")
    table = ((pred - y) ** 2).numpy()
    matrix_panel(axes[3], table, f"(p − y)² for p (4, 1), y (4,):\nmean {silent:g}, "
                 "refused by wl.losses.squared", cmap="Reds",
                 xlabel="target j", ylabel="prediction i")
    s.figure("tensors_broadcasting",
             "Broadcasting a (4, 1) column against a (4,) vector gives a (4, 4) table "
             "(left three panels). In a loss the same rule pairs every prediction with every "
             "target (right): only the diagonal should count.", fig)
    ctx.tick("broadcasting")

    M = wl.arange(1, 13).reshape(3, 4).astype("float64")
    col_sums, row_sums = M.sum(dim=0), M.sum(dim=1)
    s.number("sum_dim0", "M.sum(dim=0)", col_sums.tolist())
    s.number("sum_dim1", "M.sum(dim=1)", row_sums.tolist())
    s.number("sum_all", "M.sum()", M.sum().item())
    s.number("sum_keepdim_shape", "M.sum(dim=1, keepdim=True) has shape",
             tuple(M.sum(dim=1, keepdim=True).shape))
    s.say(
        "A reduction collapses the axes it is given: `M.sum(dim=0)` adds down the rows and "
        "leaves one number per column, `M.sum(dim=1)` one per row, `M.sum()` a scalar; "
        "`keepdim=True` keeps the reduced axis with length 1, so that the result "
        "broadcasts back against `M` (as when normalizing rows).")
    fig, axes = new_figure(3, width=9.5, height=2.9, gridspec_kw={"width_ratios": [4, 4, 1.2]})
    matrix_panel(axes[0], M.numpy(), "M: shape (3, 4)")
    matrix_panel(axes[1], col_sums.numpy(), "M.sum(dim=0): shape (4,)", cmap="Oranges",
                 xlabel="column of M")
    matrix_panel(axes[2], row_sums.numpy().reshape(3, 1), "M.sum(dim=1):\nshape (3,)",
                 cmap="Greens", xlabel="", ylabel="row of M")
    axes[2].set_xticks([])
    s.figure("tensors_reductions",
             "Sums over axes: dim=0 removes the rows' axis, dim=1 the columns' axis.", fig,
             optional=True)
    ctx.tick("reductions")

    A, B = wl.randn(4, 5, 2), wl.randn(4, 2, 3)
    P = A @ B
    loop = wl.stack([A[i] @ B[i] for i in range(4)])
    gap = wl.max(wl.abs(P - loop)).item()
    shared = A @ B[0]
    s.number("bmm_shape", "(4, 5, 2) @ (4, 2, 3) gives", tuple(P.shape),
             highlight="batched matmul (4, 5, 2) @ (4, 2, 3)")
    s.number("bmm_vs_loop", "max |batched − one product at a time|", gap, ".1e")
    s.number("bmm_broadcast_shape", "(4, 5, 2) @ (2, 3) (one matrix for the batch) gives",
             tuple(shared.shape))
    s.say(
        "The matrix product of tensors of rank 3 multiplies matching pairs along the "
        "leading (batch) axis: `(4, 5, 2) @ (4, 2, 3)` is four products `(5, 2) @ (2, 3)` "
        "at once, the same numbers as a Python loop over the batch. Batch axes broadcast "
        "too: one `(2, 3)` matrix multiplies every element of the batch.")
    ctx.tick("batched matmul")


# ===================================================================== 2. derivatives


def _quadratic(x: Any) -> Any:
    """The text's ``f(x) = x² − 1.5x``."""
    return x ** 2 - 1.5 * x


def derivatives(ctx: Context, s: Section) -> None:
    """Part 2, derivatives: the derivative as a limit, gradients, directional derivatives
    by forward mode, Jacobians in both modes, the Taylor linearization, ``∂(Wx) = W``.

    Examples
    --------
    >>> from wonderland.tour.base import Context, Section
    >>> s = Section("derivatives", 2, "Derivatives")
    >>> derivatives(Context(quick=True), s)
    >>> n = s.numbers()
    >>> round(n["f_at_0.51"], 4), round(n["model_at_0.51"], 4)
    (-0.5049, -0.505)
    """
    import wonderland as wl

    x0 = 0.5
    exact = wl.grad(_quadratic)(x0).item()
    hs = 10.0 ** -np.arange(0, 14)
    fx0 = _quadratic(wl.tensor(x0))
    slopes = np.array([((_quadratic(wl.tensor(x0 + h)) - fx0) / h).item() for h in hs])
    central = np.array([((_quadratic(wl.tensor(x0 + h)) - _quadratic(wl.tensor(x0 - h)))
                         / (2 * h)).item() for h in hs])
    best = int(np.argmin(np.abs(slopes - exact)))
    s.number("derivative_at_0.5", "f'(0.5) by wl.grad (exact: 2·0.5 − 1.5 = −0.5)", exact,
             ".6g", highlight="f'(0.5) by wl.grad")
    s.number("secant_h_1e-1", "secant slope, h = 0.1", slopes[1], ".6g")
    s.number("secant_h_1e-4", "secant slope, h = 1e-4", slopes[4], ".8g")
    s.number("secant_best_h", "step h with the smallest secant error", hs[best], ".0e")
    s.number("secant_best_error", "its error", abs(slopes[best] - exact), ".1e")
    s.number("secant_h_1e-13_error", "error at h = 1e-13 (round-off)",
             abs(slopes[-1] - exact), ".1e")
    s.say(
        "The derivative is a limit: the slope of the secant through (x, f(x)) and "
        "(x + h, f(x + h)) as the step h shrinks to zero. For the text's "
        "f(x) = x² − 1.5x at x = 0.5 the secant slope is exactly −0.5 + h, so it converges "
        "linearly in h, until the step is so small that the difference f(x + h) − f(x) "
        "loses its digits to floating-point round-off (around h = 1e-8 in float64) and the "
        f"error grows again. `wl.grad` gives f'(0.5) = {exact:g} exactly: automatic "
        "differentiation applies the rules of calculus, with no step to choose.")
    s.table("secants", "Secant slopes (f(x + h) − f(x)) / h at x = 0.5",
            ["h", "forward secant", "central (f(x+h) − f(x−h)) / 2h", "|forward − f'(x)|"],
            [[h, a, c, abs(a - exact)] for h, a, c in zip(hs[::2], slopes[::2],
                                                         central[::2])],
            [".0e", ".10f", ".10f", ".1e"])
    fig, axes = new_figure(3, width=13.0, height=3.9)
    xs = np.linspace(-0.2, 2.0, 200)
    ax = axes[0]
    ax.plot(xs, _quadratic(xs), color="black", lw=2, label="f(x) = x² − 1.5x")
    f0 = float(fx0.item())
    for h, color in zip((1.0, 0.5, 0.25), (COLORS["orange"], COLORS["green"], COLORS["purple"])):
        slope = (_quadratic(x0 + h) - f0) / h
        ax.plot(xs, f0 + slope * (xs - x0), color=color, lw=1.1,
                label=f"secant, h = {h:g}: slope {slope:+.2f}")
        ax.plot([x0 + h], [_quadratic(x0 + h)], "o", color=color, ms=5)
    ax.plot(xs, f0 + exact * (xs - x0), "--", color=COLORS["red"], lw=1.5,
            label=f"tangent: slope f'(0.5) = {exact:g}")
    ax.plot([x0], [f0], "o", color="black", ms=6)
    ax.set_ylim(-1.0, 1.6)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title("secants through (0.5, f(0.5)) turn into the tangent", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    ax = axes[1]
    ax.semilogx(hs, slopes, "o-", color=COLORS["blue"], ms=4, label="secant slope")
    ax.axhline(exact, color=COLORS["red"], ls="--", label="f'(0.5) = −0.5 (wl.grad)")
    ax.invert_xaxis()
    ax.set_xlabel("step h (log scale, shrinking →)")
    ax.set_ylabel("slope (f(0.5 + h) − f(0.5)) / h")
    ax.set_title("the slopes converge as h → 0", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    ax = axes[2]
    err = np.abs(slopes - exact)
    ax.loglog(hs, np.where(err > 0, err, np.nan), "o-", color=COLORS["blue"], ms=4,
              label="|secant slope − f'(0.5)|")
    ax.loglog(hs, hs, ":", color=COLORS["grey"], label="h (the truncation error)")
    ax.invert_xaxis()
    ax.set_xlabel("step h (log scale, shrinking →)")
    ax.set_ylabel("absolute error of the slope")
    ax.set_title("error: ∝ h, then round-off takes over", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    s.figure("derivatives_secants",
             "The derivative as a limit: secant slopes of f(x) = x² − 1.5x at x = 0.5 for "
             "shrinking steps h (middle), and their error (right) on log scales.", fig)
    ctx.tick("secants")

    # gradient and directional derivative of a function of two variables
    def bowl(x: Any) -> Any:
        return x[..., 0] ** 2 + 3 * x[..., 1] ** 2 + x[..., 0] * x[..., 1]

    point = wl.tensor([1.0, 0.5])
    g = wl.grad(bowl)(point)
    v = wl.tensor([1.0, -1.0]) / np.sqrt(2.0)
    value, directional = wl.jvp(bowl, (point,), (v,))
    dot = wl.dot(g, v).item()
    numeric = wl.numerical_grad(bowl, point)
    s.number("gradient", "∇f(1, 0.5) for f(x) = x1² + 3x2² + x1x2 (wl.grad)", g.tolist(), ".6g")
    s.number("gradient_fd_gap", "max |wl.grad − central differences|",
             float(np.max(np.abs((g - numeric).numpy()))), ".1e")
    s.number("directional_jvp", "D_v f by forward mode (wl.jvp), v = (1, −1)/√2",
             directional.item(), ".10f", highlight="directional derivative by wl.jvp")
    s.number("directional_dot", "⟨∇f, v⟩", dot, ".10f")
    s.say(
        "For a function of several variables the gradient ∇f collects the partial "
        "derivatives; it points where f increases fastest and is orthogonal to the level "
        "sets. The directional derivative along a unit vector v is the inner product "
        "⟨∇f(x), v⟩. Forward-mode differentiation (`wl.jvp`) computes it directly, pushing "
        "the tangent v through the program alongside the values, without ever forming ∇f: "
        f"here {directional.item():.10f} against ⟨∇f, v⟩ = {dot:.10f}.")
    fig, ax = new_figure(width=6.6, height=4.8)
    grid = np.stack(np.meshgrid(np.linspace(-2, 2, 15), np.linspace(-1.5, 1.5, 13)), -1)
    G = wl.grad(lambda P: bowl(P).sum())(grid.reshape(-1, 2)).numpy()
    contour(ax, lambda P: P[:, 0] ** 2 + 3 * P[:, 1] ** 2 + P[:, 0] * P[:, 1], (-2, 2),
            (-1.5, 1.5), label="f(x1, x2)")
    norms = np.linalg.norm(G, axis=1, keepdims=True)
    U = G / np.maximum(norms, 1e-12)
    P = grid.reshape(-1, 2)
    ax.quiver(P[:, 0], P[:, 1], U[:, 0], U[:, 1], color=COLORS["blue"], alpha=0.55,
              scale=28, width=0.004, label="∇f / ‖∇f‖ (wl.grad)")
    px, py = point.tolist()
    gn = g.numpy() / np.linalg.norm(g.numpy())
    ax.annotate("", (px + 0.6 * gn[0], py + 0.6 * gn[1]), (px, py),
                arrowprops=dict(arrowstyle="-|>", color=COLORS["red"], lw=2))
    ax.annotate("", (px + 0.6 * v[0].item(), py + 0.6 * v[1].item()), (px, py),
                arrowprops=dict(arrowstyle="-|>", color=COLORS["green"], lw=2))
    ax.plot([], [], color=COLORS["red"], lw=2, label=f"∇f(1, 0.5) = ({g[0].item():g}, "
                                                      f"{g[1].item():g})")
    ax.plot([], [], color=COLORS["green"], lw=2,
            label=f"v = (1, −1)/√2: D_v f = {directional.item():.4f}")
    ax.plot([px], [py], "ko", ms=5)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_aspect("equal")
    ax.set_title("f(x) = x1² + 3x2² + x1x2: the gradient is orthogonal to the level sets",
                 fontsize=10)
    ax.legend(fontsize=7, loc="lower left", framealpha=0.9)
    s.figure("derivatives_gradient",
             "Gradient field of a two-variable function over its contour lines, with the "
             "gradient and a direction v at (1, 0.5).", fig, optional=True)
    ctx.tick("gradient")

    # Jacobian of a vector function, both modes, against finite differences
    def F(x: Any) -> Any:
        return wl.stack([x[0] * x[1] + wl.sin(x[2]), wl.exp(x[0]) - x[1] * x[2] ** 2])

    xj = wl.tensor([0.5, -1.0, 2.0])
    J_rev, J_fwd = wl.jacrev(F)(xj).numpy(), wl.jacfwd(F)(xj).numpy()
    J_fd = wl.numerical_grad(F, xj).numpy()
    s.number("jacobian_shape", "Jacobian of F: R³ → R² has shape", tuple(J_rev.shape))
    s.number("jacobian_rev_vs_fd", "max |reverse mode − finite differences|",
             float(np.max(np.abs(J_rev - J_fd))), ".1e")
    s.number("jacobian_fwd_vs_fd", "max |forward mode − finite differences|",
             float(np.max(np.abs(J_fwd - J_fd))), ".1e")
    s.number("jacobian_rev_vs_fwd", "max |reverse − forward|",
             float(np.max(np.abs(J_rev - J_fwd))), ".1e")
    s.say(
        "A function from R^d to R^o has an o × d Jacobian, one row per output (the "
        "gradient of that output) and one column per input (a directional derivative "
        "along that axis). Reverse mode (`wl.jacrev`) builds it row by row, pulling back "
        "one cotangent per output; forward mode (`wl.jacfwd`) column by column, pushing "
        "one tangent per input; both push a whole basis in one pass. They agree with each "
        "other to the last bit and with central finite differences (`wl.numerical_grad`) "
        "to about 1e-10, the accuracy of the differences themselves.")
    s.table("jacobian", "Jacobian of F(x) = (x1x2 + sin x3, exp x1 − x2x3²) at (0.5, −1, 2): "
            "reverse mode (wl.jacrev)", ["output", "∂/∂x1", "∂/∂x2", "∂/∂x3"],
            [[f"F{i + 1}", *row] for i, row in enumerate(J_rev.tolist())],
            ["", ".6f", ".6f", ".6f"])
    ctx.tick("jacobian")

    model = wl.linearize(_quadratic, x0)
    f_true, f_model = _quadratic(wl.tensor(0.51)).item(), model(0.51).item()
    s.number("f_at_0.51", "f(0.51)", f_true, ".4f", highlight="f(0.51)")
    s.number("model_at_0.51", "first-order model f(0.5) + f'(0.5)(0.51 − 0.5)", f_model, ".4f",
             highlight="linear model at 0.51")
    s.number("model_error", "|f(0.51) − model|", abs(f_true - f_model), ".1e")
    s.say(
        "The derivative gives the best linear model of f around a point, the first-order "
        "Taylor expansion f(x) ≈ f(x0) + f'(x0)(x − x0). Around x0 = 0.5, where f = −0.5 "
        f"and f' = −0.5, the text's example reads f(0.51) = {f_true:.4f} while the model "
        f"(`wl.linearize(f, 0.5)`) predicts {f_model:.4f}: the error, {abs(f_true - f_model):.0e}"
        ", is (x − x0)² = 0.01², second order in the step.")
    fig, axes = new_figure(2, width=11.0, height=3.9)
    xs = np.linspace(-0.25, 1.25, 200)
    lin = np.array([model(float(x)).item() for x in xs])
    for ax, zoom in zip(axes, (False, True)):
        xs_ = np.linspace(0.485, 0.525, 100) if zoom else xs
        lin_ = np.array([model(float(x)).item() for x in xs_]) if zoom else lin
        ax.plot(xs_, _quadratic(xs_), color="black", lw=2, label="f(x) = x² − 1.5x")
        ax.plot(xs_, lin_, "--", color=COLORS["red"], lw=1.6,
                label="f(0.5) + f'(0.5)(x − 0.5) (wl.linearize)")
        ax.plot([x0], [-0.5], "ko", ms=6)
        ax.set_xlabel("x")
        ax.set_ylabel("f(x)")
        ax.grid(alpha=0.3)
    axes[0].set_title("the tangent line is the first-order Taylor model at x0 = 0.5",
                      fontsize=10)
    axes[0].legend(fontsize=8, loc="upper center")
    ax = axes[1]
    ax.plot([0.51], [f_true], "o", color="black", ms=7, label=f"f(0.51) = {f_true:.4f}")
    ax.plot([0.51], [f_model], "s", color=COLORS["red"], ms=7,
            label=f"model(0.51) = {f_model:.4f}")
    ax.axvline(0.51, color=COLORS["grey"], lw=0.8, ls=":")
    ax.set_title("zoom: at x = 0.51 the model is off by 1e-4 = (0.01)²", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    s.figure("derivatives_linearization",
             "The first-order Taylor model of f at 0.5 (left) and a zoom on x = 0.51, the "
             "text's example (right).", fig)
    ctx.tick("linearization")

    W = wl.randn(3, 4)
    JW_rev = wl.jacrev(lambda x: W @ x)(wl.ones(4)).numpy()
    JW_fwd = wl.jacfwd(lambda x: W @ x)(wl.ones(4)).numpy()
    s.number("dWx_rev_gap", "max |jacrev(x ↦ Wx) − W| for a random 3 × 4 W",
             float(np.max(np.abs(JW_rev - W.numpy()))), ".1e",
             highlight="max |jacrev(Wx) − W|")
    s.number("dWx_fwd_gap", "max |jacfwd(x ↦ Wx) − W|",
             float(np.max(np.abs(JW_fwd - W.numpy()))), ".1e")
    s.say(
        "A linear map is its own best linear model: the Jacobian of x ↦ Wx is W itself, "
        "whatever the point. Both modes return W exactly (difference 0), which is the rule "
        "every layer of a network relies on: ∂(Wx)/∂x = W.")
    ctx.tick("d(Wx) = W")
    _derivative_programs(s)


def _derivative_programs(s: Section) -> None:
    """The derivatives as programs: what ``wl.compile`` generates for the gradient of the
    text's polynomial and for the practice function's value and gradient."""
    import wonderland as wl

    poly = wl.compile(wl.grad(_polynomial))
    s.say(
        "Automatic differentiation does not find a formula: it runs one. `wl.compile` "
        "traces the gradient once and writes it out as straight-line NumPy code, one line "
        "per operation, each commented with the line of the function that made it. For "
        "the polynomial 2x⁴ + x³ − 3x² the program computes, term by term, what the hand "
        "derivative 8x³ + 3x² − 6x says.")
    s.program("wl.compile(wl.grad(f)).source(2.0), f(x) = 2x⁴ + x³ − 3x²",
              poly.source(2.0))
    s.number("compiled_poly_grad", "the program at x = 2 (hand derivative: 8·8 + 3·4 − 12 = 64)",
             float(poly(2.0)), ".6g")
    X = np.random.default_rng(0).uniform(0.0, 10.0, size=(1000, 2))
    practice = wl.compile(wl.value_and_grad(lambda X: _practice(X).sum()))
    s.say(
        "The practice exercise's value and gradient, as a program: the forward part, then "
        "the derivative part that the reverse pass ran, with buffers reused (`out=`) where "
        "a value is seen for the last time. The hand-written gradient is cos x1 cos x2 + "
        "½ cos(x1/2) cos(x2/2) and −sin x1 sin x2 − ½ sin(x1/2) sin(x2/2): the same terms.")
    s.program("wl.compile(wl.value_and_grad(f)).source(X), X of shape (1000, 2)",
              practice.source(X))


# ===================================================================== 3. gradient descent


def _polynomial(x: Any) -> Any:
    """The text's ``f(x) = 2x⁴ + x³ − 3x²``."""
    return 2 * x ** 4 + x ** 3 - 3 * x ** 2


def _practice(X: Any) -> Any:
    """The practice exercise, vectorized over rows: ``(n, 2) -> (n,)``."""
    import wonderland as wl

    x1, x2 = X[:, 0], X[:, 1]
    return wl.sin(x1) * wl.cos(x2) + wl.sin(0.5 * x1) * wl.cos(0.5 * x2)


def _saddle(X: Any) -> Any:
    """``x1² + x2⁴/4 − x2²/2``: a saddle at 0, minima at (0, ±1); rows are points."""
    return X[..., 0] ** 2 + X[..., 1] ** 4 / 4 - X[..., 1] ** 2 / 2


def gradient_descent(ctx: Context, s: Section) -> None:
    """Part 3, gradient descent: the polynomial with both stopping rules, stationary
    points (minima and saddles), and the practice exercise with and without momentum.

    Examples
    --------
    >>> from wonderland.tour.base import Context, Section
    >>> s = Section("gradient_descent", 3, "Gradient descent")
    >>> gradient_descent(Context(quick=True), s)  # doctest: +SKIP
    >>> s.numbers()["poly_tol_grad_x"]  # doctest: +SKIP
    0.69859...
    """
    import wonderland as wl

    lr = 0.01
    runs = {
        "tol_grad": wl.optim.minimize(_polynomial, 2.0, lr=lr, max_iter=10_000, tol_grad=1e-6),
        "tol_x": wl.optim.minimize(_polynomial, 2.0, lr=lr, max_iter=10_000, tol_grad=0.0,
                                   tol_x=1e-6),
    }
    roots = np.sort(np.roots([8.0, 3.0, -6.0, 0.0]).real)
    local_min = float(roots[2])
    for rule, res in runs.items():
        s.number(f"poly_{rule}_x", f"x found, stopping on {rule}", res.x.item(), ".6f",
                 highlight=f"polynomial from 2.0, {rule}: x")
        s.number(f"poly_{rule}_steps", f"steps, stopping on {rule}", int(res.n_iter),
                 highlight=f"polynomial from 2.0, {rule}: steps")
        s.number(f"poly_{rule}_grad", f"|f'(x)| at the end ({rule})", float(res.grad_norm),
                 ".1e")
    s.number("poly_local_min", "the local minimum (−3 + √201)/16", local_min, ".6f")
    s.number("poly_global_min", "the global minimum (−3 − √201)/16", float(roots[0]), ".6f")
    s.say(
        "Gradient descent repeats x_t = x_{t−1} − η f'(x_{t−1}): a small step downhill. On "
        "the text's polynomial f(x) = 2x⁴ + x³ − 3x² from x0 = 2 with η = 0.01 it needs a "
        "rule to stop. Stopping when the gradient is small, |f'(x)| < 1e-6, declares a "
        f"stationary point after {runs['tol_grad'].n_iter} steps at x = "
        f"{runs['tol_grad'].x.item():.6f}; stopping when the steps are small, "
        f"|x_t − x_{{t−1}}| < 1e-6, stops earlier ({runs['tol_x'].n_iter} steps), at "
        f"x = {runs['tol_x'].x.item():.6f}, where the gradient is still "
        f"{runs['tol_x'].grad_norm:.1e} (a step is η times the gradient). Both find the local "
        f"minimum {local_min:.6f}, not the global one at {roots[0]:.4f}: descent only "
        "sees the slope where it stands.")
    fig, axes = new_figure(2, width=12.0, height=4.0)
    ax = axes[0]
    xs = np.linspace(-1.6, 2.1, 300)
    ax.plot(xs, _polynomial(xs), color="black", lw=2, label="f(x) = 2x⁴ + x³ − 3x²")
    path = runs["tol_grad"].trace.x.ravel()
    ax.plot(path, _polynomial(path), "o-", color=COLORS["blue"], ms=3, lw=0.8,
            label=f"descent from x0 = 2, η = {lr} ({len(path) - 1} steps)")
    kinds = ("global minimum", "local maximum", "local minimum")
    for r, kind, color in zip(roots, kinds, (COLORS["green"], COLORS["red"], COLORS["orange"])):
        ax.plot([r], [_polynomial(r)], "*", ms=14, color=color, mec="black",
                label=f"{kind} x = {r:.4f} (f' = 0)")
    # up to 6, not to f(x0) = 28: the minima (f = −2.04 and −0.65) and the maximum between
    # them (0) fill the axes instead of their bottom tenth; the start, off the top, is
    # named where the path comes in
    top = 6.0
    ax.set_ylim(-2.6, top)
    ax.annotate(f"from x0 = {path[0]:g}, f(x0) = {_polynomial(path[0]):g}\n(above the axes)",
                xy=(path[0], top), xycoords="data", xytext=(path[0], top - 2.2),
                ha="center", va="center", fontsize=7,
                arrowprops=dict(arrowstyle="->", color=COLORS["blue"], lw=1.0))
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title("descent reaches the nearest minimum, not the lowest", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    ax = axes[1]
    tr = runs["tol_grad"].trace
    steps = np.abs(np.diff(tr.x.ravel()))
    ax.semilogy(np.arange(len(tr.grad_norm)), tr.grad_norm, color=COLORS["blue"],
                label="|f'(x_t)|")
    ax.semilogy(np.arange(1, len(steps) + 1), steps, color=COLORS["orange"],
                label="|x_t − x_{t−1}|")
    ax.axhline(1e-6, color=COLORS["grey"], ls="--", lw=1, label="threshold ε = 1e-6")
    for rule, color in (("tol_x", COLORS["orange"]), ("tol_grad", COLORS["blue"])):
        ax.axvline(runs[rule].n_iter, color=color, ls=":", lw=1.5,
                   label=f"stops on {rule} at t = {runs[rule].n_iter}")
    ax.set_xlabel("iteration t")
    ax.set_ylabel("size (log scale)")
    ax.set_title("the two stopping rules", fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    s.figure("descent_polynomial",
             "Gradient descent on the polynomial from x0 = 2 (left) and the quantities the "
             "two stopping rules watch (right).", fig, optional=True)
    ctx.tick("polynomial")

    # stationary points: minima, maxima and saddles
    cube_d1 = wl.grad(lambda x: x ** 3)(0.0).item()
    cube_d2 = wl.grad(wl.grad(lambda x: x ** 3))(0.0).item()
    H0 = np.linalg.eigvalsh(wl.hessian(_saddle)(wl.tensor([0.0, 0.0])).numpy())
    H1 = np.linalg.eigvalsh(wl.hessian(_saddle)(wl.tensor([0.0, 1.0])).numpy())
    starts = np.array([[1.5, 0.0], [1.5, 0.01], [-1.5, -0.01], [-1.2, 0.0]])
    sres = wl.optim.minimize(_saddle, starts, lr=0.1, max_iter=2000, tol_grad=1e-8,
                             batched=True)
    ends = sres.x.numpy()
    s.number("cube_derivatives", "f'(0), f''(0) for f(x) = x³", [cube_d1, cube_d2], ".3g")
    s.number("saddle_hessian_eigs", "Hessian eigenvalues at the saddle (0, 0)", H0.tolist(),
             ".3g")
    s.number("minimum_hessian_eigs", "Hessian eigenvalues at the minimum (0, 1)", H1.tolist(),
             ".3g")
    s.number("saddle_run_ends", "descent from (1.5, 0) ends at", ends[0].tolist(), ".4f")
    s.number("saddle_run_ends_perturbed", "descent from (1.5, 0.01) ends at", ends[1].tolist(),
             ".4f")
    s.say(
        "A zero gradient is necessary for a minimum, not sufficient. f(x) = x³ has "
        f"f'(0) = {cube_d1:g} and f''(0) = {cube_d2:g} but no minimum at 0: it is a "
        "saddle (an inflection point). In two dimensions, f(x) = x1² + x2⁴/4 − x2²/2 has "
        "a saddle at the origin, where the Hessian (`wl.hessian`) has eigenvalues "
        f"{H0[0]:g} and {H0[1]:g} (curving up along x1, down along x2), and two minima at "
        f"(0, ±1), eigenvalues {H1[0]:g} and {H1[1]:g}. Started exactly on the x1 axis, "
        "descent never sees the downward direction and converges to the saddle; a "
        "perturbation of 0.01 is enough to escape to a minimum.")
    fig, axes = new_figure(2, width=12.0, height=4.3)
    ax = axes[0]
    xs = np.linspace(-1.3, 1.3, 200)
    ax.plot(xs, xs ** 3, color="black", lw=2, label="f(x) = x³")
    ax.axhline(0, color=COLORS["red"], ls="--", lw=1.2, label="tangent at 0: slope f'(0) = 0")
    ax.plot([0], [0], "o", color=COLORS["red"], ms=7, label="stationary, neither min nor max")
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title("f(x) = x³: a stationary point that is a saddle", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    ax = axes[1]
    contour(ax, lambda P: _saddle(P), (-1.8, 1.8), (-1.6, 1.6), levels=30,
            label="f(x1, x2)")
    labels = ["from (1.5, 0): stuck at the saddle", "from (1.5, 0.01): escapes",
              "from (−1.5, −0.01): escapes", "from (−1.2, 0): stuck at the saddle"]
    colors = (COLORS["red"], COLORS["blue"], COLORS["green"], COLORS["orange"])
    for i, (label, color) in enumerate(zip(labels, colors)):
        p = sres.trace.x[i, : sres.n_iter[i] + 1]
        ax.plot(p[:, 0], p[:, 1], "-", color=color, lw=1.6, label=label)
        ax.plot(p[0, 0], p[0, 1], "o", color=color, mec="black", ms=6)
    ax.plot([0], [0], "X", color="white", mec="black", ms=11, label="saddle (0, 0)")
    ax.plot([0, 0], [-1, 1], "*", color="#ffd400", mec="black", ms=15, label="minima (0, ±1)")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title("f(x) = x1² + x2⁴/4 − x2²/2: descent paths", fontsize=10)
    ax.legend(fontsize=7, loc="lower left", framealpha=0.9)
    s.figure("descent_saddles",
             "Stationary points that are not minima: x³ at 0 (left), and a 2-D saddle where "
             "descent started on the axis of symmetry gets stuck (right).", fig, optional=True)
    ctx.tick("saddles")

    # the practice exercise
    n_starts = ctx.pick(40, 12)
    box = (0.0, 10.0)
    X0 = ctx.rng(3).uniform(*box, size=(n_starts, 2))
    lr, lam, max_iter = 0.02, 0.9, 1000
    results = {
        "gd": wl.optim.minimize(_practice, X0, method="gd", lr=lr, max_iter=max_iter,
                                tol_grad=1e-6, batched=True),
        "momentum": wl.optim.minimize(_practice, X0, method="momentum", lr=lr, momentum=lam,
                                      max_iter=max_iter, tol_grad=1e-6, batched=True),
    }
    ctx.tick("practice descents")
    s.number("practice_starts", "practice exercise: random starts in [0, 10]²", n_starts)
    s.number("practice_lr", "practice exercise: step size η", lr, "g")
    s.number("practice_momentum", "practice exercise: momentum λ", lam, "g")
    s.number("practice_max_iter", "practice exercise: most steps per start", max_iter)
    hess = wl.hessian(lambda x: _practice(x[None])[0])
    names = {"gd": "gradient descent", "momentum": f"momentum λ = {lam}"}
    rows = []
    for key, res in results.items():
        ends = res.x.numpy()
        is_min = np.array([bool(np.all(np.linalg.eigvalsh(hess(e).numpy()) > 0))
                           if r == "tol_grad" else False for e, r in zip(ends, res.reason)])
        inside = np.all((ends >= box[0] - 1e-9) & (ends <= box[1] + 1e-9), axis=1)
        steps = np.asarray(res.n_iter)[is_min]
        median = float(np.median(steps)) if steps.size else float("nan")
        worst = int(steps.max()) if steps.size else 0
        s.number(f"practice_{key}_minima", f"{names[key]}: starts that reach a minimum",
                 int(is_min.sum()),
                 highlight=f"practice, {key}: of {n_starts} starts, at a minimum")
        s.number(f"practice_{key}_median_steps", f"{names[key]}: median steps to a minimum",
                 median, ".0f", highlight=f"practice, {key}: median steps")
        s.number(f"practice_{key}_max_steps", f"{names[key]}: most steps to a minimum", worst)
        s.number(f"practice_{key}_outside", f"{names[key]}: minima found outside [0, 10]²",
                 int((is_min & ~inside).sum()))
        rows.append([names[key], n_starts, int(is_min.sum()), median, worst,
                     int((np.asarray(res.reason) == "max_iter").sum()),
                     int((is_min & ~inside).sum())])
    sweep = []
    for lr_ in ((0.02, 0.1) if ctx.full else (0.02,)):
        for key, method in (("gd", "gd"), ("momentum", "momentum")):
            res = results[key] if lr_ == lr else wl.optim.minimize(
                _practice, X0, method=method, lr=lr_, momentum=lam, max_iter=max_iter,
                tol_grad=1e-6, batched=True)
            done = np.asarray(res.reason) == "tol_grad"
            sweep.append([names[key], lr_, int(done.sum()),
                          float(np.median(np.asarray(res.n_iter)[done])) if done.any()
                          else float("nan")])
    gd_med = s.numbers()["practice_gd_median_steps"]
    mom_med = s.numbers()["practice_momentum_median_steps"]
    s.say(
        "The text's practice exercise: minimize f(x) = sin(x1)cos(x2) + sin(x1/2)cos(x2/2) "
        f"on [0, 10]² from {n_starts} random starts, all at once (`wl.optim.minimize(..., "
        "batched=True)` runs them as one vectorized descent, each start stopping on its "
        f"own rule). With a small step η = {lr}, plain descent crawls along the valley "
        f"floors (median {gd_med:.0f} steps); the heavy ball of momentum, "
        "g_t = −η∇f(x_{t−1}) + λ g_{t−1}, x_t = x_{t−1} + g_t, accumulates speed where "
        f"successive gradients agree and needs a median {mom_med:.0f}. Momentum also "
        "overshoots: its paths swing past the valley floor before settling"
        + (f". With a step close to the largest stable one, η = 0.1, plain descent "
           f"needs a median {sweep[2][3]:.0f} steps and momentum {sweep[3][3]:.0f}: "
           "momentum pays when the steps are small" if len(sweep) > 2 else "")
        + ". The function has several minima, and each start reaches the one whose basin "
        "it starts in; a few basins reach outside the box.")
    s.table("practice", f"The practice exercise from {n_starts} random starts in [0, 10]², "
            f"η = {lr}, at most {max_iter} steps, stop when ‖∇f‖ < 1e-6",
            ["method", "starts", "reach a minimum", "median steps", "most steps",
             "still moving at the cap", "minimum outside the box"], rows,
            ["", "", "", ".0f", "", "", ""],
            note="A minimum: the gradient is below 1e-6 and the Hessian (wl.hessian) is "
                 "positive definite there.")
    s.table("practice_step_sizes", "Steps to ‖∇f‖ < 1e-6 for two step sizes",
            ["method", "η", "converged", "median steps"], sweep, ["", "g", "", ".0f"])
    for key, title in (("gd", f"gradient descent, η = {lr}"),
                       ("momentum", f"momentum, η = {lr}, λ = {lam}")):
        if key == "gd" and ctx.quick:
            continue  # an optional figure: not in a quick run
        fig = wl.plot.contour_paths(_practice, results[key], box, box,
                                    title=f"{title}: {n_starts} starts",
                                    resolution=ctx.pick(150, 90))
        s.figure(f"practice_paths_{key}",
                 f"The practice exercise, {title}: descent paths over the contour map "
                 "(starts: circles, ends: stars).", fig, optional=key == "gd")
    ctx.tick("practice figures")
    fig = wl.plot.grad_norms(
        {names["gd"]: results["gd"], names["momentum"]: results["momentum"]},
        title=f"‖∇f(x_t)‖ along the descent, η = {lr}, {n_starts} starts")
    _threshold_line(fig.axes[0], 1e-6, "stopping threshold ‖∇f‖ = 1e-6")
    # the iterations drawn, 0 to the last one: matplotlib's margins ran on to 1050
    fig.axes[0].set_xlim(0, max(int(np.max(results[key].n_iter)) for key in results))
    s.figure("practice_grad_norms",
             "Gradient norms on a log scale: they fall to the threshold 1e-6 at a "
             "stationary point; momentum's oscillate on the way down.", fig, optional=True)
    fig, ax = new_figure(width=9.0, height=3.8)
    for key, color in (("gd", COLORS["blue"]), ("momentum", COLORS["orange"])):
        res = results[key]
        done = np.asarray(res.reason) == "tol_grad"
        t = np.arange(max_iter + 1)
        count = (np.asarray(res.n_iter)[done][None, :] <= t[:, None]).sum(1)
        ax.step(t, count, where="post", color=color, lw=2, label=names[key])
    ax.axhline(n_starts, color=COLORS["grey"], ls=":", lw=1, label=f"all {n_starts} starts")
    ax.set_xlabel("iteration t")
    ax.set_ylabel("starts that have converged (count)")
    ax.set_title(f"how many starts have reached ‖∇f‖ < 1e-6 after t steps (η = {lr})",
                 fontsize=10)
    ax.set_ylim(0, n_starts * 1.08)
    # outside the axes: inside, the curves' climb (where the median lies) moves with the
    # starts and the step size, and any fixed corner may cover it
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    ax.grid(alpha=0.3)
    s.figure("practice_convergence",
             "Convergence counts: the number of starts that have reached a stationary point "
             "after t steps, with and without momentum.", fig)
    ctx.tick("practice statistics")


# ===================================================================== 4. losses


def losses(ctx: Context, s: Section) -> None:
    """Part 4, losses: 0/1, hinge, logistic, squared, absolute and Huber on one figure,
    and why the 0/1 loss cannot be trained with gradients.

    Examples
    --------
    >>> from wonderland.tour.base import Context, Section
    >>> s = Section("losses", 4, "Losses")
    >>> losses(Context(quick=True), s)
    >>> s.numbers()["zero_one_fd_gradient_max"]
    0.0
    """
    import wonderland as wl
    import wonderland.losses as L

    m = np.linspace(-2.5, 2.5, 501)
    margin = wl.tensor(m)
    ones = np.ones_like(m)
    zero_one = L.zero_one(margin, ones, reduction="none").numpy()
    hinge = L.hinge(margin, ones, reduction="none").numpy()
    logistic = (L.binary_cross_entropy_with_logits(margin, ones, reduction="none").numpy()
                / np.log(2.0))
    r = wl.tensor(np.linspace(-2.5, 2.5, 501))
    zeros = np.zeros(501)
    squared = L.squared(r, zeros, reduction="none").numpy()
    absolute = L.absolute(r, zeros, reduction="none").numpy()
    huber = L.huber(r, zeros, delta=1.0, reduction="none").numpy()

    def derivative(loss: Any, target: np.ndarray, **kw: Any) -> np.ndarray:
        return wl.grad(lambda z: loss(z, target, reduction="sum", **kw))(margin).numpy()

    d_hinge = derivative(L.hinge, ones)
    d_logistic = derivative(L.binary_cross_entropy_with_logits, ones) / np.log(2.0)
    d_squared = derivative(L.squared, zeros)
    d_absolute = derivative(L.absolute, zeros)
    d_huber = derivative(L.huber, zeros, delta=1.0)
    # the 0/1 loss by finite differences, at points away from the jump at 0
    away = np.abs(m) > 1e-3
    fd = wl.numerical_grad(lambda z: L.zero_one(z, ones[away], reduction="sum"),
                           wl.tensor(m[away]), eps=1e-6).numpy()
    d_zero_one = np.full_like(m, np.nan)
    d_zero_one[away] = np.diag(fd) if fd.ndim == 2 else fd
    s.number("zero_one_fd_gradient_max", "largest |d(0/1 loss)/ds| by finite differences, "
             "away from s = 0", float(np.max(np.abs(d_zero_one[away]))), ".3g",
             highlight="0/1 loss: largest finite-difference slope")
    i = _index_of(m, 0.5)
    s.number("loss_values_at_margin_0.5", "0/1, hinge, logistic (bits) at margin 0.5",
             [float(zero_one[i]), float(hinge[i]), float(logistic[i])], ".4f")
    i = _index_of(r.numpy(), 2.0)
    s.number("loss_values_at_residual_2", "squared, absolute, Huber (δ = 1) at residual 2",
             [float(squared[i]), float(absolute[i]), float(huber[i])], ".4g")
    ctx.tick("losses")

    scores = wl.tensor([2.0, -0.5, 0.3], requires_grad=True)
    labels = [1, 1, -1]
    rate = L.zero_one(scores, labels)
    kind, text = _error_message(lambda: rate.backward())
    s.number("zero_one_example", "error rate of scores (2, −0.5, 0.3) for labels (1, 1, −1)",
             rate.item(), ".4g")
    s.say(
        "A loss measures how wrong a prediction is; training minimizes its average over "
        "the data. For classification with labels y ∈ {−1, +1} and a score s, the losses "
        "are functions of the margin m = y·s (positive when the sign is right): the 0/1 "
        "loss counts errors, the hinge loss max(0, 1 − m) also penalizes correct but "
        "unconfident scores, the logistic loss log₂(1 + e^(−m)) is its smooth cousin. For "
        "regression the losses are functions of the residual r = p − y: squared r² "
        "(large errors dominate), absolute |r| (robust to outliers, not differentiable at "
        "0), and Huber, quadratic up to δ = 1 and linear beyond.",
        "The 0/1 loss is what we care about but cannot be trained: it is piecewise "
        "constant, so its derivative is zero wherever it exists (finite differences find "
        f"{s.numbers()['zero_one_fd_gradient_max']:g} at every score away from 0) and "
        "undefined at the jump; gradient descent would never move. wonderland therefore "
        f"treats `wl.losses.zero_one` as a metric: differentiating it raises a {kind} that "
        "says why and suggests a surrogate.")
    s.message("wl.losses.zero_one(scores, labels).backward()", f"{kind}: {text}")
    fig, axes = new_figure(2, 2, width=11.5, height=7.4)
    ax = axes[0, 0]
    ax.step(m, zero_one, where="mid", color="black", lw=2, label="0/1: [m ≤ 0]")
    ax.plot(m, hinge, color=COLORS["blue"], lw=2, label="hinge: max(0, 1 − m)")
    ax.plot(m, logistic, color=COLORS["orange"], lw=2, label="logistic: log₂(1 + e^(−m))")
    ax.set_xlabel("margin m = y · s")
    ax.set_ylabel("loss")
    ax.set_title("classification losses (labels y ∈ {−1, +1})", fontsize=10)
    ax.set_ylim(-0.1, 3.6)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax = axes[0, 1]
    ax.plot(m, squared, color=COLORS["red"], lw=2, label="squared: r²")
    ax.plot(m, absolute, color=COLORS["green"], lw=2, label="absolute: |r|")
    ax.plot(m, huber, color=COLORS["purple"], lw=2, label="Huber, δ = 1")
    ax.set_xlabel("residual r = p − y")
    ax.set_ylabel("loss")
    ax.set_title("regression losses", fontsize=10)
    ax.set_ylim(-0.1, 3.6)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax = axes[1, 0]
    ax.plot(m, d_zero_one, color="black", lw=2,
            label="0/1: 0 everywhere (finite differences),\nundefined at m = 0")
    ax.plot([0, 0], [-1.6, 1.6], ":", color="black", lw=1)
    ax.plot(m, d_hinge, color=COLORS["blue"], lw=2, label="hinge (wl.grad)")
    ax.plot(m, d_logistic, color=COLORS["orange"], lw=2, label="logistic (wl.grad)")
    ax.set_xlabel("margin m = y · s")
    ax.set_ylabel("derivative d loss / dm")
    ax.set_title("their derivatives: only the surrogates point somewhere", fontsize=10)
    ax.set_ylim(-1.6, 1.6)
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    ax = axes[1, 1]
    ax.plot(m, d_squared, color=COLORS["red"], lw=2, label="squared: 2r")
    ax.plot(m, d_absolute, color=COLORS["green"], lw=2, label="absolute: sign(r)")
    ax.plot(m, d_huber, color=COLORS["purple"], lw=2, label="Huber: r clipped to [−1, 1]")
    ax.set_xlabel("residual r = p − y")
    ax.set_ylabel("derivative d loss / dr (wl.grad)")
    ax.set_title("derivatives of the regression losses", fontsize=10)
    ax.set_ylim(-3.2, 3.2)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    s.figure("losses",
             "The losses of the text computed by wl.losses (top) and their derivatives by "
             "wl.grad (bottom); the 0/1 loss's derivative by finite differences, since "
             "wonderland refuses to differentiate it.", fig)
    ctx.tick("figure")


# ===================================================================== 5. least squares


def _caught(call: Any, category: type[Warning]) -> tuple[Any, list[str]]:
    """``call()`` with the warnings of ``category`` it raises, as messages."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = call()
    return value, [str(w.message) for w in caught if issubclass(w.category, category)]


def least_squares(ctx: Context, s: Section) -> None:
    """Part 5, least squares on the diabetes data: the closed form against gradient descent
    (BMI alone, then all ten features), the loss curve, and collinear features fixed by
    ridge regression.

    Examples
    --------
    >>> from wonderland.tour.base import Context, Section
    >>> s = Section("least_squares", 5, "Least squares")
    >>> least_squares(Context(quick=True), s)  # doctest: +SKIP
    >>> s.numbers()["all_coef_max_gap"] < 1e-4  # doctest: +SKIP
    True
    """
    import wonderland as wl
    import wonderland.data as data
    import wonderland.linear as linear

    raw = data.load_diabetes(scaled=False)
    ds = data.load_diabetes()
    X, y = ds.numpy()
    bmi = raw.numpy()[0][:, [2]]
    gd_options = dict(solver="gd", max_iter=4000, tol=1e-12)
    closed1 = linear.LinearRegression(solver="normal").fit(bmi, y)
    descent1 = linear.LinearRegression(**gd_options).fit(bmi, y)
    s.number("bmi_slope_closed", "BMI alone: slope by the closed form (points per kg/m²)",
             float(closed1.coef_[0]), ".6f")
    s.number("bmi_slope_gd", "BMI alone: slope by gradient descent", float(descent1.coef_[0]),
             ".6f")
    s.number("bmi_intercept_closed", "BMI alone: intercept by the closed form",
             float(closed1.intercept_), ".4f")
    s.number("bmi_coef_gap", "BMI alone: |closed form − descent| (slope and intercept)",
             max(abs(closed1.coef_[0] - descent1.coef_[0]),
                 abs(closed1.intercept_ - descent1.intercept_)), ".1e")
    r2_bmi = s.number("bmi_r2", "BMI alone: R² (fraction of variance explained)",
                      float(closed1.score(bmi, y)), ".3f")
    ctx.tick("BMI alone")
    closed = linear.LinearRegression(solver="normal").fit(X, y)
    descent = linear.LinearRegression(**gd_options).fit(X, y)
    gap = float(np.max(np.abs(closed.coef_ - descent.coef_)))
    s.number("all_coef_max_gap", "all features: max |closed form − descent| over the "
             "coefficients", gap, ".1e", highlight="closed form vs descent, max |Δw|")
    s.number("all_intercept_gap", "all features: |closed form − descent| of the intercept",
             abs(closed.intercept_ - descent.intercept_), ".1e")
    s.number("all_gd_iterations", "all features: descent iterations", int(descent.n_iter_))
    mse_closed = s.number("all_mse_closed", "all features: mean squared error, closed form",
                          float(closed.loss_curve_[-1]), ".4f")
    s.number("all_mse_gd", "all features: mean squared error, descent",
             float(descent.loss_curve_[-1]), ".4f")
    r2 = s.number("all_r2", "all features: R²", float(closed.score(X, y)), ".3f",
                  highlight="diabetes, all features: R²")
    ctx.tick("all features")
    s.say(
        "Least squares fits a linear model f(x) = wᵀx + b by minimizing the mean squared "
        "error. Its minimum has a closed form, the solution of the normal equations "
        "XᵀX w = Xᵀy, and it can also be found by gradient descent on the same loss: the "
        "two must agree. On the diabetes data (442 patients, disease progression one year "
        "after baseline), body-mass index alone gives a slope of "
        f"{closed1.coef_[0]:.3f} progression points per kg/m² and explains R² = "
        f"{r2_bmi:.2f} of the variance; `wl.linear.LinearRegression(solver=\"normal\")` and "
        "`solver=\"gd\"` return the same line.",
        "With all ten (standardized) features the loss is an elongated bowl, correlated "
        "serum measurements making some directions much flatter than others, and "
        + (f"descent, stopped by its cap of max_iter = {descent.n_iter_} steps before its "
           f"tolerance, matches the closed form to {gap:.0e} "
           if descent.n_iter_ >= gd_options["max_iter"] else
           f"descent needs {descent.n_iter_} steps to match the closed form to {gap:.0e} ")
        + f"on every coefficient (R² = {r2:.2f}). The loss curve, the text's Fig. E.4.2, "
        "falls fast at first and then slowly along the flat directions; on a log scale its "
        "distance to the minimum falls along a straight line, the linear convergence of "
        "gradient descent on a quadratic.")
    frame_bmi = _frame(bmi, ["BMI (kg/m²)"])
    closed_named = linear.LinearRegression(solver="normal").fit(frame_bmi, y)
    fig, axes = new_figure(2, width=12.0, height=4.3)
    wl.plot.regression_fit(closed_named, frame_bmi, y, ax=axes[0],
                           title=f"BMI alone: progression ≈ {closed1.coef_[0]:.2f}·BMI "
                                 f"{'−' if closed1.intercept_ < 0 else '+'} "
                                 f"{abs(closed1.intercept_):.1f}, R² = {r2_bmi:.2f}")
    grid = np.linspace(bmi.min(), bmi.max(), 50)[:, None]
    axes[0].plot(grid[:, 0], descent1.predict(grid), "--", color=COLORS["green"], lw=2,
                 label="gradient descent (same line)")
    axes[0].set_xlabel("body-mass index BMI (kg/m²)")
    axes[0].set_ylabel("disease progression after one year (score)")
    axes[0].legend(fontsize=8, loc="upper left")
    ax = axes[1]
    labels = list(ds.feature_names)
    idx = np.arange(len(labels))
    ax.bar(idx - 0.2, closed.coef_, 0.4, color=COLORS["blue"], label="closed form (normal)")
    ax.bar(idx + 0.2, descent.coef_, 0.4, color=COLORS["orange"],
           label=f"gradient descent ({descent.n_iter_} steps)")
    ax.set_xticks(idx, labels)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("feature (standardized: mean 0, unit norm)")
    ax.set_ylabel("coefficient w_j (progression per unit)")
    ax.set_title(f"all ten features: the two solvers agree to {gap:.0e}", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    s.figure("least_squares_fits",
             "Least squares on the diabetes data: BMI alone (left, closed form and descent on "
             "one line) and the coefficients of all ten features by both solvers (right).",
             fig, optional=True)
    curve = np.asarray(descent.loss_curve_)
    fig, axes = new_figure(2, width=12.0, height=3.9)
    ax = axes[0]
    ax.plot(np.arange(1, len(curve) + 1), curve, color=COLORS["orange"], lw=2,
            label="gradient descent")
    ax.axhline(mse_closed, color=COLORS["blue"], ls="--", label=f"closed form: {mse_closed:.1f}")
    ax.set_xscale("log")
    ax.set_xlabel("iteration t (log scale)")
    ax.set_ylabel("mean squared error (progression²)")
    ax.set_title("loss curve (Fig. E.4.2)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    ax = axes[1]
    excess = curve - mse_closed
    ax.semilogy(np.arange(1, len(curve) + 1), np.where(excess > 0, excess, np.nan),
                color=COLORS["orange"], lw=2)
    ax.set_xlabel("iteration t")
    ax.set_ylabel("MSE(t) − MSE(closed form) (log scale)")
    ax.set_title("distance to the minimum: linear convergence", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    s.figure("least_squares_loss_curve",
             "The loss along gradient descent on all ten features (left) and its distance to "
             "the closed-form minimum on a log scale (right).", fig)
    ctx.tick("figures")

    exact = data.make_collinear(100, 3, seed=1)
    near = data.make_collinear(100, 3, seed=1, jitter=1e-3)
    Xc, yc = exact.numpy()
    Xn, yn = near.numpy()
    ols, messages = _caught(lambda: linear.LinearRegression().fit(Xc, yc),
                            linear.CollinearityWarning)
    ols_near, _ = _caught(lambda: linear.LinearRegression().fit(Xn, yn),
                          linear.CollinearityWarning)
    ridge = linear.Ridge(alpha=1.0).fit(Xc, yc)
    ridge_near = linear.Ridge(alpha=1.0).fit(Xn, yn)
    true = exact.true_coef.numpy()
    s.number("collinear_warning", "a CollinearityWarning was raised", bool(messages))
    s.number("collinear_true_sum", "true w0 + w1 (the only identifiable combination)",
             float(true[0] + true[1]), ".4f")
    # the valley of equally good fits is at the fitted sum (noise moves it off the true one)
    valley = float(ols.coef_[0] + ols.coef_[1])
    s.number("collinear_valley_sum", "least-squares w0 + w1 (the valley of minima)", valley,
             ".4f")
    s.number("collinear_min_norm", "minimum-norm least squares (w0, w1, w2)",
             ols.coef_.tolist(), ".4f")
    s.number("collinear_ridge", "ridge α = 1 (w0, w1, w2)", ridge.coef_.tolist(), ".4f")
    s.number("nearly_collinear_ols", "x1 = x0 + 0.001·noise: least squares (w0, w1, w2)",
             ols_near.coef_.tolist(), ".4f", highlight="nearly collinear, least squares w")
    s.number("nearly_collinear_ridge", "x1 = x0 + 0.001·noise: ridge α = 1 (w0, w1, w2)",
             ridge_near.coef_.tolist(), ".4f", highlight="nearly collinear, ridge w")
    s.say(
        "When two features are copies of each other (the text's x1 = x2), XᵀX is singular: "
        "only w0 + w1 is determined by the data, and every split of the least-squares sum "
        f"{valley:.3f} between them fits equally well (the true sum is "
        f"{true[0] + true[1]:.3f}; the noise moves the fit a little). wonderland warns with a "
        "`CollinearityWarning` naming the columns and returns the minimum-norm solution, "
        "which splits the weight evenly. With *nearly* collinear features (x1 = x0 plus "
        "noise of size 0.001) there is a unique minimum, but it balances huge opposite "
        f"coefficients ({ols_near.coef_[0]:.1f} and {ols_near.coef_[1]:.1f}) on the noise. "
        "Ridge regression adds α‖w‖² to the loss: the minimum becomes unique and stable, "
        f"({ridge_near.coef_[0]:.3f}, {ridge_near.coef_[1]:.3f}), at the price of a little "
        "shrinkage.")
    if messages:
        s.message("wl.linear.LinearRegression().fit(X, y) with x1 = x0 "
                  "(wl.data.make_collinear)", f"CollinearityWarning: {messages[0]}")
    s.table("collinear", "Coefficients before and after ridge (make_collinear, n = 100, "
            "seed 1)", ["model", "w0", "w1", "w2", "w0 + w1"],
            [["true coefficients", *true.tolist(), true[0] + true[1]],
             ["least squares, x1 = x0 (minimum norm)", *ols.coef_.tolist(),
              ols.coef_[0] + ols.coef_[1]],
             ["ridge α = 1, x1 = x0", *ridge.coef_.tolist(), ridge.coef_[0] + ridge.coef_[1]],
             ["least squares, x1 = x0 + 0.001·noise", *ols_near.coef_.tolist(),
              ols_near.coef_[0] + ols_near.coef_[1]],
             ["ridge α = 1, x1 = x0 + 0.001·noise", *ridge_near.coef_.tolist(),
              ridge_near.coef_[0] + ridge_near.coef_[1]]],
            ["", ".4f", ".4f", ".4f", ".4f"])
    w2, b = ols.coef_[2], ols.intercept_
    grid = np.linspace(-1.2, 2.4, 121)
    W0, W1 = np.meshgrid(grid, grid)
    base = yc - Xc[:, 2] * w2 - b
    # ‖y − Xw − b‖² over (w0, w1), from sufficient statistics of x0 (= x1)
    x0 = Xc[:, 0]
    sse = ((base ** 2).sum() - 2 * (W0 + W1) * (x0 @ base) + (W0 + W1) ** 2 * (x0 @ x0))
    fig, axes = new_figure(2, width=12.0, height=4.6)
    ax = axes[0]
    levels = np.unique(np.quantile(sse, np.linspace(0.0, 0.9, 16)))
    cs = ax.contourf(W0, W1, sse, levels=levels, cmap="Greys_r", alpha=0.6)
    ax.contour(W0, W1, sse, levels=cs.levels, colors="#555555", linewidths=0.4)
    fig.colorbar(cs, ax=ax, label="‖y − Xw − b‖² (w2, b at their optimum)")
    # white with a dark outline: seen on the light and the dark contours, and in the
    # legend's white box
    ax.plot(grid, valley - grid, "--", color="white", lw=2,
            path_effects=[patheffects.withStroke(linewidth=3.5, foreground="#333333")],
            label=f"the valley: every w0 + w1 = {valley:.3f} fits")
    ax.plot([true[0]], [true[1]], "s", color=COLORS["green"], mec="black", ms=8,
            label="true (w0, w1)")
    ax.plot([ols.coef_[0]], [ols.coef_[1]], "*", color="#ffd400", mec="black", ms=16,
            label="minimum-norm solution (wonderland)")
    ax.plot([ridge.coef_[0]], [ridge.coef_[1]], "o", color=COLORS["red"], mec="black", ms=6,
            label="ridge solution, α = 1")
    ax.set_xlim(grid[0], grid[-1])
    ax.set_ylim(grid[0], grid[-1])
    ax.set_aspect("equal")
    ax.set_xlabel("w0 (weight of x0)")
    ax.set_ylabel("w1 (weight of x1 = x0)")
    ax.set_title("least squares over (w0, w1): a valley of minima", fontsize=10)
    ax.legend(fontsize=7, loc="lower left")
    ax = axes[1]
    d = np.linspace(-2.0, 2.0, 201)     # w0 − w1 along the valley, w0 + w1 fixed
    v0, v1 = (valley + d) / 2, (valley - d) / 2
    along = (((base[:, None] - np.outer(x0, v0 + v1)) ** 2).sum(0))
    ridge_along = along + 1.0 * (v0 ** 2 + v1 ** 2 + w2 ** 2)
    ax.plot(d, along - along.min(), color=COLORS["blue"], lw=2,
            label="least squares: flat, every point is a minimum")
    ax.plot(d, ridge_along - ridge_along.min(), color=COLORS["red"], lw=2,
            label="ridge α = 1: one minimum, at w0 = w1")
    ax.axvline(true[0] - true[1], color=COLORS["green"], ls=":", lw=1.5,
               label="the true split (not identifiable)")
    ax.set_xlabel("w0 − w1 along the valley (w0 + w1 fixed)")
    ax.set_ylabel("objective − its minimum")
    ax.set_title("along the valley: ridge picks the minimum-norm split", fontsize=10)
    ax.legend(fontsize=8, loc="upper center")
    ax.grid(alpha=0.3)
    s.figure("least_squares_collinear",
             "The squared error over the weights of two identical features (w2 and b at "
             "their optimum): a flat valley of equally good solutions (left). Along the "
             "valley (right) least squares is flat; the ridge penalty curves it into one "
             "minimum, the even split.", fig, optional=True)
    ctx.tick("collinearity")


# ===================================================================== 6. logistic regression


def _standardizer(X_ref: np.ndarray) -> Any:
    """``X -> (X - mean) / std`` with the statistics of ``X_ref`` (training data only)."""
    mean, std = X_ref.mean(axis=0), X_ref.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return lambda A: (A - mean) / std


def _frame(values: np.ndarray, columns: list[str]) -> Any:
    """A pandas DataFrame with named columns (so that figures name the axes), or the array
    itself when pandas is not installed."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is optional
        return values
    return pd.DataFrame(values, columns=columns)


def _accuracy(model: Any, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(model.predict(X) == y))


def logistic_regression(ctx: Context, s: Section) -> None:
    """Part 6, logistic regression on the breast cancer data: thresholded regression and
    why it fails, the sigmoid, the cross-entropy loss curve, log-odds, accuracy, and a
    decision boundary on two features.

    Examples
    --------
    >>> from wonderland.tour.base import Context, Section
    >>> s = Section("logistic_regression", 6, "Logistic regression")
    >>> logistic_regression(Context(quick=True), s)  # doctest: +SKIP
    >>> s.numbers()["test_accuracy"] > 0.9  # doctest: +SKIP
    True
    """
    import wonderland as wl
    import wonderland.data as data
    import wonderland.linear as linear

    ds = data.load_breast_cancer()
    names = list(ds.feature_names)
    train, test = ds.split(test_size=0.3, seed=ctx.seed)
    Xtr, ytr = train.numpy()
    Xte, yte = test.numpy()
    s.number("n_train", "training tumours", len(ytr))
    s.number("n_test", "test tumours", len(yte))
    s.number("benign_fraction", "fraction benign (label 1)", float(ds.y.numpy().mean()), ".3f")

    # one feature: least squares thresholded at 0.5 against logistic regression
    j = names.index("worst radius")
    ls = linear.LinearRegression().fit(Xtr[:, [j]], ytr)
    lg1 = linear.LogisticRegression().fit(Xtr[:, [j]], ytr)
    pred_all = ls.predict(ds.numpy()[0][:, [j]])
    outside = float(np.mean((pred_all < 0) | (pred_all > 1)))
    acc_ls = float(np.mean((ls.predict(Xte[:, [j]]) > 0.5) == yte))
    acc_lg1 = _accuracy(lg1, Xte[:, [j]], yte)
    s.number("ls_outside_unit", "least squares on 0/1 labels: predictions outside [0, 1]",
             outside, ".1%")
    s.number("ls_threshold_accuracy", "least squares thresholded at 0.5: test accuracy",
             acc_ls, ".1%")
    s.number("logistic_one_feature_accuracy", "logistic regression, same feature: test "
             "accuracy", acc_lg1, ".1%")
    ctx.tick("thresholded regression")

    z = _standardizer(Xtr)
    alpha = s.number("alpha", "L2 penalty α of the 30-feature model", 1e-2, "g")
    newton = linear.LogisticRegression(alpha=alpha).fit(z(Xtr), ytr)
    descent = linear.LogisticRegression(alpha=alpha, solver="gd", max_iter=400).fit(
        z(Xtr), ytr) if ctx.full else None
    train_acc = s.number("train_accuracy", "all 30 features: training accuracy",
                         _accuracy(newton, z(Xtr), ytr), ".1%")
    test_acc = s.number("test_accuracy", "all 30 features: test accuracy",
                        _accuracy(newton, z(Xte), yte), ".1%",
                        highlight="breast cancer, test accuracy")
    s.number("newton_iterations", "Newton iterations to convergence", int(newton.n_iter_))
    s.number("bce_final", "final objective (mean cross-entropy + α/2‖w‖²)",
             float(newton.loss_curve_[-1]), ".5f")
    if descent is not None:
        s.number("gd_iterations", "gradient descent iterations shown", int(descent.n_iter_))
    coef = newton.coef_[0]
    order = np.argsort(-np.abs(coef))[:6]
    ctx.tick("all features")
    s.say(
        "Classification predicts a label, here benign (1) or malignant (0) for 569 breast "
        "tumours described by 30 measurements of their cell nuclei. Fitting least squares "
        "to the 0/1 labels and thresholding at 0.5 is tempting but wrong-headed: the line "
        f"is not a probability ({outside:.0%} of its predictions fall outside [0, 1]), and "
        "the squared loss punishes predictions that are *too* right, so extreme but "
        "correctly classified tumours drag the line. On the worst radius alone it gets "
        f"{acc_ls:.1%} of the test tumours right, against {acc_lg1:.1%} for logistic "
        "regression on the same feature.",
        "Logistic regression squashes the linear score s = wᵀx + b through the sigmoid "
        "σ(s) = 1/(1 + e^(−s)), a probability, and minimizes the binary cross-entropy "
        "−y log σ(s) − (1 − y) log(1 − σ(s)), convex in w. The score is the *log-odds* "
        "log(p/(1 − p)): with standardized features, a coefficient is the change in "
        "log-odds of benign per standard deviation of its feature, and exp(coefficient) "
        f"the odds ratio. On all 30 features (α = {alpha} to keep the weights finite), it "
        f"classifies {train_acc:.1%} of the training and {test_acc:.1%} of the held-out "
        "test tumours correctly. Newton's method converges in "
        f"{newton.n_iter_} steps; plain gradient descent on the same objective takes "
        "hundreds.")
    fig, axes = new_figure(2, width=12.0, height=4.3)
    ax = axes[0]
    xf = ds.numpy()[0][:, j]
    yy = ds.numpy()[1]
    jitter = ctx.rng(6).uniform(-0.04, 0.04, size=len(yy))
    ax.scatter(xf, yy + jitter, s=9, alpha=0.45, color=np.where(yy > 0.5, COLORS["blue"],
                                                                 COLORS["red"]))
    grid = np.linspace(xf.min() - 1, xf.max() + 1, 300)[:, None]
    ax.plot(grid[:, 0], ls.predict(grid), color=COLORS["orange"], lw=2,
            label="least squares on 0/1 labels")
    ax.plot(grid[:, 0], lg1.predict_proba(grid)[:, 1], color=COLORS["green"], lw=2,
            label="logistic regression: σ(wx + b)")
    ax.axhline(0.5, color=COLORS["grey"], ls="--", lw=1, label="threshold 0.5")
    ax.axhspan(1, 1.6, color=COLORS["red"], alpha=0.06)
    ax.axhspan(-0.8, 0, color=COLORS["red"], alpha=0.06, label="not a probability")
    ax.set_ylim(-0.8, 1.6)
    ax.set_xlabel("worst radius of the cell nuclei (dataset units)")
    ax.set_ylabel("label (1 benign, 0 malignant) / prediction")
    ax.set_title("thresholded regression against logistic regression", fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    ax.grid(alpha=0.3)
    ax = axes[1]
    sgrid = np.linspace(-8, 8, 200)
    ax.plot(sgrid, wl.sigmoid(wl.tensor(sgrid)).numpy(), color="black", lw=2,
            label="σ(s) = 1 / (1 + e^(−s))")
    ax.plot(sgrid, wl.grad(lambda t: wl.sigmoid(t).sum())(sgrid).numpy(), color=COLORS["purple"],
            lw=1.5, ls="--", label="σ'(s) = σ(s)(1 − σ(s)) (wl.grad)")
    ax.axhline(0.5, color=COLORS["grey"], ls=":", lw=1)
    ax.axvline(0, color=COLORS["grey"], ls=":", lw=1)
    ax.set_xlabel("score s = wᵀx + b (log-odds)")
    ax.set_ylabel("probability p = σ(s)")
    ax.set_title("the sigmoid maps log-odds to probabilities", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    s.figure("logistic_sigmoid",
             "Left: least squares on the labels leaves [0, 1] and mis-places the threshold; "
             "the logistic model is a probability. Right: the sigmoid and its derivative.",
             fig, optional=True)
    if descent is not None:  # an optional figure
        fig, ax = new_figure(width=7.5, height=3.9)
        curve_gd = np.asarray(descent.loss_curve_)
        curve_nt = np.asarray(newton.loss_curve_)
        ax.plot(np.arange(1, len(curve_gd) + 1), curve_gd, color=COLORS["orange"], lw=2,
                label=f"gradient descent, step 1/L ({len(curve_gd)} steps)")
        ax.plot(np.arange(1, len(curve_nt) + 1), curve_nt, "o-", color=COLORS["blue"], lw=2,
                ms=4, label=f"Newton ({len(curve_nt)} steps)")
        ax.set_xscale("log")
        ax.set_xlabel("iteration t (log scale)")
        ax.set_ylabel("mean binary cross-entropy + α/2 ‖w‖² (nats)")
        ax.set_title("the cross-entropy along the iterations (breast cancer, 30 features)",
                     fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, which="both")
        s.figure("logistic_loss_curve",
                 "The binary cross-entropy objective along the iterations of two solvers of "
                 "wl.linear.LogisticRegression.", fig, optional=True)
    ctx.tick("figures")
    s.table("log_odds", "Log-odds: the six largest coefficients (standardized features)",
            ["feature", "coefficient (log-odds of benign per std)", "odds ratio e^w",
             "a larger value points to"],
            [[names[i], float(coef[i]), float(np.exp(coef[i])),
              "benign" if coef[i] > 0 else "malignant"] for i in order],
            ["", "+.3f", ".3f", ""])

    f1, f2 = "worst radius", "worst concave points"
    cols = [names.index(f1), names.index(f2)]
    label_names = np.where(ytr > 0.5, "benign", "malignant")
    frame = _frame(Xtr[:, cols], [f1, f2])
    two = linear.LogisticRegression().fit(frame, label_names)  # raw units: no penalty
    test_names = np.where(yte > 0.5, "benign", "malignant")
    acc_two = s.number("two_feature_test_accuracy", f"two features ({f1}, {f2}): test "
                       "accuracy", float(np.mean(two.predict(_frame(Xte[:, cols], [f1, f2]))
                                                 == test_names)), ".1%")
    s.say(
        f"With only two features, {f1} and {f2}, the model is a line in the plane: the "
        "decision boundary where σ(s) = 0.5, i.e. where the log-odds are zero. Tumours that "
        f"are larger and more concave fall on the malignant side; it is right on {acc_two:.1%}"
        " of the test tumours.")
    fig, ax = new_figure(width=8.0, height=5.2)
    wl.plot.decision_boundary(two, frame, label_names, ax=ax,
                              title=f"logistic regression on two features: test accuracy "
                                    f"{acc_two:.1%}")
    ax.set_xlabel(f"{f1} (dataset units)")
    ax.set_ylabel(f"{f2} (dataset units)")
    s.figure("logistic_decision_boundary",
             "The decision boundary (black line, probability 0.5) of a logistic regression "
             "on two features of the training tumours, over its predicted probability of "
             "malignancy.", fig)
    ctx.tick("decision boundary")


# ===================================================================== 7. datasets and shift


def datasets_and_shift(ctx: Context, s: Section) -> None:
    """Part 7, datasets and distribution shift: an i.i.d. split against a split sorted by
    tumour size; ``wl.data.shift_report`` flags the second, and the test accuracy drops.

    Examples
    --------
    >>> from wonderland.tour.base import Context, Section
    >>> s = Section("datasets_and_shift", 7, "Datasets and shift")
    >>> datasets_and_shift(Context(quick=True), s)  # doctest: +SKIP
    >>> s.numbers()["accuracy_drop"] > 0  # doctest: +SKIP
    True
    """
    import wonderland.data as data
    import wonderland.linear as linear

    ds = data.load_breast_cancer()
    X, y = ds.numpy()
    names = list(ds.feature_names)
    n = len(y)
    half = n // 2
    alpha = s.number("alpha", "L2 penalty α of the logistic regression", 1e-2, "g")

    def evaluate(train: np.ndarray, test: np.ndarray) -> tuple[float, int, Any]:
        z = _standardizer(X[train])
        model = linear.LogisticRegression(alpha=alpha).fit(z(X[train]), y[train])
        pred = model.predict(z(X[test]))
        false_benign = int(np.sum((pred == 1) & (y[test] == 0)))
        return float(np.mean(pred == y[test])), false_benign, model

    rng = ctx.rng(7)
    repeats = ctx.pick(20, 5)
    iid = []
    for _ in range(repeats):
        perm = rng.permutation(n)
        iid.append(evaluate(perm[:half], perm[half:])[:2])
    iid_acc = np.array([a for a, _ in iid])
    perm = ctx.rng(8).permutation(n)
    iid_train, iid_test = perm[:half], perm[half:]
    feature = "worst area"
    order = np.argsort(X[:, names.index(feature)], kind="stable")
    shift_train, shift_test = order[:half], order[half:]
    shift_acc, shift_false_benign, _ = evaluate(shift_train, shift_test)
    ctx.tick("splits")
    report_iid = data.shift_report(ds[iid_train], ds[iid_test])
    report_shift = data.shift_report(ds[shift_train], ds[shift_test])
    # the drop between the two accuracies as they are shown (to 0.1%), so that the
    # reader's subtraction of the quoted figures gives the quoted drop
    drop = round(round(100 * float(iid_acc.mean()), 1) - round(100 * shift_acc, 1), 1) / 100
    s.number("iid_accuracy_mean", f"i.i.d. halves: test accuracy, mean of {repeats} random "
             "splits", float(iid_acc.mean()), ".1%", highlight="i.i.d. split: test accuracy")
    s.number("iid_accuracy_std", "i.i.d. halves: its standard deviation", float(iid_acc.std()),
             ".1%")
    s.number("shift_accuracy", f"split by {feature} (train: the smaller half): test accuracy",
             shift_acc, ".1%", highlight="shifted split: test accuracy")
    s.number("accuracy_drop", "accuracy lost to the shift (percentage points)",
             round(100 * drop, 1), ".1f", highlight="accuracy drop (points)")
    s.number("shift_false_benign", "shifted split: malignant test tumours called benign",
             shift_false_benign)
    s.number("iid_shifted_features", "i.i.d. split: features flagged by shift_report",
             len(report_iid.shifted))
    s.number("shift_shifted_features", "shifted split: features flagged by shift_report",
             len(report_shift.shifted), highlight="shifted split: features flagged")
    s.number("malignant_train_shift", "shifted split: malignant tumours in the training half",
             int(np.sum(y[shift_train] == 0)))
    s.number("malignant_test_shift", "shifted split: malignant tumours in the test half",
             int(np.sum(y[shift_test] == 0)))
    ctx.tick("shift reports")
    s.say(
        "Every guarantee of a trained model assumes that the test data come from the same "
        "distribution as the training data, drawn independently (the i.i.d. assumption). A "
        "random split honours it; a split by some property of the examples does not. Here "
        "the tumours are split in halves twice: at random, and by size (train on the "
        f"smaller half by {feature}, test on the larger). `wl.data.shift_report` compares "
        "each feature's distribution across the two halves with a two-sample "
        "Kolmogorov–Smirnov test (Benjamini–Hochberg correction over the 30 features): it "
        f"flags {_count(len(report_iid.shifted), 'feature')} for the random split and "
        f"{len(report_shift.shifted)} of 30 for the split by size.",
        f"The same logistic regression (α = {alpha}, standardized on its training half) "
        f"is right on {iid_acc.mean():.1%} ± {iid_acc.std():.1%} of the test tumours "
        f"after a random split, and on {shift_acc:.1%} after the split by size: "
        f"{100 * drop:.1f} percentage points lost. The shifted training half holds only "
        f"{int(np.sum(y[shift_train] == 0))} malignant tumours, none as large as those it "
        f"is tested on, and {shift_false_benign} malignant test tumours are called benign, "
        "the costliest error. The test statistic warned before any label was seen.")
    fig, axes = new_figure(3, width=13.5, height=3.9)
    values = X[:, names.index(feature)]
    bins = np.linspace(values.min(), values.max(), 40)
    for ax, (train, test), title, report in (
            (axes[0], (iid_train, iid_test), "random split", report_iid),
            (axes[1], (shift_train, shift_test), f"split by {feature}", report_shift)):
        k = names.index(feature)
        ax.hist(values[train], bins=bins, alpha=0.6, color=COLORS["blue"], label="train half")
        ax.hist(values[test], bins=bins, alpha=0.6, color=COLORS["orange"], label="test half")
        ax.set_xlabel(f"{feature} (dataset units)")
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.set_ylabel("tumours (count)")
        ax.set_title(f"{title}: KS statistic {report.statistic[k]:.2f}, "
                     f"{len(report.shifted)}/30 flagged", fontsize=10)
        ax.legend(fontsize=8)
    ax = axes[2]
    bars = ax.bar([0, 1], [100 * iid_acc.mean(), 100 * shift_acc],
                  color=[COLORS["blue"], COLORS["red"]])
    # the spread over the random splits only: the split by size is one split, with no
    # spread to show (a zero-height bar would suggest one was measured)
    ax.errorbar([0], [100 * iid_acc.mean()], yerr=[100 * iid_acc.std()], fmt="none",
                ecolor="black", capsize=6)
    for bar, value in zip(bars, [iid_acc.mean(), shift_acc]):
        ax.text(bar.get_x() + bar.get_width() / 2, 100 * value - 6, f"{value:.1%}",
                ha="center", va="top", color="white", fontsize=10, fontweight="bold")
    ax.set_xticks([0, 1], [f"random split\n(mean of {repeats})", f"split by\n{feature}"])
    ax.set_ylim(50, 100)
    ax.set_xlabel("how the tumours were split into train and test halves")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"accuracy drops by {100 * drop:.1f} points", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    s.figure("shift_split",
             "The distribution of tumour size in the two halves of a random split (left) and "
             "of the split by size (middle), and the test accuracy of the same model after "
             "each (right).", fig)
    fig, ax = new_figure(width=12.0, height=4.0)
    idx = np.argsort(-report_shift.statistic)
    pos = np.arange(len(names))
    ax.bar(pos - 0.2, report_iid.statistic[idx], 0.4, color=COLORS["blue"], label="random split")
    ax.bar(pos + 0.2, report_shift.statistic[idx], 0.4, color=COLORS["red"],
           label=f"split by {feature}")
    flagged = report_shift.is_shifted[idx]
    ax.plot(pos[flagged] + 0.2, report_shift.statistic[idx][flagged] + 0.03, "v",
            color="black", ms=4, label="flagged (BH-adjusted p ≤ 0.05)")
    ax.set_xticks(pos, [names[i] for i in idx], rotation=60, ha="right", fontsize=7)
    ax.set_xlabel("feature (largest shift first)")
    ax.set_ylabel("KS statistic (max gap of the CDFs)")
    ax.set_title("the shift test (wl.data.shift_report), feature by feature", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    s.figure("shift_report",
             "The Kolmogorov–Smirnov statistic of each feature between the two halves, for "
             "both splits; triangles mark the features the test flags.", fig, optional=True)
    top = idx[:6]
    s.table("shift_top", f"shift_report for the split by {feature}: the six largest shifts",
            ["feature", "KS statistic", "p-value (BH-adjusted)", "flagged"],
            [[names[i], float(report_shift.statistic[i]),
              float(report_shift.pvalue_adjusted[i]), bool(report_shift.is_shifted[i])]
             for i in top], ["", ".3f", ".2e", ""])
    ctx.tick("figures")


# ===================================================================== 8. pre-trained models


def pretrained(ctx: Context, s: Section) -> None:
    """Part 8, pre-trained models: pre-train a small network on digits 0–4, use its hidden
    layer as an embedding for digits 5–9 with 1, 5 and 20 examples per class against raw
    pixels, and fine-tune the whole network.

    Examples
    --------
    >>> from wonderland.tour.base import Context, Section
    >>> s = Section("pretrained", 8, "Pre-trained models")
    >>> pretrained(Context(quick=True), s)  # doctest: +SKIP
    >>> n = s.numbers()
    >>> n["fewshot_5_embedding"] > n["fewshot_5_raw"]  # doctest: +SKIP
    True
    """
    import wonderland.linear as linear

    from .digits import ConvNet, jitter, load_digits, train

    X, y = load_digits()
    old, new = y < 5, y >= 5
    rng = ctx.rng(11)
    X_old, y_old = X[old], y[old]
    held = rng.permutation(len(y_old))
    n_val = len(y_old) // 5
    val, fit = held[:n_val], held[n_val:]
    X_new, y_new = X[new], y[new] - 5
    X_new_jit = jitter(X_new, ctx.rng(12))
    order = ctx.rng(13).permutation(len(y_new))
    test, pool = order[:400], order[400:]
    s.number("pretrain_images", "images of digits 0–4 for pre-training", len(fit))
    s.number("new_test_images", "test images of digits 5–9", len(test))

    epochs = ctx.pick(20, 8)
    net = ConvNet(channels=16, classes=5, seed=ctx.seed)
    history = train(net, X_old[fit], y_old[fit], epochs=epochs, lr=1e-2, batch_size=128,
                    augment=True, seed=ctx.seed)
    pre_acc = s.number("pretrain_val_accuracy", "pre-trained network: accuracy on held-out "
                       "digits 0–4", float(np.mean(net.predict(X_old[val]) == y_old[val])),
                       ".1%")
    s.number("pretrain_epochs", "pre-training epochs (Adam, batches of 128)", epochs)
    ctx.tick("pre-training")
    random_net = ConvNet(channels=16, classes=5, seed=ctx.seed + 1)
    reps = {"raw pixels": lambda A: A, "random network (untrained)": random_net.embed,
            "pre-trained embedding": net.embed}
    shots = (1, 5, 20)
    draws = ctx.pick(6, 3)
    alpha = s.number("head_alpha", "L2 penalty α of the linear heads", 1e-2, "g")
    results: dict[str, dict[str, dict[int, list[float]]]] = {}
    for condition, images in (("off-centre", X_new_jit), ("centred", X_new)):
        features = {name: f(images) for name, f in reps.items()
                    if condition == "off-centre" or name != "random network (untrained)"}
        results[condition] = {name: {k: [] for k in shots} for name in features}
        for k in shots:
            for r in range(draws):
                pick = ctx.rng(100 + r)
                idx = np.concatenate([pick.choice(pool[y_new[pool] == c], k, replace=False)
                                      for c in range(5)])
                for name, F in features.items():
                    head = linear.LogisticRegression(alpha=alpha).fit(F[idx], y_new[idx])
                    results[condition][name][k].append(
                        float(np.mean(head.predict(F[test]) == y_new[test])))
        ctx.tick(f"linear heads, {condition}")
    fine_draws = ctx.pick(2, 1)
    steps = ctx.pick(40, 25)
    tuned: dict[str, dict[int, list[float]]] = {"fine-tuned network": {k: [] for k in shots},
                                                "same network from scratch":
                                                    {k: [] for k in shots}}
    for k in shots:
        for r in range(fine_draws):
            pick = ctx.rng(100 + r)
            idx = np.concatenate([pick.choice(pool[y_new[pool] == c], k, replace=False)
                                  for c in range(5)])
            for name, start in (("fine-tuned network", net.copy()),
                                ("same network from scratch",
                                 ConvNet(channels=16, classes=5, seed=ctx.seed + 2 + r))):
                start.new_head(5)
                train(start, X_new_jit[idx], y_new[idx], epochs=steps, lr=3e-3, head_lr=3e-2,
                      weight_decay=1e-3, seed=r)
                tuned[name][k].append(float(np.mean(start.predict(X_new_jit[test])
                                                    == y_new[test])))
    ctx.tick("fine-tuning")
    mean = {c: {name: {k: float(np.mean(v)) for k, v in per.items()}
                for name, per in res.items()} for c, res in results.items()}
    spread = {c: {name: {k: float(np.std(v)) for k, v in per.items()}
                  for name, per in res.items()} for c, res in results.items()}
    tuned_mean = {name: {k: float(np.mean(v)) for k, v in per.items()}
                  for name, per in tuned.items()}
    off = mean["off-centre"]
    for k in shots:
        s.number(f"fewshot_{k}_raw", f"{k}-shot, off-centre digits 5–9: linear head on raw "
                 "pixels", off["raw pixels"][k], ".1%",
                 highlight="5-shot accuracy, raw pixels" if k == 5 else False)
        s.number(f"fewshot_{k}_random", f"{k}-shot, off-centre: linear head on an untrained "
                 "network's features", off["random network (untrained)"][k], ".1%")
        s.number(f"fewshot_{k}_embedding", f"{k}-shot, off-centre: linear head on the "
                 "pre-trained embedding", off["pre-trained embedding"][k], ".1%",
                 highlight="5-shot accuracy, pre-trained embedding" if k == 5 else False)
        s.number(f"fewshot_{k}_finetuned", f"{k}-shot, off-centre: whole network fine-tuned",
                 tuned_mean["fine-tuned network"][k], ".1%",
                 highlight="5-shot accuracy, fine-tuned" if k == 5 else False)
        s.number(f"fewshot_{k}_scratch", f"{k}-shot, off-centre: same network trained from "
                 "scratch", tuned_mean["same network from scratch"][k], ".1%")
        s.number(f"centred_{k}_raw", f"{k}-shot, centred digits: raw pixels",
                 mean["centred"]["raw pixels"][k], ".1%")
        s.number(f"centred_{k}_embedding", f"{k}-shot, centred digits: pre-trained embedding",
                 mean["centred"]["pre-trained embedding"][k], ".1%")
    wins = float(np.mean(np.array(results["off-centre"]["pre-trained embedding"][5])
                         > np.array(results["off-centre"]["raw pixels"][5])))
    s.number("fewshot_5_embedding_wins", "5-shot draws where the embedding beats raw pixels",
             wins, ".0%")
    s.number("fewshot_draws", "random draws of the shots averaged (linear heads)", draws)
    s.number("finetune_draws", "random draws of the shots averaged (fine-tuning)", fine_draws)
    with_old = net.copy()
    guesses = with_old.predict(X_new[test])
    zero_rows = []
    for c in range(5):
        mask = y_new[test] == c
        counts = np.bincount(guesses[mask], minlength=5)
        zero_rows.append([c + 5, int(np.argmax(counts)), float(counts.max() / mask.sum())])
    s.say(
        "The text's last part turns from training models to *reusing* them. A network "
        "trained on a large task (pre-training) computes, in its hidden layers, an "
        "*embedding*: a vector that describes an input in the terms the network found "
        "useful. For a new task with only a few labelled examples (few-shot learning) one "
        "trains just a small head on the frozen embedding; with more data one fine-tunes "
        "the whole network. Zero-shot use goes further, naming classes never seen in "
        "training, which needs a model that also embeds the class descriptions (text) in "
        "the same space, as CLIP does; nothing of that kind fits offline in a few "
        "seconds, so the tour shows embeddings, few-shot heads and fine-tuning, on a scale "
        "that runs here.",
        "Pre-training: a two-layer network (16 convolutional filters of 3 × 3 pixels, ReLU "
        "and max-pooling, then a linear layer), built from wonderland tensors and trained "
        f"by `wl.optim.Adam` for {epochs} epochs on the 8 × 8 images of digits 0–4 "
        "shifted at random by up to a pixel (data augmentation). It recognizes "
        f"{pre_acc:.1%} of held-out 0–4 digits. Its 64 pooled filter responses are the "
        "embedding. The new task is digits 5–9, which it never saw, arriving off-centre "
        "(shifted by up to a pixel, as a careless scanner would deliver them); a "
        "`wl.linear.LogisticRegression` head is trained on 1, 5 or 20 examples per class, "
        f"averaged over {draws} random draws of the examples, and tested on {len(test)} "
        "other images.",
        f"With 5 examples per class the head on raw pixels reaches "
        f"{off['raw pixels'][5]:.1%}, on the embedding {off['pre-trained embedding'][5]:.1%}"
        f" (better in {wins:.0%} of the draws). Part of the gain is the architecture "
        "alone: the same network with random, untrained filters already gives "
        f"{off['random network (untrained)'][5]:.1%}, because pooling forgives a shift; "
        "pre-training adds the rest, filters tuned to pen strokes. Fine-tuning the whole "
        "pre-trained network with a fresh head reaches "
        f"{tuned_mean['fine-tuned network'][5]:.1%}, against "
        f"{tuned_mean['same network from scratch'][5]:.1%} for the same network trained "
        "from scratch on the same examples.",
        "An honest caveat: on the centred digits as the dataset ships them, raw pixels "
        f"are already excellent ({mean['centred']['raw pixels'][5]:.1%} at 5 shots, "
        f"{mean['centred']['pre-trained embedding'][5]:.1%} with the embedding): a "
        "pre-trained model pays off when it carries knowledge the few examples cannot "
        "teach, here that a digit one pixel to the left is the same digit.")
    fig, axes = new_figure(2, width=12.5, height=4.4, sharey=True)
    styles = {"raw pixels": (COLORS["grey"], "o"),
              "random network (untrained)": (COLORS["purple"], "^"),
              "pre-trained embedding": (COLORS["blue"], "s"),
              "fine-tuned network": (COLORS["red"], "D"),
              "same network from scratch": (COLORS["orange"], "v")}
    for ax, condition in zip(axes, ("off-centre", "centred")):
        for name in mean[condition]:
            color, marker = styles[name]
            ax.errorbar(shots, [mean[condition][name][k] * 100 for k in shots],
                        yerr=[spread[condition][name][k] * 100 for k in shots],
                        color=color, marker=marker, capsize=3, lw=2,
                        label=f"linear head on {name}")
        if condition == "off-centre":
            for name in tuned_mean:
                color, marker = styles[name]
                ax.plot(shots, [tuned_mean[name][k] * 100 for k in shots], marker=marker,
                        color=color, lw=1.6, ls="--", label=name)
        ax.set_xscale("log")
        ax.set_xticks(shots, [str(k) for k in shots])
        ax.set_xlabel("labelled examples per class (shots)")
        ax.set_title(f"digits 5–9, {condition}", fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7, loc="lower right")
    axes[0].set_ylabel(f"test accuracy on {len(test)} images (%)")
    s.figure("pretrained_few_shot",
             f"Accuracy against the number of shots (mean ± std over {draws} draws; "
             f"fine-tuning over {fine_draws}) for off-centre new digits (left) and centred "
             "ones (right).", fig)
    if ctx.full:  # an optional figure
        fig = _digits_figure(net, X_new[test[:6]], X_new_jit[test[:6]], history)
        s.figure("pretrained_network",
                 "Left: new digits as the dataset ships them (top) and off-centre (bottom). "
                 "Middle: the 16 filters learned in pre-training. Right: the pre-training "
                 "loss.", fig, optional=True)
    s.table("few_shot", "Few-shot accuracy on digits 5–9 (off-centre), mean over the draws",
            ["representation", "1 shot", "5 shots", "20 shots"],
            [[name, *[per[k] for k in shots]] for name, per in {**off, **tuned_mean}.items()],
            ["", ".1%", ".1%", ".1%"])
    s.table("few_shot_centred", "The same linear heads on centred digits 5–9",
            ["representation", "1 shot", "5 shots", "20 shots"],
            [[name, *[per[k] for k in shots]] for name, per in mean["centred"].items()],
            ["", ".1%", ".1%", ".1%"])
    s.table("what_it_knows", "What the pre-trained 0–4 classifier calls the new digits "
            "(its most frequent answer)", ["new digit", "called", "share of its images"],
            zero_rows, ["", "", ".0%"],
            note="A classifier can only answer with the classes it was trained on: naming a "
                 "new class without examples (zero-shot) needs class descriptions embedded "
                 "in the same space.")
    ctx.tick("figures")


def _digits_figure(net: Any, centred: np.ndarray, shifted: np.ndarray,
                   history: list[float]) -> Any:
    """Example digits (centred and off-centre), the learned filters, the pre-training
    loss."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12.5, 3.8), layout="constrained")
    grid = fig.add_gridspec(1, 3, width_ratios=[1.4, 1.2, 1.4])
    left = grid[0].subgridspec(2, len(centred))
    for i in range(len(centred)):
        for row, images in enumerate((centred, shifted)):
            ax = fig.add_subplot(left[row, i])
            ax.imshow(images[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_ylabel("centred" if row == 0 else "off-centre", fontsize=8)
    middle = grid[1].subgridspec(4, 4)
    K = net.filters.numpy()
    limit = float(np.abs(K).max())
    for c in range(K.shape[1]):
        ax = fig.add_subplot(middle[c // 4, c % 4])
        ax.imshow(K[:, c].reshape(3, 3), cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_xticks([])
        ax.set_yticks([])
    ax = fig.add_subplot(grid[2])
    ax.plot(np.arange(1, len(history) + 1), history, "o-", color=COLORS["blue"], ms=3)
    ax.set_yscale("log")
    plain_log_ticks(ax.yaxis)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy on digits 0–4 (nats)")
    ax.set_title("pre-training loss", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    fig.suptitle("new digits (left), the 16 pre-trained 3 × 3 filters (middle, red +, blue −)",
                 fontsize=10)
    return fig


# ===================================================================== registry

SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec("tensors", "Tensors", 5, tensors),
    SectionSpec("derivatives", "Derivatives, gradients and Jacobians", 5, derivatives),
    SectionSpec("gradient_descent", "Gradient descent and momentum", 6, gradient_descent),
    SectionSpec("losses", "Losses", 2, losses),
    SectionSpec("least_squares", "Least squares", 4, least_squares),
    SectionSpec("logistic_regression", "Logistic regression", 4, logistic_regression),
    SectionSpec("datasets_and_shift", "Datasets and distribution shift", 3, datasets_and_shift),
    SectionSpec("pretrained", "Pre-trained models and fine-tuning", 5, pretrained),
)

