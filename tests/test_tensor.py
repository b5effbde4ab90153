"""Tensors (API.md §1, §9): creation, attributes, conversions, operators, reductions,
shape functions and matmul, each compared against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import wonderland as wl

# ---------------------------------------------------------------------------- creation


def test_tensor_from_python_float_is_float64():
    t = wl.tensor(1.5)
    assert t.dtype == np.float64
    assert t.shape == ()
    assert t.item() == 1.5


def test_tensor_from_python_int_is_int64():
    t = wl.tensor(3)
    assert t.dtype == np.int64
    assert t.item() == 3
    assert wl.tensor([1, 2, 3]).dtype == np.int64


def test_tensor_from_nested_list():
    t = wl.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3)
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t.numpy(), [[1, 2, 3], [4, 5, 6]])


def test_tensor_from_numpy_array_keeps_dtype_and_values():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = wl.tensor(a)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.numpy(), a)


def test_tensor_from_tensor():
    a = wl.tensor([1.0, 2.0])
    b = wl.tensor(a)
    assert isinstance(b, wl.Tensor)
    np.testing.assert_array_equal(b.numpy(), [1.0, 2.0])
    assert not b.requires_grad


def test_tensor_from_tensor_is_outside_graph():
    a = wl.tensor([1.0, 2.0], requires_grad=True)
    b = wl.tensor(a)
    assert b.is_leaf


@pytest.mark.parametrize("dtype", [np.float32, np.dtype("float32"), "float32", wl.float32])
def test_tensor_dtype_argument_forms(dtype):
    t = wl.tensor([1, 2], dtype=dtype)
    assert t.dtype == np.float32
    assert isinstance(t.dtype, np.dtype)


@pytest.mark.parametrize("dtype", [np.float64, "float64", wl.float64])
def test_tensor_dtype_float64_forms(dtype):
    assert wl.tensor([1, 2], dtype=dtype).dtype == np.float64


def test_tensor_requires_grad_flag():
    t = wl.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad
    assert t.is_leaf
    assert t.grad is None
    assert not wl.tensor([1.0]).requires_grad


SHAPE_MAKERS = [
    ("zeros", lambda *s, **k: wl.zeros(*s, **k), 0.0),
    ("ones", lambda *s, **k: wl.ones(*s, **k), 1.0),
    ("randn", lambda *s, **k: wl.randn(*s, **k), None),
    ("rand", lambda *s, **k: wl.rand(*s, **k), None),
]


@pytest.mark.parametrize("name,make,value", SHAPE_MAKERS, ids=[m[0] for m in SHAPE_MAKERS])
def test_shape_creation_takes_varargs_or_tuple(name, make, value):
    a = make(2, 3)
    b = make((2, 3))
    c = make([2, 3])
    for t in (a, b, c):
        assert t.shape == (2, 3)
        assert t.dtype == np.float64
        assert not t.requires_grad
    if value is not None:
        np.testing.assert_array_equal(a.numpy(), np.full((2, 3), value))
        np.testing.assert_array_equal(b.numpy(), np.full((2, 3), value))


@pytest.mark.parametrize("name,make,value", SHAPE_MAKERS, ids=[m[0] for m in SHAPE_MAKERS])
def test_shape_creation_dtype_and_requires_grad(name, make, value):
    t = make(3, dtype="float32", requires_grad=True)
    assert t.dtype == np.float32
    assert t.requires_grad
    assert t.is_leaf
    assert make(3, dtype=wl.float32).dtype == np.float32
    assert make(3, dtype=np.float32).dtype == np.float32


def test_zeros_scalar_shape():
    assert wl.zeros(()).shape == ()
    assert wl.zeros(4).shape == (4,)


def test_full():
    t = wl.full((2, 3), 7.5)
    assert t.shape == (2, 3)
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), 7.5))
    assert wl.full(4, 2.0).shape == (4,)
    assert wl.full((2,), 1.0, dtype="float32").dtype == np.float32
    assert wl.full((2,), 1.0, requires_grad=True).requires_grad


def test_full_default_float64_even_with_int_value():
    assert wl.full((2,), 3).dtype == np.float64


def test_eye():
    t = wl.eye(3)
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t.numpy(), np.eye(3))
    assert wl.eye(2, dtype=wl.float32).dtype == np.float32
    assert wl.eye(2, requires_grad=True).requires_grad


def test_arange():
    np.testing.assert_array_equal(wl.arange(5).numpy(), np.arange(5))
    np.testing.assert_allclose(wl.arange(1.0, 2.0, 0.25).numpy(), np.arange(1.0, 2.0, 0.25))
    np.testing.assert_array_equal(wl.arange(2, 8, 2).numpy(), [2, 4, 6])
    t = wl.arange(3, dtype="float64", requires_grad=True)
    assert t.dtype == np.float64
    assert t.requires_grad


def test_linspace():
    t = wl.linspace(0, 1, 5)
    assert t.dtype == np.float64
    np.testing.assert_allclose(t.numpy(), np.linspace(0, 1, 5))
    assert wl.linspace(0, 1, 3, dtype="float32").dtype == np.float32
    assert wl.linspace(0, 1, 3, requires_grad=True).requires_grad


def test_zeros_like_ones_like():
    x = wl.randn(2, 3)
    z = wl.zeros_like(x)
    o = wl.ones_like(x)
    assert z.shape == o.shape == (2, 3)
    np.testing.assert_array_equal(z.numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(o.numpy(), np.ones((2, 3)))
    assert wl.zeros_like(x, dtype="float32").dtype == np.float32
    assert wl.ones_like(x, requires_grad=True).requires_grad
    assert not wl.zeros_like(wl.ones(2, requires_grad=True)).requires_grad


def test_manual_seed_makes_randn_and_rand_reproducible():
    wl.manual_seed(123)
    a, b = wl.randn(5), wl.rand(5)
    wl.manual_seed(123)
    c, d = wl.randn(5), wl.rand(5)
    np.testing.assert_array_equal(a.numpy(), c.numpy())
    np.testing.assert_array_equal(b.numpy(), d.numpy())
    wl.manual_seed(124)
    assert not np.array_equal(wl.randn(5).numpy(), a.numpy())


def test_randn_tuple_and_varargs_same_stream():
    wl.manual_seed(7)
    a = wl.randn((4, 1))
    wl.manual_seed(7)
    b = wl.randn(4, 1)
    assert a.shape == b.shape == (4, 1)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_rand_in_unit_interval():
    wl.manual_seed(0)
    u = wl.rand(1000).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0
    assert 0.4 < u.mean() < 0.6


# ---------------------------------------------------------------------------- attributes


def test_attributes():
    t = wl.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4)
    assert isinstance(t.shape, tuple)
    assert t.ndim == 3
    assert t.size == 24
    assert isinstance(t.dtype, np.dtype)
    assert len(t) == 2


def test_T_reverses_axes():
    a = np.arange(24.0).reshape(2, 3, 4)
    t = wl.tensor(a)
    assert t.T.shape == (4, 3, 2)
    np.testing.assert_array_equal(t.T.numpy(), a.T)
    m = wl.tensor([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(m.T.numpy(), [[1.0, 3.0], [2.0, 4.0]])


# ---------------------------------------------------------------------------- conversions


def test_numpy_works_when_requires_grad():
    t = wl.tensor([1.0, 2.0], requires_grad=True)
    a = t.numpy()
    assert isinstance(a, np.ndarray)
    np.testing.assert_array_equal(a, [1.0, 2.0])


def test_np_asarray():
    t = wl.tensor([[1.0, 2.0]], requires_grad=True)
    a = np.asarray(t)
    assert isinstance(a, np.ndarray)
    assert a.shape == (1, 2)
    np.testing.assert_array_equal(a, [[1.0, 2.0]])
    assert np.asarray(t, dtype=np.float32).dtype == np.float32


def test_item_and_tolist():
    assert wl.tensor(2.5).item() == 2.5
    assert isinstance(wl.tensor(2.5).item(), float)
    assert wl.tensor([[4.0]]).item() == 4.0
    assert isinstance(wl.tensor(3).item(), int)
    assert wl.tensor([[1.0, 2.0], [3.0, 4.0]]).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert wl.tensor(1.0).tolist() == 1.0


def test_format_one_element():
    assert format(wl.tensor(3.14159), ".3f") == "3.142"
    assert format(wl.tensor([[2.0]]), ".1f") == "2.0"
    assert f"{wl.tensor(0.5, requires_grad=True):.2f}" == "0.50"


def test_data_is_detached_and_shares_storage():
    x = wl.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    d = y.data
    assert isinstance(d, wl.Tensor)
    assert not d.requires_grad
    assert d.is_leaf
    np.testing.assert_array_equal(d.numpy(), [2.0, 4.0, 6.0])
    xd = x.data
    xd[0] = 10.0  # writes through to x
    assert x.numpy()[0] == 10.0
    assert x.requires_grad


# ---------------------------------------------------------------------------- operators

rng = np.random.default_rng(0)


def test_broadcast_4x1_plus_4():
    a, b = rng.normal(size=(4, 1)), rng.normal(size=(4,))
    out = wl.tensor(a) + wl.tensor(b)
    assert out.shape == (4, 4)
    np.testing.assert_allclose(out.numpy(), a + b)


@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a * b,
        lambda a, b: a / b,
        lambda a, b: abs(a) ** b,
    ],
    ids=["add", "sub", "mul", "div", "pow"],
)
def test_binary_operators_match_numpy(op):
    a = rng.normal(size=(3, 4))
    b = rng.uniform(0.5, 2.0, size=(4,))
    np.testing.assert_allclose(op(wl.tensor(a), wl.tensor(b)).numpy(), op(a, b))
    # with Python scalars and NumPy arrays on either side
    np.testing.assert_allclose(op(wl.tensor(a), 2.0).numpy(), op(a, 2.0))
    np.testing.assert_allclose(op(1.5, wl.tensor(b)).numpy(), op(1.5, b))
    np.testing.assert_allclose(op(wl.tensor(a), b).numpy(), op(a, b))


def test_unary_operators():
    a = rng.normal(size=(3,))
    t = wl.tensor(a)
    np.testing.assert_array_equal((-t).numpy(), -a)
    np.testing.assert_array_equal(abs(t).numpy(), np.abs(a))
    np.testing.assert_array_equal(wl.abs(t).numpy(), np.abs(a))


@st.composite
def broadcastable_pair(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                    max_side=4))
    return shapes.input_shapes, shapes.result_shape


@settings(max_examples=40, deadline=None)
@given(broadcastable_pair())
def test_broadcasting_matches_numpy(pair):
    (sa, sb), result = pair
    a = np.arange(int(np.prod(sa)), dtype=float).reshape(sa) + 1.0
    b = np.arange(int(np.prod(sb)), dtype=float).reshape(sb) * 0.5 - 1.0
    ta, tb = wl.tensor(a), wl.tensor(b)
    for got, want in ((ta + tb, a + b), (ta * tb, a * b), (ta - tb, a - b)):
        assert got.shape == result
        np.testing.assert_allclose(got.numpy(), want)


@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
        lambda a, b: a == b,
        lambda a, b: a != b,
    ],
    ids=["lt", "le", "gt", "ge", "eq", "ne"],
)
def test_comparisons_bool_no_grad(op):
    a = np.array([[1.0, 2.0, 3.0]])
    b = np.array([[2.0], [2.0]])
    ta = wl.tensor(a, requires_grad=True)
    out = op(ta, wl.tensor(b))
    assert out.dtype == np.bool_
    assert not out.requires_grad
    assert out.shape == (2, 3)
    np.testing.assert_array_equal(out.numpy(), op(a, b))
    out2 = op(ta, 2.0)
    assert out2.dtype == np.bool_ and not out2.requires_grad
    np.testing.assert_array_equal(out2.numpy(), op(a, 2.0))


# ---------------------------------------------------------------------------- reductions

A = rng.normal(size=(3, 4, 5))


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "max", "min", "prod"])
def test_reductions_dim_axis_keepdim(name):
    ref = getattr(np, name)
    t = wl.tensor(A)
    fn = getattr(wl, name)
    np.testing.assert_allclose(fn(t).numpy(), ref(A))
    assert fn(t).shape == ()
    for d in (0, 1, -1, (0, 2)):
        want = ref(A, axis=d)
        np.testing.assert_allclose(fn(t, dim=d).numpy(), want)
        np.testing.assert_allclose(fn(t, axis=d).numpy(), want)
        np.testing.assert_allclose(getattr(t, name)(dim=d).numpy(), want)
        np.testing.assert_allclose(getattr(t, name)(axis=d).numpy(), want)
        want_k = ref(A, axis=d, keepdims=True)
        for kw in ({"dim": d, "keepdim": True}, {"axis": d, "keepdims": True},
                   {"dim": d, "keepdims": True}, {"axis": d, "keepdim": True}):
            got = fn(t, **kw)
            assert got.shape == want_k.shape, kw
            np.testing.assert_allclose(got.numpy(), want_k)
    # positional dim
    np.testing.assert_allclose(fn(t, 1).numpy(), ref(A, axis=1))


def test_var_std_population_default_and_correction():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    t = wl.tensor(x)
    np.testing.assert_allclose(wl.var(t).item(), np.var(x))
    np.testing.assert_allclose(wl.std(t).item(), np.std(x))
    np.testing.assert_allclose(t.var().item(), np.var(x))
    for kw in ({"ddof": 1}, {"correction": 1}):
        np.testing.assert_allclose(wl.var(t, **kw).item(), np.var(x, ddof=1))
        np.testing.assert_allclose(wl.std(t, **kw).item(), np.std(x, ddof=1))
        np.testing.assert_allclose(t.std(**kw).item(), np.std(x, ddof=1))
    np.testing.assert_allclose(wl.var(wl.tensor(A), dim=1, ddof=1).numpy(),
                               np.var(A, axis=1, ddof=1))


def test_max_min_return_values_only():
    t = wl.tensor(A)
    m = wl.max(t, dim=1)
    assert isinstance(m, wl.Tensor)
    np.testing.assert_array_equal(m.numpy(), A.max(axis=1))
    m2 = t.min(dim=0)
    assert isinstance(m2, wl.Tensor)
    np.testing.assert_array_equal(m2.numpy(), A.min(axis=0))


def test_argmax_argmin():
    t = wl.tensor(A)
    np.testing.assert_array_equal(wl.argmax(t).numpy(), np.argmax(A))
    np.testing.assert_array_equal(wl.argmin(t).numpy(), np.argmin(A))
    np.testing.assert_array_equal(wl.argmax(t, dim=1).numpy(), np.argmax(A, axis=1))
    np.testing.assert_array_equal(wl.argmin(t, dim=-1).numpy(), np.argmin(A, axis=-1))
    assert not wl.argmax(wl.tensor(A, requires_grad=True), dim=0).requires_grad
    assert wl.argmax(t).dtype.kind in "iu"


def test_norm_frobenius_and_dim():
    M = rng.normal(size=(3, 4))
    t = wl.tensor(M)
    np.testing.assert_allclose(wl.norm(t).item(), np.linalg.norm(M))
    np.testing.assert_allclose(t.norm().item(), np.sqrt((M ** 2).sum()))
    np.testing.assert_allclose(wl.norm(t, dim=1).numpy(), np.linalg.norm(M, axis=1))
    np.testing.assert_allclose(wl.norm(wl.tensor(A)).item(), np.sqrt((A ** 2).sum()))


@pytest.mark.parametrize("name", ["logsumexp", "softmax", "log_softmax"])
def test_softmax_family(name):
    x = rng.normal(size=(3, 5)) * 10
    t = wl.tensor(x)
    m = x.max(axis=1, keepdims=True)
    shifted_lse = np.log(np.exp(x - m).sum(axis=1, keepdims=True))  # the max first: exact
    log_softmax = (x - m) - shifted_lse
    want = {"logsumexp": (shifted_lse + m)[:, 0], "softmax": np.exp(log_softmax),
            "log_softmax": log_softmax}[name]
    np.testing.assert_allclose(getattr(wl, name)(t, dim=1).numpy(), want, rtol=1e-10)
    np.testing.assert_allclose(getattr(wl, name)(t, axis=-1).numpy(), want, rtol=1e-10)


# ---------------------------------------------------------------------------- elementwise


@pytest.mark.parametrize(
    "name,ref",
    [
        ("exp", np.exp),
        ("log", np.log),
        ("log1p", np.log1p),
        ("sqrt", np.sqrt),
        ("abs", np.abs),
        ("sign", np.sign),
        ("sin", np.sin),
        ("cos", np.cos),
        ("tanh", np.tanh),
        ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
        ("relu", lambda x: np.maximum(x, 0)),
        ("softplus", lambda x: np.log1p(np.exp(x))),
    ],
)
def test_elementwise_functions(name, ref):
    x = rng.uniform(0.1, 3.0, size=(2, 3)) * np.array([1, -1, 1])
    if name in ("log", "sqrt", "log1p"):
        x = np.abs(x)
    np.testing.assert_allclose(getattr(wl, name)(wl.tensor(x)).numpy(), ref(x), rtol=1e-12)
    np.testing.assert_allclose(getattr(wl.tensor(x), name)().numpy(), ref(x), rtol=1e-12)


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int16", "uint16", "uint32", "int64"])
@pytest.mark.parametrize("name", ["exp", "sqrt", "sin", "tanh", "sigmoid", "softplus"])
def test_float_functions_of_integers_match_torch(name, dtype):
    # -|x| of an unsigned integer wraps around: sigmoid(uint16 1) came out 0
    torch = pytest.importorskip("torch")
    values = np.array([0, 1, 3, 9], dtype=dtype) if dtype != "bool" else np.array([0, 1], bool)
    out = getattr(wl, name)(wl.tensor(values))
    assert out.dtype.kind == "f"  # as NumPy: float16 for bool and 8-bit integers (torch: float32)
    reference = torch.nn.functional.softplus if name == "softplus" else getattr(torch, name)
    expected = reference(torch.tensor(values.astype(np.float64))).numpy()
    rtol = 2e-3 if out.dtype == np.float16 else 1e-6
    np.testing.assert_allclose(out.numpy(), expected, rtol=rtol)


def test_maximum_minimum_where_clip():
    a, b = rng.normal(size=(3, 1)), rng.normal(size=(4,))
    ta, tb = wl.tensor(a), wl.tensor(b)
    np.testing.assert_array_equal(wl.maximum(ta, tb).numpy(), np.maximum(a, b))
    np.testing.assert_array_equal(wl.minimum(ta, tb).numpy(), np.minimum(a, b))
    np.testing.assert_array_equal(wl.where(ta > 0, ta, tb).numpy(), np.where(a > 0, a, b))
    np.testing.assert_array_equal(wl.clip(tb, -0.5, 0.5).numpy(), np.clip(b, -0.5, 0.5))


# ---------------------------------------------------------------------------- shapes


def test_transpose_swaps_two_axes():
    t = wl.tensor(A)
    out = wl.transpose(t, 0, 2)
    assert out.shape == (5, 4, 3)
    np.testing.assert_array_equal(out.numpy(), np.swapaxes(A, 0, 2))
    np.testing.assert_array_equal(t.transpose(0, 1).numpy(), np.swapaxes(A, 0, 1))
    np.testing.assert_array_equal(wl.transpose(t, 1, -1).numpy(), np.swapaxes(A, 1, 2))


def test_permute_takes_all_axes():
    t = wl.tensor(A)
    np.testing.assert_array_equal(wl.permute(t, (2, 0, 1)).numpy(), A.transpose(2, 0, 1))
    np.testing.assert_array_equal(t.permute(1, 2, 0).numpy(), A.transpose(1, 2, 0))


def test_reshape_squeeze_unsqueeze_flatten():
    t = wl.tensor(A)
    np.testing.assert_array_equal(t.reshape(12, 5).numpy(), A.reshape(12, 5))
    np.testing.assert_array_equal(t.reshape((5, -1)).numpy(), A.reshape(5, -1))
    np.testing.assert_array_equal(wl.reshape(t, (60,)).numpy(), A.reshape(60))
    u = wl.unsqueeze(t, 1)
    assert u.shape == (3, 1, 4, 5)
    assert wl.squeeze(u, 1).shape == (3, 4, 5)
    assert wl.squeeze(wl.zeros(1, 3, 1)).shape == (3,)
    np.testing.assert_array_equal(wl.flatten(t).numpy(), A.ravel())


def test_indexing_values():
    t = wl.tensor(A)
    np.testing.assert_array_equal(t[1].numpy(), A[1])
    np.testing.assert_array_equal(t[1, :, 2:4].numpy(), A[1, :, 2:4])
    np.testing.assert_array_equal(t[..., None].numpy(), A[..., None])
    np.testing.assert_array_equal(t[[0, 2, 0]].numpy(), A[[0, 2, 0]])
    mask = A > 0
    np.testing.assert_array_equal(t[wl.tensor(mask)].numpy(), A[mask])
    np.testing.assert_array_equal(t[t > 0].numpy(), A[mask])


def test_stack_concatenate_cat():
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    ta, tb = wl.tensor(a), wl.tensor(b)
    np.testing.assert_array_equal(wl.stack([ta, tb]).numpy(), np.stack([a, b]))
    np.testing.assert_array_equal(wl.stack([ta, tb], dim=2).numpy(), np.stack([a, b], axis=2))
    np.testing.assert_array_equal(wl.concatenate([ta, tb]).numpy(), np.concatenate([a, b]))
    np.testing.assert_array_equal(wl.concatenate([ta, tb], dim=1).numpy(),
                                  np.concatenate([a, b], axis=1))
    np.testing.assert_array_equal(wl.cat([ta, tb], axis=1).numpy(),
                                  np.concatenate([a, b], axis=1))
    np.testing.assert_array_equal(wl.cat((ta, tb)).numpy(), np.concatenate([a, b]))


# ---------------------------------------------------------------------------- matmul


def test_matmul_2d_and_vector():
    a, b, v = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=(4,))
    np.testing.assert_allclose((wl.tensor(a) @ wl.tensor(b)).numpy(), a @ b)
    np.testing.assert_allclose(wl.matmul(wl.tensor(a), wl.tensor(v)).numpy(), a @ v)
    np.testing.assert_allclose((wl.tensor(v) @ wl.tensor(b)).numpy(), v @ b)
    np.testing.assert_allclose((a @ wl.tensor(b)).numpy(), a @ b)


def test_batched_matmul():
    a, b = rng.normal(size=(4, 5, 2)), rng.normal(size=(4, 2, 3))
    out = wl.tensor(a) @ wl.tensor(b)
    assert out.shape == (4, 5, 3)
    np.testing.assert_allclose(out.numpy(), a @ b)


def test_matmul_broadcasts_batch_dims():
    a, b = rng.normal(size=(2, 1, 5, 2)), rng.normal(size=(3, 2, 4))
    out = wl.matmul(wl.tensor(a), wl.tensor(b))
    assert out.shape == (2, 3, 5, 4)
    np.testing.assert_allclose(out.numpy(), np.matmul(a, b))


def test_dot_inner_outer():
    u, v = rng.normal(size=4), rng.normal(size=4)
    tu, tv = wl.tensor(u), wl.tensor(v)
    np.testing.assert_allclose(wl.dot(tu, tv).item(), np.dot(u, v))
    np.testing.assert_allclose(wl.inner(tu, tv).item(), np.inner(u, v))
    np.testing.assert_allclose(wl.outer(tu, tv).numpy(), np.outer(u, v))


@pytest.mark.parametrize(
    "spec,shapes",
    [
        ("ij,jk->ik", [(3, 4), (4, 2)]),
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
        ("ii->", [(3, 3)]),
        ("ij->ji", [(2, 3)]),
        ("i,i->", [(4,), (4,)]),
        ("i,j->ij", [(2,), (3,)]),
        ("ijk->k", [(2, 3, 4)]),
    ],
)
def test_einsum(spec, shapes):
    ops = [rng.normal(size=s) for s in shapes]
    got = wl.einsum(spec, *[wl.tensor(o) for o in ops])
    np.testing.assert_allclose(got.numpy(), np.einsum(spec, *ops), rtol=1e-12, atol=1e-12)


def test_linalg_values():
    M = rng.normal(size=(4, 4))
    S = M @ M.T + 4 * np.eye(4)
    b = rng.normal(size=(4,))
    B = rng.normal(size=(4, 2))
    tS = wl.tensor(S)
    np.testing.assert_allclose(wl.linalg.solve(tS, wl.tensor(b)).numpy(), np.linalg.solve(S, b))
    np.testing.assert_allclose(wl.linalg.solve(tS, wl.tensor(B)).numpy(), np.linalg.solve(S, B))
    np.testing.assert_allclose(wl.linalg.inv(tS).numpy(), np.linalg.inv(S))
    np.testing.assert_allclose(wl.linalg.cholesky(tS).numpy(), np.linalg.cholesky(S))


def test_a_numpy_operand_beside_a_strict_tensor_joins_its_namespace():
    xp = pytest.importorskip("array_api_strict")
    t = wl.tensor(xp.asarray([1.0, 2.0]))
    for result, expected in ((t * np.array([3.0, 0.0]), [3.0, 0.0]),
                             (wl.maximum(t, np.array([3.0, 0.0])), [3.0, 2.0])):
        assert type(result._data) is type(t._data)
        assert result.tolist() == expected


def test_negating_a_bool_mask_is_refused_as_numpy_and_torch_refuse_it():
    with pytest.raises(TypeError, match="~"):
        -wl.tensor([True, False])


def test_fill_cuts_the_forward_mode_tangent_too():
    def f(x):
        y = x * 2.0
        y.fill_(3.0)  # y no longer depends on x
        return y * x

    x = wl.tensor([1.0, 2.0])
    _, tangent = wl.jvp(f, (x,), (wl.ones(2),))
    assert tangent.tolist() == [3.0, 3.0]
    assert np.array_equal(wl.jacfwd(f)(x).numpy(), wl.jacrev(f)(x).numpy())
