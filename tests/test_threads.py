"""wonderland used from several threads at once (Dask's threaded scheduler, joblib's
threading backend): each thread's results equal the same work done on one thread, and no
engine state (grad mode, tracer, forward-mode levels, hooks) is left behind.

Races are provoked with a tiny switch interval (``sys.setswitchinterval(1e-6)``, restored
after) and threads started together on a barrier; where an interleaving must be exact,
events order the threads (no timing assertion anywhere).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import wonderland as wl
import wonderland.linear as wll
from wonderland import backend
from wonderland.autodiff import forward
from wonderland.tensor import Tensor

engine = importlib.import_module("wonderland.tensor")
N_THREADS = 6

# ----------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True, scope="module")
def _blas_threads_restored() -> Iterator[None]:
    """Concurrent fits once left BLAS limited to one thread (see the test below): the
    thread counts are put back as they were after this module, so that a regression makes
    no later test run slower."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=None):
        yield


@pytest.fixture(autouse=True)
def _unit_cache_emptied() -> Iterator[None]:
    """After each test the cache of unit cotangents starts afresh: should the race pinned
    at the end come back, ids of freed arrays left in it would make later tests (any
    test of the session) take an ordinary cotangent for ones."""
    yield
    backend._ONES.clear()
    backend.UNITS.clear()


@contextlib.contextmanager
def _fast_switching() -> Iterator[None]:
    """Switch threads as often as CPython allows: races show up."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def _in_threads(work: Callable[[int], Any], n: int = N_THREADS) -> list:
    """``work(i)`` for i in range(n), each on a thread of its own, all released together;
    the results in order. The first exception of any thread is raised here."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)

    with _fast_switching():
        threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        raise errors[0]
    return results


def _assert_same(got: Any, want: Any, rtol: float = 1e-12, atol: float = 1e-12) -> None:
    """Nested lists/tuples of numbers and arrays equal to rounding."""
    if isinstance(want, list | tuple):
        assert isinstance(got, list | tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            _assert_same(g, w, rtol, atol)
    else:
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=rtol, atol=atol)


def _np(t: Any) -> Any:
    """Tensors (alone or in tuples) as NumPy copies."""
    if isinstance(t, tuple | list):
        return [_np(v) for v in t]
    return np.array(t.numpy() if isinstance(t, Tensor) else t, copy=True)


_TENSOR_METHODS = {name: Tensor.__dict__.get(name) for name in (
    "numpy", "__array__", "item", "tolist", "__float__", "__int__", "__index__", "__bool__",
    "__format__", "__init__", "backward", "detach", "data", "_write", "_write_at", "fill_")}


def _assert_clean_state() -> None:
    """Recording on in this thread and process-wide, no tracer installed, forward mode's
    own hook in place, no forward-mode level left open, the Tensor methods as they were."""
    assert wl.is_grad_enabled()
    assert engine._grad_enabled and engine._threads_off == 0
    assert engine._tracer is None
    assert engine._forward_hook is forward._push
    assert forward._batch_ndim == {}
    for name, method in _TENSOR_METHODS.items():
        assert Tensor.__dict__.get(name) is method, name
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def _twice(reference: Callable[[], Any]) -> Any:
    """The reference, computed twice on this thread (the second also warms every cache
    the work fills, whatever the first found there); its second result."""
    reference()
    return reference()


# ----------------------------------------------------------------------- eager reverse mode


def _eager_work(i: int, iters: int = 60) -> list:
    """Independent graphs: leaves of this thread's own, backward() into their .grad."""
    rng = np.random.default_rng(i)
    out = []
    for k in range(iters):
        A = wl.tensor(rng.normal(size=(5, 3)))
        b = rng.normal(size=5)
        w = wl.tensor(rng.normal(size=3), requires_grad=True)
        s = wl.tensor(0.5 + 0.01 * k + i, requires_grad=True)
        h = wl.tanh(A @ w) * s
        loss = ((h - b) ** 2).mean() + wl.logsumexp(h, dim=0) + h[1:3].sum() \
            + wl.softmax(h, dim=0)[0] * wl.sigmoid(s)
        loss.backward()
        out.append((loss.item(), w.grad.numpy().copy(), s.grad.item()))
    return out


def test_eager_backward_on_independent_graphs():
    expected = _twice(lambda: [_eager_work(i) for i in range(N_THREADS)])
    got = _in_threads(_eager_work)
    _assert_same(got, expected)
    _assert_clean_state()


