"""Facts from the image header: JPEG quantisation tables (and the quality they imply) and
the name of the embedded ICC colour profile."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np

# IJG (libjpeg) standard tables, natural order; quality q scales them.
_LUMA = [
    16,
    11,
    10,
    16,
    24,
    40,
    51,
    61,
    12,
    12,
    14,
    19,
    26,
    58,
    60,
    55,
    14,
    13,
    16,
    24,
    40,
    57,
    69,
    56,
    14,
    17,
    22,
    29,
    51,
    87,
    80,
    62,
    18,
    22,
    37,
    56,
    68,
    109,
    103,
    77,
    24,
    35,
    55,
    64,
    81,
    104,
    113,
    92,
    49,
    64,
    78,
    87,
    103,
    121,
    120,
    101,
    72,
    92,
    95,
    98,
    112,
    100,
    103,
    99,
]
_CHROMA = [
    17,
    18,
    24,
    47,
    99,
    99,
    99,
    99,
    18,
    21,
    26,
    66,
    99,
    99,
    99,
    99,
    24,
    26,
    56,
    99,
    99,
    99,
    99,
    99,
    47,
    66,
    99,
    99,
    99,
    99,
    99,
    99,
] + [99] * 32


def _scaled(table: list[int], quality: int) -> list[int]:
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return [min(255, max(1, (value * scale + 50) // 100)) for value in table]


# A JPEG's quantisation tables as Pillow gives them: table number -> 64 values
QuantizationTables = Mapping[int, Sequence[int]]


@cache
def _sorted_tables() -> tuple[np.ndarray, np.ndarray]:
    """IJG tables for qualities 1..100, each sorted (shape 100 x 64)."""
    luma = np.array([sorted(_scaled(_LUMA, q)) for q in range(1, 101)])
    chroma = np.array([sorted(_scaled(_CHROMA, q)) for q in range(1, 101)])
    return luma, chroma


def estimate_quality(tables: QuantizationTables) -> dict[str, Any] | None:
    """Closest IJG quality for the luminance (and chroma) tables; exact when they match.

    Tables are compared as sorted value lists, so natural and zig-zag order give the
    same answer.
    """
    if not tables or 0 not in tables or len(tables[0]) != 64:
        return None
    luma_tables, chroma_tables = _sorted_tables()
    error = np.abs(luma_tables - np.sort(np.asarray(tables[0], dtype=np.int64))).sum(axis=1)
    if 1 in tables and len(tables[1]) == 64:
        chroma = np.sort(np.asarray(tables[1], dtype=np.int64))
        error = error + np.abs(chroma_tables - chroma).sum(axis=1)
    best = int(np.argmin(error))
    return {
        "estimated_quality": best + 1,
        "standard_tables": bool(error[best] == 0),
        "tables": len(tables),
    }


def header_facts(tables: QuantizationTables | None, icc: bytes | None) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if tables:
        quality = estimate_quality(tables)
        if quality:
            facts["jpeg_quality"] = quality
    if icc:
        facts["icc_profile"] = icc_description(icc)
    return facts


def icc_description(icc: bytes) -> str:
    try:
        from PIL import ImageCms

        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        text = ImageCms.getProfileDescription(profile).strip()
        return text or f"unnamed profile ({len(icc)} bytes)"
    except Exception as exc:  # lcms raises its own error types for damaged profiles
        return f"unreadable ICC profile ({len(icc)} bytes; {type(exc).__name__})"
