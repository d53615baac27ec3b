"""Our normalised metadata against ExifTool's, field by field, over a folder of real files.

    python -m tests.tools.compare_exiftool FOLDER [--cameras-only] [--json OUT.json]

Runs the import's own metadata extraction and ``exiftool -n -j`` on every image file under
FOLDER (by content, as the import decides) and prints, per normalised field, how many of
the values that either side has agree, then every disagreement with both values and where
ours came from. ExifTool (Debian: libimage-exiftool-perl) must be on PATH. The files are
never written; keep the corpus outside the repository.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opensight_desktop.evidence.decode import DecodeError, inspect_image
from opensight_desktop.evidence.sniff import HEAD_BYTES, image_format
from opensight_desktop.metadata.extract import extract_metadata

# our field -> ExifTool tag names, the first one present wins. ExifTool names a program
# that wrote the file "Software" (EXIF, PNG, XMP-tiff) or "CreatorTool" (XMP-xmp).
FIELDS = {
    "camera_make": ("Make",),
    "camera_model": ("Model",),
    "software": ("Software", "CreatorTool"),
    "orientation": ("Orientation",),
    "datetime_original": ("DateTimeOriginal",),
    "gps_latitude": ("GPSLatitude",),
    "gps_longitude": ("GPSLongitude",),
}
GPS_TOLERANCE = 1e-6  # degrees (about 0.1 m)


@dataclass
class Tally:
    compared: int = 0
    agreed: int = 0
    # ours equals the value ExifTool reads from one of the file's blocks, though not the one
    # its priority rules show first (a file carrying two cameras' metadata)
    agreed_with_a_block: int = 0
    disagreements: list[dict[str, Any]] = field(default_factory=list)


def image_files(folder: Path) -> Iterator[tuple[Path, str]]:
    for root, _dirs, names in os.walk(folder):
        for name in sorted(names):
            path = Path(root) / name
            try:
                with path.open("rb") as handle:
                    sniffed = image_format(handle.read(HEAD_BYTES))
            except OSError:
                continue
            if sniffed:
                yield path, sniffed


def ours(path: Path, sniffed: str) -> tuple[dict[str, Any], dict[str, str]]:
    """What the import stores: the normalised fields and where each came from."""
    data = path.read_bytes()
    preview, header = None, None
    try:
        inspected = inspect_image(data, sniffed)
        preview, header = inspected.preview, (inspected.quantization, inspected.icc_profile)
    except DecodeError:
        pass
    record = extract_metadata(data, sniffed, None, preview, header)
    return record.normalised, record.extra.get("sources", {})


def exiftool(paths: list[Path], *options: str) -> dict[str, dict[str, Any]]:
    """``exiftool -n -j`` for the files, by path."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(paths), 200):
        chunk = [str(p) for p in paths[start : start + 200]]
        result = subprocess.run(
            ["exiftool", "-n", "-j", "-q", "-q", *options, *chunk],
            capture_output=True,
            text=True,
            check=False,
        )
        # numbers as their text: a Software of "1.00" is not 1.0
        for entry in json.loads(result.stdout or "[]", parse_float=str, parse_int=str):
            found[entry["SourceFile"]] = entry
    return found


def expected(
    entry: dict[str, Any], grouped: dict[str, Any], names: tuple[str, ...]
) -> tuple[Any, str | None]:
    """ExifTool's value for the first of ``names`` it has, and the group it came from
    (``grouped``: the same file's ``-G`` output, where a tag can appear once per group)."""
    for name in names:
        value = entry.get(name)
        if value in ("", None):
            continue
        groups = [key.partition(":")[0] for key in grouped if key.partition(":")[2] == name]
        matching = [group for group in groups if str(grouped[f"{group}:{name}"]) == str(value)]
        return value, (matching or groups or [None])[0]
    return None, None


