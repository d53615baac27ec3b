"""What runs on a cluster node: a detector actor (Ray makes it one in ``driver``).

It uses the local run's own code (``analyze_job.prepare`` and ``analyze_job.compute``), so
the node reads, checks, decodes, preprocesses and scores exactly as the workstation would.
The weights arrive once per node through Ray's object store, are written to a private
cache folder named after their identity and read back with every file's SHA-256 checked
before it is parsed (``read_checkpoint(expected=...)``): a node never scores with weights
other than the case's.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opensight_desktop import __version__
from opensight_desktop.errors import ClusterError, OpenSightError
from opensight_desktop.fileio import atomic_output
from opensight_desktop.pipeline.analyze_job import Candidate, Computed, Producer, compute, prepare


@dataclass(frozen=True)
class ModelPayload:
    """The model's files as the workstation's store holds them (checked there), to ship."""

    model_id: str  # SHA-256 of the weights file
    identity_sha256: str  # over every file that affects a score
    name: str
    format: str
    source: str
    published_match: str | None
    weights_file: str
    files: dict[str, bytes]  # name -> content
    expected: dict[str, str]  # name -> SHA-256


def model_cache(identity: str) -> Path:
    """This user's folder for shipped weights on this node (private to the user)."""
    if len(identity) != 64 or not all(c in "0123456789abcdef" for c in identity):
        raise ClusterError(f"not a model identity: {identity!r}")
    root = Path(tempfile.gettempdir()) / f"opensight-cluster-{os.getuid()}"
    root.mkdir(mode=0o700, exist_ok=True)
    if root.is_symlink() or root.stat().st_uid != os.getuid():
        raise ClusterError(f"{root} on {socket.gethostname()} is not this user's own folder")
    folder = root / identity
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def place_files(payload: ModelPayload) -> Path:
    """The payload's files in the node's cache, each written only when absent or changed."""
    folder = model_cache(payload.identity_sha256)
    for name, data in payload.files.items():
        if Path(name).name != name or name.startswith("."):
            raise ClusterError(f"the shipped model names a file outside its folder: {name!r}")
        if hashlib.sha256(data).hexdigest() != payload.expected.get(name):
            raise ClusterError(f"the shipped model file {name} arrived damaged")
        target = folder / name
        if target.is_file() and _sha256(target) == payload.expected[name]:
            continue
        with atomic_output(target, "wb") as handle:
            handle.write(data)
    return folder


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_shipped(payload: ModelPayload, device: str) -> Any:
    """A LoadedDetector from the shipped files, each verified before it is parsed."""
    from opensight_desktop.detector.checkpoints import read_checkpoint
    from opensight_desktop.detector.model import detector_of

    folder = place_files(payload)
    single = len(payload.files) == 1
    checkpoint = read_checkpoint(
        folder / payload.weights_file if single else folder,
        root=folder.resolve(),
        expected=payload.expected,
    )
    if checkpoint.identity != payload.identity_sha256:
        raise ClusterError(
            f"the model read on {socket.gethostname()} is not the case's model "
            f"(identity {checkpoint.identity[:16]}..., expected "
            f"{payload.identity_sha256[:16]}...)"
        )
    return detector_of(
        checkpoint,
        payload.model_id,
        payload.name,
        payload.format,
        payload.source,
        payload.published_match,
        device,
    )


class NodeWorker:
    """A detector on one node (one per GPU, or per few CPUs); Ray restarts it if killed."""

    def __init__(self, payload: ModelPayload, heatmaps: bool, version: str, threads: int) -> None:
        from opensight_desktop.detector.model import device_description, library_versions

        self.host = socket.gethostname() or "unknown"
        self.heatmaps = heatmaps
        self.threads = max(1, threads)
        self.problem: str | None = None
        self.detector: Any = None
        if version != __version__:
            self.problem = (
                f"node {self.host} runs opensight-desktop {__version__}, the workstation "
                f"{version}: install the same version on every node"
            )
            return
        try:
            # a GPU when Ray gave this actor one, else the CPU
            self.detector = load_shipped(payload, "auto")
        except OpenSightError as exc:
            self.problem = f"node {self.host}: {exc}"
            return
        versions = {
            **library_versions(),
            "device_description": device_description(self.detector.device),
            "node": self.host,
        }
        self.producer = Producer(self.host, self.detector.device_label, versions)

    def info(self) -> dict[str, Any]:
        """Who this actor is, and why it cannot work (``problem``), if so."""
        return {
            "host": self.host,
            "pid": os.getpid(),
            "problem": self.problem,
            "device": self.detector.device_label if self.detector else None,
        }

    def analyze(self, chunk: list[Candidate]) -> list[Computed]:
        """Outcomes of one batch, as a local run computes them, naming this node."""
        if self.problem is not None or self.detector is None:
            raise ClusterError(self.problem or "the detector is not loaded")
        spec = self.detector.preprocessing
        with ThreadPoolExecutor(min(self.threads, len(chunk))) as pool:
            prepared = list(pool.map(lambda e: prepare(e[0], e[1], e[2], spec), chunk))
        return [
            Computed(c.item_id, c.logit, c.cam, c.geometry, c.error, self.producer)
            for c in compute(self.detector, prepared, self.heatmaps)
        ]
