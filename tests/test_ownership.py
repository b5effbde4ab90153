"""A gradient handed to the user is the user's own array.

No gradient returned by ``backward()`` (into ``.grad``), ``grad``, ``value_and_grad``,
``vjp``'s pullback, ``jacrev``, ``jacfwd``, ``jacobian`` or ``hessian`` shares memory with
another returned gradient, an input, a cotangent the caller passed, or a value of the
forward pass; each is writable, and writing into it changes nothing else (nor any later
result). The reverse pass may carry such arrays along internally (the cotangent of ``a``
in ``(a * b).sum()`` is ``b`` itself on the way): only what reaches the user is pinned.

Both kinds of reverse pass are covered: raw (plain calls) and recorded
(``create_graph=True``, or a transform running inside an outer ``wl.grad``).
"""

from __future__ import annotations

import platform
import sys

import numpy as np
import pytest

import wonderland as wl

# ----------------------------------------------------------------------- helpers


def _arrays(obj, label):
    """(label, array) for the NumPy arrays inside ``obj`` (Tensors, arrays, nested tuples
    and lists); the labels say in the failure message which one is shared."""
    if isinstance(obj, (tuple, list)):
        return [p for i, o in enumerate(obj) for p in _arrays(o, f"{label}[{i}]")]
    if isinstance(obj, wl.Tensor):
        return [(label, obj.numpy())]
    if isinstance(obj, np.ndarray):
        return [(label, obj)]
    return []


def _assert_own(g, what, others):
    a = g.numpy()
    assert a.flags.writeable, f"{what} is read-only"
    for label, o in others:
        assert not np.shares_memory(a, o), f"{what} shares memory with {label}"
    # The behavioural check: writing into the gradient changes nothing the user holds.
    before = [o.copy() for _, o in others]
    a[...] = 1e6
    for (label, o), b in zip(others, before):
        np.testing.assert_array_equal(o, b, err_msg=f"writing into {what} changed {label}")


def assert_own(g, /, *others, **named):
    """``g`` is writable, shares no memory with ``others`` (positional, or named for the
    message), and writing into it changes none of them."""
    pairs = _arrays(list(others), "other")
    for name, obj in named.items():
        pairs += _arrays(obj, name)
    _assert_own(g, "the gradient", pairs)


def assert_all_own(grads, /, *others, **named):
    """Every gradient in ``grads`` is its own: against ``others`` and against each other."""
    pairs = _arrays(list(others), "other")
    for name, obj in named.items():
        pairs += _arrays(obj, name)
    for i, g in enumerate(grads):
        if g is not None:
            rest = [(f"gradient[{j}]", h.numpy()) for j, h in enumerate(grads)
                    if j != i and h is not None]
            _assert_own(g, f"gradient[{i}]", pairs + rest)


def _flat(result):
    """The Tensors of a (nested) tuple result, in order."""
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in _flat(r)]
    return [result]


def _rand(*shape, seed=0):
    return wl.tensor(np.random.default_rng(seed).standard_normal(shape))


# Intermediates a function keeps (closes over) land here; they are forward values too.
KEPT: list = []


@pytest.fixture(autouse=True)
def _clear_kept():
    KEPT.clear()
    yield
    KEPT.clear()


def _keep(t):
    KEPT.append(t)
    return t


def _per_input(xs, fn):
    """``fn`` applied once per distinct input: an input passed twice stays one object."""
    done = {}
    for x in xs:
        if id(x) not in done:
            done[id(x)] = fn(x)
    return [done[id(x)] for x in xs]


def _leaves(xs):
    """Leaves that require grad, with ``xs``'s values (an input passed twice is one leaf)."""
    args = _per_input(xs, lambda x: wl.tensor(x.numpy().copy(), requires_grad=True))
    return args, list({id(t): t for t in args}.values())


# ----------------------------------------------------------------------- the functions

