"""Reading hash-set files as a stream of entries: NIST NSRL RDS v3, VICS JSON, plain lists
and CSV. Each reader yields :class:`Entry` one at a time and never holds the file."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from opensight_desktop.errors import UsageError
from opensight_desktop.hashsets import vics

FORMATS = ("nsrl", "vics", "list", "csv")
SQLITE_MAGIC = b"SQLite format 3\x00"
HASH_KINDS = {16: "md5", 20: "sha1", 32: "sha256"}  # digest bytes -> name
_HEX = re.compile(r"[0-9a-fA-F]+")
# CSV header names taken as hash columns (lower case, without "-" and "_")
CSV_HASH_COLUMNS = ("md5", "sha1", "sha256", "hash")
CSV_LIMIT = 1 << 20  # the longest CSV field read (a crafted file cannot exhaust memory)


TEXT_LIMIT = 200  # a category or tag list longer than this is cut (crafted files)


def _short(text: str | None) -> str | None:
    return None if text is None else text[:TEXT_LIMIT]


@dataclass(frozen=True, slots=True)
class Entry:
    """One record of a set: its hashes (binary digests) and what the set says of it."""

    hashes: tuple[bytes, ...]
    category: str | None = None
    tags: str | None = None


def digest(text: object) -> bytes | None:
    """An MD5, SHA-1 or SHA-256 written in hex (either case) as bytes; None otherwise."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if len(text) not in (32, 40, 64) or not _HEX.fullmatch(text):
        return None
    return bytes.fromhex(text)


def detect(path: Path) -> str:
    """The format of a hash-set file from its content."""
    with open(path, "rb") as handle:
        head = handle.read(64 << 10)
    if head.startswith(SQLITE_MAGIC):
        return "nsrl"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return "vics"
    first = next(
        (line for line in text.decode("utf-8", "replace").splitlines() if line.strip()), ""
    )
    if first and digest(first.split()[0]) is None and not first.startswith("#"):
        return "csv"  # a header line
    return "list"


def read(path: Path, fmt: str, stream: BinaryIO) -> Iterator[Entry]:
    """Entries of the file; ``stream`` is the file opened for reading (text formats read it
    through, so that the caller can hash what was read)."""
    if fmt == "nsrl":
        return _nsrl(path)
    if fmt == "vics":
        return _vics(stream)
    if fmt == "list":
        return _plain_list(stream)
    if fmt == "csv":
        return _csv(stream)
    raise UsageError(f"unknown hash-set format {fmt!r} (use {', '.join(FORMATS)} or auto)")


# -- NSRL RDS v3 ----------------------------------------------------------------------------

NSRL_COLUMNS = ("sha256", "sha1", "md5")


def _nsrl(path: Path) -> Iterator[Entry]:
    """The FILE table of an RDS v3 database (any flavour; "minimal" is the usual one),
    read in rowid order in batches. The database is opened read-only and immutable (no
    journal, no lock files beside it), with its own SQL functions and views not trusted."""
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise UsageError(f"cannot open the NSRL database {path}: {exc}") from None
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.execute("PRAGMA query_only = ON")
        try:
            columns = {row[1].lower() for row in conn.execute('PRAGMA table_info("FILE")')}
        except sqlite3.DatabaseError as exc:
            raise UsageError(f"{path} is not a readable SQLite database ({exc})") from None
        present = [name for name in NSRL_COLUMNS if name in columns]
        if not present:
            raise UsageError(
                f"{path} is not an NSRL RDS v3 database: it has no FILE table with "
                "sha256, sha1 or md5 columns"
            )
        select = ", ".join(present)
        cursor = conn.execute(f'SELECT {select} FROM "FILE"')  # noqa: S608 - fixed names
        while rows := cursor.fetchmany(10_000):
            for row in rows:
                # One digest identifies the file: the strongest the row has (the items
                # of a case have all three), which keeps the store a third of the size.
                for value in row:
                    found = digest(value)
                    if found is not None:
                        yield Entry((found,))
                        break
    except sqlite3.DatabaseError as exc:
        raise UsageError(f"the NSRL database {path} could not be read: {exc}") from None
    finally:
        conn.close()


# -- VICS ----------------------------------------------------------------------------------


def _vics(stream: BinaryIO) -> Iterator[Entry]:
    for record in vics.media_records(stream):
        hashes = tuple(
            found
            for found in (digest(vics.field(record, "MD5")), digest(vics.field(record, "SHA1")))
            if found is not None
        )
        if not hashes:
            continue
        category = vics.field(record, "Category")
        tags = vics.text_list(vics.field(record, "Tags"))
        yield Entry(
            hashes,
            None if category is None else _short(str(category)),
            _short(", ".join(tags)) or None,
        )


# -- plain lists and CSV -------------------------------------------------------------------


def _lines(stream: BinaryIO) -> Iterator[tuple[int, str]]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    yield from enumerate(text, 1)


def _plain_list(stream: BinaryIO) -> Iterator[Entry]:
    """One hash a line (MD5, SHA-1 or SHA-256, by length); ``md5sum``-style lines (a hash,
    then a name) too. Blank lines and lines starting with # are skipped."""
    for number, line in _lines(stream):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        found = digest(text.split()[0])
        if found is None:
            raise UsageError(
                f"line {number} is not an MD5, SHA-1 or SHA-256 (32, 40 or 64 hex digits): "
                f"{text[:80]!r}"
            )
        yield Entry((found,))


def _csv(stream: BinaryIO) -> Iterator[Entry]:
    csv.field_size_limit(CSV_LIMIT)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    sample = text.read(64 << 10)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, ",;\t|")
    except csv.Error:
        dialect = csv.excel
    rest = _chain(sample, text)
    reader = csv.reader(rest, dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise UsageError("the CSV file is empty") from None
    names = [
        name.strip().lower().replace("-", "").replace("_", "").replace(" ", "") for name in header
    ]
    hash_columns = [i for i, name in enumerate(names) if name in CSV_HASH_COLUMNS]
    if not hash_columns:
        raise UsageError(
            "no hash column in the CSV header (looked for md5, sha1, sha256 or hash); "
            f"its columns are: {', '.join(header)[:200]}"
        )
    category = names.index("category") if "category" in names else None
    try:
        for row in reader:
            hashes = tuple(
                found
                for i in hash_columns
                if i < len(row) and (found := digest(row[i])) is not None
            )
            if not hashes:
                continue
            value = row[category].strip() if category is not None and category < len(row) else ""
            yield Entry(hashes, _short(value) or None)
    except csv.Error as exc:
        raise UsageError(
            f"the CSV file could not be read at line {reader.line_num}: {exc}"
        ) from None


def _chain(first: str, rest: io.TextIOBase) -> Iterator[str]:
    """Lines of ``first`` followed by the rest of the stream (the sniffed sample is read
    only once)."""
    buffer = io.StringIO(first)
    pending = ""
    for line in buffer:
        if line.endswith(("\n", "\r")):
            yield pending + line
            pending = ""
        else:
            pending += line
    for line in rest:
        yield pending + line
        pending = ""
    if pending:
        yield pending
