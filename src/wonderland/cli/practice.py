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
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import wonderland as wl

from ..atomic import write_atomically
from .common import (
    CommandError,
    command_parser,
    int_at_least,
    output_folder,
    positive_float,
    unit_interval,
    warn,
)

FRAMEWORKS = ("wonderland", "numpy", "torch", "jax")
FIGURES = ("paths.png", "paths_momentum.png", "grad_norms.png")
BOX = (0.0, 10.0)
DEFAULT_OUT = "practice"  # relative to the working folder; listed in .gitignore
GRADIENT_TOLERANCE = 1e-8
#: Most points the descents record (starts × (steps + 1), each run): about 320 MB of
#: float64 coordinates, far above the exercise's needs; more would exhaust memory late.
MAX_POINTS = 20_000_000


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


AUTODIFF_NAMES = {"wonderland": "wonderland autodiff",
                  "numpy": "wonderland autodiff of the NumPy code",
                  "torch": "PyTorch autograd", "jax": "jax.grad"}


def autodiff_gradient(framework: str, compile: bool = False  # noqa: A002
                      ) -> Callable[[np.ndarray], np.ndarray]:
    """``X -> ∇f(X)`` by automatic differentiation, for the check against the hand gradient.

    ``"numpy"`` differentiates the NumPy code itself (``np.sin``, ``np.cos``) with
    wonderland's transforms, so that the hand gradient the NumPy run descends with is
    checked against autodiff too. ``compile`` runs wonderland's gradient compiled
    (``wl.compile``).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> bool(np.allclose(autodiff_gradient("numpy")(X), practice_gradient(X)))
    True
    """
    maybe_compiled = wl.compile if compile else (lambda f: f)
    if framework == "wonderland":
        grad = maybe_compiled(wl.grad(lambda X: practice_function(X).sum()))
        return lambda X: grad(X).numpy()
    if framework == "numpy":
        grad_np = maybe_compiled(wl.grad(lambda X: practice_function(X, np).sum()))
        return lambda X: np.asarray(grad_np(X).numpy())
    if framework == "torch":
        torch = _require("torch")

        def torch_grad(X: np.ndarray) -> np.ndarray:
            t = torch.tensor(X, requires_grad=True)
            practice_function(t, torch).sum().backward()
            return t.grad.numpy()

        return torch_grad
    if framework == "jax":
        jax = _require("jax")
        jax.config.update("jax_enable_x64", True)
        jnp = jax.numpy
        grad_jax = jax.jit(jax.grad(lambda X: practice_function(X, jnp).sum()))
        return lambda X: np.asarray(grad_jax(jnp.asarray(X)))
    raise ValueError(f"unknown framework {framework!r}; choose from {', '.join(FRAMEWORKS)}")


