"""Generators of the twin: bounds and costs, clustered commitment, ramps, and their shared terms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from ...formulation.context import RENEWABLE_CARRIERS, Context
from ...network import EXTERNAL
from .record import Twin, frame, gas_network_on


def add_generators(tw: Twin, ctx: Context) -> None:
    """Output between must-run (or minimum stable level) and availability, fuel, O&M and carbon costs,
    curtailment, commitment with start-ups, ramps (MW, CNY).

    Mirrors gridopt.formulation.generators.
    """
    m = tw.m
    g = ctx.net.active("generators")
    m.G = pyo.Set(initialize=list(g.index), ordered=True)
    m.gen_bus = g["bus"].to_dict()
    m.gen_carrier = g["carrier"].to_dict()
    av = _add_output(tw, ctx, g)
    _add_commitment(tw, ctx, g, av)
    _add_ramps(tw, g)
    _register_shared_terms(tw, ctx, g, av)


def _add_output(tw: Twin, ctx: Context, g: pd.DataFrame) -> dict[tuple[int, str], float]:
    """gen_p with its bounds, injection and cost; returns the availability (MW) by (hour, unit)."""
    m, w, opts = tw.m, ctx.weights, ctx.options
    pen = ctx.net.config["penalties"]
    p_nom = g["p_nom"].to_numpy()
    avail = p_nom * ctx.series("p_max_pu", g.index)
    must = np.minimum(avail, p_nom * ctx.series("must_run_pu", g.index))
    # committable units find their minimum stable level through commitment; others hold it outright
    stable = np.maximum(must, np.minimum(avail, (g["p_min_pu"] * g["p_nom"]).to_numpy()))
    lower = np.where(g["committable"].to_numpy(dtype=bool), must, stable)
    av, lo = frame(avail, g.index), frame(lower, g.index)
    m.gen_p = pyo.Var(m.T, m.G, bounds=lambda m, t, u: (lo[t, u], av[t, u]))
    gas_on = gas_network_on(ctx)
    for name, r in g.iterrows():
        internal = tw.bus_region[r["bus"]] != EXTERNAL
        # a unit fed by the gas network pays for its fuel there
        fuel = 0.0 if (gas_on and r["gas_node"]) else r["fuel_price"] * r["heat_rate"]
        unit_cost = r["marginal_cost"] + fuel + opts.carbon_price * r["co2_t_per_mwh"] * internal
        curt = pen["curtailment_cny_per_mwh"] if str(r["carrier"]).lower() in RENEWABLE_CARRIERS else 0.0
        for t in range(ctx.T):
            tw.injections[t, r["bus"]].append(m.gen_p[t, name])
            # curtailment (availability - output) priced: a constant plus a credit on output
            tw.cost.append(w[t] * (unit_cost * m.gen_p[t, name] - curt * m.gen_p[t, name]))
            tw.offset += w[t] * curt * av[t, name]
    return av


def _add_commitment(tw: Twin, ctx: Context, g: pd.DataFrame, av: dict[tuple[int, str], float]) -> None:
    """Committed capacity bounds output from above and, times p_min_pu, from below; start-ups are priced."""
    m, w = tw.m, ctx.weights
    com = g[g["committable"]]
    m.GC = pyo.Set(initialize=list(com.index), ordered=True)
    m.gen_committed = pyo.Var(m.T, m.GC, bounds=lambda m, t, u: (0, av[t, u]))
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


def _add_ramps(tw: Twin, g: pd.DataFrame) -> None:
    """Hour-to-hour change of output within the ramp limits (share of p_nom); from p_init where stated."""
    m = tw.m
    ramped = g[np.isfinite(g["ramp_limit_up"]) | np.isfinite(g["ramp_limit_down"])]
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


def _register_shared_terms(tw: Twin, ctx: Context, g: pd.DataFrame, av: dict[tuple[int, str], float]) -> None:
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
