"""Perceptual hashes of images and groups of near-identical ones.

The hash is the common 64-bit DCT pHash, as the ``imagehash`` library computes it (the
same bits on 67 of 78 varied test images at 1x, 2x and 4x size; within 4 bits on the
others, but for exact chessboards whose DCT coefficients tie): the image is made 32x32
grey, its 2-D DCT-II is taken, and each of the 8x8 lowest frequencies becomes one bit, set
where it is above their median. Bits
are in row order, the first bit the most significant, written as 16 hex digits (as
``str(imagehash.phash(image))`` writes them), so other tools can compare our values.

Why not the ``imagehash`` library: it needs SciPy and PyWavelets (tens of megabytes) for
one 32x32 matrix product, which numpy does here in a few lines.

Grouping (:func:`group`) links every two hashes within ``threshold`` bits (Hamming
distance) and takes connected components, without comparing all pairs: multi-index
hashing. The 64 bits are cut into four 16-bit blocks; two hashes within ``threshold`` bits
differ in at most ``threshold // 4`` bits of at least one block (pigeonhole), so only
hashes whose block lies within that radius of the other's are compared, found by a bucket
table over the 65,536 values of each block.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from PIL import Image

HASH_SIZE = 8
SIDE = HASH_SIZE * 4  # 32: the grey image the DCT is taken over
# Chosen from measurement (benchmarks/phash_measure.py over 706 images: scikit-image's
# data images, Pillow's test images, 300 synthetic photos; 11 transformations each): at 10
# bits, 97 % of resized, recompressed, re-encoded, brightened and 2 %-cropped copies fall
# within it (crop 5 % per side: 40 %), and 0.14 % of pairs of different images do, nearly
# all of them the same picture in another format or near-blank test patterns (on the
# scikit-image photos, one pair: the two frames of a stereo pair).
DEFAULT_THRESHOLD = 10
MAX_THRESHOLD = 15  # beyond this, unrelated images merge (and the search degrades)
BLOCKS = 4
REDUCE_TO = 512
BLOCK_BITS = 64 // BLOCKS


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    return np.cos(np.pi * k * (2 * x + 1) / (2 * n))


_DCT = _dct_matrix(SIDE)


def phash(image: Image.Image) -> str:
    """The 64-bit pHash of ``image`` (any mode) as 16 hex digits."""
    # A large image is first averaged down by a whole factor to 512-1023 px on its long
    # side (a 12-megapixel PNG would otherwise cost 100 ms here); JPEGs come decoded at
    # such a scale already (DCT scaling). Then as imagehash does it (grey, then Lanczos).
    factor = max(image.size) // REDUCE_TO
    if factor >= 2:
        image = image.reduce(factor)
    small = image.convert("L").resize((SIDE, SIDE), Image.Resampling.LANCZOS)
    pixels = np.asarray(small, dtype=np.float64)
    low = (_DCT @ pixels @ _DCT.T)[:HASH_SIZE, :HASH_SIZE]
    bits = (low > np.median(low)).flatten()
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return f"{value:016x}"


def parse(text: str | None) -> int | None:
    """A stored hash as an integer; None for anything that is not 16 hex digits."""
    if not isinstance(text, str) or len(text) != 16:
        return None
    try:
        return int(text, 16)
    except ValueError:
        return None


def distance(a: str, b: str) -> int:
    first, second = parse(a), parse(b)
    if first is None or second is None:
        raise ValueError("not a 64-bit perceptual hash")
    return (first ^ second).bit_count()


def _flip_masks(radius: int) -> np.ndarray:
    masks = [0]
    for count in range(1, radius + 1):
        for bits in itertools.combinations(range(BLOCK_BITS), count):
            masks.append(sum(1 << bit for bit in bits))
    return np.array(masks, dtype=np.int64)


def near_pairs(hashes: np.ndarray, threshold: int) -> np.ndarray:
    """Index pairs (i < j) of ``hashes`` (uint64, distinct values) within ``threshold`` bits,
    as an (n, 2) array."""
    if not 0 <= threshold <= MAX_THRESHOLD:
        raise ValueError(f"threshold must be between 0 and {MAX_THRESHOLD} bits")
    n = len(hashes)
    found: list[np.ndarray] = []
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    masks = _flip_masks(threshold // BLOCKS)
    positions = np.arange(n, dtype=np.int64)
    for block in range(BLOCKS):
        values = ((hashes >> np.uint64(block * BLOCK_BITS)) & np.uint64(0xFFFF)).astype(np.int64)
        order = np.argsort(values, kind="stable")
        starts = np.zeros(1 << BLOCK_BITS | 1, dtype=np.int64)
        np.cumsum(np.bincount(values, minlength=1 << BLOCK_BITS), out=starts[1:])
        for mask in masks:
            target = values ^ mask
            lo, hi = starts[target], starts[target + 1]
            counts = hi - lo
            total = int(counts.sum())
            if total == 0:
                continue
            first = np.repeat(positions, counts)
            # offsets within each run: 0..count-1, laid end to end
            run_starts = np.repeat(np.cumsum(counts) - counts, counts)
            second = order[np.repeat(lo, counts) + (np.arange(total) - run_starts)]
            keep = first < second
            first, second = first[keep], second[keep]
            near = np.bitwise_count(hashes[first] ^ hashes[second]) <= threshold
            if near.any():
                found.append(np.stack([first[near], second[near]], axis=1))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(found), axis=0)


def group(ids: Sequence[int], hashes: Sequence[int], threshold: int) -> dict[int, int]:
    """{id: group} for every id in a group of two or more; the group is its smallest id.

    ``ids`` and ``hashes`` (64-bit integers) are parallel. Ids with the same hash are in one
    group; two hashes within ``threshold`` bits are in one group, and so on transitively
    (a burst drifts further than the threshold from end to end and stays one stack).
    """
    if len(ids) != len(hashes):
        raise ValueError("ids and hashes differ in length")
    if not ids:
        return {}
    values = np.array(hashes, dtype=np.uint64)
    unique, inverse = np.unique(values, return_inverse=True)
    parent = list(range(len(unique)))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in near_pairs(unique, threshold).tolist():
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[int, list[int]] = {}
    for item_id, index in zip(ids, inverse.tolist(), strict=True):
        members.setdefault(root(index), []).append(item_id)
    out: dict[int, int] = {}
    for group_ids in members.values():
        if len(group_ids) > 1:
            smallest = min(group_ids)
            out.update(dict.fromkeys(group_ids, smallest))
    return out
