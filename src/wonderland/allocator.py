"""Keep glibc's malloc from returning freed array memory to the system between steps.

A reverse pass frees several temporaries of the same size at once (the forward values
and cotangents of one step). glibc hands a free stretch at the top of its heap back to
the kernel when it exceeds its trim threshold, and its mmap threshold starts at 128 KiB,
so the next step's arrays of the same size come back as fresh pages: every page faults
again (about 940 faults a step in W3, a third of its time). glibc raises both thresholds
by itself, up to 32 MiB and 64 MiB, only after it has freed an array that large;
wonderland sets those ceilings at import, so arrays under 32 MiB are reused from the heap.

Only glibc on Linux; elsewhere, where the environment sets the thresholds itself, or
with ``WONDERLAND_MALLOC_TUNING=0`` in the environment, nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's own ceiling for its dynamic threshold (64-bit)
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # the trim threshold glibc pairs with it

tuned = False


def tune() -> bool:
    """Set glibc's mmap and trim thresholds to the ceilings of their dynamic range.

    Returns whether they were set: False off glibc, or when ``WONDERLAND_MALLOC_TUNING``
    is ``0``.

    Examples
    --------
    >>> from wonderland import allocator
    >>> allocator.tune() in (True, False)
    True
    """
    global tuned
    if tuned:
        return True
    if os.environ.get("WONDERLAND_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith(
            "linux") or _set_by_environment():
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others: no mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    tuned = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return tuned


def _set_by_environment() -> bool:
    """Whether the process's environment already chose glibc's thresholds (Dask workers
    set ``MALLOC_TRIM_THRESHOLD_`` to give memory back): a choice wonderland keeps."""
    names = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_")
    return any(name in os.environ for name in names) or "glibc.malloc." in os.environ.get(
        "GLIBC_TUNABLES", "")


tune()
