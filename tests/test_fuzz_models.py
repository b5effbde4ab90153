"""Differential fuzzing of wonderland's losses and linear models, hunting silent wrong numbers.

Losses (against ``torch.nn.functional``, float64 and float32, every reduction): hypothesis
draws predictions and targets of shapes ``(1,) (2,) (5,) (13,) (3, 4) (1, 1)`` (logits
``(n, k)`` and ``(k,)`` with a 0-d label for ``cross_entropy``) from a small grid (ties,
p = y, p - y = ±delta exactly: the kinks) mixed with wide floats (|v| <= 1e3, logits to
±1000 and the overflow edges ±700, ±745, ±88.8). Values and the gradient in the
prediction (``wl.grad`` of the loss, or of ``sum(loss * weights)`` for ``"none"``) are
compared with ``mse_loss``, ``l1_loss``, ``huber_loss(delta=)``, ``relu(1 - y s)`` for
``hinge`` (relu's subgradient 0 at the kink is the README's; ``clamp(min=0)`` would pass
``-y``, checked once plainly), ``binary_cross_entropy``, ``..._with_logits`` and
``cross_entropy``, to 1e-11 relative (float64) / 2e-5 (float32) of the largest term; the
result must keep the input's dtype. ``zero_one`` is checked against ``[y s <= 0]``.
``binary_cross_entropy`` is compared with torch's at the probability clipped to
``[eps, 1 - eps]`` (README), and its gradient with the closed form ``(q - y) / (q (1 - q))``:
torch's backward divides by ``max(p (1 - p), 1e-12)``, so for p within 1e-12 of 0 or 1 its
gradient is not the derivative (p = 0, y = 0: wonderland 1.0, torch at the clip bound
2.2e-4); those draws skip the torch gradient. Infinite logits are checked once against the
README's limits. NaN predictions and the error paths are left to the other test files.

Linear models (``design``: n in 1..60, d in 1..8, standard normal columns, optionally a
duplicated or scaled copy of a column, a constant column, rounded integer data; each column
scaled by 1, 1e3, 1e6 or 1e-6; y = X w + noise + an offset of 0, -3 or 1e6; with and
without intercept; n < d included):

- ``LinearRegression`` (``auto``, ``normal``, ``lstsq``) against the minimum-norm SVD
  solution with the README's cutoff ``sigma <= 1e-10 sigma_max``: the residual sum of
  squares may not exceed the reference's by more than 1e-9 relative; no NaN; an exactly
  dependent design must give ``CollinearityWarning``, a well-conditioned one
  (``sigma_min > 1e-6 sigma_max``) none; coefficients (in units of the column scales)
  match the reference to ``1e-9 cond`` and scikit-learn's where unique. ``"gd"`` is left
  out (its stopping rule makes any tolerance a statement about ``max_iter``, not about
  correctness). For a dependent design with columns of scales 1 and 1e-6, the null
  vectors are found on the Jacobi-scaled data and mapped back, which costs about
  log10(scale ratio) digits: the tolerance there grows with the ratio of column scales.
- ``Ridge(alpha)`` (sklearn's scaling, ``||y - Xw - b||² + alpha ||w||²``) against the SVD
  solution ``V diag(s / (s² + alpha)) Uᵀ y`` of the centred data and sklearn's
  ``Ridge(solver="svd")`` where ``cond(XᵀX + alpha I) < 1e8``.
- ``LogisticRegression`` (``auto``, ``newton``, ``lbfgs``; 2 to 4 classes, alpha > 0 on
  well-conditioned standard normal data, optionally scaled by 1e3 or 1e-3 with alpha
  scaled by the square so that the problem is the same) against sklearn's
  ``LogisticRegression(C=1 / (alpha n), tol=1e-12)``: the objective ``mean log-loss +
  alpha/2 ||W||²`` must be within the documented stopping rule of sklearn's (Newton: 1e-6
  relative; L-BFGS: a gradient of 1e-6 per standardized coordinate, a gap of at most
  ``p 1e-12 / (2 alpha)``); by alpha-strong convexity the coefficients must then lie within
  ``sqrt(2 gap / alpha)`` (multiclass with intercept: the softmax intercepts are only
  defined up to a shift, so there ``predict_proba`` is compared instead);
  ``predict_proba`` rows sum to 1, equal the sigmoid/softmax of ``decision_function``,
  which equals ``X coef_ᵀ + intercept_``, and ``predict`` its argmax (rows with a tie
  within 1e-9 excepted). ``alpha = 0`` on separable data is left out: no minimizer.
- Layout: the same numbers as an F-ordered array, a strided view, float32 (values drawn
  representable in float32, so the data are identical) or a DataFrame give the fit of the
  C-ordered float64 array to 1e-9.

Found (fixed since): float32 ``cross_entropy`` of a small loss beside large logits lost
its digits (``logsumexp(z) - z[c]``;
``test_cross_entropy_float32_small_loss_beside_large_logits``).

The suite runs a few dozen examples per test (derandomized); ``WL_FUZZ_HUNT=k`` multiplies
them by k with fresh random draws, for a hunt outside the suite.
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

import wonderland as wl
from wonderland import linear, losses

# WL_FUZZ_HUNT=k multiplies the examples by k and draws fresh ones (a hunt outside the suite)
HUNT = int(os.environ.get("WL_FUZZ_HUNT", "0"))
LOSS_EXAMPLES = 30 * max(HUNT, 1)
MODEL_EXAMPLES = 25 * max(HUNT, 1)
_HEALTH = [HealthCheck.too_slow, HealthCheck.filter_too_much]
FAST = settings(max_examples=LOSS_EXAMPLES, deadline=None, derandomize=not HUNT,
                suppress_health_check=_HEALTH)
MODELS = settings(max_examples=MODEL_EXAMPLES, deadline=None, derandomize=not HUNT,
                  suppress_health_check=_HEALTH)
SLOW = settings(MODELS, max_examples=10 * max(HUNT, 1))  # sklearn's lbfgs to tol 1e-12

DTYPES = {"float64": (np.float64, torch.float64), "float32": (np.float32, torch.float32)}
# value and gradient tolerances per dtype: float64 agrees to rounding; float32 sums of up to
# 36 terms (and exp/log near the edges) may differ by a few ulps of the largest term
TOL = {"float64": dict(rtol=1e-11, atol=1e-12), "float32": dict(rtol=2e-5, atol=2e-6)}
REDUCTIONS = ["mean", "sum", "none"]
GRID = [-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0]


# ----------------------------------------------------------------------- helpers


def _np(t):
    return np.asarray(t.detach().numpy()) if isinstance(t, torch.Tensor) else np.asarray(
        t.numpy() if hasattr(t, "numpy") else t)


def _close(got, want, dtype, what):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    scale = max(1.0, float(np.max(np.abs(want[np.isfinite(want)]), initial=0.0)))
    tol = TOL[dtype]
    np.testing.assert_allclose(got, want, rtol=tol["rtol"], atol=tol["atol"] * scale,
                               equal_nan=True, err_msg=what)


def _wl_value_and_grad(fn, pred, weights, reduction):
    """wonderland's loss value and its gradient in the prediction (of sum(loss * weights)
    for reduction="none")."""
    value = fn(wl.tensor(pred))

    def objective(p):
        loss = fn(p)
        return (loss * wl.tensor(weights)).sum() if reduction == "none" else loss

    grad = wl.grad(objective)(wl.tensor(pred))
    return _np(value), _np(grad)


def _torch_value_and_grad(fn, pred, weights, reduction):
    p = torch.tensor(pred, requires_grad=True)
    loss = fn(p)
    objective = (loss * torch.tensor(weights)).sum() if reduction == "none" else loss
    (g,) = torch.autograd.grad(objective, p)
    return _np(loss), _np(g)


def _check_pair(wl_fn, torch_fn, pred, reduction, dtype, name, data):
    weights = np.asarray(data.draw(st.lists(st.sampled_from([0.5, 1.0, -2.0, 3.0]),
                                            min_size=pred.size, max_size=pred.size),
                                   label="weights"), dtype=pred.dtype).reshape(pred.shape)
    got_v, got_g = _wl_value_and_grad(wl_fn, pred, weights, reduction)
    want_v, want_g = _torch_value_and_grad(torch_fn, pred, weights, reduction)
    assert got_v.dtype == pred.dtype, f"{name}: value dtype {got_v.dtype}"
    assert got_g.dtype == pred.dtype, f"{name}: gradient dtype {got_g.dtype}"
    _close(got_v, want_v, dtype, f"{name} value ({reduction}, {dtype})")
    _close(got_g, want_g, dtype, f"{name} gradient ({reduction}, {dtype})")


# ----------------------------------------------------------------------- strategies


def _values(dtype, lo=-1e3, hi=1e3):
    """Floats from a small grid (ties and kinks) or a wide range, in the dtype."""
    width = 32 if dtype == "float32" else 64
    return st.one_of(st.sampled_from(GRID),
                     st.floats(lo, hi, allow_nan=False, width=width),
                     st.floats(-3, 3, allow_nan=False, width=width))


@st.composite
def regression_case(draw):
    dtype = draw(st.sampled_from(sorted(DTYPES)))
    shape = draw(st.sampled_from([(1,), (2,), (5,), (13,), (3, 4), (1, 1)]))
    size = math.prod(shape)
    y = np.array(draw(st.lists(_values(dtype), min_size=size, max_size=size)))
    # predictions: the target itself (the kink of absolute), the target plus a grid offset
    # (the Huber kink when the offset is delta), or anything
    offsets = draw(st.lists(st.one_of(st.sampled_from([0.0, 0.5, -0.5, 1.0, -1.0, 2.0,
                                                       -2.0, 0.25, -0.25]),
                                      _values(dtype)), min_size=size, max_size=size))
    pred = y + np.array(offsets)
    np_dtype = DTYPES[dtype][0]
    return dtype, pred.astype(np_dtype).reshape(shape), y.astype(np_dtype).reshape(shape)


# ----------------------------------------------------------------------- regression losses


@FAST
@given(case=regression_case(), reduction=st.sampled_from(REDUCTIONS),
       delta=st.sampled_from([1.0, 0.5, 2.0, 0.25, 1e-3, 37.5]), data=st.data())
def test_regression_losses_match_torch(case, reduction, delta, data):
    dtype, pred, y = case
    yt = torch.tensor(y)
    pairs = {
        "squared": (lambda p: losses.squared(p, y, reduction=reduction),
                    lambda p: F.mse_loss(p, yt, reduction=reduction)),
        "absolute": (lambda p: losses.absolute(p, y, reduction=reduction),
                     lambda p: F.l1_loss(p, yt, reduction=reduction)),
        "huber": (lambda p: losses.huber(p, y, delta=delta, reduction=reduction),
                  lambda p: F.huber_loss(p, yt, delta=delta, reduction=reduction)),
    }
    for name, (wl_fn, torch_fn) in pairs.items():
        _check_pair(wl_fn, torch_fn, pred, reduction, dtype, name, data)


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("delta", [1.0, 0.5, 2.0])
def test_huber_and_absolute_at_their_kinks(dtype, delta):
    """Exactly at |p - y| = delta the Huber gradient is ±delta (PyTorch's); at p = y the
    absolute error's subgradient is 0 (PyTorch's)."""
    np_dtype = DTYPES[dtype][0]
    y = np.array([0.0, 1.0, -1.0, 3.0], dtype=np_dtype)
    pred = y + np.array([delta, -delta, delta, 0.0], dtype=np_dtype)
    g = _np(wl.grad(lambda p: losses.huber(p, y, delta=delta, reduction="sum"))(pred))
    p = torch.tensor(pred, requires_grad=True)
    F.huber_loss(p, torch.tensor(y), delta=delta, reduction="sum").backward()
    np.testing.assert_array_equal(g, _np(p.grad))
    np.testing.assert_array_equal(g, [delta, -delta, delta, 0.0])
    g = _np(wl.grad(lambda p: losses.absolute(p, y, reduction="sum"))(y.copy()))
    np.testing.assert_array_equal(g, np.zeros(4))


# ----------------------------------------------------------------------- classification


@st.composite
def sign_case(draw):
    dtype = draw(st.sampled_from(sorted(DTYPES)))
    shape = draw(st.sampled_from([(1,), (3,), (9,), (2, 3)]))
    size = math.prod(shape)
    y = np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=size, max_size=size)))
    # scores at the hinge's kink (y s = 1), at 0 (zero_one's tie), or anything
    s = np.array(draw(st.lists(st.one_of(st.sampled_from(["kink", 0.0, 1.0, -1.0, 0.5]),
                                         _values(dtype)), min_size=size, max_size=size)),
                 dtype=object)
    kink = s == "kink"
    s[kink] = y[kink]
    np_dtype = DTYPES[dtype][0]
    return dtype, s.astype(np_dtype).reshape(shape), y.astype(np_dtype).reshape(shape)


@FAST
@given(case=sign_case(), reduction=st.sampled_from(REDUCTIONS), data=st.data())
def test_hinge_and_zero_one(case, reduction, data):
    """hinge against ``relu(1 - y s)`` in torch: relu's subgradient at 0 is 0, the README's
    documented value at the kink ``y s = 1`` (``clamp(min=0)`` would pass ``-y``)."""
    dtype, s, y = case
    yt = torch.tensor(y)

    def torch_reduce(loss):
        return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" \
            else loss

    _check_pair(lambda p: losses.hinge(p, y, reduction=reduction),
                lambda p: torch_reduce(torch.relu(1.0 - yt * p)), s, reduction, dtype,
                "hinge", data)
    errors = (y * s <= 0).astype(s.dtype)
    want = errors.mean() if reduction == "mean" else errors.sum() if reduction == "sum" \
        else errors
    got = _np(losses.zero_one(wl.tensor(s), y, reduction=reduction))
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_hinge_kink_differs_from_clamp_as_documented():
    """README: at y s = 1 wonderland's subgradient is 0 where torch's clamp gives -y."""
    y = np.array([1.0, -1.0])
    g = _np(wl.grad(lambda p: losses.hinge(p, y, reduction="sum"))(y.copy()))
    np.testing.assert_array_equal(g, [0.0, 0.0])
    p = torch.tensor(y, requires_grad=True)
    torch.clamp(1 - torch.tensor(y) * p, min=0).sum().backward()
    np.testing.assert_array_equal(_np(p.grad), -y)


@st.composite
def probability_case(draw):
    dtype = draw(st.sampled_from(sorted(DTYPES)))
    n = draw(st.sampled_from([1, 2, 5, 11]))
    width = 32 if dtype == "float32" else 64
    unit = st.one_of(st.sampled_from([0.0, 1.0, 0.5, 1e-300, 1 - 1e-16, 1e-7, 1 - 1e-7]),
                     st.floats(0.0, 1.0, width=width))
    p = np.array(draw(st.lists(unit, min_size=n, max_size=n)))
    y = np.array(draw(st.lists(st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1)),
                               min_size=n, max_size=n)))
    np_dtype = DTYPES[dtype][0]
    return dtype, p.astype(np_dtype), y.astype(np_dtype)


@FAST
@given(case=probability_case(), reduction=st.sampled_from(REDUCTIONS), data=st.data())
def test_binary_cross_entropy_matches_torch_at_the_clipped_probability(case, reduction,
                                                                       data):
    """README: probabilities are clipped to [eps, 1 - eps] (eps of the dtype) and the
    gradient at a clipped probability is the loss's gradient at the bound, so the reference
    is torch's binary_cross_entropy at the clipped value (equal to torch's own for every
    p inside the bounds)."""
    dtype, p, y = case
    np_dtype, t_dtype = DTYPES[dtype]
    eps = float(np.finfo(np_dtype).eps)
    yt = torch.tensor(y)

    def torch_fn(q):
        clipped = q + (torch.clamp(q.detach(), eps, 1 - eps) - q.detach())
        return F.binary_cross_entropy(clipped, yt, reduction=reduction)

    # torch's backward divides by max(p (1 - p), 1e-12): below that its gradient is not the
    # derivative (at p = eps = 2.2e-16, y = 0 it gives 2.2e-4 where d/dp is 1/(1 - p) = 1),
    # so those entries are checked against the closed form (q - y) / (q (1 - q)) instead
    q = np.clip(p.astype(np.float64), eps, 1 - eps)
    tiny = q * (1 - q) < 1e-12
    if not tiny.any():
        _check_pair(lambda q: losses.binary_cross_entropy(q, y, reduction=reduction),
                    torch_fn, p, reduction, dtype, "binary_cross_entropy", data)
    g = _np(wl.grad(lambda q: losses.binary_cross_entropy(q, y, reduction="sum"))(p))
    want = (q - y) / (q * (1 - q))
    # the derivative is -y/q + (1 - y)/(1 - q): where those terms cancel (a soft label y
    # equal to p) it is their rounding, not 0
    terms = np.abs(y) / q + np.abs(1 - y) / (1 - q)
    np.testing.assert_allclose(g, want, rtol=1e-10 if dtype == "float64" else 1e-4,
                               atol=np.max(4 * 2.0**-52 * terms) if dtype == "float64"
                               else 1e-6,
                               err_msg="binary_cross_entropy gradient, closed form")
    value = _np(losses.binary_cross_entropy(wl.tensor(p), y, reduction="none"))
    assert np.all(np.isfinite(value))
    assert np.all(value <= -math.log(eps) * (1 + 1e-6))
    inside = (p >= eps) & (p <= 1 - eps)
    if inside.any():  # torch's unclipped loss, where no clipping happens
        want = _np(F.binary_cross_entropy(torch.tensor(p[inside]), yt[inside],
                                          reduction="none"))
        _close(value[inside], want, dtype, "binary_cross_entropy inside the bounds")


@st.composite
def logit_case(draw):
    dtype = draw(st.sampled_from(sorted(DTYPES)))
    shape = draw(st.sampled_from([(1,), (3,), (8,), (2, 2)]))
    size = math.prod(shape)
    z = np.array(draw(st.lists(st.one_of(
        st.sampled_from([0.0, 700.0, -700.0, 1000.0, -1000.0, 750.5, -745.2, 36.7, -36.7,
                         88.8, -88.8, 1e-8]),
        _values(dtype, -1000, 1000)), min_size=size, max_size=size)))
    y = np.array(draw(st.lists(st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1)),
                               min_size=size, max_size=size)))
    np_dtype = DTYPES[dtype][0]
    return dtype, z.astype(np_dtype).reshape(shape), y.astype(np_dtype).reshape(shape)


@FAST
@given(case=logit_case(), reduction=st.sampled_from(REDUCTIONS), data=st.data())
def test_binary_cross_entropy_with_logits_matches_torch(case, reduction, data):
    dtype, z, y = case
    yt = torch.tensor(y)
    _check_pair(lambda q: losses.binary_cross_entropy_with_logits(q, y, reduction=reduction),
                lambda q: F.binary_cross_entropy_with_logits(q, yt, reduction=reduction),
                z, reduction, dtype, "binary_cross_entropy_with_logits", data)


@pytest.mark.parametrize("dtype", sorted(DTYPES))
def test_binary_cross_entropy_with_infinite_logits_gives_the_limit(dtype):
    """README: the limit at ±inf (0 for a certain right prediction, inf otherwise), the
    gradient sigmoid(z) - y, where PyTorch's loss may be NaN."""
    np_dtype = DTYPES[dtype][0]
    z = np.array([np.inf, np.inf, -np.inf, -np.inf, np.inf], dtype=np_dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.25], dtype=np_dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = _np(losses.binary_cross_entropy_with_logits(wl.tensor(z), y, reduction="none"))
        g = _np(wl.grad(lambda q: losses.binary_cross_entropy_with_logits(
            q, y, reduction="sum"))(z))
    np.testing.assert_array_equal(loss, [0.0, np.inf, 0.0, np.inf, np.inf])
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0, -1.0, 0.75])
    p = torch.tensor(z, requires_grad=True)
    F.binary_cross_entropy_with_logits(p, torch.tensor(y), reduction="sum").backward()
    np.testing.assert_array_equal(g, _np(p.grad))


