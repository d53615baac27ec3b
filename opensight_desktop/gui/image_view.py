"""The image with zoom and pan, the heatmap over the region the model saw, that region
outlined, and the rest marked "not examined". Two views can be linked side by side."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QWidget,
)

from opensight_desktop.detector.geometry import Geometry
from opensight_desktop.detector.heatmap import colorize

# How an EXIF orientation is shown upright: (rotation in degrees, mirror first)
ORIENTATION_TRANSFORMS = {
    1: (0, False),
    2: (0, True),
    3: (180, False),
    4: (180, True),
    5: (90, True),
    6: (90, False),
    7: (270, True),
    8: (270, False),
}


def qimage_from_rgb(array: np.ndarray) -> QImage:
    """uint8 HxWx3 or HxWx4 -> an owned QImage."""
    array = np.ascontiguousarray(array)
    height, width = array.shape[:2]
    fmt = QImage.Format.Format_RGBA8888 if array.shape[2] == 4 else QImage.Format.Format_RGB888
    image = QImage(array.data, width, height, array.strides[0], fmt)
    return image.copy()


def heatmap_image(cam: np.ndarray) -> QImage:
    """The 24x24 map as colour with alpha rising with the value (Qt scales it smoothly)."""
    rgb = colorize(cam)
    alpha = (np.clip(cam, 0.15, 1.0) * 255).astype(np.uint8)[..., None]
    return qimage_from_rgb(np.concatenate([rgb, alpha], axis=-1))


class ImageView(QGraphicsView):
    zoomed = Signal(object)  # the view's transform, for a linked view

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setRenderHints(QPainter.RenderHint.SmoothPixmapTransform)
        self.setBackgroundBrush(QBrush(QColor("#2b2b2b")))
        self._image = QGraphicsPixmapItem()
        self._image.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._heat = QGraphicsPixmapItem()
        self._heat.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._outside = QGraphicsPathItem()
        self._outside.setBrush(QBrush(QColor(0, 0, 0, 150), Qt.BrushStyle.BDiagPattern))
        self._outside.setPen(QPen(Qt.PenStyle.NoPen))
        self._shade = QGraphicsPathItem()
        self._shade.setBrush(QBrush(QColor(0, 0, 0, 110)))
        self._shade.setPen(QPen(Qt.PenStyle.NoPen))
        self._crop = QGraphicsRectItem()
        pen = QPen(QColor(0, 220, 255))
        pen.setCosmetic(True)
        pen.setWidth(2)
        self._crop.setPen(pen)
        for z, item in enumerate((self._image, self._heat, self._shade, self._outside, self._crop)):
            item.setZValue(z)
            self.scene().addItem(item)
        self._orientation = 1
        self._fitted = True
        self.heatmap_visible = True
        self.heatmap_opacity = 0.55
        self.show_overlays = True
        self.clear()

    # -- content -------------------------------------------------------------------------

    def clear(self) -> None:
        self._image.setPixmap(QPixmap())
        self._heat.setVisible(False)
        for item in (self._shade, self._outside, self._crop):
            item.setVisible(False)

    def set_image(self, image: QImage, orientation: int = 1) -> None:
        self._image.setPixmap(QPixmap.fromImage(image))
        self.scene().setSceneRect(QRectF(0, 0, image.width(), image.height()))
        self._orientation = orientation if orientation in ORIENTATION_TRANSFORMS else 1
        self.fit()

    def set_analysis(
        self, cam: np.ndarray | None, geometry: Geometry | None, display_scale: float = 1.0
    ) -> None:
        """Place the map on the crop (in stored-image pixels, times the display scale)."""
        if geometry is None:
            self._heat.setVisible(False)
            for item in (self._shade, self._outside, self._crop):
                item.setVisible(False)
            return
        left, top, right, bottom = (v * display_scale for v in geometry.crop_in_original)
        crop = QRectF(left, top, right - left, bottom - top)
        whole = QPainterPath()
        whole.addRect(self.scene().sceneRect())
        inner = QPainterPath()
        inner.addRect(crop)
        outside = whole.subtracted(inner)
        self._outside.setPath(outside)
        self._shade.setPath(outside)
        self._crop.setRect(crop)
        if cam is not None:
            heat = QPixmap.fromImage(heatmap_image(cam))
            self._heat.setPixmap(heat)
            self._heat.setTransform(
                QTransform.fromScale(crop.width() / heat.width(), crop.height() / heat.height())
            )
            self._heat.setPos(crop.topLeft())
        self._heat.setData(0, cam is not None)
        self._update_overlays()

    def set_heatmap_visible(self, visible: bool) -> None:
        self.heatmap_visible = visible
        self._update_overlays()

    def set_heatmap_opacity(self, opacity: float) -> None:
        self.heatmap_opacity = opacity
        self._update_overlays()

    def set_overlays_shown(self, shown: bool) -> None:
        """A plain view (the original, side by side) shows no overlays at all."""
        self.show_overlays = shown
        self._update_overlays()

    def _update_overlays(self) -> None:
        has_geometry = not self._crop.rect().isEmpty()
        shown = self.show_overlays and has_geometry
        for item in (self._shade, self._outside, self._crop):
            item.setVisible(shown)
        self._heat.setVisible(shown and self.heatmap_visible and bool(self._heat.data(0)))
        self._heat.setOpacity(self.heatmap_opacity)

    @property
    def heatmap_shown(self) -> bool:
        return self._heat.isVisible()

    # -- zoom and orientation -------------------------------------------------------------

    def _base_transform(self) -> QTransform:
        rotation, mirror = ORIENTATION_TRANSFORMS[self._orientation]
        transform = QTransform()
        if mirror:
            transform.scale(-1, 1)
        transform.rotate(rotation)
        return transform

    def fit(self) -> None:
        self._fitted = True
        self.setTransform(self._base_transform())
        if not self.scene().sceneRect().isEmpty():
            self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
        self.zoomed.emit(self.transform())

    def actual_size(self) -> None:
        self._fitted = False
        self.setTransform(self._base_transform())
        self.zoomed.emit(self.transform())

    def zoom(self, factor: float) -> None:
        self._fitted = False
        self.scale(factor, factor)
        self.zoomed.emit(self.transform())

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.zoom(1.25 if event.angleDelta().y() > 0 else 0.8)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fitted:
            self.fit()

    def follow(self, transform: QTransform) -> None:
        """Mirror another view's zoom (side-by-side comparison)."""
        if self.transform() != transform:
            self._fitted = False
            self.setTransform(transform)
