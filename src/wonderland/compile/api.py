"""``wl.compile``: trace once per signature, then run the generated code.

A signature is the structure of the arguments (tuples, lists, dicts), each array's kind,
shape, dtype and namespace, and the values of everything else (Python ints and bools,
strings, the ``static_argnums`` arguments). Python floats are traced, as 0-d float64
arrays. The cache keeps ``maxsize`` signatures, the least recently used going first.

A call whose signature was the last one used goes through a generated entry function
that checks the arguments, runs the compiled code and wraps its arrays into Tensors:
no key is built, no dictionary consulted.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import os
import re
import sys
import threading
import types
import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import array_libraries, backend
from .. import tensor as engine
from ..autodiff.transforms import Transformed
from ..tensor import Tensor, _new
from ..transform_inputs import short as _short
from . import codegen, passes
from .trace import Const, TraceError, Tracer, Value, marked

CacheInfo = namedtuple("CacheInfo", ["hits", "misses", "maxsize", "currsize"])
CacheInfo.__doc__ = "Hits, misses, the bound on entries and the entries of a compiled cache."

_LOCK = threading.RLock()  # one trace at a time: the tracer holds the engine's hooks


def _renew_lock() -> None:
    """In a child forked during another thread's trace, which no thread of the child runs:
    the lock free, the engine's methods as they were."""
    global _LOCK
    _LOCK = threading.RLock()
    if engine._tracer is not None:
        engine._tracer.stop()


backend.after_fork(_renew_lock)
RESULT = object()  # an output leaf that the generated code computes
_NUMPY = backend.numpy_namespace
_F64 = np.dtype("float64")

# ----------------------------------------------------------------------- argument trees
# A tree is described by nested tuples: ("tensor"|"ndarray"|"scalar"|"float"|"array", k)
# for the k-th array leaf, ("static", value) for anything else (("copied", array) for a
# NumPy array among the results: a copy at each call), and containers.


class _ByContent:
    """An integer or bool array argument (labels, an index, a mask): part of the signature
    by its values, as Python ints are (indexing with a traced integer would fix, while
    tracing, which entries are picked)."""

    __slots__ = ("value", "key")

    def __init__(self, value: Any, data: np.ndarray) -> None:
        self.value = value
        self.key = (type(value), data.dtype.str, data.shape, data.tobytes())

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ByContent) and self.key == other.key

    def matches(self, value: Any) -> bool:
        """Whether ``value`` (an argument) has this content."""
        kind, dtype, shape, _ = self.key
        if type(value) is not kind:
            return False
        data = value._data if kind is Tensor else value
        return type(data) is np.ndarray and data.dtype.str == dtype and \
            data.shape == shape and self == _ByContent(value, data)

    def frozen(self) -> Any:
        """What the trace sees: a read-only copy. The program keeps the arrays it was
        traced on, and a later call with equal content reuses it: the caller's own array,
        written into since, would give that call the new values."""
        value = self.value
        data = np.array(value._data if isinstance(value, Tensor) else value)
        data.flags.writeable = False
        return _new(data, value._xp) if isinstance(value, Tensor) else data


