"""Dialogs: new case, settings, model manager, audit log, report, tags, shortcut help,
check outcomes, text results; folder and model file choosers that remember the folder."""

from __future__ import annotations

import contextlib
import threading
import zoneinfo
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from opensight_desktop import present
from opensight_desktop.case.audit import EXAMINER_KEY, FILE_NAME_KEY, parse_details
from opensight_desktop.errors import OpenSightError, UsageError
from opensight_desktop.gui import prefs
from opensight_desktop.session import CaseSession
from opensight_desktop.session.reads import AuditLog
from opensight_desktop.settings import Settings
from opensight_desktop.textsafe import visible
from opensight_desktop.timeutil import local_zone

ALERT = "#c0392b"  # failure, and what the published accuracy figures do not cover
SUCCESS = "#1e7e34"


def _text(value: object) -> str:
    """A value of an entry's details for a cell: text as is, anything else blank."""
    return value if isinstance(value, str) else ""


class NewCaseDialog(QDialog):
    """Case number, title, examiner, agency, description, time zone, and where to save."""

    def __init__(self, parent: QWidget | None = None, default_folder: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("New case")
        self.setMinimumWidth(520)
        form = QFormLayout(self)
        self.number = QLineEdit()
        self.title = QLineEdit()
        self.examiner = QLineEdit()
        self.agency = QLineEdit()
        self.description = QPlainTextEdit()
        self.description.setMaximumHeight(80)
        self.zone = QComboBox()
        self.zone.setEditable(True)
        local_name, _ = local_zone()
        zones = sorted(zoneinfo.available_timezones())
        self.zone.addItems(zones)
        local_key = _local_zone_key()
        self.zone.setCurrentText(local_key or ("UTC" if local_name == "UTC" else local_name))
        path_row = QWidget()
        path_layout = QHBoxLayout(path_row)
        path_layout.setContentsMargins(0, 0, 0, 0)
        self.path = QLineEdit(default_folder)
        browse = QPushButton("Choose...")
        browse.clicked.connect(self._browse)
        path_layout.addWidget(self.path, 1)
        path_layout.addWidget(browse)
        form.addRow("Case number *", self.number)
        form.addRow("Title *", self.title)
        form.addRow("Examiner *", self.examiner)
        form.addRow("Agency", self.agency)
        form.addRow("Description", self.description)
        form.addRow("Time zone", self.zone)
        form.addRow("Case file *", path_row)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

    def _browse(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self,
            "Case file",
            self.path.text() or prefs.last_folder("case"),
            "OpenSight cases (*.osc)",
        )
        if name:
            prefs.remember_folder("case", name)
            self.path.setText(name if name.endswith(".osc") else name + ".osc")

    def zone_offset(self) -> tuple[str, int]:
        name = self.zone.currentText().strip() or "UTC"
        try:
            offset = datetime.now(zoneinfo.ZoneInfo(name)).utcoffset()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return local_zone()
        return name, int(offset.total_seconds() // 60) if offset else 0

    def _accept(self) -> None:
        missing = [
            label
            for label, field in (
                ("case number", self.number),
                ("title", self.title),
                ("examiner", self.examiner),
                ("case file", self.path),
            )
            if not field.text().strip()
        ]
        if missing:
            QMessageBox.warning(self, "New case", "Please fill in: " + ", ".join(missing))
            return
        folder = Path(self.path.text().strip()).expanduser().parent
        if not folder.is_dir():  # said here, with every field kept for a correction
            QMessageBox.warning(
                self,
                "New case",
                f"The folder {folder} does not exist. Choose an existing folder for the "
                "case file, or create the folder first.",
            )
            self.path.setFocus()
            return
        self.accept()

    def values(self) -> dict[str, Any]:
        zone, offset = self.zone_offset()
        return {
            "path": self.path.text().strip(),
            "number": self.number.text(),
            "title": self.title.text(),
            "examiner": self.examiner.text(),
            "agency": self.agency.text(),
            "description": self.description.toPlainText(),
            "tz_name": zone,
            "tz_offset_minutes": offset,
        }


def _local_zone_key() -> str | None:
    try:
        link = Path("/etc/localtime").resolve()
        parts = link.parts
        if "zoneinfo" in parts:
            return "/".join(parts[parts.index("zoneinfo") + 1 :])
    except OSError:
        pass
    return None


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        form = QFormLayout(self)
        self.device = QComboBox()
        for key, label in (
            ("auto", "Automatic (GPU when CUDA is available)"),
            ("cpu", "CPU"),
            ("cuda", "GPU (CUDA)"),
        ):
            self.device.addItem(label, key)
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))
        self.batch = QSpinBox()
        self.batch.setRange(1, 512)
        self.batch.setValue(settings.batch_size)
        self.heatmaps = QCheckBox("Compute heatmaps while analysing")
        self.heatmaps.setChecked(settings.heatmaps)
        self.high = QDoubleSpinBox()
        self.low = QDoubleSpinBox()
        for spin, value in (
            (self.high, settings.likely_generated),
            (self.low, settings.likely_real),
        ):
            spin.setRange(0.0, 1.0)
            spin.setSingleStep(0.05)
            spin.setDecimals(2)
            spin.setValue(value)
        form.addRow("Device", self.device)
        form.addRow("Batch size", self.batch)
        form.addRow("", self.heatmaps)
        form.addRow("Likely generated at or above", self.high)
        form.addRow("Likely real at or below", self.low)
        note = QLabel("Bands apply to new results; each result keeps the bands it was made with.")
        note.setWordWrap(True)
        form.addRow(note)
        self.cluster = ClusterSettings(settings, self)
        form.addRow(self.cluster)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.settings = settings

    def _accept(self) -> None:
        if self.low.value() >= self.high.value():
            QMessageBox.warning(
                self,
                "Settings",
                "The likely-real threshold must be below the likely-generated threshold.",
            )
            return
        self.settings.device = self.device.currentData()
        self.settings.batch_size = self.batch.value()
        self.settings.heatmaps = self.heatmaps.isChecked()
        try:
            address, path_map = self.cluster.values()
        except OpenSightError as exc:
            QMessageBox.warning(self, "Settings", str(exc))
            return
        self.settings.likely_generated = round(self.high.value(), 4)
        self.settings.likely_real = round(self.low.value(), 4)
        self.settings.cluster_address, self.settings.cluster_path_map = address, path_map
        self.accept()


