"""The main window: start page, case workspace (list/gallery, viewer, item panel), jobs on
worker threads with progress and cancel, and the case's menus.

Torch is imported only inside analysis jobs, on their thread: the window opens fast and
stays responsive while the model loads.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSize, Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import func, select

from opensight_desktop import __version__, present
from opensight_desktop.case import review
from opensight_desktop.case.models import DetectionResult
from opensight_desktop.case.states import REVIEW_STATES, ItemStatus
from opensight_desktop.case.store import Case
from opensight_desktop.case.views import current_heatmaps, item_view
from opensight_desktop.detector.store import ModelStore
from opensight_desktop.detector.verdict import VERDICT_LABELS
from opensight_desktop.errors import OpenSightError
from opensight_desktop.gui.dialogs import (
    AuditLogDialog,
    ModelManagerDialog,
    NewCaseDialog,
    ReportDialog,
    SettingsDialog,
    choose_model_file,
    show_text,
)
from opensight_desktop.gui.evidence_model import COLUMN, EvidenceFilter, EvidenceModel, ItemIdRole
from opensight_desktop.gui.gallery import GalleryView
from opensight_desktop.gui.item_panel import ItemPanel
from opensight_desktop.gui.jobs import JobThread
from opensight_desktop.gui.viewer_panel import ViewerPanel
from opensight_desktop.metadata.flags import FLAG_TITLES
from opensight_desktop.progress import Progress
from opensight_desktop.resources import resource
from opensight_desktop.settings import load_settings, save_settings

log = logging.getLogger(__name__)
RECENT_LIMIT = 10


class StartPage(QWidget):
    def __init__(self, window: MainWindow) -> None:
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
        self.new_button.clicked.connect(window.new_case)
        self.open_button.clicked.connect(window.open_case_dialog)
        self.recent.itemActivated.connect(window.open_recent)

    def set_recent(self, paths: list[str]) -> None:
        self.recent.clear()
        for path in paths:
            item = QListWidgetItem(path)
            item.setData(Qt.ItemDataRole.UserRole, path)
            if not Path(path).exists():
                item.setText(f"{path}  (missing)")
            self.recent.addItem(item)


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowIcon(QIcon(str(resource("icons", "opensight.svg"))))
        self.settings = load_settings()
        self.case: Case | None = None
        self.job: JobThread | None = None
        self._detector_cache: dict[tuple[str, str], Any] = {}
        self._result_mark = 0
        self._current_item: int | None = None
        self.store = ModelStore()
        self.model = EvidenceModel(self)
        self.proxy = EvidenceFilter(self)
        self.proxy.setSourceModel(self.model)
        self.setAcceptDrops(True)
        self.resize(1500, 920)

        self.pages = QStackedWidget()
        self.start_page = StartPage(self)
        self.workspace = self._build_workspace()
        self.pages.addWidget(self.start_page)
        self.pages.addWidget(self.workspace)
        self.setCentralWidget(self.pages)
        self._build_status_bar()
        self._build_menus()
        self._build_shortcuts()
        self._show_start()

    # == layout ===========================================================================

    def _build_workspace(self) -> QWidget:
        workspace = QWidget()
        layout = QVBoxLayout(workspace)
        layout.setContentsMargins(6, 6, 6, 6)
        self.banner = QFrame()
        self.banner.setObjectName("no-model-banner")
        self.banner.setStyleSheet(
            "#no-model-banner { background: #fff4d6; border: 1px solid "
            "#e0b040; border-radius: 4px; }"
        )
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.addWidget(
            QLabel(
                "<b>No detector model is installed.</b> Analysis needs the Community Forensics "
                "ViT-S/16-384 weights (OwensLab/commfor-model-384). Import, review and reports "
                "work without them."
            ),
            1,
        )
        self.banner_import = QPushButton("Import model file...")
        self.banner_download = QPushButton("Download...")
        self.banner_import.clicked.connect(self.import_model_file)
        self.banner_download.clicked.connect(self.download_model)
        banner_layout.addWidget(self.banner_import)
        banner_layout.addWidget(self.banner_download)
        layout.addWidget(self.banner)

        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search names, paths, cameras, hashes, tags...  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.verdict_filter = QComboBox()
        self.verdict_filter.addItem("All verdicts", "")
        for key, label in VERDICT_LABELS.items():
            self.verdict_filter.addItem(label, key)
        self.verdict_filter.addItem("Not analysed", "none")
        self.flag_filter = QComboBox()
        self.flag_filter.addItem("All flags", "")
        for key, label in FLAG_TITLES.items():
            self.flag_filter.addItem(label, key)
        self.status_filter = QComboBox()
        self.status_filter.addItem("All statuses", "")
        for status in ItemStatus:
            self.status_filter.addItem(status.capitalize(), status)
        self.review_filter = QComboBox()
        self.review_filter.addItem("All review states", "")
        for key, label in REVIEW_STATES.items():
            self.review_filter.addItem(label, key)
        self.count_label = QLabel()
        self.list_button = QToolButton()
        self.list_button.setText("List")
        self.grid_button = QToolButton()
        self.grid_button.setText("Gallery")
        view_group = QButtonGroup(self)
        for button in (self.list_button, self.grid_button):
            button.setCheckable(True)
            view_group.addButton(button)
        self.list_button.setChecked(True)
        filters.addWidget(self.search, 2)
        for combo in (
            self.verdict_filter,
            self.flag_filter,
            self.status_filter,
            self.review_filter,
        ):
            filters.addWidget(combo)
            combo.currentIndexChanged.connect(self._filters_changed)
        filters.addWidget(self.count_label)
        filters.addWidget(self.list_button)
        filters.addWidget(self.grid_button)
        layout.addLayout(filters)
        self.search.textChanged.connect(self._filters_changed)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setIconSize(QSize(44, 44))
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(48)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        for key, width in (
            ("file_name", 240),
            ("probability", 90),
            ("verdict", 120),
            ("flags", 170),
            ("camera", 140),
            ("taken", 140),
            ("status", 80),
            ("review", 150),
        ):
            self.table.setColumnWidth(COLUMN[key], width)
        self.table.setWordWrap(False)
        self.gallery = GalleryView()
        self.gallery.setModel(self.proxy)
        self.gallery.setSelectionModel(self.table.selectionModel())
        self.views = QStackedWidget()
        self.views.addWidget(self.table)
        self.views.addWidget(self.gallery)
        self.list_button.toggled.connect(self._switch_view)

        self.viewer = ViewerPanel()
        self.item_panel = ItemPanel()
        self.item_panel.review_state_chosen.connect(self.set_review_state)
        self.item_panel.tags_edited.connect(self._tags_edited)
        self.item_panel.notes_edited.connect(self._notes_edited)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.views)
        self.splitter.addWidget(self.viewer)
        self.splitter.addWidget(self.item_panel)
        self.splitter.setSizes([520, 560, 420])
        layout.addWidget(self.splitter, 1)
        self.table.selectionModel().currentChanged.connect(self._current_changed)
        return workspace

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.job_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_job)
        bar.addWidget(self.job_label, 1)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)

    def _action(
        self,
        menu: Any,
        text: str,
        slot: Any,
        shortcut: str | None = None,
        case_only: bool = True,
        writes: bool = False,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        action.setProperty("case_only", case_only)
        action.setProperty("writes", writes)  # off while the case is open read-only
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        menus = self.menuBar()
        file_menu = menus.addMenu("&Case")
        self._action(file_menu, "&New case...", self.new_case, "Ctrl+N", case_only=False)
        self._action(file_menu, "&Open case...", self.open_case_dialog, "Ctrl+O", case_only=False)
        self._action(file_menu, "&Close case", self.close_case, "Ctrl+W")
        file_menu.addSeparator()
        verify = self._action(file_menu, "&Verify integrity", self.verify)
        self._action(file_menu, "Audit &log", self.show_audit_log)
        self._action(file_menu, "Case &information", self.show_case_info)
        file_menu.addSeparator()
        report = self._action(
            file_menu, "Generate &report (PDF)...", self.generate_report, "Ctrl+P"
        )
        self._action(file_menu, "Export &JSON...", self.export_json, "Ctrl+E")
        self._action(file_menu, "Export &CSV...", self.export_csv)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, "Ctrl+Q", case_only=False)
        evidence = menus.addMenu("&Evidence")
        import_folder = self._action(
            evidence, "Import &folder...", self.import_folder, "Ctrl+I", writes=True
        )
        self._action(evidence, "Import f&iles...", self.import_files, "Ctrl+Shift+I", writes=True)
        evidence.addSeparator()
        analyze = self._action(evidence, "&Analyse all", self.analyze_all, "Ctrl+R", writes=True)
        self._action(
            evidence, "Analyse &selected", self.analyze_selected, "Ctrl+Shift+R", writes=True
        )
        self._action(evidence, "&Tile scan of this image", self.tile_scan, writes=True)
        cancel = self._action(evidence, "&Cancel running job", self.cancel_job, "Esc")
        tools = menus.addMenu("&Tools")
        self._action(tools, "Detector &models...", self.manage_models, case_only=False)
        self._action(tools, "&Settings...", self.edit_settings, case_only=False)
        help_menu = menus.addMenu("&Help")
        self._action(help_menu, "&About", self.about, case_only=False)
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.setIconSize(QSize(22, 22))
        for action, icon, text in (
            (import_folder, "import", "Import"),
            (analyze, "analyze", "Analyse"),
            (cancel, "cancel", "Cancel"),
            (verify, "verify", "Verify"),
            (report, "report", "Report"),
        ):
            action.setIcon(QIcon(str(resource("icons", f"{icon}.svg"))))
            action.setIconText(text)
            toolbar.addAction(action)
        self.case_actions = [a for a in self.findChildren(QAction) if a.property("case_only")]

    def _build_shortcuts(self) -> None:
        def add(key: str, slot: Any) -> None:
            action = QAction(self)
            action.setShortcut(QKeySequence(key))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slot)
            self.workspace.addAction(action)

        for number, state in enumerate(REVIEW_STATES):
            add(str(number), lambda _=False, s=state: self.set_review_state(s))
        add("N", self.next_item)
        add("P", self.previous_item)
        add("H", self.viewer.toggle_heatmap)
        add("S", lambda: self.viewer.set_side_by_side(not self.viewer.side_button.isChecked()))
        add("F", self.viewer.view.fit)
        add("Ctrl+F", self.search.setFocus)

    # == cases ============================================================================

    def _show_start(self) -> None:
        self.pages.setCurrentWidget(self.start_page)
        self.start_page.set_recent(self.settings.recent_cases or [])
        self.setWindowTitle("OpenSight Desktop")
        for action in self.case_actions:
            action.setEnabled(False)

    def new_case(self) -> None:
        dialog = NewCaseDialog(self, default_folder=str(Path.home() / "case.osc"))
        if dialog.exec() != NewCaseDialog.DialogCode.Accepted:
            return
        values = dialog.values()
        path = values.pop("path")
        try:
            case = Case.create(path, **values)
        except OpenSightError as exc:
            QMessageBox.warning(self, "New case", str(exc))
            return
        self._use_case(case)

    def open_case_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Open case", str(Path.home()), "OpenSight cases (*.osc);;All files (*)"
        )
        if name:
            self.open_case(name)

    def open_recent(self, item: QListWidgetItem) -> None:
        self.open_case(item.data(Qt.ItemDataRole.UserRole))

    def open_case(self, path: str) -> bool:
        if self.case is not None and not self.close_case():
            return False
        try:
            case = Case.open(path)
        except OpenSightError as exc:
            QMessageBox.warning(self, "Open case", str(exc))
            return False
        if case.read_only:
            QMessageBox.warning(
                self,
                "Case open read-only",
                "\n\n".join(line[0].upper() + line[1:] + "." for line in case.notices())
                + "\n\nViewing, verifying, reports and exports work; nothing can be changed.",
            )
        if case.upgraded:
            QMessageBox.information(
                self,
                "Case upgraded",
                f"The case file was upgraded from "
                f"schema {case.upgraded.from_revision} to "
                f"{case.upgraded.to_revision}. A backup copy of the old "
                f"file was made first:\n{case.upgraded.backup}",
            )
        self._use_case(case)
        return True

    def _use_case(self, case: Case) -> None:
        self.case = case
        summary = case.summary()
        self.setWindowTitle(
            f"{summary.number} — {summary.title}"
            + (" (read-only)" if case.read_only else "")
            + " — OpenSight Desktop"
        )
        recent = [str(case.path)] + [
            p for p in (self.settings.recent_cases or []) if p != str(case.path)
        ]
        self.settings.recent_cases = recent[:RECENT_LIMIT]
        self._save_settings()
        self.model.set_case(case)
        self._result_mark = self._last_result_id()
        self.pages.setCurrentWidget(self.workspace)
        for action in self.case_actions:
            action.setEnabled(not (case.read_only and action.property("writes")))
        self.item_panel.set_editable(not case.read_only)
        self._update_banner()
        self._update_count()
        if self.proxy.rowCount():
            self.table.selectRow(0)
        else:
            self._show_item(None)
            self.viewer.caption.setText(
                "This case has no evidence yet: drop folders or files on "
                "the window, or use Evidence > Import folder (Ctrl+I)."
            )
        self.job_label.setText(
            f"Case {summary.number}: {summary.items} items. Drop folders "
            "here or use Evidence > Import."
        )

    def close_case(self) -> bool:
        if self.case is None:
            return True
        if self.job is not None and not self._stop_job("close the case"):
            return False
        self.item_panel.commit_notes()
        self.viewer.shutdown()
        self.model.set_case(None)
        self.case.close()
        self.case = None
        self._current_item = None
        self._show_start()
        return True

    def show_case_info(self) -> None:
        assert self.case is not None
        s = self.case.summary()
        lines = [
            f"Case number: {s.number}",
            f"Title: {s.title}",
            f"Examiner: {s.examiner}",
            f"Agency: {s.agency or '-'}",
            f"Description: {s.description or '-'}",
            f"Created: {s.created_utc.isoformat()} (examiner's zone {s.tz_name})",
            f"Case file: {s.path}",
            f"Schema: {s.schema_revision}",
            f"Items: {s.items} " + str(s.items_by_status),
            f"Files: {s.files}",
            f"Detector results: {s.detection_results}",
            f"Audit entries: {s.audit_entries}",
            "Access: "
            + (f"read-only: {self.case.read_only_reason}" if self.case.read_only else "read-write"),
            "Schema check: "
            + (
                "\n  ".join(
                    ["not as OpenSight creates it:"]
                    + [d.describe() for d in self.case.schema_differences]
                )
                if self.case.schema_differences
                else "as OpenSight creates it"
            ),
        ]
        show_text(self, "Case information", "\n".join(lines))

    # == selection and review =============================================================

    def selected_ids(self) -> list[int]:
        rows = self.table.selectionModel().selectedRows()
        return [index.data(ItemIdRole) for index in rows]

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.item_panel.commit_notes()
        self._show_item(current.data(ItemIdRole) if current.isValid() else None)

    def _show_item(self, item_id: int | None) -> None:
        self._current_item = item_id
        if item_id is None or self.case is None:
            self.item_panel.show_item(None, self.settings.bands())
            self.viewer.show_item(None, None, [], None, None, None)
            return
        with self.case.read() as session:
            item = item_view(session, item_id)
            heatmap = current_heatmaps(session, [item_id]).get(item_id)
        self.item_panel.show_item(item, self.settings.bands())
        if (
            item is None
            or item.sha256 is None
            or (item.status == ItemStatus.ERROR and not item.width)
        ):
            self.viewer.show_item(None, None, [], None, None, None)
            if item is not None:
                self.viewer.caption.setText(f"No picture to show: {item.error}")
            return
        self.viewer.show_item(
            item_id,
            item.sha256,
            [location.path_raw for location in item.locations],
            heatmap.grid if heatmap else None,
            dict(heatmap.geometry) if heatmap and heatmap.geometry else None,
            item.metadata.orientation,
        )

    def set_review_state(self, state: str) -> None:
        ids = self.selected_ids() or ([self._current_item] if self._current_item else [])
        if self.case is None or not ids:
            return
        if self.case.read_only:
            self.job_label.setText("The case is open read-only: review states cannot change")
            return
        review.set_review_state(self.case, ids, state)
        self.model.refresh_items(ids)
        if self._current_item in ids:
            self._refresh_panel()
        self.job_label.setText(
            f"Review state '{present.review_label(state)}' set on {len(ids)} item(s)"
        )

    def _tags_edited(self, tags: list[str]) -> None:
        if self.case is not None and self._current_item is not None:
            review.set_tags(self.case, self._current_item, tags)
            self.model.refresh_items([self._current_item])

    def _notes_edited(self, notes: str) -> None:
        item = self.item_panel.item.id if self.item_panel.item else None
        if self.case is not None and item is not None:
            try:
                review.set_notes(self.case, item, notes)
            except OpenSightError as exc:  # too long, or a case open read-only
                QMessageBox.warning(self, "Notes not saved", str(exc))
                return
            self.job_label.setText(f"Notes saved for item {item}")

    def _refresh_panel(self) -> None:
        if self.case is None or self._current_item is None:
            return
        with self.case.read() as session:
            item = item_view(session, self._current_item)
        if item is not None:
            self.item_panel.show_item(item, self.settings.bands())

    def _step(self, delta: int) -> None:
        current = self.table.currentIndex()
        row = (current.row() if current.isValid() else -1) + delta
        if 0 <= row < self.proxy.rowCount():
            index = self.proxy.index(row, 0)
            self.table.selectionModel().setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            self.table.scrollTo(index)
            self.gallery.scrollTo(self.proxy.index(row, COLUMN["file_name"]))

    def next_item(self) -> None:
        self._step(1)

    def previous_item(self) -> None:
        self._step(-1)

    def _filters_changed(self) -> None:
        self.proxy.set_filters(
            text=self.search.text(),
            verdict=self.verdict_filter.currentData(),
            flag=self.flag_filter.currentData(),
            status=self.status_filter.currentData(),
            review=self.review_filter.currentData(),
        )
        self._update_count()

    def _update_count(self) -> None:
        self.count_label.setText(f"{self.proxy.rowCount()} of {self.model.rowCount()} items")

    def _switch_view(self, list_on: bool) -> None:
        self.views.setCurrentWidget(self.table if list_on else self.gallery)

    # == jobs =============================================================================

    def _start_job(
        self, name: str, function: Any, on_success: Any, on_progress: Any = None
    ) -> bool:
        if self.job is not None:
            QMessageBox.information(
                self, name, f"Wait for '{self.job.name}' to finish, or cancel it (Esc)."
            )
            return False
        job = JobThread(name, function, self)
        job.succeeded.connect(on_success)
        job.failed.connect(self._job_failed)
        job.cancelled.connect(self._job_cancelled)
        job.message.connect(self.job_label.setText)
        job.progress.connect(on_progress or self._job_progress)
        job.finished.connect(self._job_finished)
        self.job = job
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.job_label.setText(f"{name}...")
        job.start()
        return True

    def _job_progress(self, progress: Progress) -> None:
        if progress.total:
            self.progress.setRange(0, progress.total)
            self.progress.setValue(progress.done)
        counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in progress.counts.items() if v)
        eta = f", about {progress.eta_s:.0f} s left" if progress.eta_s else ""
        total = f"/{progress.total}" if progress.total else ""
        self.job_label.setText(
            f"{self.job.name if self.job else progress.job}: "
            f"{progress.done}{total} ({progress.rate:.1f}/s{eta})"
            + (f" — {counts}" if counts else "")
        )

    def _job_failed(self, message: str) -> None:
        QMessageBox.warning(self, self.job.name if self.job else "Job", message)

    def _job_cancelled(self, message: str) -> None:
        """A cancellation is no error: the status bar says what it left."""
        self.job_label.setText(message[:1].upper() + message[1:] + ".")

    def _job_finished(self) -> None:
        job = self.sender()
        self.job = None
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        if isinstance(job, JobThread):
            job.deleteLater()

    def cancel_job(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.job_label.setText(f"Cancelling {self.job.name} (finishing the current batch)...")

    def _stop_job(self, why: str) -> bool:
        assert self.job is not None
        answer = QMessageBox.question(
            self,
            "Job running",
            f"'{self.job.name}' is running. Cancel it and {why}? Finished work is kept.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self.wait_for_job()
        return True

    def wait_for_job(self) -> None:
        """Cancel the running job and wait for its thread (shutdown, tests)."""
        job = self.job
        if job is not None:
            job.cancel()
            job.wait()
            # deliver its queued signals before the objects go away
            from PySide6.QtWidgets import QApplication

            QApplication.processEvents()

    # -- import --------------------------------------------------------------------------

    def import_folder(self) -> None:
        name = QFileDialog.getExistingDirectory(self, "Import folder", str(Path.home()))
        if name:
            self.import_paths([name])

    def import_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Import files", str(Path.home()))
        if names:
            self.import_paths(names)

    def import_paths(self, paths: list[str]) -> bool:
        if self.case is None:
            return False
        case = self.case

        def run(progress: Any, cancel: Any, _message: Any) -> Any:
            # imported here, on the worker thread: loading the readers' modules takes time
            from opensight_desktop.pipeline.import_job import ImportJob

            return ImportJob(
                case, paths, progress=progress, cancel=cancel, progress_interval=0.25
            ).run()

        return self._start_job("Import", run, self._import_done, self._import_progress)

    def _import_progress(self, progress: Progress) -> None:
        self._job_progress(progress)
        if self.model.refresh_new():
            self._update_count()
            if self._current_item is None and self.proxy.rowCount():
                self.table.selectRow(0)

    def _import_done(self, summary: Any) -> None:
        self.model.refresh_new()
        self._update_count()
        reasons = "; ".join(f"{n} {r}" for r, n in summary.skip_reasons.most_common(3))
        self.job_label.setText(
            f"Import {summary.state}: {summary.imported} new, {summary.duplicates} duplicates, "
            f"{summary.already_present} already in case, {summary.skipped} skipped"
            + (f" ({reasons})" if reasons else "")
            + f", {summary.errors} errors"
        )
        if self._current_item is None and self.proxy.rowCount():
            self.table.selectRow(0)

    # -- analysis ------------------------------------------------------------------------

    def analyze_all(self) -> None:
        self._analyze(None)

    def analyze_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self._analyze(ids)

    def _analyze(self, item_ids: list[int] | None) -> bool:
        if self.case is None:
            return False
        if not self.store.list():
            self._update_banner()
            QMessageBox.information(
                self,
                "Analyse",
                "No detector model is installed. Use "
                "Tools > Detector models to import the weights.",
            )
            return False
        case, settings = self.case, self.settings

        def run(progress: Any, cancel: Any, message: Any) -> Any:
            from opensight_desktop.pipeline.analyze_job import AnalysisJob

            detector = self._detector(message)
            message(f"Analysing on {detector.record()['device_description']}...")
            job = AnalysisJob(
                case,
                detector,
                bands=settings.bands(),
                batch_size=settings.batch_size,
                heatmaps=settings.heatmaps,
                item_ids=item_ids,
                progress=progress,
                cancel=cancel,
                progress_interval=0.25,
            )
            return job.run()

        return self._start_job("Analysis", run, self._analysis_done, self._analysis_progress)

    def _detector(self, message: Any) -> Any:
        """The active model, loaded once and kept while the model and device stay the same.
        Runs on a job's thread (loading imports torch)."""
        model = self.store.resolve(None)
        key = (model.id, self.settings.device)
        if key not in self._detector_cache:
            message(f"Loading {model.name} (the first time also loads PyTorch)...")
            self._detector_cache.clear()
            self._detector_cache[key] = self.store.load(model, self.settings.device)
        return self._detector_cache[key]

    def _last_result_id(self) -> int:
        if self.case is None:
            return 0
        with self.case.read() as session:
            return session.scalar(select(func.max(DetectionResult.id))) or 0

    def _analysis_progress(self, progress: Progress) -> None:
        self._job_progress(progress)
        self._pull_new_results()

    def _pull_new_results(self) -> None:
        """Show results as they arrive: rows whose items got a result since last time."""
        if self.case is None:
            return
        with self.case.read() as session:
            rows = session.execute(
                select(DetectionResult.id, DetectionResult.item_id).where(
                    DetectionResult.id > self._result_mark
                )
            ).all()
        if rows:
            self._result_mark = max(r[0] for r in rows)
            ids = [r[1] for r in rows]
            self.model.refresh_items(ids)
            if self._current_item in ids:
                self._show_item(self._current_item)

    def _analysis_done(self, summary: Any) -> None:
        self._pull_new_results()
        self.model.refresh_items(
            [row.id for row in self.model.rows if row.status != ItemStatus.ANALYZED]
        )
        if summary.total == 0:
            self.job_label.setText("Nothing to analyse: every item has a result from this model.")
            return
        verdicts = ", ".join(
            f"{n} {present.verdict_label(v).lower()}" for v, n in summary.verdicts.items()
        )
        self.job_label.setText(
            f"Analysis {summary.state} on {summary.device}: "
            f"{summary.analyzed} analysed ({verdicts}), {summary.errors} errors"
        )

    def tile_scan(self) -> None:
        if self.case is None or self._current_item is None or not self.store.list():
            return
        case, item = self.case, self._current_item

        def run(progress: Any, cancel: Any, message: Any) -> Any:
            from opensight_desktop.pipeline.tile_scan_job import TileScanJob

            return TileScanJob(
                case, self._detector(message), item, progress=progress, cancel=cancel
            ).run()

        self._start_job("Tile scan", run, self._tile_scan_done)

    def _tile_scan_done(self, result: Any) -> None:
        if not result.complete:
            self.job_label.setText("Tile scan cancelled; nothing stored.")
            return
        top = sorted(result.tiles, key=lambda t: -t[2])[:5]
        lines = [
            f"{len(result.tiles)} tiles of {result.tile_size} px, stride {result.stride}. "
            f"Highest P(generated) {present.probability_text(result.highest)}, "
            f"lowest {present.probability_text(result.lowest)}.",
            "Highest tiles (left, top, P):",
        ]
        lines += [f"  ({left}, {top}) {present.probability_text(p)}" for left, top, p in top]
        show_text(self, "Tile scan", "\n".join(lines))

    # -- integrity, audit, export ----------------------------------------------------------

    def verify(self) -> None:
        if self.case is None:
            return
        case = self.case

        def run(progress: Any, cancel: Any, _message: Any) -> Any:
            from opensight_desktop.case.integrity import verify_case

            return verify_case(case, progress=progress, cancel=cancel)

        self._start_job("Integrity check", run, self._verify_done)

    def _verify_done(self, report: Any) -> None:
        from opensight_desktop.case.integrity import describe

        self.job_label.setText("Integrity: " + ("verified" if report.ok else "PROBLEMS FOUND"))
        show_text(self, "Integrity check", "\n".join(describe(report)))

    def show_audit_log(self) -> None:
        if self.case is not None:
            AuditLogDialog(self.case, self).open()

    def generate_report(self) -> None:
        if self.case is None:
            return
        selected = self.selected_ids()
        dialog = ReportDialog(len(selected), self)
        if dialog.exec() != ReportDialog.DialogCode.Accepted:
            return
        name, _ = QFileDialog.getSaveFileName(
            self, "Report", str(self.case.path.with_suffix(".report.pdf")), "PDF (*.pdf)"
        )
        if not name:
            return
        self.item_panel.commit_notes()
        self.report_to(name, dialog.scope(), selected, dialog.appendix.isChecked())

    def report_to(self, path: str, scope: str, selected: list[int], appendix: bool) -> bool:
        case = self.case
        if case is None:
            return False

        def run(progress: Any, cancel: Any, _message: Any) -> Any:
            from opensight_desktop.report.pdf import ReportBuilder, ReportOptions

            options = ReportOptions(
                scope=scope,
                item_ids=selected if scope == "selected" else None,
                audit_appendix=appendix,
            )
            return ReportBuilder(case, options, progress=progress, cancel=cancel).write(path)

        return self._start_job("Report", run, self._report_done)

    def _report_done(self, result: Any) -> None:
        self.job_label.setText(f"Report written: {result.path} ({result.pages} pages)")
        box = QMessageBox(
            QMessageBox.Icon.Information if result.integrity_ok else QMessageBox.Icon.Warning,
            "Report",
            f"Report written to {result.path}\n{result.pages} pages, "
            f"{result.items} items.\nSHA-256 {result.sha256}\n(recorded in the "
            "audit log)"
            + (
                ""
                if result.integrity_ok
                else "\n\nThe integrity check found PROBLEMS; the report says which."
            ),
            parent=self,
        )
        open_button = box.addButton("Open", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Close)
        box.setObjectName("report-done")
        box.open()
        box.buttonClicked.connect(self._report_box_clicked)
        self._report_open = (open_button, str(result.path))

    def _report_box_clicked(self, button: Any) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        if getattr(self, "_report_open", None) and button is self._report_open[0]:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self._report_open[1]))

    def export_json(self) -> None:
        self._export("json")

    def export_csv(self) -> None:
        self._export("csv")

    def _export(self, fmt: str) -> None:
        if self.case is None:
            return
        name, _ = QFileDialog.getSaveFileName(
            self,
            f"Export {fmt.upper()}",
            str(self.case.path.with_suffix(f".{fmt}")),
            f"{fmt.upper()} (*.{fmt})",
        )
        if not name:
            return
        case = self.case

        def run(_progress: Any, _cancel: Any, _message: Any) -> Any:
            from opensight_desktop.report.export import export_case

            return name, export_case(case, fmt, name)

        self._start_job(f"Export {fmt.upper()}", run, self._export_done)

    def _export_done(self, result: tuple[str, int]) -> None:
        self.job_label.setText(f"Exported {result[1]} items to {result[0]}")

    # == models and settings ================================================================

    def _update_banner(self) -> None:
        self.banner.setVisible(not self.store.list())

    def manage_models(self) -> None:
        dialog = ModelManagerDialog(self.store, self)
        dialog.import_requested.connect(self.import_model)
        dialog.download_requested.connect(self.download_model)
        self._model_dialog = dialog
        dialog.finished.connect(self._update_banner)
        dialog.open()

    def import_model_file(self) -> None:
        name = choose_model_file(self)
        if name:
            self.import_model(name)

    def import_model(self, path: str) -> bool:
        store = self.store

        def run(_progress: Any, _cancel: Any, message: Any) -> Any:
            message("Checking and copying the model (loads PyTorch the first time)...")
            return store.import_path(path)

        return self._start_job("Model import", run, self._model_imported)

    def download_model(self) -> None:
        answer = QMessageBox.question(
            self,
            "Download model",
            "This connects to huggingface.co to fetch the authors' "
            "weights (OwensLab/commfor-model-384, about 90 MB). Nothing else is sent. Continue?",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        store = self.store

        def run(_progress: Any, _cancel: Any, message: Any) -> Any:
            message("Downloading from huggingface.co...")
            return store.download()

        self._start_job("Model download", run, self._model_imported)

    def _model_imported(self, result: tuple[Any, bool]) -> None:
        model, created = result
        self._detector_cache.clear()
        self._update_banner()
        if getattr(self, "_model_dialog", None) is not None:
            self._model_dialog.refresh()
        text = (
            f"{'Imported' if created else 'Already installed'}: {model.name} "
            f"[{model.format}]\nweights SHA-256 {model.id}\n"
        )
        text += (
            f"Matches the published {model.published_match}."
            if model.published_match
            else "\n".join(model.warnings)
        )
        QMessageBox.information(self, "Detector model", text)

    def edit_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec() == SettingsDialog.DialogCode.Accepted:
            self._save_settings()
            self._detector_cache.clear()

    def _save_settings(self) -> None:
        stored = load_settings()
        stored.device, stored.batch_size = self.settings.device, self.settings.batch_size
        stored.heatmaps = self.settings.heatmaps
        stored.likely_generated = self.settings.likely_generated
        stored.likely_real = self.settings.likely_real
        stored.recent_cases = self.settings.recent_cases
        try:
            save_settings(stored)
        except OSError as exc:
            log.warning("settings not saved: %s", exc)
        self.settings.active_model = stored.active_model

    def about(self) -> None:
        QMessageBox.about(
            self,
            "About OpenSight Desktop",
            f"<b>OpenSight Desktop {__version__}</b><br>Offline image forensics. "
            "Detector: Community Forensics ViT-S/16-384 (Park &amp; Owens, CVPR "
            "2025, arXiv 2411.04125). Scores are indications, not proof.",
        )

    # == window events ======================================================================

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            return
        event.acceptProposedAction()
        if self.case is None or (len(paths) == 1 and paths[0].endswith(".osc")):
            self.open_case(paths[0])
        else:
            self.import_paths(paths)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.job is not None and not self._stop_job("quit"):
            event.ignore()
            return
        self.close_case()
        self.viewer.shutdown()
        event.accept()

    def shutdown_for_tests(self) -> None:
        """Stop everything without questions (tests)."""
        self.wait_for_job()
        self.viewer.shutdown()
