"""Paths of autograd, creation, data, idioms, interop, optim and the Dask blocks that the
rest of the suite never reached (found by coverage.py), each run through the public API:
values checked against NumPy, PyTorch or scikit-learn, errors checked for naming what is
wrong. Tests after a "# Fixed" comment pinned down a real bug (they failed before its fix)."""

from __future__ import annotations

import inspect
import sys
import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import torch

import wonderland as wl
from wonderland.data import (
    Dataset,
    load_diabetes,
    make_classification,
    make_collinear,
    make_linear,
    read_csv,
    read_table,
)

xps = pytest.importorskip("array_api_strict")


# ===================================================================== wl.autograd


def test_grad_outputs_of_a_wrong_kind_is_named():
    # a bare number (neither a Tensor nor a sequence) as grad_outputs: a TypeError naming it
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="autograd.grad: grad_outputs must be a Tensor.*got float"):
        wl.autograd.grad((x * x).sum(), x, grad_outputs=3.0)


def test_batched_grad_needs_a_grad_output_for_every_output():
    # is_grads_batched=True cannot imply a cotangent: the output without one is named
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"is_grads_batched=True .* \(output 0 has none\)"):
        wl.autograd.grad((x * x).sum(), x, is_grads_batched=True)


def test_grad_and_backward_refuse_empty_lists_and_graphless_outputs():
    # empty outputs / inputs / tensors, and backward of a tensor with no graph
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="autograd.grad: outputs is empty"):
        wl.autograd.grad([], x)
    with pytest.raises(ValueError, match="autograd.grad: inputs is empty"):
        wl.autograd.grad((x * x).sum(), [])
    with pytest.raises(ValueError, match="autograd.backward: tensors is empty"):
        wl.autograd.backward([])
    with pytest.raises(RuntimeError, match=r"tensor 0 \(shape \(\)\) does not require grad"):
        wl.autograd.backward(wl.ones(2).sum())


def test_grad_outputs_of_another_float_dtype_are_cast_as_torch_does():
    # a float32 cotangent for a float64 output: cast to float64, as torch.autograd.grad
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    (g,) = wl.autograd.grad(x * x, x, grad_outputs=wl.tensor([1.0, 3.0], dtype=wl.float32))
    xt = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    (gt,) = torch.autograd.grad(xt * xt, xt, grad_outputs=torch.tensor([1.0, 3.0]))
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g.numpy(), gt.numpy())


# Fixed; before the fix: a complex grad_outputs for a real output is cast to float64 with only
# NumPy's ComplexWarning: the imaginary part is dropped and the gradient is silently wrong;
# torch.autograd.grad refuses it
def test_complex_grad_outputs_for_a_real_output_are_refused():
    # torch: 'For complex Tensors, both grad_output and output are required to have the
    # same dtype'
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises((TypeError, ValueError, RuntimeError)):
            wl.autograd.grad(x * x, x, grad_outputs=wl.tensor([1 + 1j, 1 + 0j]))


# Fixed; before the fix: a Python-list grad_output for a torch-backed output fails in
# np.asarray with "Cannot interpret 'torch.float32' as a data type" (the torch dtype is handed
# to NumPy); the conversion meant for this case (autograd.py line 70) can never run, as _new
# already tags the NumPy array with the output's namespace
def test_list_grad_outputs_for_a_torch_backed_output():
    # a list cotangent works for NumPy-backed outputs; for torch-backed ones it should too
    x = wl.tensor(torch.tensor([1.0, 2.0]), requires_grad=True)
    (g,) = wl.autograd.grad(x * x, x, grad_outputs=[[1.0, 3.0]])
    np.testing.assert_allclose(g.numpy(), [2.0, 12.0])


# ===================================================================== creation


def test_tensor_copy_inside_compile_is_traced():
    # wl.tensor(x) of a traced tensor (with and without a dtype) inside wl.compile: the
    # compiled code recomputes it from the argument, as the eager function does
    f = lambda x: wl.tensor(x, dtype=wl.int64) + wl.tensor(x) * 2  # noqa: E731
    fast = wl.compile(f)
    for values in ([1.5, 2.7], [-3.25, 4.0]):
        x = wl.tensor(values)
        np.testing.assert_array_equal(fast(x).numpy(), f(x).numpy())
    assert fast.cache_info().hits == 1
    assert "astype" in fast.source(wl.tensor([1.0, 2.0]))


# Fixed; before the fix: full/full_like with a complex fill value and an integer dtype
# (creation.py _check_fits lines 135-136 return, leaving it to NumPy) give tensor([1, 1]):
# NumPy only warns (ComplexWarning) and drops the imaginary part; PyTorch refuses.
# wl.full((2,), 1+2j) (default float64) drops it the same way, where torch and NumPy give a
# complex tensor
def test_full_with_a_complex_fill_into_integers_is_refused():
    # the fill value cannot be held by int64: an error, as for NaN or out-of-range fills
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises((TypeError, ValueError)):
            wl.full((2,), 1 + 2j, dtype=wl.int64)


def test_creation_refuses_negative_sizes_and_a_zero_step():
    # eye with a negative size, arange with step 0, linspace with a negative count
    with pytest.raises(ValueError, match="eye: sizes cannot be negative, got n=-1, m=None"):
        wl.eye(-1)
    with pytest.raises(ValueError, match="eye: sizes cannot be negative, got n=2, m=-3"):
        wl.eye(2, -3)
    with pytest.raises(ValueError, match="arange: step must not be zero"):
        wl.arange(0, 5, 0.0)
    with pytest.raises(ValueError, match="linspace: num must be non-negative, got -2"):
        wl.linspace(0, 1, -2)