@st.composite
def class_case(draw):
    dtype = draw(st.sampled_from(sorted(DTYPES)))
    k = draw(st.integers(1, 5))
    one = draw(st.booleans())
    n = 1 if one else draw(st.sampled_from([1, 2, 4, 9]))
    z = np.array(draw(st.lists(st.one_of(
        st.sampled_from([0.0, 1000.0, -1000.0, 700.0, 1.0]),  # ties and huge logits
        _values(dtype, -1000, 1000)), min_size=n * k, max_size=n * k)))
    labels = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    np_dtype = DTYPES[dtype][0]
    z = z.astype(np_dtype).reshape(n, k)
    if one:
        return dtype, z[0], labels[0]
    return dtype, z, labels


@FAST
@given(case=class_case(), reduction=st.sampled_from(REDUCTIONS), data=st.data())
def test_cross_entropy_matches_torch(case, reduction, data):
    dtype, z, labels = case
    lt = torch.tensor(labels)
    weights = np.asarray(data.draw(st.lists(st.sampled_from([0.5, 1.0, -2.0]),
                                            min_size=labels.size, max_size=labels.size)),
                         dtype=z.dtype).reshape(labels.shape)

    def wl_objective(p):
        loss = losses.cross_entropy(p, labels, reduction=reduction)
        return (loss * wl.tensor(weights)).sum() if reduction == "none" else loss

    got_v = _np(losses.cross_entropy(wl.tensor(z), labels, reduction=reduction))
    got_g = _np(wl.grad(wl_objective)(wl.tensor(z)))
    p = torch.tensor(z, requires_grad=True)
    loss = F.cross_entropy(p, lt, reduction=reduction)
    objective = (loss * torch.tensor(weights)).sum() if reduction == "none" else loss
    objective.backward()
    _close(got_v, _np(loss), dtype, f"cross_entropy value ({reduction}, {dtype})")
    _close(got_g, _np(p.grad), dtype, f"cross_entropy gradient ({reduction}, {dtype})")
    assert got_v.dtype == z.dtype and got_g.dtype == z.dtype


