"""Exports for other tools: Project VIC VICS JSON 2.0, and KML and GeoJSON of located items.

VICS: one case (``value[0]``, CaseID = the case's uuid) whose ``Media`` are the items with
an MD5: hashes, size, relative path, the category (the item's own, else the one its review
state maps to, settings.vics_categories), tags, and the detector's verdict and probability
and the review state in ``Comments``. Field names are the VICS 2.0 data model's
(hashsets/vics.py MEDIA_FIELDS; a test checks every key written).

GeoJSON (RFC 7946): a FeatureCollection of Points, coordinates [longitude, latitude] in
WGS 84. KML 2.2: a Placemark per item, coordinates "longitude,latitude". Only items
whose GPS position is a finite latitude in [-90, 90] and longitude in [-180, 180] are
written; the others are counted as not located.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import select
from sqlalchemy.orm import Session

from opensight_desktop import APP_NAME, __version__
from opensight_desktop.case.models import EvidenceFile, ImportSession
from opensight_desktop.case.similar import similar_groups
from opensight_desktop.case.states import REVIEW_STATES, ReviewState
from opensight_desktop.case.views import CaseView, ItemView, case_view, item_views
from opensight_desktop.hashsets.vics import CONTEXT_2_0
from opensight_desktop.textsafe import visible
from opensight_desktop.timeutil import iso_utc, utc_now

# Review state -> VICS category for items without a category of their own. The review
# states record what the AI-image review found, not what any VICS category means, so every
# state maps to 0 (uncategorised) unless the examiner's agency sets its own mapping
# (settings.vics_categories); the review state itself goes out in the record's Comments.
DEFAULT_VICS_CATEGORIES: dict[str, int] = {state.value: 0 for state in ReviewState}


def category_map(overrides: Mapping[str, int] | None) -> dict[str, int]:
    return {**DEFAULT_VICS_CATEGORIES, **(overrides or {})}


MIME_TYPES = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "TIFF": "image/tiff",
    "BMP": "image/bmp",
    "HEIF": "image/heif",
    "AVIF": "image/avif",
}


# -- VICS ----------------------------------------------------------------------------------


def _import_roots(session: Session) -> dict[int, list[str]]:
    """{import session id: the folders it imported, longest first}."""
    roots: dict[int, list[str]] = {}
    for session_id, sources in session.execute(select(ImportSession.id, ImportSession.sources)):
        folders = [s for s in (sources or []) if isinstance(s, str)]
        roots[session_id] = sorted(folders, key=len, reverse=True)
    return roots


def _first_sessions(session: Session) -> dict[int, int]:
    """{item id: the import session that found its first location}."""
    out: dict[int, int] = {}
    for item_id, session_id in session.execute(
        select(EvidenceFile.item_id, EvidenceFile.import_session_id).order_by(EvidenceFile.id)
    ):
        out.setdefault(item_id, session_id)
    return out


def relative_path(path: str, roots: list[str]) -> str:
    """The path below the imported folder it was found in (the parent folder's name kept,
    as VICS tools show it), with Windows separators as VICS files write them."""
    for root in roots:
        parent = os.path.dirname(root.rstrip(os.sep)) or root
        if path.startswith(root.rstrip(os.sep) + os.sep) or path == root:
            return os.path.relpath(path, parent).replace(os.sep, "\\")
    return os.path.basename(path)


def vics_media(
    item: ItemView, roots: list[str], categories: Mapping[str, int], exported: str
) -> dict[str, Any] | None:
    if not item.md5:
        return None  # unreadable file: nothing for another tool to match
    category = item.review.vics_category
    if category is None:
        category = categories.get(item.review.state, 0)
    comments = [f"OpenSight review: {REVIEW_STATES.get(item.review.state, item.review.state)}."]
    if item.detection is not None:
        probability = item.detection.probability
        shown = "unknown" if probability is None else f"{probability:.4f}"
        comments.append(
            f"AI-image detector ({item.detection.model.name}): verdict "
            f"{item.detection.verdict}, P(generated) {shown}."
        )
    else:
        comments.append("AI-image detector: not analysed.")
    if item.similar_group is not None:
        comments.append(f"Near-duplicate stack {item.similar_group}.")
    media: dict[str, Any] = {
        "MediaID": item.id,
        "Category": category,
        "MD5": item.md5.upper(),
        "SHA1": (item.sha1 or "").upper(),
        "MediaSize": item.size_bytes,
        "RelativeFilePath": relative_path(item.path or "", roots),
        "MimeType": MIME_TYPES.get(item.format or "", "application/octet-stream"),
        "DateUpdated": exported,
        "Tags": ", ".join(item.review.tags),
        "Comments": " ".join(comments),
        "MediaFiles": [
            {
                "MD5": item.md5.upper(),
                "FileName": location.file_name,
                "FilePath": location.path,
            }
            for location in item.locations
        ],
    }
    return media


def vics_document(
    session: Session, categories: Mapping[str, int], threshold: int
) -> dict[str, Any]:
    about = case_view(session)
    roots = _import_roots(session)
    groups = similar_groups(session, threshold)
    exported = iso_utc(utc_now())
    sessions = _first_sessions(session)
    media: list[dict[str, Any]] = []
    for item in item_views(session, groups=groups):
        record = vics_media(item, roots.get(sessions.get(item.id, -1), []), categories, exported)
        if record is not None:
            media.append(record)
    return {
        "@odata.context": CONTEXT_2_0,
        "value": [
            {
                "CaseID": about.uuid,
                "CaseNumber": about.number,
                "SourceApplicationName": f"{APP_NAME} {__version__}",
                "TotalMediaFiles": len(media),
                "Media": media,
            }
        ],
    }


# -- located items -------------------------------------------------------------------------


def _position(item: ItemView) -> tuple[float, float, float | None] | None:
    lat, lon = item.metadata.gps_latitude, item.metadata.gps_longitude
    if lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    alt = item.metadata.gps_altitude_m
    return lat, lon, alt if alt is not None and math.isfinite(alt) else None


def _properties(item: ItemView) -> dict[str, Any]:
    detection = item.detection
    return {
        "id": item.id,
        "file_name": item.file_name,
        "path": item.path,
        "sha256": item.sha256,
        "datetime_original": item.metadata.datetime_original,
        "camera_make": item.metadata.camera_make,
        "camera_model": item.metadata.camera_model,
        "verdict": detection.verdict if detection else None,
        "probability_fake": detection.probability if detection else None,
        "review_state": item.review.state,
    }


def located(
    session: Session,
) -> tuple[list[tuple[ItemView, tuple[float, float, float | None]]], int]:
    """(items with a valid position and it, count of items without one)."""
    found = []
    missing = 0
    for item in item_views(session):
        position = _position(item)
        if position is None:
            missing += 1
        else:
            found.append((item, position))
    return found, missing


def geojson_document(session: Session) -> tuple[dict[str, Any], int, int]:
    items, missing = located(session)
    features = []
    for item, (lat, lon, alt) in items:
        coordinates = [lon, lat] if alt is None else [lon, lat, alt]
        features.append(
            {
                "type": "Feature",
                "id": item.id,
                "geometry": {"type": "Point", "coordinates": coordinates},
                "properties": _properties(item),
            }
        )
    return {"type": "FeatureCollection", "features": features}, len(features), missing


def _xml_text(value: object) -> str:
    """Text safe in XML 1.0: hidden and control characters as ⟨U+XXXX⟩ (XML cannot hold
    most controls at all), then escaped."""
    return escape(visible(str(value)))


def kml_text(session: Session, about: CaseView | None = None) -> tuple[str, int, int]:
    about = about or case_view(session)
    items, missing = located(session)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<kml xmlns="http://www.opengis.net/kml/2.2">',
        "<Document>",
        f"<name>{_xml_text(f'Case {about.number}: located items')}</name>",
    ]
    for item, (lat, lon, alt) in items:
        properties = _properties(item)
        coordinates = f"{lon!r},{lat!r}" + ("" if alt is None else f",{alt!r}")
        data = "".join(
            f"<Data name={quoteattr(key)}><value>{_xml_text('' if value is None else value)}"
            "</value></Data>"
            for key, value in properties.items()
        )
        lines += [
            f"<Placemark id={quoteattr(f'item-{item.id}')}>",
            f"<name>{_xml_text(item.file_name or f'item {item.id}')}</name>",
            f"<ExtendedData>{data}</ExtendedData>",
            f"<Point><coordinates>{coordinates}</coordinates></Point>",
            "</Placemark>",
        ]
    lines += ["</Document>", "</kml>", ""]
    return "\n".join(lines), len(items), missing


def geojson_text(session: Session) -> tuple[str, int, int]:
    document, count, missing = geojson_document(session)
    return json.dumps(document, ensure_ascii=False, indent=1, allow_nan=False), count, missing
