"""The examiner's review of items: state, tags, notes. Every change is audit-logged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from opensight_desktop.case import audit
from opensight_desktop.case.models import CaseInfo, EvidenceItem, ItemTag
from opensight_desktop.case.review_changes import appended, tags_after, value_after
from opensight_desktop.case.states import REVIEW_STATES, ReviewState
from opensight_desktop.case.store import Case
from opensight_desktop.case.views import BULK_REVIEW_ACTIONS, REVIEW_STATE_ACTION
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


# -- bulk review: a selection at once, one audit entry per action, undo ---------------------

BULK_ACTIONS = BULK_REVIEW_ACTIONS  # views.py reads who set a review state from them too
BULK_ACTION, UNDO_ACTION = BULK_ACTIONS


@dataclass(frozen=True)
class ReviewAction:
    """A bulk action as done: its entry, the items it changed, and how to take it back."""

    seq: int  # the audit entry that recorded it
    description: str
    items: tuple[int, ...]
    # what the items hold after it (an undo takes back only items still so)
    after: dict[int, dict[str, Any]]
    inverse: list[dict[str, Any]]


class UndoStack:
    """The review actions of a session, newest last; ``undo`` takes back the newest."""

    def __init__(self, limit: int = 100) -> None:
        self._actions: list[ReviewAction] = []
        self._limit = limit

    def __len__(self) -> int:
        return len(self._actions)

    def push(self, action: ReviewAction | None) -> ReviewAction | None:
        if action is not None:
            self._actions.append(action)
            del self._actions[: -self._limit]
        return action

    def peek(self) -> ReviewAction | None:
        return self._actions[-1] if self._actions else None

    def undo(self, case: Case) -> UndoResult | None:
        if not self._actions:
            return None
        return undo(case, self._actions.pop())


@dataclass(frozen=True)
class UndoResult:
    undone: tuple[int, ...]  # items set back
    kept: tuple[int, ...]  # items changed again since: left as they are


def _current(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    values: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for item in session.scalars(select(EvidenceItem).where(EvidenceItem.id.in_(chunk))):
            values[item.id] = {
                "review_state": item.review_state,
                "vics_category": item.vics_category,
                "notes": item.notes,
                "tags": sorted(tag.tag for tag in item.tags),
            }
    return values


def _apply(
    session: Session, changes: list[dict[str, Any]], values: dict[int, dict[str, Any]]
) -> None:
    """Apply changes to the items (rows and ``values``, which are updated as they go)."""
    touched: set[int] = set()
    for change in changes:
        name = change["field"]
        for item_id in change["items"]:
            values[item_id][name] = value_after(name, values[item_id][name], change)
            touched.add(item_id)
    ordered = sorted(touched)
    for start in range(0, len(ordered), 500):
        ids = ordered[start : start + 500]
        for item in session.scalars(select(EvidenceItem).where(EvidenceItem.id.in_(ids))):
            value = values[item.id]
            item.review_state = value["review_state"]
            item.vics_category = value["vics_category"]
            item.notes = value["notes"]
            if sorted(tag.tag for tag in item.tags) != value["tags"]:
                item.tags = [ItemTag(item_id=item.id, tag=tag) for tag in value["tags"]]


def _grouped(name: str, before: dict[int, dict[str, Any]], ids: list[int]) -> list[dict[str, Any]]:
    """Changes that set ``name`` back to each item's earlier value (one per value)."""
    groups: dict[str, tuple[Any, list[int]]] = {}
    for item_id in ids:
        value = before[item_id][name]
        groups.setdefault(repr(value), (value, []))[1].append(item_id)
    return [{"field": name, "items": members, "to": value} for value, members in groups.values()]


def bulk_review(
    case: Case,
    item_ids: list[int],
    *,
    state: str | None = None,
    add_tags: list[str] | None = None,
    remove_tags: list[str] | None = None,
    append_note: str | None = None,
    notes: str | None = None,
    category: int | str | None = "keep",
    details: dict[str, Any] | None = None,
) -> ReviewAction | None:
    """One review action on a selection: review state, tags added or removed, a note
    appended or the notes replaced (``notes``: what the GUI's notes field holds), a VICS
    category (``None`` clears it; the default keeps it). One audit entry
    lists the items it changed; None when nothing changed. ``details`` are recorded with
    it (what the action came from, e.g. a VICS import)."""
    if state is not None:
        try:
            state = ReviewState(state).value
        except ValueError:
            raise UsageError(
                f"unknown review state {state!r}; one of {', '.join(ReviewState)}"
            ) from None
    if (
        category != "keep"
        and category is not None
        and (not isinstance(category, int) or isinstance(category, bool) or not 0 <= category <= 99)
    ):
        raise UsageError(f"a VICS category is a whole number from 0 to 99, not {category!r}")
    added = normalise_tags(add_tags or [])
    removed = [" ".join(tag.split()) for tag in remove_tags or [] if tag.strip()]
    note = (append_note or "").replace("\r\n", "\n").strip()
    whole = None if notes is None else notes.replace("\r\n", "\n")
    if whole is not None and len(whole) > NOTES_LIMIT:  # said at entry, never cut silently
        raise UsageError(
            f"notes are limited to {NOTES_LIMIT:,} characters (these have {len(whole):,}); "
            "shorten them, or keep long text in a file of the case folder"
        )
    wanted = sorted(set(item_ids))
    with case.write() as session:
        before = _current(session, wanted)
        missing = sorted(set(wanted) - before.keys())
        if missing:
            raise UsageError(f"there is no item {missing[0]} in this case")
        changes: list[dict[str, Any]] = []
        if state is not None:
            ids = [i for i in wanted if before[i]["review_state"] != state]
            if ids:
                changes.append({"field": "review_state", "items": ids, "to": state})
        if category != "keep":
            ids = [i for i in wanted if before[i]["vics_category"] != category]
            if ids:
                changes.append({"field": "vics_category", "items": ids, "to": category})
        if added or removed:
            tag_groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[int]] = {}
            for item_id in wanted:
                tags = before[item_id]["tags"]
                after = tags_after(tags, added, removed)
                key = (
                    tuple(sorted(set(after) - set(tags))),
                    tuple(sorted(set(tags) - set(after))),
                )
                if key != ((), ()):
                    tag_groups.setdefault(key, []).append(item_id)
            changes.extend(
                {"field": "tags", "items": ids, "added": list(plus), "removed": list(minus)}
                for (plus, minus), ids in tag_groups.items()
            )
        if note:
            too_long = [i for i in wanted if len(appended(before[i]["notes"], note)) > NOTES_LIMIT]
            if too_long:
                raise UsageError(
                    f"notes are limited to {NOTES_LIMIT:,} characters; item {too_long[0]}'s "
                    "would be longer with this note"
                )
            changes.append({"field": "notes", "items": wanted, "append": note})
        if whole is not None:
            ids = [i for i in wanted if before[i]["notes"] != whole]
            if ids:
                changes.append({"field": "notes", "items": ids, "to": whole})
        return _commit(session, changes, before, details)


