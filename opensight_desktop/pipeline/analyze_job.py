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
"""

from __future__ import annotations

import os
from collections import Counter, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

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
    finite_outputs,
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
        self._versions = library_versions()
        self._model_row_id = 0

    # -- public --------------------------------------------------------------------------

    def run(self) -> AnalysisSummary:
        identity = self.detector.identity
        self.summary = AnalysisSummary(0, self.detector.device_label, identity.name)
        self.summary.run_id = self._start()
        todo = self._candidates()
        self.summary.total = len(todo)
        self._report(force=True)
        spec = self.detector.preprocessing
        in_flight: deque[Future[Prepared]] = deque()
        ready: list[Prepared] = []
        limit = 2 * self.batch_size + self.workers
        with self._run.ending_on_error(self._finish):
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
                            self._process(ready)
                            ready = []
                        if self._halted:
                            break
                finally:
                    for future in in_flight:
                        future.cancel()
            if ready and not self._halted:
                self._process(ready)
        self._finish(self._run.end_state(failed=self.summary.stopped is not None))
        return self.summary

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
                device=self.detector.device_label,
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
            "device": self.detector.device_label,
            "precision": PRECISION,
            "thresholds": self.bands.record(),
            "item_ids": self.item_ids,
        }

    def _candidates(self) -> list[tuple[int, str, list[bytes]]]:
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

    def _process(self, prepared: list[Prepared]) -> None:
        good = [p for p in prepared if p.tensor is not None]
        logits: list[float] = []
        cams = None
        if good:
            batch = torch.stack([p.tensor for p in good if p.tensor is not None])
            values, cams = self.detector.predict(batch, self.heatmaps)
            finite = finite_outputs(values, cams)
            if not finite.all():
                self.summary.stopped = NON_FINITE_REASON
                failed = {p.item_id for p, ok in zip(good, finite, strict=True) if not ok}
                prepared = [
                    replace(p, tensor=None, error=NON_FINITE_REASON) if p.item_id in failed else p
                    for p in prepared
                ]
                good = [p for p in good if p.item_id not in failed]
                values, cams = values[finite], None if cams is None else cams[finite]
            logits = [float(v) for v in values]
        self._write(prepared, good, logits, cams)
        if self._stored is not None and prepared:
            self._stored(Stored(changed=tuple(p.item_id for p in prepared)))
        if self.summary.first_result_s is None and prepared:
            self.summary.first_result_s = self._run.elapsed()
        self._report()

    def _write(
        self,
        prepared: list[Prepared],
        good: list[Prepared],
        logits: list[float],
        cams: np.ndarray | None,
    ) -> None:
        now = utc_now()
        identity = self.detector.identity
        shared = self._shared_result_fields()
        with self.case.write() as session:
            chain = audit.ChainWriter(session)
            rows = []
            for index, (item, logit) in enumerate(zip(good, logits, strict=True)):
                p = probability(logit)
                verdict = self.bands.verdict(p)
                geometry = item.geometry.as_record() if item.geometry else None
                heatmap = encode_cam(cams[index]) if cams is not None else None
                heatmap_geometry = (
                    {**geometry, "grid": list(cams[index].shape), "method": HEATMAP_METHOD}
                    if cams is not None and geometry
                    else geometry
                )
                rows.append(
                    {
                        "item_id": item.item_id,
                        "model_id": self._model_row_id,
                        "probability": p,
                        "logit": logit,
                        "verdict": verdict,
                        **shared,
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
            for item in prepared:
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

    @staticmethod
    def _mark_error(session: Session, item: Prepared) -> None:
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
