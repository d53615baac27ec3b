"""Project VIC / CAID VICS JSON: reading Media records as a stream, and the field names.

Two shapes are read, in VICS 1.x (``"odata.metadata"``) and 2.0 (``"@odata.context"``):
a case export, ``value[].Media[]``, and a hash set, ``value[]`` holding Media records
directly. Records are parsed one at a time (ijson), so a file of tens of millions of
records is read in constant memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson
from ijson.common import ObjectBuilder

from opensight_desktop.errors import UsageError

# The VICS 2.0 data model's names (Media and MediaFiles entities, and the case header) as
# tools exchanging VICS 2.0 JSON write them. What the export writes is checked against
# these (tests/test_vics.py), so a misspelt field cannot go out.
CASE_FIELDS = frozenset(
    {"CaseID", "CaseNumber", "ContactEmail", "SourceApplicationName", "TotalMediaFiles", "Media"}
)
MEDIA_FIELDS = frozenset(
    {
        "MediaID",
        "Category",
        "MD5",
        "SHA1",
        "PhotoDNA",
        "MediaSize",
        "RelativeFilePath",
        "MimeType",
        "DateUpdated",
        "Comments",
        "Tags",
        "Series",
        "VictimIdentified",
        "OffenderIdentified",
        "IsDistributed",
        "IsPrecategorized",
        "PrecategorizationSource",
        "IsSuspected",
        "SelfGenerated",
        "AlternativeHashes",
        "Exifs",
        "MediaFiles",
        "Miniature",
    }
)
MEDIA_FILE_FIELDS = frozenset(
    {"MD5", "FileName", "FilePath", "Created", "Written", "Accessed", "Unallocated"}
)
CONTEXT_2_0 = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/CUSTOM/$metadata#Cases"

_RECORD_PREFIXES = ("value.item", "value.item.Media.item")


def media_records(stream: BinaryIO) -> Iterator[dict[str, Any]]:
    """Every Media record of a VICS document, in file order; UsageError when the file is
    not JSON or not shaped as VICS."""
    builder: ObjectBuilder | None = None
    builder_prefix = ""
    saw_value = False
    try:
        for prefix, event, value in ijson.parse(stream, use_float=True):
            if prefix == "value" and event == "start_array":
                saw_value = True
            if builder is not None:
                if prefix == "value.item" and event == "map_key" and value == "Media":
                    builder = None  # a case, not a record: its Media follow
                    continue
                builder.event(event, value)
                if event == "end_map" and prefix == builder_prefix:
                    record = builder.value
                    builder = None
                    if isinstance(record, dict):
                        yield record
                continue
            if event == "start_map" and prefix in _RECORD_PREFIXES:
                builder = ObjectBuilder()
                builder.event(event, value)
                builder_prefix = prefix
    except ijson.JSONError as exc:
        raise UsageError(f"not a readable VICS JSON file ({exc})") from None
    if not saw_value:
        raise UsageError('not a VICS JSON file: it has no top-level "value" list')


def field(record: dict[str, Any], name: str) -> Any:
    """A record's field by its VICS name, in any letter case (exporters differ)."""
    if name in record:
        return record[name]
    lowered = name.lower()
    for key, value in record.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return None


def text_list(value: Any) -> list[str]:
    """Tags as a list: VICS writes them as one string (comma- or semicolon-separated) or,
    in some exporters, as a list."""
    if isinstance(value, list):
        parts = [str(part) for part in value if part is not None]
    elif isinstance(value, str):
        parts = value.replace(";", ",").split(",")
    else:
        return []
    return [" ".join(part.split()) for part in parts if part.strip()]
