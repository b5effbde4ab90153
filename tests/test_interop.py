"""NumPy's protocols on Tensor (``wonderland.interop``): NumPy code stays differentiable.

Each case is written once, parameterised by the module ``m``: ``np`` (run on wonderland
tensors through ``__array_ufunc__`` / ``__array_function__``) or ``jnp`` (the reference).
Gradients are compared with central differences (``wl.numerical_grad``) and with JAX in
float64; values with plain NumPy; forward mode (``wl.jvp``) with the reverse gradient.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.special  # noqa: E402
import torch  # noqa: E402
from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

import wonderland as wl  # noqa: E402
from wonderland import interop  # noqa: E402

RTOL, ATOL = 1e-9, 1e-12  # against JAX: the same math in float64
NUM_RTOL, NUM_ATOL = 1e-5, 1e-6  # against central differences

rng = np.random.default_rng(20240611)
INPUTS = {
    "vec": rng.normal(size=5),
    "mat": rng.normal(size=(3, 4)),
    "pos": rng.uniform(0.5, 2.0, size=(3, 4)),
    "cube": rng.normal(size=(2, 3, 4)),
    "square": rng.normal(size=(3, 3)),
}
C34 = rng.normal(size=(3, 4))
C33 = rng.normal(size=(3, 3))
C44 = rng.normal(size=(4, 4))
W = rng.normal(size=(4, 3))
W3 = rng.normal(size=(5, 4, 2))
MASK = rng.uniform(size=(3, 4)) > 0.5
C432 = rng.normal(size=(4, 3, 2))


def as_np(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float64)


@dataclass(frozen=True)
class Case:
    """``f(m, x)``, a scalar, for ``m`` in (np, jnp); ``uses``: the NumPy callables covered."""

    name: str
    x: str
    f: Callable[[Any, Any], Any]
    uses: tuple

    def __repr__(self) -> str:
        return self.name


CASES = [
    Case("sin-cos", "mat", lambda m, x: m.sum(m.sin(x) * m.cos(x) * C34),
         (np.sin, np.cos, np.multiply, np.sum)),
    Case("exp-log-sqrt", "pos",
         lambda m, x: m.sum(m.exp(x) + m.log(x) * m.sqrt(x) - m.log1p(x)),
         (np.exp, np.log, np.sqrt, np.log1p, np.add, np.subtract)),
    Case("power", "pos", lambda m, x: m.sum(m.power(x, 3) + m.power(1.5, x) + m.power(x, C34)),
         (np.power,)),
    Case("tan-tanh", "mat", lambda m, x: m.sum(m.tan(0.3 * x) + m.tanh(x)), (np.tan, np.tanh)),
    Case("abs-sign-square", "mat",
         lambda m, x: m.sum(m.abs(x) * m.sign(x) + m.square(x) - m.negative(x) * m.positive(x)),
         (np.absolute, np.sign, np.square, np.negative, np.positive)),
    Case("ndarray-left", "pos",
         lambda m, x: m.sum(m.subtract(C34, x) * m.divide(C34, x) + m.add(C34, x) * (C34 - x)
                            + m.true_divide(x, 2.0) + C34 * x + 2.0 ** x),
         (np.add, np.subtract, np.multiply, np.true_divide, np.power)),
    Case("maximum-minimum", "mat",
         lambda m, x: m.sum(m.maximum(x, C34) * C34 - m.minimum(0.1, x) * 2),
         (np.maximum, np.minimum)),
    Case("matmul", "mat", lambda m, x: m.sum(m.matmul(x, W) ** 2) + m.sum(C33 @ x @ C44),
         (np.matmul,)),
    Case("add-reduce", "mat",
         lambda m, x: m.sum(m.add.reduce(x) ** 2) + m.add.reduce(x * x, axis=None)
         + m.sum(m.add.reduce(x, axis=1, keepdims=True) * C34),
         (np.add,)),
    Case("sum-axis", "mat",
         lambda m, x: m.sum(m.sum(x, axis=0) ** 2) + m.sum(x * m.sum(x, axis=1, keepdims=True))
         + m.sum(m.sin(x), axis=(0, 1)),
         (np.sum,)),
    Case("mean-var-std", "mat",
         lambda m, x: m.sum(m.mean(x, axis=1) ** 2) + m.mean(x * x)
         + m.sum(m.var(x, axis=0, ddof=1)) + m.var(x) + m.std(x)
         + m.sum(m.std(x, axis=1, keepdims=True) * C34),
         (np.mean, np.var, np.std)),
    Case("max-min", "mat",
         lambda m, x: m.sum(m.max(x, axis=1) ** 2) + m.amax(x) - m.sum(m.min(x, axis=0))
         + m.amin(x * x, axis=0, keepdims=True).sum(),
         (np.max, np.amax, np.min, np.amin)),
    Case("prod", "mat", lambda m, x: m.sum(m.prod(x, axis=0)) + m.prod(x[0]),
         (np.prod,)),
    Case("dot-inner-outer", "mat",
         lambda m, x: m.sum(m.dot(x, W) ** 2) + m.dot(x[0], x[1]) + m.sum(m.inner(x, x))
         + m.sum(m.outer(x[0], x[1]) * C44) + m.sum(m.dot(C34, x.T)),
         (np.dot, np.inner, np.outer)),
    Case("dot-nd", "cube", lambda m, x: m.sum(m.sin(m.dot(x, W3))) + m.sum(m.dot(x[0], W3) ** 2)
         + m.sum(m.dot(x[0, 0], W3) ** 3) + m.sum(m.dot(x, x[1, 2]) ** 2),
         (np.dot,)),
    Case("einsum", "mat",
         lambda m, x: m.sum(m.einsum("ij,jk->ik", x, W) ** 2)
         + m.einsum("ii", m.einsum("ij,kj->ik", x, x)),
         (np.einsum,)),
    Case("where", "mat",
         lambda m, x: m.sum(m.where(x > 0, x ** 2, m.sin(x))) + m.sum(m.where(MASK, C34, x) ** 3),
         (np.where, np.greater)),
    Case("stack", "mat",
         lambda m, x: m.sum(m.stack([x, m.sin(x), C34], axis=1) ** 2)
         + m.sum(m.stack((x, x * x)) * C34),
         (np.stack,)),
    Case("concatenate", "mat",
         lambda m, x: m.sum(m.concatenate([x, m.cos(x), C34], axis=1) ** 3)
         + m.sum(m.concatenate([x, x], axis=None) * np.arange(24.0))
         + m.sum(m.concatenate([x, C34]) ** 2),
         (np.concatenate,)),
    Case("reshape-ravel-transpose", "mat",
         lambda m, x: m.sum(m.reshape(x, (4, 3)) * W) + m.sum(m.ravel(x) * np.arange(12.0))
         + m.sum(m.transpose(x) * W) + m.sum(m.transpose(x, (1, 0)) ** 2 * W),
         (np.reshape, np.ravel, np.transpose)),
    Case("transpose-swapaxes-3d", "cube",
         lambda m, x: m.sum(m.transpose(x) * C432) + m.sum(
             m.sin(m.transpose(x, axes=(1, 2, 0)))) + m.sum(m.swapaxes(x, 0, 2) ** 3),
         (np.transpose, np.swapaxes)),
    Case("squeeze-expand-broadcast", "vec",
         lambda m, x: m.sum(m.squeeze(m.expand_dims(x, (0, 2)), axis=0) * np.arange(5.0)[:, None])
         + m.sum(m.broadcast_to(x, (3, 5)) ** 2 * np.arange(15.0).reshape(3, 5))
         + m.sum(m.squeeze(m.expand_dims(x, -1)) ** 3),
         (np.squeeze, np.expand_dims, np.broadcast_to)),
    Case("clip", "mat",
         lambda m, x: m.sum(m.clip(x, -0.5, 0.5) * C34) + m.sum(m.clip(x, None, 0.3) ** 2),
         (np.clip,)),
    Case("linalg-norm", "mat",
         lambda m, x: m.linalg.norm(x) + m.sum(m.linalg.norm(x, axis=1) * np.arange(3.0))
         + m.sum(m.linalg.norm(x, ord=1, axis=0)) + m.linalg.norm(x[0], ord=np.inf)
         + m.linalg.norm(x, "fro") + m.linalg.norm(x, axis=(0, 1)) + m.linalg.norm(x[1], 3),
         (np.linalg.norm,)),
    Case("linalg-solve-inv-cholesky", "square",
         lambda m, x: m.sum(m.linalg.solve(x @ x.T + 3 * np.eye(3), np.arange(3.0)) ** 2)
         + m.sum(m.linalg.inv(x @ x.T + 3 * np.eye(3)) * C33)
         + m.sum(m.linalg.cholesky(x @ x.T + np.eye(3)) * C33)
         + m.sum(m.linalg.cholesky(x.T @ x + np.eye(3), upper=True) * C33),
         (np.linalg.solve, np.linalg.inv, np.linalg.cholesky)),
    Case("rounding-modulo", "mat",
         lambda m, x: m.sum((m.floor(x) + m.ceil(x) + m.trunc(x) + m.rint(x) + m.round(x, 1)
                             + m.around(x) + m.floor_divide(x, 0.3)) * x)
         + m.sum(m.remainder(x, 0.7) ** 2 + m.mod(2.5, x + 3.0) * C34),
         (np.floor, np.ceil, np.trunc, np.rint, np.round, np.around, np.floor_divide,
          np.remainder)),
    Case("zeros-ones-like", "mat",
         lambda m, x: m.sum(x * m.ones_like(x) + m.zeros_like(x)) + m.sum(m.sin(x) ** 2),
         (np.zeros_like, np.ones_like)),
]


def wl_f(case: Case) -> Callable[[Any], Any]:
    return lambda v: case.f(np, v)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_gradient_matches_jax_and_central_differences(case: Case) -> None:
    x0 = INPUTS[case.x]
    got = wl.grad(wl_f(case))(wl.tensor(x0))
    assert isinstance(got, wl.Tensor) and got.shape == x0.shape
    reference = jax.grad(lambda v: case.f(jnp, v))(jnp.asarray(x0))
    np.testing.assert_allclose(as_np(got), as_np(reference), rtol=RTOL, atol=ATOL)
    numerical = wl.numerical_grad(wl_f(case), wl.tensor(x0))
    np.testing.assert_allclose(as_np(got), as_np(numerical), rtol=NUM_RTOL, atol=NUM_ATOL)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_value_is_numpys_and_a_tensor_in_the_graph(case: Case) -> None:
    x0 = INPUTS[case.x]
    x = wl.tensor(x0, requires_grad=True)
    out = case.f(np, x)
    assert isinstance(out, wl.Tensor) and out.requires_grad
    np.testing.assert_allclose(float(out), float(case.f(np, x0)), rtol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_forward_mode_matches_reverse(case: Case) -> None:
    x0 = INPUTS[case.x]
    tangent = np.random.default_rng(1).normal(size=x0.shape)
    value, slope = wl.jvp(wl_f(case), (wl.tensor(x0),), (wl.tensor(tangent),))
    gradient = as_np(wl.grad(wl_f(case))(wl.tensor(x0)))
    np.testing.assert_allclose(float(value), float(case.f(np, x0)), rtol=1e-12)
    np.testing.assert_allclose(float(slope), np.sum(gradient * tangent), rtol=1e-9, atol=1e-12)


def test_every_differentiable_mapping_is_checked() -> None:
    covered = {func for case in CASES for func in case.uses}
    not_differentiable = {np.less, np.less_equal, np.greater, np.greater_equal, np.equal,
                          np.not_equal, np.logical_and, np.logical_or, np.logical_xor,
                          np.logical_not, np.isfinite, np.isnan, np.bitwise_and,
                          np.bitwise_or, np.bitwise_xor, np.invert}
    mapped = (set(interop._UFUNCS) - not_differentiable) | set(interop._FUNCTIONS)
    assert mapped - covered == set()


@pytest.mark.parametrize("func", list(interop._FUNCTIONS), ids=lambda f: f.__name__)
def test_adapters_use_numpys_parameter_names(func: Callable[..., Any]) -> None:
    adapter = interop._FUNCTIONS[func]
    ours = set(inspect.signature(adapter).parameters)
    assert ours <= set(inspect.signature(func).parameters)


# ----------------------------------------------------------------------- the brief's examples


def test_np_sin_gradient_is_cos() -> None:
    assert wl.grad(lambda v: np.sin(v))(2.0).item() == pytest.approx(math.cos(2.0),
                                                                     rel=1e-15, abs=0)


def test_np_sum_of_products_gradient() -> None:
    x0 = INPUTS["vec"]
    got = wl.grad(lambda v: np.sum(np.sin(v) * np.cos(v)))(wl.tensor(x0))
    np.testing.assert_allclose(as_np(got), np.cos(2 * x0), rtol=1e-12)


def practice_f(X: Any) -> Any:  # the text's NumPy code, unchanged
    x1, x2 = X[:, 0], X[:, 1]
    return np.sum(np.sin(x1) * np.cos(x2) + np.sin(0.5 * x1) * np.cos(0.5 * x2))


def practice_hand_gradient(X: np.ndarray) -> np.ndarray:
    x1, x2 = X[:, 0], X[:, 1]
    return np.stack([np.cos(x1) * np.cos(x2) + 0.5 * np.cos(x1 / 2) * np.cos(x2 / 2),
                     -np.sin(x1) * np.sin(x2) - 0.5 * np.sin(x1 / 2) * np.sin(x2 / 2)], axis=1)


def test_practice_exercise_numpy_code_under_grad() -> None:
    X0 = np.random.default_rng(3).uniform(-3, 3, size=(7, 2))
    got = wl.grad(practice_f)(X0)
    np.testing.assert_allclose(as_np(got), practice_hand_gradient(X0), rtol=1e-12, atol=1e-14)
    assert float(practice_f(wl.tensor(X0))) == pytest.approx(float(practice_f(X0)),
                                                             rel=1e-14, abs=0)


def test_practice_exercise_forward_mode() -> None:
    X0 = np.random.default_rng(4).uniform(-3, 3, size=(4, 2))
    jacobian = wl.jacfwd(practice_f)(wl.tensor(X0))
    np.testing.assert_allclose(as_np(jacobian), practice_hand_gradient(X0), rtol=1e-12,
                               atol=1e-14)


def test_jacfwd_and_jvp_of_vector_numpy_code_match_jax() -> None:
    x0 = INPUTS["vec"][:3]

    def f(m: Any, v: Any) -> Any:
        return m.tanh(m.matmul(C33, v)) * m.sum(m.exp(v)) + m.stack([v[0], v[1] ** 2, v[2]])

    np.testing.assert_allclose(as_np(wl.jacfwd(lambda v: f(np, v))(wl.tensor(x0))),
                               as_np(jax.jacfwd(lambda v: f(jnp, v))(jnp.asarray(x0))),
                               rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(as_np(wl.jacrev(lambda v: f(np, v))(wl.tensor(x0))),
                               as_np(jax.jacrev(lambda v: f(jnp, v))(jnp.asarray(x0))),
                               rtol=RTOL, atol=ATOL)
    tangent = np.array([0.3, -1.0, 2.0])
    _, slope = wl.jvp(lambda v: f(np, v), (wl.tensor(x0),), (wl.tensor(tangent),))
    _, expected = jax.jvp(lambda v: f(jnp, v), (jnp.asarray(x0),), (jnp.asarray(tangent),))
    np.testing.assert_allclose(as_np(slope), as_np(expected), rtol=RTOL, atol=ATOL)


def test_second_order_through_numpy_calls() -> None:
    x0 = INPUTS["vec"]
    got = wl.hessian(lambda v: np.sum(np.sin(v) ** 2 * np.exp(v)))(wl.tensor(x0))
    expected = jax.hessian(lambda v: jnp.sum(jnp.sin(v) ** 2 * jnp.exp(v)))(jnp.asarray(x0))
    np.testing.assert_allclose(as_np(got), as_np(expected), rtol=RTOL, atol=ATOL)


# ----------------------------------------------------------------------- against PyTorch

TORCH_CASES = {
    "sin": (lambda v: np.sum(np.sin(v) * C34), lambda v: torch.sum(torch.sin(v) * _t(C34))),
    "power": (lambda v: np.sum(np.power(np.abs(v), 2.5)),
              lambda v: torch.sum(torch.pow(torch.abs(v), 2.5))),
    "sum-axis": (lambda v: np.sum(np.sum(v, axis=1) ** 2),
                 lambda v: torch.sum(torch.sum(v, dim=1) ** 2)),
    "mean": (lambda v: np.mean(v, axis=0) @ np.arange(4.0),
             lambda v: torch.mean(v, dim=0) @ _t(np.arange(4.0))),
    "matmul-dot": (lambda v: np.sum(np.dot(v, W) ** 2) + np.sum(np.matmul(C33, v)),
                   lambda v: torch.sum((v @ _t(W)) ** 2) + torch.sum(_t(C33) @ v)),
    "where": (lambda v: np.sum(np.where(v > 0, v ** 2, -v)),
              lambda v: torch.sum(torch.where(v > 0, v ** 2, -v))),
    "stack-concatenate": (
        lambda v: np.sum(np.stack([v, v * v]) ** 2) + np.sum(np.concatenate([v, C34]) ** 3),
        lambda v: torch.sum(torch.stack([v, v * v]) ** 2)
        + torch.sum(torch.cat([v, _t(C34)]) ** 3)),
    "clip": (lambda v: np.sum(np.clip(v, -0.5, 0.5) * C34),
             lambda v: torch.sum(torch.clamp(v, -0.5, 0.5) * _t(C34))),
    "linalg-norm": (lambda v: np.linalg.norm(v) + np.sum(np.linalg.norm(v, axis=1)),
                    lambda v: torch.linalg.norm(v) + torch.sum(torch.linalg.norm(v, dim=1))),
}


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64)


@pytest.mark.parametrize("name", list(TORCH_CASES))
def test_gradient_matches_pytorch(name: str) -> None:
    ours, theirs = TORCH_CASES[name]
    x0 = INPUTS["mat"]
    got = wl.grad(ours)(wl.tensor(x0))
    xt = _t(x0).requires_grad_(True)
    theirs(xt).backward()
    np.testing.assert_allclose(as_np(got), xt.grad.numpy(), rtol=RTOL, atol=ATOL)


# ----------------------------------------------------------------------- properties

UNARY = ["sin", "cos", "tanh", "exp", "square", "negative", "absolute"]
BINARY = ["add", "subtract", "multiply", "maximum", "minimum"]
finite = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(x0=arrays(np.float64, st.integers(1, 6), elements=finite),
       unary=st.sampled_from(UNARY), binary=st.sampled_from(BINARY), left=st.booleans())
def test_ufunc_mixes_with_ndarrays_match_jax(x0: np.ndarray, unary: str, binary: str,
                                             left: bool) -> None:
    other = np.linspace(-1.3, 1.7, x0.size)  # an ndarray operand, on either side

    def f(m: Any, v: Any) -> Any:
        u = getattr(m, unary)(v)
        op = getattr(m, binary)
        return m.sum(op(other, u) if left else op(u, other))

    got = wl.grad(lambda v: f(np, v))(wl.tensor(x0))
    expected = jax.grad(lambda v: f(jnp, v))(jnp.asarray(x0))
    np.testing.assert_allclose(as_np(got), as_np(expected), rtol=RTOL, atol=ATOL)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(x0=arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)), elements=finite),
       axis=st.sampled_from([None, 0, 1, -1, (0, 1)]), keepdims=st.booleans(),
       name=st.sampled_from(["sum", "mean", "var", "std", "prod"]))
def test_reductions_follow_numpy_keywords(x0: np.ndarray, axis: Any, keepdims: bool,
                                          name: str) -> None:
    x0 = x0 + 4.0 + 0.37 * np.arange(x0.size).reshape(x0.shape)  # std: away from 0
    assume(name != "std" or np.min(np.std(x0, axis=axis)) > 1e-3)
    weights = np.random.default_rng(0).normal(size=np.sum(x0, axis=axis, keepdims=keepdims).shape)

    def f(m: Any, v: Any) -> Any:
        return m.sum(getattr(m, name)(v, axis=axis, keepdims=keepdims) * weights)

    out = getattr(np, name)(wl.tensor(x0), axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(as_np(out), getattr(np, name)(x0, axis=axis, keepdims=keepdims),
                               rtol=1e-12)
    got = wl.grad(lambda v: f(np, v))(wl.tensor(x0))
    expected = jax.grad(lambda v: f(jnp, v))(jnp.asarray(x0))
    np.testing.assert_allclose(as_np(got), as_np(expected), rtol=1e-8, atol=1e-10)


# ----------------------------------------------------------------------- not differentiable


def test_comparisons_and_logical_ufuncs_give_bool_tensors() -> None:
    t = wl.tensor([-1.0, 0.0, 2.0, np.nan], requires_grad=True)
    a = np.array([0.0, 0.0, 1.0, 1.0])
    for ufunc in (np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal):
        for args in ((t, a), (a, t), (t, 0.5)):
            out = ufunc(*args)
            assert isinstance(out, wl.Tensor) and not out.requires_grad
            assert out.tolist() == ufunc(*[np.asarray(v) for v in args]).tolist()
    for ufunc in (np.logical_and, np.logical_or, np.logical_xor):
        out = ufunc(t, a)
        assert isinstance(out, wl.Tensor) and not out.requires_grad
        assert out.tolist() == ufunc(np.asarray(t), a).tolist()
    for ufunc in (np.logical_not, np.isfinite, np.isnan):
        out = ufunc(t)
        assert isinstance(out, wl.Tensor) and out.tolist() == ufunc(np.asarray(t)).tolist()
    assert (np.ones(4) < t).tolist() == [False, False, True, False]


def test_queries_return_numpys_results() -> None:
    x0 = np.array([[1.0, -2.0, 3.0], [0.0, 5.0, -6.0]])
    t = wl.tensor(x0, requires_grad=True)
    assert np.shape(t) == (2, 3) and np.ndim(t) == 2 and np.size(t) == 6
    assert np.allclose(t, x0) and np.array_equal(t, x0) and not np.array_equal(t, x0 + 1)
    assert np.allclose(t, [[t[0, 0], -2.0, 3.0], t[1]])  # tensors inside lists too
    close = np.isclose(t, 3.0)
    assert type(close) is np.ndarray and close.tolist() == np.isclose(x0, 3.0).tolist()
    assert np.argmax(t) == 4 and np.argmin(t, axis=1).tolist() == [1, 2]
    assert type(np.argmax(t)) is np.intp
    assert np.argsort(t, axis=None).tolist() == np.argsort(x0, axis=None).tolist()
    assert bool(np.any(t > 4)) and not np.all(t)
    assert np.count_nonzero(t) == 5 and np.result_type(t, 1.0) == np.float64
    assert np.nonzero(t)[1].tolist() == np.nonzero(x0)[1].tolist()
    assert np.where(t)[0].tolist() == np.where(x0)[0].tolist()  # the one-argument form


@pytest.mark.parametrize("call, name, hint", [
    (lambda t: np.arctan2(t, t), "numpy.arctan2", "t.numpy()"),
    (lambda t: np.log10(t), "numpy.log10", "wl.log"),
    (lambda t: np.cumsum(t), "numpy.cumsum", "t.numpy()"),
    (lambda t: np.add.accumulate(t), "numpy.add.accumulate", "not differentiable"),
    (lambda t: np.maximum.reduce(t), "numpy.maximum.reduce", "wl.max"),
    (lambda t: np.linalg.det(np.outer(t, t)), "numpy.linalg.det", "t.detach()"),
    (lambda t: np.tensordot(t, t, 1), "numpy.tensordot", "wl.einsum"),
    (lambda t: np.copyto(t, np.zeros(3)), "numpy.copyto", "assign"),
    (lambda t: scipy.special.expit(t), "expit", "wl.sigmoid"),
    (lambda t: np.sum(t, dtype=np.float32), "numpy.sum", "'dtype'"),
    (lambda t: np.exp(t, dtype=np.float32), "numpy.exp", "'dtype'"),
    (lambda t: np.reshape(t, (3, 1), order="F"), "numpy.reshape", "'order'"),
    (lambda t: np.linalg.norm(np.outer(t, t), ord=2), "numpy.linalg.norm", "fro"),
    (lambda t: np.einsum(t, [0], []), "numpy.einsum", "string"),
])
def test_unsupported_raise_a_type_error_naming_the_numpy_function(call: Callable, name: str,
                                                                  hint: str) -> None:
    t = wl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(TypeError) as info:
        call(t)
    assert name in str(info.value) and hint in str(info.value)


@pytest.mark.parametrize("call", [
    lambda t, a: np.sin(t, out=a),
    lambda t, a: np.add(a, a, out=t),
    lambda t, a: np.add(a, t, out=a),
    lambda t, a: np.add.reduce(t, out=a[0:1].reshape(())),
])
def test_out_is_refused_with_advice_to_assign(call: Callable) -> None:
    t, a = wl.tensor([1.0, 2.0, 3.0], requires_grad=True), np.zeros(3)
    with pytest.raises(TypeError, match=r"out=.*assign the result"):
        call(t, a)
    assert a.tolist() == [0.0, 0.0, 0.0]


def test_inplace_ndarray_operator_with_a_tensor_is_refused() -> None:
    a = np.ones(3)
    with pytest.raises(TypeError, match="numpy.add.*out="):
        a += wl.tensor([1.0, 2.0, 3.0])


# ----------------------------------------------------------------------- conversions kept


def test_conversions_still_work() -> None:
    t = wl.tensor([1.5, 2.5], requires_grad=True)
    array = np.asarray(t)
    assert type(array) is np.ndarray and array.tolist() == [1.5, 2.5]
    assert float(t[0]) == 1.5 and t[1].item() == 2.5
    assert float(np.sum(t)) == 4.0 and f"{np.mean(t):.2f}" == "2.00"


def test_ndarray_on_the_left_gives_tensors_with_gradients() -> None:
    t = wl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for out in (np.ones(3) * t, np.ones(3) + t, np.float64(2.0) * t, np.ones(3) @ t,
                np.arange(3.0) - t, np.full(3, 2.0) / t):
        assert isinstance(out, wl.Tensor) and out.requires_grad
    np.sum(np.arange(3.0) * t + np.ones(3) + t).backward()
    np.testing.assert_allclose(as_np(t.grad), [1.0, 2.0, 3.0])


def test_pandas_on_the_left_of_an_operator_gives_tensors_with_gradients() -> None:
    # pandas defers to the Tensor (``__pandas_priority__``): ``s * x`` was a Series of the
    # values, cut from the graph, so the gradient silently lost that term
    pd = pytest.importorskip("pandas")
    s = pd.Series([1.0, 2.0, 3.0], index=[10, 20, 30])
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    g = wl.grad(lambda v: (v * v).sum() + (s * v).sum() + (s - v).sum() + (s / v).sum())
    x0 = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(g(x0).numpy(), 2 * x0 + s.to_numpy() - 1 - s.to_numpy() / x0**2)
    out = df * wl.tensor([1.0, 2.0], requires_grad=True)
    assert isinstance(out, wl.Tensor) and out.requires_grad
    np.testing.assert_array_equal(out.detach().numpy(), df.to_numpy() * [1.0, 2.0])
    assert isinstance(s > wl.tensor([0.0, 2.0, 5.0]), wl.Tensor)


def test_a_traced_tensor_turned_into_a_numpy_array_is_a_warning_not_a_silent_cut() -> None:
    # np.sum of a list of tensors (or np.array of one, pandas' ``df @ x``, ...) converts
    # them with ``__array__``: the gradient through that term was lost without a word
    import warnings

    x0 = np.array([1.0, 2.0, 3.0])
    with pytest.warns(UserWarning, match="no derivative flows through the result"):
        g = wl.grad(lambda x: np.sum([x[0], x[1]]) * x[2])(x0)
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0, 3.0])  # the cut it warns about
    with pytest.warns(UserWarning, match="no derivative"):
        wl.jacfwd(lambda x: x * np.array([x[0], x[1], x[2]]))(x0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # the stacked forms, queries and explicit detaching are silent; so is any
        # conversion outside a transform, even of a tensor that requires grad
        assert_close = np.testing.assert_allclose
        assert_close(wl.grad(lambda x: np.sum(np.stack([x[0], x[1]])) * x[2])(x0).numpy(),
                     [3.0, 3.0, 3.0])
        wl.grad(lambda x: (x * float(np.allclose(x, x0))).sum() + x.detach().numpy().sum())(x0)
        wl.jacfwd(lambda x: x * np.argmax(x))(x0)
        np.asarray(wl.tensor(x0, requires_grad=True))
