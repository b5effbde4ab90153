"""``wonderland bench``: the workloads run, every row says something, the JSON holds every
figure, the chart is drawn, a missing peer is a row, bad arguments are one line. No timing
is asserted: the figures are whatever this machine gives."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench_helpers import cli, failing_import
from wonderland.bench import peers, report, runner
from wonderland.bench.workloads import Case, NotAvailable, Target, Workload, wl_linear

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"



@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One quick run of W1 and W5 with every installed peer, one round each."""
    tmp = tmp_path_factory.mktemp("bench")
    status, out, err = cli("--quick", "--only", "W1,W5", "--repeats", "1",
                           "--json", tmp / "run.json", "--out", tmp / "run.png")
    return dict(status=status, out=out, err=err, json=tmp / "run.json", png=tmp / "run.png",
                results=json.loads((tmp / "run.json").read_text()))


def table_line(out: str, wid: str, label: str) -> str:
    lines = [ln for ln in out.splitlines() if ln.startswith(f"{wid}  {label}")]
    assert len(lines) == 1, (wid, label, out)
    return lines[0]


def test_quick_run_prints_every_row_with_a_ratio(quick):
    assert quick["status"] == 0, quick["err"]
    rows = quick["results"]["rows"]
    assert {r["workload"] for r in rows} == {"W1", "W5"}
    ran = [r for r in rows if r["status"] == "ok"]
    for r in rows:
        line = table_line(quick["out"], r["workload"], r["label"])
        if r["status"] == "ok":
            assert r["value"] is not None and r["rounds"] == 1, r
            if r["role"] == "limit":
                assert " limit " in line
            elif r["role"] != "info":
                assert r["ratio"] is not None and r["ratio"] > 0, r
                assert re.search(r"us/(step|op)\s+[\d.e+-]+\s", line), line
                assert r["check"] == "ok", r  # the answer agrees with the limit's
        else:  # a peer this machine lacks, or a wonderland feature not there yet
            assert r["status"] in ("not installed", "not available"), r
            assert f"{r['status']}: " in line
    impls = {r["impl"] for r in ran}
    assert {"numpy", "wonderland"} <= impls
    for peer in peers.PEERS:
        if peer != "sklearn" and peer not in quick["results"]["environment"]["missing"]:
            assert peer in impls, peer  # an installed peer really ran
    wl_rows = [r for r in ran if r["impl"] == "wonderland"]
    assert all(r["ratio_torch"] is not None for r in wl_rows
               if "torch" in impls), wl_rows  # W1 and W5 state their target against PyTorch
    assert "CPU used by other processes" in quick["out"]
    assert "BLAS: " in quick["out"] and "wonderland 0.1" in quick["out"]


def test_json_holds_every_figure(quick):
    res = quick["results"]
    env = res["environment"]
    for key in ("date", "python", "numpy", "wonderland", "cores", "blas", "peers", "missing",
                "processor"):
        assert key in env, key
    assert set(res["sizes"]) == {"W1", "W5"} and res["quick"] is True
    for r in res["rows"]:
        for key in ("workload", "label", "impl", "role", "unit", "status", "value", "ratio",
                    "ratio_torch", "spread", "rounds", "times_s", "medians_s", "first_call_s",
                    "memory_bytes", "check", "background_load_cores"):
            assert key in r, key
        if r["status"] == "ok":
            assert len(r["times_s"]["main"]) == 1
            assert r["medians_s"]["main"] == r["times_s"]["main"][0]
            assert r["spread"] == 0.0  # one round


def test_the_chart_is_written_and_redrawn_from_json(quick, tmp_path):
    assert quick["png"].read_bytes()[:8] == PNG_MAGIC
    status, out, err = cli("--plot", quick["json"], "--out", tmp_path / "again.png")
    assert status == 0, err
    assert (tmp_path / "again.png").read_bytes()[:8] == PNG_MAGIC
    assert "bars" in out


