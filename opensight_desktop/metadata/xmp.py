"""XMP packets (Adobe's RDF/XML metadata) found in any container, parsed safely.

defusedxml refuses entity expansion and external references, which hostile XMP could
otherwise use (billion-laughs, file reads). The packet is located by its markers in the
file's bytes, which works for JPEG APP1, PNG iTXt, WebP, TIFF, HEIF and others alike.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from opensight_desktop.metadata.exif import iso_datetime

XMP_LIMIT = 4 << 20
VALUE_LIMIT = 4000
MAX_PROPERTIES = 2000

PREFIXES = {
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://ns.adobe.com/xap/1.0/mm/": "xmpMM",
    "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#": "stEvt",
    "http://ns.adobe.com/xap/1.0/sType/ResourceRef#": "stRef",
    "http://iptc.org/std/Iptc4xmpExt/2008-02-29/": "Iptc4xmpExt",
    "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/": "Iptc4xmpCore",
    "http://ns.adobe.com/tiff/1.0/": "tiff",
    "http://ns.adobe.com/exif/1.0/": "exif",
    "http://cipa.jp/exif/1.0/": "exifEX",
    "http://ns.adobe.com/camera-raw-settings/1.0/": "crs",
    "http://ns.adobe.com/exif/1.0/aux/": "aux",
    "http://ns.adobe.com/xap/1.0/rights/": "xmpRights",
    "http://ns.useplus.org/ldf/xmp/1.0/": "plus",
    "http://ns.google.com/photos/1.0/image/": "GImage",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf",
}
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"


def find_xmp(data: bytes) -> str | None:
    start = data.find(b"<x:xmpmeta")
    if start < 0:
        start = data.find(b"<rdf:RDF")
        end_marker = b"</rdf:RDF>"
    else:
        end_marker = b"</x:xmpmeta>"
    if start < 0:
        return None
    end = data.find(end_marker, start, start + XMP_LIMIT)
    if end < 0:
        return None
    return data[start : end + len(end_marker)].decode("utf-8", errors="replace")


def _name(tag: str) -> str:
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return f"{PREFIXES.get(uri, uri)}:{local}"
    return tag


# A parsed XMP value: text, a list (rdf:Seq/Bag/Alt) or properties
XmpValue = str | list["XmpValue"] | dict[str, "XmpValue"]


def _value(element: Element) -> XmpValue:
    """An element's value: text, a list (rdf:Seq/Bag/Alt), or a dict of properties."""
    containers = [c for c in element if c.tag in (f"{RDF}Seq", f"{RDF}Bag", f"{RDF}Alt")]
    if containers:
        return [_value(li) for li in containers[0] if li.tag == f"{RDF}li"]
    props: dict[str, XmpValue] = {
        _name(k): v[:VALUE_LIMIT]
        for k, v in element.attrib.items()
        if not k.startswith(RDF) and not k.startswith("{http://www.w3.org/XML")
    }
    children = [c for c in element if c.tag != f"{RDF}Description"]
    for description in (c for c in element if c.tag == f"{RDF}Description"):
        props.update(
            {
                _name(k): v[:VALUE_LIMIT]
                for k, v in description.attrib.items()
                if not k.startswith(RDF)
            }
        )
        children.extend(description)
    for child in children:
        props[_name(child.tag)] = _value(child)
    if props:
        return props
    return (element.text or "").strip()[:VALUE_LIMIT]


def parse_xmp(packet: str) -> tuple[dict[str, Any], list[str]]:
    """Top-level properties of all rdf:Description elements, as plain JSON values."""
    try:
        root = ElementTree.fromstring(packet)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        return {}, [f"XMP packet could not be parsed ({type(exc).__name__}: {exc})"]
    properties: dict[str, Any] = {}
    for description in root.iter(f"{RDF}Description"):
        for key, value in description.attrib.items():
            if not key.startswith(RDF) and len(properties) < MAX_PROPERTIES:
                properties[_name(key)] = value[:VALUE_LIMIT]
        for child in description:
            if len(properties) < MAX_PROPERTIES:
                properties[_name(child.tag)] = _value(child)
    return properties, []


