"""The reverse pass: topological order (iterative, no recursion limit), each rule's
cotangent summed back to its input's shape, gradients accumulated, graph freed.

``backward`` accumulates into the leaves' ``.grad`` (PyTorch's ``Tensor.backward``);
``grad_of`` returns the gradients with respect to chosen tensors instead (PyTorch's
``torch.autograd.grad``), which is what the functional transforms build on.
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Any

from .. import backend
from ..primitives.reductions import sum_to
from ..tensor import (
    Node,
    Tensor,
    _new,
    bump_version,
    identity_rule,
    last_write,
    retained,
    set_grad_enabled,
)


def _unit_seed(root: Tensor) -> Any:
    """The default seed of ``backward()``: ones, for a one-element tensor only."""
    if root._data.shape and root.size != 1:
        raise ValueError(
            f"backward() of a tensor of shape {root.shape} needs grad=: an array of that "
            f"shape (gradients are defined for scalar outputs)")
    return backend.unit_like(root._xp, root._data)


def _seed(root: Tensor, grad: Any) -> Tensor:
    if grad is None:
        return _new(_unit_seed(root), root._xp)
    g = grad if isinstance(grad, Tensor) else _new(backend.asarray(grad, xp=root._xp
                                                                   if backend.is_array(grad)
                                                                   else None), root._xp)
    if g.shape != root.shape:
        raise ValueError(f"backward(): grad has shape {g.shape} but the tensor has shape "
                         f"{root.shape}")
    return g


def _check_versions(node: Node) -> None:
    """Raise when the graph was freed, or when a value the rules read was written in place
    after the node was made."""
    args = node.args
    if args is None:
        raise RuntimeError(
            f"trying to backward through the graph a second time (at {node.prim.name}); its "
            f"saved values were freed. Pass retain_graph=True to the first backward()")
    reads = range(len(args)) if node.prim.reads is None else node.prim.reads
    for pos in reads:
        a = args[pos]
        if type(a) is Tensor and a._vc is not None and a._vc[1] > node.seq:
            raise RuntimeError(
                f"a tensor needed to differentiate {node.prim.name} (argument {pos}, shape "
                f"{a.shape}) was modified by an in-place operation after it was used (it is "
                f"now at version {a._vc[0]}); clone it before modifying")
    if node.ans_data is not None and node.ans_vc[1] > node.ans_since:
        raise RuntimeError(
            f"the output of {node.prim.name} was modified by an in-place operation, but "
            f"its gradient needs it; clone it before modifying")


def _fit(g: Any, parent: Tensor, node: Node, nb: int) -> Tensor:
    """The cotangent of ``parent``: broadcasting undone, dtype checked (the slow path)."""
    if not isinstance(g, Tensor):
        g = _new(backend.asarray(g, xp=parent._xp) if backend.is_array(g)
                 else parent._xp.asarray(g), parent._xp)
    gshape = g._data.shape
    pshape = parent._data.shape
    if len(gshape) - nb != len(pshape) or tuple(gshape[nb:]) != tuple(pshape):
        try:
            g = sum_to(g, tuple(pshape), nb)
        except ValueError:
            raise RuntimeError(
                f"the reverse rule of {node.prim.name} returned a cotangent of shape "
                f"{tuple(gshape)} for an input of shape {tuple(pshape)}") from None
    if g._data.dtype != parent._data.dtype:
        from ..primitives.elementwise import astype

        g = astype(g, parent._data.dtype)
    return g


def _fit_raw(g: Any, parent: Tensor, node: Node, nb: int) -> Any:
    """``_fit`` on raw arrays (the reverse pass that records nothing)."""
    xp, pdata = parent._xp, parent._data
    if not backend.is_array(g):
        g = xp.asarray(g, dtype=pdata.dtype)
    pshape = tuple(pdata.shape)
    if tuple(g.shape[nb:]) != pshape or g.ndim - nb != len(pshape):
        try:
            g = backend.sum_to(xp, g, pshape, nb)
        except ValueError:
            raise RuntimeError(
                f"the reverse rule of {node.prim.name} returned a cotangent of shape "
                f"{tuple(g.shape)} for an input of shape {pshape}") from None
    if g.dtype != pdata.dtype:
        g = xp.astype(g, pdata.dtype)
    return g


def _run(roots: list[Tensor], seeds: list[Any], retain_graph: bool, create_graph: bool,
         targets: list[Tensor] | None, nb: int, on_tensors: bool = False
         ) -> dict[int, Tensor] | None:
    """The reverse pass. With ``targets`` it returns their cotangents by id, else it
    accumulates into the leaves' ``.grad``. ``seeds`` are Tensors, or raw arrays that
    nothing else holds when the pass runs on raw arrays.

    Nodes are visited by decreasing creation number (a topological order), each pushed
    on a heap when its first cotangent arrives: one pass, no recursion, and only the
    part of the graph that the roots reach. When nothing is recorded (no
    ``create_graph``) cotangents travel as raw arrays, and primitives whose rules are
    namespace-polymorphic run them on raw arrays: no Tensor is made until the end.
    ``on_tensors`` runs the rules on Tensors even so (forward-mode tangents must ride
    along through them).
    """
    raw = not (create_graph or on_tensors)
    passed_before = len(_passed_on)  # a pass run by a rule inside this one keeps ours
    # A node's pending cotangent sits in its ``g`` field while it waits on the heap (or
    # in the loop's hands); after an error the ``finally`` below clears the heap's, the
    # loop its own.
    # id -> [leaf, cotangent, owned]: written once at the end; ``owned`` when the
    # cotangent is a sum this pass made, which it may add into in place and hand over.
    leaves: dict[int, list] = {}
    heap: list[tuple[int, Node]] = []
    for root, seed in zip(roots, seeds):
        if type(seed) is Tensor and (targets is not None or not raw) \
                and type(seed._data) is backend.ndarray:
            _passed_on.append(seed._data)  # the caller's: handed back only as a copy
        if raw and type(seed) is Tensor:
            seed = seed._data
        node = root._node
        if node is None:  # a leaf differentiated with respect to itself
            _add_leaf(leaves, root, seed, raw)
            continue
        if node.g is None:
            node.g = seed
            heappush(heap, (-node.seq, node))
        else:
            node.g = node.g + seed
    wanted_nodes = {t._node: t for t in targets if t._node is not None} if targets else None
    watch = bool(wanted_nodes) or (targets is None and bool(retained))
    captured: dict[int, Any] = {}
    watching = (wanted_nodes, captured, targets, raw, create_graph) if watch else None
    previous = set_grad_enabled(create_graph)
    try:
        if raw:
            _visit_raw(heap, leaves, retain_graph, nb, watching)
        else:
            _visit(heap, leaves, retain_graph, nb, watching)
        if targets is not None:
            for leaf, g, _ in leaves.values():
                _add(captured, id(leaf), g)
            if raw:
                return {key: _new(g.copy() if _shared(g) else g, backend.namespace(g))
                        for key, g in captured.items()}
            return {key: g.clone() if _shared(g._data) else g for key, g in captured.items()}
        if raw:
            for leaf, g, owned in leaves.values():
                if leaf._rg:
                    data = leaf._data
                    if g.dtype != data.dtype or g.shape != data.shape:
                        g = _fit_raw(g, leaf, leaf._node or _LEAF, nb)
                    if owned and leaf.grad is None:  # a sum this pass made: it, no copy
                        leaf.grad = _new(g, leaf._xp)
                    else:
                        _accumulate(leaf, _new(g, leaf._xp), False, owned)
            return None
        for leaf, g, _ in leaves.values():
            if leaf._rg:
                if g._data.dtype != leaf._data.dtype or g._data.shape != leaf._data.shape:
                    g = _fit(g, leaf, leaf._node or _LEAF, nb)
                _accumulate(leaf, g.clone() if _shared(g._data) else g, create_graph, False)
    finally:
        set_grad_enabled(previous)
        for _, pending in heap:  # only after an error: leave no cotangent behind
            pending.g = None
        if len(_passed_on) > passed_before:
            del _passed_on[passed_before:]
    return None


def _visit(heap: list, leaves: dict, retain_graph: bool, nb: int, watching: Any) -> None:
    """The reverse pass's loop with Tensor cotangents (``create_graph``, or forward-mode
    tangents riding along): every rule runs on Tensors, so what it does is recorded."""
    while heap:
        node = heappop(heap)[1]
        g = node.g
        node.g = None
        if watching is not None:
            _watch(node, g, *watching)
        if node.seq < last_write[0] or node.n < 0:
            _check_versions(node)
        prim = node.prim
        args, edges, params = node.args, node.edges, node.params
        ans = None
        if prim.uses_ans:
            ans = _new(node.ans_data, _xp_of(node))
            ans._node, ans._rg = node, True
            ans._fw = getattr(node, "ans_fw", None)
        for i, edge in enumerate(edges):
            if edge is None:
                continue
            rule = prim.vjps[i]
            gi = g if rule is identity_rule else rule(g, ans, *args, **params)
            parent = args[i]
            if type(gi) is not Tensor or nb or gi._data.shape != parent._data.shape:
                gi = _fit(gi, parent, node, nb)
            if type(edge) is Tensor:
                _add_leaf(leaves, edge, gi, False)
            elif edge.g is None:
                edge.g = gi
                heappush(heap, (-edge.seq, edge))
            else:
                edge.g = edge.g + gi
        if not retain_graph:
            _free(node)


def _visit_raw(heap: list, leaves: dict, retain_graph: bool, nb: int, watching: Any) -> None:
    """The reverse pass's loop on raw arrays, the common case, written for speed (it runs
    once per node): the version guard only when something was written in place since the
    node was made; a node that comes after everything pending taken next without the heap;
    one-argument nodes deliver their cotangent straight out."""
    follow = fresh = None
    written = last_write[0]
    try:
        while True:
            if follow is not None:
                node = follow
                follow = None
            elif heap:
                node = heappop(heap)[1]
            else:
                return
            g = node.g
            node.g = None
            if watching is not None:
                _watch(node, g, *watching)
                written = last_write[0]  # retain_grad may have written a .grad in place
            if node.seq < written:
                _check_versions(node)
            prim = node.prim
            n = node.n
            if n == 1 and prim.poly:
                edge = node.e0
                if type(edge) is Tensor and prim.scatter is not None and not nb \
                        and type(g) is backend.ndarray:
                    _scatter_leaf(leaves, edge, g, prim, node.params)
                elif edge is not None:
                    rule = prim.vjps[0]
                    parent = node.a0
                    pdata = parent._data
                    if rule is identity_rule:
                        gi = g
                    elif node.params:
                        gi = rule(g, node.ans_data, parent if prim.shape_only else pdata,
                                  **node.params)
                    else:
                        gi = rule(g, node.ans_data, parent if prim.shape_only else pdata)
                    if nb or gi.shape != pdata.shape or gi.dtype != pdata.dtype:
                        gi = _fit_raw(gi, parent, node, nb)
                    if type(edge) is Tensor:
                        _add_leaf(leaves, edge, gi, True)
                    elif edge.g is None:
                        edge.g = gi
                        if heap and heap[0][0] < -edge.seq:
                            heappush(heap, (-edge.seq, edge))
                        else:
                            follow = edge
                    else:
                        edge.g = edge.g + gi
                if not retain_graph:
                    node.n = -1
                    node.a0 = node.ans_data = None
                continue
            if n == 2 and prim.poly:
                a0, a1, e0, e1 = node.a0, node.a1, node.e0, node.e1
                if prim.shape_only:
                    x0, x1 = a0, a1
                else:
                    x0 = a0._data if type(a0) is Tensor else a0
                    x1 = a1._data if type(a1) is Tensor else a1
                r0, r1 = prim.vjps
                ans, params = node.ans_data, node.params
                if e0 is None:
                    g0 = None
                elif r0 is identity_rule:
                    g0 = g
                else:
                    g0 = r0(g, ans, x0, x1, **params) if params else r0(g, ans, x0, x1)
                if e1 is None:
                    g1 = None
                elif r1 is identity_rule:
                    g1 = g
                else:
                    g1 = r1(g, ans, x0, x1, **params) if params else r1(g, ans, x0, x1)
                deliveries = ((a0, e0, g0), (a1, e1, g1))
            else:
                if n < 0:  # freed by an earlier pass: says so
                    _check_versions(node)
                deliveries = zip(node.args, node.edges, _other_rules(node, g))
            for parent, edge, gi in deliveries:
                if gi is None:
                    continue
                pdata = parent._data
                if nb or gi.shape != pdata.shape or gi.dtype != pdata.dtype:
                    gi = _fit_raw(gi, parent, node, nb)
                if type(edge) is Tensor:
                    _add_leaf(leaves, edge, gi, True)
                elif edge.g is None:
                    edge.g = gi
                    if fresh is None:
                        fresh = edge
                    elif edge.seq > fresh.seq:  # keep the later node to take next
                        heappush(heap, (-fresh.seq, fresh))
                        fresh = edge
                    else:
                        heappush(heap, (-edge.seq, edge))
                else:
                    edge.g = edge.g + gi
            if fresh is not None:
                # the next node to visit when it comes after everything pending
                if heap and heap[0][0] < -fresh.seq:
                    heappush(heap, (-fresh.seq, fresh))
                else:
                    follow = fresh
                fresh = None
            if not retain_graph:
                node.n = -1
                node.a0 = node.a1 = node.rest = node.ans_data = None
    except BaseException:
        for pending in (follow, fresh):  # not on the heap: leave no cotangent behind
            if pending is not None:
                pending.g = None
        raise


def _other_rules(node: Node, g: Any) -> list:
    """The cotangents, by argument, of a node the raw loop's arity branches do not take:
    rules written for Tensors only (run on Tensors, results back to raw), or more than
    two arguments."""
    prim, args = node.prim, node.args
    on_tensors = not prim.poly
    if on_tensors:
        xp = _xp_of(node)
        ans = None
        if prim.uses_ans:
            ans = _new(node.ans_data, xp)
            ans._node, ans._rg = node, True
        gg = _new(g, xp)
    else:
        ans, gg = node.ans_data, g
        if not prim.shape_only:
            args = tuple([a._data if type(a) is Tensor else a for a in args])
    out = []
    for i, edge in enumerate(node.edges):
        rule = prim.vjps[i]
        if edge is None:
            out.append(None)
        elif rule is identity_rule:
            out.append(g)
        else:
            gi = rule(gg, ans, *args, **node.params)
            out.append(gi._data if on_tensors and type(gi) is Tensor else gi)
    return out


_passed_on = backend.PASSED_ON


def _free(node: Node) -> None:
    """Drop what the rules needed (the graph cannot run backward again)."""
    node.n = -1
    node.a0 = node.a1 = node.rest = node.ans_data = None


def _watch(node: Node, g: Any, wanted_nodes: dict | None, captured: dict, targets: Any,
           raw: bool, create_graph: bool) -> None:
    """Cotangents asked for on the way: ``grad_of``'s non-leaf targets, ``retain_grad``."""
    if wanted_nodes and node in wanted_nodes:
        _add(captured, id(wanted_nodes[node]), g)
    if retained and targets is None and id(node) in retained:
        _keep_grad(node, g, raw, create_graph)