def value_and_gradient(framework: str) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``X -> (f(X), ∇f(X))`` as ``framework`` computes it for the descent: NumPy with the
    hand gradient, the others with their autodiff.

    Examples
    --------
    >>> import numpy as np
    >>> f, g = value_and_gradient("numpy")(np.array([[0.0, 0.0]]))
    >>> f.tolist(), g.tolist()
    ([0.0], [[1.5, -0.0]])
    """
    if framework == "numpy":
        return lambda X: (practice_function(X, np), practice_gradient(X))
    gradient = autodiff_gradient(framework)
    return lambda X: (practice_function(X, np), gradient(X))


class FrameworkMissing(CommandError, RuntimeError):
    """A framework asked for on the command line is not installed (exit status 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=2)


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
            tol_grad: float, compile: bool = False) -> Descent:  # noqa: A002
    """Heavy ball (``momentum=0``: plain GD) from every row of ``X0``, each row stopping on
    its own ``‖∇f‖ < tol_grad``. wonderland runs ``wl.optim.minimize`` (its steps compiled
    with ``compile``); the other frameworks run the same recurrence with their own
    gradients."""
    if framework == "wonderland":
        method = "momentum" if momentum > 0 else "gd"
        res = wl.optim.minimize(practice_function, X0, method=method, lr=lr, momentum=momentum,
                                max_iter=steps, tol_grad=tol_grad, batched=True,
                                compile=compile)
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
    diverged = np.zeros(len(X), dtype=bool)
    n_iter = np.zeros(len(X), dtype=int)
    paths, norm_trace = [X.copy()], [norms.copy()]
    for t in range(1, steps + 1):
        if not active.any():
            break
        velocity = np.where(active[:, None], -lr * g + momentum * velocity, 0.0)
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is a reason below
            new_X = X + velocity
            new_values, new_g = value_grad(new_X)
        # as wl.optim.minimize: a row that reaches inf or NaN stops, "diverged", at its
        # last finite point (its path would otherwise go on as NaN, "max_iter")
        finite = (np.isfinite(new_X).all(axis=1) & np.isfinite(new_values)
                  & np.isfinite(new_g).all(axis=1))
        diverged |= active & ~finite
        moving = active & finite
        X = np.where(moving[:, None], new_X, X)
        values = np.where(moving, new_values, values)
        g = np.where(moving[:, None], new_g, g)
        norms = np.linalg.norm(g, axis=1)
        n_iter[moving] = t
        paths.append(X.copy())
        norm_trace.append(norms.copy())
        active = moving & (norms >= tol_grad)
    stacked, norm_stack = np.stack(paths, axis=1), np.stack(norm_trace, axis=1)
    return Descent(
        paths=[stacked[i, : n_iter[i] + 1] for i in range(len(X0))], values=values,
        grad_norms=[norm_stack[i, : n_iter[i] + 1] for i in range(len(X0))], n_iter=n_iter,
        reason=["diverged" if lost else "tol_grad" if n < tol_grad else "max_iter"
                for lost, n in zip(diverged, norms)])


def check_autodiff(framework: str, X: np.ndarray, compile: bool = False  # noqa: A002
                   ) -> float:
    """Largest difference between the framework's autodiff gradient (see
    :func:`autodiff_gradient`) and the hand-written gradient, over the rows of ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> check_autodiff("numpy", np.array([[1.0, 2.0], [3.0, 4.0]])) < 1e-12
    True
    >>> check_autodiff("wonderland", np.array([[1.0, 2.0]]), compile=True) < 1e-12
    True
    """
    g = autodiff_gradient(framework, compile)(X)
    return float(np.max(np.abs(g - practice_gradient(X))))


def _number(value: float, width: int, decimals: int) -> str:
    """``value`` in ``width`` columns: fixed-point while it fits, else in exponent form
    (a path that ran off to 1e300 printed 300 digits)."""
    fixed = f"{value:{width}.{decimals}f}"
    return fixed if len(fixed) <= width else f"{value:{width}.{decimals - 1}e}"


def _summary_lines(name: str, descent: Descent) -> list[str]:
    # each column as wide as its widest entry: an end point in exponent form is wider
    columns = [[_number(path[-1][0], 6, 3) for path in descent.paths],
               [_number(path[-1][1], 6, 3) for path in descent.paths],
               [_number(value, 7, 4) for value in descent.values]]
    x1, x2, f = ([entry.rjust(max(map(len, column))) for entry in column] for column in columns)
    lines = [f"\n{name}: start -> end, f, |grad f|, iterations, reason"]
    for i, path in enumerate(descent.paths):
        start = path[0]
        lines.append(f"  ({start[0]:5.2f}, {start[1]:5.2f}) -> ({x1[i]}, {x2[i]})  f = {f[i]}  "
                     f"|grad| = {descent.grad_norms[i][-1]:.1e}  "
                     f"{int(descent.n_iter[i]):4d}  {descent.reason[i]}")
    return lines


