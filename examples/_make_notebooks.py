"""Write the example notebooks, one per part of the text, with their outputs cleared.

Run ``python examples/_make_notebooks.py`` after editing a notebook's cells here; the
committed ``.ipynb`` files are this script's output (``tests/test_notebooks.py`` checks
that they match it, and executes each one). ``--check`` only compares.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

KERNEL = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def md(text: str) -> dict:
    return new_markdown_cell(text.strip("\n"))


def code(text: str) -> dict:
    return new_code_cell(text.strip("\n"))


# `%matplotlib inline` first: wl.plot switches matplotlib to its non-displaying Agg
# backend unless an interactive one is active, so without it no figure would show.
SETUP = code("""
%matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

import wonderland as wl
""")
SETUP_WL_PLOTS = code("""
%matplotlib inline
import numpy as np

import wonderland as wl
""")
SETUP_NO_PLOTS = code("""
import numpy as np

import wonderland as wl
""")

README = "../README.md"
TITLES = {
    "01_tensors.ipynb": "1. Tensors",
    "02_derivatives_gradients_jacobians.ipynb": "2. Derivatives, gradients and Jacobians",
    "03_gradient_descent_and_momentum.ipynb": "3. Gradient descent and momentum",
    "04_datasets_and_losses.ipynb": "4. Datasets and losses",
    "05_linear_and_logistic_regression.ipynb": "5. Linear and logistic regression",
    "06_pretrained_features.ipynb": "6. Pre-trained features",
}


def summary(name: str, points: str) -> dict:
    """The closing cell: what the notebook showed, then the way on."""
    names = list(TITLES)
    i = names.index(name)
    nav = []
    if i > 0:
        nav.append(f"Previous: [{TITLES[names[i - 1]]}]({names[i - 1]})")
    if i + 1 < len(names):
        nav.append(f"Next: [{TITLES[names[i + 1]]}]({names[i + 1]})")
    text = "## Summary\n\n" + points.strip("\n") + "\n\n" + " · ".join(nav) + "."
    if i + 1 == len(names):
        text += (f"\n\nThis was the last notebook. The [tour]({README}#the-tour-wonderland-tour)"
                 " (`wonderland tour`) runs every part of the text again and writes one report.")
    return md(text)


NOTEBOOKS: dict[str, list[dict]] = {}

# ----------------------------------------------------------------------------- 1. tensors
NOTEBOOKS["01_tensors.ipynb"] = [
    md("""
# 1. Tensors

