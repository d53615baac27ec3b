"""The case: new, open, close, the examiner working on it, its integrity check, checking a
report, the audit log and information."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QFileDialog, QMessageBox

from opensight_desktop.case import audit
from opensight_desktop.errors import OpenSightError
from opensight_desktop.gui import examiner, prefs
from opensight_desktop.gui.actions.jobs import start_job
from opensight_desktop.gui.actions.registry import Action, Menu, Place, Tool, When
from opensight_desktop.gui.dialogs import AuditLogDialog, NewCaseDialog, show_outcome, show_text

if TYPE_CHECKING:
    from opensight_desktop.gui.main_window import MainWindow


def new_case(window: MainWindow) -> None:
    dialog = NewCaseDialog(window, default_folder=str(Path(prefs.last_folder("case")) / "case.osc"))
    # Until the case is created or the form cancelled: a case that cannot be created keeps
    # the form open with everything typed, and says why.
    while dialog.exec() == NewCaseDialog.DialogCode.Accepted:
        values = dialog.values()
        path = values.pop("path")
        if not confirm_stop_job(window, "open the new case"):
            return
        window.item_panel.commit_notes()
        try:
            window.session.create(path, **values)
        except OpenSightError as exc:
            QMessageBox.warning(window, "New case", str(exc))
            continue
        prefs.remember_folder("case", path)
        # the examiner who creates the case is the one working
        choose_examiner(window, values["examiner"], ask=False)
        return


def open_case_dialog(window: MainWindow) -> None:
    name, _ = QFileDialog.getOpenFileName(
        window, "Open case", prefs.last_folder("case"), "OpenSight cases (*.osc);;All files (*)"
    )
    if name:
        prefs.remember_folder("case", name)
        open_case(window, name)


def open_case(window: MainWindow, path: str) -> bool:
    """Open a case in the window (closing the open one first, asking if a job runs)."""
    if not close_case(window):
        return False
    try:
        case = window.session.open(path)
    except OpenSightError as exc:
        QMessageBox.warning(window, "Open case", str(exc))
        return False
    if case.read_only:
        QMessageBox.warning(
            window,
            "Case open read-only",
            "\n\n".join(line[0].upper() + line[1:] + "." for line in case.notices())
            + "\n\nViewing, verifying, reports and exports work; nothing can be changed.",
        )
    if case.upgraded:
        QMessageBox.information(
            window,
            "Case upgraded",
            f"The case file was upgraded from schema {case.upgraded.from_revision} to "
            f"{case.upgraded.to_revision}. A backup copy of the old file was made "
            f"first:\n{case.upgraded.backup}",
        )
    if not window.examiner_asked and not case.read_only:
        choose_examiner(window, case.summary().examiner)
    return True


def choose_examiner(window: MainWindow, case_examiner: str, ask: bool = True) -> None:
    """Who makes this session's changes (audit entries name them): asked, with the name
    remembered from last time (else the case's examiner) filled in; not asked when the
    environment names the examiner (``OPENSIGHT_EXAMINER``)."""
    name: str | None = case_examiner
    given = " ".join(os.environ.get(audit.EXAMINER_ENV, "").split())
    if ask and given:  # named by the environment (a shared workstation's set-up, benchmarks)
        name, ask = given, False
    if ask:
        default = prefs.remembered_examiner() or case_examiner
        name = examiner.ask_examiner(window, default, case_examiner)
        if name is None:  # not answered: the case's examiner, asked again next time
            return
    window.examiner_asked = True
    window.session.set_examiner(name or None)
    if name:
        prefs.remember_examiner(name)
    window.show_examiner()


def change_examiner(window: MainWindow) -> None:
    case = window.session.case
    choose_examiner(window, case.summary().examiner if case is not None else "")


def close_case(window: MainWindow) -> bool:
    """Close the open case; False if the examiner chose to let a running job go on."""
    session = window.session
    if session.case is None:
        return True
    if session.job is not None and not confirm_stop_job(window, "close the case"):
        return False
    window.item_panel.commit_notes()
    session.close()
    return True


def confirm_stop_job(window: MainWindow, why: str) -> bool:
    """Ask, then cancel the running job and wait for it; False if the answer was no."""
    job = window.session.job
    if job is None:
        return True
    answer = QMessageBox.question(
        window,
        "Job running",
        f"'{job.name}' is running. Cancel it and {why}? Finished work is kept.",
    )
    if answer != QMessageBox.StandardButton.Yes:
        return False
    window.session.stop_job()
    return True


def verify(window: MainWindow) -> None:
    start_job(window, "Integrity check", window.session.verify)


def verify_done(window: MainWindow, report: Any) -> None:
    from opensight_desktop.case.integrity import describe

    window.job_label.setText("Integrity: " + ("verified" if report.ok else "PROBLEMS FOUND"))
    headline = (
        "Verified: every check passed."
        if report.ok
        else "PROBLEMS FOUND: the case or its evidence is not as recorded (details below)."
    )
    show_outcome(window, "Integrity check", report.ok, headline, "\n".join(describe(report)))


def verify_report(window: MainWindow) -> None:
    """Is a PDF a report this case recorded? (hashed off the GUI thread)"""
    name, _ = QFileDialog.getOpenFileName(
        window, "Verify a report", prefs.last_folder("report"), "PDF (*.pdf);;All files (*)"
    )
    if name:
        prefs.remember_folder("report", name)
        start_job(window, "Verify a report", lambda: window.session.verify_report(name))


def report_checked(window: MainWindow, check: Any) -> None:
    from opensight_desktop.report.verification import describe

    lines = describe(check)
    window.job_label.setText(f"Report check: {lines[-1].removeprefix('Result: ')}")
    show_outcome(window, "Verify a report", check.ok, lines[-1], "\n".join(lines))


def show_audit_log(window: MainWindow) -> None:
    AuditLogDialog(window.session.audit_log(), window).open()


def show_case_info(window: MainWindow) -> None:
    case = window.session.case
    assert case is not None
    s = case.summary()
    lines = [
        f"Case number: {s.number}",
        f"Title: {s.title}",
        f"Examiner: {s.examiner}",
        f"Agency: {s.agency or '-'}",
        f"Description: {s.description or '-'}",
        f"Created: {s.created_utc.isoformat()} (examiner's zone {s.tz_name})",
        f"Case file: {s.path}",
        f"Schema: {s.schema_revision}",
        f"Items: {s.items} " + str(s.items_by_status),
        f"Files: {s.files}",
        f"Detector results: {s.detection_results}",
        f"Audit entries: {s.audit_entries}",
        "Access: " + (f"read-only: {case.read_only_reason}" if case.read_only else "read-write"),
        "Schema check: "
        + (
            "\n  ".join(
                ["not as OpenSight creates it:"] + [d.describe() for d in case.schema_differences]
            )
            if case.schema_differences
            else "as OpenSight creates it"
        ),
    ]
    show_text(window, "Case information", "\n".join(lines))


def quit_app(window: MainWindow) -> None:
    window.close()


ACTIONS = (
    Action("case.new", "&New case...", new_case, "Ctrl+N", Place(Menu.CASE, 0, 0)),
    Action("case.open", "&Open case...", open_case_dialog, "Ctrl+O", Place(Menu.CASE, 0, 1)),
    Action(
        "case.close", "&Close case", close_case, "Ctrl+W", Place(Menu.CASE, 0, 2), when=When.CASE
    ),
    Action(
        "case.verify",
        "&Verify integrity",
        verify,
        place=Place(Menu.CASE, 1, 0),
        tool=Tool(3, "verify", "Verify"),
        when=When.CASE | When.IDLE,
    ),
    Action(
        "case.verify_report",
        "Verify a &report...",
        verify_report,
        place=Place(Menu.CASE, 1, 1),
        when=When.CASE | When.IDLE,
    ),
    Action(
        "case.audit_log", "Audit &log", show_audit_log, place=Place(Menu.CASE, 1, 2), when=When.CASE
    ),
    Action(
        "case.info",
        "Case &information",
        show_case_info,
        place=Place(Menu.CASE, 1, 3),
        when=When.CASE,
    ),
    Action(
        "case.examiner",
        "Acting &examiner...",
        change_examiner,
        place=Place(Menu.CASE, 1, 4),
        when=When.WRITABLE,
    ),
    Action("app.quit", "&Quit", quit_app, "Ctrl+Q", Place(Menu.CASE, 9, 0)),
)
