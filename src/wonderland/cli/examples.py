"""``wonderland examples``: the text's tensor and gradient examples (the default command)."""

from __future__ import annotations

import argparse
from typing import Any

from .common import command_parser

SUMMARY = "run the text's tensor and gradient examples (the default)"
DESCRIPTION = """\
Runs the course's tensor and gradient examples, each the text's PyTorch snippet with `wl`
in place of `torch`: broadcasting, a reduction, a batched matrix product, the gradient of
a vector function, and gradient descent on the polynomial 2x^4 + x^3 - 3x^2 from x0 = 2.
It prints each result; `wonderland` without a command runs it."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``wonderland examples`` (no options).

    Examples
    --------
    >>> from wonderland.cli.common import Parser
    >>> sub = Parser(prog="wonderland").add_subparsers(parser_class=Parser)
    >>> add_parser(sub).prog
    'wonderland examples'
    """
    return command_parser(subparsers, "examples", SUMMARY, DESCRIPTION)


def run(args: argparse.Namespace) -> int:
    """Print every example; returns the exit status.

    Examples
    --------
    >>> run(argparse.Namespace())  # doctest: +ELLIPSIS
    == broadcasting
       (4, 1) + (4,) -> (4, 4)
    ...
    0
    """
    from ..examples import main

    return main()