def test_no_grad_in_one_thread_while_others_record():
    # thread 0 toggles no_grad / enable_grad (and set_grad_enabled) all the time; the
    # others record and differentiate: none of them may lose its recording, and thread 0
    # must see its own mode only
    expected = _twice(lambda: [_eager_work(i, 40) for i in range(1, N_THREADS)])

    def work(i: int) -> Any:
        if i > 0:
            return _eager_work(i, 40)
        x = wl.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        for _ in range(400):
            with wl.no_grad():
                seen.append((x * 2).requires_grad)
                with wl.enable_grad():
                    seen.append(not (x * 2).requires_grad)
                seen.append(wl.is_grad_enabled())
            with wl.set_grad_enabled(False):
                seen.append((x + 1).requires_grad)
            seen.append(not (x * 3).requires_grad)
        return seen

    got = _in_threads(work)
    assert not any(got[0]), "thread 0 saw the wrong mode"
    _assert_same(got[1:], expected)
    _assert_clean_state()


def test_new_thread_starts_recording_while_another_is_in_no_grad():
    inside, done = threading.Event(), threading.Event()
    seen = {}

    def holder() -> None:
        with wl.no_grad():
            inside.set()
            assert done.wait(30)

    t = threading.Thread(target=holder)
    t.start()
    assert inside.wait(30)
    try:
        def fresh() -> None:
            x = wl.tensor(3.0, requires_grad=True)
            y = x * x
            seen["enabled"] = wl.is_grad_enabled()
            y.backward()
            seen["grad"] = x.grad.item()

        t2 = threading.Thread(target=fresh)
        t2.start()
        t2.join()
        assert wl.is_grad_enabled()  # the main thread too
    finally:
        done.set()
        t.join()
    assert seen == {"enabled": True, "grad": 6.0}
    _assert_clean_state()


def _retain_work(i: int, iters: int = 60) -> list:
    """retain_graph, a second pass, the error of a third on a freed graph, .grad of a
    non-leaf kept by retain_grad(), accumulation over passes, zero_()."""
    rng = np.random.default_rng(50 + i)
    out = []
    for _ in range(iters):
        x = wl.tensor(rng.normal(size=4), requires_grad=True)
        h = wl.sin(x) * (i + 1.0)
        h.retain_grad()
        y = (h * h).sum() + x.prod()
        y.backward(retain_graph=True)
        first = x.grad.numpy().copy()
        y.backward()  # accumulates, frees the graph
        try:
            y.backward()
        except RuntimeError as exc:
            freed = "second time" in str(exc)
        else:
            freed = False
        second = x.grad.numpy().copy()
        x.grad.zero_()
        (x ** 2).sum().backward()
        out.append((first, second, h.grad.numpy().copy(), freed, x.grad.numpy().copy()))
    return out


def test_retain_graph_and_grad_accumulation_per_thread():
    expected = _twice(lambda: [_retain_work(i) for i in range(N_THREADS)])
    assert all(e[3] for run in expected for e in run)  # the third pass was refused
    got = _in_threads(_retain_work)
    _assert_same(got, expected)
    _assert_clean_state()


def _inplace_work(i: int, iters: int = 60) -> list:
    """Version counters: in-place writes recorded through views (y[i] += v), and a write
    into a tensor the graph saved, refused at backward()."""
    rng = np.random.default_rng(80 + i)
    out = []
    for _ in range(iters):
        x = wl.tensor(rng.normal(size=5), requires_grad=True)
        v = wl.tensor(rng.normal(size=2), requires_grad=True)
        y = x * (i + 1.0)
        y[1:3] += v * x[0]
        y[4] = y[3] * 2.0 + v[0]
        z = wl.exp(y)
        (z.sum() + (y * 1.0).clamp_(min=0.0).sum()).backward()
        c = wl.tensor(rng.normal(size=5))
        w = wl.tensor(rng.normal(size=5), requires_grad=True)
        loss = (w * c).sum()
        c.add_(1.0)  # the graph saved c: backward() must refuse
        try:
            loss.backward()
        except RuntimeError as exc:
            refused = "modified by an in-place operation" in str(exc)
        else:
            refused = False
        out.append((x.grad.numpy().copy(), v.grad.numpy().copy(), refused, w.grad is None))
    return out


def test_in_place_writes_and_version_checks_per_thread():
    expected = _twice(lambda: [_inplace_work(i) for i in range(N_THREADS)])
    assert all(e[2] and e[3] for run in expected for e in run)
    _assert_same(_in_threads(_inplace_work), expected)
    _assert_clean_state()


def _accumulate_from_threads(size: int, iters: int, n: int) -> np.ndarray:
    """Each thread differentiates, ``iters`` times, a graph of its own built on one shared
    leaf of ``size`` elements (thread i multiplies it by i + 1): the leaf's .grad."""
    w = wl.tensor(np.zeros(size), requires_grad=True)

    def work(i: int) -> None:
        x = np.full(size, float(i + 1))
        for _ in range(iters):
            (w * x).sum().backward()

    _in_threads(work, n)
    return w.grad.numpy()


