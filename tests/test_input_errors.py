"""Bad input is a clear error, never a silent wrong answer: argnums, non-callables, results
cut from their input, error labels, finite-difference settings, shapes, data and dtypes."""

import math
import re

import numpy as np
import pytest

import wonderland as wl

# ----------------------------------------------------------------------- argnums

ARGNUM_TRANSFORMS = {
    "grad": wl.grad, "value_and_grad": wl.value_and_grad, "jacrev": wl.jacrev,
    "jacfwd": wl.jacfwd, "jacobian": wl.jacobian, "hessian": wl.hessian,
}


def two(x, y):
    return (x * y).sum()


@pytest.mark.parametrize("name", list(ARGNUM_TRANSFORMS))
@pytest.mark.parametrize("argnums", [(0, 0), [1, 1], (1, 0, 1)])
def test_repeated_argnums_is_a_value_error_when_the_transform_is_made(name, argnums):
    position = argnums[0] if argnums[0] == argnums[1] else argnums[-1]
    with pytest.raises(ValueError, match=rf"{name} of two: .*repeats position {position}"):
        ARGNUM_TRANSFORMS[name](two, argnums=argnums)


@pytest.mark.parametrize("name", list(ARGNUM_TRANSFORMS))
def test_argnums_repeating_a_position_from_the_end_is_a_value_error_at_the_call(name):
    transformed = ARGNUM_TRANSFORMS[name](two, argnums=(0, -2))  # both are x
    with pytest.raises(ValueError, match="repeats position 0"):
        transformed(1.0, 2.0)


@pytest.mark.parametrize("name", list(ARGNUM_TRANSFORMS))
@pytest.mark.parametrize("argnums", ["0", 1.0, True, [0, "1"], (0, False), None, {0}],
                         ids=["str", "float", "bool", "list-str", "tuple-bool", "None", "set"])
def test_argnums_of_the_wrong_type_is_a_type_error_when_the_transform_is_made(name, argnums):
    with pytest.raises(TypeError, match=r"argnums must be an int or a tuple/list of ints"):
        ARGNUM_TRANSFORMS[name](two, argnums=argnums)


