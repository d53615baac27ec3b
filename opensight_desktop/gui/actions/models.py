"""Detector models: the manager, importing a file or folder, downloading (asked first)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QMessageBox

from opensight_desktop import present
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
    done = "Imported" if created else "Already installed"
    release = present.release_text(model.id)
    window.job_label.setText(f"Model {done.lower()}: {model.name} ({release})")
    text = f"{done}: {model.name} [{model.format}]\nweights SHA-256 {model.id}\n\n"
    if present.is_unpublished(model.id):
        QMessageBox.warning(
            window,
            "Detector model: weights not published",
            text + present.UNPUBLISHED_WEIGHTS + "\n\nThey were not made the active model. "
            "To analyse with them anyway, choose them in Tools > Detector models > Use selected.",
        )
        return
    QMessageBox.information(window, "Detector model", text + present.weights_sentence(model.id))


ACTIONS = (
    Action("models.manage", "Detector &models...", manage_models, place=Place(Menu.TOOLS, 0, 0)),
)
