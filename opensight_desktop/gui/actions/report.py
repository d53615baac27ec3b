"""Outputs of the case: the PDF report, JSON and CSV exports."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QAbstractButton, QFileDialog, QMessageBox

from opensight_desktop.gui import prefs
from opensight_desktop.gui.actions.jobs import start_job
from opensight_desktop.gui.actions.registry import Action, Menu, Place, Tool, When
from opensight_desktop.gui.dialogs import ReportDialog

if TYPE_CHECKING:
    from opensight_desktop.gui.main_window import MainWindow


def generate_report(window: MainWindow) -> None:
    case = window.session.case
    if case is None:
        return
    selected = list(window.session.selected_ids)
    filtered = window.filtered_ids() if window.filter_active() else None
    dialog = ReportDialog(len(selected), window, None if filtered is None else len(filtered))
    if dialog.exec() != ReportDialog.DialogCode.Accepted:
        return
    name, _ = QFileDialog.getSaveFileName(
        window,
        "Report",
        str(Path(prefs.last_folder("report")) / case.path.with_suffix(".report.pdf").name),
        "PDF (*.pdf)",
    )
    if not name:
        return
    prefs.remember_folder("report", name)
    window.item_panel.commit_notes()
    report_to(
        window,
        name,
        dialog.scope(),
        selected,
        dialog.appendix.isChecked(),
        review_states=dialog.review_states(),
        only=filtered if dialog.in_filter.isChecked() else None,
    )


def report_to(
    window: MainWindow,
    path: str,
    scope: str,
    selected: list[int],
    appendix: bool,
    *,
    review_states: list[str] | None = None,
    only: list[int] | None = None,
) -> bool:
    return start_job(
        window,
        "Report",
        lambda: window.session.report(
            path, scope, selected, appendix, review_states=review_states, only=only
        ),
    )


def report_done(window: MainWindow, result: Any) -> None:
    window.job_label.setText(f"Report written: {result.path} ({result.pages} pages)")
    box = QMessageBox(
        QMessageBox.Icon.Information if result.integrity_ok else QMessageBox.Icon.Warning,
        "Report",
        f"Report written to {result.path}\n{result.pages} pages, "
        f"{result.items} items.\nSHA-256 {result.sha256}\n(recorded in the audit log)"
        + (
            ""
            if result.integrity_ok
            else "\n\nThe integrity check found PROBLEMS; the report says which."
        ),
        parent=window,
    )
    open_button = box.addButton("Open", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Close)
    box.setObjectName("report-done")
    box.buttonClicked.connect(partial(_report_box_clicked, open_button, str(result.path)))
    box.open()


def _report_box_clicked(open_button: QAbstractButton, path: str, button: Any) -> None:
    if button is open_button:
        QDesktopServices.openUrl(QUrl.fromLocalFile(path))


def export_json(window: MainWindow) -> None:
    _export(window, "json")


def export_csv(window: MainWindow) -> None:
    _export(window, "csv")


def _export(window: MainWindow, fmt: str) -> None:
    case = window.session.case
    if case is None:
        return
    name, _ = QFileDialog.getSaveFileName(
        window,
        f"Export {fmt.upper()}",
        str(Path(prefs.last_folder("report")) / case.path.with_suffix(f".{fmt}").name),
        f"{fmt.upper()} (*.{fmt})",
    )
    if name:
        prefs.remember_folder("report", name)
        start_job(window, f"Export {fmt.upper()}", lambda: window.session.export(fmt, name))


def export_done(window: MainWindow, result: tuple[str, int]) -> None:
    window.job_label.setText(f"Exported {result[1]} items to {result[0]}")


ACTIONS = (
    Action(
        "report.pdf",
        "Generate &report (PDF)...",
        generate_report,
        "Ctrl+P",
        Place(Menu.CASE, 2, 0),
        Tool(4, "report", "Report"),
        When.CASE | When.IDLE,
    ),
    Action(
        "report.json",
        "Export &JSON...",
        export_json,
        "Ctrl+E",
        Place(Menu.CASE, 2, 1),
        when=When.CASE | When.IDLE,
    ),
    Action(
        "report.csv",
        "Export &CSV...",
        export_csv,
        place=Place(Menu.CASE, 2, 2),
        when=When.CASE | When.IDLE,
    ),
)
