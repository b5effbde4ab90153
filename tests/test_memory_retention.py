"""Memory kept alive when it should be freed: the graph after backward(), global state after
errors, transforms, optimizers, wl.compile and wl.linear in long loops.

Growth is measured with ``tracemalloc`` as the difference between two loop lengths (never an
absolute number), against a bound far below what keeping one array per iteration would cost;
reachability with ``weakref`` (NumPy arrays through a weak-referenceable subclass view, which
any array derived from it by ``np.asarray`` keeps alive through ``.base``).
"""

from __future__ import annotations

import gc
import sys
import threading
import tracemalloc
import warnings
import weakref

import numpy as np
import pytest

import wonderland as wl
from wonderland import backend
from wonderland.compile import TraceError
from wonderland.compile import api as compile_api
from wonderland.optim import schedules

pytestmark = pytest.mark.usefixtures("collect_only_new_objects")

engine = sys.modules["wonderland.tensor"]
forward_mode = sys.modules["wonderland.autodiff.forward"]
interop = sys.modules["wonderland.interop"]


class Tracked(np.ndarray):
    """An ndarray view that accepts weak references."""


def tracked(a: np.ndarray) -> Tracked:
    return np.asarray(a).view(Tracked)


def growth(step, short: int = 20, long: int = 120, warm: int = 3) -> int:
    """Bytes still traced after ``long`` calls of ``step`` minus after ``short`` calls."""
    for _ in range(warm):
        step()
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(short):
            step()
        gc.collect()
        first = tracemalloc.get_traced_memory()[0]
        for _ in range(long - short):
            step()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - first
    finally:
        tracemalloc.stop()


# keeping one 10 KB array per call over 100 calls would be 1 MB; the noise seen is < 40 KB
BOUND = 256 * 1024

RNG = np.random.default_rng(0)
X = RNG.standard_normal((200, 50))
Y = X @ RNG.standard_normal(50)
W0 = RNG.standard_normal(50)


def lsq(w):
    return ((wl.tensor(X) @ w - wl.tensor(Y)) ** 2).mean()


def affine(w):
    return wl.tensor(X) @ w


# ----------------------------------------------------------------------- reverse mode


def test_backward_frees_the_saved_arrays_while_the_loss_is_kept():
    n = 200_000
    x = wl.tensor(RNG.standard_normal(n), requires_grad=True)
    kept = []
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(5):
            kept.append((wl.exp(x) * wl.sin(x) + x * x).sum())
        gc.collect()
        before = tracemalloc.get_traced_memory()[0] - base
        for loss in kept:  # a practitioner's `losses.append(loss)` before backward()
            loss.backward()
        x.grad = None
        loss = None
        gc.collect()
        after = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    one = n * 8
    assert before > 5 * one  # the graphs held their saved arrays: the measure can see them
    assert after < one // 10, f"{after} bytes kept by 5 losses after backward()"


def test_an_intermediate_tensor_is_unreachable_after_backward():
    x = wl.tensor(RNG.standard_normal(1000), requires_grad=True)
    h = wl.exp(x)
    ref = weakref.ref(h)
    loss = (h * h).sum()
    del h
    gc.collect()
    loss.backward()
    gc.collect()
    assert ref() is None
    assert loss._node is not None  # the loss itself lives on, without its arrays


def test_a_graph_dropped_without_backward_is_freed():
    x = wl.tensor(RNG.standard_normal(1000), requires_grad=True)
    h = wl.sin(x) * 2.0
    ref = weakref.ref(h)
    loss = (h ** 2).sum()
    del h, loss
    gc.collect()
    assert ref() is None


def _global_state():
    return (dict(engine.retained), dict(forward_mode._batch_ndim), engine._tracer,
            engine._grad_enabled, engine._threads_off)


def _drop(exc_info) -> None:
    exc_info.value.__traceback__ = None


def test_a_shape_error_in_the_forward_pass_keeps_nothing():
    state = _global_state()
    a = tracked(RNG.standard_normal((300, 300)))
    ref = weakref.ref(a)
    x = wl.tensor(a, requires_grad=True)
    with pytest.raises(ValueError) as info:
        wl.exp(x) @ wl.tensor(np.ones(3))
    _drop(info)
    del a, x, info
    gc.collect()
    assert ref() is None
    assert _global_state() == state


