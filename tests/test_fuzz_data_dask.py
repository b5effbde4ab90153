"""Property-based fuzzing of ``wl.data`` and of ``wl.linear`` on Dask input, hunting silent
wrong numbers: every check compares wonderland's answer with an independent one.

Dataset (hypothesis draws ``X`` of n in 1..50 rows and d in 1..6 columns, ``y`` of n
values, as NumPy arrays, nested lists or a DataFrame/Series):

- one to three NaN/±inf cells planted at random (row, column) positions in ``X`` (or rows
  of a finite ``X``'s ``y``): the ``ValueError`` must name exactly the first of them, and
  "first" is row order (the README's "first bad row and column": the smallest row, then
  the smallest column in it), 0-based. Text cells planted in an object array or a list
  or a DataFrame are named the same way (a DataFrame named them in column order: fixed).
- ``batches(batch_size, shuffle, seed, drop_last)`` for batch_size in 1..n+5 (1, not
  dividing n, larger than n): rows are tagged by ``y = arange(n)``, so the concatenated
  batches must be a permutation of ``range(n)`` (the identity without shuffle), ``X``
  rows travel with their ``y``, every batch but the last has ``batch_size`` rows and the
  last the rest (``drop_last`` drops it), and the same int seed gives the same order.
- ``split(test_size, seed)``: a float written with 1..3 decimals, or an int; the test
  part has ``ceil(test_size * n)`` rows in exact decimal arithmetic (the README's rule),
  which is scikit-learn's ``train_test_split`` count except where the float product
  lands just above an integer (the documented difference, e.g. 0.07 * 100); a fraction
  leaving no training row is a ``ValueError`` (as in scikit-learn); the parts are
  disjoint and cover every row; without shuffle the test part is the last rows.
- indexing by an int (negative too), a slice with random start/stop/step, a list or
  array of positions and a boolean mask gives the rows NumPy's indexing gives.

shift_report (reference and new samples of 150..400 rows, d in 1..5, normal or integer
data with ties, a random subset of features shifted by 1.5 to 4 standard deviations):
per-feature statistic and p-value equal ``scipy.stats.ks_2samp`` column by column, the
adjusted p-values a hand-written Benjamini–Hochberg; with ``alpha=1e-3`` exactly the
shifted features are flagged (a shift of 1.5 sd on 150 rows has a p-value below 1e-12;
an unshifted feature is a false alarm with probability about 1e-3, so that test is
derandomized to keep the suite deterministic).

Dask (the synchronous scheduler; n in 20..400, d in 1..5, well-conditioned standard
normal columns with random offsets and scales in 0.1..10, so that the README's "about
1e-10" for least squares is a fair bound): row chunkings are random partitions of n
(uniform blocks with an uneven last one, or arbitrary block sizes; the block count is
capped at 40 to keep Dask's overhead inside the time budget, so a block of 1 row appears
for n < 80 only) with random column chunks, and a Dask DataFrame of random npartitions;
``y`` is chunked like ``X`` or independently (a Dask array or Series of its own
partitions: rows pair by position, as in memory).
``LinearRegression`` and ``Ridge`` (random alpha, with and without intercept) fitted on
the Dask collection must give the in-memory ``coef_``/``intercept_`` to 1e-9 relative
(of the coefficients' and of the intercept's cancelling terms' size);
``LogisticRegression`` (2 to 4 classes, integer or string labels, alpha in 1e-3..1,
``tol=1e-10``; alpha > 0 keeps separable draws from having no optimum) to 1e-7. n <= 400
keeps the in-memory Newton off its row sample, so both take the same steps. ``predict``,
``decision_function``, ``predict_proba`` and ``predict_log_proba`` on Dask input must
return a Dask array (not NumPy) that computes to the NumPy prediction (labels exactly,
numbers to 1e-12), with the row chunks of ``X`` when those are known. NaN/±inf planted
in Dask ``X``: ``fit`` names the first bad cell in row order (block, column, row);
a computed ``predict`` names some bad cell correctly (block by block, so not necessarily
the first: the README's row-order promise is about ``fit``).

Excluded: ``gd``/``lbfgs``/``lstsq`` (the README says they need ``X`` in memory),
``LinearModel`` (other files), alpha=0 logistic fits (separable draws have no optimum),
ill-conditioned data (its own tests) and distributed clusters (too slow for 40 s).
Example counts are low for the suite; ``FUZZ_EXAMPLES=<n>`` multiplies them for a hunt.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import stats

import wonderland as wl

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")

import wonderland.linear as wll  # noqa: E402

SCALE = int(os.environ.get("FUZZ_EXAMPLES", "1"))
MAX_BLOCKS = int(os.environ.get("FUZZ_MAX_BLOCKS", "40"))


def _settings(n: int, **kw):
    return settings(max_examples=n * SCALE, deadline=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                    **kw)


# ----------------------------------------------------------------------------- Dataset
@st.composite
def _matrix(draw, n_min=1, n_max=50, d_max=6):
    n = draw(st.integers(n_min, n_max))
    d = draw(st.integers(1, d_max))
    seed = draw(st.integers(0, 2**32 - 1))
    X = np.random.default_rng(seed).normal(size=(n, d))
    return X


def _as(kind: str, X: np.ndarray, y: np.ndarray):
    if kind == "list":
        return X.tolist(), y.tolist()
    if kind == "pandas":
        return pd.DataFrame(X, columns=[f"c{j}" for j in range(X.shape[1])]), pd.Series(y)
    return X, y


BAD = st.sampled_from([np.nan, np.inf, -np.inf])
KINDS = st.sampled_from(["numpy", "list", "pandas"])


@_settings(60)
@given(X=_matrix(), data=st.data(), kind=KINDS)
def test_dataset_names_first_non_finite_cell_of_X(X, data, kind):
    n, d = X.shape
    cells = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, d - 1)),
                               min_size=1, max_size=3, unique=True))
    for r, c in cells:
        X[r, c] = data.draw(BAD)
    first = min(cells)  # row order: smallest row, then smallest column
    Xi, yi = _as(kind, X, np.arange(n, dtype=float))
    with pytest.raises(ValueError) as err:
        wl.data.Dataset(Xi, yi)
    found = re.findall(r"row (\d+), column (\d+)", str(err.value))
    assert found == [(str(first[0]), str(first[1]))], str(err.value)
    assert "X" in str(err.value)


@_settings(40)
@given(X=_matrix(), data=st.data(), kind=KINDS)
def test_dataset_names_first_non_finite_row_of_y(X, data, kind):
    n = X.shape[0]
    y = np.arange(n, dtype=float)
    rows = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3, unique=True))
    for r in rows:
        y[r] = data.draw(BAD)
    Xi, yi = _as(kind, X, y)
    with pytest.raises(ValueError) as err:
        wl.data.Dataset(Xi, yi)
    msg = str(err.value)
    assert re.findall(r"row (\d+)", msg) == [str(min(rows))], msg
    assert "y has" in msg, msg


@_settings(40)
@given(X=_matrix(), data=st.data(), kind=st.sampled_from(["numpy", "list", "frame"]))
def test_dataset_names_first_text_cell_of_X(X, data, kind):
    """Text planted in an object array, a nested list or a DataFrame: the first cell in
    row order is named."""
    n, d = X.shape
    cells = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, d - 1)),
                               min_size=1, max_size=3, unique=True))
    Xo = X.astype(object)
    for r, c in cells:
        Xo[r, c] = data.draw(st.sampled_from(["?", "n/a", "1,5"]))
    with pytest.raises(ValueError) as err:
        wl.data.Dataset(Xo.tolist() if kind == "list" else pd.DataFrame(Xo) if kind == "frame"
                        else Xo, np.arange(n, dtype=float))
    found = re.findall(r"row (\d+), column (\d+)", str(err.value))
    assert found == [tuple(str(i) for i in min(cells))], str(err.value)


def test_dataframe_text_cells_named_in_row_order_like_numpy():
    """Found by this fuzzer: a DataFrame's text cells were named in column order."""
    frame = pd.DataFrame({"a": pd.Series([0.0, "x"], dtype=object),
                          "b": pd.Series(["y", 0.0], dtype=object)})
    with pytest.raises(ValueError, match=r"'y' at row 0, column 1"):
        wl.data.Dataset(frame.to_numpy(), [0.0, 1.0])  # NumPy: row order, as documented
    with pytest.raises(ValueError, match=r"'y' at row 0, column 1"):
        wl.data.Dataset(frame, [0.0, 1.0])  # (it named 'x' at row 1, column 0)


