"""SQLite connections for a case file: pragmas, transactions, and a cheap header check.

pysqlite's own transaction handling does not wrap DDL and begins lazily; we switch it off
(``isolation_level=None``) and emit BEGIN ourselves, as SQLAlchemy's SQLite docs advise,
so that a schema upgrade is one real transaction. Writers use BEGIN IMMEDIATE: they take
the write lock up front and wait for it (busy timeout) instead of failing half-way.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import QueuePool

from opensight_desktop.errors import CaseFileError

# "OSDC" in the SQLite header's application_id field marks a file as an OpenSight case.
APPLICATION_ID = 0x4F534443
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 15000


def check_header(path: Path) -> None:
    """Reject what is plainly not an intact case file, reading 100 bytes and nothing else."""
    if not path.exists():
        raise CaseFileError(f"case file not found: {path}")
    if not path.is_file():
        raise CaseFileError(f"not a case file (it is a folder or special file): {path}")
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
        size = path.stat().st_size
    except OSError as exc:
        raise CaseFileError(f"cannot read case file {path}: {exc.strerror or exc}") from exc
    if not header:
        raise CaseFileError(f"not a case file (the file is empty): {path}")
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise CaseFileError(f"not an OpenSight case file (not an SQLite database): {path}")
    app_id = int.from_bytes(header[68:72], "big")
    if app_id != APPLICATION_ID:
        raise CaseFileError(
            f"not an OpenSight case file (an SQLite database of another application): {path}"
        )
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    wal = path.with_name(path.name + "-wal")
    # With no write-ahead log holding pages, the file must be as long as its header says.
    if pages and not wal.exists() and size < pages * page_size:
        raise CaseFileError(
            f"case file is damaged (truncated: {size} bytes of {pages * page_size}): {path}. "
            "Restore it from a backup copy; this file is left as it is."
        )


def connect(path: Path, *, readonly: bool = False, immutable: bool = False) -> sqlite3.Connection:
    """A raw connection with the case pragmas.

    ``immutable`` is for read-only media, where SQLite cannot create the ``-shm`` index
    beside the case (a plain read-only open fails there): the file is read as unchanging,
    without locks. It ignores a write-ahead log beside the file: the caller refuses a case
    whose log holds changes (``Case.open``).
    """
    if readonly or immutable:
        query = "mode=ro&immutable=1" if immutable else "mode=ro"
        uri = "file:" + quote(os.fspath(path)) + "?" + query
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    # Functions with side effects may not run from the case's own schema (views, triggers,
    # defaults): a crafted case file is untrusted input.
    conn.execute("PRAGMA trusted_schema = OFF")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if not (readonly or immutable):
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a commit that returned is on disk even after a power cut (evidence records).
        conn.execute("PRAGMA synchronous = FULL")
    return conn


def sqlite_connection(dbapi_connection: object) -> sqlite3.Connection:
    """The sqlite3 connection under SQLAlchemy's pool (which types it as any DBAPI one)."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        raise TypeError(f"not a sqlite3 connection: {type(dbapi_connection).__name__}")
    return dbapi_connection


def make_engine(
    path: Path, *, readonly: bool = False, immediate: bool = False, immutable: bool = False
) -> Engine:
    # Pooled connections keep the write-ahead log open between transactions; with none
    # left open, SQLite checkpoints and deletes the log after every single commit.
    engine = create_engine(
        "sqlite://",
        creator=lambda: connect(path, readonly=readonly, immutable=immutable),
        poolclass=QueuePool,
        pool_size=2,
        max_overflow=4,
    )
    begin_sql = "BEGIN IMMEDIATE" if immediate and not (readonly or immutable) else "BEGIN"

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin_sql)

    return engine


def init_new_file(path: Path) -> None:
    """Create an empty database whose header already says "OpenSight case".

    The id is written before WAL mode is switched on so that it lands in the main file
    at once (in WAL mode it would sit in the log until the next checkpoint).
    """
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("PRAGMA page_size = 4096")
        conn.execute("VACUUM")
    finally:
        conn.close()
