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
    identity_rule,
    retained,
    set_grad_enabled,
    version_counter,
)


def _seed(root: Tensor, grad: Any) -> Tensor:
    if grad is None:
        if root.size != 1:
            raise ValueError(
                f"backward() of a tensor of shape {root.shape} needs grad=: an array of that "
                f"shape (gradients are defined for scalar outputs)")
        return _new(backend.ones_like(root._xp, root._data), root._xp)
    g = grad if isinstance(grad, Tensor) else _new(backend.asarray(grad, xp=root._xp
                                                                   if backend.is_array(grad)
                                                                   else None), root._xp)
    if g.shape != root.shape:
        raise ValueError(f"backward(): grad has shape {g.shape} but the tensor has shape "
                         f"{root.shape}")
    return g


def _check_versions(node: Node) -> None:
    args = node.args
    if args is None:
        raise RuntimeError(
            f"trying to backward through the graph a second time (at {node.prim.name}); its "
            f"saved values were freed. Pass retain_graph=True to the first backward()")
    versions = node.versions
    if versions is None:
        versions = ()
    elif type(versions) is int:
        versions = (versions,)
    for pos, version in enumerate(versions):
        if version is None:
            continue
        now = _version(args[pos])
        if now != version:
            raise RuntimeError(
                f"a tensor needed to differentiate {node.prim.name} (argument {pos}, shape "
                f"{args[pos].shape}) was modified by an in-place operation (version "
                f"{now}, saved at version {version}); clone it before modifying")
    if node.ans_data is not None and node.ans_vc[0] != node.ans_version:
        raise RuntimeError(
            f"the output of {node.prim.name} was modified by an in-place operation, but "
            f"its gradient needs it; clone it before modifying")


def _version(t: Tensor) -> int:
    return t._vc[0] if t._vc is not None else 0


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


def _check_node(node: Node) -> None:
    """The version-counter guard, fast when nothing was modified."""
    versions = node.versions
    if node.n < 0 or node.ans_data is not None:
        _check_versions(node)
    elif versions is not None:
        if type(versions) is int:
            first = node.a0
            if (first._vc[0] if first._vc is not None else 0) != versions:
                _check_versions(node)
        else:
            _check_versions(node)