def _flatten(value: Any, leaves: list, path: str, names: list, inputs: bool = True) -> tuple:
    """The tree of ``value``, its array leaves appended to ``leaves`` (their paths to
    ``names``). Of the arguments (``inputs``), integer and bool arrays are static."""
    kind = type(value)
    if kind is Tensor or isinstance(value, Tensor):
        data = value._data
        if inputs and type(data) is np.ndarray and data.dtype.kind in "biu":
            return ("static", _ByContent(value, data))
        leaves.append(value)
        names.append(path)
        return ("tensor", len(leaves) - 1)
    if kind is np.ndarray:
        if not inputs:  # a result the function made: the caller's own at every call
            return ("copied", value)
        if value.dtype.kind in "biu":
            return ("static", _ByContent(value, value))
        leaves.append(value)
        names.append(path)
        return ("ndarray", len(leaves) - 1)
    if kind is float:
        leaves.append(value)
        names.append(path)
        return ("float", len(leaves) - 1)
    if isinstance(value, np.generic) and value.dtype.kind in "fc":
        leaves.append(value)
        names.append(path)
        return ("scalar", len(leaves) - 1)
    if kind is tuple or kind is list:
        tag = "tuple" if kind is tuple else "list"
        return (tag, tuple(_flatten(v, leaves, f"{path}_{i}", names, inputs)
                           for i, v in enumerate(value)))
    if kind is dict:
        keys = tuple(value)
        return ("dict", keys, tuple(_flatten(value[k], leaves, f"{path}_{k}", names, inputs)
                                    for k in keys))
    if isinstance(value, tuple) and hasattr(kind, "_fields"):  # a namedtuple
        return ("namedtuple", kind, tuple(_flatten(v, leaves, f"{path}_{f}", names, inputs)
                                          for f, v in zip(kind._fields, value)))
    if backend.is_array(value) and not isinstance(value, np.generic):
        leaves.append(value)
        names.append(path)
        return ("array", len(leaves) - 1)
    if inputs and _has_state(value):
        raise TypeError(
            f"wl.compile: the argument {path} is a {type(value).__name__}, an object whose "
            f"attributes may change between calls, while the compiled code keeps what it "
            f"read from them while tracing (a rebound tensor, a changed number, a random "
            f"generator's draws). Pass its tensors and numbers as arguments (a tuple or dict "
            f"of them), or list its position in static_argnums to key the cache by the "
            f"object itself, knowingly")
    return ("static", value)


# objects hashed by identity that hold no state a trace could read stale
_STATELESS = (type, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
              types.ModuleType, functools.partial, np.ufunc, Transformed, type(None),
              type(Ellipsis), type(NotImplemented))


_GENERATORS = (np.random.Generator, np.random.RandomState, np.random.BitGenerator)


def _has_state(value: Any) -> bool:
    """Whether ``value``, an argument that is no array, number or container, is an object
    keyed by its identity whose state may change (an instance with attributes, a random
    generator): the cache would give it the program traced on its old state. (Sentinels
    and other libraries' constants, as ``torch.float32``, hold none.)"""
    if type(value).__hash__ is not object.__hash__ or isinstance(value, _STATELESS):
        return False
    return hasattr(value, "__dict__") or hasattr(type(value), "__slots__") or \
        isinstance(value, _GENERATORS)


def _build_tree(tree: tuple, leaves: list) -> Any:
    tag = tree[0]
    if tag == "static":
        return tree[1].frozen() if type(tree[1]) is _ByContent else tree[1]
    if tag == "copied":
        return tree[1].copy()
    if tag == "tuple":
        return tuple(_build_tree(t, leaves) for t in tree[1])
    if tag == "list":
        return [_build_tree(t, leaves) for t in tree[1]]
    if tag == "dict":
        return {k: _build_tree(t, leaves) for k, t in zip(tree[1], tree[2])}
    if tag == "namedtuple":
        return tree[1](*(_build_tree(t, leaves) for t in tree[2]))
    return leaves[tree[1]]


def _leaf_data(leaf: Any) -> tuple[Any, Any]:
    """The array and namespace of an argument leaf."""
    if isinstance(leaf, Tensor):
        return leaf._data, leaf._xp
    if type(leaf) is float or isinstance(leaf, np.generic):
        return np.asarray(leaf, dtype=np.result_type(leaf)), _NUMPY
    return leaf, backend.namespace(leaf)


def _leaf_datas(leaves: list) -> list[tuple[Any, Any]]:
    """``_leaf_data`` of every leaf; numbers (Python floats, NumPy scalars) beside another
    library's arrays are 0-d arrays of that library, which refuses NumPy's."""
    pairs = [_leaf_data(leaf) for leaf in leaves]
    like = next((data for data, xp in pairs if xp is not _NUMPY), None)
    if like is None:
        return pairs
    return [(array_libraries.from_numpy(data, like), backend.namespace(like))
            if xp is _NUMPY and not isinstance(leaf, np.ndarray) else (data, xp)
            for leaf, (data, xp) in zip(leaves, pairs)]


def _signature(tree: tuple, leaves: list) -> tuple:
    parts = []
    for leaf in leaves:
        data, xp = _leaf_data(leaf)
        parts.append((type(leaf) is float, tuple(data.shape), data.dtype, xp))
    # equal static values of other types (1 and True, 2 and 2.0) or signs (0.0 and -0.0)
    # may make other programs
    kinds = tuple((type(v), repr(v) if type(v) is float else None) for v in _statics(tree))
    return (tree, tuple(parts), kinds)


