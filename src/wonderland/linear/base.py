"""What every ``wl.linear`` estimator shares: input validation in scikit-learn's own terms,
column names for messages, the collinearity warning, ``save``."""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_is_fitted,
    validate_data,
)

__all__ = ["CollinearityWarning", "LinearEstimatorMixin", "NonFiniteError", "TooLargeError",
           "checked_weights", "is_dask", "refuse_dask_weights", "validated"]


def is_dask(obj: Any) -> bool:
    """Whether ``obj`` is a Dask collection. Dask is imported only when the type comes
    from a ``dask`` module, so that the package works without the ``dask`` extra."""
    if not type(obj).__module__.startswith("dask"):
        return False
    import dask

    return bool(dask.is_dask_collection(obj))


# complex numbers, dates and durations: NumPy's float64 conversion drops the imaginary
# part or turns a date into nanoseconds without a word (or fails in its own terms)
_NOT_REAL = {"c": "complex numbers", "m": "durations (timedelta64)",
             "M": "dates (datetime64)"}


def refuse_non_real(data: Any, name: str, what: str = "X") -> None:
    """A ``ValueError`` naming the column of ``X`` (or ``y``: NumPy, pandas or Dask) whose
    dtype is complex, a date or a duration, read from the dtypes alone (nothing is
    converted or computed)."""
    frame = hasattr(data, "columns") and getattr(data, "ndim", None) == 2
    dtypes = list(data.dtypes) if frame else [getattr(data, "dtype", None)]
    for j, dtype in enumerate(dtypes):
        kind = getattr(dtype, "kind", "O")
        if kind in _NOT_REAL:
            column = f" column {data.columns[j]!r}" if frame else ""
            raise ValueError(f"{name}: {what}{column} holds {_NOT_REAL[kind]} (dtype "
                             f"{dtype}); convert it to real numbers first" + (
                                 " (Complex data not supported)" if kind == "c" else ""))


def validated(estimator: Any, X: Any, y: Any = "no_validation", **options: Any) -> Any:
    """scikit-learn's ``validate_data`` (float64, no sparse input), whose error for a column
    of text names the column: ``"Ridge: column 'city' of X is not numeric (e.g. 'Paris');
    encode it first"`` rather than ``could not convert string to float``.

    The offending column is found by looking at the columns themselves whenever the
    conversion fails, not by reading the failure's message: NumPy and pandas word it
    differently by dtype mix (a categorical of text beside a bool column gives
    ``Cannot cast str dtype to float64``).
    """
    name = type(estimator).__name__
    refuse_non_real(X, name)
    if not isinstance(y, str) and y is not None:
        refuse_non_real(y, name, "y")
    try:
        out = validate_data(estimator, X, y, dtype=np.float64, accept_sparse=False, **options)
        if options.get("y_numeric"):  # (scikit-learn converts only object arrays)
            out = out[0], np.asarray(out[1], dtype=np.float64)
            # scikit-learn checks an object y for NaN before it converts it, by y != y,
            # which None passes; converted, None is NaN: unchecked, the coefficients came
            # out NaN without a word (one pass over y, not over X)
            _check_finite_target(out[1])
        return out
    except OverflowError:  # a number beyond float64 (10**400 in an object column)
        where = first_too_large(np.asarray(X, dtype=object).reshape(_num_samples(X), -1))
        if where is not None:
            row, j, what = where
            column = list(X.columns)[j] if hasattr(X, "columns") else j
            raise ValueError(f"{name}: X has {what}, too large for float64, in row {row}, "
                             f"column {column!r}") from None
        where = None if isinstance(y, str) or y is None else \
            first_too_large(np.asarray(y, dtype=object).reshape(_num_samples(y), -1))
        if where is None:
            raise
        raise ValueError(f"{name}: y has {where[2]}, too large for float64, in row "
                         f"{where[0]}") from None
    except (ValueError, TypeError) as exc:
        if str(exc).startswith("Found input variables with inconsistent numbers"):
            # scikit-learn's "[2, 3]" does not say which is X and which is y
            raise ValueError(f"{name}: X has {_num_samples(X)} rows but y has "
                             f"{_num_samples(y)} values; they must match ({exc})") from None
        column, value = _text_column(X)
        if column is not None:
            raise ValueError(f"{name}: column {column!r} of X is not numeric (e.g. {value!r});"
                             f" encode it first, for instance with scikit-learn's "
                             f"OneHotEncoder") from None
        if not options.get("y_numeric") or y is None or isinstance(y, str):
            raise
        try:  # scikit-learn's "Input y contains NaN." names no row
            _check_finite_target(np.asarray(y, dtype=np.float64))
        except (ValueError, TypeError) as exc:
            if str(exc).startswith("Input y contains"):
                raise exc from None
        column, value = _text_column(np.reshape(np.asarray(y), (-1, 1)))
        if column is None:
            raise
        raise ValueError(f"{name}: y is not numeric (e.g. {value!r}); a regression target "
                         f"must be numbers") from None


