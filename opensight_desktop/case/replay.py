"""Replay of the audit log: the state it vouches for, compared with the case tables.

Every value a report or an export states is set together with an audit entry that carries
it (blobs and large records as SHA-256, see ``case.digests``). Walking the log in order
gives the state the tables must hold; each value that differs is a :class:`Difference`
naming the subject (case, item, result, model, tile scan), the field, the value in the log
(and the entry that set it) and the value in the table.

What each entry sets:
  case.created          case details: number, title, examiner, agency, description, time
                        zone, uuid, creation time and version
  model.registered      a detector model: name, format, source, details (published match)
  analysis.started      what a run's results share: device, precision, verdict bands,
                        preprocessing, library versions
  item.added            an item: hashes, size, status and error, image format, size, mode
                        and frames, time added, thumbnail SHA-256, metadata+flags SHA-256,
                        its path and that file's times; review state "not reviewed", no
                        notes, no tags
  item.duplicate_found  one more path of an item, with that file's times, and the item's
                        metadata+flags SHA-256 as it stands after that
  item.analyzed         a result: probability, logit, verdict, run, time, heatmap SHA-256
                        (and its own device and versions when a cluster node computed it);
                        the item becomes "analyzed"
  item.analysis_failed  the item becomes an error of stage "analysis", with the reason
  item.tile_scanned     a tile scan: model, tile size, stride, tiles SHA-256, device, details
  item.review_state, item.notes, item.tags    the examiner's review
  items.review, items.review_undone    a bulk review action (or its undoing) on a
                        selection: each change names its items (case/review_changes.py)
  hashset.recorded      a hash set a match used: name, kind, format, source SHA-256,
                        entries, import date
  item.hashset_hits     an item's hash-set hits after a re-match (``match``); item.added
                        carries the hits found at import, and the perceptual hash
  item.phash            a perceptual hash computed after import (``match``)

Cases written by an earlier version: their entries do not carry some of these values
(thumbnails, metadata, logits, heatmaps, ...). Such values are *not vouched for*: counted
and reported apart from differences, they do not fail verification (nothing contradicts
them, and nothing confirms them). The fields entries always carried (hashes, status,
probability and verdict, review, paths, model name and published match, case details)
are checked in old cases too.

Memory stays bounded for large cases: items are replayed in id ranges, each from its own
entries (the log is indexed by item id).
"""

from __future__ import annotations

import heapq
import math
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, String, Text, select, type_coerce, union
from sqlalchemy.orm import InstrumentedAttribute, Session

from opensight_desktop.case import audit, digests
from opensight_desktop.case.hashset_match import stored_hits
from opensight_desktop.case.models import (
    AuditEntry,
    CaseInfo,
    DetectionResult,
    DetectorModel,
    EvidenceFile,
    EvidenceItem,
    HashSet,
    ItemTag,
    Thumbnail,
    TileScan,
)
from opensight_desktop.case.review_changes import value_after
from opensight_desktop.case.states import ErrorStage, ItemStatus, ReviewState
from opensight_desktop.evidence.walk import display_path
from opensight_desktop.timeutil import parse_iso

if TYPE_CHECKING:
    from sqlalchemy import Row, Select

    # (seq, action, item_id, details as JSON text)
    _EntryQuery = Select[int, str, int | None, str]
    # (item_id, path, path_raw, file_name, mtime_ns, ctime_ns, atime_ns)
    _FileRow = Row[int, str, bytes, str, int | None, int | None, int | None]

CHUNK_ITEMS = 2000
RECORD = "record"  # the field of a Difference about a whole record (missing or extra)
TEXT_LIMIT = 80


class _Marker:
    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


# The entry that set a record predates recording this value (an earlier version wrote it).
UNRECORDED = _Marker("not recorded")
# There is no such record (in the log, or in the tables).
ABSENT = _Marker("absent")
PRESENT = _Marker("present")