def every_value(all_groups: dict[str, Any], names: tuple[str, ...]) -> list[Any]:
    """Every value ExifTool reads for these tags, one per block (``-a -G1`` output)."""
    return [value for key, value in all_groups.items() if key.partition(":")[2] in names and value]


def same(field_name: str, mine: Any, theirs: Any) -> bool:
    if mine is None or theirs is None:
        return mine is None and theirs is None
    if field_name.startswith("gps_"):
        try:
            return math.isclose(float(mine), float(theirs), abs_tol=GPS_TOLERANCE)
        except (TypeError, ValueError):
            return False
    if field_name == "orientation":
        return str(mine) == str(theirs)
    if field_name == "datetime_original":
        text = str(theirs).strip()
        iso = text[:10].replace(":", "-") + "T" + text[11:19]
        return str(mine) == iso
    return str(mine).strip() == str(theirs).strip()


def compare(folder: Path, cameras_only: bool = False) -> dict[str, Tally]:
    files = list(image_files(folder))
    paths = [path for path, _ in files]
    reference, grouped = exiftool(paths), exiftool(paths, "-G")
    duplicates = exiftool(paths, "-a", "-G1")
    tallies = {name: Tally() for name in FIELDS}
    for path, sniffed in files:
        entry, groups = reference.get(str(path), {}), grouped.get(str(path), {})
        if cameras_only and not (entry.get("Make") or entry.get("Model")):
            continue
        normalised, sources = ours(path, sniffed)
        for name, tags in FIELDS.items():
            mine = normalised.get(name)
            theirs, group = expected(entry, groups, tags)
            if mine is None and theirs is None:
                continue
            tally = tallies[name]
            tally.compared += 1
            if same(name, mine, theirs):
                tally.agreed += 1
            else:
                blocks = every_value(duplicates.get(str(path), {}), tags)
                if any(same(name, mine, value) for value in blocks):
                    tally.agreed_with_a_block += 1
                tally.disagreements.append(
                    {
                        "file": str(path.relative_to(folder)),
                        "field": name,
                        "ours": mine,
                        "ours_from": sources.get(name),
                        "exiftool": theirs,
                        "exiftool_from": group,
                    }
                )
    return tallies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--json", type=Path, help="also write the figures and disagreements")
    parser.add_argument(
        "--cameras-only",
        action="store_true",
        help="only files for which ExifTool reports a camera make or model",
    )
    args = parser.parse_args(argv)
    # Pillow's notes about odd test files (malformed MPO, APNG...) are not our subject here
    warnings.filterwarnings("ignore")
    if shutil.which("exiftool") is None:
        print("exiftool is not on PATH (Debian: apt-get install libimage-exiftool-perl)")
        return 2
    tallies = compare(args.folder, args.cameras_only)
    compared = sum(t.compared for t in tallies.values())
    agreed = sum(t.agreed for t in tallies.values())
    for name, tally in tallies.items():
        share = 100 * tally.agreed / tally.compared if tally.compared else 100.0
        print(f"{name:20} {tally.agreed:5}/{tally.compared:<5} {share:6.2f}%")
    print(f"{'all':20} {agreed:5}/{compared:<5} {100 * agreed / max(compared, 1):6.2f}%")
    either = agreed + sum(t.agreed_with_a_block for t in tallies.values())
    print(
        f"{'all, or a block':20} {either:5}/{compared:<5} {100 * either / max(compared, 1):6.2f}%"
        "  (ours equals ExifTool's reading of another block of the file: -a -G1)"
    )
    problems = [d for t in tallies.values() for d in t.disagreements]
    for d in problems:
        print(
            f"{d['file']}: {d['field']}: ours {d['ours']!r} ({d['ours_from']}) "
            f"exiftool {d['exiftool']!r} ({d['exiftool_from']})"
        )
    if args.json:
        args.json.write_text(
            json.dumps({name: vars(t) for name, t in tallies.items()}, indent=1, default=str),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
