"""Scale and pathological shapes of work: very deep and very wide graphs, deep nesting of
transforms, many leaves, repeated passes, many compiled signatures, long traced loops,
0-size and very high-rank shapes, sizes past 2**31, and linear models on extreme shapes.

No test asserts on time. Where the question is how the work grows (a quadratic algorithm),
the work is counted, deterministically, as the Python steps (calls and lines) that a run
takes at two sizes: a linear algorithm takes about twice the steps at twice the size, a
quadratic one about four times. Memory is measured with ``tracemalloc`` (NumPy reports its
buffers to it): peaks against the size of the arrays the problem needs, and growth as the
difference between two loop lengths.
"""

from __future__ import annotations

import contextlib
import gc
import math
import sys
import tracemalloc
import warnings
import weakref
from collections.abc import Callable, Iterator

import numpy as np
import pytest

import wonderland as wl
from wonderland import data, linear

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.usefixtures("collect_only_new_objects")

RNG = np.random.default_rng(20261203)


# ----------------------------------------------------------------------- helpers


def python_steps(fn: Callable[[], object]) -> int:
    """The Python steps (function calls and executed lines) that ``fn()`` takes: a
    deterministic measure of the work done in Python."""
    count = 0

    def tracer(frame, event, arg):  # noqa: ARG001 - the signature sys.settrace calls
        nonlocal count
        count += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        fn()
    finally:
        sys.settrace(previous)
    return count


def growth_ratio(make: Callable[[int], Callable[[], object]], n: int) -> float:
    """Steps at size ``2n`` over steps at size ``n`` (each run once before counting, so that
    caches are warm): about 2 for linear work, about 4 for quadratic work."""
    small, large = make(n), make(2 * n)
    small()
    large()
    return python_steps(large) / python_steps(small)


@contextlib.contextmanager
def traced_memory() -> Iterator[Callable[[], tuple[int, int]]]:
    """``tracemalloc`` on for the block; yields ``get_traced_memory``."""
    gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        yield tracemalloc.get_traced_memory
    finally:
        if not was_tracing:
            tracemalloc.stop()


def peak_bytes(fn: Callable[[], object]) -> int:
    """The peak of traced memory above what was allocated when ``fn`` started."""
    with traced_memory() as memory:
        base = memory()[0]
        fn()
        return memory()[1] - base


def quiet_fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


# ----------------------------------------------------------------------- deep graphs


def test_chain_of_200000_elementwise_ops_backward_matches_the_same_arithmetic():
    n = 100_000  # two operations per step: 200,000 nodes
    a, b = 1.0000001, 1e-7
    x = wl.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    y = x
    for _ in range(n):
        y = y * a + b
    y.sum().backward()
    ref, slope = x.detach().numpy().copy(), 1.0
    for _ in range(n):
        ref = ref * a + b
        slope *= a
    np.testing.assert_array_equal(y.detach().numpy(), ref)
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, slope), rtol=1e-12)


def test_a_200000_node_graph_dropped_without_backward_is_freed_without_recursion():
    x = wl.tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(200_000):
        y = y + 0.5
    probe = weakref.ref(y)
    assert float(y.sum()) == 2 * 100_001.0
    del y
    gc.collect()
    assert probe() is None
    # and the leaf still works afterwards
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_a_200000_node_graph_under_wl_grad_and_jvp():
    n = 100_000

    def f(x):
        for _ in range(n):
            x = x * 1.0000001 - 1e-7
        return x.sum()

    slope = 1.0000001 ** n
    g = wl.grad(f)(np.array([0.3, 0.2]))
    np.testing.assert_allclose(g.numpy(), [slope, slope], rtol=1e-9)
    _, tangent = wl.jvp(f, (np.array([0.3, 0.2]),), (np.array([1.0, -2.0]),))
    np.testing.assert_allclose(float(tangent), -slope, rtol=1e-9)


def test_in_place_writes_chained_200000_times():
    x = wl.tensor(np.ones(3), requires_grad=True)
    y = x * 1.0
    for _ in range(200_000):
        y += x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 200_001.0))


