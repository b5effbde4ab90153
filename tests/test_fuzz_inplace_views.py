"""Differential fuzzing of in-place writes and views against PyTorch.

Hypothesis draws small programs (a list of steps) mixing out-of-place operations
(``+ - * /``, ``sin``, ``exp``, ``sum(dim)``, broadcasting with ``(n,)``/``(1, n)``
operands, ``reshape``, ``.T``, indexing with ints and slices) and in-place ones (``+= -=
*=``, ``mul_``, ``add_``, ``x[i] = v``, ``x[i] op= v``, writes through views taken by
slicing, also of tensors made inside by ``zeros``/``ones``). One interpreter,
``run_steps(m, ...)``, runs the same steps on ``m = wonderland`` and ``m = torch``. The
values of every variable and the gradient with respect to the inputs (``backward()`` or
``wl.grad``) must agree; where PyTorch raises ``RuntimeError`` wonderland must raise too
(a silent different number is the bug hunted). Wonderland may refuse where PyTorch
accepts, with a clear message: those refusals are counted with ``hypothesis.event``
(``--hypothesis-show-statistics``), not failed. Forward mode: ``wl.jvp`` against
``torch.func.jvp``, for programs without writes through views, and with them (which
wonderland refuses).

Generation simulates each program on NumPy arrays (NumPy views alias as PyTorch's do), so
only valid steps are drawn: shapes broadcast, results are non-empty and stay small, ``exp``
sees small values, divisions are by ``b * b + 0.5``. A negative-step slice (PyTorch has
none) is a copy on both sides: ``a[::-1].clone()`` on wonderland, ``index_select`` on
PyTorch. Where PyTorch itself is not the reference:

- in-place operands overlapping the written memory are not drawn, and a program PyTorch
  refuses for overlap is discarded (a memory restriction, no autograd question);
- PyTorch's spurious "a leaf Variable ... in-place" error (``v = a[:]; v[0] = x; v +=
  2.0``, gone once ``v.grad_fn`` is read) is avoided by reading every ``grad_fn``;
- where PyTorch refuses a backward pass for its one version counter per storage,
  wonderland may raise too or must give PyTorch's numbers on copies of the saved tensors;
- forward mode draws no ``y *= y``: ``torch.func.jvp``'s tangent for it is wrong.

The disagreements found (all fixed since) are kept at the end as plainly named tests.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import wonderland as wl

MAX_SIZE = 20  # elements of any variable (x is at most 4 x 5)
MAX_VARS = 14
BOUND = 1e3  # a step whose result leaves [-BOUND, BOUND] is not drawn
SCALARS = [2.0, -0.5, 1.5, 3.0]


# ----------------------------------------------------------------------- the interpreter
# A step is a tuple; a variable is referred to by its number in the environment (an int),
# a constant operand is a float. x is variable 0, w (when there is one) variable 1.


def _index(m, t, idx):
    """``t[idx]``; a slice with a negative step gives a copy on both sides."""
    if not any(type(e) is slice and (e.step or 1) < 0 for e in idx):
        return t[idx]
    if m is wl:
        return t[idx].clone()
    basic, flips, dim_out = [], [], 0
    for dim_in, e in enumerate(idx):
        if type(e) is int:
            basic.append(e)
            continue
        if (e.step or 1) < 0:
            positions = list(range(*e.indices(t.shape[dim_in])))
            basic.append(slice(None))
            flips.append((dim_out, torch.tensor(positions)))
        else:
            basic.append(e)
        dim_out += 1
    out = t[tuple(basic)]
    for d, positions in flips:
        out = out.index_select(d, positions)
    return out


def _operand(m, env, ref):
    return env[ref] if type(ref) is int else ref


def _binary(op, a, b):
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / (b * b + 0.5)  # never near zero
    if op == "/s":
        return a / b
    if op == "r-":
        return b - a
    raise AssertionError(op)


def _inplace(op, t, v):
    if op == "+=":
        t += v
    elif op == "-=":
        t -= v
    elif op == "*=":
        t *= v
    elif op == "mul_":
        t = t.mul_(v)
    elif op == "add_":
        t = t.add_(v)
    else:
        raise AssertionError(op)
    return t


def run_steps(m, steps, x, w=None, touch=False):
    """Run ``steps`` with module ``m`` (``wl`` or ``torch``); the environment at the end.
    ``touch``: read every tensor's ``grad_fn`` after each step (see ``run_torch``)."""
    env = [x] if w is None else [x, w]
    for step in steps:
        if touch:
            for t in env:
                t.grad_fn  # noqa: B018 - read for its effect
        kind = step[0]
        if kind == "new":  # ("new", "zeros"|"ones", shape)
            env.append(getattr(m, step[1])(step[2], dtype=m.float64))
        elif kind == "bin":  # ("bin", op, a, b): b a variable or a constant
            env.append(_binary(step[1], env[step[2]], _operand(m, env, step[3])))
        elif kind == "unary":  # ("unary", "sin"|"exp", a)
            env.append(getattr(m, step[1])(env[step[2]]))
        elif kind == "sum":  # ("sum", a, dim or None)
            a = env[step[1]]
            env.append(a.sum() if step[2] is None else a.sum(step[2]))
        elif kind == "reshape":
            env.append(env[step[1]].reshape(step[2]))
        elif kind == "T":
            env.append(env[step[1]].T)
        elif kind == "index":  # ("index", a, idx)
            env.append(_index(m, env[step[1]], step[2]))
        elif kind == "iop":  # ("iop", op, dst, src): dst op= src, or dst.mul_(s)/.add_(t)
            env[step[2]] = _inplace(step[1], env[step[2]], _operand(m, env, step[3]))
        elif kind == "setitem":  # ("setitem", dst, idx, src)
            env[step[1]][step[2]] = _operand(m, env, step[3])
        elif kind == "isetitem":  # ("isetitem", op, dst, idx, src): dst[idx] op= src
            t, idx, v = env[step[2]], step[3], _operand(m, env, step[4])
            if step[1] == "+=":
                t[idx] += v
            elif step[1] == "-=":
                t[idx] -= v
            else:
                t[idx] *= v
        else:
            raise AssertionError(kind)
    return env


