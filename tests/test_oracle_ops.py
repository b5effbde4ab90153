"""Every differentiable op of API.md §1 against PyTorch and central finite differences.

Each check builds float64 leaves from the same NumPy arrays in wonderland and in torch,
compares the forward values, then backpropagates ``sum(out * R)`` (``R`` a fixed random
weight of the output's shape) and compares every input's gradient with torch's
(rtol 1e-6) and with central differences of wonderland's own forward (eps 1e-6).
Shapes (broadcasting included) and values come from hypothesis; inputs stay away from
kinks there, and the subgradients at the kinks are checked against torch separately.
"""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import wonderland as wl

torch.set_num_threads(1)

# wonderland against torch: they differ by rounding only (below 4e-15 on values up to
# ~2e3); ATOL=1e-9 passed any value or derivative below 1e-9 unchecked
RTOL, ATOL = 1e-6, 1e-11
FD_EPS, FD_RTOL, FD_ATOL = 1e-6, 1e-5, 1e-7  # wonderland against central differences
FD_MAX = 400  # skip finite differences above this many input entries in total

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


# ----------------------------------------------------------------------- the oracle


def weights(shape: tuple) -> np.ndarray:
    """A fixed random weight of the output's shape, so the loss is not a plain sum."""
    rng = np.random.default_rng(abs(hash(tuple(shape))) % (2**32))
    return rng.standard_normal(shape)


def _np(t) -> np.ndarray:
    return np.asarray(t.numpy(), dtype=np.float64)


def _loss_value(f_wl, arrays, R) -> float:
    with wl.no_grad():
        out = f_wl(*[wl.tensor(a) for a in arrays])
    return float(np.sum(_np(out) * R))


def finite_differences(f_wl, arrays, R, i) -> np.ndarray:
    """Central differences of ``sum(f(*arrays) * R)`` with respect to ``arrays[i]``."""
    base = [a.copy() for a in arrays]
    x = base[i]
    num = np.zeros_like(x)
    flat = x.reshape(-1)  # a view: writes go into base[i]
    out = num.reshape(-1)
    for j in range(flat.size):
        old = flat[j]
        flat[j] = old + FD_EPS
        fp = _loss_value(f_wl, base, R)
        flat[j] = old - FD_EPS
        fm = _loss_value(f_wl, base, R)
        flat[j] = old
        out[j] = (fp - fm) / (2 * FD_EPS)
    return num


