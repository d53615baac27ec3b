"""verify replays the audit log and names every table value that differs from it.

Each tamper here is a direct SQL edit of the case file, as anyone holding a copy could make:
the audit log still says what was set, so verify must name the item, the field, the value
in the log and the value in the table, and the command line must exit 1.
"""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select

from opensight_desktop.case import audit, replay, review
from opensight_desktop.case.integrity import describe, verify_case
from opensight_desktop.case.models import AuditEntry, DetectorModel
from opensight_desktop.case.store import Case
from opensight_desktop.cli import main
from opensight_desktop.detector.store import ModelStore
from opensight_desktop.pipeline.analyze_job import AnalysisJob
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.pipeline.tile_scan_job import TileScanJob
from tests import checkpoint_factory as cf
from tests import imagegen


@pytest.fixture(scope="module")
def analysed_original(tmp_path_factory):
    """A closed case, built once: 3 images (one found twice) imported, analysed with
    heatmaps, one tile scan, reviewed. Made under a data directory of its own, whose key
    signed it."""
    base = tmp_path_factory.mktemp("analysed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENSIGHT_HOME", str(base / "home"))
        folder = base / "ev"
        folder.mkdir()
        imagegen.jpeg_with_exif(folder / "a.jpg", size=(400, 390), seed=1, make="Nikon")
        imagegen.save(folder / "b.png", "PNG", size=(50, 40), seed=2)
        imagegen.save(folder / "c.png", "PNG", size=(40, 60), seed=3)
        (folder / "z-copy.png").write_bytes((folder / "b.png").read_bytes())  # item 2 again
        store = ModelStore()
        weights = cf.save_hub(cf.random_state(seed=5), base / "hub")
        model, _ = store.import_path(weights, name="random test weights")
        detector = store.load(model, "cpu")
        path = base / "case.osc"
        with Case.create(path, number="2026-7", title="Harbour", examiner="A. Examiner") as case:
            ImportJob(case, [str(folder)]).run()
            AnalysisJob(case, detector, batch_size=2, heatmaps=True).run()
            TileScanJob(case, detector, 1).run()
            review.set_review_state(case, [1], "inconclusive")
            review.set_notes(case, 2, "seen twice")
            review.set_tags(case, 3, ["harbour", "boat"])
    return path


@pytest.fixture
def analysed(analysed_original, tmp_path):
    """A fresh copy of that case for one test to tamper with."""
    path = tmp_path / "case.osc"
    source = sqlite3.connect(analysed_original)
    target = sqlite3.connect(path)
    source.backup(target)
    target.close()
    source.close()
    return path


def _sql(path, *statements):
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def _verify(path):
    with Case.open(path) as case:
        return verify_case(case, record=False)


def _model_prefix(path):
    with Case.open(path) as case, case.read() as session:
        return session.scalars(select(DetectorModel.sha256)).one()[:12]


def test_untouched_case_replays_without_differences(analysed):
    report = _verify(analysed)
    assert report.ok, describe(report)
    assert report.differences == [] and not report.unvouched and not report.record_problems
    assert "the case holds what the audit log recorded" in "\n".join(describe(report))


def test_duplicate_entry_carries_the_items_metadata_digest(analysed):
    """Where a file is found again, its item's metadata and flags digest is logged anew (a
    location can bring flags of its own)."""
    with Case.open(analysed) as case, case.read() as session:
        added, again = (
            audit.details_of(
                session.scalars(
                    select(AuditEntry).where(AuditEntry.action == action, AuditEntry.item_id == 2)
                ).one()
            )
            for action in ("item.added", "item.duplicate_found")
        )
    assert again["path"].endswith("z-copy.png") and len(again["file_times_ns"]) == 3
    assert again["metadata_sha256"] == added["metadata_sha256"] is not None


AUTHORS = "OwensLab/commfor-model-384 model.safetensors (the authors'' Hugging Face weights)"

