"""All metadata of one file, read once at import. Never raises: each reader that fails
leaves a problem line, and the item keeps everything else."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from PIL import Image

from opensight_desktop.evidence.decode import DecodeError, open_image
from opensight_desktop.metadata import (
    c2pa_manifest,
    containers,
    fields,
    iptc,
    png_chunks,
    thumbnail_check,
    xmp,
)
from opensight_desktop.metadata.exif import ExifData, maker_note_fields, read_exif
from opensight_desktop.metadata.flags import Flag, compute_flags
from opensight_desktop.metadata.image_header import QuantizationTables, header_facts

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
    header: tuple[QuantizationTables | None, bytes | None] | None = None,
) -> MetadataRecord:
    """``data``: the file's bytes (for very large files, its first part); ``preview``: a
    small copy of the decoded image as stored (not rotated), for the thumbnail check;
    ``header``: (JPEG quantisation tables, ICC profile) when the caller already has them."""
    started = time.perf_counter()
    record = MetadataRecord()
    problems = record.problems

    chunks = png_chunks.read_png_chunks(data) if sniffed == "PNG" else png_chunks.PngChunks()
    png_text = chunks.text
    problems.extend(chunks.problems)
    if chunks.text:
        record.extra["png_text"] = chunks.text
    if chunks.chunk_names:
        record.extra["png_chunks"] = chunks.chunk_names
    if chunks.modified:
        record.extra["png_modified_utc"] = chunks.modified

    exif = _read_exif(data, sniffed, chunks, problems)
    record.exif = exif.tags
    problems.extend(exif.problems)

    # XMP and C2PA live in a JPEG's header segments: search those, not megabytes of pixels
    region = jpeg_header(data) if sniffed == "JPEG" else data
    xmp_properties: dict[str, Any] = {}
    packet = chunks.xmp or _guard(problems, "XMP", lambda: xmp.find_xmp(region))
    if packet:
        xmp_properties, xmp_problems = xmp.parse_xmp(packet)
        problems.extend(xmp_problems)
        if xmp_properties:
            record.extra["xmp"] = xmp_properties

    iptc_values: dict[str, str] = {}
    if (sniffed == "JPEG" and iptc.has_iptc_marker(region)) or (
        sniffed == "TIFF" and "Image IPTC/NAA" in exif.raw
    ):
        iptc_values = _guard(problems, "IPTC", lambda: iptc.read_iptc(data, sniffed)) or {}
        if iptc_values:
            record.extra["iptc"] = iptc_values

    xmp_values = _guard(problems, "XMP fields", lambda: xmp.xmp_fields(xmp_properties, problems))
    xmp_values = xmp_values or {}
    record.normalised, sources = fields.combine(
        [
            (fields.EXIF, exif.normalised),
            (fields.XMP, xmp_values),
            (
                fields.MAKER_NOTE,
                _guard(problems, "maker note", lambda: _maker_fields(exif, data, sniffed)) or {},
            ),
            (fields.IPTC, iptc.iptc_fields(iptc_values)),
            (fields.PNG, {"software": (png_text.get("Software") or "").strip() or None}),
            (fields.XMP, {"software": xmp.creator_tool(xmp_properties)}),
        ]
    )
    extras = {k: v for k, v in record.normalised.items() if k not in CONTRACT_FIELDS}
    record.extra.update({k: v for k, v in extras.items() if v is not None})
    record.extra["sources"] = sources

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
    embedded = exif.thumbnail
    if embedded:
        if preview is not None:
            thumbnail = _guard(
                problems, "EXIF thumbnail", lambda: thumbnail_check.compare(embedded, preview)
            )
        record.extra["embedded_thumbnail"] = thumbnail or {
            "present": True,
            "bytes": len(embedded),
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
                iptc=iptc_values,
                xmp_capture=(
                    xmp_values.get("datetime_original"),
                    xmp_values.get("datetime_original_offset"),
                ),
            ),
        )
        or []
    )
    del record.problems[50:]
    record.seconds = time.perf_counter() - started
    return record


def _maker_fields(exif: ExifData, data: bytes, sniffed: str | None) -> dict[str, Any]:
    """Fields from a maker's own block: exifread's decoded maker note, else a Casio QVCI
    segment (ExifTool groups both as MakerNotes)."""
    found = maker_note_fields(exif.raw)
    if sniffed == "JPEG":
        found = {**containers.casio_qvci_fields(data), **found}
    return found


def _read_exif(
    data: bytes, sniffed: str | None, chunks: png_chunks.PngChunks, problems: list[str]
) -> ExifData:
    """EXIF wherever the container keeps it, including where exifread's walk misses it."""
    if sniffed == "WEBP":
        block = containers.webp_exif(data)
        return read_exif(block) if block else ExifData()
    if sniffed == "TIFF" and containers.is_bigtiff(data):
        block = _guard(problems, "BigTIFF tags", lambda: containers.bigtiff_exif(data))
        return read_exif(block) if block else ExifData()
    if sniffed == "HEIF":
        # libheif's reading first; exifread's own walk for a file libheif cannot open
        try:
            block = containers.heif_exif(data)
        except Exception:  # libheif refuses the file: exifread may still find the block
            block = None
        if block:
            return read_exif(block)
        # exifread walks HEIF boxes only for three major brands; the walk is the same for all
        return read_exif(data[:8] + b"heic" + data[12:]) if data[4:8] == b"ftyp" else ExifData()
    if sniffed in ("JPEG", "MPO") and (problem := containers.jpeg_exif_problem(data)):
        # nothing from a damaged block is used (ExifTool shows none of it either)
        return ExifData(problems=[f"EXIF not used: {problem}"])
    exif = read_exif(data)
    if not exif.raw and chunks.exif_profile:
        return read_exif(chunks.exif_profile)
    return exif


def jpeg_header(data: bytes) -> bytes:
    """A JPEG's bytes up to its first start-of-scan marker (all APPn segments)."""
    for marker, position, _payload in containers.jpeg_segments(data):
        if marker == 0xDA:  # start of scan: pixels follow
            return data[:position]
    return data


def _header(data: bytes, sniffed: str) -> tuple[QuantizationTables | None, bytes | None]:
    try:
        with open_image(data, sniffed) as image:
            tables = getattr(image, "quantization", None)
            return tables, image.info.get("icc_profile")
    except DecodeError:
        return None, None


T = TypeVar("T")


def _guard(problems: list[str], what: str, function: Callable[[], T]) -> T | None:
    try:
        return function()
    except Exception as exc:  # a reader's bug or a hostile file must not stop the import
        problems.append(f"{what} could not be read ({type(exc).__name__}: {exc})")
        return None
