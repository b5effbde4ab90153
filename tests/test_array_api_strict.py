"""The op suite on ``array_api_strict`` arrays: no NumPy-only call may leak.

``array_api_strict`` implements exactly the Array-API standard and refuses everything
else (NumPy arrays and scalars as operands, implicit trailing axes in indices, mixed
int/float promotion, ...). Each case below builds ``wl.tensor(xps.asarray(a),
requires_grad=True)``, runs a function, calls ``backward()`` and checks that

(a) the result's data and the leaf's ``.grad`` data are ``array_api_strict`` arrays, and
(b) the result and the gradient equal the same computation on NumPy-backed tensors.

The subset covered (API.md §1):

- elementwise: ``+ - * / **`` (tensor and Python-scalar operands on either side),
  unary minus, ``abs exp log log1p sqrt sign sin cos tanh sigmoid relu softplus``,
  ``maximum minimum clip``, broadcasting between strict tensors;
- reductions: ``sum mean var std max min prod norm`` with ``dim``/``keepdim``,
  ``argmax``/``argmin`` (values only);
- ``matmul`` (2-D, matrix-vector, batched with broadcast batch dims), ``dot inner outer``,
  ``einsum``;
- shapes: ``reshape permute transpose .T squeeze unsqueeze flatten stack concatenate``;
- indexing: ``t[i]``, ``t[i, :, j:k]``, ``t[..., None]``, integer arrays (repeated),
  boolean masks, ``__setitem__`` on a non-leaf;
- ``where`` with a comparison as condition;
- ``logsumexp softmax log_softmax``;
- ``wl.linalg.solve inv cholesky``;
- reverse mode: ``backward``, accumulation, a no-grad SGD step, ``create_graph``.

Not covered: the functional transforms (§2) and everything above layer 3.
"""

from __future__ import annotations

import array_api_compat
import numpy as np
import pytest

import wonderland as wl

xps = pytest.importorskip("array_api_strict")


def is_strict(data) -> bool:
    return array_api_compat.is_array_api_strict_namespace(array_api_compat.array_namespace(data))


def _strict(a, requires_grad=True):
    return wl.tensor(xps.asarray(np.asarray(a)), requires_grad=requires_grad)


def _numpy(a, requires_grad=True):
    return wl.tensor(np.asarray(a), requires_grad=requires_grad)


RNG = np.random.default_rng(42)
X34 = RNG.normal(size=(3, 4))
B4 = RNG.uniform(0.5, 1.5, size=(4,))
C31 = RNG.normal(size=(3, 1))
M = RNG.normal(size=(3, 3))
SPD = M @ M.T + 3 * np.eye(3)
V3 = RNG.normal(size=(3,))
X234 = RNG.normal(size=(2, 3, 4))
POS = RNG.uniform(0.5, 2.0, size=(3, 4))