def _tagged(n: int, d: int) -> wl.data.Dataset:
    X = np.arange(n * d, dtype=float).reshape(n, d)  # row i holds i*d .. i*d + d - 1
    return wl.data.Dataset(X, np.arange(n, dtype=float))


@_settings(80)
@given(n=st.integers(1, 50), d=st.integers(1, 6), data=st.data())
def test_batches_cover_every_row_once(n, d, data):
    ds = _tagged(n, d)
    size = data.draw(st.integers(1, n + 5), label="batch_size")
    shuffle = data.draw(st.booleans(), label="shuffle")
    drop_last = data.draw(st.booleans(), label="drop_last")
    seed = data.draw(st.integers(0, 2**31), label="seed")
    if drop_last and size > n:
        with pytest.raises(ValueError):
            list(ds.batches(size, shuffle=shuffle, seed=seed, drop_last=True))
        return
    batches = [(xb.numpy(), yb.numpy()) for xb, yb in
               ds.batches(size, shuffle=shuffle, seed=seed, drop_last=drop_last)]
    full, rest = divmod(n, size)
    sizes = [len(yb) for _, yb in batches]
    expected = [size] * full + ([rest] if rest and not drop_last else [])
    assert sizes == expected
    for xb, yb in batches:
        assert xb.shape == (len(yb), d)
        np.testing.assert_array_equal(xb, yb[:, None] * d + np.arange(d))  # rows travel
    order = np.concatenate([yb for _, yb in batches]) if batches else np.array([])
    covered = n - (rest if drop_last else 0)
    assert len(order) == covered
    assert len(set(order.tolist())) == covered  # no row twice
    if not drop_last:
        assert sorted(order.tolist()) == list(range(n))  # a permutation: every row
    if not shuffle:
        assert order.tolist() == list(range(covered))
    again = np.concatenate([yb.numpy() for _, yb in
                            ds.batches(size, shuffle=shuffle, seed=seed,
                                       drop_last=drop_last)]) if batches else np.array([])
    np.testing.assert_array_equal(order, again)  # the same seed, the same epoch


