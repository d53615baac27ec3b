"""Reads of an open case for front ends, by case rather than by database session, so that
no front end handles SQL. Each opens its own read transaction: they may run on any thread
(the GUI reads rows and thumbnails on a background thread) while a job writes."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from opensight_desktop.case import audit, queries, similar, triage, views
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


# -- triage: filters, stacks, capture times, places (issue 15) ----------------------------


def filter_ids(
    case: Case, criteria: triage.Filter, groups: Mapping[int, int] | None = None
) -> list[int]:
    """Ids of the items matching every criterion (``case.triage``), in id order."""
    with case.read() as session:
        return triage.filter_items(session, criteria, groups)


def stacks(case: Case, threshold: int) -> dict[int, int]:
    """{item id: stack id} of every item in a near-duplicate stack of two or more."""
    with case.read() as session:
        return similar.similar_groups(session, threshold)


def similar_to(case: Case, item_id: int, threshold: int) -> list[tuple[int, int]]:
    """(item id, distance in bits) of the items within ``threshold`` bits, nearest first."""
    with case.read() as session:
        return similar.similar_to(session, item_id, threshold)


# Bars a timeline shows at most before it counts by a longer period.
HISTOGRAM_BARS = 120


def capture_histogram(case: Case, bars: int = HISTOGRAM_BARS) -> tuple[str, list[tuple[str, int]]]:
    """(bucket, [(period, items)]) by capture time, by day, else month, else year: the
    shortest period that gives at most ``bars`` bars (years however many there are)."""
    with case.read() as session:
        for bucket in ("day", "month"):
            counts = triage.capture_histogram(session, bucket)
            if len(counts) <= bars:
                return bucket, counts
        return "year", triage.capture_histogram(session, "year")


def gps_points(case: Case) -> list[tuple[int, float, float]]:
    """(item id, latitude, longitude) of the items with a position on the globe."""
    with case.read() as session:
        return triage.gps_points(session)


def cameras(case: Case) -> list[tuple[str | None, str | None, int]]:
    """(make, model, items) of the cameras named in the case's metadata, most items first."""
    with case.read() as session:
        return triage.cameras(session)