# name -> (inputs, function of tensors returning a tensor). Each input gets requires_grad.
CASES = {
    # ---- elementwise
    "arith": ((X34, B4), lambda x, b: x * b + x / b - b - x),
    "scalar-right": ((X34,), lambda x: x * 2.0 + x / 4.0 - 1.0 + x ** 2),
    "scalar-left": ((X34,), lambda x: 2.0 * x + 1.0 - x + 3.0 / (x * x + 1.0)),
    "rpow": ((X34,), lambda x: 2.0 ** x),
    "pow-tensor": ((POS, B4), lambda p, b: p ** b),
    "neg-abs": ((X34,), lambda x: -x + abs(x) + wl.abs(x)),
    "broadcast": ((C31, B4), lambda c, b: c * b + c - b),
    "unary-1": ((X34,), lambda x: x.exp() + x.sin() + x.cos() + x.tanh()),
    "unary-2": ((X34,), lambda x: x.sigmoid() + x.relu() + x.softplus() + x.sign() * x),
    "unary-log": ((POS,), lambda p: p.log() + p.log1p() + p.sqrt()),
    "maximum-minimum": ((X34, B4), lambda x, b: wl.maximum(x, b - 1.0) + wl.minimum(x, 0.0)),
    "clip": ((X34,), lambda x: wl.clip(x, -0.5, 0.5) * x),
    # ---- reductions
    "sum-mean": ((X234,), lambda x: x.sum(dim=1) + x.mean(dim=1) + x.sum() + x.mean()),
    "sum-keepdim": ((X234,), lambda x: x * x.sum(dim=(0, 2), keepdim=True)),
    "var": ((X234,), lambda x: x.var(dim=2) + x.var()),
    "var-ddof": ((X234,), lambda x: wl.var(x, dim=0, ddof=1)),
    "std": ((X234,), lambda x: x.std(dim=-1, keepdim=True) + wl.std(x, correction=1)),
    "max-min": ((X234,), lambda x: wl.max(x, dim=1) + wl.min(x, dim=1) + x.max()),
    "prod": ((POS,), lambda p: p.prod(dim=0)),
    "norm": ((X34,), lambda x: wl.norm(x) + wl.norm(x, dim=1).sum()),
    # ---- linear algebra products
    "matmul": ((X34, X34), lambda a, b: a @ b.T),
    "matvec": ((X34, B4), lambda a, v: a @ v),
    "batched-matmul": ((X234, RNG.normal(size=(2, 4, 5))), lambda a, b: a @ b),
    "broadcast-matmul": ((RNG.normal(size=(2, 1, 5, 2)), RNG.normal(size=(3, 2, 4))),
                         lambda a, b: wl.matmul(a, b)),
    "dot-inner-outer": ((V3, V3 + 1.0),
                        lambda u, v: wl.dot(u, v) + wl.inner(u, v) + wl.outer(u, v).sum()),
    "einsum": ((X34, X34), lambda a, b: wl.einsum("ij,kj->ik", a, b)),
    # ---- shapes
    "reshape-permute": ((X234,), lambda x: x.reshape(4, 6).reshape((2, 2, 6)).permute(2, 0, 1)),
    "transpose-T": ((X234,), lambda x: wl.transpose(x, 0, 2) + x.T),
    "squeeze-unsqueeze-flatten": ((X34,), lambda x: wl.unsqueeze(x, 1).squeeze(1).flatten()),
    "stack-cat": ((X34, X34 * 2), lambda a, b: wl.stack([a, b], dim=1).sum(dim=0)
                  + wl.cat([a, b], dim=0).sum()),
    # ---- indexing
    "index-int-leading": ((X34,), lambda x: x[1]),
    "index-int-ellipsis": ((X34,), lambda x: x[1, ...]),
    "index-mixed": ((X234,), lambda x: x[1, :, 1:3]),
    "index-none": ((X34,), lambda x: x[..., None]),
    "index-int-array-1d": ((B4,), lambda b: b[[0, 0, 3]]),
    "index-int-array-2d": ((X34,), lambda x: x[[0, 0, 2]]),
    "index-mask": ((X34,), lambda x: x[x > 0]),
    "setitem-non-leaf": ((X34, V3), lambda x, v: _setitem(x, v)),
    # ---- where, softmax family
    "where": ((X34, B4), lambda x, b: wl.where(x > 0, x, b * x)),
    "logsumexp": ((X34,), lambda x: wl.logsumexp(x, dim=1) + wl.logsumexp(x)),
    "softmax": ((X34,), lambda x: wl.softmax(x, dim=1) * x),
    "log_softmax": ((X34,), lambda x: wl.log_softmax(x, dim=0)),
    # ---- wl.linalg
    "solve-vector": ((SPD, V3), lambda a, b: wl.linalg.solve(a, b)),
    "solve-matrix": ((SPD, X34), lambda a, b: wl.linalg.solve(a, b)),
    "inv": ((SPD,), lambda a: wl.linalg.inv(a)),
    "cholesky": ((SPD,), lambda a: wl.linalg.cholesky(a)),
}


def _setitem(x, v):
    y = x * 1.0
    y[:, 0] = v * 2.0
    return y


def _run(make, inputs, f):
    tensors = [make(a) for a in inputs]
    out = f(*tensors)
    weights = np.arange(1.0, 1.0 + out.size).reshape(out.shape) / out.size
    w = wl.tensor(xps.asarray(weights)) if make is _strict else wl.tensor(weights)
    (out * w).sum().backward()
    return out, tensors


