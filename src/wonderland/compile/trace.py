"""Tracing: run a function once and record every primitive applied to its inputs.

The inputs are tensors that carry the tracer's mark: an entry at level 0 of ``Tensor._fw``,
the map that forward mode keeps from a level to a tangent. The engine calls the forward-mode
hook for every primitive applied to a tensor with a ``_fw`` (in ``apply``, ``finish``,
``finish_one`` and ``binary_operator``), whatever the grad mode, so while a trace runs that
hook records the primitive as a ``Value`` and gives its output the mark in turn: nothing is
added to the hot paths, which check ``_fw`` anyway. Level 0 is below every level forward mode
opens (they count from 1), so the mark rides along through nested transforms: the recorded
reverse passes that ``wl.grad`` runs on traced inputs and the tangents that ``wl.jvp`` pushes
are primitives on marked tensors too, and land in the same graph.

Operations that depend on no input run eagerly and become constants. What would take a
traced value out of the graph is refused with a ``TraceError`` naming the user's line:
``bool()``, ``.item()``, ``float()``, ``.numpy()``, ``np.asarray``, random draws, in-place
writes into an input or into a tensor that outlives the call, ``backward()``. Operations
without derivatives (comparisons, ``isfinite``, ``argmax``, casts to integers) are
primitives too, and call the same hook (``tensor.undifferentiated``).
"""

from __future__ import annotations

import gc
import linecache
import os
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import backend
from .. import tensor as engine
from ..autodiff import forward, reverse
from ..primitives import elementwise, shape
from ..tensor import Primitive, Tensor, install_forward_hook

MARK = 0  # the level of ``Tensor._fw`` that holds a traced tensor's Value


class TraceError(RuntimeError):
    """What ``wl.compile`` cannot trace: a Python decision on a traced value, a conversion
    to a plain number or array, a random draw, an in-place write it could not repeat.

    The message names the user's file and line and says what to write instead.
    """


# ----------------------------------------------------------------------- the graph


def _outliving(pairs: list) -> list:
    """The ``(weakref, item)`` pairs whose tensor is still alive once the traced call's own
    objects are gone (collected first when some seem alive: tensors and their nodes can
    form cycles). Only the young generations are collected, where the call's own objects
    are: a full collection takes as long as the whole heap (a tenth of a second in a large
    session, at every trace of a function that closes over a tensor). A cycle that an
    automatic collection moved to the old generation is taken for alive: its tensor is only
    not folded."""
    alive = [(r, item) for r, item in pairs if r() is not None]
    if alive:
        gc.collect(1)
        alive = [(r, item) for r, item in alive if r() is not None]
    return alive


def _held_elsewhere(c: Const) -> bool:
    """Whether something beside ``c`` holds its array: a reference from outside the
    trace (or a view's base: then it is kept live, which only forgoes folding it). The
    count is the engine's (``backend.refs``, pinned by tests/test_ownership.py)."""
    return backend.refs(c.value) > backend.ALONE + 1  # c's own hold


class Const:
    """A value fixed at trace time: an array (or NumPy scalar) the program reads.

    ``live``: the array of a tensor (or a writable array) that outlives the call, a closure
    or a global: the program reads it by reference, so an in-place update between calls is
    seen, and no pass may rely on its trace-time values (fold it, or merge it with another
    of equal values)."""

    __slots__ = ("value", "shape", "dtype", "xp", "uniform", "live")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.live = False
        self.shape = tuple(getattr(value, "shape", ()))
        self.dtype = getattr(value, "dtype", None)
        self.xp = backend.namespace(value) if backend.is_array(value) else None
        self.uniform: Any = _UNKNOWN  # the one value of all entries, None if they differ

    def __repr__(self) -> str:
        return f"Const({self.shape}, {self.dtype})"


_UNKNOWN = object()


