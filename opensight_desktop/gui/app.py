"""Starting the desktop application."""

from __future__ import annotations

import logging
import os
import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from opensight_desktop.gui.binding_check import binding_fault
from opensight_desktop.gui.errors import ErrorReporter
from opensight_desktop.gui.main_window import MainWindow
from opensight_desktop.resources import resource

STARTED = time.perf_counter()


def create_app() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("OpenSight Desktop")
    app.setOrganizationName("OpenSight")
    app.setWindowIcon(QIcon(str(resource("icons", "opensight.svg"))))
    return app


def run_gui(case_path: str | None = None) -> int:
    app = create_app()
    fault = binding_fault()
    if fault is not None:
        logging.getLogger("opensight_desktop.gui").error(fault)
        print(f"opensight-desktop: error: {fault}", file=sys.stderr)
        QMessageBox.critical(None, "OpenSight Desktop cannot start", fault)
        return 2
    reporter = ErrorReporter()
    reporter.install()
    window = MainWindow()
    window.show()
    reporter.show_previous_crash(window)
    if case_path:
        window.open_case(case_path)
    if os.environ.get(EXIT_AFTER_SHOWN_ENV):  # start-up checks of builds: show, report, quit
        QTimer.singleShot(0, _shown_and_quit)
    return app.exec()


# Set by the packaging smoke test (a built bundle, which no test can patch): quit once the
# window is shown.
EXIT_AFTER_SHOWN_ENV = "OPENSIGHT_EXIT_AFTER_SHOWN"


def _shown_and_quit() -> None:
    print(f"window shown {time.perf_counter() - STARTED:.2f} s after import", flush=True)
    QApplication.quit()
