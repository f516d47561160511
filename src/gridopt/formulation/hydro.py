"""Hydro reservoirs and cascades in water units.

For every reservoir r and hour t (volume V in hm3, flows in m3/s, k = 0.0036 hm3 per m3/s-hour):

    V[t,r] = V[t-1,r] + k * (inflow[t,r] + sum_u (q[t-d_u,u] + s[t-d_u,u]) - q[t,r] - s[t,r])

where u runs over the reservoirs directly upstream with travel delay d_u hours, V[-1] is the initial
volume (volume_initial_hm3 when the horizon starts with the series, else the target series at the start), and for t < d_u the upstream outflow is the stated release before the horizon (default steady
state: the sum of natural inflows of u and everything above it at the first hour). Output is
p = production_mw_per_m3s * q (constant head: a stated simplification). Hard limits: dead pool <= V <=
maximum volume, 0 <= q <= p_nom / production, 0 <= s <= spill_max_m3s. Elastic (priced per MWh of the
water's energy content e_r = sum of production coefficients from r down its cascade):
    V + under >= rule-curve minimum,  V - over <= rule-curve maximum,  q + s + eco_short >= eco minimum,
    V[T-1] + end_short >= end target (target series at the last hour). A rolling window's explicit
    targets replace it, at the last hour or at a given hour (then the case's target still holds at the last),
    and may count the water released upstream in the d_u hours up to that hour, which arrives after it.
The dual of the volume balance is the water value (CNY per hm3); spill pays the (tiny) spill penalty.
In a resampled network k is 0.0036 hm3 per m3/s times each snapshot's hours, and delays are placed by
snapshot midpoints (`_arrivals`); hourly, both reduce to the equations above.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from ..units import HM3_PER_M3S_HOUR as K
from ..units import MWH_PER_HM3_PER_MW_PER_M3S
from .context import Context, Term


def cascade_energy(res: pd.DataFrame) -> np.ndarray:
    """Production coefficient summed from each reservoir down its cascade (MW per m3/s)."""
    coef = res["production_mw_per_m3s"]
    out = []
    for name in res.index:
        total, seen, cur = 0.0, set(), name
        while cur in coef.index and cur not in seen:
            seen.add(cur)
            total += coef[cur]
            cur = res.at[cur, "downstream"]
        out.append(total)
    return np.array(out)


def add_hydro(ctx: Context) -> None:
    lp, T, w = ctx.lp, ctx.T, ctx.weights[:, None]
    res = ctx.net.active("reservoirs")
    ctx.data["reservoirs"] = res
    n = len(res)
    coef = res["production_mw_per_m3s"].to_numpy()
    q_max = res["p_nom"].to_numpy() / coef if n else np.zeros(0)
    e = cascade_energy(res)  # MW per m3/s
    mwh_per_hm3 = e * MWH_PER_HM3_PER_MW_PER_M3S
    ctx.data["mwh_per_hm3"] = mwh_per_hm3  # the energy of a stored hm3, down its cascade
    inflow = ctx.series("inflow_m3s", res.index)
    ctx.data["inflow"] = inflow
    k = K * ctx.dt  # hm3 per (m3/s over one snapshot)
    pen = ctx.penalty
    q = lp.add_variables("hydro_release", res.index, 0.0, q_max,
                         w * (res["marginal_cost"].to_numpy() * coef))
    s = lp.add_variables("hydro_spill", res.index, 0.0, res["spill_max_m3s"].to_numpy(),
                         w * pen("spill_cny_per_mwh") * e)
    v = lp.add_variables("hydro_volume", res.index, res["volume_min_hm3"].to_numpy(), res["volume_max_hm3"].to_numpy())
    ctx.inject(q, coef, res["bus"])
    region = ctx.region_pos(res["bus"])
    ctx.generation.append(Term(q.idx, coef, region))
    if n == 0:
        return

    # upstream links: reservoir u flows into d = downstream(u) after delay[u]
    down = res["downstream"].to_numpy()
    has_down = np.array([d in res.index for d in down])
    u_pos = np.flatnonzero(has_down)
    d_pos = res.index.get_indexer(down[has_down])
    delay = res["delay_hours"].to_numpy(dtype=float)[has_down]  # hours
    before = _release_before(res, inflow[0])[has_down]
    ctx.data["release_before"] = before
    arrive, early_hm3 = _arrivals(ctx, u_pos, delay, before)

    v0 = initial_volume(ctx, res)
    ctx.data["volume_initial"] = v0
    rhs = k * inflow
    rhs[0] += v0
    for j, d in enumerate(d_pos):  # water released upstream before the horizon, arriving within it
        rhs[:, d] += early_hm3[:, j]
    ctx.data["arrivals_before_hm3"] = early_hm3
    rb = lp.add_constraint("hydro_volume_balance", res.index, [(v, 1.0), (q, k), (s, k)], rhs, rhs)
    lp.add_coeffs(rb.idx[1:], v.idx[:-1], -1.0)
    src_t, links = np.nonzero(arrive < T)  # releases arriving within the horizon
    rows = rb.idx[arrive[src_t, links], d_pos[links]]
    for blk in (q, s):
        lp.add_coeffs(rows, blk.idx[src_t, u_pos[links]], -k[src_t, 0])
    ctx.data["cascade"] = (u_pos, d_pos, arrive)

    # elastic rule curves, ecological flow and end target
    for series, name, sign in (("volume_min_rule_hm3", "rule_min", 1.0), ("volume_max_rule_hm3", "rule_max", -1.0)):
        has = ctx.has_series(series, res.index)
        if has.any():
            bound = ctx.series(series, res.index[has])
            slack = lp.add_variables(f"hydro_{name}_violation", res.index[has], 0.0, np.inf,
                                     w * pen("rule_curve_cny_per_mwh") * mwh_per_hm3[has])
            kw = {"lower": bound} if sign > 0 else {"upper": bound}
            lp.add_constraint(f"hydro_{name}", res.index[has], [(v.idx[:, has], 1.0), (slack, sign)], **kw)
    eco = res["eco_flow_min_m3s"].to_numpy()
    has = eco > 0
    if has.any():
        slack = lp.add_variables("hydro_eco_shortfall", res.index[has], 0.0, eco[has],
                                 w * pen("eco_flow_cny_per_mwh") * e[has])
        lp.add_constraint("hydro_eco_flow", res.index[has],
                          [(q.idx[:, has], 1.0), (s.idx[:, has], 1.0), (slack, 1.0)], lower=eco[has])
    # end target (the case's target series at the last hour) and explicit targets (rolling windows), which
    # replace it, at the last hour or at the targets' hour
    tg = ctx.targets
    explicit = res.index.isin(list(tg.volume_hm3))
    planned = ctx.has_series("volume_target_hm3", res.index) if tg.case_end_target else np.zeros(n, bool)
    at = tg.at(T)
    if at == T - 1:
        blocks = [("end", explicit | planned, T - 1)]
    else:
        blocks = [("end", planned & ~explicit, T - 1), ("boundary", explicit, at)]
    for name, has, hour in blocks:
        if not has.any():
            continue
        target = ctx.series("volume_target_hm3", res.index[has])[-1] if planned[has].any() else np.zeros(has.sum())
        target = ctx.pick(tg.volume_hm3, res.index[has], target)
        target = np.minimum(target, res["volume_max_hm3"].to_numpy()[has])
        if name == "end":
            ctx.data["end_target"] = pd.Series(target, index=res.index[has])
        # a shortfall is water missing once, at that hour: its price does not scale with the snapshot's length
        slack = lp.add_variables(f"hydro_{name}_shortfall", res.index[has], 0.0, np.inf,
                                 pen("end_target_cny_per_mwh") * mwh_per_hm3[has], hours=1)
        count_transit = tg.transit_hm3 is not None and explicit[has].all()
        if count_transit:  # the target counts the water still on its way in
            target = target + ctx.pick(tg.transit_hm3, res.index[has], np.zeros(has.sum()))
        rb = lp.add_rows(f"hydro_{name}_target", res.index[has], target, np.inf, hours=1)
        lp.add_coeffs(rb.idx[0], v.idx[hour, has], 1.0)
        lp.add_coeffs(rb.idx[0], slack.idx[0], 1.0)
        if count_transit:
            row_of = np.full(n, -1)
            row_of[np.flatnonzero(has)] = rb.idx[0]
            for j in np.flatnonzero(row_of[d_pos] >= 0):  # released up to that hour, arriving after it
                hrs = np.flatnonzero((np.arange(T) <= hour) & (arrive[:, j] > hour))
                for blk in (q, s):
                    lp.add_coeffs(np.full(len(hrs), row_of[d_pos[j]]), blk.idx[hrs, u_pos[j]], k[hrs, 0])
    if ctx.targets.water_value_cny_per_hm3:  # terminal value of the water left at the end (rolling windows)
        value = ctx.pick(ctx.targets.water_value_cny_per_hm3, res.index, np.zeros(n))
        terminal = np.zeros((T, n))
        terminal[-1] = -value
        lp.add_cost(v, terminal)
        # water on its way down at the end is the downstream reservoir's: released upstream in the last delay
        # hours, it earns the value of where it arrives (else a window holds it upstream in its last hours)
        late = np.zeros((T, n))
        for j in range(len(u_pos)):
            after = arrive[:, j] >= T
            late[after, u_pos[j]] -= value[d_pos[j]] * k[after, 0]
        if late.any():
            lp.add_cost(q, late)
            lp.add_cost(s, late)
    rmask = res["provides_reserve"].to_numpy()
    ctx.reserve.append(Term(q.idx[:, rmask], -coef[rmask], region[rmask]))
    ctx.reserve_const.append((region[rmask], np.broadcast_to(res["p_nom"].to_numpy()[rmask], (T, rmask.sum()))))


def _arrivals(ctx: Context, u_pos: np.ndarray, delay: np.ndarray, before: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where released water arrives, for each upstream link j (reservoir u_pos[j], `delay[j]` hours).

    Water released in snapshot t is taken to leave at the snapshot's midpoint and arrives in the snapshot
    holding midpoint + delay: `arrive[t, j]` (T where that is after the horizon). Hourly, that is t + delay
    exactly; a daily snapshot keeps delays under half a day within the day, so its volume at the end counts
    the water then still on its way down. Water released in the hours before the horizon (the carried
    outflow of a previous window, else `before`) arrives in the snapshot holding its arrival time:
    `early_hm3[t, j]`. So a coarse model starts with the water in transit that an hourly one has (a daily
    model of the shipped case otherwise starts short of 0.99 km3 on 1 August 2025, 1.2 TWh down the cascades)."""
    T = ctx.T
    dt = ctx.dt[:, 0]
    start = np.cumsum(dt) - dt  # hours from the horizon's start
    mid = start + dt / 2
    arrive = np.searchsorted(start, mid[:, None] + delay[None, :], side="right") - 1
    arrive = np.where(mid[:, None] + delay[None, :] >= start[-1] + dt[-1], T, arrive) if T else arrive
    early = np.zeros((T, len(u_pos)))
    hist = ctx.state.outflow_m3s
    h = hist.reindex(columns=ctx.data["reservoirs"].index[u_pos]).to_numpy(dtype=float) \
        if hist is not None and len(hist) else np.zeros((0, len(u_pos)))
    for j in range(len(u_pos)):
        n = int(np.rint(delay[j]))
        if n == 0:
            continue
        back = np.arange(-n, 0)  # hours before the start
        flow = np.full(n, before[j])
        known = back >= -len(h)
        if known.any():
            vals = h[len(h) + back[known], j]
            flow[known] = np.where(np.isfinite(vals), vals, before[j])
        a = np.searchsorted(start, back + 0.5 + delay[j], side="right") - 1
        ok = (a >= 0) & (a < T)
        np.add.at(early[:, j], a[ok], K * flow[ok])
    return arrive, early


