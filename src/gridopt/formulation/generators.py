"""Generators: thermal fleets with linearised clustered commitment, and renewables with curtailment.

For every active unit g and hour t (MW):

    avail[t,g] = p_nom * p_max_pu[t,g]                         (series, else the static p_max_pu)
    lower[t,g] <= p[t,g] <= avail[t,g]                          lower = must_run_pu * p_nom (and, for
                                                               non-committable units, p_min_pu * p_nom)
Committable units (clustered commitment, committed capacity u in MW):
    p[t,g] <= u[t,g] <= avail[t,g],   p[t,g] >= p_min_pu * u[t,g]
    su[t,g] >= u[t,g] - u[t-1,g]  (start-up, cost start_up_cost CNY/MW; free at t=0 unless committed_init)
Ramps (any unit with a limit, hourly, from p_init at t=0 when given):
    -ramp_limit_down * p_nom <= p[t,g] - p[t-1,g] <= ramp_limit_up * p_nom
Cost per MWh: marginal_cost + fuel_price * heat_rate (units without a gas node, or with the gas network off)
+ carbon_price * co2_t_per_mwh (units at buses inside a region; at external buses only as imported emissions,
see formulation.emissions), times the snapshot weighting.
Renewables (carriers in RENEWABLE_CARRIERS) pay the curtailment penalty on avail - p; it enters as a
negative cost on p plus a constant objective offset, so no curtailment variable is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..lp import COST, PENALTY
from ..units import KCM_PER_MM3
from .capacity import add_capacity, add_ratings
from .context import RENEWABLE_CARRIERS, Context, Solved, Term, long_table


@dataclass
class Generators:
    """The active generators and what their constraints and results share (arrays (hours, units))."""

    table: pd.DataFrame
    p_nom_mw: np.ndarray  # capacity: every limit below scales with it
    available_mw: np.ndarray
    uses_gas: np.ndarray  # fuel drawn from a gas node (priced there, not at fuel_price)
    renewable: np.ndarray
    upper_pu: np.ndarray  # availability per MW of capacity

    def available(self, capacity_mw: np.ndarray) -> np.ndarray:
        """(hours, units) availability at the given capacities."""
        return self.upper_pu * capacity_mw[None, :]


def add_generators(ctx: Context) -> None:
    lp, w = ctx.lp, ctx.weights[:, None]
    g = ctx.net.active("generators")
    cap = add_capacity(ctx, "generators", g)
    p_nom = g["p_nom"].to_numpy()
    upper_pu = ctx.series("p_max_pu", g.index)
    must_pu = np.minimum(upper_pu, ctx.series("must_run_pu", g.index))
    committable = g["committable"].to_numpy()
    lower_pu = np.where(committable, must_pu, np.maximum(must_pu, np.minimum(upper_pu, g["p_min_pu"].to_numpy())))
    avail = p_nom * upper_pu
    internal = ~ctx.is_external(g["bus"])
    uses_gas = (g["gas_node"].to_numpy() != "") & ctx.options.gas & (len(ctx.net.tables["gas_nodes"]) > 0)
    renewable = g["carrier"].str.lower().isin(RENEWABLE_CARRIERS).to_numpy()
    ctx.generators = Generators(g, p_nom, avail, uses_gas, renewable, upper_pu)
    co2 = g["co2_t_per_mwh"].to_numpy()
    p = lp.add_variables("gen_p", g.index, cap.free(p_nom * lower_pu, 0.0), cap.free(avail, np.inf))
    add_ratings(ctx, "gen_p_max", cap, p.idx, upper_pu)
    add_ratings(ctx, "gen_p_min", cap, p.idx, lower_pu, upper=False, keep=(lower_pu > 0).any(axis=0))
    curt_pen = ctx.penalty("curtailment_cny_per_mwh") * renewable
    lp.add_costs(p, [("operation_cny", COST, g["marginal_cost"].to_numpy()),
                     ("fuel_cny", COST, np.where(uses_gas, 0.0, g["fuel_price"].to_numpy() * g["heat_rate"].to_numpy())),
                     # emissions at external buses are the neighbour's: priced, if at all, as imports (emissions.py)
                     ("carbon_cny", COST, ctx.options.carbon_price * co2 * internal),
                     # curtailment, pen * (avail - p), is -pen on p and a constant: no curtailment variable
                     ("curtailment_cny", PENALTY, -curt_pen)],
                 w, constant=w * curt_pen * cap.free(avail, 0.0), constant_label="curtailment_cny")
    if cap.var is not None and curt_pen[cap.pos].any():  # an extendable unit's availability grows with it
        lp.add_cost(cap.var, (w * curt_pen * upper_pu)[:, cap.pos].sum(axis=0)[None, :], "curtailment_cny", PENALTY)
    ctx.inject(p, 1.0, g["bus"])
    region = ctx.region_pos(g["bus"])
    ctx.emissions.append(_term(p.idx, co2, region))
    ctx.generation.append(_term(p.idx, np.ones(len(g)), region))
    if uses_gas.any():
        lhv = float(ctx.net.config["gas_lhv_gj_per_kcm"])
        nodes = ctx.net.tables["gas_nodes"].index
        sel = np.flatnonzero(uses_gas)
        ctx.gas_burn.append(Term(p.idx[:, sel], g["heat_rate"].to_numpy()[sel] / lhv,
                                 nodes.get_indexer(g["gas_node"].to_numpy()[sel])))
    _add_commitment(ctx, p, np.flatnonzero(committable))
    # headroom of non-committable units that provide reserve: avail - p
    nc = np.flatnonzero(~committable & g["provides_reserve"].to_numpy())
    if len(nc):
        reg = ctx.region_pos(g["bus"].iloc[nc])
        ctx.reserve.append(_term(p.idx[:, nc], -np.ones(len(nc)), reg))
        ctx.reserve_const.append((reg, cap.free(avail[:, nc], 0.0, nc)))
        grown = nc[cap.extendable[nc]]
        if len(grown):
            ctx.reserve.append(Term(cap.cap_idx(ctx.T, grown), upper_pu[:, grown], ctx.region_pos(g["bus"].iloc[grown])))
    _add_ramps(ctx, p)


def _add_commitment(ctx: Context, p, ci: np.ndarray) -> None:
    """Clustered commitment of the units at positions `ci`: committed capacity u, minimum stable level,
    start-ups, and the reserve their headroom gives."""
    lp, T, w = ctx.lp, ctx.T, ctx.weights[:, None]
    if not len(ci):
        lp.declare_cost("start_up_cny", COST)
        return
    gc = ctx.generators.table.iloc[ci]
    cap = ctx.capacity["generators"]
    u = lp.add_variables("gen_committed", gc.index, 0.0, cap.free(ctx.generators.available_mw[:, ci], np.inf, ci))
    add_ratings(ctx, "commit_max", cap, u.idx, ctx.generators.upper_pu[:, ci], at=ci)
    lp.add_constraint("commit_upper", gc.index, [(p.idx[:, ci], 1.0), (u, -1.0)], upper=0.0)
    lp.add_constraint("commit_min_stable", gc.index,
                      [(p.idx[:, ci], 1.0), (u, -gc["p_min_pu"].to_numpy())], lower=0.0)
    su = lp.add_variables("gen_start_up", gc.index, 0.0, np.inf, w * gc["start_up_cost"].to_numpy(),
                          label="start_up_cny", kind=COST)
    # su[t] - u[t] + u[t-1] >= 0 for t >= 1; at t = 0 against committed_init where given
    init = ctx.pick(ctx.state.committed_mw, gc.index, gc["committed_init"].to_numpy())
    lo = np.zeros((T, len(ci)))
    lo[0] = np.where(np.isnan(init), -np.inf, -np.nan_to_num(init))
    rb = lp.add_rows("start_up", gc.index, lo, np.inf)
    lp.add_coeffs(rb.idx, su.idx, 1.0)
    lp.add_coeffs(rb.idx, u.idx, -1.0)
    lp.add_coeffs(rb.idx[1:], u.idx[:-1], 1.0)
    rmask = gc["provides_reserve"].to_numpy()
    reg = ctx.region_pos(gc["bus"])
    ctx.reserve.append(_term(u.idx[:, rmask], np.ones(rmask.sum()), reg[rmask]))
    ctx.reserve.append(_term(p.idx[:, ci[rmask]], -np.ones(rmask.sum()), reg[rmask]))


def _add_ramps(ctx: Context, p) -> None:
    """Ramp limits of every unit that has one, hourly, from p_init at the first hour where given; an
    extendable unit's limits grow with its capacity (one row block each way)."""
    g, p_nom, cap = ctx.generators.table, ctx.generators.p_nom_mw, ctx.capacity["generators"]
    up_pu, down_pu = g["ramp_limit_up"].to_numpy(), g["ramp_limit_down"].to_numpy()
    limited = np.isfinite(up_pu) | np.isfinite(down_pu)
    dt = ctx.dt  # a snapshot of several hours may ramp as far as its hours allow
    pinit_all = ctx.pick(ctx.state.p_mw, g.index, g["p_init"].to_numpy())
    ri = np.flatnonzero(limited & ~cap.extendable)
    if len(ri):
        up, down = up_pu[ri] * p_nom[ri], down_pu[ri] * p_nom[ri]  # MW per hour
        lo = np.where(np.isfinite(down), -down, -np.inf) * dt
        hi = np.where(np.isfinite(up), up, np.inf) * dt
        pinit = pinit_all[ri]
        # first hour: p[0] - p_init within limits where p_init is given, else free
        lo[0] = np.where(np.isnan(pinit), -np.inf, lo[0] + np.nan_to_num(pinit))
        hi[0] = np.where(np.isnan(pinit), np.inf, hi[0] + np.nan_to_num(pinit))
        rb = ctx.lp.add_rows("ramp", g.index[ri], lo, hi)
        ctx.lp.add_coeffs(rb.idx, p.idx[:, ri], 1.0)
        ctx.lp.add_coeffs(rb.idx[1:], p.idx[:-1, ri], -1.0)
    for name, pu, sign in (("ramp_up_ext", up_pu, 1.0), ("ramp_down_ext", down_pu, -1.0)):
        xi = np.flatnonzero(np.isfinite(pu) & cap.extendable)
        if not len(xi):
            continue
        # sign * (p[t] - p[t-1]) - pu * dt * cap <= 0; at the first hour against p_init, or no row
        pinit = pinit_all[xi]
        hi = np.zeros((ctx.T, len(xi)))
        hi[0] = np.where(np.isnan(pinit), np.inf, sign * np.nan_to_num(pinit))
        rb = ctx.lp.add_rows(name, g.index[xi], -np.inf, hi)
        ctx.lp.add_coeffs(rb.idx, p.idx[:, xi], sign)
        ctx.lp.add_coeffs(rb.idx[1:], p.idx[:-1, xi], -sign)
        ctx.lp.add_coeffs(rb.idx, cap.cap_idx(ctx.T, xi), -pu[xi] * dt)


