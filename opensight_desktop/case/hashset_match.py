"""Hash-set hits of a case's items: found by index lookups, stored, audit-logged.

A case records each set it was matched against (``hashset`` row: name, kind, format,
source SHA-256, entry count, import date; entry ``hashset.recorded``) and each item's hits
(``hashset_hit`` rows). At import the hits of a new item go into its ``item.added``
entry; ``match`` re-matches every item and logs ``item.hashset_hits`` for each item whose
hits changed, then one ``hashsets.matched`` entry naming the sets and counts.

An item has at most one hit per set: by SHA-256 if the set lists it, else SHA-1, else MD5.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from opensight_desktop.case.audit import ChainWriter
from opensight_desktop.case.models import EvidenceItem, HashSet, HashSetHit
from opensight_desktop.hashsets.store import HashSetInfo, Lookup

KNOWN_FLAG = "known-file"
ALERT_FLAG = "alert-hash-set"
HASH_ORDER = ("sha256", "sha1", "md5")
CHUNK = 2000


@dataclass(frozen=True, slots=True)
class ItemHashes:
    item_id: int
    md5: str | None
    sha1: str | None
    sha256: str | None


def hit_record(info: HashSetInfo, hash_kind: str, category: str | None) -> dict[str, Any]:
    """A hit as stored, logged and exported (keys sorted as canonical JSON sorts them)."""
    return {
        "category": category,
        "hash": hash_kind,
        "kind": info.kind,
        "set": info.name,
        "set_sha256": info.source_sha256,
    }


def sort_hits(hits: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(hits, key=lambda hit: (str(hit.get("set")), str(hit.get("set_sha256"))))


def find_hits(lookup: Lookup, items: Sequence[ItemHashes]) -> dict[int, list[dict[str, Any]]]:
    """{item id: hits} for the items with any hit."""
    wanted: list[bytes] = []
    for item in items:
        for text in (item.sha256, item.sha1, item.md5):
            if text:
                try:
                    wanted.append(bytes.fromhex(text))
                except ValueError:
                    continue  # not hex: a crafted case; nothing can match it
    found = lookup.find(wanted)
    out: dict[int, list[dict[str, Any]]] = {}
    for item in items:
        per_set: dict[str, dict[str, Any]] = {}
        for kind, text in zip(HASH_ORDER, (item.sha256, item.sha1, item.md5), strict=True):
            if not text:
                continue
            try:
                key = bytes.fromhex(text)
            except ValueError:
                continue
            for hit in found.get(key, ()):
                per_set.setdefault(hit.hash_set.name, hit_record(hit.hash_set, kind, hit.category))
        if per_set:
            out[item.item_id] = sort_hits(per_set.values())
    return out


def record_sets(
    session: Session, writer: ChainWriter, sets: Sequence[HashSetInfo]
) -> dict[str, int]:
    """The case's row id of each set (by name), adding and logging those it lacks."""
    ids: dict[str, int] = {}
    for info in sets:
        row_id = session.scalar(
            select(HashSet.id).where(
                HashSet.name == info.name, HashSet.source_sha256 == info.source_sha256
            )
        )
        if row_id is None:
            record = info.record()
            row = HashSet(**record)
            session.add(row)
            session.flush()
            row_id = row.id
            writer.add("hashset.recorded", {**record, "id": row_id})
        ids[info.name] = row_id
    return ids


def insert_hits(
    session: Session, hits: dict[int, list[dict[str, Any]]], set_ids: dict[str, int]
) -> None:
    rows = [
        {
            "item_id": item_id,
            "hashset_id": set_ids[hit["set"]],
            "hash_kind": hit["hash"],
            "category": hit["category"],
        }
        for item_id, item_hits in hits.items()
        for hit in item_hits
    ]
    if rows:
        session.execute(insert(HashSetHit), rows)


def stored_hits(session: Session, item_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """{item id: hits as recorded} for these items (those without hits are absent)."""
    out: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(item_ids), 500):
        chunk = list(item_ids[start : start + 500])
        query = (
            select(
                HashSetHit.item_id,
                HashSetHit.hash_kind,
                HashSetHit.category,
                HashSet.name,
                HashSet.kind,
                HashSet.source_sha256,
            )
            .outerjoin(HashSet, HashSet.id == HashSetHit.hashset_id)
            .where(HashSetHit.item_id.in_(chunk))
            .order_by(HashSetHit.id)
        )
        for item_id, hash_kind, category, name, kind, source in session.execute(query):
            out.setdefault(item_id, []).append(
                {
                    "category": category,
                    "hash": hash_kind,
                    "kind": kind,
                    "set": name,
                    "set_sha256": source,
                }
            )
    return {item_id: sort_hits(hits) for item_id, hits in out.items()}


@dataclass
class MatchCounts:
    items: int = 0
    items_with_hits: int = 0
    changed: int = 0


def rematch(
    session: Session, writer: ChainWriter, lookup: Lookup, set_ids: dict[str, int]
) -> MatchCounts:
    """Match every item again; replace and log the hits of each item whose hits changed."""
    counts = MatchCounts()
    last = 0
    while True:
        rows = session.execute(
            select(EvidenceItem.id, EvidenceItem.md5, EvidenceItem.sha1, EvidenceItem.sha256)
            .where(EvidenceItem.id > last)
            .order_by(EvidenceItem.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return counts
        last = rows[-1][0]
        items = [ItemHashes(*row) for row in rows]
        ids = [item.item_id for item in items]
        new = find_hits(lookup, items)
        old = stored_hits(session, ids)
        counts.items += len(items)
        counts.items_with_hits += len(new)
        changed = [item_id for item_id in ids if new.get(item_id, []) != old.get(item_id, [])]
        if not changed:
            continue
        counts.changed += len(changed)
        session.execute(delete(HashSetHit).where(HashSetHit.item_id.in_(changed)))
        insert_hits(session, {i: new[i] for i in changed if i in new}, set_ids)
        for item_id in changed:
            writer.add("item.hashset_hits", {"hits": new.get(item_id, [])}, item_id=item_id)


def flag_explanation(hit: dict[str, Any]) -> tuple[str, str]:
    """The flag code and explanation a hit shows as (item panel, report, exports)."""
    name = hit.get("set")
    digest = str(hit.get("hash", "")).upper().replace("SHA", "SHA-")
    source = str(hit.get("set_sha256") or "")[:12]
    category = hit.get("category")
    also = f", category {category}" if category not in (None, "") else ""
    if hit.get("kind") == "known":
        return (
            KNOWN_FLAG,
            f"The file's {digest} is in the known-file hash set {name!r} (source SHA-256 "
            f"{source}…{also}): a file the set lists as known, usually ignorable.",
        )
    return (
        ALERT_FLAG,
        f"The file's {digest} is in the alert hash set {name!r} (source SHA-256 {source}…{also}).",
    )
