"""The application: settings, the keyboard shortcuts, about."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

from opensight_desktop import __version__
from opensight_desktop.gui.actions.registry import Action, Menu, Place, shortcut_rows
from opensight_desktop.gui.dialogs import SettingsDialog, ShortcutHelp

if TYPE_CHECKING:
    from opensight_desktop.gui.main_window import MainWindow


def edit_settings(window: MainWindow) -> None:
    dialog = SettingsDialog(window.session.settings, window)
    if dialog.exec() == SettingsDialog.DialogCode.Accepted:
        window.session.apply_settings()


def shortcut_help(window: MainWindow) -> None:
    from opensight_desktop.gui.actions import ACTIONS  # the registry: every declared key

    ShortcutHelp(shortcut_rows(ACTIONS), window).open()


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
    Action(
        "app.shortcuts",
        "&Keyboard shortcuts",
        shortcut_help,
        "F1",
        Place(Menu.HELP, 0, 0),
        more_keys=("?",),
    ),
    Action("app.about", "&About", about, place=Place(Menu.HELP, 0, 1)),
)
