"""Start-up self-test of the Qt binding: does it lose references to ``None``?

PySide6 6.12.0 on Python 3.11 drops one reference to ``None`` every time Qt hands an empty
value back to Python (``model.data()`` returning ``None``, each proxy round trip). The
window then aborts with "deallocating None" after some 150,000 such calls, in the middle
of a review. pyproject.toml keeps that release out; this check catches any other release
with the same fault (a later wheel, a bundle built against the wrong one) at start-up,
when refusing costs the examiner nothing, instead of mid-review.
"""

from __future__ import annotations

import sys

from PySide6 import __version__ as PYSIDE_VERSION
from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QStandardItemModel

PROBE_CALLS = 2000


def none_references_lost(calls: int = PROBE_CALLS) -> int:
    """References to ``None`` lost over ``calls`` empty-value round trips (C++ model and proxy).

    0 (or a small negative number: caches taking references) on a sound binding; about
    ``calls`` on a faulty one. On Python 3.12+ ``None`` is immortal and its count constant.
    """
    source = QStandardItemModel(50, 4)
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(source)
    role = Qt.ItemDataRole.ToolTipRole
    before = sys.getrefcount(None)
    for n in range(calls // 2):
        source.data(source.index(n % 50, n % 4), role)
        proxy.index(n % 50, n % 4).data(role)
    return before - sys.getrefcount(None)


def binding_fault(calls: int = PROBE_CALLS) -> str | None:
    """A message for the examiner when the binding has the fault, else None."""
    lost = none_references_lost(calls)
    if lost <= calls // 10:
        return None
    return (
        f"This installation's Qt binding (PySide6 {PYSIDE_VERSION} on Python "
        f"{sys.version_info.major}.{sys.version_info.minor}) has a known fault that would "
        f"abort the window during a long review (it lost {lost} references to None in "
        f"{calls} calls). Install a release without it, for example "
        "`pip install 'PySide6-Essentials!=6.12.0'`, or use Python 3.12 or newer. "
        "The command line (opensight-desktop --help) is not affected."
    )
