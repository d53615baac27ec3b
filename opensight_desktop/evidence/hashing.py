"""MD5, SHA-1 and SHA-256 of evidence, all three from one read."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

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

    def update(self, chunk: bytes | memoryview) -> None:
        # hashlib releases the GIL on large buffers, so hashing threads use several cores.
        self._md5.update(chunk)
        self._sha1.update(chunk)
        self._sha256.update(chunk)
        self.size += len(chunk)

    def digests(self) -> Digests:
        return Digests(self._md5.hexdigest(), self._sha1.hexdigest(), self._sha256.hexdigest())


def hash_file(path: str | bytes) -> tuple[Digests, int]:
    """Digests and byte count of a file, opened read-only. Raises OSError."""
    hasher = MultiHasher()
    with open_evidence(path) as handle:
        while chunk := handle.read(CHUNK_SIZE):
            hasher.update(chunk)
    return hasher.digests(), hasher.size
