"""wl.linear on Dask arrays and DataFrames: the same answers as in memory, blockwise.

Fits on a real ``LocalCluster`` (two worker processes) and on the threaded scheduler
are compared with the in-memory fit of the same data; predictions on Dask input are
lazy Dask arrays; a NaN or non-numeric value names its block and column.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")

import wonderland.linear as wll  # noqa: E402

N = 1200  # few enough rows that in-memory Newton takes no row sample: the same steps



def _regression(seed: int = 0, offset: bool = True) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # offsets and scales that make centring by subtraction lose digits (without an
    # intercept they make the raw Gram matrix so ill-conditioned that the summation
    # order alone moves the coefficients by 1e-8: no offsets then)
    X = rng.normal(size=(N, 4)) * [1.0, 10.0, 0.01, 3.0]
    if offset:
        X += [5.0, 1e4, -2.0, 0.0]
    y = X @ [1.0, -2.0, 30.0, 0.5] + 3.0 + rng.normal(size=N)
    return X, y


def _classes(k: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, 4)) * [1.0, 2.0, 0.5, 1.0] + [1.0, -3.0, 0.0, 2.0]
    scores = X @ rng.normal(size=(4, k)) + rng.normal(size=(N, k)) * 2.0
    labels = np.array(["ant", "bee", "cat", "dog"][:k])
    return X, labels[np.argmax(scores, axis=1)] if k > 2 else labels[(scores[:, 0] > 0) * 1]


def _dask(X: np.ndarray, y: np.ndarray, rows: int = 250) -> tuple:
    # uneven row blocks and two column blocks (rechunked by wonderland)
    return da.from_array(X, chunks=(rows, 2)), da.from_array(y, chunks=rows)


LEAST_SQUARES = [wll.LinearRegression(), wll.LinearRegression(fit_intercept=False),
                 wll.Ridge(alpha=3.0)]


def _assert_same_least_squares(mem, dsk, X) -> None:
    np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=1e-10, atol=1e-10)
    # the intercept ȳ - x̄·w cancels terms of size |x̄|·|w|: 1e-10 relative to those
    scale = max(1.0, float(np.abs(np.asarray(X).mean(axis=0)) @ np.abs(mem.coef_)))
    np.testing.assert_allclose(dsk.intercept_, mem.intercept_, rtol=0, atol=1e-10 * scale)
    np.testing.assert_allclose(dsk.loss_curve_, mem.loss_curve_, rtol=1e-8)


@pytest.mark.parametrize("estimator", LEAST_SQUARES, ids=repr)
def test_least_squares_on_cluster(client, estimator):
    X, y = _regression(offset=estimator.fit_intercept)
    mem = estimator.__sklearn_clone__().fit(X, y)
    Xd, yd = _dask(X, y)
    with distributed.get_task_stream(client) as stream:
        dsk = estimator.__sklearn_clone__().fit(Xd, yd)
    assert len(stream.data) >= 5  # the blocks were read on the workers
    _assert_same_least_squares(mem, dsk, X)
    assert dsk.n_features_in_ == 4 and not hasattr(dsk, "feature_names_in_")


@pytest.mark.parametrize("k", [2, 3])
def test_logistic_on_cluster(client, k):
    X, y = _classes(k)
    est = wll.LogisticRegression(alpha=1e-3, tol=1e-10)
    mem = est.__sklearn_clone__().fit(X, y)
    with distributed.get_task_stream(client) as stream:
        dsk = est.__sklearn_clone__().fit(*_dask(X, y))
    assert len(stream.data) >= 5
    assert list(dsk.classes_) == list(mem.classes_)
    np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(dsk.intercept_, mem.intercept_, rtol=0, atol=1e-8)
    assert dsk.n_iter_ == mem.n_iter_


def test_threaded_scheduler(threads):
    X, y = _regression(2)
    mem = wll.Ridge(alpha=0.5).fit(X, y)
    dsk = wll.Ridge(alpha=0.5).fit(*_dask(X, y, rows=97))
    _assert_same_least_squares(mem, dsk, X)
    X, y = _classes(4)
    mem = wll.LogisticRegression(alpha=1e-2, tol=1e-10).fit(X, y)
    dsk = wll.LogisticRegression(alpha=1e-2, tol=1e-10).fit(*_dask(X, y, rows=333))
    np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=0, atol=1e-8)


def test_separable_classes_warn_as_in_memory(threads):
    X = np.linspace(-1.0, 1.0, 40)[:, None]
    y = (X[:, 0] > 0).astype(int)
    X[:3] += 0.8  # some blocks are separated before the others
    y = (X[:, 0] > 0).astype(int)
    with pytest.warns(Warning, match="linearly separable"):
        mem = wll.LogisticRegression().fit(X, y)
    with pytest.warns(Warning, match="linearly separable"):
        dsk = wll.LogisticRegression().fit(*_dask(X, y, rows=7))
    assert dsk.predict(X).tolist() == y.tolist()
    assert dsk.n_iter_ == mem.n_iter_
    np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=1e-8)


def test_dataframe_keeps_names_and_collinearity_check(client):
    X, y = _regression(3)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["dup"] = 2.0 * frame["a"]
    mem_warn, dsk_warn = [], []
    ddf = dd.from_pandas(frame, npartitions=5)
    ys = dd.from_pandas(pd.Series(y, name="y"), npartitions=5)
    for data, target, log in [(frame, y, mem_warn), (ddf, ys, dsk_warn)]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = wll.LinearRegression().fit(data, target)
        log.extend(str(w.message) for w in caught if w.category is wll.CollinearityWarning)
        log.append(model)
    mem, dsk = mem_warn.pop(), dsk_warn.pop()
    assert list(dsk.feature_names_in_) == ["a", "b", "c", "d", "dup"]
    assert dsk_warn == mem_warn and "a, dup" in dsk_warn[0]
    _assert_same_least_squares(mem, dsk, frame)
    pred = dsk.predict(ddf)
    assert isinstance(pred, da.Array)
    np.testing.assert_allclose(pred.compute(), mem.predict(frame), rtol=1e-10)
    assert dsk.score(ddf, ys) == pytest.approx(mem.score(frame, y), rel=1e-12)


def test_dataframe_with_string_labels(client):
    X, labels = _classes(3)
    frame = pd.DataFrame(X, columns=["p", "q", "r", "s"])
    frame["label"] = labels
    ddf = dd.from_pandas(frame, npartitions=4)
    features = ["p", "q", "r", "s"]
    mem = wll.LogisticRegression(alpha=1e-2, tol=1e-10).fit(frame[features], labels)
    for target in [ddf["label"], frame["label"], labels]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            dsk = wll.LogisticRegression(alpha=1e-2, tol=1e-10).fit(ddf[features], target)
        assert list(dsk.feature_names_in_) == features
        assert list(dsk.classes_) == ["ant", "bee", "cat"]
        np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=0, atol=1e-8)
    assert dsk.score(ddf[features], ddf["label"]) == mem.score(frame[features], labels)


def test_predictions_are_lazy(client):
    X, y = _classes(3)
    model = wll.LogisticRegression(alpha=1e-2).fit(X, y)
    Xd, yd = _dask(X, y)
    for method in ["predict", "predict_proba", "decision_function", "predict_log_proba"]:
        out = getattr(model, method)(Xd)
        assert isinstance(out, da.Array), method
        expected = getattr(model, method)(X)
        assert out.shape == expected.shape
        got = out.compute()
        if method == "predict":
            assert got.tolist() == expected.tolist()
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert model.score(Xd, yd) == pytest.approx(model.score(X, y), abs=0)
    X2, y2 = _classes(2)
    binary = wll.LogisticRegression().fit(X2, y2)
    assert binary.decision_function(_dask(X2, y2)[0]).compute().shape == (N,)


def test_nan_names_block_and_column(threads):
    X, y = _regression()
    X = X.copy()
    X[555, 2] = np.nan  # rows 500..749: block 2
    Xd, yd = _dask(X, y)
    for est in [wll.LinearRegression(), wll.Ridge()]:
        with pytest.raises(ValueError, match=r"NaN: block \(partition\) 2, column 'x2'"):
            est.fit(Xd, yd)
    _, labels = _classes(2)
    with pytest.raises(ValueError, match=r"block \(partition\) 2, column 'x2' \(row 555\)"):
        wll.LogisticRegression().fit(Xd, da.from_array(labels, chunks=250))
    model = wll.Ridge().fit(*_regression())
    with pytest.raises(ValueError, match=r"block \(partition\) 2, column 'x2'"):
        model.predict(Xd).compute()


@pytest.mark.parametrize("make", [
    wll.LinearRegression, wll.LogisticRegression, lambda: wll.LinearModel(loss="log"),
    lambda: wll.LinearModel(loss="hinge"), lambda: wll.LinearModel(loss="huber")],
    ids=["least-squares", "logistic", "linear-model-log", "linear-model-hinge",
         "linear-model-huber"])
def test_nan_in_y_names_block_and_row(threads, make):
    # the labels of the classifiers went to np.unique and scikit-learn's checks, which
    # only said "Input y contains NaN."
    X, y = _classes(2)
    y = (y == "bee").astype(float)
    y[555] = np.nan  # rows 500..749: block 2
    Xd, yd = _dask(X, y)
    with pytest.raises(ValueError, match=r"^Input y contains NaN or infinity: block "
                                         r"\(partition\) 2 \(row 555\)$"):
        make().fit(Xd, yd)
    y[555], y[260] = 1.0, -np.inf
    with pytest.raises(ValueError, match=r"infinity: block \(partition\) 1 \(row 260\)$"):
        make().fit(Xd, da.from_array(y, chunks=250))


def test_missing_string_label_names_partition_and_row(threads):
    X, labels = _classes(2)
    target = pd.Series(labels, dtype=object)
    target[1000] = None  # 5 partitions of 240 rows: partition 4
    ddf = dd.from_pandas(pd.DataFrame(X, columns=list("abcd")), npartitions=5, sort=False)
    dy = dd.from_pandas(target, npartitions=5, sort=False)
    for est in [wll.LogisticRegression(), wll.LinearModel(loss="hinge")]:
        with pytest.raises(ValueError, match=r"Input y contains a missing value .*: block "
                                             r"\(partition\) 4 \(row 1000\)"):
            est.fit(ddf, dy)


class _Counted:
    """A Dask array's blocks read through a counter: how many were computed."""

    def __init__(self, X: np.ndarray, rows: int) -> None:
        self.calls = 0
        self.array = da.from_array(X, chunks=(rows, X.shape[1])).map_blocks(
            self._read, dtype=X.dtype, meta=np.empty((0, 0), dtype=X.dtype))

    def _read(self, block: np.ndarray) -> np.ndarray:
        self.calls += 1
        return block


