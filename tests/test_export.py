"""JSON (contract: docs/CONTRACTS.md section 3) and CSV exports."""

from __future__ import annotations

import csv
import hashlib
import json
import re

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


def test_csv_guards_formulas_after_a_separator(case, tmp_path):
    """A spreadsheet in a locale that splits at ";" (or tabs) must not get a formula cell."""
    from opensight_desktop.case import review

    folder = tmp_path / "ev"
    folder.mkdir()
    imagegen.save(folder / "x;=1+1.png", "PNG")
    imagegen.save(folder / "y, @SUM(A1).png", "PNG", seed=2)
    ImportJob(case, [str(folder)]).run()
    review.set_notes(case, 1, 'fine,=HYPERLINK("http://x","y")\tmore\t-2+3')
    review.set_notes(case, 2, "a;  +cmd\n=calc")
    out = tmp_path / "out.csv"
    export_case(case, "csv", out)
    raw = out.read_text("utf-8")
    for separator in (",", ";", "\t", "\n"):
        for part in raw.replace("\r\n", "\n").split(separator):
            cell = part.strip().lstrip('"').strip()
            if cell and cell[0] in "=+-@":
                assert re.fullmatch(r"[-+]?\d+(\.\d+)?", cell), (separator, part)
    doc = tmp_path / "out.json"
    export_case(case, "json", doc)  # the JSON export keeps the exact values
    items = json.loads(doc.read_text("utf-8"))["items"]
    assert items[1]["review"]["notes"] == "a;  +cmd\n=calc"
    assert {item["file_name"] for item in items} == {"x;=1+1.png", "y, @SUM(A1).png"}


def _strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_json_export_is_valid_with_non_finite_numbers_in_the_case(case, tmp_path):
    from sqlalchemy import update

    from opensight_desktop.case.models import CaseInfo, ItemMetadata

    _setup(case, tmp_path)
    with case.write() as session:
        session.execute(
            update(ItemMetadata).values(
                gps_latitude=float("inf"),
                gps_longitude=float("-inf"),
                extra={"exposure": float("nan"), "nested": [1.5, float("inf")]},
            )
        )
        session.execute(update(CaseInfo).values(tz_offset_minutes=float("inf")))
    out = tmp_path / "out.json"
    export_case(case, "json", out)
    doc = _strict_json(out.read_text("utf-8"))
    meta = next(item["metadata"] for item in doc["items"] if item["file_name"] == "a.jpg")
    assert meta["gps_latitude"] is None and meta["gps_longitude"] is None
    assert meta["exposure"] is None and meta["nested"] == [1.5, None]
    assert doc["case"]["time_zone_offset_minutes"] is None
