"""The case file's tables (SQLAlchemy 2 typed ORM).

The schema itself is owned by the Alembic migrations in ``case/migrations``; a test
compares these models with the migrated database so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from opensight_desktop.case.states import ReviewState
from opensight_desktop.timeutil import iso_utc, parse_iso


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as ISO 8601 UTC text: readable in any SQLite tool, sortable."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        return None if value is None else iso_utc(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> datetime | None:
        return None if value is None else parse_iso(value)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class CaseInfo(Base):
    """The single row describing the case (id is always 1)."""

    __tablename__ = "case_info"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36))
    number: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    examiner: Mapped[str] = mapped_column(Text)
    agency: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_utc: Mapped[datetime]
    tz_name: Mapped[str] = mapped_column(Text)
    tz_offset_minutes: Mapped[int] = mapped_column(Integer)
    created_by_version: Mapped[str] = mapped_column(String(32))
    # The head of the audit chain, so that removing the newest entries is detectable too.
    audit_head_seq: Mapped[int] = mapped_column(Integer, default=0)
    audit_head_hash: Mapped[str] = mapped_column(String(64))


class ImportSession(Base):
    __tablename__ = "import_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_utc: Mapped[datetime]
    finished_utc: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16))  # a RunState
    sources: Mapped[list[Any]]
    recursive: Mapped[bool] = mapped_column(Boolean)
    user: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(Text)
    files_seen: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    already_present: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)


class EvidenceItem(Base):
    """One distinct piece of content (unique SHA-256); where it was found is in EvidenceFile."""

    __tablename__ = "evidence_item"
    __table_args__ = (
        Index("ix_evidence_item_md5", "md5"),
        Index("ix_evidence_item_sha1", "sha1"),
        Index("ix_evidence_item_review_state", "review_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Null only when the file could not be read at all.
    sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    sha1: Mapped[str | None] = mapped_column(String(40))
    md5: Mapped[str | None] = mapped_column(String(32))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)  # an ItemStatus
    error: Mapped[str | None] = mapped_column(Text)
    error_stage: Mapped[str | None] = mapped_column(String(16))  # an ErrorStage
    format: Mapped[str | None] = mapped_column(String(16))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    mode: Mapped[str | None] = mapped_column(String(16))
    frames: Mapped[int | None] = mapped_column(Integer)
    added_utc: Mapped[datetime]
    import_session_id: Mapped[int] = mapped_column(ForeignKey("import_session.id"))
    review_state: Mapped[str] = mapped_column(String(32), default=ReviewState.NOT_REVIEWED)
    notes: Mapped[str] = mapped_column(Text, default="")
    # 64-bit DCT perceptual hash of the decoded pixels, 16 hex digits (evidence/phash.py);
    # None: not an image, or imported before perceptual hashes (``match`` fills it in).
    phash: Mapped[str | None] = mapped_column(String(16))
    # Project VIC / CAID category set by the examiner or a VICS import (None: not set; the
    # VICS export then maps the review state, settings.vics_categories).
    vics_category: Mapped[int | None] = mapped_column(Integer)

    files: Mapped[list[EvidenceFile]] = relationship(
        back_populates="item", order_by="EvidenceFile.id", cascade="all, delete-orphan"
    )
    tags: Mapped[list[ItemTag]] = relationship(cascade="all, delete-orphan", order_by="ItemTag.tag")
    metadata_row: Mapped[ItemMetadata | None] = relationship(cascade="all, delete-orphan")
    flags: Mapped[list[ItemFlag]] = relationship(
        cascade="all, delete-orphan", order_by="ItemFlag.id"
    )


class EvidenceFile(Base):
    """A path at which an item's content was found (the first one, then exact duplicates)."""

    __tablename__ = "evidence_file"
    __table_args__ = (
        Index("ix_evidence_file_path_raw", "path_raw"),
        Index("ix_evidence_file_path", "path"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_item.id"), index=True)
    import_session_id: Mapped[int] = mapped_column(ForeignKey("import_session.id"))
    # Display form (undecodable bytes escaped) and the exact bytes the OS uses.
    path: Mapped[str] = mapped_column(Text)
    path_raw: Mapped[bytes] = mapped_column(LargeBinary)
    file_name: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    mtime_ns: Mapped[int | None] = mapped_column(Integer)
    ctime_ns: Mapped[int | None] = mapped_column(Integer)
    atime_ns: Mapped[int | None] = mapped_column(Integer)
    is_duplicate: Mapped[bool] = mapped_column(Boolean, default=False)
    added_utc: Mapped[datetime]

    item: Mapped[EvidenceItem] = relationship(back_populates="files")


class Thumbnail(Base):
    __tablename__ = "thumbnail"

    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_item.id"), primary_key=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)


class SkippedFile(Base):
    """A file an import looked at and did not take (not an image, special file, ...)."""

    __tablename__ = "skipped_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_session_id: Mapped[int] = mapped_column(ForeignKey("import_session.id"), index=True)
    path: Mapped[str] = mapped_column(Text)
    path_raw: Mapped[bytes] = mapped_column(LargeBinary)
    reason: Mapped[str] = mapped_column(Text)


class ItemMetadata(Base):
    """Normalised metadata fields of the export contract, plus everything read, as JSON."""

    __tablename__ = "item_metadata"
    __table_args__ = (
        Index("ix_item_metadata_datetime_original", "datetime_original"),
        Index("ix_item_metadata_camera", "camera_make", "camera_model"),
    )

    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_item.id"), primary_key=True)
    camera_make: Mapped[str | None] = mapped_column(Text)
    camera_model: Mapped[str | None] = mapped_column(Text)
    datetime_original: Mapped[str | None] = mapped_column(String(32))
    software: Mapped[str | None] = mapped_column(Text)
    orientation: Mapped[int | None] = mapped_column(Integer)
    gps_latitude: Mapped[float | None] = mapped_column(Float)
    gps_longitude: Mapped[float | None] = mapped_column(Float)
    exif: Mapped[dict[str, Any]]
    extra: Mapped[dict[str, Any]]
    # What could not be read (the item keeps the rest).
    problems: Mapped[list[Any]]


class ItemFlag(Base):
    __tablename__ = "item_flag"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_item.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    explanation: Mapped[str] = mapped_column(Text)


class ItemTag(Base):
    __tablename__ = "item_tag"

    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_item.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(Text, primary_key=True)


class HashSet(Base):
    """A hash set that a match used, as it was then (the set lives in the data directory)."""

    __tablename__ = "hashset"
    __table_args__ = (UniqueConstraint("name", "source_sha256", name="uq_hashset_name_source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))  # known | alert
    format: Mapped[str] = mapped_column(String(16))  # nsrl | vics | list | csv
    source_sha256: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(Integer)
    imported_utc: Mapped[str] = mapped_column(String(32))


class HashSetHit(Base):
    """An item whose MD5, SHA-1 or SHA-256 is in a hash set."""

    __tablename__ = "hashset_hit"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_item.id"), index=True)
    hashset_id: Mapped[int] = mapped_column(ForeignKey("hashset.id"), index=True)
    hash_kind: Mapped[str] = mapped_column(String(8))  # md5 | sha1 | sha256
    category: Mapped[str | None] = mapped_column(Text)

    hashset: Mapped[HashSet] = relationship()


class DetectorModel(Base):
    """Provenance of a detector used in this case (the weights live in the model store)."""

    __tablename__ = "detector_model"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]]


class AnalysisRun(Base):
    """One run of the detector over (part of) the case."""

    __tablename__ = "analysis_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("detector_model.id"))
    started_utc: Mapped[datetime]
    finished_utc: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16))  # a RunState
    device: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]]
    user: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(Text)
    analyzed: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)


