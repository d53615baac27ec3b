"""The evidence list as a Qt model: one table model shared by the list and the gallery,
light rows (``case.queries.ItemRow``), thumbnails decoded on demand with an LRU cache,
and a proxy for sorting and filtering. No per-row widgets: it scales to 10,000+ items."""

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
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPixmap

from opensight_desktop import present
from opensight_desktop.case.queries import ItemRow, item_rows
from opensight_desktop.case.states import ItemStatus
from opensight_desktop.case.store import Case
from opensight_desktop.case.views import thumbnail_jpeg
from opensight_desktop.detector.verdict import VERDICT_COLORS as VERDICT_HEX
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
THUMB_CACHE = 1500

VERDICT_COLORS = {key: QColor(color) for key, color in VERDICT_HEX.items()}


class EvidenceModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.case: Case | None = None
        self.rows: list[ItemRow] = []
        self._row_of: dict[int, int] = {}
        self._thumbs: OrderedDict[int, QIcon | None] = OrderedDict()

    # -- loading -----------------------------------------------------------------------

    def set_case(self, case: Case | None) -> None:
        self.beginResetModel()
        self.case = case
        self._thumbs.clear()
        self.rows = []
        if case is not None:
            with case.read() as session:
                self.rows = item_rows(session)
        self._row_of = {row.id: index for index, row in enumerate(self.rows)}
        self.endResetModel()

    def refresh_new(self) -> int:
        """Append items added since the last load (an import in progress)."""
        if self.case is None:
            return 0
        since = self.rows[-1].id if self.rows else 0
        with self.case.read() as session:
            new = item_rows(session, since_id=since)
        if new:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(new) - 1)
            for row in new:
                self._row_of[row.id] = len(self.rows)
                self.rows.append(row)
            self.endInsertRows()
        return len(new)

    def refresh_items(self, ids: list[int]) -> None:
        """Re-read these items (new results, review changes)."""
        if self.case is None or not ids:
            return
        with self.case.read() as session:
            fresh = item_rows(session, ids=ids)
        for row in fresh:
            index = self._row_of.get(row.id)
            if index is None:
                continue
            self.rows[index] = row
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
        """As an icon: views scale it to their icon size keeping its aspect ratio."""
        if item_id in self._thumbs:
            self._thumbs.move_to_end(item_id)
            return self._thumbs[item_id]
        icon = None
        if self.case is not None:
            with self.case.read() as session:
                data = thumbnail_jpeg(session, item_id)
            if data:
                image = QImage()  # loadFromData: fromData's format is typed as bytes, wrongly
                icon = QIcon(QPixmap.fromImage(image)) if image.loadFromData(data, "JPEG") else None
        self._thumbs[item_id] = icon
        if len(self._thumbs) > THUMB_CACHE:
            self._thumbs.popitem(last=False)
        return icon


class EvidenceFilter(QSortFilterProxyModel):
    """Text search plus verdict / flag / status / review filters."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.text = ""
        self.verdict = ""  # "", a verdict, or "none" (no result)
        self.flag = ""
        self.status = ""
        self.review = ""
        self.setSortRole(SortRole)

    def set_filters(self, **values: str) -> None:
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
