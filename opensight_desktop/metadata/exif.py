"""EXIF via exifread (maker notes included where exifread decodes them), normalised.

exifread reads JPEG, TIFF, PNG (eXIf), WebP and HEIC. Whatever it cannot read is kept as
a problem line; what it could read is kept.
"""

from __future__ import annotations

import io
import logging
import re
import struct
from dataclasses import dataclass, field
from typing import Any

import exifread

from opensight_desktop.metadata.values import ints_to_bytes, printable, ratio

# exifread reports malformed files by logging; we record problems ourselves.
logging.getLogger("exifread").setLevel(logging.CRITICAL)

_DATETIME = re.compile(r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"^\s*([+-])(\d{2}):(\d{2})\s*$")
MAX_TAGS = 5000


@dataclass
class ExifData:
    tags: dict[str, str] = field(default_factory=dict)  # "<exifread tag name>" -> printable
    normalised: dict[str, Any] = field(default_factory=dict)
    thumbnail: bytes | None = None
    problems: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


def read_exif(data: bytes) -> ExifData:
    result = ExifData()
    try:
        tags = exifread.process_file(
            io.BytesIO(data), details=True, strict=False, extract_thumbnail=True
        )
    except Exception as exc:  # exifread raises many types on malformed data
        result.problems.append(f"EXIF could not be read ({type(exc).__name__}: {exc})")
        return result
    for name, tag in list(tags.items())[:MAX_TAGS]:
        if name == "JPEGThumbnail":
            if isinstance(tag, bytes | bytearray) and tag:
                result.thumbnail = bytes(tag)
            continue
        if name == "TIFFThumbnail":
            continue
        result.raw[name] = tag
        try:
            result.tags[name] = tag_text(tag)
        except Exception as exc:
            result.problems.append(f"EXIF tag {name} unreadable ({type(exc).__name__})")
    result.normalised = normalise(result.raw, result.problems)
    return result


def tag_text(tag: object) -> str:
    values = getattr(tag, "values", None)
    if isinstance(values, list):
        raw = ints_to_bytes(values)
        # UNDEFINED / BYTE fields (UserComment, MakerNote of unknown makers...) as text
        if raw is not None and getattr(tag, "field_type", None) in (1, 7) and len(raw) > 4:
            return printable(raw)
    if isinstance(values, bytes):
        return printable(values)
    return printable(tag)


def _first(raw: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in raw:
            return raw[name]
    return None


def _text(raw: dict[str, Any], *names: str) -> str | None:
    tag = _first(raw, *names)
    if tag is None:
        return None
    text = tag_text(tag).strip()
    return text or None


# exifread's groups for IFD0 and the Exif sub-IFD. Writers put tags in either (DALL-E puts
# UserComment in IFD0, some cameras DateTimeOriginal), and ExifTool reads them from both.
_MAIN_GROUPS = ("Image", "EXIF")
# Maker-note tags that name the camera model (exifread decodes them by the IFD0 Make)
_MAKER_MODEL_TAGS = ("MakerNote ModelID", "MakerNote SonyModelID")


def _in_groups(raw: dict[str, Any], name: str, groups: tuple[str, ...] = _MAIN_GROUPS) -> Any:
    return _first(raw, *(f"{group} {name}" for group in groups))


def _text_in_groups(
    raw: dict[str, Any], name: str, groups: tuple[str, ...] = _MAIN_GROUPS
) -> tuple[str | None, str | None]:
    """The text of the first of the groups' ``name`` tags, and that tag's full name."""
    for group in groups:
        text = _text(raw, f"{group} {name}")
        if text:
            return text, f"{group} {name}"
    return None, None


def normalise(raw: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "camera_make": _text_in_groups(raw, "Make")[0],
        "camera_model": _text_in_groups(raw, "Model")[0],
        "software": _text_in_groups(raw, "Software")[0],
        "datetime_original": None,
        "datetime_original_offset": None,
        "datetime_digitized": None,
        "datetime_modified": None,
        "orientation": None,
        "gps_latitude": None,
        "gps_longitude": None,
        "gps_altitude_m": None,
        "gps_time_utc": None,
    }
    for key, name, groups in (
        ("datetime_original", "DateTimeOriginal", ("EXIF", "Image")),
        ("datetime_digitized", "DateTimeDigitized", ("EXIF", "Image")),
        ("datetime_modified", "DateTime", ("Image", "EXIF")),
    ):
        text, tag_name = _text_in_groups(raw, name, groups)
        if text:
            out[key] = iso_datetime(text)
            if out[key] is None:
                problems.append(f"{tag_name} is not a valid date: {text!r}")
    offset, tag_name = _text_in_groups(raw, "OffsetTimeOriginal", ("EXIF", "Image"))
    if offset:
        out["datetime_original_offset"] = parse_offset(offset)
        if out["datetime_original_offset"] is None:
            problems.append(f"{tag_name} is not an offset: {offset!r}")
    orientation = _in_groups(raw, "Orientation")
    if orientation is not None:
        values = getattr(orientation, "values", None)
        value = values[0] if isinstance(values, list) and values else None
        if isinstance(value, int) and 1 <= value <= 8:
            out["orientation"] = value
        else:
            problems.append(f"Image Orientation out of range: {values!r}")
    out.update(_gps(raw, problems))
    return out


def maker_note_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """Normalised fields that only a decoded maker note gives: the model by its ID (Canon,
    Sony), named as exifread's table names it (sometimes several regional names); the
    software of a Phase One camera back (a maker note exifread does not decode)."""
    for name in _MAKER_MODEL_TAGS:
        text = _text(raw, name)
        # an ID missing from exifread's table is shown as its number: not a model name
        if text and any(ch.isalpha() for ch in text) and text.lower() != "unknown":
            return {"camera_model": text}
    note = _first(raw, "EXIF MakerNote")
    data = ints_to_bytes(getattr(note, "values", None) or [])
    software = phase_one_software(data) if data else None
    return {"software": software} if software else {}


_PHASE_ONE = re.compile(rb"^(IIII.waR|MMMMRaw.)", re.DOTALL)
_PHASE_ONE_SOFTWARE = 0x0203


def phase_one_software(note: bytes) -> str | None:
    """The Software entry (0x0203) of a Phase One maker note, read as ExifTool's PhaseOne
    module reads it: a header, the directory's offset at 8, then 16-byte entries (tag,
    format, size, value or offset). Anything out of bounds: None."""
    if len(note) < 12 or not _PHASE_ONE.match(note):
        return None
    endian = "<" if note[:2] == b"II" else ">"
    (start,) = struct.unpack_from(endian + "I", note, 8)
    if start + 8 > len(note):
        return None
    (count,) = struct.unpack_from(endian + "I", note, start)
    if not 2 <= count <= 300 or start + 8 + 16 * count > len(note):
        return None
    for index in range(count):
        tag, _format, size, value = struct.unpack_from(endian + "4I", note, start + 8 + 16 * index)
        if tag != _PHASE_ONE_SOFTWARE:
            continue
        if size <= 4:
            text = note[start + 8 + 16 * index + 12 :][:size]
        elif value + size <= len(note):
            text = note[value : value + size]
        else:
            return None
        return printable(text.split(b"\x00")[0]) or None
    return None


def parse_offset(text: str) -> str | None:
    """A UTC offset as written by EXIF ("+02:00") -> "+02:00"; None if it is not one."""
    match = _OFFSET.match(text)
    return f"{match.group(1)}{match.group(2)}:{match.group(3)}" if match else None


def iso_datetime(text: str) -> str | None:
    match = _DATETIME.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups())
    if not (
        1 <= month <= 12
        and 1 <= day <= 31
        and hour <= 23
        and minute <= 59
        and second <= 60
        and year >= 1800
    ):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"


