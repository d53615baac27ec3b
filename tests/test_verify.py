"""verify: changed and missing evidence, edited records, broken audit chain."""

from __future__ import annotations

import sqlite3

from opensight_desktop.case.integrity import verify_case
from opensight_desktop.case.store import Case
from opensight_desktop.pipeline.import_job import ImportJob
from tests import imagegen


def _imported(case, tmp_path, count=3):
    folder = tmp_path / "ev"
    folder.mkdir()
    paths = [
        imagegen.save(folder / f"p{i}.png", "PNG", size=(40, 30), seed=i) for i in range(count)
    ]
    ImportJob(case, [str(folder)]).run()
    return paths


def test_intact_case_verifies_and_is_logged(case, tmp_path):
    _imported(case, tmp_path)
    report = verify_case(case)
    assert report.ok and report.files_ok == 3
    with case.read() as session:
        actions = [
            row[0]
            for row in session.connection().exec_driver_sql(
                "SELECT action FROM audit_entry ORDER BY seq"
            )
        ]
    assert actions[-1] == "case.verified"


def test_changed_and_missing_files(case, tmp_path):
    paths = _imported(case, tmp_path)
    with open(paths[0], "ab") as handle:
        handle.write(b"appended")
    paths[1].unlink()
    report = verify_case(case)
    assert not report.ok
    kinds = {p.path: p.kind for p in report.file_problems}
    assert kinds == {str(paths[0]): "changed", str(paths[1]): "missing"}
    assert report.files_ok == 1


def test_edited_hash_in_case_is_detected(case, tmp_path, case_path):
    _imported(case, tmp_path)
    conn = sqlite3.connect(case_path)
    conn.execute("UPDATE evidence_item SET sha256 = ? WHERE id = 2", ("0" * 64,))
    conn.commit()
    conn.close()
    report = verify_case(case)
    assert not report.ok
    assert any(
        (d.subject, d.field, d.actual) == ("item 2", "sha256", "0" * 64) for d in report.differences
    )
    assert any(p.kind == "changed" and p.item_id == 2 for p in report.file_problems)


def test_deleted_item_row_is_detected(case, tmp_path, case_path):
    _imported(case, tmp_path)
    conn = sqlite3.connect(case_path)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("DELETE FROM thumbnail WHERE item_id = 3")
    conn.execute("DELETE FROM evidence_file WHERE item_id = 3")
    conn.execute("DELETE FROM evidence_item WHERE id = 3")
    conn.commit()
    conn.close()
    report = verify_case(case)
    assert any(
        "item 3 was recorded in the audit log" in str(d) and "no longer in the case" in str(d)
        for d in report.differences
    )


def test_broken_chain_is_reported_with_entry(case, tmp_path, case_path):
    _imported(case, tmp_path)
    conn = sqlite3.connect(case_path)
    conn.execute("DROP TRIGGER audit_entry_no_update")
    conn.execute("UPDATE audit_entry SET user = 'someone else' WHERE seq = 3")
    conn.commit()
    conn.close()
    report = verify_case(case)
    assert not report.ok and report.chain.first_bad_seq == 3


def test_the_items_a_check_found_changed_are_recorded_and_read_back(tmp_path):
    from opensight_desktop.case import audit
    from opensight_desktop.case.integrity import recorded_problems, verify_case

    folder = tmp_path / "ev"
    folder.mkdir()
    for seed in range(3):
        imagegen.save(folder / f"img{seed}.png", "PNG", seed=seed)
    with Case.create(tmp_path / "c.osc", number="1", title="t", examiner="e") as case:
        ImportJob(case, [str(folder)]).run()
        (folder / "img1.png").write_bytes(b"changed")
        (folder / "img2.png").unlink()
        verify_case(case)
        with case.read() as session:
            assert recorded_problems(session) == {2: "changed", 3: "missing"}
        with case.write() as session:  # a crafted entry: only well-formed pairs count
            audit.append(
                session,
                "case.verified",
                {"file_problems": {"1": "changed", "x": "missing", "²": "changed", "2": "gone"}},
            )
        with case.read() as session:
            assert recorded_problems(session) == {1: "changed"}
