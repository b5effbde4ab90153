"""The Tensor, the grad mode, and the dispatch that records primitives on the tape.

A Tensor holds an array of some Array-API namespace (``_data``, ``_xp``), whether it
requires grad, its accumulated ``grad``, the node that made it (``None`` for a leaf)
and a version counter shared with the tensors that alias its storage.

The operators and methods are installed by ``wonderland.primitives``: each is a thin
call into a primitive, whose forward, reverse and forward rules live in one place.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
import math
import threading
import warnings
from collections.abc import Callable
from typing import Any

from . import array_libraries, backend

# ----------------------------------------------------------------------- grad mode

# The mode is per thread, as PyTorch's: one thread's no_grad() or backward() must not stop
# another's recording (Dask runs blocks on threads). The hot paths read one global,
# ``_grad_enabled``, true while no thread has turned recording off, and look up their own
# thread's mode only when some thread has.


class _ThreadMode(threading.local):
    recording = True
    reverse_transforms = 0  # reverse transforms now evaluating their function (transforms.py)


_thread_mode = _ThreadMode()
_grad_enabled = True  # no thread has recording off
_threads_off = 0
_mode_lock = threading.Lock()


def _after_fork() -> None:  # the forking thread is the child's only one: only its mode counts
    global _mode_lock, _threads_off, _grad_enabled
    _mode_lock, _threads_off = threading.Lock(), int(not _thread_mode.recording)
    _grad_enabled = _threads_off == 0


backend.after_fork(_after_fork)


def is_grad_enabled() -> bool:
    """Whether operations are being recorded for reverse mode (in this thread)."""
    return _thread_mode.recording


def set_grad_enabled(mode: bool) -> bool:
    """Turn recording on or off in this thread; returns the previous mode."""
    global _grad_enabled, _threads_off
    previous, mode = _thread_mode.recording, bool(mode)
    if mode is not previous:
        with _mode_lock:
            _threads_off += -1 if mode else 1
            _grad_enabled = _threads_off == 0
        _thread_mode.recording = mode
    return previous


class _GradMode(contextlib.ContextDecorator):
    _mode = True

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        instance = super().__new__(cls)
        if func is not None and not callable(func):
            raise TypeError(f"{cls.__name__}() takes no arguments, got {func!r}")
        # a function: used bare, as ``@wl.no_grad`` (PyTorch allows both forms)
        return instance if func is None else instance(func)

    def _recreate_cm(self) -> _GradMode:  # each call of a decorated function: its own mode
        fresh = object.__new__(type(self))  # (shared, one thread's call restored another's)
        fresh.__dict__.update(self.__dict__)
        return fresh

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if not inspect.isgeneratorfunction(func):
            return super().__call__(func)

        @functools.wraps(func)  # a generator: the mode holds while its body runs (PyTorch's)
        def generator(*args: Any, **kwargs: Any) -> Any:
            body = func(*args, **kwargs)
            resume, value = body.send, None
            while True:
                with self._recreate_cm():
                    try:
                        out = resume(value)
                    except StopIteration as stop:
                        return stop.value
                try:
                    value, resume = (yield out), body.send
                except BaseException as exc:  # noqa: BLE001 - thrown in (close() too): to the body
                    value, resume = exc, body.throw

        return generator

    def __enter__(self) -> None:
        self._previous = set_grad_enabled(self._mode)

    def __exit__(self, *exc: object) -> None:
        set_grad_enabled(self._previous)


class no_grad(_GradMode):
    """Context manager and decorator: nothing inside is recorded on the tape.

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor(2.0, requires_grad=True)
    >>> with wl.no_grad():
    ...     y = x * 3
    >>> y.requires_grad
    False
    """

    _mode = False


class enable_grad(_GradMode):
    """Context manager and decorator: recording is on inside, even within ``no_grad``.

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor(2.0, requires_grad=True)
    >>> with wl.no_grad(), wl.enable_grad():
    ...     (x * 3).requires_grad
    True
    """


# ----------------------------------------------------------------------- primitives


def identity_rule(g: Any, ans: Any, *args: Any, **params: Any) -> Any:
    """The reverse rule that passes the cotangent through (add, clone): the reverse pass
    recognizes it and skips the call."""
    return g


class Primitive:
    """One differentiable operation: its forward computation, reverse rules and forward rule.

    ``forward(xp, *arrays, **params)`` computes on raw arrays of the namespace ``xp``.
    ``vjps[i](g, ans, *args, **params)`` gives the cotangent of argument ``i`` (``None``
    marks an argument that is not differentiable), written with wonderland operations so
    that it is differentiable itself; ``raw_vjps`` are the same rules on raw arrays, for a
    reverse pass that records nothing (rules written for Tensors only are wrapped once,
    here). ``jvp(tangents, ans, *args, **params)`` gives the output tangent (a tangent is
    ``None`` where it is zero). ``ans`` is the output when ``uses_ans``, else ``None``.
    ``reads`` lists the arguments whose values the rules read, which the version counter
    guards (``None``: all). ``view``: the output shares its first argument's storage.
    ``lean`` (derived): the rules read no argument's values and the output is no view, so
    a node may keep large arguments as stand-ins of their shape and dtype (``_stand_in``).
    ``crossed``: the arguments (of two) whose values only the other argument's rule reads
    (``a * b``, ``a @ b``): not guarded when that other argument needs no gradient.
    """

    __slots__ = ("name", "forward", "vjps", "raw_vjps", "jvp", "uses_ans", "reads", "view",
                 "lean", "crossed")

    def __init__(self, name: str, forward: Callable[..., Any], vjps: Any,
                 jvp: Callable[..., Any] | None, *, raw_vjps: Any = None,
                 uses_ans: bool = False, reads: tuple[int, ...] | None = None,
                 view: bool = False) -> None:
        self.name, self.forward, self.vjps, self.jvp = name, forward, vjps, jvp
        self.raw_vjps = _on_arrays(vjps) if raw_vjps is None else raw_vjps
        self.uses_ans, self.reads, self.view = uses_ans, reads, view
        self.lean = reads == () and not view
        self.crossed: tuple[int, ...] = ()

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"


class Variadic:
    """The reverse rules of a primitive with any number of arguments (stack, concat): rule
    ``i`` is ``rule(i, g, ans, args, **params)``, the arguments passed whole (spread into
    each of n rules, they made a pass quadratic); ``self[i]`` is rule ``i`` in the usual
    form, ``(g, ans, *args, **params)``."""

    def __init__(self, rule: Callable[..., Any]) -> None:
        self.rule = rule

    def __getitem__(self, i: int) -> Callable[..., Any]:
        return lambda g, ans, *args, **params: self.rule(i, g, ans, args, **params)


def _on_arrays(vjps: Any) -> Any:
    """Rules written for Tensors, wrapped to take and give raw arrays."""
    if type(vjps) is Variadic:  # each rule wrapped as it is picked
        return Variadic(lambda i, g, ans, args, **params: _array_rule(vjps[i])(
            g, ans, *args, **params))
    return tuple(r if r is None or r is identity_rule else _array_rule(r) for r in vjps)


def _array_rule(rule: Callable[..., Any]) -> Callable[..., Any]:
    def on_arrays(g: Any, ans: Any, *args: Any, **params: Any) -> Any:
        xp = backend.namespace(g)
        wrap = [_new(a, xp) if backend.is_array(a) else a for a in (g, ans, *args)]
        out = rule(*wrap, **params)
        return out._data if type(out) is Tensor else out

    return on_arrays


_sequence = itertools.count()


class Node:
    """A recorded application of a primitive: what the reverse rules need, nothing more.

    ``seq`` grows with every node made, so a node's inputs always have smaller numbers:
    the reverse pass visits nodes by decreasing ``seq``, a topological order for free.
    The edges say where each argument's cotangent goes, fixed when recorded (an in-place
    op may later give the argument a new history): its node, the leaf itself, or None.
    ``g`` holds the cotangent pending during a reverse pass. The version guard needs
    nothing stored: an argument the rules read (or the output, ``ans_vc``) written in
    place after ``seq`` (after ``ans_since`` for the output) is stale.

    One and two arguments (nearly every node) sit in their own fields, ``a0, a1`` and
    ``e0, e1``: no tuples to allocate on the hot path. More go in ``rest``/``erest``.
    ``n`` is the number of arguments, -1 once the graph is freed. ``keep``, set only by
    ``retain_grad``, is a weak reference to the tensor whose gradient the pass keeps here
    (it counts while that tensor's node is still this one).
    """

    __slots__ = ("prim", "n", "a0", "a1", "e0", "e1", "rest", "erest", "params",
                 "ans_data", "ans_vc", "ans_since", "ans_fw", "seq", "g", "keep")

    @property
    def args(self) -> tuple | None:
        return None if self.n < 0 else (self.a0,) if self.n == 1 else (self.a0, self.a1) \
            if self.n == 2 else self.rest

    @property
    def name(self) -> str:
        return self.prim.name

    def __repr__(self) -> str:
        return f"<{self.prim.name} backward>"


def make_node(prim: Primitive, args: tuple, params: dict) -> Node:
    """A node for ``prim`` applied to ``args`` (the general path)."""
    node = Node()
    node.prim, node.params, node.seq = prim, params, next(_sequence)
    node.ans_data = node.g = None
    edges = [_edge(a) if prim.vjps[i] is not None else None for i, a in enumerate(args)]
    if prim.lean:
        args = tuple(map(_stand_in, args))
    n = node.n = len(args)
    if n == 1:
        node.a0, node.e0 = args[0], edges[0]
    elif n == 2:
        node.a0, node.a1, node.e0, node.e1 = *args, *edges
    else:
        node.rest, node.erest = args, tuple(edges)
    return node


_object_new = object.__new__
_LEAN_SIZE = 1 << 16  # elements: a smaller argument costs less to keep than to replace
_ndarray, _generic = backend.np.ndarray, backend.np.generic


def _stand_in(a: Any) -> Any:
    """For a node whose rules read only shapes and dtypes (``Primitive.lean``): a large
    non-leaf argument replaced by a tensor of its shape and dtype on no memory, so that its
    values are freed with the last tensor that holds them (an MLP's pre-activations, the
    squares under a mean) instead of living until the reverse pass."""
    if type(a) is not Tensor or a._node is None or type(a._data) is not _ndarray \
            or a._data.size < _LEAN_SIZE:
        return a
    data = a._data
    return _new(backend.np.broadcast_to(backend.np.zeros((), data.dtype), data.shape), a._xp)


def _edge(a: Any) -> Any:
    """The edge to an argument: its node, the leaf itself, or None when it needs no grad."""
    if type(a) is not Tensor or not a._rg:
        return None
    if a._base is not None:
        check_view(a)
    return a if a._node is None else a._node


def check_view(view: Tensor) -> None:
    """Refuse a view whose base a recorded in-place write changed, where the view lies,
    after the view was taken: the view's history misses that write (PyTorch rewrites it;
    here the gradient would be wrong). A write elsewhere in the base leaves it right."""
    node, base = view._node, view._base
    write = None if base is None else base._node  # the base's history: latest writes first
    while type(write) is Node and node is not None and write.seq > node.seq:
        index = write.params.get("index", ...) if write.prim.name == "index_put" else ...
        if index is ... or type(base._data) is not _ndarray or not backend.is_basic_index(
                index) or backend.np.shares_memory(view._data,
                                                   base._data[backend.complete_index(index)]):
            raise RuntimeError(f"a view of shape {view.shape} is used after an in-place "
                               f"{write.prim.name.replace('index_put', 'assignment')} changed "
                               f"its values through the tensor it views; its history misses "
                               f"that write: take the view again after the write")
        write = write.e0  # the history before this write


def _new(data: Any, xp: Any) -> Tensor:
    t = _object_new(Tensor)
    t._data, t._xp, t._rg = data, xp, False
    t._grad = t._node = t._vc = t._fw = t._base = None
    return t


def as_tensor(value: Any) -> Tensor:
    """``value`` as a Tensor (Tensors pass through unchanged)."""
    if isinstance(value, Tensor):
        return value
    data = backend.asarray(value)
    return _new(data, backend.namespace(data))


def version_counter(t: Tensor) -> list[int]:
    """The version counter of ``t``, shared with the tensors on its storage, made on first
    need (most tensors never need one): ``[writes, epoch]``, how many in-place writes and
    the creation number (``next(_sequence)``) at the latest. A node made before ``epoch``
    saw an older value."""
    if t._vc is None:
        t._vc = [0, -1]
    return t._vc


# The creation number at the latest in-place write: a node made after it has seen every
# version as it still is, so the reverse pass skips its guard (the common case).
last_write = [-1]
SEEN = -1  # a view's entry in ``_fw``: its storage's version when its tangents were made

# The tracer of ``wl.compile`` while it traces a function, else None: in-place writes
# consult it (the tracer wraps the methods that read values out of the graph itself).
_tracer: Any = None
# Non-leaf tensors whose gradient ``backward()`` keeps (``retain_grad``): id -> weakref.
retained: dict[int, Any] = {}


def bump_version(t: Tensor) -> None:
    """Say that ``t``'s storage was written in place."""
    if _tracer is not None:
        _tracer.wrote(t)
    vc = version_counter(t)
    vc[0] += 1
    vc[1] = last_write[0] = next(_sequence)


