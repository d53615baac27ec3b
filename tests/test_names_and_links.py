"""Where a file was found: names with characters that do not show (zero-width, bidirectional
controls) are shown as ⟨U+XXXX⟩ everywhere people read them and flagged; symbolic links
that lead outside the imported folder are followed, recorded and flagged with their target."""

from __future__ import annotations

import csv
import json
import os
import sys

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from opensight_desktop.case.models import EvidenceFile, EvidenceItem
from opensight_desktop.case.views import item_views
from opensight_desktop.detector.verdict import DEFAULT_BANDS
from opensight_desktop.metadata.flags import HIDDEN_CHARACTERS, LINK_OUTSIDE_IMPORT
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.report.export import export_case
from opensight_desktop.report.pdf import ReportBuilder, ReportOptions
from opensight_desktop.report.records import item_records
from opensight_desktop.textsafe import escape_hidden_in_json, visible
from tests import imagegen

ZWSP, RLO = "\u200b", "\u202e"
PLAIN, HIDDEN = "ab.png", f"a{ZWSP}b.png"


def test_visible_names_differ_where_the_names_differ():
    assert visible(PLAIN) == "ab.png"
    assert visible(HIDDEN) == "a⟨U+200B⟩b.png"
    assert visible(f"photo{RLO}gnp.exe") == "photo⟨U+202E⟩gnp.exe"
    assert visible("new\nline", keep="\n") == "new\nline"
    assert visible("Zoë – 写真 😀.png") == "Zoë – 写真 😀.png"  # visible text is left alone
    document = json.dumps({"name": f"{HIDDEN}{RLO}\U000e0041"}, ensure_ascii=False)
    escaped = escape_hidden_in_json(document)
    assert escaped == '{"name": "a\\u200bb.png\\u202e\\udb40\\udc41"}'
    assert json.loads(escaped) == json.loads(document)


@pytest.fixture
def look_alikes(case, tmp_path):
    """Two images whose names differ only by a zero-width space."""
    folder = tmp_path / "evidence"
    folder.mkdir()
    imagegen.save(folder / PLAIN, "PNG", size=(40, 30), seed=1)
    imagegen.save(folder / HIDDEN, "PNG", size=(40, 30), seed=2)
    summary = ImportJob(case, [str(folder)]).run()
    assert summary.imported == 2
    return case


def _records(case):
    with case.read() as session:
        return {record["file_name"]: record for record in item_records(session)}


def test_hidden_characters_are_flagged_at_import(look_alikes):
    records = _records(look_alikes)
    assert HIDDEN_CHARACTERS not in records[PLAIN]["flags"]
    assert HIDDEN_CHARACTERS in records[HIDDEN]["flags"]
    explanation = records[HIDDEN]["flag_explanations"][HIDDEN_CHARACTERS]
    assert "U+200B ZERO WIDTH SPACE" in explanation
    assert "a⟨U+200B⟩b.png" in explanation and ZWSP not in explanation


def test_exports_show_look_alike_names_apart(look_alikes, tmp_path):
    export_case(look_alikes, "csv", tmp_path / "out.csv")
    text = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert ZWSP not in text
    names = sorted(row["file_name"] for row in csv.DictReader(text.splitlines()))
    assert names == ["ab.png", "a⟨U+200B⟩b.png"]

    export_case(look_alikes, "json", tmp_path / "out.json")
    raw = (tmp_path / "out.json").read_text(encoding="utf-8")
    assert ZWSP not in raw and '"file_name": "a\\u200bb.png"' in raw
    parsed = json.loads(raw)  # the contract's true value
    assert sorted(item["file_name"] for item in parsed["items"]) == [PLAIN, HIDDEN]
    assert any(item["path"].endswith(HIDDEN) for item in parsed["items"])


def test_report_shows_look_alike_names_apart(look_alikes, tmp_path):
    result = ReportBuilder(look_alikes, ReportOptions()).write(tmp_path / "report.pdf")
    text = "".join(page.extract_text() for page in PdfReader(result.path).pages)
    assert "a⟨U+200B⟩b.png" in text
    assert ZWSP not in text


def test_cli_shows_hidden_characters(case_path, tmp_path, capsys):
    from opensight_desktop.case.store import Case
    from opensight_desktop.cli import main

    Case.create(case_path, number="1", title="t", examiner="e").close()
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / f"letter{RLO}gpj.jpg").write_text("not a picture")
    assert main(["import", str(case_path), str(folder)]) == 1  # an error item
    out = capsys.readouterr().out
    assert "letter⟨U+202E⟩gpj.jpg" in out and RLO not in out


