"""The examiner's review: states by key (0-4) on the selection, tags and notes from the
item panel, and walking through the items (N, P)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QMessageBox

from opensight_desktop import present
from opensight_desktop.errors import OpenSightError
from opensight_desktop.gui.actions.registry import Action, When
from opensight_desktop.gui.evidence_model import COLUMN

if TYPE_CHECKING:
    from opensight_desktop.gui.main_window import MainWindow


def set_review_state(window: MainWindow, state: str) -> None:
    session = window.session
    ids = session.targets()
    if not ids:
        return
    if session.read_only:
        window.job_label.setText("The case is open read-only: review states cannot change")
        return
    ids = session.review_targets(state)  # a collapsed stack: all its items, one entry
    window.model.settle()  # the examiner's own change shows at once
    window.job_label.setText(
        f"Review state '{present.review_label(state)}' set on {len(ids)} item(s)"
    )


def set_tags(window: MainWindow, tags: list[str]) -> None:
    item = window.item_panel.item
    if item is None:
        return
    try:
        window.session.set_tags(tags, item.id)
    except OpenSightError as exc:
        QMessageBox.warning(window, "Tags not saved", str(exc))
        return
    window.model.settle()


def set_notes(window: MainWindow, notes: str) -> None:
    item = window.item_panel.item
    if item is None:
        return
    try:
        window.session.set_notes(notes, item.id)
    except OpenSightError as exc:  # too long, or a case open read-only
        QMessageBox.warning(window, "Notes not saved", str(exc))
        return
    window.job_label.setText(f"Notes saved for item {item.id}")


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
    return Action(f"review.state.{state}", text, run, str(number), when=When.CASE)


ACTIONS = (
    *(_state_action(number, state) for number, state in enumerate(present.REVIEW_ORDER)),
    Action("review.next", "Next item", next_item, "N", when=When.CASE),
    Action("review.previous", "Previous item", previous_item, "P", when=When.CASE),
)
