"""Import throughput against the coreutils hash tools, and memory against file count.

Ratio = import time / (md5sum + sha1sum + sha256sum run one after another on the same
files), both measured in the same run with the files in the page cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypedDict

from opensight_desktop.benchmarks.child_process import run_module
from opensight_desktop.benchmarks.sizes import Sizes
from opensight_desktop.benchmarks.synthetic import write_set

MEASURE_IMPORT = "opensight_desktop.benchmarks.measure_import"
# files per set: 12-megapixel camera JPEGs, small JPEGs; then the file counts of the
# memory runs
SET_COUNTS: dict[Sizes, tuple[int, int]] = {
    "full": (100, 2000),
    "quick": (10, 200),
    "tiny": (2, 4),
}
MEMORY_COUNTS: dict[Sizes, tuple[int, ...]] = {
    "full": (1000, 10000),
    "quick": (500, 2000),
    "tiny": (10, 20),
}


@dataclass
class ImportFigure:
    name: str
    files: int
    megabytes: float
    import_s: float
    hash_tools_s: float
    metadata_share: float

    @property
    def ratio(self) -> float:
        return self.import_s / self.hash_tools_s if self.hash_tools_s else float("nan")


class ImportReport(TypedDict):
    throughput: list[dict[str, Any]]  # ImportFigure fields and the ratio, per set
    memory: list[dict[str, float]]  # files, peak_rss_mb, seconds, per run
    cpu_count: int | None


def _warm(paths: list[Path]) -> None:
    for path in paths:
        with open(path, "rb") as handle:
            while handle.read(1 << 20):
                pass


def time_hash_tools(paths: list[Path]) -> float:
    tools = [t for t in (shutil.which(n) for n in ("md5sum", "sha1sum", "sha256sum")) if t]
    if len(tools) != 3:
        raise RuntimeError("md5sum/sha1sum/sha256sum not found (coreutils)")
    args = [str(p) for p in paths]
    started = time.perf_counter()
    for tool in tools:
        for start in range(0, len(args), 500):  # stay below the argument-length limit
            subprocess.run(
                [tool, *args[start : start + 500]], check=True, stdout=subprocess.DEVNULL
            )
    return time.perf_counter() - started


def _import_in_subprocess(folder: Path, case_dir: Path) -> dict[str, float]:
    """Import into a fresh case in a child process: its own peak RSS and wall time."""
    return run_module(MEASURE_IMPORT, str(case_dir / "bench.osc"), str(folder))


def run(work: Path, sizes: Sizes = "full") -> ImportReport:
    work.mkdir(parents=True, exist_ok=True)
    cameras, small = SET_COUNTS[sizes]
    sets = [
        ("12-megapixel camera JPEGs", "camera12mp", cameras, (4000, 3000), "JPEG"),
        ("small images (640x480 JPEG)", "small", small, (640, 480), "JPEG"),
    ]
    figures = []
    for label, name, count, size, fmt in sets:
        paths = write_set(work / name, count, size, fmt, name)
        _warm(paths)
        tools = time_hash_tools(paths)
        with tempfile.TemporaryDirectory(dir=work) as case_dir:
            result = _import_in_subprocess(work / name, Path(case_dir))
        megabytes = sum(p.stat().st_size for p in paths) / 1e6
        figures.append(
            ImportFigure(
                label,
                count,
                round(megabytes, 1),
                round(result["seconds"], 2),
                round(tools, 2),
                round(result["metadata_share"], 3),
            )
        )
    memory: list[dict[str, float]] = []
    for count in MEMORY_COUNTS[sizes]:
        paths = write_set(work / "tiny", count, (96, 64), "PNG", "tiny")
        folder = work / f"tiny-{count}"
        folder.mkdir(exist_ok=True)
        for path in paths[:count]:
            link = folder / path.name
            if not link.exists():
                os.link(path, link)
        with tempfile.TemporaryDirectory(dir=work) as case_dir:
            result = _import_in_subprocess(folder, Path(case_dir))
        memory.append(
            {
                "files": count,
                "peak_rss_mb": round(result["peak_rss_mb"], 1),
                "seconds": round(result["seconds"], 2),
            }
        )
    return {
        "throughput": [{**asdict(f), "ratio": round(f.ratio, 2)} for f in figures],
        "memory": memory,
        "cpu_count": os.cpu_count(),
    }


def format_report(result: ImportReport) -> str:
    lines = ["Import (hash + sniff + decode + thumbnail + case write) vs md5sum+sha1sum+sha256sum:"]
    for row in result["throughput"]:
        lines.append(
            f"  {row['name']}: {row['files']} files, {row['megabytes']} MB: import "
            f"{row['import_s']} s, hash tools {row['hash_tools_s']} s, ratio {row['ratio']}x; "
            f"metadata {row['metadata_share'] * 100:.1f}% of per-file work"
        )
    lines.append("Peak memory (RSS of the importing process) against file count:")
    for measured in result["memory"]:
        lines.append(
            f"  {measured['files']} files: {measured['peak_rss_mb']} MB ({measured['seconds']} s)"
        )
    return "\n".join(lines)
