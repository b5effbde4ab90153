"""Products and linear algebra: matmul (batched, broadcast), einsum, solve, inv, cholesky.

``dot``, ``inner`` and ``outer`` are composites of these.
"""

from __future__ import annotations

import string
from collections import Counter
from typing import Any

from .. import backend
from ..tensor import Tensor, Variadic, _new, apply, as_tensor
from .base import defprim, ops_for, pad_tangent, tensor_ops
from .shape import matrix_transpose, reshape, squeeze, unsqueeze

# ----------------------------------------------------------------------- matmul


# The reverse rules use only operators, ``.mT`` and indexing, so they run on Tensors and
# on raw arrays alike (poly), and accept leading batch axes on ``g`` (jacrev).
def _matmul_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if b.ndim == 1:
        return g[..., None] * b
    if a.ndim == 1:
        return g @ b.mT if b.ndim == 2 else (g[..., None, :] @ b.mT)[..., 0, :]
    return ops_for(g).matmul(g, b.mT)  # an outer product when b has one column


def _matmul_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if a.ndim == 1:
        return g[..., None] * a if b.ndim == 1 else a[:, None] * g[..., None, :]
    if b.ndim == 1:
        return g @ a if a.ndim == 2 else (a.mT @ g[..., None])[..., 0]
    return a.mT @ g


# The tangents may carry leading batch axes (jacfwd): ``pad_tangent`` keeps them in front of
# the other operand's batch axes; a vector operand becomes a one-row (or one-column) matrix
# only where the other operand has batch axes of its own.
def _matmul_jvp(tangents: tuple, ans: Any, a: Tensor, b: Tensor) -> Tensor:
    ta, tb = tangents
    out = None
    if ta is not None:
        if a.ndim > 1:
            out = pad_tangent(ta, a, b.ndim) @ b
        elif b.ndim > 2:
            out = (pad_tangent(ta, a, b.ndim - 1)[..., None, :] @ b)[..., 0, :]
        else:
            out = ta @ b if b.ndim == 2 else (ta * b).sum(-1)
    if tb is not None:
        if b.ndim > 1:
            term = a @ pad_tangent(tb, b, a.ndim)
        elif a.ndim > 2:
            term = (a @ pad_tangent(tb, b, a.ndim - 1)[..., None])[..., 0]
        else:
            term = tb @ a.mT if a.ndim == 2 else (a * tb).sum(-1)
        out = term if out is None else out + term
    return out


matmul_ = defprim("matmul", backend.matmul, (_matmul_vjp_a, _matmul_vjp_b), _matmul_jvp, poly=True)
matmul_.crossed = (0, 1)  # each rule reads the other operand's values (and ndim)


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy semantics: batched, batch axes broadcast.

    ``(n, a, b) @ (n, b, c) -> (n, a, c)``; a 1-D operand is a vector.

    Examples
    --------
    >>> import wonderland as wl
    >>> (wl.ones(4, 5, 2) @ wl.ones(4, 2, 3)).shape
    (4, 5, 3)
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least one dimension, got shapes "
                         f"{a.shape} and {b.shape}")
    inner_a = a.shape[-1]
    inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if inner_a != inner_b:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned "
                         f"({inner_a} != {inner_b})")
    try:
        return apply(matmul_, a, b)
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of shapes {a.shape} and {b.shape} cannot "
                         f"be broadcast together") from None


tensor_ops.matmul = matmul


def dot(a: Any, b: Any) -> Tensor:
    """Dot product of two 1-D tensors (PyTorch's ``dot``; NumPy's for higher ranks via matmul).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.dot(wl.tensor([1.0, 2.0]), wl.tensor([3.0, 4.0])).item()
    11.0
    """
    a, b = as_tensor(a), as_tensor(b)
    return a * b if a.ndim == 0 or b.ndim == 0 else matmul(a, b)


