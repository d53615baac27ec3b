"""Analysis runs: results with provenance, resume, no redo, changed evidence, tile scan."""

from __future__ import annotations

import json
import math

import pytest
from sqlalchemy import select

from opensight_desktop.case import audit
from opensight_desktop.case.models import (
    AnalysisRun,
    AuditEntry,
    DetectionResult,
    EvidenceItem,
    TileScan,
)
from opensight_desktop.case.store import Case
from opensight_desktop.cli import main
from opensight_desktop.detector.model import NON_FINITE_REASON
from opensight_desktop.detector.store import ModelStore
from opensight_desktop.errors import ModelError
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
    assert main(["model", "use", "hub"]) == 0  # random weights: active only when chosen
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
    main(["model", "use", "hub"])
    capsys.readouterr()
    assert main(["analyze", str(case), "--device", "cuda"]) == 2
    assert "CUDA" in capsys.readouterr().err


# -- hostile models: non-finite outputs, model identity ------------------------------------


def _audit_entries(session, action):
    return session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def _strict_json(text):
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_overflowing_weights_give_error_items_not_scores(tmp_path, capsys):
    """Finite weights whose logit overflows: before, NaN stopped the run with a raw SQL
    error; now the items are analysis errors with a reason and the run stops."""
    folder = cf.save_hub(cf.overflowing_state(seed=3), tmp_path / "overflow")
    case = tmp_path / "c.osc"
    evidence = tmp_path / "ev"
    evidence.mkdir()
    for i in range(5):
        imagegen.save(evidence / f"{i}.png", "PNG", size=(64, 64), seed=i)
    assert main(["case", "new", str(case), "--number", "1", "--title", "t", "--examiner", "e"]) == 0
    assert main(["import", str(case), str(evidence)]) == 0
    assert main(["model", "import", str(folder)]) == 0
    assert main(["model", "use", "overflow"]) == 0
    capsys.readouterr()
    code = main(["analyze", str(case), "--device", "cpu", "--batch-size", "2", "--no-heatmap"])
    out, err = capsys.readouterr()
    assert code == 1, err
    assert "Analysis failed" in out and "non-finite score (NaN/Inf)" in out
    assert "the analysis stopped" in err and "Traceback" not in err
    with Case.open(case) as opened, opened.read() as session:
        assert session.scalars(select(DetectionResult)).all() == []
        errors = session.scalars(select(EvidenceItem).where(EvidenceItem.status == "error")).all()
        assert [(i.error_stage, i.error) for i in errors] == [("analysis", NON_FINITE_REASON)] * 2
        run = session.scalars(select(AnalysisRun)).one()
        assert (run.state, run.errors, run.analyzed) == ("failed", 2, 0)
        assert audit.check_chain(session).ok
    export = tmp_path / "e.json"
    assert main(["export", str(case), "--format", "json", "-o", str(export)]) == 0
    items = _strict_json(export.read_text())["items"]
    assert all(i["detection"] is None for i in items)


def _faulty_predict(detector, bad_logits=(), bad_cams=()):
    """The detector's own outputs, with chosen images' logit or heatmap made non-finite."""
    real = detector.predict
    seen = {"images": 0}

    def predict(batch, heatmaps):
        values, cams = real(batch, heatmaps)
        for index in range(len(values)):
            number = seen["images"] + index
            if number in bad_logits:
                values[index] = float("inf")
            if number in bad_cams and cams is not None:
                cams[index, 3, 4] = float("nan")
        seen["images"] += len(values)
        return values, cams

    return predict


@pytest.mark.parametrize("where", ["logit", "heatmap"])
def test_non_finite_output_stops_the_run_after_its_batch(
    case, detector, images, where, monkeypatch
):
    folder, _ = images
    ImportJob(case, [str(folder)]).run()
    bad = {"bad_logits": (5,)} if where == "logit" else {"bad_cams": (5,)}
    monkeypatch.setattr(detector, "predict", _faulty_predict(detector, **bad))
    summary = AnalysisJob(case, detector, batch_size=4, heatmaps=True, workers=1).run()
    # batches of 4: the first is stored; in the second, image 5 (item 6) fails and the run
    # stops with the rest of that batch written; items 9 and 10 are left for a later run
    assert summary.state == "failed" and summary.stopped == NON_FINITE_REASON
    assert (summary.analyzed, summary.errors) == (7, 1)
    assert summary.error_examples == [(6, NON_FINITE_REASON)]
    with case.read() as session:
        results = session.scalars(select(DetectionResult)).all()
        assert sorted(r.item_id for r in results) == [1, 2, 3, 4, 5, 7, 8]
        assert all(math.isfinite(r.probability) and math.isfinite(r.logit) for r in results)
        assert session.get(EvidenceItem, 6).error == NON_FINITE_REASON
        run = session.scalars(select(AnalysisRun)).one()
        assert run.state == "failed"
        (failed,) = _audit_entries(session, "analysis.failed")
        assert audit.details_of(failed)["reason"] == NON_FINITE_REASON
        assert audit.check_chain(session).ok
    monkeypatch.undo()
    again = AnalysisJob(case, detector, batch_size=4, heatmaps=False).run()
    assert (again.state, again.total, again.analyzed) == ("completed", 3, 3)


def test_tile_scan_with_non_finite_output_stores_nothing(case, detector, tmp_path, monkeypatch):
    path = imagegen.save(tmp_path / "big.png", "PNG", size=(900, 500), seed=4)
    ImportJob(case, [str(path)]).run()
    monkeypatch.setattr(detector, "predict", _faulty_predict(detector, bad_logits=(2,)))
    with pytest.raises(ModelError, match=r"non-finite score \(NaN/Inf\)"):
        TileScanJob(case, detector, 1).run()
    with case.read() as session:
        assert session.scalars(select(TileScan)).all() == []


def test_results_record_the_model_identity(case, detector, images):
    folder, _ = images
    ImportJob(case, [str(folder)]).run()
    AnalysisJob(case, detector, batch_size=5, heatmaps=False).run()
    identity = detector.identity.identity_sha256
    assert len(identity) == 64 and identity != detector.identity.id
    with case.read() as session:
        result = session.scalars(select(DetectionResult)).first()
        assert result.preprocessing["model_identity_sha256"] == identity
        assert result.model.details["identity_sha256"] == identity
        assert set(result.model.details["files"]) == {"config.json", "model.safetensors"}
        (registered,) = _audit_entries(session, "model.registered")
        assert audit.details_of(registered)["identity_sha256"] == identity


def test_same_weights_with_other_config_cannot_add_to_a_case(case, detector, images, tmp_path):
    folder, _ = images
    ImportJob(case, [str(folder)]).run()
    AnalysisJob(case, detector, item_ids=[1, 2], heatmaps=False).run()
    # the same weights, imported (after removing the first copy) with another config
    store = ModelStore()
    store.remove(store.find(detector.identity.id))
    other = cf.save_hub(cf.random_state(seed=3), tmp_path / "other")
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "freeze_backbone": True}))
    model, _ = store.import_path(other)
    assert model.id == detector.identity.id and model.identity != detector.identity.identity_sha256
    with pytest.raises(ModelError, match="other model files"):
        AnalysisJob(case, store.load(model, "cpu"), heatmaps=False).run()
    with case.read() as session:
        assert len(session.scalars(select(DetectionResult)).all()) == 2
