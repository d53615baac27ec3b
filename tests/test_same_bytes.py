"""The bytes decoded are the bytes hashed, at every size: an original swapped after it was
hashed (and before it was decoded) never lends its pixels, size or metadata to the record.

The size above which the copy goes to a temporary file instead of memory is lowered with
monkeypatch, so no test needs a multi-hundred-megabyte file."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from opensight_desktop.case.models import EvidenceItem, Thumbnail
from opensight_desktop.evidence import hashing, reading
from opensight_desktop.pipeline import evidence_pixels
from opensight_desktop.pipeline import ingest as ingest_module
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.report.records import item_records
from tests import imagegen

SIZES = ["in-memory", "temporary-file"]


def _keep_small(monkeypatch: pytest.MonkeyPatch, size: str) -> list[object]:
    """Lower the in-memory limit for "temporary-file"; returns the temporary files made."""
    made: list[object] = []
    if size == "temporary-file":
        monkeypatch.setattr(reading, "KEEP_IN_MEMORY_BYTES", 1000)
        real = tempfile.TemporaryFile

        def spy(*args, **kwargs):
            made.append(handle := real(*args, **kwargs))
            return handle

        monkeypatch.setattr(hashing.tempfile, "TemporaryFile", spy)
    return made


@pytest.mark.parametrize("size", SIZES)
def test_import_decodes_the_bytes_it_hashed(case, tmp_path, monkeypatch, size):
    folder = tmp_path / "evidence"
    folder.mkdir()
    original = imagegen.jpeg_with_exif(
        folder / "photo.jpg", size=(320, 240), seed=1, make="Canon", model="EOS A"
    )
    original_bytes = original.read_bytes()
    other = imagegen.jpeg_with_exif(
        tmp_path / "other.jpg", size=(200, 100), seed=2, make="Nikon", model="Z B"
    )
    made = _keep_small(monkeypatch, size)
    real_inspect = ingest_module.inspect_image

    def swap_then_inspect(source, sniffed):
        os.replace(other, original)  # the original changes after hashing, before decoding
        return real_inspect(source, sniffed)

    monkeypatch.setattr(ingest_module, "inspect_image", swap_then_inspect)
    summary = ImportJob(case, [str(folder)], workers=1).run()
    assert summary.imported == 1
    assert original.read_bytes() != original_bytes  # the swap did happen
    with case.read() as session:
        item = session.scalars(select(EvidenceItem)).one()
        record = next(item_records(session))
        jpeg = session.scalar(select(Thumbnail.jpeg).where(Thumbnail.item_id == item.id))
    thumbnail = Image.open(io.BytesIO(jpeg))
    assert item.sha256 == hashlib.sha256(original_bytes).hexdigest()
    assert item.size_bytes == len(original_bytes)
    assert (item.width, item.height) == (320, 240)
    assert thumbnail.size == (320, 240)  # within 1.5x of 256: kept as decoded
    assert record["metadata"]["camera_model"] == "EOS A"
    assert record["metadata"]["camera_make"] == "Canon"
    if size == "temporary-file":
        assert made and all(handle.closed for handle in made)  # decoded from a private copy


@pytest.mark.parametrize("size", SIZES)
def test_analysis_decodes_the_bytes_it_hashed(tmp_path, monkeypatch, size):
    original = imagegen.save(tmp_path / "a.png", "PNG", size=(64, 48), seed=1)
    other = imagegen.save(tmp_path / "b.png", "PNG", size=(64, 48), seed=2)
    sha256 = hashlib.sha256(original.read_bytes()).hexdigest()
    with Image.open(original) as image:
        expected = np.asarray(image.convert("RGB"))
    made = _keep_small(monkeypatch, size)
    real_open_image = evidence_pixels.open_image

    def swap_then_open(source, sniffed=None):
        os.replace(other, original)  # after the re-hash that matched, before decoding
        return real_open_image(source, sniffed)

    monkeypatch.setattr(evidence_pixels, "open_image", swap_then_open)
    rgb = evidence_pixels.load_evidence_rgb(sha256, [os.fsencode(original)])
    assert hashlib.sha256(original.read_bytes()).hexdigest() != sha256  # swapped
    assert np.array_equal(np.asarray(rgb), expected)
    if size == "temporary-file":
        assert made and all(handle.closed for handle in made)


def test_kept_copy_moves_to_a_temporary_file_beyond_the_limit(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(reading, "KEEP_IN_MEMORY_BYTES", 10)
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 3)
    hasher = hashlib.sha256()
    with reading.open_evidence(str(path)) as handle:
        copy = hashing.consume_and_keep(handle, hasher, handle.read(5))
    with copy:
        assert copy.spooled and copy.data is None
        assert copy.head(4) == bytes(range(4))
        source = copy.source()
        assert not isinstance(source, bytes) and source.read() == path.read_bytes()
    assert hasher.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()


def test_no_room_for_the_copy_still_hashes_and_says_why(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(reading, "KEEP_IN_MEMORY_BYTES", 10)

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(hashing.tempfile, "TemporaryFile", no_space)
    path = imagegen.save(tmp_path / "a.png", "PNG", size=(32, 32))
    result = ingest_module.ingest(str(path), str(tmp_path))
    assert result.outcome == "error"
    assert result.digests is not None
    assert result.digests.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.reason == (
        "hashed but not decoded: no private working copy could be kept for decoding "
        "(No space left on device)"
    )
