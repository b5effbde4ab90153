"""The peers wonderland is timed against, imported only when a run asks for them.

A peer that cannot be imported is not an error: its rows say "not installed" (or "not
importable" when the import fails for another reason) and the run goes on.
"""

from __future__ import annotations

import importlib
import os
from importlib import metadata
from types import ModuleType

#: The peer names ``--peers`` accepts, in table order, with what each row runs.
PEERS: dict[str, str] = {
    "torch": "PyTorch eager (CPU)",
    "jax": "JAX eager",
    "jax-jit": "JAX jit (compile excluded)",
    "autograd": "HIPS autograd",
    "sklearn": "scikit-learn",
}

_MODULE = {"torch": "torch", "jax": "jax", "jax-jit": "jax", "autograd": "autograd",
           "sklearn": "sklearn"}
_DISTRIBUTION = {"torch": "torch", "jax": "jax", "autograd": "autograd", "sklearn": "scikit-learn"}


class PeerMissing(Exception):
    """A peer cannot run here; the message is the row's text ("not installed (...)")."""


def cores() -> int:
    """The CPU cores this process may run on.

    Examples
    --------
    >>> cores() >= 1
    True
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def short(exc: BaseException, limit: int = 100) -> str:
    """An exception as one short line: its type and the first line of its text.

    Examples
    --------
    >>> short(ModuleNotFoundError("No module named 'torch'"))
    "ModuleNotFoundError: No module named 'torch'"
    """
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _import(module: str) -> ModuleType:
    """``importlib.import_module``; the tests replace it to simulate a missing peer."""
    return importlib.import_module(module)


def load(peer: str) -> ModuleType:
    """Import ``peer``'s module and set it up for the workloads (float64 JAX on the CPU);
    raises :class:`PeerMissing` when it cannot be imported.

    Examples
    --------
    >>> load("sklearn").__name__
    'sklearn'
    >>> load("fortran")
    Traceback (most recent call last):
    ...
    KeyError: "unknown peer 'fortran' (choose from torch, jax, jax-jit, autograd, sklearn)"
    """
    if peer not in _MODULE:
        raise KeyError(f"unknown peer {peer!r} (choose from {', '.join(PEERS)})")
    name = _MODULE[peer]
    if name == "jax":
        os.environ.setdefault("JAX_PLATFORMS", "cpu")  # don't probe for accelerators
    try:
        module = _import(name)
    except ModuleNotFoundError as exc:
        raise PeerMissing(f"not installed ({short(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - installed but broken: still only a row
        raise PeerMissing(f"not importable ({short(exc)})") from None
    # PyTorch keeps its default threads (all cores): calling set_num_threads, even with
    # that same number, made its small strided elementwise ops 50x slower (torch 2.13)
    if name == "jax":
        module.config.update("jax_enable_x64", True)  # the workloads are float64
    return module


def versions(peers: list[str] | tuple[str, ...]) -> dict[str, str]:
    """The installed versions of ``peers``' distributions (jaxlib with jax), by name.

    Examples
    --------
    >>> list(versions(["sklearn"]))
    ['scikit-learn']
    """
    out = {}
    for dist in dict.fromkeys(_DISTRIBUTION[_MODULE[p]] for p in peers):
        for name in (dist, "jaxlib") if dist == "jax" else (dist,):
            try:
                out[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                out[name] = "?"
    return out


__all__ = ["PEERS", "PeerMissing", "cores", "load", "short", "versions"]
