"""``wl.autograd``: PyTorch's ``torch.autograd`` entry points on wonderland's reverse pass.

``grad`` returns gradients of outputs with respect to chosen tensors (leaves or not)
without touching any ``.grad``; ``backward`` accumulates into the leaves' ``.grad`` from
several outputs in one pass. Both run ``wonderland.autodiff.reverse.grad_of``; this module
only checks and shapes the arguments, in PyTorch's terms. The grad-mode switches are here
too, as in ``torch.autograd``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from . import array_libraries, backend
from .autodiff.reverse import _unit, accumulate_into, backward_inputs, grad_of
from .idioms import inference_mode, set_grad_enabled
from .primitives.elementwise import astype, clone
from .tensor import Tensor, _new, enable_grad, no_grad

__all__ = ["grad", "backward", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode"]


def _tensors(value: Any, what: str) -> list[Tensor]:
    """A Tensor or an iterable of Tensors (a list, a generator such as PyTorch's
    ``model.parameters()``), as a list."""
    items = [value] if isinstance(value, Tensor) else value
    if not isinstance(items, Iterable) or isinstance(items, str | bytes):
        raise TypeError(f"{what} must be a Tensor or a sequence of Tensors, got "
                        f"{type(value).__name__}")
    items = list(items)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"{what}[{i}] is a {type(t).__name__}, not a Tensor")
    return items


def _seeds(outputs: list[Tensor], grad_outputs: Any, what: str, nb: int) -> list[Tensor]:
    """The cotangent of each output: ``grad_outputs`` checked against the outputs, ones for
    a one-element output that has none."""
    if grad_outputs is None:
        given: list[Any] = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        given = [grad_outputs]
    elif isinstance(grad_outputs, Sequence | Iterator) and \
            not isinstance(grad_outputs, str | bytes):  # (a generator too, not an array)
        given = list(grad_outputs)
    else:
        raise TypeError(f"{what}: grad_outputs must be a Tensor, a sequence of Tensors (or "
                        f"None) or None, got {type(grad_outputs).__name__}")
    if len(given) != len(outputs):
        raise ValueError(f"{what}: got {len(given)} grad_outputs for {len(outputs)} outputs; "
                         f"give one per output")
    seeds = []
    for i, (out, g) in enumerate(zip(outputs, given)):
        if g is None:
            if nb:
                raise ValueError(f"{what}: is_grads_batched=True needs a grad_output for "
                                 f"every output (output {i} has none)")
            if out.size != 1:
                raise ValueError(f"{what}: output {i} has shape {out.shape}; a gradient can "
                                 f"be implied only for one-element outputs: pass "
                                 f"grad_outputs of that shape")
            seeds.append(_new(_unit(out), out._xp))
            continue
        if not isinstance(g, Tensor):  # a list or NumPy array joins the output's library
            data = backend.asarray(g)
            if backend.namespace(data) is not out._xp:
                data = array_libraries.from_numpy(array_libraries.to_numpy(data), out._data)
            g = _new(data, out._xp)
        if backend.is_complex(g.dtype, g._xp) and not backend.is_complex(out.dtype, out._xp):
            raise TypeError(f"{what}: grad_outputs[{i}] is complex ({g.dtype}) but output {i} "
                            f"is real ({out.dtype}): the imaginary part would be dropped; "
                            f"give a real cotangent")
        expected = g.shape[:nb] + out.shape if nb and g.ndim >= nb else out.shape
        if g.shape != expected:
            batch = " (after its leading batch axis)" if nb else ""
            raise ValueError(f"{what}: grad_outputs[{i}] has shape {g.shape} but output {i} "
                             f"has shape {out.shape}{batch}; they must match")
        if g.dtype != out.dtype:
            g = astype(g, out.dtype)
        seeds.append(g)
    return seeds


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
         retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool | None = None, is_grads_batched: bool = False,
         materialize_grads: bool = False) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, as ``torch.autograd.grad``.

    Nothing is accumulated into ``.grad``: the results are returned, one per input, as a
    tuple (also for a single input).

    Parameters
    ----------
    outputs : Tensor or sequence of Tensors
        What is differentiated; each must require grad (be computed from such tensors).
    inputs : Tensor or sequence of Tensors
        With respect to what: leaves or intermediate tensors, each requiring grad.
    grad_outputs : Tensor or sequence, optional
        The cotangent of each output (the "vector" of the vector-Jacobian product), of its
        shape; ``None`` (or a ``None`` entry) means ones, for one-element outputs only.
    retain_graph : bool, optional
        Keep the graph for another pass; defaults to ``create_graph``.
    create_graph : bool
        Record the pass itself, so that the gradients can be differentiated again.
    allow_unused : bool, optional
        An input that the outputs do not depend on is a ``RuntimeError`` unless this is
        True; its gradient is then ``None``. Defaults to ``materialize_grads``.
    is_grads_batched : bool
        The first axis of every grad_output is a batch: one pass gives the
        vector-Jacobian products of all of them (results carry that axis too).
    materialize_grads : bool
        Zeros instead of ``None`` for unused inputs.

    Returns
    -------
    tuple of Tensor or None

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor([1.0, 2.0], requires_grad=True)
    >>> (g,) = wl.autograd.grad((x ** 3).sum(), x, create_graph=True)
    >>> g.tolist()
    [3.0, 12.0]
    >>> wl.autograd.grad(g.sum(), x)[0].tolist()
    [6.0, 12.0]
    """
    what = "autograd.grad"
    outs = _tensors(outputs, "outputs")
    ins = _tensors(inputs, "inputs")
    if not outs:
        raise ValueError(f"{what}: outputs is empty")
    if not ins:
        raise ValueError(f"{what}: inputs is empty")
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError(f"{what}: materialize_grads=True needs allow_unused to be True or not "
                         f"passed, got allow_unused=False")
    for i, out in enumerate(outs):
        if not out._rg:
            raise RuntimeError(f"{what}: output {i} (shape {out.shape}) does not require grad "
                               f"and has no graph; compute it from tensors with "
                               f"requires_grad=True")
    for i, x in enumerate(ins):
        if not x._rg:
            raise RuntimeError(f"{what}: input {i} (shape {x.shape}) does not require grad; "
                               f"create it with requires_grad=True")
    nb = 1 if is_grads_batched else 0
    seeds = _seeds(outs, grad_outputs, what, nb)
    unique = list({id(x): x for x in ins}.values())  # an input given twice: one target
    on_tensors = any(t._fw is not None for t in (*outs, *ins, *seeds))
    results = grad_of(outs, unique, seeds,
                      retain_graph=create_graph if retain_graph is None else retain_graph,
                      create_graph=create_graph, nb=nb, on_tensors=on_tensors)
    found = {id(x): g for x, g in zip(unique, results)}
    out: list[Tensor | None] = []
    seen: set[int] = set()
    for i, x in enumerate(ins):
        g = found[id(x)]
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"{what}: input {i} (shape {x.shape}) was not used to "
                                   f"compute the outputs; pass allow_unused=True to get None "
                                   f"for it")
            if materialize_grads:
                shape = seeds[0].shape[:1] + x.shape if nb else x.shape
                g = _new(x._xp.zeros(shape, dtype=x._data.dtype), x._xp)
        elif id(x) in seen:  # each position gets a tensor of its own
            g = clone(g)
        seen.add(id(x))
        out.append(g)
    return tuple(out)