def test_grad_accumulates_into_a_small_shared_leaf_from_every_thread():
    # every gradient must land in .grad (PyTorch's AccumulateGrad is thread-safe)
    grad = _accumulate_from_threads(3, 300, N_THREADS)
    np.testing.assert_array_equal(grad, np.full(3, 300 * sum(range(1, N_THREADS + 1))))
    _assert_clean_state()


# Fixed; before the fix: lost gradients: backward() on several threads, each on a graph of its own
# over one shared leaf, adds into leaf.grad in place (autodiff.reverse._accumulate: data += g)
# with no lock; NumPy releases the GIL inside that add for large arrays, so two threads' read-add-
# write of the same elements interleave and one thread's contribution is lost
def test_grad_accumulates_into_a_large_shared_leaf_from_every_thread():
    grad = _accumulate_from_threads(100_000, 400, 4)
    np.testing.assert_array_equal(grad, np.full(100_000, 400 * sum(range(1, 5))))


def test_autograd_grad_on_a_shared_leaf_per_thread():
    w = wl.tensor(np.linspace(-1.0, 1.0, 7), requires_grad=True)

    def work(i: int) -> list:
        out = []
        for k in range(80):
            loss = (wl.tanh(w * (i + 1.0)) * (k + 1.0)).sum() + (w ** 3).mean()
            (g,) = wl.autograd.grad(loss, w, create_graph=k % 2 == 0)
            out.append(g.numpy().copy())
        return out

    expected = _twice(lambda: [work(i) for i in range(N_THREADS)])
    _assert_same(_in_threads(work), expected)
    assert w.grad is None
    _assert_clean_state()


# ----------------------------------------------------------------------- transforms


def _transform_work(i: int, iters: int = 25) -> list:
    """Every transform on functions of this thread's own."""
    c = i + 1.0
    rng = np.random.default_rng(100 + i)

    def f(x: Tensor) -> Tensor:  # scalar
        return (wl.sin(x * c) * x).sum() + (x ** 3).sum() / c + wl.logsumexp(x, dim=0)

    def F(x: Tensor) -> Tensor:  # vector
        return wl.tanh(x * c) * wl.flip(x, 0) + wl.exp(x / c)

    def g2(x: Tensor, y: Tensor) -> Tensor:
        return (x * y * c).sum() + (x ** 2 * wl.cos(y)).sum()

    out = []
    for _ in range(iters):
        x, v = rng.normal(size=3), rng.normal(size=3)
        y = rng.normal(size=3)
        value, grad = wl.value_and_grad(f)(x)
        out_f, pullback = wl.vjp(F, x)
        primal, tangent = wl.jvp(F, (x,), (v,))
        out.append(_np([
            wl.grad(f)(x), value, grad, out_f, pullback(v)[0], pullback(2 * v)[0],
            primal, tangent, wl.jacrev(F)(x), wl.jacfwd(F)(x), wl.jacobian(F)(x),
            wl.hessian(f)(x), wl.jacfwd(wl.jacrev(f))(x), wl.jacrev(wl.jacrev(f))(x),
            wl.jvp(wl.grad(f), (x,), (v,))[1],  # forward over reverse: H v
            wl.grad(wl.grad(lambda t: wl.sin(t * c) * t ** 3))(float(x[0])),
            *wl.grad(g2, argnums=(0, 1))(x, y),
        ]))
    return out


def test_transforms_in_threads():
    expected = _twice(lambda: [_transform_work(i) for i in range(N_THREADS)])
    got = _in_threads(_transform_work)
    _assert_same(got, expected)
    _assert_clean_state()


def test_one_transformed_function_shared_by_threads():
    # the same wl.grad / wl.jacfwd / wl.hessian objects called from every thread
    grad_f = wl.grad(lambda x: (wl.sin(x) * x ** 2).sum())
    jac_F = wl.jacfwd(lambda x: wl.tanh(x) * x.sum())
    hess_f = wl.hessian(lambda x: (wl.exp(x) * x).sum() + x.prod())

    def work(i: int) -> list:
        rng = np.random.default_rng(200 + i)
        out = []
        for _ in range(40):
            x = rng.normal(size=4)
            out.append(_np([grad_f(x), jac_F(x), hess_f(x)]))
        return out

    expected = _twice(lambda: [work(i) for i in range(N_THREADS)])
    _assert_same(_in_threads(work), expected)
    _assert_clean_state()


# ----------------------------------------------------------------------- wl.compile


def _loss(x: Tensor) -> Tensor:
    return (wl.tanh(x) * 2.0 + x ** 2).sum() + wl.logsumexp(x * 0.5, dim=0)