class DetectionResult(Base):
    __tablename__ = "detection_result"
    __table_args__ = (Index("ix_detection_result_item_model", "item_id", "model_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_item.id"))
    model_id: Mapped[int] = mapped_column(ForeignKey("detector_model.id"))
    probability: Mapped[float] = mapped_column(Float)
    logit: Mapped[float] = mapped_column(Float)
    verdict: Mapped[str] = mapped_column(String(32))
    thresholds: Mapped[dict[str, Any]]
    preprocessing: Mapped[dict[str, Any]]
    device: Mapped[str] = mapped_column(String(64))
    precision: Mapped[str] = mapped_column(String(16))
    versions: Mapped[dict[str, Any]]
    analyzed_utc: Mapped[datetime]
    analysis_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("analysis_run.id", name="fk_detection_result_analysis_run_id")
    )
    # Heatmap: float16 grid bytes plus where it lies on the original image.
    heatmap: Mapped[bytes | None] = mapped_column(LargeBinary)
    heatmap_geometry: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    model: Mapped[DetectorModel] = relationship()


class TileScan(Base):
    """Scores of 384-px tiles across the full-resolution image (on demand, one item)."""

    __tablename__ = "tile_scan"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("evidence_item.id"), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("detector_model.id"))
    created_utc: Mapped[datetime]
    tile_size: Mapped[int] = mapped_column(Integer)
    stride: Mapped[int] = mapped_column(Integer)
    # [[left, top, probability], ...] in original-image pixels
    tiles: Mapped[list[Any]]
    device: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]]


class AuditEntry(Base):
    """Append-only (enforced by triggers) and hash-chained (checked by ``verify``)."""

    __tablename__ = "audit_entry"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts_utc: Mapped[str] = mapped_column(String(32))
    user: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(Text)
    app_version: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64), index=True)
    item_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # Canonical JSON text, hashed exactly as stored.
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class SigningKey(Base):
    """An examiner's public key that signed this case's audit log (append-only, triggers)."""

    __tablename__ = "signing_key"

    # OpenSSH form, "SHA256:" + base64: ``ssh-keygen -lf`` prints the same for the key file.
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    # OpenSSH public key line, "ssh-ed25519 AAAA..."
    public_key: Mapped[str] = mapped_column(Text)
    user: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(Text)
    added_utc: Mapped[str] = mapped_column(String(32))


class AuditSignature(Base):
    """Ed25519 signature over the last entry of one write (append-only, triggers).

    The entry hash chains back to the first entry, so this one signature vouches for every
    entry before it. ``prev_seq`` (signed too) names the previous signature, so a removed
    one is noticed even in the middle of the log.
    """

    __tablename__ = "audit_signature"

    seq: Mapped[int] = mapped_column(
        ForeignKey("audit_entry.seq"), primary_key=True, autoincrement=False
    )
    prev_seq: Mapped[int] = mapped_column(Integer)
    key_fingerprint: Mapped[str] = mapped_column(ForeignKey("signing_key.fingerprint"))
    # base64 of the 64-byte signature
    signature: Mapped[str] = mapped_column(Text)
