"""Follow-ups to a learner's read of ``wonderland tour``: the figures, the report's text,
the terminal table, and what an interrupted or failed write leaves behind.

One quick tour runs for the whole module (``run_tour`` in this process, no workers), with
every figure kept, the optional ones a quick run leaves out included, so that each can be
inspected as a matplotlib Figure. The other tests need no run. No timing assertions.
"""

from __future__ import annotations

import base64
import contextlib
import html.parser
import io
import os
import re
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.spines import Spine
from matplotlib.text import Text

import wonderland.tour as tour_package
from wonderland.tour import report as report_module
from wonderland.tour.base import Section, fmt
from wonderland.tour.report import terminal_table, write_outputs

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Page(html.parser.HTMLParser):
    """The report's visible text (outside ``<pre>``, ``<code>`` and ``<style>``), its
    image sources, links and ids."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"] or "")
        if tag == "img":
            self.images.append(attributes.get("src") or "")
        elif attributes.get("href") is not None:
            self.links.append(attributes["href"] or "")
        if tag in ("pre", "code", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("pre", "code", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


@pytest.fixture(scope="module")
def tour(tmp_path_factory, monkeypatch_module):
    out = tmp_path_factory.mktemp("followups") / "tour"
    figures: list[tuple[str, object]] = []
    drop = Section.drop_optional_figures

    def keep_every_figure(self: Section) -> None:
        figures.extend((spec.name, spec.figure) for spec in self.figures)
        drop(self)

    monkeypatch_module.setattr(Section, "drop_optional_figures", keep_every_figure)
    err = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(err):
        warnings.simplefilter("always")
        result = tour_package.run_tour(out, quick=True, progress=False, workers=0)
    # drawn once here (at the quick run's resolution): layout and text extents are final
    renderers = {name: _draw(fig) for name, fig in figures}
    html_text = result.report.read_text(encoding="utf-8")
    page = _Page()
    page.feed(html_text)
    return SimpleNamespace(out=out, result=result, figures=figures, renderers=renderers,
                           html=html_text,
                           page=page, stderr=err.getvalue(), warnings=caught)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def _draw(fig):
    FigureCanvasAgg(fig)
    fig.set_dpi(72)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def _data_axes(fig):
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


# ----------------------------------------------------------------------- the figures


def test_every_figure_has_labelled_axes_and_a_title(tour):
    assert len(tour.figures) >= 15  # the optional figures are there too
    missing = []
    for name, fig in tour.figures:
        suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
        for ax in _data_axes(fig):
            ticks_x = any(t.get_visible() and t.get_text() for t in ax.get_xticklabels())
            ticks_y = any(t.get_visible() and t.get_text() for t in ax.get_yticklabels())
            where = f"{name}: axes {ax.get_title()!r}"
            if ticks_x and not ax.get_xlabel():
                missing.append(f"{where} has no x label")
            if ticks_y and not ax.get_ylabel():
                missing.append(f"{where} has no y label")
            if not ax.get_title() and not suptitle:
                missing.append(f"{where} has no title")
    assert not missing, "\n".join(missing)


def test_every_axes_with_several_series_has_a_legend(tour):
    missing = []
    for name, fig in tour.figures:
        for ax in _data_axes(fig):
            labelled = [a for a in ax.get_children()
                        if not isinstance(a, (Text, Axis, Spine))
                        and isinstance(a.get_label(), str) and a.get_label()
                        and not a.get_label().startswith("_") and a.get_visible()]
            if len(labelled) > 1 and ax.get_legend() is None and not fig.legends:
                missing.append(f"{name}: {ax.get_title()!r}")
    assert not missing, missing


def test_no_figure_text_is_cut_off_at_the_edge(tour):
    cut = []
    for name, fig in tour.figures:
        renderer = tour.renderers[name]
        # tick labels beyond the view limits exist but are never drawn: leave them out
        ticks = {id(t) for ax in fig.axes
                 for t in ax.get_xticklabels(which="both") + ax.get_yticklabels(which="both")}
        width, height = fig.bbox.width, fig.bbox.height
        for text in fig.findobj(Text):
            if id(text) in ticks or not text.get_visible() or not text.get_text():
                continue
            box = text.get_window_extent(renderer)
            if box.x0 < -1 or box.y0 < -1 or box.x1 > width + 1 or box.y1 > height + 1:
                cut.append(f"{name}: {text.get_text()!r}")
    assert not cut, cut


# ----------------------------------------------------------------------- the report


def test_the_run_is_quiet(tour):
    assert tour.stderr == ""
    assert not [str(w.message) for w in tour.warnings]


def test_the_report_says_no_nan_and_shows_no_python_repr(tour):
    text = " ".join(tour.page.text)
    for word in (r"\bnan\b", r"\bNone\b", r"\binf\b", r"np\.float", r"array\(", r"<function",
                 r"object at 0x"):
        assert not re.search(word, text, flags=re.I if word == r"\bnan\b" else 0), word


def test_the_report_refers_only_to_what_exists(tour):
    for src in tour.page.images:
        assert src.startswith("data:image/png;base64,"), src[:40]
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG_MAGIC
    for link in tour.page.links:
        assert link.startswith("#") and link[1:] in tour.page.ids, link
    named = re.findall(r"\(([\w.-]+\.png)\)", tour.html)
    assert len(named) == len(tour.page.images)
    for name in named:
        assert (tour.out / name).read_bytes()[:8] == PNG_MAGIC, name
    assert not list(tour.out.glob(".*"))  # no temporary file left behind


def test_the_report_writes_negative_numbers_with_a_minus_sign(tour):
    assert "−0.5049" in tour.html and "−0.5050" in tour.html  # the text's f(0.51) and model
    cells = re.findall(r'<td class="num">([^<]*)</td>', tour.html)
    assert cells and not [c for c in cells if re.search(r"(?<![\w.])-\d", c)]
    assert "1e-8" in tour.html or "1e-08" in tour.html  # exponents keep their hyphen


def test_an_exact_zero_reads_zero(tour):
    assert fmt(0.0, ".1e") == "0" and fmt(-0.0, ".1e") == "0"
    assert fmt(2.5e-10, ".1e") == "2.5e-10"
    assert "0.0e+00" not in tour.html


def test_the_terminal_table_never_cuts_a_number(tour):
    table = terminal_table(tour.result.sections)
    assert "…" not in table
    for section in tour.result.sections:
        for line in section.highlight:
            value = line.rsplit(": ", 1)[1]
            assert " ".join(value.split()) in " ".join(table.split()), line
    assert "5-shot accuracy, raw pixels" in table  # says what the percentage is


# ----------------------------------------------------------------------- writing


def _demo_sections() -> list[Section]:
    section = Section("demo", 1, "Demo")
    section.say("Some `code`.")
    return [section]


def test_an_interrupted_write_leaves_the_previous_report(tmp_path, monkeypatch):
    write_outputs(tmp_path, _demo_sections(), {"fig": PNG_MAGIC}, quick=True, seconds=1.0,
                  version="previous")
    before = (tmp_path / "report.html").read_text(encoding="utf-8")
    replace = os.replace

    def interrupted(source, target):
        if Path(target).name == "report.html":
            raise KeyboardInterrupt  # Ctrl-C just before the new page would appear
        replace(source, target)

    monkeypatch.setattr(report_module.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_outputs(tmp_path, _demo_sections(), {"fig": PNG_MAGIC}, quick=True,
                      seconds=2.0, version="next")
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == before
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_write_that_fails_part_way_leaves_no_partial_file(tmp_path, monkeypatch):
    write_bytes = Path.write_bytes

    def disk_full(self, data):
        if self.name.startswith(".report.html.") and self.name.endswith(".partial"):
            write_bytes(self, data[: len(data) // 2])
            raise OSError(28, "No space left on device")
        return write_bytes(self, data)

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    with pytest.raises(OSError):
        write_outputs(tmp_path, _demo_sections(), {}, quick=True, seconds=1.0, version="0")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_folder_lost_during_the_run_is_one_line_and_status_2(tmp_path, monkeypatch):
    from wonderland.cli.main import main

    def lost(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "report.html"))

    monkeypatch.setattr(tour_package, "run_tour", lost)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["tour", "--quick", "--no-progress", "--out", str(tmp_path)])
    assert status == 2
    assert re.fullmatch(r"wonderland tour: error: argument --out: cannot write into .*"
                        r"Permission denied\n", err.getvalue())
    assert out.getvalue() == ""
