"""Triage in the window at scale (``python -m opensight_desktop.gui.bench_triage``): a
synthetic case of 100,000 items (written directly, as ``bench --suite triage`` does: no
image files, so no thumbnails), a known-file set matching 30% of them, then in a fresh
process the window opens it and every filter and sort is timed.

Figures: the case open (``open_case`` until the list is drawn), the triage reads ready
(stacks, timeline, map, cameras: background), each filter change until the list shows the
result (p50/p95 over repeats), each column sort (p95), and memory (RSS). Measured, never
asserted in tests. Works in a data folder of its own; the user's is not touched."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPEATS = 10
FIGURES = "opensight_desktop.gui.bench_triage"


def build(work: Path, items: int) -> Path:
    import numpy as np

    from opensight_desktop.benchmarks import triage_bench
    from opensight_desktop.case.store import Case
    from opensight_desktop.hashsets.store import import_set
    from opensight_desktop.pipeline.match_job import MatchJob

    case_path = work / f"gui-triage-{items}.osc"
    for stale in work.glob(f"gui-triage-{items}.osc*"):
        stale.unlink()
    hits, _hashes = triage_bench.make_case(case_path, items, np.random.default_rng(15))
    listing = work / "known.txt"
    listing.write_text("\n".join(hits) + "\n", encoding="ascii")
    import_set(listing, "known (bench)", "known", "list")
    with Case.open(case_path) as case:
        MatchJob(case).run()
    return case_path


def _p(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 1)


def measure(case_path: str) -> dict[str, Any]:
    """In this process: open the case in the window and time filters and sorts."""
    from opensight_desktop.benchmarks.memory import peak_rss_mb, rss_mb
    from opensight_desktop.gui.app import create_app
    from opensight_desktop.gui.evidence_model import COLUMN
    from opensight_desktop.gui.main_window import MainWindow

    app = create_app()
    window = MainWindow()
    window.resize(1500, 920)
    window.show()
    app.processEvents()
    before = rss_mb()
    started = time.perf_counter()
    window.open_case(case_path)
    app.processEvents()
    opened = time.perf_counter() - started
    window.triage.settle()
    app.processEvents()
    ready = time.perf_counter() - started
    triage, panel = window.triage, window.triage.panel

    def timed(change: Any, background: bool) -> float:
        begun = time.perf_counter()
        change()
        if background:
            triage.settle()
        app.processEvents()
        return time.perf_counter() - begun

    review = window.review_filter
    changes: dict[str, tuple[Any, Any, bool]] = {
        "review state (list filter)": (
            lambda: review.setCurrentIndex(2),
            lambda: review.setCurrentIndex(0),
            False,
        ),
        "text search": (
            lambda: window.search.setText("folder7/"),
            lambda: window.search.setText(""),
            False,
        ),
        "hide known files": (
            lambda: panel.hide_known.setChecked(True),
            lambda: panel.hide_known.setChecked(False),
            True,
        ),
        "camera": (
            lambda: panel.camera.setCurrentIndex(1),
            lambda: panel.camera.setCurrentIndex(0),
            True,
        ),
        "has GPS": (
            lambda: panel.gps.setCurrentIndex(1),
            lambda: panel.gps.setCurrentIndex(0),
            True,
        ),
        "capture range": (
            lambda: panel.set_taken("2015", "2019"),
            lambda: panel.set_taken(None, None),
            True,
        ),
        "stacks expanded / collapsed": (
            lambda: panel.stacks.setChecked(False),
            lambda: panel.stacks.setChecked(True),
            False,
        ),
    }
    filters: dict[str, Any] = {}
    every: list[float] = []
    for name, (apply, undo, background) in changes.items():
        times = []
        shown = 0
        for _ in range(REPEATS):
            times.append(timed(apply, background))
            shown = window.proxy.rowCount()
            times.append(timed(undo, background))
        every += times
        filters[name] = {"shown": shown, "p50_ms": _p(times, 0.5), "p95_ms": _p(times, 0.95)}
    sorts: list[float] = []
    for key in ("file_name", "review", "camera", "taken", "probability"):
        for order in (Qt_order(True), Qt_order(False)):
            sorts.append(
                timed(lambda k=key, o=order: window.table.sortByColumn(COLUMN[k], o), False)
            )
    window.table.sortByColumn(-1, Qt_order(True))
    after_open = rss_mb()
    window.grid_button.click()
    for row in range(0, window.proxy.rowCount(), 2000):  # through the gallery
        window.gallery.scrollTo(window.proxy.index(row, 0))
        app.processEvents()
    figures = {
        "items": window.model.rowCount(),
        "shown_with_stacks_collapsed": window.proxy.rowCount(),
        "stacks": len(set(window.session.stacks.values())),
        "open_s": round(opened, 2),
        "triage_reads_ready_s": round(ready, 2),
        "filters": filters,
        "filter_p95_ms": _p(every, 0.95),
        "sort_p50_ms": _p(sorts, 0.5),
        "sort_p95_ms": _p(sorts, 0.95),
        "rss_empty_window_mb": round(before, 1),
        "rss_case_open_mb": round(after_open, 1),
        "rss_after_gallery_mb": round(rss_mb(), 1),
        "peak_mb": round(peak_rss_mb(), 1),
    }
    window.shutdown()
    window.close_case()
    return figures


def Qt_order(ascending: bool) -> Any:
    from PySide6.QtCore import Qt

    return Qt.SortOrder.AscendingOrder if ascending else Qt.SortOrder.DescendingOrder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "opensight-bench"))
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the child: a case to open
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return 0
    from opensight_desktop.benchmarks.child_process import run_module
    from opensight_desktop.benchmarks.scratch_home import scratch_home

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    with scratch_home(work, None):
        started = time.perf_counter()
        case_path = build(work, args.items)
        print(f"synthetic case of {args.items} items: {time.perf_counter() - started:.0f} s")
        figures = run_module(FIGURES, "--measure", str(case_path))
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
