"""Follow-ups on three functions: binary_cross_entropy_with_logits at infinite logits,
check_grad / numerical_grad with a step relative to the entries, linearize's has_aux, and
what a new user meets with odd inputs to each.

Oracles: PyTorch (float64) for the loss, JAX (x64) for linearize, the closed forms
otherwise. Warnings are errors where a test says "no warning"."""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import wonderland as wl

jax.config.update("jax_enable_x64", True)

bce = wl.losses.binary_cross_entropy_with_logits
INF = math.inf


def quiet(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with every warning an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args, **kwargs)


def as_np(t) -> np.ndarray:
    return np.asarray(t.numpy() if isinstance(t, wl.Tensor) else t)


# ------------------------------------------------- binary_cross_entropy_with_logits at ±inf

INFINITE_CASES = [  # (logit, target, loss, d loss / d logit = sigmoid(z) - y)
    (INF, 1.0, 0.0, 0.0),
    (INF, 0.0, INF, 1.0),
    (-INF, 0.0, 0.0, 0.0),
    (-INF, 1.0, INF, -1.0),
    (INF, 0.25, INF, 0.75),
    (-INF, 0.25, INF, -0.25),
]


@pytest.mark.parametrize(("z", "y", "loss", "slope"), INFINITE_CASES)
def test_bce_with_logits_gives_the_limit_at_an_infinite_logit(z, y, loss, slope):
    for dtype in ("float64", "float32"):
        out = quiet(bce, wl.tensor([z], dtype=dtype), [y], reduction="none")
        assert out.tolist() == [loss]
        assert out.dtype == np.dtype(dtype)


@pytest.mark.parametrize(("z", "y", "loss", "slope"), INFINITE_CASES)
def test_bce_with_logits_gradient_at_an_infinite_logit_is_sigmoid_minus_y(z, y, loss, slope):
    def total(logits):
        return bce(logits, [y], reduction="sum")

    for dtype in ("float64", "float32"):
        x = wl.tensor([z], dtype=dtype)
        assert quiet(wl.grad(total), x).tolist() == [slope]  # reverse mode
        _, tangent = quiet(wl.jvp, total, (x,), (wl.ones(1, dtype=dtype),))
        assert tangent.item() == slope  # forward mode
        leaf = wl.tensor([z], dtype=dtype, requires_grad=True)
        quiet(total(leaf).backward)
        assert leaf.grad.tolist() == [slope]
    assert quiet(wl.hessian(total), wl.tensor([z])).item() == 0.0  # sigmoid'(±inf)


def test_bce_with_logits_mixed_infinite_and_finite_logits_reduce_without_nan():
    z = wl.tensor([INF, -INF, 0.0, 3.0])
    y = [1.0, 0.0, 1.0, 0.0]
    expected = [0.0, 0.0, math.log(2.0), 3.0 + math.log1p(math.exp(-3.0))]
    assert quiet(bce, z, y, reduction="sum").item() == pytest.approx(sum(expected),
                                                                     rel=1e-15, abs=0)
    assert quiet(bce, z, y).item() == pytest.approx(sum(expected) / 4, rel=1e-15, abs=0)
    assert quiet(bce, wl.tensor([INF, 1.0]), [0.5, 0.5]).item() == INF
    g = quiet(wl.grad(lambda a: bce(a, y, reduction="sum")), z)
    np.testing.assert_allclose(as_np(g), 1 / (1 + np.exp(-as_np(z))) - np.array(y), rtol=1e-15)


def test_bce_with_logits_under_compile_gives_the_limit_at_infinite_logits():
    y = wl.tensor([1.0, 0.0, 0.5])
    z = wl.tensor([INF, -INF, INF])
    step = wl.compile(wl.value_and_grad(lambda a: bce(a, y, reduction="sum")))
    value, g = quiet(step, z)
    assert value.item() == INF
    assert g.tolist() == [0.0, 0.0, 0.5]


def test_bce_with_logits_gradient_in_the_target_at_infinite_logits_is_not_nan():
    z = wl.tensor([INF, INF, -INF, -INF])
    g = quiet(wl.grad(lambda t: bce(z, t, reduction="sum")), wl.tensor([1.0, 0.5, 0.0, 0.5]))
    assert g.tolist() == [0.0, -INF, 0.0, INF]  # -z, and 0 where the loss is 0


