"""model.save(path) / wl.linear.load(path): round trips, and bad files refused."""

from __future__ import annotations

import io
import json
import pickle
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris, make_classification, make_regression

import wonderland.linear as wll


def _fitted_models():
    Xr, yr = make_regression(n_samples=80, n_features=3, noise=1.0, random_state=0)
    Xc, yc = make_classification(n_samples=80, n_features=3, n_informative=2,
                                 n_redundant=0, random_state=1)
    Xi, yi = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[yi]
    df = pd.DataFrame(Xr, columns=["alpha", "beta", "gamma"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [
            (wll.LinearRegression(solver="lstsq").fit(df, yr), df),
            (wll.Ridge(alpha=0.3, fit_intercept=False).fit(Xr, yr), Xr),
            (wll.LogisticRegression(alpha=1e-2).fit(Xc, yc), Xc),
            (wll.LogisticRegression(alpha=1e-2, solver="lbfgs").fit(Xi, names), Xi),
            (wll.LogisticRegression().fit(Xc, yc == 1), Xc),  # boolean labels
            (wll.LinearModel(loss="huber", optimizer="adam", lr=0.5, batch_size=16,
                             random_state=3, max_iter=30).fit(Xr, yr), Xr),
            (wll.LinearModel(loss="log", max_iter=30).fit(Xc, np.where(yc, "yes", "no")), Xc),
        ]


MODELS = _fitted_models()


@pytest.mark.parametrize("suffix", [".json", ".npz"])
@pytest.mark.parametrize("index", range(len(MODELS)))
def test_round_trip(tmp_path, suffix, index):
    model, X = MODELS[index]
    path = tmp_path / f"model{suffix}"
    model.save(path)
    loaded = wll.load(path)
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.coef_, model.coef_)
    np.testing.assert_array_equal(loaded.intercept_, model.intercept_)
    np.testing.assert_array_equal(loaded.loss_curve_, model.loss_curve_)
    assert loaded.n_iter_ == model.n_iter_ and loaded.n_features_in_ == model.n_features_in_
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    if hasattr(model, "classes_"):
        assert list(loaded.classes_) == list(model.classes_)
        assert loaded.classes_.dtype.kind == model.classes_.dtype.kind
        if hasattr(model, "predict_proba"):
            np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    if hasattr(model, "feature_names_in_"):
        assert list(loaded.feature_names_in_) == list(model.feature_names_in_)
    pickle.loads(pickle.dumps(loaded))


def test_json_is_plain_data(tmp_path):
    model, _ = MODELS[0]
    path = tmp_path / "m.json"
    model.save(path)
    header = json.loads(path.read_text())
    assert header["class"] == "LinearRegression" and header["format"] == "wonderland.linear"
    assert header["arrays"]["feature_names_in_"]["data"] == ["alpha", "beta", "gamma"]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_unfitted_or_unsaveable_models_are_refused(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        wll.Ridge().save(tmp_path / "m.json")
    model = wll.LinearModel(lr=lambda t: 0.01, max_iter=3).fit(np.eye(3), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="lr"):
        model.save(tmp_path / "m.json")
    with pytest.raises(ValueError, match=r"\.json or \.npz"):
        MODELS[1][0].save(tmp_path / "m.pkl")


def _saved(tmp_path, suffix=".json", index=2):
    path = tmp_path / f"m{suffix}"
    MODELS[index][0].save(path)
    return path


def _edit_json(path, edit):
    header = json.loads(path.read_text())
    edit(header)
    path.write_text(json.dumps(header))


TAMPERINGS = {
    "class name": lambda h: h.update({"class": "os.system"}),
    "foreign class": lambda h: h.update({"class": "sklearn.linear_model.Ridge"}),
    "param type": lambda h: h["params"].update({"alpha": "__import__('os')"}),
    "param value": lambda h: h["params"].update({"solver": "exec"}),
    "extra param": lambda h: h["params"].update({"evil": 1}),
    "missing param": lambda h: h["params"].pop("tol"),
    "bool for int": lambda h: h["params"].update({"max_iter": True}),
    "coef shape": lambda h: h["arrays"]["coef_"].update({"shape": [3, 1]}),
    "coef length": lambda h: h["arrays"]["coef_"]["data"].append(1.0),
    "coef dtype": lambda h: h["arrays"]["coef_"].update({"dtype": "|O"}),
    "coef strings": lambda h: h["arrays"]["coef_"].update({"data": ["a", "b", "c"],
                                                          "dtype": "<U1"}),
    "missing classes": lambda h: h["arrays"].pop("classes_"),
    "one class": lambda h: h["arrays"]["classes_"].update({"data": [0], "shape": [1]}),
    "n_features": lambda h: h.update({"n_features_in_": 4}),
    "negative n_iter": lambda h: h.update({"n_iter_": -1}),
    "version": lambda h: h.update({"version": 99}),
    "format": lambda h: h.update({"format": "something.else"}),
    "unknown array": lambda h: h["arrays"].update({"payload": h["arrays"]["coef_"]}),
    "unknown entry": lambda h: h.update({"__reduce__": "os.system"}),
}


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_tampered_json_is_a_value_error_naming_the_file(tmp_path, name):
    path = _saved(tmp_path)
    _edit_json(path, TAMPERINGS[name])
    with pytest.raises(ValueError, match="m.json"):
        wll.load(path)


def test_nan_in_json_is_refused(tmp_path):
    path = _saved(tmp_path)
    path.write_text(path.read_text().replace('"data": [', '"data": [NaN, ', 1))
    with pytest.raises(ValueError, match="m.json.*non-finite|m.json"):
        wll.load(path)


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_a_diverged_fit_round_trips_with_its_infinite_loss_curve(tmp_path, suffix):
    # strict JSON has no inf: saving raised "Out of range float values are not JSON
    # compliant" for a fit whose descent diverged
    X = np.random.default_rng(0).normal(size=(50, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = wll.LinearModel(lr=10.0, max_iter=2000).fit(X, X @ [1.0, 2.0, 3.0])
    assert not np.isfinite(model.loss_curve_[-1])
    path = tmp_path / f"model{suffix}"
    model.save(path)
    if suffix == ".json":
        json.loads(path.read_text(), parse_constant=lambda name: pytest.fail(name))
    np.testing.assert_array_equal(wll.load(path).loss_curve_, model.loss_curve_)


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_truncated_file_is_a_value_error(tmp_path, suffix):
    path = _saved(tmp_path, suffix)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=f"m{suffix}"):
        wll.load(path)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=f"m{suffix}"):
        wll.load(path)


def test_foreign_files_are_value_errors(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, coef_=np.ones(3), intercept_=np.zeros(()))
    with pytest.raises(ValueError, match="plain.npz.*header"):
        wll.load(plain)
    objects = tmp_path / "objects.npz"
    np.savez(objects, __wonderland__=np.array("{}"), coef_=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="objects.npz"):
        wll.load(objects)
    pickled = tmp_path / "pickled.npz"
    pickled.write_bytes(pickle.dumps(wll.Ridge()))
    with pytest.raises(ValueError, match="pickled.npz"):
        wll.load(pickled)
    other = tmp_path / "other.json"
    other.write_text('{"name": "not a model"}')
    with pytest.raises(ValueError, match="other.json"):
        wll.load(other)
    listing = tmp_path / "list.json"
    listing.write_text("[1, 2, 3]")
    with pytest.raises(ValueError, match="list.json"):
        wll.load(listing)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match="binary.json"):
        wll.load(binary)
    with pytest.raises(ValueError, match=r"\.json or \.npz"):
        wll.load(tmp_path / "model.pkl")
    with pytest.raises(FileNotFoundError):
        wll.load(tmp_path / "missing.json")


def test_npz_that_is_not_an_archive_of_plain_arrays_never_relays_advice_to_unpickle(
        tmp_path):
    """NumPy's message for such files says to load them with allow_pickle= or pickle.load;
    load says what a model file is instead, and names the file."""
    random_bytes = tmp_path / "random.npz"
    random_bytes.write_bytes(np.random.default_rng(0).bytes(200))
    pickled = tmp_path / "pickled.npz"
    pickled.write_bytes(pickle.dumps(wll.Ridge()))
    single = tmp_path / "single.npz"  # one .npy array under a .npz name
    with open(single, "wb") as fh:
        np.save(fh, np.ones(3))
    objects = tmp_path / "objects.npz"
    np.savez(objects, __wonderland__=np.array("{}"), coef_=np.array([{"a": 1}], dtype=object))
    for path, reason in [(random_bytes, "no pickled data"), (pickled, "no pickled data"),
                         (single, "not a .npz archive"), (objects, "'coef_' holds Python "
                                                                   "objects")]:
        with pytest.raises(ValueError) as info:
            wll.load(path)
        message = str(info.value)
        assert message.startswith(f"load: {str(path)!r} is not a valid wl.linear model file: ")
        assert reason in message, message
        for advice in ("allow_pickle", "pickle.load", "unsafe", "If you trust"):
            assert advice not in message, message


def test_npz_member_that_is_not_an_array_or_is_damaged_is_a_value_error(tmp_path):
    path = tmp_path / "m.npz"
    with zipfile.ZipFile(path, "w") as archive:  # a zip whose header is not a .npy array
        archive.writestr("__wonderland__.npy", b"not an array")
    with pytest.raises(ValueError, match=r"m\.npz.*'__wonderland__' in the archive is not a "
                                         r"NumPy array"):
        wll.load(path)
    buffer = io.BytesIO()
    np.save(buffer, np.array("abc" * 500))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__wonderland__.npy", buffer.getvalue())
    data = bytearray(path.read_bytes())
    start = 30 + len("__wonderland__.npy")  # the compressed bytes, after the local header
    data[start + 2:start + 12] = bytes(b ^ 0xFF for b in data[start + 2:start + 12])
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"m\.npz.*not a readable \.npz file"):
        wll.load(path)


def test_tampered_npz_header_is_a_value_error(tmp_path):
    path = _saved(tmp_path, ".npz")
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(str(arrays["__wonderland__"]))
    header["class"] = "subprocess.Popen"
    arrays["__wonderland__"] = np.array(json.dumps(header))
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="m.npz.*subprocess.Popen"):
        wll.load(path)
    header["class"] = "LogisticRegression"
    arrays["__wonderland__"] = np.array(json.dumps(header))
    arrays["coef_"] = np.ones((2, 3))
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="m.npz.*coef_"):
        wll.load(path)
