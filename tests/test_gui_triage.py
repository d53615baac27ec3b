"""Issue 15 in the window: hash sets, hide known, stacks, similar items, category keys,
combined filters, the capture timeline, the offline map, the export dialog; and the
session's side of them."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QDialog, QMessageBox
from sqlalchemy import select

from opensight_desktop import present
from opensight_desktop.benchmarks.synthetic import camera_jpeg, synthetic_photo
from opensight_desktop.case import audit, review
from opensight_desktop.case.models import AuditEntry
from opensight_desktop.case.store import Case
from opensight_desktop.case.views import item_views
from opensight_desktop.gui.evidence_model import COLUMN, ItemIdRole, StackRole
from opensight_desktop.gui.export_dialog import ExportDialog
from opensight_desktop.gui.gallery import stack_badge
from opensight_desktop.gui.hashset_dialog import HashSetDialog, ImportHashSetDialog
from opensight_desktop.gui.main_window import MainWindow
from opensight_desktop.hashsets import store as hashset_store
from opensight_desktop.hashsets.store import import_set, list_sets, remove_set
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.session import CaseSession, JobEventKind
from opensight_desktop.settings import load_settings
from tests import imagegen
from tests.seized import write_seized


@pytest.fixture
def seized(tmp_path) -> Path:
    return write_seized(tmp_path)


@pytest.fixture
def triage_case_path(tmp_path, seized) -> Path:
    path = tmp_path / "triage.osc"
    with Case.create(path, number="T-15", title="Triage", examiner="Examiner") as case:
        ImportJob(case, [str(seized)]).run()
    return path


@pytest.fixture
def window(qtbot, triage_case_path):
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    assert win.open_case(str(triage_case_path))
    win.triage.settle()
    yield win
    win.shutdown()
    win.close_case()


def ids_by_name(window: MainWindow) -> dict[str, int]:
    return {row.file_name: row.id for row in window.model.rows}


def shown(window: MainWindow) -> list[str]:
    """File names of the rows the list shows."""
    names = []
    for row in range(window.proxy.rowCount()):
        item_id = window.proxy.index(row, 0).data(ItemIdRole)
        names.append(window.model.row_for(item_id).file_name)
    return sorted(names)


def select_names(window: MainWindow, *names: str) -> None:
    ids = ids_by_name(window)
    window.triage.select_items([ids[name] for name in names])


def wait_job(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.session.job is None, timeout=60_000)
    window.triage.settle()


def bulk_entries(case: Case) -> list[dict]:
    with case.read() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(review.BULK_ACTIONS))
        ).all()
        return [audit.details_of(entry) for entry in entries]


# == hash sets ==============================================================================


def test_hide_known_is_one_click_on_the_toolbar_and_the_filter_bar(window):
    everything = shown(window)
    assert "icon.png" in everything
    window.action("triage.hide_known").trigger()  # the toolbar button: one click
    window.triage.settle()
    assert window.triage.panel.hide_known.isChecked()
    assert "icon.png" not in shown(window)
    assert window.session.filtered_ids is not None
    assert ids_by_name(window)["icon.png"] not in window.session.filtered_ids
    window.triage.panel.hide_known.click()  # the filter bar's toggle, in step
    window.triage.settle()
    assert not window.action("triage.hide_known").isChecked()
    assert shown(window) == everything


def test_hash_set_hits_filter_and_show_in_the_item_panel(window):
    panel = window.triage.panel
    panel.hits.setCurrentIndex(panel.hits.findData("set:OS files"))
    window.triage.settle()
    assert shown(window) == ["icon.png"]
    assert window.session.filtered_ids == (ids_by_name(window)["icon.png"],)
    # the item shown before was filtered out: the first one shown takes its place
    assert window.session.current_item == ids_by_name(window)["icon.png"]
    assert window.item_panel.item.id == ids_by_name(window)["icon.png"]
    item, _heatmap = window.session.item(ids_by_name(window)["icon.png"])
    assert item is not None and item.hashset_hits
    text = window.item_panel.flags_label.text()
    assert present.hit_text(item.hashset_hits[0]) in text
    panel.hits.setCurrentIndex(panel.hits.findData("alert"))
    window.triage.settle()
    assert shown(window) == []
    assert window.session.current_item is None and window.item_panel.item is None


def test_hash_set_manager_lists_imports_removes_and_matches(qtbot, window, tmp_path, monkeypatch):
    window.action("triage.hashsets").trigger()
    dialog = window.findChild(HashSetDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.table.rowCount() == 1
    info = list_sets()[0]
    cells = [dialog.table.item(0, column).text() for column in range(dialog.table.columnCount())]
    assert cells[:3] == ["OS files", "known", "1"]
    assert cells[4] == info.source_sha256 and cells[5].startswith(info.imported_utc[:10])
    # import an alert set listing b.jpg, off the GUI thread, then match the case
    b = Path(window.model.row_for(ids_by_name(window)["b.jpg"]).path)
    alert = tmp_path / "alert.csv"
    alert.write_text("md5,name\n" + hashlib.md5(b.read_bytes()).hexdigest() + ",b\n", "utf-8")
    monkeypatch.setattr(ImportHashSetDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    monkeypatch.setattr(
        ImportHashSetDialog, "values", lambda self: (str(alert), "Watch list", "alert", "csv")
    )
    dialog.import_button.click()
    assert window.session.job is not None  # a session job: progress and Cancel in the bar
    wait_job(qtbot, window)
    assert [dialog.table.item(r, 0).text() for r in range(2)] == ["OS files", "Watch list"]
    dialog.match_button.click()
    wait_job(qtbot, window)
    assert "Matched 5 items against 2 hash set(s)" in window.job_label.text()
    panel = window.triage.panel
    panel.hits.setCurrentIndex(panel.hits.findData("alert"))
    window.triage.settle()
    assert shown(window) == ["b.jpg"]
    # remove: asked first, then gone from the store and the filter's choices
    dialog.table.selectRow(1)
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes)
    )
    dialog.remove_button.click()
    assert [info.name for info in list_sets()] == ["OS files"]
    assert dialog.table.rowCount() == 1
    assert panel.hits.findData("set:Watch list") == -1


def test_a_hash_set_import_can_be_cancelled_and_adds_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(hashset_store, "BATCH", 20)
    source = tmp_path / "big.txt"
    source.write_text(
        "".join(hashlib.md5(str(i).encode()).hexdigest() + "\n" for i in range(300_000)),
        encoding="utf-8",
    )
    session = CaseSession()
    events = []
    session.watch_jobs(events.append)
    job = session.import_hashset(str(source), "Big", "known", "list")
    job.cancel()
    session.wait_for_job()
    assert JobEventKind.CANCELLED in [event.kind for event in events]
    assert list_sets() == []
    assert not list(hashset_store.store_dir().glob("*.part"))


def test_removing_a_set_deletes_its_file_and_refuses_an_unknown_name(tmp_path):
    source = tmp_path / "l.txt"
    source.write_text("d41d8cd98f00b204e9800998ecf8427e\n", encoding="utf-8")
    info = import_set(source, "Empty file", "known")
    assert (hashset_store.store_dir() / info.file).is_file()
    assert remove_set("Empty file").name == "Empty file"
    assert not (hashset_store.store_dir() / info.file).exists()
    with pytest.raises(Exception, match="no hash set named"):
        remove_set("Empty file")


def test_a_registry_naming_a_file_outside_the_store_deletes_nothing(tmp_path):
    source = tmp_path / "l.txt"
    source.write_text("d41d8cd98f00b204e9800998ecf8427e\n", encoding="utf-8")
    import_set(source, "Crafted", "known")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    with sqlite3.connect(hashset_store.store_dir() / "registry.sqlite") as conn:
        conn.execute("UPDATE hash_set SET file = ?", (str(victim),))
    remove_set("Crafted")
    assert victim.read_text(encoding="utf-8") == "keep"


# == near-duplicate stacks ==================================================================


def test_stacks_are_collapsed_with_a_count_and_expand_in_place(qtbot, window):
    ids = ids_by_name(window)
    assert window.session.stacks == {ids["a.jpg"]: ids["a.jpg"], ids["a_small.png"]: ids["a.jpg"]}
    assert shown(window) == ["a.jpg", "b.jpg", "icon.png", "other.png"]  # collapsed
    row = window.proxy.mapFromSource(window.model.index(window.model.source_row(ids["a.jpg"]), 0))
    assert row.data(StackRole) == (2, False)
    assert "[▸ stack of 2]" in window.proxy.index(row.row(), COLUMN["file_name"]).data()
    # the gallery tile's badge: clicking it expands the stack in place
    window.grid_button.click()
    tile = window.proxy.index(row.row(), COLUMN["file_name"])
    window.gallery.scrollTo(tile)
    badge = stack_badge(window.gallery.visualRect(tile)).center()
    qtbot.mouseClick(window.gallery.viewport(), Qt.MouseButton.LeftButton, pos=badge)
    qtbot.waitUntil(lambda: ids["a.jpg"] in window.session.expanded_stacks)
    assert window.selected_ids() == [ids["a.jpg"]]  # the tile clicked stays selected
    assert shown(window) == ["a.jpg", "a_small.png", "b.jpg", "icon.png", "other.png"]
    assert ids["a.jpg"] in window.session.expanded_stacks
    expanded = window.proxy.mapFromSource(
        window.model.index(window.model.source_row(ids["a_small.png"]), 0)
    )
    assert expanded.data(StackRole) == (2, True)
    window.action("triage.stack").trigger()  # E: collapse it again
    assert shown(window) == ["a.jpg", "b.jpg", "icon.png", "other.png"]
    window.triage.panel.stacks.click()  # every stack open
    assert len(shown(window)) == 5


def test_a_review_key_on_a_collapsed_stack_reviews_the_whole_stack_in_one_entry(window):
    ids = ids_by_name(window)
    select_names(window, "a.jpg")
    state = present.REVIEW_ORDER[2]
    window.action(f"review.state.{state}").trigger()
    rows = {row.file_name: row.review_state for row in window.model.rows}
    assert rows["a.jpg"] == rows["a_small.png"] == state
    assert rows["b.jpg"] != state
    entries = bulk_entries(window.session.case)
    assert len(entries) == 1 and entries[0]["items"] == sorted([ids["a.jpg"], ids["a_small.png"]])


def test_category_keys_apply_to_the_selection_or_a_whole_stack(window):
    ids = ids_by_name(window)
    select_names(window, "a.jpg", "b.jpg")
    window.action("triage.category.3").trigger()
    assert window.action("triage.category.3").shortcut().toString() == "Ctrl+3"
    with window.session.case.read() as session:
        categories = {item.file_name: item.review.vics_category for item in item_views(session)}
    assert categories == {
        "a.jpg": 3,
        "a_small.png": 3,
        "b.jpg": 3,
        "icon.png": None,
        "other.png": None,
    }
    assert "VICS category 3 set on 3 item(s)" in window.job_label.text()
    assert window.item_panel.category_label.text() == "3"  # the item shown says so
    assert window.session.undo() is not None  # one undo step takes it back
    with window.session.case.read() as session:
        assert all(item.review.vics_category is None for item in item_views(session))
    assert ids["a.jpg"] in window.session.stacks


def test_find_similar_shows_the_items_within_the_threshold(window):
    select_names(window, "a.jpg")
    window.action("triage.similar").trigger()
    window.triage.settle()
    assert shown(window) == ["a.jpg", "a_small.png"]  # the stack opened: both show
    assert "Similar to item" in window.triage.panel.similar_label.text()
    assert "1 item(s) within 10 bits" in window.job_label.text()
    window.triage.panel.clear_similar.click()
    window.triage.settle()
    assert len(shown(window)) >= 4


# == combined filters, timeline, map ========================================================


def test_filters_combine_camera_folder_gps_and_the_list_filters(window):
    panel = window.triage.panel
    assert panel.camera.count() >= 2  # "All cameras" and the camera of a.jpg, b.jpg
    panel.camera.setCurrentIndex(1)
    window.triage.settle()
    assert shown(window) == ["a.jpg", "b.jpg"]
    panel.camera.setCurrentIndex(0)
    panel.gps.setCurrentIndex(panel.gps.findData(False))
    panel.hide_known.setChecked(True)
    window.triage.settle()
    # a.jpg has GPS: a_small.png, the first of its stack that matches, stands for it
    assert shown(window) == ["a_small.png", "other.png"]
    panel.gps.setCurrentIndex(0)
    panel.hide_known.setChecked(False)
    folder = str(Path(window.model.row_for(ids_by_name(window)["icon.png"]).path).parent)
    panel.folder.setText(folder)
    panel.folder.editingFinished.emit()
    window.triage.settle()
    assert shown(window) == ["a_small.png", "icon.png", "other.png"]
    window.search.setText("icon")  # the list's own search narrows further
    assert shown(window) == ["icon.png"]
    assert window.session.filtered_ids == (ids_by_name(window)["icon.png"],)


def test_the_timeline_click_or_drag_sets_the_capture_range_and_clear_shows_all(qtbot, window):
    window.action("triage.timeline").trigger()
    timeline = window.triage.timeline
    qtbot.waitUntil(lambda: timeline.isVisible())
    assert timeline.counts == [("2024-05-02", 1), ("2024-05-03", 1)]
    first = timeline.bar_rect(0).center()
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=QPoint(first.x(), first.y()))
    window.triage.settle()
    assert window.triage.panel.taken == ("2024-05-02", "2024-05-02")
    assert shown(window) == ["a.jpg"]
    last = timeline.bar_rect(1).center()
    qtbot.mousePress(timeline, Qt.MouseButton.LeftButton, pos=first)
    move = QMouseEvent(
        QEvent.Type.MouseMove,
        QPointF(last),
        QPointF(timeline.mapToGlobal(last)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    timeline.mouseMoveEvent(move)
    qtbot.mouseRelease(timeline, Qt.MouseButton.LeftButton, pos=last)
    window.triage.settle()
    assert window.triage.panel.taken == ("2024-05-02", "2024-05-03")
    assert shown(window) == ["a.jpg", "b.jpg"]
    window.triage.panel.clear_dates.click()
    window.triage.settle()
    assert window.triage.panel.taken == (None, None) and len(shown(window)) == 4


def test_the_offline_map_draws_points_and_a_rubber_band_selects_their_items(qtbot, window):
    window.action("triage.map").trigger()
    view = window.triage.map.view
    qtbot.waitUntil(lambda: view.isVisible())
    ids = ids_by_name(window)
    assert sorted(view.points) == sorted([ids["a.jpg"], ids["b.jpg"]])
    assert view.land.path().elementCount() > 5_000  # the land outline (126 rings)
    view.show_world()
    # a rubber band over the whole world, dragged with the mouse
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(2, 2))
    corner = QPoint(view.viewport().width() - 2, view.viewport().height() - 2)
    move = QMouseEvent(
        QEvent.Type.MouseMove,
        QPointF(corner),
        QPointF(view.viewport().mapToGlobal(corner)),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication_send(view.viewport(), move)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=corner)
    assert sorted(window.session.selected_ids) == sorted([ids["a.jpg"], ids["b.jpg"]])


def QApplication_send(target, event) -> None:
    from PySide6.QtWidgets import QApplication

    QApplication.sendEvent(target, event)


# == export =================================================================================


def test_the_export_dialog_offers_vics_kml_geojson_and_saves_the_vics_mapping(
    qtbot, window, tmp_path
):
    from opensight_desktop.gui.actions import triage as triage_actions

    dialog = ExportDialog(window.session.settings.vics_categories, window)
    formats = [dialog.format.itemData(i) for i in range(dialog.format.count())]
    assert formats == ["json", "csv", "vics", "kml", "geojson"]
    dialog.set_format("vics")
    assert not dialog.vics.isHidden()
    state = present.REVIEW_ORDER[2]
    assert dialog.categories[state].value() == 0  # shown: the default mapping
    dialog.categories[state].setValue(2)
    select_names(window, "b.jpg")
    window.action(f"review.state.{state}").trigger()
    out = tmp_path / "case.vics.json"
    assert triage_actions.export_as(window, "vics", dialog.mapping(), str(out))
    wait_job(qtbot, window)
    assert load_settings().vics_categories[state] == 2  # saved as the setting
    media = json.loads(out.read_text(encoding="utf-8"))["value"][0]["Media"]
    categories = {m["MediaFiles"][0]["FileName"]: m["Category"] for m in media}
    assert categories["b.jpg"] == 2
    for fmt in ("kml", "geojson"):
        path = tmp_path / f"case.{fmt}"
        assert triage_actions.export_as(window, fmt, dialog.mapping(), str(path))
        wait_job(qtbot, window)
        assert path.stat().st_size > 0
    assert json.loads((tmp_path / "case.geojson").read_text("utf-8"))["features"]


# == the list ===============================================================================


def test_sorting_orders_the_rows_and_keeps_the_selection(window):
    window.triage.panel.stacks.setChecked(False)
    select_names(window, "icon.png")
    window.table.sortByColumn(COLUMN["file_name"], Qt.SortOrder.DescendingOrder)
    names = [window.proxy.index(r, 0).data(ItemIdRole) for r in range(window.proxy.rowCount())]
    by_id = {v: k for k, v in ids_by_name(window).items()}
    assert [by_id[i] for i in names] == sorted(by_id.values(), reverse=True)
    assert [by_id[i] for i in window.selected_ids()] == ["icon.png"]
    assert window.session.current_item == ids_by_name(window)["icon.png"]


def test_triage_reads_run_on_the_background_reader_not_the_gui_thread(window, monkeypatch):
    import threading

    from opensight_desktop.session import reads

    threads = []
    real = reads.filter_ids

    def spy(case, criteria, groups=None):
        threads.append(threading.current_thread())
        return real(case, criteria, groups)

    monkeypatch.setattr(reads, "filter_ids", spy)
    window.triage.panel.hide_known.setChecked(True)
    window.triage.settle()
    assert threads and threads[0] is not threading.main_thread()
    assert "icon.png" not in shown(window)


def test_the_timeline_axis_is_continuous_and_odd_dates_fall_back_to_longer_periods(
    tmp_path, seized
):
    from opensight_desktop.session import reads

    (seized / "DCIM" / "c.jpg").write_bytes(camera_jpeg(synthetic_photo(480, 360, 9), seed=9))
    path = tmp_path / "gaps.osc"
    with Case.create(path, number="1", title="t", examiner="e") as case:
        ImportJob(case, [str(seized)]).run()
        bucket, counts = reads.capture_histogram(case)
    assert bucket == "day"
    assert counts[0] == ("2024-05-02", 1) and counts[-1] == ("2024-05-10", 1)
    assert len(counts) == 9 and sum(count for _day, count in counts) == 3  # zeros between
    # many days: by month, still continuous; a crafted non-date: by year, as stored
    many = [("2020-01-01", 1), ("2024-12-31", 2)]
    assert reads._continuous("day", many, 120) is None
    months = reads._continuous("month", [("2020-01", 1), ("2020-04", 2)], 120)
    assert months == [("2020-01", 1), ("2020-02", 0), ("2020-03", 0), ("2020-04", 2)]
    assert reads._continuous("day", [("2024-05-0X", 1)], 120) is None
    assert reads._continuous("year", [("20x4", 1)], 300) == [("20x4", 1)]
    assert reads._continuous("year", [("0001", 1), ("9999", 1)], 300) is None


def test_a_failed_hash_set_import_says_why_and_the_manager_works_again(
    qtbot, window, tmp_path, monkeypatch
):
    window.action("triage.hashsets").trigger()
    dialog = window.findChild(HashSetDialog)
    broken = tmp_path / "broken.json"
    broken.write_text('{"value": [{"MD5": ', encoding="utf-8")
    monkeypatch.setattr(ImportHashSetDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    monkeypatch.setattr(
        ImportHashSetDialog, "values", lambda self: (str(broken), "Broken", "alert", "auto")
    )
    said = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a: said.append(a[2])))
    dialog.import_button.click()
    assert not dialog.import_button.isEnabled()  # one job at a time
    wait_job(qtbot, window)
    assert said and "not a readable VICS JSON file" in said[0]
    assert dialog.import_button.isEnabled() and dialog.table.rowCount() == 1


def test_rows_follow_their_changes_and_new_items_under_a_filter(qtbot, window, tmp_path):
    """The list's proxy judges a changed or added row again (the others stay judged)."""
    window.triage.panel.stacks.setChecked(False)
    state = present.REVIEW_ORDER[0]
    window.review_filter.setCurrentIndex(window.review_filter.findData(state))
    assert len(shown(window)) == 5
    select_names(window, "b.jpg")
    window.action(f"review.state.{present.REVIEW_ORDER[3]}").trigger()
    # the item reviewed stays listed while shown (N then moves on once), but is not counted
    assert "b.jpg" in shown(window) and window.count_label.text() == "4 of 5 items"
    window.search.setText("png")
    assert shown(window) == ["a_small.png", "icon.png", "other.png"]
    more = tmp_path / "more"
    more.mkdir()
    imagegen.save(more / "new.png", "PNG", seed=31)
    imagegen.save(more / "new.gif", "GIF", seed=32)
    window.import_paths([str(more)])
    wait_job(qtbot, window)
    assert shown(window) == ["a_small.png", "icon.png", "new.png", "other.png"]
    window.search.setText("")
    window.review_filter.setCurrentIndex(0)
    assert len(shown(window)) == 7


