"""``wl.linear``: linear models as scikit-learn estimators, fitted through wonderland.

``LinearRegression`` (normal equations, QR/SVD or gradient descent), ``Ridge``,
``LogisticRegression`` (damped Newton, L-BFGS or gradient descent; binary and
softmax) and ``LinearModel`` (any loss of ``wl.losses`` on a linear model, trained by
``wl.optim``). Each passes scikit-learn's ``check_estimator``; ``model.save(path)`` and
``load(path)`` keep a fitted model in JSON or ``.npz`` (no pickle).

The solvers read the data through ``blocks`` (sums over row blocks: Gram matrices,
log-loss gradients and Hessians), never copying or writing ``X``.
"""

from .base import CollinearityWarning
from .generic import LinearModel
from .least_squares import LinearRegression, Ridge
from .loading import load
from .logistic import LogisticRegression

__all__ = ["CollinearityWarning", "LinearRegression", "Ridge", "LogisticRegression",
           "LinearModel", "load"]
