"""The loopback-only Ray cluster of the benchmarks (127.0.0.1, token authentication, no
dashboard) for tests: skipped where Ray is not installed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from opensight_desktop.benchmarks.loopback_ray import (
    LoopbackCluster,
    ray_command,
)
from opensight_desktop.benchmarks.loopback_ray import (
    loopback_cluster as _loopback_cluster,
)


@contextmanager
def loopback_cluster(cpus: int = 2) -> Iterator[LoopbackCluster]:
    if ray_command() is None:
        pytest.skip("Ray is not installed (opensight-desktop[cluster])")
    with _loopback_cluster(cpus) as cluster:
        yield cluster
