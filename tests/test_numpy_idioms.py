"""The idioms a NumPy user types first: ``astype``, ``copy``, ``flatten``, iteration,
``len``, ``bool``, pickling and ``copy.deepcopy``, ``np.asarray`` and ``np.allclose``.

Values and gradients are checked against PyTorch (float64) where the idiom computes.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import wonderland as wl

RNG = np.random.default_rng(7)


def close(ours, theirs, rtol=1e-12):
    np.testing.assert_allclose(np.asarray(ours.numpy()), theirs.detach().numpy(), rtol=rtol,
                               atol=1e-14)


# ---------------------------------------------------------------------- astype


@pytest.mark.parametrize("dtype", ["float32", np.float32, np.dtype("float32"), wl.float32])
def test_astype_on_a_tensor_that_requires_grad(dtype):
    a = RNG.normal(size=(2, 3))
    x, xt = wl.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = x.astype(dtype), xt.to(torch.float32)
    assert y.dtype == np.float32 and y.requires_grad
    close(y, yt, rtol=1e-6)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    assert x.grad.dtype == np.float64
    close(x.grad, xt.grad, rtol=1e-6)


def test_astype_back_and_forth_keeps_the_gradient_exact():
    a = RNG.normal(size=4)
    x, xt = wl.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (x.astype("float32").astype("float64") * x).sum().backward()
    (xt.to(torch.float32).to(torch.float64) * xt).sum().backward()
    close(x.grad, xt.grad)


def test_astype_to_integers_leaves_the_graph():
    x = wl.tensor([1.7, -2.2], requires_grad=True)
    y = x.astype("int64")
    assert y.dtype == np.int64 and not y.requires_grad
    assert y.tolist() == torch.tensor([1.7, -2.2]).to(torch.int64).tolist()


def test_astype_in_forward_mode():
    value, tangent = wl.jvp(lambda x: x.astype("float32") * 2, (wl.tensor([1.0, 2.0]),),
                            (wl.tensor([1.0, -1.0]),))
    assert value.dtype == np.float32 and tangent.dtype == np.float32
    assert tangent.tolist() == [2.0, -2.0]


def test_astype_gradient_passes_check_grad():
    wl.check_grad(lambda x: (x.astype("float64") ** 3).sum(), wl.tensor([0.5, -1.5]))


def test_astype_same_dtype_returns_the_tensor():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    assert x.astype("float64") is x


# ---------------------------------------------------------------------- copy


def test_copy_is_a_new_storage_and_differentiable_like_clone():
    a = RNG.normal(size=3)
    x, xt = wl.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = x.copy(), xt.clone()
    assert not np.shares_memory(y.numpy(), x.numpy())
    assert y.requires_grad and not y.is_leaf
    (y * y * 3.0).sum().backward()
    (yt * yt * 3.0).sum().backward()
    close(x.grad, xt.grad)
    plain = wl.tensor([1.0, 2.0])
    c = plain.copy()
    c[0] = 50.0
    assert plain.tolist() == [1.0, 2.0]


# ---------------------------------------------------------------------- flatten


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4)])
def test_flatten_matches_torch(shape):
    a = RNG.normal(size=shape)
    x, xt = wl.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = x.flatten(), xt.flatten()
    assert y.shape == tuple(yt.shape)
    np.testing.assert_array_equal(y.numpy(), a.reshape(-1))
    w = RNG.normal(size=y.shape)
    (y * wl.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    close(x.grad, xt.grad)


# ---------------------------------------------------------------------- iteration, len, bool


def test_iteration_gives_the_rows_and_gradients_flow():
    a = RNG.normal(size=(3, 2))
    x, xt = wl.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    rows, rows_t = list(x), list(xt)
    assert len(rows) == 3
    for i, (r, rt) in enumerate(zip(rows, rows_t)):
        assert r.shape == tuple(rt.shape) == (2,)
        np.testing.assert_array_equal(r.numpy(), a[i])
    total = sum((k + 1.0) * (r ** 2).sum() for k, r in enumerate(rows))
    total_t = sum((k + 1.0) * (r ** 2).sum() for k, r in enumerate(rows_t))
    total.backward()
    total_t.backward()
    close(x.grad, xt.grad)


def test_iteration_over_a_vector_gives_0d_tensors_and_unpacking_works():
    a, b, c = wl.tensor([1.0, 2.0, 3.0])
    assert (a.shape, b.item(), c.item()) == ((), 2.0, 3.0)


def test_iteration_and_len_of_a_0d_tensor_are_type_errors():
    with pytest.raises(TypeError, match="0-d"):
        iter(wl.tensor(1.0)).__next__()
    with pytest.raises(TypeError, match="0-d"):
        len(wl.tensor(1.0))


def test_len_is_the_first_axis():
    assert len(wl.zeros(4, 2)) == len(np.zeros((4, 2))) == 4
    assert len(wl.zeros(0, 3)) == 0


@pytest.mark.parametrize("value,expected", [(0.0, False), (2.5, True), ([[0]], False),
                                            ([True], True)])
def test_bool_of_one_element(value, expected):
    assert bool(wl.tensor(value)) is expected
    assert bool(torch.tensor(value)) is expected


def test_bool_of_several_elements_names_the_shape():
    with pytest.raises(ValueError, match=r"shape \(2,\) is ambiguous"):
        bool(wl.tensor([1.0, 2.0]))


def test_if_on_a_comparison_works():
    x = wl.tensor(3.0, requires_grad=True)
    assert (x > 2) and not (x < 2)


# ---------------------------------------------------------------------- pickling


def _roundtrip(t):
    return pickle.loads(pickle.dumps(t))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_pickle_round_trips_values_and_dtype(dtype):
    a = (RNG.normal(size=(2, 3)) * 3).astype(dtype)
    t = _roundtrip(wl.tensor(a))
    assert isinstance(t, wl.Tensor)
    assert t.dtype == np.dtype(dtype) and t.shape == (2, 3)
    np.testing.assert_array_equal(t.numpy(), a)
    assert not t.requires_grad and t.grad is None


def test_pickle_keeps_requires_grad_and_grad_and_the_copy_works():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    (x ** 2).sum().backward()
    y = _roundtrip(x)
    assert y.requires_grad and y.is_leaf
    assert y.grad.tolist() == [2.0, 4.0]
    assert not np.shares_memory(y.numpy(), x.numpy())
    (y * 3).sum().backward()  # a working leaf: accumulates into the restored grad
    assert y.grad.tolist() == [5.0, 7.0]
    assert x.grad.tolist() == [2.0, 4.0]


def test_pickle_of_a_non_leaf_gives_a_leaf_of_its_values_as_torch():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    y = _roundtrip(x * 3)
    xt = torch.tensor([1.0, 2.0], requires_grad=True)
    yt = _roundtrip(xt * 3)
    assert y.is_leaf and yt.is_leaf
    assert y.requires_grad is yt.requires_grad is True
    assert y.tolist() == yt.tolist() == [3.0, 6.0]
    (y * y).sum().backward()
    assert y.grad.tolist() == [6.0, 12.0]
    assert x.grad is None  # no graph travelled


def test_pickle_of_a_view_and_of_a_0d_tensor():
    base = wl.arange(12.0).reshape(3, 4)
    v = _roundtrip(base[:, 1])
    assert v.tolist() == [1.0, 5.0, 9.0]
    s = _roundtrip(wl.tensor(2.5, dtype=wl.float32))
    assert s.shape == () and s.dtype == np.float32 and s.item() == 2.5


def test_pickle_inside_containers_and_state_dicts():
    x = wl.tensor([1.0], requires_grad=True)
    payload = _roundtrip({"w": x, "both": [x, x]})
    assert payload["w"].tolist() == [1.0]
    assert payload["both"][0] is payload["both"][1] is payload["w"]  # identity kept


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(st.sampled_from([np.float32, np.float64, np.int32, np.int64, np.bool_]),
                  hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)),
       st.booleans())
def test_pickle_round_trip_property(a, requires_grad):
    requires_grad = requires_grad and a.dtype.kind == "f"
    t = _roundtrip(wl.tensor(a, requires_grad=requires_grad))
    assert t.dtype == a.dtype and t.shape == a.shape and t.requires_grad is requires_grad
    np.testing.assert_array_equal(t.numpy(), a)


# ---------------------------------------------------------------------- deepcopy


def test_deepcopy_of_a_leaf_copies_values_flag_and_grad():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    y = copy.deepcopy(x)
    assert y is not x and y.is_leaf and y.requires_grad
    assert y.tolist() == x.tolist() and y.grad.tolist() == [2.0, 4.0]
    assert not np.shares_memory(y.numpy(), x.numpy())
    assert not np.shares_memory(y.grad.numpy(), x.grad.numpy())
    with wl.no_grad():
        y -= 1.0
    y.grad.zero_()
    assert x.tolist() == [1.0, 2.0] and x.grad.tolist() == [2.0, 4.0]
    xt = torch.tensor([1.0, 2.0], requires_grad=True)
    (xt * xt).sum().backward()
    yt = copy.deepcopy(xt)  # PyTorch copies the grad too
    assert yt.requires_grad and yt.is_leaf and yt.grad.tolist() == x.grad.tolist()


def test_deepcopy_keeps_identity_within_one_copy():
    x = wl.tensor([1.0, 2.0])
    a, b = copy.deepcopy([x, x])
    assert a is b and a is not x


def test_deepcopy_of_plain_and_integer_tensors():
    for t in (wl.tensor([1, 2, 3]), wl.tensor(5.0), wl.zeros(0, 2)):
        c = copy.deepcopy(t)
        assert c.dtype == t.dtype and c.shape == t.shape and c.tolist() == t.tolist()
        assert not c.requires_grad


def test_deepcopy_of_a_non_leaf_is_refused_as_torch():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"graph leaves.*deepcopy protocol.*\(2,\).*detach"):
        copy.deepcopy(x * 2)
    xt = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(xt * 2)
    assert copy.deepcopy((x * 2).detach()).tolist() == [2.0, 4.0]


# ---------------------------------------------------------------------- np.asarray, np.allclose


def test_np_asarray_gives_the_values_even_when_requiring_grad():
    a = RNG.normal(size=(2, 2))
    x = wl.tensor(a, requires_grad=True)
    out = np.asarray(x)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    np.testing.assert_array_equal(out, a)
    assert np.asarray(x * 2, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(np.asarray(x * 2), 2 * a)


def test_np_allclose_and_isclose_accept_tensors():
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    assert np.allclose(x, [1.0, 2.0 + 1e-9])
    assert not np.allclose(x, [1.0, 2.1])
    assert np.allclose(x * 2, wl.tensor([2.0, 4.0]))
    assert np.isclose(x, [1.0, 3.0]).tolist() == [True, False]
