"""Progress lines on stderr: timestamped messages, and steps done with an estimate of the time left.

A `Progress` writes ``[gridopt HH:MM:SS] message`` lines. Counted steps (the runs of a sweep) get a line each
only on a terminal: ``[k/N] name: status, elapsed 12.3 s, ~40 s left``; in a log (stderr not a terminal)
they stay silent and only the lines the caller writes at the start and the end show. ``quiet`` silences
everything (errors are the caller's to print).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO


def is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def seconds_text(s: float) -> str:
    """12.3 s, 4 min 05 s, 2 h 03 min."""
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60):02d} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"


def remaining(durations: list[float], left: int, workers: int) -> float:
    """Seconds still to go: `left` steps at the mean duration of those done, `workers` at a time."""
    if not durations or left <= 0:
        return 0.0
    mean = sum(durations) / len(durations)
    return mean * left / max(1, min(workers, left))


class Progress:
    """Where progress goes: `stream` (default stderr), nowhere when `quiet`; `terminal` (default: whether
    the stream is one) decides whether counted steps are shown."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False, terminal: bool | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.stream = stream
        self.quiet = quiet
        self._terminal = terminal
        self.clock = clock

    @property
    def out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stderr  # looked up late: tests swap stderr

    @property
    def terminal(self) -> bool:
        return (self._terminal if self._terminal is not None else is_terminal(self.out)) and not self.quiet

    def say(self, msg: str) -> None:
        if not self.quiet:
            print(f"[gridopt {time.strftime('%H:%M:%S')}] {msg}", file=self.out, flush=True)

    __call__ = say

    def steps(self, total: int, workers: int = 1) -> Steps:
        return Steps(self, total, workers)


class Steps:
    """`total` steps run `workers` at a time; `done` after each reports it (on a terminal only)."""

    def __init__(self, progress: Progress, total: int, workers: int = 1) -> None:
        self.progress = progress
        self.total = total
        self.workers = workers
        self.count = 0
        self.durations: list[float] = []
        self.t0 = progress.clock()

    def line(self, name: str, status: str = "", seconds: float | None = None) -> str:
        elapsed = self.progress.clock() - self.t0
        if seconds is None:  # the step's own time unknown: the wall time per step so far, times the workers
            seconds = elapsed * min(self.workers, self.total) / max(1, self.count)
        self.durations.append(seconds)
        left = remaining(self.durations, self.total - self.count, self.workers)
        text = f"[{self.count}/{self.total}] {name}" + (f": {status}" if status else "")
        text += f", elapsed {seconds_text(elapsed)}"
        return text + (f", ~{seconds_text(left)} left" if self.count < self.total else "")

    def done(self, name: str, status: str = "", seconds: float | None = None) -> None:
        self.count += 1
        text = self.line(name, status, seconds)
        if self.progress.terminal:
            self.progress.say(text)