def extract_generators(ctx: Context, sv: Solved) -> pd.DataFrame:
    """Generation rows of the generators: output, availability, curtailment, commitment, CO2, gas burnt."""
    gen = ctx.generators
    g, T = gen.table, ctx.T
    p = sv.value("gen_p")
    avail = gen.available(ctx.capacity["generators"].optimal(sv))
    committed = np.full((T, len(g)), np.nan)
    if sv.has("gen_committed"):
        committed[:, g.index.get_indexer(sv.lp.variables["gen_committed"].elements)] = sv.value("gen_committed")
    lhv = float(ctx.net.config["gas_lhv_gj_per_kcm"])
    gas_per_mwh = np.where(gen.uses_gas, g["heat_rate"].to_numpy() / lhv / KCM_PER_MM3, 0.0)  # Mm3 per MWh
    regions = ctx.net.tables["buses"]["region"]
    return long_table(ctx.snapshots, g.index, "unit", bus=g["bus"].to_numpy(),
                      region=regions.reindex(g["bus"]).to_numpy(), carrier=g["carrier"].to_numpy(), p_mw=p,
                      available_mw=avail, curtailed_mw=np.where(gen.renewable, avail - p, 0.0),
                      committed_mw=committed, co2_t=p * g["co2_t_per_mwh"].to_numpy(), gas_mm3_per_h=p * gas_per_mwh)


def _term(idx: np.ndarray, coef: np.ndarray, key: np.ndarray) -> Term:
    return Term(idx, np.asarray(coef, float), np.asarray(key, int))
