"""MD5, SHA-1 and SHA-256 of evidence, all three from one read, and the bytes that were
hashed kept for decoding (so that what is decoded is what was hashed, at every size)."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import BinaryIO, Protocol

from opensight_desktop.evidence import reading
from opensight_desktop.evidence.reading import CHUNK_SIZE, open_evidence, os_error_reason


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


class KeptCopy:
    """The bytes that were hashed, for decoding: in memory up to
    ``reading.KEEP_IN_MEMORY_BYTES``, beyond that in a private temporary file on the temp
    folder. The original is never opened a second time, so a file swapped or rewritten
    after hashing cannot be what is decoded.

    The temporary file has no name where the OS allows (Linux O_TMPFILE); elsewhere it is
    created readable by this user only and unlinked at once. Either way no other program
    can open it by name, and the OS frees it when it is closed or the process ends.
    """

    def __init__(self) -> None:
        self._limit = reading.KEEP_IN_MEMORY_BYTES
        self._chunks: list[bytes] = []
        self._size = 0
        self._spool: BinaryIO | None = None
        self.data: bytes | None = None  # the bytes, when kept in memory
        self.problem: str | None = None  # why no copy could be kept (nothing is, then)

    @property
    def spooled(self) -> bool:
        return self._spool is not None

    def add(self, chunk: bytes) -> None:
        if self.problem is not None:
            return
        if self._spool is None and self._size + len(chunk) <= self._limit:
            self._chunks.append(chunk)
            self._size += len(chunk)
            return
        try:
            if self._spool is None:
                self._spool = tempfile.TemporaryFile(prefix="opensight-copy-")  # noqa: SIM115
                for kept in self._chunks:
                    self._spool.write(kept)
                self._chunks = []
            self._spool.write(chunk)
        except OSError as exc:
            self.close()
            self.problem = (
                f"no private working copy could be kept for decoding ({os_error_reason(exc)})"
            )

    def seal(self) -> None:
        """All bytes added: ready to be read back."""
        if self._spool is not None:
            self._spool.flush()
        elif self.problem is None:
            self.data = b"".join(self._chunks)
        self._chunks = []

    def source(self) -> bytes | BinaryIO:
        """The kept bytes: ``bytes``, or the temporary file rewound (owned by this copy)."""
        if self.problem is not None:
            raise RuntimeError(self.problem)
        if self._spool is not None:
            self._spool.seek(0)
            return self._spool
        assert self.data is not None, "seal() first"
        return self.data

    def head(self, limit: int) -> bytes:
        """The first ``limit`` bytes (b"" when no copy could be kept)."""
        if self.problem is not None:
            return b""
        source = self.source()
        return source[:limit] if isinstance(source, bytes) else source.read(limit)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None
        self._chunks = []
        self.data = None

    def __enter__(self) -> KeptCopy:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def consume(
    handle: BinaryIO,
    hasher: _Updatable,
    first: bytes = b"",
    keep: Callable[[bytes], None] | None = None,
) -> None:
    """Feed the rest of an open file (after ``first``, already read from it) to ``hasher``
    and, when given, to ``keep``. Raises OSError."""
    if first:
        hasher.update(first)
        if keep is not None:
            keep(first)
    while chunk := handle.read(CHUNK_SIZE):
        hasher.update(chunk)
        if keep is not None:
            keep(chunk)


def consume_and_keep(handle: BinaryIO, hasher: _Updatable, first: bytes = b"") -> KeptCopy:
    """:func:`consume`, keeping what was hashed (close the copy when done). Raises OSError."""
    copy = KeptCopy()
    try:
        consume(handle, hasher, first, copy.add)
        copy.seal()
    except BaseException:
        copy.close()
        raise
    return copy


def sha256_file(path: str | bytes) -> tuple[str, int]:
    """SHA-256 and byte count of a file, opened read-only. Raises OSError.

    Enough to re-check evidence: bytes with the recorded SHA-256 are the bytes imported, so
    their MD5 and SHA-1 are the recorded ones too (a third of the work of all three)."""
    hasher = hashlib.sha256()
    size = 0
    with open_evidence(path) as handle:
        while chunk := handle.read(CHUNK_SIZE):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size