def classification_data(estimator: Any, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """``validated`` X and class labels y, a missing label (NaN, None, pandas' NA) named by
    its row: scikit-learn's "Input y contains NaN." names none, and None or NA among text
    labels failed later, in ``np.unique``, as a TypeError."""
    try:
        X, labels = validated(estimator, X, y, copy=False, ensure_all_finite=False)
    except (ValueError, TypeError):
        _refuse_missing_labels(estimator, y)
        raise
    if labels.dtype == object:  # (numbers were checked for NaN above; text has no NaN)
        _refuse_missing_labels(estimator, labels)
    return X, labels


def _refuse_missing_labels(estimator: Any, y: Any) -> None:
    if y is None:  # (scikit-learn's own error: y is required)
        return
    try:
        values = np.asarray(y, dtype=object).reshape(-1)
    except (ValueError, TypeError):
        return
    for row, v in enumerate(values):  # (Python objects: one look each)
        if v is None or type(v).__name__ in ("NAType", "NaTType") or \
                isinstance(v, float | np.floating) and v != v:
            raise ValueError(f"{type(estimator).__name__}: y has a missing class label at "
                             f"row {row} ({v!r}; NaN, None and NA are missing values): drop "
                             f"that row or give it its class")


def _check_finite_target(y: np.ndarray) -> None:
    """A ``ValueError`` naming the first missing (None, NaN) or infinite value of ``y``
    (a vector, or one column per target), by row, and its column when there are several."""
    bad = ~np.isfinite(y)
    if not bad.any():
        return
    flat = int(np.argmax(bad.ravel()))
    row, *column = (int(i) for i in np.unravel_index(flat, y.shape))
    what = "NaN (a missing value)" if np.isnan(y.flat[flat]) else "infinity"
    where = f"row {row}" + (f", column {column[0]}" if column else "")
    raise ValueError(f"Input y contains {what} at {where}")


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
    """The first column of ``X`` (its name, or its index) holding text that is not a
    number, and that text; ``(None, None)`` if there is none.

    Decided from each column's dtype where that settles it (numbers and bools are
    numbers; a categorical is judged by its categories), else from its values.
    """
    if hasattr(X, "columns") and hasattr(X, "iloc"):  # a DataFrame: column by column
        names = list(X.columns)
        columns: Any = (X.iloc[:, j] for j in range(len(names)))
    else:
        try:
            data = np.asarray(X)
        except (TypeError, ValueError):
            return None, None
        if data.ndim != 2 or data.dtype.kind in "biufc":  # (no object copy of numbers)
            return None, None
        names = list(range(data.shape[1]))
        columns = data.T
    for name, column in zip(names, columns):
        value = _text_value(column)
        if value is not None:
            return name, value
    return None, None


def _text_value(column: Any) -> str | bytes | None:
    """The first value of ``column`` (a Series or a 1-D array) that is text and not a
    number, else None. Other values that are not numbers (a dict, a date) are left to
    scikit-learn's own error."""
    dtype = getattr(column, "dtype", None)
    if getattr(dtype, "kind", "O") in "biufc":  # numeric NumPy and pandas dtypes, bool
        return None
    categories = getattr(dtype, "categories", None)  # a categorical: its categories say
    values = np.asarray(column if categories is None else categories, dtype=object).ravel()
    for v in values:
        if isinstance(v, (str, bytes)):
            try:
                float(v)  # (" 1.5" is a number to NumPy too)
            except ValueError:
                return v
    return None


class CollinearityWarning(UserWarning):
    """Some columns of ``X`` are (nearly) linear combinations of the others.

    The least-squares coefficients are then not unique; the estimator names the
    columns involved and returns the minimum-norm solution. ``LogisticRegression``
    with ``alpha=0`` does the same: the log-loss does not determine the coefficients
    along the dependency either.
    """


def column_names(estimator: Any, n_features: int) -> list[str]:
    """The DataFrame column names seen in ``fit``, else ``x0, x1, …``."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and len(names) == n_features:
        return [str(c) for c in names]
    return [f"x{j}" for j in range(n_features)]


class NonFiniteError(ValueError):
    """``X`` holds a NaN or an infinity; the message names the first one's row and column
    (0-based; the column by name once ``named`` has the names)."""

    def __init__(self, value: float, row: int, column: int, n_features: int,
                 name: str | None = None) -> None:
        self.value, self.row, self.column, self.n_features = value, row, column, n_features
        self.name = name
        what = "NaN" if np.isnan(value) else "infinity"
        where = f"column {column}" if name is None else f"column {name!r}"
        super().__init__(f"Input X contains {what} at row {row}, {where}")

    def named(self, names: Sequence[str]) -> NonFiniteError:
        """The same error, naming the column by ``names[column]``."""
        return NonFiniteError(self.value, self.row, self.column, self.n_features,
                              names[self.column])


def locate_non_finite(X: np.ndarray, names: Sequence[str] | None = None) -> None:
    """Raise ``NonFiniteError`` for the first NaN or infinity of the 2-D ``X`` (in row
    order), if there is one. A full scan with a boolean copy of ``X``: callers run it
    only once a cheaper test has failed."""
    bad = ~np.isfinite(X)
    rows = bad.any(axis=1)
    if not rows.any():
        return
    i = int(np.argmax(rows))
    j = int(np.argmax(bad[i]))
    exc = NonFiniteError(float(X[i, j]), i, j, X.shape[1])
    raise exc if names is None else exc.named(names)


def check_finite(X: np.ndarray, names: Sequence[str] | None = None) -> None:
    """Raise ``NonFiniteError`` if the 2-D ``X`` has a NaN or an infinity: one sum (no
    copy) when it has none, as scikit-learn's check."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(X)):  # an overflowing sum of finite values is scanned too
            return
    locate_non_finite(X, names)


class TooLargeError(ValueError):
    """``X`` holds finite values so large that their squares (or sums) overflow float64;
    the message names the column (by name once ``named`` has the names) and, when
    known, the row of its largest value (0-based).

    Examples
    --------
    >>> print(TooLargeError(3, 2, row=0, value=1e200))
    Input X has values so large that their squares overflow float64 in column 2 (e.g. \
1e+200 at row 0); rescale the features
    """

    def __init__(self, n_features: int, column: int, name: str | None = None,
                 row: int | None = None, value: float | None = None) -> None:
        self.n_features, self.column, self.name = n_features, column, name
        self.row, self.value = row, value
        where = f"column {column}" if name is None else f"column {name!r}"
        example = "" if row is None else f" (e.g. {value:g} at row {row})"
        super().__init__(f"Input X has values so large that their squares overflow float64 "
                         f"in {where}{example}; rescale the features")

    def named(self, names: Sequence[str]) -> TooLargeError:
        """The same error, naming the column by ``names[column]``."""
        return TooLargeError(self.n_features, self.column, str(names[self.column]),
                             self.row, self.value)


def regression_scores(y: Any, fitted: Any) -> tuple[float, float]:
    """``(R², RMSE)`` of ``fitted`` for the targets ``y``, the deviations scaled by the
    largest first: the squares of a target of 1e200 overflowed float64, and R² came out
    inf/inf = NaN, read as a constant target. R² is NaN for a constant target only.

    Examples
    --------
    >>> regression_scores([1e200, -1e200, 3e200], [0.0, 0.0, 2e200])
    (0.625, 1e+200)
    """
    y, fitted = np.asarray(y, dtype=np.float64), np.asarray(fitted, dtype=np.float64)
    top = float(np.max(np.abs(y), initial=0.0)) or 1.0
    deviation, residual = y - float(np.mean(y / top)) * top, y - fitted
    scale = max(float(np.max(np.abs(deviation), initial=0.0)),
                float(np.max(np.abs(residual), initial=0.0)))
    if not scale > 0 or not math.isfinite(scale):  # a perfect fit, or NaN and inf
        scale = 1.0
    total = float(np.sum((deviation / scale) ** 2))
    error = float(np.sum((residual / scale) ** 2))
    r2 = 1.0 - error / total if total > 0 else float("nan")
    return r2, scale * math.sqrt(error / len(y)) if len(y) else float("nan")


def first_too_large(values: np.ndarray) -> tuple[int, int, str] | None:
    """``(row, column, what)`` of the first number of the 2-D object array ``values`` (in
    row order) that float64 cannot hold (``what``: "an integer of 401 digits", "a
    Fraction"), or None (an error path only)."""
    for (i, j), cell in np.ndenumerate(values):
        if isinstance(cell, float | np.floating | bool):
            continue
        try:
            float(cell)
        except OverflowError:
            return i, j, f"an integer of {len(str(abs(cell)))} digits" if \
                isinstance(cell, int) else f"a {type(cell).__name__}"
        except (TypeError, ValueError):
            continue
    return None


def too_large(sums: np.ndarray, n_features: int, names: Sequence[str] | None = None,
              X: np.ndarray | None = None) -> TooLargeError:
    """The ``TooLargeError`` for per-column ``sums`` (one or more arrays of
    ``n_features`` entries, concatenated) of which one is not finite although ``X`` is:
    its column, and, given the in-memory ``X``, the row of that column's largest value
    (one pass over one column)."""
    flat = int(np.argmax(~np.isfinite(np.ravel(sums))))
    column = flat % n_features
    row = value = None
    if X is not None:
        row = int(np.argmax(np.abs(X[:, column])))
        value = float(X[row, column])
    exc = TooLargeError(n_features, column, row=row, value=value)
    return exc if names is None else exc.named(names)


def check_finite_from_sums(X: np.ndarray, sums: np.ndarray,
                           names: Sequence[str] | None = None) -> None:
    """Raise ``NonFiniteError`` (naming the row and the column) if ``X`` has a NaN or an
    infinity.

    ``sums`` are reductions of ``X`` that a solver computes anyway (column sums, the
    diagonal of ``XᵀX``): a NaN or an infinity in ``X`` makes them non-finite, so the
    usual separate pass over ``X`` is only needed when they are. Finite values whose
    squares or sums overflow raise ``TooLargeError`` (``sums`` are then one or more
    arrays of one entry per column, concatenated). The column is named by
    ``names`` when given, else by its index (``LinearEstimatorMixin._naming_columns``
    puts the estimator's names in).
    """
    if np.all(np.isfinite(sums)):
        return
    locate_non_finite(X, names)
    raise too_large(sums, X.shape[1], names, X)


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


def check_bool(owner: str, name: str, value: Any) -> None:
    """Validate a flag: ``True`` or ``False`` only (NumPy's bools too), as scikit-learn's
    parameter validation, so that ``"False"`` (from a config file, say) is not taken as
    true nor ``None`` as false. scikit-learn's ``InvalidParameterError`` (a ``ValueError``
    and a ``TypeError``)."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{owner}: {name} must be a bool (True or False), got "
                                    f"{value!r}")


@contextlib.contextmanager
def all_or_nothing(estimator: Any) -> Iterator[None]:
    """Around the body of ``fit``: when it raises (bad data found half way, Ctrl-C), the
    estimator's attributes are restored. Validation sets ``n_features_in_`` and
    ``classes_`` before the data's NaN is found, and a half-updated model would refuse,
    or mislabel, the data of its previous fit. (A ``with`` block, not a decorator: the
    warnings' stack levels count the frames between ``fit`` and its caller.)

    Examples
    --------
    >>> class Model:
    ...     pass
    >>> m = Model()
    >>> try:
    ...     with all_or_nothing(m):
    ...         m.n_features_in_ = 5
    ...         raise ValueError("a NaN in X")
    ... except ValueError:
    ...     pass
    >>> hasattr(m, "n_features_in_")
    False
    """
    before = dict(estimator.__dict__)
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(before)
        raise


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
        """``X`` for ``predict``: validated, its first NaN or infinity named by row and
        column."""
        check_is_fitted(self)
        X = validated(self, X, reset=False, ensure_all_finite=False)
        check_finite(X, column_names(self, X.shape[1]))
        return X

    @contextlib.contextmanager
    def _naming_columns(self) -> Iterator[None]:
        """Name the column (as in ``fit``'s DataFrame, else ``x0, x1, …``) in a
        ``NonFiniteError`` or ``TooLargeError`` raised inside: the checks of ``blocks``
        see only the array. Use after validation, which sets ``feature_names_in_``."""
        try:
            yield
        except (NonFiniteError, TooLargeError) as exc:
            if exc.name is not None:
                raise
            raise exc.named(column_names(self, exc.n_features)) from None

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
