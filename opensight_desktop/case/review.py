"""The examiner's review of items: state, tags, notes. Every change is audit-logged."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from opensight_desktop.case import audit
from opensight_desktop.case.models import EvidenceItem, ItemTag
from opensight_desktop.case.states import ReviewState
from opensight_desktop.case.store import Case
from opensight_desktop.case.views import REVIEW_STATE_ACTION
from opensight_desktop.errors import UsageError

NOTES_LIMIT = 100_000
TAG_LIMIT = 100


def set_review_state(case: Case, item_ids: list[int], state: str) -> int:
    """Returns how many items changed."""
    try:
        state = ReviewState(state)
    except ValueError:
        raise UsageError(
            f"unknown review state {state!r}; one of {', '.join(ReviewState)}"
        ) from None
    changed = 0
    with case.write() as session:
        writer = audit.ChainWriter(session)
        for item in session.scalars(select(EvidenceItem).where(EvidenceItem.id.in_(item_ids))):
            if item.review_state != state:
                writer.add(
                    REVIEW_STATE_ACTION, {"from": item.review_state, "to": state}, item_id=item.id
                )
                item.review_state = state
                changed += 1
        writer.write()
    return changed


def set_notes(case: Case, item_id: int, notes: str) -> bool:
    notes = notes.replace("\r\n", "\n")
    if len(notes) > NOTES_LIMIT:  # said at entry, never cut silently
        raise UsageError(
            f"notes are limited to {NOTES_LIMIT:,} characters (these have {len(notes):,}); "
            "shorten them, or keep long text in a file of the case folder"
        )
    with case.write() as session:
        item = _item(session, item_id)
        if item.notes == notes:
            return False
        audit.append(session, "item.notes", {"from": item.notes, "to": notes}, item_id=item_id)
        item.notes = notes
    return True


def normalise_tags(tags: list[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        tag = " ".join(tag.split())[:TAG_LIMIT]
        if tag and tag.lower() not in {t.lower() for t in cleaned}:
            cleaned.append(tag)
    return cleaned


def set_tags(case: Case, item_id: int, tags: list[str]) -> bool:
    wanted = normalise_tags(tags)
    with case.write() as session:
        item = _item(session, item_id)
        current = [t.tag for t in item.tags]
        if sorted(current) == sorted(wanted):
            return False
        audit.append(
            session,
            "item.tags",
            {
                "added": sorted(set(wanted) - set(current)),
                "removed": sorted(set(current) - set(wanted)),
            },
            item_id=item_id,
        )
        item.tags = [ItemTag(item_id=item_id, tag=tag) for tag in wanted]
    return True


def _item(session: Session, item_id: int) -> EvidenceItem:
    item = session.get(EvidenceItem, item_id)
    if item is None:
        raise UsageError(f"there is no item {item_id} in this case")
    return item
