"""Where the model's input lies on the original image (no torch: the GUI uses this)."""

from __future__ import annotations

from collections.abc import Mapping
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

    @property
    def upscale(self) -> float:
        """How many times the image was enlarged on its way to the model (1 or less: not)."""
        return max(self.resized[0] / self.original[0], self.resized[1] / self.original[1])

    @property
    def below_input_size(self) -> bool:
        """The image is smaller than the model's input in width or height."""
        left, top, right, bottom = self.crop_box
        return self.original[0] < right - left or self.original[1] < bottom - top

    def scoring_note(self) -> str | None:
        """What an examiner must know about the score of an image the model had to enlarge:
        interpolation adds pixels the camera or generator never made."""
        if not self.below_input_size or self.upscale <= 1:
            return None
        return f"upscaled {self.upscale:.1f} times before scoring: the score is less reliable"

    def as_record(self) -> dict[str, Any]:
        return {
            "original": list(self.original),
            "resized": list(self.resized),
            "crop_box": list(self.crop_box),
            "crop_in_original": [round(v, 3) for v in self.crop_in_original],
            "upscale": round(self.upscale, 3),
            **({"region_resize": True} if self.region_resize else {}),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> Geometry:
        """Raises KeyError, TypeError or ValueError for a record that is not one of ours."""
        width, height = _ints(record["original"], 2)
        resized_width, resized_height = _ints(record["resized"], 2)
        left, top, right, bottom = _ints(record["crop_box"], 4)
        return cls(
            (width, height),
            (resized_width, resized_height),
            (left, top, right, bottom),
            bool(record.get("region_resize", False)),
        )


def _ints(value: object, count: int) -> tuple[int, ...]:
    if not isinstance(value, list | tuple) or len(value) != count:
        raise ValueError(f"expected {count} numbers, got {value!r:.80}")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise TypeError(f"expected whole numbers, got {value!r:.80}")
    return tuple(value)


def scoring_note_of(record: object) -> tuple[float | None, str | None]:
    """(upscale factor, note) from a stored geometry record; (None, None) for a result
    without one, or a record a crafted case file made unreadable."""
    if not isinstance(record, dict):
        return None, None
    try:
        geometry = Geometry.from_record(record)
        return round(geometry.upscale, 3), geometry.scoring_note()
    except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None, None
