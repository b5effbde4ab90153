"""The example notebooks never rot: each one runs top to bottom in a fresh ``python3``
kernel (nbclient, a timeout per cell, matplotlib's Agg backend, no network) without
writing to stderr and with every figure drawn as an image, is committed with its outputs
cleared, and matches ``examples/_make_notebooks.py``, which writes it."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds, per cell; each notebook takes a few seconds in all


def _generator():
    spec = importlib.util.spec_from_file_location("_make_notebooks",
                                                  EXAMPLES / "_make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_is_one_notebook_per_part_of_the_text():
    names = [p.name for p in NOTEBOOKS]
    assert len(names) == 6, names
    for word in ("tensors", "derivatives", "gradient_descent", "losses",
                 "logistic_regression", "pretrained"):
        assert any(word in name for name in names), (word, names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_has_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a cell has outputs"
            assert cell.execution_count is None, f"{path.name}: a cell has a count"


def test_notebooks_match_their_generator():
    books = _generator().build()
    assert sorted(books) == [p.name for p in NOTEBOOKS]
    for name, nb in books.items():
        committed = (EXAMPLES / name).read_text(encoding="utf-8")
        assert committed == nbformat.writes(nb) + "\n", (
            f"{name} differs from examples/_make_notebooks.py; run it to regenerate")


_EXECUTED: dict[Path, nbformat.NotebookNode] = {}


def _executed(path: Path) -> nbformat.NotebookNode:
    """The notebook run top to bottom, once per session (the checks below share it)."""
    if path not in _EXECUTED:
        nb = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                         resources={"metadata": {"path": str(EXAMPLES)}})
        client.execute()
        _EXECUTED[path] = nb
    return _EXECUTED[path]


def _outputs(nb: nbformat.NotebookNode) -> list:
    return [output for cell in nb.cells if cell.cell_type == "code"
            for output in cell.outputs]


@pytest.fixture(autouse=True)
def _headless(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")  # the kernel inherits the environment
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", os.environ.get("OPENBLAS_NUM_THREADS", "1"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path):
    nb = _executed(path)
    errors = [output for output in _outputs(nb) if output.output_type == "error"]
    assert not errors, errors
    ran = [cell.execution_count for cell in nb.cells if cell.cell_type == "code"]
    assert all(count is not None for count in ran)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_prints_no_warning(path):
    """Nothing reaches stderr: no warning (a RuntimeWarning, a ConvergenceWarning nobody
    asked for, a deprecation) lands in front of the reader."""
    stderr = [output.text for output in _outputs(_executed(path))
              if output.output_type == "stream" and output.name == "stderr"]
    assert not stderr, f"{path.name} writes to stderr: {stderr}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_figures_are_drawn(path):
    """Every figure shows as an image, not as the bare text ``<Figure size ...>`` (which
    is what a reader sees when matplotlib is left on a non-displaying backend)."""
    for output in _outputs(_executed(path)):
        data = output.get("data", {})
        if str(data.get("text/plain", "")).startswith("<Figure"):
            assert "image/png" in data, f"{path.name}: a figure is not drawn: {data}"
