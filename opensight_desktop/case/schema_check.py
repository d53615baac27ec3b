"""Is a case's schema exactly what this application creates for its revision?

A case file is untrusted input: a trigger added to it (say on ``audit_entry`` inserts) runs
inside the application's own write transactions and can rewrite results while the audit
chain stays intact. So on open we compare the case's schema with a reference and report
every object that differs, by name.

The reference for a revision is built, not written down: a fresh in-memory database is
migrated to that revision with the application's own Alembic migrations (``case.schema``)
and its schema read the same way as the case's. Any migration added later is therefore
part of the reference automatically. References are cached per revision (process-wide).

What is compared: every row of ``sqlite_master`` (type, name, table, SQL text normalised
so that whitespace, comments, letter case of keywords and identifiers and identifier
quoting do not count; string literals count exactly) and, for each table the reference
has, ``PRAGMA table_xinfo`` (columns, types, defaults, keys, hidden/generated columns).
SQLite's own statistics and sequence tables (``sqlite_stat1..4``, ``sqlite_sequence``,
made by ANALYZE and AUTOINCREMENT) are not compared: they hold numbers SQLite reads, never
code, and ``sqlite_sequence`` cannot even be dropped.

Reading the case's schema executes nothing it defines: the connection is read-only with
``trusted_schema=OFF``, ``sqlite_master`` is a plain table, triggers fire only on writes and
views are never queried.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from dataclasses import dataclass

from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from opensight_desktop.case import schema
from opensight_desktop.case.database import sqlite_connection

# Object types in the order their removal must happen (a trigger may name a view, an index
# belongs to a table); columns are dropped before whole tables.
OBJECT_TYPES = ("trigger", "view", "index", "column", "table")
_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_$]*")
_CONSTRAINT_STARTS = (["constraint"], ["primary"], ["unique"], ["check"], ["foreign"])
_INTERNAL_TABLES = re.compile(r"sqlite_(stat[1-4]|sequence)", re.IGNORECASE)

# SQL tokens: comments, strings, quoted identifiers, numbers, words, whitespace, the rest.
_TOKEN = re.compile(
    "|".join(
        (
            r"--[^\n]*",
            r"/\*.*?(?:\*/|\Z)",
            r"'(?:[^']|'')*'?",
            r'"(?:[^"]|"")*"?',
            r"`(?:[^`]|``)*`?",
            r"\[[^\]]*\]?",
            r"0[xX][0-9A-Fa-f]+",
            r"\d+(?:\.\d*)?(?:[eE][+-]?\d+)?",
            r"[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_$\x80-\U0010ffff]*",
            r"\s+",
            r".",
        )
    ),
    re.DOTALL,
)


def _tokens(sql: str) -> list[str]:
    out = []
    for token in _TOKEN.findall(sql):
        if token.isspace() or token.startswith(("--", "/*")):
            continue
        if token[0] in '"`[':  # quoted identifier: "x", `x`, [x] and x are the same name
            body = token[1:-1] if len(token) > 1 else ""
            if token[0] != "[":
                body = body.replace(token[0] * 2, token[0])
            body = body.lower()
            out.append(body if _PLAIN_NAME.fullmatch(body) else '"' + body.replace('"', '""') + '"')
        elif token[0] == "'":
            out.append(token)
        else:
            out.append(token.lower())
    return out


def _sorted_table_constraints(tokens: list[str]) -> list[str]:
    """CREATE TABLE with its table constraints in a canonical order.

    Alembic's batch mode rebuilds a table from reflection, which lists foreign keys in an
    order that depends on Python's string hashing: the same migration gives a different
    constraint order from one process to the next. Columns keep their order (it is the
    table's shape); the constraints after them do not mean anything by their order.
    """
    if tokens[:2] != ["create", "table"] or "(" not in tokens:
        return tokens
    start = tokens.index("(")
    depth = 0
    items: list[list[str]] = []
    current: list[str] = []
    for index in range(start + 1, len(tokens)):
        tok = tokens[index]
        if tok == "(":
            depth += 1
        elif tok == ")":
            if depth == 0:
                items.append(current)
                columns = [i for i in items if i[:1] not in _CONSTRAINT_STARTS]
                constraints = sorted(
                    (i for i in items if i[:1] in _CONSTRAINT_STARTS), key=" ".join
                )
                body = [t for i in [*columns, *constraints] for t in [*i, ","]][:-1]
                return [*tokens[: start + 1], *body, *tokens[index:]]
            depth -= 1
        elif tok == "," and depth == 0:
            items.append(current)
            current = []
            continue
        current.append(tok)
    return tokens  # unbalanced: compared as it is


def normalise_sql(sql: str | None) -> str | None:
    """Canonical text of a statement: same meaning in the ways that matter here, same text."""
    if sql is None:
        return None
    return " ".join(_sorted_table_constraints(_tokens(sql)))


@dataclass(frozen=True)
class SchemaObject:
    type: str  # table | index | trigger | view
    name: str
    table: str
    sql: str | None  # as stored (for the audit log and to recreate it)
    columns: tuple[tuple[object, ...], ...] = ()  # table_xinfo rows of a table

    @property
    def key(self) -> tuple[str, str]:
        return self.type, self.name.lower()

    @functools.cached_property
    def canonical(self) -> str | None:
        return normalise_sql(self.sql)


@dataclass(frozen=True)
class SchemaDifference:
    """One object that is not as the application creates it."""

    kind: str  # foreign (not ours) | altered (ours, changed) | missing (ours, gone)
    type: str  # table | index | trigger | view | column
    name: str  # for a column: "table.column"
    table: str
    sql: str | None  # the case's SQL (foreign, altered), the reference's (missing)

    def describe(self) -> str:
        where = f" on {self.table}" if self.type in ("trigger", "index") and self.table else ""
        what = {
            "foreign": "not created by OpenSight",
            "altered": "differs from what OpenSight creates",
            "missing": "missing",
        }[self.kind]
        return f"{self.type} {self.name!r}{where} ({what})"


def is_virtual(sql: str | None) -> bool:
    return (normalise_sql(sql) or "").startswith("create virtual")


def is_plain_table(objects: list[SchemaObject], name: str) -> bool:
    """Whether ``name`` is an ordinary table (reading it runs no view or module code)."""
    return any(
        obj.type == "table" and obj.name.lower() == name.lower() and not is_virtual(obj.sql)
        for obj in objects
    )


def read_schema(conn: sqlite3.Connection, tables: set[str] | None = None) -> list[SchemaObject]:
    """The schema as stored; ``table_xinfo`` only for the named tables (those we know)."""
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    objects = []
    for obj_type, name, table, sql in rows:
        obj_type, name, table = str(obj_type), str(name), str(table)
        if obj_type == "table" and _INTERNAL_TABLES.fullmatch(name):
            continue
        columns: tuple[tuple[object, ...], ...] = ()
        # A virtual table's columns come from its module's code: not asked, it differs anyway.
        if (
            obj_type == "table"
            and (tables is None or name.lower() in tables)
            and not is_virtual(sql)
        ):
            quoted = '"' + name.replace('"', '""') + '"'
            columns = tuple(
                tuple(row) for row in conn.execute(f"PRAGMA table_xinfo({quoted})").fetchall()
            )
        objects.append(SchemaObject(obj_type, name, table, sql, columns))
    return objects


@functools.cache
def reference_schema(revision: str) -> tuple[SchemaObject, ...]:
    """The schema the application's migrations create for ``revision`` (cached)."""
    engine = create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(":memory:", isolation_level=None),
        poolclass=StaticPool,
    )
    try:
        with engine.begin() as conn:  # autocommit (isolation_level None): nothing to keep
            schema.upgrade(conn, revision)
            return tuple(read_schema(sqlite_connection(conn.connection.dbapi_connection)))
    finally:
        engine.dispose()