def test_six_levels_of_grad_match_the_closed_form():
    # d^k/dx^k (e^x sin x) = 2^(k/2) e^x sin(x + k pi/4)
    f = lambda x: wl.sin(x) * wl.exp(x)  # noqa: E731
    x0 = 0.7
    g = f
    for k in range(1, 7):
        g = wl.grad(g)
        want = 2 ** (k / 2) * math.exp(x0) * math.sin(x0 + k * math.pi / 4)
        assert float(g(x0)) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("order", [
    (wl.grad, wl.jacfwd, wl.jacrev, wl.grad, wl.jacfwd, wl.jacrev),
    (wl.jacrev, wl.jacrev, wl.jacfwd, wl.jacfwd, wl.grad, wl.grad),
])
def test_six_levels_of_mixed_transforms_match_the_closed_form(order):
    f = lambda x: wl.sin(x) * wl.exp(x)  # noqa: E731
    g = f
    for k, transform in enumerate(order, 1):
        g = transform(g)
        want = 2 ** (k / 2) * math.exp(0.7) * math.sin(0.7 + k * math.pi / 4)
        assert float(g(0.7)) == pytest.approx(want, rel=1e-12)


def test_second_derivative_through_a_2000_op_chain_matches_torch():
    n = 2_000

    def chain(m, x):
        for _ in range(n):
            x = m.sin(x) * 0.5 + x * 0.5
        return x.sum()

    x0 = np.array([0.3, -0.2, 1.1])
    xt = torch.tensor(x0, requires_grad=True)
    (gt,) = torch.autograd.grad(chain(torch, xt), xt, create_graph=True)
    want = torch.stack([torch.autograd.grad(gt[i], xt, retain_graph=True)[0]
                        for i in range(3)]).numpy()
    h = wl.hessian(lambda x: chain(wl, x))(x0)
    np.testing.assert_allclose(h.numpy(), want, rtol=1e-9, atol=1e-15)
    # create_graph=True by hand: the same numbers
    x = wl.tensor(x0, requires_grad=True)
    (g,) = wl.autograd.grad(chain(wl, x), x, create_graph=True)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), want.sum(0), rtol=1e-9, atol=1e-15)


# ----------------------------------------------------------------------- wide work


def test_jacfwd_and_jacrev_of_a_2000_element_input():
    n = 2_000
    x0 = RNG.standard_normal(n)
    f = lambda x: wl.tanh(x) * wl.roll(x, 1, 0)  # noqa: E731
    shifted = np.roll(x0, 1)
    want = np.diag((1 - np.tanh(x0) ** 2) * shifted)
    want[np.arange(n), (np.arange(n) - 1) % n] += np.tanh(x0)
    for transform in (wl.jacfwd, wl.jacrev):
        J = transform(f)(x0)
        assert J.shape == (n, n)
        np.testing.assert_allclose(J.numpy(), want, rtol=1e-12, atol=1e-15)


def test_hessian_of_a_300_dimensional_function():
    m = 300
    B = RNG.standard_normal((m, m))
    B = B @ B.T
    y0 = RNG.standard_normal(m)
    h = lambda x: 0.5 * x @ (B @ x) + wl.exp(0.1 * x).sum() + (x ** 4).sum()  # noqa: E731
    H = wl.hessian(h)(y0)
    want = B + np.diag(0.01 * np.exp(0.1 * y0) + 12 * y0 ** 2)
    np.testing.assert_allclose(H.numpy(), want, rtol=1e-10, atol=1e-10)


def test_a_python_sum_of_50000_scalar_tensors():
    xs = [wl.tensor(float(i), requires_grad=True) for i in range(50_000)]
    total = wl.tensor(0.0)
    for x in xs:
        total = total + x * x
    total.backward()
    assert float(total) == sum(float(i) ** 2 for i in range(50_000))
    grads = np.array([float(x.grad) for x in xs])
    np.testing.assert_array_equal(grads, 2 * np.arange(50_000.0))


def test_one_tensor_used_10000_times():
    x = wl.tensor(np.arange(3.0), requires_grad=True)
    total = x.sum() * 0.0
    for i in range(10_000):
        total = total + (x * float(i)).sum()
    total.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, float(sum(range(10_000)))))


def test_stack_and_cat_of_1000_tensors_backward():
    n = 1_000
    xs = [wl.tensor(float(i), requires_grad=True) for i in range(n)]
    (wl.stack(xs) ** 2).sum().backward()
    np.testing.assert_array_equal([float(x.grad) for x in xs], 2 * np.arange(float(n)))
    vs = [wl.tensor(np.full(2, float(i)), requires_grad=True) for i in range(n)]
    (wl.cat(vs) ** 2).sum().backward()
    np.testing.assert_array_equal(np.stack([v.grad.numpy() for v in vs]),
                                  2 * np.repeat(np.arange(float(n))[:, None], 2, 1))


