"""The normalised fields from every source, each from the first that has it, and where
it came from (the export's ``metadata.sources``).

The order follows ExifTool's reading of the same file, so that an examiner comparing the
two sees the same values: EXIF first, then XMP, then a decoded maker note, then IPTC's
creation date and time, then PNG text; the program named by XMP's CreatorTool comes last
for the software (ExifTool calls it CreatorTool, not Software).
"""

from __future__ import annotations

from typing import Any

EXIF, XMP, MAKER_NOTE, IPTC, PNG = "EXIF", "XMP", "MakerNote", "IPTC", "PNG"

KEYS = (
    "camera_make",
    "camera_model",
    "software",
    "datetime_original",
    "datetime_original_offset",
    "datetime_digitized",
    "datetime_modified",
    "orientation",
    "gps_latitude",
    "gps_longitude",
    "gps_altitude_m",
    "gps_time_utc",
)
# Fields that only mean something together, taken together from one source (a time with
# another source's offset, or a latitude with another's longitude, would be a new fact).
LINKED = (
    ("datetime_original", "datetime_original_offset"),
    ("gps_latitude", "gps_longitude"),
)


def combine(
    candidates: list[tuple[str, dict[str, Any]]],
) -> tuple[dict[str, Any], dict[str, str]]:
    """Every normalised field (None where no source has it), each from the first of
    ``candidates`` (source name, its fields) that has it; and the source of each value."""
    out: dict[str, Any] = dict.fromkeys(KEYS)
    sources: dict[str, str] = {}
    linked = {key: group for group in LINKED for key in group}
    for source, fields in candidates:
        for key, value in fields.items():
            group = linked.get(key, (key,))
            if value is None or key not in out or any(k in sources for k in group):
                continue
            for k in group:
                if fields.get(k) is not None:
                    out[k], sources[k] = fields[k], source
    return out, sources


def legacy_sources(metadata: dict[str, Any]) -> dict[str, str]:
    """The sources of an item imported before sources were recorded: its normalised
    fields were then read from EXIF only."""
    return {key: EXIF for key in KEYS if metadata.get(key) is not None}
