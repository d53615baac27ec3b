"""Triage in the window: the filter bar, the capture-time histogram and the map, kept in
step with the open case. Every read of the case they need (the filter's items, the
near-duplicate stacks, the histogram, the located items, "similar to") runs on the
evidence list's background reader (``EvidenceModel.ask``), never on the GUI thread; the
answers come back here and go to the list, the session and the widgets."""

from __future__ import annotations

import sqlite3
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QObject
from PySide6.QtGui import QAction

from opensight_desktop.case.queries import ItemRow
from opensight_desktop.gui.evidence_filter import search_text
from opensight_desktop.gui.filter_panel import FilterPanel
from opensight_desktop.gui.hashset_dialog import HashSetDialog
from opensight_desktop.gui.map_view import MapPanel
from opensight_desktop.gui.timeline import TimelineWidget
from opensight_desktop.hashsets.store import list_sets
from opensight_desktop.session import Changes, JobEvent, JobEventKind, JobKind, reads

if TYPE_CHECKING:
    from opensight_desktop.gui.main_window import MainWindow


class TriageView(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.panel = FilterPanel()
        self.timeline = TimelineWidget()
        self.map = MapPanel()
        self.triage_ids: frozenset[int] | None = None  # the panel's criteria; None: all
        window.model.answered.connect(self._answered)
        self.panel.changed.connect(self.run_filter)
        self.panel.stacks_toggled.connect(self.collapse_stacks)
        self.timeline.range_chosen.connect(self.panel.set_taken)
        self.map.view.selected.connect(self._map_selected)
        for signal in (window.proxy.layoutChanged, window.proxy.rowsInserted):
            signal.connect(self._publish)
        self.panel.set_hashsets([info.name for info in _sets()])
        self.session.watch_jobs(self._job_event)

    def bind_hide_known(self, action: QAction) -> None:
        """The toolbar's "Hide known" shows, and sets, the filter bar's toggle."""
        action.setCheckable(True)
        action.toggled.connect(self.panel.hide_known.setChecked)
        self.panel.hide_known.toggled.connect(action.setChecked)

    # == reads of the case, off the GUI thread =============================================

    def _ask(self, name: str, read: Any, first: bool = False) -> None:
        self.window.model.ask(name, read, first)

    def refresh(self) -> None:
        """Read again what the widgets show (a case opened, a job ended)."""
        if self.session.case is None:
            return
        self.run_filter()
        self._ask("cameras", reads.cameras)
        self._ask("histogram", reads.capture_histogram)
        self._ask("gps", reads.gps_points)
        # the longest last: perceptual-hash grouping takes seconds on 100,000 items
        self._ask("stacks", partial(_stacks, threshold=self.session.settings.similar_threshold))
        rows = tuple(self.window.model.rows)  # immutable rows: safe to read on the reader
        self._ask("search texts", partial(_search_texts, rows=rows))

    def run_filter(self) -> None:
        criteria = self.panel.criteria()
        if criteria is None:
            self.triage_ids = None
            self._apply()
        elif self.session.case is not None:
            self._ask("filter", partial(_filter, criteria=criteria), first=True)
        self.timeline.show_range(*self.panel.taken)

    def find_similar(self, item_id: int) -> None:
        threshold = self.session.settings.similar_threshold
        self._ask("similar", partial(_similar, item_id=item_id, threshold=threshold), first=True)

    def settle(self) -> None:
        """Deliver now every answer asked for (tests, benchmarks)."""
        self.window.model.settle_answers()

    def _answered(self, name: str, answer: tuple[Any, str | None]) -> None:
        value, error = answer
        if error is not None:
            self.window.job_label.setText(f"The case could not be read ({name}): {error}")
            return
        if name == "filter":
            self.triage_ids = frozenset(value)
            self._apply()
        elif name == "stacks":
            self.session.set_stacks(value)
            self.window.proxy.set_stacks(value)
        elif name == "histogram":
            self.timeline.set_counts(*value)
            self.timeline.show_range(*self.panel.taken)
        elif name == "gps":
            self.map.set_points(value)
            self.map.view.select_ids(list(self.session.selected_ids))
        elif name == "cameras":
            self.panel.set_cameras(value)
        elif name == "search texts":
            self.window.proxy.keep_search_texts(value)
        elif name == "similar":
            item_id, near = value
            self.panel.set_similar((item_id, frozenset([item_id, *(i for i, _d in near)])))
            self.window.job_label.setText(
                f"{len(near)} item(s) within {self.session.settings.similar_threshold} bits "
                f"of item {item_id}"
                if near
                else f"No item is within {self.session.settings.similar_threshold} bits of "
                f"item {item_id} (or it has no perceptual hash: Tools > Match case)"
            )

    # == what the list shows ===============================================================

    def _apply(self) -> None:
        proxy = self.window.proxy
        ids = self.triage_ids
        opened: set[int] = set()
        similar = self.panel.similar
        if similar is not None:
            ids = similar[1] if ids is None else ids & similar[1]
            # every similar item shows, stacked or not
            opened = {self.session.stacks[i] for i in similar[1] if i in self.session.stacks}
            for stack in opened:
                self.session.expand_stack(stack, True)
        if ids != proxy.ids or not opened <= proxy.expanded:  # a full pass: only if needed
            proxy.expanded |= opened
            proxy.set_filters(ids=ids)

    def _publish(self, *_args: Any) -> None:
        """After the list changed what it shows: the session's filtered ids (what "report
        on the current filter" reports on), and an item shown that the filter now hides
        gives way to the first one shown (or none); so do selected items it hides."""
        window, proxy = self.window, self.window.proxy
        shown = proxy.visible_ids()
        self.session.set_filtered(None if len(shown) == proxy.sourceModel().rowCount() else shown)
        selected = window.selected_ids()  # hidden items are no longer selected
        if set(selected) != set(self.session.selected_ids):
            self.session.select(self.session.current_item, selected)
        if self.session.current_item is not None and not window.table.currentIndex().isValid():
            if proxy.rowCount():
                window.table.selectRow(0)
            else:
                window.table.selectionModel().clearSelection()
                self.session.select(None, ())
                window._show_item(None)

    def collapse_stacks(self, collapsed: bool) -> None:
        self.session.collapse_stacks(collapsed)
        self.window.proxy.set_collapsed(collapsed)

    def toggle_stack(self, item_id: int) -> None:
        """Expand a collapsed stack in place, or collapse an expanded one."""
        stack = self.session.stacks.get(item_id)
        if stack is None:
            return
        proxy = self.window.proxy
        if not proxy.collapsed:  # all open: collapsing this one means collapsing all
            self.panel.stacks.setChecked(True)
            return
        expanded = stack not in proxy.expanded
        self.session.expand_stack(stack, expanded)
        proxy.set_expanded(stack, expanded)
        self.select_items([item_id])

    def _map_selected(self, ids: list[int]) -> None:
        shown = self.select_items(ids)
        hidden = len(ids) - shown
        self.window.job_label.setText(
            f"{len(ids)} item(s) chosen on the map"
            + (f"; {hidden} of them hidden by the filter or a collapsed stack" if hidden else "")
        )

    def select_items(self, ids: list[int]) -> int:
        """Select these items in the list and the gallery (those the filter shows);
        returns how many were."""
        window = self.window
        selection = QItemSelection()
        first = None
        for item_id in ids:
            source = window.model.source_row(item_id)
            if source is None:
                continue
            index = window.proxy.mapFromSource(window.model.index(source, 0))
            if index.isValid():
                selection.select(index, index)
                if first is None:
                    first = index
        model = window.table.selectionModel()
        flags = QItemSelectionModel.SelectionFlag
        model.select(selection, flags.ClearAndSelect | flags.Rows)
        if first is not None:
            model.setCurrentIndex(first, flags.NoUpdate)
            window.table.scrollTo(first)
        return len(selection.indexes())

    # == the session says ==================================================================

    def changed(self, changes: Changes) -> None:
        """What the session said, after the window has shown it (the list reads the case
        that opened before this asks it anything)."""
        if changes.closing:  # the next case starts with no stacks and no "similar"
            self.window.proxy.forget_triage()
            self.panel.forget_case()
        if changes.case:
            self.triage_ids = None
            self.timeline.set_counts("day", [])
            self.map.set_points([])
            self.refresh()
        if changes.hashsets:
            self.panel.set_hashsets([info.name for info in _sets()])
        if changes.selection:
            self.map.view.select_ids(list(self.session.selected_ids))

    def _job_event(self, event: JobEvent) -> None:
        if event.kind != JobEventKind.ENDED:
            return
        if event.job.kind in REREAD_AFTER:
            self.refresh()  # new items, hits or perceptual hashes
        dialog = self.window.findChild(HashSetDialog)
        if dialog is not None:  # its buttons follow whether a job runs
            dialog.refresh()


# Jobs after which the stacks, timeline, map and filter are read again.
REREAD_AFTER = frozenset({JobKind.IMPORT, JobKind.MATCH})


def _sets() -> list[Any]:
    try:
        return list_sets()
    except (OSError, sqlite3.Error):  # an unreadable registry: no choices; the manager says
        return []


# The reads, run on the background reader with the case as their argument.


def _stacks(case: Any, threshold: int) -> dict[int, int]:
    return reads.stacks(case, threshold)


def _filter(case: Any, criteria: Any) -> list[int]:
    return reads.filter_ids(case, criteria)


def _search_texts(_case: Any, rows: tuple[ItemRow, ...]) -> dict[int, tuple[ItemRow, str]]:
    return {row.id: (row, search_text(row)) for row in rows}


def _similar(case: Any, item_id: int, threshold: int) -> tuple[int, list[tuple[int, int]]]:
    return item_id, reads.similar_to(case, item_id, threshold)
