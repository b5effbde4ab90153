"""Automatic differentiation: the reverse pass (and, later, forward mode and transforms)."""

from .reverse import backward, grad_of

__all__ = ["backward", "grad_of"]