def flatten_text(value: object) -> list[str]:
    """All strings inside a parsed XMP value (for searching)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in flatten_text(item)]
    if isinstance(value, dict):
        return [text for item in value.values() for text in flatten_text(item)]
    return []


# XMP dates: ISO 8601 with optional seconds, fraction and zone ("2010-07-11T13:53:00.9+02:00")
_XMP_DATE = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:\d{2})?\s*$"
)
# XMP GPS coordinates: "DDD,MM,SSk" or "DDD,MM.mmk" (k: N, S, E or W)
_XMP_GPS = re.compile(r"^\s*(\d{1,3}),(\d{1,2}(?:\.\d+)?)(?:,(\d{1,2}(?:\.\d+)?))?([NSEW])\s*$")


def _text(properties: dict[str, Any], key: str) -> str | None:
    value = properties.get(key)
    if isinstance(value, list) and len(value) == 1:  # an rdf:Alt/Seq of one
        value = value[0]
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def xmp_datetime(text: str | None) -> tuple[str | None, str | None]:
    """An XMP date-time -> ("YYYY-MM-DDTHH:MM:SS", "+HH:MM" or None); (None, None) for a
    date without a time or anything else."""
    match = _XMP_DATE.match(text or "")
    if not match:
        return None, None
    year, month, day, hour, minute, second, zone = match.groups()
    value = iso_datetime(f"{year}:{month}:{day} {hour}:{minute}:{second or '00'}")
    if value is None:
        return None, None
    offset = "+00:00" if zone == "Z" else zone
    return value, offset


def xmp_coordinate(text: str | None, limit: float) -> float | None:
    match = _XMP_GPS.match(text or "")
    if not match:
        return None
    degrees, minutes, seconds, reference = match.groups()
    value = int(degrees) + float(minutes) / 60 + float(seconds or 0) / 3600
    if reference in "SW":
        value = -value
    return round(value, 7) if -limit <= value <= limit else None


def xmp_fields(properties: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    """The normalised fields XMP gives, under ExifTool's reading of the same properties
    (tiff:Make is Make, exif:DateTimeOriginal is DateTimeOriginal, ...). The program that
    wrote the file (xmp:CreatorTool) is separate: see ``creator_tool``."""
    out: dict[str, Any] = {}
    for key, name in (
        ("camera_make", "tiff:Make"),
        ("camera_model", "tiff:Model"),
        ("software", "tiff:Software"),
    ):
        if text := _text(properties, name):
            out[key] = text
    orientation = _text(properties, "tiff:Orientation")
    if orientation is not None:
        if orientation.isdigit() and 1 <= int(orientation) <= 8:
            out["orientation"] = int(orientation)
        else:
            problems.append(f"XMP tiff:Orientation out of range: {orientation[:40]!r}")
    for key, names in (
        ("datetime_original", ("exif:DateTimeOriginal", "exifEX:DateTimeOriginal")),
        ("datetime_digitized", ("exif:DateTimeDigitized", "xmp:CreateDate")),
        ("datetime_modified", ("xmp:ModifyDate",)),
    ):
        found = next(((n, t) for n in names if (t := _text(properties, n))), None)
        if found is None:
            continue
        name, text = found
        value, offset = xmp_datetime(text)
        if value is None:
            # a date alone is valid XMP but no capture time to normalise
            if not re.match(r"^\s*\d{4}(-\d{2}(-\d{2})?)?\s*$", text):
                problems.append(f"XMP {name} is not a valid date: {text[:40]!r}")
            continue
        out[key] = value
        if key == "datetime_original":
            out["datetime_original_offset"] = offset
    latitude = xmp_coordinate(_text(properties, "exif:GPSLatitude"), 90.0)
    longitude = xmp_coordinate(_text(properties, "exif:GPSLongitude"), 180.0)
    if latitude is not None and longitude is not None:
        out["gps_latitude"], out["gps_longitude"] = latitude, longitude
    return out


def creator_tool(properties: dict[str, Any]) -> str | None:
    return _text(properties, "xmp:CreatorTool")