def test_as_tensor_refuses_a_numpy_array_of_strings_or_objects():
    # as_tensor of a non-numeric ndarray names its dtype
    with pytest.raises(TypeError, match="as_tensor: the array has dtype <U1, not numbers"):
        wl.as_tensor(np.array(["a", "b"]))
    with pytest.raises(TypeError, match="as_tensor: the array has dtype object, not numbers"):
        wl.as_tensor(np.array([1, 2], dtype=object))


def test_as_tensor_of_another_library_with_a_dtype():
    # a torch array converted to the requested dtype stays torch; one of that dtype
    # already is shared (no copy), as torch.as_tensor does
    t = wl.as_tensor(torch.tensor([1, 2]), dtype=wl.float32)
    assert isinstance(t._data, torch.Tensor) and t._data.dtype == torch.float32
    assert t.tolist() == [1.0, 2.0]
    same = torch.tensor([1.0, 2.0])
    assert wl.as_tensor(same, dtype=torch.float32)._data.data_ptr() == same.data_ptr()
    s = wl.as_tensor(xps.asarray([1, 2]), dtype=wl.float64)
    assert s._data.dtype == xps.float64


def test_full_like_refuses_a_fill_tensor_of_several_elements():
    # full_like's fill value must be one number; a one-element tensor of any shape is fine
    with pytest.raises(ValueError, match=r"full_like: .* a tensor of shape \(2,\)"):
        wl.full_like(wl.zeros(2), wl.ones(2))
    assert wl.full_like(wl.zeros(2), wl.ones((1, 1)) * 3).tolist() == [3.0, 3.0]


def test_random_like_of_a_torch_tensor_draws_the_seeded_numbers():
    # rand_like / randn_like of a torch tensor: the seeded generator's draws, moved to
    # torch and cast to x's dtype
    x = wl.tensor(torch.zeros(2, 3))
    for like, plain in ((wl.rand_like, wl.rand), (wl.randn_like, wl.randn)):
        wl.manual_seed(7)
        t = like(x)
        wl.manual_seed(7)
        ref = plain(2, 3)
        assert isinstance(t._data, torch.Tensor) and t._data.dtype == torch.float32
        np.testing.assert_allclose(t.numpy(), ref.numpy().astype(np.float32))
    with pytest.raises(TypeError, match="rand_like: random values need a floating dtype"):
        wl.rand_like(wl.tensor(torch.zeros(2, dtype=torch.int64)))


# ===================================================================== wl.data: input checks


# Fixed; before the fix: resolve_dtype maps an unknown dtype (np.dtype raises TypeError) to
# None, and `None in (float32, float64)` is True (np.dtype('float64') == None), so a typo such
# as dtype='flot32' is silently ignored and the data come back float64
@pytest.mark.parametrize("make", [
    lambda path: Dataset([[1.0], [2.0]], [0.0, 1.0], dtype="flot32"),
    lambda path: make_linear(5, 2, seed=0, dtype="flot32"),
    lambda path: read_csv(path, "y", dtype="flot32"),
], ids=["Dataset", "make_linear", "read_csv"])
def test_an_unknown_dtype_is_refused(make, tmp_path):
    # as dtype='int64' is: "dtype must be float32 or float64, got 'flot32'"
    path = tmp_path / "d.csv"
    path.write_text("a,y\n1,2\n3,4\n")
    with pytest.raises(ValueError, match="dtype must be float32 or float64, got 'flot32'"):
        make(path)


def test_object_arrays_with_booleans_and_numeric_strings():
    # booleans are numbers; numeric strings are read; the first text cell is named
    ds = Dataset(np.array([[True, "2.5"], [False, 3]], dtype=object), [0.0, 1.0])
    np.testing.assert_array_equal(ds.X.numpy(), [[1.0, 2.5], [0.0, 3.0]])
    assert ds.X.dtype == np.float64
    with pytest.raises(ValueError, match="non-numeric value 'x' at row 1, column 1"):
        Dataset(np.array([[True, 2], [False, "x"]], dtype=object), [0.0, 1.0])


