"""Files shipped in ``resources/`` (icons, fonts, model profiles, style sheet).

Installed wheels carry them inside the package; a source checkout has them at the top
of the repository.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any


@cache
def resources_dir() -> Path:
    here = Path(__file__).resolve().parent
    candidates = [here / "resources", here.parent / "resources"]
    frozen = getattr(sys, "_MEIPASS", None)  # PyInstaller bundle
    if frozen:
        candidates.insert(0, Path(frozen) / "opensight_desktop" / "resources")
    for candidate in candidates:
        if (candidate / "model_profiles.json").is_file():
            return candidate
    raise FileNotFoundError("the application's resources folder is missing (broken install)")


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


@cache
def model_profiles() -> dict[str, Any]:
    return json.loads(resource("model_profiles.json").read_text(encoding="utf-8"))
