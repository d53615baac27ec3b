"""Examiners' signing keys, and Ed25519 signatures over the audit chain.

Why: the hash chain shows that no entry was edited *unless the whole chain was
recomputed*, and anyone can recompute SHA-256. The head of every write is therefore signed
with the examiner's private key, which stays in their data directory; since each entry's
hash covers the one before it, one signature vouches for every entry up to it.

What that proves, and what not (the README's "Integrity" section says it for users):
- every entry up to a signature existed, exactly as it is, when the holder of that key
  signed; an edit after that needs the key to re-sign.
- it does not prove who holds the key. Whoever has the private key file (or the
  examiner's account) can sign anything; someone building a case from scratch signs it
  with their own key. Hence verify and the report print each key's fingerprint, the user
  and host recorded with it, and which entries it signed, for the examiner to confirm.

The key is made on first use: ``<data dir>/keys/signing_key`` (OpenSSH private key format,
mode 0600) and ``signing_key.pub`` beside it. Fingerprints are OpenSSH's
(``SHA256:`` + base64), so ``ssh-keygen -lf signing_key.pub`` shows the same text.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from opensight_desktop import paths
from opensight_desktop.case.models import AuditEntry, AuditSignature, SigningKey
from opensight_desktop.errors import SigningKeyError
from opensight_desktop.timeutil import iso_utc, utc_now

KEY_FILE = "signing_key"
KEY_ADDED = "signing_key.added"
# Migration 0003 brought signatures: entries before the upgrade to it were never signed.
FIRST_SIGNED_REVISION = 3
SIGNATURE_CONTEXT = "opensight-desktop audit head v1"

_lock = threading.Lock()
_signers: dict[Path, Signer] = {}


def key_path() -> Path:
    return paths.data_dir() / "keys" / KEY_FILE


def public_line(public: Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode("ascii")


def fingerprint_of(line: str) -> str:
    """OpenSSH's SHA256 fingerprint of an ``ssh-ed25519 AAAA...`` line."""
    blob = base64.b64decode(line.split()[1], validate=True)
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")
    return "SHA256:" + digest


def signed_message(seq: int, prev_seq: int, entry_hash: str) -> bytes:
    payload = {"context": SIGNATURE_CONTEXT, "seq": seq, "prev_seq": prev_seq, "hash": entry_hash}
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("ascii")


@dataclass(frozen=True)
class Signer:
    """The examiner's key, loaded from the data directory."""

    private_key: Ed25519PrivateKey
    path: Path
    public_key: str
    fingerprint: str

    def sign(self, seq: int, prev_seq: int, entry_hash: str) -> str:
        signature = self.private_key.sign(signed_message(seq, prev_seq, entry_hash))
        return base64.b64encode(signature).decode("ascii")


def local_signer() -> Signer:
    """This user's key, made on first use (the same key for every case they work on)."""
    path = key_path()
    with _lock:
        signer = _signers.get(path)
        if signer is None or not path.exists():
            if not path.exists():
                _create_key(path)
            signer = _load_key(path)
            _signers[path] = signer
        return signer


def local_fingerprint() -> str | None:
    """Fingerprint of this user's key if there is one (none is made here)."""
    path = key_path()
    if not path.exists():
        return None
    try:
        return local_signer().fingerprint
    except SigningKeyError:
        return None


