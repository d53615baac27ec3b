"""PDF report time and peak memory for a large analysed case (a child process measures
only the report)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from opensight_desktop.benchmarks.synthetic import write_set

REPORT_CODE = """
import json, sys, time
from opensight_desktop.benchmarks.memory import peak_rss_mb
from opensight_desktop.case.store import Case
from opensight_desktop.report.pdf import ReportBuilder, ReportOptions
started = time.perf_counter()
with Case.open(sys.argv[1]) as case:
    result = ReportBuilder(case, ReportOptions()).write(sys.argv[2])
print(json.dumps({"seconds": round(time.perf_counter() - started, 1), "pages": result.pages,
                  "items": result.items, "peak_rss_mb": round(peak_rss_mb(), 1),
                  "bytes": __import__("os").path.getsize(sys.argv[2])}))
"""


def prepare_case(work: Path, items: int, model_id: str, device: str) -> Path:
    """An analysed case of ``items`` camera-like JPEGs (made once, then reused)."""
    from opensight_desktop.case.store import Case
    from opensight_desktop.detector.store import ModelStore
    from opensight_desktop.pipeline.analyze_job import AnalysisJob
    from opensight_desktop.pipeline.import_job import ImportJob

    path = work / f"report-{items}.osc"
    done = work / f"report-{items}.ready"
    if done.exists() and path.exists():
        return path
    for stale in work.glob(f"report-{items}.osc*"):
        stale.unlink()
    folder = work / f"report-images-{items}"
    write_set(folder, items, (640, 480), "JPEG", "rep")
    store = ModelStore()
    detector = store.load(store.find(model_id), device)
    with Case.create(
        path, number=f"BENCH-{items}", title="Report benchmark", examiner="Benchmark"
    ) as case:
        ImportJob(case, [str(folder)]).run()
        AnalysisJob(case, detector, batch_size=8, heatmaps=True).run()
    done.touch()
    return path


def run(work: Path, items: int, model_id: str, device: str) -> dict[str, Any]:
    case = prepare_case(work, items, model_id, device)
    output = work / f"report-{items}.pdf"
    out = subprocess.run(
        [sys.executable, "-c", REPORT_CODE, str(case), str(output)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
