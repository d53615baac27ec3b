"""JSON and CSV exports of a case, written atomically."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from opensight_desktop.case import audit
from opensight_desktop.case.output_guard import check_output, checked_output
from opensight_desktop.case.similar import similar_groups
from opensight_desktop.case.store import Case
from opensight_desktop.case.views import case_view
from opensight_desktop.errors import UsageError
from opensight_desktop.metadata.extract import CONTRACT_FIELDS
from opensight_desktop.report import exchange
from opensight_desktop.report.records import (
    EXPORT_SCHEMA,
    app_record,
    audit_head_record,
    case_record,
    item_records,
)
from opensight_desktop.settings import load_settings
from opensight_desktop.textsafe import escape_hidden_in_json, visible
from opensight_desktop.timeutil import iso_utc, utc_now

FORMATS = ("json", "csv", "vics", "kml", "geojson")
EXCHANGE_FORMATS = ("vics", "kml", "geojson")
ITEM_FIELDS = (
    "id",
    "path",
    "file_name",
    "size_bytes",
    "md5",
    "sha1",
    "sha256",
    "status",
    "error",
    "format",
    "width",
    "height",
)
DETECTION_FIELDS = (
    "probability_fake",
    "verdict",
    "model_name",
    "model_sha256",
    "device",
    "analyzed_utc",
)
CSV_COLUMNS = [
    *ITEM_FIELDS,
    *CONTRACT_FIELDS,
    *DETECTION_FIELDS,
    "flags",
    "review_state",
    "tags",
    "notes",
    "duplicate_paths",
    "model_published_release",  # added last: earlier columns keep their places
    "hashset_hits",
    "similar_group",
    "vics_category",
]
# Names are shown with every hidden character as ⟨U+XXXX⟩ (textsafe), line breaks included;
# other text keeps its line breaks and tabs (multi-line notes).
_NAME_COLUMNS = frozenset({"path", "file_name", "duplicate_paths"})

# Spreadsheet programs run cells starting with these as formulas (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A program whose locale splits at ";" (or at tabs) also runs the part after a separator:
# a quote goes before a formula character that follows one (or leading blanks).
_FORMULA_AFTER_SEPARATOR = re.compile(r"(?:^\s+|[,;\t\r\n]\s*)(?=[=+\-@])")


def export_document(case: Case) -> dict[str, Any]:
    threshold = load_settings().similar_threshold
    with case.read() as session:
        about = case_view(session)
        groups = similar_groups(session, threshold)
        return {
            "schema": EXPORT_SCHEMA,
            "app": app_record(),
            "case": case_record(about),
            "exported_utc": iso_utc(utc_now()),
            "audit_head": audit_head_record(about),
            "similar_threshold_bits": threshold,
            "items": list(item_records(session, groups=groups)),
        }


def csv_row(record: dict[str, Any]) -> dict[str, object]:
    meta = record["metadata"]
    detection = record["detection"] or {}
    row = {
        **{key: record[key] for key in ITEM_FIELDS},
        **{key: meta.get(key) for key in CONTRACT_FIELDS},
        **{key: detection.get(key) for key in DETECTION_FIELDS},
        "flags": "; ".join(record["flags"]),
        "review_state": record["review"]["state"],
        "tags": "; ".join(record["review"]["tags"]),
        "notes": record["review"]["notes"],
        "duplicate_paths": "; ".join(record["duplicate_paths"]),
        "model_published_release": detection.get("model_published_release"),
        "hashset_hits": "; ".join(_hit_text(hit) for hit in record["hashset_hits"]),
        "similar_group": record["similar_group"],
        "vics_category": record["review"]["vics_category"],
    }
    return {key: _csv_safe(value, key in _NAME_COLUMNS) for key, value in row.items()}


def _hit_text(hit: dict[str, Any]) -> str:
    category = f", category {hit['category']}" if hit["category"] else ""
    return f"{hit['set']} ({hit['kind']}{category})"


def _csv_safe(value: object, name: bool = False) -> object:
    """Text a spreadsheet shows as text, never runs: the JSON export keeps exact values.

    Hidden characters are shown as ⟨U+XXXX⟩; line breaks and tabs stay in free text.
    """
    if not isinstance(value, str):
        return "" if value is None else value
    value = visible(value, keep="" if name else "\n\r\t")
    value = _FORMULA_AFTER_SEPARATOR.sub(lambda match: match.group(0) + "'", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def export_case(case: Case, fmt: str, output: str | Path) -> int:
    """Write the export; returns the number of items. Audit-logged with the file's hash.

    The output is checked before any work: it never replaces evidence or the case.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r} (use {', '.join(FORMATS)})")
    output = check_output(case, output, "export")
    if fmt in EXCHANGE_FORMATS:
        count = _write_exchange(case, fmt, output)
        _record(case, fmt, output, count)
        return count
    document = export_document(case)
    if fmt == "json":
        # allow_nan=False: always valid JSON (the records hold no NaN or infinity). Hidden
        # characters in names (and any other text) as \u escapes: visible in the file, the
        # true values once parsed.
        text = json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False)
        with checked_output(case, output, "export") as handle:
            handle.write(escape_hidden_in_json(text).encode("utf-8"))
    else:
        with checked_output(case, output, "export", "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            for record in document["items"]:
                writer.writerow(csv_row(record))
    _record(case, fmt, output, len(document["items"]))
    return len(document["items"])


def _record(case: Case, fmt: str, output: Path, count: int) -> None:
    digest = hashlib.sha256(output.read_bytes()).hexdigest()
    if case.read_only:  # nothing can be recorded; the CLI and GUI say so
        return
    with case.write() as session:
        audit.append(
            session,
            "case.exported",
            {"format": fmt, "path": str(output), "items": count, "sha256": digest},
        )


def _write_exchange(case: Case, fmt: str, output: Path) -> int:
    """VICS, KML or GeoJSON; returns the number of items written."""
    settings = load_settings()
    with case.read() as session:
        if fmt == "vics":
            document = exchange.vics_document(
                session,
                exchange.category_map(settings.vics_categories),
                settings.similar_threshold,
            )
            count = len(document["value"][0]["Media"])
            text = json.dumps(document, ensure_ascii=False, indent=1, allow_nan=False)
            text = escape_hidden_in_json(text)
        elif fmt == "geojson":
            text, count, _ = exchange.geojson_text(session)
            text = escape_hidden_in_json(text)
        else:
            text, count, _ = exchange.kml_text(session)
    with checked_output(case, output, "export") as handle:
        handle.write(text.encode("utf-8"))
    return count
