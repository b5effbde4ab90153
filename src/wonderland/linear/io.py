"""``model.save(path)`` and ``load(path)``: fitted linear models in JSON or ``.npz``.

Neither format can execute code: JSON is parsed as data, ``.npz`` is read with
``allow_pickle=False``. A file is accepted only if it names a class of ``wl.linear``
(a fixed list), carries exactly that class's parameters with values of the right
types, and fitted arrays of consistent shapes; anything else (a tampered, truncated
or foreign file) is a ``ValueError`` naming the file.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..atomic import write_atomically

FORMAT = "wonderland.linear"
VERSION = 1
_META = "__wonderland__"


class _Invalid(Exception):
    """A reason a file is not a valid model file (turned into a ValueError)."""


# the value types each parameter may hold in a file: "bool", "int", "float" (ints too),
# "none", or a tuple of allowed strings
_PARAMS: dict[str, dict[str, tuple]] = {
    "LinearRegression": {"fit_intercept": ("bool",), "solver": (("auto", "normal", "lstsq",
                                                                 "gd"),),
                         "max_iter": ("int",), "tol": ("float",)},
    "Ridge": {"alpha": ("float",), "fit_intercept": ("bool",)},
    "LogisticRegression": {"alpha": ("float",), "fit_intercept": ("bool",),
                           "solver": (("auto", "newton", "lbfgs", "gd"),),
                           "max_iter": ("int",), "tol": ("float",)},
    "LinearModel": {"loss": (("squared", "absolute", "huber", "hinge", "log"),),
                    "alpha": ("float",), "optimizer": (("gd", "momentum", "adam"),),
                    "lr": ("float", "none"), "batch_size": ("int", "none"),
                    "max_iter": ("int",), "tol": ("float",), "random_state": ("int", "none"),
                    "fit_intercept": ("bool",), "delta": ("float",)},
}
_ARRAYS = ("coef_", "intercept_", "loss_curve_", "classes_", "feature_names_in_")
_SCALARS = ("n_iter_", "n_features_in_")


def _is_classifier(name: str, params: dict) -> bool:
    return name == "LogisticRegression" or (name == "LinearModel"
                                            and params.get("loss") in ("hinge", "log"))


# ------------------------------------------------------------------ save


def _plain_param(name: str, key: str, value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{name}.save: parameter {key}={value!r} cannot be saved (only numbers, "
                     f"strings, booleans and None can)")


def _label_array(classes: np.ndarray, name: str) -> tuple[np.ndarray, bool]:
    """``classes_`` as a NumPy array without objects; True if it was an object array of
    strings (restored as such)."""
    if classes.dtype.kind in "biufU":
        return classes, False
    if classes.dtype.kind == "O" and all(isinstance(c, str) for c in classes):
        return classes.astype(str), True
    raise ValueError(f"{name}.save: class labels of dtype {classes.dtype} cannot be saved "
                     f"(numbers, booleans or strings can)")


def _collect(model: Any) -> tuple[str, dict, dict, dict]:
    name = type(model).__name__
    if name not in _PARAMS or type(model).__module__.rpartition(".")[0] != __package__:
        raise TypeError(f"save: {type(model).__name__} is not an estimator of wl.linear")
    check_is_fitted(model)
    params = {k: _plain_param(name, k, v) for k, v in model.get_params(deep=False).items()}
    arrays: dict[str, np.ndarray] = {
        "coef_": np.asarray(model.coef_, dtype=np.float64),
        "intercept_": np.asarray(model.intercept_, dtype=np.float64),
        "loss_curve_": np.asarray(model.loss_curve_, dtype=np.float64).ravel(),
    }
    meta = {"n_iter_": int(model.n_iter_), "n_features_in_": int(model.n_features_in_)}
    if hasattr(model, "classes_"):
        arrays["classes_"], meta["classes_object"] = _label_array(np.asarray(model.classes_),
                                                                  name)
    if hasattr(model, "feature_names_in_"):
        arrays["feature_names_in_"] = np.asarray(model.feature_names_in_).astype(str)
    return name, params, arrays, meta


def save(model: Any, path: str | os.PathLike) -> None:
    """Write a fitted ``wl.linear`` model to ``path``; the suffix picks the format:
    ``.json`` (text) or ``.npz`` (NumPy's zip of arrays, no pickle)."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".json", ".npz"):
        raise ValueError(f"save: {os.fspath(path)!r} must end in .json or .npz, got "
                         f"{suffix or 'no suffix'}")
    name, params, arrays, meta = _collect(model)
    header = {"format": FORMAT, "version": VERSION, "class": name, "params": params, **meta}
    if suffix == ".json":
        header["arrays"] = {key: {"dtype": value.dtype.str, "shape": list(value.shape),
                                  "data": [_json_number(v) for v in value.ravel().tolist()]}
                            for key, value in arrays.items()}
        text = json.dumps(header, allow_nan=False) + "\n"  # (refused before any write)
        write_atomically(path, lambda fh: fh.write(text))
    else:
        meta = np.array(json.dumps(header, allow_nan=False))
        write_atomically(path, lambda fh: np.savez(fh, **{_META: meta}, **arrays), binary=True)


def _json_number(value: Any) -> Any:
    """``value``, or for a non-finite float (a diverged fit's ``loss_curve_``) its name:
    strict JSON has no inf or NaN."""
    return value if not isinstance(value, float) or math.isfinite(value) else repr(value)


_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}

