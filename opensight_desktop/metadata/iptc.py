"""IPTC-IIM records (JPEG APP13 Photoshop resource, TIFF tag 33723), read by Pillow.

Only the datasets an examiner reads are kept, as text: creation date and time (ExifTool
makes its DateTimeOriginal from them when EXIF and XMP have none), the program, the
people and the captions (searched for generator names).
"""

from __future__ import annotations

import re
from typing import Any

from PIL import IptcImagePlugin

from opensight_desktop.evidence.decode import open_image
from opensight_desktop.metadata.exif import iso_datetime
from opensight_desktop.metadata.values import printable

DATASETS = {
    (2, 5): "ObjectName",
    (2, 25): "Keywords",
    (2, 55): "DateCreated",
    (2, 60): "TimeCreated",
    (2, 62): "DigitalCreationDate",
    (2, 63): "DigitalCreationTime",
    (2, 65): "OriginatingProgram",
    (2, 70): "ProgramVersion",
    (2, 80): "By-line",
    (2, 105): "Headline",
    (2, 110): "Credit",
    (2, 115): "Source",
    (2, 116): "CopyrightNotice",
    (2, 120): "Caption-Abstract",
}
VALUE_LIMIT = 2000
_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIME = re.compile(r"^(\d{2})(\d{2})(\d{2})(?:([+-])(\d{2})(\d{2}))?$")


def has_iptc_marker(region: bytes) -> bool:
    """Whether a JPEG's header segments hold a Photoshop IPTC resource (cheap pre-check)."""
    return b"8BIM\x04\x04" in region


def read_iptc(data: bytes, sniffed: str) -> dict[str, str]:
    """The kept datasets as text; {} when the file has none. Raises on a damaged block
    (the caller records the problem)."""
    with open_image(data, sniffed) as image:
        info = IptcImagePlugin.getiptcinfo(image) or {}
    utf8 = info.get((1, 90)) == b"\x1b%G"  # CodedCharacterSet: ESC % G is UTF-8
    out: dict[str, str] = {}
    for key, name in DATASETS.items():
        value = info.get(key)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        texts = [_decode(v, utf8) for v in values if isinstance(v, bytes)]
        text = "; ".join(t for t in texts if t)
        if text:
            out[name] = printable(text, VALUE_LIMIT)
    return out


def _decode(value: bytes, utf8: bool) -> str:
    if utf8:
        return value.decode("utf-8", errors="replace")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def iptc_fields(iptc: dict[str, str]) -> dict[str, Any]:
    """DateCreated + TimeCreated as the capture time, as ExifTool's composite
    DateTimeOriginal takes them (both must be present)."""
    date = _DATE.match(iptc.get("DateCreated", "").strip())
    time = _TIME.match(iptc.get("TimeCreated", "").strip())
    if not date or not time:
        return {}
    hour, minute, second, sign, off_h, off_m = time.groups()
    value = iso_datetime(f"{date[1]}:{date[2]}:{date[3]} {hour}:{minute}:{second}")
    if value is None:
        return {}
    return {
        "datetime_original": value,
        "datetime_original_offset": f"{sign}{off_h}:{off_m}" if sign else None,
    }
