"""Integrity of a case: evidence re-hashed, audit chain and signatures checked, records replayed.

Four questions, reported separately so the examiner knows which failed:
1. Are the original files still what was imported? (re-hash every recorded path)
2. Is the audit log intact? (hash chain, head stored in the case row)
3. Was it written by the holders of the keys the case names? (Ed25519 signature over the
   last entry of every write; ``case.signing``)
4. Do the tables still hold what the audit log says was set? (replay, ``case.replay``:
   hashes, results, thumbnails, metadata, review, model provenance, case details)

Besides, the case's schema must be exactly what the application creates: a foreign trigger
can rewrite records while the chain stays intact (``Case.schema_differences``, found when
the case was opened; such a case is open read-only and nothing of its schema ran).

A check that cannot finish (a case damaged in a way not foreseen) becomes a finding of
its own; the results of the others, the re-hashing above all, are kept.
"""

from __future__ import annotations

import functools
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from opensight_desktop.case import audit, replay, signing
from opensight_desktop.case.models import AuditEntry, EvidenceFile, EvidenceItem
from opensight_desktop.case.store import Case
from opensight_desktop.evidence.hashing import sha256_file
from opensight_desktop.evidence.reading import os_error_reason
from opensight_desktop.progress import CancelToken, Progress, ProgressCallback, Throttle

log = logging.getLogger(__name__)

T = TypeVar("T")


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
    signatures: signing.SignatureCheck | None = None
    # values in the tables that differ from what the audit log set
    differences: list[replay.Difference] = field(default_factory=list)
    # values the log could not vouch for (recorded by an earlier version): counted, not failed
    unvouched: Counter[str] = field(default_factory=Counter)
    # entries and rows that cannot be read as the application writes them, checks that failed
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
            and self.signatures is not None
            and self.signatures.ok
            and not self.differences
            and not self.record_problems
            and self.database_check == "ok"
            and not self.schema_differences
            and not self.cancelled
        )

    def summary(self) -> dict[str, object]:
        signatures = self.signatures
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
            "signatures_ok": bool(signatures and signatures.ok),
            "signature_problems": len(signatures.problems) if signatures else 0,
            "signed_by": [k.fingerprint for k in signatures.keys] if signatures else [],
            "differences": len(self.differences),
            "not_vouched_for": sum(self.unvouched.values()),
            "record_problems": len(self.record_problems),
            "database_check": self.database_check,
            "schema_differences": len(self.schema_differences),
        }


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
    """Run all four checks; unless ``record`` is false, log the outcome in the audit log."""
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
        throttle(functools.partial(Progress, "verify", report.files_checked, total))
    with case.read() as session:
        report.chain = _guarded(report, "audit chain", lambda: audit.check_chain(session))
        report.signatures = _guarded(
            report, "signatures", lambda: signing.check_signatures(session)
        )
        replayed = _guarded(report, "replay of the audit log", lambda: replay.replay(session))
        if replayed is not None:
            report.differences = replayed.differences
            report.unvouched = replayed.unvouched
            report.record_problems.extend(replayed.problems)
        rows = session.connection().exec_driver_sql("PRAGMA quick_check").fetchall()
        messages = [str(r[0]) for r in rows]
        report.database_check = "ok" if messages == ["ok"] else "; ".join(messages[:5])
    throttle(lambda elapsed: Progress("verify", report.files_checked, total, elapsed), force=True)
    if record and case.read_only_reason is not None:
        report.not_recorded = case.read_only_reason
    elif record:
        with case.write() as session:
            audit.append(session, "case.verified", {**report.summary(), **_problems(report)})
    return report


PROBLEMS_KEY = "file_problems"  # {item id: kind} in a case.verified entry


def problem_items(report: IntegrityReport) -> dict[int, str]:
    """{item id: changed | missing | unreadable}: the worst finding for each item's files."""
    rank = {"changed": 0, "missing": 1, "unreadable": 2}
    worst: dict[int, str] = {}
    for problem in report.file_problems:
        known = worst.get(problem.item_id)
        if known is None or rank.get(problem.kind, 9) < rank.get(known, 9):
            worst[problem.item_id] = problem.kind
    return worst


def _problems(report: IntegrityReport) -> dict[str, dict[str, str]]:
    """Recorded with the outcome, so that the case shows these items until the next check
    (a cancelled check records none: it did not look at every file)."""
    if report.cancelled:
        return {}
    items = problem_items(report)
    return {PROBLEMS_KEY: {str(item_id): kind for item_id, kind in sorted(items.items())}}


def recorded_problems(session: Session) -> dict[int, str]:
    """The items whose files the newest complete recorded integrity check found changed,
    missing or unreadable ({item id: kind}); empty when none recorded its findings (checks
    before they were recorded). A crafted entry yields only its well-formed pairs."""
    texts = session.scalars(
        select(AuditEntry.details)
        .where(AuditEntry.action == "case.verified", AuditEntry.details.like(f'%"{PROBLEMS_KEY}"%'))
        .order_by(AuditEntry.seq.desc())
    )
    for text in texts:
        details = audit.parse_details(text)
        found = details.get(PROBLEMS_KEY) if details is not None else None
        if not isinstance(found, dict):
            continue
        return {
            int(key): kind
            for key, kind in found.items()
            if key.isascii() and key.isdigit() and kind in ("changed", "missing", "unreadable")
        }
    return {}


