"""``wonderland tour``: every part of the text, computed by wonderland, as one report.

:func:`run_tour` runs the sections of :mod:`wonderland.tour.sections` in the text's order
(tensors, derivatives, gradient descent, losses, least squares, logistic regression,
datasets and shift, pre-trained models), each with a progress bar on stderr, and writes
``report.html`` (self-contained: figures embedded as base64 PNGs), the PNGs and
``summary.json`` into one folder. Everything runs offline on data shipped with
scikit-learn.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import Context, Section, SectionSpec
from .sections import SECTIONS

__all__ = ["run_tour", "TourResult", "SECTIONS", "Section", "Context", "SectionSpec"]


@dataclass
class TourResult:
    """What :func:`run_tour` made: the sections (with their numbers), the report's path
    and the total time."""

    sections: list[Section]
    report: Path
    seconds: float

    @property
    def failed(self) -> list[Section]:
        """The sections that raised (the report shows the error in their place)."""
        return [s for s in self.sections if s.error]


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """The tour's matrices are small: one BLAS thread is faster than a pool fighting
    over the cores (and never oversubscribes a shared machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        yield
        return
    # load every BLAS the sections will call (NumPy's, SciPy's) before limiting them: a
    # library loaded later would keep its own pool
    import scipy.linalg  # noqa: F401
    import sklearn.utils  # noqa: F401

    with threadpool_limits(limits=1, user_api="blas"):
        yield


class _Bar:
    """A tqdm bar on stderr for one section (or nothing when progress is off). When stderr
    is not a terminal (a log file, a pipe, CI), a bar would be one long line of carriage
    returns: there each section gets one plain line when it ends."""

    def __init__(self, label: str, total: int, enabled: bool) -> None:
        self.bar = None
        self.label = label
        self.plain = enabled and not _is_terminal(sys.stderr)
        if enabled and not self.plain:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=label, file=sys.stderr, leave=True,
                            dynamic_ncols=True,  # ({postfix} comes as ", <text>")
                            bar_format="{desc:<46} {bar} {n}/{total} [{elapsed}]{postfix}")

    def tick(self, label: str = "") -> None:
        if self.bar is not None:
            if self.bar.n < self.bar.total:
                self.bar.update(1)
            self.bar.set_postfix_str(label, refresh=True)

    def close(self, note: str = "") -> None:
        if self.plain:
            sys.stderr.write(f"{self.label}  {note}".rstrip() + "\n")
            sys.stderr.flush()
        if self.bar is not None:
            self.bar.n = self.bar.total
            self.bar.set_postfix_str(note, refresh=False)
            self.bar.refresh()
            self.bar.close()


def _is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is an interactive terminal (False for files, pipes, StringIO)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def run_tour(out: str | Path = "wonderland-tour", quick: bool = False, progress: bool = True,
             seed: int = 0, only: Sequence[str] | None = None, dpi: int | None = None,
             echo: Callable[[str], Any] | None = None,
             workers: int | None = None) -> TourResult:
    """Run the tour and write ``report.html``, the PNGs and ``summary.json`` into ``out``.

    Parameters
    ----------
    out : str or Path
        The output folder (created if missing).
    quick : bool
        Fewer starting points, draws and iterations: a few seconds.
    progress : bool
        A progress bar per section on stderr.
    seed : int
        The seed of every random draw (the report is reproducible).
    only : sequence of str, optional
        Keys of the sections to run (default: all, in the text's order).
    dpi : int, optional
        Resolution of the PNGs (default 100, 72 with ``quick``).
    echo : callable, optional
        Where to report a section that failed (default: nowhere; the report shows it).
    workers : int, optional
        Processes that render the figures while the next section computes (default: one
        per spare core, at most two; 0 renders in this process). Called from a script,
        the default is 0: each worker would run the script again, unless its code sits
        under ``if __name__ == "__main__":`` (then pass ``workers`` to use them).

    Returns
    -------
    TourResult

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     result = run_tour(tmp, quick=True, progress=False, only=["tensors"], workers=0)
    ...     result.report.name, [s.key for s in result.sections]
    ('report.html', ['tensors'])
    """
    import wonderland as wl

    from .report import write_outputs

    specs = [spec for spec in SECTIONS if only is None or spec.key in only]
    if only is not None:
        unknown = sorted(set(only) - {spec.key for spec in SECTIONS})
        if unknown:
            raise ValueError(f"run_tour: no section named {', '.join(map(repr, unknown))}; "
                             f"the sections are {', '.join(s.key for s in SECTIONS)}")
    dpi = dpi or (72 if quick else 100)
    start = time.perf_counter()
    sections: list[Section] = []
    if workers is None:
        workers = _workers() if _main_reimports_safely() else 0
    renderer = _Renderer(dpi, workers)
    try:
        with _one_blas_thread():
            for i, spec in enumerate(specs, 1):
                index = SECTIONS.index(spec) + 1
                section = Section(spec.key, index, spec.title)
                bar = _Bar(f"[{i}/{len(specs)}] {index}. {spec.title}", spec.steps + 1,
                           progress)
                ctx = Context(quick=quick, seed=seed, tick=bar.tick)
                began = time.perf_counter()
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # the sections show what they provoke
                        spec.build(ctx, section)
                except Exception as exc:  # noqa: BLE001 - one part failing keeps the others
                    section.error = f"{type(exc).__name__}: {exc}"
                    if echo is not None:
                        echo(f"part {index} ({spec.title}) failed: {section.error}")
                        if os.environ.get("WONDERLAND_DEBUG", "").strip() not in ("", "0"):
                            echo("".join(traceback.format_exception(exc)).rstrip())
                if quick:
                    section.drop_optional_figures()
                for fig in section.figures:
                    renderer.submit(fig)
                bar.tick("figures handed to the renderer")
                section.seconds = time.perf_counter() - began
                bar.close(f"{section.seconds:.1f} s" + (" FAILED" if section.error else ""))
                sections.append(section)
            images = renderer.collect(progress)
    finally:
        renderer.close()
    for section in sections:
        section.figures = [f for f in section.figures if f.name in images]
        section.blocks = [b for b in section.blocks if b[0] != "figure" or b[1].name in images]
    seconds = time.perf_counter() - start
    report = write_outputs(Path(out), sections, images, quick=quick, seconds=seconds,
                           version=wl.__version__)
    return TourResult(sections, report, seconds)


