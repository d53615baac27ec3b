"""Screenshots of the issue-15 GUI (stacks, hash sets, timeline, map), for review:

    QT_QPA_PLATFORM=xcb xvfb-run -a python -m tests.tools.shots15 OUTPUT_FOLDER

Builds a small case in a temporary data folder (the user's is not touched): camera photos
taken in several cities over some months, resized copies that stack with them, and files
of a known-file hash set."""

from __future__ import annotations

import hashlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

PLACES = [  # (name, latitude, longitude, capture time)
    ("munich", 48.137, 11.575, "2024:03:02 09:10:00"),
    ("munich2", 48.150, 11.560, "2024:03:02 17:40:00"),
    ("lisbon", 38.722, -9.139, "2024:03:19 12:00:00"),
    ("newyork", 40.713, -74.006, "2024:04:05 08:30:00"),
    ("newyork2", 40.730, -73.990, "2024:04:06 21:15:00"),
    ("saopaulo", -23.550, -46.633, "2024:04:28 14:00:00"),
    ("nairobi", -1.286, 36.817, "2024:05:11 11:11:00"),
    ("tokyo", 35.676, 139.650, "2024:05:30 19:45:00"),
    ("sydney", -33.869, 151.209, "2024:06:14 07:20:00"),
    ("reykjavik", 64.147, -21.942, "2024:06:21 23:59:00"),
]


def camera_photo(seed: int, lat: float, lon: float, taken: str) -> bytes:
    from opensight_desktop.benchmarks import camera_exif
    from opensight_desktop.benchmarks.synthetic import synthetic_photo

    image = synthetic_photo(640, 480, seed=seed)
    ifd0, exif, gps = camera_exif.camera_ifds(original=taken, lat=lat, lon=lon, alt=40.0)
    body = io.BytesIO()
    image.save(body, "JPEG", quality=90)
    return camera_exif.jpeg_with_app1(body.getvalue(), camera_exif.build_tiff(ifd0, exif, gps))


def build(work: Path) -> Path:
    from opensight_desktop.benchmarks.synthetic import synthetic_photo
    from opensight_desktop.case.store import Case
    from opensight_desktop.hashsets.store import import_set
    from opensight_desktop.pipeline.import_job import ImportJob

    folder = work / "seized"
    (folder / "DCIM").mkdir(parents=True)
    (folder / "Downloads").mkdir()
    (folder / "System").mkdir()
    for seed, (name, lat, lon, taken) in enumerate(PLACES, start=1):
        (folder / "DCIM" / f"IMG_{seed:04d}_{name}.jpg").write_bytes(
            camera_photo(seed, lat, lon, taken)
        )
    for seed, size in ((1, (320, 240)), (1, (200, 150)), (4, (400, 300)), (7, (256, 192))):
        synthetic_photo(640, 480, seed=seed).resize(size).save(
            folder / "Downloads" / f"copy_{seed}_{size[0]}.png"
        )
    known = []
    for seed in range(3):
        path = folder / "System" / f"wallpaper_{seed}.png"
        synthetic_photo(300, 200, seed=100 + seed).save(path)
        known.append(hashlib.md5(path.read_bytes()).hexdigest())
    for seed in range(3):
        synthetic_photo(500, 350, seed=200 + seed).save(folder / "Downloads" / f"meme_{seed}.png")
    listing = work / "os-files.txt"
    listing.write_text("\n".join(known) + "\n", encoding="utf-8")
    import_set(listing, "NSRL sample (OS files)", "known")
    case_path = work / "shots.osc"
    with Case.create(case_path, number="2026-015", title="Triage", examiner="A. Examiner") as c:
        ImportJob(c, [str(folder)]).run()
    return case_path


def main(out: str) -> int:
    output = Path(out)
    output.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="shots15-"))
    os.environ["OPENSIGHT_HOME"] = str(work / "home")
    case_path = build(work)

    from PySide6.QtWidgets import QApplication

    from opensight_desktop.gui.app import create_app
    from opensight_desktop.gui.hashset_dialog import HashSetDialog
    from opensight_desktop.gui.main_window import MainWindow

    app = create_app()
    window = MainWindow()
    window.resize(1500, 920)
    window.show()
    window.open_case(str(case_path))
    window.triage.settle()

    def pump() -> None:
        window.model.settle()
        for _ in range(40):  # thumbnails arrive from the background reader
            app.processEvents()
            time.sleep(0.02)

    def shot(name: str, widget=None) -> None:
        pump()
        (widget or window).grab().save(str(output / f"{name}.png"))

    window.grid_button.click()
    pump()
    shot("1-stacks-collapsed-gallery")
    first = next(row.id for row in window.model.rows if row.file_name.startswith("IMG_0001"))
    window.triage.toggle_stack(first)
    shot("2-stack-expanded-gallery")
    window.triage.toggle_stack(first)
    window.list_button.click()
    panel = window.triage.panel
    panel.hits.setCurrentIndex(panel.hits.findData("known"))
    window.triage.settle()
    shot("3a-hashset-filter-known-list")
    panel.hits.setCurrentIndex(0)
    window.action("triage.hide_known").trigger()
    window.triage.settle()
    shot("3b-hide-known-list")
    window.action("triage.hide_known").trigger()
    window.triage.settle()
    window.action("triage.timeline").trigger()
    pump()
    timeline = window.triage.timeline
    timeline.range_chosen.emit("2024-03-19", "2024-04-28")  # Lisbon to Sao Paulo
    timeline.show_range("2024-03-19", "2024-04-28")
    window.triage.settle()
    shot("4-timeline-range")
    timeline.clear()
    window.triage.settle()
    window.action("triage.map").trigger()
    pump()
    window.triage.map.view.show_world()
    window.triage.map.view.select_area(-80, 30, 15, 55)  # the Atlantic rim: New York, Lisbon
    shot("5-map-points-selected")
    window.action("triage.hashsets").trigger()
    dialog = window.findChild(HashSetDialog)
    shot("6-hashset-manager", dialog)
    window.shutdown()
    window.close_case()
    QApplication.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