@_settings(60)
@given(n=st.integers(2, 50), data=st.data())
def test_split_sizes_disjoint_covering(n, data):
    from sklearn.model_selection import train_test_split

    ds = _tagged(n, 2)
    seed = data.draw(st.integers(0, 2**31), label="seed")
    shuffle = data.draw(st.booleans(), label="shuffle")
    if data.draw(st.booleans(), label="float"):
        decimals = data.draw(st.integers(1, 3))
        k = data.draw(st.integers(1, 10**decimals - 1))
        test_size: float | int = float(f"{k / 10**decimals:.{decimals}f}")
        exact = math.ceil(Fraction(str(test_size)) * n)
        product = test_size * n
        sk_agrees = abs(product - round(product)) > 1e-9 or product <= round(product)
    else:
        test_size = data.draw(st.integers(1, n - 1))
        exact, sk_agrees = test_size, True
    if exact >= n:
        with pytest.raises(ValueError):
            ds.split(test_size, seed=seed, shuffle=shuffle)
        if sk_agrees:
            with pytest.raises(ValueError):
                train_test_split(np.arange(n), test_size=test_size)
        return
    train, test = ds.split(test_size, seed=seed, shuffle=shuffle)
    assert len(test) == exact
    if sk_agrees:
        _, sk_test = train_test_split(np.arange(n), test_size=test_size, random_state=0)
        assert len(test) == len(sk_test), (test_size, n)
    a, b = train.y.numpy().tolist(), test.y.numpy().tolist()
    assert len(a) + len(b) == n and not set(a) & set(b)
    assert sorted(a + b) == list(range(n))
    for part in (train, test):
        X, y = part.numpy()
        np.testing.assert_array_equal(X, y[:, None] * 2 + np.arange(2))
    if not shuffle:
        assert b == list(range(n - exact, n))
    train2, test2 = ds.split(test_size, seed=seed, shuffle=shuffle)
    assert test2.y.numpy().tolist() == b


