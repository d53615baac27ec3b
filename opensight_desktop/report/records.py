"""One description of an evidence item for every output (JSON, CSV, PDF, GUI export).

The dictionary follows the JSON export contract (shared DESIGN.md section 6); fields
beyond the contract are additions, never renames.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from opensight_desktop import APP_NAME, __version__
from opensight_desktop.case.models import CaseInfo, DetectionResult, EvidenceItem
from opensight_desktop.case.queries import current_result_ids
from opensight_desktop.detector.geometry import scoring_note_of
from opensight_desktop.metadata.extract import CONTRACT_FIELDS
from opensight_desktop.metadata.fields import legacy_sources
from opensight_desktop.timeutil import iso_utc

EXPORT_SCHEMA = "opensight-export/1"

EMPTY_METADATA: dict[str, Any] = {**dict.fromkeys(CONTRACT_FIELDS), "exif": {}, "sources": {}}


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


def case_record(info: CaseInfo) -> dict[str, Any]:
    return finite_or_null(
        {
            "number": info.number,
            "title": info.title,
            "examiner": info.examiner,
            "created_utc": iso_utc(info.created_utc),
            "agency": info.agency,
            "description": info.description,
            "time_zone": info.tz_name,
            "time_zone_offset_minutes": info.tz_offset_minutes,
            "uuid": info.uuid,
        }
    )


def app_record() -> dict[str, str]:
    return {"name": APP_NAME, "version": __version__}


def _latest_results(session: Session) -> dict[int, DetectionResult]:
    query = (
        select(DetectionResult)
        .options(selectinload(DetectionResult.model))
        .where(DetectionResult.id.in_(current_result_ids()))
    )
    return {result.item_id: result for result in session.scalars(query)}


def detection_record(result: DetectionResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    upscale, scoring_note = scoring_note_of(result.heatmap_geometry)
    return {
        "probability_fake": result.probability,
        "verdict": result.verdict,
        "model_name": result.model.name,
        "model_sha256": result.model.sha256,
        "device": result.device,
        "analyzed_utc": iso_utc(result.analyzed_utc),
        "logit": result.logit,
        "precision": result.precision,
        "thresholds": result.thresholds,
        "preprocessing": result.preprocessing,
        "versions": result.versions,
        # how many times the image was enlarged to the model's input; a note when it was
        # smaller than that input (issue 14)
        "upscale": upscale,
        "scoring_note": scoring_note,
    }


def item_record(item: EvidenceItem, result: DetectionResult | None) -> dict[str, Any]:
    primary = item.files[0] if item.files else None
    meta = item.metadata_row
    metadata = dict(EMPTY_METADATA)
    if meta is not None:
        metadata.update(
            camera_make=meta.camera_make,
            camera_model=meta.camera_model,
            datetime_original=meta.datetime_original,
            software=meta.software,
            orientation=meta.orientation,
            gps_latitude=meta.gps_latitude,
            gps_longitude=meta.gps_longitude,
            exif=meta.exif,
        )
        metadata.update(meta.extra)
        if "sources" not in meta.extra:  # imported before sources were recorded
            metadata["sources"] = legacy_sources(metadata)
    return finite_or_null(
        {
            "id": item.id,
            "path": primary.path if primary else None,
            "file_name": primary.file_name if primary else None,
            "size_bytes": item.size_bytes,
            "md5": item.md5,
            "sha1": item.sha1,
            "sha256": item.sha256,
            "status": item.status,
            "error": item.error,
            "format": item.format,
            "width": item.width,
            "height": item.height,
            "metadata": metadata,
            "detection": detection_record(result),
            "flags": [flag.code for flag in item.flags],
            # additions to the contract
            "flag_explanations": {flag.code: flag.explanation for flag in item.flags},
            "mode": item.mode,
            "frames": item.frames,
            "duplicate_paths": [f.path for f in item.files[1:]],
            "file_times_ns": {
                "modified": primary.mtime_ns if primary else None,
                "changed": primary.ctime_ns if primary else None,
                "accessed": primary.atime_ns if primary else None,
            },
            "added_utc": iso_utc(item.added_utc),
            "review": {
                "state": item.review_state,
                "notes": item.notes,
                "tags": [tag.tag for tag in item.tags],
            },
        }
    )


def item_records(session: Session, item_ids: list[int] | None = None) -> Iterator[dict[str, Any]]:
    latest = _latest_results(session)
    query = (
        select(EvidenceItem)
        .options(
            selectinload(EvidenceItem.files),
            selectinload(EvidenceItem.tags),
            selectinload(EvidenceItem.flags),
            selectinload(EvidenceItem.metadata_row),
        )
        .order_by(EvidenceItem.id)
    )
    if item_ids is not None:
        query = query.where(EvidenceItem.id.in_(item_ids))
    for item in session.scalars(query):
        yield item_record(item, latest.get(item.id))
