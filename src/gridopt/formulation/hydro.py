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

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from ..lp import COST, OTHER, PENALTY, Block
from ..units import HM3_PER_M3S_HOUR as K
from ..units import MWH_PER_HM3_PER_MW_PER_M3S
from .capacity import add_capacity, add_ratings
from .context import Context, Solved, Term, long_table
from .linking import calendar, clustered, link_levels, period_weights, previous


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


@dataclass
class Hydro:
    """The active reservoirs, their capacities and the water accounting the results need."""

    table: pd.DataFrame
    production_mw_per_m3s: np.ndarray  # at the plant itself
    p_nom_mw: np.ndarray  # turbine capacity: the release limit is p_nom / production
    cascade_mw_per_m3s: np.ndarray  # summed down the cascade: what a released m3/s is worth in power
    inflow_m3s: np.ndarray  # natural incremental inflow, (hours, reservoirs)
    volume_initial_hm3: np.ndarray
    # upstream links j: reservoir u_pos[j] flows into d_pos[j]; water released in snapshot t arrives in
    # snapshot arrive[t, j] (T: after the horizon); early_hm3[t, j] arrives from releases before the horizon
    u_pos: np.ndarray
    d_pos: np.ndarray
    arrive: np.ndarray
    early_hm3: np.ndarray

    @property
    def mwh_per_hm3(self) -> np.ndarray:
        """The energy of a stored hm3, down its cascade."""
        return self.cascade_mw_per_m3s * MWH_PER_HM3_PER_MW_PER_M3S


