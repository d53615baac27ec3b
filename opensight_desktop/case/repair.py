"""Remove from a case's schema what the application did not put there (``case repair``).

Only on the examiner's explicit request (a foreign trigger may be evidence in itself, and
the examiner decides when it goes), and then:

- a backup copy of the case is made first (``schema.backup_copy``), beside it;
- everything happens in one transaction: foreign triggers, views, indexes, columns and
  tables are dropped (in that order: nothing left refers to what goes next), our own
  triggers, indexes and views that were altered or removed are put back as the migrations
  create them, the schema is compared with the reference again and must now match it
  exactly (else nothing is kept), and an old schema is upgraded;
- the audit log records what was removed and restored, with each object's SQL as the case
  held it, and the backup's path. The audit entry is written after the foreign triggers are
  gone, so none of them can run on it.

What cannot be repaired by removing objects (one of our tables or columns missing or
redefined) is refused before anything is written: the case must be restored from a backup.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from opensight_desktop.case import audit, schema, schema_check
from opensight_desktop.case.database import make_engine, sqlite_connection
from opensight_desktop.case.schema_check import SchemaDifference
from opensight_desktop.case.sqlite_errors import environmental, environmental_errors
from opensight_desktop.errors import CaseFileError

# Recreated in this order: an index or view before a trigger that may use it.
_RESTORE_ORDER = ("index", "view", "trigger")


@dataclass(frozen=True)
class RepairResult:
    path: Path
    backup: Path | None  # None: nothing needed repair
    removed: list[SchemaDifference] = field(default_factory=list)
    restored: list[SchemaDifference] = field(default_factory=list)
    upgraded_from: str | None = None

    @property
    def changed(self) -> bool:
        return self.backup is not None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _removal_sql(difference: SchemaDifference) -> str:
    if difference.type == "column":
        column = difference.name[len(difference.table) + 1 :]
        return f"ALTER TABLE {_quote(difference.table)} DROP COLUMN {_quote(column)}"
    return f"DROP {difference.type.upper()} {_quote(difference.name)}"


def _unrepairable(differences: list[SchemaDifference]) -> list[SchemaDifference]:
    return [
        d
        for d in differences
        if d.kind != "foreign" and d.type in ("table", "column")  # ours, changed or gone
    ]


def _record(difference: SchemaDifference) -> dict[str, str | None]:
    return {
        "kind": difference.kind,
        "type": difference.type,
        "name": difference.name,
        "table": difference.table,
        "sql": difference.sql,
    }


def repair_schema(path: Path, revision: str, differences: list[SchemaDifference]) -> RepairResult:
    """Make the case's schema the application's again (the caller holds the case lock)."""
    head = schema.head_revision()
    if not differences:
        return RepairResult(path, None)
    blocked = _unrepairable(differences)
    if blocked:
        raise CaseFileError(
            "the case cannot be repaired by removing objects: "
            + schema_check.summary_line(blocked)
            + f". Restore it from a backup copy; the file was not changed: {path}"
        )
    try:
        backup = schema.backup_copy(path, "repair")
    except (OSError, sqlite3.Error) as exc:
        if not (isinstance(exc, OSError) or environmental(exc)):
            raise
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise CaseFileError(
            f"no backup copy could be made beside the case ({reason}); nothing was repaired: {path}"
        ) from exc
    # SQLite's automatic index of a foreign table (sql NULL) goes with its table.
    removed = [
        d
        for d in differences
        if d.kind in ("foreign", "altered") and not (d.type == "index" and d.sql is None)
    ]
    restored = sorted(
        (d for d in differences if d.kind in ("altered", "missing")),
        key=lambda d: _RESTORE_ORDER.index(d.type),
    )
    reference = {obj.key: obj for obj in schema_check.reference_schema(revision)}
    engine = make_engine(path, immediate=True)
    note = f"Nothing was changed; a backup copy is at {backup}"
    try:
        with environmental_errors(path, note), engine.begin() as conn:
            for difference in removed:
                conn.exec_driver_sql(_removal_sql(difference))
            for difference in restored:
                ours = reference[(difference.type, difference.name.lower())]
                if ours.sql is not None:  # SQLite's own automatic indexes come back by themselves
                    conn.exec_driver_sql(ours.sql)
            raw = sqlite_connection(conn.connection.dbapi_connection)
            left = schema_check.differences(raw, revision)
            if left:
                raise CaseFileError(
                    "the case could not be repaired: after removing what is not OpenSight's, "
                    f"its schema still differs ({schema_check.summary_line(left)}). Nothing "
                    f"was changed; a backup copy is at {backup}: {path}"
                )
            # Upgrade before logging: the log's own tables (signatures) may be newer than
            # the case's schema; the foreign objects are gone, so the migrations run clean.
            upgraded_from = None
            if revision != head:
                schema.upgrade(conn)
                upgraded_from = revision
            with Session(bind=conn) as session:
                audit.append(
                    session,
                    "case.schema_repaired",
                    {
                        "schema": revision,
                        "backup": str(backup),
                        "removed": [_record(d) for d in removed],
                        "restored": [_record(d) for d in restored],
                    },
                )
                if upgraded_from is not None:
                    audit.append(
                        session,
                        "case.schema_upgraded",
                        {"from": revision, "to": head, "backup": str(backup)},
                    )
                session.flush()
    finally:
        engine.dispose()
    return RepairResult(path, backup, removed, restored, upgraded_from)
