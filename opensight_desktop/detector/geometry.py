"""Where the model's input lies on the original image (no torch: the GUI uses this)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Geometry:
    """Where the model's input lies on the original image (pixel coordinates)."""

    original: tuple[int, int]  # (width, height) of the decoded image
    resized: tuple[int, int]
    crop_box: tuple[int, int, int, int]  # (left, top, right, bottom) in resized pixels
    # True when only the cropped region was resized (extreme aspect ratios): pixel values
    # may then differ from the exact pipeline by one level
    region_resize: bool = False

    @property
    def crop_in_original(self) -> tuple[float, float, float, float]:
        sx = self.original[0] / self.resized[0]
        sy = self.original[1] / self.resized[1]
        left, top, right, bottom = self.crop_box
        return (left * sx, top * sy, right * sx, bottom * sy)

    def as_record(self) -> dict[str, Any]:
        return {
            "original": list(self.original),
            "resized": list(self.resized),
            "crop_box": list(self.crop_box),
            "crop_in_original": [round(v, 3) for v in self.crop_in_original],
            **({"region_resize": True} if self.region_resize else {}),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Geometry:
        return cls(
            tuple(record["original"]),  # type: ignore[arg-type]
            tuple(record["resized"]),  # type: ignore[arg-type]
            tuple(record["crop_box"]),  # type: ignore[arg-type]
            bool(record.get("region_resize", False)),
        )
