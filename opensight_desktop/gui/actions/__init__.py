"""The window's actions by domain, each declared once (``registry.Action``), and what the
window shows when each kind of job has succeeded."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from opensight_desktop.gui.actions import (
    analysis,
    app,
    case,
    evidence,
    jobs,
    models,
    report,
    review,
    triage,
    view,
)
from opensight_desktop.gui.actions.registry import Action
from opensight_desktop.session import JobKind

if TYPE_CHECKING:
    from opensight_desktop.gui.main_window import MainWindow

ACTIONS: tuple[Action, ...] = (
    *case.ACTIONS,
    *evidence.ACTIONS,
    *analysis.ACTIONS,
    *jobs.ACTIONS,
    *report.ACTIONS,
    *models.ACTIONS,
    *app.ACTIONS,
    *review.ACTIONS,
    *view.ACTIONS,
    *triage.ACTIONS,
)

JOB_DONE: dict[JobKind, Callable[[MainWindow, Any], None]] = {
    JobKind.IMPORT: evidence.import_done,
    JobKind.ANALYSIS: analysis.analysis_done,
    JobKind.TILE_SCAN: analysis.tile_scan_done,
    JobKind.VERIFY: case.verify_done,
    JobKind.REPORT: report.report_done,
    JobKind.EXPORT: report.export_done,
    JobKind.MODEL_IMPORT: models.model_added,
    JobKind.MODEL_DOWNLOAD: models.model_added,
    JobKind.HASHSET_IMPORT: triage.hashset_imported,
    JobKind.MATCH: triage.match_done,
    JobKind.REPORT_CHECK: case.report_checked,
}
