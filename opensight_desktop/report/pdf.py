"""The PDF case report.

Deterministic: the same case state, options and generation time give the same bytes (no
random document id, the PDF dates set to the generation time, nothing read from the
clock), so anyone holding a copy of the case file as it was can regenerate the report and
compare hashes. The integrity check made for the report is not written to the case until
the report exists; then one audit entry records the report's SHA-256, time and options.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, tzinfo
from html import escape
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    PageBreakIfNotEmpty,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from sqlalchemy import select

from opensight_desktop import __version__, present
from opensight_desktop.case import audit
from opensight_desktop.case.integrity import FileProblem, IntegrityReport, describe, verify_case
from opensight_desktop.case.models import AuditEntry, EvidenceItem, HashSet, HashSetHit, ItemFlag
from opensight_desktop.case.output_guard import check_output, checked_output
from opensight_desktop.case.similar import similar_groups
from opensight_desktop.case.states import REVIEW_STATES, ItemStatus, ReviewState
from opensight_desktop.case.store import Case
from opensight_desktop.case.views import (
    CaseView,
    HeatmapView,
    ItemView,
    ModelView,
    case_view,
    current_heatmaps,
    item_views,
    thumbnail_jpeg,
)
from opensight_desktop.detector.verdict import DEFAULT_BANDS, Bands
from opensight_desktop.errors import Cancelled, UsageError
from opensight_desktop.progress import CancelToken, Progress, ProgressCallback, Throttle
from opensight_desktop.report import pdf_parts as parts
from opensight_desktop.settings import load_settings
from opensight_desktop.textsafe import visible
from opensight_desktop.timeutil import fixed_zone, format_offset, iso_utc, utc_now

log = logging.getLogger(__name__)

# all: every item; flagged: items with metadata flags; reviewed: items whose review state
# the examiner set; summary: no item pages (the summary's table lists every item in it);
# selected: the items of ``item_ids`` (the GUI's selection). ``item_ids`` and
# ``review_states`` narrow any scope further (the GUI passes its current filter as ids).
SCOPES = ("all", "flagged", "reviewed", "summary", "selected")
# A PDF date has four-digit years, and the case's time zone is applied to the time.
EARLIEST_GENERATED = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_GENERATED = datetime(9999, 1, 1, tzinfo=UTC)
# Table rows split across pages, but each split lays the rest of the row out again: text
# that could be long (notes, description, duplicate paths) flows below the table instead,
# and any other cell is cut at a length no real value reaches (a path is under 4,096 bytes).
CELL_FIT_CHARS, CELL_FIT_LINES = 1500, 20
CELL_TEXT_LIMIT = 5000
FLOW_CHUNK_CHARS = 2000
# More chosen ids than this are matched in Python, not in one SQL statement.
SELECTION_IN_QUERY = 500
# Free text is printed in full up to twice what the app accepts for notes (case/review.py);
# more can only come from a crafted case, and would be thousands of pages.
FLOW_TEXT_LIMIT = 200_000
PAPER = (
    'Jeongsoo Park and Andrew Owens, "Community Forensics: Using Thousands of '
    'Generators to Train Fake Image Detectors", CVPR 2025, arXiv:2411.04125'
)
PUBLISHED_FIGURES = (
    "For their published weights, the Community Forensics authors report an average "
    "precision of 0.984 on their own test set (GAN 0.995, latent diffusion 0.996, pixel "
    "diffusion 0.947, commercial 0.985, other 0.998). On newer commercial generators that "
    "postdate its training, accuracy is much lower: an independent 2026 benchmark measured "
    "about 75% mean accuracy for the best detector (this one). These figures describe the "
    "published weights only. Both false positives and false negatives occur."
)
LIMITATIONS = [
    "A detector score is a statistical indication, not proof. It estimates how likely the "
    "pixels are to come from an AI image generator and must be weighed with the other "
    "evidence (provenance, metadata, witness accounts, the device it came from).",
    PUBLISHED_FIGURES,
    "The model sees one square in the middle of each image, after scaling the shorter side "
    "to 440 pixels: the rest of the picture is not examined (hatched in the figures), and "
    "fine detail in large images is reduced. A tile scan can examine the full resolution.",
    "The heatmap shows the regions that most influenced the detector's score. It is not a "
    "map of manipulated or generated regions.",
    "Recompression, resizing, screenshots and messaging apps change the pixels and can "
    "move scores either way.",
    "Metadata (EXIF, XMP, PNG text, C2PA) can be removed, altered or forged with common "
    "tools. Its presence or absence is a lead, not a conclusion. A valid Content Credentials "
    "signature shows the manifest is intact, not that its claims are true; no C2PA trust "
    "list is configured, so the signer's identity is not established by this report.",
]


@dataclass
class ReportOptions:
    scope: str = "all"  # one of SCOPES
    item_ids: list[int] | None = None  # only these items
    audit_appendix: bool = True
    generated_at: datetime = field(default_factory=utc_now)
    review_states: list[str] | None = None  # only items in these review states

    def record(self) -> dict[str, Any]:
        data = asdict(self)
        data["generated_at"] = iso_utc(self.generated_at)
        return data


@dataclass
class ReportResult:
    path: Path
    sha256: str
    pages: int
    items: int
    integrity_ok: bool
    # What the report could not show as stored (e.g. an unusable thumbnail); also in it.
    findings: list[str] = field(default_factory=list)


def _p(text: str, style: str = "body") -> Paragraph:
    return Paragraph(text, parts.styles()[style])


def _e(value: object, keep: str = "") -> str:
    """Text for a Paragraph: markup escaped, hidden characters (bidirectional controls,
    zero-width characters, line breaks unless kept) shown as ⟨U+XXXX⟩ (textsafe)."""
    return escape(visible("" if value is None else str(value), keep))


def _clip(text: str, limit: int = CELL_TEXT_LIMIT) -> str:
    if len(text) <= limit:
        return text
    return (
        text[:limit] + f" … [{len(text) - limit:,} more characters not shown here; "
        "the JSON export holds the complete text]"
    )


def _cell(value: object, style: str = "cell") -> Paragraph:
    """Stored text for a table cell: escaped, line breaks kept, cut if absurdly long."""
    text = _e(_clip("" if value is None else str(value)), keep="\n")
    return _p(text.replace("\n", "<br/>"), style)


def _short_cell(value: object, width: float, font: str = parts.SANS) -> str | Paragraph:
    """A cell of a long table: the text itself when it fits on one line of the column (a
    string costs a fraction of a Paragraph's memory: 100,000 rows), else a wrapping cell."""
    text = visible("" if value is None else str(value))
    # the table's cell padding is 6 pt each side
    if len(text) <= 120 and stringWidth(text, font, 7.5) <= width - 12:
        return text
    return _cell(value, "mono" if font == parts.MONO else "cell")


def _fits_cell(text: str) -> bool:
    return len(text) <= CELL_FIT_CHARS and text.count("\n") < CELL_FIT_LINES


def _flowing(text: str, style: str = "cell") -> list[Paragraph]:
    """Any amount of text as paragraphs of bounded size, which split across pages.

    Lines are kept; a paragraph ends at a line break once it holds FLOW_CHUNK_CHARS, and a
    longer line is cut at its last space before that (or mid-word if it has none).
    """
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        while len(line) > FLOW_CHUNK_CHARS:
            cut = line.rfind(" ", 0, FLOW_CHUNK_CHARS) + 1 or FLOW_CHUNK_CHARS
            chunks.append("<br/>".join([*current, _e(line[:cut])]))
            current, size, line = [], 0, line[cut:]
        current.append(_e(line))
        size += len(line) + 1
        if size >= FLOW_CHUNK_CHARS:
            chunks.append("<br/>".join(current))
            current, size = [], 0
    if current:
        chunks.append("<br/>".join(current))
    return [_p(chunk, style) for chunk in chunks]


def _text_row(
    label: str, text: str, below: list[Flowable], style: str = "cell"
) -> list[str | Flowable]:
    """A two-column row for free text; text too long for a cell flows below the table."""
    if _fits_cell(text):
        return [label, _cell(text, style)]
    below += [_p(_e(label), "h3"), *_flowing(text[:FLOW_TEXT_LIMIT], style)]
    if len(text) <= FLOW_TEXT_LIMIT:
        return [label, _p(f"{len(text):,} characters; in full below", style)]
    rest = len(text) - FLOW_TEXT_LIMIT
    below.append(
        _p(
            f"[The text continues for {rest:,} more characters, not printed in this report; "
            "the case file and the JSON export hold all of it.]",
            "small",
        )
    )
    return [
        label,
        _p(f"{len(text):,} characters; the first {FLOW_TEXT_LIMIT:,} below", style),
    ]


# Rows per table of a long list: ReportLab splits a table at each page by laying the rest
# out again, so one table of N rows costs O(N^2) (30,000 items: 85 s; LongTable is no
# faster). Tables of a few pages each, one after another, cost O(N); each repeats its
# header at the top of its pages (and where it starts).
TABLE_CHUNK = 250


class _TableRows(Flowable):
    """A table of any length (first row: the header) laid out as tables of
    :data:`TABLE_CHUNK` rows, each made only when the layout reaches it.

    A Table keeps a style object per cell: 400 tables made up front for a 100,000-item
    case were most of the report's memory. This flowable never fits where it stands, so
    the layout asks it to split: it makes the next table, hands back what of it fits
    here, and itself (the remaining rows) to follow.
    """

    def __init__(
        self,
        header: list[Any],
        body: list[list[Any]],
        widths: list[float],
        split_rows: bool,
        mono_columns: tuple[int, ...],
        start: int = 0,
        make_row: Callable[[Any], list[Any]] | None = None,
    ) -> None:
        super().__init__()
        self._header, self._body, self._widths = header, body, widths
        self._split_rows, self._mono_columns = split_rows, mono_columns
        self._start = start  # the first of the body's rows still to lay out
        # the body holds data, each made into a row of cells when its table is made
        # (Paragraphs cost kilobytes each once laid out)
        self._make_row = make_row

    def _chunk(self, start: int) -> Table:
        body = self._body[start : start + TABLE_CHUNK]
        if self._make_row is not None:
            body = [self._make_row(data) for data in body]
        table = _table([self._header, *body], self._widths, split_rows=self._split_rows)
        for column in self._mono_columns:  # text cells there (not Paragraphs) in the mono font
            table.setStyle(TableStyle([("FONT", (column, 1), (column, -1), parts.MONO, 7.5)]))
        return table

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return available_width, available_height + 1  # never fits: the layout splits it

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        table = self._chunk(self._start)
        _, height = table.wrap(available_width, available_height)
        pieces: list[Flowable] = (
            [table]
            if height <= available_height
            else list(table.split(available_width, available_height))
        )
        if not pieces:  # not even the header and a row fit here: on to the next frame
            return []
        following = self._start + TABLE_CHUNK
        if following < len(self._body):
            pieces.append(
                _TableRows(
                    self._header,
                    self._body,
                    self._widths,
                    self._split_rows,
                    self._mono_columns,
                    following,
                    self._make_row,
                )
            )
        return pieces

    def draw(self) -> None:  # never drawn itself: only the tables it splits into
        raise AssertionError("_TableRows is always split")


def _tables(
    rows: list[Any],
    widths: list[float],
    split_rows: bool = True,
    mono_columns: tuple[int, ...] = (),
    make_row: Callable[[Any], list[Any]] | None = None,
) -> list[Flowable]:
    """A table of any length (first row: the header; with ``make_row``, the others are
    data it makes rows of), as :class:`_TableRows`."""
    return [_TableRows(rows[0], rows[1:], widths, split_rows, mono_columns, 0, make_row)]


def _table(
    rows: list[list[Any]],
    widths: list[float],
    header: bool = True,
    repeat: bool = True,
    split_rows: bool = True,
) -> Table:
    table = Table(
        rows,
        colWidths=widths,
        repeatRows=1 if header and repeat else 0,
        splitInRow=1 if split_rows else 0,
    )
    style: list[tuple[Any, ...]] = [  # ReportLab's table commands
        ("FONT", (0, 0), (-1, -1), parts.SANS, 7.5),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#cbd5e0")),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        style += [
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#edf2f7")),
            ("FONT", (0, 0), (-1, 0), parts.SANS_BOLD, 7.5),
        ]
    table.setStyle(TableStyle(style))
    return table


class ReportBuilder:
    def __init__(
        self,
        case: Case,
        options: ReportOptions,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ):
        if options.scope not in SCOPES:
            raise UsageError(f"report scope must be one of {', '.join(SCOPES)}")
        if options.scope == "selected" and not options.item_ids:
            raise UsageError("a report of selected items needs the item ids")
        states = options.review_states
        if states is not None:
            unknown = [state for state in states if state not in REVIEW_STATES]
            if unknown or not states:
                raise UsageError(
                    (
                        f"unknown review state {', '.join(map(repr, unknown))}"
                        if unknown
                        else "no review state given"
                    )
                    + f"; the review states are {', '.join(REVIEW_STATES)}"
                )
        moment = options.generated_at
        if moment.tzinfo is None or not EARLIEST_GENERATED <= moment < LATEST_GENERATED:
            raise UsageError(
                f"the report's generation time must be a time with a UTC offset from "
                f"{EARLIEST_GENERATED.year} to {LATEST_GENERATED.year - 1}, not {moment}"
            )
        self.case = case
        self.options = options
        self.cancel = cancel or CancelToken()
        self._throttle = Throttle(progress)
        self.findings: list[str] = []

    # -- public --------------------------------------------------------------------------

    def write(self, output: str | Path) -> ReportResult:
        """Check the output and the options, re-hash the evidence, render, write, log.

        Nothing is read or written before the output path and the item ids are known good.
        """
        output = check_output(self.case, output, "report")
        self._check_selection()
        integrity = verify_case(
            self.case, progress=self._integrity_progress, cancel=self.cancel, record=False
        )
        self._stop_if_cancelled()  # a report with its evidence only partly checked is no report
        data, pages, count = self.render(integrity)
        self._stop_if_cancelled()
        with checked_output(self.case, output, "report") as handle:
            handle.write(data)
        digest = hashlib.sha256(data).hexdigest()
        if self.case.read_only:  # nothing can be recorded; the CLI and GUI say so
            return ReportResult(output, digest, pages, count, integrity.ok)
        with self.case.write() as session:
            audit.append(
                session,
                "report.generated",
                {
                    "path": str(output),
                    "sha256": digest,
                    "pages": pages,
                    "items": count,
                    "options": self.options.record(),
                    "integrity": integrity.summary(),
                    "findings": self.findings,
                },
            )
        return ReportResult(output, digest, pages, count, integrity.ok, list(self.findings))

    def _stop_if_cancelled(self) -> None:
        if self.cancel.cancelled:
            raise Cancelled("report cancelled; no report was written")

    def _check_selection(self) -> None:
        if not self.options.item_ids:
            return
        wanted = set(self.options.item_ids)
        with self.case.read() as session:
            present = set(
                session.scalars(select(EvidenceItem.id).where(EvidenceItem.id.in_(wanted)))
            )
        missing = sorted(wanted - present)
        if missing:
            shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
            raise UsageError(
                f"no item {shown} in this case (item ids are in the export or the GUI list)"
                if len(missing) == 1
                else f"no items {shown} in this case (item ids are in the export or the GUI list)"
            )

    def render(self, integrity: IntegrityReport) -> tuple[bytes, int, int]:
        """The PDF's bytes, page count and item count; what could not be shown as stored
        is in ``self.findings`` afterwards."""
        parts.register_fonts()
        self.findings = []
        with self.case.read() as session:
            info = case_view(session)
            threshold = load_settings().similar_threshold
            groups = similar_groups(session, threshold)
            summary = self.options.scope == "summary"
            # a summary shows no item's metadata or heatmap: they are not read
            records = list(
                item_views(session, self._item_ids(session), groups, with_metadata=not summary)
            )
            hash_sets = list(session.scalars(select(HashSet).order_by(HashSet.name, HashSet.id)))
            visuals = {} if summary else current_heatmaps(session, [r.id for r in records])
            # streamed: the appendix keeps what it prints, not the entries
            audit_entries = session.scalars(
                select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=2000)
            )
            offset = self._offset(info)
            zone = fixed_zone(offset)
            # first: it finds what the front reports
            items = [] if summary else self._items(records, visuals, integrity)
            story = self._cover(info, records, integrity, zone, offset)
            story += self._summary(records)
            story += self._method(records)
            story += self._triage_method(hash_sets, threshold, len(set(groups.values())))
            story += self._limitations(records)
            story += self._integrity(integrity)
            story += items
            if self.options.audit_appendix:
                story += self._audit(audit_entries)
            header = " ".join(f"Case {info.number} — {info.title}".split())
            header = header if len(header) <= 110 else header[:109] + "…"  # one line
            generated_local = self.options.generated_at.astimezone(zone)
            footer = (
                f"Generated {generated_local.strftime('%Y-%m-%d %H:%M')} "
                f"{format_offset(offset)} by OpenSight Desktop "
                f"{__version__}"
            )
            notice = _page_notice(records)
            # the story holds what it prints: the item views can go before the layout, the
            # report's peak (100,000 items: ~150 MB)
            count = len(records)
            del records, visuals, groups
            buffer = io.BytesIO()
            document = SimpleDocTemplate(
                buffer,
                pagesize=A4,
                leftMargin=15 * mm,
                rightMargin=15 * mm,
                topMargin=(19 if notice else 16) * mm,  # room for the notice
                bottomMargin=14 * mm,
                title=f"Case {info.number}: {info.title} — image analysis report",
                author=info.examiner,
                subject=f"Forensic image analysis report, case {info.number}",
                creator=f"OpenSight Desktop {__version__}",
                keywords=["forensic report", "AI-generated image detection", "evidence integrity"],
            )
            page_count: list[int] = []
            document.build(
                story,
                canvasmaker=parts.numbered_canvas(
                    header, footer, self.options.generated_at, page_count, notice
                ),
            )
        return buffer.getvalue(), page_count[-1], count

    # -- data ----------------------------------------------------------------------------

    def _item_ids(self, session: Any) -> list[int] | None:
        """The ids of the items in the report, in order; None: every item."""
        options = self.options
        query = select(EvidenceItem.id).order_by(EvidenceItem.id)
        if options.scope == "flagged":  # hash-set hits are flags too
            query = query.where(
                EvidenceItem.id.in_(select(ItemFlag.item_id).union(select(HashSetHit.item_id)))
            )
        elif options.scope == "reviewed":
            query = query.where(EvidenceItem.review_state != ReviewState.NOT_REVIEWED)
        if options.review_states:
            query = query.where(EvidenceItem.review_state.in_(options.review_states))
        chosen = set(options.item_ids or [])
        if chosen and len(chosen) <= SELECTION_IN_QUERY:
            query = query.where(EvidenceItem.id.in_(chosen))
        if query.whereclause is None and not chosen:
            return None  # all: streamed, never listed
        return [i for i in session.scalars(query) if not chosen or i in chosen]

    def _offset(self, info: CaseView) -> int:
        """The case's UTC offset for the times shown; UTC if the case holds none usable."""
        offset = info.tz_offset_minutes
        if isinstance(offset, int) and abs(offset) < 24 * 60:
            return offset
        self.findings.append(
            f"The case's time zone offset ({offset!r} minutes) is not a usable offset; "
            "times are shown in UTC."
        )
        return 0

    def _thumbnail(self, item_id: int) -> bytes | None:
        """Loaded per item when its page is laid out: bounded memory."""
        with self.case.read() as session:
            return thumbnail_jpeg(session, item_id)

    def _integrity_progress(self, progress: Progress) -> None:
        self._throttle(
            lambda elapsed: Progress(
                "report", progress.done, progress.total, elapsed, message="re-hashing evidence"
            )
        )

    # -- sections ------------------------------------------------------------------------

    def _cover(
        self,
        info: CaseView,
        records: list[ItemView],
        integrity: IntegrityReport,
        zone: tzinfo,
        offset: int,
    ) -> list[Flowable]:
        generated = self.options.generated_at.astimezone(zone)
        long_text: list[Any] = []
        rows: list[list[Any]] = [
            ["Case number", _cell(info.number, "body")],
            ["Title", _cell(info.title, "body")],
            ["Examiner", _cell(info.examiner, "body")],
            ["Agency", _cell(info.agency or "—", "body")],
            _text_row("Description", info.description or "—", long_text, "body"),
            [
                "Case created",
                _p(
                    f"{info.created_utc.astimezone(zone).strftime('%Y-%m-%d %H:%M')}"
                    f" {format_offset(offset)} ({_e(info.tz_name)})"
                ),
            ],
            [
                "Report generated",
                _p(
                    f"{generated.strftime('%Y-%m-%d %H:%M:%S')} "
                    f"{format_offset(offset)} "
                    f"({iso_utc(self.options.generated_at)})"
                ),
            ],
            ["Application", _p(f"OpenSight Desktop {__version__}")],
            [
                "Contents",
                _p(
                    _e(self._contents_text(len(records)))
                    + "; audit log appendix "
                    + ("included" if self.options.audit_appendix else "not included")
                ),
            ],
            ["Detector weights", self._weights_cell(records)],
            ["Case identifier", _cell(info.uuid, "mono")],
        ]
        story: list[Flowable] = [
            Spacer(1, 18 * mm),
            _p("Forensic image analysis report", "title"),
            _table(rows, [40 * mm, 135 * mm], header=False),
            *long_text,
            Spacer(1, 8 * mm),
        ]
        story.append(
            _p(
                "Integrity at report time: "
                + (
                    "all evidence files re-hashed and unchanged; audit log chain intact and "
                    "signed; the case records match the audit log"
                    + (
                        " (some values, written by an earlier version, are not vouched for)."
                        if integrity.unvouched
                        else "."
                    )
                    if integrity.ok
                    else "PROBLEMS FOUND — see the Integrity section. What depends on a "
                    "changed or missing file, or on a record that differs from the audit "
                    "log, must not be relied on."
                ),
                "ok" if integrity.ok else "alert",
            )
        )
        unpublished = _unpublished_scores(records)
        if unpublished:
            story.append(Spacer(1, 3 * mm))
            story.append(
                _p(
                    "DETECTOR WEIGHTS: "
                    + _e(present.unpublished_scores_text(unpublished, _scored(records))),
                    "alert",
                )
            )
        if self.findings:
            story.append(Spacer(1, 3 * mm))
            story.append(
                _p(
                    f"{len(self.findings)} finding(s) while making this report: something "
                    "stored in the case could not be shown as it is. See the Integrity "
                    "section.",
                    "alert",
                )
            )
        story.append(Spacer(1, 6 * mm))
        story.append(
            _p(
                "The SHA-256 of this PDF file is recorded in the case's audit log when the "
                "report is generated: the command “opensight-desktop verify-report CASE "
                "REPORT.pdf” checks a copy of this file against that record, in this case file "
                "or any later copy of it. Regenerating the report gives the same bytes only "
                "from the case as it was when the report was made (before the report's own "
                "audit entry), with the same options and generation time."
                if not self.case.read_only
                else "The case was open read-only when this report was generated ("
                + _e(self.case.read_only_reason or "")
                + "), so the SHA-256 of this PDF file is not recorded in its audit log. "
                "Regenerating it from a copy of the case file in the same state, with the same "
                "options and generation time, gives the same bytes.",
                "small",
            )
        )
        story.append(PageBreak())
        return story

    def _contents_text(self, count: int) -> str:
        """Which items the report covers and how they were chosen."""
        options = self.options
        text = {
            "all": "all items",
            "flagged": "the items with metadata flags",
            "reviewed": "the items the examiner has reviewed (a review state other than "
            f"{present.review_label(ReviewState.NOT_REVIEWED)})",
            "summary": "summary only: every item in the summary table, no item pages",
            "selected": "the selected items",
        }[options.scope]
        if options.review_states:
            states = ", ".join(present.review_label(state) for state in options.review_states)
            text += f", in the review state(s) {states}"
        if options.item_ids and options.scope != "selected":
            text += f", among {len(set(options.item_ids))} chosen item(s)"
        return f"{text} ({count} item(s))"

    def _weights_cell(self, records: list[ItemView]) -> list[Any]:
        """Each model that scored items here, and whether its weights are a published
        release (the published accuracy figures apply only then)."""
        used = _models_used(records)
        if not used:
            return [_p("No item in this report has a detector score.", "cell")]
        return [
            _p(
                f"{_e(model.name or present.UNKNOWN)} "
                f"(SHA-256 {_e((model.sha256 or present.UNKNOWN)[:16])}…, {count} item(s)): "
                + _e(present.weights_sentence(model.sha256)),
                "warn" if present.is_unpublished(model.sha256) else "cell",
            )
            for model, count in used
        ]

    def _summary(self, records: list[ItemView]) -> list[Any]:
        outcomes = Counter(present.outcome(r) for r in records)
        flags = Counter(flag.code for r in records for flag in r.flags)
        story: list[Flowable] = [_p("Summary", "h1")]
        rows: list[list[str | Paragraph]] = [["Outcome", "Items"]]
        for key in present.OUTCOMES:
            rows.append([present.OUTCOME_LABELS[key], str(outcomes.get(key, 0))])
        rows.append(["Total", str(len(records))])
        flag_rows = [["Metadata flag", "Items"]] + [
            [_cell(present.flag_title(code)), str(count)] for code, count in flags.most_common()
        ]
        if len(flag_rows) == 1:
            flag_rows.append(["(none)", "0"])
        outcome_table = _table(rows, [45 * mm, 20 * mm], repeat=False)
        flag_table = _table(flag_rows, [60 * mm, 20 * mm], repeat=False)
        if len(flag_rows) <= 12 and all(len(code) <= 200 for code in flags):
            # Side by side: a table inside a table cannot split, so only when it is short.
            story.append(
                Table(
                    [[outcome_table, flag_table]],
                    colWidths=[80 * mm, 95 * mm],
                    style=[("VALIGN", (0, 0), (-1, -1), "TOP")],
                )
            )
        else:
            story += [outcome_table, Spacer(1, 4 * mm), flag_table]
        errors = [r for r in records if r.status == ItemStatus.ERROR]
        if errors:
            story.append(_p("Items with errors", "h2"))
            story += _tables(
                [["Item", "File", "Reason"]]
                + [[str(r.id), _cell(r.file_name), _cell(r.error)] for r in errors],
                [14 * mm, 55 * mm, 111 * mm],
            )
        story.append(_p("All items", "h2"))
        rows = [["Item", "File", "SHA-256 (first 16)", "P(gen.)", "Verdict", "Flags"]]
        widths = [12 * mm, 50 * mm, 30 * mm, 14 * mm, 24 * mm, 50 * mm]
        for r in records:
            probability = r.detection.probability if r.detection else None
            rows.append(
                [
                    str(r.id),
                    _short_cell(r.file_name, widths[1]),
                    _short_cell((r.sha256 or "unreadable")[:16], widths[2], parts.MONO),
                    present.probability_text(probability) if r.detection else "",
                    _short_cell(present.outcome_label(r), widths[4]),
                    _short_cell(
                        ", ".join(present.flag_title(flag.code) for flag in r.flags), widths[5]
                    ),
                ]
            )
        story += _tables(rows, widths, mono_columns=(2,))
        story.append(PageBreak())
        return story

    def _method(self, records: list[ItemView]) -> list[Flowable]:
        story: list[Flowable] = [
            _p("Method", "h1"),
            _p(
                "Each image was scored by a detector of the Community Forensics design, a "
                "ViT-S/16 vision transformer at 384x384 input (timm vit_small_patch16_384) with "
                "a single-logit head; the score is the sigmoid of that logit. Reference: "
                f"{_e(PAPER)}. Which weights were used, and whether they are a release the "
                "authors published (the published accuracy figures apply only to those), is "
                "stated for each model below. Originals were read-only throughout; each file "
                "was re-hashed (SHA-256) when it was read for analysis and would have been "
                "refused had it changed since import."
            ),
        ]
        used: Counter[ModelView] = Counter()
        settings: Counter[tuple[str, ...]] = Counter()
        for r in records:
            detection = r.detection
            if detection:
                used[detection.model] += 1
                key = (
                    detection.model.sha256 or "?",
                    detection.device,
                    detection.precision,
                    present.bands_text(detection.thresholds),
                    _preprocessing_text(_as_dict(detection.preprocessing)),
                    _versions_text(_as_dict(detection.versions)),
                )
                settings[key] += 1
        if not used:
            story.append(_p("No item in this report has a detector result.", "body"))
        for model, count in used.most_common():
            story.append(_p(f"Model used for {count} item(s)", "h2"))
            known = model.sha256 is not None  # else a crafted case names a model it lacks
            rows = [
                ["Name", _cell(model.name or "?")],
                ["Weights SHA-256", _cell(model.sha256 or "?", "mono")],
                [
                    "Format and source",
                    _p(_e(f"{model.format}; {model.source}") if known else "?", "cell"),
                ],
            ]
            rows.append(
                [
                    "Published release",
                    _p(
                        _e(present.weights_sentence(model.sha256)),
                        "warn" if present.is_unpublished(model.sha256) else "cell",
                    ),
                ]
            )
            story.append(_table(rows, [40 * mm, 140 * mm], header=False))
        for (sha, device, precision, bands, prep, versions), count in settings.items():
            story.append(_p(f"Settings used for {count} item(s)", "h2"))
            story.append(
                _table(
                    [
                        ["Weights", _p(_e(sha[:16]) + "…", "mono")],
                        ["Device, precision", _cell(f"{device}, {precision}")],
                        ["Verdict bands", _p(_e(bands), "cell")],
                        ["Preprocessing", _cell(prep)],
                        ["Software", _cell(versions)],
                        [
                            "Heatmap",
                            _p(
                                "Grad-CAM on the 24x24 patch tokens entering the last "
                                "transformer block: regions that most influenced the score.",
                                "cell",
                            ),
                        ],
                    ],
                    [40 * mm, 140 * mm],
                    header=False,
                )
            )
        return story

    def _triage_method(self, hash_sets: list[HashSet], threshold: int, stacks: int) -> list[Any]:
        """Hash sets the case was matched against, and how near-duplicates are stacked."""
        story: list[Any] = [_p("Hash sets", "h2")]
        if not hash_sets:
            story.append(_p("The case was not matched against any hash set."))
        else:
            story.append(
                _p(
                    "Each item's MD5, SHA-1 and SHA-256 were looked up in these sets (at import, "
                    "and again when the case was re-matched). A known-file hit means the set "
                    "lists the file as known (usually ignorable); an alert hit means the file "
                    "is in a set of files that matter. A hit says the content is identical to "
                    "a listed file, nothing about how it came to be on the device."
                )
            )
            story.append(
                _table(
                    [["Set", "Kind", "Format", "Entries", "Imported", "Source SHA-256"]]
                    + [
                        [
                            _cell(row.name),
                            _cell(row.kind),
                            _cell(row.format),
                            _cell(f"{row.entries:,}" if isinstance(row.entries, int) else "?"),
                            _cell(str(row.imported_utc)[:10]),
                            _cell(row.source_sha256, "mono"),
                        ]
                        for row in hash_sets
                    ],
                    [32 * mm, 14 * mm, 14 * mm, 20 * mm, 20 * mm, 80 * mm],
                )
            )
        story.append(_p("Near-duplicate stacks", "h2"))
        story.append(
            _p(
                "Each image's 64-bit perceptual hash (DCT pHash of its pixels as stored) was "
                f"compared with every other's; images within {threshold} bits of each other "
                "(directly or through others) form a stack, named by its lowest item id "
                f"({stacks} stacks in the case). Resized, recompressed and re-encoded copies "
                "and bursts fall within it; it does not prove that one image was made from "
                "another, and rotated or heavily cropped copies are not found."
            )
        )
        return story

    def _limitations(self, records: list[ItemView]) -> list[Any]:
        story: list[Any] = [_p("Limitations", "h1")]
        unpublished = _unpublished_scores(records)
        for text in LIMITATIONS:
            story.append(_p("• " + _e(text)))
            if text is PUBLISHED_FIGURES and unpublished:
                story.append(
                    _p(
                        _e(present.unpublished_scores_text(unpublished, _scored(records)))
                        + " How accurate those weights are is not known from this report "
                        "(see Method).",
                        "warn",
                    )
                )
        return story

    def _integrity(self, integrity: IntegrityReport) -> list[Flowable]:
        story: list[Flowable] = [CondPageBreak(60 * mm), _p("Integrity at report time", "h1")]
        story.append(
            _p(
                ("VERIFIED: " if integrity.ok else "PROBLEMS FOUND: ")
                + (
                    "every evidence file re-hashed and unchanged, audit chain intact and "
                    "signed, records match the audit log."
                    if integrity.ok
                    else "the lines below say what failed."
                ),
                "ok" if integrity.ok else "alert",
            )
        )
        story.append(Spacer(1, 3 * mm))
        # Nothing about the machine generating it: anyone with the case can regenerate it.
        lines = describe(integrity, mark_local_key=False, list_files=False)
        story += [_cell(line, "mono") for line in lines]
        if integrity.file_problems:
            # a table of plain-text cells: an unplugged evidence drive makes every item a
            # row (100,000 Paragraphs were the report's peak memory)
            story.append(_p("Evidence files that changed or could not be read", "h2"))
            widths = [12 * mm, 20 * mm, 78 * mm, 70 * mm]
            story += _tables(
                [["Item", "Problem", "File", "Detail"]]
                + [
                    [
                        str(problem.item_id),
                        problem.kind.upper(),
                        _short_cell(problem.path, widths[2]),
                        _short_cell(problem.detail, widths[3]),
                    ]
                    for problem in integrity.file_problems
                ],
                widths,
            )
        story.append(Spacer(1, 3 * mm))
        story.append(
            _p(
                "A signature shows that the audit log, up to the signed entry, is exactly as the "
                "holder of that key left it. It does not show who holds the key: confirm that "
                "each fingerprint above is the examiner's (opensight-desktop key shows one's "
                "own).",
                "small",
            )
        )
        story.append(_p("Findings while making this report", "h2"))
        if self.findings:
            story.append(
                _p(
                    "What the case holds for these items could not be shown as stored. The "
                    "evidence files themselves are covered by the check above.",
                    "small",
                )
            )
            story += [_cell("• " + finding, "body") for finding in self.findings]
        else:
            story.append(_p("None: every stored picture and score could be shown.", "body"))
        story.append(PageBreak())
        return story

    def _items(
        self,
        records: list[ItemView],
        visuals: dict[int, HeatmapView],
        integrity: IntegrityReport,
    ) -> list[Any]:
        story: list[Any] = [_p("Items", "h1")]
        problems: dict[int, list[FileProblem]] = {}
        for problem in integrity.file_problems:
            problems.setdefault(problem.item_id, []).append(problem)
        total = len(records)
        for number, record in enumerate(records, start=1):
            self._stop_if_cancelled()
            below: list[Any] = []
            block = self._item(record, visuals.get(record.id), below, problems.get(record.id, []))
            story.append(KeepTogether(block))
            story += [*below, Spacer(1, 5 * mm)]
            self._throttle(
                functools.partial(Progress, "report", number, total, message="laying out items")
            )
        return story

    def _pictures(
        self, record: ItemView, visual: HeatmapView | None
    ) -> tuple[list[Flowable], bool]:
        """The item's picture and heatmap figure, or a placeholder saying why not (also a
        finding); True when both figures are drawn."""
        item_id = record.id
        thumbnail = self._thumbnail(item_id)
        if not thumbnail:
            return [], False
        problem = parts.jpeg_problem(thumbnail)
        if problem:
            self.findings.append(
                f"Item {item_id}: the stored thumbnail is unusable ({problem}); a placeholder "
                "is shown instead of the picture and the heatmap figure."
            )
            return [
                _placeholder(f"Picture not shown: the stored thumbnail is unusable ({problem}).")
            ], False
        pictures: list[Flowable] = [_picture(thumbnail)]
        if visual is None or not visual.geometry:
            return pictures, False
        try:
            figure = parts.overlay_picture(
                thumbnail, visual.grid, dict(visual.geometry), record.metadata.orientation
            )
        except Exception as exc:  # one figure that cannot be drawn must not stop the report
            log.exception("heatmap figure of item %s", item_id)
            self.findings.append(
                f"Item {item_id}: the heatmap figure could not be drawn ({type(exc).__name__}); "
                "details are in the application log."
            )
            return [
                *pictures,
                _placeholder("Heatmap figure not drawn; see the Integrity section."),
            ], False
        return [*pictures, _picture(figure)], True

    def _item(
        self,
        record: ItemView,
        visual: HeatmapView | None,
        below: list[Any],
        file_problems: list[FileProblem],
    ) -> list[Any]:
        """The item's heading, a red line for each of its files that changed or vanished,
        pictures and tables; long free text goes to ``below``."""
        meta = record.metadata
        detection = record.detection
        story: list[Any] = [_p(f"Item {record.id}: {_e(_clip(record.file_name or '', 300))}", "h2")]
        for problem in file_problems:
            story += [
                Spacer(1, 1.5 * mm),
                _p(_e(_file_problem_text(problem)), "alert_line"),
                Spacer(1, 3 * mm),
            ]
        pictures, heatmap_drawn = self._pictures(record, visual)
        left: list[Flowable] = []
        if detection:
            probability = detection.probability
            if probability is None:
                self.findings.append(
                    f"Item {record.id}: the stored detector score is not a finite number; "
                    "no score is shown."
                )
            left.append(
                _p(
                    f"<b>{_e(present.score_text(probability))}</b> — "
                    f"{_e(_clip(present.verdict_label(detection.verdict), 200))} "
                    "(an indication, not proof)"
                )
            )
            bands = Bands.from_record(detection.thresholds, DEFAULT_BANDS)
            bar = present.score_bar(probability, bands, detection.verdict)
            left.append(parts.score_bar(bar, width=58 * mm))
            note = present.scoring_note(detection)
            if note:  # a small image enlarged to the model's input
                left.append(_p(_e(note), "small"))
            if present.is_unpublished(detection.model.sha256):
                left.append(_p(_e(present.weights_sentence(detection.model.sha256)), "warn"))
                left.append(Spacer(1, 2 * mm))
        else:
            left.append(_p(_e(_clip(present.no_score_text(record), 600))))
        # One row: the picture(s) and, beside them, the score; the facts table below.
        if heatmap_drawn:
            left.append(
                _p(
                    "Left: the image. Right: the square the detector examined "
                    "(outlined; hatched parts not examined) and the regions that most "
                    "influenced its score.",
                    "small",
                )
            )
        row = [*pictures, left] if pictures else [left]
        widths = [57 * mm] * len(pictures) + [180 * mm - 57 * mm * len(pictures)]
        story.append(
            Table(
                [row],
                colWidths=widths,
                hAlign="LEFT",
                style=[("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)],
            )
        )
        facts: list[list[str | Flowable]] = [
            ["Path", _cell(record.path)],
            *(
                [_text_row("Also found at", "\n".join(record.duplicate_paths), below)]
                if record.duplicate_paths
                else []
            ),
            [
                "Format",
                _cell(f"{present.format_text(record)}; {present.size_text(record.size_bytes)}"),
            ],
            ["Camera", _cell(present.camera_text(meta))],
            ["Taken", _cell(present.taken_text(meta))],
            ["Software", _cell(present.software_text(meta))],
            ["GPS", _cell(present.gps_text(meta) or present.NOTHING)],
            ["MD5", _cell(record.md5 or present.NOTHING, "mono")],
            ["SHA-1", _cell(record.sha1 or present.NOTHING, "mono")],
            ["SHA-256", _cell(record.sha256 or present.NOTHING, "mono")],
        ]
        if detection:
            facts.append(["Model", _cell(present.provenance_text(detection))])
        facts.append([present.EXAMINER_REVIEW, _cell(present.examiner_review_text(record.review))])
        if record.hashset_hits:
            facts.append(
                [
                    "Hash sets",
                    _cell("; ".join(present.hit_text(hit) for hit in record.hashset_hits)),
                ]
            )
        if record.similar_group is not None:
            facts.append(["Stack", _cell(f"near-duplicate stack {record.similar_group}")])
        if record.review.notes:
            facts.append(_text_row("Examiner notes", record.review.notes, below))
        story.append(_table(facts, [30 * mm, 150 * mm], header=False))
        if record.flags:
            story.append(
                _table(
                    [["Flag", "Explanation"]]
                    + [
                        [_cell(present.flag_title(flag.code)), _cell(flag.explanation)]
                        for flag in record.flags
                    ],
                    [35 * mm, 145 * mm],
                    repeat=False,
                )
            )
        return story

    def _audit(self, entries: Iterable[AuditEntry]) -> list[Any]:
        """Every entry in full: who, when, what, on which item, and all its details (long
        details flow below the table, in order). In a summary, the entries that record one
        item each are counted in runs (a 100,000-item import writes 100,000 of them)."""
        summary = self.options.scope == "summary"
        story: list[Any] = [
            PageBreakIfNotEmpty(),  # the section before it may have ended its page
            _p("Appendix: audit log", "h1"),
            _p(
                "Every change to the case, in order"
                + (
                    ". In this summary, consecutive entries that each record one item (added, "
                    "analysed, …) are counted in one row per run; a report of scope “all” and "
                    "the case file hold each of them in full, and the chain check in the "
                    "Integrity section covers every one. Each other entry is complete. "
                    if summary
                    else ", each entry complete. "
                )
                + "Each entry carries the SHA-256 of its content and of the previous entry (the "
                "chain checked in the Integrity section). “By” names the examiner the entry "
                "records, then the computer account that wrote it; times are UTC as recorded.",
                "small",
            ),
        ]
        table: list[Any] = [["#", "Entry"]]
        run: _AuditRun | None = None
        for entry in entries:
            if summary and entry.action in audit.PER_ITEM_ACTIONS:
                if run is not None and run.action == entry.action:
                    run.add(entry)
                    continue
                if run is not None:
                    table.append(run)
                run = _AuditRun(entry)
                continue
            if run is not None:
                table.append(run)
                run = None
            heading = _audit_heading(entry)
            text = _details_text(entry.details)
            if _fits_cell(text):
                table.append((entry.seq, heading, text))
                continue
            if len(table) > 1:
                story += _audit_tables(table)
                table = [["#", "Entry"]]
            story.append(_p(f"<b>#{entry.seq}</b> {heading}", "cell"))
            story += _flowing(text[:AUDIT_TEXT_LIMIT], "mono")
            if len(text) > AUDIT_TEXT_LIMIT:
                story.append(
                    _p(
                        f"[The details continue for {len(text) - AUDIT_TEXT_LIMIT:,} more "
                        "characters, not printed in this report; the case file holds all of "
                        "them.]",
                        "small",
                    )
                )
            story.append(Spacer(1, 2 * mm))
        if run is not None:
            table.append(run)
        if len(table) > 1:
            story += _audit_tables(table)
        return story


class _AuditRun:
    """Consecutive entries of one per-item action, counted for a summary's appendix."""

    WHO_SHOWN = 3

    def __init__(self, entry: AuditEntry) -> None:
        self.action = str(entry.action)
        self.first = self.last = entry.seq
        self.count = 0
        self.first_time = self.last_time = str(entry.ts_utc)
        self.items: list[int] = []  # lowest and highest item number
        self.who: dict[str, None] = {}  # in order of appearance
        self.add(entry)

    def add(self, entry: AuditEntry) -> None:
        self.count += 1
        self.last, self.last_time = entry.seq, str(entry.ts_utc)
        item = entry.item_id
        if isinstance(item, int):  # a crafted case can hold anything in the column
            low, high = self.items or [item, item]
            self.items = [min(low, item), max(high, item)]
        if len(self.who) <= self.WHO_SHOWN:  # one more than shown: "and others"
            self.who.setdefault(_audit_who(entry), None)

    def row(self) -> list[Any]:
        who = list(self.who)
        shown = ", ".join(who[: self.WHO_SHOWN])
        shown += " and others" if len(who) > self.WHO_SHOWN else ""
        items = ""
        if self.items:
            low, high = self.items
            items = f" · item {low}" if low == high else f" · items {low}–{high}"
        times = self.first_time if self.count == 1 else f"{self.first_time} – {self.last_time}"
        heading = (
            f"<b>{_e(_clip(self.action, 300))}</b> × {self.count:,} · "
            f"{_e(_clip(times.replace('T', ' '), 200))}{items} · by {_e(_clip(shown, 900))}"
        )
        number = str(self.first) if self.count == 1 else f"{self.first}–\n{self.last}"
        return [
            number,
            [
                _p(heading, "cell"),
                _p(
                    "One entry per item, counted here; each is in full in a report of scope "
                    "“all” and in the case file.",
                    "small",
                ),
            ],
        ]


def _audit_row(data: Any) -> list[Any]:
    """A row of the audit table from what ``_audit`` collected."""
    if isinstance(data, _AuditRun):
        return data.row()
    seq, heading, text = data
    return [str(seq), [_p(heading, "cell"), _cell(text, "mono")]]


def _audit_tables(rows: list[Any]) -> list[Flowable]:
    # Whole rows only (each is at most a cell's worth of text): an entry is never cut from
    # its number and heading. The number column holds six digits.
    return _tables(rows, [15 * mm, 165 * mm], split_rows=False, make_row=_audit_row)


def _audit_who(entry: AuditEntry, details: dict[str, Any] | None = None) -> str:
    """The examiner the entry records, then the account that wrote it (``details``: the
    entry's, parsed already)."""
    if details is None:
        details = audit.parse_details(entry.details) or {}
    examiner = details.get(audit.EXAMINER_KEY)
    return present.actor_text(
        examiner if isinstance(examiner, str) and examiner else None,
        f"{entry.user}@{entry.host}",
    )


# An entry the application writes holds at most two notes texts (old and new, 100,000
# characters each: case/review.py); more can only come from a crafted case.
AUDIT_TEXT_LIMIT = 500_000


def _audit_heading(entry: AuditEntry) -> str:
    """Markup: the action, time, item (number and file name) and who."""
    details = audit.parse_details(entry.details) or {}
    name = details.get(audit.FILE_NAME_KEY)
    who = _audit_who(entry, details)
    item = ""
    if entry.item_id is not None:
        item = f" · item {entry.item_id}" + (
            f" ({_e(_clip(name, 300))})" if isinstance(name, str) else ""
        )
    return (
        f"<b>{_e(_clip(str(entry.action), 300))}</b> · "
        f"{_e(_clip(str(entry.ts_utc), 100).replace('T', ' '))}{item} · "
        f"by {_e(_clip(who, 600))}"
    )


def _details_text(stored: str) -> str:
    """An entry's details, one ``key: value`` line per field (text as it is, other values
    as JSON; hidden characters, line breaks included, as ⟨U+XXXX⟩); details that are not
    JSON as stored. The examiner and file name are in the heading."""
    parsed = audit.parse_details(stored)
    if parsed is None:
        return visible(str(stored))
    lines = [
        f"{visible(str(key))}: "
        + visible(value if isinstance(value, str) else audit.canonical_json(value))
        for key, value in parsed.items()
        if key not in (audit.EXAMINER_KEY, audit.FILE_NAME_KEY)
    ]
    return "\n".join(lines) or "(no details)"


def _models_used(records: list[ItemView]) -> list[tuple[ModelView, int]]:
    """The models that scored the report's items, with how many, most first."""
    return Counter(r.detection.model for r in records if r.detection).most_common()


def _unpublished_scores(records: list[ItemView]) -> int:
    """How many scores come from weights that are no published release."""
    return sum(n for m, n in _models_used(records) if present.is_unpublished(m.sha256))


def _scored(records: list[ItemView]) -> int:
    return sum(1 for r in records if r.detection)


def _page_notice(records: list[ItemView]) -> str | None:
    """The line on every page when some scores come from weights that are no published
    release (any page may show a score: the summary table, the items)."""
    unpublished = _unpublished_scores(records)
    if not unpublished:
        return None
    return present.unpublished_scores_notice(every=unpublished == _scored(records))


def _file_problem_text(problem: FileProblem) -> str:
    what = {
        "changed": "has CHANGED since it was imported",
        "missing": "is MISSING",
        "unreadable": "could NOT BE READ to check it",
    }.get(problem.kind, problem.kind.upper())
    return (
        f"INTEGRITY: the evidence file {_clip(problem.path, 1000)} {what} "
        f"({_clip(problem.detail, 1000)}). What this page shows depends on that file and "
        "must not be relied on; see the Integrity section."
    )


def _picture(jpeg_bytes: bytes) -> parts.JpegFlowable:
    return parts.JpegFlowable(jpeg_bytes, 55 * mm, 41 * mm)


def _placeholder(text: str) -> Table:
    return parts.placeholder(_e(text), 55 * mm, 41 * mm)


def _as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _preprocessing_text(prep: dict[str, Any]) -> str:
    resize = (
        f"shorter side to {prep.get('resize_shorter')} px"
        if prep.get("resize_shorter")
        else f"resize to {prep.get('resize_to')}"
    )
    crop = prep.get("crop")
    return (
        f"{resize} ({prep.get('interpolation')}), centre crop "
        f"{crop[0]}x{crop[1]} ({prep.get('crop_rounding')} offset), "
        if crop
        else f"{resize} ({prep.get('interpolation')}), no crop, "
    ) + (
        f"mean {prep.get('mean')}, std {prep.get('std')}; no EXIF rotation; "
        f"source: {prep.get('source')}"
    )


def _versions_text(versions: dict[str, Any]) -> str:
    keys = (
        "opensight-desktop",
        "torch",
        "timm",
        "torchvision",
        "pillow",
        "numpy",
        "python",
        "cuda",
    )
    return ", ".join(f"{k} {versions[k]}" for k in keys if k in versions) + (
        f"; {versions['device_description']}" if versions.get("device_description") else ""
    )