# name -> (scalar function, inputs). Chosen so that a fast reverse pass is tempted to
# hand the same array to several places: identity rules (add, reshape, transpose,
# broadcast, index), a product with the cached unit passing the other factor on, a
# product whose factor is an intermediate the function kept, one input passed twice.
SCALAR_CASES = {
    "identity": (lambda x: x, lambda: [wl.tensor(2.0)]),  # the input is the output
    "sin_of_sum": (lambda a, b: wl.sin(a + b).sum(), lambda: [_rand(3), _rand(3, seed=1)]),
    "sum_of_sum": (lambda a, b: (a + b).sum(), lambda: [_rand(3), _rand(3, seed=1)]),
    "three_args": (lambda a, b, c: (a + b * c).sum(),
                   lambda: [_rand(3), _rand(3, seed=1), _rand(3, seed=2)]),
    "product": (lambda x, y: (x * y).sum(), lambda: [_rand(3), _rand(3, seed=1)]),
    "same_input_twice": (lambda a, b: (a * b).sum(), lambda: [_rand(3)] * 2),
    "same_input_added": (lambda a, b: (a + b).sum(), lambda: [_rand(3)] * 2),
    "times_one": (lambda x: (x * 1.0).sum(), lambda: [_rand(3)]),
    "plain_sum": (lambda x: x.sum(), lambda: [_rand(3)]),
    "columns": (lambda X: X[:, 0].sum() + X[:, 1].sum(), lambda: [_rand(3, 2)]),
    "reshape": (lambda x: x.reshape(-1).sum(), lambda: [_rand(2, 3)]),
    "transpose": (lambda x: x.T.reshape(-1).sum(), lambda: [_rand(2, 3)]),
    "broadcast": (lambda x: wl.broadcast_to(x, (3, 2)).sum(), lambda: [_rand(2)]),
    "kept_factor": (lambda x, y: (x * _keep(wl.exp(y))).sum(),
                    lambda: [_rand(3), _rand(3, seed=1)]),
}

# name -> (function with a non-scalar or tuple output, inputs)
VECTOR_CASES = {
    "identity": (lambda x: x, lambda: [_rand(3)]),
    "identity_matrix": (lambda x: x, lambda: [_rand(2, 2)]),
    "pair_of_same": (lambda x: (x, x), lambda: [_rand(3)]),
    "pair_of_args": (lambda x, y: (x, y), lambda: [_rand(3), _rand(3, seed=1)]),
    "sum_of_args": (lambda x, y: x + y, lambda: [_rand(3), _rand(3, seed=1)]),
    "times_one": (lambda x: x * 1.0, lambda: [_rand(3)]),
    "reshape": (lambda x: x.reshape(-1), lambda: [_rand(2, 2)]),
    "transpose": (lambda x: x.T, lambda: [_rand(2, 3)]),
    "broadcast": (lambda x: wl.broadcast_to(x, (3, 2)), lambda: [_rand(2)]),
    "kept_factor": (lambda x, y: x * _keep(wl.exp(y)), lambda: [_rand(3), _rand(3, seed=1)]),
}

# ----------------------------------------------------------------------- the ways to differentiate
# Each takes (f, xs) and returns (gradients, other arrays the user holds from the call).


def _nums(xs):
    return tuple(range(len(xs)))


def _cotangent(out):
    """A cotangent of ``out``'s shape(s) that the caller owns (not ones: a unit would hide
    a pass that hands the seed back)."""
    if isinstance(out, tuple):
        return tuple(_cotangent(o) for o in out)
    return wl.tensor(np.random.default_rng(7).standard_normal(out.shape) + 2.0)


def by_grad(f, xs):
    return list(wl.grad(f, argnums=_nums(xs))(*xs)), []


def by_value_and_grad(f, xs):
    value, grads = wl.value_and_grad(f, argnums=_nums(xs))(*xs)
    return list(grads), [value]


def by_vjp(f, xs):
    out, pullback = wl.vjp(f, *xs)
    v = _cotangent(out)
    return list(pullback(v)), [out, v]


def by_jac(transform):
    def run(f, xs):
        return _flat(transform(f, argnums=_nums(xs))(*xs)), []

    return run


def _jacobian_rev(f, argnums):
    return wl.jacobian(f, argnums, mode="rev")


def _jacobian_fwd(f, argnums):
    return wl.jacobian(f, argnums, mode="fwd")


