"""UTC timestamps in one textual form: ISO 8601 with microseconds and a ``Z`` suffix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    """``2026-11-24T21:10:59.123456Z``; naive datetimes are taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def iso_seconds(moment: datetime) -> str:
    """Second precision, keeping the moment's own offset (for display and reports)."""
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_zone() -> tuple[str, int]:
    """The machine's time zone as (name, offset minutes east of UTC) right now."""
    now = datetime.now().astimezone()
    offset = now.utcoffset() or timedelta(0)
    name = now.tzname() or "UTC"
    return name, int(offset.total_seconds() // 60)


def fixed_zone(offset_minutes: int) -> timezone:
    return timezone(timedelta(minutes=offset_minutes))


def format_offset(offset_minutes: int) -> str:
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"
