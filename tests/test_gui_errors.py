"""The GUI's side of errors: the previous run's crash shown once, bugs in job threads
logged with where the log is, a cancelled report that is no error."""

from __future__ import annotations

import time

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from opensight_desktop.case.store import Case
from opensight_desktop.errors import Cancelled
from opensight_desktop.logs import setup_logging
from opensight_desktop.paths import logs_dir
from opensight_desktop.report.pdf import ReportBuilder

pytest.importorskip("PySide6.QtWidgets")

from opensight_desktop.gui.errors import CrashReportDialog, ErrorReporter
from opensight_desktop.gui.jobs import JobThread
from opensight_desktop.gui.main_window import MainWindow

CRASH = (
    "Fatal Python error: Segmentation fault\n\n"
    'Thread 0x00007f (most recent call first):\n  File "decode.py", line 12 in load\n'
)


def test_the_previous_runs_crash_is_shown_once_with_a_copy_button(qtbot):
    logs_dir().mkdir(parents=True)
    (logs_dir() / "crash.log").write_text(CRASH)
    reporter = ErrorReporter()
    dialog = reporter.show_previous_crash()
    assert isinstance(dialog, CrashReportDialog)
    qtbot.addWidget(dialog)
    assert dialog.isVisible() and dialog.text.toPlainText() == CRASH
    kept = reporter.previous_crash.path
    assert kept.name.startswith("crash-") and kept.read_text() == CRASH
    assert str(kept) in dialog.intro.text()
    dialog.copy_button.click()
    assert QApplication.clipboard().text() == f"{kept}\n\n{CRASH}"
    dialog.close()
    # this run's crash log is fresh and empty: the next start shows nothing
    assert (logs_dir() / "crash.log").stat().st_size == 0
    assert ErrorReporter().show_previous_crash() is None


def _run_job(qtbot, function) -> dict[str, list]:
    job = JobThread("Test job", function)
    seen: dict[str, list] = {"succeeded": [], "cancelled": [], "failed": []}
    job.succeeded.connect(seen["succeeded"].append)
    job.cancelled.connect(seen["cancelled"].append)
    job.failed.connect(seen["failed"].append)
    with qtbot.waitSignal(job.finished, timeout=10_000):
        job.start()
    qtbot.waitUntil(lambda: any(seen.values()), timeout=5000)
    return seen


def test_a_bug_in_a_job_thread_is_logged_and_says_where(qtbot):
    log_file = setup_logging()
    assert log_file is not None

    def buggy(_progress, _cancel, _message):
        raise KeyError("a key the code expected")

    seen = _run_job(qtbot, buggy)
    assert seen["cancelled"] == [] and len(seen["failed"]) == 1
    message = seen["failed"][0]
    assert "internal error (KeyError" in message and str(log_file) in message
    logged = log_file.read_text(encoding="utf-8")
    assert "Traceback" in logged and "a key the code expected" in logged


def test_a_cancellation_in_a_job_thread_is_not_a_failure(qtbot):
    def cancelled(_progress, _cancel, _message):
        raise Cancelled("report cancelled; no report was written")

    seen = _run_job(qtbot, cancelled)
    assert seen == {
        "succeeded": [],
        "cancelled": ["report cancelled; no report was written"],
        "failed": [],
    }


def test_a_cancelled_report_says_so_and_shows_no_error(qtbot, tmp_path, monkeypatch):
    path = tmp_path / "case.osc"
    Case.create(path, number="GUI-2", title="Cancel", examiner="E").close()
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args, **kw: warnings.append(args))
    real_write = ReportBuilder.write

    def write_once_cancelled(self, output):
        deadline = time.monotonic() + 30
        while not self.cancel.cancelled and time.monotonic() < deadline:
            time.sleep(0.02)
        return real_write(self, output)

    monkeypatch.setattr(ReportBuilder, "write", write_once_cancelled)
    try:
        assert window.open_case(str(path))
        out = tmp_path / "report.pdf"
        assert window.report_to(str(out), "all", [], appendix=False)
        window.cancel_job()
        qtbot.waitUntil(lambda: window.job is None, timeout=60_000)
        assert window.job_label.text() == "Report cancelled; no report was written."
        assert warnings == [] and not out.exists()
    finally:
        window.shutdown_for_tests()
        window.close_case()
