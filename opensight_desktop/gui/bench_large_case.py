"""Memory with a large case open, for the GUI benchmark (``python -m
opensight_desktop.gui.bench_large_case CASE``): a fresh process opens the case in the
window and scrolls the whole gallery. Prints JSON."""

from __future__ import annotations

import json
import os
import sys
import time

from opensight_desktop.benchmarks.memory import peak_rss_mb, rss_mb
from opensight_desktop.case.audit import EXAMINER_ENV
from opensight_desktop.gui.app import create_app
from opensight_desktop.gui.main_window import MainWindow


def main(argv: list[str]) -> int:
    (case_path,) = argv
    app = create_app()
    os.environ.setdefault(EXAMINER_ENV, "bench")  # named: the window does not ask who works
    before = rss_mb()
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    started = time.perf_counter()
    window.open_case(case_path)
    app.processEvents()
    opened = time.perf_counter() - started
    after_open = rss_mb()
    window.grid_button.click()
    for row in range(0, window.proxy.rowCount(), 60):  # scroll the whole gallery
        window.gallery.scrollTo(window.proxy.index(row, 0))
        app.processEvents()
    figures = {
        "items": window.model.rowCount(),
        "open_s": round(opened, 2),
        "rss_empty_window_mb": round(before, 1),
        "rss_case_open_mb": round(after_open, 1),
        "rss_after_scrolling_gallery_mb": round(rss_mb(), 1),
        "peak_mb": round(peak_rss_mb(), 1),
    }
    print(json.dumps(figures))
    window.close_case()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