def test_bce_with_logits_at_infinite_logits_against_torch():
    """torch agrees on the gradient; its loss is NaN at +inf with y = 1 and at -inf (the
    docstring says so): a change there in torch should be noticed and documented."""
    z = np.array([c[0] for c in INFINITE_CASES])
    y = np.array([c[1] for c in INFINITE_CASES])
    zt = torch.tensor(z, requires_grad=True)
    lt = F.binary_cross_entropy_with_logits(zt, torch.tensor(y), reduction="none")
    lt.sum().backward()
    ours = quiet(bce, wl.tensor(z), y, reduction="none").numpy()
    np.testing.assert_array_equal(ours, [c[2] for c in INFINITE_CASES])
    torch_nan = np.isnan(lt.detach().numpy())
    np.testing.assert_array_equal(torch_nan, (z == -INF) | ((z == INF) & (y == 1)))
    np.testing.assert_array_equal(ours[~torch_nan], lt.detach().numpy()[~torch_nan])
    g = quiet(wl.grad(lambda a: bce(a, y, reduction="sum")), wl.tensor(z))
    np.testing.assert_array_equal(as_np(g), zt.grad.numpy())


def _logits_and_targets(seed: int = 0):
    r = np.random.default_rng(seed)
    z = np.concatenate([r.standard_normal(150) * 4, r.standard_normal(40) * 900,
                        [0.0, -0.0, 1000.0, -1000.0, 36.0, -36.0, 709.0, -745.0, 1e300, -1e300]])
    y = np.concatenate([r.uniform(0, 1, 100), r.integers(0, 2, 100).astype(float)])
    return z, y


def _bce_as_before(z, y):
    """The formula of binary_cross_entropy_with_logits before infinite logits were handled,
    in public wonderland operations: finite logits must give exactly its values."""
    nonnegative = z >= 0
    linear = wl.where(nonnegative, (1.0 - y) * z, -y * z)
    return linear + wl.log1p(wl.exp(wl.where(nonnegative, -z, z)))


def test_bce_with_logits_finite_logits_give_exactly_what_they_gave():
    z, y = _logits_and_targets()
    zt, yt = wl.tensor(z), wl.tensor(y)
    before = _bce_as_before(zt, yt)
    np.testing.assert_array_equal(quiet(bce, zt, yt, reduction="none").numpy(), before.numpy())
    assert quiet(bce, zt, yt, reduction="sum").item() == before.sum().item()
    assert quiet(bce, zt, yt).item() == before.mean().item()
    for argnum in (0, 1):
        new = quiet(wl.grad(lambda a, b: bce(a, b, reduction="sum"), argnum), zt, yt)
        old = wl.grad(lambda a, b: _bce_as_before(a, b).sum(), argnum)(zt, yt)
        np.testing.assert_array_equal(as_np(new), as_np(old))
    z32 = wl.tensor(z[:190], dtype="float32")
    np.testing.assert_array_equal(quiet(bce, z32, y[:190], reduction="none").numpy(),
                                  _bce_as_before(z32, wl.tensor(y[:190], dtype="float32")).numpy())