def test_one_compiled_function_same_shape_from_many_threads():
    compiled = wl.compile(wl.value_and_grad(_loss))
    eager = wl.value_and_grad(_loss)
    compiled(wl.tensor(np.zeros(5)))  # traced once, before the threads

    def work(i: int) -> list:
        rng = np.random.default_rng(300 + i)
        return [_np(compiled(wl.tensor(rng.normal(size=5)))) for _ in range(150)]

    def reference(i: int) -> list:
        rng = np.random.default_rng(300 + i)
        return [_np(eager(wl.tensor(rng.normal(size=5)))) for _ in range(150)]

    expected = _twice(lambda: [reference(i) for i in range(N_THREADS)])
    got = _in_threads(work)
    _assert_same(got, expected, rtol=1e-10)
    info = compiled.cache_info()
    assert info.misses == 1 and info.currsize == 1
    _assert_clean_state()


def test_one_compiled_function_traced_while_other_threads_run_it():
    # every thread calls with shapes of its own, so one thread traces while the others
    # run code traced before (or wait): all results equal the eager ones
    compiled = wl.compile(wl.value_and_grad(_loss), maxsize=4)
    eager = wl.value_and_grad(_loss)

    def shapes(i: int) -> list:
        return [1 + (i + k) % 9 for k in range(60)]

    def work(i: int) -> list:
        return [_np(compiled(wl.tensor(np.linspace(-1.0, 1.0, n) * (i + 1)))) for n in shapes(i)]

    def reference(i: int) -> list:
        return [_np(eager(wl.tensor(np.linspace(-1.0, 1.0, n) * (i + 1)))) for n in shapes(i)]

    expected = _twice(lambda: [reference(i) for i in range(N_THREADS)])
    _assert_same(_in_threads(work), expected, rtol=1e-10)
    assert compiled.cache_info().currsize <= 4
    # afterwards the cache still serves: a shape seen hits, the results equal eager ones
    x = wl.tensor(np.linspace(-1.0, 1.0, 3))
    _assert_same(_np(compiled(x)), _np(eager(x)), rtol=1e-10)
    before = compiled.cache_info()
    _assert_same(_np(compiled(x)), _np(eager(x)), rtol=1e-10)
    assert compiled.cache_info().hits == before.hits + 1
    _assert_clean_state()


def test_separate_compiled_functions_traced_concurrently():
    def make(i: int) -> Callable:
        c = i + 1.0

        def f(x: Tensor, y: Tensor) -> Tensor:
            h = wl.tanh(x @ y) * c
            return (h ** 2).mean() + wl.relu(x - c * 0.1).sum()

        return f

    def shapes(i: int) -> list:
        return [(2 + (i + k) % 4, 3) for k in range(8)]

    def run(i: int, transform: Callable) -> list:
        rng = np.random.default_rng(400 + i)
        f = transform(make(i))
        out = []
        for shape in shapes(i):
            x, y = rng.normal(size=shape), rng.normal(size=(shape[1], 2))
            out.append(_np(f(wl.tensor(x), wl.tensor(y))))
        return out

    def work(i: int) -> list:
        return run(i, lambda f: wl.compile(wl.value_and_grad(f, argnums=(0, 1))))

    expected = _twice(lambda: [run(i, lambda f: wl.value_and_grad(f, argnums=(0, 1)))
                               for i in range(N_THREADS)])
    _assert_same(_in_threads(work), expected, rtol=1e-10)
    _assert_clean_state()


# Fixed; before the fix: wrong results: while one thread traces, the tracer's wrappers of the
# engine's in-place writes (Tracer.protect) also see another thread's write into a tensor the
# traced function closes over, and replace that constant by a copy: the compiled function keeps
# the weights as they were for good, where eager code (and a trace on one thread) reads the tensor
# as it is now
def test_compile_does_not_snapshot_a_tensor_another_thread_writes_while_tracing():
    # a compiled predict() closing over weights reads them by reference (as on one
    # thread); here a training thread takes a step (README's `w -= lr * w.grad` under
    # no_grad) while predict's first call traces
    w = wl.tensor(np.ones(3), requires_grad=True)
    x = wl.tensor([1.0, 2.0, 3.0])
    read, stepped = threading.Event(), threading.Event()

    def predict(x: Tensor) -> Tensor:
        y = x * w.detach()
        read.set()
        assert stepped.wait(30)
        return y

    def step() -> None:
        w.grad = None
        (w * w).sum().backward()
        with wl.no_grad():
            w.sub_(0.25 * w.grad)

    def trainer() -> None:
        assert read.wait(30)
        step()
        stepped.set()

    compiled = wl.compile(predict)
    t = threading.Thread(target=trainer)
    t.start()
    compiled(x)
    t.join()
    step()  # on this thread alone: w = 0.25
    np.testing.assert_array_equal(compiled(x).numpy(), (x * w.detach()).numpy())
    _assert_clean_state()