def _workers() -> int:
    """Processes that render figures while the next section computes: one per core that is
    idle now (by the load average; at most two, and none on a busy machine, where a worker
    would only compete with the computation); ``WONDERLAND_TOUR_WORKERS`` overrides (0:
    render here)."""
    setting = os.environ.get("WONDERLAND_TOUR_WORKERS", "").strip()
    if setting.isdigit():
        return int(setting)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - no load average (Windows)
        busy = 0.0
    idle = int(cores - busy - 1)  # this process takes one core
    return max(0, min(2, cores - 1, idle))


def _main_reimports_safely() -> bool:
    """Whether a spawned worker may import ``__main__``: an interactive session or a
    notebook (no file), ``wonderland tour`` or ``python -m wonderland``. A user's script
    is run again by each worker unless guarded by ``if __name__ == "__main__":``, which
    ``run_tour`` cannot see, so from a script it renders in its own process unless
    ``workers`` is given."""
    main = sys.modules.get("__main__")
    if getattr(main, "__file__", None) is None:
        return True
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name.startswith("wonderland."):
        return True
    entry = getattr(main, "main", None)  # the console script: from wonderland.cli.main import main
    return getattr(entry, "__module__", "") == "wonderland.cli.main"


class _Renderer:
    """Turns figures into PNG bytes, in worker processes when there are spare cores (the
    next section computes meanwhile), else here; a worker that fails falls back to here."""

    def __init__(self, dpi: int, workers: int) -> None:
        self.dpi = dpi
        self.pool: Any = None
        self.pending: list[tuple[Any, Any]] = []
        self.images: dict[str, bytes] = {}
        if workers > 0:
            try:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                self.pool = ProcessPoolExecutor(
                    max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
            except (OSError, ValueError, ImportError):  # pragma: no cover - no processes
                self.pool = None

    def submit(self, spec: Any) -> None:
        """Start rendering ``spec.figure`` (a FigureSpec)."""
        from .figures import png_bytes

        if self.pool is not None:
            try:
                self.pending.append((spec, self.pool.submit(png_bytes, spec.figure, self.dpi)))
                return
            except Exception:  # noqa: BLE001 - a broken pool: render here from now on
                self.close()
        self._here(spec)

    def _here(self, spec: Any) -> None:
        from .figures import png_bytes

        try:
            self.images[spec.name] = png_bytes(spec.figure, self.dpi)
        finally:
            spec.figure = None  # the PNG is what stays

    def collect(self, progress: bool) -> dict[str, bytes]:
        """Wait for every figure; returns ``{name: PNG bytes}``."""
        bar = _Bar(f"figures ({len(self.pending)} in {'a worker' if self.pool else 'here'})",
                   max(1, len(self.pending)), progress and bool(self.pending))
        for spec, future in self.pending:
            try:
                self.images[spec.name] = future.result()
                spec.figure = None
            except Exception:  # noqa: BLE001 - the worker failed: render this one here
                self._here(spec)
            bar.tick(spec.name)
        self.pending = []
        bar.close()
        return self.images

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None
