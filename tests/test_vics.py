"""VICS JSON 2.0 export and import (the round trip), and KML / GeoJSON of located items."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from defusedxml import ElementTree

from opensight_desktop.benchmarks.synthetic import camera_jpeg, synthetic_photo
from opensight_desktop.case import review
from opensight_desktop.case.integrity import verify_case
from opensight_desktop.case.store import Case
from opensight_desktop.case.vics_import import import_vics
from opensight_desktop.case.views import item_views
from opensight_desktop.cli import main
from opensight_desktop.hashsets import vics
from opensight_desktop.report.export import export_case
from opensight_desktop.settings import Settings, save_settings
from tests import imagegen


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    folder = tmp_path / "seized"
    (folder / "DCIM").mkdir(parents=True)
    (folder / "DCIM" / "a.jpg").write_bytes(camera_jpeg(synthetic_photo(320, 240, 1), seed=1))
    (folder / "DCIM" / "b.jpg").write_bytes(camera_jpeg(synthetic_photo(320, 240, 2), seed=40))
    imagegen.save(folder / "c.png", "PNG", seed=3)
    return folder


def _import(case: Case, folder: Path) -> dict[str, int]:
    from opensight_desktop.pipeline.import_job import ImportJob

    ImportJob(case, [str(folder)]).run()
    with case.read() as session:
        return {item.file_name or "": item.id for item in item_views(session)}


def test_vics_export_writes_only_published_field_names(case, evidence, tmp_path):
    ids = _import(case, evidence)
    review.bulk_review(case, [ids["a.jpg"]], state="likely_generated", add_tags=["beach"])
    review.bulk_review(case, [ids["b.jpg"]], category=2)
    save_settings(Settings(vics_categories={"likely_generated": 3}))
    out = tmp_path / "case.vics.json"
    assert export_case(case, "vics", out) == 3
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["@odata.context"].startswith(
        "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/"
    )
    (case_record,) = document["value"]
    assert set(case_record) <= vics.CASE_FIELDS
    media = {m["RelativeFilePath"]: m for m in case_record["Media"]}
    for record in media.values():
        assert set(record) <= vics.MEDIA_FIELDS, set(record) - vics.MEDIA_FIELDS
        for location in record["MediaFiles"]:
            assert set(location) <= vics.MEDIA_FILE_FIELDS
        assert len(record["MD5"]) == 32 and len(record["SHA1"]) == 40
    a, b, c = media["seized\\DCIM\\a.jpg"], media["seized\\DCIM\\b.jpg"], media["seized\\c.png"]
    assert (a["Category"], a["Tags"]) == (3, "beach")  # mapped from the review state
    assert "Likely generated" in a["Comments"] and "not analysed" in a["Comments"]
    assert b["Category"] == 2 and c["Category"] == 0  # its own; unmapped state -> 0


def test_vics_round_trip_into_another_case(evidence, tmp_path, capsys):
    first = Case.create(tmp_path / "one.osc", number="1", title="t", examiner="e")
    with first:
        ids = _import(first, evidence)
        review.bulk_review(first, [ids["a.jpg"], ids["c.png"]], add_tags=["series x"], category=1)
        export_case(first, "vics", tmp_path / "one.json")
    second_path = tmp_path / "two.osc"
    with Case.create(second_path, number="2", title="t", examiner="e") as second:
        _import(second, evidence)
    assert main(["vics-import", str(second_path), str(tmp_path / "one.json")]) == 0
    out = capsys.readouterr().out
    assert "3 records, 3 matched items of the case" in out and "category 1: 2 items" in out
    with Case.open(second_path) as second:
        with second.read() as session:
            got = {
                item.file_name: (item.review.vics_category, item.review.tags)
                for item in item_views(session)
            }
        assert got == {
            "a.jpg": (1, ("series x",)),
            "c.png": (1, ("series x",)),
            "b.jpg": (0, ()),  # category 0 (uncategorised) is a category too
        }
        assert verify_case(second, record=False).ok
        # once more: nothing changes, and nothing is logged
        assert import_vics(second, tmp_path / "one.json").action is None


def test_vics_import_of_a_file_that_is_not_vics_is_refused(case, tmp_path, capsys):
    bad = tmp_path / "x.json"
    bad.write_text('{"items": []}', encoding="utf-8")
    case.close()
    assert main(["vics-import", str(case.path), str(bad)]) == 2
    assert 'no top-level "value" list' in capsys.readouterr().err


def _lat_lon(seed: int) -> tuple[float, float]:
    return 48.0 + seed / 1000, 11.0 + seed / 1000  # what camera_jpeg writes


def test_geojson_is_rfc7946_lon_lat_of_located_items_only(case, evidence, tmp_path):
    _import(case, evidence)
    out = tmp_path / "items.geojson"
    assert export_case(case, "geojson", out) == 2
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["type"] == "FeatureCollection"
    points = {f["properties"]["file_name"]: f["geometry"] for f in document["features"]}
    assert set(points) == {"a.jpg", "b.jpg"}
    lon, lat = points["b.jpg"]["coordinates"][:2]
    assert (lat, lon) == pytest.approx(_lat_lon(40), abs=1e-4)
    assert points["b.jpg"]["type"] == "Point" and -180 <= lon <= 180 and -90 <= lat <= 90


def test_kml_is_well_formed_and_lon_lat(case, evidence, tmp_path):
    _import(case, evidence)
    out = tmp_path / "items.kml"
    assert export_case(case, "kml", out) == 2
    root = ElementTree.fromstring(out.read_bytes())
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    coordinates = {
        mark.find("k:name", ns).text: mark.find("k:Point/k:coordinates", ns).text
        for mark in root.iterfind(".//k:Placemark", ns)
    }
    lon, lat = (float(v) for v in coordinates["a.jpg"].split(",")[:2])
    assert (lat, lon) == pytest.approx(_lat_lon(1), abs=1e-4)
    assert all(math.isfinite(float(v)) for v in coordinates["b.jpg"].split(","))


def test_json_and_csv_exports_carry_hits_and_groups(case, tmp_path):
    folder = tmp_path / "e"
    folder.mkdir()
    base = synthetic_photo(400, 300, seed=5)
    base.save(folder / "big.png")
    base.resize((200, 150)).save(folder / "small.jpg", quality=80)
    imagegen.save(folder / "other.png", "PNG", seed=9)
    ids = _import(case, folder)
    export_case(case, "json", tmp_path / "out.json")
    items = {i["file_name"]: i for i in json.loads((tmp_path / "out.json").read_text())["items"]}
    group = min(ids["big.png"], ids["small.jpg"])
    assert items["big.png"]["similar_group"] == group == items["small.jpg"]["similar_group"]
    assert items["other.png"]["similar_group"] is None
    assert all(item["hashset_hits"] == [] for item in items.values())
    export_case(case, "csv", tmp_path / "out.csv")
    header = (tmp_path / "out.csv").read_text().splitlines()[0].split(",")
    assert {"hashset_hits", "similar_group", "vics_category"} <= set(header)
