"""The viewer's keys (heatmap, side by side, fit) and the search field's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opensight_desktop.gui.actions.registry import Action, When

if TYPE_CHECKING:
    from opensight_desktop.gui.main_window import MainWindow


def toggle_heatmap(window: MainWindow) -> None:
    window.viewer.toggle_heatmap()


def toggle_side_by_side(window: MainWindow) -> None:
    window.viewer.set_side_by_side(not window.viewer.side_button.isChecked())


def fit(window: MainWindow) -> None:
    window.viewer.view.fit()


def search(window: MainWindow) -> None:
    window.search.setFocus()


ACTIONS = (
    Action("view.heatmap", "Heatmap on or off", toggle_heatmap, "H", when=When.CASE),
    Action("view.side_by_side", "Side by side", toggle_side_by_side, "S", when=When.CASE),
    Action("view.fit", "Fit the picture", fit, "F", when=When.CASE),
    Action("view.search", "Search", search, "Ctrl+F", when=When.CASE),
)
