"""Automatic differentiation: the reverse pass, forward mode and the functional
transforms."""

from . import forward  # noqa: F401 - installs the forward-mode hook
from .reverse import backward, grad_of
from .transforms import grad, hessian, jacfwd, jacobian, jacrev, jvp, value_and_grad, vjp

__all__ = ["backward", "grad_of", "grad", "value_and_grad", "vjp", "jvp", "jacrev", "jacfwd",
           "jacobian", "hessian"]
