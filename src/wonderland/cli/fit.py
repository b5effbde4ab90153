"""``wonderland fit``: a linear model of ``wl.linear`` fitted to a CSV file, its
coefficients by feature name, its train and test metrics, and the model saved.

The same data checks as ``wl.data.read_csv`` (a missing file or column, an empty,
non-numeric or non-finite cell: one line, exit 2) and the same estimators as
``wl.linear``.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import math
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .common import (
    LARGEST_INT_LABEL,
    CommandError,
    check_labels,
    command_parser,
    delimiter,
    format_scores,
    int_at_least,
    plural,
    print_coefficients,
    refuse_overwriting,
    save_model,
    warn,
    with_delimiter_hint,
)
from .fit_dask import check_options, run_dask

MODELS = ("linear", "ridge", "logistic", "huber", "hinge")
SOLVERS = {"linear": ("auto", "normal", "lstsq", "gd"),
           "logistic": ("auto", "newton", "lbfgs", "gd")}
CLASSIFIERS = ("logistic", "hinge")
DEFAULT_SAVE = "model.json"

DESCRIPTION = """\
Fit a linear model of wl.linear to a CSV file (a header line, then numbers): --target
names the column to predict, the other columns are the features. Prints the
coefficients by feature name, the intercept, and the metrics on the training rows and
on held-out test rows (R² and RMSE for the regressions linear, ridge and huber; accuracy
and log-loss for the classifiers logistic and hinge), then writes the model to --save
(.json or .npz, read back by `wonderland predict` or wl.linear.load)."""


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a fraction in [0, 1), got {text!r}")
    return value


def _alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def _model_file(text: str) -> str:
    if Path(text).suffix.lower() not in (".json", ".npz"):
        raise argparse.ArgumentTypeError(f"must end in .json or .npz, got {text!r}")
    folder = os.path.dirname(text) or "."
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"the folder of {text!r} does not exist")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a folder, not a file name")
    if not os.access(folder, os.W_OK | os.X_OK):  # found now, not after the fit
        raise argparse.ArgumentTypeError(f"cannot write into the folder of {text!r}")
    return text


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = command_parser(subparsers, "fit", "fit a linear model to a CSV file",
                            DESCRIPTION)
    parser.add_argument("data", metavar="CSV",
                        help="the data: a CSV file with a header (with --dask also a quoted "
                             "glob of CSV files, or a Parquet file or folder)")
    parser.add_argument("--target", required=True, metavar="COL",
                        help="the column to predict")
    parser.add_argument("--model", required=True, choices=MODELS,
                        help="linear (least squares), ridge, logistic (regression), huber "
                             "(robust regression), hinge (linear SVM)")
    parser.add_argument("--alpha", type=_alpha, default=None,
                        help="penalty strength (ridge: 1.0; the others: 0.0)")
    parser.add_argument("--solver", default="auto",
                        help="linear: auto, normal, lstsq, gd; logistic: auto, newton, "
                             "lbfgs, gd")
    parser.add_argument("--test-size", type=_fraction, default=0.25, metavar="F",
                        help="fraction of rows held out for testing (0: none)")
    parser.add_argument("--seed", type=int_at_least(0), default=0,
                        help="seed of the train/test split and of stochastic training")
    parser.add_argument("--save", type=_model_file, default=DEFAULT_SAVE, metavar="FILE",
                        help="where to write the fitted model (.json or .npz)")
    parser.add_argument("--delimiter", type=delimiter, default=",", metavar="CHAR",
                        help="the field separator: one character, or tab, semicolon, pipe, "
                             "space")
    dask = parser.add_argument_group(
        "Dask", "read DATA in blocks (a CSV, a quoted glob of CSVs, or Parquet) and fit on "
                "a Dask cluster; the report adds the blocks and the time")
    dask.add_argument("--dask", action="store_true",
                      help="fit on a Dask cluster (a local one unless --scheduler)")
    dask.add_argument("--workers", type=int_at_least(1), default=None, metavar="N",
                      help="worker processes of the local cluster (default: 2)")
    dask.add_argument("--memory-limit", default=None, metavar="SIZE",
                      help="memory per local worker, e.g. 2GB (default: the machine's "
                           "memory shared out among the workers)")
    dask.add_argument("--scheduler", default=None, metavar="ADDRESS",
                      help="the scheduler of a running cluster, e.g. tcp://10.0.0.5:8786")
    return parser


def make_model(name: str, alpha: float | None, solver: str, seed: int) -> Any:
    """The estimator of ``wl.linear`` that ``--model name`` stands for.

    Examples
    --------
    >>> make_model("ridge", None, "auto", 0)
    Ridge()
    >>> make_model("hinge", 0.1, "auto", 0)
    LinearModel(alpha=0.1, loss='hinge', random_state=0)
    """
    from .. import linear

    if solver != "auto" and solver not in SOLVERS.get(name, ("auto",)):
        allowed = SOLVERS.get(name)
        raise CommandError(
            f"argument --solver: {solver!r} is not a solver of --model {name}"
            + (f" (choose from {', '.join(allowed)})" if allowed else " (it has only auto)"),
            status=2)
    if name == "linear":
        if alpha:
            raise CommandError("argument --alpha: --model linear has no penalty; use "
                               "--model ridge", status=2)
        return linear.LinearRegression(solver=solver)
    if name == "ridge":
        return linear.Ridge(alpha=1.0 if alpha is None else alpha)
    if name == "logistic":
        return linear.LogisticRegression(alpha=alpha or 0.0, solver=solver)
    return linear.LinearModel(loss=name, alpha=alpha or 0.0, random_state=seed)


def read_data(path: str, target: str, separator: str = ",") -> Any:
    """``wl.data.read_csv``, its errors as one line with exit status 2 (with a hint when
    the file seems separated by another character than ``separator``)."""
    from .. import data

    try:
        return data.read_csv(path, target, delimiter=separator)
    except (OSError, ValueError, TypeError) as exc:
        raise CommandError(with_delimiter_hint(exc, path, separator), status=2) from None


def _with_names(X: np.ndarray, names: list[str]) -> Any:
    """X as a DataFrame when pandas is there (the model then keeps the feature names)."""
    try:
        import pandas as pd
    except ImportError:
        return X
    return pd.DataFrame(X, columns=names)


@contextlib.contextmanager
def unnamed_rows() -> Iterator[None]:
    """A context in which scikit-learn's "X does not have valid feature names" is silent:
    without pandas the rows are a plain array, their columns already matched by name."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        yield