# ----------------------------------------------------------------------- linear models


def _fit(model, X, y, **kw):
    """Fit, returning the model and the names of the warnings' categories."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y, **kw)
    return model, [w.category.__name__ for w in caught]


@st.composite
def design(draw, max_n=60, max_d=8):
    """X of shape (n, d) with optional duplicated / constant / rescaled columns."""
    n = draw(st.integers(1, max_n))
    d = draw(st.integers(1, max_d))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    kind = draw(st.sampled_from(["plain", "plain", "duplicate", "constant", "scaled",
                                 "integer"]))
    if kind == "duplicate" and d >= 2:
        X[:, d - 1] = X[:, 0] * draw(st.sampled_from([1.0, 2.0, -0.5]))
    elif kind == "constant":
        X[:, draw(st.integers(0, d - 1))] = draw(st.sampled_from([0.0, 1.0, 3.5]))
    elif kind == "integer":
        X = np.round(2 * X)  # ties and repeated rows
    scales = np.array(draw(st.lists(st.sampled_from([1.0, 1.0, 1e6, 1e-6, 1e3]),
                                    min_size=d, max_size=d)))
    X = X * scales
    fit_intercept = draw(st.booleans())
    offset = draw(st.sampled_from([0.0, 0.0, 1e6, -3.0]))
    w = rng.standard_normal(d) / scales
    y = X @ w + draw(st.sampled_from([0.0, 0.1, 1.0])) * rng.standard_normal(n) + offset
    note(f"n={n} d={d} kind={kind} scales={scales.tolist()} offset={offset} "
         f"fit_intercept={fit_intercept} seed={seed}")
    return X, y, fit_intercept, scales


def _centred(X, y, fit_intercept):
    if fit_intercept:
        return X - X.mean(axis=0), y - y.mean()
    return X, y


def _live(X, centred_norms):
    """The columns that are not constant: a constant column centres to rounding (the mean
    of ten 1e-6 is not 1e-6), not to 0; wonderland calls a column constant when its
    centred norm is below 1e-12 of its raw one."""
    return centred_norms > 1e-12 * np.linalg.norm(X, axis=0)


def _min_norm(X, y, fit_intercept, alpha=0.0):
    """The reference: the minimum-norm (ridge for alpha > 0) least-squares coefficients
    by an SVD of the (centred) data, in float64, with scipy/sklearn's default cutoff
    replaced by wonderland's documented one (sigma <= 1e-10 sigma_max) so that both call
    the same columns dependent."""
    Xc, yc = _centred(X, y, fit_intercept)
    d = X.shape[1]
    if Xc.size == 0 or not np.any(_live(X, np.linalg.norm(Xc, axis=0))):
        coef = np.zeros(d)
    elif alpha > 0:  # a constant column is 0 once centred: its coefficient is 0
        Xc = np.where(_live(X, np.linalg.norm(Xc, axis=0)), Xc, 0.0)
        U, s, Vt = np.linalg.svd(Xc, full_matrices=False)
        coef = Vt.T @ ((s / (s**2 + alpha)) * (U.T @ yc))
    else:  # dependencies read on the Jacobi-scaled columns (wonderland's rule), the
        # solution orthogonal to them in the raw coefficients (minimum norm)
        norms = np.linalg.norm(Xc, axis=0)
        live = _live(X, norms)
        null = [np.eye(d)[:, j] for j in np.flatnonzero(~live)]
        _, s, Vt = np.linalg.svd(Xc[:, live] / norms[live], full_matrices=True)
        full_s = np.zeros(int(live.sum()))
        full_s[: s.size] = s
        small = Vt[full_s <= 1e-10 * full_s[0]]
        # a column loading below 1e-6 on the dependencies is not in them: its rounding,
        # mapped to raw units, would grow by the ratio of the column scales
        small[:, np.sqrt(np.sum(small**2, axis=0)) <= 1e-6] = 0.0
        for row in small:
            u = np.zeros(d)
            u[live] = row / norms[live]
            null.append(u)
        Q = np.linalg.qr(np.array(null).T, mode="complete")[0][:, len(null):] if null \
            else np.eye(d)
        B = Xc @ Q  # solved on unit-norm columns: raw scales 1e-6..1e6 would cost digits
        bn = np.linalg.norm(B, axis=0)
        bn = np.where(bn > 0, bn, 1.0)
        coef = Q @ (np.linalg.lstsq(B / bn, yc, rcond=1e-15)[0] / bn)
    intercept = float(y.mean() - X.mean(axis=0) @ coef) if fit_intercept else 0.0
    return coef, intercept


def _sigmas(X, fit_intercept, jacobi=False):
    Xc, _ = _centred(X, np.zeros(len(X)), fit_intercept)
    norms = np.linalg.norm(Xc, axis=0)
    live = _live(X, norms)
    Xc = Xc[:, live] / norms[live] if jacobi else Xc[:, live]  # (jacobi: wonderland's units)
    return np.linalg.svd(Xc, compute_uv=False) if Xc.size else np.zeros(0)


def _rss(X, y, coef, intercept):
    r = y - X @ coef - intercept
    return float(r @ r)


@MODELS
@given(case=design(), solver=st.sampled_from(["auto", "normal", "lstsq"]))
def test_linear_regression_against_svd_and_sklearn(case, solver):
    """LinearRegression reaches the least-squares minimum (its residual sum of squares is
    within 1e-9 relative, plus rounding of ``y``, of the SVD reference), returns no NaN,
    and, where the columns are well conditioned (sigma_min > 1e-6 sigma_max) gives the
    reference's (unique) coefficients; where they are exactly dependent (a duplicate, a
    constant column under an intercept, n <= d) it warns CollinearityWarning and returns
    the minimum-norm coefficients (as scikit-learn's lstsq does)."""
    X, y, fit_intercept, scales = case
    model, caught = _fit(linear.LinearRegression(fit_intercept=fit_intercept, solver=solver),
                         X, y)
    coef, intercept = np.ravel(model.coef_), float(np.ravel(model.intercept_)[0]) \
        if np.ndim(model.intercept_) else float(model.intercept_)
    assert np.all(np.isfinite(coef)) and np.isfinite(intercept), (coef, intercept, caught)
    ref_coef, ref_intercept = _min_norm(X, y, fit_intercept)
    rss, ref_rss = _rss(X, y, coef, intercept), _rss(X, y, ref_coef, ref_intercept)
    floor = (1e-11 * (np.abs(y).max() + 1)) ** 2 * len(y) * 1e4
    assert rss <= ref_rss * (1 + 1e-9) + floor, (rss, ref_rss)
    # predictions are predict's
    np.testing.assert_allclose(model.predict(X), X @ coef + intercept, rtol=1e-12,
                               atol=1e-9 * (np.abs(y).max() + 1))
    s = _sigmas(X, fit_intercept, jacobi=True)
    exactly_dependent = (s.size < X.shape[1]) or (s.size and s[-1] <= 1e-13 * s[0]) or \
        not np.any(s)
    if exactly_dependent and np.any(s):
        assert "CollinearityWarning" in caught, caught
    if s.size == X.shape[1] and s.size and s[-1] > 1e-6 * s[0]:
        assert "CollinearityWarning" not in caught, caught
    # coefficients, in units of the column scales (a 1e6 column's weight is 1e-6)
    if (s.size and s[-1] > 1e-6 * s[0]) or exactly_dependent:
        cond = s[0] / s[-1] if s.size and s[-1] > 1e-6 * s[0] else 1e6
        # a dependency is resolved through the null vectors of the Jacobi-scaled data:
        # mapped back to columns of scale ratio r their error grows by r (see the report
        # in the docstring), so the deficient case gets 1e-9 (scaled units) per decade
        spread = scales.max() / scales.min() if exactly_dependent else 1.0
        tol = 1e-12 * max(cond, spread) * (np.linalg.norm(ref_coef * scales) + np.std(y)
                                            + 1) * 1e3
        np.testing.assert_allclose(coef * scales, ref_coef * scales, rtol=0, atol=tol)
    raw = _sigmas(X, fit_intercept)  # sklearn's lstsq cuts on the raw singular values
    if not exactly_dependent and s.size and s[-1] > 1e-6 * s[0] and raw[-1] > 1e-6 * raw[0]:
        from sklearn.linear_model import LinearRegression as SkLinearRegression

        sk = SkLinearRegression(fit_intercept=fit_intercept).fit(X, y)
        cond = raw[0] / raw[-1]
        tol = 1e-12 * cond * (np.linalg.norm(sk.coef_ * scales) + np.std(y) + 1) * 10
        np.testing.assert_allclose(coef * scales, sk.coef_ * scales, rtol=0, atol=tol)


@MODELS
@given(case=design(), alpha=st.sampled_from([1e-3, 0.1, 1.0, 10.0, 1e4]))
def test_ridge_against_augmented_svd_and_sklearn(case, alpha):
    """Ridge minimizes ``||y - Xw - b||² + alpha ||w||²`` (sklearn's scaling, the README's
    and the docstring's): the reference is the SVD solution ``V diag(s / (s² + alpha))
    Uᵀ y`` of the centred data (unique for alpha > 0, no cutoff), and sklearn's Ridge
    (cholesky) on data where its Gram matrix is well conditioned."""
    X, y, fit_intercept, scales = case
    model, caught = _fit(linear.Ridge(alpha=alpha, fit_intercept=fit_intercept), X, y)
    coef = np.ravel(model.coef_)
    intercept = float(np.ravel(model.intercept_)[0]) if np.ndim(model.intercept_) \
        else float(model.intercept_)
    assert np.all(np.isfinite(coef)) and np.isfinite(intercept)
    ref_coef, ref_intercept = _min_norm(X, y, fit_intercept, alpha)

    def objective(c, b):
        return _rss(X, y, c, b) + alpha * float(c @ c)

    got, want = objective(coef, intercept), objective(ref_coef, ref_intercept)
    floor = (1e-12 * (np.abs(y).max() + 1)) ** 2 * len(y) * 1e4
    assert got <= want * (1 + 1e-9) + floor, (got, want, caught)
    s = _sigmas(X, fit_intercept)
    if s.size == 0 or not np.any(s):
        np.testing.assert_array_equal(coef, 0.0)
        return
    lam = s**2 + alpha
    cond = float(lam.max() / min(lam.min(), alpha if s.size < X.shape[1] else lam.min()))
    if cond < 1e8:
        tol = 1e-13 * cond * (np.linalg.norm(ref_coef) + 1e-300) * 1e3
        np.testing.assert_allclose(coef, ref_coef, rtol=0, atol=tol)
        from sklearn.linear_model import Ridge as SkRidge

        sk = SkRidge(alpha=alpha, fit_intercept=fit_intercept, solver="svd").fit(X, y)
        np.testing.assert_allclose(coef, sk.coef_, rtol=0, atol=tol)


@st.composite
def classification(draw, max_n=60, max_d=6):
    """Well-conditioned standard normal X (optionally rescaled, F-ordered later), labels
    from a noisy linear model, every class present at least once."""
    k = draw(st.sampled_from([2, 2, 3, 4]))
    n = draw(st.integers(max(k, 2), max_n))
    d = draw(st.integers(1, max_d))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((k, d)) * draw(st.sampled_from([0.3, 1.0, 3.0]))
    logits = X @ W.T + rng.gumbel(size=(n, k))
    y = np.argmax(logits, axis=1)
    y[:k] = np.arange(k)  # every class present
    scale = draw(st.sampled_from([1.0, 1.0, 1e3, 1e-3]))
    alpha = draw(st.sampled_from([1e-3, 1e-2, 0.1, 1.0]))
    fit_intercept = draw(st.booleans())
    note(f"n={n} d={d} k={k} scale={scale} alpha={alpha} fit_intercept={fit_intercept} "
         f"seed={seed}")
    # X * scale with coefficients / scale: the same problem needs alpha * scale²
    return X * scale, y, alpha * scale**2, fit_intercept, alpha


def _log_objective(X, y, coef, intercept, alpha, classes):
    """mean log-loss + alpha/2 ||W||², the README's LogisticRegression objective."""
    Z = X @ coef.T + intercept
    if coef.shape[0] == 1:  # binary: one logit for classes_[1]
        z = Z[:, 0]
        t = (y == classes[1]).astype(float)
        loss = np.mean(np.logaddexp(0, z) - t * z)
    else:
        idx = np.searchsorted(classes, y)
        loss = np.mean(np.logaddexp.reduce(Z, axis=1) - Z[np.arange(len(y)), idx])
    return float(loss + 0.5 * alpha * np.sum(coef * coef))


@SLOW
@given(case=classification(), solver=st.sampled_from(["auto", "newton", "lbfgs"]))
def test_logistic_regression_against_sklearn(case, solver):
    """alpha maps to sklearn's ``C = 1 / (alpha n)``. The objective is alpha-strongly
    convex, so the coefficients are unique and a gap g in the objective bounds their
    distance by sqrt(2 g / alpha): sklearn (lbfgs, tol 1e-12) is run to about 1e-12 of
    the optimum, so with the documented tol=1e-6 (Newton: decrement, relative) wonderland
    must reach an objective within 1e-6 relative of sklearn's, and coefficients within
    sqrt(2 · 1e-6 · f / alpha). Probabilities and the decision function must agree with
    each other and with the coefficients."""
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression

    X, y, alpha, fit_intercept, alpha_unit = case
    model, caught = _fit(linear.LogisticRegression(alpha=alpha, fit_intercept=fit_intercept,
                                                   solver=solver), X, y)
    assert np.all(np.isfinite(model.coef_)) and np.all(np.isfinite(model.intercept_))
    n = len(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = SkLogisticRegression(C=1.0 / (alpha * n), fit_intercept=fit_intercept,
                                  tol=1e-12, max_iter=20000).fit(X, y)
    np.testing.assert_array_equal(model.classes_, sk.classes_)
    assert model.coef_.shape == sk.coef_.shape
    f_wl = _log_objective(X, y, model.coef_, model.intercept_, alpha, model.classes_)
    f_sk = _log_objective(X, y, sk.coef_, sk.intercept_, alpha, sk.classes_)
    # Newton stops at a relative decrement of 1e-6 (gap <~ 1e-6 f); L-BFGS at a gradient
    # of 1e-6 per standardized coordinate: with strong convexity alpha (unit scale) the
    # gap is at most |g|² / (2 alpha) = p 1e-12 / (2 alpha)
    p = model.coef_.size + model.intercept_.size
    allowed = 1e-6 * f_sk + 1e-12 + (p * 1e-12 / (2 * alpha_unit) if solver == "lbfgs" else 0)
    assert f_wl <= f_sk + allowed, (f_wl, f_sk, caught)
    bound = math.sqrt(2 * (max(f_wl - f_sk, 0) + allowed) / alpha)
    if len(model.classes_) == 2 or not fit_intercept:
        np.testing.assert_allclose(model.coef_, sk.coef_, rtol=0, atol=bound + 1e-9)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(proba, sk.predict_proba(X), rtol=0,
                               atol=bound * (np.abs(X).max() + 1) + 1e-9)
    dec = model.decision_function(X)
    np.testing.assert_allclose(dec, np.squeeze(X @ model.coef_.T + model.intercept_),
                               rtol=1e-10, atol=1e-10)
    pred = model.predict(X)
    if len(model.classes_) == 2:
        np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-dec)), rtol=1e-10,
                                   atol=1e-15)
        clear = np.abs(dec) > 1e-9
        np.testing.assert_array_equal(pred[clear], model.classes_[(dec > 0).astype(int)][clear])
    else:
        top = np.sort(dec, axis=1)
        clear = top[:, -1] - top[:, -2] > 1e-9
        np.testing.assert_array_equal(pred[clear],
                                      model.classes_[np.argmax(proba, axis=1)][clear])
        np.testing.assert_array_equal(pred[clear], model.classes_[np.argmax(dec, axis=1)][clear])


