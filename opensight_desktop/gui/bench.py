"""GUI figures (``python -m opensight_desktop.gui.bench``): launch time, main-thread stalls
while analysing, memory with a large case open, and triage at scale (a 100,000-item case:
open time, filter and sort p95, memory). Measured, never asserted in tests.

Run it with a display (Xvfb is fine) or QT_QPA_PLATFORM=offscreen. Like ``bench``, it works
in a data folder of its own (``benchmarks.scratch_home``) with a copy of the active model
(random weights when none is installed): the user's models, settings and recent cases are
not changed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from opensight_desktop.benchmarks.child_process import run_module
from opensight_desktop.benchmarks.scratch_home import scratch_home
from opensight_desktop.case.audit import EXAMINER_ENV

LAUNCH = "opensight_desktop.gui.bench_launch"
LARGE_CASE = "opensight_desktop.gui.bench_large_case"


def launch_time(runs: int = 3) -> dict[str, Any]:
    """Process start to the main window shown (first event-loop turn after show())."""
    times, torch_loaded = [], False
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", LAUNCH], stdout=subprocess.PIPE, text=True
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        elapsed = time.perf_counter() - started
        torch_loaded = process.stdout.readline().strip() == "torch-loaded"
        process.wait(60)
        if line.strip() == "shown":
            times.append(elapsed)
    return {
        "runs": len(times),
        "median_s": round(statistics.median(times), 2),
        "min_s": round(min(times), 2),
        "torch_imported_at_start": torch_loaded,
    }


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def responsiveness(images: int, work: Path) -> dict[str, Any]:
    """Import and analyse ``images`` pictures through the window while a 10 ms timer
    measures how late the main thread is: every gap above the interval is a stall. The
    window analyses with the active model of the data folder in use."""
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from opensight_desktop.benchmarks.synthetic import write_set
    from opensight_desktop.case.store import Case
    from opensight_desktop.gui.app import create_app
    from opensight_desktop.gui.main_window import MainWindow

    folder = work / f"gui-{images}"
    write_set(folder, images, (640, 480), "JPEG", "gui")
    app = create_app()
    os.environ.setdefault(EXAMINER_ENV, "bench")  # named: the window does not ask who works
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    case_path = Path(tempfile.mkdtemp(dir=work)) / "gui.osc"
    Case.create(case_path, number="bench", title="GUI bench", examiner="bench").close()
    window.open_case(str(case_path))
    results: dict[str, Any] = {}
    for phase, start in (
        ("import", lambda: window.import_paths([str(folder)])),
        ("analysis", window.action("analysis.all").trigger),
    ):
        gaps: list[float] = []
        clock = QElapsedTimer()
        timer = QTimer()
        timer.setInterval(10)
        last = [0]

        def beat(
            gaps: list[float] = gaps, clock: QElapsedTimer = clock, last: list[int] = last
        ) -> None:
            now = clock.elapsed()
            gaps.append(now - last[0])
            last[0] = now

        timer.timeout.connect(beat)
        clock.start()
        timer.start()
        started = time.perf_counter()
        start()
        while window.session.job is not None:
            app.processEvents()
            time.sleep(0.001)
        elapsed = time.perf_counter() - started
        timer.stop()
        stalls = [max(0.0, g - 10) for g in gaps]
        results[phase] = {
            "seconds": round(elapsed, 1),
            "ticks": len(gaps),
            "max_stall_ms": round(max(stalls), 1),
            "p99_stall_ms": round(_percentile(stalls, 0.99), 1),
            "p50_stall_ms": round(_percentile(stalls, 0.50), 1),
            "status": window.job_label.text(),
        }
    window.shutdown()
    window.close()
    QApplication.processEvents()
    return results


def large_case_memory(items: int, work: Path) -> dict[str, Any]:
    from opensight_desktop.benchmarks.synthetic import write_set
    from opensight_desktop.case.store import Case
    from opensight_desktop.pipeline.import_job import ImportJob

    case_path = work / f"large-{items}.osc"
    if not case_path.exists():
        folder = work / f"tiny-gui-{items}"
        write_set(folder, items, (96, 64), "PNG", "tiny")
        with Case.create(case_path, number="large", title="large", examiner="bench") as case:
            ImportJob(case, [str(folder)]).run()
    return run_module(LARGE_CASE, str(case_path))


def triage_at_scale(items: int, work: Path) -> dict[str, Any]:
    """A synthetic case of ``items`` opened in the window: open time, filter and sort
    p95, memory (``gui.bench_triage``)."""
    from opensight_desktop.gui import bench_triage

    case_path = bench_triage.build(work, items)
    return run_module(bench_triage.FIGURES, "--measure", str(case_path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "opensight-bench"))
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument(
        "--triage-items", type=int, default=100_000, help="synthetic triage case; 0: skip"
    )
    parser.add_argument("--launch-runs", type=int, default=3)
    parser.add_argument("--model", help="default: the active model, else random weights")
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    with scratch_home(work, args.model) as home:
        figures: dict[str, Any] = {"model": home.model().record()}
        figures["launch"] = launch_time(args.launch_runs)
        print("launch to window shown:", figures["launch"], flush=True)
        figures["responsiveness"] = responsiveness(args.images, work)
        print("main-thread stalls:", json.dumps(figures["responsiveness"], indent=1), flush=True)
        figures["large_case"] = large_case_memory(args.large, work)
        print("large case:", figures["large_case"], flush=True)
        if args.triage_items:
            figures["triage"] = triage_at_scale(args.triage_items, work)
            print("triage at scale:", json.dumps(figures["triage"], indent=1), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