def _weights(shape, k):
    n = math.prod(shape)
    return np.cos(0.7 * np.arange(n) + k).reshape(shape) + 0.25


def make_loss(m, env, loss_vars, n_inputs):
    """A scalar of the inputs (always) and of the chosen variables, each weighed."""
    total = None
    for k in (*range(n_inputs), *loss_vars):
        v = env[k]
        term = (v * m.tensor(_weights(tuple(v.shape), k))).sum()
        total = term if total is None else total + term
    return total


def snapshot(t):
    return t.detach().numpy().copy()


# ----------------------------------------------------------------------- rendering


def _ref(r):
    return f"v{r}" if type(r) is int else repr(r)


def _idx(idx):
    def one(e):
        if e is Ellipsis:
            return "..."
        if type(e) is int:
            return str(e)
        s = f"{'' if e.start is None else e.start}:{'' if e.stop is None else e.stop}"
        return s + ("" if e.step is None else f":{e.step}")

    return ", ".join(one(e) for e in idx)


def render(prog):
    """The program as Python source over a module ``m`` (for reproducing a failure)."""
    lines = [f"X = np.array({prog.X.tolist()!r})"]
    if prog.W is not None:
        lines.append(f"W = np.array({prog.W.tolist()!r})")
    lines.append("v0 = m.tensor(X, requires_grad=True)")
    if prog.W is not None:
        lines.append("v1 = m.tensor(W, requires_grad=True)")
    n = 1 if prog.W is None else 2
    for s in prog.steps:
        kind = s[0]
        if kind == "new":
            lines.append(f"v{n} = m.{s[1]}({s[2]!r}, dtype=m.float64)")
        elif kind == "bin":
            a, b = f"v{s[2]}", _ref(s[3])
            expr = {"/": f"{a} / ({b} * {b} + 0.5)", "/s": f"{a} / {b}",
                    "r-": f"{b} - {a}"}.get(s[1], f"{a} {s[1]} {b}")
            lines.append(f"v{n} = {expr}")
        elif kind == "unary":
            lines.append(f"v{n} = m.{s[1]}(v{s[2]})")
        elif kind == "sum":
            lines.append(f"v{n} = v{s[1]}.sum({'' if s[2] is None else s[2]})")
        elif kind == "reshape":
            lines.append(f"v{n} = v{s[1]}.reshape({s[2]!r})")
        elif kind == "T":
            lines.append(f"v{n} = v{s[1]}.T")
        elif kind == "index":
            neg = any(type(e) is slice and (e.step or 1) < 0 for e in s[2])
            lines.append(f"v{n} = v{s[1]}[{_idx(s[2])}]" + ("  # a copy" if neg else ""))
        elif kind == "iop":
            if s[1] in ("mul_", "add_"):
                lines.append(f"v{s[2]}.{s[1]}({_ref(s[3])})")
            else:
                lines.append(f"v{s[2]} {s[1]} {_ref(s[3])}")
        elif kind == "setitem":
            lines.append(f"v{s[1]}[{_idx(s[2])}] = {_ref(s[3])}")
        elif kind == "isetitem":
            lines.append(f"v{s[2]}[{_idx(s[3])}] {s[1]} {_ref(s[4])}")
        if kind in ("new", "bin", "unary", "sum", "reshape", "T", "index"):
            n += 1
    lines.append(f"loss over v{list(prog.loss_vars)} (and the inputs)")
    return "\n".join(lines)