@dataclass(frozen=True)
class Difference:
    subject: str  # "case", "item 3", "result of item 3 by model b89f36275f3b", ...
    field: str
    logged: object
    actual: object
    seq: int | None = None  # the entry that set the logged value

    def __str__(self) -> str:
        where = f" (entry {self.seq})" if self.seq else ""
        if self.field == RECORD and self.actual is ABSENT:
            return (
                f"{self.subject} was recorded in the audit log{where} but is no longer in the case"
            )
        if self.field == RECORD:
            return (
                f"{self.subject} is in the case but not in the audit log "
                "(added outside the application)"
            )
        return (
            f"{self.subject}: {self.field} in the case is {show(self.actual)}, but the "
            f"audit log{where} recorded {show(self.logged)}"
        )


@dataclass
class ReplayResult:
    differences: list[Difference] = field(default_factory=list)
    # "item thumbnail_sha256" -> how many values the log could not vouch for
    unvouched: Counter[str] = field(default_factory=Counter)
    # entries or rows that cannot be read as the application writes them
    problems: list[str] = field(default_factory=list)


def show(value: object) -> str:
    if value is ABSENT or value is None:
        return "none"
    if isinstance(value, bytes):
        return f"{len(value)} bytes"
    if not isinstance(value, str):  # numbers and JSON values as JSON, strings quoted
        text = digests.canonical(value)
        return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + "…"
    if len(value) <= TEXT_LIMIT:
        return repr(value)
    return repr(value[:TEXT_LIMIT] + "…") + f" ({len(value)} characters)"


def same(logged: object, actual: object) -> bool:
    numbers = (int, float)
    if (
        isinstance(logged, numbers)
        and isinstance(actual, numbers)
        and not isinstance(logged, bool)
        and not isinstance(actual, bool)
    ):
        both_nan = isinstance(logged, float) and isinstance(actual, float)
        return logged == actual or (both_nan and math.isnan(logged) and math.isnan(actual))
    if isinstance(logged, dict | list) and isinstance(actual, dict | list):
        if not logged and not actual:  # most items' tags and hits: no JSON to write
            return type(logged) is type(actual)
        return digests.canonical(logged) == digests.canonical(actual)
    return type(logged) is type(actual) and logged == actual


# field -> (value, seq of the entry that set it), or UNRECORDED; values as stored (plain
# str, not StrEnum: same() compares types too)
Expected = dict[str, Any]


def _set(state: Expected, details: dict[str, Any], seq: int, *names: str) -> None:
    for name in names:
        state[name] = (details[name], seq) if name in details else UNRECORDED


class _Comparer:
    def __init__(self, result: ReplayResult) -> None:
        self.result = result

    def fields(self, kind: str, subject: str, expected: Expected, actual: dict[str, Any]) -> None:
        for name, logged in expected.items():
            if name not in actual:
                continue
            if logged is UNRECORDED:
                self.result.unvouched[f"{kind} {name}"] += 1
                continue
            value, seq = logged
            if not same(value, actual[name]):
                self.result.differences.append(Difference(subject, name, value, actual[name], seq))

    def record(self, subject: str, logged_seq: int | None, present: bool) -> bool:
        """Report a record only one side has; True when both have it."""
        if logged_seq is not None and present:
            return True
        if logged_seq is not None:
            self.result.differences.append(Difference(subject, RECORD, PRESENT, ABSENT, logged_seq))
        elif present:
            self.result.differences.append(Difference(subject, RECORD, ABSENT, PRESENT))
        return False


def replay(session: Session) -> ReplayResult:
    """Replay the whole log and compare every vouched-for value with the tables."""
    result = ReplayResult()
    compare = _Comparer(result)
    shared = _replay_shared(session, result)
    _compare_case(session, shared, compare)
    _compare_models(session, shared, compare)
    _compare_hashsets(session, shared, compare)
    for first, last in _item_ranges(session):
        _ItemRange(session, shared, compare, first, last).run()
    return result


