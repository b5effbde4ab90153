"""Stateful optimizers over leaf tensors, PyTorch-style: ``step()`` after ``backward()``.

GD and the momentum methods update the raw arrays in place (one pass each, no graph);
Adam is written with Tensor operations under ``no_grad``. Either way a parameter's
version counter moves, so a graph that saved it refuses to run backward.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any

import numpy as np

from .. import array_libraries, backend
from ..tensor import Tensor, _new, bump_version, enable_grad, no_grad, set_grad_enabled
from .schedules import Schedule, as_schedule
from .schedules import as_real as _as_real
from .schedules import is_number as _is_number


class _Required:
    """The default of a required ``lr``: its absence is refused naming the optimizer (Python's
    own message named ``Optimizer.__init__``)."""

    def __repr__(self) -> str:
        return "<required>"


_REQUIRED: Any = _Required()


def check_flag(who: str, name: str, value: Any) -> bool:
    """``value`` as a bool, refused unless it is True or False (``"no"`` would be true).

    Examples
    --------
    >>> from wonderland.optim.optimizers import check_flag
    >>> check_flag("SGD", "nesterov", False)
    False
    """
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{who}: {name} must be True or False, got {value!r}")
    return bool(value)


class Optimizer:
    """The shared machinery: parameters, the step counter ``t`` and the step size ``η_t``.

    Subclasses implement ``_update(p, g, lr, state)`` for one parameter.
    """

    # the buffers a parameter's state may hold (``load_state_dict`` refuses others)
    _state_names: tuple[str, ...] = ()
    # The update is written with Tensor operations (run under no_grad), not on raw arrays.
    _on_tensors = False

    def __init__(self, params: Iterable[Tensor], lr: float | Schedule = _REQUIRED) -> None:
        name = type(self).__name__
        if lr is _REQUIRED:
            raise TypeError(f"{name}: lr is required, a positive number or a schedule "
                            f"t -> lr (e.g. {name}(params, lr=0.01))")
        if isinstance(params, Tensor):
            params = [params]
        else:
            try:
                params = list(params)
            except TypeError:
                raise TypeError(f"{name}: params must be an iterable of wonderland Tensors "
                                f"(a list, model.parameters()), got {type(params).__name__} "
                                f"{params!r:.60}") from None
        if not params:
            raise ValueError(f"{name}: got an empty list of parameters")
        seen: dict[int, int] = {}  # id -> first position
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                kind = type(p)
                # "a Tensor, not a Tensor" said nothing for PyTorch's tensors: name the module
                raise TypeError(f"{name}: parameter {i} is a {kind.__module__}.{kind.__qualname__}"
                                f", not a wonderland Tensor (wl.tensor(..., requires_grad=True))")
            if not p.requires_grad or not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: parameter {i} (shape {p.shape}) must "
                                 f"be a leaf tensor with requires_grad=True")
            first = seen.setdefault(id(p), i)
            if first != i:  # (it would take every step twice)
                raise ValueError(f"{type(self).__name__}: parameter {i} is parameter {first} "
                                 f"again; pass each tensor once")
        self.params = params
        self.lr = lr
        self.t = 0
        self.state: list[dict[str, Tensor]] = [{} for _ in params]

    @property
    def lr(self) -> float | Schedule:
        """The step size, a positive number or a schedule ``t -> η_t``.

        Assigning it (``opt.lr = 0.01``, or PyTorch's ``opt.param_groups[0]["lr"] = 0.01``)
        takes effect at the next step.

        Examples
        --------
        >>> import wonderland as wl
        >>> x = wl.tensor(1.0, requires_grad=True)
        >>> opt = wl.optim.GD([x], lr=0.1)
        >>> opt.lr = 0.5
        >>> (x ** 2).backward(); opt.step(); x.item()
        0.0
        """
        return self._lr

    @lr.setter
    def lr(self, lr: float | Schedule) -> None:
        if not callable(lr):
            number = _as_real(lr)
            if number is None or not number > 0 or not math.isfinite(number):
                raise ValueError(f"{type(self).__name__}: lr must be a positive number or a "
                                 f"schedule, got {lr!r}")
            if not _is_number(lr):  # PyTorch's lr=torch.tensor(0.1): kept as its number
                lr = number
        # step() reads the cached number or schedule: set them here, or a new lr is ignored
        self._lr = lr
        self._schedule = as_schedule(lr)
        self._constant = float(lr) if not callable(lr) else None

    @property
    def param_groups(self) -> list[MutableMapping[str, Any]]:
        """PyTorch's ``param_groups``: one group (all parameters share the settings) whose
        entries read and write the optimizer's own (``["lr"]`` is ``opt.lr``).

        Examples
        --------
        >>> import wonderland as wl
        >>> opt = wl.optim.SGD([wl.tensor(1.0, requires_grad=True)], lr=0.1)
        >>> for group in opt.param_groups:
        ...     group["lr"] *= 0.5
        >>> opt.lr
        0.05
        """
        return [_ParamGroup(self)]

    def current_lr(self) -> float:
        """``η_t`` for the next step.

        Raises
        ------
        ValueError
            When the schedule gives something other than a finite number ``>= 0``.
        """
        if self._constant is not None:
            return self._constant
        return _schedule_value(self._schedule, self.t + 1, type(self).__name__)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the accumulated gradients: ``.grad`` becomes ``None`` (PyTorch's default),
        or, with ``set_to_none=False``, zeros written in place."""
        for p in self.params:
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                with no_grad():
                    p.grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient, with step size ``η_t``.

        ``closure`` (PyTorch's): a function that zeroes the gradients, computes the loss,
        calls ``backward()`` and returns the loss; it is run first (with recording on), and
        its loss is returned. Without it, ``step()`` returns ``None``.

        Examples
        --------
        >>> import wonderland as wl
        >>> x = wl.tensor(1.0, requires_grad=True)
        >>> opt = wl.optim.GD([x], lr=0.25)
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = x ** 2
        ...     loss.backward()
        ...     return loss
        >>> opt.step(closure).item(), x.item()
        (1.0, 0.5)
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._step()
        return loss

    def _step(self) -> None:
        lr = self.current_lr()
        self.t += 1
        # raw-array updates record nothing; Tensor ones run with recording off
        previous = set_grad_enabled(False) if self._on_tensors else None
        try:
            for p, state in zip(self.params, self.state):
                if p.grad is not None:
                    self._update(p, p.grad, lr, state)
        finally:
            if previous is not None:
                set_grad_enabled(previous)

    def _update(self, p: Tensor, g: Tensor, lr: float, state: dict) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as plain values: its class name, step counter,
        hyperparameters and buffers (copies)."""
        return {
            "optimizer": type(self).__name__,
            "t": self.t,
            "hyperparameters": self._hyperparameters(),
            "state": [{k: array_libraries.to_numpy(v._data).copy() for k, v in s.items()}
                      for s in self.state],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state from ``state_dict()`` (same parameters, same shapes).

        Everything is checked before anything changes: a state that is refused (another
        optimizer's, a buffer of the wrong shape, a hyperparameter the constructor would
        refuse) leaves the optimizer as it was.

        Raises
        ------
        ValueError
            Naming what does not fit.
        """
        name = type(self).__name__
        if not isinstance(state, Mapping) or not isinstance(state.get("state"), list | tuple) \
                or "t" not in state:
            what = f"keys {sorted(map(str, state))}" if isinstance(state, Mapping) else \
                type(state).__name__
            raise ValueError(f"{name}: load_state_dict expects what state_dict() returns, a "
                             f"dict with 't', 'hyperparameters' and 'state' (a list of dicts "
                             f"of buffers, one per parameter); got {what}")
        t = state["t"]
        if not _is_number(t) or not math.isfinite(t) or not float(t).is_integer() or t < 0:
            raise ValueError(f"{name}: the state's step counter t must be a non-negative "
                             f"integer, got {t!r}")
        buffers = state["state"]
        if len(buffers) != len(self.params):
            raise ValueError(f"{name}: the state has {len(buffers)} parameters, "
                             f"the optimizer has {len(self.params)}")
        restored = []
        for i, (p, saved) in enumerate(zip(self.params, buffers)):
            if not isinstance(saved, Mapping):
                raise ValueError(f"{name}: the state of parameter {i} must be a dict of "
                                 f"buffers, got {type(saved).__name__}")
            entry = {}
            for buffer, value in saved.items():
                if buffer not in self._state_names:
                    raise ValueError(f"{name}: buffer {buffer!r} of parameter {i} "
                                     f"is not one of this optimizer's "
                                     f"({', '.join(self._state_names) or 'none'}); is the "
                                     f"state another optimizer's?")
                array = array_libraries.to_numpy(backend.asarray(value))
                if buffer == "step":  # (a count: one number, whatever the parameter's shape)
                    if array.shape != () or array.dtype.kind not in "biuf" or \
                            not (array >= 0 and array == array.round()):
                        raise ValueError(f"{name}: buffer 'step' of parameter {i} must be "
                                         f"one whole number >= 0 (the steps it took), got "
                                         f"{array.tolist()!r}")
                elif array.shape != p.shape:
                    raise ValueError(f"{name}: buffer {buffer!r} of parameter {i} "
                                     f"has shape {array.shape}, the parameter {p.shape}")
                dtype = array_libraries.to_numpy(p._data).dtype
                data = array_libraries.from_numpy(array.astype(dtype), p._data)
                entry[buffer] = Tensor(data)
            restored.append(entry)
        saved_by = state.get("optimizer", name)  # (absent from states saved before it was)
        if saved_by != name:
            raise ValueError(f"{name}: the state was saved by {saved_by}, not {name}")
        hyperparameters = self._checked_hyperparameters(dict(state.get("hyperparameters") or {}))
        self.t = int(t)
        self.state = restored
        for key, value in hyperparameters.items():
            setattr(self, key, value)

    def _checked_hyperparameters(self, saved: dict[str, Any],
                                 source: str = "the state's") -> dict[str, Any]:
        """The saved hyperparameters as this optimizer's constructor takes them in: only
        its own names, values it accepts (checked by building a throwaway copy)."""
        name = type(self).__name__
        known = {"lr", *self._hyperparameters()}
        unknown = sorted(str(k) for k in saved if k not in known)
        if unknown:
            raise ValueError(f"{name}: {source} hyperparameter(s) {', '.join(unknown)} are "
                             f"not this optimizer's ({', '.join(sorted(known))})")
        saved = {k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()}
        probe_param = Tensor(np.zeros(1), requires_grad=True)
        try:
            # (the current settings fill in the rest: nesterov=True needs the momentum)
            current = {**self._hyperparameters(), "lr": self.lr}
            probe = type(self)([probe_param], **{**current, **saved})
        except (TypeError, ValueError) as exc:
            reason = str(exc).removeprefix(f"{name}: ")
            raise ValueError(f"{name}: {source} hyperparameters are refused: {reason}"
                             ) from None
        return {k: getattr(probe, k) for k in saved}

    def _hyperparameters(self) -> dict[str, Any]:
        out = {}
        if not callable(self.lr):
            out["lr"] = self.lr
        return out

    def __repr__(self) -> str:
        # a schedule is no hyperparameter of the state, but the repr should still show it
        settings = {"lr": self.lr, **self._hyperparameters()}
        extra = ", ".join(f"{k}={v}" for k, v in settings.items())
        return f"{type(self).__name__}({len(self.params)} parameter(s), {extra})"


class _ParamGroup(MutableMapping):
    """``opt.param_groups[0]``: the optimizer's settings under PyTorch's keys, written
    through to it (checked as the constructor checks them)."""

    def __init__(self, optimizer: Optimizer) -> None:
        self._optimizer = optimizer

    def _settings(self) -> list[str]:
        return ["lr", *(k for k in self._optimizer._hyperparameters() if k != "lr")]

    def __getitem__(self, key: str) -> Any:
        if key == "params":
            return self._optimizer.params
        if key not in self._settings():
            raise KeyError(f"{type(self._optimizer).__name__}: param_groups has no {key!r}; "
                           f"it has 'params', {', '.join(map(repr, self._settings()))}")
        return getattr(self._optimizer, key)

    def __setitem__(self, key: str, value: Any) -> None:
        opt = self._optimizer
        if key == "params":
            raise KeyError(f"{type(opt).__name__}: param_groups' 'params' cannot be replaced; "
                           f"make a new optimizer")
        checked = opt._checked_hyperparameters({key: value}, "param_groups'")
        setattr(opt, key, checked[key])

    def __delitem__(self, key: str) -> None:
        raise KeyError(f"{type(self._optimizer).__name__}: param_groups' entries cannot be "
                       f"removed")

    def __iter__(self) -> Iterator[str]:
        return iter(["params", *self._settings()])

    def __len__(self) -> int:
        return 1 + len(self._settings())

    def __repr__(self) -> str:
        return repr(dict(self))


def _schedule_value(schedule: Schedule, t: int, who: str) -> float:
    """``schedule(t)`` as a float, refused unless it is a finite number ``>= 0``."""
    value = schedule(t)
    lr = _as_real(value)  # (a 0-d array or tensor of a number too)
    if lr is None:
        raise ValueError(f"{who}: the schedule {getattr(schedule, '__name__', schedule)!s:.60} "
                         f"must give a number at step {t}, got {type(value).__name__} "
                         f"{value!r:.60}")
    if not lr >= 0 or not math.isfinite(lr):
        raise ValueError(f"{who}: the schedule gave lr={lr!r} at step {t}")
    return lr


def _add_in_place(p: Tensor, delta: Any) -> None:
    """``p += delta`` on the raw storage (rebinding arrays that cannot be written)."""
    data = p._data
    if type(data) is np.ndarray and type(delta) is np.ndarray:
        try:
            data += delta  # the common case: one call, in place
        except (TypeError, ValueError):  # read-only, a dtype that cannot hold it, a shape
            p._write(p._data + delta, "step")
    elif not backend.update_in_place(operator.add, data, delta):
        p._write(data + delta, "step")
    bump_version(p)


class GD(Optimizer):
    """Gradient descent: ``x_t = x_{t-1} - η_t ∇f(x_{t-1})``.

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor(2.0, requires_grad=True)
    >>> opt = wl.optim.GD([x], lr=0.1)
    >>> (x ** 2).backward(); opt.step()
    >>> round(x.item(), 6)
    1.6
    """

    def _update(self, p: Tensor, g: Tensor, lr: float, state: dict) -> None:
        _add_in_place(p, -lr * g._data)


class _WithMomentum(Optimizer):
    """An optimizer with a momentum coefficient ``λ`` in ``[0, 1)``."""

    def __init__(self, params: Iterable[Tensor], lr: float | Schedule = _REQUIRED,
                 momentum: float = 0.9) -> None:
        super().__init__(params, lr)
        if not _is_number(momentum) or not 0 <= momentum < 1:
            raise ValueError(f"{type(self).__name__}: momentum must be in [0, 1), got "
                             f"{momentum!r}")
        self.momentum = float(momentum)

    def _hyperparameters(self) -> dict[str, Any]:
        return {**super()._hyperparameters(), "momentum": self.momentum}


class Momentum(_WithMomentum):
    """The heavy ball of the text: ``g_t = -η_t ∇f(x_{t-1}) + λ g_{t-1}``, ``x_t = x_{t-1} + g_t``,
    ``g_0 = 0`` (PyTorch's ``SGD(momentum=λ)`` for a constant step size).

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor(1.0, requires_grad=True)
    >>> opt = wl.optim.Momentum([x], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (x ** 2).backward(); opt.step()
    >>> round(x.item(), 4)
    0.46
    """

    _state_names = ("velocity",)

    def _update(self, p: Tensor, g: Tensor, lr: float, state: dict) -> None:
        velocity = state.get("velocity")
        step = -lr * g._data
        if velocity is None:
            state["velocity"] = _new(step, p._xp)
        elif type(v := velocity._data) is np.ndarray and v.flags.writeable:
            v *= self.momentum  # in its own memory, as PyTorch's momentum_buffer: no
            v += step  # array of the parameter's size made on each step
            step = v
        else:  # the buffer tensor keeps its identity
            step = velocity._data = step + self.momentum * v
        _add_in_place(p, step)


class Nesterov(_WithMomentum):
    """Nesterov momentum, PyTorch's ``SGD(nesterov=True)`` update:
    ``b_t = λ b_{t-1} + ∇f``, ``x_t = x_{t-1} - η_t (∇f + λ b_t)``.

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor(1.0, requires_grad=True)
    >>> opt = wl.optim.Nesterov([x], lr=0.1)
    >>> (x ** 2).backward(); opt.step()
    >>> round(x.item(), 4)
    0.62
    """

    _state_names = ("buffer",)

    def _update(self, p: Tensor, g: Tensor, lr: float, state: dict) -> None:
        buffer = state.get("buffer")
        g = g._data
        buffer = backend.asarray(g, xp=p._xp, copy=True) if buffer is None \
            else self.momentum * buffer._data + g
        state["buffer"] = _new(buffer, p._xp)
        _add_in_place(p, -lr * (g + self.momentum * buffer))


class SGD(Optimizer):
    """Stochastic gradient descent as PyTorch's ``optim.SGD``, step for step.

    For each parameter, with ``g = ∇f + weight_decay * x``: without momentum,
    ``x_t = x_{t-1} - η_t g``; with it, the buffer ``b_1 = g``,
    ``b_t = momentum * b_{t-1} + (1 - dampening) g``, and the step uses ``b_t`` (or
    ``g + momentum * b_t`` with ``nesterov``). ``lr`` may be a schedule ``t -> η_t``
    (``t = 1`` first), applied to the whole step, as PyTorch's schedulers do.
    ``maximize=True`` ascends. Parameter groups (dicts) are not supported: one ``lr`` for
    all parameters.

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor(1.0, requires_grad=True)
    >>> opt = wl.optim.SGD([x], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (x ** 2).backward(); opt.step()
    >>> round(x.item(), 4)
    0.46
    """

    def __init__(self, params: Iterable[Tensor], lr: float | Schedule = 1e-3,
                 momentum: float = 0, dampening: float = 0, weight_decay: float = 0,
                 nesterov: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, lr)
        for name, value in (("momentum", momentum), ("dampening", dampening),
                            ("weight_decay", weight_decay)):
            # PyTorch refuses a negative momentum or weight decay (dampening: any number)
            if not _is_number(value) or not math.isfinite(value) \
                    or (value < 0 and name != "dampening"):
                what = "a finite number" if name == "dampening" else "a non-negative number"
                raise ValueError(f"SGD: {name} must be {what}, got {value!r}")
        nesterov = check_flag("SGD", "nesterov", nesterov)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: Nesterov momentum requires a momentum and zero dampening, "
                             f"got momentum={momentum!r}, dampening={dampening!r}")
        self.momentum = float(momentum)
        self.dampening = float(dampening)
        self.weight_decay = float(weight_decay)
        self.nesterov = nesterov
        self.maximize = check_flag("SGD", "maximize", maximize)

    _state_names = ("momentum_buffer",)

    def _update(self, p: Tensor, g: Tensor, lr: float, state: dict) -> None:
        d = g._data
        if self.maximize:
            d = -d
        if self.weight_decay:
            d = d + self.weight_decay * p._data
        momentum = self.momentum
        if momentum:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = _new(
                    backend.asarray(d, xp=p._xp, copy=True), p._xp)
            else:  # the buffer tensor keeps its identity, as PyTorch's momentum_buffer
                buffer._data = momentum * buffer._data + (1 - self.dampening) * d
            d = d + momentum * buffer._data if self.nesterov else buffer._data
        _add_in_place(p, -lr * d)

    def _hyperparameters(self) -> dict[str, Any]:
        return {**super()._hyperparameters(), "momentum": self.momentum,
                "dampening": self.dampening, "weight_decay": self.weight_decay,
                "nesterov": self.nesterov, "maximize": self.maximize}


class Adam(Optimizer):
    """Adam (Kingma & Ba), computed as PyTorch's ``optim.Adam``.

    ``weight_decay`` adds ``weight_decay * x`` to the gradient (L2, as PyTorch's ``Adam``;
    not ``AdamW``'s decoupled decay); ``maximize=True`` ascends. PyTorch's ``amsgrad`` is not
    supported.

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor(1.0, requires_grad=True)
    >>> opt = wl.optim.Adam([x], lr=0.1)
    >>> (x ** 2).backward(); opt.step()
    >>> round(x.item(), 4)
    0.9
    """

    def __init__(self, params: Iterable[Tensor], lr: float | Schedule = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, *, maximize: bool = False) -> None:
        super().__init__(params, lr)
        if not _is_number(weight_decay) or not weight_decay >= 0 \
                or not math.isfinite(weight_decay):
            raise ValueError(f"Adam: weight_decay must be a non-negative number, got "
                             f"{weight_decay!r}")
        if not (isinstance(betas, tuple | list) and len(betas) == 2 and
                all(_is_number(b) and 0 <= b < 1 for b in betas)):
            raise ValueError(f"Adam: betas must be two numbers in [0, 1), got {betas!r}")
        beta1, beta2 = betas
        if not _is_number(eps) or not eps >= 0 or not math.isfinite(eps):
            # an infinite eps would make every step zero without a word
            raise ValueError(f"Adam: eps must be a finite non-negative number, got {eps!r}")
        self.betas = (float(beta1), float(beta2))
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.maximize = check_flag("Adam", "maximize", maximize)

    _on_tensors = True

    _state_names = ("m", "v", "step")

    def _update(self, p: Tensor, g: Tensor, lr: float, state: dict) -> None:
        beta1, beta2 = self.betas
        if self.maximize:
            g = -g
        if self.weight_decay:
            g = g + self.weight_decay * p
        m = state.get("m")
        v = state.get("v")
        m = (1 - beta1) * g if m is None else beta1 * m + (1 - beta1) * g
        v = (1 - beta2) * g * g if v is None else beta2 * v + (1 - beta2) * g * g
        # the steps this parameter took (PyTorch's state["step"]): one with no gradient is
        # no step for its bias correction (a state saved without it: every step counted)
        step = 1.0 + (state["step"].item() if "step" in state else
                      self.t - 1.0 if "m" in state else 0.0)
        state["m"], state["v"] = m, v
        state["step"] = _new(backend.asarray(step), backend.numpy_namespace)
        bias1 = 1 - beta1 ** step
        bias2 = 1 - beta2 ** step
        denom = v.sqrt() / math.sqrt(bias2) + self.eps
        p -= (lr / bias1) * m / denom

    def _hyperparameters(self) -> dict[str, Any]:
        return {**super()._hyperparameters(), "betas": self.betas, "eps": self.eps,
                "weight_decay": self.weight_decay, "maximize": self.maximize}
