"""Hydro reservoirs and cascades in the twin, in water units (hm3, m3/s)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from ...formulation.context import Context
from ...formulation.hydro import cascade_energy, initial_volume
from ...units import HM3_PER_M3S_HOUR, MWH_PER_HM3_PER_MW_PER_M3S
from .record import Twin, add_capacity, frame


def add_hydro(tw: Twin, ctx: Context) -> None:
    """Release, spill and volume of every reservoir, the volume balance with upstream water arriving after
    its delay, output = release x production coefficient, and the elastic rule curves, ecological flow and
    end target, their violations priced at the energy the water carries down the cascade. An extendable
    station's turbine capacity is a variable: release <= capacity / production coefficient (rows).

    Mirrors gridopt.formulation.hydro.
    """
    m, w = tw.m, ctx.weights
    pen = ctx.net.config["penalties"]
    res = ctx.net.active("reservoirs")
    m.R = pyo.Set(initialize=list(res.index), ordered=True)
    coef = res["production_mw_per_m3s"].to_dict()
    e = dict(zip(res.index, cascade_energy(res)))  # MW per m3/s down the cascade
    inflow = frame(ctx.series("inflow_m3s", res.index), res.index)
    cap = add_capacity(tw, "reservoirs", res)
    _add_volume_balance(tw, ctx, res, inflow)
    m.RX = pyo.Set(initialize=list(cap), ordered=True)
    m.hydro_turbine_max = pyo.Constraint(m.T, m.RX,
                                         rule=lambda m, t, r: m.hydro_release[t, r] <= cap[r] / coef[r])
    for r, row in res.iterrows():
        for t in range(ctx.T):
            tw.injections[t, row["bus"]].append(coef[r] * m.hydro_release[t, r])
            tw.cost.append(w[t] * (row["marginal_cost"] * coef[r] * m.hydro_release[t, r]
                                   + pen["spill_cny_per_mwh"] * e[r] * m.hydro_spill[t, r]))
            region = tw.bus_region[row["bus"]]
            tw.generation[t, region].append(coef[r] * m.hydro_release[t, r])
            if row["provides_reserve"]:
                turbine = cap[r] if r in cap else row["p_nom"]
                tw.headroom[t, region].append(turbine - coef[r] * m.hydro_release[t, r])
    _add_rule_curves(tw, ctx, res, e)
    _add_eco_flow(tw, ctx, res, e)
    _add_end_target(tw, ctx, res, e)


def _add_volume_balance(tw: Twin, ctx: Context, res: pd.DataFrame, inflow: dict[tuple[int, str], float]) -> None:
    """volume[t] = volume[t-1] + K (inflow + arrivals from upstream - release - spill), K in hm3 per m3/s-hour."""
    m = tw.m
    coef = res["production_mw_per_m3s"].to_dict()
    ext = tw.capacity["reservoirs"]  # extendable turbines: their limit is a row against the capacity
    m.hydro_release = pyo.Var(m.T, m.R, bounds=lambda m, t, r: (0, None) if r in ext
                              else (0, res.at[r, "p_nom"] / coef[r]))
    m.hydro_spill = pyo.Var(m.T, m.R, bounds=lambda m, t, r: (
        0, None if np.isinf(res.at[r, "spill_max_m3s"]) else res.at[r, "spill_max_m3s"]))
    m.hydro_volume = pyo.Var(m.T, m.R, bounds=lambda m, t, r: (res.at[r, "volume_min_hm3"],
                                                                res.at[r, "volume_max_hm3"]))
    upstream = {r: [u for u in res.index if res.at[u, "downstream"] == r] for r in res.index}
    before = _release_before(res, upstream, inflow)
    v0 = dict(zip(res.index, initial_volume(ctx, res))) if len(res) else {}

    def arrivals(m, t, r):
        total = 0
        for u in upstream[r]:
            d = int(res.at[u, "delay_hours"])
            total += (m.hydro_release[t - d, u] + m.hydro_spill[t - d, u]) if t >= d else before[u]
        return total

    def volume_rule(m, t, r):
        prev = m.hydro_volume[t - 1, r] if t > 0 else v0[r]
        return m.hydro_volume[t, r] == prev + HM3_PER_M3S_HOUR * (
            inflow[t, r] + arrivals(m, t, r) - m.hydro_release[t, r] - m.hydro_spill[t, r])
    m.hydro_volume_balance = pyo.Constraint(m.T, m.R, rule=volume_rule)


def _release_before(res: pd.DataFrame, upstream: dict[str, list[str]],
                    inflow: dict[tuple[int, str], float]) -> dict[str, float]:
    """Outflow before the horizon (m3/s): stated, else the first hour's natural inflow of the reservoir and
    everything above it (a steady state)."""
    steady = {}
    for r in res.index:
        stack, total, seen = [r], 0.0, set()
        while stack:
            x = stack.pop()
            if x not in seen:
                seen.add(x)
                total += inflow[0, x]
                stack += upstream[x]
        steady[r] = total
    return {u: (res.at[u, "release_before_m3s"] if not np.isnan(res.at[u, "release_before_m3s"]) else steady[u])
            for u in res.index}


def _add_rule_curves(tw: Twin, ctx: Context, res: pd.DataFrame, e: dict[str, float]) -> None:
    """Volume above the minimum and below the maximum rule curve, each with a priced violation (hm3)."""
    m, w = tw.m, ctx.weights
    pen = ctx.net.config["penalties"]
    for series, name, sense in (("volume_min_rule_hm3", "rule_min", 1), ("volume_max_rule_hm3", "rule_max", -1)):
        has = res.index[ctx.has_series(series, res.index)]
        bound = frame(ctx.series(series, has), has)
        setattr(m, f"R_{name}", pyo.Set(initialize=list(has), ordered=True))
        rs = getattr(m, f"R_{name}")
        slack = pyo.Var(m.T, rs, within=pyo.NonNegativeReals)
        setattr(m, f"hydro_{name}_violation", slack)
        if sense > 0:
            con = pyo.Constraint(m.T, rs, rule=lambda m, t, r, s=slack, b=bound: m.hydro_volume[t, r] + s[t, r] >= b[t, r])
        else:
            con = pyo.Constraint(m.T, rs, rule=lambda m, t, r, s=slack, b=bound: m.hydro_volume[t, r] - s[t, r] <= b[t, r])
        setattr(m, f"hydro_{name}", con)
        for r in has:
            for t in range(ctx.T):
                tw.cost.append(w[t] * pen["rule_curve_cny_per_mwh"] * e[r] * MWH_PER_HM3_PER_MW_PER_M3S * slack[t, r])


def _add_eco_flow(tw: Twin, ctx: Context, res: pd.DataFrame, e: dict[str, float]) -> None:
    """Release plus spill reaches the ecological minimum flow, with a priced shortfall (m3/s)."""
    m, w = tw.m, ctx.weights
    pen = ctx.net.config["penalties"]
    eco = res.index[res["eco_flow_min_m3s"] > 0]
    m.R_eco = pyo.Set(initialize=list(eco), ordered=True)
    m.hydro_eco_shortfall = pyo.Var(m.T, m.R_eco, bounds=lambda m, t, r: (0, res.at[r, "eco_flow_min_m3s"]))
    m.hydro_eco_flow = pyo.Constraint(m.T, m.R_eco, rule=lambda m, t, r: m.hydro_release[t, r] + m.hydro_spill[t, r]
                                      + m.hydro_eco_shortfall[t, r] >= res.at[r, "eco_flow_min_m3s"])
    for r in eco:
        for t in range(ctx.T):
            tw.cost.append(w[t] * pen["eco_flow_cny_per_mwh"] * e[r] * m.hydro_eco_shortfall[t, r])


def _add_end_target(tw: Twin, ctx: Context, res: pd.DataFrame, e: dict[str, float]) -> None:
    """The last hour's volume reaches the target series' last value (capped at the maximum), elastically (hm3)."""
    m, T = tw.m, ctx.T
    pen = ctx.net.config["penalties"]
    has = res.index[ctx.has_series("volume_target_hm3", res.index)]
    target = dict(zip(has, np.minimum(ctx.series("volume_target_hm3", has)[-1],
                                      res.loc[has, "volume_max_hm3"].to_numpy())))
    m.R_end = pyo.Set(initialize=list(has), ordered=True)
    m.hydro_end_shortfall = pyo.Var(m.R_end, within=pyo.NonNegativeReals)
    m.hydro_end_target = pyo.Constraint(
        m.R_end, rule=lambda m, r: m.hydro_volume[T - 1, r] + m.hydro_end_shortfall[r] >= target[r])
    for r in has:
        tw.cost.append(pen["end_target_cny_per_mwh"] * e[r] * MWH_PER_HM3_PER_MW_PER_M3S * m.hydro_end_shortfall[r])
