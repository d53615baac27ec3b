"""File type from content (magic bytes), never from the file name."""

from __future__ import annotations

# Names that claim to be images: such a file whose content is not an image is an error
# item (mislabelled or damaged evidence), not a silent skip.
IMAGE_EXTENSIONS = frozenset(
    [
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".apng",
        ".webp",
        ".tif",
        ".tiff",
        ".bmp",
        ".dib",
        ".gif",
        ".heic",
        ".heif",
        ".hif",
        ".avif",
    ]
)

HEAD_BYTES = 64

_HEIF_BRANDS = {
    b"heic",
    b"heix",
    b"hevc",
    b"hevx",
    b"heim",
    b"heis",
    b"hevm",
    b"hevs",
    b"mif1",
    b"msf1",
    b"mif2",
    b"avif",
    b"avis",
}


def image_format(head: bytes) -> str | None:
    """The image container format named by the first bytes, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[:2] == b"BM" and len(head) >= 18:
        # The DIB header size distinguishes a bitmap from text that starts with "BM".
        dib = int.from_bytes(head[14:18], "little")
        if dib in (12, 16, 40, 52, 56, 64, 108, 124):
            return "BMP"
    if head[4:8] == b"ftyp":
        brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(len(head), 48), 4)}
        if brands & _HEIF_BRANDS:
            return "HEIF"
    return None


_KNOWN_OTHER = (
    (b"%PDF", "PDF document"),
    (b"PK\x03\x04", "ZIP archive (or Office document)"),
    (b"\x1f\x8b", "gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!", "RAR archive"),
    (b"\x7fELF", "executable program"),
    (b"MZ", "Windows executable"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"ID3", "MP3 audio"),
    (b"OggS", "Ogg media"),
    (b"\x1aE\xdf\xa3", "Matroska/WebM video"),
    (b"8BPS", "Photoshop document (not imported)"),
    (b"\x00\x00\x01\x00", "Windows icon (not imported)"),
)


def describe_other(head: bytes) -> str:
    """A short description of content that is not an importable image."""
    if not head:
        return "empty file"
    for magic, label in _KNOWN_OTHER:
        if head.startswith(magic):
            return label
    if head[4:8] == b"ftyp":
        return f"video or other media ({head[8:12].decode('ascii', 'replace').strip()})"
    if head[:4] == b"RIFF":
        return "RIFF media (audio/video)"
    if head.lstrip().startswith((b"<svg", b"<?xml")):
        return "XML or SVG document (vector images are not analysed)"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "unrecognised binary data"
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return "text" if printable >= 0.95 * len(text) else "unrecognised binary data"


def claims_image(name: str) -> bool:
    dot = name.rfind(".")
    return dot >= 0 and name[dot:].lower() in IMAGE_EXTENSIONS
