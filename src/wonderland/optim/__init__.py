"""``wl.optim``: gradient descent and its relatives, stateful and functional."""

from . import schedules
from .minimize import MinimizeResult, State, Trace, minimize
from .optimizers import GD, Adam, Momentum, Nesterov, Optimizer

__all__ = ["GD", "Momentum", "Nesterov", "Adam", "Optimizer", "minimize", "MinimizeResult",
           "State", "Trace", "schedules"]
