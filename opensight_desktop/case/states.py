"""The words a case stores for states and statuses, one enum each.

The values are stored in case files, written to the audit log and exported (the JSON
contract): they never change. ``StrEnum`` members are ``str``, so they compare equal to
the plain strings read back from a case and serialise as those strings.

This module imports nothing, so that the GUI and the command line can use it without the
database layer.
"""

from __future__ import annotations

from enum import StrEnum


class RunState(StrEnum):
    """State of an import session or an analysis run."""

    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # found still running at the next start: its process died
    FAILED = "failed"


class ItemStatus(StrEnum):
    """Status of an evidence item."""

    IMPORTED = "imported"
    ANALYZED = "analyzed"
    ERROR = "error"


class ErrorStage(StrEnum):
    """Where an item's error happened: an analysis error is retried by the next run, an
    import error is not (there is nothing to decode)."""

    IMPORT = "import"
    ANALYSIS = "analysis"


class ReviewState(StrEnum):
    """The examiner's review of an item."""

    NOT_REVIEWED = "not_reviewed"
    CONSISTENT_WITH_CAMERA = "consistent_with_camera"
    INCONCLUSIVE = "inconclusive"
    LIKELY_GENERATED = "likely_generated"
    FOLLOW_UP = "follow_up"


# The review states' names for people, in the order the GUI offers them.
REVIEW_STATES: dict[str, str] = {
    ReviewState.NOT_REVIEWED: "Not reviewed",
    ReviewState.CONSISTENT_WITH_CAMERA: "Consistent with camera original",
    ReviewState.INCONCLUSIVE: "Inconclusive",
    ReviewState.LIKELY_GENERATED: "Likely generated",
    ReviewState.FOLLOW_UP: "Follow up",
}
