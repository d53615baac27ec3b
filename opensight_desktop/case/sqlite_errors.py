"""SQLite errors told apart by their result code, never by their message text.

What the environment causes (another program holding the lock, read-only or full storage,
an input/output error, a damaged file, no permission, no memory) becomes a CaseFileError
that says so in words. Anything else (a constraint our own write violates, SQL that SQLite
refuses, misuse of the API) means the application is wrong: it is left as it is, so that
the front ends log it with its traceback and report an internal error. qutebrowser's
``misc/sql.py`` draws the same line.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from opensight_desktop.errors import CaseFileError

_IN_USE = "case file is in use by another program or window ({name}): {path}"
_DAMAGED = (
    "case file is damaged ({text}, {name}): {path}. Restore it from a backup copy; "
    "this file is left as it is"
)

# What each primary result code the environment causes means for the user
# (https://www.sqlite.org/rescode.html); {name} is the extended code's name.
_ENVIRONMENTAL: dict[int, str] = {
    sqlite3.SQLITE_BUSY: _IN_USE,
    sqlite3.SQLITE_LOCKED: _IN_USE,
    sqlite3.SQLITE_READONLY: "case file or its folder is read-only ({name}): {path}",
    sqlite3.SQLITE_FULL: (
        "the disk holding the case file is full ({name}): {path}. Free some space and try "
        "again; the change that did not fit was not saved"
    ),
    sqlite3.SQLITE_IOERR: (
        "the storage of the case file reported an input/output error ({text}, {name}): "
        "{path}. The drive may have been removed or may be failing"
    ),
    sqlite3.SQLITE_CORRUPT: _DAMAGED,
    sqlite3.SQLITE_NOTADB: _DAMAGED,
    sqlite3.SQLITE_CANTOPEN: (
        "case file cannot be opened ({text}, {name}): {path}. SQLite must be able to open "
        "it and to create its -wal and -shm files beside it"
    ),
    sqlite3.SQLITE_PERM: "no permission to use the case file ({name}): {path}",
    sqlite3.SQLITE_NOMEM: "not enough memory to work with the case file ({name}): {path}",
    sqlite3.SQLITE_PROTOCOL: (
        "the storage of the case file does not lock it reliably ({name}; network file "
        "systems can do this): {path}. Copy the case to a local disk"
    ),
}


def _sqlite_error(exc: BaseException) -> tuple[sqlite3.Error, int] | None:
    """The SQLite error (also inside SQLAlchemy's wrapper) and its extended result code."""
    error = exc.orig if isinstance(exc, DBAPIError) else exc
    if not isinstance(error, sqlite3.Error):
        return None
    code = getattr(error, "sqlite_errorcode", None)  # None: raised by the module, not SQLite
    return (error, code) if isinstance(code, int) else None


def environmental(exc: BaseException) -> bool:
    """Whether ``exc`` is an SQLite error the environment causes, not a bug."""
    found = _sqlite_error(exc)
    return found is not None and found[1] & 0xFF in _ENVIRONMENTAL


def case_file_error(path: Path, exc: BaseException) -> CaseFileError | None:
    """The user's error for an SQLite error the environment causes; None for any other
    error, which is a bug to re-raise as it is."""
    found = _sqlite_error(exc)
    if found is None or found[1] & 0xFF not in _ENVIRONMENTAL:
        return None
    error, code = found
    name = getattr(error, "sqlite_errorname", None) or f"SQLite error {code}"
    return CaseFileError(_ENVIRONMENTAL[code & 0xFF].format(name=name, text=error, path=path))


@contextlib.contextmanager
def environmental_errors(path: Path, note: str = "") -> Iterator[None]:
    """SQLite errors raised in the block that the environment causes become CaseFileError
    (``note`` appended: what state the case is left in); any other error goes on as it is."""
    try:
        yield
    except (DBAPIError, sqlite3.Error) as exc:
        error = case_file_error(path, exc)
        if error is None:
            raise
        if note:
            error = CaseFileError(f"{error}. {note}")
        raise error from exc
