"""Forward mode: tangents carried by tensors, one per level, pushed through each primitive
by its forward rule (JVP) as the primitive runs.

A tensor's ``_fw`` maps a level to its tangent there. Each ``jvp``/``jacfwd`` call opens
a new level (numbers only grow, never reused). When a primitive runs on arguments with
tangents, the tangent at level ``L`` is computed from the arguments *seen below L*
(their tangents at levels < L kept, the rest dropped): a tangent at ``L`` only ever
carries lower levels, which is what keeps nested transforms free of perturbation
confusion. Tangents may have leading batch axes (``batch`` of the level), so ``jacfwd``
pushes a whole basis in one pass.
"""

from __future__ import annotations

import itertools
from typing import Any

from ..primitives.elementwise import alias, astype
from ..primitives.shape import broadcast_to, reshape
from ..tensor import SEEN, Primitive, Tensor, _new, install_forward_hook

_level_numbers = itertools.count(1)
_batch_ndim: dict[int, int] = {}  # open levels -> number of leading batch axes


def new_level(batch_ndim: int = 0) -> int:
    """Open a forward-mode level whose tangents have ``batch_ndim`` leading batch axes."""
    level = next(_level_numbers)
    _batch_ndim[level] = batch_ndim
    return level


def close_level(level: int) -> None:
    _batch_ndim.pop(level, None)


def below(x: Any, level: int) -> Any:
    """``x`` as seen below ``level``: same value and reverse-mode history, tangents at
    levels < ``level`` only."""
    if not isinstance(x, Tensor) or x._fw is None or all(k < level for k in x._fw):
        return x
    twin = alias(x)
    twin._fw = {k: t for k, t in x._fw.items() if SEEN < k < level} or None
    return twin


def with_tangent(x: Tensor, level: int, tangent: Tensor) -> Tensor:
    """A tensor equal to ``x`` (reverse history kept) that carries ``tangent`` at ``level``."""
    out = below(x, level)
    if out is x:
        out = alias(x)
    out._fw = {**(out._fw or {}), level: tangent}
    return out


def tangent_at(x: Any, level: int) -> Tensor | None:
    """The tangent of ``x`` at ``level`` (None when it has none: a zero tangent); a view's
    tangents are as old as the view, refused once a write into its storage followed."""
    if not isinstance(x, Tensor) or x._fw is None:
        return None
    if SEEN in x._fw and x._fw[SEEN] != x._vc[0]:
        raise RuntimeError(f"a view of shape {x.shape} is used after an in-place write through "
                           f"the tensor it views; its tangent misses it: take the view again")
    return x._fw.get(level)


def _fit_tangent(t: Any, out: Tensor, nb: int, prim: Primitive) -> Tensor:
    """The computed tangent, shaped ``batch + out.shape`` and of ``out``'s dtype."""
    target = out.shape
    if t.shape[nb:] != target or t.ndim - nb != len(target):
        batch, core = t.shape[:nb], t.shape[nb:]
        try:  # a smaller tangent: axes it lacks go after the batch axes, then broadcast
            t = reshape(t, batch + (1,) * (len(target) - len(core)) + core)
            t = broadcast_to(t, batch + target)
        except ValueError:
            raise RuntimeError(f"the forward rule of {prim.name} returned a tangent of shape "
                               f"{t.shape} for an output of shape {target}") from None
    if t._data.dtype != out._data.dtype:
        t = astype(t, out._data.dtype)
    return t


def _push(prim: Primitive, out: Tensor, args: tuple, params: dict) -> None:
    """The forward hook: give ``out`` its tangent at every level its arguments carry."""
    if prim.jvp is None:  # no derivative (a comparison): the output is a constant
        return
    # closed levels are stale: their tangents may linger on tensors a transform made
    levels = sorted({level for a in args if isinstance(a, Tensor) and a._fw
                     for level in a._fw if level in _batch_ndim})
    fw: dict[int, Tensor] = {}
    for level in levels:
        tangents = tuple(tangent_at(a, level) for a in args)  # (not all None: levels are theirs)
        nb = _batch_ndim.get(level, 0)
        low = tuple(below(a, level) for a in args)
        ans = None
        if prim.uses_ans:
            ans = _new(out._data, out._xp)
            ans._node, ans._rg, ans._vc = out._node, out._rg, out._vc
            ans._fw = dict(fw) or None
        fw[level] = _fit_tangent(prim.jvp(tangents, ans, *low, **params), out, nb, prim)
    if fw and out._base is not None:
        fw[SEEN] = out._vc[0]
    out._fw = fw or None
    if prim.uses_ans and out._node is not None and out._node.prim is prim:
        out._node.ans_fw = out._fw  # the reverse rule's ``ans`` must carry them too


install_forward_hook(_push)
