"""Open, create and use a case file (one SQLite file per case)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from opensight_desktop import __version__
from opensight_desktop.case import audit, schema, signing
from opensight_desktop.case.database import (
    check_header,
    friendly_sqlite_error,
    init_new_file,
    make_engine,
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


class Case:
    """A case file opened for use. Writes go through :meth:`write` (one writer at a time)."""

    def __init__(
        self, path: Path, lock: CaseLock, upgraded: schema.UpgradeResult | None = None
    ) -> None:
        self.path = path
        self.upgraded = upgraded
        self._lock = lock
        self._write_engine: Engine = make_engine(path, immediate=True)
        self._read_engine: Engine = make_engine(path)

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
        if path.exists():
            raise CaseFileError(
                f"{path} already exists; choose another name (existing files are never overwritten)"
            )
        if not path.parent.is_dir():
            raise CaseFileError(f"folder does not exist: {path.parent}")
        if tz_name is None or tz_offset_minutes is None:
            local_name, local_offset = local_zone()
            tz_name = tz_name or local_name
            tz_offset_minutes = local_offset if tz_offset_minutes is None else tz_offset_minutes
        signing.local_signer()  # made or read now: a key problem must not leave a half case
        lock = CaseLock.acquire(path)
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
            finally:
                engine.dispose()
        except OSError as exc:
            _remove_partial(path)
            lock.release()
            raise CaseFileError(f"cannot create case file {path}: {exc.strerror or exc}") from exc
        except (OperationalError, DBAPIError) as exc:
            _remove_partial(path)
            lock.release()
            raise friendly_sqlite_error(path, exc) from exc
        except BaseException:
            lock.release()
            raise
        return cls(path, lock)

    @classmethod
    def open(cls, path: str | Path) -> Case:
        path = Path(path).absolute()
        check_header(path)
        lock = CaseLock.acquire(path)
        try:
            return cls._open_locked(path, lock)
        except BaseException:
            lock.release()
            raise

    @classmethod
    def _open_locked(cls, path: Path, lock: CaseLock) -> Case:
        probe = make_engine(path, readonly=True)
        try:
            with probe.connect() as conn:
                revision = schema.current_revision(conn)
                has_case_row = False
                if revision is not None:
                    has_case_row = bool(
                        conn.exec_driver_sql("SELECT count(*) FROM case_info").scalar()
                    )
        except (OperationalError, DBAPIError) as exc:
            raise friendly_sqlite_error(path, exc) from exc
        finally:
            probe.dispose()
        if revision is None or not has_case_row:
            raise CaseFileError(f"case file is incomplete (its creation did not finish): {path}")
        head = schema.head_revision()
        if not schema.is_known(revision):
            raise CaseFileError(
                f"case file was written by a newer version of OpenSight Desktop (schema "
                f"{revision}; this version knows up to {head}). Open it with a newer version; "
                "the file was not changed."
            )
        upgraded = None
        if revision != head:
            upgraded = cls._upgrade(path, revision, head)
        return cls(path, lock, upgraded)

    @staticmethod
    def _upgrade(path: Path, revision: str, head: str) -> schema.UpgradeResult:
        try:
            backup = schema.backup_copy(path, f"schema{revision}")
        except (OSError, DBAPIError) as exc:
            raise CaseFileError(
                f"case file needs a schema upgrade ({revision} -> {head}) but no backup copy "
                f"could be made beside it ({exc}); the file was not changed"
            ) from exc
        engine = make_engine(path, immediate=True)
        try:
            with engine.begin() as conn:
                schema.upgrade(conn)
                with Session(bind=conn) as session:
                    audit.append(
                        session,
                        "case.schema_upgraded",
                        {"from": revision, "to": head, "backup": str(backup)},
                    )
                    session.flush()
        except (OperationalError, DBAPIError) as exc:
            raise CaseFileError(
                f"schema upgrade of {path} failed ({exc}); the file was left as it was and a "
                f"backup copy is at {backup}"
            ) from exc
        finally:
            engine.dispose()
        return schema.UpgradeResult(revision, head, backup)

    # -- use -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction; committed when the block ends without an exception."""
        try:
            with Session(self._write_engine, expire_on_commit=False) as session, session.begin():
                yield session
        except (OperationalError, DBAPIError) as exc:
            raise friendly_sqlite_error(self.path, exc) from exc

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        try:
            with Session(self._read_engine, expire_on_commit=False) as session, session.begin():
                yield session
        except (OperationalError, DBAPIError) as exc:
            raise friendly_sqlite_error(self.path, exc) from exc

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
