"""The reverse pass: nodes in topological order (iterative, no recursion limit), each
rule's cotangent summed back to its input's shape, the graph freed as it goes, and the
results handed to the user as arrays of their own.

``backward`` accumulates into the leaves' ``.grad`` (PyTorch's ``Tensor.backward``);
``grad_of`` returns the gradients with respect to chosen tensors instead (PyTorch's
``torch.autograd.grad``), which is what the functional transforms build on.

One loop serves both kinds of pass. When nothing is to be recorded, cotangents travel as
raw arrays and the loop takes each primitive's ``raw_vjps``; when the pass itself must be
differentiable (``create_graph``, or forward-mode tangents riding along) they are Tensors
and it takes ``vjps``.
"""

from __future__ import annotations

import threading
import weakref
from heapq import heappop, heappush
from typing import Any

from .. import backend
from ..primitives.base import ops_for
from ..primitives.elementwise import clone
from ..primitives.shape import getitem_
from ..tensor import (
    Node,
    Tensor,
    Variadic,
    _new,
    bump_version,
    identity_rule,
    last_write,
    retained,
    set_grad_enabled,
)

_ndarray = backend.np.ndarray
_ACCUMULATING = threading.Lock()


def _renew_lock() -> None:
    global _ACCUMULATING
    _ACCUMULATING = threading.Lock()


backend.after_fork(_renew_lock)
_count = backend.refs
_ALONE = backend.ALONE
_sole = backend.sole


def _owns(t: Tensor) -> bool:
    """``_sole`` for a Tensor the caller holds once: nothing else holds it or its storage.
    A view's base tensor (``_base``), held by the view alone, holds the storage once more."""
    if _count(t) > _ALONE + 2:  # the caller's name and ``t`` here
        return False
    base = t._base
    if base is None:
        return _sole(t._data, 1)
    return _count(base) <= _ALONE + 2 and _sole(t._data, 1, 2)  # t._base, and ``base`` here


def _hand_over(values: list, raw: bool, start: int = 0) -> list:
    """The results as the user receives them, in place of ``values[start:]`` (which the
    caller lets go of): each keeps its array when nothing else holds it; one that another
    result, a seed, an input or a forward value holds too, or that is read-only, becomes
    a copy."""
    for i in range(start, len(values)):  # (enumerate's reused tuple would hold one too)
        v = values[i]
        if v is None:
            continue
        values[i] = None  # the list's hold: gone, so the counts see only the others'
        if raw:
            values[i] = v if _sole(v, 1) else v.copy() if type(v) is _ndarray else \
                backend.asarray(v, xp=backend.namespace(v), copy=True)
        else:
            values[i] = v if _owns(v) else clone(v)
    return values


def _unit(root: Tensor) -> Any:
    """The default seed of ``backward()``: ones, for a one-element tensor only."""
    data = root._data
    if data.shape and root.size != 1:
        raise ValueError(f"backward() of a tensor of shape {root.shape} needs grad=: an array "
                         f"of that shape (gradients are defined for scalar outputs)")
    return backend.ones(data.shape, data.dtype) if root._xp is backend.numpy_namespace \
        else root._xp.ones_like(data)


def _check_versions(node: Node) -> None:
    """Raise when the graph was freed, or when a value the rules read was written in place
    after the node was made."""
    args = node.args
    if args is None:
        raise RuntimeError(f"trying to backward through the graph a second time (at "
                           f"{node.prim.name}); its saved values were freed. Pass "
                           f"retain_graph=True to the first backward() or autograd.grad()")
    prim = node.prim
    for pos in range(len(args)) if prim.reads is None else prim.reads:
        a = args[pos]
        if type(a) is Tensor and a._vc is not None and a._vc[1] > node.seq and not (
                pos in prim.crossed and (node.e1, node.e0)[pos] is None):
            raise RuntimeError(f"a tensor needed to differentiate {node.prim.name} (argument "
                               f"{pos}, shape {a.shape}) was modified by an in-place operation "
                               f"after it was used (it is now at version {a._vc[0]}); clone it "
                               f"before modifying")
    if node.ans_data is not None and node.ans_vc[1] > node.ans_since:
        raise RuntimeError(f"the output of {node.prim.name} was modified by an in-place "
                           f"operation, but its gradient needs it; clone it before modifying")