def inner(a: Any, b: Any) -> Tensor:
    """Sum of products over the last axes of ``a`` and ``b``.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.inner(wl.tensor([1.0, 2.0]), wl.tensor([3.0, 4.0])).item()
    11.0
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim and b.ndim and a.shape[-1] != b.shape[-1]:
        raise ValueError(f"inner: last dimensions differ: shapes {a.shape} and {b.shape}")
    if a.ndim == 0 or b.ndim <= 1:  # a scaling, or products with one vector
        return dot(a, b)
    rows = reshape(b, (-1, b.shape[-1]))  # out shape: a.shape[:-1] + b.shape[:-1]
    return reshape(matmul(a, matrix_transpose(rows)), a.shape[:-1] + b.shape[:-1])


def outer(a: Any, b: Any) -> Tensor:
    """Outer product of two vectors (inputs are flattened).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.outer(wl.tensor([1.0, 2.0]), wl.tensor([1.0, 1.0, 1.0])).shape
    (2, 3)
    """
    a, b = as_tensor(a), as_tensor(b)
    return unsqueeze(reshape(a, (-1,)), -1) * reshape(b, (-1,))


# ----------------------------------------------------------------------- einsum

_LETTERS = string.ascii_letters


def _parse_einsum(subscripts: str, shapes: list) -> tuple[list[str], str]:
    """Explicit subscripts without ellipsis: ``(inputs, output)``."""
    subscripts = subscripts.replace(" ", "")
    lhs, out = subscripts.split("->") if "->" in subscripts else (subscripts, None)
    inputs = lhs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(f"einsum: {len(inputs)} operands in {subscripts!r} but "
                         f"{len(shapes)} given")
    # how many axes each operand's ellipsis stands for
    ks = [len(shape) - (len(spec) - 3) if "..." in spec else 0
          for spec, shape in zip(inputs, shapes)]
    ell_ndim = max([0, *ks])
    ell = _unused_letters(ell_ndim, subscripts)
    expanded = []
    for spec, shape, k in zip(inputs, shapes, ks):
        spec = spec.replace("...", ell[ell_ndim - k:] if k else "")
        if len(spec) != len(shape):
            raise ValueError(f"einsum: operand with subscripts {spec!r} has shape {shape}")
        expanded.append(spec)
    if out is None:  # implicit: the ellipsis, then the subscripts used once, sorted
        counts = Counter("".join(expanded))
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return expanded, out.replace("...", ell)


def _einsum_forward(xp: Any, *operands: Any, inputs: tuple, output: str) -> Any:
    return backend.einsum(xp, ",".join(inputs) + "->" + output, *operands)


def _unused_letters(n: int, taken: str) -> str:
    return "".join([c for c in _LETTERS if c not in taken][:n])


def _einsum_vjp(i: int, g: Tensor, ans: Any, operands: Any, inputs: tuple, output: str) -> Tensor:
    target = inputs[i]
    taken = "".join(inputs) + output
    batch = _unused_letters(g.ndim - len(output), taken)
    others = [spec for j, spec in enumerate(inputs) if j != i]
    present = set(output).union(*others)
    unique = "".join(dict.fromkeys(target))
    kept = "".join(c for c in unique if c in present)
    small = apply(einsum_, g, *[op for j, op in enumerate(operands) if j != i],
                  inputs=(batch + output, *others), output=batch + kept)
    if kept == target:
        return _spread(small, operands[i].shape)
    # Rebuild the operand's layout: a repeated subscript (a diagonal) becomes a fresh
    # letter tied to the first by an identity matrix; a subscript summed in this operand
    # alone is broadcast back by a vector of ones.
    sizes = dict(zip(target, operands[i].shape))
    fresh = iter(c for c in _LETTERS if c not in taken + batch)
    xp, dtype = g._xp, g._data.dtype
    renamed, specs, ops = "", [batch + kept], [small]
    for c in target:
        n = next(fresh) if c in renamed else c
        if n != c:
            specs.append(c + n)
            ops.append(_new(xp.eye(sizes[c], dtype=dtype), xp))
        renamed += n
    covered = set().union(*specs)
    for c in unique:
        if c not in covered:
            specs.append(c)
            ops.append(_new(xp.ones((sizes[c],), dtype=dtype), xp))
    return _spread(apply(einsum_, *ops, inputs=tuple(specs), output=batch + renamed),
                   operands[i].shape)


def _spread(g: Tensor, shape: tuple) -> Tensor:
    """An operand's cotangent ``g`` (batch axes, then the operand's) where a subscript of
    size one in some operands stood against a longer one in others (broadcast, as NumPy's
    einsum allows): summed where the operand has size one, spread where ``g`` has."""
    lead = g.ndim - len(shape)
    ones = tuple(lead + k for k, (n, s) in enumerate(zip(g.shape[lead:], shape))
                 if s == 1 and n != 1)
    if ones:
        g = g.sum(axis=ones, keepdims=True)
    return g if g.shape[lead:] == tuple(shape) else g.broadcast_to(g.shape[:lead] + tuple(shape))


def _einsum_jvp(tangents: tuple, ans: Any, *operands: Any, inputs: tuple, output: str) -> Tensor:
    def term(i: int, t: Tensor) -> Tensor:  # the product with operand i's tangent in its place
        batch = _unused_letters(t.ndim - operands[i].ndim, "".join(inputs) + output)
        specs = tuple(batch + s if j == i else s for j, s in enumerate(inputs))
        args = [t if j == i else op for j, op in enumerate(operands)]
        return apply(einsum_, *args, inputs=specs, output=batch + output)

    terms = [term(i, t) for i, t in enumerate(tangents) if t is not None]
    return sum(terms[1:], terms[0])  # (the engine calls it with at least one tangent)


einsum_ = defprim("einsum", _einsum_forward, Variadic(_einsum_vjp), _einsum_jvp)


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation, differentiable in every operand (ellipsis supported).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.einsum("ij,jk->ik", wl.ones(2, 3), wl.ones(3, 4)).shape
    (2, 4)
    """
    tensors = [as_tensor(o) for o in operands]
    inputs, output = _parse_einsum(subscripts, [t.shape for t in tensors])
    sizes: dict[str, int] = {}
    for spec, t in zip(inputs, tensors):
        for c, n in zip(spec, t.shape):
            if sizes.setdefault(c, n) != n and n != 1 and sizes[c] != 1:
                raise ValueError(f"einsum: subscript {c!r} has sizes {sizes[c]} and {n} "
                                 f"(operand shapes {[t.shape for t in tensors]})")
    return apply(einsum_, *tensors, inputs=tuple(inputs), output=output)


