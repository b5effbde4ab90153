"""What every ``wl.linear`` estimator shares: input validation in scikit-learn's own terms,
column names for messages, the collinearity warning, ``save``."""

from __future__ import annotations

import numbers
import os
import warnings
from typing import Any

import numpy as np
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

__all__ = ["CollinearityWarning", "LinearEstimatorMixin", "checked_weights", "is_dask",
           "refuse_dask_weights", "validated"]


def is_dask(obj: Any) -> bool:
    """Whether ``obj`` is a Dask collection. Dask is imported only when the type comes
    from a ``dask`` module, so that the package works without the ``dask`` extra."""
    if not type(obj).__module__.startswith("dask"):
        return False
    import dask

    return bool(dask.is_dask_collection(obj))


def validated(estimator: Any, X: Any, y: Any = "no_validation", **options: Any) -> Any:
    """scikit-learn's ``validate_data`` (float64, no sparse input), whose error for a column
    of text names the column: ``"Ridge: column 'city' of X is not numeric (e.g. 'Paris');
    encode it first"`` rather than ``could not convert string to float``."""
    try:
        out = validate_data(estimator, X, y, dtype=np.float64, accept_sparse=False, **options)
        if options.get("y_numeric"):  # (scikit-learn converts only object arrays)
            out = out[0], np.asarray(out[1], dtype=np.float64)
        return out
    except ValueError as exc:
        if "could not convert" not in str(exc):
            raise
        name = type(estimator).__name__
        column, value = _text_column(X)
        if column is not None:
            raise ValueError(f"{name}: column {column!r} of X is not numeric (e.g. {value!r});"
                             f" encode it first, for instance with scikit-learn's "
                             f"OneHotEncoder") from None
        column, value = _text_column(np.reshape(np.asarray(y, dtype=object), (-1, 1)))
        if column is None:
            raise
        raise ValueError(f"{name}: y is not numeric (e.g. {value!r}); a regression target "
                         f"must be numbers") from None


def checked_weights(estimator: Any, sample_weight: Any, X: np.ndarray) -> np.ndarray | None:
    """``sample_weight`` as float64 weights, one per row of ``X`` (None stays None):
    scikit-learn's checks (non-negative, not all 0, finite, of the right length), the
    error naming the estimator."""
    if sample_weight is None:
        return None
    try:
        return _check_sample_weight(sample_weight, X, dtype=np.float64,
                                    ensure_non_negative=True)
    except ValueError as exc:
        raise ValueError(f"{type(estimator).__name__}: {exc}") from None


def refuse_dask_weights(estimator: Any, sample_weight: Any) -> None:
    """The error for ``sample_weight`` with Dask input (the Dask paths take none)."""
    if sample_weight is not None:
        raise ValueError(f"{type(estimator).__name__}: sample_weight is not supported with "
                         f"Dask input; fit NumPy arrays, or repeat rows instead of weighting "
                         f"them")


def _text_column(X: Any) -> tuple[Any, Any]:
    """The first column of ``X`` (its name, or its index) that does not convert to float,
    and a value in it that does not."""
    columns = list(X.columns) if hasattr(X, "columns") else None
    data = np.asarray(X, dtype=object)
    if data.ndim != 2:
        return None, None
    for j in range(data.shape[1]):
        for v in data[:, j]:
            try:
                float(v)
            except (TypeError, ValueError):
                return (columns[j] if columns is not None else j), v
    return None, None


class CollinearityWarning(UserWarning):
    """Some columns of ``X`` are (nearly) linear combinations of the others.

    The least-squares coefficients are then not unique; the estimator names the
    columns involved and returns the minimum-norm solution.
    """