# Fixed; before the fix: a compiled function called on one thread while another thread traces is
# taken for a call inside that trace (Compiled._call tests the process-wide engine._tracer): it
# runs eagerly, untraced and uncounted, and a function that cannot be traced (.item() on its
# input) returns a value instead of raising the TraceError it raises on one thread
def test_call_on_one_thread_while_another_traces_is_compiled():
    outcome = {}

    def call() -> None:
        compiled = wl.compile(lambda x: x * x.item())
        try:
            compiled(wl.tensor(3.0))
        except RuntimeError as exc:
            outcome["error"] = str(exc)
        outcome["misses"] = compiled.cache_info().misses

    with _another_thread_tracing():
        caller = threading.Thread(target=call)
        caller.start()
        caller.join(timeout=3)  # (a caller that waits for the trace to end is fine too)
    caller.join()
    assert outcome["misses"] == 1
    assert ".item()" in outcome.get("error", "")
    _assert_clean_state()


@contextlib.contextmanager
def _another_thread_tracing() -> Iterator[None]:
    """Inside: another thread is in the middle of tracing a compiled function."""
    tracing, done = threading.Event(), threading.Event()

    def slow(x: Tensor) -> Tensor:
        tracing.set()
        assert done.wait(60)
        return x * 2.0

    compiled = wl.compile(slow)
    t = threading.Thread(target=lambda: compiled(wl.tensor([1.0])))
    t.start()
    try:
        assert tracing.wait(30)
        yield
    finally:
        done.set()
        t.join()


# Fixed; before the fix: wrong error: while one thread traces, another thread's refused in-place
# write into a view raises the tracer's TraceError ('wl.compile: ... a view of a tensor of another
# library') instead of the engine's RuntimeError ('... clone() the view'): Tensor._check_inplace
# calls _tracer.view_write without a thread check
def test_error_of_another_thread_is_not_blamed_on_wl_compile():
    # an in-place write into a view that the engine refuses, on a thread that compiles
    # nothing, while another thread traces: the engine's own RuntimeError
    with _another_thread_tracing():
        y = wl.ones(4, requires_grad=True) * 1.0
        view = y.reshape(2, 2)
        with pytest.raises(RuntimeError) as info:
            view += 1.0
    assert "clone() the view" in str(info.value)
    assert "wl.compile" not in str(info.value)
    _assert_clean_state()


# ----------------------------------------------------------------------- optimization


def _optim_work(i: int) -> list:
    """Each optimizer of wl.optim on this thread's own parameters and data."""
    rng = np.random.default_rng(500 + i)
    A, b = rng.normal(size=(8, 3)), rng.normal(size=8)
    out = []
    makers = [lambda p: wl.optim.GD(p, lr=0.05),
              lambda p: wl.optim.Momentum(p, lr=0.02, momentum=0.8),
              lambda p: wl.optim.Nesterov(p, lr=0.02),
              lambda p: wl.optim.Adam(p, lr=lambda t: 0.05 / t ** 0.5)]
    for make in makers:
        w = wl.tensor(np.zeros(3), requires_grad=True)
        c = wl.tensor(0.0, requires_grad=True)
        opt = make([w, c])
        for _ in range(40):
            opt.zero_grad()
            loss = ((wl.tensor(A) @ w + c - b) ** 2).mean() + 0.1 * (w * w).sum()
            loss.backward()
            opt.step()
        out.append((w.numpy().copy(), c.item(), opt.t))
    return out


def test_optimizers_in_threads():
    expected = _twice(lambda: [_optim_work(i) for i in range(N_THREADS)])
    _assert_same(_in_threads(_optim_work), expected)
    _assert_clean_state()


def _minimize_work(i: int) -> list:
    c = i + 1.0

    def f(x: Tensor) -> Tensor:
        return ((x - c) ** 2).sum() + 0.1 * wl.sin(x * c).sum()

    def rows(x: Tensor) -> Tensor:  # batched: (n, d) -> (n,)
        return ((x - c) ** 2).sum(dim=1) + 0.1 * (x ** 4).sum(dim=1)

    out = []
    for method, compiled in [("gd", False), ("momentum", False), ("nesterov", True),
                             ("adam", False), ("gd", True)]:
        res = wl.optim.minimize(f, np.zeros(2), method=method, lr=0.05, max_iter=60,
                                tol_grad=1e-9, compile=compiled)
        out.append(((res.n_iter, res.reason),
                    [res.x.numpy().copy(), float(res.fun), np.array(res.trace.fun, copy=True)]))
    res = wl.optim.minimize(rows, np.zeros((3, 2)) + np.arange(3)[:, None], lr=0.05,
                            max_iter=40, batched=True)
    out.append(((np.asarray(res.n_iter).tolist(), np.asarray(res.reason).tolist()),
                [res.x.numpy().copy(), np.array(res.trace.fun, copy=True)]))
    return out


def test_minimize_in_threads():
    expected = _twice(lambda: [_minimize_work(i) for i in range(4)])
    got = _in_threads(_minimize_work, 4)
    assert [[run[0] for run in g] for g in got] == [[run[0] for run in e] for e in expected]
    _assert_same([[run[1] for run in g] for g in got], [[run[1] for run in e] for e in expected],
                 rtol=1e-10)
    _assert_clean_state()