def apply(prim: Primitive, *args: Any, **params: Any) -> Tensor:
    """Run ``prim`` on ``args`` (Tensors or constants); record it when grad is needed."""
    xp = None
    record = forward_mode = mixed = False
    datas = []
    for a in args:
        if isinstance(a, Tensor):
            if xp is None:
                xp = a._xp
            elif a._xp is not xp:
                mixed = True
            record = record or a._rg
            forward_mode = forward_mode or a._fw is not None
            datas.append(a._data)
        else:
            datas.append(a)
    if mixed or xp is not backend.numpy_namespace and xp is not None:
        args, xp = one_library(args)
        datas = [a._data if isinstance(a, Tensor) else a for a in args]
    xp = xp or backend.numpy_namespace
    return finish(prim, prim.forward(xp, *datas, **params), xp, args, params, record, forward_mode)


def one_library(args: tuple) -> tuple[tuple, Any]:
    """``args`` in one array library, and its namespace: beside another library's tensor,
    NumPy data (arrays, and tensors that need no derivative) move into it, as constants."""
    into = next((a for a in args if isinstance(a, Tensor) and a._xp is not
                 backend.numpy_namespace), None)
    if into is None:
        return args, next(a._xp for a in args if isinstance(a, Tensor))
    moved = []
    for a in args:
        if isinstance(a, Tensor) and a._xp is not into._xp:
            if a._xp is not backend.numpy_namespace or a._rg or a._fw is not None:
                names = sorted({t._xp.__name__.rpartition(".")[2] for t in (a, into)})
                raise TypeError(f"tensors of two array libraries, {names[0]} and {names[1]}, "
                                f"in one operation: move one into the other's library first "
                                f"(wl.tensor(...) of an array of that library)")
            a = _new(array_libraries.from_numpy(a._data, into._data), into._xp)
        elif isinstance(a, _ndarray | _generic):
            a = array_libraries.from_numpy(a, into._data)
        moved.append(a)
    return tuple(moved), into._xp