def _target(part: Any, classifier: bool) -> np.ndarray:
    """The target column; a classifier's whole-number labels as ints (class 1, not 1.0)
    when they are all at most 2**53 in size, else as they are."""
    y = part.y.numpy()
    if classifier and np.all(y == np.round(y)) and np.all(np.abs(y) <= LARGEST_INT_LABEL):
        return y.astype(np.int64)
    return y


def metrics(model: Any, X: Any, y: np.ndarray, classifier: bool) -> dict[str, float]:
    """R² and RMSE of a regressor; accuracy and log-loss of a classifier (log-loss only
    when it predicts probabilities).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.arange(4.0)[:, None]; y = 2 * X[:, 0]
    >>> metrics(LinearRegression().fit(X, y), X, y, classifier=False)
    {'R2': 1.0, 'RMSE': 0.0}
    """
    if not classifier:
        from ..linear.base import regression_scores  # (the command loads it when it fits)

        r2, rmse = regression_scores(y, model.predict(X))  # (squares of 1e200: no overflow)
        return {"R2": round(r2, 12), "RMSE": round(rmse, 12)}
    result = {"accuracy": float(np.mean(np.asarray(model.predict(X)) == y))}
    if hasattr(model, "predict_proba"):
        probability = np.asarray(model.predict_proba(X), dtype=float)
        classes = model.classes_
        column = np.minimum(np.searchsorted(classes, y), len(classes) - 1)
        # a class the model never saw in training has probability 0 (clipped)
        seen = classes[column] == y
        picked = np.clip(np.where(seen, probability[np.arange(len(y)), column], 0.0), 1e-15,
                         1.0)
        result["log-loss"] = float(-np.mean(np.log(picked)))
    return result


def run(args: argparse.Namespace) -> int:
    check_options(args)
    # the model written over the rows (a CSV named *.json, or --save given the data's name)
    refuse_overwriting("--save", args.save, [("the data", path) for path in (
        glob.glob(args.data) if args.dask else [args.data])], "save the model to another file")
    model = make_model(args.model, args.alpha, args.solver, args.seed)
    classifier = args.model in CLASSIFIERS
    if args.dask:
        return run_dask(args, model, classifier)
    dataset = read_data(args.data, args.target, getattr(args, "delimiter", ","))
    if classifier:
        check_labels(dataset.y.numpy(), args.model, args.target)
    try:
        train, test = dataset.split(args.test_size, seed=args.seed) if args.test_size > 0 \
            else (dataset, None)
    except ValueError as exc:
        # (one row cannot be split at all: the fit itself still can be made)
        hint = "; pass --test-size 0 to fit on every row" if len(dataset) < 2 else ""
        raise CommandError(f"argument --test-size: {exc}{hint}", status=2) from None
    names = list(dataset.feature_names)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(_with_names(train.X.numpy(), names), _target(train, classifier))
        except ValueError as exc:  # the estimators' input checks (e.g. one class only)
            raise CommandError(" ".join(str(exc).split()), status=2) from None
    if not hasattr(model, "feature_names_in_"):  # no pandas: the saved model still names
        model.feature_names_in_ = np.asarray(names, dtype=object)  # its columns for predict
    # saved before the report: a reader that stops early (`| head`) ends the command at
    # its next print, and the fitted model must not be lost with it; a save that fails
    # still gets the report (the coefficients), then the error
    save_error = save_model(model, args.save)
    for warning in caught:  # on stderr: the report on stdout may be piped or redirected
        warn(warning.message, "wonderland fit", names)
    if classifier and test is not None:
        unseen = np.setdiff1d(_target(test, True), _target(train, True))
        if unseen.size:
            warn(f"the test rows hold class(es) {', '.join(map(str, unseen))} that the "
                 f"training rows lack; the model gives them probability 0", "wonderland fit")
    print(f"{type(model).__name__} on {args.data}: {plural(len(dataset), 'row')}, "
          f"{plural(len(names), 'feature')}, target {args.target!r}")
    print_coefficients(model, names)
    parts = [("train", train)] + ([("test", test)] if test is not None else [])
    for label, part in parts:
        with unnamed_rows():
            scores = metrics(model, _with_names(part.X.numpy(), names),
                             _target(part, classifier), classifier)
        print(f"{label} ({plural(len(part), 'row')}): "
              f"{format_scores(scores, len(part), label)}")
    if save_error:
        raise CommandError(save_error, status=2)
    print(f"model written to {args.save}")
    return 0
