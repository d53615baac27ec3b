"""Can the case be written where it lies? (write-once archives, read-only mounts, ...)

A case on read-only storage is opened read-only, for viewing, ``verify`` and reports
written elsewhere, instead of failing at its first write. What we ask the OS, without
changing anything:

- the case file: opening it for writing (``O_RDWR``, closed at once) fails with EROFS on a
  read-only mount, EPERM for an immutable or append-only file, EACCES without permission.
  Asking by opening, not by ``access()``, because the open is what SQLite will do; it is
  done before any SQLite connection of this process exists (see ``case.lock`` on why
  closing a descriptor of the case file matters).
- its folder: SQLite keeps its write-ahead log and shared-memory index beside the case, so
  the folder must be writable too (``access(W_OK | X_OK)``, which reports a read-only
  mount or an immutable folder even to root).

Where the folder is not writable SQLite cannot create the ``-shm`` index, and a plain
read-only open of a WAL-mode database fails there; such a case is read as immutable
(``database.connect(immutable=True)``), which is what read-only storage is. SQLite does
not read a write-ahead log then, so a case left there with a log that holds changes (a copy
made while it was open) is refused with a message rather than shown without them.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from opensight_desktop.errors import CaseFileError


@dataclass(frozen=True)
class StorageAccess:
    read_only_reason: str | None  # why the case cannot be written here; None: it can
    folder_writable: bool


def _reason(exc: OSError) -> str:
    if exc.errno == errno.EROFS:
        return "it is on a read-only file system"
    if exc.errno == errno.EPERM:
        return "the file is marked immutable or append-only"
    if exc.errno == errno.EACCES:
        return "this user may not write the file"
    return f"the file cannot be opened for writing ({exc.strerror or exc})"


def _open_for_writing(path: Path) -> int:
    return os.open(path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))


def probe(path: Path) -> StorageAccess:
    folder_writable = os.access(path.parent, os.W_OK | os.X_OK)
    try:
        os.close(_open_for_writing(path))
    except OSError as exc:
        if exc.errno in (errno.EROFS, errno.EPERM, errno.EACCES, errno.ETXTBSY):
            reason = f"the case file cannot be written: {_reason(exc)}"
            return StorageAccess(reason, folder_writable)
        raise CaseFileError(f"cannot open case file {path}: {exc.strerror or exc}") from exc
    if not folder_writable:
        return StorageAccess(
            f"its folder {path.parent} is not writable (SQLite keeps a log beside the case)",
            False,
        )
    return StorageAccess(None, True)
