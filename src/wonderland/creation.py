"""Creating tensors: from data, filled, ranges, identity, and seeded random numbers."""

from __future__ import annotations

import operator
from types import ModuleType
from typing import Any

from . import array_libraries, backend
from . import tensor as _engine
from .tensor import Tensor, _new

float32 = backend.float32
float64 = backend.float64
int32 = backend.int32
int64 = backend.int64
bool_ = backend.bool_


def _integer(value: Any, rule: str) -> int:
    """``value`` as an int: Python and NumPy integers pass; bools, floats, strings do not
    (they would be truncated or misread). ``rule`` starts the error, e.g. "eye: n must be
    an integer"."""
    if not isinstance(value, bool | backend.np.bool_):
        try:
            return operator.index(value)
        except TypeError:
            pass
    raise TypeError(f"{rule}, got {value!r} ({type(value).__name__})")


def _shape(shape: tuple, what: str) -> tuple[int, ...]:
    """``*shape`` or one tuple (or list), as a tuple of non-negative ints."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    out = tuple(_integer(s, f"{what}: a shape must be integers") for s in shape)
    if any(s < 0 for s in out):
        raise ValueError(f"{what}: a shape cannot have negative sizes, got {out}")
    return out


_NUMERIC_KINDS = "biufc"  # bool, signed and unsigned integers, floats, complex


def _dtype(dtype: Any, what: str, xp: ModuleType = backend.numpy_namespace) -> Any:
    """``dtype`` as a dtype of ``xp`` (``None`` stays ``None``); a ``TypeError`` naming it
    when it is unknown or not numeric. For NumPy data another library's dtype
    (``torch.float32``, in code half ported) is read by its name."""
    try:
        out = backend.to_dtype(_by_name(dtype, xp), xp)
    except (TypeError, AttributeError):  # np.dtype("flot32"); a name xp lacks
        out = backend.np.dtype(object)
    if getattr(out, "kind", "f") not in _NUMERIC_KINDS:
        raise TypeError(f"{what}: unknown or non-numeric dtype {dtype!r}; use e.g. float32, "
                        f"float64, int64 or bool")
    return out


def _by_name(dtype: Any, xp: ModuleType) -> Any:
    """``torch.float32`` as ``"float32"`` for NumPy (it crashed with an AttributeError);
    NumPy's own dtypes, types and strings as they are."""
    if xp is not backend.numpy_namespace or dtype is None or \
            isinstance(dtype, str | type | backend.np.dtype):
        return dtype
    return str(dtype).rpartition(".")[2]


def _check_requires_grad(requires_grad: Any, what: str) -> None:
    if not isinstance(requires_grad, bool | backend.np.bool_):
        raise TypeError(f"{what}: requires_grad must be a bool (True or False), got "
                        f"{requires_grad!r} ({type(requires_grad).__name__})")


