"""The audit log: every change to a case, each entry chained to the previous by SHA-256.

entry_hash = SHA-256 of the canonical JSON of (seq, ts_utc, user, host, app_version,
action, item_id, details, prev_hash). The first entry chains to 64 zeros. The case row
keeps the head (last seq and hash), so deleting the newest entries is detectable too.
The last entry of every write is signed with the examiner's key (``case.signing``), so
that a chain recomputed by someone without the key is detectable as well.

Entries carry the values they set (hashes for blobs), so that ``case.replay`` can rebuild
from the log what the tables must hold.

Who and what, in words: every entry's details name the examiner who acted
(``acting_examiner``: the one chosen for this session, else the case's examiner) besides the
operating-system account in ``user``; an item's entries also name its file
(``file_name``). Both are inside the hashed details, so the digest of older entries, which
lack them, is unchanged.
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import json
import os
import socket
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from opensight_desktop import __version__
from opensight_desktop.case import signing
from opensight_desktop.case.models import AuditEntry, CaseInfo, EvidenceFile
from opensight_desktop.timeutil import iso_utc, utc_now

GENESIS_HASH = "0" * 64
# Keys every writer adds to details (see the module's docstring).
EXAMINER_KEY = "acting_examiner"
FILE_NAME_KEY = "file_name"
# Actions that record one item each, written once per file or result by the import,
# analysis, tile scan and matching jobs (case.replay lists what each holds): a large case
# has hundreds of thousands of them.
PER_ITEM_ACTIONS = frozenset(
    {
        "item.added",
        "item.duplicate_found",
        "item.phash",
        "item.analyzed",
        "item.analysis_failed",
        "item.tile_scanned",
    }
)
# The examiner for this process's changes, overriding the case's (`set_acting_examiner`).
EXAMINER_ENV = "OPENSIGHT_EXAMINER"
_chosen_examiner: str | None = None


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@functools.cache
def current_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (containers, some service accounts)
        return "unknown"


@functools.cache
def current_host() -> str:
    return socket.gethostname() or "unknown"


def set_acting_examiner(name: str | None) -> None:
    """The examiner who makes this process's changes (the GUI's choice at start-up); None:
    the environment's ``OPENSIGHT_EXAMINER``, else each case's own examiner."""
    global _chosen_examiner
    _chosen_examiner = _name(name)


def acting_examiner(case_examiner: object) -> str:
    """Who the audit entries written now name as the examiner."""
    return _chosen_examiner or _name(os.environ.get(EXAMINER_ENV)) or _name(case_examiner) or ""


def _name(value: object) -> str | None:
    """A name as one line of single spaces; None when empty (or not text: a crafted case)."""
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


def entry_digest(
    *,
    seq: int,
    ts_utc: str,
    user: str,
    host: str,
    app_version: str,
    action: str,
    item_id: int | None,
    details: str,
    prev_hash: str,
) -> str:
    payload = canonical_json(
        {
            "seq": seq,
            "ts_utc": ts_utc,
            "user": user,
            "host": host,
            "app_version": app_version,
            "action": action,
            "item_id": item_id,
            "details": details,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ChainWriter:
    """Appends entries within the caller's write transaction (committed with the change).

    Reads the head once and inserts all entries in one statement at :meth:`write`, which
    is what lets an import log thousands of items cheaply. Entries are numbered, named
    (examiner, file names) and chained there, so file names are read in one query.
    """

    def __init__(self, session: Session) -> None:
        # Only these columns: a damaged value elsewhere in the row must not stop logging.
        head = session.execute(
            select(CaseInfo.audit_head_seq, CaseInfo.audit_head_hash, CaseInfo.examiner).where(
                CaseInfo.id == 1
            )
        ).first()
        if head is None:
            raise RuntimeError("case_info row missing")
        self._session = session
        self._seq, self._head, case_examiner = head
        self._examiner = acting_examiner(case_examiner)
        # (time, action, item id, details) of the entries not yet written
        self._pending: list[tuple[str, str, int | None, dict[str, Any]]] = []
        self._user = current_user()
        self._host = current_host()

    def add(
        self, action: str, details: dict[str, Any] | None = None, item_id: int | None = None
    ) -> None:
        self._pending.append((iso_utc(utc_now()), action, item_id, dict(details or {})))

    def write(self) -> None:
        """Insert the entries, move the case's head, and sign the new head."""
        if not self._pending:
            return
        signer = signing.local_signer()
        if not signing.case_has_key(self._session, signer.fingerprint):
            record = signing.key_record(signer, self._user, self._host)
            signing.add_key(self._session, record)
            self.add(signing.KEY_ADDED, record)
        names = first_file_names(
            self._session,
            {item_id for _, _, item_id, details in self._pending if item_id is not None},
        )
        rows = []
        for ts_utc, action, item_id, details in self._pending:
            details[EXAMINER_KEY] = self._examiner
            if item_id in names:
                details.setdefault(FILE_NAME_KEY, names[item_id])
            self._seq += 1
            row: dict[str, Any] = {
                "seq": self._seq,
                "ts_utc": ts_utc,
                "user": self._user,
                "host": self._host,
                "app_version": __version__,
                "action": action,
                "item_id": item_id,
                "details": canonical_json(details),
                "prev_hash": self._head,
            }
            row["entry_hash"] = entry_digest(**row)
            self._head = row["entry_hash"]
            rows.append(row)
        self._session.execute(insert(AuditEntry), rows)
        self._session.execute(
            update(CaseInfo)
            .where(CaseInfo.id == 1)
            .values(audit_head_seq=self._seq, audit_head_hash=self._head)
        )
        signing.sign_head(self._session, signer, self._seq, self._head)
        self._pending = []


