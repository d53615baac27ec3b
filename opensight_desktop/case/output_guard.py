"""Refuse an output path that would replace evidence, the case file or the model store.

Reports and exports go where the examiner (or a script) says. A mistyped or crafted ``-o``
must never replace an original, anything inside a folder the case imported from, the case
file or its SQLite and lock companions, or the installed models. Every writer of outputs
calls :func:`check_output` before any work, and again just before its final rename (the
same path), so the GUI is protected as much as the command line.

A path is compared after following symbolic links and, for files and folders that exist,
by device and inode too, which catches hard links and bind mounts. Names are compared
without regard to case, as Windows and macOS do: on Linux that can only refuse more.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from opensight_desktop.case.models import EvidenceFile, ImportSession
from opensight_desktop.case.store import Case
from opensight_desktop.errors import OpenSightError, UsageError
from opensight_desktop.fileio import atomic_output
from opensight_desktop.paths import models_dir, settings_file

# SQLite's write-ahead log, shared memory and rollback journal, and the case lock.
CASE_COMPANIONS = {
    "": "the case file itself",
    "-wal": "the case file's write-ahead log",
    "-shm": "the case file's shared-memory file",
    "-journal": "the case file's rollback journal",
    ".lock": "the case file's lock file",
}
_ESCAPED_BYTE = re.compile(r"\\x([0-9a-fA-F]{2})")

Identity = tuple[int, int]  # (st_dev, st_ino)


def check_output(case: Case, output: str | os.PathLike[str], what: str = "output") -> Path:
    """The absolute path to write ``what`` to; raises UsageError if it must not be written.

    Nothing is created or changed: this only looks (stat, realpath and one query).
    """
    text = os.fspath(output)
    if not text.strip():
        raise UsageError(f"the {what} file name is empty; give a file name")
    path = Path(os.path.abspath(text))
    if text.endswith(("/", os.sep)) or path.is_dir():
        raise UsageError(f"the {what} must be a file, not a folder: {path}")
    if not path.parent.is_dir():
        raise UsageError(f"{what} folder does not exist: {path.parent}")
    try:
        found = os.stat(path)  # follows a symbolic link to what it names
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise UsageError(f"cannot use {path} as the {what}: {exc.strerror or exc}") from exc
    if found is not None and not stat.S_ISREG(found.st_mode):
        raise UsageError(f"the {what} must be a regular file: {path} is a device or special file")
    reason = _Protected.of(case).reason(path, found)
    if reason:
        raise UsageError(
            f"will not write the {what} to {path}: it is {reason}. Reports and exports never "
            "replace evidence, the case or installed models; choose a file elsewhere"
        )
    if not os.access(path.parent, os.W_OK):
        raise UsageError(f"cannot write the {what} in {path.parent}: the folder is not writable")
    return path


@contextlib.contextmanager
def checked_output(
    case: Case,
    path: Path,
    what: str,
    mode: str = "wb",
    *,
    encoding: str | None = None,
    newline: str | None = None,
) -> Iterator[IO[Any]]:
    """Write ``path`` (from :func:`check_output`) atomically, checking it again just before
    the rename: the work in between may have taken minutes."""
    try:
        with atomic_output(
            path,
            mode,
            before_replace=lambda: check_output(case, path, what),
            encoding=encoding,
            newline=newline,
        ) as handle:
            yield handle
    except OSError as exc:
        raise OpenSightError(
            f"could not write the {what} to {path}: {exc.strerror or exc}; nothing was written"
        ) from exc


def _key(path: str | os.PathLike[str]) -> str:
    return os.path.normpath(os.fspath(path)).casefold()


def _identity(path: str | os.PathLike[str]) -> Identity | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):  # missing, unreadable, or a name the OS cannot take
        return None
    return st.st_dev, st.st_ino


def _source_paths(source: str) -> set[str]:
    """An import source as stored (display form) and with its escaped bytes restored."""
    paths = {source}
    if _ESCAPED_BYTE.search(source):
        raw = _ESCAPED_BYTE.sub(lambda m: chr(0xDC00 + int(m.group(1), 16)), source)
        with contextlib.suppress(UnicodeError):  # surrogates: Python's undecodable bytes
            paths.add(os.fsdecode(os.fsencode(raw)))
    return paths


@dataclass
class _Protected:
    """What an output must not land on: exact files and whole folder trees."""

    files: dict[str, str] = field(default_factory=dict)  # path key -> reason
    trees: dict[str, str] = field(default_factory=dict)
    tree_ids: dict[Identity, str] = field(default_factory=dict)
    file_paths: list[tuple[str, str]] = field(default_factory=list)  # stat'ed only when needed

    @classmethod
    def of(cls, case: Case) -> _Protected:
        protected = cls()
        for suffix, reason in CASE_COMPANIONS.items():
            protected._file(case.path.with_name(case.path.name + suffix), reason)
        # Backup copies made before schema upgrades (CASE.<label>-<time>.bak).
        for backup in case.path.parent.glob(f"{glob.escape(case.path.name)}.*.bak"):
            protected._file(backup, "a backup copy of the case file")
        protected._tree(models_dir(), "inside the model store")
        protected._file(settings_file(), "the application's settings file")
        with case.read() as session:
            for sources in session.scalars(select(ImportSession.sources)):
                for source in sources if isinstance(sources, list) else []:
                    for path in _source_paths(str(source)):
                        protected._tree(path, f"inside {source}, which this case imported from")
            for raw in session.scalars(select(EvidenceFile.path_raw)):
                name = os.fsdecode(raw) if isinstance(raw, bytes) else str(raw)
                protected._file(name, "an evidence file of this case", resolve=False)
        return protected

    def _file(self, path: str | os.PathLike[str], reason: str, resolve: bool = True) -> None:
        # Evidence paths are many; links in them are caught by their folders and inodes.
        for form in _forms(path) if resolve else [Path(os.path.abspath(path))]:
            self.files.setdefault(_key(form), reason)
        self.file_paths.append((os.fspath(path), reason))

    def _tree(self, path: str | os.PathLike[str], reason: str) -> None:
        for form in _forms(path):
            self.trees.setdefault(_key(form), reason)
        identity = _identity(path)
        if identity is not None:
            self.tree_ids.setdefault(identity, reason)

    def reason(self, path: Path, found: os.stat_result | None) -> str | None:
        for form in _forms(path):
            key = _key(form)
            if key in self.files:
                return self.files[key]
            for folder in (form, *form.parents):
                folder_key = _key(folder)
                if folder_key in self.trees:
                    return self.trees[folder_key]
        for folder in Path(os.path.realpath(path.parent)).joinpath("x").parents:
            identity = _identity(folder)
            if identity in self.tree_ids:  # the same folder reached another way (bind mount)
                return self.tree_ids[identity]
        if found is not None:  # an existing file: is it a hard link of a protected one?
            wanted = (found.st_dev, found.st_ino)
            for protected_path, reason in self.file_paths:
                if _identity(protected_path) == wanted:
                    return reason
        return None


def _forms(path: str | os.PathLike[str]) -> list[Path]:
    """A path as written (made absolute) and with every symbolic link in it followed."""
    absolute = Path(os.path.abspath(path))
    try:
        resolved = Path(os.path.realpath(absolute))
    except (OSError, ValueError):
        return [absolute]
    return [absolute] if resolved == absolute else [absolute, resolved]
