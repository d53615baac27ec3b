"""Reads that block: a kernel file behind an image-like name (``/proc/kmsg``: regular,
size 0, blocks on read), or a read stuck on an unresponsive device. The import finishes
with an error item for that file, and Ctrl-C or Cancel stop it at once, in thread mode as
in process mode; the program can always exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from opensight_desktop.case.models import EvidenceItem, ImportSession
from opensight_desktop.case.store import Case
from opensight_desktop.evidence import reading
from opensight_desktop.metadata.flags import LINK_OUTSIDE_IMPORT
from opensight_desktop.pipeline import import_job
from opensight_desktop.pipeline import ingest as ingest_module
from opensight_desktop.progress import CancelToken
from opensight_desktop.worker import DaemonThreadPool
from tests import imagegen

ROOT = Path(__file__).resolve().parents[1]


class _Stuck:
    """A handle whose first read blocks, as a read of a hung network share or of
    ``/proc/kmsg`` does, until the test releases it (or 60 s pass)."""

    def __init__(self, handle, blocker: Blocker) -> None:
        self._handle = handle
        self._blocker = blocker

    def read(self, size=-1):
        self._blocker.entered.set()
        self._blocker.release.wait(60)
        return self._handle.read(size)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()


class Blocker:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        real_open = ingest_module.open_evidence

        def open_evidence(path):
            handle = real_open(path)
            return _Stuck(handle, self) if os.path.basename(path) == name else handle

        monkeypatch.setattr(ingest_module, "open_evidence", open_evidence)


@pytest.fixture
def blocker(monkeypatch):
    made: list[Blocker] = []

    def make(name: str) -> Blocker:
        made.append(Blocker(monkeypatch, name))
        return made[-1]

    yield make
    for item in made:  # let abandoned threads end with the test
        item.release.set()


def _folder(tmp_path: Path, count: int = 4) -> Path:
    folder = tmp_path / "evidence"
    folder.mkdir()
    for i in range(count):
        imagegen.save(folder / f"img{i}.png", "PNG", size=(40, 30), seed=i)
    return folder


def _states(case) -> list[str]:
    with case.read() as session:
        return list(session.scalars(select(ImportSession.state).order_by(ImportSession.id)))


def test_a_stuck_read_is_given_up_in_thread_mode(case, tmp_path, monkeypatch, blocker):
    folder = _folder(tmp_path)
    stuck = blocker("img1.png")
    monkeypatch.setattr(import_job, "FILE_TIMEOUT_S", 1.0)
    started = time.monotonic()
    summary = import_job.ImportJob(case, [str(folder)], workers=2).run()
    assert time.monotonic() - started < 20
    assert stuck.entered.is_set()
    assert summary.state == "completed"
    assert (summary.imported, summary.errors) == (3, 1)
    with case.read() as session:
        bad = session.scalars(select(EvidenceItem).where(EvidenceItem.status == "error")).one()
        assert bad.files[0].file_name == "img1.png"
    assert bad.error.startswith("reading the file took longer than 1 s and was given up")


def test_ctrl_c_during_a_stuck_read_stops_at_once(case, tmp_path, monkeypatch, blocker):
    folder = _folder(tmp_path)
    stuck = blocker("img1.png")
    main = threading.get_ident()

    def press_ctrl_c() -> None:
        stuck.entered.wait(30)
        time.sleep(0.2)  # the import is now waiting on the stuck file
        signal.pthread_kill(main, signal.SIGINT)

    threading.Thread(target=press_ctrl_c, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        import_job.ImportJob(case, [str(folder)], workers=2).run()
    assert time.monotonic() - started < 15
    assert _states(case) == ["cancelled"]


def test_cancel_during_a_stuck_read_returns_promptly(case, tmp_path, monkeypatch, blocker):
    folder = _folder(tmp_path)
    stuck = blocker("img1.png")
    monkeypatch.setattr(import_job, "CANCEL_GRACE_S", 0.5)
    token = CancelToken()
    threading.Thread(target=lambda: stuck.entered.wait(30) and token.cancel(), daemon=True).start()
    started = time.monotonic()
    summary = import_job.ImportJob(case, [str(folder)], workers=2, cancel=token).run()
    assert time.monotonic() - started < 15
    assert summary.state == "cancelled"
    # Running the import again reads what the cancelled one left.
    stuck.release.set()
    again = import_job.ImportJob(case, [str(folder)]).run()
    assert again.state == "completed"
    assert summary.imported + again.imported == 4


def test_the_program_exits_on_ctrl_c_while_a_read_is_stuck(case_path, tmp_path):
    """End to end: ``opensight-desktop import`` with a read that never returns; Ctrl-C
    ends the program (a pool thread stuck in a read must not keep the interpreter alive)."""
    Case.create(case_path, number="1", title="t", examiner="e").close()
    folder = _folder(tmp_path, 3)
    script = textwrap.dedent(
        f"""
        import os, sys, time
        from opensight_desktop.pipeline import ingest
        real_open = ingest.open_evidence

        class Stuck:
            def __init__(self, handle):
                self.handle = handle
            def __getattr__(self, name):
                return getattr(self.handle, name)
            def __enter__(self):
                return self
            def __exit__(self, *exc):
                self.handle.close()
            def read(self, size=-1):
                print("stuck", flush=True)
                while True:
                    time.sleep(1)

        def open_evidence(path):
            handle = real_open(path)
            return Stuck(handle) if path.endswith("img1.png") else handle

        ingest.open_evidence = open_evidence
        from opensight_desktop.cli import main
        sys.exit(main(["import", {str(case_path)!r}, {str(folder)!r}, "--workers", "2"]))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "stuck"
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, err
    assert "interrupted" in err
    with Case.open(case_path) as case:
        assert _states(case) == ["cancelled"]