TAMPERS = [
    # (id, SQL, subject ("{model}" = model prefix), field, value in the table)
    (
        "probability",
        "UPDATE detection_result SET probability = 0.01 WHERE item_id = 2",
        "result of item 2 by model {model}",
        "probability",
        0.01,
    ),
    (
        "verdict",
        "UPDATE detection_result SET verdict = CASE verdict WHEN 'likely-real' "
        "THEN 'likely-generated' ELSE 'likely-real' END WHERE item_id = 3",
        "result of item 3 by model {model}",
        "verdict",
        None,
    ),
    (
        "logit",
        "UPDATE detection_result SET logit = -9.5 WHERE item_id = 1",
        "result of item 1 by model {model}",
        "logit",
        -9.5,
    ),
    (
        "heatmap",
        "UPDATE detection_result SET heatmap = zeroblob(1152) WHERE item_id = 1",
        "result of item 1 by model {model}",
        "heatmap_sha256",
        None,
    ),
    (
        "result-device",
        "UPDATE detection_result SET device = 'cuda:0' WHERE item_id = 1",
        "result of item 1 by model {model}",
        "device",
        "cuda:0",
    ),
    (
        "thumbnail",
        "UPDATE thumbnail SET jpeg = (SELECT jpeg FROM thumbnail WHERE item_id = 3) "
        "WHERE item_id = 1",
        "item 1",
        "thumbnail_sha256",
        None,
    ),
    (
        "published-match",
        f"UPDATE detector_model SET details = json_set(details, '$.published_match', '{AUTHORS}')",
        "model {model}",
        "details.published_match",
        AUTHORS.replace("''", "'"),
    ),
    (
        "model-source",
        "UPDATE detector_model SET source = 'huggingface.co/OwensLab/commfor-model-384'",
        "model {model}",
        "source",
        "huggingface.co/OwensLab/commfor-model-384",
    ),
    (
        "model-details",
        "UPDATE detector_model SET details = json_set(details, '$.forward', 'other')",
        "model {model}",
        "details.forward",
        "other",
    ),
    (
        "review-state",
        "UPDATE evidence_item SET review_state = 'likely_generated' WHERE id = 1",
        "item 1",
        "review_state",
        "likely_generated",
    ),
    (
        "notes",
        "UPDATE evidence_item SET notes = 'planted remark' WHERE id = 2",
        "item 2",
        "notes",
        "planted remark",
    ),
    (
        "tag-added",
        "INSERT INTO item_tag (item_id, tag) VALUES (1, 'weapon')",
        "item 1",
        "tags",
        ["weapon"],
    ),
    (
        "tag-removed",
        "DELETE FROM item_tag WHERE item_id = 3 AND tag = 'boat'",
        "item 3",
        "tags",
        ["harbour"],
    ),
    ("case-title", "UPDATE case_info SET title = 'Airport'", "the case", "title", "Airport"),
    (
        "case-examiner",
        "UPDATE case_info SET examiner = 'B. Other'",
        "the case",
        "examiner",
        "B. Other",
    ),
    (
        "case-created",
        "UPDATE case_info SET created_utc = '2020-01-01T00:00:00.000000Z'",
        "the case",
        "created_utc",
        "2020-01-01T00:00:00.000000Z",
    ),
    (
        "metadata-flag",
        "DELETE FROM item_flag WHERE item_id = 2",
        "item 2",
        "metadata_sha256",
        None,
    ),
    (
        "metadata-camera",
        "UPDATE item_metadata SET camera_make = 'Canon' WHERE item_id = 1",
        "item 1",
        "metadata_sha256",
        None,
    ),
    (
        "status",
        "UPDATE evidence_item SET status = 'error', error = 'x' WHERE id = 3",
        "item 3",
        "status",
        "error",
    ),
    ("dimensions", "UPDATE evidence_item SET width = 4032 WHERE id = 2", "item 2", "width", 4032),
    (
        "tile-scan",
        "UPDATE tile_scan SET tiles = '[[0, 0, 0.99]]'",
        "tile scan 1 of item 1",
        "tiles_sha256",
        None,
    ),
]


@pytest.mark.parametrize(
    ("sql", "subject", "field", "actual"),
    [t[1:] for t in TAMPERS],
    ids=[t[0] for t in TAMPERS],
)
def test_tamper_is_named_and_fails_verify(analysed, capsys, sql, subject, field, actual):
    subject = subject.format(model=_model_prefix(analysed))
    _sql(analysed, sql)
    report = _verify(analysed)
    assert not report.ok
    found = [d for d in report.differences if (d.subject, d.field) == (subject, field)]
    assert found, describe(report)
    difference = found[0]
    assert difference.seq is not None and difference.logged != difference.actual
    if actual is not None:
        assert difference.actual == actual
    capsys.readouterr()
    assert main(["verify", str(analysed)]) == 1
    out = capsys.readouterr().out
    assert f"{subject}: {field} in the case is" in out and "PROBLEMS FOUND" in out


def test_difference_text_names_both_values(analysed):
    _sql(analysed, "UPDATE detection_result SET probability = 0.01 WHERE item_id = 2")
    report = _verify(analysed)
    (difference,) = report.differences
    text = str(difference)
    assert "probability in the case is 0.01, but the audit log (entry" in text
    assert f"recorded {difference.logged!r}" in text and f"(entry {difference.seq})" in text


def test_removed_and_added_records_are_named(analysed):
    _sql(
        analysed,
        "DELETE FROM detection_result WHERE item_id = 3",
        "DELETE FROM thumbnail WHERE item_id = 2",
        "INSERT INTO detector_model (sha256, name, format, source, details) "
        "VALUES ('" + "ab" * 32 + "', 'x', 'hub', 'y', '{}')",
    )
    report = _verify(analysed)
    texts = [str(d) for d in report.differences]
    assert any(
        t.startswith("result of item 3 by model") and "no longer in the case" in t for t in texts
    )
    assert any(t.startswith("item 2: thumbnail_sha256 in the case is none") for t in texts)
    assert f"model {'ab' * 6} is in the case but not in the audit log" in " ".join(texts)