@pytest.mark.parametrize("make, y_kind", [
    (wll.Ridge, "float"), (wll.LogisticRegression, "labels"),
    (lambda: wll.LinearModel(loss="log", max_iter=20), "labels")],
    ids=["ridge", "logistic", "linear-model"])
def test_predict_on_unknown_chunks_is_lazy_and_leaves_x_alone(threads, make, y_kind):
    # compute_chunk_sizes() read all of X while building the lazy prediction, and wrote
    # the sizes into the caller's array; a DataFrame was read by to_dask_array(lengths=True)
    X, labels = _classes(2)
    y = X @ [1.0, 2.0, 0.0, -1.0] if y_kind == "float" else labels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make().fit(X, y)
    counted = _Counted(X, 250)
    Xu = counted.array[counted.array[:, 0] > -np.inf]  # every row, unknown chunk sizes
    chunks = Xu.chunks
    assert np.isnan(chunks[0]).all() and counted.calls == 0
    frame = pd.DataFrame(X, columns=["x0", "x1", "x2", "x3"])
    reads = []
    ddf = dd.from_pandas(frame, npartitions=4).map_partitions(
        lambda part: reads.append(len(part)) or part, meta=frame.iloc[:0])
    methods = [m for m in ("predict", "predict_proba", "decision_function")
               if hasattr(model, m)]
    for method in methods:
        for X_in in (Xu, ddf):
            out = getattr(model, method)(X_in)
            assert isinstance(out, da.Array)
            assert counted.calls == 0 and reads == [], method  # nothing computed yet
            assert Xu.chunks == chunks  # the caller's array is as it was
            expected = getattr(model, method)(X)
            got = out.compute()
            if method == "predict":
                assert got.tolist() == expected.tolist()
            else:
                np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
            counted.calls = 0
            reads.clear()


def test_unknown_chunks_bad_value_names_the_row_in_its_block(threads):
    X, y = _regression()
    model = wll.Ridge().fit(X, y)
    X = X.copy()
    X[555, 2] = np.nan  # rows 500..749: block 2, its row 55
    Xd = da.from_array(X, chunks=(250, 4))
    with pytest.raises(ValueError, match=r"NaN: block \(partition\) 2, column 'x2' "
                                         r"\(row 55 of the block\)"):
        model.predict(Xd[Xd[:, 0] > -np.inf]).compute()
    # fitting needs the sizes: computed on a copy, the caller's array keeps its own
    Xu = Xd[np.isfinite(Xd[:, 2])]
    yu = da.from_array(y, chunks=250)[np.isfinite(Xd[:, 2])]
    fitted = wll.Ridge().fit(Xu, yu)
    assert np.isnan(Xu.chunks[0]).all() and np.isnan(yu.chunks[0]).all()
    keep = np.isfinite(X[:, 2])
    np.testing.assert_allclose(fitted.coef_, wll.Ridge().fit(X[keep], y[keep]).coef_,
                               rtol=1e-10)


def test_non_numeric_value_names_partition_and_column(threads):
    X, y = _regression()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"]).astype({"c": object})
    frame.loc[1000, "c"] = "oops"  # 5 partitions of 240 rows: partition 4
    ddf = dd.from_pandas(frame, npartitions=5, sort=False)
    with pytest.raises(ValueError, match=r"'oops' in block \(partition\) 4, column 'c'"):
        wll.Ridge().fit(ddf, y)


