"""Where the time of the W2 workload goes: the practice function's momentum descent.

Times, in interleaved rounds (so the machine's drift hits every row alike), per step of
200 heavy-ball steps from 1000 starting points:

- ``hand``: the hand-written NumPy gradient (anchors.py's limit);
- ``floor``: the NumPy calls wonderland's recorded forward and backward make, by hand,
  with no Python around them: what wonderland would cost with zero overhead;
- ``np_forward``: the NumPy calls of the forward pass alone, with the optimizer's;
- ``forward``: wonderland's forward pass alone (recorded);
- ``step``: wonderland's whole step (zero_grad, forward, backward, optimizer);
- ``tape``: the same step on a textbook tape of about forty lines (a value and a node per
  operation, each rule a lambda, a heap for the reverse order) with none of wonderland's
  guards: no version counters, no ownership of the gradients, no broadcasting sums, no
  dtype fit, no forward mode, no freeing. It is the floor of any engine that records
  each operation in Python; ``step / tape`` is what the guards cost.

Ratios are to ``hand``. ``step - floor`` is the Python overhead of recording and
replaying the graph; ``floor - hand`` is the cost of the extra NumPy calls (the forward
value, the zeros the column cotangents are added into). The last line,
``forward + floor - np_forward``, is what a step would cost if the reverse pass and the
optimizer added no Python at all.

Run: ``python benchmarks/practice_breakdown.py [--rounds 11] [--n 1000]``
"""

from __future__ import annotations

import argparse
import gc
import heapq
import itertools
import statistics
import time
from collections.abc import Callable

import numpy as np

import wonderland as wl

STEPS, LR, MOMENTUM = 200, 0.1, 0.9


def f_sum(x, m):
    x1, x2 = x[:, 0], x[:, 1]
    return (m.sin(x1) * m.cos(x2) + m.sin(0.5 * x1) * m.cos(0.5 * x2)).sum()


def hand_gradient(x: np.ndarray) -> np.ndarray:
    x1, x2 = x[:, 0], x[:, 1]
    g = np.empty_like(x)
    g[:, 0] = np.cos(x1) * np.cos(x2) + 0.5 * np.cos(0.5 * x1) * np.cos(0.5 * x2)
    g[:, 1] = -np.sin(x1) * np.sin(x2) - 0.5 * np.sin(0.5 * x1) * np.sin(0.5 * x2)
    return g


def floor_gradient(x: np.ndarray) -> np.ndarray:
    """The NumPy calls of wonderland's forward and backward, in its order: the sum's unit
    cotangent is cached and the products pass the other factor on, so no multiply by ones;
    both column cotangents are added into one array of zeros."""
    x1, x2 = x[:, 0], x[:, 1]
    s1, c2 = np.sin(x1), np.cos(x2)
    h1, h2 = 0.5 * x1, 0.5 * x2
    s3, c4 = np.sin(h1), np.cos(h2)
    np.add.reduce(s1 * c2 + s3 * c4)
    gx2 = (s1 * -np.sin(x2)) + (s3 * -np.sin(h2)) * 0.5
    gx1 = (c2 * np.cos(x1)) + (c4 * np.cos(h1)) * 0.5
    g = np.zeros(x.shape)
    column = g[:, 1]
    column += gx2
    column = g[:, 0]
    column += gx1
    return g


def forward_only(x: np.ndarray) -> np.ndarray:
    """The NumPy calls of the forward pass, and a zero gradient."""
    x1, x2 = x[:, 0], x[:, 1]
    np.add.reduce(np.sin(x1) * np.cos(x2) + np.sin(0.5 * x1) * np.cos(0.5 * x2))
    return np.zeros_like(x)


def numpy_descent(gradient: Callable[[np.ndarray], np.ndarray], x0: np.ndarray) -> np.ndarray:
    x, v = x0.copy(), np.zeros_like(x0)
    for _ in range(STEPS):
        v = -LR * gradient(x) + MOMENTUM * v
        x = x + v
    return x


def wonderland_descent(x0: np.ndarray) -> None:
    x = wl.tensor(x0.copy(), requires_grad=True)
    opt = wl.optim.Momentum([x], lr=LR, momentum=MOMENTUM)
    for _ in range(STEPS):
        opt.zero_grad()
        f_sum(x, wl).backward()
        opt.step()


