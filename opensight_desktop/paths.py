"""Where per-user data lives: models, settings and logs.

``OPENSIGHT_HOME`` overrides the platform default (tests and outside checks set it).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_HOME = "OPENSIGHT_HOME"


def data_dir() -> Path:
    override = os.environ.get(ENV_HOME)
    base = (
        Path(override) if override else Path(platformdirs.user_data_dir("opensight-desktop", False))
    )
    return base.expanduser()


def ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def logs_dir() -> Path:
    return data_dir() / "logs"


def models_dir() -> Path:
    return data_dir() / "models"


def settings_file() -> Path:
    return data_dir() / "settings.json"