def test_an_error_in_the_backward_pass_keeps_nothing():
    state = _global_state()
    x = wl.tensor(RNG.standard_normal(1000), requires_grad=True)
    h = x * 2.0
    h.retain_grad()
    loss = (wl.exp(h) * h).sum()
    ref_h = weakref.ref(h)
    with pytest.raises(ValueError) as info:
        loss.backward(gradient=np.ones(3))  # a bad cotangent
    _drop(info)
    h2 = x * 3.0
    loss2 = (h2 * h2).sum()
    h2.add_(1.0)  # a version error in the middle of the pass
    ref_h2 = weakref.ref(h2)
    with pytest.raises(RuntimeError) as info2:
        loss2.backward()
    _drop(info2)
    del h, loss, h2, loss2, info, info2
    gc.collect()
    assert ref_h() is None and ref_h2() is None
    assert _global_state() == state
    assert engine.retained == {}


def test_an_exception_raised_inside_a_transform_keeps_nothing():
    state = _global_state()
    refs = []

    def nan_check(w):
        h = wl.exp(w) * 2.0
        refs.append(weakref.ref(h))
        raise FloatingPointError("nan in the loss")

    for transform in (wl.grad(nan_check), wl.jacfwd(nan_check), wl.hessian(nan_check),
                      lambda w: wl.jvp(nan_check, (w,), (w,)), lambda w: wl.vjp(nan_check, w)):
        with pytest.raises(FloatingPointError) as info:
            transform(W0)
        _drop(info)
        del info
    with pytest.raises(FloatingPointError) as info:
        with wl.no_grad():
            nan_check(wl.tensor(W0))
    _drop(info)
    del info
    gc.collect()
    assert len(refs) == 6 and all(r() is None for r in refs)
    assert _global_state() == state


def test_threads_that_turn_recording_off_leave_no_state_behind():
    state = _global_state()

    def work():
        with wl.no_grad():
            (wl.tensor(X) * 2.0).sum()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _global_state() == state


def test_retain_grad_registry_empties_in_a_loop():
    w = wl.tensor(W0, requires_grad=True)

    def step():
        h = wl.tensor(X) @ w
        h.retain_grad()
        (h ** 2).sum().backward()
        w.grad = None

    assert growth(step) < BOUND
    gc.collect()
    assert engine.retained == {}


def test_grad_accumulates_in_place_without_growth():
    w = wl.tensor(W0, requires_grad=True)
    lsq(w).backward()
    grad_data = w.grad._data

    def step():
        lsq(w).backward()

    assert growth(step) < BOUND
    assert w.grad._data is grad_data


@pytest.mark.parametrize("retain_graph", [False, True])
def test_a_backward_loop_does_not_grow(retain_graph):
    w = wl.tensor(W0, requires_grad=True)

    def step():
        loss = lsq(w)
        loss.backward(retain_graph=retain_graph)
        if retain_graph:
            loss.backward()
        w.grad = None

    assert growth(step) < BOUND


# ----------------------------------------------------------------------- transforms


def _vjp_step():
    out, pullback = wl.vjp(affine, W0 + 0.0)
    pullback(np.ones(len(X)))