def add_hydro(ctx: Context) -> None:
    lp, w = ctx.lp, ctx.weights[:, None]
    res = ctx.net.active("reservoirs")
    coef = res["production_mw_per_m3s"].to_numpy()
    p_nom = res["p_nom"].to_numpy()
    inflow = ctx.series("inflow_m3s", res.index)
    down = res["downstream"].to_numpy()
    has_down = np.array([d in res.index for d in down], dtype=bool)
    hy = ctx.hydro = Hydro(res, coef, p_nom, cascade_energy(res), inflow, initial_volume(ctx, res),
                           np.flatnonzero(has_down), res.index.get_indexer(down[has_down]),
                           np.zeros((ctx.T, 0), int), np.zeros((ctx.T, 0)))
    cap = add_capacity(ctx, "reservoirs", res)
    q_max = p_nom / coef if len(res) else np.zeros(0)
    q = lp.add_variables("hydro_release", res.index, 0.0, cap.free(q_max, np.inf),
                         w * (res["marginal_cost"].to_numpy() * coef), label="operation_cny", kind=COST)
    add_ratings(ctx, "hydro_turbine_max", cap, q.idx, 1.0 / coef if len(res) else np.zeros(0))
    s = lp.add_variables("hydro_spill", res.index, 0.0, res["spill_max_m3s"].to_numpy(),
                         w * ctx.penalty("spill_cny_per_mwh") * hy.cascade_mw_per_m3s, label="spill_cny", kind=PENALTY)
    v = lp.add_variables("hydro_volume", res.index, res["volume_min_hm3"].to_numpy(), res["volume_max_hm3"].to_numpy())
    ctx.inject(q, coef, res["bus"])
    region = ctx.region_pos(res["bus"])
    ctx.generation.append(Term(q.idx, coef, region))
    for label in ("rule_curve_cny", "eco_flow_cny", "end_target_cny"):
        lp.declare_cost(label, PENALTY)
    if len(res) == 0:
        return
    delay = res["delay_hours"].to_numpy(dtype=float)[has_down]  # hours
    if clustered(ctx) is None:
        hy.arrive, hy.early_hm3 = _arrivals(ctx, hy.u_pos, delay, _release_before(res, inflow[0])[has_down])
    else:  # water travels within its representative period, wrapping round its end (no water is lost)
        p = clustered(ctx)
        t = np.arange(ctx.T)[:, None]
        hy.arrive = (t // p.hours) * p.hours + (t % p.hours + np.rint(delay).astype(int)[None, :]) % p.hours
        hy.early_hm3 = np.zeros((ctx.T, len(hy.u_pos)))
    rb = _add_volume_balance(ctx, q, s, v)
    if clustered(ctx) is None:
        _add_rule_curves(ctx, q, s, v)
        _add_eco_flow(ctx, q, s)
        _add_end_targets(ctx, q, s, v)
    else:
        _add_linked_levels(ctx, v, rb)
        _add_eco_flow(ctx, q, s)
    if ctx.targets.water_value_cny_per_hm3:
        _add_terminal_value(ctx, q, s, v)
    rmask = res["provides_reserve"].to_numpy()
    ctx.reserve.append(Term(q.idx[:, rmask], -coef[rmask], region[rmask]))
    ri = np.flatnonzero(rmask)
    ctx.reserve_const.append((region[rmask], cap.free(np.broadcast_to(p_nom[rmask], (ctx.T, rmask.sum())), 0.0, ri)))
    grown = ri[cap.extendable[ri]]
    if len(grown):
        ctx.reserve.append(Term(cap.cap_idx(ctx.T, grown), np.ones(len(grown)), region[grown]))


def _add_volume_balance(ctx: Context, q: Block, s: Block, v: Block) -> None:
    """V[t] - V[t-1] + k (q + s)[t] - k (upstream q + s arriving at t) = k inflow[t] (+ V0 at t = 0, + early)."""
    lp, hy, T = ctx.lp, ctx.hydro, ctx.T
    k = K * ctx.dt  # hm3 per (m3/s over one snapshot)
    rhs = k * hy.inflow_m3s
    if clustered(ctx) is None:  # else every representative starts from its own start level (`linking`)
        rhs[0] += hy.volume_initial_hm3
    for j, d in enumerate(hy.d_pos):  # water released upstream before the horizon, arriving within it
        rhs[:, d] += hy.early_hm3[:, j]
    rb = lp.add_constraint("hydro_volume_balance", hy.table.index, [(v, 1.0), (q, k), (s, k)], rhs, rhs)
    prev = previous(ctx)
    has = prev >= 0
    lp.add_coeffs(rb.idx[has], v.idx[prev[has]], -1.0)
    src_t, links = np.nonzero(hy.arrive < T)  # releases arriving within the horizon
    rows = rb.idx[hy.arrive[src_t, links], hy.d_pos[links]]
    for blk in (q, s):
        lp.add_coeffs(rows, blk.idx[src_t, hy.u_pos[links]], -k[src_t, 0])
    return rb


def _add_rule_curves(ctx: Context, q: Block, s: Block, v: Block) -> None:
    """Elastic rule-curve minimum and maximum volumes."""
    lp, hy, w, pen = ctx.lp, ctx.hydro, ctx.weights[:, None], ctx.penalty
    res = hy.table
    for series, name, sign in (("volume_min_rule_hm3", "rule_min", 1.0), ("volume_max_rule_hm3", "rule_max", -1.0)):
        has = ctx.has_series(series, res.index)
        if has.any():
            bound = ctx.series(series, res.index[has])
            slack = lp.add_variables(f"hydro_{name}_violation", res.index[has], 0.0, np.inf,
                                     w * pen("rule_curve_cny_per_mwh") * hy.mwh_per_hm3[has],
                                     label="rule_curve_cny", kind=PENALTY)
            kw = {"lower": bound} if sign > 0 else {"upper": bound}
            lp.add_constraint(f"hydro_{name}", res.index[has], [(v.idx[:, has], 1.0), (slack, sign)], **kw)


def _add_linked_levels(ctx: Context, v: Block, balance: Block) -> None:
    """Representative periods, clustered: the year's reservoir levels linked in calendar order (`linking`),
    with the rule curves at the end of every period and the end target at the year's end, both elastic as
    hourly (a rule-curve violation is priced for the hours its period stands for)."""
    lp, hy = ctx.lp, ctx.hydro
    res = hy.table
    lo, hi = res["volume_min_hm3"].to_numpy(), res["volume_max_hm3"].to_numpy()
    linked = link_levels(ctx, "hydro", v, balance, lo, hi, hy.volume_initial_hm3)
    S = linked.level
    w = period_weights(ctx)
    for series, name, sign in (("volume_min_rule_hm3", "rule_min", 1.0), ("volume_max_rule_hm3", "rule_max", -1.0)):
        bound = calendar(ctx, series, res.index)
        has = np.zeros(len(res), bool) if bound is None else ~np.isnan(bound).all(axis=0)
        if has.any():
            slack = lp.add_variables(f"hydro_level_{name}_violation", res.index[has], 0.0, np.inf,
                                     w * ctx.penalty("rule_curve_cny_per_mwh") * hy.mwh_per_hm3[has],
                                     hours=S.hours, label="rule_curve_cny", kind=PENALTY)
            kw = {"lower": bound[:, has]} if sign > 0 else {"upper": bound[:, has]}
            rb = lp.add_rows(f"hydro_level_{name}", res.index[has], hours=S.hours, **kw)
            lp.add_coeffs(rb.idx, S.idx[:, has], 1.0)
            lp.add_coeffs(rb.idx, slack.idx, sign)
    target = calendar(ctx, "volume_target_hm3", res.index)
    has = np.zeros(len(res), bool) if target is None else ~np.isnan(target[-1])
    if has.any():
        goal = np.minimum(target[-1, has], hi[has])
        slack = lp.add_variables("hydro_end_shortfall", res.index[has], 0.0, np.inf, hours=1)
        lp.add_cost(slack, ctx.penalty("end_target_cny_per_mwh") * hy.mwh_per_hm3[has], "end_target_cny", PENALTY)
        rb = lp.add_rows("hydro_end_target", res.index[has], goal, np.inf, hours=1)
        lp.add_coeffs(rb.idx[0], S.idx[-1, has], 1.0)
        lp.add_coeffs(rb.idx[0], slack.idx[0], 1.0)


def _add_eco_flow(ctx: Context, q: Block, s: Block) -> None:
    """Elastic ecological minimum outflow (release + spill)."""
    lp, hy, w, pen = ctx.lp, ctx.hydro, ctx.weights[:, None], ctx.penalty
    res = hy.table
    eco = res["eco_flow_min_m3s"].to_numpy()
    has = eco > 0
    if has.any():
        slack = lp.add_variables("hydro_eco_shortfall", res.index[has], 0.0, eco[has],
                                 w * pen("eco_flow_cny_per_mwh") * hy.cascade_mw_per_m3s[has],
                                 label="eco_flow_cny", kind=PENALTY)
        lp.add_constraint("hydro_eco_flow", res.index[has],
                          [(q.idx[:, has], 1.0), (s.idx[:, has], 1.0), (slack, 1.0)], lower=eco[has])


def _add_end_targets(ctx: Context, q: Block, s: Block, v: Block) -> None:
    """The case's end target (its target series at the last hour) and explicit targets (rolling windows),
    which replace it, at the last hour or at the targets' hour."""
    lp, hy, T = ctx.lp, ctx.hydro, ctx.T
    res, n = hy.table, len(hy.table)
    k = K * ctx.dt
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
        # a shortfall is water missing once, at that hour: its price does not scale with the snapshot's length
        slack = lp.add_variables(f"hydro_{name}_shortfall", res.index[has], 0.0, np.inf, hours=1)
        lp.add_cost(slack, ctx.penalty("end_target_cny_per_mwh") * hy.mwh_per_hm3[has], "end_target_cny", PENALTY,
                    hour=hour)
        count_transit = tg.transit_hm3 is not None and explicit[has].all()
        if count_transit:  # the target counts the water still on its way in
            target = target + ctx.pick(tg.transit_hm3, res.index[has], np.zeros(has.sum()))
        rb = lp.add_rows(f"hydro_{name}_target", res.index[has], target, np.inf, hours=1)
        lp.add_coeffs(rb.idx[0], v.idx[hour, has], 1.0)
        lp.add_coeffs(rb.idx[0], slack.idx[0], 1.0)
        if count_transit:
            row_of = np.full(n, -1)
            row_of[np.flatnonzero(has)] = rb.idx[0]
            for j in np.flatnonzero(row_of[hy.d_pos] >= 0):  # released up to that hour, arriving after it
                hrs = np.flatnonzero((np.arange(T) <= hour) & (hy.arrive[:, j] > hour))
                for blk in (q, s):
                    lp.add_coeffs(np.full(len(hrs), row_of[hy.d_pos[j]]), blk.idx[hrs, hy.u_pos[j]], k[hrs, 0])


def _add_terminal_value(ctx: Context, q: Block, s: Block, v: Block) -> None:
    """Terminal value of the water left at the end (rolling windows). Water on its way down then is the
    downstream reservoir's: released upstream in the last delay hours, it earns the value of where it
    arrives (else a window holds it upstream in its last hours)."""
    lp, hy, T = ctx.lp, ctx.hydro, ctx.T
    n = len(hy.table)
    k = K * ctx.dt
    value = ctx.pick(ctx.targets.water_value_cny_per_hm3, hy.table.index, np.zeros(n))
    terminal = np.zeros((T, n))
    terminal[-1] = -value
    lp.add_cost(v, terminal, "terminal_value_cny", OTHER)
    late = np.zeros((T, n))
    for j in range(len(hy.u_pos)):
        after = hy.arrive[:, j] >= T
        late[after, hy.u_pos[j]] -= value[hy.d_pos[j]] * k[after, 0]
    if late.any():
        lp.add_cost(q, late, "terminal_value_cny", OTHER)
        lp.add_cost(s, late, "terminal_value_cny", OTHER)


def upstream_arrivals(ctx: Context, outflow_m3s: np.ndarray) -> tuple[np.ndarray, float]:
    """Upstream water arriving at each reservoir in each snapshot, as a mean flow over the snapshot
    (m3/s, (hours, reservoirs)), from the reservoirs' outflows (release + spill, m3/s); and the water
    released within the horizon that arrives after it (hm3)."""
    hy, T = ctx.hydro, ctx.T
    k = K * ctx.dt[:, 0]  # hm3 per m3/s over each snapshot
    upstream = np.zeros((T, len(hy.table)))
    hm3 = hy.early_hm3.copy()
    out = outflow_m3s[:, hy.u_pos] * k[:, None]
    inside = hy.arrive < T
    in_transit = 0.0
    for j in range(len(hy.u_pos)):
        hm3[:, j] += np.bincount(hy.arrive[inside[:, j], j], out[inside[:, j], j], minlength=T)
        in_transit += float(out[~inside[:, j], j].sum())
    np.add.at(upstream.T, hy.d_pos, (hm3 / k[:, None]).T)
    return upstream, in_transit


def extract_hydro(ctx: Context, sv: Solved) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, float]:
    """The hydro table (flows, volumes, water values, violations), the reservoirs' generation rows, the
    end-target shortfall per reservoir (hm3) and the water still in transit at the end (hm3)."""
    hy, T = ctx.hydro, ctx.T
    res = hy.table
    q, s, vol = sv.value("hydro_release"), sv.value("hydro_spill"), sv.value("hydro_volume")
    p = q * hy.production_mw_per_m3s
    upstream, in_transit = upstream_arrivals(ctx, q + s) if len(hy.u_pos) else (np.zeros((T, len(res))), 0.0)
    cols = dict(bus=res["bus"].to_numpy(), natural_inflow_m3s=hy.inflow_m3s, upstream_inflow_m3s=upstream,
                release_m3s=q, spill_m3s=s, volume_hm3=vol, p_mw=p,
                # value of one more hm3 in store: minus the dual of the volume balance (inflow lowers cost)
                water_value_cny_per_hm3=-sv.row_price("hydro_volume_balance")
                if "hydro_volume_balance" in sv.lp.rows else np.nan)
    for name, col in (("hydro_rule_min_violation", "rule_min_violation_hm3"),
                      ("hydro_rule_max_violation", "rule_max_violation_hm3"),
                      ("hydro_eco_shortfall", "eco_flow_shortfall_m3s")):
        full = np.zeros((T, len(res)))
        if sv.has(name):
            full[:, res.index.get_indexer(sv.lp.variables[name].elements)] = sv.value(name)
        cols[col] = full
    regions = ctx.net.tables["buses"]["region"]
    gen = long_table(ctx.snapshots, res.index, "unit", bus=res["bus"].to_numpy(),
                     region=regions.reindex(res["bus"]).to_numpy(), carrier="hydro_reservoir", p_mw=p,
                     available_mw=ctx.capacity["reservoirs"].optimal(sv), curtailed_mw=0.0, committed_mw=np.nan, co2_t=0.0, gas_mm3_per_h=0.0)
    short = pd.Series(dtype=float)
    for name in ("hydro_end_shortfall", "hydro_boundary_shortfall"):
        if sv.has(name):
            part = pd.Series(sv.value(name)[0], index=sv.lp.variables[name].elements)
            short = part if not len(short) else short.add(part, fill_value=0.0)
    return long_table(ctx.snapshots, res.index, "reservoir", **cols), gen, short, in_transit


