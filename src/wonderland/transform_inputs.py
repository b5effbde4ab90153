"""What the functional transforms accept, checked where it enters: the function, its
``argnums``, the values to differentiate with respect to, and what the function returns.
The transforms (``wonderland.autodiff.transforms``) and their clients (the gradient
checks, ``linearize``) share these checks, so that every error names the transform the
user called and the argument at fault, in the user's words.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import backend
from .tensor import Tensor, _new


def as_input(value: Any, what: str, like: Tensor | None = None, arg: str = "") -> Tensor:
    """A float tensor from a number, list, array or Tensor (ints promoted to float64). A
    tangent or a cotangent has the shape of ``like`` and, when not a Tensor, goes into its
    library. ``arg`` names the value in errors (``"argument 1"``, ``"tangent 0"``).

    Examples
    --------
    >>> as_input([1, 2], "grad").dtype
    dtype('float64')
    >>> as_input([True], "grad", arg="argument 0")
    Traceback (most recent call last):
    TypeError: grad: cannot differentiate with respect to a bool input (argument 0)
    """
    t, named = value, f" ({arg})" if arg else ""
    if not isinstance(t, Tensor):
        try:
            data = backend.asarray(value, xp=None if like is None else like._xp)
        except (ValueError, TypeError) as exc:  # a ragged list: NumPy's words name neither
            raise type(exc)(f"{what}: {arg or 'an input'} is not an array of numbers "
                            f"({short(value)}): {exc}") from None
        if getattr(data.dtype, "kind", "f") in "OSUVmM":  # objects, text, dates: no numbers
            raise TypeError(f"{what}: cannot differentiate with respect to {short(value)}{named}")
        if type(data) is backend.np.ndarray and data.flags.writeable:  # the caller's array:
            data = data.view()  # an in-place op in f rebinds this view, never writes there
            data.flags.writeable = False
        t = _new(data, backend.namespace(data))
    if like is not None and t.shape != like.shape:
        raise ValueError(f"{what}: {arg} has shape {t.shape} but must have shape {like.shape}")
    if backend.is_complex(t._data.dtype, t._xp):  # (as wl.tensor(..., requires_grad=True))
        raise TypeError(f"{what}: cannot differentiate with respect to a complex input{named}: "
                        f"wonderland differentiates real functions; pass the real and "
                        f"imaginary parts as two real inputs")
    if not backend.is_floating(t._data.dtype, t._xp):
        if backend.is_bool(t._data.dtype, t._xp):
            raise TypeError(f"{what}: cannot differentiate with respect to a bool input{named}")
        t2 = _new(t._xp.astype(t._data, backend.to_dtype("float64", t._xp)), t._xp)
        t2._fw = t._fw
        t = t2
    return t


def require_callable(f: Any, name: str, has_aux: Any = False) -> str:
    """The label of ``name``'s errors, ``"name of f"``, once ``f`` is known to be callable
    (and ``has_aux`` to be a bool: ``has_aux="False"`` would be taken for true).

    Examples
    --------
    >>> def f(x):
    ...     return x
    >>> require_callable(f, "grad")
    'grad of f'
    """
    if not callable(f):
        hint = (f"; pass the function itself, {name}(f), not its value f(x)"
                if isinstance(f, Tensor) else "")
        raise TypeError(f"{name}: expected a function (a callable) as first argument, got "
                        f"{type(f).__name__} {short(f)}{hint}")
    if not isinstance(has_aux, bool | np.bool_):
        raise TypeError(f"{name}: has_aux must be True or False, got {short(has_aux)} "
                        f"({type(has_aux).__name__})")
    return f"{name} of {getattr(f, '__name__', 'f')}"


def short(value: Any) -> str:
    """``repr(value)``, cut to 40 characters for an error message.

    Examples
    --------
    >>> short("x" * 50)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."
    """
    return text if len(text := repr(value)) <= 40 else text[:37] + "..."


def _is_int(k: Any) -> bool:
    return isinstance(k, int | np.integer) and not isinstance(k, bool | np.bool_)


def argnums_spec(argnums: Any, what: str) -> int | tuple[int, ...]:
    """``argnums`` checked when the transform is made: an int, or a non-empty tuple (or
    list) of distinct ints; NumPy ints become Python ints. The range waits for the call.

    Examples
    --------
    >>> argnums_spec([0, 1], "grad")
    (0, 1)
    >>> argnums_spec((0, 0), "grad")
    Traceback (most recent call last):
    ValueError: grad: argnums (0, 0) repeats position 0; each argument can be differentiated once
    """
    if _is_int(argnums):
        return int(argnums)
    if not (isinstance(argnums, tuple | list) and all(_is_int(k) for k in argnums)):
        raise TypeError(f"{what}: argnums must be an int or a tuple/list of ints, got "
                        f"{argnums!r} ({type(argnums).__name__})")
    if not argnums:
        raise ValueError(f"{what}: argnums is empty")
    nums = tuple(int(k) for k in argnums)
    _no_repeats(nums, argnums, what)
    return nums


def _no_repeats(positions: tuple[int, ...], argnums: Any, what: str) -> None:
    for i, k in enumerate(positions):
        if k in positions[:i]:
            raise ValueError(f"{what}: argnums {argnums!r} repeats position {k}; each argument "
                             f"can be differentiated once")


def argnum_positions(argnums: int | tuple[int, ...], nargs: int, what: str) -> tuple[int, ...]:
    """The positions ``argnums`` (from ``argnums_spec``) picks among ``nargs`` arguments.

    Examples
    --------
    >>> argnum_positions((0, -1), 3, "grad")
    (0, 2)
    """
    if type(argnums) is int and 0 <= argnums < nargs:  # the common case
        return (argnums,)
    nums = (argnums,) if isinstance(argnums, int) else argnums
    if any(not -nargs <= k < nargs for k in nums):
        raise ValueError(f"{what}: argnums {argnums!r} is out of range for a function "
                         f"called with {nargs} positional argument(s)")
    positions = tuple(k % nargs for k in nums)
    _no_repeats(positions, argnums, what)  # e.g. (0, -2) with two arguments
    return positions


def check_output(out: Any, what: str) -> Tensor:
    """``out`` if it is a float Tensor; else a TypeError that says why a result that is not
    a Tensor has no derivative, and how to keep one.

    Examples
    --------
    >>> check_output(2.0, "grad of f")
    Traceback (most recent call last):
    TypeError: grad of f: the function returned a plain number (float: 2.0): its value ...
    """
    if isinstance(out, Tensor):
        if backend.kind_rank(out._data.dtype, out._xp) != 2:  # (JAX's grad refuses complex)
            raise TypeError(f"{what}: the function returned a {backend.dtype_name(out._data.dtype)}"
                            f" value, which is not differentiable (return a real float tensor)")
        return out
    if isinstance(out, int | float | complex | np.generic):
        kind = f"a plain number ({type(out).__name__}: {short(out)})"
    elif backend.is_array(out):
        kind = f"an array ({type(out).__name__}), not a Tensor"
    else:
        raise TypeError(f"{what}: the function returned {type(out).__name__} {short(out)}; "
                        f"it must return a Tensor")
    raise TypeError(f"{what}: the function returned {kind}: its value was cut from its input "
                    f"(by float(), .item() or a NumPy conversion), so no derivative flows back "
                    f"to the input. Keep the computation in wonderland operations on the "
                    f"tensor and return a Tensor; float() and .item() are fine for logging")


def split_aux(result: Any, has_aux: bool, what: str) -> tuple[Any, Any]:
    """``(output, aux)`` of a function's ``result``: the pair itself with ``has_aux``, else
    ``(result, None)``.

    Examples
    --------
    >>> split_aux((1.0, "aux"), True, "grad of f")
    (1.0, 'aux')
    """
    if has_aux and not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError(f"{what}: with has_aux=True the function must return a pair "
                        f"(output, aux)")
    return result if has_aux else (result, None)
