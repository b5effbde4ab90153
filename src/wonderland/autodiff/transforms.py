"""The functional transforms of the text: gradients, directional derivatives, Jacobians
and Hessians, as functions of functions (JAX's style). The first-order Taylor model built
on them is ``wonderland.taylor``.

Reverse mode runs on the tape (``grad_of``); forward mode opens a level (``forward``).
Both nest: an inner transform sees the outer one's tensors as ordinary inputs that
happen to be traced, so ``grad(grad(f))`` and ``jacfwd(jacrev(f))`` just work.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from ..primitives.elementwise import clone_
from ..primitives.shape import permute, reshape
from ..tensor import Tensor, _new, _sequence, _thread_mode, enable_grad, make_node
from ..transform_inputs import (
    argnum_positions,
    argnums_spec,
    as_input,
    check_output,
    require_callable,
    short,
    split_aux,
)
from . import forward
from .reverse import _hand_over, _unit, grad_of

# ----------------------------------------------------------------------- transforming


class Transformed:
    """``f`` transformed by ``call(f, args, positions, what, one_argnum)``, as ``public``
    (the transform called) makes it, bearing ``f``'s name and docstring. ``f`` and
    ``argnums`` are checked now, the range of ``argnums`` at each call. Keyword arguments
    reach ``f`` as they are, not differentiated (as JAX's). It pickles as ``public``
    applied to ``f`` again (``f`` by reference), so it reaches a child process, where a
    function would be looked up by ``f``'s name and refused."""

    def __init__(self, f: Callable, argnums: Any, has_aux: bool, name: str, call: Callable,
                 public: Callable) -> None:
        what = require_callable(f, name, has_aux)
        functools.update_wrapper(self, f)  # (first: a transformed f has these fields)
        self._tr_what, self._tr_spec, self._tr_call = what, argnums_spec(argnums, what), call
        self._tr_remake = functools.partial(public, f, argnums, has_aux=has_aux, _name=name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        f, spec, what = self.__wrapped__, self._tr_spec, self._tr_what
        return self._tr_call(functools.partial(f, **kwargs) if kwargs else f, args,
                             argnum_positions(spec, len(args), what), what,
                             isinstance(spec, int))

    # in a class body, a method (as JAX's plain functions are): the instance comes first
    __get__ = lambda self, obj, owner=None: self if obj is None else functools.partial(self, obj)  # noqa: E731

    def __reduce__(self) -> tuple:
        return self._tr_remake, ()

    def __repr__(self) -> str:
        return f"<{self._tr_what}>"


def _reverse_input(x: Tensor, start: int) -> Tensor:
    """A fresh tensor to differentiate with respect to: a leaf, or, when ``x`` is itself
    traced by an outer transform, an identity node over it (the outer graph stays). Its
    version counter says it was made at ``start``: an outer transform's ``_captures``
    then knows it for an input of an inner transform, not a tensor ``f`` closes over."""
    t = _new(x._data, x._xp)
    if x._rg:
        t._node = make_node(clone_, (x,), {})  # an identity node, even over a leaf
    t._rg, t._fw, t._vc = True, x._fw, [0, start]
    return t


def _traced(*tensors: Any) -> bool:
    """Whether an outer transform traces any of these (so results must stay differentiable)."""
    return any(isinstance(t, Tensor) and (t._rg or t._fw is not None) for t in tensors)


def _plain(aux: Any, cut: Callable | None = None) -> Any:
    """``aux`` with its tensors (alone, or in a tuple, list or dict) cut from the graph of
    this transform, as JAX returns it: no graph held alive, what an outer transform traces
    kept (tangents; a forward transform's ``cut`` keeps the reverse graph too)."""
    if type(aux) in (tuple, list):
        return type(aux)(_plain(a, cut) for a in aux)
    if type(aux) is dict:
        return {k: _plain(v, cut) for k, v in aux.items()}
    return (cut or _detach)(aux) if isinstance(aux, Tensor) else aux


def _detach(t: Tensor) -> Tensor:
    """``t`` cut from the reverse graph; the tangents of outer forward transforms kept (cut
    likewise: what the pass had recorded, they had too), and a compiler's mark (level 0)."""
    out = _new(t._data, t._xp)
    out._fw = t._fw and {k: _detach(v) if type(v) is Tensor else v for k, v in t._fw.items()}
    return out


# ----------------------------------------------------------------------- reverse mode


def _reverse(f: Callable, args: tuple, nums: tuple[int, ...], what: str, has_aux: bool,
             many: bool = False):
    """Run ``f`` with fresh inputs at ``nums``: (inputs, output, aux, (recorded, nested,
    start)); the backward pass to the inputs visits no node made before ``start``.

    ``many`` accepts a tuple (or list) of outputs, returned as a tuple."""
    originals = [as_input(args[k], what, arg=f"argument {k}") for k in nums]
    start = next(_sequence)  # the inputs' nodes and those f makes come after it
    inputs = [_reverse_input(x, start) for x in originals]
    args = [inputs[nums.index(i)] if i in nums else a for i, a in enumerate(args)]
    # Inside an outer reverse transform, ``f`` may close over its traced values: the
    # backward pass must then be recorded for the outer one to differentiate it.
    inside_outer = _thread_mode.reverse_transforms > 0
    _thread_mode.reverse_transforms += 1
    try:
        with enable_grad():
            out, aux = split_aux(f(*args), has_aux, what)
    finally:
        _thread_mode.reverse_transforms -= 1
    many = many and isinstance(out, (tuple, list))
    outs = tuple(check_output(o, what) for o in (out if many else (out,)))
    # An outer reverse transform, or a tensor that requires grad and that f closes over,
    # needs the backward pass recorded; an outer forward one, its tangents carried through.
    recorded = inside_outer or any(x._rg for x in originals) or _captures(outs, inputs, start)
    nested = recorded or _traced(*originals) or any(o._fw is not None for o in outs)
    return inputs, (outs if many else outs[0]), aux, (recorded, nested, start)


def _captures(outs: tuple, inputs: list, start: int) -> bool:
    """Whether the outputs' graph reaches, beyond ``inputs``, a tensor that requires grad
    (one ``f`` closes over): the gradient then stays differentiable in it and the outer
    graph is kept, as with ``torch.func`` (a raw pass would cut and free it)."""
    todo, seen = [o._node for o in outs], set(map(id, inputs))
    while todo:
        e = todo.pop()  # an edge: a node, a leaf, or None
        if e is None or id(e) in seen:
            continue
        # a leaf not among the inputs (made before start: not an inner transform's), or an
        # older node
        if (e._vc or (0, -1))[1] < start if type(e) is Tensor else e.seq < start:
            return True
        seen.add(id(e))
        if type(e) is not Tensor:
            todo.extend((e.e0,) if e.n == 1 else (e.e0, e.e1) if e.n == 2 else e.erest)
    return False


def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, *,
                   _name: str = "value_and_grad") -> Callable:
    """``x -> (f(x), ∇f(x))``: the value and the gradient of a scalar function, in one pass.

    Parameters
    ----------
    f : callable
        Returns a scalar (a one-element tensor), or ``(scalar, aux)`` with ``has_aux``.
    argnums : int or tuple of int
        Which positional arguments to differentiate with respect to.
    has_aux : bool
        ``f`` returns ``(value, aux)``; the result is then ``((value, aux), grad)``.
    _name : str
        Internal: the transform the user called, for error messages.

    Examples
    --------
    >>> import wonderland as wl
    >>> value, g = wl.value_and_grad(lambda x: (x ** 2).sum())(wl.tensor([1.0, 2.0]))
    >>> value.item(), g.tolist()
    (5.0, [2.0, 4.0])
    """
    def call(f: Callable, args: tuple, nums: tuple, what: str, one_argnum: bool) -> Any:
        inputs, out, aux, (recorded, nested, start) = _reverse(f, args, nums, what, has_aux)
        if out.size != 1:
            raise ValueError(f"{what}: the function must return a scalar to take its gradient,"
                             f" got an output of shape {out.shape}; use wl.jacobian or wl.vjp "
                             f"for non-scalar outputs")
        grads = grad_of([out], inputs, [_new(_unit(out), out._xp)], retain_graph=recorded,
                        create_graph=recorded, on_tensors=nested, floor=start)
        grads = tuple(_zeros_if_none(g, x) for g, x in zip(grads, inputs))
        value, aux = (out, aux) if recorded else _plain((out, aux))
        return ((value, aux) if has_aux else value), (grads[0] if one_argnum else grads)

    return Transformed(f, argnums, has_aux, _name, call, value_and_grad)


def grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, *,
         _name: str = "grad") -> Callable:
    """``x -> ∇f(x)``: the gradient of a scalar function, with the shape of its argument.

    Transforms nest: ``wl.grad(wl.grad(f))`` is the second derivative.

    Examples
    --------
    >>> import wonderland as wl
    >>> df = wl.grad(lambda x: 2 * x**4 + x**3 - 3 * x**2)
    >>> df(2.0).item()
    64.0
    >>> wl.grad(wl.grad(lambda x: x ** 3))(2.0).item()
    12.0
    """
    value_grad = value_and_grad(f, argnums, has_aux, _name=_name)._tr_call

    def call(*request: Any) -> Any:
        value, g = value_grad(*request)
        return (g, value[1]) if has_aux else g

    return Transformed(f, argnums, has_aux, _name, call, grad)


