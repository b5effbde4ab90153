"""``wonderland bench``: time wonderland against its limits and its peers (W1–W8).

``wonderland bench [--quick] [--only W1,W4] [--peers torch,jax] [--json FILE]
[--repeats N]`` runs the workloads and prints one table; ``wonderland bench --plot
FILE.json [--out FILE.png]`` draws a saved run's ratios as a bar chart.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .common import CommandError, Parser, command_parser, int_at_least, one_line

SUMMARY = "time wonderland against its hand-written limits and its peers"
DESCRIPTION = """\
Runs the benchmark workloads W1-W8 for wonderland, for their limit (the hand-written
NumPy or plain-Python version of the same work) and for the peers that are installed
(PyTorch eager, JAX eager and jit, HIPS autograd, scikit-learn), timed in interleaved
rounds in one process, and prints one table: the median and spread of each row, its ratio
to the limit (and to PyTorch for W1, W5, W6), the peak memory of W3, W4 and W7, and the
versions, cores and BLAS of the machine. A peer that is not installed is a row saying so.

  W1 poly-gd    gradient descent on 2x^4 + x^3 - 3x^2, a scalar: us per step
  W2 practice   momentum on the practice function from 1000 starts: ms per run
  W3 lsq-gd     least squares by GD, X ~ (100000, 100): ms per step, memory
  W4 mlp-ratio  value_and_grad / forward of a small MLP loss, float32; memory
  W5 overhead   a chain of 1000 tiny elementwise ops and its backward: us per op
  W6 jacobian   the 256 x 256 Jacobian of tanh(A x), rev and fwd: ms per Jacobian
  W7 ridge      wl.linear.Ridge fit on X ~ (1000000, 100): s per fit, memory
  W8 logreg     wl.linear.LogisticRegression, to scikit-learn's loss: s per fit

Numbers are only as good as the machine is quiet: a line under the table says how
much CPU other processes used during each workload. `--quick` (smaller sizes, fewer
rounds) takes under a minute on two cores; the full run takes several minutes."""


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _chosen(names: list[str], allowed: Any, what: str, text: str, extra: str = "") -> list[str]:
    """``names`` without repeats, each one of ``allowed``; else the argparse error."""
    for name in names:
        if name not in allowed:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {name!r} (choose from {', '.join(allowed)}{extra})")
    if not names:
        raise argparse.ArgumentTypeError(f"must name {what}s{extra}, got {text!r}")
    return list(dict.fromkeys(names))


def workload_list(text: str) -> list[str]:
    """An argparse ``type=``: workload ids, comma-separated (``W1,w4`` or ``1,4``).

    Examples
    --------
    >>> workload_list("w1, 4")
    ['W1', 'W4']
    >>> workload_list("W9")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: unknown workload 'W9' (choose from W1, W2, W3, W4, W5, W6, W7, W8)
    """
    from ..bench import WORKLOADS

    ids = [x.upper() if x.upper().startswith("W") else f"W{x}" for x in _split(text)]
    return _chosen(ids, WORKLOADS, "workload", text)


def peer_list(text: str) -> list[str]:
    """An argparse ``type=``: peers, comma-separated, or ``none`` (the limit and
    wonderland only).

    Examples
    --------
    >>> peer_list("torch,jax-jit"), peer_list("none")
    (['torch', 'jax-jit'], [])
    >>> peer_list("tensorflow")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: unknown peer 'tensorflow' (choose from torch, jax, ..., or none)
    >>> peer_list("torch,none")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: none runs no peer: it goes alone, got 'torch,none'
    """
    from ..bench import PEERS

    names = [x.lower() for x in _split(text)]
    if names == ["none"]:
        return []
    if "none" in names:  # else: "unknown peer 'none' (choose from ..., or none)"
        raise argparse.ArgumentTypeError(f"none runs no peer: it goes alone, got {text!r}")
    return _chosen(names, PEERS, "peer", text, extra=", or none")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``wonderland bench`` and its options.

    Examples
    --------
    >>> sub = Parser(prog="wonderland").add_subparsers(parser_class=Parser)
    >>> p = add_parser(sub)
    >>> args = p.parse_args(["--quick", "--only", "W1,W5", "--peers", "torch"])
    >>> p.prog, args.only, args.peers, args.quick
    ('wonderland bench', ['W1', 'W5'], ['torch'], True)
    >>> p.parse_args([]).peers
    ['torch', 'jax', 'jax-jit', 'autograd', 'sklearn']
    """
    from ..bench import PEERS, WORKLOADS

    p = command_parser(subparsers, "bench", SUMMARY, DESCRIPTION)
    none = argparse.SUPPRESS  # no "(default: None)" in --help; run() reads these with getattr
    p.add_argument("--quick", action="store_true",
                   help="smaller sizes and fewer rounds: under a minute on two cores")
    p.add_argument("--only", type=workload_list, default=",".join(WORKLOADS), metavar="W1,W4",
                   help="run only these workloads")
    p.add_argument("--peers", type=peer_list, default=",".join(PEERS), metavar="torch,jax",
                   help="run only these peers, or none (the limit always runs)")
    p.add_argument("--repeats", type=int_at_least(1), default=none, metavar="N",
                   help="timed rounds per workload (default: each workload's own, 3 to 9)")
    p.add_argument("--json", default=none, metavar="FILE",
                   help="also write every figure (each round's time included) to FILE")
    p.add_argument("--plot", default=none, metavar="FILE.json",
                   help="run nothing: draw the ratios of a saved --json run as a bar chart "
                        "(with --only, of those workloads)")
    p.add_argument("--out", default=none, metavar="FILE.png",
                   help="where the chart goes (default: --plot's file with .png; .svg and "
                        ".pdf work too); with a run, draw this run's chart there too")
    return p


