"""``Dataset``: a checked pair ``(X, y)`` of Tensors with batching and splitting."""

from __future__ import annotations

import math
import numbers
import reprlib
import warnings
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import numpy as np

from .. import creation
from ..tensor import Tensor, as_tensor
from ._arrays import (
    default_names,
    frame_names,
    is_series,
    resolve_dtype,
    to_array,
)

__all__ = ["Dataset"]

Seed = int | np.random.Generator | None


def random_generator(seed: Seed, where: str) -> np.random.Generator:
    """A NumPy generator for ``seed``: an int (a fresh, reproducible stream), a
    ``numpy.random.Generator`` (used as is) or ``None`` (wonderland's global generator,
    which ``wl.manual_seed`` resets)."""
    if seed is None:
        return creation._rng
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{where}: seed must be a non-negative int, a numpy Generator or None, "
                        f"got {seed!r} ({type(seed).__name__})")
    if seed < 0:
        raise ValueError(f"{where}: seed must be non-negative, got {seed}")
    return np.random.default_rng(int(seed))


def _count(value: Any, name: str, where: str, minimum: int = 1) -> int:
    """``value`` as an int of at least ``minimum``, else a clear error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be a whole number, got {value!r} "
                        f"({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{where}: {name} must be at least {minimum}, got {value}")
    return int(value)


def _ceil_share(fraction: numbers.Real, n: int) -> int:
    """``ceil(fraction * n)`` in exact decimal arithmetic on the fraction as written: the
    float product rounds ``0.07 * 100`` up to ``7.000000000000001`` (8 rows, not 7) and
    ``np.float32(0.3)`` is ``0.30000001...``; the shortest decimal that reads back as the
    value (its ``str``) is what the user typed."""
    try:
        exact = Fraction(str(fraction))
    except ValueError:  # a Real type whose str is no decimal: its binary value
        exact = Fraction(float(fraction))
    return math.ceil(exact * n)


def _dtype_of(values: Any) -> np.dtype | None:
    """The dtype of ``values`` when it is a float32/float64 array, Tensor or Series."""
    dtype = getattr(values, "dtype", None)
    try:
        dtype = np.dtype(dtype) if dtype is not None else None
    except TypeError:
        return None
    return dtype if dtype in (np.dtype(np.float32), np.dtype(np.float64)) else None


def first_repeated(names: list[str]) -> tuple[str, int, int] | None:
    """The first name of ``names`` that appears twice, with its two positions, or None.

    Examples
    --------
    >>> first_repeated(["a", "b", "a"]), first_repeated(["a", "b"])
    (('a', 0, 2), None)
    """
    seen: dict[str, int] = {}
    for j, name in enumerate(names):
        if name in seen:
            return name, seen[name], j
        seen[name] = j
    return None


def _refuse_repeated(names: list[str], where: str) -> None:
    """A ``ValueError`` naming the first column name that appears twice, and both
    positions: rows are looked up and reported by name (``read_csv`` refuses a repeated
    header name too, and scikit-learn a DataFrame with repeated columns)."""
    repeat = first_repeated(names)
    if repeat is not None:
        name, i, j = repeat
        raise ValueError(f"{where}: the feature name {name!r} is used twice (columns {i} "
                         f"and {j}); column names must be unique")


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool | np.bool_)


def _index_array(index: Any, n: int) -> np.ndarray:
    """A list (or other sequence) of row positions or a boolean mask as an array, refusing
    what NumPy would quietly reinterpret: ``[True, 1]`` becomes ``[1, 1]`` (positions),
    a lone iterator becomes a 0-d object array."""
    if isinstance(index, Iterator):
        raise TypeError(f"Dataset indices are an int, a slice, a list or array of ints, or a "
                        f"boolean mask; got an iterator ({type(index).__name__}): pass "
                        f"list(...) of it")
    if isinstance(index, list):
        _refuse_mixed(index, index)
    positions = np.asarray(index)
    if positions.dtype == object and positions.ndim == 1:
        entries = positions.tolist()
        _refuse_mixed(entries, index)
        if entries and all(_is_bool(v) for v in entries):
            return np.array(entries, dtype=bool)
        for i, v in enumerate(entries):
            if not isinstance(v, numbers.Integral):
                raise IndexError(f"Dataset index entry {i} is {v!r} "
                                 f"({type(v).__name__}); indices are ints or bools")
            if not -n <= v < n:  # (an int too large for int64 lands here)
                raise IndexError(f"Dataset index {v} is out of range for {n} rows")
        positions = np.array(entries, dtype=np.int64)
    return positions


def _refuse_mixed(entries: list, index: Any) -> None:
    """An ``IndexError`` when ``entries`` mix booleans with other integers."""
    flags = [_is_bool(v) for v in entries]
    if any(flags) and not all(flags) and all(
            flag or isinstance(v, numbers.Integral) for flag, v in zip(flags, entries)):
        odd = flags.index(not flags[0])  # the first entry unlike entry 0
        raise IndexError(f"Dataset index {reprlib.repr(index)} mixes booleans and integers "
                         f"(entry {odd} is {entries[odd]!r}, entry 0 is {entries[0]!r}); pass "
                         f"only booleans (a mask with one entry per row) or only integers "
                         f"(row positions)")


class Dataset:
    """Features ``X`` (n rows, c columns) and targets ``y`` (n values), checked once.

    Parameters
    ----------
    X : array_like of shape (n_samples, n_features)
        A NumPy array, nested list, Tensor or pandas DataFrame of real numbers.
    y : array_like of shape (n_samples,)
        A NumPy array, list, Tensor or pandas Series of real numbers.
    feature_names : sequence of str, optional
        Names of the columns of ``X``. Default: a DataFrame's column names, else
        ``x0, x1, ...``.
    target_name : str, optional
        Name of ``y``. Default: a Series' name, else ``"y"``.
    description : str, optional
        A line saying what the data is.
    dtype : {None, "float32", "float64"}
        The dtype of ``X`` and ``y``. Default: float32 input stays float32, all else
        (integers, booleans, float64, numeric strings) becomes float64; a ``y`` that is
        not float32 or float64 (integer labels, a list) takes the dtype of ``X``.

    Attributes
    ----------
    X : Tensor of shape (n_samples, n_features)
    y : Tensor of shape (n_samples,)
    feature_names : list of str
    target_name : str
    description : str

    Raises
    ------
    ValueError
        When ``X`` is not 2-D, ``y`` not 1-D, their lengths differ, a feature name is
        repeated, or a value is not a finite real number; the message names the first
        bad row and column (0-based).

    Notes
    -----
    A Dataset may have 0 rows (as PyTorch's ``TensorDataset``; an empty selection
    ``ds[ds.y > 1e9]`` is one): ``len`` is 0 and iterating yields nothing,
    :meth:`batches` warns that the epoch has no batches, :meth:`split` refuses it, and
    the estimators of ``wl.linear`` refuse to fit it.

    The data are copied: later changes to the input do not reach the Dataset. Other
    attributes set on a Dataset (the generators add ``true_coef``) carry over to the
    Datasets made from it by indexing and :meth:`split`.

    Examples
    --------
    >>> from wonderland.data import Dataset
    >>> ds = Dataset([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [0.0, 1.0, 2.0])
    >>> len(ds), ds.X.shape, ds.feature_names
    (3, (3, 2), ['x0', 'x1'])
    >>> x, y = ds[1]
    >>> x, y
    (tensor([3., 4.]), tensor(1.))
    >>> len(ds[1:])
    2
    >>> Dataset([[1.0, float("nan")]], [0.0])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Dataset: X has a non-finite value (nan) at row 0, column 1; ...
    """

    def __init__(self, X: Any, y: Any, *, feature_names: Any = None,
                 target_name: str | None = None, description: str = "",
                 dtype: Any = None) -> None:
        where = "Dataset"
        dtype = resolve_dtype(dtype, where)
        names = frame_names(X)
        if feature_names is not None:
            if isinstance(feature_names, str):
                raise TypeError(f"{where}: feature_names must be a sequence of names, not one "
                                f"string {feature_names!r}")
            names = [str(name) for name in feature_names]
        Xa = to_array(X, "X", where, 2, dtype, names)
        if names is not None and len(names) != Xa.shape[1]:
            raise ValueError(f"{where}: {len(names)} feature_names for the {Xa.shape[1]} "
                             f"columns of X")
        if names is not None:
            _refuse_repeated(names, where)
        ya = to_array(y, "y", where, 1, dtype or _dtype_of(y) or Xa.dtype)
        if Xa.shape[0] != ya.shape[0]:
            raise ValueError(f"{where}: X has {Xa.shape[0]} rows but y has {ya.shape[0]} "
                             f"values; they must match")
        if target_name is None:
            series_name = y.name if is_series(y) else None
            target_name = "y" if series_name is None else str(series_name)
        self._Xa, self._ya = Xa, ya
        self._X, self._y = as_tensor(Xa), as_tensor(ya)
        self.feature_names: list[str] = names if names is not None else default_names(
            Xa.shape[1])
        self.target_name: str = str(target_name)
        self.description: str = str(description)

    # ------------------------------------------------------------------ the data
    @property
    def X(self) -> Tensor:
        """The features, a Tensor of shape ``(n_samples, n_features)``."""
        return self._X

    @property
    def y(self) -> Tensor:
        """The targets, a Tensor of shape ``(n_samples,)``."""
        return self._y

    @property
    def n_samples(self) -> int:
        """The number of rows."""
        return self._Xa.shape[0]

    @property
    def n_features(self) -> int:
        """The number of columns of ``X``."""
        return self._Xa.shape[1]

    @property
    def shape(self) -> tuple[int, int]:
        """``X.shape``: ``(n_samples, n_features)``."""
        return self._Xa.shape

    def numpy(self) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)`` as NumPy arrays (copies).

        Examples
        --------
        >>> from wonderland.data import Dataset
        >>> X, y = Dataset([[1.0], [2.0]], [3.0, 4.0]).numpy()
        >>> X.shape, y.tolist()
        ((2, 1), [3.0, 4.0])
        """
        return self._Xa.copy(), self._ya.copy()

    def __len__(self) -> int:
        return self._Xa.shape[0]

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        for i in range(len(self)):
            yield as_tensor(self._Xa[i]), as_tensor(self._ya[i])

    def __getitem__(self, index: Any) -> Any:
        """``ds[i]`` is the pair ``(X[i], y[i])``; a slice, a list or array of positions
        or a boolean mask gives a Dataset of those rows. A list mixing booleans and
        integers (``[True, 1]``) is an ``IndexError``: NumPy would read it as positions."""
        n = len(self)
        if isinstance(index, Tensor):
            index = index.numpy()
        if isinstance(index, np.ndarray) and index.ndim == 0 and index.dtype.kind in "iu":
            index = index.item()  # ds[wl.argmax(ds.y)]: one position, as PyTorch takes it
        if isinstance(index, numbers.Integral) and not isinstance(index, bool | np.bool_):
            i = int(index)
            if not -n <= i < n:
                raise IndexError(f"Dataset index {i} is out of range for {n} rows")
            return as_tensor(self._Xa[i]), as_tensor(self._ya[i])
        if isinstance(index, slice):
            return self._subset(np.arange(n)[index])
        if isinstance(index, tuple | str | float | bool | np.bool_ | dict | set) \
                or index is None:
            raise TypeError(f"Dataset indices are an int, a slice, a list or array of ints, or "
                            f"a boolean mask; got {type(index).__name__}")
        positions = _index_array(index, n)
        if positions.ndim != 1:
            raise IndexError(f"Dataset index array must be 1-D, got shape {positions.shape}")
        if positions.dtype == bool:
            if positions.shape[0] != n:
                raise IndexError(f"Dataset boolean mask has {positions.shape[0]} entries for "
                                 f"{n} rows")
            return self._subset(np.flatnonzero(positions))
        if positions.size == 0:
            positions = positions.astype(np.intp)
        if positions.dtype.kind not in "iu":
            raise IndexError(f"Dataset index array must hold ints or bools, got dtype "
                             f"{positions.dtype}")
        bad = (positions < -n) | (positions >= n)
        if bad.any():
            raise IndexError(f"Dataset index {int(positions[np.argmax(bad)])} is out of range "
                             f"for {n} rows")
        return self._subset(positions)

    def _subset(self, rows: np.ndarray) -> Dataset:
        new = object.__new__(Dataset)
        new.__dict__.update(self.__dict__)
        new._Xa, new._ya = self._Xa[rows], self._ya[rows]
        new._X, new._y = as_tensor(new._Xa), as_tensor(new._ya)
        new.feature_names = list(self.feature_names)
        return new

    # The raw arrays are the tensors' own: pickled once, as the tensors, and bound to them
    # again on loading. A tensor rebuilt from read-only data (joblib's memmap of 1 MB or
    # more) takes a copy of its own, and the rows and batches must read that copy.
    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("_Xa", "_ya")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._Xa, self._ya = self._X._data, self._y._data

    def __repr__(self) -> str:
        names = self.feature_names
        shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
        n, c = len(self), self.n_features
        return (f"Dataset({n} row{'' if n == 1 else 's'}, {c} feature{'' if c == 1 else 's'} "
                f"[{shown}], target {self.target_name!r}, {self._Xa.dtype})")

    # ------------------------------------------------------------- batches, split
    def batches(self, batch_size: int, shuffle: bool = True, seed: Seed = None, *,
                drop_last: bool = False) -> Iterator[tuple[Tensor, Tensor]]:
        """One epoch of minibatches ``(X_batch, y_batch)``.

        Every row appears in exactly one batch; all batches have ``batch_size`` rows
        except the last, which has the rest (dropped when ``drop_last``).

        Parameters
        ----------
        batch_size : int
            Rows per batch, at least 1 (larger than ``len(self)`` gives one batch).
        shuffle : bool
            Visit the rows in a random order (default) or in order.
        seed : int, numpy Generator or None
            The order's randomness: an int gives the same order every time; ``None``
            draws from wonderland's global generator (reset by ``wl.manual_seed``), so
            successive epochs differ.
        drop_last : bool
            Leave out a last batch smaller than ``batch_size``.

        Raises
        ------
        ValueError
            When ``drop_last`` with ``batch_size`` larger than ``len(self)`` would leave
            no batch (an epoch that trains on nothing).

        Warns
        -----
        UserWarning
            When the Dataset has 0 rows (the epoch then has no batches).

        Yields
        ------
        (Tensor, Tensor)
            Rows of ``X`` (``(b, n_features)``) and of ``y`` (``(b,)``).

        Examples
        --------
        >>> from wonderland.data import Dataset
        >>> ds = Dataset([[0.0], [1.0], [2.0], [3.0], [4.0]], [0.0, 1.0, 2.0, 3.0, 4.0])
        >>> [yb.tolist() for _, yb in ds.batches(2, shuffle=False)]
        [[0.0, 1.0], [2.0, 3.0], [4.0]]
        >>> [len(yb) for _, yb in ds.batches(2, seed=0)]
        [2, 2, 1]
        """
        where = "Dataset.batches"
        size = _count(batch_size, "batch_size", where)
        if not isinstance(shuffle, bool | np.bool_):
            raise TypeError(f"{where}: shuffle must be True or False, got {shuffle!r}")
        n = len(self)
        if n == 0:  # an epoch of no batches trains on nothing: say so, once per caller
            warnings.warn(f"{where}: the Dataset has 0 rows; the epoch has no batches",
                          stacklevel=2)
        if drop_last and size > n:
            raise ValueError(f"{where}: batch_size={size} with drop_last=True leaves no batch "
                             f"from {n} row{'' if n == 1 else 's'}; use a batch_size of at "
                             f"most {n} or drop_last=False")
        order = random_generator(seed, where).permutation(n) if shuffle else np.arange(n)
        stop = n - n % size if drop_last else n
        return self._batches(order, size, stop)

    def _batches(self, order: np.ndarray, size: int,
                 stop: int) -> Iterator[tuple[Tensor, Tensor]]:
        for start in range(0, stop, size):
            rows = order[start:start + size]
            yield as_tensor(self._Xa[rows]), as_tensor(self._ya[rows])

    def split(self, test_size: float | int = 0.25, seed: Seed = None, *,
              shuffle: bool = True) -> tuple[Dataset, Dataset]:
        """Split the rows into ``(train, test)``: disjoint, and together all rows.

        Parameters
        ----------
        test_size : float or int
            A fraction in (0, 1) of the rows (rounded up, as scikit-learn's
            ``train_test_split``, but in exact decimal arithmetic: ``0.07`` of 100 rows
            is 7, where scikit-learn's float product gives 8), or a number of rows
            from 1 to ``len(self) - 1``.
            Both parts get at least one row.
        seed : int, numpy Generator or None
            The shuffle's randomness (see :meth:`batches`).
        shuffle : bool
            Shuffle before splitting (default); without it the test set is the last
            rows.

        Returns
        -------
        (Dataset, Dataset)
            The training and the test rows, keeping names and other attributes.

        Examples
        --------
        >>> from wonderland.data import Dataset
        >>> ds = Dataset([[float(i)] for i in range(10)], list(range(10)))
        >>> train, test = ds.split(0.3, seed=0)
        >>> len(train), len(test)
        (7, 3)
        >>> train, test = ds.split(2, shuffle=False)
        >>> test.y.tolist()
        [8.0, 9.0]
        """
        where = "Dataset.split"
        n = len(self)
        if n < 2:
            raise ValueError(f"{where}: a Dataset of {n} row{'s' if n != 1 else ''} cannot be "
                             f"split into two non-empty parts")
        expected = (f"test_size must be a fraction in (0, 1) or a whole number of rows from 1 "
                    f"to {n - 1}")
        if isinstance(test_size, bool | np.bool_) or not isinstance(test_size, numbers.Real):
            raise TypeError(f"{where}: {expected}, got {test_size!r} "
                            f"({type(test_size).__name__})")
        if isinstance(test_size, numbers.Integral):
            n_test = int(test_size)
            if not 1 <= n_test <= n - 1:
                raise ValueError(f"{where}: {expected}, got {n_test}")
        else:
            fraction = float(test_size)
            if not 0.0 < fraction < 1.0:
                raise ValueError(f"{where}: {expected}, got {test_size!r}")
            n_test = _ceil_share(test_size, n)
            if n_test >= n:
                raise ValueError(f"{where}: test_size={fraction} of {n} rows leaves no "
                                 f"training rows")
        if not isinstance(shuffle, bool | np.bool_):
            raise TypeError(f"{where}: shuffle must be True or False, got {shuffle!r}")
        if shuffle:
            order = random_generator(seed, where).permutation(n)
            test_rows, train_rows = order[:n_test], order[n_test:]
        else:
            train_rows, test_rows = np.arange(n - n_test), np.arange(n - n_test, n)
        return self._subset(train_rows), self._subset(test_rows)
