"""Bulk review with undo, and the triage filters."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select

from opensight_desktop.case import audit, review
from opensight_desktop.case.integrity import describe, verify_case
from opensight_desktop.case.models import AuditEntry
from opensight_desktop.case.similar import similar_groups, similar_to
from opensight_desktop.case.store import Case
from opensight_desktop.case.triage import NOT_ANALYSED, Filter, capture_histogram, filter_items
from opensight_desktop.case.views import item_views
from opensight_desktop.errors import UsageError
from opensight_desktop.pipeline.import_job import ImportJob
from tests import imagegen
from tests.seized import write_seized


@pytest.fixture
def five(case, tmp_path) -> Case:
    folder = tmp_path / "evidence"
    folder.mkdir()
    for seed in range(5):
        imagegen.save(folder / f"img{seed}.png", "PNG", seed=seed)
    ImportJob(case, [str(folder)]).run()
    return case


def _state(case: Case) -> dict[int, tuple]:
    with case.read() as session:
        return {
            item.id: (
                item.review.state,
                item.review.tags,
                item.review.notes,
                item.review.vics_category,
            )
            for item in item_views(session)
        }


def _bulk_entries(case: Case) -> list[dict]:
    with case.read() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(review.BULK_ACTIONS))
        ).all()
    return [{"action": e.action, "item_id": e.item_id, **audit.details_of(e)} for e in entries]


def test_a_bulk_action_is_one_entry_listing_its_items_and_replays(five):
    five_ids = [1, 2, 3, 4, 5]
    review.set_review_state(five, [2], "follow_up")
    action = review.bulk_review(five, five_ids, state="follow_up", add_tags=["Beach"], category=3)
    assert action is not None and action.items == (1, 2, 3, 4, 5)
    entries = _bulk_entries(five)
    assert len(entries) == 1 and entries[0]["item_id"] is None
    assert entries[0]["items"] == five_ids
    state_change = next(c for c in entries[0]["changes"] if c["field"] == "review_state")
    assert state_change["items"] == [1, 3, 4, 5]  # item 2 was follow-up already
    assert all(value == ("follow_up", ("Beach",), "", 3) for value in _state(five).values())
    report = verify_case(five, record=False)
    assert report.ok, describe(report)


def test_undo_restores_each_items_earlier_values_and_is_logged(five):
    review.set_tags(five, 1, ["beach"])
    review.set_notes(five, 2, "first")
    before = _state(five)
    stack = review.UndoStack()
    stack.push(
        review.bulk_review(
            five, [1, 2, 3], state="likely_generated", add_tags=["Beach", "x"], append_note="seen"
        )
    )
    after = _state(five)
    assert after[1][1] == ("beach", "x")  # "Beach" not added again in another case
    assert after[2][2] == "first\n\nseen" and after[3][2] == "seen"
    result = stack.undo(five)
    assert result is not None and result.undone == (1, 2, 3) and result.kept == ()
    assert _state(five) == before
    undo_entry = _bulk_entries(five)[-1]
    assert undo_entry["action"] == review.UNDO_ACTION and undo_entry["items"] == [1, 2, 3]
    assert verify_case(five, record=False).ok


def test_undo_leaves_items_changed_since_and_says_so(five):
    action = review.bulk_review(five, [1, 2], state="inconclusive")
    assert action is not None
    review.set_review_state(five, [2], "follow_up")
    result = review.undo(five, action)
    assert result.undone == (1,) and result.kept == (2,)
    assert _state(five)[1][0] == "not_reviewed" and _state(five)[2][0] == "follow_up"
    assert verify_case(five, record=False).ok


def test_bulk_review_refuses_bad_input(five):
    with pytest.raises(UsageError, match="unknown review state"):
        review.bulk_review(five, [1], state="guilty")
    with pytest.raises(UsageError, match="no item 99"):
        review.bulk_review(five, [1, 99], state="inconclusive")
    with pytest.raises(UsageError, match="category is a whole number"):
        review.bulk_review(five, [1], category=-1)
    assert review.bulk_review(five, [1], state="not_reviewed") is None  # nothing to change


def test_tampered_bulk_result_is_a_difference(five, case_path):
    review.bulk_review(five, [1, 2], category=2)
    five.close()
    conn = sqlite3.connect(case_path)
    conn.execute("UPDATE evidence_item SET vics_category = 1 WHERE id = 2")
    conn.commit()
    conn.close()
    with Case.open(case_path) as case:
        report = verify_case(case, record=False)
    assert [(d.subject, d.field, d.logged, d.actual) for d in report.differences] == [
        ("item 2", "vics_category", 2, 1)
    ]


@pytest.fixture
def triage_case(case, tmp_path) -> Case:
    folder = write_seized(tmp_path)  # 1, 2: camera photos; 3: a smaller copy of 1; 4, 5
    ImportJob(case, [str(folder)]).run()
    return case


def _names(case: Case, ids: list[int]) -> list[str]:
    with case.read() as session:
        return sorted(item.file_name or "" for item in item_views(session, ids))


def test_filters_combine(triage_case):
    case = triage_case
    review.bulk_review(case, [2], state="follow_up")
    with case.read() as session:
        groups = similar_groups(session)
        run = lambda **kw: _names(case, filter_items(session, Filter(**kw), groups))  # noqa: E731
        assert run(hide_known=True) == ["a.jpg", "a_small.png", "b.jpg", "other.png"]
        assert run(flags=["known-file"]) == ["icon.png"]
        assert run(hashsets=["OS files"]) == ["icon.png"]
        assert run(has_gps=True) == ["a.jpg", "b.jpg"]
        assert run(has_gps=False, hide_known=True) == ["a_small.png", "other.png"]
        assert run(review_states=["follow_up"]) == ["b.jpg"]
        assert run(verdicts=[NOT_ANALYSED], has_gps=True) == ["a.jpg", "b.jpg"]
        assert run(verdicts=["likely-generated"]) == []
        folder = next(iter(item_views(session, [1]))).path.rsplit("/", 2)[0]
        assert run(folder=folder + "/Downloads") == ["a_small.png", "icon.png", "other.png"]
        assert run(taken_from="2024-05-02", taken_to="2024-05-02") == ["a.jpg"]
        assert run(cameras=[]) == []
        stacked = run(representatives_only=True, hide_known=True)
        assert len(stacked) == 3 and "b.jpg" in stacked and "other.png" in stacked
        assert capture_histogram(session, "day") == [("2024-05-02", 1), ("2024-05-03", 1)]


def test_the_resized_copy_stacks_with_its_original_and_is_found_as_similar(triage_case):
    with triage_case.read() as session:
        groups = similar_groups(session)
        ids = {item.file_name: item.id for item in item_views(session)}
        assert groups == {
            ids["a.jpg"]: min(ids["a.jpg"], ids["a_small.png"]),
            ids["a_small.png"]: min(ids["a.jpg"], ids["a_small.png"]),
        }
        near = similar_to(session, ids["a.jpg"])
        assert [item for item, _ in near] == [ids["a_small.png"]]


def test_filter_query_stays_fast_on_many_items(tmp_path):
    """The filter is SQL over indexed columns; measured at scale by ``bench --suite
    triage``. Here: the query plan uses the indexes of migration 0004."""
    path = tmp_path / "c.osc"
    with Case.create(path, number="1", title="t", examiner="e"):
        pass
    conn = sqlite3.connect(path)
    plan = " ".join(
        row[3]
        for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT item_id FROM item_metadata "
            "WHERE datetime_original >= '2024' AND datetime_original < '2025'"
        )
    )
    conn.close()
    assert "ix_item_metadata_datetime_original" in plan


def test_bulk_review_of_a_stack_at_once(triage_case):
    """Category keys apply to a whole stack: the stack's members are one selection."""
    with triage_case.read() as session:
        groups = similar_groups(session)
    stack = sorted(item for item, group in groups.items() if group == min(groups.values()))
    action = review.bulk_review(triage_case, stack, category=1)
    assert action is not None and list(action.items) == stack
    assert verify_case(triage_case, record=False).ok


