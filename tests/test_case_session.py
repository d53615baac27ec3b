"""The case session without any front end: no Qt, jobs on plain threads whose events the
test collects (``ThreadRunner.deliver``) the way a front end's event loop would."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, select

from opensight_desktop.case import audit, queries
from opensight_desktop.case.models import AuditEntry, DetectionResult, EvidenceItem
from opensight_desktop.case.store import Case
from opensight_desktop.detector.store import ModelStore
from opensight_desktop.errors import CaseFileError, UsageError
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.session import (
    CaseSession,
    Changes,
    JobEvent,
    JobEventKind,
    JobKind,
    JobRunning,
    ThreadRunner,
    reads,
)
from tests import checkpoint_factory as cf
from tests import imagegen


@pytest.fixture(scope="module")
def hub_model(tmp_path_factory) -> Path:
    return cf.save_hub(cf.random_state(seed=5), tmp_path_factory.mktemp("session") / "hub")


class Recorder:
    """What a front end would see: every Changes and every job event."""

    def __init__(self, session: CaseSession) -> None:
        self.changes: list[Changes] = []
        self.events: list[JobEvent] = []
        session.subscribe(self.changes.append)
        session.watch_jobs(self.events.append)

    def added(self) -> set[int]:
        return set().union(*(c.items_added for c in self.changes))

    def changed(self) -> set[int]:
        return set().union(*(c.items for c in self.changes))

    def last(self, kind: JobEventKind) -> JobEvent:
        return [e for e in self.events if e.kind == kind][-1]


@pytest.fixture
def runner() -> ThreadRunner:
    return ThreadRunner()


@pytest.fixture
def session(runner):
    session = CaseSession(runner)
    yield session
    session.close()


def deliver_until(runner: ThreadRunner, condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        runner.deliver(timeout=0.05)


def images(folder: Path, count: int, size=(96, 72)) -> Path:
    folder.mkdir()
    for i in range(count):
        imagegen.save(folder / f"img{i:02d}.png", "PNG", size=size, seed=i)
    return folder


def new_case(tmp_path: Path, folder: Path | None = None) -> Path:
    path = tmp_path / "case.osc"
    with Case.create(path, number="S-1", title="Session", examiner="Examiner") as case:
        if folder is not None:
            ImportJob(case, [str(folder)]).run()
    return path


def item_ids(case: Case) -> list[int]:
    with case.read() as db:
        return list(db.scalars(select(EvidenceItem.id).order_by(EvidenceItem.id)))


def test_the_session_needs_neither_qt_nor_torch():
    code = (
        "import sys; import opensight_desktop.session; "
        "print([m for m in ('PySide6', 'torch', 'timm') if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_create_open_and_close_are_announced(session, tmp_path):
    seen = Recorder(session)
    path = tmp_path / "new.osc"
    case = session.create(path, number="S-2", title="Created", examiner="Examiner")
    assert session.case is case and session.writable and seen.changes[-1].case
    assert session.settings.recent_cases[0] == str(path)
    session.close()
    assert session.case is None and seen.changes[-1].case and not session.writable
    assert session.open(path).summary().number == "S-2"
    bogus = tmp_path / "notes.osc"
    bogus.write_text("not a case")
    with pytest.raises(CaseFileError, match="not an OpenSight case file"):
        session.open(bogus)
    assert session.case is None  # the case open before was closed first


def test_a_new_case_replaces_the_open_one_only_once_it_exists(session, tmp_path):
    first = new_case(tmp_path)
    session.open(first)
    with pytest.raises(CaseFileError, match="already exists"):
        session.create(first, number="X", title="X", examiner="X")
    assert session.case is not None and session.case.path == first  # still open
    session.create(tmp_path / "second.osc", number="S-3", title="Second", examiner="E")
    assert session.case.path.name == "second.osc"
    with Case.open(first) as reopened:  # the first one was closed: its lock is free
        assert reopened.summary().number == "S-1"


def test_an_import_announces_the_items_it_adds(session, runner, tmp_path):
    session.open(new_case(tmp_path))
    seen = Recorder(session)
    job = session.import_paths([str(images(tmp_path / "ev", 5))])
    assert session.job is job and job.kind == JobKind.IMPORT and seen.changes[-1].job
    session.wait_for_job()
    assert session.job is None and seen.changes[-1].job
    kinds = [e.kind for e in seen.events]
    assert kinds[0] == JobEventKind.STARTED and kinds[-2:] == ["succeeded", "ended"]
    assert seen.last(JobEventKind.SUCCEEDED).result.imported == 5
    assert seen.added() == set(item_ids(session.case))


def test_review_on_the_selection_reports_what_changed(session, tmp_path):
    session.open(new_case(tmp_path, images(tmp_path / "ev", 5)))
    ids = item_ids(session.case)
    seen = Recorder(session)
    assert session.select(ids[0], ids[:3]).selection
    changes = session.set_review_state("inconclusive")
    assert changes.items == frozenset(ids[:3]) and seen.changes[-1] == changes
    rows = reads.item_rows(session.case, ids)
    assert [r.review_state for r in rows] == ["inconclusive"] * 3 + ["not_reviewed"] * 2
    # tags typed for the item shown apply to the whole selection, like states
    assert session.set_tags(["seized phone"]).items == frozenset(ids[:3])
    assert not session.set_tags(["seized phone"])  # nothing changed, nothing announced
    assert session.set_notes("Compared with the camera's samples.").items == {ids[0]}
    assert len(seen.changes) == 4  # the selection, then three edits
    with session.case.read() as db:
        actions = list(db.scalars(select(AuditEntry.action)))
    # one path for every review change: one entry per action, however many items
    assert actions.count("items.review") == 3 and "item.review_state" not in actions
    assert len(session.undo_stack) == 3


def test_one_job_at_a_time_and_a_cancelled_analysis(session, runner, tmp_path, hub_model):
    store = ModelStore()
    store.set_active(store.import_path(hub_model)[0])  # random weights: active when chosen
    session.open(new_case(tmp_path, images(tmp_path / "ev", 40)))
    session.settings.batch_size = 2
    seen = Recorder(session)
    session.analyse()
    with pytest.raises(JobRunning, match="'Analysis' is running"):
        session.verify()
    deliver_until(runner, lambda: seen.changed())  # a first batch was stored
    assert session.cancel_job()
    session.wait_for_job()
    summary = seen.last(JobEventKind.SUCCEEDED).result
    assert summary.state == "cancelled" and 0 < summary.analyzed < 40
    with session.case.read() as db:
        analysed = set(db.scalars(select(DetectionResult.item_id)))
    assert seen.changed() == analysed  # every stored batch was announced, nothing else
    assert session.job is None and not session.cancel_job()


def test_the_detector_is_loaded_once_on_a_worker_and_kept(
    session, tmp_path, hub_model, monkeypatch
):
    store = ModelStore()
    store.set_active(store.import_path(hub_model)[0])  # random weights: active when chosen
    session.open(new_case(tmp_path, images(tmp_path / "ev", 3, size=(400, 390))))
    loads: list[str] = []
    original = ModelStore.load

    def counting_load(store, model, device="auto"):
        loads.append(threading.current_thread().name)
        return original(store, model, device)

    monkeypatch.setattr(ModelStore, "load", counting_load)
    seen = Recorder(session)
    session.analyse()
    session.wait_for_job()
    assert seen.last(JobEventKind.SUCCEEDED).result.analyzed == 3
    ids = item_ids(session.case)
    session.tile_scan(ids[0])
    session.wait_for_job()
    assert seen.last(JobEventKind.SUCCEEDED).result.complete
    session.analyse(ids)
    session.wait_for_job()
    assert loads == ["job analysis"] and session.detector_loaded
    session.settings.device = "cpu"  # another device: loaded again, for the next job
    session.apply_settings()
    assert not session.detector_loaded
    session.analyse(ids)
    session.wait_for_job()
    assert len(loads) == 2


def test_a_read_only_case_refuses_writes_through_the_session(session, tmp_path, hub_model):
    store = ModelStore()
    store.set_active(store.import_path(hub_model)[0])  # random weights: active when chosen
    path = new_case(tmp_path, images(tmp_path / "ev", 2))
    with Case.open(path) as case:
        entries = case.summary().audit_entries
    session.open(path, read_only=True)
    assert session.read_only and not session.writable
    ids = item_ids(session.case)
    session.select(ids[0], ids)
    for write in (
        lambda: session.set_review_state("follow_up"),
        lambda: session.set_tags(["x"]),
        lambda: session.set_notes("x"),
        lambda: session.import_paths([str(tmp_path / "ev")]),
        lambda: session.analyse(),
        lambda: session.tile_scan(),
    ):
        with pytest.raises(CaseFileError, match="the case is open read-only"):
            write()
    assert session.job is None
    session.close()
    with Case.open(path) as case:
        assert case.summary().audit_entries == entries


def test_a_failing_job_says_why_and_ends(session, tmp_path):
    session.open(new_case(tmp_path))
    seen = Recorder(session)
    session.import_paths([str(tmp_path / "nowhere")])
    session.wait_for_job()
    failed = seen.last(JobEventKind.FAILED)
    assert "no such file or folder" in failed.text and session.job is None
    assert seen.events[-1].kind == JobEventKind.ENDED


def test_nothing_to_do_without_a_case_or_a_selection(session):
    with pytest.raises(UsageError, match="no case is open"):
        session.verify()
    assert session.targets() == []


# -- the evidence list's reads ------------------------------------------------------------


def _statements(conn, cursor, statement, parameters, context, executemany, log):
    log.append((statement, parameters))


def test_rows_and_thumbnails_are_read_for_exactly_the_items_asked(case, tmp_path):
    ImportJob(case, [str(images(tmp_path / "ev", 12, size=(64, 48)))]).run()
    ids = item_ids(case)
    asked = [ids[2], ids[5]]
    log: list[tuple[str, tuple]] = []
    listener = lambda *args: _statements(*args, log)  # noqa: E731
    event.listen(Engine, "before_cursor_execute", listener)
    try:
        rows = reads.item_rows(case, asked)
        thumbs = reads.thumbnails(case, asked)
    finally:
        event.remove(Engine, "before_cursor_execute", listener)
    assert [row.id for row in rows] == asked and set(thumbs) == set(asked)
    # Every query, run again as it was sent, returns rows of the items asked for only.
    queries_sent = [(s, p) for s, p in log if s.lstrip().upper().startswith("SELECT")]
    assert len(queries_sent) >= 7
    with case.read() as db:
        raw = db.connection().connection.dbapi_connection
        for statement, parameters in queries_sent:
            found = {row[0] for row in raw.execute(statement, parameters)}
            assert found <= set(asked), statement


def test_rows_of_many_items_are_read_in_chunks(case, tmp_path):
    """SQLite before 3.32 allows 999 bound variables (builds may set any limit): a long
    selection is read in chunks, never in one ``IN (...)``."""
    ImportJob(case, [str(images(tmp_path / "ev", 3, size=(40, 30)))]).run()
    ids = item_ids(case)
    with case.read() as db:
        raw = db.connection().connection.dbapi_connection
        raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        wanted = ids + list(range(10_000, 12_000))
        assert [row.id for row in queries.item_rows(db, ids=wanted)] == ids
        assert set(queries.thumbnails(db, wanted)) == set(ids)


def test_undo_the_examiner_and_an_empty_filtered_report(session, tmp_path):
    session.open(new_case(tmp_path, images(tmp_path / "ev", 3)))
    ids = item_ids(session.case)
    assert session.undo() is None and session.undo_text is None  # nothing to take back
    session.set_examiner("  Insp.   Kim ")
    try:
        session.review(ids[:2], state="follow_up", add_tags=["phone"])
        assert session.undo_text == "review state Follow up; tags +phone on 2 items"
        result = session.undo()
    finally:
        session.set_examiner(None)
    assert result is not None and result.undone == tuple(ids[:2])
    rows = reads.item_rows(session.case, ids)
    assert [(r.review_state, r.tags) for r in rows] == [("not_reviewed", ())] * 3
    with session.case.read() as db:
        details = [
            audit.parse_details(text)
            for text in db.scalars(
                select(AuditEntry.details).where(AuditEntry.action.like("items.review%"))
            )
        ]
    assert [d[audit.EXAMINER_KEY] for d in details] == ["Insp. Kim", "Insp. Kim"]
    with pytest.raises(UsageError, match="shows no items"):
        session.report(str(tmp_path / "r.pdf"), "all", only=[])
