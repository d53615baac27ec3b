"""Facts about an item as people read them, worded once for the GUI, the PDF report and
the command line.

Plain text, Qt-free and ReportLab-free: each front end only lays it out and escapes it for
its markup (and shows names and paths through textsafe.visible, as everywhere). The score
bar's geometry is here too: the bands, ticks and marker both drawings use, and their
colours (from detector/verdict.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from opensight_desktop.case.hashset_match import ALERT_FLAG, KNOWN_FLAG
from opensight_desktop.case.queries import camera_name
from opensight_desktop.case.states import REVIEW_STATES, ItemStatus
from opensight_desktop.detector.geometry import scoring_note_of
from opensight_desktop.detector.store import published_release
from opensight_desktop.detector.verdict import (
    BAND_COLORS,
    VERDICT_COLORS,
    VERDICT_LABELS,
    VERDICTS,
    Bands,
    Verdict,
)
from opensight_desktop.metadata.fields import legacy_sources
from opensight_desktop.metadata.flags import FLAG_TITLES
from opensight_desktop.timeutil import iso_seconds, parse_iso

if TYPE_CHECKING:
    from opensight_desktop.case.views import (
        DetectionView,
        HashSetHitView,
        ItemView,
        MetadataView,
        ReviewView,
    )

NOTHING = "—"  # a fact the item does not have
UNKNOWN = "?"  # a fact that should be there and is not known

# An item's outcome in summaries: a verdict, or why there is none.
NOT_ANALYSED = "not analysed"
ERROR = "error"
OUTCOMES = (*VERDICTS, NOT_ANALYSED, ERROR)
OUTCOME_LABELS = {**VERDICT_LABELS, NOT_ANALYSED: "Not analysed", ERROR: "Error"}

SCORE_MEANING = (
    "The detector's estimate that the image is AI-generated. It is an indication to weigh "
    "with other evidence, not proof; accuracy is lower on generators newer than its "
    "training data."
)


# -- camera, time, place ---------------------------------------------------------------


def source_of(meta: MetadataView, key: str) -> str | None:
    """Where a normalised field came from ("EXIF", "XMP", "MakerNote", "IPTC", "PNG")."""
    sources = meta.sources
    if sources is None:  # imported before sources were recorded: EXIF only
        sources = legacy_sources(dict(meta.fields))
    source = sources.get(key)
    return source if isinstance(source, str) else None


def _from(meta: MetadataView, *keys: str) -> str:
    """ " [XMP]": the sources of the fields a text shows, for the examiner to weigh."""
    found = dict.fromkeys(s for key in keys if (s := source_of(meta, key)))
    return f" [{', '.join(found)}]" if found else ""


def camera_text(meta: MetadataView) -> str:
    name = camera_name(meta.camera_make, meta.camera_model)
    return name + _from(meta, "camera_make", "camera_model") if name else NOTHING


def taken_text(meta: MetadataView) -> str:
    """The time the camera recorded (by its own clock), with the UTC offset it recorded."""
    taken = meta.datetime_original
    if not taken:
        return NOTHING
    offset = meta.datetime_original_offset
    return (f"{taken} (UTC{offset})" if offset else taken) + _from(meta, "datetime_original")


def gps_text(meta: MetadataView) -> str | None:
    """Signed decimal degrees (south and west negative), and the altitude if recorded;
    None without a position."""
    lat, lon = meta.gps_latitude, meta.gps_longitude
    if lat is None or lon is None:
        return None
    altitude = meta.gps_altitude_m
    return (
        f"{lat:.6f}, {lon:.6f}"
        + (f" ({altitude:g} m)" if altitude is not None else "")
        + _from(meta, "gps_latitude")
    )


def software_text(meta: MetadataView) -> str:
    software = meta.software
    return software + _from(meta, "software") if software else NOTHING


def orientation_text(meta: MetadataView) -> str:
    """The EXIF orientation tag's value (1 is upright as stored)."""
    orientation = meta.orientation
    return NOTHING if orientation is None else str(orientation)


# -- the file ----------------------------------------------------------------------------


def size_text(size_bytes: int | None) -> str:
    return UNKNOWN if size_bytes is None else f"{size_bytes:,} bytes"


def format_text(item: ItemView) -> str:
    """ "JPEG, 4032 x 3024 px, RGB" (the colour mode when known)."""
    text = f"{item.format or UNKNOWN}, {item.width or UNKNOWN} x {item.height or UNKNOWN} px"
    return f"{text}, {item.mode}" if item.mode else text


