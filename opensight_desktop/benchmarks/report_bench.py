"""PDF report time and peak memory for a large analysed case (a child process measures
only the report)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opensight_desktop.benchmarks.child_process import run_module
from opensight_desktop.benchmarks.synthetic import write_set

MEASURE_REPORT = "opensight_desktop.benchmarks.measure_report"


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
    return run_module(MEASURE_REPORT, str(case), str(output))
