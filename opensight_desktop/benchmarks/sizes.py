"""How large a benchmark run is."""

from __future__ import annotations

from typing import Literal

# full: the figures to quote. quick: smaller sets, a smoke run on a new machine. tiny: the
# fewest files that take every step (for the tests; its figures mean nothing).
Sizes = Literal["full", "quick", "tiny"]