def _run(roots: list[Tensor], seeds: list[Tensor], retain_graph: bool, create_graph: bool,
         targets: list[Tensor] | None, nb: int, on_tensors: bool = False
         ) -> dict[int, Tensor] | None:
    """The reverse pass. With ``targets`` it returns their cotangents by id, else it
    accumulates into the leaves' ``.grad``.

    Nodes are visited by decreasing creation number (a topological order), each pushed
    on a heap when its first cotangent arrives: one pass, no recursion, and only the
    part of the graph that the roots reach. When nothing is recorded (no
    ``create_graph``) cotangents travel as raw arrays, and primitives whose rules are
    namespace-polymorphic run them on raw arrays: no Tensor is made until the end.
    ``on_tensors`` runs the rules on Tensors even so (forward-mode tangents must ride
    along through them).
    """
    raw = not (create_graph or on_tensors)
    # A node's pending cotangent sits in its ``g`` field while it waits on the heap (or
    # in ``follow``); the ``finally`` below clears what an error leaves behind.
    leaves: dict[int, list] = {}  # id -> [leaf, cotangent]: written once at the end
    heap: list[tuple[int, Node]] = []
    for root, seed in zip(roots, seeds):
        if raw:
            seed = seed._data
        node = root._node
        if node is None:  # a leaf differentiated with respect to itself
            _add_leaf(leaves, root, seed)
            continue
        if node.g is None:
            node.g = seed
            heappush(heap, (-node.seq, node))
        else:
            node.g = node.g + seed
    wanted_nodes = {t._node: t for t in targets if t._node is not None} if targets else None
    captured: dict[int, Any] = {}
    follow = None  # the next node when it is the only one pending: no heap round trip
    previous = set_grad_enabled(create_graph)
    try:
        while heap or follow is not None:
            if follow is not None:
                node, follow = follow, None
            else:
                node = heappop(heap)[1]
            g = node.g
            node.g = None
            if wanted_nodes and node in wanted_nodes:
                _add(captured, id(wanted_nodes[node]), g)
            if retained and targets is None and id(node) in retained:
                _keep_grad(node, g, raw, create_graph)
            n = node.n
            versions = node.versions
            if versions is not None or node.ans_data is not None or n < 0:
                if node.ans_data is not None or n < 0:
                    _check_node(node)
                elif type(versions) is int:
                    if versions != _version(node.a0):
                        _check_node(node)
                elif n == 2:
                    v0, v1 = versions
                    if ((v0 is not None and v0 != _version(node.a0))
                            or (v1 is not None and v1 != _version(node.a1))):
                        _check_node(node)
                else:
                    _check_node(node)
            prim = node.prim
            params, rules = node.params, prim.vjps
            if n == 1:
                args, edges = (node.a0,), (node.e0,)
            elif n == 2:
                args, edges = (node.a0, node.a1), (node.e0, node.e1)
            else:
                args, edges = node.rest, node.erest
            if raw and prim.poly:  # rules on raw arrays
                if prim.reads == ():  # the rules read no values (shapes at most): as they are
                    call_args = args
                elif n == 1:
                    call_args = (node.a0._data,)
                elif n == 2:
                    a0, a1 = args
                    call_args = (a0._data if type(a0) is Tensor else a0,
                                 a1._data if type(a1) is Tensor else a1)
                else:
                    call_args = tuple([a._data if type(a) is Tensor else a for a in args])
                ans = node.ans_data
                gg = g
            else:
                call_args = args
                ans = None
                if prim.uses_ans:
                    ans = _new(node.ans_data, _xp_of(node))
                    ans._node, ans._rg = node, True
                    ans._fw = getattr(node, "ans_fw", None)
                gg = _new(g, _xp_of(node)) if raw else g
            fresh = None  # a node that got its first cotangent from this one
            for i, edge in enumerate(edges):
                if edge is None:
                    continue
                parent = args[i]
                rule = rules[i]
                if rule is identity_rule:
                    gi = gg
                elif params:
                    gi = rule(gg, ans, *call_args, **params)
                else:
                    gi = rule(gg, ans, *call_args)
                if raw:
                    if gg is not g:  # a Tensor rule: back to raw
                        gi = gi._data if type(gi) is Tensor else gi
                    pdata = parent._data
                    if nb or gi.shape != pdata.shape or gi.dtype != pdata.dtype:
                        gi = _fit_raw(gi, parent, node, nb)
                elif type(gi) is not Tensor or nb or gi._data.shape != parent._data.shape:
                    gi = _fit(gi, parent, node, nb)
                if type(edge) is Tensor:  # a leaf
                    pkey = id(edge)
                    entry = leaves.get(pkey)
                    if entry is None:
                        leaves[pkey] = [edge, gi, False]
                    elif entry[2] and raw:  # a sum this pass made: add in place
                        entry[1] += gi
                    else:
                        entry[1] = entry[1] + gi
                        entry[2] = True
                else:
                    old = edge.g
                    if old is None:
                        edge.g = gi
                        if fresh is not None:
                            heappush(heap, (-fresh.seq, fresh))
                        fresh = edge
                    else:
                        edge.g = old + gi
            if fresh is not None:
                if heap:
                    heappush(heap, (-fresh.seq, fresh))
                else:
                    follow = fresh
            if not retain_graph:  # free what the rules needed
                node.n = -1
                node.a0 = node.a1 = node.rest = node.ans_data = None
        if targets is not None:
            for leaf, g, _ in leaves.values():
                _add(captured, id(leaf), g)
            if raw:
                return {key: _new(g, backend.namespace(g)) for key, g in captured.items()}
            return captured
        for leaf, g, owned in leaves.values():
            if leaf._rg:
                if raw:
                    g = _new(g, leaf._xp)
                if g._data.dtype != leaf._data.dtype or g._data.shape != leaf._data.shape:
                    g = _fit(g, leaf, leaf._node or _LEAF, nb)
                _accumulate(leaf, g, create_graph, owned and raw)
    finally:
        set_grad_enabled(previous)
        for _, pending in heap:  # only after an error: leave no cotangent behind
            pending.g = None
        if follow is not None:
            follow.g = None
    return None


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


def _add_leaf(leaves: dict[int, list], leaf: Tensor, g: Tensor) -> None:
    entry = leaves.get(id(leaf))
    if entry is None:
        leaves[id(leaf)] = [leaf, g, False]
    else:
        entry[1] = entry[1] + g
        entry[2] = True


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
        version_counter(leaf.grad)[0] += 1


def backward(root: Tensor, grad: Any = None, retain_graph: bool = False,
             create_graph: bool = False) -> None:
    """Accumulate ``d root / d leaf`` (times ``grad``) into every leaf's ``.grad``."""
    if not root._rg:
        raise RuntimeError("backward(): the tensor does not require grad and has no graph; "
                           "create its inputs with requires_grad=True")
    seed = _seed(root, grad)
    if grad is not None and (seed is grad or seed._data is getattr(grad, "_data", grad)):
        seed = _new(seed._xp.asarray(seed._data, copy=True), seed._xp)
    _run([root], [seed], retain_graph, create_graph, None, 0)


def grad_of(outputs: list[Tensor], inputs: list[Tensor], seeds: list[Tensor],
            retain_graph: bool = False, create_graph: bool = False,
            nb: int = 0, on_tensors: bool = False) -> list[Tensor | None]:
    """Cotangents of ``inputs`` for cotangents ``seeds`` of ``outputs`` (``None`` where an
    input does not influence the outputs). ``nb`` leading axes of the seeds are a batch;
    ``on_tensors`` keeps forward-mode tangents flowing through the rules."""
    captured = _run(outputs, seeds, retain_graph, create_graph, inputs, nb, on_tensors)
    return [captured.get(id(t)) for t in inputs]
