"""Fault injection for the robustness tests, kept out of the product.

The import job hands each file to ``pipeline.import_job.ingest``; a test puts one of the
readers below in its place (``monkeypatch.setattr(import_job, "ingest", ...)``). They are
module-level functions bound with :func:`functools.partial`, so that a worker *process*
(started with "spawn") can unpickle them: it imports this module by name, which works
while the repository root is on ``sys.path`` (the spawned worker is given the parent's).

Run as a module (``python -m tests.faults [--hang-on NAME] [--pause-before-replace S] --
ARGS...``) it is the command line with those faults in place, for the tests that kill a
running command: the product reads no switch for them.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from opensight_desktop.pipeline.ingest import Ingested, ingest

Reader = Callable[[str, str | None], Ingested]


def _crash_on(name: str, path: str, root: str | None = None) -> Ingested:
    if os.path.basename(path) == name:
        os.abort()  # as a crashing C decoder would
    return ingest(path, root)


def _hang_on(name: str, path: str, root: str | None = None) -> Ingested:
    if os.path.basename(path) == name:
        time.sleep(3600)  # as a decoder caught in a loop would
    return ingest(path, root)


def crash_on(name: str) -> Reader:
    """A reader that kills its process on the file called ``name``."""
    return functools.partial(_crash_on, name)


def hang_on(name: str) -> Reader:
    """A reader that stalls on the file called ``name``."""
    return functools.partial(_hang_on, name)


def pause_before_replace(seconds: float) -> None:
    """Hold every finished temporary output file (``fileio.atomic_output``'s
    ``.NAME.*.part``) this long before it is renamed over its target, so that a kill
    lands exactly there."""
    real_replace = os.replace

    def slow_replace(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
        name = Path(os.fsdecode(src)).name
        if name.startswith(".") and name.endswith(".part"):
            time.sleep(seconds)
        return real_replace(src, dst, *args, **kwargs)

    os.replace = slow_replace


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults")
    parser.add_argument("--hang-on", metavar="NAME")
    parser.add_argument("--pause-before-replace", type=float, metavar="SECONDS")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    if options.hang_on:
        from opensight_desktop.pipeline import import_job

        import_job.ingest = hang_on(options.hang_on)  # type: ignore[assignment]
    if options.pause_before_replace:
        pause_before_replace(options.pause_before_replace)
    from opensight_desktop.cli import main as cli_main

    args = options.args[1:] if options.args[:1] == ["--"] else options.args
    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