def _divergence_warning(runs: dict[str, Descent], lr: float) -> str | None:
    """The message (one line, without ``warning:``) when starts diverged (overflowed) or
    ended far outside the box, with the likely cure; None when every path stayed near it.
    :func:`exercise` writes it on stderr, as every command's warnings."""
    far = BOX[1] - BOX[0]
    counts = []
    for name, descent in runs.items():
        lost = sum(reason == "diverged" or not np.all(np.abs(path[-1]) < 10 * far)
                   for reason, path in zip(descent.reason, descent.paths))
        if lost:
            counts.append(f"{lost} of {len(descent.paths)} {name} starts")
    if not counts:
        return None
    return (f"{' and '.join(counts)} diverged or ran far from [0, 10]^2; "
            f"--lr {lr:g} is likely too large for this function (try 0.1)")


def _draw(runs: dict[str, Descent], framework: str, starts: int, lr: float,
          momentum: float, out: str) -> None:
    """Write ``FIGURES`` into ``out``: the two runs' paths and their gradient norms."""
    titles = {"gd": f"gradient descent, η = {lr}",
              "momentum": f"momentum, η = {lr}, λ = {momentum}"}
    for name, filename in (("gd", "paths.png"), ("momentum", "paths_momentum.png")):
        fig = wl.plot.contour_paths(
            practice_function, runs[name].paths, BOX, BOX,
            title=f"{titles[name]} ({framework}), {starts} starts")
        _save_png(fig, os.path.join(out, filename))
    fig = wl.plot.grad_norms(
        {"gradient descent": runs["gd"].grad_norms, f"momentum, λ = {momentum}":
         runs["momentum"].grad_norms},
        title=f"‖∇f(x_t)‖ along the descent, η = {lr} ({framework}), {starts} starts")
    _save_png(fig, os.path.join(out, "grad_norms.png"))


def _save_png(fig: Any, path: str) -> None:
    """``fig`` as a PNG written whole (two runs into one folder: never a mixed file)."""
    write_atomically(path, lambda fh: fig.savefig(fh, format="png", dpi=110), binary=True)


def exercise(starts: int = 20, steps: int = 200, lr: float = 0.1, momentum: float = 0.9,
             framework: str = "wonderland", out: str = "practice", seed: int = 0,
             tol_grad: float = 1e-6, echo: Callable[[str], None] = print,
             compile: bool = False) -> dict[str, Descent]:  # noqa: A002
    """The whole exercise: check autodiff against the hand gradient, descend (GD and
    momentum) from ``starts`` points drawn with ``seed``, write ``FIGURES`` into ``out``,
    print a summary through ``echo``; starts that diverged (``--lr`` too large) are
    warned of on stderr, one line ``wonderland practice: warning: ...``, as every
    command's warnings (stdout keeps the report). Raises :class:`CommandError` when the
    gradients disagree. ``compile`` runs wonderland's gradient and descent steps compiled
    (``wl.compile``; frameworks wonderland and numpy).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:  # doctest: +SKIP
    ...     runs = exercise(starts=3, steps=20, out=tmp)
    """
    if compile and framework not in ("wonderland", "numpy"):
        raise CommandError(f"--compile compiles wonderland's own code; it applies to "
                           f"--framework wonderland or numpy, not {framework}", status=2)
    if starts * (steps + 1) > MAX_POINTS:
        raise CommandError(f"--starts {starts} with --steps {steps} would record "
                           f"{starts * (steps + 1):.3g} points per run, more than "
                           f"{MAX_POINTS:.3g}; use fewer starts or steps", status=2)
    X0 = np.random.default_rng(seed).uniform(*BOX, size=(starts, 2))
    error = check_autodiff(framework, X0, compile)
    echo(f"practice on {framework}: f(x) = sin(x1)cos(x2) + sin(x1/2)cos(x2/2), "
         f"{starts} starts in [0, 10]^2" + (", compiled (wl.compile)" if compile else ""))
    echo(f"gradient check, {AUTODIFF_NAMES[framework]} against the hand-written gradient: "
         f"max |difference| = {error:.2e}")
    if not error <= GRADIENT_TOLERANCE:
        raise CommandError(f"the gradient check failed: {AUTODIFF_NAMES[framework]} and the "
                           f"hand-written gradient differ by {error:.3g} "
                           f"(more than {GRADIENT_TOLERANCE:g})")
    try:  # before the descents: a folder that cannot be made is the user's input (status 2)
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"--out: cannot create {out!r}: {exc.strerror or exc}",
                           status=2) from None
    runs = {"gd": descend(framework, X0, lr, 0.0, steps, tol_grad, compile),
            "momentum": descend(framework, X0, lr, momentum, steps, tol_grad, compile)}
    with warnings.catch_warnings():  # huge axis limits of diverged paths: said once below
        warnings.simplefilter("ignore", RuntimeWarning)
        _draw(runs, framework, starts, lr, momentum, out)
    for name, descent in runs.items():
        for line in _summary_lines(name, descent):
            echo(line)
    warning = _divergence_warning(runs, lr)
    if warning:
        warn(warning, "wonderland practice")
    written = [os.path.join(out, name) for name in FIGURES]
    echo(f"\nwrote {', '.join(written)}")
    return runs


