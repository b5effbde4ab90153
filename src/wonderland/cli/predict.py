"""``wonderland predict``: a model saved by ``wonderland fit`` (or ``model.save``)
applied to the rows of a CSV file.

The model's feature columns are read by name (when the model knows them) and every other
column is ignored, the target included; predictions go to a CSV file or to stdout.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from typing import Any

import numpy as np

from .common import CommandError, command_parser
from .fit import _with_names

DESCRIPTION = """\
Apply a model saved by `wonderland fit` (or model.save in Python) to a CSV file: the
model's feature columns are read by name, other columns (the target, say) are ignored.
Writes one prediction per row (and, for a classifier with probabilities, the probability
of each class) as CSV to --out, or to stdout."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = command_parser(subparsers, "predict", "apply a saved model to a CSV file",
                            DESCRIPTION)
    parser.add_argument("model", metavar="MODEL", help="a model file (.json or .npz)")
    parser.add_argument("data", metavar="CSV", help="the rows to predict, with a header")
    parser.add_argument("--out", metavar="FILE", default=None,
                        help="the CSV file to write (default: stdout)")
    return parser


def load_model(path: str) -> Any:
    """``wl.linear.load``, its errors as one line with exit status 2 (a file that cannot
    be read too, named as load names a file that is not a model)."""
    from .. import linear

    try:
        return linear.load(path)
    except OSError as exc:  # as load's other errors say it: "load: ...", the path quoted
        raise CommandError(f"load: cannot read {path!r}: {exc.strerror or exc}",
                           status=2) from None
    except (ValueError, TypeError) as exc:
        raise CommandError(str(exc), status=2) from None


def read_features(model: Any, path: str) -> tuple[list[str], np.ndarray]:
    """The model's feature columns of the CSV file (by name when the model knows them,
    else all columns, which must then be as many as the model's features)."""
    from .. import data

    names = getattr(model, "feature_names_in_", None)
    try:
        columns, values = data.read_table(path, None if names is None else
                                          [str(n) for n in names])
    except (OSError, ValueError, TypeError) as exc:
        raise CommandError(str(exc), status=2) from None
    if values.shape[1] != model.n_features_in_:
        raise CommandError(f"{path!r} has {values.shape[1]} columns but the model was fitted "
                           f"on {model.n_features_in_} features", status=2)
    return columns, values


def run(args: argparse.Namespace) -> int:
    if args.out is not None and (os.path.isdir(args.out) or not os.path.isdir(
            os.path.dirname(args.out) or ".")):
        raise CommandError(f"argument --out: cannot write a file at {args.out!r}", status=2)
    if args.out is not None:  # the predictions would replace the model or the rows
        for role, path in (("the model", args.model), ("the data", args.data)):
            if os.path.exists(args.out) and os.path.exists(path) \
                    and os.path.samefile(args.out, path):
                raise CommandError(f"argument --out: {args.out!r} is {role} file; write "
                                   f"the predictions to another file", status=2)
    model = load_model(args.model)
    columns, values = read_features(model, args.data)
    X = _with_names(values, columns) if hasattr(model, "feature_names_in_") else values
    predicted = np.asarray(model.predict(X))
    header = ["prediction"]
    table: list[np.ndarray] = [predicted]
    if predicted.ndim == 2:
        # several targets (a Ridge fitted on y of shape (n, k)): one column each, not an
        # array's repr in one cell ("[2.41908714 4.83817427]", 8 digits, not CSV numbers)
        table = list(predicted.T)
        if len(table) > 1:
            header = [f"prediction_{k}" for k in range(len(table))]
    if hasattr(model, "predict_proba") and hasattr(model, "classes_"):
        probability = np.asarray(model.predict_proba(X), dtype=float)
        header += [f"P({label})" for label in model.classes_]
        table += list(probability.T)
    handle = open(args.out, "w", newline="") if args.out else sys.stdout
    try:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in zip(*table):
            writer.writerow([f"{v:.10g}" if isinstance(v, float | np.floating) else v
                             for v in row])
    finally:
        if args.out:
            handle.close()
    if args.out:
        print(f"{len(predicted)} predictions written to {args.out}")
    return 0
