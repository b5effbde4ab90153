"""What a section of the tour is made of: prose, figures, tables and numbers.

A section function (see :mod:`wonderland.tour.sections`) receives a :class:`Context` and
fills a :class:`Section`: paragraphs in the text's terms, matplotlib figures, tables, the
error messages it shows, and every number it quotes (``section.number(...)``), which the
report writes to ``summary.json``. The report (:mod:`wonderland.tour.report`) turns the
sections into HTML; nothing here knows about HTML.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Context", "Section", "FigureSpec", "Table", "Number", "SectionSpec", "jsonable",
           "fmt"]


def jsonable(value: Any) -> Any:
    """``value`` with NumPy scalars and arrays, tuples and non-finite floats made JSON-safe
    (NaN and infinities become ``None``).

    Examples
    --------
    >>> import numpy as np
    >>> jsonable({"a": np.float64(1.5), "b": (np.int64(2), float("nan")), "c": np.eye(2)})
    {'a': 1.5, 'b': [2, None], 'c': [[1.0, 0.0], [0.0, 1.0]]}
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    return str(value)


def fmt(value: Any, spec: str = "") -> str:
    """A value as the report shows it: ``spec`` for numbers (default: ``.4g`` for floats),
    tuples as shapes, lists joined by commas.

    Examples
    --------
    >>> fmt(0.123456), fmt(3), fmt((4, 4)), fmt(-0.50495, ".4f"), fmt([1.0, 2.5])
    ('0.1235', '3', '(4, 4)', '-0.5050', '1, 2.5')
    >>> fmt(0.0, ".1e"), fmt(3e-5, ".1e")
    ('0', '3.0e-05')
    """
    if isinstance(value, tuple):
        return str(tuple(int(v) if isinstance(v, (int, np.integer)) else v for v in value))
    if isinstance(value, (list, np.ndarray)):
        return ", ".join(fmt(v, spec) for v in value)
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return format(int(value), spec)
    if isinstance(value, (float, np.floating)):
        if value == 0 and spec.endswith(("e", "E")):
            return "0"  # an exact zero (two modes agreeing to the bit), not "0.0e+00"
        return format(float(value), spec or ".4g")
    return str(value)


@dataclass
class Number:
    """One number the report quotes: its key in ``summary.json``, a label, the value and
    how it is formatted."""

    key: str
    label: str
    value: Any
    spec: str = ""

    @property
    def text(self) -> str:
        """The value as shown."""
        return fmt(self.value, self.spec)


@dataclass
class FigureSpec:
    """A figure of a section: ``name`` (the PNG's file name without ``.png``), a caption,
    and the matplotlib Figure itself."""

    name: str
    caption: str
    figure: Any
    alt: str = ""
    optional: bool = False


@dataclass
class Table:
    """A table: a title, column headers and rows of values (formatted with ``specs``, one
    format spec per column, ``""`` for the default)."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    specs: list[str] = field(default_factory=list)
    note: str = ""

    def cell(self, j: int, value: Any) -> str:
        """The text of a cell of column ``j``."""
        spec = self.specs[j] if j < len(self.specs) else ""
        return fmt(value, spec)


@dataclass
class Section:
    """A part of the text, as the tour shows it.

    Examples
    --------
    >>> s = Section("demo", 1, "Demo")
    >>> s.number("answer", "the answer", 42)
    42
    >>> s.numbers()
    {'answer': 42}
    """

    key: str
    index: int
    title: str
    paragraphs: list[str] = field(default_factory=list)
    figures: list[FigureSpec] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    facts: list[Number] = field(default_factory=list)
    messages: list[tuple[str, str]] = field(default_factory=list)
    highlight: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    blocks: list[tuple[str, Any]] = field(default_factory=list)

    def say(self, *paragraphs: str) -> None:
        """Add paragraphs of prose (``code`` in backticks, *emphasis* in asterisks)."""
        self.paragraphs.extend(paragraphs)
        self.blocks.extend(("p", text) for text in paragraphs)

    def number(self, key: str, label: str, value: Any, spec: str = "",
               highlight: bool | str = False) -> Any:
        """Record a number the report shows (and ``summary.json`` keeps); returns it.

        ``highlight`` puts it in the terminal's summary table too, under ``label`` or
        under the shorter label given."""
        self.facts.append(Number(key, label, value, spec))
        if highlight:
            name = highlight if isinstance(highlight, str) else label
            self.highlight.append(f"{name}: {fmt(value, spec)}")
        return value

    def figure(self, name: str, caption: str, figure: Any, alt: str = "",
               optional: bool = False) -> None:
        """Add a matplotlib figure, saved as ``name.png``; an ``optional`` one is left out
        of a quick run."""
        spec = FigureSpec(name, caption, figure, alt or caption, optional)
        self.figures.append(spec)
        self.blocks.append(("figure", spec))

    def table(self, key: str, title: str, columns: list[str], rows: list[list[Any]],
              specs: list[str] | None = None, note: str = "") -> Table:
        """Add a table (its values go to ``summary.json`` under ``key``)."""
        t = Table(key, title, columns, rows, list(specs or []), note)
        self.tables.append(t)
        self.blocks.append(("table", t))
        return t

    def message(self, label: str, text: str) -> None:
        """Show a message verbatim (an error wonderland raises, a warning)."""
        self.messages.append((label, text))
        self.blocks.append(("message", (label, text)))

    def program(self, label: str, text: str) -> None:
        """Show a program verbatim (the source ``wl.compile`` generates)."""
        self.blocks.append(("program", (label, text)))

    def drop_optional_figures(self) -> None:
        """Leave out the optional figures (a quick run)."""
        self.figures = [f for f in self.figures if not f.optional]
        self.blocks = [b for b in self.blocks if b[0] != "figure" or not b[1].optional]

    def numbers(self) -> dict[str, Any]:
        """Every number recorded, by key (JSON-safe)."""
        return {n.key: jsonable(n.value) for n in self.facts}

    def summary(self) -> dict[str, Any]:
        """The section as ``summary.json`` holds it."""
        return {
            "key": self.key, "index": self.index, "title": self.title,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "numbers": self.numbers(),
            "tables": {t.key: {"title": t.title, "columns": t.columns,
                               "rows": jsonable(t.rows)} for t in self.tables},
            "messages": {label: text for label, text in self.messages},
            "figures": [f"{f.name}.png" for f in self.figures],
        }


@dataclass
class Context:
    """What a section function gets: the mode, a seed, and ``tick`` to advance its
    progress bar by one step.

    Examples
    --------
    >>> ctx = Context(quick=True)
    >>> ctx.pick(full=100, quick=10)
    10
    """

    quick: bool = False
    seed: int = 0
    tick: Callable[[str], None] = lambda label="": None

    @property
    def full(self) -> bool:
        """Whether this is a full run (not ``--quick``)."""
        return not self.quick

    def pick(self, full: Any, quick: Any) -> Any:
        """``quick`` in ``--quick`` mode, else ``full``."""
        return quick if self.quick else full

    def rng(self, offset: int = 0) -> np.random.Generator:
        """A NumPy generator seeded from the tour's seed (``offset`` tells uses apart)."""
        return np.random.default_rng(self.seed + offset)


@dataclass(frozen=True)
class SectionSpec:
    """A registered section: its key (the HTML anchor), its title, how many progress
    steps it reports, and the function that builds it."""

    key: str
    title: str
    steps: int
    build: Callable[[Context, Section], None]