class ClusterSettings(QWidget):
    """Where analysis runs: this computer or a Ray cluster (address, path map, and a
    connection test that lists the nodes, run off the GUI thread)."""

    probed = Signal(str)  # the connection test's outcome, from its thread

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.where = QComboBox()
        self.where.addItem("This computer", "local")
        self.where.addItem("A Ray cluster (README: Scaling out)", "cluster")
        self.where.setCurrentIndex(1 if settings.cluster_address else 0)
        self.address = QLineEdit(settings.cluster_address or "")
        self.address.setPlaceholderText("HEAD_HOST:6379")
        self.path_map = QPlainTextEdit("\n".join(settings.cluster_path_map or []))
        self.path_map.setPlaceholderText("/cases/media=/mnt/evidence  (one LOCAL=REMOTE a line)")
        self.path_map.setFixedHeight(60)
        self.test = QPushButton("Test connection")
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Analyse on", self.where)
        form.addRow("Cluster address", self.address)
        form.addRow("Path map", self.path_map)
        form.addRow(self.test, self.result)
        self.where.currentIndexChanged.connect(self._enable)
        self.test.clicked.connect(self._test)
        self.probed.connect(self._show)
        self._enable()

    def _enable(self) -> None:
        on = self.where.currentData() == "cluster"
        for widget in (self.address, self.path_map, self.test):
            widget.setEnabled(on)

    def values(self) -> tuple[str | None, list[str] | None]:
        """(address or None for this computer, path map lines); checked (UsageError)."""
        lines = [line.strip() for line in self.path_map.toPlainText().splitlines()]
        pairs = [line for line in lines if line]
        address = self.address.text().strip() if self.where.currentData() == "cluster" else None
        if address == "":
            raise UsageError("give the cluster's address (HOST:PORT of its head)")
        Settings(cluster_address=address, cluster_path_map=pairs).cluster_config()
        return address, pairs or None

    def _test(self) -> None:
        address = self.address.text().strip()
        self.test.setEnabled(False)
        self.result.setText(f"Asking {address}...")
        threading.Thread(
            target=self._probe, args=(address,), name="opensight-cluster-test", daemon=True
        ).start()

    def _probe(self, address: str) -> None:
        from opensight_desktop.pipeline.cluster.source import probe

        try:
            nodes = probe(address)
        except OpenSightError as exc:
            self._emit(f"Not usable: {exc}")
            return
        lines = [
            f"{n.host or n.address} ({n.address}): {n.cpus:g} CPUs, {n.gpus:g} GPUs"
            + ("" if n.alive else " — not alive")
            for n in nodes
        ]
        self._emit(f"{len(nodes)} node(s):\n" + "\n".join(lines))

    def _emit(self, text: str) -> None:
        with contextlib.suppress(RuntimeError):  # the dialog was closed while the test ran
            self.probed.emit(text)

    def _show(self, text: str) -> None:
        self.result.setText(text)
        self.test.setEnabled(True)


