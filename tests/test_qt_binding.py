"""The Qt binding must not lose references to None (PySide6 6.12.0 on Python 3.11 does).

Each empty value Qt hands back to Python cost that release one reference to ``None``;
after about 150,000 the window aborted ("deallocating None"). On Python 3.12+ ``None``
is immortal and its count never changes, which counts as unchanged here.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QStandardItemModel

from opensight_desktop.gui import app as gui_app
from opensight_desktop.gui import binding_check
from opensight_desktop.gui.evidence_filter import EvidenceFilter
from opensight_desktop.gui.evidence_model import COLUMNS, EvidenceModel
from opensight_desktop.pipeline.import_job import ImportJob
from tests import imagegen

CALLS = 5000
# Caches may take a few references; a faulty binding loses one per call.
TOLERANCE = 20

EMPTY_ROLES = (
    Qt.ItemDataRole.ToolTipRole,
    Qt.ItemDataRole.WhatsThisRole,
    Qt.ItemDataRole.StatusTipRole,
    Qt.ItemDataRole.CheckStateRole,
)


def test_empty_values_through_a_cpp_model_keep_none_references(qapp):
    model = QStandardItemModel(100, 5)
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    before = sys.getrefcount(None)
    for n in range(CALLS):
        index = model.index(n % 100, n % 5)
        assert model.data(index, Qt.ItemDataRole.ToolTipRole) is None
        assert proxy.index(n % 100, n % 5).data(Qt.ItemDataRole.ToolTipRole) is None
    assert before - sys.getrefcount(None) <= TOLERANCE


def test_empty_values_through_a_proxy_over_the_app_model_keep_none_references(qapp, case, tmp_path):
    folder = tmp_path / "evidence"
    folder.mkdir()
    for i in range(12):
        imagegen.save(folder / f"p{i}.png", "PNG", size=(40, 30), seed=i)
    ImportJob(case, [str(folder)]).run()
    model = EvidenceModel()
    model.set_case(case)
    proxy = EvidenceFilter()
    proxy.setSourceModel(model)
    assert proxy.rowCount() == 12
    columns = len(COLUMNS)
    # the app model answers None for these roles and for unanalysed score cells
    before = sys.getrefcount(None)
    for n in range(CALLS):
        index = proxy.index(n % 12, n % columns)
        index.data(EMPTY_ROLES[n % len(EMPTY_ROLES)])
        proxy.data(index, Qt.ItemDataRole.ForegroundRole)
        proxy.headerData(n % columns, Qt.Orientation.Vertical, Qt.ItemDataRole.ToolTipRole)
        proxy.parent(index)
        proxy.index(0, 0, QModelIndex())
    lost = before - sys.getrefcount(None)
    model.set_case(None)
    assert lost <= TOLERANCE, f"{lost} references to None lost in {CALLS} round trips"


def test_the_installed_binding_passes_the_start_up_self_test(qapp):
    assert binding_check.none_references_lost() <= TOLERANCE
    assert binding_check.binding_fault() is None


def test_start_up_refuses_a_binding_with_the_fault(qapp, monkeypatch, capsys):
    shown: list[str] = []
    monkeypatch.setattr(binding_check, "none_references_lost", lambda calls=2000: calls)
    monkeypatch.setattr(
        gui_app.QMessageBox, "critical", lambda _parent, _title, text: shown.append(text)
    )
    monkeypatch.setattr(gui_app, "MainWindow", lambda: pytest.fail("the window must not open"))
    assert gui_app.run_gui() == 2
    assert shown and "known fault" in shown[0] and "PySide6" in shown[0]
    assert "known fault" in capsys.readouterr().err
