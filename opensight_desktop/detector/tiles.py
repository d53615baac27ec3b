"""Tile scan: the model's score on 384x384 crops across the full-resolution image.

The normal analysis sees one centre crop of a downscaled copy. Content that was
generated and pasted into part of a photo may only show at native resolution; the scan
scores every tile (no resizing, same normalisation), so the examiner can see where the
score is high. Tiles cover the whole image: the last row and column are aligned to the
right and bottom edges.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch
from PIL import Image

from opensight_desktop.detector.model import (
    NON_FINITE_REASON,
    LoadedDetector,
    finite_outputs,
    probability,
)
from opensight_desktop.errors import ModelError, UsageError


def positions(length: int, tile: int, stride: int) -> list[int]:
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile + 1, stride))
    if starts[-1] != length - tile:
        starts.append(length - tile)
    return starts


def tile_grid(width: int, height: int, tile: int, stride: int) -> list[tuple[int, int]]:
    return [
        (left, top)
        for top in positions(height, tile, stride)
        for left in positions(width, tile, stride)
    ]


def scan(
    detector: LoadedDetector,
    image: Image.Image,
    stride: int | None = None,
    batch_size: int = 8,
    on_batch: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> list[tuple[int, int, float]]:
    """[(left, top, P(generated))] per tile; stops early (partial list) when cancelled.

    A non-finite logit stops the scan with a ModelError: nothing of it is stored."""
    tile = detector.preprocessing.input_size[0]
    stride = stride or tile
    if stride < tile // 8:
        raise UsageError(f"stride must be at least {tile // 8} px")
    if image.width < tile or image.height < tile:
        raise UsageError(
            f"the image ({image.width}x{image.height}) is smaller than one {tile}-px tile: "
            "the normal analysis already sees all of it"
        )
    grid = tile_grid(image.width, image.height, tile, stride)
    mean = torch.as_tensor(detector.preprocessing.mean, dtype=torch.float32)[:, None, None]
    std = torch.as_tensor(detector.preprocessing.std, dtype=torch.float32)[:, None, None]
    pixels = np.asarray(image.convert("RGB"))
    results: list[tuple[int, int, float]] = []
    for start in range(0, len(grid), batch_size):
        if cancelled():
            break
        chunk = grid[start : start + batch_size]
        batch = torch.stack(list(_tensors(pixels, chunk, tile, mean, std)))
        logits, _ = detector.predict(batch, heatmaps=False)
        if not finite_outputs(logits, None).all():
            raise ModelError(f"tile scan stopped: {NON_FINITE_REASON}")
        results.extend(
            (left, top, probability(float(v))) for (left, top), v in zip(chunk, logits, strict=True)
        )
        if on_batch:
            on_batch(len(results), len(grid))
    return results


def _tensors(
    pixels: np.ndarray,
    chunk: list[tuple[int, int]],
    tile: int,
    mean: torch.Tensor,
    std: torch.Tensor,
) -> Iterator[torch.Tensor]:
    for left, top in chunk:
        crop = np.ascontiguousarray(pixels[top : top + tile, left : left + tile])
        tensor = torch.from_numpy(crop).permute(2, 0, 1).to(torch.float32).div(255)
        yield tensor.sub_(mean).div_(std)
