"""The desktop GUI, end to end through its widgets (pytest-qt, offscreen).

A Qt warning fails a test (``qt_log_level_fail`` in pyproject.toml); every test waits for
its threads, so none is left running.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from opensight_desktop.case import audit
from opensight_desktop.case.models import EvidenceItem
from opensight_desktop.case.store import Case
from opensight_desktop.detector.store import ModelStore
from tests import checkpoint_factory as cf
from tests import imagegen

pytest.importorskip("PySide6.QtWidgets")

from opensight_desktop.gui.actions import report
from opensight_desktop.gui.main_window import MainWindow


@pytest.fixture(scope="module")
def hub_model(tmp_path_factory) -> Path:
    return cf.save_hub(cf.random_state(seed=7), tmp_path_factory.mktemp("gui") / "hub")


@pytest.fixture
def evidence(tmp_path) -> Path:
    folder = tmp_path / "evidence"
    folder.mkdir()
    for i in range(6):
        imagegen.save(folder / f"photo_{i}.png", "PNG", size=(420 + i, 300), seed=i)
    imagegen.jpeg_with_exif(folder / "camera.jpg", seed=9)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    return folder


@pytest.fixture
def window(qtbot):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    yield win
    win.shutdown()
    win.close_case()


def wait_job(qtbot, window, timeout=120_000):
    qtbot.waitUntil(lambda: window.session.job is None, timeout=timeout)


def new_case(tmp_path) -> Path:
    path = tmp_path / "case.osc"
    Case.create(path, number="GUI-1", title="Widgets", examiner="Zoë Ölander").close()
    return path


def test_window_opens_without_torch():
    code = (
        "import sys; from opensight_desktop.gui.main_window import MainWindow; "
        "print('torch' in sys.modules, 'timm' in sys.modules)"
    )
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "False False", result.stderr


def test_import_analyse_review_reopen(qtbot, window, tmp_path, evidence, hub_model):
    store = ModelStore()
    store.set_active(store.import_path(hub_model)[0])  # random weights: active when chosen
    path = new_case(tmp_path)
    assert window.open_case(str(path))
    assert "GUI-1" in window.windowTitle()
    assert not window.banner.isVisible()

    window.import_paths([str(evidence)])
    wait_job(qtbot, window)
    assert window.model.rowCount() == 8
    assert "7 new" in window.job_label.text() and "1 errors" in window.job_label.text()

    window.action("analysis.all").trigger()
    # the window stays usable while the worker runs: the progress bar is shown
    assert window.progress.isVisible()
    wait_job(qtbot, window)
    rows = {row.file_name: row for row in window.model.rows}
    assert rows["camera.jpg"].verdict is not None and rows["broken.jpg"].verdict is None
    assert "7 analysed" in window.job_label.text()

    # open an item: its picture, heatmap and the examined region are shown
    source = window.model.source_row(rows["photo_2.png"].id)
    window.table.selectRow(window.proxy.mapFromSource(window.model.index(source, 0)).row())
    qtbot.waitUntil(lambda: window.viewer.caption.text().startswith("Outlined"), timeout=20_000)
    assert window.viewer.view.heatmap_shown
    qtbot.keyClick(window.table, Qt.Key.Key_H)
    assert not window.viewer.view.heatmap_shown
    qtbot.keyClick(window.table, Qt.Key.Key_H)
    assert window.viewer.view.heatmap_shown
    assert "P(AI-generated)" in window.item_panel.score_text.text()

    # review by keyboard: 2 = inconclusive, then N moves to the next item
    qtbot.keyClick(window.table, Qt.Key.Key_2)
    item_id = rows["photo_2.png"].id
    assert window.model.row_for(item_id).review_state == "inconclusive"
    qtbot.keyClick(window.table, Qt.Key.Key_N)
    assert window.session.current_item != item_id
    window.item_panel.notes_edit.setPlainText("Compared with the camera's sample images.")
    qtbot.keyClick(window.table, Qt.Key.Key_P)  # leaving the item saves its notes
    assert window.session.current_item == item_id

    window.close_case()
    assert window.session.case is None
    assert window.open_case(str(path))  # reopen: everything is still there
    with window.session.case.read() as session:
        item = session.get(EvidenceItem, item_id)
        assert item.review_state == "inconclusive"
        assert audit.check_chain(session).ok
        actions = (
            session.connection().exec_driver_sql("SELECT action FROM audit_entry").scalars().all()
        )
    assert "items.review" in actions  # the GUI's one review path: one entry per action
    assert window.model.row_for(item_id).verdict is not None


def test_notes_are_saved_when_leaving_the_item(qtbot, window, tmp_path, evidence):
    path = new_case(tmp_path)
    window.open_case(str(path))
    window.import_paths([str(evidence)])
    wait_job(qtbot, window)
    window.table.selectRow(0)
    first = window.session.current_item
    window.item_panel.notes_edit.setPlainText("Seen on a seized phone.")
    window.action("review.next").trigger()
    with window.session.case.read() as session:
        assert session.get(EvidenceItem, first).notes == "Seen on a seized phone."


def test_cancel_a_running_analysis(qtbot, window, tmp_path, hub_model):
    store = ModelStore()
    store.set_active(store.import_path(hub_model)[0])  # random weights: active when chosen
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(40):
        imagegen.save(folder / f"{i:02d}.png", "PNG", size=(96, 96), seed=i)
    window.open_case(str(new_case(tmp_path)))
    window.import_paths([str(folder)])
    wait_job(qtbot, window)
    window.session.settings.batch_size = 2
    window.action("analysis.all").trigger()
    qtbot.waitUntil(
        lambda: "Analysing" in window.job_label.text() or "Analysis:" in window.job_label.text(),
        timeout=60_000,
    )
    window.action("job.cancel").trigger()
    wait_job(qtbot, window)
    assert "cancelled" in window.job_label.text()
    with window.session.case.read() as session:
        done = session.scalars(select(EvidenceItem).where(EvidenceItem.status == "analyzed")).all()
    assert len(done) < 40


def test_filters_and_gallery(qtbot, window, tmp_path, evidence):
    window.open_case(str(new_case(tmp_path)))
    window.import_paths([str(evidence)])
    wait_job(qtbot, window)
    assert window.proxy.rowCount() == 8
    window.status_filter.setCurrentIndex(window.status_filter.findData("error"))
    assert window.proxy.rowCount() == 1
    window.status_filter.setCurrentIndex(0)
    window.search.setText("camera")
    assert window.proxy.rowCount() == 1
    window.search.clear()
    window.flag_filter.setCurrentIndex(window.flag_filter.findData("no-camera-metadata"))
    # the six PNGs and the broken JPEG; the camera JPEG has its make and model
    assert window.proxy.rowCount() == 7
    window.flag_filter.setCurrentIndex(0)
    window.grid_button.click()
    assert window.views.currentWidget() is window.gallery
    window.gallery.grab()  # paints the tiles (delegate) without error


def test_no_model_banner_and_unexpected_error_dialog(qtbot, window, tmp_path):
    window.open_case(str(new_case(tmp_path)))
    assert window.banner.isVisible()
    from opensight_desktop.gui.errors import ErrorReporter

    reporter = ErrorReporter()
    try:
        raise RuntimeError("something broke")
    except RuntimeError:
        reporter._excepthook(*sys.exc_info())
    qtbot.waitUntil(lambda: reporter.shown == 1, timeout=5000)
    log_file = reporter.log_file
    assert log_file is not None and "something broke" in log_file.read_text()
    for widget in window.findChildren(object):
        if getattr(widget, "objectName", lambda: "")() == "unexpected-error-dialog":
            widget.close()


def test_refuses_a_file_that_is_not_a_case(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args, **kw: shown.append(args[2]))
    bogus = tmp_path / "notes.osc"
    bogus.write_text("not a case")
    assert not window.open_case(str(bogus))
    assert "not an OpenSight case file" in shown[0]


def test_report_from_the_window(qtbot, window, tmp_path, evidence):
    window.open_case(str(new_case(tmp_path)))
    window.import_paths([str(evidence)])
    wait_job(qtbot, window)
    out = tmp_path / "gui-report.pdf"
    assert report.report_to(window, str(out), "all", [], appendix=False)
    wait_job(qtbot, window)
    assert out.exists() and out.read_bytes().startswith(b"%PDF")
    assert "Report written" in window.job_label.text()
    for box in window.findChildren(QMessageBox):
        box.close()
