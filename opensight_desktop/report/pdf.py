"""The PDF case report.

Deterministic: the same case state, options and generation time give the same bytes (no
random document id, the PDF dates set to the generation time, nothing read from the
clock), so anyone holding a copy of the case file as it was can regenerate the report and
compare hashes. The integrity check made for the report is not written to the case until
the report exists; then one audit entry records the report's SHA-256, time and options.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from sqlalchemy import select

from opensight_desktop import __version__, present
from opensight_desktop.case import audit
from opensight_desktop.case.integrity import IntegrityReport, describe, verify_case
from opensight_desktop.case.models import AuditEntry, EvidenceItem, HashSet, HashSetHit, ItemFlag
from opensight_desktop.case.output_guard import check_output, checked_output
from opensight_desktop.case.similar import similar_groups
from opensight_desktop.case.states import ItemStatus
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

SCOPES = ("all", "flagged", "selected")
# A PDF date has four-digit years, and the case's time zone is applied to the time.
EARLIEST_GENERATED = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_GENERATED = datetime(9999, 1, 1, tzinfo=UTC)
# Table rows split across pages, but each split lays the rest of the row out again: text
# that could be long (notes, description, duplicate paths) flows below the table instead,
# and any other cell is cut at a length no real value reaches (a path is under 4,096 bytes).
CELL_FIT_CHARS, CELL_FIT_LINES = 1500, 20
CELL_TEXT_LIMIT = 5000
FLOW_CHUNK_CHARS = 2000
# Free text is printed in full up to twice what the app accepts for notes (case/review.py);
# more can only come from a crafted case, and would be thousands of pages.
FLOW_TEXT_LIMIT = 200_000
PAPER = (
    'Jeongsoo Park and Andrew Owens, "Community Forensics: Using Thousands of '
    'Generators to Train Fake Image Detectors", CVPR 2025, arXiv:2411.04125'
)
LIMITATIONS = [
    "A detector score is a statistical indication, not proof. It estimates how likely the "
    "pixels are to come from an AI image generator and must be weighed with the other "
    "evidence (provenance, metadata, witness accounts, the device it came from).",
    "The Community Forensics authors report an average precision of 0.984 on their own test "
    "set (GAN 0.995, latent diffusion 0.996, pixel diffusion 0.947, commercial 0.985, "
    "other 0.998). On newer commercial generators that postdate its training, accuracy is "
    "much lower: an independent 2026 benchmark measured about 75% mean accuracy for the "
    "best detector (this one). Both false positives and false negatives occur.",
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
    scope: str = "all"  # all | flagged | selected
    item_ids: list[int] | None = None
    audit_appendix: bool = True
    generated_at: datetime = field(default_factory=utc_now)

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


def _e(value: Any, keep: str = "") -> str:
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


def _cell(value: Any, style: str = "cell") -> Paragraph:
    """Stored text for a table cell: escaped, line breaks kept, cut if absurdly long."""
    text = _e(_clip("" if value is None else str(value)), keep="\n")
    return _p(text.replace("\n", "<br/>"), style)


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


def _text_row(label: str, text: str, below: list[Any], style: str = "cell") -> list[Any]:
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


def _table(
    rows: list[list[Any]], widths: list[float], header: bool = True, repeat: bool = True
) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header and repeat else 0, splitInRow=1)
    style = [
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
        if self.options.scope != "selected":
            return
        wanted = set(self.options.item_ids or [])
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
            records = list(item_views(session, self._item_ids(session), groups))
            hash_sets = list(session.scalars(select(HashSet).order_by(HashSet.name, HashSet.id)))
            visuals = current_heatmaps(session, [r.id for r in records])
            audit_rows = (
                list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
                if self.options.audit_appendix
                else []
            )
            offset = self._offset(info)
            zone = fixed_zone(offset)
            items = self._items(records, visuals)  # first: it finds what the front reports
            story = self._cover(info, records, integrity, zone, offset)
            story += self._summary(records)
            story += self._method(records)
            story += self._triage_method(hash_sets, threshold, len(set(groups.values())))
            story += self._limitations()
            story += self._integrity(integrity)
            story += items
            if audit_rows:
                story += self._audit(audit_rows)
            header = " ".join(f"Case {info.number} — {info.title}".split())
            header = header if len(header) <= 110 else header[:109] + "…"  # one line
            generated_local = self.options.generated_at.astimezone(zone)
            footer = (
                f"Generated {generated_local.strftime('%Y-%m-%d %H:%M')} "
                f"{format_offset(offset)} by OpenSight Desktop "
                f"{__version__}"
            )
            buffer = io.BytesIO()
            document = SimpleDocTemplate(
                buffer,
                pagesize=A4,
                leftMargin=15 * mm,
                rightMargin=15 * mm,
                topMargin=16 * mm,
                bottomMargin=14 * mm,
                title=f"Case {info.number}: {info.title} — image analysis report",
                author=info.examiner,
                subject=f"Forensic image analysis report, case {info.number}",
                creator=f"OpenSight Desktop {__version__}",
                keywords="forensic report, AI-generated image detection, evidence integrity",
            )
            page_count: list[int] = []
            document.build(
                story,
                canvasmaker=parts.numbered_canvas(
                    header, footer, self.options.generated_at, page_count
                ),
            )
        return buffer.getvalue(), page_count[-1], len(records)

    # -- data ----------------------------------------------------------------------------

    def _item_ids(self, session: Any) -> list[int] | None:
        if self.options.scope == "selected":
            return sorted(set(self.options.item_ids or []))
        if self.options.scope == "flagged":  # hash-set hits are flags too
            return sorted(
                set(session.scalars(select(ItemFlag.item_id)))
                | set(session.scalars(select(HashSetHit.item_id)))
            )
        return None

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
        zone: Any,
        offset: int,
    ) -> list[Any]:
        generated = self.options.generated_at.astimezone(zone)
        scope = {
            "all": "all items",
            "flagged": "items with metadata flags only",
            "selected": f"selected items ({len(records)})",
        }[self.options.scope]
        long_text: list[Any] = []
        rows = [
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
                    f"{scope}; audit log appendix "
                    f"{'included' if self.options.audit_appendix else 'not included'}"
                ),
            ],
            ["Case identifier", _cell(info.uuid, "mono")],
        ]
        story: list[Any] = [
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
                (
                    "The SHA-256 of this PDF file is recorded in the case's audit log when "
                    "the report is generated. "
                    if not self.case.read_only
                    else "The case was open read-only when this report was generated ("
                    + _e(self.case.read_only_reason or "")
                    + "), so the SHA-256 of this PDF file is not recorded in its audit log. "
                )
                + "Regenerating it from a copy of the case file "
                "in the same state, with the same options and generation time, gives "
                "the same bytes.",
                "small",
            )
        )
        story.append(PageBreak())
        return story

    def _summary(self, records: list[ItemView]) -> list[Any]:
        outcomes = Counter(present.outcome(r) for r in records)
        flags = Counter(flag.code for r in records for flag in r.flags)
        story: list[Any] = [_p("Summary", "h1")]
        rows = [["Outcome", "Items"]]
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
            story.append(
                _table(
                    [["Item", "File", "Reason"]]
                    + [[str(r.id), _cell(r.file_name), _cell(r.error)] for r in errors],
                    [14 * mm, 55 * mm, 111 * mm],
                )
            )
        story.append(_p("All items", "h2"))
        rows = [["Item", "File", "SHA-256 (first 16)", "P(gen.)", "Verdict", "Flags"]]
        for r in records:
            rows.append(
                [
                    str(r.id),
                    _cell(r.file_name),
                    _cell((r.sha256 or "unreadable")[:16], "mono"),
                    _cell(present.probability_text(r.detection.probability)) if r.detection else "",
                    _cell(present.outcome_label(r)),
                    _cell(", ".join(present.flag_title(flag.code) for flag in r.flags)),
                ]
            )
        story.append(_table(rows, [12 * mm, 50 * mm, 30 * mm, 14 * mm, 24 * mm, 50 * mm]))
        story.append(PageBreak())
        return story

    def _method(self, records: list[ItemView]) -> list[Any]:
        story: list[Any] = [
            _p("Method", "h1"),
            _p(
                "Each image was scored by the Community Forensics detector, a ViT-S/16 vision "
                "transformer at 384x384 input (timm vit_small_patch16_384) with a single-logit "
                f"head; the score is the sigmoid of that logit. Reference: {_e(PAPER)}. Originals "
                "were read-only throughout; each file was re-hashed (SHA-256) when it was read for "
                "analysis and would have been refused had it changed since import."
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
            if known:
                rows.append(
                    [
                        "Published hash",
                        _p(
                            _e(
                                model.published_match
                                or "not checked here (see the model store manifest)"
                            ),
                            "cell",
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

    def _limitations(self) -> list[Any]:
        story: list[Any] = [_p("Limitations", "h1")]
        story += [_p("• " + _e(text)) for text in LIMITATIONS]
        return story

    def _integrity(self, integrity: IntegrityReport) -> list[Any]:
        story: list[Any] = [CondPageBreak(60 * mm), _p("Integrity at report time", "h1")]
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
        story += [_cell(line, "mono") for line in describe(integrity, mark_local_key=False)]
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

    def _items(self, records: list[ItemView], visuals: dict[int, HeatmapView]) -> list[Any]:
        story: list[Any] = [_p("Items", "h1")]
        total = len(records)
        for number, record in enumerate(records, start=1):
            self._stop_if_cancelled()
            below: list[Any] = []
            story.append(KeepTogether(self._item(record, visuals.get(record.id), below)))
            story += [*below, Spacer(1, 5 * mm)]
            self._throttle(
                lambda elapsed, n=number: Progress(
                    "report", n, total, elapsed, message="laying out items"
                )
            )
        return story

    def _pictures(self, record: ItemView, visual: HeatmapView | None) -> tuple[list[Any], bool]:
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
        pictures: list[Any] = [_picture(thumbnail)]
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

    def _item(self, record: ItemView, visual: HeatmapView | None, below: list[Any]) -> list[Any]:
        """The item's heading, pictures and tables; long free text goes to ``below``."""
        meta = record.metadata
        detection = record.detection
        story: list[Any] = [_p(f"Item {record.id}: {_e(_clip(record.file_name or '', 300))}", "h2")]
        pictures, heatmap_drawn = self._pictures(record, visual)
        left: list[Any] = []
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
        facts = [
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
        facts.append(["Review", _cell(present.review_text(record.review))])
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

    def _audit(self, rows: list[AuditEntry]) -> list[Any]:
        story: list[Any] = [
            PageBreak(),
            _p("Appendix: audit log", "h1"),
            _p(
                "Every change to the case, in order. Each entry carries the SHA-256 of its "
                "content and of the previous entry (the chain checked in the Integrity section).",
                "small",
            ),
        ]
        table = [["#", "Time (UTC)", "User", "Action", "Item", "Details"]]
        for entry in rows:
            details = entry.details if len(entry.details) <= 400 else entry.details[:400] + "…"
            table.append(
                [
                    str(entry.seq),
                    entry.ts_utc[:19].replace("T", " "),
                    _cell(f"{entry.user}@{entry.host}"),
                    _cell(entry.action),
                    str(entry.item_id or ""),
                    _cell(details),
                ]
            )
        story.append(_table(table, [10 * mm, 27 * mm, 28 * mm, 33 * mm, 10 * mm, 72 * mm]))
        return story


def _picture(jpeg_bytes: bytes) -> parts.JpegFlowable:
    return parts.JpegFlowable(jpeg_bytes, 55 * mm, 41 * mm)


def _placeholder(text: str) -> Any:
    return parts.placeholder(_e(text), 55 * mm, 41 * mm)


def _as_dict(value: Any) -> dict[str, Any]:
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