def test_gui_shows_look_alike_names_apart(qtbot, look_alikes):
    from opensight_desktop.gui.evidence_model import COLUMN, EvidenceModel
    from opensight_desktop.gui.item_panel import ItemPanel

    model = EvidenceModel()
    model.set_case(look_alikes)
    shown = sorted(
        model.data(model.index(row, COLUMN["file_name"])) for row in range(model.rowCount())
    )
    assert shown == ["ab.png", "a⟨U+200B⟩b.png"]
    panel = ItemPanel()
    qtbot.addWidget(panel)
    with look_alikes.read() as session:
        (hidden,) = [item for item in item_views(session) if item.file_name == HIDDEN]
    panel.show_item(hidden, DEFAULT_BANDS)
    assert panel.title.text().startswith("a⟨U+200B⟩b.png")
    assert panel.path_label.toPlainText().endswith("a⟨U+200B⟩b.png")


def test_a_duplicate_location_with_hidden_characters_flags_the_item(case, tmp_path):
    folder = tmp_path / "evidence"
    folder.mkdir()
    image = imagegen.save(folder / PLAIN, "PNG", size=(40, 30), seed=1)
    (folder / HIDDEN).write_bytes(image.read_bytes())
    summary = ImportJob(case, [str(folder)]).run()
    assert (summary.imported, summary.duplicates) == (1, 1)
    ((_, record),) = _records(case).items()
    assert record["flags"].count(HIDDEN_CHARACTERS) == 1
    assert "a⟨U+200B⟩b.png" in record["flag_explanations"][HIDDEN_CHARACTERS]


needs_symlinks = pytest.mark.skipif(sys.platform == "win32", reason="POSIX symbolic links")


@needs_symlinks
def test_links_leaving_the_imported_folder_are_flagged_with_their_target(case, tmp_path):
    outside = tmp_path / "elsewhere"
    (outside / "sub").mkdir(parents=True)
    target = imagegen.save(outside / "real.png", "PNG", size=(40, 30), seed=1)
    imagegen.save(outside / "sub" / "deep.png", "PNG", size=(40, 30), seed=2)
    folder = tmp_path / "evidence"
    (folder / "inner").mkdir(parents=True)
    inside = imagegen.save(folder / "inner" / "own.png", "PNG", size=(40, 30), seed=3)
    os.symlink(target, folder / "out.png")  # a file link leaving the folder
    os.symlink(outside / "sub", folder / "linked")  # a folder link leaving it
    os.symlink(inside, folder / "in.png")  # stays inside: not flagged
    summary = ImportJob(case, [str(folder)]).run()
    assert (summary.imported, summary.duplicates) == (3, 1)
    with case.read() as session:
        flags = {
            file.path: {flag.code: flag.explanation for flag in file.item.flags}
            for file in session.scalars(select(EvidenceFile))
        }
    out = flags[str(folder / "out.png")][LINK_OUTSIDE_IMPORT]
    assert out == (
        f"Reached through a symbolic link that leads outside the imported folder {folder}: "
        f"{folder / 'out.png'} resolves to {target}, a file outside that folder."
    )
    assert (
        f"resolves to {outside / 'sub' / 'deep.png'}"
        in (flags[str(folder / "linked" / "deep.png")][LINK_OUTSIDE_IMPORT])
    )
    assert LINK_OUTSIDE_IMPORT not in flags[str(folder / "inner" / "own.png")]


@needs_symlinks
def test_a_link_given_by_itself_is_flagged_and_an_imported_link_folder_is_not(case, tmp_path):
    real_folder = tmp_path / "real"
    real_folder.mkdir()
    image = imagegen.save(real_folder / "a.png", "PNG", size=(40, 30), seed=1)
    os.symlink(real_folder, tmp_path / "alias")  # the imported folder itself is a link
    (tmp_path / "links").mkdir()
    os.symlink(image, tmp_path / "links" / "given.png")
    ImportJob(case, [str(tmp_path / "alias")]).run()
    ImportJob(case, [str(tmp_path / "links" / "given.png")]).run()
    with case.read() as session:
        item = session.scalars(select(EvidenceItem)).one()
        assert [f.path for f in item.files] == [
            str(tmp_path / "alias" / "a.png"),
            str(tmp_path / "links" / "given.png"),
        ]
        codes = [flag.code for flag in item.flags]
    assert codes.count(LINK_OUTSIDE_IMPORT) == 1  # from the link given by itself