def backward(tensors: Tensor | Sequence[Tensor],
             grad_tensors: Tensor | Sequence[Tensor | None] | None = None,
             retain_graph: bool | None = None, create_graph: bool = False,
             inputs: Tensor | Sequence[Tensor] | None = None) -> None:
    """Accumulate into the leaves' ``.grad`` the gradient of ``tensors`` (each weighted by
    its ``grad_tensors`` entry), in one pass, as ``torch.autograd.backward``.

    With ``inputs`` (PyTorch's), only those tensors' ``.grad`` receive it (leaves or not;
    one the outputs do not depend on is left as it is); the other leaves are untouched.

    Examples
    --------
    >>> import wonderland as wl
    >>> x = wl.tensor(2.0, requires_grad=True)
    >>> wl.autograd.backward([x * x, 3 * x])
    >>> x.grad.item()
    7.0
    >>> w = wl.tensor(1.0, requires_grad=True)
    >>> wl.autograd.backward(x * w, inputs=[w])
    >>> x.grad.item(), w.grad.item()
    (7.0, 2.0)
    """
    what = "autograd.backward"
    roots = _tensors(tensors, "tensors")
    if not roots:
        raise ValueError(f"{what}: tensors is empty")
    for i, root in enumerate(roots):
        if not root._rg:
            raise RuntimeError(f"{what}: tensor {i} (shape {root.shape}) does not require "
                               f"grad and has no graph")
    seeds = _seeds(roots, grad_tensors, what, 0)
    on_tensors = any(t._fw is not None for t in (*roots, *seeds))
    retain = create_graph if retain_graph is None else retain_graph
    targets = None if inputs is None else backward_inputs(_tensors(inputs, "inputs"), what)
    accumulate_into(targets, grad_of(roots, targets, seeds, retain, create_graph,
                                     on_tensors=on_tensors), create_graph)


