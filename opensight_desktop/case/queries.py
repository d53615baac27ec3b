"""Read-side queries shared by the GUI list and the exports: light rows for thousands of
items, their thumbnails, the audit log's entries as shown, and which detection result
counts as an item's current one."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from opensight_desktop.case.models import (
    AuditEntry,
    DetectionResult,
    EvidenceFile,
    EvidenceItem,
    ItemFlag,
    ItemMetadata,
    ItemTag,
    Thumbnail,
)

# Ids per ``IN (...)`` list: a query with two of them stays under 999 bound variables, the
# limit of SQLite before 3.32 (and of builds that keep it).
ID_CHUNK = 400


@functools.lru_cache(maxsize=4096)  # a case has few cameras and 100,000 rows ask
def camera_name(make: str | None, model: str | None) -> str | None:
    """ "Canon EOS R6", not "Canon Canon EOS R6": many makers repeat the make in the model."""
    if make and model and model.lower().startswith(make.lower()):
        return model
    return " ".join(part for part in (make, model) if part) or None


def current_result_ids(item_ids: Collection[int] | None = None) -> Select[int]:
    """An item's current result is its newest one (highest id) - from whichever model.

    ``item_ids``: only those items' (the query then reads only their results).
    """
    query = select(func.max(DetectionResult.id))
    if item_ids is not None:
        query = query.where(DetectionResult.item_id.in_(item_ids))
    return query.group_by(DetectionResult.item_id)


@dataclass(frozen=True, slots=True)
class ItemRow:
    id: int
    file_name: str
    path: str
    status: str
    error: str | None
    format: str | None
    width: int | None
    height: int | None
    size_bytes: int | None
    sha256: str | None
    probability: float | None
    verdict: str | None
    flags: tuple[str, ...]
    camera: str | None
    datetime_original: str | None
    review_state: str
    tags: tuple[str, ...]
    duplicates: int


def item_rows(
    session: Session, since_id: int = 0, ids: Collection[int] | None = None
) -> list[ItemRow]:
    """Rows for the evidence list, in id order: every item above ``since_id``, or exactly
    the items of ``ids`` (those that exist). Every table is read for those items only, one
    query per table (per :data:`ID_CHUNK` ids), however many items the case holds."""
    if ids is None:
        return _rows(session, lambda column: column > since_id, current_result_ids())
    wanted = sorted(set(ids))
    rows: list[ItemRow] = []
    for start in range(0, len(wanted), ID_CHUNK):
        chunk = wanted[start : start + ID_CHUNK]
        rows += _rows(session, _among(chunk), current_result_ids(chunk))
    return rows


def _among(ids: list[int]) -> Callable[[Any], Any]:
    return lambda column: column.in_(ids)


def thumbnails(session: Session, ids: Collection[int]) -> dict[int, bytes]:
    """The stored thumbnails of exactly these items (those that have one), as stored: check
    one before trusting it to be a JPEG."""
    wanted = sorted(set(ids))
    out: dict[int, bytes] = {}
    for start in range(0, len(wanted), ID_CHUNK):
        chunk = wanted[start : start + ID_CHUNK]
        for item_id, jpeg in session.execute(
            select(Thumbnail.item_id, Thumbnail.jpeg).where(Thumbnail.item_id.in_(chunk))
        ):
            out[item_id] = jpeg
    return out


def fetch_all(session: Session, query: Any) -> list[Any]:
    """The query's rows, executed on the session's connection (SQLAlchemy Core): the ORM's
    result processing costs more than the query itself on 100,000 items."""
    return list(session.connection().execute(query).all())


def _rows(session: Session, items_of: Callable[[Any], Any], results: Any) -> list[ItemRow]:
    """The rows of the items whose id ``items_of(column)`` accepts, the condition applied
    to each table's item id column; ``results``: the current results' ids among them."""
    items = fetch_all(
        session,
        select(
            EvidenceItem.id,
            EvidenceItem.status,
            EvidenceItem.error,
            EvidenceItem.format,
            EvidenceItem.width,
            EvidenceItem.height,
            EvidenceItem.size_bytes,
            EvidenceItem.sha256,
            EvidenceItem.review_state,
        )
        .where(items_of(EvidenceItem.id))
        .order_by(EvidenceItem.id),
    )
    if not items:
        return []

    def grouped(column: Any, model: Any) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for item_id, value in fetch_all(
            session,
            select(model.item_id, column).where(items_of(model.item_id)).order_by(model.item_id),
        ):
            out.setdefault(item_id, []).append(value)
        return out

    files: dict[int, list[tuple[str, str]]] = {}
    for item_id, name, path in fetch_all(
        session,
        select(EvidenceFile.item_id, EvidenceFile.file_name, EvidenceFile.path)
        .where(items_of(EvidenceFile.item_id))
        .order_by(EvidenceFile.id),
    ):
        files.setdefault(item_id, []).append((name, path))
    flags = grouped(ItemFlag.code, ItemFlag)
    tags = grouped(ItemTag.tag, ItemTag)
    results = {
        item_id: (probability, verdict)
        for item_id, probability, verdict in fetch_all(
            session,
            select(
                DetectionResult.item_id, DetectionResult.probability, DetectionResult.verdict
            ).where(DetectionResult.id.in_(results), items_of(DetectionResult.item_id)),
        )
    }
    meta = {
        item_id: (make, model, taken)
        for item_id, make, model, taken in fetch_all(
            session,
            select(
                ItemMetadata.item_id,
                ItemMetadata.camera_make,
                ItemMetadata.camera_model,
                ItemMetadata.datetime_original,
            ).where(items_of(ItemMetadata.item_id)),
        )
    }
    rows = []
    for item_id, status, error, fmt, width, height, size, sha256, review in items:
        located = files.get(item_id) or [("?", "?")]
        probability, verdict = results.get(item_id, (None, None))
        make, model, taken = meta.get(item_id, (None, None, None))
        camera = camera_name(make, model)
        rows.append(
            ItemRow(
                item_id,
                located[0][0],
                located[0][1],
                status,
                error,
                fmt,
                width,
                height,
                size,
                sha256,
                probability,
                verdict,
                tuple(flags.get(item_id, ())),
                camera,
                taken,
                review,
                tuple(sorted(tags.get(item_id, ()))),
                len(located) - 1,
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class AuditRow:
    """An audit entry as people read it (the chain's hashes are checked, not shown)."""

    seq: int
    ts_utc: str
    user: str
    host: str
    action: str
    item_id: int | None
    details: str


def audit_rows(session: Session) -> list[AuditRow]:
    """Every audit entry, in order."""
    return [
        AuditRow(*row)
        for row in session.execute(
            select(
                AuditEntry.seq,
                AuditEntry.ts_utc,
                AuditEntry.user,
                AuditEntry.host,
                AuditEntry.action,
                AuditEntry.item_id,
                AuditEntry.details,
            ).order_by(AuditEntry.seq)
        )
    ]
