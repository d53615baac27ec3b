"""The open case as a front end drives it, without Qt: the case (open, create, close,
read-only or not), the selection, review operations on it, one running job at a time,
the loaded detector, the settings, and what changed.

Every operation returns or announces a :class:`Changes`; subscribers (plain callbacks)
get each one on the thread that owns the session. Jobs run on a worker thread through
the session's :class:`JobRunner`, which hands their events back on the owner's thread: the
session's state is only ever touched there. The loaded detector follows that rule too:
the job that needs it is given the one kept here (or loads one and returns it), and the
session keeps what the job returned.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from opensight_desktop import present
from opensight_desktop.case import audit, review, triage
from opensight_desktop.case.review import UndoResult
from opensight_desktop.case.store import Case
from opensight_desktop.case.views import HeatmapView, ItemView
from opensight_desktop.detector.store import ModelStore, StoredModel
from opensight_desktop.errors import UsageError
from opensight_desktop.progress import Progress, Stored
from opensight_desktop.session import reads
from opensight_desktop.session.changes import NOTHING, Changes
from opensight_desktop.session.jobs import (
    Job,
    JobContext,
    JobEvent,
    JobEventKind,
    JobEvents,
    JobKind,
    JobRunner,
    Outcome,
    ThreadRunner,
)
from opensight_desktop.settings import Settings, load_settings, save_settings
from opensight_desktop.textsafe import visible

log = logging.getLogger(__name__)

RECENT_LIMIT = 10
DetectorKey = tuple[str, str]  # (model id, device setting)


class JobRunning(UsageError):
    """A job was asked for while another runs: one at a time."""


class CaseSession:
    def __init__(
        self,
        runner: JobRunner | None = None,
        *,
        store: ModelStore | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.runner: JobRunner = runner or ThreadRunner()
        self.store = store or ModelStore()
        self.settings = settings or load_settings()
        self.case: Case | None = None
        self.current_item: int | None = None
        self.selected_ids: tuple[int, ...] = ()
        self.job: Job | None = None
        # Triage (issue 15): near-duplicate stacks {item id: stack id} as last computed,
        # and the ids the current filter shows (None: no filter, every item).
        self.stacks: dict[int, int] = {}
        self.stacks_collapsed = True  # a stack stands for all its items unless expanded
        self.expanded_stacks: set[int] = set()
        self.filtered_ids: tuple[int, ...] | None = None
        # The examiner making this session's changes (audit entries name them); None: each
        # case's own examiner.
        self.examiner: str | None = None
        # This case's review actions in this session, newest last (Edit > Undo).
        self.undo_stack = review.UndoStack()
        # {item id: changed | missing | unreadable}: the newest recorded integrity check's
        # findings for the items' files, until the next check.
        self.integrity: dict[int, str] = {}
        self._detector: tuple[DetectorKey, Any] | None = None  # a LoadedDetector
        self._models_installed: bool | None = None
        self._listeners: list[Callable[[Changes], None]] = []
        self._job_listeners: list[Callable[[JobEvent], None]] = []

    # == what changed ===================================================================

    def subscribe(self, listener: Callable[[Changes], None]) -> Callable[[], None]:
        """Call ``listener`` with every change; returns the call that unsubscribes."""
        self._listeners.append(listener)
        return functools.partial(self._listeners.remove, listener)

    def watch_jobs(self, listener: Callable[[JobEvent], None]) -> Callable[[], None]:
        """Call ``listener`` with what the running job says (progress, its end)."""
        self._job_listeners.append(listener)
        return functools.partial(self._job_listeners.remove, listener)

    def _notify(self, changes: Changes) -> Changes:
        if changes:
            for listener in list(self._listeners):
                listener(changes)
        return changes

    def _tell(self, event: JobEvent) -> None:
        for listener in list(self._job_listeners):
            listener(event)

    # == the case =======================================================================

    @property
    def read_only(self) -> bool:
        return self.case is not None and self.case.read_only

    @property
    def writable(self) -> bool:
        return self.case is not None and not self.case.read_only

    def open(self, path: str | Path, *, read_only: bool = False) -> Case:
        """Open a case (closing the open one first). Raises OpenSightError if it cannot be
        opened; a case that can only be read opens read-only (``case.notices()`` says why)."""
        self.close()
        return self._use(Case.open(path, read_only=read_only))

    def create(self, path: str | Path, **details: Any) -> Case:
        """Create a case file and open it, closing the open one once that worked."""
        case = Case.create(path, **details)
        try:
            self.close()
        except BaseException:
            case.close()
            raise
        return self._use(case)

    def _use(self, case: Case) -> Case:
        self.case = case
        self.current_item, self.selected_ids = None, ()
        self._forget_triage()
        self.undo_stack = review.UndoStack()
        try:
            self.integrity = reads.integrity_problems(case)
        except Exception:  # a damaged case: it opens without the marks, and verify says more
            log.exception("the recorded integrity findings could not be read")
            self.integrity = {}
        self._models_installed = None  # the store may have changed meanwhile
        recent = [str(case.path)] + [
            p for p in (self.settings.recent_cases or []) if p != str(case.path)
        ]
        self.settings.recent_cases = recent[:RECENT_LIMIT]
        self.save_settings()
        self._notify(Changes(case=True, case_details=True, selection=True, models=True))
        return case

    def close(self) -> None:
        """Close the case; a running job is cancelled and waited for first (what it
        finished is kept), and subscribers are told it is closing (``Changes.closing``)
        while it is still open."""
        if self.case is None:
            return
        self.stop_job()
        self._notify(Changes(closing=True))
        case, self.case = self.case, None
        self.current_item, self.selected_ids = None, ()
        self._forget_triage()
        self.undo_stack = review.UndoStack()
        self.integrity = {}
        try:
            case.close()
        finally:
            self._notify(Changes(case=True, case_details=True, selection=True))

    def _open_case(self) -> Case:
        if self.case is None:
            raise UsageError("no case is open")
        return self.case

    def _writable_case(self, action: str) -> Case:
        case = self._open_case()
        case.require_writable(action)
        return case

    # == reads ==========================================================================

    def item(self, item_id: int) -> tuple[ItemView | None, HeatmapView | None]:
        """One item as shown in full, with its current heatmap (None: no such item)."""
        return reads.item_view(self._open_case(), item_id)

    def audit_log(self) -> reads.AuditLog:
        return reads.audit_log(self._open_case())

    # == selection ======================================================================

    def select(self, current: int | None, selected: Iterable[int] = ()) -> Changes:
        """The item shown, and the items selected (what review and "selected" act on)."""
        selected = tuple(selected)
        if (current, selected) == (self.current_item, self.selected_ids):
            return NOTHING
        self.current_item, self.selected_ids = current, selected
        return self._notify(Changes(selection=True))

    def targets(self) -> list[int]:
        """The selected items, else the current one."""
        if self.selected_ids:
            return list(self.selected_ids)
        return [] if self.current_item is None else [self.current_item]

    def _item_or_current(self, item_id: int | None) -> int:
        item = self.current_item if item_id is None else item_id
        if item is None:
            raise UsageError("no item is selected")
        return item

    # == review =========================================================================
    # Every review change goes through :meth:`review`: one audit entry per action, and
    # each action can be taken back (:meth:`undo`).

    def set_examiner(self, name: str | None) -> None:
        """The examiner the audit entries of this session's changes name; None or blank:
        each case's own examiner."""
        self.examiner = " ".join((name or "").split()) or None
        audit.set_acting_examiner(self.examiner)

    def review(
        self,
        item_ids: Iterable[int] | None = None,
        *,
        state: str | None = None,
        add_tags: list[str] | None = None,
        remove_tags: list[str] | None = None,
        notes: str | None = None,
        category: int | str | None = "keep",
    ) -> Changes:
        """One review action on ``item_ids``, else the selection: a state, tags added or
        removed, the notes replaced, a VICS category (None clears it; the default keeps
        it). Audit-logged once; undone by :meth:`undo`."""
        case = self._writable_case("change the review")
        ids = self.targets() if item_ids is None else list(item_ids)
        if not ids:
            return NOTHING
        action = review.bulk_review(
            case,
            ids,
            state=state,
            add_tags=add_tags,
            remove_tags=remove_tags,
            notes=notes,
            category=category,
        )
        if action is None:
            return NOTHING
        self.undo_stack.push(action)
        return self._notify(Changes.of_items(action.items))

    def set_review_state(self, state: str, item_ids: Iterable[int] | None = None) -> Changes:
        """On ``item_ids``, else the selection."""
        return self.review(item_ids, state=state)

    def set_tags(self, tags: list[str], item_id: int | None = None) -> Changes:
        """The tags of the item (else the current one) as typed. What was typed differently
        from its tags (added, removed) is done to every selected item when it is one of
        them, as review states are."""
        item = self._item_or_current(item_id)
        case = self._writable_case("change tags")
        rows = reads.item_rows(case, [item])
        if not rows:
            raise UsageError(f"there is no item {item} in this case")
        current = list(rows[0].tags)
        wanted = review.normalise_tags(tags)
        added = [tag for tag in wanted if tag not in current]
        removed = [tag for tag in current if tag not in wanted]
        if not added and not removed:
            return NOTHING
        ids = self.selected_ids if item in self.selected_ids else (item,)
        return self.review(ids, add_tags=added, remove_tags=removed)

    def set_notes(self, notes: str, item_id: int | None = None) -> Changes:
        return self.review([self._item_or_current(item_id)], notes=notes)

    @property
    def undo_text(self) -> str | None:
        """What :meth:`undo` would take back ("review state Follow up on 3 items")."""
        action = self.undo_stack.peek()
        return action.description if action is not None else None

    def undo(self) -> UndoResult | None:
        """Take back the newest review action of this session (audit-logged as an undo);
        items changed again since are kept as they are. None: nothing to undo."""
        case = self._writable_case("undo a review change")
        result = self.undo_stack.undo(case)
        if result is None:
            return None
        self._notify(Changes.of_items(result.undone))
        return result

    # == what the window shows about items =================================================

    def containing_folder(self, item_id: int | None = None) -> Path:
        """The folder that holds the item's file (its first recorded path): what "open
        containing folder" shows, never the file itself (opening evidence runs programs)."""
        item, _heatmap = self.item(self._item_or_current(item_id))
        if item is None or not item.locations:
            raise UsageError("the item has no recorded file path")
        return Path(os.fsdecode(item.locations[0].path_raw)).parent

    def hash_lines(self, item_ids: Iterable[int] | None = None) -> str:
        """The items' file names with MD5, SHA-1 and SHA-256, one line each (to copy)."""
        case = self._open_case()
        ids = self.targets() if item_ids is None else list(item_ids)
        lines = []
        for item_id in ids:
            item, _heatmap = reads.item_view(case, item_id)
            if item is None:
                continue
            lines.append(f"{visible(item.file_name or present.UNKNOWN)} (item {item.id})")
            for name, value in (("MD5", item.md5), ("SHA-1", item.sha1), ("SHA-256", item.sha256)):
                lines.append(f"{name}: {value or 'not computed (unreadable at import)'}")
        return "\n".join(lines)

    # == triage: stacks, filters, bulk review ===========================================

    def _forget_triage(self) -> None:
        self.stacks, self.filtered_ids = {}, None
        self.stacks_collapsed, self.expanded_stacks = True, set()

    def collapse_stacks(self, collapsed: bool) -> None:
        self.stacks_collapsed = collapsed
        self.expanded_stacks.clear()

    def expand_stack(self, stack: int, expanded: bool) -> None:
        if expanded:
            self.expanded_stacks.add(stack)
        else:
            self.expanded_stacks.discard(stack)

    def stack_targets(self) -> list[int]:
        """The targets (``targets()``), each one that stands for a collapsed stack
        replaced by all the items of its stack: what a review key acts on."""
        ids = set(self.targets())
        closed = {
            stack
            for stack in (self.stacks.get(item_id) for item_id in ids)
            if stack is not None and self.stacks_collapsed and stack not in self.expanded_stacks
        }
        if closed:  # one pass over the stacks, however many are selected
            ids.update(item_id for item_id, stack in self.stacks.items() if stack in closed)
        return sorted(ids)

    def set_stacks(self, stacks: dict[int, int]) -> None:
        """The near-duplicate stacks as computed (``reads.stacks``, off the GUI thread)."""
        self.stacks = dict(stacks)

    def stack_members(self, item_id: int) -> list[int]:
        """The items of this item's stack, in id order (just the item when in none)."""
        stack = self.stacks.get(item_id)
        if stack is None:
            return [item_id]
        return sorted(i for i, s in self.stacks.items() if s == stack)

    def set_filtered(self, ids: Iterable[int] | None) -> None:
        """The items the current filter shows (None: no filter): what "report on the
        current filter" reports on."""
        self.filtered_ids = None if ids is None else tuple(sorted(ids))

    def bulk_review(
        self,
        item_ids: Iterable[int],
        *,
        state: str | None = None,
        category: int | str | None = "keep",
    ) -> Changes:
        """A review state and/or VICS category on these items at once (:meth:`review`)."""
        ids = sorted(set(item_ids))
        return self.review(ids, state=state, category=category) if ids else NOTHING

    # == jobs ===========================================================================

    def import_paths(self, paths: Sequence[str]) -> Job:
        case = self._writable_case("import into it")
        self._require_idle()
        paths = list(paths)

        def work(context: JobContext) -> Any:
            # imported here, on the worker thread: loading the readers' modules takes time
            from opensight_desktop.pipeline.import_job import ImportJob

            return ImportJob(
                case,
                paths,
                progress=context.progress,
                cancel=context.cancel,
                progress_interval=0.25,
                stored=context.stored,
            ).run()

        return self._start(JobKind.IMPORT, "Import", work, _case_details)

    def analyse(self, item_ids: Sequence[int] | None = None) -> Job:
        """Analyse ``item_ids``, else every item without a result from the active model."""
        case = self._writable_case("analyse its items")
        self._require_idle()
        key, load = self._detector_loader()
        settings = self.settings
        bands, batch_size, heatmaps = settings.bands(), settings.batch_size, settings.heatmaps
        ids = None if item_ids is None else list(item_ids)
        cluster = settings.cluster_config()
        if cluster is not None:
            from opensight_desktop.cluster_config import require_ray

            require_ray()

        def work(context: JobContext) -> Any:
            from opensight_desktop.pipeline.analyze_job import AnalysisJob, ResultSource

            detector = load(context)
            source: ResultSource | None = None
            if cluster is not None:
                from opensight_desktop.pipeline.cluster.source import ClusterSource

                source = ClusterSource(cluster, detector, heatmaps=heatmaps, batch_size=batch_size)
                context.message(f"Analysing on the Ray cluster at {cluster.address}...")
            else:
                context.message(f"Analysing on {detector.record()['device_description']}...")
            summary = AnalysisJob(
                case,
                detector,
                bands=bands,
                batch_size=batch_size,
                heatmaps=heatmaps,
                item_ids=ids,
                progress=context.progress,
                cancel=context.cancel,
                progress_interval=0.25,
                stored=context.stored,
                source=source,
            ).run()
            return detector, summary

        return self._start(
            JobKind.ANALYSIS, "Analysis", work, self._keeping_detector(key), _weights_note(key)
        )

    def tile_scan(self, item_id: int | None = None) -> Job:
        """Scan the item (else the current one) in tiles at full resolution; stored."""
        item = self._item_or_current(item_id)
        case = self._writable_case("store a tile scan")
        self._require_idle()
        key, load = self._detector_loader()

        def work(context: JobContext) -> Any:
            from opensight_desktop.pipeline.tile_scan_job import TileScanJob

            detector = load(context)
            result = TileScanJob(
                case, detector, item, progress=context.progress, cancel=context.cancel
            ).run()
            return detector, result

        return self._start(
            JobKind.TILE_SCAN, "Tile scan", work, self._keeping_detector(key), _weights_note(key)
        )

    def verify(self) -> Job:
        case = self._open_case()

        def work(context: JobContext) -> Any:
            from opensight_desktop.case.integrity import verify_case

            return verify_case(case, progress=context.progress, cancel=context.cancel)

        def finish(report: Any) -> tuple[Any, Changes]:
            from opensight_desktop.case.integrity import problem_items

            if not report.cancelled:  # a partial check does not clear earlier findings
                self.integrity = problem_items(report)
            return report, Changes(case_details=True, integrity=True)

        return self._start(JobKind.VERIFY, "Integrity check", work, finish)

    def verify_report(self, path: str) -> Job:
        """Is this PDF a report the case recorded? The result is a ReportCheck
        (``report.verification.describe`` says it in words). Nothing is written."""
        case = self._open_case()

        def work(_context: JobContext) -> Any:
            from opensight_desktop.report.verification import verify_report

            return verify_report(case, path)

        return self._start(JobKind.REPORT_CHECK, "Report check", work, None)

    def report(
        self,
        path: str,
        scope: str,
        selected: Sequence[int] = (),
        appendix: bool = True,
        *,
        review_states: Sequence[str] | None = None,
        only: Sequence[int] | None = None,
    ) -> Job:
        """A PDF report of the items of ``scope`` (all, flagged, reviewed, summary: no item
        pages, or ``selected``), narrowed to ``review_states`` and to the items ``only``
        names (the list's filter) when given."""
        case = self._open_case()
        if scope == "selected":
            item_ids: list[int] | None = list(selected)
        elif only is not None:
            if not only:
                raise UsageError("the current filter shows no items: there is nothing to report")
            item_ids = list(only)
        else:
            item_ids = None
        states = list(review_states) if review_states else None

        def work(context: JobContext) -> Any:
            from opensight_desktop.report.pdf import ReportBuilder, ReportOptions

            options = ReportOptions(
                scope=scope, item_ids=item_ids, audit_appendix=appendix, review_states=states
            )
            builder = ReportBuilder(case, options, progress=context.progress, cancel=context.cancel)
            return builder.write(path)

        return self._start(JobKind.REPORT, "Report", work, _case_details)

    def export(self, fmt: str, path: str) -> Job:
        """The case as JSON or CSV; the result is (path, number of items)."""
        case = self._open_case()

        def work(_context: JobContext) -> Any:
            from opensight_desktop.report.export import export_case

            return path, export_case(case, fmt, path)

        return self._start(JobKind.EXPORT, f"Export {fmt.upper()}", work, _case_details)

    def import_model(self, path: str) -> Job:
        """Check and copy detector weights into the model store; the result is
        (StoredModel, whether it was new)."""
        store = self.store

        def work(context: JobContext) -> Any:
            context.message("Checking and copying the model (loads PyTorch the first time)...")
            return store.import_path(path)

        return self._start(JobKind.MODEL_IMPORT, "Model import", work, self._model_added)

    def download_model(self) -> Job:
        """Fetch the authors' weights from the Hugging Face Hub (the network: ask first)."""
        store = self.store

        def work(context: JobContext) -> Any:
            context.message("Downloading from huggingface.co...")
            return store.download()

        return self._start(JobKind.MODEL_DOWNLOAD, "Model download", work, self._model_added)

    def import_hashset(self, path: str, name: str, kind: str, fmt: str = "auto") -> Job:
        """Import a hash-set file into the store shared by all cases; the result is its
        ``HashSetInfo``. Cancelling stops it and adds nothing."""
        from opensight_desktop.hashsets.store import check_name

        check_name(name)  # said at once, before any work

        def work(context: JobContext) -> Any:
            from opensight_desktop.errors import Cancelled
            from opensight_desktop.hashsets.store import import_set

            started = time.monotonic()

            def progress(entries: int) -> None:
                if context.cancel.cancelled:  # import_set removes its partial file
                    raise Cancelled("hash-set import cancelled; no set was added")
                elapsed = time.monotonic() - started
                context.progress(Progress("hashset-import", entries, None, elapsed, "entries"))

            return import_set(path, name, kind, fmt, progress)

        return self._start(JobKind.HASHSET_IMPORT, "Hash-set import", work, _hashsets_changed)

    def remove_hashset(self, name: str) -> Changes:
        """Remove a set from the store (cases keep their recorded hits until matched again)."""
        from opensight_desktop.hashsets.store import remove_set

        self._require_idle()  # a running import or match may be reading the store
        remove_set(name)
        return self._notify(Changes(hashsets=True))

    def match_hashsets(self) -> Job:
        """Match the case against every hash set (perceptual hashes filled in first); the
        result is the ``MatchSummary``. Every item's row is read again afterwards."""
        case = self._writable_case("match it against hash sets")
        self._require_idle()

        def work(context: JobContext) -> Any:
            from opensight_desktop.pipeline.match_job import MatchJob

            summary = MatchJob(case, progress=context.progress, cancel=context.cancel).run()
            return summary, reads.filter_ids(case, triage.Filter())

        def finish(result: tuple[Any, list[int]]) -> tuple[Any, Changes]:
            summary, ids = result
            return summary, Changes.of_items(ids)

        return self._start(JobKind.MATCH, "Hash-set match", work, finish)

    def cancel_job(self) -> bool:
        """Ask the running job to stop at its next check; what it finished is kept."""
        if self.job is None:
            return False
        self.job.cancel()
        return True

    def wait_for_job(self) -> None:
        """Block until the running job has ended and its events were delivered."""
        if self.job is not None:
            self.runner.wait(self.job)

    def stop_job(self) -> None:
        """Cancel the running job and wait for it (closing, quitting)."""
        if self.job is not None:
            self.job.cancel()
            self.wait_for_job()

    def _require_idle(self) -> None:
        if self.job is not None:
            raise JobRunning(f"'{self.job.name}' is running: wait for it to finish, or cancel it")

    def _start(
        self,
        kind: JobKind,
        name: str,
        work: Callable[[JobContext], Any],
        finish: Callable[[Any], tuple[Any, Changes]] | None,
        note: str = "",
    ) -> Job:
        self._require_idle()
        job = Job(kind, name, work, finish, note=note)
        events = JobEvents(
            progress=functools.partial(self._job_progress, job),
            message=functools.partial(self._job_message, job),
            stored=functools.partial(self._job_stored, job),
            ended=functools.partial(self._job_ended, job),
        )
        self.job = job
        try:
            self.runner.start(job, events)
        except BaseException:
            self.job = None
            raise
        self._tell(JobEvent(JobEventKind.STARTED, job))
        self._notify(Changes(job=True))
        return job

    def _job_progress(self, job: Job, progress: Progress) -> None:
        self._tell(JobEvent(JobEventKind.PROGRESS, job, progress=progress))

    def _job_message(self, job: Job, text: str) -> None:
        self._tell(JobEvent(JobEventKind.MESSAGE, job, text=text))

    def _job_stored(self, job: Job, stored: Stored) -> None:
        results = job.kind == JobKind.ANALYSIS  # its batches store results (or errors)
        self._notify(Changes.of_items(stored.changed, added=stored.added, results=results))

    def _job_ended(self, job: Job, outcome: Outcome) -> None:
        result, error = outcome.result, outcome.error
        changes = Changes(job=True, case_details=self.case is not None)
        if error is None and outcome.cancelled is None and job.finish is not None:
            try:
                result, more = job.finish(result)
                changes |= more
            except Exception as exc:  # a bug; the job still ends, and says so
                error = job.bug(exc)
        if self.job is job:
            self.job = None
        self._notify(changes)
        if outcome.cancelled is not None:
            self._tell(JobEvent(JobEventKind.CANCELLED, job, text=outcome.cancelled))
        elif error is None:
            self._tell(JobEvent(JobEventKind.SUCCEEDED, job, result=result))
        else:
            self._tell(JobEvent(JobEventKind.FAILED, job, text=error))
        self._tell(JobEvent(JobEventKind.ENDED, job))

    # == the detector ===================================================================

    @property
    def detector_loaded(self) -> bool:
        return self._detector is not None

    def forget_detector(self) -> None:
        """Let the loaded detector go (the next analysis loads the active model again)."""
        self._detector = None

    def _detector_loader(self) -> tuple[DetectorKey, Callable[[JobContext], Any]]:
        """The key of the detector a job needs now, and how the job gets it on its thread:
        the one kept here when it matches, else loaded there (which imports torch)."""
        model = self.store.resolve(None)
        key = (model.id, self.settings.device)
        if self._detector is not None and self._detector[0] != key:
            self._detector = None  # one model in memory: let the old one go first
        kept = self._detector[1] if self._detector is not None else None
        store, device = self.store, self.settings.device

        def load(context: JobContext) -> Any:
            if kept is not None:
                return kept
            context.message(f"Loading {model.name} (the first time also loads PyTorch)...")
            return store.load(model, device)

        return key, load

    def _keeping_detector(self, key: DetectorKey) -> Callable[[Any], tuple[Any, Changes]]:
        def finish(result: tuple[Any, Any]) -> tuple[Any, Changes]:
            detector, value = result
            self._detector = (key, detector)
            return value, Changes(case_details=True)

        return finish

    # == models and settings ============================================================

    @property
    def models_installed(self) -> bool:
        if self._models_installed is None:
            self._models_installed = bool(self.store.list())
        return self._models_installed

    def set_active_model(self, model: StoredModel) -> Changes:
        self.store.set_active(model)
        self.settings.active_model = model.id
        return self.models_changed()

    def models_changed(self) -> Changes:
        """The model store changed (a model added, removed or made active)."""
        self._models_installed = None
        self._detector = None
        return self._notify(Changes(models=True))

    def _model_added(self, result: tuple[StoredModel, bool]) -> tuple[Any, Changes]:
        self._models_installed = None
        self._detector = None
        return result, Changes(models=True)

    def apply_settings(self) -> Changes:
        """Save ``settings`` after a change; the detector is loaded again for the next job
        (the device may have changed)."""
        self.save_settings()
        self._detector = None
        return self._notify(Changes(settings=True))

    def save_settings(self) -> None:
        """Write the settings this session changes; the active model stays as the store set
        it (``model use`` in another process may have changed it)."""
        stored = load_settings()
        for name in (
            "device",
            "batch_size",
            "heatmaps",
            "likely_generated",
            "likely_real",
            "recent_cases",
            "vics_categories",
        ):
            setattr(stored, name, getattr(self.settings, name))
        try:
            save_settings(stored)
        except OSError as exc:
            log.warning("settings not saved: %s", exc)
        self.settings.active_model = stored.active_model


def _hashsets_changed(result: Any) -> tuple[Any, Changes]:
    return result, Changes(hashsets=True)


def _weights_note(key: DetectorKey) -> str:
    """Which published release the weights of an analysis are, or that they match none."""
    return f"weights: {present.release_text(key[0])}"


def _case_details(result: Any) -> tuple[Any, Changes]:
    return result, Changes(case_details=True)