@pytest.mark.parametrize("name", list(CASES))
def test_op_on_strict_arrays(name):
    inputs, f = CASES[name]
    out_s, ins_s = _run(_strict, inputs, f)
    out_n, ins_n = _run(_numpy, inputs, f)
    assert is_strict(out_s._data), type(out_s._data)
    assert out_s.shape == out_n.shape
    np.testing.assert_allclose(out_s.numpy(), out_n.numpy(), rtol=1e-10, atol=1e-12)
    for i, (ts, tn) in enumerate(zip(ins_s, ins_n)):
        assert ts.grad is not None, f"input {i} has no gradient"
        assert is_strict(ts.grad._data), f"input {i}: grad is {type(ts.grad._data)}"
        assert ts.grad.shape == ts.shape
        np.testing.assert_allclose(ts.grad.numpy(), tn.grad.numpy(), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------- beyond single ops


def test_creation_keeps_strict_namespace():
    a = xps.asarray([[1.0, 2.0], [3.0, 4.0]])
    t = wl.tensor(a, requires_grad=True)
    assert is_strict(t._data)
    assert t.shape == (2, 2)
    assert is_strict(wl.zeros_like(t)._data)
    assert is_strict(wl.ones_like(t)._data)
    assert is_strict(wl.tensor(t)._data)
    assert isinstance(t.numpy(), np.ndarray)
    np.testing.assert_array_equal(np.asarray(t), [[1.0, 2.0], [3.0, 4.0]])
    assert t[0, 1].item() == 2.0
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_strict_int_requires_grad_is_type_error():
    with pytest.raises(TypeError):
        wl.tensor(xps.asarray([1, 2, 3]), requires_grad=True)


def test_comparison_gives_strict_bool():
    x = _strict(X34)
    c = x > 0
    assert is_strict(c._data)
    assert not c.requires_grad
    np.testing.assert_array_equal(c.numpy(), X34 > 0)


def test_argmax_argmin_strict():
    x = _strict(X34)
    am = wl.argmax(x, dim=1)
    assert is_strict(am._data)
    np.testing.assert_array_equal(am.numpy(), np.argmax(X34, axis=1))
    np.testing.assert_array_equal(wl.argmin(x).numpy(), np.argmin(X34))


def test_accumulation_and_sgd_step_stay_strict():
    x = _strict([1.0, -2.0])
    for _ in range(3):
        (x * x).sum().backward()
        with wl.no_grad():
            x -= 0.1 * x.grad
        assert is_strict(x.grad._data)
        x.grad.zero_()
    assert is_strict(x._data)
    assert x.is_leaf and x.requires_grad
    np.testing.assert_allclose(x.numpy(), np.array([1.0, -2.0]) * 0.8 ** 3)
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + 3.0)


def test_create_graph_second_derivative_strict():
    x = _strict([0.5, 1.5])
    (x ** 3).sum().backward(create_graph=True)
    d1 = x.grad
    assert is_strict(d1._data)
    x.grad = None
    d1.sum().backward()
    assert is_strict(x.grad._data)
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([0.5, 1.5]))


def test_backward_with_strict_seed():
    x = _strict([1.0, 2.0, 3.0])
    (x * x).backward(grad=xps.asarray([1.0, 0.0, 2.0]))
    assert is_strict(x.grad._data)
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, 12.0])


def test_jvp_and_vjp_take_numpy_tangents_and_cotangents_for_strict_primals():
    # a NumPy tangent (or a list cotangent) goes into the primal's library, as a number
    # would; mixing the two libraries inside the rule was a TypeError from NumPy
    x = xps.asarray([1.0, 2.0, 3.0])
    out, slope = wl.jvp(lambda v: v ** 2, (x,), (np.array([1.0, 0.0, 2.0]),))
    assert is_strict(out._data) and is_strict(slope._data)
    np.testing.assert_allclose(slope.numpy(), [2.0, 0.0, 12.0])
    _, pullback = wl.vjp(lambda v: v ** 2, x)
    for cotangent in (np.ones(3), [1.0, 1.0, 1.0], xps.ones(3)):
        (g,) = pullback(cotangent)
        assert is_strict(g._data)
        np.testing.assert_allclose(g.numpy(), [2.0, 4.0, 6.0])


def test_numpy_scalars_and_arrays_beside_a_strict_tensor_join_its_library():
    """``np.float64`` operands (and NumPy arrays inside ``where``) are moved into the
    tensor's library, as NumPy operands of the operators are: array_api_strict refuses
    them otherwise."""
    x = _strict([1.0, 2.0])
    for y in (x * np.float64(2), np.float64(2) * x, x - np.float32(1)):
        assert is_strict(y._data)
    np.testing.assert_allclose(np.asarray(wl.grad(lambda v: (v * np.float64(3)).sum())(x)._data),
                               [3.0, 3.0])
    w = wl.where(x > 1.5, x, np.zeros(2))
    assert is_strict(w._data) and np.asarray(w._data).tolist() == [0.0, 2.0]
    w = wl.where(np.array([True, False]), x, 0.0)  # a NumPy condition
    assert is_strict(w._data) and np.asarray(w._data).tolist() == [1.0, 0.0]