@_settings(80)
@given(n=st.integers(1, 50), d=st.integers(1, 6), data=st.data())
def test_indexing_gives_numpy_rows(n, d, data):
    ds = _tagged(n, d)
    X, y = ds.numpy()
    how = data.draw(st.sampled_from(["int", "slice", "list", "array", "mask"]))
    if how == "int":
        i = data.draw(st.integers(-n, n - 1))
        xi, yi = ds[i]
        np.testing.assert_array_equal(xi.numpy(), X[i])
        assert float(yi.numpy()) == y[i]
        return
    if how == "slice":
        bound = st.one_of(st.none(), st.integers(-n - 3, n + 3))
        step = data.draw(st.one_of(st.none(), st.integers(-4, 4).filter(bool)))
        index = slice(data.draw(bound), data.draw(bound), step)
    elif how == "mask":
        index = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    else:
        index = data.draw(st.lists(st.integers(-n, n - 1), max_size=2 * n))
        if how == "array":
            index = np.array(index, dtype=np.int64)
    sub = ds[index]
    expected = np.arange(n)[index]
    got_X, got_y = sub.numpy()
    np.testing.assert_array_equal(got_y, y[expected])
    np.testing.assert_array_equal(got_X.reshape(-1, d), X[expected].reshape(-1, d))
    assert len(sub) == len(expected)


# ------------------------------------------------------------------------ shift_report
@st.composite
def _shift_case(draw):
    d = draw(st.integers(1, 5))
    n_ref = draw(st.integers(150, 400))
    n_new = draw(st.integers(150, 400))
    seed = draw(st.integers(0, 2**32 - 1))
    integer = draw(st.booleans())  # integer data: ties in the KS statistic
    shifted = draw(st.lists(st.integers(0, d - 1), unique=True, max_size=d))
    rng = np.random.default_rng(seed)
    loc = rng.normal(size=d) * 10
    scale = rng.uniform(0.5, 5.0, size=d)
    ref = loc + scale * rng.normal(size=(n_ref, d))
    new = loc + scale * rng.normal(size=(n_new, d))
    for j in shifted:
        new[:, j] += scale[j] * draw(st.floats(1.5, 4.0)) * draw(st.sampled_from([-1, 1]))
    if integer:
        ref, new = np.round(ref), np.round(new)
    return ref, new, sorted(shifted)


def _bh(p: np.ndarray) -> np.ndarray:
    m = len(p)
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return out


@_settings(25, derandomize=True)
@given(case=_shift_case())
def test_shift_report_flags_exactly_the_shifted_features(case):
    ref, new, shifted = case
    report = wl.data.shift_report(ref, new, alpha=1e-3)
    assert report.shifted == shifted
    for j in range(ref.shape[1]):
        expected = stats.ks_2samp(ref[:, j], new[:, j])
        assert report.statistic[j] == pytest.approx(expected.statistic, rel=1e-12, abs=0)
        assert report.pvalue[j] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    np.testing.assert_allclose(report.pvalue_adjusted, _bh(report.pvalue), rtol=1e-12)
    default = wl.data.shift_report(ref, new)
    np.testing.assert_array_equal(default.is_shifted, default.pvalue_adjusted <= 0.05)
    assert set(shifted) <= set(default.shifted)
    assert (report.n_ref, report.n_new) == (len(ref), len(new))


# -------------------------------------------------------------------------------- Dask
@st.composite
def _row_chunks(draw, n: int) -> tuple[int, ...]:
    """A random partition of n rows into at most MAX_BLOCKS blocks."""
    low = max(1, math.ceil(n / MAX_BLOCKS))
    if draw(st.booleans()):  # uniform blocks, uneven last one
        rows = draw(st.integers(low, n))
        chunks = [rows] * (n // rows) + ([n % rows] if n % rows else [])
        return tuple(chunks)
    count = draw(st.integers(1, min(MAX_BLOCKS, n)))
    cuts = sorted(draw(st.lists(st.integers(1, n - 1), min_size=count - 1,
                                max_size=count - 1, unique=True))) if count > 1 else []
    edges = [0, *cuts, n]
    return tuple(b - a for a, b in zip(edges, edges[1:]))


@st.composite
def _design(draw):
    n = draw(st.integers(20, 400))
    d = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    scale = 10 ** rng.uniform(-1, 1, size=d)
    offset = rng.normal(size=d) * 10 * draw(st.sampled_from([0, 1]))
    X = rng.normal(size=(n, d)) * scale + offset
    return X, rng


@st.composite
def _dask_X(draw, X: np.ndarray):
    """``("array", Xd)`` with random row and column chunks, or ``("frame", ddf)``."""
    n, d = X.shape
    if draw(st.booleans()):
        col = draw(st.integers(1, d))
        return "array", da.from_array(X, chunks=(draw(_row_chunks(n)), col))
    parts = draw(st.integers(1, min(MAX_BLOCKS, n)))
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(d)])
    return "frame", dd.from_pandas(frame, npartitions=parts)


