"""Log files in the data directory.

Both front ends log unexpected errors with their traceback to ``opensight.log``. The GUI
has faulthandler write a hard crash (a fault in native code, an abort) to ``crash.log``;
at the next start :func:`take_crash_report` hands it over once to be shown, and keeps it
as ``crash-<time of the crash>.log``.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from opensight_desktop.paths import logs_dir

LOG_NAME = "opensight.log"
CRASH_LOG_NAME = "crash.log"
CRASH_TEXT_LIMIT = 100_000  # characters shown; the kept file holds all of it
CRASH_LOGS_KEPT = 5
_handler: logging.handlers.RotatingFileHandler | None = None

log = logging.getLogger(__name__)


def setup_logging() -> Path | None:
    """Log to the data directory's log file; None when it cannot be written.

    Called again after the data directory changed (tests), it moves to the new file.
    """
    global _handler
    root = logging.getLogger("opensight_desktop")
    try:
        folder = logs_dir()
        target = folder / LOG_NAME
        if _handler is not None and Path(_handler.baseFilename) == target.absolute():
            return target
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            target, maxBytes=5 << 20, backupCount=3, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    )
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    _handler = handler
    return target


def log_file() -> Path | None:
    """The file unexpected errors are logged to; None before logging is set up, or when
    it could not be."""
    return Path(_handler.baseFilename) if _handler is not None else None


@dataclass(frozen=True)
class CrashReport:
    """What the previous run's hard crash left in the crash log."""

    text: str  # its start, when it is longer than CRASH_TEXT_LIMIT
    path: Path  # where the whole of it is kept
    truncated: bool


def take_crash_report() -> CrashReport | None:
    """The previous run's crash report, moved aside so that it is handed over only once;
    None when the last run did not crash. Call it before this run opens the crash log."""
    source = logs_dir() / CRASH_LOG_NAME
    try:
        info = source.stat()
        if info.st_size == 0:
            return None
        with open(source, encoding="utf-8", errors="replace") as handle:
            text = handle.read(CRASH_TEXT_LIMIT + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("the crash log %s could not be read: %s", source, exc)
        return None
    kept = _kept_name(source, info.st_mtime)
    try:
        os.replace(source, kept)
    except OSError as exc:  # it stays where it is, and is shown again next time
        log.warning("the crash log %s could not be moved to %s: %s", source, kept, exc)
        kept = source
    else:
        _remove_old_crash_logs(source.parent)
    return CrashReport(text[:CRASH_TEXT_LIMIT], kept, len(text) > CRASH_TEXT_LIMIT)


def _kept_name(source: Path, mtime: float) -> Path:
    stamp = datetime.fromtimestamp(mtime, UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = source.with_name(f"crash-{stamp}.log")
    number = 1
    while kept.exists():
        number += 1
        kept = source.with_name(f"crash-{stamp}-{number}.log")
    return kept


def _remove_old_crash_logs(folder: Path) -> None:
    """Keep the newest CRASH_LOGS_KEPT crash logs (their names sort by time)."""
    old = sorted(folder.glob("crash-*.log"))[:-CRASH_LOGS_KEPT]
    for path in old:
        try:
            path.unlink()
        except OSError as exc:
            log.warning("an old crash log %s could not be removed: %s", path, exc)
