"""Triage at scale, on synthetic data: a hash set's import rate, matching a case against it,
grouping perceptual hashes, and filter queries.

The case is written directly (items with random hashes and metadata, no image files):
what is measured is the lookup, grouping and query work, not the import of images (the
import benchmark measures that). Every figure comes from one run on this machine.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert

from opensight_desktop.benchmarks.sizes import Sizes
from opensight_desktop.case.models import EvidenceFile, EvidenceItem, ImportSession, ItemMetadata
from opensight_desktop.case.similar import similar_groups
from opensight_desktop.case.states import ItemStatus, ReviewState, RunState
from opensight_desktop.case.store import Case
from opensight_desktop.case.triage import NOT_ANALYSED, Filter, filter_items
from opensight_desktop.evidence import phash
from opensight_desktop.hashsets.store import import_set, store_dir
from opensight_desktop.pipeline.match_job import MatchJob
from opensight_desktop.timeutil import utc_now

# (items in the case, entries in the hash set)
SIZES: dict[Sizes, tuple[int, int]] = {
    "full": (100_000, 10_000_000),
    "quick": (20_000, 1_000_000),
    "tiny": (300, 3_000),
}
HIT_SHARE = 0.3  # items whose MD5 is in the set (known files of a seizure)
NEAR_SHARE = 0.2  # items that are near copies of another (bursts, resized copies)
FILTER_REPEATS = 20


def _hex(rng: np.random.Generator, count: int, size: int) -> list[str]:
    raw = rng.integers(0, 256, size=(count, size), dtype=np.uint8)
    return [row.tobytes().hex() for row in raw]


def _write_set(path: Path, md5s: list[str], total: int, rng: np.random.Generator) -> None:
    """A plain MD5 list of ``total`` lines that contains ``md5s``."""
    with open(path, "w", encoding="ascii") as handle:
        handle.writelines(value + "\n" for value in md5s)
        left = total - len(md5s)
        while left > 0:
            count = min(left, 500_000)
            handle.writelines(value + "\n" for value in _hex(rng, count, 16))
            left -= count


def _phashes(rng: np.random.Generator, count: int) -> list[int]:
    values = [int(v) for v in rng.integers(0, 2**63, size=count, dtype=np.int64)]
    near = int(count * NEAR_SHARE)
    for index in range(near):
        source = values[int(rng.integers(near, count))]
        flips = rng.choice(64, size=int(rng.integers(0, 7)), replace=False)
        values[index] = source ^ sum(1 << int(bit) for bit in flips)
    return values


def make_case(path: Path, count: int, rng: np.random.Generator) -> tuple[list[str], list[int]]:
    """A case of ``count`` items written directly (no image files); returns the MD5s a
    hash set should list (``HIT_SHARE`` of the items) and the perceptual hashes."""
    md5s, sha1s, sha256s = _hex(rng, count, 16), _hex(rng, count, 20), _hex(rng, count, 32)
    hashes = _phashes(rng, count)
    now = utc_now()
    states = list(ReviewState)
    with (
        Case.create(path, number="bench", title="triage benchmark", examiner="bench") as case,
        case.write() as session,
    ):
        session.add(
            ImportSession(
                id=1,
                started_utc=now,
                finished_utc=now,
                state=RunState.COMPLETED,
                sources=["/bench"],
                recursive=True,
                user="bench",
                host="bench",
            )
        )
        session.flush()
        for start in range(0, count, 10_000):
            stop = min(count, start + 10_000)
            session.execute(
                insert(EvidenceItem),
                [
                    {
                        "id": i + 1,
                        "sha256": sha256s[i],
                        "sha1": sha1s[i],
                        "md5": md5s[i],
                        "size_bytes": 1000 + i,
                        "status": ItemStatus.IMPORTED,
                        "added_utc": now,
                        "import_session_id": 1,
                        "review_state": states[i % len(states)],
                        "notes": "",
                        "phash": f"{hashes[i]:016x}",
                    }
                    for i in range(start, stop)
                ],
            )
            session.execute(
                insert(EvidenceFile),
                [
                    {
                        "item_id": i + 1,
                        "import_session_id": 1,
                        "path": f"/bench/folder{i % 50}/img{i}.jpg",
                        "path_raw": f"/bench/folder{i % 50}/img{i}.jpg".encode(),
                        "file_name": f"img{i}.jpg",
                        "size_bytes": 1000 + i,
                        "is_duplicate": False,
                        "added_utc": now,
                    }
                    for i in range(start, stop)
                ],
            )
            session.execute(
                insert(ItemMetadata),
                [
                    {
                        "item_id": i + 1,
                        "camera_make": f"Make{i % 7}",
                        "camera_model": f"Model{i % 13}",
                        "datetime_original": f"20{10 + i % 15}-{1 + i % 12:02d}-"
                        f"{1 + i % 28:02d}T12:00:00",
                        "gps_latitude": 48.0 + (i % 100) / 100 if i % 3 == 0 else None,
                        "gps_longitude": 11.0 if i % 3 == 0 else None,
                        "exif": {},
                        "extra": {},
                        "problems": [],
                    }
                    for i in range(start, stop)
                ],
            )
    hits = [md5s[i] for i in range(0, count, max(1, round(1 / HIT_SHARE)))]
    return hits, hashes


FILTERS: dict[str, Filter] = {
    "hide known files": Filter(hide_known=True),
    "not analysed, not reviewed": Filter(
        verdicts=[NOT_ANALYSED], review_states=[ReviewState.NOT_REVIEWED]
    ),
    "camera + date range": Filter(
        cameras=[("Make1", "Model3")], taken_from="2015-01-01", taken_to="2019-12-31"
    ),
    "has GPS, folder": Filter(has_gps=True, folder="/bench/folder7"),
    "stack representatives, hide known": Filter(representatives_only=True, hide_known=True),
}


def run(work: Path, sizes: Sizes) -> dict[str, Any]:
    items, entries = SIZES[sizes]
    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(15)
    case_path = work / f"triage-{items}.osc"
    for stale in work.glob(f"triage-{items}.osc*"):
        stale.unlink()
    hits, hashes = make_case(case_path, items, rng)
    set_path = work / f"hashset-{entries}.txt"
    _write_set(set_path, hits, entries, rng)
    started = time.perf_counter()
    info = import_set(set_path, f"bench {entries} {time.time_ns()}", "known", "list")
    import_s = time.perf_counter() - started
    set_path.unlink()
    with Case.open(case_path) as case:
        started = time.perf_counter()
        summary = MatchJob(case).run()
        match_s = time.perf_counter() - started
        ids = list(range(1, items + 1))
        started = time.perf_counter()
        phash.group(ids, hashes, phash.DEFAULT_THRESHOLD)
        group_s = time.perf_counter() - started
        filters: dict[str, Any] = {}
        with case.read() as session:
            groups = similar_groups(session)
            for name, criteria in FILTERS.items():
                times = []
                found = 0
                for _ in range(FILTER_REPEATS):
                    started = time.perf_counter()
                    found = len(filter_items(session, criteria, groups))
                    times.append(time.perf_counter() - started)
                filters[name] = {
                    "items": found,
                    "median_ms": round(statistics.median(times) * 1000, 1),
                    "p95_ms": round(sorted(times)[int(0.95 * (len(times) - 1))] * 1000, 1),
                }
    size_mb = os.path.getsize(store_dir() / info.file) / 1e6
    return {
        "items": items,
        "set_entries": info.entries,
        "set_import_s": round(import_s, 1),
        "set_import_rate_per_s": round(info.entries / import_s),
        "set_file_mb": round(size_mb, 1),
        "match_s": round(match_s, 2),
        "items_with_hits": summary.items_with_hits,
        "group_s": round(group_s, 2),
        "stacks": len(set(groups.values())),
        "filters": filters,
        "filter_p95_ms": max(f["p95_ms"] for f in filters.values()),
    }


def format_report(result: dict[str, Any]) -> str:
    lines = [
        f"  hash set: {result['set_entries']:,} entries imported in {result['set_import_s']} s "
        f"({result['set_import_rate_per_s']:,} entries/s; {result['set_file_mb']} MB on disk)",
        f"  match: {result['items']:,} items against it in {result['match_s']} s "
        f"({result['items_with_hits']:,} in the set)",
        f"  grouping {result['items']:,} perceptual hashes: {result['group_s']} s "
        f"({result['stacks']:,} stacks)",
        f"  filter queries, median / p95 of {FILTER_REPEATS} runs (stacks computed once before):",
    ]
    for name, row in result["filters"].items():
        lines.append(f"    {name}: {row['items']:,} items, {row['median_ms']} / {row['p95_ms']} ms")
    return "\n".join(lines)
