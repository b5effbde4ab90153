"""What users see printed and displayed: reprs and ``format()`` of tensors (against
PyTorch and NumPy), of graph nodes, optimizers, schedules, datasets, estimators, compiled
functions and ``minimize``'s results; progress bars and quiet runs; where warnings point;
and the ``wonderland`` command's help, tables, one-line errors, closed pipes and
non-UTF-8 terminals.

Tests marked ``xfail(strict=True)`` state the correct behaviour of a bug that is still
there (the reason says which)."""

from __future__ import annotations

import ast
import csv
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import wonderland as wl
from wonderland import data, linear

torch = pytest.importorskip("torch")

HERE = os.path.abspath(__file__)


# ----------------------------------------------------------------------- helpers


def _cli(*args: str, cwd: Path | None = None, env: dict | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m wonderland *args`` with its output captured as text."""
    full = {k: v for k, v in os.environ.items() if k != "WONDERLAND_DEBUG"}
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "wonderland", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=full,
                          errors="replace")


def _one_error_line(proc: subprocess.CompletedProcess, prefix: str) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(prefix), lines[0]
    assert "usage:" not in proc.stderr
    return lines[0]


def _write_csv(path: Path, header: list[str], rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _regression_csv(path: Path, names: list[str], n: int = 40) -> Path:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, len(names) - 1))
    y = X @ np.arange(1.0, len(names)) + 0.1 * rng.normal(size=n)
    return _write_csv(path, names, np.c_[X, y].tolist())


def _coefficient_rows(report: str) -> list[str]:
    """The coefficient lines of ``wonderland fit``'s report (between the title line and
    the metrics)."""
    lines = report.splitlines()
    return [line for line in lines[1:] if line.startswith("  ")]


def _value_column(line: str) -> int:
    """Where the value field of a ``name   value`` row starts (its sign column)."""
    token = line.split()[-1]
    start = line.rindex(token)
    return start if token.startswith("-") else start - 1


def _warnings_of(fn) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return list(caught)


# ================================================================ tensor repr / str


@pytest.mark.parametrize("dtype", ["float16", "float32", "int8", "int16", "int32", "uint8",
                                   "uint16", "uint32", "uint64", "complex64"])
def test_repr_names_a_dtype_other_than_the_defaults(dtype):
    t = wl.tensor(np.array([1, 2], dtype=dtype))
    assert f"dtype={dtype}" in repr(t)
    assert repr(t).startswith("tensor(") and repr(t).endswith(")")


@pytest.mark.parametrize("dtype", ["float64", "int64", "bool", "complex128"])
def test_repr_omits_the_default_dtypes(dtype):
    t = wl.tensor(np.array([1, 0], dtype=dtype))
    assert "dtype" not in repr(t)


@pytest.mark.parametrize("value, text", [(3.5, "tensor(3.5)"), (3, "tensor(3)"),
                                         (True, "tensor(True)"), (-0.0, "tensor(-0.)")])
def test_zero_d_repr_is_pytorchs_frame(value, text):
    assert repr(wl.tensor(value)) == text
    assert str(wl.tensor(value)) == text


def test_bool_and_complex_vectors_print_as_pytorch():
    assert repr(wl.tensor([True, False])) == repr(torch.tensor([True, False]))
    assert repr(wl.tensor([1 + 2j, 3j])) == "tensor([1.+2.j, 0.+3.j])"


@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3), (2, 0, 2)])
def test_empty_tensors_print_their_shape_and_dtype(shape):
    r = repr(wl.zeros(*shape))
    assert r.startswith("tensor([]")
    assert "dtype=float64" in r  # (PyTorch shows dtype=torch.float64 too)
    if len(shape) > 1:  # PyTorch: size=(2, 0); NumPy: shape=(2, 0)
        assert str(shape) in r


def test_huge_tensor_is_summarised_not_printed_whole():
    r = repr(wl.ones(1000, 1000))
    assert "..." in r
    assert len(r) < 2000
    assert len(repr(wl.arange(1_000_000.0))) < 500


def test_nan_inf_and_negative_zero_print():
    r = repr(wl.tensor([np.nan, np.inf, -np.inf, -0.0]))
    for word in ("nan", "inf", "-inf", "-0."):
        assert word in r


def test_large_and_small_magnitudes_use_exponent_form():
    r = repr(wl.tensor([1e20, 1e-20]))
    assert "e+20" in r and "e-20" in r


def test_leaf_that_requires_grad_says_so():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x).endswith(", requires_grad=True)")
    assert "grad_fn" not in repr(x)
    x32 = wl.tensor([1.0, 2.0], dtype=wl.float32, requires_grad=True)
    assert repr(x32).endswith("dtype=float32, requires_grad=True)")  # PyTorch's order


def test_result_shows_its_grad_fn_and_detach_shows_neither():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    r = repr(y)
    assert re.search(r"grad_fn=<[^>]*mul[^>]*>\)$", r, re.IGNORECASE), r
    assert "requires_grad" not in r
    assert "grad_fn" not in repr(y.detach()) and "requires_grad" not in repr(y.detach())
    with wl.no_grad():
        assert "grad_fn" not in repr(x * 2)


def test_grad_fn_repr_names_the_operation():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    assert "mul" in repr((x * 3).grad_fn).lower()
    assert "sum" in repr(x.sum().grad_fn).lower()
    assert x.grad_fn is None


def test_two_d_rows_line_up_under_the_first_bracket():
    lines = repr(wl.tensor([[1.0, -2.0], [3.0, 4.0]])).splitlines()
    assert lines[0].startswith("tensor([[")
    assert lines[1].startswith(" " * len("tensor([") + "[")
    # as PyTorch lays it out
    torch_lines = repr(torch.tensor([[1.0, -2.0], [3.0, 4.0]])).splitlines()
    assert len(lines[1]) - len(lines[1].lstrip()) == \
        len(torch_lines[1]) - len(torch_lines[1].lstrip())


def test_three_d_blocks_line_up():
    lines = repr(wl.arange(24.0).reshape(2, 3, 4)).splitlines()
    nonblank = [line for line in lines[1:] if line.strip()]
    assert all(line.startswith(" " * len("tensor(")) for line in nonblank), lines


def test_tensors_inside_containers_print_their_repr():
    a, b = wl.tensor(1.0), wl.tensor([1, 2])
    assert str([a, b]) == "[tensor(1.), tensor([1, 2])]"
    assert str({"w": a}) == "{'w': tensor(1.)}"
    assert str((a,)) == "(tensor(1.),)"


def test_read_only_and_non_contiguous_data_print_their_values():
    a = np.arange(12.0).reshape(3, 4)
    a.flags.writeable = False
    assert repr(wl.from_numpy(a)) == repr(torch.from_numpy(a.copy())).replace(
        ", dtype=torch.float64", "")
    view = np.arange(12.0).reshape(3, 4)[:, ::2].T
    t = wl.from_numpy(view)
    assert "[ 0.,  4.,  8.]" in repr(t) and "[ 2.,  6., 10.]" in repr(t)


def test_tensor_of_other_libraries_prints_like_numpy():
    t = wl.tensor(torch.tensor([1.0, 2.0]))
    assert repr(t) == "tensor([1., 2.], dtype=float32)"


def test_printing_inside_a_transform_does_not_fail(capsys):
    def f(x):
        print(x, x * 2)
        return (x ** 2).sum()

    wl.grad(f)(np.ones(2))
    wl.jvp(f, (np.ones(2),), (np.ones(2),))
    out = capsys.readouterr().out
    assert out.count("tensor([1., 1.]") == 2


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=1, max_side=20),
                  elements=st.floats(-1e6, 1e6, allow_nan=False, width=64)))
def test_printed_numbers_are_the_tensors_values(a):
    r = repr(wl.tensor(a))
    body = r[len("tensor("):r.rindex("]") + 1]
    printed = np.array(ast.literal_eval(body.replace("\n", " ")), dtype=np.float64)
    assert printed.shape == a.shape
    scale = max(1.0, float(np.abs(a).max(initial=0.0)))
    np.testing.assert_allclose(printed, a, rtol=1e-7, atol=1e-8 * scale)


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(st.sampled_from([np.float16, np.float32, np.float64, np.int32, np.uint8,
                                   np.bool_, np.complex128]),
                  hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)))
def test_repr_and_str_never_fail_and_agree(a):
    t = wl.tensor(a)
    assert repr(t) == str(t)
    assert repr(t).startswith("tensor(") and repr(t).endswith(")")
    assert format(t, "") == (format(t.item(), "") if t.ndim == 0 else repr(t))


# ================================================================ format() and %


@pytest.mark.parametrize("spec", [".3f", "", ">10", ".2e", "+.1f", "g", ".0%"])
@pytest.mark.parametrize("value", [3.14159, -0.0, 1e-7, 12345.678])
def test_format_of_a_zero_d_tensor_matches_pytorch(value, spec):
    assert format(wl.tensor(value), spec) == format(
        torch.tensor(value, dtype=torch.float64), spec)


def test_format_of_a_zero_d_float32_matches_pytorch():
    assert f"{wl.tensor(0.1, dtype=wl.float32)}" == f"{torch.tensor(0.1)}"
    assert f"{wl.tensor(0.1, dtype=wl.float32):.4f}" == "0.1000"


def test_format_of_a_zero_d_tensor_that_requires_grad():
    x = wl.tensor(2.0, requires_grad=True)
    tx = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    assert f"{x}" == f"{tx}" and f"{x:.3f}" == f"{tx:.3f}"
    assert f"{x * 2:.1f}" == "4.0"


@pytest.mark.parametrize("value, spec, text", [(3, ">5", "    3"), (True, "", "True"),
                                               (255, "x", "ff"), (1234567, ",", "1,234,567"),
                                               (1 + 2j, ".2f", "1.00+2.00j")])
def test_format_of_other_zero_d_dtypes(value, spec, text):
    assert format(wl.tensor(value), spec) == text


def test_format_of_a_vector_without_spec_is_its_repr():
    t = wl.tensor([1.5, 2.5])
    assert f"{t}" == repr(t)


def test_format_spec_on_a_vector_is_a_type_error_naming_the_shape():
    with pytest.raises(TypeError, match=r"\(2,\)"):
        format(wl.tensor([1.5, 2.5]), ".2f")


def test_format_spec_on_one_element_tensor_formats_its_number():  # README: (one element)
    assert format(wl.tensor([1.5]), ".2f") == "1.50"
    assert format(wl.tensor([[2.0]]), ".1f") == "2.0"


def test_percent_formatting():
    assert "%.2f" % wl.tensor(3.14159) == "3.14"  # noqa: UP031 - the %-form on purpose
    assert "%d" % wl.tensor(3) == "3"  # noqa: UP031
    assert "%s" % wl.tensor(2.0) == "tensor(2.)"  # noqa: UP031
    assert "%s" % (wl.tensor([1.0, 2.0]),) == "tensor([1., 2.])"  # noqa: UP031


# ================================================================ other reprs


def test_optimizer_repr_shows_its_settings():
    w = wl.tensor([1.0, 2.0], requires_grad=True)
    r = repr(wl.optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True))
    assert r.startswith("SGD(") and "lr=0.1" in r and "momentum=0.9" in r
    assert "nesterov=True" in r
    assert repr(wl.optim.Momentum([w], lr=0.1, momentum=0.5)) == \
        "Momentum(1 parameter(s), lr=0.1, momentum=0.5)"
    assert "\n" not in repr(wl.optim.Adam([w]))


def test_optimizer_repr_shows_a_schedule():  # README: `repr(opt)` shows a schedule
    w = wl.tensor([1.0, 2.0], requires_grad=True)
    sched = wl.optim.schedules.cosine(0.1, 100)
    r = repr(wl.optim.Adam([w], lr=sched))
    assert f"lr={sched!r}" in r and "cosine(0.1" in r


def test_optimizer_repr_follows_a_changed_lr():
    w = wl.tensor([1.0, 2.0], requires_grad=True)
    opt = wl.optim.GD([w], lr=0.1)
    opt.lr = 0.5
    assert "lr=0.5" in repr(opt)
    opt.param_groups[0]["lr"] = 0.25
    assert "lr=0.25" in repr(opt)
    assert "'lr': 0.25" in repr(opt.param_groups)


def test_optimizer_repr_of_a_tensor_lr_is_a_number():
    w = wl.tensor([1.0, 2.0], requires_grad=True)
    r = repr(wl.optim.Adam([w], lr=wl.tensor(0.1)))
    assert "lr=0.1," in r and "tensor" not in r


@pytest.mark.parametrize("make, text", [
    (lambda s: s.constant(0.1), "constant(0.1)"),
    (lambda s: s.step_decay(0.1, 10, 0.5), "step_decay(0.1, step_size=10, gamma=0.5)"),
    (lambda s: s.exponential(0.1, 0.99), "exponential(0.1, gamma=0.99)"),
    (lambda s: s.cosine(0.1, 100), "cosine(0.1, t_max=100, lr_min=0.0)"),
])
def test_schedule_repr_reads_as_its_call(make, text):
    sched = make(wl.optim.schedules)
    assert repr(sched) == str(sched) == text


@pytest.mark.parametrize("make, text", [
    (lambda: linear.LinearRegression(), "LinearRegression()"),
    (lambda: linear.Ridge(), "Ridge()"),
    (lambda: linear.Ridge(alpha=2.0), "Ridge(alpha=2.0)"),
    (lambda: linear.Ridge(alpha=1.0), "Ridge()"),
    (lambda: linear.Ridge(alpha=1), "Ridge(alpha=1)"),  # scikit-learn compares reprs
    (lambda: linear.LogisticRegression(alpha=1e-2), "LogisticRegression(alpha=0.01)"),
    (lambda: linear.LinearModel(loss="huber", optimizer="adam", batch_size=32),
     "LinearModel(batch_size=32, loss='huber', optimizer='adam')"),
])
def test_estimator_repr_shows_only_non_default_params(make, text):
    assert repr(make()) == text


def test_estimator_html_repr_does_not_fail():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    ds = data.load_diabetes()
    fitted = linear.Ridge(alpha=0.5).fit(ds.X.numpy(), ds.y.numpy())
    for model in (linear.LinearRegression(), fitted,
                  linear.LinearModel(lr=wl.optim.schedules.cosine(0.1, 100)),
                  linear.LinearModel(random_state=np.random.default_rng(0)),
                  make_pipeline(StandardScaler(), linear.LogisticRegression())):
        html = model._repr_html_()
        assert "<" in html and type(model).__name__ in html


def test_saved_and_loaded_estimator_prints_the_same(tmp_path):
    ds = data.load_diabetes()
    model = linear.Ridge(alpha=0.5).fit(ds.X.numpy(), ds.y.numpy())
    model.save(tmp_path / "m.json")
    assert repr(linear.load(tmp_path / "m.json")) == repr(model)


def test_dataset_repr():
    r = repr(data.load_diabetes())
    assert r.startswith("Dataset(442 rows, 10 features [age, sex, bmi")
    assert "..." in r and "'progression'" in r and "\n" not in r
    one = data.Dataset(np.ones((1, 1)), np.ones(1))
    assert "1 row," in repr(one) and "1 feature " in repr(one)


def test_shift_report_table_is_aligned():
    ds = data.load_breast_cancer()
    train, test = ds.split(0.25, seed=0)
    text = str(data.shift_report(train, test))
    assert repr(data.shift_report(train, test)) == text
    lines = text.splitlines()
    header = lines[1]
    assert header.split()[-4:] == ["statistic", "pvalue", "adjusted", "shifted"]
    rows = lines[2:]
    assert len(rows) > 5
    end_of_statistic = header.index("statistic") + len("statistic")
    end_of_pvalue = header.index("pvalue") + len("pvalue")
    for row in rows:
        if row.startswith("..."):
            continue
        assert row[end_of_statistic - 1] != " " and row[end_of_statistic] == " ", row
        assert row[end_of_pvalue - 1] != " ", row


def test_compiled_function_repr_names_the_function():
    def loss(x):
        return (x ** 2).sum()

    compiled = wl.compile(loss)
    assert "loss" in repr(compiled) and "\n" not in repr(compiled)
    compiled(np.ones(3))
    assert str(compiled.cache_info()) == "CacheInfo(hits=0, misses=1, maxsize=64, currsize=1)"


def test_linearization_repr():
    model = wl.linearize(lambda x: x ** 2, 0.5)
    assert repr(model) == "Linearization(value=tensor(0.25), at=tensor(0.5))"


def test_minimize_result_repr_of_a_scalar():
    f = lambda x: 2 * x**4 + x**3 - 3 * x**2  # noqa: E731
    res = wl.optim.minimize(f, 2.0, method="gd", lr=0.01, tol_grad=1e-6)
    r = repr(res)
    assert r.startswith("MinimizeResult(x=0.69859") and "reason='tol_grad'" in r
    assert "n_iter=142" in r and "\n" not in r


def test_minimize_result_repr_shortens_a_long_vector_to_one_line():
    res = wl.optim.minimize(lambda x: (x ** 2).sum(), np.ones(100), lr=0.1, max_iter=3)
    r = repr(res)
    assert "\n" not in r and "..." in r and len(r) < 300


# Fixed; before the fix: BUG: MinimizeResult repr of a long 2-D x spans several lines (README:
# shortened to one line)
def test_minimize_result_repr_of_a_long_matrix_is_one_line():
    res = wl.optim.minimize(lambda x: (x ** 2).sum(), np.ones((4, 5)), lr=0.1, max_iter=3)
    assert "\n" not in repr(res), repr(res)


def test_batched_minimize_result_repr_counts_reasons():
    res = wl.optim.minimize(lambda x: (x ** 2).sum(-1), np.ones((5, 2)), lr=0.1,
                            max_iter=3, batched=True)
    assert repr(res) == "MinimizeResult(batched n=5, method='gd', reasons {max_iter: 5})"


def test_minimize_result_scipy_names_point_to_ours():
    res = wl.optim.minimize(lambda x: x ** 2, 1.0, lr=0.1, max_iter=3)
    with pytest.raises(AttributeError, match=r"\.converged"):
        _ = res.success
    with pytest.raises(AttributeError, match=r"\.n_iter"):
        _ = res.nit


def test_ipython_shows_plain_text_for_everything():
    formatters = pytest.importorskip("IPython.core.formatters")
    fmt = formatters.DisplayFormatter()
    ds = data.load_diabetes()
    for obj, start in [
        (wl.tensor([1.0, 2.0], requires_grad=True), "tensor("),
        (ds, "Dataset("),
        (linear.Ridge(), "Ridge("),
        (wl.optim.minimize(lambda x: x ** 2, 1.0, max_iter=2), "MinimizeResult("),
        (wl.compile(lambda x: x), "<wl.compile"),
        (data.shift_report(ds.X[:200], ds.X[200:]), "ShiftReport:"),
    ]:
        shown, _ = fmt.format(obj)
        assert shown["text/plain"].startswith(start), shown


# ================================================================ quiet runs, progress


def test_the_library_prints_nothing(capsys):
    ds = data.load_diabetes()
    X, y = ds.X.numpy(), ds.y.numpy()
    linear.LinearRegression().fit(X, y).predict(X)
    linear.LogisticRegression(alpha=1e-2).fit(X, (y > 150).astype(float))
    wl.optim.minimize(lambda x: (x ** 2).sum(), np.ones(3), lr=0.1, max_iter=50)
    wl.compile(wl.grad(lambda x: (x ** 2).sum()))(np.ones(3))
    wl.jacfwd(lambda x: x ** 2)(np.ones(3))
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_minimize_without_progress_is_silent(capsys):
    wl.optim.minimize(lambda x: (x ** 2).sum(-1), np.ones((4, 2)), lr=0.1, max_iter=200,
                      batched=True, progress=False)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


# Fixed; before the fix: BUG: minimize(progress=True) writes tqdm's carriage-return frames into a
# stderr that is not a terminal (a log, a pipe)
def test_minimize_progress_writes_no_carriage_returns_when_not_a_terminal(capsys):
    wl.optim.minimize(lambda x: (x ** 2).sum(), np.ones(2), lr=0.1, max_iter=300,
                      progress=True)
    out = capsys.readouterr()
    assert out.out == ""
    assert "\r" not in out.err and "\x1b" not in out.err, repr(out.err)


# ================================================================ warnings


def test_non_leaf_grad_warning_points_at_the_users_line():
    x = wl.tensor([1.0], requires_grad=True)
    y = x * 2
    caught = _warnings_of(lambda: y.grad)
    assert len(caught) == 1
    assert caught[0].filename == HERE
    assert "retain_grad()" in str(caught[0].message)
    assert "\n" not in str(caught[0].message)


def test_non_leaf_grad_warning_is_shown_once_per_line_by_default():
    x = wl.tensor([1.0], requires_grad=True)
    y = x * 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("default")
        for _ in range(3):
            _ = y.grad
    assert len(caught) == 1


def test_asarray_under_a_transform_warning_points_at_the_users_line():
    def f(v):
        return (wl.tensor(np.asarray(v)) * v).sum()

    caught = _warnings_of(lambda: wl.grad(f)(np.ones(2)))
    assert caught and all(w.filename == HERE for w in caught)


@pytest.fixture(scope="module")
def twins():
    ds = data.make_collinear(n=100, c=3, seed=0)
    return ds.X.numpy(), ds.y.numpy()


@pytest.mark.parametrize("make", [
    lambda: linear.LinearRegression(solver="normal"),
    lambda: linear.LinearRegression(solver="lstsq"),
    lambda: linear.LinearRegression(solver="gd"),
    lambda: linear.LogisticRegression(solver="newton"),
    lambda: linear.LogisticRegression(solver="lbfgs"),
])
def test_collinearity_warning_points_at_the_fit_line(twins, make):
    X, y = twins
    if isinstance(make(), linear.LogisticRegression):
        y = (y > np.median(y)).astype(float)
    caught = _warnings_of(lambda: make().fit(X, y))
    collinear = [w for w in caught if w.category is linear.CollinearityWarning]
    assert collinear and all(w.filename == HERE for w in caught), \
        [(w.filename, str(w.message)[:50]) for w in caught]
    assert "x0, x1" in str(collinear[0].message)


@pytest.mark.parametrize("make", [
    lambda: linear.LinearRegression(solver="gd", max_iter=2),
    lambda: linear.LinearModel(max_iter=2),
    lambda: linear.LinearModel(max_iter=2, batch_size=50),
    lambda: linear.LogisticRegression(solver="newton", max_iter=1),
    lambda: linear.LogisticRegression(solver="gd", max_iter=2),
])
def test_convergence_warning_points_at_the_fit_line(make):
    ds = data.load_diabetes()
    X, y = ds.X.numpy(), ds.y.numpy()
    if isinstance(make(), linear.LogisticRegression):
        y = (y > 150).astype(float)
    caught = _warnings_of(lambda: make().fit(X, y))
    assert caught and all(w.filename == HERE for w in caught), \
        [(w.filename, str(w.message)[:50]) for w in caught]
    assert "max_iter" in str(caught[0].message)


def test_empty_dataset_batches_warning_points_at_the_loop():
    empty = data.Dataset(np.zeros((0, 2)), np.zeros(0))
    caught = _warnings_of(lambda: list(empty.batches(2)))
    assert len(caught) == 1 and caught[0].filename == HERE


@pytest.mark.xfail(strict=True, reason="BUG: NumPy's floating-point RuntimeWarnings from "
                                       "tensor operations point at wonderland's source "
                                       "(tensor.py), not the user's line")
@pytest.mark.parametrize("op", [lambda: wl.log(wl.tensor([0.0])),
                                lambda: wl.tensor([1.0]) / 0,
                                lambda: wl.exp(wl.tensor([1000.0]))],
                         ids=["log0", "div0", "exp-overflow"])
def test_floating_point_warnings_point_at_the_users_line(op):
    caught = _warnings_of(op)
    # PyTorch says nothing; NumPy names the user's line: either is fine
    assert all(w.filename == HERE for w in caught), [(w.filename, w.lineno) for w in caught]


# Fixed; before the fix: BUG: check_grad's AssertionError prints the values as np.float64(4.0)
# reprs, not plain numbers
def test_check_grad_failure_message_shows_plain_numbers():
    def wrong(x):
        return (x ** 2).sum() + (x.detach() ** 2).sum()

    with pytest.raises(AssertionError) as info:
        wl.check_grad(wrong, np.array([1.0, 2.0]))
    message = str(info.value)
    assert "analytic" in message and "numeric" in message
    assert "np.float64" not in message, message


def test_check_grad_failure_message_names_function_and_index():
    def wrong(x):
        return (x ** 2).sum() + (x.detach() ** 2).sum()

    with pytest.raises(AssertionError, match=r"check_grad of wrong.*index \(1,\)"):
        wl.check_grad(wrong, np.array([1.0, 2.0]))


# ================================================================ the command line


def test_version():
    proc = _cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"wonderland {wl.__version__}"


def test_help_lists_every_command():
    proc = _cli("--help")
    assert proc.returncode == 0 and proc.stderr == ""
    for command in ("examples", "tour", "practice", "fit", "predict", "bench"):
        assert re.search(rf"^\s+{command}\s+\S", proc.stdout, re.MULTILINE), command


@pytest.mark.parametrize("command", ["examples", "tour", "practice", "fit", "predict",
                                     "bench"])
def test_each_command_has_help(command):
    proc = _cli(command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: wonderland {command}")
    assert "Traceback" not in proc.stderr
    assert "\x1b" not in proc.stdout


def test_practice_help_gives_every_default():
    out = _cli("practice", "--help").stdout
    for option, default in (("--starts", "20"), ("--steps", "200"), ("--lr", "0.1"),
                            ("--momentum", "0.9"), ("--seed", "0"), ("--out", "practice")):
        block = out[out.index(f"  {option} "):]
        block = block[:block.index("\n  -") if "\n  -" in block else len(block)]
        assert f"(default: {default})" in " ".join(block.split()), (option, block)


def test_help_in_an_ascii_terminal_escapes_what_it_lacks():
    proc = _cli("practice", "--help", env={"PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 0, proc.stderr
    assert "\\u03b7" in proc.stdout  # η
    assert proc.stdout.isascii()


@pytest.mark.parametrize("args, prefix", [
    (["prac"], "wonderland: error: unknown command 'prac'"),
    (["practice", "--seed", "-1"], "wonderland practice: error: argument --seed"),
    (["practice", "--step", "5"], "wonderland practice: error: "),
    (["fit", "missing.csv", "--target", "y", "--model", "linear"],
     "wonderland fit: error: "),
    (["predict", "nomodel.json", "x.csv"], "wonderland predict: error: "),
    (["bench", "--only", "W9"], "wonderland bench: error: argument --only"),
])
def test_bad_arguments_are_one_line_and_status_2(args, prefix, tmp_path):
    proc = _cli(*args, cwd=tmp_path)
    assert proc.returncode == 2
    _one_error_line(proc, prefix)
    assert proc.stdout == ""


def test_fit_report_is_aligned(tmp_path):
    path = _regression_csv(tmp_path / "d.csv", ["a", "longer name", "x²", "température", "y"])
    proc = _cli("fit", str(path), "--target", "y", "--model", "linear", "--save",
                str(tmp_path / "m.json"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = _coefficient_rows(proc.stdout)
    assert [r.split()[0] for r in rows][-1] == "intercept"
    assert len({_value_column(r) for r in rows}) == 1, rows
    for row in rows:  # rounded to a few significant digits, not float's 17
        mantissa = row.split()[-1].split("e")[0]
        digits = re.sub(r"^[-+]?[0.]*", "", mantissa).replace(".", "")
        assert len(digits) <= 6, row
    for line in proc.stdout.splitlines()[-3:]:
        for number in re.findall(r"\d+\.\d+", line):
            assert len(number.split(".")[1]) <= 4, line


def test_fit_with_non_ascii_names_in_an_ascii_terminal_does_not_fail(tmp_path):
    path = _regression_csv(tmp_path / "u.csv", ["température", "Δx", "x²", "y→"])
    proc = _cli("fit", str(path), "--target", "y→", "--model", "linear", "--save",
                str(tmp_path / "m.json"), cwd=tmp_path,
                env={"PYTHONIOENCODING": "ascii", "LANG": "C", "LC_ALL": "C"})
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout.isascii()
    assert "\\u0394x" in proc.stdout and "temp\\xe9rature" in proc.stdout
    bad = _cli("fit", str(path), "--target", "nope", "--model", "linear", "--save",
               str(tmp_path / "m.json"), cwd=tmp_path, env={"PYTHONIOENCODING": "ascii"})
    assert bad.returncode == 2
    _one_error_line(bad, "wonderland fit: error: ")


# Fixed; before the fix: BUG: in an ASCII terminal `wonderland fit` pads the names before escaping
# them, so the coefficient column is misaligned
def test_fit_report_stays_aligned_in_an_ascii_terminal(tmp_path):
    path = _regression_csv(tmp_path / "u.csv", ["température", "Δx", "x²", "y"])
    proc = _cli("fit", str(path), "--target", "y", "--model", "linear", "--save",
                str(tmp_path / "m.json"), cwd=tmp_path, env={"PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 0, proc.stderr
    rows = _coefficient_rows(proc.stdout)
    assert len({_value_column(r) for r in rows}) == 1, rows


def _collinear_csv(path: Path, names: list[str]) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 1))
    X = np.repeat(x, len(names), axis=1)
    y = x[:, 0] + 0.1 * rng.normal(size=60)
    return _write_csv(path, [*names, "y"], np.c_[X, y].tolist())


# Fixed (names with spaces); before the fix: BUG: `wonderland fit` does not shorten a long
# list of column names that contain spaces (the regex takes names without spaces only)
@pytest.mark.parametrize("stem", ["feat", "feat "])
def test_fit_warning_shortens_a_long_list_of_columns(tmp_path, stem):
    path = _collinear_csv(tmp_path / "c.csv", [f"{stem}{i}" for i in range(30)])
    proc = _cli("fit", str(path), "--target", "y", "--model", "linear", "--save",
                str(tmp_path / "m.json"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    warning = [line for line in proc.stderr.splitlines() if "collinear" in line]
    assert len(warning) == 1
    assert warning[0].startswith("wonderland fit: warning: ")
    assert "(30 in all)" in warning[0] and f"{stem}15" not in warning[0], warning[0]


def _practice_rows(out: str) -> list[list[str]]:
    blocks, current = [], None
    for line in out.splitlines():
        if line.endswith("iterations, reason"):
            current = []
            blocks.append(current)
        elif current is not None and line.startswith("  ("):
            current.append(line)
    return blocks


def test_practice_table_is_aligned(tmp_path):
    proc = _cli("practice", "--starts", "4", "--steps", "20", "--out", str(tmp_path / "p"))
    assert proc.returncode == 0, proc.stderr
    blocks = _practice_rows(proc.stdout)
    assert len(blocks) == 2 and all(len(b) == 4 for b in blocks)
    for rows in blocks:
        for column in ("->", "f =", "|grad| ="):
            assert len({row.index(column) for row in rows}) == 1, rows


# Fixed; before the fix: BUG: `wonderland practice` end points in exponent form overflow their
# column, so f, |grad| and the iterations no longer line up
def test_practice_table_stays_aligned_for_far_off_end_points(tmp_path):
    proc = _cli("practice", "--starts", "4", "--steps", "20", "--lr", "1000", "--out",
                str(tmp_path / "p"))
    assert proc.returncode == 0, proc.stderr
    assert "e+0" in proc.stdout  # far-off end points print in exponent form (README)
    assert proc.stderr.startswith("wonderland practice: warning: ")
    for rows in _practice_rows(proc.stdout):
        for column in ("f =", "|grad| ="):
            assert len({row.index(column) for row in rows}) == 1, rows


def test_practice_warning_for_a_large_lr_is_one_line_on_stderr(tmp_path):
    proc = _cli("practice", "--starts", "2", "--steps", "5", "--lr", "1000", "--out",
                str(tmp_path / "p"))
    assert proc.returncode == 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--lr 1000" in lines[0]
    assert "warning:" not in proc.stdout


@pytest.mark.parametrize("args", [
    ["examples"],
    ["bench", "--quick", "--only", "W1", "--peers", "none", "--repeats", "1"],
])
def test_piped_output_has_no_control_characters(args, tmp_path):
    proc = _cli(*args, cwd=tmp_path, env={"NO_COLOR": "1", "TERM": "dumb"})
    assert proc.returncode == 0, proc.stderr
    for stream in (proc.stdout, proc.stderr):
        assert "\r" not in stream and "\x1b" not in stream, repr(stream[:200])


def test_output_closed_early_is_quiet(tmp_path):
    rows = np.random.default_rng(0).normal(size=(20000, 2))
    data_csv = _write_csv(tmp_path / "rows.csv", ["a", "y"], rows.tolist())
    fit = _cli("fit", str(data_csv), "--target", "y", "--model", "linear", "--save",
               str(tmp_path / "m.json"), cwd=tmp_path)
    assert fit.returncode == 0, fit.stderr
    env = {k: v for k, v in os.environ.items() if k != "WONDERLAND_DEBUG"}
    proc = subprocess.Popen([sys.executable, "-m", "wonderland", "predict",
                             str(tmp_path / "m.json"), str(data_csv)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    status = proc.wait(timeout=120)
    assert first.strip() == b"prediction"
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert err == ""
    assert status in (0, 141)


def test_closed_stdout_still_runs(tmp_path):
    shell = f"{sys.executable!s} -m wonderland examples >&-; echo status=$?"
    proc = subprocess.run(["bash", "-c", shell], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "status=0" in proc.stdout


def test_examples_prints_each_example():
    proc = _cli("examples")
    assert proc.returncode == 0
    for name in ("broadcasting", "reduction", "batched matmul", "gradient",
                 "polynomial descent"):
        assert f"== {name}" in proc.stdout
    assert "(4, 1) + (4,) -> (4, 4)" in proc.stdout
    assert proc.stdout.isascii()


def test_cli_warning_from_python_is_one_line(tmp_path):
    small = _write_csv(tmp_path / "s.csv", ["a", "y"], [[1, 2], [2, 3], [3, 5], [4, 4]])
    fit = _cli("fit", str(small), "--target", "y", "--model", "linear", "--test-size", "0",
               "--save", str(tmp_path / "m.json"), cwd=tmp_path)
    assert fit.returncode == 0, fit.stderr
    big = _write_csv(tmp_path / "b.csv", ["a"], [[1e200], [1e307]])
    proc = _cli("predict", str(tmp_path / "m.json"), str(big), cwd=tmp_path)
    assert "Traceback" not in proc.stderr
    for line in proc.stderr.splitlines():
        assert line.startswith("wonderland predict: warning: "), proc.stderr
