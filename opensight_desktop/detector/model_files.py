"""The files of one model: read safely, hashed as read, and summed up in one identity.

Checkpoint folders and the model store are untrusted: a ``config.json`` may be a link to
``../../elsewhere`` or to a special file (``/proc/kmsg``, a FIFO) that blocks whoever reads
it. Every file the checkpoint reader opens goes through :class:`ModelFiles`: it must
resolve inside the model's folder, be a regular file once opened (opened non-blocking,
the evidence reader's way) and fit a size limit. Its bytes are hashed as they are read,
so what is parsed is exactly what was hashed, and a file that differs from what was
expected (the store's manifest) is refused before it is parsed.

The model's identity is one SHA-256 over every file that affects a score (weights and
configurations): the SHA-256 of the text ``sha256sum`` prints for them, one line
``<sha256>  <name>`` per file, sorted by name - so it can be recomputed by hand.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from opensight_desktop.errors import ModelError
from opensight_desktop.evidence.reading import CHUNK_SIZE, open_evidence, os_error_reason

# A Hugging Face cache snapshot holds links to ``../../blobs/<hash>`` of its own repository.
_HF_SNAPSHOTS = "snapshots"
_HF_REPO_PREFIX = "models--"


@dataclass(frozen=True)
class ModelFile:
    """One file that was read: where, and the SHA-256 and size of the bytes used."""

    path: Path
    sha256: str
    size: int


class ModelFileChanged(ModelError):
    """A file's content is not what the model store recorded for it."""

    def __init__(self, name: str, actual: str | None, expected: str | None) -> None:
        self.name, self.actual, self.expected = name, actual, expected
        if expected is None:
            text = f"{name} is not one of the model's files as imported"
        else:
            text = f"{name} now has SHA-256 {actual}, not {expected} as imported"
        super().__init__(text)


def identity_digest(files: Mapping[str, str]) -> str:
    """SHA-256 over ``<sha256>  <name>`` lines (name order): the files' joint identity."""
    text = "".join(f"{files[name]}  {name}\n" for name in sorted(files))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def confinement_root(folder: Path) -> Path:
    """The folder a model folder's files may resolve into: the folder itself, or for a
    Hugging Face cache snapshot (``models--ORG--NAME/snapshots/COMMIT``) its repository's
    cache folder, where the snapshot's links point."""
    folder = folder.resolve()
    parent = folder.parent
    if parent.name == _HF_SNAPSHOTS and parent.parent.name.startswith(_HF_REPO_PREFIX):
        return parent.parent
    return folder


class ModelFiles:
    """Reads a model's files: confined to ``root``, regular, bounded, hashed as read.

    ``base`` is the model's folder: files are named relative to it. ``expected`` (name ->
    SHA-256), when given, is what each file must hash to; a file not named there is refused.
    """

    def __init__(
        self, base: Path, root: Path | None = None, expected: Mapping[str, str] | None = None
    ) -> None:
        self.base = base
        self.root = (root or base).resolve()
        self.expected = expected
        self.files: dict[str, ModelFile] = {}

    def name(self, path: Path) -> str:
        return path.relative_to(self.base).as_posix()

    def read(self, path: Path, limit: int, what: str = "file") -> bytes:
        """The whole file, or a ModelError saying why it cannot be used."""
        name = self.name(path)
        if self.expected is not None and name not in self.expected:
            raise ModelFileChanged(name, None, None)
        data = read_confined(path, self.root, limit, what)
        digest = hashlib.sha256(data).hexdigest()
        if self.expected is not None and self.expected[name] != digest:
            raise ModelFileChanged(name, digest, self.expected[name])
        self.files[name] = ModelFile(path, digest, len(data))
        return data


def read_confined(path: Path, root: Path, limit: int, what: str = "file") -> bytes:
    """Read ``path`` whole, if it resolves inside ``root`` and is a regular file of at most
    ``limit`` bytes (checked after opening: a special file can neither block nor stream)."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        target = os.readlink(path) if path.is_symlink() else str(resolved)
        raise ModelError(
            f"refused {path}: it leads outside the model's folder {root} (to {target}); "
            "a model's files must be inside its folder"
        )
    try:
        with open_evidence(str(resolved)) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                raise ModelError(f"{path} is empty")
            if size > limit:
                raise ModelError(
                    f"{path} is {size:,} bytes, more than a {what} of this detector can be "
                    f"({limit:,} bytes)"
                )
            chunks = []
            remaining = size + 1  # one byte more: a file that grows is noticed
            while remaining and (chunk := handle.read(min(CHUNK_SIZE, remaining))):
                chunks.append(chunk)
                remaining -= len(chunk)
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {os_error_reason(exc)}") from exc
    data = b"".join(chunks)
    if len(data) != size:
        raise ModelError(f"{path} changed size while it was read ({size} -> {len(data)} bytes)")
    return data
