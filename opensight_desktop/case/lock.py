"""One process at a time per case file, whatever name the file is reached by.

Two instances working on one case would each believe an unfinished import or analysis of
the other was interrupted, and an examiner's window would go stale under another's edits.
A lock keyed on the path is bypassed by a symbolic or hard link to the case (two writers,
and SQLite keeps a separate ``-wal`` per name: "database disk image is malformed"), so we
lock the file itself, i.e. its identity (device and inode):

- On POSIX, ``flock(LOCK_EX | LOCK_NB)`` on a read-only descriptor of the case file. flock
  locks belong to the open file description and are independent of the POSIX byte-range
  locks SQLite takes on the same file (Linux, BSD, macOS local file systems), so SQLite works
  as usual while we hold it (tests/test_hostile_case.py checks this). Nothing is created
  beside the case, so it works on read-only media too, and the OS drops it if the process
  dies, so a crash never leaves a case locked.
- Elsewhere (Windows, where locks are mandatory and would block SQLite's own reads), a
  sidecar lock (the ``filelock`` package) in the temporary folder named from the identity.

Within one process a registry of held identities refuses a second open before anything is
done to the file: closing *any* descriptor of a file drops all of the process's POSIX locks
on it, including those of SQLite's connections of the first open, so a refused second open
must not even open and close the file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import tempfile
import threading
from pathlib import Path

from filelock import FileLock, Timeout

from opensight_desktop.errors import CaseFileError

if sys.platform == "win32":  # no flock: a lock file beside the temporary files instead
    fcntl = None
else:
    import fcntl

Identity = tuple[int, int]

_held: set[Identity] = set()
_held_guard = threading.Lock()


def in_use_error(case_path: Path) -> CaseFileError:
    return CaseFileError(
        f"case file is open in another OpenSight window or command: {case_path}. "
        "Close it there first (one program at a time keeps the case consistent)."
    )


def identity_of(case_path: Path) -> Identity:
    """(device, inode) of an existing regular file; a clear error for anything else."""
    try:
        st = os.stat(case_path)
    except FileNotFoundError:
        raise CaseFileError(f"case file not found: {case_path}") from None
    except OSError as exc:
        raise CaseFileError(f"cannot read case file {case_path}: {exc.strerror or exc}") from exc
    if not os.path.isfile(case_path):
        raise CaseFileError(f"not a case file (it is a folder or special file): {case_path}")
    return st.st_dev, st.st_ino


class CaseLock:
    def __init__(
        self, identity: Identity, path: Path, fd: int | None, sidecar: FileLock | None
    ) -> None:
        self.identity = identity
        self.path = path
        self._fd = fd
        self._sidecar = sidecar
        self._released = False

    @classmethod
    def acquire(cls, case_path: Path, *, create: bool = False) -> CaseLock:
        """Lock an existing case file, or with ``create`` a new empty file made here.

        ``create`` uses O_EXCL, so an existing file is never taken over (or overwritten).
        """
        fd: int | None = None
        if create:
            try:
                fd = os.open(
                    case_path, os.O_RDONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
                )
            except FileExistsError:
                raise CaseFileError(
                    f"{case_path} already exists; choose another name "
                    "(existing files are never overwritten)"
                ) from None
            except OSError as exc:
                raise CaseFileError(
                    f"cannot create case file {case_path}: {exc.strerror or exc}"
                ) from exc
            st = os.fstat(fd)
            identity = (st.st_dev, st.st_ino)
        else:
            identity = identity_of(case_path)
        with _held_guard:
            if identity in _held:
                if fd is not None:
                    os.close(fd)
                raise in_use_error(case_path)
            _held.add(identity)
        try:
            return cls._lock(case_path, identity, fd)
        except BaseException:
            with _held_guard:
                _held.discard(identity)
            raise

    @classmethod
    def _lock(cls, case_path: Path, identity: Identity, fd: int | None) -> CaseLock:
        if fcntl is None:
            name = f"opensight-case-{identity[0]:x}-{identity[1]:x}.lock"
            sidecar = FileLock(
                os.path.join(tempfile.gettempdir(), name),
                timeout=0,
                thread_local=False,
                is_singleton=False,
            )
            try:
                sidecar.acquire()
            except Timeout as exc:
                raise in_use_error(case_path) from exc
            return cls(identity, case_path, fd, sidecar)
        try:
            if fd is None:
                fd = os.open(case_path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) != identity:
                raise CaseFileError(
                    f"case file was replaced by another file while it was being opened: {case_path}"
                )
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise in_use_error(case_path) from None
        except OSError as exc:
            if fd is not None:
                os.close(fd)
            if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                raise CaseFileError(
                    f"cannot lock case file {case_path}: its file system does not support "
                    "file locks, so two programs could write it at once; copy the case to a "
                    "local disk"
                ) from exc
            reason = exc.strerror or exc
            raise CaseFileError(f"cannot open case file {case_path}: {reason}") from exc
        except BaseException:
            if fd is not None:
                os.close(fd)
            raise
        return cls(identity, case_path, fd, None)

    def release(self) -> None:
        """Drop the lock; call only after every SQLite connection to the case is closed."""
        if self._released:
            return
        self._released = True
        if self._sidecar is not None and self._sidecar.is_locked:
            self._sidecar.release()
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None
        with _held_guard:
            _held.discard(self.identity)