# ----------------------------------------------------------------------- generation


class Program:
    def __init__(self, X, W, steps, loss_vars, transform):
        self.X, self.W, self.steps = X, W, steps
        self.loss_vars, self.transform = loss_vars, transform
        self.n_inputs = 1 if W is None else 2

    def __repr__(self):
        how = "wl.grad" if self.transform else "backward"
        return "\n" + render(self) + f"\n(wonderland via {how})"


def _shapes_of(size):
    """Shapes of ``size`` elements with at most 3 axes."""
    out = [()] if size == 1 else []
    for nd in (1, 2, 3):
        for dims in itertools.product(range(1, size + 1), repeat=nd):
            if math.prod(dims) == size:
                out.append(dims)
    return out


def _broadcast(a, b):
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        return None


def _overlaps_partially(dst, src):
    """Whether ``src`` shares memory with ``dst`` without being ``dst`` itself."""
    if type(src) is not np.ndarray or not np.shares_memory(dst, src):
        return False
    same = (dst.__array_interface__["data"][0] == src.__array_interface__["data"][0]
            and dst.shape == src.shape and all(
                n == 1 or a == b for n, a, b in zip(dst.shape, dst.strides, src.strides)))
    return not same


def _fine(a):
    return np.all(np.isfinite(a)) and (a.size == 0 or np.max(np.abs(a)) <= BOUND)


KINDS = ["new", "new", "bin", "bin", "bin", "unary", "unary", "sum", "reshape", "T", "index",
         "index", "viewwrite", "viewwrite", "viewwrite", "iop", "iop", "iop", "setitem", "isetitem"]
NO_VIEW_WRITES = [k for k in KINDS if k != "viewwrite"]


@st.composite
def draw_index(draw, shape, negative_steps):
    if not shape:
        return (Ellipsis,)
    k = draw(st.integers(1, len(shape)))
    idx = []
    for n in shape[:k]:
        if draw(st.booleans()):
            idx.append(draw(st.integers(-n, n - 1)))
        else:
            steps = [None, 1, 2, -1, -2] if negative_steps else [None, 1, 2]
            start = draw(st.none() | st.integers(-n, n))
            stop = draw(st.none() | st.integers(-n, n))
            idx.append(slice(start, stop, draw(st.sampled_from(steps))))
    return tuple(idx)


def _full(idx):
    """``idx`` for NumPy, so that ints alone give a 0-d view rather than a scalar."""
    return idx if Ellipsis in idx else idx + (Ellipsis,)


def _negative(idx):
    return any(type(e) is slice and (e.step or 1) < 0 for e in idx)


