"""Signed audit chain: a key made on first use, the head of every write signed, and verify
failing on a chain recomputed without the key, a bad, missing or unknown signature."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import shutil
import sqlite3
import stat
import subprocess

import pytest
from pypdf import PdfReader

from opensight_desktop.case import audit, review, schema, signing
from opensight_desktop.case.database import init_new_file, make_engine
from opensight_desktop.case.integrity import describe, verify_case
from opensight_desktop.case.store import Case
from opensight_desktop.cli import main
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.report.pdf import ReportBuilder, ReportOptions
from tests import imagegen


@pytest.fixture
def imported(tmp_path):
    """A closed case with three imported images and one review change."""
    folder = tmp_path / "ev"
    folder.mkdir()
    for i in range(3):
        imagegen.save(folder / f"p{i}.png", "PNG", size=(40, 30), seed=i)
    path = tmp_path / "case.osc"
    with Case.create(path, number="1", title="t", examiner="e") as case:
        ImportJob(case, [str(folder)]).run()
        review.set_review_state(case, [2], "follow_up")
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


def _rows(path, query):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


def _cli_verify(path, capsys):
    capsys.readouterr()
    code = main(["verify", str(path)])
    return code, capsys.readouterr().out


# -- the key -------------------------------------------------------------------------------


def test_key_is_made_on_first_use_private_and_stable(opensight_home, case):
    path = opensight_home / "keys" / "signing_key"
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    signer = signing.local_signer()
    assert signer.fingerprint.startswith("SHA256:") and len(signer.fingerprint) == 50
    pub = path.with_name("signing_key.pub").read_text()
    assert pub.split()[:2] == signer.public_key.split()
    assert signing.local_signer() is signer  # one key per examiner, loaded once


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen not installed")
def test_fingerprint_is_the_one_ssh_keygen_shows(opensight_home, case):
    output = subprocess.run(
        ["ssh-keygen", "-lf", str(opensight_home / "keys" / "signing_key.pub")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert signing.local_signer().fingerprint in output


def test_damaged_key_file_is_a_clear_error(tmp_path, opensight_home, capsys):
    keys = opensight_home / "keys"
    keys.mkdir(parents=True)
    (keys / "signing_key").write_text("not a key")
    code = main(
        ["case", "new", str(tmp_path / "c.osc"), "--number", "1", "--title", "t", "--examiner", "e"]
    )
    err = capsys.readouterr().err
    assert code == 2 and "signing key" in err and "cannot be used" in err
    assert not (tmp_path / "c.osc").exists()
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_key_command_shows_the_fingerprint(opensight_home, capsys):
    assert main(["key"]) == 0
    out = capsys.readouterr().out
    assert signing.local_signer().fingerprint in out and "ssh-ed25519 " in out


# -- signing -------------------------------------------------------------------------------


def test_every_write_signs_its_head_and_verify_names_the_signer(imported):
    signatures = _rows(imported, "SELECT seq, prev_seq FROM audit_signature ORDER BY seq")
    head = _rows(imported, "SELECT audit_head_seq FROM case_info")[0][0]
    assert signatures[0] == (2, 0)  # case.created and the key's entry, signed together
    assert signatures[-1][0] == head
    assert all(b[1] == a[0] for a, b in itertools.pairwise(signatures))
    report = _verify(imported)
    assert report.ok, describe(report)
    check = report.signatures
    assert [(r.first, r.last) for r in check.ranges] == [(1, head)]
    (key,) = check.keys
    assert key.fingerprint == check.ranges[0].fingerprint and key.this_computer
    assert key.user == audit.current_user() and key.host == audit.current_host()
    text = "\n".join(describe(report))
    assert f"entries 1–{head}: signed by {key.fingerprint}" in text
    assert "[the key of this user on this computer]" in text


def _recompute_chain(path, from_seq, edit):
    """What an attacker without the key can do: edit an entry, re-hash it and every later
    entry, and move the case's head (triggers dropped first)."""
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER audit_entry_no_update")
    rows = conn.execute(
        "SELECT seq, ts_utc, user, host, app_version, action, item_id, details, prev_hash "
        "FROM audit_entry ORDER BY seq"
    ).fetchall()
    previous = None
    for seq, ts, user, host, version, action, item_id, details, prev_hash in rows:
        if seq == from_seq:
            details = edit(details)
        if previous is not None:
            prev_hash = previous
        digest = audit.entry_digest(
            seq=seq,
            ts_utc=ts,
            user=user,
            host=host,
            app_version=version,
            action=action,
            item_id=item_id,
            details=details,
            prev_hash=prev_hash,
        )
        conn.execute(
            "UPDATE audit_entry SET details = ?, prev_hash = ?, entry_hash = ? WHERE seq = ?",
            (details, prev_hash, digest, seq),
        )
        previous = digest
    conn.execute("UPDATE case_info SET audit_head_hash = ?", (previous,))
    conn.commit()
    conn.close()