@pytest.mark.parametrize("name", list(ARGNUM_TRANSFORMS))
def test_numpy_integer_argnums_are_accepted(name):
    x, y = wl.tensor([1.0, 2.0]), wl.tensor([3.0, 5.0])
    plain = ARGNUM_TRANSFORMS[name](two, argnums=1)(x, y)
    numpy = ARGNUM_TRANSFORMS[name](two, argnums=np.int64(1))(x, y)
    for a, b in zip(plain if name == "value_and_grad" else (plain,),
                    numpy if name == "value_and_grad" else (numpy,)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    (g,) = ARGNUM_TRANSFORMS["grad"](two, argnums=[np.int32(1)])(x, y)
    np.testing.assert_array_equal(np.asarray(g), [1.0, 2.0])


def test_argnums_out_of_range_is_still_checked_at_the_call():
    transformed = wl.grad(two, argnums=5)  # making it is fine: the arity is not known yet
    with pytest.raises(ValueError, match="out of range .* 2 positional"):
        transformed(1.0, 2.0)


# ----------------------------------------------------------------------- not callable

X = wl.tensor([1.0, 2.0])

MAKERS = {
    "grad": lambda f: wl.grad(f),
    "value_and_grad": lambda f: wl.value_and_grad(f),
    "jacrev": lambda f: wl.jacrev(f),
    "jacfwd": lambda f: wl.jacfwd(f),
    "jacobian": lambda f: wl.jacobian(f),
    "hessian": lambda f: wl.hessian(f),
    "vjp": lambda f: wl.vjp(f, X),
    "jvp": lambda f: wl.jvp(f, (X,), (X,)),
    "linearize": lambda f: wl.linearize(f, X),
    "check_grad": lambda f: wl.check_grad(f, X),
    "numerical_grad": lambda f: wl.numerical_grad(f, X),
}


@pytest.mark.parametrize("name", list(MAKERS))
@pytest.mark.parametrize(("f", "type_name"), [(3.0, "float"), ("f", "str"), (None, "NoneType"),
                                              (5, "int"), ([1], "list")],
                         ids=["float", "str", "None", "int", "list"])
def test_transform_of_something_not_callable_is_a_type_error_naming_both(name, f, type_name):
    with pytest.raises(TypeError, match=rf"^{name}: expected a function .* got {type_name}"):
        MAKERS[name](f)


def test_transform_of_a_tensor_hints_at_passing_the_function_itself():
    with pytest.raises(TypeError, match=r"grad: .* got Tensor .*pass the function itself"):
        wl.grad(X ** 2)


# ----------------------------------------------------------------------- cut results

CUT = {
    "float()": lambda v: float(v) ** 2,
    ".item()": lambda v: v.item() ** 2,
    "numpy": lambda v: np.float64(np.asarray(v)) ** 2,
}

CUT_TRANSFORMS = {
    "grad": lambda f: wl.grad(f)(3.0),
    "value_and_grad": lambda f: wl.value_and_grad(f)(3.0),
    "vjp": lambda f: wl.vjp(f, 3.0),
    "jacrev": lambda f: wl.jacrev(f)(3.0),
    "jacfwd": lambda f: wl.jacfwd(f)(3.0),
    "jacobian": lambda f: wl.jacobian(f)(3.0),
    "jvp": lambda f: wl.jvp(f, (3.0,), (1.0,)),
    "hessian": lambda f: wl.hessian(f)(3.0),
    "check_grad": lambda f: wl.check_grad(f, 3.0),
}


@pytest.mark.parametrize("name", list(CUT_TRANSFORMS))
@pytest.mark.parametrize("cut", list(CUT))
def test_a_result_cut_from_its_input_is_a_type_error_not_a_zero_gradient(name, cut):
    with pytest.raises(TypeError) as info:
        CUT_TRANSFORMS[name](CUT[cut])
    message = str(info.value)
    assert re.search(r"returned a plain number \((float|float64)", message), message
    for words in ("cut from its input", "float()", ".item()", "return a Tensor", "logging"):
        assert words in message, message


def test_a_numpy_array_result_is_a_type_error_too():
    with pytest.raises(TypeError, match=r"returned an array \(ndarray\).*cut from its input"):
        wl.jacrev(lambda v: np.asarray(v) * 2.0)(wl.tensor([1.0, 2.0]))


def test_a_cut_result_inside_a_tuple_of_outputs_is_caught():
    with pytest.raises(TypeError, match="plain number"):
        wl.jacrev(lambda v: (v * 2.0, float(v.sum())))(wl.tensor([1.0, 2.0]))


@pytest.mark.parametrize("name", ["grad", "jacrev", "jacfwd", "hessian"])
def test_a_tensor_result_that_does_not_depend_on_the_input_has_a_zero_derivative(name):
    result = {"grad": wl.grad, "jacrev": wl.jacrev, "jacfwd": wl.jacfwd,
              "hessian": wl.hessian}[name](lambda x: wl.tensor(3.0))(2.0)
    assert isinstance(result, wl.Tensor) and result.item() == 0.0


def test_float_and_item_for_logging_stay_fine():
    seen = []

    def f(x):
        y = (x ** 2).sum()
        seen.append(float(y))
        seen.append(y.item())
        return y

    np.testing.assert_array_equal(np.asarray(wl.grad(f)(wl.tensor([1.0, 2.0]))), [2.0, 4.0])
    assert seen == [5.0, 5.0]


# ----------------------------------------------------------------------- labels


def vector_valued(x):
    return x * 2.0


def scalar(x):
    return (x ** 3).sum()


def test_hessian_errors_name_hessian():
    with pytest.raises(ValueError, match=r"^hessian of vector_valued: .*scalar"):
        wl.hessian(vector_valued)(wl.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"^hessian of scalar: .*bool"):
        wl.hessian(scalar)(wl.tensor([True, False]))
    with pytest.raises(ValueError, match=r"^hessian of scalar: argnums 2 is out of range"):
        wl.hessian(scalar, argnums=2)(1.0)
    with pytest.raises(TypeError, match=r"^hessian of scalar: argnums must be"):
        wl.hessian(scalar, argnums="0")
    with pytest.raises(TypeError, match=r"^hessian of <lambda>: .*plain number"):
        wl.hessian(lambda v: float(v) ** 2)(1.0)


def test_value_and_grad_errors_name_value_and_grad():
    with pytest.raises(ValueError, match=r"^value_and_grad of vector_valued: .*scalar"):
        wl.value_and_grad(vector_valued)(wl.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"^grad of vector_valued: .*scalar"):
        wl.grad(vector_valued)(wl.tensor([1.0, 2.0]))


@pytest.mark.parametrize("mode", ["auto", "rev", "fwd"])
def test_jacobian_errors_name_jacobian_in_every_mode(mode):
    with pytest.raises(TypeError, match=r"^jacobian of vector_valued: .*bool"):
        wl.jacobian(vector_valued, mode=mode)(wl.tensor([True, False]))
    with pytest.raises(ValueError, match=r"^jacobian of two: argnums 3 is out of range"):
        wl.jacobian(two, argnums=3, mode=mode)(1.0, 2.0)
    with pytest.raises(TypeError, match=r"^jacobian of two: argnums must be"):
        wl.jacobian(two, argnums=1.0, mode=mode)


def test_jacobian_in_auto_mode_names_jacobian_in_its_forward_pass_too():
    calls = []

    def tall(x):  # one input, two outputs: auto mode redoes the work in forward mode
        calls.append(x)
        out = wl.stack([x, x])
        return out if len(calls) == 1 else float(out.sum())  # cut on the forward pass

    with pytest.raises(TypeError, match=r"^jacobian of tall: .*plain number"):
        wl.jacobian(tall)(1.0)
    assert len(calls) == 2


def test_linearize_errors_name_linearize():
    with pytest.raises(TypeError, match=r"^linearize of <lambda>: .*plain number"):
        wl.linearize(lambda v: v.item() ** 2, 1.0)


# ----------------------------------------------------------------------- finite differences


@pytest.mark.parametrize("eps", [0, 0.0, -1e-6, math.nan, math.inf, -math.inf])
def test_numerical_grad_with_a_bad_eps_is_a_value_error(eps):
    with pytest.raises(ValueError, match=r"numerical_grad: eps must be a finite positive"):
        wl.numerical_grad(lambda x: x ** 2, 3.0, eps=eps)


def test_numerical_grad_with_a_non_number_eps_is_a_type_error():
    with pytest.raises(TypeError, match=r"numerical_grad: eps must be a real number"):
        wl.numerical_grad(lambda x: x ** 2, 3.0, eps="1e-6")


@pytest.mark.parametrize("name", ["rtol", "atol"])
@pytest.mark.parametrize("value", [-1e-5, math.nan, math.inf])
def test_check_grad_with_a_bad_tolerance_is_a_value_error(name, value):
    with pytest.raises(ValueError, match=rf"check_grad: {name} must be a finite non-negative"):
        wl.check_grad(lambda x: x ** 2, 3.0, **{name: value})


@pytest.mark.parametrize("eps", [0, -1e-4, math.nan])
def test_check_grad_with_a_bad_eps_is_a_value_error(eps):
    with pytest.raises(ValueError, match=r"check_grad: eps must be a finite positive"):
        wl.check_grad(lambda x: x ** 2, 3.0, eps=eps)


def test_check_grad_accepts_zero_tolerances_on_an_exact_case():
    wl.check_grad(lambda x: 2.0 * x, 3.0, rtol=0.0, atol=1e-9)


def test_check_grad_without_arguments_is_an_error_not_a_silent_pass():
    with pytest.raises(ValueError, match="check_grad: no arguments"):
        wl.check_grad(lambda x: x ** 2)


# ----------------------------------------------------------------------- shapes

SHAPED = {
    "zeros": wl.zeros, "ones": wl.ones, "randn": wl.randn, "rand": wl.rand,
    "full": lambda *shape: wl.full(shape[0] if len(shape) == 1 else shape, 1.0),
}


@pytest.mark.parametrize("name", list(SHAPED))
@pytest.mark.parametrize(("shape", "value", "type_name"), [
    ((2.5,), "2.5", "float"),
    ((2.7,), "2.7", "float"),
    ((1.5, 2), "1.5", "float"),
    (((2.5,),), "2.5", "float"),
    (([2, 3.0],), "3.0", "float"),
    ((True,), "True", "bool"),
    ((2, np.True_), "True", "bool"),
    (("3",), "'3'", "str"),
    ((np.float64(2.0),), "2.0", "float64"),
    ((None,), "None", "NoneType"),
], ids=["2.5", "2.7", "1.5,2", "tuple-2.5", "list-3.0", "True", "np-True", "str", "np-float",
        "None"])
def test_a_shape_of_non_integers_is_a_type_error_naming_the_value(name, shape, value, type_name):
    with pytest.raises(TypeError, match=rf"^{name}: a shape must be integers, got "
                                        rf".*{re.escape(value)}.* \({type_name}\)$"):
        SHAPED[name](*shape)


@pytest.mark.parametrize("name", list(SHAPED))
@pytest.mark.parametrize(("shape", "expected"), [
    ((2, 3), (2, 3)), (((2, 3),), (2, 3)), (([2, 3],), (2, 3)), (((),), ()),
    ((np.int64(3),), (3,)), ((np.int32(2), 2), (2, 2)), ((0,), (0,)),
], ids=["ints", "tuple", "list", "empty", "np-int64", "np-int32", "zero"])
def test_integer_shapes_are_accepted(name, shape, expected):
    assert SHAPED[name](*shape).shape == expected


@pytest.mark.parametrize(("name", "call"), [
    ("reshape", lambda x: x.reshape(3.0, 2)),
    ("reshape", lambda x: wl.reshape(x, (2.5, 3))),
    ("reshape", lambda x: x.view(6.0)),
    ("broadcast_to", lambda x: wl.broadcast_to(x, (2.0, 2, 3))),
])
def test_reshape_and_broadcast_to_refuse_non_integer_sizes_instead_of_truncating(name, call):
    with pytest.raises(TypeError, match=rf"^{name}: a shape must be integers, got \d\.\d "
                                        r"\(float\)$"):
        call(wl.ones(2, 3))


def test_a_negative_shape_is_still_a_value_error():
    with pytest.raises(ValueError, match="zeros: a shape cannot have negative sizes"):
        wl.zeros(2, -1)


@pytest.mark.parametrize(("args", "which", "value"), [
    ((2.5,), "n", "2.5 (float)"), ((True,), "n", "True (bool)"), (("2",), "n", "'2' (str)"),
    ((2, 3.5), "m", "3.5 (float)"), ((2, False), "m", "False (bool)"),
])
def test_eye_with_a_non_integer_size_is_a_type_error(args, which, value):
    with pytest.raises(TypeError, match=rf"^eye: {which} must be an integer, got "
                                        rf"{re.escape(value)}"):
        wl.eye(*args)


def test_eye_accepts_numpy_integers_and_a_second_size():
    assert wl.eye(np.int64(2)).shape == (2, 2)
    assert wl.eye(2, np.int64(3)).shape == (2, 3)


def test_linspace_with_a_non_integer_count_is_a_type_error():
    with pytest.raises(TypeError, match=r"linspace: num must be an integer, got 2.5 \(float\)"):
        wl.linspace(0.0, 1.0, 2.5)
    assert wl.linspace(0.0, 1.0, np.int64(3)).tolist() == [0.0, 0.5, 1.0]


@pytest.mark.parametrize(("args", "name", "value"), [
    ((True,), "start", "True (bool)"), ((0, "3"), "stop", "'3' (str)"),
    ((0, 3, True), "step", "True (bool)"),
])
def test_arange_with_a_bool_or_string_bound_is_a_type_error(args, name, value):
    with pytest.raises(TypeError, match=rf"^arange: {name} must be a number, got "
                                        rf"{re.escape(value)}"):
        wl.arange(*args)


def test_arange_keeps_numpy_semantics_for_float_bounds():
    assert wl.arange(2.5).tolist() == [0.0, 1.0, 2.0]
    assert wl.arange(np.int64(3)).tolist() == [0, 1, 2]


# ----------------------------------------------------------------------- data and dtypes


@pytest.mark.parametrize(("data", "type_name"), [
    ("abc", "str"), (["a", "b"], "list of str"), (b"xy", "bytes"), ({1: 2}, "dict"),
    (None, "NoneType"), ({1.0, 2.0}, "set"), (np.array(["a"]), "ndarray"),
], ids=["str", "list-str", "bytes", "dict", "None", "set", "str-array"])
def test_tensor_of_non_numeric_data_is_a_type_error_naming_the_type(data, type_name):
    with pytest.raises(TypeError, match=rf"^tensor: cannot make a tensor from {type_name}\b"):
        wl.tensor(data)


@pytest.mark.parametrize("make", [
    lambda dtype: wl.tensor([1.0], dtype=dtype),
    lambda dtype: wl.tensor(wl.tensor([1.0]), dtype=dtype),
    lambda dtype: wl.zeros(2, dtype=dtype),
    lambda dtype: wl.ones(2, dtype=dtype),
    lambda dtype: wl.full((2,), 1.0, dtype=dtype),
    lambda dtype: wl.zeros_like(wl.ones(2), dtype=dtype),
    lambda dtype: wl.eye(2, dtype=dtype),
    lambda dtype: wl.arange(3, dtype=dtype),
    lambda dtype: wl.linspace(0, 1, 3, dtype=dtype),
    lambda dtype: wl.randn(2, dtype=dtype),
    lambda dtype: wl.rand(2, dtype=dtype),
], ids=["tensor", "tensor-of-tensor", "zeros", "ones", "full", "zeros_like", "eye", "arange",
        "linspace", "randn", "rand"])
@pytest.mark.parametrize("dtype", ["flot32", "foo", "str", object])
def test_a_bad_dtype_is_a_type_error_naming_the_dtype(make, dtype):
    with pytest.raises(TypeError, match=rf"dtype {re.escape(repr(dtype))}; use e\.g\. float32, "
                                        r"float64, int64 or bool"):
        make(dtype)


def test_a_bad_dtype_names_the_dtype_not_the_data():
    with pytest.raises(TypeError) as info:
        wl.tensor([1.0], dtype="flot32")
    assert "'flot32'" in str(info.value) and "list" not in str(info.value)


@pytest.mark.parametrize("make", [
    lambda rg: wl.tensor([1.0], requires_grad=rg),
    lambda rg: wl.zeros(2, requires_grad=rg),
    lambda rg: wl.ones(2, requires_grad=rg),
    lambda rg: wl.full((2,), 1.0, requires_grad=rg),
    lambda rg: wl.ones_like(wl.ones(2), requires_grad=rg),
    lambda rg: wl.eye(2, requires_grad=rg),
    lambda rg: wl.arange(3.0, requires_grad=rg),
    lambda rg: wl.linspace(0, 1, 3, requires_grad=rg),
    lambda rg: wl.randn(2, requires_grad=rg),
    lambda rg: wl.rand(2, requires_grad=rg),
], ids=["tensor", "zeros", "ones", "full", "ones_like", "eye", "arange", "linspace", "randn",
        "rand"])
@pytest.mark.parametrize("value", ["yes", 1, None, "False"])
def test_requires_grad_must_be_a_bool(make, value):
    with pytest.raises(TypeError, match=rf"requires_grad must be a bool .*got "
                                        rf"{re.escape(repr(value))}"):
        make(value)


@pytest.mark.parametrize("value", [True, np.True_])
def test_requires_grad_accepts_python_and_numpy_bools(value):
    assert wl.zeros(2, requires_grad=value).requires_grad
    assert not wl.tensor([1.0], requires_grad=np.False_).requires_grad


@pytest.mark.parametrize(("data", "dtype"), [
    (3, "int64"), (2.5, "float64"), (True, "bool"), ([1, 2], "int64"),
    (np.float32(1.0), "float32"), (np.array([1.0, 2.0], dtype=np.float32), "float32"),
    ([[1.0], [2.0]], "float64"), (1 + 2j, "complex128"),
])
def test_numeric_data_is_still_accepted(data, dtype):
    assert wl.tensor(data).dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, "float32", wl.float32, float, "int64", bool])