def check(f_wl, f_t, *arrays, fd=True, what=""):
    """Compare values and gradients of ``f_wl`` with ``f_t`` (torch) and with FD."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    label = f"{what} input shapes {[a.shape for a in arrays]}"
    xs = [wl.tensor(a.copy(), requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = f_wl(*xs)
    out_t = f_t(*ts)
    assert isinstance(out, wl.Tensor), f"{label}: result is {type(out).__name__}, not a Tensor"
    assert tuple(out.shape) == tuple(out_t.shape), \
        f"{label}: output shape {tuple(out.shape)} != torch {tuple(out_t.shape)}"
    assert out.dtype == np.float64, f"{label}: output dtype {out.dtype}"
    np.testing.assert_allclose(_np(out), out_t.detach().numpy(), rtol=RTOL, atol=ATOL,
                               err_msg=f"{label}: forward values")
    R = weights(tuple(out.shape))
    loss = (out * wl.tensor(R)).sum()
    loss.backward()
    loss_t = (out_t * torch.from_numpy(R)).sum()
    grads_t = torch.autograd.grad(loss_t, ts, allow_unused=True)
    for i, (x, a, gt) in enumerate(zip(xs, arrays, grads_t)):
        gt = np.zeros_like(a) if gt is None else gt.numpy()
        assert x.grad is not None, f"{label}: input {i} got no gradient"
        g = _np(x.grad)
        assert g.shape == a.shape, f"{label}: grad {i} has shape {g.shape}, input {a.shape}"
        np.testing.assert_allclose(g, gt, rtol=RTOL, atol=ATOL,
                                   err_msg=f"{label}: grad of input {i} vs torch")
    if fd and sum(a.size for a in arrays) <= FD_MAX:
        for i, x in enumerate(xs):
            num = finite_differences(f_wl, arrays, R, i)
            np.testing.assert_allclose(_np(x.grad), num, rtol=FD_RTOL, atol=FD_ATOL,
                                       err_msg=f"{label}: grad of input {i} vs central FD")
    return out


# ----------------------------------------------------------------------- strategies


def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def nonzero(lo, hi):
    """Floats with lo <= |v| <= hi, either sign (away from 0: kinks and poles)."""
    return st.one_of(floats(lo, hi), floats(-hi, -lo))


def draw_array(data, shape, elements):
    return data.draw(hnp.arrays(np.float64, shape, elements=elements))


def draw_grid(data, shape, offset, scale):
    """Distinct values (k + offset) * scale, k a random permutation of integers.

    Values drawn with offset 0.25 and 0.75 never tie and differ by >= scale / 2; none is 0.
    """
    n = int(np.prod(shape))
    perm = np.array(data.draw(st.permutations(range(n))), dtype=np.float64)
    return ((perm - (n - 1) // 2 + offset) * scale).reshape(shape)


SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
TWO_SHAPES = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                               max_side=4)
THREE_SHAPES = hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3,
                                                 max_side=3)


def T(x):  # noqa: N802 - torch counterpart of wonderland's t.T (reverse all axes)
    return x.permute(*reversed(range(x.ndim)))


# ----------------------------------------------------------------------- unary


UNARY = {
    # name: (wonderland, torch, elements)
    "neg": (lambda x: -x, lambda x: -x, floats(-3, 3)),
    "exp": (wl.exp, torch.exp, floats(-3, 3)),
    "log": (wl.log, torch.log, floats(0.1, 5)),
    "log1p": (wl.log1p, torch.log1p, floats(-0.9, 5)),
    "sqrt": (wl.sqrt, torch.sqrt, floats(0.1, 5)),
    "abs": (wl.abs, torch.abs, nonzero(0.01, 3)),
    "builtin_abs": (abs, abs, nonzero(0.01, 3)),
    "sign": (wl.sign, torch.sign, nonzero(0.01, 3)),
    "sin": (wl.sin, torch.sin, floats(-4, 4)),
    "cos": (wl.cos, torch.cos, floats(-4, 4)),
    "tan": (wl.tan, torch.tan, floats(-1.3, 1.3)),
    "tanh": (wl.tanh, torch.tanh, floats(-3, 3)),
    "sigmoid": (wl.sigmoid, torch.sigmoid, floats(-6, 6)),
    "relu": (wl.relu, torch.relu, nonzero(0.01, 3)),
    "softplus": (wl.softplus, torch.nn.functional.softplus, floats(-6, 6)),
    # scalar operands on either side of the operators
    "add_scalar": (lambda x: x + 2.5, lambda x: x + 2.5, floats(-3, 3)),
    "radd_scalar": (lambda x: 2.5 + x, lambda x: 2.5 + x, floats(-3, 3)),
    "sub_scalar": (lambda x: x - 2.5, lambda x: x - 2.5, floats(-3, 3)),
    "rsub_scalar": (lambda x: 2.5 - x, lambda x: 2.5 - x, floats(-3, 3)),
    "mul_scalar": (lambda x: x * -1.5, lambda x: x * -1.5, floats(-3, 3)),
    "rmul_int": (lambda x: 3 * x, lambda x: 3 * x, floats(-3, 3)),
    "div_scalar": (lambda x: x / 0.7, lambda x: x / 0.7, floats(-3, 3)),
    "rdiv_scalar": (lambda x: 1.5 / x, lambda x: 1.5 / x, nonzero(0.3, 3)),
    "pow_int2": (lambda x: x ** 2, lambda x: x ** 2, floats(-3, 3)),
    "pow_int3_negative_base": (lambda x: x ** 3, lambda x: x ** 3, floats(-3, 3)),
    "pow_float2_negative_base": (lambda x: x ** 2.0, lambda x: x ** 2.0, floats(-3, 3)),
    "pow_half": (lambda x: x ** 0.5, lambda x: x ** 0.5, floats(0.1, 4)),
    "pow_neg_frac": (lambda x: x ** -1.5, lambda x: x ** -1.5, floats(0.3, 4)),
    "pow_zero": (lambda x: x ** 0, lambda x: x ** 0, floats(-3, 3)),
    "rpow_scalar": (lambda x: 2.0 ** x, lambda x: 2.0 ** x, floats(-3, 3)),
    # steps: zero gradient; values away from integers and halves (FD never crosses a jump)
    "floor": (wl.floor, torch.floor, floats(-3, 3).filter(lambda v: 0.01 < v % 0.5 < 0.49)),
    "ceil": (wl.ceil, torch.ceil, floats(-3, 3).filter(lambda v: 0.01 < v % 0.5 < 0.49)),
    "trunc": (wl.trunc, torch.trunc, floats(-3, 3).filter(lambda v: 0.01 < v % 0.5 < 0.49)),
    "round": (wl.round, torch.round, floats(-3, 3).filter(lambda v: 0.01 < v % 0.5 < 0.49)),
    "floordiv_scalar": (lambda x: x // 0.7, lambda x: torch.floor(x / 0.7),
                        floats(-3, 3).filter(lambda v: 0.01 < (v / 0.7) % 1 < 0.99)),
    "mod_scalar": (lambda x: x % 0.7, lambda x: x % 0.7,
                   floats(-3, 3).filter(lambda v: 0.01 < (v / 0.7) % 1 < 0.99)),
    "rmod_scalar": (lambda x: 2.5 % x, lambda x: torch.remainder(torch.full_like(x, 2.5), x),
                    nonzero(0.3, 3).filter(lambda v: 0.01 < (2.5 / v) % 1 < 0.99)),
}

METHODS = ["exp", "log", "log1p", "sqrt", "abs", "sign", "sin", "cos", "tan", "tanh",
           "sigmoid", "relu", "floor", "ceil", "trunc", "round"]


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(data=st.data())
def test_unary(name, data):
    f_wl, f_t, elements = UNARY[name]
    shape = data.draw(SHAPES, label="shape")
    x = draw_array(data, shape, elements)
    check(f_wl, f_t, x, what=name)


@pytest.mark.parametrize("name", METHODS)
@settings(SETTINGS, max_examples=10)
@given(data=st.data())
def test_unary_method(name, data):
    """The Tensor-method spelling, ``x.exp()``, has the same value and gradient."""
    elements = UNARY[name][2]
    shape = data.draw(SHAPES, label="shape")
    x = draw_array(data, shape, elements)
    check(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), x, what=f".{name}()")


# ----------------------------------------------------------------------- binary


BINARY = {
    "add": (lambda a, b: a + b, floats(-3, 3), floats(-3, 3)),
    "sub": (lambda a, b: a - b, floats(-3, 3), floats(-3, 3)),
    "mul": (lambda a, b: a * b, floats(-3, 3), floats(-3, 3)),
    "div": (lambda a, b: a / b, floats(-3, 3), nonzero(0.4, 3)),
    "pow": (lambda a, b: a ** b, floats(0.3, 3), floats(-2, 2)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(data=st.data())
def test_binary_broadcast(name, data):
    op, ea, eb = BINARY[name]
    sa, sb = data.draw(TWO_SHAPES, label="shapes").input_shapes
    a = draw_array(data, sa, ea)
    b = draw_array(data, sb, eb)
    check(op, op, a, b, what=name)


@SETTINGS
@given(data=st.data())
def test_remainder_broadcast(data):
    """``a % b`` in both arguments (PyTorch's ``remainder``: ``-(a // b)`` in ``b``), away
    from the jumps where ``a / b`` is an integer."""
    sa, sb = data.draw(TWO_SHAPES, label="shapes").input_shapes
    a = draw_array(data, sa, floats(-3, 3))
    b = draw_array(data, sb, nonzero(0.3, 3))
    ratio = (a / b) % 1
    assume(np.all((ratio > 0.01) & (ratio < 0.99)))
    check(lambda a, b: a % b, torch.remainder, a, b, what="remainder")
    check(wl.remainder, torch.remainder, a, b, what="wl.remainder")
    check(wl.floor_divide, lambda a, b: torch.floor(a / b), a, b, what="floor_divide")


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@SETTINGS
@given(data=st.data())
def test_maximum_minimum_broadcast(name, data):
    sa, sb = data.draw(TWO_SHAPES, label="shapes").input_shapes
    scale = data.draw(floats(0.2, 1.0), label="scale")
    a = draw_grid(data, sa, 0.25, scale)
    b = draw_grid(data, sb, 0.75, scale)  # never ties with a
    check(getattr(wl, name), getattr(torch, name), a, b, what=name)


@SETTINGS
@given(data=st.data())
def test_where_broadcast(data):
    sc, sa, sb = data.draw(THREE_SHAPES, label="shapes").input_shapes
    cond = data.draw(hnp.arrays(np.bool_, sc), label="cond")
    a = draw_array(data, sa, floats(-3, 3))
    b = draw_array(data, sb, floats(-3, 3))
    check(lambda a, b: wl.where(wl.tensor(cond), a, b),
          lambda a, b: torch.where(torch.from_numpy(cond), a, b), a, b, what="where")
    # a scalar branch
    check(lambda a: wl.where(wl.tensor(cond), a, 0.0),
          lambda a: torch.where(torch.from_numpy(cond), a, 0.0), a, what="where scalar")


@SETTINGS
@given(data=st.data())
def test_clip_scalar_bounds(data):
    shape = data.draw(SHAPES, label="shape")
    scale = data.draw(floats(0.2, 1.0), label="scale")
    x = draw_grid(data, shape, 0.25, scale)
    lo = -data.draw(st.integers(0, 2), label="lo") * scale - 0.5 * scale
    hi = data.draw(st.integers(0, 2), label="hi") * scale + 0.5 * scale
    check(lambda x: wl.clip(x, lo, hi), lambda x: torch.clamp(x, lo, hi), x, what="clip")
    check(lambda x: wl.clip(x, min=lo), lambda x: torch.clamp(x, min=lo), x, what="clip lo")
    check(lambda x: wl.clip(x, max=hi), lambda x: torch.clamp(x, max=hi), x, what="clip hi")


@SETTINGS
@given(data=st.data())
def test_clip_tensor_bounds_broadcast(data):
    sx, slo, shi = data.draw(THREE_SHAPES, label="shapes").input_shapes
    scale = data.draw(floats(0.2, 1.0), label="scale")
    x = draw_grid(data, sx, 0.25, scale)
    lo = -(draw_array(data, slo, st.integers(0, 3)) + 0.5) * scale  # (Z + 0.5) * scale < 0
    hi = (draw_array(data, shi, st.integers(0, 3)) + 0.5) * scale
    # (torch.clamp's backward fails when a bound broadcasts x; no ties here, so
    # minimum(maximum(.)) is the same function)
    check(lambda x, lo, hi: wl.clip(x, lo, hi),
          lambda x, lo, hi: torch.minimum(torch.maximum(x, lo), hi),
          x, lo, hi, what="clip tensor bounds")


def test_mixed_with_numpy_operands():
    """NumPy arrays/scalars on the left of an operator still give a differentiable Tensor."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 1))
    c = rng.standard_normal((4,))
    check(lambda x: c * x + c - x / (c ** 2 + 1), lambda x: torch.from_numpy(c) * x
          + torch.from_numpy(c) - x / (torch.from_numpy(c) ** 2 + 1), a, what="ndarray op")
    check(lambda x: np.float64(2.0) * x - np.float64(1.0),
          lambda x: 2.0 * x - 1.0, a, what="np.float64 op")


# ----------------------------------------------------------------------- reductions


@st.composite
def shape_dim(draw, max_dims=4, max_side=3, allow_tuple=True, allow_none=True):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=1,
                                  max_side=max_side))
    nd = len(shape)
    kinds = ["int"] + ["none"] * allow_none + ["tuple"] * allow_tuple
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        dim = None
    elif kind == "int":
        dim = draw(st.integers(-nd, nd - 1))
    else:
        axes = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
        dim = tuple(a - nd if draw(st.booleans()) else a for a in axes)
    return shape, dim, draw(st.booleans())


