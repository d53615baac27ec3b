"""Jobs of a case session, and how a front end runs them.

A :class:`Job` is work for a worker thread (``work``), with a cancel token. A
:class:`JobRunner` runs it there and hands what the job says (progress, messages, the
items each committed batch stored, and its :class:`Outcome`) back on the thread that owns
the session, through :class:`JobEvents`. The GUI's runner delivers them with queued Qt
signals (``gui.jobs``); :class:`ThreadRunner` queues them until the owner collects them
(``deliver``), for tests and headless use.

Whatever the work raises becomes an outcome here, once for every runner: a user error
its message, anything else a bug, logged with its traceback.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from opensight_desktop.errors import Cancelled, OpenSightError
from opensight_desktop.logs import log_file
from opensight_desktop.progress import CancelToken, Progress, ProgressCallback, Stored

log = logging.getLogger(__name__)


class JobKind(StrEnum):
    IMPORT = "import"
    ANALYSIS = "analysis"
    TILE_SCAN = "tile-scan"
    VERIFY = "verify"
    REPORT = "report"
    EXPORT = "export"
    MODEL_IMPORT = "model-import"
    MODEL_DOWNLOAD = "model-download"
    HASHSET_IMPORT = "hashset-import"
    MATCH = "match"  # the case against the hash sets (and perceptual hashes filled in)
    REPORT_CHECK = "report-check"
    OTHER = "other"  # a front end's own background work (e.g. decoding a picture)


@dataclass(frozen=True)
class JobContext:
    """What the work gets on its thread: the cancel token, and where to say things."""

    cancel: CancelToken
    progress: ProgressCallback
    message: Callable[[str], None]  # one line for the status bar
    stored: Callable[[Stored], None]  # after each committed batch: the items it wrote


@dataclass(frozen=True)
class Outcome:
    """How a job ended: its result, or why it failed (a message for people)."""

    result: Any = None
    error: str | None = None
    cancelled: str | None = None  # what a cancellation left ("report cancelled; ...")

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(eq=False)
class Job:
    kind: JobKind
    name: str  # for people: "Import", "Analysis"
    work: Callable[[JobContext], Any]  # runs on the worker thread
    # On the owner thread, with the work's result: what front ends get, and what changed.
    finish: Callable[[Any], tuple[Any, Any]] | None = None
    cancel_token: CancelToken = field(default_factory=CancelToken)
    # What people should know while it runs, shown with its progress ("weights: ...").
    note: str = ""

    def cancel(self) -> None:
        self.cancel_token.cancel()

    @property
    def cancelled(self) -> bool:
        return self.cancel_token.cancelled

    def execute(self, context: JobContext) -> Outcome:
        """Run the work (on the worker thread); never raises an ``Exception``."""
        try:
            return Outcome(result=self.work(context))
        except Cancelled as exc:  # asked for: not an error
            return Outcome(cancelled=str(exc))
        except OpenSightError as exc:
            return Outcome(error=str(exc))
        except Exception as exc:
            return Outcome(error=self.bug(exc))

    def bug(self, exc: Exception) -> str:
        """Log an unexpected exception of this job with its traceback; the message for
        people. Call it from the ``except`` block."""
        log.exception("job %s failed", self.name)
        where = log_file()
        return f"{self.name} stopped with an internal error ({type(exc).__name__}: {exc}). " + (
            f"Details are in {where}." if where else "Details went to the error output."
        )


@dataclass(frozen=True)
class JobEvents:
    """The owner's side of a running job; a runner calls these on the owner's thread."""

    progress: Callable[[Progress], None]
    message: Callable[[str], None]
    stored: Callable[[Stored], None]
    ended: Callable[[Outcome], None]  # last, once


class JobRunner(Protocol):
    def start(self, job: Job, events: JobEvents) -> None:
        """Run ``job`` on a worker thread; deliver its events on the owner's thread."""

    def wait(self, job: Job) -> None:
        """Block until the job's thread has ended and every event of it was delivered."""


class JobEventKind(StrEnum):
    STARTED = "started"
    PROGRESS = "progress"
    MESSAGE = "message"
    SUCCEEDED = "succeeded"
    CANCELLED = "cancelled"  # the work stopped on request and left nothing (a report)
    FAILED = "failed"
    ENDED = "ended"  # after SUCCEEDED, CANCELLED or FAILED: no job runs any more


@dataclass(frozen=True)
class JobEvent:
    """What a session tells front ends about its job (status bar, result dialogs)."""

    kind: JobEventKind
    job: Job
    progress: Progress | None = None
    text: str = ""  # the message, or why the job failed
    result: Any = None  # what the job's finish made of its result (SUCCEEDED)


class ThreadRunner:
    """Jobs on plain threads. Their events wait in a queue until the owner's thread
    collects them with :meth:`deliver` (or :meth:`wait`): nothing runs on the owner's
    behalf anywhere else."""

    def __init__(self) -> None:
        self._events: queue.SimpleQueue[tuple[Callable[..., None], Any]] = queue.SimpleQueue()
        self._threads: dict[int, threading.Thread] = {}

    def start(self, job: Job, events: JobEvents) -> None:
        post = self._events.put
        context = JobContext(
            job.cancel_token,
            progress=lambda value: post((events.progress, value)),
            message=lambda text: post((events.message, text)),
            stored=lambda stored: post((events.stored, stored)),
        )

        def run() -> None:
            post((events.ended, job.execute(context)))

        thread = threading.Thread(target=run, name=f"job {job.kind}", daemon=True)
        self._threads[id(job)] = thread
        thread.start()

    def deliver(self, timeout: float = 0.0) -> int:
        """Call the waiting events here; wait up to ``timeout`` seconds for the first.
        Returns how many were delivered."""
        delivered = 0
        try:
            callback, value = (
                self._events.get(timeout=timeout) if timeout else self._events.get_nowait()
            )
            while True:
                callback(value)
                delivered += 1
                callback, value = self._events.get_nowait()
        except queue.Empty:
            return delivered

    def wait(self, job: Job) -> None:
        thread = self._threads.pop(id(job), None)
        if thread is not None:
            thread.join()
        self.deliver()
