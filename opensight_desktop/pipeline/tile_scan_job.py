"""On-demand tile scan of one item, stored in the case and audit-logged."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from opensight_desktop.case import audit, digests
from opensight_desktop.case.models import EvidenceFile, EvidenceItem, TileScan
from opensight_desktop.case.states import ErrorStage, ItemStatus
from opensight_desktop.case.store import Case
from opensight_desktop.detector import tiles
from opensight_desktop.detector.model import LoadedDetector
from opensight_desktop.errors import UsageError
from opensight_desktop.pipeline.evidence_pixels import load_evidence_rgb
from opensight_desktop.pipeline.provenance import register_model
from opensight_desktop.pipeline.runs import JobControl
from opensight_desktop.progress import CancelToken, ProgressCallback
from opensight_desktop.timeutil import iso_utc, utc_now


@dataclass
class TileScanResult:
    scan_id: int | None
    tile_size: int
    stride: int
    tiles: list[tuple[int, int, float]]
    complete: bool

    @property
    def highest(self) -> float:
        return max((p for _, _, p in self.tiles), default=0.0)

    @property
    def lowest(self) -> float:
        return min((p for _, _, p in self.tiles), default=0.0)


class TileScanJob:
    def __init__(
        self,
        case: Case,
        detector: LoadedDetector,
        item_id: int,
        *,
        stride: int | None = None,
        batch_size: int = 8,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        self.case = case
        self.detector = detector
        self.item_id = item_id
        self.stride = stride
        self.batch_size = batch_size
        self._control = JobControl("tile-scan", progress, cancel)
        self.cancel = self._control.cancel

    def run(self) -> TileScanResult:
        with self.case.read() as session:
            item = session.get(EvidenceItem, self.item_id)
            if item is None:
                raise UsageError(f"there is no item {self.item_id} in this case")
            if item.sha256 is None or (
                item.status == ItemStatus.ERROR and item.error_stage == ErrorStage.IMPORT
            ):
                raise UsageError(
                    f"item {self.item_id} could not be decoded at import; there is nothing to scan"
                )
            sha256 = item.sha256
            paths = list(
                session.scalars(
                    select(EvidenceFile.path_raw)
                    .where(EvidenceFile.item_id == self.item_id)
                    .order_by(EvidenceFile.id)
                )
            )
        try:
            image = load_evidence_rgb(sha256, paths)
        except FileNotFoundError as exc:
            raise UsageError(f"item {self.item_id}: evidence not usable: {exc}") from exc
        tile = self.detector.preprocessing.input_size[0]
        stride = self.stride or tile

        results = tiles.scan(
            self.detector,
            image,
            stride,
            self.batch_size,
            self._control.report,
            lambda: self._control.cancelled,
        )
        complete = not self.cancel.cancelled
        if not complete:
            return TileScanResult(None, tile, stride, results, False)
        identity = self.detector.identity
        with self.case.write() as session:
            model = register_model(session, self.detector)
            created = utc_now()
            record = TileScan(
                item_id=self.item_id,
                model_id=model.id,
                created_utc=created,
                tile_size=tile,
                stride=stride,
                tiles=[[left, top, p] for left, top, p in results],
                device=self.detector.device_label,
                details={
                    "image_size": [image.width, image.height],
                    "preprocessing": self.detector.preprocessing.as_record(),
                    "model_identity_sha256": identity.identity_sha256,
                },
            )
            session.add(record)
            session.flush()
            audit.append(
                session,
                "item.tile_scanned",
                {
                    "scan": record.id,
                    "tiles": len(results),
                    "stride": stride,
                    "highest": max(p for *_, p in results),
                    "model_sha256": identity.id,
                    "tile_size": tile,
                    "device": record.device,
                    "created_utc": iso_utc(created),
                    "tiles_sha256": digests.json_digest(record.tiles),
                    "details": digests.json_value(record.details),
                },
                item_id=self.item_id,
            )
            scan_id = record.id
        return TileScanResult(scan_id, tile, stride, results, True)
