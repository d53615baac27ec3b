"""What a bulk review change does to an item: one definition for the engine that applies it
(case/review.py) and for verify, which replays it from the audit log (case/replay.py).

A bulk entry (``items.review``, ``items.review_undone``) carries a list of changes, each
``{"field": ..., "items": [ids], ...}``:

  review_state   ``to``: the state
  vics_category  ``to``: an integer category, or null (none)
  tags           ``added`` and ``removed``: tag lists (a tag is not added twice in another
                 letter case)
  notes          ``append``: text added after the notes (after a blank line), or ``to``:
                 the notes as a whole (what an undo restores)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FIELDS = ("review_state", "vics_category", "tags", "notes")
NOTE_SEPARATOR = "\n\n"


def appended(notes: str, text: str) -> str:
    return text if not notes else notes + NOTE_SEPARATOR + text


def tags_after(tags: Iterable[str], added: Iterable[str], removed: Iterable[str]) -> list[str]:
    gone = set(removed)
    current = [tag for tag in tags if tag not in gone]
    lower = {tag.lower() for tag in current}
    for tag in added:
        if tag.lower() not in lower:
            current.append(tag)
            lower.add(tag.lower())
    return sorted(current)


def value_after(field: str, value: Any, change: dict[str, Any]) -> Any:
    """The field's value after ``change``; raises KeyError/TypeError on a malformed one."""
    if field == "tags":
        return tags_after(value, change.get("added") or [], change.get("removed") or [])
    if field == "notes" and "append" in change:
        return appended(value, str(change["append"]))
    return change["to"]