def by_backward(create_graph=False, seeded=False):
    """``f(*leaves).backward(...)``; the same input passed twice is one leaf."""

    def run(f, xs):
        args, leaves = _leaves(xs)
        out = f(*args)
        g = _cotangent(out) if seeded else None
        out.backward(g, create_graph=create_graph)
        return [t.grad for t in leaves], [*leaves, out, g]

    return run


def nested(inner):
    """``inner`` run inside an outer ``wl.grad``, on inputs the outer pass traces: its
    reverse pass is recorded. What the inner call returns is checked, after the outer
    pass has finished (writing into arrays of a live graph is another matter)."""

    def run(f, xs):
        box = {}

        def outer(s):
            scaled = _per_input(xs, lambda x: s * x)
            grads, others = inner(f, scaled)
            box["result"] = grads, [*others, *scaled]
            return sum((g.sum() for g in grads if g is not None), s * 0.0)

        wl.grad(outer)(wl.tensor(1.5))
        return box["result"]

    return run


SCALAR_MODES = {
    "grad": by_grad,
    "value_and_grad": by_value_and_grad,
    "vjp": by_vjp,
    "jacrev": by_jac(wl.jacrev),
    "jacfwd": by_jac(wl.jacfwd),
    "jacobian_rev": by_jac(_jacobian_rev),
    "jacobian_fwd": by_jac(_jacobian_fwd),
    "hessian": by_jac(wl.hessian),
    "backward": by_backward(),
    "backward_seeded": by_backward(seeded=True),
    "backward_create_graph": by_backward(create_graph=True),
    "backward_create_graph_seeded": by_backward(create_graph=True, seeded=True),
    "nested_grad": nested(by_grad),
    "nested_value_and_grad": nested(by_value_and_grad),
    "nested_vjp": nested(by_vjp),
    "nested_jacrev": nested(by_jac(wl.jacrev)),
    "nested_jacfwd": nested(by_jac(wl.jacfwd)),
}

VECTOR_MODES = {
    "vjp": by_vjp,
    "jacrev": by_jac(wl.jacrev),
    "jacfwd": by_jac(wl.jacfwd),
    "jacobian_rev": by_jac(_jacobian_rev),
    "jacobian_fwd": by_jac(_jacobian_fwd),
    "backward_seeded": by_backward(seeded=True),
    "backward_create_graph_seeded": by_backward(create_graph=True, seeded=True),
    "nested_vjp": nested(by_vjp),
    "nested_jacrev": nested(by_jac(wl.jacrev)),
    "nested_jacfwd": nested(by_jac(wl.jacfwd)),
}


def _check(f, make_inputs, mode):
    xs = make_inputs()
    grads, others = mode(f, xs)
    expected = [None if g is None else g.numpy().copy() for g in grads]
    assert_all_own(grads, inputs=xs, returned=others, kept=KEPT)
    # Writing 1e6 into every gradient must not leak into a later call either (a cache,
    # a shared basis or unit reused by the engine).
    KEPT.clear()
    again, _ = mode(f, make_inputs())
    for e, g in zip(expected, again):
        if e is not None:
            np.testing.assert_allclose(g.numpy(), e, err_msg="a later result changed")


@pytest.mark.parametrize("mode", list(SCALAR_MODES))
@pytest.mark.parametrize("case", list(SCALAR_CASES))
def test_scalar_function_gradients_are_own(case, mode):
    _check(*SCALAR_CASES[case], SCALAR_MODES[mode])


# vjp and backward() take one output: the tuple-output cases go to the Jacobians only
ONE_OUTPUT = {"vjp", "backward_seeded", "backward_create_graph_seeded", "nested_vjp"}


@pytest.mark.parametrize("case, mode", [
    (c, m) for c in VECTOR_CASES for m in VECTOR_MODES
    if not (c.startswith("pair") and m in ONE_OUTPUT)])
def test_vector_function_jacobians_are_own(case, mode):
    _check(*VECTOR_CASES[case], VECTOR_MODES[mode])


# ----------------------------------------------------------------------- pinned cases


