"""Starting and cancelling the session's jobs from the window, and how a job's progress
reads in the status bar."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMessageBox

from opensight_desktop.errors import OpenSightError
from opensight_desktop.gui.actions.registry import Action, Menu, Place, Tool, When
from opensight_desktop.progress import Progress
from opensight_desktop.session import Job, JobRunning

if TYPE_CHECKING:
    from opensight_desktop.gui.main_window import MainWindow


def start_job(window: MainWindow, title: str, start: Callable[[], Job]) -> bool:
    """Start a job; what stops it from starting is said in a message box."""
    try:
        start()
    except JobRunning:
        running = window.session.job
        name = running.name if running else "the running job"
        QMessageBox.information(window, title, f"Wait for '{name}' to finish, or cancel it (Esc).")
        return False
    except OpenSightError as exc:
        QMessageBox.warning(window, title, str(exc))
        return False
    return True


def cancel_job(window: MainWindow) -> None:
    job = window.session.job
    if job is not None and window.session.cancel_job():
        window.cancel_button.setEnabled(False)
        window.job_label.setText(f"Cancelling {job.name} (finishing the current batch)...")


def progress_text(name: str, progress: Progress, note: str = "") -> str:
    counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in progress.counts.items() if v)
    eta = f", about {progress.eta_s:.0f} s left" if progress.eta_s else ""
    total = f"/{progress.total}" if progress.total else ""
    return (
        f"{name}: {progress.done}{total} ({progress.rate:.1f}/s{eta})"
        + (f" — {counts}" if counts else "")
        + (f" — {note}" if note else "")
    )


def job_text(job: Job, text: str) -> str:
    """What a job says, with what people should know while it runs (its weights)."""
    return f"{text} ({job.note})" if job.note else text


ACTIONS = (
    Action(
        "job.cancel",
        "&Cancel running job",
        cancel_job,
        "Esc",
        Place(Menu.EVIDENCE, 1, 9),
        Tool(2, "cancel", "Cancel"),
        When.JOB,
    ),
)
