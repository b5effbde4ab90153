"""The workloads W1–W8: the same work for wonderland, its limit and its peers.

Each ``wN(quick)`` builds its data from a fixed seed and returns a :class:`Workload`: its
rows (:class:`Case`), each with a ``build()`` that does the untimed set-up and returns the
thunks to time. The limit is the hand-written NumPy / plain-Python version of the same
work (scikit-learn for W8). Peers import their module inside ``build()``, only when asked
for; wonderland rows use only the public API (``import wonderland as wl``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import wonderland as wl
from wonderland.cli.practice import practice_function, practice_gradient

Thunks = dict[str, Callable[[], Any]]


class NotAvailable(Exception):
    """A wonderland feature a row needs is missing from this install: the row says
    ``not available: <reason>`` instead of failing."""


@dataclass
class Case:
    """One row of the table: one implementation of one workload.

    ``impl`` is ``"numpy"`` (hand-written), ``"wonderland"`` or a peer name; ``role`` is
    ``"limit"`` (the ratio base, always run), ``"impl"`` or ``"info"`` (shown, no ratio);
    ``pair`` is the label of the PyTorch row a wonderland row is compared with (default:
    the workload's first PyTorch row).
    """

    impl: str
    label: str
    build: Callable[[], Thunks]
    role: str = "impl"
    pair: str | None = None


@dataclass
class Target:
    """A goal a wonderland row is reported against (never asserted): its ``kind``
    (``"time"`` or ``"memory"``) of thunk ``thunk`` over the limit's, at most ``at_most``;
    the row labelled ``row``, else wonderland's first."""

    text: str
    kind: str
    thunk: str
    at_most: float
    row: str | None = None


@dataclass
class Workload:
    """One workload: its rows and how their medians become the table's number.

    ``value`` maps a row's medians (seconds, by thunk name) to its figure in ``unit``;
    ``check`` compares a row's results (NumPy, by thunk name) with the right answer and
    returns ``(text, error)``; ``memory`` names the thunk whose peak of traced allocations
    is measured for the limit and wonderland rows; ``limit_is_answer`` is false where the
    limit is only an amount of work (its result is not checked).
    """

    wid: str
    title: str
    unit: str
    rounds: int
    cases: list[Case]
    value: Callable[[dict[str, float]], float]
    check: Callable[[dict[str, Any]], tuple[str, float | None]] | None = None
    notes: Callable[[dict[str, float], dict[str, Any]], str] | None = None
    sizes: dict[str, Any] = field(default_factory=dict)
    memory: str | None = None
    limit_is_answer: bool = True
    vs_torch: bool = False
    targets: list[Target] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- helpers


def to_numpy(x: Any) -> Any:
    """Any implementation's result as NumPy (tuples and lists become tuples).

    Examples
    --------
    >>> to_numpy((wl.tensor([1.0, 2.0]), 3.0))
    (array([1., 2.]), array(3.))
    """
    if isinstance(x, tuple | list):
        return tuple(to_numpy(v) for v in x)
    if hasattr(x, "detach") and not isinstance(x, np.ndarray):
        x = x.detach()  # a tensor of PyTorch or wonderland
    return np.asarray(x)


def relative_error(got: Any, want: Any) -> float:
    """``max |got - want| / max |want|`` over nested tuples; a shape mismatch raises.

    Examples
    --------
    >>> round(relative_error(np.array([1.0, 2.1]), np.array([1.0, 2.0])), 12)
    0.05
    """
    if isinstance(want, tuple):
        if not isinstance(got, tuple) or len(got) != len(want):
            raise ValueError("the result's structure differs from the limit's")
        return max(relative_error(g, w) for g, w in zip(got, want))
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        raise ValueError(f"shape {got.shape}, expected {want.shape}")
    return float(np.max(np.abs(got - want)) / max(float(np.max(np.abs(want))), 1e-300))


def close_to(expected: dict[str, Any], tol: float) -> Callable[[dict[str, Any]], tuple]:
    """A check: every thunk's result within ``tol`` (relative) of ``expected[thunk]``.

    Examples
    --------
    >>> close_to({"main": np.ones(2)}, 1e-9)({"main": np.ones(2)})
    ('ok', 0.0)
    """

    def check(results: dict[str, Any]) -> tuple[str, float | None]:
        try:
            err = max(relative_error(results[k], v) for k, v in expected.items())
        except (KeyError, ValueError) as exc:
            return f"BAD {exc}", None
        return ("ok" if err <= tol else f"BAD {err:.1e}"), err

    return check


def wl_compile(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``wl.compile(fn)``, or :class:`NotAvailable` where this wonderland has none."""
    if not callable(getattr(wl, "compile", None)):
        raise NotAvailable("wl.compile is not in this wonderland yet")
    return wl.compile(fn)


def wl_linear(name: str) -> Any:
    """The estimator class ``wl.linear.<name>``, imported on first use, or
    :class:`NotAvailable` saying why it cannot be.

    Examples
    --------
    >>> wl_linear("NoSuchModel")
    Traceback (most recent call last):
    ...
    wonderland.bench.workloads.NotAvailable: wonderland.linear has no NoSuchModel
    """
    try:
        module = importlib.import_module("wonderland.linear")
    except Exception as exc:  # noqa: BLE001 - being written: a row, not a failure
        raise NotAvailable(f"import wonderland.linear failed: {type(exc).__name__}: "
                           f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
    if not hasattr(module, name):
        raise NotAvailable(f"wonderland.linear has no {name}")
    return getattr(module, name)


def _pick(quick: bool, full: Any, small: Any) -> Any:
    return small if quick else full


# ---------------------------------------------------------------- W1


def w1_poly_gd(quick: bool) -> Workload:
    """W1: minimize ``2x⁴ + x³ − 3x²`` from ``x0 = 2``, ``lr = 1e-3``, 500 steps (20 quick).

    Examples
    --------
    >>> w = w1_poly_gd(quick=True)
    >>> w.wid, w.unit, w.cases[0].label
    ('W1', 'us/step', 'python, hand derivative (limit)')
    >>> round(w.cases[0].build()["main"](), 6)  # x after 20 steps, by the hand derivative
    1.338052
    """
    steps, lr, x0 = _pick(quick, 500, 20), 1e-3, 2.0

    def f(x: Any) -> Any:  # floats and every implementation's scalar tensor alike
        return 2 * x**4 + x**3 - 3 * x**2

    def limit() -> Thunks:
        def run() -> float:
            x = x0
            for _ in range(steps):
                x -= lr * (8 * x**3 + 3 * x**2 - 6 * x)
            return x

        return {"main": run}

    def torch_backward() -> Thunks:
        import torch

        def run() -> float:
            x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
            for _ in range(steps):
                f(x).backward()
                with torch.no_grad():
                    x -= lr * x.grad
                x.grad.zero_()
            return x.item()

        return {"main": run}

    def jax_grad(jit: bool) -> Callable[[], Thunks]:
        def build() -> Thunks:
            import jax
            import jax.numpy as jnp

            def step(x: Any) -> Any:
                return x - lr * jax.grad(f)(x)

            step = jax.jit(step) if jit else step

            def run() -> Any:
                x = jnp.asarray(x0)
                for _ in range(steps):
                    x = step(x)
                return x

            return {"main": run}

        return build

    def autograd_grad() -> Thunks:
        import autograd

        g = autograd.grad(f)

        def run() -> float:
            x = x0
            for _ in range(steps):
                x = x - lr * g(x)
            return x

        return {"main": run}

    def wl_backward() -> Thunks:
        def run() -> float:
            x = wl.tensor(x0, requires_grad=True)
            for _ in range(steps):
                f(x).backward()
                with wl.no_grad():
                    x -= lr * x.grad
                x.grad.zero_()
            return x.item()

        return {"main": run}

    def wl_grad() -> Thunks:
        g = wl.grad(f)

        def run() -> float:
            x = wl.tensor(x0)
            for _ in range(steps):
                x = x - lr * g(x)
            return x.item()

        return {"main": run}

    def wl_compiled() -> Thunks:
        step = wl_compile(lambda x: x - lr * wl.grad(f)(x))

        def run() -> Any:
            x = wl.tensor(x0)
            for _ in range(steps):
                x = step(x)
            return x

        return {"main": run}

    return Workload(
        "W1", "poly-gd", "us/step", _pick(quick, 9, 3),
        [
            Case("numpy", "python, hand derivative (limit)", limit, role="limit"),
            Case("torch", "torch eager, backward()", torch_backward),
            Case("jax", "jax eager, jax.grad", jax_grad(False)),
            Case("jax-jit", "jax jit, one call a step", jax_grad(True)),
            Case("autograd", "autograd.grad", autograd_grad),
            Case("wonderland", "wonderland backward()", wl_backward),
            Case("wonderland", "wonderland wl.grad", wl_grad),
            Case("wonderland", "wonderland compiled step", wl_compiled),
        ],
        value=lambda m: m["main"] * 1e6 / steps,
        check=close_to({"main": limit()["main"]()}, 1e-10),
        sizes=dict(steps=steps, lr=lr, x0=x0),
        vs_torch=True,
    )


# ---------------------------------------------------------------- W2


def w2_practice(quick: bool) -> Workload:
    """W2: 200 heavy-ball steps (``lr = 0.1``, ``λ = 0.9``) on the practice function from
    1000 starting points in ``[0, 10]²`` (20 steps quick).

    Examples
    --------
    >>> w2_practice(quick=True).sizes
    {'n': 1000, 'steps': 20, 'lr': 0.1, 'momentum': 0.9}
    """
    n, steps, lr, lam = 1000, _pick(quick, 200, 20), 0.1, 0.9
    X0 = np.random.default_rng(2).uniform(0.0, 10.0, size=(n, 2))

    def f_sum(X: Any, m: Any) -> Any:
        return practice_function(X, m).sum()

    def limit() -> Thunks:
        def run() -> np.ndarray:
            X, v = X0.copy(), np.zeros_like(X0)
            for _ in range(steps):
                v = -lr * practice_gradient(X) + lam * v  # g_t = -lr ∇f + λ g_{t-1}
                X = X + v
            return X

        return {"main": run}

    def torch_sgd() -> Thunks:
        import torch

        def run() -> Any:  # SGD(momentum) is the same heavy ball for a constant lr
            X = torch.tensor(X0, requires_grad=True)
            opt = torch.optim.SGD([X], lr=lr, momentum=lam)
            for _ in range(steps):
                opt.zero_grad()
                f_sum(X, torch).backward()
                opt.step()
            return X

        return {"main": run}

    def jax_step(jit: bool) -> Callable[[], Thunks]:
        def build() -> Thunks:
            import jax
            import jax.numpy as jnp

            g = jax.grad(lambda X: f_sum(X, jnp))

            def step(X: Any, v: Any) -> tuple[Any, Any]:
                v = -lr * g(X) + lam * v
                return X + v, v

            step = jax.jit(step) if jit else step

            def run() -> Any:
                X, v = jnp.asarray(X0), jnp.zeros(X0.shape)
                for _ in range(steps):
                    X, v = step(X, v)
                return X

            return {"main": run}

        return build

    def autograd_grad() -> Thunks:
        import autograd
        import autograd.numpy as anp

        g = autograd.grad(lambda X: f_sum(X, anp))

        def run() -> np.ndarray:
            X, v = X0.copy(), np.zeros_like(X0)
            for _ in range(steps):
                v = -lr * g(X) + lam * v
                X = X + v
            return X

        return {"main": run}

    def wl_momentum() -> Thunks:
        def run() -> Any:
            X = wl.tensor(X0.copy(), requires_grad=True)
            opt = wl.optim.Momentum([X], lr=lr, momentum=lam)
            for _ in range(steps):
                opt.zero_grad()
                f_sum(X, wl).backward()
                opt.step()
            return X

        return {"main": run}

    def wl_compiled() -> Thunks:
        g = wl.grad(lambda X: f_sum(X, wl))

        def update(X: Any, v: Any) -> tuple[Any, Any]:
            v = -lr * g(X) + lam * v
            return X + v, v

        step = wl_compile(update)

        def run() -> Any:
            X, v = wl.tensor(X0.copy()), wl.zeros(X0.shape)
            for _ in range(steps):
                X, v = step(X, v)
            return X

        return {"main": run}

    return Workload(
        "W2", "practice", "ms/run", _pick(quick, 7, 3),
        [
            Case("numpy", "numpy, hand gradient (limit)", limit, role="limit"),
            Case("torch", "torch eager, optim.SGD(momentum)", torch_sgd),
            Case("jax", "jax eager, jax.grad", jax_step(False)),
            Case("jax-jit", "jax jit step", jax_step(True)),
            Case("autograd", "autograd.grad", autograd_grad),
            Case("wonderland", "wonderland optim.Momentum", wl_momentum),
            Case("wonderland", "wonderland compiled step", wl_compiled),
        ],
        value=lambda m: m["main"] * 1e3,
        check=close_to({"main": limit()["main"]()}, 1e-8),
        sizes=dict(n=n, steps=steps, lr=lr, momentum=lam),
    )


# ---------------------------------------------------------------- W3


def w3_lsq_gd(quick: bool) -> Workload:
    """W3: 100 GD steps on ``‖y − Xw‖²/n``, ``X ~ (100000, 100)`` (10 steps on 20000 rows
    quick).

    Examples
    --------
    >>> w = w3_lsq_gd(quick=True)
    >>> w.memory, [(t.at_most, t.row) for t in w.targets]
    ('main', [(1.25, None), (1.25, 'wonderland compiled step')])
    """
    n, d = _pick(quick, 100_000, 20_000), 100
    steps, lr = _pick(quick, 100, 10), 0.1  # the Hessian is about 2 I: lr = 0.1 is safe
    rng = np.random.default_rng(3)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)

    def limit() -> Thunks:
        def run() -> np.ndarray:
            w = np.zeros(d)
            for _ in range(steps):
                w -= lr * (2.0 / n) * (X.T @ (X @ w - y))  # two mat-vecs a step
            return w

        return {"main": run}

    def torch_backward() -> Thunks:
        import torch

        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

        def run() -> Any:
            w = torch.zeros(d, dtype=torch.float64, requires_grad=True)
            for _ in range(steps):
                ((yt - Xt @ w) ** 2).mean().backward()
                with torch.no_grad():
                    w -= lr * w.grad
                w.grad.zero_()
            return w

        return {"main": run}

    def jax_step(jit: bool) -> Callable[[], Thunks]:
        def build() -> Thunks:
            import jax
            import jax.numpy as jnp

            Xj, yj = jnp.asarray(X), jnp.asarray(y)  # set-up: a copy into JAX's buffers
            g = jax.grad(lambda w, X, y: jnp.mean((y - X @ w) ** 2))

            def step(w: Any, X: Any, y: Any) -> Any:  # data as arguments, not baked in
                return w - lr * g(w, X, y)

            step = jax.jit(step) if jit else step

            def run() -> Any:
                w = jnp.zeros(d)
                for _ in range(steps):
                    w = step(w, Xj, yj)
                return w

            return {"main": run}

        return build

    def autograd_grad() -> Thunks:
        import autograd
        import autograd.numpy as anp

        g = autograd.grad(lambda w: anp.mean((y - anp.dot(X, w)) ** 2))

        def run() -> np.ndarray:
            w = np.zeros(d)
            for _ in range(steps):
                w = w - lr * g(w)
            return w

        return {"main": run}

    def wl_backward() -> Thunks:
        Xw, yw = wl.tensor(X), wl.tensor(y)

        def run() -> Any:
            w = wl.zeros(d, requires_grad=True)
            for _ in range(steps):
                ((yw - Xw @ w) ** 2).mean().backward()
                with wl.no_grad():
                    w -= lr * w.grad
                w.grad.zero_()
            return w

        return {"main": run}

    def wl_compiled() -> Thunks:
        Xw, yw = wl.tensor(X), wl.tensor(y)
        g = wl.grad(lambda w, X, y: ((y - X @ w) ** 2).mean())
        step = wl_compile(lambda w, X, y: w - lr * g(w, X, y))  # data as arguments

        def run() -> Any:
            w = wl.zeros(d)
            for _ in range(steps):
                w = step(w, Xw, yw)
            return w

        return {"main": run}

    compiled = "wonderland compiled step"
    return Workload(
        "W3", "lsq-gd", "ms/step", _pick(quick, 5, 3),
        [
            Case("numpy", "numpy 2/n X^T(Xw-y) (limit)", limit, role="limit"),
            Case("torch", "torch eager, backward()", torch_backward),
            Case("jax", "jax eager, jax.grad", jax_step(False)),
            Case("jax-jit", "jax jit step", jax_step(True)),
            Case("autograd", "autograd.grad", autograd_grad),
            Case("wonderland", "wonderland backward()", wl_backward),
            Case("wonderland", compiled, wl_compiled),
        ],
        value=lambda m: m["main"] * 1e3 / steps,
        check=close_to({"main": limit()["main"]()}, 1e-8),
        sizes=dict(n=n, d=d, steps=steps, lr=lr),
        memory="main",
        targets=[Target("W3 peak memory / the hand-written gradient's", "memory", "main", 1.25),
                 Target("W3 compiled: peak memory / the hand-written gradient's", "memory",
                        "main", 1.25, row=compiled)],
    )


# ---------------------------------------------------------------- W4


def w4_mlp_ratio(quick: bool) -> Workload:
    """W4: ``time(value_and_grad) / time(forward)`` of ``mean((tanh(X W1) W2 − y)²)``,
    float32, ``X ~ (4096, 512)``, ``W1 ~ (512, 512)`` (``(2048, 256)``, ``(256, 256)`` quick);
    gradients with respect to ``W1`` and ``W2``.

    Examples
    --------
    >>> w = w4_mlp_ratio(quick=True)
    >>> sorted(w.cases[0].build())
    ['fwd', 'vg']
    >>> [(t.kind, t.at_most) for t in w.targets]
    [('time', 1.15), ('memory', 1.25), ('time', 1.15), ('memory', 1.25)]
    """
    n, din, h = _pick(quick, (4096, 512, 512), (2048, 256, 256))
    f32 = np.float32
    rng = np.random.default_rng(4)
    X = rng.standard_normal((n, din)).astype(f32)
    W1 = (rng.standard_normal((din, h)) / np.sqrt(din)).astype(f32)
    W2 = (rng.standard_normal((h, 1)) / np.sqrt(h)).astype(f32)
    y = rng.standard_normal((n, 1)).astype(f32)

    def loss(W1: Any, W2: Any, X: Any, y: Any, m: Any) -> Any:
        return ((m.tanh(X @ W1) @ W2 - y) ** 2).mean()

    def limit() -> Thunks:  # in place where it saves a pass over the (n, h) hidden layer
        def fwd() -> Any:
            T = X @ W1
            np.tanh(T, out=T)
            return np.mean((T @ W2 - y) ** 2)

        def vg() -> tuple[Any, ...]:
            T = X @ W1
            np.tanh(T, out=T)
            R = T @ W2 - y
            dP = (2.0 / n) * R
            dW2 = T.T @ dP
            np.multiply(T, T, out=T)  # dH = (1 - T²) dP W2ᵀ, in T's memory
            np.subtract(1.0, T, out=T)
            T *= dP
            T *= W2.T
            return np.mean(R**2), X.T @ T, dW2

        return {"fwd": fwd, "vg": vg}

    def torch_vg() -> Thunks:
        import torch

        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        W1t, W2t = torch.from_numpy(W1), torch.from_numpy(W2)

        def fwd() -> Any:
            with torch.no_grad():
                return loss(W1t, W2t, Xt, yt, torch)

        def vg() -> tuple[Any, ...]:
            a, b = W1t.detach().requires_grad_(), W2t.detach().requires_grad_()
            out = loss(a, b, Xt, yt, torch)
            out.backward()
            return out, a.grad, b.grad

        return {"fwd": fwd, "vg": vg}

    def jax_vg(jit: bool) -> Callable[[], Thunks]:
        def build() -> Thunks:
            import jax
            import jax.numpy as jnp

            Xj, yj, W1j, W2j = map(jnp.asarray, (X, y, W1, W2))
            fwd = lambda a, b, X, y: loss(a, b, X, y, jnp)  # noqa: E731
            vg = jax.value_and_grad(fwd, argnums=(0, 1))
            if jit:
                fwd, vg = jax.jit(fwd), jax.jit(vg)

            def run_vg() -> tuple[Any, ...]:
                value, (ga, gb) = vg(W1j, W2j, Xj, yj)
                return value, ga, gb

            return {"fwd": lambda: fwd(W1j, W2j, Xj, yj), "vg": run_vg}

        return build

    def autograd_vg() -> Thunks:
        import autograd
        import autograd.numpy as anp

        vg = autograd.value_and_grad(lambda p: loss(p[0], p[1], X, y, anp))

        def run_vg() -> tuple[Any, ...]:
            value, (ga, gb) = vg((W1, W2))
            return value, ga, gb

        return {"fwd": lambda: loss(W1, W2, X, y, anp), "vg": run_vg}

    def wl_vg() -> Thunks:
        Xw, yw, W1w, W2w = wl.tensor(X), wl.tensor(y), wl.tensor(W1), wl.tensor(W2)
        vg = wl.value_and_grad(lambda a, b: loss(a, b, Xw, yw, wl), argnums=(0, 1))

        def fwd() -> Any:
            with wl.no_grad():
                return loss(W1w, W2w, Xw, yw, wl)

        def run_vg() -> tuple[Any, ...]:
            value, (ga, gb) = vg(W1w, W2w)
            return value, ga, gb

        return {"fwd": fwd, "vg": run_vg}

    def wl_compiled() -> Thunks:
        args = [wl.tensor(v) for v in (W1, W2, X, y)]
        fwd = wl_compile(lambda a, b, X, y: loss(a, b, X, y, wl))
        vg = wl_compile(wl.value_and_grad(lambda a, b, X, y: loss(a, b, X, y, wl),
                                          argnums=(0, 1)))

        def run_vg() -> tuple[Any, ...]:
            value, (ga, gb) = vg(*args)
            return value, ga, gb

        return {"fwd": lambda: fwd(*args), "vg": run_vg}

    compiled = "wonderland compiled value_and_grad"
    lim = limit()
    return Workload(
        "W4", "mlp-ratio", "vg/fwd", _pick(quick, 7, 3),
        [
            Case("numpy", "numpy, hand backward (limit)", limit, role="limit"),
            Case("torch", "torch eager, backward()", torch_vg),
            Case("jax", "jax eager, value_and_grad", jax_vg(False)),
            Case("jax-jit", "jax jit, value_and_grad", jax_vg(True)),
            Case("autograd", "autograd.value_and_grad", autograd_vg),
            Case("wonderland", "wonderland value_and_grad", wl_vg),
            Case("wonderland", compiled, wl_compiled),
        ],
        value=lambda m: m["vg"] / m["fwd"],
        check=close_to({"fwd": lim["fwd"](), "vg": lim["vg"]()}, 1e-3),  # float32
        notes=lambda m, r: f"fwd {m['fwd'] * 1e3:.2f} ms, v&g {m['vg'] * 1e3:.2f} ms",
        sizes=dict(n=n, d_in=din, hidden=h, dtype="float32"),
        memory="vg",
        targets=[
            Target("W4 value_and_grad time / the hand-written forward+backward's",
                   "time", "vg", 1.15),
            Target("W4 value_and_grad peak memory / the hand-written backward's",
                   "memory", "vg", 1.25),
            Target("W4 compiled: value_and_grad time / the hand-written forward+backward's",
                   "time", "vg", 1.15, row=compiled),
            Target("W4 compiled: value_and_grad peak memory / the hand-written backward's",
                   "memory", "vg", 1.25, row=compiled),
        ],
        footnotes=["W4: x limit = (v&g / fwd) over the limit's (v&g / fwd); gradients with "
                   "respect to W1 and W2 only: about 2 by FLOPs (3 would count dX too)."],
    )


# ---------------------------------------------------------------- W5


def w5_overhead(quick: bool) -> Workload:
    """W5: a chain of 1000 ``x = sin(x) * 1.0001 + 0.001`` on a ``(10,)`` tensor, then the
    backward of its sum (100 quick); time per primitive op (three a link).

    Examples
    --------
    >>> w5_overhead(quick=True).sizes
    {'chain': 100, 'primitive_ops': 300, 'shape': (10,)}
    """
    links = _pick(quick, 1000, 100)
    ops = 3 * links
    x0 = np.linspace(-1.0, 1.0, 10)

    def chain(x: Any, m: Any) -> Any:
        for _ in range(links):
            x = m.sin(x) * 1.0001 + 0.001
        return x.sum()

    def limit() -> Thunks:  # forward keeping its inputs, backward by hand
        def run() -> tuple[Any, np.ndarray]:
            xs, x = [], x0
            for _ in range(links):
                xs.append(x)
                x = np.sin(x) * 1.0001 + 0.001
            g = np.ones_like(x)
            for xi in reversed(xs):
                g = g * (np.cos(xi) * 1.0001)
            return x.sum(), g

        return {"main": run}

    def forward_only() -> Thunks:
        def run() -> np.ndarray:
            x = x0
            for _ in range(links):
                x = np.sin(x) * 1.0001 + 0.001
            return x

        return {"main": run}

    def torch_backward() -> Thunks:
        import torch

        def run() -> tuple[Any, Any]:
            x = torch.tensor(x0, requires_grad=True)
            out = chain(x, torch)
            out.backward()
            return out, x.grad

        return {"main": run}

    def jax_vg(jit: bool) -> Callable[[], Thunks]:
        def build() -> Thunks:
            import jax
            import jax.numpy as jnp

            vg = jax.value_and_grad(lambda x: chain(x, jnp))
            vg = jax.jit(vg) if jit else vg
            xj = jnp.asarray(x0)
            return {"main": lambda: vg(xj)}

        return build

    def autograd_vg() -> Thunks:
        import autograd
        import autograd.numpy as anp

        vg = autograd.value_and_grad(lambda x: chain(x, anp))
        return {"main": lambda: vg(x0)}

    def wl_backward() -> Thunks:
        def run() -> tuple[Any, Any]:
            x = wl.tensor(x0, requires_grad=True)
            out = chain(x, wl)
            out.backward()
            return out, x.grad

        return {"main": run}

    def wl_compiled() -> Thunks:
        vg = wl_compile(wl.value_and_grad(lambda x: chain(x, wl)))
        xw = wl.tensor(x0)
        return {"main": lambda: vg(xw)}

    return Workload(
        "W5", "overhead", "us/op", _pick(quick, 7, 3),
        [
            Case("numpy", "numpy fwd + hand bwd (limit)", limit, role="limit"),
            Case("numpy", "numpy forward only (bare ufuncs)", forward_only, role="info"),
            Case("torch", "torch eager, backward()", torch_backward),
            Case("jax", "jax eager, value_and_grad", jax_vg(False)),
            Case("jax-jit", "jax jit (unrolled chain)", jax_vg(True)),
            Case("autograd", "autograd.value_and_grad", autograd_vg),
            Case("wonderland", "wonderland backward()", wl_backward),
            Case("wonderland", "wonderland compiled value_and_grad", wl_compiled),
        ],
        value=lambda m: m["main"] * 1e6 / ops,
        check=close_to({"main": limit()["main"]()}, 1e-9),
        sizes=dict(chain=links, primitive_ops=ops, shape=(10,)),
        vs_torch=True,
        footnotes=[f"W5: {links} x (sin, mul, add) = {ops} ops, forward + backward."],
    )


# ---------------------------------------------------------------- W6


def w6_jacobian(quick: bool) -> Workload:
    """W6: the ``(256, 256)`` Jacobian of ``tanh(A x)`` at one ``x``, reverse and forward
    mode; the limit is one ``256 × 256`` matmul. A timed call makes 10 Jacobians (2 quick).

    Examples
    --------
    >>> w = w6_jacobian(quick=True)
    >>> [c.pair for c in w.cases if c.impl == "wonderland"]
    [None, 'torch.func.jacfwd', None, 'torch.func.jacfwd']
    """
    m = 256
    inner = _pick(quick, 10, 2)
    rng = np.random.default_rng(6)
    A = rng.standard_normal((m, m)) / np.sqrt(m)
    x = rng.standard_normal(m)
    B = rng.standard_normal((m, m))

    def repeated(make: Callable[[], Callable[[], Any]]) -> Callable[[], Thunks]:
        def build() -> Thunks:
            fn = make()

            def run() -> Any:
                for _ in range(inner - 1):
                    out = fn()
                    if hasattr(out, "block_until_ready"):  # JAX: one at a time
                        out.block_until_ready()
                return fn()

            return {"main": run}

        return build

    def torch_jac(mode: str) -> Callable[[], Any]:
        import torch

        At, xt = torch.from_numpy(A), torch.from_numpy(x)
        jac = torch.func.jacrev if mode == "rev" else torch.func.jacfwd
        f = jac(lambda v: torch.tanh(At @ v))
        return lambda: f(xt)

    def jax_jac(mode: str, jit: bool) -> Callable[[], Any]:
        import jax
        import jax.numpy as jnp

        Aj, xj = jnp.asarray(A), jnp.asarray(x)
        f = (jax.jacrev if mode == "rev" else jax.jacfwd)(lambda v, A: jnp.tanh(A @ v))
        f = jax.jit(f) if jit else f
        return lambda: f(xj, Aj)

    def autograd_jac() -> Callable[[], Any]:
        import autograd
        import autograd.numpy as anp

        f = autograd.jacobian(lambda v: anp.tanh(anp.dot(A, v)))
        return lambda: f(x)

    def wl_jac(mode: str, compiled: bool = False) -> Callable[[], Any]:
        Aw = wl.tensor(A)
        f = (wl.jacrev if mode == "rev" else wl.jacfwd)(lambda v: wl.tanh(Aw @ v))
        f = wl_compile(f) if compiled else f
        xw = wl.tensor(x)
        return lambda: f(xw)

    fwd_pair = "torch.func.jacfwd"
    return Workload(
        "W6", "jacobian", "ms/jac", _pick(quick, 9, 3),
        [
            Case("numpy", "numpy one 256^2 matmul (limit)", repeated(lambda: lambda: A @ B),
                 role="limit"),
            Case("numpy", "numpy analytic diag(1-y^2) A",
                 repeated(lambda: lambda: (1.0 - np.tanh(A @ x) ** 2)[:, None] * A)),
            Case("torch", "torch.func.jacrev", repeated(lambda: torch_jac("rev"))),
            Case("torch", fwd_pair, repeated(lambda: torch_jac("fwd"))),
            Case("jax", "jax eager jacrev", repeated(lambda: jax_jac("rev", False))),
            Case("jax", "jax eager jacfwd", repeated(lambda: jax_jac("fwd", False))),
            Case("jax-jit", "jax jit jacrev", repeated(lambda: jax_jac("rev", True))),
            Case("jax-jit", "jax jit jacfwd", repeated(lambda: jax_jac("fwd", True))),
            Case("autograd", "autograd.jacobian", repeated(autograd_jac)),
            Case("wonderland", "wonderland jacrev", repeated(lambda: wl_jac("rev"))),
            Case("wonderland", "wonderland jacfwd", repeated(lambda: wl_jac("fwd")),
                 pair=fwd_pair),
            Case("wonderland", "wonderland compiled jacrev",
                 repeated(lambda: wl_jac("rev", True))),
            Case("wonderland", "wonderland compiled jacfwd",
                 repeated(lambda: wl_jac("fwd", True)), pair=fwd_pair),
        ],
        value=lambda med: med["main"] * 1e3 / inner,
        check=close_to({"main": (1.0 - np.tanh(A @ x) ** 2)[:, None] * A}, 1e-10),
        sizes=dict(m=m, jacobians_per_timed_call=inner),
        limit_is_answer=False,
        vs_torch=True,
    )


# ---------------------------------------------------------------- W7


def w7_ridge(quick: bool) -> Workload:
    """W7: ``Ridge(alpha=1.0)`` with an intercept fitted on ``X ~ (1_000_000, 100)``
    (50_000 rows quick); the limit is ``XᵀX``, ``Xᵀy`` and one ``100 × 100`` solve.

    Examples
    --------
    >>> w7_ridge.__name__
    'w7_ridge'
    """
    n, d = _pick(quick, 1_000_000, 50_000), 100
    alpha = 1.0
    rng = np.random.default_rng(7)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.5 + 0.1 * rng.standard_normal(n)
    eye = np.eye(d)

    def limit() -> Thunks:  # no intercept: X^T X and one solve, at BLAS speed
        return {"main": lambda: np.linalg.solve(X.T @ X + alpha * eye, X.T @ y)}

    def gram_only() -> Thunks:
        return {"main": lambda: X.T @ X}

    def sklearn_ridge() -> Thunks:
        from sklearn.linear_model import Ridge

        return {"main": lambda: Ridge(alpha=alpha).fit(X, y).coef_}

    def torch_solve() -> Thunks:
        import torch

        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        eye_t = torch.eye(d, dtype=torch.float64)

        def run() -> Any:  # what a user writes: centre, normal equations, solve
            Xc, yc = Xt - Xt.mean(0), yt - yt.mean()
            return torch.linalg.solve(Xc.T @ Xc + alpha * eye_t, Xc.T @ yc)

        return {"main": run}

    def jax_solve(jit: bool) -> Callable[[], Thunks]:
        def build() -> Thunks:
            import jax
            import jax.numpy as jnp

            Xj, yj = jnp.asarray(X), jnp.asarray(y)

            def fit(X: Any, y: Any) -> Any:
                Xc, yc = X - X.mean(0), y - y.mean()
                return jnp.linalg.solve(Xc.T @ Xc + alpha * jnp.eye(d), Xc.T @ yc)

            fit = jax.jit(fit) if jit else fit
            return {"main": lambda: fit(Xj, yj)}

        return build

    def wl_ridge() -> Thunks:
        Ridge = wl_linear("Ridge")

        def run() -> np.ndarray:
            return np.ravel(np.asarray(Ridge(alpha=alpha).fit(X, y).coef_))

        return {"main": run}

    xm = X.mean(0)
    gram = X.T @ X - n * np.outer(xm, xm) + alpha * eye
    coef = np.linalg.solve(gram, X.T @ y - n * xm * y.mean())
    return Workload(
        "W7", "ridge", "s/fit", _pick(quick, 5, 3),
        [
            Case("numpy", "numpy X^T X + X^T y + solve (limit)", limit, role="limit"),
            Case("numpy", "numpy X^T X only", gram_only, role="info"),
            Case("sklearn", "sklearn Ridge(alpha=1).fit", sklearn_ridge),
            Case("torch", "torch: centre, X^T X, solve", torch_solve),
            Case("jax", "jax eager: centre, X^T X, solve", jax_solve(False)),
            Case("jax-jit", "jax jit: centre, X^T X, solve", jax_solve(True)),
            Case("wonderland", "wonderland linear.Ridge(alpha=1).fit", wl_ridge),
        ],
        value=lambda m: m["main"],
        check=close_to({"main": coef}, 1e-8),
        sizes=dict(n=n, d=d, alpha=alpha),
        limit_is_answer=False,
        memory="main",
        footnotes=["W7: the limit fits no intercept (X^T X and one solve); the other rows "
                   "fit one and are checked against the exact centred solution."],
    )


# ---------------------------------------------------------------- W8


class _Reached(Exception):
    """Raised inside an objective once the target loss is reached."""


def w8_logreg(quick: bool) -> Workload:
    """W8: L2 logistic regression (``alpha = 1e-4``) on ``make_classification(200_000,
    50)`` (20_000 rows quick), to the loss scikit-learn's lbfgs reaches; the limit is
    scikit-learn's time.

    Examples
    --------
    >>> w8_logreg.__name__
    'w8_logreg'
    """
    import scipy.optimize
    import scipy.special
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    n, d = _pick(quick, 200_000, 20_000), 50
    alpha = 1e-4
    X, y = make_classification(n_samples=n, n_features=d, random_state=8)
    y = y.astype(np.float64)

    def loss_np(theta: np.ndarray) -> float:  # mean log-loss + α/2 |w|², b unpenalized
        w, b = theta[:-1], theta[-1]
        z = X @ w + b
        return float(np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * alpha * (w @ w))

    def sk_fit() -> tuple[Any, np.ndarray]:  # C = 1/(α n): the same objective, times C n
        model = LogisticRegression(C=1.0 / (alpha * n), solver="lbfgs", max_iter=1000)
        model.fit(X, y)
        return model, np.concatenate([model.coef_.ravel(), model.intercept_])

    target = loss_np(sk_fit()[1])

    def sklearn_row() -> Thunks:
        return {"main": lambda: sk_fit()[1]}

    def lbfgs_to_target(vg: Callable[[np.ndarray], tuple[float, np.ndarray]]) -> Thunks:
        """scipy's L-BFGS-B on ``vg``, stopped at the first point whose loss <= target."""

        def run() -> np.ndarray:
            reached: list[np.ndarray] = []

            def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
                f, g = vg(theta)
                if f <= target:
                    reached.append(np.array(theta))
                    raise _Reached
                return f, g

            try:
                res = scipy.optimize.minimize(
                    fun, np.zeros(d + 1), jac=True, method="L-BFGS-B",
                    options=dict(maxiter=1000, maxfun=1000, gtol=0.0, ftol=0.0))
                return res.x  # stopped short of the target: the check says so
            except _Reached:
                return reached[0]

        return {"main": run}

    def numpy_vg(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        z = X @ w + b
        r = (scipy.special.expit(z) - y) / n
        g = np.empty_like(theta)
        g[:-1] = X.T @ r + alpha * w
        g[-1] = r.sum()
        return float(np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * alpha * (w @ w)), g

    def torch_scipy() -> Thunks:
        import torch

        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

        def vg(theta: np.ndarray) -> tuple[float, np.ndarray]:
            t = torch.from_numpy(theta).requires_grad_()
            w, b = t[:-1], t[-1]
            z = Xt @ w + b
            f = torch.nn.functional.binary_cross_entropy_with_logits(z, yt) \
                + 0.5 * alpha * (w @ w)
            f.backward()
            return f.item(), t.grad.numpy()

        return lbfgs_to_target(vg)

    def jax_scipy(jit: bool) -> Callable[[], Thunks]:
        def build() -> Thunks:
            import jax
            import jax.numpy as jnp

            Xj, yj = jnp.asarray(X), jnp.asarray(y)

            def loss(theta: Any, X: Any, y: Any) -> Any:
                w, b = theta[:-1], theta[-1]
                z = X @ w + b
                return jnp.mean(jnp.logaddexp(0.0, z) - y * z) + 0.5 * alpha * (w @ w)

            vg = jax.value_and_grad(loss)
            vg = jax.jit(vg) if jit else vg

            def pair(theta: np.ndarray) -> tuple[float, np.ndarray]:
                f, g = vg(jnp.asarray(theta), Xj, yj)
                return float(f), np.asarray(g, dtype=np.float64)

            return lbfgs_to_target(pair)

        return build

    def autograd_scipy() -> Thunks:
        import autograd
        import autograd.numpy as anp

        def loss(theta: Any) -> Any:
            w, b = theta[:-1], theta[-1]
            z = anp.dot(X, w) + b
            return anp.mean(anp.logaddexp(0.0, z) - y * z) + 0.5 * alpha * anp.dot(w, w)

        vg = autograd.value_and_grad(loss)
        return lbfgs_to_target(lambda theta: tuple(map(np.asarray, vg(theta))))

    def wl_model() -> Thunks:
        LogReg = wl_linear("LogisticRegression")

        def run() -> np.ndarray:
            model = LogReg(alpha=alpha).fit(X, y)
            return np.concatenate([np.ravel(np.asarray(model.coef_)),
                                   np.ravel(np.asarray(model.intercept_))])

        return {"main": run}

    def wl_scipy() -> Thunks:
        Xw, yw = wl.tensor(X), wl.tensor(y)

        def loss(theta: Any) -> Any:
            w, b = theta[:-1], theta[-1]
            z = Xw @ w + b
            return (wl.softplus(z) - yw * z).mean() + 0.5 * alpha * (w * w).sum()

        vg = wl.value_and_grad(loss)

        def pair(theta: np.ndarray) -> tuple[float, np.ndarray]:
            f, g = vg(theta)
            return f.item(), np.asarray(g, dtype=np.float64)

        return lbfgs_to_target(pair)

    def check(results: dict[str, Any]) -> tuple[str, float | None]:
        gap = loss_np(np.ravel(results["main"]).astype(np.float64)) - target
        ok = gap <= 1e-8 * max(1.0, abs(target))
        return ("ok" if ok else f"loss above by {gap:.1e}"), gap

    return Workload(
        "W8", "logreg", "s/fit", _pick(quick, 5, 3),
        [
            Case("sklearn", "sklearn LogisticRegression lbfgs (limit)", sklearn_row,
                 role="limit"),
            Case("numpy", "numpy hand gradient + scipy L-BFGS-B",
                 lambda: lbfgs_to_target(numpy_vg)),
            Case("torch", "torch grad + scipy L-BFGS-B", torch_scipy),
            Case("jax", "jax eager grad + scipy L-BFGS-B", jax_scipy(False)),
            Case("jax-jit", "jax jit grad + scipy L-BFGS-B", jax_scipy(True)),
            Case("autograd", "autograd grad + scipy L-BFGS-B", autograd_scipy),
            Case("wonderland", "wonderland linear.LogisticRegression", wl_model),
            Case("wonderland", "wonderland grad + scipy L-BFGS-B", wl_scipy),
        ],
        value=lambda m: m["main"],
        check=check,
        notes=lambda m, r: f"loss {loss_np(np.ravel(r['main']).astype(np.float64)):.10f}",
        sizes=dict(n=n, d=d, alpha=alpha, target_loss=target),
        footnotes=["W8: loss = mean log-loss + alpha/2 |w|^2; the L-BFGS-B rows stop at the "
                   "first point whose loss <= scikit-learn's; the fitted models stop by "
                   "their own rule (check: loss at most scikit-learn's + 1e-8)."],
    )


#: The workloads by id, in table order.
WORKLOADS: dict[str, Callable[[bool], Workload]] = {
    "W1": w1_poly_gd, "W2": w2_practice, "W3": w3_lsq_gd, "W4": w4_mlp_ratio,
    "W5": w5_overhead, "W6": w6_jacobian, "W7": w7_ridge, "W8": w8_logreg,
}

__all__ = ["WORKLOADS", "Case", "NotAvailable", "Target", "Workload", "close_to",
           "relative_error", "to_numpy", "wl_compile", "wl_linear", "w1_poly_gd", "w2_practice",
           "w3_lsq_gd", "w4_mlp_ratio", "w5_overhead", "w6_jacobian", "w7_ridge", "w8_logreg"]