def test_items_a_filter_hides_are_no_longer_selected(window):
    ids = ids_by_name(window)
    select_names(window, "a.jpg", "icon.png")
    assert sorted(window.session.selected_ids) == sorted([ids["a.jpg"], ids["icon.png"]])
    window.action("triage.hide_known").trigger()
    window.triage.settle()
    assert window.session.selected_ids == (ids["a.jpg"],)  # a review key acts on it alone


def test_a_case_closing_takes_its_dates_folder_and_cameras_with_it(qtbot, window, tmp_path):
    panel = window.triage.panel
    panel.set_taken("2024-05-02", "2024-05-02")
    panel.folder.setText("/somewhere")
    panel.folder.editingFinished.emit()
    panel.hide_known.setChecked(True)
    window.triage.settle()
    assert panel.camera.count() == 2
    assert window.close_case()
    assert panel.taken == (None, None) and panel.folder.text() == ""
    assert panel.camera.count() == 1  # "All cameras" only
    assert panel.hide_known.isChecked()  # a preference, kept for the next case
    assert window.open_case(str(new_case_path(tmp_path)))
    window.triage.settle()
    assert window.proxy.rowCount() == 0 and window.session.stacks == {}


def new_case_path(tmp_path: Path) -> Path:
    path = tmp_path / "empty.osc"
    Case.create(path, number="E", title="Empty", examiner="Examiner").close()
    return path


