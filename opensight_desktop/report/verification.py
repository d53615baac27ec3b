"""Is this PDF a report the case recorded? (``verify-report``)

Regenerating a report from a later copy of the case gives other bytes: the case has
changed since, if only by the report's own ``report.generated`` entry. What can be checked
at any later time is the record: that entry holds the SHA-256 of the file written. A PDF
is a report of this case when an entry of an intact audit chain, all of whose signatures
are valid, records its SHA-256 (so nobody without one of the case's keys wrote or edited
that entry). The evidence is not re-hashed: that is ``verify``'s question, not this one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select

from opensight_desktop import present
from opensight_desktop.case import audit, signing
from opensight_desktop.case.models import AuditEntry
from opensight_desktop.case.store import Case
from opensight_desktop.errors import UsageError

log = logging.getLogger(__name__)

T = TypeVar("T")

REPORT_GENERATED = "report.generated"  # the entry report/pdf.py writes


@dataclass(frozen=True)
class RecordedReport:
    """A ``report.generated`` entry that records the file's SHA-256."""

    seq: int
    recorded_utc: str  # the entry's time
    examiner: str | None  # the examiner the entry names (None: before entries named one)
    account: str  # "user@host" that wrote the entry
    details: dict[str, Any]  # as recorded: path, pages, items, options, integrity


@dataclass
class ReportCheck:
    path: Path
    sha256: str
    recorded: list[RecordedReport] = field(default_factory=list)
    chain: audit.ChainCheck | None = None
    signatures: signing.SignatureCheck | None = None
    # checks that could not run on this case (it holds what the application does not write)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            bool(self.recorded)
            and self.chain is not None
            and self.chain.ok
            and self.signatures is not None
            and self.signatures.ok
            and not self.problems
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except FileNotFoundError as exc:
        raise UsageError(f"no report file at {path}") from exc
    except IsADirectoryError as exc:
        raise UsageError(f"{path} is a folder, not a report file") from exc
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def verify_report(case: Case, report: str | Path) -> ReportCheck:
    """Hash the file; find the entries that record that hash; check the chain and its
    signatures. Nothing is written to the case."""
    path = Path(report)
    check = ReportCheck(path, file_sha256(path))
    with case.read() as session:
        check.chain = _guarded(check, "audit chain", lambda: audit.check_chain(session))
        check.signatures = _guarded(check, "signatures", lambda: signing.check_signatures(session))
        rows = session.execute(
            select(
                AuditEntry.seq,
                AuditEntry.ts_utc,
                AuditEntry.user,
                AuditEntry.host,
                AuditEntry.details,
            )
            .where(AuditEntry.action == REPORT_GENERATED)
            .order_by(AuditEntry.seq)
        )
        for seq, ts_utc, user, host, text in rows:
            details = audit.parse_details(text) or {}
            if details.get("sha256") != check.sha256:
                continue
            examiner = details.get(audit.EXAMINER_KEY)
            check.recorded.append(
                RecordedReport(
                    seq,
                    str(ts_utc),
                    examiner if isinstance(examiner, str) and examiner else None,
                    f"{user}@{host}",
                    details,
                )
            )
    return check


def _guarded(check: ReportCheck, what: str, run: Callable[[], T]) -> T | None:
    try:
        return run()
    except Exception as exc:  # a case damaged in a way not foreseen: a finding, not a crash
        log.exception("the %s check failed", what)
        check.problems.append(
            f"the {what} could not be checked ({type(exc).__name__}: {exc}); the case holds "
            "data the application does not write"
        )
        return None


def describe(check: ReportCheck) -> list[str]:
    """The outcome in lines of text (the command line and the GUI use these words)."""
    lines = [f"Report file: {check.path}", f"  SHA-256 {check.sha256}"]
    if not check.recorded:
        lines.append(
            "NOT RECORDED: no report.generated entry of this case's audit log records this "
            "SHA-256. The file is not a report of this case as written, or it was changed "
            "after it was written (a report made while the case was open read-only is not "
            "recorded either)."
        )
    for recorded in check.recorded:
        lines += _recorded_lines(recorded, check.signatures)
    chain = check.chain
    if chain is not None and chain.ok:
        lines.append(f"Audit log: {chain.entries} entries, chain intact")
    elif chain is not None:
        lines.append(f"Audit log: BROKEN at entry {chain.first_bad_seq}: {chain.problem}")
    signatures = check.signatures
    if signatures is not None and signatures.ok:
        lines.append("Signatures: the newest entry is signed and every signature is valid")
    elif signatures is not None:
        lines.append(f"Signatures: {len(signatures.problems)} PROBLEM(S)")
        lines += [f"  PROBLEM: {problem}" for problem in signatures.problems]
    lines += [f"PROBLEM: {problem}" for problem in check.problems]
    if check.recorded and not check.ok:
        lines.append(
            "The entry recording this file cannot be relied on while the audit log is not "
            "intact and signed."
        )
    lines.append(
        "Result: "
        + (
            "VERIFIED: this exact file is a report recorded in the case"
            if check.ok
            else "NOT VERIFIED"
        )
    )
    return lines


def _recorded_lines(
    recorded: RecordedReport, signatures: signing.SignatureCheck | None
) -> list[str]:
    details = recorded.details
    options = details.get("options")
    options = options if isinstance(options, dict) else {}
    integrity = details.get("integrity")
    verified = isinstance(integrity, dict) and integrity.get("ok") is True
    who = present.actor_text(recorded.examiner, recorded.account)
    lines = [
        f"RECORDED by audit entry {recorded.seq}: written "
        f"{present.utc_seconds_text(recorded.recorded_utc)} by {who}",
        f"  generation time stated in it: {options.get('generated_at', present.UNKNOWN)}",
        f"  options: {options_text(options)}",
        f"  written to {details.get('path', present.UNKNOWN)}: {details.get('pages', '?')} "
        f"pages, {details.get('items', '?')} items; integrity check at the time: "
        + ("VERIFIED" if verified else "PROBLEMS FOUND (the report says which)"),
    ]
    if signatures is None:
        return lines
    holders = {key.fingerprint: f"{key.user}@{key.host}" for key in signatures.keys}
    for signed in signatures.ranges:
        if signed.first <= recorded.seq <= signed.last:
            lines.append(
                f"  vouched for by the signature of key {signed.fingerprint} "
                f"({holders.get(signed.fingerprint, 'key not in the case')}; confirm that it "
                "is one you know: `opensight-desktop key` shows yours)"
            )
    return lines


def options_text(options: dict[str, Any]) -> str:
    """A recorded report's options in words (as the report command takes them)."""
    ids = options.get("item_ids")
    states = options.get("review_states")
    parts = [
        f"scope {options.get('scope', present.UNKNOWN)}",
        "items " + (", ".join(map(str, ids)) if isinstance(ids, list) and ids else "all"),
    ]
    if isinstance(states, list) and states:
        parts.append("review states " + ", ".join(map(str, states)))
    appendix = options.get("audit_appendix")
    parts.append(
        "audit appendix "
        + ("included" if appendix is True else "left out" if appendix is False else "?")
    )
    return "; ".join(parts)