# ------------------------------------------------------------------ load


def _read_json(path: str | os.PathLike) -> tuple[dict, dict]:
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    try:
        header = json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise _Invalid(f"not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise _Invalid("the top level is not a JSON object")
    raw = header.pop("arrays", None)
    if not isinstance(raw, dict):
        raise _Invalid("no 'arrays' object")
    arrays = {}
    for key, spec in raw.items():
        if key not in _ARRAYS:
            raise _Invalid(f"unexpected array {key!r}")
        if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "data"}:
            raise _Invalid(f"array {key!r} must have exactly dtype, shape and data")
        arrays[key] = _json_array(key, spec)
    return header, arrays


def _reject_constant(text: str) -> Any:
    raise _Invalid(f"non-finite number {text} in the file")


def _json_array(key: str, spec: dict) -> np.ndarray:
    dtype, shape, data = spec["dtype"], spec["shape"], spec["data"]
    if not isinstance(dtype, str) or not isinstance(shape, list) or not isinstance(data, list):
        raise _Invalid(f"array {key!r}: dtype must be a string, shape and data lists")
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise _Invalid(f"array {key!r}: unknown dtype {dtype!r}") from None
    if dt.kind not in "biufU":
        raise _Invalid(f"array {key!r}: dtype {dtype!r} is not allowed")
    if dt.kind == "U":  # the saved width (labels keep their dtype), or the longest
        longest = max([len(v) for v in data if isinstance(v, str)] + [1])  # string's: never
        dt = np.dtype(f"<U{max(min(dt.itemsize // 4, 1024), longest)}")  # truncate
    if not all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s for s in shape) \
            or len(shape) > 2:
        raise _Invalid(f"array {key!r}: bad shape {shape!r}")
    size = math.prod(shape)
    if len(data) != size:
        raise _Invalid(f"array {key!r}: {len(data)} values for shape {tuple(shape)}")
    kinds = {"b": (bool,), "i": (int,), "u": (int,), "f": (int, float), "U": (str,)}[dt.kind]
    if key == "loss_curve_":  # the one array that may hold inf and NaN (a diverged fit)
        data = [_NON_FINITE.get(v, v) if isinstance(v, str) else v for v in data]
    for v in data:
        if not isinstance(v, kinds) or (dt.kind in "iuf" and isinstance(v, bool)):
            raise _Invalid(f"array {key!r}: value {v!r} is not of dtype {dtype}")
    try:
        return np.array(data, dtype=dt).reshape(shape)
    except (ValueError, OverflowError) as exc:
        raise _Invalid(f"array {key!r}: {exc}") from None


_NOT_NPZ = ("not a .npz archive of plain arrays as model.save writes (a wonderland model "
            "file holds no pickled data)")


