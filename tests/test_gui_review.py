"""Issue 14 in the window: model provenance that never misleads, the examiner working,
checking a report, review with undo through one path, integrity marks, the right-click
menu and the shortcut help from the action registry (pytest-qt, offscreen)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QRect, Qt, QUrl
from PySide6.QtGui import QColor, QDesktopServices, QGuiApplication, QImage, QPainter
from PySide6.QtWidgets import QAbstractItemView, QDialog, QMessageBox, QStyleOptionViewItem

from opensight_desktop import present
from opensight_desktop.case import audit
from opensight_desktop.case.store import Case
from opensight_desktop.detector.store import ModelStore
from opensight_desktop.gui import dialogs, examiner, prefs
from opensight_desktop.gui.actions import ACTIONS, models
from opensight_desktop.gui.actions import report as report_actions
from opensight_desktop.gui.dialogs import (
    AuditLogDialog,
    ModelManagerDialog,
    NewCaseDialog,
    OutcomeDialog,
    ReportDialog,
    ShortcutHelp,
)
from opensight_desktop.gui.evidence_model import COLUMN, PROBLEM_COLOR, IntegrityRole
from opensight_desktop.gui.gallery import REVIEW_BADGE_COLORS, TILE
from opensight_desktop.gui.viewer_panel import OPACITY_MIN_WIDTH
from opensight_desktop.session import reads
from tests import imagegen
from tests.test_gui import hub_model, new_case, wait_job, window  # noqa: F401 (fixtures)

REAL_ASK_EXAMINER = examiner.ask_examiner


@pytest.fixture
def photos(tmp_path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(5):
        imagegen.save(folder / f"p{i}.png", "PNG", size=(96 + i, 80), seed=i)
    return folder


def opened(qtbot, window, tmp_path, folder) -> list[int]:  # noqa: F811
    assert window.open_case(str(new_case(tmp_path)))
    window.import_paths([str(folder)])
    wait_job(qtbot, window)
    return [row.id for row in window.model.rows]


def entries(window, action: str) -> list[dict]:  # noqa: F811
    return [
        json.loads(row.details)
        for row in window.session.audit_log().entries
        if row.action == action
    ]


def select_rows(window, rows: list[int]) -> None:  # noqa: F811
    from PySide6.QtCore import QItemSelectionModel

    selection = window.table.selectionModel()
    flags = QItemSelectionModel.SelectionFlag
    selection.setCurrentIndex(window.proxy.index(rows[0], 0), flags.ClearAndSelect | flags.Rows)
    for row in rows[1:]:
        selection.select(window.proxy.index(row, 0), flags.Select | flags.Rows)


# -- model provenance ------------------------------------------------------------------


def test_unpublished_weights_import_warns_resets_the_status_and_is_not_made_active(
    qtbot,
    window,  # noqa: F811
    hub_model,  # noqa: F811
    monkeypatch,
):
    shown: list[tuple[str, str, str]] = []
    for kind in ("warning", "information"):
        monkeypatch.setattr(
            QMessageBox,
            kind,
            staticmethod(
                lambda _p, title, text, *a, _k=kind, **kw: shown.append((_k, title, text))
            ),
        )
    assert models.import_model(window, str(hub_model))
    wait_job(qtbot, window)
    [(kind, title, text)] = shown
    model = ModelStore().list()[0]
    assert kind == "warning" and "not published" in title
    assert present.UNPUBLISHED_WEIGHTS in text and text.count(model.id) == 1
    assert "Checking and copying" not in window.job_label.text()
    assert present.release_text(model.id) in window.job_label.text()
    assert ModelStore().active() is None  # never made active without being chosen


def test_model_manager_shows_the_release_and_asks_before_unpublished_weights(
    qtbot,
    window,  # noqa: F811
    hub_model,  # noqa: F811
    monkeypatch,
):
    store = ModelStore()
    model, _ = store.import_path(hub_model)
    dialog = ModelManagerDialog(window.session, window)
    qtbot.addWidget(dialog)
    assert dialog.table.item(0, 4).text() == present.release_text(model.id)
    dialog.table.selectRow(0)
    answers = iter([False, True])
    asked: list[str] = []

    def confirm(_parent, name, sha256):
        asked.append(sha256)
        return next(answers)

    monkeypatch.setattr(dialogs, "confirm_unpublished", confirm)
    dialog.activate.click()
    assert asked == [model.id] and ModelStore().active() is None  # declined: not active
    dialog.activate.click()
    assert ModelStore().active().id == model.id  # "Use these weights"


def test_analysis_names_the_weights_and_the_item_panel_shows_them_in_red(
    qtbot,
    window,  # noqa: F811
    tmp_path,
    photos,
    hub_model,  # noqa: F811
):
    store = ModelStore()
    model = store.import_path(hub_model)[0]
    store.set_active(model)
    opened(qtbot, window, tmp_path, photos)
    said: list[str] = []
    window.session.watch_jobs(lambda _event: said.append(window.job_label.text()))
    window.action("analysis.all").trigger()
    wait_job(qtbot, window)
    release = present.release_text(model.id)
    assert any(text.startswith("Analysis") and release in text for text in said), said
    window.table.selectRow(0)
    panel = window.item_panel
    assert panel.weights.text() == present.weights_sentence(model.id)
    assert "#c0392b" in panel.weights.styleSheet() and panel.weights.isVisibleTo(panel)
    qtbot.keyClick(window.table, Qt.Key.Key_4)  # follow up
    assert panel.review_text.text().startswith(f"{present.EXAMINER_REVIEW}: Follow up (set by ")


# -- the examiner --------------------------------------------------------------------------


def test_the_examiner_is_asked_once_remembered_and_named_in_the_audit_log(
    qtbot,
    window,  # noqa: F811
    tmp_path,
    photos,
    monkeypatch,
    examiner_question,
):
    asked: list[tuple[str, str]] = []

    def answer(_parent, default, case_examiner):
        asked.append((default, case_examiner))
        return "Insp. Kim"

    monkeypatch.setattr(examiner, "ask_examiner", answer)
    ids = opened(qtbot, window, tmp_path, photos)
    assert asked == [("Zoë Ölander", "Zoë Ölander")]  # the case's examiner, filled in
    assert window.open_case(str(tmp_path / "case.osc"))  # again: not asked again
    assert len(asked) == 1 and window.examiner_label.text() == "Examiner: Insp. Kim"
    assert prefs.remembered_examiner() == "Insp. Kim"
    window.session.set_review_state("follow_up", ids[:1])
    [entry] = entries(window, "items.review")
    assert entry[audit.EXAMINER_KEY] == "Insp. Kim"
    dialog = AuditLogDialog(window.session.audit_log(), window)
    qtbot.addWidget(dialog)
    headers = [dialog.table.horizontalHeaderItem(c).text() for c in range(8)]
    assert headers[2] == "Examiner" and headers[6] == "File"
    rows = {dialog.table.item(r, 4).text(): r for r in range(dialog.table.rowCount())}
    added = rows["item.added"]
    assert dialog.table.item(added, 6).text().startswith("p")  # the file's name
    assert dialog.table.item(rows["items.review"], 2).text() == "Insp. Kim"


# -- checking a report ------------------------------------------------------------------


def test_verify_a_report_from_the_case_menu(
    qtbot,
    window,  # noqa: F811
    tmp_path,
    photos,
    monkeypatch,
):
    from PySide6.QtWidgets import QFileDialog

    opened(qtbot, window, tmp_path, photos)
    out = tmp_path / "r.pdf"
    assert report_actions.report_to(window, str(out), "summary", [], appendix=False)
    wait_job(qtbot, window)
    for box in window.findChildren(QMessageBox):
        box.close()
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(out.read_bytes() + b"\n% edited")
    for path, ok in ((out, True), (forged, False)):
        monkeypatch.setattr(
            QFileDialog, "getOpenFileName", staticmethod(lambda *a, _p=path, **k: (str(_p), ""))
        )
        window.action("case.verify_report").trigger()
        wait_job(qtbot, window)
        dialog = window.findChildren(OutcomeDialog)[-1]
        assert dialog.ok is ok
        if ok:
            assert dialog.headline.text().startswith("Result: VERIFIED")
            assert "#1e7e34" in dialog.headline.styleSheet()
        else:
            assert dialog.headline.text() == "Result: NOT VERIFIED"
            assert "#c0392b" in dialog.headline.styleSheet()
        dialog.close()
        dialog.deleteLater()


def test_the_report_dialog_offers_scopes_review_states_and_the_current_filter(
    qtbot,
    window,  # noqa: F811
    tmp_path,
    photos,
    monkeypatch,
):
    from PySide6.QtWidgets import QFileDialog

    ids = opened(qtbot, window, tmp_path, photos)
    window.session.set_review_state("follow_up", ids[:3])
    window.model.settle()
    window.search.setText("p1")  # the filter shows one item
    out = tmp_path / "filtered.pdf"

    def answer(dialog: ReportDialog) -> int:
        assert set(dialog.scopes) == {"all", "flagged", "reviewed", "summary", "selected"}
        assert dialog.in_filter.isEnabled() and "(1)" in dialog.in_filter.text()
        dialog.scopes["reviewed"].setChecked(True)
        dialog.state_boxes["follow_up"].setChecked(True)
        dialog.in_filter.setChecked(True)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ReportDialog, "exec", answer)
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), ""))
    )
    window.action("report.pdf").trigger()
    wait_job(qtbot, window)
    for box in window.findChildren(QMessageBox):
        box.close()
    [entry] = entries(window, "report.generated")
    options = entry["options"]
    assert options["scope"] == "reviewed" and options["review_states"] == ["follow_up"]
    assert options["item_ids"] == [ids[1]] and entry["items"] == 1


# -- review ------------------------------------------------------------------------------


def test_a_review_key_with_the_not_reviewed_filter_then_n_advances_once(
    qtbot,
    window,  # noqa: F811
    tmp_path,
    photos,
):
    ids = opened(qtbot, window, tmp_path, photos)
    window.review_filter.setCurrentIndex(window.review_filter.findData("not_reviewed"))
    window.table.selectRow(0)
    visited = [window.session.current_item]
    for left in (4, 3, 2):
        qtbot.keyClick(window.table, Qt.Key.Key_1)
        # the item reviewed stays shown until the examiner moves on; the count is true
        assert window.session.current_item == visited[-1]
        assert window.count_label.text() == f"{left} of 5 items"
        qtbot.keyClick(window.table, Qt.Key.Key_N)
        visited.append(window.session.current_item)
    assert visited == ids[:4]  # one step each time: nothing skipped
    assert window.proxy.rowCount() == 2  # the reviewed ones left the list once left


def test_tags_typed_apply_to_the_selection_and_undo_takes_back_each_change(
    qtbot,
    window,  # noqa: F811
    tmp_path,
    photos,
):
    ids = opened(qtbot, window, tmp_path, photos)
    select_rows(window, [0, 1, 2])
    panel = window.item_panel
    panel.tags_edit.setText("seized phone, Bob")
    panel.tags_edit.editingFinished.emit()
    assert [window.model.row_for(i).tags for i in ids[:4]] == [("Bob", "seized phone")] * 3 + [()]
    qtbot.keyClick(window.table, Qt.Key.Key_3)
    panel.notes_edit.setPlainText("Compared.")
    panel.commit_notes()
    assert window.action("edit.undo").text() == "&Undo notes changed on 1 item"
    for expected in ("Compared.", ""):
        view, _ = window.session.item(ids[0])
        assert view.review.notes == expected
        window.action("edit.undo").trigger()
    assert window.model.row_for(ids[1]).review_state == "not_reviewed"  # the state undone
    assert panel.notes_edit.toPlainText() == ""
    qtbot.keyClick(window.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # tags
    assert all(window.model.row_for(i).tags == () for i in ids)
    assert not window.action("edit.undo").isEnabled()
    assert len(entries(window, "items.review_undone")) == 3
    assert not entries(window, "item.tags") and not entries(window, "item.notes")


def test_deselecting_or_opening_another_case_clears_the_panel_and_the_search(
    qtbot,
    window,  # noqa: F811
    tmp_path,
    photos,
):
    opened(qtbot, window, tmp_path, photos)
    window.table.selectRow(1)
    assert window.item_panel.item is not None
    window.table.clearSelection()
    assert window.item_panel.item is None and window.session.current_item is None
    assert window.item_panel.hash_fields["sha256"].text() == ""
    window.search.setText("p3")
    other = tmp_path / "other"
    other.mkdir()
    empty = other / "case.osc"
    Case.create(empty, number="GUI-2", title="Empty", examiner="Zoë Ölander").close()
    assert window.open_case(str(empty))
    assert window.search.text() == "" and window.item_panel.item is None
    assert window.item_panel.title.text() == "No item selected"


def test_a_new_case_in_a_folder_that_does_not_exist_keeps_the_form(qtbot, monkeypatch, tmp_path):
    said: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", staticmethod(lambda _p, _t, text, *a, **k: said.append(text))
    )
    dialog = NewCaseDialog(default_folder=str(tmp_path / "no such folder" / "case.osc"))
    qtbot.addWidget(dialog)
    dialog.show()
    for field, text in ((dialog.number, "N-1"), (dialog.title, "T"), (dialog.examiner, "E")):
        field.setText(text)
    dialog.buttons.accepted.emit()
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert "does not exist" in said[0] and str(tmp_path / "no such folder") in said[0]
    assert (dialog.number.text(), dialog.title.text(), dialog.examiner.text()) == ("N-1", "T", "E")


# -- integrity marks, the right-click menu, tiles -----------------------------------------


def test_changed_evidence_is_marked_and_the_verify_dialog_looks_like_failure(
    qtbot,
    window,  # noqa: F811
    tmp_path,
    photos,
):
    ids = opened(qtbot, window, tmp_path, photos)
    (photos / "p2.png").write_bytes(b"changed")
    window.action("case.verify").trigger()
    wait_job(qtbot, window)
    [dialog] = window.findChildren(OutcomeDialog)
    assert not dialog.ok and "PROBLEMS FOUND" in dialog.headline.text()
    assert "#c0392b" in dialog.headline.styleSheet()
    changed = next(i for i in ids if window.model.row_for(i).file_name == "p2.png")
    row = window.model.source_row(changed)
    name = window.model.index(row, COLUMN["file_name"])
    assert name.data(IntegrityRole) == "changed" and name.data().startswith("⚠ ")
    assert name.data(Qt.ItemDataRole.ForegroundRole).color() == PROBLEM_COLOR
    assert window.model.index(row + 1, 0).data(IntegrityRole) is None
    window.table.selectRow(window.proxy.mapFromSource(name).row())
    assert window.item_panel.integrity.text().startswith("FILE CHANGED since import")
    window.table.selectRow(0)
    assert not window.item_panel.integrity.isVisibleTo(window.item_panel)
    dialog.close()
    assert window.open_case(str(tmp_path / "case.osc"))  # recorded: still marked
    assert window.model.integrity == {changed: "changed"}
    (photos / "p2.png").unlink()
    assert reads.integrity_problems(window.session.case) == {changed: "changed"}


def test_a_clean_verify_looks_like_success(qtbot, window, tmp_path, photos):  # noqa: F811
    opened(qtbot, window, tmp_path, photos)
    window.action("case.verify").trigger()
    wait_job(qtbot, window)
    [dialog] = window.findChildren(OutcomeDialog)
    assert dialog.ok and "#1e7e34" in dialog.headline.styleSheet()
    assert window.model.integrity == {}


def test_the_right_click_menu_is_built_from_the_registry(
    qtbot,
    window,  # noqa: F811
    tmp_path,
    photos,
    monkeypatch,
):
    ids = opened(qtbot, window, tmp_path, photos)
    select_rows(window, [0, 1])
    menu = window.context_menu()
    texts = [action.text() for action in menu.actions()]
    assert texts == [
        "Review state",
        "",
        "&Tags...",
        "",
        "Open containing &folder",
        "&Copy hashes (MD5, SHA-1, SHA-256)",
    ]
    states = [a.text() for a in menu.actions()[0].menu().actions()]
    assert states == [f"Review: {present.review_label(s)}" for s in present.REVIEW_ORDER]
    menu.actions()[0].menu().actions()[4].trigger()
    assert [window.model.row_for(i).review_state for i in ids[:3]] == ["follow_up"] * 2 + [
        "not_reviewed"
    ]
    from opensight_desktop.gui.dialogs import TagsDialog

    def tags_answer(dialog: TagsDialog) -> int:
        dialog.add.setText("beach, seen")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(TagsDialog, "exec", tags_answer)
    [tags_entry] = [a for a in menu.actions() if a.text() == "&Tags..."]
    tags_entry.trigger()
    assert [window.model.row_for(i).tags for i in ids[:3]] == [("beach", "seen")] * 2 + [()]
    opened_urls: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(opened_urls.append))
    window.action("evidence.open_folder").trigger()
    assert [url.toLocalFile() for url in opened_urls] == [str(photos)]  # never the file
    window.action("evidence.copy_hashes").trigger()
    lines = QGuiApplication.clipboard().text().splitlines()
    view, _ = window.session.item(ids[0])
    assert lines[:4] == [
        f"p0.png (item {ids[0]})",
        f"MD5: {view.md5}",
        f"SHA-1: {view.sha1}",
        f"SHA-256: {view.sha256}",
    ]
    assert len(lines) == 8


def test_gallery_tiles_carry_the_examiners_review_badge(
    qtbot,
    window,  # noqa: F811
    tmp_path,
    photos,
):
    ids = opened(qtbot, window, tmp_path, photos)
    window.session.set_review_state("follow_up", ids[:1])
    window.model.settle()

    def corner(row: int) -> QColor:
        image = QImage(TILE, QImage.Format.Format_RGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        option = QStyleOptionViewItem()
        option.rect = QRect(0, 0, TILE.width(), TILE.height())
        index = window.proxy.index(row, COLUMN["file_name"])
        window.gallery.itemDelegate().paint(painter, option, index)
        painter.end()
        return image.pixelColor(15, 15)  # inside the badge's corner of the picture

    assert corner(0) == QColor(REVIEW_BADGE_COLORS["follow_up"])
    assert corner(1) != QColor(REVIEW_BADGE_COLORS["follow_up"])


# -- keys, dialogs, layout ------------------------------------------------------------------


def test_the_shortcut_help_lists_every_declared_shortcut(qtbot, window):  # noqa: F811
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F1)
    [dialog] = window.findChildren(ShortcutHelp)
    shown = [
        (dialog.table.item(r, 0).text(), dialog.table.item(r, 1).text())
        for r in range(dialog.table.rowCount())
    ]
    declared = [spec for spec in ACTIONS if spec.keys]
    assert [keys for keys, _ in shown] == [", ".join(spec.keys) for spec in declared]
    assert ("F1, ?", "Keyboard shortcuts") in shown and ("Ctrl+Z", "Undo review change") in shown
    assert [k.toString() for k in window.action("app.shortcuts").shortcuts()] == ["F1", "?"]
    dialog.close()


def test_file_dialogs_remember_the_folder_and_import_takes_several_folders(qtbot, tmp_path):
    assert prefs.last_folder("evidence") == str(Path.home())
    prefs.remember_folder("evidence", str(tmp_path / "x.png"))
    assert prefs.last_folder("evidence") == str(tmp_path)
    dialog = dialogs.folder_dialog(None, "Import folders", "evidence")
    qtbot.addWidget(dialog)
    assert dialog.directory().absolutePath() == str(tmp_path)
    views = dialog.findChildren(QAbstractItemView)
    assert views and all(
        v.selectionMode() == QAbstractItemView.SelectionMode.ExtendedSelection for v in views
    )


def test_the_opacity_slider_and_the_score_header_keep_their_size(qtbot, window):  # noqa: F811
    window.viewer.resize(220, 400)
    window.viewer.show()
    qtbot.waitExposed(window)
    assert window.viewer.opacity.width() >= OPACITY_MIN_WIDTH
    header = window.table.horizontalHeader()
    column = COLUMN["probability"]
    assert window.table.columnWidth(column) >= header.sectionSizeHint(column)


def test_keys_work_right_after_a_dialog_closes(qtbot, window, tmp_path, photos):  # noqa: F811
    ids = opened(qtbot, window, tmp_path, photos)
    window.table.selectRow(0)
    window.activateWindow()
    window.item_panel.tags_edit.setFocus()  # where a click on the panel leaves it
    window.action("case.audit_log").trigger()
    [dialog] = window.findChildren(AuditLogDialog)
    dialog.reject()
    assert window.table.hasFocus()
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_N)
    assert window.session.current_item == ids[1]


def test_the_examiner_named_by_the_environment_is_not_asked(
    qtbot,
    window,  # noqa: F811
    tmp_path,
    monkeypatch,
    examiner_question,
):
    """Benchmarks and shared workstations name the examiner in OPENSIGHT_EXAMINER: a modal
    question would stop them."""
    monkeypatch.setenv(audit.EXAMINER_ENV, "  Lab   Account ")
    assert window.open_case(str(new_case(tmp_path)))
    assert examiner_question == [] and window.examiner_label.text() == "Examiner: Lab Account"


def test_the_examiner_question_offers_the_default_and_can_be_cancelled(qtbot, monkeypatch):
    from opensight_desktop.gui.examiner import ExaminerDialog

    seen: list[str] = []

    def accept(dialog: ExaminerDialog) -> int:
        seen.append(dialog.name.text())
        dialog.name.setText("  Dr. Ada  ")
        return QDialog.DialogCode.Accepted

    # the conftest answers the question for every test: the real one (imported at
    # collection, before any patch) is checked here
    monkeypatch.setattr(ExaminerDialog, "exec", accept)
    assert REAL_ASK_EXAMINER(None, "Zoë Ölander", "Zoë Ölander") == "Dr. Ada"
    assert seen == ["Zoë Ölander"]
    monkeypatch.setattr(ExaminerDialog, "exec", lambda _d: QDialog.DialogCode.Rejected)
    assert REAL_ASK_EXAMINER(None, "x", "x") is None
