"""Evidence import: folders and files (also dropped on the window)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QFileDialog

from opensight_desktop.gui.actions.jobs import start_job
from opensight_desktop.gui.actions.registry import Action, Menu, Place, Tool, When

if TYPE_CHECKING:
    from opensight_desktop.gui.main_window import MainWindow


def import_folder(window: MainWindow) -> None:
    name = QFileDialog.getExistingDirectory(window, "Import folder", str(Path.home()))
    if name:
        import_paths(window, [name])


def import_files(window: MainWindow) -> None:
    names, _ = QFileDialog.getOpenFileNames(window, "Import files", str(Path.home()))
    if names:
        import_paths(window, names)


def import_paths(window: MainWindow, paths: list[str]) -> bool:
    return start_job(window, "Import", lambda: window.session.import_paths(paths))


def import_done(window: MainWindow, summary: Any) -> None:
    reasons = "; ".join(f"{n} {r}" for r, n in summary.skip_reasons.most_common(3))
    window.job_label.setText(
        f"Import {summary.state}: {summary.imported} new, {summary.duplicates} duplicates, "
        f"{summary.already_present} already in case, {summary.skipped} skipped"
        + (f" ({reasons})" if reasons else "")
        + f", {summary.errors} errors"
    )


ACTIONS = (
    Action(
        "evidence.import_folder",
        "Import &folder...",
        import_folder,
        "Ctrl+I",
        Place(Menu.EVIDENCE, 0, 0),
        Tool(0, "import", "Import"),
        When.WRITABLE | When.IDLE,
    ),
    Action(
        "evidence.import_files",
        "Import f&iles...",
        import_files,
        "Ctrl+Shift+I",
        Place(Menu.EVIDENCE, 0, 1),
        when=When.WRITABLE | When.IDLE,
    ),
)