def test_known_failure_two_argnums_share_one_buffer():
    """The reported bug: both gradients are the one cotangent of ``a + b``."""
    a, b = _rand(3), _rand(3, seed=1)
    ga, gb = wl.grad(lambda a, b: wl.sin(a + b).sum(), argnums=(0, 1))(a, b)
    before = gb.numpy().copy()
    ga.numpy()[0] = 100
    np.testing.assert_array_equal(gb.numpy(), before)


def test_numpy_inputs_are_not_handed_back():
    """Plain NumPy inputs: the gradient of x is y's values, never y's array."""
    x, y = np.arange(3.0), np.arange(3.0) + 10
    gx, gy = wl.grad(lambda x, y: (x * y).sum(), argnums=(0, 1))(x, y)
    assert_all_own([gx, gy], x=x, y=y)


@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp_of_identity_owns_against_v_and_x(create_graph):
    x = _rand(3)
    out, pullback = wl.vjp(lambda x: x, x)
    v = _rand(3, seed=5)
    (g,) = pullback(v)
    (g2,) = pullback(v)  # the graph is kept: a second call is a second own array
    assert_all_own([g, g2], x=x, v=v, out=out)


@pytest.mark.parametrize("f", [lambda v: v, lambda v: v + 0.0, lambda v: v.reshape(3),
                               lambda v: v[:]], ids=["identity", "add 0", "reshape", "slice"])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_jvp_of_a_pass_through_never_hands_back_the_callers_tangent(f, as_tensor):
    x, t = _rand(3), _rand(3, seed=5)
    _, slope = wl.jvp(f, (x,), (wl.tensor(t) if as_tensor else t,))
    assert_all_own([slope], x=x, t=t)


def test_backward_on_a_leaf_copies_the_gradient():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    g = wl.tensor([3.0, 4.0])
    x.backward(g)
    assert_own(x.grad, x=x, g=g)


@pytest.mark.parametrize("create_graph", [False, True])
def test_backward_twice_on_a_leaf_leaves_the_first_cotangent_alone(create_graph):
    """Accumulating in place into a .grad that is the first call's cotangent would
    change the caller's first array."""
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    g1, g2 = wl.tensor([3.0, 4.0]), wl.tensor([5.0, 6.0])
    x.backward(g1, create_graph=create_graph)
    x.backward(g2, create_graph=create_graph)
    np.testing.assert_array_equal(g1.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, 10.0])
    assert_own(x.grad, x=x, g1=g1, g2=g2)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("case", ["product", "kept_factor", "plain_sum", "columns", "broadcast",
                                  "same_input_added"])
def test_backward_accumulating_twice(case, create_graph):
    """The second backward() adds into .grad: the sum must own nothing of either call."""
    f, make_inputs = SCALAR_CASES[case]
    args, leaves = _leaves(make_inputs())
    out1 = f(*args)
    out1.backward(create_graph=create_graph)
    first_values = [t.grad.numpy().copy() for t in leaves]
    out2 = f(*args)
    out2.backward(create_graph=create_graph)
    grads = [t.grad for t in leaves]
    for g, v in zip(grads, first_values):
        np.testing.assert_allclose(g.numpy(), 2 * v)
    assert_all_own(grads, leaves=leaves, out1=out1, out2=out2, kept=KEPT)


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("make", [
    lambda a, b, w: a + b,
    lambda a, b, w: a * 1.0,
    lambda a, b, w: a.reshape(1, 3),  # not (-1,): a no-op reshape returns a itself
    lambda a, b, w: a * b,
], ids=["add", "times_one", "reshape", "product"])
def test_retain_grad_of_an_intermediate_and_the_leaf_grads(make, create_graph):
    for weighted in (False, True):  # the unit spread by sum(); a factor passed on by a product
        a = wl.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = wl.tensor([4.0, 5.0, 6.0], requires_grad=True)
        w = wl.tensor([7.0, 8.0, 9.0])
        h = make(a, b, w)
        h.retain_grad()
        out = (h * w).sum() if weighted else h.sum()
        out.backward(create_graph=create_graph)
        assert_all_own([h.grad, a.grad, b.grad], a=a, b=b, w=w, h=h, out=out)


