"""A small TIFF/EXIF writer for the benchmark's camera-like JPEGs: any tags, a GPS IFD and
an IFD1 thumbnail, as cameras write them (Pillow writes no IFD1, and the thumbnail check is
part of the import work measured). The tests' damaged EXIF (bad offsets, loops, huge
counts) builds on this in ``tests/exif_writer.py``."""

from __future__ import annotations

import struct
from datetime import datetime, timedelta
from typing import Any

TYPES = {
    "BYTE": 1,
    "ASCII": 2,
    "SHORT": 3,
    "LONG": 4,
    "RATIONAL": 5,
    "UNDEFINED": 7,
    "SRATIONAL": 10,
}


def _encode(kind: str, value: Any, order: str) -> tuple[int, int, bytes]:
    code = TYPES[kind]
    if kind == "ASCII":
        data = value.encode("utf-8") + b"\x00"
        return code, len(data), data
    if kind in ("UNDEFINED", "BYTE"):
        return code, len(value), bytes(value)
    values = value if isinstance(value, list | tuple) else [value]
    if kind in ("RATIONAL", "SRATIONAL"):
        fmt = "I" if kind == "RATIONAL" else "i"
        data = b"".join(struct.pack(order + fmt * 2, n, d) for n, d in values)
        return code, len(values), data
    fmt = {"SHORT": "H", "LONG": "I"}[kind]
    return code, len(values), b"".join(struct.pack(order + fmt, v) for v in values)


class Ifd:
    def __init__(self, entries: dict[int, tuple[str, Any]] | None = None) -> None:
        self.entries = dict(entries or {})

    def size(self, order: str) -> int:
        total = 2 + 12 * len(self.entries) + 4
        for kind, value in self.entries.values():
            _, _, data = _encode(kind, value, order)
            if len(data) > 4:
                total += len(data) + (len(data) & 1)
        return total

    def build(self, offset: int, order: str, next_ifd: int) -> bytes:
        head = struct.pack(order + "H", len(self.entries))
        data_area = b""
        data_offset = offset + 2 + 12 * len(self.entries) + 4
        body = b""
        for tag in sorted(self.entries):
            kind, value = self.entries[tag]
            code, count, data = _encode(kind, value, order)
            if len(data) <= 4:
                field = data.ljust(4, b"\x00")
            else:
                field = struct.pack(order + "I", data_offset + len(data_area))
                data_area += data + (b"\x00" if len(data) & 1 else b"")
            body += self.entry(tag, code, count, field, order)
        return head + body + struct.pack(order + "I", next_ifd) + data_area

    def entry(self, tag: int, code: int, count: int, field: bytes, order: str) -> bytes:
        """One 12-byte directory entry; ``field`` holds the value or its offset."""
        return struct.pack(order + "HHI", tag, code, count) + field


def build_tiff(
    ifd0: Ifd,
    exif: Ifd | None = None,
    gps: Ifd | None = None,
    thumbnail: bytes | None = None,
    order: str = "<",
) -> bytes:
    """TIFF structure (as in an EXIF APP1 segment): header, IFD0, Exif IFD, GPS IFD, IFD1."""
    if exif is not None:
        ifd0.entries[0x8769] = ("LONG", 0)
    if gps is not None:
        ifd0.entries[0x8825] = ("LONG", 0)
    ifd1 = None
    if thumbnail is not None:
        ifd1 = Ifd({0x0103: ("SHORT", 6), 0x0201: ("LONG", 0), 0x0202: ("LONG", len(thumbnail))})
    position = 8
    offsets = {}
    for name, ifd in (("ifd0", ifd0), ("exif", exif), ("gps", gps), ("ifd1", ifd1)):
        if ifd is not None:
            offsets[name] = position
            position += ifd.size(order)
    if exif is not None:
        ifd0.entries[0x8769] = ("LONG", offsets["exif"])
    if gps is not None:
        ifd0.entries[0x8825] = ("LONG", offsets["gps"])
    if ifd1 is not None:
        ifd1.entries[0x0201] = ("LONG", position)
    header = (b"II" if order == "<" else b"MM") + struct.pack(order + "HI", 42, 8)
    out = header + ifd0.build(8, order, offsets.get("ifd1", 0))
    if exif is not None:
        out += exif.build(offsets["exif"], order, 0)
    if gps is not None:
        out += gps.build(offsets["gps"], order, 0)
    if ifd1 is not None:
        out += ifd1.build(offsets["ifd1"], order, 0)
    if thumbnail is not None:
        out += thumbnail
    return out


def jpeg_with_app1(jpeg: bytes, tiff: bytes) -> bytes:
    """Insert an EXIF APP1 segment right after SOI."""
    payload = b"Exif\x00\x00" + tiff
    if len(payload) + 2 > 0xFFFF:
        raise ValueError("EXIF too large for one APP1 segment")
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def camera_ifds(
    make="Canon",
    model="Canon EOS R5",
    software="Firmware 1.2.0",
    original="2024:05:06 07:08:09",
    digitized=None,
    modified=None,
    offset="+02:00",
    orientation=1,
    lat=None,
    lon=None,
    alt=None,
    extra0: dict | None = None,
    extra_exif: dict | None = None,
) -> tuple[Ifd, Ifd, Ifd | None]:
    ifd0 = Ifd(
        {
            0x010F: ("ASCII", make),
            0x0110: ("ASCII", model),
            0x0131: ("ASCII", software),
            0x0112: ("SHORT", orientation),
            0x0132: ("ASCII", modified or original),
            **(extra0 or {}),
        }
    )
    exif = Ifd(
        {
            0x9003: ("ASCII", original),
            0x9004: ("ASCII", digitized or original),
            0x829A: ("RATIONAL", [(1, 250)]),
            0x829D: ("RATIONAL", [(28, 10)]),
            0x8827: ("SHORT", 200),
            **({0x9011: ("ASCII", offset)} if offset else {}),
            **(extra_exif or {}),
        }
    )
    gps = None
    if lat is not None and lon is not None:

        def dms(value):
            value = abs(value)
            degrees = int(value)
            minutes = int((value - degrees) * 60)
            seconds = round(((value - degrees) * 60 - minutes) * 60 * 10000)
            return [(degrees, 1), (minutes, 1), (seconds, 10000)]

        gps = Ifd(
            {
                0x0001: ("ASCII", "N" if lat >= 0 else "S"),
                0x0002: ("RATIONAL", dms(lat)),
                0x0003: ("ASCII", "E" if lon >= 0 else "W"),
                0x0004: ("RATIONAL", dms(lon)),
            }
        )
        if alt is not None:
            gps.entries[0x0005] = ("BYTE", [1 if alt < 0 else 0])
            gps.entries[0x0006] = ("RATIONAL", [(round(abs(alt) * 100), 100)])
        # A camera's GPS clock agrees with its own clock and UTC offset.
        utc = _utc(original, offset)
        gps.entries[0x0007] = ("RATIONAL", [(utc.hour, 1), (utc.minute, 1), (utc.second, 1)])
        gps.entries[0x001D] = ("ASCII", utc.strftime("%Y:%m:%d"))
    return ifd0, exif, gps


def _utc(original: str, offset: str | None) -> datetime:
    taken = datetime.strptime(original, "%Y:%m:%d %H:%M:%S")
    if not offset:
        return taken
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = offset.lstrip("+-").split(":")
    return taken - sign * timedelta(hours=int(hours), minutes=int(minutes))
