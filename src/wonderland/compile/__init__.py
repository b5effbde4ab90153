"""``wl.compile``: trace a function once per signature, then run its forward and backward
as generated straight-line array code (``trace.py`` records the primitive graph,
``passes.py`` simplifies it, ``codegen.py`` writes the Python source, ``api.py`` caches
it by signature)."""

from .api import CacheInfo, Compiled, compile
from .trace import TraceError

__all__ = ["compile", "Compiled", "CacheInfo", "TraceError"]