def _stack_backward(n: int) -> Callable[[], object]:
    xs = [wl.tensor(float(i), requires_grad=True) for i in range(n)]
    return lambda: (wl.stack(xs) ** 2).sum().backward()


def _cat_backward(n: int) -> Callable[[], object]:
    xs = [wl.tensor(np.full(2, float(i)), requires_grad=True) for i in range(n)]
    return lambda: (wl.cat(xs) ** 2).sum().backward()


# Fixed; before the fix: BUG: the reverse pass of stack/concat is quadratic in the number of
# tensors (each of the n rules wraps all n arguments as Tensors); wl.stack of 10,000 tensors then
# backward() takes over a minute
@pytest.mark.parametrize("make", [_stack_backward, _cat_backward], ids=["stack", "cat"])
def test_stack_and_cat_backward_work_grows_linearly(make):
    assert growth_ratio(make, 150) < 3.0


def test_a_stack_of_1000_tensors_under_jacrev():
    n = 1_000
    f = lambda x: wl.stack([x[i] * x[i] for i in range(n)])  # noqa: E731
    x0 = np.arange(float(n))
    np.testing.assert_array_equal(wl.jacrev(f)(x0).numpy(), np.diag(2 * x0))
    np.testing.assert_array_equal(wl.jacfwd(f)(x0).numpy(), np.diag(2 * x0))


# ----------------------------------------------------------------------- many leaves


def test_10000_parameters_in_one_optimizer_match_torch():
    n = 10_000
    start = RNG.standard_normal((n, 2))
    ps = [wl.tensor(row.copy(), requires_grad=True) for row in start]
    ts = [torch.tensor(row.copy(), requires_grad=True) for row in start]
    opt = wl.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-2)
    topt = torch.optim.SGD(ts, lr=0.1, momentum=0.9, weight_decay=1e-2)
    for _ in range(2):
        opt.zero_grad()
        topt.zero_grad()
        for params in (ps, ts):  # (a Python sum: wl.stack of 10,000 is slow, see below)
            loss = (params[0] ** 2).sum()
            for i, p in enumerate(params[1:], 1):
                loss = loss + ((p ** 2).sum() if i < 50 else p.sum())
            loss.backward()
        opt.step()
        topt.step()
    got = np.stack([p.detach().numpy() for p in ps])
    want = np.stack([p.detach().numpy() for p in ts])
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    opt.zero_grad(set_to_none=False)
    assert all(not p.grad.numpy().any() for p in ps)


def _optimizer_construction(n: int) -> Callable[[], object]:
    ps = [wl.tensor(np.zeros(1), requires_grad=True) for _ in range(n)]
    return lambda: wl.optim.SGD(ps, lr=0.1)


# Fixed; before the fix: BUG: building an optimizer is quadratic in the number of parameters (the
# duplicate check scans the whole list for each one); 20,000 parameters take ~5 s
def test_optimizer_construction_work_grows_linearly():
    assert growth_ratio(_optimizer_construction, 300) < 3.0


def test_optimizer_step_and_zero_grad_work_grow_linearly():
    def make(n):
        ps = [wl.tensor(np.zeros(1), requires_grad=True) for _ in range(n)]
        opt = wl.optim.Adam(ps, lr=0.1)

        def run():
            for p in ps:
                p.grad = wl.tensor(np.ones(1))
            opt.step()
            opt.zero_grad()
        return run

    assert growth_ratio(make, 300) < 2.5


def _unrelated_backward(retained: int) -> Callable[[], object]:
    x = wl.tensor(1.0, requires_grad=True)
    kept = []
    y = x
    for _ in range(retained):
        y = y * 1.0
        y.retain_grad()
        kept.append(y)

    def run():
        w = wl.tensor(2.0, requires_grad=True)
        (w * w).backward()
        assert float(w.grad) == 4.0
        assert kept is not None  # (the retained tensors stay alive meanwhile)
    return run


# Fixed; before the fix: BUG: every backward() walks every live retain_grad() tensor of every
# graph: with 50,000 retained tensors alive, a backward() of an unrelated 1-node graph costs
# ~9 ms instead of ~10 us
def test_backward_of_an_unrelated_graph_does_not_walk_retained_tensors():
    counts = []
    for retained in (0, 2_000):  # one at a time: the first's graph is gone before the second
        run = _unrelated_backward(retained)
        run()
        counts.append(python_steps(run))
        del run
        gc.collect()
    alone, beside = counts
    assert beside < 2 * alone


