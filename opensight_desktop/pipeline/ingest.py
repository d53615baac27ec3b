"""Everything done to one file on import, without touching the case: read once, hash,
sniff, decode, thumbnail. Runs on worker threads; the case is written by the job."""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass
from typing import Any

from PIL import Image

from opensight_desktop.evidence import sniff
from opensight_desktop.evidence.decode import DecodeError, ImageFacts, ThumbnailImage, inspect_image
from opensight_desktop.evidence.hashing import Digests, MultiHasher, consume
from opensight_desktop.evidence.reading import (
    CHUNK_SIZE,
    KEEP_IN_MEMORY_BYTES,
    open_evidence,
    os_error_reason,
)
from opensight_desktop.metadata.extract import MetadataRecord, extract_metadata

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
    seconds: float = 0.0  # time spent on this file (for the import benchmark)


# Fault injection for the robustness tests: a worker reading a file of this name dies as a
# crashing C decoder would, or stalls as a decoder caught in a loop would. Unset in use.
CRASH_ON_ENV = "OPENSIGHT_TEST_CRASH_ON_FILE"
HANG_ON_ENV = "OPENSIGHT_TEST_HANG_ON_FILE"


def ingest(path: str) -> Ingested:
    name = os.path.basename(path)
    if os.environ.get(CRASH_ON_ENV) == name:
        os.abort()
    if os.environ.get(HANG_ON_ENV) == name:
        time.sleep(3600)
    started = time.perf_counter()
    result = _ingest(path)
    return dataclasses.replace(result, seconds=time.perf_counter() - started)


def _ingest(path: str) -> Ingested:
    name = os.path.basename(path)
    try:
        handle = open_evidence(path)
    except OSError as exc:
        return Ingested(path, ERROR, f"could not read file: {os_error_reason(exc)}")
    with handle:
        st = os.fstat(handle.fileno())
        times = {"mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns, "atime_ns": st.st_atime_ns}
        try:
            first = handle.read(CHUNK_SIZE)
        except OSError as exc:
            return Ingested(
                path,
                ERROR,
                f"could not read file: {os_error_reason(exc)}",
                size=st.st_size,
                **times,
            )
        sniffed = sniff.image_format(first[: sniff.HEAD_BYTES])
        if sniffed is None and not sniff.claims_image(name):
            return Ingested(
                path, SKIP, f"not an image: {sniff.describe_other(first)}", size=st.st_size, **times
            )
        hasher = MultiHasher()
        keep = sniffed is not None and st.st_size <= KEEP_IN_MEMORY_BYTES
        try:
            data = consume(handle, hasher, keep, first)
        except OSError as exc:
            return Ingested(
                path,
                ERROR,
                f"could not read file: {os_error_reason(exc)}",
                size=st.st_size,
                **times,
            )
    digests = hasher.digests()
    common = {"size": hasher.size, "digests": digests, **times}
    if sniffed is None:
        what = sniff.describe_other(first)
        reason = (
            "empty file (0 bytes)"
            if hasher.size == 0
            else f"named as an image but the content is not a supported image ({what})"
        )
        return Ingested(path, ERROR, reason, **common)
    try:
        inspected = inspect_image(data if data is not None else path, sniffed)
    except DecodeError as exc:
        return Ingested(
            path,
            ERROR,
            str(exc),
            sniffed=sniffed,
            metadata=_metadata(data, path, sniffed, times["mtime_ns"], None),
            **common,
        )
    except OSError as exc:  # re-opening a large file failed
        return Ingested(
            path, ERROR, f"could not read file: {os_error_reason(exc)}", sniffed=sniffed, **common
        )
    metadata = _metadata(
        data,
        path,
        sniffed,
        times["mtime_ns"],
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
        **common,
    )


def _metadata(
    data: bytes | None,
    path: str,
    sniffed: str,
    mtime_ns: int,
    preview: Image.Image | None,
    header: tuple[dict[int, Any] | None, bytes | None] | None = None,
) -> MetadataRecord:
    if data is None:  # a very large file: metadata lives in its first part
        try:
            with open_evidence(path) as handle:
                data = handle.read(METADATA_PREFIX_BYTES)
        except OSError as exc:
            return MetadataRecord(problems=[f"metadata not read: {os_error_reason(exc)}"])
    return extract_metadata(data, sniffed, mtime_ns, preview, header)
