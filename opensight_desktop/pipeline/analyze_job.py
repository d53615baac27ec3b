"""Batched detector runs over a case.

Decoding and exact preprocessing run on a thread pool ahead of the model, bounded so
memory stays flat; the thread calling :meth:`AnalysisJob.run` (a worker thread in both
front ends) runs the model and writes each batch's results in one transaction. Items
that already have a result from this model are not redone, so a cancelled or killed run
is resumed simply by running again. Each original is re-hashed as it is read: a file
that changed or vanished since import is recorded as an error, never analysed.

A logit or heatmap with NaN or infinity is never stored as a score: those items become
analysis errors and the run stops ("failed"), since weights that produce such a value
(genuine ones never do: they are refused at load if they hold one) cannot be relied on.

Where the scores are computed is a :class:`ResultSource`: by default this process (a
thread pool and the model here); ``pipeline.cluster`` computes them on a Ray cluster. Either
way this job is the one writer: results are written here, in the same transactions with the
same audit entries. A result for an item that already has one from this model (a retried
task delivered twice) is dropped before it is written, so each item ends with exactly one.
"""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from sqlalchemy import exists, insert, or_, select, update
from sqlalchemy.orm import Session

from opensight_desktop.case import audit, digests
from opensight_desktop.case.models import (
    AnalysisRun,
    DetectionResult,
    EvidenceFile,
    EvidenceItem,
)
from opensight_desktop.case.states import ErrorStage, ItemStatus, RunState
from opensight_desktop.case.store import Case
from opensight_desktop.detector.geometry import Geometry
from opensight_desktop.detector.heatmap import HEATMAP_METHOD, encode_cam
from opensight_desktop.detector.model import (
    NON_FINITE_REASON,
    PRECISION,
    LoadedDetector,
    library_versions,
    probability,
)
from opensight_desktop.detector.preprocess import Preprocessing, to_model_input
from opensight_desktop.detector.verdict import Bands, Verdict
from opensight_desktop.evidence.decode import DecodeError, reason_for
from opensight_desktop.pipeline.evidence_pixels import load_evidence_rgb
from opensight_desktop.pipeline.provenance import register_model
from opensight_desktop.pipeline.runs import ANALYSIS, ERROR_EXAMPLES, RecordedRun, RunSummary
from opensight_desktop.progress import CancelToken, ProgressCallback, Stored, StoredCallback
from opensight_desktop.timeutil import iso_utc, utc_now


@dataclass(frozen=True)
class Prepared:
    item_id: int
    tensor: torch.Tensor | None = None
    geometry: Geometry | None = None
    error: str | None = None


Candidate = tuple[int, str, list[bytes]]  # item id, SHA-256 as imported, recorded paths


@dataclass(frozen=True)
class Producer:
    """Where a result was computed, when not by this run's own detector (a cluster node):
    its device and versions are stored with the result and logged in its entry."""

    node: str  # host name
    device: str  # e.g. "cpu", "cuda:0"
    versions: dict[str, str]  # library versions, device_description and node


@dataclass(frozen=True)
class Computed:
    """One item's outcome, ready for the writer: a logit (and heatmap), or an error."""

    item_id: int
    logit: float | None = None
    cam: np.ndarray | None = None
    geometry: Geometry | None = None
    error: str | None = None
    producer: Producer | None = None  # None: this process's detector


class ResultSource(Protocol):
    """Computes the results of a run somewhere other than here (``pipeline.cluster``)."""

    @property
    def device(self) -> str:
        """What the run records as its device (at most 64 characters)."""
        ...

    def settings(self) -> dict[str, Any]:
        """Added to the run's recorded settings (where it ran)."""
        ...

    def batches(self, todo: list[Candidate], cancel: CancelToken) -> Iterator[list[Computed]]:
        """Outcomes for ``todo``, batch by batch as they arrive; stops soon after a cancel.
        Raises an OpenSightError when it cannot go on (what was yielded is kept)."""
        ...


@dataclass
class AnalysisSummary(RunSummary):
    run_id: int
    device: str
    model_name: str
    total: int = 0
    analyzed: int = 0
    errors: int = 0
    first_result_s: float | None = None
    verdicts: Counter[Verdict] = field(default_factory=Counter)
    error_examples: list[tuple[int, str]] = field(default_factory=list)
    stopped: str | None = None  # why the run stopped before its end (state "failed")


