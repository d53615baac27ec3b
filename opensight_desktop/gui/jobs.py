"""Engine jobs on a QThread, reported to the GUI thread through queued signals.

The job function runs in the thread; it receives a progress callback (which emits a
signal) and a cancel token. Receivers are bound methods of GUI-thread objects: a lambda
connected to a worker's signal would run in the worker thread (PySide6 6.x).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QThread, Signal

from opensight_desktop.errors import OpenSightError
from opensight_desktop.progress import CancelToken, Progress

log = logging.getLogger(__name__)

JobFunction = Callable[[Callable[[Progress], None], CancelToken, Callable[[str], None]], Any]


class JobThread(QThread):
    progress = Signal(object)  # Progress
    message = Signal(str)  # one-line status ("loading the model on CPU ...")
    succeeded = Signal(object)  # the function's result
    failed = Signal(str)  # a message for the user

    def __init__(self, name: str, function: JobFunction, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.name = name
        self._function = function
        self.cancel_token = CancelToken()

    def cancel(self) -> None:
        self.cancel_token.cancel()

    def run(self) -> None:
        try:
            result = self._function(self.progress.emit, self.cancel_token, self.message.emit)
        except OpenSightError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:
            log.exception("job %s failed", self.name)
            self.failed.emit(
                f"{self.name} failed unexpectedly ({type(exc).__name__}: {exc}). "
                "Details are in the log file."
            )
        else:
            self.succeeded.emit(result)
