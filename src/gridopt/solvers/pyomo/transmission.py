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
from .record import Twin, frame


def add_ac_branches(tw: Twin, ctx: Context) -> None:
    """Flows on lines and transformers within their ratings, tied to the angle difference (MW).

    Mirrors gridopt.formulation.transmission.add_ac_branches (with kvl="angles").
    """
    m, net = tw.m, ctx.net
    buses = net.tables["buses"]
    ac = _ac_branches(net.active("lines"), net.active("transformers"), buses["v_nom"])
    m.A = pyo.Set(initialize=list(ac), ordered=True)
    m.ac_flow = pyo.Var(m.T, m.A, bounds=lambda m, t, a: (-ac[a][2], ac[a][2]))
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

    Mirrors gridopt.formulation.transmission.add_links.
    """
    m, w = tw.m, ctx.weights
    links = ctx.net.active("links")
    m.K = pyo.Set(initialize=list(links.index), ordered=True)
    eff = links["efficiency"].to_dict()
    eff_r = reverse_efficiency(links)
    m.link_fwd = pyo.Var(m.T, m.K, bounds=lambda m, t, k: (0, links.at[k, "p_nom"] * links.at[k, "p_max_pu"]))
    m.link_rev = pyo.Var(m.T, m.K, bounds=lambda m, t, k: (0, -links.at[k, "p_nom"] * links.at[k, "p_min_pu"]))
    for k, r in links.iterrows():
        for t in range(ctx.T):
            tw.injections[t, r["bus0"]].append(-m.link_fwd[t, k] + eff_r[k] * m.link_rev[t, k])
            tw.injections[t, r["bus1"]].append(eff[k] * m.link_fwd[t, k] - m.link_rev[t, k])
            tw.cost.append(w[t] * r["marginal_cost"] * (m.link_fwd[t, k] + m.link_rev[t, k]))
    _add_export_contracts(tw, ctx, links)


def _add_export_contracts(tw: Twin, ctx: Context, links: pd.DataFrame) -> None:
    """Forward flow plus a priced shortfall reaches the contract minimum (capped at the link's rating)."""
    m, w = tw.m, ctx.weights
    pen = ctx.net.config["penalties"]
    has_c = ctx.has_series("contract_min_mw", links.index)
    contract = links.index[has_c]
    cmin = frame(np.minimum(ctx.series("contract_min_mw", contract),
                            (links["p_nom"] * links["p_max_pu"]).to_numpy()[has_c]), contract)
    m.KC = pyo.Set(initialize=list(contract), ordered=True)
    m.export_shortfall = pyo.Var(m.T, m.KC, bounds=lambda m, t, k: (0, cmin[t, k]))
    m.export_contract = pyo.Constraint(
        m.T, m.KC, rule=lambda m, t, k: m.link_fwd[t, k] + m.export_shortfall[t, k] >= cmin[t, k])
    for k in contract:
        for t in range(ctx.T):
            tw.cost.append(w[t] * pen["export_shortfall_cny_per_mwh"] * m.export_shortfall[t, k])


def add_interfaces(tw: Twin, ctx: Context) -> None:
    """The weighted sum of member flows (as sent from bus0) within the interface's two limits (MW).

    Mirrors gridopt.formulation.transmission.add_interfaces.
    """
    m, net = tw.m, ctx.net
    links = net.active("links")
    eff_r = reverse_efficiency(links)
    ac = set(m.A)
    itf, mem = net.tables["interfaces"], net.tables["interface_members"]
    mem = mem[mem["branch"].isin(ac | set(links.index))]
    m.I = pyo.Set(initialize=list(itf.index), ordered=True)

    def p0(t, branch):
        return m.ac_flow[t, branch] if branch in ac else m.link_fwd[t, branch] - eff_r[branch] * m.link_rev[t, branch]

    def interface_rule(m, t, i):
        members = mem[mem["interface"] == i]
        flow = sum(c * p0(t, b) for b, c in zip(members["branch"], members["coefficient"]))
        return (-itf.at[i, "limit_reverse_mw"], flow, itf.at[i, "limit_mw"])
    m.interface = pyo.Constraint(m.T, m.I, rule=interface_rule)
