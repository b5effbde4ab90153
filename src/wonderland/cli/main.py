"""``wonderland``: the command line of the package.

``wonderland examples`` (the default) runs the text's tensor and gradient examples;
``wonderland practice`` runs the text's practice exercise. Bad input exits with status 2
and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and status 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    from . import practice

    parser = _Parser(
        prog="wonderland",
        description="Differentiable programming on NumPy: the course's examples and tools.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    sub.add_parser("examples", help="run the text's tensor and gradient examples (default)")
    practice.add_arguments(sub.add_parser(
        "practice", help="the practice exercise: GD and momentum on a 2-D function",
        description=practice.__doc__.split("\n\n")[0]))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``wonderland`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command in (None, "examples"):
        from ..examples import main as run_examples

        return run_examples()
    if args.command == "practice":
        from . import practice

        problem = practice.validate(args)
        if problem:
            parser.error(problem)
        try:
            practice.run(args.starts, args.steps, args.lr, args.momentum, args.framework,
                         args.out, args.seed)
        except practice.FrameworkMissing as exc:
            sys.stderr.write(f"wonderland practice: {exc}\n")
            return 2
        return 0
    parser.error(f"unknown command {args.command!r}")
    return 2
