"""The only way the app opens evidence: read-only, never following into special files.

O_NOATIME keeps the access time of originals as it was where the OS allows it (Linux,
for files the user owns). O_NONBLOCK stays set for the life of the handle: it stops a
FIFO planted in a folder from hanging the open, and a kernel file that passes for a
regular one (``/proc/kmsg``: S_ISREG, size 0, blocks on read) then fails its read with
EAGAIN instead of hanging it; files on disk ignore the flag. Anything that is not a
regular file after opening is refused, and so are files of the kernel's own interface
file systems (procfs, sysfs, ...): reading some of them changes the system
(``/proc/kmsg`` hands out kernel messages once).
"""

from __future__ import annotations

import errno
import io
import os
import stat
import sys
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

CHUNK_SIZE = 1 << 20
# What was hashed is kept for decoding (what is decoded is then provably the hashed
# content): files up to this size in memory, larger ones in a private temporary copy made
# while hashing (evidence.hashing.KeptCopy). Read at call time, so tests can lower it.
KEEP_IN_MEMORY_BYTES = 256 << 20

_BASE_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOATIME = getattr(os, "O_NOATIME", 0)

# Linux file systems that are interfaces to the kernel, not stored data.
KERNEL_FILE_SYSTEMS = frozenset(
    {
        "proc",
        "sysfs",
        "debugfs",
        "tracefs",
        "securityfs",
        "configfs",
        "cgroup",
        "cgroup2",
        "pstore",
        "bpf",
        "efivarfs",
        "fusectl",
        "binfmt_misc",
        "devpts",
        "mqueue",
        "selinuxfs",
        "rpc_pipefs",
        "nfsd",
    }
)


class NotARegularFile(OSError):
    pass


class KernelInterfaceFile(NotARegularFile):
    """A regular-looking file on one of KERNEL_FILE_SYSTEMS; ``file_system`` names it."""

    def __init__(self, file_system: str, path: str | bytes) -> None:
        super().__init__(errno.EINVAL, f"a file of the kernel's {file_system} file system", path)
        self.file_system = file_system


class WouldBlock(BlockingIOError):
    """A read found no data where a file on disk always has some: a device or kernel file
    behind a regular-looking name."""


class EvidenceFile(io.FileIO):
    """An evidence file opened by :func:`open_evidence`. With O_NONBLOCK, ``FileIO``
    returns None from a read that would block, which code reading to the end mistakes for
    the end of the file: here that is an error (:class:`WouldBlock`)."""

    evidence_path: str | bytes = ""

    def read(self, size: int | None = -1, /) -> bytes:
        return self._data(super().read(size))

    def readall(self) -> bytes:
        return self._data(super().readall())

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        count = super().readinto(buffer)
        if count is None:
            raise WouldBlock(errno.EAGAIN, "reading the file would block", self.evidence_path)
        return count

    def _data(self, data: bytes | None) -> bytes:
        if data is None:
            raise WouldBlock(errno.EAGAIN, "reading the file would block", self.evidence_path)
        return data


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
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotARegularFile(errno.EINVAL, "not a regular file", path)
        file_system = kernel_file_system(st.st_dev)
        if file_system is not None:
            raise KernelInterfaceFile(file_system, path)
        handle = EvidenceFile(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise
    handle.evidence_path = path
    return handle


def kernel_file_system(device: int) -> str | None:
    """The kernel interface file system that holds files of this device number, if any.

    Such file systems have anonymous device numbers (major 0), as do tmpfs, btrfs, NFS and
    overlays; only for those is the mount table read (a few kilobytes).
    """
    if not sys.platform.startswith("linux") or os.major(device) != 0:
        return None
    wanted = f"{os.major(device)}:{os.minor(device)}".encode()
    try:
        with open("/proc/self/mountinfo", "rb") as mounts:
            table = mounts.read()
    except OSError:
        return None
    for line in table.splitlines():
        # "36 35 0:21 / /proc rw,relatime shared:5 - proc proc rw": the device is field 3,
        # the file system type follows the lone "-" after the optional fields.
        fields = line.split(b" ")
        if len(fields) < 8 or fields[2] != wanted or b"-" not in fields[6:]:
            continue
        kind = fields[fields.index(b"-", 6) + 1].decode("ascii", "replace")
        return kind if kind in KERNEL_FILE_SYSTEMS else None
    return None


def opened_path(handle: BinaryIO, fallback: str) -> str:
    """Where the open file really is (every symbolic link resolved): asked of the open
    descriptor where the OS can tell (Linux, macOS), so it names the very file that is read."""
    fd = handle.fileno()
    try:
        if sys.platform.startswith("linux"):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if os.path.isabs(target) and not target.endswith(" (deleted)"):
                return target
        elif sys.platform == "darwin":  # pragma: no cover - macOS
            import fcntl

            buffer = fcntl.fcntl(fd, fcntl.F_GETPATH, bytes(1024))
            return os.fsdecode(buffer.split(b"\0", 1)[0])
    except OSError:
        pass
    return os.path.realpath(fallback)


def os_error_reason(exc: OSError) -> str:
    """Human wording for why a file could not be read."""
    if isinstance(exc, KernelInterfaceFile):
        return (
            f"not evidence data: a file of the kernel's {exc.file_system} file system "
            "(an interface to the running system), not read"
        )
    if isinstance(exc, NotARegularFile):
        return "not a regular file"
    if isinstance(exc, BlockingIOError):
        return (
            "reading would block: a device or kernel file behind a regular-looking name, "
            "not data stored on a disk"
        )
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "file disappeared before it could be read"
    if isinstance(exc, IsADirectoryError):
        return "is a folder"
    if exc.errno == errno.EIO:
        return "input/output error (damaged medium?)"
    return exc.strerror or str(exc)
