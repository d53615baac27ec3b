"""The read model (case/views.py): one typed ItemView per item for every output, exports
made from it byte for byte as before, and facts formatted for people in one place."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from opensight_desktop import __version__
from opensight_desktop.case.store import Case
from opensight_desktop.report import export
from tests.data.rich_case.make import EXPORTED_AT

RICH = Path(__file__).parent / "data" / "rich_case"


@pytest.fixture
def rich_case(tmp_path):
    path = tmp_path / "case.osc"
    shutil.copyfile(RICH / "case.osc", path)
    with Case.open(path) as case:
        yield case


def _golden(fmt: str) -> bytes:
    """The export written by the code before the read model, for this version of the app."""
    data = (RICH / f"export.{fmt}").read_bytes()
    if fmt == "json":
        old = json.loads(data)["app"]["version"]
        data = data.replace(
            f'"version": "{old}"'.encode(), f'"version": "{__version__}"'.encode(), 1
        )
    return data


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_exports_of_a_rich_case_are_the_same_bytes_as_before(rich_case, tmp_path, monkeypatch, fmt):
    monkeypatch.setattr(export, "utc_now", lambda: EXPORTED_AT)
    out = tmp_path / f"out.{fmt}"
    assert export.export_case(rich_case, fmt, out) == 6
    assert out.read_bytes() == _golden(fmt)
