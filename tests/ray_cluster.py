"""A one-machine Ray cluster for tests, on 127.0.0.1 only, with token authentication.

``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` keeps every Ray process (head and clients) on the
loopback address; the dashboard is never started. Every process of the cluster inherits a
marker in its environment, so the cluster is ended by the ids of its own processes
(never ``ray stop``, which would end any Ray of this machine).
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

import pytest

REPO = Path(__file__).resolve().parents[1]
MARKER = "OPENSIGHT_TEST_RAY"


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


def processes(marker: str, name: str = "") -> list[int]:
    """Ids of this cluster's processes (whose command line holds ``name``)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if f"{MARKER}={marker}".encode() in environ.split(b"\0") and name.encode() in cmdline:
            found.append(int(entry))
    return found


def _end(marker: str) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in processes(marker):
            with suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 10
        while processes(marker) and time.monotonic() < deadline:
            time.sleep(0.2)


class Cluster:
    def __init__(self, address: str, marker: str, token: str) -> None:
        self.address, self.marker, self.token = address, marker, token

    def actor_pids(self) -> list[int]:
        return processes(self.marker, "NodeWorker")

    def end(self) -> None:
        _end(self.marker)


@contextmanager
def loopback_cluster(cpus: int = 2) -> Iterator[Cluster]:
    if shutil.which("ray", path=os.path.dirname(sys.executable)) is None:
        pytest.skip("Ray is not installed (opensight-desktop[cluster])")
    marker = secrets.token_hex(8)
    token = secrets.token_hex(32)
    # unix socket paths are short: the session folder stays near /
    temp = tempfile.mkdtemp(prefix="osray")
    port = free_port()
    env = {
        **os.environ,
        **client_environment(token),
        MARKER: marker,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    command = [
        os.path.join(os.path.dirname(sys.executable), "ray"),
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
    cluster = Cluster(f"127.0.0.1:{port}", marker, token)
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"ray start failed: {done.stderr[-2000:]}")
        with pytest.MonkeyPatch.context() as patch:
            for name, value in client_environment(token).items():
                patch.setenv(name, value)
            yield cluster
    finally:
        cluster.end()
        shutil.rmtree(temp, ignore_errors=True)
