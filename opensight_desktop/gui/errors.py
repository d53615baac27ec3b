"""Unexpected exceptions, on any thread: logged with the traceback, shown in a dialog,
never a silent death. faulthandler writes hard crashes to the log folder too."""

from __future__ import annotations

import faulthandler
import logging
import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox

from opensight_desktop.logs import setup_logging
from opensight_desktop.paths import logs_dir

log = logging.getLogger(__name__)


class ErrorReporter(QObject):
    reported = Signal(str, str)  # summary, details

    def __init__(self) -> None:
        super().__init__()
        self.log_file = setup_logging()
        self.shown = 0
        self.reported.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self._crash_log = None
        try:
            logs_dir().mkdir(parents=True, exist_ok=True)
            self._crash_log = open(logs_dir() / "crash.log", "a", encoding="utf-8")  # noqa: SIM115
            faulthandler.enable(self._crash_log)
        except OSError:
            pass

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
