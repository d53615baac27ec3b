"""The evidence list as a Qt model: one table model shared by the list and the gallery,
light rows (``case.queries.ItemRow``), thumbnails read on demand with an LRU cache, and a
proxy for sorting and filtering. No per-row widgets: it scales to 10,000+ items.

The case is read in full when it opens; after that only the rows that changed are read,
and thumbnails, both on the background reader (``gui.case_reader``)."""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QIcon, QPixmap

from opensight_desktop import present
from opensight_desktop.case.queries import ItemRow
from opensight_desktop.case.states import ItemStatus
from opensight_desktop.case.store import Case
from opensight_desktop.detector.verdict import VERDICT_COLORS as VERDICT_HEX
from opensight_desktop.gui.case_reader import CaseReader
from opensight_desktop.session import reads
from opensight_desktop.session.changes import Changes
from opensight_desktop.textsafe import visible

COLUMNS = [
    ("file_name", "File"),
    ("probability", "P(generated)"),
    ("verdict", "Verdict"),
    ("flags", "Flags"),
    ("camera", "Camera"),
    ("taken", "Taken"),
    ("status", "Status"),
    ("review", "Review"),
    ("tags", "Tags"),
]
COLUMN = {key: index for index, (key, _label) in enumerate(COLUMNS)}
ItemIdRole = Qt.ItemDataRole.UserRole + 1
SortRole = Qt.ItemDataRole.UserRole + 2
RowRole = Qt.ItemDataRole.UserRole + 3
IntegrityRole = Qt.ItemDataRole.UserRole + 4  # changed | missing | unreadable, else None
THUMB_CACHE = 1500

VERDICT_COLORS = {key: QColor(color) for key, color in VERDICT_HEX.items()}
PROBLEM_COLOR = QColor("#c0392b")
# What the newest integrity check found for an item's file, in a few words.
PROBLEM_TEXT = {
    "changed": "FILE CHANGED since import",
    "missing": "FILE MISSING from its recorded path",
    "unreadable": "FILE UNREADABLE now",
}


class EvidenceModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.case: Case | None = None
        self.rows: list[ItemRow] = []
        self._row_of: dict[int, int] = {}
        self._thumbs: OrderedDict[int, QIcon | None] = OrderedDict()
        self._reader: CaseReader | None = None  # started when first needed
        self.integrity: dict[int, str] = {}  # {item id: what verify found for its file}

    # -- loading -----------------------------------------------------------------------

    def set_case(self, case: Case | None) -> None:
        """Show this case's items (read here, in full); None: none. Reads still running
        for the previous case are waited for and dropped, so that it can be closed."""
        if self._reader is not None:
            self._reader.set_case(case)
            if case is None:
                self._reader.stop()
        self.beginResetModel()
        self.case = case
        self._thumbs.clear()
        self.rows = reads.item_rows(case) if case is not None else []
        self._row_of = {row.id: index for index, row in enumerate(self.rows)}
        self.endResetModel()

    def apply(self, changes: Changes) -> None:
        """Read again, in the background, the rows of the items added or changed."""
        if self.case is not None and changes.touched_items:
            self._reading().read_rows(changes.touched_items)

    def settle(self) -> None:
        """Show now every row asked for so far (waits for the reader): after a job ends
        and after the examiner's own edits, the list is up to date at once."""
        if self._reader is not None:
            self._reader.wait_for_rows()
            self._take_results()

    def shutdown(self) -> None:
        """Stop the background reader (before the window goes)."""
        if self._reader is not None:
            self._reader.stop()

    def _reading(self) -> CaseReader:
        if self._reader is None:
            self._reader = CaseReader(self)
            self._reader.set_case(self.case)
            self._reader.ready.connect(self._take_results)
        return self._reader

    def _take_results(self) -> None:
        if self._reader is None:
            return
        results = self._reader.take()
        new = []
        for row in results.rows:
            index = self._row_of.get(row.id)
            if index is None:
                new.append(row)
                continue
            self.rows[index] = row
            self.dataChanged.emit(self.index(index, 0), self.index(index, len(COLUMNS) - 1))
        if new:
            first = len(self.rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for row in sorted(new, key=lambda r: r.id):
                self._row_of[row.id] = len(self.rows)
                self.rows.append(row)
            self.endInsertRows()
        decoration = [Qt.ItemDataRole.DecorationRole]
        for item_id, image in results.thumbnails.items():
            self._cache_thumbnail(item_id, QIcon(QPixmap.fromImage(image)) if image else None)
            index = self._row_of.get(item_id)
            if index is not None:
                cell = self.index(index, COLUMN["file_name"])
                self.dataChanged.emit(cell, cell, decoration)

    def set_integrity(self, problems: dict[int, str]) -> None:
        """Mark the items whose files the newest integrity check found changed, missing or
        unreadable (and unmark those it no longer finds)."""
        touched = set(problems) ^ set(self.integrity) | {
            i for i in problems if self.integrity.get(i) != problems[i]
        }
        self.integrity = dict(problems)
        for item_id in touched:
            index = self._row_of.get(item_id)
            if index is not None:
                self.dataChanged.emit(self.index(index, 0), self.index(index, len(COLUMNS) - 1))

    def row_for(self, item_id: int) -> ItemRow | None:
        index = self._row_of.get(item_id)
        return self.rows[index] if index is not None else None

    def source_row(self, item_id: int) -> int | None:
        return self._row_of.get(item_id)

    # -- Qt model ----------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][1]
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        key = COLUMNS[index.column()][0]
        if role == ItemIdRole:
            return row.id
        if role == RowRole:
            return row
        problem = self.integrity.get(row.id)
        if role == IntegrityRole:
            return problem
        if problem is not None and key in ("file_name", "status"):
            if role == Qt.ItemDataRole.DisplayRole:
                shown = self._display(row, key)
                # the finding first: the column is narrow
                return f"⚠ {shown}" if key == "file_name" else f"{problem.upper()} ({shown})"
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(PROBLEM_COLOR)
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{PROBLEM_TEXT.get(problem, problem)} (the newest integrity check)"
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, key)
        if role == SortRole:
            return self._sort_key(row, key)
        if role == Qt.ItemDataRole.DecorationRole and key == "file_name":
            return self.thumbnail(row.id)
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "flags" and row.flags:
                return "\n".join(map(present.flag_title, row.flags))
            if key in ("status", "file_name") and row.error:
                return visible(row.error, keep="\n")
            if key == "file_name":
                return visible(row.path)
        if role == Qt.ItemDataRole.ForegroundRole and key in ("verdict", "probability"):
            color = VERDICT_COLORS.get(row.verdict or "")
            return QBrush(color) if color else None
        return None

    @staticmethod
    def _display(row: ItemRow, key: str) -> str | None:
        if key == "file_name":  # hidden characters as ⟨U+XXXX⟩: look-alike names differ
            name = visible(row.file_name)
            return name + (f"  (+{row.duplicates} copies)" if row.duplicates else "")
        if key == "probability":
            return "" if row.probability is None else present.probability_text(row.probability)
        if key == "verdict":
            if row.verdict is None and row.status == ItemStatus.ERROR:
                return "— (error)"
            return present.verdict_label(row.verdict)
        if key == "flags":
            return ", ".join(map(present.flag_title, row.flags))
        if key == "camera":
            return row.camera or ""
        if key == "taken":
            return (row.datetime_original or "").replace("T", " ")
        if key == "status":
            return row.status
        if key == "review":
            return present.review_label(row.review_state)
        if key == "tags":
            return ", ".join(row.tags)
        return None

    @staticmethod
    def _sort_key(row: ItemRow, key: str) -> float | str:
        if key == "probability":
            return -1.0 if row.probability is None else row.probability
        if key == "file_name":
            return row.file_name.lower()
        return str(EvidenceModel._display(row, key) or "").lower()

    # -- thumbnails --------------------------------------------------------------------

    def thumbnail(self, item_id: int) -> QIcon | None:
        """As an icon: views scale it to their icon size keeping its aspect ratio. None
        until the reader has read it (the row is repainted then), or if there is none."""
        if item_id in self._thumbs:
            self._thumbs.move_to_end(item_id)
            return self._thumbs[item_id]
        if self.case is not None:
            self._reading().read_thumbnails([item_id])
        return None

    def _cache_thumbnail(self, item_id: int, icon: QIcon | None) -> None:
        self._thumbs[item_id] = icon
        self._thumbs.move_to_end(item_id)
        if len(self._thumbs) > THUMB_CACHE:
            self._thumbs.popitem(last=False)


