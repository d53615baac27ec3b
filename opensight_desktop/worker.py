"""Running engine work on background threads (no Qt: the GUI wraps this, the CLI too)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, Generic, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


class BackgroundJob(Generic[T]):
    """``function()`` on its own thread; its return value or exception kept for the caller."""

    def __init__(self, function: Callable[[], T], name: str = "opensight-job") -> None:
        self._function = function
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._done = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None

    def _main(self) -> None:
        try:
            self.result = self._function()
        except BaseException as exc:  # handed to the caller, who decides how to report it
            self.error = exc
        finally:
            self._done.set()

    def start(self) -> BackgroundJob[T]:
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> bool:
        """True when the job has finished.

        Waits on an event of its own, not ``Thread.join``: on Python 3.11, a Ctrl-C that
        interrupts ``Thread.join`` leaves the thread marked as stopped while it still runs,
        so that every later join returns at once and the caller would go on (and exit)
        while the job is still writing."""
        return self._done.wait(timeout)

    def outcome(self) -> T:
        """The result, or the job's exception re-raised here."""
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


class DaemonThreadPool(Executor):
    """A fixed pool of daemon threads that work may be abandoned on.

    ``concurrent.futures.ThreadPoolExecutor`` joins its threads when the interpreter exits,
    so one read stuck in the kernel (an unresponsive network share, a device behind a file
    name) would keep the program from ever ending, Ctrl-C or not. Here a caller that gives
    up on a piece of work just stops waiting for it: its thread ends when the work returns,
    or with the process.
    """

    def __init__(self, workers: int, name: str = "worker") -> None:
        self._work: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None]
        self._work = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._serve, name=f"{name}_{i}", daemon=True)
            for i in range(max(1, workers))
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new work after shutdown")
            self._work.put((future, lambda: fn(*args, **kwargs)))
        return future

    def _serve(self) -> None:
        while (work := self._work.get()) is not None:
            _run(*work)
            del work  # nothing of finished work stays alive in an idle thread

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                while cancel_futures:
                    try:
                        work = self._work.get_nowait()
                    except queue.Empty:
                        break
                    if work is not None:
                        work[0].cancel()
                for _thread in self._threads:
                    self._work.put(None)
        if wait:
            for thread in self._threads:
                if thread is not threading.current_thread():
                    thread.join()


def _run(future: Future[T], call: Callable[[], T]) -> None:
    if not future.set_running_or_notify_cancel():
        return  # cancelled before it started
    try:
        result = call()
    except BaseException as exc:  # handed to whoever waits on the future
        future.set_exception(exc)
    else:
        future.set_result(result)
