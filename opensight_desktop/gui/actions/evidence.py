"""Evidence: import folders and files (also dropped on the window); the right-click menu's
open containing folder and copy hashes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox

from opensight_desktop.errors import OpenSightError
from opensight_desktop.gui import prefs
from opensight_desktop.gui.actions.jobs import start_job
from opensight_desktop.gui.actions.registry import Action, ContextPlace, Menu, Place, Tool, When
from opensight_desktop.gui.dialogs import choose_folders

if TYPE_CHECKING:
    from opensight_desktop.gui.main_window import MainWindow


def import_folder(window: MainWindow) -> None:
    names = choose_folders(window, "Import folders (Ctrl or Shift and click: several)", "evidence")
    if names:
        import_paths(window, names)


def import_files(window: MainWindow) -> None:
    names, _ = QFileDialog.getOpenFileNames(window, "Import files", prefs.last_folder("evidence"))
    if names:
        prefs.remember_folder("evidence", names[0])
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


def open_containing_folder(window: MainWindow) -> None:
    """The folder in the file manager: never the file itself (opening evidence in another
    program may change it or run what it holds)."""
    try:
        folder = window.session.containing_folder()
    except OpenSightError as exc:
        QMessageBox.warning(window, "Open containing folder", str(exc))
        return
    if not folder.is_dir():
        QMessageBox.warning(window, "Open containing folder", f"The folder {folder} is not there.")
        return
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def copy_hashes(window: MainWindow) -> None:
    text = window.session.hash_lines()
    if text:
        QGuiApplication.clipboard().setText(text)
        count = len(window.session.targets())
        window.job_label.setText(f"Hashes of {count} item(s) copied (MD5, SHA-1, SHA-256)")


ACTIONS = (
    Action(
        "evidence.import_folder",
        "Import &folders...",
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
    Action(
        "evidence.open_folder",
        "Open containing &folder",
        open_containing_folder,
        when=When.CURRENT,
        context=ContextPlace(2, 0),
    ),
    Action(
        "evidence.copy_hashes",
        "&Copy hashes (MD5, SHA-1, SHA-256)",
        copy_hashes,
        when=When.CURRENT,
        context=ContextPlace(2, 1),
    ),
)
