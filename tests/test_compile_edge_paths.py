"""Edge paths of ``wl.compile`` that the rest of the suite does not reach: each test calls
the public API (``wl.compile`` of a function, ``wl.grad``, ...) and checks that the
compiled function gives the eager function's values (and gradients) to rounding, or that
it refuses with an error naming the offending thing. Each call is made twice, so that the
second one goes through the generated fast entry."""

from __future__ import annotations

import math
import operator

import numpy as np
import pytest

import wonderland as wl
from wonderland.compile import TraceError, codegen

A1 = np.array([1.0, -2.0, 3.0])
A2 = np.array([0.5, 6.0, -7.0])
X1, X2 = wl.tensor(A1), wl.tensor(A2)


def to_numpy(value):
    return value.numpy() if isinstance(value, wl.Tensor) else np.asarray(value)


def assert_same(got, want) -> None:
    """``got`` (compiled) is ``want`` (eager): the same structure, types of the non-array
    leaves, and arrays of the same shape and dtype and values to rounding."""
    if isinstance(want, (tuple, list, dict)):
        assert type(got) is type(want)
        assert len(got) == len(want)
        pairs = zip(got.values(), want.values()) if isinstance(want, dict) else zip(got, want)
        for g, w in pairs:
            assert_same(g, w)
        return
    if isinstance(want, wl.Tensor):
        assert isinstance(got, wl.Tensor), type(got)
        g, w = to_numpy(got), to_numpy(want)
        assert g.shape == w.shape and g.dtype == w.dtype, (g.dtype, g.shape, w.dtype, w.shape)
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12, equal_nan=True)
        return
    assert type(got) is type(want) and got == want, (got, want)


def check(f, *calls, **options):
    """Compile ``f`` and compare it with ``f`` on each tuple of arguments in ``calls``
    (each call twice: the first of a signature traces, the next runs the fast entry)."""
    compiled = wl.compile(f, **options)
    for args in calls:
        want = f(*args)
        for _ in range(2):
            assert_same(compiled(*args), want)
    return compiled


# ----------------------------------------------------------------------- api.py


def test_foreign_array_argument():
    """A raw array of another library (array_api_strict; not a Tensor) is an array leaf of
    its own kind: the program computes in that library (a binary operator written as the
    operator, the rest by each primitive's forward), and the fast entry hands such calls
    to the checked path, which finds the cached program."""
    xs = pytest.importorskip("array_api_strict")
    f = lambda x: wl.sin(x) * 2.0 + x  # noqa: E731
    a, b = xs.asarray(A1), xs.asarray(A2)
    compiled = check(f, (a,), (b,))
    assert compiled(a).device == wl.tensor(a).device != X1.device
    assert compiled.cache_info().misses == 1


def test_repr_names_the_function():
    """``repr`` of a compiled function names what it compiled."""
    def scale(x):
        return x * 2.0

    assert repr(wl.compile(scale)) == "<wl.compile of test_repr_names_the_function.<locals>" \
        ".scale>"


def test_python_number_outputs():
    """Outputs that are Python floats and NumPy float scalars (no Tensor) come back as they
    were returned, on the first call (traced) and through the fast entry."""
    def f(x):
        return x * 2.0, 3.5, np.float32(0.25)

    check(f, (X1,), (X2,))


def test_numpy_array_output_is_the_callers_own():
    """A NumPy array the function makes and returns is a new array at each call: writing
    into one call's result leaves the next call's alone (it was the very array seen while
    tracing, at every call)."""
    def f(x):
        return x * 2.0, np.ones(2)

    compiled = wl.compile(f)
    for _ in range(3):
        _, ones = compiled(X1)
        np.testing.assert_array_equal(ones, np.ones(2))
        ones += 1.0


def test_list_output():
    """A list of results comes back as a list, also from the fast entry."""
    check(lambda x: [x * 2.0, x + 1.0], (X1,), (X2,))