def _keep_grad(node: Node, g: Any, raw: bool, create_graph: bool) -> None:
    """``retain_grad()``: accumulate the cotangent into the non-leaf tensor's ``.grad``."""
    tensor = retained[id(node)]()
    if tensor is None or tensor._node is not node:
        del retained[id(node)]
        return
    _accumulate(tensor, _new(g, tensor._xp) if raw else g, create_graph)


class _Leaf:
    class prim:  # noqa: N801 - stands in for a node in error messages
        name = "a leaf"


_LEAF = _Leaf()


def _add_leaf(leaves: dict[int, list], leaf: Tensor, g: Any, raw: bool) -> None:
    """A cotangent for a leaf: kept, or added to what it has (on raw arrays, in place into
    a sum this pass made)."""
    entry = leaves.get(id(leaf))
    if entry is None:
        leaves[id(leaf)] = [leaf, g, False]
    elif raw and entry[2]:
        entry[1] += g
    else:
        entry[1] = entry[1] + g
        entry[2] = True


def _scatter_leaf(leaves: dict[int, list], leaf: Tensor, g: Any, prim: Any,
                  params: dict) -> None:
    """A cotangent for a leaf, added by ``prim.scatter`` into the leaf's sum (made here, of
    zeros, when the leaf has none this pass owns)."""
    key = id(leaf)
    entry = leaves.get(key)
    if entry is None:
        data = leaf._data
        acc = backend.numpy_zeros(data.shape, data.dtype)
        leaves[key] = [leaf, acc, True]
    elif entry[2]:
        acc = entry[1]
    else:  # a cotangent that is not the pass's own: summed into fresh zeros
        data = leaf._data
        acc = backend.numpy_zeros(data.shape, data.dtype)
        acc += entry[1]
        entry[1], entry[2] = acc, True
    prim.scatter(acc, g, **params)