def _fit(g: Any, parent: Any, name: str, nb: int) -> Any:
    """The cotangent of ``parent`` (a raw array or a Tensor, as ``g``): broadcasting summed
    away (``nb`` leading batch axes kept), dtype cast."""
    shape = tuple(parent.shape)
    same_shape = tuple(g.shape[nb:]) == shape and g.ndim - nb == len(shape)
    if same_shape and g.dtype == parent.dtype:
        return g
    m = ops_for(g)
    if not same_shape:
        try:
            g = m.sum_to(g, shape, nb)
        except ValueError:
            raise RuntimeError(f"the reverse rule of {name} returned a cotangent of shape "
                               f"{tuple(g.shape)} for an input of shape {shape}") from None
    return g if g.dtype == parent.dtype else m.astype(g, parent.dtype)


def grad_of(roots: list[Tensor], targets: list[Tensor] | None, seeds: list[Any],
            retain_graph: bool = False, create_graph: bool = False, nb: int = 0,
            on_tensors: bool = False, floor: int = -1) -> list | None:
    """The reverse pass from ``roots`` with cotangents ``seeds``: the cotangents of
    ``targets`` (``None`` where one is not reached; PyTorch's ``autograd.grad``), or, with
    no targets, accumulated into the leaves' ``.grad`` (``backward``). ``nb`` leading axes
    of the seeds are a batch; ``on_tensors`` keeps forward-mode tangents flowing through
    the rules; no node made before ``floor`` is visited (a transform's pass to its own
    inputs leaves the graph of the tensors ``f`` closes over as it is).

    Nodes are visited by decreasing creation number (a topological order), each pushed on
    a heap when its first cotangent arrives: one pass, no recursion, and only the part of
    the graph that the roots reach."""
    raw = not (create_graph or on_tensors)
    leaves: dict[int, list] = {}  # id -> [leaf, its cotangent summed so far]
    heap: list[tuple[int, Node]] = []
    for root, seed in zip(roots, seeds):
        if raw and type(seed) is Tensor:
            seed = seed._data
        node = root._node
        if node is None:  # a leaf differentiated with respect to itself
            _add_leaf(leaves, root, seed, raw)
        elif node.g is None:
            node.g = seed
            heappush(heap, (-node.seq, node))
        else:
            node.g = node.g + seed
    captured: dict[int, Any] = {}
    # the non-leaf targets by their nodes; for backward(), the tensors of retain_grad, each
    # found on the way through the node it holds (no walk over every retained tensor)
    wanted = {t._node: t for t in targets or () if t is not None and t._node is not None}
    watching = (wanted, captured, targets is None) if wanted or retained else None
    # a raw pass makes no Tensor that could record: the mode (a lock) is left as it is
    previous = set_grad_enabled(create_graph) if watching or not raw else None
    try:
        _visit(heap, leaves, retain_graph, nb, watching, raw, floor)
    finally:
        if previous is not None:
            set_grad_enabled(previous)
        for _, pending in heap:  # only after an error: leave no cotangent behind
            pending.g = None
    for tensor in wanted.values() if targets is None else ():  # retain_grad, once the
        if id(tensor) in captured:  # pass is through: a failed pass leaves no .grad changed
            (g,) = _hand_over([captured.pop(id(tensor))], raw)
            _accumulate(tensor, _new(g, tensor._xp) if raw else g, create_graph)
    if targets is not None:
        results = _hand_over(_take(targets, leaves, captured), raw)
        return [g if g is None or not raw else _new(g, backend.namespace(g)) for g in results]
    entries = list(leaves.values())
    leaves.clear()
    for entry in entries:  # [leaf, cotangent]
        leaf = entry[0]
        if not leaf._rg:
            continue
        parent = leaf._data if raw else leaf
        if nb or entry[1].shape != parent.shape or entry[1].dtype != parent.dtype:
            entry[1] = _fit(entry[1], parent, "a leaf", nb)
        if leaf._grad is None:  # the user gets it: an array of their own
            _hand_over(entry, raw, 1)
        _accumulate(leaf, _new(entry[1], leaf._xp) if raw else entry[1], create_graph)
    return None