def test_bce_with_logits_nan_logit_still_gives_nan_silently():
    z = wl.tensor([np.nan, 1.0, np.nan])
    loss = quiet(bce, z, [1.0, 0.0, 0.0], reduction="none")
    assert np.isnan(loss[0].item()) and np.isnan(loss[2].item())
    assert loss[1].item() == pytest.approx(1.0 + math.log1p(math.exp(-1.0)), rel=1e-15, abs=0)
    g = quiet(wl.grad(lambda a: bce(a, [1.0, 0.0, 0.0], reduction="sum")), z)
    assert np.isnan(as_np(g)[[0, 2]]).all() and np.isfinite(as_np(g)[1])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_matches_torch_on_finite_logits(reduction):
    z, y = _logits_and_targets(1)
    w = np.random.default_rng(2).uniform(0.5, 1.5, z.shape)  # every entry of the gradient
    zt = torch.tensor(z, requires_grad=True)
    yt = torch.tensor(y, requires_grad=True)
    ref = F.binary_cross_entropy_with_logits(zt, yt, reduction=reduction)
    (ref * torch.tensor(w) if reduction == "none" else ref).sum().backward()
    ours = quiet(bce, wl.tensor(z), y, reduction=reduction)
    # atol: where the loss is below 1e-16 (|z| > 37 on the right side) torch's is rounder
    np.testing.assert_allclose(as_np(ours), ref.detach().numpy(), rtol=1e-13, atol=1e-15)

    def weighted(a, b):
        loss = bce(a, b, reduction=reduction)
        return (loss * w).sum() if reduction == "none" else loss

    gz, gy = quiet(wl.grad(weighted, (0, 1)), z, y)
    # atol: at z = -150 with y = 0, ours is σ(z) = 7e-66 where torch gives 0
    np.testing.assert_allclose(as_np(gz), zt.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(as_np(gy), yt.grad.numpy(), rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------- numerical_grad / check_grad


def test_check_grad_passes_at_large_entries_by_default():
    quiet(wl.check_grad, lambda x: (x**2).sum(), wl.tensor([1e12]))
    quiet(wl.check_grad, lambda x: (x**2).sum(), [10**12])  # an int, promoted
    quiet(wl.check_grad, lambda x: (x**3).sum(), wl.tensor([1e13]), order=2)
    quiet(wl.check_grad, lambda x, y: (x * y).sum(), [1e15, 2.0], [3.0, -4e13])


@pytest.mark.parametrize("x", [1e12, [1e12], np.array([1e12, -3e12]), wl.tensor([[2e14]])],
                         ids=["number", "list", "array", "tensor"])
def test_numerical_grad_relative_step_follows_the_size_of_each_entry(x):
    g = quiet(wl.numerical_grad, lambda t: (t**2).sum(), x, eps=None)
    np.testing.assert_allclose(as_np(g), 2 * np.asarray(as_np(wl.tensor(x))), rtol=1e-6)
    # near 0 the relative step is still 1e-6: for x³ the error is exactly the step squared
    assert abs(wl.numerical_grad(lambda t: t**3, 0.5, eps=None).item() - 0.75) <= 2e-12


def test_numerical_grad_explicit_eps_stays_absolute():
    g = wl.numerical_grad(lambda x: (x**3).sum(), np.array([10.0, 1000.0]), eps=0.5)
    np.testing.assert_allclose(as_np(g), [300.25, 3e6 + 0.25], rtol=1e-12)  # 3x² + eps²


def test_an_explicit_eps_that_vanishes_next_to_an_entry_is_a_value_error():
    message = r"numerical_grad: .*x = 1000000000000\.0 at index \(1,\).*eps=1e-06 vanishes"
    with pytest.raises(ValueError, match=message):
        wl.numerical_grad(lambda x: (x**2).sum(), [1.0, 1e12], eps=1e-6)
    with pytest.raises(ValueError, match=r"check_grad of <lambda>: .*argument 0 = "
                                         r"1000000000000\.0.*pass eps=None"):
        wl.check_grad(lambda x: x**2, 1e12, eps=1e-6)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_differences_around_a_non_finite_point_are_a_value_error(bad):
    point = [1.0, bad]
    with pytest.raises(ValueError, match=r"numerical_grad: x must be finite .*at index \(1,\)"):
        wl.numerical_grad(lambda x: wl.sigmoid(x).sum(), point)
    with pytest.raises(ValueError, match=r"check_grad of <lambda>: argument 1 must be finite .*"
                                         r"at index \(1,\)"):
        wl.check_grad(lambda a, x: (a * wl.sigmoid(x)).sum(), [1.0, 1.0], point)
    with pytest.raises(ValueError, match=rf"numerical_grad: x must be finite .*got {bad}$"):
        wl.numerical_grad(lambda x: x**2, bad)  # 0-d: no index to name


def test_check_grad_fails_when_the_differences_are_nan():
    """A NaN difference measured nothing: it must not pass for agreement."""
    def f(x):
        return wl.where(x >= 0, x, math.nan).sum()  # NaN left of 0, derivative 1 at 0

    with pytest.raises(AssertionError, match=r"analytic 1\.0, numeric nan|numeric .*nan"):
        wl.check_grad(f, [0.0, 1.0])


def test_check_grad_errors_name_check_grad_and_the_users_function():
    with pytest.raises(TypeError,
                       match=r"^check_grad of <lambda>: f must return numbers.*NoneType"):
        wl.check_grad(lambda x: None, [1.0])
    with pytest.raises(TypeError, match=r"^check_grad of <lambda>: .*plain number"):
        wl.check_grad(lambda x: float((x**2).sum()), [1.0, 2.0])

    def loss(x):
        return float((x**2).sum())

    with pytest.raises(TypeError, match=r"^check_grad of loss: "):
        wl.check_grad(loss, [1.0, 2.0], modes="fwd")


def test_check_grad_order_2_of_a_non_scalar_function_says_so():
    with pytest.raises(ValueError,
                       match=r"^check_grad of <lambda>: order=2 .*scalar.*shape \(2,\)"):
        wl.check_grad(lambda x: x**2, [1.0, 2.0], order=2)


def test_numerical_grad_of_a_function_whose_output_changes_shape_names_it():
    """Moving x[0] below 1 drops it from the output: (2,) against (1,) used to broadcast."""
    with pytest.raises(ValueError, match=r"^numerical_grad: f returned shape \(2,\) at one "
                                         r"point and shape \(1,\) at another \(moving x at "
                                         r"index \(0,\)\)"):
        wl.numerical_grad(lambda x: x[x >= 1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"^check_grad of <lambda>: f returned shape"):
        wl.check_grad(lambda x: x[x >= 1.0], [1.0, 2.0])


def test_numerical_grad_of_an_empty_point_keeps_the_jacobian_layout():
    J = wl.numerical_grad(lambda x: wl.ones(3) * x.sum(), np.zeros(0))
    assert J.shape == (3, 0)
    assert wl.numerical_grad(lambda x: x.sum(), np.zeros((0, 2))).shape == (0, 2)


# ----------------------------------------------------------------------- linearize(has_aux)


def _f_and_aux(x, m):
    y = m.sin(x) * x
    return y, {"norm": (y * y).sum(), "label": "sinc"}


def test_linearize_has_aux_matches_jax():
    x0 = np.array([0.3, -1.2, 2.0])
    model = wl.linearize(lambda x: _f_and_aux(x, wl), x0, has_aux=True)
    y, f_jvp, aux = jax.linearize(lambda x: _f_and_aux(x, jnp), x0, has_aux=True)
    np.testing.assert_allclose(as_np(model.value), np.asarray(y), rtol=1e-14)
    assert model.aux["label"] == aux["label"]
    assert isinstance(model.aux["norm"], wl.Tensor) and not model.aux["norm"].requires_grad
    np.testing.assert_allclose(model.aux["norm"].item(), float(aux["norm"]), rtol=1e-14)
    r = np.random.default_rng(3)
    for _ in range(3):
        v = r.standard_normal(3)
        np.testing.assert_allclose(as_np(model.jvp(v)), np.asarray(f_jvp(v)), rtol=1e-13)
        np.testing.assert_allclose(as_np(model(x0 + 0.1 * v)),
                                   np.asarray(y) + np.asarray(f_jvp(0.1 * v)), rtol=1e-13)


def test_linearize_has_aux_of_a_scalar_point_and_a_vector_output():
    model = wl.linearize(lambda x: (wl.stack([x, x**2]), x * 10), 2.0, has_aux=True)
    y, f_jvp, aux = jax.linearize(lambda x: (jnp.stack([x, x**2]), x * 10), 2.0, has_aux=True)
    np.testing.assert_allclose(as_np(model(2.5)), np.asarray(y) + np.asarray(f_jvp(0.5)))
    assert model.aux.item() == float(aux) == 20.0


def test_linearize_has_aux_keeps_any_aux_and_differentiates_through_x0():
    assert wl.linearize(lambda x: (x**2, None), 1.0, has_aux=True).aux is None
    # d/da [a³ + 3a² (2 - a)] = 6a (2 - a): the model stays differentiable in its point
    g = wl.grad(lambda a: wl.linearize(lambda x: (x**3, "aux"), a, has_aux=True)(2.0))(1.0)
    assert g.item() == pytest.approx(6.0, rel=1e-14, abs=0)


def test_linearize_has_aux_errors_name_linearize():
    with pytest.raises(TypeError, match=r"^linearize of <lambda>: with has_aux=True .*pair"):
        wl.linearize(lambda x: x**2, 1.0, has_aux=True)
    with pytest.raises(TypeError, match=r"^linearize: has_aux must be True or False, got 'yes'"):
        wl.linearize(lambda x: x**2, 1.0, has_aux="yes")
    with pytest.raises(AttributeError, match=r"^linearize: this model has no aux.*has_aux=True"):
        wl.linearize(lambda x: x**2, 1.0).aux  # noqa: B018


def test_linearize_of_a_function_returning_a_pair_without_has_aux_is_a_type_error():
    """It used to stack the pair into one value, a model with no Jacobian to match."""
    with pytest.raises(TypeError, match=r"^linearize of <lambda>: .*tuple of 2 outputs.*"
                                        r"has_aux=True"):
        wl.linearize(lambda x: (x**2, x), 1.0)
    with pytest.raises(TypeError, match=r"^linearize of <lambda>: .*tuple of 2 outputs"):
        wl.linearize(lambda x: ((x, x**2), "aux"), 1.0, has_aux=True)
