"""Helpers of the command-line tests: run ``wonderland`` in a subprocess, write a CSV."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path


def run_wonderland(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python -m wonderland *args`` in ``cwd``, its output captured as text."""
    return subprocess.run([sys.executable, "-m", "wonderland", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def write_csv(path: Path, header: list[str], rows) -> Path:
    """``rows`` under ``header`` as a comma-separated file at ``path``."""
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path