def compare(
    reference: tuple[SchemaObject, ...], actual: list[SchemaObject]
) -> list[SchemaDifference]:
    """Every difference, removals first in the order they can be carried out."""
    expected = {obj.key: obj for obj in reference}
    found = {obj.key: obj for obj in actual}
    differences: list[SchemaDifference] = []
    for key, obj in found.items():
        ref = expected.get(key)
        if ref is None:
            differences.append(SchemaDifference("foreign", obj.type, obj.name, obj.table, obj.sql))
        elif obj.type == "table":
            differences.extend(_compare_table(ref, obj))
        elif not _same_sql(obj, ref) or obj.table.lower() != ref.table.lower():
            differences.append(SchemaDifference("altered", obj.type, obj.name, obj.table, obj.sql))
    for key, ref in expected.items():
        if key not in found:
            differences.append(SchemaDifference("missing", ref.type, ref.name, ref.table, ref.sql))
    differences.sort(key=lambda d: (OBJECT_TYPES.index(d.type), d.name.lower()))
    return differences


def _same_sql(obj: SchemaObject, ref: SchemaObject) -> bool:
    return obj.sql == ref.sql or obj.canonical == ref.canonical  # the first is the usual case


def _compare_table(ref: SchemaObject, obj: SchemaObject) -> list[SchemaDifference]:
    ours = {str(row[1]).lower(): row for row in ref.columns}
    theirs = {str(row[1]).lower(): row for row in obj.columns}
    differences = [
        SchemaDifference("foreign", "column", f"{obj.name}.{row[1]}", obj.name, obj.sql)
        for name, row in theirs.items()
        if name not in ours
    ]
    differences += [
        SchemaDifference("missing", "column", f"{ref.name}.{row[1]}", ref.name, None)
        for name, row in ours.items()
        if name not in theirs
    ]
    same_columns = [row[1:] for row in ref.columns] == [row[1:] for row in obj.columns]
    if not differences and (not same_columns or not _same_sql(obj, ref)):
        differences.append(SchemaDifference("altered", "table", obj.name, obj.name, obj.sql))
    return differences


def differences(conn: sqlite3.Connection, revision: str) -> list[SchemaDifference]:
    """Compare the case on ``conn`` (opened read-only, trusted_schema off) with ``revision``."""
    reference = reference_schema(revision)
    stored = _master_rows(conn)
    if stored == _reference_rows(revision):
        return []  # the same text for every object: nothing to normalise or compare further
    known = {obj.name.lower() for obj in reference if obj.type == "table"}
    return compare(reference, read_schema(conn, known))


def _master_rows(conn: sqlite3.Connection) -> set[tuple[object, ...]]:
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    return {
        tuple(row)
        for row in rows
        if not (row[0] == "table" and _INTERNAL_TABLES.fullmatch(str(row[1])))
    }


@functools.cache
def _reference_rows(revision: str) -> set[tuple[object, ...]]:
    return {(obj.type, obj.name, obj.table, obj.sql) for obj in reference_schema(revision)}


def summary_line(found: list[SchemaDifference] | tuple[SchemaDifference, ...]) -> str:
    """One line naming every difference (the first 12, then a count)."""
    shown = [d.describe() for d in found[:12]]
    more = f" and {len(found) - 12} more" if len(found) > 12 else ""
    return "; ".join(shown) + more
