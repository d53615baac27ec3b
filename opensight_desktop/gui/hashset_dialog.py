"""Tools > Hash sets: the sets of the store (shared by all cases), importing one (a
session job: progress and Cancel in the status bar), removing one, and matching the open
case against them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from opensight_desktop.errors import OpenSightError
from opensight_desktop.hashsets.store import KINDS, NAME_LIMIT, HashSetInfo, list_sets
from opensight_desktop.textsafe import visible

if TYPE_CHECKING:
    from opensight_desktop.gui.main_window import MainWindow

FORMATS = (
    ("auto", "Detect from the file"),
    ("nsrl", "NIST NSRL RDS v3 (SQLite)"),
    ("vics", "Project VIC / VICS JSON"),
    ("list", "List of hashes, one a line"),
    ("csv", "CSV with a hash column"),
)
COLUMNS = ("Name", "Kind", "Entries", "Format", "Source SHA-256", "Imported (UTC)")


class ImportHashSetDialog(QDialog):
    """The file, the set's name and kind, and its format."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import a hash set")
        form = QFormLayout(self)
        row = QHBoxLayout()
        self.path = QLineEdit()
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form.addRow("File", row)
        self.name = QLineEdit()
        self.name.setMaxLength(NAME_LIMIT)
        form.addRow("Name", self.name)
        self.kind = QComboBox()
        for kind in KINDS:
            self.kind.addItem(
                "Known files (set aside, e.g. NSRL)" if kind == "known" else "Alert (matters)",
                kind,
            )
        form.addRow("Kind", self.kind)
        self.format = QComboBox()
        for key, label in FORMATS:
            self.format.addItem(label, key)
        form.addRow("Format", self.format)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Hash-set file")
        if name:
            self.path.setText(name)
            if not self.name.text():
                self.name.setText(Path(name).stem[:NAME_LIMIT])

    def _accept(self) -> None:
        if not self.path.text().strip() or not self.name.text().strip():
            QMessageBox.warning(self, "Import a hash set", "Choose a file and give the set a name.")
            return
        self.accept()

    def values(self) -> tuple[str, str, str, str]:
        """(path, name, kind, format)."""
        return (
            self.path.text().strip(),
            self.name.text().strip(),
            str(self.kind.currentData()),
            str(self.format.currentData()),
        )


class HashSetDialog(QDialog):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle("Hash sets")
        self.resize(980, 380)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Hash sets are shared by all cases. Known-file sets (NSRL) can be hidden with "
                "one click; alert sets mark items that matter. A case shows hits once it is "
                "matched against the sets."
            )
        )
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.import_button = QPushButton("Import...")
        self.remove_button = QPushButton("Remove")
        self.match_button = QPushButton("Match case against sets")
        close = QPushButton("Close")
        for button in (self.import_button, self.remove_button, self.match_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.import_button.clicked.connect(self.import_set)
        self.remove_button.clicked.connect(self.remove_selected)
        self.match_button.clicked.connect(self.match)
        close.clicked.connect(self.close)
        self.sets: list[HashSetInfo] = []
        self.refresh()

    def refresh(self) -> None:
        self.sets = list_sets()
        self.table.setRowCount(len(self.sets))
        for row, info in enumerate(self.sets):
            for column, value in enumerate(
                (
                    visible(info.name),
                    info.kind,
                    f"{info.entries:,}",
                    info.format,
                    info.source_sha256,
                    info.imported_utc.replace("T", " "),
                )
            ):
                self.table.setItem(row, column, QTableWidgetItem(value))
        session = self.window_.session
        self.remove_button.setEnabled(bool(self.sets) and session.job is None)
        self.match_button.setEnabled(bool(self.sets) and session.writable and session.job is None)
        self.import_button.setEnabled(session.job is None)

    def import_set(self) -> None:
        from opensight_desktop.gui.actions.jobs import start_job

        dialog = ImportHashSetDialog(self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        path, name, kind, fmt = dialog.values()
        session = self.window_.session
        start_job(
            self.window_,
            "Import a hash set",
            lambda: session.import_hashset(path, name, kind, fmt),
        )
        self.refresh()

    def remove_selected(self) -> None:
        row = self.table.currentRow()
        if not 0 <= row < len(self.sets):
            return
        info = self.sets[row]
        answer = QMessageBox.question(
            self,
            "Remove hash set",
            f"Remove the hash set '{visible(info.name)}' ({info.entries:,} entries) from the "
            "store? Cases keep the hits they recorded until they are matched again.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.window_.session.remove_hashset(info.name)
        except OpenSightError as exc:
            QMessageBox.warning(self, "Remove hash set", str(exc))
        self.refresh()

    def match(self) -> None:
        from opensight_desktop.gui.actions.triage import match_case

        match_case(self.window_)
        self.refresh()
