"""Builds ``case.osc`` and the exports ``export.json`` / ``export.csv`` that
tests/test_read_model.py compares the current exports with, byte for byte.

The case holds what an export can show: analysed items with camera metadata (GPS, time
offset, editing software), PNG text, a name with a hidden character, an exact duplicate,
an unreadable file, an item imported after the analysis (no score), review states, tags
and notes, and values a crafted case can hold (non-finite numbers in a score and in the
metadata). Run it only when the export is meant to change (the contract grows), from the
repository root:

    OPENSIGHT_HOME=$(mktemp -d) python -m tests.data.rich_case.make
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

from PIL.PngImagePlugin import PngInfo
from sqlalchemy import update

from opensight_desktop.case import review
from opensight_desktop.case.models import DetectionResult, ItemMetadata
from opensight_desktop.case.store import Case
from opensight_desktop.detector.store import ModelStore
from opensight_desktop.pipeline.analyze_job import AnalysisJob
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.report import export
from tests import checkpoint_factory as cf
from tests import exif_writer as exifgen
from tests import imagegen

HERE = Path(__file__).parent
EXPORTED_AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def camera_jpeg(path: Path) -> None:
    ifd0, exif, gps = exifgen.camera_ifds(
        lat=-33.5, lon=151.25, alt=42.5, software="Adobe Photoshop 25.0", orientation=6
    )
    plain = imagegen.noise_image(320, 240, seed=7)
    small = plain.copy()
    small.thumbnail((160, 120))
    thumb = path.with_suffix(".thumb")
    small.save(thumb, "JPEG", quality=80)
    body = path.with_suffix(".body")
    plain.save(body, "JPEG", quality=92)
    path.write_bytes(
        exifgen.jpeg_with_app1(
            body.read_bytes(), exifgen.build_tiff(ifd0, exif, gps, thumb.read_bytes())
        )
    )
    thumb.unlink()
    body.unlink()


def build(work: Path) -> Path:
    evidence = work / "evidence"
    (evidence / "copies").mkdir(parents=True)
    camera_jpeg(evidence / "camera.jpg")
    shutil.copyfile(evidence / "camera.jpg", evidence / "copies" / "camera (1).jpg")
    parameters = PngInfo()
    parameters.add_text("parameters", "a cat, Steps: 20, Sampler: Euler a")
    imagegen.save(
        evidence / "generated.png",
        "PNG",
        size=(200, 160),
        seed=3,
        pnginfo=parameters,
    )
    imagegen.save(evidence / "a\u200bb.png", "PNG", size=(90, 60), seed=4)
    imagegen.jpeg_with_exif(evidence / "=plain.jpg", size=(160, 120), seed=5)
    (evidence / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    store = ModelStore()
    model, _ = store.import_path(cf.save_hub(cf.random_state(seed=4), work / "hub"))
    case_path = work / "case.osc"
    with Case.create(
        case_path, number="RM-1", title="Read model golden", examiner="Zoë Ölander"
    ) as case:
        ImportJob(case, [str(evidence)]).run()
        AnalysisJob(case, store.load(model, "cpu"), batch_size=4).run()
        late = work / "late" / "late.png"
        late.parent.mkdir()
        imagegen.save(late, "PNG", size=(64, 48), seed=9)
        ImportJob(case, [str(late)]).run()  # imported after the analysis: no score
        review.set_review_state(case, [1, 2], "follow_up")
        review.set_tags(case, 1, ["Phone A", "=SUM(1)", "zeta"])
        review.set_notes(case, 1, "Seen on a seized phone.\nSecond line; +formula\u200b")
        with case.write() as session:  # what a crafted case can hold
            session.execute(
                update(DetectionResult)
                .where(DetectionResult.item_id == 2)
                .values(probability=float("inf"), logit=float("-inf"))
            )
            session.execute(
                update(ItemMetadata)
                .where(ItemMetadata.item_id == 3)
                .values(extra={"exposure": float("nan"), "nested": [1.5, float("-inf")]})
            )
    return case_path


def write_goldens(case_path: Path, target: Path) -> None:
    shutil.copyfile(case_path, target / "case.osc")
    work = Path(tempfile.mkdtemp())
    copy = work / "case.osc"
    with mock.patch.object(export, "utc_now", return_value=EXPORTED_AT):
        for fmt in ("json", "csv"):
            shutil.copyfile(case_path, copy)
            with Case.open(copy) as case:
                export.export_case(case, fmt, target / f"export.{fmt}")
    shutil.rmtree(work)


def main() -> int:
    work = Path(tempfile.mkdtemp())
    try:
        write_goldens(build(work), HERE)
    finally:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
