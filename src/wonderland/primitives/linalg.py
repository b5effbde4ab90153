"""Products and linear algebra: matmul (batched, broadcast), einsum, solve, inv, cholesky.

``dot``, ``inner`` and ``outer`` are composites of these.
"""

from __future__ import annotations

import string
from typing import Any

from .. import backend
from ..tensor import Tensor, _new, apply, as_tensor
from .base import Variadic, defprim
from .shape import matrix_transpose, reshape, squeeze, unsqueeze

# ----------------------------------------------------------------------- matmul


# The reverse rules use only operators, ``.mT`` and indexing, so they run on Tensors and
# on raw arrays alike (poly), and accept leading batch axes on ``g`` (jacrev).
def _matmul_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if b.ndim == 1:
        return g[..., None] * b
    if a.ndim == 1:
        return g @ b.mT if b.ndim == 2 else (g[..., None, :] @ b.mT)[..., 0, :]
    return g @ b.mT


def _matmul_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if a.ndim == 1:
        return g[..., None] * a if b.ndim == 1 else a[:, None] * g[..., None, :]
    if b.ndim == 1:
        return g @ a if a.ndim == 2 else (a.mT @ g[..., None])[..., 0]
    return a.mT @ g


def _pad(t: Tensor, core: tuple, ndim: int) -> Tensor:
    """Tangent ``t`` (batch axes, then ``core``) with length-one axes inserted after its batch
    axes, up to ``ndim`` axes of its own: batch axes stay in front when broadcasting."""
    extra = ndim - len(core)
    if extra <= 0:
        return t
    nb = t.ndim - len(core)
    return reshape(t, t.shape[:nb] + (1,) * extra + tuple(core))


def _matmul_jvp(tangents: tuple, ans: Any, a: Tensor, b: Tensor) -> Tensor:
    ta, tb = tangents
    out = None
    if ta is not None:
        if a.ndim == 1:
            if b.ndim == 1:
                out = (ta * b).sum(-1)
            elif b.ndim == 2:
                out = ta @ b
            else:
                out = (_pad(ta[..., None, :], (1,) + a.shape, b.ndim) @ b)[..., 0, :]
        else:
            out = (ta if b.ndim <= 2 else _pad(ta, a.shape, b.ndim)) @ b
    if tb is not None:
        if b.ndim == 1:
            if a.ndim == 1:
                term = (a * tb).sum(-1)
            elif a.ndim == 2:
                term = tb @ a.mT
            else:
                term = (a @ _pad(tb[..., None], b.shape + (1,), a.ndim))[..., 0]
        else:
            term = a @ _pad(tb, b.shape, a.ndim)
        out = term if out is None else out + term
    return out


def _matmul_forward(xp: Any, a: Any, b: Any) -> Any:
    return xp.matmul(a, b)


matmul_ = defprim("matmul", _matmul_forward, (_matmul_vjp_a, _matmul_vjp_b), _matmul_jvp,
                  poly=True)


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


def dot(a: Any, b: Any) -> Tensor:
    """Dot product of two 1-D tensors (PyTorch's ``dot``; NumPy's for higher ranks via matmul).

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.dot(wl.tensor([1.0, 2.0]), wl.tensor([3.0, 4.0])).item()
    11.0
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return matmul(a, b)


def inner(a: Any, b: Any) -> Tensor:
    """Sum of products over the last axes of ``a`` and ``b``.

    Examples
    --------
    >>> import wonderland as wl
    >>> wl.inner(wl.tensor([1.0, 2.0]), wl.tensor([3.0, 4.0])).item()
    11.0
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"inner: last dimensions differ: shapes {a.shape} and {b.shape}")
    if b.ndim == 1:
        return matmul(a, b)
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
    if "->" in subscripts:
        lhs, out = subscripts.split("->")
    else:
        lhs, out = subscripts, None
    inputs = lhs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(f"einsum: {len(inputs)} operands in {subscripts!r} but "
                         f"{len(shapes)} given")
    used = set(subscripts) - set(",->.")
    free = [c for c in _LETTERS if c not in used]
    ell_ndim = 0
    for spec, shape in zip(inputs, shapes):
        if "..." in spec:
            ell_ndim = max(ell_ndim, len(shape) - (len(spec) - 3))
    ell = "".join(free[:ell_ndim])
    expanded = []
    for spec, shape in zip(inputs, shapes):
        if "..." in spec:
            k = len(shape) - (len(spec) - 3)
            spec = spec.replace("...", ell[ell_ndim - k:] if k else "")
        if len(spec) != len(shape):
            raise ValueError(f"einsum: operand with subscripts {spec!r} has shape {shape}")
        expanded.append(spec)
    if out is None:
        counts: dict[str, int] = {}
        for spec in expanded:
            for c in spec:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return expanded, out


def _einsum_forward(xp: Any, *operands: Any, inputs: tuple, output: str) -> Any:
    return backend.einsum(xp, ",".join(inputs) + "->" + output, *operands)


def _batch_letters(n: int, taken: str) -> str:
    return "".join([c for c in _LETTERS if c not in taken][:n])


