"""The tour's outputs: one self-contained HTML page, the PNGs, ``summary.json``, and the
summary table printed on the terminal.

The page embeds every figure as a ``data:image/png;base64`` URI and its style sheet
inline, and links only to its own anchors: it can be mailed, moved or opened offline.
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import os
import re
import textwrap
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .base import Section, jsonable

__all__ = ["render_html", "summary", "terminal_table", "inline", "minus_signs"]

STYLE = """
:root { --ink: #1d1d1f; --muted: #5f6368; --rule: #e3e3e3; --accent: #b8860b;
        --code: #f5f2ea; }
* { box-sizing: border-box; }
body { font: 16px/1.55 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; color: var(--ink); margin: 0; background: #fafafa; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 32px 64px; background: white;
       box-shadow: 0 0 12px rgba(0, 0, 0, .06); }
h1 { font-size: 1.9em; margin: .3em 0 .1em; }
h2 { font-size: 1.45em; margin: 2.2em 0 .5em; padding-top: .6em;
     border-top: 3px solid var(--accent); }
h3 { font-size: 1.05em; margin: 1.4em 0 .4em; color: var(--muted); }
p { margin: .6em 0; max-width: 62em; }
.lede { color: var(--muted); margin-top: 0; }
code { background: var(--code); padding: 0 .25em; border-radius: 3px; font-size: .92em; }
pre { background: #fff4f4; border-left: 4px solid #d62728; padding: .7em 1em;
      white-space: pre-wrap; word-break: break-word; font-size: .85em; }
pre.failure { background: #ffecec; }
pre.program { background: #f4f7fb; border-left-color: #1f77b4; }
nav { background: #f6f3ea; border: 1px solid var(--rule); border-radius: 6px;
      padding: .6em 1.4em; margin: 1.2em 0; }
nav ol { margin: .3em 0; padding-left: 1.4em; columns: 2; }
nav a { color: var(--ink); text-decoration: none; }
nav a:hover { text-decoration: underline; }
figure { margin: 1.2em 0; text-align: center; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { font-size: .88em; color: var(--muted); margin: .3em auto 0; max-width: 52em; }
table { border-collapse: collapse; margin: .6em 0 1em; font-size: .88em; }
caption { text-align: left; font-weight: 600; padding-bottom: .3em; }
th, td { border-bottom: 1px solid var(--rule); padding: .25em .7em; text-align: left;
         vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.facts td:first-child { min-width: 22em; }
.note { font-size: .85em; color: var(--muted); }
sub, sup { line-height: 0; font-size: .75em; }
.meta { font-size: .85em; color: var(--muted); }
footer { margin-top: 3em; font-size: .85em; color: var(--muted); }
"""

_CODE = re.compile(r"`([^`]+)`")
_EM = re.compile(r"(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])")
# a one-letter symbol with an index or a power: x_t, x_{t−1}, R^d, e^(−m), e^{−m}
# (never inside a word: tol_x and shift_report stay as they are)
_SUB = re.compile(r"(?<![\w.])([A-Za-z])_(?:\{([^{}]+)\}|([A-Za-z0-9])(?!\w))")
_SUP = re.compile(r"(?<![\w.])([A-Za-z])\^(?:\{([^{}]+)\}|\(([^()]+)\)|([A-Za-z0-9])(?!\w))")


# a hyphen that is a minus sign: before a digit, not inside a word or a number (1e-8, 5-shot
# and --quick keep theirs)
_HYPHEN_MINUS = re.compile(r"(?<![\w.\-])-(?=\.?\d)")


def minus_signs(text: str) -> str:
    """Negative numbers with the minus sign (U+2212) the prose uses, not a hyphen.

    Examples
    --------
    >>> minus_signs("f(0.51) = -0.5049, w = (-2.7, 3.9), h = 1e-8, 5-shot, --quick")
    'f(0.51) = −0.5049, w = (−2.7, 3.9), h = 1e-8, 5-shot, --quick'
    """
    return _HYPHEN_MINUS.sub("\u2212", text)


def _scripts(text: str) -> str:
    """Indices and powers of one-letter symbols as ``<sub>`` and ``<sup>``.

    Examples
    --------
    >>> _scripts("x_t = x_{t−1} − η f'(x_{t−1}) on tol_x")
    "x<sub>t</sub> = x<sub>t−1</sub> − η f'(x<sub>t−1</sub>) on tol_x"
    >>> _scripts("from R^d to R^o, 1/(1 + e^(−s))")
    'from R<sup>d</sup> to R<sup>o</sup>, 1/(1 + e<sup>−s</sup>)'
    """
    text = _SUB.sub(lambda m: f"{m[1]}<sub>{m[2] or m[3]}</sub>", text)
    return _SUP.sub(lambda m: f"{m[1]}<sup>{m[2] or m[3] or m[4]}</sup>", text)


def inline(text: str) -> str:
    """Prose to HTML: escaped, with ``code`` in backticks, *emphasis* in asterisks, and
    the indices and powers of one-letter symbols (``x_{t−1}``, ``R^d``) set as such.

    Examples
    --------
    >>> inline("use `a < b` and *not* x*y")
    'use <code>a &lt; b</code> and <em>not</em> x*y'
    >>> inline("g_t = `g_t` + 1")
    'g<sub>t</sub> = <code>g_t</code> + 1'
    """
    parts = _CODE.split(text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f"<code>{html.escape(part, quote=False)}</code>")
        else:
            out.append(_scripts(_EM.sub(r"<em>\1</em>",
                                        minus_signs(html.escape(part, quote=False)))))
    return "".join(out)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) or \
        type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0


def _table_html(table: Any) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = []
    for row in table.rows:
        cells = "".join(
            f"<td class=\"num\">{minus_signs(html.escape(table.cell(j, v)))}</td>"
            if _is_number(v)
            else f"<td>{html.escape(table.cell(j, v))}</td>" for j, v in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    note = f"<p class=\"note\">{inline(table.note)}</p>" if table.note else ""
    return (f"<table><caption>{inline(table.title)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>{note}")


def _facts_html(section: Section) -> str:
    if not section.facts:
        return ""
    rows = "".join(f"<tr><td>{inline(n.label)}</td><td class=\"num\">"
                   f"{minus_signs(html.escape(n.text))}</td></tr>" for n in section.facts)
    return (f"<table class=\"facts\"><caption>The numbers</caption><thead><tr><th>quantity"
            f"</th><th>value</th></tr></thead><tbody>{rows}</tbody></table>")


def _section_html(section: Section, images: dict[str, bytes]) -> str:
    parts = [f"<section id=\"{section.key}\">",
             f"<h2>{section.index}. {html.escape(section.title)}</h2>"]
    if section.error:
        parts.append(f"<pre class=\"failure\">This part failed: {html.escape(section.error)}"
                     "</pre>")
    for kind, item in section.blocks:
        if kind == "p":
            parts.append(f"<p>{inline(item)}</p>")
        elif kind == "figure":
            parts.append(_figure_html(item, images))
        elif kind == "table":
            parts.append(_table_html(item))
        elif kind == "message":
            label, text = item
            parts.append(f"<h3>{inline(label)}</h3><pre>{html.escape(text)}</pre>")
        elif kind == "program":
            label, text = item
            parts.append(f"<h3>{inline(label)}</h3><pre class=\"program\">"
                         f"{html.escape(text)}</pre>")
    parts.append(_facts_html(section))
    parts.append(f"<p class=\"meta\">Computed in {section.seconds:.1f} s.</p></section>")
    return "\n".join(parts)


def _figure_html(fig: Any, images: dict[str, bytes]) -> str:
    data = base64.b64encode(images[fig.name]).decode("ascii")
    return (f"<figure><img src=\"data:image/png;base64,{data}\" alt=\"{html.escape(fig.alt)}\">"
            f"<figcaption>{inline(fig.caption)} <span class=\"note\">({fig.name}.png)</span>"
            f"</figcaption></figure>")


def render_html(sections: Sequence[Section], images: dict[str, bytes], *, quick: bool,
                seconds: float, version: str) -> str:
    """The report: a title, a table of contents and one ``<section>`` per part, in order.

    Examples
    --------
    >>> from wonderland.tour.base import Section
    >>> s = Section("demo", 1, "Demo")
    >>> s.say("Some `code`.")
    >>> page = render_html([s], {}, quick=True, seconds=1.0, version="0")
    >>> '<section id="demo">' in page and 'href="#demo"' in page
    True
    """
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    toc = "".join(f"<li><a href=\"#{s.key}\">{html.escape(s.title)}</a></li>"
                  for s in sections)
    mode = ("quick run (--quick: fewer starts, draws, iterations and figures)" if quick
            else "full run")
    body = "\n".join(_section_html(s, images) for s in sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wonderland tour: the differentiable wonderland, run</title>
<style>{STYLE}</style>
</head>
<body>
<main>
<h1>A tour of the differentiable wonderland</h1>
<p class="lede">Every idea of <em>Alice's Adventures in a Differentiable Wonderland</em>,
from tensors to fine-tuning, computed by wonderland on data that ships with scikit-learn
(nothing downloaded). Where the text gives a number, the tour recomputes it.</p>
<p class="meta">wonderland {html.escape(version)} · {mode} · {seconds:.1f} s · {when} ·
every number below is also in <code>summary.json</code>, every figure in its own PNG.</p>
<nav><strong>Contents</strong><ol>{toc}</ol></nav>
{body}
<footer>Made by <code>wonderland tour</code>. Run it again with <code>wonderland tour --out
DIR</code>; the notebooks in <code>examples/</code> walk through the same parts
step by step.</footer>
</main>
</body>
</html>
"""


def summary(sections: Sequence[Section], *, quick: bool, seconds: float,
            version: str) -> dict[str, Any]:
    """Everything the report shows, as ``summary.json`` holds it.

    Examples
    --------
    >>> from wonderland.tour.base import Section
    >>> s = Section("demo", 1, "Demo")
    >>> _ = s.number("x", "x", 1.5)
    >>> summary([s], quick=True, seconds=2.0, version="0")["sections"]["demo"]["numbers"]
    {'x': 1.5}
    """
    return jsonable({
        "wonderland_version": version, "quick": quick, "seconds": round(seconds, 2),
        "order": [s.key for s in sections],
        "sections": {s.key: s.summary() for s in sections},
    })


def terminal_table(sections: Sequence[Section], width: int = 100) -> str:
    """The summary printed on the terminal: one block per part, its key numbers.

    Examples
    --------
    >>> from wonderland.tour.base import Section
    >>> s = Section("demo", 1, "Demo")
    >>> _ = s.number("x", "the answer", 42, highlight=True)
    >>> print(terminal_table([s], width=40))
    part     seconds  result
    -------  -------  ----------------------
    1. Demo      0.0  the answer: 42
    >>> _ = s.number("w", "w", [-2.7443, 3.9112, 0.3297, 1.1668], ".4f", highlight=True)
    >>> print(terminal_table([s], width=40).splitlines()[-2:])
    ['                  w: -2.7443, 3.9112,', '                    0.3297, 1.1668']
    """
    names = [f"{s.index}. {s.title}" for s in sections]
    left = max([len("part"), *(len(n) for n in names)])
    rest = max(20, width - left - 11)
    lines = [f"{'part':<{left}}  seconds  result", f"{'-' * left}  -------  {'-' * rest}"]
    for name, s in zip(names, sections):
        results = s.highlight or ([f"FAILED: {s.error}"] if s.error else ["(no numbers)"])
        if s.error and s.highlight:
            results = [*results, f"FAILED: {s.error}"]
        # a long result continues on the next line: cut short, "3.911…" would pass for a
        # number
        lines_of = [textwrap.wrap(text, rest, subsequent_indent="  ", break_long_words=False,
                                  break_on_hyphens=False) or [""] for text in results]
        for k, text in enumerate(line for wrapped in lines_of for line in wrapped):
            first = k == 0
            lines.append(f"{name if first else '':<{left}}  "
                         f"{f'{s.seconds:7.1f}' if first else ' ' * 7}  {text}")
    return "\n".join(lines)


def _previous_pngs(out: Path) -> set[str]:
    """The PNG names that the ``summary.json`` of an earlier tour in ``out`` lists (none
    when there is no such file or it is not a tour's)."""
    try:
        previous = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        names = {name for s in previous["sections"].values() for name in s["figures"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return set()
    # only plain PNG names in this folder: never a path that leads elsewhere
    return {n for n in names if isinstance(n, str) and n.endswith(".png")
            and Path(n).name == n and not n.startswith(".")}


def write_outputs(out: Path, sections: Sequence[Section], images: dict[str, bytes], *,
                  quick: bool, seconds: float, version: str) -> Path:
    """Write the PNGs, ``summary.json`` and ``report.html`` into ``out``; returns the
    report's path.

    Every file is first written in full under a hidden temporary name and only then
    renamed into place, ``report.html`` last: a run interrupted (Ctrl-C, a full disk)
    while writing leaves the previous report, or none, never a truncated page that passes
    for a complete one, and no temporary file behind.

    The PNGs an earlier tour wrote into ``out`` (its ``summary.json`` lists them) that
    this run does not write are removed: a quick run into the folder of a full one must
    not leave figures beside the report that it does not show. No other file is touched.

    Examples
    --------
    >>> import tempfile
    >>> from wonderland.tour.base import Section
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_outputs(Path(tmp), [Section("demo", 1, "Demo")], {}, quick=True,
    ...                          seconds=1.0, version="0")
    ...     sorted(p.name for p in Path(tmp).iterdir())
    ['report.html', 'summary.json']
    """
    out.mkdir(parents=True, exist_ok=True)
    files: list[tuple[str, bytes]] = [(f"{name}.png", data) for name, data in images.items()]
    files.append(("summary.json", (json.dumps(
        summary(sections, quick=quick, seconds=seconds, version=version), indent=2,
        ensure_ascii=False) + "\n").encode("utf-8")))
    files.append(("report.html", render_html(sections, images, quick=quick, seconds=seconds,
                                             version=version).encode("utf-8")))
    staged: list[tuple[Path, Path]] = []
    token = uuid.uuid4().hex[:12]  # two tours writing into one folder: names of their own
    try:
        for name, data in files:
            temporary = out / f".{name}.{token}.partial"
            staged.append((temporary, out / name))
            temporary.write_bytes(data)
        for stale in _previous_pngs(out) - {name for name, _ in files}:
            with contextlib.suppress(OSError):
                (out / stale).unlink()
        for temporary, final in staged:  # report.html last: it appears only when complete
            os.replace(temporary, final)
    finally:
        for temporary, _ in staged:  # left only when writing failed or was interrupted
            with contextlib.suppress(OSError):
                temporary.unlink()
    return out / "report.html"