# ---------------------------------------------------------------- the command

SUMMARY = "the practice exercise: GD and momentum on a 2-D function, with figures"
DESCRIPTION = """\
The text's practice exercise: f(x) = sin(x1)cos(x2) + sin(x1/2)cos(x2/2) on [0, 10]^2,
vectorized over rows. It checks the framework's automatic gradient against the
hand-written one (and stops with status 1 if they differ), runs plain gradient descent
and momentum from --starts random points, prints per start the end point, f, |grad f|,
the iterations and the stopping reason, and writes paths.png and paths_momentum.png
(descent paths over the contour map) and grad_norms.png into --out. --framework numpy
descends with the hand-written gradient, checked against wonderland's autodiff of the
NumPy code; torch and jax replicate the exercise with their own autodiff. --compile runs
wonderland's gradient and descent steps as code generated by wl.compile (the same
numbers, faster)."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``wonderland practice`` and its options; bad values are refused by the
    parser, naming the option and the value.

    Examples
    --------
    >>> from wonderland.cli.common import Parser
    >>> sub = Parser(prog="wonderland").add_subparsers(parser_class=Parser)
    >>> args = add_parser(sub).parse_args(["--steps", "5"])
    >>> args.steps, args.lr, args.out, args.compile
    (5, 0.1, 'practice', False)
    """
    parser = command_parser(subparsers, "practice", SUMMARY, DESCRIPTION)
    parser.add_argument("--starts", type=int_at_least(1), default=20, metavar="N",
                        help="starting points, drawn uniformly in [0, 10]^2 (N × (T + 1) "
                             "at most 2e7)")
    parser.add_argument("--steps", type=int_at_least(1), default=200, metavar="T",
                        help="most steps per start (a start stops earlier when "
                             "|grad f| < 1e-6)")
    parser.add_argument("--lr", type=positive_float, default=0.1, metavar="ETA",
                        help="step size η, a positive number")
    parser.add_argument("--momentum", type=unit_interval, default=0.9, metavar="LAMBDA",
                        help="momentum λ in [0, 1) of the second run (the first is plain GD)")
    parser.add_argument("--framework", choices=FRAMEWORKS, default="wonderland",
                        help="who computes the gradient: numpy uses the hand-written one")
    parser.add_argument("--out", type=output_folder, default=DEFAULT_OUT, metavar="DIR",
                        help=f"folder for {', '.join(FIGURES)} (created if missing)")
    parser.add_argument("--seed", type=int_at_least(0), default=0,
                        help="seed of the starting points, a whole number >= 0")
    parser.add_argument("--compile", action="store_true",
                        help="run wonderland's gradient and descent steps compiled "
                             "(wl.compile); frameworks wonderland and numpy")
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``wonderland practice`` with parsed ``args``; returns the exit status.

    Examples
    --------
    >>> args = argparse.Namespace(starts=3, steps=20, lr=0.1, momentum=0.9,
    ...                           framework="numpy", out="/tmp/practice", seed=0)
    >>> run(args)  # doctest: +SKIP
    0
    """
    exercise(starts=args.starts, steps=args.steps, lr=args.lr, momentum=args.momentum,
             framework=args.framework, out=args.out, seed=args.seed,
             compile=getattr(args, "compile", False))
    return 0
