"""The text's first-order Taylor model, ``x -> f(x0) + J(x0) (x - x0)``, built on the
transforms: ``wl.linearize(f, x0)`` returns the model itself, a callable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .autodiff.transforms import _as_input, _require_callable, jacobian
from .primitives.shape import reshape
from .tensor import Tensor

__all__ = ["Linearization", "linearize"]


class Linearization:
    """The first-order Taylor model of ``f`` at ``x0``: ``x -> f(x0) + J(x0) (x - x0)``.

    ``value`` is ``f(x0)``; ``jvp(v)`` is ``J(x0) v`` (the pair that ``jax.linearize``
    returns); ``jacobian`` is ``J(x0)``, the gradient for a scalar ``f``.
    """

    def __init__(self, f: Callable, x0: Any) -> None:
        _require_callable(f, "linearize")
        self.x0 = _as_input(x0, "linearize")
        self.jacobian = jacobian(f, _name="linearize")(self.x0)
        self.value = _as_input(f(self.x0), "linearize")

    def jvp(self, v: Any) -> Tensor:
        """``J(x0) v``: the model's change along ``v``."""
        v = _as_input(v, "linearize")
        if v.shape != self.x0.shape:
            raise ValueError(f"linearize: a direction of shape {v.shape} for a point of shape "
                             f"{self.x0.shape}")
        flat = reshape(self.jacobian, self.value.shape + (self.x0.size,))
        return reshape(flat @ reshape(v, (self.x0.size,)), self.value.shape)

    def __call__(self, x: Any) -> Tensor:
        """The model at ``x``, a point of ``x0``'s shape.

        For a scalar ``f`` of a scalar ``x0`` (the text's tangent line), ``x`` may be an
        array of points: the model is then evaluated at each, e.g. over a grid to plot.
        """
        x = _as_input(x, "linearize")
        if self.x0.ndim == 0 and self.value.ndim == 0:
            return self.value + self.jacobian * (x - self.x0)
        if x.shape != self.x0.shape:
            # x - x0 would broadcast: a model of the wrong point, silently
            raise ValueError(f"linearize: the model was built at a point of shape "
                             f"{self.x0.shape} and takes points of that shape, got shape "
                             f"{x.shape}")
        return self.value + self.jvp(x - self.x0)

    def __repr__(self) -> str:
        return f"Linearization(value={self.value!r}, at={self.x0!r})"


def linearize(f: Callable, x0: Any) -> Linearization:
    """The text's first-order Taylor model: ``x -> f(x0) + <∇f(x0), x - x0>``.

    Unlike ``jax.linearize`` it returns the model itself, a callable; its ``.value`` and
    ``.jvp`` attributes are JAX's pair.

    Examples
    --------
    >>> import wonderland as wl
    >>> model = wl.linearize(lambda x: x**2 - 1.5 * x, 0.5)
    >>> f"{model(0.51).item():.4f}"
    '-0.5050'
    """
    return Linearization(f, x0)
