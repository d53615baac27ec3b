"""The case session's triage, without a window: hash-set jobs, stacks as review targets,
bulk review with undo, the current filter's ids."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from opensight_desktop.case import audit, review
from opensight_desktop.case.models import AuditEntry
from opensight_desktop.case.store import Case
from opensight_desktop.case.triage import Filter
from opensight_desktop.case.views import item_views
from opensight_desktop.hashsets.store import list_sets
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.session import CaseSession, JobEventKind, reads
from tests import imagegen


def _session_with_items(tmp_path) -> tuple[CaseSession, list[int]]:
    folder = tmp_path / "evidence"
    folder.mkdir()
    for seed in range(4):
        imagegen.save(folder / f"img{seed}.png", "PNG", seed=seed)
    path = tmp_path / "s.osc"
    with Case.create(path, number="S", title="Session", examiner="Examiner") as case:
        ImportJob(case, [str(folder)]).run()
    session = CaseSession()
    session.open(path)
    return session, reads.filter_ids(session.case, Filter())


def _bulk_entries(session: CaseSession) -> list[dict]:
    with session.case.read() as db:
        entries = db.scalars(select(AuditEntry).where(AuditEntry.action.in_(review.BULK_ACTIONS)))
        return [audit.details_of(entry) for entry in entries]


def test_a_collapsed_stack_is_reviewed_whole_in_one_entry_and_undone_in_one_step(tmp_path):
    session, ids = _session_with_items(tmp_path)
    session.set_stacks({ids[0]: ids[0], ids[2]: ids[0]})  # as reads.stacks would say
    session.select(ids[0], [ids[0]])
    assert session.stack_targets() == [ids[0], ids[2]]
    assert session.set_review_state("follow_up", session.stack_targets()).items == {
        ids[0],
        ids[2],
    }
    entries = _bulk_entries(session)
    assert len(entries) == 1 and entries[0]["items"] == [ids[0], ids[2]]
    session.expand_stack(ids[0], True)  # an open stack: its items one by one
    assert session.stack_targets() == [ids[0]]
    assert session.undo() is not None
    with session.case.read() as db:
        states = {v.id: v.review.state for v in item_views(db)}
    assert states[ids[0]] == states[ids[2]] == "not_reviewed"
    session.close()


def test_hash_set_jobs_import_match_and_remove(tmp_path):
    session, ids = _session_with_items(tmp_path)
    first = (tmp_path / "evidence" / "img0.png").read_bytes()
    listing = tmp_path / "alert.txt"
    listing.write_text(hashlib.md5(first).hexdigest() + "\n", encoding="utf-8")
    events = []
    session.watch_jobs(events.append)
    session.import_hashset(str(listing), "Watch", "alert", "list")
    session.wait_for_job()
    assert [info.name for info in list_sets()] == ["Watch"]
    assert JobEventKind.SUCCEEDED in [e.kind for e in events]
    session.match_hashsets()
    session.wait_for_job()
    assert reads.filter_ids(session.case, Filter(flags=["alert-hash-set"])) == [ids[0]]
    session.remove_hashset("Watch")
    assert list_sets() == []
    session.set_filtered([ids[2], ids[1]])
    assert session.filtered_ids == (ids[1], ids[2])
    session.close()
    assert session.filtered_ids is None and session.stacks == {}
