"""Process entry point: the GUI with no arguments or ``gui [CASE]``, else the headless CLI.

This is the only module that knows both front ends; the CLI itself stays Qt-free.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import sys


def _streams_for_windowed_builds() -> None:
    """A windowed (no console) build has no stdout/stderr: send them to the log folder."""
    if sys.stdout is not None and sys.stderr is not None:
        return
    from opensight_desktop.paths import ensure_dir, logs_dir

    try:
        stream = open(ensure_dir(logs_dir()) / "console.log", "a", encoding="utf-8")  # noqa: SIM115
    except OSError:
        stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    sys.stdout = sys.stdout or stream
    sys.stderr = sys.stderr or stream


def _no_display() -> bool:
    """Linux/BSD without X11 or Wayland (Qt would abort with a cryptic message)."""
    if not sys.platform.startswith(("linux", "freebsd", "openbsd")):
        return False
    if os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()  # import workers in a frozen (PyInstaller) build
    _streams_for_windowed_builds()
    args = sys.argv[1:] if argv is None else argv
    if (not args or args[0] == "gui") and importlib.util.find_spec("opensight_desktop.gui"):
        if _no_display():
            print(
                "opensight-desktop: error: no display to open the window on. Use the "
                "command line (opensight-desktop --help), or set QT_QPA_PLATFORM=offscreen.",
                file=sys.stderr,
            )
            return 2
        from opensight_desktop.gui.app import run_gui

        return int(run_gui(args[1] if len(args) > 1 else None))
    from opensight_desktop.cli import main as cli_main

    return cli_main(args)