def initial_volume(ctx: Context, res: pd.DataFrame) -> np.ndarray:
    """Volume before the first hour (hm3): volume_initial_hm3 at the start of the series; a horizon starting
    later begins on the target series (the rule curve's planned volume) where the case gives one; a carried
    state (rolling horizons) overrides both for the reservoirs it names."""
    v0 = res["volume_initial_hm3"].to_numpy(dtype=float)
    if ctx.rows.start > 0:
        planned = ctx.net.planned_volumes(ctx.rows.start).reindex(res.index).to_numpy()
        v0 = np.where(np.isnan(planned), v0, planned)
    return ctx.pick(ctx.state.volume_hm3, res.index, v0)


def _release_before(res: pd.DataFrame, inflow0: np.ndarray) -> np.ndarray:
    """Outflow before the horizon (m3/s): stated, else natural inflow of the reservoir and all above it."""
    g = nx.DiGraph()
    g.add_nodes_from(res.index)
    g.add_edges_from((u, d) for u, d in res["downstream"].items() if d in res.index)
    q0 = pd.Series(inflow0, index=res.index)
    steady = np.array([q0[list(nx.ancestors(g, r)) + [r]].sum() for r in res.index])
    stated = res["release_before_m3s"].to_numpy()
    return np.where(np.isnan(stated), steady, stated)