def test_good_dtypes_are_still_accepted(dtype):
    assert wl.tensor([1, 0], dtype=dtype).dtype == np.dtype(dtype)
    assert wl.zeros(2, dtype=dtype).dtype == np.dtype(dtype)


# ----------------------------------------------------------------------- tensors


@pytest.mark.parametrize("value", ["yes", 1, 0.0, None])
def test_setting_requires_grad_to_a_non_bool_is_a_type_error(value):
    t = wl.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="requires_grad must be True or False"):
        t.requires_grad = value
    assert not t.requires_grad


def test_requires_grad_on_a_complex_tensor_is_refused():
    with pytest.raises(TypeError, match="complex tensors cannot require gradients"):
        wl.tensor(np.array([1 + 2j]), requires_grad=True)


@pytest.mark.parametrize(("grad", "error", "words"), [
    (lambda: wl.ones(3), ValueError, r"grad of shape \(3,\).*tensor of shape \(2,\)"),
    (lambda: wl.ones(2, dtype="float32"), ValueError, "dtype float32.*dtype float64"),
    (lambda: np.ones(2), TypeError, "grad must be a Tensor or None, got ndarray"),
])
def test_assigning_a_grad_that_does_not_match_is_refused(grad, error, words):
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(error, match=words):
        x.grad = grad()
    assert x.grad is None
    x.grad = wl.ones(2)  # a matching one is kept
    assert x.grad.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("call", [
    lambda x: wl.sum(x, dim=1.0), lambda x: x.mean(axis=0.0), lambda x: wl.max(x, dim=True),
    lambda x: wl.softmax(x, dim=1.5), lambda x: wl.squeeze(x, 0.0),
    lambda x: wl.transpose(x, 0.0, 1)])
