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
+ carbon_price * co2_t_per_mwh (units at buses inside a region), times the snapshot weighting.
Renewables (carriers in RENEWABLE_CARRIERS) pay the curtailment penalty on avail - p; it enters as a
negative cost on p plus a constant objective offset, so no curtailment variable is needed.
"""

from __future__ import annotations

import numpy as np

from ..lp import OBJ_SCALE
from .context import RENEWABLE_CARRIERS, Context, Term


def add_generators(ctx: Context) -> None:
    lp, T, w = ctx.lp, ctx.T, ctx.weights[:, None]
    g = ctx.net.active("generators")
    ctx.data["generators"] = g
    p_nom = g["p_nom"].to_numpy()
    avail = p_nom * ctx.series("p_max_pu", g.index)
    must = np.minimum(avail, p_nom * ctx.series("must_run_pu", g.index))
    committable = g["committable"].to_numpy()
    lower = np.where(committable, must, np.maximum(must, np.minimum(avail, g["p_min_pu"].to_numpy() * p_nom)))
    internal = ~ctx.is_external(g["bus"])
    uses_gas = (g["gas_node"].to_numpy() != "") & ctx.options.gas & (len(ctx.net.tables["gas_nodes"]) > 0)
    fuel = np.where(uses_gas, 0.0, g["fuel_price"].to_numpy() * g["heat_rate"].to_numpy())
    co2 = g["co2_t_per_mwh"].to_numpy()
    cost = g["marginal_cost"].to_numpy() + fuel + ctx.options.carbon_price * co2 * internal
    renewable = g["carrier"].str.lower().isin(RENEWABLE_CARRIERS).to_numpy()
    curt_pen = ctx.penalty("curtailment_cny_per_mwh") * renewable
    p = lp.add_variables("gen_p", g.index, lower, avail, w * (cost - curt_pen))
    lp.offset += float((w * curt_pen * avail).sum()) * OBJ_SCALE
    ctx.data["gen_avail"] = avail
    ctx.data["gen_cost"] = cost
    ctx.data["gen_uses_gas"] = uses_gas
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

    # clustered commitment
    ci = np.flatnonzero(committable)
    if len(ci):
        gc = g.iloc[ci]
        u = lp.add_variables("gen_committed", gc.index, 0.0, avail[:, ci])
        lp.add_constraint("commit_upper", gc.index, [(p.idx[:, ci], 1.0), (u, -1.0)], upper=0.0)
        lp.add_constraint("commit_min_stable", gc.index,
                          [(p.idx[:, ci], 1.0), (u, -gc["p_min_pu"].to_numpy())], lower=0.0)
        su = lp.add_variables("gen_start_up", gc.index, 0.0, np.inf, w * gc["start_up_cost"].to_numpy())
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
    # headroom of non-committable units that provide reserve: avail - p
    nc = np.flatnonzero(~committable & g["provides_reserve"].to_numpy())
    if len(nc):
        reg = ctx.region_pos(g["bus"].iloc[nc])
        ctx.reserve.append(_term(p.idx[:, nc], -np.ones(len(nc)), reg))
        ctx.reserve_const.append((reg, avail[:, nc]))

    # ramps
    up = g["ramp_limit_up"].to_numpy() * p_nom  # MW per hour
    down = g["ramp_limit_down"].to_numpy() * p_nom
    ri = np.flatnonzero(np.isfinite(up) | np.isfinite(down))
    if len(ri):
        gr = g.iloc[ri]
        dt = ctx.dt  # a snapshot of several hours may ramp as far as its hours allow
        lo = np.where(np.isfinite(down[ri]), -down[ri], -np.inf) * dt
        hi = np.where(np.isfinite(up[ri]), up[ri], np.inf) * dt
        pinit = ctx.pick(ctx.state.p_mw, gr.index, gr["p_init"].to_numpy())
        # first hour: p[0] - p_init within limits where p_init is given, else free
        lo[0] = np.where(np.isnan(pinit), -np.inf, lo[0] + np.nan_to_num(pinit))
        hi[0] = np.where(np.isnan(pinit), np.inf, hi[0] + np.nan_to_num(pinit))
        rb = lp.add_rows("ramp", gr.index, lo, hi)
        lp.add_coeffs(rb.idx, p.idx[:, ri], 1.0)
        lp.add_coeffs(rb.idx[1:], p.idx[:-1, ri], -1.0)


def _term(idx: np.ndarray, coef: np.ndarray, key: np.ndarray) -> Term:
    return Term(idx, np.asarray(coef, float), np.asarray(key, int))