def test_unhashable_static_argument_after_a_hashable_one():
    """An argument that can be neither traced nor hashed is named in the error, even after
    other static arguments that hash fine."""
    compiled = wl.compile(lambda x, s, n: x * n)
    with pytest.raises(TypeError, match=r"the argument \{1\} \(set\).*cannot be hashed"):
        compiled(X1, {1}, 3)


@pytest.mark.parametrize("f", [operator.itemgetter(0), operator.methodcaller("sum", axis=0),
                               operator.attrgetter("T")], ids=["itemgetter", "methodcaller",
                                                               "attrgetter"])
def test_callable_without_a_signature(f):
    """A callable ``inspect.signature`` cannot read (operator.itemgetter and the like)
    compiles, its arguments named by position."""
    a, b = A1.reshape(3, 1) * np.ones(2), A2.reshape(3, 1) * np.ones(2)
    compiled = check(f, (wl.tensor(a),), (wl.tensor(b),))
    assert compiled.source(wl.tensor(a)).startswith("def f(x0):")


def test_too_many_positional_arguments():
    """Extra positional arguments (beyond every parameter) reach the function, which raises
    its own TypeError, as the eager call does."""
    def f(x, *, k=1.0):
        return x * k

    with pytest.raises(TypeError, match="takes 1 positional argument but 2 were given"):
        f(X1, X2)
    with pytest.raises(TypeError, match="takes 1 positional argument but 2 were given"):
        wl.compile(f)(X1, X2)


# ----------------------------------------------------------------------- codegen.py


def test_nan_and_inf_literals():
    """NaN and infinities written as Python numbers in the function are written into the
    generated code as math.nan and -math.inf."""
    check(lambda x: wl.where(x > 0.0, x * math.nan, -math.inf), (X1,), (X2,))


def test_complex_literal():
    """A complex Python number compared with a tensor is written as a complex literal (a
    complex factor becomes a constant array)."""
    a, b = wl.tensor([1j, 2.0 + 0j, 1j]), wl.tensor([2j, 1j, 3.0 + 0j])
    check(lambda z: wl.where(z == 1j, z * 2j, 0.0), (a,), (b,))


def test_comparison_with_a_list():
    """A comparison with a Python list: a list of Python numbers is written as a list
    literal, a list holding NumPy scalars as a named constant."""
    check(lambda x: wl.where(x > [0.0, 1.0, 2.0], x, 0.0), (X1,), (X2,))
    check(lambda x: wl.where(x > [np.float64(0.0), 1.0, 2.0], x, 0.0), (X1,), (X2,))


def test_zero_d_times_a_bool():
    """A 0-d float64 value times a Python bool is computed in NumPy (not as a Python
    float), with eager's float64 result."""
    check(lambda s: wl.sin(s) * True, (wl.tensor(0.5),), (wl.tensor(2.0),))


def test_powers_of_a_python_float(monkeypatch):
    """Whole and fractional powers of a 0-d float64 value, written as Python floats
    (``x ** 3``, ``math.pow``) where the machine's pow gives NumPy's values (asked at
    import; forced here), and NumPy's line where math.pow raises (a negative base)."""
    unary = codegen._float_forms()[0]
    monkeypatch.setattr(codegen, "_float_forms", lambda: (unary, True))
    f = lambda s: s ** 3 + s ** 2.5 * 0.5 + s ** -2 + s ** 4.0  # noqa: E731
    g = lambda s: s ** 0.3  # noqa: E731
    with np.errstate(all="ignore"):
        check(f, (wl.tensor(1.5),), (wl.tensor(0.25),), (wl.tensor(0.0),), (wl.tensor(1e200),))
        check(g, (wl.tensor(2.0),), (wl.tensor(-8.0),))


def test_advanced_index_with_numpy_integer_slice():
    """The gradient of ``X[np.int64(0):, [0, 2]]`` (a slice of NumPy integers beside an
    index array) scatters with that index written out."""
    f = lambda m: (m[np.int64(0):, np.array([0, 2])] ** 2).sum()  # noqa: E731
    a, b = wl.tensor(A1 * np.ones((2, 3))), wl.tensor(A2 * np.ones((2, 3)))
    check(f, (a,), (b,))
    check(wl.grad(f), (a,), (b,))


