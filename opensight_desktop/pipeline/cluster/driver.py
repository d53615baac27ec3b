"""The Ray driver: a process of its own, started by ``source`` and ``probe`` (spawn).

It is the only process on the workstation that imports Ray: Ray ends a driver whose
cluster stays unreachable, and that must end this process, not the examiner's. It talks to
its parent through a pipe: it receives the items (paths already mapped for the nodes),
then sends ``("status", text)``, ``("ready", hosts)``, ``("batch", [Computed])``,
``("alive", None)`` at least every second, and ends with ``("done", None)`` or
``("error", message)``. The parent's ``("cancel", None)``, or its end (the pipe closes),
stops it; its actors end with it.

Exactly once: Ray restarts a killed actor and retries its task (``max_restarts``,
``max_task_retries``); a batch whose actor is gone for good (its node lost) goes to a new
actor. A batch's results are sent once, when its task returns; the writer drops any item
that already has a result (``AnalysisJob._write``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from opensight_desktop.errors import ClusterError
from opensight_desktop.pipeline.analyze_job import Candidate
from opensight_desktop.pipeline.cluster import visible
from opensight_desktop.pipeline.cluster.node import ModelPayload, NodeWorker

RESTARTS = 4  # per actor, and retries per task: killed workers cost a retry each
BATCH_ATTEMPTS = 3  # new actors tried for one batch whose actor is gone for good
IN_FLIGHT_PER_ACTOR = 2  # one computing, one waiting: the actor never idles on the driver
HEARTBEAT_S = 1.0
# Ray ends a driver that cannot reach the cluster's head for this long (its default: 60 s)
RECONNECT_TIMEOUT_S = 15


@dataclass(frozen=True)
class DriverJob:
    address: str
    payload: ModelPayload
    heatmaps: bool
    batch_size: int
    actors: int | None
    cpus_per_actor: int
    version: str


class _Stop(Exception):
    """The parent cancelled or went away."""


def _environment() -> None:
    # before Ray is imported: it reads these once
    os.environ["RAY_AUTH_MODE"] = "token"  # a lab cluster runs with token authentication
    os.environ.setdefault("RAY_gcs_rpc_server_reconnect_timeout_s", str(RECONNECT_TIMEOUT_S))
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"


def _connect(address: str) -> Any:
    _environment()
    import ray

    try:
        ray.init(
            address=address,
            logging_level=logging.ERROR,
            log_to_driver=False,
            include_dashboard=False,
        )
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError...
        raise ClusterError(
            f"cannot connect to the Ray cluster at {address}: {_short(exc)}"
        ) from exc
    return ray


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def main(conn: Connection, job: DriverJob) -> None:
    """The driver process's entry point."""
    try:
        items: list[Candidate] = conn.recv()
        _Driver(conn, job).run(items)
        conn.send(("done", None))
    except _Stop:
        pass
    except ClusterError as exc:
        _send_error(conn, str(exc))
    except Exception as exc:  # the parent shows it as one line; the process ends anyway
        _send_error(conn, f"the cluster driver failed: {type(exc).__name__}: {_short(exc)}")


def _send_error(conn: Connection, message: str) -> None:
    with contextlib.suppress(OSError):
        conn.send(("error", message))


