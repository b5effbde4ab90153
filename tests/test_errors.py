"""Bad input gets a clear error, never a wrong number (API.md §1, §9)."""

from __future__ import annotations

import numpy as np
import pytest

import wonderland as wl


def _msg(excinfo) -> str:
    return str(excinfo.value)


def _names_shape(msg: str, shape: tuple) -> bool:
    """True when ``shape`` appears in ``msg`` as a tuple, e.g. ``(3,)`` or ``(2, 3)``."""
    return str(tuple(shape)) in msg or str(tuple(shape)).replace(" ", "") in msg


# ---------------------------------------------------------------------- broadcasting


@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a * b,
        lambda a, b: a / b,
        lambda a, b: a ** b,
        lambda a, b: wl.maximum(a, b),
    ],
    ids=["add", "sub", "mul", "div", "pow", "maximum"],
)
def test_broadcast_mismatch_names_both_shapes(op):
    a, b = wl.ones(3), wl.ones(4)
    with pytest.raises(ValueError) as excinfo:
        op(a, b)
    msg = _msg(excinfo)
    assert _names_shape(msg, (3,)) and _names_shape(msg, (4,)), msg


def test_broadcast_mismatch_with_numpy_operand():
    with pytest.raises(ValueError) as excinfo:
        wl.ones(2, 3) + np.ones((4,))
    msg = _msg(excinfo)
    assert _names_shape(msg, (2, 3)) and _names_shape(msg, (4,)), msg


def test_broadcast_mismatch_requires_grad():
    a = wl.ones(3, requires_grad=True)
    with pytest.raises(ValueError) as excinfo:
        a * wl.ones(2, 4)
    msg = _msg(excinfo)
    assert _names_shape(msg, (3,)) and _names_shape(msg, (2, 4)), msg


# ---------------------------------------------------------------------- matmul


@pytest.mark.parametrize(
    "sa,sb",
    [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (2,)), ((4, 2, 3), (5, 3, 2))],
)
def test_matmul_mismatch_names_both_shapes(sa, sb):
    a, b = wl.ones(sa), wl.ones(sb)
    for f in (lambda: a @ b, lambda: wl.matmul(a, b)):
        with pytest.raises(ValueError) as excinfo:
            f()
        msg = _msg(excinfo)
        assert _names_shape(msg, sa) and _names_shape(msg, sb), msg


# ---------------------------------------------------------------------- backward


def test_backward_on_non_scalar_without_grad_names_shape():
    x = wl.ones(2, 3, requires_grad=True)
    y = x * 2.0
    with pytest.raises(ValueError) as excinfo:
        y.backward()
    assert _names_shape(_msg(excinfo), (2, 3)), _msg(excinfo)


def test_backward_grad_of_wrong_shape_is_an_error():
    x = wl.ones(3, requires_grad=True)
    with pytest.raises(ValueError):
        (x * 2.0).backward(grad=np.ones(4))


def test_backward_on_tensor_without_graph_is_an_error():
    with pytest.raises(RuntimeError):
        wl.ones(()).backward()


# ---------------------------------------------------------------------- dtypes


@pytest.mark.parametrize(
    "make",
    [
        lambda: wl.tensor([1, 2, 3], requires_grad=True),
        lambda: wl.tensor(3, requires_grad=True),
        lambda: wl.tensor(np.arange(3), requires_grad=True),
        lambda: wl.arange(3, requires_grad=True),
        lambda: wl.zeros(3, dtype="int64", requires_grad=True),
        lambda: wl.tensor([True, False], requires_grad=True),
    ],
    ids=["list", "scalar", "numpy", "arange", "zeros-int", "bool"],
)
def test_requires_grad_on_integer_tensor_is_type_error(make):
    with pytest.raises(TypeError):
        make()


def test_setting_requires_grad_on_integer_tensor_is_type_error():
    t = wl.tensor([1, 2])
    with pytest.raises(TypeError):
        t.requires_grad = True