@st.composite
def _dask_y(draw, kind: str, Xd, y: np.ndarray):
    """``y`` as a Dask collection chunked like ``X`` or independently of it (rows pair
    by position, as in memory): a Dask array, or a Series with its own npartitions."""
    n = len(y)
    how = draw(st.sampled_from(["same", "array", "series"]))
    if how == "series" or (how == "same" and kind == "frame"):
        parts = Xd.npartitions if how == "same" else draw(st.integers(1, min(MAX_BLOCKS, n)))
        return dd.from_pandas(pd.Series(y, name="target"), npartitions=parts)
    chunks = Xd.chunks[0] if how == "same" else draw(_row_chunks(n))
    return da.from_array(y, chunks=(chunks,))


def _memory_X(kind: str, X: np.ndarray):
    if kind == "frame":
        return pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    return X


def _check_lazy_predictions(model, Xd, Xm, methods) -> None:
    for method in methods:
        out = getattr(model, method)(Xd)
        assert isinstance(out, da.Array), (method, type(out))
        expected = getattr(model, method)(Xm)
        if isinstance(Xd, da.Array) and not any(math.isnan(c) for c in Xd.chunks[0]):
            assert out.chunks[0] == Xd.chunks[0], method
        got = out.compute()
        assert got.shape == expected.shape, method
        if method == "predict" and expected.dtype.kind in "OUSi":
            assert got.tolist() == expected.tolist(), method
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12,
                                       err_msg=method)


@pytest.fixture(scope="module")
def sync():
    with dask.config.set(scheduler="synchronous"):
        yield


@_settings(12)
@given(design=_design(), data=st.data())
def test_dask_least_squares_match_memory(sync, design, data):
    X, rng = design
    n, d = X.shape
    y = X @ rng.normal(size=d) + rng.normal() * 5 + rng.normal(size=n)
    kind, Xd = data.draw(_dask_X(X), label="dask X")
    yd = data.draw(_dask_y(kind, Xd, y), label="dask y")
    Xm = _memory_X(kind, X)
    fit_intercept = data.draw(st.booleans(), label="fit_intercept")
    if data.draw(st.booleans(), label="ridge"):
        alpha = 10 ** data.draw(st.floats(-3, 2), label="log10 alpha")
        make = lambda: wll.Ridge(alpha=alpha, fit_intercept=fit_intercept)  # noqa: E731
    else:
        make = lambda: wll.LinearRegression(fit_intercept=fit_intercept)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # well-conditioned data: no warning either way
        mem = make().fit(Xm, y)
        dsk = make().fit(Xd, yd)
    coef_scale = np.abs(mem.coef_).max() + 1.0
    np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=0, atol=1e-9 * coef_scale)
    cancel = abs(y.mean()) + float(np.abs(X.mean(axis=0)) @ np.abs(mem.coef_)) + 1.0
    assert abs(dsk.intercept_ - mem.intercept_) <= 1e-9 * cancel
    if kind == "frame":
        assert list(dsk.feature_names_in_) == list(Xm.columns)
    _check_lazy_predictions(dsk, Xd, Xm, ["predict"])
    np.testing.assert_allclose(mem.predict(Xd).compute(), mem.predict(Xm), rtol=1e-12,
                               atol=1e-12 * cancel)


