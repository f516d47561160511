"""The settings of a rolling run and their defaults by horizon: the one place where defaults live.

`RollingOptions.for_horizon(hours, **given)` fills what is not given. Horizons up to `SHORT_HORIZON_HOURS`
favour accuracy (an 8-h guide, a long look-ahead, one chain, the water credit), longer ones time (a daily
guide, a short look-ahead, 2 chains). docs/rolling.md gives the measurements behind each value.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from ..errors import UsageError

AUTO_ROLLING_HOURS = 744  # a month: `gridopt run` solves longer horizons as rolling windows
SHORT_HORIZON_HOURS = 2190  # a quarter of a year: the limit of the accuracy-first defaults
WINDOW_HOURS = 168  # hours kept per window
TAIL_BLOCK_HOURS = 3  # hours per block of the coarse look-ahead: keeps the daily peaks apart
PROCESSES = 2  # local processes for chains side by side
GUIDES = ("targets", "rule", "values")

# by horizon: up to SHORT_HORIZON_HOURS accuracy first (an 8-h guide keeps the evening peak apart from the
# night; a long look-ahead; one chain carries every state); beyond it time (a year within minutes on 2 cores).
# plan_pull: CNY per MWh-hour pulling the coarse solve towards the case's plan (guide.pull_to_plan); over a
# year the coarse solve's own reasons place the water better than the plan does
SHORT = {"coarse_hours": 8, "overlap": 24, "tail": 336, "chains": 1, "plan_pull": 0.05}
LONG = {"coarse_hours": 24, "overlap": 6, "tail": 120, "chains": 2, "plan_pull": 0.0}


def window_starts(hours: int, window: int) -> list[int]:
    """Offsets (h) of the windows keeping `window` hours each over `hours`; a remainder shorter than half a
    window joins the window before, which then sees the horizon's end."""
    starts = list(range(0, hours, window))
    if len(starts) > 1 and hours - starts[-1] < window // 2:
        starts.pop()
    return starts


@dataclass(frozen=True)
class RollingOptions:
    """A rolling run's settings, every one resolved (build them with `for_horizon`).

    hours: the horizon; windowed: whether `gridopt run` splits it into windows at all (else one LP);
    window: hours kept per window; overlap: hourly look-ahead after them; tail: hours of coarse look-ahead
    after those (None: to the horizon's end) in blocks of tail_block hours; coarse_hours: hours per
    snapshot of the guide (the coarse solve); guide: what a window aims at when it ends ("targets": the
    coarse volumes, "rule": the case's planned volumes, "values": the coarse water values); plan_pull: CNY
    per MWh-hour pulling the coarse solve towards the plan; credit: water a window keeps above its targets
    earns the coarse water value; chains: consecutive runs of windows solved side by side (1: strictly
    sequential; as many as windows: every window on its own); processes: local processes for them;
    passes: runs, each after the first aimed at the water path the one before found.
    """

    hours: int
    windowed: bool
    window: int
    overlap: int
    tail: int | None
    tail_block: int
    coarse_hours: int
    guide: str
    plan_pull: float
    credit: bool
    chains: int
    processes: int
    passes: int

    @classmethod
    def for_horizon(cls, hours: int, **given: Any) -> RollingOptions:
        """The options for a horizon of `hours`, with `given` ones in place of the defaults.

        Besides the fields, `parallel` says how windows are grouped when `chains` is not given: True, every
        window on its own; False, one chain. `tail="auto"` or None for any other field means the default.
        """
        names = {f.name for f in fields(cls)} - {"hours", "windowed"}
        unknown = sorted(set(given) - names - {"parallel"})
        if unknown:
            raise UsageError(f"unknown rolling option(s): {', '.join(unknown)}")
        if hours < 1:
            raise UsageError(f"a rolling horizon needs hours >= 1, got {hours}")
        by = SHORT if hours <= SHORT_HORIZON_HOURS else LONG
        tail = given.pop("tail", "auto")
        parallel, chains, credit = given.pop("parallel", None), given.pop("chains", None), given.pop("credit", None)
        o = {"window": WINDOW_HOURS, "overlap": by["overlap"], "tail_block": TAIL_BLOCK_HOURS,
             "coarse_hours": by["coarse_hours"], "guide": "targets", "plan_pull": by["plan_pull"],
             "processes": PROCESSES, "passes": 1, **{k: v for k, v in given.items() if v is not None}}
        _check(o, tail)
        n = _chains(hours, o["window"], parallel, chains, 1 if o["guide"] == "values" else by["chains"])
        if n > 1 and o["guide"] == "values":
            raise UsageError("chains join on volume targets: use guide 'rule' or 'targets' with more than one chain")
        # the credit suits a guide finer than a day in one chain: chains start on the guide's volumes, so
        # water a chain keeps above them is lost where the next begins
        credit = o["coarse_hours"] < 24 and n == 1 if credit is None else bool(credit)
        windowed = hours > AUTO_ROLLING_HOURS if given.get("window") is None else 0 < o["window"] < hours
        return cls(hours=int(hours), windowed=windowed, window=int(o["window"]), overlap=int(o["overlap"]),
                   tail=by["tail"] if tail == "auto" else tail, tail_block=int(o["tail_block"]),
                   coarse_hours=int(o["coarse_hours"]), guide=o["guide"], plan_pull=float(o["plan_pull"]),
                   credit=credit and o["guide"] == "targets", chains=n, processes=int(o["processes"]),
                   passes=int(o["passes"]))

    @property
    def parallel(self) -> bool:
        """Whether windows run in more than one chain, side by side."""
        return self.chains > 1

    def aimed_at_path(self) -> RollingOptions:
        """These options for windows aimed at a given volume path: as targets, without the credit (a path
        says where the water should be, not what it is worth above it)."""
        return replace(self, guide="targets", credit=False)


def _check(o: dict[str, Any], tail: Any) -> None:
    """UsageError for any setting out of its range."""
    if o["guide"] not in GUIDES:
        raise UsageError(f"rolling guide must be 'rule', 'values' or 'targets', got {o['guide']!r}")
    if not o["plan_pull"] >= 0:
        raise UsageError(f"plan_pull must be >= 0 CNY per MWh-hour, got {o['plan_pull']}")
    if o["window"] < 0 or o["overlap"] < 0:
        raise UsageError(f"rolling window and overlap must be >= 0 hours, got {o['window']} and {o['overlap']}")
    bad_tail = (isinstance(tail, str) and tail != "auto") or (isinstance(tail, int) and tail < 0)
    if bad_tail or o["tail_block"] < 1:
        raise UsageError(f"rolling tail must be >= 0 hours, None or 'auto', and tail_block >= 1 hour, got {tail!r}, "
                         f"{o['tail_block']}")
    for key in ("coarse_hours", "passes", "processes"):
        if o[key] < 1:
            raise UsageError(f"rolling {key} must be >= 1, got {o[key]}")


def _chains(hours: int, window: int, parallel: bool | None, chains: int | None, default: int) -> int:
    """Chains actually run: as given or by default, at most one per window."""
    n_windows = len(window_starts(hours, window)) if window >= 1 else 1
    if chains is not None and chains < 1:
        raise UsageError(f"chains (independent sequences of windows) must be >= 1, got {chains}")
    if parallel is False and chains not in (None, 1):
        raise UsageError(f"{chains} chains run side by side: leave parallel out or True")
    wanted = (n_windows if parallel else 1 if parallel is False else default) if chains is None else chains
    return max(1, min(int(wanted), n_windows))
