"""Unexpected exceptions, on any thread: logged with the traceback, shown in a dialog,
never a silent death. faulthandler writes hard crashes to the log folder's crash log,
which the next start shows once (``logs.take_crash_report``)."""

from __future__ import annotations

import faulthandler
import logging
import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from opensight_desktop.logs import CRASH_LOG_NAME, CrashReport, setup_logging, take_crash_report
from opensight_desktop.paths import logs_dir

log = logging.getLogger(__name__)


class ErrorReporter(QObject):
    reported = Signal(str, str)  # summary, details

    def __init__(self) -> None:
        super().__init__()
        self.log_file = setup_logging()
        self.shown = 0
        self.reported.connect(self._show, Qt.ConnectionType.QueuedConnection)
        # taken before this run opens the crash log for its own crash, if any
        self.previous_crash = take_crash_report()
        self._crash_log = None
        try:
            logs_dir().mkdir(parents=True, exist_ok=True)
            self._crash_log = open(logs_dir() / CRASH_LOG_NAME, "a", encoding="utf-8")  # noqa: SIM115
            faulthandler.enable(self._crash_log)
        except OSError:
            pass

    def show_previous_crash(self, parent: QWidget | None = None) -> QDialog | None:
        """Show the previous run's crash report, if it crashed (once: it was moved aside)."""
        if self.previous_crash is None:
            return None
        log.warning("the previous run crashed; its report is kept in %s", self.previous_crash.path)
        dialog = CrashReportDialog(self.previous_crash, parent)
        dialog.open()
        return dialog

    def install(self) -> None:
        sys.excepthook = self._excepthook
        threading.excepthook = self._thread_excepthook

    def _excepthook(
        self, kind: type[BaseException], value: BaseException, trace: TracebackType | None
    ) -> None:
        details = "".join(traceback.format_exception(kind, value, trace))
        log.error("unexpected error:\n%s", details)
        self.reported.emit(f"{kind.__name__}: {value}", details)

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        self._excepthook(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)

    @Slot(str, str)
    def _show(self, summary: str, details: str) -> None:
        self.shown += 1
        parent = QApplication.activeWindow()
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            "Unexpected error",
            "Something went wrong that the application did not expect:\n\n"
            f"{summary}\n\nYour case file is safe: every change is saved as it is "
            "made. The details were written to the log file"
            + (f":\n{self.log_file}" if self.log_file else "."),
            parent=parent,
        )
        box.setDetailedText(details)
        box.setObjectName("unexpected-error-dialog")
        box.open()


class CrashReportDialog(QDialog):
    """The previous run's crash report, with where it is kept and a button to copy it."""

    def __init__(self, report: CrashReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("crash-report-dialog")
        self.setWindowTitle("OpenSight Desktop stopped unexpectedly last time")
        self.resize(760, 480)
        self.report = report
        layout = QVBoxLayout(self)
        self.intro = QLabel(
            "The application ended abruptly the last time it ran (a crash in native code, "
            "or it was aborted). What was saved to a case before then is kept; work that "
            "was running then may be incomplete: run it again to continue. The crash "
            f"report is kept in:\n{report.path}"
            + ("\n(It is long: below is its beginning.)" if report.truncated else "")
        )
        self.intro.setWordWrap(True)
        self.intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.intro)
        self.text = QPlainTextEdit(report.text)
        self.text.setReadOnly(True)
        self.text.setFont(QFont("monospace"))
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def copy(self) -> None:
        """The report and where it is kept, to the clipboard (for a support request)."""
        QApplication.clipboard().setText(f"{self.report.path}\n\n{self.report.text}")