def test_ragged_rows_are_named():
    # a scalar row among lists (either way round), and rows ragged one level deeper
    with pytest.raises(ValueError, match="row 1 has a single value but row 0 has 2 values"):
        Dataset([[1.0, 2.0], 3.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="row 1 has 2 values but row 0 has a single value"):
        Dataset([3.0, [1.0, 2.0]], [0.0, 1.0])
    with pytest.raises(ValueError, match="Dataset: X is ragged; every row needs the same"):
        Dataset([[1.0, [2.0, 3.0]], [3.0, 4.0]], [0.0, 1.0])


def test_pandas_series_as_x_and_a_frame_without_columns():
    # a Series is no matrix (hint: to_frame); a DataFrame needs at least one column
    with pytest.raises(ValueError, match="X must be 2-D .* got a Series of length 2; use "
                                         "series.to_frame"):
        Dataset(pd.Series([1.0, 2.0]), [0.0, 1.0])
    with pytest.raises(ValueError, match=r"X has no columns \(shape \(2, 0\)\)"):
        Dataset(pd.DataFrame(index=range(2)), [0.0, 1.0])


def test_strings_dicts_and_sets_are_no_data():
    # the wrong kind of argument is a TypeError naming it
    with pytest.raises(TypeError, match="Dataset: X must be an array.*got str"):
        Dataset("abc", [0.0, 1.0])
    with pytest.raises(TypeError, match="Dataset: y must be an array.*got set"):
        Dataset([[1.0], [2.0]], {1.0, 2.0})


def test_complex_and_date_arrays_are_refused():
    # complex numbers, dates and durations are not real numbers
    with pytest.raises(ValueError, match="X must hold real numbers, got an array of dtype "
                                         "complex128"):
        Dataset(np.array([[1 + 1j], [2]]), [0.0, 1.0])
    with pytest.raises(ValueError, match="datetime64"):
        Dataset(np.array([["2020-01-01"], ["2020-01-02"]], dtype="datetime64[D]"), [0.0, 1.0])
    with pytest.raises(ValueError, match="y must hold real numbers.*timedelta64"):
        Dataset([[1.0], [2.0]], np.array([1, 2], dtype="timedelta64[s]"))


# ===================================================================== wl.data: Dataset


def _ds() -> Dataset:
    return Dataset([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [0.0, 1.0, 2.0])


def test_a_numpy_generator_as_seed_and_bad_seeds():
    # a Generator is used as is (the same order as its own permutation); a float or a
    # bool seed is a TypeError
    ds = _ds()
    order = np.random.default_rng(0).permutation(3)
    batches = [yb.tolist() for _, yb in ds.batches(3, seed=np.random.default_rng(0))]
    assert batches == [ds.y.numpy()[order].tolist()]
    with pytest.raises(TypeError, match=r"seed must be .* got 1.5 \(float\)"):
        ds.batches(2, seed=1.5)
    with pytest.raises(TypeError, match=r"Dataset.split: seed must be .* got True \(bool\)"):
        ds.split(1, seed=True)


def test_split_fraction_whose_str_is_not_a_decimal():
    # a numbers.Real whose str() is no number falls back to its binary value
    class Third(float):
        def __str__(self) -> str:
            return "one third"

    train, test = Dataset([[float(i)] for i in range(6)], list(range(6))).split(Third(1 / 3),
                                                                               seed=0)
    assert (len(train), len(test)) == (4, 2)
    train, test = _ds().split(Fraction(1, 3), seed=0)
    assert (len(train), len(test)) == (2, 1)


def test_object_index_arrays():
    # an object array of ints selects rows (negative ones too); a non-int entry is named
    ds = _ds()
    assert ds[np.array([2, 0], dtype=object)].y.tolist() == [2.0, 0.0]
    assert ds[np.array([-1, 0], dtype=object)].y.tolist() == [2.0, 0.0]
    with pytest.raises(IndexError, match=r"Dataset index entry 1 is None \(NoneType\)"):
        ds[[0, None]]
    with pytest.raises(IndexError, match=r"Dataset index entry 1 is 1.5 \(float\)"):
        ds[np.array([0, 1.5], dtype=object)]


def test_feature_names_as_one_string_and_n_samples():
    # feature_names="ab" would name two columns 'a' and 'b': refused; n_samples is len
    with pytest.raises(TypeError, match="feature_names must be a sequence of names, not one "
                                        "string 'ab'"):
        Dataset([[1.0, 2.0]], [0.0], feature_names="ab")
    assert _ds().n_samples == 3


def test_two_dimensional_and_float_index_arrays_are_refused():
    # a 2-D index array, and an array of floats or strings
    ds = _ds()
    with pytest.raises(IndexError, match=r"index array must be 1-D, got shape \(1, 2\)"):
        ds[[[0, 1]]]
    with pytest.raises(IndexError, match="must hold ints or bools, got dtype float64"):
        ds[np.array([0.0, 1.0])]
    with pytest.raises(IndexError, match="must hold ints or bools, got dtype <U1"):
        ds[["a"]]


def test_shuffle_must_be_a_bool():
    # shuffle="yes" / shuffle=1 would be true: refused
    ds = _ds()
    with pytest.raises(TypeError, match="Dataset.batches: shuffle must be True or False, "
                                        "got 'yes'"):
        ds.batches(2, shuffle="yes")
    with pytest.raises(TypeError, match="Dataset.split: shuffle must be True or False, got 1"):
        ds.split(1, shuffle=1)


# ===================================================================== wl.data: loaders


def test_load_diabetes_scaled_must_be_a_bool():
    # scaled="yes" / 1: a TypeError naming the value
    with pytest.raises(TypeError, match="load_diabetes: scaled must be True or False, got 'yes'"):
        load_diabetes(scaled="yes")


def test_read_csv_argument_errors(tmp_path):
    # a target that is no str, a path that is no file name, a directory
    path = tmp_path / "ok.csv"
    path.write_text("a,b,y\n1,2,3\n4,5,6\n")
    with pytest.raises(TypeError, match="read_csv: target must be a column name .* got 2"):
        read_csv(path, target=2)
    with pytest.raises(TypeError, match="read_csv: path must be a file name, got int"):
        read_csv(123, "y")
    with pytest.raises(TypeError, match="read_table: path must be a file name, got bytes"):
        read_table(b"/tmp/x.csv")
    with pytest.raises(IsADirectoryError, match="is a directory, not a CSV file"):
        read_csv(tmp_path, "y")


def test_read_csv_not_utf8_names_the_byte(tmp_path):
    # a Latin-1 byte in a small file: not UTF-8, at the right byte offset
    path = tmp_path / "latin1.csv"
    data = "a,b,y\n1,2,3\ncaf\xe9,1,2\n".encode("latin-1")
    path.write_bytes(data)
    with pytest.raises(ValueError, match=f"is not UTF-8 text .* at byte {data.index(0xE9)}"):
        read_csv(path, "y")


# Fixed; before the fix: read_csv's 'not UTF-8 text (... at byte N)' takes N from
# UnicodeDecodeError.start, an offset inside the decoder's current chunk (and after a BOM),
# not in the file: a bad byte at offset 20007 is reported at byte 3623
def test_read_csv_not_utf8_names_the_byte_in_a_large_file(tmp_path):
    # the same check past the text reader's first chunk
    path = tmp_path / "big.csv"
    data = ("a,y\n" + "1,2\n" * 5000).encode() + b"caf\xe9,2\n"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=f"at byte {data.index(0xE9)}, line"):
        read_csv(path, "y")


def test_read_csv_invalid_csv(tmp_path):
    # the csv module's own error (a field over its size limit), named as invalid CSV
    path = tmp_path / "big_field.csv"
    path.write_text("a,y\n" + "1" * 200_000 + ",2\n")
    with pytest.raises(ValueError, match="is not valid CSV: field larger than field limit"):
        read_csv(path, "y")


# ===================================================================== wl.data: synthetic


def test_noise_and_intercept_are_checked():
    # noise must be a number (not a str or bool); intercept finite
    with pytest.raises(TypeError, match="make_linear: noise must be a number .* got '0.1'"):
        make_linear(5, 2, noise="0.1")
    with pytest.raises(TypeError, match="noise must be a number .* got True"):
        make_linear(5, 2, noise=True)
    with pytest.raises(ValueError, match="make_linear: intercept must be a finite number, "
                                         "got nan"):
        make_linear(5, 2, intercept=float("nan"))
    with pytest.raises(ValueError, match="class_sep must be a finite number, got inf"):
        make_classification(10, 2, class_sep=float("inf"))


def test_collinear_jitter_and_pair_are_checked():
    # a negative jitter; a pair that is not two positions
    with pytest.raises(ValueError, match="jitter is a standard deviation and must be >= 0, "
                                         "got -0.5"):
        make_collinear(10, 3, jitter=-0.5)
    for pair in (5, (0, 1, 2)):
        with pytest.raises(ValueError, match=r"pair must be two column positions, got"):
            make_collinear(10, 3, pair=pair)


def test_classification_flip_y_and_weights_match_scikit_learn():
    # weights give scikit-learn's data exactly; bad weights and flip_y are named
    from sklearn.datasets import make_classification as sk

    ds = make_classification(100, 2, seed=0, weights=(0.9, 0.1))
    X, y = sk(n_samples=100, n_features=2, n_informative=2, n_redundant=0, n_repeated=0,
              n_classes=2, n_clusters_per_class=1, weights=[0.9, 0.1], flip_y=0.0,
              random_state=0)
    np.testing.assert_array_equal(ds.X.numpy(), X)
    np.testing.assert_array_equal(ds.y.numpy(), y)
    assert np.bincount(ds.y.numpy().astype(int)).tolist() == [90, 10]
    with pytest.raises(ValueError, match="flip_y is a fraction in \\[0, 1\\], got 1.5"):
        make_classification(10, 2, flip_y=1.5)
    for weights in ((-0.1, 1.1), (0.3, 0.3, 0.4), (float("nan"), 0.5), ()):
        with pytest.raises(ValueError, match="weights are the proportions of the two classes"):
            make_classification(100, 2, weights=weights)


# Fixed; before the fix: make_classification(weights=0.5) fails in the list comprehension with
# "'float' object is not iterable" (and weights='ab' with "could not convert string to float:
# 'a'"), naming neither make_classification nor weights
def test_classification_weights_as_one_number_is_named():
    # one proportion given as a bare number, not a sequence
    with pytest.raises((TypeError, ValueError), match="make_classification: weights"):
        make_classification(100, 2, weights=0.5)


def test_classification_seed_from_the_global_or_a_given_generator():
    # seed=None draws the state from wl.manual_seed's generator; a Generator from itself:
    # the data are scikit-learn's with that state
    from sklearn.datasets import make_classification as sk

    wl.manual_seed(3)
    a = make_classification(20, 2)
    wl.manual_seed(3)
    np.testing.assert_array_equal(a.X.numpy(), make_classification(20, 2).X.numpy())
    b = make_classification(20, 2, seed=np.random.default_rng(1))
    state = int(np.random.default_rng(1).integers(0, 2**31 - 1))
    X, _ = sk(n_samples=20, n_features=2, n_informative=2, n_redundant=0, n_repeated=0,
              n_classes=2, n_clusters_per_class=1, flip_y=0.0, random_state=state)
    np.testing.assert_array_equal(b.X.numpy(), X)


# ===================================================================== idioms


def test_repr_shows_grad_fn_and_requires_grad():
    # PyTorch's frame: requires_grad=True on a leaf, grad_fn=<op> on a result
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == str(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<mul>)"


def test_add_with_alpha_and_an_array_operand():
    # t.add(ndarray or list, alpha=3) equals torch's add; the gradient in t is 1
    y = wl.tensor([1.0, 2.0])
    ref = torch.tensor([1.0, 2.0]).add(torch.tensor([1.0, 1.0]), alpha=3)
    for other in (np.array([1.0, 1.0]), [1.0, 1.0]):
        np.testing.assert_array_equal(y.add(other, alpha=3).numpy(), ref.numpy())
    assert y.sub(np.array([1.0, 1.0]), alpha=0.5).tolist() == [0.5, 1.5]
    g = wl.grad(lambda a: a.add(np.array([1.0, 1.0]), alpha=3).sum())(y)
    assert g.tolist() == [1.0, 1.0]
    assert wl.tensor([1, 2]).add(np.array([1, 1]), alpha=2).tolist() == [3, 4]


# Fixed; before the fix: t.add(other, alpha) with alpha != 1 and a list or ndarray other
# (idioms.py line 146) makes a NumPy tensor of other, which array_api_strict refuses
# ('Expected Array or Python scalar; got numpy.ndarray'); with alpha=1 the same call works
def test_add_with_alpha_on_an_array_api_strict_tensor():
    # the list is converted into the tensor's own library, as the plain + does
    t = wl.tensor(xps.asarray([1.0, 2.0]))
    assert t.add([1.0, 1.0]).tolist() == [2.0, 3.0]
    assert t.add([1.0, 1.0], alpha=3).tolist() == [4.0, 5.0]


def test_cpu_of_another_library():
    # cpu()/to("cpu") moves torch or strict data to NumPy; refused when it requires grad
    t = wl.tensor(torch.tensor([1.0, 2.0])).cpu()
    assert type(t._data) is np.ndarray and t.tolist() == [1.0, 2.0] and t.dtype == np.float32
    assert type(wl.tensor(xps.asarray([1.0, 2.0])).to("cpu")._data) is np.ndarray
    with pytest.raises(RuntimeError, match=r"cpu\(\): moving a tensor that requires grad .* "
                                           r"use detach\(\).cpu\(\)"):
        wl.tensor(torch.tensor([1.0, 2.0]), requires_grad=True).cpu()


def test_to_view_as_and_movedim_edge_cases():
    # to() with three arguments; view_as/reshape_as of a shapeless object; movedim of a
    # 0-d tensor is the tensor (as torch.movedim)
    y = wl.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"to\(\) takes a device, a dtype or a tensor .* got 3 "
                                        r"arguments"):
        y.to("cpu", wl.float32, wl.float64)
    with pytest.raises(TypeError, match="view_as: expected a tensor .* got list"):
        y.view_as([[1, 2]])
    with pytest.raises(TypeError, match="reshape_as: expected a tensor .* got int"):
        y.reshape_as(3)
    s = wl.tensor(3.0)
    assert wl.movedim(s, 0, -1) is s
    assert torch.movedim(torch.tensor(3.0), 0, -1).item() == 3.0