def status_text(item: ItemView) -> str:
    return item.status + (f": {item.error}" if item.error else "")


# -- the score -------------------------------------------------------------------------


def probability_text(probability: float | None, digits: int = 3) -> str:
    return "not a finite number" if probability is None else f"{probability:.{digits}f}"


def score_text(probability: float | None) -> str:
    return f"P(AI-generated) = {probability_text(probability)}"


def verdict_label(verdict: str | None) -> str:
    """The verdict in words; a value this version does not know is shown as stored."""
    return VERDICT_LABELS.get(verdict or "", verdict or "")


def bands_text(thresholds: object) -> str:
    """The rule a result was scored with (its stored thresholds; "?" where unreadable)."""
    stored = thresholds if isinstance(thresholds, dict) else {}

    def number(key: str) -> str:
        value = stored.get(key)
        usable = isinstance(value, int | float) and not isinstance(value, bool)
        return f"{value:g}" if usable else UNKNOWN

    return (
        f"P ≥ {number('likely_generated')}: likely generated; "
        f"P ≤ {number('likely_real')}: likely real; otherwise inconclusive"
    )


def scoring_note(detection: DetectionView) -> str | None:
    """ "Upscaled 4.4 times before scoring: the score is less reliable." for an image smaller
    than the model's input; None otherwise."""
    note = scoring_note_of(detection.geometry)[1]
    return note[0].upper() + note[1:] + "." if note else None


def no_score_text(item: ItemView) -> str:
    """Why an item has no score."""
    if item.status == ItemStatus.IMPORTED and not item.error:
        return "Not analysed yet."
    return f"No score: {item.error or item.status}"


def outcome(item: ItemView) -> str:
    """Its verdict, or ``error`` / ``not analysed`` (a key of OUTCOME_LABELS)."""
    if item.detection is not None:
        return item.detection.verdict
    return ERROR if item.status == ItemStatus.ERROR else NOT_ANALYSED


def outcome_label(item: ItemView) -> str:
    key = outcome(item)
    return OUTCOME_LABELS.get(key, key)


def provenance_text(detection: DetectionView) -> str:
    """Which model scored the item (name, weights and whether they are a published
    release), where, and when."""
    model = detection.model
    sha = model.sha256
    weights = f"{sha[:16]}…, {release_text(sha)}" if sha else "not in this case"
    where = detection.device + (
        f" ({detection.device_description})" if detection.device_description else ""
    )
    return (
        f"{model.name or UNKNOWN} (weights SHA-256 {weights}) on {where}, "
        f"{detection.precision}; analysed {iso_seconds(detection.analyzed_utc)}"
    )


# -- the detector's weights: a published release or not ---------------------------------
# Decided from the weights' SHA-256 each time (detector/store.py published_release), never
# from a label stored in a manifest or a case.

UNPUBLISHED_WEIGHTS = (
    "The weights match no published Community Forensics release: the published accuracy "
    "figures do not apply to them."
)
UNIDENTIFIED_WEIGHTS = (
    "The weights are not identified in this case: whether they are a published Community "
    "Forensics release is not known, so the published accuracy figures cannot be relied on."
)


def unpublished_scores_notice(every: bool) -> str:
    """One line for every page of a report with scores from such weights."""
    return (
        ("Scores" if every else "Some scores")
        + " in this report come from weights that match no published Community Forensics "
        "release: the published accuracy figures do not apply to them."
    )


def unpublished_scores_text(unpublished: int, scored: int) -> str:
    """How many of a report's scores the published accuracy figures do not apply to."""
    return (
        f"{unpublished} of the {scored} score(s) in this report come from weights that match "
        "no published Community Forensics release: the published accuracy figures (average "
        "precision 0.984 and the others under Limitations) do not apply to them."
    )


def weights_release(sha256: str | None) -> str | None:
    """The published Community Forensics release these weights are (its name), or None."""
    return published_release(sha256)


def is_unpublished(sha256: str | None) -> bool:
    """True unless the weights are known to be a published release (unknown weights
    included): the published accuracy figures do not apply to their scores."""
    return published_release(sha256) is None


def release_text(sha256: str | None) -> str:
    """A phrase for lists and one-line summaries."""
    release = published_release(sha256)
    if release:
        return f"published Community Forensics release: {release}"
    if not sha256:
        return "weights not identified"
    return "matches no published Community Forensics release"


