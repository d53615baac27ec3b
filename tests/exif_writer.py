"""EXIF for the tests: the benchmark's camera EXIF writer plus damage that Pillow cannot
write (offsets out of range, IFD loops, huge counts)."""

from __future__ import annotations

from typing import Any

from opensight_desktop.benchmarks import camera_exif
from opensight_desktop.benchmarks.camera_exif import jpeg_with_app1

__all__ = ["Ifd", "build_tiff", "camera_ifds", "jpeg_with_app1"]


class Ifd(camera_exif.Ifd):
    def __init__(self, entries: dict[int, tuple[str, Any]] | None = None) -> None:
        super().__init__(entries)
        # tag -> (count override, raw offset override)
        self.damage: dict[int, tuple[int | None, int | None]] = {}
        self.next_override: int | None = None  # this IFD's "next IFD" offset

    def entry(self, tag: int, code: int, count: int, field: bytes, order: str) -> bytes:
        count_override, offset_override = self.damage.get(tag, (None, None))
        if offset_override is not None:
            field = offset_override.to_bytes(4, "little" if order == "<" else "big")
        count = count if count_override is None else count_override
        return super().entry(tag, code, count, field, order)

    def build(self, offset: int, order: str, next_ifd: int) -> bytes:
        if self.next_override is not None:
            next_ifd = self.next_override
        return super().build(offset, order, next_ifd)


def camera_ifds(**fields: Any) -> tuple[Ifd, Ifd, Ifd | None]:
    """``camera_exif.camera_ifds`` as IFDs that can be damaged."""
    ifd0, exif, gps = camera_exif.camera_ifds(**fields)
    return Ifd(ifd0.entries), Ifd(exif.entries), None if gps is None else Ifd(gps.entries)


def build_tiff(
    ifd0: camera_exif.Ifd,
    exif: camera_exif.Ifd | None = None,
    gps: camera_exif.Ifd | None = None,
    thumbnail: bytes | None = None,
    order: str = "<",
    ifd0_next_override: int | None = None,
) -> bytes:
    """``camera_exif.build_tiff``; ``ifd0_next_override`` points IFD0's "next IFD" anywhere."""
    if ifd0_next_override is not None:
        if not isinstance(ifd0, Ifd):
            ifd0 = Ifd(ifd0.entries)
        ifd0.next_override = ifd0_next_override
    return camera_exif.build_tiff(ifd0, exif, gps, thumbnail, order)