# ----------------------------------------------------------------------- repeated passes


def test_100_backward_passes_with_retain_graph_keep_memory_flat():
    x = wl.tensor(RNG.standard_normal(1_000), requires_grad=True)
    y = x
    for _ in range(50):
        y = wl.tanh(y) * 1.1
    loss = (y ** 2).sum()
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    with traced_memory() as memory:
        loss.backward(retain_graph=True)
        gc.collect()
        before = memory()[0]
        for _ in range(98):
            loss.backward(retain_graph=True)
        gc.collect()
        grown = memory()[0] - before
    assert grown < 50_000  # one 8 KB gradient kept per pass would be 800 KB
    np.testing.assert_allclose(x.grad.numpy(), 100 * first, rtol=1e-12)


def test_1000_shapes_keep_the_compile_cache_bounded_and_correct():
    f = wl.compile(lambda x: (wl.sin(x) ** 2).sum())
    for n in range(1, 1_001):
        assert float(f(np.ones(n))) == pytest.approx(n * math.sin(1.0) ** 2, rel=1e-12)
    info = f.cache_info()
    assert info.misses == 1_000 and info.currsize == info.maxsize == 64


def _compiled_growth(fn) -> int:
    """Memory kept by 200 calls with new signatures (a new shape each) of ``fn`` compiled
    with 4 entries, measured from a point where the cache has turned over many times."""
    compiled = wl.compile(fn, maxsize=4)
    for n in range(1, 101):
        compiled(np.ones(n))
    with traced_memory() as memory:
        for n in range(101, 201):  # (the first calls traced leave a constant ~50 KB)
            compiled(np.ones(n))
        gc.collect()
        before = memory()[0]
        for n in range(201, 401):
            compiled(np.ones(n))
        gc.collect()
        grown = memory()[0] - before
    assert compiled.cache_info() == (0, 400, 4, 4)
    return grown


def test_a_compiled_function_called_with_many_shapes_keeps_memory_flat():
    assert _compiled_growth(lambda x: (wl.sin(x) ** 2).sum()) < 40_000


# Fixed; before the fix: BUG: each new signature of a compiled gradient keeps the previous entry's
# code object forever in compile/trace.py's _internal dict (~2 KB a signature, unbounded whatever
# maxsize)
def test_a_compiled_gradient_called_with_many_shapes_keeps_memory_flat():
    assert _compiled_growth(wl.grad(lambda x: (wl.sin(x) ** 2).sum())) < 40_000


def test_compiling_a_10000_iteration_loop():
    n = 10_000

    def f(x):
        for _ in range(n):
            x = wl.tanh(x) + 0.001
        return x

    compiled = wl.compile(f)
    x0 = np.array([0.3, -2.0])
    np.testing.assert_array_equal(compiled(x0).numpy(), f(wl.tensor(x0)).numpy())
    np.testing.assert_array_equal(compiled(x0 * 2).numpy(), f(wl.tensor(x0 * 2)).numpy())
    assert compiled.cache_info().misses == 1
    lines = compiled.source(x0).splitlines()
    assert 2 * n <= len(lines) <= 3 * n  # one line per operation, nothing quadratic


def test_compiling_the_gradient_of_a_2000_iteration_loop():
    n = 2_000

    def f(x):
        for _ in range(n):
            x = wl.sin(x) * 0.5 + x * 0.5
        return x.sum()

    x0 = np.array([0.3, 0.2])
    got = wl.compile(wl.grad(f))(x0)
    np.testing.assert_allclose(got.numpy(), wl.grad(f)(x0).numpy(), rtol=1e-12)


# ----------------------------------------------------------------------- 0-size shapes

