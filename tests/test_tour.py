"""``wonderland tour``: the whole text as one report (API.md §8).

One quick run (``--quick``) is shared by the tests below: the report's sections, its
embedded figures and references, the PNGs and ``summary.json``, and the numbers the text
gives. The command goes through ``wonderland.cli.main`` when it lists ``tour``, else through
``wonderland.cli.tour`` on its own (the same parser and ``run``). No timing assertions.
"""

from __future__ import annotations

import base64
import contextlib
import html.parser
import io
import json
import math
import re
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import wonderland.tour as tour_package
from wonderland.cli import tour as tour_cli
from wonderland.tour import sections
from wonderland.tour.base import Context, Section, SectionSpec

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
KEYS = [spec.key for spec in tour_package.SECTIONS]
TITLES = [spec.title for spec in tour_package.SECTIONS]


def _wired() -> bool:
    from wonderland.cli import main as cli_main

    return "tour" in getattr(cli_main, "COMMANDS", ())


def run_command(args: list[str]) -> tuple[int, str, str]:
    """``wonderland tour ARGS`` in this process: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        if _wired():
            from wonderland.cli.main import main

            status = main(["tour", *args])
        else:
            status = tour_cli.main(args)
    return status, out.getvalue(), err.getvalue()


class _Page(html.parser.HTMLParser):
    """The parts of the report the tests read."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.ids: set[str] = set()
        self.images: list[str] = []
        self.links: list[str] = []
        self.headings: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"] or "")
        if tag == "section":
            self.sections.append(attributes.get("id") or "")
        if tag == "img":
            self.images.append(attributes.get("src") or "")
        for name in ("src", "href"):
            if name in attributes and tag != "img":
                self.links.append(attributes[name] or "")
        if tag == "h2":
            self._in_h2 = True
            self.headings.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.headings[-1] += data


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour") / "report-folder"
    status, stdout, stderr = run_command(["--quick", "--out", str(out)])
    page = _Page()
    page.feed((out / "report.html").read_text(encoding="utf-8"))
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return SimpleNamespace(out=out, status=status, stdout=stdout, stderr=stderr, page=page,
                           summary=summary)


def numbers(quick, key: str) -> dict:
    return quick.summary["sections"][key]["numbers"]


# ----------------------------------------------------------------------- the run


def test_quick_run_succeeds_and_prints_the_summary(quick):
    assert quick.status == 0, quick.stderr
    for i, title in enumerate(TITLES, 1):
        assert f"{i}. {title}" in quick.stdout
    report = (quick.out / "report.html").resolve()
    assert f"report: {report}" in quick.stdout.splitlines()[-1]


def test_progress_bars_go_to_stderr(quick):
    for i, title in enumerate(TITLES, 1):
        assert f"{i}. {title}" in quick.stderr  # one bar per section
    assert "report:" not in quick.stderr


def test_every_section_is_there_in_the_text_order(quick):
    assert quick.page.sections == KEYS
    assert quick.page.headings == [f"{i}. {title}" for i, title in enumerate(TITLES, 1)]
    toc = [link[1:] for link in quick.page.links if link.startswith("#")]
    assert toc[: len(KEYS)] == KEYS
    assert quick.summary["order"] == KEYS


def test_every_image_is_an_embedded_png(quick):
    assert len(quick.page.images) >= len(KEYS)
    for src in quick.page.images:
        assert src.startswith("data:image/png;base64,"), src[:60]
        assert base64.b64decode(src.split(",", 1)[1])[:8] == PNG_MAGIC


def test_no_broken_references(quick):
    for link in quick.page.links:
        if link.startswith("#"):
            assert link[1:] in quick.page.ids, f"anchor {link} has no target"
        else:
            assert link.startswith("data:"), f"the report refers to {link!r}"


def test_every_section_has_a_figure_and_numbers(quick):
    for key in KEYS:
        section = quick.summary["sections"][key]
        assert section["error"] is None, section["error"]
        assert section["figures"], f"{key} has no figure"
        assert section["numbers"], f"{key} has no numbers"


def test_pngs_and_summary_are_written(quick):
    listed = [name for key in KEYS for name in quick.summary["sections"][key]["figures"]]
    assert listed
    for name in listed:
        assert (quick.out / name).read_bytes()[:8] == PNG_MAGIC
    assert sorted(p.name for p in quick.out.glob("*.png")) == sorted(listed)
    assert quick.summary["quick"] is True


