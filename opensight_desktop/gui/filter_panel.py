"""The triage filter bar: hash-set hits (and "Hide known files", one click), cameras, a
folder, the capture-date range the timeline sets, GPS, near-duplicate stacks collapsed,
and "similar to" an item. It only says what is asked (``criteria``); the triage view
runs the query off the GUI thread (``case.triage`` criteria)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from opensight_desktop.case.hashset_match import ALERT_FLAG, KNOWN_FLAG
from opensight_desktop.case.triage import Filter
from opensight_desktop.textsafe import visible

ANY_HIT, KNOWN_HIT, ALERT_HIT = "any", "known", "alert"
SET_PREFIX = "set:"  # then the set's name (combo data round-trips plain strings best)


class FilterPanel(QWidget):
    changed = Signal()  # the criteria changed: run the filter again
    stacks_toggled = Signal(bool)  # collapsed or not (a view matter: no query)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.hide_known = QToolButton()
        self.hide_known.setText("Hide known files")
        self.hide_known.setCheckable(True)
        self.hide_known.setToolTip("Leave out items found in a known-file hash set (NSRL...)")
        self.hits = QComboBox()
        self.hits.setToolTip("Items by hash-set hits")
        self.set_hashsets([])
        self.stacks = QToolButton()
        self.stacks.setText("Collapse stacks")
        self.stacks.setCheckable(True)
        self.stacks.setChecked(True)
        self.stacks.setToolTip(
            "Near-duplicates show as one item with a count; expand one with Evidence > "
            "Expand or collapse stack (E)"
        )
        self.camera = QComboBox()
        self._cameras: list[tuple[str | None, str | None]] = []
        self.set_cameras([])
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("Folder...")
        self.folder.setClearButtonEnabled(True)
        self.folder.setMaximumWidth(180)
        self.gps = QComboBox()
        self.gps.addItem("GPS: any", None)
        self.gps.addItem("With GPS", True)
        self.gps.addItem("Without GPS", False)
        self.dates = QLabel()
        self.clear_dates = QToolButton()
        self.clear_dates.setText("✕")
        self.clear_dates.setToolTip("Clear the capture-date range")
        self.similar_label = QLabel()
        self.clear_similar = QToolButton()
        self.clear_similar.setText("✕")
        self.clear_similar.setToolTip("Show all items again")
        for widget in (
            self.hide_known,
            self.hits,
            self.stacks,
            self.camera,
            self.folder,
            self.gps,
            self.dates,
            self.clear_dates,
            self.similar_label,
            self.clear_similar,
        ):
            layout.addWidget(widget)
        layout.addStretch(1)
        self.taken: tuple[str | None, str | None] = (None, None)
        self.similar: tuple[int, frozenset[int]] | None = None  # (item, items shown)
        self._show_dates()
        self._show_similar()
        self.hide_known.toggled.connect(self._changed)
        self.hits.currentIndexChanged.connect(self._changed)
        self.camera.currentIndexChanged.connect(self._changed)
        self.folder.editingFinished.connect(self._folder_done)
        self.gps.currentIndexChanged.connect(self._changed)
        self.clear_dates.clicked.connect(lambda: self.set_taken(None, None))
        self.clear_similar.clicked.connect(lambda: self.set_similar(None))
        self.stacks.toggled.connect(self.stacks_toggled)
        self._folder = ""

    # -- choices from the case -----------------------------------------------------------

    def set_hashsets(self, names: list[str]) -> None:
        current = self.hits.currentData()
        self.hits.blockSignals(True)
        self.hits.clear()
        self.hits.addItem("Hash sets: any", None)
        self.hits.addItem("In any hash set", ANY_HIT)
        self.hits.addItem("In a known-file set", KNOWN_HIT)
        self.hits.addItem("In an alert set", ALERT_HIT)
        for name in names:
            self.hits.addItem(f"In set: {visible(name)}", SET_PREFIX + name)
        index = self.hits.findData(current)
        self.hits.setCurrentIndex(max(index, 0))
        self.hits.blockSignals(False)

    def set_cameras(self, cameras: list[tuple[str | None, str | None, int]]) -> None:
        current = self._camera()
        self.camera.blockSignals(True)
        self.camera.clear()
        self.camera.addItem("All cameras", None)
        self._cameras = [(make, model) for make, model, _count in cameras]
        for number, (make, model, count) in enumerate(cameras):
            name = " ".join(visible(part) for part in (make, model) if part)
            self.camera.addItem(f"{name} ({count})", number)
        index = (
            self.camera.findData(self._cameras.index(current)) if current in self._cameras else 0
        )
        self.camera.setCurrentIndex(max(index, 0))
        self.camera.blockSignals(False)

    # -- what is asked -------------------------------------------------------------------

    def set_taken(self, taken_from: str | None, taken_to: str | None) -> None:
        """The capture-date range (periods as the timeline counts them, e.g. "2024-05")."""
        if (taken_from, taken_to) == self.taken:
            return
        self.taken = (taken_from, taken_to)
        self._show_dates()
        self.changed.emit()

    def set_similar(
        self, similar: tuple[int, frozenset[int]] | None, announce: bool = True
    ) -> None:
        """Show only these items (an item and those similar to it); None: all again.
        ``announce``: say the criteria changed (not while a case closes)."""
        self.similar = similar
        self._show_similar()
        if announce:
            self.changed.emit()

    def forget_case(self) -> None:
        """What belongs to the case that closes (its dates, folder, cameras, "similar");
        the hash-set, GPS and stack choices stay for the next case. Said to nobody: the
        next case's filter runs when it opens."""
        self.taken = (None, None)
        self._show_dates()
        self.folder.clear()
        self._folder = ""
        self.set_cameras([])
        self.set_similar(None, announce=False)

    def criteria(self) -> Filter | None:
        """The triage criteria asked for; None when none is (every item)."""
        hits = self.hits.currentData()
        flags = hashsets = None
        if hits == ANY_HIT:
            flags = {KNOWN_FLAG, ALERT_FLAG}
        elif hits == KNOWN_HIT:
            flags = {KNOWN_FLAG}
        elif hits == ALERT_HIT:
            flags = {ALERT_FLAG}
        elif isinstance(hits, str) and hits.startswith(SET_PREFIX):
            hashsets = {hits.removeprefix(SET_PREFIX)}
        camera = self._camera()
        criteria = Filter(
            flags=flags,
            hashsets=hashsets,
            hide_known=self.hide_known.isChecked(),
            cameras=[camera] if camera is not None else None,
            folder=self._folder or None,
            taken_from=self.taken[0],
            taken_to=self.taken[1],
            has_gps=self.gps.currentData(),
        )
        return None if criteria == Filter() else criteria

    def _camera(self) -> tuple[str | None, str | None] | None:
        number = self.camera.currentData() if self.camera.count() else None
        return self._cameras[number] if isinstance(number, int) else None

    def _folder_done(self) -> None:
        folder = self.folder.text().strip()
        if folder != self._folder:
            self._folder = folder
            self.changed.emit()

    def _changed(self, *_args: object) -> None:
        self.changed.emit()

    def _show_dates(self) -> None:
        start, end = self.taken
        active = start is not None or end is not None
        if not active:
            text = ""
        elif start == end:
            text = f"Taken: {start}"
        else:
            text = f"Taken: {start or '…'} to {end or '…'}"
        self.dates.setText(text)
        self.dates.setVisible(active)
        self.clear_dates.setVisible(active)

    def _show_similar(self) -> None:
        active = self.similar is not None
        if self.similar is not None:
            item, shown = self.similar
            self.similar_label.setText(f"Similar to item {item}: {len(shown) - 1} found")
        self.similar_label.setVisible(active)
        self.clear_similar.setVisible(active)