def test_chain_recomputed_without_the_key_fails(imported, capsys):
    """A swapped evidence file, with its hash changed in the table and in the log, and the
    whole chain recomputed: hashes and replay agree, only the signatures can tell."""
    fake = "f" * 64
    (seq,) = _rows(imported, "SELECT seq FROM audit_entry WHERE action='item.added' AND item_id=1")[
        0
    ]

    def edit(details):
        values = json.loads(details)
        values["sha256"] = fake
        return audit.canonical_json(values)

    _recompute_chain(imported, seq, edit)
    _sql(imported, f"UPDATE evidence_item SET sha256 = '{fake}' WHERE id = 1")
    report = _verify(imported)
    assert report.chain.ok and not report.differences
    assert not report.ok and not report.signatures.ok
    assert any(
        p.startswith("the signature of entry") and "does not match" in p
        for p in report.signatures.problems
    )
    code, out = _cli_verify(imported, capsys)
    assert code == 1 and "does not match it" in out and "PROBLEMS FOUND" in out


def test_bad_signature_is_named(imported, capsys):
    (seq, signature) = _rows(imported, "SELECT seq, signature FROM audit_signature LIMIT 1")[0]
    raw = bytearray(base64.b64decode(signature))
    raw[0] ^= 1
    _sql(
        imported,
        "DROP TRIGGER audit_signature_no_update",
        f"UPDATE audit_signature SET signature = '{base64.b64encode(raw).decode()}' "
        f"WHERE seq = {seq}",
    )
    report = _verify(imported)
    assert f"the signature of entry {seq} does not match it" in " ".join(report.signatures.problems)
    assert _cli_verify(imported, capsys)[0] == 1


def test_removed_head_signature_leaves_an_unsigned_tail(imported, capsys):
    head = _rows(imported, "SELECT max(seq) FROM audit_signature")[0][0]
    _sql(
        imported,
        "DROP TRIGGER audit_signature_no_delete",
        f"DELETE FROM audit_signature WHERE seq = {head}",
    )
    report = _verify(imported)
    assert not report.ok
    assert any(f"entry {head}, the newest, is not signed" in p for p in report.signatures.problems)
    code, out = _cli_verify(imported, capsys)
    assert code == 1 and "not signed" in out


def test_removed_signature_in_the_middle_is_noticed(imported):
    seqs = [row[0] for row in _rows(imported, "SELECT seq FROM audit_signature ORDER BY seq")]
    assert len(seqs) >= 3
    _sql(
        imported,
        "DROP TRIGGER audit_signature_no_delete",
        f"DELETE FROM audit_signature WHERE seq = {seqs[1]}",
    )
    report = _verify(imported)
    assert not report.ok
    assert any(
        f"the signature of entry {seqs[2]} follows one at entry {seqs[1]}" in p
        for p in report.signatures.problems
    )


def test_unsigned_entries_added_outside_the_application(imported):
    """Entries appended by hand, chain and head updated: nobody signed them."""
    (head_seq, head_hash) = _rows(
        imported, "SELECT audit_head_seq, audit_head_hash FROM case_info"
    )[0]
    row = {
        "seq": head_seq + 1,
        "ts_utc": "2026-01-01T00:00:00.000000Z",
        "user": "x",
        "host": "y",
        "app_version": "0.1.0",
        "action": "item.notes",
        "item_id": 1,
        "details": audit.canonical_json({"from": "", "to": "planted"}),
        "prev_hash": head_hash,
    }
    digest = audit.entry_digest(**row)
    conn = sqlite3.connect(imported)
    conn.execute(
        "INSERT INTO audit_entry VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*row.values(), digest),
    )
    conn.execute(
        "UPDATE case_info SET audit_head_seq = ?, audit_head_hash = ?", (row["seq"], digest)
    )
    conn.execute("UPDATE evidence_item SET notes = 'planted' WHERE id = 1")
    conn.commit()
    conn.close()
    report = _verify(imported)
    assert report.chain.ok and not report.differences  # log and table agree...
    assert any(
        f"entry {row['seq']}, the newest, is not signed" in p for p in report.signatures.problems
    )


