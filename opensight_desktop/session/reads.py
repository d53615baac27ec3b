"""Reads of an open case for front ends, by case rather than by database session, so that
no front end handles SQL. Each opens its own read transaction: they may run on any thread
(the GUI reads rows and thumbnails on a background thread) while a job writes."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from opensight_desktop.case import audit, queries, views
from opensight_desktop.case.queries import AuditRow, ItemRow
from opensight_desktop.case.store import Case
from opensight_desktop.case.views import HeatmapView, ItemView


def item_rows(case: Case, ids: Collection[int] | None = None, since_id: int = 0) -> list[ItemRow]:
    """The evidence list's rows: exactly ``ids``, else every item above ``since_id``."""
    with case.read() as session:
        return queries.item_rows(session, since_id=since_id, ids=ids)


def thumbnails(case: Case, ids: Collection[int]) -> dict[int, bytes]:
    with case.read() as session:
        return queries.thumbnails(session, ids)


def item_view(case: Case, item_id: int) -> tuple[ItemView | None, HeatmapView | None]:
    """One item as the item panel and the viewer show it, with its current heatmap."""
    with case.read() as session:
        item = views.item_view(session, item_id)
        heatmap = views.current_heatmaps(session, [item_id]).get(item_id) if item else None
    return item, heatmap


@dataclass(frozen=True)
class AuditLog:
    chain: audit.ChainCheck
    entries: list[AuditRow]


def audit_log(case: Case) -> AuditLog:
    """The audit log's entries and whether their chain is intact, read in one transaction."""
    with case.read() as session:
        return AuditLog(audit.check_chain(session), queries.audit_rows(session))


def integrity_problems(case: Case) -> dict[int, str]:
    """{item id: changed | missing | unreadable} as the newest recorded check found them."""
    from opensight_desktop.case.integrity import recorded_problems

    with case.read() as session:
        return recorded_problems(session)