def choose_model_file(parent: QWidget | None) -> str | None:
    name, _ = QFileDialog.getOpenFileName(
        parent,
        "Model weights",
        prefs.last_folder("model"),
        "Weights (*.safetensors *.pt *.pth *.bin);;All (*)",
    )
    prefs.remember_folder("model", name)
    return name or None


def folder_dialog(parent: QWidget | None, title: str, kind: str) -> QFileDialog:
    """A folder chooser that takes several folders at once (Ctrl or Shift and click): Qt's
    own dialog, since the platforms' choose one."""
    dialog = QFileDialog(parent, title, prefs.last_folder(kind))
    dialog.setFileMode(QFileDialog.FileMode.Directory)
    dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    for view in dialog.findChildren(QAbstractItemView):
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    return dialog


def choose_folders(parent: QWidget | None, title: str, kind: str) -> list[str]:
    """The folders chosen (none if cancelled); the last folder is remembered."""
    dialog = folder_dialog(parent, title, kind)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return []
    chosen = [name for name in dialog.selectedFiles() if name]
    if chosen:
        prefs.remember_folder(kind, str(Path(chosen[0]).parent))
    return chosen


def confirm_unpublished(parent: QWidget | None, name: str, sha256: str) -> bool:
    """Asked before weights that match no published release become the active model."""
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "Weights not published",
        f"{name}\nweights SHA-256 {sha256}\n\n{present.UNPUBLISHED_WEIGHTS}\n\n"
        "Reports and the item panel will say so for every score from them.",
        parent=parent,
    )
    use = box.addButton("Use these weights", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is use


class ModelManagerDialog(QDialog):
    """Installed models with their hashes; import a file or folder; download (explicit)."""

    import_requested = Signal(str)
    download_requested = Signal()

    def __init__(self, session: CaseSession, parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Detector models")
        self.resize(900, 360)
        self.session = session
        self.store = session.store
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(
            ["Active", "Name", "Format", "Weights SHA-256", "Published release"]
        )
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(
            4, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        layout.addWidget(self.table)
        note = QLabel(
            "Weights that match no published Community Forensics release are never made "
            "active without your confirmation: the published accuracy figures do not apply "
            "to their scores."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        buttons = QHBoxLayout()
        self.import_file = QPushButton("Import model file...")
        self.import_folder = QPushButton("Import model folder...")
        self.download = QPushButton("Download (internet)...")
        self.activate = QPushButton("Use selected")
        close = QPushButton("Close")
        for button in (self.import_file, self.import_folder, self.download, self.activate):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.import_file.clicked.connect(self._import_file)
        self.import_folder.clicked.connect(self._import_folder)
        self.download.clicked.connect(self.download_requested.emit)
        self.activate.clicked.connect(self._activate)
        close.clicked.connect(self.accept)
        self.refresh()

    def refresh(self) -> None:
        models = self.store.list()
        active = self.store.active()
        self.table.setRowCount(len(models))
        for row, model in enumerate(models):
            values = [
                "●" if active and active.id == model.id else "",
                model.name,
                model.format,
                model.id,
                present.release_text(model.id),
            ]
            unpublished = present.is_unpublished(model.id)
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, model.id)
                if column == 3:
                    item.setFont(QFont("monospace"))
                if column == 4 and unpublished:
                    item.setForeground(QColor(ALERT))
                item.setToolTip(
                    model.source + ("\n" + "\n".join(model.warnings) if model.warnings else "")
                )
                self.table.setItem(row, column, item)

    def _import_file(self) -> None:
        name = choose_model_file(self)
        if name:
            self.import_requested.emit(name)

    def _import_folder(self) -> None:
        name = QFileDialog.getExistingDirectory(self, "Model folder", prefs.last_folder("model"))
        if name:
            prefs.remember_folder("model", str(Path(name).parent))
            self.import_requested.emit(name)

    def _activate(self) -> None:
        items = self.table.selectedItems()
        if not items:
            return
        model = self.store.find(items[0].data(Qt.ItemDataRole.UserRole))
        if present.is_unpublished(model.id) and not confirm_unpublished(self, model.name, model.id):
            return  # never made active without the examiner's explicit choice
        self.session.set_active_model(model)
        self.refresh()


class AuditLogDialog(QDialog):
    def __init__(self, log: AuditLog, parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Audit log")
        self.resize(1000, 600)
        layout = QVBoxLayout(self)
        chain, entries = log.chain, log.entries
        status = QLabel(
            f"Chain intact: {chain.entries} entries, head {chain.head_hash}"
            if chain.ok
            else f"<b style='color:#c0392b'>CHAIN BROKEN at entry {chain.first_bad_seq}: "
            f"{chain.problem}</b>"
        )
        status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(status)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter entries...")
        layout.addWidget(self.search)
        headers = ["#", "Time (UTC)", "Examiner", "Account", "Action", "Item", "File", "Details"]
        table = QTableWidget(len(entries), len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.horizontalHeader().setSectionResizeMode(
            len(headers) - 1, QHeaderView.ResizeMode.Stretch
        )
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for row, entry in enumerate(entries):
            details = parse_details(entry.details) or {}
            for column, value in enumerate(
                (
                    entry.seq,
                    entry.ts_utc[:19].replace("T", " "),
                    _text(details.get(EXAMINER_KEY)),
                    f"{entry.user}@{entry.host}",
                    entry.action,
                    entry.item_id or "",
                    _text(details.get(FILE_NAME_KEY)),
                    entry.details,
                )
            ):
                table.setItem(row, column, QTableWidgetItem(visible(str(value))))
        self.table = table
        layout.addWidget(table)
        self.search.textChanged.connect(self._filter)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        close.accepted.connect(self.accept)
        layout.addWidget(close)

    def _filter(self, text: str) -> None:
        terms = text.lower().split()
        for row in range(self.table.rowCount()):
            cells = (self.table.item(row, column) for column in range(self.table.columnCount()))
            line = " ".join(cell.text() for cell in cells if cell is not None).lower()
            self.table.setRowHidden(row, not all(t in line for t in terms))


REPORT_SCOPES = (
    ("all", "All items"),
    ("flagged", "Only flagged items (metadata flags, hash-set hits)"),
    ("reviewed", "Only reviewed items (a review state other than Not reviewed)"),
    ("summary", "Summary only (no page per item; per-item audit entries counted)"),
)


class ReportDialog(QDialog):
    """Which items (a scope, review states, the list's filter), and the audit log appendix."""

    def __init__(
        self, selected: int, parent: QWidget | None = None, filtered: int | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Generate report")
        layout = QVBoxLayout(self)
        self.scopes: dict[str, QRadioButton] = {}
        for key, text in REPORT_SCOPES:
            self.scopes[key] = QRadioButton(text)
            layout.addWidget(self.scopes[key])
        self.scopes["selected"] = QRadioButton(f"Only the selected items ({selected})")
        self.scopes["selected"].setEnabled(selected > 0)
        layout.addWidget(self.scopes["selected"])
        self.scopes["all"].setChecked(True)
        self.all_items, self.flagged, self.selected = (
            self.scopes["all"],
            self.scopes["flagged"],
            self.scopes["selected"],
        )
        states_box = QGroupBox("Only items in these review states (none ticked: any state)")
        states_layout = QVBoxLayout(states_box)
        self.state_boxes: dict[str, QCheckBox] = {}
        for key in present.REVIEW_ORDER:
            self.state_boxes[key] = QCheckBox(present.review_label(key))
            states_layout.addWidget(self.state_boxes[key])
        layout.addWidget(states_box)
        count = "" if filtered is None else f" ({filtered})"
        self.in_filter = QCheckBox(f"Only the items in the current filter{count}")
        self.in_filter.setEnabled(bool(filtered))
        layout.addWidget(self.in_filter)
        self.appendix = QCheckBox("Append the audit log")
        self.appendix.setChecked(True)
        layout.addWidget(self.appendix)
        note = QLabel(
            "Evidence is re-hashed and the audit chain checked while the report is "
            "written; the report's SHA-256 goes into the audit log."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def scope(self) -> str:
        return next(key for key, button in self.scopes.items() if button.isChecked())

    def review_states(self) -> list[str]:
        return [key for key, box in self.state_boxes.items() if box.isChecked()]


class TagsDialog(QDialog):
    """Tags to add to and remove from the items a right-click menu was opened on."""

    def __init__(self, count: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Tags")
        self.setMinimumWidth(420)
        form = QFormLayout(self)
        form.addRow(QLabel(f"On {count} item(s); comma-separated."))
        self.add = QLineEdit()
        self.remove = QLineEdit()
        form.addRow("Add", self.add)
        form.addRow("Remove", self.remove)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def tags(self) -> tuple[list[str], list[str]]:
        def split(field: QLineEdit) -> list[str]:
            return [tag.strip() for tag in field.text().split(",") if tag.strip()]

        return split(self.add), split(self.remove)


class ShortcutHelp(QDialog):
    """Every declared shortcut and what it does (built from the action registry)."""

    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(540, 640)
        layout = QVBoxLayout(self)
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Keys", "Action"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for row, (keys, text) in enumerate(rows):
            key_item = QTableWidgetItem(keys)
            key_item.setFont(QFont("monospace"))
            self.table.setItem(row, 0, key_item)
            self.table.setItem(row, 1, QTableWidgetItem(text))
        self.table.resizeColumnToContents(0)
        layout.addWidget(self.table)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)


class OutcomeDialog(QDialog):
    """A check's outcome: a headline that looks like what it says (a success icon and
    green, or a critical icon and red), and the details below."""

    def __init__(
        self, title: str, ok: bool, headline: str, text: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("outcome-dialog")
        self.resize(820, 520)
        self.ok = ok
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        pixmap = (
            QStyle.StandardPixmap.SP_DialogApplyButton
            if ok
            else QStyle.StandardPixmap.SP_MessageBoxCritical
        )
        self.icon = QLabel()
        self.icon.setPixmap(self.style().standardIcon(pixmap).pixmap(40, 40))
        self.headline = QLabel(headline)
        self.headline.setWordWrap(True)
        self.headline.setTextFormat(Qt.TextFormat.PlainText)
        self.headline.setStyleSheet(
            f"font-weight: bold; font-size: 15px; color: {SUCCESS if ok else ALERT};"
        )
        top.addWidget(self.icon)
        top.addWidget(self.headline, 1)
        layout.addLayout(top)
        view = QPlainTextEdit(text)
        view.setReadOnly(True)
        view.setFont(QFont("monospace"))
        if not ok:
            view.setStyleSheet(f"QPlainTextEdit {{ border: 2px solid {ALERT}; }}")
        layout.addWidget(view)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def show_outcome(
    parent: QWidget | None, title: str, ok: bool, headline: str, text: str
) -> OutcomeDialog:
    dialog = OutcomeDialog(title, ok, headline, text, parent)
    dialog.open()
    return dialog


def show_text(parent: QWidget | None, title: str, text: str) -> QDialog:
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    dialog.resize(760, 480)
    layout = QVBoxLayout(dialog)
    view = QPlainTextEdit(text)
    view.setReadOnly(True)
    view.setFont(QFont("monospace"))
    layout.addWidget(view)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    dialog.open()
    return dialog
