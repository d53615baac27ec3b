"""Which evidence paths a node sees: the path map's check, run before any detector is
loaded (this module imports nothing heavy, so a node runs it at once)."""

from __future__ import annotations

import os


def existing(paths: list[bytes]) -> list[bool]:
    """For each (mapped) path: does it exist on the node that runs this?"""
    return [os.path.exists(path) for path in paths]