def _dms(tag: object) -> float:
    values = getattr(tag, "values", None)
    if not isinstance(values, list) or not values or len(values) > 3:
        raise ValueError(f"expected degrees, minutes, seconds, got {values!r}")
    parts = [ratio(v) for v in values] + [0.0] * (3 - len(values))
    degrees = parts[0] + parts[1] / 60 + parts[2] / 3600
    return degrees


def _gps(raw: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for axis, limit, negative in (("Latitude", 90.0, "S"), ("Longitude", 180.0, "W")):
        tag = raw.get(f"GPS GPS{axis}")
        if tag is None:
            continue
        try:
            value = _dms(tag)
        except (ValueError, TypeError, ZeroDivisionError) as exc:
            problems.append(f"GPS {axis.lower()} unreadable ({exc})")
            continue
        reference = (_text(raw, f"GPS GPS{axis}Ref") or "").upper()[:1]
        if reference == negative:
            value = -value
        if not -limit <= value <= limit:
            problems.append(f"GPS {axis.lower()} out of range: {value}")
            continue
        out[f"gps_{axis.lower()}"] = round(value, 7)
    altitude = raw.get("GPS GPSAltitude")
    if altitude is not None:
        try:
            metres = ratio(altitude.values[0])
            ref = raw.get("GPS GPSAltitudeRef")
            ref_values = getattr(ref, "values", None) if ref is not None else None
            if isinstance(ref_values, list) and ref_values and ref_values[0] == 1:
                metres = -metres
            out["gps_altitude_m"] = round(metres, 3)
        except (ValueError, TypeError, IndexError, AttributeError, ZeroDivisionError) as exc:
            problems.append(f"GPS altitude unreadable ({exc})")
    stamp = raw.get("GPS GPSTimeStamp")
    if stamp is not None:
        try:
            hour, minute, second = (ratio(v) for v in stamp.values[:3])
            date = _text(raw, "GPS GPSDate")
            clock = f"{int(hour):02d}:{int(minute):02d}:{second:06.3f}".rstrip("0").rstrip(".")
            if date and re.match(r"^\d{4}:\d{2}:\d{2}$", date):
                out["gps_time_utc"] = f"{date.replace(':', '-')}T{clock}Z"
            else:
                out["gps_time_utc"] = clock
        except (ValueError, TypeError, IndexError, AttributeError, ZeroDivisionError) as exc:
            problems.append(f"GPS time unreadable ({exc})")
    return out
