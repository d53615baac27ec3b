"""Reports and exports never replace evidence, the case or the model store (issue 12).

Each refused command must exit 2 with one line on stderr, before any work, leaving the
original's bytes and the case file exactly as they were.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from opensight_desktop.case.store import Case
from opensight_desktop.cli import main
from opensight_desktop.errors import UsageError
from opensight_desktop.paths import models_dir
from opensight_desktop.report import export as export_module
from opensight_desktop.report.export import export_case
from opensight_desktop.report.pdf import ReportBuilder, ReportOptions
from tests import imagegen


@pytest.fixture
def setup(tmp_path):
    """A closed case that imported the folder ev/ (a JPEG, a PNG, and ev/sub/c.png)."""
    folder = tmp_path / "ev"
    (folder / "sub").mkdir(parents=True)
    imagegen.jpeg_with_exif(folder / "a.jpg")
    imagegen.save(folder / "b.png", "PNG")
    imagegen.save(folder / "sub" / "c.png", "PNG", seed=3)
    case_path = tmp_path / "case.osc"
    assert (
        main(["case", "new", str(case_path), "--number", "1", "--title", "t", "--examiner", "e"])
        == 0
    )
    assert main(["import", str(case_path), str(folder)]) == 0
    return case_path, folder


def digests(*paths: Path) -> dict[str, str | None]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None for p in paths
    }


def case_files(case_path: Path) -> list[Path]:
    return [case_path, case_path.with_name(case_path.name + ".lock")]


def wal_is_empty(case_path: Path) -> bool:
    # Opening a case may leave an empty log behind (SQLite's read-only probe); never data.
    wal = case_path.with_name(case_path.name + "-wal")
    return not wal.exists() or wal.stat().st_size == 0


def refused(capsys, args: list[str], *protected: Path) -> str:
    """Run the command; assert exit 2, one line on stderr, nothing protected changed."""
    before = digests(*protected)
    capsys.readouterr()
    assert main(args) == 2, args
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert digests(*protected) == before
    for path in protected:
        if path.suffix == ".osc":
            assert wal_is_empty(path)
    return err


def commands(case_path: Path, output: str) -> list[list[str]]:
    return [
        ["report", str(case_path), "-o", output],
        ["export", str(case_path), "--format", "json", "-o", output],
        ["export", str(case_path), "--format", "csv", "-o", output],
    ]


def test_outputs_never_replace_an_evidence_file(setup, capsys):
    case_path, folder = setup
    protected = [folder / "a.jpg", folder / "b.png", *case_files(case_path)]
    for target in (folder / "a.jpg", folder / "sub" / "c.png"):
        for args in commands(case_path, str(target)):
            err = refused(capsys, args, *protected, folder / "sub" / "c.png")
            assert "will not write" in err and str(target) in err
    assert not list(folder.rglob("*.part"))  # not even a temporary file in the evidence


def test_outputs_never_land_inside_an_imported_folder(setup, capsys):
    case_path, folder = setup
    for target in (folder / "new.pdf", folder / "sub" / "new.json", folder / "fresh" / "x.pdf"):
        (folder / "fresh").mkdir(exist_ok=True)
        for args in commands(case_path, str(target)):
            err = refused(capsys, args, *case_files(case_path))
            assert "which this case imported from" in err
            assert not target.exists()


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal", ".lock"])
def test_outputs_never_replace_the_case_or_its_companions(setup, capsys, suffix):
    case_path, _folder = setup
    target = case_path.with_name(case_path.name + suffix)
    for args in commands(case_path, str(target)):
        err = refused(capsys, args, *case_files(case_path))
        assert "case file" in err
    assert main(["verify", str(case_path)]) == 0  # the case still opens and verifies


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges there")
def test_links_to_evidence_or_the_case_are_seen_through(setup, tmp_path, capsys):
    case_path, folder = setup
    out = tmp_path / "out"
    out.mkdir()
    (out / "soft.jpg").symlink_to(folder / "a.jpg")
    os.link(folder / "a.jpg", out / "hard.jpg")
    os.link(case_path, out / "hard.osc")
    (out / "evlink").symlink_to(folder, target_is_directory=True)
    protected = [folder / "a.jpg", *case_files(case_path)]
    for target in ("soft.jpg", "hard.jpg", "hard.osc", "evlink/new.pdf"):
        for args in commands(case_path, str(out / target)):
            refused(capsys, args, *protected, out / "hard.osc")
    assert (out / "soft.jpg").is_symlink() and not (out / "evlink" / "new.pdf").exists()


def test_the_model_store_and_backup_copies_are_protected(setup, capsys):
    case_path, _folder = setup
    store = models_dir()
    store.mkdir(parents=True)
    backup = case_path.with_name(case_path.name + ".schema0001-20260101T000000Z.bak")
    backup.write_bytes(b"backup")
    for target in (store / "x.json", backup):
        for args in commands(case_path, str(target)):
            refused(capsys, args, backup, *case_files(case_path))
    assert not (store / "x.json").exists()


def test_folder_empty_and_special_outputs_are_usage_errors(setup, tmp_path, capsys):
    case_path, _folder = setup
    cases = [
        (str(tmp_path), "not a folder"),
        (str(tmp_path / "newdir") + os.sep, "not a folder"),
        ("", "empty"),
        (str(tmp_path / "missing" / "x.pdf"), "does not exist"),
    ]
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
        cases.append((str(tmp_path / "fifo"), "special file"))
    for target, words in cases:
        for args in commands(case_path, target):
            assert words in refused(capsys, args, *case_files(case_path)), target


def test_engine_refuses_before_any_work(setup, monkeypatch):
    """The GUI calls the same functions: the check is in them, before re-hashing."""
    case_path, folder = setup
    import opensight_desktop.report.pdf as pdf

    def no_work(*args, **kwargs):
        raise AssertionError("work started before the output was checked")

    monkeypatch.setattr(pdf, "verify_case", no_work)
    monkeypatch.setattr(export_module, "export_document", no_work)
    with Case.open(case_path) as case:
        with pytest.raises(UsageError):
            ReportBuilder(case, ReportOptions()).write(folder / "a.jpg")
        with pytest.raises(UsageError):
            export_case(case, "csv", case_path)
        with case.read() as session:
            actions = session.connection().exec_driver_sql("SELECT action FROM audit_entry")
            assert "case.exported" not in {row[0] for row in actions}


def test_a_link_to_evidence_made_during_the_work_is_still_refused(setup, tmp_path, monkeypatch):
    """The path is checked again just before the rename that would replace it."""
    case_path, folder = setup
    target = tmp_path / "export.json"
    original = export_module.export_document
    before = hashlib.sha256((folder / "a.jpg").read_bytes()).hexdigest()

    def swap_in_a_hard_link(case):
        document = original(case)
        os.link(folder / "a.jpg", target)  # the output now names the evidence's inode
        return document

    monkeypatch.setattr(export_module, "export_document", swap_in_a_hard_link)
    with Case.open(case_path) as case, pytest.raises(UsageError, match="evidence file"):
        export_case(case, "json", target)
    for path in (folder / "a.jpg", target):  # the evidence, and the link to it
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not list(tmp_path.glob(".export.json.*"))


def test_ordinary_outputs_still_work(setup, tmp_path, capsys):
    case_path, _folder = setup
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.json").write_text("previous export")
    for args in (
        ["export", str(case_path), "--format", "json", "-o", str(out / "old.json")],
        ["report", str(case_path), "-o", str(out / "r.pdf")],
        ["export", str(case_path), "--format", "csv", "-o", str(out / "e.csv")],
    ):
        assert main(args) == 0, capsys.readouterr().err
    assert (out / "old.json").read_text().startswith("{")  # replacing an old output is fine
