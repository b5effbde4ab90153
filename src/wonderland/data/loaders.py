"""Data from disk: scikit-learn's bundled datasets and CSV files.

``load_diabetes`` and ``load_breast_cancer`` read the copies shipped inside the
scikit-learn wheel (no network). ``read_csv`` uses only the standard library's ``csv``
module and NumPy, so it works without pandas.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import math
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._arrays import resolve_dtype
from .dataset import Dataset, first_repeated

__all__ = ["load_diabetes", "load_breast_cancer", "read_csv", "read_table"]


def load_diabetes(scaled: bool = True) -> Dataset:
    """The diabetes regression data: 442 patients, 10 baseline measurements.

    The target (``"progression"``) is a quantitative measure of disease progression one
    year after baseline. The features are ``age, sex, bmi`` (body mass index), ``bp``
    (mean blood pressure) and six blood serum measurements ``s1 ... s6``.

    Parameters
    ----------
    scaled : bool
        ``True`` (default, as scikit-learn's ``load_diabetes``): each feature is
        mean-centred and scaled to unit Euclidean norm (its standard deviation times
        ``sqrt(442)``), so the numbers match scikit-learn's examples. ``False``: the raw
        measurements (age in years, bmi in kg/m², sex coded 1/2, ...). The target is
        never scaled.

    Returns
    -------
    Dataset
        ``X`` of shape ``(442, 10)``, ``y`` of shape ``(442,)``, with ``feature_names``,
        ``target_name`` and a one-line ``description``.

    Examples
    --------
    >>> from wonderland.data import load_diabetes
    >>> ds = load_diabetes()
    >>> ds.X.shape, ds.feature_names[2], ds.target_name
    ((442, 10), 'bmi', 'progression')
    >>> round(float(load_diabetes(scaled=False).X[0, 2]), 1)  # bmi of the first patient
    32.1
    """
    from sklearn import datasets

    if not isinstance(scaled, bool):
        raise TypeError(f"load_diabetes: scaled must be True or False, got {scaled!r}")
    bunch = datasets.load_diabetes(scaled=scaled)
    kind = "scaled (mean 0, unit norm)" if scaled else "raw"
    return Dataset(bunch.data, bunch.target, feature_names=list(bunch.feature_names),
                   target_name="progression",
                   description=f"diabetes (Efron et al. 2004): 442 patients, 10 {kind} "
                               f"baseline features, target: disease progression after a year")


def load_breast_cancer() -> Dataset:
    """The Wisconsin diagnostic breast cancer data: 569 tumours, 30 features.

    The features are the mean, standard error and worst value of ten measurements of
    cell nuclei (``"mean radius"``, ..., ``"worst fractal dimension"``), raw and on very
    different scales (areas in the hundreds, smoothness around 0.1). The target
    (``"benign"``) is 1 for benign and 0 for malignant (scikit-learn's coding;
    ``class_names`` gives both).

    Returns
    -------
    Dataset
        ``X`` of shape ``(569, 30)``, ``y`` of shape ``(569,)`` holding ``0.0`` and
        ``1.0``, with ``feature_names``, ``target_name``, ``class_names`` and
        ``description``.

    Examples
    --------
    >>> from wonderland.data import load_breast_cancer
    >>> ds = load_breast_cancer()
    >>> ds.X.shape, ds.feature_names[0], ds.class_names
    ((569, 30), 'mean radius', ('malignant', 'benign'))
    >>> int(ds.y.sum())  # benign tumours
    357
    """
    from sklearn import datasets

    bunch = datasets.load_breast_cancer()
    ds = Dataset(bunch.data, bunch.target, feature_names=list(bunch.feature_names),
                 target_name="benign",
                 description="breast cancer Wisconsin (diagnostic): 569 tumours, 30 raw "
                             "features, target: 1 benign, 0 malignant")
    ds.class_names = tuple(str(name) for name in bunch.target_names)
    return ds


def _where(row: int, line: int) -> str:
    return f"row {row} (line {line} of the file)"


# the separators a file is most often written with: ';' in many European exports, a tab
# in a .tsv
SEPARATORS = (";", "\t", ",", "|")

# how much of a file's head is read to guess its separator
SAMPLE_CHARS = 1 << 16


def separated_by(path: str, delimiter: str) -> str | None:
    """The separator other than ``delimiter`` that the file at ``path`` seems written with,
    or None: one under which its header and first row, parsed as ``read_csv`` parses them
    (a quoted cell may hold the separator or span lines), have the same number (more than
    one) of fields, where ``delimiter`` does not; failing that (a first row that is itself
    defective), the same test on the header alone.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "semi.csv")
    >>> _ = open(path, "w").write('a,b;c;y\\n1;"2\\n3";4\\n')  # ',' in a name, a cell over 2 lines
    >>> separated_by(path, ",")
    ';'
    >>> separated_by(path, ";") is None
    True
    """
    try:
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
            sample = handle.read(SAMPLE_CHARS)
            if handle.read(1):  # (a row cut by the sample's end would miscount)
                sample = sample[:sample.rfind("\n") + 1]
    except OSError:
        return None
    widths = {sep: _record_widths(sample, sep) for sep in dict.fromkeys((*SEPARATORS,
                                                                        delimiter))}
    for keep in (2, 1):
        counts = {sep: set(n[:keep]) for sep, n in widths.items()}
        if len(counts[delimiter]) == 1 and counts[delimiter] != {1}:
            return None
        other = next((sep for sep, n in counts.items() if sep != delimiter and len(n) == 1
                      and n != {1}), None)
        if other is not None:
            return other
    return None


def _record_widths(sample: str, separator: str) -> list[int]:
    """The field counts of the first two records (blank lines skipped) of ``sample``
    parsed with ``separator``; ``[]`` where ``csv`` refuses it."""
    records = (r for r in csv.reader(sample.splitlines(keepends=True), delimiter=separator)
               if any(cell.strip() for cell in r))
    try:
        return [len(record) for record in itertools.islice(records, 2)]
    except csv.Error:
        return []


def _delimiter_hint(path: str, header: list[str], delimiter: str) -> str:
    """A hint to append to an error when the file seems separated by another character
    than ``delimiter`` (``separated_by``), naming it; ``""`` otherwise.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "semi.csv")
    >>> _ = open(path, "w").write("a;b;y\\n1;2;3\\n")
    >>> _delimiter_hint(path, ["a;b;y"], ",")
    "; the header is one column, 'a;b;y': the file seems separated by ';', not ',': pass \
delimiter=';'"
    >>> _delimiter_hint(path, ["a", "b", "y"], ";")
    ''
    """
    other = separated_by(path, delimiter)
    if other is None:
        return ""
    one = f" the header is one column, {header[0]!r}:" if len(header) == 1 else ""
    return f";{one} the file seems separated by {other!r}, not {delimiter!r}: pass " \
        f"delimiter={other!r}"


@contextlib.contextmanager
def _hinting(path: str, header: list[str], delimiter: str) -> Iterator[None]:
    """Append ``_delimiter_hint`` to a ``ValueError`` raised inside."""
    try:
        yield
    except ValueError as exc:
        hint = _delimiter_hint(path, header, delimiter)
        if not hint:
            raise
        raise ValueError(f"{exc}{hint}") from None


def read_csv(path: str | os.PathLike[str], target: str, *, delimiter: str = ",",
             dtype: Any = None) -> Dataset:
    """A Dataset from a CSV file with a header line: ``target`` is ``y``, the rest ``X``.

    Parameters
    ----------
    path : str or path-like
        The file; UTF-8 (a byte-order mark is allowed), first line the column names.
    target : str
        The name of the column to predict.
    delimiter : str
        The field separator (default ``","``).
    dtype : {None, "float32", "float64"}
        The Tensors' dtype (default float64).

    Returns
    -------
    Dataset
        ``feature_names`` are the other columns, in the file's order; ``target_name`` is
        ``target``.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist (the message names it).
    ValueError
        With one line naming the problem: an empty file, a header without data rows, an
        empty or repeated column name, no column ``target`` (the message lists the
        columns there are; when the header reads as one column holding ``;``, a tab,
        ``,`` or ``|``, it names that separator and the ``delimiter=`` to pass), a row
        with too few or too many fields, or an empty,
        non-numeric or non-finite cell. Rows are counted from 0 among the data rows
        (the header is not a row), and the message also gives the line of the file
        (counted from 1), e.g. ``row 3 (line 5 of the file)``. Blank lines are
        skipped.

    Notes
    -----
    Every cell must be a finite number; categorical columns must be encoded first.
    Only the standard library's ``csv`` module and NumPy are used (no pandas).

    Examples
    --------
    >>> import os, tempfile
    >>> from wonderland.data import read_csv
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("age,bmi,y\\n50,22.5,1.5\\n61,30.1,2.0\\n")
    >>> ds = read_csv(path, target="y")
    >>> ds.feature_names, ds.X.shape, ds.y.tolist()
    (['age', 'bmi'], (2, 2), [1.5, 2.0])
    """
    if not isinstance(target, str):
        raise TypeError(f"read_csv: target must be a column name (a str), got {target!r}")
    dtype = resolve_dtype(dtype, "read_csv")
    path_str, header, rows, lines = _open(path, delimiter, "read_csv")
    with _hinting(path_str, header, delimiter):
        if target not in header:
            raise ValueError(f"read_csv: no column {target!r} in {path_str!r}; the columns "
                             f"are: {', '.join(header)}")
        values = _to_numbers(rows, lines, header, path_str, range(len(header)), "read_csv",
                             dtype)
        t = header.index(target)
        features = [name for j, name in enumerate(header) if j != t]
        if not features:
            raise ValueError(f"read_csv: {path_str!r} has only the target column {target!r}; "
                             f"there are no features")
    X = np.delete(values, t, axis=1)
    return Dataset(X, values[:, t], feature_names=features, target_name=target, dtype=dtype,
                   description=f"read from {path_str}")


def _open(path: Any, delimiter: str, where: str) -> tuple[str, list[str], list[list[str]],
                                                        list[int]]:
    """The file's name, header, data rows and their line numbers, or a clear error."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"{where}: path must be a file name, got {type(path).__name__}")
    if not isinstance(delimiter, str) or len(delimiter) != 1:  # (csv's error names no one)
        raise TypeError(f"{where}: delimiter must be one character, e.g. ',' or ';', got "
                        f"{delimiter!r}")
    path_str = os.fspath(path)
    if not os.path.exists(path_str):
        raise FileNotFoundError(f"{where}: no such file: {path_str!r}")
    if os.path.isdir(path_str):
        raise IsADirectoryError(f"{where}: {path_str!r} is a directory, not a CSV file")
    try:
        with open(path_str, newline="", encoding="utf-8-sig") as handle:
            header, rows, lines = _read_rows(handle, path_str, delimiter, where)
    except UnicodeDecodeError:
        raise ValueError(f"{where}: {path_str!r} is not UTF-8 text "
                         f"({_first_bad_byte(path_str)})") from None
    except csv.Error as exc:
        raise ValueError(f"{where}: {path_str!r} is not valid CSV: {exc}") from None
    return path_str, header, rows, lines


