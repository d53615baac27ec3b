"""An item's pixels, from the first recorded location whose bytes still hash to what was
imported (no torch here: the GUI uses this too). The bytes decoded are the bytes hashed:
each location is read once, and its pixels come from the copy kept while hashing."""

from __future__ import annotations

import hashlib
import os

from PIL import Image

from opensight_desktop.evidence import sniff
from opensight_desktop.evidence.decode import DecodeError, open_image, reason_for
from opensight_desktop.evidence.hashing import consume_and_keep
from opensight_desktop.evidence.reading import open_evidence, os_error_reason


def load_evidence_rgb(sha256: str, paths: list[bytes]) -> Image.Image:
    """The item's pixels as the authors load them (``.convert("RGB")``, no EXIF rotation),
    from the first recorded location whose bytes still hash to the recorded SHA-256."""
    problems = []
    for path_raw in paths:
        path = os.fsdecode(path_raw)
        try:
            with open_evidence(path) as handle:
                digest = hashlib.sha256()
                copy = consume_and_keep(handle, digest)
        except OSError as exc:
            problems.append(f"{os.path.basename(path)}: {os_error_reason(exc)}")
            continue
        with copy:
            if digest.hexdigest() != sha256:
                problems.append(
                    f"{os.path.basename(path)}: content changed since import "
                    f"(SHA-256 now {digest.hexdigest()})"
                )
                continue
            if copy.problem is not None:
                problems.append(f"{os.path.basename(path)}: {copy.problem}")
                continue
            try:
                sniffed = sniff.image_format(copy.head(sniff.HEAD_BYTES))
                source = copy.source()
            except OSError as exc:
                problems.append(
                    f"{os.path.basename(path)}: working copy unreadable ({os_error_reason(exc)})"
                )
                continue
            with open_image(source, sniffed) as image:
                try:
                    if image.mode == "RGB":
                        # what convert("RGB") returns, minus its full-size copy
                        image.load()
                        return image
                    return image.convert("RGB")
                except Exception as exc:
                    raise DecodeError(reason_for(exc)) from exc
    raise FileNotFoundError("; ".join(problems) or "no recorded location")
