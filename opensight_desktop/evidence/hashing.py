"""MD5, SHA-1 and SHA-256 of evidence, all three from one read."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from opensight_desktop.evidence.reading import CHUNK_SIZE, open_evidence


@dataclass(frozen=True)
class Digests:
    md5: str
    sha1: str
    sha256: str


class MultiHasher:
    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha1 = hashlib.sha1(usedforsecurity=False)
        self._sha256 = hashlib.sha256()
        self.size = 0

    def update(self, chunk: bytes, /) -> None:
        # hashlib releases the GIL on large buffers, so hashing threads use several cores.
        self._md5.update(chunk)
        self._sha1.update(chunk)
        self._sha256.update(chunk)
        self.size += len(chunk)

    def digests(self) -> Digests:
        return Digests(self._md5.hexdigest(), self._sha1.hexdigest(), self._sha256.hexdigest())


class _Updatable(Protocol):
    def update(self, data: bytes, /) -> None: ...


def consume(handle: BinaryIO, hasher: _Updatable, keep: bool, first: bytes = b"") -> bytes | None:
    """Feed the rest of an open file (after ``first``) to ``hasher``, in one read.

    Returns the file's bytes when ``keep`` is true, so that they can be decoded without a
    second read: what is decoded is then exactly what was hashed.
    """
    chunks = [first] if keep and first else []
    if first:
        hasher.update(first)
    while chunk := handle.read(CHUNK_SIZE):
        hasher.update(chunk)
        if keep:
            chunks.append(chunk)
    return b"".join(chunks) if keep else None


def hash_file(path: str | bytes) -> tuple[Digests, int]:
    """Digests and byte count of a file, opened read-only. Raises OSError."""
    hasher = MultiHasher()
    with open_evidence(path) as handle:
        consume(handle, hasher, keep=False)
    return hasher.digests(), hasher.size
