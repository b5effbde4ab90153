"""``wonderland practice``: the text's practice exercise, run as a command.

``f(x) = sin(x1) cos(x2) + sin(x1/2) cos(x2/2)`` on ``[0, 10]²``, vectorized (``X ~ (n, 2)
-> (n,)``), its hand-written gradient, autodiff checked against it, then plain gradient
descent and momentum from N starting points: figures and a printed summary. The same
exercise runs on NumPy (hand gradient), PyTorch or JAX ("replicate it thrice").
"""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import wonderland as wl

FRAMEWORKS = ("wonderland", "numpy", "torch", "jax")
FIGURES = ("paths.png", "paths_momentum.png", "grad_norms.png")
BOX = (0.0, 10.0)


def practice_function(X: Any, m: Any = wl) -> Any:
    """The exercise's function, rows of ``X`` are points: ``(n, 2) -> (n,)``.

    ``m`` is the array module (``wl``, ``numpy``, ``torch``, ``jax.numpy``).

    Examples
    --------
    >>> import numpy as np
    >>> float(practice_function(np.array([[0.0, 0.0]]), np)[0])
    0.0
    """
    x1, x2 = X[:, 0], X[:, 1]
    return m.sin(x1) * m.cos(x2) + m.sin(0.5 * x1) * m.cos(0.5 * x2)


def practice_gradient(X: np.ndarray) -> np.ndarray:
    """The gradient of ``practice_function`` by hand, row by row.

    Examples
    --------
    >>> import numpy as np
    >>> practice_gradient(np.array([[0.0, 0.0]])).tolist()
    [[1.5, -0.0]]
    """
    x1, x2 = X[:, 0], X[:, 1]
    g = np.empty_like(X)
    g[:, 0] = np.cos(x1) * np.cos(x2) + 0.5 * np.cos(0.5 * x1) * np.cos(0.5 * x2)
    g[:, 1] = -np.sin(x1) * np.sin(x2) - 0.5 * np.sin(0.5 * x1) * np.sin(0.5 * x2)
    return g


def value_and_gradient(framework: str) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``X -> (f(X), ∇f(X))`` computed by ``framework`` (NumPy: the hand gradient)."""
    if framework == "numpy":
        return lambda X: (practice_function(X, np), practice_gradient(X))
    if framework == "wonderland":
        value_grad = wl.value_and_grad(lambda X: practice_function(X).sum())

        def wonderland_vg(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return practice_function(X, np), value_grad(X)[1].numpy()

        return wonderland_vg
    if framework == "torch":
        torch = _require("torch")

        def torch_vg(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            t = torch.tensor(X, requires_grad=True)
            values = practice_function(t, torch)
            values.sum().backward()
            return values.detach().numpy(), t.grad.numpy()

        return torch_vg
    if framework == "jax":
        jax = _require("jax")
        jax.config.update("jax_enable_x64", True)
        jnp = jax.numpy
        grad = jax.jit(jax.grad(lambda X: practice_function(X, jnp).sum()))
        return lambda X: (practice_function(X, np), np.asarray(grad(jnp.asarray(X))))
    raise ValueError(f"unknown framework {framework!r}; choose from {', '.join(FRAMEWORKS)}")


class FrameworkMissing(RuntimeError):
    """A framework asked for on the command line is not installed."""


def _require(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        hint = "pip install torch==2.13.0" if name == "torch" else "pip install jax"
        raise FrameworkMissing(f"--framework {name} needs {name}, which is not installed "
                               f"({hint})") from None


@dataclass
class Descent:
    """Batched descent paths, as ``wl.optim.minimize`` reports them."""

    paths: list[np.ndarray]
    values: np.ndarray
    grad_norms: list[np.ndarray]
    n_iter: np.ndarray
    reason: list[str]


def descend(framework: str, X0: np.ndarray, lr: float, momentum: float, steps: int,
            tol_grad: float) -> Descent:
    """Heavy ball (``momentum=0``: plain GD) from every row of ``X0``, each row stopping on
    its own ``‖∇f‖ < tol_grad``. wonderland runs ``wl.optim.minimize``; the other
    frameworks run the same recurrence with their own gradients."""
    if framework == "wonderland":
        method = "momentum" if momentum > 0 else "gd"
        res = wl.optim.minimize(practice_function, X0, method=method, lr=lr, momentum=momentum,
                                max_iter=steps, tol_grad=tol_grad, batched=True)
        n_iter = np.asarray(res.n_iter)
        return Descent(
            paths=[res.trace.x[i, : n_iter[i] + 1] for i in range(len(X0))],
            values=np.asarray(res.fun), n_iter=n_iter, reason=list(res.reason),
            grad_norms=[res.trace.grad_norm[i, : n_iter[i] + 1] for i in range(len(X0))])
    value_grad = value_and_gradient(framework)
    X = X0.copy()
    velocity = np.zeros_like(X)
    values, g = value_grad(X)
    norms = np.linalg.norm(g, axis=1)
    active = norms >= tol_grad
    n_iter = np.zeros(len(X), dtype=int)
    paths, norm_trace = [X.copy()], [norms.copy()]
    for t in range(1, steps + 1):
        if not active.any():
            break
        velocity = np.where(active[:, None], -lr * g + momentum * velocity, 0.0)
        X = X + velocity
        new_values, new_g = value_grad(X)
        values = np.where(active, new_values, values)
        g = np.where(active[:, None], new_g, g)
        norms = np.linalg.norm(g, axis=1)
        n_iter[active] = t
        paths.append(X.copy())
        norm_trace.append(norms.copy())
        active &= norms >= tol_grad
    stacked, norm_stack = np.stack(paths, axis=1), np.stack(norm_trace, axis=1)
    return Descent(
        paths=[stacked[i, : n_iter[i] + 1] for i in range(len(X0))], values=values,
        grad_norms=[norm_stack[i, : n_iter[i] + 1] for i in range(len(X0))], n_iter=n_iter,
        reason=["tol_grad" if n < tol_grad else "max_iter" for n in norms])


def check_autodiff(framework: str, X: np.ndarray) -> float:
    """Largest difference between the framework's gradient and the hand gradient."""
    _, g = value_and_gradient(framework)(X)
    return float(np.max(np.abs(g - practice_gradient(X))))


