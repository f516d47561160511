"""Chains: consecutive windows solved in sequence, each from the state its predecessor left; several chains
run side by side (through `gridopt.executors`) and meet at boundary states taken from the guide."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..engine import dispatch
from ..executors import map_shared
from ..formulation.context import State, Targets
from ..network import Network
from ..progress import seconds_text
from ..results import Result
from .guide import Guide
from .seam import MeetBoundary
from .states import state_after, transit
from .windows import Window, cap_share, kept, targets_for

HOUR = pd.Timedelta(hours=1)


@dataclass(frozen=True)
class WindowSolver:
    """What every window of a run shares: the network, `dispatch`'s keywords (solver options and hooks
    included, passed on unchanged), the intensity caps and the coarse look-ahead's block length."""

    net: Network
    kwargs: dict[str, Any]
    intensity_caps: dict[str, float] = field(default_factory=dict)
    tail_block: int = 3

    def solve(self, w: Window, state: State | None, targets: Targets | None, caps: dict[str, float],
              hooks: tuple = ()) -> Result:
        """One window's result; `hooks` build into its LP after the run's own."""
        net, hours = self.net, w.hours
        kwargs = {**self.kwargs, "hooks": tuple(self.kwargs.get("hooks") or ()) + tuple(hooks)}
        if w.tail:  # hourly hours, then the coarse look-ahead in blocks of tail_block hours
            net = net.slice(w.start, w.hours + w.tail).resample(self.tail_block, keep=w.hours)
            hours = len(net.snapshots)
        r = dispatch(net, start=w.start, hours=hours, carbon_caps=caps, intensity_caps=self.intensity_caps,
                     state=state, targets=targets, **kwargs)
        r.context, r.solution = None, None  # keep what crosses a process boundary small
        return r


@dataclass
class Chain:
    """Consecutive windows solved in sequence, from a start state, with each window's targets and caps."""
    windows: list[Window]
    start: State
    targets: list[Targets | None]
    caps: list[dict[str, float]]
    budget: dict[str, float]  # the chain's carbon caps over its kept hours
    extra: dict[str, float]  # and over its last window's look-ahead beyond them
    meets: State | None = None  # the next chain's start state, which its last window ends on (`seam`)


def run_chain(solver: WindowSolver, chain: Chain, say=lambda msg: None) -> tuple[list[Result], list[State]]:
    """Solve a chain's windows in order, each from the state its predecessor reached after its kept hours;
    returns their results and the states they started from."""
    net = solver.net
    gs = net.active("gas_storages")
    state, remaining = chain.start, dict(chain.budget)
    results, starts = [], []
    t0, n = time.perf_counter(), len(chain.windows)
    for k, w in enumerate(chain.windows):
        spent = time.perf_counter() - t0
        clock = f" ({k}/{n} done, elapsed {seconds_text(spent)}, ~{seconds_text(spent / k * (n - k))} left)" if k else ""
        say(f"window {w.index + 1}: {w.start} +{w.hours} h" + (f" +{w.tail} h coarse" if w.tail else "") + clock)
        wcaps, tg = chain.caps[k], chain.targets[k]
        if k == len(chain.windows) - 1 and remaining:
            wcaps = {key: remaining[key] + chain.extra.get(key, 0.0) for key in remaining}
            if tg is not None and tg.hour is not None:  # the chain goes on past its kept hours: keep them in budget
                tg = replace(tg, carbon_caps_t=dict(remaining))
        starts.append(state)
        meet = (MeetBoundary(chain.meets, w.keep),) if k == n - 1 and chain.meets is not None else ()
        r = solver.solve(w, state, tg, wcaps, meet)
        results.append(r)
        state = state_after(net, r, w, gs)
        kept_em = kept(r, w)["emissions"]
        for key in remaining:
            sel = kept_em[kept_em["region"].isin(net.regions)] if key == "system" else kept_em[kept_em["region"] == key]
            remaining[key] -= float(sel["co2_t"].sum())
    return results, starts


def plan_chains(windows: list[Window], n_chains: int, guide: Guide, aim: str, credit: bool,
                caps: dict[str, float]) -> list[Chain]:
    """The windows split into `n_chains` consecutive chains. A chain after the first starts on the guide's
    boundary state before it; one before the last must reach the next chain's boundary at the end of its
    kept hours (volumes and the outflows still on their way down elastic, `seam`; charge and gas hard), and
    emit there no more than its share of the caps."""
    horizon_end = guide.t0 + pd.Timedelta(hours=guide.hours - 1)
    out = []
    for g in np.array_split(np.arange(len(windows)), n_chains):
        ws = [windows[i] for i in g]
        start = guide.start if g[0] == 0 else guide.boundary(ws[0].start - HOUR)
        tgs = [targets_for(w, w.index == len(windows) - 1 or w.end == horizon_end, guide, aim, credit) for w in ws]
        budget = cap_share(guide, caps, ws[0].start, ws[-1].kept_end) if caps else {}
        if g[-1] < len(windows) - 1:
            # its look-ahead then ends on the case's plan where the guide is the plan
            w = ws[-1]
            nxt = guide.boundary(w.kept_end - HOUR)
            tgs[-1] = Targets(volume_hm3=nxt.volume_hm3, soc_min_mwh=nxt.soc_mwh,
                              gas_inventory_min_mm3=nxt.gas_inventory_mm3, case_end_target=guide.by_rule,
                              transit_hm3=transit(guide.net, nxt.outflow_m3s), hour=w.keep - 1)
        # a window's cap covers its hours, look-ahead included; the chain's last takes what its chain has
        # left, plus the share of its look-ahead beyond the chain
        wcaps = [cap_share(guide, caps, w.start, w.end + HOUR) for w in ws]
        extra = cap_share(guide, caps, ws[-1].kept_end, ws[-1].end + HOUR) if caps else {}
        meets = guide.boundary(ws[-1].kept_end - HOUR) if g[-1] < len(windows) - 1 else None
        out.append(Chain(ws, start, tgs, wcaps, budget, extra, meets))
    return out


def run_chains(solver: WindowSolver, chains: list[Chain], processes: int, executor: Any = None,
               say=lambda msg: None) -> tuple[list[Result], list[State]]:
    """Every chain's window results and start states, in window order: one chain here, several side by side
    on `executor` (else on `processes` local processes)."""
    if len(chains) == 1:
        done = [run_chain(solver, chains[0], say)]
    else:
        where = "the given executor" if executor is not None else f"{processes} processes"
        say(f"{sum(len(c.windows) for c in chains)} windows in {len(chains)} independent chains on {where}")
        done = map_shared(run_chain, chains, shared=solver, executor=executor, processes=processes)
    return [r for rs, _ in done for r in rs], [st for _, sts in done for st in sts]