class EvidenceFilter(QSortFilterProxyModel):
    """Text search plus verdict / flag / status / review filters."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.text = ""
        self.verdict = ""  # "", a verdict, or "none" (no result)
        self.flag = ""
        self.status = ""
        self.review = ""
        # The item shown stays listed while shown, even when a review change means the
        # filter no longer matches it (then N moves on once); None: none pinned.
        self.pinned: int | None = None
        self.setSortRole(SortRole)

    def pin(self, item_id: int | None) -> None:
        self.pinned = item_id

    def unpin(self, keep: int | None = None) -> None:
        """Let the pinned item go unless it is ``keep`` (the item shown now)."""
        if self.pinned is not None and self.pinned != keep:
            self.set_filters(pinned=None)

    def matching(self) -> int:
        """How many rows match the filters (a pinned row that no longer does is not one)."""
        count = self.rowCount()
        model = self.sourceModel()
        if self.pinned is not None and isinstance(model, EvidenceModel):
            source = model.source_row(self.pinned)
            if source is not None and not self._matches(model.rows[source]):
                count -= 1
        return count

    def set_filters(self, **values: str | None) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.10
            self.beginFilterChange()
            for key, value in values.items():
                setattr(self, key, value)
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # pragma: no cover - older Qt
            for key, value in values.items():
                setattr(self, key, value)
            self.invalidateFilter()

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        model = self.sourceModel()
        assert isinstance(model, EvidenceModel)
        row = model.rows[source_row]
        return row.id == self.pinned or self._matches(row)

    def _matches(self, row: ItemRow) -> bool:
        if self.verdict and (row.verdict or "none") != self.verdict:
            return False
        if self.flag and self.flag not in row.flags:
            return False
        if self.status and row.status != self.status:
            return False
        if self.review and row.review_state != self.review:
            return False
        if self.text:
            haystack = " ".join(
                str(v)
                for v in (
                    row.file_name,
                    row.path,
                    row.camera,
                    row.sha256,
                    row.error,
                    " ".join(row.tags),
                    row.datetime_original,
                    row.format,
                )
                if v
            ).lower()
            return all(term in haystack for term in self.text.lower().split())
        return True
