"""The guide: one coarse LP over the whole horizon, and the states it gives windows to aim at and start from."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..engine import dispatch
from ..errors import UsageError
from ..formulation.context import Context, DispatchOptions, State, Targets
from ..formulation.hydro import cascade_energy, initial_volume
from ..network import Network
from ..results import Result
from ..solvers.highs import has_solver
from ..units import MWH_PER_HM3_PER_MW_PER_M3S
from .options import RollingOptions
from .states import per_storage, pivot, transit

NO_STATE = pd.Series(dtype=float)


def pull_to_plan(pull: float):
    """A build hook: `pull` CNY per MWh-hour (water counted by its energy down the cascade) on each planned
    reservoir's distance from its plan, the plan clipped to the reservoir's limits. A coarse model cannot see
    the within-day limits that decide where in a cascade water is worth holding; the pull keeps it near the
    plan unless a reason the coarse model sees outweighs it."""

    def hook(ctx: Context) -> None:
        res = ctx.net.active("reservoirs")
        if not len(res):
            return
        has = ctx.has_series("volume_target_hm3", res.index)
        if not has.any():
            return
        lp, names = ctx.lp, res.index[has]
        plan = np.clip(ctx.series("volume_target_hm3", names), res.loc[names, "volume_min_hm3"].to_numpy(),
                       res.loc[names, "volume_max_hm3"].to_numpy())
        mwh_per_hm3 = cascade_energy(res) * MWH_PER_HM3_PER_MW_PER_M3S
        cost = ctx.weights[:, None] * pull * mwh_per_hm3[has]
        above = lp.add_variables("plan_above", names, 0.0, np.inf, cost)
        below = lp.add_variables("plan_below", names, 0.0, np.inf, cost)
        lp.add_constraint("plan_distance", names,
                          [(lp.variables["hydro_volume"].idx[:, has], 1.0), (above, -1.0), (below, 1.0)], plan, plan)

    return hook


def coarse_solver(kw: dict[str, Any]) -> dict[str, Any]:
    """The coarse solve's keywords: HiPO where the solver is left to choose and it is installed, as it is
    faster than IPX on long coarse LPs (docs/rolling.md); everything else as given."""
    options = dict(kw.get("highs_options") or {})
    if options.get("solver", "auto") == "auto" and has_solver("hipo"):
        options["solver"] = "hipo"
    return {**kw, "highs_options": options}


def interp(coarse: pd.DataFrame, t0: pd.Timestamp, initial: pd.Series, when: pd.Timestamp, dt_h: float) -> pd.Series:
    """State at the end of hour `when` (i.e. at when + 1 h), linear between the coarse snapshots' end states."""
    ends = coarse.index + pd.Timedelta(hours=dt_h)  # each coarse value holds at the end of its snapshot
    x = np.r_[0.0, (ends - t0) / pd.Timedelta(hours=1)]
    target = (when + pd.Timedelta(hours=1) - t0) / pd.Timedelta(hours=1)
    out = {}
    for c in coarse.columns:
        y = np.r_[initial.get(c, coarse[c].iloc[0]), coarse[c].to_numpy()]
        out[c] = float(np.interp(target, x, y))
    return pd.Series(out)