def test_value_and_grad_with_aux_owns_against_the_aux():
    """The gradient of x is exp(y), which the function also returns as aux."""
    x, y = _rand(3), _rand(3, seed=1)

    def f(x, y):
        h = wl.exp(y)
        return (x * h).sum(), h

    (value, aux), grads = wl.value_and_grad(f, argnums=(0, 1), has_aux=True)(x, y)
    assert_all_own(list(grads), x=x, y=y, value=value, aux=aux)


@pytest.mark.parametrize("f", [lambda a, b: (a * b).sum(), lambda a, b: wl.sin(a + b).sum()],
                         ids=["product", "sin_of_sum"])
def test_hessian_blocks_are_own(f):
    """[[0, I], [I, 0]], and four equal blocks: nothing shared between the blocks."""
    a, b = _rand(3), _rand(3, seed=1)
    assert_all_own(_flat(wl.hessian(f, argnums=(0, 1))(a, b)), a=a, b=b)


@pytest.mark.parametrize("transform", [wl.jacfwd, wl.jacrev], ids=["jacfwd", "jacrev"])
@pytest.mark.parametrize("f", [lambda x, y: x + y, lambda x, y: (x, y), lambda x, y: (x, x)],
                         ids=["sum", "pair", "pair_of_first"])
def test_jacobians_of_identities_over_two_argnums(f, transform):
    """Identity blocks come from one basis per argument: each must be copied out."""
    x, y = _rand(3), _rand(3, seed=1)
    assert_all_own(_flat(transform(f, argnums=(0, 1))(x, y)), x=x, y=y)


@pytest.mark.parametrize("transform, f, argnums", [
    (wl.jacfwd, lambda x, y: x, 0),
    (wl.jacrev, lambda x, y: x, 0),
    (wl.jacfwd, lambda x, y: x + y, (0, 1)),
    (wl.jacrev, lambda x, y: x + y, (0, 1)),
    (wl.grad, lambda x, y: (x + y).sum(), (0, 1)),
    (wl.grad, lambda x, y: x.sum(), 0),
], ids=["jacfwd_identity", "jacrev_identity", "jacfwd_sum", "jacrev_sum", "grad_sum",
        "grad_plain_sum"])
def test_two_calls_share_nothing(transform, f, argnums):
    """A basis or unit the engine caches between calls must not reach the user twice."""
    x, y = _rand(3), _rand(3, seed=1)
    first = _flat(transform(f, argnums=argnums)(x, y))
    second = _flat(transform(f, argnums=argnums)(x, y))
    assert_all_own(first + second, x=x, y=y)


# ----------------------------------------------------------------------- the interpreter


@pytest.mark.skipif(platform.python_implementation() != "CPython",
                    reason="pins CPython's reference counting")
def test_cpython_refcount_of_an_array_held_by_one_local():
    """Pins interpreter behaviour, not wonderland's: the engine may decide that an array
    nothing else holds can be handed over without a copy by its reference count. In
    CPython an array referenced by one local has getrefcount 2 (the local and the call's
    argument) and 3 once a second name or a container holds it. (Should a CPython release
    borrow references on the stack and change these numbers, this test says so first.)"""

    def probe():
        a = np.zeros(3)
        alone = sys.getrefcount(a)
        b = a
        with_a_second_name = sys.getrefcount(a)
        del b
        box = [a]
        in_a_container = sys.getrefcount(a)
        del box
        return alone, with_a_second_name, in_a_container, sys.getrefcount(a)

    assert probe() == (2, 3, 3, 2)


# ----------------------------------------------------------------------- rules writing in place
# Large cotangents (and derivatives a rule just computed) are written over when nothing
# else holds them: what another rule, the caller or the forward pass still reads must not
# change. Sizes above the engine's in-place threshold; values against PyTorch.

BIG = 5000


def _torch_grads(f, *arrays):
    torch = pytest.importorskip("torch")
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    f(*ts, torch).backward()
    return [t.grad.numpy() for t in ts]


