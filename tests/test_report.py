"""The PDF report: content read back from the PDF, determinism, options, integrity."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

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
