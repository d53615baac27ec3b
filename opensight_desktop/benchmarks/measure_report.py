"""One measured PDF report (``python -m opensight_desktop.benchmarks.measure_report CASE
OUT.pdf [--scope SCOPE]``): a fresh process, so that its peak memory is the report's own.
Prints JSON."""

from __future__ import annotations

import json
import os
import sys
import time

from opensight_desktop.benchmarks.memory import peak_rss_mb
from opensight_desktop.case.store import Case
from opensight_desktop.report.pdf import ReportBuilder, ReportOptions


def main(argv: list[str]) -> int:
    case_path, output, *rest = argv
    scope = rest[1] if rest[:1] == ["--scope"] and len(rest) > 1 else "all"
    started = time.perf_counter()
    with Case.open(case_path) as case:
        result = ReportBuilder(case, ReportOptions(scope=scope)).write(output)
    figures = {
        "seconds": round(time.perf_counter() - started, 1),
        "pages": result.pages,
        "items": result.items,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "bytes": os.path.getsize(output),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
