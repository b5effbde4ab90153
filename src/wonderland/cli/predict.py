"""``wonderland predict``: a model saved by ``wonderland fit`` (or ``model.save``)
applied to the rows of a CSV file.

The model's feature columns are read by name (when the model knows them) and every other
column is ignored, the target included; predictions go to a CSV file or to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import sys
from typing import Any

import numpy as np

from .common import (
    CommandError,
    command_parser,
    delimiter,
    refuse_overwriting,
    with_delimiter_hint,
)
from .fit import _with_names, unnamed_rows

DESCRIPTION = """\
Apply a model saved by `wonderland fit` (or model.save in Python) to a CSV file: the
model's feature columns are read by name, other columns (the target, say) are ignored.
Writes one prediction per row (and, for a classifier with probabilities, the probability
of each class) as CSV to --out, or to stdout."""


def output_file(text: str) -> str:
    """An argparse ``type=``: a file that can be written, in a folder that exists.

    Examples
    --------
    >>> output_file("")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must name a file, got ''
    """
    if not text.strip():  # (an empty name once meant stdout, silently)
        raise argparse.ArgumentTypeError(f"must name a file, got {text!r}")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a folder, not a file name")
    folder = os.path.dirname(text) or "."
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"the folder of {text!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot write into the folder of {text!r}")
    return text


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = command_parser(subparsers, "predict", "apply a saved model to a CSV file",
                            DESCRIPTION)
    parser.add_argument("model", metavar="MODEL", help="a model file (.json or .npz)")
    parser.add_argument("data", metavar="CSV", help="the rows to predict, with a header")
    parser.add_argument("--out", type=output_file, metavar="FILE", default=None,
                        help="the CSV file to write (default: stdout)")
    parser.add_argument("--delimiter", type=delimiter, default=",", metavar="CHAR",
                        help="the field separator of CSV: one character, or tab, semicolon, "
                             "pipe, space (the predictions are written with commas)")
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
        raise CommandError(f"{exc}{_swapped_hint(path)}", status=2) from None


def _swapped_hint(model_path: str) -> str:
    """A hint when MODEL looks like the data (the usual slip: ``predict data.csv m.json``)."""
    if model_path.lower().endswith((".csv", ".tsv", ".txt")):
        return "; the model comes first: wonderland predict MODEL CSV"
    return ""


def read_features(model: Any, path: str, separator: str = ",") -> tuple[list[str], np.ndarray]:
    """The model's feature columns of the CSV file (by name when the model knows them,
    else all columns, which must then be as many as the model's features)."""
    from .. import data

    names = getattr(model, "feature_names_in_", None)
    try:
        columns, values = data.read_table(path, None if names is None else
                                          [str(n) for n in names], delimiter=separator)
    except (OSError, ValueError, TypeError) as exc:
        raise CommandError(with_delimiter_hint(exc, path, separator), status=2) from None
    if values.shape[1] != model.n_features_in_:
        raise CommandError(f"{path!r} has {values.shape[1]} columns but the model was fitted "
                           f"on {model.n_features_in_} features", status=2)
    return columns, values


def _open_output(path: str) -> Any:
    try:
        return open(path, "w", newline="")
    except OSError as exc:  # (as root, or a folder gone since the check)
        raise CommandError(f"argument --out: cannot write {path!r}: {exc.strerror or exc}",
                           status=2) from None


def run(args: argparse.Namespace) -> int:
    if args.out is not None:  # the predictions would replace the model or the rows
        refuse_overwriting("--out", args.out, [("the model", args.model), ("the data", args.data)],
                           "write the predictions to another file")
    model = load_model(args.model)
    columns, values = read_features(model, args.data, getattr(args, "delimiter", ","))
    X = _with_names(values, columns) if hasattr(model, "feature_names_in_") else values
    with unnamed_rows():
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
    handle = _open_output(args.out) if args.out else sys.stdout
    try:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in zip(*table):
            writer.writerow([f"{v:.10g}" if isinstance(v, float | np.floating) else v
                             for v in row])
        if args.out:
            handle.close()  # (a full disk may only say so here)
    except OSError as exc:
        if not args.out:
            raise
        raise CommandError(f"argument --out: cannot write {args.out!r}: "
                           f"{exc.strerror or exc}", status=1) from None
    finally:
        if args.out and not handle.closed:
            with contextlib.suppress(OSError):  # (the error above already says it)
                handle.close()
    if args.out:
        print(f"{len(predicted)} predictions written to {args.out}")
    return 0