def test_moved_file_path_is_named(analysed, analysed_original, tmp_path):
    """path_raw is what verify re-hashes; pointing it at a copy elsewhere is caught."""
    copy = tmp_path / "copy.png"
    copy.write_bytes((analysed_original.parent / "ev" / "b.png").read_bytes())
    _sql(
        analysed,
        f"UPDATE evidence_file SET path = '{copy}', path_raw = CAST('{copy}' AS BLOB), "
        "file_name = 'copy.png' WHERE item_id = 2 AND file_name = 'b.png'",
    )
    report = _verify(analysed)
    assert report.file_problems == []  # the copy hashes the same
    assert not report.ok
    fields = {(d.subject, d.field, d.actual) for d in report.differences}
    assert ("item 2", "file path", str(copy)) in fields
    assert ("item 2", "file path", replay.ABSENT) in fields


def test_other_first_path_is_named(analysed):
    """The first path is the one reports show; making the duplicate first is caught."""
    _sql(analysed, "UPDATE evidence_file SET id = 0 WHERE file_name = 'z-copy.png'")
    report = _verify(analysed)
    (difference,) = report.differences
    assert (difference.subject, difference.field) == ("item 2", "first path")
    assert difference.logged.endswith("b.png") and difference.actual.endswith("z-copy.png")


def test_renamed_file_name_is_named(analysed):
    _sql(analysed, "UPDATE evidence_file SET file_name = 'innocent.png' WHERE item_id = 3")
    report = _verify(analysed)
    assert any("the file name 'innocent.png'" in p for p in report.record_problems)
    assert not report.ok


# -- damaged entries and rows are findings, and the re-hash results stay ----------------------


def _drop_audit_triggers(path):
    _sql(
        path,
        "DROP TRIGGER audit_entry_no_update",
        "DROP TRIGGER audit_entry_no_delete",
    )


def test_details_that_are_not_json_are_a_finding(analysed, capsys):
    _drop_audit_triggers(analysed)
    _sql(analysed, "UPDATE audit_entry SET details = 'not {json' WHERE action = 'item.added'")
    report = _verify(analysed)
    assert report.files_checked == 4 and report.files_ok == 4
    problems = [p for p in report.record_problems if "details are not JSON" in p]
    assert len(problems) == 3 and "(item.added)" in problems[0]
    assert not report.ok
    with Case.open(analysed) as case, case.read() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "item.added")).first()
        assert audit.details_of(entry) == {}  # readers of the log get no exception either
    capsys.readouterr()
    assert main(["verify", str(analysed)]) == 1
    assert "its details are not JSON" in capsys.readouterr().out


def test_details_of_the_wrong_shape_are_a_finding(analysed):
    _drop_audit_triggers(analysed)
    _sql(analysed, """UPDATE audit_entry SET details = '{"added": 5}' WHERE action = 'item.tags'""")
    report = _verify(analysed)
    assert any(
        "(item.tags): its details are not what the application writes" in p
        for p in report.record_problems
    )
    assert report.files_ok == 4 and not report.ok


def test_malformed_created_utc_is_a_finding(analysed, capsys):
    _sql(analysed, "UPDATE case_info SET created_utc = 'yesterday'")
    report = _verify(analysed)
    assert report.files_ok == 4
    assert "case_info row 1: created_utc 'yesterday' is not a valid time" in report.record_problems
    assert any(d.field == "created_utc" for d in report.differences)
    capsys.readouterr()
    assert main(["verify", str(analysed)]) == 1  # and the outcome could be logged
    assert "not a valid time" in capsys.readouterr().out


def test_second_case_info_row_is_a_finding(analysed, capsys):
    _sql(
        analysed,
        "INSERT INTO case_info SELECT 2, uuid, number, 'Other title', examiner, agency, "
        "description, created_utc, tz_name, tz_offset_minutes, created_by_version, "
        "audit_head_seq, audit_head_hash FROM case_info WHERE id = 1",
    )
    report = _verify(analysed)
    assert report.files_ok == 4
    assert any(p.startswith("case_info row 2:") for p in report.record_problems)
    capsys.readouterr()
    assert main(["verify", str(analysed)]) == 1
    assert "case_info row 2" in capsys.readouterr().out


def test_path_that_is_no_file_path_is_a_finding(analysed):
    _sql(analysed, "UPDATE evidence_file SET path_raw = CAST('/x' || char(0) AS BLOB) WHERE id = 1")
    report = _verify(analysed)
    problem = next(p for p in report.file_problems if p.item_id == 1)
    assert problem.kind == "unreadable" and "not a usable file path" in problem.detail
    assert report.files_ok == 3 and not report.ok


def test_a_check_that_cannot_finish_keeps_the_rehash_results(analysed, monkeypatch):
    def broken(session):
        raise ValueError("unforeseen damage")

    monkeypatch.setattr(replay, "replay", broken)
    report = _verify(analysed)
    assert report.files_ok == 4 and report.chain.ok
    assert any("unforeseen damage" in p for p in report.record_problems)
    assert not report.ok
