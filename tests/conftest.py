"""Shared fixtures. Every test runs with its own data directory and never the network."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"

from pathlib import Path

import pytest

from opensight_desktop.case.store import Case


@pytest.fixture(autouse=True)
def opensight_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("OPENSIGHT_HOME", str(home))
    return home


@pytest.fixture
def case_path(tmp_path: Path) -> Path:
    return tmp_path / "case.osc"


@pytest.fixture
def case(case_path: Path):
    with Case.create(case_path, number="2026-001", title="Test case", examiner="Zoë Ölander") as c:
        yield c