def test_rounding_and_modulo_on_strict_tensors():
    x = _strict([7.5, -3.2])
    for y, want in [(wl.floor(x), [7.0, -4.0]), (wl.round(x), [8.0, -3.0]),
                    (x // 2, [3.0, -2.0]), (x % 2, [1.5, 0.8])]:
        assert is_strict(y._data)
        np.testing.assert_allclose(np.asarray(y._data), want)
    g = wl.grad(lambda v: (v % 2).sum())(x)
    assert is_strict(g._data) and np.asarray(g._data).tolist() == [1.0, 1.0]


LOSS_TARGETS = {
    "squared": [0.0, 1.0, 2.0], "absolute": [0.0, 1.0, 2.0], "huber": [0.0, 1.0, 2.0],
    "hinge": [-1.0, 1.0, 1.0], "zero_one": [-1.0, 1.0, 1.0],
    "binary_cross_entropy": [0.0, 1.0, 1.0], "binary_cross_entropy_with_logits": [0.0, 1.0, 1.0],
}


@pytest.mark.parametrize("name", list(LOSS_TARGETS))
@pytest.mark.parametrize("target_kind", ["list", "numpy", "numpy tensor", "strict"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_losses_of_a_strict_prediction_take_targets_of_any_library(name, target_kind, dtype):
    """A list or NumPy target joins the prediction's library (it crashed on NumPy's
    ``isdtype`` of a strict dtype, for every loss)."""
    pred = [0.3, 0.6, 0.9]
    target = LOSS_TARGETS[name]
    given = {"list": target, "numpy": np.asarray(target), "numpy tensor": wl.tensor(target),
             "strict": xps.asarray(target)}[target_kind]
    loss = getattr(wl.losses, name)
    strict = wl.tensor(xps.asarray(pred, dtype=getattr(xps, dtype)), requires_grad=True)
    reference = wl.tensor(np.asarray(pred, dtype=dtype), requires_grad=True)
    out, want = loss(strict, given), loss(reference, np.asarray(target))
    assert array_api_compat.is_array_api_strict_namespace(array_api_compat.array_namespace(
        out._data))
    np.testing.assert_allclose(float(out), float(want), rtol=1e-6)
    if name != "zero_one":  # (a metric: no gradient)
        out.backward()
        want.backward()
        np.testing.assert_allclose(np.asarray(strict.grad._data), reference.grad.numpy(),
                                   rtol=1e-6)


def test_a_target_that_requires_grad_in_another_library_is_named():
    pred = wl.tensor(xps.asarray([0.3, 0.6]), requires_grad=True)
    with pytest.raises(TypeError, match="squared: the prediction is an array of "
                                        "array_api_strict but the target, which requires grad"):
        wl.losses.squared(pred, wl.tensor([0.0, 1.0], requires_grad=True))


@pytest.mark.parametrize("labels", [[0, 2], np.array([0, 2]), wl.tensor([0, 2])])
def test_cross_entropy_of_strict_logits_equals_pytorch(labels):
    torch = pytest.importorskip("torch")
    values = [[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]]
    z = wl.tensor(xps.asarray(values, dtype=xps.float32), requires_grad=True)
    out = wl.losses.cross_entropy(z, labels, reduction="none")
    out.sum().backward()
    zt = torch.tensor(values, requires_grad=True)
    want = torch.nn.functional.cross_entropy(zt, torch.tensor([0, 2]), reduction="none")
    want.sum().backward()
    np.testing.assert_allclose(np.asarray(out._data), want.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(z.grad._data), zt.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("index", [np.array([0, 2, 2]), wl.tensor([0, 2, 2])])
def test_numpy_integer_indices_select_from_a_strict_tensor(index):
    t = wl.tensor(xps.asarray([1.0, 2.0, 3.0]), requires_grad=True)
    picked = t[index]
    picked.sum().backward()
    assert picked.tolist() == [1.0, 3.0, 3.0]
    assert np.asarray(t.grad._data).tolist() == [1.0, 0.0, 2.0]