LARGE_CASES = {
    # sub: ∂/∂b is -g after ∂/∂a passed g on unchanged
    "a - b": lambda a, b, m: (a - b).sum(),
    # both sides of mul, div: the first rule must leave g intact for the second
    "a * b - a / b": lambda a, b, m: (m.sin(a * b) - a / b).sum(),
    # one value feeding several nodes: its cotangent is a sum of deliveries
    "fan-out": lambda a, b, m: (m.sin(a) * m.sin(a) - m.sin(a) + m.cos(b) / m.exp(b)).sum(),
    "negatives": lambda a, b, m: (-(2.0 * -(a * 3.0)) - (b - a) * (a - b)).mean(),
    "where": lambda a, b, m: m.where(a > b, m.tanh(a), -m.sin(b)).sum(),
    "broadcast": lambda a, b, m: ((a.reshape(50, 100) - b[:100]) ** 2).mean(),
}


@pytest.mark.parametrize("name", list(LARGE_CASES))
def test_gradients_on_large_arrays_match_torch(name):
    f = LARGE_CASES[name]
    rng = np.random.default_rng(5)
    a, b = rng.uniform(0.5, 2.0, BIG), rng.uniform(0.5, 2.0, BIG)
    expected = _torch_grads(f, a, b)
    got = wl.grad(lambda x, y: f(x, y, wl), argnums=(0, 1))(a, b)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.numpy(), e, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(a, np.random.default_rng(5).uniform(0.5, 2.0, BIG))


@pytest.mark.parametrize("f", [lambda a, b: a - b, lambda a, b: -(a * b),
                               lambda a, b: wl.sin(a) * b])
def test_a_large_cotangent_the_caller_passed_is_not_written(f):
    rng = np.random.default_rng(6)
    a, b, v = rng.standard_normal(BIG), rng.standard_normal(BIG), rng.standard_normal(BIG)
    keep = v.copy()
    _, pullback = wl.vjp(f, a, b)
    ga, gb = pullback(v)
    np.testing.assert_array_equal(v, keep)
    assert_all_own((ga, gb), a, b, v=v)


def test_a_large_seed_of_backward_is_not_written():
    x = wl.tensor(np.linspace(0.0, 1.0, BIG), requires_grad=True)
    seed = np.full(BIG, 2.0)
    (-wl.sin(x)).backward(seed)
    np.testing.assert_array_equal(seed, np.full(BIG, 2.0))
    np.testing.assert_allclose(x.grad.numpy(), -2.0 * np.cos(np.linspace(0.0, 1.0, BIG)))


def test_a_retained_large_intermediate_gradient_is_its_own():
    x = wl.tensor(np.linspace(0.0, 1.0, BIG), requires_grad=True)
    y = wl.sin(x)
    y.retain_grad()
    (-(y * 3.0)).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), np.full(BIG, -3.0))
    np.testing.assert_allclose(x.grad.numpy(), -3.0 * np.cos(np.linspace(0.0, 1.0, BIG)))


def test_least_squares_backward_keeps_two_residual_sized_arrays_at_most():
    """The reverse pass writes each large derivative and cotangent over the one it
    replaces: ``((y - X @ w) ** 2).mean().backward()`` holds the residual and one array of
    its size at a time (the forward pass needs as much: the residual and its square)."""
    import tracemalloc

    n, d = 200_000, 3
    rng = np.random.default_rng(7)
    X, y = wl.tensor(rng.standard_normal((n, d))), wl.tensor(rng.standard_normal(n))
    w = wl.zeros(d, requires_grad=True)
    ((y - X @ w) ** 2).mean().backward()  # warm: caches, first-call allocations
    w.grad = None
    tracemalloc.start()
    try:
        ((y - X @ w) ** 2).mean().backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2.5 * n * 8, f"peak {peak / (n * 8):.2f} residuals"


def test_a_rule_that_negates_first_leaves_the_cotangent_to_the_second():
    """A primitive stated by its partials (-1, 1): the first rule may not write into the
    cotangent that the second one still reads."""
    from wonderland.primitives.base import binary
    from wonderland.tensor import apply

    rsub = binary("rsub", lambda xp, a, b: b - a, (-1, 1))
    a = wl.tensor(np.ones(BIG), requires_grad=True)
    b = wl.tensor(np.ones(BIG), requires_grad=True)
    (apply(rsub, a * 2.0, b * 2.0) * 3.0).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full(BIG, -6.0))
    np.testing.assert_array_equal(b.grad.numpy(), np.full(BIG, 6.0))
