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

import pillow_heif

from opensight_desktop.evidence.decode import open_image

EXIF_PREFIX = b"Exif\x00\x00"
BIGTIFF_MAGIC = (b"II+\x00", b"MM\x00+")
MAX_CHUNKS = 10_000


def bare_tiff(block: bytes) -> bytes:
    """An EXIF block without the JPEG-style "Exif\\0\\0" prefix some writers add."""
    return block[len(EXIF_PREFIX) :] if block.startswith(EXIF_PREFIX) else block


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