def _writable(path: str, option: str) -> None:
    """Refuse, before anything runs, a ``path`` that cannot be written: by trying to open
    it (``os.access`` says yes to root everywhere, even under ``/proc``), and removing the
    empty file again where there was none.

    Examples
    --------
    >>> _writable("", "--json")
    Traceback (most recent call last):
    ...
    wonderland.cli.common.CommandError: --json '': needs a file name
    """
    if not path:  # Path("") is the current folder: "is a folder" would puzzle
        raise CommandError(f"{option} '': needs a file name", status=2)
    file = Path(path)
    folder = file.absolute().parent
    if file.is_dir():
        raise CommandError(f"{option} {path!r} is a folder, not a file", status=2)
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise CommandError(f"{option} {path!r}: cannot write into {str(folder)!r}", status=2)
    existed = file.exists()
    try:
        with open(file, "a"):  # appends nothing: an existing file is left as it is
            pass
    except OSError as exc:
        raise CommandError(f"{option} {path!r}: cannot write it: {exc.strerror or exc}",
                           status=2) from None
    if not existed:
        file.unlink(missing_ok=True)


def _write(path: str, option: str, write: Any) -> None:
    """``write(path)``; an ``OSError`` (a full disk, a folder removed meanwhile) or a
    chart with nothing to draw becomes one line that names ``option`` (status 1)."""
    try:
        write(path)
    except OSError as exc:
        raise CommandError(f"{option} {path!r}: cannot write it: {exc.strerror or exc}",
                           status=1) from None
    except ValueError as exc:  # the chart of a run where no row has a ratio
        raise CommandError(f"{option} {path!r}: cannot draw it: {exc}", status=1) from None


def _chart_path(path: str) -> str:
    """Where the chart goes: ``path`` with ``.png`` added when it has no suffix (what
    matplotlib writes, so that the "wrote" line names the real file); a suffix matplotlib
    cannot draw is a :class:`CommandError` (status 2) before anything runs.

    Examples
    --------
    >>> _chart_path("run"), _chart_path("run.svg")
    ('run.png', 'run.svg')
    >>> _chart_path("run.txt")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    wonderland.cli.common.CommandError: --out 'run.txt': cannot draw a chart as .txt (use .png, ...)
    """
    from matplotlib.backend_bases import FigureCanvasBase

    suffix = Path(path).suffix
    if not suffix:
        return path + ".png"
    formats = FigureCanvasBase.get_supported_filetypes()
    if suffix[1:].lower() not in formats:
        others = ", ".join(f".{f}" for f in sorted(formats) if f != "png")
        raise CommandError(f"--out {path!r}: cannot draw a chart as {suffix} (use .png, "
                           f"{others})", status=2)
    return path


def _only_saved(results: dict[str, Any], only: list[str] | None) -> dict[str, Any]:
    """The rows of a saved run that ``--only`` keeps (all of them without it)."""
    from ..bench import WORKLOADS

    if not only or set(only) == set(WORKLOADS):
        return results
    saved = list(dict.fromkeys(r.get("workload") for r in results["rows"]))
    rows = [r for r in results["rows"] if r.get("workload") in only]
    if not rows:
        raise CommandError(f"--only {','.join(only)}: the saved run has no rows of "
                           f"{'it' if len(only) == 1 else 'them'} (it has "
                           f"{', '.join(map(str, saved)) or 'none'})", status=2)
    return {**results, "rows": rows}


