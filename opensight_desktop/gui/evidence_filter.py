"""What the evidence list and the gallery show of the evidence model: its rows filtered
(text search, verdict / flag / status / review, the triage filter's items) and
near-duplicate stacks collapsed, in the model's own order (the model sorts itself)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractProxyModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from opensight_desktop.case.queries import ItemRow
from opensight_desktop.gui.evidence_model import (
    COLUMN,
    COLUMNS,
    EvidenceModel,
    ItemIdRole,
    StackRole,
)


def search_text(row: ItemRow) -> str:
    """What the text search looks in, lower-case."""
    return " ".join(
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


class EvidenceFilter(QAbstractProxyModel):
    """The rows the list and the gallery show, in the source model's order: text search,
    verdict / flag / status / review filters, the items of the triage filter (``ids``,
    read off the GUI thread), and near-duplicate stacks collapsed to one representative
    each (the smallest item id the other filters let through) unless expanded.

    Not a QSortFilterProxyModel: that one asks Python about each of 100,000 rows one call
    at a time (and compares rows through ``data`` to sort). Here the rows are judged a
    list at a time and the mapping is two Python lists; sorting is the source model's."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.text = ""
        self.verdict = ""  # "", a verdict, or "none" (no result)
        self.flag = ""
        self.status = ""
        self.review = ""
        self.ids: frozenset[int] | None = None  # None: every item
        # The item shown stays listed while shown, even when a review change means the
        # filters no longer match it (then N moves on once); None: none pinned.
        self.pinned: int | None = None
        self.stacks: dict[int, int] = {}  # {item id: stack id}
        self.stack_sizes: dict[int, int] = {}
        self.collapsed = True  # stacks show one representative unless expanded
        self.expanded: set[int] = set()
        self._representatives: dict[int, int] = {}  # {stack id: item id shown}
        self.accepted_ids: set[int] = set()  # the items shown
        self._source_rows: list[int] = []  # proxy row -> source row, ascending
        self._proxy_rows: list[int] = []  # source row -> proxy row, or -1
        self._held: list[tuple[int, int]] = []  # persistent indexes across a re-map
        # {item id: (its row, the text search looks in)}: typing searches 100,000 rows
        self._haystacks: dict[int, tuple[ItemRow, str]] = {}

    # -- what is shown -------------------------------------------------------------------

    def set_filters(self, **values: Any) -> None:
        if "pinned" not in values:  # another filter chosen: the reviewed item goes too
            self.pinned = None
        for key, value in values.items():
            setattr(self, key, value)
        self.refilter()

    def pin(self, item_id: int | None) -> None:
        self.pinned = item_id

    def unpin(self, keep: int | None = None) -> None:
        """Let the pinned item go unless it is ``keep`` (the item shown now)."""
        if self.pinned is not None and self.pinned != keep:
            self.set_filters(pinned=None)

    def matching(self) -> int:
        """How many rows the filters match (a pinned row that no longer does is not one)."""
        count = self.rowCount()
        model = self.sourceModel()
        if self.pinned is not None and isinstance(model, EvidenceModel):
            source = model.source_row(self.pinned)
            if (
                source is not None
                and self.pinned in self.accepted_ids
                and not self._accepts(model.rows[source], pinned=False)
            ):
                count -= 1
        return count

    def set_stacks(self, stacks: dict[int, int]) -> None:
        self.stacks = dict(stacks)
        sizes: dict[int, int] = {}
        for stack in self.stacks.values():
            sizes[stack] = sizes.get(stack, 0) + 1
        self.stack_sizes = sizes
        self.expanded &= set(sizes)
        self.refilter()

    def forget_triage(self) -> None:
        """No triage filter and no stacks, without judging the rows again: the case is
        closing, and the next one's rows are judged when they are read."""
        self.ids, self.stacks, self.stack_sizes = None, {}, {}
        self.expanded.clear()
        self._representatives = {}

    def set_collapsed(self, collapsed: bool) -> None:
        self.collapsed = collapsed
        self.expanded.clear()
        self.refilter()

    def set_expanded(self, stack: int, expanded: bool) -> None:
        if expanded:
            self.expanded.add(stack)
        else:
            self.expanded.discard(stack)
        self.refilter()

    def stack_state(self, item_id: int) -> tuple[int, bool] | None:
        """(items in its stack, whether the stack shows all of them), or None."""
        stack = self.stacks.get(item_id)
        if stack is None:
            return None
        return self.stack_sizes.get(stack, 1), not self.collapsed or stack in self.expanded

    def visible_ids(self) -> list[int]:
        """The items the filters show, in id order (not a pinned item they no longer match:
        it is only kept in view until the examiner moves on)."""
        shown = set(self.accepted_ids)
        model = self.sourceModel()
        if self.pinned in shown and isinstance(model, EvidenceModel):
            source = model.source_row(self.pinned)
            if source is not None and not self._accepts(model.rows[source], pinned=False):
                shown.discard(self.pinned)
        return sorted(shown)

    def refilter(self) -> None:
        """Judge every row again and show the result as one layout change (selection and
        current item kept where their rows stay)."""
        self._begin_remap()
        self._judge_all()
        self._end_remap()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        model = self.sourceModel()
        if isinstance(model, EvidenceModel):
            model.sort(column, order)

    # -- judging -------------------------------------------------------------------------

    def _rows(self) -> list[ItemRow]:
        model = self.sourceModel()
        return model.rows if isinstance(model, EvidenceModel) else []

    def _judge_all(self) -> None:
        passing = self._passing(self._rows())
        self._representatives = self._choose_representatives(passing)
        self.accepted_ids = passing - self._hidden_in_stacks(passing)
        model = self.sourceModel()
        if (
            self.pinned is not None
            and isinstance(model, EvidenceModel)
            and model.source_row(self.pinned) is not None
        ):
            self.accepted_ids.add(self.pinned)
        self._map()

    def _map(self) -> None:
        """The mapping from the accepted ids, in the source's order."""
        accepted = self.accepted_ids
        self._source_rows = [i for i, row in enumerate(self._rows()) if row.id in accepted]
        self._proxy_rows = [-1] * len(self._rows())
        for proxy_row, source_row in enumerate(self._source_rows):
            self._proxy_rows[source_row] = proxy_row

    def _passing(self, rows: list[ItemRow]) -> set[int]:
        """The ids of the rows the filters let through (stacks aside): ``_passes`` on
        every row, one criterion at a time over what is left."""
        left = rows
        if self.ids is not None:
            ids = self.ids
            left = [row for row in left if row.id in ids]
        if self.verdict:
            left = [row for row in left if (row.verdict or "none") == self.verdict]
        if self.flag:
            left = [row for row in left if self.flag in row.flags]
        if self.status:
            left = [row for row in left if row.status == self.status]
        if self.review:
            left = [row for row in left if row.review_state == self.review]
        if self.text:
            terms = self.text.lower().split()
            left = [row for row in left if self._text_matches(row, terms)]
        return {row.id for row in left}

    def _hidden_in_stacks(self, passing: set[int]) -> set[int]:
        """Items of collapsed stacks other than their representatives."""
        if not self.collapsed or not self.stacks:
            return set()
        shown = self._representatives
        return {
            item_id
            for item_id, stack in self.stacks.items()
            if item_id in passing and stack not in self.expanded and shown.get(stack) != item_id
        }

    def _choose_representatives(self, passing: set[int]) -> dict[int, int]:
        """{stack: its smallest item the filters let through} of the collapsed stacks."""
        if not self.collapsed or not self.stacks:
            return {}
        chosen: dict[int, int] = {}
        for item_id, stack in self.stacks.items():
            if (
                item_id in passing
                and stack not in self.expanded
                and item_id < chosen.get(stack, item_id + 1)
            ):
                chosen[stack] = item_id
        return chosen

    def _accepts(self, row: ItemRow, pinned: bool = True) -> bool:
        """One row (changed or added since the last full judgement); ``pinned``: the
        pinned row is accepted whatever the filters say."""
        if pinned and row.id == self.pinned:
            return True
        accepted = self._passes(row)
        stack = self.stacks.get(row.id) if accepted else None
        if stack is not None and self.collapsed and stack not in self.expanded:
            accepted = self._representatives.get(stack) == row.id
        return accepted

    def _passes(self, row: ItemRow) -> bool:
        if self.ids is not None and row.id not in self.ids:
            return False
        if self.verdict and (row.verdict or "none") != self.verdict:
            return False
        if self.flag and self.flag not in row.flags:
            return False
        if self.status and row.status != self.status:
            return False
        if self.review and row.review_state != self.review:
            return False
        return not self.text or self._text_matches(row)

    def _text_matches(self, row: ItemRow, terms: list[str] | None = None) -> bool:
        haystack = self._haystacks.get(row.id)
        if haystack is None or haystack[0] is not row:  # new, or the row was read again
            haystack = self._haystacks[row.id] = (row, search_text(row))
        text = haystack[1]
        return all(term in text for term in (terms or self.text.lower().split()))

    def keep_search_texts(self, texts: dict[int, tuple[ItemRow, str]]) -> None:
        """Texts made ahead (off the GUI thread), so that the first search is fast."""
        for item_id, (row, text) in texts.items():
            if item_id not in self._haystacks:
                self._haystacks[item_id] = (row, text)

    # -- re-mapping, the source's signals --------------------------------------------------

    def _begin_remap(self) -> None:
        self.layoutAboutToBeChanged.emit()
        rows = self._rows()
        self._held = [
            (rows[self._source_rows[index.row()]].id, index.column())
            for index in self.persistentIndexList()
        ]

    def _end_remap(self) -> None:
        model = self.sourceModel()
        assert isinstance(model, EvidenceModel)
        new = []
        for item_id, column in self._held:
            source = model.source_row(item_id)
            proxy_row = self._proxy_rows[source] if source is not None else -1
            new.append(self.index(proxy_row, column) if proxy_row >= 0 else QModelIndex())
        self.changePersistentIndexList(self.persistentIndexList(), new)
        self._held = []
        self.layoutChanged.emit()

    def setSourceModel(self, model: QAbstractItemModel) -> None:
        old = self.sourceModel()
        if old is not None:
            old.disconnect(self)
        self.beginResetModel()
        super().setSourceModel(model)
        model.modelAboutToBeReset.connect(self.beginResetModel)
        model.modelReset.connect(self._source_reset)
        model.layoutAboutToBeChanged.connect(self._source_reordering)
        model.layoutChanged.connect(self._source_reordered)
        model.rowsInserted.connect(self._source_rows_inserted)
        model.rowsAboutToBeRemoved.connect(self.beginResetModel)
        model.rowsRemoved.connect(self._source_reset)
        model.dataChanged.connect(self._source_data_changed)
        self._judge_all()
        self.endResetModel()

    def _source_reset(self, *_args: Any) -> None:
        self._haystacks.clear()
        self._judge_all()
        self.endResetModel()

    def _source_reordering(self, *_args: Any) -> None:
        self._begin_remap()

    def _source_reordered(self, *_args: Any) -> None:
        self._map()  # the same rows in another order: no judging again
        self._end_remap()

    def _source_rows_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        rows = self._rows()
        if first != len(self._proxy_rows):  # not appended (the model only appends): reset
            self.beginResetModel()
            self._judge_all()
            self.endResetModel()
            return
        self._proxy_rows.extend([-1] * (last - first + 1))
        added = [i for i in range(first, last + 1) if self._accepts(rows[i])]
        if not added:
            return
        start = len(self._source_rows)
        self.beginInsertRows(QModelIndex(), start, start + len(added) - 1)
        for source_row in added:
            self._proxy_rows[source_row] = len(self._source_rows)
            self._source_rows.append(source_row)
            self.accepted_ids.add(rows[source_row].id)
        self.endInsertRows()

    def _source_data_changed(
        self,
        top_left: QModelIndex,
        bottom_right: QModelIndex,
        roles: list[int] = [],  # noqa: B006 - Qt passes it; never changed here
    ) -> None:
        rows = self._rows()
        span = range(top_left.row(), bottom_right.row() + 1)
        if roles != [Qt.ItemDataRole.DecorationRole]:  # a row read again: judge it again
            flips = [
                row
                for row in (rows[i] for i in span)
                if self._accepts(row) != (row.id in self.accepted_ids)
            ]
            if flips:
                for row in flips:
                    self.accepted_ids ^= {row.id}
                self._begin_remap()
                self._map()
                self._end_remap()
                return
        shown = [self._proxy_rows[i] for i in span if self._proxy_rows[i] >= 0]
        if shown:
            self.dataChanged.emit(
                self.index(min(shown), top_left.column()),
                self.index(max(shown), bottom_right.column()),
                roles,
            )

    # -- Qt's proxy model --------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._source_rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def index(
        self,
        row: int,
        column: int,
        parent: QModelIndex | QPersistentModelIndex = QModelIndex(),  # noqa: B008
    ) -> QModelIndex:
        if parent.isValid() or not (0 <= row < len(self._source_rows)):
            return QModelIndex()
        if not 0 <= column < len(COLUMNS):
            return QModelIndex()
        return self.createIndex(row, column)

    def parent(self, child: Any = None) -> Any:
        if child is None:  # QObject.parent()
            return super().parent()
        return QModelIndex()  # a flat table: no item has a parent

    def hasChildren(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and bool(self._source_rows)

    def mapToSource(self, proxy_index: QModelIndex | QPersistentModelIndex) -> QModelIndex:
        model = self.sourceModel()
        if not proxy_index.isValid() or model is None:
            return QModelIndex()
        row = proxy_index.row()
        if not 0 <= row < len(self._source_rows):
            return QModelIndex()
        return model.index(self._source_rows[row], proxy_index.column())

    def mapFromSource(self, source_index: QModelIndex | QPersistentModelIndex) -> QModelIndex:
        if not source_index.isValid() or source_index.row() >= len(self._proxy_rows):
            return QModelIndex()
        row = self._proxy_rows[source_index.row()]
        return self.index(row, source_index.column()) if row >= 0 else QModelIndex()

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        model = self.sourceModel()
        return model.headerData(section, orientation, role) if model is not None else None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        model = self.sourceModel()
        if model is None or not index.isValid():
            return None
        source = self.mapToSource(index)
        if role == StackRole or (
            role == Qt.ItemDataRole.DisplayRole and index.column() == COLUMN["file_name"]
        ):
            state = self.stack_state(model.data(source, ItemIdRole))
            if role == StackRole:
                return state
            text = model.data(source, role)
            if state is not None:
                count, shown = state
                text = f"{text}  [{'▾' if shown else '▸'} stack of {count}]"
            return text
        return model.data(source, role)
