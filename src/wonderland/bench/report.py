"""The results of a bench run as a table, as JSON, and as a bar chart of the ratios."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..atomic import write_atomically
from .runner import DISTURBED

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLUMNS = ("id", "implementation", "median", "unit", "x limit", "x torch", "spread", "memory",
           "check", "notes")
_ALIGN = "<<><>>>><<"
_COLORS = {"wonderland": "#d62728", "numpy": "#7f7f7f", "torch": "#1f77b4", "jax": "#2ca02c",
           "jax-jit": "#98df8a", "autograd": "#9467bd", "sklearn": "#ff7f0e"}
_OTHER = "#17becf"  # an implementation without a colour of its own


def fmt(v: float | None) -> str:
    """A figure with four significant digits (``-`` for none).

    Examples
    --------
    >>> fmt(0.0123456), fmt(1234.5), fmt(None), fmt(2.5e-5)
    ('0.01235', '1234', '-', '2.500e-05')
    """
    if v is None:
        return "-"
    if v == 0 or 1e-3 <= abs(v) < 1e5:
        return f"{v:.4g}" if abs(v) < 1000 else f"{v:.0f}"
    return f"{v:.3e}"


def _cells(r: dict[str, Any]) -> tuple[str, ...]:
    if r["status"] != "ok":
        return (r["workload"], r["label"], "-", r["unit"], "-", "-", "-", "-", "",
                f"{r['status']}: {r['error']}" if r["error"] else r["status"])
    ratio = "limit" if r["role"] == "limit" else fmt(r["ratio"]) if r["ratio"] else ""
    # one round has no spread: "0%" would read as a perfectly steady figure
    spread = (f"{100 * r['spread']:.0f}%" if r["spread"] is not None and r["rounds"] != 1
              else "-")
    memory = f"{r['memory_bytes'] / 2**20:.1f} MiB" if r["memory_bytes"] is not None else ""
    return (r["workload"], r["label"], fmt(r["value"]), r["unit"], ratio,
            fmt(r["ratio_torch"]) if r["ratio_torch"] else "", spread, memory, r["check"],
            r["notes"])


def format_header(results: dict[str, Any]) -> str:
    """The lines above the table: when, where, which versions and which BLAS.

    Examples
    --------
    >>> env = dict(date="2026-01-01T00:00:00", processor="cpu", cores=2, python="3.11.9",
    ...            platform="Linux", numpy="2.0", wonderland="0.1.0", peers={}, missing={},
    ...            blas=[], seconds=1.0)
    >>> print(format_header(dict(environment=env, quick=True, rows=[])))
    wonderland bench  2026-01-01T00:00:00  --quick  (workloads: 1.0 s)
      machine: cpu, 2 cores; Linux; python 3.11.9
      numpy 2.0, wonderland 0.1.0; peers: none
      BLAS: unknown
    """
    env = results["environment"]
    mode = "--quick" if results["quick"] else "full sizes"
    took = env.get("seconds", 0)
    took = f"{took:.1f}" if took < 10 else f"{took:.0f}"  # a quick W1 is "0.4 s", not "0 s"
    lines = [f"wonderland bench  {env['date']}  {mode}  (workloads: {took} s)",
             f"  machine: {env['processor']}, {env['cores']} cores; {env['platform']}; "
             f"python {env['python']}"]
    peers = ", ".join(f"{k} {v}" for k, v in env["peers"].items()) or "none"
    if "torch_threads" in env:
        peers += f" (torch threads: {env['torch_threads']})"
    lines.append(f"  numpy {env['numpy']}, wonderland {env['wonderland']}; peers: {peers}")
    pools = [" ".join(str(p[k]) for k in ("internal_api", "version", "architecture") if p.get(k))
             + (f", {p['num_threads']} threads" if p.get("num_threads") else "")
             + f" ({p['library']})" for p in env["blas"]]
    lines.append("  BLAS: " + ("; ".join(pools) or "unknown"))
    for peer, why in env["missing"].items():
        lines.append(f"  {peer}: {why}")
    if results.get("interrupted"):  # the table may be read without the stderr line
        lines.append(f"  INTERRUPTED during {results['interrupted']}: only the workloads "
                     "that finished are below")
    return "\n".join(lines)


def _loads(rows: Any) -> dict[str, float]:
    loads: dict[str, float] = {}
    for r in rows:
        if isinstance(r.get("background_load_cores"), int | float):
            loads[r["workload"]] = r["background_load_cores"]
    return loads


def disturbed(rows: Any) -> list[str]:
    """The workloads of ``rows`` during which other processes used more than
    ``DISTURBED`` cores.

    Examples
    --------
    >>> disturbed([{"workload": "W1", "background_load_cores": 0.5},
    ...            {"workload": "W5", "background_load_cores": 0.1}])
    ['W1']
    """
    return [wid for wid, load in _loads(rows).items() if load > DISTURBED]


def format_table(results: dict[str, Any]) -> str:
    """The header, one line a row (a blank line between workloads), then what the
    columns mean, the footnotes, the targets and the load of other processes.

    Examples
    --------
    >>> from wonderland.bench.runner import new_row
    >>> env = dict(date="d", processor="cpu", cores=2, python="3", platform="p", numpy="2",
    ...            wonderland="0.1", peers={}, missing={}, blas=[])
    >>> row = new_row(workload="W1", label="limit", role="limit", unit="us/step", value=0.5,
    ...               spread=0.1, background_load_cores=0.5)
    >>> text = format_table(dict(environment=env, quick=True, rows=[row], targets=[],
    ...                          footnotes=[]))
    >>> print(text.splitlines()[-1])
    WARNING: other processes used more than 0.2 cores during W1: its numbers are disturbed.
    """
    rows = [_cells(r) for r in results["rows"]]
    widths = [max(len(str(x[i])) for x in [COLUMNS, *rows]) for i in range(len(COLUMNS) - 1)]

    def line(cells: tuple[str, ...]) -> str:
        text = "  ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, _ALIGN, widths))
        return (text + "  " + cells[-1]).rstrip()

    out = [format_header(results), "", line(COLUMNS), "-" * (sum(widths) + 2 * len(widths) + 5)]
    for k, cells in enumerate(rows):
        if k and cells[0] != rows[k - 1][0]:
            out.append("")
        out.append(line(cells))
    out += ["",
            "median over interleaved rounds; spread = (max - min) / median of the rounds "
            "(- for one round);",
            "x limit = median / the limit row's; x torch = wonderland's median / its PyTorch "
            "row's;",
            "memory = peak of traced allocations (tracemalloc) in one call, for the rows that "
            "compute with NumPy;",
            "jit rows: steady state (the first call, compile included, is in notes)"]
    out += results.get("footnotes", [])
    targets = results.get("targets", [])
    if targets:
        out.append("targets (reported, not asserted):")
        for t in targets:
            got = "not measured" if t["ratio"] is None else (
                f"{t['ratio']:.2f}  ({'met' if t['met'] else 'MISSED'})")
            out.append(f"  {t['text']}: {got}, target <= {t['at_most']}")
    loads = _loads(results["rows"])
    if loads:
        out.append("CPU used by other processes during each workload, in cores: "
                   + ", ".join(f"{k} {v:.2f}" for k, v in loads.items()))
        busy = disturbed(results["rows"])
        if busy:  # one line, however many workloads it names
            out.append(f"WARNING: other processes used more than {DISTURBED} cores during "
                       f"{', '.join(busy)}: "
                       f"{'its' if len(busy) == 1 else 'their'} numbers are disturbed.")
    elif not any(r["status"] == "ok" for r in results["rows"]):
        out.append("CPU used by other processes: not measured (no workload ran)")
    else:
        out.append("CPU used by other processes: unknown here (no /proc/stat)")
    return "\n".join(out)


def _plain(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def write_json(results: dict[str, Any], path: str | Path) -> None:
    """Write every figure of ``results`` (times of every round included) to ``path``.

    A plain file appears whole or not at all: it is written beside ``path`` under another
    name and renamed, so that an interrupted write (Ctrl-C, a full disk) leaves no
    truncated file, and an older run's file stays as it was. A link or a device
    (``/dev/stdout``) is written in place.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_json({"rows": [], "sizes": {"W1": {"x0": np.float64(2.0)}}}, tmp + "/r.json")
    ...     read_json(tmp + "/r.json")["sizes"]
    {'W1': {'x0': 2.0}}
    """
    def dump(fh: Any) -> None:
        json.dump(results, fh, indent=1, default=_plain)
        fh.write("\n")

    write_atomically(path, dump)


#: What every row needs for the chart: a file whose rows lack one is not a bench run
#: (or one from an older version of it), said so rather than failing on a missing key.
ROW_KEYS = ("workload", "label", "impl", "role", "status", "ratio")


def check_results(results: Any, name: str = "the file") -> dict[str, Any]:
    """``results`` if it has the shape ``write_json`` writes; else ``ValueError`` saying
    what is wrong, in one line.

    Examples
    --------
    >>> rows = [{"workload": "W1", "label": "x", "ratio": 2.0}]  # an older version's row
    >>> check_results({"rows": rows}, "'old.json'")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: 'old.json' is not ...: its row 1 lacks 'impl', 'role', 'status' (an older ...)
    >>> check_results({"rows": [], "environment": []}, "'x.json'")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: 'x.json' is not ...: its environment is a list, not an object
    """
    what = f"{name} is not the JSON of `wonderland bench --json`"
    if not isinstance(results, dict) or not isinstance(results.get("rows"), list):
        raise ValueError(f"{what}: it has no list of rows")
    for key in ("environment", "sizes"):
        if not isinstance(results.get(key, {}), dict):
            raise ValueError(f"{what}: its {key} is {_a(results[key])}, not an object")
    for key in ("targets", "footnotes"):
        if not isinstance(results.get(key, []), list):
            raise ValueError(f"{what}: its {key} is {_a(results[key])}, not a list")
    for k, row in enumerate(results["rows"], 1):
        if not isinstance(row, dict):
            raise ValueError(f"{what}: its row {k} is {_a(row)}, not an object")
        lacks = [key for key in ROW_KEYS if key not in row]
        if lacks:
            raise ValueError(f"{what}: its row {k} lacks {', '.join(map(repr, lacks))} "
                             f"(an older version of it wrote the file?)")
        ratio = row["ratio"]
        if ratio is not None and (isinstance(ratio, bool) or not isinstance(ratio, int | float)):
            raise ValueError(f"{what}: the ratio of its row {k} is {ratio!r}, not a number")
    return results


def _a(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             type(None): "null"}
    return names.get(type(value), "a number")


def read_json(path: str | Path) -> dict[str, Any]:
    """The results a ``--json`` run wrote; ``ValueError`` saying why a file is not one.

    Examples
    --------
    >>> read_json("/no/such/file.json")
    Traceback (most recent call last):
    ...
    ValueError: cannot read '/no/such/file.json': No such file or directory
    """
    try:
        with open(path) as fh:
            results = json.load(fh)
    except OSError as exc:
        raise ValueError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        # a file cut short ends inside a string or before its closing brackets
        short = exc.pos >= len(exc.doc.rstrip()) or exc.msg.startswith("Unterminated")
        cut = " (cut short?)" if short else ""
        raise ValueError(f"{str(path)!r} is not JSON{cut}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{str(path)!r} is not JSON: {exc}") from None
    return check_results(results, repr(str(path)))


def plot_ratios(results: dict[str, Any], path: str | Path) -> int:
    """Draw every row's ratio to its limit as a horizontal bar (log scale, the limit as
    a line at 1), grouped by workload and coloured by implementation; save to ``path``.
    Returns the number of bars.

    Examples
    --------
    >>> plot_ratios(read_json("bench.json"), "bench.png")  # doctest: +SKIP
    21
    """
    fig = ratio_figure(results)
    fig.savefig(path, dpi=110)
    return len(fig.axes[0].patches)


def ratio_figure(results: dict[str, Any]) -> Figure:
    """The chart of :func:`plot_ratios` as a matplotlib Figure (not saved); its legend
    names only the implementations that have a bar.

    Examples
    --------
    >>> rows = [{"workload": "W1", "label": "numpy", "impl": "numpy", "role": "limit",
    ...          "status": "ok", "ratio": None},
    ...         {"workload": "W1", "label": "wonderland", "impl": "wonderland",
    ...          "role": "", "status": "ok", "ratio": 3.0}]
    >>> fig = ratio_figure({"rows": rows})
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['wonderland', 'the limit (= 1)']
    """
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state
    from matplotlib.patches import Patch

    bars, labels, colors, groups, drawn = [], [], [], [], []
    for r in results["rows"]:
        ratio = r.get("ratio")
        if r.get("role") == "limit" or r.get("status") != "ok":
            continue
        if ratio and ratio > 0 and math.isfinite(ratio):
            bars.append(ratio)
            labels.append(f"{r['workload']} {r['label']}")
            colors.append(_COLORS.get(r["impl"], _OTHER))
            groups.append(r["workload"])
            drawn.append(r["impl"])
    if not bars:
        cut = results.get("interrupted")
        raise ValueError(f"the run was interrupted during {cut} before any workload finished"
                         if cut and not results["rows"] else
                         "no row has a ratio to its limit: nothing to plot")
    ys = np.arange(len(bars))[::-1]
    fig = Figure(figsize=(10, 1.2 + 0.28 * len(bars)), layout="constrained")
    ax = fig.add_subplot()
    ax.barh(ys, bars, color=colors, height=0.7)
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=1.2, linestyle="--")
    ax.set_yticks(ys, labels, fontsize=8)
    ax.set_ylim(-0.7, len(bars) - 0.3)
    lo, hi = min(bars), max(bars)
    ax.set_xlim(min(lo, 1.0) / 2.5, max(hi, 1.0) * 4)
    for y, v in zip(ys, bars):
        ax.text(v * 1.08, y, f"{v:.0f}x" if v >= 100 else f"{v:.3g}x", va="center", fontsize=7,
                bbox=dict(facecolor="white", edgecolor="none", pad=0.4, alpha=0.8))
    for k in range(1, len(groups)):  # a faint line between workloads
        if groups[k] != groups[k - 1]:
            ax.axhline(ys[k] + 0.5, color="#cccccc", linewidth=0.8)
    special = {"W4": "W4: v&g/fwd over the limit's", "W8": "W8: over scikit-learn's"}
    notes = "; ".join(text for wid, text in special.items() if wid in groups)
    ax.set_xlabel("time / the limit's time, log scale, lower is faster"
                  + (f" ({notes})" if notes else ""))
    ax.set_ylabel("workload and implementation")
    env = results.get("environment", {})
    title = ("wonderland bench: each implementation against the hand-written limit\n"
             f"{env.get('date', '')}, {env.get('cores', '?')} cores, "
             f"{'--quick' if results.get('quick') else 'full sizes'}")
    busy = disturbed(r for r in results["rows"] if r.get("workload") in groups)
    if busy:  # the table warns of it; a chart passed on alone must too
        title += (f"\nDISTURBED: other processes used more than {DISTURBED} cores during "
                  f"{', '.join(busy)}")
    if results.get("interrupted"):
        title += f"\nINTERRUPTED during {results['interrupted']}: the finished workloads only"
    ax.set_title(title, fontsize=10, color="black")
    # one entry per colour that has a bar: the limit rows (numpy) are the line at 1, not
    # bars, and implementations without a colour of their own share one entry
    names: dict[str, list[str]] = {}
    for impl in [k for k in _COLORS if k in drawn] + sorted(set(drawn) - set(_COLORS)):
        names.setdefault(_COLORS.get(impl, _OTHER), []).append(impl)
    handles = [Patch(color=color, label=", ".join(impls)) for color, impls in names.items()]
    handles.append(ax.lines[0])
    handles[-1].set_label("the limit (= 1)")
    # outside the axes, right of them: inside, a long bar or its label may lie under it
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              borderaxespad=0.0, fontsize=8)
    ax.grid(axis="x", which="both", color="#eeeeee", linewidth=0.6)
    ax.set_axisbelow(True)
    return fig


__all__ = ["COLUMNS", "ROW_KEYS", "check_results", "disturbed", "fmt", "format_header",
           "format_table", "plot_ratios", "ratio_figure", "read_json", "write_json"]
