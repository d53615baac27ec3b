"""Case > Export: JSON, CSV, Project VIC (VICS) JSON, KML or GeoJSON. For VICS, the
category each review state is exported as (items without a category of their own) is
shown and can be changed; it is saved as the setting ``vics_categories``."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from opensight_desktop import present
from opensight_desktop.report.exchange import category_map

FORMATS = (
    ("json", "JSON (the whole case)", "json"),
    ("csv", "CSV (one row per item)", "csv"),
    ("vics", "Project VIC (VICS) JSON", "json"),
    ("kml", "KML (located items, for map programs)", "kml"),
    ("geojson", "GeoJSON (located items)", "geojson"),
)
SUFFIX = {key: suffix for key, _label, suffix in FORMATS}


class ExportDialog(QDialog):
    def __init__(self, mapping: dict[str, int] | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.format = QComboBox()
        for key, label, _suffix in FORMATS:
            self.format.addItem(label, key)
        form.addRow("Format", self.format)
        layout.addLayout(form)
        self.vics = QGroupBox("VICS category by review state")
        vics_form = QFormLayout(self.vics)
        vics_form.addRow(
            QLabel(
                "Items without a VICS category of their own are exported with the category "
                "of their review state (0: uncategorised). Saved as a setting."
            )
        )
        self.categories: dict[str, QSpinBox] = {}
        for state, category in category_map(mapping).items():
            box = QSpinBox()
            box.setRange(0, 99)
            box.setValue(category)
            self.categories[state] = box
            vics_form.addRow(present.review_label(state), box)
        layout.addWidget(self.vics)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.format.currentIndexChanged.connect(self._format_changed)
        self._format_changed()

    def fmt(self) -> str:
        return str(self.format.currentData())

    def set_format(self, fmt: str) -> None:
        self.format.setCurrentIndex(self.format.findData(fmt))

    def mapping(self) -> dict[str, int]:
        return {state: box.value() for state, box in self.categories.items()}

    def _format_changed(self, *_args: object) -> None:
        self.vics.setVisible(self.fmt() == "vics")
        self.adjustSize()