def _guarded(report: IntegrityReport, what: str, check: Callable[[], T]) -> T | None:
    """Run one check; if the case is damaged in a way it does not foresee, say so."""
    try:
        return check()
    except Exception as exc:
        log.exception("the %s check failed", what)
        report.record_problems.append(
            f"the {what} could not be checked ({type(exc).__name__}: {exc}); the case "
            "holds data the application does not write"
        )
        return None


def _check_file(
    item_id: int, path: str, path_raw: bytes, sha256: str, size: int | None
) -> FileProblem | None:
    try:
        digest, read = sha256_file(os.fsdecode(path_raw))
    except FileNotFoundError:
        return FileProblem(item_id, path, "missing", "file no longer exists at its recorded path")
    except OSError as exc:
        return FileProblem(item_id, path, "unreadable", os_error_reason(exc))
    except (TypeError, ValueError):  # e.g. a NUL byte: no path the application records
        return FileProblem(
            item_id, path, "unreadable", "the recorded path is not a usable file path"
        )
    if digest != sha256:
        return FileProblem(
            item_id,
            path,
            "changed",
            f"SHA-256 now {digest}, recorded {sha256} ({read} bytes now, {size} recorded)",
        )
    return None


def describe(
    report: IntegrityReport, mark_local_key: bool = True, list_files: bool = True
) -> list[str]:
    """The outcome in lines of text (command line, GUI and report use these words).

    ``mark_local_key`` marks the key of the user running the check; the report leaves it
    out so that it stays the same whoever regenerates it. ``list_files=False`` leaves out
    the line per changed or missing file (the report lists them in a table).
    """
    lines = [
        f"Evidence files: {report.files_checked} checked, {report.files_ok} unchanged"
        + (
            f", {report.files_unverifiable} unreadable at import (no hash to compare)"
            if report.files_unverifiable
            else ""
        )
        + (" (CANCELLED before all files were checked)" if report.cancelled else "")
    ]
    for problem in report.file_problems if list_files else ():
        lines.append(
            f"  {problem.kind.upper()}: {problem.path} (item {problem.item_id}): {problem.detail}"
        )
    chain = report.chain
    if chain is not None and chain.ok:
        lines.append(f"Audit log: {chain.entries} entries, chain intact (head {chain.head_hash})")
    elif chain is not None:
        lines.append(f"Audit log: BROKEN at entry {chain.first_bad_seq}: {chain.problem}")
    if report.signatures is not None:
        lines.extend(describe_signatures(report.signatures, mark_local_key))
    if report.differences:
        lines.append(
            f"Recorded state: {len(report.differences)} difference(s) between the audit log "
            "and the case"
        )
        lines.extend(f"  {difference}" for difference in report.differences[:LISTED])
        if len(report.differences) > LISTED:
            lines.append(f"  ... and {len(report.differences) - LISTED} more")
    else:
        lines.append(
            "Recorded state: the case holds what the audit log recorded (evidence records, "
            "results, thumbnails, metadata, review, models, case details)"
        )
    if report.unvouched:
        lines.append(
            "Not vouched for (written by an earlier version whose audit entries did not record "
            "them; nothing contradicts them, nothing confirms them): "
            + ", ".join(f"{count} {what}" for what, count in sorted(report.unvouched.items()))
        )
    if report.record_problems:
        lines.append(f"Case records: {len(report.record_problems)} problem(s)")
        lines.extend(f"  {problem}" for problem in report.record_problems[:LISTED])
        if len(report.record_problems) > LISTED:
            lines.append(f"  ... and {len(report.record_problems) - LISTED} more")
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


LISTED = 200


def describe_signatures(check: signing.SignatureCheck, mark_local_key: bool = True) -> list[str]:
    """Who signed which entries, the keys for the examiner to confirm, and any problem."""
    lines = [
        "Signatures: the newest entry is signed and every signature is valid"
        if check.ok
        else f"Signatures: {len(check.problems)} PROBLEM(S)"
    ]
    lines.extend(f"  PROBLEM: {problem}" for problem in check.problems)
    who = {key.fingerprint: f"{key.user}@{key.host}" for key in check.keys}
    if check.unsigned_before:
        lines.append(
            f"  entries 1–{check.unsigned_before}: written by a version without signatures; "
            f"vouched for by the signatures that follow them, not when they were written"
        )
    for signed in check.ranges:
        lines.append(
            f"  entries {signed.first}–{signed.last}: signed by {signed.fingerprint} "
            f"({who.get(signed.fingerprint, 'key not in the case')}, "
            f"{signed.signatures} signature(s))"
        )
    if check.keys:
        lines.append(
            "Signing keys (confirm that each is one you know; `opensight-desktop key` shows yours):"
        )
        lines.extend(
            f"  {key.fingerprint}  {key.user}@{key.host}, added {key.added_utc}"
            + (
                "  [the key of this user on this computer]"
                if key.this_computer and mark_local_key
                else ""
            )
            for key in check.keys
        )
    return lines
