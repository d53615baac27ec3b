"""Perceptual hashes and near-duplicate grouping."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from opensight_desktop.benchmarks.synthetic import synthetic_photo
from opensight_desktop.evidence import phash


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def test_copies_are_near_and_unrelated_images_are_far():
    image = synthetic_photo(640, 480, seed=3)
    original = phash.phash(image)
    copies = [
        image.resize((320, 240), Image.Resampling.BICUBIC),
        _jpeg(image, 40),
        ImageEnhance.Brightness(image).enhance(1.15),
        image.crop((12, 9, 628, 471)),
    ]
    assert all(phash.distance(original, phash.phash(c)) <= phash.DEFAULT_THRESHOLD for c in copies)
    others = [phash.phash(synthetic_photo(640, 480, seed=s)) for s in range(10, 20)]
    assert min(phash.distance(original, other) for other in others) > phash.DEFAULT_THRESHOLD


def test_hash_layout_is_16_hex_digits_first_bit_most_significant():
    # a left-to-right ramp: the horizontal frequencies of row 0 carry the energy
    ramp = Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), (256, 1)), "L")
    value = phash.phash(ramp)
    assert len(value) == 16 and int(value, 16) >> 63 in (0, 1)
    assert phash.parse(value) == int(value, 16)
    assert phash.parse("xyz") is None and phash.parse(None) is None


def _brute_groups(ids: list[int], values: list[int], threshold: int) -> dict[int, int]:
    array = np.array(values, dtype=np.uint64)
    near = np.bitwise_count(array[:, None] ^ array[None, :]) <= threshold
    parent = list(range(len(ids)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for a, b in zip(*np.nonzero(near), strict=True):
        ra, rb = root(int(a)), root(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[int, list[int]] = {}
    for index, item in enumerate(ids):
        members.setdefault(root(index), []).append(item)
    return {item: min(m) for m in members.values() if len(m) > 1 for item in m}


@pytest.mark.parametrize("threshold", [0, 3, 6, 10, 15])
def test_grouping_finds_exactly_what_comparing_all_pairs_finds(threshold):
    rng = np.random.default_rng(threshold)
    base = [int(v) for v in rng.integers(0, 2**63, size=400, dtype=np.int64)]
    values = list(base)
    for value in base[:150]:  # near copies at 1..16 bits
        flips = rng.choice(64, size=int(rng.integers(1, 17)), replace=False)
        values.append(value ^ sum(1 << int(bit) for bit in flips))
    values += base[:20]  # exact duplicates
    ids = [1000 + 3 * i for i in range(len(values))]
    assert phash.group(ids, values, threshold) == _brute_groups(ids, values, threshold)


def test_threshold_out_of_range_is_refused():
    with pytest.raises(ValueError, match="threshold"):
        phash.group([1, 2], [0, 1], phash.MAX_THRESHOLD + 1)


@pytest.mark.slow
def test_grouping_100000_hashes_takes_seconds():
    rng = np.random.default_rng(7)
    values = [int(v) for v in rng.integers(0, 2**63, size=100_000, dtype=np.int64)]
    started = time.perf_counter()
    phash.group(list(range(100_000)), values, phash.DEFAULT_THRESHOLD)
    assert time.perf_counter() - started < 10
