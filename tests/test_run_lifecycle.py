"""One lifecycle for the runs a case records (pipeline.runs), and the words a case stores
for states, statuses and verdicts (case.states, detector.verdict)."""

from __future__ import annotations

import json
import logging
import sqlite3

import pytest
from sqlalchemy import select

from opensight_desktop.case import audit
from opensight_desktop.case.models import AuditEntry, ImportSession
from opensight_desktop.case.states import (
    REVIEW_STATES,
    ErrorStage,
    ItemStatus,
    ReviewState,
    RunState,
)
from opensight_desktop.detector.verdict import Bands, Verdict
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.pipeline.runs import IMPORT, RecordedRun, RunSummary
from tests import imagegen


def test_the_stored_words_stay_the_case_formats_and_the_contracts():
    assert [s.value for s in RunState] == [
        "running",
        "completed",
        "cancelled",
        "interrupted",
        "failed",
    ]
    assert [s.value for s in ItemStatus] == ["imported", "analyzed", "error"]
    assert [s.value for s in ErrorStage] == ["import", "analysis"]
    assert [s.value for s in ReviewState] == [
        "not_reviewed",
        "consistent_with_camera",
        "inconclusive",
        "likely_generated",
        "follow_up",
    ]
    assert list(REVIEW_STATES) == list(ReviewState)
    assert [v.value for v in Verdict] == ["likely-generated", "inconclusive", "likely-real"]
    verdict = Bands().verdict(0.9)
    assert verdict is Verdict.LIKELY_GENERATED
    assert (json.dumps(verdict), f"{verdict}") == ('"likely-generated"', "likely-generated")


def test_a_case_stores_and_logs_the_plain_words(case, case_path, tmp_path):
    folder = tmp_path / "ev"
    folder.mkdir()
    imagegen.save(folder / "a.png", "PNG", size=(40, 30))
    (folder / "b.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    assert ImportJob(case, [str(folder)]).run().state == "completed"
    conn = sqlite3.connect(case_path)
    try:
        items = conn.execute(
            "SELECT status, typeof(status), error_stage, review_state FROM evidence_item "
            "ORDER BY id"
        ).fetchall()
        session = conn.execute("SELECT state FROM import_session").fetchall()
        logged = conn.execute(
            "SELECT action, details FROM audit_entry WHERE action LIKE 'i%' ORDER BY seq"
        ).fetchall()
    finally:
        conn.close()
    assert items == [
        ("imported", "text", None, "not_reviewed"),
        ("error", "text", "import", "not_reviewed"),
    ]
    assert session == [("completed",)]
    actions = [action for action, _ in logged]
    assert actions == ["import.started", "item.added", "item.added", "import.completed"]
    added = json.loads(logged[2][1])
    assert (added["status"], added["error_stage"]) == ("error", "import")


def _start(case) -> RecordedRun:
    run = RecordedRun(case, IMPORT, None, None, 0.1)
    with case.write() as session:
        record = ImportSession(sources=["x"], recursive=True)
        run.start(session, record, {"sources": ["x"], "recursive": True})
    return run


def _entries(case) -> list[tuple[str, dict]]:
    """(action, details) of each entry, without the examiner every entry names."""
    with case.read() as session:
        rows = session.execute(
            select(AuditEntry.action, AuditEntry.details).order_by(AuditEntry.seq)
        )
        return [
            (action, {k: v for k, v in json.loads(details).items() if k != "acting_examiner"})
            for action, details in rows
        ]


def _states(case) -> list[str]:
    with case.read() as session:
        return list(session.scalars(select(ImportSession.state).order_by(ImportSession.id)))


def test_a_run_left_running_is_marked_interrupted_by_the_next_start(case):
    first = _start(case)  # its process dies: it never finishes
    second = _start(case)
    assert _states(case) == ["interrupted", "running"]
    assert _entries(case)[-3:] == [
        ("import.started", {"session": first.id, "sources": ["x"], "recursive": True}),
        ("import.marked_interrupted", {"sessions": [first.id]}),
        ("import.started", {"session": second.id, "sources": ["x"], "recursive": True}),
    ]


@pytest.mark.parametrize(
    ("error", "state"), [(KeyboardInterrupt(), "cancelled"), (RuntimeError("a bug"), "failed")]
)
def test_a_run_stopped_by_an_exception_ends_cancelled_or_failed(case, error, state):
    run = _start(case)
    summary = RunSummary()

    def finish(end: RunState) -> None:
        run.finish(summary, end, {"imported": 3}, {"imported": 3})

    with pytest.raises(type(error)), run.ending_on_error(finish):
        raise error
    assert summary.state == state and summary.elapsed_s > 0
    with case.read() as session:
        record = session.get(ImportSession, run.id)
        assert (record.state, record.imported) == (state, 3)
        assert record.finished_utc is not None
    assert _entries(case)[-1] == (f"import.{state}", {"session": run.id, "imported": 3})


def test_a_run_that_ends_is_completed_or_cancelled(case):
    run = _start(case)
    assert run.end_state() is RunState.COMPLETED
    assert run.end_state(failed=True) is RunState.FAILED
    run.cancel.cancel()
    assert run.end_state() is RunState.CANCELLED


def test_an_import_that_fails_and_cannot_record_it_logs_why(case, tmp_path, monkeypatch, caplog):
    """The original error is the one raised; the failure to record the end is a second
    bug, logged with its traceback (it used to be dropped without a word)."""
    folder = tmp_path / "ev"
    folder.mkdir()
    imagegen.save(folder / "a.png", "PNG", size=(40, 30))

    def broken_append(*_args, **_kwargs):
        raise RuntimeError("the log cannot be written")

    def failing_flush(self):
        monkeypatch.setattr(audit, "append", broken_append)
        raise ValueError("the original failure")

    monkeypatch.setattr(ImportJob, "_flush", failing_flush)
    with caplog.at_level(logging.ERROR), pytest.raises(ValueError, match="original failure"):
        ImportJob(case, [str(folder)], workers=1).run()
    assert "the log cannot be written" in caplog.text
    assert "Traceback" in caplog.text
    monkeypatch.undo()
    assert _states(case) == ["running"]  # what the next start marks interrupted
