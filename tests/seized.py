"""A small seizure for the triage tests: what each file is for is said once here."""

from __future__ import annotations

import hashlib
from pathlib import Path

from opensight_desktop.benchmarks.synthetic import camera_jpeg, synthetic_photo
from opensight_desktop.hashsets.store import import_set
from tests import imagegen


def write_seized(tmp_path: Path) -> Path:
    """tmp_path/seized: DCIM/a.jpg, DCIM/b.jpg: camera photos with GPS (2 and 3 May 2024);
    Downloads/a_small.png: a smaller copy of a.jpg (one stack); Downloads/icon.png: in the
    known hash set "OS files" (imported into the data directory); Downloads/other.png."""
    folder = tmp_path / "seized"
    (folder / "DCIM").mkdir(parents=True)
    (folder / "Downloads").mkdir()
    base = synthetic_photo(480, 360, seed=1)
    (folder / "DCIM" / "a.jpg").write_bytes(camera_jpeg(base, seed=1))
    (folder / "DCIM" / "b.jpg").write_bytes(camera_jpeg(synthetic_photo(480, 360, 2), seed=2))
    base.resize((240, 180)).save(folder / "Downloads" / "a_small.png")
    imagegen.save(folder / "Downloads" / "icon.png", "PNG", seed=7)
    imagegen.save(folder / "Downloads" / "other.png", "PNG", seed=8)
    known = tmp_path / "known.txt"
    icon = (folder / "Downloads" / "icon.png").read_bytes()
    known.write_text(hashlib.md5(icon).hexdigest() + "\n", encoding="utf-8")
    import_set(known, "OS files", "known")
    return folder