# ----------------------------------------------------------------------- the text's numbers


def test_broadcast_shape(quick):
    assert numbers(quick, "tensors")["broadcast_shape"] == [4, 4]
    assert numbers(quick, "tensors")["bmm_shape"] == [4, 5, 3]


def test_linearization_matches_the_text(quick):
    n = numbers(quick, "derivatives")
    assert f"{n['f_at_0.51']:.4f}" == "-0.5049"
    assert f"{n['model_at_0.51']:.4f}" == "-0.5050"
    assert n["directional_jvp"] == pytest.approx(n["directional_dot"], abs=1e-12)


def test_polynomial_descent_finds_the_local_minimum(quick):
    n = numbers(quick, "gradient_descent")
    assert n["poly_tol_grad_x"] == pytest.approx(n["poly_local_min"], abs=1e-6)
    assert n["poly_tol_grad_steps"] == 142


def test_closed_form_and_descent_agree(quick):
    n = numbers(quick, "least_squares")
    assert n["all_coef_max_gap"] < 1e-4
    assert n["bmi_coef_gap"] < 1e-4
    assert n["collinear_warning"] is True


def test_the_shifted_split_is_flagged_and_costs_accuracy(quick):
    n = numbers(quick, "datasets_and_shift")
    assert n["shift_shifted_features"] > n["iid_shifted_features"]
    assert n["accuracy_drop"] > 0


def test_few_shot_embedding_beats_raw_pixels_at_five_shots(quick):
    n = numbers(quick, "pretrained")
    assert n["fewshot_5_embedding"] > n["fewshot_5_raw"]


def test_the_zero_one_loss_refusal_is_shown(quick):
    messages = quick.summary["sections"]["losses"]["messages"]
    assert any("zero_one" in text and "hinge" in text for text in messages.values())


# ----------------------------------------------------------------------- one part at a time
# (a section function called alone, as the docstrings do: seconds, not the whole tour)


def _section(build, key: str) -> Section:
    section = Section(key, 0, key)
    build(Context(quick=True), section)
    return section


def _figure(section: Section, name: str):
    (spec,) = [f for f in section.figures if f.name == name]
    return spec.figure


def test_loss_values_are_quoted_at_the_margin_and_residual_they_name():
    n = _section(sections.losses, "losses").numbers()
    logistic_bits = math.log2(1 + math.exp(-0.5))
    assert n["loss_values_at_margin_0.5"] == pytest.approx([0.0, 0.5, logistic_bits],
                                                            abs=1e-12)
    assert f"{n['loss_values_at_margin_0.5'][2]:.4f}" == "0.6839"
    assert n["loss_values_at_residual_2"] == pytest.approx([4.0, 2.0, 1.5], abs=1e-12)


def test_the_convergence_legend_covers_no_curve():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.cbook import STEP_LOOKUP_MAP
    from matplotlib.path import Path as MplPath

    fig = _figure(_section(sections.gradient_descent, "gradient_descent"),
                  "practice_convergence")
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    (ax,) = fig.axes
    box = ax.get_legend().get_window_extent(renderer)
    assert len(ax.lines) >= 3  # two step curves and the line of all starts
    for line in ax.lines:
        x, y = (np.asarray(v, float) for v in line.get_data())
        xy = np.column_stack(STEP_LOOKUP_MAP[line.get_drawstyle()](x, y))
        drawn = line.get_transform().transform_path(MplPath(xy))
        assert not drawn.intersects_bbox(box, filled=False), line.get_label()


def test_the_collinear_valley_is_at_the_fitted_sum():
    section = _section(sections.least_squares, "least_squares")
    w0, w1, _ = section.numbers()["collinear_min_norm"]
    fitted = w0 + w1
    true = section.numbers()["collinear_true_sum"]
    assert abs(fitted - true) > 5e-3  # the data's noise moves the valley off the true sum
    (text,) = [p for p in section.paragraphs if "every split of" in p]
    assert f"every split of the least-squares sum {fitted:.3f} " in text
    left = _figure(section, "least_squares_collinear").axes[0]
    (valley,) = [ln for ln in left.lines if ln.get_label().startswith("the valley")]
    (star,) = [ln for ln in left.lines if ln.get_label().startswith("minimum-norm")]
    xs, ys = valley.get_data()
    np.testing.assert_allclose(np.add(xs, ys), fitted, atol=1e-12)
    np.testing.assert_allclose(np.add(*star.get_data()), fitted, atol=1e-12)
    assert f"{fitted:.3f}" in valley.get_label()


