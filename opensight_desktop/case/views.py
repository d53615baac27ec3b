"""The read model: what a case holds about itself and its items, as typed, immutable views.

Every output reads items through these: the GUI item panel, the PDF report, and the JSON
and CSV exports (report/records.py writes the export contract from an ItemView). Items are
read ``BATCH`` at a time, in the caller's read transaction, so any number of them streams
in bounded memory. Views hold what the case stores, except that numbers which are not
finite (a hostile model's score, a crafted case's metadata) are None: unknown. Values the
case keeps as JSON (metadata fields, a result's thresholds, preprocessing and versions)
are as stored; the properties that interpret them check their types, since a crafted case
can hold anything there.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from opensight_desktop.case import audit
from opensight_desktop.case.hashset_match import flag_explanation, stored_hits
from opensight_desktop.case.models import (
    AuditEntry,
    CaseInfo,
    DetectionResult,
    DetectorModel,
    EvidenceFile,
    EvidenceItem,
    ItemFlag,
    ItemMetadata,
    ItemTag,
    Thumbnail,
)
from opensight_desktop.case.queries import current_result_ids
from opensight_desktop.errors import CaseFileError

REVIEW_STATE_ACTION = "item.review_state"  # the audit entry that sets a review state (review.py)
# Entries that set review values on several items at once (review.py BULK_ACTIONS)
BULK_REVIEW_ACTIONS = ("items.review", "items.review_undone")
EMPTY: Mapping[int, int] = {}

# Items read per round of queries: bounds memory, and stays far below SQLite's limit on
# the number of values in one statement.
BATCH = 500

# The export contract's metadata fields (metadata/extract.py CONTRACT_FIELDS) are the typed
# columns of ItemMetadata, in table order: the import stores them there by name.
CONTRACT_COLUMNS = tuple(
    column.key
    for column in ItemMetadata.__table__.columns
    if column.key not in ("item_id", "exif", "extra", "problems")
)
# An item without a metadata row shows the contract's fields as null (unknown).
EMPTY_METADATA: dict[str, Any] = {**dict.fromkeys(CONTRACT_COLUMNS), "exif": {}}


def finite_or_null(value: Any) -> Any:
    """``value`` with every NaN or infinite number replaced by None, at any depth.

    JSON has no such numbers, yet a hostile model can score +Inf and a crafted file or case
    can hold NaN in its metadata: every output shows them as null (unknown).
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_or_null(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_null(item) for item in value]
    return value


def _text(value: object) -> str | None:
    return value if value is None or isinstance(value, str) else str(value)


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class CaseView:
    uuid: str
    number: str
    title: str
    examiner: str
    agency: str
    description: str
    created_utc: datetime
    tz_name: str
    tz_offset_minutes: int | None  # None: not a finite number (a crafted case)
    audit_entries: int  # the head of the audit chain
    audit_sha256: str


@dataclass(frozen=True, slots=True)
class Location:
    """A path at which the item's content was found (the first one, then duplicates)."""

    path: str  # display form: undecodable bytes escaped
    path_raw: bytes  # the exact bytes the operating system uses
    file_name: str
    modified_ns: int | None
    changed_ns: int | None
    accessed_ns: int | None


@dataclass(frozen=True, slots=True)
class MetadataView:
    """Every metadata field as stored and exported: the contract's fields first, then
    ``exif``, then the others in the order they were read (metadata/extract.py)."""

    fields: Mapping[str, Any]

    @property
    def camera_make(self) -> str | None:
        return _text(self.fields.get("camera_make"))

    @property
    def camera_model(self) -> str | None:
        return _text(self.fields.get("camera_model"))

    @property
    def datetime_original(self) -> str | None:
        return _text(self.fields.get("datetime_original"))

    @property
    def datetime_original_offset(self) -> str | None:
        return _text(self.fields.get("datetime_original_offset"))

    @property
    def software(self) -> str | None:
        return _text(self.fields.get("software"))

    @property
    def orientation(self) -> int | None:
        return _integer(self.fields.get("orientation"))

    @property
    def gps_latitude(self) -> float | None:
        return _number(self.fields.get("gps_latitude"))

    @property
    def gps_longitude(self) -> float | None:
        return _number(self.fields.get("gps_longitude"))

    @property
    def gps_altitude_m(self) -> float | None:
        return _number(self.fields.get("gps_altitude_m"))

    @property
    def exif(self) -> Mapping[str, object]:
        return _mapping(self.fields.get("exif"))

    @property
    def sources(self) -> Mapping[str, object] | None:
        """Where each normalised field came from ("EXIF", "XMP", ...); None for an item
        imported before sources were recorded (its fields then came from EXIF only)."""
        return _mapping(self.fields["sources"]) if "sources" in self.fields else None


