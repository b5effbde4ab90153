"""``wonderland tour``: the whole text, run on real data, as one report.

``wonderland tour [--out DIR] [--open] [--quick]`` runs every part of the text with
wonderland (tensors, derivatives, gradient descent, losses, least squares, logistic
regression, datasets and shift, pre-trained models) on data that ships with
scikit-learn, shows a progress bar per part on stderr, writes ``DIR/report.html`` (one
self-contained page), the PNGs and ``DIR/summary.json``, and prints a summary table and
the report's path.

Until ``wonderland.cli.main`` lists it, ``python -m wonderland.cli.tour [options]`` runs
the same command.
"""

from __future__ import annotations

import argparse
import sys
import webbrowser
from pathlib import Path
from typing import Any

from .common import CommandError, command_parser, one_line, output_folder

SUMMARY = "the whole text, run on real data, as one HTML report"
DESCRIPTION = """\
Runs every part of the text with wonderland, offline, on the datasets that ship with
scikit-learn, and writes one report a learner opens in a browser:

  1 tensors            shapes, slicing, broadcasting (and its trap in a loss), batched matmul
  2 derivatives        the derivative as a limit, gradients, jvp, Jacobians, linearization
  3 gradient descent   the polynomial, stopping rules, saddles, the practice exercise
  4 losses             0/1, hinge, logistic, squared, absolute, Huber; why 0/1 cannot train
  5 least squares      diabetes: closed form vs gradient descent, collinearity and ridge
  6 logistic regr.     breast cancer: sigmoid, cross-entropy, log-odds, decision boundary
  7 datasets, shift    an i.i.d. split against a shifted one: the shift test, the accuracy
  8 pre-trained models digits: embeddings, few-shot linear heads, fine-tuning

DIR/report.html embeds its figures (one file to keep or send); DIR also gets each figure
as a PNG and summary.json with every number shown. A progress bar per part goes to
stderr; the summary table and the report's path to stdout. Under a minute on two cores;
--quick (fewer starts, draws, iterations and figures) about fifteen seconds."""

DEFAULT_OUT = "wonderland-tour"  # relative to the working folder


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``wonderland tour`` and its options.

    Examples
    --------
    >>> from wonderland.cli.common import Parser
    >>> sub = Parser(prog="wonderland").add_subparsers(parser_class=Parser)
    >>> args = add_parser(sub).parse_args(["--quick"])
    >>> args.out, args.quick, args.open
    ('wonderland-tour', True, False)
    """
    parser = command_parser(subparsers, "tour", SUMMARY, DESCRIPTION)
    parser.add_argument("--out", type=output_folder, default=DEFAULT_OUT, metavar="DIR",
                        help="folder for report.html, the PNGs and summary.json (created if "
                             "missing)")
    parser.add_argument("--quick", action="store_true",
                        help="a shorter run: fewer starting points, draws, iterations and "
                             "figures")
    parser.add_argument("--open", action="store_true",
                        help="open the report in the web browser when it is written")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        default=argparse.SUPPRESS, help="no progress bars on stderr")
    return parser


def _prepare(out: str) -> Path:
    """Check (again, at run time) and create the output folder; an unusable one is a
    :class:`CommandError` with status 2."""
    try:
        output_folder(out)
    except argparse.ArgumentTypeError as exc:
        raise CommandError(f"argument --out: {exc}", status=2) from None
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".wonderland-tour-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CommandError(f"argument --out: cannot write into {out!r}: "
                           f"{exc.strerror or exc}", status=2) from None
    return path


def run(args: argparse.Namespace) -> int:
    """Run ``wonderland tour`` with parsed ``args``; returns the exit status (1 when a
    part of the tour failed; the report still shows the others).

    Examples
    --------
    >>> args = argparse.Namespace(out="/tmp/tour", quick=True, open=False, progress=False)
    >>> run(args)  # doctest: +SKIP
    0
    """
    from ..tour import run_tour
    from ..tour.report import terminal_table

    out = _prepare(args.out)
    quick = bool(getattr(args, "quick", False))

    def warn(line: str) -> None:
        sys.stderr.write(line + "\n")

    try:
        result = run_tour(out, quick=quick, progress=getattr(args, "progress", True),
                          echo=warn)
    except OSError as exc:
        # the folder passed the check above but went away, turned read-only or filled up
        # during the run: the same one line (and status) as a folder refused at the start
        raise CommandError(f"argument --out: cannot write into {args.out!r}: "
                           f"{exc.strerror or exc}", status=2) from None
    mode = "quick" if quick else "full"
    print(f"wonderland tour ({mode} run, {result.seconds:.1f} s): every part of the text, "
          "computed by wonderland")
    print(terminal_table(result.sections))
    report = result.report.resolve()
    print(f"\nfigures and summary.json in {report.parent}")
    print(f"report: {report}")
    if getattr(args, "open", False):
        try:
            opened = webbrowser.open(report.as_uri())
        except webbrowser.Error:
            opened = False
        if not opened:
            warn(f"wonderland tour: warning: could not open a web browser; open {report} "
                 f"yourself")
    if result.failed:
        names = ", ".join(f"{s.index}. {s.title}" for s in result.failed)
        raise CommandError(f"{len(result.failed)} part(s) failed: {names} (the report shows "
                           f"the error; set WONDERLAND_DEBUG=1 for the traceback)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m wonderland.cli.tour``: the command on its own, with the errors and exit
    statuses of ``wonderland`` (one line ``wonderland tour: error: ...``, status 2 for bad
    arguments).

    Examples
    --------
    >>> main(["--out", ""])  # doctest: +SKIP
    2
    """
    from .common import Parser

    top = Parser(prog="wonderland")
    sub = top.add_subparsers(dest="command", parser_class=Parser)
    parser = add_parser(sub)
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        return run(args)
    except CommandError as exc:
        sys.stderr.write(f"{parser.prog}: error: {one_line(exc)}\n")
        return exc.status
    except KeyboardInterrupt:
        sys.stderr.write(f"{parser.prog}: error: interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