def tdim(dim, nd):
    return tuple(range(nd)) if dim is None else dim


def reduced_count(shape, dim):
    axes = range(len(shape)) if dim is None else (dim if isinstance(dim, tuple) else (dim,))
    return int(np.prod([shape[a] for a in axes]))


def t_prod(x, dim, keep):
    nd = x.ndim
    axes = tdim(dim, nd)
    axes = axes if isinstance(axes, tuple) else (axes,)
    for d in sorted({a % nd for a in axes}, reverse=True):
        x = x.prod(d, keepdim=keep)
    return x


REDUCTIONS = {
    # name: (wonderland, torch, elements; "grid" = distinct values away from 0)
    "sum": (wl.sum, lambda x, d, k: torch.sum(x, dim=d, keepdim=k), floats(-3, 3)),
    "mean": (wl.mean, lambda x, d, k: torch.mean(x, dim=d, keepdim=k), floats(-3, 3)),
    "var": (wl.var, lambda x, d, k: torch.var(x, dim=d, keepdim=k, correction=0),
            floats(-3, 3)),
    "std": (wl.std, lambda x, d, k: torch.std(x, dim=d, keepdim=k, correction=0), "grid"),
    "max": (wl.max, lambda x, d, k: torch.amax(x, dim=d, keepdim=k), "grid"),
    "min": (wl.min, lambda x, d, k: torch.amin(x, dim=d, keepdim=k), "grid"),
    "prod": (wl.prod, t_prod, nonzero(0.5, 1.5)),
    "logsumexp": (wl.logsumexp, lambda x, d, k: torch.logsumexp(x, dim=d, keepdim=k),
                  floats(-5, 5)),
    "norm": (wl.norm, lambda x, d, k: torch.linalg.vector_norm(x, 2, dim=d, keepdim=k),
             nonzero(0.1, 3)),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@SETTINGS
@given(data=st.data())
def test_reduction(name, data):
    f_wl, f_t, elements = REDUCTIONS[name]
    shape, dim, keep = data.draw(shape_dim(), label="shape, dim, keepdim")
    if elements == "grid":
        x = draw_grid(data, shape, 0.25, data.draw(floats(0.2, 1.0), label="scale"))
    else:
        x = draw_array(data, shape, elements)
    nd = len(shape)
    if name == "std" and reduced_count(shape, dim) < 2:  # std' is 0/0 at one entry
        shape, dim = (2,) + tuple(shape[1:]), 0
        x = draw_grid(data, shape, 0.25, 0.5)
    if name == "prod":
        tf = lambda x: t_prod(x, dim, keep)  # noqa: E731
    else:
        tf = lambda x: f_t(x, tdim(dim, nd), keep)  # noqa: E731
    check(lambda x: f_wl(x, dim=dim, keepdim=keep), tf, x,
          what=f"{name}(dim={dim}, keepdim={keep})")


@pytest.mark.parametrize("name", ["sum", "mean", "var", "prod", "logsumexp", "norm"])
@settings(SETTINGS, max_examples=10)
@given(data=st.data())
def test_reduction_all_default(name, data):
    """Called with no dim: reduces every axis to a 0-d tensor (torch: the full reduction)."""
    f_wl, _, elements = REDUCTIONS[name]
    shape = data.draw(SHAPES, label="shape")
    x = draw_array(data, shape, elements)
    full = {
        "sum": torch.sum, "mean": torch.mean,
        "var": lambda x: torch.var(x, correction=0), "prod": torch.prod,
        "logsumexp": lambda x: torch.logsumexp(x.reshape(-1), 0),
        "norm": torch.linalg.vector_norm,
    }[name]
    check(f_wl, full, x, what=f"{name}()")


@pytest.mark.parametrize("name", ["var", "std"])
@settings(SETTINGS, max_examples=15)
@given(data=st.data())
def test_var_std_correction(name, data):
    shape, dim, keep = data.draw(shape_dim(), label="shape, dim, keepdim")
    if reduced_count(shape, dim) < 2:
        shape = (2,) + tuple(shape[1:])
        dim = 0
    x = draw_grid(data, shape, 0.25, data.draw(floats(0.2, 1.0), label="scale"))
    f_t = getattr(torch, name)
    nd = len(shape)
    check(lambda x: getattr(wl, name)(x, dim=dim, keepdim=keep, correction=1),
          lambda x: f_t(x, dim=tdim(dim, nd), keepdim=keep, correction=1), x,
          what=f"{name}(correction=1)")
    check(lambda x: getattr(wl, name)(x, dim=dim, keepdim=keep, ddof=1),
          lambda x: f_t(x, dim=tdim(dim, nd), keepdim=keep, correction=1), x,
          what=f"{name}(ddof=1)")


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@SETTINGS
@given(data=st.data())
def test_softmax(name, data):
    shape, dim, _ = data.draw(shape_dim(allow_tuple=False, allow_none=False),
                              label="shape, dim")
    x = draw_array(data, shape, floats(-5, 5))
    check(lambda x: getattr(wl, name)(x, dim=dim),
          lambda x: getattr(torch, name)(x, dim=dim), x, what=f"{name}(dim={dim})")


@pytest.mark.parametrize("ord_", [1, 3, math.inf, -math.inf, "fro"])
@settings(SETTINGS, max_examples=15)
@given(data=st.data())
def test_norm_orders(ord_, data):
    shape, dim, keep = data.draw(shape_dim(), label="shape, dim, keepdim")
    # distinct |values| away from 0 (the inf-norms pick one entry)
    x = draw_grid(data, shape, 0.25, data.draw(floats(0.2, 1.0), label="scale"))
    nd = len(shape)
    t_ord = 2 if ord_ == "fro" else ord_
    check(lambda x: wl.norm(x, ord=ord_, dim=dim, keepdim=keep),
          lambda x: torch.linalg.vector_norm(x, t_ord, dim=tdim(dim, nd), keepdim=keep), x,
          what=f"norm(ord={ord_}, dim={dim}, keepdim={keep})")


def test_reduction_aliases():
    """``axis=``/``keepdims=`` are aliases of ``dim=``/``keepdim=``."""
    x = np.random.default_rng(1).permutation(24).reshape(3, 4, 2) * 0.1 + 0.05
    for name in sorted(REDUCTIONS):
        f_wl, f_t, _ = REDUCTIONS[name]
        tf = (lambda t: t_prod(t, (0, 2), True)) if name == "prod" else \
            (lambda t, f_t=f_t: f_t(t, (0, 2), True))
        check(lambda t, f_wl=f_wl: f_wl(t, axis=(0, 2), keepdims=True), tf, x,
              what=f"{name}(axis=(0, 2), keepdims=True)")


# ----------------------------------------------------------------------- shape ops


@st.composite
def reshape_case(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3))
    n = int(np.prod(shape))
    first = shape[0] if shape else 1
    target = draw(st.sampled_from([(n,), (-1,), tuple(reversed(shape)), (1, n), (n, 1, 1),
                                   (first, -1), (-1, 1)]))
    return shape, target