def _shared(g: Any) -> bool:
    """Whether a cotangent must not go to the user as it is: a NumPy array that is
    read-only (a cached unit, a broadcast view) or shares memory with an array others hold
    (a seed, a factor a rule passed on). Raw passes hand over a copy, recorded ones a
    ``clone`` (differentiable)."""
    return type(g) is backend.ndarray and (
        not g.flags.writeable or bool(_passed_on) and backend.shares_memory_with_passed(g))


def _xp_of(node: Node) -> Any:
    for a in node.args:
        if isinstance(a, Tensor):
            return a._xp
    return backend.numpy_namespace


def _add(table: dict[int, Tensor], key: int, g: Tensor) -> None:
    old = table.get(key)
    table[key] = g if old is None else old + g


def _accumulate(leaf: Tensor, g: Tensor, create_graph: bool, owned: bool = False) -> None:
    """Add ``g`` into ``leaf.grad`` (a fresh array the first time, never an alias; ``owned``:
    ``g`` is a sum this pass made, which nothing else holds)."""
    if leaf.grad is None:
        if create_graph or owned:
            leaf.grad = g
        else:
            leaf.grad = _new(backend.asarray(g._data, xp=leaf._xp, copy=True), leaf._xp)
    elif create_graph or leaf.grad._rg:
        leaf.grad = leaf.grad + g
    else:
        leaf.grad._write(leaf.grad._data + g._data, "gradient accumulation")
        bump_version(leaf.grad)