# ----------------------------------------------------------------------- linear models


def _regression(seed: int, n: int = 300, d: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) + [1.0, -2.0, 0.5, 3.0][:d]
    return X, X @ rng.normal(size=d) + 1.5 + rng.normal(size=n) * 0.3


def _classes(seed: int, k: int = 2, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    scores = X @ rng.normal(size=(3, k)) + rng.normal(size=(n, k))
    return X, np.argmax(scores, axis=1) if k > 2 else (scores[:, 0] > 0).astype(int)


def _estimators() -> list[tuple[Any, Callable[[int], tuple]]]:
    return [
        (wll.LinearRegression(), _regression),
        (wll.LinearRegression(solver="gd"), _regression),
        (wll.Ridge(alpha=2.0), _regression),
        (wll.LogisticRegression(alpha=1e-2), _classes),
        (wll.LogisticRegression(alpha=1e-2), lambda s: _classes(s, 3)),
        (wll.LinearModel(loss="huber", optimizer="adam", max_iter=30, random_state=0),
         _regression),
        (wll.LinearModel(loss="hinge", optimizer="momentum", batch_size=50, max_iter=10,
                         random_state=0), _classes),
        (wll.LinearModel(loss="log", max_iter=20), _classes),
    ]


# (warnings filtered on the main thread, for the whole test: warnings.catch_warnings on
# worker threads would race on the process-wide filters)
_QUIET = pytest.mark.filterwarnings("ignore")


def _fitted(est: Any, data: Callable[[int], tuple], seed: int) -> list:
    X, y = data(seed)
    model = est.__sklearn_clone__().fit(X, y)
    return [np.asarray(model.coef_), np.asarray(model.intercept_),
            np.asarray(model.predict(X), dtype=float)]


@_QUIET
def test_linear_models_fitted_with_joblib_threads():
    from joblib import Parallel, delayed

    jobs = [(est, data, seed) for est, data in _estimators() for seed in range(3)]
    expected = _twice(lambda: [_fitted(*job) for job in jobs])
    with _fast_switching():
        got = Parallel(n_jobs=4, backend="threading")(delayed(_fitted)(*job) for job in jobs)
    _assert_same(got, expected, rtol=1e-9, atol=1e-10)
    _assert_clean_state()


@_QUIET
def test_grid_search_with_threads():
    from joblib import parallel_backend
    from sklearn.model_selection import GridSearchCV

    searches = [
        (wll.Ridge(), {"alpha": [0.1, 1.0, 10.0]}, _regression(7)),
        (wll.LogisticRegression(), {"alpha": [1e-3, 1e-2, 1e-1]}, _classes(8)),
        (wll.LinearModel(loss="huber", max_iter=20), {"alpha": [0.0, 0.1]}, _regression(9)),
    ]

    def run(n_jobs: int) -> list:
        out = []
        for est, grid, (X, y) in searches:
            search = GridSearchCV(est, grid, cv=3, n_jobs=n_jobs).fit(X, y)
            out.append([search.cv_results_["mean_test_score"],
                        np.asarray(search.best_estimator_.coef_)])
        return out

    expected = _twice(lambda: run(1))
    with _fast_switching(), parallel_backend("threading"):
        got = run(4)
    _assert_same(got, expected, rtol=1e-9, atol=1e-10)
    _assert_clean_state()


# Two fits whose serial_blas() blocks overlap, in the order A enters, B enters, A leaves,
# B leaves (events inside the block order them), a few times over. A fresh interpreter:
# how OpenBLAS shows a count set on one thread to the others depends on what was set
# before (threadpoolctl's restores included).
_BLAS_SCRIPT = """
import json, threading
import numpy as np
from threadpoolctl import threadpool_info
import wonderland.linear.logistic as logistic

def blas():
    return [d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"]

rng = np.random.default_rng(3)
X = rng.normal(size=(300, 5))
y = (X @ rng.normal(size=5) + rng.normal(size=300) > 0).astype(int)
before = blas()
terms = logistic.logistic_terms

def overlapping_fits():
    a_inside, b_inside, a_done = threading.Event(), threading.Event(), threading.Event()
    first = {}

    def ordered(*args, **kwargs):  # inside serial_blas(): each thread's first call waits
        name = threading.current_thread().name
        if first.setdefault(name, True):
            first[name] = False
            if name == "A":
                a_inside.set()
                assert b_inside.wait(60)
            else:
                assert a_inside.wait(60)
                b_inside.set()
                assert a_done.wait(60)
        return terms(*args, **kwargs)

    def fit(name):
        logistic.LogisticRegression(alpha=1e-2).fit(X, y)
        if name == "A":
            a_done.set()

    logistic.logistic_terms = ordered
    threads = [threading.Thread(target=fit, args=(n,), name=n) for n in "AB"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    logistic.logistic_terms = terms

for _ in range(4):
    overlapping_fits()
print(json.dumps([before, blas()]))
"""


# Fixed; before the fix: concurrent LogisticRegression fits leave the whole process's BLAS limited
# to one thread: linear.blocks.serial_blas() is a process-wide threadpoolctl limit; entered and
# left on several threads, one thread's exit restores the limit another thread had set
def test_concurrent_fits_leave_the_blas_thread_count_alone():
    import json
    import subprocess

    run = subprocess.run([sys.executable, "-c", _BLAS_SCRIPT], capture_output=True,
                         text=True, timeout=120, check=True)
    before, after = json.loads(run.stdout.strip().splitlines()[-1])
    if not before or min(before) < 2:
        pytest.skip("BLAS runs on one thread here: nothing to leave limited")
    assert after == before


@_QUIET
def test_dask_fits_on_the_threaded_scheduler_equal_in_memory_ones():
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
    cases = [(wll.LinearRegression(), _regression(11, n=600)),
             (wll.Ridge(alpha=3.0), _regression(12, n=600)),
             (wll.LogisticRegression(alpha=1e-2), _classes(13, 3, n=600)),
             (wll.LinearModel(loss="huber", optimizer="adam", max_iter=25, random_state=0),
              _regression(14, n=600))]

    def fit(est: Any, X: Any, y: Any) -> Any:
        return est.__sklearn_clone__().fit(X, y)

    for est, (X, y) in cases:
        mem = fit(est, X, y)
        Xd, yd = da.from_array(X, chunks=(70, 2)), da.from_array(y, chunks=70)
        with _fast_switching(), dask.config.set(scheduler="threads", num_workers=4):
            dsk = fit(est, Xd, yd)
            pred = dsk.predict(Xd).compute()
        np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(dsk.intercept_, mem.intercept_, rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(np.asarray(pred, dtype=float),
                                   np.asarray(mem.predict(X), dtype=float), rtol=1e-8, atol=1e-8)
    _assert_clean_state()


@_QUIET
def test_dask_fits_from_several_threads_at_once():
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
    params = dict(loss="huber", optimizer="adam", max_iter=12, random_state=0)
    data = [_regression(20 + i, n=200) for i in range(4)]

    def work(i: int) -> list:
        X, y = data[i]
        Xd, yd = da.from_array(X, chunks=(50, 4)), da.from_array(y, chunks=50)
        with dask.config.set(scheduler="threads", num_workers=3):
            a = wll.LinearModel(**params).fit(Xd, yd)
            b = wll.LogisticRegression().fit(Xd, (yd > yd.mean()).astype(int))
        return [a.coef_, b.coef_]

    def reference(i: int) -> list:
        X, y = data[i]
        Xd, yd = da.from_array(X, chunks=(50, 4)), da.from_array(y, chunks=50)
        with dask.config.set(scheduler="synchronous"):
            a = wll.LinearModel(**params).fit(Xd, yd)
            b = wll.LogisticRegression().fit(Xd, (yd > yd.mean()).astype(int))
        return [a.coef_, b.coef_]

    expected = [reference(i) for i in range(4)]
    _assert_same(_in_threads(work, 4), expected, rtol=1e-8, atol=1e-10)
    _assert_clean_state()


# ----------------------------------------------------------------------- errors in threads


def test_errors_in_threads_leave_no_state_behind():
    # bad input on half of the threads, in every part of the engine, while the other
    # half works: the good threads' results are right, and afterwards the engine is clean
    def bad(i: int) -> list:
        caught = []
        for k in range(30):
            for attempt in (
                lambda: wl.grad(lambda x: x * 2.0)(np.ones(3)),        # non-scalar
                lambda: wl.jacfwd(lambda x: x.item() * x)(np.ones(2)),  # fine eagerly
                lambda: wl.jvp(lambda x: x @ np.ones((4, 2)), (np.ones(3),), (np.ones(3),)),
                lambda: wl.hessian(lambda x: wl.log(x).sum() + x["a"])(np.ones(2)),
                lambda: (wl.ones(3, requires_grad=True) * 2).backward(),
                lambda: wl.optim.minimize(lambda x: x.sum(), np.ones(2), method="nope"),
                lambda: wll.LinearRegression().fit(np.ones((5, 2)), np.ones(4)),
            ):
                try:
                    with wl.no_grad() if k % 2 else contextlib.nullcontext():
                        attempt()
                except (ValueError, TypeError, RuntimeError, IndexError):
                    caught.append(True)
                else:
                    caught.append(False)
        return caught

    def work(i: int) -> Any:
        return bad(i) if i % 2 else _transform_work(i, 6)

    expected = _twice(lambda: [bad(i) if i % 2 else _transform_work(i, 6)
                               for i in range(N_THREADS)])
    got = _in_threads(work)
    for i in range(N_THREADS):
        if i % 2:
            assert got[i] == expected[i]
        else:
            _assert_same(got[i], expected[i])
    _assert_clean_state()
    # later single-threaded work is unaffected
    _assert_same(_transform_work(0, 3), expected[0][:3])
    compiled = wl.compile(_loss)
    x = wl.tensor(np.linspace(0.0, 1.0, 4))
    _assert_same(_np(compiled(x)), _np(_loss(x)), rtol=1e-12)
    _assert_clean_state()


def test_error_inside_a_trace_on_one_thread_while_others_compute():
    # the tracer swaps Tensor methods process-wide while it traces: a trace that fails on
    # one thread must put them back, and the other threads' eager .item() / float() /
    # backward() / randn keep working throughout
    def work(i: int) -> list:
        out = []
        if i == 0:
            for k in range(40):
                try:
                    wl.compile(lambda x: x * float(x.sum()))(wl.tensor(np.ones(k % 4 + 1)))
                except RuntimeError as exc:
                    out.append("wl.compile" in str(exc))
            return out
        rng = np.random.default_rng(600 + i)
        for _ in range(150):
            x = wl.tensor(rng.normal(size=3), requires_grad=True)
            y = (x * x).sum()
            y.backward()
            out.append((y.item(), float(y), x.grad.tolist(), bool(y > 0), f"{y:.3f}"))
        return out

    expected = _twice(lambda: [work(i) for i in range(N_THREADS)])
    assert all(expected[0])
    got = _in_threads(work)
    assert got[0] == expected[0]
    for g, e in zip(got[1:], expected[1:]):
        assert [v[4] for v in g] == [v[4] for v in e]
        _assert_same([v[:3] for v in g], [v[:3] for v in e])
    _assert_clean_state()


# ----------------------------------------------------------------------- bugs found


# Fixed; before the fix: a function decorated with @wl.no_grad() (one context object shared by
# every call) saves the previous mode on that object: called on two threads, one thread restores
# the other's mode and its recording stays off after the call
def test_no_grad_decorator_called_from_two_threads_restores_each_threads_mode():
    a_inside, b_done = threading.Event(), threading.Event()

    @wl.no_grad()
    def evaluate(x: Tensor, wait: bool) -> Tensor:
        y = x * 2.0
        if wait:
            a_inside.set()
            assert b_done.wait(30)
        return y

    x = wl.tensor([1.0, 2.0], requires_grad=True)
    seen = {}

    def a() -> None:  # records around the call
        evaluate(x, True)
        seen["a"] = (wl.is_grad_enabled(), (x * 3.0).requires_grad)
        wl.set_grad_enabled(True)  # (a thread that ends with recording off stays counted)

    def b() -> None:  # calls it from within a no_grad block of its own
        assert a_inside.wait(30)
        with wl.no_grad():
            evaluate(x, False)
        b_done.set()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen["a"] == (True, True)
    _assert_clean_state()


# Fixed; before the fix: wrong gradients: backend.ones (the cache of unit cotangents) is filled
# without a lock; two threads that miss the same shape at once both make ones and register both
# ids in backend.UNITS, the cache keeps one; once the other is freed, its id is reused by an
# ordinary cotangent, which the reverse rules then take for ones (the factor 3 of 3*sin(x) is
# lost), on any thread, long after
def test_unit_cotangent_cache_filled_by_two_threads_at_once(monkeypatch):
    grad_f = wl.grad(lambda x: (wl.sin(x) * 3.0).sum())
    make_ones = np.ones

    def racing(barrier: threading.Barrier) -> Callable:
        def ones(shape: Any, *args: Any, **kwargs: Any) -> np.ndarray:
            # the two racers' allocations of new ones meet here: both have missed the cache
            if threading.current_thread().name.startswith("racer"):
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait(timeout=0.3)  # (a cache that lets one thread in at a time)
            return make_ones(shape, *args, **kwargs)

        return ones

    bad = []
    for r in range(10):
        n = 700 + r  # a shape no one has asked for: both racers miss it

        def racer(i: int, n: int = n) -> None:
            x = np.linspace(0.1, 1.0, n) + i
            if not np.allclose(grad_f(x).numpy(), 3.0 * np.cos(x), rtol=1e-12):
                bad.append(n)

        monkeypatch.setattr(np, "ones", racing(threading.Barrier(2)))
        threads = [threading.Thread(target=racer, args=(i,), name=f"racer{i}") for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        monkeypatch.setattr(np, "ones", make_ones)
    for k in range(1000):  # later gradients, on this thread
        x = np.linspace(0.1, 1.0, 1 + k % 7) + k * 1e-3
        if not np.allclose(grad_f(x).numpy(), 3.0 * np.cos(x), rtol=1e-12):
            bad.append(x.size)
    assert bad == []