def _row(impl: str, role: str = "", status: str = "ok", ratio: float | None = 2.0) -> dict:
    return {"workload": "W1", "label": f"{impl} {role}".strip(), "impl": impl, "role": role,
            "status": status, "ratio": ratio}


def test_the_chart_legend_names_only_colours_with_a_bar(quick):
    rows = [_row("numpy", role="limit", ratio=None), _row("wonderland"), _row("torch"),
            _row("jax", status="not installed", ratio=None), _row("mylib"), _row("yourlib")]
    fig = report.ratio_figure({"rows": rows})
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    # the limit row (numpy) is the line at 1 and jax has no figure: no entries of theirs;
    # implementations without a colour of their own share one
    assert texts == ["wonderland", "torch", "mylib, yourlib", "the limit (= 1)"]
    # a real run: every implementation with a bar, and only those, in the legend
    fig = report.ratio_figure(quick["results"])
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    drawn = {r["impl"] for r in quick["results"]["rows"]
             if r["role"] != "limit" and r["status"] == "ok" and r["ratio"]}
    assert set(texts[:-1]) == drawn


def test_missing_peer_is_a_row(monkeypatch):
    failing_import(monkeypatch, "torch", ModuleNotFoundError("No module named 'torch'"))
    status, out, err = cli("--quick", "--only", "W1", "--peers", "torch", "--repeats", "1")
    assert status == 0, err
    line = table_line(out, "W1", "torch eager, backward()")
    assert "not installed" in line and "No module named 'torch'" in line
    assert re.search(r"wonderland backward\(\)\s+[\d.]+\s+us/step\s+[\d.]+", out), out


@pytest.mark.parametrize("argv, message", [
    (["--only", "W9"], "unknown workload 'W9'"),
    (["--only", ","], "must name workloads"),
    (["--peers", "tensorflow"], "unknown peer 'tensorflow'"),
    (["--repeats", "0"], "must be a whole number >= 1"),
    (["--repeats", "two"], "must be a whole number >= 1"),
    (["--plot", "no/such/run.json"], "cannot read 'no/such/run.json'"),
    (["--plot", "{tmp}/broken.json"], "is not JSON"),
    (["--plot", "{tmp}/other.json"], "has no list of rows"),
    (["--only", "W1", "--json", "no/such/folder/run.json"], "cannot write into"),
])
def test_bad_arguments_are_one_line(argv, message, tmp_path):
    (tmp_path / "broken.json").write_text("{")
    (tmp_path / "other.json").write_text('{"a": 1}')
    status, out, err = cli(*(a.replace("{tmp}", str(tmp_path)) for a in argv))
    assert status == 2
    assert err.startswith("wonderland bench: error: ") and err.count("\n") == 1, err
    assert message in err and "Traceback" not in err
    assert out == ""


def test_runner_rows_memory_targets_and_unavailable_features():
    """A tiny synthetic workload: memory measured, target computed, a missing wonderland
    feature and a failing row each become a row, not an error."""
    x = np.arange(100_000, dtype=np.float64)

    def limit():
        return {"main": lambda: x * 2.0}

    def doubled_twice():
        return {"main": lambda: (x + 1.0, x + 2.0)}

    def unavailable():
        raise NotAvailable("wl.something is not in this wonderland yet")

    def broken():
        return {"main": lambda: 1 / 0}

    w = Workload("W0", "tiny", "ms", 2, [
        Case("numpy", "limit", limit, role="limit"),
        Case("wonderland", "two temporaries", doubled_twice),
        Case("wonderland", "missing", unavailable),
        Case("wonderland", "broken", broken),
        Case("torch", "a peer not asked for", limit),
    ], value=lambda m: m["main"] * 1e3, memory="main",
        targets=[Target("memory over the limit's", "memory", "main", 1.25)])
    rows = runner.run_workload(w, peers=[], missing={})
    by = {r["label"]: r for r in rows}
    assert list(by) == ["limit", "two temporaries", "missing", "broken"]
    assert by["limit"]["memory_bytes"] >= x.nbytes
    assert by["two temporaries"]["memory_bytes"] >= 2 * x.nbytes
    assert by["two temporaries"]["rounds"] == 2 and by["two temporaries"]["ratio"] > 0
    assert by["missing"]["status"] == "not available"
    assert by["broken"]["status"] == "error" and "ZeroDivisionError" in by["broken"]["error"]
    (target,) = runner._targets(w, rows)
    assert target["ratio"] == pytest.approx(
        by["two temporaries"]["memory_bytes"] / by["limit"]["memory_bytes"])
    assert target["met"] is False


