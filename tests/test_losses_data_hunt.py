"""Hunting bugs in wl.losses and wl.data as a demanding new user.

Oracles: torch.nn.functional (and torch.autograd for second derivatives), the
mathematical definitions, wonderland's own ``check_grad``, and the documented contracts
(API.md sections 4, 5 and 9, and the docstrings). Each ``xfail(strict=True)`` test shows a
real bug; the plain tests pin behaviour that no other test file checks.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import wonderland as wl
from wonderland import data as D
from wonderland import losses as L

# ----------------------------------------------------------------- second derivatives


def _torch_hessian(fn, x):
    return torch.autograd.functional.hessian(fn, torch.tensor(x, dtype=torch.float64)).numpy()


# Fixed; before the fix: BUG: huber's 2nd derivative at residual 0 is 0, not 1 (abs's
# subgradient 0 kills it; the loss is ½d² there)
def test_huber_second_derivative_at_a_zero_residual_is_one():
    # Huber is ½ d² near 0: smooth, with second derivative 1 at d = 0 (PyTorch says 1, and
    # so do finite differences). A perfectly fitted example must not look flat to Newton.
    x = np.array([0.0, 0.5, 3.0])
    hess = wl.hessian(lambda p: L.huber(p, np.zeros(3), reduction="sum"))(x).numpy()
    expected = _torch_hessian(
        lambda p: F.huber_loss(p, torch.zeros(3, dtype=torch.float64), reduction="sum"), x)
    np.testing.assert_allclose(np.diag(expected), [1.0, 1.0, 0.0])
    np.testing.assert_allclose(hess, expected)


# Fixed; before the fix: BUG: wl.check_grad fails on wl.grad(huber) at a zero residual (analytic
# 0.0, numeric 1.0)
def test_check_grad_of_the_huber_gradient_at_a_zero_residual():
    g = wl.grad(lambda p: L.huber(p, np.zeros(2), reduction="sum"))
    assert wl.check_grad(g, np.array([0.0, 0.3])) is None


# Fixed; before the fix: BUG: huber's 2nd derivative at |r| == delta is 0.75: not PyTorch's 0,
# nor either one-sided value (1 or 0)
@pytest.mark.parametrize("delta", [1.0, 2.0])
def test_huber_second_derivative_at_the_kink_matches_torch(delta):
    x = np.array([delta, -delta])
    hess = wl.hessian(lambda p: L.huber(p, np.zeros(2), delta, reduction="sum"))(x).numpy()
    expected = _torch_hessian(lambda p: F.huber_loss(
        p, torch.zeros(2, dtype=torch.float64), reduction="sum", delta=delta), x)
    np.testing.assert_array_equal(hess, expected)  # torch: all 0 (the linear branch)


def test_second_derivatives_match_torch_off_the_huber_edge_points():
    """What does work: away from r = 0 and |r| = delta Huber's Hessian is torch's; at the
    kinks of hinge and absolute the second derivative is 0 (as torch); at logit 0 exactly
    the logits loss has σ'(0) = 1/4 (the where() splitting its branches stays smooth)."""
    y0 = torch.zeros(4, dtype=torch.float64)
    x = np.array([0.3, -0.7, 1.5, -4.0])
    np.testing.assert_allclose(
        wl.hessian(lambda p: L.huber(p, np.zeros(4), reduction="sum"))(x).numpy(),
        _torch_hessian(lambda p: F.huber_loss(p, y0, reduction="sum"), x))

    s, lab = np.array([1.0, -1.0, 0.5]), np.array([1.0, -1.0, 1.0])  # margins 1, 1, 0.5
    np.testing.assert_array_equal(
        wl.hessian(lambda q: L.hinge(q, lab, reduction="sum"))(s).numpy(), np.zeros((3, 3)))
    np.testing.assert_array_equal(wl.grad(lambda q: L.hinge(q, lab, reduction="sum"))(s)
                                  .numpy(), [0.0, 0.0, -1.0])
    tp = torch.tensor([2.0, 0.0], dtype=torch.float64, requires_grad=True)
    F.l1_loss(tp, torch.tensor([2.0, 0.0], dtype=torch.float64), reduction="sum").backward()
    np.testing.assert_array_equal(
        wl.grad(lambda q: L.absolute(q, [2.0, 0.0], reduction="sum"))(np.array([2.0, 0.0]))
        .numpy(), tp.grad.numpy())  # sign(0) = 0 at the kink, both

    z, t = np.zeros(3), np.array([1.0, 0.0, 0.3])
    np.testing.assert_allclose(
        wl.hessian(lambda q: L.binary_cross_entropy_with_logits(q, t, reduction="sum"))(z)
        .numpy(), _torch_hessian(lambda q: F.binary_cross_entropy_with_logits(
            q, torch.tensor(t), reduction="sum"), z), rtol=1e-12)

    p = np.array([0.2, 0.6, 0.9])
    np.testing.assert_allclose(
        wl.hessian(lambda q: L.binary_cross_entropy(q, t, reduction="sum"))(p).numpy(),
        _torch_hessian(lambda q: F.binary_cross_entropy(q, torch.tensor(t), reduction="sum"),
                       p), rtol=1e-9)  # (torch adds 1e-12 to a denominator)

    logits, labels = np.array([[0.0, 3.0, -2.0], [1.0, 2.0, 3.0]]), np.array([1, 0])
    np.testing.assert_allclose(
        wl.hessian(lambda q: L.cross_entropy(q, labels))(logits).numpy(),
        _torch_hessian(lambda q: F.cross_entropy(q, torch.tensor(labels)), logits),
        rtol=1e-10, atol=1e-14)


