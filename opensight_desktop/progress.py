"""Progress reporting and cancellation shared by every long-running job.

Jobs call a plain callback (the CLI prints, the GUI re-emits as a Qt signal) no more
often than ``interval`` seconds, plus once at the end. Jobs that write items also say
which, after each committed batch (:class:`Stored`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Progress:
    job: str  # "import", "analyze", "verify", "report", "tile-scan"
    done: int
    total: int | None
    elapsed_s: float
    message: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Items per second so far."""
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        if not self.total or self.done <= 0 or self.done >= self.total:
            return None
        return (self.total - self.done) / self.rate if self.rate > 0 else None


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class Stored:
    """What one committed write of a job changed, announced so that front ends re-read
    exactly those items instead of polling: items it added, and existing items whose rows
    changed (a result, an analysis error, another location of the same file)."""

    added: tuple[int, ...] = ()
    changed: tuple[int, ...] = ()


StoredCallback = Callable[[Stored], None]


class CancelToken:
    """Set from any thread; jobs check it between items and stop cleanly."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class Throttle:
    """Calls the callback at most every ``interval`` seconds (and always when forced)."""

    def __init__(self, callback: ProgressCallback | None, interval: float = 0.1) -> None:
        self._callback = callback
        self._interval = interval
        self._last = 0.0
        self.started = time.monotonic()

    @property
    def active(self) -> bool:
        return self._callback is not None

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def __call__(self, make: Callable[[float], Progress], force: bool = False) -> None:
        if self._callback is None:
            return
        now = time.monotonic()
        if force or now - self._last >= self._interval:
            self._last = now
            self._callback(make(now - self.started))
