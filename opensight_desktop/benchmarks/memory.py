"""Peak resident memory of this process."""

from __future__ import annotations

import sys


def peak_rss_mb() -> float:
    # VmHWM is per address space, so it starts afresh in a child after exec; ru_maxrss
    # is inherited from the parent on Linux and would report the parent's peak.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource  # POSIX only

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