def backward(root: Tensor, grad: Any = None, retain_graph: bool = False,
             create_graph: bool = False) -> None:
    """Accumulate ``d root / d leaf`` (times ``grad``) into every leaf's ``.grad``."""
    if not root._rg:
        raise RuntimeError("backward(): the tensor does not require grad and has no graph; "
                           "create its inputs with requires_grad=True")
    if grad is None and not create_graph:  # the common case: the cached unit, raw arrays
        _run([root], [_unit_seed(root)], retain_graph, False, None, 0)
        return
    seed = _seed(root, grad)
    # A recorded pass may hand the seed itself to a leaf as its .grad: never the caller's
    # array, nor the shared read-only unit.
    if (grad is not None and (seed is grad or seed._data is getattr(grad, "_data", grad))) \
            or (grad is None and create_graph):
        seed = _new(backend.asarray(seed._data, xp=seed._xp, copy=True), seed._xp)
    _run([root], [seed], retain_graph, create_graph, None, 0)


def grad_of(outputs: list[Tensor], inputs: list[Tensor], seeds: list[Tensor],
            retain_graph: bool = False, create_graph: bool = False,
            nb: int = 0, on_tensors: bool = False) -> list[Tensor | None]:
    """Cotangents of ``inputs`` for cotangents ``seeds`` of ``outputs`` (``None`` where an
    input does not influence the outputs). ``nb`` leading axes of the seeds are a batch;
    ``on_tensors`` keeps forward-mode tangents flowing through the rules."""
    captured = _run(outputs, seeds, retain_graph, create_graph, inputs, nb, on_tensors)
    return [captured.get(id(t)) for t in inputs]
