"""Everything done to one file on import, without touching the case: read once, hash,
sniff, decode, thumbnail. Runs on worker threads; the case is written by the job."""

from __future__ import annotations

import os
from dataclasses import dataclass

from opensight_desktop.evidence import sniff
from opensight_desktop.evidence.decode import DecodeError, ImageFacts, ThumbnailImage, inspect_image
from opensight_desktop.evidence.hashing import Digests, MultiHasher, consume
from opensight_desktop.evidence.reading import CHUNK_SIZE, open_evidence, os_error_reason

# Files up to this size are decoded from the very bytes that were hashed (one read, and
# the thumbnail provably comes from the hashed content); larger ones are re-opened.
KEEP_IN_MEMORY_BYTES = 256 << 20

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


def ingest(path: str) -> Ingested:
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
        facts, thumbnail = inspect_image(data if data is not None else path, sniffed)
    except DecodeError as exc:
        return Ingested(path, ERROR, str(exc), sniffed=sniffed, **common)
    except OSError as exc:  # re-opening a large file failed
        return Ingested(
            path, ERROR, f"could not read file: {os_error_reason(exc)}", sniffed=sniffed, **common
        )
    return Ingested(path, IMAGE, None, sniffed=sniffed, facts=facts, thumbnail=thumbnail, **common)
