"""Detector models: the manager, importing a file or folder, downloading (asked first)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QMessageBox

from opensight_desktop.gui.actions.jobs import start_job
from opensight_desktop.gui.actions.registry import Action, Menu, Place
from opensight_desktop.gui.dialogs import ModelManagerDialog, choose_model_file

if TYPE_CHECKING:
    from opensight_desktop.gui.main_window import MainWindow


def manage_models(window: MainWindow) -> None:
    dialog = ModelManagerDialog(window.session, window)
    dialog.import_requested.connect(partial(import_model, window))
    dialog.download_requested.connect(partial(download_model, window))
    dialog.finished.connect(window.session.models_changed)
    dialog.open()


def import_model_file(window: MainWindow) -> None:
    name = choose_model_file(window)
    if name:
        import_model(window, name)


def import_model(window: MainWindow, path: str) -> bool:
    return start_job(window, "Model import", lambda: window.session.import_model(path))


def download_model(window: MainWindow) -> None:
    answer = QMessageBox.question(
        window,
        "Download model",
        "This connects to huggingface.co to fetch the authors' "
        "weights (OwensLab/commfor-model-384, about 90 MB). Nothing else is sent. Continue?",
    )
    if answer == QMessageBox.StandardButton.Yes:
        start_job(window, "Model download", window.session.download_model)


def model_added(window: MainWindow, result: tuple[Any, bool]) -> None:
    model, created = result
    for dialog in window.findChildren(ModelManagerDialog):
        dialog.refresh()
    text = (
        f"{'Imported' if created else 'Already installed'}: {model.name} "
        f"[{model.format}]\nweights SHA-256 {model.id}\n"
    )
    text += (
        f"Matches the published {model.published_match}."
        if model.published_match
        else "\n".join(model.warnings)
    )
    QMessageBox.information(window, "Detector model", text)


ACTIONS = (
    Action("models.manage", "Detector &models...", manage_models, place=Place(Menu.TOOLS, 0, 0)),
)
