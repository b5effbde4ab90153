"""The text's first-order Taylor model, ``x -> f(x0) + J(x0) (x - x0)``, built on the
transforms: ``wl.linearize(f, x0)`` returns the model itself, a callable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .autodiff.transforms import jacobian
from .primitives.shape import reshape
from .tensor import Tensor
from .transform_inputs import as_input, require_callable, split_aux

__all__ = ["Linearization", "linearize"]

_NO_AUX = object()  # a model built without has_aux (None is a valid aux)


class Linearization:
    """The first-order Taylor model of ``f`` at ``x0``: ``x -> f(x0) + J(x0) (x - x0)``.

    ``value`` is ``f(x0)``; ``jvp(v)`` is ``J(x0) v`` (the pair that ``jax.linearize``
    returns); ``jacobian`` is ``J(x0)``, the gradient for a scalar ``f``. With
    ``has_aux=True``, ``f`` returns ``(output, aux)``: the model is that of the output,
    and ``aux`` is the auxiliary data ``f`` returned at ``x0`` (JAX's third value).
    """

    def __init__(self, f: Callable, x0: Any, has_aux: bool = False) -> None:
        what = require_callable(f, "linearize", has_aux)
        self.x0 = as_input(x0, "linearize")
        self._aux: Any = _NO_AUX
        if not has_aux:
            self.jacobian = jacobian(f, _name="linearize")(self.x0)
            _one_output(self.jacobian, what, hint=True)
            self.value = as_input(f(self.x0), "linearize")
            return

        def output_and_pair(x: Any) -> tuple[Any, tuple[Any, Any]]:
            # one evaluation of f gives the Jacobian, the value and the aux alike (JAX's
            # aux is likewise that of the one evaluation at x0)
            out, aux = split_aux(f(x), True, what)
            return out, (out, aux)

        output_and_pair.__name__ = output_and_pair.__qualname__ = getattr(f, "__name__", "f")
        self.jacobian, (value, aux) = jacobian(output_and_pair, has_aux=True,
                                               _name="linearize")(self.x0)
        _one_output(self.jacobian, what, hint=False)
        self.value = as_input(value, "linearize")
        self._aux = aux

    @property
    def aux(self) -> Any:
        """The auxiliary data ``f`` returned at ``x0``, for a model built with
        ``has_aux=True`` (its tensors cut from the graph, as JAX's)."""
        if self._aux is _NO_AUX:
            raise AttributeError("linearize: this model has no aux; build it with "
                                 "wl.linearize(f, x0, has_aux=True), f returning "
                                 "(output, aux)")
        return self._aux

    def jvp(self, v: Any) -> Tensor:
        """``J(x0) v``: the model's change along ``v``."""
        v = as_input(v, "linearize")
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
        x = as_input(x, "linearize")
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


def _one_output(jac: Any, what: str, hint: bool) -> None:
    """A TypeError for an ``f`` that returned a tuple (its Jacobian is then a tuple): the
    model would silently stack the outputs into one value with no Jacobian to match."""
    if isinstance(jac, tuple):
        advice = ("if the second is auxiliary data, pass has_aux=True (as jax.linearize); "
                  "else " if hint and len(jac) == 2 else "")
        raise TypeError(f"{what}: the function returned a tuple of {len(jac)} outputs, but "
                        f"the Taylor model is of one output, a Tensor; {advice}stack them "
                        f"into one tensor (wl.stack) or linearize each")


def linearize(f: Callable, x0: Any, has_aux: bool = False) -> Linearization:
    """The text's first-order Taylor model: ``x -> f(x0) + <∇f(x0), x - x0>``.

    Unlike ``jax.linearize`` it returns the model itself, a callable; its ``.value`` and
    ``.jvp`` attributes are JAX's pair, and with ``has_aux=True`` its ``.aux`` is JAX's
    third value.

    Parameters
    ----------
    f : callable
        A function of one tensor returning a Tensor, or with ``has_aux`` a pair
        ``(output, aux)`` of which only ``output`` is modelled.
    x0 : Tensor or array-like
        The point of tangency: a number, a list, an array or a Tensor (integers are
        promoted to float64).
    has_aux : bool
        Whether ``f`` returns ``(output, aux)``; ``aux`` (anything: a tensor, a dict of
        them, a number) is kept, as ``f`` returned it at ``x0``, in the model's ``.aux``.

    Returns
    -------
    Linearization
        The model, a callable of a point of ``x0``'s shape, with ``.value`` (``f(x0)``),
        ``.jvp(v)``, ``.jacobian`` and, with ``has_aux``, ``.aux``.

    Examples
    --------
    >>> import wonderland as wl
    >>> model = wl.linearize(lambda x: x**2 - 1.5 * x, 0.5)
    >>> f"{model(0.51).item():.4f}"
    '-0.5050'
    >>> model = wl.linearize(lambda x: (x**2, {"cube": x**3}), 2.0, has_aux=True)
    >>> model(2.1).item(), model.aux["cube"].item()
    (4.4, 8.0)
    """
    return Linearization(f, x0, has_aux)
