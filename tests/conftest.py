"""Fixtures shared by several modules: a real two-process LocalCluster, the threaded
scheduler, and a garbage collector that walks only what a test makes."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def collect_only_new_objects() -> Iterator[None]:
    """``gc.collect()`` inside the test walks only the objects made after it starts.

    A worker's heap after thousands of tests (and torch, JAX, Dask) makes each full
    collection take a large fraction of a second; the tests that measure memory collect
    many times. Objects from before the test stay alive until it ends (never a false pass:
    at most a false report of growth, which the growth measures show as a failure).
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def local_cluster() -> Iterator[Any]:
    """A client of a fresh LocalCluster: 2 worker processes of 1 thread and 1 GiB each."""
    distributed = pytest.importorskip("distributed")
    # spawned workers (Dask's default): forking a test process that already runs threads
    # (torch's, JAX's, earlier clusters') can leave a worker deadlocked
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       memory_limit="1GiB", dashboard_address=None)
    try:
        with distributed.Client(cluster) as client:
            yield client
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A cluster for the module's tests, closed after them (so that no other module runs
    on it by default)."""
    with local_cluster() as c:
        yield c


@pytest.fixture
def threads() -> Iterator[None]:
    """The threaded scheduler, even while a client exists."""
    dask = pytest.importorskip("dask")
    with dask.config.set(scheduler="threads"):
        yield


class _ClosedAfterFirstLine:
    """A stdout whose reader went away after the first line (`| head -n 1`)."""

    def __init__(self) -> None:
        self.lines = 0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        if self.lines > 1:
            raise BrokenPipeError(32, "Broken pipe")
        return len(text)

    def flush(self) -> None:
        if self.lines > 1:
            raise BrokenPipeError(32, "Broken pipe")


@pytest.fixture
def stdout_closed_after_first_line() -> _ClosedAfterFirstLine:
    """A stand-in for ``sys.stdout`` piped into ``head -n 1``."""
    return _ClosedAfterFirstLine()
