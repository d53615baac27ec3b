"""Building blocks of the PDF report: fonts, styles, the score bar, item pictures, and the
canvas that writes the header and "Page X of Y" on every page."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, TimeStamp
from reportlab.pdfbase import pdfmetrics, pdfutils
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Flowable, Paragraph, Table

from opensight_desktop.detector.geometry import Geometry
from opensight_desktop.detector.heatmap import decode_cam, overlay
from opensight_desktop.present import ScoreBar
from opensight_desktop.resources import resource

SANS, SANS_BOLD, MONO = "DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono"
INK = colors.HexColor("#1a202c")
MUTED = colors.HexColor("#4a5568")
ALERT = colors.HexColor("#c0392b")
# Where the page header and the notice under it sit, from the top of the page; the text
# starts below (pdf.py's top margin).
HEADER_Y, HEADER_RULE_Y, NOTICE_Y = 10 * mm, 11.5 * mm, 15 * mm


@cache
def register_fonts() -> None:
    """DejaVu (bundled): covers Latin, Greek, Cyrillic and more, so names render as typed."""
    for name, file in (
        (SANS, "DejaVuSans.ttf"),
        (SANS_BOLD, "DejaVuSans-Bold.ttf"),
        (MONO, "DejaVuSansMono.ttf"),
    ):
        pdfmetrics.registerFont(TTFont(name, str(resource("fonts", file))))
    pdfmetrics.registerFontFamily(
        SANS, normal=SANS, bold=SANS_BOLD, italic=SANS, boldItalic=SANS_BOLD
    )


@cache
def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    base = ParagraphStyle(
        "body", fontName=SANS, fontSize=9, leading=12, textColor=INK, alignment=TA_LEFT
    )
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5, textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9),
        "mono": ParagraphStyle("mono", parent=base, fontName=MONO, fontSize=7.5, leading=9.5),
        "title": ParagraphStyle(
            "title", parent=base, fontName=SANS_BOLD, fontSize=22, leading=28, spaceAfter=10
        ),
        "h1": ParagraphStyle(
            "h1",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=14,
            leading=18,
            spaceBefore=6,
            spaceAfter=6,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=11,
            leading=14,
            spaceBefore=8,
            spaceAfter=4,
        ),
        "h3": ParagraphStyle(
            "h3", parent=base, fontName=SANS_BOLD, fontSize=8, leading=11, spaceBefore=4
        ),
        "alert": ParagraphStyle(
            "alert",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=11,
            leading=15,
            textColor=colors.white,
            backColor=ALERT,
            borderPadding=6,
        ),
        "alert_line": ParagraphStyle(
            "alert_line",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=8,
            leading=10.5,
            textColor=colors.white,
            backColor=ALERT,
            borderPadding=3,
        ),
        "warn": ParagraphStyle(
            "warn", parent=base, fontName=SANS_BOLD, fontSize=7.5, leading=9.5, textColor=ALERT
        ),
        "ok": ParagraphStyle(
            "ok",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=10,
            leading=14,
            textColor=colors.HexColor("#22543d"),
            backColor=colors.HexColor("#c6f6d5"),
            borderPadding=5,
        ),
    }


def score_bar(bar: ScoreBar, width: float = 80 * mm) -> Drawing:
    """The score bar of present.score_bar, drawn with ReportLab (the GUI draws the same)."""
    height = 12 * mm
    drawing = Drawing(width, height)
    bar_y, bar_h = 6 * mm, 4 * mm
    line = colors.HexColor(bar.line_color)
    # the ignores: types-reportlab types Rect's **kw as TypedDict values (Unpack missing)
    for segment in bar.segments:
        drawing.add(
            Rect(
                segment.start * width,
                bar_y,
                (segment.end - segment.start) * width,
                bar_h,
                fillColor=colors.HexColor(segment.color),  # type: ignore[arg-type]
                strokeColor=None,  # type: ignore[arg-type]
            )
        )
    drawing.add(Rect(0, bar_y, width, bar_h, fillColor=None, strokeColor=line, strokeWidth=0.5))  # type: ignore[arg-type]
    for tick in bar.ticks:
        drawing.add(
            String(
                tick.value * width,
                bar_y - 3.2 * mm,
                tick.label,
                fontName=SANS,
                fontSize=6,
                fillColor=line,
                textAnchor=tick.anchor,
            )
        )
    if bar.marker is not None:
        x = bar.marker * width
        drawing.add(
            Line(
                x,
                bar_y - 1 * mm,
                x,
                bar_y + bar_h + 1 * mm,
                strokeColor=colors.HexColor(bar.marker_color),
                strokeWidth=2,
            )
        )
    return drawing


_UNDO_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


class _JpegReader(ImageReader):
    """A JPEG that ReportLab embeds as it is: named by its bytes' hash, never decoded.

    (ReportLab's own reader decodes every image to raw RGB to name it and keeps that copy
    alive, which made a 1,000-item report need well over a gigabyte.)
    """

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self._jpeg = data
        self._dataA = None

    def jpeg_fh(self) -> io.BytesIO:  # type: ignore[override]  # the stub says None
        return io.BytesIO(self._jpeg)

    def getRGBData(self) -> bytes:
        return self._jpeg


# Thumbnails are 256 px (evidence/decode.py); anything far larger is not one of ours.
MAX_THUMBNAIL_SIDE = 4096


def jpeg_problem(data: bytes) -> str | None:
    """Why stored thumbnail bytes cannot be embedded as a picture; None when they can.

    Embedded JPEGs are copied into the PDF without decoding (see _JpegReader), so garbage
    or another format would show as noise or break the report: decode it once here.
    """
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format != "JPEG":
                return f"not a JPEG image but {probe.format or 'an unknown format'}"
            width, height = probe.size
            if not (0 < width <= MAX_THUMBNAIL_SIDE and 0 < height <= MAX_THUMBNAIL_SIDE):
                return f"implausible size {width} x {height} px"
            if probe.mode not in ("RGB", "L"):
                return f"unsupported colour mode {probe.mode}"
            probe.load()  # decodes all of it: truncated or corrupt data raises here
        # What ReportLab itself reads when it embeds the bytes.
        header = pdfutils.readJPEGInfo(io.BytesIO(data))  # typed as able to return None
        if header is None or header[:2] != (width, height):
            return "its JPEG header contradicts its image data"
    except UnidentifiedImageError:
        return "not an image in any format that can be read"
    except Exception as exc:  # hostile bytes can raise anything: unusable either way
        return f"does not decode as an image ({type(exc).__name__}: {str(exc)[:120]})"
    return None


def placeholder(text: str, width: float, height: float) -> Table:
    """A framed box the size of a picture, saying why the picture is not there."""
    return Table(
        [[Paragraph(text, styles()["small"])]],
        colWidths=[width],
        rowHeights=[height],
        style=[
            ("BOX", (0, 0), (-1, -1), 0.5, MUTED),
            ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f7fafc")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ],
    )


class JpegFlowable(Flowable):
    """A JPEG drawn at a fixed size, without decoding (see _JpegReader)."""

    def __init__(self, data: bytes, max_width: float, max_height: float) -> None:
        super().__init__()
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
        scale = min(max_width / width, max_height / height)
        self.data = data
        self.width, self.height = width * scale, height * scale

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.canv.drawImage(_JpegReader(self.data), 0, 0, self.width, self.height)


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def overlay_picture(
    thumbnail_jpeg: bytes,
    heatmap: bytes | None,
    geometry: Mapping[str, object],
    orientation: int | None,
) -> bytes:
    """The thumbnail with the heatmap over the examined square (JPEG bytes, upright).

    Thumbnails are stored upright; the geometry is in stored pixels. So: back to stored
    orientation, draw, and upright again.
    """
    with Image.open(io.BytesIO(thumbnail_jpeg)) as thumb:
        thumb.load()
        stored = (
            thumb.transpose(_UNDO_ORIENTATION[orientation])
            if orientation in _UNDO_ORIENTATION
            else thumb.copy()
        )
    cam = decode_cam(heatmap) if heatmap else np.zeros((24, 24), dtype=np.float32)
    drawn = overlay(stored, cam, Geometry.from_record(geometry), opacity=0.55 if heatmap else 0)
    if orientation and orientation != 1:
        drawn.getexif()[0x0112] = orientation
        drawn = ImageOps.exif_transpose(drawn)
    return jpeg(drawn)


def fixed_timestamp(moment: datetime) -> TimeStamp:
    """A ReportLab timestamp pinned to ``moment`` (the PDF's CreationDate/ModDate)."""
    stamp = TimeStamp(invariant=1)
    utc = moment.utctimetuple()
    stamp.t = moment.timestamp()
    stamp.lt = (*utc,)
    stamp.YMDhms = tuple(utc)[:6]
    stamp.dhh = stamp.dmm = 0
    stamp.tzname = "UTC"
    return stamp


def numbered_canvas(  # type: ignore[no-untyped-def]
    header: str,
    footer_left: str,
    generated: datetime,
    page_count: list[int],
    notice: str | None = None,
):
    """A canvas class that writes the header, ``notice`` (in red, under the header) and
    "Page X of Y" on every page.

    Y is not known until the end: each page draws a reference to a small form that is
    defined once, after the last page (a PDF forward reference). Nothing is kept per page,
    so memory does not grow with the page count.
    """

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["invariant"] = 1  # no random document id: same input, same bytes
            super().__init__(*args, **kwargs)
            self._doc._timeStamp = fixed_timestamp(generated)  # type: ignore[attr-defined]
            self._page_number = 0

        def showPage(self) -> None:
            self._page_number += 1
            self._decorate(self._page_number)
            super().showPage()

        def save(self) -> None:
            page_count.append(self._page_number)
            self.beginForm(TOTAL_FORM, lowerx=0, lowery=0, upperx=20 * mm, uppery=10 * mm)
            self.setFont(SANS, 7.5)
            self.setFillColor(MUTED)
            self.drawString(0, 0, str(self._page_number))
            self.endForm()
            super().save()

        def _decorate(self, number: int) -> None:
            width, height = self._pagesize  # type: ignore[attr-defined]
            self.saveState()
            self.setFont(SANS, 7.5)
            self.setFillColor(MUTED)
            self.drawString(15 * mm, height - HEADER_Y, header)
            self.drawRightString(width - 15 * mm, height - HEADER_Y, "OpenSight Desktop report")
            self.setStrokeColor(colors.HexColor("#cbd5e0"))
            self.line(15 * mm, height - HEADER_RULE_Y, width - 15 * mm, height - HEADER_RULE_Y)
            if notice:
                # one line across the text width, smaller type if it needs it
                size = min(7.5, 7.5 * (width - 30 * mm) / self.stringWidth(notice, SANS_BOLD, 7.5))
                self.setFont(SANS_BOLD, size)
                self.setFillColor(ALERT)
                self.drawString(15 * mm, height - NOTICE_Y, notice)
                self.setFont(SANS, 7.5)
                self.setFillColor(MUTED)
            self.drawString(15 * mm, 8 * mm, footer_left)
            label = f"Page {number} of "
            x = width - 15 * mm - 9 * mm - self.stringWidth(label, SANS, 7.5)
            self.drawString(x, 8 * mm, label)
            self.saveState()
            self.translate(x + self.stringWidth(label, SANS, 7.5), 8 * mm)
            self.doForm(TOTAL_FORM)
            self.restoreState()
            self.restoreState()

    return NumberedCanvas


TOTAL_FORM = "opensight-page-total"