def _load_key(path: Path) -> Signer:
    try:
        data = path.read_bytes()
        key = serialization.load_ssh_private_key(data, password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningKeyError(
            f"the signing key {path} cannot be used ({exc}); move it aside and a new key "
            "will be made (cases it signed keep its public key)"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"the signing key {path} is not an Ed25519 key; move it aside")
    line = public_line(key.public_key())
    return Signer(key, path, line, fingerprint_of(line))


def _create_key(path: Path) -> None:
    """Write a new key with mode 0600; never replaces a key another process made meanwhile."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        data = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                # link() fails if the name exists: a concurrent first use keeps one key.
                os.link(temporary, path)
            except FileExistsError:
                return
            except OSError:  # no hard links on this file system
                if path.exists():
                    return
                os.replace(temporary, path)
        finally:
            with contextlib.suppress(OSError):
                temporary.unlink()
        line = public_line(key.public_key())
        path.with_name(path.name + ".pub").write_text(f"{line} opensight-desktop\n", "ascii")
    except OSError as exc:
        raise SigningKeyError(
            f"cannot make a signing key in {path.parent} ({exc.strerror or exc}); "
            "changes to cases are signed and need one"
        ) from exc


# -- writing -------------------------------------------------------------------------------


def key_record(signer: Signer, user: str, host: str) -> dict[str, str]:
    """What the case stores (and the audit log records) about a key."""
    return {
        "fingerprint": signer.fingerprint,
        "public_key": signer.public_key,
        "user": user,
        "host": host,
        "added_utc": iso_utc(utc_now()),
    }


def case_has_key(session: Session, fingerprint: str) -> bool:
    return session.get(SigningKey, fingerprint) is not None


def add_key(session: Session, record: dict[str, str]) -> None:
    session.execute(insert(SigningKey), [record])


def sign_head(session: Session, signer: Signer, seq: int, entry_hash: str) -> None:
    """Sign the newest entry, naming the previous signature (in the same transaction)."""
    prev_seq = session.scalar(select(func.max(AuditSignature.seq))) or 0
    session.execute(
        insert(AuditSignature),
        [
            {
                "seq": seq,
                "prev_seq": prev_seq,
                "key_fingerprint": signer.fingerprint,
                "signature": signer.sign(seq, prev_seq, entry_hash),
            }
        ],
    )


# -- checking ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyInfo:
    fingerprint: str
    user: str
    host: str
    added_utc: str
    this_computer: bool  # the key of the user running verify, on this computer


@dataclass(frozen=True)
class SignedRange:
    """Entries ``first``..``last`` are vouched for by ``signatures`` signatures of one key."""

    first: int
    last: int
    fingerprint: str
    signatures: int


@dataclass
class SignatureCheck:
    entries: int = 0
    keys: list[KeyInfo] = field(default_factory=list)
    ranges: list[SignedRange] = field(default_factory=list)
    # entries 1..n were written before this case had signatures (an older version)
    unsigned_before: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _revision(value: object) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _public_key(line: str) -> Ed25519PublicKey | None:
    try:
        key = serialization.load_ssh_public_key(line.encode("ascii"))
    except (ValueError, UnicodeError, TypeError):
        return None
    return key if isinstance(key, Ed25519PublicKey) else None


def check_signatures(session: Session) -> SignatureCheck:
    """Check every signature against the case's keys; the newest entry must be signed."""
    check = SignatureCheck()
    problems = check.problems
    check.entries = session.scalar(select(func.max(AuditEntry.seq))) or 0

    # Which keys the log says were added (and where), and which entry began signing.
    logged_keys: dict[str, tuple[int, dict[str, Any]]] = {}
    boundary = 0
    for seq, action, details in session.execute(
        select(AuditEntry.seq, AuditEntry.action, AuditEntry.details)
        .where(AuditEntry.action.in_([KEY_ADDED, "case.schema_upgraded"]))
        .order_by(AuditEntry.seq)
    ):
        values = _json(details)
        if action == KEY_ADDED:
            logged_keys.setdefault(str(values.get("fingerprint")), (seq, values))
        elif not boundary:
            old, new = _revision(values.get("from")), _revision(values.get("to"))
            if old is not None and new is not None and old < FIRST_SIGNED_REVISION <= new:
                boundary = seq
    if boundary:
        check.unsigned_before = boundary - 1
        early = [seq for seq, _ in logged_keys.values() if seq < boundary]
        if early:
            problems.append(
                f"entry {min(early)} added a signing key, yet entry {boundary} upgraded the case "
                "from a version without signatures: signatures were removed and the case "
                "made to look older"
            )

    keys: dict[str, Ed25519PublicKey] = {}
    local = local_fingerprint()
    for row in session.scalars(select(SigningKey).order_by(SigningKey.added_utc)):
        logged = logged_keys.get(row.fingerprint)
        check.keys.append(
            KeyInfo(row.fingerprint, row.user, row.host, row.added_utc, row.fingerprint == local)
        )
        public = _public_key(row.public_key)
        if public is None:
            problems.append(f"signing key {row.fingerprint}: its public key cannot be read")
            continue
        if fingerprint_of(row.public_key) != row.fingerprint:
            problems.append(
                f"signing key {row.fingerprint}: its public key has the fingerprint "
                f"{fingerprint_of(row.public_key)}"
            )
            continue
        if logged is None:
            problems.append(
                f"signing key {row.fingerprint} ({row.user}@{row.host}) is in the case but no "
                "audit entry added it (added outside the application)"
            )
            continue
        for name in ("public_key", "user", "host", "added_utc"):
            if logged[1].get(name) != getattr(row, name):
                problems.append(
                    f"signing key {row.fingerprint}: {name} is {getattr(row, name)!r} in the "
                    f"case, but entry {logged[0]} recorded {logged[1].get(name)!r}"
                )
        keys[row.fingerprint] = public
    for fingerprint, (seq, _) in logged_keys.items():
        if fingerprint not in {k.fingerprint for k in check.keys}:
            problems.append(
                f"signing key {fingerprint} added by entry {seq} is no longer in the case"
            )

    signatures = list(session.scalars(select(AuditSignature).order_by(AuditSignature.seq)))
    hashes: dict[int, str] = {}
    wanted = [s.seq for s in signatures]
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for seq, stored_hash in session.execute(
            select(AuditEntry.seq, AuditEntry.entry_hash).where(AuditEntry.seq.in_(chunk))
        ):
            hashes[seq] = stored_hash
    previous = 0
    first = boundary or 1
    for signature in signatures:
        seq = signature.seq
        if signature.prev_seq != previous:
            problems.append(
                f"the signature of entry {seq} follows one at entry {signature.prev_seq}, "
                + (
                    f"but the previous signature found is at entry {previous}"
                    if previous
                    else "but no earlier signature is in the case"
                )
                + " (signatures were removed or added outside the application)"
            )
        previous = seq
        entry_hash = hashes.get(seq)
        key = keys.get(signature.key_fingerprint)
        added = logged_keys.get(signature.key_fingerprint, (0, {}))[0]
        if entry_hash is None:
            problems.append(f"there is a signature for entry {seq}, which does not exist")
        elif key is None:
            problems.append(
                f"entry {seq} is signed by the key {signature.key_fingerprint}, which the case "
                "does not carry (or which is not usable; see above)"
            )
        elif added > seq:
            problems.append(
                f"entry {seq} is signed by the key {signature.key_fingerprint}, which was added "
                f"to the case only at entry {added}"
            )
        elif not _valid(key, signature, entry_hash):
            problems.append(
                f"the signature of entry {seq} does not match it: entry {seq} or an earlier "
                "one was changed after it was signed, or the signature was forged"
            )
        else:
            _extend(check.ranges, first, seq, signature.key_fingerprint)
        first = seq + 1
    last_signed = signatures[-1].seq if signatures else 0
    if check.entries > last_signed:
        start = max(last_signed, check.unsigned_before) + 1
        problems.append(
            f"entries {start}–{check.entries} are not signed: written without the examiner's "
            "key (outside the application), or their signatures were removed"
            if start < check.entries
            else f"entry {check.entries}, the newest, is not signed: written without the "
            "examiner's key (outside the application), or its signature was removed"
        )
    return check


def _valid(key: Ed25519PublicKey, signature: AuditSignature, entry_hash: str) -> bool:
    try:
        raw = base64.b64decode(signature.signature, validate=True)
        key.verify(raw, signed_message(signature.seq, signature.prev_seq, entry_hash))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _extend(ranges: list[SignedRange], first: int, last: int, fingerprint: str) -> None:
    if ranges and ranges[-1].fingerprint == fingerprint and ranges[-1].last == first - 1:
        previous = ranges[-1]
        ranges[-1] = SignedRange(previous.first, last, fingerprint, previous.signatures + 1)
    else:
        ranges.append(SignedRange(first, last, fingerprint, 1))
