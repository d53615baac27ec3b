"""One process at a time per case file.

SQLite keeps concurrent writers consistent, but two instances working on one case would
each believe an unfinished import or analysis of the other was interrupted, and an
examiner's window would go stale under another's edits. An advisory lock on a sidecar
file (``CASE.osc.lock``, via the maintained ``filelock`` package: fcntl/msvcrt) makes the
second instance stop with a clear message instead. The lock is released by the OS if the
process dies, so a crash never leaves a case locked.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from filelock import FileLock, Timeout

from opensight_desktop.errors import CaseFileError


class CaseLock:
    def __init__(self, lock: FileLock, path: Path) -> None:
        self._lock = lock
        self.path = path

    @classmethod
    def acquire(cls, case_path: Path) -> CaseLock:
        lock_path = case_path.with_name(case_path.name + ".lock")
        lock = FileLock(str(lock_path), timeout=0, thread_local=False, is_singleton=False)
        try:
            lock.acquire()
        except Timeout as exc:
            raise CaseFileError(
                f"case file is open in another OpenSight window or command: {case_path}. "
                "Close it there first (one program at a time keeps the case consistent)."
            ) from exc
        except OSError as exc:
            raise CaseFileError(
                f"cannot use case file {case_path}: its folder is not writable "
                f"({exc.strerror or exc})"
            ) from exc
        try:  # who holds it, for a person looking at the folder
            with open(lock_path, "w", encoding="utf-8") as handle:
                handle.write(f"{socket.gethostname()} pid {os.getpid()}\n")
        except OSError:
            pass
        return cls(lock, lock_path)

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()
