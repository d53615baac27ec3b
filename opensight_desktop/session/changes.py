"""What an operation or a job changed, so that front ends refresh exactly that (Anki's
OpChanges are the model): a review on three items re-reads three rows, an analysis batch
the rows of the items it stored, and nobody polls the case."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Changes:
    closing: bool = False  # the case is about to close: stop reading it now
    case: bool = False  # a case was opened or closed: everything shown is stale
    case_details: bool = False  # its summary: counts, runs, audit entries
    items_added: frozenset[int] = frozenset()
    items: frozenset[int] = frozenset()  # existing items whose rows or details changed
    results: frozenset[int] = frozenset()  # items with a new result (score, heatmap): a subset
    selection: bool = False  # the current item or the selected items
    job: bool = False  # a job started or ended
    models: bool = False  # detector models installed, or which one is active
    settings: bool = False
    hashsets: bool = False  # hash sets added to or removed from the store
    integrity: bool = False  # which items' files the newest integrity check found changed

    @classmethod
    def of_items(
        cls, ids: Iterable[int], *, added: Iterable[int] = (), results: bool = False
    ) -> Changes:
        """Items written (``ids``) or added; ``results``: those written got a new result."""
        changed = frozenset(ids)
        return cls(
            case_details=True,
            items_added=frozenset(added),
            items=changed,
            results=changed if results else frozenset(),
        )

    @property
    def touched_items(self) -> frozenset[int]:
        """Items added or changed: the rows to read again."""
        return self.items_added | self.items

    def __or__(self, other: Changes) -> Changes:
        values = {}
        for field in fields(self):
            mine, theirs = getattr(self, field.name), getattr(other, field.name)
            values[field.name] = mine | theirs
        return Changes(**values)

    def __bool__(self) -> bool:
        return any(getattr(self, field.name) for field in fields(self))


NOTHING = Changes()