# ----------------------------------------------------------------- cross_entropy labels


@pytest.mark.xfail(strict=True, reason="BUG: wl.compile of cross_entropy with float labels "
                                       "(as Dataset.y holds them) is an AttributeError on None")
def test_compiled_cross_entropy_takes_the_float_labels_that_eager_takes():
    # cross_entropy documents "floats with integral values are accepted", and a Dataset
    # (make_classification, read_csv, load_breast_cancer) always stores y as floats
    logits = np.random.default_rng(0).standard_normal((3, 4))
    labels = np.array([0.0, 1.0, 2.0])
    eager = L.cross_entropy(logits, labels)
    compiled = wl.compile(lambda z, c: L.cross_entropy(z, c))
    assert compiled(logits, labels).item() == eager.item()


# Fixed; before the fix: BUG: a float label too large for int64 (1e20) is named as
# -9223372036854775808, with a NumPy warning
def test_cross_entropy_names_a_huge_float_label_as_given():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "invalid value encountered in cast"
        with pytest.raises(ValueError) as info:
            L.cross_entropy(wl.tensor([[0.1, 0.2]]), np.array([1e20]))
    assert "-9223372036854775808" not in str(info.value)
    assert "1e+20" in str(info.value) or "100000000000000000000" in str(info.value)


# ----------------------------------------------------------------- data


# Fixed; before the fix: BUG: ds[i] with a 0-d integer Tensor/array (wl.argmax's result) is
# an IndexError 'must be 1-D, got shape ()'
def test_dataset_indexed_by_the_0d_result_of_argmax_gives_the_pair():
    ds = D.Dataset(np.arange(10.0).reshape(5, 2), [3.0, 9.0, 1.0, 4.0, 2.0])
    worst = wl.argmax(ds.y)  # a 0-d integer Tensor, as torch.argmax (TensorDataset takes it)
    x, y = ds[worst]
    assert x.tolist() == [2.0, 3.0] and y.item() == 9.0
    x, y = ds[np.array(1)]
    assert y.item() == 9.0


# Fixed; before the fix: BUG: make_classification takes weights that do not sum to 1
# silently: (0.2, 0.2) gives 50/50, (0.6, 0.6) 60/40
def test_make_classification_weights_that_are_not_proportions_are_refused_or_normalized():
    # documented: "weights : Proportions of the two classes"; (-0.1, 1.1) is refused by
    # name, but (0.6, 0.6) is taken and silently means 60/40 (scikit-learn reads only
    # weights[0] and gives the rest to class 1), while (0.2, 0.2) means 50/50
    try:
        ds = D.make_classification(100, 3, seed=4, weights=(0.6, 0.6))
    except ValueError as exc:
        assert "0.6" in str(exc)
    else:
        assert ds.y.numpy().mean() == 0.5  # normalized, as (0.2, 0.2) already is


# Fixed; before the fix: BUG (doc): make_classification's flip_y is documented as the fraction
# of labels flipped; only about half that is (the docstring now says so)
def test_make_classification_flip_y_changes_about_half_that_fraction_of_labels():
    # class_sep=50 separates the classes perfectly: every disagreement with the clean rule
    # is a flipped label. scikit-learn *reassigns* a flip_y fraction at random, so half
    # of them land on their own class: flip_y=0.2 flips ~10%, flip_y=1.0 only ~50%.
    ds = D.make_classification(20000, 1, seed=0, class_sep=50.0, flip_y=0.2)
    x, y = ds.X.numpy()[:, 0], ds.y.numpy()
    flipped = min(np.mean((x > 0) != (y == 1)), np.mean((x < 0) != (y == 1)))
    assert abs(flipped - 0.1) < 0.02, flipped  # as documented: about flip_y / 2


# Fixed; before the fix: BUG: shift_report on a DataFrame with integer column labels lists
# them as strings ('1'), which do not index it
def test_shift_report_names_are_the_dataframes_own_column_labels():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    ref = pd.DataFrame(rng.normal(size=(200, 2)))  # pandas' default columns: 0, 1
    new = pd.DataFrame(rng.normal(size=(200, 2)) + [0.0, 3.0])
    report = D.shift_report(ref, new)
    assert report.shifted == [1]
    assert new.drop(columns=report.shifted).shape == (200, 1)  # "drop the drifted features"


def test_split_and_batches_with_generator_seeds_keep_rows_whole_and_reproducible():
    """A numpy Generator as seed: the same stream gives the same split and batch order;
    every row lands in exactly one part with its own target."""
    X = np.c_[np.arange(37.0), -np.arange(37.0)]
    ds = D.Dataset(X, 10.0 * np.arange(37.0))
    a = ds.split(0.3, seed=np.random.default_rng(7))
    b = ds.split(0.3, seed=np.random.default_rng(7))
    assert [len(part) for part in a] == [25, 12]  # ceil(0.3 * 37) = 12
    for part_a, part_b in zip(a, b):
        np.testing.assert_array_equal(part_a.y.numpy(), part_b.y.numpy())
        np.testing.assert_array_equal(10.0 * part_a.X.numpy()[:, 0], part_a.y.numpy())
    assert sorted(np.r_[a[0].y.numpy(), a[1].y.numpy()].tolist()) == (10.0 * np.arange(37)
                                                                      ).tolist()
    seen = np.concatenate([yb.numpy() for xb, yb in ds.batches(8, seed=np.random.default_rng(3))
                           if np.array_equal(10.0 * xb.numpy()[:, 0], yb.numpy())])
    assert sorted(seen.tolist()) == (10.0 * np.arange(37)).tolist()