OPS = {
    "exp": lambda m, x: m.exp(x),
    "sigmoid": lambda m, x: m.sigmoid(x),
    "abs": lambda m, x: x.abs(),
    "pow": lambda m, x: x ** 3,
    "div": lambda m, x: x / (x * x + 1),
    "sum": lambda m, x: x.sum(),
    "sum0": lambda m, x: x.sum(0),
    "sum1": lambda m, x: x.sum(1),
    "prod": lambda m, x: x.prod(),
    "prod0": lambda m, x: x.prod(0),
    "prod1": lambda m, x: x.prod(1),
    "var1": lambda m, x: x.var(dim=1, correction=0),
    "logsumexp1": lambda m, x: m.logsumexp(x, 1),
    "softmax0": lambda m, x: m.softmax(x, 0),
    "softmax1": lambda m, x: m.softmax(x, 1),
    "log_softmax1": lambda m, x: m.log_softmax(x, 1),
    "amax1": lambda m, x: m.amax(x, 1) if m is torch else x.max(1),
    "norm": lambda m, x: m.linalg.norm(x) if m is torch else wl.norm(x),
    "x @ x.T": lambda m, x: x @ x.T,
    "x.T @ x": lambda m, x: x.T @ x,
    "reshape": lambda m, x: x.reshape(-1) * 2,
    "reshape swapped": lambda m, x: x.reshape(x.shape[1], x.shape[0]) * 2,
    "transpose": lambda m, x: x.T * 1,
    "unsqueeze": lambda m, x: x.unsqueeze(0) * 1,
    "stack": lambda m, x: m.stack([x, x * 2]),
    "cat0": lambda m, x: m.cat([x, x * 2], 0),
    "cat1": lambda m, x: m.cat([x, x * 2], 1),
    "slice0": lambda m, x: x[1:] * 1,
    "slice1": lambda m, x: x[:, 1:] * 1,
    "mask": lambda m, x: x[x > 0],
    "where": lambda m, x: m.where(x > 0, x, x * x),
    "clip": lambda m, x: m.clip(x, -0.5, 0.5),
    "maximum": lambda m, x: m.maximum(x, x * 0.5),
    "tril": lambda m, x: m.tril(x),
    "flip": lambda m, x: m.flip(x, (0,)),
    "roll": lambda m, x: m.roll(x, 1, 0),
    "einsum": lambda m, x: m.einsum("ij,ij->i", x, x),
    "outer broadcast": lambda m, x: x[:, None, :] * x[None, :, :],
    "repeat": lambda m, x: x.repeat(2, 3),
    "broadcast_to": lambda m, x: m.broadcast_to(x, (3, *x.shape)) * 1,
    "movedim": lambda m, x: m.movedim(x, 0, 1) * 1,
}


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0, 0)], ids=str)
@pytest.mark.parametrize("name", sorted(OPS))
def test_zero_size_shapes_in_every_op_and_its_derivatives(name, shape):
    op = OPS[name]
    xn = RNG.standard_normal(shape)
    xt = torch.tensor(xn, requires_grad=True)
    try:
        yt = op(torch, xt)
    except (RuntimeError, IndexError, ValueError):
        with pytest.raises((ValueError, IndexError, RuntimeError)):
            op(wl, wl.tensor(xn, requires_grad=True))
        return
    x = wl.tensor(xn, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's mean of nothing
        y = op(wl, x)
        assert y.shape == tuple(yt.shape)
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), equal_nan=True)
        yt.backward(torch.ones_like(yt))
        y.backward(np.ones(y.shape))
        assert x.grad.shape == shape
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
        _, tangent = wl.jvp(lambda v: op(wl, v), (xn,), (np.ones(shape),))
        assert tangent.shape == tuple(yt.shape)
        for transform in (wl.jacrev, wl.jacfwd):
            assert transform(lambda v: op(wl, v))(xn).shape == tuple(yt.shape) + shape


def test_zero_row_tensors_through_a_linear_layer_and_loss():
    X = wl.tensor(np.zeros((0, 4)))
    w = wl.tensor(RNG.standard_normal(4), requires_grad=True)
    loss = wl.losses.squared(X @ w, np.zeros(0), reduction="sum")
    loss.backward()
    assert float(loss) == 0.0
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros(4))


# ----------------------------------------------------------------------- high rank


def test_rank_30_ops_backward_and_jacobians_match_torch():
    shape = (1, 2) * 15
    xn = RNG.standard_normal(shape)
    x = wl.tensor(xn, requires_grad=True)
    back = tuple(range(29, -1, -1))
    y = (wl.sin(x) * x.permute(*back).permute(*back)).sum(dim=tuple(range(0, 30, 2))).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.sin(xn) + xn * np.cos(xn), rtol=1e-13)
    np.testing.assert_allclose(wl.softmax(wl.tensor(xn), dim=7).numpy(),
                               torch.softmax(torch.tensor(xn), 7).numpy(), rtol=1e-13)
    small = RNG.standard_normal((1,) * 25 + (2, 3, 1, 2, 1))
    f = lambda m: lambda v: (v ** 2).sum(dim=(25, 27))  # noqa: E731
    want = torch.func.jacrev(f(torch))(torch.tensor(small)).numpy()
    np.testing.assert_allclose(wl.jacrev(f(wl))(small).numpy(), want)
    np.testing.assert_allclose(wl.jacfwd(f(wl))(small).numpy(), want)
    H = wl.hessian(lambda v: (v ** 3).sum())(small)
    assert H.shape == small.shape * 2
    np.testing.assert_allclose(H.numpy().reshape(12, 12), np.diag(6 * small.ravel()))


