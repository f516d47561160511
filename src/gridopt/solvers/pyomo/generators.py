"""Generators of the twin: bounds and costs, clustered commitment, ramps, and their shared terms."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from ...formulation.context import RENEWABLE_CARRIERS, Context
from ...network import EXTERNAL
from .record import Twin, add_capacity, frame, gas_network_on


def add_generators(tw: Twin, ctx: Context) -> None:
    """Output between must-run (or minimum stable level) and availability, fuel, O&M and carbon costs,
    curtailment, commitment with start-ups, ramps (MW, CNY). An extendable unit's limits are rows against
    its capacity variable: availability, must-run and minimum stable level per MW of capacity, ramps as a
    share of it.

    Mirrors gridopt.formulation.generators.
    """
    m = tw.m
    g = ctx.net.active("generators")
    m.G = pyo.Set(initialize=list(g.index), ordered=True)
    m.gen_bus = g["bus"].to_dict()
    m.gen_carrier = g["carrier"].to_dict()
    cap = add_capacity(tw, "generators", g)
    av = _add_output(tw, ctx, g, cap)
    _add_commitment(tw, ctx, g, av)
    _add_ramps(tw, g, cap)
    _register_shared_terms(tw, ctx, g, av)


def _add_output(tw: Twin, ctx: Context, g: pd.DataFrame, cap: dict[str, Any]) -> dict[tuple[int, str], Any]:
    """gen_p with its limits, injection and cost; returns the availability (MW, an expression of the
    capacity for an extendable unit) by (hour, unit)."""
    m, w, opts = tw.m, ctx.weights, ctx.options
    pen = ctx.net.config["penalties"]
    upper_pu = ctx.series("p_max_pu", g.index)  # availability per MW of capacity
    must_pu = np.minimum(upper_pu, ctx.series("must_run_pu", g.index))
    # committable units find their minimum stable level through commitment; others hold it outright
    stable_pu = np.maximum(must_pu, np.minimum(upper_pu, g["p_min_pu"].to_numpy()))
    lower_pu = np.where(g["committable"].to_numpy(dtype=bool), must_pu, stable_pu)
    p_nom = g["p_nom"].to_numpy()
    up, low = frame(upper_pu, g.index), frame(lower_pu, g.index)
    av_fixed, lo = frame(p_nom * upper_pu, g.index), frame(p_nom * lower_pu, g.index)
    m.gen_p = pyo.Var(m.T, m.G, bounds=lambda m, t, u: (0, None) if u in cap else (lo[t, u], av_fixed[t, u]))
    m.GX = pyo.Set(initialize=list(cap), ordered=True)
    m.gen_p_max = pyo.Constraint(m.T, m.GX, rule=lambda m, t, u: m.gen_p[t, u] <= up[t, u] * cap[u])
    m.gen_p_min = pyo.Constraint(m.T, m.GX, rule=lambda m, t, u: m.gen_p[t, u] - low[t, u] * cap[u] >= 0
                                 if low[t, u] > 0 else pyo.Constraint.Skip)
    av = {(t, u): up[t, u] * cap[u] if u in cap else av_fixed[t, u] for t in range(ctx.T) for u in g.index}
    gas_on = gas_network_on(ctx)
    for name, r in g.iterrows():
        internal = tw.bus_region[r["bus"]] != EXTERNAL
        # a unit fed by the gas network pays for its fuel there
        fuel = 0.0 if (gas_on and r["gas_node"]) else r["fuel_price"] * r["heat_rate"]
        unit_cost = r["marginal_cost"] + fuel + opts.carbon_price * r["co2_t_per_mwh"] * internal
        curt = pen["curtailment_cny_per_mwh"] if str(r["carrier"]).lower() in RENEWABLE_CARRIERS else 0.0
        for t in range(ctx.T):
            tw.injections[t, r["bus"]].append(m.gen_p[t, name])
            tw.cost.append(w[t] * unit_cost * m.gen_p[t, name])
            # curtailment (availability - output) priced; availability grows with an extendable unit
            if name in cap:
                tw.cost.append(w[t] * curt * (av[t, name] - m.gen_p[t, name]))
            else:
                tw.cost.append(-w[t] * curt * m.gen_p[t, name])
                tw.offset += w[t] * curt * av[t, name]
    return av


def _add_commitment(tw: Twin, ctx: Context, g: pd.DataFrame, av: dict[tuple[int, str], Any]) -> None:
    """Committed capacity bounds output from above and, times p_min_pu, from below, and is bounded by the
    availability (a row for an extendable unit); start-ups are priced."""
    m, w = tw.m, ctx.weights
    com = g[g["committable"]]
    ext = set(tw.capacity["generators"])
    m.GC = pyo.Set(initialize=list(com.index), ordered=True)
    m.gen_committed = pyo.Var(m.T, m.GC, bounds=lambda m, t, u: (0, None) if u in ext else (0, av[t, u]))
    m.GCX = pyo.Set(initialize=[u for u in com.index if u in ext], ordered=True)
    m.commit_max = pyo.Constraint(m.T, m.GCX, rule=lambda m, t, u: m.gen_committed[t, u] <= av[t, u])
    m.gen_start_up = pyo.Var(m.T, m.GC, within=pyo.NonNegativeReals)
    m.commit_upper = pyo.Constraint(m.T, m.GC, rule=lambda m, t, u: m.gen_p[t, u] - m.gen_committed[t, u] <= 0)
    m.commit_min_stable = pyo.Constraint(
        m.T, m.GC, rule=lambda m, t, u: m.gen_p[t, u] - com.at[u, "p_min_pu"] * m.gen_committed[t, u] >= 0)

    def start_rule(m, t, u):
        if t > 0:
            return m.gen_start_up[t, u] - m.gen_committed[t, u] + m.gen_committed[t - 1, u] >= 0
        init = com.at[u, "committed_init"]
        if np.isnan(init):  # no stated commitment before the horizon: the first hour starts free
            return pyo.Constraint.Skip
        return m.gen_start_up[t, u] - m.gen_committed[t, u] >= -init
    m.start_up = pyo.Constraint(m.T, m.GC, rule=start_rule)
    for u in com.index:
        for t in range(ctx.T):
            tw.cost.append(w[t] * com.at[u, "start_up_cost"] * m.gen_start_up[t, u])


def _add_ramps(tw: Twin, g: pd.DataFrame, cap: dict[str, Any]) -> None:
    """Hour-to-hour change of output within the ramp limits (share of p_nom, or of the capacity variable of
    an extendable unit); from p_init where stated."""
    m = tw.m
    limited = np.isfinite(g["ramp_limit_up"]) | np.isfinite(g["ramp_limit_down"])
    ramped = g[limited & ~g.index.isin(list(cap))]
    m.GR = pyo.Set(initialize=list(ramped.index), ordered=True)

    def ramp_rule(m, t, u):
        r = ramped.loc[u]
        up = r["ramp_limit_up"] * r["p_nom"] if np.isfinite(r["ramp_limit_up"]) else None
        down = -r["ramp_limit_down"] * r["p_nom"] if np.isfinite(r["ramp_limit_down"]) else None
        if t == 0:
            if np.isnan(r["p_init"]):
                return pyo.Constraint.Skip
            return (None if down is None else down + r["p_init"], m.gen_p[t, u],
                    None if up is None else up + r["p_init"])
        return (down, m.gen_p[t, u] - m.gen_p[t - 1, u], up)
    m.ramp = pyo.Constraint(m.T, m.GR, rule=ramp_rule)

    def change(m, t, u):  # output minus the previous hour's (p_init before the horizon); None when unknown
        if t > 0:
            return m.gen_p[t, u] - m.gen_p[t - 1, u]
        return None if np.isnan(g.at[u, "p_init"]) else m.gen_p[t, u] - g.at[u, "p_init"]
    for name, col, sign in (("ramp_up_ext", "ramp_limit_up", 1.0),
                            ("ramp_down_ext", "ramp_limit_down", -1.0)):
        units = [u for u in cap if np.isfinite(g.at[u, col])]
        setattr(m, f"GR_{name}", pyo.Set(initialize=units, ordered=True))

        def rule(m, t, u, col=col, sign=sign):
            d = change(m, t, u)
            return pyo.Constraint.Skip if d is None else sign * d <= g.at[u, col] * cap[u]
        setattr(m, name, pyo.Constraint(m.T, getattr(m, f"GR_{name}"), rule=rule))


def _register_shared_terms(tw: Twin, ctx: Context, g: pd.DataFrame, av: dict[tuple[int, str], Any]) -> None:
    """Emissions and generation by region, reserve headroom of providers, gas drawn by gas-fed units."""
    m = tw.m
    gas_on = gas_network_on(ctx)
    lhv = float(ctx.net.config["gas_lhv_gj_per_kcm"])
    for u, r in g.iterrows():
        region = tw.bus_region[r["bus"]]
        for t in range(ctx.T):
            tw.emissions[t, region].append(r["co2_t_per_mwh"] * m.gen_p[t, u])
            tw.generation[t, region].append(m.gen_p[t, u])
            if r["provides_reserve"]:
                cap = m.gen_committed[t, u] if r["committable"] else av[t, u]
                tw.headroom[t, region].append(cap - m.gen_p[t, u])
            if gas_on and r["gas_node"] != "":
                tw.gas_burn[t, r["gas_node"]].append(r["heat_rate"] / lhv * m.gen_p[t, u])
