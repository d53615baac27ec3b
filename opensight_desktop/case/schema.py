"""Schema versions of the case file, managed by Alembic.

Why Alembic: it is the maintained migration tool for SQLAlchemy, keeps each step as a
reviewable script with a known predecessor, and does SQLite table rebuilds (batch mode)
that hand-written ALTERs get wrong. We run it in-process on our own connection, in one
transaction, after a backup copy; ``PRAGMA user_version`` mirrors the revision number so
that any SQLite tool can tell the version.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection

from opensight_desktop.timeutil import utc_now


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "opensight_desktop.case:migrations")
    return cfg


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


@functools.cache  # the migrations shipped with the application do not change while it runs
def head_revision() -> str:
    head = script_directory().get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def is_known(revision: str) -> bool:
    try:
        return script_directory().get_revision(revision) is not None
    except CommandError:
        return False


@dataclass(frozen=True)
class UpgradeResult:
    from_revision: str
    to_revision: str
    backup: Path


def upgrade(conn: Connection, target: str = "head") -> None:
    """Run migrations on ``conn`` inside the caller's transaction."""
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, target)
    revision = current_revision(conn)
    if revision is not None and revision.isdigit():
        conn.exec_driver_sql(f"PRAGMA user_version = {int(revision)}")


def backup_copy(path: Path, label: str) -> Path:
    """A consistent copy made with SQLite's online backup (safe even with a WAL present)."""
    stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.{label}-{stamp}.bak")
    counter = 1
    while target.exists():
        target = path.with_name(f"{path.name}.{label}-{stamp}-{counter}.bak")
        counter += 1
    source = sqlite3.connect("file:" + quote(os.fspath(path)) + "?mode=ro", uri=True)
    try:
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    return target
