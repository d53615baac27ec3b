"""Hostile case files: foreign schema objects, a foreign write-ahead log, the lock reached
through links, and cases on read-only storage (issue 12)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from opensight_desktop.case import audit, review, schema
from opensight_desktop.case.integrity import describe, verify_case
from opensight_desktop.case.models import AuditEntry
from opensight_desktop.case.store import Case
from opensight_desktop.cli import main
from opensight_desktop.errors import CaseFileError
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.report.export import export_case
from tests import imagegen


def _module(name: str):
    """Modules of this issue, imported by the tests that use them (so that this file also
    runs against the code before the issue, to show each test failing there)."""
    import importlib

    return importlib.import_module(f"opensight_desktop.case.{name}")


posix_only = pytest.mark.skipif(os.name != "posix", reason="flock, links and mounts are POSIX")

# The attack of the issue: a trigger that rewrites records whenever the app writes its log.
EVIL_TRIGGER = (
    "CREATE TRIGGER evil AFTER INSERT ON audit_entry "
    "BEGIN UPDATE evidence_item SET notes = 'forged', review_state = 'likely_generated'; END"
)


def _sql(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def _query(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _new_case(path: Path, number: str = "C-1", images: int = 2) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with Case.create(path, number=number, title=f"Case {number}", examiner="A. Examiner") as case:
        if images:
            folder = path.parent / f"ev-{number}"
            folder.mkdir()
            for i in range(images):
                imagegen.save(folder / f"p{i}.png", "PNG", size=(40, 30), seed=i)
            ImportJob(case, [str(folder)]).run()
    return path


@pytest.fixture
def case_file(tmp_path: Path) -> Path:
    return _new_case(tmp_path / "case.osc")


def _wal(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def _audit_count(path: Path) -> int:
    return _query(path, "SELECT count(*) FROM audit_entry")[0][0]


# -- foreign schema objects ------------------------------------------------------------------


def test_foreign_trigger_opens_read_only_and_writes_are_refused(case_file):
    _sql(case_file, EVIL_TRIGGER)
    with Case.open(case_file) as case:
        assert case.read_only and case.read_only_cause == "schema"
        assert [(d.kind, d.type, d.name) for d in case.schema_differences] == [
            ("foreign", "trigger", "evil")
        ]
        with pytest.raises(CaseFileError, match=r"read-only because its schema.*'evil'"):
            review.set_notes(case, 1, "my note")
        with case.read() as session:
            assert session.connection().exec_driver_sql("PRAGMA trusted_schema").scalar() == 0
    assert _query(case_file, "SELECT DISTINCT notes FROM evidence_item") == [("",)]


def test_verify_does_not_run_a_foreign_trigger_and_is_not_verified(case_file, capsys):
    _sql(case_file, EVIL_TRIGGER)
    entries = _audit_count(case_file)
    assert main(["verify", str(case_file)]) == 1
    captured = capsys.readouterr()
    assert "Result: PROBLEMS FOUND" in captured.out
    assert "Case schema: 1 object(s)" in captured.out and "trigger 'evil'" in captured.out
    assert "not recorded in the audit log" in captured.out
    assert "'evil'" in captured.err  # the one-line warning every command prints
    assert _query(case_file, "SELECT DISTINCT notes, review_state FROM evidence_item") == [
        ("", "not_reviewed")
    ]
    assert _audit_count(case_file) == entries


def test_a_trigger_added_while_the_case_is_open_never_runs_in_its_writes(case_file):
    with Case.open(case_file) as case:
        _sql(case_file, EVIL_TRIGGER)  # another program, after the case was opened
        with pytest.raises(CaseFileError, match=r"read-only because its schema.*'evil'"):
            review.set_notes(case, 1, "my note")
        assert case.read_only and not verify_case(case).ok
    assert _query(case_file, "SELECT DISTINCT notes FROM evidence_item") == [("",)]


def test_every_kind_of_schema_difference_is_named(case_file):
    _sql(
        case_file,
        "CREATE VIEW v_items AS SELECT * FROM evidence_item",
        "CREATE INDEX ix_extra ON evidence_item(notes)",
        "CREATE TABLE stash(x)",
        "ALTER TABLE case_info ADD COLUMN extra TEXT",
        "CREATE TRIGGER t_notes AFTER UPDATE OF notes ON evidence_item "
        "BEGIN UPDATE detection_result SET probability = 0; END",
        "DROP TRIGGER audit_entry_no_update",
        "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry BEGIN SELECT 1; END",
        "DROP INDEX ix_evidence_item_status",
    )
    with Case.open(case_file) as case:
        found = {(d.kind, d.type, d.name) for d in case.schema_differences}
        report = verify_case(case)
    assert found == {
        ("foreign", "view", "v_items"),
        ("foreign", "index", "ix_extra"),
        ("foreign", "table", "stash"),
        ("foreign", "column", "case_info.extra"),
        ("foreign", "trigger", "t_notes"),
        ("altered", "trigger", "audit_entry_no_update"),
        ("missing", "index", "ix_evidence_item_status"),
    }
    assert not report.ok and len(report.schema_differences) == 7
    assert "Result: PROBLEMS FOUND" in describe(report)


def test_repair_removes_exactly_the_foreign_objects_after_a_backup(case_file):
    _sql(
        case_file,
        EVIL_TRIGGER,
        "CREATE VIEW v_items AS SELECT * FROM evidence_item",
        "CREATE TABLE stash(x)",
        "ALTER TABLE case_info ADD COLUMN extra TEXT",
        "DROP TRIGGER audit_entry_no_update",
        "CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry BEGIN SELECT 1; END",
        "DROP INDEX ix_evidence_item_status",
    )
    result = Case.repair(case_file)
    assert result.changed and result.backup is not None
    assert {d.name for d in result.removed} == {
        "evil",
        "v_items",
        "stash",
        "case_info.extra",
        "audit_entry_no_update",
    }
    assert {d.name for d in result.restored} == {"audit_entry_no_update", "ix_evidence_item_status"}
    # the backup keeps the case as it was found (the foreign objects may be evidence)
    assert ("evil",) in _query(result.backup, "SELECT name FROM sqlite_master")
    # the repair's own audit entry did not fire the trigger it removed
    assert _query(case_file, "SELECT DISTINCT notes FROM evidence_item") == [("",)]
    with Case.open(case_file) as case:
        assert not case.read_only and case.schema_differences == ()
        with case.read() as session:
            assert audit.check_chain(session).ok
            entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert entry.action == "case.schema_repaired"
        details = json.loads(entry.details)
        assert details["backup"] == str(result.backup)
        removed = {r["name"]: r["sql"] for r in details["removed"]}
        assert removed["evil"] == EVIL_TRIGGER
        assert set(removed) == {d.name for d in result.removed}
        review.set_notes(case, 1, "examiner's note")  # writable again
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):  # protection restored
        _sql(case_file, "UPDATE audit_entry SET action = 'x'")
    assert Case.repair(case_file).changed is False  # nothing left to repair


def test_repair_refuses_what_removing_objects_cannot_fix_and_changes_nothing(case_file):
    _sql(case_file, EVIL_TRIGGER, "ALTER TABLE item_tag RENAME COLUMN tag TO label")
    before = _digest(case_file)
    with pytest.raises(CaseFileError, match=r"cannot be repaired by removing objects.*tag"):
        Case.repair(case_file)
    assert _digest(case_file) == before
    assert not list(case_file.parent.glob("*.bak"))


def test_a_missing_table_is_damage_not_a_read_only_case(case_file):
    _sql(case_file, "DROP TABLE tile_scan")
    with pytest.raises(CaseFileError, match=r"damaged.*'tile_scan' is missing"):
        Case.open(case_file)


def test_foreign_objects_in_an_old_schema_block_the_upgrade_until_repair(case_file):
    revisions = list(schema.script_directory().walk_revisions())
    if len(revisions) < 2:
        pytest.skip("only one schema revision exists so far")
    previous = revisions[0].down_revision
    _downgrade(case_file, previous)
    _sql(case_file, EVIL_TRIGGER)
    before = _digest(case_file)
    with pytest.raises(CaseFileError, match=r"needs a schema upgrade.*'evil'.*case repair"):
        Case.open(case_file)
    assert _digest(case_file) == before
    result = Case.repair(case_file)
    assert result.upgraded_from == previous
    with Case.open(case_file) as case:
        assert not case.read_only and case.summary().schema_revision == schema.head_revision()
        with case.read() as session:
            assert audit.check_chain(session).ok


def _downgrade(path: Path, revision: str) -> None:
    """Make an old case (foreign keys off: batch mode rebuilds tables that hold rows)."""
    from alembic import command
    from sqlalchemy import create_engine

    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(path, isolation_level=None))
    with engine.begin() as conn:
        cfg = schema.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
    engine.dispose()


def test_every_migration_upgrades_to_exactly_the_reference(case_file):
    """An old case upgraded migration by migration is not mistaken for a tampered one (this
    also holds for migrations added later: the reference is built from them)."""
    first = list(schema.script_directory().walk_revisions())[-1].revision
    _downgrade(case_file, first)
    with Case.open(case_file) as case:
        assert case.upgraded is not None or first == schema.head_revision()
        assert case.schema_differences == () and not case.read_only


def test_reference_schema_is_the_same_in_every_process():
    """Alembic's batch mode orders foreign keys by string hash: the comparison must not."""
    code = (
        "import hashlib; from opensight_desktop.case import schema, schema_check as s; "
        "r = s.reference_schema(schema.head_revision()); "
        "print(hashlib.sha256(repr([(o.type, o.name, o.canonical, o.columns) for o in r])"
        ".encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("CREATE TABLE t (a INT)", 'create   table "T"(\n a int) -- note', True),
        ("CREATE TABLE t (a TEXT DEFAULT 'x')", "CREATE TABLE t (a TEXT DEFAULT 'X')", False),
        (
            "CREATE TABLE t (a INT, FOREIGN KEY(a) REFERENCES x (id), PRIMARY KEY (a))",
            "CREATE TABLE t (a INT, PRIMARY KEY (a), FOREIGN KEY(a) REFERENCES x (id))",
            True,
        ),
        ("CREATE TABLE t (a INT, b INT)", "CREATE TABLE t (b INT, a INT)", False),
        ('CREATE TABLE t ("a b" INT)', "CREATE TABLE t (a b INT)", False),
        ("CREATE TABLE t (a VARCHAR(32))", "CREATE TABLE t (a VARCHAR(3 2))", False),
        ("SELECT 1 /* x */", "SELECT 1", True),
    ],
)
def test_normalised_sql(a, b, same):
    normalise = _module("schema_check").normalise_sql
    assert (normalise(a) == normalise(b)) is same


