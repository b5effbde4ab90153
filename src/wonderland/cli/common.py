"""What every ``wonderland`` command shares: its parser class, its help layout, the
argument types that refuse bad values where they enter, and the error a command raises
to stop with one clear line.

A command module (``wonderland.cli.practice``, later ``tour``, ``fit``, ``predict``,
``bench``) exposes ``add_parser(subparsers)``, which calls :func:`command_parser` and adds
its options, and ``run(args) -> int``. ``wonderland.cli.main`` owns the rest: the error
prefix, the exit statuses, a closed pipe on stdout.
"""

from __future__ import annotations

import argparse
import difflib
import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from ..data.loaders import separated_by

DEBUG_VARIABLE = "WONDERLAND_DEBUG"

EPILOG = f"""\
exit status: 0 success, 1 the command failed, 2 a bad argument or missing input,
130 interrupted, 141 stdout closed early (`| head`; quietly, nothing on stderr).
Errors are one line on stderr ("wonderland <command>: error: ..."); set
{DEBUG_VARIABLE}=1 to see the Python traceback of an unexpected one instead."""


class CommandError(Exception):
    """A command cannot go on: ``main`` prints ``wonderland <command>: error: <message>``
    as one line and exits with ``status`` (2: the user's input, 1: anything else).

    Examples
    --------
    >>> err = CommandError("--out 'a.txt' is a file", status=2)
    >>> str(err), err.status
    ("--out 'a.txt' is a file", 2)
    """

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def one_line(message: object, limit: int = 400) -> str:
    """``message`` on one line: whitespace runs (newlines too) become one space.

    Examples
    --------
    >>> one_line("first\\n  second")
    'first second'
    """
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line, ``<prog>: error: <message>`` on
    stderr, with status 2: no usage dump, whoever raised it (argparse itself included).

    Examples
    --------
    >>> import contextlib, io
    >>> p = Parser(prog="wonderland demo")
    >>> _ = p.add_argument("--n", type=int_at_least(1))
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     try:
    ...         p.parse_args(["--n", "0"])
    ...     except SystemExit as exc:
    ...         print(exc.code)
    2
    >>> err.getvalue()
    "wonderland demo: error: argument --n: must be a whole number >= 1, got '0'\\n"
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        kwargs.setdefault("allow_abbrev", False)  # new options must not break old scripts
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self._given = list(sys.argv[1:] if args is None else args)  # (for error's hint)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {one_line(message)}{self._suggestion(message)}\n")

    def _suggestion(self, message: str) -> str:
        """`` (did you mean ...?)`` for a mistyped option or choice, else ``""``. A missing
        required option is checked before unknown ones: the mistyped one is named too."""
        if message.startswith("the following arguments are required"):
            typed = [a.split("=", 1)[0] for a in getattr(self, "_given", ())
                     if a.startswith("--") and a.split("=", 1)[0] not in
                     self._option_string_actions]
            hint = did_you_mean(typed[0], self._option_string_actions) if typed else ""
            return f"; {typed[0]} is not an option{hint}" if hint else ""
        unknown = re.match(r"unrecognized arguments: (\S+)", message)
        if unknown and unknown.group(1).startswith("-"):
            word = unknown.group(1).split("=", 1)[0]
            return did_you_mean(word, self._option_string_actions)
        choice = re.search(r"invalid choice: '(.+?)' \(choose from (.+)\)", message)
        if choice:
            return did_you_mean(choice.group(1), re.findall(r"'([^']*)'", choice.group(2)))
        return ""


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the candidate closest to a mistyped ``word``, or ``""``
    when none is close.

    Examples
    --------
    >>> did_you_mean("--step", ["--steps", "--seed", "-h"])
    " (did you mean '--steps'?)"
    >>> did_you_mean("zzz", ["practice", "fit"])
    ''
    """
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter,
                    argparse.RawDescriptionHelpFormatter):
    """Defaults shown after each option (unless its help says its own, or there is none,
    or it is a flag that is off unless given: "(default: False)" says nothing);
    descriptions and epilogs keep their lines."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default is None or "(default:" in text or \
                (action.nargs == 0 and action.default is False):
            return text
        return super()._get_help_string(action)


def command_parser(subparsers: Any, name: str, summary: str, description: str,
                   epilog: str = EPILOG) -> argparse.ArgumentParser:
    """Register the command ``name``: its one-line ``summary`` (in ``wonderland --help``),
    its paragraph ``description`` (in ``wonderland name --help``).

    Examples
    --------
    >>> top = Parser(prog="wonderland")
    >>> sub = top.add_subparsers(dest="command", parser_class=Parser)
    >>> p = command_parser(sub, "demo", "a demo", "A demo command.")
    >>> p.prog, p.description
    ('wonderland demo', 'A demo command.')
    """
    return subparsers.add_parser(name, help=summary, description=description, epilog=epilog,
                                 formatter_class=HelpFormatter)


# ---------------------------------------------------------------- argument types


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse ``type=``: a whole number ``>= minimum``.

    Examples
    --------
    >>> int_at_least(0)("3")
    3
    >>> int_at_least(1)("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a whole number >= 1, got '0'
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(
                f"must be a whole number >= {minimum}, got {text!r}")
        return value

    parse.__name__ = f"int_at_least_{minimum}"
    return parse


def _finite_float(text: str, requirement: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be {requirement}, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """An argparse ``type=``: a finite number ``> 0``.

    Examples
    --------
    >>> positive_float("0.5")
    0.5
    >>> positive_float("nan")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a positive number, got 'nan'
    """
    value = _finite_float(text, "a positive number")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def unit_interval(text: str) -> float:
    """An argparse ``type=``: a number in ``[0, 1)``.

    Examples
    --------
    >>> unit_interval("0.9")
    0.9
    >>> unit_interval("1")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a number in [0, 1), got '1'
    """
    value = _finite_float(text, "a number in [0, 1)")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text!r}")
    return value


def output_folder(text: str) -> str:
    """An argparse ``type=``: a folder that exists or can be created (nothing is created
    here). Refuses an empty name, an existing file, a path under a file and a folder that
    is not writable.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     output_folder(tmp + "/figures") == tmp + "/figures"
    True
    >>> output_folder("")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must name a folder, got ''
    """
    if not text.strip():
        raise argparse.ArgumentTypeError(f"must name a folder, got {text!r}")
    path = Path(text)
    try:
        if path.exists() and not path.is_dir():
            raise argparse.ArgumentTypeError(f"{text!r} is an existing file, not a folder")
        existing = path.absolute()
        while not existing.exists():
            existing = existing.parent
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot use {text!r}: {exc.strerror or exc}") from None
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(
            f"cannot create {text!r}: {str(existing)!r} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "write into" if existing == path.absolute() else "create"
        raise argparse.ArgumentTypeError(
            f"cannot {what} {text!r}: {str(existing)!r} is not writable")
    return text


def plural(count: int, word: str) -> str:
    """``count`` and ``word``, with an ``s`` unless there is exactly one.

    Examples
    --------
    >>> plural(1, "row"), plural(3, "feature")
    ('1 row', '3 features')
    """
    return f"{count} {word}{'' if count == 1 else 's'}"


DELIMITER_NAMES = {"tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " "}


def delimiter(text: str) -> str:
    """An argparse ``type=``: the field separator of a CSV file, one character, or a name
    (``tab``, ``semicolon``, ...; ``\\t`` as typed in a shell is a tab too).

    Examples
    --------
    >>> delimiter(";"), delimiter("tab"), delimiter("\\t")
    (';', '\\t', '\\t')
    >>> delimiter(";;")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be one character (e.g. ';') or tab, ...; got ';;'
    """
    # a backslash and a t: what a shell passes for \t, unless quoted as $'\t'
    value = "\t" if text == "\\t" else DELIMITER_NAMES.get(text.lower(), text)
    if len(value) != 1 or value in "\"\r\n":
        raise argparse.ArgumentTypeError(f"must be one character (e.g. ';') or "
                                         f"{', '.join(DELIMITER_NAMES)}; got {text!r}")
    return value


def delimiter_hint(path: str, used: str) -> str:
    """A hint for a file that seems separated by another character than ``used`` (``;`` in
    many European exports, a tab in a .tsv: ``separated_by``), or ``""``.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "semi.csv")
    >>> _ = open(path, "w").write("a;b;y\\n1;2;3\\n")
    >>> delimiter_hint(path, ",")
    "; the file seems separated by ';', not ',': add --delimiter ';'"
    """
    other = separated_by(path, used)
    if other is None:
        return ""
    shown = "tab" if other == "\t" else repr(other)
    return f"; the file seems separated by {shown}, not {used!r}: add --delimiter {shown}"


def with_delimiter_hint(exc: Exception, path: str, used: str) -> str:
    """``exc``'s message with the command line's delimiter hint (``--delimiter``) in place
    of the library's (which names ``read_csv``'s ``delimiter=``), or as it is.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "semi.csv")
    >>> _ = open(path, "w").write("a;b;y\\n1;2;3\\n")
    >>> with_delimiter_hint(ValueError("no column 'y'; the header is one column, 'a;b;y': "
    ...                                "pass delimiter=';'"), path, ",")
    "no column 'y'; the file seems separated by ';', not ',': add --delimiter ';'"
    """
    text, hint = str(exc), delimiter_hint(path, used)
    if hint:  # (the library's hint, read from the same rows, ends the message)
        text = re.split("; (?:the header is one column, |the file seems separated by )", text)[0]
    return text + hint


# a run of more than this many comma-separated names is shortened in a warning
LIST_LIMIT = 6


def shorten_lists(text: str, keep: int = 4, names: Sequence[str] = ()) -> str:
    """``text`` with each long comma-separated run of names (3000 column names in a
    collinearity warning) cut to its first ``keep`` names, ``...`` and the last name. A
    name is a word, or one of ``names`` (the data's columns, which may hold spaces).

    Examples
    --------
    >>> shorten_lists("columns c0, c1, c2, c3, c4, c5, c6, c7 are collinear")
    'columns c0, c1, c2, c3, ..., c7 (8 in all) are collinear'
    >>> shorten_lists("columns a, b are constant")
    'columns a, b are constant'
    >>> shorten_lists("columns " + ", ".join(f"x {i}" for i in range(9)) + " are collinear",
    ...               names=[f"x {i}" for i in range(9)])
    'columns x 0, x 1, x 2, x 3, ..., x 8 (9 in all) are collinear'
    """

    def cut(match: re.Match[str]) -> str:
        found = match.group(0).split(", ")
        return f"{', '.join(found[:keep])}, ..., {found[-1]} ({len(found)} in all)"

    # the longest names first: "x 10" is not "x 1" followed by "0"
    known = "|".join(map(re.escape, sorted({n for n in names if n}, key=len, reverse=True)))
    name = rf"(?:{known}|[^\s,]+)" if known else r"[^\s,]+"
    return re.sub(rf"(?:{name}, ){{{LIST_LIMIT},}}{name}", cut, text)


def warn(message: object, prog: str = "wonderland", names: Sequence[str] = ()) -> None:
    """Write ``<prog>: warning: <message>`` on stderr as one readable line (long lists
    of names shortened), keeping stdout for the report a user may pipe or redirect.

    Examples
    --------
    >>> import contextlib, io
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     warn("max_iter reached;\\n  increase max_iter", "wonderland fit")
    >>> err.getvalue()
    'wonderland fit: warning: max_iter reached; increase max_iter\\n'
    """
    say(prog, "warning", shorten_lists(str(message), names=names))


def say(prog: str, kind: str, message: object) -> None:
    """Write ``<prog>: <kind>: <message>`` on stderr as one line (``kind`` is ``error``
    or ``warning``); nothing when stderr is closed.

    Examples
    --------
    >>> import contextlib, io
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     say("wonderland fit", "error", "no column 'y'")
    >>> err.getvalue()
    "wonderland fit: error: no column 'y'\\n"
    """
    if sys.stderr is None:  # started with stderr closed (2>&-): nowhere to say it
        return
    sys.stderr.write(f"{prog}: {kind}: {one_line(message)}\n")
    sys.stderr.flush()


def format_scores(scores: dict[str, float], rows: int, part: str) -> str:
    """The metrics of one part of the data (``train``, ``test``) as the report shows
    them; one that is not a number says why in words (R² of fewer than two rows, or of a
    constant target, is undefined) rather than ``nan``.

    Examples
    --------
    >>> format_scores({"R2": 0.91234, "RMSE": 0.5}, 30, "train")
    'R2 0.9123, RMSE 0.5000'
    >>> format_scores({"R2": float("nan"), "RMSE": 0.2}, 1, "test")
    'R2 undefined for 1 row (a larger --test-size holds out more), RMSE 0.2000'
    >>> format_scores({"R2": float("nan"), "RMSE": 0.0}, 6, "train")
    'R2 undefined (the target is constant in these rows), RMSE 0.0000'
    """
    shown = []
    for key, value in scores.items():
        if not math.isnan(value):
            shown.append(f"{key} {value:.4f}")
        elif rows < 2:
            hint = " (a larger --test-size holds out more)" if part == "test" else ""
            shown.append(f"{key} undefined for {plural(rows, 'row')}{hint}")
        elif key == "R2":  # 1 - residual/total with a total of 0
            shown.append(f"{key} undefined (the target is constant in these rows)")
        else:
            shown.append(f"{key} undefined")
    return ", ".join(shown)


def refuse_overwriting(option: str, path: str, inputs: Iterable[tuple[str, str]],
                       instead: str) -> None:
    """Refuse, before anything is read or written, an output ``path`` that is one of the
    ``(role, path)`` inputs under any name: writing it would destroy that input.

    Examples
    --------
    >>> import os, tempfile
    >>> data = os.path.join(tempfile.mkdtemp(), "data.json")
    >>> _ = open(data, "w").write("a,y\\n1,2\\n")
    >>> try:
    ...     refuse_overwriting("--save", data, [("the data", data)], "save it elsewhere")
    ... except CommandError as exc:
    ...     print(exc)
    argument --save: ... is the data file; save it elsewhere
    """
    if not os.path.exists(path):
        return
    for role, other in inputs:
        if os.path.exists(other) and os.path.samefile(path, other):
            raise CommandError(f"argument {option}: {path!r} is {role} file; {instead}",
                               status=2)


def save_model(model: Any, path: str) -> str | None:
    """Write ``model`` to ``path``; the reason it could not be written, or None.

    The caller still prints the report when this fails (the coefficients are the fit's
    result too) and then stops with the reason.
    """
    try:
        model.save(path)
    except OSError as exc:  # a folder gone or read-only since the check, a full disk
        return f"argument --save: cannot write the model to {path!r}: {exc.strerror or exc}"
    return None


def print_coefficients(model: Any, names: list[str]) -> None:
    """The coefficients of a fitted linear model by feature name, then the intercept (per
    class for a multiclass model), as ``wonderland fit`` prints them.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> print_coefficients(SimpleNamespace(coef_=[2.0], intercept_=1.0), ["bmi"])
      bmi         2
      intercept   1
    """
    names = [_as_written(n) for n in names]  # (widths of what the terminal shows)
    width = max(len(n) for n in [*names, "intercept"])
    coef = np.atleast_2d(np.asarray(model.coef_, dtype=float))
    intercept = np.atleast_1d(np.asarray(model.intercept_, dtype=float))
    for k, row in enumerate(coef):
        if len(coef) > 1:
            print(f"class {model.classes_[k]}:")
        for name, value in zip(names, row):
            print(f"  {name:<{width}}  {value: .6g}")
        print(f"  {'intercept':<{width}}  {intercept[k]: .6g}")


def _as_written(text: str) -> str:
    """``text`` as stdout will write it: what its encoding lacks as ``\\u0394`` escapes
    (``wonderland``'s streams escape it), so that columns are padded to what is shown."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    return text.encode(encoding, "backslashreplace").decode(encoding, "replace")


__all__ = ["CommandError", "Parser", "HelpFormatter", "command_parser", "int_at_least",
           "positive_float", "unit_interval", "output_folder", "one_line", "EPILOG",
           "DEBUG_VARIABLE", "print_coefficients", "did_you_mean", "plural",
           "delimiter", "delimiter_hint", "with_delimiter_hint", "save_model", "warn",
           "say", "shorten_lists", "format_scores", "LARGEST_INT_LABEL", "check_labels"]


# whole numbers up to this size are labels as ints: past 2**53 a float64 no longer holds
# every whole number, and past 2**63 the cast to int64 wraps (1e20 became -2**63)
LARGEST_INT_LABEL = 2.0**53


def check_labels(y: np.ndarray, model: str, target: str) -> None:
    """A classifier's target: whole-number labels, two classes or more (two for hinge).

    Examples
    --------
    >>> check_labels(np.array([0.0, 1.0, 1.0]), "logistic", "y")
    >>> try:
    ...     check_labels(np.array([0.5, 1.0]), "logistic", "y")
    ... except Exception as exc:
    ...     print(exc)
    --model logistic needs class labels (whole numbers) in column 'y', found 0.5
    """
    fractional = y[y != np.round(y)]
    if fractional.size:
        raise CommandError(f"--model {model} needs class labels (whole numbers) in column "
                           f"{target!r}, found {fractional[0]:g}", status=2)
    huge = y[np.abs(y) > LARGEST_INT_LABEL]
    if huge.size:  # (not labels a float64 keeps apart, nor an int64 holds)
        raise CommandError(f"--model {model} needs class labels (whole numbers of at most "
                           f"2**53 in size) in column {target!r}, found {huge[0]:g}",
                           status=2)
    found = len(np.unique(y))
    if found < 2 or (model == "hinge" and found != 2):
        raise CommandError(f"--model {model} needs {'two' if model == 'hinge' else 'two or more'}"
                           f" classes in column {target!r}, found {found}", status=2)
