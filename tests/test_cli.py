"""The headless command line contract: commands, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from opensight_desktop.cli import main
from tests import imagegen


def run_cli(*args: str, env_home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENSIGHT_HOME": str(env_home)}
    return subprocess.run(
        [sys.executable, "-m", "opensight_desktop", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_end_to_end_in_a_subprocess(tmp_path, opensight_home):
    case = tmp_path / "c.osc"
    folder = tmp_path / "ev"
    folder.mkdir()
    imagegen.jpeg_with_exif(folder / "a.jpg")
    imagegen.save(folder / "b.png", "PNG")
    result = run_cli(
        "case",
        "new",
        str(case),
        "--number",
        "N-1",
        "--title",
        "T",
        "--examiner",
        "Zoë",
        env_home=opensight_home,
    )
    assert result.returncode == 0, result.stderr
    result = run_cli("import", str(case), str(folder), env_home=opensight_home)
    assert result.returncode == 0, result.stderr
    assert "new items" in result.stdout and "2" in result.stdout
    out = tmp_path / "e.json"
    result = run_cli(
        "export", str(case), "--format", "json", "-o", str(out), env_home=opensight_home
    )
    assert result.returncode == 0
    assert len(json.loads(out.read_text())["items"]) == 2
    result = run_cli("verify", str(case), env_home=opensight_home)
    assert result.returncode == 0 and "VERIFIED" in result.stdout


def test_usage_errors_are_one_line_without_traceback(tmp_path, opensight_home):
    not_case = tmp_path / "x.txt"
    not_case.write_text("hello")
    for args in (
        ["case", "info", str(not_case)],
        ["import", str(tmp_path / "none.osc"), "."],
        ["frobnicate"],
        ["export", str(not_case), "--format", "xml", "-o", "x"],
    ):
        result = run_cli(*args, env_home=opensight_home)
        assert result.returncode == 2, args
        assert "Traceback" not in result.stderr
        assert "error:" in result.stderr


def test_import_with_failures_exits_1(tmp_path, capsys):
    case = tmp_path / "c.osc"
    assert (
        main(
            [
                "case",
                "new",
                str(case),
                "--number",
                "1",
                "--title",
                "t",
                "--examiner",
                "e",
                "--utc-offset",
                "+05:30",
            ]
        )
        == 0
    )
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really")
    good = imagegen.save(tmp_path / "ok.png", "PNG")
    assert main(["import", str(case), str(bad), str(good)]) == 1
    out = capsys.readouterr().out
    assert "broken.jpg" in out
    assert main(["case", "info", str(case)]) == 0
    info = capsys.readouterr().out
    assert "UTC+05:30" in info and "error" in info


def test_verify_reports_changed_file_exit_1(tmp_path, capsys):
    case = tmp_path / "c.osc"
    main(["case", "new", str(case), "--number", "1", "--title", "t", "--examiner", "e"])
    image = imagegen.save(tmp_path / "ok.png", "PNG")
    main(["import", str(case), str(image)])
    image.write_bytes(image.read_bytes() + b"x")
    capsys.readouterr()
    assert main(["verify", str(case)]) == 1
    assert "CHANGED" in capsys.readouterr().out


def test_unexpected_error_is_logged_not_shown(tmp_path, capsys, monkeypatch, opensight_home):
    import opensight_desktop.cli as cli

    def boom(args):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(cli, "cmd_case_info", boom)
    assert main(["case", "info", "whatever"]) == 2
    err = capsys.readouterr().err
    assert "internal error" in err and "Traceback" not in err
    log_text = (opensight_home / "logs" / "opensight.log").read_text()
    assert "kaboom" in log_text and "Traceback" in log_text


@pytest.mark.parametrize("offset", ["+25:00", "nonsense"])
def test_bad_utc_offset(tmp_path, offset):
    assert (
        main(
            [
                "case",
                "new",
                str(tmp_path / "c.osc"),
                "--number",
                "1",
                "--title",
                "t",
                "--examiner",
                "e",
                "--utc-offset",
                offset,
            ]
        )
        == 2
    )


def test_no_display_gives_a_clear_message(tmp_path, opensight_home):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env["OPENSIGHT_HOME"] = str(opensight_home)
    if not sys.platform.startswith("linux"):
        pytest.skip("display detection is for X11/Wayland systems")
    result = subprocess.run(
        [sys.executable, "-m", "opensight_desktop"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "no display" in result.stderr
