"""Triage: hash sets (the manager, matching the case), near-duplicate stacks (expand or
collapse one, find similar items), VICS categories by key on the selection or a whole
stack, "Hide known files", the timeline and the map, and the export dialog."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from opensight_desktop.errors import OpenSightError
from opensight_desktop.gui.actions.jobs import start_job
from opensight_desktop.gui.actions.registry import Action, Menu, Place, Tool, When
from opensight_desktop.gui.export_dialog import SUFFIX, ExportDialog
from opensight_desktop.gui.hashset_dialog import HashSetDialog
from opensight_desktop.textsafe import visible

if TYPE_CHECKING:
    from opensight_desktop.gui.main_window import MainWindow


def hash_sets(window: MainWindow) -> None:
    dialog = window.findChild(HashSetDialog)
    if dialog is None:
        dialog = HashSetDialog(window)
    dialog.refresh()
    dialog.show()  # not modal: the import's progress and Cancel are in the status bar
    dialog.raise_()


def match_case(window: MainWindow) -> None:
    start_job(window, "Hash-set match", window.session.match_hashsets)


def hashset_imported(window: MainWindow, info: Any) -> None:
    window.job_label.setText(
        f"Hash set '{visible(info.name)}' imported: {info.entries:,} entries ({info.kind}). "
        "Match the case against the sets to see its hits."
    )


def match_done(window: MainWindow, summary: Any) -> None:
    failed = f"; {summary.phash_failed} could not be hashed" if summary.phash_failed else ""
    window.job_label.setText(
        f"Matched {summary.items} items against {len(summary.sets)} hash set(s): "
        f"{summary.items_with_hits} with hits, {summary.changed} changed; "
        f"{summary.phash_added} perceptual hash(es) added{failed}"
    )


def find_similar(window: MainWindow) -> None:
    item = window.session.current_item
    if item is not None:
        window.triage.find_similar(item)


def toggle_stack(window: MainWindow) -> None:
    item = window.session.current_item
    if item is not None:
        window.triage.toggle_stack(item)


def hide_known(window: MainWindow) -> None:
    """Nothing more to do: the action is checkable and bound to the filter bar's toggle
    (``TriageView.bind_hide_known``), so one click or Ctrl+K flips it."""


def _show_dock(window: MainWindow, dock: Any, height: int) -> None:
    dock.show()
    dock.raise_()
    window.resizeDocks([dock], [height], Qt.Orientation.Vertical)


def show_timeline(window: MainWindow) -> None:
    _show_dock(window, window.timeline_dock, 220)


def show_map(window: MainWindow) -> None:
    _show_dock(window, window.map_dock, 380)
    window.triage.map.view.show_points()


def set_category(window: MainWindow, category: int | None) -> None:
    session = window.session
    ids = session.stack_targets()  # a collapsed stack: all its items
    if not ids:
        return
    if session.read_only:
        window.job_label.setText("The case is open read-only: categories cannot change")
        return
    try:
        changes = session.bulk_review(ids, category=category)
    except OpenSightError as exc:
        QMessageBox.warning(window, "VICS category", str(exc))
        return
    window.model.settle()
    named = "no VICS category" if category is None else f"VICS category {category}"
    window.job_label.setText(
        f"{named} set on {len(changes.items)} item(s)"
        if changes.items
        else f"Already {named}: nothing changed"
    )


def export(window: MainWindow) -> None:
    case = window.session.case
    if case is None:
        return
    settings = window.session.settings
    dialog = ExportDialog(settings.vics_categories, window)
    if dialog.exec() != ExportDialog.DialogCode.Accepted:
        return
    export_as(window, dialog.fmt(), dialog.mapping(), None)


def export_as(window: MainWindow, fmt: str, mapping: dict[str, int], path: str | None) -> bool:
    """Save the VICS mapping (as the setting the export reads), then export ``fmt``."""
    session = window.session
    case = session.case
    if case is None:
        return False
    if fmt == "vics" and mapping != (session.settings.vics_categories or {}):
        session.settings.vics_categories = mapping
        session.save_settings()  # the export reads it from the settings file
    suffix = SUFFIX[fmt]
    if path is None:
        path, _ = QFileDialog.getSaveFileName(
            window,
            "Export",
            str(case.path.with_suffix(f".{fmt}.{suffix}" if fmt == "vics" else f".{suffix}")),
            f"{fmt.upper()} (*.{suffix})",
        )
    if not path:
        return False
    return start_job(window, f"Export {fmt.upper()}", lambda: session.export(fmt, path))


def _category_action(number: int) -> Action:
    def run(window: MainWindow) -> None:
        set_category(window, number)

    return Action(
        f"triage.category.{number}",
        f"VICS category {number}",
        run,
        f"Ctrl+{number}",
        when=When.CASE,
    )


ACTIONS = (
    Action(
        "triage.hashsets",
        "&Hash sets...",
        hash_sets,
        place=Place(Menu.TOOLS, 1, 0),
    ),
    Action(
        "triage.match",
        "&Match case against hash sets",
        match_case,
        place=Place(Menu.TOOLS, 1, 1),
        when=When.WRITABLE | When.IDLE,
    ),
    Action(
        "triage.hide_known",
        "Hide &known files",
        hide_known,
        "Ctrl+K",
        Place(Menu.EVIDENCE, 3, 0),
        Tool(5, "hide-known", "Hide known"),
        When.CASE,
    ),
    Action(
        "triage.similar",
        "Find &similar to this item",
        find_similar,
        "Ctrl+Shift+F",
        Place(Menu.EVIDENCE, 3, 1),
        when=When.CURRENT,
    ),
    Action(
        "triage.stack",
        "E&xpand or collapse stack",
        toggle_stack,
        "E",
        Place(Menu.EVIDENCE, 3, 2),
        when=When.CURRENT,
    ),
    Action(
        "triage.timeline",
        "Capture &timeline",
        show_timeline,
        "Ctrl+T",
        Place(Menu.TOOLS, 2, 0),
        when=When.CASE,
    ),
    Action(
        "triage.map",
        "&Map of located items",
        show_map,
        "Ctrl+M",
        Place(Menu.TOOLS, 2, 1),
        when=When.CASE,
    ),
    Action(
        "triage.export",
        "E&xport (JSON, CSV, VICS, KML, GeoJSON)...",
        export,
        "Ctrl+Shift+E",
        Place(Menu.CASE, 2, 3),
        when=When.CASE | When.IDLE,
    ),
    Action(
        "triage.category.none",
        "No VICS category",
        lambda window: set_category(window, None),
        "Ctrl+-",
        when=When.CASE,
    ),
    *(_category_action(number) for number in range(10)),
)