_INT_SPD = [[2, 1], [1, 2]]


@pytest.mark.parametrize(
    "call",
    [
        lambda: wl.linalg.cholesky(wl.tensor(_INT_SPD)),
        lambda: wl.linalg.inv(wl.tensor(_INT_SPD)),
        lambda: wl.linalg.solve(wl.tensor(_INT_SPD), wl.tensor([1, 2])),
        lambda: wl.linalg.solve(wl.tensor(_INT_SPD), wl.tensor([1.0, 2.0])),
    ],
    ids=["cholesky", "inv", "solve", "solve-int-matrix"],
)
def test_linalg_on_integers_is_type_error_mentioning_float(call):
    with pytest.raises(TypeError) as excinfo:
        call()
    assert "float" in _msg(excinfo).lower(), _msg(excinfo)


# ---------------------------------------------------------------------- shapes


@pytest.mark.parametrize("bad", [(4, 2), (7,), (5, -1)])
def test_reshape_incompatible_names_shapes(bad):
    x = wl.ones(2, 3)
    with pytest.raises(ValueError) as excinfo:
        x.reshape(bad)
    msg = _msg(excinfo)
    assert _names_shape(msg, (2, 3)), msg
    assert _names_shape(msg, bad) or str(bad[0]) in msg, msg


def test_reshape_incompatible_function_form():
    with pytest.raises(ValueError) as excinfo:
        wl.reshape(wl.ones(6), (4, 2))
    msg = _msg(excinfo)
    assert _names_shape(msg, (6,)) and _names_shape(msg, (4, 2)), msg


@pytest.mark.parametrize(
    "index", [5, -6, (0, 3), (slice(None), 7), [0, 9]], ids=["int", "neg", "2d", "slice2d", "array"]
)
def test_index_out_of_range_is_index_error_naming_shape(index):
    shape = (5, 3) if isinstance(index, tuple) else (5,)
    x = wl.ones(shape, requires_grad=True)
    with pytest.raises(IndexError) as excinfo:
        x[index]
    assert _names_shape(_msg(excinfo), shape), _msg(excinfo)


def test_item_on_multi_element_is_value_error():
    with pytest.raises(ValueError) as excinfo:
        wl.ones(2, 2).item()
    assert _names_shape(_msg(excinfo), (2, 2)), _msg(excinfo)


@pytest.mark.parametrize("shape", [(2, 3), (3, 2)])
def test_solve_non_square_names_shape(shape):
    a = wl.ones(shape)
    b = wl.ones(shape[0])
    with pytest.raises(ValueError) as excinfo:
        wl.linalg.solve(a, b)
    assert _names_shape(_msg(excinfo), shape), _msg(excinfo)


@pytest.mark.parametrize("fn", [wl.linalg.inv, wl.linalg.cholesky], ids=["inv", "cholesky"])
def test_inv_cholesky_non_square_names_shape(fn):
    with pytest.raises(ValueError) as excinfo:
        fn(wl.ones(2, 3))
    assert _names_shape(_msg(excinfo), (2, 3)), _msg(excinfo)


def test_solve_rhs_mismatch_is_value_error():
    with pytest.raises(ValueError) as excinfo:
        wl.linalg.solve(wl.eye(3), wl.ones(4))
    msg = _msg(excinfo)
    assert _names_shape(msg, (3, 3)) and _names_shape(msg, (4,)), msg


def test_stack_mismatched_shapes_is_value_error():
    with pytest.raises(ValueError):
        wl.stack([wl.ones(2), wl.ones(3)])


def test_format_spec_on_multi_element_is_type_error():
    with pytest.raises(TypeError):
        format(wl.ones(3), ".3f")


def test_len_of_0d_is_type_error():
    with pytest.raises(TypeError):
        len(wl.tensor(1.0))


def test_ragged_list_is_rejected():
    with pytest.raises((TypeError, ValueError)):
        wl.tensor([[1.0, 2.0], [3.0]])