@dataclass(frozen=True, slots=True)
class ModelView:
    """A detector that scored items of this case: its identity and provenance."""

    # None only where a result names a model the case does not hold (a crafted case).
    name: str | None
    sha256: str | None
    format: str | None
    source: str | None
    published_match: str | None  # what the model store found comparing published hashes


@dataclass(frozen=True, slots=True)
class DetectionView:
    """An item's current result: its newest, from whichever model."""

    probability: float | None  # P(generated); None: not a finite number
    logit: float | None
    verdict: str
    model: ModelView
    device: str
    precision: str
    analyzed_utc: datetime
    # As stored: the bands it was scored with (detector/verdict.py Bands.record(); read
    # them with Bands.from_record), preprocessing, software versions and device.
    thresholds: object
    preprocessing: object
    versions: object
    # Where the crop the model saw lies on the original (detector/geometry.py records).
    geometry: Any = None

    @property
    def device_description(self) -> str | None:
        return _text(_mapping(self.versions).get("device_description"))

    @property
    def node(self) -> str | None:
        """The host that computed the result (None for results from before it was kept)."""
        return _text(_mapping(self.versions).get("node"))


@dataclass(frozen=True, slots=True)
class FlagView:
    code: str
    explanation: str


@dataclass(frozen=True, slots=True)
class ReviewSetting:
    """Who set an item's review state, and when: the audit entry that set it."""

    examiner: str | None  # the examiner the entry names (None: written before entries did)
    account: str  # the operating-system account, "user@host"
    utc: str  # the entry's time, as recorded


@dataclass(frozen=True, slots=True)
class ReviewView:
    state: str
    notes: str
    tags: tuple[str, ...]  # in order of the text, as the case sorts them
    # None: never set (not reviewed), or the newest entry does not set the state the item
    # has (a difference that verify reports)
    set_by: ReviewSetting | None = None
    vics_category: int | None = None  # Project VIC / CAID category; None: not set


@dataclass(frozen=True, slots=True)
class HashSetHitView:
    """A hash set that lists the item (case/hashset_match.py)."""

    set: str | None  # None only in a crafted case (a hit naming no recorded set)
    kind: str | None  # known | alert
    category: str | None
    hash: str  # which of the item's digests matched: md5 | sha1 | sha256
    set_sha256: str | None  # the set's source file SHA-256

    def record(self) -> dict[str, Any]:
        return {
            "set": self.set,
            "kind": self.kind,
            "category": self.category,
            "hash": self.hash,
            "set_sha256": self.set_sha256,
        }


@dataclass(frozen=True, slots=True)
class ItemView:
    id: int
    status: str
    error: str | None
    format: str | None
    width: int | None
    height: int | None
    mode: str | None
    frames: int | None
    size_bytes: int | None
    md5: str | None
    sha1: str | None
    sha256: str | None  # None only when the file could not be read at all
    added_utc: datetime
    locations: tuple[Location, ...]
    metadata: MetadataView
    detection: DetectionView | None
    flags: tuple[FlagView, ...]  # metadata flags, then one per hash-set hit
    review: ReviewView
    hashset_hits: tuple[HashSetHitView, ...] = ()
    phash: str | None = None  # 64-bit perceptual hash, 16 hex digits (evidence/phash.py)
    # The near-duplicate stack the item is in (its smallest item id), when the reader was
    # given the case's groups (case/similar.py); None: alone, or not asked for.
    similar_group: int | None = None

    @property
    def primary(self) -> Location | None:
        return self.locations[0] if self.locations else None

    @property
    def path(self) -> str | None:
        return self.locations[0].path if self.locations else None

    @property
    def file_name(self) -> str | None:
        return self.locations[0].file_name if self.locations else None

    @property
    def duplicate_paths(self) -> tuple[str, ...]:
        return tuple(location.path for location in self.locations[1:])


