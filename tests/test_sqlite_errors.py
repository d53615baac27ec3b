"""SQLite errors are told apart by their result code: what the environment causes is a
one-line CaseFileError, anything else is a bug that goes on with its traceback."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from opensight_desktop.case import database
from opensight_desktop.case.sqlite_errors import case_file_error, environmental_errors
from opensight_desktop.case.store import Case
from opensight_desktop.cli import main
from opensight_desktop.errors import CaseFileError


def _new_case(path):
    return Case.create(path, number="1", title="t", examiner="e")


def _coded(code: int, name: str, message: str = "what SQLite said") -> sqlite3.Error:
    """An error as the sqlite3 module raises it for SQLite's result ``code``."""
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code
    error.sqlite_errorname = name
    return error


def test_a_locked_case_is_in_use(tmp_path, monkeypatch):
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 50)
    path = tmp_path / "case.osc"
    with _new_case(path) as case:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        try:
            with (
                pytest.raises(CaseFileError, match=r"in use by another program.*SQLITE_BUSY"),
                case.write(),
            ):
                pass
        finally:
            other.execute("ROLLBACK")
            other.close()


def test_writing_a_read_only_database_says_read_only(case, case_path):
    conn = database.connect(case_path, readonly=True)
    try:
        with (
            pytest.raises(CaseFileError, match=r"read-only \(SQLITE_READONLY\)"),
            environmental_errors(case_path),
        ):
            conn.execute("UPDATE evidence_item SET notes = 'x'")
    finally:
        conn.close()


def test_a_damaged_case_is_refused_as_damaged(tmp_path):
    path = tmp_path / "case.osc"
    _new_case(path).close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)  # the schema's page, after the file header
    path.write_bytes(bytes(data))
    with pytest.raises(CaseFileError, match=r"damaged \(.*SQLITE_(CORRUPT|NOTADB)"):
        Case.open(path)


def test_a_full_database_says_the_disk_is_full(tmp_path):
    path = tmp_path / "full.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("PRAGMA max_page_count = 3")  # what a full disk does to SQLite
    with pytest.raises(sqlite3.Error) as raised:
        conn.execute("INSERT INTO t VALUES (zeroblob(100000))")
    conn.close()
    error = case_file_error(path, raised.value)
    assert error is not None and "the disk holding the case file is full (SQLITE_FULL)" in str(
        error
    )


def test_a_case_that_cannot_be_opened_says_so(tmp_path):
    path = tmp_path / "no such folder" / "case.osc"
    with pytest.raises(sqlite3.Error) as raised:
        sqlite3.connect(path)
    error = case_file_error(path, raised.value)
    assert error is not None and "case file cannot be opened" in str(error)


@pytest.mark.parametrize(
    ("code", "name", "words"),
    [
        (sqlite3.SQLITE_BUSY, "SQLITE_BUSY", "in use by another program or window"),
        (sqlite3.SQLITE_LOCKED, "SQLITE_LOCKED", "in use by another program or window"),
        (sqlite3.SQLITE_READONLY_DBMOVED, "SQLITE_READONLY_DBMOVED", "read-only"),
        (sqlite3.SQLITE_FULL, "SQLITE_FULL", "is full"),
        (sqlite3.SQLITE_IOERR_WRITE, "SQLITE_IOERR_WRITE", "input/output error"),
        (sqlite3.SQLITE_IOERR_SHORT_READ, "SQLITE_IOERR_SHORT_READ", "input/output error"),
        (sqlite3.SQLITE_CORRUPT, "SQLITE_CORRUPT", "damaged"),
        (sqlite3.SQLITE_NOTADB, "SQLITE_NOTADB", "damaged"),
        (sqlite3.SQLITE_CANTOPEN, "SQLITE_CANTOPEN", "cannot be opened"),
        (sqlite3.SQLITE_PERM, "SQLITE_PERM", "no permission"),
        (sqlite3.SQLITE_NOMEM, "SQLITE_NOMEM", "not enough memory"),
        (sqlite3.SQLITE_PROTOCOL, "SQLITE_PROTOCOL", "does not lock it reliably"),
    ],
)
def test_each_environmental_code_has_its_message(tmp_path, code, name, words):
    path = tmp_path / "case.osc"
    wrapped = sqlalchemy.exc.OperationalError("SELECT 1", {}, _coded(code, name))
    for raised in (_coded(code, name), wrapped):
        error = case_file_error(path, raised)
        assert error is not None
        assert words in str(error) and name in str(error) and str(path) in str(error)
        assert "\n" not in str(error)


@pytest.mark.parametrize(
    "error",
    [
        # the words of an environmental error, the code of a bug: the code decides
        _coded(sqlite3.SQLITE_ERROR, "SQLITE_ERROR", "database is locked"),
        _coded(sqlite3.SQLITE_CONSTRAINT_UNIQUE, "SQLITE_CONSTRAINT_UNIQUE", "disk is full"),
        _coded(sqlite3.SQLITE_MISUSE, "SQLITE_MISUSE", "not a database"),
        sqlite3.ProgrammingError("Cannot operate on a closed database."),  # no code: Python's
        ValueError("not an SQLite error at all"),
    ],
)
def test_other_errors_are_bugs_not_user_errors(tmp_path, error):
    assert case_file_error(tmp_path / "case.osc", error) is None


def test_an_integrity_error_from_a_write_is_not_a_user_error(case):
    with (
        pytest.raises(sqlalchemy.exc.IntegrityError, match="append-only"),
        case.write() as session,
    ):
        session.execute(text("UPDATE audit_entry SET action = 'changed'"))


def test_sql_that_sqlite_refuses_is_not_a_user_error(case):
    with pytest.raises(sqlalchemy.exc.OperationalError, match="no such table"), case.read() as s:
        s.execute(text("SELECT * FROM no_such_table"))


def test_the_cli_logs_a_bug_in_a_write_and_says_internal_error(
    case_path, capsys, monkeypatch, opensight_home
):
    _new_case(case_path).close()

    def summary_with_a_bug(self):
        with self.write() as session:
            session.execute(text("UPDATE audit_entry SET action = 'changed'"))

    monkeypatch.setattr(Case, "summary", summary_with_a_bug)
    assert main(["case", "info", str(case_path)]) == 2
    err = capsys.readouterr().err
    log_file = opensight_home / "logs" / "opensight.log"
    assert "internal error: IntegrityError" in err and str(log_file) in err
    assert err.count("\n") == 1 and "Traceback" not in err
    logged = log_file.read_text(encoding="utf-8")
    assert "Traceback" in logged and "append-only" in logged
