"""``vics-import CASE FILE``: categories and tags from a VICS JSON file onto the case's items.

Records are matched by MD5, else SHA-1 (either case). A matched item takes the record's
Category (an integer) and gains its Tags; nothing else of the record is taken. The
whole import is one review action (one ``items.review`` entry naming the file and its
SHA-256, undoable like any other), and the summary says what matched.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from opensight_desktop.case.models import EvidenceItem
from opensight_desktop.case.review import ReviewAction, normalise_tags, review_each
from opensight_desktop.case.store import Case
from opensight_desktop.errors import UsageError
from opensight_desktop.hashsets import vics
from opensight_desktop.hashsets.store import HashingReader

TAGS_PER_RECORD = 50  # more is not a real record's (a crafted file could list millions)


@dataclass
class VicsImportSummary:
    records: int = 0
    matched_records: int = 0
    unmatched_records: int = 0
    items: int = 0  # items matched
    changed: int = 0  # items whose category or tags changed
    categories: dict[int, int] = field(default_factory=dict)  # category -> items given it
    bad_categories: int = 0
    sha256: str = ""
    action: ReviewAction | None = None


def _category(value: Any) -> int | str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "bad"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and 0 <= value <= 99 else "bad"


def import_vics(case: Case, path: str | Path) -> VicsImportSummary:
    case.require_writable("import VICS categories into it")
    source = Path(path)
    if not source.is_file():
        raise UsageError(f"no such file: {source}")
    by_md5: dict[str, list[int]] = {}
    by_sha1: dict[str, list[int]] = {}
    with case.read() as session:
        for item_id, md5, sha1 in session.execute(
            select(EvidenceItem.id, EvidenceItem.md5, EvidenceItem.sha1)
        ):
            if md5:
                by_md5.setdefault(md5.lower(), []).append(item_id)
            if sha1:
                by_sha1.setdefault(sha1.lower(), []).append(item_id)
    summary = VicsImportSummary()
    wanted: dict[int, tuple[int | None, list[str]]] = {}
    with open(source, "rb") as handle:
        reader = HashingReader(handle)
        for record in vics.media_records(io.BufferedReader(reader, 1 << 20)):
            summary.records += 1
            md5 = str(vics.field(record, "MD5") or "").strip().lower()
            sha1 = str(vics.field(record, "SHA1") or "").strip().lower()
            items = by_md5.get(md5) or by_sha1.get(sha1) or []
            if not items:
                summary.unmatched_records += 1
                continue
            summary.matched_records += 1
            found = _category(vics.field(record, "Category"))
            if found == "bad":
                summary.bad_categories += 1
            category = found if isinstance(found, int) else None
            tags = normalise_tags(vics.text_list(vics.field(record, "Tags"))[:TAGS_PER_RECORD])
            for item_id in items:
                old_category, old_tags = wanted.get(item_id, (None, []))
                wanted[item_id] = (
                    category if category is not None else old_category,
                    normalise_tags([*old_tags, *tags])[:TAGS_PER_RECORD],
                )
        summary.sha256 = reader.finish()  # the whole file, read or not
    summary.items = len(wanted)
    for category, _ in wanted.values():
        if category is not None:
            summary.categories[category] = summary.categories.get(category, 0) + 1
    summary.action = review_each(
        case,
        wanted,
        {
            "source": "vics-import",
            "file": str(source),
            "sha256": summary.sha256,
            "records": summary.records,
            "matched_records": summary.matched_records,
        },
    )
    summary.changed = len(summary.action.items) if summary.action else 0
    return summary
