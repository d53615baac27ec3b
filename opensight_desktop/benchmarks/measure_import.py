"""One measured import (``python -m opensight_desktop.benchmarks.measure_import CASE
FOLDER``): a fresh process, so that its peak memory is the import's own. Prints JSON."""

from __future__ import annotations

import json
import sys
import time

from opensight_desktop.benchmarks.memory import peak_rss_mb
from opensight_desktop.case.store import Case
from opensight_desktop.pipeline.import_job import ImportJob


def main(argv: list[str]) -> int:
    case_path, folder = argv
    case = Case.create(case_path, number="bench", title="bench", examiner="bench")
    started = time.perf_counter()
    summary = ImportJob(case, [folder]).run()
    elapsed = time.perf_counter() - started
    case.close()
    figures = {
        "seconds": elapsed,
        "imported": summary.imported,
        "errors": summary.errors,
        "peak_rss_mb": peak_rss_mb(),
        "metadata_share": summary.metadata_seconds / max(summary.file_seconds, 1e-9),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
