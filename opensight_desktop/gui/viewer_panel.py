"""The image viewer with its tools: zoom, heatmap on/off and opacity, side by side with
the original (zoom and scrolling linked). Pixels are loaded off the GUI thread."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon, QImage
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSlider,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from opensight_desktop.detector.geometry import Geometry
from opensight_desktop.detector.heatmap import decode_cam
from opensight_desktop.gui.image_view import ImageView, qimage_from_rgb
from opensight_desktop.gui.jobs import JobThread
from opensight_desktop.pipeline.evidence_pixels import load_evidence_rgb
from opensight_desktop.resources import resource
from opensight_desktop.session.jobs import Job, JobContext, JobKind, Outcome

OPACITY_MIN_WIDTH = 80  # px: enough travel to set the heatmap's opacity by mouse
DISPLAY_LIMIT = 40_000_000  # pixels shown at most; bigger images are shown reduced


def display_pixels(sha256: str, paths: list[bytes]) -> tuple[QImage, float]:
    """Decode for display (in a worker thread): a QImage and its scale to stored pixels."""
    image = load_evidence_rgb(sha256, paths)
    scale = 1.0
    if image.width * image.height > DISPLAY_LIMIT:
        scale = (DISPLAY_LIMIT / (image.width * image.height)) ** 0.5
        image = image.resize(
            (int(image.width * scale), int(image.height * scale)), Image.Resampling.BILINEAR
        )
    return qimage_from_rgb(np.asarray(image)), scale


class ViewerPanel(QWidget):
    heatmap_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        tools = QHBoxLayout()
        self.fit_button = self._tool("Fit", "Fit the image to the window (F)")
        self.actual_button = self._tool("1:1", "Actual pixels")
        self.zoom_in = self._tool("+", "Zoom in")
        self.zoom_out = self._tool("−", "Zoom out")
        self.heatmap_button = self._tool(
            "Heatmap", "Regions that most influenced the detector's score (H)", checkable=True
        )
        self.heatmap_button.setChecked(True)
        self.heatmap_button.setIcon(QIcon(str(resource("icons", "heatmap.svg"))))
        self.heatmap_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(5, 100)
        self.opacity.setValue(55)
        self.opacity.setMaximumWidth(120)
        self.opacity.setMinimumWidth(OPACITY_MIN_WIDTH)  # still usable in a narrow viewer
        self.opacity.setToolTip("Heatmap opacity")
        self.side_button = self._tool(
            "Side by side", "Show the original next to the annotated view (S)", checkable=True
        )
        self.side_button.setIcon(QIcon(str(resource("icons", "side-by-side.svg"))))
        self.side_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for widget in (
            self.fit_button,
            self.actual_button,
            self.zoom_in,
            self.zoom_out,
            self.heatmap_button,
            QLabel("Opacity"),
            self.opacity,
            self.side_button,
        ):
            tools.addWidget(widget)
        tools.addStretch(1)
        layout.addLayout(tools)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.view = ImageView()
        self.original = ImageView()
        self.original.set_overlays_shown(False)
        self.original.setVisible(False)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(self.original)
        layout.addWidget(self.splitter, 1)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color: #555;")
        layout.addWidget(self.caption)

        self.fit_button.clicked.connect(self.view.fit)
        self.actual_button.clicked.connect(self.view.actual_size)
        self.zoom_in.clicked.connect(self._zoom_in)
        self.zoom_out.clicked.connect(self._zoom_out)
        self.heatmap_button.toggled.connect(self.set_heatmap_visible)
        self.opacity.valueChanged.connect(self._opacity)
        self.side_button.toggled.connect(self.set_side_by_side)
        self.view.zoomed.connect(self.original.follow)
        self.view.horizontalScrollBar().valueChanged.connect(
            self.original.horizontalScrollBar().setValue
        )
        self.view.verticalScrollBar().valueChanged.connect(
            self.original.verticalScrollBar().setValue
        )
        self._loader: JobThread | None = None
        self._threads: set[JobThread] = set()
        self._pending: tuple[np.ndarray | None, Geometry | None, int] | None = None

    def _tool(self, text: str, tip: str, checkable: bool = False) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setCheckable(checkable)
        return button

    def _zoom_in(self) -> None:
        self.view.zoom(1.25)

    def _zoom_out(self) -> None:
        self.view.zoom(0.8)

    def _opacity(self, value: int) -> None:
        self.view.set_heatmap_opacity(value / 100)

    def set_heatmap_visible(self, visible: bool) -> None:
        if self.heatmap_button.isChecked() != visible:
            self.heatmap_button.setChecked(visible)
            return
        self.view.set_heatmap_visible(visible)
        self.heatmap_toggled.emit(visible)

    def toggle_heatmap(self) -> None:
        self.set_heatmap_visible(not self.heatmap_button.isChecked())

    def set_side_by_side(self, on: bool) -> None:
        if self.side_button.isChecked() != on:
            self.side_button.setChecked(on)
            return
        self.original.setVisible(on)
        if on:
            half = max(1, self.splitter.width() // 2)
            self.splitter.setSizes([half, half])
        self.view.fit()  # the linked view follows its zoom

    # -- loading -------------------------------------------------------------------------

    def show_item(
        self,
        item_id: int | None,
        sha256: str | None,
        paths: list[bytes],
        heatmap: bytes | None,
        geometry: dict[str, Any] | None,
        orientation: int | None,
    ) -> None:
        self.view.clear()
        self.original.clear()
        if item_id is None or sha256 is None:
            self.caption.setText("")
            return
        cam = decode_cam(heatmap) if heatmap else None
        shape = Geometry.from_record(geometry) if geometry else None
        self._pending = (cam, shape, orientation or 1)
        self.caption.setText("Loading the original (read-only, hash checked)...")
        if self._loader is not None:
            self._loader.cancel()

        def decode(_context: JobContext) -> tuple[QImage, float]:
            return display_pixels(sha256, paths)

        loader = JobThread(Job(JobKind.OTHER, "load image", decode), self)
        loader.setProperty("item", item_id)
        loader.ended.connect(self._loaded)
        loader.finished.connect(self._thread_done)
        self._loader = loader
        self._threads.add(loader)
        loader.start()

    def _thread_done(self) -> None:
        thread = self.sender()
        if isinstance(thread, JobThread):
            self._threads.discard(thread)
            thread.deleteLater()

    def _loaded(self, outcome: Outcome) -> None:
        sender = self.sender()
        if sender is not self._loader or self._pending is None:
            return
        self._loader = None
        if not outcome.ok:
            self.caption.setText(f"Cannot show the original: {outcome.error}")
            return
        image, scale = outcome.result
        cam, geometry, orientation = self._pending
        self.view.set_image(image, orientation)
        self.view.set_analysis(cam, geometry, scale)
        self.view.set_heatmap_visible(self.heatmap_button.isChecked())
        self.view.set_heatmap_opacity(self.opacity.value() / 100)
        self.original.set_image(image, orientation)
        notes = []
        if orientation != 1:
            notes.append(
                f"shown upright (EXIF orientation {orientation}); the detector saw "
                "the stored, unrotated pixels"
            )
        if scale < 1:
            notes.append(
                f"shown reduced to {scale:.0%} of its {round(image.width() / scale)} px width"
            )
        if geometry is not None:
            notes.append("outlined: the square the detector examined; hatched: not examined")
            if cam is not None:
                notes.append(
                    "colour: regions that most influenced the score (not a 'manipulated region')"
                )
        elif cam is None:
            notes.append("not analysed yet")
        self.caption.setText("; ".join(notes).capitalize() + ".")

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Let running decodes finish (a QThread must not be destroyed while running)."""
        for thread in list(self._threads):
            thread.wait(timeout_ms)
