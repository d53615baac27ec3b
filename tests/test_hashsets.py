"""Hash sets: import of every format, lookups, matching at import and by ``match``, the
audit log and verify."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from opensight_desktop.case import audit
from opensight_desktop.case.integrity import describe, verify_case
from opensight_desktop.case.models import AuditEntry, EvidenceItem
from opensight_desktop.case.store import Case
from opensight_desktop.case.views import item_views
from opensight_desktop.cli import main
from opensight_desktop.errors import UsageError
from opensight_desktop.hashsets import formats
from opensight_desktop.hashsets.store import Lookup, import_set, list_sets
from opensight_desktop.pipeline.import_job import ImportJob
from opensight_desktop.pipeline.match_job import MatchJob
from tests import imagegen


def digests(path: Path) -> dict[str, str]:
    data = path.read_bytes()
    return {name: hashlib.new(name, data).hexdigest() for name in ("md5", "sha1", "sha256")}


def nsrl_db(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """A database shaped like NIST RDS v3 "minimal" (tables VERSION, MFG, OS, PKG, FILE;
    upper-case hex as NIST writes it); rows are (sha256, sha1, md5, file name)."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE VERSION (version TEXT, build_set TEXT, build_date TEXT,
                              release_date TEXT, description TEXT);
        CREATE TABLE MFG (manufacturer_id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE OS (operating_system_id INTEGER PRIMARY KEY, name TEXT, version TEXT,
                         manufacturer_id INTEGER);
        CREATE TABLE PKG (package_id INTEGER PRIMARY KEY, name TEXT, version TEXT,
                          operating_system_id INTEGER, manufacturer_id INTEGER,
                          language TEXT, application_type TEXT);
        CREATE TABLE FILE (sha256 VARCHAR NOT NULL, sha1 VARCHAR NOT NULL, md5 VARCHAR NOT NULL,
                           crc32 VARCHAR NOT NULL, file_name VARCHAR NOT NULL,
                           file_size INTEGER NOT NULL, package_id INTEGER NOT NULL);
        INSERT INTO VERSION VALUES ('2025.03.1', 'modern', '2025-03-01', '2025-03-15', 'minimal');
        INSERT INTO MFG VALUES (1, 'Example Corp');
        INSERT INTO OS VALUES (1, 'Example OS', '1', 1);
        INSERT INTO PKG VALUES (1, 'Example Suite', '1.0', 1, 1, 'English', 'Operating System');
        """
    )
    conn.executemany(
        "INSERT INTO FILE VALUES (?, ?, ?, '00000000', ?, 1, 1)",
        [(a.upper(), b.upper(), c.upper(), name) for a, b, c, name in rows],
    )
    conn.commit()
    conn.close()
    return path


@pytest.fixture
def images(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "evidence"
    folder.mkdir()
    return {
        name: imagegen.save(folder / f"{name}.png", "PNG", seed=seed)
        for seed, name in enumerate(["os_icon", "wanted", "plain"])
    }


def test_nsrl_rds_v3_database_is_read_as_it_comes(tmp_path, images):
    icon = digests(images["os_icon"])
    db = nsrl_db(
        tmp_path / "RDS_2025.03.1_modern_minimal.db",
        [
            (icon["sha256"], icon["sha1"], icon["md5"], "os_icon.png"),
            ("ab" * 32, "cd" * 20, "ef" * 16, "other.dll"),
        ],
    )
    before = db.read_bytes()
    info = import_set(db, "NSRL 2025.03.1", "known")
    assert (info.format, info.entries, info.kind) == ("nsrl", 2, "known")
    assert info.source_sha256 == hashlib.sha256(before).hexdigest()
    assert db.read_bytes() == before  # opened read-only and immutable: nothing beside it
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("RDS")) == [db.name]
    with Lookup() as lookup:
        found = lookup.find([bytes.fromhex(icon["sha256"]), bytes.fromhex("ab" * 32)])
    assert {len(v) for v in found.values()} == {1} and len(found) == 2


def test_sqlite_file_that_is_not_nsrl_is_refused(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE things (x)")
    conn.commit()
    conn.close()
    with pytest.raises(UsageError, match="not an NSRL RDS v3 database"):
        import_set(path, "x", "known")
    assert list_sets() == []


def vics_document(records: list[dict], version: str = "2.0", shape: str = "cases") -> dict:
    key, context = (
        ("@odata.context", "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/")
        if version == "2.0"
        else ("odata.metadata", "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml")
    )
    if shape == "cases":
        return {key: context + "$metadata#Cases", "value": [{"CaseID": "x", "Media": records}]}
    return {key: context + "$metadata#Media", "value": records}


@pytest.mark.parametrize(
    ("version", "shape"), [("1.3", "cases"), ("2.0", "cases"), ("2.0", "media")]
)
def test_vics_sets_keep_category_and_tags(tmp_path, version, shape):
    records = [
        {"MediaID": 1, "MD5": "AA" * 16, "SHA1": "BB" * 20, "Category": 1, "Tags": "a, b"},
        {"MediaID": 2, "MD5": "CC" * 16, "Category": 0},
        {"MediaID": 3, "Category": 2},  # no hash: nothing to look up
    ]
    path = tmp_path / "set.json"
    path.write_text(json.dumps(vics_document(records, version, shape)), encoding="utf-8")
    info = import_set(path, "VIC", "alert")
    assert (info.format, info.entries, info.hashes) == ("vics", 2, 3)
    with Lookup() as lookup:
        found = lookup.find([bytes.fromhex("bb" * 20), bytes.fromhex("cc" * 16)])
    first = found[bytes.fromhex("bb" * 20)][0]
    assert (first.category, first.tags) == ("1", "a, b")
    assert found[bytes.fromhex("cc" * 16)][0].category == "0"


def test_plain_list_detects_each_hash_by_length(tmp_path):
    path = tmp_path / "hashes.txt"
    path.write_text(
        "# comment\n" + "aa" * 16 + "\n" + "BB" * 20 + "\n\n" + "cc" * 32 + "  some file.jpg\n",
        encoding="utf-8",
    )
    assert formats.detect(path) == "list"
    info = import_set(path, "list", "known")
    assert info.entries == 3


def test_plain_list_with_a_bad_line_says_which(tmp_path):
    path = tmp_path / "hashes.txt"
    path.write_text("aa" * 16 + "\nnot a hash\n", encoding="utf-8")
    with pytest.raises(UsageError, match="line 2 is not an MD5, SHA-1 or SHA-256"):
        import_set(path, "bad", "known", "list")
    assert list_sets() == [] and not any(Path(p).suffix == ".part" for p in tmp_path.iterdir())


def test_csv_hash_columns_are_found_by_header(tmp_path):
    path = tmp_path / "hashes.csv"
    path.write_text(
        "File Name;SHA-256;Category\nx.jpg;" + "dd" * 32 + ";3\ny.jpg;;\n", encoding="utf-8"
    )
    assert formats.detect(path) == "csv"
    info = import_set(path, "csv", "alert")
    assert info.entries == 1
    with Lookup() as lookup:
        assert lookup.find([bytes.fromhex("dd" * 32)])[bytes.fromhex("dd" * 32)][0].category == "3"


def test_csv_without_a_hash_column_is_refused(tmp_path):
    path = tmp_path / "hashes.csv"
    path.write_text("name,size\nx,1\n", encoding="utf-8")
    with pytest.raises(UsageError, match="no hash column"):
        import_set(path, "csv", "alert", "csv")


def test_names_kinds_and_inputs_are_checked(tmp_path, capsys):
    path = tmp_path / "h.txt"
    path.write_text("aa" * 16 + "\n", encoding="utf-8")
    assert main(["hashset", "import", str(path), "--name", "Set", "--kind", "known"]) == 0
    assert main(["hashset", "import", str(path), "--name", "Set", "--kind", "known"]) == 2
    assert "already a hash set named 'Set'" in capsys.readouterr().err
    with pytest.raises(UsageError, match="kind is known or alert"):
        import_set(path, "Other", "maybe")
    with pytest.raises(UsageError, match="no such file"):
        import_set(tmp_path / "missing.txt", "Other", "known")
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(UsageError, match="no MD5, SHA-1 or SHA-256"):
        import_set(empty, "Empty", "known")
    broken = tmp_path / "broken.json"
    broken.write_text('{"value": [{"MD5": ', encoding="utf-8")
    assert main(["hashset", "import", str(broken), "--name", "B", "--kind", "alert"]) == 2
    assert "not a readable VICS JSON file" in capsys.readouterr().err
    assert main(["hashset", "list"]) == 0
    assert "Set  known  list  1 entries" in capsys.readouterr().out


def _sets(tmp_path: Path, images: dict[str, Path]) -> None:
    icon, wanted = digests(images["os_icon"]), digests(images["wanted"])
    nsrl_db(tmp_path / "nsrl.db", [(icon["sha256"], icon["sha1"], icon["md5"], "os_icon.png")])
    import_set(tmp_path / "nsrl.db", "NSRL", "known")
    alert = tmp_path / "alert.txt"
    alert.write_text(wanted["md5"] + "\n", encoding="utf-8")
    import_set(alert, "Alert list", "alert")


def test_import_matches_new_items_and_verify_vouches_for_the_hits(tmp_path, case, images):
    _sets(tmp_path, images)
    ImportJob(case, [str(images["os_icon"].parent)]).run()
    with case.read() as session:
        views = {item.file_name: item for item in item_views(session)}
    icon, wanted, plain = views["os_icon.png"], views["wanted.png"], views["plain.png"]
    assert [(h.set, h.kind, h.hash) for h in icon.hashset_hits] == [("NSRL", "known", "sha256")]
    assert [(h.set, h.kind, h.hash) for h in wanted.hashset_hits] == [
        ("Alert list", "alert", "md5")
    ]
    assert plain.hashset_hits == ()
    assert "known-file" in [f.code for f in icon.flags]
    assert "alert-hash-set" in [f.code for f in wanted.flags]
    explanation = dict((f.code, f.explanation) for f in icon.flags)["known-file"]
    assert "'NSRL'" in explanation and "SHA-256" in explanation
    assert verify_case(case, record=False).ok


def test_tampered_hit_is_a_difference(tmp_path, case_path, images):
    _sets(tmp_path, images)
    with Case.create(case_path, number="1", title="t", examiner="e") as case:
        ImportJob(case, [str(images["os_icon"].parent)]).run()
    conn = sqlite3.connect(case_path)
    conn.execute("DELETE FROM hashset_hit WHERE hash_kind = 'md5'")
    conn.commit()
    conn.close()
    with Case.open(case_path) as case:
        report = verify_case(case, record=False)
    assert not report.ok
    assert any("hashset_hits" in str(d) for d in report.differences), describe(report)


def test_match_rematches_logs_changed_items_only_and_names_the_sets(tmp_path, case, images):
    ImportJob(case, [str(images["os_icon"].parent)]).run()
    _sets(tmp_path, images)
    summary = MatchJob(case).run()
    assert (summary.items, summary.items_with_hits, summary.changed) == (3, 2, 2)
    with case.read() as session:
        entries = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action.in_(["item.hashset_hits", "hashsets.matched"])
            )
        ).all()
    matched = next(audit.details_of(e) for e in entries if e.action == "hashsets.matched")
    assert [(s["name"], s["entries"]) for s in matched["sets"]] == [("Alert list", 1), ("NSRL", 1)]
    assert all(len(s["source_sha256"]) == 64 for s in matched["sets"])
    assert sum(e.action == "item.hashset_hits" for e in entries) == 2
    assert MatchJob(case).run().changed == 0  # nothing changed: no per-item entries
    assert verify_case(case, record=False).ok


def test_match_fills_perceptual_hashes_of_items_imported_before(case, images, monkeypatch):
    from opensight_desktop.evidence import decode

    monkeypatch.setattr(decode, "phash", lambda image: None)  # an import before 0004
    ImportJob(case, [str(images["os_icon"].parent)]).run()
    monkeypatch.undo()
    images["plain"].write_bytes(images["plain"].read_bytes() + b"changed")
    summary = MatchJob(case).run()
    assert (summary.phash_added, summary.phash_failed) == (2, 1)
    assert "content changed since import" in summary.failures[0][1]
    with case.read() as session:
        hashes = dict(session.execute(select(EvidenceItem.id, EvidenceItem.phash)).all())
    assert sorted(value is None for value in hashes.values()) == [False, False, True]
    assert verify_case(case, record=False).differences == []


def test_report_names_the_sets_and_each_items_hits_and_stack(tmp_path, case, images):
    from opensight_desktop.report.pdf import ReportBuilder, ReportOptions
    from tests.test_report import GENERATED, pdf_text, squash

    _sets(tmp_path, images)
    from PIL import Image

    with Image.open(images["plain"]) as image:
        image.resize((160, 120)).save(images["plain"].with_name("plain_copy.png"))
    ImportJob(case, [str(images["os_icon"].parent)]).run()
    out = tmp_path / "report.pdf"
    ReportBuilder(case, ReportOptions(scope="flagged", generated_at=GENERATED)).write(out)
    text, _ = pdf_text(out)
    flat = squash(text)
    nsrl_sha = hashlib.sha256((tmp_path / "nsrl.db").read_bytes()).hexdigest()
    assert "Hashsets" in flat and nsrl_sha in flat and "Alertlist" in flat
    assert "NSRL(known,bySHA-256)" in flat and "Alertlist(alert,byMD5)" in flat
    assert "Knownfile(hashset)" in flat  # the flag's title
    full = tmp_path / "all.pdf"
    ReportBuilder(case, ReportOptions(generated_at=GENERATED)).write(full)
    assert "near-duplicatestack" in squash(pdf_text(full)[0])


def test_a_registry_pointing_outside_the_store_is_refused(tmp_path, opensight_home):
    path = tmp_path / "h.txt"
    path.write_text("aa" * 16 + "\n", encoding="utf-8")
    import_set(path, "Set", "known")
    evil = tmp_path / "elsewhere.sqlite"
    sqlite3.connect(evil).close()
    conn = sqlite3.connect(opensight_home / "hashsets" / "registry.sqlite")
    conn.execute("UPDATE hash_set SET file = ?", (f"../../{evil.name}",))
    conn.commit()
    conn.close()
    with pytest.raises(UsageError, match="not a file the store writes"):
        Lookup()


def test_crafted_vics_values_are_bounded(tmp_path):
    record = {"MD5": "aa" * 16, "Category": "x" * 10_000, "Tags": ",".join(["t"] * 10_000)}
    path = tmp_path / "big.json"
    path.write_text(json.dumps(vics_document([record])), encoding="utf-8")
    import_set(path, "Big", "alert")
    with Lookup() as lookup:
        (found,) = lookup.find([bytes.fromhex("aa" * 16)])[bytes.fromhex("aa" * 16)]
    assert len(found.category or "") == formats.TEXT_LIMIT
    assert len(found.tags or "") <= formats.TEXT_LIMIT


def test_hashset_remove_from_the_command_line(tmp_path, capsys):
    path = tmp_path / "h.txt"
    path.write_text("aa" * 16 + "\n", encoding="utf-8")
    assert main(["hashset", "import", str(path), "--name", "Gone", "--kind", "known"]) == 0
    capsys.readouterr()
    assert main(["hashset", "remove", "Gone"]) == 0
    assert "Removed hash set Gone (known, 1 entries)" in capsys.readouterr().out
    assert list_sets() == []
    assert main(["hashset", "remove", "Gone"]) == 2
    assert "no hash set named 'Gone'" in capsys.readouterr().err