def prepare(item_id: int, sha256: str, paths: list[bytes], spec: Preprocessing) -> Prepared:
    """Read, verify against the recorded SHA-256, decode and preprocess one item (also
    what a cluster node runs, on the paths as that node sees them)."""
    try:
        rgb = load_evidence_rgb(sha256, paths)
        tensor, geometry = to_model_input(rgb, spec)
        return Prepared(item_id, tensor, geometry)
    except FileNotFoundError as exc:
        return Prepared(item_id, error=f"evidence not usable: {exc}")
    except DecodeError as exc:
        return Prepared(item_id, error=str(exc))
    except (ValueError, OSError, MemoryError) as exc:
        return Prepared(item_id, error=reason_for(exc))


def compute(detector: LoadedDetector, prepared: list[Prepared], heatmaps: bool) -> list[Computed]:
    """The model over one batch of prepared items (here, or on a cluster node)."""
    good = [p for p in prepared if p.tensor is not None]
    outcome: dict[int, Computed] = {}
    if good:
        batch = torch.stack([p.tensor for p in good if p.tensor is not None])
        values, cams = detector.predict(batch, heatmaps)
        for index, item in enumerate(good):
            cam = cams[index] if cams is not None else None
            outcome[item.item_id] = Computed(item.item_id, float(values[index]), cam, item.geometry)
    return [outcome.get(p.item_id) or Computed(p.item_id, error=p.error) for p in prepared]


