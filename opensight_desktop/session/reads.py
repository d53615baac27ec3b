"""Reads of an open case for front ends, by case rather than by database session, so that
no front end handles SQL. Each opens its own read transaction: they may run on any thread
(the GUI reads rows and thumbnails on a background thread) while a job writes."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

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
# Years a timeline spans at most with empty years shown (crafted dates: year 1 to 9999).
YEARS_FILLED = 300


def capture_histogram(case: Case, bars: int = HISTOGRAM_BARS) -> tuple[str, list[tuple[str, int]]]:
    """(bucket, [(period, items)]) by capture time, on a continuous axis: periods without
    items are there with 0, so that gaps in time show as gaps. By day, else month, else
    year: the shortest period that spans the items in at most ``bars`` bars."""
    with case.read() as session:
        for bucket in ("day", "month"):
            counts = triage.capture_histogram(session, bucket)
            filled = _continuous(bucket, counts, bars)
            if filled is not None:
                return bucket, filled
        counts = triage.capture_histogram(session, "year")
    return "year", _continuous("year", counts, YEARS_FILLED) or counts


def _continuous(
    bucket: str, counts: list[tuple[str, int]], limit: int
) -> list[tuple[str, int]] | None:
    """Every period from the first to the last, or None if that is more than ``limit``
    (or a period is not a date: a crafted or odd value; then counted by a longer one)."""
    if not counts:
        return []
    try:
        first, last = _period_start(bucket, counts[0][0]), _period_start(bucket, counts[-1][0])
        found = {_period_start(bucket, period): count for period, count in counts}
    except ValueError:
        return None if bucket != "year" else counts
    if len(found) != len(counts):
        return None if bucket != "year" else counts
    periods: list[tuple[str, int]] = []
    current = first
    while current <= last:
        if len(periods) >= limit:
            return None
        periods.append((_period_text(bucket, current), found.get(current, 0)))
        current = _next_period(bucket, current)
    return periods


def _period_start(bucket: str, text: str) -> date:
    if bucket == "day":
        return date.fromisoformat(text)
    if bucket == "month":
        if len(text) != 7:
            raise ValueError(text)
        return date.fromisoformat(text + "-01")
    if len(text) != 4:
        raise ValueError(text)
    return date(int(text), 1, 1)


def _period_text(bucket: str, value: date) -> str:
    return value.isoformat()[: {"day": 10, "month": 7, "year": 4}[bucket]]


def _next_period(bucket: str, value: date) -> date:
    if bucket == "day":
        return value + timedelta(days=1)
    if bucket == "month":
        return date(value.year + value.month // 12, value.month % 12 + 1, 1)
    if value.year >= 9999:
        return date.max
    return date(value.year + 1, 1, 1)


def gps_points(case: Case) -> list[tuple[int, float, float]]:
    """(item id, latitude, longitude) of the items with a position on the globe."""
    with case.read() as session:
        return triage.gps_points(session)


def cameras(case: Case) -> list[tuple[str | None, str | None, int]]:
    """(make, model, items) of the cameras named in the case's metadata, most items first."""
    with case.read() as session:
        return triage.cameras(session)


def integrity_problems(case: Case) -> dict[int, str]:
    """{item id: changed | missing | unreadable} as the newest recorded check found them."""
    from opensight_desktop.case.integrity import recorded_problems

    with case.read() as session:
        return recorded_problems(session)