@st.composite
def programs(draw, view_writes=True, forward=False):
    """A Program; with ``view_writes`` false, no in-place write through a view (nor
    ``x[i] op= v``, which writes through the view ``x[i]``); ``forward``: for forward mode
    (no ``y *= y``, whose tangent torch.func.jvp gets wrong)."""
    rows = draw(st.integers(1, 4))
    cols = draw(st.integers(1, 5))
    shape = draw(st.sampled_from([(rows, cols), (cols,)]))
    floats = st.floats(-2, 2, allow_nan=False, allow_subnormal=False)
    X = draw(hnp.arrays(np.float64, shape, elements=floats))
    w_shape = draw(st.sampled_from([None, (shape[-1],), (1, shape[-1])]))
    W = None if w_shape is None else draw(hnp.arrays(np.float64, w_shape, elements=floats))

    sim = [X.copy()] + ([] if W is None else [W.copy()])  # NumPy stand-ins, aliasing alike
    is_view = [False] * len(sim)
    rg = [True] * len(sim)  # whether the variable requires grad (roughly, as in PyTorch)
    root = list(range(len(sim)))  # the variable whose storage a view views (itself if none)
    made_by_new = [False] * len(sim)  # zeros/ones
    n_in = len(sim)
    steps, features = [], set()
    forced = None  # a view just taken, to be written through by the next step

    def add(step, result, view, a_i, kind):
        steps.append(step)
        sim.append(result)
        is_view.append(bool(view))
        root.append(root[a_i] if view else len(root))
        made_by_new.append(kind == "new")
        if kind == "new":
            rg.append(False)
        elif kind == "bin" and type(step[3]) is int:
            rg.append(rg[a_i] or rg[step[3]])
        else:
            rg.append(rg[a_i])

    for _ in range(draw(st.integers(1, 12))):
        through = forced is not None
        if through:
            kind, a_i, forced = draw(st.sampled_from(["iop", "iop", "isetitem", "setitem"])), \
                forced, None
        else:
            kind = draw(st.sampled_from(KINDS if view_writes else NO_VIEW_WRITES)
                        if len(sim) < MAX_VARS else ["iop", "setitem", "isetitem"])
            a_i = draw(st.integers(0, len(sim) - 1))
            not_inputs = [j for j in range(len(sim)) if root[j] >= n_in]
            if kind in ("viewwrite", "iop", "setitem", "isetitem") and draw(st.integers(0, 9)):
                # mostly not an input (a leaf) nor a view of one: both libraries refuse
                if not_inputs:
                    a_i = draw(st.sampled_from(not_inputs))
                else:
                    kind = "new"  # something to write into
            fresh = [j for j in not_inputs if made_by_new[root[j]] and not rg[root[j]]]
            if kind == "viewwrite" and fresh and draw(st.integers(0, 3)):
                a_i = draw(st.sampled_from(fresh))  # a view of zeros/ones that has no history
        a = sim[a_i]
        step = result = None
        view = False
        if kind == "viewwrite":  # b = a[idx], then b op= ... (the next step)
            idx = draw(draw_index(a.shape, negative_steps=False))
            result = a[_full(idx)]
            if result.size == 0:
                continue
            step, view, forced = ("index", a_i, idx), True, len(sim)
        elif kind == "new":
            s = draw(st.sampled_from([a.shape, (a.shape[-1],) if a.ndim else (),
                                      (1, a.shape[-1]) if a.ndim else (1,)]))
            step = ("new", draw(st.sampled_from(["zeros", "ones"])), s)
            result = np.zeros(s) if step[1] == "zeros" else np.ones(s)
        elif kind == "bin":
            op = draw(st.sampled_from(["+", "-", "*", "/", "/s", "r-"]))
            if op == "/s" or draw(st.integers(0, 3)) == 0:
                b = draw(st.sampled_from(SCALARS))
                op = "/s" if op == "/" else op
                bv = b
            else:
                op = "+" if op == "/s" else op
                fitting = [j for j in range(len(sim)) if (lambda out: out is not None and len(
                    out) <= 3 and math.prod(out) <= MAX_SIZE)(_broadcast(a.shape, sim[j].shape))]
                b = draw(st.sampled_from(fitting))  # (a itself fits)
                bv = sim[b]
            step = ("bin", op, a_i, b)
            with np.errstate(all="ignore"):
                result = _binary(op, a, bv)
        elif kind == "unary":
            f = draw(st.sampled_from(["sin", "exp"]))
            if f == "exp" and a.size and np.max(np.abs(a)) > 3:
                continue
            step, result = ("unary", f, a_i), getattr(np, f)(a)
        elif kind == "sum":
            dim = draw(st.sampled_from([None, *range(a.ndim)]))
            step, result = ("sum", a_i, dim), (a.sum() if dim is None else a.sum(dim))
            result = np.asarray(result)
        elif kind == "reshape":
            s = draw(st.sampled_from(_shapes_of(a.size)))
            step, result = ("reshape", a_i, s), a.reshape(s)
            view = np.shares_memory(result, a)
        elif kind == "T":
            if a.ndim != 2:
                continue
            step, result, view = ("T", a_i), a.T, True
        elif kind == "index":
            idx = draw(draw_index(a.shape, negative_steps=True))
            result = a[_full(idx)]
            if result.size == 0:
                continue
            step, view = ("index", a_i, idx), not _negative(idx)
            if not view:
                result = result.copy()
        elif kind in ("iop", "setitem", "isetitem"):
            if not view_writes and is_view[a_i]:
                continue
            if kind == "iop":
                op = draw(st.sampled_from(["+=", "-=", "*=", "mul_", "add_"]))
            else:
                op = draw(st.sampled_from(["+=", "-=", "*="])) if kind == "isetitem" else "="
                if kind == "isetitem" and not view_writes:
                    continue
                idx = draw(draw_index(a.shape, negative_steps=False))
                if a[_full(idx)].size == 0:
                    continue
            target = a if kind == "iop" else a[_full(idx)]
            if op == "mul_" or draw(st.integers(0, 3)) == 0 and op != "add_":
                src = draw(st.sampled_from(SCALARS))
                sv = src
            else:
                fitting = [j for j in range(len(sim))
                           if _broadcast(target.shape, sim[j].shape) == target.shape]
                if not fitting:
                    continue
                if through and draw(st.integers(0, 3)):  # mostly a recorded write
                    if not any(rg[j] for j in fitting):  # the sum of x fits any shape
                        add(("sum", 0, None), np.asarray(sim[0].sum()), False, 0, "sum")
                        fitting.append(len(sim) - 1)
                    fitting = [j for j in fitting if rg[j]]
                src = draw(st.sampled_from(fitting))
                sv = sim[src]
                if _overlaps_partially(target, sv) or kind == "setitem" and np.shares_memory(
                        a, sv):
                    continue
                if forward and np.shares_memory(a, sv):
                    # y *= y: torch.func.jvp's tangent is wrong (mul_'s forward formula
                    # updates the tangent in place, then reads it again as other's)
                    continue
            with np.errstate(all="ignore"):
                if op == "=":
                    new = np.broadcast_to(sv, target.shape).copy()
                else:
                    new = _binary({"+=": "+", "-=": "-", "*=": "*", "mul_": "*",
                                   "add_": "+"}[op], target, sv)
            if not _fine(new):
                continue
            recorded = rg[a_i] or type(src) is int and rg[src]
            if recorded and is_view[a_i]:
                features.add("a recorded write through a view of a "
                             + ("zeros/ones tensor" if made_by_new[root[a_i]] and not rg[root[a_i]]
                                else "tensor with history" if rg[root[a_i]]
                                else "tensor with no history"))
            if recorded and kind == "isetitem":
                features.add("a recorded x[i] op= v")
            if recorded:
                rg[a_i] = rg[root[a_i]] = True
            target[...] = new  # through the aliasing, as both libraries do
            if kind == "iop":
                steps.append(("iop", op, a_i, src))
            elif kind == "setitem":
                steps.append(("setitem", a_i, idx, src))
            else:
                steps.append(("isetitem", op, a_i, idx, src))
            continue
        if result is None:
            continue
        if type(result) is not np.ndarray:  # NumPy's 0-d results are scalars
            result = np.asarray(result)
        if not _fine(result):
            continue
        if result.size > MAX_SIZE or result.ndim > 3:
            continue
        add(step, result, view, a_i, kind)
    loss_vars = draw(st.lists(st.integers(0, len(sim) - 1), max_size=3, unique=True))
    prog = Program(X, W, steps, tuple(loss_vars), draw(st.booleans()))
    prog.features = features
    return prog


