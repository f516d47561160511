"""`dispatch_rolling`: the options resolved once, the guide solved once, then one or more passes of windows."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import pandas as pd

from ..errors import UsageError
from ..formulation.context import DispatchOptions
from ..network import Network
from ..results import Result
from .chains import WindowSolver, plan_chains, run_chains
from .guide import Guide, solve_guide
from .options import RollingOptions
from .passes import run_passes
from .stitch import stitch
from .windows import plan_windows

OPTION_KEYWORDS = frozenset({f.name for f in fields(RollingOptions)} - {"hours", "windowed"} | {"parallel"})
RUN_KEYWORDS = ("carbon_price", "kvl", "reserves", "gas", "imported_emissions")  # what the horizon's own options take


def dispatch_rolling(net: Network, start=None, hours: int | None = None, options: RollingOptions | None = None, *,
                     volumes: pd.DataFrame | None = None, carbon_caps: dict[str, float] | None = None,
                     intensity_caps: dict[str, float] | None = None, progress: Callable[[str], None] | None = None,
                     executor: Any = None, **kwargs: Any) -> Result:
    """Dispatch a long horizon window by window, guided by a coarse solve (see `gridopt.rolling`); returns
    one stitched Result.

    Rolling settings come whole as `options` or as keywords (window, overlap, tail, tail_block,
    coarse_hours, guide, plan_pull, credit, parallel, chains, processes, passes), the rest filled by
    `RollingOptions.for_horizon(hours)`. `volumes` (hm3 by hour x reservoir, e.g. `water_path` of an hourly
    result) replaces the coarse volumes as the windows' targets. Chains side by side run on `executor`
    (anything with `submit`, e.g. a dask.distributed Client) or else on local processes. Every other keyword
    goes unchanged to `dispatch` for the coarse solve and every window: carbon_price, kvl, reserves, gas,
    threads, time_limit (per solve), highs_options and `hooks`, which apply to the coarse solve too (write
    them per snapshot: a coarse snapshot lasts `ctx.dt` hours and weighs `ctx.weights`).
    """
    t_all = time.perf_counter()
    given = {k: kwargs.pop(k) for k in list(kwargs) if k in OPTION_KEYWORDS}
    run = DispatchOptions.create(net, start=start, hours=hours, carbon_caps=carbon_caps, intensity_caps=intensity_caps,
                                 **{k: v for k, v in kwargs.items() if k in RUN_KEYWORDS})
    if options is None:
        options = RollingOptions.for_horizon(run.hours, **given)
    elif given:
        raise UsageError(f"give rolling settings as options or as keywords, not both: {', '.join(sorted(given))}")
    elif options.hours != run.hours:
        raise UsageError(f"the rolling options are for {options.hours} h, the horizon has {run.hours} h")
    if options.window < 1:
        raise UsageError(f"rolling windows must keep >= 1 hour, got {options.window} (one LP: gridopt.dispatch)")
    if net.periods is not None:
        raise UsageError("representative periods are solved as one LP, not in rolling windows: run with --window 0")
    if net.extendable():
        raise UsageError(f"capacity expansion needs one LP over the whole horizon, not rolling windows: "
                         f"{', '.join(net.extendable())} extendable; run with --window 0")
    if volumes is not None and options.guide != "targets":
        raise UsageError(f"a given volume path guides windows as targets: guide must be 'targets', got "
                         f"{options.guide!r}")
    hooks = tuple(kwargs.pop("hooks", None) or ())
    say = progress or (lambda msg: None)
    guide = solve_guide(net, run, options, kwargs, hooks, say)
    solver = WindowSolver(net, {**kwargs, "hooks": hooks}, dict(run.intensity_caps), options.tail_block)
    one = OnePass(net, run, options, guide, solver, executor)
    result = run_passes(one, net, options.passes, volumes, progress)
    result.summary["rolling"]["wall_seconds"] = round(time.perf_counter() - t_all, 2)
    return result


@dataclass(frozen=True)
class OnePass:
    """One pass of windows over the horizon: called with a volume path to aim at (None: the guide's) and
    a progress callback."""

    net: Network
    run: DispatchOptions
    options: RollingOptions
    guide: Guide
    solver: WindowSolver
    executor: Any = None

    def __call__(self, volumes: pd.DataFrame | None, say: Callable[[str], None]) -> Result:
        t0 = time.perf_counter()
        options, guide = self.options, self.guide
        if volumes is not None:
            options, guide = options.aimed_at_path(), guide.following(volumes)
        windows = plan_windows(self.run.start, self.run.hours, options.window, options.overlap, options.tail)
        if options.credit:
            say("windows earn the coarse water value for water they keep above the coarse volumes")
        chains = plan_chains(windows, options.chains, guide, options.guide, options.credit,
                             dict(self.run.carbon_caps))
        results, starts = run_chains(self.solver, chains, options.processes, self.executor, say)
        settings = {"coarse_hours": options.coarse_hours, "tail_hours": windows[0].tail,
                    "tail_block_hours": options.tail_block, "mode": "parallel" if options.parallel else "sequential",
                    "chains": len(chains), "guide": "volumes" if volumes is not None else options.guide,
                    "plan_pull_cny_per_mwh_h": options.plan_pull, "credit": options.credit, "passes": 1}
        return stitch(self.net, self.run, windows, results, starts, guide.result, settings,
                      time.perf_counter() - t0)