def test_crafted_gps_values_are_left_off_the_map(triage_case_path):
    from opensight_desktop.session import reads

    with sqlite3.connect(triage_case_path) as conn:
        located = [
            r[0]
            for r in conn.execute(
                "SELECT item_id FROM item_metadata WHERE gps_latitude IS NOT NULL ORDER BY item_id"
            )
        ]
        conn.execute("UPDATE item_metadata SET gps_latitude = 512.0 WHERE item_id = ?", located[:1])
        conn.execute(
            "UPDATE item_metadata SET gps_longitude = 'east' WHERE item_id = ?", located[1:2]
        )
    with Case.open(triage_case_path, read_only=True) as case:
        assert reads.gps_points(case) == []


def test_case_export_action_asks_format_and_file_then_exports(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    out = tmp_path / "places.geojson"

    def accept(dialog):
        dialog.set_format("geojson")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ExportDialog, "exec", accept)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: (str(out), "")))
    window.action("triage.export").trigger()
    wait_job(qtbot, window)
    features = json.loads(out.read_text("utf-8"))["features"]
    assert len(features) == 2  # the two located photos
    assert "Exported 2 items" in window.job_label.text()


def test_the_world_outline_draws_no_line_across_the_map(qtbot):
    """Rings that cross the antimeridian are unwrapped: no edge jumps half the world (but
    Antarctica's, which closes along its southern edge, below 80 degrees south)."""
    from opensight_desktop.gui.map_view import land_path

    path = land_path()
    longest = 0.0
    for index in range(1, path.elementCount()):
        here, before = path.elementAt(index), path.elementAt(index - 1)
        if here.isLineTo() and min(here.y, before.y) < 80:  # scene y is minus latitude
            longest = max(longest, abs(here.x - before.x))
    assert path.elementCount() > 5_000 and longest < 60
