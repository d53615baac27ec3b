"""The open case as both front ends use it, without Qt: :class:`CaseSession` holds the case,
the selection, the running job and the loaded detector, and says what changed
(:class:`Changes`) to whoever subscribed."""

from opensight_desktop.session.case_session import CaseSession, JobRunning
from opensight_desktop.session.changes import Changes
from opensight_desktop.session.jobs import (
    Job,
    JobContext,
    JobEvent,
    JobEventKind,
    JobEvents,
    JobKind,
    JobRunner,
    Outcome,
    ThreadRunner,
)

__all__ = [
    "CaseSession",
    "Changes",
    "Job",
    "JobContext",
    "JobEvent",
    "JobEventKind",
    "JobEvents",
    "JobKind",
    "JobRunner",
    "JobRunning",
    "Outcome",
    "ThreadRunner",
]
