"""Test images made at test time: every format the app imports, and broken ones."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image

from opensight_desktop.benchmarks.synthetic import synthetic_photo


def noise_image(width: int, height: int, seed: int = 0, mode: str = "RGB") -> Image.Image:
    image = synthetic_photo(width, height, seed)
    return image if mode == "RGB" else image.convert(mode)


def jpeg_with_exif(
    path: Path,
    size=(640, 480),
    seed=0,
    make="Canon",
    model="EOS 5D",
    orientation: int | None = None,
    quality=90,
) -> Path:
    image = noise_image(*size, seed=seed)
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = model
    exif[0x0131] = "Firmware 1.0"
    if orientation is not None:
        exif[0x0112] = orientation
    exif.get_ifd(0x8769)[0x9003] = "2024:05:06 07:08:09"
    image.save(path, "JPEG", quality=quality, exif=exif.tobytes())
    return path


def save(path: Path, fmt: str, size=(320, 240), seed=0, mode="RGB", **kwargs) -> Path:
    image = noise_image(*size, seed=seed)
    if mode != "RGB":
        image = image.convert(mode)
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    image.save(path, fmt, **kwargs)
    return path


def truncated_copy(source: Path, target: Path, fraction: float = 0.5) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


def png_bomb(path: Path, width: int = 100_000, height: int = 100_000) -> Path:
    """A tiny PNG whose header claims a giant image (the decoder must refuse it unread)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def jpeg_bytes(size=(64, 48), seed=0) -> bytes:
    out = io.BytesIO()
    noise_image(*size, seed=seed).save(out, "JPEG", quality=85)
    return out.getvalue()
