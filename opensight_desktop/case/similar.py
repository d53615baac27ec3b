"""Near-duplicate stacks of a case, from the stored perceptual hashes.

Groups are computed when asked (100,000 items take a few seconds), not stored: they
follow from the audit-logged hashes and the threshold, so they need no log of their own.
A group's id is its smallest item id, the same in every run over the same hashes.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from opensight_desktop.case.models import EvidenceItem
from opensight_desktop.evidence import phash


def stored_hashes(session: Session) -> tuple[list[int], list[int]]:
    """(item ids, their hashes as integers) of the items with a valid perceptual hash."""
    ids: list[int] = []
    values: list[int] = []
    for item_id, text in session.execute(
        select(EvidenceItem.id, EvidenceItem.phash)
        .where(EvidenceItem.phash.is_not(None))
        .order_by(EvidenceItem.id)
    ):
        value = phash.parse(text)
        if value is not None:
            ids.append(item_id)
            values.append(value)
    return ids, values


def similar_groups(session: Session, threshold: int = phash.DEFAULT_THRESHOLD) -> dict[int, int]:
    """{item id: group id} of every item in a stack of two or more."""
    ids, values = stored_hashes(session)
    return phash.group(ids, values, threshold)


def similar_to(
    session: Session, item_id: int, threshold: int = phash.DEFAULT_THRESHOLD
) -> list[tuple[int, int]]:
    """(item id, distance in bits) of the items within ``threshold`` of this one, nearest
    first (the item itself excluded); empty when it has no perceptual hash."""
    import numpy as np

    own = phash.parse(session.scalar(select(EvidenceItem.phash).where(EvidenceItem.id == item_id)))
    if own is None:
        return []
    ids, values = stored_hashes(session)
    if not ids:
        return []
    distances = np.bitwise_count(np.array(values, dtype=np.uint64) ^ np.uint64(own))
    near = [
        (other, int(d))
        for other, d in zip(ids, distances.tolist(), strict=True)
        if d <= threshold and other != item_id
    ]
    return sorted(near, key=lambda pair: (pair[1], pair[0]))
