"""Measured work runs in a fresh process, so that its memory and start-up are its own."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def run_module(module: str, *args: str) -> dict[str, Any]:
    """``python -m module args``; its figures: the JSON object it prints last."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"{module} failed with exit status {done.returncode}: {last}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures
