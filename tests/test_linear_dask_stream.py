"""``LinearModel.fit`` on Dask: descent streaming the row blocks (``dask_stream``).

Full batch takes the in-memory fit's steps (one exact gradient summed over the blocks
per step), so the coefficients agree to rounding; minibatches visit the blocks in a
seeded order, so they take other (equally good) steps: the loss reached is compared,
and a seeded fit is compared with itself. With one block, minibatches are the in-memory
fit's exactly.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")

import wonderland.linear as wll  # noqa: E402
from wonderland.linear import dask_stream  # noqa: E402

N = 600



def _regression(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, 3)) * [1.0, 10.0, 0.1] + [5.0, 0.0, 1.0]
    return X, X @ [1.0, -0.2, 3.0] + 1.0 + rng.normal(size=N)


def _binary(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, 3)) + [1.0, 0.0, -2.0]
    labels = np.array(["no", "yes"])[(X @ [1.0, -1.0, 0.5] + rng.normal(size=N) > 0) * 1]
    return X, labels


def _dask(X: np.ndarray, y: np.ndarray, rows: int = 110) -> tuple:
    return da.from_array(X, chunks=(rows, 2)), da.from_array(y, chunks=rows)


# few epochs: each full-batch step is one pass over the blocks (on the cluster: about
# 0.1 s); the threaded scheduler for the second case keeps the test short
@pytest.mark.parametrize("params, on_cluster", [
    (dict(loss="log", optimizer="momentum", max_iter=10), True),
    (dict(loss="squared", alpha=0.1, max_iter=30), False)], ids=["log-momentum", "squared-gd"])
def test_full_batch_takes_the_in_memory_steps(client, params, on_cluster):
    X, y = _regression() if params["loss"] == "squared" else _binary()
    est = wll.LinearModel(**params)
    with warnings.catch_warnings(), dask.config.set(
            scheduler=None if on_cluster else "threads"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        mem = est.__sklearn_clone__().fit(X, y)
        with distributed.get_task_stream(client) as stream:
            dsk = est.__sklearn_clone__().fit(*_dask(X, y))
    if on_cluster:
        assert len(stream.data) >= 6  # the gradients were computed on the workers
    assert dsk.n_iter_ == mem.n_iter_
    np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(dsk.intercept_, mem.intercept_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(dsk.loss_curve_, mem.loss_curve_, rtol=1e-10)
    if params["loss"] == "log":
        assert list(dsk.classes_) == ["no", "yes"]


# the target's median (the start of huber and absolute) and its median absolute deviation
# (the default step of adam and absolute) are exact on Dask: Dask's approximate
# percentiles gave other starts and steps (coefficients 0.7 apart for squared + adam)
@pytest.mark.parametrize("params", [
    dict(loss="squared", optimizer="adam", fit_intercept=False),
    dict(loss="squared", optimizer="adam"),
    dict(loss="huber", optimizer="adam"),
    dict(loss="absolute", optimizer="gd"),
], ids=["squared-adam-no-intercept", "squared-adam", "huber-adam", "absolute-gd"])
def test_full_batch_median_and_spread_are_the_in_memory_ones(threads, params):
    X, y = _regression(6)
    y = y + np.where(np.arange(N) % 4 == 0, 8.0, 0.0)  # skewed: mean, median, MAD apart
    # uneven blocks, one of them empty (a filtered DataFrame has such)
    chunks = (150, 37, 0, 213, 200)
    Xd, yd = da.from_array(X, chunks=(chunks, 3)), da.from_array(y, chunks=(chunks,))
    est = wll.LinearModel(max_iter=12, tol=0.0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mem = est.__sklearn_clone__().fit(X, y)
        dsk = est.__sklearn_clone__().fit(Xd, yd)
    np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=1e-10, atol=1e-12)
    if params == dict(loss="squared", optimizer="adam"):
        # started at the mean, the intercept's gradient is rounding noise, which Adam
        # scales up to steps of a few % of lr (in memory, reordering the rows moves the
        # intercept as much): equal to a small part of the step only
        lr = 0.01 * float(np.median(np.abs(y - np.median(y))))
        assert abs(dsk.intercept_ - mem.intercept_) < 0.2 * lr
    else:
        np.testing.assert_allclose(dsk.intercept_, mem.intercept_, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dsk.loss_curve_, mem.loss_curve_, rtol=1e-10)


@pytest.mark.parametrize("values", [
    np.arange(7.0),                                   # odd
    np.arange(8.0)[::-1],                             # even: the mean of the middle two
    np.array([2.0, 1.0, 2.0, 2.0, 5.0, 2.0, 0.0, 2.0]),  # ties at the median
    np.array([3.0, 3.0, 3.0, 3.0]),                   # all equal (MAD 0)
    np.array([4.5]),                                  # one value
    np.random.default_rng(0).normal(size=501).round(1),   # many ties, odd
    np.random.default_rng(1).standard_cauchy(size=1000),  # heavy tails, even
], ids=["odd", "even", "ties", "constant", "one", "rounded", "cauchy"])
@pytest.mark.parametrize("cuts", [(), (0, 0), (1, 3), (2, 2, 5)],
                         ids=["one-block", "empty-first", "uneven", "empty-middle"])
@pytest.mark.parametrize("sample", [2, 5, None], ids=["sample-2", "sample-5", "default"])
def test_exact_median_is_numpys(values, cuts, sample):
    parts = np.split(values, [c for c in cuts if c <= values.size])
    kwargs = {} if sample is None else {"sample": sample}
    median = float(np.median(values))
    assert dask_stream.exact_median(parts, **kwargs) == median
    # the median absolute deviation as the in-memory fit computes it
    mad = float(np.median(np.abs(values - median)))
    assert dask_stream.exact_median(parts, center=median, **kwargs) == mad


def test_exact_median_reads_delayed_blocks_in_two_passes():
    values = np.random.default_rng(2).normal(size=1000)
    calls = []

    def block(i):
        calls.append(i)
        return values[100 * i:100 * (i + 1)]

    parts = [dask.delayed(block, pure=True)(i) for i in range(10)]
    with dask.config.set(scheduler="synchronous"):
        assert dask_stream.exact_median(parts, sample=8) == float(np.median(values))
    assert len(calls) == 20


def test_minibatches_reach_the_in_memory_loss_and_are_reproducible(client):
    X, y = _regression(2)
    est = wll.LinearModel(batch_size=32, lr=0.01, random_state=0, max_iter=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mem = est.__sklearn_clone__().fit(X, y)
        first = est.__sklearn_clone__().fit(*_dask(X, y, rows=200))
        again = est.__sklearn_clone__().fit(*_dask(X, y, rows=200))
        with dask.config.set(scheduler="threads"):  # another seed, other steps
            other = est.__sklearn_clone__().set_params(random_state=1).fit(*_dask(X, y, 200))
    optimum = wll.LinearRegression().fit(X, y)
    best = float(np.mean((optimum.predict(X) - y) ** 2))  # the least-squares objective
    # a constant step leaves minibatch noise: both end within 1% of the optimum
    assert mem.loss_curve_.min() <= 1.01 * best
    assert first.loss_curve_.min() <= 1.01 * best
    # the same seed: the same block order and shuffles, so the same steps; only the
    # last digit may move (the workers' per-block sums can round differently)
    np.testing.assert_allclose(again.coef_, first.coef_, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(again.loss_curve_, first.loss_curve_, rtol=1e-12)
    assert not np.allclose(other.loss_curve_, first.loss_curve_, rtol=1e-6)


def test_each_epoch_visits_every_row_once_in_a_seeded_block_order(threads, monkeypatch):
    X, y = _regression(3)
    X[:, 0] = np.arange(N)  # the row number, to see which rows a step used
    seen: list[list[int]] = []
    orders: list[list[int]] = []
    stream = dask_stream._Blocks.stream

    def spy(self, order):
        orders.append(list(order))
        rows: list[int] = []
        seen.append(rows)
        for block in stream(self, order):
            rows.extend(int(v) for v in block[0][:, 0])
            yield block

    monkeypatch.setattr(dask_stream._Blocks, "stream", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        wll.LinearModel(batch_size=50, random_state=7, max_iter=3, tol=0).fit(*_dask(X, y))
    assert len(seen) == 3
    for rows in seen:
        assert sorted(rows) == list(range(N))
    assert orders[0] != orders[1] and sorted(orders[0]) == list(range(6))


def test_one_block_is_the_in_memory_fit_exactly(threads):
    X, y = _regression(4)
    for params in [dict(optimizer="adam", batch_size=40), dict(loss="huber", batch_size=25)]:
        est = wll.LinearModel(random_state=3, max_iter=15, **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            mem = est.__sklearn_clone__().fit(X, y)
            dsk = est.__sklearn_clone__().fit(*_dask(X, y, rows=N))
        np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dsk.loss_curve_, mem.loss_curve_, rtol=1e-12)


def test_dataframe_classifier_keeps_names_and_predicts_lazily(threads):
    X, labels = _binary(5)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    ddf = dd.from_pandas(frame, npartitions=4)
    target = dd.from_pandas(pd.Series(labels, name="label"), npartitions=4)
    est = wll.LinearModel(loss="hinge", batch_size=20, random_state=0, max_iter=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mem = est.__sklearn_clone__().fit(frame, labels)
        dsk = est.__sklearn_clone__().fit(ddf, target)
    assert list(dsk.feature_names_in_) == ["a", "b", "c"]
    assert list(dsk.classes_) == ["no", "yes"]
    pred = dsk.predict(ddf)
    assert isinstance(pred, da.Array)
    assert np.mean(pred.compute() == labels) >= mem.score(frame, labels) - 0.03


def test_bad_cells_and_labels_are_errors_naming_the_partition(threads):
    X, y = _regression()
    X = X.copy()
    X[333, 1] = np.nan  # blocks of 110 rows: block 3
    with pytest.raises(ValueError, match=r"NaN: block \(partition\) 3, column 'x1' \(row 333\)"):
        wll.LinearModel(batch_size=10).fit(*_dask(X, y))
    frame = pd.DataFrame(_regression()[0], columns=["a", "b", "c"]).astype({"b": object})
    frame.loc[500, "b"] = "n/a"
    ddf = dd.from_pandas(frame, npartitions=5, sort=False)  # 120 rows each: partition 4
    with pytest.raises(ValueError, match=r"'n/a' in block \(partition\) 4, column 'b'"):
        wll.LinearModel(loss="huber").fit(ddf, y)
    Xc, labels = _binary()
    three = np.where(np.arange(N) % 3 == 0, "maybe", labels)
    with pytest.raises(ValueError, match="Only binary classification"):
        wll.LinearModel(loss="log").fit(*_dask(Xc, three))
    with pytest.raises(ValueError, match="only one class: 'no'"):
        wll.LinearModel(loss="hinge").fit(*_dask(Xc, np.full(N, "no")))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        wll.LinearModel().fit(_dask(X, y)[0], y[:-1])


def test_threaded_scheduler_fits_as_the_synchronous_one():
    # each block's gradient is a backward() on a scheduler thread; a process-wide grad
    # mode let one thread's backward() or no_grad() stop another's recording (a crash,
    # "the tensor does not require grad", in about half of these fits)
    X, y = _regression()
    Xd, yd = _dask(X, y, rows=40)
    params = dict(loss="huber", optimizer="adam", max_iter=150, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with dask.config.set(scheduler="synchronous"):
            expected = wll.LinearModel(**params).fit(Xd, yd).coef_
        for _ in range(2):
            with dask.config.set(scheduler="threads", num_workers=4):
                np.testing.assert_array_equal(wll.LinearModel(**params).fit(Xd, yd).coef_,
                                              expected)
