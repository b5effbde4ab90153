"""``wonderland``: the command line of the package.

``wonderland examples`` (the default) runs the text's tensor and gradient examples;
``wonderland practice`` runs the text's practice exercise; ``wonderland fit`` and
``predict`` fit a linear model to a CSV file and apply it. Bad input exits with status 2
and one line on stderr, never a traceback.

Each command lives in its own module of ``wonderland.cli`` (listed in ``COMMANDS``) with
``add_parser(subparsers) -> ArgumentParser`` and ``run(args) -> int``. This module owns
what they share: the ``wonderland <command>: error: <message>`` line, the exit statuses
(0 success, 1 failure, 2 bad input, 130 interrupted, 141 stdout closed early) and a quiet
exit when the reader of stdout goes away (``wonderland practice | head``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any, NoReturn

from .. import __version__
from .common import DEBUG_VARIABLE, EPILOG, CommandError, Parser, did_you_mean, say, warn

#: The commands, each a module of ``wonderland.cli``.
COMMANDS: tuple[str, ...] = ("examples", "tour", "practice", "fit", "predict", "bench")
DEFAULT_COMMAND = "examples"

DESCRIPTION = """\
Differentiable programming on NumPy: the course's examples and exercises as commands.
`wonderland tour` runs the whole text on real data and writes one HTML report. Without a
command, `wonderland` runs the text's tensor and gradient examples
(`wonderland examples`); `wonderland practice` runs the practice exercise (gradient
descent and momentum on a 2-D function, with figures); `wonderland fit` fits a linear
model to a CSV file and `wonderland predict` applies it to new rows.
`wonderland COMMAND --help` describes each command and its options."""

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a writer killed by it
EXIT_INTERRUPTED = 130  # 128 + SIGINT


class _TopParser(Parser):
    """The ``wonderland`` parser: an unknown command is named as such."""

    def error(self, message: str) -> NoReturn:
        unknown = re.match(r"argument COMMAND: invalid choice: (.+?) \(choose from", message)
        if unknown:
            hint = did_you_mean(unknown.group(1).strip("'"), COMMANDS)
            message = (f"unknown command {unknown.group(1)}{hint} (choose from "
                       f"{', '.join(COMMANDS)})")
        super().error(message)


def _modules() -> dict[str, ModuleType]:
    return {name: importlib.import_module(f"{__package__}.{name}") for name in COMMANDS}


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The ``wonderland`` parser and each command's sub-parser, by name.

    Examples
    --------
    >>> parser, commands = build_parser()
    >>> sorted(commands)
    ['bench', 'examples', 'fit', 'practice', 'predict', 'tour']
    >>> commands["practice"].prog
    'wonderland practice'
    """
    parser = _TopParser(prog="wonderland", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"wonderland {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser,
                                       title="commands")
    commands = {}
    for name, module in _modules().items():
        sub = module.add_parser(subparsers)
        sub.set_defaults(_run=module.run)
        commands[name] = sub
    return parser, commands


def _report(prog: str, message: object) -> None:
    say(prog, "error", message)


def _one_line_warnings(prog: str) -> Callable[..., None]:
    """A ``warnings.showwarning`` that writes ``<prog>: warning: <message>`` on stderr:
    not Python's two lines with the source line of the library that warned."""

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        warn(message, prog)

    return show


def _debug() -> bool:
    return os.environ.get(DEBUG_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


def _dispatch(argv: list[str]) -> int:
    parser, commands = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        command = args.command or DEFAULT_COMMAND
        if extra and args.command is None:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        if args.command is None:  # `wonderland` alone: the default command's defaults
            args = commands[command].parse_args([])
        elif extra:  # argparse would blame `wonderland`; the command's parser owns them
            commands[command].error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    prog = commands[command].prog
    try:
        with warnings.catch_warnings():  # (restores showwarning for a caller of main())
            if not _debug():
                warnings.showwarning = _one_line_warnings(prog)
            return int(args._run(args) or 0)
    except CommandError as exc:
        _report(prog, exc)
        return exc.status
    except KeyboardInterrupt:
        if _debug():
            raise
        _report(prog, "interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        raise
    except MemoryError:
        if _debug():
            raise
        _report(prog, "out of memory; try smaller arguments")
        return 1
    except OSError as exc:  # a file that cannot be written, a full disk, ...
        if _debug():
            raise
        where = f": {exc.filename!r}" if exc.filename else ""
        _report(prog, f"{exc.strerror or type(exc).__name__}{where}")
        return 1
    except Exception as exc:  # noqa: BLE001 - a bug: one line, the traceback on request
        if _debug():
            raise
        _report(prog, f"unexpected {type(exc).__name__}: {exc} "
                      f"(set {DEBUG_VARIABLE}=1 for the traceback)")
        return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush does not fail again
    (the recipe of Python's documentation for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a file (a test capture)
        pass


def _tolerate_unencodable_output() -> None:
    """Write what the terminal's encoding lacks (η, λ, ², a column name in Greek) as
    ``\\u03b7`` escapes rather than failing: under a non-UTF-8 locale (latin-1, ASCII,
    ``PYTHONIOENCODING=ascii``) even ``--help`` died with a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a stream that cannot change now: leave it
                pass


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``wonderland`` command; returns the exit status.

    Examples
    --------
    >>> main(["--version"])
    wonderland 0.1.0
    0
    """
    try:
        _tolerate_unencodable_output()
        status = _dispatch(sys.argv[1:] if argv is None else list(argv))
        if sys.stdout is not None:  # None when started with stdout closed (>&-)
            sys.stdout.flush()  # a closed pipe shows up here when stdout is buffered
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        # Ctrl-C before a command runs (loading the commands, parsing) or after it (the
        # last flush): _dispatch answers for the command itself
        if _debug():
            raise
        _report("wonderland", "interrupted")
        return EXIT_INTERRUPTED
    return status
