"""A one-machine Ray cluster on 127.0.0.1 only, with token authentication: what the
cluster benchmark and the tests analyse on.

``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` keeps every Ray process (head and clients) on the
loopback address; the dashboard is never started. Every process of the cluster inherits a
marker in its environment, so the cluster is ended by the ids of its own processes (never
``ray stop``, which would end any Ray of this machine). While the block runs, this
process's environment holds what a client needs (it is put back afterwards), so the
cluster driver that a run spawns reaches the cluster.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from opensight_desktop.errors import ClusterError

MARKER = "OPENSIGHT_LOOPBACK_RAY"
START_TIMEOUT_S = 120
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # so the nodes import this copy


def ray_command() -> str | None:
    """The ``ray`` program beside this Python, or None when Ray is not installed."""
    found = shutil.which("ray", path=os.path.dirname(sys.executable))
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def client_environment(token: str) -> dict[str, str]:
    return {
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": token,
        "RAY_USAGE_STATS_ENABLED": "0",
    }


def processes(marker: str, name: str = "", folder: str = "") -> list[int]:
    """Ids of this cluster's processes (whose command line holds ``name``): those with its
    marker in their environment, or its own session ``folder`` on their command line (Ray
    starts some agents with an environment of their own)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        ours = f"{MARKER}={marker}".encode() in environ.split(b"\0") or (
            bool(folder) and folder.encode() in cmdline
        )
        if ours and name.encode() in cmdline:
            found.append(int(entry))
    return found


def _end(marker: str, folder: str) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in processes(marker, folder=folder):
            with suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 10
        while processes(marker, folder=folder) and time.monotonic() < deadline:
            time.sleep(0.2)


class LoopbackCluster:
    def __init__(self, address: str, marker: str, token: str, folder: str) -> None:
        self.address, self.marker, self.token = address, marker, token
        self.folder = folder  # Ray's session folder of this cluster

    def pids(self, name: str = "") -> list[int]:
        """This cluster's processes whose command line holds ``name`` (all: "")."""
        return processes(self.marker, name, self.folder)

    def actor_pids(self) -> list[int]:
        return processes(self.marker, "NodeWorker", self.folder)

    def end(self) -> None:
        _end(self.marker, self.folder)


@contextmanager
def loopback_cluster(cpus: int = 2) -> Iterator[LoopbackCluster]:
    """A head node on 127.0.0.1 with ``cpus`` CPUs and no GPU, ended when the block ends."""
    ray = ray_command()
    if ray is None:
        raise ClusterError("a loopback cluster needs Ray: install opensight-desktop[cluster]")
    marker = secrets.token_hex(8)
    token = secrets.token_hex(32)
    # Ray's unix socket paths are short: its session folder stays near /
    temp = tempfile.mkdtemp(prefix="osray")
    port = free_port()
    client = client_environment(token)
    env = {
        **os.environ,
        **client,
        MARKER: marker,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(_PACKAGE_ROOT), os.environ.get("PYTHONPATH")])
        ),
    }
    command = [
        ray,
        "start",
        "--head",
        "--node-ip-address=127.0.0.1",
        f"--port={port}",
        f"--num-cpus={cpus}",
        "--num-gpus=0",
        "--include-dashboard=false",
        "--disable-usage-stats",
        "--object-store-memory=300000000",
        f"--temp-dir={temp}",
    ]
    cluster = LoopbackCluster(f"127.0.0.1:{port}", marker, token, temp)
    saved = {name: os.environ.get(name) for name in client}
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=START_TIMEOUT_S
        )
        if done.returncode != 0:
            tail = " ".join(done.stderr.split())[-500:]
            raise ClusterError(f"ray start failed: {tail}")
        os.environ.update(client)
        yield cluster
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        cluster.end()
        shutil.rmtree(temp, ignore_errors=True)