# ----------------------------------------------------------------------- solve, inv, cholesky


def _square_floats(name: str, *values: Any) -> list[Tensor]:
    """``values`` as floating-point tensors, the first of them square matrices (..., n, n)."""
    tensors = [as_tensor(v) for v in values]
    for t in tensors:
        if not backend.is_floating(t._data.dtype, t._xp) or \
                backend.dtype_name(t._data.dtype) == "float16":
            raise TypeError(f"{name} needs floating-point tensors of float32 or wider (LAPACK's), "
                            f"got dtype {backend.dtype_name(t._data.dtype)}: astype first")
    a = tensors[0]
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name}: expected square matrices (..., n, n), got shape {a.shape}")
    return tensors


def _solve_forward(xp: Any, a: Any, b: Any, vector: bool) -> Any:
    return xp.linalg.solve(a, b[..., None])[..., 0] if vector else xp.linalg.solve(a, b)


def _solve_b_vjp(g: Tensor, ans: Tensor, a: Tensor, b: Tensor, vector: bool) -> Tensor:
    return solve_(matrix_transpose(a), g, vector)


def _solve_a_vjp(g: Tensor, ans: Tensor, a: Tensor, b: Tensor, vector: bool) -> Tensor:
    gb = solve_(matrix_transpose(a), g, vector)
    return -(unsqueeze(gb, -1) * unsqueeze(ans, -2) if vector else gb @ matrix_transpose(ans))


