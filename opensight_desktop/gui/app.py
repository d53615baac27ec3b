"""Starting the desktop application."""

from __future__ import annotations

import sys
import time

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

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
    reporter = ErrorReporter()
    reporter.install()
    window = MainWindow()
    window.show()
    if case_path:
        window.open_case(case_path)
    return app.exec()
