"""A cancelled report is a cancellation (not an error), and a hard crash's report is
handed over once at the next start (logs.take_crash_report). No Qt here."""

from __future__ import annotations

import _thread
import os
import subprocess
import sys
import threading
import time

import pytest

from opensight_desktop import logs
from opensight_desktop.cli import main
from opensight_desktop.errors import Cancelled, OpenSightError, UsageError
from opensight_desktop.paths import logs_dir
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.progress import CancelToken
from opensight_desktop.report.pdf import ReportBuilder, ReportOptions
from tests import imagegen


def test_a_report_cancelled_before_it_starts_writes_nothing(case, tmp_path):
    """Cancelled while the evidence was being checked, an empty case's report used to be
    written all the same."""
    token = CancelToken()
    token.cancel()
    out = tmp_path / "report.pdf"
    with pytest.raises(Cancelled, match="report cancelled; no report was written"):
        ReportBuilder(case, ReportOptions(), cancel=token).write(out)
    assert not out.exists()


def test_a_report_cancelled_among_its_items_is_a_cancellation(case, tmp_path):
    folder = tmp_path / "ev"
    folder.mkdir()
    for i in range(3):
        imagegen.save(folder / f"{i}.png", "PNG", size=(40, 30), seed=i)
    ImportJob(case, [str(folder)]).run()
    token = CancelToken()

    def cancel_at_the_first_item(progress):
        if progress.job == "report" and progress.done >= 1:
            token.cancel()

    out = tmp_path / "report.pdf"
    builder = ReportBuilder(case, ReportOptions(), progress=cancel_at_the_first_item, cancel=token)
    with pytest.raises(Cancelled) as raised:
        builder.write(out)
    assert not isinstance(raised.value, UsageError) and raised.value.exit_code == 130
    assert isinstance(raised.value, OpenSightError)  # a front end that knows no better: 1 line
    assert not out.exists()


def test_ctrl_c_during_a_cli_report_cancels_it_and_exits_130(
    case, case_path, tmp_path, capsys, monkeypatch
):
    case.close()
    started = threading.Event()
    real_write = ReportBuilder.write

    def write_once_cancelled(self, output):
        started.set()
        deadline = time.monotonic() + 30
        while not self.cancel.cancelled and time.monotonic() < deadline:
            time.sleep(0.02)
        return real_write(self, output)

    def press_ctrl_c():
        if started.wait(30):
            time.sleep(0.3)  # the command is waiting for the report by now
            _thread.interrupt_main()

    monkeypatch.setattr(ReportBuilder, "write", write_once_cancelled)
    threading.Thread(target=press_ctrl_c, daemon=True).start()
    out = tmp_path / "report.pdf"
    assert main(["report", str(case_path), "-o", str(out)]) == 130
    err = capsys.readouterr().err
    assert "report cancelled; no report was written" in err
    assert "error" not in err and "interrupted" not in err
    assert not out.exists()


def test_a_background_job_is_still_waited_for_after_ctrl_c():
    """Python 3.11's Thread.join, interrupted by Ctrl-C, marks the running thread as
    stopped; the CLI then went on (and exited) while the job was still running."""
    from opensight_desktop.worker import BackgroundJob

    release = threading.Event()
    job = BackgroundJob(lambda: release.wait(30)).start()
    threading.Timer(0.3, _thread.interrupt_main).start()
    with pytest.raises(KeyboardInterrupt):
        while not job.join(0.2):
            pass
    assert not job.join(0.2)  # still running, and known to be
    release.set()
    assert job.join(10) and job.outcome() is True


# -- crash reports -----------------------------------------------------------------------


def test_no_crash_no_report():
    assert logs.take_crash_report() is None
    logs_dir().mkdir(parents=True)
    (logs_dir() / "crash.log").write_text("")  # what every run that did not crash leaves
    assert logs.take_crash_report() is None


def test_a_hard_crash_is_reported_once_and_kept():
    """A real crash: a child process with faulthandler on the crash log, as the GUI has
    it, dies of a segmentation fault."""
    code = (
        "import faulthandler\n"
        "from opensight_desktop.paths import logs_dir\n"
        "logs_dir().mkdir(parents=True, exist_ok=True)\n"
        "faulthandler.enable(open(logs_dir() / 'crash.log', 'a'))\n"
        "faulthandler._sigsegv()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert result.returncode != 0
    report = logs.take_crash_report()
    assert report is not None
    assert "Segmentation fault" in report.text and not report.truncated
    assert report.path.parent == logs_dir() and report.path.name.startswith("crash-")
    assert report.path.read_text() == report.text  # kept whole
    assert not (logs_dir() / "crash.log").exists()
    assert logs.take_crash_report() is None  # shown once


def test_a_long_crash_report_is_cut_for_showing_and_old_ones_are_pruned():
    folder = logs_dir()
    folder.mkdir(parents=True)
    for day in range(1, 8):
        (folder / f"crash-2026010{day}T000000Z.log").write_text(f"old {day}")
    crash = folder / "crash.log"
    crash.write_text("x" * (logs.CRASH_TEXT_LIMIT + 10))
    os.utime(crash, (1_900_000_000, 1_900_000_000))  # 2030-03-17: the newest
    report = logs.take_crash_report()
    assert report is not None and report.truncated
    assert len(report.text) == logs.CRASH_TEXT_LIMIT
    assert report.path.name == "crash-20300317T174640Z.log"
    kept = sorted(p.name for p in folder.glob("crash-*.log"))
    assert len(kept) == logs.CRASH_LOGS_KEPT and kept[-1] == report.path.name
    assert "crash-20260101T000000Z.log" not in kept