def _npz_member(npz: Any, key: str) -> np.ndarray:
    """One array of an open ``.npz``; ``_Invalid`` if it is not a plain NumPy array."""
    try:
        value = npz[key]
    except ValueError as exc:
        if "pickle" in str(exc):  # NumPy's message suggests unpickling: never relay it
            raise _Invalid(f"array {key!r} holds Python objects (pickled data), which a "
                           f"wonderland model file never does") from None
        raise _Invalid(f"array {key!r} cannot be read ({exc})") from None
    if not isinstance(value, np.ndarray):  # a member that is not a .npy comes back as bytes
        raise _Invalid(f"{key!r} in the archive is not a NumPy array")
    return value


def _read_npz(path: str | os.PathLike) -> tuple[dict, dict]:
    try:
        npz = np.load(path, allow_pickle=False)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, NotImplementedError,
            RuntimeError):  # (a damaged directory reads as zip version 17.3, "encrypted")
        # for bytes that are not an archive NumPy's message advises loading them as a
        # pickle, which wonderland never does: say what the file should be instead
        raise _Invalid(_NOT_NPZ) from None
    if not isinstance(npz, np.lib.npyio.NpzFile):  # a single array (.npy) renamed
        raise _Invalid(_NOT_NPZ)
    try:
        with npz:
            keys = list(npz.files)
            if _META not in keys:
                raise _Invalid("no wonderland header (not a file written by model.save)")
            for key in keys:
                if key != _META and key not in _ARRAYS:
                    raise _Invalid(f"unexpected array {key!r}")
            meta = _npz_member(npz, _META)
            arrays = {key: _npz_member(npz, key) for key in keys if key != _META}
    except (OSError, EOFError, zipfile.BadZipFile, KeyError, zlib.error,
            NotImplementedError, RuntimeError) as exc:  # damaged data, an unknown zip feature
        raise _Invalid(f"not a readable .npz file ({type(exc).__name__}: {exc})") from None
    if meta.shape != () or meta.dtype.kind != "U":
        raise _Invalid("the header is not a string")
    try:
        header = json.loads(str(meta), parse_constant=_reject_constant)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise _Invalid(f"the header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise _Invalid("the header is not a JSON object")
    for key, value in arrays.items():
        if value.dtype.kind not in "biufU" or value.ndim > 2:
            raise _Invalid(f"array {key!r} of dtype {value.dtype} and shape {value.shape} is "
                           f"not allowed")
    return header, arrays


def _check_params(name: str, params: Any) -> dict:
    spec = _PARAMS[name]
    if not isinstance(params, dict):
        raise _Invalid("'params' is not an object")
    if set(params) != set(spec):
        missing = sorted(set(spec) - set(params))
        extra = sorted(set(params) - set(spec))
        raise _Invalid(f"parameters of {name} do not match (missing {missing}, "
                       f"unexpected {extra})")
    for key, value in params.items():
        ok = False
        for kind in spec[key]:
            if isinstance(kind, tuple):
                ok = isinstance(value, str) and value in kind
            elif kind == "bool":
                ok = isinstance(value, bool)
            elif kind == "int":
                ok = isinstance(value, int) and not isinstance(value, bool)
            elif kind == "float":
                ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
                      and math.isfinite(value))
            elif kind == "none":
                ok = value is None
            if ok:
                break
        if not ok:
            raise _Invalid(f"parameter {key}={value!r} has the wrong type or value")
    return params