@SETTINGS
@given(data=st.data())
def test_reshape(data):
    shape, target = data.draw(reshape_case(), label="shape, target")
    x = draw_array(data, shape, floats(-3, 3))
    check(lambda x: wl.reshape(x, target), lambda x: torch.reshape(x, target), x,
          what=f"reshape {target}")
    check(lambda x: x.reshape(*target) if target else x.reshape(target),
          lambda x: torch.reshape(x, target), x, what=f".reshape(*{target})")


@SETTINGS
@given(data=st.data())
def test_transpose_permute_T(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3),
                      label="shape")
    nd = len(shape)
    x = draw_array(data, shape, floats(-3, 3))
    a = data.draw(st.integers(-nd, nd - 1), label="a")
    b = data.draw(st.integers(-nd, nd - 1), label="b")
    perm = data.draw(st.permutations(range(nd)), label="perm")
    check(lambda x: wl.transpose(x, a, b), lambda x: torch.transpose(x, a, b), x,
          what=f"transpose({a}, {b})")
    check(lambda x: wl.permute(x, perm), lambda x: torch.permute(x, perm), x,
          what=f"permute {perm}")
    check(lambda x: x.permute(*perm), lambda x: x.permute(*perm), x,
          what=f".permute(*{perm})")
    check(lambda x: x.T, T, x, what=".T")


@SETTINGS
@given(data=st.data())
def test_squeeze_unsqueeze_flatten(data):
    shape = tuple(data.draw(st.lists(st.sampled_from([1, 1, 2, 3]), min_size=1, max_size=4),
                            label="shape"))
    nd = len(shape)
    x = draw_array(data, shape, floats(-3, 3))
    check(wl.squeeze, torch.squeeze, x, what="squeeze()")
    ones = [i for i, n in enumerate(shape) if n == 1]
    if ones:
        d = data.draw(st.sampled_from(ones), label="squeeze dim")
        d = d - nd if data.draw(st.booleans()) else d
        check(lambda x: wl.squeeze(x, d), lambda x: torch.squeeze(x, d), x,
              what=f"squeeze({d})")
    u = data.draw(st.integers(-nd - 1, nd), label="unsqueeze dim")
    check(lambda x: wl.unsqueeze(x, u), lambda x: torch.unsqueeze(x, u), x,
          what=f"unsqueeze({u})")
    s = data.draw(st.integers(0, nd - 1), label="start")
    e = data.draw(st.integers(s, nd - 1), label="end")
    check(lambda x: wl.flatten(x, s, e), lambda x: torch.flatten(x, s, e), x,
          what=f"flatten({s}, {e})")
    check(wl.flatten, torch.flatten, x, what="flatten()")


@SETTINGS
@given(data=st.data())
def test_stack(data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3),
                      label="shape")
    k = data.draw(st.integers(1, 3), label="k")
    nd = len(shape)
    d = data.draw(st.integers(-nd - 1, nd), label="dim")
    xs = [draw_array(data, shape, floats(-3, 3)) for _ in range(k)]
    check(lambda *xs: wl.stack(list(xs), dim=d), lambda *xs: torch.stack(xs, dim=d), *xs,
          what=f"stack(dim={d})")