@pytest.mark.skipif(not os.path.exists("/proc/kmsg"), reason="Linux /proc/kmsg needed")
def test_a_link_to_proc_kmsg_is_an_error_item_not_a_hang(case, tmp_path):
    """/proc/kmsg passes for a regular file (size 0) and blocks on read (as root; others
    may not open it at all). It is never read: kernel files are refused."""
    folder = _folder(tmp_path, 1)
    os.symlink("/proc/kmsg", folder / "photo.jpg")
    started = time.monotonic()
    summary = import_job.ImportJob(case, [str(folder)], workers=2).run()
    assert time.monotonic() - started < 30
    assert (summary.imported, summary.errors) == (1, 1)
    with case.read() as session:
        bad = session.scalars(select(EvidenceItem).where(EvidenceItem.status == "error")).one()
        flags = {flag.code: flag.explanation for flag in bad.flags}
    assert bad.sha256 is None
    assert bad.error in (
        "could not read file: not evidence data: a file of the kernel's proc file system "
        "(an interface to the running system), not read",
        "could not read file: permission denied",
    )
    assert "resolves to /proc/kmsg" in flags[LINK_OUTSIDE_IMPORT]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux mount table")
def test_kernel_file_systems_are_recognised(tmp_path):
    assert reading.kernel_file_system(os.stat("/proc/self/status").st_dev) == "proc"
    assert reading.kernel_file_system(os.stat(tmp_path).st_dev) is None
    with pytest.raises(reading.KernelInterfaceFile):
        reading.open_evidence("/proc/self/status")


def test_a_read_that_would_block_is_an_error_not_the_end_of_the_file():
    """O_NONBLOCK stays on evidence handles; a read with nothing to give (EAGAIN) must
    raise, not look like the end of the file (which would hash nothing as if it were all)."""
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    handle = reading.EvidenceFile(read_end, "rb", closefd=True)
    try:
        with pytest.raises(BlockingIOError) as caught:
            handle.read(1024)
        assert reading.os_error_reason(caught.value).startswith("reading would block")
        with pytest.raises(BlockingIOError):
            handle.readinto(bytearray(16))
        os.write(write_end, b"abc")
        assert handle.read(1024) == b"abc"
    finally:
        handle.close()
        os.close(write_end)


def test_daemon_thread_pool_abandons_work_without_holding_up_exit():
    started, release = threading.Event(), threading.Event()
    pool = DaemonThreadPool(1, name="test")
    stuck = pool.submit(lambda: started.set() or release.wait(30))
    queued = pool.submit(lambda: "ran")
    assert started.wait(10)
    assert all(thread.daemon for thread in pool._threads)
    pool.shutdown(wait=False, cancel_futures=True)
    assert queued.cancelled() and not stuck.done()
    with pytest.raises(RuntimeError):
        pool.submit(print)
    release.set()
    assert stuck.result(timeout=10) is True