def _build(header: dict, arrays: dict, classes: dict[str, type]) -> Any:
    expected = {"format", "version", "class", "params", "n_iter_", "n_features_in_",
                "classes_object"}
    if header.get("format") != FORMAT:
        raise _Invalid(f"not a {FORMAT} model file")
    if header.get("version") != VERSION:
        raise _Invalid(f"unsupported version {header.get('version')!r} (this is {VERSION})")
    if not set(header) <= expected:
        raise _Invalid(f"unexpected entries {sorted(set(header) - expected)}")
    name = header.get("class")
    if not isinstance(name, str) or name not in classes:
        raise _Invalid(f"class {name!r} is not an estimator of wl.linear "
                       f"({', '.join(sorted(classes))})")
    params = _check_params(name, header.get("params"))
    n_iter, d = header.get("n_iter_"), header.get("n_features_in_")
    for key, value, low in (("n_iter_", n_iter, 0), ("n_features_in_", d, 1)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise _Invalid(f"{key}={value!r} must be an integer >= {low}")
    classifier = _is_classifier(name, params)
    needed = {"coef_", "intercept_", "loss_curve_"} | ({"classes_"} if classifier else set())
    if not needed <= set(arrays):
        raise _Invalid(f"missing arrays {sorted(needed - set(arrays))}")
    if "classes_" in arrays and not classifier:
        raise _Invalid("a regressor has no classes_")
    for key in ("coef_", "intercept_", "loss_curve_"):
        if arrays[key].dtype.kind not in "iuf":
            raise _Invalid(f"{key} must hold numbers")
        arrays[key] = arrays[key].astype(np.float64)
        if key != "loss_curve_" and not np.all(np.isfinite(arrays[key])):
            raise _Invalid(f"{key} has non-finite values")
    coef, intercept, curve = arrays["coef_"], arrays["intercept_"], arrays["loss_curve_"]
    if curve.ndim != 1:
        raise _Invalid(f"loss_curve_ must be 1-D, got shape {curve.shape}")
    if classifier:
        labels = arrays["classes_"]
        if labels.ndim != 1 or labels.size < 2 or len(np.unique(labels)) != labels.size:
            raise _Invalid("classes_ must hold at least two distinct labels")
        if name == "LinearModel" and labels.size != 2:
            raise _Invalid("LinearModel is a binary classifier: classes_ must hold 2 labels")
        rows = 1 if labels.size == 2 else labels.size
        shapes = ((rows, d), (rows,))
    elif coef.ndim == 2 and name in ("LinearRegression", "Ridge"):  # several targets
        shapes = ((coef.shape[0], d), (coef.shape[0],))
    else:
        shapes = ((d,), ())
    if coef.shape != shapes[0] or intercept.shape != shapes[1]:
        raise _Invalid(f"coef_ {coef.shape} and intercept_ {intercept.shape} do not fit "
                       f"n_features_in_={d} (expected {shapes[0]} and {shapes[1]})")
    model = classes[name](**params)
    model.coef_ = coef
    model.intercept_ = float(intercept) if intercept.shape == () else intercept
    model.loss_curve_ = curve
    model.n_iter_ = n_iter
    model.n_features_in_ = d
    if classifier:
        labels = arrays["classes_"]
        obj = header.get("classes_object", False)
        if not isinstance(obj, bool) or (obj and labels.dtype.kind != "U"):
            raise _Invalid("bad classes_object flag")
        model.classes_ = labels.astype(object) if obj else labels
    elif "classes_object" in header:
        raise _Invalid("a regressor has no classes_")
    if "feature_names_in_" in arrays:
        names = arrays["feature_names_in_"]
        if names.dtype.kind != "U" or names.shape != (d,):
            raise _Invalid(f"feature_names_in_ must be {d} strings")
        model.feature_names_in_ = names.astype(object)
    return model


def load(path: str | os.PathLike, classes: dict[str, type]) -> Any:
    """Read a model written by ``model.save(path)`` (``.json`` or ``.npz``) as one of
    ``classes`` (by name; ``wl.linear.load`` passes the estimators of ``wl.linear``).

    Raises ``ValueError`` naming the file if it is not a valid model file of
    ``wl.linear`` (tampered, truncated, foreign); nothing in the file is executed.
    """
    suffix = Path(path).suffix.lower()
    where = os.fspath(path)
    if suffix not in (".json", ".npz"):
        raise ValueError(f"load: {where!r} must end in .json or .npz")
    try:
        header, arrays = _read_json(path) if suffix == ".json" else _read_npz(path)
        return _build(header, arrays, classes)
    except _Invalid as exc:
        raise ValueError(f"load: {where!r} is not a valid wl.linear model file: {exc}") \
            from None
    except UnicodeDecodeError:
        raise ValueError(f"load: {where!r} is not a valid wl.linear model file: not UTF-8 "
                         f"text") from None