@SETTINGS
@given(data=st.data())
def test_concatenate(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3),
                      label="shape")
    nd = len(shape)
    d = data.draw(st.integers(-nd, nd - 1), label="dim")
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3), label="sizes")
    xs = []
    for n in sizes:
        s = list(shape)
        s[d] = n
        xs.append(draw_array(data, tuple(s), floats(-3, 3)))
    check(lambda *xs: wl.concatenate(list(xs), dim=d), lambda *xs: torch.cat(xs, dim=d), *xs,
          what=f"concatenate(dim={d})")
    check(lambda *xs: wl.cat(xs, d), lambda *xs: torch.cat(xs, d), *xs, what=f"cat({d})")


@st.composite
def broadcast_case(draw):
    target = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3))
    k = draw(st.integers(0, len(target)))
    src = tuple(1 if draw(st.booleans()) else n for n in target[len(target) - k:])
    return src, target


@SETTINGS
@given(data=st.data())
def test_broadcast_to(data):
    src, target = data.draw(broadcast_case(), label="src, target")
    x = draw_array(data, src, floats(-3, 3))
    check(lambda x: wl.broadcast_to(x, target), lambda x: torch.broadcast_to(x, target), x,
          what=f"broadcast_to {target}")


# ----------------------------------------------------------------------- indexing


@st.composite
def basic_index(draw, shape):
    parts = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "full"]))
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start = draw(st.none() | st.integers(-n, n))
            stop = draw(st.none() | st.integers(-n, n))
            step = draw(st.none() | st.integers(1, 3))
            parts.append(slice(start, stop, step))
        else:
            parts.append(slice(None))
    k = draw(st.integers(0, len(shape)))
    if draw(st.booleans()):
        parts = [Ellipsis] + parts[len(shape) - k:]
    else:
        parts = parts[:k]
    for _ in range(draw(st.integers(0, 2))):
        parts.insert(draw(st.integers(0, len(parts))), None)
    return tuple(parts)


@settings(SETTINGS, max_examples=50)
@given(data=st.data())
def test_basic_indexing(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
                      label="shape")
    x = draw_array(data, shape, floats(-3, 3))
    idx = data.draw(basic_index(shape), label="index")
    check(lambda x: x[idx], lambda x: x[idx], x, what=f"x[{idx}]")


@SETTINGS
@given(data=st.data())
def test_integer_array_indexing_repeats(data):
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4),
                      label="shape")
    x = draw_array(data, shape, floats(-3, 3))
    n0, n1 = shape[0], shape[1]
    i = data.draw(st.lists(st.integers(-n0, n0 - 1), min_size=1, max_size=6), label="i")
    j = data.draw(st.lists(st.integers(-n1, n1 - 1), min_size=len(i), max_size=len(i)),
                  label="j")
    ti, tj = torch.tensor(i), torch.tensor(j)
    check(lambda x: x[i], lambda x: x[ti], x, what=f"x[{i}]")
    check(lambda x: x[np.array(i)], lambda x: x[ti], x, what=f"x[np.array({i})]")
    check(lambda x: x[:, j], lambda x: x[:, tj], x, what=f"x[:, {j}]")
    check(lambda x: x[i, j], lambda x: x[ti, tj], x, what=f"x[{i}, {j}]")
    check(lambda x: x[i, 1:], lambda x: x[ti, 1:], x, what=f"x[{i}, 1:]")


@SETTINGS
@given(data=st.data())
def test_boolean_mask_indexing(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
                      label="shape")
    x = draw_array(data, shape, nonzero(0.1, 3))
    mask = data.draw(hnp.arrays(np.bool_, shape), label="mask")
    lead = data.draw(hnp.arrays(np.bool_, shape[:1]), label="leading mask")
    tm, tl = torch.from_numpy(mask), torch.from_numpy(lead)
    check(lambda x: x[mask], lambda x: x[tm], x, what="x[mask]")
    check(lambda x: x[wl.tensor(mask)], lambda x: x[tm], x, what="x[wl mask]")
    check(lambda x: x[lead], lambda x: x[tl], x, what="x[leading mask]")
    check(lambda x: x[x > 0], lambda x: x[x > 0], x, what="x[x > 0]")


@pytest.mark.parametrize("name, idx_wl, idx_t", [
    ("int", lambda x: x[1], lambda x: x[1]),
    ("negative int", lambda x: x[-1, 2], lambda x: x[-1, 2]),
    ("slice None", lambda x: x[1:3, None], lambda x: x[1:3, None]),
    ("ellipsis", lambda x: x[..., 0], lambda x: x[..., 0]),
    ("step", lambda x: x[::2, 1::2], lambda x: x[::2, 1::2]),
    ("repeated", lambda x: x[[0, 0, 2]], lambda x: x[[0, 0, 2]]),
    ("repeated col", lambda x: x[:, [3, 1, 3, 3]], lambda x: x[:, [3, 1, 3, 3]]),
    ("pairs", lambda x: x[[0, 1, 0], [2, 2, 2]], lambda x: x[[0, 1, 0], [2, 2, 2]]),
    ("2-D index", lambda x: x[np.array([[0, 1], [1, 0]])],
     lambda x: x[torch.tensor([[0, 1], [1, 0]])]),
    ("reverse", lambda x: x[::-1], lambda x: torch.flip(x, (0,))),
    ("mask", lambda x: x[x > 0], lambda x: x[x > 0]),
    ("empty list", lambda x: x[[]], lambda x: x[[]]),  # once refused as a float index
    ("empty list col", lambda x: x[:, []], lambda x: x[:, []]),
])
def test_indexing_fixed(name, idx_wl, idx_t):
    x = np.random.default_rng(2).standard_normal((4, 5, 3))
    check(idx_wl, idx_t, x, what=name)


# ----------------------------------------------------------------------- matmul & co


@st.composite
def matmul_case(draw):
    m, n, k = (draw(st.integers(1, 4)) for _ in range(3))
    ba, bb = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2,
                                                    max_side=3)).input_shapes
    kind = draw(st.sampled_from(["vv", "vm", "mv", "mm", "bb", "vb", "bv"]))
    sa = {"vv": (n,), "vm": (n,), "mv": (m, n), "mm": (m, n), "bb": ba + (m, n),
          "vb": (n,), "bv": ba + (m, n)}[kind]
    sb = {"vv": (n,), "vm": (n, k), "mv": (n,), "mm": (n, k), "bb": bb + (n, k),
          "vb": bb + (n, k), "bv": (n,)}[kind]
    return sa, sb


@settings(SETTINGS, max_examples=40)
@given(data=st.data())
def test_matmul(data):
    sa, sb = data.draw(matmul_case(), label="shapes")
    a = draw_array(data, sa, floats(-2, 2))
    b = draw_array(data, sb, floats(-2, 2))
    check(lambda a, b: a @ b, lambda a, b: a @ b, a, b, what="a @ b")
    check(wl.matmul, torch.matmul, a, b, what="matmul")


