"""The thumbnail grid: the same model as the list, drawn as tiles with the verdict."""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from opensight_desktop import present
from opensight_desktop.case.queries import ItemRow
from opensight_desktop.case.states import ItemStatus
from opensight_desktop.gui.evidence_model import (
    COLUMN,
    VERDICT_COLORS,
    ItemIdRole,
    RowRole,
    StackRole,
)
from opensight_desktop.textsafe import visible

TILE = QSize(190, 214)


def stack_badge(rect: QRect) -> QRect:
    """Where a stack's count badge sits on a tile (top right); clicking it expands."""
    tile = rect.adjusted(4, 4, -4, -4)
    return QRect(tile.right() - 62, tile.top() + 2, 60, 20)


class TileDelegate(QStyledItemDelegate):
    stack_clicked = Signal(int)  # the item whose stack badge was clicked

    def editorEvent(
        self,
        event: QEvent,
        model: QAbstractItemModel,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        if (
            event.type() == QEvent.Type.MouseButtonRelease
            and isinstance(event, QMouseEvent)
            and index.data(StackRole) is not None
            and stack_badge(option.rect).contains(event.position().toPoint())
        ):
            self.stack_clicked.emit(index.data(ItemIdRole))
            return True
        return super().editorEvent(event, model, option, index)

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return TILE

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        row: ItemRow = index.data(RowRole)
        rect: QRect = option.rect.adjusted(4, 4, -4, -4)
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.fillRect(rect, QColor("#cfe3ff") if selected else QColor("#f4f4f4"))
        image_rect = QRect(rect.left() + 6, rect.top() + 6, rect.width() - 12, rect.width() - 12)
        icon = index.data(Qt.ItemDataRole.DecorationRole)
        if icon is not None and not icon.isNull():
            scaled = icon.pixmap(256, 256).scaled(
                image_rect.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            x = image_rect.left() + (image_rect.width() - scaled.width()) // 2
            y = image_rect.top() + (image_rect.height() - scaled.height()) // 2
            painter.drawPixmap(x, y, scaled)
        else:
            painter.setPen(QColor("#888"))
            painter.drawText(
                image_rect,
                Qt.AlignmentFlag.AlignCenter,
                "no preview" if row.status == ItemStatus.ERROR else "…",
            )
        color = VERDICT_COLORS.get(row.verdict or "")
        if color is not None:
            painter.setPen(QPen(color, 4))
            painter.drawRect(image_rect.adjusted(-2, -2, 2, 2))
        painter.setPen(QColor("#111"))
        text_rect = QRect(rect.left() + 4, image_rect.bottom() + 4, rect.width() - 8, 18)
        name = painter.fontMetrics().elidedText(
            visible(row.file_name), Qt.TextElideMode.ElideMiddle, text_rect.width()
        )
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft, name)
        caption = (
            "error"
            if row.status == ItemStatus.ERROR
            else f"{present.probability_text(row.probability, digits=2)}  "
            f"{present.verdict_label(row.verdict)}"
            if row.probability is not None
            else "not analysed"
        )
        if row.flags:
            caption += f"  ⚑{len(row.flags)}"
        painter.setPen(color or QColor("#555"))
        painter.drawText(text_rect.translated(0, 16), Qt.AlignmentFlag.AlignLeft, caption)
        stack = index.data(StackRole)
        if stack is not None:  # (items, expanded): a count badge; click it to expand
            count, expanded = stack
            badge = stack_badge(option.rect)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#6b4fa0" if expanded else "#24415f"))
            painter.drawRoundedRect(badge, 9, 9)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(
                badge, Qt.AlignmentFlag.AlignCenter, f"{'▾' if expanded else '▸'} {count}"
            )
        painter.restore()


class GalleryView(QListView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setSpacing(2)
        self.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        self.tiles = TileDelegate(self)
        self.stack_clicked = self.tiles.stack_clicked
        self.setItemDelegate(self.tiles)
        self.setModelColumn(COLUMN["file_name"])