@dataclass(frozen=True, slots=True)
class HeatmapView:
    """Where an item's current heatmap lies on the image, and its grid (None: none made)."""

    grid: bytes | None
    geometry: Mapping[str, object] | None


# -- reading ------------------------------------------------------------------------------


def case_view(session: Session) -> CaseView:
    info = session.get(CaseInfo, 1)
    if info is None:
        raise CaseFileError("the case file holds no case description (its case_info row)")
    return CaseView(
        uuid=info.uuid,
        number=info.number,
        title=info.title,
        examiner=info.examiner,
        agency=info.agency,
        description=info.description,
        created_utc=info.created_utc,
        tz_name=info.tz_name,
        tz_offset_minutes=finite_or_null(info.tz_offset_minutes),
        audit_entries=finite_or_null(info.audit_head_seq),
        audit_sha256=info.audit_head_hash,
    )


def item_views(
    session: Session,
    item_ids: Sequence[int] | None = None,
    groups: Mapping[int, int] | None = None,
    with_metadata: bool = True,
) -> Iterator[ItemView]:
    """The items (all, or those of ``item_ids`` that exist), in id order, read in batches.
    ``groups``: {item id: near-duplicate group} (case/similar.py), to name each item's.
    ``with_metadata=False``: every item's metadata left empty (a camera's EXIF is kilobytes
    an item: a summary of 100,000 items that shows none of it need not hold it)."""
    groups = groups or {}
    if item_ids is not None:
        wanted = sorted(set(item_ids))
        for start in range(0, len(wanted), BATCH):
            yield from _batch(
                session,
                EvidenceItem.id.in_(wanted[start : start + BATCH]),
                groups=groups,
                with_metadata=with_metadata,
            )
        return
    last = 0
    while True:
        batch = list(
            _batch(
                session,
                EvidenceItem.id > last,
                limit=BATCH,
                groups=groups,
                with_metadata=with_metadata,
            )
        )
        yield from batch
        if len(batch) < BATCH:
            return
        last = batch[-1].id


def item_view(session: Session, item_id: int) -> ItemView | None:
    return next(item_views(session, [item_id]), None)


def current_heatmaps(session: Session, item_ids: Sequence[int]) -> dict[int, HeatmapView]:
    """The current result's heatmap of each item that has a result."""
    out: dict[int, HeatmapView] = {}
    wanted = sorted(set(item_ids))
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start : start + BATCH]
        for item_id, grid, geometry in session.execute(
            select(
                DetectionResult.item_id, DetectionResult.heatmap, DetectionResult.heatmap_geometry
            ).where(DetectionResult.id.in_(current_result_ids(chunk)))
        ):
            out[item_id] = HeatmapView(grid, finite_or_null(geometry))
    return out


def thumbnail_jpeg(session: Session, item_id: int) -> bytes | None:
    """The item's stored thumbnail, as stored: check it before trusting it to be a JPEG."""
    return session.scalar(select(Thumbnail.jpeg).where(Thumbnail.item_id == item_id))


def _grouped(
    session: Session, model: Any, columns: Sequence[Any], ids: list[int], order: Any
) -> dict[int, list[Any]]:
    """{item id: [row, ...]} of a table with an item_id column, for these items."""
    out: dict[int, list[Any]] = {}
    for row in session.execute(
        select(model.item_id, *columns).where(model.item_id.in_(ids)).order_by(order)
    ):
        out.setdefault(row[0], []).append(row[1:])
    return out