A tensor is an n-dimensional array: its **shape** lists the length of each axis, its
**rank** (`ndim`) counts the axes. wonderland's `Tensor` behaves like a NumPy array (and
like a PyTorch tensor), and records what it computes so that it can be differentiated
later ([notebook 2](02_derivatives_gradients_jacobians.ipynb)). The README's
[Tensors](../README.md#tensors) section lists every operation.
"""),
    SETUP,
    code("""
wl.manual_seed(0)   # the same random numbers on every run
examples = {
    "scalar": wl.tensor(3.0),
    "vector": wl.randn(5),
    "matrix": wl.randn(3, 4),
    "batch of 4 matrices 5 x 2": wl.randn(4, 5, 2),
    "batch of 8 RGB images 32 x 32": wl.zeros(8, 3, 32, 32),
}
for name, t in examples.items():
    print(f"{name:30s} shape {str(t.shape):15s} rank {t.ndim}  entries {t.size}")
"""),
    md("""
## Indexing and slicing

An integer index removes its axis, a slice keeps it: `X[i, :, j:k]` of a `(2, 3, 5)`
tensor has shape `(3, k - j)`. Here `i = 1` picks the second `3 × 5` block and `1:5`
keeps its columns 1 to 4 (the end of a slice is left out).
"""),
    code("""
X = wl.arange(30).reshape(2, 3, 5)
piece = X[1, :, 1:5]
print(piece.shape)
print(piece)
"""),
    md("""
## Broadcasting, and why it bites in a loss

Shapes are lined up from the right and axes of length 1 are stretched: a `(4, 1)` column
plus a `(4,)` vector (read as a `(1, 4)` row) is a `(4, 4)` table of all pairwise sums.
"""),
    code("""
a = wl.tensor([[0.0], [10.0], [20.0], [30.0]])   # (4, 1)
b = wl.tensor([0.0, 1.0, 2.0, 3.0])              # (4,)
print((a + b).shape)
print(a + b)
"""),
    md("The same sum as a picture: the column is copied across, the row down."),
    code("""
fig, axes = plt.subplots(1, 3, figsize=(9, 3))
for ax, t, title in zip(axes, (a.numpy(), b.numpy()[None, :], (a + b).numpy()),
                        ("a: (4, 1)", "b: (4,), a row", "a + b: (4, 4)")):
    ax.imshow(t, cmap="Blues", vmin=-10, vmax=40)
    for (i, j), v in np.ndenumerate(t):
        ax.text(j, i, f"{v:g}", ha="center", va="center")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("broadcasting a (4, 1) column against a (4,) vector")
fig.tight_layout()
"""),
    md("""
The same rule turns a loss into nonsense when predictions come out as a column `(n, 1)`
and targets are a vector `(n,)`: every prediction is compared with every target. Four
perfect predictions get a mean squared error of 2.5 instead of 0. `wl.losses.squared`
refuses the mismatch.
"""),
    code("""
import wonderland.losses

pred = wl.tensor([[1.0], [2.0], [3.0], [4.0]])   # (4, 1)
y = wl.tensor([1.0, 2.0, 3.0, 4.0])              # (4,)
print("broadcast by mistake:", ((pred - y) ** 2).mean().item())
print("shapes matched:      ", wonderland.losses.squared(pred.reshape(-1), y).item())
try:
    wonderland.losses.squared(pred, y)
except ValueError as error:
    print("ValueError:", error)
"""),
    md("""
## Reductions over axes

`sum(dim=0)` adds over axis 0, the rows: one total per column. `sum(dim=1)` adds over
axis 1: one total per row. `keepdim=True` keeps the reduced axis with length 1, so that
the result broadcasts back against the table.
"""),
    code("""
M = wl.arange(1, 13).reshape(3, 4).astype("float64")
print(M)
print("per column:", M.sum(dim=0), " per row:", M.sum(dim=1), " all:", M.sum())
print(M.sum(dim=1, keepdim=True).shape)
shares = M / M.sum(dim=1, keepdim=True)   # (3, 4) / (3, 1): each entry over its row's total
print(shares.round(3))
print("row sums:", shares.sum(dim=1))
"""),
    md("""
## Batched matrix products

`(4, 5, 2) @ (4, 2, 3)` multiplies the four pairs of matrices at once (the same as a
loop over the batch, as the difference of 0 shows); batch axes broadcast like any other,
so a single `(2, 3)` matrix multiplies each of the four `(5, 2)` ones.
"""),
    code("""
A, B = wl.randn(4, 5, 2), wl.randn(4, 2, 3)
P = A @ B
loop = wl.stack([A[i] @ B[i] for i in range(4)])
print(P.shape, "largest difference from the loop:", float(wl.max(wl.abs(P - loop))))
print(B[0].shape, (A @ B[0]).shape)   # one (2, 3) matrix for the whole batch
"""),
    summary("01_tensors.ipynb", """
- A tensor's shape lists its axes; an integer index drops an axis, a slice keeps it.
- Broadcasting lines shapes up from the right and stretches axes of length 1: useful for
  tables of pairwise results, a silent bug when an `(n, 1)` prediction meets an `(n,)`
  target (the losses refuse it).
- `dim=` says which axis a reduction removes; `keepdim=True` keeps it for broadcasting back.
- `@` multiplies batches of matrices at once, broadcasting the batch axes.
"""),
]

# ----------------------------------------------------------------------------- 2. derivatives
NOTEBOOKS["02_derivatives_gradients_jacobians.ipynb"] = [
    md("""
# 2. Derivatives, gradients and Jacobians

The derivative of f at x is the limit of the slope of the secant through (x, f(x)) and
(x + h, f(x + h)) as h → 0. wonderland computes it exactly by automatic differentiation
(`wl.grad(f)` is the function x ↦ f′(x)); finite differences (`wl.numerical_grad`)
approximate it. The text's example: f(x) = x² − 1.5x at x = 0.5, where f′(x) = 2x − 1.5
= −0.5. (The README's section
[functional transforms](../README.md#functional-transforms-derivatives-as-functions)
lists them all.)
"""),
    SETUP,
    code("""
def f(x):
    return x**2 - 1.5 * x          # the text's example

x0 = 0.5
exact = wl.grad(f)(x0).item()
hs = 10.0 ** -np.arange(0, 14)
slopes = np.array([((f(wl.tensor(x0 + h)) - f(wl.tensor(x0))) / h).item() for h in hs])
for h, s in zip(hs[::3], slopes[::3]):
    print(f"h = {h:.0e}: secant slope {s:.10f}")
print("wl.grad:", exact)
"""),
    md("""
For this quadratic the secant slope is exactly f′(x) + h, so its error is h (the dotted
line): the *truncation* error. Below h ≈ 10⁻⁸ the difference f(x + h) − f(x) is computed
from two nearly equal numbers, each rounded to about 16 digits, and that *round-off*
error, divided by h, grows again as h shrinks (the axis runs from large h to small).
"""),
    code("""
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.loglog(hs, np.abs(slopes - exact), "o-", label="|secant slope - f'(0.5)|")
ax.loglog(hs, hs, ":", label="h")
ax.invert_xaxis()
ax.set_xlabel("step h")
ax.set_ylabel("error of the slope")
ax.legend()
ax.set_title("truncation error shrinks with h, round-off grows");
"""),
    md("""
## The same derivative with `backward()`

The text's code is PyTorch's: mark an input with `requires_grad=True` (a *leaf* of the
graph), compute, call `backward()`, and read the derivative in the leaf's `.grad`. Two
habits to learn with it: `backward()` *adds* to `.grad` (an optimizer's `zero_grad()`
clears it between steps), and it fills the `.grad` of leaves only; for an intermediate
result, ask for it with `retain_grad()` before the pass (reading `.grad` of a non-leaf
otherwise warns and gives `None`). The README's section
[reverse-mode automatic differentiation](../README.md#reverse-mode-automatic-differentiation)
has the details.
"""),
    code("""
x = wl.tensor(0.5, requires_grad=True)   # a leaf: made by us, not by an operation
f(x).backward()                          # reverse mode: df/dx into x.grad
print("after one backward():   x.grad =", x.grad)
f(x).backward()                          # a second pass adds to it
print("after a second one:     x.grad =", x.grad)

x.grad = None                            # clear it, as zero_grad() does
h = 3 * x                                # an intermediate result, not a leaf
h.retain_grad()
(h**2).backward()                        # d(h²)/dh = 2h = 3, d(h²)/dx = 18x = 9
print("d(h²)/dh =", h.grad, "  d(h²)/dx =", x.grad)
"""),
    md("""
## Gradient and directional derivative

For f: Rⁿ → R the gradient collects the partial derivatives. The directional derivative
along v is ⟨∇f(x), v⟩; forward mode (`wl.jvp`, a Jacobian-vector product, which returns
the value f(x) and the derivative along v) computes it without forming ∇f. Here
f(x) = x₀² + 3x₁² + x₀x₁, so ∇f(x) = (2x₀ + x₁, 6x₁ + x₀) = (2.5, 4) at (1, 0.5), and
v = (1, −1)/√2 is a unit vector.
"""),
    code("""
def bowl(x):
    return x[0]**2 + 3 * x[1]**2 + x[0] * x[1]

x = wl.tensor([1.0, 0.5])
v = wl.tensor([1.0, -1.0]) / np.sqrt(2)
g = wl.grad(bowl)(x)
value, directional = wl.jvp(bowl, (x,), (v,))
print("f(x):", value.item(), "  gradient:", g, "  numerical:", wl.numerical_grad(bowl, x))
print(f"jvp: {directional.item():.6f}   <grad, v>: {wl.dot(g, v).item():.6f}")
"""),
    md("""
Both give ⟨(2.5, 4), (1, −1)/√2⟩ = −1.5/√2 ≈ −1.0607: along this unit direction f
decreases, at that rate.
"""),
    md("""
## Jacobians in both modes

The Jacobian of F: R³ → R² is a 2 × 3 matrix (a row per output, a column per input).
Reverse mode (`wl.jacrev`) builds it row by row, forward mode (`wl.jacfwd`) column by
column; both agree with finite differences (the printed numbers are the largest
differences).
"""),
    code("""
def F(x):
    return wl.stack([x[0] * x[1] + wl.sin(x[2]), wl.exp(x[0]) - x[1] * x[2]**2])

x = wl.tensor([0.5, -1.0, 2.0])
J_rev, J_fwd, J_fd = wl.jacrev(F)(x), wl.jacfwd(F)(x), wl.numerical_grad(F, x)
print(J_rev.round(4))
print(f"rev vs fd: {float(wl.max(wl.abs(J_rev - J_fd))):.2g}   "
      f"fwd vs rev: {float(wl.max(wl.abs(J_fwd - J_rev))):.2g}")
"""),
    md("""
## The first-order Taylor model

`wl.linearize(f, x0)` is x ↦ f(x0) + f′(x0)(x − x0). The text's example: f(0.51) = −0.5049,
the model says −0.5050.
"""),
    code("""
model = wl.linearize(f, 0.5)
print(f"f(0.51) = {f(wl.tensor(0.51)).item():.4f}, model(0.51) = {model(0.51).item():.4f}")
"""),
    md("""
A linear map is its own Jacobian: ∂(Wx)/∂x = W, at every x (here at x = (1, 1, 1, 1));
the printed number is the largest entry of the difference.
"""),
    code("""
wl.manual_seed(0)
W = wl.randn(3, 4)
print(float(wl.max(wl.abs(wl.jacrev(lambda x: W @ x)(wl.ones(4)) - W))))
"""),
    md("""
## The derivative as a program

Automatic differentiation runs the derivative rather than finding a formula.
`wl.compile` traces a gradient once and writes it out as straight-line NumPy code, one line
per operation; the comment on each line names the source line it came from (here a
notebook cell, which IPython files under a number such as `938846559.py`) and, for the
derivative, the operation whose rule produced it. First the
text's polynomial 2x⁴ + x³ − 3x² (by hand: 8x³ + 3x² − 6x).
"""),
    code("""
def poly(x):
    return 2 * x**4 + x**3 - 3 * x**2


dpoly = wl.compile(wl.grad(poly))
print(dpoly.source(2.0))
print(dpoly(2.0), "by hand:", 8 * 2.0**3 + 3 * 2.0**2 - 6 * 2.0)
"""),
    md("""
Then the value and gradient of the practice function of
[notebook 3](03_gradient_descent_and_momentum.ipynb),
f(x) = sin(x₁)cos(x₂) + sin(x₁/2)cos(x₂/2), summed over 1000 points. The forward lines
compute the value; the derivative lines reuse the memory of intermediate arrays that are
no longer needed (`out=`).
"""),
    code("""
def practice(X):
    x1, x2 = X[:, 0], X[:, 1]
    return (wl.sin(x1) * wl.cos(x2) + wl.sin(0.5 * x1) * wl.cos(0.5 * x2)).sum()

X = np.random.default_rng(0).uniform(0, 10, size=(1000, 2))
print(wl.compile(wl.value_and_grad(practice)).source(X))
"""),
    summary("02_derivatives_gradients_jacobians.ipynb", """
- Finite differences approximate a derivative, with truncation error for large h and
  round-off for small h; automatic differentiation is exact to rounding.
- `backward()` puts the derivative into the leaves' `.grad` and adds to what is there;
  `retain_grad()` keeps an intermediate result's.
- `wl.grad`, `wl.jvp`, `wl.jacrev`, `wl.jacfwd`, `wl.linearize` are derivatives as
  functions: the gradient, the directional derivative, the Jacobian in reverse and
  forward mode, the first-order Taylor model.
- `wl.compile` writes a derivative out as the NumPy program that computes it.
"""),
]

# ----------------------------------------------------------------------------- 3. descent
NOTEBOOKS["03_gradient_descent_and_momentum.ipynb"] = [
    md("""
# 3. Gradient descent and momentum

x_t = x_{t−1} − η ∇f(x_{t−1}) with step size (learning rate) η, stopped when the gradient
is small (`tol_grad`) or when the steps are (`tol_x`), or after `max_iter` steps.
`wl.optim.minimize` runs the loop and keeps the trace (the README's
[optimization](../README.md#optimization-gradient-descent-and-its-stopping-rules) section
has every option). First the text's polynomial f(x) = 2x⁴ + x³ − 3x² from x0 = 2 with
η = 0.01, once with each stopping rule.
"""),
    SETUP_WL_PLOTS,
    code("""
def poly(x):
    return 2 * x**4 + x**3 - 3 * x**2

for options in ({"tol_grad": 1e-6}, {"tol_grad": 0.0, "tol_x": 1e-6}):
    res = wl.optim.minimize(poly, 2.0, lr=0.01, max_iter=10_000, **options)
    print(f"{res.reason:8s}: x = {res.x.item():.6f} after {res.n_iter} steps, "
          f"|f'(x)| = {res.grad_norm:.1e}")
print(f"exact local minimum: {(-3 + 201**0.5) / 16:.6f}")
"""),
    md("""
Both stop at the local minimum x* = (−3 + √201)/16 (the global one, near x = −1.07, lies
beyond the local maximum at 0, and descent from x0 = 2 never gets there). The step rule
stops sooner but less precisely: a step is η|f′(x)|, so steps shorter than 10⁻⁶ only
mean |f′(x)| < 10⁻⁴ when η = 0.01.

## Stationary points that are not minima

At a saddle the gradient vanishes too. f(x) = x₁² + x₂⁴/4 − x₂²/2 has a saddle at the
origin and minima at (0, ±1). The Hessian (the matrix of second derivatives,
`wl.hessian`) tells them apart: a negative eigenvalue means f curves down along some
direction. `batched=True` treats each row of the starting points as its own run.
"""),
    code("""
def saddle(X):
    return X[..., 0]**2 + X[..., 1]**4 / 4 - X[..., 1]**2 / 2

for point in ([0.0, 0.0], [0.0, 1.0]):
    H = wl.hessian(saddle)(wl.tensor(point)).numpy()
    print(point, "Hessian eigenvalues:", np.linalg.eigvalsh(H))
res = wl.optim.minimize(saddle, [[1.5, 0.0], [1.5, 0.01]], lr=0.1, max_iter=2000,
                        tol_grad=1e-8, batched=True)
print("from (1.5, 0) ->", res.x[0].numpy().round(6), "   from (1.5, 0.01) ->",
      res.x[1].numpy().round(6))
"""),
    md("""
Started on the line x₂ = 0, descent stays on it (the gradient has no x₂ component there)
and stops at the saddle, where the gradient is zero: the stopping rule cannot tell a
saddle from a minimum. A nudge of 0.01 in x₂ is enough to roll off to the minimum (0, 1).

## The practice exercise

f(x) = sin(x₁)cos(x₂) + sin(x₁/2)cos(x₂/2), from 20 starting points drawn in [0, 10]²,
all run at once (`batched=True`), with plain gradient descent and with momentum (the
heavy ball: g_t = −η ∇f(x_{t−1}) + λ g_{t−1}, x_t = x_{t−1} + g_t, with λ = 0.9), both with
η = 0.02 and at most 1000 steps.
"""),
    code("""
def practice(X):
    x1, x2 = X[:, 0], X[:, 1]
    return wl.sin(x1) * wl.cos(x2) + wl.sin(0.5 * x1) * wl.cos(0.5 * x2)

X0 = np.random.default_rng(0).uniform(0, 10, size=(20, 2))
common = dict(lr=0.02, max_iter=1000, tol_grad=1e-6, batched=True)
runs = {"gd": wl.optim.minimize(practice, X0, method="gd", **common),
        "momentum": wl.optim.minimize(practice, X0, method="momentum", momentum=0.9, **common)}
for name, res in runs.items():
    done = res.reason == "tol_grad"
    print(f"{name:8s}: {done.sum()} of {len(X0)} converged, "
          f"median {np.median(res.n_iter[done]):.0f} steps")
"""),
    md("""
The paths of the momentum runs over the contours of f (dark is low). The descent is not
confined to the box the starts were drawn from: some runs end in minima outside it.
"""),
    code("""
fig = wl.plot.contour_paths(practice, runs["momentum"], (0, 10), (0, 10),
                            title="momentum, 20 starts")
fig
"""),
    md("""
The gradient norm along each run (log scale): momentum reaches 10⁻⁶ in about a third of
the steps, with the wiggles of a ball that overshoots and swings back; plain descent
creeps, and two of its runs are still above 10⁻⁶ after 1000 steps.
"""),
    code("""
fig = wl.plot.grad_norms({"gradient descent": runs["gd"], "momentum": runs["momentum"]})
fig
"""),
    summary("03_gradient_descent_and_momentum.ipynb", """
- Gradient descent stops on a small gradient (`tol_grad`), small steps (`tol_x`) or
  `max_iter`; a small step means a small gradient only up to the factor η.
- A zero gradient does not make a minimum: the Hessian's eigenvalues tell a saddle from a
  minimum, and descent started exactly on a saddle's ridge stays there.
- From different starts, descent finds different local minima; momentum gets there in
  about a third of the steps of plain descent on the practice function.
"""),
]

# ----------------------------------------------------------------------------- 4. losses
NOTEBOOKS["04_datasets_and_losses.ipynb"] = [
    md("""
# 4. Datasets and losses

`wl.data` holds checked datasets (the ones that ship with scikit-learn: nothing is
downloaded), splits and a test for distribution shift; `wl.losses` the losses of the
text (the README's section
[supervised learning](../README.md#supervised-learning-losses-data-linear-models) lists
them).
"""),
    SETUP,
    code("""
import wonderland.data
import wonderland.losses as L

ds = wonderland.data.load_breast_cancer()
print(ds.description)
train, test = ds.split(test_size=0.3, seed=0)   # a random 70 / 30 split
print(len(train), "training rows,", len(test), "test rows")
"""),
    md("""
## Losses as functions of the margin or the residual

Classification losses depend on the margin m = y·s of a score s (labels y = ±1; m > 0
means the sign of s is right), regression losses on the residual r = p − y of a
prediction p. The logistic loss log(1 + e⁻ᵐ) is drawn in bits (divided by log 2) so
that, like the hinge max(0, 1 − m), it is 1 at m = 0 and lies above the 0/1 loss: both
are differentiable stand-ins for it. The Huber loss is r²/2 for |r| ≤ 1 and |r| − 1/2
beyond: squared near zero, absolute (so less swayed by outliers) far from it.
"""),
    code("""
m = wl.tensor(np.linspace(-2.5, 2.5, 501))
ones, zeros = np.ones(501), np.zeros(501)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
axes[0].plot(m.numpy(), L.zero_one(m, ones, reduction="none").numpy(), label="0/1")
axes[0].plot(m.numpy(), L.hinge(m, ones, reduction="none").numpy(), label="hinge")
axes[0].plot(m.numpy(), L.binary_cross_entropy_with_logits(m, ones, reduction="none").numpy()
             / np.log(2), label="logistic (bits)")
axes[0].set_xlabel("margin m = y s")
axes[0].set_title("classification")
axes[1].plot(m.numpy(), L.squared(m, zeros, reduction="none").numpy(), label="squared")
axes[1].plot(m.numpy(), L.absolute(m, zeros, reduction="none").numpy(), label="absolute")
axes[1].plot(m.numpy(), L.huber(m, zeros, reduction="none").numpy(), label="Huber")
axes[1].set_xlabel("residual r = p - y")
axes[1].set_title("regression")
for ax in axes:
    ax.set_ylabel("loss")
    ax.set_ylim(-0.1, 3.5)
    ax.legend()
fig.tight_layout()
"""),
    md("""
The 0/1 loss is piecewise constant: its gradient is zero almost everywhere. wonderland
treats it as a metric and refuses to differentiate it. Below, two of the three scores
have the wrong sign.
"""),
    code("""
scores = wl.tensor([2.0, -0.5, 0.3], requires_grad=True)
rate = L.zero_one(scores, [1, 1, -1])
print(f"error rate: {rate.item():.3f}")
try:
    rate.backward()
except RuntimeError as error:
    print("RuntimeError:", error)
"""),
    md("""
## Distribution shift

A random split, such as the 70 / 30 one above, keeps the i.i.d. assumption; a split by
tumour size (small tumours in one half, large in the other) breaks it, and
`shift_report` says so before any label is seen. For each feature it compares the two
samples with a two-sample Kolmogorov–Smirnov test (`statistic` is the largest gap between
the two empirical distribution functions, from 0 to 1) and flags it when the p-value,
adjusted for testing 30 features at once, is below 0.05.
"""),
    code("""
print("random split, features flagged:", len(wonderland.data.shift_report(train, test).shifted))

X, y = ds.numpy()
order = np.argsort(X[:, ds.feature_names.index("worst area")])
half = len(y) // 2
report = wonderland.data.shift_report(ds[order[:half]], ds[order[half:]])
print("split by size, features flagged:", len(report.shifted), "of", len(ds.feature_names))
table = report.to_frame().sort_values("statistic", ascending=False)
columns = ["feature", "statistic", "pvalue_adjusted", "shifted"]
print(table[columns].head().to_string(index=False, float_format="{:.3g}".format))
print("not flagged:", [name for name in ds.feature_names if name not in report.shifted])
"""),
    md("""
The size features top the list (`worst area`, the one sorted on, has a gap of 1: the two
halves do not overlap at all), and all the others but `fractal dimension error` differ
between the halves too: they move with tumour size.
"""),
    summary("04_datasets_and_losses.ipynb", """
- Classification losses are functions of the margin y·s, regression losses of the
  residual p − y; hinge and logistic are differentiable upper bounds of the 0/1 loss,
  which is a metric to report, not a loss to train on.
- A random split keeps training and test data alike; `shift_report` compares every
  feature of two samples (Kolmogorov–Smirnov, p-values adjusted for the number of
  features) and flags a shifted split before any model is trained.
"""),
]

# ----------------------------------------------------------------------------- 5. linear models
NOTEBOOKS["05_linear_and_logistic_regression.ipynb"] = [
    md("""
# 5. Linear and logistic regression

`wl.linear` fits the text's linear models as scikit-learn estimators: least squares in
closed form or by gradient descent, ridge regression, logistic regression (the README's
section [supervised learning](../README.md#supervised-learning-losses-data-linear-models)
has their options).

First least squares on the diabetes data (442 patients, 10 features, the target a
measure of disease progression a year later), solved twice: in closed form (the normal
equations, `solver="normal"`) and by gradient descent (`solver="gd"`), which stops once
the gradient's norm has fallen below `tol` times its first value (it would warn if it
ran out of `max_iter` steps first).
"""),
    SETUP,
    code("""
import warnings

import wonderland.data
import wonderland.linear as linear

X, y = wonderland.data.load_diabetes().numpy()
closed = linear.LinearRegression(solver="normal").fit(X, y)
descent = linear.LinearRegression(solver="gd", max_iter=10_000, tol=1e-9).fit(X, y)
print("coefficients:", closed.coef_.round(1))
print(f"gradient descent: {descent.n_iter_} steps, "
      f"max |closed form - descent| = {np.max(np.abs(closed.coef_ - descent.coef_)):.1e}")
print(f"R²: {closed.score(X, y):.3f}")
"""),
    md("""
The two solutions agree to about 10⁻⁶, on coefficients in the hundreds. R² = 0.52: the
linear model explains about half of the target's variance. The loss curve of descent
(iterations on a log axis) reaches the closed-form loss after several hundred steps.
"""),
    code("""
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogx(np.arange(1, len(descent.loss_curve_) + 1), descent.loss_curve_,
            label="gradient descent")
ax.axhline(closed.loss_curve_[-1], ls="--", color="k", label="closed form")
ax.set_xlabel("iteration")
ax.set_ylabel("mean squared error")
ax.set_title("loss curve of gradient descent (diabetes)")
ax.legend();
"""),
    md("""
## Collinear features

With x1 = x0 only w0 + w1 is determined: wonderland warns and returns the minimum-norm
solution, which splits the sum equally between the two; ridge regression (adding
α‖w‖² to the sum of squared errors, `alpha=1.0`) makes the minimum unique, and shrinks
it a little.
"""),
    code("""
data = wonderland.data.make_collinear(100, 3, seed=1)
Xc, yc = data.numpy()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    ols = linear.LinearRegression().fit(Xc, yc)
print(f"{caught[0].category.__name__}: {caught[0].message}")
print("true:", data.true_coef.numpy().round(3))
print("minimum norm:", ols.coef_.round(3))
print("ridge:", linear.Ridge(alpha=1.0).fit(Xc, yc).coef_.round(3))
"""),
    md("""
The true w0 + w1 = 1.168; the minimum-norm solution has 2 × 0.577 = 1.154, as close as
the noise allows, but neither half alone is the true coefficient.

## Logistic regression

On the breast cancer data (features standardized with the training statistics, so that a
coefficient is the change of the log-odds per standard deviation of its feature): the
sigmoid of a linear score, trained on the binary cross-entropy plus a small L2 penalty
(`alpha=1e-2`).
"""),
    code("""
ds = wonderland.data.load_breast_cancer()
train, test = ds.split(test_size=0.3, seed=0)
Xtr, ytr = train.numpy()
Xte, yte = test.numpy()
mean, std = Xtr.mean(0), Xtr.std(0)
clf = linear.LogisticRegression(alpha=1e-2).fit((Xtr - mean) / std, ytr)
print(f"train accuracy: {clf.score((Xtr - mean) / std, ytr):.1%}")
print(f"test accuracy:  {clf.score((Xte - mean) / std, yte):.1%}")
top = np.argsort(-np.abs(clf.coef_[0]))[:5]
for i in top:
    print(f"{ds.feature_names[i]:22s} log-odds per std {clf.coef_[0, i]:+.3f}")
"""),
    md("""
The target is 1 for benign, so the log-odds are those of *benign*: the largest
coefficients are all negative, larger and more irregular tumours being more likely
malignant.

A model on two of the features can be drawn: the predicted probability as shading, the
decision boundary P = 0.5 as a line. Fitting on a DataFrame gives the axes the
features' names. With the labels as strings, the classes are sorted, `benign` before
`malignant`, and the probability shown is that of the second class, *malignant*: the
opposite sense to the coefficients above.
"""),
    code("""
import pandas as pd

two_features = pd.DataFrame(Xtr, columns=ds.feature_names)[["worst radius",
                                                          "worst concave points"]]
labels = np.where(ytr > 0.5, "benign", "malignant")
two = linear.LogisticRegression().fit(two_features, labels)
fig = wl.plot.decision_boundary(two, two_features, labels)
fig
"""),
    summary("05_linear_and_logistic_regression.ipynb", """
- Least squares has a closed form, and gradient descent reaches the same coefficients.
- With collinear features the least-squares solution is not unique: wonderland warns and
  returns the minimum-norm one; ridge regression makes it unique.
- Logistic regression is a linear score through a sigmoid, trained on the binary
  cross-entropy; on standardized features each coefficient is a change of log-odds per
  standard deviation, and over two features its decision boundary is a line.
"""),
]

# ----------------------------------------------------------------------------- 6. pre-trained
NOTEBOOKS["06_pretrained_features.ipynb"] = [
    md("""
# 6. Pre-trained features, few-shot learning and fine-tuning

Pre-train a small network on digits 0–4, freeze it, and use its hidden layer as an
embedding for digits 5–9, which it never saw, with only a few labelled examples per
class. The network (16 convolutional 3 × 3 filters, ReLU, 4 × 4 max-pooling, a linear
layer) is `wonderland.tour.digits.ConvNet`, built from wonderland tensors; here we train
it with `wl.optim.Adam` ourselves. The digits are scikit-learn's 8 × 8 images; the
embedding is the pooled output of the filters, 16 channels × 2 × 2 cells = 64 numbers
per image.
"""),
    SETUP_NO_PLOTS,
    code("""
import wonderland.linear as linear
import wonderland.losses as L
from wonderland.tour import digits

X, y = digits.load_digits()
old, new = y < 5, y >= 5
net = digits.ConvNet(channels=16, classes=5, seed=0)
opt = wl.optim.Adam(net.params, lr=1e-2)
rng = np.random.default_rng(0)
Xo, yo = X[old], y[old]
for _epoch in range(10):
    # data augmentation: shift by up to a pixel; patches() cuts the 3 x 3 window around
    # each pixel, so that the convolution is a matrix product
    P = digits.patches(digits.jitter(Xo, rng))
    for rows in np.array_split(rng.permutation(len(yo)), 7):   # 7 mini-batches an epoch
        opt.zero_grad()
        scores = net.features(P[rows]) @ net.weight + net.offset   # embedding, linear head
        loss = L.cross_entropy(scores, yo[rows])
        loss.backward()
        opt.step()
print(f"training accuracy on 0-4: {np.mean(net.predict(Xo) == yo):.1%}")
"""),
    md("""
The new digits arrive off-centre (shifted by up to a pixel). A linear head
(`LogisticRegression`) on 5 examples per class: raw pixels against the frozen embedding
(`net.embed`). 400 images are held out for testing; the few labelled examples are drawn
from the rest, four times, and the accuracies averaged (chance is 20%).
"""),
    code("""
Xn, yn = digits.jitter(X[new], np.random.default_rng(1)), y[new] - 5   # classes 0-4 again
order = np.random.default_rng(2).permutation(len(yn))
test_rows, pool = order[:400], order[400:]
accuracy = {"raw pixels": [], "embedding": []}
for draw in range(4):
    pick = np.random.default_rng(100 + draw)
    shots = np.concatenate([pick.choice(pool[yn[pool] == c], 5, replace=False)
                            for c in range(5)])
    for name, F in (("raw pixels", Xn), ("embedding", net.embed(Xn))):
        head = linear.LogisticRegression(alpha=1e-2).fit(F[shots], yn[shots])
        accuracy[name].append(head.score(F[test_rows], yn[test_rows]))
for name, values in accuracy.items():
    print(f"5-shot, {name:10s}: {np.mean(values):.1%} "
          f"(draws: {', '.join(f'{v:.0%}' for v in values)})")
"""),
    md("""
Features learnt on other digits beat raw pixels by a wide margin with the same 25
examples.

Fine-tuning: copy the pre-trained network, give it a fresh head for the five new classes
and train everything (the filters with a smaller step than the head) on the few examples
of the last draw.
"""),
    code("""
tuned = net.copy()
tuned.new_head(5)
digits.train(tuned, Xn[shots], yn[shots], epochs=40, lr=3e-3, head_lr=3e-2,
             weight_decay=1e-3)
print(f"frozen embedding, same draw: {accuracy['embedding'][-1]:.1%}")
print(f"fine-tuned, 5-shot:          {np.mean(tuned.predict(Xn[test_rows]) == yn[test_rows]):.1%}")
"""),
    md("""
With only 25 examples, fine-tuning gains little over a linear head on the frozen
embedding (compare the same draw): with so few examples the filters barely improve, and
the pre-trained features do the heavy lifting.
"""),
    summary("06_pretrained_features.ipynb", """
- A network trained on one task (digits 0–4) gives an embedding that helps on another
  (digits 5–9): with 5 examples per class, a linear head on it beats one on raw pixels
  by about 25 points.
- The training loop is the one of the text: `zero_grad()`, a loss, `backward()`,
  `step()`, here with Adam on mini-batches of augmented images.
- Fine-tuning trains the whole copied network; with this few examples it adds little to
  the frozen features.
"""),
]


def build() -> dict[str, nbformat.NotebookNode]:
    """Every notebook, outputs empty."""
    books = {}
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=[nbformat.from_dict(copy.deepcopy(dict(c))) for c in cells])
        nb.metadata["kernelspec"] = dict(KERNEL)
        nb.metadata["language_info"] = {"name": "python"}
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"{Path(name).stem[:2]}-{i:02d}"
        books[name] = nb
    return books


def main(argv: list[str]) -> int:
    stale = []
    for name, nb in build().items():
        path = HERE / name
        text = nbformat.writes(nb) + "\n"
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("out of date:", ", ".join(stale), "(run python examples/_make_notebooks.py)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
