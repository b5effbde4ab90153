"""Creating tensors: from data, filled, ranges, identity, and seeded random numbers."""

from __future__ import annotations

from typing import Any

from . import backend
from .tensor import Tensor, _new

float32 = backend.float32
float64 = backend.float64
int32 = backend.int32
int64 = backend.int64
bool_ = backend.bool_


def _shape(shape: tuple) -> tuple[int, ...]:
    """``*shape`` or one tuple, as a tuple of ints."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        out = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise TypeError(f"a shape must be integers, got {shape!r}") from None
    if any(s < 0 for s in out):
        raise ValueError(f"a shape cannot have negative sizes, got {out}")
    return out


def _finish(data: Any, requires_grad: bool) -> Tensor:
    t = _new(data, backend.namespace(data))
    if requires_grad:
        t.requires_grad = True
    return t


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor from a scalar, nested list, NumPy array, Tensor or any Array-API array.

    Python floats give float64 (NumPy semantics); an Array-API array keeps its library
    and device. ``requires_grad=True`` on integers is a ``TypeError``.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.tensor([[1.0, 2.0]]).shape
    (1, 2)
    """
    if isinstance(data, Tensor):
        data = data._data
        array = backend.asarray(data, dtype=backend.to_dtype(dtype, backend.namespace(data)),
                                xp=backend.namespace(data), copy=True)
    elif backend.is_array(data) and not isinstance(data, backend.np.ndarray | backend.np.generic):
        xp = backend.namespace(data)
        array = xp.asarray(data, dtype=backend.to_dtype(dtype, xp)) if dtype is not None else data
    else:
        try:
            array = backend.asarray(data, dtype=backend.to_dtype(dtype))
        except (ValueError, TypeError) as exc:
            raise TypeError(f"cannot make a tensor from {type(data).__name__}: {exc}") from None
        if array.dtype == object:
            raise TypeError(f"cannot make a tensor from {data!r}: ragged or non-numeric data")
    return _finish(array, requires_grad)


def _filled(shape: tuple, value: float, dtype: Any, requires_grad: bool) -> Tensor:
    dtype = backend.to_dtype(dtype) or float64
    return _finish(backend.np.full(shape, value, dtype=dtype), requires_grad)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``shape`` (float64 by default); ``shape`` is ``*ints`` or one tuple.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.zeros(2, 3).shape
    (2, 3)
    """
    return _filled(_shape(shape), 0, dtype, requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``shape`` (float64 by default).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.ones((2,)).tolist()
    [1.0, 1.0]
    """
    return _filled(_shape(shape), 1, dtype, requires_grad)


def full(shape: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere in ``shape`` (float64 by default).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.full((2,), 7.0).tolist()
    [7.0, 7.0]
    """
    shape = _shape(shape if isinstance(shape, (tuple, list)) else (shape,))
    return _filled(shape, fill_value, dtype, requires_grad)


def zeros_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and library, and dtype unless given) of ``x``.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.zeros_like(wl.ones(3)).tolist()
    [0.0, 0.0, 0.0]
    """
    return _like(x, 0, dtype, requires_grad)


def ones_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and library, and dtype unless given) of ``x``.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.ones_like(wl.zeros(2)).tolist()
    [1.0, 1.0]
    """
    return _like(x, 1, dtype, requires_grad)


def _like(x: Any, value: float, dtype: Any, requires_grad: bool) -> Tensor:
    x = tensor(x) if not isinstance(x, Tensor) else x
    xp = x._xp
    data = xp.full(x._data.shape, value, dtype=backend.to_dtype(dtype, xp) or x._data.dtype)
    return _finish(data, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The identity matrix ``(n, m)`` (square by default).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.eye(2).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    return _finish(backend.np.eye(n, m, dtype=backend.to_dtype(dtype) or float64), requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in ``[start, stop)`` (NumPy's dtype rules: ints give int64).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.arange(3).tolist()
    [0, 1, 2]
    """
    if step == 0:
        raise ValueError("arange: step must not be zero")
    data = backend.np.arange(start, stop, step) if stop is not None else backend.np.arange(start)
    if dtype is not None:
        data = data.astype(backend.to_dtype(dtype))
    return _finish(data, requires_grad)


def linspace(start: float, stop: float, num: int = 50, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.linspace(0, 1, 3).tolist()
    [0.0, 0.5, 1.0]
    """
    if num < 0:
        raise ValueError(f"linspace: num must be non-negative, got {num}")
    data = backend.np.linspace(start, stop, int(num), dtype=backend.to_dtype(dtype) or float64)
    return _finish(data, requires_grad)


def manual_seed(seed: int) -> None:
    """Seed the generator behind ``randn`` and ``rand``, for reproducible tensors.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.manual_seed(0); a = wl.randn(2)
    >>> wl.manual_seed(0); bool((a == wl.randn(2)).all())
    True
    """
    backend.manual_seed(int(seed))


def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples of ``shape`` (float64 by default).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.randn((4, 1)).shape
    (4, 1)
    """
    return _finish(backend.random_normal(_shape(shape), backend.to_dtype(dtype)), requires_grad)


def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in ``[0, 1)`` of ``shape`` (float64 by default).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.rand(3).shape
    (3,)
    """
    return _finish(backend.random_uniform(_shape(shape), backend.to_dtype(dtype)), requires_grad)
