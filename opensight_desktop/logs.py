"""Log file in the data directory; both front ends send unexpected errors here."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from opensight_desktop.paths import logs_dir

LOG_NAME = "opensight.log"
_handler: logging.handlers.RotatingFileHandler | None = None


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
