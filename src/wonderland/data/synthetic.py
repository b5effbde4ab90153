"""Synthetic data: the text's linear model, a collinear variant, a binary classification.

Each generator returns a :class:`~wonderland.data.Dataset`; the ones made from a known
linear model also carry it (``true_coef``, ``true_intercept``, ``noise``), so that a fit
can be checked against the truth.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..creation import tensor
from ._arrays import resolve_dtype
from .dataset import Dataset, Seed, _count, random_generator

__all__ = ["make_linear", "make_collinear", "make_classification"]


def _variance(noise: Any, where: str) -> float:
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
        raise TypeError(f"{where}: noise must be a number (the variance of the noise), got "
                        f"{noise!r}")
    noise = float(noise)
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"{where}: noise is the variance of the noise and must be finite and "
                         f">= 0, got {noise}")
    return noise


def _real(value: Any, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(float(value)):
        raise ValueError(f"{where}: {name} must be a finite number, got {value!r}")
    return float(value)


def _linear_dataset(X: np.ndarray, w: np.ndarray, b: float, noise: float,
                    rng: np.random.Generator, dtype: Any, description: str) -> Dataset:
    y = X @ w + b + rng.normal(0.0, math.sqrt(noise), X.shape[0])
    ds = Dataset(X, y, dtype=dtype, description=description)
    ds.true_coef = tensor(w, dtype=ds.X.dtype)
    ds.true_intercept = b
    ds.noise = noise
    return ds


def make_linear(n: int, c: int, noise: float = 0.01, seed: Seed = None, *,
                intercept: float = 0.0, dtype: Any = None) -> Dataset:
    """The text's linear model: ``w_i ~ N(0, 1)``, ``X_ij ~ N(0, 1)``, ``y = Xw + ε``.

    Parameters
    ----------
    n : int
        Number of rows.
    c : int
        Number of features.
    noise : float
        The **variance** of the noise: ``ε_i ~ N(0, noise)`` in the ``N(mean,
        variance)`` notation of the text, so the default ``0.01`` is the text's
        ``ε ~ N(0, 0.01)``, a standard deviation of ``0.1``. (scikit-learn's
        ``make_regression(noise=...)`` is a standard deviation instead.) ``0`` gives
        ``y = Xw`` exactly.
    seed : int, numpy Generator or None
        An int makes the data reproducible; ``None`` draws from wonderland's global
        generator (``wl.manual_seed``).
    intercept : float
        A constant ``b`` added to every target: ``y = Xw + b + ε`` (default 0, the text).
    dtype : {None, "float32", "float64"}
        The Tensors' dtype (default float64).

    Returns
    -------
    Dataset
        With ``X`` of shape ``(n, c)``, ``y`` of shape ``(n,)``, and the model that made
        them: ``true_coef`` (the Tensor ``w``, shape ``(c,)``), ``true_intercept``
        (``b``) and ``noise`` (the variance).

    Notes
    -----
    The draws are, in this order: ``w``, then ``X`` row by row, then ``ε``.

    Examples
    --------
    >>> import numpy as np
    >>> from wonderland.data import make_linear
    >>> ds = make_linear(200, 3, seed=0)
    >>> ds.X.shape, ds.y.shape, ds.true_coef.shape
    ((200, 3), (200,), (3,))
    >>> w_hat = np.linalg.lstsq(ds.X.numpy(), ds.y.numpy(), rcond=None)[0]
    >>> bool(np.allclose(w_hat, ds.true_coef.numpy(), atol=0.05))
    True
    """
    where = "make_linear"
    n, c = _count(n, "n", where), _count(c, "c", where)
    noise = _variance(noise, where)
    b = _real(intercept, "intercept", where)
    dtype = resolve_dtype(dtype, where)
    rng = random_generator(seed, where)
    w = rng.standard_normal(c)
    X = rng.standard_normal((n, c))
    return _linear_dataset(X, w, b, noise, rng, dtype,
                           f"linear model y = Xw + b + eps, eps ~ N(0, {noise:g}): "
                           f"{n} rows, {c} features")


def make_collinear(n: int = 100, c: int = 3, noise: float = 0.01, seed: Seed = None, *,
                   pair: tuple[int, int] = (0, 1), jitter: float = 0.0,
                   intercept: float = 0.0, dtype: Any = None) -> Dataset:
    """Linear-model data in which two columns are (nearly) the same: the text's ``x1 = x2``.

    As :func:`make_linear`, then column ``pair[1]`` is overwritten with column
    ``pair[0]`` (plus ``jitter`` times fresh standard normal noise), before ``y`` is
    computed. With ``jitter=0`` the two columns are identical, ``XᵀX`` is singular and
    ``w`` is not identifiable: only ``w[pair[0]] + w[pair[1]]`` is.

    Parameters
    ----------
    n : int
        Number of rows.
    c : int
        Number of features, at least 2.
    noise : float
        The variance of the noise ``ε`` (see :func:`make_linear`).
    seed : int, numpy Generator or None
        The randomness (see :func:`make_linear`).
    pair : (int, int)
        The two columns made collinear, 0-based: column ``pair[1]`` copies ``pair[0]``.
    jitter : float
        Standard deviation of the difference between the two columns; ``0`` (default)
        makes them exactly equal, a small value nearly collinear.
    intercept : float
        A constant added to every target.
    dtype : {None, "float32", "float64"}
        The Tensors' dtype (default float64).

    Returns
    -------
    Dataset
        As :func:`make_linear` (``true_coef``, ``true_intercept``, ``noise``), plus
        ``collinear``: the pair of column positions.

    Examples
    --------
    >>> import numpy as np
    >>> from wonderland.data import make_collinear
    >>> ds = make_collinear(50, seed=0)
    >>> X = ds.X.numpy()
    >>> bool(np.array_equal(X[:, 0], X[:, 1])), ds.collinear, ds.feature_names
    (True, (0, 1), ['x0', 'x1', 'x2'])
    >>> int(np.linalg.matrix_rank(X))
    2
    """
    where = "make_collinear"
    n, c = _count(n, "n", where), _count(c, "c", where, minimum=2)
    noise = _variance(noise, where)
    jitter = _real(jitter, "jitter", where)
    if jitter < 0:
        raise ValueError(f"{where}: jitter is a standard deviation and must be >= 0, got "
                         f"{jitter}")
    b = _real(intercept, "intercept", where)
    try:
        first, second = pair
    except (TypeError, ValueError):
        raise ValueError(f"{where}: pair must be two column positions, got {pair!r}") from None
    for j in (first, second):
        if isinstance(j, bool) or not isinstance(j, numbers.Integral) or not 0 <= j < c:
            raise ValueError(f"{where}: pair must be two different column positions from 0 to "
                             f"{c - 1}, got {pair!r}")
    if first == second:
        raise ValueError(f"{where}: pair must name two different columns, got {pair!r}")
    dtype = resolve_dtype(dtype, where)
    rng = random_generator(seed, where)
    w = rng.standard_normal(c)
    X = rng.standard_normal((n, c))
    X[:, second] = X[:, first]
    if jitter > 0:
        X[:, second] += jitter * rng.standard_normal(n)
    ds = _linear_dataset(X, w, b, noise, rng, dtype,
                         f"linear model with collinear columns {first} and {second}: "
                         f"{n} rows, {c} features")
    ds.collinear = (int(first), int(second))
    return ds


def make_classification(n: int = 100, c: int = 2, seed: Seed = None, *,
                        n_informative: int | None = None, class_sep: float = 1.0,
                        flip_y: float = 0.0, weights: Any = None,
                        dtype: Any = None) -> Dataset:
    """A binary classification problem: labels 0 and 1 (as floats ``0.0``/``1.0``).

    A wrapper of scikit-learn's ``make_classification`` with two classes, one Gaussian
    cluster per class around vertices of a hypercube of side ``2 * class_sep`` in the
    ``n_informative`` informative directions, and the rest of the ``c`` columns noise.

    Parameters
    ----------
    n : int
        Number of rows, at least 2.
    c : int
        Number of features.
    seed : int, numpy Generator or None
        An int is passed to scikit-learn as ``random_state`` (so the data equal
        ``sklearn.datasets.make_classification`` with the settings above); ``None``
        draws it from wonderland's global generator (``wl.manual_seed``).
    n_informative : int, optional
        How many columns carry the signal (default: all ``c``).
    class_sep : float
        Distance scale between the classes: larger is easier.
    flip_y : float
        Fraction of labels reassigned at random (label noise), in [0, 1]: as in
        scikit-learn, a reassigned label is drawn from both classes, so about half of
        them keep their value (``flip_y=0.2`` changes about 10% of the labels).
    weights : (float, float), optional
        Proportions of the two classes, summing to 1 (default balanced).
    dtype : {None, "float32", "float64"}
        The Tensors' dtype (default float64).

    Returns
    -------
    Dataset
        ``X`` of shape ``(n, c)``; ``y`` of shape ``(n,)`` holding ``0.0`` and ``1.0``
        (use ``ds.y.numpy().astype(int)`` for integer labels, ``2 * y - 1`` for the
        ``{-1, +1}`` labels of the hinge loss).

    Examples
    --------
    >>> from wonderland.data import make_classification
    >>> ds = make_classification(100, 4, seed=0)
    >>> ds.X.shape, sorted(set(ds.y.tolist()))
    ((100, 4), [0.0, 1.0])
    """
    from sklearn.datasets import make_classification as sk_make_classification

    where = "make_classification"
    n, c = _count(n, "n", where, minimum=2), _count(c, "c", where)
    informative = c if n_informative is None else _count(n_informative, "n_informative",
                                                          where)
    if informative > c:
        raise ValueError(f"{where}: n_informative={informative} is more than the c={c} "
                         f"features")
    class_sep = _real(class_sep, "class_sep", where)
    flip_y = _real(flip_y, "flip_y", where)
    if not 0.0 <= flip_y <= 1.0:
        raise ValueError(f"{where}: flip_y is a fraction in [0, 1], got {flip_y}")
    if weights is not None:
        given = weights
        try:
            weights = [float(v) for v in weights] if not isinstance(weights, str) else None
        except (TypeError, ValueError):
            weights = None
        if weights is None or len(weights) not in (1, 2) or \
                any(not 0 <= v <= 1 for v in weights) or \
                len(weights) == 2 and abs(sum(weights) - 1.0) > 1e-9:  # ((0.6, 0.6): 60/40)
            raise ValueError(f"{where}: weights are the proportions of the two classes, "
                             f"summing to 1, e.g. (0.9, 0.1), got {given!r}")
    dtype = resolve_dtype(dtype, where)
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        state = int(seed)
    else:
        state = int(random_generator(seed, where).integers(0, 2**31 - 1))
    X, y = sk_make_classification(
        n_samples=n, n_features=c, n_informative=informative, n_redundant=0, n_repeated=0,
        n_classes=2, n_clusters_per_class=1, weights=weights, flip_y=flip_y,
        class_sep=class_sep, random_state=state)
    return Dataset(X, y, dtype=dtype, target_name="label",
                   description=f"binary classification (labels 0 and 1): {n} rows, "
                               f"{c} features, {informative} informative")
