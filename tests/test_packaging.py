"""The desktop bundle: built with PyInstaller and smoke-tested by packaging/build.sh.

Slow (a clean environment and a multi-gigabyte freeze of torch), so outside the default
run: ``pytest -m slow tests/test_packaging.py``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_build_and_smoke_test_bundle():
    if shutil.which("bash") is None:
        pytest.skip("the build script needs bash")
    result = subprocess.run(
        [str(ROOT / "packaging" / "build.sh")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "SMOKE TEST PASSED" in result.stdout


def test_recipe_carries_what_the_app_reads_at_run_time():
    """Cheap guard for the recipe: resources and migrations are bundled as files."""
    spec = (ROOT / "packaging" / "opensight-desktop.spec").read_text()
    assert '"opensight_desktop/resources"' in spec
    assert '"opensight_desktop/case/migrations"' in spec
    assert "console=False" in spec and "console=True" in spec
    desktop = (ROOT / "packaging" / "opensight-desktop.desktop").read_text()
    assert "Exec=opensight-desktop" in desktop and "Icon=opensight-desktop" in desktop
    assert (ROOT / "resources" / "icons" / "opensight.ico").is_file()
