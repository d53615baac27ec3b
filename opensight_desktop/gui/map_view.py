"""GPS positions on an offline map: the bundled Natural Earth land outline
(resources/map, public domain) in a plain longitude/latitude projection, no tile server.
Wheel or the buttons zoom, the right or middle button drags the map, and a rubber band
(left button) selects points: ``selected`` says which items."""

from __future__ import annotations

import json
import logging
from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QMouseEvent, QPainterPath, QPen, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from opensight_desktop.resources import resource

log = logging.getLogger(__name__)

POINT = 7.0  # pixels across, whatever the zoom
ItemIdKey = 0  # QGraphicsItem.data key holding the item id
UNSELECTED, SELECTED = QBrush(QColor("#d64541")), QBrush(QColor("#1f6feb"))


@lru_cache(maxsize=1)
def land_path() -> QPainterPath:
    """The world's land as one path, in scene units: x = longitude, y = -latitude."""
    path = QPainterPath()
    try:
        document = json.loads(resource("map", "land-110m.json").read_text(encoding="utf-8"))
        rings = document["rings"]
    except (OSError, ValueError, KeyError, TypeError) as exc:  # drawn without it
        log.warning("the world outline could not be read: %s", exc)
        return path
    for ring in rings:
        if len(ring) < 6:
            continue
        longitudes = ring[0::2]
        # a ring unwrapped across the antimeridian is drawn again from the other side
        shifts = [0.0]
        shifts += [-360.0] if max(longitudes) > 180 else []
        shifts += [360.0] if min(longitudes) < -180 else []
        for shift in shifts:
            path.moveTo(ring[0] + shift, -ring[1])
            for index in range(2, len(ring) - 1, 2):
                path.lineTo(ring[index] + shift, -ring[index + 1])
            path.closeSubpath()
    return path


class MapView(QGraphicsView):
    selected = Signal(list)  # item ids of the points chosen

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene_ = QGraphicsScene(QRectF(-180, -90, 360, 180), self)
        self.setScene(self.scene_)
        self.setBackgroundBrush(QColor("#dbe9f4"))  # the sea
        world = QGraphicsRectItem(self.scene_.sceneRect())  # clips what lies past ±180
        world.setPen(QPen(QColor("#9bb7cf"), 0))
        world.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)
        self.scene_.addItem(world)
        land = QGraphicsPathItem(land_path(), world)
        land.setPen(QPen(QColor("#8a9a7a"), 0))
        land.setBrush(QColor("#f1efe4"))
        self.land = land
        self.points: dict[int, QGraphicsEllipseItem] = {}
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRenderHint(self.renderHints().Antialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self._pan: QPointF | None = None
        self.scene_.selectionChanged.connect(self._selection_changed)
        self.scene_.selectionChanged.connect(self._restyle)
        self._quiet = False

    def set_points(self, points: list[tuple[int, float, float]]) -> None:
        """(item id, latitude, longitude) of the located items."""
        self._quiet = True
        for point in self.points.values():
            self.scene_.removeItem(point)
        self.points = {}
        pen, brush = QPen(QColor("#3a1010"), 1), UNSELECTED
        for item_id, lat, lon in points:
            dot = QGraphicsEllipseItem(-POINT / 2, -POINT / 2, POINT, POINT)
            dot.setPos(lon, -lat)
            dot.setPen(pen)
            dot.setBrush(brush)
            dot.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
            dot.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
            dot.setData(ItemIdKey, item_id)
            dot.setToolTip(f"Item {item_id}: {lat:.5f}, {lon:.5f}")
            dot.setZValue(1)
            self.scene_.addItem(dot)
            self.points[item_id] = dot
        self._quiet = False

    def select_ids(self, ids: list[int]) -> None:
        """Mark these items' points (the list's selection), without saying so back."""
        self._quiet = True
        wanted = set(ids)
        for item_id, dot in self.points.items():
            dot.setSelected(item_id in wanted)
        self._quiet = False
        self._restyle()

    def select_area(self, lon_from: float, lat_from: float, lon_to: float, lat_to: float) -> None:
        """Select the points in a box of longitude and latitude (what a rubber band does)."""
        area = QPainterPath()
        area.addRect(QRectF(QPointF(lon_from, -lat_to), QPointF(lon_to, -lat_from)).normalized())
        self.scene_.setSelectionArea(area)

    def show_world(self) -> None:
        self.fitInView(self.scene_.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def show_points(self) -> None:
        """Zoom to the located points (the world when there are none)."""
        if not self.points:
            self.show_world()
            return
        box = QRectF()
        for dot in self.points.values():
            box = box.united(QRectF(dot.pos(), dot.pos()).adjusted(-1, -1, 1, 1))
        self.fitInView(box.adjusted(-5, -5, 5, 5), Qt.AspectRatioMode.KeepAspectRatio)

    def zoom(self, factor: float) -> None:
        scale = self.transform().m11() * factor
        if 0.5 <= scale <= 20000:
            self.scale(factor, factor)

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.zoom(1.25 if event.angleDelta().y() > 0 else 0.8)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() in (Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton):
            self._pan = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan is not None:
            delta = event.position() - self._pan
            self._pan = event.position()
            self.horizontalScrollBar().setValue(int(self.horizontalScrollBar().value() - delta.x()))
            self.verticalScrollBar().setValue(int(self.verticalScrollBar().value() - delta.y()))
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan is not None:
            self._pan = None
            self.viewport().unsetCursor()
            return
        super().mouseReleaseEvent(event)

    def _restyle(self) -> None:
        """Selected points in another colour, drawn above the others."""
        for dot in self.points.values():
            chosen = dot.isSelected()
            dot.setBrush(SELECTED if chosen else UNSELECTED)
            dot.setZValue(2 if chosen else 1)

    def _selection_changed(self) -> None:
        if self._quiet:
            return
        ids = sorted(int(dot.data(ItemIdKey)) for dot in self.scene_.selectedItems())
        self.selected.emit(ids)


class MapPanel(QWidget):
    """The map with its zoom buttons and a line saying what it shows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = MapView()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.caption = QLabel()
        buttons = []
        for text, tip, slot in (
            ("+", "Zoom in", lambda: self.view.zoom(1.5)),
            ("−", "Zoom out", lambda: self.view.zoom(1 / 1.5)),
            ("World", "Show the whole world", self.view.show_world),
            ("Points", "Zoom to the located items", self.view.show_points),
        ):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.append(button)
            bar.addWidget(button)
        bar.addWidget(self.caption, 1)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self.set_points([])

    def set_points(self, points: list[tuple[int, float, float]]) -> None:
        self.view.set_points(points)
        self.caption.setText(
            f"{len(points)} located item{'s' if len(points) != 1 else ''} (EXIF GPS). Drag a "
            "box to select them; wheel zooms, right-drag pans. Offline map: Natural Earth."
        )
