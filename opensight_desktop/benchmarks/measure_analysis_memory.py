"""Memory over one analysis (``python -m opensight_desktop.benchmarks.measure_analysis_memory
MODEL_ID DEVICE FOLDER``): a fresh process imports FOLDER into a temporary case and analyses
it with heatmaps, sampling its resident memory as the run goes. Prints JSON."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from opensight_desktop.benchmarks.memory import peak_rss_mb, rss_mb
from opensight_desktop.case.store import Case
from opensight_desktop.detector.store import ModelStore
from opensight_desktop.pipeline.analyze_job import AnalysisJob
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.progress import Progress


def main(argv: list[str]) -> int:
    model_id, device, folder = argv
    store = ModelStore()
    detector = store.load(store.find(model_id), device)
    samples: list[tuple[int, float]] = []

    def sample(progress: Progress) -> None:
        samples.append((progress.done, round(rss_mb(), 1)))

    with (
        tempfile.TemporaryDirectory() as tmp,
        Case.create(Path(tmp) / "m.osc", number="m", title="m", examiner="m") as case,
    ):
        ImportJob(case, [folder]).run()
        summary = AnalysisJob(
            case, detector, batch_size=8, heatmaps=True, progress=sample, progress_interval=5.0
        ).run()
    figures = {
        "analyzed": summary.analyzed,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "samples": samples,
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