def test_unknown_key_fails(imported):
    seq = _rows(imported, "SELECT max(seq) FROM audit_signature")[0][0]
    _sql(
        imported,
        "DROP TRIGGER audit_signature_no_update",
        f"UPDATE audit_signature SET key_fingerprint = 'SHA256:unknown' WHERE seq = {seq}",
    )
    report = _verify(imported)
    assert any(
        "signed by the key SHA256:unknown, which the case does not carry" in p
        for p in report.signatures.problems
    )
    assert not report.ok


def test_key_added_outside_the_application_fails(imported, tmp_path, monkeypatch):
    """An attacker's own key, signing a recomputed chain, but never added by the log."""
    monkeypatch.setenv("OPENSIGHT_HOME", str(tmp_path / "attacker"))
    attacker = signing.local_signer()
    seqs = _rows(imported, "SELECT seq, prev_seq FROM audit_signature ORDER BY seq")
    head_seq, head_hash = _rows(imported, "SELECT audit_head_seq, audit_head_hash FROM case_info")[
        0
    ]
    conn = sqlite3.connect(imported)
    conn.execute(
        "INSERT INTO signing_key VALUES (?, ?, 'e', 'laptop', '2026-01-01T00:00:00Z')",
        (attacker.fingerprint, attacker.public_key),
    )
    conn.execute("DROP TRIGGER audit_signature_no_update")
    conn.execute(
        "UPDATE audit_signature SET key_fingerprint = ?, signature = ? WHERE seq = ?",
        (attacker.fingerprint, attacker.sign(head_seq, seqs[-1][1], head_hash), head_seq),
    )
    conn.commit()
    conn.close()
    report = _verify(imported)
    problems = " ".join(report.signatures.problems)
    assert f"signing key {attacker.fingerprint} (e@laptop) is in the case but no audit" in problems
    assert not report.ok


# What a forger also removes to pass for schema 0002: the objects of migration 0004.
UNDO_0004 = (
    "DROP TABLE hashset_hit",
    "DROP TABLE hashset",
    "DROP INDEX ix_evidence_item_md5",
    "DROP INDEX ix_evidence_item_sha1",
    "DROP INDEX ix_evidence_item_review_state",
    "DROP INDEX ix_item_metadata_datetime_original",
    "DROP INDEX ix_item_metadata_camera",
    "DROP INDEX ix_evidence_file_path",
    "ALTER TABLE evidence_item DROP COLUMN phash",
    "ALTER TABLE evidence_item DROP COLUMN vics_category",
)


def test_signatures_removed_to_look_like_an_old_case(imported):
    """Dropping the signature tables and marking the schema older makes the app upgrade and
    sign the case again; the key entries left in the log give it away."""
    _sql(
        imported,
        "DROP TABLE audit_signature",
        "DROP TABLE signing_key",
        *UNDO_0004,
        "UPDATE alembic_version SET version_num = '0002'",
    )
    with Case.open(imported) as case:
        assert case.upgraded is not None
        report = verify_case(case, record=False)
    assert any("signatures were removed" in p for p in report.signatures.problems)
    assert not report.ok


# -- cases from before signatures ----------------------------------------------------------