# ----------------------------------------------------------------------- errors and options


@pytest.mark.parametrize("kind", ["existing file", "under a file", "empty"])
def test_an_unwritable_out_is_one_line_and_status_2(tmp_path, kind):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = {"existing file": str(blocker), "under a file": str(blocker / "report"),
           "empty": ""}[kind]
    status, stdout, stderr = run_command(["--quick", "--out", out])
    assert status == 2
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("wonderland tour: error: ")
    assert "Traceback" not in stderr
    assert not (tmp_path / "report.html").exists()


def test_a_folder_that_cannot_be_written_at_run_time_is_status_2(tmp_path, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", refuse)
    status, _, stderr = run_command(["--quick", "--out", str(tmp_path / "new")])
    assert status == 2
    assert re.fullmatch(r"wonderland tour: error: argument --out: cannot write into .*"
                        r"Permission denied\n", stderr)


def test_help_names_the_options():
    status, stdout, _ = run_command(["--help"])
    assert status == 0
    for option in ("--out", "--quick", "--open"):
        assert option in stdout


def test_open_opens_the_report_in_the_browser(quick, monkeypatch, tmp_path):
    opened = []
    result = tour_package.TourResult([], quick.out / "report.html", 0.0)
    monkeypatch.setattr(tour_package, "run_tour", lambda *a, **k: result)
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    status, stdout, _ = run_command(["--open", "--out", str(tmp_path)])
    assert status == 0
    assert opened == [(quick.out / "report.html").resolve().as_uri()]


def test_a_failing_part_is_reported_and_the_others_are_kept(tmp_path, monkeypatch):
    def boom(ctx, section):
        section.say("before the failure")
        raise RuntimeError("something broke")

    def fine(ctx, section):
        section.number("answer", "the answer", 42, highlight=True)

    monkeypatch.setattr(tour_package, "SECTIONS", (SectionSpec("fine", "Fine", 1, fine),
                                                   SectionSpec("boom", "Boom", 1, boom)))
    status, stdout, stderr = run_command(["--out", str(tmp_path), "--no-progress"])
    assert status == 1
    assert stderr.splitlines()[-1].startswith("wonderland tour: error: 1 part(s) failed")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["sections"]["fine"]["numbers"] == {"answer": 42}
    assert "something broke" in summary["sections"]["boom"]["error"]
    assert "This part failed" in (tmp_path / "report.html").read_text()


def test_figures_rendered_in_a_worker_process_match(tmp_path):
    """The renderer's worker process (used when a core is idle) gives the same PNGs."""
    here = tour_package.run_tour(tmp_path / "here", quick=True, progress=False,
                                 only=["tensors"], workers=0)
    there = tour_package.run_tour(tmp_path / "there", quick=True, progress=False,
                                  only=["tensors"], workers=1)
    names = [f.name for f in here.sections[0].figures]
    assert names and names == [f.name for f in there.sections[0].figures]
    for name in names:
        a = (tmp_path / "here" / f"{name}.png").read_bytes()
        b = (tmp_path / "there" / f"{name}.png").read_bytes()
        assert a[:8] == b[:8] == PNG_MAGIC
        assert a == b


# ----------------------------------------------------------------------- what the reader sees


def test_a_quick_run_into_a_full_runs_folder_leaves_no_figure_it_does_not_show(tmp_path):
    """The PNGs beside the report are the report's: a figure that only the earlier (full)
    run drew is removed; a file the tour did not write is kept."""
    full = tour_package.run_tour(tmp_path, quick=False, progress=False, only=["tensors"],
                                 workers=0)
    (tmp_path / "mine.png").write_bytes(PNG_MAGIC)
    quick = tour_package.run_tour(tmp_path, quick=True, progress=False, only=["tensors"],
                                  workers=0)
    before = {f"{f.name}.png" for f in full.sections[0].figures}
    after = {f"{f.name}.png" for f in quick.sections[0].figures}
    assert after < before  # the quick run draws fewer figures
    assert {p.name for p in tmp_path.glob("*.png")} == after | {"mine.png"}


def test_the_shift_drop_is_the_difference_of_the_accuracies_quoted():
    section = Section("datasets_and_shift", 0, "shift")
    sections.datasets_and_shift(Context(quick=False), section)
    (text,) = [p for p in section.paragraphs if "percentage points lost" in p]
    iid, shifted, drop = re.search(r"right on ([\d.]+)% ± [\d.]+% .* on ([\d.]+)% after .*: "
                                   r"([\d.]+) percentage points lost", text).groups()
    assert f"{float(iid) - float(shifted):.1f}" == drop
    assert f"{section.numbers()['accuracy_drop']:.1f}" == drop
    title = _figure(section, "shift_split").axes[2].get_title()
    assert title == f"accuracy drops by {drop} points"
    assert "feature(s)" not in " ".join(section.paragraphs)


def test_the_prose_sets_indices_and_powers(quick):
    """No ``x_{t−1}`` or ``R^d`` typed out in the report's prose (code keeps its own)."""
    page = (quick.out / "report.html").read_text(encoding="utf-8")
    prose = re.sub(r"<(pre|code)\b.*?</\1>", "", page, flags=re.S)
    assert not re.findall(r"\b[A-Za-z][_^][({]", prose)
    assert "x<sub>t−1</sub>" in prose and "R<sup>d</sup>" in prose
    assert "stopping on tol_x" in prose  # a name with an underscore is left alone


def test_the_gradient_norms_show_the_threshold_the_caption_names():
    section = _section(sections.gradient_descent, "gradient_descent")
    (spec,) = [f for f in section.figures if f.name == "practice_grad_norms"]
    assert "threshold 1e-6" in spec.caption
    (ax,) = [a for a in spec.figure.axes if a.get_yscale() == "log"]
    (line,) = [ln for ln in ax.lines if np.allclose(np.asarray(ln.get_ydata(), float), 1e-6)]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert line.get_label() in texts and texts[0].startswith("gradient descent")


def test_the_valley_line_shows_in_its_legend():
    """A white dashed line on the legend's white box would be invisible: it has an
    outline."""
    from matplotlib.colors import to_rgb

    fig = _figure(_section(sections.least_squares, "least_squares"), "least_squares_collinear")
    legend = fig.axes[0].get_legend()
    (handle,) = [h for h, t in zip(legend.legend_handles, legend.get_texts())
                 if t.get_text().startswith("the valley")]
    box = to_rgb(legend.get_frame().get_facecolor())
    assert to_rgb(handle.get_color()) != box or handle.get_path_effects()


def test_progress_off_a_terminal_is_one_plain_line_a_part(quick):
    """stderr here is not a terminal (as in a log or CI): no carriage-return bars."""
    assert "\r" not in quick.stderr
    lines = quick.stderr.splitlines()
    for i, title in enumerate(TITLES, 1):
        (line,) = [ln for ln in lines if ln.startswith(f"[{i}/{len(TITLES)}] {i}. {title}")]
        assert re.fullmatch(r".*  \d+\.\d s", line), line


def test_the_terminal_says_how_many_starts_reach_a_minimum(quick):
    n = numbers(quick, "gradient_descent")
    starts = n["practice_starts"]
    for key in ("gd", "momentum"):
        line = f"practice, {key}: of {starts} starts, at a minimum: " \
               f"{n[f'practice_{key}_minima']}"
        assert line in quick.stdout


def test_descent_stopped_by_its_cap_is_not_said_to_need_those_steps():
    """The diabetes descent ends at its max_iter of 4000 (a ConvergenceWarning, which the
    tour hides): the prose must say it was stopped, not that it *needed* that many steps."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        section = _section(sections.least_squares, "least_squares")
    steps = section.numbers()["all_gd_iterations"]
    (text,) = [p for p in section.paragraphs if "elongated bowl" in p]
    if steps == 4000:
        assert f"needs {steps} steps" not in text
        assert f"stopped by its cap of max_iter = {steps} steps" in text
    else:  # converged by its own rule
        assert f"needs {steps} steps" in text