def run(starts: int = 20, steps: int = 200, lr: float = 0.1, momentum: float = 0.9,
        framework: str = "wonderland", out: str = "practice", seed: int = 0,
        tol_grad: float = 1e-6, echo: Callable[[str], None] = print) -> dict[str, Descent]:
    """The whole exercise: check, descend (GD and momentum), plot, summarize."""
    X0 = np.random.default_rng(seed).uniform(*BOX, size=(starts, 2))
    error = check_autodiff(framework, X0)
    echo(f"practice on {framework}: f(x) = sin(x1)cos(x2) + sin(x1/2)cos(x2/2), "
         f"{starts} starts in [0, 10]^2")
    echo(f"gradient check against the hand-written gradient: max |difference| = {error:.2e}")
    if error > 1e-8:
        raise RuntimeError(f"{framework}'s gradient differs from the hand gradient by {error}")
    runs = {"gd": descend(framework, X0, lr, 0.0, steps, tol_grad),
            "momentum": descend(framework, X0, lr, momentum, steps, tol_grad)}
    os.makedirs(out, exist_ok=True)
    f = practice_function
    for name, filename in (("gd", "paths.png"), ("momentum", "paths_momentum.png")):
        title = (f"gradient descent, lr={lr}" if name == "gd"
                 else f"momentum, lr={lr}, λ={momentum}")
        fig = wl.plot.contour_paths(f, runs[name].paths, BOX, BOX, title=f"{title} ({framework})")
        fig.savefig(os.path.join(out, filename), dpi=110)
    fig = wl.plot.grad_norms([], title="‖∇f(x_t)‖, GD (blue) and momentum (orange)")
    ax = fig.axes[0]
    for name, color in (("gd", "tab:blue"), ("momentum", "tab:orange")):
        for i, norms in enumerate(runs[name].grad_norms):
            ax.plot(np.arange(norms.size), np.maximum(norms, 1e-300), color=color,
                    linewidth=0.8, alpha=0.7, label=name if i == 0 else None)
    ax.legend()
    fig.savefig(os.path.join(out, "grad_norms.png"), dpi=110)
    for name, descent in runs.items():
        echo(f"\n{name}: start -> end, f, |grad f|, iterations, reason")
        for i in range(starts):
            start, end = descent.paths[i][0], descent.paths[i][-1]
            echo(f"  ({start[0]:5.2f}, {start[1]:5.2f}) -> ({end[0]:6.3f}, {end[1]:6.3f})  "
                 f"f = {descent.values[i]: .4f}  |grad| = {descent.grad_norms[i][-1]:.1e}  "
                 f"{int(descent.n_iter[i]):4d}  {descent.reason[i]}")
    written = [os.path.join(out, name) for name in FIGURES]
    echo(f"\nwrote {', '.join(written)}")
    return runs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--starts", type=int, default=20, help="starting points (default 20)")
    parser.add_argument("--steps", type=int, default=200, help="most steps per start (200)")
    parser.add_argument("--lr", type=float, default=0.1, help="step size η (0.1)")
    parser.add_argument("--momentum", type=float, default=0.9, help="momentum λ (0.9)")
    parser.add_argument("--framework", choices=FRAMEWORKS, default="wonderland",
                        help="who computes the gradient (default wonderland)")
    parser.add_argument("--out", default="practice", help="folder for the figures")
    parser.add_argument("--seed", type=int, default=0, help="seed of the starting points")


def validate(args: argparse.Namespace) -> str | None:
    """The first problem with the arguments, as one line, or None."""
    if args.starts < 1:
        return f"--starts must be at least 1, got {args.starts}"
    if args.steps < 1:
        return f"--steps must be at least 1, got {args.steps}"
    if not args.lr > 0 or not np.isfinite(args.lr):
        return f"--lr must be a positive number, got {args.lr}"
    if not 0 <= args.momentum < 1:
        return f"--momentum must be in [0, 1), got {args.momentum}"
    return None