def test_memory_is_measured_for_the_rows_that_compute_with_numpy_only():
    """HIPS autograd's arrays are NumPy's, which tracemalloc sees; PyTorch's are not."""
    x = np.arange(100_000, dtype=np.float64)
    thunks = lambda: {"main": lambda: (x + 1.0, x + 2.0)}  # noqa: E731
    w = Workload("W0", "tiny", "ms", 1, [
        Case("numpy", "limit", thunks, role="limit"),
        Case("autograd", "a tape over NumPy", thunks),
        Case("torch", "arrays of their own", thunks),
    ], value=lambda m: m["main"] * 1e3, memory="main")
    by = {r["label"]: r for r in runner.run_workload(w, peers=["autograd", "torch"], missing={})}
    assert by["a tape over NumPy"]["memory_bytes"] >= 2 * x.nbytes
    assert by["arrays of their own"]["memory_bytes"] is None


def test_linear_models_are_imported_lazily():
    with pytest.raises(NotAvailable, match="has no NoSuchEstimator"):
        wl_linear("NoSuchEstimator")


def test_benchmarks_run_py_calls_the_package():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: wonderland bench")
    assert "W8 logreg" in done.stdout


@pytest.mark.parametrize("argv, message", [
    (["--repeats", "0"], "argument --repeats: must be a whole number >= 1"),
    (["--plot", "no/such/run.json"], "--plot: cannot read 'no/such/run.json'"),
])
def test_registered_in_the_wonderland_command(monkeypatch, argv, message):
    """Once ``bench`` is in ``wonderland.cli.main.COMMANDS``, the same errors come out
    of ``wonderland bench`` with its prefix and status."""
    from wonderland.cli import main as top

    if "bench" not in top.COMMANDS:
        monkeypatch.setattr(top, "COMMANDS", (*top.COMMANDS, "bench"))
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = top.main(["bench", *argv])
    assert status == 2
    line = err.getvalue()
    assert line.startswith(f"wonderland bench: error: {message}") and line.count("\n") == 1


def test_practice_breakdown_runs_every_row():
    """(The script checks that its textbook tape descends as the hand gradient does.)"""
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "practice_breakdown.py"),
                           "--rounds", "1", "--n", "20"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    for row in ("hand", "floor", "np_forward", "forward", "step", "tape"):
        assert re.search(rf"^{row}\s+[\d.]+\s+[\d.]+$", done.stdout, re.M), done.stdout
    assert "step / tape" in done.stdout


def _drawn(rows: list[dict], workloads: set[str]) -> int:
    """How many bars a chart of these workloads has: the rows with a ratio to a limit."""
    return sum(1 for r in rows if r["workload"] in workloads and r["role"] != "limit"
               and r["status"] == "ok" and r["ratio"])


def test_plot_with_only_draws_those_workloads(quick, tmp_path):
    status, out, err = cli("--plot", quick["json"], "--only", "W5", "--out", tmp_path / "w5.png")
    assert status == 0, err
    bars = _drawn(quick["results"]["rows"], {"W5"})
    assert 0 < bars < _drawn(quick["results"]["rows"], {"W1", "W5"})
    assert out.strip() == f"wrote {tmp_path / 'w5.png'} ({bars} bars)"
    status, out, err = cli("--plot", quick["json"], "--only", "W3")
    assert status == 2 and err.count("\n") == 1 and out == ""
    assert "the saved run has no rows of it (it has W1, W5)" in err


