"""The hash-set store: one SQLite file per set and a registry, in the data directory.

Why a file per set: a set of tens of millions of entries is written once, indexed once,
and removed by deleting one file; lookups open each read-only. Entries are binary digests
(16, 20 or 32 bytes: MD5, SHA-1, SHA-256 tell themselves apart by length) under one
index, so a lookup is a B-tree search, never a scan. An import streams the source in
batches (``executemany``) into an unindexed table and builds the index at the end (one
sort, much faster than keeping an index up to date), into a ``.part`` file that becomes
the set only when complete.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from opensight_desktop.errors import UsageError
from opensight_desktop.hashsets import formats
from opensight_desktop.paths import data_dir, ensure_dir
from opensight_desktop.timeutil import iso_utc, utc_now

KINDS = ("known", "alert")
BATCH = 50_000
LOOKUP_CHUNK = 500  # values per IN (...): far below SQLite's limit
NAME_LIMIT = 100
_NAME_BAD = re.compile(r"[\x00-\x1f\x7f]")
_SET_FILE = re.compile(r"set-[0-9a-f]{32}\.sqlite")

_REGISTRY_SCHEMA = """
CREATE TABLE IF NOT EXISTS hash_set (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    format TEXT NOT NULL,
    source_name TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    entries INTEGER NOT NULL,
    hashes INTEGER NOT NULL,
    imported_utc TEXT NOT NULL,
    file TEXT NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class HashSetInfo:
    name: str
    kind: str  # known | alert
    format: str  # nsrl | vics | list | csv
    source_name: str  # the imported file's name
    source_sha256: str  # SHA-256 of the imported file
    entries: int  # records read that had a hash (rows, lines, Media records)
    hashes: int  # digests stored (a VICS record can carry MD5 and SHA-1)
    imported_utc: str
    file: str  # the set's database, in the store folder

    def record(self) -> dict[str, object]:
        """What a case records of the set it matched against."""
        return {
            "name": self.name,
            "kind": self.kind,
            "format": self.format,
            "source_sha256": self.source_sha256,
            "entries": self.entries,
            "imported_utc": self.imported_utc,
        }


def store_dir() -> Path:
    return data_dir() / "hashsets"


@contextmanager
def _registry(write: bool = False) -> Iterator[sqlite3.Connection]:
    folder = ensure_dir(store_dir()) if write else store_dir()
    path = folder / "registry.sqlite"
    if not write and not path.exists():
        conn = sqlite3.connect(":memory:")
    else:
        conn = sqlite3.connect(path, timeout=30)
    with closing(conn):
        conn.execute(_REGISTRY_SCHEMA)
        with conn:
            yield conn


_COLUMNS = "name, kind, format, source_name, source_sha256, entries, hashes, imported_utc, file"


def list_sets() -> list[HashSetInfo]:
    with _registry() as conn:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM hash_set ORDER BY name").fetchall()  # noqa: S608
    return [HashSetInfo(*row) for row in rows]


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_LIMIT or _NAME_BAD.search(name):
        raise UsageError(
            f"a hash-set name must be 1 to {NAME_LIMIT} characters without control characters"
        )
    return name


def remove_set(name: str) -> HashSetInfo:
    """Remove a set from the store: its registry row, then its file. Cases that matched
    against it keep their recorded hits until they are matched again."""
    with _registry(write=True) as conn:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM hash_set WHERE name = ?",  # noqa: S608
            (name,),
        ).fetchone()
        if row is None:
            raise UsageError(f"there is no hash set named {name!r} (hashset list)")
        info = HashSetInfo(*row)
        conn.execute("DELETE FROM hash_set WHERE name = ?", (name,))
    if _SET_FILE.fullmatch(info.file):  # an edited registry names no other file to delete
        (store_dir() / info.file).unlink(missing_ok=True)
    return info