# Fixed; before the fix: movedim(0-d tensor, 0, 1) says 'dimension 1 is out of range for a
# tensor with 1 dimensions': _dims passes max(ndim, 1) as the tensor's rank, so the message
# misstates it (torch: 'expected to be in range of [-1, 0]')
def test_movedim_error_of_a_zero_dim_tensor_states_its_rank():
    # the message should say the tensor has 0 dimensions (or give the valid range)
    with pytest.raises(IndexError, match=r"0 dimensions|\[-1, 0\]"):
        wl.movedim(wl.tensor(3.0), 0, 1)


def test_isclose_on_torch_and_strict_tensors():
    # the Array-API branch of isclose: torch.isclose's answers, infinities and NaNs too
    a = torch.tensor([1.0, 2.0, float("inf"), float("nan"), float("-inf")])
    b = torch.tensor([1.0 + 1e-9, 2.1, float("inf"), float("nan"), float("inf")])
    for equal_nan in (False, True):
        got = wl.isclose(wl.tensor(a), wl.tensor(b), equal_nan=equal_nan)
        assert isinstance(got._data, torch.Tensor)
        assert got.tolist() == torch.isclose(a, b, equal_nan=equal_nan).tolist()
    # integers are compared as floats
    ints = wl.isclose(wl.tensor(torch.tensor([1, 2])), wl.tensor(torch.tensor([1, 3])), atol=1)
    assert ints.tolist() == [True, True]
    sa = wl.tensor(xps.asarray([1.0, 2.0, float("nan")]))
    sb = wl.tensor(xps.asarray([1.0, 2.5, float("nan")]))
    assert wl.isclose(sa, sb, rtol=0.3).tolist() == [True, True, False]
    assert wl.isclose(sa, sb, equal_nan=True).tolist() == [True, False, True]
    assert wl.allclose(wl.tensor(a[:2]), wl.tensor(a[:2]))


