"""What the window remembers between runs (QSettings, an INI file in the data directory, so
that ``OPENSIGHT_HOME`` keeps tests and outside checks apart): the last folder of each kind
of file dialog, and the examiner who works at this computer."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from opensight_desktop.paths import data_dir


def _settings() -> QSettings:
    return QSettings(str(data_dir() / "gui.ini"), QSettings.Format.IniFormat)


def last_folder(kind: str) -> str:
    """The folder a file dialog of this kind ("case", "evidence", "report"...) opened last;
    the home folder before that, or when that folder is gone."""
    value = _settings().value(f"folders/{kind}", "")
    if isinstance(value, str) and value and Path(value).is_dir():
        return value
    return str(Path.home())


def remember_folder(kind: str, chosen: str) -> None:
    """Remember where the chosen file or folder is (a file: its folder)."""
    if not chosen:
        return
    path = Path(chosen)
    folder = path if path.is_dir() else path.parent
    _settings().setValue(f"folders/{kind}", str(folder))


def remembered_examiner() -> str:
    value = _settings().value("examiner/name", "")
    return value if isinstance(value, str) else ""


def remember_examiner(name: str) -> None:
    _settings().setValue("examiner/name", name)
