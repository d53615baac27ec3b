"""``match CASE``: bring a case up to date with the hash sets and perceptual hashes.

First, items imported before perceptual hashes get theirs: each original is read
read-only, its bytes checked against the recorded SHA-256, decoded and hashed
(``item.phash``, in batches of one transaction each, so a stopped run keeps what it did).
Then every item is matched again against every hash set of the data directory; each item
whose hits changed gets an ``item.hashset_hits`` entry, and one ``hashsets.matched`` entry
names the sets (with their source SHA-256 and entry counts) and the counts.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from opensight_desktop.case import audit, hashset_match
from opensight_desktop.case.models import EvidenceFile, EvidenceItem
from opensight_desktop.case.states import ItemStatus
from opensight_desktop.case.store import Case
from opensight_desktop.evidence.decode import DecodeError
from opensight_desktop.evidence.phash import phash
from opensight_desktop.hashsets.store import HashSetInfo, Lookup, list_sets
from opensight_desktop.pipeline.evidence_pixels import load_evidence_rgb
from opensight_desktop.pipeline.runs import ERROR_EXAMPLES, JobControl
from opensight_desktop.progress import CancelToken, ProgressCallback

log = logging.getLogger(__name__)

BATCH_ITEMS = 100


@dataclass
class MatchSummary:
    sets: list[HashSetInfo] = field(default_factory=list)
    items: int = 0
    items_with_hits: int = 0
    changed: int = 0
    phash_added: int = 0
    phash_failed: int = 0
    failures: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0
    cancelled: bool = False


class MatchJob:
    def __init__(
        self,
        case: Case,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        case.require_writable("match it against hash sets")
        self.case = case
        self.control = JobControl("match", progress, cancel)

    def run(self) -> MatchSummary:
        started = time.perf_counter()
        summary = MatchSummary()
        self._fill_phashes(summary)
        if self.control.cancelled:
            summary.cancelled = True
        else:
            self._rematch(summary)
        summary.seconds = time.perf_counter() - started
        return summary

    def _fill_phashes(self, summary: MatchSummary) -> None:
        with self.case.read() as session:
            todo = list(
                session.scalars(
                    select(EvidenceItem.id)
                    .where(
                        EvidenceItem.phash.is_(None),
                        EvidenceItem.sha256.is_not(None),
                        EvidenceItem.status != ItemStatus.ERROR,
                    )
                    .order_by(EvidenceItem.id)
                )
            )
        for start in range(0, len(todo), BATCH_ITEMS):
            if self.control.cancelled:
                return
            chunk = todo[start : start + BATCH_ITEMS]
            with self.case.read() as session:
                sources = self._sources(session, chunk)
            found: dict[int, str] = {}
            for item_id in chunk:
                sha256, paths = sources[item_id]
                try:
                    found[item_id] = phash(load_evidence_rgb(sha256, paths))
                except (OSError, DecodeError) as exc:
                    summary.phash_failed += 1
                    if len(summary.failures) < ERROR_EXAMPLES:
                        summary.failures.append((item_id, str(exc) or type(exc).__name__))
                self.control.report(start + len(found), len(todo), message="perceptual hashes")
            if found:
                with self.case.write() as session:
                    writer = audit.ChainWriter(session)
                    for item in session.scalars(
                        select(EvidenceItem).where(EvidenceItem.id.in_(sorted(found)))
                    ):
                        if item.phash is None:
                            item.phash = found[item.id]
                            writer.add("item.phash", {"phash": item.phash}, item_id=item.id)
                            summary.phash_added += 1
                    writer.write()

    @staticmethod
    def _sources(session: Any, item_ids: list[int]) -> dict[int, tuple[str, list[bytes]]]:
        out: dict[int, tuple[str, list[bytes]]] = {}
        for item_id, sha256 in session.execute(
            select(EvidenceItem.id, EvidenceItem.sha256).where(EvidenceItem.id.in_(item_ids))
        ):
            out[item_id] = (sha256, [])
        for item_id, path_raw in session.execute(
            select(EvidenceFile.item_id, EvidenceFile.path_raw)
            .where(EvidenceFile.item_id.in_(item_ids))
            .order_by(EvidenceFile.id)
        ):
            if isinstance(path_raw, bytes):
                out[item_id][1].append(path_raw)
            elif isinstance(path_raw, str):  # a crafted case: text where bytes belong
                out[item_id][1].append(os.fsencode(path_raw))
        return out

    def _rematch(self, summary: MatchSummary) -> None:
        sets = list_sets()
        summary.sets = sets
        with Lookup(sets) as lookup, self.case.write() as session:
            writer = audit.ChainWriter(session)
            set_ids = hashset_match.record_sets(session, writer, sets)
            counts = hashset_match.rematch(session, writer, lookup, set_ids)
            summary.items = counts.items
            summary.items_with_hits = counts.items_with_hits
            summary.changed = counts.changed
            writer.add(
                "hashsets.matched",
                {
                    "sets": [info.record() for info in sets],
                    "items": counts.items,
                    "items_with_hits": counts.items_with_hits,
                    "changed": counts.changed,
                },
            )
            writer.write()
        self.control.report(summary.items, summary.items, message="matched", force=True)
