"""Transmission in the twin: AC branches with voltage angles, links with export contracts, interfaces.

Kirchhoff's voltage law is written with angles whatever ``kvl`` the fast path uses: both are exact for the
lossless DC power flow, so comparing the two also checks the fast path's cycle formulation.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pyomo.environ as pyo

from ...formulation.context import Context
from .record import Twin, add_capacity, frame


def add_ac_branches(tw: Twin, ctx: Context) -> None:
    """Flows on lines and transformers within their ratings, tied to the angle difference (MW). An
    extendable circuit's rating is s_max_pu times its capacity variable (rows each way); its reactance stays.

    Mirrors gridopt.formulation.transmission.add_ac_branches (with kvl="angles").
    """
    m, net = tw.m, ctx.net
    buses = net.tables["buses"]
    lines, tr = net.active("lines"), net.active("transformers")
    ac = _ac_branches(lines, tr, buses["v_nom"])
    m.A = pyo.Set(initialize=list(ac), ordered=True)
    caps = {comp: add_capacity(tw, comp, t) for comp, t in (("lines", lines), ("transformers", tr))}
    ext = {b for c in caps.values() for b in c}
    m.ac_flow = pyo.Var(m.T, m.A, bounds=lambda m, t, a: (None, None) if a in ext else (-ac[a][2], ac[a][2]))
    for comp, table in (("lines", lines), ("transformers", tr)):
        cap = caps[comp]
        pu = table["s_max_pu"].to_dict()
        setattr(m, f"A_{comp}_ext", pyo.Set(initialize=list(cap), ordered=True))
        idx = getattr(m, f"A_{comp}_ext")
        setattr(m, f"{comp}_rating_max", pyo.Constraint(
            m.T, idx, rule=lambda m, t, a, cap=cap, pu=pu: m.ac_flow[t, a] <= pu[a] * cap[a]))
        setattr(m, f"{comp}_rating_min", pyo.Constraint(
            m.T, idx, rule=lambda m, t, a, cap=cap, pu=pu: m.ac_flow[t, a] + pu[a] * cap[a] >= 0))
    # reactances divided by their median, so that the angle rows are well scaled
    x_ref = float(np.median([v[3] for v in ac.values()])) if ac else 1.0
    m.theta = pyo.Var(m.T, m.B)
    graph = nx.Graph()
    graph.add_nodes_from(buses.index)
    graph.add_edges_from((v[0], v[1]) for v in ac.values())
    order = {b: i for i, b in enumerate(buses.index)}
    for comp in nx.connected_components(graph):  # one reference angle per island: its first bus
        ref = min(comp, key=order.get)
        for t in range(ctx.T):
            m.theta[t, ref].fix(0.0)
    m.kvl_angle = pyo.Constraint(m.T, m.A, rule=lambda m, t, a: ac[a][3] / x_ref * m.ac_flow[t, a]
                                 == m.theta[t, ac[a][0]] - m.theta[t, ac[a][1]])
    for a, (b0, b1, _, _) in ac.items():
        for t in range(ctx.T):
            tw.injections[t, b0].append(-m.ac_flow[t, a])
            tw.injections[t, b1].append(m.ac_flow[t, a])


def _ac_branches(lines: pd.DataFrame, tr: pd.DataFrame, vnom: pd.Series) -> dict[str, tuple]:
    """branch -> (bus0, bus1, rating MW, reactance in per-unit of a common base)."""
    ac = {n: (r["bus0"], r["bus1"], r["s_nom"] * r["s_max_pu"], r["x"] / vnom[r["bus0"]] ** 2)
          for n, r in lines.iterrows()}
    ac.update({n: (r["bus0"], r["bus1"], r["s_nom"] * r["s_max_pu"], r["x"] / r["s_nom"] * r["tap_ratio"])
               for n, r in tr.iterrows()})
    return ac


def reverse_efficiency(links: pd.DataFrame) -> dict[str, float]:
    """Efficiency from bus1 to bus0: stated, else the forward one."""
    return links["efficiency_reverse"].fillna(links["efficiency"]).to_dict()


def add_links(tw: Twin, ctx: Context) -> None:
    """One non-negative flow per direction with its efficiency and cost, and export contract minimums (MW).
    An extendable link's limits each way are p_max_pu and -p_min_pu times its capacity variable (rows).

    Mirrors gridopt.formulation.transmission.add_links.
    """
    m, w = tw.m, ctx.weights
    links = ctx.net.active("links")
    m.K = pyo.Set(initialize=list(links.index), ordered=True)
    eff = links["efficiency"].to_dict()
    eff_r = reverse_efficiency(links)
    cap = add_capacity(tw, "links", links)
    pmax = frame(ctx.series("link_p_max_pu", links.index), links.index)  # hourly forward availability
    m.link_fwd = pyo.Var(m.T, m.K, bounds=lambda m, t, k: (0, None) if k in cap
                         else (0, links.at[k, "p_nom"] * pmax[t, k]))
    m.link_rev = pyo.Var(m.T, m.K, bounds=lambda m, t, k: (0, None) if k in cap
                         else (0, -links.at[k, "p_nom"] * links.at[k, "p_min_pu"]))
    m.KX = pyo.Set(initialize=list(cap), ordered=True)
    m.link_rating_fwd = pyo.Constraint(
        m.T, m.KX, rule=lambda m, t, k: m.link_fwd[t, k] <= pmax[t, k] * cap[k])
    m.link_rating_rev = pyo.Constraint(
        m.T, m.KX, rule=lambda m, t, k: m.link_rev[t, k] <= -links.at[k, "p_min_pu"] * cap[k])
    for k, r in links.iterrows():
        for t in range(ctx.T):
            tw.injections[t, r["bus0"]].append(-m.link_fwd[t, k] + eff_r[k] * m.link_rev[t, k])
            tw.injections[t, r["bus1"]].append(eff[k] * m.link_fwd[t, k] - m.link_rev[t, k])
            tw.cost.append(w[t] * r["marginal_cost"] * (m.link_fwd[t, k] + m.link_rev[t, k]))
    _add_export_contracts(tw, ctx, links, pmax)


def _add_export_contracts(tw: Twin, ctx: Context, links: pd.DataFrame, pmax) -> None:
    """Forward flow plus a priced shortfall reaches the contract minimum, capped at the most the link can
    carry forward (an extendable link at its largest capacity)."""
    m, w = tw.m, ctx.weights
    pen = ctx.net.config["penalties"]
    has_c = ctx.has_series("contract_min_mw", links.index)
    contract = links.index[has_c]
    cap = tw.capacity["links"]
    most = np.array([[pmax[t, k] * links.at[k, "p_nom_max" if k in cap and pmax[t, k] > 0 else "p_nom"]
                      for k in contract] for t in range(ctx.T)]).reshape(ctx.T, len(contract))
    cmin = frame(np.minimum(ctx.series("contract_min_mw", contract), most), contract)
    m.KC = pyo.Set(initialize=list(contract), ordered=True)
    m.export_shortfall = pyo.Var(m.T, m.KC, bounds=lambda m, t, k: (0, cmin[t, k]))
    m.export_contract = pyo.Constraint(
        m.T, m.KC, rule=lambda m, t, k: m.link_fwd[t, k] + m.export_shortfall[t, k] >= cmin[t, k])
    for k in contract:
        for t in range(ctx.T):
            tw.cost.append(w[t] * pen["export_shortfall_cny_per_mwh"] * m.export_shortfall[t, k])


def add_interfaces(tw: Twin, ctx: Context) -> None:
    """The weighted sum of member flows (as sent from bus0) within the interface's two limits (MW). Each
    extendable member raises both limits by the rating its added capacity gives in that sense: s_max_pu per
    MW for an AC circuit; for a link p_max_pu forward and -p_min_pu * efficiency_reverse in reverse (its p0),
    swapped when its coefficient is negative. An interface with such a member has its reverse limit as a second row.

    Mirrors gridopt.formulation.transmission.add_interfaces.
    """
    m, net = tw.m, ctx.net
    links = net.active("links")
    eff_r = reverse_efficiency(links)
    ac = set(m.A)
    itf, mem = net.tables["interfaces"], net.tables["interface_members"]
    mem = mem[mem["branch"].isin(ac | set(links.index))]
    m.I = pyo.Set(initialize=list(itf.index), ordered=True)
    rating_pu = {b: (pu, pu) for comp in ("lines", "transformers")
                 for b, pu in net.active(comp)["s_max_pu"].items() if b in tw.capacity[comp]}
    # a link adds its forward rating one way, and in reverse what reaches bus0: efficiency_reverse x rating
    rating_pu.update({k: (links.at[k, "p_max_pu"], -links.at[k, "p_min_pu"] * eff_r[k]) for k in tw.capacity["links"]})
    existing = {b: r["s_nom"] for comp in ("lines", "transformers") for b, r in net.active(comp).iterrows()}
    existing.update(links["p_nom"].to_dict())
    cap = {b: v for c in ("lines", "transformers", "links") for b, v in tw.capacity[c].items()}

    def p0(t, branch):
        return m.ac_flow[t, branch] if branch in ac else m.link_fwd[t, branch] - eff_r[branch] * m.link_rev[t, branch]

    def flow(t, i):
        members = mem[mem["interface"] == i]
        return sum(c * p0(t, b) for b, c in zip(members["branch"], members["coefficient"]))

    def added(i, sense):  # MW the extended members add to the forward (0) or reverse (1) limit
        members = mem[(mem["interface"] == i) & mem["branch"].isin(list(cap))]
        return sum(rating_pu[b][sense if c > 0 else 1 - sense] * (cap[b] - existing[b])
                   for b, c in zip(members["branch"], members["coefficient"]))
    grown = [i for i in itf.index if mem.loc[mem["interface"] == i, "branch"].isin(list(cap)).any()]

    def interface_rule(m, t, i):
        if i in grown:
            return flow(t, i) - added(i, 0) <= itf.at[i, "limit_mw"]
        return (-itf.at[i, "limit_reverse_mw"], flow(t, i), itf.at[i, "limit_mw"])
    m.interface = pyo.Constraint(m.T, m.I, rule=interface_rule)
    m.I_grown = pyo.Set(initialize=grown, ordered=True)
    m.interface_reverse = pyo.Constraint(
        m.T, m.I_grown, rule=lambda m, t, i: flow(t, i) + added(i, 1) >= -itf.at[i, "limit_reverse_mw"])
