"""Helpers of the ``wonderland bench`` tests: the command in this process, a machine's
environment for hand-made runs, and a peer whose import fails."""

from __future__ import annotations

import contextlib
import io
from typing import Any

from wonderland.bench import peers
from wonderland.cli import bench

ENV = dict(date="2026-12-02T16:00:00", processor="cpu", cores=2, python="3.11",
           platform="Linux", numpy="2", wonderland="0.1", peers={}, missing={}, blas=[],
           seconds=1.0)


def cli(*argv: Any) -> tuple[int, str, str]:
    """``wonderland bench ARGV`` in this process: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = bench.main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


def failing_import(monkeypatch: Any, name: str, error: Exception) -> None:
    """Make the peer ``name`` fail to import with ``error``; the others import as usual."""
    real = peers._import

    def fake(module: str) -> Any:
        if module == name:
            raise error
        return real(module)

    monkeypatch.setattr(peers, "_import", fake)