def finish(prim: Primitive, data: Any, xp: Any, args: tuple, params: dict, record: bool,
           forward_mode: bool, view: bool | None = None) -> Tensor:
    """The output of ``prim`` from its computed ``data``: a view shares the version counter
    (``view`` overrides ``prim.view``), the node is recorded when ``record`` (an argument
    requires grad), tangents pushed."""
    out = _new(data, xp)
    if prim.view if view is None else view:
        _viewing(out, args[0])
    if record and (_grad_enabled or _thread_mode.recording):
        node = out._node = make_node(prim, args, params)
        out._rg = True
        if prim.uses_ans:
            node.ans_data, node.ans_vc, node.ans_since = data, version_counter(out), node.seq
    if forward_mode:
        _forward_hook(prim, out, args, params)
    return out


def _viewing(out: Tensor, x: Tensor) -> None:
    """``out`` views ``x``'s storage, hence shares its version counter. A NumPy scalar (a
    reduction's 0-d result) has no storage to share: ``x`` takes the view's element."""
    out._vc = version_counter(x)
    out._base = x if x._base is None else x._base
    if isinstance(x._data, _generic):  # (out's too, when it is x.reshape(()))
        out._data = out._data if type(out._data) is _ndarray else backend.np.array(out._data)
        x._data = backend.np.lib.stride_tricks.as_strided(out._data, (), ())


