"""Differential fuzzing of the functional transforms, nested to second order, against
``torch.func``.

Hypothesis draws one or two float64 inputs (shapes ``()``, ``(n,)`` or ``(m, n)`` with
``m <= 3``, ``n <= 4``) and a small program over them: a list of steps, each on earlier
variables, of smooth operations only: ``sin cos tanh sigmoid``, ``exp`` (of values in
``[-3, 3]``), ``log(v * v + 1)``, ``v * v``, ``v * c + d``, broadcasting ``+ - *``,
division by ``b * b + 0.5``, ``@`` (of two variables, or ``v @ v.T``, ``v.T @ v``),
``sum``/``mean``/``logsumexp`` over a dim or all (``keepdim`` both ways),
``softmax``/``log_softmax`` over a dim, ``reshape`` (flat or another factorisation),
``.T``/``wl.transpose``, indexing (an int, a slice, integer arrays with repeated and
negative indices, on axis 0 or 1), ``wl.where`` with a fixed mask, and ``wl.stack``. One
interpreter, ``apply_step(m, ...)``, runs the steps on ``m = wonderland`` and ``m =
torch``; the program's output is its last variable (for the Jacobians) or ``sum_k
(v_k * R_k).sum()`` over every variable it made, for fixed random ``R_k`` (a scalar, for
the gradients and Hessians).

Compared with ``torch.func`` (values and derivatives, rtol 1e-9, atol 1e-12 times the
larger of 1 and the result's largest magnitude: second derivatives add up many terms in a
different order): ``grad`` and ``value_and_grad`` (``argnums`` 0, 1 and ``(0, 1)``),
``jacrev``/``jacfwd``/``jacobian(mode="auto")`` (also of a tuple of outputs and for
``argnums=(0, 1)``), ``jvp``, ``vjp`` with a random cotangent (also of a tuple), ``hessian``
(``argnums`` 0 and ``(0, 1)``, the nested blocks), ``grad`` of ``grad`` (for a 0-d input,
else of ``(grad(f) * S).sum()``), ``jacfwd(jacrev)``, ``jacrev(jacfwd)``, ``jvp`` of
``grad`` (Hessian-vector products), ``vjp`` of ``jvp``, ``jvp`` of ``vjp`` and
``linearize`` (``.value``, ``.jvp``, the model at a point; against
``torch.func.linearize``). Also: a program that closes over its second input as a Tensor
that requires grad (the transform's result must be that of the first input alone, the
closed-over tensor's ``.grad`` stay ``None``, and ``backward`` of the result must give the
mixed derivative PyTorch gives), the same Tensor passed as both arguments, and an input
returned as the output (alone and in a tuple).

Left out: operations with kinks (``abs``, ``maximum``, ``clamp``, ...: the subgradients
are fuzzed in ``test_fuzz_composed_ops.py``), in-place writes (``test_fuzz_inplace_views.py``),
and ``vmap`` (wonderland has none). ``linearize`` of two arguments is left out: wonderland's
model is of one input. A step whose values leave ``[-1e3, 1e3]`` is not drawn.

``FUZZ_TRANSFORMS_EXAMPLES=n`` runs each property ``n`` times, with a random seed (to hunt
harder outside the suite; the suite's runs are derandomized). With 1500 each (6000
programs, every transform above on each) no disagreement with ``torch.func`` was found;
``test_a_transforms_result_is_differentiable_in_a_leaf_that_requires_grad`` adds
``backward()`` through a transform's result to a primal, tangent or cotangent that
requires grad, also without a disagreement.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch
import torch.func as tf
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

import wonderland as wl

torch.set_num_threads(1)

RTOL, ATOL = 1e-9, 1e-12
BOUND = 1e3
MAX_SIZE = 12
UNARY = ["sin", "cos", "tanh", "sigmoid", "exp", "logsq", "square"]
BINARY = ["add", "sub", "mul", "div"]
N = int(os.environ.get("FUZZ_TRANSFORMS_EXAMPLES", "0"))


def _settings(n):
    return settings(max_examples=N or n, deadline=None, derandomize=not N,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])


# ----------------------------------------------------------------------- the interpreter


def _np(t):
    if isinstance(t, torch.Tensor):
        if t._is_zerotensor():  # torch.func's symbolic zeros (numpy() of some crashes)
            return np.zeros(tuple(t.shape))
        return t.detach().numpy().astype(np.float64)
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def _idx(m, idx):
    if isinstance(idx, list):
        return torch.tensor(idx) if m is torch else np.array(idx)
    return idx


def apply_step(m, env, step):  # noqa: C901 - one switch
    kind = step[0]
    if kind == "unary":
        _, name, i = step
        x = env[i]
        if name == "logsq":
            return m.log(x * x + 1.0)
        if name == "square":
            return x * x
        return getattr(m, name)(x)
    if kind == "affine":
        _, i, c, d = step
        return env[i] * c + d
    if kind == "binary":
        _, name, i, j = step
        a, b = env[i], env[j]
        if name == "div":
            return a / (b * b + 0.5)
        return {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b}[name]()
    if kind == "matmul":
        _, how, i, j = step
        if how == "ij":
            return env[i] @ env[j]
        if how == "iT":
            return env[i] @ env[i].T
        return m.matmul(env[i].T, env[i])
    if kind == "reduce":
        _, name, i, dim, keep = step
        x = env[i]
        if dim is None:
            if m is torch and name == "logsumexp":
                return torch.logsumexp(x, tuple(range(x.ndim)), keepdim=keep)
            if m is torch:
                return getattr(torch, name)(x, tuple(range(x.ndim)), keepdim=keep)
        return getattr(m, name)(x, dim=dim, keepdim=keep)
    if kind == "softmax":
        _, name, i, dim = step
        return getattr(m, name)(env[i], dim=dim)
    if kind == "reshape":
        return env[step[1]].reshape(step[2])
    if kind == "transpose":
        _, i, how = step
        return env[i].T if how == "T" else m.transpose(env[i], 0, 1)
    if kind == "index":
        _, i, axis, idx = step
        return env[i][_idx(m, idx)] if axis == 0 else env[i][:, _idx(m, idx)]
    if kind == "where":
        _, i, j, mask = step
        cond = torch.tensor(mask) if m is torch else mask
        return m.where(cond, env[i], env[j])
    if kind == "stack":
        _, i, j, dim = step
        return m.stack([env[i], env[j]], dim=dim)
    raise AssertionError(kind)


def run(m, steps, xs):
    env = list(xs)
    for step in steps:
        env.append(apply_step(m, env, step))
    return env


def _weights(shape, k):
    rng = np.random.default_rng(100 + 7 * k + len(shape))
    return np.round(rng.standard_normal(shape), 3) + 0.25


class Program:
    """Steps over ``n_in`` inputs; ``vector(m)`` and ``scalar(m)`` are its functions."""

    def __init__(self, arrays, steps):
        self.arrays, self.steps = arrays, steps
        self.n_in = len(arrays)

    def __repr__(self):
        lines = [f"v{k} = input({a.tolist()!r})" for k, a in enumerate(self.arrays)]
        lines += [f"v{k + self.n_in} = {s!r}" for k, s in enumerate(self.steps)]
        return "\n".join(lines)

    def vector(self, m):
        def f(*xs):
            return run(m, self.steps, xs)[-1]
        return f

    def scalar(self, m):
        shapes = self.shapes

        def f(*xs):
            env = run(m, self.steps, xs)
            total = 0.0
            for k in range(self.n_in, len(env)):
                total = total + (env[k] * m.tensor(_weights(shapes[k], k))).sum()
            return total if len(env) > self.n_in else (env[0] * env[0]).sum()
        return f

    @property
    def shapes(self):
        env = run(torch, self.steps, [torch.tensor(a) for a in self.arrays])
        return [tuple(v.shape) for v in env]

    def inputs(self, m):
        return [m.tensor(a.copy()) for a in self.arrays]


# ----------------------------------------------------------------------- generation

_values = st.one_of(st.floats(-2, 2, allow_nan=False, width=32), st.sampled_from(
    [-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0]))


def _shape(draw):
    nd = draw(st.integers(0, 2))
    return tuple(draw(st.integers(1, 4 if d == nd - 1 else 3)) for d in range(nd))


def _array(draw, shape):
    n = int(np.prod(shape, dtype=int))
    return np.array(draw(st.lists(_values, min_size=n, max_size=n)),
                    dtype=np.float64).reshape(shape)


def _factorings(size):
    out = [(size,), (-1,)]
    for a in range(2, size):
        if size % a == 0:
            out.append((a, size // a))
    if size == 1:
        out.append(())
    return out


@st.composite
def programs(draw, n_in=1, same_shape=False, min_steps=1, max_steps=5):  # noqa: C901
    shape0 = _shape(draw)
    arrays = [_array(draw, shape0)]
    if n_in == 2:
        arrays.append(_array(draw, shape0 if same_shape else _shape(draw)))
    env = [torch.tensor(a) for a in arrays]
    steps = []

    def push(step):
        try:
            with torch.no_grad():
                out = apply_step(torch, env, step)
        except (RuntimeError, IndexError, ValueError, TypeError):
            return
        a = _np(out)
        if a.size == 0 or a.size > MAX_SIZE or not np.isfinite(a).all() or \
                np.abs(a).max(initial=0.0) > BOUND:
            return
        steps.append(step)
        env.append(out)

    n = draw(st.integers(min_steps, max_steps))
    for _ in range(4 * n):
        if len(steps) >= n:
            break
        i = draw(st.integers(0, len(env) - 1))
        # the later variables more often: deeper compositions
        if draw(st.booleans()):
            i = len(env) - 1
        x = env[i]
        shape, nd = tuple(x.shape), x.ndim
        op = draw(st.sampled_from(["unary", "unary", "affine", "binary", "binary", "matmul",
                                   "reduce", "softmax", "reshape", "transpose", "index",
                                   "where", "stack"]))
        partners = [j for j, v in enumerate(env) if _broadcasts(tuple(v.shape), shape)]
        if op == "unary":
            name = draw(st.sampled_from(UNARY))
            if name == "exp" and float(x.abs().max()) > 3.0:
                name = "tanh"
            push(("unary", name, i))
        elif op == "affine":
            push(("affine", i, draw(st.sampled_from([2.0, -0.5, 1.5])),
                  draw(st.sampled_from([0.0, 1.0, -0.25]))))
        elif op == "binary":
            j = draw(st.sampled_from(partners))
            a, b = (i, j) if draw(st.booleans()) else (j, i)
            push(("binary", draw(st.sampled_from(BINARY)), a, b))
        elif op == "matmul" and nd >= 1:
            how = draw(st.sampled_from(["ij", "iT", "Ti"]))
            if how == "ij":
                ok = [j for j, v in enumerate(env) if v.ndim >= 1 and v.ndim <= 2
                      and v.shape[0] == shape[-1]]
                if not ok:
                    continue
                push(("matmul", how, i, draw(st.sampled_from(ok))))
            elif nd == 2:
                push(("matmul", how, i, i))
        elif op == "reduce":
            dim = draw(st.sampled_from([None] + list(range(-nd, nd))))
            push(("reduce", draw(st.sampled_from(["sum", "mean", "logsumexp"])), i, dim,
                  draw(st.booleans())))
        elif op == "softmax" and nd >= 1:
            push(("softmax", draw(st.sampled_from(["softmax", "log_softmax"])), i,
                  draw(st.integers(-nd, nd - 1))))
        elif op == "reshape":
            push(("reshape", i, draw(st.sampled_from(_factorings(int(x.numel()))))))
        elif op == "transpose" and nd == 2:
            push(("transpose", i, draw(st.sampled_from(["T", "fn"]))))
        elif op == "index" and nd >= 1:
            axis = draw(st.integers(0, min(nd, 2) - 1))
            k = shape[axis]
            idx = draw(st.one_of(
                st.integers(-k, k - 1),
                st.sampled_from([slice(1, None), slice(None, -1), slice(None, None, 2)]),
                st.lists(st.integers(-k, k - 1), min_size=1, max_size=4)))
            if isinstance(idx, list) and len(idx) >= 2:
                idx[1] = idx[0]  # a repeated index on purpose
            push(("index", i, axis, idx))
        elif op == "where":
            j = draw(st.sampled_from(partners))
            n_el = int(np.prod(shape, dtype=int))
            mask = np.array(draw(st.lists(st.booleans(), min_size=n_el, max_size=n_el)),
                            dtype=bool).reshape(shape)
            push(("where", i, j, mask))
        elif op == "stack":
            same = [j for j, v in enumerate(env) if tuple(v.shape) == shape]
            push(("stack", i, draw(st.sampled_from(same)), draw(st.integers(0, nd))))
    prog = Program(arrays, steps)
    for s in steps:
        event(s[0] if s[0] not in ("unary", "reduce", "softmax") else f"{s[0]}:{s[1]}")
    return prog


def _broadcasts(small, big):
    """Whether ``small`` broadcasts to ``big`` (and leaves it unchanged)."""
    if len(small) > len(big):
        return False
    return all(s in (1, b) for s, b in zip(small[::-1], big[::-1]))


# ----------------------------------------------------------------------- comparing


def _flat(x):
    """Nested tuples of tensors (or numbers) as a list of float64 arrays."""
    if isinstance(x, (tuple, list)):
        return [a for e in x for a in _flat(e)]
    if isinstance(x, (wl.Tensor, torch.Tensor)):
        return [_np(x)]
    return [np.asarray(x, dtype=np.float64)]


def _structure(x):
    if isinstance(x, (tuple, list)):
        return tuple(_structure(e) for e in x)
    return "leaf"


def close(ours, theirs, what):
    assert _structure(ours) == _structure(theirs), \
        f"{what}: structure {_structure(ours)} vs torch {_structure(theirs)}"
    for k, (a, b) in enumerate(zip(_flat(ours), _flat(theirs))):
        assert a.shape == b.shape, f"{what} [{k}]: shape {a.shape} vs torch {b.shape}"
        scale = max(1.0, float(np.abs(b).max(initial=0.0)))
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL * scale,
                                   err_msg=f"{what} [{k}] differs from torch.func")


def _direction(shape, seed):
    return np.cos(np.arange(int(np.prod(shape, dtype=int))) * 1.3 + seed).reshape(shape)


def _pair(shape, seed):
    d = _direction(shape, seed)
    return wl.tensor(d.copy()), torch.tensor(d.copy())


# ----------------------------------------------------------------------- the properties


@_settings(40)
@given(programs(n_in=1))
def test_first_and_second_order_of_one_input(prog):
    note(repr(prog))
    fw, ft = prog.scalar(wl), prog.scalar(torch)
    gw, gt = prog.vector(wl), prog.vector(torch)
    (xw,), (xt,) = prog.inputs(wl), prog.inputs(torch)
    shape = prog.arrays[0].shape
    vw, vt = _pair(shape, 0.4)

    # scalar program
    close(wl.grad(fw)(xw), tf.grad(ft)(xt), "grad")
    close(wl.value_and_grad(fw)(xw), tf.grad_and_value(ft)(xt)[::-1], "value_and_grad")
    close(wl.hessian(fw)(xw), tf.hessian(ft)(xt), "hessian")
    sw, st_ = _pair(shape, 1.7)
    close(wl.grad(lambda x: (wl.grad(fw)(x) * sw).sum())(xw),
          tf.grad(lambda x: (tf.grad(ft)(x) * st_).sum())(xt), "grad of (grad . S)")
    if shape == ():
        close(wl.grad(wl.grad(fw))(xw), tf.grad(tf.grad(ft))(xt), "grad of grad")
    close(wl.jvp(wl.grad(fw), (xw,), (vw,)), tf.jvp(tf.grad(ft), (xt,), (vt,)),
          "jvp of grad (Hessian-vector product)")
    close(wl.jacfwd(wl.jacrev(fw))(xw), tf.jacfwd(tf.jacrev(ft))(xt), "jacfwd(jacrev) scalar")
    close(wl.jacrev(wl.jacfwd(fw))(xw), tf.jacrev(tf.jacfwd(ft))(xt), "jacrev(jacfwd) scalar")
    close(wl.grad(wl.grad(fw))(xw) if shape == () else wl.jacrev(wl.grad(fw))(xw),
          tf.hessian(ft)(xt), "jacrev(grad)")

    # vector program
    out_t = gt(xt)
    uw, ut = _pair(tuple(out_t.shape), 2.3)
    close(wl.jacrev(gw)(xw), tf.jacrev(gt)(xt), "jacrev")
    close(wl.jacfwd(gw)(xw), tf.jacfwd(gt)(xt), "jacfwd")
    close(wl.jacobian(gw)(xw), tf.jacrev(gt)(xt), "jacobian(mode='auto')")
    close(wl.jvp(gw, (xw,), (vw,)), tf.jvp(gt, (xt,), (vt,)), "jvp")
    ow, pull_w = wl.vjp(gw, xw)
    ot, pull_t = tf.vjp(gt, xt)
    close(ow, ot, "vjp value")
    close(pull_w(uw), pull_t(ut), "vjp")
    close(pull_w(uw), pull_t(ut), "vjp, called again")
    close(wl.jacfwd(wl.jacrev(gw))(xw), tf.jacfwd(tf.jacrev(gt))(xt), "jacfwd(jacrev)")
    close(wl.jacrev(wl.jacfwd(gw))(xw), tf.jacrev(tf.jacfwd(gt))(xt), "jacrev(jacfwd)")

    def tan_w(x):
        return wl.jvp(gw, (x,), (vw,))[1]

    def tan_t(x):
        return tf.jvp(gt, (x,), (vt,))[1]

    ow, pull_w = wl.vjp(tan_w, xw)
    ot, pull_t = tf.vjp(tan_t, xt)
    close((ow, pull_w(uw)), (ot, pull_t(ut)), "vjp of jvp")
    close(wl.jvp(lambda x: wl.vjp(gw, x)[1](uw)[0], (xw,), (vw,)),
          tf.jvp(lambda x: tf.vjp(gt, x)[1](ut)[0], (xt,), (vt,)), "jvp of vjp")

    model = wl.linearize(gw, xw)
    with warnings.catch_warnings():  # torch.fx's const_fold, about its own graph
        warnings.simplefilter("ignore", UserWarning)
        value_t, lin_t = tf.linearize(gt, xt)
    close(model.value, value_t, "linearize value")
    close(model.jvp(vw), lin_t(vt), "linearize .jvp")
    close(model(xw + vw), value_t + lin_t(vt), "linearize model at x0 + v")


@_settings(40)
@given(programs(n_in=2))
def test_two_inputs_and_argnums(prog):
    note(repr(prog))
    fw, ft = prog.scalar(wl), prog.scalar(torch)
    gw, gt = prog.vector(wl), prog.vector(torch)
    xs_w, xs_t = prog.inputs(wl), prog.inputs(torch)
    for argnums in (0, 1, (0, 1), (1, 0)):
        close(wl.grad(fw, argnums)(*xs_w), tf.grad(ft, argnums)(*xs_t), f"grad {argnums}")
        close(wl.value_and_grad(fw, argnums)(*xs_w),
              tf.grad_and_value(ft, argnums)(*xs_t)[::-1], f"value_and_grad {argnums}")
        close(wl.jacrev(gw, argnums)(*xs_w), tf.jacrev(gt, argnums)(*xs_t),
              f"jacrev {argnums}")
        close(wl.jacfwd(gw, argnums)(*xs_w), tf.jacfwd(gt, argnums)(*xs_t),
              f"jacfwd {argnums}")
        close(wl.jacobian(gw, argnums)(*xs_w), tf.jacrev(gt, argnums)(*xs_t),
              f"jacobian {argnums}")
    close(wl.hessian(fw, (0, 1))(*xs_w), tf.hessian(ft, (0, 1))(*xs_t), "hessian (0, 1)")
    close(wl.hessian(fw, 1)(*xs_w), tf.hessian(ft, 1)(*xs_t), "hessian 1")
    close(wl.jacfwd(wl.jacrev(fw, 1), 0)(*xs_w), tf.jacfwd(tf.jacrev(ft, 1), 0)(*xs_t),
          "jacfwd(jacrev(., 1), 0): the mixed block")
    close(wl.jacrev(wl.jacfwd(gw, (0, 1)), (0, 1))(*xs_w),
          tf.jacrev(tf.jacfwd(gt, (0, 1)), (0, 1))(*xs_t), "jacrev(jacfwd) (0, 1)")

    ts = [_pair(a.shape, 0.3 + k) for k, a in enumerate(prog.arrays)]
    tw, tt = tuple(t[0] for t in ts), tuple(t[1] for t in ts)
    close(wl.jvp(gw, xs_w, tw), tf.jvp(gt, tuple(xs_t), tt), "jvp of two")
    close(wl.jvp(wl.grad(fw, (0, 1)), xs_w, tw), tf.jvp(tf.grad(ft, (0, 1)), tuple(xs_t), tt),
          "jvp of grad (0, 1)")
    ow, pw = wl.vjp(gw, *xs_w)
    ot, pt = tf.vjp(gt, *xs_t)
    uw, ut = _pair(tuple(ot.shape), 0.9)
    close((ow, pw(uw)), (ot, pt(ut)), "vjp of two")

    # a tuple of outputs: the vector, the scalar and the first input itself
    def hw(x, y):
        return gw(x, y), fw(x, y), x

    def ht(x, y):
        return gt(x, y), ft(x, y), x

    for argnums in (0, (0, 1)):
        close(wl.jacrev(hw, argnums)(*xs_w), tf.jacrev(ht, argnums)(*xs_t),
              f"jacrev of a tuple {argnums}")
        close(wl.jacfwd(hw, argnums)(*xs_w), tf.jacfwd(ht, argnums)(*xs_t),
              f"jacfwd of a tuple {argnums}")
        close(wl.jacobian(hw, argnums)(*xs_w), tf.jacrev(ht, argnums)(*xs_t),
              f"jacobian of a tuple {argnums}")
    close(wl.jvp(hw, xs_w, tw), tf.jvp(ht, tuple(xs_t), tt), "jvp of a tuple")
    ow, pw = wl.vjp(hw, *xs_w)
    ot, pt = tf.vjp(ht, *xs_t)
    cot = [_pair(tuple(o.shape), 1.1 + k) for k, o in enumerate(ot)]
    close((ow, pw(tuple(c[0] for c in cot))), (ot, pt(tuple(c[1] for c in cot))),
          "vjp of a tuple")


@_settings(25)
@given(programs(n_in=2))
def test_closing_over_a_tensor_that_requires_grad(prog):
    note(repr(prog))
    fw, ft = prog.scalar(wl), prog.scalar(torch)
    gw, gt = prog.vector(wl), prog.vector(torch)
    (xw, cw0), (xt, _) = prog.inputs(wl), prog.inputs(torch)
    cw = wl.tensor(prog.arrays[1].copy(), requires_grad=True)
    ct = torch.tensor(prog.arrays[1].copy(), requires_grad=True)
    sw, st_ = _pair(prog.arrays[0].shape, 0.6)
    results = []
    for m, c, f, g, x, s, T in ((wl, cw, fw, gw, xw, sw, wl), (torch, ct, ft, gt, xt, st_, tf)):
        def closure(x, m=m, f=f, c=c):  # a mixed term, so that c is always used
            return f(x, c) + m.sin(c).sum() * m.cos(x).sum()

        grad = T.grad(closure)(x)
        jac = T.jacrev(lambda x, g=g, c=c: g(x, c))(x)
        jacf = T.jacfwd(lambda x, g=g, c=c: g(x, c))(x)
        hess = T.hessian(closure)(x)
        assert c.grad is None, f"{m.__name__}: the closed-over tensor got a .grad"
        results.append((grad, jac, jacf, hess))
        # the mixed derivative d/dc <grad_x f(x, c), S>, by backward of the result
        (grad * s).sum().backward()
        results.append(c.grad)
    close(results[0], results[2], "transforms of a closure over a tensor that requires grad")
    close(results[1], results[3], "backward of grad_x through the closed-over tensor")
    # and the transforms gave the same numbers as without the closed-over leaf
    close(results[0][0], wl.grad(lambda x: fw(x, cw0) + wl.sin(cw0).sum() * wl.cos(x).sum())(xw),
          "grad with the closed-over tensor constant")


@_settings(25)
@given(programs(n_in=2, same_shape=True))
def test_the_same_tensor_passed_twice(prog):
    note(repr(prog))
    fw, ft = prog.scalar(wl), prog.scalar(torch)
    gw, gt = prog.vector(wl), prog.vector(torch)
    (xw, _), (xt, _) = prog.inputs(wl), prog.inputs(torch)
    close(wl.grad(fw, (0, 1))(xw, xw), tf.grad(ft, (0, 1))(xt, xt), "grad (x, x)")
    close(wl.grad(lambda x: fw(x, x))(xw), tf.grad(lambda x: ft(x, x))(xt), "grad of f(x, x)")
    close(wl.hessian(fw, (0, 1))(xw, xw), tf.hessian(ft, (0, 1))(xt, xt), "hessian (x, x)")
    close(wl.jacrev(gw, (0, 1))(xw, xw), tf.jacrev(gt, (0, 1))(xt, xt), "jacrev (x, x)")
    close(wl.jacfwd(gw, (0, 1))(xw, xw), tf.jacfwd(gt, (0, 1))(xt, xt), "jacfwd (x, x)")
    vw, vt = _pair(prog.arrays[0].shape, 0.2)
    close(wl.jvp(gw, (xw, xw), (vw, vw)), tf.jvp(gt, (xt, xt), (vt, vt)), "jvp (x, x)")
    ow, pw = wl.vjp(gw, xw, xw)
    ot, pt = tf.vjp(gt, xt, xt)
    uw, ut = _pair(tuple(ot.shape), 0.5)
    close((ow, pw(uw)), (ot, pt(ut)), "vjp (x, x)")
    np.testing.assert_array_equal(_np(xw), prog.arrays[0])  # never written


# ----------------------------------------------------------------------- plain cases


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_an_input_returned_as_the_output(shape):
    x0 = np.arange(int(np.prod(shape, dtype=int)), dtype=np.float64).reshape(shape) - 0.5
    xw, xt = wl.tensor(x0.copy()), torch.tensor(x0.copy())
    vw, vt = _pair(shape, 0.1)
    for name in ("jacrev", "jacfwd"):
        close(getattr(wl, name)(lambda x: x)(xw), getattr(tf, name)(lambda x: x)(xt), name)
    close(wl.jacobian(lambda x: x)(xw), tf.jacrev(lambda x: x)(xt), "jacobian")
    close(wl.jvp(lambda x: x, (xw,), (vw,)), tf.jvp(lambda x: x, (xt,), (vt,)), "jvp")
    ow, pw = wl.vjp(lambda x: x, xw)
    ot, pt = tf.vjp(lambda x: x, xt)
    close((ow, pw(vw)), (ot, pt(vt)), "vjp")
    close(wl.jacrev(lambda x, y: (x, y * x), (0, 1))(xw, xw),
          tf.jacrev(lambda x, y: (x, y * x), (0, 1))(xt, xt), "jacrev of (x, y x) at (x, x)")
    close(wl.jacfwd(lambda x, y: (y, x), 1)(xw, xw * 2),
          tf.jacfwd(lambda x, y: (y, x), 1)(xt, xt * 2), "jacfwd of (y, x)")
    model = wl.linearize(lambda x: x, xw)
    close(model.jvp(vw), vt, "linearize of the identity")
    if shape == ():
        close(wl.grad(lambda x: x)(xw), tf.grad(lambda x: x)(xt), "grad of the identity")
        close(wl.hessian(lambda x: x)(xw), tf.hessian(lambda x: x)(xt), "hessian of identity")
        close(wl.grad(wl.grad(lambda x: x * x))(xw), tf.grad(tf.grad(lambda x: x * x))(xt),
              "grad of grad of x * x")
    # the result is not the caller's tensor
    assert wl.jvp(lambda x: x, (xw,), (vw,))[1] is not vw
    np.testing.assert_array_equal(_np(xw), x0)


def _sx(m, a):
    return (m.sin(a) * a + m.exp(m.tanh(a)) * a * a).sum()


def _vx(m, a):
    return m.softmax(m.sin(a) * a, dim=0) * m.log(a * a + 1.0)


OUTER = {  # a transform's result, to be differentiated by backward() through its leaf
    "grad": lambda m, T, x, t: T.grad(lambda a: _sx(m, a))(x),
    "hessian": lambda m, T, x, t: T.hessian(lambda a: _sx(m, a))(x),
    "jacrev": lambda m, T, x, t: T.jacrev(lambda a: _vx(m, a))(x),
    "jacfwd": lambda m, T, x, t: T.jacfwd(lambda a: _vx(m, a))(x),
    "jvp, tangent a leaf": lambda m, T, x, t: T.jvp(lambda a: _vx(m, a), (t * 1.0,), (x,))[1],
    "jvp, primal a leaf": lambda m, T, x, t: T.jvp(lambda a: _vx(m, a), (x,), (t,))[1],
    "vjp, cotangent a leaf": lambda m, T, x, t: T.vjp(lambda a: _vx(m, a), t * 1.0)[1](x)[0],
    "jvp of grad": lambda m, T, x, t: T.jvp(T.grad(lambda a: _sx(m, a)), (x,), (t,))[1],
}


@pytest.mark.parametrize("name", list(OUTER))
def test_a_transforms_result_is_differentiable_in_a_leaf_that_requires_grad(name):
    """Reverse mode (``backward``) outside a transform, through the leaf passed in."""
    x0, t0 = np.array([0.3, -1.2, 0.8]), np.array([0.5, 1.0, -0.7])
    grads = []
    for m, T in ((wl, wl), (torch, tf)):
        x = m.tensor(x0.copy(), requires_grad=True)
        out = OUTER[name](m, T, x, m.tensor(t0.copy()))
        r = m.tensor(np.cos(np.arange(out.numel()) * 0.9 + 0.1).reshape(tuple(out.shape)))
        (out * out * r).sum().backward()
        grads.append((out, x.grad))
    close(grads[0], grads[1], name)