def _take(targets: list[Tensor], leaves: dict, captured: dict) -> list:
    """The cotangents of ``targets``, taken out of the pass's tables: only the list returned
    holds them (a function of its own, so that no local variable of the pass does)."""
    for key, (_, g) in leaves.items():
        captured[key] = g if key not in captured else captured[key] + g
    leaves.clear()
    results = [captured.pop(id(t), None) for t in targets]
    captured.clear()
    return results


def _visit(heap: list, leaves: dict, retain_graph: bool, nb: int, watching: Any,
           raw: bool, floor: int) -> None:
    """The loop of ``grad_of``. It takes the next node without the heap whenever that node
    comes after everything pending, and checks versions only when something was written
    in place since the node was made."""
    follow = None  # the node to take next without the heap: the latest that became pending
    written = last_write[0]
    try:
        while True:
            if follow is not None:
                node, follow = follow, None
            elif heap:
                node = heappop(heap)[1]
            else:
                return
            g = node.g
            node.g = None
            if watching is not None:
                _watch(node, g, *watching)
            if node.seq < written:
                _check_versions(node)
            n, prim, params, ans = node.n, node.prim, node.params, node.ans_data
            if raw:
                rules = prim.raw_vjps
            else:
                rules = prim.vjps
                if ans is not None:  # the output, as part of the graph (higher order)
                    ans = _new(ans, next(a._xp for a in node.args if type(a) is Tensor))
                    ans._node, ans._rg, ans._fw = node, True, getattr(node, "ans_fw", None)
            # each argument as the rules take it (a raw array, or a Tensor in a recorded
            # pass), its edge and its cotangent; one and two arguments called directly
            if n == 1:
                x0, e0, r0 = node.a0, node.e0, rules[0]
                if raw:
                    x0 = x0._data
                    if prim is getitem_ and type(e0) is Tensor and not nb and \
                            type(g) is _ndarray and backend.is_basic_index(params["index"]):
                        _add_at(leaves, e0, g, params["index"])  # no zeros around g
                        e0 = None
                if e0 is None:
                    deliveries = ()
                else:
                    deliveries = ((x0, e0, g if r0 is identity_rule else r0(g, ans, x0, **params)
                                   if params else r0(g, ans, x0)),)
            elif n == 2:
                x0, x1, e0, e1 = node.a0, node.a1, node.e0, node.e1
                if raw:
                    x0 = x0._data if type(x0) is Tensor else x0
                    x1 = x1._data if type(x1) is Tensor else x1
                r0, r1 = rules[0], rules[1]
                shared = g if e1 is not None else None  # r1 reads g after r0: r0 sees a
                g0 = None if e0 is None else g if r0 is identity_rule else \
                    r0(g, ans, x0, x1, **params) if params else r0(g, ans, x0, x1)
                del shared  # second hold then, and writes elsewhere
                g1 = None if e1 is None else g if r1 is identity_rule else \
                    r1(g, ans, x0, x1, **params) if params else r1(g, ans, x0, x1)
                deliveries = ((x1, e1, g1),) if e0 is None else ((x0, e0, g0),) if e1 is None \
                    else ((x0, e0, g0), (x1, e1, g1))  # (x * 2, x + 1: a constant's edge is None)
            else:
                if n < 0:  # freed by an earlier pass: says so
                    _check_versions(node)
                args = [a._data if raw and type(a) is Tensor else a for a in node.rest]
                shared = g  # every rule reads g: none may write into it
                deliveries = [(x, e, None if e is None else _rule(rules, i, g, ans, args, params))
                              for i, (x, e) in enumerate(zip(args, node.erest))]
                del shared
            for parent, edge, gi in deliveries:
                if gi is None:
                    continue
                if nb or gi.shape != parent.shape or gi.dtype is not parent.dtype:
                    gi = _fit(gi, parent, prim.name, nb)  # (which allows equal dtypes)
                if type(edge) is Tensor:
                    _add_leaf(leaves, edge, gi, raw)
                elif edge.seq < floor:
                    continue
                elif edge.g is None:
                    edge.g = gi
                    if follow is None:
                        follow = edge
                    elif edge.seq > follow.seq:  # keep the later node to take next
                        heappush(heap, (-follow.seq, follow))
                        follow = edge
                    else:
                        heappush(heap, (-edge.seq, edge))
                elif raw and _sole(edge.g, 1):  # a sum nothing else holds: in place
                    edge.g += gi
                else:
                    edge.g = edge.g + gi
            g = gi = g0 = g1 = deliveries = None  # the edges' now: held once
            if follow is not None and heap and heap[0][0] < -follow.seq:
                heappush(heap, (-follow.seq, follow))  # something pending comes after it
                follow = None
            if not retain_graph:  # drop what the rules needed
                node.n = -1
                node.a0 = node.a1 = node.ans_data = node.rest = None
    except BaseException:
        if follow is not None:  # not on the heap: leave no cotangent behind
            follow.g = None
        raise