# ----------------------------------------------------------------------- running both


class Outcome:
    def __init__(self):
        self.values = None  # the variables' values at the end of the steps
        self.grads = None
        self.error = None
        self.refused = None  # PyTorch's version-counter error, where values and grads are
        # those of PyTorch on copies of its saved tensors (see run_torch_on_saved_copies)


_SPURIOUS_LEAF = "a leaf Variable that requires grad is being used in an in-place operation"


def run_torch(prog, touch=False):
    """PyTorch's outcome. Its view of a tensor with no history, written with gradients
    (``v = a[:]; v[0] = x``), is refused as "a leaf Variable" by a later in-place op
    (``v += 2.0``) until its ``grad_fn`` is read, which rebuilds the view's history; where
    PyTorch raises that, its outcome is the one with every ``grad_fn`` read after each step."""
    out = Outcome()
    try:
        x = torch.tensor(prog.X.copy(), requires_grad=True)
        w = None if prog.W is None else torch.tensor(prog.W.copy(), requires_grad=True)
        env = run_steps(torch, prog.steps, x, w, touch)
        out.values = [snapshot(v) for v in env]
        make_loss(torch, env, prog.loss_vars, prog.n_inputs).backward()
        out.grads = [x.grad.numpy()] + ([] if w is None else [w.grad.numpy()])
    except RuntimeError as exc:
        out.error = exc
        if _VERSIONS in str(exc) and out.values is not None and not touch:
            return run_torch_on_saved_copies(prog, exc)
        if not touch and str(exc).startswith(_SPURIOUS_LEAF):
            touched = run_torch(prog, touch=True)
            if touched.error is None or not str(touched.error).startswith(_SPURIOUS_LEAF):
                event("torch's spurious leaf error avoided by reading grad_fn")
                return touched
    return out


