"""The window on the case session: menus, toolbar and keys built from the declared
actions, enablement that follows the session, and the evidence list read off the GUI
thread (pytest-qt, offscreen)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QThread
from PySide6.QtWidgets import QToolBar

from opensight_desktop.case.store import Case
from opensight_desktop.detector.store import ModelStore
from opensight_desktop.detector.verdict import DEFAULT_BANDS
from opensight_desktop.gui.actions import ACTIONS
from opensight_desktop.gui.item_panel import ItemPanel
from opensight_desktop.gui.main_window import MainWindow
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.session import reads
from tests import checkpoint_factory as cf
from tests import imagegen

KEYS = {
    *"01234",
    *"NPHSF",
    "Ctrl+F",
    "Esc",
    "Ctrl+I",
    "Ctrl+Shift+I",
    "Ctrl+R",
    "Ctrl+Shift+R",
    "Ctrl+N",
    "Ctrl+O",
    "Ctrl+W",
    "Ctrl+P",
    "Ctrl+E",
    "Ctrl+Q",
    # triage (issue 15): hide known, similar, stack, timeline, map, export, VICS categories
    "Ctrl+K",
    "Ctrl+Shift+F",
    "E",
    "Ctrl+T",
    "Ctrl+M",
    "Ctrl+Shift+E",
    "Ctrl+-",
    *(f"Ctrl+{number}" for number in range(10)),
    "Ctrl+Z",
    "F1",
}
MENUS = {
    "&Case": [
        "&New case...",
        "&Open case...",
        "&Close case",
        "",
        "&Verify integrity",
        "Verify a &report...",
        "Audit &log",
        "Case &information",
        "Acting &examiner...",
        "",
        "Generate &report (PDF)...",
        "Export &JSON...",
        "Export &CSV...",
        "E&xport (JSON, CSV, VICS, KML, GeoJSON)...",
        "",
        "&Quit",
    ],
    "&Edit": ["&Undo review change"],
    "&Evidence": [
        "Import &folders...",
        "Import f&iles...",
        "",
        "&Analyse all",
        "Analyse &selected",
        "&Tile scan of this image",
        "&Cancel running job",
        "",
        "Hide &known files",
        "Find &similar to this item",
        "E&xpand or collapse stack",
    ],
    "&Tools": [
        "Detector &models...",
        "&Settings...",
        "",
        "&Hash sets...",
        "&Match case against hash sets",
        "",
        "Capture &timeline",
        "&Map of located items",
    ],
    "&Help": ["&Keyboard shortcuts", "&About"],
}


@pytest.fixture(scope="module")
def hub_model(tmp_path_factory) -> Path:
    return cf.save_hub(cf.random_state(seed=7), tmp_path_factory.mktemp("gui") / "hub")


@pytest.fixture
def window(qtbot):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    yield win
    win.shutdown()
    win.close_case()


@pytest.fixture
def evidence(tmp_path) -> Path:
    folder = tmp_path / "evidence"
    folder.mkdir()
    for i in range(6):
        imagegen.save(folder / f"photo_{i}.png", "PNG", size=(120 + i, 90), seed=i)
    return folder


def new_case(tmp_path: Path, folder: Path | None = None) -> Path:
    path = tmp_path / "case.osc"
    with Case.create(path, number="GUI-2", title="Actions", examiner="Examiner") as case:
        if folder is not None:
            ImportJob(case, [str(folder)]).run()
    return path


def wait_job(qtbot, window, timeout=120_000):
    qtbot.waitUntil(lambda: window.session.job is None, timeout=timeout)


def test_every_action_is_declared_once_with_the_keys_as_before(window):
    ids = [spec.id for spec in ACTIONS]
    shortcuts = [spec.shortcut for spec in ACTIONS if spec.shortcut]
    assert len(set(ids)) == len(ids) and len(set(shortcuts)) == len(shortcuts)
    assert set(shortcuts) == KEYS
    for spec in ACTIONS:
        if spec.shortcut:
            keys = [key.toString() for key in window.action(spec.id).shortcuts()]
            assert keys == list(spec.keys)
    shown = {
        menu.title(): [a.text() for a in menu.actions()]
        for menu in (a.menu() for a in window.menuBar().actions())
    }
    assert shown == MENUS
    toolbar = window.findChild(QToolBar, "main-toolbar")
    assert [a.iconText() for a in toolbar.actions()] == [
        "Import",
        "Analyse",
        "Cancel",
        "Verify",
        "Report",
        "Hide known",
    ]


def test_actions_follow_the_case_the_selection_and_the_job(qtbot, window, tmp_path, evidence):
    enabled = {spec.id for spec in ACTIONS if window.action(spec.id).isEnabled()}
    assert enabled == {
        "case.new",
        "case.open",
        "app.quit",
        "models.manage",
        "app.settings",
        "app.shortcuts",
        "app.about",
        "triage.hashsets",  # the store is shared by all cases
    }
    assert window.open_case(str(new_case(tmp_path)))
    assert window.action("analysis.all").isEnabled()
    assert not window.action("analysis.selected").isEnabled()  # nothing selected yet
    assert not window.action("job.cancel").isEnabled()
    window.import_paths([str(evidence)])
    # while a job runs: no second job, and Esc cancels
    assert not window.action("analysis.all").isEnabled()
    assert not window.action("report.pdf").isEnabled()
    assert window.action("job.cancel").isEnabled()
    wait_job(qtbot, window)
    assert window.model.rowCount() == 6 and window.session.current_item is not None
    assert window.action("analysis.all").isEnabled()
    assert window.action("analysis.selected").isEnabled()
    assert not window.action("job.cancel").isEnabled()
    assert window.close_case()
    assert not window.action("case.close").isEnabled()


def test_the_evidence_list_is_read_off_the_gui_thread(
    qtbot, window, tmp_path, evidence, hub_model, monkeypatch
):
    store = ModelStore()
    store.set_active(store.import_path(hub_model)[0])  # random weights: active when chosen
    calls: list[tuple[str, str, object]] = []
    rows, thumbnails = reads.item_rows, reads.thumbnails

    def item_rows(case, ids=None, since_id=0):
        calls.append(("rows", QThread.currentThread().objectName(), ids))
        return rows(case, ids, since_id)

    def read_thumbnails(case, ids):
        calls.append(("thumbnails", QThread.currentThread().objectName(), list(ids)))
        return thumbnails(case, ids)

    monkeypatch.setattr(reads, "item_rows", item_rows)
    monkeypatch.setattr(reads, "thumbnails", read_thumbnails)
    window.open_case(str(new_case(tmp_path)))
    window.import_paths([str(evidence)])
    wait_job(qtbot, window)
    window.action("analysis.all").trigger()
    wait_job(qtbot, window)
    assert all(row.verdict is not None for row in window.model.rows)
    window.grid_button.click()
    window.gallery.grab()
    first = window.model.rows[0].id
    qtbot.waitUntil(lambda: window.model.thumbnail(first) is not None, timeout=10_000)
    on_gui_thread = [call for call in calls if call[1] != "case reader"]
    # one read of the whole list when the case opened, nothing else on the GUI thread
    assert on_gui_thread == [("rows", on_gui_thread[0][1], None)]
    asked = [call[2] for call in calls if call[0] == "rows" and call[2] is not None]
    ids = {row.id for row in window.model.rows}
    assert asked and all(set(batch) <= ids for batch in asked)
    assert any(call[0] == "thumbnails" for call in calls)


def test_the_item_panel_keeps_notes_being_typed_when_its_item_is_shown_again(
    qtbot, tmp_path, evidence
):
    """Before, a result arriving for the item shown refilled the panel and threw away the
    examiner's unsaved notes."""
    with Case.open(new_case(tmp_path, evidence)) as case:
        first, second = reads.item_view(case, 1)[0], reads.item_view(case, 2)[0]
        panel = ItemPanel()
        qtbot.addWidget(panel)
        panel.show_item(first, DEFAULT_BANDS)
        panel.notes_edit.setPlainText("Half-written note")
        panel.show_item(reads.item_view(case, 1)[0], DEFAULT_BANDS)  # shown again
        assert panel.notes_edit.toPlainText() == "Half-written note"
        saved: list[str] = []
        panel.notes_edited.connect(saved.append)
        panel.commit_notes()
        assert saved == ["Half-written note"]
        panel.show_item(second, DEFAULT_BANDS)  # another item: its own notes
        assert panel.notes_edit.toPlainText() == ""


def test_closing_the_case_during_a_job_asks_then_cancels_and_waits(
    qtbot, window, tmp_path, evidence, monkeypatch
):
    from PySide6.QtWidgets import QMessageBox

    asked: list[str] = []

    def answer(*args, **kwargs):
        asked.append(args[2])
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    window.open_case(str(new_case(tmp_path)))
    window.import_paths([str(evidence)])
    assert window.session.job is not None and window.progress.isVisible()
    assert window.close_case()
    assert "'Import' is running" in asked[0]
    assert window.session.job is None and window.session.case is None
    assert not window.progress.isVisible()  # the job's end was delivered before closing
    assert window.pages.currentWidget() is window.start_page
