"""Paths of the core that the rest of the suite never reached (found by running it under
coverage.py): each bad input is an error naming the shape, dtype or argument at fault;
each edge case does what PyTorch does."""

import re

import numpy as np
import pytest
import torch

import wonderland as wl

# ----------------------------------------------------------------------- clear errors

ERRORS = [
    (lambda: wl.where(wl.ones(2) > 0, wl.ones(3), wl.ones(4)), ValueError,
     "where: condition, x and y of shapes (2,), (3,) and (4,) cannot be broadcast together"),
    (lambda: wl.ones(2) < wl.ones(3), ValueError, "less: shapes (2,) and (3,)"),
    (lambda: wl.ones(2).sum(dim=0, axis=0), TypeError, "sum: give dim or axis, not both"),
    (lambda: wl.var(wl.ones(3), True, unbiased=False), TypeError,
     "var: unbiased given twice (True and False)"),
    (lambda: wl.matmul(wl.tensor(2.0), wl.ones(2)), ValueError,
     "matmul: operands must have at least one dimension, got shapes () and (2,)"),
    (lambda: wl.inner(wl.ones(2), wl.ones(3)), ValueError,
     "inner: last dimensions differ: shapes (2,) and (3,)"),
    (lambda: wl.einsum("i,i->", wl.ones(2)), ValueError,
     "einsum: 2 operands in 'i,i->' but 1 given"),
    (lambda: wl.einsum("ij->", wl.ones(2)), ValueError,
     "einsum: operand with subscripts 'ij' has shape (2,)"),
    (lambda: wl.einsum("i,i->", wl.ones(2), wl.ones(3)), ValueError,
     "einsum: subscript 'i' has sizes 2 and 3"),
    (lambda: wl.linalg.solve(wl.ones((2, 2)), wl.ones(2)), ValueError,
     "solve: cannot solve with a of shape (2, 2) and b of shape (2,)"),
    (lambda: wl.linalg.cholesky(-wl.eye(2)), ValueError,
     "cholesky: the matrix of shape (2, 2) is not positive definite"),
    (lambda: wl.ones(4).reshape(-1, -1), ValueError,
     "reshape: only one dimension can be -1, got (-1, -1)"),
    (lambda: wl.ones((2, 3)).permute(0), ValueError,
     "permute: axes (0,) must name each dimension of shape (2, 3) once"),
    (lambda: wl.ones((2, 3)).permute(1, 1), ValueError,
     "permute: axes (1, 1) must name each dimension of shape (2, 3) once"),
    (lambda: wl.ones((2, 3)).permute(0, 1, 2), IndexError,
     "permute: dimension 2 is out of range [-2, 1]"),
    (lambda: wl.broadcast_to(wl.ones(3), (2, 4)), ValueError,
     "broadcast_to: shape (3,) cannot be broadcast to (2, 4)"),
    (lambda: wl.ones(3)[wl.tensor([0.0])], IndexError,
     "tensors used as indices must be integer or bool, got float64"),
    (lambda: wl.concatenate([]), ValueError, "concatenate: need at least one tensor"),
    (lambda: wl.stack([]), ValueError, "stack: need at least one tensor"),
    (lambda: wl.concatenate([wl.tensor(1.0), wl.tensor(2.0)]), ValueError,
     "concatenate: zero-dimensional tensors cannot be concatenated"),
    (lambda: wl.concatenate([wl.ones((2, 3)), wl.ones((2, 4))]), ValueError,
     "concatenate: tensor 1 has shape (2, 4), which does not match (2, 3) outside dimension 0"),
    (lambda: wl.no_grad(5), TypeError, "no_grad() takes no arguments, got 5"),
    (lambda: wl.jvp(lambda a: a, wl.ones(2), (wl.ones(2),)), TypeError,
     "jvp of <lambda>: primals and tangents must be tuples"),
    (lambda: wl.jvp(lambda a: a, (wl.ones(2),), (wl.ones(2), wl.ones(2))), ValueError,
     "jvp of <lambda>: 1 primals but 2 tangents"),
    (lambda: wl.grad(lambda a: a.sum(), argnums=()), ValueError,
     "grad of <lambda>: argnums is empty"),
    (lambda: wl.grad(lambda a: None)(wl.ones(2)), TypeError,
     "grad of <lambda>: the function returned NoneType None; it must return a Tensor"),
]


