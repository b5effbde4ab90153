"""The functional transforms as a user coming from JAX tries them: ``has_aux`` on every
transform that takes it in JAX, functions returning tuples under ``jvp``/``vjp``, aux and
results under nesting, and errors that name the offending argument. Every number is
compared with JAX (float64)."""

from __future__ import annotations

from typing import Any

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import wonderland as wl  # noqa: E402

RTOL, ATOL = 1e-10, 1e-12
X = np.array([0.5, -1.0, 2.0])


def close(actual: Any, expected: Any) -> None:
    """Same structure (tuples, lists, dicts), same numbers; ours are Tensors, JAX's arrays."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys()
        for k in expected:
            close(actual[k], expected[k])
    elif isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            close(a, e)
    elif isinstance(expected, (str, int)) and not isinstance(expected, bool):
        assert actual == expected
    else:
        assert isinstance(actual, wl.Tensor), type(actual)
        assert tuple(actual.shape) == np.shape(expected)
        np.testing.assert_allclose(actual.numpy(), np.asarray(expected), rtol=RTOL, atol=ATOL)


def plain(tree: Any) -> bool:
    """No tensor in ``tree`` requires grad or carries a graph (JAX's aux is plain values)."""
    if isinstance(tree, dict):
        return all(plain(v) for v in tree.values())
    if isinstance(tree, (tuple, list)):
        return all(plain(v) for v in tree)
    return not isinstance(tree, wl.Tensor) or (not tree.requires_grad and tree.grad_fn is None)


def with_aux(m: Any):
    """A scalar function of two arguments with its aux in a dict."""
    def f(x, y):
        value = (m.sin(x) * y).sum() + (x**2).sum() * y[0]
        return value, {"doubled": 2 * x, "total": (x * y).sum()}
    return f


def vector_with_aux(m: Any):
    def f(x, y):
        return m.tanh(x) * y + x**3, (x.sum(), [x * y])
    return f


# ----------------------------------------------------------------------- has_aux


@pytest.mark.parametrize("name", ["jacrev", "jacfwd", "jacobian"])
@pytest.mark.parametrize("argnums", [0, 1, (0, 1), (1, 0)], ids=str)
def test_jacobians_take_has_aux_as_jax(name, argnums):
    # ``has_aux`` was refused (TypeError: unexpected keyword) by all but grad/value_and_grad
    # (an argument not differentiated reaches f as it is: a Tensor here, for x.sum())
    ours = getattr(wl, name)(vector_with_aux(wl), argnums, has_aux=True)(wl.tensor(X),
                                                                         wl.tensor(2 * X))
    theirs = getattr(jax, name)(vector_with_aux(jnp), argnums, has_aux=True)(X, 2 * X)
    close(ours, theirs)
    assert plain(ours[1])


@pytest.mark.parametrize("mode", ["auto", "rev", "fwd"])
def test_jacobian_has_aux_in_every_mode(mode):
    f = lambda x: (wl.stack([x, 2 * x, x**2]), x * 3)  # noqa: E731 - more outputs: forward
    jac, aux = wl.jacobian(f, mode=mode, has_aux=True)(1.5)
    close((jac, aux), jax.jacobian(lambda x: (jnp.stack([x, 2 * x, x**2]), x * 3),
                                   has_aux=True)(1.5))


@pytest.mark.parametrize("argnums", [0, 1, (0, 1)], ids=str)
def test_hessian_takes_has_aux_as_jax(argnums):
    ours = wl.hessian(with_aux(wl), argnums, has_aux=True)(wl.tensor(X), wl.tensor(2 * X))
    theirs = jax.hessian(with_aux(jnp), argnums, has_aux=True)(X, 2 * X)
    close(ours, theirs)
    assert plain(ours[1]) and plain(ours[0])


def test_jvp_takes_has_aux_as_jax():
    primals, tangents = (X, 2 * X), (np.ones(3), np.array([0.0, 1.0, -1.0]))
    ours = wl.jvp(vector_with_aux(wl), primals, tangents, has_aux=True)
    theirs = jax.jvp(vector_with_aux(jnp), primals, tangents, has_aux=True)
    assert len(ours) == 3
    close(ours, theirs)
    assert plain(ours[2])


def test_vjp_takes_has_aux_as_jax():
    out, pullback, aux = wl.vjp(vector_with_aux(wl), X, 2 * X, has_aux=True)
    out_j, pullback_j, aux_j = jax.vjp(vector_with_aux(jnp), X, 2 * X, has_aux=True)
    v = np.array([1.0, -2.0, 0.5])
    close((out, aux, pullback(v)), (out_j, aux_j, pullback_j(v)))
    assert plain(aux) and plain(out)


@pytest.mark.parametrize("name", ["jacrev", "jacfwd", "jacobian", "hessian"])
def test_aux_that_is_not_a_tensor_comes_back_as_it_is(name):
    f = lambda x: ((x**2).sum(), ("tag", 3, None))  # noqa: E731
    assert getattr(wl, name)(f, has_aux=True)(X)[1] == ("tag", 3, None)


def test_has_aux_without_a_pair_names_the_transform():
    for call in (lambda: wl.jacfwd(lambda x: x, has_aux=True)(X),
                 lambda: wl.hessian(lambda x: (x**2).sum(), has_aux=True)(X),
                 lambda: wl.jvp(lambda x: x, (X,), (X,), has_aux=True)):
        with pytest.raises(TypeError, match=r"(jacfwd|hessian|jvp) of <lambda>: with has_aux"):
            call()


# ----------------------------------------------------------------------- aux under nesting


def test_aux_of_an_inner_transform_stays_differentiable_in_an_outer_one():
    # the inner function closes over the outer transform's input: its aux depends on it
    def inner_aux(transform, m):
        return lambda y: transform(lambda v: (v * y, (v * y).sum()), m, y)

    cases = {
        "jacfwd": lambda f, t, y: t.jacfwd(f, has_aux=True)(np.ones(2))[1],
        "jacrev": lambda f, t, y: t.jacrev(f, has_aux=True)(np.ones(2))[1],
        "jvp": lambda f, t, y: t.jvp(f, (np.ones(2),), (np.ones(2),), has_aux=True)[2],
        "hessian": lambda f, t, y: t.hessian(lambda v: ((v * v * y).sum(), f(v)[1]),
                                             has_aux=True)(np.ones(2))[1],
    }
    y = np.array([3.0, 4.0])
    for name, call in cases.items():
        ours = wl.grad(lambda y, call=call: call(lambda v: (v * y, (v * y).sum()), wl, y))(y)
        theirs = jax.grad(lambda y, call=call: call(lambda v: (v * y, (v * y).sum()), jax,
                                                    y))(jnp.asarray(y))
        close(ours, theirs)  # was a silent zero for jacfwd, jvp and hessian
        assert plain(ours), name


# ----------------------------------------------------------------------- tuple outputs


def pair(m: Any):
    return lambda a, b: (a * b + m.sin(a), (a**2 * b).sum())


def test_jvp_of_a_function_returning_a_tuple_matches_jax():
    # jvp refused the tuple that jacfwd accepts ("it must return a Tensor")
    primals, tangents = (X, 2 * X), (np.ones(3), np.array([0.5, 0.0, -1.0]))
    close(wl.jvp(pair(wl), primals, tangents), jax.jvp(pair(jnp), primals, tangents))


def test_vjp_of_a_function_returning_a_tuple_matches_jax():
    out, pullback = wl.vjp(pair(wl), X, 2 * X)
    out_j, pullback_j = jax.vjp(pair(jnp), X, 2 * X)
    cotangents = (np.array([1.0, -1.0, 2.0]), 3.0)
    close(out, out_j)
    close(pullback(cotangents), pullback_j(cotangents))
    close(pullback([np.ones(3), 1.0]), pullback_j((np.ones(3), 1.0)))  # a list works too


def test_vjp_of_a_tuple_needs_a_tuple_of_as_many_cotangents():
    _, pullback = wl.vjp(pair(wl), X, 2 * X)
    with pytest.raises(TypeError, match="vjp of <lambda>: the function returned a tuple of 2"):
        pullback(np.ones(3))
    with pytest.raises(ValueError, match=r"vjp of <lambda>: cotangent 1 has shape \(3,\)"):
        pullback((np.ones(3), np.ones(3)))


@settings(max_examples=25, deadline=None)
@given(hnp.arrays(np.float64, 3, elements=st.floats(-2, 2)),
       hnp.arrays(np.float64, 3, elements=st.floats(-2, 2)))
def test_jvp_and_vjp_of_tuples_agree_with_each_other_and_jax(x, t):
    # <v, J t> computed both ways, output by output
    (_, _), (t0, t1) = wl.jvp(pair(wl), (x, 2 * x), (t, np.zeros(3)))
    _, pullback = wl.vjp(pair(wl), x, 2 * x)
    v0 = np.cos(x)
    (g0, _), (g1, _) = pullback((v0, 0.0)), pullback((np.zeros(3), 1.0))
    # tolerances relative to the terms (t0 = (2x + cos x) t, t1 = sum 4x² t), not atol=1e-12:
    # hypothesis draws x and t such as 1e-150, whose products that atol passed unchecked
    # (plus the smallest normal number: subnormals round coarsely, and JAX flushes them to 0)
    scale0 = (2 * np.abs(x) + np.abs(np.cos(x))) * np.abs(t)
    scale1 = float(np.sum(4 * x * x * np.abs(t)))
    tiny = np.finfo(np.float64).tiny
    np.testing.assert_allclose(float((t0.numpy() * v0).sum()), float(g0.numpy() @ t),
                               rtol=1e-9, atol=1e-13 * float(scale0 @ np.abs(v0)) + tiny)
    np.testing.assert_allclose(float(t1), float(g1.numpy() @ t), rtol=1e-9,
                               atol=1e-13 * scale1 + tiny)
    if np.any((t != 0) & (np.abs(t) < tiny)):
        return  # JAX flushes a subnormal tangent to 0 first: (2x + cos x) t is then 0, not t's
    t0_j, t1_j = jax.jvp(pair(jnp), (x, 2 * x), (t, np.zeros(3)))[1]
    close((t0, t1), (t0_j, t1_j))
    assert np.all(np.abs(t0.numpy() - np.asarray(t0_j)) <= 1e-13 * scale0 + tiny), (t0, t0_j)
    assert abs(float(t1) - float(t1_j)) <= 1e-13 * scale1 + tiny, (t1, t1_j)


# ----------------------------------------------------------------------- nesting results


def test_outer_grad_of_an_inner_grad_holds_no_graph():
    # the inner transform's own input was taken for a tensor the function closes over: the
    # outer result required grad and carried a graph, which grew with every step of a loop
    def outer(y):
        return (wl.grad(lambda v: (v**3 * y).sum())(np.ones(2)) ** 2).sum()

    def outer_j(y):
        return (jax.grad(lambda v: (v**3 * y).sum())(jnp.ones(2)) ** 2).sum()

    y = np.array([0.3, -0.2])
    for _ in range(3):  # a few steps of descent, as in meta-learning
        g = wl.grad(outer)(y)
        close(g, jax.grad(outer_j)(jnp.asarray(y if isinstance(y, np.ndarray) else y.numpy())))
        assert plain(g)
        y = y - 0.1 * g
    assert plain(y)
    h = wl.grad(lambda y: wl.hessian(lambda v: (v**3 * y).sum())(np.ones(2)).sum())(y)
    assert plain(h)


def test_value_under_an_outer_forward_transform_holds_no_graph():
    # jacfwd of value_and_grad's value (or of vjp's) carried the inner pass's graph
    for inner in (lambda x: wl.value_and_grad(lambda y: (y**3).sum())(x)[0],
                  lambda x: wl.vjp(lambda y: (y**3).sum(), x)[0]):
        jac = wl.jacfwd(inner)(np.ones(2))
        close(jac, 3 * np.ones(2))
        assert plain(jac)


def test_a_tensor_the_function_closes_over_still_makes_the_result_differentiable():
    w = wl.tensor([1.0, 2.0], requires_grad=True)
    g = wl.grad(lambda x: (x * x * w).sum())(np.ones(2))
    assert g.requires_grad  # as torch.func: the gradient is a function of w
    g.sum().backward()
    close(w.grad, 2 * np.ones(2))


# ----------------------------------------------------------------------- errors


@pytest.mark.parametrize("name", ["grad", "jacrev", "jacfwd", "jacobian", "hessian"])
@pytest.mark.parametrize("bad, shown", [("text", "'text'"), (None, "None"),
                                        (np.array([True]), "a bool input")], ids=str)
def test_a_bad_argument_is_named_by_its_position(name, bad, shown):
    f = lambda x, y: (x * 2).sum()  # noqa: E731
    with pytest.raises(TypeError, match=rf"{name} of <lambda>: cannot differentiate with "
                                        rf"respect to {shown} \(argument 1\)"):
        getattr(wl, name)(f, argnums=(0, 1))(X, bad)


def test_a_bad_tangent_or_cotangent_is_named():
    with pytest.raises(TypeError, match=r"jvp of <lambda>: .* 'a' \(tangent 1\)"):
        wl.jvp(lambda x, y: x * y, (X, X), (X, "a"))
    with pytest.raises(TypeError, match=r"jvp of <lambda>: .* None \(primal 0\)"):
        wl.jvp(lambda x: x, (None,), (X,))
    _, pullback = wl.vjp(lambda x: x * 2, X)
    # a string or None was reported as "the cotangent has shape ()"
    with pytest.raises(TypeError, match=r"vjp of <lambda>: .* 'a' \(cotangent 0\)"):
        pullback("a")
    with pytest.raises(ValueError, match=r"vjp of <lambda>: cotangent 0 has shape \(2,\)"):
        pullback(np.ones(2))