# -- entries without an item: the case, models, runs ----------------------------------------


@dataclass
class _Shared:
    case: Expected | None = None
    case_seq: int | None = None
    models: dict[str, tuple[Expected, int]] = field(default_factory=dict)
    runs: dict[object, Expected] = field(default_factory=dict)  # by the run id logged
    hashsets: dict[object, tuple[Expected, int]] = field(default_factory=dict)
    # bulk review entries in log order: (seq, action, changes)
    bulk: list[tuple[int, str, list[Any]]] = field(default_factory=list)


CASE_FIELDS = (
    "uuid",
    "number",
    "title",
    "examiner",
    "agency",
    "description",
    "tz_name",
    "tz_offset_minutes",
    "created_utc",
    "created_by_version",
)
RUN_FIELDS = ("model_sha256", "device", "precision", "thresholds", "preprocessing", "versions")
HASHSET_FIELDS = ("name", "kind", "format", "source_sha256", "entries", "imported_utc")
BULK_ACTIONS = ("items.review", "items.review_undone")


def _entries(
    session: Session, query: _EntryQuery, result: ReplayResult
) -> Iterator[tuple[int, str, int | None, dict[str, Any]]]:
    """(seq, action, item_id, details) in log order; unreadable details become a problem."""
    for seq, action, item_id, text in session.execute(query.order_by(AuditEntry.seq)):
        details = audit.parse_details(text)
        if details is None:
            result.problems.append(
                f"entry {seq} ({action}): its details are not JSON, so what it recorded "
                "cannot be checked"
            )
            continue
        yield seq, action, item_id, details


def _columns() -> _EntryQuery:
    return select(AuditEntry.seq, AuditEntry.action, AuditEntry.item_id, AuditEntry.details)


# What a crafted entry's details can raise when they are not what the application writes.
MALFORMED = (TypeError, ValueError, KeyError, AttributeError)


def _malformed(result: ReplayResult, seq: int, action: str, exc: Exception) -> None:
    result.problems.append(
        f"entry {seq} ({action}): its details are not what the application writes "
        f"({type(exc).__name__}: {exc}), so what it recorded cannot be checked"
    )


def _replay_shared(session: Session, result: ReplayResult) -> _Shared:
    shared = _Shared()
    query = _columns().where(AuditEntry.item_id.is_(None))
    for seq, action, _, details in _entries(session, query, result):
        try:
            _shared_entry(shared, result, seq, action, details)
        except MALFORMED as exc:
            _malformed(result, seq, action, exc)
    return shared


def _shared_entry(
    shared: _Shared, result: ReplayResult, seq: int, action: str, details: dict[str, Any]
) -> None:
    if action == "case.created":
        if shared.case is not None:
            result.problems.append(f"entry {seq} records the creation of the case again")
            return
        shared.case, shared.case_seq = {}, seq
        _set(shared.case, details, seq, *CASE_FIELDS)
    elif action == "model.registered":
        sha = str(details.get("model_sha256"))
        expected: Expected = {"sha256": (details.get("model_sha256"), seq)}
        _set(expected, details, seq, "name", "format", "source")
        expected["details.published_match"] = (
            (details["published_match"], seq) if "published_match" in details else UNRECORDED
        )
        expected["details"] = (
            (details["details"], seq) if isinstance(details.get("details"), dict) else None
        )
        shared.models.setdefault(sha, (expected, seq))
    elif action == "analysis.started":
        run: Expected = {}
        _set(run, details, seq, *RUN_FIELDS)
        shared.runs[details.get("run")] = run
    elif action == "hashset.recorded":
        recorded: Expected = {}
        _set(recorded, details, seq, *HASHSET_FIELDS)
        shared.hashsets.setdefault(details.get("id"), (recorded, seq))
    elif action in BULK_ACTIONS:
        changes = details["changes"]
        if not isinstance(changes, list):
            raise TypeError("changes is not a list")
        shared.bulk.append((seq, action, changes))


