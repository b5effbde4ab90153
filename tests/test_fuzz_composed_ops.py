"""Differential fuzzing of composed out-of-place operations against PyTorch.

Hypothesis draws small programs (a list of steps) on float64 tensors of shapes up to
``(3, 4)`` (plus up to two batch axes for matmul), composing: ``@``/``matmul`` (batched,
broadcast batch axes, 1-d operands on either side), ``einsum`` with fixed subscripts
(``ij,jk->ik ij,ij->i ij,kj->ik ij,j->i ij,ij-> ij->ji ij-> ij->j ii->i i,i-> i,j->ij
bij,bjk->bik bij->bji bij,bij->b``), ``sum mean prod amax amin logsumexp`` over an int, a
tuple or all dims with ``keepdim`` (also on 0-d results), ``var``/``std`` (``correction``
0 and 1, the methods with ``unbiased=``), ``softmax``/``log_softmax`` over a dim, ``norm``
(p = 1, 2, 3, inf, -inf, 0; ``wl.norm(x, ord)``, ``p=`` and the method; wonderland has no
``wl.linalg.norm``, torch's side is ``torch.linalg.vector_norm``), ``maximum``/``minimum``
(also of a tensor with itself or its flip: ties on purpose), ``where`` (condition ``c > 0``,
broadcast, a Python number on one side), ``clamp``/``clip``/the method (number bounds,
including ``min == max``, and tensor bounds), ``abs``, ``relu``, ``sqrt`` (of ``x*x +
0.25``), ``tanh``, ``sigmoid``, broadcasting ``+ - *``, ``reshape transpose permute
flatten squeeze unsqueeze mT``, ``stack``/``cat``/``concatenate``, indexing with integer
arrays (1-d and 2-d, negative and repeated indices on purpose, on axis 0 or 1, or a pair
of arrays), boolean masks (fixed, full or leading-axis, and ``x[x > 0]``). One
interpreter, ``apply_step(m, ...)``, runs the same steps on ``m = wonderland`` and
``m = torch`` (wonderland's ``amax``/``amin`` are ``wl.max``/``wl.min``, or the methods).

Inputs are drawn mostly from a small grid of values (``-2 ... 2`` with ``0``), so ties of
``maximum``/``minimum``/``amax``/``amin``, zeros of ``abs``/``relu``/``prod`` and values
at ``clamp``'s bounds happen often: wonderland documents PyTorch's subgradients there, so
a disagreement at a kink is a finding (``test_documented_kink_matches_torch`` also checks
each kink once, plainly). What is avoided is a *near* kink (operands that differ by
rounding only, where the two libraries may legitimately land on different sides): both
runs report those, and such a program is discarded. Also left out: ``std`` at zero
variance (PyTorch's gradient is NaN), inputs of magnitude under 1e-6 (PyTorch's norm of a
single tiny entry is exact where that of several underflows, as NumPy's and wonderland's
do), and, in forward mode only, ``x`` equal to a tensor bound of ``clamp``, where
``torch.func.jvp`` disagrees with PyTorch's own reverse mode (see
``test_clamp_at_a_tensor_bound_forward_mode_follows_reverse_mode``).

Checked: the values of every variable (rtol 1e-12), the gradients of all inputs by
``backward()`` of ``sum((v * R).sum())`` over the results for fixed random ``R`` (rtol
1e-9, atol 1e-12), and ``wl.jvp`` against ``torch.func.jvp`` for every result (values
and tangents). No disagreement of wonderland with PyTorch was found.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

import wonderland as wl

GRID = [-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0]
BOUND = 1e3  # a step whose values leave [-BOUND, BOUND] is not drawn
MAX_SIZE = 24
NEAR = 1e-9  # a kink closer than NEAR * scale (but not at it) discards the program

UNARY = ["abs", "relu", "tanh", "sigmoid", "sqrtpos", "abs_method", "relu_method"]
BINARY = ["add", "sub", "mul", "maximum", "minimum", "maximum_flip", "minimum_flip"]
REDUCE = ["sum", "mean", "prod", "amax", "amin", "logsumexp", "amax_method", "amin_method"]
CLAMPS = [(-0.5, 1.0), (None, 0.5), (0.0, None), (-1.0, -1.0), (0.0, 1.5)]
EINSUM2 = ["ij,jk->ik", "ij,ij->i", "ij,kj->ik", "ij,j->i", "ij,ij->"]
EINSUM1 = ["ij->ji", "ij->", "ij->j", "ii->i"]


# ----------------------------------------------------------------------- the interpreter


def _np(t):
    return np.asarray(t.detach().numpy())


class Near:
    """Collects whether any kink operand is near, but not at, its kink."""

    def __init__(self):
        self.near = False
        self.why = []
        self.bound_tie = False  # x equal to a tensor bound of clamp

    def dist(self, d, scale, what):
        d = np.abs(np.asarray(d, dtype=float))
        if ((d > 0) & (d < NEAR * (1.0 + scale))).any():
            self.near = True
            self.why.append(what)


def _scale(*ts):
    return max(float(np.abs(_np(t)).max(initial=0.0)) for t in ts)


def _index_arg(m, idx):
    return torch.as_tensor(idx) if m is torch else idx


def apply_step(m, env, step, near, leaf):  # noqa: C901, PLR0911, PLR0912 - one big switch
    kind = step[0]
    if kind == "leaf":
        return leaf(step[1])
    if kind == "unary":
        _, name, i = step
        x = env[i]
        if name in ("abs", "relu", "abs_method", "relu_method"):
            near and near.dist(_np(x), _scale(x), name)
        if name == "abs":
            return m.abs(x)
        if name == "abs_method":
            return x.abs()
        if name == "relu":
            return m.relu(x)
        if name == "relu_method":
            return x.relu()
        if name == "tanh":
            return m.tanh(x)
        if name == "sigmoid":
            return m.sigmoid(x)
        if name == "sqrtpos":
            return m.sqrt(x * x + 0.25)
        raise AssertionError(name)
    if kind == "clamp_t":
        _, how, i, j, side = step
        x, b = env[i], env[j]
        near and near.dist(_np(x) - _np(b), _scale(x, b), "clamp_t")
        if near and (_np(x) == _np(b)).any():
            near.bound_tie = True
        kw = {"min": b} if side == "min" else {"max": b}
        return x.clamp(**kw) if how == "method" else m.clamp(x, **kw)
    if kind == "clamp":
        _, how, i, lo, hi = step
        x = env[i]
        for b in (lo, hi):
            if b is not None:
                near and near.dist(_np(x) - b, _scale(x), "clamp")
        if how == "clamp":
            return m.clamp(x, min=lo, max=hi)
        if how == "clip":
            return m.clip(x, lo, hi)
        return x.clamp(min=lo, max=hi)
    if kind == "binary":
        _, name, i, j = step
        a, b = env[i], env[j]
        if name.endswith("_flip"):  # against itself reversed: ties in the middle
            name, b = name[:-5], b.flip(-1)
        if name in ("maximum", "minimum"):
            near and near.dist(_np(a) - _np(b), _scale(a, b), name)
            return getattr(m, name)(a, b)
        return {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b}[name]()
    if kind == "where":
        _, c, i, j = step
        near and near.dist(_np(env[c]), _scale(env[c]), "where")
        x = env[i] if i is not None else 0.5
        y = env[j] if j is not None else -1.0
        return m.where(env[c] > 0, x, y)
    if kind == "reduce":
        _, name, i, dim, keep = step
        x = env[i]
        if near and name in ("amax", "amin", "amax_method", "amin_method"):
            a = _np(x)
            red = np.max if name.startswith("amax") else np.min
            axis = dim if dim is None or isinstance(dim, int) else tuple(dim)
            near.dist(a - red(a, axis=axis, keepdims=True), _scale(x), name)
        if name == "prod":
            return m.prod(x, dim, keepdim=keep) if dim is not None else m.prod(x)
        if name == "logsumexp" and m is torch and dim is None:
            return torch.logsumexp(x, tuple(range(x.ndim)), keepdim=keep)
        if name in ("amax", "amin"):
            fn = getattr(torch, name) if m is torch else getattr(wl, name[1:])
            return fn(x, dim=() if dim is None and m is torch else dim, keepdim=keep)
        if name in ("amax_method", "amin_method"):
            meth = getattr(x, name[:4])
            return meth(dim=() if dim is None and m is torch else dim, keepdim=keep)
        return getattr(m, name)(x, dim=dim, keepdim=keep)
    if kind == "var":
        _, name, i, dim, keep, corr = step
        x = env[i]
        if name.startswith("std") and near:
            v = _np(torch.as_tensor(_np(x)).var(dim=dim, correction=corr))
            if (np.abs(v) < 1e-9).any():
                near.near = True
                near.why.append("std at zero variance")
        if name.endswith("_method"):
            return getattr(x, name[:3])(dim=dim, keepdim=keep, unbiased=bool(corr))
        return getattr(m, name)(x, dim=dim, keepdim=keep, correction=corr)
    if kind == "norm":
        _, how, i, p, dim, keep = step
        x = env[i]
        if near and p == 1:
            near and near.dist(_np(x), _scale(x), "norm1")
        if near and p == 2:
            n = np.sqrt((_np(x) ** 2).sum(axis=dim, keepdims=True))
            near and near.dist(n, _scale(x), "norm2 origin")
        if m is torch:
            return torch.linalg.vector_norm(x, p, dim=dim, keepdim=keep)
        if how == "p":
            return wl.norm(x, p=p, dim=dim, keepdim=keep)
        if how == "method":
            return x.norm(p, dim, keep)
        return wl.norm(x, p, dim=dim, keepdim=keep)
    if kind == "softmax":
        _, name, i, dim = step
        return getattr(m, name)(env[i], dim=dim)
    if kind == "reshape":
        return env[step[1]].reshape(step[2])
    if kind == "transpose":
        return m.transpose(env[step[1]], step[2], step[3])
    if kind == "permute":
        return env[step[1]].permute(*step[2])
    if kind == "flatten":
        return m.flatten(env[step[1]], step[2], step[3])
    if kind == "squeeze":
        return m.squeeze(env[step[1]], step[2])
    if kind == "unsqueeze":
        return m.unsqueeze(env[step[1]], step[2])
    if kind == "T":
        return env[step[1]].mT
    if kind == "stack":
        _, name, i, j, dim = step
        if name == "concatenate" and m is wl:
            return wl.concatenate([env[i], env[j]], axis=dim)
        return getattr(m, "cat" if name == "concatenate" else name)([env[i], env[j]], dim=dim)
    if kind == "index":
        _, i, axis, idx = step
        idx = _index_arg(m, np.asarray(idx))
        return env[i][idx] if axis == 0 else env[i][:, idx]
    if kind == "mask_cmp":
        x = env[step[1]]
        near and near.dist(_np(x), _scale(x), "mask_cmp")
        return x[x > 0]
    if kind == "index2":
        _, i, i0, i1 = step
        return env[i][_index_arg(m, np.asarray(i0)), _index_arg(m, np.asarray(i1))]
    if kind == "mask":
        _, i, mask = step
        return env[i][_index_arg(m, np.asarray(mask))]
    if kind == "matmul":
        _, how, i, j = step
        return env[i] @ env[j] if how == "@" else m.matmul(env[i], env[j])
    if kind == "einsum":
        _, sub, *ops = step
        return m.einsum(sub, *[env[k] for k in ops])
    raise AssertionError(kind)


def run_program(m, steps, leaves, check=True):
    """Runs ``steps``; ``leaves`` are the input tensors, taken in order by the leaf steps.
    With ``check``, also reports near kinks (not under ``torch.func``)."""
    env, near, it = [], Near() if check else None, iter(leaves)
    for step in steps:
        env.append(apply_step(m, env, step, near, lambda _arr: next(it)))
    return env, near


def leaf_arrays(steps):
    return [s[1] for s in steps if s[0] == "leaf"]


def _weights(shape, k):
    rng = np.random.default_rng(1000 + 17 * k + len(shape))
    return np.round(rng.standard_normal(shape), 3) + 0.25


def run_reverse(m, prog):
    leaves = [m.tensor(a.copy(), requires_grad=True) for a in leaf_arrays(prog.steps)]
    env, near = run_program(m, prog.steps, leaves)
    loss = 0.0
    for k, (step, v) in enumerate(zip(prog.steps, env)):
        if step[0] != "leaf":
            loss = loss + (v * m.tensor(_weights(tuple(v.shape), k))).sum()
    loss.backward()
    grads = [np.zeros(leaf.shape) if leaf.grad is None else _np(leaf.grad) for leaf in leaves]
    return [_np(v).copy() for v in env], grads, near


def run_jvp(m, prog):
    arrays = leaf_arrays(prog.steps)
    primals = tuple(m.tensor(a.copy()) for a in arrays)
    tangents = tuple(m.tensor(np.cos(np.arange(a.size) * 1.3 + k).reshape(a.shape))
                     for k, a in enumerate(arrays))
    keep = [k for k, s in enumerate(prog.steps) if s[0] != "leaf"]

    def f(*xs):
        env, _ = run_program(m, prog.steps, xs, check=False)
        return tuple(env[k] for k in keep)

    jvp = wl.jvp if m is wl else torch.func.jvp
    values, slopes = jvp(f, primals, tangents)
    return [_np(v).copy() for v in values], [_np(s).copy() for s in slopes]


# ----------------------------------------------------------------------- generation


class Program:
    def __init__(self, steps):
        self.steps = steps

    def __repr__(self):
        lines = []
        for k, s in enumerate(self.steps):
            if s[0] == "leaf":
                lines.append(f"v{k} = leaf({s[1].tolist()!r})")
            else:
                lines.append(f"v{k} = {s!r}")
        return "\n".join(lines)


_values = st.one_of(st.sampled_from(GRID), st.sampled_from(GRID), st.floats(-2, 2, width=16),
                    # tiny magnitudes are left out: torch's norm of one tiny entry is
                    # exact, of several it underflows as NumPy's and wonderland's
                    st.floats(-3, 3).map(lambda v: 0.0 if abs(v) < 1e-6 else v))


def _array(draw, shape):
    n = int(np.prod(shape, dtype=int))
    vals = draw(st.lists(_values, min_size=n, max_size=n))
    return np.array(vals, dtype=np.float64).reshape(shape)


def _small_shape(draw, ndim=None):
    ndim = draw(st.integers(1, 2)) if ndim is None else ndim
    return tuple(draw(st.integers(1, 4 if d == ndim - 1 else 3)) for d in range(ndim))


def _partner_shape(draw, shape):
    """A shape broadcasting with ``shape`` to ``shape``."""
    out = [draw(st.sampled_from([n, 1])) if n > 1 else 1 for n in shape]
    drop = draw(st.integers(0, len(out)))
    return tuple(out[drop:])


def _dim_arg(draw, ndim, allow_tuple=True, allow_none=True):
    opts = [draw(st.integers(-ndim, ndim - 1))]
    if allow_none:
        opts.append(None)
    if allow_tuple and ndim >= 2:
        opts.append(tuple(sorted(draw(st.sampled_from([(0, 1), (0, -1), (-2, -1)]))[:ndim])))
    return draw(st.sampled_from(opts))


@st.composite
def programs(draw, min_steps=1, max_steps=6):  # noqa: C901, PLR0912, PLR0915
    steps, env = [], []
    near = Near()

    def push(step):
        """Simulates ``step`` on torch; keeps it when valid, returns its index or None."""
        try:
            with torch.no_grad():
                out = apply_step(torch, env, step, near, lambda a: torch.tensor(a))
        except (RuntimeError, IndexError, ValueError) as exc:
            event(f"generator skipped an invalid step: {type(exc).__name__}")
            return None
        a = _np(out)
        if a.size == 0 or a.size > MAX_SIZE or a.ndim > 4 or not np.isfinite(a).all() \
                or np.abs(a).max() > BOUND:
            return None
        steps.append(step)
        env.append(out)
        return len(env) - 1

    def leaf(shape):
        return push(("leaf", _array(draw, shape)))

    leaf(_small_shape(draw))
    n = draw(st.integers(min_steps, max_steps))
    while len([s for s in steps if s[0] != "leaf"]) < n:
        i = draw(st.sampled_from(range(len(env))[-3:])) if draw(st.booleans()) else \
            draw(st.integers(0, len(env) - 1))
        x = env[i]
        shape, nd = tuple(x.shape), x.ndim
        op = draw(st.sampled_from(["unary", "clamp", "binary", "binary", "where", "reduce",
                                   "var", "norm", "softmax", "shape", "stack", "index",
                                   "mask", "matmul", "matmul", "einsum"]))
        if nd == 0 and op not in ("unary", "clamp", "binary", "where", "reduce"):
            op = "unary"
        if op == "unary":
            push(("unary", draw(st.sampled_from(UNARY)), i))
        elif op == "clamp" and draw(st.integers(0, 2)) == 0:  # a tensor bound
            j = leaf(_partner_shape(draw, shape))
            if j is not None:
                push(("clamp_t", draw(st.sampled_from(["clamp", "method"])), i, j,
                      draw(st.sampled_from(["min", "max"]))))
        elif op == "clamp":
            lo, hi = draw(st.sampled_from(CLAMPS))
            push(("clamp", draw(st.sampled_from(["clamp", "clip", "method"])), i, lo, hi))
        elif op in ("binary", "where"):
            same = [k for k, t in enumerate(env) if tuple(t.shape) == shape]  # i too: ties
            if same and draw(st.booleans()):
                j = draw(st.sampled_from(same))
            else:
                j = leaf(_partner_shape(draw, shape))
                if j is None:
                    continue
            a, b = (i, j) if draw(st.booleans()) else (j, i)
            if op == "binary":
                push(("binary", draw(st.sampled_from(BINARY)), a, b))
            else:
                c = draw(st.sampled_from([i, j]))
                if draw(st.integers(0, 3)) == 0:  # a Python number on one side
                    a, b = (a, None) if draw(st.booleans()) else (None, b)
                push(("where", c, a, b))
        elif op == "reduce":
            dim = _dim_arg(draw, nd) if nd else draw(st.sampled_from([None, 0, -1]))
            name = draw(st.sampled_from(REDUCE))
            if name == "prod" and isinstance(dim, tuple):
                dim = dim[0]
            push(("reduce", name, i, dim, draw(st.booleans())))
        elif op == "var":
            dim = _dim_arg(draw, nd)
            count = x.numel() if dim is None else int(np.prod(
                [shape[d] for d in ((dim,) if isinstance(dim, int) else dim)]))
            corr = draw(st.sampled_from([0, 1])) if count > 1 else 0
            name = draw(st.sampled_from(["var", "std", "var_method", "std_method"]))
            push(("var", name, i, dim, draw(st.booleans()), corr))
        elif op == "norm":
            p = draw(st.sampled_from([1, 2, 3, np.inf, -np.inf, 0]))
            push(("norm", draw(st.sampled_from(["ord", "p", "method"])), i, p,
                  _dim_arg(draw, nd), draw(st.booleans())))
        elif op == "softmax":
            push(("softmax", draw(st.sampled_from(["softmax", "log_softmax"])), i,
                  draw(st.integers(-nd, nd - 1))))
        elif op == "shape":
            what = draw(st.sampled_from(["reshape", "transpose", "permute", "flatten",
                                         "squeeze", "unsqueeze", "T"]))
            if what == "reshape":
                size = x.numel()
                cands = [(size,), (-1,), (1, size), (size, 1)] + [
                    (a, size // a) for a in range(2, size) if size % a == 0]
                push(("reshape", i, draw(st.sampled_from(cands))))
            elif what == "transpose":
                push(("transpose", i, draw(st.integers(-nd, nd - 1)),
                      draw(st.integers(-nd, nd - 1))))
            elif what == "permute":
                push(("permute", i, tuple(draw(st.permutations(range(nd))))))
            elif what == "flatten":
                s = draw(st.integers(0, nd - 1))
                push(("flatten", i, s, draw(st.integers(s, nd - 1))))
            elif what == "squeeze":
                ones = [d for d in range(nd) if shape[d] == 1]
                if ones:
                    push(("squeeze", i, draw(st.sampled_from(ones))))
            elif what == "unsqueeze" and nd < 3:
                push(("unsqueeze", i, draw(st.integers(-nd - 1, nd))))
            elif what == "T" and nd >= 2:
                push(("T", i))
        elif op == "stack":
            name = draw(st.sampled_from(["stack", "cat", "concatenate"]))
            if name == "stack":
                dim = draw(st.integers(-nd - 1, nd))
                other = shape
            else:
                dim = draw(st.integers(-nd, nd - 1))
                other = list(shape)
                other[dim] = draw(st.integers(1, 2))
                other = tuple(other)
            same = [k for k, t in enumerate(env) if tuple(t.shape) == other]
            j = draw(st.sampled_from(same)) if same and draw(st.booleans()) else leaf(other)
            if j is None:
                continue
            a, b = (i, j) if draw(st.booleans()) else (j, i)
            push(("stack", name, a, b, dim))
        elif op == "index" and nd >= 2 and draw(st.booleans()):
            k = draw(st.integers(1, 4))
            i0 = draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=k, max_size=k))
            i1 = draw(st.lists(st.integers(-shape[1], shape[1] - 1), min_size=k, max_size=k))
            if k >= 2:
                i0[1], i1[1] = i0[0], i1[0]  # the same element twice
            push(("index2", i, i0, i1))
        elif op == "index":
            axis = draw(st.integers(0, min(nd, 2) - 1))
            n_ax = shape[axis]
            idx = draw(st.lists(st.integers(-n_ax, n_ax - 1), min_size=1, max_size=4))
            if len(idx) >= 2 and draw(st.booleans()):
                idx[1] = idx[0]  # a repeated index on purpose
            if draw(st.booleans()):
                idx = [[idx[0], idx[-1]], [idx[-1], idx[0]]]  # a 2-d index array
            push(("index", i, axis, idx))
        elif op == "mask" and draw(st.integers(0, 2)) == 0:
            push(("mask_cmp", i))
        elif op == "mask":
            mshape = shape if draw(st.booleans()) else shape[:1]
            mask = np.array(draw(st.lists(st.booleans(), min_size=int(np.prod(mshape)),
                                          max_size=int(np.prod(mshape))))).reshape(mshape)
            if mask.any():
                push(("mask", i, mask))
        elif op == "matmul":
            how = draw(st.sampled_from(["@", "matmul"]))
            if nd == 1:
                k = shape[0]
                other = draw(st.sampled_from([(k,), (k, 2), (2, k, 3), (1, 2, k, 2)]))
            else:
                k = shape[-1]
                batch = shape[:-2]
                other = draw(st.sampled_from([(k,), (k, 2), (2, k, 1), batch + (k, 3),
                                              (1,) * len(batch) + (k, 2), (2, 1, k, 2)]))
            same = [t for t, v in enumerate(env) if tuple(v.shape) == other]
            j = draw(st.sampled_from(same)) if same and draw(st.booleans()) else leaf(other)
            if j is None:
                continue
            if draw(st.booleans()) and len(other) >= 2 and nd >= 2:
                # the other order: (.., m, k) @ x^T shaped (k, n)? use x as the right side
                # with a left operand whose last axis matches x's second last
                left = leaf(other[:-2] + (2, shape[-2]))
                if left is not None:
                    push(("matmul", how, left, i))
                continue
            push(("matmul", how, i, j))
        elif op == "einsum":
            if nd == 1:
                sub = draw(st.sampled_from(["i,i->", "i,j->ij", "i->"]))
            elif nd == 2:
                sub = draw(st.sampled_from(EINSUM1 + EINSUM2))
                if sub == "ii->i" and shape[0] != shape[1]:
                    sub = "ij->ji"
            else:
                sub = draw(st.sampled_from(["bij,bjk->bik", "bij->bji", "bij,bij->b"]))
            ins = sub.split("->")[0].split(",")
            if len(ins) == 1:
                push(("einsum", sub, i))
                continue
            sizes = dict(zip(ins[0], shape))
            other = tuple(sizes.get(c, 2) for c in ins[1])
            j = leaf(other)
            if j is not None:
                push(("einsum", sub, i, j))
    assume(not near.near)
    return Program(steps)


# ----------------------------------------------------------------------- the properties


def _features(prog):
    for s in prog.steps:
        if s[0] in ("unary", "binary", "reduce", "var", "softmax", "stack", "clamp"):
            event(f"{s[0]}:{s[1]}")
        elif s[0] == "einsum":
            event(f"einsum {s[1]}")
        else:
            event(s[0])


def _close(ours, theirs, rtol, what):
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert a.shape == b.shape, f"{what} {k}: shape {a.shape} vs torch {b.shape}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12,
                                   err_msg=f"{what} {k} differs from torch")


@settings(max_examples=2000, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(programs())
def test_reverse_mode_agrees_with_torch(prog):
    note(repr(prog))
    _features(prog)
    t_vals, t_grads, t_near = run_reverse(torch, prog)
    w_vals, w_grads, w_near = run_reverse(wl, prog)
    assume(not t_near.near and not w_near.near)
    _close(w_vals, t_vals, 1e-12, "value of v")
    _close(w_grads, t_grads, 1e-9, "gradient of input")


@settings(max_examples=800, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(programs(max_steps=4))
def test_forward_mode_agrees_with_torch_func_jvp(prog):
    note(repr(prog))
    t_near = run_program(torch, prog.steps, [torch.tensor(a) for a in leaf_arrays(prog.steps)])[1]
    w_near = run_program(wl, prog.steps, [wl.tensor(a) for a in leaf_arrays(prog.steps)])[1]
    assume(not t_near.near and not w_near.near)
    # torch.func.jvp's clamp takes the bound's tangent at x == a tensor bound, against
    # its own reverse mode (x's gradient); wonderland follows the reverse mode
    assume(not t_near.bound_tie)
    t_vals, t_slopes = run_jvp(torch, prog)
    w_vals, w_slopes = run_jvp(wl, prog)
    _close(w_vals, t_vals, 1e-12, "value of result")
    _close(w_slopes, t_slopes, 1e-9, "tangent of result")


# ----------------------------------------------------------------------- PyTorch's own quirk


def test_clamp_at_a_tensor_bound_forward_mode_follows_reverse_mode():
    """At ``x == min`` (a tensor bound), PyTorch's reverse mode gives the gradient to ``x``
    (bounds inclusive, as wonderland documents), but ``torch.func.jvp`` takes the bound's
    tangent. Wonderland's forward mode agrees with the reverse modes; the forward property
    above leaves such ties out."""
    def f(m, x, b):
        return m.clamp(x, min=b)

    tx, tb = np.array([1.0, 1.0]), np.array([0.25, 0.25])
    xs, bs = np.array([-2.0, 0.0]), np.array([-2.0, -1.0])
    x, b = torch.tensor(xs, requires_grad=True), torch.tensor(bs, requires_grad=True)
    f(torch, x, b).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0] and b.grad.tolist() == [0.0, 0.0]
    _, theirs = torch.func.jvp(lambda x, b: f(torch, x, b), (torch.tensor(xs), torch.tensor(bs)),
                               (torch.tensor(tx), torch.tensor(tb)))
    assert theirs.tolist() == [0.25, 1.0]  # the bound's tangent at the tie
    xw, bw = wl.tensor(xs, requires_grad=True), wl.tensor(bs, requires_grad=True)
    f(wl, xw, bw).sum().backward()
    assert xw.grad.tolist() == [1.0, 1.0] and bw.grad.tolist() == [0.0, 0.0]
    _, ours = wl.jvp(lambda x, b: f(wl, x, b), (wl.tensor(xs), wl.tensor(bs)),
                     (wl.tensor(tx), wl.tensor(tb)))
    assert ours.tolist() == [1.0, 1.0]  # x's tangent, as both reverse modes


# ----------------------------------------------------------------------- the kinks, one by one
# The subgradients wonderland documents (PyTorch's), each at its kink, in reverse and
# forward mode: a plain reading of what the properties above hit by chance.

KINKS = {
    "abs at 0": lambda m, x: m.abs(x),
    "relu at 0": lambda m, x: m.relu(x),
    "maximum tie": lambda m, x: m.maximum(x, x.flip(0)),
    "minimum tie": lambda m, x: m.minimum(x.flip(0), x),
    "amax ties": lambda m, x: x.amax(0, keepdim=True),
    "amin ties, all": lambda m, x: x.amin(),
    "clamp at both bounds": lambda m, x: m.clamp(x, min=-1.0, max=1.0),
    "clip at a bound": lambda m, x: m.clip(x, 0.0, 2.0),
    "2-norm at the origin": lambda m, x: m.norm(x * 0.0 + 0.0 * x, 2, dim=None) * x.sum(),
    "inf-norm ties": lambda m, x: (torch.linalg.vector_norm(x, float("inf")) if m is torch
                                   else wl.norm(x, np.inf)),
    "prod with a zero": lambda m, x: m.prod(x.reshape(2, 3), 1),
    "prod with two zeros": lambda m, x: m.prod(x.reshape(3, 2) * 0.0 + x.reshape(3, 2), 0),
    "where at its own boundary": lambda m, x: m.where(x > 0, x, -x),
}
KINK_X = {
    "abs at 0": [0.0, -1.0, 0.0, 2.0, 0.0, 1.0],
    "relu at 0": [0.0, -1.0, 0.0, 2.0, 0.0, 1.0],
    "maximum tie": [1.0, 2.0, 0.0, 0.0, 2.0, 1.0],
    "minimum tie": [1.0, 2.0, 0.0, 0.0, 2.0, 1.0],
    "amax ties": [1.0, 2.0, 2.0, -1.0, 2.0, 0.0],
    "amin ties, all": [0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
    "clamp at both bounds": [-1.0, 1.0, 0.0, 2.0, -2.0, 1.0],
    "clip at a bound": [0.0, 2.0, 1.0, 3.0, -1.0, 2.0],
    "2-norm at the origin": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    "inf-norm ties": [-2.0, 2.0, 1.0, 0.0, 2.0, -1.0],
    "prod with a zero": [1.5, 0.0, 2.0, -1.0, 0.5, 3.0],
    "prod with two zeros": [0.0, 0.0, 2.0, 0.0, 0.5, 3.0],
    "where at its own boundary": [0.0, -1.0, 1.0, 0.0, 2.0, -2.0],
}


@pytest.mark.parametrize("name", list(KINKS))
def test_documented_kink_matches_torch(name):
    x0 = np.array(KINK_X[name])
    r = np.cos(np.arange(6) * 0.7 + 0.2)
    t = np.sin(np.arange(6) * 1.1 + 0.3)
    results = []
    for m in (wl, torch):
        x = m.tensor(x0.copy(), requires_grad=True)
        y = KINKS[name](m, x)
        (y * m.tensor(r[: y.numel()].reshape(tuple(y.shape)))).sum().backward()
        _, slope = (wl.jvp if m is wl else torch.func.jvp)(
            lambda x, m=m: KINKS[name](m, x), (m.tensor(x0.copy()),), (m.tensor(t),))
        results.append((_np(y), _np(x.grad), _np(slope)))
    (yw, gw, sw), (yt, gt, st_) = results
    np.testing.assert_allclose(yw, yt, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw, gt, rtol=1e-9, atol=1e-12, err_msg="gradient")
    np.testing.assert_allclose(sw, st_, rtol=1e-9, atol=1e-12, err_msg="tangent")
