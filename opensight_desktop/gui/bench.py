"""GUI figures (``python -m opensight_desktop.gui.bench``): launch time, main-thread stalls
while analysing, memory with a large case open. Measured, never asserted in tests.

Run it with a display (Xvfb is fine) or QT_QPA_PLATFORM=offscreen.
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

LAUNCH_CODE = """
import sys, time
from PySide6.QtCore import QTimer
from opensight_desktop.gui.app import create_app
from opensight_desktop.gui.main_window import MainWindow
app = create_app()
window = MainWindow()
window.show()
def shown():
    print("shown", flush=True)
    print("torch-loaded" if "torch" in sys.modules else "torch-not-loaded", flush=True)
    app.quit()
QTimer.singleShot(0, shown)
app.exec()
"""


def launch_time(runs: int = 3) -> dict[str, Any]:
    """Process start to the main window shown (first event-loop turn after show())."""
    times, torch_loaded = [], False
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-c", LAUNCH_CODE], stdout=subprocess.PIPE, text=True
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
    measures how late the main thread is: every gap above the interval is a stall."""
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from opensight_desktop.benchmarks.random_model import random_checkpoint
    from opensight_desktop.benchmarks.synthetic import write_set
    from opensight_desktop.case.store import Case
    from opensight_desktop.detector.store import ModelStore
    from opensight_desktop.gui.app import create_app
    from opensight_desktop.gui.main_window import MainWindow

    folder = work / f"gui-{images}"
    write_set(folder, images, (640, 480), "JPEG", "gui")
    store = ModelStore()
    if not store.list():
        store.import_path(random_checkpoint(work / "random-model"), name="random weights")
    app = create_app()
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    case_path = Path(tempfile.mkdtemp(dir=work)) / "gui.osc"
    Case.create(case_path, number="bench", title="GUI bench", examiner="bench").close()
    window.open_case(str(case_path))
    results: dict[str, Any] = {}
    for phase, start in (
        ("import", lambda: window.import_paths([str(folder)])),
        ("analysis", window.analyze_all),
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
        while window.job is not None:
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
    window.shutdown_for_tests()
    window.close()
    QApplication.processEvents()
    return results


MEMORY_CODE = """
import json, sys, time
from PySide6.QtWidgets import QApplication
from opensight_desktop.benchmarks.memory import peak_rss_mb, rss_mb
from opensight_desktop.gui.app import create_app
from opensight_desktop.gui.main_window import MainWindow
app = create_app()
before = rss_mb()
window = MainWindow(); window.resize(1400, 900); window.show(); app.processEvents()
started = time.perf_counter()
window.open_case(sys.argv[1]); app.processEvents()
opened = time.perf_counter() - started
after_open = rss_mb()
window.grid_button.click()
for row in range(0, window.proxy.rowCount(), 60):  # scroll the whole gallery
    window.gallery.scrollTo(window.proxy.index(row, 0)); app.processEvents()
print(json.dumps({"items": window.model.rowCount(), "open_s": round(opened, 2),
                  "rss_empty_window_mb": round(before, 1), "rss_case_open_mb": round(after_open, 1),
                  "rss_after_scrolling_gallery_mb": round(rss_mb(), 1),
                  "peak_mb": round(peak_rss_mb(), 1)}))
window.close_case()
"""


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
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_CODE, str(case_path)],
        check=True,
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "opensight-bench"))
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    figures = {"launch": launch_time()}
    print("launch to window shown:", figures["launch"], flush=True)
    figures["responsiveness"] = responsiveness(args.images, work)
    print("main-thread stalls:", json.dumps(figures["responsiveness"], indent=1), flush=True)
    figures["large_case"] = large_case_memory(args.large, work)
    print("large case:", figures["large_case"], flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