def _batch(
    session: Session,
    where: ColumnElement[bool],
    limit: int | None = None,
    groups: Mapping[int, int] = EMPTY,
    with_metadata: bool = True,
) -> Iterator[ItemView]:
    query = select(EvidenceItem).where(where).order_by(EvidenceItem.id).limit(limit)
    items = list(session.scalars(query))
    if not items:
        return
    ids = [item.id for item in items]
    files = _grouped(
        session,
        EvidenceFile,
        (
            EvidenceFile.path,
            EvidenceFile.path_raw,
            EvidenceFile.file_name,
            EvidenceFile.mtime_ns,
            EvidenceFile.ctime_ns,
            EvidenceFile.atime_ns,
        ),
        ids,
        EvidenceFile.id,
    )
    flags = _grouped(session, ItemFlag, (ItemFlag.code, ItemFlag.explanation), ids, ItemFlag.id)
    tags = _grouped(session, ItemTag, (ItemTag.tag,), ids, ItemTag.tag)
    metadata = (
        {
            row.item_id: row
            for row in session.scalars(select(ItemMetadata).where(ItemMetadata.item_id.in_(ids)))
        }
        if with_metadata
        else {}
    )
    detections = _detections(session, ids)
    reviews = _review_settings(session, ids)
    hits = stored_hits(session, ids)
    for item in items:
        item_hits = tuple(
            HashSetHitView(
                _text(hit["set"]),
                _text(hit["kind"]),
                _text(hit["category"]),
                str(hit["hash"]),
                _text(hit["set_sha256"]),
            )
            for hit in hits.get(item.id, ())
        )
        yield ItemView(
            id=item.id,
            status=item.status,
            error=item.error,
            format=item.format,
            width=finite_or_null(item.width),
            height=finite_or_null(item.height),
            mode=item.mode,
            frames=finite_or_null(item.frames),
            size_bytes=finite_or_null(item.size_bytes),
            md5=item.md5,
            sha1=item.sha1,
            sha256=item.sha256,
            added_utc=item.added_utc,
            locations=tuple(
                Location(path, raw, name, *finite_or_null([mtime, ctime, atime]))
                for path, raw, name, mtime, ctime, atime in files.get(item.id, ())
            ),
            metadata=_metadata(metadata.get(item.id)),
            detection=detections.get(item.id),
            flags=(
                *(FlagView(code, text) for code, text in flags.get(item.id, ())),
                *_hit_flags(item_hits),
            ),
            review=ReviewView(
                item.review_state,
                item.notes,
                tuple(tag for (tag,) in tags.get(item.id, ())),
                _setting(reviews.get(item.id), item.review_state),
                _integer(item.vics_category),
            ),
            hashset_hits=item_hits,
            phash=item.phash if isinstance(item.phash, str) else None,
            similar_group=groups.get(item.id),
        )


def _review_settings(session: Session, ids: list[int]) -> dict[int, tuple[Any, ReviewSetting]]:
    """{item id: (state set, who and when)} from the newest entry that set each item's review
    state: an item's own entry, or a bulk review entry (or its undo) that lists it."""
    newest = (
        select(func.max(AuditEntry.seq))
        .where(AuditEntry.action == REVIEW_STATE_ACTION, AuditEntry.item_id.in_(ids))
        .group_by(AuditEntry.item_id)
    )
    out: dict[int, tuple[Any, ReviewSetting]] = {}
    newest_seq: dict[int, int] = {}
    for seq, item_id, ts_utc, user, host, text in session.execute(
        select(
            AuditEntry.seq,
            AuditEntry.item_id,
            AuditEntry.ts_utc,
            AuditEntry.user,
            AuditEntry.host,
            AuditEntry.details,
        ).where(AuditEntry.seq.in_(newest))
    ):
        if item_id is None:  # the query asks for item entries only
            continue
        newest_seq[item_id] = seq
        details = audit.parse_details(text) or {}
        out[item_id] = (details.get("to"), _review_setting(details, ts_utc, user, host))
    wanted = set(ids)
    found: set[int] = set()
    # Bulk entries (the GUI's review and its undo, VICS imports) name their items in the
    # details: newest first, each item takes the newest entry that set its state.
    for seq, ts_utc, user, host, text in session.execute(
        select(
            AuditEntry.seq, AuditEntry.ts_utc, AuditEntry.user, AuditEntry.host, AuditEntry.details
        )
        .where(
            AuditEntry.action.in_(BULK_REVIEW_ACTIONS),
            AuditEntry.details.like('%"review_state"%'),
        )
        .order_by(AuditEntry.seq.desc())
    ):
        if found >= wanted:
            break
        details = audit.parse_details(text) or {}
        changes = details.get("changes")
        for change in changes if isinstance(changes, list) else ():
            if not isinstance(change, dict) or change.get("field") != "review_state":
                continue
            members = change.get("items")
            for item_id in members if isinstance(members, list) else ():
                if not isinstance(item_id, int) or item_id not in wanted or item_id in found:
                    continue
                found.add(item_id)
                if item_id not in newest_seq or newest_seq[item_id] < seq:
                    out[item_id] = (
                        change.get("to"),
                        _review_setting(details, ts_utc, user, host),
                    )
    return out


