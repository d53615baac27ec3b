"""The main window. It lays out the start page and the case workspace (list or gallery,
viewer, item panel, status bar), builds its menus, toolbar, right-click menu and shortcuts
from the declared actions (``gui.actions``), and wires widgets to the case session: the
session says what changed (``Changes``) and what its job is doing (``JobEvent``), and the
window shows it.
What the actions do lives in their modules; the case, the selection and the jobs live in
the session (``opensight_desktop.session``).

Torch is imported only inside analysis jobs, on their thread: the window opens fast and
stays responsive while the model loads.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtCore import QChildEvent, QEvent, QItemSelectionModel, QModelIndex, QPoint, QSize, Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QStyle,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from opensight_desktop import present
from opensight_desktop.case.states import ItemStatus
from opensight_desktop.detector.verdict import VERDICT_LABELS
from opensight_desktop.gui.actions import ACTIONS, JOB_DONE, evidence, models, review
from opensight_desktop.gui.actions import case as case_actions
from opensight_desktop.gui.actions.jobs import job_text, progress_text
from opensight_desktop.gui.actions.registry import (
    Action,
    When,
    context_groups,
    menu_groups,
    now,
    toolbar_actions,
)
from opensight_desktop.gui.evidence_filter import EvidenceFilter
from opensight_desktop.gui.evidence_model import COLUMN, PROBLEM_TEXT, EvidenceModel, ItemIdRole
from opensight_desktop.gui.gallery import GalleryView
from opensight_desktop.gui.item_panel import ItemPanel
from opensight_desktop.gui.jobs import QtJobRunner
from opensight_desktop.gui.start_page import StartPage
from opensight_desktop.gui.triage_view import TriageView
from opensight_desktop.gui.viewer_panel import ViewerPanel
from opensight_desktop.metadata.flags import FLAG_TITLES
from opensight_desktop.resources import resource
from opensight_desktop.session import CaseSession, Changes, JobEvent, JobEventKind


class MainWindow(QMainWindow):
    def __init__(self, session: CaseSession | None = None) -> None:
        super().__init__()
        self.setWindowIcon(QIcon(str(resource("icons", "opensight.svg"))))
        self.session = session or CaseSession(QtJobRunner(self))
        self.model = EvidenceModel(self)
        self.proxy = EvidenceFilter(self)
        self.proxy.setSourceModel(self.model)
        self.triage = TriageView(self)
        self.setAcceptDrops(True)
        self.resize(1500, 920)
        self.examiner_asked = False  # asked once per session, when a case opens

        self.pages = QStackedWidget()
        self.start_page = StartPage()
        self.workspace = self._build_workspace()
        self.pages.addWidget(self.start_page)
        self.pages.addWidget(self.workspace)
        self.setCentralWidget(self.pages)
        self._build_status_bar()
        self._build_docks()
        self.action_of: dict[str, QAction] = {}
        self._build_actions()
        self._wire()
        self.session.subscribe(self._changed)
        self.session.watch_jobs(self._job_event)
        self._show_start()
        self._update_banner()
        self._update_actions()

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
        for key in present.REVIEW_ORDER:
            self.review_filter.addItem(present.review_label(key), key)
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
        self.filter_combos = (
            self.verdict_filter,
            self.flag_filter,
            self.status_filter,
            self.review_filter,
        )
        for combo in self.filter_combos:
            filters.addWidget(combo)
        filters.addWidget(self.count_label)
        filters.addWidget(self.list_button)
        filters.addWidget(self.grid_button)
        layout.addLayout(filters)
        layout.addWidget(self.triage.panel)

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
            ("probability", 0),  # as wide as its header needs (below)
            ("verdict", 120),
            ("flags", 170),
            ("camera", 140),
            ("taken", 140),
            ("status", 80),
            ("review", 150),
        ):
            self.table.setColumnWidth(COLUMN[key], width)
        header = self.table.horizontalHeader()
        for key in ("probability", "verdict", "review"):  # headers are never cut off
            column = COLUMN[key]
            needed = header.sectionSizeHint(column) + header.style().pixelMetric(
                QStyle.PixelMetric.PM_HeaderMarkSize
            )
            self.table.setColumnWidth(column, max(self.table.columnWidth(column), needed))
        self.table.setWordWrap(False)
        self.gallery = GalleryView()
        self.gallery.stack_clicked.connect(self.triage.toggle_stack)
        self.gallery.setModel(self.proxy)
        self.gallery.setSelectionModel(self.table.selectionModel())
        for view in (self.table, self.gallery):
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            view.customContextMenuRequested.connect(partial(self._show_context_menu, view))
        self.views = QStackedWidget()
        self.views.addWidget(self.table)
        self.views.addWidget(self.gallery)

        self.viewer = ViewerPanel()
        self.item_panel = ItemPanel()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.views)
        self.splitter.addWidget(self.viewer)
        self.splitter.addWidget(self.item_panel)
        self.splitter.setSizes([520, 560, 420])
        layout.addWidget(self.splitter, 1)
        return workspace

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.job_label = QLabel("")
        self.examiner_label = QLabel("")
        self.examiner_label.setToolTip("The examiner the audit log names for changes made now")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        bar.addWidget(self.job_label, 1)
        bar.addPermanentWidget(self.examiner_label)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)

    def _build_docks(self) -> None:
        """The capture timeline and the map, tabbed below; shown from the Tools menu."""
        self.timeline_dock = QDockWidget("Capture timeline", self)
        self.timeline_dock.setObjectName("timeline-dock")
        self.timeline_dock.setWidget(self.triage.timeline)
        self.map_dock = QDockWidget("Map", self)
        self.map_dock.setObjectName("map-dock")
        self.map_dock.setWidget(self.triage.map)
        for dock in (self.timeline_dock, self.map_dock):
            self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
            dock.hide()
        self.tabifyDockWidget(self.timeline_dock, self.map_dock)

    def _build_actions(self) -> None:
        """Menus, toolbar and shortcuts from the declared actions."""
        for spec in ACTIONS:
            action = QAction(spec.text, self)
            if spec.keys:
                action.setShortcuts([QKeySequence(key) for key in spec.keys])
            action.triggered.connect(partial(self._run, spec))
            action.setProperty("writes", When.WRITABLE in spec.when)  # off while read-only
            if spec.place is None:  # a key of the workspace only (the start page has none)
                action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
                self.workspace.addAction(action)
            self.action_of[spec.id] = action
        for menu, groups in menu_groups(ACTIONS).items():
            bar_menu = self.menuBar().addMenu(menu.value)
            for number, group in enumerate(groups):
                if number:
                    bar_menu.addSeparator()
                for spec in group:
                    bar_menu.addAction(self.action_of[spec.id])
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.setIconSize(QSize(22, 22))
        for spec in toolbar_actions(ACTIONS):
            assert spec.tool is not None
            action = self.action_of[spec.id]
            action.setIcon(QIcon(str(resource("icons", f"{spec.tool.icon}.svg"))))
            action.setIconText(spec.tool.text)
            toolbar.addAction(action)
        needs_case = When.CASE | When.WRITABLE
        self.case_actions = [
            self.action_of[spec.id]
            for spec in ACTIONS
            if spec.place is not None and (spec.when & needs_case) != When.ALWAYS
        ]

    def _wire(self) -> None:
        self.triage.bind_hide_known(self.action_of["triage.hide_known"])
        self.start_page.new_button.clicked.connect(self.action_of["case.new"].trigger)
        self.start_page.open_button.clicked.connect(self.action_of["case.open"].trigger)
        self.start_page.recent.itemActivated.connect(self._open_recent)
        self.banner_import.clicked.connect(partial(models.import_model_file, self))
        self.banner_download.clicked.connect(partial(models.download_model, self))
        self.cancel_button.clicked.connect(self.action_of["job.cancel"].trigger)
        self.search.textChanged.connect(self._filters_changed)
        for combo in self.filter_combos:
            combo.currentIndexChanged.connect(self._filters_changed)
        self.list_button.toggled.connect(self._switch_view)
        self.item_panel.review_state_chosen.connect(partial(review.set_review_state, self))
        self.item_panel.tags_edited.connect(partial(review.set_tags, self))
        self.item_panel.notes_edited.connect(partial(review.set_notes, self))
        selection = self.table.selectionModel()
        selection.currentChanged.connect(self._current_changed)
        selection.selectionChanged.connect(self._selection_changed)
        for signal in (
            self.proxy.rowsInserted,
            self.proxy.rowsRemoved,
            self.proxy.modelReset,
            self.proxy.layoutChanged,
        ):
            signal.connect(self._update_count)
        self.model.dataChanged.connect(self._update_count)  # a pinned row that left the filter
        self.model.rowsInserted.connect(self._rows_added)

    # == what the app and the tests drive =================================================

    def action(self, action_id: str) -> QAction:
        return self.action_of[action_id]

    def open_case(self, path: str) -> bool:
        return case_actions.open_case(self, path)

    def close_case(self) -> bool:
        return case_actions.close_case(self)

    def import_paths(self, paths: list[str]) -> bool:
        return evidence.import_paths(self, paths)

    def shutdown(self) -> None:
        """Stop the background work without asking: the running job (cancelled, then
        waited for), the list's reader and the viewer's picture loads. Closing the window
        does this after asking about a running job; benchmarks and tests call it."""
        self.session.stop_job()
        self.model.shutdown()
        self.viewer.shutdown()

    def release_case(self) -> None:
        """Stop reading the case (it is about to close)."""
        self.model.set_case(None)
        self.viewer.shutdown()

    def _run(self, spec: Action, _checked: bool = False) -> None:
        spec.run(self)

    def show_examiner(self) -> None:
        name = self.session.examiner
        self.examiner_label.setText(f"Examiner: {name}" if name else "")

    def filter_active(self) -> bool:
        return self.proxy.matching() < self.model.rowCount()

    def filtered_ids(self) -> list[int]:
        """The items the list shows now, in its order (what matches the filters)."""
        ids = [self.proxy.index(row, 0).data(ItemIdRole) for row in range(self.proxy.rowCount())]
        if self.proxy.pinned is not None and self.proxy.matching() < self.proxy.rowCount():
            ids.remove(self.proxy.pinned)  # shown while it is the current item only
        return ids

    def focus_evidence(self, *_args: Any) -> None:
        """Keys work at once after a dialog: the list (or gallery) takes the focus back."""
        view = self.views.currentWidget()
        if self.pages.currentWidget() is self.workspace and view is not None:
            view.setFocus(Qt.FocusReason.OtherFocusReason)

    def context_menu(self) -> QMenu:
        """The right-click menu of the list and the gallery, from the declared actions."""
        menu = QMenu(self)
        for number, group in enumerate(context_groups(ACTIONS)):
            if number:
                menu.addSeparator()
            submenus: dict[str, QMenu] = {}
            for spec in group:
                assert spec.context is not None
                target = menu
                if spec.context.submenu:
                    if spec.context.submenu not in submenus:
                        submenus[spec.context.submenu] = menu.addMenu(spec.context.submenu)
                    target = submenus[spec.context.submenu]
                target.addAction(self.action_of[spec.id])
        return menu

    def _show_context_menu(self, view: QAbstractItemView, position: QPoint) -> None:
        index = view.indexAt(position)
        if not index.isValid():
            return
        selection = self.table.selectionModel()
        if not selection.isRowSelected(index.row(), QModelIndex()):  # the row clicked on
            selection.setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
        menu = self.context_menu()
        menu.exec(view.viewport().mapToGlobal(position))
        menu.deleteLater()

    def childEvent(self, event: QChildEvent) -> None:
        super().childEvent(event)
        if event.type() == QEvent.Type.ChildPolished:
            child = event.child()
            if isinstance(child, QDialog) and not child.property("returns-focus"):
                child.setProperty("returns-focus", True)
                child.finished.connect(self.focus_evidence)

    # == the session says =================================================================

    def _changed(self, changes: Changes) -> None:
        if changes.closing:
            self.release_case()
        if changes.case:
            self._case_changed()
        elif changes.touched_items:
            self.model.apply(changes)
        if changes.case or changes.integrity:
            self.model.set_integrity(self.session.integrity)
            self.item_panel.set_integrity(self._integrity_text(self.session.current_item))
        if changes.job and self.session.job is None:
            self.model.settle()  # a job's last rows are shown when it ends
        if changes.models or changes.case:
            self._update_banner()
        current = self.session.current_item
        if current is not None and not changes.case:
            if current in changes.results:
                self._show_item(current)  # a new score and heatmap: the picture too
            elif current in changes.items:
                self._refresh_panel()
        self.triage.changed(changes)
        self._update_actions()

    def _job_event(self, event: JobEvent) -> None:
        job = event.job
        if event.kind == JobEventKind.STARTED:
            self.progress.setRange(0, 0)
            self.progress.setVisible(True)
            self.cancel_button.setVisible(True)
            self.cancel_button.setEnabled(True)
            self.job_label.setText(job_text(job, f"{job.name}..."))
        elif event.kind == JobEventKind.PROGRESS and event.progress is not None:
            if event.progress.total:
                self.progress.setRange(0, event.progress.total)
                self.progress.setValue(event.progress.done)
            self.job_label.setText(progress_text(job.name, event.progress, job.note))
        elif event.kind == JobEventKind.MESSAGE:
            self.job_label.setText(job_text(job, event.text))
        elif event.kind == JobEventKind.SUCCEEDED:
            done = JOB_DONE.get(job.kind)
            if done is not None:
                done(self, event.result)
        elif event.kind == JobEventKind.CANCELLED:  # asked for: said, not an error box
            self.job_label.setText(event.text[:1].upper() + event.text[1:] + ".")
        elif event.kind == JobEventKind.FAILED:
            self.job_label.setText(f"{job.name} failed.")  # not left on what it was doing
            QMessageBox.warning(self, job.name, event.text)
        elif event.kind == JobEventKind.ENDED:
            self.progress.setVisible(False)
            self.cancel_button.setVisible(False)

    def _case_changed(self) -> None:
        case = self.session.case
        self.model.set_case(case)
        if case is None:
            self._show_start()
            return
        summary = case.summary()
        self.setWindowTitle(
            f"{summary.number} — {summary.title}"
            + (" (read-only)" if case.read_only else "")
            + " — OpenSight Desktop"
        )
        self.pages.setCurrentWidget(self.workspace)
        self.item_panel.set_editable(not case.read_only)
        self._show_item(None)  # nothing of the previous case stays shown
        self.proxy.unpin()
        self.search.clear()  # a search typed for another case
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

    def _show_start(self) -> None:
        self.pages.setCurrentWidget(self.start_page)
        self.start_page.set_recent(self.session.settings.recent_cases or [])
        self.setWindowTitle("OpenSight Desktop")

    def _update_banner(self) -> None:
        self.banner.setVisible(not self.session.models_installed)

    def _update_actions(self) -> None:
        holds = now(self.session)
        for spec in ACTIONS:
            self.action_of[spec.id].setEnabled(spec.enabled(holds))
        undo = self.session.undo_text
        self.action_of["edit.undo"].setText(f"&Undo {undo}" if undo else "&Undo review change")

    # == selection and the item shown =====================================================

    def selected_ids(self) -> list[int]:
        return [index.data(ItemIdRole) for index in self.table.selectionModel().selectedRows()]

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.item_panel.commit_notes()  # leaving the item saves its notes
        item_id = current.data(ItemIdRole) if current.isValid() else None
        self.proxy.unpin(keep=item_id)  # a reviewed item the filter hides goes once left
        self.session.select(item_id, self.selected_ids())
        self._show_item(item_id)

    def _selection_changed(self, *_args: Any) -> None:
        selected = self.selected_ids()
        if not selected and self.session.current_item is not None:  # deselected: none shown
            self.item_panel.commit_notes()
            self.session.select(None, ())
            self._show_item(None)
            return
        current = self.table.currentIndex()
        item_id = current.data(ItemIdRole) if current.isValid() else None
        if selected and self.session.current_item is None and item_id is not None:
            self.session.select(item_id, selected)  # selected again after deselecting
            self._show_item(item_id)
            return
        self.session.select(self.session.current_item, selected)

    def _show_item(self, item_id: int | None) -> None:
        item, heatmap = (None, None)
        if item_id is not None and self.session.case is not None:
            item, heatmap = self.session.item(item_id)
        self.item_panel.show_item(item, self.session.settings.bands())
        self.item_panel.set_integrity(self._integrity_text(item_id))
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
            item.id,
            item.sha256,
            [location.path_raw for location in item.locations],
            heatmap.grid if heatmap else None,
            dict(heatmap.geometry) if heatmap and heatmap.geometry else None,
            item.metadata.orientation,
        )

    def _refresh_panel(self) -> None:
        current = self.session.current_item
        if current is None or self.session.case is None:
            return
        item, _heatmap = self.session.item(current)
        if item is not None:
            self.item_panel.show_item(item, self.session.settings.bands())

    def _integrity_text(self, item_id: int | None) -> str | None:
        problem = self.session.integrity.get(item_id) if item_id is not None else None
        if problem is None:
            return None
        return f"{PROBLEM_TEXT.get(problem, problem)}: found by the newest integrity check."

    def _rows_added(self, *_args: Any) -> None:
        if self.session.current_item is None and self.proxy.rowCount():
            self.table.selectRow(0)

    def _open_recent(self, item: QListWidgetItem) -> None:
        self.open_case(item.data(Qt.ItemDataRole.UserRole))

    # == filters and views ================================================================

    def _filters_changed(self) -> None:
        self.proxy.set_filters(
            text=self.search.text(),
            verdict=self.verdict_filter.currentData(),
            flag=self.flag_filter.currentData(),
            status=self.status_filter.currentData(),
            review=self.review_filter.currentData(),
            pinned=None,
        )
        self._update_count()

    def _update_count(self, *_args: Any) -> None:
        self.count_label.setText(f"{self.proxy.matching()} of {self.model.rowCount()} items")

    def _switch_view(self, list_on: bool) -> None:
        self.views.setCurrentWidget(self.table if list_on else self.gallery)

    # == window events ====================================================================

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            return
        event.acceptProposedAction()
        if self.session.case is None or (len(paths) == 1 and paths[0].endswith(".osc")):
            self.open_case(paths[0])
        else:
            self.import_paths(paths)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not case_actions.confirm_stop_job(self, "quit"):
            event.ignore()
            return
        self.close_case()
        self.shutdown()
        event.accept()
