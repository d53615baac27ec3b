"""The detector: analyse all or the selected items, a tile scan of one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QMessageBox

from opensight_desktop import present
from opensight_desktop.gui.actions.jobs import start_job
from opensight_desktop.gui.actions.registry import Action, Menu, Place, Tool, When
from opensight_desktop.gui.dialogs import show_text

if TYPE_CHECKING:
    from opensight_desktop.gui.main_window import MainWindow


def _model_installed(window: MainWindow, title: str) -> bool:
    if window.session.models_installed:
        return True
    QMessageBox.information(
        window,
        title,
        "No detector model is installed. Use Tools > Detector models to import the weights.",
    )
    return False


def analyze_all(window: MainWindow) -> None:
    if _model_installed(window, "Analyse"):
        start_job(window, "Analyse", window.session.analyse)


def analyze_selected(window: MainWindow) -> None:
    ids = list(window.session.selected_ids)
    if ids and _model_installed(window, "Analyse"):
        start_job(window, "Analyse", lambda: window.session.analyse(ids))


def analysis_done(window: MainWindow, summary: Any) -> None:
    if summary.total == 0:
        window.job_label.setText("Nothing to analyse: every item has a result from this model.")
        return
    verdicts = ", ".join(
        f"{n} {present.verdict_label(v).lower()}" for v, n in summary.verdicts.items()
    )
    window.job_label.setText(
        f"Analysis {summary.state} on {summary.device}: "
        f"{summary.analyzed} analysed ({verdicts}), {summary.errors} errors"
    )


def tile_scan(window: MainWindow) -> None:
    if _model_installed(window, "Tile scan"):
        start_job(window, "Tile scan", window.session.tile_scan)


def tile_scan_done(window: MainWindow, result: Any) -> None:
    if not result.complete:
        window.job_label.setText("Tile scan cancelled; nothing stored.")
        return
    top = sorted(result.tiles, key=lambda t: -t[2])[:5]
    lines = [
        f"{len(result.tiles)} tiles of {result.tile_size} px, stride {result.stride}. "
        f"Highest P(generated) {present.probability_text(result.highest)}, "
        f"lowest {present.probability_text(result.lowest)}.",
        "Highest tiles (left, top, P):",
    ]
    lines += [f"  ({left}, {top}) {present.probability_text(p)}" for left, top, p in top]
    show_text(window, "Tile scan", "\n".join(lines))


ACTIONS = (
    Action(
        "analysis.all",
        "&Analyse all",
        analyze_all,
        "Ctrl+R",
        Place(Menu.EVIDENCE, 1, 0),
        Tool(1, "analyze", "Analyse"),
        When.WRITABLE | When.IDLE,
    ),
    Action(
        "analysis.selected",
        "Analyse &selected",
        analyze_selected,
        "Ctrl+Shift+R",
        Place(Menu.EVIDENCE, 1, 1),
        when=When.WRITABLE | When.IDLE | When.SELECTION,
    ),
    Action(
        "analysis.tile_scan",
        "&Tile scan of this image",
        tile_scan,
        place=Place(Menu.EVIDENCE, 1, 2),
        when=When.WRITABLE | When.IDLE | When.CURRENT,
    ),
)
