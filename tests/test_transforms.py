"""The functional transforms (API.md §2) against JAX in float64.

Every composite function is written once, parameterised by the module ``m`` (``wl`` or
``jnp``), or twice where the two libraries name things differently (softplus,
log_softmax, logsumexp). Each is differentiated with ``grad``, ``value_and_grad``,
``jacrev``, ``jacfwd``, ``jacobian``, ``jvp``, ``vjp`` and ``hessian`` and compared with
the JAX transform of the same name to 1e-8 relative.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import wonderland as wl  # noqa: E402

RTOL, ATOL = 1e-8, 1e-10

SETTINGS = settings(max_examples=15, deadline=None, derandomize=True)
coord = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


# ----------------------------------------------------------------------- helpers


def as_np(t: Any) -> np.ndarray:
    return np.asarray(t, dtype=np.float64)


def assert_tree_close(actual: Any, expected: Any, rtol: float = RTOL, atol: float = ATOL,
                      path: str = "result") -> None:
    """``actual`` (wonderland) has ``expected``'s (JAX) tuple structure, shapes and values;
    every leaf is a float64 wonderland Tensor."""
    if isinstance(expected, (tuple, list)):
        assert isinstance(actual, tuple), f"{path}: expected a tuple, got {type(actual)}"
        assert len(actual) == len(expected), f"{path}: {len(actual)} != {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_tree_close(a, e, rtol, atol, f"{path}[{i}]")
        return
    assert isinstance(actual, wl.Tensor), f"{path}: expected a Tensor, got {type(actual)}"
    assert actual.dtype == np.float64, f"{path}: dtype {actual.dtype}"
    e = np.asarray(expected)
    assert tuple(actual.shape) == e.shape, f"{path}: shape {actual.shape} != {e.shape}"
    np.testing.assert_allclose(as_np(actual), e, rtol=rtol, atol=atol, err_msg=path)


def const(m: Any, a: Any) -> Any:
    """A constant of library ``m``."""
    return wl.tensor(a) if m is wl else jnp.asarray(a)


def rng_for(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------- the composite set


def practice(x, m):
    """The text's practice function of x = (x1, x2)."""
    return m.sin(x[0]) * m.cos(x[1]) + m.sin(0.5 * x[0]) * m.cos(0.5 * x[1])


def practice_rows(X, m):
    """The practice function on each row of X ~ (n, 2): (n,)."""
    return m.sin(X[:, 0]) * m.cos(X[:, 1]) + m.sin(0.5 * X[:, 0]) * m.cos(0.5 * X[:, 1])


def poly(x, m=None):
    return 2 * x**4 + x**3 - 3 * x**2


def poly_d1(x):
    return 8 * x**3 + 3 * x**2 - 6 * x


def poly_d2(x):
    return 24 * x**2 + 6 * x - 6


def softplus(m):
    return wl.softplus if m is wl else jax.nn.softplus


def log_softmax(m):
    return (lambda z: wl.log_softmax(z, dim=-1)) if m is wl else jax.nn.log_softmax


def logsumexp(m):
    return ((lambda z: wl.logsumexp(z, dim=-1)) if m is wl
            else (lambda z: jax.scipy.special.logsumexp(z, axis=-1)))


N, D, K, H = 7, 3, 4, 5
_data = rng_for(0)
X_DATA = _data.standard_normal((N, D))
Y_REG = _data.standard_normal(N)
Y_PM = np.where(_data.standard_normal(N) > 0, 1.0, -1.0)
Y_01 = (Y_PM + 1) / 2
LABELS = np.array([0, 3, 1, 2, 3, 0, 1])


def least_squares(w, m):
    X, y = const(m, X_DATA), const(m, Y_REG)
    return ((X @ w - y) ** 2).mean()


def least_squares_wb(w, b, m):
    X, y = const(m, X_DATA), const(m, Y_REG)
    return ((X @ w + b - y) ** 2).mean()


def logistic(w, m):
    X, y = const(m, X_DATA), const(m, Y_PM)
    return softplus(m)(-y * (X @ w)).mean()


def bce_with_logits(w, b, m):
    """Binary cross-entropy with logits z, targets t in {0, 1}: softplus(z) - t z."""
    X, t = const(m, X_DATA), const(m, Y_01)
    z = X @ w + b
    return (softplus(m)(z) - t * z).mean()


def softmax_xent(W, b, m):
    Z = const(m, X_DATA) @ W + b
    return -(log_softmax(m)(Z)[np.arange(N), LABELS]).mean()


def softmax_xent_lse(W, m):
    Z = const(m, X_DATA) @ W
    return (logsumexp(m)(Z) - Z[np.arange(N), LABELS]).mean()


def tanh_net(W1, b1, W2, m):
    X, y = const(m, X_DATA), const(m, Y_REG)
    return ((m.tanh(X @ W1 + b1) @ W2 - y) ** 2).mean()


def tanh_net_out(x, W1, b1, W2, m):
    """The network's (o,) output for one input x ~ (d,)."""
    return m.tanh(x @ W1 + b1) @ W2


@dataclass
class Case:
    name: str
    fn: Any                 # fn(*params, m)
    params: list            # numpy float64 arrays
    argnums: list = field(default_factory=lambda: [0])
    scalar: bool = True

    def wl(self):
        return lambda *p: self.fn(*p, wl)

    def jax(self):
        return lambda *p: self.fn(*p, jnp)