def _einsum_vjp(i: int, g: Tensor, ans: Any, *operands: Any, inputs: tuple,
                output: str) -> Tensor:
    target = inputs[i]
    nb = g.ndim - len(output)
    taken = "".join(inputs) + output
    batch = _batch_letters(nb, taken)
    others = [spec for j, spec in enumerate(inputs) if j != i]
    present = set(output).union(*others) if others else set(output)
    unique = "".join(dict.fromkeys(target))
    kept = "".join(c for c in unique if c in present)
    specs = (batch + output,) + tuple(others)
    small = apply(einsum_, g, *[op for j, op in enumerate(operands) if j != i],
                  inputs=specs, output=batch + kept)
    if kept == target:
        return small
    # Rebuild the operand's layout: a repeated subscript (a diagonal) becomes a fresh
    # letter tied to the first by an identity matrix; a subscript summed in this operand
    # alone is broadcast back by a vector of ones.
    sizes = dict(zip(target, operands[i].shape))
    fresh = iter(c for c in _LETTERS if c not in taken + batch)
    xp, dtype = g._xp, g._data.dtype
    renamed, extra_specs, extra_ops, seen = "", [], [], set()
    for c in target:
        if c in seen:
            n = next(fresh)
            renamed += n
            extra_specs.append(c + n)
            extra_ops.append(_new(xp.eye(sizes[c], dtype=dtype), xp))
        else:
            seen.add(c)
            renamed += c
    covered = set(kept).union(*extra_specs) if extra_specs else set(kept)
    for c in unique:
        if c not in covered:
            extra_specs.append(c)
            extra_ops.append(_new(xp.ones((sizes[c],), dtype=dtype), xp))
    return apply(einsum_, small, *extra_ops, inputs=(batch + kept, *extra_specs),
                 output=batch + renamed)


def _einsum_jvp(tangents: tuple, ans: Any, *operands: Any, inputs: tuple, output: str) -> Tensor:
    total = None
    for i, t in enumerate(tangents):
        if t is None:
            continue
        nb = t.ndim - operands[i].ndim
        batch = _batch_letters(nb, "".join(inputs) + output)
        specs = tuple(batch + s if j == i else s for j, s in enumerate(inputs))
        args = [t if j == i else op for j, op in enumerate(operands)]
        term = apply(einsum_, *args, inputs=specs, output=batch + output)
        total = term if total is None else total + term
    return total


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


def _need_float(name: str, *tensors: Tensor) -> None:
    for t in tensors:
        if not backend.is_floating(t._data.dtype, t._xp):
            raise TypeError(f"{name} needs floating-point tensors, got dtype "
                            f"{backend.dtype_name(t._data.dtype)}")


def _need_square(name: str, a: Tensor) -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name}: expected square matrices (..., n, n), got shape {a.shape}")


def _as_column(b: Tensor) -> Tensor:
    return unsqueeze(b, -1)


def _solve_forward(xp: Any, a: Any, b: Any, vector: bool) -> Any:
    if vector:
        return xp.linalg.solve(a, b[..., None])[..., 0]
    return xp.linalg.solve(a, b)


def _solve_b_vjp(g: Tensor, ans: Tensor, a: Tensor, b: Tensor, vector: bool) -> Tensor:
    return solve_(matrix_transpose(a), g, vector)


def _solve_a_vjp(g: Tensor, ans: Tensor, a: Tensor, b: Tensor, vector: bool) -> Tensor:
    gb = solve_(matrix_transpose(a), g, vector)
    if vector:
        return -(unsqueeze(gb, -1) * unsqueeze(ans, -2))
    return -(gb @ matrix_transpose(ans))


def _solve_jvp(tangents: tuple, ans: Tensor, a: Tensor, b: Tensor, vector: bool) -> Tensor:
    ta, tb = tangents
    rhs = tb
    if ta is not None:
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
    a, b = as_tensor(a), as_tensor(b)
    _need_float("solve", a, b)
    _need_square("solve", a)
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
    a = as_tensor(a)
    _need_float("inv", a)
    _need_square("inv", a)
    return apply(inv_prim, a)


def _phi(x: Tensor) -> Tensor:
    """The lower triangle of ``x`` with its diagonal halved."""
    n = x.shape[-1]
    xp = x._xp
    mask = xp.tril(xp.ones((n, n), dtype=x._data.dtype)) - 0.5 * xp.eye(n, dtype=x._data.dtype)
    return x * _new(mask, xp)


def _cholesky_vjp(g: Tensor, ans: Tensor, a: Tensor) -> Tensor:
    l_inv = inv(ans)
    inner_ = _phi(matrix_transpose(ans) @ g)
    grad = matrix_transpose(l_inv) @ inner_ @ l_inv
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
    a = as_tensor(a)
    _need_float("cholesky", a)
    _need_square("cholesky", a)
    try:
        return apply(cholesky_prim, a)
    except Exception as exc:  # noqa: BLE001 - name the cause in the user's terms
        if "positive" in str(exc).lower() or "definite" in str(exc).lower():
            raise ValueError(f"cholesky: the matrix of shape {a.shape} is not positive "
                             f"definite") from None
        raise


__all__ = ["matmul", "dot", "inner", "outer", "einsum", "solve", "inv", "cholesky"]
