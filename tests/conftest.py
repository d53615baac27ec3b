"""Shared fixtures. Every test runs with its own data directory and never the network."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"

import signal
from pathlib import Path

import pytest

# The Ctrl-C tests need Python's own SIGINT handling, here and in the programs they start;
# a test run started in the background of a shell without job control inherits SIGINT
# ignored (bash does that for `&`), and so would every program it starts.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

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


@pytest.fixture(autouse=True)
def unexpected_modals(monkeypatch: pytest.MonkeyPatch):
    """A modal dialog nobody answers blocks an offscreen test forever (and CI with it). Every
    message box and dialog a test did not patch itself is answered with its default (No,
    Rejected) and fails the test afterwards, naming what it said."""
    from PySide6.QtWidgets import QDialog, QMessageBox

    shown: list[str] = []

    def box(kind: str):
        def answer(_parent, title, text, *args, **kwargs):
            shown.append(f"{kind} '{title}': {text}")
            return QMessageBox.StandardButton.No

        return staticmethod(answer)

    for kind in ("warning", "critical", "information", "question"):
        monkeypatch.setattr(QMessageBox, kind, box(kind))

    def dialog_exec(self):
        shown.append(f"dialog {type(self).__name__} '{self.windowTitle()}'")
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(QDialog, "exec", dialog_exec)
    yield shown
    assert not shown, "modal dialogs the test did not expect: " + "; ".join(shown)


@pytest.fixture(autouse=True)
def examiner_question(monkeypatch: pytest.MonkeyPatch):
    """The window asks who is working when a case opens (once per session): answered with
    its default unless a test asks otherwise; and the examiner chosen in one test never
    names the audit entries of the next."""
    from opensight_desktop.case import audit

    try:
        from opensight_desktop.gui import examiner
    except ImportError:  # no Qt binding: no window either
        examiner = None
    asked: list[tuple[str, str]] = []
    if examiner is not None:

        def answer(_parent, default, case_examiner):
            asked.append((default, case_examiner))
            return default

        monkeypatch.setattr(examiner, "ask_examiner", answer)
    yield asked
    audit.set_acting_examiner(None)
