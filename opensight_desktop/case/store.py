"""Open, create and use a case file (one SQLite file per case).

A case file is untrusted input. Opening one, in this order, before SQLite replays or runs
anything of it: lock the file's identity (``case.lock``), check its header
(``database.check_header``), refuse a write-ahead log that is not its own
(``case.wal_guard``), ask whether its storage can be written (``case.storage``), then read
its schema on a read-only connection and compare it with what this version creates
(``case.schema_check``).

A case opens read-only (``Case.read_only_reason`` says why; every write raises a clear
CaseFileError) when read-only was asked for, when its storage cannot be written, or when
its schema differs from the application's (a foreign trigger would run inside our own
write transactions). Only an explicit, audit-logged ``Case.repair`` (``case.repair``)
removes foreign schema objects. A case whose schema needs an upgrade is refused in all
three situations (an upgrade writes; a foreign schema must be repaired first).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from opensight_desktop import __version__
from opensight_desktop.case import audit, schema, schema_check, signing, storage
from opensight_desktop.case.database import (
    check_header,
    connect,
    init_new_file,
    make_engine,
    sqlite_connection,
)
from opensight_desktop.case.lock import CaseLock
from opensight_desktop.case.models import (
    AuditEntry,
    CaseInfo,
    DetectionResult,
    EvidenceFile,
    EvidenceItem,
    ImportSession,
)
from opensight_desktop.case.repair import RepairResult, repair_schema
from opensight_desktop.case.schema_check import SchemaDifference
from opensight_desktop.case.sqlite_errors import (
    case_file_error,
    environmental,
    environmental_errors,
)
from opensight_desktop.case.wal_guard import check_wal_belongs, wal_path, would_replay
from opensight_desktop.errors import CaseFileError
from opensight_desktop.timeutil import iso_utc, local_zone, utc_now


@dataclass(frozen=True)
class CaseSummary:
    path: Path
    number: str
    title: str
    examiner: str
    agency: str
    description: str
    created_utc: datetime
    tz_name: str
    tz_offset_minutes: int
    schema_revision: str
    items_by_status: dict[str, int]
    files: int
    import_sessions: int
    detection_results: int
    audit_entries: int

    @property
    def items(self) -> int:
        return sum(self.items_by_status.values())


@dataclass(frozen=True)
class _Probe:
    """What a read-only look at a case file found."""

    revision: str
    differences: list[SchemaDifference]


class Case:
    """A case file opened for use. Writes go through :meth:`write` (one writer at a time).

    ``read_only_reason`` is None for a writable case, else why it is read-only (one
    phrase), and ``read_only_cause`` says which kind of reason: "asked", "storage" or
    "schema". ``schema_differences`` lists every schema object that is not as this version
    creates it (foreign, altered or missing); the integrity check reads it.
    """

    def __init__(
        self,
        path: Path,
        lock: CaseLock,
        upgraded: schema.UpgradeResult | None = None,
        *,
        read_only_reason: str | None = None,
        read_only_cause: str | None = None,
        schema_differences: tuple[SchemaDifference, ...] = (),
        immutable: bool = False,
    ) -> None:
        self.path = path
        self.upgraded = upgraded
        self.read_only_reason = read_only_reason
        self.read_only_cause = read_only_cause if read_only_reason is not None else None
        self.schema_differences = schema_differences
        self._revision = schema.head_revision()  # an open case is always at the head
        self._lock = lock
        self._write_engine: Engine | None = None
        if read_only_reason is None:
            self._write_engine = make_engine(path, immediate=True)
            self._read_engine: Engine = make_engine(path)
        else:
            self._read_engine = make_engine(path, readonly=True, immutable=immutable)

    @property
    def read_only(self) -> bool:
        return self.read_only_reason is not None

    def notices(self) -> list[str]:
        """What every front end says about a case open read-only, one line each."""
        lines = []
        if self.schema_differences:
            lines.append(
                "the case's schema is not what OpenSight creates: "
                f"{schema_check.summary_line(self.schema_differences)}; the case is open "
                "read-only, so none of it runs; `opensight-desktop case repair CASE` "
                "removes it after a backup copy"
            )
        if self.read_only_reason is not None and self.read_only_cause != "schema":
            lines.append(
                f"the case is open read-only because {self.read_only_reason}; "
                "nothing is recorded in its audit log"
            )
        return lines

    def recheck_schema(self) -> tuple[SchemaDifference, ...]:
        """Compare the schema again now (something may have changed the file meanwhile)."""
        with self.read() as session:
            self._check_schema(session.connection().connection.dbapi_connection)
        return self.schema_differences

    def _check_schema(self, raw: object) -> None:
        found = tuple(schema_check.differences(sqlite_connection(raw), self._revision))
        self.schema_differences = found
        if found and self.read_only_reason is None:
            self.read_only_reason, self.read_only_cause = _schema_reason(found), "schema"

    def require_writable(self, action: str) -> None:
        """Raise the clear error for ``action`` (e.g. "import into it") if read-only."""
        if self.read_only_reason is not None:
            raise CaseFileError(
                f"cannot {action}: the case is open read-only because "
                f"{self.read_only_reason}; nothing was changed: {self.path}"
            )

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        number: str,
        title: str,
        examiner: str,
        agency: str = "",
        description: str = "",
        tz_name: str | None = None,
        tz_offset_minutes: int | None = None,
    ) -> Case:
        path = Path(path).absolute()
        for label, value in (("case number", number), ("title", title), ("examiner", examiner)):
            if not value.strip():
                raise CaseFileError(f"a case needs a {label}")
        if os.path.lexists(path):  # a dangling symbolic link too: never write through it
            raise CaseFileError(
                f"{path} already exists; choose another name (existing files are never overwritten)"
            )
        if not path.parent.is_dir():
            raise CaseFileError(f"folder does not exist: {path.parent}")
        path = _real(path)
        if tz_name is None or tz_offset_minutes is None:
            local_name, local_offset = local_zone()
            tz_name = tz_name or local_name
            tz_offset_minutes = local_offset if tz_offset_minutes is None else tz_offset_minutes
        signing.local_signer()  # made or read now: a key problem must not leave a half case
        lock = CaseLock.acquire(path, create=True)
        try:
            init_new_file(path)
            engine = make_engine(path, immediate=True)
            try:
                with engine.begin() as conn:
                    schema.upgrade(conn)
                    with Session(bind=conn) as session:
                        info = CaseInfo(
                            id=1,
                            uuid=str(uuid.uuid4()),
                            number=number.strip(),
                            title=title.strip(),
                            examiner=examiner.strip(),
                            agency=agency.strip(),
                            description=description.strip(),
                            created_utc=utc_now(),
                            tz_name=tz_name,
                            tz_offset_minutes=tz_offset_minutes,
                            created_by_version=__version__,
                            audit_head_seq=0,
                            audit_head_hash=audit.GENESIS_HASH,
                        )
                        session.add(info)
                        session.flush()
                        audit.append(
                            session,
                            "case.created",
                            {
                                "uuid": info.uuid,
                                "number": info.number,
                                "title": info.title,
                                "examiner": info.examiner,
                                "agency": info.agency,
                                "description": info.description,
                                "tz_name": tz_name,
                                "tz_offset_minutes": tz_offset_minutes,
                                "created_utc": iso_utc(info.created_utc),
                                "created_by_version": info.created_by_version,
                                "schema": schema.head_revision(),
                            },
                        )
                        session.flush()
                # The case file itself holds its case row from now on, which is what lets
                # a later open tell this case's write-ahead log from another's (wal_guard).
                raw = engine.raw_connection()  # outside a transaction, as a checkpoint must be
                try:
                    sqlite_connection(raw.driver_connection).execute(
                        "PRAGMA wal_checkpoint(TRUNCATE)"
                    )
                finally:
                    raw.close()
            finally:
                engine.dispose()
        except OSError as exc:
            _remove_partial(path)
            lock.release()
            raise CaseFileError(f"cannot create case file {path}: {exc.strerror or exc}") from exc
        except (DBAPIError, sqlite3.Error) as exc:
            _remove_partial(path)
            lock.release()
            error = case_file_error(path, exc)
            if error is None:
                raise
            raise error from exc
        except BaseException:
            _remove_partial(path)
            lock.release()
            raise
        return cls(path, lock)

    @classmethod
    def open(cls, path: str | Path, *, read_only: bool = False) -> Case:
        """Open a case; ``read_only`` opens it for viewing, verifying and reports only."""
        path = _real(Path(path).absolute())
        lock = CaseLock.acquire(path)
        try:
            return cls._open_locked(path, lock, read_only)
        except BaseException:
            lock.release()
            raise

    @classmethod
    def repair(cls, path: str | Path) -> RepairResult:
        """Remove what is not the application's from the case's schema (see case.repair).

        The case must not be open elsewhere; a backup copy is made first and the removal
        is one audit-logged transaction. A case whose schema needs an upgrade is upgraded
        in the same transaction once the foreign objects are gone.
        """
        path = _real(Path(path).absolute())
        lock = CaseLock.acquire(path)
        try:
            check_header(path)
            check_wal_belongs(path)
            access = storage.probe(path)
            if access.read_only_reason is not None:
                raise CaseFileError(
                    f"cannot repair the case: {access.read_only_reason}; copy it to writable "
                    f"storage and repair the copy: {path}"
                )
            found = cls._probe(path, immutable=False)
            return repair_schema(path, found.revision, found.differences)
        finally:
            lock.release()

    @classmethod
    def _open_locked(cls, path: Path, lock: CaseLock, read_only: bool) -> Case:
        check_header(path)
        check_wal_belongs(path)
        access = storage.probe(path)
        reason, cause = access.read_only_reason, "storage"
        if reason is None and read_only:
            reason, cause = "read-only was asked for", "asked"
        immutable = reason is not None and not access.folder_writable
        if immutable and would_replay(wal_path(path)):
            raise CaseFileError(
                f"case file is on read-only storage ({reason}) with a write-ahead log beside "
                "it that holds its latest changes, which SQLite cannot merge there. Copy the "
                f"case together with {wal_path(path).name} to writable storage and open the "
                f"copy; the files were not changed: {path}"
            )
        found = cls._probe(path, immutable)
        differences = tuple(found.differences)
        head = schema.head_revision()
        if found.revision != head:
            if differences:
                raise CaseFileError(
                    f"case file needs a schema upgrade ({found.revision} -> {head}), but its "
                    f"schema is not what OpenSight creates: "
                    f"{schema_check.summary_line(differences)}. "
                    "`opensight-desktop case repair CASE` removes what is not OpenSight's "
                    f"(after a backup copy) and upgrades it; the file was not changed: {path}"
                )
            if reason is not None:
                raise CaseFileError(
                    f"case file needs a schema upgrade ({found.revision} -> {head}), but it "
                    f"is read-only: {reason}. Open a copy on writable storage (it is "
                    f"upgraded after a backup copy); the file was not changed: {path}"
                )
            upgraded = cls._upgrade(path, found.revision, head)
            return cls(path, lock, upgraded)
        if differences and reason is None:
            reason, cause = _schema_reason(differences), "schema"
        return cls(
            path,
            lock,
            read_only_reason=reason,
            read_only_cause=cause,
            schema_differences=differences,
            immutable=immutable,
        )

    @staticmethod
    def _probe(path: Path, immutable: bool) -> _Probe:
        """Revision and schema differences, read without running anything the case defines."""
        with environmental_errors(path):
            conn = connect(path, readonly=True, immutable=immutable)
            try:
                objects = schema_check.read_schema(conn, tables=set())
                revision = None
                if schema_check.is_plain_table(objects, "alembic_version"):
                    rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
                    if len(rows) > 1:
                        raise CaseFileError(
                            f"case file is damaged (it records {len(rows)} schema versions): {path}"
                        )
                    revision = str(rows[0][0]) if rows else None
                has_case_row = schema_check.is_plain_table(objects, "case_info") and bool(
                    conn.execute("SELECT count(*) FROM case_info").fetchone()[0]
                )
                if revision is None or not has_case_row:
                    raise CaseFileError(
                        f"case file is incomplete (its creation did not finish): {path}"
                    )
                if not schema.is_known(revision):
                    raise CaseFileError(
                        f"case file was written by a newer version of OpenSight Desktop (schema "
                        f"{revision}; this version knows up to {schema.head_revision()}). Open it "
                        "with a newer version; the file was not changed."
                    )
                differences = schema_check.differences(conn, revision)
            finally:
                conn.close()
        missing = [d.name for d in differences if d.type == "table" and d.kind == "missing"]
        if missing:
            raise CaseFileError(
                f"case file is damaged (table {', '.join(map(repr, missing))} is missing): "
                f"{path}. Restore it from a backup copy; this file is left as it is."
            )
        return _Probe(revision, differences)

    @staticmethod
    def _upgrade(path: Path, revision: str, head: str) -> schema.UpgradeResult:
        try:
            backup = schema.backup_copy(path, f"schema{revision}")
        except (OSError, DBAPIError, sqlite3.Error) as exc:
            if not (isinstance(exc, OSError) or environmental(exc)):
                raise
            raise CaseFileError(
                f"case file needs a schema upgrade ({revision} -> {head}) but no backup copy "
                f"could be made beside it ({exc}); the file was not changed"
            ) from exc
        engine = make_engine(path, immediate=True)
        note = f"The schema was not upgraded; a backup copy is at {backup}"
        try:
            with environmental_errors(path, note), engine.begin() as conn:
                schema.upgrade(conn)
                with Session(bind=conn) as session:
                    audit.append(
                        session,
                        "case.schema_upgraded",
                        {"from": revision, "to": head, "backup": str(backup)},
                    )
                    session.flush()
        finally:
            engine.dispose()
        return schema.UpgradeResult(revision, head, backup)

    # -- use -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction; committed when the block ends without an exception.

        An SQLite error the environment causes (locked, full, damaged...) is raised as a
        CaseFileError; any other (a constraint violated, SQL refused) is a bug and goes
        on as it is (``case.sqlite_errors``)."""
        self.require_writable("change it")
        assert self._write_engine is not None
        with (
            environmental_errors(self.path),
            Session(self._write_engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            # Checked inside the write transaction, which holds SQLite's write lock: no
            # trigger added since the case was opened can run in what we write.
            self._check_schema(session.connection().connection.dbapi_connection)
            self.require_writable("change it")
            yield session

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """One read transaction; SQLite errors as in :meth:`write`."""
        with (
            environmental_errors(self.path),
            Session(self._read_engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    def summary(self) -> CaseSummary:
        with self.read() as session:
            info = session.get(CaseInfo, 1)
            assert info is not None
            by_status = dict(
                session.execute(
                    select(EvidenceItem.status, func.count()).group_by(EvidenceItem.status)
                ).all()
            )
            conn = session.connection()
            return CaseSummary(
                path=self.path,
                number=info.number,
                title=info.title,
                examiner=info.examiner,
                agency=info.agency,
                description=info.description,
                created_utc=info.created_utc,
                tz_name=info.tz_name,
                tz_offset_minutes=info.tz_offset_minutes,
                schema_revision=schema.current_revision(conn) or "?",
                items_by_status={str(k): int(v) for k, v in by_status.items()},
                files=session.scalar(select(func.count()).select_from(EvidenceFile)) or 0,
                import_sessions=session.scalar(select(func.count()).select_from(ImportSession))
                or 0,
                detection_results=session.scalar(select(func.count()).select_from(DetectionResult))
                or 0,
                audit_entries=session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
            )

    def close(self) -> None:
        if self._write_engine is not None:
            self._write_engine.dispose()
        self._read_engine.dispose()
        self._lock.release()

    def __enter__(self) -> Case:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _remove_partial(path: Path) -> None:
    """Remove a case file this very call created and could not finish."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            path.with_name(path.name + suffix).unlink()


def _schema_reason(differences: tuple[SchemaDifference, ...]) -> str:
    return (
        "its schema is not what OpenSight creates ("
        + schema_check.summary_line(differences)
        + "); `opensight-desktop case repair CASE` removes what is not OpenSight's"
    )


def _real(path: Path) -> Path:
    """The path with symbolic links resolved, as SQLite resolves it (its -wal lies there)."""
    return Path(os.path.realpath(path))