def weights_sentence(sha256: str | None) -> str:
    """Which published release the weights are, or that the published accuracy figures
    do not apply to them (the report's cover and method, `model` and `analyze`)."""
    release = published_release(sha256)
    if release:
        return f"The weights match the published Community Forensics release: {release}."
    return UNPUBLISHED_WEIGHTS if sha256 else UNIDENTIFIED_WEIGHTS


HIT_FLAG_TITLES = {KNOWN_FLAG: "Known file (hash set)", ALERT_FLAG: "In an alert hash set"}


def flag_title(code: str) -> str:
    """A flag's title; a code this version does not know is shown as stored."""
    return FLAG_TITLES.get(code) or HIT_FLAG_TITLES.get(code, code)


def hit_text(hit: HashSetHitView) -> str:
    """ "NSRL (known, by SHA-256)", with the set's category when it gives one."""
    digest = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256"}.get(hit.hash, hit.hash)
    category = f", category {hit.category}" if hit.category else ""
    return f"{hit.set or '?'} ({hit.kind or '?'}, by {digest}{category})"


# -- review ------------------------------------------------------------------------------


# The states in the order menus offer them (keys 0-4 in the GUI).
REVIEW_ORDER = tuple(REVIEW_STATES)


def review_label(state: str) -> str:
    return REVIEW_STATES.get(state, state)


def review_text(review: ReviewView) -> str:
    tags = f"; tags: {', '.join(review.tags)}" if review.tags else ""
    return review_label(review.state) + tags


# Review states share words with the detector's verdicts ("Likely generated"): wherever
# both are shown, the review is labelled as the examiner's.
EXAMINER_REVIEW = "Examiner's review"


def examiner_review_text(review: ReviewView) -> str:
    """The review state and tags, with who set the state and when (from the audit log)."""
    setting = review.set_by
    if setting is None:
        return review_text(review)
    who = actor_text(setting.examiner, setting.account)
    return f"{review_text(review)} (set by {who}, {utc_seconds_text(setting.utc)})"


# -- people and times in the audit log ---------------------------------------------------


def actor_text(examiner: str | None, account: str) -> str:
    """ "Zoë Ölander (zoe@lab-pc)": the examiner an audit entry names, and the account."""
    return f"{examiner} ({account})" if examiner else account


def utc_seconds_text(text: str) -> str:
    """A recorded UTC time to the second ("2026-11-24T21:10:59Z"); shown as stored when it
    is not a time (a crafted case)."""
    try:
        return iso_seconds(parse_iso(text))
    except (ValueError, TypeError):
        return text


# -- the score bar -----------------------------------------------------------------------

BAR_LINE = "#4a5568"  # the bar's outline and tick labels
MARKER = "#1a202c"  # the marker of a score whose verdict has no colour


@dataclass(frozen=True, slots=True)
class BarSegment:
    start: float  # 0..1 along the bar
    end: float
    color: str


@dataclass(frozen=True, slots=True)
class BarTick:
    value: float  # 0..1 along the bar
    label: str
    anchor: Literal["start", "middle", "end"]  # where the label sits on its text


@dataclass(frozen=True, slots=True)
class ScoreBar:
    """What a score bar shows, in fractions of its length; toolkits only draw it."""

    segments: tuple[BarSegment, ...]
    ticks: tuple[BarTick, ...]
    marker: float | None  # the score, kept on the bar (a hostile model's can be outside)
    marker_color: str
    line_color: str = BAR_LINE


def score_bar(probability: float | None, bands: Bands, verdict: str | None = None) -> ScoreBar:
    """0..1 with the verdict bands coloured, ticks at the ends and the band edges, and a
    marker at the score in its verdict's colour."""
    low, high = bands.likely_real, bands.likely_generated
    return ScoreBar(
        segments=(
            BarSegment(0.0, low, BAND_COLORS[Verdict.LIKELY_REAL]),
            BarSegment(low, high, BAND_COLORS[Verdict.INCONCLUSIVE]),
            BarSegment(high, 1.0, BAND_COLORS[Verdict.LIKELY_GENERATED]),
        ),
        ticks=(
            BarTick(0.0, "0", "start"),
            BarTick(low, f"{low:g}", "middle"),
            BarTick(high, f"{high:g}", "middle"),
            BarTick(1.0, "1", "end"),
        ),
        marker=None if probability is None else min(max(probability, 0.0), 1.0),
        marker_color=VERDICT_COLORS.get(verdict or "", MARKER),
    )
