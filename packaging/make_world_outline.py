"""Make resources/map/land-110m.json, the world outline of the offline map, once.

Source: Natural Earth 1:110m land (public domain, naturalearthdata.com), as redistributed
in TopoJSON by the npm package world-atlas 2.0.2 (``npm pack world-atlas@2.0.2``; its file
land-110m.json). Usage::

    python packaging/make_world_outline.py path/to/world-atlas/land-110m.json

The TopoJSON arcs are decoded (delta-encoded, quantised) into plain rings of
longitude/latitude pairs rounded to 0.01 degree: no map library is needed at run time.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parent.parent / "resources" / "map" / "land-110m.json"


def decode_arcs(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(arcs: list[list[tuple[float, float]]], indexes: list[int]) -> list[float]:
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc[1:] if points else arc)  # arcs share their end points
    # A ring crossing the antimeridian jumps from +180 to -180: unwrap it (longitudes may
    # go past ±180) so that it is drawn as one shape, not with a line across the world;
    # the map draws such a ring a second time shifted by 360 degrees, clipped to the world.
    flat: list[float] = []
    shift = 0.0
    previous: float | None = None
    for lon, lat in points:
        if previous is not None and abs(lon + shift - previous) > 180:
            shift += 360.0 if previous > lon + shift else -360.0
        previous = lon + shift
        flat += [round(lon + shift, 2), round(lat, 2)]
    return flat


def main(source: str) -> int:
    topology = json.loads(Path(source).read_text(encoding="utf-8"))
    arcs = decode_arcs(topology)
    rings = []
    for geometry in topology["objects"]["land"]["geometries"]:
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        for polygon in polygons:
            rings.extend(ring(arcs, indexes) for indexes in polygon)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "source": "Natural Earth 1:110m land, public domain (naturalearthdata.com), "
        "via world-atlas 2.0.2 land-110m.json",
        # [lon, lat, lon, lat, ...] per ring, outer rings and holes alike; longitudes of a
        # ring crossing the antimeridian are unwrapped (beyond ±180)
        "rings": rings,
    }
    OUTPUT.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
    print(f"{OUTPUT}: {len(rings)} rings, {OUTPUT.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
