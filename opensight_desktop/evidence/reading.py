"""The only way the app opens evidence: read-only, never following into special files.

O_NOATIME keeps the access time of originals as it was where the OS allows it (Linux,
for files the user owns); O_NONBLOCK stops a FIFO planted in a folder from hanging an
import. Anything that is not a regular file after opening is refused.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

CHUNK_SIZE = 1 << 20
# Files up to this size are decoded from the very bytes that were hashed (one read, and
# what is decoded provably is the hashed content); larger ones are opened again.
KEEP_IN_MEMORY_BYTES = 256 << 20

_BASE_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOATIME = getattr(os, "O_NOATIME", 0)


class NotARegularFile(OSError):
    pass


def open_evidence(path: str | bytes) -> BinaryIO:
    flags = _BASE_FLAGS | _NONBLOCK
    try:
        fd = os.open(path, flags | _NOATIME)
    except PermissionError:
        if not _NOATIME:
            raise
        fd = os.open(path, flags)  # O_NOATIME needs ownership; plain read-only it is
    except OSError as exc:
        if exc.errno != errno.EINVAL or not _NOATIME:
            raise
        fd = os.open(path, flags)  # some file systems reject O_NOATIME
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotARegularFile(errno.EINVAL, "not a regular file", path)
        if _NONBLOCK and hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise


def os_error_reason(exc: OSError) -> str:
    """Human wording for why a file could not be read."""
    if isinstance(exc, NotARegularFile):
        return "not a regular file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "file disappeared before it could be read"
    if isinstance(exc, IsADirectoryError):
        return "is a folder"
    if exc.errno == errno.EIO:
        return "input/output error (damaged medium?)"
    return exc.strerror or str(exc)