# Fixed; before the fix: wl.allclose on array_api_strict tensors raises AttributeError:
# 'Array' object has no attribute 'all' (idioms.allclose calls close._data.all(), a method the
# Array API does not have); wl.isclose on the same tensors works
def test_allclose_on_strict_tensors():
    # allclose should reduce with the namespace's all(), as isclose computes with it
    s = wl.tensor(xps.asarray([1.0, 2.0]))
    assert wl.allclose(s, s) is True


def test_isclose_of_two_non_tensors():
    # lists, arrays and numbers are compared as tensors
    assert wl.isclose([1.0, 2.0], [1.0, 2.5]).tolist() == [True, False]
    assert wl.isclose(1.0, 1.0 + 1e-9).item() is True
    assert wl.allclose([1.0, 2.0], np.array([1.0, 2.0])) is True
    with pytest.raises(ValueError, match=r"isclose: shapes \(2,\) and \(3,\) cannot be "
                                         r"broadcast"):
        wl.isclose([1.0, 2.0], [1.0, 2.0, 3.0])


# ===================================================================== interop


def test_ufunc_with_a_pandas_series_defers():
    # np.add(t, series) is left to pandas, which defers too: NumPy's TypeError names both
    # types; the operator form t + series is the Tensor's and stays in the graph
    t = wl.tensor([1.0, 2.0], requires_grad=True)
    s = pd.Series([10.0, 20.0])
    with pytest.raises(TypeError, match="'Tensor', 'Series'"):
        np.add(t, s)
    out = t + s
    assert isinstance(out, wl.Tensor) and out.tolist() == [11.0, 22.0] and out.requires_grad


def test_numpy_functions_edge_errors_match_numpy():
    # np.where with only x; np.squeeze of a non-unit axis; np.linalg.norm(ord=...) of 3-D
    t = wl.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="either both or neither of x and y should be given"):
        np.where(t > 1, t)
    with pytest.raises(ValueError, match=r"cannot select an axis to squeeze out .* \(shape "
                                         r"\(2, 1\), axis 0\)"):
        np.squeeze(wl.ones((2, 1)), axis=0)
    assert np.squeeze(wl.ones((1, 2, 1)), axis=(0, 2)).shape == (2,)
    with pytest.raises(ValueError, match="Improper number of dimensions to norm."):
        np.linalg.norm(wl.ones((2, 2, 2)), ord=2)
    assert float(np.linalg.norm(wl.ones((2, 2, 2)))) == pytest.approx(np.sqrt(8.0))