class Value:
    """A value of the traced program: an input (``prim`` is None) or the output of ``prim``
    applied to ``args`` (Values, Consts, Python numbers or None) with ``params``.

    ``where`` is the user's ``(file, line)`` that made it; ``phase`` 0 for the function's
    own computation, 1 for a derivative (a rule run by a transform), whose ``label`` says
    which (``"∂ sin"``). ``data`` is the value at trace time.
    """

    __slots__ = ("index", "prim", "args", "params", "shape", "dtype", "xp", "where", "phase",
                 "label", "data", "name", "__weakref__")

    def __init__(self, index: int, prim: Primitive | None, args: tuple, params: dict,
                 data: Any, xp: Any) -> None:
        self.index = index
        self.prim = prim
        self.args = args
        self.params = params
        self.data = data
        self.shape = tuple(data.shape)
        self.dtype = data.dtype
        self.xp = xp
        self.where: tuple[str, int] = ("?", 0)
        self.phase = 0
        self.label = prim.name if prim is not None else "input"
        self.name: str | None = None  # an input's argument path

    def __repr__(self) -> str:
        return f"<{self.name or self.label} #{self.index} {self.shape} {self.dtype}>"


def marked(t: Any) -> Value | None:
    """The Value of a traced tensor, None for anything else."""
    if type(t) is Tensor or isinstance(t, Tensor):
        fw = t._fw
        if fw is not None:
            return fw.get(MARK)
    return None


# ----------------------------------------------------------------------- where the user is

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The engine: frames in these files are skipped when naming the user's line. The command
# line, the tour and ``optim/minimize.py`` are user code of the library: their lines name
# themselves.
_ENGINE = tuple(os.path.join(_PACKAGE, part) for part in (
    "tensor.py", "backend.py", "creation.py", "interop.py", "idioms.py", "autograd.py",
    "gradcheck.py", "linalg.py", "losses.py", "primitives", "autodiff", "compile",
    os.path.join("optim", "optimizers.py"), os.path.join("optim", "schedules.py")))
_NUMPY = os.path.dirname(os.path.abspath(np.__file__))
_internal: dict[Any, bool] = {}
_VISIT = reverse._visit.__code__
_AUTODIFF = os.path.join(_PACKAGE, "autodiff")
# what a transform does around the function (its layout steps), by the engine function
_PLUMBING = {"_forward_blocks": "jacfwd layout", "_jacobian_from_reverse": "jacrev layout",
             "_hand_over": "hand-over"}


def _is_internal(code: Any) -> bool:
    """Whether ``code`` is the engine's or NumPy's, cached by file name (bounded: not by
    code object, which kept every traced program's entry alive)."""
    filename = code.co_filename
    flag = _internal.get(filename)
    if flag is None:
        if len(_internal) >= 4096:
            _internal.clear()
        name = os.path.abspath(filename)
        flag = _internal[filename] = name.startswith(_ENGINE) or name.startswith(_NUMPY) or \
            name.startswith("<frozen")
    return flag


def user_frame(depth: int = 1) -> Any:
    """The innermost frame outside the engine (the user's code)."""
    f = sys._getframe(depth + 1)
    while f is not None and _is_internal(f.f_code):
        f = f.f_back
    return f


def describe(where: tuple[str, int]) -> str:
    """``file:line``, then the line's text on a line of its own."""
    filename, line = where
    text = linecache.getline(filename, line).strip()
    return f"{filename}:{line}" + (f"\n    {text}\n" if text else "\n")


# ----------------------------------------------------------------------- the tracer

# The Tensor methods that take values out of the graph, as an error names them: refused on
# traced tensors while a trace runs (the tracer wraps them then; eager code never pays)
_READS = {"numpy": ".numpy()", "__array__": "np.asarray() (NumPy's conversion)",
          "__dlpack__": "a DLPack export", "item": ".item()", "tolist": ".tolist()",
          "__float__": "float()", "__int__": "int()", "__index__": "its use as a Python index",
          "__bool__": "bool() (an if, while, and/or, not or assert on it)"}


