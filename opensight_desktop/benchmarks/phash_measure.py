"""How well the perceptual hash tells copies from unrelated images: the figures behind
evidence/phash.py DEFAULT_THRESHOLD.

Give it folders of varied images (the measurement used scikit-image's bundled data
images and Pillow's test images, taken from their packages; nothing is shipped here).
Each image is transformed as seized copies are (resized, recompressed, re-encoded,
brightened, slightly cropped); recall at a threshold is the share of (original, copy)
pairs within it. The false-merge rate is the share of pairs of different originals
within it. Images whose hashes are identical, or whose pixels are the same picture in
another format, should be removed from the input first (``distinct_images`` drops
exact pixel duplicates and lets the caller drop name families such as ``hopper*``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

from opensight_desktop.evidence.phash import phash

MIN_SIDE = 64


def _resize(scale: float) -> Callable[[Image.Image], Image.Image]:
    def apply(image: Image.Image) -> Image.Image:
        size = (max(8, round(image.width * scale)), max(8, round(image.height * scale)))
        return image.resize(size, Image.Resampling.BICUBIC)

    return apply


def _encode(fmt: str, **options: object) -> Callable[[Image.Image], Image.Image]:
    def apply(image: Image.Image) -> Image.Image:
        out = io.BytesIO()
        image.save(out, fmt, **options)
        out.seek(0)
        decoded = Image.open(out)
        decoded.load()
        return decoded.convert("RGB")

    return apply


def _crop(fraction: float) -> Callable[[Image.Image], Image.Image]:
    def apply(image: Image.Image) -> Image.Image:
        dx, dy = round(image.width * fraction), round(image.height * fraction)
        return image.crop((dx, dy, image.width - dx, image.height - dy))

    return apply


def _brightness(factor: float) -> Callable[[Image.Image], Image.Image]:
    return lambda image: ImageEnhance.Brightness(image).enhance(factor)


def _chain(*steps: Callable[[Image.Image], Image.Image]) -> Callable[[Image.Image], Image.Image]:
    def apply(image: Image.Image) -> Image.Image:
        for step in steps:
            image = step(image)
        return image

    return apply


TRANSFORMS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "resize 50%": _resize(0.5),
    "resize 25%": _resize(0.25),
    "resize 150%": _resize(1.5),
    "JPEG q75": _encode("JPEG", quality=75),
    "JPEG q40": _encode("JPEG", quality=40),
    "WebP q80": _encode("WEBP", quality=80),
    "crop 2% each side": _crop(0.02),
    "crop 5% each side": _crop(0.05),
    "brightness +15%": _brightness(1.15),
    "brightness -15%": _brightness(0.85),
    "resize 50% + JPEG q70": _chain(_resize(0.5), _encode("JPEG", quality=70)),
}


def distinct_images(paths: Iterable[Path]) -> list[tuple[str, Image.Image]]:
    """Decodable images of at least MIN_SIDE px on each side, as RGB, exact pixel
    duplicates (the same picture in several formats) dropped."""
    seen: set[bytes] = set()
    out: list[tuple[str, Image.Image]] = []
    for path in sorted(paths):
        try:
            with Image.open(path) as image:
                image.load()
                rgb = image.convert("RGB")
        except Exception:  # noqa: S112 - test images include broken ones on purpose
            continue
        if min(rgb.size) < MIN_SIDE:
            continue
        key = rgb.resize((16, 16)).tobytes()
        if key in seen:
            continue
        seen.add(key)
        out.append((path.name, rgb))
    return out


def measure(images: list[tuple[str, Image.Image]], thresholds: Iterable[int]) -> dict[str, object]:
    originals = np.array([int(phash(image), 16) for _, image in images], dtype=np.uint64)
    copies: dict[str, np.ndarray] = {}
    for name, transform in TRANSFORMS.items():
        copies[name] = np.array(
            [int(phash(transform(image)), 16) for _, image in images], dtype=np.uint64
        )
    copy_distance = {name: np.bitwise_count(originals ^ hashes) for name, hashes in copies.items()}
    pairs = np.triu_indices(len(originals), 1)
    unrelated = np.bitwise_count(originals[pairs[0]] ^ originals[pairs[1]])
    rows = []
    for threshold in thresholds:
        recall = {
            name: float(np.mean(distances <= threshold))
            for name, distances in copy_distance.items()
        }
        merged = unrelated <= threshold
        rows.append(
            {
                "threshold": threshold,
                "recall_all": float(
                    np.mean(np.concatenate(list(copy_distance.values())) <= threshold)
                ),
                "recall": recall,
                "false_merge_pairs": int(merged.sum()),
                "false_merge_rate": float(np.mean(merged)),
                "false_merge_examples": [
                    (images[a][0], images[b][0], int(d))
                    for a, b, d in zip(
                        pairs[0][merged][:5],
                        pairs[1][merged][:5],
                        unrelated[merged][:5],
                        strict=True,
                    )
                ],
            }
        )
    return {
        "images": len(images),
        "unrelated_pairs": len(unrelated),
        "copy_pairs": len(images) * len(TRANSFORMS),
        "rows": rows,
    }
