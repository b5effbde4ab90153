"""The reverse pass: topological order (iterative, no recursion limit), each rule's
cotangent summed back to its input's shape, gradients accumulated, graph freed.

``backward`` accumulates into the leaves' ``.grad`` (PyTorch's ``Tensor.backward``);
``grad_of`` returns the gradients with respect to chosen tensors instead (PyTorch's
``torch.autograd.grad``), which is what the functional transforms build on.
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..primitives.reductions import sum_to
from ..tensor import Node, Tensor, _new, set_grad_enabled


def _seed(root: Tensor, grad: Any) -> Tensor:
    if grad is None:
        if root.size != 1:
            raise ValueError(
                f"backward() of a tensor of shape {root.shape} needs grad=: an array of that "
                f"shape (gradients are defined for scalar outputs)")
        return _new(root._xp.ones_like(root._data), root._xp)
    g = grad if isinstance(grad, Tensor) else _new(backend.asarray(grad, xp=root._xp
                                                                   if backend.is_array(grad)
                                                                   else None), root._xp)
    if g.shape != root.shape:
        raise ValueError(f"backward(): grad has shape {g.shape} but the tensor has shape "
                         f"{root.shape}")
    return g


def _order(roots: list[Node]) -> list[Node]:
    """Nodes reachable from ``roots``, each before the nodes it depends on (iterative DFS)."""
    order: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(r, False) for r in roots]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for p in node.parents:
            if p is not None and p._node is not None and id(p._node) not in seen:
                stack.append((p._node, False))
    order.reverse()
    return order


def _check_versions(node: Node) -> None:
    args = node.args
    if args is None:
        raise RuntimeError(
            f"trying to backward through the graph a second time (at {node.prim.name}); its "
            f"saved values were freed. Pass retain_graph=True to the first backward()")
    reads = node.prim.reads
    positions = range(len(args)) if reads is None else reads
    for pos, version in zip(positions, node.versions):
        if version is not None and args[pos]._vc[0] != version:
            raise RuntimeError(
                f"a tensor needed to differentiate {node.prim.name} (argument {pos}, shape "
                f"{args[pos].shape}) was modified by an in-place operation (version "
                f"{args[pos]._vc[0]}, saved at version {version}); clone it before modifying")
    if node.ans_data is not None and node.ans_vc[0] != node.ans_version:
        raise RuntimeError(
            f"the output of {node.prim.name} was modified by an in-place operation, but "
            f"its gradient needs it; clone it before modifying")


def _fit(g: Any, parent: Tensor, node: Node, nb: int) -> Tensor:
    """The cotangent of ``parent``: broadcasting undone, dtype checked."""
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


def _run(roots: list[Tensor], seeds: list[Tensor], retain_graph: bool, create_graph: bool,
         targets: list[Tensor] | None, nb: int) -> dict[int, Tensor] | None:
    """The reverse pass. With ``targets`` it returns their cotangents by id, else it
    accumulates into the leaves' ``.grad``."""
    grads: dict[int, Tensor] = {}
    captured: dict[int, Tensor] = {}
    wanted_nodes: dict[int, int] = {}
    wanted_leaves: set[int] = set()
    if targets is not None:
        for t in targets:
            if t._node is None:
                wanted_leaves.add(id(t))
            else:
                wanted_nodes[id(t._node)] = id(t)
    root_nodes = []
    for root, seed in zip(roots, seeds):
        if root._node is None:  # a leaf differentiated with respect to itself
            if targets is not None:
                if id(root) in wanted_leaves:
                    _add(captured, id(root), seed)
            elif root._rg:
                _accumulate(root, seed, create_graph)
            continue
        key = id(root._node)
        _add(grads, key, seed)
        root_nodes.append(root._node)
    previous = set_grad_enabled(create_graph)
    try:
        for node in _order(root_nodes):
            key = id(node)
            g = grads.pop(key, None)
            if g is None:
                continue
            if key in wanted_nodes:
                _add(captured, wanted_nodes[key], g)
            _check_versions(node)
            prim = node.prim
            ans = None
            if prim.uses_ans:
                ans = _new(node.ans_data, _xp_of(node))
                ans._node, ans._rg = node, True
            args, params, rules = node.args, node.params, prim.vjps
            for i, parent in enumerate(node.parents):
                if parent is None:
                    continue
                gi = _fit(rules[i](g, ans, *args, **params), parent, node, nb)
                pnode = parent._node
                if pnode is None:
                    if targets is None:
                        if parent._rg:
                            _accumulate(parent, gi, create_graph)
                    elif id(parent) in wanted_leaves:
                        _add(captured, id(parent), gi)
                else:
                    _add(grads, id(pnode), gi)
            if not retain_graph:
                node.args = None
                node.ans_data = None
    finally:
        set_grad_enabled(previous)
    return captured if targets is not None else None


def _xp_of(node: Node) -> Any:
    for a in node.args:
        if isinstance(a, Tensor):
            return a._xp
    return backend.numpy_namespace


def _add(table: dict[int, Tensor], key: int, g: Tensor) -> None:
    old = table.get(key)
    table[key] = g if old is None else old + g


def _accumulate(leaf: Tensor, g: Tensor, create_graph: bool) -> None:
    """Add ``g`` into ``leaf.grad`` (a fresh array the first time, never an alias)."""
    if leaf.grad is None:
        if create_graph:
            leaf.grad = g
        else:
            leaf.grad = _new(leaf._xp.asarray(g._data, copy=True), leaf._xp)
    elif create_graph or leaf.grad._rg:
        leaf.grad = leaf.grad + g
    else:
        leaf.grad._write(leaf.grad._data + g._data, "gradient accumulation")
        leaf.grad._vc[0] += 1


def backward(root: Tensor, grad: Any = None, retain_graph: bool = False,
             create_graph: bool = False) -> None:
    """Accumulate ``d root / d leaf`` (times ``grad``) into every leaf's ``.grad``."""
    if not root._rg:
        raise RuntimeError("backward(): the tensor does not require grad and has no graph; "
                           "create its inputs with requires_grad=True")
    seed = _seed(root, grad)
    if grad is not None and seed is grad:
        seed = _new(seed._xp.asarray(seed._data, copy=True), seed._xp)
    _run([root], [seed], retain_graph, create_graph, None, 0)


def grad_of(outputs: list[Tensor], inputs: list[Tensor], seeds: list[Tensor],
            retain_graph: bool = False, create_graph: bool = False,
            nb: int = 0) -> list[Tensor | None]:
    """Cotangents of ``inputs`` for cotangents ``seeds`` of ``outputs`` (``None`` where an
    input does not influence the outputs). ``nb`` leading axes of the seeds are a batch."""
    captured = _run(outputs, seeds, retain_graph, create_graph, inputs, nb)
    return [captured.get(id(t)) for t in inputs]
