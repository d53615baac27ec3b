"""An item's pixels, from the first recorded location whose bytes still hash to what was
imported (no torch here: the GUI uses this too)."""

from __future__ import annotations

import hashlib
import os

from PIL import Image

from opensight_desktop.evidence import sniff
from opensight_desktop.evidence.decode import DecodeError, open_image, reason_for
from opensight_desktop.evidence.hashing import consume
from opensight_desktop.evidence.reading import KEEP_IN_MEMORY_BYTES, open_evidence, os_error_reason


def load_evidence_rgb(sha256: str, paths: list[bytes]) -> Image.Image:
    """The item's pixels as the authors load them (``.convert("RGB")``, no EXIF rotation),
    from the first recorded location whose bytes still hash to the recorded SHA-256."""
    problems = []
    for path_raw in paths:
        path = os.fsdecode(path_raw)
        try:
            with open_evidence(path) as handle:
                digest = hashlib.sha256()
                keep = os.fstat(handle.fileno()).st_size <= KEEP_IN_MEMORY_BYTES
                data = consume(handle, digest, keep)
        except OSError as exc:
            problems.append(f"{os.path.basename(path)}: {os_error_reason(exc)}")
            continue
        if digest.hexdigest() != sha256:
            problems.append(
                f"{os.path.basename(path)}: content changed since import "
                f"(SHA-256 now {digest.hexdigest()})"
            )
            continue
        source: bytes | str = data if data is not None else path
        with open_image(source, _sniff(source)) as image:
            try:
                if image.mode == "RGB":
                    # what convert("RGB") returns, minus its full-size copy
                    image.load()
                    return image
                return image.convert("RGB")
            except Exception as exc:
                raise DecodeError(reason_for(exc)) from exc
    raise FileNotFoundError("; ".join(problems) or "no recorded location")


def _sniff(source: bytes | str) -> str | None:
    if isinstance(source, bytes):
        return sniff.image_format(source[: sniff.HEAD_BYTES])
    with open_evidence(source) as handle:
        return sniff.image_format(handle.read(sniff.HEAD_BYTES))
