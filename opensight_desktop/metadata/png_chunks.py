"""PNG text chunks (tEXt, zTXt, iTXt) and the names of other ancillary chunks.

A bounded walk of the chunk list: compressed text is inflated with an output limit, so a
hostile "zip bomb" chunk costs at most that much memory.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from opensight_desktop.metadata.containers import bare_tiff

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
VALUE_LIMIT = 64 * 1024  # characters kept per text value
TOTAL_LIMIT = 512 * 1024
MAX_CHUNKS = 100_000
RAW_EXIF_KEYS = ("raw profile type exif", "raw profile type app1")
XMP_KEY = "XML:com.adobe.xmp"


@dataclass
class PngChunks:
    text: dict[str, str] = field(default_factory=dict)
    chunk_names: list[str] = field(default_factory=list)  # ancillary ones, in order, unique
    modified: str | None = None  # tIME chunk, ISO 8601 UTC
    # ImageMagick's hex "Raw profile type exif" (or APP1) text, decoded: a TIFF block
    exif_profile: bytes | None = None
    # the XMP packet of an "XML:com.adobe.xmp" iTXt chunk (which may be compressed)
    xmp: str | None = None
    problems: list[str] = field(default_factory=list)


def _inflate(data: bytes, limit: int) -> tuple[bytes, bool]:
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, limit)
    return out, bool(inflater.unconsumed_tail)


def read_png_chunks(data: bytes) -> PngChunks:
    result = PngChunks()
    if not data.startswith(PNG_MAGIC):
        return result
    position, total, count = 8, 0, 0
    seen: set[str] = set()
    while position + 8 <= len(data) and count < MAX_CHUNKS:
        count += 1
        length, kind_raw = struct.unpack(">I4s", data[position : position + 8])
        kind = kind_raw.decode("latin-1")
        body_start = position + 8
        body = data[body_start : body_start + length]
        if len(body) < length:
            result.problems.append(f"PNG chunk {kind!r} truncated ({len(body)} of {length} bytes)")
            break
        position = body_start + length + 4
        if kind == "IEND":
            break
        if kind not in ("IDAT", "IHDR", "PLTE") and kind not in seen:
            seen.add(kind)
            result.chunk_names.append(kind)
        try:
            if kind in ("tEXt", "zTXt", "iTXt"):
                key, value, truncated = _text_chunk(kind, body)
                if key.lower() in RAW_EXIF_KEYS and result.exif_profile is None and not truncated:
                    result.exif_profile = raw_profile(value)
                elif key == XMP_KEY and result.xmp is None and not truncated:
                    result.xmp = value
                if total < TOTAL_LIMIT:
                    kept = value[: min(VALUE_LIMIT, TOTAL_LIMIT - total)]
                    total += len(kept)
                    if truncated or len(kept) < len(value):
                        kept += f" [... truncated; {len(value)}+ characters]"
                    name = key if key not in result.text else f"{key} ({count})"
                    result.text[name] = kept
            elif kind == "tIME" and length == 7:
                year, month, day, hour, minute, second = struct.unpack(">HBBBBB", body)
                result.modified = (
                    f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"
                )
        except (ValueError, zlib.error, UnicodeDecodeError, struct.error) as exc:
            result.problems.append(f"PNG {kind} chunk unreadable ({exc})")
    return result


def _text_chunk(kind: str, body: bytes) -> tuple[str, str, bool]:
    key_raw, sep, rest = body.partition(b"\x00")
    if not sep:
        raise ValueError("no keyword separator")
    key = key_raw.decode("latin-1")[:79]
    limit = VALUE_LIMIT * 4
    if kind == "tEXt":
        return key, rest.decode("latin-1"), False
    if kind == "zTXt":
        if not rest or rest[0] != 0:
            raise ValueError("unknown compression method")
        text, truncated = _inflate(rest[1:], limit)
        return key, text.decode("latin-1"), truncated
    # iTXt: compression flag, method, language\0, translated keyword\0, UTF-8 text
    if len(rest) < 2:
        raise ValueError("iTXt too short")
    compressed, rest = rest[0], rest[2:]
    _language, _, rest = rest.partition(b"\x00")
    _translated, _, text_raw = rest.partition(b"\x00")
    if compressed:
        text_raw, truncated = _inflate(text_raw, limit)
    else:
        truncated = False
    return key, text_raw.decode("utf-8", errors="replace"), truncated


def raw_profile(text: str) -> bytes | None:
    """ImageMagick's raw profile text (a name line, a length line, then hex) -> the TIFF
    block it holds; None if it is not one."""
    parts = text.split()
    if len(parts) < 3 or not parts[1].isdigit():
        return None
    try:
        block = bare_tiff(bytes.fromhex("".join(parts[2:]))[: int(parts[1])])
    except ValueError:
        return None
    return block if block[:4] in (b"II*\x00", b"MM\x00*") else None
