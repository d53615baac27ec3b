"""The page shown while no case is open: new, open, recent cases."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from opensight_desktop.resources import resource


class StartPage(QWidget):
    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(80, 60, 80, 60)
        icon = QLabel()
        icon.setPixmap(QIcon(str(resource("icons", "opensight.svg"))).pixmap(96, 96))
        title = QLabel(
            "<h1>OpenSight Desktop</h1><p>Image forensics casework: evidence import "
            "with hashes, AI-generated image detection with heatmaps, metadata, "
            "reports. Everything stays on this computer.</p>"
        )
        title.setWordWrap(True)
        header = QHBoxLayout()
        header.addWidget(icon)
        header.addWidget(title, 1)
        layout.addLayout(header)
        buttons = QHBoxLayout()
        self.new_button = QPushButton("New case...")
        self.open_button = QPushButton("Open case...")
        for button in (self.new_button, self.open_button):
            button.setMinimumHeight(40)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("<b>Recent cases</b> (double-click to open)"))
        self.recent = QListWidget()
        layout.addWidget(self.recent, 1)
        layout.addWidget(QLabel("You can also drop a case file (.osc) on this window."))

    def set_recent(self, paths: list[str]) -> None:
        self.recent.clear()
        for path in paths:
            item = QListWidgetItem(path)
            item.setData(Qt.ItemDataRole.UserRole, path)
            if not Path(path).exists():
                item.setText(f"{path}  (missing)")
            self.recent.addItem(item)
