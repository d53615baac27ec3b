"""The authors' published outputs, reproduced with their real weights.

Runs only where ``OPENSIGHT_TEST_WEIGHTS`` points at the authors' weights (the hub folder,
its model.safetensors, or the training .pt) and the five DALL-E 2 test PNGs from their
repository's ``test_images/`` are in ``OPENSIGHT_TEST_IMAGES`` (default: a ``test_images``
folder beside the weights). No weights can be downloaded here, so it is skipped otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from opensight_desktop.case.models import DetectionResult, EvidenceFile
from opensight_desktop.detector.store import ModelStore
from opensight_desktop.pipeline.analyze_job import AnalysisJob
from opensight_desktop.pipeline.import_job import ImportJob

GOLDEN = {
    "00000274.png": 0.9988,
    "00000420.png": 0.9878,
    "00000845.png": 0.9569,
    "00000916.png": 0.9516,
    "00000989.png": 0.7860,
}


def _inputs() -> tuple[Path, Path]:
    weights = os.environ.get("OPENSIGHT_TEST_WEIGHTS")
    if not weights:
        pytest.skip("OPENSIGHT_TEST_WEIGHTS is not set (the authors' weights are not here)")
    weights_path = Path(weights)
    base = weights_path if weights_path.is_dir() else weights_path.parent
    images = Path(os.environ.get("OPENSIGHT_TEST_IMAGES", base / "test_images"))
    missing = [name for name in GOLDEN if not (images / name).is_file()]
    if missing:
        pytest.skip(f"golden test images not found in {images}: {', '.join(missing)}")
    return weights_path, images


def test_authors_golden_values(case):
    weights, images = _inputs()
    store = ModelStore()
    model, _ = store.import_path(weights)
    detector = store.load(model, "auto")
    ImportJob(case, [str(images / name) for name in GOLDEN]).run()
    summary = AnalysisJob(case, detector, batch_size=5, heatmaps=True).run()
    assert summary.analyzed == 5
    with case.read() as session:
        for result in session.scalars(select(DetectionResult)):
            name = session.scalar(
                select(EvidenceFile.file_name).where(EvidenceFile.item_id == result.item_id)
            )
            assert abs(result.probability - GOLDEN[name]) < 2e-3, (name, result.probability)
