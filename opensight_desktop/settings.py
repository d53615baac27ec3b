"""User settings shared by the CLI and the GUI, kept as JSON in the data directory."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields
from typing import Any

from opensight_desktop.cluster_config import ClusterConfig, PathMap
from opensight_desktop.detector.verdict import DEFAULT_BANDS, Bands
from opensight_desktop.errors import UsageError
from opensight_desktop.evidence.phash import DEFAULT_THRESHOLD, MAX_THRESHOLD
from opensight_desktop.fileio import atomic_output
from opensight_desktop.paths import settings_file

log = logging.getLogger(__name__)


@dataclass
class Settings:
    device: str = "auto"  # auto | cpu | cuda
    batch_size: int = 8
    heatmaps: bool = True
    # Verdict bands on P(generated): at or above -> likely generated; at or below -> likely real.
    likely_generated: float = DEFAULT_BANDS.likely_generated
    likely_real: float = DEFAULT_BANDS.likely_real
    active_model: str | None = None  # model id (SHA-256 of its weights) in the model store
    recent_cases: list[str] | None = None
    # Near-duplicate stacks: perceptual hashes within this many bits (of 64) are one stack.
    similar_threshold: int = DEFAULT_THRESHOLD
    # VICS export: {review state: category} for items without a category of their own;
    # states not named get 0, uncategorised (report/exchange.py). The export dialog shows it.
    vics_categories: dict[str, int] | None = None
    # Analysis on a Ray cluster (README "Scaling out"): the head's address (None: this
    # computer) and LOCAL=REMOTE folder pairs for how the nodes see the evidence.
    cluster_address: str | None = None
    cluster_path_map: list[str] | None = None

    def bands(self) -> Bands:
        return Bands(self.likely_generated, self.likely_real)

    def validate(self) -> Settings:
        if self.device not in ("auto", "cpu", "cuda"):
            raise UsageError(f"device must be auto, cpu or cuda, not {self.device!r}")
        if not 1 <= int(self.batch_size) <= 512:
            raise UsageError(f"batch size must be between 1 and 512, not {self.batch_size}")
        if not 0.0 <= self.likely_real < self.likely_generated <= 1.0:
            raise UsageError(
                "verdict bands need 0 <= likely-real threshold < likely-generated threshold <= 1"
            )
        if not isinstance(self.similar_threshold, int) or not (
            0 <= self.similar_threshold <= MAX_THRESHOLD
        ):
            raise UsageError(
                f"the near-duplicate threshold is 0 to {MAX_THRESHOLD} bits, "
                f"not {self.similar_threshold!r}"
            )
        for state, category in (self.vics_categories or {}).items():
            if not isinstance(state, str) or not isinstance(category, int) or category < 0:
                raise UsageError(
                    f"VICS category mapping: {state!r} -> {category!r} is not a review state "
                    "and a category number"
                )
        if self.cluster_address is not None or self.cluster_path_map:
            self.cluster_config()
        return self

    def cluster_config(self) -> ClusterConfig | None:
        """The cluster analysis runs on, or None for this computer (checked: UsageError)."""
        pairs = self.cluster_path_map or []
        if not isinstance(pairs, list) or not all(isinstance(p, str) for p in pairs):
            raise UsageError("the cluster path map is a list of LOCAL=REMOTE texts")
        path_map = PathMap.parse(pairs)
        if not self.cluster_address:
            return None
        if not isinstance(self.cluster_address, str):
            raise UsageError("the cluster address is HOST:PORT")
        return ClusterConfig(self.cluster_address, path_map)


def load_settings() -> Settings:
    path = settings_file()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError) as exc:
        log.warning("settings file %s unreadable (%s); using defaults", path, exc)
        return Settings()
    known = {f.name for f in fields(Settings)}
    values: dict[str, Any] = (
        {k: v for k, v in raw.items() if k in known} if isinstance(raw, dict) else {}
    )
    try:
        return Settings(**values).validate()
    except (UsageError, TypeError, ValueError) as exc:
        log.warning("settings file %s invalid (%s); using defaults", path, exc)
        return Settings()


def save_settings(settings: Settings) -> None:
    settings.validate()
    path = settings_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path, "w", encoding="utf-8") as handle:
        json.dump(asdict(settings), handle, indent=2)