# ----------------------------------------------------------------------- one signature


class Program:
    """The compiled code of one signature."""

    def __init__(self, generated: codegen.Generated, float_inputs: list[bool],
                 outputs: list[Any], out_tree: tuple, xps: list[Any]) -> None:
        self.generated = generated
        self.source = generated.source
        namespace = dict(generated.namespace)
        exec(builtins.compile(generated.code, f"<wl.compile {generated.name}>", "exec"), namespace)
        self.body = namespace[generated.name]
        self.twin = namespace[generated.fallback] if generated.fallback else None
        self.float_inputs = float_inputs
        self.outputs = outputs       # per output leaf: RESULT (of the code) or a value
        self.out_tree = out_tree
        self.xps = xps               # the namespace of each result
        self.entry: Callable | None = None

    def run(self, leaves: list) -> Any:
        datas = [data for data, _ in _leaf_datas(leaves)]
        return self._wrap(self._results(datas))

    def _results(self, datas: list) -> list:
        n = sum(1 for o in self.outputs if o is RESULT)
        if self.twin is not None:
            args = [float(d) if f else d for d, f in zip(datas, self.float_inputs)]
            try:
                results = self.body(*args)
            except (ArithmeticError, ValueError):
                results = self.twin(*datas)
        else:
            results = self.body(*datas)
        results = [] if n == 0 else [results] if n == 1 else list(results)
        return [np.float64(r) if type(r) is float else r for r in results]

    def _wrap(self, results: list) -> Any:
        leaves, k = [], 0
        for o in self.outputs:
            if o is RESULT:
                leaves.append(_new(results[k], self.xps[k]))
                k += 1
            else:
                leaves.append(o)
        return _build_tree(self.out_tree, leaves)


# ----------------------------------------------------------------------- the compiled function