def _arrivals(ctx: Context, u_pos: np.ndarray, delay: np.ndarray, before: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where released water arrives, for each upstream link j (reservoir u_pos[j], `delay[j]` hours).

    Water released in snapshot t is taken to leave at the snapshot's midpoint and arrives in the snapshot
    holding midpoint + delay: `arrive[t, j]` (T where that is after the horizon). Hourly, that is t + delay
    exactly; a daily snapshot keeps delays under half a day within the day, so its volume at the end counts
    the water then still on its way down. Water released in the hours before the horizon (the carried
    outflow of a previous window, else `before`) arrives in the snapshot holding its arrival time:
    `early_hm3[t, j]`. So a coarse model starts with the water in transit that an hourly one has."""
    T = ctx.T
    dt = ctx.dt[:, 0]
    start = np.cumsum(dt) - dt  # hours from the horizon's start
    mid = start + dt / 2
    arrive = np.searchsorted(start, mid[:, None] + delay[None, :], side="right") - 1
    arrive = np.where(mid[:, None] + delay[None, :] >= start[-1] + dt[-1], T, arrive) if T else arrive
    early = np.zeros((T, len(u_pos)))
    hist = ctx.state.outflow_m3s
    h = hist.reindex(columns=ctx.hydro.table.index[u_pos]).to_numpy(dtype=float) \
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
    # summed in the table's order: a set's order changes between runs, and with it the last bit of the sum
    steady = np.array([q0[res.index.isin(nx.ancestors(g, r) | {r})].sum() for r in res.index])
    stated = res["release_before_m3s"].to_numpy()
    return np.where(np.isnan(stated), steady, stated)