def wonderland_forward(x0: np.ndarray) -> None:
    x = wl.tensor(x0.copy(), requires_grad=True)
    for _ in range(STEPS):
        f_sum(x, wl)


class _Value:
    """A value of the textbook tape: its array, the node that made it (None: an input)."""

    __slots__ = ("data", "node", "grad")

    def __init__(self, data, node=None):
        self.data, self.node, self.grad = data, node, None


class _Node:
    __slots__ = ("seq", "inputs", "rule", "g")


_order = itertools.count()


def _record(data, inputs, rule):
    node = _Node()
    node.seq, node.inputs, node.rule, node.g = next(_order), inputs, rule, None
    return _Value(data, node)


class _Tape:
    """The operations ``f_sum`` uses, as a module: ``f_sum(x, _Tape)``."""

    @staticmethod
    def sin(x):
        return _record(np.sin(x.data), (x,), lambda g, a: (g * np.cos(a),))

    @staticmethod
    def cos(x):
        return _record(np.cos(x.data), (x,), lambda g, a: (-g * np.sin(a),))


_Value.__mul__ = lambda a, b: _record(a.data * b.data, (a, b), lambda g, x, y: (g * y, g * x))
_Value.__rmul__ = lambda a, c: _record(c * a.data, (a,), lambda g, x: (g * c,))
_Value.__add__ = lambda a, b: _record(a.data + b.data, (a, b), lambda g, x, y: (g, g))
_Value.sum = lambda a: _record(a.data.sum(), (a,), lambda g, x: (np.broadcast_to(g, x.shape),))


def _column(x, j):
    def rule(g, a):
        out = np.zeros(a.shape)
        out[:, j] = g
        return (out,)
    return _record(x.data[:, j], (x,), rule)


_Value.__getitem__ = lambda x, index: _column(x, index[1])


def _tape_backward(root: _Value) -> None:
    root.node.g = np.ones(())
    heap = [(-root.node.seq, root.node)]
    while heap:
        node = heapq.heappop(heap)[1]
        grads = node.rule(node.g, *[v.data for v in node.inputs])
        for value, g in zip(node.inputs, grads):
            parent = value.node
            if parent is None:
                value.grad = g if value.grad is None else value.grad + g
            elif parent.g is None:
                parent.g = g
                heapq.heappush(heap, (-parent.seq, parent))
            else:
                parent.g = parent.g + g


def tape_descent(x0: np.ndarray) -> np.ndarray:
    x, v = _Value(x0.copy()), np.zeros_like(x0)
    for _ in range(STEPS):
        x.grad = None
        _tape_backward(f_sum(x, _Tape))
        v = -LR * x.grad + MOMENTUM * v
        x.data = x.data + v
    return x.data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--n", type=int, default=1000, help="starting points")
    args = parser.parse_args()
    x0 = np.random.default_rng(2).uniform(0.0, 10.0, size=(args.n, 2))
    rows = {
        "hand": lambda: numpy_descent(hand_gradient, x0),
        "floor": lambda: numpy_descent(floor_gradient, x0),
        "np_forward": lambda: numpy_descent(forward_only, x0),
        "forward": lambda: wonderland_forward(x0),
        "step": lambda: wonderland_descent(x0),
        "tape": lambda: tape_descent(x0),
    }
    for run in rows.values():  # warm up
        run()
    error = np.abs(tape_descent(x0) - numpy_descent(hand_gradient, x0)).max()
    if error > 1e-12:
        raise SystemExit(f"the textbook tape strays from the hand gradient by {error:.3g}")
    gc.collect()
    gc.freeze()  # as anchors.py: the collector only sees what the runs make
    times: dict[str, list[float]] = {name: [] for name in rows}
    for r in range(args.rounds):
        names = list(rows)[r % len(rows):] + list(rows)[:r % len(rows)]
        for name in names:
            gc.collect()
            start = time.perf_counter()
            rows[name]()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    hand = medians["hand"]
    print(f"{'row':10s} {'us/step':>9s} {'x hand':>7s}")
    for name, median in medians.items():
        print(f"{name:10s} {median / STEPS * 1e6:9.1f} {median / hand:7.3f}")
    free = medians["forward"] + medians["floor"] - medians["np_forward"]
    print(f"with a reverse pass and optimizer free of Python: {free / hand:.3f} x hand")
    print(f"the guards' cost, step / tape: {medians['step'] / medians['tape']:.3f}")


if __name__ == "__main__":
    main()