def test_numpy_function_keywords_beyond_the_adapter_are_refused():
    # np.einsum's and np.clip's **kwargs (dtype=, casting=) are named, not ignored
    t = wl.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="numpy.einsum: argument\\(s\\) 'dtype' not supported"):
        np.einsum("i,i->", t, t, dtype=np.float32)
    with pytest.raises(TypeError, match="numpy.clip: argument\\(s\\) 'casting' not supported"):
        np.clip(t, 0, 1, casting="unsafe")


def test_numpy_function_with_a_dask_array_defers():
    # a type the Tensor does not know (Dask) among the arguments: NotImplemented, so
    # NumPy's TypeError names both types
    da = pytest.importorskip("dask.array")
    with pytest.raises(TypeError, match="no implementation found for 'numpy.concatenate'"):
        np.concatenate([wl.ones(2), da.ones(2)])


# ===================================================================== wl.optim


def test_minimize_progress_without_tqdm(monkeypatch, capsys):
    # without tqdm the progress bar is drawn on stderr by hand (in a terminal), ending
    # with a newline; off a terminal, one plain line at the end
    monkeypatch.setitem(sys.modules, "tqdm", None)
    wl.optim.minimize(lambda x: (x - 3.0) ** 2, 0.0, lr=0.1, max_iter=5, tol_grad=0,
                      progress=True)
    assert capsys.readouterr().err == "minimize: 5/5 steps\n"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    res = wl.optim.minimize(lambda x: (x - 3.0) ** 2, 0.0, lr=0.1, max_iter=100, tol_grad=0,
                            progress=True)
    err = capsys.readouterr().err
    assert res.reason == "max_iter" and res.x.item() == pytest.approx(3.0)
    assert err.startswith("\rminimize [") and err.endswith("] 100/100\n")
    assert "#" * 30 in err
    res = wl.optim.minimize(lambda x: ((x - 3.0) ** 2).sum(1), wl.zeros(3, 2), lr=0.1,
                            max_iter=7, tol_grad=0, progress=True, batched=True)
    assert capsys.readouterr().err.endswith("7/7\n")


def test_optimizer_signature_and_a_single_tensor():
    # lr's default shows as <required>; a bare tensor is a list of one parameter
    assert "lr: 'float | Schedule' = <required>" in str(inspect.signature(wl.optim.GD))
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    opt = wl.optim.GD(x, lr=0.1)
    (x ** 2).sum().backward()
    opt.step()
    assert opt.params == [x] and x.tolist() == pytest.approx([0.8, 1.6])


def test_base_optimizer_has_no_update():
    # Optimizer itself (or a subclass without _update) cannot step, as torch's
    x = wl.tensor([1.0, 2.0], requires_grad=True)
    x.grad = wl.ones(2)

    class Mine(wl.optim.Optimizer):
        pass

    for opt in (wl.optim.Optimizer([x], lr=0.1), Mine([x], lr=0.1)):
        with pytest.raises(NotImplementedError):
            opt.step()


def test_load_state_dict_refuses_another_shape_of_state():
    # a state of 2 parameters into an optimizer of 1; Momentum's buffers into Adam; a
    # buffer of the wrong shape
    x, y = wl.tensor([1.0, 2.0], requires_grad=True), wl.tensor([1.0], requires_grad=True)
    a = wl.optim.Momentum([x, y], lr=0.1)
    x.grad, y.grad = wl.ones(2), wl.ones(1)
    a.step()
    state = a.state_dict()
    with pytest.raises(ValueError, match="Momentum: the state has 2 parameters, the optimizer "
                                         "has 1"):
        wl.optim.Momentum([x], lr=0.1).load_state_dict(state)
    adam = wl.optim.Adam([x, y], lr=0.1)
    with pytest.raises(ValueError, match="Adam: buffer 'velocity' of parameter 0 is not one of "
                                         r"this optimizer's \(m, v, step\)"):
        adam.load_state_dict(state)
    assert adam.t == 0 and adam.state == [{}, {}]
    state["state"][0]["velocity"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"Momentum: buffer 'velocity' of parameter 0 has shape "
                                         r"\(3,\), the parameter \(2,\)"):
        a.load_state_dict(state)


def test_param_groups_is_a_mapping_of_the_settings():
    # len, repr and del of PyTorch's param_groups[0]
    x = wl.tensor([1.0], requires_grad=True)
    group = wl.optim.Momentum([x], lr=0.1, momentum=0.8).param_groups[0]
    assert len(group) == 3 and list(group) == ["params", "lr", "momentum"]
    assert repr(group) == repr({"params": [x], "lr": 0.1, "momentum": 0.8})
    with pytest.raises(KeyError, match="param_groups' entries cannot be removed"):
        del group["lr"]


@pytest.mark.parametrize("name", ["GD", "Momentum", "Nesterov"])
def test_step_on_a_read_only_parameter_matches_torch(name):
    # a parameter on a read-only array (wl.from_numpy): the step rebinds its data; the
    # iterates are torch.optim.SGD's
    arr = np.array([1.0, 2.0])
    arr.flags.writeable = False
    p = wl.from_numpy(arr).requires_grad_()
    momentum = 0.0 if name == "GD" else 0.9
    opt = getattr(wl.optim, name)([p], lr=0.1, **({"momentum": momentum} if momentum else {}))
    pt = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    ref = torch.optim.SGD([pt], lr=0.1, momentum=momentum, nesterov=name == "Nesterov")
    _three_steps(opt, p, ref, pt)
    assert arr.tolist() == [1.0, 2.0]  # (the read-only array itself is left alone)


