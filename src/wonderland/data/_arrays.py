"""Turning user input (arrays, lists, Tensors, pandas objects) into checked NumPy arrays.

Every error is a ``ValueError`` (a ``TypeError`` for a wrong kind of argument) that says
what is wrong in the user's words: which argument, which shape, and for a bad value the
first bad row and column, counted from 0.
"""

from __future__ import annotations

import numbers
import sys
from typing import Any

import numpy as np

from ..tensor import Tensor

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def is_dataframe(value: Any) -> bool:
    """Whether ``value`` is a pandas DataFrame (without importing pandas)."""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(value, pd.DataFrame)


def is_series(value: Any) -> bool:
    """Whether ``value`` is a pandas Series (without importing pandas)."""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(value, pd.Series)


def resolve_dtype(dtype: Any, where: str) -> np.dtype | None:
    """``None``, or ``float32``/``float64`` as a NumPy dtype; anything else is an error."""
    if dtype is None:
        return None
    try:
        out = np.dtype(dtype)
    except TypeError:  # (not None for "not a dtype": np.dtype(None) == float64)
        out = np.dtype("O")
    if out not in _FLOATS:
        raise ValueError(f"{where}: dtype must be float32 or float64, got {dtype!r}")
    return out


def _position(index: tuple[int, ...], names: list[str] | None) -> str:
    if len(index) == 1:
        return f"row {index[0]}"
    row, col = index
    label = f" ({names[col]!r})" if names is not None and col < len(names) else ""
    return f"row {row}, column {col}{label}"


def _first_non_numeric(array: np.ndarray) -> tuple[tuple[int, ...], Any] | None:
    """The first cell (in row order) that ``float()`` cannot read, and its value."""
    for index in np.ndindex(array.shape):
        cell = array[index]
        if isinstance(cell, bool | np.bool_):
            continue
        if isinstance(cell, str | bytes) or not isinstance(cell, numbers.Real) or \
                type(cell) is int:  # (an int may be too large for a float: 10**400)
            try:
                float(cell)
            except (TypeError, ValueError, OverflowError):
                if isinstance(cell, np.generic):
                    cell = cell.item()
                return tuple(int(i) for i in index), cell
    return None


def _values(count: int) -> str:
    return f"{count} value{'' if count == 1 else 's'}"


def _ragged(value: list | tuple) -> str | None:
    """A description of the first row whose length differs from row 0's, if any."""
    lengths = []
    for row in value:
        try:
            lengths.append(len(row))
        except TypeError:
            lengths.append(None)
    first = lengths[0] if lengths else None
    for i, length in enumerate(lengths):
        if length != first:
            got = "a single value" if length is None else _values(length)
            want = "a single value" if first is None else _values(first)
            return f"row {i} has {got} but row 0 has {want}"
    return None


def to_array(value: Any, name: str, where: str, ndim: int, dtype: np.dtype | None = None,
             names: list[str] | None = None) -> np.ndarray:
    """``value`` as a float32/float64 NumPy array of ``ndim`` (1 or 2) dimensions with
    finite entries (a matrix also needs at least one column).

    float32 input stays float32, everything else becomes float64, unless ``dtype`` says
    otherwise. ``name`` is the argument's name in messages (``"X"``), ``where`` the
    function's (``"Dataset"``).
    """
    if isinstance(value, Tensor):
        array = value.numpy()
    elif is_dataframe(value) or is_series(value):
        if is_dataframe(value) and ndim == 1:
            got = f"a DataFrame of shape {value.shape}"
            raise ValueError(f"{where}: {name} must be 1-D (n_samples,), got {got}; pass one "
                             f"column (a Series), e.g. df[{str(value.columns[0])!r}]")
        if is_series(value) and ndim == 2:
            raise ValueError(f"{where}: {name} must be 2-D (n_samples, n_features), got a "
                             f"Series of length {len(value)}; use series.to_frame()")
        if ndim == 2 and value.shape[1] == 0:
            raise ValueError(f"{where}: {name} has no columns (shape {value.shape}); it needs "
                             f"at least one feature")
        return _pandas_to_array(value, name, where, dtype)
    elif isinstance(value, str | bytes | dict | set):
        raise TypeError(f"{where}: {name} must be an array, a list of numbers, a Tensor or a "
                        f"pandas object, got {type(value).__name__}")
    else:
        try:
            array = np.asarray(value)
        except ValueError:
            ragged = _ragged(value) if isinstance(value, list | tuple) else None
            detail = f": {ragged}" if ragged else ""
            raise ValueError(f"{where}: {name} is ragged{detail}; every row needs the same "
                             f"number of values") from None
    if ndim == 2:
        check_matrix(array, name, where)
    elif array.ndim != 1:
        got = "a scalar" if array.ndim == 0 else f"shape {array.shape}"
        hint = f"; use {name}.ravel()" if array.ndim == 2 and 1 in array.shape else ""
        raise ValueError(f"{where}: {name} must be 1-D (n_samples,), got {got}{hint}")
    return _checked(array, name, where, dtype, names)


