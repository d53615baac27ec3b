"""Integrity of a case: evidence re-hashed, audit chain checked, records cross-checked.

Three independent questions, reported separately so the examiner knows which failed:
1. Are the original files still what was imported? (re-hash every recorded path)
2. Is the audit log intact? (hash chain, head stored in the case row)
3. Do the evidence records still say what the audit log says they said at import?
   (an edited hash in the item table is caught here even if the file is gone)
Besides, the case's schema must be exactly what the application creates: a foreign trigger
can rewrite records while the chain stays intact (``Case.schema_differences``, found when
the case was opened; such a case is open read-only and nothing of its schema ran).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opensight_desktop.case import audit
from opensight_desktop.case.models import AuditEntry, EvidenceFile, EvidenceItem
from opensight_desktop.case.store import Case
from opensight_desktop.evidence.hashing import hash_file
from opensight_desktop.evidence.reading import os_error_reason
from opensight_desktop.progress import CancelToken, Progress, ProgressCallback, Throttle


@dataclass(frozen=True)
class FileProblem:
    item_id: int
    path: str
    kind: str  # changed | missing | unreadable
    detail: str


@dataclass
class IntegrityReport:
    files_checked: int = 0
    files_ok: int = 0
    files_unverifiable: int = 0  # unreadable at import: nothing to compare with
    file_problems: list[FileProblem] = field(default_factory=list)
    chain: audit.ChainCheck | None = None
    record_problems: list[str] = field(default_factory=list)
    database_check: str = "ok"
    schema_differences: list[str] = field(default_factory=list)
    # Why the outcome could not be recorded in the audit log (the case is read-only).
    not_recorded: str | None = None
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return (
            not self.file_problems
            and self.chain is not None
            and self.chain.ok
            and not self.record_problems
            and self.database_check == "ok"
            and not self.schema_differences
            and not self.cancelled
        )

    def summary(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "files_checked": self.files_checked,
            "files_ok": self.files_ok,
            "files_changed": sum(p.kind == "changed" for p in self.file_problems),
            "files_missing": sum(p.kind == "missing" for p in self.file_problems),
            "files_unreadable": sum(p.kind == "unreadable" for p in self.file_problems),
            "files_unverifiable": self.files_unverifiable,
            "audit_entries": self.chain.entries if self.chain else 0,
            "audit_chain_ok": bool(self.chain and self.chain.ok),
            "audit_first_bad_entry": self.chain.first_bad_seq if self.chain else None,
            "record_problems": len(self.record_problems),
            "database_check": self.database_check,
            "schema_differences": len(self.schema_differences),
        }


def check_records(session: Session) -> list[str]:
    """Compare each item's hashes with those its ``item.added`` audit entry recorded."""
    recorded: dict[int, dict[str, object]] = {}
    for entry in session.scalars(
        select(AuditEntry).where(AuditEntry.action == "item.added")
    ).yield_per(2000):
        if entry.item_id is not None:
            recorded[entry.item_id] = audit.details_of(entry)
    problems = []
    for item in session.scalars(select(EvidenceItem).order_by(EvidenceItem.id)).yield_per(2000):
        details = recorded.pop(item.id, None)
        if details is None:
            problems.append(
                f"item {item.id} has no import entry in the audit log "
                "(added outside the application)"
            )
            continue
        for name in ("sha256", "sha1", "md5", "size_bytes"):
            if details.get(name) != getattr(item, name):
                problems.append(
                    f"item {item.id}: {name} in the case is {getattr(item, name)}, "
                    f"but the audit log recorded {details.get(name)} at import"
                )
    for item_id in sorted(recorded):
        problems.append(f"item {item_id} was recorded at import but is no longer in the case")
    return problems


def _files(session: Session) -> Iterator[tuple[int, str, bytes, str | None, int | None]]:
    rows = session.execute(
        select(
            EvidenceFile.item_id,
            EvidenceFile.path,
            EvidenceFile.path_raw,
            EvidenceItem.sha256,
            EvidenceItem.size_bytes,
        )
        .join(EvidenceItem, EvidenceItem.id == EvidenceFile.item_id)
        .order_by(EvidenceFile.id)
    )
    for row in rows:
        yield row[0], row[1], row[2], row[3], row[4]


