"""A worker killed in the middle of a Dask fit: the scheduler recomputes its blocks on
the others (and on the nanny's new worker), and the fit ends with the coefficients of
the in-memory fit.

The data's blocks are slow (a small sleep in ``map_blocks``) so that a pass over them
takes about a second; a background thread waits until the workers are processing the
fit's tasks, then kills one worker process by its pid. The test checks that the kill
landed while the fit was running and that the worker really went (its pid changed).
"""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

import wonderland.linear as wll  # noqa: E402

N, BLOCK, PAUSE = 1200, 40, 0.03  # 30 blocks of 30 ms: about 0.5 s a pass on 2 workers



def _slow(block: np.ndarray, flag: str) -> np.ndarray:
    # a block that takes time to load (as from disk) until the kill: later passes run
    # at full speed, which keeps the test short
    if os.path.exists(flag):
        time.sleep(PAUSE)
    return block


def _dask(X: np.ndarray, y: np.ndarray, flag: str) -> tuple:
    Xd = da.from_array(X, chunks=(BLOCK, X.shape[1])).map_blocks(_slow, flag, dtype=X.dtype)
    return Xd, da.from_array(y, chunks=BLOCK)


class Killer(threading.Thread):
    """Kill one worker process as soon as the cluster is processing tasks."""

    def __init__(self, client: distributed.Client, flag: str) -> None:
        super().__init__(daemon=True)
        self.client, self.flag = client, flag
        self.pids = client.run(os.getpid)  # {worker address: pid}
        self.killed: tuple[str, int] | None = None

    def run(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            busy = [a for a, keys in self.client.processing().items() if keys]
            if busy:
                address = busy[0]
                os.kill(self.pids[address], signal.SIGKILL)
                self.killed = (address, self.pids[address])
                os.remove(self.flag)
                return
            time.sleep(0.005)


def _fit_with_a_kill(client, estimator, X, y, tmp_path):
    client.wait_for_workers(2, timeout=60)  # both there: a kill leaves one working
    flag = tmp_path / "slow"
    flag.touch()
    killer = Killer(client, str(flag))
    killer.start()
    model = estimator.fit(*_dask(X, y, str(flag)))
    finished = time.monotonic()
    killer.join(timeout=5)
    assert killer.killed is not None, "no worker was killed during the fit"
    assert not flag.exists()  # killed while the fit was reading the slow blocks
    address, pid = killer.killed
    # the fit needed the killed worker's task again, so the scheduler has dropped it
    # (the nanny's new worker may still be starting: the next test waits for it)
    now = client.run(os.getpid)
    assert pid not in now.values(), "the killed worker process is still there"
    assert address not in now, "the killed worker's address is still served"
    return model, finished


def test_ridge_survives_a_killed_worker(client, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, 4)) * [1.0, 3.0, 0.1, 10.0] + [2.0, 0.0, 5.0, -1.0]
    y = X @ [1.0, -2.0, 30.0, 0.5] + 3.0 + rng.normal(size=N)
    mem = wll.Ridge(alpha=2.0).fit(X, y)
    start = time.monotonic()
    dsk, finished = _fit_with_a_kill(client, wll.Ridge(alpha=2.0), X, y, tmp_path)
    assert finished - start > 2 * PAUSE  # the fit ran long enough to be hit
    np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dsk.intercept_, mem.intercept_, rtol=0, atol=1e-10 * 100)


def test_logistic_survives_a_killed_worker(client, tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(N, 3)) + [1.0, -1.0, 0.0]
    y = np.array(["cat", "dog"])[(X @ [1.0, 2.0, -1.0] + rng.normal(size=N) > 0) * 1]
    est = wll.LogisticRegression(alpha=1e-3, tol=1e-10)
    mem = est.__sklearn_clone__().fit(X, y)
    dsk, _ = _fit_with_a_kill(client, est.__sklearn_clone__(), X, y, tmp_path)
    assert list(dsk.classes_) == ["cat", "dog"]
    np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(dsk.intercept_, mem.intercept_, rtol=0, atol=1e-8)
