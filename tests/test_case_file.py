"""The case file: creation, pragmas, refusal of what is not a usable case, schema versions,
and the append-only, hash-chained audit log."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from opensight_desktop.case import audit, schema
from opensight_desktop.case.models import Base, CaseInfo
from opensight_desktop.case.store import Case
from opensight_desktop.errors import CaseFileError


def test_create_records_case_fields_and_audit(case_path):
    with Case.create(
        case_path,
        number=" 42/2026 ",
        title="Fraud",
        examiner="Ana Núñez",
        agency="Unit 7",
        description="seized laptop",
        tz_name="CET",
        tz_offset_minutes=60,
    ) as case:
        summary = case.summary()
        assert (summary.number, summary.examiner, summary.agency) == (
            "42/2026",
            "Ana Núñez",
            "Unit 7",
        )
        assert (
            summary.tz_offset_minutes == 60 and summary.created_utc.utcoffset().total_seconds() == 0
        )
        assert summary.schema_revision == schema.head_revision()
        with case.read() as session:
            chain = audit.check_chain(session)
            # the examiner's signing key is added to the case with its first entry
            assert chain.ok and chain.entries == 2
            actions = session.scalars(text("SELECT action FROM audit_entry ORDER BY seq")).all()
            assert actions == ["case.created", "signing_key.added"]


def test_connection_pragmas(case):
    with case.write() as session:
        conn = session.connection()
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        # the case's own views, triggers and defaults may not call functions with side effects
        assert conn.exec_driver_sql("PRAGMA trusted_schema").scalar() == 0


def test_existing_file_is_never_overwritten(case_path):
    case_path.write_bytes(b"precious")
    with pytest.raises(CaseFileError, match="already exists"):
        Case.create(case_path, number="1", title="t", examiner="e")
    assert case_path.read_bytes() == b"precious"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"just some text, not a database at all" * 5, "not an SQLite database"),
    ],
)
def test_not_a_case_file(tmp_path, content, message):
    path = tmp_path / "x.osc"
    path.write_bytes(content)
    with pytest.raises(CaseFileError, match=message):
        Case.open(path)
    assert path.read_bytes() == content


def test_other_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(CaseFileError, match="another application"):
        Case.open(path)
    assert path.read_bytes() == before


def test_missing_file(tmp_path):
    with pytest.raises(CaseFileError, match="not found"):
        Case.open(tmp_path / "nope.osc")


def test_truncated_case_file_is_refused_and_left_alone(case, case_path):
    case.close()
    _checkpoint(case_path)
    data = case_path.read_bytes()
    case_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CaseFileError, match="damaged"):
        Case.open(case_path)
    assert case_path.read_bytes() == data[: len(data) // 2]


def test_newer_schema_is_refused_unchanged(case, case_path):
    case.close()
    conn = sqlite3.connect(case_path)
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    _checkpoint(case_path)
    before = case_path.read_bytes()
    with pytest.raises(CaseFileError, match="newer version"):
        Case.open(case_path)
    assert case_path.read_bytes() == before


def test_models_match_migrations(case):
    """The ORM models and the migrated schema must not drift apart."""
    with case.read() as session:
        context = MigrationContext.configure(session.connection())
        assert compare_metadata(context, Base.metadata) == []


def test_older_schema_is_upgraded_after_backup(case, case_path):
    revisions = list(schema.script_directory().walk_revisions())
    if len(revisions) < 2:
        pytest.skip("only one schema revision exists so far")
    previous = revisions[0].down_revision
    case.close()
    from alembic import command

    engine = __import__("opensight_desktop.case.database", fromlist=["x"]).make_engine(case_path)
    with engine.begin() as conn:
        cfg = schema.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, previous)
    engine.dispose()
    with Case.open(case_path) as reopened:
        assert reopened.upgraded is not None
        assert reopened.upgraded.from_revision == previous
        assert reopened.upgraded.backup.exists()
        assert reopened.summary().schema_revision == schema.head_revision()
        with reopened.read() as session:
            assert audit.check_chain(session).ok
    with Case.open(reopened.upgraded.backup) as old:  # the backup is the old case, upgradable
        assert old.upgraded is not None


def test_audit_log_is_append_only(case, case_path):
    conn = sqlite3.connect(case_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit_entry SET action = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit_entry")
    conn.close()


def _add_entries(case, count):
    with case.write() as session:
        for i in range(count):
            audit.append(session, "test.note", {"i": i})


def _tamper(case_path, sql):
    conn = sqlite3.connect(case_path)
    conn.execute("DROP TRIGGER audit_entry_no_update")
    conn.execute("DROP TRIGGER audit_entry_no_delete")
    conn.execute(sql)
    conn.commit()
    conn.close()


def _chain(case):
    with case.read() as session:
        return audit.check_chain(session)


def test_chain_detects_edited_entry(case, case_path):
    _add_entries(case, 5)
    assert _chain(case).ok
    _tamper(case_path, "UPDATE audit_entry SET details = '{\"i\":99}' WHERE seq = 4")
    chain = _chain(case)
    assert not chain.ok and chain.first_bad_seq == 4 and "altered" in chain.problem


def test_chain_detects_recomputed_entry(case, case_path):
    """Even re-hashing the edited entry breaks the link of the next one."""
    _add_entries(case, 5)
    with case.read() as session:
        entry = session.get(audit.AuditEntry, 3)
        forged = audit.entry_digest(
            seq=3,
            ts_utc=entry.ts_utc,
            user="mallory",
            host=entry.host,
            app_version=entry.app_version,
            action=entry.action,
            item_id=entry.item_id,
            details=entry.details,
            prev_hash=entry.prev_hash,
        )
    _tamper(case_path, f"UPDATE audit_entry SET user='mallory', entry_hash='{forged}' WHERE seq=3")
    chain = _chain(case)
    assert not chain.ok and chain.first_bad_seq == 4


def test_chain_detects_deleted_entries(case, case_path):
    _add_entries(case, 5)
    _tamper(case_path, "DELETE FROM audit_entry WHERE seq = 2")
    chain = _chain(case)
    assert not chain.ok and chain.first_bad_seq == 2 and "missing" in chain.problem


def test_chain_detects_removed_tail(case, case_path):
    _add_entries(case, 5)
    _tamper(case_path, "DELETE FROM audit_entry WHERE seq = 7")
    chain = _chain(case)
    assert not chain.ok and chain.first_bad_seq == 7 and "removed" in chain.problem


def test_case_info_row_is_single(case):
    with case.read() as session:
        assert session.get(CaseInfo, 1) is not None


def _checkpoint(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
