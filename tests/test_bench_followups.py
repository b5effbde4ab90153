"""Follow-ups to ``wonderland bench`` from a new user's session: saved files that are not
a bench run, files kept whole when a run is interrupted or its output cut short, the
spread of a quotient figure, and the chart's warning of a disturbed run.

No test here times anything: the runs are replaced by canned results.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

import wonderland.bench
from bench_helpers import ENV, cli
from wonderland.bench import report, runner
from wonderland.bench.workloads import Case, Workload
from wonderland.cli import bench


def canned(load: float = 0.0) -> dict[str, Any]:
    """The results of a W1 run, as ``run_bench`` returns them, without running it."""
    rows = [runner.new_row(workload="W1", label="limit", impl="numpy", role="limit",
                           unit="us/step", value=1.0, spread=0.0, background_load_cores=load),
            runner.new_row(workload="W1", label="wonderland backward()", impl="wonderland",
                           unit="us/step", value=3.0, ratio=3.0, spread=0.1,
                           background_load_cores=load)]
    return dict(environment=dict(ENV), quick=True, sizes={"W1": {}}, rows=rows, targets=[],
                footnotes=[])


@pytest.fixture
def no_run(monkeypatch):
    """Replace the run by canned results; ``calls`` counts the runs asked for."""
    calls: list[int] = []

    def fake(*args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(1)
        return canned()

    monkeypatch.setattr(wonderland.bench, "run_bench", fake)
    return calls


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


# ---------------------------------------------------------------- --plot of other files


@pytest.mark.parametrize("data, message", [
    ({"rows": [1, 2]}, "its row 1 is a number, not an object"),
    ({"rows": [], "environment": [1]}, "its environment is a list, not an object"),
    ({"rows": [{"workload": "W1", "label": "x", "impl": "wonderland", "role": "impl",
                "status": "ok", "ratio": True}]}, "the ratio of its row 1 is True"),
])
def test_plot_of_a_malformed_bench_file_is_one_line_exit_2(tmp_path, data, message):
    """Before: an 'unexpected AttributeError' (exit 1), or a boolean drawn as a ratio."""
    status, out, err = cli("--plot", write(tmp_path / "bad.json", data))
    assert status == 2, err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad.png").exists()


def test_plot_of_an_older_format_names_what_its_rows_lack(tmp_path):
    """Before: 'no row has a ratio to its limit', though every row had one."""
    rows = [{"workload": "W1", "label": "wonderland", "ratio": 3.0, "value": 1.0}]
    status, out, err = cli("--plot", write(tmp_path / "old.json", {"rows": rows}))
    assert status == 2, err
    assert "row 1 lacks 'impl', 'role', 'status'" in err and "older version" in err


def test_plot_of_a_file_cut_short_says_so(tmp_path):
    text = json.dumps(canned(), indent=1)
    (tmp_path / "cut.json").write_text(text[: len(text) // 2])
    status, out, err = cli("--plot", tmp_path / "cut.json")
    assert status == 2 and "is not JSON (cut short?)" in err


def test_a_saved_run_still_reads_and_draws(tmp_path):
    report.write_json(canned(), tmp_path / "run.json")
    status, out, err = cli("--plot", tmp_path / "run.json")
    assert status == 0, err
    assert "(1 bars)" in out


# ---------------------------------------------------------------- --json and --out


def test_write_json_interrupted_keeps_the_older_file_whole(tmp_path):
    """Before: Ctrl-C while writing left a truncated file where the older run was."""
    path = tmp_path / "run.json"
    report.write_json(canned(), path)
    before = path.read_text()

    class Interrupts:
        def __str__(self) -> str:
            raise KeyboardInterrupt

    broken = canned()
    broken["rows"][1]["notes"] = Interrupts()
    with pytest.raises(KeyboardInterrupt):
        report.write_json(broken, path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no part file left


def test_json_and_chart_are_written_when_stdout_closes_early(no_run, tmp_path, monkeypatch):
    """Before: `wonderland bench --json F | head` lost F: the table came first."""

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    args = bench.add_parser(bench.Parser(prog="wonderland").add_subparsers(
        parser_class=bench.Parser)).parse_args(
        ["--quick", "--only", "W1", "--json", str(tmp_path / "r.json"),
         "--out", str(tmp_path / "r.png")])
    with pytest.raises(BrokenPipeError):
        bench.run(args)
    assert report.read_json(tmp_path / "r.json")["rows"][1]["ratio"] == 3.0
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"


def test_an_empty_json_name_is_not_called_a_folder(no_run):
    status, out, err = cli("--quick", "--only", "W1", "--json", "")
    assert status == 2 and "--json '': needs a file name" in err
    assert not no_run


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_an_unwritable_json_fails_before_the_run(no_run):
    """Before (as root, for whom os.access says yes): the run went on and its figures
    were lost to 'No such file or directory' at the end."""
    status, out, err = cli("--quick", "--only", "W1", "--json", "/proc/no-such.json")
    assert status == 2 and "--json '/proc/no-such.json'" in err
    assert not no_run


def test_a_run_whose_chart_has_nothing_to_draw_names_out(monkeypatch, tmp_path):
    """Before: 'unexpected ValueError' (and the JSON, written after the table, was)."""
    results = canned()
    results["rows"] = results["rows"][:1]  # the limit alone: no ratio
    monkeypatch.setattr(wonderland.bench, "run_bench", lambda *a, **k: results)
    status, out, err = cli("--quick", "--only", "W1", "--json", tmp_path / "r.json",
                           "--out", tmp_path / "r.png")
    assert status == 1 and "--out" in err and "cannot draw it" in err
    assert "unexpected" not in err
    assert report.read_json(tmp_path / "r.json")["rows"]


def test_an_interrupted_run_says_nothing_was_written(monkeypatch, tmp_path):
    def interrupted(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise KeyboardInterrupt

    monkeypatch.setattr(wonderland.bench, "run_bench", interrupted)
    monkeypatch.delenv("WONDERLAND_DEBUG", raising=False)
    status, out, err = cli("--quick", "--only", "W1", "--json", tmp_path / "r.json")
    assert status == 130 and "Traceback" not in err
    assert "nothing written to --json" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r.json").exists()


# ---------------------------------------------------------------- figures


def test_the_spread_of_a_quotient_figure_is_of_the_quotient():
    """W4's figure is v&g time / forward time: its spread was the forward time's alone
    (67% here, for a figure that was 2.0 in both rounds)."""
    w = Workload("W0", "ratio", "vg/fwd", 2, [Case("wonderland", "x", dict)],
                 value=lambda m: m["vg"] / m["fwd"])
    row = runner._Row(w.cases[0])
    row.times = {"fwd": [1.0, 2.0], "vg": [2.0, 4.0]}
    (summary,) = runner._summarize(w, [row], None)
    assert summary["value"] == pytest.approx(2.0)
    assert summary["spread"] == 0.0 and summary["rounds"] == 2


def test_the_chart_of_a_disturbed_run_says_so():
    """The table warned; a chart passed on alone did not."""
    title = report.ratio_figure(canned(load=0.9)).axes[0].get_title()
    assert "DISTURBED" in title and "W1" in title
    assert "DISTURBED" not in report.ratio_figure(canned(load=0.0)).axes[0].get_title()


def test_one_round_has_no_spread_in_the_table():
    """Before: "0%", as if the figure were perfectly steady."""
    results = canned()
    for r in results["rows"]:
        r["rounds"], r["spread"] = 1, 0.0  # what the runner writes for one round
    line = next(ln for ln in report.format_table(results).splitlines()
                if ln.startswith("W1  wonderland"))
    assert "0%" not in line
    assert line.split()[-1] == "-"  # the spread: no memory, check or notes follow it


def test_the_header_says_what_its_seconds_are():
    """Before: "(0 s)" after the date for a quick W1, with nothing saying of what."""
    header = report.format_header(dict(environment=dict(ENV, seconds=0.4), quick=True))
    assert "(workloads: 0.4 s)" in header.splitlines()[0]


def test_none_with_other_peers_is_not_an_unknown_peer():
    """Before: "unknown peer 'none' (choose from ..., or none)"."""
    status, out, err = cli("--only", "W1", "--peers", "torch,none")
    assert status == 2
    assert "--peers" in err and "none runs no peer: it goes alone" in err
    assert "unknown peer" not in err


def test_write_json_through_a_link_writes_its_target(tmp_path):
    """The whole-or-nothing rename must not replace a link (``/dev/stdout``) by a file."""
    target = tmp_path / "target.json"
    target.write_text("{}")
    (tmp_path / "link.json").symlink_to(target)
    report.write_json(canned(), tmp_path / "link.json")
    assert (tmp_path / "link.json").is_symlink()
    assert report.read_json(target)["rows"][1]["ratio"] == 3.0
