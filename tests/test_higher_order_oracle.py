"""Higher-order and forward-mode derivatives of every public differentiable op, against JAX.

Each entry of ``OPS`` is one wonderland function of one or more float64 arrays and its JAX
twin, with fixed random inputs (seeded by the entry's name; positive, symmetric positive
definite or away from kinks and ties where the op needs it). Its JAX reference -- the
value ``f(x)``, the Jacobian ``J`` (``jax.jacrev``) and the second derivative ``H``
(``jax.jacfwd(jax.jacrev)``), with ``argnums=(0, .., n-1)`` for an op of ``n > 1``
inputs -- is computed once, jitted, in float64. Then, for every op:

- first order: ``wl.jacfwd`` and ``wl.jacrev`` against ``J``; ``wl.jvp`` and ``wl.vjp``
  (value and ``J v``, ``u J``, the contractions done with NumPy on JAX's ``J``);
- second order: the nestings ``jacfwd(jacrev)``, ``jacrev(jacrev)``, ``jacfwd(jacfwd)``,
  ``jacrev(jacfwd)``, ``jacobian(jacobian)`` against ``H``; ``jvp`` of ``jvp`` and ``jvp``
  of ``vjp``'s pullback (``H[v, w]``, ``u H w``);
- for the scalar ``g = sum(f * R)`` (fixed random ``R``): ``wl.hessian`` and ``wl.grad``,
  ``jvp`` of ``grad`` (``H_g v``), ``grad`` of ``<grad g, S>`` and ``vjp`` of ``grad``
  (``S H_g``), and ``grad(grad(g))`` where every input is 0-d;
- ``has_aux=True`` on ``jacrev``/``jacfwd`` nested, ``hessian``, ``grad`` and ``jvp``;
- for ops of two inputs, single and reordered ``argnums`` and mixed nestings
  (``jacfwd(jacrev(f, 0), 1)``) against the blocks of ``H``;
- for ops of one input, ``wl.linearize`` (value, Jacobian, jvp, prediction) and its
  derivative in the expansion point (``H v``);
- third order for a few ops, and fourth order (over ``wl.hessian``) for fewer, against
  JAX's; a function of two arguments with a tuple of outputs; integer, list and Tensor
  inputs.

The ops: shapes and views (reshape/view, transpose, permute, ``.T``/``.mT``, squeeze,
unsqueeze, flatten, broadcast_to/expand, flip, roll, movedim, tril/triu, repeat, chunk,
split, unbind), indexing of every kind (ints, slices with steps, None, Ellipsis, integer
arrays, lists and tensors, broadcast and separated index arrays, boolean masks),
writes (``x[i] = v`` on a clone, through ``wl.where``, ``+=``/``*=``/``-=``/``/=``,
``mul_``/``add_``/``clamp_``/``masked_fill_``/``copy_``/``fill_``/``zero_``), joining (cat,
stack), products (matmul with batch broadcasting, mm, dot, inner, outer, einsum with
traces, diagonals, ellipses and size-1 broadcasting), ``wl.linalg`` (solve, inv,
cholesky, batched and broadcast), reductions with dims and keepdim (sum, mean, var, std,
max, min, prod, logsumexp, softmax, log_softmax, norm of every order), elementwise
functions and operators, the losses, and NumPy functions on tensors.

Shapes and values are checked (float64 Tensors of JAX's shapes, rtol 1e-7, atol 1e-10).
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import wonderland as wl  # noqa: E402

RTOL, ATOL = 1e-7, 1e-10


# ----------------------------------------------------------------------- inputs


def normal(rng: np.random.Generator, *shapes: tuple) -> list:
    return [rng.standard_normal(s) for s in shapes]


def positive(rng: np.random.Generator, *shapes: tuple) -> list:
    return [rng.uniform(0.5, 2.0, s) for s in shapes]


def away_from_zero(rng: np.random.Generator, *shapes: tuple) -> list:
    """Entries of either sign, |x| in [0.3, 2]: no kink of abs, relu, sign, norms."""
    return [rng.choice([-1.0, 1.0], s) * rng.uniform(0.3, 2.0, s) for s in shapes]


def probabilities(rng: np.random.Generator, *shapes: tuple) -> list:
    return [rng.uniform(0.1, 0.9, s) for s in shapes]


def well_conditioned(rng: np.random.Generator, *shapes: tuple) -> list:
    """A square (batch of) matrices ``3 I + noise`` first, then normal right-hand sides."""
    first, *rest = shapes
    n = first[-1]
    return [3.0 * np.eye(n) + 0.5 * rng.standard_normal(first), *normal(rng, *rest)]


def off_integers(rng: np.random.Generator, *shapes: tuple) -> list:
    """Away from the steps of floor/ceil/round/trunc/%: x = k + 0.25 .. k + 0.45."""
    return [rng.integers(-3, 3, s) + rng.uniform(0.25, 0.45, s) for s in shapes]


@dataclass(frozen=True)
class Op:
    name: str
    wl: Callable
    jx: Callable
    shapes: tuple
    make: Callable = normal

    @property
    def n(self) -> int:
        return len(self.shapes)

    @property
    def argnums(self) -> int | tuple:
        return 0 if self.n == 1 else tuple(range(self.n))

    def inputs(self) -> list[np.ndarray]:
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        return [np.asarray(a, dtype=np.float64) for a in self.make(rng, *self.shapes)]


OPS: dict[str, Op] = {}


def op(name: str, f_wl: Callable, f_jax: Callable, *shapes: tuple,
       make: Callable = normal) -> None:
    assert name not in OPS, name
    OPS[name] = Op(name, f_wl, f_jax, shapes, make)


# fixed index arrays and masks (NumPy constants inside both functions)
IDX = np.array([2, 0, 2, 1])  # with a repeat: its gradients add up
IDX2 = np.array([[0, 1], [1, 0]])
ROWS, COLS = np.array([0, 1, 1]), np.array([2, 0, 2])
MASK = np.array([True, False, True, True])
MASK2 = np.array([[True, False, True], [False, True, True]])
LABELS = np.array([2, 0, 1])
SIGNS = np.array([1.0, -1.0, -1.0, 1.0])
E1 = np.arange(4) == 1


def sq(x: Any) -> Any:  # a non-linear wrapper, so that linear ops get a second derivative
    return x * x


# ----------------------------------------------------------------------- shapes and indexing

op("reshape", lambda x: sq(wl.reshape(x, (3, 2))), lambda x: sq(jnp.reshape(x, (3, 2))), (2, 3))
op("reshape_3d_flat", lambda x: sq(x.reshape(-1)), lambda x: sq(x.reshape(-1)), (2, 3, 2))
op("reshape_0d", lambda x: sq(wl.reshape(x, (1, 1))), lambda x: sq(jnp.reshape(x, (1, 1))), ())
op("view", lambda x: sq(x.view(2, 1, 3)), lambda x: sq(x.reshape(2, 1, 3)), (3, 2))
op("transpose", lambda x: sq(wl.transpose(x, 0, 2)) * x[0, 0, 0],
   lambda x: sq(jnp.swapaxes(x, 0, 2)) * x[0, 0, 0], (2, 3, 2))
op("permute", lambda x: sq(wl.permute(x, 2, 0, 1)), lambda x: sq(jnp.transpose(x, (2, 0, 1))),
   (2, 3, 2))
op("T_3d", lambda x: x.T * x[0, 0, 0], lambda x: x.T * x[0, 0, 0], (2, 1, 3))
op("mT", lambda x: x.mT @ x, lambda x: jnp.swapaxes(x, -1, -2) @ x, (2, 3, 2))
op("squeeze_dim", lambda x: sq(wl.squeeze(x, 1)), lambda x: sq(jnp.squeeze(x, 1)), (3, 1, 2))
op("squeeze_all", lambda x: sq(wl.squeeze(x)), lambda x: sq(jnp.squeeze(x)), (1, 3, 1))
op("unsqueeze", lambda x: sq(wl.unsqueeze(x, 1)), lambda x: sq(jnp.expand_dims(x, 1)), (2, 3))
op("unsqueeze_0d", lambda x: sq(wl.unsqueeze(x, -1)), lambda x: sq(jnp.expand_dims(x, -1)), ())
op("flatten_start", lambda x: sq(wl.flatten(x, 1)), lambda x: sq(x.reshape(2, -1)), (2, 3, 2))
op("flatten_all", lambda x: sq(wl.flatten(x)), lambda x: sq(x.reshape(-1)), (2, 3))
op("broadcast_to", lambda x: sq(wl.broadcast_to(x, (2, 3))) * x,
   lambda x: sq(jnp.broadcast_to(x, (2, 3))) * x, (3,))
op("broadcast_to_size1", lambda x: sq(wl.broadcast_to(x, (2, 2, 3))),
   lambda x: sq(jnp.broadcast_to(x, (2, 2, 3))), (2, 1))
op("broadcast_to_0d", lambda x: sq(wl.broadcast_to(x, (2, 2))),
   lambda x: sq(jnp.broadcast_to(x, (2, 2))), ())
op("flip", lambda x: wl.flip(x, (0, 2)) * x, lambda x: jnp.flip(x, (0, 2)) * x, (2, 3, 2))
op("roll", lambda x: wl.roll(x, 1, 1) * x, lambda x: jnp.roll(x, 1, 1) * x, (2, 3))
op("roll_flat", lambda x: wl.roll(x, 2) * x, lambda x: jnp.roll(x, 2) * x, (2, 3))
op("movedim", lambda x: sq(wl.movedim(x, 0, -1)), lambda x: sq(jnp.moveaxis(x, 0, -1)),
   (2, 3, 2))
op("tril", lambda x: sq(wl.tril(x)), lambda x: sq(jnp.tril(x)), (3, 3))
op("triu_k", lambda x: sq(wl.triu(x, 1)), lambda x: sq(jnp.triu(x, 1)), (2, 3, 4))
op("roll_two_dims", lambda x: wl.roll(x, (1, -1), (0, 2)) * x,
   lambda x: jnp.roll(x, (1, -1), (0, 2)) * x, (2, 3, 2))
op("movedim_sequences", lambda x: sq(wl.movedim(x, (0, 1), (2, 0))),
   lambda x: sq(jnp.moveaxis(x, (0, 1), (2, 0))), (2, 3, 2))
op("chunk_uneven_cat", lambda x: wl.cat(wl.chunk(x, 3, 0)[::-1]) * x,
   lambda x: jnp.concatenate([x[4:], x[2:4], x[:2]]) * x, (5,))
op("squeeze_tuple", lambda x: sq(wl.squeeze(x, (0, 2))), lambda x: sq(jnp.squeeze(x, (0, 2))),
   (1, 3, 1))
op("flatten_middle", lambda x: sq(wl.flatten(x, 1, 2)), lambda x: sq(x.reshape(2, 6, 2)),
   (2, 3, 2, 2))
op("repeat", lambda x: sq(x.repeat(2, 1)), lambda x: sq(jnp.tile(x, (2, 1))), (2, 3))
op("chunk", lambda x: wl.chunk(x, 2, 1)[1] * x[:, :1],
   lambda x: jnp.split(x, [2], 1)[1] * x[:, :1], (2, 3))
op("split", lambda x: wl.split(x, [1, 2], 0)[1] * x[0],
   lambda x: jnp.split(x, [1], 0)[1] * x[0], (3, 2))
op("unbind", lambda x: wl.unbind(x, 1)[2] * wl.unbind(x, 1)[0],
   lambda x: x[:, 2] * x[:, 0], (2, 3))
op("index_int", lambda x: sq(x[1]), lambda x: sq(x[1]), (3, 2))
op("index_slices", lambda x: sq(x[-1, 1:]) * x[0, :2], lambda x: sq(x[-1, 1:]) * x[0, :2],
   (2, 3))
op("index_step", lambda x: sq(x[::2, ::-1]), lambda x: sq(x[::2, ::-1]), (3, 3))
op("index_none_ellipsis", lambda x: sq(x[..., None]) * x[None, 0, :, None],
   lambda x: sq(x[..., None]) * x[None, 0, :, None], (2, 3))
op("index_ellipsis_int", lambda x: sq(x[..., 1]), lambda x: sq(x[..., 1]), (2, 2, 3))
op("index_int_array", lambda x: sq(x[IDX]), lambda x: sq(x[IDX]), (3, 2))
op("index_int_array_2d", lambda x: sq(x[IDX2]) * x[0], lambda x: sq(x[IDX2]) * x[0], (2, 3))
op("index_two_arrays", lambda x: sq(x[ROWS, COLS]), lambda x: sq(x[ROWS, COLS]), (2, 3))
op("index_arrays_split_by_slice", lambda x: sq(x[0, :, [1, 0]]),
   lambda x: sq(x[0, :, jnp.array([1, 0])]), (2, 3, 2))
op("index_mask", lambda x: sq(x[MASK]), lambda x: sq(x[MASK]), (4,))
op("index_mask_2d", lambda x: sq(x[MASK2]) * x[0, 0], lambda x: sq(x[MASK2]) * x[0, 0], (2, 3))
op("index_mask_rows", lambda x: sq(x[MASK]), lambda x: sq(x[MASK]), (4, 2))


# (an input outside argnums reaches f as the NumPy array given, as in JAX: wl.clone, not
# x.clone(), copies either)


def _set_clone(x: wl.Tensor, v: wl.Tensor) -> wl.Tensor:
    y = wl.clone(x)
    y[1] = v * v
    return y * x


def _set_slice_scalar(x: wl.Tensor, s: wl.Tensor) -> wl.Tensor:
    y = wl.as_tensor(x) * 1.0
    y[:, 1] = s
    return sq(y)


def _add_at(x: wl.Tensor, v: wl.Tensor) -> wl.Tensor:
    y = wl.clone(x)
    y[np.array([2, 0])] += v
    return sq(y)


def _set_mask(x: wl.Tensor, v: wl.Tensor) -> wl.Tensor:
    y = wl.clone(x)
    y[MASK] = v
    return y * x


op("setitem_row_clone", _set_clone, lambda x, v: x.at[1].set(v * v) * x, (3, 2), (2,))
op("setitem_column_0d", _set_slice_scalar, lambda x, s: sq(x.at[:, 1].set(s)), (2, 3), ())
op("setitem_add_int_array", _add_at, lambda x, v: sq(x.at[np.array([2, 0])].add(v)),
   (3, 2), (2, 2))
op("setitem_mask", _set_mask, lambda x, v: x.at[MASK].set(v) * x, (4,), (3,))
op("setitem_via_where", lambda x, v: sq(wl.where(E1[:, None], v, x)),
   lambda x, v: sq(jnp.where(E1[:, None], v, x)), (4, 2), (2,))

# ----------------------------------------------------------------------- joining, products

op("cat", lambda x, y: sq(wl.cat([x, y], dim=1)), lambda x, y: sq(jnp.concatenate([x, y], 1)),
   (2, 1), (2, 3))
op("concatenate_self", lambda x: sq(wl.concatenate([x, 2 * x, x[:1]])),
   lambda x: sq(jnp.concatenate([x, 2 * x, x[:1]])), (2, 3))
op("stack", lambda x, y: sq(wl.stack([x, y], dim=-1)), lambda x, y: sq(jnp.stack([x, y], -1)),
   (2, 3), (2, 3))
op("stack_0d", lambda x, y: sq(wl.stack([x, y, x * y])), lambda x, y: sq(jnp.stack([x, y, x * y])),
   (), ())
op("matmul_mv", lambda a, b: a @ b, lambda a, b: a @ b, (2, 3), (3,))
op("matmul_vm", lambda a, b: wl.matmul(a, b), lambda a, b: a @ b, (3,), (3, 2))
op("matmul_batch_broadcast", lambda a, b: a @ b, lambda a, b: a @ b, (2, 1, 2, 3), (3, 3, 2))
op("matmul_vector_batch", lambda a, b: a @ b, lambda a, b: a @ b, (3,), (2, 3, 2))
op("matmul_self", lambda x: x @ x, lambda x: x @ x, (3, 3))
op("dot", lambda a, b: wl.dot(a, b), lambda a, b: jnp.dot(a, b), (3,), (3,))
op("inner_2d", lambda a, b: wl.inner(a, b), lambda a, b: jnp.inner(a, b), (2, 3), (4, 3))
op("outer", lambda a, b: wl.outer(a, b), lambda a, b: jnp.outer(a, b), (3,), (2,))
op("einsum_mm", lambda a, b: wl.einsum("ij,jk->ik", a, b),
   lambda a, b: jnp.einsum("ij,jk->ik", a, b), (2, 3), (3, 2))
op("einsum_batch", lambda a, b: wl.einsum("bij,bjk->bik", a, b),
   lambda a, b: jnp.einsum("bij,bjk->bik", a, b), (2, 2, 3), (2, 3, 2))
op("einsum_rowdot", lambda a, b: wl.einsum("ij,ij->i", a, b),
   lambda a, b: jnp.einsum("ij,ij->i", a, b), (2, 3), (2, 3))
op("einsum_quadratic", lambda x: wl.einsum("i,ij,j->", x, wl.outer(x, x), x),
   lambda x: jnp.einsum("i,ij,j->", x, jnp.outer(x, x), x), (3,))
op("einsum_trace", lambda x: wl.einsum("ii->", x @ x), lambda x: jnp.einsum("ii->", x @ x), (3, 3))
op("einsum_diag", lambda x: sq(wl.einsum("ii->i", x)), lambda x: sq(jnp.einsum("ii->i", x)),
   (3, 3))
op("einsum_ellipsis", lambda a, b: wl.einsum("...j,jk->...k", a, b),
   lambda a, b: jnp.einsum("...j,jk->...k", a, b), (2, 1, 3), (3, 2))
op("einsum_implicit", lambda a, b: wl.einsum("ij,jk", a, b),
   lambda a, b: jnp.einsum("ij,jk", a, b), (2, 3), (3, 2))
op("solve_vector", lambda a, b: wl.linalg.solve(a, b), lambda a, b: jnp.linalg.solve(a, b),
   (3, 3), (3,), make=well_conditioned)
op("solve_matrix", lambda a, b: wl.linalg.solve(a, b), lambda a, b: jnp.linalg.solve(a, b),
   (3, 3), (3, 2), make=well_conditioned)
op("solve_batched", lambda a, b: wl.linalg.solve(a, b), lambda a, b: jnp.linalg.solve(a, b),
   (2, 3, 3), (2, 3, 2), make=well_conditioned)
op("solve_batched_vector", lambda a, b: wl.linalg.solve(a, b),
   lambda a, b: jnp.linalg.solve(a, b), (2, 3, 3), (3,), make=well_conditioned)
op("solve_broadcast_b", lambda a, b: wl.linalg.solve(a, b),
   lambda a, b: jnp.linalg.solve(a, b), (3, 3), (2, 3, 2), make=well_conditioned)
op("inv", lambda a: wl.linalg.inv(a), lambda a: jnp.linalg.inv(a), (3, 3), make=well_conditioned)
op("inv_batched", lambda a: wl.linalg.inv(a), lambda a: jnp.linalg.inv(a), (2, 2, 2),
   make=well_conditioned)
op("cholesky_spd", lambda x: wl.linalg.cholesky(x @ x.mT + 3.0 * wl.eye(3)),
   lambda x: jnp.linalg.cholesky(x @ x.T + 3.0 * jnp.eye(3)), (3, 3))

# ----------------------------------------------------------------------- reductions

op("sum_dim_keepdim", lambda x: sq(wl.sum(x, dim=1, keepdim=True)),
   lambda x: sq(jnp.sum(x, 1, keepdims=True)), (2, 3, 2))
op("sum_dims", lambda x: sq(wl.sum(x, dim=(0, 2))), lambda x: sq(jnp.sum(x, (0, 2))), (2, 3, 2))
op("sum_0d", lambda x: sq(wl.sum(x)), lambda x: sq(jnp.sum(x)), ())
op("sum_axis_alias", lambda x: sq(x.sum(axis=-1, keepdims=True)),
   lambda x: sq(x.sum(-1, keepdims=True)), (3, 1))
op("mean_keepdim", lambda x: sq(wl.mean(x, dim=-1, keepdim=True)),
   lambda x: sq(jnp.mean(x, -1, keepdims=True)), (2, 3))
op("mean_all", lambda x: sq(wl.mean(x)), lambda x: sq(jnp.mean(x)), (2, 1, 3))
op("var_dim", lambda x: wl.var(x, dim=0), lambda x: jnp.var(x, 0), (3, 2))
op("var_correction", lambda x: wl.var(x, dim=1, keepdim=True, correction=1),
   lambda x: jnp.var(x, 1, keepdims=True, ddof=1), (2, 4))
op("var_all", lambda x: wl.var(x), lambda x: jnp.var(x), (2, 3))
op("std_dim", lambda x: wl.std(x, dim=(0, 2)), lambda x: jnp.std(x, (0, 2)), (2, 2, 3))
op("std_unbiased", lambda x: x.std(unbiased=True), lambda x: jnp.std(x, ddof=1), (5,))
op("max_dim", lambda x: sq(wl.max(x, dim=1)), lambda x: sq(jnp.max(x, 1)), (2, 3))
op("max_all", lambda x: sq(wl.max(x)) * x, lambda x: sq(jnp.max(x)) * x, (2, 3))
op("min_dims_keepdim", lambda x: sq(wl.min(x, dim=(0, 1), keepdim=True)),
   lambda x: sq(jnp.min(x, (0, 1), keepdims=True)), (2, 3, 2))
op("prod_dim", lambda x: wl.prod(x, dim=1), lambda x: jnp.prod(x, 1), (2, 3))
op("prod_all", lambda x: wl.prod(x), lambda x: jnp.prod(x), (2, 2))
op("prod_keepdim", lambda x: wl.prod(x, dim=0, keepdim=True),
   lambda x: jnp.prod(x, 0, keepdims=True), (3, 1, 2))
op("logsumexp_keepdim", lambda x: wl.logsumexp(x, dim=1, keepdim=True),
   lambda x: jax.nn.logsumexp(x, 1, keepdims=True), (2, 3))
op("logsumexp_all", lambda x: wl.logsumexp(x), lambda x: jax.nn.logsumexp(x), (2, 3, 2))
op("logsumexp_dims", lambda x: wl.logsumexp(x, dim=(0, 2)),
   lambda x: jax.nn.logsumexp(x, (0, 2)), (2, 3, 2))
op("softmax_dim0", lambda x: wl.softmax(x, dim=0), lambda x: jax.nn.softmax(x, 0), (3, 2))
op("softmax_last", lambda x: wl.softmax(x), lambda x: jax.nn.softmax(x, -1), (2, 1, 3))
op("log_softmax", lambda x: wl.log_softmax(x, dim=-1), lambda x: jax.nn.log_softmax(x, -1),
   (2, 3))
op("log_softmax_1d", lambda x: wl.log_softmax(x, dim=0), lambda x: jax.nn.log_softmax(x, 0),
   (4,))
op("norm", lambda x: wl.norm(x), lambda x: jnp.linalg.norm(x.reshape(-1)), (2, 3))
op("norm_dim", lambda x: wl.norm(x, dim=1), lambda x: jnp.linalg.norm(x, axis=1), (2, 3))
op("norm_keepdim", lambda x: wl.norm(x, dim=0, keepdim=True),
   lambda x: jnp.linalg.norm(x, axis=0, keepdims=True), (3, 2))
op("norm_0d", lambda x: sq(wl.norm(x)), lambda x: sq(jnp.abs(x)), (), make=away_from_zero)
op("norm_ord1", lambda x: sq(wl.norm(x, ord=1, dim=1)),
   lambda x: sq(jnp.linalg.norm(x, 1, axis=1)), (2, 3), make=away_from_zero)
op("norm_inf", lambda x: sq(wl.norm(x, ord=math.inf)),
   lambda x: sq(jnp.linalg.norm(x.reshape(-1), jnp.inf)), (2, 3), make=away_from_zero)
op("norm_neg_inf", lambda x: sq(wl.norm(x, ord=-math.inf, dim=0)),
   lambda x: sq(jnp.linalg.norm(x, -jnp.inf, axis=0)), (3, 2), make=away_from_zero)
op("norm_p3", lambda x: wl.norm(x, p=3, dim=-1), lambda x: jnp.linalg.norm(x, 3, axis=-1),
   (2, 3), make=away_from_zero)
op("norm_p_half", lambda x: wl.norm(x, ord=0.5), lambda x: jnp.sum(jnp.abs(x) ** 0.5) ** 2.0,
   (4,), make=away_from_zero)

# ----------------------------------------------------------------------- elementwise

# Unary functions in small groups (one op per group keeps JAX's compilations few); the
# second derivatives of each term are independent in a sum, so a wrong one still shows.
UNARY = {
    "exp_sin_cos": (lambda x: wl.exp(x) + wl.sin(x) * wl.cos(x),
                    lambda x: jnp.exp(x) + jnp.sin(x) * jnp.cos(x), normal),
    "log_log1p_sqrt": (lambda x: wl.log(x) + wl.log1p(x) * wl.sqrt(x),
                       lambda x: jnp.log(x) + jnp.log1p(x) * jnp.sqrt(x), positive),
    "tan_tanh": (lambda x: wl.tan(x) - wl.tanh(x) ** 2,
                 lambda x: jnp.tan(x) - jnp.tanh(x) ** 2,
                 lambda r, *s: [0.5 * a for a in normal(r, *s)]),
    "sigmoid_softplus": (lambda x: wl.sigmoid(x) * wl.softplus(x),
                         lambda x: jax.nn.sigmoid(x) * jax.nn.softplus(x), normal),
    "relu_abs_sign": (lambda x: sq(wl.relu(x)) + wl.abs(x) ** 3 + wl.sign(x) * x * x,
                      lambda x: jax.nn.relu(x) ** 2 + jnp.abs(x) ** 3 + jnp.sign(x) * x * x,
                      away_from_zero),
    "negative_clone_astype": (lambda x: sq(wl.negative(x)) * wl.clone(x) * wl.astype(
        x, wl.float64), lambda x: x ** 4, normal),
    "rounding": (lambda x: (wl.floor(x) + 2 * wl.ceil(x) + 3 * wl.trunc(x)) * x
                 + wl.round(x) * x * x,
                 lambda x: (jnp.floor(x) + 2 * jnp.ceil(x) + 3 * jnp.trunc(x)) * x
                 + jnp.round(x) * x * x, off_integers),
    "powers": (lambda x: x ** 3 + wl.abs(x) ** 0.5 + 2.0 ** x + 1.0 / x,
               lambda x: x ** 3 + jnp.abs(x) ** 0.5 + 2.0 ** x + 1.0 / x, away_from_zero),
    "clip": (lambda x: sq(wl.clip(x, -0.5, 0.7)) + sq(wl.clamp(x, min=0.2)),
             lambda x: sq(jnp.clip(x, -0.5, 0.7)) + sq(jnp.maximum(x, 0.2)), normal),
    "clamp_max_method": (lambda x: sq(x.clamp(max=0.3)), lambda x: sq(jnp.minimum(x, 0.3)),
                         normal),
    "where_self": (lambda x: wl.where(x > 0, x ** 2, wl.sin(x)),
                   lambda x: jnp.where(x > 0, x ** 2, jnp.sin(x)), away_from_zero),
    "maximum_const": (lambda x: sq(wl.maximum(x, 0.1)) + sq(wl.minimum(-0.2, x)),
                      lambda x: sq(jnp.maximum(x, 0.1)) + sq(jnp.minimum(-0.2, x)), normal),
    "np_sin": (lambda x: np.sin(x) * np.exp(x), lambda x: jnp.sin(x) * jnp.exp(x), normal),
}
for _name, (_f, _g, _make) in UNARY.items():
    op(_name, _f, _g, (2, 3), make=_make)
op("exp_log_0d", lambda x: wl.exp(x) * wl.log(x), lambda x: jnp.exp(x) * jnp.log(x), (),
   make=positive)
op("tanh_sigmoid_softplus_0d", lambda x: wl.tanh(x) + wl.sigmoid(x) * wl.softplus(x),
   lambda x: jnp.tanh(x) + jax.nn.sigmoid(x) * jax.nn.softplus(x), ())
op("abs_sqrt_pow_0d", lambda x: wl.abs(x) ** 3 * wl.sqrt(x) + x ** 0.5,
   lambda x: jnp.abs(x) ** 3 * jnp.sqrt(x) + x ** 0.5, (), make=positive)
op("tanh_size1", wl.tanh, jnp.tanh, (3, 1, 2))

BINARY = {
    "add_sub_mul": (lambda a, b: sq(a + b) - sq(a - b) * a + a * b,
                    lambda a, b: sq(a + b) - sq(a - b) * a + a * b, normal),
    "div": (lambda a, b: a / b, lambda a, b: a / b, away_from_zero),
    "pow_tensor": (lambda a, b: a ** b + wl.as_tensor(b).pow(a), lambda a, b: a ** b + b ** a,
                   positive),
    "maximum": (lambda a, b: sq(wl.maximum(a, b)), lambda a, b: sq(jnp.maximum(a, b)), normal),
    "minimum": (lambda a, b: sq(wl.minimum(a, b)), lambda a, b: sq(jnp.minimum(a, b)), normal),
    "where_two": (lambda a, b: wl.where(a > b, a * b, b ** 2),
                  lambda a, b: jnp.where(a > b, a * b, b ** 2), normal),
    "remainder_floor_divide": (lambda a, b: sq(a % b) + (a // b) * a * b,
                               lambda a, b: sq(jnp.remainder(a, b)) + (a // b) * a * b,
                               positive),
}
for _name, (_f, _g, _make) in BINARY.items():
    op(_name, _f, _g, (2, 3), (2, 3), make=_make)
op("mul_broadcast", lambda a, b: a * b * a, lambda a, b: a * b * a, (2, 1, 3), (2, 1))
op("div_broadcast_0d", lambda a, b: a / b, lambda a, b: a / b, (2, 3), (), make=away_from_zero)
op("pow_broadcast", lambda a, b: a ** b, lambda a, b: a ** b, (2, 3), (3,), make=positive)
op("pow_0d_exponent", lambda a, b: a ** b, lambda a, b: a ** b, (3,), (), make=positive)
op("pow_0d_0d", lambda a, b: a ** b, lambda a, b: a ** b, (), (), make=positive)
op("maximum_broadcast", lambda a, b: sq(wl.maximum(a, b)), lambda a, b: sq(jnp.maximum(a, b)),
   (2, 3), (3,))
op("where_broadcast", lambda a, b: wl.where(a > 0, a * b, b),
   lambda a, b: jnp.where(a > 0, a * b, b), (2, 1), (3,))
op("where_scalar_branch", lambda x, y: wl.where(x > 0, 2.0, y) * x,
   lambda x, y: jnp.where(x > 0, 2.0, y) * x, (2, 3), ())
op("clip_max_tensor", lambda x, hi: sq(wl.clip(x, max=hi)), lambda x, hi: sq(jnp.minimum(x, hi)),
   (2, 3), (3,))
op("clip_tensor_bounds", lambda x, lo, hi: sq(wl.clip(x, lo, lo + wl.abs(hi) + 0.1)),
   lambda x, lo, hi: sq(jnp.clip(x, lo, lo + jnp.abs(hi) + 0.1)), (2, 3), (3,), (2, 1))
op("mul_0d_0d", lambda a, b: wl.sin(a * b) * a, lambda a, b: jnp.sin(a * b) * a, (), ())

# ----------------------------------------------------------------------- losses

L = wl.losses


def _huber_jax(p: Any, y: Any, delta: float, reduce: Callable) -> Any:
    a = jnp.abs(p - y)
    return reduce(jnp.where(a < delta, 0.5 * a ** 2, delta * (a - 0.5 * delta)))


def _bce_jax(p: Any, y: Any, reduce: Callable) -> Any:
    return reduce(-(y * jnp.log(p) + (1 - y) * jnp.log1p(-p)))


def _bce_logits_jax(z: Any, y: Any, reduce: Callable) -> Any:
    return reduce(jax.nn.softplus(z) - y * z)


def _ce_jax(z: Any, reduce: Callable) -> Any:
    return reduce(-jax.nn.log_softmax(z, -1)[np.arange(z.shape[0]), LABELS])


REDUCE = {"mean": jnp.mean, "sum": jnp.sum, "none": lambda v: v}
for _r, _red in REDUCE.items():
    op(f"squared_{_r}", functools.partial(L.squared, reduction=_r),
       lambda p, y, _red=_red: _red((p - y) ** 2), (2, 3), (2, 3))
    if _r == "sum":  # (the sum is the mean times a constant: one loss is enough)
        continue
    op(f"huber_{_r}", functools.partial(L.huber, delta=0.8, reduction=_r),
       functools.partial(_huber_jax, delta=0.8, reduce=_red), (6,), (6,))
    op(f"bce_{_r}", functools.partial(L.binary_cross_entropy, reduction=_r),
       functools.partial(_bce_jax, reduce=_red), (2, 3), (2, 3), make=probabilities)
    op(f"bce_logits_{_r}", functools.partial(L.binary_cross_entropy_with_logits, reduction=_r),
       lambda z, y, _red=_red: _bce_logits_jax(z, y, _red), (2, 3), (2, 3),
       make=lambda r, *s: [2 * r.standard_normal(s[0]), r.uniform(0, 1, s[1])])
    op(f"cross_entropy_{_r}", lambda z, _r=_r: L.cross_entropy(z, LABELS, reduction=_r),
       lambda z, _red=_red: _ce_jax(z, _red), (3, 4))
op("absolute", lambda p, y: L.absolute(p, y) * L.absolute(p, y, reduction="sum"),
   lambda p, y: jnp.mean(jnp.abs(p - y)) * jnp.sum(jnp.abs(p - y)), (2, 3), (2, 3))
op("hinge", lambda s: sq(L.hinge(s, SIGNS, reduction="none")),
   lambda s: sq(jax.nn.relu(1.0 - SIGNS * s)), (4,),
   make=lambda r, s: [SIGNS * np.array([0.2, 0.5, 1.7, -0.6])])
op("cross_entropy_1d", lambda z: L.cross_entropy(z, 2) ** 2,
   lambda z: jax.nn.log_softmax(z)[2] ** 2, (4,))
op("bce_0d", L.binary_cross_entropy, functools.partial(_bce_jax, reduce=jnp.mean), (), (),
   make=probabilities)

# ----------------------------------------------------------------------- composites

op("mlp", lambda x, w: wl.sum(wl.tanh(x @ w) ** 2, dim=0),
   lambda x, w: jnp.sum(jnp.tanh(x @ w) ** 2, 0), (3, 2), (2, 2))
op("attention", lambda q, k: wl.softmax(q @ k.mT / 2.0, dim=-1) @ k,
   lambda q, k: jax.nn.softmax(q @ k.T / 2.0, -1) @ k, (2, 3), (3, 3))
op("np_protocol", lambda x: np.sum(np.tanh(x) * np.cos(x), axis=0) / np.linalg.norm(x),
   lambda x: jnp.sum(jnp.tanh(x) * jnp.cos(x), 0) / jnp.linalg.norm(x), (3, 2))

# ----------------------------------------------------------------------- more indexing

MASK3 = np.array([False, True, True])
op("index_negative_array", lambda x: sq(x[np.array([-1, 0, -1])]),
   lambda x: sq(x[np.array([-1, 0, -1])]), (3, 2))
op("index_tensor_index", lambda x: sq(x[wl.tensor([0, 2, 2])]),
   lambda x: sq(x[np.array([0, 2, 2])]), (3, 2))
op("index_list", lambda x: sq(x[[1, 1, 0]]), lambda x: sq(x[np.array([1, 1, 0])]), (2, 3))
op("index_array_middle", lambda x: sq(x[:, IDX2]), lambda x: sq(x[:, IDX2]), (2, 3, 2))
op("index_int_array_adjacent", lambda x: sq(x[:, 1, [0, 1, 1]]),
   lambda x: sq(x[:, 1, np.array([0, 1, 1])]), (2, 3, 2))
op("index_array_int_separated", lambda x: sq(x[[1, 0, 1], :, 1]),
   lambda x: sq(x[np.array([1, 0, 1]), :, 1]), (2, 3, 2))
op("index_ellipsis_array", lambda x: sq(x[..., [0, 2]]),
   lambda x: sq(x[..., np.array([0, 2])]), (2, 2, 3))
op("index_int_mask", lambda x: sq(x[1, MASK3]), lambda x: sq(x[1, MASK3]), (2, 3))
op("index_slice_mask", lambda x: sq(x[:, MASK3]), lambda x: sq(x[:, MASK3]), (2, 3, 2))
op("index_none_mask", lambda x: sq(x[None, MASK]), lambda x: sq(x[None, MASK]), (4, 2))
X_SIGNED = np.array([[0.5, -1.2, 0.7], [-0.3, 1.1, -2.0]])
op("index_mask_from_x", lambda x: sq(x[x > 0]), lambda x: sq(x[X_SIGNED > 0]), (2, 3),
   make=lambda r, s: [X_SIGNED])
op("index_0d_ellipsis_none", lambda x: sq(x[...]) * x[None], lambda x: sq(x[...]) * x[None], ())
op("index_empty", lambda x: sq(x[np.array([], dtype=int)]),
   lambda x: sq(x[np.array([], dtype=int)]), (3, 2))
op("index_size1_axis", lambda x: sq(x[:, 0, ::-1]), lambda x: sq(x[:, 0, ::-1]), (2, 1, 3))
op("index_then_index", lambda x: sq(x[1:][IDX2 % 2][..., 0]),
   lambda x: sq(x[1:][IDX2 % 2][..., 0]), (3, 2))

op("index_two_arrays_broadcast", lambda x: sq(x[np.array([[0], [1]]), np.array([0, 2, 1])]),
   lambda x: sq(x[np.array([[0], [1]]), np.array([0, 2, 1])]), (2, 3))
op("index_bool_tensor", lambda x: sq(x[wl.tensor(MASK3)]), lambda x: sq(x[MASK3]), (3, 2))
op("index_np_int_negative_step", lambda x: sq(x[np.int64(1), ::-2]), lambda x: sq(x[1, ::-2]),
   (2, 3))


def _set_negative_index(x: wl.Tensor, v: wl.Tensor) -> wl.Tensor:
    y = wl.clone(x)
    y[np.array([-1, 0])] = v
    return y * x


def _set_separated_arrays(x: wl.Tensor, v: wl.Tensor) -> wl.Tensor:
    y = wl.clone(x)
    y[0, :, [1, 0]] = v  # the value's axes: the index arrays' first, as NumPy's result
    return y * x


op("setitem_negative_index", _set_negative_index,
   lambda x, v: x.at[np.array([-1, 0])].set(v) * x, (3,), (2,))
op("setitem_separated_arrays", _set_separated_arrays,
   lambda x, v: x.at[0, :, np.array([1, 0])].set(v) * x, (2, 3, 2), (2, 3))
op("setitem_mask_rows_broadcast", _set_mask, lambda x, v: x.at[MASK].set(v) * x, (4, 2), (2,))

# ----------------------------------------------------------------------- in-place writes
# (on a clone, or on a computed tensor; JAX's .at[] is the out-of-place twin)


def _inplace_ops(x: wl.Tensor, v: wl.Tensor) -> wl.Tensor:
    y = wl.as_tensor(x) * 1.0
    y *= v
    y += x * x
    y -= 0.5 * v
    y /= 1.5 + v * v
    return y


def _slice_ops(x: wl.Tensor, v: wl.Tensor) -> wl.Tensor:
    y = wl.clone(x)
    # (y[1:, ::2] *= v is refused with tangents, as documented; the product saves a clone,
    # as in PyTorch, which would refuse the view written over at backward)
    y[1:, ::2] = wl.clone(y[1:, ::2]) * v
    y[..., 0] = x[:, 1] * v[0, 0]
    return y * x


def _methods_inplace(x: wl.Tensor, v: wl.Tensor) -> wl.Tensor:
    y = wl.clone(x)
    y.mul_(v)
    y.add_(x, alpha=2.0)
    y.sub_(v * v)
    y.clamp_(min=-0.5)
    return y * x


def _masked_fill_(x: wl.Tensor, v: wl.Tensor) -> wl.Tensor:
    y = x * v
    y.masked_fill_(MASK2, 0.25)
    return y * y


def _copy_fill(x: wl.Tensor, v: wl.Tensor) -> wl.Tensor:
    y = wl.zeros(2, 3)
    y.copy_(x * v)
    z = wl.zeros(2, 3)
    z.fill_(v[0, 1])
    z[0] = y[1] * x[0]
    return y * z


def _mask_scalar(x: wl.Tensor, s: wl.Tensor) -> wl.Tensor:
    y = wl.clone(x)
    y[MASK2] = s * s
    return y * x


def _zero_then_write(x: wl.Tensor, v: wl.Tensor) -> wl.Tensor:
    y = x * v
    y.zero_()
    y[IDX2[0]] = x[1] * v[0]  # rows 0 and 1, no repeat
    return y + x * x


op("inplace_arithmetic", _inplace_ops, lambda x, v: (x * v + x * x - 0.5 * v) / (1.5 + v * v),
   (2, 3), (3,))
op("inplace_slices", _slice_ops,
   lambda x, v: x.at[1:, ::2].multiply(v).at[..., 0].set(x[:, 1] * v[0, 0]) * x,
   (3, 3), (2, 2))
op("inplace_methods", _methods_inplace,
   lambda x, v: jnp.maximum(x * v + 2.0 * x - v * v, -0.5) * x, (2, 3), (2, 3))
op("masked_fill_", _masked_fill_, lambda x, v: sq(jnp.where(MASK2, 0.25, x * v)), (2, 3),
   (2, 3))
op("masked_fill", lambda x, v: sq((x * v).masked_fill(MASK2, -1.0)),
   lambda x, v: sq(jnp.where(MASK2, -1.0, x * v)), (2, 3), (3,))
op("copy_fill", _copy_fill,
   lambda x, v: x * v * jnp.full((2, 3), v[0, 1]).at[0].set((x * v)[1] * x[0]), (2, 3),
   (2, 3))
op("setitem_mask_scalar", _mask_scalar, lambda x, s: x.at[MASK2].set(s * s) * x, (2, 3), ())
op("zero_then_write", _zero_then_write,
   lambda x, v: jnp.zeros((2, 3)).at[np.array([0, 1])].set(x[1] * v[0]) + x * x, (2, 3),
   (2, 3))

# ----------------------------------------------------------------------- more products

op("matmul_vv", lambda a, b: wl.sin(a @ b), lambda a, b: jnp.sin(a @ b), (3,), (3,))
op("matmul_size1", lambda a, b: sq(a @ b), lambda a, b: sq(a @ b), (1, 3), (3, 1))
op("mm", lambda a, b: sq(wl.as_tensor(a).mm(b)), lambda a, b: sq(a @ b), (2, 3), (3, 2))
op("outer_flattens", lambda a, b: wl.outer(a, b) * a[0, 0],
   lambda a, b: jnp.outer(a, b) * a[0, 0], (2, 2), (3,))
op("inner_vector_matrix", lambda a, b: sq(wl.inner(a, b)), lambda a, b: sq(jnp.inner(a, b)),
   (3,), (2, 3))
op("inner_0d", lambda a, b: sq(wl.inner(a, b)), lambda a, b: sq(jnp.inner(a, b)), (), (2, 3))
op("dot_0d", lambda a, b: sq(wl.dot(a, b)), lambda a, b: sq(jnp.dot(a, b)), (), (3,))
op("einsum_broadcast_size1", lambda a, b: wl.einsum("ij,ij->ij", a, b),
   lambda a, b: jnp.einsum("ij,ij->ij", a, b), (2, 1), (2, 3))
# Fixed; before the fix: BUG: einsum's reverse rule gave a cotangent of the wrong shape when
# a contracted subscript is broadcast from size 1: einsum("ij,jk->ik", ones(2, 1), b).sum()
# .backward() raised "cotangent of shape (1, 2) for an input of shape (3, 2)". (JAX's own
# reverse rule refuses a contracted axis of size 1 against 3: its twin broadcasts it first)
op("einsum_contract_size1", lambda a, b: wl.einsum("ij,jk->ik", a, b),
   lambda a, b: jnp.einsum("ij,jk->ik", jnp.broadcast_to(a, (2, 3)), b), (2, 1), (3, 2))
op("einsum_diag_vec", lambda a, b: wl.einsum("ii,i->i", a, b),
   lambda a, b: jnp.einsum("ii,i->i", a, b), (3, 3), (3,))
op("einsum_outer", lambda a, b: wl.einsum("i,j->ij", a, b) * a[0],
   lambda a, b: jnp.einsum("i,j->ij", a, b) * a[0], (3,), (2,))
op("einsum_permute", lambda x: sq(wl.einsum("ijk->kij", x)),
   lambda x: sq(jnp.einsum("ijk->kij", x)), (2, 3, 2))
op("einsum_sum_all", lambda x: sq(wl.einsum("ij->", x)), lambda x: sq(jnp.einsum("ij->", x)),
   (2, 3))
op("einsum_batch_ellipsis_broadcast", lambda a, b: wl.einsum("...ij,...jk->...ik", a, b),
   lambda a, b: jnp.einsum("...ij,...jk->...ik", a, b), (2, 1, 2, 3), (3, 3, 2))
op("einsum_three", lambda a, b, c: wl.einsum("ij,jk,k->i", a, b, c),
   lambda a, b, c: jnp.einsum("ij,jk,k->i", a, b, c), (2, 3), (3, 2), (2,))
op("cholesky_batched", lambda x: wl.linalg.cholesky(x @ x.mT + 2.0 * wl.eye(2)),
   lambda x: jnp.linalg.cholesky(x @ jnp.swapaxes(x, -1, -2) + 2.0 * jnp.eye(2)), (2, 2, 2))
op("solve_column", lambda a, b: wl.linalg.solve(a, b), lambda a, b: jnp.linalg.solve(a, b),
   (2, 3, 3), (2, 3, 1), make=well_conditioned)
op("inv_of_product", lambda a: wl.linalg.inv(a @ a), lambda a: jnp.linalg.inv(a @ a), (3, 3),
   make=well_conditioned)
op("logdet_like", lambda x: wl.sum(wl.log(wl.einsum(
    "ii->i", wl.linalg.cholesky(x @ x.mT + wl.eye(3))))),
   lambda x: jnp.sum(jnp.log(jnp.diag(jnp.linalg.cholesky(x @ x.T + jnp.eye(3))))), (3, 3))

# ----------------------------------------------------------------------- more reductions

op("sum_negative_dims", lambda x: sq(wl.sum(x, dim=(-1, 0))), lambda x: sq(jnp.sum(x, (-1, 0))),
   (2, 3, 2))
op("sum_0d_dim0", lambda x: sq(wl.sum(x, dim=0)), lambda x: sq(jnp.sum(x)), ())
op("mean_dims_keepdim", lambda x: sq(wl.mean(x, dim=(0, 2), keepdim=True)),
   lambda x: sq(jnp.mean(x, (0, 2), keepdims=True)), (2, 3, 2))
op("var_dims_ddof", lambda x: wl.var(x, dim=(0, 2), ddof=1),
   lambda x: jnp.var(x, (0, 2), ddof=1), (2, 3, 2))
op("std_keepdim", lambda x: wl.std(x, dim=-1, keepdim=True),
   lambda x: jnp.std(x, -1, keepdims=True), (2, 1, 3))
op("std_all", lambda x: wl.std(x), lambda x: jnp.std(x), (3, 2))
op("var_size1_axis_ddof0", lambda x: wl.var(x, dim=1) + x[:, 0] ** 2,
   lambda x: jnp.var(x, 1) + x[:, 0] ** 2, (3, 1))
op("max_dims", lambda x: sq(wl.max(x, dim=(0, 2))), lambda x: sq(jnp.max(x, (0, 2))),
   (2, 3, 2))
op("min_keepdim", lambda x: sq(x.min(dim=0, keepdim=True)),
   lambda x: sq(jnp.min(x, 0, keepdims=True)), (3, 2))
op("amax_method", lambda x: sq(x.amax(1)), lambda x: sq(jnp.max(x, 1)), (2, 3))
op("prod_dims", lambda x: wl.prod(x, dim=(0, 2)), lambda x: jnp.prod(x, (0, 2)), (2, 2, 2))
op("logsumexp_size1", lambda x: wl.logsumexp(x, dim=1), lambda x: jax.nn.logsumexp(x, 1),
   (3, 1))
op("logsumexp_large", lambda x: wl.logsumexp(x * 300.0, dim=0),
   lambda x: jax.nn.logsumexp(x * 300.0, 0), (3, 2), make=off_integers)
op("softmax_3d_mid", lambda x: wl.softmax(x, dim=1), lambda x: jax.nn.softmax(x, 1), (2, 3, 2))
op("softmax_method", lambda x: x.softmax(0), lambda x: jax.nn.softmax(x, 0), (4,))
op("log_softmax_dim0", lambda x: wl.log_softmax(x, dim=0),
   lambda x: jax.nn.log_softmax(x, 0), (3, 2))
op("norm_dims", lambda x: wl.norm(x, dim=(0, 2)), lambda x: jnp.sqrt(jnp.sum(x * x, (0, 2))),
   (2, 3, 2))
op("norm_ord1_keepdim", lambda x: sq(wl.norm(x, ord=1, dim=0, keepdim=True)),
   lambda x: sq(jnp.sum(jnp.abs(x), 0, keepdims=True)), (3, 2), make=away_from_zero)
op("norm_p3_all", lambda x: wl.norm(x, p=3), lambda x: jnp.sum(jnp.abs(x) ** 3) ** (1 / 3),
   (2, 2), make=away_from_zero)
op("norm_p1_5_dim", lambda x: wl.norm(x, ord=1.5, dim=1),
   lambda x: jnp.sum(jnp.abs(x) ** 1.5, 1) ** (1 / 1.5), (2, 3), make=away_from_zero)
op("norm_method", lambda x: x.norm(dim=-1), lambda x: jnp.linalg.norm(x, axis=-1), (2, 3))

op("reductions_0d", lambda x: wl.var(x) + wl.prod(x) * x + wl.max(x, dim=-1) * x ** 2
   + wl.logsumexp(x) * x + sq(wl.mean(x, dim=0, keepdim=True)) + wl.norm(x, p=3) * x,
   lambda x: x * x + x ** 3 + x * x + x * x + jnp.abs(x) * x, (), make=away_from_zero)

# ----------------------------------------------------------------------- NumPy functions

op("np_reductions", lambda x: np.mean(x, axis=0) * np.max(x, axis=1, keepdims=True)
   + np.prod(x, axis=0) - np.amin(x),
   lambda x: jnp.mean(x, 0) * jnp.max(x, 1, keepdims=True) + jnp.prod(x, 0) - jnp.min(x),
   (2, 3))
op("np_var_std", lambda x: np.var(x, axis=1, ddof=1) * np.std(x, axis=1),
   lambda x: jnp.var(x, 1, ddof=1) * jnp.std(x, 1), (2, 3))
op("np_dot_nd", lambda a, b: np.dot(a, b), lambda a, b: jnp.dot(a, b), (2, 2, 3), (2, 3, 2))
op("np_dot_2d", lambda a, b: np.dot(a, b) * a[0, 0], lambda a, b: jnp.dot(a, b) * a[0, 0],
   (2, 3), (3, 2))
op("np_inner_nd", lambda a, b: np.inner(a, b), lambda a, b: jnp.inner(a, b), (2, 1, 3), (2, 3))
op("np_einsum", lambda a, b: np.einsum("ij,kj->ik", a, b),
   lambda a, b: jnp.einsum("ij,kj->ik", a, b), (2, 3), (2, 3))
op("np_matmul_square", lambda x: np.square(np.matmul(x, x)), lambda x: jnp.square(x @ x),
   (2, 2))
op("np_where_clip", lambda x: np.where(x > 0, np.clip(x, 0.2, 0.9), x ** 3),
   lambda x: jnp.where(x > 0, jnp.clip(x, 0.2, 0.9), x ** 3), (2, 3))
op("np_shape_functions", lambda x: np.transpose(np.expand_dims(x, (0, 2))) * np.squeeze(
    np.reshape(x, (1, 6)), 0)[0],
   lambda x: jnp.transpose(jnp.expand_dims(x, (0, 2))) * jnp.squeeze(
       x.reshape(1, 6), 0)[0], (2, 3))
op("np_transpose_axes", lambda x: sq(np.transpose(x, (1, 0, 2))),
   lambda x: sq(jnp.transpose(x, (1, 0, 2))), (2, 3, 2))
op("np_swapaxes_ravel", lambda x: sq(np.ravel(np.swapaxes(x, 0, 1))),
   lambda x: sq(jnp.ravel(jnp.swapaxes(x, 0, 1))), (2, 3))
op("np_concatenate_none", lambda a, b: sq(np.concatenate([a, b], axis=None)),
   lambda a, b: sq(jnp.concatenate([a, b], axis=None)), (2, 2), (3,))
op("np_stack_broadcast_to", lambda a, b: sq(np.stack([np.broadcast_to(a, (2, 3)), b], axis=1)),
   lambda a, b: sq(jnp.stack([jnp.broadcast_to(a, (2, 3)), b], 1)), (3,), (2, 3))
op("np_linalg", lambda a, b: np.linalg.solve(a, b) + np.linalg.inv(a) @ b,
   lambda a, b: jnp.linalg.solve(a, b) + jnp.linalg.inv(a) @ b, (3, 3), (3, 2),
   make=well_conditioned)
op("np_linalg_norm", lambda x: np.linalg.norm(x, axis=1) * np.linalg.norm(x),
   lambda x: jnp.linalg.norm(x, axis=1) * jnp.linalg.norm(x), (2, 3))
op("np_linalg_norm_ord", lambda x: np.linalg.norm(x, ord=1, axis=0, keepdims=True),
   lambda x: jnp.linalg.norm(x, ord=1, axis=0, keepdims=True), (2, 3), make=away_from_zero)
op("np_add_reduce", lambda x: sq(np.add.reduce(x, axis=1)), lambda x: sq(jnp.sum(x, 1)),
   (2, 3))
op("np_ufuncs", lambda x, y: np.power(np.maximum(x, y), 2) / np.exp(np.minimum(x, y))
   + np.log1p(np.abs(x)) * np.sign(y),
   lambda x, y: jnp.power(jnp.maximum(x, y), 2) / jnp.exp(jnp.minimum(x, y))
   + jnp.log1p(jnp.abs(x)) * jnp.sign(y), (2, 3), (3,))

# ----------------------------------------------------------------------- torch-style methods

op("expand", lambda x: sq(x.expand(2, 3)) * x, lambda x: sq(jnp.broadcast_to(x, (2, 3))) * x,
   (3,))
op("expand_size1", lambda x: sq(x.expand(-1, 3)), lambda x: sq(jnp.broadcast_to(x, (2, 3))),
   (2, 1))
op("swapdims_view_as", lambda x, y: sq(wl.as_tensor(x).swapdims(0, 1).view_as(y)) * y,
   lambda x, y: sq(jnp.swapaxes(x, 0, 1).reshape(y.shape)) * y, (2, 3), (3, 2))
op("methods_chain", lambda x: x.t().mm(x).tril().exp().sum(0),
   lambda x: jnp.exp(jnp.tril(x.T @ x)).sum(0), (2, 3))
op("add_alpha", lambda x, y: sq(wl.as_tensor(x).add(y, alpha=3.0))
   * wl.as_tensor(x).sub(y, alpha=0.5),
   lambda x, y: sq(x + 3.0 * y) * (x - 0.5 * y), (2, 3), (3,))
op("flip_method_unbind_stack", lambda x: wl.stack(wl.unbind(x.flip(1), 1)[::-1], 1) * x,
   lambda x: x * x, (2, 3))

NAMES = list(OPS)
TWO = [n for n in NAMES if OPS[n].n == 2]
SCALAR_INPUTS = [n for n in NAMES if all(s == () for s in OPS[n].shapes)]


# ----------------------------------------------------------------------- JAX references


def _to_np(tree: Any) -> Any:
    return jax.tree.map(np.asarray, tree)


def _tuples(tree: Any) -> Any:
    return tuple(_tuples(t) for t in tree) if isinstance(tree, (tuple, list)) else tree


# JAX's references are jitted (its eager transforms compile every primitive apart, far
# slower here); XLA's cheaper optimization level compiles them about a quarter faster
_FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}


def jax_run(f: Callable, *xs: np.ndarray) -> Any:
    """``f(*xs)`` jitted, as NumPy arrays."""
    return _to_np(jax.jit(f).lower(*xs).compile(compiler_options=_FAST_COMPILE)(*xs))


@functools.cache
def ref(name: str) -> tuple:
    """``(f(x), J, H)`` by JAX, J and H as lists (of lists) of blocks, one per input."""
    o = OPS[name]
    an = o.argnums
    value, J, H = jax_run(lambda *xs: (o.jx(*xs), jax.jacrev(o.jx, an)(*xs),
                                       jax.jacfwd(jax.jacrev(o.jx, an), an)(*xs)), *o.inputs())
    if o.n == 1:
        return value, [J], [[H]]
    return value, list(J), [list(row) for row in H]


def weights(shape: tuple, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def contract(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a`` contracted with the leading axes of ``b`` (all of ``a``'s)."""
    return np.tensordot(a, b, axes=a.ndim)