def finish_one(prim: Primitive, data: Any, x: Tensor, params: dict) -> Tensor:
    """``finish`` for a primitive of the one tensor ``x`` (``sin(x)``, ``x[:, 0]``,
    ``x.sum()``): the same output, with no tuple of arguments and no calls on the way."""
    out = _object_new(Tensor)  # _new, inlined: this is the hot path
    out._data, out._xp, out._rg = data, x._xp, False
    out._grad = out._fw = out._node = out._vc = out._base = None
    if prim.view:
        _viewing(out, x)
    if x._rg and (_grad_enabled or _thread_mode.recording):
        node = out._node = Node()
        node.prim, node.n, node.a0 = prim, 1, x
        if prim.lean and type(x._data) is _ndarray and x._data.size >= _LEAN_SIZE:
            node.a0 = _stand_in(x)
        node.e0 = (x if x._node is None else x._node) if prim.vjps[0] is not None else None
        if x._base is not None and x._base._node is not None:  # (a leaf's views: no writes)
            check_view(x)
        node.params, node.seq = params, next(_sequence)
        node.g = node.ans_data = None
        if prim.uses_ans:
            node.ans_data, node.ans_vc, node.ans_since = data, version_counter(out), node.seq
        out._rg = True
    if x._fw is not None:
        _forward_hook(prim, out, (x,), params)
    return out