def column_names(estimator: Any, n_features: int) -> list[str]:
    """The DataFrame column names seen in ``fit``, else ``x0, x1, …``."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and len(names) == n_features:
        return [str(c) for c in names]
    return [f"x{j}" for j in range(n_features)]


def check_finite_from_sums(X: np.ndarray, sums: np.ndarray) -> None:
    """Raise scikit-learn's own error if ``X`` has a NaN or an infinity.

    ``sums`` are reductions of ``X`` that a solver computes anyway (column sums, the
    diagonal of ``XᵀX``): a NaN or an infinity in ``X`` makes them non-finite, so the
    usual separate pass over ``X`` is only needed when they are.
    """
    if np.all(np.isfinite(sums)):
        return
    assert_all_finite(X, input_name="X")  # raises with scikit-learn's message
    raise ValueError("Input X has values so large that their squares overflow float64; "
                     "rescale the features")


def check_number(owner: str, name: str, value: Any, *, low: float | None = None,
                 low_inclusive: bool = True, integer: bool = False,
                 allow_none: bool = False) -> None:
    """Validate one hyper-parameter, with an error naming the estimator and the parameter."""
    if value is None and allow_none:
        return
    kind = numbers.Integral if integer else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if ok and not integer:
        ok = bool(np.isfinite(value))
    if ok and low is not None:
        ok = value >= low if low_inclusive else value > low
    if not ok:
        what = "an integer" if integer else "a finite number"
        if low is not None:
            what += f" {'>=' if low_inclusive else '>'} {low}"
        if allow_none:
            what += " or None"
        raise ValueError(f"{owner}: {name} must be {what}, got {value!r}")


def check_choice(owner: str, name: str, value: Any, choices: tuple[str, ...]) -> None:
    """Validate a string option."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{owner}: {name} must be one of {list(choices)}, got {value!r}")


class LinearEstimatorMixin:
    """Validation helpers and ``save`` for the estimators of ``wl.linear``."""

    def _validate_X_y(self, X: Any, y: Any, *, numeric_y: bool, ensure_all_finite: bool = True,
                      multi_output: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``validate_data`` without a copy of float64 input; ``y`` of shape ``(n, 1)`` is
        ravelled with scikit-learn's ``DataConversionWarning``, unless ``multi_output``
        (``y`` of shape ``(n, k)``: ``k`` targets) keeps it as it is."""
        return validated(self, X, y, copy=False, y_numeric=numeric_y,
                         ensure_all_finite=ensure_all_finite, multi_output=multi_output)

    def _validate_X(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        return validated(self, X, reset=False)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R² (regressors) or accuracy (classifiers) of ``predict(X)`` against ``y``, as in
        scikit-learn. With Dask input the predictions and ``y`` (vectors, not ``X``) are
        computed first."""
        if is_dask(X) or is_dask(y) or is_dask(sample_weight):
            import dask

            if hasattr(y, "to_dask_array"):
                with warnings.catch_warnings():  # string labels: an object array, fine
                    warnings.filterwarnings("ignore", message=".*string to object dtype")
                    y = y.to_dask_array(lengths=True)
            pred, y, sample_weight = dask.compute(self.predict(X), y, sample_weight)
            if hasattr(self, "classes_"):
                from sklearn.metrics import accuracy_score

                return float(accuracy_score(y, pred, sample_weight=sample_weight))
            from sklearn.metrics import r2_score

            return float(r2_score(y, pred, sample_weight=sample_weight))
        return super().score(X, y, sample_weight=sample_weight)  # type: ignore[misc]

    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted model to ``path``: ``.json`` or ``.npz`` (no pickle).

        Read it back with ``wl.linear.load(path)``.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from wonderland.linear import Ridge, load
        >>> model = Ridge(alpha=0.5).fit(np.arange(8.0).reshape(4, 2), [0.0, 1.0, 2.0, 4.0])
        >>> path = os.path.join(tempfile.mkdtemp(), "ridge.json")
        >>> model.save(path)
        >>> bool(np.allclose(load(path).coef_, model.coef_))
        True
        """
        from .io import save

        save(self, path)