class HashingReader(io.RawIOBase):
    """Reads a file for a parser and hashes exactly the bytes read (then the rest, at
    :meth:`finish`): the source hash is of the bytes parsed, with one read of the file."""

    def __init__(self, handle: BinaryIO) -> None:
        super().__init__()
        self._handle = handle
        self.sha256 = hashlib.sha256()

    def readinto(self, buffer: Any) -> int:
        data = self._handle.read(len(buffer))
        self.sha256.update(data)
        buffer[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def finish(self) -> str:
        while chunk := self._handle.read(1 << 20):
            self.sha256.update(chunk)
        return self.sha256.hexdigest()


def _file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


Progress = Callable[[int], None]


def import_set(
    path: str | Path,
    name: str,
    kind: str,
    fmt: str = "auto",
    progress: Progress | None = None,
) -> HashSetInfo:
    """Import a hash-set file into the store; refuses a name already used."""
    source = Path(path)
    name = check_name(name)
    if kind not in KINDS:
        raise UsageError(f"a hash set's kind is known or alert, not {kind!r}")
    if not source.is_file():
        raise UsageError(f"no such file: {source}")
    if any(info.name == name for info in list_sets()):
        raise UsageError(f"there is already a hash set named {name!r} (hashset list)")
    if fmt == "auto":
        fmt = formats.detect(source)
    elif fmt not in formats.FORMATS:
        raise UsageError(
            f"unknown hash-set format {fmt!r} (use auto, {', '.join(formats.FORMATS)})"
        )
    folder = ensure_dir(store_dir())
    file_name = f"set-{uuid.uuid4().hex}.sqlite"
    partial = folder / (file_name + ".part")
    try:
        with open(source, "rb") as handle:
            reader = HashingReader(handle)
            source_sha = _file_sha256(source) if fmt == "nsrl" else None
            entries, hashes = _write_set(
                partial, formats.read(source, fmt, io.BufferedReader(reader, 1 << 20)), progress
            )
            source_sha = source_sha or reader.finish()
        if entries == 0:
            raise UsageError(f"no MD5, SHA-1 or SHA-256 found in {source} (read as {fmt})")
        os.replace(partial, folder / file_name)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    info = HashSetInfo(
        name, kind, fmt, source.name, source_sha, entries, hashes, iso_utc(utc_now()), file_name
    )
    try:
        with _registry(write=True) as conn:
            conn.execute(
                f"INSERT INTO hash_set ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                (
                    info.name,
                    info.kind,
                    info.format,
                    info.source_name,
                    info.source_sha256,
                    info.entries,
                    info.hashes,
                    info.imported_utc,
                    info.file,
                ),
            )
    except sqlite3.IntegrityError:
        (folder / file_name).unlink(missing_ok=True)
        raise UsageError(f"there is already a hash set named {name!r} (hashset list)") from None
    return info


def _write_set(
    target: Path, entries: Iterable[formats.Entry], progress: Progress | None
) -> tuple[int, int]:
    conn = sqlite3.connect(target)
    count = stored = 0
    last_report = time.monotonic()
    with closing(conn):
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("CREATE TABLE hashes (hash BLOB NOT NULL, category TEXT, tags TEXT)")
        batch: list[tuple[bytes, str | None, str | None]] = []
        for entry in entries:
            count += 1
            for value in entry.hashes:
                batch.append((value, entry.category, entry.tags))
            if len(batch) >= BATCH:
                conn.executemany("INSERT INTO hashes VALUES (?, ?, ?)", batch)
                stored += len(batch)
                batch = []
                if progress is not None and time.monotonic() - last_report > 0.5:
                    progress(count)
                    last_report = time.monotonic()
        if batch:
            conn.executemany("INSERT INTO hashes VALUES (?, ?, ?)", batch)
            stored += len(batch)
        conn.execute("CREATE INDEX ix_hashes_hash ON hashes (hash)")
        conn.commit()
    return count, stored


@dataclass(frozen=True, slots=True)
class Found:
    """A digest found in a set, with what the set says of it."""

    hash_set: HashSetInfo
    category: str | None
    tags: str | None


class Lookup:
    """All sets of the store opened read-only, for looking digests up in chunks."""

    def __init__(self, sets: list[HashSetInfo] | None = None) -> None:
        self.sets = list_sets() if sets is None else sets
        self._conns: list[tuple[HashSetInfo, sqlite3.Connection]] = []
        for info in self.sets:
            path = store_dir() / info.file
            if not _SET_FILE.fullmatch(info.file):  # an edited registry: stay in the store
                raise UsageError(
                    f"the hash-set registry names {info.file!r} for {info.name!r}, which is "
                    "not a file the store writes; import the set again under another name"
                )
            if not path.is_file():
                raise UsageError(
                    f"the hash set {info.name!r} is registered but its file {path} is missing"
                )
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            conn.execute("PRAGMA query_only = ON")
            self._conns.append((info, conn))

    def __enter__(self) -> Lookup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for _, conn in self._conns:
            conn.close()
        self._conns = []

    def find(self, digests: Iterable[bytes]) -> dict[bytes, list[Found]]:
        """{digest: [where found, ...]} for the digests in any set (sets in name order)."""
        wanted = sorted(set(digests))
        out: dict[bytes, list[Found]] = {}
        for info, conn in self._conns:
            for start in range(0, len(wanted), LOOKUP_CHUNK):
                chunk = wanted[start : start + LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                seen: set[bytes] = set()
                for value, category, tags in conn.execute(
                    f"SELECT hash, category, tags FROM hashes WHERE hash IN ({marks})",  # noqa: S608
                    chunk,
                ):
                    if value in seen:  # a set may list a hash twice: one hit per set
                        continue
                    seen.add(value)
                    out.setdefault(value, []).append(Found(info, category, tags))
        return out