def test_foreign_cast():
    """A cast of an array_api_strict value (its dtype no NumPy dtype, which keys no common
    subexpression) compiles, twice in one function."""
    xs = pytest.importorskip("array_api_strict")
    f = lambda x: x.astype("float32") * 2.0 + x.astype("float32")  # noqa: E731
    check(f, (wl.tensor(xs.asarray(A1)),), (wl.tensor(xs.asarray(A2)),))


def test_foreign_output_that_is_an_input():
    """An output that is an input of another library (array_api_strict) is handed over as
    a copy made in that library, not the caller's own array."""
    xs = pytest.importorskip("array_api_strict")
    a, b = wl.tensor(xs.asarray(A1)), wl.tensor(xs.asarray(A2))
    compiled = check(lambda x: (x, x * 2.0), (a,), (b,))
    assert "return copy_array(x), " in compiled.source(a)


# ----------------------------------------------------------------------- passes.py


def test_sum_with_zeros():
    """``x + zeros`` and ``zeros + x`` (zeros made inside the function) are x itself."""
    check(lambda x: x + wl.zeros(3), (X1,), (X2,))
    check(lambda x: wl.zeros(3) + x * 2.0, (X1,), (X2,))


def test_matrix_times_diagonal():
    """``B @ (I * d)``, a matrix times a diagonal matrix made with an identity, is the
    broadcast product ``B * d``: same values as the matrix product."""
    B = wl.tensor([[1.0, 2.0, 0.5], [3.0, 4.0, 1.5]])
    check(lambda x: B @ (wl.eye(3) * x), (X1,), (X2,))
    check(wl.grad(lambda x: (B @ (wl.eye(3) * x)).sum()), (X1,), (X2,))


W_FINITE = np.array([[1.0, 2.0, 0.5], [3.0, 4.0, 1.5]])
W_INF = np.array([[np.inf, 2.0, 0.5], [3.0, 4.0, 1.5]])


def test_jacfwd_through_a_matrix_with_inf_traced_finite():
    """The compiled Jacobian of ``W @ sin(x)`` gives eager's values (NaNs included) for a W
    with an inf, after a trace on a finite W: the rewrite of ``(I * d) @ B`` as a scaling
    of B's rows dropped the product's ``0 * inf = nan`` (row 0 was [inf, 1.92, 0.38] where
    eager gives [inf, nan, nan])."""
    jacobian = wl.jacfwd(lambda w, x: w @ wl.sin(x), argnums=1)
    with np.errstate(invalid="ignore"):
        check(jacobian, (W_FINITE, X1), (W_INF, X2))


def test_jacfwd_through_a_matrix_with_inf_traced_so():
    """The compiled Jacobian of ``W @ sin(x)``, traced on a W with an inf, gives eager's
    values (the trace's own check of the generated code raised an internal error)."""
    jacobian = wl.jacfwd(lambda w, x: w @ wl.sin(x), argnums=1)
    with np.errstate(invalid="ignore"):
        check(jacobian, (W_INF, X1))


# ----------------------------------------------------------------------- trace.py


def test_source_inside_a_compiled_function_is_refused():
    """``source()`` of a compiled function, called while another one traces, is an error
    (one trace at a time), and the engine is left as it was."""
    inner = wl.compile(lambda x: x + 1.0)

    def outer(x):
        inner.source(x)
        return x * 2.0

    with pytest.raises(RuntimeError, match=r"(?s)a trace started at .*test_compile_edge_paths\.py:"
                       r"\d+.*while another function is being traced"):
        wl.compile(outer)(X1)
    check(lambda x: inner(x) * 2.0, (X1,), (X2,))


def test_tensor_constructor_on_a_traced_value():
    """``wl.Tensor(x)`` of a traced tensor is traced: the same dtype shares its Value, a
    new dtype is a cast."""
    check(lambda x: wl.Tensor(x) * 2.0, (X1,), (X2,))
    check(lambda x: wl.Tensor(x, dtype="float32") * 2.0, (X1,), (X2,))