def _solve_jvp(tangents: tuple, ans: Tensor, a: Tensor, b: Tensor, vector: bool) -> Tensor:
    ta, rhs = tangents  # (their batch axes kept in front of the batch of ``ans``)
    rhs = None if rhs is None else pad_tangent(rhs, b, ans.ndim)
    if ta is not None:
        ta = pad_tangent(ta, a, ans.ndim + 1 if vector else ans.ndim)
        ax = squeeze(ta @ unsqueeze(ans, -1), -1) if vector else ta @ ans
        rhs = -ax if rhs is None else rhs - ax
    return solve_(a, rhs, vector)


solve_prim = defprim("solve", _solve_forward, (_solve_a_vjp, _solve_b_vjp), _solve_jvp,
                     uses_ans=True, reads=(0,))


def solve_(a: Tensor, b: Tensor, vector: bool) -> Tensor:
    return apply(solve_prim, a, b, vector=vector)


def solve(a: Any, b: Any) -> Tensor:
    """Solve ``a x = b`` for ``x``; ``a`` is ``(..., n, n)``, ``b`` is ``(n,)`` or ``(..., n, k)``.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.linalg.solve(wl.eye(2) * 2.0, wl.tensor([2.0, 4.0])).tolist()
    [1.0, 2.0]
    """
    a, b = _square_floats("solve", a, b)
    vector = b.ndim == 1
    rows = b.shape[0] if vector else (b.shape[-2] if b.ndim >= 2 else None)
    if rows != a.shape[-1]:
        raise ValueError(f"solve: a of shape {a.shape} and b of shape {b.shape} do not match")
    try:
        return solve_(a, b, vector)
    except ValueError as exc:
        raise ValueError(f"solve: cannot solve with a of shape {a.shape} and b of shape "
                         f"{b.shape}: {exc}") from None


inv_prim = defprim(
    "inv", lambda xp, a: xp.linalg.inv(a),
    (lambda g, ans, a: -(matrix_transpose(ans) @ g @ matrix_transpose(ans)),),
    lambda tangents, ans, a: -(ans @ tangents[0] @ ans),
    uses_ans=True, reads=())


def inv(a: Any) -> Tensor:
    """The inverse of square matrices ``(..., n, n)``.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.linalg.inv(wl.eye(2) * 2.0).tolist()
    [[0.5, 0.0], [0.0, 0.5]]
    """
    (a,) = _square_floats("inv", a)
    return apply(inv_prim, a)


def _phi(x: Tensor) -> Tensor:
    """The lower triangle of ``x`` with its diagonal halved."""
    n, xp, dtype = x.shape[-1], x._xp, x._data.dtype
    mask = xp.tril(xp.ones((n, n), dtype=dtype)) - 0.5 * xp.eye(n, dtype=dtype)
    return x * _new(mask, xp)


def _cholesky_vjp(g: Tensor, ans: Tensor, a: Tensor) -> Tensor:
    l_inv = inv(ans)
    grad = matrix_transpose(l_inv) @ _phi(matrix_transpose(ans) @ g) @ l_inv
    return 0.5 * (grad + matrix_transpose(grad))


def _cholesky_jvp(tangents: tuple, ans: Tensor, a: Tensor) -> Tensor:
    l_inv = inv(ans)
    return ans @ _phi(l_inv @ tangents[0] @ matrix_transpose(l_inv))


cholesky_prim = defprim("cholesky", lambda xp, a: xp.linalg.cholesky(a), (_cholesky_vjp,),
                        _cholesky_jvp, uses_ans=True, reads=())


def cholesky(a: Any) -> Tensor:
    """The lower Cholesky factor ``L`` of symmetric positive-definite ``a = L Lᵀ``.

    The gradient is symmetrized, as PyTorch's.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.linalg.cholesky(wl.eye(2) * 4.0).tolist()
    [[2.0, 0.0], [0.0, 2.0]]
    """
    (a,) = _square_floats("cholesky", a)
    try:
        return apply(cholesky_prim, a)
    except Exception as exc:  # noqa: BLE001 - name the cause in the user's terms
        if "positive" in str(exc).lower() or "definite" in str(exc).lower():
            raise ValueError(f"cholesky: the matrix of shape {a.shape} is not positive "
                             f"definite") from None
        raise


__all__ = ["matmul", "dot", "inner", "outer", "einsum", "solve", "inv", "cholesky"]