@dataclass
class Guide:
    """The coarse solve's paths (hour x element, each value at the end of its snapshot) and the horizon's
    own ends: the state it starts from and the targets its last window keeps."""

    net: Network
    t0: pd.Timestamp
    hours: int
    coarse_hours: int
    by_rule: bool  # boundary volumes from the case's plan rather than the guide's
    result: Result
    v_start: pd.Series  # reservoir volumes before the first hour
    volumes: pd.DataFrame  # the coarse volumes, or a path given by the hour
    volume_dt: float  # hours between the rows of `volumes`
    water_values: pd.DataFrame
    charge: pd.DataFrame
    gas: pd.DataFrame  # inventory by gas node
    emissions: pd.DataFrame  # the coarse emissions table
    start: State
    end_targets: Targets

    def following(self, path: pd.DataFrame) -> Guide:
        """This guide with its volumes replaced by `path` (hm3 at the end of each hour, e.g. `water_path`)."""
        return replace(self, volumes=_given_volumes(path, self.volumes, self.t0, self.hours), volume_dt=1.0,
                       by_rule=False)

    def volume_at(self, when: pd.Timestamp) -> pd.Series:
        if not len(self.volumes.columns):
            return NO_STATE
        return interp(self.volumes, self.t0, self.v_start, when, self.volume_dt)

    def charge_at(self, when: pd.Timestamp) -> pd.Series:
        if not len(self.charge.columns):
            return NO_STATE
        return interp(self.charge, self.t0, NO_STATE, when, self.coarse_hours)

    def gas_at(self, when: pd.Timestamp) -> dict[str, float]:
        """Coarse inventory at the end of hour `when`, per gas storage."""
        gs = self.net.active("gas_storages")
        if not len(self.gas.columns) or not len(gs):
            return {}
        return per_storage(interp(self.gas, self.t0, NO_STATE, when, self.coarse_hours), gs)

    def values_at(self, when: pd.Timestamp) -> dict[str, float]:
        """Coarse water values (CNY/hm3) of the snapshot holding hour `when`."""
        wv = self.water_values
        if not len(wv.columns):
            return {}
        return wv.iloc[min(wv.index.searchsorted(when, side="right") - 1, len(wv) - 1)].to_dict()

    @cached_property
    def _outflow(self) -> pd.DataFrame:
        """The coarse release + spill, m3/s (snapshot x reservoir)."""
        return pivot(self.result, "hydro", "reservoir", "release_m3s") \
            + pivot(self.result, "hydro", "reservoir", "spill_m3s")

    def boundary(self, when: pd.Timestamp) -> State:
        """The state at the end of hour `when` where chains meet: the guide's volumes (the plan's, by rule)
        less the water then in transit and within the rule curves, and the coarse charge, gas inventory,
        outflow in transit, output and commitment."""
        st = State()
        if len(self.volumes.columns):
            res_tab = self.net.active("reservoirs")
            vol = self.volume_at(when)
            plan = self.net.series.get("volume_target_hm3")
            if self.by_rule and plan is not None:
                cols = [r for r in plan.columns if r in vol.index]
                vol[cols] = plan.loc[when, cols].clip(res_tab.loc[cols, "volume_min_hm3"],
                                                      res_tab.loc[cols, "volume_max_hm3"])
            max_delay = int(res_tab["delay_hours"].max() or 0)
            if max_delay:
                out = self._outflow
                hrs = pd.date_range(when - pd.Timedelta(hours=max_delay - 1), when, freq="h")
                pos = np.clip(out.index.searchsorted(hrs, side="right") - 1, 0, len(out) - 1)
                st.outflow_m3s = pd.DataFrame(out.to_numpy()[pos], index=hrs, columns=out.columns)
                # the guide's volume is the reservoir's water: part of it is still on its way in
                water = pd.Series(transit(self.net, st.outflow_m3s), dtype=float).reindex(vol.index, fill_value=0.0)
                vol = np.maximum(vol - water, res_tab.loc[vol.index, "volume_min_hm3"])
            st.volume_hm3 = self._within_rules(vol, when).to_dict()
        if len(self.charge.columns):
            st.soc_mwh = self.charge_at(when).to_dict()
        st.gas_inventory_mm3 = self.gas_at(when)
        gen = self.result.tables["generation"]
        day = gen[gen["hour"] == gen["hour"][gen["hour"] <= when].max()].set_index("unit")
        st.p_mw = day["p_mw"].to_dict()
        st.committed_mw = day["committed_mw"].dropna().to_dict()
        return st

    def _within_rules(self, vol: pd.Series, when: pd.Timestamp) -> pd.Series:
        """`vol` within the case's rule curves at hour `when` and the next (the next chain's first): the
        curves step at midnight, where chains meet, and a step is not made up at once."""
        for series, bound in (("volume_min_rule_hm3", np.fmax), ("volume_max_rule_hm3", np.fmin)):
            rule = self.net.series.get(series)
            at = [] if rule is None else [h for h in (when, when + pd.Timedelta(hours=1)) if h in rule.index]
            if at:
                cols = [r for r in rule.columns if r in vol.index]
                vol[cols] = bound(vol[cols], bound.reduce(rule.loc[at, cols].to_numpy(), axis=0))
        return vol