def test_unsupported_solvers_say_so(threads):
    X, y = _regression()
    with pytest.raises(ValueError, match="needs X in memory"):
        wll.LinearRegression(solver="lstsq").fit(*_dask(X, y))
    X, labels = _classes(2)
    with pytest.raises(ValueError, match="needs X in memory"):
        wll.LogisticRegression(solver="lbfgs").fit(*_dask(X, labels))


def test_import_does_not_import_dask():
    code = ("import sys, numpy as np, wonderland.linear as wll; "
            "wll.Ridge().fit(np.eye(3), [1.0, 2.0, 3.0]).predict(np.eye(3)); "
            "assert 'dask' not in sys.modules, 'dask imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_linear_model_predicts_lazily_on_dask(threads):
    X, labels = _classes(2)
    Xd, _ = _dask(X, labels)
    model = wll.LinearModel(loss="log", max_iter=50).fit(X, labels)
    for method in ["predict", "predict_proba", "decision_function"]:
        out = getattr(model, method)(Xd)
        assert isinstance(out, da.Array), method
        expected = getattr(model, method)(X)
        if method == "predict":
            assert out.compute().tolist() == expected.tolist()
        else:
            np.testing.assert_allclose(out.compute(), expected, rtol=1e-12, atol=1e-12)


def test_model_fitted_on_dask_saves_and_loads(threads, tmp_path):
    X, labels = _classes(3)
    model = wll.LogisticRegression(alpha=1e-2).fit(*_dask(X, labels))
    path = tmp_path / "model.json"
    model.save(path)
    loaded = wll.load(path)
    assert loaded.predict(X).tolist() == model.predict(X).tolist()
