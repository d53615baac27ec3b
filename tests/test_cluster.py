"""Analysis on a Ray cluster: the same numbers as a local run, exactly one result per item
when workers are killed, changed evidence and a wrong path map, and the connection test.

One loopback-only cluster (tests/ray_cluster.py) serves the module.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from opensight_desktop import cluster_config
from opensight_desktop.case.models import AnalysisRun, AuditEntry, DetectionResult, EvidenceItem
from opensight_desktop.case.replay import replay
from opensight_desktop.case.store import Case
from opensight_desktop.cluster_config import ClusterConfig, PathMap
from opensight_desktop.detector.heatmap import decode_cam
from opensight_desktop.detector.store import ModelStore
from opensight_desktop.errors import ClusterError, UsageError
from opensight_desktop.pipeline.analyze_job import AnalysisJob
from opensight_desktop.pipeline.cluster.source import ClusterSource, probe
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.progress import CancelToken
from tests import checkpoint_factory as cf
from tests import imagegen
from tests.ray_cluster import loopback_cluster

pytest.importorskip("ray")


@pytest.fixture(scope="module")
def cluster():
    with loopback_cluster(cpus=2) as running:
        yield running


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    return cf.save_hub(cf.random_state(seed=5), tmp_path_factory.mktemp("m") / "hub")


@pytest.fixture
def detector(model_folder):
    store = ModelStore()
    model, _ = store.import_path(model_folder, name="random test weights")
    return store.load(model, "cpu")


def _evidence(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True)
    for i in range(count):
        imagegen.save(folder / f"img{i:02d}.png", "PNG", size=(150 + 7 * i, 100), seed=i)
    return folder


def _case(path: Path, evidence: Path) -> Case:
    case = Case.create(path, number="C-1", title="t", examiner="e")
    ImportJob(case, [str(evidence)]).run()
    return case


def _results(case: Case) -> dict[int, DetectionResult]:
    with case.read() as session:
        rows = session.scalars(select(DetectionResult)).all()
        return {row.item_id: row for row in rows}


def _one_result_each(case: Case) -> None:
    with case.read() as session:
        items = session.scalars(select(EvidenceItem.id)).all()
        per_item = dict(
            session.execute(
                select(DetectionResult.item_id, func.count()).group_by(DetectionResult.item_id)
            ).all()
        )
        logged = dict(
            session.execute(
                select(AuditEntry.item_id, func.count())
                .where(AuditEntry.action == "item.analyzed")
                .group_by(AuditEntry.item_id)
            ).all()
        )
        outcome = replay(session)
    assert per_item == dict.fromkeys(items, 1)
    assert logged == dict.fromkeys(items, 1)
    assert not outcome.differences and not outcome.problems


def _source(cluster, detector, path_map=(), batch_size=2) -> ClusterSource:
    config = ClusterConfig(cluster.address, PathMap.parse(list(path_map)), start_timeout_s=120)
    return ClusterSource(config, detector, heatmaps=True, batch_size=batch_size)


def test_cluster_run_equals_the_local_run_and_names_its_node(cluster, detector, tmp_path):
    evidence = _evidence(tmp_path / "ev", 5)
    # the nodes see the evidence under another folder: the path map translates
    remote = tmp_path / "mnt" / "seizure"
    shutil.copytree(evidence, remote)
    local_case = _case(tmp_path / "local.osc", evidence)
    AnalysisJob(local_case, detector, batch_size=2).run()
    cluster_case = _case(tmp_path / "cluster.osc", evidence)
    source = _source(cluster, detector, [f"{evidence}={remote}"])
    summary = AnalysisJob(cluster_case, detector, batch_size=2, source=source).run()
    assert (summary.state, summary.analyzed, summary.errors) == ("completed", 5, 0)
    assert source.nodes == [socket.gethostname()]
    local, remote_results = _results(local_case), _results(cluster_case)
    assert local.keys() == remote_results.keys()
    for item_id, here in local.items():
        there = remote_results[item_id]
        assert abs(here.logit - there.logit) <= 1e-6
        assert abs(here.probability - there.probability) <= 1e-6
        assert here.verdict == there.verdict
        assert here.heatmap_geometry == there.heatmap_geometry
        assert np.allclose(decode_cam(here.heatmap), decode_cam(there.heatmap), atol=1e-3)
        assert there.versions["node"] == socket.gethostname()
        assert there.device == "cpu" and there.versions["torch"] == here.versions["torch"]
        assert there.preprocessing == here.preprocessing
    _one_result_each(cluster_case)
    with cluster_case.read() as session:
        run = session.scalars(select(AuditEntry).where(AuditEntry.action == "analysis.started"))
        assert '"cluster"' in run.one().details


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _driver_pids() -> list[int]:
    return [
        child.pid
        for child in multiprocessing.active_children()
        if child.name == "opensight-cluster-driver" and child.pid is not None
    ]


def _run_state(case: Case, run_id: int) -> str:
    with case.read() as session:
        run = session.get(AnalysisRun, run_id)
        assert run is not None
        return run.state


def test_killed_workers_cost_a_retry_a_lost_driver_stops_and_a_rerun_resumes(
    cluster, detector, tmp_path
):
    """Exactly once: actors killed mid-run cost a retry; then this workstation loses the
    cluster (its driver killed): one clear message, what landed is kept, and running again
    ends with exactly one result (and one audit entry) per item."""
    evidence = _evidence(tmp_path / "ev", 10)
    case = _case(tmp_path / "kill.osc", evidence)
    killed: list[int] = []
    landed: list[int] = []

    def on_stored(stored) -> None:
        landed.extend(stored.changed)
        if not killed:  # after the first batch: the actors die, the batch is retried
            killed.extend(cluster.actor_pids())
            _kill(killed)
        elif len(landed) >= 4:  # later: the workstation's link to the cluster dies
            _kill(_driver_pids())

    job = AnalysisJob(
        case, detector, batch_size=2, source=_source(cluster, detector), stored=on_stored
    )
    with pytest.raises(ClusterError) as lost:
        job.run()
    assert killed, "no actor process was found to kill"
    message = str(lost.value)
    assert "\n" not in message
    assert "lost the cluster" in message and "run the analysis again to resume" in message
    assert _run_state(case, job.summary.run_id) == "failed"
    kept = _results(case)
    assert 4 <= len(kept) < 10 and set(kept) == set(landed)
    second = AnalysisJob(case, detector, batch_size=2, source=_source(cluster, detector)).run()
    assert second.state == "completed" and len(kept) + second.analyzed == 10
    _one_result_each(case)


@pytest.mark.slow
def test_losing_the_head_mid_run_stops_with_one_message_and_resumes_elsewhere(
    cluster, detector, tmp_path
):
    """The head node itself dies mid-run (every process of a second loopback cluster
    killed): the run stops with one message within the reconnect limit, keeps what
    landed, and resumes on another cluster to exactly one result per item."""
    evidence = _evidence(tmp_path / "ev", 8)
    case = _case(tmp_path / "head.osc", evidence)
    with loopback_cluster(cpus=2) as doomed:
        ended: list[bool] = []

        def end_head(_stored) -> None:
            if not ended:
                ended.append(True)
                _kill(doomed.pids())

        source = _source(doomed, detector)
        started = time.monotonic()
        with pytest.raises(ClusterError, match=r"cluster") as lost:
            AnalysisJob(case, detector, batch_size=2, source=source, stored=end_head).run()
        assert ended and time.monotonic() - started < 150
        assert "\n" not in str(lost.value)
    kept = len(_results(case))
    assert 0 < kept < 8
    second = AnalysisJob(case, detector, batch_size=2, source=_source(cluster, detector)).run()
    assert second.state == "completed" and kept + second.analyzed == 8
    _one_result_each(case)


# resuming is in the default run above; a cancel's own path costs two more actor starts
@pytest.mark.slow
def test_a_cancelled_cluster_run_resumes_to_one_result_per_item(cluster, detector, tmp_path):
    evidence = _evidence(tmp_path / "ev", 6)
    case = _case(tmp_path / "resume.osc", evidence)
    cancel = CancelToken()
    first = AnalysisJob(
        case,
        detector,
        batch_size=2,
        source=_source(cluster, detector),
        cancel=cancel,
        stored=lambda _stored: cancel.cancel(),
    ).run()
    assert first.state == "cancelled" and 0 < first.analyzed < 6
    second = AnalysisJob(case, detector, batch_size=2, source=_source(cluster, detector)).run()
    assert second.state == "completed" and first.analyzed + second.analyzed == 6
    _one_result_each(case)


def test_changed_evidence_on_the_nodes_path_is_an_error_item(cluster, detector, tmp_path):
    evidence = _evidence(tmp_path / "ev", 3)
    remote = tmp_path / "remote"
    shutil.copytree(evidence, remote)
    case = _case(tmp_path / "changed.osc", evidence)
    with open(remote / "img01.png", "ab") as handle:
        handle.write(b"appended")
    source = _source(cluster, detector, [f"{evidence}={remote}"])
    summary = AnalysisJob(case, detector, batch_size=2, source=source).run()
    assert (summary.analyzed, summary.errors) == (2, 1)
    ((_item_id, reason),) = summary.error_examples
    assert "content changed since import" in reason


def test_a_wrong_path_map_is_one_clear_message(cluster, detector, tmp_path):
    evidence = _evidence(tmp_path / "ev", 2)
    case = _case(tmp_path / "wrong.osc", evidence)
    source = _source(cluster, detector, [f"{evidence}={tmp_path / 'not-mounted'}"])
    started = time.monotonic()
    with pytest.raises(ClusterError, match=r"do not see the evidence.*--path-map"):
        AnalysisJob(case, detector, source=source).run()
    assert time.monotonic() - started < 90
    assert _results(case) == {}


def test_connection_test_lists_the_node(cluster):
    nodes = probe(cluster.address, timeout_s=60)
    assert [(n.address, n.alive, n.cpus, n.gpus) for n in nodes] == [("127.0.0.1", True, 2, 0)]


def test_an_address_where_no_cluster_runs_is_a_clear_message(cluster):
    with pytest.raises(ClusterError, match=r"cannot connect|no Ray cluster answered"):
        probe(f"127.0.0.1:{_closed_port()}", timeout_s=60)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- no cluster needed -----------------------------------------------------------------------


def test_path_map_longest_prefix_at_folder_boundaries():
    mapping = PathMap.parse(["/cases=/mnt/a", "/cases/big=/mnt/b/"])
    assert mapping.apply(b"/cases/big/x.jpg") == b"/mnt/b/x.jpg"
    assert mapping.apply(b"/cases/x.jpg") == b"/mnt/a/x.jpg"
    assert mapping.apply(b"/casesX/x.jpg") == b"/casesX/x.jpg"
    with pytest.raises(UsageError, match="LOCAL=REMOTE"):
        PathMap.parse(["/cases"])
    with pytest.raises(UsageError, match="absolute"):
        PathMap.parse(["cases=/mnt"])


def test_without_ray_the_message_says_what_to_install(monkeypatch):
    monkeypatch.setattr(cluster_config.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ClusterError, match=r"install opensight-desktop\[cluster\]"):
        cluster_config.require_ray()


def test_path_map_without_cluster_is_a_usage_error(case_path, capsys):
    from opensight_desktop.cli import main

    assert main(["analyze", str(case_path), "--path-map", "/a=/b"]) == 2
    assert "--path-map" in capsys.readouterr().err


def test_threads_left_behind_by_the_module_are_none():
    assert not [t for t in threading.enumerate() if t.name.startswith("opensight-cluster")]


def test_settings_dialog_tests_the_connection_and_keeps_the_cluster(cluster, qtbot):
    from PySide6.QtCore import Qt

    from opensight_desktop.gui.dialogs import SettingsDialog
    from opensight_desktop.settings import Settings

    settings = Settings()
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    panel = dialog.cluster
    assert not panel.test.isEnabled()  # this computer, by default
    panel.where.setCurrentIndex(panel.where.findData("cluster"))
    panel.address.setText(cluster.address)
    panel.path_map.setPlainText("/cases=/mnt/cases\n")
    qtbot.mouseClick(panel.test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "node(s)" in panel.result.text(), timeout=90_000)
    assert "127.0.0.1" in panel.result.text() and "2 CPUs, 0 GPUs" in panel.result.text()
    dialog._accept()
    assert settings.cluster_address == cluster.address
    assert settings.cluster_path_map == ["/cases=/mnt/cases"]
    assert settings.validate().cluster_config().path_map.as_strings() == ["/cases=/mnt/cases"]
