"""The workstation's side of a cluster run: a ``ResultSource`` for ``AnalysisJob``.

It maps the evidence paths for the nodes, ships the model's files (read from the model
store and checked against their recorded SHA-256), starts the driver process and hands
the job the batches it receives. The job writes them, as it writes a local run's. A driver
that ends, or stays silent too long, is a lost cluster: a ClusterError after what arrived
was written, so running again resumes.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from opensight_desktop import __version__
from opensight_desktop.cluster_config import ClusterConfig, require_ray
from opensight_desktop.errors import ClusterError
from opensight_desktop.pipeline.analyze_job import Candidate, Computed
from opensight_desktop.pipeline.cluster.node import ModelPayload
from opensight_desktop.progress import CancelToken

STOP_WAIT_S = 10.0  # for the driver to end its actors and itself after a cancel
PROBE_STOP_WAIT_S = 2.0  # a connection test has no actors to end
CONNECT_CHECK_S = 5.0


def model_payload(identity: Any) -> ModelPayload:
    """The files of the model ``identity`` (a ModelIdentity) from the model store, checked."""
    from opensight_desktop.detector.store import ModelStore

    model = ModelStore().find(identity.id)
    files: dict[str, bytes] = {}
    for name, sha in model.files.items():
        data = (model.folder / name).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha:
            raise ClusterError(f"model file {name} changed in the model store; import it again")
        files[name] = data
    if {n: hashlib.sha256(d).hexdigest() for n, d in files.items()} != identity.files:
        raise ClusterError("the model store's files are not the loaded model's")
    return ModelPayload(
        model_id=model.id,
        identity_sha256=identity.identity_sha256,
        name=model.name,
        format=model.format,
        source=model.source,
        published_match=model.published_match,
        weights_file=model.weights_file,
        files=files,
        expected=dict(model.files),
    )


@dataclass
class ClusterSource:
    """Results computed on the Ray cluster ``config`` names."""

    config: ClusterConfig
    detector: Any  # LoadedDetector: its identity is what the nodes load
    heatmaps: bool = True
    batch_size: int = 8
    nodes: list[str] = field(default_factory=list)  # hosts with a detector actor
    status: str = ""  # the driver's last word on its start

    @property
    def device(self) -> str:
        return "cluster"

    def settings(self) -> dict[str, Any]:
        return {
            "cluster": {
                "address": self.config.address,
                "path_map": self.config.path_map.as_strings(),
                "actors": self.config.actors,
            }
        }

    def batches(self, todo: list[Candidate], cancel: CancelToken) -> Iterator[list[Computed]]:
        from opensight_desktop.pipeline.cluster import driver

        require_ray()
        check_listening(self.config.address)
        path_map = self.config.path_map
        mapped = [(i, sha, [path_map.apply(p) for p in paths]) for i, sha, paths in todo]
        job = driver.DriverJob(
            address=self.config.address,
            payload=model_payload(self.detector.identity),
            heatmaps=self.heatmaps,
            batch_size=self.batch_size,
            actors=self.config.actors,
            cpus_per_actor=self.config.cpus_per_actor,
            version=__version__,
        )
        context = get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(
            target=driver.main, args=(theirs, job), name="opensight-cluster-driver"
        )
        process.start()
        theirs.close()
        try:
            try:
                ours.send(mapped)
            except OSError as exc:
                raise self._lost("its driver ended at start") from exc
            yield from self._receive(ours, process, cancel)
        finally:
            _stop(ours, process)

    def _receive(
        self, ours: Connection, process: BaseProcess, cancel: CancelToken
    ) -> Iterator[list[Computed]]:
        started = False
        heard = time.monotonic()
        while not cancel.cancelled:
            if ours.poll(0.2):
                try:
                    kind, value = ours.recv()
                except (EOFError, OSError) as exc:  # Ray ends a driver without its cluster
                    raise self._lost(
                        "its driver ended" if started else "it did not answer"
                    ) from exc
                heard = time.monotonic()
                if kind == "batch":
                    yield value
                elif kind == "ready":
                    started, self.nodes = True, list(value)
                elif kind == "status":
                    self.status = str(value)
                elif kind == "error":
                    raise ClusterError(f"cluster {self.config.address}: {value}")
                elif kind == "done":
                    return
            elif not process.is_alive():
                raise self._lost(f"its driver ended (exit status {process.exitcode})")
            else:
                limit = self.config.stall_timeout_s if started else self.config.start_timeout_s
                if time.monotonic() - heard > limit:
                    what = "answered" if started else "started the detector"
                    raise self._lost(f"it has not {what} for {limit:.0f} s")

    def _lost(self, why: str) -> ClusterError:
        return ClusterError(
            f"lost the cluster at {self.config.address}: {why}. The results written "
            "before are kept; run the analysis again to resume"
        )


def check_listening(address: str, timeout_s: float = CONNECT_CHECK_S) -> None:
    """A clear message at once when nothing accepts connections at a ``HOST:PORT`` (or
    ``ray://HOST:PORT``) address; Ray itself retries such an address for many seconds.
    Addresses of other forms are left to Ray."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ClusterError(
            f"cannot connect to the Ray cluster at {address}: nothing answers there "
            f"({reason}); check the address and that the head node runs"
        ) from exc


def _stop(ours: Connection, process: BaseProcess, wait_s: float = STOP_WAIT_S) -> None:
    """Tell the driver to stop (it ends its actors), then make sure it has ended."""
    with contextlib.suppress(OSError):
        ours.send(("cancel", None))
    process.join(wait_s)
    if process.is_alive():
        process.terminate()
        process.join(wait_s)
    if process.is_alive():
        process.kill()
        process.join()
    ours.close()


@dataclass(frozen=True)
class NodeInfo:
    host: str
    address: str
    alive: bool
    cpus: float
    gpus: float


def probe(address: str, timeout_s: float = 60.0) -> list[NodeInfo]:
    """The nodes of the cluster at ``address`` ("Test connection"); ClusterError if none
    answers within ``timeout_s``. Runs Ray in a process of its own, as a run does."""
    from opensight_desktop.pipeline.cluster import driver

    require_ray()
    ClusterConfig(address)  # the address's own check
    check_listening(address)
    context = get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=driver.probe_main, args=(theirs, address))
    process.start()
    theirs.close()
    try:
        if not ours.poll(timeout_s):
            raise ClusterError(f"no Ray cluster answered at {address} within {timeout_s:.0f} s")
        try:
            kind, value = ours.recv()
        except (EOFError, OSError) as exc:  # Ray ends a driver that finds no cluster
            raise ClusterError(
                f"no Ray cluster answered at {address} (Ray gave up connecting)"
            ) from exc
        if kind == "error":
            raise ClusterError(str(value))
        return [NodeInfo(**node) for node in value]
    finally:
        _stop(ours, process, PROBE_STOP_WAIT_S)
