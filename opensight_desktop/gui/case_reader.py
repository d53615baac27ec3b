"""The evidence list's reads, on a thread of their own: rows of the items a job or an edit
changed, and thumbnails as the views ask for them. The GUI thread only queues requests
and takes finished results (``ready`` says when there are some), so that neither a stream
of analysis batches nor scrolling through 10,000 thumbnails reads the case on it.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QThread, Signal
from PySide6.QtGui import QImage

from opensight_desktop.case.queries import ItemRow
from opensight_desktop.case.store import Case
from opensight_desktop.errors import OpenSightError
from opensight_desktop.session import reads

log = logging.getLogger(__name__)

THUMBNAILS_PER_READ = 64
# Thumbnails waiting to be read at most: the newest requests are the rows on screen now.
THUMBNAILS_PENDING = 2000


@dataclass
class Results:
    rows: list[ItemRow] = field(default_factory=list)
    thumbnails: dict[int, QImage | None] = field(default_factory=dict)
    # answers to ``ask``: {name: (value, None)}, or (None, why) when it could not be read
    answers: dict[str, tuple[Any, str | None]] = field(default_factory=dict)


class CaseReader(QThread):
    ready = Signal()  # results are waiting: take() them

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("case reader")
        self._state = threading.Condition()
        self._case: Case | None = None
        self._rows: set[int] = set()  # items whose rows to read, all in one go
        self._thumbnails: OrderedDict[int, None] = OrderedDict()  # newest last
        # other reads (filters, stacks, histograms): the newest question of each name
        self._asks: dict[str, Callable[[Case], Any]] = {}
        self._reading: str | None = None  # what is being read: "rows", "ask", "thumbnails"
        self._results = Results()
        self._stopping = False

    # -- the GUI thread's side ---------------------------------------------------------

    def set_case(self, case: Case | None) -> None:
        """Read this case from now on; what was asked of the previous one is dropped.
        Waits for a read in progress, so that the previous case can then be closed."""
        with self._state:
            while self._reading is not None:
                self._state.wait()
            self._case = case
            self._rows.clear()
            self._thumbnails.clear()
            self._asks.clear()
            self._results = Results()

    def read_rows(self, ids: Iterable[int]) -> None:
        with self._state:
            self._rows.update(ids)
            self._state.notify_all()
        self._ensure_running()

    def read_thumbnails(self, ids: Iterable[int]) -> None:
        with self._state:
            for item_id in ids:
                self._thumbnails[item_id] = None
                self._thumbnails.move_to_end(item_id)
            while len(self._thumbnails) > THUMBNAILS_PENDING:
                self._thumbnails.popitem(last=False)  # scrolled past; asked again if shown
            self._state.notify_all()
        self._ensure_running()

    def ask(self, name: str, read: Callable[[Case], Any], first: bool = False) -> None:
        """Run ``read(case)`` here; its answer comes back under ``name``. A question of a
        name still waiting is replaced (a newer filter makes the older one moot).
        ``first``: before the other questions waiting (what the examiner waits for)."""
        with self._state:
            self._asks.pop(name, None)
            if first:
                self._asks = {name: read, **self._asks}
            else:
                self._asks[name] = read
            self._state.notify_all()
        self._ensure_running()

    def wait_for_answers(self) -> None:
        """Block until every question asked so far has been answered."""
        with self._state:
            while self._asks or self._reading == "ask":
                if not self.isRunning():
                    return
                self._state.wait(0.1)

    def take(self) -> Results:
        with self._state:
            results, self._results = self._results, Results()
        return results

    def wait_for_rows(self) -> None:
        """Block until every row asked for so far has been read (thumbnails may wait)."""
        with self._state:
            while self._rows or self._reading == "rows":
                if not self.isRunning():
                    return
                self._state.wait(0.1)

    def stop(self) -> None:
        """End the thread (it finishes the read in progress); start again by asking."""
        with self._state:
            self._stopping = True
            self._state.notify_all()
        self.wait()
        with self._state:
            self._stopping = False

    def _ensure_running(self) -> None:
        if not self.isRunning():
            self.start()

    # -- the reader thread -------------------------------------------------------------

    def run(self) -> None:
        while True:
            with self._state:
                while not self._stopping and not (self._rows or self._asks or self._thumbnails):
                    self._state.wait()
                if self._stopping:
                    return
                case = self._case
                question: tuple[str, Callable[[Case], Any]] | None = None
                ids: list[int] = []
                if self._rows:
                    kind, ids = "rows", sorted(self._rows)
                    self._rows.clear()
                elif self._asks:
                    kind = "ask"
                    name = next(iter(self._asks))
                    question = (name, self._asks.pop(name))
                else:
                    kind = "thumbnails"
                    ids = [
                        self._thumbnails.popitem()[0]
                        for _ in range(min(THUMBNAILS_PER_READ, len(self._thumbnails)))
                    ]
                self._reading = kind
            found = None
            try:
                if case is not None and question is not None:
                    found = self._answer(case, *question)
                elif case is not None:
                    found = self._read(case, kind, ids)
            except Exception:  # a bug: logged with its traceback; the list shows what it had
                log.exception("reading the evidence list failed")
            finally:
                with self._state:
                    if found is not None and case is self._case:
                        if kind == "rows":
                            self._results.rows += found
                        elif kind == "ask":
                            self._results.answers.update(found)
                        else:
                            self._results.thumbnails.update(found)
                    self._reading = None
                    self._state.notify_all()
            if found:
                self.ready.emit()

    @staticmethod
    def _answer(case: Case, name: str, read: Callable[[Case], Any]) -> Any:
        try:
            return {name: (read(case), None)}
        except OpenSightError as exc:  # said to the asker, who shows it
            log.warning("the case could not be read for %s: %s", name, exc)
            return {name: (None, str(exc))}

    @staticmethod
    def _read(case: Case, kind: str, ids: list[int]) -> Any:
        try:
            if kind == "rows":
                return reads.item_rows(case, ids)
            stored = reads.thumbnails(case, ids)
        except OpenSightError as exc:  # e.g. the case file became unreadable
            log.warning("the evidence list could not read the case: %s", exc)
            return None
        images: dict[int, QImage | None] = {}
        for item_id in ids:
            data = stored.get(item_id)
            # as stored in a case that may be crafted: a picture only if it decodes as one
            image = QImage.fromData(data, "JPEG") if data else None  # type: ignore[arg-type]
            images[item_id] = image if image is not None and not image.isNull() else None
        return images
