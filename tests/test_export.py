"""JSON (contract of shared DESIGN.md section 6) and CSV exports."""

from __future__ import annotations

import csv
import hashlib
import json

from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.report.export import export_case
from tests import imagegen

CONTRACT_ITEM_KEYS = {
    "id",
    "path",
    "file_name",
    "size_bytes",
    "md5",
    "sha1",
    "sha256",
    "status",
    "error",
    "format",
    "width",
    "height",
    "metadata",
    "detection",
    "flags",
}
CONTRACT_METADATA_KEYS = {
    "camera_make",
    "camera_model",
    "datetime_original",
    "software",
    "orientation",
    "gps_latitude",
    "gps_longitude",
    "exif",
}


def _setup(case, tmp_path):
    folder = tmp_path / "ev"
    folder.mkdir()
    imagegen.jpeg_with_exif(folder / "a.jpg")
    (folder / "=cmd|calc.jpg").write_bytes(b"not an image")
    ImportJob(case, [str(folder)]).run()
    return folder


def test_json_export_follows_contract(case, tmp_path):
    folder = _setup(case, tmp_path)
    out = tmp_path / "out.json"
    assert export_case(case, "json", out) == 2
    doc = json.loads(out.read_text("utf-8"))
    assert doc["schema"] == "opensight-export/1"
    assert doc["app"]["name"] == "opensight-desktop"
    assert doc["case"]["examiner"] == "Zoë Ölander"
    assert set(doc["case"]) >= {"number", "title", "examiner", "created_utc"}
    items = {item["file_name"]: item for item in doc["items"]}
    good = items["a.jpg"]
    assert set(good) >= CONTRACT_ITEM_KEYS
    assert set(good["metadata"]) >= CONTRACT_METADATA_KEYS
    assert good["path"] == str(folder / "a.jpg")
    assert good["sha256"] == hashlib.sha256((folder / "a.jpg").read_bytes()).hexdigest()
    assert good["status"] == "imported" and good["error"] is None and good["detection"] is None
    assert (good["format"], good["width"], good["height"]) == ("JPEG", 640, 480)
    bad = items["=cmd|calc.jpg"]
    assert bad["status"] == "error" and bad["error"]
    assert not list(tmp_path.glob(".out.json.*"))  # no temporary file left behind


def test_csv_export_one_row_per_item_and_no_formulas(case, tmp_path):
    _setup(case, tmp_path)
    out = tmp_path / "out.csv"
    export_case(case, "csv", out)
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2
    names = {row["file_name"] for row in rows}
    assert "'=cmd|calc.jpg" in names  # neutralised for spreadsheet programs
    assert all(len(row["sha256"]) == 64 for row in rows)


def test_export_is_audit_logged_with_hash(case, tmp_path):
    _setup(case, tmp_path)
    out = tmp_path / "out.json"
    export_case(case, "json", out)
    with case.read() as session:
        details = (
            session.connection()
            .exec_driver_sql("SELECT details FROM audit_entry WHERE action = 'case.exported'")
            .scalar()
        )
    assert json.loads(details)["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
