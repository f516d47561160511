"""Rolling horizons: long runs as a sequence of overlapping windows guided by a coarse whole-horizon solve.

1. Coarse solve: the horizon resampled to `coarse_hours` snapshots (by default 8 h up to a quarter of a
   year and daily beyond, `coarse_resolution`; series averaged, weightings summed,
   storage/reservoir/gas dynamics scaled by the snapshot's duration) and dispatched
   as one LP. It sees the whole horizon, so reservoirs and gas storages are not emptied myopically, and it
   knows where the case's plan is out of reach. It is pulled gently towards the plan (`plan_pull`, see
   PLAN_PULL_CNY_PER_MWH_H), because a daily model cannot tell where in a cascade water is worth holding.
2. Windows of `window` hours plus `overlap` hours of look-ahead (a remainder shorter than half a window
   joins the last window, which then sees the horizon's end). With ``guide="targets"`` (default) each
   window ends on the coarse volumes (elastic, as the case's end target) and at least 95 % of the coarse
   state of charge. With `credit` (by default with a guide finer than a day, in one chain: `credit_default`)
   the water it keeps above those volumes earns the coarse water value at its end, and water then on its
   way down earns the value of the reservoir it flows into. The volumes keep a window from spending what
   later weeks need; the credit lets it keep more where the guide's volumes are too low, as a coarse model's
   averaged peaks make them where the hourly dispatch runs turbines at full output. ``guide="rule"`` ends
   on the case's planned volumes (its `volume_target_hm3` series) where it has them and credits the water
   left in other reservoirs at the coarse water value;
   ``guide="values"`` credits all leftover water at the coarse water values; `volumes=` (a path by the
   hour, e.g. `water_path` of an hourly result) replaces the coarse volumes. A target volume is a
   reservoir's water: what is on its way in from upstream at the window's end counts towards it. (Without
   that, a window stops its releases in its last hours to hold that water in its targets, and spends as
   much earlier: windows aimed at the one-LP optimum's own daily volumes then cost +57 % on June 2025;
   counting it, +0.03 %.) So the gap to the one LP is the guide's: see the README's rolling section.
   After its `overlap` hourly hours of look-ahead a window sees `tail` more hours (None: to the horizon's
   end) in blocks of `tail_block` hours (default 3), a mixed-resolution network (`Network.resample(keep=)`);
   its targets then hold at the tail's end. By default (`look_ahead`) 24 + 336 h up to a quarter of a year
   and 6 + 120 h beyond. Sequential, on June 2025 with the daily guide and no credit, the gap to one LP is
   +2.4 % with 24 h of hourly look-ahead and no tail, and with a tail in 3-h blocks after 0 / 6 / 24 hourly
   hours: 96 h +1.2 %; 120 h +0.75 / +0.67 %; 168 h +0.66 / +0.53 %; 336 h +0.53 / - / +0.48 %. 6 + 120 h
   makes 214 snapshots per window (24 + 336 h: 304), and keeps a full year within 10 minutes. The
   hourly hours before the tail keep a window's end feasible hour by hour (with none, windows of a year
   started below the rising rule minimum: 0.40 G CNY of rule-curve penalties). The blocks must keep the
   daily shape: a two-week tail (guided by the plan, before targets counted the water in transit) gave
   +0.41 % in 3-h blocks, +2.6 % in 6-h and +5.2 % in 24-h blocks, whose averaged days need less water than
   the hourly ones and so let a window spend too much.
   Gas storages aim at the coarse inventory. A carbon cap over the horizon is split between windows in
   proportion to the coarse solve's emissions in their hours. The first window starts from the case's
   initial charge; the last keeps the case's own end targets, cycles (charge and gas inventory at least
   their initial values) and the remaining cap.
3. Sequential mode: each window starts from the state its predecessor reached at the end of its kept
   hours (volumes, water in transit hour by hour, state of charge, committed capacity, output, gas
   inventory). Parallel mode: the windows are split into `chains` consecutive runs (default: one per
   window), each solved in sequence as above, side by side on a process pool. Chains meet at boundary
   states taken from the guide (planned volumes with "rule", coarse volumes with "targets"; coarse state
   of charge, gas inventory, outflow in transit, output and commitment): a chain starts on the boundary
   before it, and its last window must reach the one after it at the end of its kept hours (volumes
   elastic, charge and gas hard; with "rule" its look-ahead then ends on the case's plan). A boundary
   volume is a reservoir's water: the part still in transit from upstream is subtracted from the start
   volume and counted in the predecessor's target. `summary["rolling"]["joins"]` reports what did not
   meet: water, charge or gas a window left above the next one's start (dropped) or below it (created;
   only where an elastic volume target was missed), and committed capacity found at a window's start,
   whose start-up cost the stitched objective adds. A chain's start volumes also stay within the case's
   rule curves at that hour and the next (they step at midnight). Gap to one LP with 6 + 120 h of
   look-ahead and no credit, June 2025 / August-September 2025: 2 chains +0.76 / +4.2 % (8-h guide) and
   +0.90 / +3.7 % (daily), one window per chain +2.5 / +5.1 % (8-h), against +0.41 / +2.5 % in one chain
   (benchmark records of 27 November 2026; one chain with the short-horizon defaults: +0.42 / +0.05 %). On
   the full year (measured with the plan as guide and no tail) 2 chains cost 0.03 % more than one and take
   half the time.
4. Passes: with `passes` > 1, each pass after the first aims its windows at the water path (`water_path`)
   the pass before found, and the cheapest pass is returned. June 2025, sequential 168 + 24 h without a
   tail (before the tail became the default): +2.41 / +1.68 / +1.28 % after 1 / 2 / 3 passes;
   August-September +4.16 / +3.90 / +3.91 %.
Only the first `window` hours of each window are kept; the kept hours together cover the horizon once.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from .checks import check_tables
from .engine import dispatch, table_summary
from .errors import UsageError
from .formulation.context import Context, DispatchOptions, State, Targets
from .formulation.hydro import initial_volume
from .network import Network
from .results import TABLES, Result
from .solvers.highs import has_solver
from .units import HM3_PER_M3S_HOUR


@dataclass
class Window:
    index: int
    start: pd.Timestamp
    hours: int  # solved hourly (kept + look-ahead)
    keep: int  # kept
    tail: int = 0  # hours of coarse look-ahead after the hourly ones

    @property
    def end(self) -> pd.Timestamp:
        """The last hour the window sees (its coarse look-ahead included)."""
        return self.start + pd.Timedelta(hours=self.hours + self.tail - 1)


def plan_windows(start: pd.Timestamp, hours: int, window: int, overlap: int, tail: int | None = 0) -> list[Window]:
    """Windows keeping `window` hours each, with `overlap` hours of hourly look-ahead and then `tail` hours
    (None: up to the horizon's end) of coarse look-ahead."""
    out = []
    starts = list(range(0, hours, window))
    if len(starts) > 1 and hours - starts[-1] < window // 2:
        starts.pop()  # a short remainder joins the window before, which then sees the horizon's end
    for k, s in enumerate(starts):
        keep = window if k < len(starts) - 1 else hours - s
        solved = min(keep + overlap, hours - s)
        rest = hours - s - solved
        out.append(Window(k, start + pd.Timedelta(hours=s), solved, keep, rest if tail is None else min(tail, rest)))
    return out


def _interp(coarse: pd.DataFrame, t0: pd.Timestamp, initial: pd.Series, when: pd.Timestamp, dt_h: float) -> pd.Series:
    """State at the end of hour `when` (i.e. at when + 1 h), linear between the coarse snapshots' end states."""
    ends = coarse.index + pd.Timedelta(hours=dt_h)  # each coarse value holds at the end of its snapshot
    x = np.r_[0.0, (ends - t0) / pd.Timedelta(hours=1)]
    target = (when + pd.Timedelta(hours=1) - t0) / pd.Timedelta(hours=1)
    out = {}
    for c in coarse.columns:
        y = np.r_[initial.get(c, coarse[c].iloc[0]), coarse[c].to_numpy()]
        out[c] = float(np.interp(target, x, y))
    return pd.Series(out)


def _pivot(res: Result, table: str, index: str, col: str) -> pd.DataFrame:
    df = res.tables[table]
    if not len(df):
        return pd.DataFrame()
    return df.pivot(index="hour", columns=index, values=col)


def _solve_window(net: Network, w: Window, state: State | None, targets: Targets | None, caps: dict, icaps: dict,
                  kwargs: dict, tail_block: int = 3) -> Result:
    hours = w.hours
    if w.tail:  # hourly hours, then the coarse look-ahead in blocks of tail_block hours
        net = net.slice(w.start, w.hours + w.tail).resample(tail_block, keep=w.hours)
        hours = len(net.snapshots)
    r = dispatch(net, start=w.start, hours=hours, carbon_caps=caps, intensity_caps=icaps, state=state,
                 targets=targets, **kwargs)
    r.context, r.solution = None, None  # keep what crosses a process boundary small
    return r


# The coarse solve's pull towards the case's plan: CNY per MWh of stored water (by its energy down the
# cascade) and hour away from the planned volume. A daily model cannot see the within-day limits (turbines
# at the peak, pumped storage cycles) that decide where in a cascade water is worth holding, so on its own
# it holds water where the hourly dispatch cannot use it (June 2025: 1 km3 more than the plan in Wudongde
# and in Ertan, as much less in Baihetan and in Xiluodu), and windows that aim at it pay for that. The pull
# keeps each reservoir near its plan unless a daily reason outweighs it: 1 TWh held away from the plan for
# a month costs 36 M CNY, beside the 4,000 CNY/MWh of a missed export contract. Measured on the shipped
# case, sequential windows aiming at coarse volumes (water in transit counted): pull 0 / 0.05 / 0.1 / 0.2
# gave June +15.8 / +2.4 / +1.9 / +1.9 % and August-September +3.6 / +4.1 / +4.9 / +6.2 % above the one-LP
# optimum; 0.05 has the smallest worst case. No pull is right everywhere: in early August 2025 the optimum
# holds the Yalong cascade about 1.5 TWh above its plan, where the pulled daily model stays.
PLAN_PULL_CNY_PER_MWH_H = 0.05

# Horizons up to a quarter of a year favour accuracy, longer ones time. Up to SHORT_HORIZON_HOURS the coarse
# solve has 8-h snapshots (three a day: the evening peak apart from the night, which decides how much water a
# day needs and when it sells best; a daily model averages both away), windows look 24 h ahead hourly and 336 h
# more in 3-h blocks, water kept above the guide's volumes earns its value (credit_default), and the command
# line solves the windows in one chain. Beyond, the coarse solve is daily, windows look 6 + 120 h ahead and the
# command line runs 2 chains, which keeps a year within 10 minutes. Gap to one LP, sequential, June 2025 /
# August-September 2025 (1,440 h), benchmark records at f16300e: 8-h guide and credit, 24 + 336 h
# +0.42 / +0.05 % (104 / 282 s; one LP 125 / 452 s), 6 + 120 h +0.54 / +0.47 % (74 / 154 s); without the
# credit 6 + 120 h +0.41 / +2.5 %, 24 + 336 h +1.2 / +2.4 %; the daily guide, 6 + 120 h, +0.65 / +3.5 %.
# In 2 chains +0.76 / +4.2 % (8-h) and +0.90 / +3.7 % (daily): the chains meet on the guide's own state. A year
# in 8-h snapshots (1,095, 1.4 M nonzeros) takes 85 s on HiPO without crossover (221 s with) against 22 s daily,
# and the year in 2 chains came out at 63.95 against 63.93 G CNY in 11:05 against 9:10: nothing gained there.
SHORT_HORIZON_HOURS = 2190


def coarse_resolution(hours: int) -> int:
    """Hours per snapshot of the coarse solve over a horizon of `hours` (see SHORT_HORIZON_HOURS)."""
    return 8 if hours <= SHORT_HORIZON_HOURS else 24


def look_ahead(hours: int) -> tuple[int, int]:
    """A window's look-ahead over a horizon of `hours`: hours hourly, then hours in blocks (see
    SHORT_HORIZON_HOURS). 24 h + 336 h in 3-h blocks up to a quarter of a year, 6 h + 120 h beyond."""
    return (24, 336) if hours <= SHORT_HORIZON_HOURS else (6, 120)


def credit_default(coarse_hours: int, chains: int) -> bool:
    """Whether windows aiming at coarse volumes also earn the coarse water value for water kept above them,
    unless `credit` says: with a guide finer than a day, in one chain. Measured against one LP (sequential,
    gap with / without the credit, June 2025 and August-September 2025, 1,440 h): 8-h guide, 24 + 336 h of
    look-ahead +0.42 / +1.2 % and +0.05 / +2.4 %; 6 + 120 h +0.54 / +0.41 % and +0.47 / +2.5 %; daily
    guide, 6 + 120 h (by hand) +0.92 / +0.65 % and +1.8 / +3.5 %. In chains the water a chain keeps above the
    guide is dropped where the next starts on the guide's volumes: 2 chains, 8-h guide, 6 + 120 h, +0.86 /
    +0.76 % and +4.7 / +4.2 % (by hand); the year (daily guide, 2 chains) 64.07 against 63.93 G CNY, 363 hm3
    dropped at the join. With 6 + 120 h June loses a little to water kept mid-month (0.5-0.8 TWh above the
    optimum, 0.7 TWh of it at Lianghekou, spent by the month's end); values without the pull's share (the sum
    of its duals ahead, 2-4 % of a value) did worse there, +0.64 %."""
    return coarse_hours < 24 and chains == 1


def _pull_to_plan(pull: float):
    """A build hook for the coarse solve: `pull` CNY per MWh-hour on each planned reservoir's distance from
    its plan (the plan clipped to the reservoir's limits)."""

    def hook(ctx: Context) -> None:
        lp = ctx.lp
        res = ctx.data.get("reservoirs")
        if res is None or not len(res):
            return
        has = ctx.has_series("volume_target_hm3", res.index)
        if not has.any():
            return
        names = res.index[has]
        plan = np.clip(ctx.series("volume_target_hm3", names), res.loc[names, "volume_min_hm3"].to_numpy(),
                       res.loc[names, "volume_max_hm3"].to_numpy())
        cost = ctx.weights[:, None] * pull * ctx.data["mwh_per_hm3"][has]
        above = lp.add_variables("plan_above", names, 0.0, np.inf, cost)
        below = lp.add_variables("plan_below", names, 0.0, np.inf, cost)
        lp.add_constraint("plan_distance", names,
                          [(lp.variables["hydro_volume"].idx[:, has], 1.0), (above, -1.0), (below, 1.0)], plan, plan)

    return hook


_NET: Network | None = None


def _worker_init(net: Network) -> None:
    global _NET
    _NET = net


def _worker(chain: _Chain) -> tuple[list[Result], list[State]]:
    return _run_chain(_NET, chain)


@dataclass
class _Chain:
    """Consecutive windows solved in sequence, from a start state, with each window's targets and caps."""
    windows: list[Window]
    start: State
    targets: list[Targets | None]
    caps: list[dict[str, float]]
    budget: dict[str, float]  # the chain's carbon caps over its kept hours
    extra: dict[str, float]  # and over its last window's look-ahead beyond them
    icaps: dict[str, float]
    kwargs: dict
    tail_block: int


def _run_chain(net: Network, chain: _Chain, say=lambda msg: None) -> tuple[list[Result], list[State]]:
    """Solve a chain's windows in order, each from the state its predecessor reached after its kept hours."""
    gs = net.active("gas_storages")
    state, remaining = chain.start, dict(chain.budget)
    results, starts = [], []
    for k, w in enumerate(chain.windows):
        say(f"window {w.index + 1}: {w.start} +{w.hours} h" + (f" +{w.tail} h coarse" if w.tail else ""))
        wcaps, tg = chain.caps[k], chain.targets[k]
        if k == len(chain.windows) - 1 and remaining:
            wcaps = {key: remaining[key] + chain.extra.get(key, 0.0) for key in remaining}
            if tg is not None and tg.hour is not None:  # the chain goes on past its kept hours: keep them in budget
                tg = replace(tg, carbon_caps_t=dict(remaining))
        starts.append(state)
        r = _solve_window(net, w, state, tg, wcaps, chain.icaps, chain.kwargs, chain.tail_block)
        results.append(r)
        state = _state_after(net, r, w, gs)
        kept_em = _kept(r, w)["emissions"]
        for key in remaining:
            sel = kept_em[kept_em["region"].isin(net.regions)] if key == "system" else kept_em[kept_em["region"] == key]
            remaining[key] -= float(sel["co2_t"].sum())
    return results, starts


def dispatch_rolling(net: Network, start=None, hours: int | None = None, window: int = 168,
                     overlap: int | None = None, coarse_hours: int | None = None, tail: int | None | str = "auto",
                     tail_block: int = 3, parallel: bool = False,
                     processes: int = 2, chains: int | None = None,
                     guide: str = "targets", plan_pull: float = PLAN_PULL_CNY_PER_MWH_H, credit: bool | None = None,
                     volumes: pd.DataFrame | None = None, passes: int = 1,
                     carbon_caps: dict[str, float] | None = None, intensity_caps: dict[str, float] | None = None,
                     progress=None, **kwargs: Any) -> Result:
    """Dispatch a long horizon window by window (see the module's docstring); returns one stitched Result."""
    t_all = time.perf_counter()
    opts = DispatchOptions.create(net, start=start, hours=hours, carbon_caps=carbon_caps, intensity_caps=intensity_caps,
                                  **{k: v for k, v in kwargs.items() if k in ("carbon_price", "kvl", "reserves", "gas")})
    t0, H = opts.start, opts.hours
    say = progress or (lambda msg: None)
    caps, icaps = dict(opts.carbon_caps), dict(opts.intensity_caps)
    kw = {k: v for k, v in kwargs.items() if k not in ("hooks",)}

    if guide not in ("rule", "values", "targets"):
        raise UsageError(f"rolling guide must be 'rule', 'values' or 'targets', got {guide!r}")
    if plan_pull < 0:
        raise UsageError(f"plan_pull must be >= 0 CNY per MWh-hour, got {plan_pull}")
    if (isinstance(tail, str) and tail != "auto") or (isinstance(tail, int) and tail < 0) or tail_block < 1:
        raise UsageError(f"rolling tail must be >= 0 hours, None or 'auto', and tail_block >= 1 hour, got {tail!r}, "
                         f"{tail_block}")
    if overlap is not None and overlap < 0:
        raise UsageError(f"rolling overlap must be >= 0 hours (or None: by the horizon), got {overlap}")
    if chains is not None and (not parallel or chains < 1):
        raise UsageError(f"chains (independent sequences of windows) need parallel mode and >= 1, got {chains}")
    if parallel and guide == "values":
        raise UsageError("parallel windows join on volume targets: use guide 'rule' or 'targets'")
    if volumes is not None and guide != "targets":
        raise UsageError(f"a given volume path guides windows as targets: guide must be 'targets', got {guide!r}")
    if passes < 1:
        raise UsageError(f"rolling passes must be >= 1, got {passes}")
    if coarse_hours is not None and coarse_hours < 1:
        raise UsageError(f"coarse_hours must be >= 1 hour (or None: by the horizon), got {coarse_hours}")
    if passes > 1:  # each pass aims its windows at the water path the pass before it found; the best is kept
        same = dict(start=start, hours=hours, window=window, overlap=overlap, coarse_hours=coarse_hours, tail=tail,
                    tail_block=tail_block, parallel=parallel, processes=processes, chains=chains,
                    plan_pull=plan_pull, credit=credit, carbon_caps=carbon_caps, intensity_caps=intensity_caps, **kwargs)
        runs = []
        for k in range(passes):
            tell = (lambda msg, k=k: progress(f"pass {k + 1}: {msg}")) if progress else None
            path = water_path(net, runs[-1]) if runs else volumes
            runs.append(dispatch_rolling(net, guide=guide if not runs else "targets", volumes=path, progress=tell,
                                         **same))
        objectives = [r.summary["objective_cny"] for r in runs]
        best = runs[int(np.argmin(objectives))]
        info = best.summary["rolling"]
        info.update(passes=passes, pass_objectives_cny=objectives, best_pass=int(np.argmin(objectives)) + 1,
                    wall_seconds=round(time.perf_counter() - t_all, 2))
        return best

    # 1. coarse guidance over the whole horizon
    hourly_ctx = Context.create(net, opts)
    res_tab = net.active("reservoirs")
    v_start = pd.Series(initial_volume(hourly_ctx, res_tab), index=res_tab.index)
    # the horizon starts from the case's initial charge and gas inventory; where the case asks for a cycle,
    # the last window must end with at least as much (a carried state replaces a window's own cycle)
    su_tab, gs = net.active("storage_units"), net.active("gas_storages")
    first = State(volume_hm3=v_start.to_dict(), soc_mwh=su_tab["state_of_charge_initial"].to_dict())
    last_targets = Targets(
        soc_min_mwh=su_tab["state_of_charge_initial"][su_tab["cyclic_state_of_charge"]].to_dict(),
        gas_inventory_min_mm3=gs["inventory_initial_mm3"][gs["cyclic"]].to_dict())
    coarse_hours = coarse_resolution(H) if coarse_hours is None else int(coarse_hours)
    coarse_net = net.slice(t0, H).resample(coarse_hours)
    say(f"coarse solve: {len(coarse_net.snapshots)} snapshots of {coarse_hours} h")
    coarse = dispatch(coarse_net, carbon_caps=caps, intensity_caps=icaps, state=State(volume_hm3=v_start.to_dict()),
                      hooks=(_pull_to_plan(plan_pull),) if plan_pull else (), **_coarse_solver(kw))
    vol_c = _pivot(coarse, "hydro", "reservoir", "volume_hm3")
    wv_c = _pivot(coarse, "hydro", "reservoir", "water_value_cny_per_hm3")
    soc_c = _pivot(coarse, "storage", "unit", "soc_mwh")
    gas_c = coarse.tables["gas"].pivot(index="hour", columns="node", values="inventory_mm3") if len(coarse.tables["gas"]) else pd.DataFrame()
    em_c = coarse.tables["emissions"]
    vol_dt = coarse_hours  # the guide's volumes: the coarse solve's, or a path given by the hour
    if volumes is not None:
        vol_c, vol_dt = _given_volumes(volumes, vol_c, t0, H), 1

    auto_overlap, auto_tail = look_ahead(H)
    windows = plan_windows(t0, H, window, auto_overlap if overlap is None else overlap,
                           auto_tail if tail == "auto" else tail)
    # windows are solved in chains: each chain in sequence, carrying every state from window to window; the
    # chains run side by side and join at boundary states taken from the guide. Sequential mode is one chain,
    # parallel mode one chain per window unless `chains` says otherwise.
    n_chains = 1 if not parallel else len(windows) if chains is None else max(1, min(int(chains), len(windows)))
    credit = credit_default(coarse_hours, n_chains) if credit is None else bool(credit)
    credit = credit and guide == "targets" and volumes is None
    if credit:
        say("windows earn the coarse water value for water they keep above the coarse volumes")
    planned = set(net.series["volume_target_hm3"].columns) if "volume_target_hm3" in net.series else set()

    def targets_for(w: Window) -> Targets | None:
        if w.index == len(windows) - 1 or w.end == t0 + pd.Timedelta(hours=H - 1):
            return last_targets  # a window that sees the horizon's end keeps the case's own end targets
        end = w.end
        vol = _interp(vol_c, t0, v_start, end, vol_dt) if len(vol_c.columns) else pd.Series(dtype=float)
        soc = _interp(soc_c, t0, pd.Series(dtype=float), end, coarse_hours) if len(soc_c.columns) else pd.Series(dtype=float)
        gas = _gas_storage_targets(net, gas_c, t0, end, coarse_hours)
        at = lambda frame: frame.iloc[min(frame.index.searchsorted(end, side="right") - 1, len(frame) - 1)]
        values = at(wv_c).to_dict() if len(wv_c.columns) else {}
        if guide == "rule":  # the case's planned volumes (its target series) at each window's end where it has them
            cols = [r for r in res_tab.index if r in planned]
            plan_end = net.series["volume_target_hm3"].loc[end, cols].clip(
                res_tab.loc[cols, "volume_min_hm3"], res_tab.loc[cols, "volume_max_hm3"])
            return Targets(volume_hm3=plan_end.to_dict(),
                           water_value_cny_per_hm3={r: v for r, v in values.items() if r not in planned},
                           gas_inventory_min_mm3=gas, case_end_target=False, transit_hm3={})
        if guide == "values":  # what the coarse solve says water is worth at the window's end
            # (pumped storage cycles within a day: its coarse, daily value misleads, so it is left free)
            return Targets(water_value_cny_per_hm3=values, gas_inventory_min_mm3=gas, case_end_target=False)
        # a window may end a little below the coarse charge: the next one starts where it ended. A coarse
        # volume is a reservoir's water: what is still on its way in from upstream counts towards it (else a
        # window stops its releases before the end, to keep that water in its targets, and spends it earlier).
        # With `credit`, water kept above the targets earns the coarse water value (see credit_default)
        return Targets(volume_hm3=vol.to_dict(), soc_min_mwh=(0.95 * soc).to_dict(), gas_inventory_min_mm3=gas,
                       case_end_target=False, transit_hm3={},
                       water_value_cny_per_hm3=values if credit else {})

    def cap_share(a: pd.Timestamp, b: pd.Timestamp) -> dict[str, float]:
        """Each carbon cap times the coarse solve's share of its emissions in hours [a, b)."""
        out = {}
        for key, cap in caps.items():
            sel = em_c[em_c["region"].isin(net.regions)] if key == "system" else em_c[em_c["region"] == key]
            per = sel.groupby("hour")["co2_t"].sum()
            if per.sum() <= 0:  # the coarse solve emits nothing there: share by hours
                per = pd.Series(1.0, index=pd.date_range(t0, periods=H, freq="h"))
            out[key] = float(cap * per[(per.index >= a) & (per.index < b)].sum() / per.sum())
        return out

    groups = [list(g) for g in np.array_split(np.arange(len(windows)), n_chains)]
    boundary = _boundaries(net, coarse, guide, t0, v_start, coarse_hours, vol_c, soc_c, gas_c, vol_dt) \
        if n_chains > 1 else None
    jobs = []
    for g in groups:
        ws = [windows[i] for i in g]
        start_state = first if g[0] == 0 else boundary(ws[0].start - pd.Timedelta(hours=1))
        tgs = [targets_for(w) for w in ws]
        kept_end = ws[-1].start + pd.Timedelta(hours=ws[-1].keep)
        budget = cap_share(ws[0].start, kept_end) if caps else {}
        if g[-1] < len(windows) - 1:
            # the chain's last window reaches the next chain's start boundary at the end of its kept hours,
            # and emits there no more than its chain has left; its look-ahead then ends on the case's plan
            w = ws[-1]
            nxt = boundary(w.start + pd.Timedelta(hours=w.keep - 1))
            tgs[-1] = Targets(volume_hm3=nxt.volume_hm3, soc_min_mwh=nxt.soc_mwh,
                              gas_inventory_min_mm3=nxt.gas_inventory_mm3, case_end_target=guide == "rule",
                              transit_hm3=_transit(net, nxt.outflow_m3s), hour=w.keep - 1)
        # a window's cap covers its hours, look-ahead included; the chain's last takes what its chain has left,
        # plus the share of its look-ahead beyond the chain
        wcaps = [cap_share(w.start, w.end + pd.Timedelta(hours=1)) for w in ws]
        extra = cap_share(kept_end, ws[-1].end + pd.Timedelta(hours=1)) if caps else {}
        jobs.append(_Chain(ws, start_state, tgs, wcaps, budget, extra, icaps, kw, tail_block))
    if n_chains == 1:
        done = [_run_chain(net, jobs[0], say)]
    else:
        say(f"{len(windows)} windows in {n_chains} independent chains on {processes} processes")
        ctx = multiprocessing.get_context("fork")
        with cf.ProcessPoolExecutor(max_workers=processes, mp_context=ctx, initializer=_worker_init,
                                    initargs=(net,)) as pool:
            done = list(pool.map(_worker, jobs))
    results = [r for rs, _ in done for r in rs]
    starts = [st for _, sts in done for st in sts]

    joins, unpaid_at = _joins(net, windows, results, starts, gs)
    settings = {"coarse_hours": coarse_hours, "tail_hours": windows[0].tail, "tail_block_hours": tail_block,
                "mode": "parallel" if parallel else "sequential", "chains": n_chains,
                "guide": "volumes" if volumes is not None else guide,
                "plan_pull_cny_per_mwh_h": plan_pull, "credit": credit,
                "passes": 1}
    return _stitch(net, opts, windows, results, coarse, settings, time.perf_counter() - t_all, joins, unpaid_at)


def _coarse_solver(kw: dict) -> dict:
    """The coarse solve runs HiPO where the solver is left to choose and highspy-extras is installed: on daily
    LPs of the shipped case it wins from a few months up (one thread, s, IPX against HiPO: a month 0.86 / 0.88,
    two months 2.2 / 2.7, half a year 15.9 / 10.9, the year 46 / 25), below the size where hourly LPs favour it."""
    options = dict(kw.get("highs_options") or {})
    if options.get("solver", "auto") == "auto" and has_solver("hipo"):
        options["solver"] = "hipo"
    return {**kw, "highs_options": options}


def _boundaries(net: Network, coarse: Result, guide: str, t0: pd.Timestamp, v_start: pd.Series, coarse_hours: int,
                vol_c: pd.DataFrame, soc_c: pd.DataFrame, gas_c: pd.DataFrame, vol_dt: float | None = None):
    """The boundary state at the end of any hour, where chains of windows meet: planned volumes ("rule")
    or coarse volumes ("targets") less the water then in transit, and the coarse solve's charge, gas
    inventory, outflows (the water in transit) and commitment (`*_c`: the coarse solve's volumes, charge
    and gas inventories by hour)."""
    res_tab = net.active("reservoirs")
    coarse_out = _pivot(coarse, "hydro", "reservoir", "release_m3s") + _pivot(coarse, "hydro", "reservoir", "spill_m3s") \
        if len(vol_c.columns) else pd.DataFrame()
    gen_c = coarse.tables["generation"]
    max_delay = int(res_tab["delay_hours"].max() or 0) if len(vol_c.columns) else 0
    plan = net.series.get("volume_target_hm3")

    def boundary(when: pd.Timestamp) -> State:
        st = State()
        if len(vol_c.columns):
            vol = _interp(vol_c, t0, v_start, when, vol_dt or coarse_hours)
            if guide == "rule" and plan is not None:
                cols = [r for r in plan.columns if r in vol.index]
                pv = plan.loc[when, cols].clip(res_tab.loc[cols, "volume_min_hm3"], res_tab.loc[cols, "volume_max_hm3"])
                vol[cols] = pv
            if max_delay:
                hrs = pd.date_range(when - pd.Timedelta(hours=max_delay - 1), when, freq="h")
                pos = np.clip(coarse_out.index.searchsorted(hrs, side="right") - 1, 0, len(coarse_out) - 1)
                st.outflow_m3s = pd.DataFrame(coarse_out.to_numpy()[pos], index=hrs, columns=coarse_out.columns)
                # the guide's volume is the reservoir's water: part of it is still on its way in
                transit = pd.Series(_transit(net, st.outflow_m3s), dtype=float).reindex(vol.index, fill_value=0.0)
                vol = np.maximum(vol - transit, res_tab.loc[vol.index, "volume_min_hm3"])
            # and within the case's rule curves at that hour and the next, the next chain's first: the curves
            # step at midnight, where chains meet (Xiluodu's minimum rises 75 hm3 on 26 September 2025, which a
            # chain starting on the day before's minimum could not make up at once: 0.6 G CNY of penalties)
            for series, bound in (("volume_min_rule_hm3", np.fmax), ("volume_max_rule_hm3", np.fmin)):
                rule = net.series.get(series)
                at = [] if rule is None else [h for h in (when, when + pd.Timedelta(hours=1)) if h in rule.index]
                if at:
                    cols = [r for r in rule.columns if r in vol.index]
                    vol[cols] = bound(vol[cols], bound.reduce(rule.loc[at, cols].to_numpy(), axis=0))
            st.volume_hm3 = vol.to_dict()
        if len(soc_c.columns):
            st.soc_mwh = _interp(soc_c, t0, pd.Series(dtype=float), when, coarse_hours).to_dict()
        st.gas_inventory_mm3 = _gas_storage_targets(net, gas_c, t0, when, coarse_hours)
        day = gen_c[gen_c["hour"] == gen_c["hour"][gen_c["hour"] <= when].max()].set_index("unit")
        st.p_mw = day["p_mw"].to_dict()
        st.committed_mw = day["committed_mw"].dropna().to_dict()
        return st

    return boundary


def water_path(net: Network, result: Result) -> pd.DataFrame:
    """Each reservoir's water at the end of every hour of an hourly `result` (hm3, hour x reservoir): its
    volume plus what is on its way in from upstream (released in the last `delay_hours`; before the first
    hour, only what the result released). A path to guide rolling windows: `dispatch_rolling(volumes=)`."""
    hy = result.tables["hydro"]
    vol = hy.pivot(index="hour", columns="reservoir", values="volume_hm3")
    out = hy.pivot(index="hour", columns="reservoir", values="release_m3s") \
        + hy.pivot(index="hour", columns="reservoir", values="spill_m3s")
    return vol.add(_in_transit(net, out), fill_value=0.0)[vol.columns]


def _given_volumes(volumes: pd.DataFrame, coarse_vol: pd.DataFrame, t0: pd.Timestamp, H: int) -> pd.DataFrame:
    """A given volume path (hm3 at the end of each hour) checked against the horizon and the reservoirs."""
    hours = pd.date_range(t0, periods=H, freq="h")
    missing = [r for r in coarse_vol.columns if r not in volumes.columns]
    if missing or not hours.isin(volumes.index).all():
        raise UsageError(f"the volume path must give every hour of the horizon for every reservoir; "
                         f"{'missing ' + ', '.join(missing) if missing else 'hours are missing'}")
    path = volumes.loc[hours, list(coarse_vol.columns)].astype(float)
    if not np.isfinite(path.to_numpy()).all():
        raise UsageError("the volume path has values that are not finite numbers")
    return path


def _gas_storage_targets(net: Network, gas_c: pd.DataFrame, t0, when, dt_h) -> dict[str, float]:
    """Coarse inventory per gas node at the end of hour `when`, per storage."""
    gs = net.active("gas_storages")
    if not len(gas_c.columns) or not len(gs):
        return {}
    return _per_storage(_interp(gas_c, t0, pd.Series(dtype=float), when, dt_h), gs)


def _per_storage(node_inventory: pd.Series, gs: pd.DataFrame) -> dict[str, float]:
    """A gas node's inventory (Mm3) shared out to its storages in proportion to working-gas capacity."""
    cap = gs["working_gas_mm3"]
    share = cap / cap.groupby(gs["node"]).transform("sum")
    return {s: float(node_inventory.get(gs.at[s, "node"], 0.0) * share[s]) for s in gs.index}


def _kept(r: Result, w: Window) -> dict[str, pd.DataFrame]:
    end = w.start + pd.Timedelta(hours=w.keep)
    return {k: (df[df["hour"] < end] if len(df) and "hour" in df else df) for k, df in r.tables.items()}


def _state_after(net: Network, r: Result, w: Window, gs: pd.DataFrame) -> State:
    """The state at the end of the window's kept hours, for the next window."""
    last = w.start + pd.Timedelta(hours=w.keep - 1)
    t = r.tables
    st = State()
    hy = t["hydro"]
    if len(hy):
        at = hy[hy["hour"] == last].set_index("reservoir")
        st.volume_hm3 = at["volume_hm3"].to_dict()
        kept = hy[hy["hour"] <= last]
        out = (kept["release_m3s"] + kept["spill_m3s"]).groupby([kept["hour"], kept["reservoir"]]).sum().unstack()
        max_delay = int(net.active("reservoirs")["delay_hours"].max() or 0)
        st.outflow_m3s = out.iloc[-max_delay:] if max_delay else None
    if len(t["storage"]):
        st.soc_mwh = t["storage"][t["storage"]["hour"] == last].set_index("unit")["soc_mwh"].to_dict()
    g = t["generation"]
    gl = g[g["hour"] == last].set_index("unit")
    st.p_mw = gl["p_mw"].to_dict()
    st.committed_mw = gl["committed_mw"].dropna().to_dict()
    if len(gs) and len(t["gas"]):
        st.gas_inventory_mm3 = _per_storage(t["gas"][t["gas"]["hour"] == last].set_index("node")["inventory_mm3"], gs)
    return st


def _transit(net: Network, outflow: pd.DataFrame | None) -> dict[str, float]:
    """Water on its way to each reservoir (hm3) after the last row of `outflow` (upstream outflow, m3/s, rows
    in time order)."""
    if outflow is None or not len(outflow):
        return {}
    return _in_transit(net, outflow).iloc[-1].to_dict()


def _in_transit(net: Network, outflow: pd.DataFrame) -> pd.DataFrame:
    """Water on its way to each reservoir (hm3) after every row of `outflow` (upstream outflow, m3/s, rows in
    time order): each upstream reservoir's last `delay_hours` rows (fewer at the start)."""
    res = net.active("reservoirs")
    out = pd.DataFrame(index=outflow.index)
    for u, (d, delay) in res[["downstream", "delay_hours"]].iterrows():
        n = int(np.rint(delay))
        if d in res.index and n > 0 and u in outflow.columns:
            part = outflow[u].rolling(n, min_periods=1).sum() * HM3_PER_M3S_HOUR
            out[d] = out[d] + part if d in out else part
    return out


def _joins(net: Network, windows: list[Window], results: list[Result], starts: list[State],
           gs: pd.DataFrame) -> tuple[dict[str, float], list[float]]:
    """How far each window's end state (after its kept hours) is from the state the next window started
    from, summed over the joins: `dropped` is what a window kept that the next did not get (lost, a
    conservative error), `created` is what the next window started with that its predecessor did not leave.
    Water counts each reservoir's volume plus the water on its way in from upstream; committed capacity
    created at a join was started without paying its start-up cost (`start_up_unpaid_cny`), which the
    stitched start-up cost adds in the window's first hour.
    Sequential windows carry their state exactly (all zero); parallel windows join where their end targets hold."""
    out = {"water_dropped_hm3": 0.0, "water_created_hm3": 0.0, "soc_dropped_mwh": 0.0, "soc_created_mwh": 0.0,
           "gas_dropped_mm3": 0.0, "gas_created_mm3": 0.0, "committed_dropped_mw": 0.0, "committed_created_mw": 0.0,
           "start_up_unpaid_cny": 0.0}
    g = net.tables["generators"]
    unpaid_at = [0.0]  # per window, paid in its first hour
    for k in range(1, len(windows)):
        end = _state_after(net, results[k - 1], windows[k - 1], gs)
        nxt = starts[k]
        # a reservoir's water: its volume plus what is on its way in from upstream
        water = [{r: v + t.get(r, 0.0) for r, v in st.volume_hm3.items()}
                 for st, t in ((end, _transit(net, end.outflow_m3s)), (nxt, _transit(net, nxt.outflow_m3s)))]
        for key, a, b in (("water_", *water), ("soc_", end.soc_mwh, nxt.soc_mwh),
                          ("gas_", end.gas_inventory_mm3, nxt.gas_inventory_mm3),
                          ("committed_", end.committed_mw, nxt.committed_mw)):
            d = np.array([a[e] - b[e] for e in a if e in b])
            unit = {"water_": "hm3", "soc_": "mwh", "gas_": "mm3", "committed_": "mw"}[key]
            out[f"{key}dropped_{unit}"] += float(d[d > 0].sum())
            out[f"{key}created_{unit}"] += float(-d[d < 0].sum())
        created = {e: max(nxt.committed_mw[e] - v, 0.0) for e, v in end.committed_mw.items() if e in nxt.committed_mw}
        unpaid = float(sum(v * g.at[e, "start_up_cost"] for e, v in created.items()))
        out["start_up_unpaid_cny"] += unpaid
        unpaid_at.append(unpaid)
    return {k: round(float(v), 6) for k, v in out.items()}, unpaid_at


def _stitch(net: Network, opts: DispatchOptions, windows: list[Window], results: list[Result], coarse: Result,
            settings: dict[str, Any], seconds: float, joins: dict[str, float], unpaid_at: list[float]) -> Result:
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        parts = [_kept(r, w)[name] for r, w in zip(results, windows) if name in r.tables]
        parts = [p for p in parts if len(p)]
        tables[name] = pd.concat(parts, ignore_index=True) if parts else results[0].tables.get(name, pd.DataFrame())
    cost_h: dict[str, list] = {}
    pen_h: dict[str, list] = {}
    for r, w in zip(results, windows):
        for key, store in (("cost", cost_h), ("penalties", pen_h)):
            for k, v in r.parts[key].items():
                store.setdefault(k, []).append(np.asarray(v)[:w.keep])
    cost = {k: np.concatenate(v) for k, v in cost_h.items()}
    if "start_up_cny" in cost:  # capacity a parallel window found committed at its start is started there
        first = np.cumsum([0] + [w.keep for w in windows[:-1]])
        cost["start_up_cny"][first] += unpaid_at
    pen = {k: np.concatenate(v) for k, v in pen_h.items()}
    snaps = pd.date_range(opts.start, periods=opts.hours, freq="h")
    weights = pd.Series(net.weightings(slice(net.snapshots.get_loc(opts.start), net.snapshots.get_loc(opts.start) + opts.hours)),
                        index=snaps)
    summary = {k: v for k, v in results[0].summary.items() if k in ("case", "scenario", "gridopt_version",
                                                                     "highspy_version", "input_hash", "kvl")}
    summary.update(table_summary(net, weights, tables, cost, pen))
    statuses = [r.summary["status"] for r in results]
    summary.update({
        "start": opts.start.isoformat(), "hours": opts.hours,
        "status": "optimal" if all(s == "optimal" for s in statuses) else "error",
        "objective_cny": float(sum(np.sum(v) for v in cost.values()) + sum(np.sum(v) for v in pen.values())),
        "carbon_price_cny_per_t": opts.carbon_price, "carbon_caps_t": opts.carbon_caps,
        "carbon_intensity_caps_t_per_mwh": opts.intensity_caps,
        "carbon_shadow_price_cny_per_t": coarse.summary["carbon_shadow_price_cny_per_t"],
        "rolling": {"windows": len(windows), "window_hours": windows[0].keep,
                    "overlap_hours": windows[0].hours - windows[0].keep, **settings,
                    # its cost and penalties, without the pull towards the plan
                    "coarse_objective_cny": coarse.summary["cost_total_cny"] + coarse.summary["penalties_total_cny"],
                    "coarse_solve_seconds": coarse.summary["solve_seconds"],
                    "coarse_algorithm": coarse.summary.get("algorithm", ""), "wall_seconds": round(seconds, 2),
                    "joins": joins},
        "build_seconds": float(sum(r.summary["build_seconds"] for r in results)),
        "solve_seconds": float(sum(r.summary["solve_seconds"] for r in results)),
        "rows": max(r.summary["rows"] for r in results), "columns": max(r.summary["columns"] for r in results),
        "nonzeros": max(r.summary["nonzeros"] for r in results),
        # the interior point code of each window, by size: "ipx", "hipo" or both ("hipo+ipx")
        "algorithm": "+".join(sorted({r.summary.get("algorithm", "") for r in results} - {""})),
        "hydro_initial_volume_hm3": results[0].summary.get("hydro_initial_volume_hm3", {}),
        "warnings": sorted({x for r in results for x in r.summary.get("warnings", [])}),
    })
    checks = check_tables(tables)
    summary["checks"] = checks
    return Result(summary=summary, tables=tables, checks=checks)
