"""Walk the files and folders given to an import: sorted, streaming, loop-safe.

Symbolic links to folders are followed once: every folder is identified by (device,
inode), so a link back to an ancestor (or two links to one folder) cannot loop.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class FoundFile:
    """A regular file (or a symbolic link to one); stat it when needed, not while walking."""

    path: str  # absolute; may hold surrogate escapes for undecodable bytes
    # the folder given to the import that this file was found in (for a file given by
    # itself, its folder), as given: symbolic links not resolved
    root: str | None = None


@dataclass(frozen=True)
class Unusable:
    path: str
    reason: str


def display_path(path: str) -> str:
    """A printable, storable form of a path (undecodable bytes shown as \\xNN)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def walk(paths: list[str], recursive: bool = True) -> Iterator[FoundFile | Unusable]:
    seen_dirs: set[tuple[int, int]] = set()
    for given in paths:
        path = os.path.abspath(given)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            reason = "broken symbolic link" if os.path.islink(path) else "not found"
            yield Unusable(path, reason)
            continue
        except OSError as exc:
            yield Unusable(path, f"cannot be read: {exc.strerror or exc}")
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(path, st, recursive, seen_dirs, path)
        else:
            yield _classify(path, st, os.path.dirname(path))


def _classify(path: str, st: os.stat_result, root: str) -> FoundFile | Unusable:
    if stat.S_ISREG(st.st_mode):
        return FoundFile(path, root)
    kind = (
        "named pipe"
        if stat.S_ISFIFO(st.st_mode)
        else "socket"
        if stat.S_ISSOCK(st.st_mode)
        else "device file"
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
        else "special file"
    )
    return Unusable(path, f"not a regular file ({kind})")


def _walk_dir(
    path: str,
    st: os.stat_result,
    recursive: bool,
    seen: set[tuple[int, int]],
    root: str,
) -> Iterator[FoundFile | Unusable]:
    key = (st.st_dev, st.st_ino)
    if key in seen:
        yield Unusable(path, "folder already visited (symbolic-link loop or second link)")
        return
    seen.add(key)
    try:
        with os.scandir(path) as scan:
            entries = sorted(scan, key=lambda e: os.fsencode(e.name))
    except OSError as exc:
        yield Unusable(path, f"folder cannot be read: {exc.strerror or exc}")
        return
    subdirs: list[tuple[str, os.stat_result]] = []
    for entry in entries:
        # The directory entry's type needs no system call for plain files, the bulk of
        # any evidence folder; links, folders and special files are stat'ed.
        if entry.is_file(follow_symlinks=False):
            yield FoundFile(entry.path, root)
            continue
        try:
            entry_stat = entry.stat(follow_symlinks=True)
        except FileNotFoundError:
            yield Unusable(entry.path, "broken symbolic link")
            continue
        except OSError as exc:
            reason = (
                "symbolic-link loop"
                if exc.errno == errno.ELOOP
                else f"cannot be read: {exc.strerror}"
            )
            yield Unusable(entry.path, reason)
            continue
        if stat.S_ISDIR(entry_stat.st_mode):
            subdirs.append((entry.path, entry_stat))
        else:
            yield _classify(entry.path, entry_stat, root)
    if recursive:
        for sub_path, sub_stat in subdirs:
            yield from _walk_dir(sub_path, sub_stat, recursive, seen, root)
