"""``wl.linalg``: differentiable linear algebra."""

from .primitives.linalg import cholesky, inv, solve

__all__ = ["solve", "inv", "cholesky"]
