"""Turning raw tag values into printable text and numbers, defensively."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

TEXT_LIMIT = 2000


def printable(value: object, limit: int = TEXT_LIMIT) -> str:
    """Text for any tag value: bytes as text when they are text, else a short hex preview."""
    if isinstance(value, bytes):
        return bytes_text(value, limit)
    text = str(value)
    text = text.replace("\x00", "").strip()
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def bytes_text(data: bytes, limit: int = TEXT_LIMIT) -> str:
    stripped = data.rstrip(b"\x00 ")
    for prefix in (b"ASCII\x00\x00\x00", b"UNICODE\x00", b"\x00" * 8):
        if stripped.startswith(prefix):
            stripped = stripped[len(prefix) :]
            if prefix == b"UNICODE\x00":
                try:
                    return printable(stripped.decode("utf-16"), limit)
                except UnicodeDecodeError:
                    pass
    try:
        text = stripped.decode("utf-8")
    except UnicodeDecodeError:
        text = stripped.decode("latin-1")
    if text and sum(ch.isprintable() or ch in "\r\n\t" for ch in text) >= 0.9 * len(text):
        return printable(text, limit)
    preview = data[:48].hex(" ")
    return f"({len(data)} bytes) {preview}" + (" ..." if len(data) > 48 else "")


def ints_to_bytes(values: Sequence[object]) -> bytes | None:
    octets = [v for v in values if isinstance(v, int) and 0 <= v < 256]
    return bytes(octets) if values and len(octets) == len(values) else None


def ratio(value: Any) -> float:
    """exifread Ratio / int / float -> float; ValueError on a zero denominator."""
    if hasattr(value, "num") and hasattr(value, "den"):
        if value.den == 0:
            raise ValueError("zero denominator")
        return value.num / value.den
    return float(value)
