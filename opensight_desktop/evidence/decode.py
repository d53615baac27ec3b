"""Safe image decoding: bounded size, the sniffed decoder only, errors in plain words.

Every part of the app that turns evidence bytes into pixels goes through
:func:`open_image`, so the limits below hold everywhere (import, detector, reports).
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from opensight_desktop.evidence.phash import phash

try:  # HEIC/HEIF support; AVIF comes with Pillow itself (>= 11.3)
    import pillow_heif
except ImportError:  # pragma: no cover - a dependency, but keep the rest working without it
    pass
else:
    pillow_heif.register_heif_opener()

# Larger images are refused before any pixel is decoded (decompression-bomb guard):
# 200 megapixels is above any current camera and below what exhausts a workstation.
MAX_PIXELS = 200_000_000
THUMBNAIL_SIZE = 256

ImageFile.LOAD_TRUNCATED_IMAGES = False
# Pillow's own guard raises at twice its limit; ours is explicit, so align and silence it.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.simplefilter("ignore", Image.DecompressionBombWarning)
# Pillow's advice to convert palette images with transparency via RGBA: we convert as the
# detector's authors do (straight to RGB), on purpose.
warnings.filterwarnings("ignore", message="Palette images with Transparency", category=UserWarning)
# Damaged EXIF makes Pillow warn while reading the orientation; the metadata readers record
# such damage as problems of the item instead.
warnings.filterwarnings("ignore", category=UserWarning, module="PIL.TiffImagePlugin")

_PIL_FORMATS = {
    "JPEG": ["JPEG", "MPO"],
    "PNG": ["PNG"],
    "GIF": ["GIF"],
    "WEBP": ["WEBP"],
    "TIFF": ["TIFF"],
    "BMP": ["BMP", "DIB"],
    "HEIF": ["HEIF", "AVIF"],
}


class DecodeError(Exception):
    """The image cannot be decoded; ``str()`` is the reason for the examiner."""


@dataclass(frozen=True)
class ImageFacts:
    format: str
    width: int
    height: int
    mode: str
    frames: int


@dataclass(frozen=True)
class ThumbnailImage:
    jpeg: bytes
    width: int
    height: int


def reason_for(exc: BaseException) -> str:
    """Plain-words reason for a decoder exception."""
    text = str(exc)
    if isinstance(exc, DecodeError):
        return text
    if isinstance(exc, Image.DecompressionBombError):
        return f"image too large to decode safely ({text})"
    if isinstance(exc, UnidentifiedImageError):
        return "content is not a decodable image of its apparent type (corrupt or unsupported)"
    if isinstance(exc, MemoryError):
        return "not enough memory to decode the image"
    if "truncated" in text or isinstance(exc, EOFError) or "ended prematurely" in text:
        return "truncated image data (the file ends before the image does)"
    if isinstance(exc, zlib.error):
        return f"corrupt compressed image data ({text})"
    if isinstance(exc, SyntaxError | struct.error | ValueError | IndexError | KeyError | TypeError):
        return f"corrupt image structure ({text or type(exc).__name__})"
    if isinstance(exc, OSError):
        return f"corrupt or unsupported image data ({text or type(exc).__name__})"
    return f"image could not be decoded ({type(exc).__name__}: {text})"


def check_pixels(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise DecodeError(f"invalid image dimensions {width}x{height}")
    if width * height > MAX_PIXELS:
        raise DecodeError(
            f"image too large to decode safely: {width}x{height} = "
            f"{width * height / 1e6:.0f} megapixels (limit {MAX_PIXELS / 1e6:.0f})"
        )


def _open_checked(handle: BinaryIO, formats: list[str] | None) -> ImageFile.ImageFile:
    """Image.open with the pixel limit; ValueError passes through for the PNG retry."""
    try:
        image = Image.open(handle, formats=formats)
        check_pixels(*image.size)
        return image
    except (DecodeError, ValueError):
        raise
    except Exception as exc:
        raise DecodeError(reason_for(exc)) from exc


def without_png_text(data: bytes) -> bytes:
    """The PNG with its tEXt/zTXt/iTXt chunks left out (pixels unchanged)."""
    out = [data[:8]]
    position = 8
    while position + 8 <= len(data):
        length = struct.unpack(">I", data[position : position + 4])[0]
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if kind not in (b"tEXt", b"zTXt", b"iTXt"):
            out.append(data[position:end])
        position = end
        if kind == b"IEND":
            break
    return b"".join(out)


@contextmanager
def open_image(
    source: bytes | BinaryIO, sniffed: str | None = None
) -> Iterator[ImageFile.ImageFile]:
    """Open lazily (header only) with the decoder of the sniffed format; size-checked.

    ``source`` is the file's bytes or an open binary file (the copy kept while hashing:
    evidence.hashing.KeptCopy), never a path, which would be a second read of an original
    that may have changed since it was hashed. Exceptions are translated to
    :class:`DecodeError`.
    """
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    formats = _PIL_FORMATS.get(sniffed or "")
    try:
        image = _open_checked(handle, formats)
    except ValueError as exc:
        # Pillow refuses a PNG whose text chunks are too large to inflate safely; the
        # pixels do not depend on them, so decode a copy without its text chunks.
        if sniffed != "PNG" or "too large" not in str(exc):
            raise DecodeError(reason_for(exc)) from exc
        handle.seek(0)
        image = _open_checked(io.BytesIO(without_png_text(handle.read())), formats)
    with image:
        yield image


def decode_error_guard(image: Image.Image) -> None:
    """Decode the pixels now (a truncated or corrupt stream fails here, not later)."""
    try:
        image.load()
    except Exception as exc:
        raise DecodeError(reason_for(exc)) from exc


def facts_of(image: Image.Image) -> ImageFacts:
    try:
        frames = int(getattr(image, "n_frames", 1) or 1)
    except Exception:  # counting frames walks the file; a broken later frame is no reason to fail
        frames = 1
    return ImageFacts(
        format=str(image.format or "?"),
        width=image.size[0],
        height=image.size[1],
        mode=image.mode,
        frames=frames,
    )


def to_display_rgb(image: Image.Image) -> Image.Image:
    """An 8-bit RGB rendering for people to look at (not the detector's input).

    An RGB image is returned as it is, not copied: callers must not change it in place
    unless they own it.
    """
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        low, high = float(np.min(array)), float(np.max(array))
        scale = 255.0 / (high - low) if high > low else 0.0
        image = Image.fromarray(((array - low) * scale).astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def thumbnail_box(width: int, height: int, size: int = THUMBNAIL_SIZE) -> tuple[int, int]:
    """The thumbnail's own size: the image scaled to fit in ``size`` x ``size``."""
    scale = min(1.0, size / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def make_thumbnail(
    rgb: Image.Image, orientation: int | None, size: int = THUMBNAIL_SIZE
) -> ThumbnailImage:
    """A JPEG thumbnail about ``size`` px on its long side, shown upright.

    An image already within 1.5x of that (a JPEG decoded at reduced DCT scale usually is)
    is kept as it is: resampling it would cost more than the whole decode and only blur it.
    """
    if max(rgb.size) > size * 3 // 2:
        rgb = rgb.resize(
            thumbnail_box(*rgb.size, size), Image.Resampling.BILINEAR, reducing_gap=2.0
        )
    if orientation and orientation != 1:
        rgb.getexif()[0x0112] = orientation
        rgb = ImageOps.exif_transpose(rgb)
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=85)
    return ThumbnailImage(out.getvalue(), rgb.size[0], rgb.size[1])


def exif_orientation(image: Image.Image) -> int | None:
    try:
        value = image.getexif().get(0x0112)
    except Exception:
        return None
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else None


@dataclass(frozen=True)
class Inspected:
    facts: ImageFacts
    thumbnail: ThumbnailImage
    preview: Image.Image  # tiny RGB copy as stored (not rotated), for metadata checks
    # raw header facts for the metadata readers (so they need not open the image again)
    quantization: dict[int, list[int]] | None = None
    icc_profile: bytes | None = None
    # 64-bit perceptual hash of the pixels as stored (evidence/phash.py), from this decode
    phash: str | None = None


PREVIEW_SIZE = 64


def inspect_image(source: bytes | BinaryIO, sniffed: str) -> Inspected:
    """Decode fully once (validating the data) and make the thumbnail; ``source`` as for
    :func:`open_image`. Raises DecodeError."""
    with open_image(source, sniffed) as image:
        facts = facts_of(image)
        quantization = getattr(image, "quantization", None)
        tables = {int(k): list(v) for k, v in quantization.items()} if quantization else None
        icc = image.info.get("icc_profile") or None
        orientation = exif_orientation(image)
        if image.format in ("JPEG", "MPO"):
            # DCT scaling: the whole stream is still decoded (truncation is still caught),
            # at the smallest of 1/1..1/8 scale that still covers the thumbnail.
            image.draft(
                image.mode if image.mode in ("L", "RGB") else None,
                thumbnail_box(facts.width, facts.height),
            )
        decode_error_guard(image)
        try:
            rgb = to_display_rgb(image)
            preview = rgb.resize(thumbnail_box(*rgb.size, PREVIEW_SIZE), Image.Resampling.BOX)
            perceptual = phash(rgb)
            thumb = make_thumbnail(rgb, orientation)
        except DecodeError:
            raise
        except Exception as exc:
            raise DecodeError(reason_for(exc)) from exc
    return Inspected(facts, thumb, preview, tables, icc, perceptual)
