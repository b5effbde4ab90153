"""``wl.optim``: gradient descent and its relatives, stateful and functional."""

from . import schedules
from .minimize import MinimizeResult, State, Trace, minimize
from .optimizers import GD, SGD, Adam, Momentum, Nesterov, Optimizer

__all__ = ["GD", "SGD", "Momentum", "Nesterov", "Adam", "Optimizer", "minimize", "MinimizeResult",
           "State", "Trace", "schedules"]