@pytest.mark.parametrize("sa, sb", [((5, 1), (1, 4)), ((2, 5, 1), (1, 3)), ((3, 1), (2, 1, 4))])
def test_matmul_over_one_shared_entry(sa, sb):
    # an outer product, which the engine computes as a broadcast multiply
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    check(wl.matmul, torch.matmul, a, b, what="matmul, inner size 1")


@SETTINGS
@given(data=st.data())
def test_dot_inner_outer(data):
    n = data.draw(st.integers(1, 5), label="n")
    a = draw_array(data, (n,), floats(-2, 2))
    b = draw_array(data, (n,), floats(-2, 2))
    check(wl.dot, torch.dot, a, b, what="dot")
    check(wl.inner, torch.inner, a, b, what="inner 1-D")
    sa = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), label="inner a")
    sb = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), label="inner b")
    A = draw_array(data, sa + (n,), floats(-2, 2))
    B = draw_array(data, sb + (n,), floats(-2, 2))
    check(wl.inner, torch.inner, A, B, what="inner N-D")
    p = data.draw(st.integers(1, 4), label="p")
    c = draw_array(data, (p,), floats(-2, 2))
    check(wl.outer, torch.outer, a, c, what="outer")


EINSUM = [
    # (subscripts, operand letters used to size the operands)
    "ij,jk->ik", "ij,ij->", "ij,ij->ij", "i,j->ij", "i,i->", "ii->i", "ii->", "ij->ji",
    "ij->j", "ijk->kji", "bij,bjk->bik", "bij,jk->bik", "ij,jk,kl->il", "ij,jk", "ii",
    "iij->j", "ij,i->j", "...ij,...jk->...ik", "i...->...", "...i,...i->...",
]


def _einsum_shapes(spec, sizes, batch):
    shapes = []
    for s in spec.split("->")[0].split(","):
        pre, dots, post = s.partition("...")
        shapes.append(tuple(sizes[c] for c in pre) + (batch if dots else ())
                      + tuple(sizes[c] for c in post))
    return shapes


@pytest.mark.parametrize("spec", EINSUM)
@settings(SETTINGS, max_examples=15)
@given(data=st.data())
def test_einsum(spec, data):
    sizes = {c: data.draw(st.integers(1, 4), label=c) for c in "bijkl"}
    batch = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), label="batch")
    ops = [draw_array(data, s, floats(-2, 2)) for s in _einsum_shapes(spec, sizes, batch)]
    check(lambda *xs: wl.einsum(spec, *xs), lambda *xs: torch.einsum(spec, *xs), *ops,
          what=f"einsum {spec!r}")


# ----------------------------------------------------------------------- linalg


def well_conditioned(data, batch, n):
    m = draw_array(data, batch + (n, n), floats(-1, 1))
    return m + 2.0 * n * np.eye(n)


def spd(data, batch, n):
    m = draw_array(data, batch + (n, n), floats(-1, 1))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


BATCH = hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)


def t_solve(a, b):
    """torch's solve with b 1-D a vector and b (..., n, k) a matrix (as API.md, NumPy 2).

    torch alone would read a b of shape a.shape[:-1] as a batch of vectors.
    """
    if b.ndim == 1:
        return torch.linalg.solve(a, b)
    batch = torch.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return torch.linalg.solve(a.expand(batch + a.shape[-2:]), b.expand(batch + b.shape[-2:]))


@SETTINGS
@given(data=st.data())
def test_solve(data):
    n = data.draw(st.integers(1, 4), label="n")
    k = data.draw(st.integers(1, 3), label="k")
    batch = data.draw(BATCH, label="batch")
    A = well_conditioned(data, batch, n)
    kind = data.draw(st.sampled_from(["vector", "matrix", "batched b", "shared a"]),
                     label="b kind")
    sb = {"vector": (n,), "matrix": (n, k), "batched b": batch + (n, k),
          "shared a": ()}[kind]
    if kind == "shared a":  # one a against a batch of right-hand sides
        A = A.reshape(-1, n, n)[0]
        sb = batch + (n, k)
    b = draw_array(data, sb, floats(-2, 2))
    check(wl.linalg.solve, t_solve, A, b, what=f"solve ({kind})")


@SETTINGS
@given(data=st.data())
def test_inv(data):
    n = data.draw(st.integers(1, 4), label="n")
    A = well_conditioned(data, data.draw(BATCH, label="batch"), n)
    check(wl.linalg.inv, torch.linalg.inv, A, what="inv")


def _sym_wl(a):
    return (a + wl.transpose(a, -1, -2)) * 0.5


def _sym_t(a):
    return (a + a.transpose(-1, -2)) * 0.5


@SETTINGS
@given(data=st.data())
def test_cholesky(data):
    n = data.draw(st.integers(1, 4), label="n")
    A = spd(data, data.draw(BATCH, label="batch"), n)
    # the symmetrized gradient itself, against torch's (no finite differences: they
    # would perturb A off the symmetric matrices)
    check(wl.linalg.cholesky, torch.linalg.cholesky, A, fd=False, what="cholesky")
    # through an explicit symmetrization, where finite differences apply
    check(lambda a: wl.linalg.cholesky(_sym_wl(a)),
          lambda a: torch.linalg.cholesky(_sym_t(a)), A, what="cholesky(sym(A))")


# ----------------------------------------------------------------------- kinks


def _kink(f_wl, f_t, x, what, *extra):
    check(f_wl, f_t, x, *extra, fd=False, what=what)


def test_kink_abs_relu_sign_at_zero():
    x = np.array([[-1.0, 0.0, 2.0], [0.0, 0.0, -3.0]])
    for name, f_wl, f_t in [("abs", wl.abs, torch.abs), ("relu", wl.relu, torch.relu),
                            ("sign", wl.sign, torch.sign)]:
        check(f_wl, f_t, x, fd=False, what=f"{name} at 0")
    xs = wl.tensor(x, requires_grad=True)
    wl.abs(xs).sum().backward()
    np.testing.assert_array_equal(_np(xs.grad), [[-1, 0, 1], [0, 0, -1]])
    xs = wl.tensor(x, requires_grad=True)
    wl.relu(xs).sum().backward()
    np.testing.assert_array_equal(_np(xs.grad), [[0, 0, 1], [0, 0, 0]])


def test_nan_propagates_through_relu_maximum_and_minimum_as_in_torch():
    x = np.array([np.nan, -1.0, 2.0, 1.0])
    np.testing.assert_array_equal(_np(wl.relu(wl.tensor(x))), torch.relu(torch.tensor(x)))
    for name in ("maximum", "minimum"):
        expected = getattr(torch, name)(torch.tensor(x), torch.tensor(1.0, dtype=torch.float64))
        for ours in (getattr(wl, name)(wl.tensor(x), 1.0), getattr(wl, name)(1.0, wl.tensor(x)),
                     wl.compile(getattr(wl, name))(wl.tensor(x), 1.0)):
            np.testing.assert_array_equal(_np(ours), expected, err_msg=name)