def _cases() -> list[Case]:
    r = rng_for(1)
    return [
        Case("practice", practice, [np.array([0.7, -1.3])]),
        Case("practice_rows", practice_rows, [r.uniform(-3, 3, (4, 2))], scalar=False),
        Case("poly", poly, [np.array(0.8)]),
        Case("least_squares", least_squares, [r.standard_normal(D)]),
        Case("least_squares_wb", least_squares_wb, [r.standard_normal(D), np.array(0.3)],
             argnums=[0, 1, (0, 1), (1, 0)]),
        Case("logistic", logistic, [r.standard_normal(D)]),
        Case("bce_with_logits", bce_with_logits, [r.standard_normal(D), np.array(-0.2)],
             argnums=[0, 1, (0, 1)]),
        Case("softmax_xent", softmax_xent, [r.standard_normal((D, K)), r.standard_normal(K)],
             argnums=[0, 1, (0, 1)]),
        Case("softmax_xent_lse", softmax_xent_lse, [r.standard_normal((D, K))]),
        Case("tanh_net", tanh_net,
             [r.standard_normal((D, H)), r.standard_normal(H), r.standard_normal(H)],
             argnums=[0, 1, 2, (0, 2), (0, 1, 2)]),
        Case("tanh_net_out", tanh_net_out,
             [r.standard_normal(D), r.standard_normal((D, H)), r.standard_normal(H),
              r.standard_normal((H, 2))],
             argnums=[0, 1, (0, 3)], scalar=False),
    ]


CASES = _cases()
CASE_BY_NAME = {c.name: c for c in CASES}
SCALAR_CASES = [c for c in CASES if c.scalar]
ids = [c.name for c in CASES]
scalar_ids = [c.name for c in SCALAR_CASES]


_JAX_TRANSFORMS = {"grad": jax.grad, "value_and_grad": jax.value_and_grad,
                   "jacobian": jax.jacrev, "hessian": jax.hessian}


@functools.cache
def jax_ref(name: str, transform: str, argnums: Any) -> Any:
    """The JAX reference for a case, computed once and jitted (JAX's eager transforms are
    slow)."""
    case = CASE_BY_NAME[name]
    return jax.jit(_JAX_TRANSFORMS[transform](case.jax(), argnums))(*case.params)


def _with_argnums(cases):
    return [pytest.param(c, a, id=f"{c.name}-argnums={a}") for c in cases for a in c.argnums]


# ----------------------------------------------------------------------- grad and friends


@pytest.mark.parametrize(("case", "argnums"), _with_argnums(SCALAR_CASES))
def test_grad_matches_jax(case, argnums):
    ours = wl.grad(case.wl(), argnums=argnums)(*case.params)
    assert_tree_close(ours, jax_ref(case.name, "grad", argnums))


@pytest.mark.parametrize(("case", "argnums"), _with_argnums(SCALAR_CASES))
def test_value_and_grad_matches_jax(case, argnums):
    value, g = wl.value_and_grad(case.wl(), argnums=argnums)(*case.params)
    value_j, g_j = jax_ref(case.name, "value_and_grad", argnums)
    assert_tree_close(value, value_j)
    assert_tree_close(g, g_j)


@pytest.mark.parametrize(("case", "argnums"), _with_argnums(CASES))
@pytest.mark.parametrize("mode", ["rev", "fwd", "auto"])
def test_jacobian_matches_jax(case, argnums, mode):
    ours = {"rev": wl.jacrev(case.wl(), argnums),
            "fwd": wl.jacfwd(case.wl(), argnums),
            "auto": wl.jacobian(case.wl(), argnums)}[mode](*case.params)
    assert_tree_close(ours, jax_ref(case.name, "jacobian", argnums))


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_jvp_matches_jax(case):
    r = rng_for(2)
    tangents = tuple(r.standard_normal(np.shape(p)) for p in case.params)
    out, t_out = wl.jvp(case.wl(), tuple(case.params), tangents)
    out_j, t_out_j = jax.jvp(case.jax(), tuple(case.params), tangents)
    assert_tree_close(out, out_j)
    assert_tree_close(t_out, t_out_j)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_vjp_matches_jax(case):
    out, pullback = wl.vjp(case.wl(), *case.params)
    out_j, pullback_j = jax.vjp(case.jax(), *case.params)
    assert_tree_close(out, out_j)
    r = rng_for(3)
    for _ in range(2):  # the pullback may be called more than once
        v = r.standard_normal(np.shape(out_j))
        assert_tree_close(pullback(v), pullback_j(v))


@pytest.mark.parametrize("case", SCALAR_CASES, ids=scalar_ids)
def test_hessian_matches_jax(case):
    for k in range(len(case.params)):
        ours = wl.hessian(case.wl(), argnums=k)(*case.params)
        theirs = jax_ref(case.name, "hessian", k)
        shape = np.shape(case.params[k])
        assert tuple(ours.shape) == shape + shape
        assert_tree_close(ours, theirs, path=f"hessian argnums={k}")


_practice_grad_j = jax.jit(jax.grad(lambda x: practice(x, jnp)))
_practice_hessian_j = jax.jit(jax.hessian(lambda x: practice(x, jnp)))
_practice_rows_jac_j = jax.jit(jax.jacrev(lambda X: practice_rows(X, jnp)))
_PRACTICE_TERMS = (lambda x: jnp.sin(x[..., 0]) * jnp.cos(x[..., 1]),
                   lambda x: jnp.sin(0.5 * x[..., 0]) * jnp.cos(0.5 * x[..., 1]))


def assert_close_to_rounding(actual, expected, transform, x):
    """assert_tree_close, with an elementwise atol: 1e-13 times the sum of |transform| of
    the practice function's two terms, what the rounding errors of the derivative are
    relative to. (ATOL alone let any derivative below 1e-10 pass, and hypothesis draws
    coordinates such as 1e-300.) Plus the smallest normal number: JAX flushes subnormal
    results to 0."""
    assert_tree_close(actual, expected)
    scale = sum(np.abs(np.asarray(transform(term)(x))) for term in _PRACTICE_TERMS)
    a, e = as_np(actual), np.asarray(expected)
    bad = np.abs(a - e) > RTOL * np.abs(e) + 1e-13 * scale + np.finfo(np.float64).tiny
    assert not bad.any(), f"{a[bad]} != {e[bad]} at x = {x!r}"


@SETTINGS
@given(coord, coord)
def test_practice_function_grad_and_hessian_at_random_points(a, b):
    x = np.array([a, b])
    f_wl = lambda x: practice(x, wl)  # noqa: E731
    assert_close_to_rounding(wl.grad(f_wl)(x), _practice_grad_j(x), jax.grad, x)
    assert_close_to_rounding(wl.hessian(f_wl)(x), _practice_hessian_j(x), jax.hessian, x)