def _finish(data: Any, requires_grad: Any, what: str) -> Tensor:
    _check_requires_grad(requires_grad, what)
    t = _new(data, backend.namespace(data))
    if requires_grad:
        t.requires_grad = True
    return t


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor from a scalar, nested list, NumPy array, Tensor or any Array-API array.

    Python floats give float64 (NumPy semantics); an Array-API array keeps its library
    and device. The data are always copied (as ``torch.tensor``): ``wl.from_numpy`` and
    ``wl.as_tensor`` share memory instead. ``requires_grad=True`` on integers is a
    ``TypeError``.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.tensor([[1.0, 2.0]]).shape
    (1, 2)
    """
    if isinstance(data, Tensor):
        source, data = data, data._data
        array = backend.asarray(data, dtype=_dtype(dtype, "tensor", backend.namespace(data)),
                                xp=backend.namespace(data), copy=True)
        if _engine._tracer is not None:  # a copy of a traced value is traced (wl.compile)
            out = _finish(array, requires_grad, "tensor")
            _engine._tracer.copied(source, out, dtype)
            return out
    elif backend.is_array(data) and not isinstance(data, backend.np.ndarray | backend.np.generic):
        xp = backend.namespace(data)
        array = xp.asarray(data, dtype=_dtype(dtype, "tensor", xp), copy=True)
    else:
        dtype = _dtype(dtype, "tensor")
        try:  # a copy, as torch.tensor and np.array: from_numpy / as_tensor share
            array = backend.asarray(data, dtype=dtype, copy=True)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__}: "
                            f"{exc}") from None
        if array.dtype.kind not in _NUMERIC_KINDS:
            held = {"U": " of str", "S": " of bytes"}.get(array.dtype.kind, "")
            name = type(data).__name__ + (held if isinstance(data, list | tuple) else "")
            raise TypeError(f"tensor: cannot make a tensor from {name} {data!r:.60}: expected "
                            f"numbers, (nested) lists of numbers or an array; ragged or "
                            f"non-numeric data has no tensor")
    return _finish(array, requires_grad, "tensor")


def _filled(shape: tuple, value: float, dtype: Any, requires_grad: bool, what: str) -> Tensor:
    value = value.item() if isinstance(value, Tensor) else value  # torch.full's 0-d fill
    is_complex = _complex_fill(value, what)
    dtype = _dtype(dtype, what) or (backend.np.dtype(complex) if is_complex else float64)
    if is_complex:
        _check_complex_fits(value, dtype, what)
    if dtype.kind in "iu":  # (floats hold any fill: no check on the common path)
        _check_fits(value, dtype, what)
    return _finish(backend.np.full(shape, value, dtype=dtype), requires_grad, what)


def _complex_fill(value: Any, what: str) -> bool:
    """Whether the fill ``value`` is complex; one that is not a number is refused (NumPy
    read "3" as 3)."""
    if isinstance(value, str | bytes):
        raise TypeError(f"{what}: the fill value must be a number, got {value!r}")
    return isinstance(value, complex | backend.np.complexfloating)


def _check_complex_fits(value: Any, dtype: Any, what: str,
                        xp: ModuleType = backend.numpy_namespace) -> None:
    """Refuse a complex fill for a real dtype: NumPy dropped the imaginary part with only a
    warning; PyTorch refuses."""
    if not backend.is_complex(dtype, xp):
        raise TypeError(f"{what}: the fill value {value!r} is complex but dtype is "
                        f"{backend.dtype_name(dtype)}: its imaginary part would be dropped; "
                        f"give a complex dtype or a real value")


def _check_fits(value: Any, dtype: Any, what: str) -> None:
    """Refuse a fill value that an integer dtype cannot hold (NaN, inf, out of range):
    NumPy's cast wrote an arbitrary integer with only a warning; PyTorch refuses too."""
    kind = getattr(dtype, "kind", None)
    if kind not in ("i", "u") or isinstance(value, bool | backend.np.bool_):
        return
    try:
        number = float(value) if not isinstance(value, int | backend.np.integer) else int(value)
    except (TypeError, ValueError):
        return  # (complex and others: NumPy's own error)
    info = backend.np.iinfo(dtype)
    if not (isinstance(number, int) or backend.np.isfinite(number)) \
            or not info.min <= number <= info.max:
        raise ValueError(f"{what}: the fill value {value!r} cannot be held by dtype "
                         f"{backend.dtype_name(dtype)} (range [{info.min}, {info.max}])")


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``shape`` (float64 by default); ``shape`` is ``*ints`` or one tuple.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.zeros(2, 3).shape
    (2, 3)
    """
    return _filled(_shape(shape, "zeros"), 0, dtype, requires_grad, "zeros")


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``shape`` (float64 by default).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.ones((2,)).tolist()
    [1.0, 1.0]
    """
    return _filled(_shape(shape, "ones"), 1, dtype, requires_grad, "ones")


def full(shape: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere in ``shape`` (float64 by default, complex128 for a complex
    value; a complex value for a real dtype, or a fill that is not a number, is a
    ``TypeError``).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.full((2,), 7.0).tolist()
    [7.0, 7.0]
    """
    shape = _shape(shape if isinstance(shape, (tuple, list)) else (shape,), "full")
    return _filled(shape, fill_value, dtype, requires_grad, "full")


def zeros_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and library, and dtype unless given) of ``x``.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.zeros_like(wl.ones(3)).tolist()
    [0.0, 0.0, 0.0]
    """
    return _like(x, 0, dtype, requires_grad, "zeros_like")


def ones_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and library, and dtype unless given) of ``x``.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.ones_like(wl.zeros(2)).tolist()
    [1.0, 1.0]
    """
    return _like(x, 1, dtype, requires_grad, "ones_like")


def _like(x: Any, value: float, dtype: Any, requires_grad: bool, what: str) -> Tensor:
    x = tensor(x) if not isinstance(x, Tensor) else x
    xp = x._xp
    value = value.item() if isinstance(value, Tensor) else value  # (a 0-d tensor's number)
    dtype = _dtype(dtype, what, xp) or x._data.dtype
    if _complex_fill(value, what):
        _check_complex_fits(value, dtype, what, xp)
    if xp is backend.numpy_namespace and dtype.kind in "iu":
        _check_fits(value, dtype, what)
    data = xp.full(x._data.shape, value, dtype=dtype)
    return _finish(data, requires_grad, what)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The identity matrix ``(n, m)`` (square by default).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.eye(2).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    n = _integer(n, "eye: n must be an integer")
    m = None if m is None else _integer(m, "eye: m must be an integer")
    if n < 0 or (m is not None and m < 0):
        raise ValueError(f"eye: sizes cannot be negative, got n={n}, m={m}")
    data = backend.np.eye(n, m, dtype=_dtype(dtype, "eye") or float64)
    return _finish(data, requires_grad, "eye")


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in ``[start, stop)`` (NumPy's dtype rules: ints give int64).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.arange(3).tolist()
    [0, 1, 2]
    """
    for name, value in (("start", start), ("stop", stop), ("step", step)):
        if isinstance(value, bool | backend.np.bool_ | str | bytes):
            raise TypeError(f"arange: {name} must be a number, got {value!r} "
                            f"({type(value).__name__})")
    if step == 0:
        raise ValueError("arange: step must not be zero")
    dtype = _dtype(dtype, "arange")
    data = backend.np.arange(start, stop, step) if stop is not None else backend.np.arange(start)
    if dtype is not None:
        data = data.astype(dtype)
    return _finish(data, requires_grad, "arange")