def first_file_names(session: Session, item_ids: set[int]) -> dict[int, str]:
    """Each item's file name (of the path it was first imported from)."""
    names: dict[int, str] = {}
    wanted = sorted(item_ids)
    for start in range(0, len(wanted), 500):
        first = (
            select(func.min(EvidenceFile.id))
            .where(EvidenceFile.item_id.in_(wanted[start : start + 500]))
            .group_by(EvidenceFile.item_id)
        )
        for item_id, name in session.execute(
            select(EvidenceFile.item_id, EvidenceFile.file_name).where(EvidenceFile.id.in_(first))
        ):
            names[item_id] = name
    return names


def append(
    session: Session, action: str, details: dict[str, Any] | None = None, item_id: int | None = None
) -> None:
    """Add one entry in the caller's write transaction."""
    writer = ChainWriter(session)
    writer.add(action, details, item_id)
    writer.write()


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    head_hash: str
    ok: bool
    # The first entry (by sequence number) where the chain breaks, and why.
    first_bad_seq: int | None = None
    problem: str | None = None


def check_chain(session: Session) -> ChainCheck:
    """Recompute every link; report the first entry that was edited, removed or inserted."""
    case = session.execute(
        select(CaseInfo.audit_head_seq, CaseInfo.audit_head_hash).where(CaseInfo.id == 1)
    ).first()
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(2000):
        count += 1
        if entry.seq != expected_seq:
            return ChainCheck(
                count,
                expected_prev,
                False,
                expected_seq,
                f"entry {expected_seq} is missing (next entry found is {entry.seq})",
            )
        if entry.prev_hash != expected_prev:
            return ChainCheck(
                count,
                expected_prev,
                False,
                entry.seq,
                f"entry {entry.seq} does not link to entry {entry.seq - 1} "
                "(an earlier entry was altered or removed)",
            )
        digest = entry_digest(
            seq=entry.seq,
            ts_utc=entry.ts_utc,
            user=entry.user,
            host=entry.host,
            app_version=entry.app_version,
            action=entry.action,
            item_id=entry.item_id,
            details=entry.details,
            prev_hash=entry.prev_hash,
        )
        if digest != entry.entry_hash:
            return ChainCheck(
                count,
                expected_prev,
                False,
                entry.seq,
                f"entry {entry.seq} ({entry.action}) was altered after it was written",
            )
        expected_prev = entry.entry_hash
        expected_seq += 1
    if case is not None and (case.audit_head_seq != count or case.audit_head_hash != expected_prev):
        return ChainCheck(
            count,
            expected_prev,
            False,
            count + 1,
            f"the log ends at entry {count} but the case records "
            f"{case.audit_head_seq} entries (newest entries removed)",
        )
    return ChainCheck(count, expected_prev, True)


def parse_details(text: str) -> dict[str, Any] | None:
    """An entry's details as a dict; None when they are not JSON (written outside the app)."""
    try:
        loaded = json.loads(text)
    except (ValueError, TypeError):
        return None
    return loaded if isinstance(loaded, dict) else {"value": loaded}


def details_of(entry: AuditEntry) -> dict[str, Any]:
    """An entry's details; empty when they are not JSON (verify reports such entries)."""
    return parse_details(entry.details) or {}