def _checked(array: np.ndarray, name: str, where: str, dtype: np.dtype | None,
             names: list[str] | None) -> np.ndarray:
    kind = array.dtype.kind
    if kind in "fiub":
        target = dtype or (array.dtype if array.dtype == np.float32 else np.dtype(np.float64))
        with np.errstate(over="ignore"):  # an overflow is named below, not warned about
            out = array.astype(target, copy=True)
        if kind == "f" and out.dtype.itemsize < array.dtype.itemsize:
            _check_narrowing(array, out, name, where, names)
    elif kind in "OUS":
        bad = _first_non_numeric(array)
        if bad is not None:
            index, cell = bad
            at = f" at {_position(index, names)}"
            what = f"an integer of {len(str(abs(cell)))} digits, too large for a float" if \
                type(cell) is int else f"a non-numeric value {cell!r}"
            raise ValueError(f"{where}: {name} has {what}{at}; positions are 0-based")
        out = array.astype(dtype or np.float64)
    else:
        raise ValueError(f"{where}: {name} must hold real numbers, got an array of dtype "
                         f"{array.dtype}")
    finite = np.isfinite(out)
    if not finite.all():
        flat = int(np.argmax(~finite.ravel()))
        index = tuple(int(i) for i in np.unravel_index(flat, out.shape))
        at = f" at {_position(index, names)}"
        raise ValueError(f"{where}: {name} has a non-finite value ({out[index]}){at}; "
                         f"positions are 0-based")
    return out


def _check_narrowing(source: np.ndarray, out: np.ndarray, name: str, where: str,
                     names: list[str] | None) -> None:
    """A ``ValueError`` naming the first finite value of ``source`` that became an
    infinity in the narrower ``out`` (``dtype="float32"`` on 1e40): the finiteness
    check would call it a non-finite value of the data, which it is not."""
    lost = ~np.isfinite(out) & np.isfinite(source)
    if not lost.any():
        return
    flat = int(np.argmax(lost.ravel()))
    index = tuple(int(i) for i in np.unravel_index(flat, out.shape))
    raise ValueError(f"{where}: {name} has a value {float(source[index]):g} at "
                     f"{_position(index, names)} that overflows {out.dtype.name} (largest "
                     f"{float(np.finfo(out.dtype).max):.8g}); use dtype='float64' or rescale "
                     f"it; positions are 0-based")


def _refuse_non_real(column: Any, j: int, names: list[str], name: str, where: str,
                     series: bool) -> None:
    """A ``ValueError`` for a column of complex numbers, dates or durations: pandas
    converts them to float64 without a word (a date becomes a count of nanoseconds, a
    complex number loses its imaginary part), where a NumPy array of them is refused."""
    kind = getattr(column.dtype, "kind", "O")
    if kind in "cmM":
        at = "" if series else f" column {j} ({names[j]!r})"
        raise ValueError(f"{where}: {name}{at} must hold real numbers, got dtype "
                         f"{column.dtype}; convert it first (e.g. dates to a number of "
                         f"days)")


def _pandas_to_array(value: Any, name: str, where: str,
                     dtype: np.dtype | None) -> np.ndarray:
    frame = value.to_frame() if is_series(value) else value
    names = [str(c) for c in frame.columns]
    columns, non_numeric = [], []  # (row, column, cell) of each column's first text cell
    for j in range(frame.shape[1]):
        column = frame.iloc[:, j]
        _refuse_non_real(column, j, names, name, where, is_series(value))
        try:
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            values = column.to_numpy(dtype=object)
            bad = _first_non_numeric(values)
            non_numeric.append((bad[0][0], j, bad[1]) if bad is not None else (0, j, values[0]))
            continue
        keep32 = column.dtype == np.float32
        columns.append(values.astype(np.float32) if keep32 else values)
    if non_numeric:  # the first in row order, as for an array
        row, j, cell = min(non_numeric, key=lambda found: found[:2])
        where_ = f"row {row}, column {j} ({names[j]!r})" if not is_series(value) \
            else f"row {row}"
        raise ValueError(f"{where}: {name} has a non-numeric value {cell!r} at {where_}; "
                         f"positions are 0-based")
    if not columns:
        array = np.empty((frame.shape[0], 0))
    else:
        all32 = all(c.dtype == np.float32 for c in columns)
        array = np.stack(columns, axis=1).astype(np.float32 if all32 else np.float64)
    if is_series(value):
        array = array[:, 0]
        names = None
    return _checked(array, name, where, dtype, names)


def frame_names(value: Any) -> list[str] | None:
    """The column names of a DataFrame (as strings), else ``None``."""
    if is_dataframe(value):
        return [str(c) for c in value.columns]
    return None


def default_names(n_features: int) -> list[str]:
    """``["x0", "x1", ...]``."""
    return [f"x{j}" for j in range(n_features)]


def check_matrix(array: np.ndarray, name: str, where: str) -> None:
    """A ``ValueError`` unless ``array`` is 2-D with at least one column."""
    if array.ndim != 2:
        got = "a scalar" if array.ndim == 0 else f"shape {array.shape}"
        hint = f"; for one feature use {name}.reshape(-1, 1)" if array.ndim == 1 else ""
        raise ValueError(f"{where}: {name} must be 2-D (n_samples, n_features), got {got}{hint}")
    if array.shape[1] == 0:
        raise ValueError(f"{where}: {name} has no columns (shape {array.shape}); it needs at "
                         f"least one feature")