def _compare_hashsets(session: Session, shared: _Shared, compare: _Comparer) -> None:
    actual: dict[Any, dict[str, Any]] = {}
    for row in session.execute(
        select(HashSet.id, *(getattr(HashSet, name) for name in HASHSET_FIELDS))
    ):
        values = row._asdict()
        actual[values.pop("id")] = values
    for set_id in sorted(shared.hashsets.keys() | actual.keys(), key=str):
        logged = shared.hashsets.get(set_id)
        subject = f"hash set {set_id}"
        if compare.record(subject, logged[1] if logged else None, set_id in actual):
            assert logged is not None
            compare.fields("hash set", subject, logged[0], actual[set_id])


def _compare_case(session: Session, shared: _Shared, compare: _Comparer) -> None:
    problems = compare.result.problems
    columns = [
        type_coerce(CaseInfo.created_utc, String)
        if name == "created_utc"
        else getattr(CaseInfo, name)
        for name in CASE_FIELDS
    ]
    rows = session.execute(select(CaseInfo.id, *columns).order_by(CaseInfo.id))
    found = False
    for row in rows:
        row_id, *values = row
        if row_id != 1:
            problems.append(
                f"case_info row {row_id}: a case has exactly one case_info row (id 1); this "
                "one was added outside the application"
            )
            continue
        found = True
        actual = dict(zip(CASE_FIELDS, values, strict=True))
        try:
            parse_iso(actual["created_utc"])
        except (ValueError, TypeError):
            problems.append(
                f"case_info row 1: created_utc {actual['created_utc']!r} is not a valid time"
            )
        if compare.record("the case", shared.case_seq, True):
            assert shared.case is not None
            compare.fields("case", "the case", shared.case, actual)
    if not found:
        problems.append("case_info row 1, the case's details, is missing")


def _compare_models(session: Session, shared: _Shared, compare: _Comparer) -> None:
    actual: dict[str, dict[str, Any]] = {}
    for sha, name, fmt, source, details in session.execute(
        select(
            DetectorModel.sha256,
            DetectorModel.name,
            DetectorModel.format,
            DetectorModel.source,
            type_coerce(DetectorModel.details, Text),
        ).order_by(DetectorModel.id)
    ):
        parsed = digests.stored_json(details)
        actual[str(sha)] = {
            "sha256": sha,
            "name": name,
            "format": fmt,
            "source": source,
            "details": parsed,
            "details.published_match": (parsed or {}).get("published_match")
            if isinstance(parsed, dict)
            else parsed,
        }
    for sha in sorted(shared.models.keys() | actual.keys()):
        subject = f"model {sha[:12]}"
        logged = shared.models.get(sha)
        if not compare.record(subject, logged[1] if logged else None, sha in actual):
            continue
        assert logged is not None
        expected = dict(logged[0])
        details = expected.pop("details")
        compare.fields("model", subject, expected, actual[sha])
        if details is None:
            compare.result.unvouched["model details"] += 1
            continue
        recorded, seq = details
        table = actual[sha]["details"]
        table = table if isinstance(table, dict) else {"<value>": table}
        for key in sorted(recorded.keys() | table.keys()):
            if key == "published_match":
                continue  # compared above
            if not same(recorded.get(key), table.get(key)):
                compare.result.differences.append(
                    Difference(subject, f"details.{key}", recorded.get(key), table.get(key), seq)
                )


# -- items, their files, results and tile scans --------------------------------------------


def _item_ranges(session: Session) -> list[tuple[int, int]]:
    """Id ranges of at most CHUNK_ITEMS ids known to the tables or the log (an id that is
    not a number is never written by the application; the chain check hashes it as is)."""
    ids = sorted(
        value
        for value in session.scalars(
            union(
                select(EvidenceItem.id),
                select(AuditEntry.item_id).where(AuditEntry.item_id.is_not(None)),
                select(DetectionResult.item_id),
                select(TileScan.item_id),
            )
        )
        if isinstance(value, int)
    )
    return [
        (ids[start], ids[min(start + CHUNK_ITEMS, len(ids)) - 1])
        for start in range(0, len(ids), CHUNK_ITEMS)
    ]


