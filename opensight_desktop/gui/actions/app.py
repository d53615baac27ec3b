"""The application: settings, about."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

from opensight_desktop import __version__
from opensight_desktop.gui.actions.registry import Action, Menu, Place
from opensight_desktop.gui.dialogs import SettingsDialog

if TYPE_CHECKING:
    from opensight_desktop.gui.main_window import MainWindow


def edit_settings(window: MainWindow) -> None:
    dialog = SettingsDialog(window.session.settings, window)
    if dialog.exec() == SettingsDialog.DialogCode.Accepted:
        window.session.apply_settings()


def about(window: MainWindow) -> None:
    QMessageBox.about(
        window,
        "About OpenSight Desktop",
        f"<b>OpenSight Desktop {__version__}</b><br>Offline image forensics. "
        "Detector: Community Forensics ViT-S/16-384 (Park &amp; Owens, CVPR "
        "2025, arXiv 2411.04125). Scores are indications, not proof.",
    )


ACTIONS = (
    Action("app.settings", "&Settings...", edit_settings, place=Place(Menu.TOOLS, 0, 1)),
    Action("app.about", "&About", about, place=Place(Menu.HELP, 0, 0)),
)