def test_broadcasting_of_shape_ones_20_matches_torch():
    a = np.ones((1,) * 20)
    b = np.arange(3.0).reshape((3,) + (1,) * 19)
    c = np.arange(2.0)
    ws = [wl.tensor(v, requires_grad=True) for v in (a, b, c)]
    ts = [torch.tensor(v, requires_grad=True) for v in (a, b, c)]
    (ws[0] * ws[1] * ws[2]).sum().backward()
    (ts[0] * ts[1] * ts[2]).sum().backward()
    for w, t in zip(ws, ts):
        assert w.grad.shape == tuple(t.shape)
        np.testing.assert_array_equal(w.grad.numpy(), t.grad.numpy())
    big = wl.tensor(np.ones((1,) * 20), requires_grad=True)
    (big + np.zeros((2,) * 10 + (1,) * 10)).sum().backward()
    assert big.grad.shape == (1,) * 20 and float(big.grad.sum()) == 1024.0


def test_rank_64_is_numpys_limit_and_past_it_is_an_error():
    x = wl.tensor(np.ones((1,) * 64), requires_grad=True)
    (x * 2).sum().backward()
    assert x.grad.shape == (1,) * 64
    with pytest.raises(ValueError):
        x.unsqueeze(0)


# ----------------------------------------------------------------------- huge sizes


def test_a_broadcast_past_2_31_elements_sums_and_differentiates_exactly():
    n = 2 ** 31 + 5  # a zero-stride view: nothing of this size is allocated
    a = wl.tensor(np.ones(1), requires_grad=True)
    with traced_memory() as memory:
        base = memory()[0]
        s = wl.broadcast_to(a, (n,)).sum()
        s.backward()
        assert memory()[1] - base < 1_000_000
    assert float(s) == float(n)
    assert float(a.grad[0]) == float(n)


def test_size_arithmetic_past_2_63_in_errors():
    x = wl.ones(6)
    with pytest.raises(ValueError, match="18446744073709551616"):
        x.reshape(2 ** 32, 2 ** 32)
    with pytest.raises(IndexError):
        x[2 ** 31]
    with pytest.raises(IndexError):
        x[np.int32(2 ** 31 - 1)]
    with pytest.raises(IndexError):
        x[np.array([2 ** 31 - 1], dtype=np.int32)]
    assert x[2 ** 31: 2 ** 62].shape == (0,)
    assert x[:: 2 ** 62].shape == (1,)
    for shape in [(2 ** 62,), (2 ** 31, 2 ** 31, 2 ** 31), (2 ** 40,)]:
        with pytest.raises((ValueError, MemoryError)):
            wl.zeros(*shape)


# ----------------------------------------------------------------------- linear models


@pytest.mark.parametrize("solver", ["auto", "normal", "lstsq", "gd"])
def test_a_3_by_3_exactly_determined_system(solver):
    X = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [2.0, 0.0, 1.0]])
    w = np.array([1.0, -2.0, 0.5])
    model = linear.LinearRegression(solver=solver, fit_intercept=False, tol=1e-12,
                                    max_iter=100_000).fit(X, X @ w)
    np.testing.assert_allclose(model.coef_, w, atol=1e-10)


@pytest.mark.parametrize("solver", ["auto", "normal", "lstsq", "gd"])
def test_5000_rows_of_one_feature(solver):
    X = RNG.standard_normal((5_000, 1))
    y = 2 * X[:, 0] + 3 + 0.1 * RNG.standard_normal(5_000)
    slope, intercept = np.polyfit(X[:, 0], y, 1)
    model = linear.LinearRegression(solver=solver, tol=1e-12).fit(X, y)
    assert model.coef_[0] == pytest.approx(slope, rel=1e-9)
    assert model.intercept_ == pytest.approx(intercept, rel=1e-9)


