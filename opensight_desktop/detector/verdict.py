"""Verdict bands on P(generated). A score is not proof: the words say how to read it.

The one place for the verdicts' values (stored in cases and exports, never renamed), their
labels and colours, and the default bands. Colours are hex strings: the GUI makes QColors
of them, the PDF ReportLab colours.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """The verdict words stored with every result and exported (the JSON contract), from the
    highest scores to the lowest (the order summaries list them in)."""

    LIKELY_GENERATED = "likely-generated"
    INCONCLUSIVE = "inconclusive"
    LIKELY_REAL = "likely-real"


VERDICTS = tuple(Verdict)

VERDICT_LABELS: dict[str, str] = {
    Verdict.LIKELY_GENERATED: "Likely generated",
    Verdict.INCONCLUSIVE: "Inconclusive",
    Verdict.LIKELY_REAL: "Likely real",
}
# Text and markers of a verdict.
VERDICT_COLORS: dict[str, str] = {
    Verdict.LIKELY_GENERATED: "#c0392b",
    Verdict.INCONCLUSIVE: "#b7791f",
    Verdict.LIKELY_REAL: "#2f855a",
}
# The bands on a score bar, light enough to draw a marker over.
BAND_COLORS: dict[str, str] = {
    Verdict.LIKELY_REAL: "#9ae6b4",
    Verdict.INCONCLUSIVE: "#fbd38d",
    Verdict.LIKELY_GENERATED: "#feb2b2",
}


@dataclass(frozen=True)
class Bands:
    likely_generated: float = 0.70  # probability at or above: likely generated
    likely_real: float = 0.30  # at or below: likely real

    def verdict(self, probability: float) -> Verdict:
        if probability >= self.likely_generated:
            return Verdict.LIKELY_GENERATED
        if probability <= self.likely_real:
            return Verdict.LIKELY_REAL
        return Verdict.INCONCLUSIVE

    def record(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "decision_rule": "P >= likely_generated: likely-generated; "
            "P <= likely_real: likely-real; otherwise inconclusive",
        }

    @classmethod
    def from_record(cls, record: object, default: Bands | None = None) -> Bands:
        """The bands a result was scored with (its stored ``record()``), to draw them; a
        value that is missing or not a number from 0 to 1 (a crafted case) is taken from
        ``default``."""
        default = default or DEFAULT_BANDS
        stored = record if isinstance(record, dict) else {}

        def band(key: str, fallback: float) -> float:
            value = stored.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                return fallback
            return float(value) if 0 <= value <= 1 else fallback

        return cls(
            band("likely_generated", default.likely_generated),
            band("likely_real", default.likely_real),
        )


DEFAULT_BANDS = Bands()