# ----------------------------------------------------------------------- invariances


ESTIMATORS = {
    "LinearRegression-normal": lambda fi: linear.LinearRegression(fit_intercept=fi,
                                                                  solver="normal"),
    "LinearRegression-lstsq": lambda fi: linear.LinearRegression(fit_intercept=fi,
                                                                 solver="lstsq"),
    "Ridge": lambda fi: linear.Ridge(alpha=0.5, fit_intercept=fi),
    "LogisticRegression": lambda fi: linear.LogisticRegression(alpha=0.05, fit_intercept=fi),
}


def _logistic_condition(model, X, fit_intercept):
    """The condition number of the Jacobi-scaled Hessian of the (binary, penalized)
    objective at ``model``'s solution: a difference in rounding (another summation order)
    moves the solution by about this times 1e-16. Duplicated columns of scale 1e6 under
    alpha = 0.05 give 1e13: the penalty alone tells the copies apart."""
    p = model.predict_proba(X)[:, 1]
    Xt = np.column_stack([X, np.ones(len(X))]) if fit_intercept else X
    H = Xt.T @ (Xt * (p * (1 - p))[:, None]) / len(X)
    H[np.arange(X.shape[1]), np.arange(X.shape[1])] += model.alpha
    root = np.sqrt(np.diag(H))
    lam = np.linalg.eigvalsh(H / np.outer(root, root))
    return float(lam[-1] / max(lam[0], 1e-300))