@pytest.mark.parametrize("call, error, message", ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_bad_input_is_an_error_that_names_it(call, error, message):
    with pytest.raises(error, match="^" + re.escape(message)):
        call()


def test_in_place_writes_that_cannot_fit_name_the_shapes_and_dtypes():
    t = wl.ones(2)
    with pytest.raises(RuntimeError, match=r"^in-place add_: the result has shape \(2, 2\) "
                                           r"but the tensor has shape \(2,\)"):
        t += wl.ones((2, 2))
    counts = wl.tensor([1, 2])
    with pytest.raises(TypeError, match=r"^in-place add_: a float64 result cannot be stored "
                                        r"in a tensor of int64"):
        counts += 0.5
    with pytest.raises(TypeError, match=r"^in-place mul_: a float64 result cannot be stored "
                                        r"in a tensor of int64"):
        counts *= wl.ones(2)
    assert counts.tolist() == [1, 2]  # the refused writes left it as it was
    assert t.tolist() == [1.0, 1.0]


def test_requires_grad_cannot_be_turned_off_on_a_result():
    y = wl.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="only be turned off on a leaf tensor; use detach"):
        y.requires_grad = False


# ----------------------------------------------------------------------- as PyTorch


@pytest.mark.parametrize("lib", [wl, torch])
def test_a_leaf_that_stops_requiring_grad_before_backward_gets_no_gradient(lib):
    x = lib.ones(2, requires_grad=True)
    y = (x * 2).sum()
    x.requires_grad_(False)
    y.backward()
    assert x.grad is None


@pytest.mark.parametrize("lib", [wl, torch])
def test_an_integer_cotangent_for_a_float_leaf_gives_a_float_gradient(lib):
    x = lib.ones(2, requires_grad=True)
    x.backward(lib.tensor([1, 2]))
    assert x.grad.dtype == x.dtype
    assert x.grad.tolist() == [1.0, 2.0]


def test_mixed_dtypes_concatenate_and_stack_by_numpy_promotion_with_gradients():
    a = wl.ones(2, dtype="float32", requires_grad=True)
    counts = wl.tensor([1, 2])
    for joined in (wl.concatenate([a, counts]), wl.stack([a, counts])):
        assert joined.dtype == np.result_type(np.float32, np.int64)
        assert joined.reshape(-1).tolist() == [1.0, 1.0, 1.0, 2.0]
        a.grad = None
        (joined * 3).sum().backward()
        assert a.grad.dtype == np.float32 and a.grad.tolist() == [3.0, 3.0]


def test_data_and_in_place_updates_take_lists():
    t = wl.ones(2)
    t.data = [5.0, 6.0]
    assert t.tolist() == [5.0, 6.0]
    t += [1.0, 2.0]
    assert t.tolist() == [6.0, 8.0]


def test_the_device_and_the_grad_fn_say_what_they_are():
    assert wl.ones(2).device == "cpu"
    y = wl.ones(2, requires_grad=True) * 2
    assert repr(y.grad_fn) == "<mul backward>"


# ----------------------------------------------------------------------- outside the core


def test_minimize_refuses_a_start_where_f_is_not_finite_naming_the_row():
    with pytest.raises(ValueError, match=r"not finite at x0 \(f=nan"):
        wl.optim.minimize(lambda x: wl.log(x).sum(), wl.tensor([-1.0]), lr=0.1)
    with pytest.raises(ValueError, match="not finite at x0 row 1$"):
        wl.optim.minimize(lambda X: wl.log(X).sum(dim=-1), wl.tensor([[1.0], [-1.0]]),
                          lr=0.1, batched=True)


def test_a_batched_result_counts_its_stopping_reasons():
    result = wl.optim.minimize(lambda X: ((X - 1.0) ** 2).sum(dim=-1), wl.zeros(3, 2),
                               lr=0.1, max_iter=5, batched=True)
    assert repr(result) == "MinimizeResult(batched n=3, method='gd', reasons {max_iter: 3})"


def test_numpy_and_dlpack_take_a_tensor_as_its_array():
    t = wl.tensor([1.0, 2.0])
    copied = np.array(t, copy=True)
    copied[0] = 5.0
    assert t.tolist() == [1.0, 2.0]
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    assert np.from_dlpack(t).tolist() == [1.0, 2.0]
    assert torch.from_dlpack(t).tolist() == [1.0, 2.0]