def _first_bad_byte(path: str) -> str:
    """Where the file stops being UTF-8: the decoder's own offset counts from the start of
    the chunk it was reading, not of the file, so the file is decoded again as a whole."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return f"{exc.reason} at byte {exc.start}, line {line}"
    return "a byte sequence that is not UTF-8"


def read_table(path: str | os.PathLike[str], columns: list[str] | None = None, *,
               delimiter: str = ",") -> tuple[list[str], np.ndarray]:
    """The numeric columns of a CSV file with a header line, without a target: the
    features to predict from.

    Parameters
    ----------
    path : str or path-like
        The file, as for ``read_csv``.
    columns : list of str, optional
        The columns to read, in this order; the others (a target, say) are ignored and
        not checked. All columns by default.
    delimiter : str
        The field separator.

    Returns
    -------
    (names, values)
        The column names and a float64 array of shape ``(rows, len(names))``.

    Raises
    ------
    FileNotFoundError, ValueError
        As ``read_csv``; a column of ``columns`` that the file lacks is named, with the
        columns there are.

    Examples
    --------
    >>> import os, tempfile
    >>> from wonderland.data import read_table
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("age,bmi,y\\n50,22.5,\\n61,30.1,\\n")
    >>> read_table(path, ["bmi", "age"])
    (['bmi', 'age'], array([[22.5, 50. ],
           [30.1, 61. ]]))
    """
    if isinstance(columns, str):  # (its letters would be taken for column names)
        raise TypeError(f"read_table: columns must be a list of column names, got the string "
                        f"{columns!r}; for one column write [{columns!r}]")
    path_str, header, rows, lines = _open(path, delimiter, "read_table")
    with _hinting(path_str, header, delimiter):
        if columns is None:
            picked = list(range(len(header)))
        else:
            position: dict[str, int] = {}
            for j, name in enumerate(header):
                position.setdefault(name, j)  # (the first of repeated names, as index())
            missing = [name for name in columns if name not in position]
            if missing:
                raise ValueError(f"read_table: no column {missing[0]!r} in {path_str!r}; the "
                                 f"columns are: {', '.join(header)}")
            picked = [position[name] for name in columns]
        values = _to_numbers(rows, lines, header, path_str, picked, "read_table")
    return [header[j] for j in picked], values


def _read_rows(handle: Any, path: str, delimiter: str,
               where: str) -> tuple[list[str], list[list[str]], list[int]]:
    """The header and the data rows (blank lines skipped) with their line numbers."""
    reader = csv.reader(handle, delimiter=delimiter)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    previous = 0  # the line the record before ended on
    for record in reader:
        first, previous = previous + 1, reader.line_num  # (a quoted cell spans lines)
        if not record or (len(record) == 1 and not record[0].strip()):
            continue  # a blank line
        if header is None:
            header = [cell.strip() for cell in record]
            header_line = reader.line_num
            for j, name in enumerate(header):
                if not name:
                    # an empty first name is a saved index; an empty last one, a delimiter
                    # at the end of the line
                    hint = " (a saved index? write the file without it)" if j == 0 else (
                        f": an empty name after a trailing {delimiter!r} at the end of the "
                        f"line; remove it" if j == len(header) - 1 else "")
                    raise ValueError(f"{where}: column {j} of the header (line {header_line} "
                                     f"of {path!r}) has no name{hint}")
            repeat = first_repeated(header)
            if repeat is not None:
                raise ValueError(f"{where}: the header of {path!r} names column "
                                 f"{repeat[0]!r} twice (columns {repeat[1]} and {repeat[2]})")
            continue
        if len(record) != len(header):
            # a quoted cell over several lines: most likely a quote left open
            quote = "" if first == reader.line_num else (
                f"; a quoted cell opened on line {first} runs to line {reader.line_num}: "
                f"is a quote left open there?")
            raise ValueError(f"{where}: {_where(len(rows), first)} of {path!r} has "
                             f"{len(record)} fields but the header has {len(header)}{quote}"
                             f"{_delimiter_hint(path, header, delimiter)}")
        rows.append(record)
        lines.append(reader.line_num)
    if header is None:
        raise ValueError(f"{where}: {path!r} is empty; expected a header line naming the "
                         f"columns, then one line per row")
    if not rows:
        raise ValueError(f"{where}: {path!r} has a header but no data rows")
    return header, rows, lines


def _to_numbers(rows: list[list[str]], lines: list[int], header: list[str], path: str,
                picked: Any, where: str, dtype: np.dtype | None = None) -> np.ndarray:
    """The cells of the ``picked`` columns as ``dtype`` (default float64), or a
    ``ValueError`` naming the first bad one (a finite cell too large for ``dtype`` too)."""
    picked = list(picked)
    if picked != list(range(len(header))):
        rows = [[record[j] for j in picked] for record in rows]

    def place(i: int, k: int) -> str:
        j = picked[k]
        return (f"{_where(i, lines[i])}, column {j} ({header[j]!r}) of {path!r}; rows are "
                f"0-based data rows")

    try:
        values = np.array(rows, dtype=np.float64).reshape(len(rows), len(picked))
    except ValueError:
        values = None
    # float() reads Python's digit separators ("1_000"); a CSV cell with one is a typo
    # or a format no other reader takes, so it goes to the cell-by-cell check below
    if values is None or not np.isfinite(values).all() \
            or any("_" in "".join(record) for record in rows):
        for i, record in enumerate(rows):  # find the first bad cell, in reading order
            for k, cell in enumerate(record):
                text = cell.strip()
                if not text:
                    raise ValueError(f"{where}: empty cell at {place(i, k)}")
                try:
                    if "_" in text:
                        raise ValueError(text)
                    number = float(text)
                except ValueError:
                    raise ValueError(f"{where}: non-numeric value {cell!r} at "
                                     f"{place(i, k)}") from None
                if not math.isfinite(number):
                    raise ValueError(f"{where}: non-finite value {cell!r} at {place(i, k)}")
        if values is None:  # every cell reads alone: convert them one by one
            values = np.array([[float(cell) for cell in record] for record in rows])
    if dtype is None or dtype == values.dtype:
        return values
    with np.errstate(over="ignore"):  # an overflow is reported below, not warned about
        narrow = values.astype(dtype)
    overflow = ~np.isfinite(narrow)
    if overflow.any():
        i, k = (int(v) for v in np.argwhere(overflow)[0])
        raise ValueError(f"{where}: value {rows[i][k]!r} overflows {dtype.name} (largest "
                         f"{float(np.finfo(dtype).max):.8g}; read the file as float64 or "
                         f"rescale the column) at {place(i, k)}")
    return narrow
