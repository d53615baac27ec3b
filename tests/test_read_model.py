"""The read model (case/views.py): one typed ItemView per item for every output, exports
made from it byte for byte as before, and facts worded for people in one place
(present.py), the same in the GUI and the PDF."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import update

from opensight_desktop import __version__, present
from opensight_desktop.case import views
from opensight_desktop.case.models import CaseInfo, DetectionResult, ItemMetadata
from opensight_desktop.case.store import Case
from opensight_desktop.case.views import (
    CONTRACT_COLUMNS,
    DetectionView,
    ItemView,
    Location,
    MetadataView,
    ModelView,
    ReviewView,
    case_view,
    item_view,
    item_views,
)
from opensight_desktop.detector.verdict import (
    BAND_COLORS,
    DEFAULT_BANDS,
    VERDICT_COLORS,
    VERDICTS,
    Bands,
)
from opensight_desktop.metadata.extract import CONTRACT_FIELDS
from opensight_desktop.metadata.flags import EDITING_SOFTWARE, GPS_PRESENT
from opensight_desktop.report import export
from opensight_desktop.report.pdf import ReportBuilder, ReportOptions
from opensight_desktop.report.records import item_record
from opensight_desktop.settings import Settings
from opensight_desktop.timeutil import parse_iso

RICH = Path(__file__).parent / "data" / "rich_case"
GENERATED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
# Item ids in the rich case (tests/data/rich_case/make.py).
TAGGED, CRAFTED_SCORE, BROKEN, CAMERA, GENERATED_PNG, LATE = 1, 2, 3, 4, 5, 6


@pytest.fixture
def rich_path(tmp_path) -> Path:
    path = tmp_path / "case.osc"
    shutil.copyfile(RICH / "case.osc", path)
    return path


@pytest.fixture
def rich_case(rich_path):
    with Case.open(rich_path) as case:
        yield case


def _items(case: Case) -> dict[int, ItemView]:
    with case.read() as session:
        return {item.id: item for item in item_views(session)}


def _pdf_text(path: Path) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)
    return re.sub(r"\s+", "", text)  # extraction breaks long lines anywhere


# -- exports: the same bytes as before the read model -------------------------------------


def _golden(fmt: str) -> bytes:
    """The export written by the code before the read model, for this version of the app."""
    data = (RICH / f"export.{fmt}").read_bytes()
    if fmt == "json":
        old = json.loads(data)["app"]["version"]
        data = data.replace(
            f'"version": "{old}"'.encode(), f'"version": "{__version__}"'.encode(), 1
        )
    return data


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_exports_of_a_rich_case_are_the_same_bytes_as_before(rich_case, tmp_path, monkeypatch, fmt):
    exported = parse_iso(json.loads((RICH / "export.json").read_bytes())["exported_utc"])
    monkeypatch.setattr(export, "utc_now", lambda: exported)
    out = tmp_path / f"out.{fmt}"
    assert export.export_case(rich_case, fmt, out) == 6
    assert out.read_bytes() == _golden(fmt)


# -- building views ------------------------------------------------------------------------


def test_an_analysed_item_with_metadata_flags_and_a_duplicate(rich_case):
    item = _items(rich_case)[CAMERA]
    assert (item.file_name, item.status, item.error) == ("camera.jpg", "analyzed", None)
    assert (item.format, item.width, item.height, item.mode) == ("JPEG", 320, 240, "RGB")
    assert len(item.sha256 or "") == 64 and item.size_bytes and item.size_bytes > 0
    first, copy = item.locations
    assert item.path == first.path and item.duplicate_paths == (copy.path,)
    assert copy.file_name == "camera (1).jpg" and copy.path_raw == os.fsencode(copy.path)
    assert first.modified_ns and first.modified_ns > 0
    meta = item.metadata
    assert (meta.camera_make, meta.camera_model) == ("Canon", "Canon EOS R5")
    assert (meta.datetime_original, meta.datetime_original_offset) == (
        "2024-05-06T07:08:09",
        "+02:00",
    )
    assert (meta.gps_latitude, meta.gps_longitude, meta.gps_altitude_m) == (-33.5, 151.25, 42.5)
    assert (meta.orientation, meta.software) == (6, "Adobe Photoshop 25.0")
    assert meta.exif["Image Model"] == "Canon EOS R5"
    assert list(meta.fields)[: len(CONTRACT_FIELDS) + 1] == [*CONTRACT_FIELDS, "exif"]
    assert {flag.code for flag in item.flags} == {GPS_PRESENT, EDITING_SOFTWARE}
    assert all(flag.explanation for flag in item.flags)
    detection = item.detection
    assert detection is not None and detection.verdict in VERDICTS
    assert detection.probability is not None and 0 <= detection.probability <= 1
    assert detection.model.name == "hub" and len(detection.model.sha256 or "") == 64
    assert detection.model.format and detection.model.source
    assert (detection.device, detection.precision) == ("cpu", "fp32")
    assert detection.device_description and "CPU" in detection.device_description
    assert Bands.from_record(detection.thresholds) == DEFAULT_BANDS
    assert detection.analyzed_utc.tzinfo is not None
    assert item.review == ReviewView("not_reviewed", "", ())


def test_review_tags_and_notes(rich_case):
    review = _items(rich_case)[TAGGED].review
    assert (review.state, review.notes, review.tags) == (
        "follow_up",
        "Seen on a seized phone.\nSecond line; +formula\u200b",
        ("=SUM(1)", "Phone A", "zeta"),
    )
    # who set the state, from its audit entry (written before entries named the examiner)
    setting = review.set_by
    assert setting is not None and setting.examiner is None
    assert "@" in setting.account and setting.utc.endswith("Z")


def test_an_error_item_and_an_unanalysed_one(rich_case):
    items = _items(rich_case)
    broken = items[BROKEN]
    assert broken.status == "error" and broken.detection is None
    assert broken.error and broken.error.startswith("corrupt or unsupported image data")
    assert (broken.width, broken.height, broken.metadata.camera_make) == (None, None, None)
    # what a crafted case held there: NaN and -inf, read as unknown
    assert broken.metadata.fields["exposure"] is None
    assert broken.metadata.fields["nested"] == [1.5, None]
    late = items[LATE]
    assert (late.status, late.error, late.detection) == ("imported", None, None)
    assert late.file_name == "late.png" and late.review.state == "not_reviewed"


def test_non_finite_numbers_are_unknown(rich_case):
    detection = _items(rich_case)[CRAFTED_SCORE].detection
    assert detection is not None
    assert detection.probability is None and detection.logit is None  # +inf and -inf stored


def test_views_stream_in_batches_and_only_the_items_asked_for(rich_case, monkeypatch):
    with rich_case.read() as session:
        whole = list(item_views(session))
        assert [item.id for item in whole] == [1, 2, 3, 4, 5, 6]
        monkeypatch.setattr(views, "BATCH", 2)
        assert list(item_views(session)) == whole
        assert [item.id for item in item_views(session, [6, 2, 99, 2, 4])] == [2, 4, 6]
        assert item_view(session, 4) == whole[3]
        assert item_view(session, 99) is None
        # a summary's reading: everything but the metadata, which stays empty
        light = list(item_views(session, with_metadata=False))
        camera = whole[CAMERA - 1]
        assert camera.metadata.camera_make == "Canon"
        assert light[CAMERA - 1].metadata.camera_make is None
        assert light[CAMERA - 1].metadata.exif == {}
        assert [dataclasses.replace(item, metadata=views.MetadataView({})) for item in light] == [
            dataclasses.replace(item, metadata=views.MetadataView({})) for item in whole
        ]


def test_the_export_record_is_made_from_the_view(rich_case):
    with rich_case.read() as session:
        item = item_view(session, CAMERA)
    assert item is not None
    record = item_record(item)
    assert record["duplicate_paths"] == list(item.duplicate_paths)
    assert record["detection"]["model_sha256"] == item.detection.model.sha256  # type: ignore[union-attr]
    # an item imported before sources were recorded: its fields came from EXIF only
    assert record["metadata"] == {
        **item.metadata.fields,
        "sources": {key: "EXIF" for key in record["metadata"]["sources"]},
    }
    assert record["metadata"]["sources"]["camera_make"] == "EXIF"


def test_the_case_view(rich_case):
    with rich_case.read() as session:
        about = case_view(session)
    assert (about.number, about.title, about.examiner) == (
        "RM-1",
        "Read model golden",
        "Zoë Ölander",
    )
    assert about.tz_offset_minutes == 0 and about.audit_entries >= 24
    assert len(about.audit_sha256) == 64 and len(about.uuid) == 36


def test_contract_columns_are_the_contract_fields():
    assert CONTRACT_COLUMNS == CONTRACT_FIELDS


def test_a_result_naming_a_model_the_case_lacks_is_shown_not_a_crash(rich_path, tmp_path):
    """A crafted case: the current result of item 4 names a model row that is not there.
    Before the read model the export and the report stopped with AttributeError."""
    with sqlite3.connect(rich_path) as conn:  # foreign keys are off in a plain connection
        conn.execute("UPDATE detection_result SET model_id = 99 WHERE item_id = 4")
    conn.close()
    with Case.open(rich_path) as case:
        item = _items(case)[CAMERA]
        assert item.detection is not None
        assert item.detection.model == ModelView(None, None, None, None, None)
        export.export_case(case, "json", tmp_path / "out.json")
        result = ReportBuilder(case, ReportOptions(generated_at=GENERATED)).write(
            tmp_path / "r.pdf"
        )
    record = json.loads((tmp_path / "out.json").read_text("utf-8"))["items"][CAMERA - 1]
    assert record["detection"]["model_name"] is None
    assert record["detection"]["model_sha256"] is None
    assert result.items == 6
    assert "weightsSHA-256notinthiscase" in _pdf_text(tmp_path / "r.pdf")


def test_a_case_time_zone_that_is_not_a_number_is_a_finding_not_a_crash(rich_case, tmp_path):
    """Before, a crafted offset (+inf) stopped the report with OverflowError."""
    with rich_case.write() as session:
        session.execute(update(CaseInfo).values(tz_offset_minutes=float("inf")))
    with rich_case.read() as session:
        assert case_view(session).tz_offset_minutes is None
    result = ReportBuilder(rich_case, ReportOptions(generated_at=GENERATED)).write(
        tmp_path / "r.pdf"
    )
    assert any("time zone offset" in finding for finding in result.findings)
    assert "timesareshowninUTC" in _pdf_text(tmp_path / "r.pdf")


# -- facts for people ----------------------------------------------------------------------


def _meta(**fields) -> MetadataView:
    # "sources": {} — where the fields came from is not recorded here (no suffix)
    return MetadataView({**dict.fromkeys(CONTRACT_FIELDS), "exif": {}, "sources": {}, **fields})


def _item(**changes) -> ItemView:
    values = {
        "id": 7,
        "status": "analyzed",
        "error": None,
        "format": "JPEG",
        "width": 4032,
        "height": 3024,
        "mode": "RGB",
        "frames": 1,
        "size_bytes": 1234567,
        "md5": None,
        "sha1": None,
        "sha256": "ab" * 32,
        "added_utc": GENERATED,
        "locations": (Location("/ev/a.jpg", b"/ev/a.jpg", "a.jpg", None, None, None),),
        "metadata": _meta(),
        "detection": None,
        "flags": (),
        "review": ReviewView("not_reviewed", "", ()),
    }
    return ItemView(**{**values, **changes})


def _detection(**changes) -> DetectionView:
    values = {
        "probability": 0.8123,
        "logit": 1.5,
        "verdict": "likely-generated",
        "model": ModelView("cf-vit", "0123456789abcdef" * 4, "hub", "import", None),
        "device": "cuda:0",
        "precision": "fp16",
        "analyzed_utc": datetime(2026, 2, 3, 4, 5, 6, 789, tzinfo=UTC),
        "thresholds": DEFAULT_BANDS.record(),
        "preprocessing": {},
        "versions": {"device_description": "NVIDIA H100"},
    }
    return DetectionView(**{**values, **changes})


def test_camera_time_place_and_orientation():
    assert present.camera_text(_meta(camera_make="Canon", camera_model="Canon EOS R6")) == (
        "Canon EOS R6"
    )
    assert present.camera_text(_meta(camera_make="NIKON", camera_model="Z 6")) == "NIKON Z 6"
    assert present.camera_text(_meta()) == "—"
    taken = _meta(datetime_original="2024-05-06T07:08:09", datetime_original_offset="+02:00")
    assert present.taken_text(taken) == "2024-05-06T07:08:09 (UTC+02:00)"
    assert present.taken_text(_meta(datetime_original="2024-05-06T07:08:09")) == (
        "2024-05-06T07:08:09"
    )
    assert present.taken_text(_meta()) == "—"
    assert present.gps_text(_meta(gps_latitude=-33.5, gps_longitude=151.25)) == (
        "-33.500000, 151.250000"
    )
    assert (
        present.gps_text(_meta(gps_latitude=1.0, gps_longitude=2.0, gps_altitude_m=42.5))
        == "1.000000, 2.000000 (42.5 m)"
    )
    assert present.gps_text(_meta(gps_latitude=1.0)) is None
    assert present.orientation_text(_meta(orientation=6)) == "6"
    assert present.orientation_text(_meta()) == "—"
    assert present.software_text(_meta(software="GIMP 2.10")) == "GIMP 2.10"


def test_facts_say_where_they_came_from():
    meta = _meta(
        camera_make="Canon",
        camera_model="Canon EOS R6",
        datetime_original="2024-05-06T07:08:09",
        sources={"camera_make": "EXIF", "camera_model": "XMP", "datetime_original": "XMP"},
    )
    assert present.camera_text(meta) == "Canon EOS R6 [EXIF, XMP]"
    assert present.taken_text(meta) == "2024-05-06T07:08:09 [XMP]"
    legacy = MetadataView({**dict.fromkeys(CONTRACT_FIELDS), "exif": {}, "software": "GIMP"})
    assert present.software_text(legacy) == "GIMP [EXIF]"  # imported before sources: EXIF only


def test_metadata_of_the_wrong_type_is_read_as_text_or_unknown():
    """A crafted case can store anything in its JSON: facts never raise on it."""
    meta = _meta(camera_make=12, gps_latitude="north", gps_longitude=2.0, orientation=True)
    assert meta.camera_make == "12" and meta.gps_latitude is None and meta.orientation is None
    assert present.camera_text(meta) == "12" and present.gps_text(meta) is None


def test_file_facts():
    item = _item()
    assert present.format_text(item) == "JPEG, 4032 x 3024 px, RGB"
    assert present.format_text(_item(format=None, width=None, height=None, mode=None)) == (
        "?, ? x ? px"
    )
    assert present.size_text(1234567) == "1,234,567 bytes" and present.size_text(None) == "?"
    assert present.status_text(_item(status="error", error="truncated")) == "error: truncated"
    assert present.status_text(item) == "analyzed"


def test_score_verdict_and_provenance():
    assert present.probability_text(0.81234) == "0.812"
    assert present.probability_text(0.81234, digits=2) == "0.81"
    assert present.probability_text(None) == "not a finite number"
    assert present.score_text(0.5) == "P(AI-generated) = 0.500"
    assert present.verdict_label("likely-real") == "Likely real"
    assert present.verdict_label("made-up") == "made-up" and present.verdict_label(None) == ""
    assert present.bands_text(DEFAULT_BANDS.record()) == (
        "P ≥ 0.7: likely generated; P ≤ 0.3: likely real; otherwise inconclusive"
    )
    assert present.bands_text({"likely_generated": "x"}) == (
        "P ≥ ?: likely generated; P ≤ ?: likely real; otherwise inconclusive"
    )
    assert present.provenance_text(_detection()) == (
        "cf-vit (weights SHA-256 0123456789abcdef…, matches no published Community Forensics "
        "release) on cuda:0 (NVIDIA H100), fp16; "
        "analysed 2026-02-03T04:05:06Z"
    )
    unknown = _detection(model=ModelView(None, None, None, None, None), versions=[])
    assert present.provenance_text(unknown).startswith("? (weights SHA-256 not in this case) on")


def test_outcomes_and_review():
    assert present.outcome(_item(detection=_detection())) == "likely-generated"
    assert present.outcome_label(_item(status="error", error="x")) == "Error"
    assert present.outcome_label(_item(status="imported")) == "Not analysed"
    assert present.no_score_text(_item(status="imported")) == "Not analysed yet."
    assert present.no_score_text(_item(status="error", error="truncated")) == (
        "No score: truncated"
    )
    assert (*VERDICTS, "not analysed", "error") == present.OUTCOMES
    assert present.review_text(ReviewView("follow_up", "", ("a", "b"))) == "Follow up; tags: a, b"
    assert present.review_label("made_up") == "made_up"
    assert present.REVIEW_ORDER[0] == "not_reviewed"


def test_one_score_bar_geometry():
    bar = present.score_bar(0.8, Bands(0.75, 0.25), "likely-generated")
    assert [(s.start, s.end, s.color) for s in bar.segments] == [
        (0.0, 0.25, BAND_COLORS["likely-real"]),
        (0.25, 0.75, BAND_COLORS["inconclusive"]),
        (0.75, 1.0, BAND_COLORS["likely-generated"]),
    ]
    assert [(t.value, t.label, t.anchor) for t in bar.ticks] == [
        (0.0, "0", "start"),
        (0.25, "0.25", "middle"),
        (0.75, "0.75", "middle"),
        (1.0, "1", "end"),
    ]
    assert bar.marker == 0.8 and bar.marker_color == VERDICT_COLORS["likely-generated"]
    assert present.score_bar(7.0, DEFAULT_BANDS).marker == 1.0  # a hostile score stays on it
    assert present.score_bar(None, DEFAULT_BANDS).marker is None
    assert present.score_bar(0.5, DEFAULT_BANDS, "made-up").marker_color == present.MARKER


def test_bands_come_from_one_place():
    assert Settings().bands() == DEFAULT_BANDS == Bands(0.70, 0.30)
    assert Bands.from_record(Bands(0.9, 0.1).record()) == Bands(0.9, 0.1)
    crafted = {"likely_generated": 2, "likely_real": "x"}
    assert Bands.from_record(crafted, Bands(0.8, 0.2)) == Bands(0.8, 0.2)
    assert Bands.from_record([1, 2]) == DEFAULT_BANDS
    assert Bands.from_record({"likely_generated": True}) == DEFAULT_BANDS


# -- the same words in the GUI and the PDF -------------------------------------------------


def test_the_gui_and_the_pdf_show_the_same_facts(qtbot, rich_case, tmp_path):
    """Before, the PDF left out the altitude and wrote the time offset and the size another
    way than the item panel."""
    from opensight_desktop.gui.item_panel import ItemPanel

    item = _items(rich_case)[CAMERA]
    assert item.detection is not None
    panel = ItemPanel()
    qtbot.addWidget(panel)
    panel.show_item(item, DEFAULT_BANDS)
    ReportBuilder(rich_case, ReportOptions(generated_at=GENERATED)).write(tmp_path / "r.pdf")
    pdf = _pdf_text(tmp_path / "r.pdf")
    meta = item.metadata
    shown = {
        "Camera": present.camera_text(meta),
        "Taken": present.taken_text(meta),
        "Software": present.software_text(meta),
        "Format": present.format_text(item),
        "Size": present.size_text(item.size_bytes),
    }
    for name, text in shown.items():
        assert panel.fact_labels[name].text() == text
        assert re.sub(r"\s+", "", text) in pdf, name
    gps = present.gps_text(meta)
    assert gps == "-33.500000, 151.250000 (42.5 m) [EXIF]" and panel.gps_field.text() == gps
    assert re.sub(r"\s+", "", gps) in pdf
    provenance = present.provenance_text(item.detection)
    assert provenance in panel.provenance.text()
    assert re.sub(r"\s+", "", provenance) in pdf


def test_the_item_panel_shows_a_non_finite_score_as_such(qtbot, rich_case):
    """Before, the panel raised TypeError formatting a score stored as +inf."""
    from opensight_desktop.gui.item_panel import ItemPanel

    panel = ItemPanel()
    qtbot.addWidget(panel)
    panel.show_item(_items(rich_case)[CRAFTED_SCORE], DEFAULT_BANDS)
    assert "not a finite number" in panel.score_text.text()
    assert panel.score_bar.bar.marker is None


def test_the_item_panel_reads_crafted_bands_with_the_settings_ones(qtbot, rich_case):
    """Before, bands stored as text stopped the panel with ValueError."""
    from opensight_desktop.gui.item_panel import ItemPanel

    with rich_case.write() as session:
        session.execute(
            update(DetectionResult)
            .where(DetectionResult.item_id == CAMERA)
            .values(thresholds={"likely_generated": "high", "likely_real": 5})
        )
    panel = ItemPanel()
    qtbot.addWidget(panel)
    panel.show_item(_items(rich_case)[CAMERA], Bands(0.8, 0.2))
    assert [tick.label for tick in panel.score_bar.bar.ticks] == ["0", "0.2", "0.8", "1"]
    assert "P ≥ ?: likely generated; P ≤ 5: likely real" in panel.score_text.text()


def test_the_item_panel_shows_evidence_text_as_text_never_markup(qtbot, rich_case):
    """Camera names and error messages come from the evidence: before, a label that met
    markup there rendered it (Qt guesses rich text)."""
    from PySide6.QtCore import Qt

    from opensight_desktop.gui.item_panel import ItemPanel

    with rich_case.write() as session:
        session.execute(
            update(ItemMetadata)
            .where(ItemMetadata.item_id == CAMERA)
            .values(camera_make="<b>Evil</b>", camera_model="<i>cam</i>")
        )
    items = _items(rich_case)
    crafted = dataclasses.replace(items[BROKEN], error="<h1>x")
    panel = ItemPanel()
    qtbot.addWidget(panel)
    panel.show_item(items[CAMERA], DEFAULT_BANDS)
    camera = panel.fact_labels["Camera"]
    assert camera.textFormat() == Qt.TextFormat.PlainText
    assert camera.text() == "<b>Evil</b> <i>cam</i> [EXIF]"
    panel.show_item(crafted, DEFAULT_BANDS)
    assert "&lt;h1&gt;x" in panel.score_text.text() and "<h1>" not in panel.score_text.text()
