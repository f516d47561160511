"""The pyomo twin: the dispatch LP written family by family as a readable pyomo ConcreteModel.

This is an independent formulation of the model in `gridopt.formulation` (same variables, constraints and
objective; DESIGN.md section 4), meant to be read and extended. Components carry the fast path's block
names, indexed by (hour, element) — e.g. ``m.gen_p[t, "SC_CD_coal"]``, ``m.balance[t, "CQ_C"]`` — so that
solutions and duals map back to the same result tables. Units: MW, MWh, hm3, m3/s, 1000 m3 (kcm) of gas;
the objective is in 10^3 CNY (costs x 1e-3), as in the fast path, so duals compare one to one.

Kirchhoff's voltage law is written with voltage angles here (``theta``), whatever ``kvl`` the fast path
uses: both are exact for the lossless DC power flow, so the twin also checks the cycle formulation.

Extending: build the model, add components, solve with ``solve_model``::

    m = gridopt.build_pyomo_model(net, start="2025-07-01", hours=24)
    cq_coal = [g for g in m.G if m.gen_bus[g] in m.region_buses["Chongqing"] and m.gen_carrier[g] == "coal"]
    m.cq_coal_cap = pyo.Constraint(m.T, rule=lambda m, t: sum(m.gen_p[t, g] for g in cq_coal) <= 8000)
    result = gridopt.solvers.pyomo.solve_model(m)
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from ..formulation.context import RENEWABLE_CARRIERS, Context, DispatchOptions
from ..formulation.gas import _TIER
from ..formulation.hydro import cascade_energy, initial_volume
from ..lp import OBJ_SCALE
from ..network import EXTERNAL, Network
from ..units import HM3_PER_M3S_HOUR, KCM_PER_MM3, MWH_PER_HM3_PER_MW_PER_M3S
from .highs import Solution

K = HM3_PER_M3S_HOUR


def _frame(arr: np.ndarray, index: pd.Index) -> dict[tuple[int, str], float]:
    """(hour, element) -> value, for pyomo Param-like lookups."""
    return {(t, e): float(arr[t, i]) for t in range(arr.shape[0]) for i, e in enumerate(index)}


def build_pyomo_model(net: Network, start=None, hours: int | None = None, **options: Any) -> pyo.ConcreteModel:
    """The dispatch LP of `net` as a pyomo ConcreteModel (options as for `gridopt.dispatch`)."""
    options.pop("kvl", None)
    if (net.durations() != 1).any():
        from ..errors import UsageError
        raise UsageError("the pyomo twin is hourly: solve resampled (coarse) networks on the fast path")
    opts = DispatchOptions.create(net, start=start, hours=hours, **options)
    if opts.state is not None or opts.targets is not None:
        from ..errors import UsageError
        raise UsageError("carried states and targets (rolling horizons) run on the fast path")
    ctx = Context.create(net, opts)  # horizon, weights and series access only; no LP is built here
    m = pyo.ConcreteModel(name=f"gridopt {net.name}")
    T = opts.hours
    m.T = pyo.RangeSet(0, T - 1)
    w = ctx.weights
    m.weight = {t: float(w[t]) for t in range(T)}
    pen = net.config["penalties"]
    S = OBJ_SCALE
    cost_terms: list[Any] = []
    offset = 0.0
    buses = net.tables["buses"]
    m.B = pyo.Set(initialize=list(buses.index), ordered=True)
    bus_region = buses["region"].to_dict()
    m.region_buses = {r: {b for b, rr in bus_region.items() if rr == r} for r in net.regions}
    inj: dict[tuple[int, str], list[Any]] = {}  # (t, bus) -> expressions injected into the balance

    def add_inj(t: int, bus: str, expr: Any) -> None:
        inj.setdefault((t, bus), []).append(expr)

    # ---- loads, shed, markets ------------------------------------------------------------------
    firm = ctx.series("load_firm_mw", buses.index)
    inter = ctx.series("load_interruptible_mw", buses.index)
    loaded = [b for i, b in enumerate(buses.index) if firm[:, i].max() > 0 or inter[:, i].max() > 0]
    li = buses.index.get_indexer(loaded)
    m.L = pyo.Set(initialize=loaded, ordered=True)
    ub_i, ub_f = _frame(inter[:, li], pd.Index(loaded)), _frame(firm[:, li], pd.Index(loaded))
    m.shed_interruptible = pyo.Var(m.T, m.L, bounds=lambda m, t, b: (0, ub_i[t, b]))
    m.shed_firm = pyo.Var(m.T, m.L, bounds=lambda m, t, b: (0, ub_f[t, b]))
    for t in range(T):
        for b in loaded:
            add_inj(t, b, m.shed_interruptible[t, b] + m.shed_firm[t, b])
            cost_terms.append(w[t] * (pen["voll_interruptible_cny_per_mwh"] * m.shed_interruptible[t, b]
                                      + pen["voll_firm_cny_per_mwh"] * m.shed_firm[t, b]))
    mk = net.tables["markets"]
    m.M = pyo.Set(initialize=list(mk.index), ordered=True)
    buy_p, sell_p = _frame(ctx.series("buy_price", mk.index), mk.index), _frame(ctx.series("sell_price", mk.index), mk.index)
    m.market_buy = pyo.Var(m.T, m.M, bounds=lambda m, t, k: (0, mk.at[k, "buy_max_mw"]))
    m.market_sell = pyo.Var(m.T, m.M, bounds=lambda m, t, k: (0, mk.at[k, "sell_max_mw"]))
    for t in range(T):
        for k in mk.index:
            add_inj(t, mk.at[k, "bus"], m.market_sell[t, k] - m.market_buy[t, k])
            cost_terms.append(w[t] * (sell_p[t, k] * m.market_sell[t, k] - buy_p[t, k] * m.market_buy[t, k]))

    # ---- generators: bounds, cost, curtailment, clustered commitment, ramps ---------------------
    g = net.active("generators")
    m.G = pyo.Set(initialize=list(g.index), ordered=True)
    m.gen_bus = g["bus"].to_dict()
    m.gen_carrier = g["carrier"].to_dict()
    p_nom = g["p_nom"].to_numpy()
    avail = p_nom * ctx.series("p_max_pu", g.index)
    must = np.minimum(avail, p_nom * ctx.series("must_run_pu", g.index))
    gas_on = opts.gas and len(net.tables["gas_nodes"]) > 0
    lower = np.zeros_like(avail)
    for i, (name, r) in enumerate(g.iterrows()):
        lower[:, i] = must[:, i] if r["committable"] else np.maximum(must[:, i], np.minimum(avail[:, i], r["p_min_pu"] * r["p_nom"]))
    av, lo = _frame(avail, g.index), _frame(lower, g.index)
    m.gen_p = pyo.Var(m.T, m.G, bounds=lambda m, t, u: (lo[t, u], av[t, u]))
    for name, r in g.iterrows():
        internal = bus_region[r["bus"]] != EXTERNAL
        fuel = 0.0 if (gas_on and r["gas_node"]) else r["fuel_price"] * r["heat_rate"]
        unit_cost = r["marginal_cost"] + fuel + opts.carbon_price * r["co2_t_per_mwh"] * internal
        curt = pen["curtailment_cny_per_mwh"] if str(r["carrier"]).lower() in RENEWABLE_CARRIERS else 0.0
        for t in range(T):
            add_inj(t, r["bus"], m.gen_p[t, name])
            cost_terms.append(w[t] * (unit_cost * m.gen_p[t, name] - curt * m.gen_p[t, name]))
            offset += w[t] * curt * av[t, name]
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
        if np.isnan(init):
            return pyo.Constraint.Skip
        return m.gen_start_up[t, u] - m.gen_committed[t, u] >= -init
    m.start_up = pyo.Constraint(m.T, m.GC, rule=start_rule)
    for u in com.index:
        for t in range(T):
            cost_terms.append(w[t] * com.at[u, "start_up_cost"] * m.gen_start_up[t, u])
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

    # ---- AC branches with voltage angles --------------------------------------------------------
    lines, tr = net.active("lines"), net.active("transformers")
    vnom = buses["v_nom"]
    ac = {n: (r["bus0"], r["bus1"], r["s_nom"] * r["s_max_pu"], r["x"] / vnom[r["bus0"]] ** 2) for n, r in lines.iterrows()}
    ac.update({n: (r["bus0"], r["bus1"], r["s_nom"] * r["s_max_pu"], r["x"] / r["s_nom"] * r["tap_ratio"])
               for n, r in tr.iterrows()})
    m.A = pyo.Set(initialize=list(ac), ordered=True)
    m.ac_flow = pyo.Var(m.T, m.A, bounds=lambda m, t, a: (-ac[a][2], ac[a][2]))
    x_ref = float(np.median([v[3] for v in ac.values()])) if ac else 1.0
    m.theta = pyo.Var(m.T, m.B)
    import networkx as nx
    graph = nx.Graph()
    graph.add_nodes_from(buses.index)
    graph.add_edges_from((v[0], v[1]) for v in ac.values())
    order = {b: i for i, b in enumerate(buses.index)}
    for comp in nx.connected_components(graph):
        ref = min(comp, key=order.get)
        for t in range(T):
            m.theta[t, ref].fix(0.0)
    m.kvl_angle = pyo.Constraint(m.T, m.A, rule=lambda m, t, a: ac[a][3] / x_ref * m.ac_flow[t, a]
                                 == m.theta[t, ac[a][0]] - m.theta[t, ac[a][1]])
    for a, (b0, b1, _, _) in ac.items():
        for t in range(T):
            add_inj(t, b0, -m.ac_flow[t, a])
            add_inj(t, b1, m.ac_flow[t, a])

    # ---- links, export contracts, interfaces ----------------------------------------------------
    links = net.active("links")
    m.K = pyo.Set(initialize=list(links.index), ordered=True)
    eff = links["efficiency"].to_dict()
    eff_r = links["efficiency_reverse"].fillna(links["efficiency"]).to_dict()
    m.link_fwd = pyo.Var(m.T, m.K, bounds=lambda m, t, k: (0, links.at[k, "p_nom"] * links.at[k, "p_max_pu"]))
    m.link_rev = pyo.Var(m.T, m.K, bounds=lambda m, t, k: (0, -links.at[k, "p_nom"] * links.at[k, "p_min_pu"]))
    for k, r in links.iterrows():
        for t in range(T):
            add_inj(t, r["bus0"], -m.link_fwd[t, k] + eff_r[k] * m.link_rev[t, k])
            add_inj(t, r["bus1"], eff[k] * m.link_fwd[t, k] - m.link_rev[t, k])
            cost_terms.append(w[t] * r["marginal_cost"] * (m.link_fwd[t, k] + m.link_rev[t, k]))
    has_c = ctx.has_series("contract_min_mw", links.index)
    contract = links.index[has_c]
    cmin = _frame(np.minimum(ctx.series("contract_min_mw", contract),
                             (links["p_nom"] * links["p_max_pu"]).to_numpy()[has_c]), contract)
    m.KC = pyo.Set(initialize=list(contract), ordered=True)
    m.export_shortfall = pyo.Var(m.T, m.KC, bounds=lambda m, t, k: (0, cmin[t, k]))
    m.export_contract = pyo.Constraint(m.T, m.KC, rule=lambda m, t, k: m.link_fwd[t, k] + m.export_shortfall[t, k] >= cmin[t, k])
    for k in contract:
        for t in range(T):
            cost_terms.append(w[t] * pen["export_shortfall_cny_per_mwh"] * m.export_shortfall[t, k])
    itf, mem = net.tables["interfaces"], net.tables["interface_members"]
    mem = mem[mem["branch"].isin(set(ac) | set(links.index))]
    m.I = pyo.Set(initialize=list(itf.index), ordered=True)

    def p0(t, branch):
        return m.ac_flow[t, branch] if branch in ac else m.link_fwd[t, branch] - eff_r[branch] * m.link_rev[t, branch]
    m.interface = pyo.Constraint(m.T, m.I, rule=lambda m, t, i: (
        -itf.at[i, "limit_reverse_mw"],
        sum(c * p0(t, b) for b, c in zip(mem.loc[mem["interface"] == i, "branch"], mem.loc[mem["interface"] == i, "coefficient"])),
        itf.at[i, "limit_mw"]))

    # ---- pumped storage -------------------------------------------------------------------------
    su = net.active("storage_units")
    m.S = pyo.Set(initialize=list(su.index), ordered=True)
    m.storage_charge = pyo.Var(m.T, m.S, bounds=lambda m, t, s: (0, su.at[s, "p_nom_store"] if not np.isnan(su.at[s, "p_nom_store"]) else su.at[s, "p_nom"]))
    m.storage_discharge = pyo.Var(m.T, m.S, bounds=lambda m, t, s: (0, su.at[s, "p_nom"]))
    m.storage_soc = pyo.Var(m.T, m.S, bounds=lambda m, t, s: (0, su.at[s, "max_hours"] * su.at[s, "p_nom"]))

    def soc_rule(m, t, s):
        r = su.loc[s]
        keep = 1 - r["standing_loss"]
        prev = m.storage_soc[t - 1, s] if t > 0 else (m.storage_soc[T - 1, s] if r["cyclic_state_of_charge"]
                                                          else r["state_of_charge_initial"])
        return m.storage_soc[t, s] == keep * prev + r["efficiency_store"] * m.storage_charge[t, s] \
            - m.storage_discharge[t, s] / r["efficiency_dispatch"]
    m.storage_soc_balance = pyo.Constraint(m.T, m.S, rule=soc_rule)
    for s, r in su.iterrows():
        for t in range(T):
            add_inj(t, r["bus"], m.storage_discharge[t, s] - m.storage_charge[t, s])
            cost_terms.append(w[t] * r["marginal_cost"] * m.storage_discharge[t, s])

    # ---- hydro reservoirs and cascades ------------------------------------------------------------
    res = net.active("reservoirs")
    m.R = pyo.Set(initialize=list(res.index), ordered=True)
    coef = res["production_mw_per_m3s"].to_dict()
    e = dict(zip(res.index, cascade_energy(res)))  # MW per m3/s down the cascade
    inflow = _frame(ctx.series("inflow_m3s", res.index), res.index)
    m.hydro_release = pyo.Var(m.T, m.R, bounds=lambda m, t, r: (0, res.at[r, "p_nom"] / coef[r]))
    m.hydro_spill = pyo.Var(m.T, m.R, bounds=lambda m, t, r: (0, None if np.isinf(res.at[r, "spill_max_m3s"]) else res.at[r, "spill_max_m3s"]))
    m.hydro_volume = pyo.Var(m.T, m.R, bounds=lambda m, t, r: (res.at[r, "volume_min_hm3"], res.at[r, "volume_max_hm3"]))
    upstream = {r: [u for u in res.index if res.at[u, "downstream"] == r] for r in res.index}
    steady = {}
    for r in res.index:  # natural inflow of the reservoir and everything above it, at the first hour
        stack, total, seen = [r], 0.0, set()
        while stack:
            x = stack.pop()
            if x not in seen:
                seen.add(x)
                total += inflow[0, x]
                stack += upstream[x]
        steady[r] = total
    before = {u: (res.at[u, "release_before_m3s"] if not np.isnan(res.at[u, "release_before_m3s"]) else steady[u])
              for u in res.index}
    v0 = dict(zip(res.index, initial_volume(ctx, res))) if len(res) else {}

    def arrivals(m, t, r):
        total = 0
        for u in upstream[r]:
            d = int(res.at[u, "delay_hours"])
            total += (m.hydro_release[t - d, u] + m.hydro_spill[t - d, u]) if t >= d else before[u]
        return total

    def volume_rule(m, t, r):
        prev = m.hydro_volume[t - 1, r] if t > 0 else v0[r]
        return m.hydro_volume[t, r] == prev + K * (inflow[t, r] + arrivals(m, t, r) - m.hydro_release[t, r] - m.hydro_spill[t, r])
    m.hydro_volume_balance = pyo.Constraint(m.T, m.R, rule=volume_rule)
    for r, row in res.iterrows():
        for t in range(T):
            add_inj(t, row["bus"], coef[r] * m.hydro_release[t, r])
            cost_terms.append(w[t] * (row["marginal_cost"] * coef[r] * m.hydro_release[t, r]
                                      + pen["spill_cny_per_mwh"] * e[r] * m.hydro_spill[t, r]))
    for series, name, sense in (("volume_min_rule_hm3", "rule_min", 1), ("volume_max_rule_hm3", "rule_max", -1)):
        has = res.index[ctx.has_series(series, res.index)]
        bound = _frame(ctx.series(series, has), has)
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
            for t in range(T):
                cost_terms.append(w[t] * pen["rule_curve_cny_per_mwh"] * e[r] * MWH_PER_HM3_PER_MW_PER_M3S * slack[t, r])
    eco = res.index[res["eco_flow_min_m3s"] > 0]
    m.R_eco = pyo.Set(initialize=list(eco), ordered=True)
    m.hydro_eco_shortfall = pyo.Var(m.T, m.R_eco, bounds=lambda m, t, r: (0, res.at[r, "eco_flow_min_m3s"]))
    m.hydro_eco_flow = pyo.Constraint(m.T, m.R_eco, rule=lambda m, t, r: m.hydro_release[t, r] + m.hydro_spill[t, r]
                                      + m.hydro_eco_shortfall[t, r] >= res.at[r, "eco_flow_min_m3s"])
    for r in eco:
        for t in range(T):
            cost_terms.append(w[t] * pen["eco_flow_cny_per_mwh"] * e[r] * m.hydro_eco_shortfall[t, r])
    has = res.index[ctx.has_series("volume_target_hm3", res.index)]
    target = dict(zip(has, np.minimum(ctx.series("volume_target_hm3", has)[-1], res.loc[has, "volume_max_hm3"].to_numpy())))
    m.R_end = pyo.Set(initialize=list(has), ordered=True)
    m.hydro_end_shortfall = pyo.Var(m.R_end, within=pyo.NonNegativeReals)
    m.hydro_end_target = pyo.Constraint(m.R_end, rule=lambda m, r: m.hydro_volume[T - 1, r] + m.hydro_end_shortfall[r] >= target[r])
    for r in has:
        cost_terms.append(pen["end_target_cny_per_mwh"] * e[r] * MWH_PER_HM3_PER_MW_PER_M3S * m.hydro_end_shortfall[r])

    # ---- gas network ------------------------------------------------------------------------------
    if gas_on:
        cost_terms += _add_gas(m, net, ctx, g, pen)

    # ---- reserves ---------------------------------------------------------------------------------
    shares = net.config["reserves"]
    reg = [r for r in net.regions if shares.get(r, 0.0) > 0] if opts.reserves else []
    m.Z = pyo.Set(initialize=reg, ordered=True)
    load = firm + inter

    def reserve_rule(m, t, z):
        zb = m.region_buses[z]
        need = shares[z] * float(sum(load[t, i] for i, b in enumerate(buses.index) if b in zb))
        head = 0
        for u, r in g.iterrows():
            if r["bus"] in zb and r["provides_reserve"]:
                head += (m.gen_committed[t, u] if r["committable"] else av[t, u]) - m.gen_p[t, u]
        for r_, row in res.iterrows():
            if row["bus"] in zb and row["provides_reserve"]:
                head += row["p_nom"] - coef[r_] * m.hydro_release[t, r_]
        for s, row in su.iterrows():
            if row["bus"] in zb and row["provides_reserve"]:
                head += row["p_nom"] - m.storage_discharge[t, s]
        return head >= need
    m.reserve = pyo.Constraint(m.T, m.Z, rule=reserve_rule)

    # ---- emission caps ------------------------------------------------------------------------------
    def in_scope(key, bus):
        return bus_region[bus] in net.regions if key == "system" else bus_region[bus] == key

    def emissions(key, t):
        return sum(g.at[u, "co2_t_per_mwh"] * m.gen_p[t, u] for u in g.index if in_scope(key, g.at[u, "bus"]))

    def generation(key, t):
        return (sum(m.gen_p[t, u] for u in g.index if in_scope(key, g.at[u, "bus"]))
                + sum(coef[r] * m.hydro_release[t, r] for r in res.index if in_scope(key, res.at[r, "bus"])))
    caps, icaps = opts.carbon_caps, opts.intensity_caps
    m.CAP = pyo.Set(initialize=list(caps), ordered=True)
    m.carbon_cap = pyo.Constraint(m.CAP, rule=lambda m, k: sum(w[t] * emissions(k, t) for t in range(T)) <= caps[k])
    m.ICAP = pyo.Set(initialize=list(icaps), ordered=True)
    m.carbon_intensity_cap = pyo.Constraint(
        m.ICAP, rule=lambda m, k: sum(w[t] * (emissions(k, t) - icaps[k] * generation(k, t)) for t in range(T)) <= 0)

    # ---- nodal power balance ----------------------------------------------------------------------
    def balance_rule(m, t, b):
        terms, demand = inj.get((t, b), []), float(load[t, order[b]])
        if not terms:  # an isolated bus (e.g. one not yet in service): fine without load, infeasible with it
            return pyo.Constraint.Skip if demand == 0 else pyo.Constraint.Infeasible
        return sum(terms) == demand
    m.balance = pyo.Constraint(m.T, m.B, rule=balance_rule)

    m.objective = pyo.Objective(expr=S * sum(cost_terms) + S * offset, sense=pyo.minimize)
    m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    m.rc = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    m._gridopt = {"net": net, "options": opts}
    return m


def _add_gas(m: pyo.ConcreteModel, net: Network, ctx: Context, g: pd.DataFrame, pen: dict) -> list[Any]:
    """Gas supplies, pipelines, storage, demand shed and the gas balance (kcm, kcm/h)."""
    T = ctx.T
    w = ctx.weights
    terms: list[Any] = []
    nodes = net.tables["gas_nodes"].index
    sup, pipes, stor = net.active("gas_supplies"), net.active("pipelines"), net.active("gas_storages")
    dem = net.tables["gas_demands"]
    m.GN = pyo.Set(initialize=list(nodes), ordered=True)
    m.GS = pyo.Set(initialize=list(sup.index), ordered=True)
    m.GP = pyo.Set(initialize=list(pipes.index), ordered=True)
    m.GU = pyo.Set(initialize=list(stor.index), ordered=True)
    m.GD = pyo.Set(initialize=list(dem.index), ordered=True)
    X = KCM_PER_MM3
    m.gas_supply = pyo.Var(m.T, m.GS, bounds=lambda m, t, s: (sup.at[s, "min_mm3_per_h"] * X, sup.at[s, "capacity_mm3_per_h"] * X))
    m.pipe_fwd = pyo.Var(m.T, m.GP, bounds=lambda m, t, p: (0, pipes.at[p, "capacity_mm3_per_h"] * X))
    m.pipe_rev = pyo.Var(m.T, m.GP, bounds=lambda m, t, p: (0, pipes.at[p, "capacity_reverse_mm3_per_h"] * X))
    m.gas_injection = pyo.Var(m.T, m.GU, bounds=lambda m, t, s: (0, stor.at[s, "injection_max_mm3_per_h"] * X))
    m.gas_withdrawal = pyo.Var(m.T, m.GU, bounds=lambda m, t, s: (0, stor.at[s, "withdrawal_max_mm3_per_h"] * X))

    def inv_bounds(m, t, s):
        cap = stor.at[s, "working_gas_mm3"] * X
        if t < T - 1:
            return (0, cap)
        low = stor.at[s, "inventory_initial_mm3"] if stor.at[s, "cyclic"] else stor.at[s, "inventory_final_min_mm3"]
        return (min(low * X, cap), cap)
    m.gas_inventory = pyo.Var(m.T, m.GU, bounds=inv_bounds)
    m.gas_storage_balance = pyo.Constraint(m.T, m.GU, rule=lambda m, t, s: m.gas_inventory[t, s] == (
        m.gas_inventory[t - 1, s] if t > 0 else stor.at[s, "inventory_initial_mm3"] * X)
        + m.gas_injection[t, s] - m.gas_withdrawal[t, s])
    demand = _frame(ctx.series("gas_demand_mm3_per_h", dem.index) * X, dem.index)
    m.gas_shed = pyo.Var(m.T, m.GD, bounds=lambda m, t, d: (0, demand[t, d]))
    lhv = float(net.config["gas_lhv_gj_per_kcm"])
    burners = g[g["gas_node"] != ""]

    def gas_balance(m, t, n):
        return (sum(m.gas_supply[t, s] for s in sup.index[sup["node"] == n])
                + sum(pipes.at[p, "efficiency"] * m.pipe_fwd[t, p] - m.pipe_rev[t, p] for p in pipes.index[pipes["node1"] == n])
                + sum(pipes.at[p, "efficiency"] * m.pipe_rev[t, p] - m.pipe_fwd[t, p] for p in pipes.index[pipes["node0"] == n])
                + sum(m.gas_withdrawal[t, s] - m.gas_injection[t, s] for s in stor.index[stor["node"] == n])
                - sum(burners.at[u, "heat_rate"] / lhv * m.gen_p[t, u] for u in burners.index[burners["gas_node"] == n])
                + sum(m.gas_shed[t, d] for d in dem.index[dem["node"] == n])
                == sum(demand[t, d] for d in dem.index[dem["node"] == n]))
    m.gas_balance = pyo.Constraint(m.T, m.GN, rule=gas_balance)
    for t in range(T):
        terms.append(w[t] * sum(sup.at[s, "cost_cny_per_kcm"] * m.gas_supply[t, s] for s in sup.index))
        terms.append(w[t] * sum(pipes.at[p, "cost_cny_per_kcm"] * (m.pipe_fwd[t, p] + m.pipe_rev[t, p]) for p in pipes.index))
        terms.append(w[t] * sum(stor.at[s, "cost_cny_per_kcm"] * m.gas_withdrawal[t, s] for s in stor.index))
        terms.append(w[t] * sum(pen[_TIER.get(dem.at[d, "kind"], "gas_shed_industry_cny_per_kcm")] * m.gas_shed[t, d]
                                for d in dem.index))
    return terms


def solve_model(m: pyo.ConcreteModel, threads: int | None = 1, time_limit: float | None = None) -> dict[str, Any]:
    """Solve a (possibly extended) twin model with HiGHS through pyomo; returns status and objective (CNY).

    Values, duals (``m.dual``) and reduced costs (``m.rc``) are loaded into the model when it is optimal.
    HiGHS runs IPX with crossover (the fast path's choice below 500,000 nonzeros, where the twin is compared).
    """
    opt = pyo.SolverFactory("appsi_highs")
    opt.highs_options = {"threads": int(threads or 1), "solver": "ipx", "run_crossover": "on"}
    if time_limit:
        opt.config.time_limit = float(time_limit)
    # HiGHS keeps one thread scheduler per process, sized by the first solve that asks for threads; reset it
    # so that this solve's thread count is honoured whatever ran before in the process
    import highspy
    highspy.Highs.resetGlobalScheduler(True)
    t0 = time.perf_counter()
    res = opt.solve(m, load_solutions=False)
    seconds = time.perf_counter() - t0
    highspy.Highs.resetGlobalScheduler(True)
    tc = str(res.solver.termination_condition)
    status = {"optimal": "optimal", "infeasible": "infeasible", "unbounded": "unbounded",
              "maxTimeLimit": "time_limit", "infeasibleOrUnbounded": "infeasible"}.get(tc, "error")
    if status == "optimal":
        m.solutions.load_from(res)
    return {"status": status, "objective_cny": pyo.value(m.objective) / OBJ_SCALE if status == "optimal" else float("nan"),
            "solve_seconds": seconds, "message": tc, "algorithm": opt.highs_options["solver"]}


def solve_pyomo(net: Network, threads: int | None = 1, time_limit: float | None = None, **options: Any):
    """Build and solve the twin; map values and duals onto the fast path's layout for the result tables."""
    from ..formulation import build_lp
    options.pop("hooks", None)
    t0 = time.perf_counter()
    m = build_pyomo_model(net, **options)
    build_s = time.perf_counter() - t0
    out = solve_model(m, threads=threads, time_limit=time_limit)
    ctx = build_lp(net, **{**options, "kvl": "angles"})  # layout only: maps twin components to result columns
    lp = ctx.lp
    sol = Solution(status=out["status"], message=out["message"], solve_seconds=out["solve_seconds"],
                   algorithm=out["algorithm"])
    if out["status"] not in ("optimal", "time_limit"):
        return ctx, sol, build_s
    x = np.zeros(lp.ncols)
    rd = np.zeros(lp.nrows)
    act = np.zeros(lp.nrows)
    for name, b in lp.variables.items():
        comp = getattr(m, name, None)
        if comp is None:
            continue
        vals = _values(comp, b, lambda v: v.value if v.value is not None else 0.0)
        x[b.start:b.start + b.size] = vals
    for name, b in lp.rows.items():
        comp = getattr(m, name, None)
        if comp is None:
            continue
        rd[b.start:b.start + b.size] = _values(comp, b, lambda c: m.dual.get(c, 0.0))
    sol.x = x
    sol.row_dual = rd
    sol.col_dual = _reduced_costs(m, lp)
    sol.row_activity = lp.matrix @ x if lp.nrows else act
    sol.objective = out["objective_cny"] * OBJ_SCALE
    sol.primal_feasible = True
    return ctx, sol, build_s


def _values(comp, block, get) -> np.ndarray:
    out = np.zeros((block.hours, block.n))
    for i, e in enumerate(block.elements):
        for t in range(block.hours):
            key = (t, e) if block.hours > 1 or comp.dim() == 2 else e
            if key in comp:
                out[t, i] = get(comp[key])
    return out.ravel()


def _reduced_costs(m: pyo.ConcreteModel, lp) -> np.ndarray:
    """Reduced costs of the variables whose bounds carry shadow prices (flows)."""
    out = np.zeros(lp.ncols)
    for name in ("ac_flow", "link_fwd", "link_rev"):
        if name in lp.variables:
            b = lp.variables[name]
            out[b.start:b.start + b.size] = _values(getattr(m, name), b, lambda v: m.rc.get(v, 0.0))
    return out
