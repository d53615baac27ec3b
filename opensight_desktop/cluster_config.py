"""What a cluster run is given: the Ray address and how the nodes see the evidence paths."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field

from opensight_desktop.errors import ClusterError, UsageError

INSTALL_HINT = "install opensight-desktop[cluster] (Ray) on this workstation and on every node"


def require_ray() -> None:
    """Refuse a cluster run where Ray is not installed (checked without importing it)."""
    if importlib.util.find_spec("ray") is None:
        raise ClusterError(f"analysis on a cluster needs Ray: {INSTALL_HINT}")


@dataclass(frozen=True)
class PathMap:
    """Evidence paths as recorded here -> as the nodes mount them: (LOCAL, REMOTE) prefixes,
    the longest matching one applied, at a path-component boundary only."""

    pairs: tuple[tuple[bytes, bytes], ...] = ()

    @classmethod
    def parse(cls, specs: list[str] | tuple[str, ...]) -> PathMap:
        pairs = []
        for spec in specs:
            local, sep, remote = spec.partition("=")
            if not sep or not local or not remote:
                raise UsageError(f"a path map is LOCAL=REMOTE (two folders), not {spec!r}")
            if not os.path.isabs(local) or not remote.startswith("/"):
                raise UsageError(f"path map {spec!r}: both folders must be absolute paths")
            pairs.append((_folder(os.fsencode(local)), _folder(os.fsencode(remote))))
        return cls(tuple(sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)))

    def apply(self, path: bytes) -> bytes:
        """``path`` as the nodes see it (unchanged when no LOCAL folder holds it)."""
        for local, remote in self.pairs:
            if path == local or path.startswith(local + b"/"):
                return remote + path[len(local) :]
        return path

    def as_strings(self) -> list[str]:
        return [f"{os.fsdecode(a)}={os.fsdecode(b)}" for a, b in self.pairs]


def _folder(path: bytes) -> bytes:
    stripped = path.rstrip(b"/")
    return stripped or b"/"


@dataclass(frozen=True)
class ClusterConfig:
    """A Ray address (``HOST:PORT`` of the head's GCS, or ``ray://HOST:PORT``), the path
    map, and how many detector actors to run (None: one per GPU, else per 2 CPUs)."""

    address: str
    path_map: PathMap = field(default_factory=PathMap)
    actors: int | None = None
    cpus_per_actor: int = 2
    # seconds: the driver's start (connecting, shipping weights, loading them on the
    # nodes), and the longest silence of a running driver, before the cluster is given up
    start_timeout_s: float = 300.0
    stall_timeout_s: float = 120.0

    def __post_init__(self) -> None:
        address = self.address.strip()
        if not address or any(c.isspace() for c in address) or len(address) > 200:
            raise UsageError(f"not a Ray address: {self.address!r} (HOST:PORT of the head)")
        if self.actors is not None and not 1 <= self.actors <= 4096:
            raise UsageError("the number of detector actors must be between 1 and 4096")
        if not 1 <= self.cpus_per_actor <= 256:
            raise UsageError("CPUs per detector actor must be between 1 and 256")
