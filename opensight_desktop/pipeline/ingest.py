"""Everything done to one file on import, without touching the case: read once, hash,
sniff, decode, thumbnail. Runs on worker threads or processes; the case is written by the
job. The original is opened once: decoding and metadata use the copy of the bytes that
were hashed (evidence.hashing.KeptCopy), never a second read of the file."""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass
from typing import TypedDict

from PIL import Image

from opensight_desktop.evidence import sniff
from opensight_desktop.evidence.decode import DecodeError, ImageFacts, ThumbnailImage, inspect_image
from opensight_desktop.evidence.hashing import (
    Digests,
    KeptCopy,
    MultiHasher,
    consume,
    consume_and_keep,
)
from opensight_desktop.evidence.reading import (
    CHUNK_SIZE,
    open_evidence,
    opened_path,
    os_error_reason,
)
from opensight_desktop.metadata.extract import MetadataRecord, extract_metadata
from opensight_desktop.metadata.flags import Flag, location_flags
from opensight_desktop.metadata.image_header import QuantizationTables

METADATA_PREFIX_BYTES = 16 << 20

IMAGE = "image"
ERROR = "error"
SKIP = "skip"


@dataclass(frozen=True)
class Ingested:
    path: str
    outcome: str  # IMAGE | ERROR | SKIP
    reason: str | None = None
    size: int | None = None
    mtime_ns: int | None = None
    ctime_ns: int | None = None
    atime_ns: int | None = None
    digests: Digests | None = None
    sniffed: str | None = None
    facts: ImageFacts | None = None
    thumbnail: ThumbnailImage | None = None
    metadata: MetadataRecord | None = None
    phash: str | None = None  # perceptual hash of the decoded pixels (evidence/phash.py)
    # where the file was found (hidden characters in its name, a link leaving the
    # imported folder): recorded whatever the outcome
    flags: tuple[Flag, ...] = ()
    seconds: float = 0.0  # time spent on this file (for the import benchmark)


def ingest(path: str, root: str | None = None) -> Ingested:
    """``root``: the imported folder, symbolic links resolved (None: not known)."""
    started = time.perf_counter()
    result = _ingest(path, root)
    return dataclasses.replace(result, seconds=time.perf_counter() - started)


def failed(path: str, root: str | None, reason: str) -> Ingested:
    """An error result for a file that was not (fully) read: its location flags come from
    the path, links resolved by name."""
    flags = location_flags(path, root, os.path.realpath(path))
    return Ingested(path, ERROR, reason, flags=tuple(flags))


class _Times(TypedDict):
    """The file's time stamps, as the open handle gave them."""

    mtime_ns: int
    ctime_ns: int
    atime_ns: int


class _Read(_Times):
    """What every result of a file that was read to its end carries."""

    size: int
    digests: Digests
    flags: tuple[Flag, ...]


def _ingest(path: str, root: str | None) -> Ingested:
    name = os.path.basename(path)
    try:
        handle = open_evidence(path)
    except OSError as exc:
        return failed(path, root, f"could not read file: {os_error_reason(exc)}")
    with handle:
        st = os.fstat(handle.fileno())
        flags = tuple(location_flags(path, root, opened_path(handle, path)))
        times: _Times = {
            "mtime_ns": st.st_mtime_ns,
            "ctime_ns": st.st_ctime_ns,
            "atime_ns": st.st_atime_ns,
        }
        try:
            first = handle.read(CHUNK_SIZE)
        except OSError as exc:
            return Ingested(
                path,
                ERROR,
                f"could not read file: {os_error_reason(exc)}",
                size=st.st_size,
                flags=flags,
                **times,
            )
        sniffed = sniff.image_format(first[: sniff.HEAD_BYTES])
        if sniffed is None and not sniff.claims_image(name):
            return Ingested(
                path, SKIP, f"not an image: {sniff.describe_other(first)}", size=st.st_size, **times
            )
        hasher = MultiHasher()
        copy: KeptCopy | None = None
        try:
            if sniffed is None:
                consume(handle, hasher, first)
            else:
                copy = consume_and_keep(handle, hasher, first)
        except OSError as exc:
            return Ingested(
                path,
                ERROR,
                f"could not read file: {os_error_reason(exc)}",
                size=st.st_size,
                flags=flags,
                **times,
            )
    digests = hasher.digests()
    common: _Read = {"size": hasher.size, "digests": digests, "flags": flags, **times}
    if copy is None:
        what = sniff.describe_other(first)
        reason = (
            "empty file (0 bytes)"
            if hasher.size == 0
            else f"named as an image but the content is not a supported image ({what})"
        )
        return Ingested(path, ERROR, reason, **common)
    assert sniffed is not None
    with copy:
        return _decode(path, copy, sniffed, times["mtime_ns"], common)


def _decode(path: str, copy: KeptCopy, sniffed: str, mtime_ns: int, common: _Read) -> Ingested:
    if copy.problem is not None:
        return Ingested(
            path, ERROR, f"hashed but not decoded: {copy.problem}", sniffed=sniffed, **common
        )
    try:
        inspected = inspect_image(copy.source(), sniffed)
    except DecodeError as exc:
        return Ingested(
            path,
            ERROR,
            str(exc),
            sniffed=sniffed,
            metadata=_metadata(copy, sniffed, mtime_ns, None),
            **common,
        )
    except OSError as exc:  # reading the temporary copy back failed
        return Ingested(
            path,
            ERROR,
            f"hashed but not decoded: the working copy could not be read ({os_error_reason(exc)})",
            sniffed=sniffed,
            **common,
        )
    metadata = _metadata(
        copy,
        sniffed,
        mtime_ns,
        inspected.preview,
        (inspected.quantization, inspected.icc_profile),
    )
    return Ingested(
        path,
        IMAGE,
        None,
        sniffed=sniffed,
        facts=inspected.facts,
        thumbnail=inspected.thumbnail,
        metadata=metadata,
        phash=inspected.phash,
        **common,
    )


def _metadata(
    copy: KeptCopy,
    sniffed: str,
    mtime_ns: int,
    preview: Image.Image | None,
    header: tuple[QuantizationTables | None, bytes | None] | None = None,
) -> MetadataRecord:
    # A very large file's metadata lives in its first part.
    try:
        data = copy.data if copy.data is not None else copy.head(METADATA_PREFIX_BYTES)
    except OSError as exc:
        return MetadataRecord(problems=[f"metadata not read: {os_error_reason(exc)}"])
    return extract_metadata(data, sniffed, mtime_ns, preview, header)
