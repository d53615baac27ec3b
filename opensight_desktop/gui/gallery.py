"""The thumbnail grid: the same model as the list, drawn as tiles with the verdict, the
examiner's review badge and a mark on files that are not as imported."""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from opensight_desktop import present
from opensight_desktop.case.queries import ItemRow
from opensight_desktop.case.states import ItemStatus, ReviewState
from opensight_desktop.gui.evidence_model import (
    COLUMN,
    PROBLEM_COLOR,
    VERDICT_COLORS,
    IntegrityRole,
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
            # after the view has finished the click (it selects the tile once this returns):
            # expanding re-lays the rows out, and the view's pending selection would then
            # clear the selection instead
            item_id = index.data(ItemIdRole)
            QTimer.singleShot(0, self, lambda: self.stack_clicked.emit(item_id))
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
        problem = index.data(IntegrityRole)
        if problem:  # the file is not as imported: over the picture, dashed, in red
            pen = QPen(PROBLEM_COLOR, 3, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawRect(image_rect.adjusted(2, 2, -2, -2))
            _badge(painter, image_rect, f"⚠ {problem.upper()}", PROBLEM_COLOR, bottom=True)
        if row.review_state != ReviewState.NOT_REVIEWED:
            _badge(
                painter,
                image_rect,
                f"{EXAMINER_MARK} {present.review_label(row.review_state)}",
                QColor(REVIEW_BADGE_COLORS.get(row.review_state, "#4a5568")),
            )
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


# The examiner's review state on a tile: a filled label in the picture's top-left corner,
# apart from the detector's verdict (the coloured frame and the caption). The mark says
# whose it is: review states share words with verdicts.
EXAMINER_MARK = "✎"
REVIEW_BADGE_COLORS: dict[str, str] = {
    ReviewState.CONSISTENT_WITH_CAMERA: "#2f6f4f",
    ReviewState.INCONCLUSIVE: "#5a5a5a",
    ReviewState.LIKELY_GENERATED: "#7b2d8b",
    ReviewState.FOLLOW_UP: "#1f4e9c",
}


def _badge(painter: QPainter, inside: QRect, text: str, fill: QColor, bottom: bool = False) -> None:
    """A small filled label in a corner of ``inside`` (white text, elided to fit)."""
    original = QFont(painter.font())
    font = QFont(original)
    font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
    font.setBold(True)
    painter.setFont(font)
    metrics = painter.fontMetrics()
    text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, inside.width() - 12)
    width, height = metrics.horizontalAdvance(text) + 10, metrics.height() + 4
    top = inside.bottom() - height - 3 if bottom else inside.top() + 3
    badge = QRect(inside.left() + 3, top, width, height)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(fill)
    painter.drawRoundedRect(badge, 4, 4)
    painter.setPen(QColor("white"))
    painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setFont(original)


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
