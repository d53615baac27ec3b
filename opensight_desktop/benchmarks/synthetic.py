"""Synthetic photo-like images for benchmarks and tests (no data sets can be downloaded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def synthetic_photo(width: int, height: int, seed: int = 0) -> Image.Image:
    """Smooth random structure plus sensor-like noise: compresses like a camera photo."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8), "RGB")
    base = np.asarray(coarse.resize((width, height), Image.Resampling.BICUBIC), dtype=np.int16)
    noise = rng.integers(-14, 15, (height, width, 3), dtype=np.int16)
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8), "RGB")


def write_set(folder: Path, count: int, size: tuple[int, int], fmt: str, prefix: str) -> list[Path]:
    """``count`` distinct images (cached: existing files of the right name are kept)."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = {"JPEG": ".jpg", "PNG": ".png"}[fmt]
    paths = []
    for index in range(count):
        path = folder / f"{prefix}{index:05d}{suffix}"
        if not path.exists():
            image = synthetic_photo(*size, seed=index)
            tmp = path.with_suffix(".part")
            if fmt == "JPEG":
                image.save(tmp, "JPEG", quality=92)
            else:
                image.save(tmp, "PNG", compress_level=6)
            tmp.replace(path)
        paths.append(path)
    return paths