def _plot_only(args: argparse.Namespace) -> None:
    """``--plot`` runs nothing: the options that shape a run are refused with it, rather
    than silently ignored (``--only`` chooses the workloads to draw)."""
    from ..bench import PEERS

    given = [name for name, on in (
        ("--quick", getattr(args, "quick", False)),
        ("--peers", getattr(args, "peers", None) not in (None, list(PEERS))),
        ("--repeats", getattr(args, "repeats", None) is not None),
        ("--json", getattr(args, "json", None) is not None)) if on]
    if given:
        verb = "applies" if len(given) == 1 else "apply"
        raise CommandError(f"--plot draws a saved run and runs nothing: {', '.join(given)} "
                           f"only {verb} to a run (--only chooses the workloads to draw)",
                           status=2)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark (or, with ``--plot``, draw a saved one); returns the exit status.

    Bad input raises :class:`~wonderland.cli.common.CommandError` with status 2; Ctrl-C
    one with status 130, after the table and files of the workloads that finished.

    Examples
    --------
    >>> run(argparse.Namespace(plot="missing.json"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    wonderland.cli.common.CommandError: --plot: cannot read 'missing.json': No such file ...
    """
    from ..bench import format_table, plot_ratios, read_json, run_bench, write_json
    from ..bench.runner import Interrupted

    plot, out, json_path = (getattr(args, k, None) for k in ("plot", "out", "json"))
    if out is not None:
        out = _chart_path(out)
    if plot is not None:
        _plot_only(args)
        try:
            results = read_json(plot)
        except ValueError as exc:
            raise CommandError(f"--plot: {exc}", status=2) from None
        results = _only_saved(results, getattr(args, "only", None))
        out = out or str(Path(plot).with_suffix(".png"))
        _writable(out, "--out")
        try:
            bars = plot_ratios(results, out)
        except (ValueError, KeyError, TypeError) as exc:
            raise CommandError(f"--plot {plot!r}: cannot draw it: {exc}", status=2) from None
        except OSError as exc:  # (a full disk: the file named, as a run's --out)
            raise CommandError(f"--out {out!r}: cannot write it: {exc.strerror or exc}",
                               status=1) from None
        print(f"wrote {out} ({bars} bars)")
        return 0
    for path, option in ((json_path, "--json"), (out, "--out")):
        if path is not None:
            _writable(path, option)
    stopped = None  # the workload Ctrl-C cut short
    try:
        results = run_bench(args.only, args.peers, quick=args.quick,
                            rounds=getattr(args, "repeats", None))
    except KeyboardInterrupt as exc:
        if isinstance(exc, Interrupted) and exc.results["rows"]:
            # the workloads that finished are reported and saved as after a whole run
            results, stopped = exc.results, exc.workload
        else:
            during = f" during {exc.workload}" if isinstance(exc, Interrupted) else ""
            if not (json_path or out):
                raise CommandError(f"interrupted{during}: no workload finished",
                                   status=130) from None
            # say that no file holds a part of this run (one there before is an older run's)
            files = " and ".join(f"{o} {p!r}" for o, p in (("--json", json_path),
                                                              ("--out", out)) if p)
            raise CommandError(f"interrupted{during}: the run did not finish, nothing written "
                               f"to {files}", status=130) from None
    # the files first: `| head` closing stdout mid-table must not lose them; a file that
    # cannot be written must not lose the table either: its error comes after it
    failed = None
    for path, option, write in ((json_path, "--json", lambda p: write_json(results, p)),
                                (out, "--out", lambda p: plot_ratios(results, p))):
        try:
            if path:
                _write(path, option, write)
        except CommandError as exc:
            failed = failed or exc
    print(format_table(results), flush=True)
    if failed is not None:
        raise failed
    for path in (json_path, out):
        if path:
            print(f"wrote {path}", file=sys.stderr)
    if stopped:
        done = list(dict.fromkeys(r["workload"] for r in results["rows"]))
        raise CommandError(f"interrupted during {stopped}: the table holds the workloads "
                           f"that finished ({', '.join(done)})", status=130)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``wonderland bench ARGS`` from Python or ``benchmarks/run.py``: through the
    ``wonderland`` command where it registers ``bench``, else on its own with the same
    error line and exit statuses.

    Examples
    --------
    >>> main(["--repeats", "0"])  # doctest: +SKIP
    2
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    from . import main as top

    if "bench" in getattr(top, "COMMANDS", ()):
        return top.main(["bench", *argv])
    parser = add_parser(Parser(prog="wonderland").add_subparsers(parser_class=Parser))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a bad argument already reported
        return exc.code if isinstance(exc.code, int) else 0
    try:
        return run(args)
    except CommandError as exc:
        print(f"{parser.prog}: error: {one_line(exc)}", file=sys.stderr)
        return exc.status


__all__ = ["add_parser", "main", "peer_list", "run", "workload_list"]