def jv(J: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``J`` contracted with ``v`` over its trailing axes."""
    return np.tensordot(J, v, axes=v.ndim)


def per_input(o: Op, blocks: list) -> Any:
    """What a transform with ``o.argnums`` returns: one block, or a tuple of them."""
    return blocks[0] if o.n == 1 else tuple(blocks)


def hess_g(name: str) -> tuple:
    """For ``g = sum(f * R)``: R, its gradient blocks and its Hessian blocks."""
    value, J, H = ref(name)
    R = weights(np.shape(value), 7)
    return R, [contract(R, j) for j in J], [[contract(R, h) for h in row] for row in H]


def scalarized(o: Op, R: np.ndarray) -> Callable:
    return lambda *xs: wl.sum(o.wl(*xs) * R)


# ----------------------------------------------------------------------- comparisons


def assert_tree_close(actual: Any, expected: Any, path: str = "result",
                      rtol: float = RTOL, atol: float = ATOL) -> None:
    """``actual`` (wonderland) has ``expected``'s tuple structure, shapes and values; every
    leaf is a float64 wonderland Tensor."""
    if isinstance(expected, (tuple, list)):
        assert isinstance(actual, tuple), f"{path}: expected a tuple, got {type(actual)}"
        assert len(actual) == len(expected), f"{path}: {len(actual)} != {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_tree_close(a, e, f"{path}[{i}]", rtol, atol)
        return
    assert isinstance(actual, wl.Tensor), f"{path}: expected a Tensor, got {type(actual)}"
    assert actual.dtype == np.float64, f"{path}: dtype {actual.dtype}"
    e = np.asarray(expected)
    assert tuple(actual.shape) == e.shape, f"{path}: shape {actual.shape} != {e.shape}"
    np.testing.assert_allclose(np.asarray(actual.numpy()), e, rtol=rtol, atol=atol,
                               err_msg=path)


def nested(o: Op) -> Any:
    """H in the layout of a nesting with ``o.argnums``: one block or a tuple of tuples."""
    _, _, H = ref(o.name)
    return H[0][0] if o.n == 1 else tuple(tuple(row) for row in H)


# ----------------------------------------------------------------------- known bugs

# (test name or "*", op name) -> reason; NEST_XFAIL: (op name, nesting) -> reason
XFAIL: dict[tuple[str, str], str] = {}
NEST_XFAIL: dict[tuple[str, str], str] = {}


def params(names: list, test: str) -> list:
    out = []
    for n in names:
        reason = XFAIL.get((n, test)) or XFAIL.get((n, "*"))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(n, marks=marks, id=n))
    return out


# ----------------------------------------------------------------------- first order


@pytest.mark.parametrize("name", params(NAMES, "jacfwd"))
def test_jacfwd(name):
    o = OPS[name]
    _, J, _ = ref(name)
    assert_tree_close(wl.jacfwd(o.wl, o.argnums)(*o.inputs()), per_input(o, J))


@pytest.mark.parametrize("name", params(NAMES, "jacrev"))
def test_jacrev(name):
    o = OPS[name]
    _, J, _ = ref(name)
    assert_tree_close(wl.jacrev(o.wl, o.argnums)(*o.inputs()), per_input(o, J))


@pytest.mark.parametrize("name", params(NAMES, "jvp"))
def test_jvp(name):
    o = OPS[name]
    value, J, _ = ref(name)
    xs = o.inputs()
    vs = [weights(x.shape, 11 + i) for i, x in enumerate(xs)]
    out, tangent = wl.jvp(o.wl, tuple(xs), tuple(vs))
    assert_tree_close(out, value, "value")
    assert_tree_close(tangent, sum(jv(j, v) for j, v in zip(J, vs)), "tangent")


@pytest.mark.parametrize("name", params(NAMES, "vjp"))
def test_vjp(name):
    o = OPS[name]
    value, J, _ = ref(name)
    out, pullback = wl.vjp(o.wl, *o.inputs())
    assert_tree_close(out, value, "value")
    for seed in (3, 4):  # the pullback may be called twice
        u = weights(np.shape(value), seed)
        assert_tree_close(pullback(u), tuple(contract(u, j) for j in J), "cotangents")


# ----------------------------------------------------------------------- second order

NESTINGS = {
    "jacfwd-jacrev": lambda f, an: wl.jacfwd(wl.jacrev(f, an), an),
    "jacrev-jacrev": lambda f, an: wl.jacrev(wl.jacrev(f, an), an),
    "jacfwd-jacfwd": lambda f, an: wl.jacfwd(wl.jacfwd(f, an), an),
    "jacrev-jacfwd": lambda f, an: wl.jacrev(wl.jacfwd(f, an), an),
    "jacobian-jacobian": lambda f, an: wl.jacobian(wl.jacobian(f, an), an),
}


def nest_params() -> list:
    out = []
    for n in NAMES:
        for nest in NESTINGS:
            reason = NEST_XFAIL.get((n, nest))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(pytest.param(n, nest, marks=marks, id=f"{n}-{nest}"))
    return out


@pytest.mark.parametrize(("name", "nest"), nest_params())
def test_nested_jacobians(name, nest):
    o = OPS[name]
    got = NESTINGS[nest](o.wl, o.argnums)(*o.inputs())
    assert_tree_close(got, nested(o), nest)


@pytest.mark.parametrize("name", params(NAMES, "hessian"))
def test_hessian_and_grad_of_weighted_sum(name):
    o = OPS[name]
    R, G, HG = hess_g(name)
    g = scalarized(o, R)
    xs = o.inputs()
    assert_tree_close(wl.grad(g, o.argnums)(*xs), per_input(o, G), "grad")
    expected = HG[0][0] if o.n == 1 else tuple(tuple(row) for row in HG)
    assert_tree_close(wl.hessian(g, o.argnums)(*xs), expected, "hessian")


@pytest.mark.parametrize("name", params(NAMES, "jvp_of_grad"))
def test_jvp_of_grad(name):
    o = OPS[name]
    _, G, HG = hess_g(name)
    xs = o.inputs()
    vs = [weights(x.shape, 21 + i) for i, x in enumerate(xs)]
    grads, tangent = wl.jvp(wl.grad(scalarized(o, hess_g(name)[0]), o.argnums), tuple(xs),
                            tuple(vs))
    assert_tree_close(grads, per_input(o, G), "grad")
    assert_tree_close(tangent, per_input(o, [sum(jv(h, v) for h, v in zip(row, vs))
                                             for row in HG]), "tangent")


@pytest.mark.parametrize("name", params(NAMES, "grad_of_grad"))
def test_grad_of_grad_dot_and_vjp_of_grad(name):
    """Reverse over reverse: grad of <grad_0 g, S> and the pullback of grad_0 g, = S H_g."""
    o = OPS[name]
    R, G, HG = hess_g(name)
    xs = o.inputs()
    S = weights(xs[0].shape, 31)
    inner = wl.grad(scalarized(o, R), 0)
    expected = per_input(o, [contract(S, h) for h in HG[0]])
    got = wl.grad(lambda *a: wl.sum(inner(*a) * S), o.argnums)(*xs)
    assert_tree_close(got, expected, "grad of <grad g, S>")
    out, pullback = wl.vjp(inner, *xs)
    assert_tree_close(out, G[0], "vjp value")
    assert_tree_close(pullback(S), tuple(contract(S, h) for h in HG[0]), "vjp of grad")


@pytest.mark.parametrize("name", params(SCALAR_INPUTS, "grad_grad"))
def test_grad_of_grad_of_scalar_inputs(name):
    o = OPS[name]
    R, _, HG = hess_g(name)
    g = scalarized(o, R)
    xs = o.inputs()
    for i in range(o.n):
        for j in range(o.n):
            got = wl.grad(wl.grad(g, i), j)(*xs)
            assert_tree_close(got, HG[i][j], f"d/dx{j} d/dx{i}")


# ----------------------------------------------------------------------- has_aux


@pytest.mark.parametrize("name", params(NAMES, "has_aux"))
def test_has_aux(name):
    o = OPS[name]
    value, J, H = ref(name)
    R, G, HG = hess_g(name)
    xs = o.inputs()

    def f_aux(*a):
        out = o.wl(*a)
        return out, {"twice": 2 * out}

    def g_aux(*a):
        out = o.wl(*a)
        return wl.sum(out * R), out

    an = o.argnums
    (hess, aux) = wl.jacfwd(wl.jacrev(f_aux, an, has_aux=True), an, has_aux=True)(*xs)
    assert_tree_close(hess, nested(o), "jacfwd(jacrev, has_aux)")
    assert_tree_close(aux["twice"], 2 * value, "aux")
    (hess, aux) = wl.hessian(g_aux, an, has_aux=True)(*xs)
    assert_tree_close(hess, HG[0][0] if o.n == 1 else tuple(tuple(r) for r in HG),
                      "hessian has_aux")
    assert_tree_close(aux, value, "hessian aux")
    grads, aux = wl.grad(g_aux, an, has_aux=True)(*xs)
    assert_tree_close(grads, per_input(o, G), "grad has_aux")
    vs = [weights(x.shape, 41 + i) for i, x in enumerate(xs)]
    out, tangent, aux = wl.jvp(f_aux, tuple(xs), tuple(vs), has_aux=True)
    assert_tree_close(tangent, sum(jv(j, v) for j, v in zip(J, vs)), "jvp has_aux")
    assert_tree_close(aux["twice"], 2 * value, "jvp aux")


# ----------------------------------------------------------------------- argnums


@pytest.mark.parametrize("name", params(TWO, "argnums"))
def test_single_and_reordered_argnums(name):
    o = OPS[name]
    _, J, H = ref(name)
    R, G, HG = hess_g(name)
    xs = o.inputs()
    g = scalarized(o, R)
    assert_tree_close(wl.jacrev(o.wl, (1, 0))(*xs), (J[1], J[0]), "jacrev (1, 0)")
    assert_tree_close(wl.jacfwd(o.wl, 1)(*xs), J[1], "jacfwd 1")
    assert_tree_close(wl.hessian(g, 1)(*xs), HG[1][1], "hessian 1")
    assert_tree_close(wl.hessian(g, (1, 0))(*xs), ((HG[1][1], HG[1][0]), (HG[0][1], HG[0][0])),
                      "hessian (1, 0)")
    assert_tree_close(wl.jacfwd(wl.jacrev(o.wl, 0), 1)(*xs), H[0][1], "jacfwd(jacrev 0) 1")
    assert_tree_close(wl.jacrev(wl.jacfwd(o.wl, 1), 0)(*xs), H[1][0], "jacrev(jacfwd 1) 0")
    assert_tree_close(wl.jacrev(wl.jacrev(o.wl, 1), 0)(*xs), H[1][0], "jacrev(jacrev 1) 0")
    assert_tree_close(wl.jacfwd(wl.jacfwd(o.wl, 0), 1)(*xs), H[0][1], "jacfwd(jacfwd 0) 1")


# ----------------------------------------------------------------------- third order

THIRD = ["sigmoid_softplus", "tanh_sigmoid_softplus_0d", "logsumexp_keepdim", "softmax_dim0",
         "norm_dim", "prod_dim", "index_int_array", "matmul_self", "pow_tensor", "solve_vector",
         "inv", "bce_logits_mean", "cholesky_spd"]


@functools.cache
def ref3(name: str) -> np.ndarray:
    """JAX's third derivative in the first input (a nesting of tuple-valued Jacobians, which
    several argnums would give, is not a documented output of wonderland's transforms)."""
    return jax_run(jax.jacfwd(jax.jacfwd(jax.jacrev(OPS[name].jx))), *OPS[name].inputs())


@pytest.mark.parametrize("name", params(THIRD, "third"))
def test_third_order(name):
    o = OPS[name]
    xs = o.inputs()
    got = wl.jacfwd(wl.jacfwd(wl.jacrev(o.wl)))(*xs)
    assert_tree_close(got, ref3(name), "jacfwd(jacfwd(jacrev))")
    got = wl.jacrev(wl.jacfwd(wl.jacrev(o.wl)))(*xs)
    assert_tree_close(got, ref3(name), "jacrev(jacfwd(jacrev))")
    got = wl.jacrev(wl.jacrev(wl.jacrev(o.wl)))(*xs)
    assert_tree_close(got, ref3(name), "jacrev(jacrev(jacrev))")


# ----------------------------------------------------------------------- forward over forward


def second_directional(H: list, vs: list, ws: list) -> np.ndarray:
    """sum_ij d2f/dx_i dx_j [w_i, v_j], from JAX's blocks H[j][i] (out + x_j + x_i)."""
    return sum(jv(jv(H[j][i], ws[i]), vs[j]) for j in range(len(vs)) for i in range(len(ws)))


@pytest.mark.parametrize("name", params(NAMES, "jvp_of_jvp"))
def test_jvp_of_jvp_and_jvp_of_vjp(name):
    o = OPS[name]
    value, J, H = ref(name)
    xs = o.inputs()
    vs = [weights(x.shape, 51 + i) for i, x in enumerate(xs)]
    ws = [weights(x.shape, 61 + i) for i, x in enumerate(xs)]
    tangent, second = wl.jvp(lambda *a: wl.jvp(o.wl, a, tuple(vs))[1], tuple(xs), tuple(ws))
    assert_tree_close(tangent, sum(jv(j, v) for j, v in zip(J, vs)), "inner tangent")
    assert_tree_close(second, second_directional(H, vs, ws), "jvp of jvp")
    u = weights(np.shape(value), 71)
    pulled, pushed = wl.jvp(lambda *a: wl.vjp(o.wl, *a)[1](u), tuple(xs), tuple(ws))
    assert_tree_close(pulled, tuple(contract(u, j) for j in J), "pullback")
    expected = tuple(sum(contract(u, jv(H[k][i], ws[i])) for i in range(o.n))
                     for k in range(o.n))
    assert_tree_close(pushed, expected, "jvp of vjp")


# ----------------------------------------------------------------------- linearize

SINGLE = [n for n in NAMES if OPS[n].n == 1]


@pytest.mark.parametrize("name", params(SINGLE, "linearize"))
def test_linearize_and_its_derivative_in_the_point(name):
    """The Taylor model's value, Jacobian, jvp and prediction; and d/dx0 of J(x0) v, that
    is H v, by differentiating through linearize with jacfwd and jacrev."""
    o = OPS[name]
    value, (J,), ((H,),) = ref(name)
    (x,) = o.inputs()
    v = weights(x.shape, 81)
    model = wl.linearize(o.wl, x)
    assert_tree_close(model.value, value, "value")
    assert_tree_close(model.jacobian, J, "jacobian")
    assert_tree_close(model.jvp(v), jv(J, v), "jvp")
    assert_tree_close(model(x + v), value + jv(J, v), "model(x0 + v)")
    hv = jv(H, v)  # (H is symmetric in its two input blocks)
    assert_tree_close(wl.jacfwd(lambda a: wl.linearize(o.wl, a).jvp(v))(x), hv, "jacfwd")
    assert_tree_close(wl.jacrev(lambda a: wl.linearize(o.wl, a).jvp(v))(x), hv, "jacrev")


# ----------------------------------------------------------------------- tuple outputs


def _tuple_wl(x, y):
    a, b, c = wl.unbind(x, 1)
    return a * y[0], wl.sum(x ** 2, dim=0) * y, wl.chunk(x, 2, 1)[0] * wl.sin(y[:2])


def _tuple_jax(x, y):
    return x[:, 0] * y[0], jnp.sum(x ** 2, 0) * y, x[:, :2] * jnp.sin(y[:2])


TUPLE_X = np.random.default_rng(5).standard_normal((2, 3))
TUPLE_Y = np.random.default_rng(6).standard_normal(3)


@functools.cache
def tuple_ref() -> tuple:
    return _tuples(jax_run(
        lambda x, y: (_tuple_jax(x, y), jax.jacrev(_tuple_jax, (0, 1))(x, y),
                      jax.jacfwd(jax.jacrev(_tuple_jax))(x, y),
                      jax.hessian(lambda x, y: jnp.sum(_tuple_jax(x, y)[1]), (0, 1))(x, y)),
        TUPLE_X, TUPLE_Y))


@pytest.mark.parametrize("mode", ["jacrev", "jacfwd", "jacobian"])
def test_tuple_outputs_first_order(mode):
    value, J, _, _ = tuple_ref()
    got = getattr(wl, mode)(_tuple_wl, (0, 1))(TUPLE_X, TUPLE_Y)
    assert_tree_close(got, J, mode)
    tangents = (weights((2, 3), 1), weights(3, 2))
    out, tangent = wl.jvp(_tuple_wl, (TUPLE_X, TUPLE_Y), tangents)
    assert_tree_close(out, value, "jvp value")
    assert_tree_close(tangent, tuple(jv(j[0], tangents[0]) + jv(j[1], tangents[1]) for j in J),
                      "jvp tangents")
    out, pullback = wl.vjp(_tuple_wl, TUPLE_X, TUPLE_Y)
    us = tuple(weights(np.shape(v), 3 + k) for k, v in enumerate(value))
    assert_tree_close(pullback(us), tuple(sum(contract(u, j[i]) for u, j in zip(us, J))
                                          for i in range(2)), "vjp")


@pytest.mark.parametrize("nest", list(NESTINGS))
def test_tuple_outputs_second_order(nest):
    _, _, H, _ = tuple_ref()
    got = NESTINGS[nest](_tuple_wl, 0)(TUPLE_X, TUPLE_Y)
    assert_tree_close(got, H, nest)


def test_hessian_of_one_of_the_outputs_in_two_arguments():
    _, _, _, HS = tuple_ref()
    got = wl.hessian(lambda x, y: wl.sum(_tuple_wl(x, y)[1]), (0, 1))(TUPLE_X, TUPLE_Y)
    assert_tree_close(got, HS, "hessian")


# ----------------------------------------------------------------------- fourth order

FOURTH = ["logsumexp_keepdim", "exp_log_0d", "norm_p3", "softmax_dim0", "solve_vector",
          "index_int_array_2d", "bce_logits_none"]


@functools.cache
def ref4(name: str) -> np.ndarray:
    o = OPS[name]
    R = weights(np.shape(ref(name)[0]), 7)
    g = lambda *xs: jnp.sum(o.jx(*xs) * R)  # noqa: E731
    return jax_run(jax.hessian(jax.hessian(g)), *o.inputs())


@pytest.mark.parametrize("name", params(FOURTH, "fourth"))
def test_fourth_order_over_the_hessian(name):
    """(wl.hessian takes scalar functions only, as documented: the Hessian, a matrix, is
    differentiated twice more with the Jacobians. Not jacrev(jacrev(hessian)): pulling the
    n**3 cotangents back through the inner batched passes builds (n**3, n**2, n, ...) arrays,
    as JAX's vmap would: 18 s for n = 12, 130 s for n = 16.)"""
    o = OPS[name]
    g = scalarized(o, weights(np.shape(ref(name)[0]), 7))
    xs = o.inputs()
    assert_tree_close(wl.jacfwd(wl.jacrev(wl.hessian(g)))(*xs), ref4(name), "fwd-rev-hessian")
    assert_tree_close(wl.jacrev(wl.jacfwd(wl.hessian(g)))(*xs), ref4(name), "rev-fwd-hessian")


# ----------------------------------------------------------------------- input kinds


def test_integer_list_and_tensor_inputs_become_float64():
    """Integers become float64 (README); a Tensor with requires_grad passes through too."""
    g = lambda x: wl.sum(wl.exp(x * 0.5) * x ** 3)  # noqa: E731
    gj = lambda x: jnp.sum(jnp.exp(x * 0.5) * x ** 3)  # noqa: E731
    xf = np.array([1.0, -2.0, 3.0])
    expected = jax_run(jax.hessian(gj), xf)
    for x in (np.array([1, -2, 3]), [1, -2, 3], wl.tensor([1.0, -2.0, 3.0], requires_grad=True)):
        assert_tree_close(wl.hessian(g)(x), expected, f"hessian of {type(x).__name__}")
        assert_tree_close(wl.jacfwd(wl.grad(g))(x), expected, f"jacfwd(grad) {type(x)}")
