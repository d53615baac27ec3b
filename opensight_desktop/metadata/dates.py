"""The recorded times of a file checked against each other.

Contradictions (a time that cannot be right if the others are) are told apart from the
ordinary later save: a camera original opened and saved again by software has a
ModifyDate after its capture time, which says only that it was saved again.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

SAME_SECONDS = 2  # times written by one device within this are the same moment
LATER_SAVE_SECONDS = 60
# An offset's time and GPS time further apart than this cannot both be right (the smallest
# difference between two time zones is 15 minutes).
GPS_SLACK = timedelta(minutes=15)
ZONE_SLACK = timedelta(hours=14, minutes=2)  # any zone's offset, plus clock slack
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_GPS_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$")


def _local(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _offset(text: str | None) -> timedelta | None:
    match = _OFFSET.match(text or "")
    if not match:
        return None
    sign = 1 if match.group(1) == "+" else -1
    return sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))


def _span(delta: timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes else []
    return " ".join(parts) or f"{seconds} s"


def contradictions(
    normalised: dict[str, Any],
    xmp_capture: tuple[str | None, str | None] = (None, None),
    file_mtime_ns: int | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Times that cannot all be right. ``xmp_capture``: XMP's capture time and offset
    (compared with EXIF's when both are present)."""
    issues = []
    original = _local(normalised.get("datetime_original"))
    offset_text = normalised.get("datetime_original_offset")
    offset = _offset(offset_text)
    digitized = _local(normalised.get("datetime_digitized"))
    modified = _local(normalised.get("datetime_modified"))
    if original and digitized and (original - digitized).total_seconds() > SAME_SECONDS:
        issues.append(
            f"digitised ({digitized.isoformat()}) before it was taken ({original.isoformat()})"
        )
    if original and modified and (original - modified).total_seconds() > LATER_SAVE_SECONDS:
        issues.append(f"ModifyDate {modified.isoformat()} is before capture {original.isoformat()}")
    now = now or datetime.now(UTC)
    if original and original > now.replace(tzinfo=None) + ZONE_SLACK:
        issues.append(f"taken in the future ({original.isoformat()})")
    gps_text = normalised.get("gps_time_utc") or ""
    if original and offset is not None and _GPS_TIME.match(gps_text):
        gps = datetime.fromisoformat(gps_text[:19])
        utc = original - offset
        if abs(utc - gps) > GPS_SLACK:
            issues.append(
                f"capture time {original.isoformat()}{offset_text} is {utc.isoformat()} UTC, "
                f"{_span(utc - gps)} from the GPS time {gps.isoformat()} UTC"
            )
    xmp_time, xmp_offset_text = xmp_capture
    xmp_original = _local(xmp_time)
    if original and xmp_original:
        xmp_offset = _offset(xmp_offset_text)
        if offset is not None and xmp_offset is not None:
            apart = (original - offset) - (xmp_original - xmp_offset)
        else:  # a zone is missing: compare the clock times as written
            apart = original - xmp_original
        if abs(apart.total_seconds()) > SAME_SECONDS:
            issues.append(
                f"EXIF capture time {original.isoformat()}{offset_text or ''} and XMP "
                f"{xmp_original.isoformat()}{xmp_offset_text or ''} differ by {_span(apart)}"
            )
    if original and file_mtime_ns:
        file_time = datetime.fromtimestamp(file_mtime_ns / 1e9, UTC).replace(tzinfo=None)
        if offset is not None:
            captured, slack = original - offset, timedelta(minutes=2)
        else:  # local time of unknown zone: allow any zone's offset
            captured, slack = original, ZONE_SLACK
        if file_time < captured - slack:
            issues.append(
                f"the file was last modified ({file_time.isoformat(timespec='seconds')}Z)"
                f" before the picture was taken ({original.isoformat()}"
                f"{offset_text or ', zone unknown'})"
            )
    return issues


def later_save(normalised: dict[str, Any]) -> str | None:
    """The file's ModifyDate after its capture time, told as what it is."""
    original = _local(normalised.get("datetime_original"))
    modified = _local(normalised.get("datetime_modified"))
    if not original or not modified:
        return None
    delta = modified - original
    if delta.total_seconds() <= LATER_SAVE_SECONDS:
        return None
    return (
        f"ModifyDate {modified.isoformat()} is {_span(delta)} after the capture time "
        f"{original.isoformat()}: the file was saved again after it was taken (by software, "
        "or by the camera's own editing). This alone is no contradiction."
    )
