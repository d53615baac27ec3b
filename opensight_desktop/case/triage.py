"""Triage filters over a case: item ids matching every criterion given, in one SQL query
(plus the near-duplicate stacks, when only their representatives are wanted).

Each criterion left at its default does not filter. Flag codes include the hash-set
codes (``known-file``, ``alert-hash-set``: case/hashset_match.py), which come from the
hits table rather than the flags table. Indexes for these columns are in migration 0004.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, or_, select
from sqlalchemy.orm import Session

from opensight_desktop.case.hashset_match import ALERT_FLAG, KNOWN_FLAG
from opensight_desktop.case.models import (
    DetectionResult,
    EvidenceFile,
    EvidenceItem,
    HashSet,
    HashSetHit,
    ItemFlag,
    ItemMetadata,
)
from opensight_desktop.case.queries import current_result_ids

NOT_ANALYSED = "none"  # the verdict of an item without a result, for ``verdicts``
HIT_FLAGS = {KNOWN_FLAG: "known", ALERT_FLAG: "alert"}


@dataclass(frozen=True)
class Filter:
    verdicts: Collection[str] | None = None  # "likely-generated", ..., or NOT_ANALYSED
    flags: Collection[str] | None = None  # any of these flag codes
    hide_known: bool = False  # leave out items in a known-file hash set
    hashsets: Collection[str] | None = None  # in any of these sets (by name)
    review_states: Collection[str] | None = None
    cameras: Collection[tuple[str | None, str | None]] | None = None  # (make, model)
    folder: str | None = None  # a location under this folder
    taken_from: str | None = None  # capture time range, ISO 8601 (inclusive)
    taken_to: str | None = None
    has_gps: bool | None = None
    # one item per near-duplicate stack (its first matching item); needs ``groups``
    representatives_only: bool = False


def _hit_kind(kind: str) -> Any:
    """Items with a hit in a set of this kind (one uncorrelated subquery: SQLite builds
    its list once instead of probing per item)."""
    return EvidenceItem.id.in_(
        select(HashSetHit.item_id)
        .join(HashSet, HashSet.id == HashSetHit.hashset_id)
        .where(HashSet.kind == kind)
    )


def _ids(session: Session, query: Any) -> list[int]:
    """The query's single integer column, read through the driver: building a result row
    object per item costs more than the query itself on 100,000 items."""
    compiled = query.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    names = compiled.positiontup or []
    cursor = session.connection().connection.driver_connection.execute(  # type: ignore[union-attr]
        str(compiled), [compiled.params[name] for name in names]
    )
    return [row[0] for row in cursor]


def filter_items(
    session: Session, criteria: Filter, groups: Mapping[int, int] | None = None
) -> list[int]:
    """Ids of the items that match, in id order. ``groups``: {item id: stack id}
    (case/similar.py), required for ``representatives_only``."""
    query = select(EvidenceItem.id)
    where: list[Any] = []
    if criteria.verdicts is not None:
        verdicts = set(criteria.verdicts)
        current = select(DetectionResult.item_id).where(
            DetectionResult.id.in_(current_result_ids()),
            DetectionResult.verdict.in_(verdicts - {NOT_ANALYSED}),
        )
        clauses: list[ColumnElement[bool]] = [EvidenceItem.id.in_(current)]
        if NOT_ANALYSED in verdicts:
            clauses.append(~exists().where(DetectionResult.item_id == EvidenceItem.id))
        where.append(or_(*clauses))
    if criteria.flags is not None:
        codes = set(criteria.flags)
        clauses = [exists().where(ItemFlag.item_id == EvidenceItem.id, ItemFlag.code.in_(codes))]
        clauses += [_hit_kind(kind) for code, kind in HIT_FLAGS.items() if code in codes]
        where.append(or_(*clauses))
    if criteria.hide_known:
        where.append(not_(_hit_kind("known")))
    if criteria.hashsets is not None:
        where.append(
            exists().where(
                HashSetHit.item_id == EvidenceItem.id,
                HashSet.id == HashSetHit.hashset_id,
                HashSet.name.in_(set(criteria.hashsets)),
            )
        )
    if criteria.review_states is not None:
        where.append(EvidenceItem.review_state.in_(set(criteria.review_states)))
    metadata: list[Any] = []
    if criteria.cameras is not None:
        metadata.append(
            or_(
                *(
                    and_(ItemMetadata.camera_make.is_(make), ItemMetadata.camera_model.is_(model))
                    if make is None or model is None
                    else and_(ItemMetadata.camera_make == make, ItemMetadata.camera_model == model)
                    for make, model in criteria.cameras
                )
            )
            if criteria.cameras
            else false()
        )
    if criteria.taken_from is not None:
        metadata.append(ItemMetadata.datetime_original >= criteria.taken_from)
    if criteria.taken_to is not None:
        # "2024-05-06" includes that whole day
        metadata.append(ItemMetadata.datetime_original <= criteria.taken_to + "\uffff")
    if criteria.has_gps is not None:
        located = and_(
            ItemMetadata.gps_latitude.is_not(None), ItemMetadata.gps_longitude.is_not(None)
        )
        if criteria.has_gps:
            metadata.append(located)
        else:
            where.append(EvidenceItem.id.not_in(select(ItemMetadata.item_id).where(located)))
    if metadata:
        where.append(EvidenceItem.id.in_(select(ItemMetadata.item_id).where(*metadata)))
    if criteria.folder:
        prefix = criteria.folder.rstrip("/\\") + "/"
        where.append(
            EvidenceItem.id.in_(
                select(EvidenceFile.item_id).where(
                    EvidenceFile.path >= prefix, EvidenceFile.path < prefix + "\uffff"
                )
            )
        )
    ids = _ids(session, query.where(*where).order_by(EvidenceItem.id))
    if criteria.representatives_only:
        if groups is None:
            raise ValueError("representatives_only needs the case's groups")
        # the first (smallest) matching item of each stack stands for it
        seen: set[int] = set()
        kept = []
        for item_id in ids:
            stack = groups.get(item_id)
            if stack is None or stack not in seen:
                kept.append(item_id)
                if stack is not None:
                    seen.add(stack)
        ids = kept
    return ids


def capture_histogram(session: Session, bucket: str = "day") -> list[tuple[str, int]]:
    """(period, items) by capture time, in order: "YYYY-MM-DD" per day, "YYYY-MM" per
    month, "YYYY" per year. Items without a capture time are left out."""
    width = {"day": 10, "month": 7, "year": 4}.get(bucket)
    if width is None:
        raise ValueError(f"bucket is day, month or year, not {bucket!r}")
    period = func.substr(ItemMetadata.datetime_original, 1, width)
    rows = session.execute(
        select(period, func.count())
        .where(ItemMetadata.datetime_original.is_not(None))
        .group_by(period)
        .order_by(period)
    )
    return [(str(key), int(count)) for key, count in rows]


def gps_points(session: Session) -> list[tuple[int, float, float]]:
    """(item id, latitude, longitude) of the items with a position on the globe; values
    outside it (a crafted or broken case) are left out rather than drawn somewhere."""
    rows = session.execute(
        select(ItemMetadata.item_id, ItemMetadata.gps_latitude, ItemMetadata.gps_longitude)
        .where(ItemMetadata.gps_latitude.is_not(None), ItemMetadata.gps_longitude.is_not(None))
        .order_by(ItemMetadata.item_id)
    )
    return [
        (int(item_id), float(lat), float(lon))
        for item_id, lat, lon in rows
        if isinstance(lat, int | float)
        and isinstance(lon, int | float)
        and -90.0 <= lat <= 90.0
        and -180.0 <= lon <= 180.0
    ]


def cameras(session: Session) -> list[tuple[str | None, str | None, int]]:
    """(make, model, items) of the cameras named in the metadata, most items first."""
    rows = session.execute(
        select(ItemMetadata.camera_make, ItemMetadata.camera_model, func.count())
        .where(or_(ItemMetadata.camera_make.is_not(None), ItemMetadata.camera_model.is_not(None)))
        .group_by(ItemMetadata.camera_make, ItemMetadata.camera_model)
    )
    found = [(make, model, int(count)) for make, model, count in rows]
    return sorted(found, key=lambda c: (-c[2], str(c[0]), str(c[1])))
