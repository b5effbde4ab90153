"""The data interface of the solvers: sums over row blocks.

Every solver of ``wl.linear`` that has a closed form reads ``X`` only through the
functions here: the least-squares solvers through the sufficient statistics
(``XᵀX``, ``Xᵀy``, column sums, ``yᵀy``), damped Newton through the loss, gradient and
Hessian of the log-loss at ``θ``, each a sum over rows. In memory the sums run over
row blocks of a few MiB (one BLAS call for ``XᵀX``); on Dask input
``dask_blocks`` computes the same sums per chunk and adds them up in a tree, the
solvers unchanged.

No function here copies ``X`` as a whole or writes into it: the largest temporary is
one row block.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import log_softmax

from .. import backend
from .base import check_finite_from_sums

BLOCK_BYTES = 4 * 2**20  # rows per block: about this many bytes of X

_FIRST_LOOK = threading.Lock()


def _after_fork() -> None:
    """A child forked while another thread looked at BLAS: the lock free. (A child forked
    during another thread's fit keeps BLAS on one thread: slower, never wrong; setting
    thread counts in the child can hang when the fork caught BLAS mid-call.)"""
    global _FIRST_LOOK
    _FIRST_LOOK = threading.Lock()


@contextlib.contextmanager
def serial_blas() -> Iterator[None]:
    """A context in which BLAS runs on one thread. For loops of many small BLAS calls
    over row blocks (memory-bound products): waking a pool of threads for each call
    costs more than it brings, and a lot more when other processes hold the cores.

    On leaving, each BLAS gets back the thread count it had when first seen, not the
    one seen on entering: a context entered while another thread's was open saw 1, and
    restoring that left BLAS on one thread for good after two fits overlapped (a fit
    still inside may then run its last blocks on more threads: slower, never wrong)."""
    with _FIRST_LOOK:  # (two threads' first looks: the later saw the other's 1)
        libraries = _blas_libraries()
    for library, _ in libraries:
        library.set_num_threads(1)
    try:
        yield
    finally:
        for library, threads in libraries:
            library.set_num_threads(threads)


@functools.cache
def _blas_libraries() -> list[tuple[Any, int]]:
    """Each BLAS loaded (threadpoolctl's controller of it) and its thread count now."""
    from threadpoolctl import ThreadpoolController

    found = ThreadpoolController().select(user_api="blas").lib_controllers
    return [(library, library.num_threads) for library in found]


backend.after_fork(_after_fork)


def block_rows(n_features: int, block_bytes: int = BLOCK_BYTES) -> int:
    """Rows per block so that a block of ``X`` takes about ``block_bytes``."""
    return max(64, block_bytes // (8 * max(n_features, 1)))


def row_slices(n_samples: int, rows: int) -> Iterator[slice]:
    """Consecutive row slices of at most ``rows`` rows covering ``range(n_samples)``."""
    for start in range(0, n_samples, rows):
        yield slice(start, min(start + rows, n_samples))


# ------------------------------------------------------------------ least squares


@dataclass(frozen=True)
class GramSummary:
    """Sufficient statistics of a least-squares problem, centred when there is an
    intercept: ``gram = X̃ᵀX̃``, ``xty = X̃ᵀỹ``, ``yty = ỹᵀỹ`` with ``X̃ = X - x̄``,
    ``ỹ = y - ȳ`` (``x̄ = 0``, ``ȳ = 0`` without intercept). ``raw_diag`` is the diagonal
    of the uncentred ``XᵀX`` (to tell a constant column from a small one). For ``k``
    targets (``y`` of shape ``(n, k)``) ``y_mean`` and ``yty`` have shape ``(k,)`` (one
    per target) and ``xty`` shape ``(d, k)``."""

    n_samples: float  # the sum of the weights when rows are weighted
    x_mean: np.ndarray
    y_mean: Any
    gram: np.ndarray
    xty: np.ndarray
    yty: Any
    raw_diag: np.ndarray


# when a centred diagonal entry is below this fraction of the raw one, the means
# dominate the spread and X̃ᵀX̃ = XᵀX - n x̄x̄ᵀ would lose digits: centre the blocks
CANCELLATION = 1e-4


def gram_summary(X: np.ndarray, y: np.ndarray, fit_intercept: bool,
                 weight: np.ndarray | None = None) -> GramSummary:
    """The statistics of ``GramSummary`` in about one pass of BLAS over ``X``.

    ``XᵀX`` is one call on the caller's array (no copy); ``Xᵀỹ`` (targets centred) and
    the column sums come from one product ``[ỹ, 1]ᵀX`` (one more read of ``X``). Where the
    means dwarf the spread (centring by subtraction would lose digits) the centred Gram matrix is
    recomputed over centred row blocks. NaN or infinity in ``X`` is caught from the
    diagonal of ``XᵀX`` and the column sums (scikit-learn's error message), so there
    is no separate pass to check it. Rows weighted by ``weight``: ``weighted_gram_summary``.
    ``y`` may hold several targets as columns: one pass serves them all.
    """
    if weight is not None:
        return weighted_gram_summary(X, y, weight, fit_intercept)
    n, d = X.shape
    Y = y.reshape(n, -1)  # the targets as columns (a view)
    xtx = X.T @ X
    raw_diag = np.diag(xtx).copy()
    if fit_intercept:
        k = Y.shape[1]
        y_mean = np.mean(Y, axis=0)
        yc = Y - y_mean  # centred first, as the Dask blocks: Xᵀy - n x̄ȳ would cancel the
        # fit's digits where a target's mean dwarfs its spread (y ~ 1e6 ± 0.1)
        rhs = np.empty((k + 1, n))  # [Ỹ, 1]ᵀX: one read of X for XᵀỸ and the column sums
        rhs[:k] = yc.T
        rhs[k] = 1.0
        product = rhs @ X
        xty, x_sum = product[:k].T, product[k]
        check_finite_from_sums(X, np.concatenate([raw_diag, x_sum]))
        x_mean = x_sum / n
        gram = xtx - n * np.outer(x_mean, x_mean)
        xty = xty - np.outer(x_mean, yc.sum(axis=0))  # (X - x̄)ᵀỸ; ΣỸ is 0 up to rounding
        yty = np.einsum("ij,ij->j", yc, yc)
        if np.any(np.diag(gram) < CANCELLATION * raw_diag):
            gram, xty = _centred_blocks(X, Y, x_mean, y_mean)
    else:
        check_finite_from_sums(X, raw_diag)
        x_mean = np.zeros(d)
        y_mean = np.zeros(Y.shape[1])
        gram = xtx
        xty = X.T @ Y
        yty = np.einsum("ij,ij->j", Y, Y)
    return _summary(n, x_mean, y_mean, 0.5 * (gram + gram.T), xty, yty, raw_diag, y.ndim)


def _summary(n: float, x_mean: np.ndarray, y_mean: np.ndarray, gram: np.ndarray,
             xty: np.ndarray, yty: np.ndarray, raw_diag: np.ndarray,
             y_ndim: int) -> GramSummary:
    """The ``GramSummary`` of per-target statistics; for a 1-D ``y`` its one target's, as
    numbers and a vector."""
    if y_ndim == 1:
        return GramSummary(n, x_mean, float(y_mean[0]), gram, xty[:, 0], float(yty[0]),
                           raw_diag)
    return GramSummary(n, x_mean, y_mean, gram, xty, yty, raw_diag)


def weighted_gram_summary(X: np.ndarray, y: np.ndarray, weight: np.ndarray,
                          fit_intercept: bool) -> GramSummary:
    """``gram_summary`` of the rows weighted by ``weight`` (as if row ``i`` appeared
    ``weight[i]`` times): weighted means, ``Σ wᵢ x̃ᵢx̃ᵢᵀ``, ``Σ wᵢ x̃ᵢỹᵢ``, ``Σ wᵢ ỹᵢ²``,
    and ``n_samples = Σ wᵢ``. Centred by row blocks: no copy of ``X``."""
    n, d = X.shape
    Y = y.reshape(n, -1)
    total = float(weight.sum())
    x_mean = (weight @ X) / total if fit_intercept else np.zeros(d)
    y_mean = (weight @ Y) / total if fit_intercept else np.zeros(Y.shape[1])
    gram, xty, raw_diag = np.zeros((d, d)), np.zeros((d, Y.shape[1])), np.zeros(d)
    for rows in row_slices(n, block_rows(d)):
        Xb, wb = X[rows], weight[rows]
        raw_diag += wb @ (Xb * Xb)
        Xw = (Xb - x_mean) * wb[:, None]
        gram += Xw.T @ (Xb - x_mean)
        xty += Xw.T @ (Y[rows] - y_mean)
    check_finite_from_sums(X, np.concatenate([raw_diag, x_mean]))
    yc = Y - y_mean
    return _summary(total, x_mean, y_mean, 0.5 * (gram + gram.T), xty, weight @ (yc * yc),
                    raw_diag, y.ndim)


def _centred_blocks(X: np.ndarray, Y: np.ndarray, x_mean: np.ndarray,
                    y_mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``X̃ᵀX̃`` and ``X̃ᵀỸ`` (targets as the columns of ``Y``) by centring one row block at
    a time (exact centring, memory bounded by a block)."""
    n, d = X.shape
    gram = np.zeros((d, d))
    xty = np.zeros((d, Y.shape[1]))
    for rows in row_slices(n, block_rows(d)):
        Xc = X[rows] - x_mean
        gram += Xc.T @ Xc
        xty += Xc.T @ (Y[rows] - y_mean)
    return gram, xty


def scaled_top(gram: np.ndarray, n: float, scale: np.ndarray) -> float:
    """The largest eigenvalue of ``gram / (s sᵀ) / n``: the correlation matrix of ``n``
    rows' columns over their ``scale`` ``s`` (0 without columns)."""
    return float(np.linalg.eigvalsh(gram / np.outer(scale, scale) / n)[-1]) if gram.size \
        else 0.0


def column_means(X: np.ndarray, fit_intercept: bool,
                 weight: np.ndarray | None = None) -> np.ndarray:
    """Column means (zeros without intercept), weighted by ``weight`` when given, by row
    blocks. The column sums double as the check for NaN and infinity (scikit-learn's
    error), so ``X`` is read once."""
    n, d = X.shape
    total = np.zeros(d)
    for rows in row_slices(n, block_rows(d)):
        total += X[rows].sum(axis=0) if weight is None else weight[rows] @ X[rows]
    check_finite_from_sums(X, total)
    count = n if weight is None else float(weight.sum())
    return total / count if fit_intercept else np.zeros(d)


def column_scales(X: np.ndarray, mean: np.ndarray,
                  weight: np.ndarray | None = None) -> np.ndarray:
    """Column spreads ``sqrt(mean((x - m)²))`` around ``mean`` (weighted by ``weight`` when
    given) by row blocks, 1 where a column is constant: the scaling of standardized
    coordinates. Squares that overflow raise ``base.TooLargeError``."""
    n, d = X.shape
    sq = np.zeros(d)
    for rows in row_slices(n, block_rows(d)):
        Xc = X[rows] - mean
        sq += np.einsum("ij,ij->j", Xc, Xc) if weight is None else \
            np.einsum("i,ij,ij->j", weight[rows], Xc, Xc)
    # an overflowing sum of squares made the scale infinite and the column's coefficient
    # 0 without a word; X itself was checked by ``column_means``
    check_finite_from_sums(X, sq)
    scale = np.sqrt(sq / (n if weight is None else float(weight.sum())))
    scale[~(scale > 1e-12 * np.abs(mean))] = 1.0
    scale[scale == 0] = 1.0
    return scale


# ------------------------------------------------------------------ logistic


@dataclass
class LogisticTerms:
    """Sums over the rows at ``θ = (W, c)`` in centred coordinates ``z = (x - m)W + c``:
    the log-loss, its gradient (``(d + 1, k)``: the last row is the intercept's) and,
    when asked, its Hessian (``((d + 1) k, (d + 1) k)``, the parameters in C order).
    ``separated`` is True when every row is classified correctly (all margins > 0)."""

    loss: float
    grad: np.ndarray
    hess: np.ndarray | None
    separated: bool


def softplus_and_sigmoid(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log(1 + e^z)`` and ``1/(1 + e^-z)``, stable for any ``z``, sharing one ``exp``.

    The binary passes call it on the signed scores ``u = (1 - 2y) z``: a row's log-loss
    is ``softplus(u)``, its residual ``p - y`` is ``(1 - 2y) σ(u)`` and its curvature
    ``σ(u)(1 - σ(u))``. The textbook ``softplus(z) - y z`` cancels for a row fitted well
    (``z = 30``: two numbers of size 30 whose difference is 1e-13, so the sum over the
    rows was good to ``1e-16 Σ|z|`` only): Newton's stopping rule, relative to a loss of
    1e-9, then read rounding and ran to ``max_iter``."""
    e = np.exp(-np.abs(z))
    softplus = np.maximum(z, 0.0) + np.log1p(e)
    q = 1.0 / (1.0 + e)
    return softplus, np.where(z >= 0, q, e * q)


# rows per block of the logistic passes: small enough for the block to stay in cache
# between its two products (scores, then gradient)
LOGISTIC_BLOCK_BYTES = 2**19


def logistic_terms(X: np.ndarray, Y: np.ndarray, W: np.ndarray, c: np.ndarray,
                   mean: np.ndarray, hessian: bool, separation: bool = True,
                   weight: np.ndarray | None = None) -> LogisticTerms:
    """Log-loss sums at ``(W, c)``: binary when ``W`` has one column (``Y`` holds 0/1 in
    its one column), multinomial otherwise (``Y`` one-hot ``(n, k)``); each row's terms
    times its ``weight`` when given.

    One pass over ``X`` by row blocks: each block gives its scores, its share of the
    loss and gradient, and (``hessian=True``) of ``Σ p(1-p) x̃x̃ᵀ`` (binary) or of the
    softmax Hessian (multinomial), while it is in cache. ``separated`` is only
    computed with ``separation=True`` (else False).
    """
    n, d = X.shape
    k = W.shape[1]
    b = c - mean @ W
    p_dim = (d + 1) * k
    loss = 0.0
    gX = np.zeros((d, k))
    g_sum = np.zeros(k)
    H = np.zeros((p_dim, p_dim)) if hessian else None
    separated = separation
    rows_per_block = block_rows(d + 1, LOGISTIC_BLOCK_BYTES if k == 1 and not hessian
                                else BLOCK_BYTES)
    buf = np.empty((min(rows_per_block, n), d + 1)) if hessian else None
    w = np.ascontiguousarray(W[:, 0])
    for rows in row_slices(n, rows_per_block):
        Xb = X[rows]
        Yb = Y[rows]
        m = Xb.shape[0]
        wb = None if weight is None else weight[rows]
        if k == 1:
            z = Xb @ w + b[0]
            yb = Yb[:, 0]
            sign = 1.0 - 2.0 * yb
            softplus, q = softplus_and_sigmoid(sign * z)  # signed scores: no cancellation
            r = sign * q  # p - y
            if wb is None:
                loss += float(np.sum(softplus))
            else:
                loss += float(wb @ softplus)
                r *= wb
            gX[:, 0] += Xb.T @ r
            g_sum[0] += r.sum()
            if separated:
                right = ((yb > 0) == (z > 0)) & (z != 0)
                separated = bool(np.all(right if wb is None else right | (wb == 0)))
        else:
            Z = Xb @ W + b
            logp = log_softmax(Z, axis=1)
            row_loss = np.sum(logp * Yb, axis=1)
            loss -= float(np.sum(row_loss) if wb is None else wb @ row_loss)
            P = np.exp(logp)
            R = P - Yb
            if wb is not None:
                R *= wb[:, None]
            gX += Xb.T @ R
            g_sum += R.sum(axis=0)
            if separated:
                true = np.sum(Z * Yb, axis=1, keepdims=True)
                right = np.sum(Z >= true, axis=1) == 1
                separated = bool(np.all(right if wb is None else right | (wb == 0)))
        if hessian:
            Xt = buf[:m]
            np.subtract(Xb, mean, out=Xt[:, :d])
            Xt[:, d] = 1.0
            if k == 1:
                curvature = q * (1.0 - q) if wb is None else q * (1.0 - q) * wb
                Xt *= np.sqrt(curvature)[:, None]
                H += Xt.T @ Xt
            else:
                if wb is not None:  # each row's block of the Hessian, times its weight
                    Xt *= np.sqrt(wb)[:, None]
                _multinomial_hessian_block(H, Xt, P, k)
    grad = np.empty((d + 1, k))
    grad[:d] = gX - np.outer(mean, g_sum)
    grad[d] = g_sum
    return LogisticTerms(loss, grad, H, separated)


def _multinomial_hessian_block(H: np.ndarray, Xt: np.ndarray, P: np.ndarray, k: int) -> None:
    """Add one block's ``Σ_i (diag(p_i) - p_i p_iᵀ) ⊗ x̃_i x̃_iᵀ`` to ``H`` (parameters
    ordered ``(feature, class)``, C order)."""
    m, d1 = Xt.shape
    U = (Xt[:, :, None] * P[:, None, :]).reshape(m, d1 * k)
    H -= U.T @ U
    for a in range(k):
        V = Xt * np.sqrt(P[:, a])[:, None]
        H[a::k, a::k] += V.T @ V


def logistic_loss(X: np.ndarray, Y: np.ndarray, W: np.ndarray, c: np.ndarray,
                  mean: np.ndarray, weight: np.ndarray | None = None) -> float:
    """The log-loss sum alone at ``(W, c)`` (a line-search trial), rows weighted by
    ``weight`` when given."""
    n, d = X.shape
    b = c - mean @ W
    loss = 0.0
    if W.shape[1] == 1:
        w = np.ascontiguousarray(W[:, 0])
        for rows in row_slices(n, block_rows(d, LOGISTIC_BLOCK_BYTES)):
            z = X[rows] @ w + b[0]
            softplus = softplus_and_sigmoid((1.0 - 2.0 * Y[rows, 0]) * z)[0]
            loss += float(np.sum(softplus) if weight is None else weight[rows] @ softplus)
        return loss
    for rows in row_slices(n, block_rows(d)):
        terms = np.sum(log_softmax(X[rows] @ W + b, axis=1) * Y[rows], axis=1)
        loss -= float(np.sum(terms) if weight is None else weight[rows] @ terms)
    return loss
