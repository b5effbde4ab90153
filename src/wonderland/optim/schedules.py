"""Step-size sequences ``η_t`` (the text's ``x_t = x_{t-1} - η_t ∇f(x_{t-1})``).

Each schedule is a callable ``t -> η_t`` with ``t = 1`` for the first step (``t < 1`` is a
ValueError).
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import backend

Schedule = Callable[[int], float]


def _positive(who: str, name: str, value: float) -> float:
    # float() would read "0.1" and leak its own message for None
    number = as_real(value)
    if number is None or not number > 0 or not math.isfinite(number):
        raise ValueError(f"{who}: {name} must be a positive number, got {value!r}")
    return number


def _non_negative(who: str, name: str, value: float) -> float:
    number = as_real(value)
    if number is None or not number >= 0 or not math.isfinite(number):
        raise ValueError(f"{who}: {name} must be a finite non-negative number, got {value!r}")
    return number


def _positive_int(who: str, name: str, value: Any) -> int:
    # a whole number only: int() would quietly cut step_size=1.5 to 1
    if not is_number(value) or not math.isfinite(value) or not float(value).is_integer() \
            or value < 1:
        raise ValueError(f"{who}: {name} must be a positive integer, got {value!r}")
    return int(value)


def constant(lr: float) -> Schedule:
    """``η_t = lr`` for every step.

    Examples
    --------
    >>> from wonderland.optim import schedules
    >>> schedules.constant(0.1)(5)
    0.1
    """
    lr = _positive("constant", "lr", lr)
    return _named(_constant, f"constant({lr})", lr)


def step_decay(lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    """``η_t = lr · gamma^⌊(t-1)/step_size⌋``: divide by ``1/gamma`` every ``step_size`` steps
    (a positive integer).

    Examples
    --------
    >>> from wonderland.optim import schedules
    >>> s = schedules.step_decay(1.0, step_size=2, gamma=0.5)
    >>> [s(t) for t in (1, 2, 3, 4, 5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    lr = _positive("step_decay", "lr", lr)
    step_size = _positive_int("step_decay", "step_size", step_size)
    gamma = _positive("step_decay", "gamma", gamma)
    return _named(_step_decay, f"step_decay({lr}, step_size={step_size}, gamma={gamma})",
                  lr, step_size, gamma)


def exponential(lr: float, gamma: float) -> Schedule:
    """``η_t = lr · gamma^(t-1)``.

    Examples
    --------
    >>> from wonderland.optim import schedules
    >>> schedules.exponential(1.0, 0.5)(3)
    0.25
    """
    lr = _positive("exponential", "lr", lr)
    gamma = _positive("exponential", "gamma", gamma)
    return _named(_exponential, f"exponential({lr}, gamma={gamma})", lr, gamma)


def inverse_time(lr: float, decay: float = 1.0, power: float = 1.0) -> Schedule:
    """``η_t = lr / (1 + decay · (t-1))^power``: the classic Robbins–Monro sequence
    (``decay`` and ``power`` finite and non-negative).

    Examples
    --------
    >>> from wonderland.optim import schedules
    >>> schedules.inverse_time(1.0, decay=1.0)(3)
    0.3333333333333333
    """
    lr = _positive("inverse_time", "lr", lr)
    # a NaN decay or power gave NaN step sizes only when used; a negative power a growing one
    decay = _non_negative("inverse_time", "decay", decay)
    power = _non_negative("inverse_time", "power", power)
    return _named(_inverse_time, f"inverse_time({lr}, decay={decay}, power={power})",
                  lr, decay, power)


def cosine(lr: float, t_max: int, lr_min: float = 0.0) -> Schedule:
    """Cosine annealing from ``lr`` (t = 1) to ``lr_min`` (t = t_max + 1), then ``lr_min``
    (``0 <= lr_min <= lr``; ``t_max`` a positive integer).

    Examples
    --------
    >>> from wonderland.optim import schedules
    >>> s = schedules.cosine(1.0, t_max=2)
    >>> [round(s(t), 3) for t in (1, 2, 3, 4)]
    [1.0, 0.5, 0.0, 0.0]
    """
    lr = _positive("cosine", "lr", lr)
    t_max = _positive_int("cosine", "t_max", t_max)
    # a rate below 0 (or above lr, annealing upwards) is no step size
    number = as_real(lr_min)
    if number is None or not 0 <= number <= lr:
        raise ValueError(f"cosine: lr_min must be a number in [0, lr] = [0, {lr}], got "
                         f"{lr_min!r}")
    lr_min = number
    return _named(_cosine, f"cosine({lr}, t_max={t_max}, lr_min={lr_min})", lr, t_max, lr_min)


# The formulas, at module level and bound by functools.partial (fast to call), so that a
# schedule, and an optimizer holding one, can be pickled and deep-copied (a closure cannot
# be pickled). Each takes its name, its parameters, then t.

def _constant(text: str, lr: float, t: int) -> float:
    _check_step(text, t)
    return lr


def _step_decay(text: str, lr: float, step_size: int, gamma: float, t: int) -> float:
    _check_step(text, t)
    try:
        return lr * gamma ** ((t - 1) // step_size)
    except OverflowError:  # gamma > 1, long after the start: Python's float ** raises
        return math.inf


def _exponential(text: str, lr: float, gamma: float, t: int) -> float:
    _check_step(text, t)
    try:
        return lr * gamma ** (t - 1)
    except OverflowError:  # gamma > 1, long after the start: Python's float ** raises
        return math.inf


def _inverse_time(text: str, lr: float, decay: float, power: float, t: int) -> float:
    _check_step(text, t)
    try:
        return lr / (1.0 + decay * (t - 1)) ** power
    except OverflowError:  # the denominator outgrew the floats: the step size is 0
        return 0.0


def _cosine(text: str, lr: float, t_max: int, lr_min: float, t: int) -> float:
    _check_step(text, t)
    progress = min(t - 1, t_max) / t_max
    return lr_min + 0.5 * (lr - lr_min) * (1.0 + math.cos(math.pi * progress))


def _check_step(text: str, t: int) -> None:
    # PyTorch's epochs count from 0, and t = 0 gave a step size above lr without a word
    try:
        first = t >= 1
    except TypeError:  # (None or a string: Python's own message named neither)
        raise TypeError(f"{text}: t must be a step number (1 for the first step), got "
                        f"{type(t).__name__} {t!r:.60}") from None
    if not first:
        raise ValueError(f"{text}: t counts the steps from 1 (the first step), got {t!r}")


class _Named(functools.partial):
    """A schedule: ``formula(text, *parameters, t)``, named and shown as ``text``."""

    def __repr__(self) -> str:
        return self.args[0]


def _named(formula: Callable[..., float], text: str, *parameters: Any) -> Schedule:
    schedule = _Named(formula, text, *parameters)
    schedule.__name__ = schedule.__qualname__ = text
    return schedule


def is_number(value: Any) -> bool:
    """A real number (NumPy's too), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def as_real(value: Any) -> float | None:
    """``value`` as a float when it is a real number or a 0-d array or tensor of one
    (NumPy's, wonderland's, PyTorch's: ``lr=torch.tensor(0.1)`` is PyTorch's habit);
    ``None`` for anything else (bools, strings, arrays of several numbers).

    Examples
    --------
    >>> import numpy as np
    >>> from wonderland.optim.schedules import as_real
    >>> as_real(np.array(0.5)), as_real(2), as_real(True), as_real("0.1")
    (0.5, 2.0, None, None)
    """
    if is_number(value):
        return float(value)
    dtype = getattr(value, "dtype", None)
    if getattr(value, "shape", None) != () or isinstance(value, str | bytes) or dtype is None:
        return None
    if backend.is_array(value) and not isinstance(value, np.ndarray | np.generic):
        xp = backend.namespace(value)  # (torch's and the Array API's dtypes have no kind)
        if backend.is_bool(dtype, xp) or backend.is_complex(dtype, xp):
            return None
    elif getattr(dtype, "kind", "f") not in "fiu":
        return None
    try:
        return float(value)
    except (TypeError, ValueError, RuntimeError):  # (torch: RuntimeError)
        return None


def as_schedule(lr: float | Schedule) -> Schedule:
    """A schedule from a float (constant) or a callable (checked on its first step)."""
    if callable(lr):
        return lr
    if is_number(lr):
        return constant(float(lr))
    raise TypeError(f"lr must be a positive number or a callable t -> lr, got {lr!r}")