class AnalysisJob:
    def __init__(
        self,
        case: Case,
        detector: LoadedDetector,
        *,
        bands: Bands | None = None,
        batch_size: int = 8,
        heatmaps: bool = True,
        item_ids: list[int] | None = None,
        workers: int | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        progress_interval: float = 0.2,
        stored: StoredCallback | None = None,
        source: ResultSource | None = None,
    ) -> None:
        self.case = case
        self.detector = detector
        self.bands = bands or Bands()
        self.batch_size = max(1, batch_size)
        self.heatmaps = heatmaps
        self.item_ids = item_ids
        self.workers = workers or max(1, min(8, os.cpu_count() or 1))
        self._run = RecordedRun(case, ANALYSIS, progress, cancel, progress_interval)
        self.cancel = self._run.cancel
        self._stored = stored  # told after each committed batch
        self._versions = {**library_versions(), "node": audit.current_host()}
        self._model_row_id = 0
        self._source = source
        self._written: set[int] = set()  # items given a result by this run

    # -- public --------------------------------------------------------------------------

    def run(self) -> AnalysisSummary:
        identity = self.detector.identity
        self.summary = AnalysisSummary(0, self._device, identity.name)
        self.summary.run_id = self._start()
        todo = self._candidates()
        self.summary.total = len(todo)
        self._report(force=True)
        with self._run.ending_on_error(self._finish):
            if todo:
                source = self._source
                batches = source.batches(todo, self.cancel) if source else self._local(todo)
                try:
                    for batch in batches:
                        self._store(batch)
                        if self._halted:
                            break
                finally:
                    close = getattr(batches, "close", None)
                    if close is not None:
                        close()  # a generator left early tidies up (pool, cluster driver)
        self._finish(self._run.end_state(failed=self.summary.stopped is not None))
        return self.summary

    @property
    def _device(self) -> str:
        return self._source.device if self._source else self.detector.device_label

    def _local(self, todo: list[Candidate]) -> Iterator[list[Computed]]:
        """Decode ahead on a thread pool, run the model here, batch by batch."""
        spec = self.detector.preprocessing
        in_flight: deque[Future[Prepared]] = deque()
        ready: list[Prepared] = []
        limit = 2 * self.batch_size + self.workers
        with ThreadPoolExecutor(self.workers, thread_name_prefix="decode") as pool:
            pending = iter(todo)
            try:
                while True:
                    while len(in_flight) < limit and not self._halted:
                        entry = next(pending, None)
                        if entry is None:
                            break
                        in_flight.append(pool.submit(prepare, *entry, spec))
                    if not in_flight:
                        break
                    ready.append(in_flight.popleft().result())
                    if len(ready) >= self.batch_size or not in_flight:
                        yield compute(self.detector, ready, self.heatmaps)
                        ready = []
                    if self._halted:
                        break
            finally:
                for future in in_flight:
                    future.cancel()
        if ready and not self._halted:
            yield compute(self.detector, ready, self.heatmaps)

    @property
    def _halted(self) -> bool:
        return self.cancel.cancelled or self.summary.stopped is not None

    # -- steps ---------------------------------------------------------------------------

    def _start(self) -> int:
        with self.case.write() as session:
            model = register_model(session, self.detector)
            self._model_row_id = model.id
            run = AnalysisRun(
                model_id=model.id,
                device=self._device,
                settings=self._settings_record(),
            )
            # What the run's results share is logged once, here (case.replay compares it).
            return self._run.start(
                session,
                run,
                {
                    "model_sha256": self.detector.identity.id,
                    **self._settings_record(),
                    **self._shared_result_fields(),
                },
            )

    def _shared_result_fields(self) -> dict[str, Any]:
        """Columns every result of this run has alike: stored with each result, logged once
        by ``analysis.started``. Both take them from here, so they cannot differ."""
        record = self.detector.record()
        return {
            "thresholds": self.bands.record(),
            # the identity covers every file that affects a score (weights, configs)
            "preprocessing": {
                **self.detector.preprocessing.as_record(),
                "model_identity_sha256": self.detector.identity.identity_sha256,
            },
            "device": record["device"],
            "precision": PRECISION,
            "versions": {**self._versions, "device_description": record["device_description"]},
        }

    def _settings_record(self) -> dict[str, Any]:
        return {
            "batch_size": self.batch_size,
            "heatmaps": self.heatmaps,
            "device": self._device,
            "precision": PRECISION,
            "thresholds": self.bands.record(),
            "item_ids": self.item_ids,
            **(self._source.settings() if self._source else {}),
        }

    def _candidates(self) -> list[Candidate]:
        """Items without a result from this model (import errors excepted), with paths."""
        done = exists().where(
            DetectionResult.item_id == EvidenceItem.id,
            DetectionResult.model_id == self._model_row_id,
        )
        query = (
            select(EvidenceItem.id, EvidenceItem.sha256)
            .where(
                or_(
                    EvidenceItem.status.in_([ItemStatus.IMPORTED, ItemStatus.ANALYZED]),
                    (EvidenceItem.status == ItemStatus.ERROR)
                    & (EvidenceItem.error_stage == ErrorStage.ANALYSIS),
                ),
                EvidenceItem.sha256.is_not(None),
                ~done,
            )
            .order_by(EvidenceItem.id)
        )
        if self.item_ids is not None:
            query = query.where(EvidenceItem.id.in_(self.item_ids))
        with self.case.read() as session:
            # sha256 IS NOT NULL in the query; the filter tells the type checker
            items = [(item_id, sha) for item_id, sha in session.execute(query) if sha is not None]
            paths: dict[int, list[bytes]] = {}
            for item_id, path_raw in session.execute(
                select(EvidenceFile.item_id, EvidenceFile.path_raw).order_by(EvidenceFile.id)
            ):
                paths.setdefault(item_id, []).append(path_raw)
        return [(item_id, sha, paths.get(item_id, [])) for item_id, sha in items]

    def _store(self, batch: list[Computed]) -> None:
        """Check and write one batch of outcomes (in one transaction), then report."""
        checked = []
        for item in batch:
            if item.logit is not None and not _finite(item):
                self.summary.stopped = NON_FINITE_REASON
                item = Computed(item.item_id, error=NON_FINITE_REASON, producer=item.producer)
            checked.append(item)
        written = self._write(checked)
        if self._stored is not None and written:
            self._stored(Stored(changed=tuple(written)))
        if self.summary.first_result_s is None and written:
            self.summary.first_result_s = self._run.elapsed()
        self._report()

    def _write(self, batch: list[Computed]) -> list[int]:
        """Write a batch; returns the items written. Exactly once: an item this run already
        wrote, or that has a result from this model, is dropped here (a retried task)."""
        now = utc_now()
        identity = self.detector.identity
        shared = self._shared_result_fields()
        with self.case.write() as session:
            ids = [c.item_id for c in batch]
            done = set(self._written) | set(
                session.scalars(
                    select(DetectionResult.item_id).where(
                        DetectionResult.model_id == self._model_row_id,
                        DetectionResult.item_id.in_(ids),
                    )
                )
            )
            fresh: list[Computed] = []
            for item in batch:
                if item.item_id not in done:
                    done.add(item.item_id)
                    fresh.append(item)
            good = [c for c in fresh if c.logit is not None]
            chain = audit.ChainWriter(session)
            rows = []
            for item in good:
                assert item.logit is not None
                logit = item.logit
                p = probability(logit)
                verdict = self.bands.verdict(p)
                geometry = item.geometry.as_record() if item.geometry else None
                heatmap = encode_cam(item.cam) if item.cam is not None else None
                heatmap_geometry = (
                    {**geometry, "grid": list(item.cam.shape), "method": HEATMAP_METHOD}
                    if item.cam is not None and geometry
                    else geometry
                )
                # a node's own device and versions, stored and logged with its result
                where = (
                    {"device": item.producer.device, "versions": item.producer.versions}
                    if item.producer
                    else {}
                )
                rows.append(
                    {
                        "item_id": item.item_id,
                        "model_id": self._model_row_id,
                        "probability": p,
                        "logit": logit,
                        "verdict": verdict,
                        **shared,
                        **where,
                        "analyzed_utc": now,
                        "analysis_run_id": self.summary.run_id,
                        "heatmap": heatmap,
                        "heatmap_geometry": heatmap_geometry,
                    }
                )
                self.summary.analyzed += 1
                self.summary.verdicts[verdict] += 1
                chain.add(
                    "item.analyzed",
                    {
                        "probability": p,
                        "logit": logit,
                        "verdict": verdict,
                        "model_sha256": identity.id,
                        "run": self.summary.run_id,
                        "analyzed_utc": iso_utc(now),
                        "heatmap_sha256": digests.heatmap_digest(heatmap, heatmap_geometry),
                        **where,
                    },
                    item_id=item.item_id,
                )
            if rows:
                session.execute(insert(DetectionResult), rows)
                session.execute(
                    update(EvidenceItem)
                    .where(EvidenceItem.id.in_([r["item_id"] for r in rows]))
                    .values(status=ItemStatus.ANALYZED, error=None, error_stage=None)
                )
            for item in fresh:
                if item.error is None:
                    continue
                self.summary.errors += 1
                if len(self.summary.error_examples) < ERROR_EXAMPLES:
                    self.summary.error_examples.append((item.item_id, item.error))
                self._mark_error(session, item)
                chain.add(
                    "item.analysis_failed",
                    {"reason": item.error, "run": self.summary.run_id},
                    item_id=item.item_id,
                )
            chain.write()
            run = session.get(AnalysisRun, self.summary.run_id)
            assert run is not None
            run.analyzed, run.errors = self.summary.analyzed, self.summary.errors
        self._written.update(c.item_id for c in fresh)
        return [c.item_id for c in fresh]

    @staticmethod
    def _mark_error(session: Session, item: Computed) -> None:
        session.execute(
            update(EvidenceItem)
            .where(EvidenceItem.id == item.item_id)
            .values(status=ItemStatus.ERROR, error=item.error, error_stage=ErrorStage.ANALYSIS)
        )

    def _finish(self, state: RunState) -> None:
        summary = self.summary
        self._run.finish(
            summary,
            state,
            {"analyzed": summary.analyzed, "errors": summary.errors},
            {
                "analyzed": summary.analyzed,
                "errors": summary.errors,
                "verdicts": dict(summary.verdicts),
                **({"reason": summary.stopped} if summary.stopped else {}),
            },
        )
        self._report(force=True)

    def _report(self, force: bool = False) -> None:
        summary = self.summary
        self._run.report(
            summary.analyzed + summary.errors,
            summary.total,
            message=summary.device,
            counts=lambda: {"analyzed": summary.analyzed, "errors": summary.errors},
            force=force,
        )


def _finite(item: Computed) -> bool:
    """The logit and (if any) the heatmap are free of NaN and infinity."""
    if item.logit is None or not np.isfinite(item.logit):
        return False
    return item.cam is None or bool(np.isfinite(item.cam).all())