def _zeros_if_none(g: Tensor | None, x: Tensor) -> Tensor:
    return g if g is not None else _new(x._xp.zeros_like(x._data), x._xp)


def vjp(f: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``(f(*primals), vjp_fn)``: ``vjp_fn(v)`` gives ``vᵀ J`` for each primal, as a tuple.

    ``vjp_fn`` may be called many times (the graph is kept). For a function returning a
    tuple, ``v`` is a tuple of cotangents, one per output (as JAX). With ``has_aux``,
    ``f`` returns ``(output, aux)`` and the result is ``(output, vjp_fn, aux)``.

    Examples
    --------
    >>> import wonderland as wl
    >>> out, pullback = wl.vjp(lambda x: x * 3.0, wl.tensor([1.0, 2.0]))
    >>> pullback(wl.tensor([1.0, 1.0]))[0].tolist()
    [3.0, 3.0]
    >>> out, pullback, aux = wl.vjp(lambda x: (x * 3.0, "aux"), 1.0, has_aux=True)
    >>> pullback(1.0)[0].item(), aux
    (3.0, 'aux')
    """
    what = require_callable(f, "vjp", has_aux)
    inputs, out, aux, (recorded, nested, start) = _reverse(
        f, primals, tuple(range(len(primals))), what, has_aux, many=True)
    outs = out if isinstance(out, tuple) else (out,)

    def vjp_fn(cotangent: Any) -> tuple[Tensor, ...]:
        vs = cotangent if isinstance(out, tuple) else (cotangent,)
        if not isinstance(vs, tuple | list) or len(vs) != len(outs):
            raise TypeError(f"{what}: the function returned a tuple of {len(outs)} outputs: "
                            f"give a tuple of as many cotangents, got {short(cotangent)}")
        vs = [as_input(v, what, o, f"cotangent {i}") for i, (v, o) in enumerate(zip(vs, outs))]
        grads = grad_of(list(outs), inputs, vs, retain_graph=True, create_graph=recorded or
                        any(v._rg for v in vs), on_tensors=nested or _traced(*vs), floor=start)
        return tuple(_zeros_if_none(g, x) for g, x in zip(grads, inputs))

    out, aux = (out, aux) if recorded else _plain((out, aux))
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def jacrev(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, *,
           _name: str = "jacrev") -> Callable:
    """The Jacobian by reverse mode: one backward pass of a whole identity basis.

    Shape ``out.shape + in.shape``. Best when outputs are fewer than inputs. For a tuple
    ``argnums`` the result is a tuple over the arguments; for a function returning a tuple,
    a tuple over its outputs (of tuples over arguments, as JAX). With ``has_aux``, ``f``
    returns ``(output, aux)`` and the result is ``(jacobian, aux)``.

    Examples
    --------
    >>> import wonderland as wl
    >>> W = wl.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> wl.jacrev(lambda x: W @ x)(wl.ones(2)).tolist()
    [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    """
    def call(f: Callable, args: tuple, nums: tuple, what: str, one_argnum: bool) -> Any:
        return _jacrev(_reverse(f, args, nums, what, has_aux, many=True), one_argnum, has_aux)

    return Transformed(f, argnums, has_aux, _name, call, jacrev)


def _jacrev(run: tuple, one_argnum: bool, has_aux: bool) -> Any:
    """The Jacobian blocks of a run of ``_reverse`` (with ``many``), and its aux."""
    inputs, out, aux, traced = run
    outs = out if isinstance(out, tuple) else (out,)
    per_output = [_jacobian_from_reverse(o, inputs, traced, last=i == len(outs) - 1)
                  for i, o in enumerate(outs)]
    jac = _arrange(per_output, isinstance(out, tuple), one_argnum)
    return (jac, aux if traced[0] else _plain(aux)) if has_aux else jac


def _arrange(per_output: list, many_outputs: bool, one_argnum: bool) -> Any:
    """JAX's layout: outputs outside, arguments inside; singletons unwrapped."""
    blocks = [jac[0] if one_argnum else jac for jac in per_output]
    return tuple(blocks) if many_outputs else blocks[0]


def _jacobian_from_reverse(out: Tensor, inputs: list[Tensor], traced: tuple,
                           last: bool = True) -> tuple:
    recorded, nested, start = traced
    size, xp = out.size, out._xp
    basis = xp.reshape(xp.eye(size, dtype=out._data.dtype), (size,) + out.shape)
    grads = grad_of([out], inputs, [_new(basis, xp)], retain_graph=recorded or not last,
                    create_graph=recorded, nb=1, on_tensors=nested, floor=start)
    result = []
    for g, x in zip(grads, inputs):
        if g is None:
            g = _new(xp.zeros((size,) + x.shape, dtype=x._data.dtype), xp)
        result.append(reshape(g, out.shape + x.shape))
    return tuple(result)


# ----------------------------------------------------------------------- forward mode


def jvp(f: Callable, primals: Sequence[Any], tangents: Sequence[Any],
        has_aux: bool = False) -> tuple:
    """``(f(*primals), J · tangents)`` by true forward mode: the directional derivative.

    One evaluation of ``f`` carries the tangents along (about the cost of one more). For a
    function returning a tuple, both are tuples (as JAX). With ``has_aux``, ``f`` returns
    ``(output, aux)`` and the result is ``(output, tangent, aux)``.

    Examples
    --------
    >>> import wonderland as wl
    >>> value, slope = wl.jvp(lambda x: x ** 2, (wl.tensor(3.0),), (wl.tensor(1.0),))
    >>> value.item(), slope.item()
    (9.0, 6.0)
    """
    what = require_callable(f, "jvp", has_aux)
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"{what}: primals and tangents must be tuples (one entry per argument)")
    if len(primals) != len(tangents):
        raise ValueError(f"{what}: {len(primals)} primals but {len(tangents)} tangents")
    xs = [as_input(p, what, arg=f"primal {i}") for i, p in enumerate(primals)]
    ts = [as_input(t, what, x, f"tangent {i}") for i, (x, t) in enumerate(zip(xs, tangents))]
    outs, slopes, aux, many = _push_forward(f, xs, ts, range(len(xs)), 0, what, has_aux)
    slopes = _hand_over(slopes, False)  # never the caller's tangent itself
    out, slope = (tuple(outs), tuple(slopes)) if many else (outs[0], slopes[0])
    return (out, slope, aux) if has_aux else (out, slope)


def _push_forward(f: Callable, args: Sequence, tangents: list, nums: Sequence[int],
                  batch_ndim: int, what: str, has_aux: bool) -> tuple[list, list, Any, bool]:
    """Run ``f`` with ``tangents`` on the arguments at ``nums`` in a new level: its primal
    outputs and their tangents (lists), its aux, and whether it returned a tuple."""
    level = forward.new_level(batch_ndim)
    try:
        args = [forward.with_tangent(as_input(a, what), level, tangents[nums.index(i)])
                if i in nums else a for i, a in enumerate(args)]
        result, aux = split_aux(f(*args), has_aux, what)
        many = isinstance(result, (tuple, list))
        outs = [check_output(o, what) for o in (result if many else (result,))]
        batch = tangents[0].shape[:batch_ndim] if tangents else ()
        # an output that does not depend on the inputs: a zero tangent
        slopes = [_new(o._xp.zeros(batch + o.shape, dtype=o._data.dtype), o._xp)
                  if (t := forward.tangent_at(o, level)) is None else t for o in outs]
        outs = [forward.below(o, level) for o in outs]
        # aux, as JAX's: this level's tangents cut, an outer transform's kept
        aux = _plain(aux, functools.partial(forward.below, level=level))
    finally:
        forward.close_level(level)
    return outs, slopes, aux, many


def jacfwd(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, *,
           _name: str = "jacfwd") -> Callable:
    """The Jacobian by forward mode: the identity basis pushed as one batch of tangents.

    Shape ``out.shape + in.shape``. Best when inputs are fewer than outputs. Tuples of
    arguments and of outputs, and ``has_aux``, are as in ``jacrev``.

    Examples
    --------
    >>> import wonderland as wl
    >>> W = wl.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> wl.jacfwd(lambda x: W @ x)(wl.ones(2)).tolist()
    [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    """
    def call(f: Callable, args: tuple, nums: tuple, what: str, one_argnum: bool) -> Any:
        blocks: list[Tensor] = []  # argument by argument, output by output
        # every argument differentiated is a float tensor in every pass, as in ``jacrev``
        args = tuple(as_input(a, what, arg=f"argument {i}") if i in nums else a
                     for i, a in enumerate(args))
        for k in nums:  # (argnums is never empty)
            many, aux = _forward_blocks(f, args, k, what, blocks, has_aux)
        blocks = _hand_over(blocks, False)
        n_out = len(blocks) // len(nums)
        jac = _arrange([tuple(blocks[i::n_out]) for i in range(n_out)], many, one_argnum)
        return (jac, aux) if has_aux else jac

    return Transformed(f, argnums, has_aux, _name, call, jacfwd)


def _forward_blocks(f: Callable, args: tuple, k: int, what: str, blocks: list,
                    has_aux: bool) -> tuple[bool, Any]:
    """Append the Jacobian of each output of ``f`` with respect to argument ``k``, by one
    forward pass of the identity basis; whether ``f`` returned a tuple, and its aux.
    (Nothing here outlives the call, so the blocks are handed over owning their arrays.)"""
    x = as_input(args[k], what)
    size, xp = x.size, x._xp
    basis = _new(xp.reshape(xp.eye(size, dtype=x._data.dtype), (size,) + x.shape), xp)
    outs, tangents, aux, many = _push_forward(f, args, [basis], [k], 1, what, has_aux)
    for out, tangent in zip(outs, tangents):
        # tangent: (size, *out.shape) -> out.shape + x.shape
        moved = permute(tangent, tuple(range(1, tangent.ndim)) + (0,))
        blocks.append(reshape(moved, out.shape + x.shape))
    return many, aux


def jacobian(f: Callable, argnums: int | Sequence[int] = 0, mode: str = "auto",
             has_aux: bool = False, *, _name: str = "jacobian") -> Callable:
    """The Jacobian, shape ``out.shape + in.shape`` (``(o, d)`` for vectors).

    ``mode`` is ``"rev"``, ``"fwd"`` or ``"auto"``: forward when the inputs are fewer
    than the outputs, else reverse. Tuples and ``has_aux`` are as in ``jacrev``.

    Examples
    --------
    >>> import wonderland as wl
    >>> W = wl.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> wl.jacobian(lambda x: W @ x)(wl.ones(2)).tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    """
    require_callable(f, _name, has_aux)
    if mode not in ("auto", "rev", "fwd"):
        raise ValueError(f"{_name}: mode must be 'auto', 'rev' or 'fwd', got {mode!r}")
    if mode != "auto":
        return (jacrev if mode == "rev" else jacfwd)(f, argnums, has_aux, _name=_name)

    def call(f: Callable, args: tuple, nums: tuple, what: str, one_argnum: bool) -> Any:
        run = _reverse(f, args, nums, what, has_aux, many=True)  # tuples as in jacrev
        outs = run[1] if isinstance(run[1], tuple) else (run[1],)
        if sum(x.size for x in run[0]) < sum(o.size for o in outs):  # fewer directions
            return jacfwd(f, argnums, has_aux, _name=_name)(*args)
        return _jacrev(run, one_argnum, has_aux)

    return Transformed(f, argnums, has_aux, _name, call, jacobian)


def hessian(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """The Hessian of a scalar function: shape ``in.shape + in.shape`` (forward over reverse).

    With ``has_aux``, ``f`` returns ``(value, aux)`` and the result is ``(hessian, aux)``.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.hessian(lambda x: (x ** 3).sum())(wl.tensor([1.0, 2.0])).tolist()
    [[6.0, 0.0], [0.0, 12.0]]
    """
    # grad with has_aux returns (gradient, aux): the pair jacfwd with has_aux expects
    return jacfwd(grad(f, argnums, has_aux, _name="hessian"), argnums, has_aux, _name="hessian")


__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacrev", "jacfwd", "jacobian", "hessian"]
