"""Engine jobs on a QThread, reported to the GUI thread through queued signals.

The job function runs in the thread; it receives a progress callback (which emits a
signal) and a cancel token. Receivers are bound methods of GUI-thread objects: a lambda
connected to a worker's signal would run in the worker thread (PySide6 6.x).

A job ends in one of three ways: ``succeeded``, ``cancelled`` (it raised Cancelled: not an
error) or ``failed``. An unexpected exception is a bug: logged with its traceback, and the
message says where the log is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal

from opensight_desktop.errors import Cancelled, OpenSightError
from opensight_desktop.logs import log_file
from opensight_desktop.progress import CancelToken, Progress

log = logging.getLogger(__name__)

JobFunction = Callable[[Callable[[Progress], None], CancelToken, Callable[[str], None]], object]


class JobThread(QThread):
    progress = Signal(object)  # Progress
    message = Signal(str)  # one-line status ("loading the model on CPU ...")
    succeeded = Signal(object)  # the function's result
    cancelled = Signal(str)  # what the cancellation left ("report cancelled; ...")
    failed = Signal(str)  # a message for the user

    def __init__(self, name: str, function: JobFunction, parent: QObject | None = None) -> None:
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
        except Cancelled as exc:
            self.cancelled.emit(str(exc))
        except OpenSightError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:
            log.exception("job %s failed", self.name)
            where = log_file()
            self.failed.emit(
                f"{self.name} stopped with an internal error ({type(exc).__name__}: {exc}). "
                + (f"Details are in {where}." if where else "Details went to the error output.")
            )
        else:
            self.succeeded.emit(result)
