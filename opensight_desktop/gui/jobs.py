"""Jobs on QThreads, reported to the GUI thread through queued signals.

:class:`JobThread` runs one :class:`~opensight_desktop.session.Job` (a session's job, or
the viewer's picture decoding) and re-emits what it says as signals. :class:`QtJobRunner`
is the case session's runner in the GUI: it hands those signals to the session on the GUI
thread. Receivers are bound methods of GUI-thread objects: a lambda connected to a
worker's signal would run in the worker thread (PySide6 6.x).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal

from opensight_desktop.session.jobs import Job, JobContext, JobEvents


class JobThread(QThread):
    progress = Signal(object)  # Progress
    message = Signal(str)  # one-line status ("loading the model on CPU ...")
    stored = Signal(object)  # Stored: the items a committed batch wrote
    ended = Signal(object)  # Outcome: the result, or a message for the user

    def __init__(self, job: Job, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName(job.name)
        self.job = job

    @property
    def name(self) -> str:
        return self.job.name

    def cancel(self) -> None:
        self.job.cancel()

    def run(self) -> None:
        context = JobContext(
            self.job.cancel_token, self.progress.emit, self.message.emit, self.stored.emit
        )
        self.ended.emit(self.job.execute(context))


class QtJobRunner(QObject):
    """The case session's jobs on QThreads; what they say reaches the session on the GUI
    thread (queued signals to this object's methods)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._events: dict[JobThread, JobEvents] = {}

    def start(self, job: Job, events: JobEvents) -> None:
        thread = JobThread(job, self)
        thread.progress.connect(self._progress)
        thread.message.connect(self._message)
        thread.stored.connect(self._stored)
        thread.ended.connect(self._ended)
        thread.finished.connect(self._finished)
        self._events[thread] = events
        thread.start()

    def wait(self, job: Job) -> None:
        for thread in list(self._events):
            if thread.job is job:
                thread.wait()
                # deliver its queued signals (they are posted to this object) now
                QCoreApplication.sendPostedEvents(self, 0)

    def _sender_events(self) -> JobEvents | None:
        thread = self.sender()
        return self._events.get(thread) if isinstance(thread, JobThread) else None

    def _progress(self, value: Any) -> None:
        if events := self._sender_events():
            events.progress(value)

    def _message(self, text: str) -> None:
        if events := self._sender_events():
            events.message(text)

    def _stored(self, value: Any) -> None:
        if events := self._sender_events():
            events.stored(value)

    def _ended(self, outcome: Any) -> None:
        if events := self._sender_events():
            events.ended(outcome)

    def _finished(self) -> None:
        thread = self.sender()
        if isinstance(thread, JobThread):
            self._events.pop(thread, None)
            thread.deleteLater()