def _rule(rules: Any, i: int, g: Any, ans: Any, args: list, params: dict) -> Any:
    """The cotangent of argument ``i`` of three or more: a Variadic rule takes them whole."""
    if type(rules) is Variadic:
        return rules.rule(i, g, ans, args, **params)
    return g if rules[i] is identity_rule else rules[i](g, ans, *args, **params)


def _add_at(leaves: dict[int, list], leaf: Tensor, g: Any, index: Any) -> None:
    """The cotangent of ``leaf[index]`` (a basic index), added into the leaf's sum at
    ``index`` in place: the sum is made here, of zeros, unless it is an array nothing else
    holds."""
    entry, data = leaves.get(id(leaf)), leaf._data
    if entry is None:
        entry = leaves[id(leaf)] = [leaf, backend.np.zeros(data.shape, data.dtype)]
    elif not _sole(entry[1], 1):  # (a sum held elsewhere, or a broadcast one: copied whole)
        entry[1] = entry[1] + backend.np.zeros(data.shape, data.dtype)
    part = entry[1][index]
    if part.ndim:
        part += g  # a view: in place
    else:
        entry[1][index] = part + g


def _add_leaf(leaves: dict[int, list], leaf: Tensor, g: Any, raw: bool) -> None:
    """A cotangent for a leaf: kept, or added to what it has (in place when the sum so far
    is an array that nothing else holds)."""
    entry = leaves.get(id(leaf))
    if entry is None:
        leaves[id(leaf)] = [leaf, g]
    elif raw and _sole(entry[1], 1):
        entry[1] += g
    else:
        entry[1] = entry[1] + g


def _watch(node: Node, g: Any, wanted: dict, captured: dict, kept: bool) -> None:
    """Cotangents asked for on the way: ``grad_of``'s non-leaf targets, or (``kept``) the
    tensors of ``retain_grad``, each known to its node while it is that node's output."""
    tensor = wanted.get(node)
    if kept and (ref := getattr(node, "keep", None)) is not None:
        tensor = wanted[node] = t if (t := ref()) is not None and t._node is node else None
    if tensor is not None:
        captured[id(tensor)] = g if id(tensor) not in captured else captured[id(tensor)] + g


def _accumulate(leaf: Tensor, g: Tensor, create_graph: bool) -> None:
    """Add ``g``, an array of the user's own, into ``leaf.grad``: one thread at a time
    (PyTorch's AccumulateGrad locks too; NumPy's add lets go of the GIL, and two threads'
    passes into one shared leaf lost elements)."""
    with _ACCUMULATING:
        grad = leaf._grad
        if grad is None:
            leaf._grad = g
        elif create_graph or grad._rg:
            leaf._grad = grad + g
        else:  # in place: the two have the leaf's shape and dtype
            data = grad._data
            if type(data) is _ndarray and data.flags.writeable:
                data += g._data
            else:
                grad._write(data + g._data, "gradient accumulation")
            bump_version(grad)


