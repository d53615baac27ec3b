"""Digests of stored state that audit entries carry in place of blobs and large records.

Each function serves twice: the code that sets the state puts the digest into its audit
entry, and ``verify`` recomputes it from the tables (``case.replay``), so the two cannot
drift apart. JSON values are digested as their JSON round trip, which is exactly what
reading them back from a JSON column gives; values read from a table that are not what
the application writes (text that is not JSON, bytes where text belongs) still digest,
to something that differs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Text, select, type_coerce
from sqlalchemy.orm import InstrumentedAttribute, Session

from opensight_desktop.case.models import ItemFlag, ItemMetadata

# The metadata columns of the export contract, in table order.
METADATA_FIELDS = (
    "camera_make",
    "camera_model",
    "datetime_original",
    "software",
    "orientation",
    "gps_latitude",
    "gps_longitude",
)


def canonical(value: object) -> str:
    """Canonical JSON; anything JSON cannot hold is written as its repr (never raises)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)


def sha256_hex(data: bytes | str | None) -> str | None:
    if data is None:
        return None
    if isinstance(data, str):  # text where the application stores bytes
        data = data.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def json_value(value: object) -> Any:
    """``value`` as a JSON column gives it back."""
    return json.loads(canonical(value))


def stored_json(text: object) -> Any:
    """A JSON column's raw text, parsed; text that is not JSON is kept as a marked string."""
    if text is None:
        return None
    if not isinstance(text, str | bytes | bytearray):  # a crafted case: json.loads refuses it
        return {"<not JSON>": repr(text)}
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        return {"<not JSON>": repr(text)}


def json_digest(value: object) -> str:
    return hashlib.sha256(canonical(json_value(value)).encode("ascii")).hexdigest()


def heatmap_digest(heatmap: bytes | None, geometry: object) -> str | None:
    """The heatmap grid bytes together with where it lies on the image (one digest)."""
    if heatmap is None and geometry is None:
        return None
    return json_digest({"grid_sha256": sha256_hex(heatmap), "geometry": geometry})


def metadata_digests(session: Session, first_id: int, last_id: int) -> dict[int, str]:
    """SHA-256 of each item's metadata row and flags, for items ``first_id``..``last_id``
    that have either (an item with neither has no digest)."""
    return _metadata_digests(session, lambda column: column.between(first_id, last_id))


def metadata_digests_of(session: Session, item_ids: list[int]) -> dict[int, str]:
    """The same for the items named (a few, scattered: those a duplicate was found of)."""
    return _metadata_digests(session, lambda column: column.in_(item_ids))


def _metadata_digests(
    session: Session,
    which: Callable[[InstrumentedAttribute[int]], ColumnElement[bool]],
) -> dict[int, str]:
    columns = [getattr(ItemMetadata, name) for name in METADATA_FIELDS]
    records: dict[int, dict[str, object]] = {}
    for row in session.execute(
        select(
            ItemMetadata.item_id,
            *columns,
            type_coerce(ItemMetadata.exif, Text),
            type_coerce(ItemMetadata.extra, Text),
            type_coerce(ItemMetadata.problems, Text),
        ).where(which(ItemMetadata.item_id))
    ):
        item_id, *values, exif, extra, problems = row
        records[item_id] = {
            "fields": dict(zip(METADATA_FIELDS, values, strict=True)),
            "exif": stored_json(exif),
            "extra": stored_json(extra),
            "problems": stored_json(problems),
        }
    flags: dict[int, list[list[str]]] = {}
    for item_id, code, explanation in session.execute(
        select(ItemFlag.item_id, ItemFlag.code, ItemFlag.explanation)
        .where(which(ItemFlag.item_id))
        .order_by(ItemFlag.id)
    ):
        flags.setdefault(item_id, []).append([code, explanation])
    return {
        item_id: hashlib.sha256(
            canonical({"metadata": records.get(item_id), "flags": flags.get(item_id, [])}).encode(
                "ascii"
            )
        ).hexdigest()
        for item_id in records.keys() | flags.keys()
    }
