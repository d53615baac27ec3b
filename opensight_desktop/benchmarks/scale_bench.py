"""A seizure-sized case (issue 15's scale targets): ``bench --suite scale``.

Writes N distinct small camera-like JPEGs (100,000 in the full run), then, in one run and
on the same files: md5sum + sha1sum + sha256sum one after another (files in the page
cache), the import into a fresh case (child process: its own wall time and peak RSS), and a
summary-scope PDF report of that case (child process: wall time, peak RSS). The ratio
import / hash tools is the figure the target is about; both sides read the same files.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from opensight_desktop.benchmarks.child_process import run_module
from opensight_desktop.benchmarks.import_bench import MEASURE_IMPORT, _warm, time_hash_tools
from opensight_desktop.benchmarks.sizes import Sizes
from opensight_desktop.benchmarks.synthetic import write_set

MEASURE_REPORT = "opensight_desktop.benchmarks.measure_report"
ITEMS: dict[Sizes, int] = {"full": 100_000, "quick": 2_000, "tiny": 6}
SIZE = (320, 240)  # about 36 KB a file with camera EXIF and its thumbnail


def run(work: Path, sizes: Sizes) -> dict[str, Any]:
    count = ITEMS[sizes]
    folder = work / f"scale-{count}"
    paths = write_set(folder, count, SIZE, "JPEG", "scale")
    megabytes = sum(p.stat().st_size for p in paths) / 1e6
    _warm(paths)
    tools = time_hash_tools(paths)
    with tempfile.TemporaryDirectory(dir=work) as case_dir:
        case = Path(case_dir) / "scale.osc"
        imported = run_module(MEASURE_IMPORT, str(case), str(folder))
        report = run_module(
            MEASURE_REPORT, str(case), str(Path(case_dir) / "summary.pdf"), "--scope", "summary"
        )
    return {
        "files": count,
        "megabytes": round(megabytes, 1),
        "hash_tools_s": round(tools, 2),
        "import_s": round(imported["seconds"], 1),
        "import_ratio": round(imported["seconds"] / tools, 1) if tools else None,
        "import_files_per_s": round(count / imported["seconds"], 1),
        "import_peak_rss_mb": round(imported["peak_rss_mb"], 1),
        "imported": imported["imported"],
        "errors": imported["errors"],
        "summary_report_s": report["seconds"],
        "summary_report_pages": report["pages"],
        "summary_report_peak_rss_mb": report["peak_rss_mb"],
        "cpu_count": os.cpu_count(),
    }


def format_report(result: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"Scale: {result['files']:,} files, {result['megabytes']} MB",
            f"  md5sum+sha1sum+sha256sum {result['hash_tools_s']} s; import "
            f"{result['import_s']} s ({result['import_files_per_s']} files/s, peak "
            f"{result['import_peak_rss_mb']} MB): {result['import_ratio']}x the hash tools",
            f"  summary report: {result['summary_report_s']} s, "
            f"{result['summary_report_pages']} pages, "
            f"peak {result['summary_report_peak_rss_mb']} MB",
        ]
    )
