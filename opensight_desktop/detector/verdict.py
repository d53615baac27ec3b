"""Verdict bands on P(generated). A score is not proof: the words say how to read it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """The verdict words stored with every result and exported (the JSON contract)."""

    LIKELY_GENERATED = "likely-generated"
    INCONCLUSIVE = "inconclusive"
    LIKELY_REAL = "likely-real"


VERDICT_LABELS: dict[str, str] = {
    Verdict.LIKELY_GENERATED: "Likely generated",
    Verdict.INCONCLUSIVE: "Inconclusive",
    Verdict.LIKELY_REAL: "Likely real",
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