def unary_function(prim: Primitive) -> Callable[[Any], Tensor]:
    """The fast entry point of a one-argument primitive: no parameters, one tensor."""
    forward = prim.forward
    on_numpy = getattr(forward, "on_numpy", None)  # the NumPy function itself, if it is one
    numpy_namespace = backend.numpy_namespace

    def op(x: Any) -> Tensor:
        if type(x) is not Tensor:
            x = as_tensor(x)
        try:
            data = on_numpy(x._data) if on_numpy is not None and x._xp is numpy_namespace \
                else forward(x._xp, x._data)
        except TypeError:  # strict namespaces refuse integers: promote, as NumPy does
            if prim.name == "neg" and backend.is_bool(x._data.dtype, x._xp):
                raise  # -mask (NumPy and PyTorch refuse it too: ~mask is meant)
            data = forward(x._xp, x._xp.astype(x._data, backend.to_dtype("float64", x._xp)))
        return finish_one(prim, data, x, _NO_PARAMS)

    op.__name__ = prim.name
    return op


_NO_PARAMS: dict = {}


def undifferentiated(prim: Primitive, args: tuple, params: dict = _NO_PARAMS) -> Tensor:
    """Apply ``prim``, a primitive without derivatives (a comparison, a test, a cast to
    integers): never recorded for the reverse pass; forward mode (no tangent) and
    ``wl.compile`` (the operation) see it."""
    args, xp = one_library(args)
    out = _new(prim.forward(xp, *[a._data if type(a) is Tensor else a for a in args], **params), xp)
    if any(type(a) is Tensor and a._fw is not None for a in args):
        _forward_hook(prim, out, args, params)
    return out


def binary_operator(prim: Primitive, op: Callable[[Any, Any], Any],
                    slow: Callable[[Primitive, Any, Any], Tensor],
                    reflected: bool = False) -> Callable[[Tensor, Any], Tensor]:
    """The fast ``self op other`` (``other op self`` when ``reflected``) of a two-argument
    primitive computed by the Python operator ``op``, for a tensor or Python scalar
    ``other``; ``slow`` handles the rest."""
    lean = prim.lean

    def operator(self: Tensor, other: Any) -> Tensor:
        kind = type(other)
        if kind is Tensor and other._xp is self._xp:
            other_data, other_rg, other_fw = other._data, other._rg, other._fw
        elif kind is float or kind is int:  # (a NumPy scalar, a bool: ``slow``)
            other_data, other_rg, other_fw = other, False, None
        else:
            return slow(prim, other, self) if reflected else slow(prim, self, other)
        try:
            data = op(other_data, self._data) if reflected else op(self._data, other_data)
        except (ValueError, RuntimeError) as exc:  # (torch's shape errors: RuntimeError)
            raise binary_error(prim.name, *((other, self) if reflected else (self, other)),
                               exc) from None
        out = _object_new(Tensor)  # _new, inlined: this is the hot path
        out._data, out._xp = data, self._xp
        out._grad = out._vc = out._base = out._fw = None
        if (_grad_enabled or _thread_mode.recording) and (self._rg or other_rg):
            node = out._node = Node()
            node.prim, node.n = prim, 2
            mine = (self if self._node is None else self._node) if self._rg else None
            theirs = (other if other._node is None else other._node) if other_rg else None
            if self._base is not None and self._base._node is not None or other_rg and \
                    other._base is not None and other._base._node is not None:  # (leaves':
                for t in (self, other) if other_rg else (self,):  # no writes to check)
                    check_view(t)
            if reflected:
                node.a0, node.a1, node.e0, node.e1 = other, self, theirs, mine
            else:
                node.a0, node.a1, node.e0, node.e1 = self, other, mine, theirs
            if lean and type(data) is _ndarray and data.size >= _LEAN_SIZE:
                node.a0, node.a1 = _stand_in(node.a0), _stand_in(node.a1)
            node.params, node.seq = _NO_PARAMS, next(_sequence)
            node.g = node.ans_data = None
            out._rg = True
        else:
            out._node, out._rg = None, False
        if self._fw is not None or other_fw is not None:
            _forward_hook(prim, out, (other, self) if reflected else (self, other), _NO_PARAMS)
        return out

    operator.__name__ = prim.name
    return operator


