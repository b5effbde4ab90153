"""``minimize``: the text's descent loop with its stopping rules, for one starting point
or many at once (``batched``: one vectorized loop, each row stopping on its own rule)."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import backend
from ..autodiff import value_and_grad
from ..tensor import Tensor, _new, no_grad
from .optimizers import GD, Adam, Momentum, Nesterov, Optimizer
from .schedules import Schedule

METHODS = {"gd": GD, "momentum": Momentum, "nesterov": Nesterov, "adam": Adam}
REASONS = ("tol_grad", "tol_x", "max_iter", "diverged", "callback")


@dataclass
class Trace:
    """The path of a descent: ``x`` ``(n_iter + 1, *x0.shape)``, ``fun`` and ``grad_norm``
    ``(n_iter + 1,)``; one more leading axis of size ``n`` when batched."""

    x: np.ndarray
    fun: np.ndarray
    grad_norm: np.ndarray


@dataclass
class MinimizeResult:
    """What ``minimize`` found: the last iterate and why it stopped.

    ``reason`` is ``"tol_grad"`` (a stationary point), ``"tol_x"`` (steps too small),
    ``"max_iter"``, ``"diverged"`` (a NaN or inf appeared; ``x`` is the last finite
    iterate) or ``"callback"``. Batched results hold one entry per row.
    """

    x: Tensor
    fun: Any
    grad_norm: Any
    n_iter: Any
    converged: Any
    reason: Any
    trace: Trace
    method: str = "gd"
    batched: bool = False
    extra: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        if self.batched:
            counts = {r: int(np.sum(np.asarray(self.reason) == r)) for r in REASONS}
            reasons = ", ".join(f"{r}: {n}" for r, n in counts.items() if n)
            return (f"MinimizeResult(batched n={len(self.reason)}, method={self.method!r}, "
                    f"reasons {{{reasons}}})")
        return (f"MinimizeResult(x={self.x.tolist()}, fun={self.fun:.6g}, "
                f"grad_norm={self.grad_norm:.3g}, n_iter={self.n_iter}, "
                f"reason={self.reason!r})")


@dataclass
class State:
    """What ``callback`` sees after each update."""

    t: int
    x: Tensor
    fun: Any
    grad_norm: Any


def minimize(f: Callable[[Tensor], Tensor], x0: Any, method: str = "gd",
             lr: float | Schedule = 1e-3, momentum: float = 0.9, max_iter: int = 1000,
             tol_grad: float = 1e-6, tol_x: float = 0.0, batched: bool = False,
             callback: Callable[[State], bool | None] | None = None,
             progress: bool = False) -> MinimizeResult:
    """Minimize ``f`` by gradient descent (or momentum, Nesterov, Adam) from ``x0``.

    Stops at the first of: ``‖∇f(x_t)‖ < tol_grad`` (``"tol_grad"``), ``‖x_t - x_{t-1}‖ <
    tol_x`` (``"tol_x"``), ``max_iter`` updates (``"max_iter"``), a NaN or inf
    (``"diverged"``: the last finite iterate is kept, no exception), or ``callback``
    returning True (``"callback"``).

    With ``batched=True``, ``x0`` is ``(n, d)`` and ``f`` maps ``(n, d) -> (n,)``: the n
    descents run together in one vectorized loop, each row stopping on its own rule
    (stopped rows stay frozen).

    Examples
    --------
    >>> import wonderland as wl
    >>> res = wl.optim.minimize(lambda x: 2 * x**4 + x**3 - 3 * x**2, 2.0, lr=0.01,
    ...                         max_iter=5000, tol_grad=1e-8)
    >>> res.reason, round(res.x.item(), 5)
    ('tol_grad', 0.69859)
    """
    if method not in METHODS:
        raise ValueError(f"minimize: method must be one of {sorted(METHODS)}, got {method!r}")
    if not isinstance(max_iter, int) or max_iter < 0:
        raise ValueError(f"minimize: max_iter must be a non-negative integer, got {max_iter!r}")
    for name, value in (("tol_grad", tol_grad), ("tol_x", tol_x)):
        if not value >= 0:
            raise ValueError(f"minimize: {name} must be non-negative, got {value!r}")
    x = _start(x0, batched)
    kwargs = {"momentum": momentum} if method in ("momentum", "nesterov") else {}
    optimizer = METHODS[method]([x], lr=lr, **kwargs)
    loop = _BatchedLoop if batched else _Loop
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is a result, not noise
        return loop(f, x, optimizer, method, max_iter, tol_grad, tol_x, callback,
                    progress).run()


def _norm(values: np.ndarray, axis: int | None = None) -> Any:
    """The 2-norm, scaled so that huge but finite entries do not overflow to inf."""
    values = np.asarray(values, dtype=float)
    if axis is None:
        values = values.reshape(-1)
        axis = 0
    scale = np.max(np.abs(values), axis=axis, keepdims=True) if values.size else np.zeros(1)
    safe = np.where((scale > 0) & np.isfinite(scale), scale, 1.0)
    norms = np.squeeze(safe, axis=axis) * np.sqrt(np.sum((values / safe) ** 2, axis=axis))
    # an inf or NaN entry makes the norm inf or NaN, as it should
    return np.where(np.isfinite(np.squeeze(scale, axis=axis)), norms,
                    np.squeeze(scale, axis=axis))


def _start(x0: Any, batched: bool) -> Tensor:
    data = backend.asarray(x0._data if isinstance(x0, Tensor) else x0)
    xp = backend.namespace(data)
    if not backend.is_floating(data.dtype, xp):
        data = xp.astype(data, backend.to_dtype("float64", xp))
    if batched and len(data.shape) != 2:
        raise ValueError(f"minimize: batched=True needs x0 of shape (n, d), got "
                         f"{tuple(data.shape)}")
    x = _new(xp.asarray(data, copy=True), xp)
    x.requires_grad = True
    return x


class _Progress:
    """A progress bar on stderr (tqdm when installed)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar = None
        self.total = total
        self.enabled = enabled
        self.done = 0
        if enabled:
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, desc="minimize", leave=False)
            except ImportError:
                self.bar = None

    def update(self, t: int) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(t - self.done)
        elif t == self.total or t % max(1, self.total // 50) == 0:
            width = 30
            filled = int(width * t / max(1, self.total))
            sys.stderr.write(f"\rminimize [{'#' * filled}{'.' * (width - filled)}] "
                             f"{t}/{self.total}")
            sys.stderr.flush()
        self.done = t

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            sys.stderr.write("\n")


class _Loop:
    """One starting point."""

    def __init__(self, f: Callable, x: Tensor, optimizer: Optimizer, method: str,
                 max_iter: int, tol_grad: float, tol_x: float, callback: Callable | None,
                 progress: bool) -> None:
        self.f, self.x, self.optimizer, self.method = f, x, optimizer, method
        self.max_iter, self.tol_grad, self.tol_x = max_iter, tol_grad, tol_x
        self.callback, self.progress = callback, _Progress(max_iter, progress)
        self.value_and_grad = value_and_grad(self._objective)

    def _objective(self, x: Tensor) -> Tensor:
        return self.f(x)

    def evaluate(self) -> tuple[float, Tensor, float]:
        value, g = self.value_and_grad(self.x)
        if value.size != 1:
            raise ValueError(f"minimize: f must return a scalar, got shape {value.shape}; "
                             f"use batched=True for f mapping (n, d) to (n,)")
        return float(value.item()), g, float(_norm(g.numpy()))

    def run(self) -> MinimizeResult:
        fun, g, gnorm = self.evaluate()
        xs, funs, norms = [self.x.numpy().copy()], [fun], [gnorm]
        reason = "tol_grad" if gnorm < self.tol_grad else None
        if not (math.isfinite(fun) and math.isfinite(gnorm)):
            raise ValueError(f"minimize: f or its gradient is not finite at x0 (f={fun}, "
                             f"‖∇f‖={gnorm})")
        t = 0
        while reason is None and t < self.max_iter:
            previous = self.x.numpy().copy()
            self.x.grad = g
            self.optimizer.step()
            fun, g, gnorm = self.evaluate()
            current = self.x.numpy()
            if not (np.all(np.isfinite(current)) and math.isfinite(fun)
                    and math.isfinite(gnorm)):
                with no_grad():
                    self.x.copy_(backend.from_numpy(previous, self.x._data))
                fun, gnorm, reason = funs[-1], norms[-1], "diverged"
                break
            t += 1
            self.progress.update(t)
            xs.append(current.copy())
            funs.append(fun)
            norms.append(gnorm)
            if self.callback is not None and self.callback(
                    State(t, self.x.detach().clone(), fun, gnorm)):
                reason = "callback"
            elif gnorm < self.tol_grad:
                reason = "tol_grad"
            elif float(_norm(current - previous)) < self.tol_x:
                reason = "tol_x"
        self.progress.close()
        reason = reason or "max_iter"
        return MinimizeResult(
            x=self.x.detach().clone(), fun=fun, grad_norm=gnorm, n_iter=t,
            converged=reason in ("tol_grad", "tol_x"), reason=reason,
            trace=Trace(np.stack(xs), np.asarray(funs), np.asarray(norms)), method=self.method)


class _BatchedLoop(_Loop):
    """Many starting points, rows of ``x``: one vectorized loop, each row stops alone."""

    def evaluate(self) -> tuple[np.ndarray, Tensor, np.ndarray]:
        value, g = self._value_and_grad_rows()
        return value, g, _norm(g.numpy(), axis=1)

    def _value_and_grad_rows(self) -> tuple[np.ndarray, Tensor]:
        rows = {}

        def total(x: Tensor) -> Tensor:
            out = self.f(x)
            if out.shape != (x.shape[0],):
                raise ValueError(f"minimize: with batched=True, f must map (n, d) to (n,); "
                                 f"got an output of shape {out.shape} for x of shape {x.shape}")
            rows["values"] = out.numpy().copy()
            return out.sum()

        _, g = value_and_grad(total)(self.x)
        return rows["values"], g

    def run(self) -> MinimizeResult:
        n = self.x.shape[0]
        fun, g, gnorm = self.evaluate()
        if not (np.all(np.isfinite(fun)) and np.all(np.isfinite(gnorm))):
            bad = int(np.flatnonzero(~(np.isfinite(fun) & np.isfinite(gnorm)))[0])
            raise ValueError(f"minimize: f or its gradient is not finite at x0 row {bad}")
        xs, funs, norms = [self.x.numpy().copy()], [fun.copy()], [gnorm.copy()]
        reason = np.full(n, None, dtype=object)
        reason[gnorm < self.tol_grad] = "tol_grad"
        n_iter = np.zeros(n, dtype=np.int64)
        t = 0
        while t < self.max_iter and np.any(reason == None):  # noqa: E711 - elementwise
            active = reason == None  # noqa: E711
            previous = self.x.numpy().copy()
            self.x.grad = g
            self.optimizer.step()
            new_fun, new_g, new_norm = self.evaluate()
            current = self.x.numpy().copy()
            finite = np.all(np.isfinite(current), axis=1) & np.isfinite(new_fun) & np.isfinite(
                new_norm)
            diverged = active & ~finite
            reason[diverged] = "diverged"
            moving = active & finite
            # frozen rows (stopped, or diverged just now) keep their last finite values
            current = np.where(moving[:, None], current, previous)
            with no_grad():
                self.x.copy_(backend.from_numpy(current, self.x._data))
            fun = np.where(moving, new_fun, fun)
            gnorm = np.where(moving, new_norm, gnorm)
            g = _new(backend.from_numpy(np.where(moving[:, None], new_g.numpy(), g.numpy()),
                                        self.x._data), self.x._xp)
            t += 1
            n_iter[moving] = t
            self.progress.update(t)
            xs.append(current)
            funs.append(fun.copy())
            norms.append(gnorm.copy())
            if self.callback is not None and self.callback(
                    State(t, self.x.detach().clone(), fun.copy(), gnorm.copy())):
                reason[reason == None] = "callback"  # noqa: E711
                break
            step = _norm(current - previous, axis=1)
            reason[moving & (gnorm < self.tol_grad)] = "tol_grad"
            reason[moving & (reason == None) & (step < self.tol_x)] = "tol_x"  # noqa: E711
        self.progress.close()
        reason[reason == None] = "max_iter"  # noqa: E711
        steps = int(n_iter.max()) if n else 0
        trace_x = np.stack(xs[: steps + 1], axis=1)
        trace_f = np.stack(funs[: steps + 1], axis=1)
        trace_g = np.stack(norms[: steps + 1], axis=1)
        return MinimizeResult(
            x=self.x.detach().clone(), fun=fun, grad_norm=gnorm, n_iter=n_iter,
            converged=np.isin(reason, ["tol_grad", "tol_x"]), reason=reason.astype(str),
            trace=Trace(trace_x, trace_f, trace_g), method=self.method, batched=True)