def _review_setting(details: dict[str, Any], ts_utc: object, user: str, host: str) -> ReviewSetting:
    examiner = details.get(audit.EXAMINER_KEY)
    return ReviewSetting(
        examiner if isinstance(examiner, str) and examiner else None,
        f"{user}@{host}",
        str(ts_utc),
    )


def _setting(found: tuple[Any, ReviewSetting] | None, state: str) -> ReviewSetting | None:
    return found[1] if found is not None and found[0] == state else None


def _hit_flags(hits: Sequence[HashSetHitView]) -> list[FlagView]:
    """One flag per code (known file, alert set), naming every set that lists the item."""
    texts: dict[str, list[str]] = {}
    for hit in hits:
        code, text = flag_explanation(hit.record())
        texts.setdefault(code, []).append(text)
    return [FlagView(code, " ".join(parts)) for code, parts in texts.items()]


_NO_METADATA = MetadataView(MappingProxyType(finite_or_null(dict(EMPTY_METADATA))))


def _metadata(row: ItemMetadata | None) -> MetadataView:
    if row is None:  # one view shared by every item without metadata (it is not changed)
        return _NO_METADATA
    fields = dict(EMPTY_METADATA)
    fields.update({key: getattr(row, key) for key in CONTRACT_COLUMNS}, exif=row.exif)
    fields.update(row.extra)
    return MetadataView(finite_or_null(fields))


def _detections(session: Session, ids: list[int]) -> dict[int, DetectionView]:
    """The current result of each of these items that has one (heatmaps not read)."""
    models: dict[int, ModelView] = {}
    out: dict[int, DetectionView] = {}
    query = (
        select(
            DetectionResult.item_id,
            DetectionResult.model_id,
            DetectionResult.probability,
            DetectionResult.logit,
            DetectionResult.verdict,
            DetectionResult.device,
            DetectionResult.precision,
            DetectionResult.analyzed_utc,
            DetectionResult.thresholds,
            DetectionResult.preprocessing,
            DetectionResult.versions,
            DetectionResult.heatmap_geometry,
            DetectorModel,
        )
        .outerjoin(DetectorModel, DetectorModel.id == DetectionResult.model_id)
        .where(DetectionResult.id.in_(current_result_ids(ids)))
    )
    for row in session.execute(query):
        if row.model_id not in models:
            models[row.model_id] = _model(row.DetectorModel)
        out[row.item_id] = DetectionView(
            probability=finite_or_null(row.probability),
            logit=finite_or_null(row.logit),
            verdict=row.verdict,
            model=models[row.model_id],
            device=row.device,
            precision=row.precision,
            analyzed_utc=row.analyzed_utc,
            thresholds=finite_or_null(row.thresholds),
            preprocessing=finite_or_null(row.preprocessing),
            versions=finite_or_null(row.versions),
            geometry=finite_or_null(row.heatmap_geometry),
        )
    return out


def _model(model: DetectorModel | None) -> ModelView:
    if model is None:
        return ModelView(None, None, None, None, None)
    published = _mapping(model.details).get("published_match")
    return ModelView(model.name, model.sha256, model.format, model.source, _text(published))
