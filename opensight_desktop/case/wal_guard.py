"""Refuse a write-ahead log that is not this case's, before SQLite replays it.

SQLite replays any valid ``CASE-wal`` found beside a database: nothing in a WAL names the
database it belongs to. A log of another case placed beside this one is merged silently
(the other case's number and title over this case's items). A WAL is left behind only by a
crash, by a copy made while a case was open, or by tampering, so this check runs rarely
and may afford to be thorough:

1. A cheap look at the log (header and first frame, with their checksums) tells whether
   SQLite would replay anything at all; a log it would ignore needs no further check.
2. Otherwise the case file and the log are copied into a private temporary folder (neither
   original is opened for writing, locked or changed), the case row is read from the copy
   alone, then from the copy with the log replayed, and the two must agree: same case
   (uuid), an audit log that continues the one in the case file (the entry the case file
   records as the newest is still there, unchanged), and a merged database whose
   structure passes SQLite's ``quick_check``.

Case creation checkpoints once (``Case.create``), so the case file always holds its own
case row. A case file with no readable case row of its own (a creation interrupted by an
older version, or a file unreadable without its log after a crash in the middle of a
checkpoint) has nothing to compare with, and is let through here.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

from opensight_desktop.case.database import connect
from opensight_desktop.errors import CaseFileError

WAL_MAGIC_LE, WAL_MAGIC_BE = 0x377F0682, 0x377F0683
WAL_VERSION = 3007000
WAL_HEADER = 32
FRAME_HEADER = 24


def wal_path(case_path: Path) -> Path:
    return case_path.with_name(case_path.name + "-wal")


def _checksum(data: bytes, big_endian: bool, s1: int = 0, s2: int = 0) -> tuple[int, int]:
    """SQLite's WAL checksum (a Fletcher-like sum over 32-bit word pairs)."""
    words = struct.unpack((">" if big_endian else "<") + f"{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        s1 = (s1 + words[i] + s2) & 0xFFFFFFFF
        s2 = (s2 + words[i + 1] + s1) & 0xFFFFFFFF
    return s1, s2


def would_replay(wal: Path) -> bool:
    """Whether SQLite would take at least one frame from this log (header and first frame)."""
    if not wal.exists():
        return False
    try:
        with open(wal, "rb") as handle:
            header = handle.read(WAL_HEADER)
            if len(header) < WAL_HEADER:
                return False
            magic, version, page_size, _ckpt, salt1, salt2, ck1, ck2 = struct.unpack(">8I", header)
            if magic not in (WAL_MAGIC_LE, WAL_MAGIC_BE) or version != WAL_VERSION:
                return False
            if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
                return False
            big_endian = magic == WAL_MAGIC_BE
            if _checksum(header[:24], big_endian) != (ck1, ck2):
                return False
            frame = handle.read(FRAME_HEADER + page_size)
    except OSError:
        return True  # unreadable here: let the thorough check report it
    if len(frame) < FRAME_HEADER + page_size:
        return False
    _pgno, _commit, f_salt1, f_salt2, f_ck1, f_ck2 = struct.unpack(">6I", frame[:FRAME_HEADER])
    if (f_salt1, f_salt2) != (salt1, salt2):
        return False
    s1, s2 = _checksum(frame[:8], big_endian, ck1, ck2)
    return _checksum(frame[FRAME_HEADER:], big_endian, s1, s2) == (f_ck1, f_ck2)


@dataclass(frozen=True)
class _CaseRow:
    uuid: str
    number: str
    title: str
    head_seq: int
    head_hash: str


def _read_case_row(path: Path) -> _CaseRow | None:
    conn = connect(path)
    try:
        if not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'case_info' COLLATE NOCASE"
        ).fetchone():
            return None
        row = conn.execute(
            "SELECT uuid, number, title, audit_head_seq, audit_head_hash "
            "FROM case_info WHERE id = 1"
        ).fetchone()
        return None if row is None else _CaseRow(row[0], row[1], row[2], int(row[3]), str(row[4]))
    finally:
        conn.close()


def _merged_problem(path: Path, own: _CaseRow) -> str | None:
    """Why the copy with the log replayed is not a continuation of the case alone."""
    merged = _read_case_row(path)
    if merged is None:
        return "with it replayed the case has no case record"
    if merged.uuid != own.uuid:
        return f"it belongs to another case, number {merged.number!r} titled {merged.title!r}"
    conn = connect(path)
    try:
        row = conn.execute(
            "SELECT entry_hash FROM audit_entry WHERE seq = ?", (own.head_seq,)
        ).fetchone()
        if merged.head_seq < own.head_seq or (
            own.head_seq and (row is None or row[0] != own.head_hash)
        ):
            return "it does not continue the case's audit log"
        check = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall()]
    finally:
        conn.close()
    if check != ["ok"]:
        return "with it replayed the database structure is damaged (" + "; ".join(check[:3]) + ")"
    return None


def check_wal_belongs(case_path: Path) -> None:
    """Raise CaseFileError if ``CASE-wal`` would replay something that is not this case's."""
    wal = wal_path(case_path)
    try:
        if wal.stat().st_size == 0:
            return
    except FileNotFoundError:
        return
    except OSError as exc:
        raise CaseFileError(
            f"cannot read the write-ahead log beside the case ({wal.name}): "
            f"{exc.strerror or exc}: {case_path}"
        ) from exc
    if not would_replay(wal):
        return
    problem = _compare_in_private_copy(case_path, wal)
    if problem is not None:
        raise CaseFileError(
            f"the write-ahead log beside the case ({wal.name}) does not belong to it: "
            f"{problem}. SQLite would have merged it into the case; neither file was changed. "
            f"Move {wal.name} out of the folder (keep it: it may be evidence of tampering) "
            f"and open the case again: {case_path}"
        )


def _compare_in_private_copy(case_path: Path, wal: Path) -> str | None:
    try:
        with tempfile.TemporaryDirectory(prefix="opensight-wal-check-") as folder:
            copy = Path(folder) / "case.osc"
            shutil.copyfile(case_path, copy)
            try:  # no log beside the copy yet: the case file alone
                own = _read_case_row(copy)
            except sqlite3.DatabaseError:
                # Unreadable alone (a crash in the middle of a checkpoint leaves the file
                # half-written until the log is replayed): nothing to compare with.
                own = None
            if own is None:
                return None
            shutil.copyfile(wal, wal_path(copy))
            return _merged_problem(copy, own)
    except sqlite3.DatabaseError as exc:
        return f"it cannot be replayed onto the case ({exc})"
    except OSError as exc:
        raise CaseFileError(
            f"a write-ahead log ({wal.name}) lies beside the case and could not be checked: "
            f"copying them to the temporary folder {tempfile.gettempdir()} failed "
            f"({exc.strerror or exc}); free space there or point TMPDIR at a folder with room "
            f"for a copy of the case ({os.path.getsize(case_path)} bytes): {case_path}"
        ) from exc
