"""Read-side queries shared by the GUI list and the exports: light rows for thousands of
items, and which detection result counts as an item's current one."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from opensight_desktop.case.models import (
    DetectionResult,
    EvidenceFile,
    EvidenceItem,
    ItemFlag,
    ItemMetadata,
    ItemTag,
)


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


def item_rows(session: Session, since_id: int = 0, ids: list[int] | None = None) -> list[ItemRow]:
    """Rows for the evidence list, in id order; five queries however many items there are."""
    query = select(
        EvidenceItem.id,
        EvidenceItem.status,
        EvidenceItem.error,
        EvidenceItem.format,
        EvidenceItem.width,
        EvidenceItem.height,
        EvidenceItem.size_bytes,
        EvidenceItem.sha256,
        EvidenceItem.review_state,
    ).where(EvidenceItem.id > since_id)
    if ids is not None:
        query = query.where(EvidenceItem.id.in_(ids))
    items = session.execute(query.order_by(EvidenceItem.id)).all()
    if not items:
        return []
    low = items[0][0] - 1

    def grouped(
        column: InstrumentedAttribute[str], model: type[ItemFlag] | type[ItemTag]
    ) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for item_id, value in session.execute(
            select(model.item_id, column).where(model.item_id > low).order_by(model.item_id)
        ):
            out.setdefault(item_id, []).append(value)
        return out

    files: dict[int, list[tuple[str, str]]] = {}
    for item_id, name, path in session.execute(
        select(EvidenceFile.item_id, EvidenceFile.file_name, EvidenceFile.path)
        .where(EvidenceFile.item_id > low)
        .order_by(EvidenceFile.id)
    ):
        files.setdefault(item_id, []).append((name, path))
    flags = grouped(ItemFlag.code, ItemFlag)
    tags = grouped(ItemTag.tag, ItemTag)
    results = {
        item_id: (probability, verdict)
        for item_id, probability, verdict in session.execute(
            select(
                DetectionResult.item_id, DetectionResult.probability, DetectionResult.verdict
            ).where(DetectionResult.id.in_(current_result_ids()), DetectionResult.item_id > low)
        )
    }
    meta = {
        item_id: (make, model, taken)
        for item_id, make, model, taken in session.execute(
            select(
                ItemMetadata.item_id,
                ItemMetadata.camera_make,
                ItemMetadata.camera_model,
                ItemMetadata.datetime_original,
            ).where(ItemMetadata.item_id > low)
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
