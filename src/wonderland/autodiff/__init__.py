"""Automatic differentiation: the reverse pass, forward mode, the functional transforms
and gradient checks."""

from . import forward  # noqa: F401 - installs the forward-mode hook
from .check import check_grad, numerical_grad
from .reverse import backward, grad_of
from .transforms import (
    Linearization,
    grad,
    hessian,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    linearize,
    value_and_grad,
    vjp,
)

__all__ = ["backward", "grad_of", "grad", "value_and_grad", "vjp", "jvp", "jacrev", "jacfwd",
           "jacobian", "hessian", "linearize", "Linearization", "numerical_grad", "check_grad"]