class Compiled:
    """A function compiled by :func:`compile`: call it as the original.

    ``source(*args)`` gives the generated code for the signature of ``args``;
    ``cache_info()`` the cache's hits, misses, bound and entries; ``cache_clear()`` empties it.
    """

    def __init__(self, f: Callable, static_argnums: Any, maxsize: int | None) -> None:
        if not callable(f):
            raise TypeError(f"wl.compile: expected a function, got {type(f).__name__}")
        if isinstance(static_argnums, int):
            static_argnums = (static_argnums,)
        static = tuple(static_argnums)
        if not all(isinstance(k, int) and not isinstance(k, bool) for k in static):
            raise TypeError(f"wl.compile: static_argnums must be ints, got {static_argnums!r}")
        if maxsize is not None and (not isinstance(maxsize, int) or maxsize < 1):
            raise ValueError(f"wl.compile: maxsize must be a positive int or None, got "
                             f"{maxsize!r}")
        functools.update_wrapper(self, f)
        _check_static_positions(f, static)
        self.static_argnums = static
        self._bound = False  # a method: its instance (position 0) keyed by identity
        # the names of the static positions, for those arguments passed by keyword
        names = _parameter_names(f, max(static, default=-1) + 1)
        self._static_names = {names[k] for k in static if k >= 0}
        self.maxsize = maxsize
        self._cache: OrderedDict[Any, Program] = OrderedDict()
        self._hits = [0]
        self._misses = 0
        self._entry: Callable = self._slow

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            return self._call(args, kwargs)
        return self._entry(*args)

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        # ``self`` of a method is static, by identity: its tensors are read by reference as
        # a closure's are (an object passed otherwise is refused, see ``_has_state``)
        self._bound = True
        return functools.partial(self, instance)

    def __repr__(self) -> str:
        return f"<wl.compile of {getattr(self, '__qualname__', '?')}>"

    def __reduce_ex__(self, protocol: Any) -> Any:
        """A module-level ``@wl.compile`` function pickles by its name, as functions do (its
        ``__wrapped__`` is not under that name any more); others by value."""
        found: Any = sys.modules.get(getattr(self, "__module__", None) or "")
        for part in getattr(self, "__qualname__", "<>").split("."):
            found = getattr(found, part, None)
        return self.__qualname__ if found is self else super().__reduce_ex__(protocol)

    def __getstate__(self) -> dict:
        """Pickled and deep-copied without its programs (generated code holding modules,
        not data: a called one could not be copied): the copy traces at its first call."""
        state = self.__dict__.copy()
        state.update(_cache=OrderedDict(), _hits=[0], _misses=0)
        del state["_entry"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._entry = self._slow

    def cache_info(self) -> CacheInfo:
        """``CacheInfo(hits, misses, maxsize, currsize)``, as ``functools.lru_cache``: a miss
        traces (a new signature), a hit runs the code compiled before.

        Examples
        --------
        >>> import wonderland as wl
        >>> f = wl.compile(lambda x: x + 1.0)
        >>> _ = f(wl.tensor([1.0])); _ = f(wl.tensor([2.0])); _ = f(wl.tensor([1.0, 2.0]))
        >>> f.cache_info()
        CacheInfo(hits=1, misses=2, maxsize=64, currsize=2)
        """
        return CacheInfo(self._hits[0], self._misses, self.maxsize, len(self._cache))

    def cache_clear(self) -> None:
        """Forget every compiled signature (and the counts)."""
        self._cache.clear()
        self._hits[0] = 0
        self._misses = 0
        self._entry = self._slow

    def source(self, *args: Any, **kwargs: Any) -> str:
        """The generated source for the signature of ``args`` (traced now if need be): one
        line per operation, each commented with the file and line that produced it, the
        function's own computation first, then the derivative part.

        Examples
        --------
        >>> import wonderland as wl
        >>> f = wl.compile(lambda x: wl.sin(x) * 2.0)
        >>> lines = f.source(wl.tensor([0.5, 1.0])).splitlines()
        >>> lines[0], lines[-1].strip()
        ('def compiled(x):', 'return mul_2')
        """
        return self._lookup(args, kwargs, count=False)[0].source

    # -- calls ----------------------------------------------------------------------------
    def _slow(self, *args: Any) -> Any:
        return self._call(args, {})

    def _call(self, args: tuple, kwargs: dict) -> Any:
        tracer = engine._tracer
        if tracer is not None and tracer.thread == threading.get_ident():  # inside the trace
            return self.__wrapped__(*args, **kwargs)  # of another compiled function
        for leaf in _tensors((args, kwargs)):
            if leaf._rg or leaf._fw is not None:
                # differentiated by a transform: it must see the operations, so f runs as
                # it is
                return self.__wrapped__(*args, **kwargs)
        program, leaves, tree, first = self._lookup(args, kwargs, count=True)
        if not kwargs:
            if program.entry is None:
                program.entry = _make_entry(program, tree, leaves, self._slow, self._hits)
            self._entry = program.entry
        if first is not None:  # just traced: the check's run of the code is this call's
            return program._wrap(first)
        return program.run(leaves)

    def _tree(self, args: tuple, kwargs: dict) -> tuple[tuple, list, list]:
        leaves: list = []
        names: list = []
        params = _parameter_names(self.__wrapped__, len(args))
        trees = []
        for i, a in enumerate(args):
            if self._declared_static(i, len(args)) or (i == 0 and self._bound):
                trees.append(("static", a))
            else:
                trees.append(_flatten(a, leaves, params[i], names))
        kw = tuple((k, ("static", v) if k in self._static_names else
                    _flatten(v, leaves, k, names)) for k, v in sorted(kwargs.items()))
        return (tuple(trees), kw), leaves, names

    def _declared_static(self, i: int, n_args: int) -> bool:
        """Whether positional argument ``i`` of ``n_args`` is listed in ``static_argnums``
        (counted from the end when negative)."""
        return i in self.static_argnums or i - n_args in self.static_argnums

    def _lookup(self, args: tuple, kwargs: dict, count: bool) -> tuple:
        """``(program, leaves, tree, results)``: ``results`` of the code on these
        arguments when they were just traced, else None."""
        tree, leaves, names = self._tree(args, kwargs)
        key = _signature(tree, leaves)
        try:
            program = self._cache.get(key)
        except TypeError:
            bad = next(v for v in _statics(tree) if not _hashable(v))
            declared = [a for i, a in enumerate(args) if self._declared_static(i, len(args))]
            if any(v is bad for v in [*declared, *(kwargs[k] for k in self._static_names
                                                    if k in kwargs)]):
                raise TypeError(f"wl.compile: the static argument {_short(bad)} "
                                f"({type(bad).__name__}) cannot be hashed to key the cache: "
                                f"static arguments are hashable values (numbers, strings, "
                                f"tuples); pass an array as a traced argument") from None
            raise TypeError(f"wl.compile: the argument {bad!r} ({type(bad).__name__}) is "
                            f"neither an array, a number nor a container of them, and "
                            f"cannot be hashed to key the cache") from None
        first = None
        if program is None:
            if count:
                self._misses += 1
            try:
                program, first = self._trace(tree, leaves, names)
            except _Mismatch:  # regrouped products overflowed or underflowed differently
                program, first = self._trace(tree, leaves, names, regroup=False)
            self._cache[key] = program
            if self.maxsize is not None and len(self._cache) > self.maxsize:
                self._cache.popitem(last=False)
        else:
            if count:
                self._hits[0] += 1
            self._cache.move_to_end(key)
        return program, leaves, tree, first

    # -- tracing --------------------------------------------------------------------------
    def _trace(self, tree: tuple, leaves: list, names: list,
               regroup: bool = True) -> tuple[Program, list]:
        """Trace ``f`` on these arguments; the program and its results on them. Where the
        program's check fails with products regrouped, ``_Mismatch``: the caller traces
        again with products in the function's own order."""
        with _LOCK:
            tracer = Tracer()
            tracer.start()
            try:
                traced = []
                for (data, xp), name in zip(_leaf_datas(leaves), names):
                    traced.append(tracer.leaf(data, xp, name))
                args_tree, kw_tree = tree
                args = [_build_tree(t, traced) for t in args_tree]
                kwargs = {k: _build_tree(t, traced) for k, t in kw_tree}
                result = self.__wrapped__(*args, **kwargs)
            finally:
                tracer.stop()
            out_leaves: list = []
            out_tree = _flatten(result, out_leaves, "out", [], inputs=False)
            items = []
            for leaf in out_leaves:
                if isinstance(leaf, Tensor):
                    value = marked(leaf)
                    items.append(value if value is not None else Const(leaf._data))
                else:
                    items.append(("leaf", leaf))
            leaf = value = None  # (the loop's last output, no longer held here)
            del result, out_leaves, args, kwargs, traced
            tracer.mark_live()
            tracer.escapes()
            inputs = [v for v in tracer.values if v.prim is None]
            outputs = [i for i in items if not isinstance(i, tuple)]
            expected = [o.data if isinstance(o, Value) else None for o in outputs]
            optimized = passes.optimize(outputs, regroup)
            generated = codegen.generate(
                _function_name(self.__wrapped__), inputs, [_identifier(n) for n in names],
                optimized, _header(self.__wrapped__, leaves, names))
        float_inputs = generated.float_inputs
        xps = [o.xp if isinstance(o, Value) else (o.xp or _NUMPY) for o in optimized]
        marks: list[Any] = [RESULT if not isinstance(i, tuple) else i[1] for i in items]
        program = Program(generated, float_inputs, marks, out_tree, xps)
        return program, _verify(program, leaves, expected, regroup)


class _Mismatch(RuntimeError):
    """The generated code, with products regrouped, disagrees with the trace."""


def _verify(program: Program, leaves: list, expected: list, regrouped: bool = False) -> list:
    """Run the new code on the traced arguments: it must give what the trace computed.
    Its results (the trace has shown NumPy's warnings already)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        results = program._results([data for data, _ in _leaf_datas(leaves)])
    for k, (got, want) in enumerate(zip(results, expected)):
        if want is None:
            continue
        got_a, want_a = (np.asarray(array_libraries.to_numpy(v)) for v in (got, want))
        same = got_a.shape == want_a.shape and got_a.dtype == want_a.dtype
        if same and got_a.dtype.kind in "fc":  # reassociated products: rounding only
            eps = 64 * float(np.finfo(got_a.dtype).eps)
            scale = float(np.max(np.abs(want_a), initial=0.0, where=np.isfinite(want_a)))
            same = bool(np.allclose(got_a, want_a, rtol=max(1e-9, eps),
                                    atol=max(1e-12, eps * scale), equal_nan=True))
        elif same:
            same = bool(np.array_equal(got_a, want_a))
        if not same:
            if regrouped:
                raise _Mismatch
            raise RuntimeError(f"wl.compile: internal error: the generated code gives output "
                               f"{k} as {got_a.dtype} {got_a.shape} {got_a.ravel()[:4]}..., "
                               f"the traced function {want_a.dtype} {want_a.shape} "
                               f"{want_a.ravel()[:4]}...; please report it with "
                               f"compiled.source(...)\n{program.source}")
    return results


# ----------------------------------------------------------------------- the fast entry


def _make_entry(program: Program, tree: tuple, leaves: list, slow: Callable,
                hits: list) -> Callable:
    """A function of the call's arguments that checks they have the program's signature
    (else it calls ``slow``), runs the program's lines (inlined: one call in all) and
    wraps the results into Tensors. ``slow`` itself for signatures it cannot check fast
    (dicts, arrays of other libraries)."""
    generated = program.generated
    env: dict[str, Any] = dict(generated.namespace)
    env.update(_wl_Tensor=Tensor, _wl_ndarray=np.ndarray, _wl_new=object.__new__,
               _wl_f64=np.float64, _wl_slow=slow, _wl_hits=hits)
    guards: list[str] = []
    datas: dict[int, str] = {}

    def const(value: Any) -> str:
        name = f"_wl_k{len(env)}"
        env[name] = value
        return name

    def visit(t: tuple, expr: str) -> bool:
        tag = t[0]
        if tag == "static":
            value = t[1]
            if type(value) is _ByContent:
                guards.append(f"{const(value)}.matches({expr})")
            elif value is None or type(value) is bool:
                guards.append(f"{expr} is {value!r}")
            elif type(value) is float:  # (-0.0 is not 0.0 here, and nan is nan)
                guards.append(f"type({expr}) is float and repr({expr}) == {repr(value)!r}")
            else:
                guards.append(f"type({expr}) is {const(type(value))} and {expr} == "
                              f"{const(value)}")
            return True
        if tag in ("tuple", "list", "namedtuple"):
            kind = {"tuple": "tuple", "list": "list"}.get(tag) or const(t[1])
            children = t[1] if tag != "namedtuple" else t[2]
            guards.append(f"type({expr}) is {kind} and len({expr}) == {len(children)}")
            return all(visit(c, f"{expr}[{i}]") for i, c in enumerate(children))
        if tag == "dict":
            return False
        k = t[1]
        data, xp = _leaf_data(leaves[k])
        if xp is not _NUMPY:
            return False
        if tag == "float":  # as the eager side sees it: a 0-d float64
            guards.append(f"type({expr}) is float")
            datas[k] = f"_wl_f64({expr})"
            return True
        if tag == "scalar":
            guards.append(f"type({expr}) is {const(type(leaves[k]))}")
            datas[k] = expr
            return True
        d = expr
        if tag == "tensor":  # (NumPy data: the namespace is NumPy's)
            guards.append(f"type({expr}) is _wl_Tensor and not {expr}._rg and "
                          f"{expr}._fw is None")
            d = f"{expr}._data"
        shape, dtype = tuple(data.shape), data.dtype
        if shape == ():
            guards.append(f"(type({d}) is {const(dtype.type)} or (type({d}) is _wl_ndarray "
                          f"and {d}.shape == () and {d}.dtype is {const(dtype)}))")
        else:
            guards.append(f"type({d}) is _wl_ndarray and {d}.shape == {shape!r} and "
                          f"{d}.dtype is {const(dtype)}")
        datas[k] = d
        return True

    args_tree, kw_tree = tree
    if kw_tree:
        return slow
    guards.append(f"len(_wl_args) == {len(args_tree)}")
    if not all(visit(t, f"_wl_args[{i}]") for i, t in enumerate(args_tree)):
        return slow
    lines = ["def _wl_entry(*_wl_args):",
             "    if not (" + " and\n            ".join(guards) + "):",
             "        return _wl_slow(*_wl_args)",
             "    _wl_hits[0] += 1"]
    names = generated.inputs

    inline = len(generated.main.lines) <= _INLINE_LINES
    env.update(_wl_body=program.body, _wl_twin=program.twin)

    def run(version: codegen.Version, floats: bool, indent: str) -> list[str]:
        """The lines that bind the inputs, run ``version`` and name its results
        ``_wl_r0, _wl_r1, ...``: inlined, or a call of the compiled function."""
        out, arguments = [], []
        for name, k, is_float in zip(names, range(len(names)), generated.float_inputs):
            expr = datas[k]
            if floats and is_float:
                expr = f"float({expr.removeprefix('_wl_f64(')[:-1]})" \
                    if expr.startswith("_wl_f64(") else f"float({expr})"
            out.append(f"{indent}{name} = {expr}")
            arguments.append(name)
        results = [f"_wl_r{j}" for j in range(len(version.results))]
        if inline:
            out += version.body(indent)[:-1]
            out += [f"{indent}{r} = {e}" for r, e in zip(results, version.results)]
        elif results:
            call = f"{'_wl_body' if version is generated.main else '_wl_twin'}" \
                   f"({', '.join(arguments)})"
            out.append(f"{indent}{', '.join(results)}{',' if len(results) == 1 else ''} = "
                       f"{call}" if len(results) > 1 else f"{indent}{results[0]} = {call}")
        out += [f"{indent}{r} = _wl_f64({r})" for r, is_float in
                zip(results, version.float_results) if is_float]
        return out

    if generated.twin is not None:
        lines.append("    try:")
        lines += run(generated.main, True, "        ")
        lines.append("    except (ArithmeticError, ValueError):")
        lines += run(generated.twin, False, "        ")
    else:
        lines += run(generated.main, False, "    ")
    out_exprs = []
    j = 0
    for o in program.outputs:
        if o is RESULT:
            r = f"_wl_r{j}"
            lines.append(f"    _wl_o{j} = _wl_new(_wl_Tensor)")
            lines.append(f"    _wl_o{j}._data = {r}; _wl_o{j}._xp = {const(program.xps[j])}; "
                         f"_wl_o{j}._rg = False")
            lines.append(f"    _wl_o{j}._grad = _wl_o{j}._node = _wl_o{j}._vc = _wl_o{j}._fw = "
                         f"_wl_o{j}._base = None")
            out_exprs.append(f"_wl_o{j}")
            j += 1
        else:
            out_exprs.append(const(o))
    lines.append(f"    return {_tree_source(program.out_tree, out_exprs, const)}")
    exec(builtins.compile("\n".join(lines) + "\n", f"<wl.compile entry {generated.name}>",
                          "exec"), env)
    return env["_wl_entry"]


_INLINE_LINES = 200  # longer programs are called (their call costs nothing beside them)


def _tree_source(tree: tuple, exprs: list, const: Callable) -> str:
    tag = tree[0]
    if tag == "static":
        return const(tree[1])
    if tag == "copied":
        return f"{const(tree[1])}.copy()"
    if tag in ("tuple", "list"):
        items = [_tree_source(t, exprs, const) for t in tree[1]]
        if tag == "list":
            return "[" + ", ".join(items) + "]"
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if tag == "dict":
        return "{" + ", ".join(f"{const(k)}: {_tree_source(t, exprs, const)}"
                               for k, t in zip(tree[1], tree[2])) + "}"
    if tag == "namedtuple":
        return f"{const(tree[1])}(" + ", ".join(_tree_source(t, exprs, const)
                                                for t in tree[2]) + ")"
    return exprs[tree[1]]


# ----------------------------------------------------------------------- helpers


def _tensors(value: Any) -> list[Tensor]:
    out: list[Tensor] = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, Tensor):
            out.append(v)
        elif type(v) in (tuple, list) or (isinstance(v, tuple) and hasattr(v, "_fields")):
            stack.extend(v)
        elif type(v) is dict:
            stack.extend(v.values())
    return out


def _statics(tree: Any) -> list:
    out = []
    stack = [tree]
    while stack:
        t = stack.pop()
        if isinstance(t, tuple) and t and t[0] == "static" and len(t) == 2:
            out.append(t[1])
        elif isinstance(t, tuple):
            stack.extend(x for x in t if isinstance(x, tuple))
    return out


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _check_static_positions(f: Callable, static: tuple) -> None:
    """Refuse ``static_argnums`` beyond the positional parameters of ``f`` (a typo that
    would otherwise leave the argument traced)."""
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        return
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return
    n = sum(1 for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
    bad = [k for k in static if not -n <= k < n]
    if bad:
        raise ValueError(f"wl.compile: static_argnums {bad[0]} is out of range for "
                         f"{getattr(f, '__qualname__', 'f')}, which takes {n} positional "
                         f"argument{'s' if n != 1 else ''}")


def _parameter_names(f: Callable, n: int) -> list[str]:
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for i in range(n):
        if i < len(params) and params[i].kind in (params[i].POSITIONAL_ONLY,
                                                  params[i].POSITIONAL_OR_KEYWORD):
            names.append(params[i].name)
        elif params and params[-1].kind == params[-1].VAR_POSITIONAL:
            names.append(f"{params[-1].name}_{i}")
        else:
            names.append(f"x{i}")
    return names


def _identifier(name: str) -> str:
    name = re.sub(r"\W", "_", str(name))
    return name if name and not name[0].isdigit() else "x_" + name


def _function_name(f: Callable) -> str:
    name = getattr(f, "__name__", "f")
    return _identifier(name) if name != "<lambda>" else "compiled"


def _header(f: Callable, leaves: list, names: list) -> list[str]:
    code = getattr(inspect.unwrap(f), "__code__", None)
    where = f" ({os.path.basename(code.co_filename)}:{code.co_firstlineno})" if code else ""
    lines = [f"wl.compile of {getattr(f, '__qualname__', 'f')}{where}, for"]
    for leaf, name in zip(leaves, names):
        data, xp = _leaf_data(leaf)
        kind = "Python float" if type(leaf) is float else type(leaf).__name__
        lines.append(f"  {_identifier(name)}: {data.dtype} {tuple(data.shape)} ({kind})")
    return lines


def compile(f: Callable | None = None, static_argnums: int | tuple[int, ...] = (), *,  # noqa: A001
            maxsize: int | None = 64) -> Any:
    """Compile ``f``: trace it once per signature, then run generated straight-line code.

    On the first call for a signature (each array argument's shape, dtype and namespace,
    the values of the static arguments) ``f`` runs once on traced tensors; every primitive
    it applies to them, in the function itself and in the derivatives its transforms take,
    is recorded, the graph is simplified and written out as one Python function of NumPy
    calls, compiled and cached. Later calls with that signature run the generated code
    only. It composes outermost with the transforms: ``wl.compile(wl.grad(f))``.

    Parameters
    ----------
    f : callable
        A function of Tensors, arrays, Python numbers and tuples, lists or dicts of them;
        it returns Tensors (or such containers). Omitted, ``compile`` is a decorator.
    static_argnums : int or tuple of int
        Positions of arguments that are part of the signature by value (sizes, flags,
        choices), not traced, by position or by keyword. Python ints and bools are static
        anyway.
    maxsize : int or None
        How many signatures the cache keeps (the least recently used goes first).

    Returns
    -------
    Compiled
        Callable as ``f``; ``source(*args)`` shows the generated code, ``cache_info()``
        counts hits, misses and entries.

    Notes
    -----
    Python control flow on a traced value (``if x > 0``), ``.item()``, ``float()``,
    ``np.asarray`` of a traced tensor, random draws inside ``f``, in-place writes into an
    input and ``backward()`` raise :class:`~wonderland.compile.TraceError` naming the line.
    Tensors and NumPy arrays ``f`` reads from outside (closures, globals) are read by
    reference at every call, so in-place updates are seen; expressions of them alone are
    computed once, while tracing. A call with a tensor that requires grad or carries tangents
    (inside a transform) runs ``f`` itself, so that the transform sees its operations.

    Examples
    --------
    >>> import wonderland as wl
    >>> df = wl.compile(wl.grad(lambda x: 2 * x**4 + x**3 - 3 * x**2))
    >>> df(2.0).item()
    64.0
    >>> df(1.0).item(), df.cache_info().hits
    (5.0, 1)
    """
    if f is None:
        return lambda g: Compiled(g, static_argnums, maxsize)
    return Compiled(f, static_argnums, maxsize)


compile.TraceError = TraceError  # wl.compile.TraceError, for ``except`` clauses
compile.CacheInfo = CacheInfo