_VERSIONS = "modified by an inplace operation"


def run_torch_on_saved_copies(prog, exc):
    """PyTorch's version counter is one per storage: a tensor saved for the backward pass
    counts as modified when another part of its storage is written (``a = y[1]; b = y[0];
    b *= a``, then a gradient through ``a``), and the gradient through a view goes through
    every later write to its base. Where PyTorch refuses so, the reference is the same
    program with each tensor saved for the backward pass copied as it is saved (no stale
    values, no refusal): the derivative of the program as it ran. Wonderland may raise
    too, or give these numbers."""
    with torch.autograd.graph.saved_tensors_hooks(torch.clone, lambda t: t):
        out = run_torch(prog, touch=True)
    out.refused = exc
    return out


def run_wonderland(prog):
    out = Outcome()
    X, W = prog.X.copy(), None if prog.W is None else prog.W.copy()
    try:
        if prog.transform:
            def f(x, w=None):
                env = run_steps(wl, prog.steps, x, w)
                out.values = [snapshot(v) for v in env]
                return make_loss(wl, env, prog.loss_vars, prog.n_inputs)

            if W is None:
                out.grads = [wl.grad(f)(wl.tensor(X)).numpy()]
            else:
                out.grads = [g.numpy() for g in wl.grad(f, argnums=(0, 1))(wl.tensor(X),
                                                                            wl.tensor(W))]
        else:
            x = wl.tensor(X, requires_grad=True)
            w = None if W is None else wl.tensor(W, requires_grad=True)
            env = run_steps(wl, prog.steps, x, w)
            out.values = [snapshot(v) for v in env]
            make_loss(wl, env, prog.loss_vars, prog.n_inputs).backward()
            out.grads = [x.grad.numpy()] + ([] if w is None else [w.grad.numpy()])
    except Exception as exc:  # noqa: BLE001 - judged by the caller
        out.error = exc
    return out


REFUSALS: dict[str, str] = {}  # wonderland's refusals where torch accepts: message -> program


def _clear_refusal(exc, torch_raises=True):
    """An error with a message: where PyTorch raises too, a RuntimeError or ValueError;
    where PyTorch works, wonderland's own RuntimeError (its deliberate refusals all are:
    a ValueError there is NumPy's, a crash)."""
    kinds = (RuntimeError, ValueError) if torch_raises else (RuntimeError,)
    return isinstance(exc, kinds) and len(str(exc)) > 20


def _kind_of(message):
    return "".join("#" if c.isdigit() else c for c in message)[:90]


_OVERLAP = "some elements of the input tensor and the written-to tensor refer to a single"


def compare(ours, theirs, prog, value_rtol=1e-12):
    if ours.values is not None and theirs.values is not None:
        assert len(ours.values) == len(theirs.values)
        for i, (a, b) in enumerate(zip(ours.values, theirs.values)):
            assert a.shape == b.shape, f"v{i}: shape {a.shape} vs torch {b.shape}"
            np.testing.assert_allclose(a, b, rtol=value_rtol, atol=1e-12,
                                       err_msg=f"value of v{i} differs from torch")
    if theirs.error is not None and _OVERLAP in str(theirs.error):
        assume(False)  # PyTorch's refusal of overlapping memory: no autograd question
    if theirs.error is not None:
        assert ours.error is not None, (
            f"torch raises {theirs.error!r} but wonderland gives numbers silently")
        assert _clear_refusal(ours.error), f"torch raises; wonderland raises {ours.error!r}"
        event(f"both raise; torch: {_kind_of(str(theirs.error))[:60]}")
        return
    if ours.error is not None:
        if theirs.refused is not None:
            assert _clear_refusal(ours.error), f"torch raises; wonderland raises {ours.error!r}"
            event("both raise; torch: a tensor saved for backward was modified")
            return
        assert _clear_refusal(ours.error, torch_raises=False), (
            f"wonderland fails with {ours.error!r} where torch works")
        kind = _kind_of(str(ours.error))
        REFUSALS.setdefault(kind, render(prog))
        event(f"wonderland refuses, torch accepts: {kind}")
        return
    event("both compute" if theirs.refused is None else
          "torch refuses (one version counter per storage); wonderland computes, compared "
          "with torch on copies of saved tensors")
    for i, (a, b) in enumerate(zip(ours.grads, theirs.grads)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12,
                                   err_msg=f"gradient w.r.t. input {i} differs from torch")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_reverse_mode_agrees_with_torch(prog):
    note(render(prog))
    for feature in prog.features:
        event(feature)
    compare(run_wonderland(prog), run_torch(prog), prog)