def _three_steps(opt, p, ref, pt):
    """Three steps of ``opt`` on ``(p**2).sum()`` and of torch's ``ref`` on the same with
    ``pt``: the iterates agree."""
    for _ in range(3):
        opt.zero_grad()
        (p ** 2).sum().backward()
        opt.step()
        ref.zero_grad()
        (pt ** 2).sum().backward()
        ref.step()
    np.testing.assert_allclose(p.numpy(), pt.detach().numpy(), rtol=1e-13)


@pytest.mark.parametrize("name", ["GD", "Momentum", "Nesterov", "Adam"])
def test_step_on_a_torch_backed_parameter_matches_torch(name):
    # a parameter holding a torch tensor: updated in its library, torch.optim's iterates
    p = wl.tensor(torch.tensor([1.0, 2.0], dtype=torch.float64), requires_grad=True)
    pt = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    if name == "Adam":
        opt, ref = wl.optim.Adam([p], lr=0.1), torch.optim.Adam([pt], lr=0.1)
    else:
        momentum = 0.0 if name == "GD" else 0.9
        kwargs = {"momentum": momentum} if momentum else {}
        opt = getattr(wl.optim, name)([p], lr=0.1, **kwargs)
        ref = torch.optim.SGD([pt], lr=0.1, momentum=momentum, nesterov=name == "Nesterov")
    _three_steps(opt, p, ref, pt)
    assert isinstance(p._data, torch.Tensor)


def test_lr_of_a_complex_array_is_refused():
    # a 0-d complex array (NumPy's or array_api_strict's) is no step size
    x = wl.tensor(1.0, requires_grad=True)
    for lr in (xps.asarray(0.1 + 0.2j), np.array(0.1 + 0.2j)):
        with pytest.raises(ValueError, match="GD: lr must be a positive number or a schedule"):
            wl.optim.GD([x], lr=lr)


# Fixed; before the fix: schedules.as_real reads a dtype without NumPy's `kind` as floating,
# so lr=torch.tensor(True) (or an array_api_strict bool) is accepted as lr=1.0 where lr=True
# and np.array(True) are refused, and lr=torch.tensor(0.1+0.2j) leaks torch's RuntimeError
# 'value cannot be converted to type double without overflow' instead of naming lr
@pytest.mark.parametrize("lr", [torch.tensor(True), xps.asarray(True), torch.tensor(0.1 + 0.2j)],
                         ids=["torch-bool", "strict-bool", "torch-complex"])
def test_lr_of_a_torch_bool_or_complex_is_refused(lr):
    # as for lr=True: "GD: lr must be a positive number or a schedule"
    x = wl.tensor(1.0, requires_grad=True)
    with pytest.raises(ValueError, match="GD: lr must be a positive number or a schedule"):
        wl.optim.GD([x], lr=lr)


def test_as_schedule_refuses_what_is_neither_a_number_nor_callable():
    # the schedules module's as_schedule, called directly (the optimizers check lr first)
    with pytest.raises(TypeError, match="lr must be a positive number or a callable t -> lr, "
                                        "got '0.1'"):
        wl.optim.schedules.as_schedule("0.1")


# ===================================================================== wl.linear on Dask


@pytest.fixture
def sync_dask():
    """Dask on the synchronous scheduler (small arrays: no threads needed)."""
    dask = pytest.importorskip("dask")
    with dask.config.set(scheduler="sync"):
        yield pytest.importorskip("dask.array")


def _xy() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 2))
    return X, X @ [1.0, -2.0] + 0.5 + 0.01 * rng.normal(size=12)


def test_dask_x_that_is_no_matrix_is_refused(sync_dask):
    # a Dask Series or a 1-D / 3-D Dask array as X: named, before anything is computed
    dd = pytest.importorskip("dask.dataframe")
    X, y = _xy()
    yd = sync_dask.from_array(y, chunks=4)
    frame = dd.from_pandas(pd.DataFrame(X, columns=["a", "b"]), npartitions=3)
    for est in (wl.linear.LinearRegression(), wl.linear.LogisticRegression(),
                wl.linear.LinearModel()):
        name = type(est).__name__
        with pytest.raises(ValueError, match=f"{name}: expected a 2-D X .* got a Series"):
            est.fit(frame["a"], yd)
    with pytest.raises(ValueError, match=r"expected a 2-D X, got an array of shape \(12,\)"):
        wl.linear.LinearRegression().fit(sync_dask.from_array(X[:, 0], chunks=4), yd)
    with pytest.raises(ValueError, match=r"Ridge: .* shape \(12, 2, 2\)"):
        wl.linear.Ridge().fit(sync_dask.ones((12, 2, 2), chunks=4), yd)


def test_dask_refit_and_predict_check_the_features(sync_dask):
    # a refit on an array drops the DataFrame's names (as scikit-learn); predict names a
    # wrong column count or different column names
    dd = pytest.importorskip("dask.dataframe")
    X, y = _xy()
    yd = sync_dask.from_array(y, chunks=4)
    frame = dd.from_pandas(pd.DataFrame(X, columns=["a", "b"]), npartitions=3)
    model = wl.linear.LinearRegression().fit(frame, yd)
    assert list(model.feature_names_in_) == ["a", "b"]
    with pytest.raises(ValueError, match=r"the feature names should match .* \['a', 'b'\], "
                                         r"got \['b', 'a'\]"):
        model.predict(dd.from_pandas(pd.DataFrame(X, columns=["b", "a"]), npartitions=3))
    model.fit(sync_dask.from_array(X, chunks=(4, 2)), yd)
    assert not hasattr(model, "feature_names_in_")
    with pytest.raises(ValueError, match="X has 3 features, but LinearRegression is expecting "
                                         "2 features as input."):
        model.predict(sync_dask.ones((4, 3), chunks=2))


