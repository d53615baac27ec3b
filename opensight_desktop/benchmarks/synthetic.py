"""Synthetic photo-like images: the benchmark's inputs (no data sets can be downloaded; the
tests draw on ``synthetic_photo`` too)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from opensight_desktop.benchmarks import camera_exif


def synthetic_photo(width: int, height: int, seed: int = 0) -> Image.Image:
    """Smooth random structure plus sensor-like noise: compresses like a camera photo."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8), "RGB")
    base = np.asarray(coarse.resize((width, height), Image.Resampling.BICUBIC), dtype=np.int16)
    noise = rng.integers(-14, 15, (height, width, 3), dtype=np.int16)
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8), "RGB")


def camera_jpeg(image: Image.Image, seed: int, quality: int = 92) -> bytes:
    """A JPEG carrying what a camera writes: EXIF with GPS and an embedded thumbnail."""
    ifd0, exif, gps = camera_exif.camera_ifds(
        original=f"2024:05:{1 + seed % 28:02d} 10:{seed % 60:02d}:00",
        lat=48.0 + seed / 1000,
        lon=11.0 + seed / 1000,
        alt=520.0,
        extra0={0x011A: ("RATIONAL", [(72, 1)]), 0x011B: ("RATIONAL", [(72, 1)])},
        extra_exif={
            0x9209: ("SHORT", 16),
            0x920A: ("RATIONAL", [(50, 1)]),
            0xA002: ("LONG", image.width),
            0xA003: ("LONG", image.height),
            0xA434: ("ASCII", "RF24-105mm F4 L IS USM"),
        },
    )
    small = image.resize((160, 120))
    thumb = io.BytesIO()
    small.save(thumb, "JPEG", quality=80)
    body = io.BytesIO()
    image.save(body, "JPEG", quality=quality)
    tiff = camera_exif.build_tiff(ifd0, exif, gps, thumb.getvalue())
    return camera_exif.jpeg_with_app1(body.getvalue(), tiff)


def write_set(folder: Path, count: int, size: tuple[int, int], fmt: str, prefix: str) -> list[Path]:
    """``count`` distinct images (cached: existing files of the right name are kept).
    JPEGs carry camera-like EXIF, GPS and a thumbnail, as camera files do."""
    folder.mkdir(parents=True, exist_ok=True)
    suffix = {"JPEG": ".jpg", "PNG": ".png"}[fmt]
    paths = []
    for index in range(count):
        path = folder / f"{prefix}{index:05d}{suffix}"
        if not path.exists():
            image = synthetic_photo(*size, seed=index)
            tmp = path.with_suffix(".part")
            if fmt == "JPEG":
                tmp.write_bytes(camera_jpeg(image, index))
            else:
                image.save(tmp, "PNG", compress_level=6)
            tmp.replace(path)
        paths.append(path)
    return paths
