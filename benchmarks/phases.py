"""What a measurement records of each phase: wall and CPU seconds, and the peak resident set.

Shared by the worker and the PyPSA comparison, which time their phases the same way.
"""

from __future__ import annotations

import resource
import time
from typing import Any, Self

MIB = 1024.0  # ru_maxrss is in KiB on Linux


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """The peak resident set so far, in MiB, of this process (or of its finished children)."""
    return resource.getrusage(who).ru_maxrss / MIB


class Phase:
    """Times a phase into ``out[name + '_s']`` (wall) and ``out[name + '_cpu_s']`` (this process's CPU).

    CPU seconds barely move when other processes share the cores, so they are the steadier figure on a
    busy machine; wall seconds are what a user waits.
    """

    def __init__(self, out: dict[str, Any], name: str) -> None:
        self.out, self.name = out, name

    def __enter__(self) -> Self:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.out[f"{self.name}_s"] = time.perf_counter() - self.wall
        self.out[f"{self.name}_cpu_s"] = time.process_time() - self.cpu