def test_notes_replaced_in_one_action_are_undone_and_replay(five):
    """The GUI's notes field goes through bulk review too (``notes``: the text as a whole)."""
    review.set_notes(five, 1, "first")
    stack = review.UndoStack()
    action = stack.push(review.bulk_review(five, [1], notes="second"))
    assert action is not None and action.description == "notes changed on 1 item"
    assert review.bulk_review(five, [1], notes="second") is None  # unchanged: no entry
    assert _state(five)[1][2] == "second" and verify_case(five, record=False).ok
    stack.undo(five)
    assert _state(five)[1][2] == "first" and verify_case(five, record=False).ok
    with pytest.raises(UsageError, match="limited to"):
        review.bulk_review(five, [1], notes="x" * (review.NOTES_LIMIT + 1))


def test_who_set_a_review_state_in_a_bulk_action_is_shown(five):
    """Before, only per-item entries named who set a state: GUI reviews showed nobody."""
    audit.set_acting_examiner("Insp. Kim")
    try:
        review.bulk_review(five, [1, 2], state="follow_up")
    finally:
        audit.set_acting_examiner(None)
    review.set_review_state(five, [2], "inconclusive")  # a newer per-item entry wins
    with five.read() as session:
        views = {item.id: item.review for item in item_views(session)}
    assert views[1].set_by is not None and views[1].set_by.examiner == "Insp. Kim"
    assert views[2].set_by is not None and views[2].set_by.examiner == "Zoë Ölander"
    assert views[3].set_by is None  # never set
    review.undo(five, review.bulk_review(five, [1], state="likely_generated"))
    with five.read() as session:
        back = {item.id: item.review for item in item_views(session)}
    assert back[1].state == "follow_up" and back[1].set_by is not None  # the undo set it
