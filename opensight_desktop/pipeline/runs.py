"""What every job shares from its start to its end.

Every job (import, analysis, tile scan) has a cancel token and throttled progress
(:class:`JobControl`). The runs a case records, import sessions and analysis runs, also
have a row and audit entries (:class:`RecordedRun`): the row is added "running" with a
``<kind>.started`` entry, and at the end it gets its final state and counts with a
``<kind>.<state>`` entry. A row still "running" when the next run of its kind starts
belongs to a process that died: that start marks it "interrupted" and logs
``<kind>.marked_interrupted``. ``case.replay`` and ``verify`` read these entries: their
actions and keys are part of the case format.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from opensight_desktop.case import audit
from opensight_desktop.case.models import AnalysisRun, ImportSession
from opensight_desktop.case.states import RunState
from opensight_desktop.case.store import Case
from opensight_desktop.progress import CancelToken, Progress, ProgressCallback, Throttle
from opensight_desktop.timeutil import utc_now

log = logging.getLogger(__name__)

ERROR_EXAMPLES = 50  # errors a summary keeps to show; the case holds them all

Record = TypeVar("Record", ImportSession, AnalysisRun)  # the row of a run


class JobControl:
    """A job's cancel token and its progress callback, called at most every ``interval``
    seconds (and always when forced)."""

    def __init__(
        self,
        job: str,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
        interval: float = 0.1,
    ) -> None:
        self.job = job  # Progress.job
        self.cancel = cancel or CancelToken()
        self._throttle = Throttle(progress, interval)

    @property
    def cancelled(self) -> bool:
        return self.cancel.cancelled

    def elapsed(self) -> float:
        """Seconds since the job was made."""
        return self._throttle.elapsed()

    def report(
        self,
        done: int,
        total: int | None,
        *,
        message: str = "",
        counts: Callable[[], dict[str, int]] | None = None,
        force: bool = False,
    ) -> None:
        def make(elapsed: float) -> Progress:
            return Progress(
                self.job, done, total, elapsed, message=message, counts=counts() if counts else {}
            )

        self._throttle(make, force=force)


@dataclass(frozen=True)
class RunKind(Generic[Record]):
    """Where a kind of run is recorded, and the words of its audit entries."""

    table: type[Record]
    action: str  # prefix of the entries' actions
    id_key: str  # the run's id in its entries
    stale_key: str  # the ids in its marked_interrupted entry
    job: str  # Progress.job


IMPORT: RunKind[ImportSession] = RunKind(ImportSession, "import", "session", "sessions", "import")
ANALYSIS: RunKind[AnalysisRun] = RunKind(AnalysisRun, "analysis", "run", "runs", "analyze")


@dataclass(kw_only=True)
class RunSummary:
    """What both kinds of run report at their end; each adds its counts."""

    state: RunState = RunState.RUNNING
    elapsed_s: float = 0.0


class RecordedRun(JobControl, Generic[Record]):
    """The case's record of one run, from its start to its final state."""

    def __init__(
        self,
        case: Case,
        kind: RunKind[Record],
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
        interval: float,
    ) -> None:
        super().__init__(kind.job, progress, cancel, interval)
        self.case = case
        self.kind: RunKind[Record] = kind
        self.id = 0

    def start(self, session: Session, record: Record, details: dict[str, Any]) -> int:
        """Add the run's row in the caller's write transaction and log its start, after
        marking the runs of this kind still "running" as interrupted. Returns its id."""
        kind = self.kind
        stale = session.scalars(
            select(kind.table).where(kind.table.state == RunState.RUNNING).order_by(kind.table.id)
        ).all()
        for row in stale:
            row.state = RunState.INTERRUPTED
        if stale:
            audit.append(
                session,
                f"{kind.action}.marked_interrupted",
                {kind.stale_key: [r.id for r in stale]},
            )
        record.started_utc = utc_now()
        record.state = RunState.RUNNING
        record.user = audit.current_user()
        record.host = audit.current_host()
        session.add(record)
        session.flush()
        self.id = record.id
        audit.append(session, f"{kind.action}.started", {kind.id_key: record.id, **details})
        return record.id

    def end_state(self, failed: bool = False) -> RunState:
        """The state of a run that came to its end: failed, else cancelled or completed."""
        if failed:
            return RunState.FAILED
        return RunState.CANCELLED if self.cancelled else RunState.COMPLETED

    def finish(
        self,
        summary: RunSummary,
        state: RunState,
        columns: dict[str, Any],
        details: dict[str, Any],
    ) -> None:
        """Record the final state with ``columns`` (counts) and log ``<kind>.<state>``."""
        summary.state = state
        summary.elapsed_s = self.elapsed()
        with self.case.write() as session:
            record = session.get(self.kind.table, self.id)
            assert record is not None
            for name, value in columns.items():
                setattr(record, name, value)
            record.state = state
            record.finished_utc = utc_now()
            audit.append(
                session, f"{self.kind.action}.{state}", {self.kind.id_key: self.id, **details}
            )

    @contextlib.contextmanager
    def ending_on_error(self, finish: Callable[[RunState], None]) -> Iterator[None]:
        """A run stopped by an exception ends as cancelled (Ctrl-C) or failed, through
        ``finish``; then the exception goes on. Should recording the end fail as well, the
        original exception is the one to report: that failure is logged."""
        try:
            yield
        except BaseException as exc:
            state = RunState.CANCELLED if isinstance(exc, KeyboardInterrupt) else RunState.FAILED
            try:
                finish(state)
            except Exception:
                log.exception(
                    "recording the end of %s %s as %s failed", self.kind.action, self.id, state
                )
            raise