TRANSFORMS = {
    "grad": lambda: wl.grad(lsq)(W0 + 0.0),
    "value_and_grad": lambda: wl.value_and_grad(lsq)(W0 + 0.0),
    "jacrev": lambda: wl.jacrev(affine)(W0 + 0.0),
    "jacfwd": lambda: wl.jacfwd(affine)(W0 + 0.0),
    "jacobian": lambda: wl.jacobian(affine)(W0 + 0.0),
    "hessian": lambda: wl.hessian(lsq)(W0 + 0.0),
    "grad of grad": lambda: wl.grad(lambda w: wl.grad(lsq)(w).sum())(W0 + 0.0),
    "vjp": _vjp_step,
    "jvp": lambda: wl.jvp(affine, (W0 + 0.0,), (np.ones(50),)),
    "linearize": lambda: wl.linearize(lsq, W0 + 0.0)(W0 + 1.0),
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_repeated_transform_calls_do_not_grow(name):
    assert growth(TRANSFORMS[name]) < BOUND


def test_transform_results_carry_no_graph():
    value, g = wl.value_and_grad(lsq)(W0)
    out, pullback = wl.vjp(affine, W0)
    primal, tangent = wl.jvp(affine, (W0,), (np.ones(50),))
    for t in (value, g, out, primal, tangent, wl.hessian(lsq)(W0)):
        assert t._node is None and not t.requires_grad


def test_a_pullback_keeps_its_arrays_only_while_it_lives():
    n = 200_000
    xs = RNG.standard_normal(n)
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out, pullback = wl.vjp(lambda w: wl.exp(w) * wl.sin(w), xs)
        for _ in range(3):  # callable again: it keeps what it needs
            (g,) = pullback(np.ones(n))
            del g
        gc.collect()
        alive = tracemalloc.get_traced_memory()[0] - base
        ref = weakref.ref(pullback)
        del pullback
        gc.collect()
        dropped = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert ref() is None
    assert alive > 2 * n * 8  # the saved arrays, beside the output
    assert dropped < n * 8 + n  # only the output is left
    del out


# ----------------------------------------------------------------------- optimizers


@pytest.mark.parametrize("name", ["GD", "Momentum", "Nesterov", "Adam", "SGD"])
def test_optimizer_steps_do_not_accumulate_state(name):
    if not hasattr(wl.optim, name):
        pytest.skip(f"no wl.optim.{name}")
    w = wl.tensor(W0.copy(), requires_grad=True)
    opt = getattr(wl.optim, name)([w], lr=1e-4)

    def step():
        opt.zero_grad()
        lsq(w).backward()
        opt.step()

    assert growth(step) < BOUND
    assert all(len(s) <= 3 for s in opt.state)
    sizes = {k: getattr(v, "size", 1) for k, v in opt.state[0].items()}
    assert all(size <= w.size for size in sizes.values())


def test_a_schedule_keeps_no_history():
    w = wl.tensor(W0.copy(), requires_grad=True)
    opt = wl.optim.Adam([w], lr=schedules.cosine(1e-3, 1000))

    def step():
        opt.zero_grad()
        lsq(w).backward()
        opt.step()

    assert growth(step) < BOUND


@pytest.mark.parametrize("compile_step", [False, True])
def test_repeated_minimize_calls_do_not_grow(compile_step):
    def run():
        result = wl.optim.minimize(lsq, W0, method="adam", lr=1e-3, max_iter=10, tol_grad=0.0,
                                   compile=compile_step)
        assert result.trace.x.shape == (11, 50)  # the documented trace: n_iter + 1 rows

    assert growth(run, 5, 45) < BOUND


# ----------------------------------------------------------------------- wl.compile


def _programs() -> int:
    gc.collect()
    return sum(type(o) is compile_api.Program for o in gc.get_objects())


def test_compile_cache_is_bounded_and_evicted_programs_are_freed():
    before = _programs()
    f = wl.compile(lambda x: x * 2.0 + 1.0)
    for n in range(1, 100):
        f(np.ones(n))
    assert f.cache_info().currsize == 64
    assert _programs() - before <= 65
    for n in range(100, 200):
        f(np.ones(n))
    assert f.cache_info().currsize == 64
    assert _programs() - before <= 65
    f.cache_clear()
    assert _programs() == before


def test_a_dropped_compiled_function_frees_its_programs_and_constants():
    before = _programs()

    def make():
        w = wl.tensor(RNG.standard_normal((300, 300)))

        def h(x):
            return ((w * 2.0) @ x).sum()  # w * 2.0: a constant computed while tracing

        return w, h

    w, h = make()
    ref_w = weakref.ref(w)
    compiled = wl.compile(h)
    compiled(np.ones(300))
    compiled(np.ones(300))
    ref_c = weakref.ref(compiled)
    assert _programs() == before + 1
    del w, h, compiled
    gc.collect()
    assert ref_c() is None and ref_w() is None
    assert _programs() == before


def test_a_compiled_function_keeps_none_of_its_call_arguments():
    f = wl.compile(wl.value_and_grad(lambda w, A: ((A @ w) ** 2).mean()))
    refs = []
    for _ in range(3):  # the traced call, then the fast path
        a = tracked(RNG.standard_normal((300, 50)))
        refs.append(weakref.ref(a))
        t = wl.tensor(a)
        refs.append(weakref.ref(t))
        f(W0, t)
        del a, t
    gc.collect()
    assert all(r() is None for r in refs)


def test_repeated_compiled_calls_do_not_grow():
    f = wl.compile(wl.value_and_grad(lsq))
    g = wl.compile(lsq)
    assert growth(lambda: (f(W0), g(W0))) < BOUND


def test_a_trace_error_keeps_neither_the_tracer_nor_the_arguments():
    def branches(x):
        if x.sum() > 0:
            return x
        return -x

    def misshaped(x):
        return x @ wl.tensor(np.ones(3))

    refs = []
    for fn, error in ((branches, TraceError), (misshaped, ValueError)):
        a = tracked(RNG.standard_normal((100, 100)))
        refs.append(weakref.ref(a))
        with pytest.raises(error) as info:
            wl.compile(fn)(wl.tensor(a))
        _drop(info)
        del a, info
    gc.collect()
    assert all(r() is None for r in refs)
    assert engine._tracer is None
    assert compile_api._LOCK.acquire(blocking=False)
    compile_api._LOCK.release()


# ----------------------------------------------------------------------- wl.linear

ESTIMATORS = {
    "LinearRegression-normal": lambda: wl.linear.LinearRegression(solver="normal"),
    "LinearRegression-lstsq": lambda: wl.linear.LinearRegression(solver="lstsq"),
    "LinearRegression-gd": lambda: wl.linear.LinearRegression(solver="gd"),
    "Ridge": lambda: wl.linear.Ridge(alpha=1.0),
    "LogisticRegression": lambda: wl.linear.LogisticRegression(alpha=1.0),
    "LinearModel-huber": lambda: wl.linear.LinearModel(loss="huber", max_iter=30),
    "LinearModel-log-sgd": lambda: wl.linear.LinearModel(loss="log", batch_size=64,
                                                         optimizer="adam", max_iter=3,
                                                         random_state=0),
}


def _data(name: str, n: int = 400, d: int = 10):
    x = RNG.standard_normal((n, d))
    y = x @ RNG.standard_normal(d)
    if "Logistic" in name or "log" in name:
        y = (y > 0).astype(float)
    return x, y


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_a_fitted_estimator_keeps_no_reference_to_the_training_data(name):
    x, y = _data(name)
    xs, ys = tracked(x), tracked(y)
    rx, ry = weakref.ref(xs), weakref.ref(ys)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ESTIMATORS[name]().fit(xs, ys)
        model.predict(xs)
    del xs, ys
    gc.collect()
    assert rx() is None, [type(r).__name__ for r in gc.get_referrers(rx())]
    assert ry() is None
    assert model.coef_.shape[-1] == 10


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_repeated_fit_and_predict_do_not_grow(name):
    x, y = _data(name)

    def step():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ESTIMATORS[name]().fit(x, y).predict(x)

    assert growth(step, 3, 13, 1) < BOUND


@pytest.mark.parametrize("name", ["LinearRegression-normal", "Ridge", "LogisticRegression"])
def test_repeated_fit_and_predict_on_dask_do_not_grow(name):
    da = pytest.importorskip("dask.array")
    x, y = _data(name, n=2000, d=20)  # 320 KB: one kept per fit would be 5 MB
    dx, dy = da.from_array(x, chunks=(500, 20)), da.from_array(y, chunks=500)

    def step():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ESTIMATORS[name]().fit(dx, dy).predict(dx).compute()

    # dask's own bounded caches (tokenize, cached_cumsum) take a few KB a call
    assert growth(step, 3, 18, 2) < 4 * BOUND


def test_a_model_fitted_on_dask_keeps_no_reference_to_its_blocks():
    da = pytest.importorskip("dask.array")
    x, y = _data("Ridge", n=2000, d=20)
    xs = tracked(x)
    rx = weakref.ref(xs)
    dx = da.from_array(xs, chunks=(500, 20), asarray=False)
    model = wl.linear.Ridge(alpha=1.0).fit(dx, da.from_array(y, chunks=500))
    model.predict(dx).compute()
    del xs, dx
    gc.collect()
    assert rx() is None
    assert model.coef_.shape == (20,)


# ----------------------------------------------------------------------- engine caches


def test_the_cache_of_unit_arrays_is_bounded():
    for n in range(1, 200):  # a sum's seed spread over each input shape
        x = wl.tensor(np.ones(n), requires_grad=True)
        x.sum().backward()
        y = wl.tensor(np.ones((n, 3)), requires_grad=True)
        y.mean().backward()
    assert len(backend._ONES) <= 64
    assert len(backend.UNITS) <= 64
    assert backend.UNITS == {id(a) for a in backend._ONES.values()}  # no id of a freed array
    assert all(a.size <= max(backend._UNIT_LARGEST, 1) for a in backend._ONES.values())
    big = wl.tensor(np.ones(backend._UNIT_LARGEST * 2), requires_grad=True)
    big.sum().backward()
    assert all(a.size <= backend._UNIT_LARGEST for a in backend._ONES.values())


def test_the_numpy_protocol_signature_cache_stays_small():
    t = wl.tensor(X)
    for _ in range(3):
        np.sum(t, axis=0)
        np.mean(t)
        np.concatenate([t, t])
    size = interop._signature.cache_info().currsize
    for _ in range(50):
        np.sum(wl.tensor(RNG.standard_normal(5)), axis=0)
        np.mean(t)
        np.concatenate([t, t])
    assert interop._signature.cache_info().currsize == size
