"""The table of primitives, grouped by kind, and the functions built on them."""

from . import elementwise, linalg, methods, reductions, shape  # noqa: F401 - installs methods

__all__ = ["elementwise", "linalg", "methods", "reductions", "shape"]