def verify_case(
    case: Case,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    record: bool = True,
) -> IntegrityReport:
    """Run all three checks; unless ``record`` is false, log the outcome in the audit log."""
    found = case.recheck_schema()  # as the file is now, not only as it was opened
    report = IntegrityReport(schema_differences=[d.describe() for d in found])
    throttle = Throttle(progress)
    with case.read() as session:
        total = session.scalar(select(func.count()).select_from(EvidenceFile)) or 0
        files = list(_files(session))
    for item_id, path, path_raw, sha256, size in files:
        if cancel is not None and cancel.cancelled:
            report.cancelled = True
            break
        report.files_checked += 1
        if sha256 is None:
            report.files_unverifiable += 1
        else:
            problem = _check_file(item_id, path, path_raw, sha256, size)
            if problem is None:
                report.files_ok += 1
            else:
                report.file_problems.append(problem)
        done = report.files_checked
        throttle(lambda elapsed, done=done: Progress("verify", done, total, elapsed))
    with case.read() as session:
        report.chain = audit.check_chain(session)
        report.record_problems = check_records(session)
        rows = session.connection().exec_driver_sql("PRAGMA quick_check").fetchall()
        messages = [str(r[0]) for r in rows]
        report.database_check = "ok" if messages == ["ok"] else "; ".join(messages[:5])
    throttle(lambda elapsed: Progress("verify", report.files_checked, total, elapsed), force=True)
    if record and case.read_only_reason is not None:
        report.not_recorded = case.read_only_reason
    elif record:
        with case.write() as session:
            audit.append(session, "case.verified", report.summary())
    return report


def _check_file(
    item_id: int, path: str, path_raw: bytes, sha256: str, size: int | None
) -> FileProblem | None:
    try:
        digests, read = hash_file(os.fsdecode(path_raw))
    except FileNotFoundError:
        return FileProblem(item_id, path, "missing", "file no longer exists at its recorded path")
    except OSError as exc:
        return FileProblem(item_id, path, "unreadable", os_error_reason(exc))
    if digests.sha256 != sha256:
        return FileProblem(
            item_id,
            path,
            "changed",
            f"SHA-256 now {digests.sha256}, recorded {sha256} ({read} bytes now, {size} recorded)",
        )
    return None


def describe(report: IntegrityReport) -> list[str]:
    """The outcome in lines of text (command line, GUI and report use these words)."""
    lines = [
        f"Evidence files: {report.files_checked} checked, {report.files_ok} unchanged"
        + (
            f", {report.files_unverifiable} unreadable at import (no hash to compare)"
            if report.files_unverifiable
            else ""
        )
        + (" (CANCELLED before all files were checked)" if report.cancelled else "")
    ]
    for problem in report.file_problems:
        lines.append(
            f"  {problem.kind.upper()}: {problem.path} (item {problem.item_id}): {problem.detail}"
        )
    chain = report.chain
    if chain is not None and chain.ok:
        lines.append(f"Audit log: {chain.entries} entries, chain intact (head {chain.head_hash})")
    elif chain is not None:
        lines.append(f"Audit log: BROKEN at entry {chain.first_bad_seq}: {chain.problem}")
    if report.record_problems:
        lines.append(f"Evidence records: {len(report.record_problems)} problem(s)")
        lines.extend(f"  {problem}" for problem in report.record_problems[:50])
    else:
        lines.append("Evidence records: hashes match the audit log")
    lines.append(f"Database structure: {report.database_check}")
    if report.schema_differences:
        lines.append(
            f"Case schema: {len(report.schema_differences)} object(s) not as OpenSight creates "
            "them (they could have changed records; `case repair` removes them)"
        )
        lines.extend(f"  {difference}" for difference in report.schema_differences[:50])
    else:
        lines.append("Case schema: as OpenSight creates it")
    lines.append("Result: " + ("VERIFIED" if report.ok else "PROBLEMS FOUND"))
    if report.not_recorded:
        lines.append(
            f"(not recorded in the audit log: the case is open read-only because "
            f"{report.not_recorded})"
        )
    return lines
