"""The examiner's review: states by key (0-4) or the right-click menu on the selection,
tags and notes from the item panel (tags typed apply to every selected item, as states
do), tags from the right-click menu, undo, and walking through the items (N, P). Every
change goes through the session's one review path (audit-logged once per action, undoable).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QMessageBox

from opensight_desktop import present
from opensight_desktop.errors import OpenSightError
from opensight_desktop.gui.actions.registry import Action, ContextPlace, Menu, Place, When
from opensight_desktop.gui.dialogs import TagsDialog
from opensight_desktop.gui.evidence_model import COLUMN
from opensight_desktop.session import Changes

if TYPE_CHECKING:
    from opensight_desktop.gui.main_window import MainWindow


def _change(window: MainWindow, title: str, change: Callable[[], Changes]) -> Changes | None:
    """Make a review change; what stops it is said in a message box."""
    if window.session.read_only:
        window.job_label.setText("The case is open read-only: the review cannot change")
        return None
    try:
        changes = change()
    except OpenSightError as exc:  # too long, a case open read-only, an unknown item
        QMessageBox.warning(window, title, str(exc))
        return None
    window.model.settle()  # the examiner's own change shows at once
    return changes


def set_review_state(window: MainWindow, state: str) -> None:
    session = window.session
    ids = session.targets()
    if not ids:
        return
    # The item shown stays in the list while it is shown, even when the filter (e.g. "Not
    # reviewed") no longer matches it: N then moves on once, to the next item.
    window.proxy.pin(session.current_item)
    # a collapsed stack among the targets: all its items, one entry
    ids = session.stack_targets()
    if _change(window, "Review state", lambda: session.set_review_state(state, ids)) is None:
        return
    window.job_label.setText(
        f"Review state '{present.review_label(state)}' set on {len(ids)} item(s)"
    )


def set_tags(window: MainWindow, tags: list[str]) -> None:
    item = window.item_panel.item
    if item is None:
        return
    changes = _change(window, "Tags not saved", lambda: window.session.set_tags(tags, item.id))
    if changes:
        window.job_label.setText(f"Tags changed on {len(changes.items)} item(s)")


def set_notes(window: MainWindow, notes: str) -> None:
    item = window.item_panel.item
    if item is None:
        return
    if _change(window, "Notes not saved", lambda: window.session.set_notes(notes, item.id)):
        window.job_label.setText(f"Notes saved for item {item.id}")


def edit_tags(window: MainWindow) -> None:
    """Tags added to and removed from the selection (the right-click menu)."""
    ids = window.session.targets()
    if not ids:
        return
    dialog = TagsDialog(len(ids), window)
    if dialog.exec() != TagsDialog.DialogCode.Accepted:
        return
    add, remove = dialog.tags()
    changes = _change(
        window,
        "Tags",
        lambda: window.session.review(ids, add_tags=add, remove_tags=remove),
    )
    if changes is not None:
        window.job_label.setText(f"Tags changed on {len(changes.items)} item(s)")


def undo(window: MainWindow) -> None:
    session = window.session
    if session.read_only:
        return
    window.item_panel.commit_notes()  # notes being typed are a change of their own
    text = session.undo_text
    if text is None:
        return
    try:
        result = session.undo()
    except OpenSightError as exc:
        QMessageBox.warning(window, "Undo", str(exc))
        return
    window.model.settle()
    if result is None:
        return
    kept = (
        f"; {len(result.kept)} item(s) changed again since were left as they are"
        if result.kept
        else ""
    )
    window.job_label.setText(f"Undone: {text}{kept}")


def step(window: MainWindow, delta: int) -> None:
    current = window.table.currentIndex()
    row = (current.row() if current.isValid() else -1) + delta
    if 0 <= row < window.proxy.rowCount():
        index = window.proxy.index(row, 0)
        window.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        window.table.scrollTo(index)
        window.gallery.scrollTo(window.proxy.index(row, COLUMN["file_name"]))


def next_item(window: MainWindow) -> None:
    step(window, 1)


def previous_item(window: MainWindow) -> None:
    step(window, -1)


def _state_action(number: int, state: str) -> Action:
    def run(window: MainWindow) -> None:
        set_review_state(window, state)

    text = f"Review: {present.review_label(state)}"
    return Action(
        f"review.state.{state}",
        text,
        run,
        str(number),
        when=When.CASE,
        context=ContextPlace(0, number, "Review state"),
    )


ACTIONS = (
    Action(
        "edit.undo",
        "&Undo review change",
        undo,
        "Ctrl+Z",
        Place(Menu.EDIT, 0, 0),
        when=When.WRITABLE | When.UNDO,
    ),
    *(_state_action(number, state) for number, state in enumerate(present.REVIEW_ORDER)),
    Action(
        "review.tags",
        "&Tags...",
        edit_tags,
        when=When.WRITABLE | When.CURRENT,
        context=ContextPlace(1, 0),
    ),
    Action("review.next", "Next item", next_item, "N", when=When.CASE),
    Action("review.previous", "Previous item", previous_item, "P", when=When.CASE),
)