def linspace(start: float, stop: float, num: int = 50, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.linspace(0, 1, 3).tolist()
    [0.0, 0.5, 1.0]
    """
    num = _integer(num, "linspace: num must be an integer")
    if num < 0:
        raise ValueError(f"linspace: num must be non-negative, got {num}")
    data = backend.np.linspace(start, stop, num, dtype=_dtype(dtype, "linspace") or float64)
    return _finish(data, requires_grad, "linspace")


# Reproducible random numbers: one global generator, reset by ``manual_seed``.
_rng = backend.np.random.default_rng()


def _random_normal(shape: tuple, dtype: Any) -> Any:
    dtype = backend.np.dtype(dtype or backend.float64)
    if dtype.kind == "c":  # both parts drawn, each of variance 1/2 (E|z|² = 1), as PyTorch
        return ((_rng.standard_normal(shape) + 1j * _rng.standard_normal(shape))
                * 0.5**0.5).astype(dtype, copy=False)
    return _rng.standard_normal(shape).astype(dtype, copy=False)


def _random_uniform(shape: tuple, dtype: Any) -> Any:
    dtype = backend.np.dtype(dtype or backend.float64)
    if dtype.kind == "c":  # both parts in [0, 1), as PyTorch
        real = backend.np.finfo(dtype).dtype
        return (_random_uniform(shape, real) + 1j * _random_uniform(shape, real)).astype(dtype)
    # a draw rounded to fewer digits can reach 1 (float16: one in 4000): the largest below
    below_one = backend.np.nextafter(dtype.type(1), dtype.type(0))
    return backend.np.minimum(_rng.random(shape).astype(dtype, copy=False), below_one)


def _random_dtype(dtype: Any, what: str) -> Any:
    """A floating dtype (or ``None``): integer and bool samples were the float samples
    truncated (``rand`` of int64 all zeros), where PyTorch refuses."""
    dtype = _dtype(dtype, what)
    if dtype is not None and not backend.is_floating(dtype):
        raise TypeError(f"{what}: random values need a floating dtype, got "
                        f"{backend.dtype_name(dtype)}; use float32 or float64 (and astype "
                        f"after, for integers)")
    return dtype


def manual_seed(seed: int) -> None:
    """Seed the generator behind ``randn`` and ``rand``, for reproducible tensors.

    ``seed`` is an integer; a negative one is taken modulo ``2**64``, as PyTorch does.
    The numbers differ from PyTorch's for the same seed (NumPy's generator draws them).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.manual_seed(0); a = wl.randn(2)
    >>> wl.manual_seed(0); bool((a == wl.randn(2)).all())
    True
    """
    global _rng
    # int() cut 1.5 to 1 and read "3"; NumPy refused -1 without naming it
    seed = _integer(seed, "manual_seed: seed must be an integer")
    _rng = backend.np.random.default_rng(seed % 2**64)


def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples of ``shape`` (float64 by default).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.randn((4, 1)).shape
    (4, 1)
    """
    if _engine._tracer is not None:
        _engine._tracer.random("wl.randn")
    size, dtype = _shape(shape, "randn"), _random_dtype(dtype, "randn")
    _check_requires_grad(requires_grad, "randn")  # before the draw: a refusal draws nothing
    data = _random_normal(size, dtype)
    return _finish(data, requires_grad, "randn")


