"""Peak resident memory of this process."""

from __future__ import annotations

import sys


def _status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def rss_mb() -> float:
    """Current resident memory (Linux); the peak elsewhere."""
    current = _status_mb("VmRSS")
    return current if current is not None else peak_rss_mb()


def peak_rss_mb() -> float:
    # VmHWM is per address space, so it starts afresh in a child after exec; ru_maxrss
    # is inherited from the parent on Linux and would report the parent's peak.
    peak = _status_mb("VmHWM")
    if peak is not None:
        return peak
    import resource  # POSIX only

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024