def test_maximum_with_a_float_promotes_an_integer_tensor_as_numpy_does():
    for name in ("maximum", "minimum"):
        ours = getattr(wl, name)(wl.tensor([0, 2]), 1.5)
        np.testing.assert_array_equal(_np(ours), getattr(np, name)(np.array([0, 2]), 1.5))
    assert wl.maximum(wl.tensor([1.0], dtype="float32"), 2.0).dtype == wl.float32


def test_where_and_clip_with_a_float_promote_an_integer_tensor_as_numpy_and_torch():
    i, c = np.array([0, 1, 2, 3]), np.array([True, False, True, False])
    cases = [(wl.where(c, wl.tensor(i), 0.5), np.where(c, i, 0.5)),
             (wl.where(c, 0.5, wl.tensor(i)), np.where(c, 0.5, i)),
             (wl.clip(wl.tensor(i), 0.5, 1.5), np.clip(i, 0.5, 1.5)),
             (wl.tensor(i).clamp(min=0.5), torch.tensor(i).clamp(min=0.5).numpy()),
             (np.clip(wl.tensor(i), 0.5, 1.5), np.clip(i, 0.5, 1.5)),
             (wl.where(c, wl.tensor(i), 2), np.where(c, i, 2))]
    for ours, theirs in cases:
        np.testing.assert_array_equal(_np(ours), theirs)
        assert np.asarray(ours.numpy()).dtype.kind == np.asarray(theirs).dtype.kind
    assert wl.where(c, wl.tensor([1.0, 2, 3, 4], dtype="float32"), 0.5).dtype == wl.float32


def test_kink_maximum_minimum_ties_split():
    a = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]])
    b = np.array([[1.0, 0.0, 3.0], [4.0, -1.0, 5.0]])
    _kink(wl.maximum, torch.maximum, a, "maximum ties", b)
    _kink(wl.minimum, torch.minimum, a, "minimum ties", b)
    # broadcast ties: the column of b meets several entries of a
    col = np.array([[1.0], [5.0]])
    _kink(wl.maximum, torch.maximum, a, "maximum broadcast ties", col)
    _kink(wl.minimum, torch.minimum, a, "minimum broadcast ties", col)
    x = wl.tensor([1.0, 1.0], requires_grad=True)
    y = wl.tensor([1.0, 1.0], requires_grad=True)
    wl.maximum(x, y).sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [0.5, 0.5])
    np.testing.assert_array_equal(_np(y.grad), [0.5, 0.5])
    # against a Python scalar (relu-like): the tensor keeps half at the tie
    _kink(lambda x: wl.maximum(x, 0.0), lambda x: torch.maximum(x, torch.tensor(0.0).double()),
          np.array([-1.0, 0.0, 2.0]), "maximum(x, 0.0)")


@pytest.mark.parametrize("dim, keep", [(None, False), (None, True), (0, False), (1, True),
                                       (-1, False), ((0, 1), False), ((0, 2), True)])
def test_kink_max_min_reduction_ties_split(dim, keep):
    x = np.array([[[3.0, 1.0], [3.0, 2.0], [2.0, 2.0]],
                  [[3.0, 2.0], [-1.0, 2.0], [3.0, 0.0]]])
    nd = x.ndim
    _kink(lambda x: wl.max(x, dim=dim, keepdim=keep),
          lambda x: torch.amax(x, dim=tdim(dim, nd), keepdim=keep), x, f"max({dim}) ties")
    _kink(lambda x: wl.min(x, dim=dim, keepdim=keep),
          lambda x: torch.amin(x, dim=tdim(dim, nd), keepdim=keep), -x, f"min({dim}) ties")


def test_kink_max_all_ties_even_split():
    x = wl.tensor([2.0, 5.0, 5.0, 5.0, 1.0], requires_grad=True)
    wl.max(x).backward()
    np.testing.assert_allclose(_np(x.grad), [0, 1 / 3, 1 / 3, 1 / 3, 0], rtol=1e-12)


