"""Every function of the transform and gradient-check tests, compiled, equals eager.

The cases are those of ``test_transforms.py`` (composites, argnums, has_aux, nesting,
indexing of every kind, in-place writes, perturbation confusion, constant operands,
layouts) and ``test_gradient_checks.py``; each transform of each case is compiled with
``wl.compile`` and compared with the same transform run eagerly, to 1e-12, at the traced
point and at a second point (the compiled code must follow its inputs, not replay the
values it saw while tracing).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import test_gradient_checks as GC
import test_transforms as T
import wonderland as wl

TOL = dict(rtol=1e-12, atol=1e-12)


def assert_same(got: Any, want: Any, path: str = "result") -> None:
    if isinstance(want, tuple | list):
        assert isinstance(got, tuple | list) and len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{path}[{i}]")
        return
    assert isinstance(got, wl.Tensor), f"{path}: {type(got).__name__}"
    assert got.shape == want.shape and got.dtype == want.dtype, \
        f"{path}: {got.shape} {got.dtype} != {want.shape} {want.dtype}"
    np.testing.assert_allclose(got.numpy(), want.numpy(), err_msg=path, **TOL)


def moved(args: tuple, k: int) -> tuple:
    """The arguments, moved a little: another point of the same signature."""
    rng = np.random.default_rng(100 + k)
    out = []
    for a in args:
        step = 0.05 * rng.standard_normal(np.shape(a))
        if isinstance(a, float):
            out.append(a + float(step))
        elif isinstance(a, wl.Tensor):
            out.append(wl.tensor(a.numpy() + step))
        else:
            out.append(np.asarray(a) + step)
    return tuple(out)


def check(make: Any, *args: Any, points: int = 2) -> None:
    """``wl.compile(make())`` equals ``make()`` at ``args`` and at moved points."""
    compiled = wl.compile(make())
    for k in range(points):
        point = args if k == 0 else moved(args, k)
        assert_same(compiled(*point), make()(*point), f"point {k}")
    info = compiled.cache_info()
    assert info.misses == 1 and info.hits == points - 1, info


# ----------------------------------------------------------------------- test_transforms


@pytest.mark.parametrize(("case", "argnums"), T._with_argnums(T.SCALAR_CASES))
@pytest.mark.parametrize("transform", ["grad", "value_and_grad"])
def test_grad_and_value_and_grad(case, argnums, transform):
    check(lambda: getattr(wl, transform)(case.wl(), argnums=argnums), *case.params)


@pytest.mark.parametrize(("case", "argnums"), T._with_argnums(T.CASES))
@pytest.mark.parametrize("mode", ["jacrev", "jacfwd", "jacobian"])
def test_jacobians(case, argnums, mode):
    check(lambda: getattr(wl, mode)(case.wl(), argnums), *case.params)


@pytest.mark.parametrize("case", T.CASES, ids=T.ids)
def test_jvp(case):
    r = T.rng_for(2)
    tangents = tuple(r.standard_normal(np.shape(p)) for p in case.params)
    n = len(case.params)
    check(lambda: (lambda *z: wl.jvp(case.wl(), z[:n], z[n:])), *case.params, *tangents)


@pytest.mark.parametrize("case", T.CASES, ids=T.ids)
def test_vjp_value_and_pullback(case):
    out = case.wl()(*case.params)
    v = T.rng_for(3).standard_normal(out.shape)
    check(lambda: (lambda *p: wl.vjp(case.wl(), *p)[0]), *case.params)
    check(lambda: (lambda v, *p: wl.vjp(case.wl(), *p)[1](v)), v, *case.params)


def test_a_pullback_made_outside_compiles():
    case = T.CASE_BY_NAME["tanh_net_out"]
    _, pullback = wl.vjp(case.wl(), *case.params)
    v = np.array([0.3, -1.2])
    assert_same(wl.compile(pullback)(v), pullback(v))
    assert_same(wl.compile(pullback)(v * 2), pullback(v * 2))


@pytest.mark.parametrize("case", T.SCALAR_CASES, ids=T.scalar_ids)
def test_hessian(case):
    for k in range(len(case.params)):
        check(lambda: wl.hessian(case.wl(), argnums=k), *case.params)  # noqa: B023


def test_hessian_with_tuple_argnums():
    check(lambda: wl.hessian(lambda x, y: T.two_arg(x, y, wl), argnums=(0, 1)), T.XA, T.YA)


def test_mixed_second_derivative():
    check(lambda: wl.jacrev(wl.grad(lambda x, y: T.two_arg(x, y, wl), argnums=0),
                            argnums=1), T.XA, T.YA)


@pytest.mark.parametrize("x", [-2.0, -0.5, 0.0, 0.3, 3.7])
def test_polynomial_derivatives_up_to_the_fourth(x):
    d = T.poly
    for _ in range(4):
        d = wl.grad(d)
        check(lambda d=d: d, x)


def test_has_aux():
    w = T.rng_for(4).standard_normal(T.D)

    def f(w):
        r = T.const(wl, T.X_DATA) @ w - T.const(wl, T.Y_REG)
        return (r ** 2).mean(), r

    check(lambda: wl.value_and_grad(f, has_aux=True), w)
    check(lambda: wl.grad(f, has_aux=True), w)


@pytest.mark.parametrize("nest", list(T.NESTINGS))
def test_nested_jacobians(nest):
    check(lambda: T.NESTINGS[nest](lambda x: T.vec_fn(x, wl)), T.X3)


def test_grad_of_grad_and_of_a_gradient_component():
    f = lambda x: wl.sin(x) * wl.exp(0.3 * x) + wl.tanh(x) ** 3  # noqa: E731
    check(lambda: wl.grad(wl.grad(f)), 0.5)
    check(lambda: wl.grad(wl.grad(wl.grad(f))), 0.5)
    check(lambda: wl.grad(lambda x: wl.grad(lambda y: T.practice(y, wl))(x)[0]),
          np.array([0.7, -1.3]))


@pytest.mark.parametrize("name", sorted(T.INDICES))
@pytest.mark.parametrize("mode", ["jacrev", "jacfwd"])
def test_indexing_of_every_kind(name, mode):
    index = T.INDICES[name]
    check(lambda: getattr(wl, mode)(lambda t: wl.sin(t[index])), T.CUBE)


@pytest.mark.parametrize("name", sorted(T.INDICES))
@pytest.mark.parametrize("scalar", [False, True], ids=["slice-value", "scalar-value"])
@pytest.mark.parametrize("mode", ["jacrev", "jacfwd", "hessian"])
def test_in_place_writes(name, scalar, mode):
    index = T.INDICES[name]
    reduce = (lambda y: y.sum()) if mode == "hessian" else (lambda y: y)
    check(lambda: getattr(wl, mode)(lambda t: reduce(T._written(t, index, scalar, wl))),
          T.CUBE)


@pytest.mark.parametrize("target", [(3,), (2, 3), (4, 1, 3)])
@pytest.mark.parametrize("mode", ["jacfwd", "jacrev"])
def test_broadcast_to_a_higher_rank(target, mode):
    weights = np.array([1.0, -2.0, 3.0])

    def f(x):
        scalar = (x * wl.tensor(weights)).sum()
        return (wl.broadcast_to(scalar, target) * x).sum(axis=0) if len(target) > 1 \
            else wl.broadcast_to(scalar, target) * x

    check(lambda: getattr(wl, mode)(f), np.array([0.5, -1.0, 2.0]))


@pytest.mark.parametrize(("expr", "expected"), [(c[1], c[2]) for c in T.CONFUSION],
                         ids=[c[0] for c in T.CONFUSION])
@pytest.mark.parametrize(("outer", "inner"), T.COMBOS,
                         ids=[f"{o}-over-{i}" for o, i in T.COMBOS])
def test_perturbation_confusion(outer, inner, expr, expected):
    f = wl.compile(lambda: expr(T.DERIVS[outer], T.DERIVS[inner]))
    assert f().item() == pytest.approx(expected, rel=1e-12)

    # the same derivatives as functions of the point, compiled
    def at(x):
        Do, Di = T.DERIVS[outer], T.DERIVS[inner]
        return Do(lambda x: wl.sin(x) * Di(lambda y: wl.exp(x * y))(x))(x)

    check(lambda: at, 0.7)


@pytest.mark.parametrize("kind", list(T.CONSTANTS))
@pytest.mark.parametrize("op", list(T.BINARY))
def test_constant_operands(op, kind):
    f = lambda x: T.BINARY[op](x, T.CONSTANTS[kind](wl))  # noqa: E731
    v = np.array([1.0, -2.0, 0.5])
    check(lambda: (lambda x, v: wl.jvp(f, (x,), (v,))), T.XC, v)
    check(lambda: wl.jacfwd(f), T.XC)
    check(lambda: wl.jacrev(f), T.XC)


@pytest.mark.parametrize(("fn", "x", "shape"), [p[1:] for p in T.LAYOUT],
                         ids=[p[0] for p in T.LAYOUT])
@pytest.mark.parametrize("mode", ["rev", "fwd", "auto"])
def test_layouts(fn, x, shape, mode):
    check(lambda: wl.jacobian(lambda x: fn(x, wl), mode=mode), x)


def test_linearize_inside_a_compiled_function():
    def model_at(x0, x):
        return wl.linearize(lambda x: T.vec_fn(x, wl), x0)(x)

    check(lambda: model_at, T.X3, T.X3 + 0.1)


# ----------------------------------------------------------------------- test_gradient_checks


@pytest.mark.parametrize(("f", "args"), [c[1:] for c in GC.CORRECT],
                         ids=[c[0] for c in GC.CORRECT])
def test_gradient_check_functions(f, args):
    argnums = tuple(range(len(args)))
    check(lambda: wl.value_and_grad(f, argnums=argnums), *args)
    check(lambda: wl.hessian(f), *args)
    check(lambda: wl.jacfwd(f), *args)


def test_vector_valued_gradient_check_function():
    x = np.array([0.4, -0.9, 1.3])
    check(lambda: wl.jacrev(GC.vector_valued), x)
    check(lambda: wl.jacfwd(GC.vector_valued), x)