@_settings(12)
@given(design=_design(), data=st.data())
def test_dask_logistic_matches_memory(sync, design, data):
    X, rng = design
    n, d = X.shape
    k = data.draw(st.integers(2, 4), label="classes")
    assume(n >= 2 * k)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    scores = Z @ rng.normal(size=(d, k)) + rng.normal(size=(n, k)) * 1.5
    codes = np.argmax(scores, axis=1)
    codes[:k] = np.arange(k)  # every class present
    names = data.draw(st.sampled_from([["ant", "bee", "cat", "dog"], [-3, 0, 5, 11],
                                       [2.0, -1.0, 0.0, 7.0], [False, True]]), label="labels")
    assume(k <= len(names))
    labels = np.array(names)[codes]
    kind, Xd = data.draw(_dask_X(X), label="dask X")
    yd = data.draw(_dask_y(kind, Xd, labels), label="dask y")
    Xm = _memory_X(kind, X)
    alpha = 10 ** data.draw(st.floats(-3, 0), label="log10 alpha")
    fit_intercept = data.draw(st.booleans(), label="fit_intercept")
    tight = data.draw(st.booleans(), label="tol=1e-10 (else the default 1e-6)")
    make = lambda: wll.LogisticRegression(alpha=alpha, tol=1e-10 if tight else 1e-6,  # noqa: E731
                                          fit_intercept=fit_intercept)
    mem = make().fit(Xm, labels)
    dsk = make().fit(Xd, yd)
    assert dsk.classes_.tolist() == mem.classes_.tolist()
    scale = np.abs(mem.coef_).max() + 1.0
    # the same damped Newton steps on the same sums: equal up to summation order (the
    # README's "within the solver's tolerance"; 1e-7 at tol=1e-10, 1e-5 at the default)
    eps = 1e-7 if tight else 1e-5
    np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=0, atol=eps * scale)
    cancel = float(np.abs(X.mean(axis=0)) @ np.abs(mem.coef_).max(axis=0)) + scale
    np.testing.assert_allclose(dsk.intercept_, mem.intercept_, rtol=0, atol=eps * cancel)
    _check_lazy_predictions(dsk, Xd, Xm, ["predict", "decision_function", "predict_proba",
                                          "predict_log_proba"])


@_settings(8)
@given(design=_design(), data=st.data())
def test_dask_predictions_of_a_memory_fit(sync, design, data):
    """A model fitted in memory predicts on Dask input (array or DataFrame) lazily and
    exactly as on the NumPy array, however the rows are chunked."""
    X, rng = design
    n, d = X.shape
    labels = (X @ rng.normal(size=d) > np.median(X @ rng.normal(size=d))).astype(int)
    labels[:2] = [0, 1]
    kind, Xd = data.draw(_dask_X(X), label="dask X")
    Xm = _memory_X(kind, X)
    y = X @ rng.normal(size=d) + rng.normal(size=n)
    ridge = wll.Ridge(alpha=1.0).fit(Xm, y)
    _check_lazy_predictions(ridge, Xd, Xm, ["predict"])
    logistic = wll.LogisticRegression(alpha=0.1).fit(Xm, labels)
    _check_lazy_predictions(logistic, Xd, Xm, ["predict", "decision_function",
                                               "predict_proba"])


@_settings(10)
@given(design=_design(), data=st.data())
def test_dask_non_finite_names_first_cell_in_row_order(sync, design, data):
    """NaN/±inf planted at random cells of a randomly chunked Dask X: the error names the
    first bad cell in row order (README: "whatever order the blocks ran in"), its block,
    column and row, in fit (least squares and logistic) and in a computed predict."""
    X, rng = design
    n, d = X.shape
    cells = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, d - 1)),
                               min_size=1, max_size=4, unique=True), label="bad cells")
    y = X @ rng.normal(size=d) + rng.normal(size=n)
    model = wll.Ridge().fit(X, y)
    for r, c in cells:
        X[r, c] = data.draw(BAD)
    row, col = min(cells)
    kind, Xd = data.draw(_dask_X(X), label="dask X")
    if kind == "frame":
        starts, name = list(Xd.divisions[:-1]), f"f{col}"
    else:
        starts, name = list(np.cumsum((0,) + Xd.chunks[0])[:-1]), f"x{col}"
    block = int(np.searchsorted(starts, row, side="right")) - 1
    where = f"block (partition) {block}, column '{name}' (row {row})"
    yd = data.draw(_dask_y(kind, Xd, y), label="dask y")
    for make, target in [(wll.LinearRegression, yd), (wll.LogisticRegression, yd > 0)]:
        with pytest.raises(ValueError) as err:
            make().fit(Xd, target)
        assert where in str(err.value), str(err.value)
    # predict computes lazily, block by block: its error names a bad cell (block, column
    # and row right), not necessarily the first in row order (the README promises that
    # for fit only, "raised before any step is taken")
    with pytest.raises(ValueError) as err:
        model.predict(Xd).compute()
    named = re.search(r"block \(partition\) (\d+), column '\w(\d+)' \(row (\d+)"
                      r"( of the block)?\)", str(err.value))
    assert named is not None, str(err.value)
    b, c, r = (int(g) for g in named.groups()[:3])
    if named.group(4):  # unknown block sizes (a DataFrame's): the row within its block
        r += int(starts[b])
    assert (r, c) in cells and b == int(np.searchsorted(starts, r, side="right")) - 1, \
        str(err.value)