def test_tensor_copy_of_a_traced_value():
    """``wl.tensor(x)`` (a copy) of a traced tensor is traced, in its dtype or another;
    a copy of a tensor the function closes over is a constant."""
    w = wl.tensor([2.0, 3.0, 4.0])
    check(lambda x: wl.tensor(x) * 2.0 + wl.tensor(w), (X1,), (X2,))
    check(lambda x: wl.tensor(x, dtype="float32") * 2.0, (X1,), (X2,))


def test_data_of_a_traced_value():
    """``x.data`` of a traced input is traced (its values change with the input) and cut
    from the gradient, as in eager: d/dx sum(x * x.data) = x.data."""
    f = lambda x: (x * x.data).sum()  # noqa: E731
    check(f, (X1,), (X2,))
    check(wl.grad(f), (X1,), (X2,))


def test_comparison_with_a_numpy_array():
    """A comparison with a raw NumPy array reads it as a constant; a writable array that the
    function closes over is read by reference, so an in-place update between calls is
    seen."""
    threshold = np.zeros(3)
    f = lambda x: wl.where(x > threshold, x, 0.0)  # noqa: E731
    compiled = check(f, (X1,), (X2,))
    threshold[:] = 2.0
    assert_same(compiled(X1), f(X1))


def test_in_place_write_into_a_foreign_value():
    """In-place updates of a traced array_api_strict value (no NumPy memory to protect)."""
    xs = pytest.importorskip("array_api_strict")

    def f(x):
        y = x * 1.0
        y += 1.0
        y *= x
        return y

    check(f, (wl.tensor(xs.asarray(A1)),), (wl.tensor(xs.asarray(A2)),))


def test_in_place_write_of_a_traced_value_into_a_foreign_view():
    """Writing a traced value into a view of an array_api_strict tensor made inside the
    function gives eager's result, or a TraceError that names the line (it was the
    engine's 'a view of a tensor that carries forward-mode tangents', with no line)."""
    xs = pytest.importorskip("array_api_strict")

    def f(x):
        buffer = wl.tensor(xs.zeros(3, dtype=xs.float64))
        view = buffer[:2]
        view += x[:2]
        return x + buffer

    x = wl.tensor(xs.asarray(A1))
    try:
        got = wl.compile(f)(x)
    except TraceError as error:
        assert "test_compile_edge_paths.py:" in str(error)
    else:
        assert_same(got, f(x))


def test_view_used_after_a_write_into_its_tensor():
    """A view taken before an in-place write into its (traced) tensor and read after it is
    refused, naming the line that reads it."""
    def f(x):
        y = x * 1.0
        view = y[:2]
        y += 1.0
        return view * 2.0  # <read>

    with pytest.raises(TraceError, match=r"(?s)a view taken before an in-place write.*"
                       r"return view \* 2.0  # <read>"):
        wl.compile(f)(X1)


def test_fill_with_a_traced_value():
    """``y.fill_(x[0])`` fills with the value of this call's x, and its gradient reaches x
    (the tracer took every fill for one with a constant and kept the traced value: [1, 1,
    1] for x = [0.5, ...]); a fill with a number still cuts the values from the inputs."""
    def f(x):
        y = wl.zeros(3)
        y.fill_(x[0])
        return y * 1.0

    def g(x):
        y = x * 2.0
        y.fill_(4.0)
        return y + x

    check(f, (X1,), (X2,))
    check(g, (X1,), (X2,))
    check(wl.grad(lambda x: (f(x) * x).sum()), (X1,), (X2,))


def test_source_notes_a_closed_over_list():
    """A list of numbers the function closes over is named as a list in the program's
    notes (it read 'c0: None scalar')."""
    bounds = [np.float64(0.0), 1.0, 2.0]
    compiled = check(lambda x: (x > bounds) * 1.0, (X1,), (X2,))
    assert "# c0: a list" in compiled.source(X1)