def binary_error(name: str, a: Any, b: Any, exc: Exception) -> Exception:
    """The error of a binary operation that NumPy refused, in the user's terms (another
    library's error that is not about shapes, as it is)."""
    shapes = [tuple(getattr(v, "shape", ())) for v in (a, b)]
    try:
        backend.broadcast_shapes(*shapes)
    except ValueError:
        return ValueError(f"{name}: shapes {shapes[0]} and {shapes[1]} cannot be broadcast "
                          f"together")
    return ValueError(f"{name}: {exc}") if isinstance(exc, ValueError) else exc


# Forward mode installs its hook here (wonderland.autodiff.forward); until a tangent
# exists nothing calls it.
def _forward_hook(prim: Primitive, out: Tensor, args: tuple, params: dict) -> None:
    raise RuntimeError("forward-mode tangents found but forward mode is not installed")


def install_forward_hook(hook: Callable[[Primitive, Tensor, tuple, dict], None]) -> None:
    global _forward_hook
    _forward_hook = hook


# ----------------------------------------------------------------------- the Tensor



class Tensor:
    """An array that can record the operations applied to it, for automatic differentiation.

    Create tensors with :func:`wonderland.tensor` and friends. Arithmetic follows NumPy
    broadcasting; gradients follow PyTorch semantics (they accumulate into ``.grad``).

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor([1.0, 2.0], requires_grad=True)
    >>> (x ** 2).sum().backward()
    >>> x.grad
    tensor([2., 4.])
    """

    __slots__ = ("_data", "_xp", "_rg", "_grad", "_node", "_vc", "_fw", "_base", "__weakref__")
    __array_priority__ = 1000
    __hash__ = object.__hash__

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> None:
        array = backend.asarray(data._data if isinstance(data, Tensor) else data, dtype=dtype)
        self._data, self._xp, self._rg = array, backend.namespace(array), False
        self._grad = self._node = self._vc = self._fw = self._base = None
        if requires_grad:
            self.requires_grad = True

    # -- attributes -----------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape, a tuple of ints."""
        return tuple(self._data.shape)

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return len(self._data.shape)

    @property
    def size(self) -> int:
        """The number of elements."""
        return math.prod(self._data.shape)

    @property
    def dtype(self) -> Any:
        """The element type (a NumPy dtype for NumPy data)."""
        return self._data.dtype

    @property
    def device(self) -> Any:
        """The device the data lives on."""
        return backend.device(self._data)

    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded for reverse mode."""
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if type(value) is not bool and not isinstance(value, backend.np.bool_):
            raise TypeError(f"requires_grad must be True or False, got {value!r}")
        if value and not backend.is_floating(self._data.dtype, self._xp):
            raise TypeError(f"only floating-point tensors can require gradients, got dtype "
                            f"{backend.dtype_name(self._data.dtype)}; convert first, e.g. "
                            f"wl.tensor(data, dtype=wl.float64)")
        if value and backend.is_complex(self._data.dtype, self._xp):
            raise TypeError("complex tensors cannot require gradients: wonderland "
                            "differentiates real functions; use the real and imaginary parts")
        if not value and self._node is not None:
            raise RuntimeError("requires_grad can only be turned off on a leaf tensor; "
                               "use detach() instead")
        self._rg = bool(value)

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by ``backward()`` (``None`` until then). Reading it on a
        tensor that is not a leaf warns, as in PyTorch (a learner's ``w = randn(3,
        requires_grad=True) * 0.1`` is one), unless ``retain_grad()`` was called."""
        if self._grad is None and self._node is not None and id(self) not in retained:
            warnings.warn(f"the .grad of a tensor that is not a leaf (made by {self._node.name}) "
                          f"is not filled by backward(); call .retain_grad() on it first, or "
                          f"read the .grad of the leaf it is computed from", stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"grad must be a Tensor or None, got {type(value).__name__}")
            if value.shape != self.shape or backend.dtype_name(value.dtype) != \
                    backend.dtype_name(self.dtype):  # (by name: >f8 and <f8 are float64)
                raise ValueError(f"grad of shape {value.shape} and dtype "
                                 f"{backend.dtype_name(value.dtype)} for a tensor of shape "
                                 f"{self.shape} and dtype {backend.dtype_name(self.dtype)}: "
                                 f"they must match")
        self._grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return the tensor."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for a tensor that no recorded operation produced."""
        return self._node is None

    @property
    def grad_fn(self) -> Node | None:
        """The node of the tape that produced this tensor (``None`` for a leaf)."""
        return self._node

    @property
    def data(self) -> Tensor:
        """A detached tensor sharing storage; changes through it bypass the version counter."""
        return _new(self._data, self._xp)

    @data.setter
    def data(self, new: Any) -> None:
        self._data = new._data if isinstance(new, Tensor) else backend.asarray(new, xp=self._xp)

    # numpy(), item(), tolist(), float(), len(), ...: installed by wonderland.conversions
    # -- reverse mode (backward and retain_grad are installed by wonderland.autodiff) --
    def detach(self) -> Tensor:
        """A tensor with the same values and storage, outside the graph (shares the version)."""
        t = _new(self._data, self._xp)
        t._vc = version_counter(self)
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place."""
        self._node, self._rg = None, False
        return self

    # -- in place ------------------------------------------------------------------
    def _inplace(self, prim: Primitive, other: Any, opname: str, op: Any = None,
                 **params: Any) -> Tensor:
        """``self op= other`` by ``prim`` (``op`` its Python operator, for a raw update)."""
        if not isinstance(other, (Tensor, int, float)):  # arrays, lists join self's library
            other = _new(backend.asarray(other, xp=self._xp), self._xp)
        elif type(other) is Tensor and other._xp is not self._xp:
            other = one_library((self, other))[0][1]
        tensor = type(other) is Tensor
        if (is_grad_enabled() and (self._rg or tensor and other._rg)) or self._fw is not None \
                or tensor and other._fw is not None:
            return self._inplace_by(lambda old: apply(prim, old, other, **params), opname,
                                    (other,), copy=prim.reads is None or 0 in prim.reads)
        if tensor:
            other = other._data
        if "index" in params:  # a plain write, no copy of the whole tensor
            self._write_at(params["index"], other)
        elif not backend.update_in_place(op, self._data, other):
            self._write(prim.forward(self._xp, self._data, other), opname)
        bump_version(self)
        return self

    def _check_inplace(self, record: bool, tangents: bool, opname: str) -> tuple | None:
        """Refuse an in-place op that the graph (``record``) or forward mode cannot follow;
        for a view whose write the graph follows through the tensor viewed, that tensor
        and where the view lies in it."""
        if record and self._node is None and self._rg:
            raise RuntimeError(f"a leaf tensor that requires grad (as the inputs of wl.grad's "
                               f"function are) is used in the in-place operation {opname}; "
                               f"write the out-of-place form (x = x * 2 for x *= 2), or do it "
                               f"inside wl.no_grad()")
        base, node = self._base, self._node
        root = self if base is None else base  # with no history, the write starts one
        fresh = root._node is None and not root._rg and root._fw is None
        if fresh and root._vc is not None and backend.refs(root._vc) > backend.ALONE + 1 + (
                base is not None):  # older views beside self would miss that history
            raise RuntimeError(f"in-place {opname} starts the history of a tensor that other "
                               f"views (or detach()) share: they would miss it; clone() them")
        if base is not None:  # the write reaches the tensor viewed
            if not tangents and node is not None and node.n > 0 and node.prim.name == "getitem":
                check_view(self)  # (not once backward() freed the node: n is -1)
                return node.a0, node.params["index"]
            if fresh and type(base._data) is _ndarray:
                return base, backend.view_index(base._data, self._data)
            what = "carries forward-mode tangents" if tangents else "requires grad" if not \
                fresh else "holds no NumPy array (another library's)"
            if _tracer is not None:
                _tracer.view_write(self, opname)
            raise RuntimeError(f"in-place {opname} on a view of a tensor that {what} is not "
                               f"supported (except y[i] += v with gradients); clone() the view")

    def _inplace_by(self, compute: Callable[[Tensor], Tensor], opname: str,
                    others: tuple = (), copy: bool = True) -> Tensor:
        """Replace the values in place by ``compute(old)``, ``old`` being this tensor as it
        was (its history kept; a copy of its values when ``copy``, for rules that read
        them). ``others`` are the other operands ``compute`` reads, so that their gradients
        and tangents are followed."""
        tensors = [o for o in others if type(o) is Tensor]
        record = is_grad_enabled() and (self._rg or any(o._rg for o in tensors))
        tangents = self._fw is not None or any(o._fw is not None for o in tensors)
        if record or tangents:
            through = self._check_inplace(record, tangents, opname)
            old = _new(self._xp.asarray(self._data, copy=True) if copy else self._data, self._xp)
            old._node, old._rg, old._fw = self._node, self._rg, self._fw
            result = compute(old)
            if through:  # PyTorch's y[i] += v: y[i] = the result (recorded), the view again
                parent, index = through
                self._vc = None  # (not an older view that this write into parent would leave)
                parent[index] = result
                view = parent[index]
                self._node, self._rg, self._vc = view._node, view._rg, parent._vc
                if record:  # retain_grad follows the write
                    self._node.keep = retained.get(id(self))
                self._fw = view._fw and {**view._fw, SEEN: self._vc[0]}  # (forward.py)
                return self
            self._write(result._data, opname)
            self._fw = result._fw
            if record:
                self._node, self._rg = result._node, result._rg
                self._node.keep = retained.get(id(self))
        else:
            result = compute(_new(self._data, self._xp))
            self._write(result._data, opname)
        bump_version(self)
        node = result._node
        if record and node is not None and node.prim.uses_ans:  # its output: this write
            node.ans_vc, node.ans_since = self._vc, self._vc[1]
        return self

    def _write(self, new: Any, opname: str) -> None:
        """Store ``new`` into this tensor's storage (shape and dtype kind must allow it)."""
        data = self._data
        if tuple(new.shape) != tuple(data.shape):
            raise RuntimeError(f"in-place {opname}: the result has shape {tuple(new.shape)} "
                               f"but the tensor has shape {tuple(data.shape)}")
        if new.dtype != data.dtype:
            xp = self._xp
            if backend.kind_rank(new.dtype, xp) > backend.kind_rank(data.dtype, xp):  # (NumPy's)
                raise TypeError(f"in-place {opname}: a {backend.dtype_name(new.dtype)} result "
                                f"cannot be stored in a tensor of {backend.dtype_name(data.dtype)}")
            new = xp.astype(new, data.dtype)
        try:
            data[...] = new
        except (TypeError, ValueError):  # NumPy scalars and read-only arrays: rebind
            self._data = new

    def _write_at(self, index: Any, value: Any) -> None:
        try:
            backend.setitem(self._xp, self._data, index, value)
        except (TypeError, ValueError) as exc:
            if "read-only" in str(exc) or not hasattr(self._data, "__setitem__"):  # (a scalar)
                data = self._xp.asarray(self._data, copy=True)
                data[index] = value
                self._data = data
            else:
                raise ValueError(f"cannot assign a value of shape "
                                 f"{tuple(getattr(value, 'shape', ()))} to an indexed part of "
                                 f"a tensor of shape {self.shape}: {exc}") from None
