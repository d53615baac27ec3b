"""Batch import of files and folders into a case.

Workers (threads; processes for large imports) read, hash, sniff, decode and read the
metadata of each file (``pipeline.ingest``); this thread alone
writes the case, in batches of one transaction each, in walk order. A batch that was
committed is complete (items, files, thumbnails and their audit entries together), so a
killed import loses at most the batch in flight, and running it again picks up there:
files already recorded under the same path, size and modification time are not re-read.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from opensight_desktop.case import audit, hashset_match
from opensight_desktop.case.digests import metadata_digests, metadata_digests_of, sha256_hex
from opensight_desktop.case.models import (
    EvidenceFile,
    EvidenceItem,
    ImportSession,
    ItemFlag,
    ItemMetadata,
    SkippedFile,
    Thumbnail,
)
from opensight_desktop.case.states import ErrorStage, ItemStatus, ReviewState, RunState
from opensight_desktop.case.store import Case
from opensight_desktop.errors import UsageError
from opensight_desktop.evidence.walk import FoundFile, Unusable, display_path, walk
from opensight_desktop.hashsets.store import Lookup, list_sets
from opensight_desktop.metadata.flags import Flag
from opensight_desktop.pipeline.ingest import ERROR, IMAGE, SKIP, Ingested, failed, ingest
from opensight_desktop.pipeline.runs import ERROR_EXAMPLES, IMPORT, RecordedRun, RunSummary
from opensight_desktop.progress import CancelToken, ProgressCallback, Stored, StoredCallback
from opensight_desktop.timeutil import iso_utc, utc_now
from opensight_desktop.worker import DaemonThreadPool

log = logging.getLogger(__name__)

BATCH_ITEMS = 100
PROCESS_POOL_MIN_FILES = 200
# A file that takes longer than this is given up: hostile files and unresponsive media
# must not stall an import. A worker process is killed; a thread cannot be stopped, so it
# is abandoned (a daemon thread: it holds up neither the import nor the program's exit),
# and a fresh pool of threads reads the rest.
FILE_TIMEOUT_S = 300.0
# On cancel, reads already running get this long to finish (what they finish is kept);
# on Ctrl-C none is waited for. Either way the files not done are read by the next run.
CANCEL_GRACE_S = 5.0
WAIT_STEP_S = 0.2  # how often a wait on a file looks at the cancel button
BATCH_SECONDS = 1.0


@dataclass
class ImportSummary(RunSummary):
    session_id: int
    files_seen: int = 0
    imported: int = 0
    duplicates: int = 0
    already_present: int = 0
    skipped: int = 0
    errors: int = 0
    bytes_read: int = 0
    # per-file worker time, and the part of it spent reading metadata (benchmark figures)
    file_seconds: float = 0.0
    metadata_seconds: float = 0.0
    skip_reasons: Counter[str] = field(default_factory=Counter)
    error_examples: list[tuple[str, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "files_seen": self.files_seen,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "already_present": self.already_present,
            "skipped": self.skipped,
            "errors": self.errors,
        }


@dataclass(frozen=True)
class _Known:
    """A path already in the case (for the quick "unchanged since last import" test)."""

    size: int | None
    mtime_ns: int | None
    hashed: bool


class ImportJob:
    def __init__(
        self,
        case: Case,
        paths: list[str],
        *,
        recursive: bool = True,
        workers: int | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        progress_interval: float = 0.1,
        stored: StoredCallback | None = None,
    ) -> None:
        if not paths:
            raise UsageError("nothing to import: give at least one file or folder")
        self.case = case
        self.paths = [os.path.abspath(p) for p in paths]
        if not any(os.path.lexists(p) for p in self.paths):
            raise UsageError("no such file or folder: " + ", ".join(map(display_path, self.paths)))
        self.recursive = recursive
        self.workers = workers or max(1, min(4, os.cpu_count() or 1))
        self._run = RecordedRun(case, IMPORT, progress, cancel, progress_interval)
        self.cancel = self._run.cancel
        self._stored = stored  # told after each committed batch
        self._pending: list[Ingested | Unusable] = []
        self._last_flush = time.monotonic()
        self._known: dict[bytes, _Known] = {}
        self._real_roots: dict[str, str] = {}
        self._total: int | None = None
        self._done = 0
        # the hash sets new items are matched against as they are written
        self._lookup: Lookup | None = None
        self._set_ids: dict[str, int] = {}

    # -- public --------------------------------------------------------------------------

    def run(self) -> ImportSummary:
        summary = ImportSummary(session_id=self._start())
        self.summary = summary
        try:
            return self._run_import(summary)
        finally:
            if self._lookup is not None:
                self._lookup.close()

    def _run_import(self, summary: ImportSummary) -> ImportSummary:
        self._prepare_matching()
        self._load_known()
        # Counting first is cheap (no file is opened) and sizes both the progress bar and
        # the choice of workers.
        self._total = sum(isinstance(e, FoundFile) for e in walk(self.paths, self.recursive))
        max_in_flight = self.workers * 4
        workers = _Workers(self._executor, self.cancel)
        with self._run.ending_on_error(self._finish):
            with workers:
                try:
                    for entry in walk(self.paths, self.recursive):
                        if self.cancel.cancelled:
                            break
                        if isinstance(entry, Unusable):
                            self._collect(entry)
                            continue
                        summary.files_seen += 1
                        if self._unchanged(entry):
                            summary.already_present += 1
                            self._done += 1
                            self._report()
                            continue
                        workers.submit(entry.path, self._real_root(entry))
                        while len(workers) >= max_in_flight or workers.head_done():
                            if (result := workers.next_result()) is not None:
                                self._collect(result)
                finally:
                    if sys.exc_info()[0] is not None:  # Ctrl-C or a failure: wait for nothing
                        workers.stop(grace_s=0.0)
                    while len(workers):
                        if (result := workers.next_result()) is not None:
                            self._collect(result)
            self._flush()
        self._finish(self._run.end_state())
        return summary

    def _executor(self) -> Executor:
        """Worker processes for large imports: metadata parsing (exifread) is pure Python
        and would serialise threads on the GIL. Threads for small ones, where starting
        processes would cost more than it saves."""
        if self.workers > 1 and (self._total or 0) >= PROCESS_POOL_MIN_FILES:
            pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"))
            try:
                pool.submit(os.getpid).result(timeout=120)  # can processes start here at all?
                return pool
            except Exception as exc:  # e.g. an embedding interpreter that cannot spawn
                log.warning("worker processes unavailable (%s); reading with threads", exc)
                pool.shutdown(wait=False, cancel_futures=True)
        return DaemonThreadPool(self.workers, name="import")

    # -- steps ---------------------------------------------------------------------------

    def _start(self) -> int:
        sources = [display_path(p) for p in self.paths]
        with self.case.write() as session:
            record = ImportSession(sources=sources, recursive=self.recursive)
            return self._run.start(
                session, record, {"sources": sources, "recursive": self.recursive}
            )

    def _prepare_matching(self) -> None:
        """Open the hash sets of the data directory and record them in the case."""
        sets = list_sets()
        if not sets:
            return
        self._lookup = Lookup(sets)
        with self.case.write() as session:
            writer = audit.ChainWriter(session)
            self._set_ids = hashset_match.record_sets(session, writer, sets)
            writer.write()

    def _load_known(self) -> None:
        with self.case.read() as session:
            rows = session.execute(
                select(
                    EvidenceFile.path_raw,
                    EvidenceFile.size_bytes,
                    EvidenceFile.mtime_ns,
                    EvidenceItem.sha256,
                ).join(EvidenceItem, EvidenceItem.id == EvidenceFile.item_id)
            )
            for path_raw, size, mtime_ns, sha256 in rows:
                self._known[path_raw] = _Known(size, mtime_ns, sha256 is not None)

    def _real_root(self, found: FoundFile) -> str | None:
        """The imported folder the file was found in, symbolic links resolved."""
        if found.root is None:
            return None
        if found.root not in self._real_roots:
            self._real_roots[found.root] = os.path.realpath(found.root)
        return self._real_roots[found.root]

    def _unchanged(self, found: FoundFile) -> bool:
        known = self._known.get(os.fsencode(found.path))
        if known is None or not known.hashed:
            return False
        try:
            st = os.stat(found.path)
        except OSError:
            return False
        return known.size == st.st_size and known.mtime_ns == st.st_mtime_ns

    def _collect(self, result: Ingested | Unusable) -> None:
        self._pending.append(result)
        if isinstance(result, Ingested):
            self._done += 1
        if (
            len(self._pending) >= BATCH_ITEMS
            or time.monotonic() - self._last_flush >= BATCH_SECONDS
        ):
            self._flush()
        self._report()

    def _flush(self) -> None:
        """Write the pending results in one transaction, as a few multi-row INSERTs."""
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        with self.case.write() as session:
            writer = _BatchWriter(self, session, batch)
            for result in batch:
                if isinstance(result, Unusable):
                    writer.skip(result.path, result.reason)
                elif result.outcome == SKIP:
                    writer.skip(result.path, result.reason or "skipped")
                else:
                    writer.store(result)
            writer.write()
            record = session.get(ImportSession, self.summary.session_id)
            assert record is not None
            for key, value in self.summary.counts().items():
                setattr(record, key, value)
        self._last_flush = time.monotonic()
        stored = writer.stored()
        if self._stored is not None and (stored.added or stored.changed):
            self._stored(stored)

    def _finish(self, state: RunState) -> None:
        if state is RunState.CANCELLED:
            self._flush()  # what was read before a Ctrl-C is kept
        summary = self.summary
        self._run.finish(
            summary,
            state,
            summary.counts(),
            {**summary.counts(), "skip_reasons": dict(summary.skip_reasons)},
        )
        self._report(force=True)

    def _report(self, force: bool = False) -> None:
        summary = self.summary
        self._run.report(
            self._done, self._total, message=summary.state, counts=summary.counts, force=force
        )


class _BatchWriter:
    """Rows of one batch. Item ids are assigned here: the write transaction holds SQLite's
    write lock (BEGIN IMMEDIATE), so max(id)+1 cannot be taken by anyone else meanwhile."""

    def __init__(self, job: ImportJob, session: Session, batch: list[Ingested | Unusable]) -> None:
        self.job = job
        self.summary = job.summary
        self.session = session
        self.chain = audit.ChainWriter(session)
        self.next_id = (session.scalar(select(func.max(EvidenceItem.id))) or 0) + 1
        self.now = utc_now()
        self.items: list[dict[str, Any]] = []
        self.files: list[dict[str, Any]] = []
        self.thumbs: list[dict[str, Any]] = []
        self.skips: list[dict[str, Any]] = []
        self.metadata: list[dict[str, Any]] = []
        self.flags: list[dict[str, Any]] = []
        # audit entries in walk order: (action, details, item id); new items' metadata
        # digests are filled in once their rows are written
        self.entries: list[tuple[str, dict[str, Any], int]] = []
        hashes = [r.digests.sha256 for r in batch if isinstance(r, Ingested) and r.digests]
        # sha256 -> item id, and the paths each of those items is already recorded under
        self.by_hash: dict[str, int] = {}
        self.paths_of: dict[int, set[bytes]] = {}
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            for sha256, item_id in session.execute(
                select(EvidenceItem.sha256, EvidenceItem.id).where(EvidenceItem.sha256.in_(chunk))
            ):
                if sha256 is not None:  # always: it matched one of ours
                    self.by_hash[sha256] = item_id
        if self.by_hash:
            for item_id, path_raw in session.execute(
                select(EvidenceFile.item_id, EvidenceFile.path_raw).where(
                    EvidenceFile.item_id.in_(list(self.by_hash.values()))
                )
            ):
                self.paths_of.setdefault(item_id, set()).add(path_raw)

    def skip(self, path: str, reason: str) -> None:
        self.summary.skipped += 1
        self.summary.skip_reasons[reason] += 1
        self.skips.append(
            {
                "import_session_id": self.summary.session_id,
                "path": display_path(path),
                "path_raw": os.fsencode(path),
                "reason": reason,
            }
        )

    def store(self, result: Ingested) -> None:
        summary = self.summary
        path_raw = os.fsencode(result.path)
        summary.bytes_read += result.size or 0
        summary.file_seconds += result.seconds
        summary.metadata_seconds += result.metadata.seconds if result.metadata else 0.0
        if result.outcome == ERROR and len(summary.error_examples) < ERROR_EXAMPLES:
            summary.error_examples.append((display_path(result.path), result.reason or "error"))
        if result.digests is None:
            summary.errors += 1
            if path_raw not in self.job._known:  # unreadable again: no second error item
                self._new_item(result, path_raw)
            return
        existing = self.by_hash.get(result.digests.sha256)
        if existing is not None:
            if path_raw in self.paths_of.get(existing, set()):
                summary.already_present += 1
                return
            summary.duplicates += 1
            self.files.append(self._file_row(result, path_raw, existing, duplicate=True))
            if result.flags:  # this location's own (hidden characters, a link leaving)
                self._add_flags(existing, result.flags, only_new=True)
            self.paths_of.setdefault(existing, set()).add(path_raw)
            self.entries.append(
                (
                    "item.duplicate_found",
                    {
                        "path": display_path(result.path),
                        "sha256": result.digests.sha256,
                        "session": summary.session_id,
                        "file_times_ns": _file_times(result),
                    },
                    existing,
                )
            )
            return
        if result.outcome == ERROR:
            summary.errors += 1
        else:
            summary.imported += 1
        self._new_item(result, path_raw)

    def _new_item(self, result: Ingested, path_raw: bytes) -> None:
        digests, facts = result.digests, result.facts
        item_id = self.next_id
        self.next_id += 1
        item = {
            "id": item_id,
            "sha256": digests.sha256 if digests else None,
            "sha1": digests.sha1 if digests else None,
            "md5": digests.md5 if digests else None,
            "size_bytes": result.size,
            "status": ItemStatus.IMPORTED if result.outcome == IMAGE else ItemStatus.ERROR,
            "error": result.reason if result.outcome == ERROR else None,
            "error_stage": ErrorStage.IMPORT if result.outcome == ERROR else None,
            "format": facts.format if facts else result.sniffed,
            "width": facts.width if facts else None,
            "height": facts.height if facts else None,
            "mode": facts.mode if facts else None,
            "frames": facts.frames if facts else None,
            "added_utc": self.now,
            "import_session_id": self.summary.session_id,
            "review_state": ReviewState.NOT_REVIEWED,
            "notes": "",
            "phash": result.phash,
        }
        self.items.append(item)
        self.files.append(self._file_row(result, path_raw, item_id, duplicate=False))
        if digests is not None:
            self.by_hash[digests.sha256] = item_id
            self.paths_of[item_id] = {path_raw}
        self._add_flags(item_id, result.flags)
        if result.metadata is not None:
            meta = result.metadata
            self.metadata.append(
                {
                    "item_id": item_id,
                    **meta.contract_fields(),
                    "exif": meta.exif,
                    "extra": meta.extra,
                    "problems": meta.problems,
                }
            )
            self._add_flags(item_id, meta.flags)
        if result.thumbnail is not None:
            thumb = result.thumbnail
            self.thumbs.append(
                {
                    "item_id": item_id,
                    "width": thumb.width,
                    "height": thumb.height,
                    "jpeg": thumb.jpeg,
                }
            )
        # Everything an export or report states about the item, blobs as SHA-256, so that
        # verify can replay it (case.replay).
        self.entries.append(
            (
                "item.added",
                {
                    "path": display_path(result.path),
                    **{key: item[key] for key in ITEM_LOGGED},
                    "added_utc": iso_utc(self.now),
                    "session": self.summary.session_id,
                    "file_times_ns": _file_times(result),
                    "thumbnail_sha256": (
                        sha256_hex(result.thumbnail.jpeg) if result.thumbnail else None
                    ),
                },
                item_id,
            )
        )

    def _add_flags(self, item_id: int, flags: Sequence[Flag], only_new: bool = False) -> None:
        """Flag rows for the item; ``only_new``: codes it has not got yet (a duplicate's
        location adds what its first location did not have)."""
        if only_new:
            have = set(
                self.session.scalars(select(ItemFlag.code).where(ItemFlag.item_id == item_id))
            ) | {row["code"] for row in self.flags if row["item_id"] == item_id}
            flags = [flag for flag in flags if flag.code not in have]
        self.flags.extend(
            {"item_id": item_id, "code": flag.code, "explanation": flag.explanation}
            for flag in flags
        )

    def _file_row(
        self, result: Ingested, path_raw: bytes, item_id: int, duplicate: bool
    ) -> dict[str, Any]:
        return {
            "item_id": item_id,
            "import_session_id": self.summary.session_id,
            "path": display_path(result.path),
            "path_raw": path_raw,
            "file_name": display_path(os.path.basename(result.path)),
            "size_bytes": result.size,
            "mtime_ns": result.mtime_ns,
            "ctime_ns": result.ctime_ns,
            "atime_ns": result.atime_ns,
            "is_duplicate": duplicate,
            "added_utc": self.now,
        }

    def stored(self) -> Stored:
        """The items this batch added, and those it gave another location (or flags)."""
        added = tuple(item["id"] for item in self.items)
        found_again = {
            item_id for action, _, item_id in self.entries if action == "item.duplicate_found"
        }
        return Stored(added, tuple(sorted(found_again - set(added))))

    def write(self) -> None:
        for model, rows in (
            (EvidenceItem, self.items),
            (EvidenceFile, self.files),
            (Thumbnail, self.thumbs),
            (SkippedFile, self.skips),
            (ItemMetadata, self.metadata),
            (ItemFlag, self.flags),
        ):
            if rows:
                self.session.execute(insert(model), rows)
        # Metadata and flags digested as stored: read back from the rows just written, as
        # verify will. A duplicate's entry carries its item's digest as it now stands.
        metadata: dict[int, str] = {}
        if self.items:
            metadata = metadata_digests(self.session, self.items[0]["id"], self.items[-1]["id"])
        found_again = sorted(
            {item_id for action, _, item_id in self.entries if action == "item.duplicate_found"}
            - metadata.keys()
        )
        for start in range(0, len(found_again), 500):
            metadata.update(metadata_digests_of(self.session, found_again[start : start + 500]))
        hits = self._match_new_items()
        for action, details, item_id in self.entries:
            details["metadata_sha256"] = metadata.get(item_id)
            if action == "item.added":
                details["hashset_hits"] = hits.get(item_id, [])
            self.chain.add(action, details, item_id=item_id)
        self.chain.write()

    def _match_new_items(self) -> dict[int, list[dict[str, Any]]]:
        """Hash-set hits of the new items, stored with them (duplicates have their item's)."""
        lookup = self.job._lookup
        if lookup is None:
            return {}
        items = [
            hashset_match.ItemHashes(row["id"], row["md5"], row["sha1"], row["sha256"])
            for row in self.items
            if row["sha256"] is not None
        ]
        hits = hashset_match.find_hits(lookup, items)
        hashset_match.insert_hits(self.session, hits, self.job._set_ids)
        return hits


@dataclass
class _Task:
    path: str
    root: str | None  # the imported folder, links resolved
    future: Future[Ingested]


# Columns of a new item that its item.added entry records as they are.
ITEM_LOGGED = (
    "size_bytes",
    "md5",
    "sha1",
    "sha256",
    "status",
    "error",
    "error_stage",
    "format",
    "width",
    "height",
    "mode",
    "frames",
    "phash",
)


def _file_times(result: Ingested) -> list[int | None]:
    return [result.mtime_ns, result.ctime_ns, result.atime_ns]


class _Workers:
    """The pool reading files, in submission order. With processes, a decoder that crashes
    (a hostile file can make a C library fail) kills only a worker: the files that were in
    flight are then read again one by one in fresh processes, the one that crashes again
    becomes an error item, and the import goes on. A file still not done after
    FILE_TIMEOUT_S becomes an error item too: its process is killed, or its thread is
    abandoned and the files queued behind it go to a fresh pool of threads.

    Once the import stops early (cancel, Ctrl-C), files not started are dropped and those
    still running after the grace period are abandoned: the next run reads them."""

    def __init__(self, factory: Callable[[], Executor], cancel: CancelToken) -> None:
        self._factory = factory
        self._pool = factory()
        self._cancel = cancel
        self._in_flight: deque[_Task] = deque()
        self._stop_at: float | None = None  # stopping early: give up waiting at this time
        self._abandoned = False  # work was given up on while still running

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        # Waiting for abandoned work could take forever: threads left on it are daemons.
        wait = not self._abandoned and kind is None
        if not wait and isinstance(self._pool, ProcessPoolExecutor):
            _kill_workers(self._pool)
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def __len__(self) -> int:
        return len(self._in_flight)

    def submit(self, path: str, root: str | None) -> None:
        self._in_flight.append(_Task(path, root, self._pool.submit(ingest, path, root)))

    def head_done(self) -> bool:
        return bool(self._in_flight) and self._in_flight[0].future.done()

    def stop(self, grace_s: float) -> None:
        """Stop early: drop the files not started, wait at most ``grace_s`` for the rest."""
        stop_at = time.monotonic() + grace_s
        if self._stop_at is None or stop_at < self._stop_at:
            self._stop_at = stop_at
        for task in self._in_flight:
            task.future.cancel()

    def next_result(self) -> Ingested | None:
        """The next file's result; None for a file dropped or abandoned by :meth:`stop`.
        Waits in short steps, so that a cancel is seen while a read is stuck."""
        task = self._in_flight.popleft()
        give_up_at = time.monotonic() + FILE_TIMEOUT_S
        while True:
            if self._stop_at is None and self._cancel.cancelled:
                self.stop(CANCEL_GRACE_S)
            if task.future.cancelled():
                return None
            end = give_up_at if self._stop_at is None else min(give_up_at, self._stop_at)
            try:
                return task.future.result(
                    timeout=min(WAIT_STEP_S, max(0.0, end - time.monotonic()))
                )
            except TimeoutError:
                if time.monotonic() < end:
                    continue
                if self._stop_at is not None:
                    self._abandoned = True
                    return None
                return self._timed_out(task)
            except BrokenProcessPool:
                if self._stop_at is not None:  # stopping: no time to find the crashing file
                    self._abandoned = True
                    return None
                return self._recover(task)
            except Exception as exc:  # ingest() reports file problems itself; this is a bug
                log.exception("reading %s failed", task.path)
                return failed(
                    task.path,
                    task.root,
                    f"internal error while reading the file "
                    f"({type(exc).__name__}); details in the log file",
                )

    def _timed_out(self, task: _Task) -> Ingested:
        log.error("reading %s took longer than %s s; given up", task.path, FILE_TIMEOUT_S)
        if isinstance(self._pool, ProcessPoolExecutor):
            _kill_workers(self._pool)
            return self._recover(task, stalled=True)
        self._abandoned = True
        self._replace_threads()
        return failed(
            task.path,
            task.root,
            f"reading the file took longer than {FILE_TIMEOUT_S:g} s and was given up "
            "(an unresponsive device or file system, or a file crafted to stall the "
            "decoder)",
        )

    def _replace_threads(self) -> None:
        """A fresh pool of threads for the files not started yet; the stuck thread and any
        busy ones finish (or not) on the old pool, which takes no more work."""
        old, self._pool = self._pool, self._factory()
        for task in self._in_flight:
            if task.future.cancel():
                task.future = self._pool.submit(ingest, task.path, task.root)
        old.shutdown(wait=False)

    def _recover(self, first: _Task, stalled: bool = False) -> Ingested:
        pending = [first, *self._in_flight]
        self._in_flight.clear()
        self._pool.shutdown(wait=False, cancel_futures=True)
        results = []
        for task in pending:
            if stalled and task is first:
                results.append(
                    failed(
                        task.path,
                        task.root,
                        f"reading the file took longer than "
                        f"{FILE_TIMEOUT_S:g} s and was stopped (the file may "
                        "be crafted to stall the decoder)",
                    )
                )
                continue
            solo = ProcessPoolExecutor(1, mp_context=get_context("spawn"))
            try:
                results.append(
                    solo.submit(ingest, task.path, task.root).result(timeout=FILE_TIMEOUT_S)
                )
            except TimeoutError:
                _kill_workers(solo)
                results.append(
                    failed(
                        task.path,
                        task.root,
                        f"reading the file took longer than {FILE_TIMEOUT_S:g} s and was stopped",
                    )
                )
            except BrokenProcessPool:
                log.error("the decoder crashed on %s", task.path)
                results.append(
                    failed(
                        task.path,
                        task.root,
                        "the image decoder crashed on this file "
                        "(a decoding library failed; the file may be damaged "
                        "or crafted)",
                    )
                )
            finally:
                solo.shutdown(wait=False, cancel_futures=True)
        self._pool = self._factory()
        for task, result in zip(pending[1:], results[1:], strict=True):
            done: Future[Ingested] = Future()
            done.set_result(result)
            self._in_flight.append(_Task(task.path, task.root, done))
        return results[0]


def _kill_workers(pool: Executor) -> None:
    """Stop a process pool's workers now (a stalled decoder does not return by itself)."""
    for process in list(getattr(pool, "_processes", {}).values()):
        with contextlib.suppress(Exception):
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