class _Driver:
    def __init__(self, conn: Connection, job: DriverJob) -> None:
        self.conn = conn
        self.job = job
        self.last_sent = time.monotonic()

    def send(self, kind: str, value: Any) -> None:
        try:
            self.conn.send((kind, value))
        except OSError as exc:
            raise _Stop from exc
        self.last_sent = time.monotonic()

    def check_parent(self) -> None:
        """Stop on a cancel or when the parent is gone; keep the parent told we live."""
        try:
            if self.conn.poll():
                self.conn.recv()  # the only message a parent sends now is a cancel
                raise _Stop
        except (EOFError, OSError) as exc:
            raise _Stop from exc
        if time.monotonic() - self.last_sent >= HEARTBEAT_S:
            self.send("alive", None)

    def run(self, items: list[Candidate]) -> None:
        job = self.job
        self.send("status", f"connecting to the Ray cluster at {job.address}")
        ray = _connect(job.address)
        try:
            self._run(ray, items)
        finally:
            ray.shutdown()  # ends this driver's actors

    def _run(self, ray: Any, items: list[Candidate]) -> None:
        from ray.exceptions import RayActorError, RayTaskError

        job = self.job
        resources = ray.cluster_resources()
        gpus, cpus = int(resources.get("GPU", 0)), int(resources.get("CPU", 0))
        if gpus:
            count, options = job.actors or gpus, {"num_gpus": 1, "num_cpus": 1}
            threads = job.cpus_per_actor
        else:
            threads = max(1, min(job.cpus_per_actor, cpus))
            count, options = job.actors or max(1, cpus // threads), {"num_cpus": threads}
        self._check_paths(ray, items)  # before any actor: a wrong map costs no model load
        worker_class = ray.remote(NodeWorker).options(
            max_restarts=RESTARTS, max_task_retries=RESTARTS, **options
        )
        payload = ray.put(job.payload)  # fetched once by each node that runs an actor

        def new_actor() -> Any:
            return worker_class.remote(payload, job.heatmaps, job.version, threads)

        self.send(
            "status",
            f"starting {count} detector actor(s) ({gpus} GPU(s), {cpus} CPU(s) in the cluster)",
        )
        actors = [new_actor() for _ in range(count)]
        infos = self._wait_all(ray, [actor.info.remote() for actor in actors])
        problems = sorted({info["problem"] for info in infos if info["problem"]})
        if problems:
            raise ClusterError("; ".join(problems))
        self.send("ready", sorted({info["host"] for info in infos}))

        chunks = deque(items[i : i + job.batch_size] for i in range(0, len(items), job.batch_size))
        in_flight: dict[Any, tuple[int, list[Candidate], int]] = {}

        def submit(index: int, chunk: list[Candidate], attempt: int) -> None:
            in_flight[actors[index].analyze.remote(chunk)] = (index, chunk, attempt)

        for index in range(count):
            for _ in range(IN_FLIGHT_PER_ACTOR):
                if chunks:
                    submit(index, chunks.popleft(), 0)
        while in_flight:
            self.check_parent()
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=0.25)
            for ref in ready:
                index, chunk, attempt = in_flight.pop(ref)
                try:
                    results = ray.get(ref)
                except RayTaskError as exc:
                    cause = exc.cause if exc.cause is not None else exc
                    raise ClusterError(f"a node could not analyse: {_short(cause)}") from exc
                except RayActorError as exc:
                    if attempt + 1 >= BATCH_ATTEMPTS:
                        raise ClusterError(
                            f"a batch failed on {BATCH_ATTEMPTS} detector actors in turn "
                            f"(nodes lost?): {_short(exc)}"
                        ) from exc
                    actors[index] = new_actor()  # its node is gone: Ray places it anew
                    submit(index, chunk, attempt + 1)
                    continue
                self.send("batch", results)
                if chunks:
                    submit(index, chunks.popleft(), 0)

    def _wait_all(self, ray: Any, refs: list[Any]) -> list[Any]:
        """Results of ``refs``, checking on the parent while they come."""
        pending = list(refs)
        while pending:
            self.check_parent()
            _, pending = ray.wait(pending, num_returns=len(pending), timeout=0.25)
        return list(ray.get(refs))

    def _check_paths(self, ray: Any, items: list[Candidate]) -> None:
        """A path map that leads nowhere is one clear message, not an error per item."""
        sample = [path for _, _, paths in items[:8] for path in paths]
        if not sample:
            return
        check = ray.remote(num_cpus=0)(visible.existing)
        seen = self._wait_all(ray, [check.remote(sample)])[0]
        if not any(seen):
            example = os.fsdecode(sample[0])
            raise ClusterError(
                f"the nodes do not see the evidence: {example!r} (and the other paths "
                "tried) does not exist on the node; check the path map (--path-map "
                "LOCAL=REMOTE) and that the evidence storage is mounted there"
            )


def probe_main(conn: Connection, address: str) -> None:
    """Test connection: the cluster's nodes with their CPUs and GPUs, sent as a list."""
    try:
        ray = _connect(address)
        try:
            nodes = [
                {
                    "host": str(node.get("NodeManagerHostname") or ""),
                    "address": str(node.get("NodeManagerAddress") or ""),
                    "alive": bool(node.get("Alive")),
                    "cpus": float(node.get("Resources", {}).get("CPU", 0)),
                    "gpus": float(node.get("Resources", {}).get("GPU", 0)),
                }
                for node in ray.nodes()
            ]
        finally:
            ray.shutdown()
        conn.send(("nodes", nodes))
    except ClusterError as exc:
        _send_error(conn, str(exc))
    except Exception as exc:
        _send_error(conn, f"the cluster could not be asked: {type(exc).__name__}: {_short(exc)}")