@pytest.mark.parametrize("extra", [["--quick"], ["--repeats", "3"], ["--peers", "torch"],
                                   ["--json", "again.json"]])
def test_plot_refuses_the_options_of_a_run(quick, extra, tmp_path):
    """``--plot`` runs nothing: an option that shapes a run is an error, not ignored."""
    status, out, err = cli("--plot", quick["json"], "--out", tmp_path / "c.png", *extra)
    assert status == 2, (out, err)
    assert err.startswith("wonderland bench: error: --plot draws a saved run and runs "
                          f"nothing: {extra[0]} only applies to a run")
    assert err.count("\n") == 1
    assert out == "" and not (tmp_path / "c.png").exists()


def test_out_without_a_suffix_names_the_file_it_wrote(quick, tmp_path):
    status, out, err = cli("--plot", quick["json"], "--out", tmp_path / "chart")
    assert status == 0, err
    assert out.startswith(f"wrote {tmp_path / 'chart.png'} (")
    assert (tmp_path / "chart.png").read_bytes()[:8] == PNG_MAGIC


@pytest.mark.parametrize("plot", [False, True])
def test_out_in_a_format_matplotlib_cannot_write_fails_before_running(quick, plot, tmp_path):
    """Not after the whole run, as an unexpected error (status 1)."""
    argv = (["--plot", quick["json"]] if plot else
            ["--quick", "--only", "W1", "--peers", "none", "--repeats", "1"])
    status, out, err = cli(*argv, "--out", tmp_path / "chart.txt")
    assert status == 2, err
    assert err.startswith(f"wonderland bench: error: --out '{tmp_path / 'chart.txt'}': "
                          "cannot draw a chart as .txt (use .png, ") and err.count("\n") == 1
    assert out == ""  # nothing ran: no table


def test_disturbed_workloads_are_one_warning():
    env = dict(date="d", processor="cpu", cores=2, python="3", platform="p", numpy="2",
               wonderland="0.1", peers={}, missing={}, blas=[])
    rows = [runner.new_row(workload=w, label="limit", role="limit", unit="us/step", value=0.5,
                           spread=0.1, background_load_cores=load)
            for w, load in (("W1", 0.9), ("W2", 0.0), ("W5", 1.4))]
    text = report.format_table(dict(environment=env, quick=True, rows=rows, targets=[],
                                    footnotes=[]))
    warnings = [ln for ln in text.splitlines() if ln.startswith("WARNING")]
    assert warnings == ["WARNING: other processes used more than 0.2 cores during W1, W5: "
                        "their numbers are disturbed."]


def test_the_chart_axis_explains_only_the_workloads_it_shows(quick):
    label = report.ratio_figure(quick["results"]).axes[0].get_xlabel()
    assert label == "time / the limit's time, log scale, lower is faster"
    rows = [{**_row("wonderland"), "workload": w} for w in ("W1", "W4", "W8")]
    label = report.ratio_figure({"rows": rows}).axes[0].get_xlabel()
    assert "(W4: v&g/fwd over the limit's; W8: over scikit-learn's)" in label


def test_the_chart_legend_covers_no_bar_or_label():
    """Long bars at the bottom (where a legend in a lower corner would sit) stay visible."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    rows = [{**_row(impl), "label": f"{impl} {k}", "ratio": ratio}
            for k, (impl, ratio) in enumerate([("wonderland", 0.5), ("torch", 3.0),
                                               ("jax", 40.0), ("autograd", 900.0),
                                               ("wonderland", 5000.0), ("torch", 8000.0)])]
    fig = report.ratio_figure({"rows": rows})
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    (ax,) = fig.axes
    box = ax.get_legend().get_window_extent(renderer)
    for artist in [*ax.patches, *ax.texts]:
        assert not box.overlaps(artist.get_window_extent(renderer)), artist
