"""Analysis runs: results with provenance, resume, no redo, changed evidence, tile scan."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from opensight_desktop.case import audit
from opensight_desktop.case.models import AnalysisRun, DetectionResult, EvidenceItem, TileScan
from opensight_desktop.cli import main
from opensight_desktop.detector.store import ModelStore
from opensight_desktop.pipeline.analyze_job import AnalysisJob
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.pipeline.tile_scan_job import TileScanJob
from opensight_desktop.progress import CancelToken
from opensight_desktop.worker import BackgroundJob
from tests import checkpoint_factory as cf
from tests import imagegen


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    return cf.save_hub(cf.random_state(seed=3), tmp_path_factory.mktemp("m") / "hub")


@pytest.fixture
def detector(model_folder):
    store = ModelStore()
    model, _ = store.import_path(model_folder, name="random test weights")
    return store.load(model, "cpu")


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "ev"
    folder.mkdir()
    paths = [
        imagegen.save(folder / f"img{i:02d}.png", "PNG", size=(120 + i, 90), seed=i)
        for i in range(10)
    ]
    return folder, paths


def test_results_carry_full_provenance(case, detector, images):
    folder, _ = images
    ImportJob(case, [str(folder)]).run()
    summary = AnalysisJob(case, detector, batch_size=4, heatmaps=True).run()
    assert (summary.state, summary.analyzed, summary.errors) == ("completed", 10, 0)
    with case.read() as session:
        result = session.scalars(select(DetectionResult)).first()
        assert result.model.sha256 == detector.identity.id
        assert result.device == "cpu" and result.precision == "fp32"
        assert result.thresholds["likely_generated"] == 0.70
        assert result.preprocessing["resize_shorter"] == 440
        assert {"torch", "timm", "opensight-desktop", "pillow"} <= set(result.versions)
        assert 0.0 <= result.probability <= 1.0 and result.analyzed_utc is not None
        assert len(result.heatmap) == 24 * 24 * 2
        assert result.heatmap_geometry["crop_box"] and result.heatmap_geometry["grid"] == [24, 24]
        statuses = {i.status for i in session.scalars(select(EvidenceItem))}
        assert statuses == {"analyzed"}
        run = session.scalars(select(AnalysisRun)).one()
        assert run.state == "completed" and run.analyzed == 10
        assert audit.check_chain(session).ok


def test_cancelled_run_resumes_without_redoing(case, detector, images):
    folder, _ = images
    ImportJob(case, [str(folder)]).run()
    token = CancelToken()

    def stop_soon(progress):
        if progress.done >= 3:
            token.cancel()

    first = AnalysisJob(
        case,
        detector,
        batch_size=2,
        heatmaps=False,
        progress=stop_soon,
        cancel=token,
        progress_interval=0,
    ).run()
    assert first.state == "cancelled" and 3 <= first.analyzed < 10
    second = AnalysisJob(case, detector, batch_size=4, heatmaps=False).run()
    assert second.state == "completed" and second.total == 10 - first.analyzed
    third = AnalysisJob(case, detector, batch_size=4, heatmaps=False).run()
    assert third.total == 0  # nothing analysed twice
    with case.read() as session:
        results = session.scalars(select(DetectionResult)).all()
        assert len(results) == 10 and len({r.item_id for r in results}) == 10


def test_changed_and_missing_evidence_are_errors_not_analysed(case, detector, images):
    folder, paths = images
    ImportJob(case, [str(folder)]).run()
    paths[0].write_bytes(paths[0].read_bytes() + b"tampered")
    paths[1].unlink()
    summary = AnalysisJob(case, detector, batch_size=4, heatmaps=False).run()
    assert (summary.analyzed, summary.errors) == (8, 2)
    reasons = dict(summary.error_examples)
    assert "changed since import" in reasons[1]
    assert "disappeared" in reasons[2] or "missing" in reasons[2] or "not usable" in reasons[2]
    with case.read() as session:
        item = session.get(EvidenceItem, 1)
        assert item.status == "error" and item.error_stage == "analysis"
    # restored evidence is picked up by the next run
    paths[0].write_bytes(paths[0].read_bytes()[: -len(b"tampered")])
    again = AnalysisJob(case, detector, batch_size=4, heatmaps=False).run()
    assert (again.analyzed, again.errors) == (1, 1)


def test_import_errors_are_not_analysed(case, detector, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    ImportJob(case, [str(bad)]).run()
    summary = AnalysisJob(case, detector, heatmaps=False).run()
    assert summary.total == 0


def test_runs_on_a_background_thread(case, detector, images):
    folder, _ = images
    ImportJob(case, [str(folder)]).run()
    job = AnalysisJob(case, detector, batch_size=5, heatmaps=False)
    worker = BackgroundJob(job.run).start()
    assert worker.join(120)
    assert worker.outcome().analyzed == 10


def test_tile_scan_of_one_item(case, detector, tmp_path):
    path = imagegen.save(tmp_path / "big.png", "PNG", size=(900, 500), seed=4)
    ImportJob(case, [str(path)]).run()
    result = TileScanJob(case, detector, 1).run()
    # x: 0, 384, 516 (edge-aligned); y: 0, 116
    assert sorted({(left, top) for left, top, _ in result.tiles}) == [
        (0, 0),
        (0, 116),
        (384, 0),
        (384, 116),
        (516, 0),
        (516, 116),
    ]
    with case.read() as session:
        scan = session.scalars(select(TileScan)).one()
        assert len(scan.tiles) == 6 and scan.item_id == 1


def test_cli_analyze_and_export(tmp_path, model_folder, capsys):
    case = tmp_path / "c.osc"
    folder = tmp_path / "ev"
    folder.mkdir()
    for i in range(3):
        imagegen.save(folder / f"{i}.png", "PNG", size=(64, 64), seed=i)
    assert main(["case", "new", str(case), "--number", "1", "--title", "t", "--examiner", "e"]) == 0
    assert main(["import", str(case), str(folder)]) == 0
    assert main(["model", "import", str(model_folder)]) == 0
    capsys.readouterr()
    assert main(["analyze", str(case), "--device", "cpu", "--batch-size", "2", "--no-heatmap"]) == 0
    out = capsys.readouterr().out
    assert "3 analysed" in out and "not proof" in out
    assert main(["analyze", str(case)]) == 0
    assert "Nothing to analyse" in capsys.readouterr().out
    export = tmp_path / "e.json"
    assert main(["export", str(case), "--format", "json", "-o", str(export)]) == 0
    items = json.loads(export.read_text())["items"]
    assert all(i["status"] == "analyzed" for i in items)
    detection = items[0]["detection"]
    assert detection["verdict"] in ("likely-generated", "inconclusive", "likely-real")
    assert detection["device"] == "cpu" and len(detection["model_sha256"]) == 64
    assert main(["tile-scan", str(case), "1"]) == 2  # 64x64 is smaller than one tile
    assert "smaller than one" in capsys.readouterr().err


def test_cli_rejects_unavailable_cuda(tmp_path, model_folder, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    case = tmp_path / "c.osc"
    main(["case", "new", str(case), "--number", "1", "--title", "t", "--examiner", "e"])
    main(["model", "import", str(model_folder)])
    capsys.readouterr()
    assert main(["analyze", str(case), "--device", "cuda"]) == 2
    assert "CUDA" in capsys.readouterr().err
