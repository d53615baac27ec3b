"""Everything about one item beside its image: the score with its band and wording,
model provenance, flags with explanations, review (state, tags, notes), hashes, GPS,
file facts, and all metadata in a searchable tree."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen, QTextOption
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from opensight_desktop import present
from opensight_desktop.case.views import ItemView
from opensight_desktop.detector.verdict import DEFAULT_BANDS, Bands
from opensight_desktop.textsafe import visible

_ANCHORS = {
    "start": Qt.AlignmentFlag.AlignLeft,
    "middle": Qt.AlignmentFlag.AlignCenter,
    "end": Qt.AlignmentFlag.AlignRight,
}


class ScoreBar(QWidget):
    """The score bar of present.score_bar, drawn with Qt (the PDF draws the same one)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = present.score_bar(None, DEFAULT_BANDS)
        self.setMinimumHeight(34)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(260, 34)

    def set_score(self, probability: float | None, bands: Bands, verdict: str | None) -> None:
        self.bar = present.score_bar(probability, bands, verdict)
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        width = self.width() - 2
        bar = QRectF(1, 4, width, 14)
        for segment in self.bar.segments:
            painter.fillRect(
                QRectF(
                    1 + segment.start * width,
                    bar.top(),
                    (segment.end - segment.start) * width,
                    bar.height(),
                ),
                QColor(segment.color),
            )
        painter.setPen(QPen(QColor(self.bar.line_color)))
        painter.drawRect(bar)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 2))
        painter.setFont(font)
        for tick in self.bar.ticks:
            x = 1 + tick.value * width
            label = QRectF(min(max(x - 20, 0), self.width() - 40), 19, 40, 14)
            painter.drawText(label, _ANCHORS[tick.anchor], tick.label)
        if self.bar.marker is not None:
            x = 1 + self.bar.marker * width
            painter.setPen(QPen(QColor(self.bar.marker_color), 3))
            painter.drawLine(int(x), 1, int(x), 21)
        painter.end()