def test_kink_clip_at_bounds_inclusive():
    x = np.array([-2.0, -1.0, -0.5, 0.0, 1.0, 1.5])
    _kink(lambda x: wl.clip(x, -1.0, 1.0), lambda x: torch.clamp(x, -1.0, 1.0), x, "clip")
    _kink(lambda x: wl.clip(x, min=-1.0), lambda x: torch.clamp(x, min=-1.0), x, "clip lo")
    _kink(lambda x: wl.clip(x, max=1.0), lambda x: torch.clamp(x, max=1.0), x, "clip hi")
    xs = wl.tensor(x, requires_grad=True)
    wl.clip(xs, -1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(_np(xs.grad), [0, 1, 1, 1, 1, 0])
    # tensor bounds, ties included
    lo = np.array([-1.0, -1.0, -1.0, -1.0, -1.0, -2.0])
    hi = np.array([1.0, 1.0, 1.0, 0.0, 1.0, 1.5])
    check(lambda x, lo, hi: wl.clip(x, lo, hi), lambda x, lo, hi: torch.clamp(x, lo, hi),
          x, lo, hi, fd=False, what="clip tensor bounds at ties")


@pytest.mark.parametrize("dim", [None, 1, 0])
def test_kink_norm_at_zero(dim):
    x = np.array([[0.0, 0.0, 0.0], [3.0, 0.0, -4.0]])
    if dim is None:
        x = np.zeros((2, 3))
    check(lambda x: wl.norm(x, dim=dim), lambda x: torch.linalg.vector_norm(x, dim=dim),
          x, fd=False, what=f"norm at 0 (dim={dim})")
    xs = wl.tensor(np.zeros(3), requires_grad=True)
    wl.norm(xs).backward()
    np.testing.assert_array_equal(_np(xs.grad), np.zeros(3))


@pytest.mark.parametrize("x", [[2.0, 0.0, 3.0, -1.5], [0.0, 2.0, 0.0, 3.0],
                               [0.0, 0.0, 0.0, 1.0]])
def test_prod_with_zeros(x):
    """The gradient of prod at zero entries is the product of the others (not ans / x)."""
    x = np.array(x)
    check(wl.prod, torch.prod, x, what=f"prod {x.tolist()}")
    X = np.stack([x, x[::-1] + 1.0])
    check(lambda x: wl.prod(x, dim=1), lambda x: torch.prod(x, dim=1), X,
          what=f"prod(dim=1) {X.tolist()}")


@pytest.mark.parametrize("scale", [1.0, 1e3, 1e4])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_in_float32_is_as_precise_as_torch(name, scale):
    # x - logsumexp(x) carried logsumexp's rounding (about |x| eps) into every entry:
    # float32 softmax([1000, 1000]) summed to 0.99997
    x = (np.array([[1.0, 1.0, 0.0], [0.5, -1.0, 2.0]]) * scale + scale).astype(np.float32)
    w = np.random.default_rng(0).standard_normal(x.shape).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    (getattr(torch, name)(xt, dim=1) * torch.tensor(w)).sum().backward()
    xw = wl.tensor(x, requires_grad=True)
    out = getattr(wl, name)(xw, dim=1)
    (out * w).sum().backward()
    assert out.dtype == np.float32
    eps = np.finfo(np.float32).eps
    np.testing.assert_allclose(out.numpy(), getattr(torch, name)(torch.tensor(x), dim=1).numpy(),
                               rtol=4 * eps, atol=4 * eps)
    np.testing.assert_allclose(xw.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_clip_with_min_above_max_sends_the_gradient_to_max_as_torch():
    # clip is min(max(x, lo), hi): where lo > hi the output is hi, whatever x
    x = np.array([0.0, 1.5, 3.0, 0.5, 2.5])
    lo = np.array([2.0, 2.0, 2.0, 0.0, 0.0])
    hi = np.array([1.0, 1.0, 1.0, 1.0, 2.0])
    ts = [torch.tensor(v, requires_grad=True) for v in (x, lo, hi)]
    torch.clamp(*ts).sum().backward()
    ws = [wl.tensor(v, requires_grad=True) for v in (x, lo, hi)]
    out = wl.clip(*ws)
    out.sum().backward()
    np.testing.assert_array_equal(out.numpy(), torch.clamp(*ts).detach().numpy())
    for w, t in zip(ws, ts):
        np.testing.assert_array_equal(w.grad.numpy(), t.grad.numpy())
    for k in range(3):
        forward = wl.jacfwd(lambda *a: wl.clip(*a), argnums=k)(x, lo, hi).numpy()
        np.testing.assert_array_equal(forward.sum(axis=0), ts[k].grad.numpy())


@pytest.mark.parametrize("p", [0.5, 1.5, 3.0])
@pytest.mark.parametrize("x", [[1.0, 0.0, -2.0], [0.0, 0.0, 0.0], [[0.0, 3.0], [-1.0, 0.0]]])
def test_p_norm_gradient_at_zero_entries_is_torchs(p, x):
    # (sum |x|**p)**(1/p) multiplied infinities by zeros there: NaN
    x = np.array(x)
    t = torch.tensor(x, requires_grad=True)
    torch.linalg.vector_norm(t, ord=p).backward()
    np.testing.assert_allclose(wl.grad(lambda v: wl.norm(v, p))(x).numpy(), t.grad.numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(wl.jacfwd(lambda v: wl.norm(v, p))(x).numpy(), t.grad.numpy(),
                               rtol=1e-12)


def test_the_zero_norm_has_a_zero_gradient():
    x = wl.tensor([2.0, 0.0, 1.0], requires_grad=True)
    count = wl.norm(x, 0)
    count.backward()  # once "does not require grad"
    assert count.item() == 2.0 and x.grad.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("dim, ddof", [(1, 0), (1, 1), (None, 0)])
def test_std_gradient_where_the_spread_is_zero_is_torchs(dim, ddof):
    # sqrt'(0) is infinite: times the zero deviations, NaN for the whole row
    x = np.array([[1.0, 2.0, 1.5], [4.0, 4.0, 4.0]])
    t = torch.tensor(x, requires_grad=True)
    torch.std(t, dim=dim, correction=ddof).sum().backward()
    np.testing.assert_allclose(
        wl.grad(lambda v: wl.std(v, dim=dim, ddof=ddof).sum())(x).numpy(), t.grad.numpy(),
        rtol=1e-12)
    assert wl.grad(lambda v: wl.std(v))(np.array([3.0])).tolist() == [0.0]  # n = 1


@pytest.mark.parametrize("b", [0, 0.0, -0.0])
def test_dividing_by_a_python_zero_differentiates_to_inf_as_torch(b):
    # the rule computed 1.0 / 0 in Python: ZeroDivisionError in every derivative
    x = np.array([1.0, -2.0])
    t = torch.tensor(x, requires_grad=True)
    (t / b).sum().backward()
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(wl.grad(lambda v: (v / b).sum())(x).numpy(),
                                      t.grad.numpy())
        np.testing.assert_array_equal(wl.jvp(lambda v: v / b, (x,), (np.ones(2),))[1].numpy(),
                                      t.grad.numpy())


@pytest.mark.parametrize("base", [np.zeros(3), 0.0], ids=["tensor", "number"])
def test_exponent_gradient_at_a_zero_base_is_minus_inf_below_zero_as_torch(base):
    b = np.array([-1.0, 0.0, 2.0])
    base = wl.tensor(base) if isinstance(base, np.ndarray) else base
    with np.errstate(divide="ignore", invalid="ignore"):
        got = wl.grad(lambda e: (base ** e).sum())(b).numpy()
    t = torch.tensor(b, requires_grad=True)
    (torch.zeros(3, dtype=torch.float64) ** t).sum().backward()
    np.testing.assert_array_equal(got, t.grad.numpy())


def test_where_gradient_only_to_selected_branch():
    cond = np.array([True, False, True])
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([-1.0, -2.0, -3.0])
    xa = wl.tensor(a, requires_grad=True)
    xb = wl.tensor(b, requires_grad=True)
    wl.where(wl.tensor(cond), xa, xb).sum().backward()
    np.testing.assert_array_equal(_np(xa.grad), [1, 0, 1])
    np.testing.assert_array_equal(_np(xb.grad), [0, 1, 0])


def test_stability_large_inputs():
    x = np.array([[1000.0, 1000.0, -1000.0], [-800.0, 0.0, 800.0]])
    check(lambda x: wl.logsumexp(x, dim=1), lambda x: torch.logsumexp(x, dim=1), x,
          fd=False, what="logsumexp large")
    check(lambda x: wl.softmax(x, dim=1), lambda x: torch.softmax(x, dim=1), x,
          fd=False, what="softmax large")
    check(lambda x: wl.log_softmax(x, dim=0), lambda x: torch.log_softmax(x, dim=0), x,
          fd=False, what="log_softmax large")
    y = np.array([-800.0, -40.0, -5.0, 0.0, 5.0, 40.0, 800.0])
    check(wl.sigmoid, torch.sigmoid, y, fd=False, what="sigmoid large")
    check(wl.softplus, torch.nn.functional.softplus, y,
          fd=False, what="softplus large")
