"""The capture-time histogram (``case.triage.capture_histogram``): one bar per day, month
or year. Click a bar or drag across bars to filter on that capture-date range; the
filter bar's ✕ (or ``clear``) shows all dates again."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 44, 22, 18


class TimelineWidget(QWidget):
    range_chosen = Signal(object, object)  # (first period, last period); None: all

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bucket = "day"
        self.counts: list[tuple[str, int]] = []
        self.chosen: tuple[int, int] | None = None  # bar indexes, inclusive
        self._press: int | None = None
        self.setMouseTracking(True)
        self.setMinimumHeight(120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(600, 160)

    def set_counts(self, bucket: str, counts: list[tuple[str, int]]) -> None:
        self.bucket, self.counts, self.chosen = bucket, list(counts), None
        self.update()

    def show_range(self, start: str | None, end: str | None) -> None:
        """Highlight the bars of a range set elsewhere (cleared: none)."""
        periods = [period for period, _count in self.counts]
        if start is None and end is None:
            self.chosen = None
        elif start in periods and end in periods:
            self.chosen = (periods.index(start), periods.index(end))
        self.update()

    def clear(self) -> None:
        self.chosen = None
        self.update()
        self.range_chosen.emit(None, None)

    # -- geometry ------------------------------------------------------------------------

    def _plot(self) -> QRect:
        return self.rect().adjusted(MARGIN_LEFT, MARGIN_TOP, -8, -MARGIN_BOTTOM)

    def bar_rect(self, index: int) -> QRect:
        plot = self._plot()
        width = plot.width() / max(1, len(self.counts))
        top = max((count for _p, count in self.counts), default=1) or 1
        height = int(plot.height() * self.counts[index][1] / top)
        left = plot.left() + int(index * width)
        return QRect(left, plot.bottom() - height, max(1, int(width) - 1), height)

    def bar_at(self, point: QPoint) -> int | None:
        plot = self._plot()
        if not self.counts or plot.width() <= 0:
            return None
        index = int((point.x() - plot.left()) * len(self.counts) / plot.width())
        return min(max(index, 0), len(self.counts) - 1)

    # -- events --------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = self.bar_at(event.position().toPoint())
            if self._press is not None:
                self.chosen = (self._press, self._press)
                self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        index = self.bar_at(event.position().toPoint())
        if index is not None:
            period, count = self.counts[index]
            self.setToolTip(f"{period}: {count} item{'s' if count != 1 else ''}")
        if self._press is not None and index is not None:
            self.chosen = (min(self._press, index), max(self._press, index))
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press is None or self.chosen is None:
            return
        self._press = None
        first, last = self.chosen
        self.range_chosen.emit(self.counts[first][0], self.counts[last][0])

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        plot = self._plot()
        painter.setPen(QColor("#555"))
        if not self.counts:
            painter.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter,
                "No item has a capture time (EXIF DateTimeOriginal).",
            )
            return
        top = max(count for _p, count in self.counts)
        painter.drawText(
            QRect(0, plot.top() - 6, MARGIN_LEFT - 6, 14), Qt.AlignmentFlag.AlignRight, str(top)
        )
        painter.drawText(
            QRect(0, plot.bottom() - 12, MARGIN_LEFT - 6, 14), Qt.AlignmentFlag.AlignRight, "0"
        )
        painter.drawText(
            QRect(plot.left(), 2, plot.width(), 14),
            Qt.AlignmentFlag.AlignLeft,
            f"Items by capture time, per {self.bucket} — click a bar or drag across bars to filter",
        )
        if self.chosen is not None:  # the range as a band: empty periods in it show too
            left, right = self.bar_rect(self.chosen[0]), self.bar_rect(self.chosen[1])
            band = QRect(left.left(), plot.top(), right.right() - left.left() + 1, plot.height())
            painter.fillRect(band, QColor("#fbe3cc"))
        painter.setPen(QPen(QColor("#999"), 1))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        for index in range(len(self.counts)):
            inside = self.chosen is not None and self.chosen[0] <= index <= self.chosen[1]
            painter.fillRect(self.bar_rect(index), QColor("#d9822b" if inside else "#3b6ea5"))
        # first and last period (and the chosen range) under the axis
        painter.setPen(QColor("#333"))
        label = QRect(plot.left(), plot.bottom() + 4, plot.width(), 16)
        painter.drawText(label, Qt.AlignmentFlag.AlignLeft, self.counts[0][0])
        painter.drawText(label, Qt.AlignmentFlag.AlignRight, self.counts[-1][0])
        if self.chosen is not None:
            start, end = self.counts[self.chosen[0]][0], self.counts[self.chosen[1]][0]
            text = start if start == end else f"{start} to {end}"
            painter.drawText(label, Qt.AlignmentFlag.AlignHCenter, text)
