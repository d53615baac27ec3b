"""Heatmaps: which parts of the model's input most influenced its score (storage and
placement on the original; computed in ``detector.forward``, which needs torch).

Grad-CAM on the 576 patch tokens entering the last block's attention (the output of
``blocks[-1].norm1``). After the last block only the class token reaches the head, so the
last block's *output* carries no gradient for patch tokens; its attention input does.
Blocks 0..10 run without autograd, so the extra cost is one block's backward pass.

Wording everywhere: "regions that most influenced the detector's score" - never
"manipulated region".
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from opensight_desktop.detector.geometry import Geometry

HEATMAP_METHOD = "Grad-CAM on the patch tokens entering the last transformer block (24x24)"


def encode_cam(cam: np.ndarray) -> bytes:
    return np.asarray(cam, dtype=np.float16).tobytes()


def decode_cam(data: bytes) -> np.ndarray:
    values = np.frombuffer(data, dtype=np.float16).astype(np.float32)
    side = round(values.size**0.5)
    return values.reshape(side, side)


# -- placing a map on the original image ----------------------------------------------------

# A perceptually ordered dark-purple -> orange -> yellow ramp (inferno-like), 5 stops.
_RAMP = np.array(
    [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], dtype=np.float32
)


def colorize(cam: NDArray[np.floating]) -> NDArray[np.uint8]:
    """Values in [0, 1] -> uint8 RGB."""
    position = np.clip(cam, 0.0, 1.0) * (len(_RAMP) - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, len(_RAMP) - 1)
    frac = (position - low)[..., None]
    rgb: NDArray[np.uint8] = (_RAMP[low] * (1 - frac) + _RAMP[high] * frac).astype(np.uint8)
    return rgb


def cam_on_original(cam: np.ndarray, geometry: Geometry) -> tuple[np.ndarray, tuple[int, ...]]:
    """The map resampled to original-image pixels over the crop it covers.

    Returns the map (height x width of the crop box on the original, float32) and the
    integer box (left, top, right, bottom) it occupies there.
    """
    left, top, right, bottom = geometry.crop_in_original
    # at least one pixel, even when a very thin image is shown small
    box = (
        round(left),
        round(top),
        max(round(right), round(left) + 1),
        max(round(bottom), round(top) + 1),
    )
    width, height = box[2] - box[0], box[3] - box[1]
    image = Image.fromarray(np.asarray(cam, dtype=np.float32), mode="F")
    resized = np.asarray(image.resize((width, height), Image.Resampling.BILINEAR))
    return resized, box


def overlay(
    original: Image.Image, cam: np.ndarray, geometry: Geometry, opacity: float = 0.5
) -> Image.Image:
    """The original with the map blended over the examined crop; outside it is dimmed and
    hatched as "not examined", and the crop is outlined."""
    base = original.convert("RGB")
    scaled = _scaled_geometry(geometry, base.size)
    values, box = cam_on_original(cam, scaled)
    result = np.asarray(base, dtype=np.float32).copy()
    # outside the crop: dimmed, with diagonal hatching
    mask = np.ones(result.shape[:2], dtype=bool)
    mask[max(0, box[1]) : box[3], max(0, box[0]) : box[2]] = False
    yy, xx = np.nonzero(mask)
    result[mask] *= 0.35
    hatch = ((xx + yy) // max(2, base.width // 150)) % 6 == 0
    result[yy[hatch], xx[hatch]] = (result[yy[hatch], xx[hatch]] * 0.5) + 90
    colored = colorize(values).astype(np.float32)
    region = result[box[1] : box[3], box[0] : box[2]]
    h, w = region.shape[:2]
    alpha = opacity * np.clip(values[:h, :w], 0.15, 1.0)[..., None]
    region[:] = region * (1 - alpha) + colored[:h, :w] * alpha
    out = Image.fromarray(np.clip(result, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(out)
    line = max(2, base.width // 300)
    draw.rectangle([box[0], box[1], box[2] - 1, box[3] - 1], outline=(0, 220, 255), width=line)
    return out


def _scaled_geometry(geometry: Geometry, size: tuple[int, int]) -> Geometry:
    """The same crop on a scaled copy of the original (e.g. a display-sized rendering)."""
    sx = size[0] / geometry.original[0]
    sy = size[1] / geometry.original[1]
    left, top, right, bottom = geometry.crop_in_original
    # Express the crop directly in the scaled original's pixels (resized == original).
    return Geometry(
        size,
        size,
        (
            round(left * sx),
            round(top * sy),
            round(right * sx),
            round(bottom * sy),
        ),
    )
