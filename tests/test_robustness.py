"""The app keeps its promises when things go wrong: killed processes, a second instance,
a full disk, hostile files, and originals that are never written."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from opensight_desktop.case import audit
from opensight_desktop.case.models import AuditEntry, DetectionResult, EvidenceItem
from opensight_desktop.case.store import Case
from opensight_desktop.cli import main
from opensight_desktop.errors import CaseFileError
from tests import checkpoint_factory as cf
from tests import faults, fuzz_corpus, imagegen

posix_only = pytest.mark.skipif(os.name != "posix", reason="signals and rlimits are POSIX")
ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, faulty: list[str] | None = None, **kwargs) -> subprocess.Popen:
    """The command line in a new process; ``faulty``: with those ``tests.faults`` options."""
    command = ["opensight_desktop"] if faulty is None else ["tests.faults", *faulty, "--"]
    return subprocess.Popen(
        [sys.executable, "-m", *command, *args],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def count(case_path: Path, sql: str) -> int:
    try:
        conn = sqlite3.connect(f"file:{case_path}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def wait_for(predicate, timeout=120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def integrity_ok(case_path: Path) -> bool:
    conn = sqlite3.connect(case_path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def images(folder: Path, n: int, size=(64, 48)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        imagegen.save(folder / f"img{i:04d}.png", "PNG", size=size, seed=i)
    return folder


def new_case(path: Path) -> Path:
    Case.create(path, number="K-1", title="Faults", examiner="e").close()
    return path


@posix_only
def test_killed_import_resumes_and_completes(tmp_path):
    folder = images(tmp_path / "ev", 160)
    case_path = new_case(tmp_path / "c.osc")
    # the import stalls on one file, so the kill lands while it is running
    process = cli("import", str(case_path), str(folder), faulty=["--hang-on", "img0150.png"])
    wait_for(lambda: count(case_path, "SELECT count(*) FROM evidence_item") >= 100)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    stored = count(case_path, "SELECT count(*) FROM evidence_item")
    assert integrity_ok(case_path)
    result = cli("import", str(case_path), str(folder))
    assert result.wait(120) == 0, result.stderr.read()
    with Case.open(case_path) as case, case.read() as session:
        items = session.scalar(select(func.count()).select_from(EvidenceItem))
        assert items == 160 and stored <= 160
        assert audit.check_chain(session).ok
        states = (
            session.connection()
            .exec_driver_sql("SELECT state FROM import_session ORDER BY id")
            .scalars()
            .all()
        )
    assert states == ["interrupted", "completed"]


@posix_only
def test_killed_analysis_resumes_without_redoing(tmp_path):
    folder = images(tmp_path / "ev", 24, size=(96, 96))
    case_path = new_case(tmp_path / "c.osc")
    assert main(["import", str(case_path), str(folder)]) == 0
    assert main(["model", "import", str(cf.save_hub(cf.random_state(2), tmp_path / "hub"))]) == 0
    assert main(["model", "use", "hub"]) == 0  # random weights: active only when chosen
    process = cli("analyze", str(case_path), "--batch-size", "2", "--device", "cpu")
    wait_for(lambda: count(case_path, "SELECT count(*) FROM detection_result") >= 4, 300)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    assert integrity_ok(case_path)
    before = count(case_path, "SELECT count(*) FROM detection_result")
    again = cli("analyze", str(case_path), "--batch-size", "4", "--device", "cpu")
    assert again.wait(600) == 0, again.stderr.read()
    with Case.open(case_path) as case, case.read() as session:
        results = session.scalars(select(DetectionResult)).all()
        assert len(results) == 24 and len({r.item_id for r in results}) == 24
        analysed_entries = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "item.analyzed")
        )
        assert analysed_entries == 24  # each item analysed exactly once
        assert audit.check_chain(session).ok
    assert before < 24


@posix_only
@pytest.mark.parametrize("what", ["report", "export"])
def test_killed_while_writing_leaves_no_partial_output(tmp_path, what):
    folder = images(tmp_path / "ev", 3)
    case_path = new_case(tmp_path / "c.osc")
    main(["import", str(case_path), str(folder)])
    output = tmp_path / ("out.pdf" if what == "report" else "out.json")
    args = (
        ["report", str(case_path), "-o", str(output)]
        if what == "report"
        else ["export", str(case_path), "--format", "json", "-o", str(output)]
    )
    process = cli(*args, faulty=["--pause-before-replace", "60"])
    wait_for(lambda: any(tmp_path.glob(f".{output.name}.*.part")), 120)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    assert not output.exists()  # nothing under the final name
    assert integrity_ok(case_path)
    result = cli(*args)
    assert result.wait(120) == 0
    assert output.read_bytes()[:4] in (b"%PDF", b"{\n  ")


def test_second_instance_is_refused(tmp_path):
    case_path = new_case(tmp_path / "c.osc")
    with Case.open(case_path):
        with pytest.raises(CaseFileError, match="open in another"):
            Case.open(case_path)
        process = cli("case", "info", str(case_path))
        assert process.wait(60) == 2
        assert "open in another OpenSight window" in process.stderr.read()
    with Case.open(case_path):  # released on close
        pass


@posix_only
def test_disk_full_during_import_is_a_clean_error(tmp_path):
    import resource

    folder = images(tmp_path / "ev", 80, size=(200, 150))
    case_path = new_case(tmp_path / "c.osc")
    limit = case_path.stat().st_size + 250_000

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    process = subprocess.run(
        [sys.executable, "-m", "opensight_desktop", "import", str(case_path), str(folder)],
        preexec_fn=small_disk,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == 2
    assert "full" in process.stderr and "Traceback" not in process.stderr
    assert integrity_ok(case_path)
    # with space again, the import completes and nothing stored earlier is lost
    assert main(["import", str(case_path), str(folder)]) == 0
    with Case.open(case_path) as case, case.read() as session:
        assert session.scalar(select(func.count()).select_from(EvidenceItem)) == 80
        assert audit.check_chain(session).ok


def test_a_stalled_decoder_is_stopped(case, tmp_path, monkeypatch):
    from opensight_desktop.pipeline import import_job

    folder = images(tmp_path / "ev", 6)
    monkeypatch.setattr(import_job, "PROCESS_POOL_MIN_FILES", 1)
    monkeypatch.setattr(import_job, "FILE_TIMEOUT_S", 5.0)
    monkeypatch.setattr(import_job, "ingest", faults.hang_on("img0003.png"))
    started = time.monotonic()
    summary = import_job.ImportJob(case, [str(folder)], workers=2).run()
    assert time.monotonic() - started < 120
    assert (summary.imported, summary.errors) == (5, 1)
    with case.read() as session:
        bad = session.scalars(select(EvidenceItem).where(EvidenceItem.status == "error")).one()
    assert "took longer" in bad.error


def test_hostile_corpus(tmp_path):
    """Every file ends as an item with a status and a reason (or a counted skip); bounded
    time per file; then analysis and a report over the same case still work."""
    corpus = tmp_path / "corpus"
    counts = fuzz_corpus.build(corpus)
    case_path = new_case(tmp_path / "c.osc")
    measured = (
        "import sys; from opensight_desktop.cli import main; "
        "from opensight_desktop.benchmarks.memory import peak_rss_mb; "
        "rc = main(sys.argv[1:]); print('PEAK', peak_rss_mb(), file=sys.stderr); "
        "sys.exit(rc)"
    )
    started = time.monotonic()
    process = subprocess.run(
        [sys.executable, "-c", measured, "import", str(case_path), str(corpus)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    elapsed = time.monotonic() - started
    assert process.returncode in (0, 1), process.stderr
    assert "Traceback" not in process.stderr
    peak = float(process.stderr.rsplit("PEAK", 1)[1])
    assert peak < 1024 and elapsed < 300  # bounded memory and time for ~220 hostile files
    with Case.open(case_path) as case, case.read() as session:
        items = session.scalars(select(EvidenceItem)).all()
        for item in items:
            assert item.status in ("imported", "error")
            assert item.status == "imported" or item.error
        skipped = (
            session.connection().exec_driver_sql("SELECT path, reason FROM skipped_file").all()
        )
        stored_paths = sum(len(i.files) for i in items)
        errors = {Path(i.files[0].path).name: i.error for i in items if i.status == "error"}
    regular_files = sum(counts.values()) - counts.get("fifo", 0) - counts.get("symlink-loop", 0)
    not_images = [s for s in skipped if not any(w in s[1] for w in ("regular", "visited", "loop"))]
    # every regular file is an item location (exact duplicates share an item) or a skip
    assert stored_paths + len(not_images) == regular_files
    assert any("named pipe" in reason for _path, reason in skipped)
    assert "too large" in errors["bomb_header.png"]
    assert "too large" in errors["bomb_65535x65535.png"]
    assert "not a supported image" in errors["letter.jpg"]
    assert "empty" in errors["empty.heic"]
    # a file cut before its image data ends cannot be a clean image
    for name in ("trunc_JPEG_100.jpg", "trunc_PNG_100.png", "trunc_WEBP_16.webp"):
        assert name in errors, name
    # what decodes is analysed, and a report covers it all
    main(["model", "import", str(cf.save_hub(cf.random_state(3), tmp_path / "hub"))])
    assert main(["model", "use", "hub"]) == 0  # random weights: active only when chosen
    assert main(["analyze", str(case_path), "--no-heatmap", "--batch-size", "8"]) in (0, 1)
    assert main(["report", str(case_path), "-o", str(tmp_path / "r.pdf"), "--no-audit-log"]) == 0
    print(
        f"corpus: {counts}; {len(items)} items, {len(errors)} errors, {len(skipped)} "
        f"skipped; import {elapsed:.1f} s, peak {peak:.0f} MB"
    )


_WATCHED: list[str] = []
_VIOLATIONS: list[tuple[str, str]] = []
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _evidence_guard(event: str, args: tuple) -> None:
    """Audit hook: any write-capable open, or any change, of a watched path is recorded."""
    if not _WATCHED or event not in (
        "open",
        "os.remove",
        "os.rename",
        "os.replace",
        "os.utime",
        "os.chmod",
        "os.truncate",
        "shutil.move",
    ):
        return
    target = args[0] if args else None
    if isinstance(target, bytes):
        target = os.fsdecode(target)
    if not isinstance(target, str) or not any(target.startswith(w) for w in _WATCHED):
        return
    if event == "open":
        mode, flags = (args[1] if len(args) > 1 else None), (args[2] if len(args) > 2 else 0)
        if (mode and any(c in mode for c in "wax+")) or (flags or 0) & _WRITE_FLAGS:
            _VIOLATIONS.append((event, target))
    else:
        _VIOLATIONS.append((event, target))


def test_originals_are_never_written(tmp_path):
    from tests.test_import import snapshot

    sys.addaudithook(_evidence_guard)
    evidence = images(tmp_path / "evidence", 4, size=(500, 420))
    imagegen.jpeg_with_exif(evidence / "camera.jpg", size=(800, 600))
    before = snapshot(evidence)
    case_path = new_case(tmp_path / "c.osc")
    _WATCHED[:] = [str(evidence)]
    try:
        assert main(["import", str(case_path), str(evidence)]) == 0
        main(["model", "import", str(cf.save_hub(cf.random_state(1), tmp_path / "hub"))])
        assert main(["model", "use", "hub"]) == 0  # random weights: active only when chosen
        assert main(["analyze", str(case_path), "--batch-size", "5"]) == 0
        assert main(["tile-scan", str(case_path), "5", "--stride", "200"]) == 0
        assert main(["report", str(case_path), "-o", str(tmp_path / "r.pdf")]) == 0
        assert (
            main(["export", str(case_path), "--format", "json", "-o", str(tmp_path / "e.json")])
            == 0
        )
        assert (
            main(["export", str(case_path), "--format", "csv", "-o", str(tmp_path / "e.csv")]) == 0
        )
        assert main(["verify", str(case_path)]) == 0
    finally:
        _WATCHED.clear()
    assert _VIOLATIONS == []
    assert snapshot(evidence) == before  # bytes and modification times