@pytest.mark.parametrize("solver", ["auto", "normal", "lstsq", "gd"])
def test_one_row_of_60_features_interpolates_with_zero_coefficients(solver):
    X = RNG.standard_normal((1, 60))
    model = quiet_fit(linear.LinearRegression(solver=solver), X, np.array([2.0]))
    np.testing.assert_array_equal(model.coef_, np.zeros(60))
    assert model.intercept_ == 2.0
    assert model.predict(X)[0] == pytest.approx(2.0)


@pytest.mark.parametrize("solver", ["auto", "normal", "lstsq", "gd"])
def test_more_features_than_rows_gives_the_minimum_norm_solution(solver):
    X = RNG.standard_normal((10, 40))
    y = RNG.standard_normal(10)
    Xc = X - X.mean(0)
    want = np.linalg.pinv(Xc) @ (y - y.mean())
    model = quiet_fit(linear.LinearRegression(solver=solver, tol=1e-12, max_iter=100_000), X, y)
    np.testing.assert_allclose(model.coef_, want, atol=1e-9)
    np.testing.assert_allclose(model.predict(X), y, atol=1e-9)


def test_ridge_and_logistic_with_more_features_than_rows_match_scikit_learn():
    from sklearn.linear_model import LogisticRegression, Ridge

    X = RNG.standard_normal((10, 40))
    y = RNG.standard_normal(10)
    labels = (y > 0).astype(int)
    for alpha in (1e-3, 1.0):
        ours, theirs = linear.Ridge(alpha=alpha).fit(X, y), Ridge(alpha=alpha).fit(X, y)
        np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-8)
    reference = LogisticRegression(C=1 / (0.1 * 10), tol=1e-12, max_iter=10_000).fit(X, labels)
    for solver in ("auto", "newton", "lbfgs", "gd"):
        ours = quiet_fit(linear.LogisticRegression(alpha=0.1, solver=solver, tol=1e-10,
                                                   max_iter=10_000), X, labels)
        np.testing.assert_allclose(ours.coef_, reference.coef_, atol=1e-6)
    for loss, target in (("squared", y), ("log", labels), ("hinge", labels)):
        model = quiet_fit(linear.LinearModel(loss=loss, max_iter=50), X, target)
        assert np.all(np.isfinite(model.coef_))