def test_a_non_integer_dimension_is_a_type_error(call):
    with pytest.raises(TypeError, match="a dimension must be an integer"):
        call(wl.ones(2, 3))


def test_integers_to_a_negative_power_name_the_cause_not_broadcasting():
    with pytest.raises(ValueError, match="pow: Integers to negative integer powers") as info:
        wl.tensor(2) ** -1
    assert "broadcast" not in str(info.value)
    with pytest.raises(ValueError, match=r"add: shapes \(3,\) and \(4,\) cannot be broadcast"):
        wl.ones(3) + wl.ones(4)  # a real broadcast error still says so


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_errors_name_the_function_called(name):
    with pytest.raises(IndexError, match=rf"^{name}: dimension 3 is out of range"):
        getattr(wl, name)(wl.ones(2, 3), dim=3)


def test_astype_with_a_bad_dtype_names_the_dtype():
    with pytest.raises(TypeError, match="unknown dtype 'flot32'"):
        wl.ones(2).astype("flot32")


# ----------------------------------------------------------------------- operands

NOT_NUMBERS = {
    "str": ("a", "str 'a'"),
    "None": (None, "NoneType None"),
    "string array": (np.array(["a", "b", "c"]), "ndarray"),
}


@pytest.mark.parametrize("name", list(NOT_NUMBERS))
@pytest.mark.parametrize(("op", "label"), [(lambda x, v: x + v, "add"),
                                           (lambda x, v: v - x, "sub"),
                                           (lambda x, v: x * v, "mul"),
                                           (lambda x, v: wl.isclose(x, v), "isclose")])
def test_arithmetic_with_something_not_a_number_is_a_type_error_naming_it(name, op, label):
    value, shown = NOT_NUMBERS[name]
    with pytest.raises(TypeError, match=rf"^{label}: a tensor cannot be combined with "
                                        rf"{re.escape(shown)}"):
        op(wl.tensor([1.0, 2.0, 3.0]), value)


def test_comparing_with_a_string_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match=r"^greater: a tensor cannot be compared with str 'a'"):
        _ = wl.tensor([1.0, 2.0]) > "a"


@pytest.mark.parametrize("method", ["any", "all"])
def test_any_and_all_check_their_dimension_as_the_other_reductions(method):
    x = wl.tensor([[True, False]])
    with pytest.raises(IndexError, match=rf"^{method}: dimension 2 is out of range "
                                         rf"\[-2, 1\]$"):
        getattr(x, method)(dim=2)
    with pytest.raises(TypeError, match=rf"^{method}: a dimension must be an integer, got 1.5"):
        getattr(x, method)(dim=1.5)
    assert getattr(x, method)(dim=(0, -1)).item() is (method == "any")
    assert getattr(x, method)(dim=-1).tolist() == [method == "any"]