def _old_case(path, folder):
    """A case as an earlier version wrote it: schema 0002, entries without signatures and
    without the values this version records (thumbnail, metadata, image size, ...)."""
    image = imagegen.save(folder / "old.png", "PNG", size=(40, 30), seed=9)
    data = image.read_bytes()
    hashes = {name: hashlib.new(name, data).hexdigest() for name in ("md5", "sha1", "sha256")}
    init_new_file(path)
    engine = make_engine(path, immediate=True)
    now = "2025-06-01T10:00:00.000000Z"
    with engine.begin() as conn:
        schema.upgrade(conn, "0002")
        conn.exec_driver_sql(
            "INSERT INTO case_info VALUES (1, 'u-1', '7', 'Old case', 'e', '', '', ?, 'UTC', 0, "
            "'0.0.9', 0, ?)",
            (now, audit.GENESIS_HASH),
        )
        conn.exec_driver_sql(
            "INSERT INTO import_session VALUES (1, ?, ?, 'completed', '[]', 1, 'e', 'h', 1, 1, "
            "0, 0, 0, 0)",
            (now, now),
        )
        conn.exec_driver_sql(
            "INSERT INTO evidence_item (id, sha256, sha1, md5, size_bytes, status, format, width, "
            "height, mode, frames, added_utc, import_session_id, review_state, notes) "
            "VALUES (1, ?, ?, ?, ?, 'imported', 'PNG', 40, 30, 'RGB', 1, ?, 1, 'not_reviewed', '')",
            (hashes["sha256"], hashes["sha1"], hashes["md5"], len(data), now),
        )
        conn.exec_driver_sql(
            "INSERT INTO evidence_file VALUES (1, 1, 1, ?, ?, 'old.png', ?, 1, 2, 3, 0, ?)",
            (str(image), bytes(image), len(data), now),
        )
        conn.exec_driver_sql(
            "INSERT INTO thumbnail VALUES (1, 40, 30, ?)", (imagegen.jpeg_bytes(seed=1),)
        )
        entries = [
            (
                "case.created",
                None,
                {
                    "uuid": "u-1",
                    "number": "7",
                    "title": "Old case",
                    "examiner": "e",
                    "agency": "",
                    "description": "",
                    "tz_name": "UTC",
                    "tz_offset_minutes": 0,
                    "schema": "0001",
                },
            ),
            (
                "item.added",
                1,
                {
                    "path": str(image),
                    "session": 1,
                    "status": "imported",
                    "error": None,
                    "size_bytes": len(data),
                    **hashes,
                },
            ),
        ]
        previous = audit.GENESIS_HASH
        for seq, (action, item_id, details) in enumerate(entries, start=1):
            row = {
                "seq": seq,
                "ts_utc": now,
                "user": "e",
                "host": "h",
                "app_version": "0.0.9",
                "action": action,
                "item_id": item_id,
                "details": audit.canonical_json(details),
                "prev_hash": previous,
            }
            previous = audit.entry_digest(**row)
            conn.exec_driver_sql(
                "INSERT INTO audit_entry VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*row.values(), previous),
            )
        conn.exec_driver_sql(
            "UPDATE case_info SET audit_head_seq = ?, audit_head_hash = ?", (len(entries), previous)
        )
    engine.dispose()


def test_old_case_is_signed_from_its_upgrade_and_says_what_is_not_vouched_for(tmp_path):
    path = tmp_path / "old.osc"
    _old_case(path, tmp_path)
    with Case.open(path) as case:
        assert case.upgraded is not None and case.upgraded.from_revision == "0002"
        report = verify_case(case, record=False)
    assert report.ok, describe(report)
    assert report.signatures.unsigned_before == 2
    assert report.signatures.ranges[0].first == 3
    assert report.unvouched["item thumbnail_sha256"] == 1
    assert report.unvouched["case created_utc"] == 1
    text = "\n".join(describe(report))
    assert "entries 1–2: written by a version without signatures" in text
    assert "Not vouched for" in text and "1 item thumbnail_sha256" in text
    # What old entries did record is still checked.
    _sql(path, "UPDATE evidence_item SET md5 = '0' WHERE id = 1")
    report = _verify(path)
    assert [(d.subject, d.field) for d in report.differences] == [("item 1", "md5")]


# -- the report ----------------------------------------------------------------------------


def _pdf_text(path):
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_report_prints_fingerprints_and_turns_red_on_a_difference(imported, tmp_path):
    with Case.open(imported) as case:
        good = ReportBuilder(case, ReportOptions(audit_appendix=False)).write(tmp_path / "a.pdf")
    text = _pdf_text(tmp_path / "a.pdf")
    fingerprint = signing.local_signer().fingerprint
    assert good.integrity_ok and fingerprint in text.replace("\n", "")
    assert "this computer" not in text  # the same bytes whoever regenerates it
    _sql(imported, "UPDATE evidence_item SET review_state = 'likely_generated' WHERE id = 1")
    with Case.open(imported) as case:
        bad = ReportBuilder(case, ReportOptions(audit_appendix=False)).write(tmp_path / "b.pdf")
    text = _pdf_text(tmp_path / "b.pdf")
    assert not bad.integrity_ok
    assert "PROBLEMS FOUND" in text and "review_state" in text