def test_logistic_regression_with_1000_classes_of_one_row_each():
    from sklearn.linear_model import LogisticRegression

    n = 1_000
    X = RNG.standard_normal((n, 2))
    y = RNG.permutation(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = LogisticRegression(C=1 / (0.1 * n), tol=1e-10, max_iter=10_000).fit(X, y)
        model = linear.LogisticRegression(alpha=0.1, tol=1e-10).fit(X, y)
    assert model.coef_.shape == (n, 2) and model.classes_.shape == (n,)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_allclose(proba, reference.predict_proba(X), atol=1e-7)


def test_a_dataset_of_100000_columns_of_which_one_varies():
    n, d = 50, 100_000
    X = np.zeros((n, d))
    X[:, 7] = RNG.standard_normal(n)
    y = 3 * X[:, 7] + 1
    ds = data.Dataset(X, y)
    assert len(ds) == n and ds.X.shape == (n, d)
    train, test = ds.split(0.2, seed=0)
    assert (len(train), len(test)) == (40, 10) and train.X.shape[1] == d
    assert sum(len(b[1]) for b in ds.batches(16)) == n
    model = quiet_fit(linear.LinearModel(lr=0.1, max_iter=100, tol=0), ds.X, ds.y)
    assert model.coef_[7] == pytest.approx(3.0, rel=1e-6)
    assert np.abs(np.delete(model.coef_, 7)).max() == 0.0


# Fixed; before the fix: BUG: each constant column's null vector is a view of its own np.eye(d)
# (least_squares.py _analyse), so LinearRegression keeps k*d*d floats alive: 220 MB for a 30x300
# X, terabytes for 1x5000
@pytest.mark.parametrize("solver", ["normal", "lstsq"])
def test_linear_regression_with_many_constant_columns_uses_memory_of_a_few_grams(solver):
    n, d = 30, 300
    X = np.zeros((n, d))
    X[:, 5] = RNG.standard_normal(n)
    y = 2 * X[:, 5] + 1
    holder = {}
    peak = peak_bytes(lambda: holder.setdefault(
        "m", quiet_fit(linear.LinearRegression(solver=solver), X, y)))
    model = holder["m"]
    assert model.coef_[5] == pytest.approx(2.0) and model.intercept_ == pytest.approx(1.0)
    assert peak < 20 * d * d * 8  # twenty Gram matrices' worth


# Fixed; before the fix: BUG: solver='lstsq' formed and eigendecomposed the d x d Gram matrix
# and a d x d complement basis on wide X (MemoryError on a 50 x 100,000 X)
@pytest.mark.parametrize("solver", ["lstsq", "auto"])
def test_lstsq_on_wide_data_needs_no_d_by_d_matrix(solver):
    n, d = 10, 600
    X = RNG.standard_normal((n, d))
    y = RNG.standard_normal(n)
    holder = {}
    peak = peak_bytes(lambda: holder.setdefault(
        "m", quiet_fit(linear.LinearRegression(solver=solver), X, y)))
    np.testing.assert_allclose(holder["m"].predict(X), y, atol=1e-8)
    assert peak < d * d * 8 // 2  # less than half of one d x d matrix (X is 48 KB)


# Fixed; before the fix: BUG: LinearModel's default step took the largest eigenvalue of the
# d x d correlation matrix (MemoryError on a 50 x 100,000 X)
def test_linear_model_default_step_needs_no_d_by_d_matrix():
    n, d = 10, 600
    X = RNG.standard_normal((n, d))
    y = X @ RNG.standard_normal(d)
    holder = {}
    peak = peak_bytes(lambda: holder.setdefault(
        "m", quiet_fit(linear.LinearModel(loss="squared", max_iter=20), X, y)))
    assert np.all(np.isfinite(holder["m"].coef_))
    assert peak < d * d * 8 // 2


# ----------------------------------------------------------------------- minimize


@pytest.mark.parametrize("method", ["gd", "momentum", "nesterov", "adam"])
def test_minimize_with_a_million_iterations_stops_on_its_rules(method):
    res = wl.optim.minimize(lambda x: (x ** 2).sum(), np.ones(3), method=method, lr=0.1,
                            max_iter=10 ** 6, tol_grad=1e-8)
    assert res.reason == "tol_grad"
    assert res.n_iter < 1_000
    assert float(wl.norm(res.x)) < 1e-8
    assert len(res.trace.fun) == res.n_iter + 1


def test_minimize_of_a_constant_function_stops_at_once():
    res = wl.optim.minimize(lambda x: x.sum() * 0.0, np.ones(3), lr=0.1, max_iter=10 ** 6)
    assert (res.n_iter, res.reason) == (0, "tol_grad")


@pytest.mark.parametrize("compile_step", [False, True])
def test_batched_minimize_of_100000_rows(compile_step):
    n = 100_000
    x0 = RNG.standard_normal((n, 2))
    res = wl.optim.minimize(lambda X: ((X - 1.0) ** 2).sum(1), x0, lr=0.4, max_iter=10 ** 6,
                            tol_grad=1e-8, batched=True, compile=compile_step)
    assert res.x.shape == (n, 2)
    assert np.all(np.asarray(res.reason) == "tol_grad")
    assert np.abs(res.x.numpy() - 1.0).max() < 1e-8
    assert int(np.max(res.n_iter)) < 50


# ----------------------------------------------------------------------- data files


class CountingName(str):
    """A column name that counts the comparisons made with it."""

    comparisons = 0

    def __eq__(self, other):
        CountingName.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_read_table_of_many_columns(tmp_path):
    d = 1_000
    path = tmp_path / "wide.csv"
    names = [f"c{i}" for i in range(d)]
    path.write_text(",".join(names) + "\n" + ",".join(str(i) for i in range(d)) + "\n")
    got_names, values = data.read_table(path, columns=names[::-1])
    assert got_names == names[::-1]
    np.testing.assert_array_equal(values, np.arange(d, dtype=float)[::-1][None, :])


# Fixed; before the fix: BUG: read_table looks each requested column up with list membership and
# list.index: quadratic in the number of columns (8,000 columns take ~0.6 s, 100,000 would take
# minutes)
def test_read_table_compares_each_column_name_a_bounded_number_of_times(tmp_path):
    d = 1_000
    path = tmp_path / "wide.csv"
    names = [f"c{i}" for i in range(d)]
    path.write_text(",".join(names) + "\n" + ",".join(str(i) for i in range(d)) + "\n")
    CountingName.comparisons = 0
    data.read_table(path, columns=[CountingName(name) for name in names])
    assert CountingName.comparisons < 20 * d