@MODELS
@given(case=design(max_n=40, max_d=5), name=st.sampled_from(sorted(ESTIMATORS)),
       layout=st.sampled_from(["F", "float32", "DataFrame", "Fslice"]))
def test_input_layout_does_not_change_the_fit(case, name, layout):
    """The same numbers as a C-ordered float64 array, an F-ordered one, a strided view,
    float32 (values drawn exactly representable in float32, so the data is the same) or
    a DataFrame give the same coefficients and predictions: 1e-9 relative for the
    layouts (BLAS may sum in another order), and for float32 the same unless wonderland
    documents computing in float32 (it does not: it fits in float64)."""
    X, y, fit_intercept, _ = case
    X = X.astype(np.float32).astype(np.float64)
    if name.startswith("Logistic"):
        y = (y > np.median(y)).astype(int)
        assume(len(np.unique(y)) == 2)
    base, _ = _fit(ESTIMATORS[name](fit_intercept), np.ascontiguousarray(X), y)
    if layout == "F":
        other = np.asfortranarray(X)
    elif layout == "float32":
        other = X.astype(np.float32)
    elif layout == "Fslice":
        wide = np.asfortranarray(np.repeat(X, 2, axis=1))
        other = wide[:, ::2]
    else:
        other = pd.DataFrame(X, columns=[f"c{j}" for j in range(X.shape[1])])
    model, _ = _fit(ESTIMATORS[name](fit_intercept), other, y)
    scale = np.abs(base.coef_).max() + 1e-300
    rtol = 1e-9 if not name.startswith("Logistic") else \
        max(1e-9, 1e-13 * _logistic_condition(base, X, fit_intercept))
    np.testing.assert_allclose(model.coef_, base.coef_, rtol=rtol, atol=rtol * scale,
                               err_msg=f"{name} coef, {layout}")
    np.testing.assert_allclose(model.intercept_, base.intercept_, rtol=1e-9,
                               atol=1e-9 * (np.abs(y).max() + 1), err_msg=f"{name} intercept")
    np.testing.assert_allclose(model.predict(other), base.predict(X), rtol=1e-9,
                               atol=1e-9 * (np.abs(y).max() + 1), err_msg=f"{name} predict")


def test_cross_entropy_float32_small_loss_beside_large_logits():
    """Found by this fuzzer: ``logsumexp(z) - z[c]`` gave 3.05e-05 (the rounding of 302)."""
    z = np.array([[302.0, 292.0]], dtype=np.float32)
    got = losses.cross_entropy(wl.tensor(z), [0]).item()
    want = F.cross_entropy(torch.tensor(z), torch.tensor([0])).item()  # 4.54e-05
    assert abs(got - want) <= 1e-3 * want
