"""The PDF report: content read back from the PDF, determinism, options, integrity."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import re
import shutil
import sqlite3
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from opensight_desktop.case.integrity import verify_case
from opensight_desktop.case.models import AuditEntry
from opensight_desktop.case.store import Case
from opensight_desktop.cli import main
from opensight_desktop.detector.store import ModelStore
from opensight_desktop.pipeline.analyze_job import AnalysisJob
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.report.export import export_document
from opensight_desktop.report.pdf import ReportBuilder, ReportOptions
from tests import checkpoint_factory as cf
from tests import imagegen

GENERATED = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)


def pdf_text(path) -> tuple[str, int]:
    reader = PdfReader(str(path))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def squash(text: str) -> str:
    """Extracted text may break long words across lines; compare without whitespace."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def analysed_case(tmp_path_factory):
    """A case with analysed images, a flagged camera JPEG and a broken file."""
    root = tmp_path_factory.mktemp("report")
    home = root / "home"
    import os

    old = os.environ.get("OPENSIGHT_HOME")
    os.environ["OPENSIGHT_HOME"] = str(home)
    try:
        folder = root / "evidence"
        folder.mkdir()
        for i in range(4):
            imagegen.save(folder / f"scene_{i}.png", "PNG", size=(300 + i, 200), seed=i)
        imagegen.jpeg_with_exif(folder / "camera.jpg", seed=5)
        (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
        path = root / "case.osc"
        store = ModelStore()
        model, _ = store.import_path(cf.save_hub(cf.random_state(seed=4), root / "hub"))
        with Case.create(
            path,
            number="R-7",
            title="Report test",
            examiner="Zoë Ölander-Ðorđević",
            agency="Служба",
        ) as case:
            ImportJob(case, [str(folder)]).run()
            AnalysisJob(case, store.load(model, "cpu"), batch_size=3).run()
        return path, folder, model.id
    finally:
        if old is None:
            os.environ.pop("OPENSIGHT_HOME", None)
        else:
            os.environ["OPENSIGHT_HOME"] = old


def copy_case(source, target):
    shutil.copyfile(source, target)
    return target


def test_report_content(analysed_case, tmp_path):
    source, _folder, model_sha = analysed_case
    case_path = copy_case(source, tmp_path / "case.osc")
    out = tmp_path / "report.pdf"
    with Case.open(case_path) as case:
        result = ReportBuilder(case, ReportOptions(generated_at=GENERATED)).write(out)
        records = export_document(case)["items"]
    text, pages = pdf_text(out)
    flat = squash(text)
    assert result.pages == pages and result.items == 6 and result.integrity_ok
    spaced = re.sub(r"\s+", " ", text)  # the total is a form: extractors may break the line
    for page in range(1, pages + 1):
        assert f"Page {page} of {pages}" in spaced
    for record in records:
        if record["sha256"]:
            assert record["sha256"] in flat, record["file_name"]
    assert model_sha in flat
    assert "Zoë Ölander-Ðorđević" in text and "Служба" in text
    assert "Likely" in text or "Inconclusive" in text
    assert "not proof" in text and "Limitations" in text
    assert "Items with errors" in text and "corruptorunsupported" in flat  # the broken file
    assert "VERIFIED" in text
    assert "Appendix: audit log" in text
    info = PdfReader(str(out)).metadata
    assert info.title.startswith("Case R-7") and info.author == "Zoë Ölander-Ðorđević"
    with Case.open(case_path) as case, case.read() as session:
        details = (
            session.connection()
            .exec_driver_sql("SELECT details FROM audit_entry WHERE action = 'report.generated'")
            .scalar()
        )
    assert json.loads(details)["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()


def test_report_is_byte_identical_from_two_copies(analysed_case, tmp_path):
    source, _folder, _sha = analysed_case
    outputs = []
    for name in ("a", "b"):
        case_path = copy_case(source, tmp_path / f"{name}.osc")
        out = tmp_path / f"{name}.pdf"
        assert (
            main(
                ["report", str(case_path), "-o", str(out), "--generated-at", "2026-11-24T20:00:00Z"]
            )
            == 0
        )
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    later = tmp_path / "later.pdf"
    main(
        [
            "report",
            str(copy_case(source, tmp_path / "c.osc")),
            "-o",
            str(later),
            "--generated-at",
            "2026-11-24T21:00:00Z",
        ]
    )
    assert later.read_bytes() != outputs[0]


def test_options_flagged_selected_and_no_appendix(analysed_case, tmp_path):
    source, _folder, _sha = analysed_case
    case_path = copy_case(source, tmp_path / "case.osc")
    with Case.open(case_path) as case:
        flagged = ReportBuilder(
            case, ReportOptions(scope="flagged", audit_appendix=False, generated_at=GENERATED)
        ).write(tmp_path / "flagged.pdf")
        chosen = ReportBuilder(
            case, ReportOptions(scope="selected", item_ids=[2], generated_at=GENERATED)
        ).write(tmp_path / "one.pdf")
    text, _ = pdf_text(tmp_path / "flagged.pdf")
    assert "Appendix: audit log" not in text
    # the PNGs (no camera metadata) and the broken file are flagged; the camera JPEG is not
    assert "scene_0.png" in text and "camera.jpg" not in text
    assert flagged.items == 5
    text, _ = pdf_text(tmp_path / "one.pdf")
    assert chosen.items == 1 and "Item 2:" in text and "Item 1:" not in text


def test_report_without_results_and_with_changed_evidence(tmp_path, capsys):
    folder = tmp_path / "ev"
    folder.mkdir()
    image = imagegen.save(folder / "only.png", "PNG", size=(120, 90))
    case_path = tmp_path / "case.osc"
    main(["case", "new", str(case_path), "--number", "9", "--title", "t", "--examiner", "e"])
    main(["import", str(case_path), str(folder)])
    out = tmp_path / "r.pdf"
    assert main(["report", str(case_path), "-o", str(out)]) == 0
    text, _ = pdf_text(out)
    assert "No item in this report has a detector result" in text
    image.write_bytes(image.read_bytes() + b"changed")
    capsys.readouterr()
    assert main(["report", str(case_path), "-o", str(out)]) == 1
    text, _ = pdf_text(out)
    assert "PROBLEMS FOUND" in text and "CHANGED" in text
    assert "integrity check found problems" in capsys.readouterr().err
    # the changed file is a row of the integrity section's table: item, problem, path
    section = text[text.index("Evidence files that changed or could not be read") :]
    assert re.search(r"\b1\s+CHANGED\s+/", section) and "SHA-256 now" in section


def test_bad_report_arguments(tmp_path):
    case_path = tmp_path / "case.osc"
    main(["case", "new", str(case_path), "--number", "9", "--title", "t", "--examiner", "e"])
    assert (
        main(
            ["report", str(case_path), "-o", str(tmp_path / "x.pdf"), "--generated-at", "yesterday"]
        )
        == 2
    )
    assert main(["report", str(case_path), "-o", str(tmp_path / "missing" / "x.pdf")]) == 2


def _case_with_images(tmp_path, count=1, description=""):
    folder = tmp_path / "ev"
    folder.mkdir()
    for i in range(count):
        imagegen.save(folder / f"img_{i}.png", "PNG", size=(160, 120), seed=i)
    case_path = tmp_path / "case.osc"
    with Case.create(
        case_path, number="L-1", title="Long", examiner="e", description=description
    ) as case:
        ImportJob(case, [str(folder)]).run()
    return case_path


def _set_notes(case_path, notes: str) -> None:
    """Straight into the case file: a crafted case is not bound by the entry limit."""
    from sqlalchemy import update

    from opensight_desktop.case.models import EvidenceItem

    with Case.open(case_path) as case, case.write() as session:
        session.execute(update(EvidenceItem).values(notes=notes))


@pytest.mark.parametrize(
    ("notes", "description"),
    [
        ("word " * 1800 + "END-OF-TEXT", ""),  # 9 KB of notes
        ("\n".join(f"line {i}" for i in range(90)) + "\nEND-OF-TEXT", ""),
        ("x" * 20000 + " END-OF-TEXT", ""),  # one unbroken word
        ("", "desc " * 2000 + "END-OF-TEXT"),  # 10 KB case description
    ],
    ids=["9kb-notes", "90-lines", "unbroken", "10kb-description"],
)
def test_long_text_flows_across_pages(tmp_path, notes, description):
    case_path = _case_with_images(tmp_path, description=description)
    if notes:
        _set_notes(case_path, notes)
    out = tmp_path / "r.pdf"
    with Case.open(case_path) as case:
        result = ReportBuilder(case, ReportOptions(generated_at=GENERATED)).write(out)
    text, pages = pdf_text(out)
    assert result.pages == pages and "END-OF-TEXT" in squash(text)
    assert "line 89" in text or not notes.startswith("line")


def test_five_megabyte_notes_finish_quickly_and_say_what_is_left_out(tmp_path):
    import time

    case_path = _case_with_images(tmp_path)
    _set_notes(case_path, "word\n" * 1_000_000)
    started = time.monotonic()
    with Case.open(case_path) as case:
        ReportBuilder(case, ReportOptions(generated_at=GENERATED)).write(tmp_path / "r.pdf")
    assert time.monotonic() - started < 60
    text, _ = pdf_text(tmp_path / "r.pdf")
    assert "continues for 4,800,000 more characters" in re.sub(r"\s+", " ", text)


def test_unusable_thumbnails_get_a_placeholder_and_a_finding(tmp_path, capsys):
    from sqlalchemy import update

    from opensight_desktop.case.models import Thumbnail

    case_path = _case_with_images(tmp_path, count=2)
    png = io.BytesIO()
    imagegen.noise_image(64, 48).save(png, "PNG")
    with Case.open(case_path) as case, case.write() as session:
        session.execute(update(Thumbnail).where(Thumbnail.item_id == 1).values(jpeg=b"\x00" * 500))
        session.execute(update(Thumbnail).where(Thumbnail.item_id == 2).values(jpeg=png.getvalue()))
    out = tmp_path / "r.pdf"
    capsys.readouterr()
    assert main(["report", str(case_path), "-o", str(out)]) == 1  # completed, with findings
    err = capsys.readouterr().err
    assert "Item 1: the stored thumbnail is unusable" in err and "not a JPEG" in err
    text, _ = pdf_text(out)
    spaced = re.sub(r"\s+", " ", text)
    assert spaced.count("Picture not shown") == 2  # where each item is shown
    assert "Findings while making this report" in spaced and "2 finding(s)" in spaced
    assert "Item 2: the stored thumbnail is unusable (not a JPEG image but PNG)" in spaced
    assert sum(len(page.images) for page in PdfReader(str(out)).pages) == 0  # no noise


def test_selection_and_generation_time_are_checked(tmp_path, capsys):
    case_path = _case_with_images(tmp_path)
    out = tmp_path / "r.pdf"
    for extra, words in (
        (["--items", "999"], "no item 999"),
        (["--items", "1,998,999"], "no items 998, 999"),
        (["--items", ""], "at least one item"),
        (["--generated-at", "0001-01-01T00:00:00+05:00"], "generation time"),
        (["--generated-at", "9999-12-31T23:00:00-05:00"], "generation time"),
    ):
        capsys.readouterr()
        assert main(["report", str(case_path), "-o", str(out), *extra]) == 2, extra
        err = capsys.readouterr().err
        assert words in err and err.count("\n") == 1, err
        assert not out.exists()


def test_non_finite_score_is_shown_as_such(analysed_case, tmp_path):
    from sqlalchemy import update

    from opensight_desktop.case.models import DetectionResult

    source, _folder, _sha = analysed_case
    case_path = copy_case(source, tmp_path / "case.osc")
    with Case.open(case_path) as case:
        with case.write() as session:
            session.execute(update(DetectionResult).values(probability=float("inf")))
        result = ReportBuilder(case, ReportOptions(generated_at=GENERATED)).write(
            tmp_path / "r.pdf"
        )
        items = json.loads(json.dumps(export_document(case), allow_nan=False))["items"]
    assert all(i["detection"] is None or i["detection"]["probability_fake"] is None for i in items)
    text, _ = pdf_text(tmp_path / "r.pdf")
    assert "not a finite number" in text
    assert any("not a finite number" in finding for finding in result.findings)


def test_small_images_say_they_were_upscaled_for_scoring(analysed_case, tmp_path):
    """Images below the model's input (384 px) are enlarged before scoring: the result
    stores the factor, the export and the PDF item page say so (issue 14)."""
    source, _folder, _model = analysed_case
    case_path = copy_case(source, tmp_path / "case.osc")
    out = tmp_path / "report.pdf"
    with Case.open(case_path) as case:
        ReportBuilder(case, ReportOptions(generated_at=GENERATED)).write(out)
        records = {r["file_name"]: r for r in export_document(case)["items"]}
    small = records["scene_0.png"]["detection"]  # 300 x 200: shorter side 200 -> 440
    assert small["upscale"] == 2.2
    assert small["scoring_note"] == "upscaled 2.2 times before scoring: the score is less reliable"
    camera = records["camera.jpg"]["detection"]  # 640 x 480: larger than the input
    assert camera["upscale"] == pytest.approx(440 / 480, abs=1e-3)
    assert camera["scoring_note"] is None
    text, _pages = pdf_text(out)
    assert squash(text).count(squash("Upscaled 2.2 times before scoring")) == 4


def test_scoring_note_of_geometry_records():
    from opensight_desktop.detector.geometry import Geometry, scoring_note_of

    tiny = Geometry((100, 68), (647, 440), (132, 28, 516, 412))  # 440 / 68
    assert tiny.below_input_size and tiny.upscale == pytest.approx(6.4706, abs=1e-4)
    assert tiny.scoring_note() == "upscaled 6.5 times before scoring: the score is less reliable"
    assert tiny.as_record()["upscale"] == 6.471  # stored with each result
    assert scoring_note_of(tiny.as_record()) == (6.471, tiny.scoring_note())
    # 400 x 300: enlarged 1.47 times yet wider than the input; its height is not
    assert scoring_note_of(Geometry((400, 300), (586, 440), (101, 28, 485, 412)).as_record())[1]
    # a crafted case file: unreadable geometry is no note, never an error
    for crafted in (
        None,
        [],
        {"original": [0, 0], "resized": [1, 1], "crop_box": [0, 0, 1, 1]},
        {"original": ["a"], "resized": [1], "crop_box": [1]},
        {"original": [1, 2]},
    ):
        assert scoring_note_of(crafted) == (None, None)


# -- model provenance ---------------------------------------------------------------------


def _report(case_path, out, **options):
    with Case.open(case_path) as case:
        result = ReportBuilder(case, ReportOptions(generated_at=GENERATED, **options)).write(out)
        document = export_document(case)
    return result, document


def test_unpublished_weights_are_said_on_cover_method_items_and_every_page(analysed_case, tmp_path):
    """Before, random weights' scores were "scored by the Community Forensics detector", the
    authors' 0.984 was quoted for them and the published hash was "not checked here"."""
    source, _folder, _sha = analysed_case
    out = tmp_path / "r.pdf"
    _, document = _report(copy_case(source, tmp_path / "case.osc"), out)
    reader = PdfReader(str(out))
    pages = [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]
    spaced = " ".join(pages)
    notice = "Scores in this report come from weights that match no published Community Forensics"
    assert all(notice in page for page in pages)  # every page, the summary table's included
    cover = pages[0]
    assert "DETECTOR WEIGHTS: 5 of the 5 score(s)" in cover and "do not apply" in cover
    assert "scored by the Community Forensics detector" not in spaced
    assert "not checked here" not in spaced
    unpublished = "The weights match no published Community Forensics release: the published"
    method = spaced[spaced.index("Each image was scored") : spaced.index("A detector score is")]
    assert "Published release" in method and unpublished in method
    limitations = spaced[spaced.index("A detector score is") : spaced.index("The model sees")]
    assert "5 of the 5 score(s)" in limitations and "How accurate those weights are" in limitations
    items = spaced[spaced.index("Items") :]
    assert items.count(unpublished) >= 5  # beside each score
    detections = [i["detection"] for i in document["items"] if i["detection"]]
    assert detections and all(d["model_published_release"] is None for d in detections)


def test_published_weights_are_named_with_their_release(analysed_case, tmp_path, monkeypatch):
    from opensight_desktop.detector import store as store_module

    source, _folder, sha = analysed_case
    label = "authors' test release (model.safetensors)"
    profiles = {"published_hashes": [{"sha256": sha, "file": "x", "label": label}]}
    monkeypatch.setattr(store_module, "model_profiles", lambda: profiles)
    out = tmp_path / "r.pdf"
    _, document = _report(copy_case(source, tmp_path / "case.osc"), out)
    spaced = re.sub(r"\s+", " ", pdf_text(out)[0])
    assert f"The weights match the published Community Forensics release: {label}" in spaced
    assert "match no published" not in spaced and "DETECTOR WEIGHTS" not in spaced
    detections = [i["detection"] for i in document["items"] if i["detection"]]
    assert all(d["model_published_release"] == label for d in detections)


# -- the audit appendix -------------------------------------------------------------------


def _text_runs(path, first_page: int):
    """(page, x0, x1, y, text) of every text run from ``first_page`` on, the width from the
    font's metrics: what is drawn where."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from opensight_desktop.report import pdf_parts

    pdf_parts.register_fonts()
    runs = []
    for number, page in enumerate(PdfReader(str(path)).pages[first_page:], start=first_page):
        # A run that follows another in the same text line (a change of font) is reported
        # at that line's start: it begins where the one before it ends.
        last: list[float] = []

        def visit(text, cm, tm, font, size, number=number, last=last):
            text = text.strip("\n")
            if not text.strip() or not font:
                return
            name = str(font["/BaseFont"]).split("+")[-1]
            x = cm[4] + tm[4] * cm[0]
            y = round(cm[5] + tm[5] * cm[3], 1)
            start = x
            if last and last[:2] == [x, y]:
                start = last[2]
            end = start + stringWidth(text, name, size) * cm[0] * tm[0]
            last[:] = [x, y, end]
            runs.append((number, start, end, y, text))

        page.extract_text(visitor_text=visit)
    return runs


def test_audit_appendix_is_complete_and_nothing_overprints(tmp_path):
    """Before, the time overprinted the user column and details were cut at 400 characters
    with "…": an earlier report's SHA-256 could not be read."""
    from opensight_desktop.case import review

    case_path = _case_with_images(tmp_path)
    earlier = tmp_path / "earlier.pdf"
    first, _ = _report(case_path, earlier)
    with Case.open(case_path) as case:
        review.set_notes(case, 1, "word " * 400 + "FIRST-NOTES-END")  # 2 KB: flows
        review.set_notes(case, 1, "short")
    out = tmp_path / "r.pdf"
    _report(case_path, out)
    reader = PdfReader(str(out))
    start = next(i for i, p in enumerate(reader.pages) if "Appendix: audit log" in p.extract_text())
    appendix = squash("".join(p.extract_text() for p in reader.pages[start:]))
    assert first.sha256 in appendix and "FIRST-NOTES-END" in appendix
    assert appendix.count("FIRST-NOTES-END") == 2  # the first note's text and the second's "from"
    lines: dict[tuple[int, float], list[tuple[float, float, str]]] = {}
    for page, x0, x1, y, text in _text_runs(out, start):
        lines.setdefault((page, y), []).append((x0, x1, text))
    assert lines
    for (page, _y), runs in lines.items():
        for (_, end, a), (begin, _, b) in itertools.pairwise(sorted(runs)):
            assert end <= begin + 0.5, f"page {page + 1}: {a!r} runs into {b!r}"


def test_reportlab_runs_with_its_c_accelerators():
    """rl_accel (a dependency) is ReportLab's C code for number formatting, string widths
    and stream encoding; without it the same work runs in Python (the 100,000-item
    summary's layout: 15 s instead of 11 s). A bundle that lost it would still work."""
    import types

    from reportlab.lib import rl_accel

    assert isinstance(rl_accel.fp_str, types.BuiltinFunctionType)


def test_a_summary_counts_per_item_entries_in_runs_and_lists_every_other_entry(tmp_path):
    """Before, a summary's appendix printed every per-item entry: a 5,000-file import gave
    1,760 pages and 574 MB, 100,000 files over 8 GB. Now runs of one per-item action are
    one counted row; every other entry stays complete, and scope "all" lists each."""
    from opensight_desktop.case import review

    case_path = _case_with_images(tmp_path, count=12)
    with Case.open(case_path) as case:
        review.set_notes(case, 3, "NOTE-BETWEEN-RUNS")
    folder = tmp_path / "more"
    folder.mkdir()
    imagegen.save(folder / "late.png", "PNG", size=(160, 120), seed=99)
    with Case.open(case_path) as case:
        ImportJob(case, [str(folder)]).run()
    summary = tmp_path / "summary.pdf"
    _report(case_path, summary, scope="summary")
    text, _ = pdf_text(summary)
    appendix = re.sub(r"\s+", " ", text[text.index("Appendix: audit log") :])
    assert appendix.count("item.added × ") == 2  # two imports, a note between them
    assert "item.added × 12 · " in appendix and "items 1–12 · by e (" in appendix
    assert "item.added × 1 · " in appendix and "item 13 · by e (" in appendix
    assert "NOTE-BETWEEN-RUNS" in appendix and appendix.count("import.completed") == 2
    assert "item.added · " not in appendix  # no per-item entry on its own
    full = tmp_path / "all.pdf"
    _report(case_path, full)
    text, _ = pdf_text(full)
    appendix = re.sub(r"\s+", " ", text[text.index("Appendix: audit log") :])
    assert appendix.count("item.added · ") == 13 and "item.added × " not in appendix
    # a crafted case: text where an entry's item number belongs is shown, not a crash
    with sqlite3.connect(case_path) as db:
        guards = db.execute(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'trigger' AND tbl_name = 'audit_entry'"
        ).fetchall()
        for name, _sql in guards:
            db.execute(f"DROP TRIGGER {name}")
        db.execute("UPDATE audit_entry SET item_id = 'x' WHERE action = 'item.added' AND seq = 5")
        for _name, sql in guards:
            db.execute(sql)
    _report(case_path, summary, scope="summary")
    text, _ = pdf_text(summary)
    assert "PROBLEMS FOUND" in text and "item.added × " in text


def test_audit_entries_name_the_examiner_and_the_items_file(tmp_path, monkeypatch):
    """Before, entries named only the operating-system account, and items by number."""
    from opensight_desktop.case import audit, review

    case_path = _case_with_images(tmp_path)  # examiner "e"
    monkeypatch.setenv("OPENSIGHT_EXAMINER", "  Insp.   Kim ")
    with Case.open(case_path) as case:
        review.set_review_state(case, [1], "follow_up")
    audit.set_acting_examiner("Dr. GUI Choice")
    try:
        with Case.open(case_path) as case:
            review.set_tags(case, 1, ["seen"])
    finally:
        audit.set_acting_examiner(None)
    with Case.open(case_path) as case, case.read() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        assert verify_case(case, record=False).ok
    named = {(e.action, json.loads(e.details)["acting_examiner"]) for e in entries}
    assert ("case.created", "e") in named and ("item.added", "e") in named
    assert ("item.review_state", "Insp. Kim") in named and ("item.tags", "Dr. GUI Choice") in named
    for entry in entries:
        if entry.item_id is not None:
            assert json.loads(entry.details)["file_name"] == "img_0.png", entry.action
    out = tmp_path / "r.pdf"
    _report(case_path, out)
    spaced = re.sub(r"\s+", " ", pdf_text(out)[0])
    assert "item.tags · " in spaced and "item 1 (img_0.png) · by Dr. GUI Choice (" in spaced


# -- items: integrity and review ----------------------------------------------------------


def test_items_whose_evidence_changed_or_vanished_carry_a_red_line(tmp_path, capsys):
    """Before, their pages looked like any other; only the cover said something failed."""
    case_path = _case_with_images(tmp_path, count=3)
    evidence = tmp_path / "ev"
    (evidence / "img_0.png").write_bytes((evidence / "img_0.png").read_bytes() + b"changed")
    (evidence / "img_1.png").unlink()
    out = tmp_path / "r.pdf"
    assert main(["report", str(case_path), "-o", str(out)]) == 1
    spaced = re.sub(r"\s+", " ", pdf_text(out)[0])
    items = spaced[spaced.index("Item 1: img_0.png") :]
    item1, rest = items.split("Item 2: img_1.png")
    item2, item3 = rest.split("Item 3: img_2.png")
    assert "INTEGRITY: the evidence file" in item1 and "has CHANGED since it was imported" in item1
    assert "INTEGRITY: the evidence file" in item2 and "is MISSING" in item2
    assert "INTEGRITY" not in item3.split("Appendix")[0]


def test_the_review_state_is_the_examiners_with_who_and_when(tmp_path, monkeypatch):
    """Before, "Review: Likely generated" read like the detector's verdict."""
    from opensight_desktop.case import review

    case_path = _case_with_images(tmp_path, count=2)
    monkeypatch.setenv("OPENSIGHT_EXAMINER", "Insp. Kim")
    with Case.open(case_path) as case:
        review.set_review_state(case, [1], "likely_generated")
    out = tmp_path / "r.pdf"
    _report(case_path, out)
    spaced = re.sub(r"\s+", " ", pdf_text(out)[0])
    item1 = spaced[spaced.index("Item 1:") : spaced.index("Item 2:")]
    assert re.search(
        r"Examiner's review Likely generated \(set by Insp\. Kim \(\S+@\S+\), "
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)",
        item1,
    ), item1
    assert "Examiner's review Not reviewed" in spaced[spaced.index("Item 2:") :]


# -- scopes -------------------------------------------------------------------------------


def test_scopes_by_review_state_summary_and_chosen_items(tmp_path, capsys, monkeypatch):
    from opensight_desktop.case import review
    from opensight_desktop.report import pdf

    case_path = _case_with_images(tmp_path, count=4)
    with Case.open(case_path) as case:
        review.set_review_state(case, [2], "follow_up")
        review.set_review_state(case, [3], "likely_generated")

    def report(*extra):
        out = tmp_path / "r.pdf"
        capsys.readouterr()
        code = main(["report", str(case_path), "-o", str(out), "--no-audit-log", *extra])
        text = re.sub(r"\s+", " ", pdf_text(out)[0]) if code == 0 else ""
        return code, text, [n for n in range(1, 5) if f"Item {n}: img_{n - 1}.png" in text]

    code, text, shown = report("--scope", "reviewed")
    assert code == 0 and shown == [2, 3] and "reviewed" in text
    code, text, shown = report("--review-state", "follow_up")
    assert code == 0 and shown == [2] and "in the review state(s) Follow up" in text
    code, text, shown = report("--scope", "reviewed", "--items", "1,3")
    assert code == 0 and shown == [3]
    monkeypatch.setattr(pdf, "SELECTION_IN_QUERY", 1)  # a long selection (the GUI's filter)
    assert report("--items", "1,3")[2] == [1, 3]
    assert report("--scope", "reviewed", "--items", "1,3")[2] == [3]
    code, text, shown = report("--scope", "summary")
    assert (
        code == 0
        and shown == []
        and "summary only" in text
        and "Items" not in text.split("Integrity at report time")[-1]
    )
    assert all(f"img_{n}.png" in text for n in range(4))  # the summary table lists every item
    code, _, _ = report("--review-state", "likely-generated")  # the verdict, not a review state
    assert code == 2 and "unknown review state 'likely-generated'" in capsys.readouterr().err


# -- verify-report ------------------------------------------------------------------------


def test_verify_report_checks_the_file_against_the_log(tmp_path, capsys):
    """Before, the README promised that regenerating a report from the case gives the same
    bytes; a later copy of the case never does (it holds at least the report's entry)."""
    from opensight_desktop.case import review

    case_path = _case_with_images(tmp_path, count=2)
    out = tmp_path / "r.pdf"
    args = ["--scope", "flagged", "--generated-at", "2026-11-24T20:00:00Z"]
    assert main(["report", str(case_path), "-o", str(out), *args]) == 0
    with Case.open(case_path) as case:  # the case goes on changing
        review.set_review_state(case, [1], "follow_up")
    capsys.readouterr()
    assert main(["verify-report", str(case_path), str(out)]) == 0
    printed = capsys.readouterr().out
    assert hashlib.sha256(out.read_bytes()).hexdigest() in printed
    assert "RECORDED by audit entry" in printed and "by e (" in printed
    assert "scope flagged" in printed and "2026-11-24T20:00:00" in printed
    assert "Result: VERIFIED" in printed
    again = tmp_path / "again.pdf"
    assert main(["report", str(case_path), "-o", str(again), *args]) == 0
    assert again.read_bytes() != out.read_bytes()  # what the README now says
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(out.read_bytes().replace(b"Report test", b"Report tost") + b"\n")
    capsys.readouterr()
    assert main(["verify-report", str(case_path), str(changed)]) == 1
    assert "NOT RECORDED" in capsys.readouterr().out
    assert main(["verify-report", str(case_path), str(tmp_path / "none.pdf")]) == 2


def test_verify_report_needs_an_intact_signed_chain(tmp_path, capsys):
    import sqlite3

    case_path = _case_with_images(tmp_path)
    out = tmp_path / "r.pdf"
    assert main(["report", str(case_path), "-o", str(out)]) == 0
    conn = sqlite3.connect(case_path)
    conn.execute("DROP TRIGGER audit_entry_no_update")  # as anyone with the file can
    conn.execute(
        "UPDATE audit_entry SET details = replace(details, '\"pages\":', '\"pages\": ') "
        "WHERE action = 'report.generated'"
    )
    conn.commit()
    conn.close()
    capsys.readouterr()
    assert main(["verify-report", str(case_path), str(out)]) == 1
    printed = capsys.readouterr().out
    assert "RECORDED by audit entry" in printed and "BROKEN at entry" in printed
    assert "Result: NOT VERIFIED" in printed


def test_a_long_item_table_is_printed_in_page_sized_tables_and_lists_every_item(tmp_path):
    """Before, the summary's item table was one Table: ReportLab lays the rest of a table
    out again at every page, so its cost grew with the square of the items (30,000: 85 s,
    100,000: stopped after 26 min at 4.6 GB). Now tables of TABLE_CHUNK rows, every item
    still listed."""
    import numpy as np

    from opensight_desktop.benchmarks.triage_bench import make_case
    from opensight_desktop.report import pdf

    items = pdf.TABLE_CHUNK * 2 + 7
    path = tmp_path / "long.osc"
    make_case(path, items, np.random.default_rng(3))
    with Case.open(path) as case:
        builder = ReportBuilder(case, ReportOptions(scope="summary", audit_appendix=False))
        (rows,) = pdf._tables([["h"], *([str(i)] for i in range(items))], [20])
        assert isinstance(rows, pdf._TableRows)
        story_tables = [rows._chunk(start) for start in range(0, items, pdf.TABLE_CHUNK)]
        assert len(story_tables) == 3
        # rows made from data only when their table is made
        (lazy,) = pdf._tables([["h"], *range(items)], [20], make_row=lambda i: [f"row {i}"])
        last = lazy._chunk(2 * pdf.TABLE_CHUNK)
        assert last._cellvalues[-1] == [f"row {items - 1}"] and len(last._cellvalues) == 8
        assert all(len(table._cellvalues) <= pdf.TABLE_CHUNK + 1 for table in story_tables)
        out = tmp_path / "long.pdf"
        builder.write(out)
    text = "".join(page.extract_text() for page in PdfReader(out).pages)
    listed = set(re.findall(r"\bimg(\d+)\.jpg", text))
    assert len(listed) == items
