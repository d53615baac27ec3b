"""Evidence import: formats by content, hashes, duplicates, errors, idempotence, resume."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from opensight_desktop.case import audit
from opensight_desktop.case.models import (
    EvidenceFile,
    EvidenceItem,
    ImportSession,
    SkippedFile,
    Thumbnail,
)
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.progress import CancelToken
from tests import imagegen


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Bytes and modification time of every regular file under root."""
    result = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as handle:
                    result[path] = (handle.read(), os.stat(path).st_mtime_ns)
    return result


@pytest.fixture
def corpus(tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "evidence"
    (root / "phone" / "DCIM").mkdir(parents=True)
    (root / "web").mkdir()
    (root / "broken").mkdir()
    files = {
        "jpeg": imagegen.jpeg_with_exif(root / "phone" / "DCIM" / "IMG_0001.JPG", seed=1),
        "jpeg2": imagegen.jpeg_with_exif(
            root / "phone" / "DCIM" / "IMG_0002.JPG", seed=2, orientation=6
        ),
        "png": imagegen.save(root / "web" / "picture.png", "PNG", seed=3),
        "webp": imagegen.save(root / "web" / "photo.webp", "WEBP", seed=4),
        "tiff": imagegen.save(root / "web" / "scan.tif", "TIFF", seed=5),
        "gif": imagegen.save(root / "web" / "anim.gif", "GIF", seed=6, mode="P"),
        "bmp": imagegen.save(root / "web" / "old.bmp", "BMP", seed=7),
        "heic": imagegen.save(root / "phone" / "IMG_0003.HEIC", "HEIF", seed=8),
        # mislabelled: a PNG named .jpg is imported as PNG
        "png_as_jpg": imagegen.save(root / "web" / "really_png.jpg", "PNG", seed=9),
        "unicode": imagegen.save(root / "web" / "Zoë – 写真 😀.png", "PNG", seed=10),
    }
    files["dup"] = root / "web" / "copy of IMG_0001.JPG"
    files["dup"].write_bytes(files["jpeg"].read_bytes())
    files["empty"] = root / "broken" / "empty.jpg"
    files["empty"].write_bytes(b"")
    files["text_as_jpg"] = root / "broken" / "letter.jpg"
    files["text_as_jpg"].write_text("Dear Sir, this is not a picture.\n")
    files["truncated"] = imagegen.truncated_copy(files["jpeg"], root / "broken" / "cut.jpg", 0.4)
    files["bomb"] = imagegen.png_bomb(root / "broken" / "bomb.png")
    files["notes"] = root / "notes.txt"
    files["notes"].write_text("examiner notes, not evidence\n")
    files["odd_newline"] = imagegen.save(root / "web" / "new\nline.png", "PNG", seed=11)
    os.symlink("..", root / "phone" / "DCIM" / "loop")  # symlink loop back up
    if sys.platform.startswith("linux"):
        raw = os.fsencode(str(root / "web")) + b"/bad-\xff\xfe-name.png"
        imagegen.save(Path(os.fsdecode(raw)), "PNG", seed=12)
        files["undecodable"] = Path(os.fsdecode(raw))
    return files


def run_import(case, paths, **kwargs):
    return ImportJob(case, [str(p) for p in paths], **kwargs).run()


def test_folder_import_counts_statuses_and_hashes(case, corpus):
    root = corpus["jpeg"].parents[2]
    before = snapshot(root)
    summary = run_import(case, [root])

    images = [
        "jpeg",
        "jpeg2",
        "png",
        "webp",
        "tiff",
        "gif",
        "bmp",
        "heic",
        "png_as_jpg",
        "unicode",
        "odd_newline",
    ] + (["undecodable"] if "undecodable" in corpus else [])
    errors = ["empty", "text_as_jpg", "truncated", "bomb"]
    assert summary.state == "completed"
    assert summary.imported == len(images)
    assert summary.duplicates == 1
    assert summary.errors == len(errors)
    assert summary.skip_reasons["not an image: text"] == 1  # notes.txt
    assert any("loop" in reason or "visited" in reason for reason in summary.skip_reasons)

    with case.read() as session:
        by_path = {f.path_raw: f for f in session.scalars(select(EvidenceFile))}
        for key in images + errors:
            path = corpus[key]
            record = by_path[os.fsencode(str(path))]
            item = record.item
            data = path.read_bytes()
            assert item.sha256 == hashlib.sha256(data).hexdigest(), key
            assert item.sha1 == hashlib.sha1(data).hexdigest(), key
            assert item.md5 == hashlib.md5(data).hexdigest(), key
            assert item.size_bytes == len(data)
            assert record.mtime_ns == path.stat().st_mtime_ns
            expected = "imported" if key in images else "error"
            assert item.status == expected, (key, item.error)
            if expected == "error":
                assert item.error
            else:
                assert session.get(Thumbnail, item.id) is not None
        formats = {key: by_path[os.fsencode(str(corpus[key]))].item.format for key in images}
        assert formats["png_as_jpg"] == "PNG"
        assert formats["heic"] == "HEIF"
        assert formats["tiff"] == "TIFF" and formats["webp"] == "WEBP"
        assert by_path[os.fsencode(str(corpus["jpeg"]))].item.width == 640

        reasons = {key: by_path[os.fsencode(str(corpus[key]))].item.error for key in errors}
        assert "empty" in reasons["empty"]
        assert "not a supported image" in reasons["text_as_jpg"]
        assert "truncated" in reasons["truncated"]
        assert "too large" in reasons["bomb"]

        dup = by_path[os.fsencode(str(corpus["dup"]))]
        assert dup.is_duplicate and dup.item_id == by_path[os.fsencode(str(corpus["jpeg"]))].item_id
        assert session.scalar(select(ImportSession)).state == "completed"
        assert audit.check_chain(session).ok

    assert snapshot(root) == before  # originals untouched: bytes and modification times


def test_thumbnail_follows_exif_orientation(case, corpus):
    run_import(case, [corpus["jpeg2"]])
    with case.read() as session:
        thumb = session.scalars(select(Thumbnail)).one()
    # 640x480 stored with orientation 6 (rotate 90): shown upright it is portrait.
    assert thumb.height > thumb.width


def test_reimport_adds_nothing(case, corpus):
    root = corpus["jpeg"].parents[2]
    first = run_import(case, [root])
    second = run_import(case, [root])
    assert second.imported == 0 and second.duplicates == 0 and second.errors == 0
    assert second.already_present == first.imported + first.duplicates + first.errors
    with case.read() as session:
        assert len(session.scalars(select(EvidenceItem)).all()) == first.imported + first.errors


def test_cancelled_import_resumes_and_completes(case, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(40):
        imagegen.save(folder / f"img{i:03d}.png", "PNG", size=(64, 48), seed=i)
    token = CancelToken()

    def stop_after_some(progress):
        if progress.done >= 10:
            token.cancel()

    first = run_import(
        case, [folder], progress=stop_after_some, cancel=token, workers=1, progress_interval=0
    )
    assert first.state == "cancelled"
    assert 10 <= first.imported < 40
    second = run_import(case, [folder])
    assert second.state == "completed"
    assert second.already_present == first.imported
    assert first.imported + second.imported == 40
    with case.read() as session:
        assert len(session.scalars(select(EvidenceItem)).all()) == 40
        states = [
            s.state for s in session.scalars(select(ImportSession).order_by(ImportSession.id))
        ]
        assert states == ["cancelled", "completed"]


def test_killed_import_session_is_marked_interrupted(case, tmp_path):
    folder = tmp_path / "few"
    folder.mkdir()
    imagegen.save(folder / "a.png", "PNG", size=(32, 32))
    with case.write() as session:  # what a killed process leaves behind
        from opensight_desktop.timeutil import utc_now

        session.add(
            ImportSession(
                started_utc=utc_now(),
                state="running",
                sources=["x"],
                recursive=True,
                user="u",
                host="h",
            )
        )
    run_import(case, [folder])
    with case.read() as session:
        states = [
            s.state for s in session.scalars(select(ImportSession).order_by(ImportSession.id))
        ]
    assert states == ["interrupted", "completed"]


def test_single_files_and_no_recursive(case, corpus):
    root = corpus["jpeg"].parents[2]
    summary = run_import(case, [root], recursive=False)
    assert summary.files_seen == 1  # only notes.txt sits directly in the root
    assert summary.skip_reasons["not an image: text"] == 1
    summary = run_import(case, [corpus["png"], corpus["webp"]])
    assert summary.imported == 2


def test_same_content_in_one_batch_is_one_item(case, tmp_path):
    folder = tmp_path / "same"
    folder.mkdir()
    data = imagegen.jpeg_bytes()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (folder / name).write_bytes(data)
    summary = run_import(case, [folder])
    assert (summary.imported, summary.duplicates) == (1, 2)


def test_unreadable_file_is_an_error_item(case, tmp_path, monkeypatch):
    from opensight_desktop.pipeline import ingest as ingest_module

    path = imagegen.save(tmp_path / "locked.png", "PNG")
    real_open = ingest_module.open_evidence

    def deny(p):
        if p == str(path):
            raise PermissionError(13, "Permission denied", p)
        return real_open(p)

    monkeypatch.setattr(ingest_module, "open_evidence", deny)
    summary = run_import(case, [path])
    assert summary.errors == 1
    with case.read() as session:
        item = session.scalars(select(EvidenceItem)).one()
    assert item.status == "error" and "permission denied" in item.error and item.sha256 is None
    # Still unreadable: importing again adds no second error item for the same path.
    again = run_import(case, [path])
    assert again.imported == 0 and again.errors == 1
    # Readable now: the content is imported; the earlier error item stays as the record of
    # what happened at the first attempt.
    monkeypatch.setattr(ingest_module, "open_evidence", real_open)
    third = run_import(case, [path])
    assert third.imported == 1
    with case.read() as session:
        statuses = sorted(i.status for i in session.scalars(select(EvidenceItem)))
    assert statuses == ["error", "imported"]


def test_fifo_is_skipped_without_hanging(case, tmp_path):
    folder = tmp_path / "special"
    folder.mkdir()
    os.mkfifo(folder / "pipe.jpg")
    summary = run_import(case, [folder])
    assert summary.skipped == 1
    assert "named pipe" in next(iter(summary.skip_reasons))
    with case.read() as session:
        assert session.scalars(select(SkippedFile)).one().reason.startswith("not a regular file")


def test_worker_processes_survive_a_crashing_decoder(case, tmp_path, monkeypatch):
    """Large imports read files in worker processes; one that dies (as a C decoder can on
    a hostile file) costs only that file, recorded as an error item."""
    from opensight_desktop.pipeline import import_job
    from tests import faults

    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(12):
        imagegen.save(folder / f"img{i:02d}.png", "PNG", size=(40, 30), seed=i)
    monkeypatch.setattr(import_job, "PROCESS_POOL_MIN_FILES", 1)
    monkeypatch.setattr(import_job, "ingest", faults.crash_on("img05.png"))
    summary = run_import(case, [folder], workers=2)
    assert summary.state == "completed"
    assert (summary.imported, summary.errors) == (11, 1)
    with case.read() as session:
        bad = session.scalars(select(EvidenceItem).where(EvidenceItem.status == "error")).one()
        assert "decoder crashed" in bad.error
        assert bad.files[0].file_name == "img05.png"
        assert audit.check_chain(session).ok