# ----------------------------------------------------------------------- Tensor methods


def backward(self: Tensor, gradient: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, *, grad: Any = None, inputs: Any = None) -> None:
    """Accumulate the gradient of this tensor into the ``.grad`` of the leaves.

    Parameters
    ----------
    gradient : array-like, optional
        The cotangent, of this tensor's shape; may be omitted for one element.
        ``grad=`` is the same.
    retain_graph : bool, optional
        Keep the graph for another backward pass (defaults to ``create_graph``).
    create_graph : bool
        Record the backward pass itself, for gradients of gradients.
    inputs : Tensor or sequence of Tensors, optional
        Only these tensors' ``.grad`` receive the gradient (leaves or not; PyTorch's).

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor(3.0, requires_grad=True)
    >>> (x * x).backward()
    >>> x.grad.item()
    6.0
    """
    if gradient is not None and grad is not None:
        raise TypeError("backward(): give gradient= or grad=, not both")
    gradient = grad if gradient is None else gradient
    if not self._rg:
        raise RuntimeError("backward(): the tensor does not require grad and has no graph; "
                           "create its inputs with requires_grad=True")
    if gradient is None:  # (a recorded pass takes Tensors)
        seed = _new(_unit(self), self._xp) if create_graph else _unit(self)
    else:
        seed = gradient if isinstance(gradient, Tensor) else _new(
            backend.asarray(gradient, xp=self._xp if backend.is_array(gradient) else None),
            self._xp)
        if seed.shape != self.shape:
            raise ValueError(f"backward(): grad has shape {seed.shape} but the tensor has "
                             f"shape {self.shape}")
    if backend.is_complex(self._data.dtype, self._xp) or gradient is not None and \
            backend.is_complex(seed.dtype, self._xp):
        raise TypeError("backward(): gradients are of real functions, and the tensor or grad= "
                        "is complex: take .real, .abs() or a real loss of it")
    targets = None if inputs is None else backward_inputs(inputs, "backward()")
    accumulate_into(targets, grad_of([self], targets, [seed], create_graph if retain_graph is
                                     None else retain_graph, create_graph), create_graph)


def backward_inputs(inputs: Any, what: str) -> list[Tensor]:
    """``backward``'s ``inputs`` (a Tensor or a sequence of them), each once, each
    requiring grad."""
    targets = list({id(x): x for x in ([inputs] if type(inputs) is Tensor else inputs)}.values())
    if not targets:
        raise ValueError(f"{what}: inputs is empty; pass None to reach every leaf")
    for i, x in enumerate(targets):
        if not isinstance(x, Tensor) or not x._rg:
            raise RuntimeError(f"{what}: input {i} (" + (f"shape {x.shape}) does not require "
                               f"grad; create it with requires_grad=True" if isinstance(
                                   x, Tensor) else f"a {type(x).__name__}) is not a Tensor"))
    return targets


def accumulate_into(targets: list[Tensor] | None, results: list | None, create_graph: bool) -> None:
    """``grad_of``'s gradients of ``targets`` (``backward``'s inputs) added to their ``.grad``:
    arrays of the user's own, as ``backward()`` hands them over."""
    for x, g in zip(targets or (), results or ()):
        if g is not None:
            _accumulate(x, g, create_graph)


def retain_grad(self: Tensor) -> None:
    """Keep this non-leaf tensor's gradient in ``.grad`` during ``backward()`` (PyTorch).

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor(3.0, requires_grad=True)
    >>> y = x * x
    >>> y.retain_grad()
    >>> (2 * y).backward()
    >>> y.grad.item()
    2.0
    """
    if not self._rg:  # (PyTorch's error: no gradient would ever reach it)
        raise RuntimeError(f"retain_grad(): the tensor (shape {self.shape}) does not require grad")
    if self._node is None:
        return  # a leaf keeps its gradient anyway
    key = id(self)  # its node tells the pass; an in-place op on it hands that on (tensor.py)
    self._node.keep = retained[key] = weakref.ref(self, lambda _, k=key: retained.pop(k, None))


Tensor.backward = backward
Tensor.retain_grad = retain_grad