ITEM_ADDED_FIELDS = ("sha256", "sha1", "md5", "size_bytes", "status", "error")
ITEM_NEW_FIELDS = (
    "format",
    "width",
    "height",
    "mode",
    "frames",
    "added_utc",
    "thumbnail_sha256",
    "metadata_sha256",
)
RESULT_FIELDS = ("probability", "verdict", "logit", "analyzed_utc", "heatmap_sha256")
RESULT_OWN_FIELDS = ("device", "versions")  # logged by a result only where not the run's
SCAN_FIELDS = ("tile_size", "stride", "device", "created_utc", "tiles_sha256", "details")


class _ItemRange:
    def __init__(
        self, session: Session, shared: _Shared, compare: _Comparer, first: int, last: int
    ) -> None:
        self.session = session
        self.shared = shared
        self.compare = compare
        self.first, self.last = first, last
        self.items: dict[int, Expected] = {}
        self.added_at: dict[int, int] = {}
        # item -> [(path, file times or UNRECORDED, seq)]
        self.files: dict[int, list[tuple[object, object, int]]] = {}
        self.results: dict[tuple[int, str], Expected] = {}
        self.result_seq: dict[tuple[int, str], int] = {}
        self.scans: dict[object, Expected] = {}  # by the scan id logged
        self.scan_seq: dict[object, int] = {}

    def run(self) -> None:
        self._replay()
        self._compare_items()
        self._compare_files()
        self._compare_results()
        self._compare_scans()

    # -- replay ----------------------------------------------------------------------------

    def _replay(self) -> None:
        query = _columns().where(AuditEntry.item_id.between(self.first, self.last))
        own = _entries(self.session, query, self.compare.result)
        bulk = (
            (seq, action, None, {"changes": changes}) for seq, action, changes in self.shared.bulk
        )
        for seq, action, item_id, details in heapq.merge(own, bulk, key=lambda entry: entry[0]):
            if action in BULK_ACTIONS:
                try:
                    self._bulk(seq, details["changes"])
                except MALFORMED as exc:
                    _malformed(self.compare.result, seq, action, exc)
                continue
            handler = getattr(self, "_on_" + action.replace(".", "_"), None)
            if handler is None:
                continue
            try:
                handler(seq, item_id, details)
            except MALFORMED as exc:
                _malformed(self.compare.result, seq, action, exc)

    def _on_item_added(self, seq: int, item_id: int, details: dict[str, Any]) -> None:
        if item_id in self.items:
            self.compare.result.problems.append(f"entry {seq} adds item {item_id} a second time")
            return
        state: Expected = {}
        _set(state, details, seq, *ITEM_ADDED_FIELDS, *ITEM_NEW_FIELDS)
        if "error_stage" in details:
            state["error_stage"] = (details["error_stage"], seq)
        else:  # before the stage was recorded, every item error happened at import
            stage = ErrorStage.IMPORT.value if details.get("status") == ItemStatus.ERROR else None
            state["error_stage"] = (stage, seq)
        state["review_state"] = (ReviewState.NOT_REVIEWED.value, seq)
        state["notes"] = ("", seq)
        state["tags"] = ([], seq)
        state["vics_category"] = (None, seq)
        # Before perceptual hashes and hash sets (schema 0004) an item had neither: a value
        # in the table needs an entry that set it.
        state["phash"] = (details.get("phash"), seq)
        state["hashset_hits"] = (details.get("hashset_hits") or [], seq)
        self.items[item_id] = state
        self.added_at[item_id] = seq
        self._add_file(seq, item_id, details)

    def _add_file(self, seq: int, item_id: int, details: dict[str, Any]) -> None:
        times = details.get("file_times_ns", UNRECORDED)
        self.files.setdefault(item_id, []).append((details.get("path"), times, seq))

    def _on_item_duplicate_found(self, seq: int, item_id: int, details: dict[str, Any]) -> None:
        self._add_file(seq, item_id, details)
        state = self.items.get(item_id)
        if state is not None and "metadata_sha256" in details:  # flags of this location
            state["metadata_sha256"] = (details["metadata_sha256"], seq)

    def _on_item_analyzed(self, seq: int, item_id: int, details: dict[str, Any]) -> None:
        self._status(item_id, seq, ItemStatus.ANALYZED.value, None, None)
        key = (item_id, str(details.get("model_sha256")))
        state: Expected = {}
        _set(state, details, seq, *RESULT_FIELDS)
        state["analysis_run_id"] = (details.get("run"), seq)
        run = self.shared.runs.get(details.get("run"))
        for name in RUN_FIELDS[1:]:
            state[name] = run.get(name, UNRECORDED) if run is not None else UNRECORDED
        # a result computed on a cluster node logs that node's own device and versions
        _set(state, details, seq, *(name for name in RESULT_OWN_FIELDS if name in details))
        self.results[key] = state
        self.result_seq[key] = seq

    def _on_item_analysis_failed(self, seq: int, item_id: int, details: dict[str, Any]) -> None:
        self._status(
            item_id, seq, ItemStatus.ERROR.value, details.get("reason"), ErrorStage.ANALYSIS.value
        )

    def _status(
        self, item_id: int, seq: int, status: str, error: str | None, stage: str | None
    ) -> None:
        state = self.items.get(item_id)
        if state is not None:
            state.update(status=(status, seq), error=(error, seq), error_stage=(stage, seq))

    def _on_item_tile_scanned(self, seq: int, item_id: int, details: dict[str, Any]) -> None:
        state: Expected = {"item_id": (item_id, seq)}
        _set(state, details, seq, "model_sha256", "tiles", "highest", *SCAN_FIELDS)
        self.scans[details.get("scan")] = state
        self.scan_seq[details.get("scan")] = seq

    def _review(self, item_id: int, name: str, value: object, seq: int) -> None:
        state = self.items.get(item_id)
        if state is not None:
            state[name] = (value, seq) if value is not UNRECORDED else UNRECORDED

    def _on_item_review_state(self, seq: int, item_id: int, details: dict[str, Any]) -> None:
        self._review(item_id, "review_state", details.get("to", UNRECORDED), seq)

    def _on_item_notes(self, seq: int, item_id: int, details: dict[str, Any]) -> None:
        self._review(item_id, "notes", details.get("to", UNRECORDED), seq)

    def _on_item_hashset_hits(self, seq: int, item_id: int, details: dict[str, Any]) -> None:
        self._review(item_id, "hashset_hits", details["hits"], seq)

    def _on_item_phash(self, seq: int, item_id: int, details: dict[str, Any]) -> None:
        self._review(item_id, "phash", details["phash"], seq)

    def _bulk(self, seq: int, changes: list[Any]) -> None:
        for change in changes:
            name = change["field"]
            for item_id in change["items"]:
                if not isinstance(item_id, int) or not self.first <= item_id <= self.last:
                    continue
                state = self.items.get(item_id)
                if state is None or state.get(name, UNRECORDED) is UNRECORDED:
                    continue
                state[name] = (value_after(name, state[name][0], change), seq)

    def _on_item_tags(self, seq: int, item_id: int, details: dict[str, Any]) -> None:
        state = self.items.get(item_id)
        if state is None or state["tags"] is UNRECORDED:
            return
        tags = set(state["tags"][0])
        tags -= set(details.get("removed") or [])
        tags |= set(details.get("added") or [])
        state["tags"] = (sorted(tags), seq)

    # -- compare ---------------------------------------------------------------------------

    def _between(self, column: InstrumentedAttribute[int]) -> ColumnElement[bool]:
        return column.between(self.first, self.last)

    def _compare_items(self) -> None:
        session = self.session
        actual: dict[int, dict[str, Any]] = {}
        columns = [
            EvidenceItem.id,
            EvidenceItem.sha256,
            EvidenceItem.sha1,
            EvidenceItem.md5,
            EvidenceItem.size_bytes,
            EvidenceItem.status,
            EvidenceItem.error,
            EvidenceItem.error_stage,
            EvidenceItem.format,
            EvidenceItem.width,
            EvidenceItem.height,
            EvidenceItem.mode,
            EvidenceItem.frames,
            type_coerce(EvidenceItem.added_utc, String).label("added_utc"),
            EvidenceItem.review_state,
            EvidenceItem.notes,
            EvidenceItem.vics_category,
            EvidenceItem.phash,
        ]
        for row in session.execute(select(*columns).where(self._between(EvidenceItem.id))):
            values = row._asdict()
            actual[values.pop("id")] = {
                **values,
                "tags": [],
                "thumbnail_sha256": None,
                "hashset_hits": [],
            }
        for item_id, hits in stored_hits(session, sorted(actual)).items():
            actual[item_id]["hashset_hits"] = hits
        for item_id, tag in session.execute(
            select(ItemTag.item_id, ItemTag.tag).where(self._between(ItemTag.item_id))
        ):
            if item_id in actual:
                actual[item_id]["tags"].append(tag)
        for values in actual.values():
            values["tags"].sort()
        for item_id, jpeg in session.execute(
            select(Thumbnail.item_id, Thumbnail.jpeg).where(self._between(Thumbnail.item_id))
        ):
            if item_id in actual:
                actual[item_id]["thumbnail_sha256"] = digests.sha256_hex(jpeg)
        metadata = digests.metadata_digests(session, self.first, self.last)
        for item_id, values in actual.items():
            values["metadata_sha256"] = metadata.get(item_id)
        for item_id in sorted(self.items.keys() | actual.keys()):
            subject = f"item {item_id}"
            if self.compare.record(subject, self.added_at.get(item_id), item_id in actual):
                self.compare.fields("item", subject, self.items[item_id], actual[item_id])

    def _compare_files(self) -> None:
        result = self.compare.result
        rows: dict[int, list[_FileRow]] = {}
        for row in self.session.execute(
            select(
                EvidenceFile.item_id,
                EvidenceFile.path,
                EvidenceFile.path_raw,
                EvidenceFile.file_name,
                EvidenceFile.mtime_ns,
                EvidenceFile.ctime_ns,
                EvidenceFile.atime_ns,
            )
            .where(self._between(EvidenceFile.item_id))
            .order_by(EvidenceFile.id)
        ):
            rows.setdefault(row.item_id, []).append(row)
        for item_id in sorted(self.files.keys() | rows.keys()):
            if item_id not in self.items:
                continue  # the item itself is reported missing from the log
            subject = f"item {item_id}"
            files = self.files.get(item_id, [])
            found = rows.get(item_id, [])
            # Reports and exports show the first path (the one imported) as the item's path.
            if files and found and found[0].path != files[0][0]:
                result.differences.append(
                    Difference(subject, "first path", files[0][0], found[0].path, files[0][2])
                )
            logged = {path: (times, seq) for path, times, seq in files}
            for row in found:
                self._check_file_row(subject, row, logged)
            for path, (_, seq) in logged.items():
                result.differences.append(Difference(subject, "file path", path, ABSENT, seq))

    def _check_file_row(
        self, subject: str, row: _FileRow, logged: dict[object, tuple[object, int]]
    ) -> None:
        result = self.compare.result
        raw = row.path_raw if isinstance(row.path_raw, bytes) else b""
        decoded = os.fsdecode(raw)
        # verify re-hashes the file at path_raw: it must be the path shown (and logged).
        if row.path != display_path(decoded):
            result.problems.append(
                f"{subject}: the file path {row.path!r} and the path the file system is asked "
                f"for ({display_path(decoded)!r}) differ (edited outside the application)"
            )
        if row.file_name != display_path(os.path.basename(decoded)):
            result.problems.append(
                f"{subject}: the file name {row.file_name!r} is not the name in its path "
                f"{row.path!r} (edited outside the application)"
            )
        if row.path not in logged:
            result.differences.append(Difference(subject, "file path", ABSENT, row.path))
            return
        times, seq = logged.pop(row.path)
        actual = [row.mtime_ns, row.ctime_ns, row.atime_ns]
        if times is UNRECORDED:
            result.unvouched["item file_times_ns"] += 1
        elif not same(times, actual):
            result.differences.append(
                Difference(subject, f"file times of {row.path}", times, actual, seq)
            )

    def _compare_results(self) -> None:
        actual: dict[tuple[int, str], dict[str, Any]] = {}
        for row in self.session.execute(
            select(
                DetectionResult.item_id,
                DetectorModel.sha256,
                DetectionResult.probability,
                DetectionResult.logit,
                DetectionResult.verdict,
                type_coerce(DetectionResult.analyzed_utc, String).label("analyzed_utc"),
                DetectionResult.analysis_run_id,
                DetectionResult.device,
                DetectionResult.precision,
                type_coerce(DetectionResult.thresholds, Text).label("thresholds"),
                type_coerce(DetectionResult.preprocessing, Text).label("preprocessing"),
                type_coerce(DetectionResult.versions, Text).label("versions"),
                DetectionResult.heatmap,
                type_coerce(DetectionResult.heatmap_geometry, Text).label("geometry"),
            )
            .outerjoin(DetectorModel, DetectorModel.id == DetectionResult.model_id)
            .where(self._between(DetectionResult.item_id))
        ):
            values = row._asdict()
            for name in ("thresholds", "preprocessing", "versions"):
                values[name] = digests.stored_json(values[name])
            values["heatmap_sha256"] = digests.heatmap_digest(
                values.pop("heatmap"), digests.stored_json(values.pop("geometry"))
            )
            actual[(row.item_id, str(row.sha256))] = values
        for key in sorted(self.results.keys() | actual.keys()):
            subject = f"result of item {key[0]} by model {key[1][:12]}"
            if self.compare.record(subject, self.result_seq.get(key), key in actual):
                self.compare.fields("result", subject, self.results[key], actual[key])

    def _compare_scans(self) -> None:
        actual: dict[Any, dict[str, Any]] = {}
        for row in self.session.execute(
            select(
                TileScan.id,
                TileScan.item_id,
                DetectorModel.sha256.label("model_sha256"),
                TileScan.tile_size,
                TileScan.stride,
                TileScan.device,
                type_coerce(TileScan.created_utc, String).label("created_utc"),
                type_coerce(TileScan.tiles, Text).label("tiles"),
                type_coerce(TileScan.details, Text).label("details"),
            )
            .outerjoin(DetectorModel, DetectorModel.id == TileScan.model_id)
            .where(self._between(TileScan.item_id))
        ):
            values = row._asdict()
            tiles = digests.stored_json(values["tiles"])
            tile_list = tiles if isinstance(tiles, list) else []
            values.update(
                tiles=len(tile_list),
                highest=max(
                    (t[2] for t in tile_list if isinstance(t, list) and len(t) == 3),
                    default=None,
                ),
                tiles_sha256=digests.json_digest(tiles),
                details=digests.stored_json(values["details"]),
            )
            actual[values.pop("id")] = values
        for scan in sorted(self.scans.keys() | actual.keys(), key=str):
            item = (actual.get(scan) or {}).get("item_id") or self.scans[scan]["item_id"][0]
            subject = f"tile scan {scan} of item {item}"
            if self.compare.record(subject, self.scan_seq.get(scan), scan in actual):
                self.compare.fields("tile scan", subject, self.scans[scan], actual[scan])
