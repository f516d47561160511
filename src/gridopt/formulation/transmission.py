"""AC lines and transformers (lossless DC power flow), HVDC/controllable links, and interfaces.

AC branches (lines and transformers), flow f[t,b] in MW from bus0 to bus1:
    -s_nom * s_max_pu <= f[t,b] <= s_nom * s_max_pu        (bounds; their duals are the branch shadow prices)
Per-unit reactance on a 1 MVA base: lines x / v_nom^2 (x in ohm, v_nom in kV of bus0), transformers
x / s_nom * tap_ratio (x in pu of the transformer's own rating), as PyPSA does.
Kirchhoff's voltage law, 'cycles' (default): for every cycle c of a cycle basis of the AC multigraph
(parallel circuits included), sum_b C[c,b] * x_b * f[t,b] = 0 with C = +-1 by orientation.
'angles': f[t,b] * x_b = theta[t,bus0] - theta[t,bus1], theta = 0 at one bus per AC island.

Links, forward flow q+ (bus0 -> bus1, MW at bus0) and reverse flow q- (bus1 -> bus0, MW at bus1):
    0 <= q+ <= p_nom * p_max_pu,  0 <= q- <= -p_min_pu * p_nom
    bus0 receives -q+ + efficiency_reverse * q-,  bus1 receives efficiency * q+ - q-
so no energy is created in either direction. Export contracts: q+ + shortfall >= contract_min_mw
(shortfall priced at the export-shortfall penalty).

Interfaces (flowgates): -limit_reverse_mw <= sum_b coefficient_b * p0[t,b] <= limit_mw, where p0 is
the power the branch withdraws from its bus0 (f for AC, q+ - efficiency_reverse * q- for links).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from ..lp import COST, PENALTY
from .context import Context, Solved, long_table


@dataclass
class Branches:
    """Active AC lines and transformers (`ac_branches`), with their rating, the capacity of each."""

    table: pd.DataFrame
    s_max_mw: np.ndarray


@dataclass
class Links:
    """Active links, their ratings each way and efficiencies, and export contracts where given."""

    table: pd.DataFrame
    p_nom_mw: np.ndarray  # capacity: both directions' limits scale with it
    efficiency: np.ndarray
    efficiency_reverse: np.ndarray
    contract_min_mw: pd.DataFrame | None = None  # (hours, links with a contract)

    @property
    def forward_max_mw(self) -> np.ndarray:
        return self.p_nom_mw * self.table["p_max_pu"].to_numpy()

    @property
    def reverse_max_mw(self) -> np.ndarray:
        return -self.p_nom_mw * self.table["p_min_pu"].to_numpy()


@dataclass
class Interfaces:
    table: pd.DataFrame


def ac_branches(ctx: Context) -> pd.DataFrame:
    """Active lines and transformers in one frame: bus0, bus1, kind, s_max (MW), x_pu (1 MVA base)."""
    net = ctx.net
    lines = net.active("lines")
    tr = net.active("transformers")
    vnom = net.tables["buses"]["v_nom"]
    a = pd.DataFrame({"bus0": lines["bus0"], "bus1": lines["bus1"], "kind": "ac",
                      "s_max": lines["s_nom"] * lines["s_max_pu"],
                      "x_pu": lines["x"] / vnom.reindex(lines["bus0"]).to_numpy() ** 2})
    b = pd.DataFrame({"bus0": tr["bus0"], "bus1": tr["bus1"], "kind": "transformer",
                      "s_max": tr["s_nom"] * tr["s_max_pu"],
                      "x_pu": tr["x"] / tr["s_nom"] * tr["tap_ratio"]})
    out = pd.concat([a, b]) if len(b) else a
    out.index.name = "name"
    return out


def cycle_matrix(branches: pd.DataFrame) -> np.ndarray:
    """Fundamental cycles of the AC multigraph as a (cycles, branches) matrix of -1/0/+1.

    A spanning forest is grown over the buses; every branch outside it closes one cycle with the tree
    path between its ends. Parallel circuits give two-branch cycles, so their flows split by reactance.
    """
    g = nx.MultiGraph()
    for i, (b0, b1) in enumerate(zip(branches["bus0"], branches["bus1"])):
        g.add_edge(b0, b1, key=i)
    tree_edges = set()
    forest = nx.Graph()
    forest.add_nodes_from(g.nodes)
    for u, v, k in nx.minimum_spanning_edges(g, algorithm="kruskal", keys=True, data=False):
        tree_edges.add(k)
        forest.add_edge(u, v, key=k)
    bus0 = branches["bus0"].to_numpy()
    rows = []
    for i in range(len(branches)):
        if i in tree_edges:
            continue
        c = np.zeros(len(branches))
        c[i] = 1.0  # traverse branch i from bus0 to bus1, then return through the tree from bus1 to bus0
        path = nx.shortest_path(forest, branches["bus1"].iloc[i], bus0[i])
        for u, v in itertools.pairwise(path):
            k = forest.edges[u, v]["key"]
            c[k] += 1.0 if bus0[k] == u else -1.0
        rows.append(c)
    return np.array(rows).reshape(len(rows), len(branches))


def add_ac_branches(ctx: Context) -> None:
    lp, T = ctx.lp, ctx.T
    br = ac_branches(ctx)
    s_max = br["s_max"].to_numpy()
    ctx.branches = Branches(br, s_max)
    f = lp.add_variables("ac_flow", br.index, -s_max, s_max)
    ctx.inject(f, -1.0, br["bus0"])
    ctx.inject(f, 1.0, br["bus1"])
    if len(br) == 0:
        return
    x = br["x_pu"].to_numpy()
    if ctx.options.kvl == "cycles":
        C = cycle_matrix(br)
        if len(C):
            A = C * x[None, :]
            A /= np.abs(A).max(axis=1, keepdims=True)  # scale every cycle row to unit max coefficient
            rb = lp.add_rows("kvl", pd.RangeIndex(len(C)), 0.0, 0.0)
            ci, bi = np.nonzero(A)
            tt = np.arange(T)[:, None]
            lp.add_coeffs(rb.start + tt * len(C) + ci[None, :], f.idx[:, bi], A[ci, bi][None, :])
    else:
        x_ref = float(np.median(x))
        g = nx.Graph()
        g.add_nodes_from(ctx.buses)
        g.add_edges_from(zip(br["bus0"], br["bus1"]))
        refs = [min(comp, key=lambda b: ctx.buses.get_loc(b)) for comp in nx.connected_components(g)]
        lo = np.full(len(ctx.buses), -np.inf)
        lo[ctx.bus_pos(refs)] = 0.0
        hi = -lo
        theta = lp.add_variables("theta", ctx.buses, lo, hi)  # voltage angle in units of x_ref radians
        rb = lp.add_constraint("kvl_angle", br.index, [(f, x / x_ref)], 0.0, 0.0)
        b0, b1 = ctx.bus_pos(br["bus0"]), ctx.bus_pos(br["bus1"])
        lp.add_coeffs(rb.idx, theta.idx[:, b0], -1.0)
        lp.add_coeffs(rb.idx, theta.idx[:, b1], 1.0)


def add_links(ctx: Context) -> None:
    lp, w = ctx.lp, ctx.weights[:, None]
    links = ctx.net.active("links")
    eff = links["efficiency"].to_numpy()
    eff_r = links["efficiency_reverse"].fillna(links["efficiency"]).to_numpy()
    lk = ctx.links = Links(links, links["p_nom"].to_numpy(), eff, eff_r)
    mc = links["marginal_cost"].to_numpy()
    fwd = lp.add_variables("link_fwd", links.index, 0.0, lk.forward_max_mw, w * mc, label="transmission_cny", kind=COST)
    rev = lp.add_variables("link_rev", links.index, 0.0, lk.reverse_max_mw, w * mc, label="transmission_cny", kind=COST)
    ctx.inject(fwd, -1.0, links["bus0"])
    ctx.inject(fwd, eff, links["bus1"])
    ctx.inject(rev, eff_r, links["bus0"])
    ctx.inject(rev, -1.0, links["bus1"])
    has = ctx.has_series("contract_min_mw", links.index)
    if not has.any():
        lp.declare_cost("export_shortfall_cny", PENALTY)
    else:
        li = links.index[has]
        cmin = np.minimum(ctx.series("contract_min_mw", li), lk.forward_max_mw[has])
        lk.contract_min_mw = pd.DataFrame(cmin, columns=li)
        short = lp.add_variables("export_shortfall", li, 0.0, cmin, w * ctx.penalty("export_shortfall_cny_per_mwh"),
                                 label="export_shortfall_cny", kind=PENALTY)
        lp.add_constraint("export_contract", li, [(fwd.idx[:, has], 1.0), (short, 1.0)], lower=cmin)


def add_interfaces(ctx: Context) -> None:
    lp, T = ctx.lp, ctx.T
    itf = ctx.net.tables["interfaces"]
    mem = ctx.net.tables["interface_members"]
    ac = ctx.branches.table
    links = ctx.links.table
    active = set(ac.index) | set(links.index)
    mem = mem[mem["branch"].isin(active) & mem["interface"].isin(itf.index)]
    ctx.interfaces = Interfaces(itf)
    if len(itf) == 0:
        return
    rb = lp.add_rows("interface", itf.index, -itf["limit_reverse_mw"].to_numpy(), itf["limit_mw"].to_numpy())
    f, fwd, rev = lp.variables["ac_flow"], lp.variables["link_fwd"], lp.variables["link_rev"]
    tt = np.arange(T)[:, None]
    ipos = itf.index.get_indexer(mem["interface"])
    coef = mem["coefficient"].to_numpy()
    is_ac = mem["branch"].isin(ac.index).to_numpy()
    rows = rb.start + tt * len(itf) + ipos[None, :]
    acpos = ac.index.get_indexer(mem["branch"][is_ac])
    lp.add_coeffs(rows[:, is_ac], f.idx[:, acpos], coef[is_ac][None, :])
    lpos = links.index.get_indexer(mem["branch"][~is_ac])
    lp.add_coeffs(rows[:, ~is_ac], fwd.idx[:, lpos], coef[~is_ac][None, :])
    lp.add_coeffs(rows[:, ~is_ac], rev.idx[:, lpos], (-coef[~is_ac] * ctx.links.efficiency_reverse[lpos])[None, :])


def extract_flows(ctx: Context, sv: Solved) -> pd.DataFrame:
    """Per branch and hour: flow at each end (p0 withdrawn at bus0, p1 at bus1), limits, and the shadow
    prices of the limits (CNY per MW and hour); links also give each direction and their contracts."""
    T, w = ctx.T, ctx.weights[:, None]
    ac = ctx.branches.table
    f = sv.value("ac_flow")
    fd = sv.bound_price("ac_flow") / w if len(ac) else np.zeros((T, 0))
    flows_ac = long_table(ctx.snapshots, ac.index, "branch", kind=ac["kind"].to_numpy(), bus0=ac["bus0"].to_numpy(),
                          bus1=ac["bus1"].to_numpy(), p0_mw=f, p1_mw=-f, limit_mw=ctx.branches.s_max_mw,
                          limit_reverse_mw=ctx.branches.s_max_mw,
                          mu_upper_cny_per_mw=np.maximum(-fd, 0.0), mu_lower_cny_per_mw=np.maximum(fd, 0.0))
    lk = ctx.links
    links = lk.table
    fwd, rev = sv.value("link_fwd"), sv.value("link_rev")
    cmin = np.zeros((T, len(links)))
    short = np.zeros((T, len(links)))
    if sv.has("export_shortfall"):
        pos = links.index.get_indexer(sv.lp.variables["export_shortfall"].elements)
        cmin[:, pos] = lk.contract_min_mw.to_numpy()
        short[:, pos] = sv.value("export_shortfall")
    dfw = sv.bound_price("link_fwd") / w if len(links) else np.zeros((T, 0))
    drv = sv.bound_price("link_rev") / w if len(links) else np.zeros((T, 0))
    flows_dc = long_table(ctx.snapshots, links.index, "branch",
                          kind=np.where(links["carrier"].str.upper() == "B2B", "b2b", "dc"),
                          bus0=links["bus0"].to_numpy(), bus1=links["bus1"].to_numpy(),
                          p0_mw=fwd - lk.efficiency_reverse * rev, p1_mw=-lk.efficiency * fwd + rev,
                          limit_mw=lk.forward_max_mw, limit_reverse_mw=lk.reverse_max_mw,
                          mu_upper_cny_per_mw=np.maximum(-dfw, 0.0), mu_lower_cny_per_mw=np.maximum(-drv, 0.0),
                          forward_mw=fwd, reverse_mw=rev, contract_min_mw=cmin, contract_shortfall_mw=short)
    return pd.concat([flows_ac, flows_dc], ignore_index=True)


def extract_interfaces(ctx: Context, sv: Solved) -> pd.DataFrame:
    """Per interface and hour: summed flow, limits and their shadow prices (CNY per MW and hour)."""
    itf = ctx.net.tables["interfaces"]
    if "interface" not in sv.lp.rows:
        return long_table(ctx.snapshots, pd.Index([]), "interface", flow_mw=0.0, limit_mw=0.0, limit_reverse_mw=0.0,
                          mu_upper_cny_per_mw=0.0, mu_lower_cny_per_mw=0.0)
    act = sv.activity("interface")
    act = np.full((ctx.T, len(itf)), np.nan) if act is None else act
    mu = sv.row_price("interface") / ctx.weights[:, None]
    return long_table(ctx.snapshots, itf.index, "interface", flow_mw=act, limit_mw=itf["limit_mw"].to_numpy(),
                      limit_reverse_mw=itf["limit_reverse_mw"].to_numpy(),
                      mu_upper_cny_per_mw=np.maximum(-mu, 0.0), mu_lower_cny_per_mw=np.maximum(mu, 0.0))
