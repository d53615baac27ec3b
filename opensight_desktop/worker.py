"""Running an engine job on a background thread (no Qt: the GUI wraps this, the CLI too)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class BackgroundJob(Generic[T]):
    """``function()`` on its own thread; its return value or exception kept for the caller."""

    def __init__(self, function: Callable[[], T], name: str = "opensight-job") -> None:
        self._function = function
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self.result: T | None = None
        self.error: BaseException | None = None

    def _main(self) -> None:
        try:
            self.result = self._function()
        except BaseException as exc:  # handed to the caller, who decides how to report it
            self.error = exc

    def start(self) -> BackgroundJob[T]:
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> bool:
        """True when the job has finished."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def outcome(self) -> T:
        """The result, or the job's exception re-raised here."""
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result
