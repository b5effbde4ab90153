"""Ctrl-C during ``wonderland bench`` keeps the workloads that finished: their table, their
JSON (marked as interrupted, and drawn by ``--plot``), status 130, one line on stderr.

The Ctrl-C is simulated: ``run_workload`` raises ``KeyboardInterrupt`` on a chosen
workload. No test here times anything.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench_helpers import cli
from wonderland.bench import report, runner

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RUN = ("--quick", "--only", "W1,W5", "--peers", "none", "--repeats", "1")



@pytest.fixture
def ctrl_c_in(monkeypatch):
    """``ctrl_c_in("W5")``: Ctrl-C in the middle of W5 (the others run for real)."""
    monkeypatch.delenv("WONDERLAND_DEBUG", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    real = runner.run_workload

    def arm(wid: str) -> None:
        def run_workload(w, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
            if w.wid == wid:
                raise KeyboardInterrupt
            return real(w, *args, **kwargs)

        monkeypatch.setattr(runner, "run_workload", run_workload)

    return arm


def progress(err: str) -> list[str]:
    """The lines of stderr that are not the run's progress log (``W1 ...``)."""
    return [ln for ln in err.splitlines() if not ln.startswith("W")]


def test_the_finished_workloads_are_printed_and_the_run_exits_130(ctrl_c_in):
    """Before: "wonderland bench: error: interrupted" and no table: W1 was lost."""
    ctrl_c_in("W5")
    status, out, err = cli(*RUN)
    assert status == 130
    assert "Traceback" not in err
    rows = [ln for ln in out.splitlines() if ln[:2] in ("W1", "W5") and "  " in ln]
    assert rows and all(ln.startswith("W1  ") for ln in rows), out
    assert any(ln.startswith("W1  wonderland backward()") for ln in rows)
    assert "x limit" in out and "CPU used by other processes" in out  # the whole table
    assert "INTERRUPTED during W5" in out  # said in the table too, for a saved copy
    assert progress(err) == ["wonderland bench: error: interrupted during W5: the table holds "
                             "the workloads that finished (W1)"]


def test_the_json_holds_the_finished_workloads_and_is_drawn(ctrl_c_in, tmp_path):
    """Before: no JSON at all ("nothing written to --json")."""
    ctrl_c_in("W5")
    path = tmp_path / "run.json"
    status, out, err = cli(*RUN, "--json", path)
    assert status == 130, err
    assert f"wrote {path}" in err and err.rstrip().endswith("finished (W1)")
    results = json.loads(path.read_text())
    assert results["interrupted"] == "W5"
    assert {r["workload"] for r in results["rows"]} == {"W1"}
    assert set(results["sizes"]) == {"W1"}
    assert {t["workload"] for t in results["targets"]} <= {"W1"}
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no part file left
    bars = sum(1 for r in results["rows"]
               if r["role"] != "limit" and r["status"] == "ok" and r["ratio"])
    assert bars > 0
    status, out, err = cli("--plot", path, "--out", tmp_path / "run.png")
    assert status == 0, err
    assert out.strip() == f"wrote {tmp_path / 'run.png'} ({bars} bars)"
    assert (tmp_path / "run.png").read_bytes()[:8] == PNG_MAGIC
    title = report.ratio_figure(report.read_json(path)).axes[0].get_title()
    assert "INTERRUPTED during W5" in title


def test_ctrl_c_before_any_workload_finished_writes_nothing(ctrl_c_in, tmp_path):
    ctrl_c_in("W1")
    path = tmp_path / "run.json"
    status, out, err = cli(*RUN, "--json", path)
    assert status == 130 and out == "" and "Traceback" not in err
    assert progress(err) == [f"wonderland bench: error: interrupted during W1: the run did not "
                             f"finish, nothing written to --json '{path}'"]
    assert list(tmp_path.iterdir()) == []
    status, out, err = cli(*RUN)
    assert status == 130 and out == ""
    assert progress(err) == ["wonderland bench: error: interrupted during W1: no workload "
                             "finished"]


def test_run_bench_raises_a_keyboard_interrupt_with_the_finished_results(ctrl_c_in):
    ctrl_c_in("W5")
    with pytest.raises(KeyboardInterrupt) as caught:
        runner.run_bench(["W1", "W5"], peers=[], quick=True, rounds=1, log=lambda s: None)
    exc = caught.value
    assert isinstance(exc, runner.Interrupted) and exc.workload == "W5"
    assert exc.results["interrupted"] == "W5"
    assert {r["workload"] for r in exc.results["rows"]} == {"W1"}


def test_plot_of_a_run_interrupted_before_any_workload_refuses_clearly(tmp_path):
    """A file no run writes (it writes none then), but one that says why it is empty."""
    path = tmp_path / "empty.json"
    report.write_json(dict(rows=[], interrupted="W1"), path)
    status, out, err = cli("--plot", path)
    assert status == 2 and out == ""
    assert err.strip().splitlines() == [
        f"wonderland bench: error: --plot '{path}': cannot draw it: the run was interrupted "
        "during W1 before any workload finished"]
    assert not (tmp_path / "empty.png").exists()