# ----------------------------------------------------------------------- forward mode


def _tangents(prog):
    tx = np.cos(np.arange(prog.X.size) * 1.3).reshape(prog.X.shape)
    tw = None if prog.W is None else np.sin(np.arange(prog.W.size) + 0.5).reshape(prog.W.shape)
    return tx, tw


def _jvp(m, prog):
    tx, tw = _tangents(prog)

    def f(*inputs):
        env = run_steps(m, prog.steps, *inputs)
        return (make_loss(m, env, prog.loss_vars, prog.n_inputs), *env)

    primals = (m.tensor(prog.X.copy()),) + (() if prog.W is None else (m.tensor(prog.W.copy()),))
    tangents = (m.tensor(tx),) + (() if tw is None else (m.tensor(tw),))
    jvp = wl.jvp if m is wl else torch.func.jvp
    values, slopes = jvp(f, primals, tangents)
    return [snapshot(v) for v in values], [snapshot(s) for s in slopes]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(view_writes=False, forward=True))
def test_forward_mode_agrees_with_torch_func_jvp(prog):
    note(render(prog))
    compare_jvp(prog)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(view_writes=True, forward=True))
def test_forward_mode_refuses_view_writes_or_agrees(prog):
    """Writes through views, which wonderland refuses under forward mode: a refusal, or
    PyTorch's numbers, never others."""
    note(render(prog))
    compare_jvp(prog)


def compare_jvp(prog):
    try:
        theirs, their_error = _jvp(torch, prog), None
    except RuntimeError as exc:
        theirs, their_error = None, exc
    try:
        ours, our_error = _jvp(wl, prog), None
    except Exception as exc:  # noqa: BLE001 - judged below
        ours, our_error = None, exc
    if their_error is not None and _OVERLAP in str(their_error):
        assume(False)
    if their_error is not None:
        assert our_error is not None, (
            f"torch raises {their_error!r} but wonderland gives numbers silently")
        assert _clear_refusal(our_error), f"torch raises; wonderland raises {our_error!r}"
        return
    if our_error is not None:
        assert _clear_refusal(our_error, torch_raises=False), (
            f"wonderland fails with {our_error!r} where torch works")
        kind = _kind_of(str(our_error))
        REFUSALS.setdefault("jvp: " + kind, render(prog))
        event(f"wonderland refuses, torch accepts: {kind}")
        return
    event("both compute")
    for i, (a, b) in enumerate(zip(ours[0], theirs[0])):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12,
                                   err_msg=f"value of output {i} differs from torch")
    for i, (a, b) in enumerate(zip(ours[1], theirs[1])):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12,
                                   err_msg=f"tangent of output {i} differs from torch")


def _grad_as_torch_or_refused(f):
    """``f(x, m)``'s gradient at x = [1, 2, 3]: PyTorch's, or a clear refusal."""
    def theirs():
        x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
        f(x, torch).backward()
        return [x.grad.numpy()]

    _torch_or_refused(lambda: [wl.grad(lambda x: f(x, wl))(wl.tensor([1.0, 2.0, 3.0]))],
                      theirs, _same_arrays)


# ----------------------------------------------------------------------- disagreements found
# The smallest programs the properties above found giving a different number than PyTorch
# without an error (while they were written: silent wrong tangents, gradients and values).
# Each must now give PyTorch's numbers, or be refused with a clear RuntimeError.


def _torch_or_refused(ours, theirs, check):
    """``check(ours(), theirs())``, unless wonderland refuses ``ours`` clearly."""
    try:
        got = ours()
    except RuntimeError as exc:
        assert len(str(exc)) > 20, repr(exc)
        return
    check(got, theirs())


def _equal(ours, theirs):
    assert ours == theirs, f"wonderland {ours!r}, torch {theirs!r}"