def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in ``[0, 1)`` of ``shape`` (float64 by default).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.rand(3).shape
    (3,)
    """
    if _engine._tracer is not None:
        _engine._tracer.random("wl.rand")
    size, dtype = _shape(shape, "rand"), _random_dtype(dtype, "rand")
    _check_requires_grad(requires_grad, "rand")  # before the draw: a refusal draws nothing
    data = _random_uniform(size, dtype)
    return _finish(data, requires_grad, "rand")


def from_numpy(array: Any) -> Tensor:
    """A tensor on the memory of the NumPy array ``array`` (PyTorch's ``from_numpy``).

    No copy: writing into one (in place, e.g. ``t.add_(1)`` or ``array[0] = 1``) shows in
    the other. Writes through the array bypass the version counter, as in PyTorch. Anything
    but a ``numpy.ndarray`` of numbers is a ``TypeError``; use :func:`tensor` for other data.

    Examples
    --------
    >>> import numpy as np
    >>> import wonderland as wl
    >>> a = np.zeros(3)
    >>> t = wl.from_numpy(a)
    >>> a[0] = 5.0
    >>> t.tolist()
    [5.0, 0.0, 0.0]
    """
    if not isinstance(array, backend.np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}; "
                        f"use wl.tensor(data) or wl.as_tensor(data) for other data")
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"from_numpy: the array has dtype {array.dtype}, not numbers; "
                        f"supported are bool, integers, floats and complex")
    return _new(array, backend.numpy_namespace)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """``data`` as a tensor, without a copy when possible (PyTorch's ``as_tensor``).

    A Tensor of the right dtype is returned itself (else converted, differentiably); a
    NumPy or other Array-API array of the right dtype shares its memory; anything else
    (lists, numbers) is copied as :func:`tensor` does.

    Examples
    --------
    >>> import numpy as np
    >>> import wonderland as wl
    >>> a = np.ones(2)
    >>> np.shares_memory(a, wl.as_tensor(a).numpy())
    True
    >>> wl.as_tensor([1, 2], dtype=wl.float32).dtype
    dtype('float32')
    """
    if isinstance(data, Tensor):
        if dtype is None:
            return data
        # the method, installed by wonderland.primitives (which imports this module)
        return data.astype(_dtype(dtype, "as_tensor", data._xp))
    if isinstance(data, backend.np.ndarray):
        array = backend.np.asarray(data, dtype=_dtype(dtype, "as_tensor"))
        if array.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"as_tensor: the array has dtype {array.dtype}, not numbers")
        return _new(array, backend.numpy_namespace)
    if backend.is_array(data) and not isinstance(data, backend.np.generic):
        xp = backend.namespace(data)
        if dtype is not None or getattr(data, "requires_grad", False):  # (torch's autograd
            data = backend.asarray(data, dtype=_dtype(dtype, "as_tensor", xp), xp=xp)  # off)
        return _new(data, xp)
    return tensor(data, dtype=dtype)


def full_like(x: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, with the shape (and library, and dtype unless given) of
    ``x``; as NumPy and PyTorch, the value is cast to that dtype.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.full_like(wl.zeros(2), 7.0).tolist()
    [7.0, 7.0]
    >>> wl.full_like(wl.arange(2), 2.5).tolist()
    [2, 2]
    """
    if isinstance(fill_value, Tensor):
        if fill_value.size != 1:
            raise ValueError(f"full_like: fill_value must be a number, got a tensor of shape "
                             f"{fill_value.shape}")
        fill_value = fill_value.item()
    if not isinstance(fill_value, bool | int | float | complex | backend.np.number
                      | backend.np.bool_):
        raise TypeError(f"full_like: fill_value must be a number, got "
                        f"{type(fill_value).__name__} {fill_value!r:.40}")
    return _like(x, fill_value, dtype, requires_grad, "full_like")


def _random_like(x: Any, dtype: Any, requires_grad: bool, what: str, draw: Any) -> Tensor:
    if _engine._tracer is not None:
        _engine._tracer.random(f"wl.{what}")
    x = tensor(x) if not isinstance(x, Tensor) else x
    xp = x._xp
    dtype = _dtype(dtype, what, xp) or x._data.dtype
    if not backend.is_floating(dtype, xp):
        raise TypeError(f"{what}: random values need a floating dtype, but x has dtype "
                        f"{backend.dtype_name(dtype)}; pass dtype=wl.float64")
    _check_requires_grad(requires_grad, what)  # before the draw: a refusal draws nothing
    if xp is backend.numpy_namespace:
        data = draw(x.shape, dtype)
    else:  # drawn by the one seeded generator, then moved to x's library and device
        data = xp.astype(array_libraries.from_numpy(draw(x.shape, None), x._data), dtype)
    return _finish(data, requires_grad, what)


def randn_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples with the shape (and library, and dtype unless given) of
    ``x``; reproducible with :func:`manual_seed`.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.randn_like(wl.zeros(2, 3)).shape
    (2, 3)
    """
    return _random_like(x, dtype, requires_grad, "randn_like", _random_normal)


def rand_like(x: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in ``[0, 1)`` with the shape (and library, and dtype unless given) of
    ``x``; reproducible with :func:`manual_seed`.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.rand_like(wl.zeros(4)).shape
    (4,)
    """
    return _random_like(x, dtype, requires_grad, "rand_like", _random_uniform)