def test_dask_fit_on_zero_rows_is_refused(sync_dask):
    # scikit-learn's message for an empty X
    with pytest.raises(ValueError, match=r"found array with 0 sample\(s\) \(shape=\(0, 2\)\)"):
        wl.linear.LinearRegression().fit(sync_dask.ones((0, 2), chunks=(1, 2)),
                                         sync_dask.ones(0, chunks=1))


def test_dask_column_vector_y_is_ravelled_with_a_warning(sync_dask):
    # y of shape (n, 1), Dask or NumPy: scikit-learn's DataConversionWarning, then the fit
    # of the ravelled y (the in-memory fit would keep a 2-D target: coef_ of shape (1, 2))
    from sklearn.exceptions import DataConversionWarning

    X, y = _xy()
    Xd = sync_dask.from_array(X, chunks=(4, 2))
    expected = wl.linear.LinearRegression().fit(X, y).coef_
    for column in (sync_dask.from_array(y, chunks=4)[:, None], y[:, None]):
        with pytest.warns(DataConversionWarning, match="column-vector y"):
            model = wl.linear.LinearRegression().fit(Xd, column)
        np.testing.assert_allclose(model.coef_, expected, rtol=1e-10)


@pytest.mark.parametrize("missing", [None, pd.NA], ids=["None", "pd.NA"])
def test_dask_missing_label_is_named(sync_dask, missing):
    # None or pandas' NA among object labels: the block and the row are named
    X, _ = _xy()
    labels = np.array(["ant", "bee"] * 6, dtype=object)
    labels[7] = missing
    with pytest.raises(ValueError, match=rf"Input y contains a missing value \({missing!r}\): "
                                         r"block \(partition\) 1 \(row 7\)"):
        wl.linear.LogisticRegression().fit(sync_dask.from_array(X, chunks=(4, 2)),
                                           sync_dask.from_array(labels, chunks=4))


def test_dask_empty_partitions_give_the_in_memory_fit(sync_dask):
    # empty row blocks (first and last: either side of a pairwise merge) are skipped:
    # least squares and logistic fits equal the in-memory ones
    from sklearn.linear_model import LinearRegression as SkLinearRegression

    X, y = _xy()
    chunks = ((0, 6, 6, 0),)
    Xe = sync_dask.from_array(X, chunks=chunks + ((2,),))
    model = wl.linear.LinearRegression().fit(Xe, sync_dask.from_array(y, chunks=chunks))
    sk = SkLinearRegression().fit(X, y)
    np.testing.assert_allclose(model.coef_, sk.coef_, rtol=1e-10)
    assert model.intercept_ == pytest.approx(sk.intercept_, rel=1e-10)
    labels = (y > 0.5).astype(int)
    dsk = wl.linear.LogisticRegression(alpha=1.0).fit(Xe, sync_dask.from_array(labels,
                                                                               chunks=chunks))
    mem = wl.linear.LogisticRegression(alpha=1.0).fit(X, labels)
    np.testing.assert_allclose(dsk.coef_, mem.coef_, rtol=1e-8)
    np.testing.assert_allclose(dsk.intercept_, mem.intercept_, rtol=1e-8, atol=1e-12)


def test_dask_values_whose_squares_overflow_name_the_column(sync_dask):
    # finite values of 1e160: XᵀX overflows; the column is named (as in memory)
    from wonderland.linear.base import TooLargeError

    X, y = _xy()
    X[:, 1] *= 1e160
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(TooLargeError, match="squares overflow float64 in column 'x1'"):
            wl.linear.LinearRegression().fit(sync_dask.from_array(X, chunks=(4, 2)),
                                             sync_dask.from_array(y, chunks=4))


# Fixed; before the fix: an object cell holding a Python int too large for a float (10**400)
# raises a bare OverflowError('int too large to convert to float') from np.asarray in
# _float_block (only TypeError/ValueError are caught), naming no block, row or column; the in-
# memory fit does the same
def test_dask_int_too_large_for_a_float_is_named(sync_dask):
    # as any unreadable value: a ValueError naming the block, the column and the row
    X, y = _xy()
    Xo = X.astype(object)
    Xo[5, 1] = 10**400
    with pytest.raises(ValueError, match=r"block \(partition\) 1, column 'x1' \(row 5\)"):
        wl.linear.LinearRegression().fit(sync_dask.from_array(Xo, chunks=(4, 2)),
                                         sync_dask.from_array(y, chunks=4))


def test_full_keeps_a_complex_fill_and_refuses_text():
    # a complex fill with no dtype is complex128 (NumPy and PyTorch keep it complex); into
    # a real dtype, or text, it is a TypeError naming the fill
    assert wl.full((2,), 1 + 2j).tolist() == [1 + 2j, 1 + 2j]
    with pytest.raises(TypeError, match=r"full_like: the fill value 1j is complex but dtype "
                                        r"is float64"):
        wl.full_like(wl.zeros(2), 1j)
    with pytest.raises(TypeError, match="full: the fill value must be a number, got '3'"):
        wl.full((2,), "3", dtype=wl.int64)


# Fixed; before the fix: 'sum: dimension 1 is out of range for a tensor with 1 dimensions'
# for a 0-d tensor (the rank given to the check is at least 1, as PyTorch's dims of a 0-d)
def test_a_dimension_of_a_zero_dim_tensor_out_of_range_gives_the_valid_range():
    with pytest.raises(IndexError, match=r"^sum: dimension 1 is out of range \[-1, 0\]$"):
        wl.tensor(3.0).sum(dim=1)