def _commit(
    session: Session,
    changes: list[dict[str, Any]],
    before: dict[int, dict[str, Any]],
    details: dict[str, Any] | None,
) -> ReviewAction | None:
    """Apply the changes, log them as one entry, and return how to take them back."""
    if not changes:
        return None
    touched = sorted({i for change in changes for i in change["items"]})
    earlier = {i: dict(before[i]) for i in touched}
    inverse: list[dict[str, Any]] = []
    for change in changes:
        name = change["field"]
        if name == "tags":
            inverse.append({**change, "added": change["removed"], "removed": change["added"]})
        else:
            inverse.extend(_grouped(name, earlier, change["items"]))
    _apply(session, changes, before)
    writer = audit.ChainWriter(session)
    writer.add(BULK_ACTION, {**(details or {}), "changes": changes, "items": touched})
    writer.write()
    return ReviewAction(
        _head_seq(session),
        _describe(changes, len(touched)),
        tuple(touched),
        {i: before[i] for i in touched},
        inverse,
    )


def review_each(
    case: Case,
    wanted: dict[int, tuple[int | None, list[str]]],
    details: dict[str, Any] | None = None,
) -> ReviewAction | None:
    """Set a category and add tags item by item ({item id: (category or None to keep,
    tags to add)}), as one action and one audit entry (a VICS import)."""
    ids = sorted(wanted)
    with case.write() as session:
        before = _current(session, ids)
        categories: dict[int, list[int]] = {}
        tag_groups: dict[tuple[str, ...], list[int]] = {}
        for item_id in ids:
            if item_id not in before:
                continue
            category, tags = wanted[item_id]
            if category is not None and before[item_id]["vics_category"] != category:
                categories.setdefault(category, []).append(item_id)
            new = tuple(
                sorted(
                    set(tags_after(before[item_id]["tags"], tags, []))
                    - set(before[item_id]["tags"])
                )
            )
            if new:
                tag_groups.setdefault(new, []).append(item_id)
        changes: list[dict[str, Any]] = [
            {"field": "vics_category", "items": members, "to": category}
            for category, members in sorted(categories.items())
        ]
        changes.extend(
            {"field": "tags", "items": members, "added": list(tags), "removed": []}
            for tags, members in tag_groups.items()
        )
        return _commit(session, changes, before, details)


def undo(case: Case, action: ReviewAction) -> UndoResult:
    """Take an action back: each item it changed gets its earlier values, unless it was
    changed again since (then it is kept as it is, and named in the result)."""
    with case.write() as session:
        current = _current(session, list(action.items))
        undone = [i for i in action.items if current.get(i) == action.after[i]]
        kept = [i for i in action.items if i not in set(undone)]
        keep = set(undone)
        changes = []
        for change in action.inverse:
            ids = [i for i in change["items"] if i in keep]
            if ids:
                changes.append({**change, "items": ids})
        if changes:
            _apply(session, changes, current)
            writer = audit.ChainWriter(session)
            writer.add(
                UNDO_ACTION,
                {"undoes": action.seq, "changes": changes, "items": undone, "kept": kept},
            )
            writer.write()
    return UndoResult(tuple(undone), tuple(kept))


def _head_seq(session: Session) -> int:
    return int(session.scalar(select(CaseInfo.audit_head_seq).where(CaseInfo.id == 1)) or 0)


def _describe(changes: list[dict[str, Any]], count: int) -> str:
    parts = []
    for change in changes:
        name = change["field"]
        if name == "review_state":
            parts.append(f"review state {REVIEW_STATES.get(change['to'], change['to'])}")
        elif name == "vics_category":
            parts.append("no category" if change["to"] is None else f"category {change['to']}")
        elif name == "tags":
            if change["added"]:
                parts.append("tags +" + ", +".join(change["added"]))
            if change["removed"]:
                parts.append("tags -" + ", -".join(change["removed"]))
        elif "append" in change:
            parts.append("note appended")
        else:
            parts.append("notes changed")
    unique = list(dict.fromkeys(parts))
    return f"{'; '.join(unique)} on {count} item{'s' if count != 1 else ''}"