def solve_guide(net: Network, run: DispatchOptions, options: RollingOptions, kw: dict[str, Any],
                hooks: tuple = (), say=lambda msg: None) -> Guide:
    """The coarse solve over the whole horizon in `options.coarse_hours` snapshots (pulled towards the plan,
    with the user's `hooks` too), from the case's initial volumes, under the run's carbon caps."""
    t0, hours = run.start, run.hours
    res_tab = net.active("reservoirs")
    v_start = pd.Series(initial_volume(Context.create(net, run), res_tab), index=res_tab.index)
    # the horizon starts from the case's initial charge and gas inventory; where the case asks for a cycle,
    # the last window must end with at least as much (a carried state replaces a window's own cycle)
    su_tab, gs = net.active("storage_units"), net.active("gas_storages")
    start = State(volume_hm3=v_start.to_dict(), soc_mwh=su_tab["state_of_charge_initial"].to_dict())
    end_targets = Targets(
        soc_min_mwh=su_tab["state_of_charge_initial"][su_tab["cyclic_state_of_charge"]].to_dict(),
        gas_inventory_min_mm3=gs["inventory_initial_mm3"][gs["cyclic"]].to_dict())
    coarse_net = net.slice(t0, hours).resample(options.coarse_hours)
    say(f"coarse solve: {len(coarse_net.snapshots)} snapshots of {options.coarse_hours} h")
    pull = (pull_to_plan(options.plan_pull),) if options.plan_pull else ()
    coarse = dispatch(coarse_net, carbon_caps=dict(run.carbon_caps), intensity_caps=dict(run.intensity_caps),
                      state=State(volume_hm3=v_start.to_dict()), hooks=pull + tuple(hooks), **coarse_solver(kw))
    gas = coarse.tables["gas"]
    return Guide(net=net, t0=t0, hours=hours, coarse_hours=options.coarse_hours, by_rule=options.guide == "rule",
                 result=coarse, v_start=v_start, volumes=pivot(coarse, "hydro", "reservoir", "volume_hm3"),
                 volume_dt=options.coarse_hours,
                 water_values=pivot(coarse, "hydro", "reservoir", "water_value_cny_per_hm3"),
                 charge=pivot(coarse, "storage", "unit", "soc_mwh"),
                 gas=gas.pivot(index="hour", columns="node", values="inventory_mm3") if len(gas) else pd.DataFrame(),
                 emissions=coarse.tables["emissions"], start=start, end_targets=end_targets)


def _given_volumes(volumes: pd.DataFrame, coarse_vol: pd.DataFrame, t0: pd.Timestamp, hours: int) -> pd.DataFrame:
    """A given volume path (hm3 at the end of each hour) checked against the horizon and the reservoirs."""
    index = pd.date_range(t0, periods=hours, freq="h")
    missing = [r for r in coarse_vol.columns if r not in volumes.columns]
    if missing or not index.isin(volumes.index).all():
        raise UsageError(f"the volume path must give every hour of the horizon for every reservoir; "
                         f"{'missing ' + ', '.join(missing) if missing else 'hours are missing'}")
    path = volumes.loc[index, list(coarse_vol.columns)].astype(float)
    if not np.isfinite(path.to_numpy()).all():
        raise UsageError("the volume path has values that are not finite numbers")
    return path
