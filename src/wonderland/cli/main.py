"""``wonderland``: the command line of the package.

``wonderland examples`` (the default) runs the text's tensor and gradient examples.
"""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wonderland",
        description="Differentiable programming on NumPy: the course's examples and tools.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("examples", help="run the text's tensor and gradient examples (default)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``wonderland`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command in (None, "examples"):
        from ..examples import main as run_examples

        return run_examples()
    parser.error(f"unknown command {args.command!r}")  # exits 2
    return 2
