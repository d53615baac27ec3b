"""Does the EXIF thumbnail still show the image? Editors often rewrite the pixels and keep
the camera's thumbnail: a clear mismatch is a classic sign of later change."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

SIDE = 24
THRESHOLD = 0.5  # correlation below this on a 24x24 grey version: a clear mismatch


def _trim_bars(image: Image.Image) -> Image.Image:
    """Cameras letterbox thumbnails to 160x120; remove near-black uniform borders."""
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    rows = np.where((grey.max(axis=1) > 24) | (grey.std(axis=1) > 4))[0]
    cols = np.where((grey.max(axis=0) > 24) | (grey.std(axis=0) > 4))[0]
    if rows.size < 4 or cols.size < 4:
        return image
    return image.crop((int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1))


def _signature(image: Image.Image) -> np.ndarray:
    small = image.convert("L").resize((SIDE, SIDE), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float64).ravel()


def compare(thumbnail_jpeg: bytes, main_preview: Image.Image) -> dict[str, Any]:
    """``main_preview``: a small copy of the main image as stored (not rotated)."""
    try:
        with Image.open(io.BytesIO(thumbnail_jpeg)) as thumb:
            thumb_size = thumb.size
            thumb.draft("L", (SIDE * 2, SIDE * 2))  # a grey, DCT-scaled decode is enough
            thumb.load()
            trimmed = _trim_bars(thumb.convert("L"))
    except Exception as exc:
        return {"present": True, "readable": False, "problem": f"{type(exc).__name__}: {exc}"}
    aspect_main = main_preview.width / max(1, main_preview.height)
    aspect_thumb = trimmed.width / max(1, trimmed.height)
    a, b = _signature(trimmed), _signature(main_preview)
    a, b = a - a.mean(), b - b.mean()
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    result: dict[str, Any] = {"present": True, "readable": True, "size": list(thumb_size)}
    if denominator < 1e-6:
        result["similarity"] = None  # a flat picture: nothing to compare
        result["mismatch"] = False
        return result
    similarity = float(a @ b / denominator)
    aspect_ratio = max(aspect_main, aspect_thumb) / min(aspect_main, aspect_thumb)
    result["similarity"] = round(similarity, 3)
    result["aspect_ratio_difference"] = round(aspect_ratio, 3)
    result["mismatch"] = similarity < THRESHOLD or aspect_ratio > 1.15
    return result