def test_cli_names_foreign_objects_and_refuses_writes(case_file, tmp_path, capsys):
    _sql(case_file, EVIL_TRIGGER)
    assert main(["case", "info", str(case_file)]) == 0
    out = capsys.readouterr().out
    assert "Schema check" in out and "trigger 'evil' on audit_entry" in out
    assert "read-only: its schema is not what OpenSight creates" in out
    folder = tmp_path / "more"
    folder.mkdir()
    imagegen.save(folder / "x.png", "PNG", size=(20, 20))
    assert main(["import", str(case_file), str(folder)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot import into it: the case is open read-only" in err[0]
    out_json = tmp_path / "out.json"
    assert main(["export", str(case_file), "--format", "json", "-o", str(out_json)]) == 0
    captured = capsys.readouterr()
    assert "not recorded" in captured.out and "'evil'" in captured.err
    assert json.loads(out_json.read_text())["items"]
    assert main(["case", "repair", str(case_file)]) == 0
    out = capsys.readouterr().out
    assert "removed: trigger 'evil' on audit_entry" in out and "backup copy" in out
    assert main(["verify", str(case_file)]) == 0
    assert "Result: VERIFIED" in capsys.readouterr().out


# -- a write-ahead log that is not this case's --------------------------------------------


def _wal_after_write(path: Path, note: str) -> bytes:
    """The log as a crash would leave it: taken while the case is open after a write."""
    with Case.open(path) as case:
        review.set_notes(case, 1, note)
        wal = _wal(path).read_bytes()
    assert not _wal(path).exists()  # a clean close merges and removes it
    return wal


def test_a_foreign_wal_is_refused_before_sqlite_replays_it(tmp_path):
    ours = _new_case(tmp_path / "one" / "case.osc", "C-1")
    other = _new_case(tmp_path / "six" / "case.osc", "C-6", images=1)
    wal = _wal(ours)
    wal.write_bytes(_wal_after_write(other, "from case six"))
    before = {p.name: _digest(p) for p in ours.parent.iterdir() if p.is_file()}
    with pytest.raises(CaseFileError, match=r"does not belong.*'C-6'.*neither file was changed"):
        Case.open(ours)
    assert {p.name: _digest(p) for p in ours.parent.iterdir() if p.is_file()} == before
    wal.rename(tmp_path / "kept-as-evidence-wal")
    with Case.open(ours) as case:  # the lock was released; the case is its own again
        assert case.summary().number == "C-1"


def test_a_wal_of_a_diverged_copy_of_the_same_case_is_refused(tmp_path, case_file):
    copy = tmp_path / "copy" / "case.osc"
    copy.parent.mkdir()
    shutil.copyfile(case_file, copy)
    with Case.open(case_file) as case:
        review.set_notes(case, 1, "written in the original")
    _wal(case_file).write_bytes(_wal_after_write(copy, "written in the copy"))
    with pytest.raises(CaseFileError, match="does not continue the case's audit log"):
        Case.open(case_file)


def test_the_cases_own_wal_after_a_crash_is_replayed(tmp_path, case_file):
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    with Case.open(case_file) as case:
        review.set_notes(case, 1, "saved just before the crash")
        shutil.copyfile(case_file, crashed / "case.osc")
        shutil.copyfile(_wal(case_file), crashed / "case.osc-wal")
    assert _module("wal_guard").would_replay(_wal(crashed / "case.osc"))
    with Case.open(crashed / "case.osc") as case:
        assert not case.read_only
    assert _query(crashed / "case.osc", "SELECT notes FROM evidence_item WHERE id = 1") == [
        ("saved just before the crash",)
    ]


def test_a_wal_sqlite_would_ignore_is_not_examined(tmp_path, case_file):
    guard = _module("wal_guard")
    real = _wal_after_write(case_file, "x")
    wal = tmp_path / "w"
    wal.write_bytes(real)
    assert guard.would_replay(wal)
    damaged = bytearray(real)
    damaged[guard.WAL_HEADER + guard.FRAME_HEADER + 100] ^= 0xFF
    wal.write_bytes(bytes(damaged))
    assert not guard.would_replay(wal)  # first frame's checksum fails: SQLite drops it
    wal.write_bytes(real[:40])
    assert not guard.would_replay(wal)
    _wal(case_file).write_bytes(os.urandom(5000))
    with Case.open(case_file) as case:
        assert case.summary().number == "C-1"


def test_a_new_case_file_holds_its_case_row_without_its_log(tmp_path):
    path = tmp_path / "new.osc"
    with Case.create(path, number="N-1", title="t", examiner="e") as case:
        case.summary()
        alone = tmp_path / "alone.osc"
        shutil.copyfile(path, alone)  # no -wal beside the copy: the main file alone
        assert _query(alone, "SELECT number FROM case_info") == [("N-1",)]


# -- the lock: the file's identity, not its name -------------------------------------------


@posix_only
@pytest.mark.parametrize("link", ["hard", "symbolic"])
def test_a_second_open_through_a_link_is_refused(tmp_path, case_file, link):
    other = tmp_path / "elsewhere"
    other.mkdir()
    alias = other / "alias.osc"
    if link == "hard":
        os.link(case_file, alias)
    else:
        alias.symlink_to(case_file)
    with Case.open(case_file):
        with pytest.raises(CaseFileError, match="open in another"):
            Case.open(alias)
        process = subprocess.run(
            [sys.executable, "-m", "opensight_desktop", "case", "info", str(alias)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert process.returncode == 2 and "open in another OpenSight" in process.stderr
    with Case.open(alias) as case:  # released on close
        assert case.summary().number == "C-1"


@posix_only
def test_sqlite_works_while_the_lock_is_held(case_file):
    """flock on the case file and SQLite's POSIX byte-range locks are independent."""
    code = (
        "import fcntl, sqlite3, sys, os\n"
        "path = sys.argv[1]\n"
        "conn = sqlite3.connect(path, isolation_level=None)\n"
        "print(conn.execute('SELECT number FROM case_info').fetchone()[0])\n"
        "conn.execute('BEGIN IMMEDIATE'); conn.execute('ROLLBACK'); conn.close()\n"
        "fd = os.open(path, os.O_RDONLY)\n"
        "try:\n"
        "    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); print('not locked')\n"
        "except BlockingIOError:\n"
        "    print('locked')\n"
    )
    with Case.open(case_file) as case:
        with case.write() as session:
            audit.append(session, "test.note", {"while": "locked"})
        result = subprocess.run(
            [sys.executable, "-c", code, str(case_file)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.stdout.split() == ["C-1", "locked"], result.stderr
        with case.write() as session:
            audit.append(session, "test.note", {"after": "reader"})
        with case.read() as session:
            assert audit.check_chain(session).ok


def test_create_never_writes_through_a_dangling_symbolic_link(tmp_path):
    target = tmp_path / "target.osc"
    link = tmp_path / "link.osc"
    link.symlink_to(target)
    with pytest.raises(CaseFileError, match="already exists"):
        Case.create(link, number="1", title="t", examiner="e")
    assert not target.exists()


# -- read-only storage ---------------------------------------------------------------------


def test_an_explicit_read_only_open_views_verifies_and_exports(case_file, tmp_path):
    entries = _audit_count(case_file)
    with Case.open(case_file, read_only=True) as case:
        assert case.read_only_cause == "asked"
        with pytest.raises(CaseFileError, match="read-only because read-only was asked for"):
            review.set_review_state(case, [1], "follow_up")
        report = verify_case(case)
        assert report.ok and report.files_ok == 2 and report.not_recorded
        assert "not recorded in the audit log" in describe(report)[-1]
        assert export_case(case, "csv", tmp_path / "out.csv") == 2
    assert _audit_count(case_file) == entries


def _simulate_read_only_medium(monkeypatch, case_path: Path, code: int) -> None:
    """What the OS answers on a read-only mount (EROFS) or for an immutable file (EPERM)."""

    def refuse(path):
        raise OSError(code, os.strerror(code), str(path))

    real_access = os.access
    folder = os.path.realpath(case_path.parent)
    storage = _module("storage")
    monkeypatch.setattr(storage, "_open_for_writing", refuse)
    monkeypatch.setattr(
        storage.os,
        "access",
        lambda p, mode, **kw: (
            False if os.path.realpath(p) == folder and code == errno.EROFS else real_access(p, mode)
        ),
    )


@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.EROFS, "read-only file system"), (errno.EPERM, "immutable")],
)
def test_a_case_on_read_only_storage_opens_read_only(
    case_file, tmp_path, monkeypatch, capsys, code, reason
):
    _simulate_read_only_medium(monkeypatch, case_file, code)
    entries = _audit_count(case_file)
    assert main(["verify", str(case_file)]) == 0
    captured = capsys.readouterr()
    assert "Result: VERIFIED" in captured.out and reason in captured.out
    assert "open read-only" in captured.err
    report = tmp_path / "out" / "report.pdf"
    report.parent.mkdir()
    assert main(["report", str(case_file), "-o", str(report)]) == 0
    assert report.read_bytes()[:4] == b"%PDF"
    assert "not recorded in the case's audit log" in capsys.readouterr().out
    assert main(["import", str(case_file), str(tmp_path)]) == 2
    assert "cannot import into it: the case is open read-only" in capsys.readouterr().err
    assert _audit_count(case_file) == entries


def test_a_log_beside_a_case_on_read_only_storage_is_not_silently_left_out(
    tmp_path, case_file, monkeypatch
):
    """SQLite reads a case on read-only storage as immutable, which ignores its log."""
    crashed = tmp_path / "archive" / "case.osc"
    crashed.parent.mkdir()
    with Case.open(case_file) as case:
        review.set_notes(case, 1, "only in the log")
        shutil.copyfile(case_file, crashed)
        shutil.copyfile(_wal(case_file), _wal(crashed))
    _simulate_read_only_medium(monkeypatch, crashed, errno.EROFS)
    with pytest.raises(CaseFileError, match=r"read-only storage.*write-ahead log.*Copy the case"):
        Case.open(crashed)


def test_an_old_schema_on_read_only_storage_is_refused_clearly(case_file):
    revisions = list(schema.script_directory().walk_revisions())
    if len(revisions) < 2:
        pytest.skip("only one schema revision exists so far")
    _downgrade(case_file, revisions[0].down_revision)
    before = _digest(case_file)
    with pytest.raises(CaseFileError, match=r"needs a schema upgrade.*read-only.*copy"):
        Case.open(case_file, read_only=True)
    assert _digest(case_file) == before


def _run(*command: str) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@posix_only
def test_a_case_on_a_read_only_mount(case_file, tmp_path, capsys):
    """A real read-only bind mount, where this machine allows one (root, Linux)."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    if not _run("mount", "--bind", "-o", "ro", str(case_file.parent), str(mount)):
        pytest.skip("no read-only bind mount here")
    try:
        mounted = mount / case_file.name
        try:
            (mount / "probe").write_bytes(b"")
            pytest.skip("the bind mount is not read-only here")
        except OSError:
            pass
        assert main(["verify", str(mounted)]) == 0
        out = capsys.readouterr().out
        assert "Result: VERIFIED" in out and "read-only file system" in out
        report = tmp_path / "report.pdf"
        assert main(["report", str(mounted), "-o", str(report)]) == 0
        assert report.read_bytes()[:4] == b"%PDF"
        assert main(["import", str(mounted), str(tmp_path / "ev-C-1")]) == 2
    finally:
        _run("umount", str(mount))


@posix_only
def test_an_immutable_case_file(case_file, capsys):
    """chattr +i, where the file system and this user allow it (root ignores mode bits)."""
    if not _run("chattr", "+i", str(case_file)):
        pytest.skip("chattr +i is not available here")
    try:
        with Case.open(case_file) as case:
            assert case.read_only_cause == "storage" and "immutable" in case.read_only_reason
            assert verify_case(case).ok
    finally:
        _run("chattr", "-i", str(case_file))


def test_the_gui_says_why_a_case_is_read_only_and_offers_no_edits(qtbot, case_file, monkeypatch):
    pytest.importorskip("PySide6.QtWidgets")
    from PySide6.QtWidgets import QDialog, QMessageBox, QPlainTextEdit

    from opensight_desktop.gui.main_window import MainWindow

    _sql(case_file, EVIL_TRIGGER)
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args, **kw: shown.append(args[2]))
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    try:
        assert window.open_case(str(case_file))
        assert "(read-only)" in window.windowTitle()
        assert len(shown) == 1 and "'evil'" in shown[0] and "case repair" in shown[0]
        writes = [action for action in window.case_actions if action.property("writes")]
        # imports, analyses, tile scan, undo, acting examiner, hash-set match: all off
        assert len(writes) == 8 and not any(action.isEnabled() for action in writes)
        assert window.item_panel.notes_edit.isReadOnly()
        assert not window.item_panel.review_combo.isEnabled()
        window.action("case.info").trigger()
        (info,) = [d for d in window.findChildren(QDialog) if d.windowTitle() == "Case information"]
        text = info.findChild(QPlainTextEdit).toPlainText()
        assert "Access: read-only" in text and "trigger 'evil' on audit_entry" in text
        info.close()
    finally:
        window.shutdown()
        window.close_case()


def test_notes_over_the_limit_are_refused_at_entry_not_cut(case_file):
    from opensight_desktop.case.review import NOTES_LIMIT
    from opensight_desktop.errors import UsageError

    with Case.open(case_file) as case:
        with pytest.raises(UsageError, match="limited to 100,000 characters"):
            review.set_notes(case, 1, "x" * (NOTES_LIMIT + 1))
        assert review.set_notes(case, 1, "x" * NOTES_LIMIT)