def _same_arrays(ours, theirs):
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("view", ["y[0]", "y.T", "y.reshape(-1)"])
def test_jvp_of_a_view_taken_before_an_inplace_write_of_its_base(view):
    """Was: the view kept its tangent from before the write (values right, tangent [1, 1]
    instead of [2, 2])."""

    def f(x, m):
        y = x * 1.0
        v = {"y[0]": lambda: y[0], "y.T": lambda: y.T, "y.reshape(-1)": lambda: y.reshape(-1)}[
            view]()
        y.mul_(2.0)  # v sees it (shared storage)
        return v  # = 2 x

    x, t = np.array([[1.0, 2.0]]), np.ones((1, 2))
    _torch_or_refused(
        lambda: [r.numpy() for r in wl.jvp(lambda x: f(x, wl), (wl.tensor(x),),
                                            (wl.tensor(t),))],
        lambda: [r.numpy() for r in torch.func.jvp(lambda x: f(x, torch), (torch.tensor(x),),
                                                   (torch.tensor(t),))],
        _same_arrays)


@pytest.mark.parametrize("view", ["a[0:2]", "a[:]", "a.reshape(3, 1)"])
def test_grad_through_a_view_taken_before_its_no_history_base_is_written(view):
    """Was: ``v`` of ``a = zeros(3)`` taken before ``a += x`` saw x's values but not its
    history (gradient [1, 2, 0] instead of [2, 4, 0])."""

    def f(x, m):
        a = m.zeros(3, dtype=x.dtype)
        v = {"a[0:2]": lambda: a[0:2], "a[:]": lambda: a[:],
             "a.reshape(3, 1)": lambda: a.reshape(3, 1)}[view]()
        a += x
        return (v.reshape(-1)[0:2] * x[0:2]).sum()  # = x0**2 + x1**2

    _grad_as_torch_or_refused(f)


@pytest.mark.parametrize("view", [
    "s[...]", "s.reshape(1)", "s.view(1)", "s[None]",
    "s.reshape(())",
])
def test_view_of_a_0d_result_sees_inplace_writes(view):
    """Was: a view of a 0-d result of an operation (its data a NumPy scalar) was a copy:
    ``s[...]`` stayed 3.0 after ``s += 2.0``, and writes to the view missed ``s``."""

    def f(m):
        s = m.tensor([1.0, 2.0], dtype=m.float64).sum()  # 0-d, 3.0
        v = {"s[...]": lambda: s[...], "s.reshape(1)": lambda: s.reshape(1),
             "s.view(1)": lambda: s.view(1), "s[None]": lambda: s[None],
             "s.reshape(())": lambda: s.reshape(())}[view]()  # a view
        s += 2.0
        before = v.tolist()
        v += 10.0
        return before, s.item()

    _torch_or_refused(lambda: f(wl), lambda: f(torch), _equal)  # (5.0, 15.0)


def test_inplace_op_through_an_index_of_a_0d_result():
    """Was: ``s[...] += x.sum()`` on a 0-d result that requires grad left ``s`` at 1.0
    (PyTorch: 2.0), its recorded gradient right."""

    def f(m):
        x = m.tensor([1.0], dtype=m.float64, requires_grad=True)
        s = x.sum()  # 0-d: 1.0
        s[...] += x.sum()  # 2.0 (s[()] += ...: the same)
        s.backward()
        return s.item(), x.grad.tolist()

    _torch_or_refused(lambda: f(wl), lambda: f(torch), _equal)  # (2.0, [2.0])


@pytest.mark.parametrize("write", ["v.mul_(3.0)", "v[0] = 7.0"])
def test_inplace_op_on_a_view_after_its_base_was_written(write):
    """Was: an in-place op on a view whose base was written after the view was taken used
    the view's stale history (an out-of-place use was refused): gradient [3, 3, 2] instead
    of [6, 6, 2]; [0, 1, 2] instead of [0, 2, 2] for ``v[0] = 7.0``."""

    def f(x, m):
        y = x * 1.0
        v = y[0:2]
        y.mul_(2.0)  # v sees it (shared storage)
        if write == "v.mul_(3.0)":  # y[0:2] = 6 x[0:2]
            v.mul_(3.0)
        else:
            v[0] = 7.0
        return y.sum()

    _grad_as_torch_or_refused(f)


def test_recorded_write_through_a_view_of_a_0d_tensor_with_no_history():
    """Was: NumPy's 'ValueError: multiple indices are not supported for 0d arrays'."""
    def f(m):
        x = m.tensor([1.5], dtype=m.float64, requires_grad=True)
        s = m.zeros((), dtype=m.float64)
        v = s.reshape(1)  # a view of s
        v += x  # s = x
        (s * 2.0).backward()
        return s.item(), x.grad.tolist()

    _torch_or_refused(lambda: f(wl), lambda: f(torch), _equal)  # torch: (1.5, [2.0])
