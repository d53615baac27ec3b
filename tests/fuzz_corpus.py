"""A generated corpus of broken and hostile files (deterministic: seeded).

Every image format truncated at many offsets and with flipped bytes, decompression bombs,
1x1 and 65535-wide images, EXIF with loops and out-of-range offsets, PNG with huge text
chunks, non-images under image names, odd file names, a FIFO and a symlink loop.
"""

from __future__ import annotations

import io
import os
import random
import struct
import zlib
from pathlib import Path

from PIL import Image

from opensight_desktop.benchmarks.synthetic import synthetic_photo
from tests import exif_writer, imagegen

FORMATS = {
    "JPEG": ".jpg",
    "PNG": ".png",
    "GIF": ".gif",
    "WEBP": ".webp",
    "TIFF": ".tif",
    "BMP": ".bmp",
    "HEIF": ".heic",
}


def _encoded(fmt: str, size=(96, 72)) -> bytes:
    image = synthetic_photo(*size, seed=len(fmt))
    if fmt == "GIF":
        image = image.convert("P")
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body))
        + kind
        + body
        + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def build(root: Path) -> dict[str, int]:
    """Writes the corpus under ``root``; returns how many files of each class."""
    rnd = random.Random(1234)
    root.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}

    def put(kind: str, name: str, data: bytes) -> None:
        (root / name).write_bytes(data)
        counts[kind] = counts.get(kind, 0) + 1

    for fmt, ext in FORMATS.items():
        data = _encoded(fmt)
        cuts = sorted(
            {
                0,
                1,
                2,
                4,
                8,
                12,
                16,
                32,
                64,
                100,
                200,
                len(data) // 4,
                len(data) // 2,
                len(data) * 3 // 4,
                len(data) - 16,
                len(data) - 1,
            }
        )
        for cut in cuts:
            if 0 <= cut < len(data):
                put("truncated", f"trunc_{fmt}_{cut}{ext}", data[:cut])
        for flip in range(12):
            mutated = bytearray(data)
            for _ in range(1 + flip % 4):
                position = (
                    rnd.randrange(min(len(mutated), 400))
                    if flip < 6
                    else rnd.randrange(len(mutated))
                )
                mutated[position] ^= 1 << rnd.randrange(8)
            put("flipped", f"flip_{fmt}_{flip}{ext}", bytes(mutated))
    # decompression bombs: headers claiming giant images, and a real zlib bomb in PNG
    put("bomb", "bomb_header.png", imagegen.png_bomb(root / "tmp.png").read_bytes())
    (root / "tmp.png").unlink()
    wide = struct.pack(">IIBBBBB", 65535, 65535, 8, 2, 0, 0, 0)
    put(
        "bomb",
        "bomb_65535x65535.png",
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", wide)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 4096))
        + _png_chunk(b"IEND", b""),
    )
    # 4000x4000 black: a few KB that inflate to 48 MB (legal size: decoded, bounded)
    packer = zlib.compressobj(9)
    row = b"\x00" * (1 + 4000 * 3)
    idat = b"".join(packer.compress(row) for _ in range(4000)) + packer.flush()
    big = struct.pack(">IIBBBBB", 4000, 4000, 8, 2, 0, 0, 0)
    put(
        "bomb",
        "zlib_bomb_4000.png",
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", big)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b""),
    )
    gif = bytearray(_encoded("GIF"))
    gif[6:10] = struct.pack("<HH", 65535, 65535)
    put("bomb", "bomb_logical_screen.gif", bytes(gif))
    # extreme but legal sizes
    for name, size in (("one_pixel", (1, 1)), ("wide_65535", (65535, 1)), ("tall", (1, 20000))):
        out = io.BytesIO()
        Image.new("RGB", size, (120, 30, 200)).save(out, "PNG")
        put("extreme-size", f"{name}.png", out.getvalue())
    # EXIF with loops, bad offsets, huge counts
    jpeg = _encoded("JPEG")
    for variant in range(6):
        ifd0, exif, gps = exif_writer.camera_ifds(lat=10.0, lon=20.0)
        next_override = None
        if variant == 0:
            next_override = 8
        elif variant == 1:
            ifd0.damage[0x0110] = (None, 0xFFFFFF00)
        elif variant == 2:
            exif.damage[0x829A] = (0x7FFFFFFF, None)
        elif variant == 3:
            ifd0.damage[0x8769] = (None, 8)  # Exif IFD pointer back to IFD0
        elif variant == 4:
            gps.entries[0x0002] = ("RATIONAL", [(1, 0), (0, 0), (5, 0)])
        else:
            ifd0.entries[0x010E] = ("UNDEFINED", bytes(rnd.randrange(256) for _ in range(5000)))
        tiff = exif_writer.build_tiff(ifd0, exif, gps, ifd0_next_override=next_override)
        put("bad-exif", f"exif_damage_{variant}.jpg", exif_writer.jpeg_with_app1(jpeg, tiff))
    # PNG text chunks: huge, and inflating far beyond any limit
    png = _encoded("PNG")
    put(
        "png-text",
        "huge_text.png",
        png[:33] + _png_chunk(b"tEXt", b"k\x00" + b"x" * (8 << 20)) + png[33:],
    )
    put(
        "png-text",
        "text_bomb.png",
        png[:33]
        + _png_chunk(b"zTXt", b"k\x00\x00" + zlib.compress(b"A" * (64 << 20), 9))
        + png[33:],
    )
    # not images under image names, and empty files
    put("not-image", "letter.jpg", b"Dear examiner,\n" * 50)
    put("not-image", "archive.png", b"PK\x03\x04" + os.urandom(500))
    put("not-image", "program.gif", b"\x7fELF" + os.urandom(300))
    put("not-image", "empty.heic", b"")
    put("not-image", "zeros.tif", b"\x00" * 4096)
    # names with newlines, control characters and undecodable bytes
    put("odd-name", "new\nline.jpg", jpeg)
    put("odd-name", "tab\tand\x07bell.png", png)
    put("odd-name", "ünïcödé 写真 😀.webp", _encoded("WEBP"))
    if os.name == "posix":
        (Path(os.fsdecode(os.fsencode(str(root)) + b"/bad-\xff\xfe.jpg"))).write_bytes(jpeg)
        counts["odd-name"] += 1
        os.mkfifo(root / "pipe.jpg")
        counts["fifo"] = 1
        (root / "sub").mkdir()
        os.symlink("..", root / "sub" / "loop")
        counts["symlink-loop"] = 1
    return counts
