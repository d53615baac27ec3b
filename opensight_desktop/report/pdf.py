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
from datetime import datetime
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

from opensight_desktop import __version__
from opensight_desktop.case import audit
from opensight_desktop.case.integrity import IntegrityReport, describe, verify_case
from opensight_desktop.case.models import (
    REVIEW_STATES,
    AuditEntry,
    CaseInfo,
    DetectionResult,
    DetectorModel,
    ItemFlag,
    Thumbnail,
)
from opensight_desktop.case.queries import camera_name, current_result_ids
from opensight_desktop.case.store import Case
from opensight_desktop.detector.verdict import VERDICT_LABELS
from opensight_desktop.errors import UsageError
from opensight_desktop.fileio import atomic_output
from opensight_desktop.metadata.flags import FLAG_TITLES
from opensight_desktop.progress import CancelToken, Progress, ProgressCallback, Throttle
from opensight_desktop.report import pdf_parts as parts
from opensight_desktop.report.records import item_records
from opensight_desktop.timeutil import fixed_zone, format_offset, iso_utc, utc_now

log = logging.getLogger(__name__)

SCOPES = ("all", "flagged", "selected")
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


def _p(text: str, style: str = "body") -> Paragraph:
    return Paragraph(text, parts.styles()[style])


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _table(
    rows: list[list[Any]], widths: list[float], header: bool = True, repeat: bool = True
) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header and repeat else 0)
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
        self.case = case
        self.options = options
        self.cancel = cancel or CancelToken()
        self._throttle = Throttle(progress)

    # -- public --------------------------------------------------------------------------

    def write(self, output: str | Path) -> ReportResult:
        output = Path(output)
        if not output.parent.is_dir():
            raise UsageError(f"output folder does not exist: {output.parent}")
        integrity = verify_case(
            self.case, progress=self._integrity_progress, cancel=self.cancel, record=False
        )
        data, pages, count = self.render(integrity)
        with atomic_output(output, "wb") as handle:
            handle.write(data)
        digest = hashlib.sha256(data).hexdigest()
        with self.case.write() as session:
            audit.append(
                session,
                "report.generated",
                {
                    "path": str(output.absolute()),
                    "sha256": digest,
                    "pages": pages,
                    "items": count,
                    "options": self.options.record(),
                    "integrity": integrity.summary(),
                },
            )
        return ReportResult(output, digest, pages, count, integrity.ok)

    def render(self, integrity: IntegrityReport) -> tuple[bytes, int, int]:
        parts.register_fonts()
        with self.case.read() as session:
            info = session.get(CaseInfo, 1)
            assert info is not None
            ids = self._item_ids(session)
            records = list(item_records(session, ids))
            visuals = self._visuals(session, [r["id"] for r in records])
            models = {m.sha256: m for m in session.scalars(select(DetectorModel))}
            audit_rows = (
                list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
                if self.options.audit_appendix
                else []
            )
            zone = fixed_zone(info.tz_offset_minutes)
            story = self._cover(info, records, integrity, zone)
            story += self._summary(records)
            story += self._method(records, models)
            story += self._limitations()
            story += self._integrity(integrity)
            story += self._items(records, visuals)
            if audit_rows:
                story += self._audit(audit_rows)
            header = f"Case {info.number} — {info.title}"
            generated_local = self.options.generated_at.astimezone(zone)
            footer = (
                f"Generated {generated_local.strftime('%Y-%m-%d %H:%M')} "
                f"{format_offset(info.tz_offset_minutes)} by OpenSight Desktop "
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
        if self.options.scope == "flagged":
            return sorted(set(session.scalars(select(ItemFlag.item_id))))
        return None

    def _visuals(self, session: Any, ids: list[int]) -> dict[int, dict[str, Any]]:
        """Thumbnail and current heatmap of each item (loaded per item: bounded memory)."""
        out: dict[int, dict[str, Any]] = {item_id: {} for item_id in ids}
        for item_id, heatmap, geometry in session.execute(
            select(
                DetectionResult.item_id, DetectionResult.heatmap, DetectionResult.heatmap_geometry
            ).where(DetectionResult.id.in_(current_result_ids()))
        ):
            if item_id in out:
                out[item_id].update(heatmap=heatmap, geometry=geometry)
        return out

    def _thumbnail(self, item_id: int) -> bytes | None:
        with self.case.read() as session:
            return session.scalar(select(Thumbnail.jpeg).where(Thumbnail.item_id == item_id))

    def _integrity_progress(self, progress: Progress) -> None:
        self._throttle(
            lambda elapsed: Progress(
                "report", progress.done, progress.total, elapsed, message="re-hashing evidence"
            )
        )

    # -- sections ------------------------------------------------------------------------

    def _cover(
        self, info: CaseInfo, records: list[dict[str, Any]], integrity: IntegrityReport, zone: Any
    ) -> list[Any]:
        generated = self.options.generated_at.astimezone(zone)
        scope = {
            "all": "all items",
            "flagged": "items with metadata flags only",
            "selected": f"selected items ({len(records)})",
        }[self.options.scope]
        rows = [
            ["Case number", _p(_e(info.number))],
            ["Title", _p(_e(info.title))],
            ["Examiner", _p(_e(info.examiner))],
            ["Agency", _p(_e(info.agency) or "—")],
            ["Description", _p(_e(info.description) or "—")],
            [
                "Case created",
                _p(
                    f"{info.created_utc.astimezone(zone).strftime('%Y-%m-%d %H:%M')}"
                    f" {format_offset(info.tz_offset_minutes)} ({_e(info.tz_name)})"
                ),
            ],
            [
                "Report generated",
                _p(
                    f"{generated.strftime('%Y-%m-%d %H:%M:%S')} "
                    f"{format_offset(info.tz_offset_minutes)} "
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
            ["Case identifier", _p(_e(info.uuid), "mono")],
        ]
        story: list[Any] = [
            Spacer(1, 18 * mm),
            _p("Forensic image analysis report", "title"),
            _table(rows, [40 * mm, 135 * mm], header=False),
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
        story.append(Spacer(1, 6 * mm))
        story.append(
            _p(
                "The SHA-256 of this PDF file is recorded in the case's audit log when "
                "the report is generated. Regenerating it from a copy of the case file "
                "in the same state, with the same options and generation time, gives "
                "the same bytes.",
                "small",
            )
        )
        story.append(PageBreak())
        return story

    def _summary(self, records: list[dict[str, Any]]) -> list[Any]:
        verdicts = Counter(
            (r["detection"] or {}).get("verdict")
            or ("error" if r["status"] == "error" else "not analysed")
            for r in records
        )
        flags = Counter(code for r in records for code in r["flags"])
        story: list[Any] = [_p("Summary", "h1")]
        rows = [["Outcome", "Items"]]
        for key in ("likely-generated", "inconclusive", "likely-real", "not analysed", "error"):
            label = VERDICT_LABELS.get(key, key.capitalize())
            rows.append([label, str(verdicts.get(key, 0))])
        rows.append(["Total", str(len(records))])
        flag_rows = [["Metadata flag", "Items"]] + [
            [FLAG_TITLES.get(code, code), str(count)] for code, count in flags.most_common()
        ]
        if len(flag_rows) == 1:
            flag_rows.append(["(none)", "0"])
        story.append(
            Table(
                [
                    [
                        _table(rows, [45 * mm, 20 * mm], repeat=False),
                        _table(flag_rows, [60 * mm, 20 * mm], repeat=False),
                    ]
                ],
                colWidths=[80 * mm, 95 * mm],
                style=[("VALIGN", (0, 0), (-1, -1), "TOP")],
            )
        )
        errors = [r for r in records if r["status"] == "error"]
        if errors:
            story.append(_p("Items with errors", "h2"))
            story.append(
                _table(
                    [["Item", "File", "Reason"]]
                    + [
                        [str(r["id"]), _p(_e(r["file_name"]), "cell"), _p(_e(r["error"]), "cell")]
                        for r in errors
                    ],
                    [14 * mm, 55 * mm, 111 * mm],
                )
            )
        story.append(_p("All items", "h2"))
        rows = [["Item", "File", "SHA-256 (first 16)", "P(gen.)", "Verdict", "Flags"]]
        for r in records:
            detection = r["detection"] or {}
            probability = detection.get("probability_fake")
            rows.append(
                [
                    str(r["id"]),
                    _p(_e(r["file_name"]), "cell"),
                    _p(_e((r["sha256"] or "unreadable")[:16]), "mono"),
                    "" if probability is None else f"{probability:.3f}",
                    _p(
                        _e(
                            VERDICT_LABELS.get(detection.get("verdict", ""), "")
                            or ("error" if r["status"] == "error" else "—")
                        ),
                        "cell",
                    ),
                    _p(_e(", ".join(FLAG_TITLES.get(c, c) for c in r["flags"])), "cell"),
                ]
            )
        story.append(_table(rows, [12 * mm, 50 * mm, 30 * mm, 14 * mm, 24 * mm, 50 * mm]))
        story.append(PageBreak())
        return story

    def _method(self, records: list[dict[str, Any]], models: dict[str, DetectorModel]) -> list[Any]:
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
        used = Counter(
            (r["detection"] or {}).get("model_sha256") for r in records if r["detection"]
        )
        settings: dict[tuple[Any, ...], int] = Counter()
        for r in records:
            detection = r["detection"]
            if detection:
                thresholds = detection.get("thresholds") or {}
                key = (
                    detection["model_sha256"],
                    detection["device"],
                    detection["precision"],
                    thresholds.get("likely_generated"),
                    thresholds.get("likely_real"),
                    _preprocessing_text(detection.get("preprocessing") or {}),
                    _versions_text(detection.get("versions") or {}),
                )
                settings[key] += 1
        if not used:
            story.append(_p("No item in this report has a detector result.", "body"))
        for sha, count in used.most_common():
            model = models.get(sha or "")
            story.append(_p(f"Model used for {count} item(s)", "h2"))
            rows = [
                ["Name", _p(_e(model.name if model else "?"), "cell")],
                ["Weights SHA-256", _p(_e(sha), "mono")],
                [
                    "Format and source",
                    _p(_e(f"{model.format}; {model.source}") if model else "?", "cell"),
                ],
            ]
            if model is not None:
                published = (model.details or {}).get("published_match")
                rows.append(
                    [
                        "Published hash",
                        _p(
                            _e(published or "not checked here (see the model store manifest)"),
                            "cell",
                        ),
                    ]
                )
            story.append(_table(rows, [40 * mm, 140 * mm], header=False))
        for (sha, device, precision, high, low, prep, versions), count in settings.items():
            story.append(_p(f"Settings used for {count} item(s)", "h2"))
            story.append(
                _table(
                    [
                        ["Weights", _p(_e(sha[:16]) + "…", "mono")],
                        ["Device, precision", _p(_e(f"{device}, {precision}"), "cell")],
                        [
                            "Verdict bands",
                            _p(
                                _e(
                                    f"P ≥ {high:g}: likely generated; P ≤ {low:g}: likely "
                                    f"real; otherwise inconclusive"
                                ),
                                "cell",
                            ),
                        ],
                        ["Preprocessing", _p(_e(prep), "cell")],
                        ["Software", _p(_e(versions), "cell")],
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
        lines = describe(integrity, mark_local_key=False)
        story += [_p(_e(line), "mono") for line in lines]
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
        story.append(PageBreak())
        return story

    def _items(
        self, records: list[dict[str, Any]], visuals: dict[int, dict[str, Any]]
    ) -> list[Any]:
        story: list[Any] = [_p("Items", "h1")]
        total = len(records)
        for number, record in enumerate(records, start=1):
            if self.cancel.cancelled:
                raise UsageError("report cancelled")
            story.append(KeepTogether(self._item(record, visuals.get(record["id"], {}))))
            self._throttle(
                lambda elapsed, n=number: Progress(
                    "report", n, total, elapsed, message="laying out items"
                )
            )
        return story

    def _item(self, record: dict[str, Any], visual: dict[str, Any]) -> list[Any]:
        meta = record["metadata"]
        detection = record["detection"]
        story: list[Any] = [_p(f"Item {record['id']}: {_e(record['file_name'])}", "h2")]
        thumbnail = self._thumbnail(record["id"])
        pictures: list[Any] = []
        if thumbnail:
            pictures.append(_picture(thumbnail))
            if visual.get("geometry"):
                try:
                    pictures.append(
                        _picture(
                            parts.overlay_picture(
                                thumbnail,
                                visual.get("heatmap"),
                                visual["geometry"],
                                meta.get("orientation"),
                            )
                        )
                    )
                except Exception:  # one figure that cannot be drawn must not stop the report
                    log.exception("heatmap figure of item %s", record["id"])
                    pictures.append(_p("(heatmap figure could not be drawn; see the log)", "small"))
        left: list[Any] = []
        if detection:
            thresholds = detection.get("thresholds") or {}
            low, high = thresholds.get("likely_real", 0.3), thresholds.get("likely_generated", 0.7)
            left.append(
                _p(
                    f"<b>P(AI-generated) = {detection['probability_fake']:.3f}</b> — "
                    f"{_e(VERDICT_LABELS.get(detection['verdict'], detection['verdict']))}"
                    f" (an indication, not proof)"
                )
            )
            left.append(
                parts.score_bar(
                    detection["probability_fake"],
                    low,
                    high,
                    width=58 * mm,
                    verdict=detection["verdict"],
                )
            )
        else:
            left.append(_p("No detector score: " + _e(record.get("error") or "not analysed")))
        # One row: the picture(s) and, beside them, the score; the facts table below.
        if len(pictures) == 2:
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
        lat, lon = meta.get("gps_latitude"), meta.get("gps_longitude")
        facts = [
            ["Path", _p(_e(record["path"]), "cell")],
            *(
                [
                    [
                        "Also found at",
                        _p("<br/>".join(_e(p) for p in record["duplicate_paths"]), "cell"),
                    ]
                ]
                if record["duplicate_paths"]
                else []
            ),
            [
                "Format",
                _p(
                    _e(
                        f"{record['format'] or '?'}, {record['width'] or '?'} x "
                        f"{record['height'] or '?'} px, {record['size_bytes']} bytes"
                    ),
                    "cell",
                ),
            ],
            [
                "Camera",
                _p(
                    _e(camera_name(meta.get("camera_make"), meta.get("camera_model")) or "—"),
                    "cell",
                ),
            ],
            [
                "Taken (EXIF)",
                _p(
                    _e(
                        (meta.get("datetime_original") or "—")
                        + (
                            f" {meta['datetime_original_offset']}"
                            if meta.get("datetime_original_offset")
                            else ""
                        )
                    ),
                    "cell",
                ),
            ],
            ["Software", _p(_e(meta.get("software") or "—"), "cell")],
            [
                "GPS",
                _p(
                    _e(f"{lat:.6f}, {lon:.6f}" if lat is not None and lon is not None else "—"),
                    "cell",
                ),
            ],
            ["MD5", _p(_e(record["md5"] or "—"), "mono")],
            ["SHA-1", _p(_e(record["sha1"] or "—"), "mono")],
            ["SHA-256", _p(_e(record["sha256"] or "—"), "mono")],
        ]
        if detection:
            facts.append(
                [
                    "Model",
                    _p(
                        _e(
                            f"{detection['model_name']} "
                            f"({detection['model_sha256'][:16]}…), "
                            f"{detection['device']}, {detection['analyzed_utc']}"
                        ),
                        "cell",
                    ),
                ]
            )
        review = record["review"]
        facts.append(
            [
                "Review",
                _p(
                    _e(REVIEW_STATES.get(review["state"], review["state"]))
                    + (f"; tags: {_e(', '.join(review['tags']))}" if review["tags"] else ""),
                    "cell",
                ),
            ]
        )
        if review["notes"]:
            facts.append(["Examiner notes", _p(_e(review["notes"]).replace("\n", "<br/>"), "cell")])
        story.append(_table(facts, [30 * mm, 150 * mm], header=False))
        if record["flags"]:
            explanations = record.get("flag_explanations", {})
            story.append(
                _table(
                    [["Flag", "Explanation"]]
                    + [
                        [
                            _p(_e(FLAG_TITLES.get(c, c)), "cell"),
                            _p(_e(explanations.get(c, "")), "cell"),
                        ]
                        for c in record["flags"]
                    ],
                    [35 * mm, 145 * mm],
                    repeat=False,
                )
            )
        story.append(Spacer(1, 5 * mm))
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
                    _p(_e(f"{entry.user}@{entry.host}"), "cell"),
                    entry.action,
                    str(entry.item_id or ""),
                    _p(_e(details), "cell"),
                ]
            )
        story.append(_table(table, [10 * mm, 27 * mm, 28 * mm, 33 * mm, 10 * mm, 72 * mm]))
        return story


def _picture(jpeg_bytes: bytes) -> parts.JpegFlowable:
    return parts.JpegFlowable(jpeg_bytes, 55 * mm, 41 * mm)


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
