"""EXIF blocks that exifread's own container walk misses, found by a bounded walk.

WebP: the container spec stores the EXIF chunk as a bare TIFF block (libwebp and Pillow
write it so); exifread skips six bytes expecting JPEG's "Exif\\0\\0" prefix and so reads
nothing from such files. PNG files written by ImageMagick carry EXIF as hex text
("Raw profile type exif"), which png_chunks decodes. exifread reads classic TIFF only;
Pillow reads BigTIFF and writes its tags back as a classic TIFF block. exifread finds
EXIF only in some HEIF files (not Sony's "heix" brand, not some iPhone files); libheif
(through pillow-heif) finds it in all it can open.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from typing import Any

import pillow_heif

from opensight_desktop.evidence.decode import open_image
from opensight_desktop.metadata.exif import iso_datetime

EXIF_PREFIX = b"Exif\x00\x00"
BIGTIFF_MAGIC = (b"II+\x00", b"MM\x00+")
MAX_CHUNKS = 10_000


def bare_tiff(block: bytes) -> bytes:
    """An EXIF block without the JPEG-style "Exif\\0\\0" prefix some writers add."""
    return block[len(EXIF_PREFIX) :] if block.startswith(EXIF_PREFIX) else block


def jpeg_exif_problem(data: bytes) -> str | None:
    """Why a JPEG's EXIF block cannot be used, judged as ExifTool judges it, or None (no
    block, or a sound one). exifread reads an IFD past the end of its APP1 segment, so the
    JPEG data after it comes out as tags (a Pillow test file gives "Orientation: 1" where
    ExifTool says "Bad IFD0 directory"), and it guesses a byte order that is not there."""
    block = _jpeg_app1_exif(data)
    if block is None:
        return None
    if len(block) < 8:
        return f"EXIF block of {len(block)} bytes, too short for a TIFF header"
    order = block[:2]
    if order not in (b"II", b"MM"):
        return f"EXIF block without a byte-order mark (starts {block[:4].hex()})"
    endian = "<" if order == b"II" else ">"
    magic, first = struct.unpack(endian + "HI", block[2:8])
    if magic != 42:
        return f"EXIF block is not a TIFF header (magic number {magic}, not 42)"
    if first + 2 > len(block):
        return f"IFD0 at offset {first}, past the end of its {len(block)}-byte APP1 segment"
    (entries,) = struct.unpack(endian + "H", block[first : first + 2])
    if first + 2 + 12 * entries > len(block):
        return f"IFD0 of {entries} entries runs past the end of its {len(block)}-byte APP1 segment"
    return None


def _jpeg_app1_exif(data: bytes) -> bytes | None:
    """The TIFF block of a JPEG's first "Exif" APP1 segment (bounded by the segment's own
    length), or None."""
    block = _jpeg_app1(data, EXIF_PREFIX)
    return block[len(EXIF_PREFIX) :] if block is not None else None


def _jpeg_app1(data: bytes, prefix: bytes) -> bytes | None:
    """The payload of a JPEG's first APP1 segment that starts with ``prefix``, or None."""
    for marker, _position, payload in jpeg_segments(data):
        if marker == 0xE1 and payload.startswith(prefix):
            return payload
    return None


def jpeg_segments(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """A JPEG's header segments: (marker, position, payload bounded by the segment's own
    length), up to and including the first start-of-scan marker (pixels follow it; its
    payload is not given)."""
    position = 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xDA:
            yield marker, position, b""
            return
        if marker in (0xD8, 0x01, 0xFF) or 0xD0 <= marker <= 0xD7:
            position += 1 if marker == 0xFF else 2
            continue
        end = position + 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        yield marker, position, data[position + 4 : end]
        position = end


QVCI_DATE = slice(0x4D, 0x4D + 20)


def casio_qvci_fields(data: bytes) -> dict[str, Any]:
    """The capture time from the APP1 "QVCI" segment of Casio QV-7000SX JPEGs (a fixed
    layout, ExifTool's Casio::QVCI table: "1998.10.24.12.08.57" at offset 0x4d), which
    such files have instead of EXIF."""
    segment = _jpeg_app1(data, b"QVCI\x00")
    if segment is None or len(segment) < QVCI_DATE.stop:
        return {}
    text = segment[QVCI_DATE].split(b"\x00")[0].decode("ascii", "replace")
    parts = text.split(".")
    if len(parts) != 6 or not all(part.isdigit() for part in parts):
        return {}
    stamp = "{}:{}:{} {}:{}:{}".format(*parts)
    return {"datetime_original": iso_datetime(stamp)}


def webp_exif(data: bytes) -> bytes | None:
    """The TIFF block of a WebP file's EXIF chunk, or None."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    position = 12
    for _ in range(MAX_CHUNKS):
        if position + 8 > len(data):
            return None
        kind, size = struct.unpack("<4sI", data[position : position + 8])
        if kind == b"EXIF":
            return bare_tiff(data[position + 8 : position + 8 + size]) or None
        position += 8 + size + (size & 1)  # chunks are padded to an even length
    return None


def is_bigtiff(data: bytes) -> bool:
    return data[:4] in BIGTIFF_MAGIC


def bigtiff_exif(data: bytes) -> bytes | None:
    """A BigTIFF's IFD0 (with its Exif and GPS IFDs) as a classic TIFF block, or None."""
    with open_image(data, "TIFF") as image:
        exif = image.getexif()
        if not exif:
            return None
        exif.bigtiff = False  # write the classic layout that exifread reads
        return bare_tiff(exif.tobytes())


def heif_exif(data: bytes) -> bytes | None:
    """The TIFF block of a HEIF file's Exif item as stored, or None. libheif's standalone
    reader, not the Pillow plugin: the plugin rewrites the Orientation tag to 1 (it turns
    the pixels instead), and the file's own value is what an examiner needs."""
    heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=False)
    block = heif.info.get("exif")
    return (bare_tiff(block) or None) if isinstance(block, bytes) else None
