"""Names and paths as people see them: characters that draw nothing, draw as a plain space,
or reorder the text around them are written as ``⟨U+XXXX⟩``.

A file name can hide a right-to-left override (U+202E: "photo⟨U+202E⟩gpj.exe" displays
as "photoexe.jpg") or zero-width characters that make two different names look the same.
Every place a path or name is shown to people (report, CSV, command line, GUI) shows it
through :func:`visible`; the JSON export keeps the true value and writes those characters
as ``\\uXXXX`` escapes (:func:`escape_hidden_in_json`), so the file shows them and still
parses to the real name.
"""

from __future__ import annotations

import unicodedata

# Unicode's Default_Ignorable_Code_Point ranges (DerivedCoreProperties.txt, stable since
# Unicode 6): what fonts draw as nothing. Most are format characters (category Cf), which
# str.isprintable() already rejects; this table adds the few that are marks or letters
# (variation selectors, Hangul fillers, the combining grapheme joiner).
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def is_hidden(ch: str) -> bool:
    """True for a character a reader cannot see as itself: controls, format characters
    (bidirectional controls, zero-width characters), separators other than the plain space,
    unassigned and private-use code points, and Unicode's default-ignorable characters."""
    if ch == " ":
        return False
    if not ch.isprintable():
        return True
    code = ord(ch)
    return code >= 0x00AD and any(low <= code <= high for low, high in _DEFAULT_IGNORABLE)


def hidden_characters(text: str) -> list[str]:
    """The distinct hidden characters of ``text``, in order of first appearance."""
    if text.isascii() and text.isprintable():
        return []
    return list(dict.fromkeys(ch for ch in text if is_hidden(ch)))


def marker(ch: str) -> str:
    return f"⟨U+{ord(ch):04X}⟩"


def visible(text: str, keep: str = "") -> str:
    """``text`` with every hidden character (except those in ``keep``, e.g. "\\n" for
    multi-line notes) written as ``⟨U+XXXX⟩``."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(marker(ch) if ch not in keep and is_hidden(ch) else ch for ch in text)


def describe(ch: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``: the code point and, where Unicode has one, its name."""
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X} {name}" if name else f"U+{ord(ch):04X}"


def _json_escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON writes code points beyond the BMP as a UTF-16 surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def escape_hidden_in_json(document: str) -> str:
    """JSON text (as ``json.dumps(..., ensure_ascii=False)`` writes it) with every hidden
    character inside its strings written as a ``\\u`` escape: it parses to the same values.

    ``json.dumps`` escapes control characters inside strings itself, so a raw line feed in
    its output is layout (``indent``) and stays as it is; every other hidden character can
    only be inside a string, where a ``\\u`` escape means the same character.
    """
    if document.isascii():
        return document  # json.dumps already escaped every control character
    return "".join(_json_escape(ch) if ch != "\n" and is_hidden(ch) else ch for ch in document)
