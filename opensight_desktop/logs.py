"""Log file in the data directory; both front ends send unexpected errors here."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from opensight_desktop.paths import logs_dir

LOG_NAME = "opensight.log"
_configured: Path | None = None


def setup_logging() -> Path | None:
    """Attach the rotating log file once; None when the data directory is not writable."""
    global _configured
    if _configured is not None:
        return _configured
    try:
        folder = logs_dir()
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            folder / LOG_NAME, maxBytes=5 << 20, backupCount=3, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    )
    root = logging.getLogger("opensight_desktop")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    _configured = folder / LOG_NAME
    return _configured