def _copy_row() -> tuple[QWidget, QLineEdit]:
    """A read-only monospace field with a Copy button (hashes, coordinates)."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    field = QLineEdit()
    field.setReadOnly(True)
    field.setFont(QFont("monospace"))
    button = QPushButton("Copy")
    button.setToolTip("Copy to the clipboard")
    button.clicked.connect(field.selectAll)
    button.clicked.connect(field.copy)
    layout.addWidget(field, 1)
    layout.addWidget(button)
    return row, field


def _fact_label() -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)  # facts quote the evidence: never markup
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


HASH_NAMES = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256"}
FACT_NAMES = ("Format", "Size", "Status", "Camera", "Taken", "Software", "Orientation")


class ItemPanel(QScrollArea):
    review_state_chosen = Signal(str)
    tags_edited = Signal(list)
    notes_edited = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setMinimumWidth(360)
        # Content follows the panel's width (text wraps) instead of scrolling sideways.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        self.setWidget(body)
        self._layout = QVBoxLayout(body)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)  # a file name is never markup
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        title_font = self.title.font()
        title_font.setPointSizeF(title_font.pointSizeF() + 2)
        title_font.setBold(True)
        self.title.setFont(title_font)
        self._layout.addWidget(self.title)
        # Paths and names can be one long unbreakable word: let them scroll, not widen the panel
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.path_label = QPlainTextEdit()
        self.path_label.setReadOnly(True)
        self.path_label.setFrameShape(QPlainTextEdit.Shape.NoFrame)
        self.path_label.setMaximumHeight(48)
        self.path_label.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.path_label.setWordWrapMode(QTextOption.WrapMode.WrapAnywhere)
        self.path_label.setStyleSheet("background: transparent;")
        self._layout.addWidget(self.path_label)
        # What the newest integrity check found for this item's file (hidden when nothing).
        self.integrity = QLabel()
        self.integrity.setWordWrap(True)
        self.integrity.setStyleSheet("color: #c0392b; font-weight: bold;")
        self.integrity.setVisible(False)
        self._layout.addWidget(self.integrity)

        score_box = QGroupBox("Detector score")
        score_layout = QVBoxLayout(score_box)
        self.score_text = QLabel()
        self.score_text.setTextFormat(Qt.TextFormat.RichText)
        self.score_text.setWordWrap(True)
        self.score_bar = ScoreBar()
        self.score_note = QLabel(present.SCORE_MEANING)
        self.score_note.setWordWrap(True)
        self.score_note.setStyleSheet("color: #555;")
        self.provenance = QLabel()
        self.provenance.setTextFormat(Qt.TextFormat.PlainText)
        self.provenance.setWordWrap(True)
        self.provenance.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.provenance.setStyleSheet("color: #444;")
        # Which published release the weights are; in red when the published accuracy
        # figures do not apply to this score.
        self.weights = QLabel()
        self.weights.setTextFormat(Qt.TextFormat.PlainText)
        self.weights.setWordWrap(True)
        self.model_hash = QLineEdit()
        self.model_hash.setReadOnly(True)
        self.model_hash.setFont(QFont("monospace"))
        self.model_hash.setToolTip("SHA-256 of the model weights that produced this score")
        for widget in (
            self.score_text,
            self.score_bar,
            self.score_note,
            self.weights,
            self.provenance,
            self.model_hash,
        ):
            score_layout.addWidget(widget)
        self._layout.addWidget(score_box)

        # A short title: a group box is never narrower than its title.
        review_box = QGroupBox(present.EXAMINER_REVIEW)
        review_form = QFormLayout(review_box)
        keys = QLabel("Keys 0-4 set the state; N / P: next / previous; Ctrl+Z: undo.")
        keys.setWordWrap(True)
        keys.setStyleSheet("color: #555;")
        review_form.addRow(keys)
        self.review_text = _fact_label()  # state and tags, who set the state and when
        review_form.addRow(self.review_text)
        self.review_combo = QComboBox()
        for number, key in enumerate(present.REVIEW_ORDER):
            self.review_combo.addItem(f"{number}  {present.review_label(key)}", key)
        self.review_combo.activated.connect(self._review_chosen)
        self.tags_edit = QLineEdit()
        self.tags_edit.setPlaceholderText("comma-separated tags, Enter to apply")
        self.tags_edit.editingFinished.connect(self._tags_done)
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setPlaceholderText(
            "Examiner notes (saved when you leave the item or press Save)"
        )
        self.notes_edit.setMaximumHeight(110)
        self.save_notes = QPushButton("Save notes")
        self.save_notes.clicked.connect(self.commit_notes)
        review_form.addRow("State", self.review_combo)
        self.category_label = QLabel()  # set by Ctrl+0..9 (a VICS import too)
        review_form.addRow("VICS category", self.category_label)
        review_form.addRow("Tags", self.tags_edit)
        review_form.addRow("Notes", self.notes_edit)
        review_form.addRow("", self.save_notes)
        self._layout.addWidget(review_box)

        # The rows below are made once and refilled per item: adding and removing form rows
        # for every item leaked references in the Qt binding (about 6 per row, issue 11).
        self.flags_box = QGroupBox("Flags")
        flags_layout = QVBoxLayout(self.flags_box)
        self.flags_label = _fact_label()
        self.flags_label.setTextFormat(Qt.TextFormat.RichText)
        flags_layout.addWidget(self.flags_label)
        self._layout.addWidget(self.flags_box)

        self.hashes_box = QGroupBox("Hashes (computed at import)")
        hashes_form = QFormLayout(self.hashes_box)
        self.hash_fields: dict[str, QLineEdit] = {}
        for key, label in HASH_NAMES.items():
            row, self.hash_fields[key] = _copy_row()
            hashes_form.addRow(label, row)
        self._layout.addWidget(self.hashes_box)

        self.facts_box = QGroupBox("File")
        self.facts_form = QFormLayout(self.facts_box)
        self.fact_labels: dict[str, QLabel] = {}
        for name in FACT_NAMES:
            self.fact_labels[name] = _fact_label()
            self.facts_form.addRow(name, self.fact_labels[name])
        self.gps_row, self.gps_field = _copy_row()
        self.facts_form.addRow("GPS", self.gps_row)
        self._layout.addWidget(self.facts_box)

        metadata_box = QGroupBox("All metadata")
        metadata_layout = QVBoxLayout(metadata_box)
        self.metadata_search = QLineEdit()
        self.metadata_search.setPlaceholderText("Search metadata...")
        self.metadata_search.textChanged.connect(self._filter_metadata)
        self.metadata_tree = QTreeWidget()
        self.metadata_tree.setHeaderLabels(["Field", "Value"])
        self.metadata_tree.setColumnWidth(0, 200)
        self.metadata_tree.setMinimumHeight(260)
        metadata_layout.addWidget(self.metadata_search)
        metadata_layout.addWidget(self.metadata_tree)
        self._layout.addWidget(metadata_box)
        self._layout.addStretch(1)
        self._loaded_notes = ""
        self.item: ItemView | None = None

    # -- filling -------------------------------------------------------------------------

    def show_item(self, item: ItemView | None, bands: Bands) -> None:
        """Show the item; ``bands`` (the settings') draw the bar of a result that does not
        say which it was scored with. Shown again (a result arrived meanwhile), the item
        keeps the notes and tags being typed: they are the examiner's, not yet saved."""
        same = item is not None and self.item is not None and item.id == self.item.id
        typed_notes = same and self.notes_edit.toPlainText() != self._loaded_notes
        typed_tags = same and self.tags_edit.isModified()
        self.item = item
        self.setEnabled(item is not None)
        if item is None:  # nothing of the previous item stays shown
            self.title.setText("No item selected")
            self.path_label.clear()
            self.score_text.clear()
            self.score_bar.set_score(None, bands, None)
            self.weights.clear()
            self.provenance.clear()
            self.model_hash.clear()
            self.model_hash.setVisible(False)
            self.review_text.clear()
            self.tags_edit.clear()
            self.tags_edit.setModified(False)
            self.notes_edit.clear()
            self._loaded_notes = ""
            self.flags_label.clear()
            for field in self.hash_fields.values():
                field.clear()
            for label in self.fact_labels.values():
                label.clear()
            self.gps_field.clear()
            self.metadata_tree.clear()
            return
        # Hidden characters as ⟨U+XXXX⟩: names that differ only by them must not look alike.
        self.title.setText(f"{visible(item.file_name or present.UNKNOWN)}  (item {item.id})")
        self.path_label.setPlainText(
            visible(item.path or present.UNKNOWN)
            + (
                "\nAlso at: " + "\n".join(map(visible, item.duplicate_paths))
                if item.duplicate_paths
                else ""
            )
        )
        detection = item.detection
        if detection:
            self.score_text.setText(
                f"<b>{html.escape(present.score_text(detection.probability))}</b> &nbsp; "
                f"{html.escape(present.verdict_label(detection.verdict))} "
                f"({html.escape(present.bands_text(detection.thresholds))})"
                + (
                    f"<br><span style='color:#b7791f'>{html.escape(note)}</span>"
                    if (note := present.scoring_note(detection))
                    else ""
                )
            )
            sha = detection.model.sha256
            self.weights.setText(present.weights_sentence(sha))
            self.weights.setStyleSheet(
                "color: #c0392b; font-weight: bold;" if present.is_unpublished(sha) else ""
            )
            self.weights.setVisible(True)
            self.provenance.setText(f"Model {present.provenance_text(detection)}. Weights SHA-256:")
            self.model_hash.setText(detection.model.sha256 or present.UNKNOWN)
            self.model_hash.setCursorPosition(0)
            self.model_hash.setVisible(True)
            self.score_bar.set_score(
                detection.probability,
                Bands.from_record(detection.thresholds, bands),
                detection.verdict,
            )
        else:
            self.score_text.setText(html.escape(present.no_score_text(item)))
            self.weights.clear()
            self.weights.setVisible(False)
            self.provenance.clear()
            self.model_hash.setVisible(False)
            self.score_bar.set_score(None, bands, None)
        review = item.review
        self.review_text.setText(
            f"{present.EXAMINER_REVIEW}: {present.examiner_review_text(review)}"
        )
        self.review_combo.setCurrentIndex(max(0, self.review_combo.findData(review.state)))
        self.category_label.setText(
            "none (Ctrl+0..9 sets one)"
            if review.vics_category is None
            else str(review.vics_category)
        )
        if not typed_tags:  # else left as it is, cursor and all
            self.tags_edit.setText(", ".join(review.tags))
        self._loaded_notes = review.notes
        if not typed_notes:
            self.notes_edit.setPlainText(review.notes)
        self._fill_flags(item)
        self._fill_hashes(item)
        self._fill_facts(item)
        self._fill_metadata(item)

    def set_integrity(self, finding: str | None) -> None:
        """The newest integrity check's finding for the item's file, or None."""
        self.integrity.setText(finding or "")
        self.integrity.setVisible(bool(finding))

    def _fill_flags(self, item: ItemView) -> None:
        # explanations quote file names and metadata from the evidence: text, never markup
        self.flags_label.setText(
            "<br>".join(
                f"<b>{html.escape(present.flag_title(flag.code))}</b> — "
                f"{html.escape(visible(flag.explanation))}"
                for flag in item.flags
            )
            or "No flags."
        )
        if item.hashset_hits:  # one line per set the item is in, as reports word it
            self.flags_label.setText(
                self.flags_label.text()
                + "<br><b>Hash-set hits:</b> "
                + "; ".join(
                    html.escape(visible(present.hit_text(hit))) for hit in item.hashset_hits
                )
            )

    def _fill_hashes(self, item: ItemView) -> None:
        hashes = {"md5": item.md5, "sha1": item.sha1, "sha256": item.sha256}
        for key, field in self.hash_fields.items():
            field.setText(hashes[key] or "(file unreadable at import)")
            field.setCursorPosition(0)

    def _fill_facts(self, item: ItemView) -> None:
        meta = item.metadata
        values = {
            "Format": present.format_text(item),
            "Size": present.size_text(item.size_bytes),
            "Status": present.status_text(item),
            "Camera": present.camera_text(meta),
            "Taken": present.taken_text(meta),
            "Software": present.software_text(meta),
            "Orientation": present.orientation_text(meta),
        }
        for name, label in self.fact_labels.items():
            label.setText(values[name])
        gps = present.gps_text(meta)
        self.facts_form.setRowVisible(self.gps_row, gps is not None)
        if gps is not None:
            self.gps_field.setText(gps)
            self.gps_field.setCursorPosition(0)

    def _fill_metadata(self, item: ItemView) -> None:
        self.metadata_tree.clear()
        meta = dict(item.metadata.fields)
        exif = meta.pop("exif", {}) or {}
        groups: dict[str, dict[str, Any]] = {"Summary": {}}
        for key, value in meta.items():
            if isinstance(value, dict | list):
                groups[key.replace("_", " ").capitalize()] = value  # type: ignore[assignment]
            elif value is not None:
                groups["Summary"][key] = value
        for name, value in sorted(exif.items()):
            prefix, _, tag = name.partition(" ")
            groups.setdefault(f"EXIF: {prefix}", {})[tag or name] = value
        for title, values in groups.items():
            top = QTreeWidgetItem([title, ""])
            self._add_children(top, values)
            self.metadata_tree.addTopLevelItem(top)
            top.setExpanded(title in ("Summary", "EXIF: Image", "EXIF: EXIF", "EXIF: GPS"))
        self._filter_metadata(self.metadata_search.text())

    def _add_children(self, parent: QTreeWidgetItem, values: Any) -> None:
        items = values.items() if isinstance(values, dict) else enumerate(values)
        for key, value in items:
            if isinstance(value, dict | list):
                child = QTreeWidgetItem([str(key), ""])
                self._add_children(child, value)
            else:
                text = str(value)
                child = QTreeWidgetItem([str(key), text if len(text) < 400 else text[:400] + "…"])
                child.setToolTip(1, text[:4000])
            parent.addChild(child)

    def _filter_metadata(self, text: str) -> None:
        terms = text.lower().split()

        def visit(item: QTreeWidgetItem | None) -> bool:
            if item is None:  # Qt's accessors are typed as able to return none
                return False
            own = f"{item.text(0)} {item.text(1)}".lower()
            child_match = False
            for index in range(item.childCount()):
                child_match = visit(item.child(index)) or child_match
            match = not terms or all(t in own for t in terms) or child_match
            item.setHidden(not match)
            if terms and child_match:
                item.setExpanded(True)
            return match

        for index in range(self.metadata_tree.topLevelItemCount()):
            visit(self.metadata_tree.topLevelItem(index))

    # -- review edits --------------------------------------------------------------------

    def set_editable(self, editable: bool) -> None:
        """Review edits off for a case open read-only (they could not be saved)."""
        self.review_combo.setEnabled(editable)
        self.tags_edit.setReadOnly(not editable)
        self.notes_edit.setReadOnly(not editable)
        self.save_notes.setEnabled(editable)

    def _review_chosen(self, _index: int) -> None:
        self.review_state_chosen.emit(self.review_combo.currentData())

    def _tags_done(self) -> None:
        self.tags_edit.setModified(False)  # applied (or unchanged): no longer being typed
        if self.item is None:
            return
        tags = [t.strip() for t in self.tags_edit.text().split(",")]
        if [t for t in tags if t] != list(self.item.review.tags):
            self.tags_edited.emit(tags)

    def commit_notes(self) -> None:
        """Save the notes if they changed (also called when leaving the item)."""
        if self.item is not None and self.notes_edit.toPlainText() != self._loaded_notes:
            self._loaded_notes = self.notes_edit.toPlainText()
            self.notes_edited.emit(self._loaded_notes)