class Tracer:
    """One trace: the Values recorded, the constants met, and the engine's hooks it holds.

    ``start()`` installs it (``tensor._tracer``, the forward-mode hook, the checks on the
    Tensor methods that read values); ``stop()`` puts everything back.
    """

    def __init__(self) -> None:
        self.values: list[Value] = []
        self.consts: dict[int, Const] = {}
        self.sources: list[tuple[Any, Const]] = []  # (weakref of a tensor, its Const)
        self.by_seq: dict[int, Value] = {}  # a tape node's creation number -> its Value
        self.jvp_of: Value | None = None    # forward mode running the tangent rule of this
        self.input_vcs: list[list] = []     # version counters of the inputs' storage
        self.written: list[tuple[Tensor, tuple[str, int]]] = []
        self.written_at: dict[int, int] = {}
        self.previous_hook: Callable | None = None
        self.saved: list[tuple[Any, str, Any]] = []
        self.thread = threading.get_ident()  # other threads' eager code is left alone

    # -- installing -------------------------------------------------------------------
    def start(self) -> None:
        if engine._tracer is not None:
            raise RuntimeError(f"wl.compile: a trace started at {engine._tracer.user_line()}"
                               f"while another function is being traced (source() of a "
                               f"compiled function inside a compiled one, say): call it "
                               f"outside the compiled function")
        self.previous_hook = engine._forward_hook
        install_forward_hook(self.hook)
        self._swap(shape, "_raw_index", self._raw_index(shape._raw_index))
        self._swap(Tensor, "backward", self._refuse_backward(Tensor.backward))
        for name, what in _READS.items():
            self._swap(Tensor, name, self._reading(getattr(Tensor, name), what))
        fmt, init, detach, data = Tensor.__format__, Tensor.__init__, Tensor.detach, Tensor.data
        self._swap(Tensor, "__format__", lambda t, spec: (
            spec and self.read(t, f"format(..., {spec!r})"), fmt(t, spec))[1])
        self._swap(Tensor, "__init__", self._copying(init))
        # the engine's writes into a tensor's storage: first the constants read from it
        # keep their values (``acc = wl.zeros(n); acc += x`` reads zeros, then writes)
        write, write_at, fill, update = (Tensor._write, Tensor._write_at, Tensor.fill_,
                                         backend.update_in_place)
        self._swap(Tensor, "_write", lambda t, new, opname: (
            self.protect(t._data), write(t, new, opname))[1])
        self._swap(Tensor, "_write_at", lambda t, index, value: (
            self.protect(t._data), write_at(t, index, value))[1])
        self._swap(Tensor, "fill_", self._filling(fill))
        self._swap(backend, "update_in_place", lambda op, data, other: (
            self.protect(data), update(op, data, other))[1])
        self._swap(Tensor, "detach", self._detaching(detach))
        self._swap(Tensor, "data", property(self._detaching(data.fget), lambda t, value: (
            self.read(value, "assigning it to .data of another tensor"),
            data.fset(t, value))[1]))
        engine._tracer = self

    def stop(self) -> None:
        engine._tracer = None
        install_forward_hook(self.previous_hook)
        for owner, name, original in reversed(self.saved):
            setattr(owner, name, original)
        self.saved.clear()

    def _reading(self, method: Callable, what: str) -> Callable:
        def reads(t: Tensor, *args: Any, **kwargs: Any) -> Any:
            self.read(t, what)
            return method(t, *args, **kwargs)

        return reads

    def _copying(self, init: Callable) -> Callable:
        def copies(t: Tensor, data: Any, dtype: Any = None, requires_grad: bool = False) -> None:
            init(t, data, dtype, requires_grad)
            if isinstance(data, Tensor):
                self.copied(data, t, dtype)

        return copies

    def _filling(self, fill: Callable) -> Callable:
        def fills(t: Tensor, value: float) -> Tensor:
            self.protect(t._data)
            fill(t, value)
            if marked(t) is not None and marked(value) is None:
                # filled with a constant: its values no longer depend on the inputs
                t._fw = {k: v for k, v in t._fw.items() if k != MARK} or None
            return t

        return fills

    def _detaching(self, detach: Callable) -> Callable:
        def detaches(t: Tensor) -> Tensor:
            out = detach(t)
            self.detached(t, out)
            return out

        return detaches

    def _swap(self, owner: Any, name: str, new: Any) -> None:
        self.saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, new)

    # -- values -----------------------------------------------------------------------
    def leaf(self, data: Any, xp: Any, name: str) -> Tensor:
        """A traced input: a tensor on a read-only view of ``data``, marked."""
        if type(data) is np.ndarray:
            data = data.view()
            data.flags.writeable = False
        value = Value(len(self.values), None, (), {}, data, xp)
        value.name = name
        self.values.append(value)
        t = engine._new(data, xp)
        t._vc = [0, -1]
        t._fw = {MARK: value}
        self.input_vcs.append(t._vc)
        return t

    def const(self, data: Any) -> Const:
        c = self.consts.get(id(data))
        if c is None:
            c = self.consts[id(data)] = Const(data)
        return c

    def operand(self, a: Any) -> Any:
        """How ``a`` enters the graph: its Value, a Const, or itself (a Python number)."""
        if isinstance(a, Tensor):
            fw = a._fw
            value = fw.get(MARK) if fw is not None else None
            if value is not None:
                base = a._base
                if base is not None:
                    self._check_view(a, value)
                return value
            c = self.const(a._data)
            self.sources.append((weakref.ref(a), c))  # live if ``a`` outlives the call
            return c
        if backend.is_array(a):
            c = self.const(a)
            c.live = c.live or bool(getattr(getattr(a, "flags", None), "writeable", True))
            return c
        return a

    def record(self, prim: Primitive, out: Tensor, args: tuple, params: dict) -> Value:
        value = Value(len(self.values), prim, tuple(self.operand(a) for a in args), params,
                      out._data, out._xp)
        self._locate(value)
        self.values.append(value)
        node = out._node
        if node is not None:
            self.by_seq[node.seq] = value
        return value

    def _locate(self, value: Value) -> None:
        """The user's line that made ``value``; for a derivative, the line of the operation
        whose rule made it."""
        source = self.jvp_of
        visited = source is not None
        f = sys._getframe(3)
        while f is not None:
            code = f.f_code
            flag = _internal.get(code)
            if flag is None:
                flag = _is_internal(code)
            if not flag:
                break
            if not visited and code.co_filename.startswith(_AUTODIFF):
                # made by a transform (a rule in its reverse pass, or its own layout steps),
                # not by the function it transforms
                if not value.phase:
                    value.phase = 1
                    value.label = _PLUMBING.get(code.co_name, "transform")
                if code is _VISIT:
                    visited = True
                    node = f.f_locals.get("node")
                    source = self.by_seq.get(getattr(node, "seq", -1))
            f = f.f_back
        if source is not None:
            value.phase = 1
            value.where = source.where
            value.label = "∂ " + source.label
        elif f is not None:
            value.where = (f.f_code.co_filename, f.f_lineno)

    # -- the forward-mode hook ------------------------------------------------------------
    def hook(self, prim: Primitive, out: Tensor, args: tuple, params: dict) -> None:
        """Record ``prim`` when an argument is traced; push forward-mode tangents as the
        engine's own hook does, with the output's value traced in the rules that read it."""
        for a in args:
            if isinstance(a, Tensor) and a._fw is not None and MARK in a._fw:
                break
        else:
            self.previous_hook(prim, out, args, params)
            return
        value = self.record(prim, out, args, params)
        self._push(prim, out, args, params, value)

    def _push(self, prim: Primitive, out: Tensor, args: tuple, params: dict,
              value: Value) -> None:
        # forward._push, but the ``ans`` its rules read carries the mark (there it starts
        # from no tangents, which would make the output a constant inside the rule)
        levels = sorted({level for a in args if isinstance(a, Tensor) and a._fw
                         for level in a._fw if level in forward._batch_ndim}) \
            if prim.jvp is not None else ()  # no derivative: no tangent
        fw: dict[int, Any] = {MARK: value}
        outer = self.jvp_of
        self.jvp_of = value
        try:
            for level in levels:
                tangents = tuple(forward.tangent_at(a, level) for a in args)
                if all(t is None for t in tangents):
                    continue
                low = tuple(forward.below(a, level) for a in args)
                ans = None
                if prim.uses_ans:
                    ans = engine._new(out._data, out._xp)
                    ans._node, ans._rg, ans._vc = out._node, out._rg, out._vc
                    ans._fw = dict(fw)
                t = prim.jvp(tangents, ans, *low, **params)
                if t is not None:
                    fw[level] = forward._fit_tangent(t, out, forward._batch_ndim[level], prim)
        finally:
            self.jvp_of = outer
        out._fw = fw
        if prim.uses_ans and out._node is not None and out._node.prim is prim:
            out._node.ans_fw = fw  # the reverse rules' ``ans`` is traced too

    # -- what the engine asks while a trace runs ----------------------------------------
    def read(self, t: Any, what: str) -> None:
        """``what`` reads the values of ``t``: refused when ``t`` is traced."""
        if marked(t) is None:
            return
        hint = ("for a choice by value use wl.where(condition, a, b) (both sides are "
                "computed), or make the deciding argument static (static_argnums)"
                if what.startswith("bool") else
                "keep the computation in wonderland operations on the tensor; if the value "
                "must be a Python number (a size, a count), pass it as a static argument "
                "(static_argnums) or compute it outside the compiled function")
        raise TraceError(f"wl.compile: {what} of a traced tensor at {self.user_line()}Its "
                         f"value changes from call to call, but the compiled code would keep "
                         f"the one seen while tracing; {hint}")

    def random(self, what: str) -> None:
        if threading.get_ident() != self.thread:
            return
        raise TraceError(f"wl.compile: {what} inside a compiled function at "
                         f"{self.user_line()}The draw would be made once, while tracing, and "
                         f"replayed on every call. Draw the numbers outside the function and "
                         f"pass them in as an argument")

    def detached(self, source: Tensor, t: Tensor) -> None:
        """``t`` shares the values of ``source`` (``detach()``, ``.data``)."""
        value = marked(source)
        if value is not None:
            t._fw = {MARK: value}
        if t._vc is None:
            t._vc = source._vc

    def protect(self, data: Any) -> None:
        """Before an in-place write into the array ``data``: each constant read from its
        memory so far is replaced by a copy, so that the program reads the values the
        trace read, not the ones written after. Another thread's write is not the trace's:
        the program reads such a tensor at each call (a copy kept its old values)."""
        if type(data) is not np.ndarray or threading.get_ident() != self.thread:
            return
        for key, c in list(self.consts.items()):
            if type(c.value) is np.ndarray and np.may_share_memory(c.value, data):
                c.value = c.value.copy()
                del self.consts[key]  # a later read of ``data`` is another constant

    def copied(self, source: Tensor, t: Tensor, dtype: Any) -> None:
        """``t`` is a copy of ``source`` (``wl.tensor(x)``), in ``dtype`` if given."""
        value = marked(source)
        if value is None:
            return
        if t._data.dtype != source._data.dtype:
            t._fw = {MARK: self.record(elementwise.astype_, t, (source,),
                                       {"dtype": t._data.dtype})}
        else:
            t._fw = {MARK: value}

    def wrote(self, t: Tensor) -> None:
        """An in-place write into ``t`` (called before its version moves)."""
        if threading.get_ident() != self.thread:
            return
        line = self.user_line()
        if any(t._vc is vc for vc in self.input_vcs):
            raise TraceError(f"wl.compile: an in-place write into an input of the compiled "
                             f"function at {line}The compiled code does not write into its "
                             f"arguments. Write the out-of-place form (x = x + 1 rather than "
                             f"x += 1), or clone() the input first and write into the copy")
        if t._rg and t._node is None:
            raise TraceError(f"wl.compile: an in-place update of a tensor that requires grad "
                             f"at {line}(a parameter, as an optimizer's step() does): the "
                             f"compiled code would not repeat it. Pass the parameter in and "
                             f"return its new value, e.g. wl.optim.minimize(..., compile=True)")
        if t._base is not None and marked(t) is not None and marked(t._base) is None:
            raise TraceError(f"wl.compile: an in-place write of a traced value into a view at "
                             f"{line}The tensor it views would keep the values seen while "
                             f"tracing. Write through the tensor itself (y[index] = value)")
        self.written.append((t, line))
        self.written_at[id(t)] = len(self.values)

    def view_write(self, view: Tensor, opname: str) -> None:
        """An in-place ``opname`` into a view that the engine refuses: a view of a traced
        tensor, or (no forward-mode level being open, so the trace's marks are the only
        tangents) a traced value written into a view of another library's tensor. Another
        thread's write is the engine's to refuse."""
        if threading.get_ident() != self.thread:
            return
        if marked(view) is None and marked(view._base) is None:
            if forward._batch_ndim:  # real tangents: the engine's own refusal
                return
            raise TraceError(f"wl.compile: an in-place {opname} of a traced value into a "
                             f"view of a tensor of another library at {self.user_line()}"
                             f"Without NumPy's views the compiled code cannot follow the "
                             f"write to the tensor viewed. Build the result out of place "
                             f"(wl.concatenate, wl.where), or use a NumPy tensor")
        raise TraceError(f"wl.compile: an in-place {opname} into a view of a traced tensor "
                         f"at {self.user_line()}(y[1:] += v is such a write: the view is "
                         f"written first). Write through the tensor itself, out of place: "
                         f"y[1:] = y[1:] + v")

    def _check_view(self, view: Tensor, value: Value) -> None:
        when = self.written_at.get(id(view._base))
        if when is not None and when > value.index:
            raise TraceError(f"wl.compile: a view taken before an in-place write into its "
                             f"tensor is used at {self.user_line()}The compiled code would "
                             f"read the values from before the write. Take the view after the "
                             f"write, or clone() it")

    def mark_live(self) -> None:
        """Mark the Consts of tensors that outlive the call (held from outside). Called, as
        ``escapes``, once the function's results are let go of."""
        for _, c in _outliving(self.sources):
            c.live = True
        # a tensor that is gone may have wrapped a writable array that lives on: a NumPy
        # array the function closes over (``x * arr`` wraps it for the call). (A dead tensor
        # in a reference cycle may still hold one: it is then only not folded; no gc here,
        # which costs a tenth of a second a trace in a large program.)
        for _, c in self.sources:
            if not c.live and type(c.value) is np.ndarray and c.value.flags.writeable:
                c.live = _held_elsewhere(c)
        self.sources.clear()

    def escapes(self) -> None:
        """Refuse in-place writes into tensors that outlive the call (closures, globals):
        the compiled function would not repeat them. Called once the function's results
        are let go of, so that only tensors held from outside are still alive."""
        if not self.written:
            return
        refs = [(weakref.ref(t), line) for t, line in self.written]
        self.written.clear()
        alive = _outliving(refs)
        if alive:
            raise TraceError(f"wl.compile: an in-place write into a tensor that lives on after "
                             f"the call (a closure or a global), at {alive[0][1]}The "
                             f"compiled function would not repeat the write. Pass the tensor "
                             f"in and return its new value")

    def user_line(self) -> str:
        f = user_frame(2)
        return describe((f.f_code.co_filename, f.f_lineno)) if f is not None else "?"

    def _raw_index(self, original: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        tracer = self

        def raw_index(index: Any, xp: Any) -> Any:
            items = index if isinstance(index, tuple | list) else (index,)
            if any(marked(i) is not None for i in items):
                raise TraceError(f"wl.compile: indexing with a traced tensor at "
                                 f"{tracer.user_line()}Which entries it picks (and, for a "
                                 f"mask, how many) would be fixed while tracing. Use "
                                 f"wl.where(mask, x, 0.0) for a mask, or pass the index as a "
                                 f"static argument (static_argnums)")
            return original(index, xp)

        return raw_index

    def _refuse_backward(self, original: Callable[..., None]) -> Callable[..., None]:
        tracer = self

        def backward(t: Tensor, *args: Any, **kwargs: Any) -> None:
            if threading.get_ident() != tracer.thread:
                return original(t, *args, **kwargs)
            raise TraceError(f"wl.compile: backward() inside a compiled function at "
                             f"{tracer.user_line()}It leaves its results in .grad, a side "
                             f"effect the compiled code would not repeat. Use wl.grad or "
                             f"wl.value_and_grad, which return the gradient")

        return backward


# ----------------------------------------------------------------------- pseudo-primitives
# Operations of the compiler's own (its rewrites' fused forms), without derivatives.

_PSEUDO: dict[str, Primitive] = {}


def pseudo_primitive(name: str, forward_fn: Callable[..., Any], arity: int) -> Primitive:
    prim = _PSEUDO.get(name)
    if prim is None:
        prim = _PSEUDO[name] = Primitive(name, forward_fn, (None,) * arity, None)
    return prim