@SETTINGS
@given(st.lists(st.tuples(coord, coord), min_size=1, max_size=4))
def test_practice_rows_jacobians_at_random_points(rows):
    X = np.array(rows, dtype=np.float64)
    n = X.shape[0]
    f_wl = lambda X: practice_rows(X, wl)  # noqa: E731
    expected = _practice_rows_jac_j(X)
    for jac in (wl.jacrev(f_wl), wl.jacfwd(f_wl), wl.jacobian(f_wl)):
        J = jac(X)
        assert tuple(J.shape) == (n, n, 2)
        assert_close_to_rounding(J, expected, jax.jacrev, X)


# ----------------------------------------------------------------------- the polynomial


@pytest.mark.parametrize("x", [-2.0, -1.0, -0.5, 0.0, 0.3, 1.0, 2.0, 3.7])
def test_polynomial_first_and_second_derivative(x):
    d1 = wl.grad(poly)(x)
    d2 = wl.grad(wl.grad(poly))(x)
    assert d1.shape == () and d2.shape == ()
    np.testing.assert_allclose(d1.item(), poly_d1(x), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(d2.item(), poly_d2(x), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(d1.item(), float(jax.grad(poly)(x)), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(d2.item(), float(jax.grad(jax.grad(poly))(x)), rtol=RTOL,
                               atol=ATOL)
    # third and fourth: 48x + 6 and 48
    np.testing.assert_allclose(wl.grad(wl.grad(wl.grad(poly)))(x).item(), 48 * x + 6,
                               rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(wl.grad(wl.grad(wl.grad(wl.grad(poly))))(x).item(), 48.0,
                               rtol=RTOL, atol=ATOL)


def test_polynomial_text_value_at_two():
    assert wl.grad(poly)(2.0).item() == 64.0  # 8*8 + 3*4 - 12
    assert wl.hessian(poly)(2.0).item() == pytest.approx(poly_d2(2.0), rel=RTOL)


@SETTINGS
@given(coord)
def test_polynomial_derivatives_at_random_points(x):
    # rounding errors are relative to the terms' sizes, not 1e-9: hypothesis draws x such
    # as 1e-300, where poly'(x) = -6x and atol=1e-9 passed any value (tiny: subnormals)
    d1_scale = 8 * abs(x) ** 3 + 3 * x * x + 6 * abs(x) + np.finfo(np.float64).tiny / 1e-13
    d2_scale = 24 * x * x + 6 * abs(x) + 6
    np.testing.assert_allclose(wl.grad(poly)(x).item(), poly_d1(x), rtol=RTOL,
                               atol=1e-13 * d1_scale)
    np.testing.assert_allclose(wl.grad(wl.grad(poly))(x).item(), poly_d2(x), rtol=RTOL,
                               atol=1e-13 * d2_scale)
    _, slope = wl.jvp(poly, (x,), (1.0,))
    np.testing.assert_allclose(slope.item(), poly_d1(x), rtol=RTOL, atol=1e-13 * d1_scale)


# ----------------------------------------------------------------------- has_aux


def test_value_and_grad_with_aux_follows_jax():
    w = rng_for(4).standard_normal(D)

    def f(w, m):
        r = const(m, X_DATA) @ w - const(m, Y_REG)
        return (r**2).mean(), r

    (value, aux), g = wl.value_and_grad(lambda w: f(w, wl), has_aux=True)(w)
    (value_j, aux_j), g_j = jax.value_and_grad(lambda w: f(w, jnp), has_aux=True)(w)
    assert_tree_close(value, value_j)
    np.testing.assert_allclose(as_np(aux), np.asarray(aux_j), rtol=RTOL, atol=ATOL)
    assert_tree_close(g, g_j)

    g2, aux2 = wl.grad(lambda w: f(w, wl), has_aux=True)(w)
    g2_j, aux2_j = jax.grad(lambda w: f(w, jnp), has_aux=True)(w)
    assert_tree_close(g2, g2_j)
    np.testing.assert_allclose(as_np(aux2), np.asarray(aux2_j), rtol=RTOL, atol=ATOL)


# ----------------------------------------------------------------------- nesting


def vec_fn(x, m):
    """R^3 -> R^2, non-linear in every entry."""
    A = const(m, np.array([[1.0, -2.0, 0.5], [0.3, 0.7, -1.1]]))
    return m.sin(A @ x) * (x[0] + x[2] ** 2) + m.tanh(x[1]) * (A @ (x * x))


X3 = np.array([0.4, -0.9, 1.3])


@functools.cache
def _vec_fn_second_derivative():
    return jax.jit(jax.jacfwd(jax.jacrev(lambda x: vec_fn(x, jnp))))(X3)

NESTINGS = {
    "jacfwd(jacrev)": lambda f: wl.jacfwd(wl.jacrev(f)),
    "jacrev(jacfwd)": lambda f: wl.jacrev(wl.jacfwd(f)),
    "jacfwd(jacfwd)": lambda f: wl.jacfwd(wl.jacfwd(f)),
    "jacrev(jacrev)": lambda f: wl.jacrev(wl.jacrev(f)),
    "jacobian(jacobian)": lambda f: wl.jacobian(wl.jacobian(f)),
}


@pytest.mark.parametrize("nest", list(NESTINGS), ids=list(NESTINGS))
def test_nested_jacobians_of_a_vector_function(nest):
    ours = NESTINGS[nest](lambda x: vec_fn(x, wl))(X3)
    theirs = _vec_fn_second_derivative()
    assert tuple(ours.shape) == (2, 3, 3)
    assert_tree_close(ours, theirs)


@pytest.mark.parametrize("nest", list(NESTINGS), ids=list(NESTINGS))
@pytest.mark.parametrize("case", [c for c in SCALAR_CASES if len(c.params) == 1],
                         ids=lambda c: c.name)
def test_nested_jacobians_of_a_scalar_function_equal_the_hessian(nest, case):
    ours = NESTINGS[nest](case.wl())(*case.params)
    assert_tree_close(ours, jax_ref(case.name, "hessian", 0))


M2 = np.array([[3.0, 1.0], [0.5, 2.0]])
LINALG_SCALARS = {  # a matrix argument M; batched ones broadcast against a vector
    "solve vector": lambda M, m: m.linalg.solve(M, const(m, np.array([1.0, 2.0])))[0],
    "solve matrix": lambda M, m: m.linalg.solve(M, const(m, np.eye(2)))[0, 0],
    "solve both": lambda M, m: (m.linalg.solve(M @ M, M[0]) ** 2).sum(),
    "solve batched": lambda M, m: m.linalg.solve(
        const(m, np.stack([np.eye(2), 2.0 * np.eye(2)])) + M, M[1]).sum(),
    "inv": lambda M, m: (m.linalg.inv(M) ** 2).sum(),
}


@pytest.mark.parametrize("nest", list(NESTINGS), ids=list(NESTINGS))
@pytest.mark.parametrize("name", list(LINALG_SCALARS))
def test_nested_jacobians_through_linear_algebra_equal_jaxs_hessian(nest, name):
    """Two levels of tangent (or cotangent) batch axes must stay apart from the matrices'
    own batch axes: jacfwd(jacfwd) through solve once paired them."""
    f = LINALG_SCALARS[name]
    ours = NESTINGS[nest](lambda M: f(M, wl))(M2)
    assert_tree_close(ours, jax.hessian(lambda M: f(M, jnp))(M2))


def test_grad_of_grad_of_a_scalar_function():
    def f(x, m):
        return m.sin(x) * m.exp(0.3 * x) + m.tanh(x) ** 3

    for x in (-1.2, 0.0, 0.5, 2.0):
        ours = wl.grad(wl.grad(lambda x: f(x, wl)))(x)
        theirs = jax.grad(jax.grad(lambda x: f(x, jnp)))(x)
        assert_tree_close(ours, theirs)
        ours3 = wl.grad(wl.grad(wl.grad(lambda x: f(x, wl))))(x)
        theirs3 = jax.grad(jax.grad(jax.grad(lambda x: f(x, jnp))))(x)
        assert_tree_close(ours3, theirs3)


def test_grad_of_a_gradient_component():
    """grad(lambda x: grad(f)(x)[0]): a row of the Hessian."""
    x = np.array([0.7, -1.3])
    ours = wl.grad(lambda x: wl.grad(lambda y: practice(y, wl))(x)[0])(x)
    theirs = _practice_hessian_j(x)[0]
    assert_tree_close(ours, theirs)


def two_arg(x, y, m):
    return (m.sin(x) * y**2).sum() + (x**2).sum() * m.tanh(y).sum() + (x * y).sum() ** 2


XA = np.array([0.3, -0.8, 1.1])
YA = np.array([0.5, 1.7, -0.4])


@functools.cache
def _two_arg_hessian():
    """JAX's ((H_xx, H_xy), (H_yx, H_yy))."""
    return jax.jit(jax.hessian(lambda x, y: two_arg(x, y, jnp), argnums=(0, 1)))(XA, YA)


@pytest.mark.parametrize("argnums", [0, 1])
def test_hessian_of_a_function_of_two_arguments_per_argument(argnums):
    ours = wl.hessian(lambda x, y: two_arg(x, y, wl), argnums=argnums)(XA, YA)
    theirs = _two_arg_hessian()[argnums][argnums]
    assert_tree_close(ours, theirs)


@pytest.mark.parametrize("target", [(3,), (2, 3), (4, 1, 3)])
@pytest.mark.parametrize("mode", ["jacfwd", "jacrev"])
def test_jacobian_through_broadcast_to_a_higher_rank(target, mode):
    """The batched tangent of a lower-rank input keeps its batch axis in front."""
    weights = np.array([1.0, -2.0, 3.0])  # the scalar's tangent differs per basis vector

    def f(x, m):
        scalar = (x * const(m, weights)).sum()
        return (m.broadcast_to(scalar, target) * x).sum(axis=0) if len(target) > 1 \
            else m.broadcast_to(scalar, target) * x

    x = np.array([0.5, -1.0, 2.0])
    ours = getattr(wl, mode)(lambda t: f(t, wl))(x)
    theirs = getattr(jax, mode)(lambda t: f(t, jnp))(jnp.asarray(x))
    assert_tree_close(ours, theirs)


CUBE = np.arange(24.0).reshape(2, 3, 4) / 10
INDICES = {
    "arrays-apart": (np.array([0, 1]), slice(None), np.array([2, 3])),
    "int-and-array-apart": (0, slice(None), np.array([1, 3])),
    "arrays-2d-apart": (np.array([[0], [1]]), slice(None), np.array([1, 3])),
    "bool-and-array-apart": (np.array([True, False]), slice(None), np.array([1, 3])),
    "array-ellipsis-int": (np.array([1, 0]), Ellipsis, 2),
    "int-array-adjacent": (slice(None), 0, np.array([1, 3])),
    "basic": (slice(None), 1),
    "bool-mask": (CUBE[..., 0] > 0.5,),
}


@pytest.mark.parametrize("name", sorted(INDICES))
@pytest.mark.parametrize("mode", ["jacrev", "jacfwd"])
def test_jacobian_through_indexing_matches_jax(name, mode):
    """Where NumPy moves advanced-index axes to the front, batch axes must stay first."""
    index = INDICES[name]
    ours = getattr(wl, mode)(lambda t: wl.sin(t[index]))(CUBE)
    theirs = getattr(jax, mode)(lambda t: jnp.sin(t[index]))(jnp.asarray(CUBE))
    assert_tree_close(ours, theirs)


def _written(t: Any, index: Any, scalar: bool, m: Any) -> Any:
    """``y[index] = v`` on an intermediate ``y``, ``v`` depending on the input."""
    value = t.sum() if scalar else m.cos(t[index])
    if m is wl:
        y = t * 2.0
        y[index] = value
        return m.sin(y)
    return m.sin((t * 2.0).at[index].set(value))


@pytest.mark.parametrize("name", sorted(INDICES))
@pytest.mark.parametrize("scalar", [False, True], ids=["slice-value", "scalar-value"])
@pytest.mark.parametrize("mode", ["jacrev", "jacfwd", "hessian"])
def test_derivatives_through_an_in_place_write_match_jax(name, scalar, mode):
    index = INDICES[name]
    reduce = (lambda y: y.sum()) if mode == "hessian" else (lambda y: y)
    ours = getattr(wl, mode)(lambda t: reduce(_written(t, index, scalar, wl)))(CUBE)
    theirs = getattr(jax, mode)(lambda t: reduce(_written(t, index, scalar, jnp)))(
        jnp.asarray(CUBE))
    assert_tree_close(ours, theirs)


def test_jvp_through_an_in_place_write_matches_jax():
    tangent = np.linspace(-1.0, 1.0, CUBE.size).reshape(CUBE.shape)
    index = INDICES["basic"]
    ours = wl.jvp(lambda t: _written(t, index, False, wl), (CUBE,), (tangent,))
    theirs = jax.jvp(lambda t: _written(t, index, False, jnp), (jnp.asarray(CUBE),),
                     (jnp.asarray(tangent),))
    assert_tree_close(ours, theirs)


def test_in_place_write_into_a_view_under_forward_mode_is_refused():
    def f(t):
        y = t * 2.0
        view = y[1:3]
        view += t[0:2]  # the base's tangent would silently miss the write
        return y

    with pytest.raises(RuntimeError, match=r"add_ on a view .* forward-mode tangents"):
        wl.jvp(f, (np.arange(6.0),), (np.ones(6),))


def test_mixed_second_derivative_of_two_arguments_by_nesting():
    """d/dy (d/dx f): the off-diagonal block, by jacrev over grad."""
    ours = wl.jacrev(wl.grad(lambda x, y: two_arg(x, y, wl), argnums=0), argnums=1)(XA, YA)
    theirs = _two_arg_hessian()[0][1]
    assert_tree_close(ours, theirs)


def test_hessian_with_tuple_argnums_gives_the_nested_blocks_as_jax():
    """``argnums`` is an int or a tuple everywhere (API.md §2): JAX returns
    ((H_xx, H_xy), (H_yx, H_yy))."""
    ours = wl.hessian(lambda x, y: two_arg(x, y, wl), argnums=(0, 1))(XA, YA)
    theirs = _two_arg_hessian()
    assert_tree_close(ours, theirs)


# ----------------------------------------------------------------------- perturbation confusion


def D_rev(f):
    return wl.grad(f)


def D_fwd(f):
    return lambda x: wl.jvp(f, (x,), (1.0,))[1]


DERIVS = {"rev": D_rev, "fwd": D_fwd}
COMBOS = [(o, i) for o in DERIVS for i in DERIVS]


# (name, expression of the outer and inner derivative operators Do and Di, point, value)
CONFUSION = [
    # the classic: d/dx [x · d/dy (x + y)] = 1; a confused implementation gives 2
    ("x*D(x+y)(1)", lambda Do, Di: Do(lambda x: x * Di(lambda y: x + y)(1.0))(1.0), 1.0),
    # the inner derivative taken at y = x
    ("x*D(x+y)(x)", lambda Do, Di: Do(lambda x: x * Di(lambda y: x + y)(x))(1.0), 1.0),
    # d/dx [x · d/dy (x y)] = d/dx x² = 2x at x = 3
    ("x*D(x*y)(2)", lambda Do, Di: Do(lambda x: x * Di(lambda y: x * y)(2.0))(3.0), 6.0),
    # d/dx [d/dy (x y)] = d/dx x = 1
    ("D(x*y)(2)", lambda Do, Di: Do(lambda x: Di(lambda y: x * y)(2.0))(3.0), 1.0),
]


@pytest.mark.parametrize(("expr", "expected"), [(c[1], c[2]) for c in CONFUSION],
                         ids=[c[0] for c in CONFUSION])
@pytest.mark.parametrize(("outer", "inner"), COMBOS, ids=[f"{o}-over-{i}" for o, i in COMBOS])
def test_perturbation_confusion(outer, inner, expr, expected):
    result = expr(DERIVS[outer], DERIVS[inner])
    assert isinstance(result, wl.Tensor)
    assert result.item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("outer", "inner"), COMBOS, ids=[f"{o}-over-{i}" for o, i in COMBOS])
def test_nested_derivative_with_closure_matches_jax(outer, inner):
    """d/dx [sin(x) · d/dy exp(x y)|_{y=x}] = d/dx [sin(x) x exp(x²)]."""
    Do, Di = DERIVS[outer], DERIVS[inner]
    ours = Do(lambda x: wl.sin(x) * Di(lambda y: wl.exp(x * y))(x))(0.7)
    theirs = jax.grad(lambda x: jnp.sin(x) * jax.grad(lambda y: jnp.exp(x * y))(x))(0.7)
    np.testing.assert_allclose(ours.item(), float(theirs), rtol=RTOL, atol=ATOL)


# ----------------------------------------------------------------------- constant operands


BINARY = {
    "x+c": lambda x, c: x + c, "c+x": lambda x, c: c + x,
    "x-c": lambda x, c: x - c, "c-x": lambda x, c: c - x,
    "x*c": lambda x, c: x * c, "c*x": lambda x, c: c * x,
    "x/c": lambda x, c: x / c, "c/x": lambda x, c: c / x,
    "x**c": lambda x, c: x**c, "c**x": lambda x, c: c**x,
}
CONSTANTS = {
    "float": lambda m: 1.5,
    "int": lambda m: 2,
    "0d-array": lambda m: np.array(1.5),
    "array": lambda m: np.array([1.5, 2.0, 0.5]),
    "tensor": lambda m: const(m, np.array([1.5, 2.0, 0.5])),
}
XC = np.array([0.7, 1.3, 2.1])


@pytest.mark.parametrize("kind", list(CONSTANTS))
@pytest.mark.parametrize("op", list(BINARY))
def test_forward_and_reverse_mode_with_a_constant_operand(op, kind):
    """Constants (numbers, arrays, tensors outside the trace) carry no tangent: the
    derivative of ``c - x`` is ``-1``, of ``x + c`` is ``1``, in both modes."""
    f_wl = lambda x: BINARY[op](x, CONSTANTS[kind](wl))  # noqa: E731
    f_j = lambda x: BINARY[op](x, CONSTANTS[kind](jnp))  # noqa: E731
    v = np.array([1.0, -2.0, 0.5])
    _, t = wl.jvp(f_wl, (XC,), (v,))
    _, t_j = jax.jvp(f_j, (XC,), (v,))
    assert_tree_close(t, t_j, path="jvp")
    J_j = np.diag(np.asarray(t_j) / v)  # elementwise: a diagonal Jacobian
    assert_tree_close(wl.jacfwd(f_wl)(XC), J_j, path="jacfwd")
    assert_tree_close(wl.jacrev(f_wl)(XC), J_j, path="jacrev")


def test_text_style_scalar_constants_in_forward_mode():
    """The Taylor model's f(x) = (x - 1)² + 3 − x/2, in every mode."""
    def f(x):
        return (x - 1.0) ** 2 + 3.0 - x / 2

    for x in (-1.0, 0.5, 2.0):
        expected = 2 * (x - 1.0) - 0.5
        assert wl.grad(f)(x).item() == pytest.approx(expected, rel=1e-12)
        assert wl.jvp(f, (x,), (1.0,))[1].item() == pytest.approx(expected, rel=1e-12)
        assert wl.jacfwd(f)(x).item() == pytest.approx(expected, rel=1e-12)
        assert wl.hessian(f)(x).item() == pytest.approx(2.0, rel=1e-12)


# ----------------------------------------------------------------------- layout


V3 = np.array([0.5, -1.0, 2.0])


def rows_tanh(X, m):
    return m.tanh(X @ const(m, V3))


def squares(X, m):
    return X**2 * const(m, np.arange(1.0, 1.0 + X.size).reshape(X.shape))


def outer_fn(x, m):
    return m.outer(x, m.sin(x))


LAYOUT = [
    ("matrix-in vector-out", rows_tanh, rng_for(5).standard_normal((4, 3)), (4, 4, 3)),
    ("matrix-in matrix-out", squares, rng_for(6).standard_normal((2, 3)), (2, 3, 2, 3)),
    ("vector-in matrix-out", outer_fn, rng_for(7).standard_normal(3), (3, 3, 3)),
    ("matrix-in scalar-out", lambda X, m: (m.tanh(X) ** 2).sum(),
     rng_for(8).standard_normal((3, 2)), (3, 2)),
]


@pytest.mark.parametrize(("fn", "x", "shape"), [p[1:] for p in LAYOUT],
                         ids=[p[0] for p in LAYOUT])
def test_jacobian_layout_is_out_shape_plus_in_shape(fn, x, shape):
    theirs = jax.jacrev(lambda x: fn(x, jnp))(x)
    assert theirs.shape == shape
    results = {}
    for mode in ("rev", "fwd", "auto"):
        J = wl.jacobian(lambda x: fn(x, wl), mode=mode)(x)
        assert tuple(J.shape) == shape, mode
        assert_tree_close(J, theirs, path=mode)
        results[mode] = as_np(J)
    np.testing.assert_allclose(results["auto"], results["rev"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(results["auto"], results["fwd"], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape", [(3, 2), (2, 5), (4, 4), (1, 3), (3, 1)])
@pytest.mark.parametrize("mode", ["rev", "fwd", "auto"])
def test_jacobian_of_matrix_times_vector_is_the_matrix(shape, mode):
    W = rng_for(9).standard_normal(shape)
    Wt = wl.tensor(W)
    J = wl.jacobian(lambda x: Wt @ x, mode=mode)(np.ones(shape[1]) * 0.3)
    assert tuple(J.shape) == shape
    np.testing.assert_allclose(as_np(J), W, rtol=1e-14, atol=0)


@pytest.mark.parametrize("shape", [(), (1,), (4,), (2, 3)])
@pytest.mark.parametrize("mode", ["rev", "fwd", "auto"])
def test_jacobian_of_the_identity_is_the_identity(shape, mode):
    x = rng_for(10).standard_normal(shape)
    J = wl.jacobian(lambda x: x, mode=mode)(x)
    size = int(np.prod(shape))
    assert tuple(J.shape) == shape + shape
    np.testing.assert_array_equal(as_np(J), np.eye(size).reshape(shape + shape))


def test_jacobian_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        wl.jacobian(lambda x: x, mode="sideways")


# ----------------------------------------------------------------------- linearize


def text_f(x):
    return x**2 - 1.5 * x


def test_linearize_text_example():
    model = wl.linearize(text_f, 0.5)
    assert "{:.4f}".format(model(0.51).item()) == "-0.5050"
    assert "{:.4f}".format(text_f(0.51)) == "-0.5049"
    assert "{:.4f}".format(text_f(wl.tensor(0.51)).item()) == "-0.5049"
    assert format(model(0.51), ".4f") == "-0.5050"
    # f(x0) + f'(x0)(x - x0) = -0.5 + (-0.5)(0.01)
    np.testing.assert_allclose(model(0.51).item(), -0.505, rtol=1e-12)


def test_linearize_value_and_jvp_are_jax_linearize_pair():
    model = wl.linearize(text_f, 0.5)
    y, f_jvp = jax.linearize(text_f, 0.5)
    assert_tree_close(model.value, y)
    for v in (1.0, -2.0, 0.25):
        assert_tree_close(model.jvp(v), f_jvp(v))
    np.testing.assert_allclose(model(0.5).item(), float(y), rtol=1e-15)


def test_linearize_vector_function_matches_jax():
    x0 = np.array([0.4, -0.9, 1.3])
    model = wl.linearize(lambda x: vec_fn(x, wl), x0)
    y, f_jvp = jax.linearize(lambda x: vec_fn(x, jnp), x0)
    assert_tree_close(model.value, y)
    r = rng_for(11)
    J = np.asarray(jax.jacfwd(lambda x: vec_fn(x, jnp))(x0))
    for _ in range(3):
        v = r.standard_normal(3)
        assert_tree_close(model.jvp(v), f_jvp(v))
        x = x0 + 0.1 * v
        assert_tree_close(model(x), np.asarray(y) + J @ (x - x0))


def test_linearize_of_a_scalar_function_of_a_vector():
    x0 = np.array([0.7, -1.3])
    model = wl.linearize(lambda x: practice(x, wl), list(x0))
    y, f_jvp = jax.linearize(lambda x: practice(x, jnp), x0)
    g = np.asarray(jax.grad(lambda x: practice(x, jnp))(x0))
    x = np.array([0.75, -1.2])
    assert_tree_close(model(x), float(y) + g @ (x - x0))
    assert_tree_close(model.jvp(np.array([1.0, 2.0])), f_jvp(np.array([1.0, 2.0])))


# ----------------------------------------------------------------------- input kinds


def sq_sum(x):
    return (x**2).sum()


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (3, 6.0),
        (3.0, 6.0),
        (-1.5, -3.0),
        (np.float64(2.5), 5.0),
        (np.array(2.0), 4.0),
        (np.int64(4), 8.0),
        ([1, 2, 3], [2.0, 4.0, 6.0]),
        ([1.5, -2.0], [3.0, -4.0]),
        ([[1, 2], [3, 4]], [[2.0, 4.0], [6.0, 8.0]]),
        (np.array([1.0, 2.0]), [2.0, 4.0]),
        (np.array([1, 2]), [2.0, 4.0]),
        (wl.tensor([1.0, 2.0]), [2.0, 4.0]),
        (wl.tensor([1, 2]), [2.0, 4.0]),
        (wl.tensor(3.0), 6.0),
    ],
    ids=lambda v: type(v).__name__,
)
def test_grad_accepts_numbers_lists_arrays_tensors(x, expected):
    g = wl.grad(sq_sum)(x)
    assert isinstance(g, wl.Tensor)
    assert g.dtype == np.float64
    np.testing.assert_array_equal(as_np(g), np.asarray(expected, dtype=np.float64))
    assert tuple(g.shape) == np.shape(expected)


def test_grad_of_int_input_is_promoted_to_float64():
    g = wl.grad(lambda x: x**2)(3)
    assert isinstance(g, wl.Tensor)
    assert g.dtype == np.float64
    assert g.item() == 6.0
    # the promoted input really is float: x / 2 is not an integer division
    assert wl.grad(lambda x: (x / 2) ** 2)(3).item() == pytest.approx(1.5, rel=1e-15, abs=0)


def test_grad_does_not_mutate_a_tensor_input():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    g = wl.grad(sq_sum)(x)
    np.testing.assert_array_equal(as_np(g), [2.0, 4.0])
    assert x.grad is None


def test_other_transforms_accept_ints_and_lists():
    out, t = wl.jvp(lambda x: x**3, (2,), (1,))
    assert out.dtype == np.float64 and t.dtype == np.float64
    assert (out.item(), t.item()) == (8.0, 12.0)

    out, pullback = wl.vjp(lambda x: x * 3.0, [1, 2])
    (ct,) = pullback([1.0, 1.0])
    assert ct.dtype == np.float64
    np.testing.assert_array_equal(as_np(ct), [3.0, 3.0])

    for jac in (wl.jacrev, wl.jacfwd, wl.jacobian):
        J = jac(lambda x: x * x)([1, 2])
        assert J.dtype == np.float64
        np.testing.assert_array_equal(as_np(J), [[2.0, 0.0], [0.0, 4.0]])

    H = wl.hessian(lambda x: x**3)(2)
    assert H.dtype == np.float64 and H.item() == 12.0

    v, g = wl.value_and_grad(lambda x: x**2)(5)
    assert (v.item(), g.item()) == (25.0, 10.0)

    model = wl.linearize(lambda x: x**2, 1)
    assert model(2).item() == 3.0  # 1 + 2 (2 - 1)


def test_results_of_every_transform_are_tensors():
    x = np.array([0.7, -1.3])
    f = lambda x: practice(x, wl)  # noqa: E731
    assert isinstance(wl.grad(f)(x), wl.Tensor)
    assert all(isinstance(t, wl.Tensor) for t in wl.value_and_grad(f)(x))
    assert isinstance(wl.jacrev(f)(x), wl.Tensor)
    assert isinstance(wl.jacfwd(f)(x), wl.Tensor)
    assert isinstance(wl.hessian(f)(x), wl.Tensor)
    out, t = wl.jvp(f, (x,), (x,))
    assert isinstance(out, wl.Tensor) and isinstance(t, wl.Tensor)
    out, pullback = wl.vjp(f, x)
    assert isinstance(out, wl.Tensor)
    cts = pullback(1.0)
    assert isinstance(cts, tuple) and len(cts) == 1 and isinstance(cts[0], wl.Tensor)


# ----------------------------------------------------------------------- errors


@pytest.mark.parametrize("transform", [wl.grad, wl.value_and_grad], ids=["grad",
                                                                         "value_and_grad"])
@pytest.mark.parametrize(("x", "shape"), [(np.ones(3), (3,)), (np.ones((2, 4)), (2, 4))])
def test_grad_of_a_non_scalar_function_is_a_value_error_naming_the_shape(transform, x, shape):
    with pytest.raises(ValueError, match=re.escape(str(shape))):
        transform(lambda x: x * 2.0)(x)


@pytest.mark.parametrize(
    "f",
    [lambda x: (x > 0).sum(), lambda x: x[0] > 0, lambda x: wl.argmax(x)],
    ids=["int-sum", "bool", "argmax"],
)
def test_grad_of_an_integer_or_bool_output_is_a_type_error(f):
    with pytest.raises(TypeError, match="not differentiable"):
        wl.grad(f)(np.array([1.0, -2.0, 3.0]))


@pytest.mark.parametrize("transform", [wl.jacrev, wl.jacfwd, wl.jacobian],
                         ids=["jacrev", "jacfwd", "jacobian"])
def test_jacobian_of_an_integer_output_is_a_type_error(transform):
    with pytest.raises(TypeError, match="not differentiable"):
        transform(lambda x: x > 0)(np.array([1.0, -2.0]))


def test_jvp_and_vjp_of_an_integer_output_are_type_errors():
    with pytest.raises(TypeError, match="not differentiable"):
        wl.jvp(lambda x: x > 0, (np.array([1.0]),), (np.array([1.0]),))
    with pytest.raises(TypeError, match="not differentiable"):
        wl.vjp(lambda x: x > 0, np.array([1.0]))


def three(x, y, z):
    return (x * y * z).sum()


ARGNUM_TRANSFORMS = {
    "grad": wl.grad, "value_and_grad": wl.value_and_grad, "jacrev": wl.jacrev,
    "jacfwd": wl.jacfwd, "jacobian": wl.jacobian, "hessian": wl.hessian,
}


@pytest.mark.parametrize("name", list(ARGNUM_TRANSFORMS))
@pytest.mark.parametrize("argnums", [3, 7, -4, (0, 5)])
def test_argnums_out_of_range_names_the_number_of_arguments(name, argnums):
    with pytest.raises((ValueError, TypeError, IndexError)) as info:
        ARGNUM_TRANSFORMS[name](three, argnums=argnums)(1.0, 2.0, 3.0)
    assert re.search(r"(?<![\d.])3(?![\d.])", str(info.value)), str(info.value)


def test_negative_argnums_count_from_the_end_as_in_jax():
    x, y = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    f = lambda x, y: (x * y**2).sum()  # noqa: E731
    assert_tree_close(wl.grad(f, argnums=-1)(x, y), jax.grad(f, argnums=-1)(x, y))


def test_keyword_arguments_reach_the_function_undifferentiated_as_in_jax():
    def f(x, scale=1.0, *, power):
        return (x**power).sum() * scale

    x = np.array([1.0, 2.0])
    for ours, theirs in [(wl.grad(f), jax.grad(f)), (wl.jacrev(f), jax.jacrev(f)),
                         (wl.jacfwd(f), jax.jacfwd(f)), (wl.jacobian(f), jax.jacobian(f)),
                         (wl.hessian(f), jax.hessian(f))]:
        assert_tree_close(ours(x, scale=3.0, power=3), theirs(jnp.asarray(x), scale=3.0,
                                                                power=3))
    value, g = wl.value_and_grad(f)(x, 2.0, power=2)
    assert_tree_close((value, g), jax.value_and_grad(f)(jnp.asarray(x), 2.0, power=2))
    assert wl.grad(f).__name__ == "f"


def test_aux_comes_back_as_plain_values_that_hold_no_graph_as_in_jax():
    def f(x):
        return (x**2).sum(), (x * 2, [x.sum(), "tag"])

    g, (doubled, (total, tag)) = wl.grad(f, has_aux=True)(np.ones(2))
    assert not doubled.requires_grad and doubled.grad_fn is None and tag == "tag"
    assert not total.requires_grad
    (value, aux), _ = wl.value_and_grad(f, has_aux=True)(np.ones(2))
    assert not aux[0].requires_grad
    # under an outer transform aux stays traced: its derivative is taken
    outer = wl.grad(lambda y: wl.grad(lambda x: ((x * y).sum(), x * y), has_aux=True)(
        np.ones(2))[1].sum())(np.array([3.0, 4.0]))
    assert_tree_close(outer, np.ones(2))


def test_aux_in_a_dict_comes_back_as_plain_values_too():
    g, aux = wl.grad(lambda x: ((x**2).sum(), {"twice": x * 2, "n": 3}), has_aux=True)(
        np.ones(2))
    assert not aux["twice"].requires_grad and aux["twice"].grad_fn is None and aux["n"] == 3
    assert_tree_close(g, 2 * np.ones(2))


@pytest.mark.parametrize("transform", [wl.jacfwd, wl.jacrev, wl.jacobian],
                         ids=["jacfwd", "jacrev", "jacobian"])
def test_jacobians_with_argnums_tuple_take_lists_and_return_arguments_as_jax(transform):
    # jacfwd passed the argument not being pushed as it came (a list, an int array):
    # ``a.sum()`` on a list, or returning it, failed though jacrev accepted it
    def f(a, b):
        return a.sum() * b, a

    a, b = [1.0, 2.0], [3, 4]
    expected = jax.jacfwd(f, argnums=(0, 1))(jnp.asarray(a), jnp.asarray(b, dtype=float))
    assert_tree_close(transform(f, argnums=(0, 1))(a, b), expected)


@pytest.mark.parametrize("mode", ["auto", "rev", "fwd"])
def test_jacobian_of_a_tuple_of_outputs_matches_jax_in_every_mode(mode):
    # ``mode="auto"`` refused the tuple that "rev" and "fwd" accept
    def f(x):
        return x * 2.0, (x**2).sum(), x[:, None] * x

    x = np.array([0.5, -1.0, 2.0])
    assert_tree_close(wl.jacobian(f, mode=mode)(x), jax.jacobian(f)(jnp.asarray(x)))
    assert_tree_close(wl.jacobian(lambda v: (v.sum(), v[0]), mode=mode)(x),
                      jax.jacobian(lambda v: (v.sum(), v[0]))(jnp.asarray(x)))


@pytest.mark.parametrize("x", ["abc", np.array(["1.0"]), np.datetime64("2020-01-01"),
                               np.array([1, 2], dtype="timedelta64[s]")], ids=repr)
def test_text_and_dates_are_refused_as_inputs_naming_the_transform(x):
    # a date became its nanoseconds as a float; text a bare NumPy conversion error
    with pytest.raises(TypeError, match="grad of <lambda>: cannot differentiate"):
        wl.grad(lambda v: (v**2).sum())(x)
