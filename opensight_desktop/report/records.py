"""The export contract's dictionaries, made from the read model (case/views.py): the JSON
export writes them as they are, the CSV export flattens them.

The dictionaries follow the JSON export contract (docs/CONTRACTS.md section 3);
fields beyond the contract are additions, never renames.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from opensight_desktop import APP_NAME, __version__
from opensight_desktop.case.views import (
    CaseView,
    DetectionView,
    ItemView,
    finite_or_null,
    item_views,
)
from opensight_desktop.detector.geometry import scoring_note_of
from opensight_desktop.detector.store import published_release
from opensight_desktop.metadata.fields import legacy_sources
from opensight_desktop.timeutil import iso_utc

EXPORT_SCHEMA = "opensight-export/1"


def app_record() -> dict[str, str]:
    return {"name": APP_NAME, "version": __version__}


def case_record(case: CaseView) -> dict[str, Any]:
    record: dict[str, Any] = finite_or_null(
        {
            "number": case.number,
            "title": case.title,
            "examiner": case.examiner,
            "created_utc": iso_utc(case.created_utc),
            "agency": case.agency,
            "description": case.description,
            "time_zone": case.tz_name,
            "time_zone_offset_minutes": case.tz_offset_minutes,
            "uuid": case.uuid,
        }
    )
    return record


def audit_head_record(case: CaseView) -> dict[str, Any]:
    return {"entries": case.audit_entries, "sha256": case.audit_sha256}


def detection_record(detection: DetectionView | None) -> dict[str, Any] | None:
    if detection is None:
        return None
    upscale, scoring_note = scoring_note_of(detection.geometry)
    return {
        "probability_fake": detection.probability,
        "verdict": detection.verdict,
        "model_name": detection.model.name,
        "model_sha256": detection.model.sha256,
        "device": detection.device,
        "analyzed_utc": iso_utc(detection.analyzed_utc),
        "logit": detection.logit,
        "precision": detection.precision,
        "thresholds": detection.thresholds,
        "preprocessing": detection.preprocessing,
        "versions": detection.versions,
        # how many times the image was enlarged to the model's input, and a note when it
        # was smaller than that input
        "upscale": upscale,
        "scoring_note": scoring_note,
        # the published release the weights are (decided from their SHA-256), else null:
        # the published accuracy figures do not apply to the score
        "model_published_release": published_release(detection.model.sha256),
        # the host that computed it (a cluster node, or this workstation); null if unknown
        "node": detection.node,
    }


def metadata_record(item: ItemView) -> dict[str, Any]:
    metadata = dict(item.metadata.fields)
    if "sources" not in metadata:  # imported before sources were recorded: EXIF only
        metadata["sources"] = legacy_sources(metadata)
    return metadata


def item_record(item: ItemView) -> dict[str, Any]:
    """The item as the export contract describes it (the one place that says how)."""
    primary = item.primary
    record: dict[str, Any] = finite_or_null(
        {
            "id": item.id,
            "path": item.path,
            "file_name": item.file_name,
            "size_bytes": item.size_bytes,
            "md5": item.md5,
            "sha1": item.sha1,
            "sha256": item.sha256,
            "status": item.status,
            "error": item.error,
            "format": item.format,
            "width": item.width,
            "height": item.height,
            "metadata": metadata_record(item),
            "detection": detection_record(item.detection),
            "flags": [flag.code for flag in item.flags],
            # additions to the contract
            "flag_explanations": {flag.code: flag.explanation for flag in item.flags},
            "mode": item.mode,
            "frames": item.frames,
            "duplicate_paths": list(item.duplicate_paths),
            "file_times_ns": {
                "modified": primary.modified_ns if primary else None,
                "changed": primary.changed_ns if primary else None,
                "accessed": primary.accessed_ns if primary else None,
            },
            "added_utc": iso_utc(item.added_utc),
            "review": {
                "state": item.review.state,
                "notes": item.review.notes,
                "tags": list(item.review.tags),
                "vics_category": item.review.vics_category,
            },
            "hashset_hits": [
                {"set": hit.set, "kind": hit.kind, "category": hit.category, "hash": hit.hash}
                for hit in item.hashset_hits
            ],
            "similar_group": item.similar_group,
            "phash": item.phash,
        }
    )
    return record


def item_records(
    session: Session,
    item_ids: Sequence[int] | None = None,
    groups: Mapping[int, int] | None = None,
) -> Iterator[dict[str, Any]]:
    """The export dictionaries of the items (all, or these), in id order, streamed;
    ``groups`` names each item's near-duplicate stack (case/similar.py)."""
    for item in item_views(session, item_ids, groups):
        yield item_record(item)
