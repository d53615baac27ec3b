"""All metadata of one file, read once at import. Never raises: each reader that fails
leaves a problem line, and the item keeps everything else."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from opensight_desktop.evidence.decode import DecodeError, open_image
from opensight_desktop.metadata import c2pa_manifest, png_chunks, thumbnail_check, xmp
from opensight_desktop.metadata.exif import read_exif
from opensight_desktop.metadata.flags import Flag, compute_flags
from opensight_desktop.metadata.image_header import header_facts

CONTRACT_FIELDS = (
    "camera_make",
    "camera_model",
    "datetime_original",
    "software",
    "orientation",
    "gps_latitude",
    "gps_longitude",
)


@dataclass
class MetadataRecord:
    normalised: dict[str, Any] = field(default_factory=dict)
    exif: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    seconds: float = 0.0

    def contract_fields(self) -> dict[str, Any]:
        return {key: self.normalised.get(key) for key in CONTRACT_FIELDS}


def extract_metadata(
    data: bytes,
    sniffed: str | None,
    file_mtime_ns: int | None = None,
    preview: Image.Image | None = None,
    header: tuple[dict[int, Any] | None, bytes | None] | None = None,
) -> MetadataRecord:
    """``data``: the file's bytes (for very large files, its first part); ``preview``: a
    small copy of the decoded image as stored (not rotated), for the thumbnail check;
    ``header``: (JPEG quantisation tables, ICC profile) when the caller already has them."""
    started = time.perf_counter()
    record = MetadataRecord()
    problems = record.problems
    exif = read_exif(data)
    record.exif = exif.tags
    problems.extend(exif.problems)
    record.normalised = exif.normalised
    extras = {k: v for k, v in exif.normalised.items() if k not in CONTRACT_FIELDS}
    record.extra.update({k: v for k, v in extras.items() if v is not None})

    png_text: dict[str, str] = {}
    if sniffed == "PNG":
        chunks = png_chunks.read_png_chunks(data)
        png_text = chunks.text
        problems.extend(chunks.problems)
        if chunks.text:
            record.extra["png_text"] = chunks.text
        if chunks.chunk_names:
            record.extra["png_chunks"] = chunks.chunk_names
        if chunks.modified:
            record.extra["png_modified_utc"] = chunks.modified

    # XMP and C2PA live in a JPEG's header segments: search those, not megabytes of pixels
    region = jpeg_header(data) if sniffed == "JPEG" else data
    xmp_properties: dict[str, Any] = {}
    packet = _guard(problems, "XMP", lambda: xmp.find_xmp(region))
    if packet:
        xmp_properties, xmp_problems = xmp.parse_xmp(packet)
        problems.extend(xmp_problems)
        if xmp_properties:
            record.extra["xmp"] = xmp_properties

    if sniffed:
        facts = _guard(
            problems,
            "image header",
            lambda: header_facts(*(header if header is not None else _header(data, sniffed))),
        )
        if facts:
            record.extra.update(facts)

    c2pa = None
    if c2pa_manifest.has_manifest_marker(region):
        c2pa = _guard(problems, "C2PA", lambda: c2pa_manifest.read_manifest(data, sniffed or ""))
    if c2pa:
        record.extra["c2pa"] = c2pa

    thumbnail = None
    if exif.thumbnail:
        if preview is not None:
            thumbnail = _guard(
                problems, "EXIF thumbnail", lambda: thumbnail_check.compare(exif.thumbnail, preview)
            )
        record.extra["embedded_thumbnail"] = thumbnail or {
            "present": True,
            "bytes": len(exif.thumbnail),
        }

    record.flags = (
        _guard(
            problems,
            "flags",
            lambda: compute_flags(
                record.exif,
                record.normalised,
                png_text,
                xmp_properties,
                c2pa,
                thumbnail,
                file_mtime_ns,
                problems,
            ),
        )
        or []
    )
    del record.problems[50:]
    record.seconds = time.perf_counter() - started
    return record


def jpeg_header(data: bytes) -> bytes:
    """A JPEG's bytes up to its first start-of-scan marker (all APPn segments)."""
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            break
        marker = data[position + 1]
        if marker == 0xDA:  # start of scan: pixels follow
            return data[:position]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            position += 1 if marker == 0xFF else 2
            continue
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
    return data


def _header(data: bytes, sniffed: str) -> tuple[dict[int, Any] | None, bytes | None]:
    try:
        with open_image(data, sniffed) as image:
            tables = getattr(image, "quantization", None)
            return tables, image.info.get("icc_profile")
    except DecodeError:
        return None, None


def _guard(problems: list[str], what: str, function):  # type: ignore[no-untyped-def]
    try:
        return function()
    except Exception as exc:  # a reader's bug or a hostile file must not stop the import
        problems.append(f"{what} could not be read ({type(exc).__name__}: {exc})")
        return None
