"""``wl.linear.load``: a model file read back as the estimator of ``wl.linear`` it names
(the file format and its checks live in ``io``; this module knows the classes)."""

from __future__ import annotations

import os
from typing import Any

from . import io
from .generic import LinearModel
from .least_squares import LinearRegression, Ridge
from .logistic import LogisticRegression

ESTIMATORS = {c.__name__: c for c in (LinearRegression, Ridge, LogisticRegression,
                                      LinearModel)}


def load(path: str | os.PathLike) -> Any:
    """Read a model written by ``model.save(path)`` (``.json`` or ``.npz``).

    Raises ``ValueError`` naming the file if it is not a valid model file of
    ``wl.linear`` (tampered, truncated, foreign); nothing in the file is executed.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import wonderland.linear as wll
    >>> model = wll.LinearRegression().fit([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> model.save(path)
    >>> restored = wll.load(path)
    >>> type(restored).__name__, restored.predict([[3.0]]).round(6).tolist()
    ('LinearRegression', [7.0])
    """
    return io.load(path, ESTIMATORS)
