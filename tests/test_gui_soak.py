"""Soak test of the window on a 20,000-item case: scroll list and gallery end to end, walk
2,000 items with N/P and review keys, close. No abort, no growing memory, ``None``
references stable (PySide6 6.12.0 on Python 3.11 aborted here: issue 11).

Slow (about a minute and a half): run with ``pytest -m slow tests/test_gui_soak.py``.
"""

from __future__ import annotations

import gc
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from opensight_desktop.benchmarks.memory import rss_mb
from opensight_desktop.case.store import Case
from opensight_desktop.gui.evidence_model import COLUMN
from opensight_desktop.gui.main_window import MainWindow
from opensight_desktop.pipeline.import_job import ImportJob

pytestmark = pytest.mark.slow

ITEMS = 20_000
WALK = 2_000
# Python objects of one type may grow by this much between two identical passes.
OBJECT_GROWTH_LIMIT = 500
RSS_GROWTH_LIMIT_MB = 40.0


@pytest.fixture(scope="module")
def big_case(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("soak")
    folder = root / "evidence"
    folder.mkdir()
    rng = np.random.default_rng(11)
    for i in range(ITEMS):
        pixels = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"img{i:05d}.png")
    path = root / "soak.osc"
    with Case.create(path, number="SOAK-1", title="Soak", examiner="Soak Tester") as case:
        summary = ImportJob(case, [str(folder)]).run()
    assert summary.imported == ITEMS
    return path


def _objects_by_type() -> Counter[str]:
    gc.collect()
    return Counter(type(obj).__name__ for obj in gc.get_objects())


def _scroll_end_to_end(window: MainWindow) -> None:
    app = QApplication.instance()
    assert app is not None
    window._switch_view(True)
    for row in range(0, window.proxy.rowCount(), 25):
        window.table.scrollTo(window.proxy.index(row, 0))
        app.processEvents()
    window._switch_view(False)
    for row in range(0, window.proxy.rowCount(), 60):
        window.gallery.scrollTo(window.proxy.index(row, COLUMN["file_name"]))
        app.processEvents()
    window._switch_view(True)


def _walk(qtbot, window: MainWindow, steps: int) -> None:
    """N through the items, a review key on every fifth, a step back now and then."""
    for step in range(steps):
        if step % 5 == 0:
            qtbot.keyClick(window.table, Qt.Key.Key_1 + (step // 5) % 4)
        if step % 50 == 49:
            qtbot.keyClick(window.table, Qt.Key.Key_P)
        qtbot.keyClick(window.table, Qt.Key.Key_N)
        if step % 20 == 0:
            QApplication.processEvents()


def test_soak_twenty_thousand_items(qtbot, big_case):
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    assert window.open_case(str(big_case))
    assert window.model.rowCount() == ITEMS
    window.table.setFocus()

    # first pass: caches fill (thumbnail LRU, fonts, pixmaps)
    _scroll_end_to_end(window)
    _walk(qtbot, window, WALK // 2)
    none_before = sys.getrefcount(None)
    rss_before = rss_mb()
    objects_before = _objects_by_type()

    # second pass (scrolling the same ground, walking on): nothing may keep growing
    _scroll_end_to_end(window)
    _walk(qtbot, window, WALK // 2)
    QApplication.processEvents()

    none_lost = none_before - sys.getrefcount(None)
    rss_growth = rss_mb() - rss_before
    objects_after = _objects_by_type()
    grown = {
        name: objects_after[name] - objects_before.get(name, 0)
        for name in objects_after
        if objects_after[name] - objects_before.get(name, 0) > OBJECT_GROWTH_LIMIT
    }
    top = sorted(
        ((objects_after[n] - objects_before.get(n, 0), n) for n in objects_after), reverse=True
    )[:5]
    print(
        f"\nsoak: None lost {none_lost}, RSS {rss_before:.1f} -> {rss_before + rss_growth:.1f} MB,"
        f" largest object growth {top}"
    )
    reviewed = sum(row.review_state != "not_reviewed" for row in window.model.rows)

    window.shutdown()
    assert window.close_case()
    window.close()

    # lost: the PySide6 6.12.0 fault; gained without bound: references leaked elsewhere
    # (refilling the item panel's form rows gained ~90 per item before issue 11's fix)
    assert none_lost <= 100, f"{none_lost} references to None lost"
    assert -none_lost < 10 * WALK, f"{-none_lost} references to None gained"
    assert not grown, f"Python objects keep growing: {grown}"
    assert rss_growth < RSS_GROWTH_LIMIT_MB, f"RSS grew {rss_growth:.1f} MB in the second pass"
    assert reviewed >= WALK // 5 - 50, f"only {reviewed} items reviewed"
    with Case.open(big_case) as case:
        summary = case.summary()
    assert summary.items == ITEMS
