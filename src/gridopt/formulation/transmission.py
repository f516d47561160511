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
from .capacity import add_capacity, add_ratings, limit_price
from .context import Context, Solved, long_table

AC_COMPONENTS = ("lines", "transformers")  # in the order `ac_branches` stacks them


@dataclass
class Branches:
    """Active AC lines and transformers (`ac_branches`), with their rating, the capacity of each."""

    table: pd.DataFrame
    s_max_mw: np.ndarray

    def ratings(self, ctx: Context, sv: Solved) -> np.ndarray:
        """(branches,) rating s_max_pu * s_nom at the optimum (extended circuits at their new capacity)."""
        out = []
        for comp in AC_COMPONENTS:
            out.append(ctx.capacity[comp].optimal(sv) * ctx.net.active(comp)["s_max_pu"].to_numpy())
        return np.concatenate(out) if out else self.s_max_mw


@dataclass
class Links:
    """Active links, their ratings each way and efficiencies, and export contracts where given."""

    table: pd.DataFrame
    p_nom_mw: np.ndarray  # capacity: both directions' limits scale with it
    efficiency: np.ndarray
    efficiency_reverse: np.ndarray
    p_max_pu: np.ndarray  # (hours, links) forward availability: the link_p_max_pu series, else p_max_pu
    contract_min_mw: pd.DataFrame | None = None  # (hours, links with a contract)

    @property
    def forward_max_mw(self) -> np.ndarray:
        return self.p_nom_mw * self.p_max_pu

    @property
    def reverse_max_mw(self) -> np.ndarray:
        return -self.p_nom_mw * self.table["p_min_pu"].to_numpy()

    def limits(self, ctx: Context, sv: Solved) -> tuple[np.ndarray, np.ndarray]:
        """Forward and reverse limits (MW) at the optimum (extended links at their new capacity)."""
        p_nom = ctx.capacity["links"].optimal(sv)
        return p_nom * self.p_max_pu, np.broadcast_to(-p_nom * self.table["p_min_pu"].to_numpy(), self.p_max_pu.shape)


@dataclass
class Interfaces:
    table: pd.DataFrame
    growth: pd.DataFrame  # extended members (`interface_growth`)

    def limits(self, ctx: Context, sv: Solved) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Forward and reverse limits (MW) at the optimum, raised by what extended members add, and the
        capacity terms (MW) the forward rows hold beside the flows."""
        hi = self.table["limit_mw"].to_numpy(dtype=float).copy()
        lo = self.table["limit_reverse_mw"].to_numpy(dtype=float).copy()
        held = np.zeros(len(hi))
        for comp in self.growth["component"].unique():
            g = self.growth[self.growth["component"] == comp]
            cap = ctx.capacity[comp].optimal(sv)[g["pos"].to_numpy()]
            added = cap - g["existing"].to_numpy()
            np.add.at(hi, g["ipos"].to_numpy(), g["fwd_pu"].to_numpy() * added)
            np.add.at(lo, g["ipos"].to_numpy(), g["rev_pu"].to_numpy() * added)
            np.add.at(held, g["ipos"].to_numpy(), -g["fwd_pu"].to_numpy() * cap)
        return hi, lo, held


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
    caps = [add_capacity(ctx, c, ctx.net.active(c)) for c in AC_COMPONENTS]
    ext = np.concatenate([e.extendable for e in caps])
    f = lp.add_variables("ac_flow", br.index, np.where(ext, -np.inf, -s_max), np.where(ext, np.inf, s_max))
    first = 0
    for comp, e in zip(AC_COMPONENTS, caps):  # |f| <= s_max_pu * s_nom of an extendable circuit, as rows
        cols = f.idx[:, first:first + len(e.names)]
        pu = ctx.net.active(comp)["s_max_pu"].to_numpy()
        add_ratings(ctx, f"{comp}_rating_max", e, cols, pu)
        add_ratings(ctx, f"{comp}_rating_min", e, cols, -pu, upper=False)
        first += len(e.names)
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
    lk = ctx.links = Links(links, links["p_nom"].to_numpy(), eff, eff_r, ctx.series("link_p_max_pu", links.index))
    cap = add_capacity(ctx, "links", links)
    mc = links["marginal_cost"].to_numpy()
    fwd = lp.add_variables("link_fwd", links.index, 0.0, cap.free(lk.forward_max_mw, np.inf), w * mc,
                           label="transmission_cny", kind=COST)
    rev = lp.add_variables("link_rev", links.index, 0.0, cap.free(lk.reverse_max_mw, np.inf), w * mc,
                           label="transmission_cny", kind=COST)
    add_ratings(ctx, "link_rating_fwd", cap, fwd.idx, lk.p_max_pu)
    add_ratings(ctx, "link_rating_rev", cap, rev.idx, -links["p_min_pu"].to_numpy())
    ctx.inject(fwd, -1.0, links["bus0"])
    ctx.inject(fwd, eff, links["bus1"])
    ctx.inject(rev, eff_r, links["bus0"])
    ctx.inject(rev, -1.0, links["bus1"])
    has = ctx.has_series("contract_min_mw", links.index)
    if not has.any():
        lp.declare_cost("export_shortfall_cny", PENALTY)
    else:
        li = links.index[has]
        # a contract above what the link can carry binds at its limit (an extendable link's largest)
        pmax = lk.p_max_pu
        grow = cap.extendable & (pmax > 0)
        most = np.where(grow, pmax * np.where(grow, links["p_nom_max"].to_numpy(), 0.0), lk.forward_max_mw)
        cmin = np.minimum(ctx.series("contract_min_mw", li), most[:, has])
        lk.contract_min_mw = pd.DataFrame(cmin, columns=li)
        short = lp.add_variables("export_shortfall", li, 0.0, cmin, w * ctx.penalty("export_shortfall_cny_per_mwh"),
                                 label="export_shortfall_cny", kind=PENALTY)
        lp.add_constraint("export_contract", li, [(fwd.idx[:, has], 1.0), (short, 1.0)], lower=cmin)


def add_interfaces(ctx: Context) -> None:
    """Interface rows; an interface with an extended member is written as two one-sided rows, its limits
    raised by the rating each extended member adds (see `interface_growth`)."""
    lp = ctx.lp
    itf = ctx.net.tables["interfaces"]
    mem = ctx.net.tables["interface_members"]
    active = set(ctx.branches.table.index) | set(ctx.links.table.index)
    mem = mem[mem["branch"].isin(active) & mem["interface"].isin(itf.index)]
    grow = interface_growth(ctx, mem, itf.index)
    ctx.interfaces = Interfaces(itf, grow)
    if len(itf) == 0:
        return
    hi = itf["limit_mw"].to_numpy(dtype=float).copy()
    lo = -itf["limit_reverse_mw"].to_numpy(dtype=float)
    grown = np.unique(grow["ipos"].to_numpy())
    np.subtract.at(hi, grow["ipos"].to_numpy(), (grow["fwd_pu"] * grow["existing"]).to_numpy())
    lo[grown] = -np.inf
    rb = lp.add_rows("interface", itf.index, lo, hi)
    _member_flows(ctx, rb, mem, itf.index.get_indexer(mem["interface"]))
    _member_capacity(ctx, rb, grow, grow["ipos"].to_numpy(), -grow["fwd_pu"].to_numpy())
    if len(grown):
        lo_r = -itf["limit_reverse_mw"].to_numpy(dtype=float)[grown]
        where = pd.Index(grown).get_indexer(grow["ipos"])
        np.add.at(lo_r, where, (grow["rev_pu"] * grow["existing"]).to_numpy())
        rr = lp.add_rows("interface_reverse", itf.index[grown], lo_r, np.inf)
        sub = mem[mem["interface"].isin(itf.index[grown])]
        _member_flows(ctx, rr, sub, itf.index[grown].get_indexer(sub["interface"]))
        _member_capacity(ctx, rr, grow, where, grow["rev_pu"].to_numpy())


def interface_growth(ctx: Context, mem: pd.DataFrame, interfaces: pd.Index) -> pd.DataFrame:
    """Extended members of interfaces: each raises its interface's forward limit by fwd_pu * (cap - existing)
    and the reverse limit by rev_pu * (cap - existing), the rating it adds in that sense (s_max_pu for an AC
    circuit; for a link p_max_pu forward, -p_min_pu * efficiency_reverse in reverse, by its orientation)."""
    rows = []
    for comp in (*AC_COMPONENTS, "links"):
        e = ctx.capacity[comp]
        t = ctx.net.active(comp)
        m = mem[mem["branch"].isin(e.names[e.extendable])]
        if not len(m):
            continue
        pos = e.names.get_indexer(m["branch"])
        c = m["coefficient"].to_numpy()
        if comp == "links":  # in reverse a link's p0 is what reaches bus0: efficiency_reverse x its rating
            up = t["p_max_pu"].to_numpy()[pos]
            down = -t["p_min_pu"].to_numpy()[pos] * ctx.links.efficiency_reverse[ctx.links.table.index.get_indexer(m["branch"])]
            fwd, rev = np.where(c > 0, up, down), np.where(c > 0, down, up)
        else:
            fwd = rev = t["s_max_pu"].to_numpy()[pos]
        rows.append(pd.DataFrame({"ipos": interfaces.get_indexer(m["interface"]), "component": comp, "pos": pos,
                                  "fwd_pu": fwd, "rev_pu": rev, "existing": e.existing[pos]}))
    cols = ["ipos", "component", "pos", "fwd_pu", "rev_pu", "existing"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols).astype({"ipos": int, "pos": int})


def _member_flows(ctx: Context, rb, mem: pd.DataFrame, ipos: np.ndarray) -> None:
    """Each member's p0 (coefficient-signed) in the rows of block `rb`, member k in row ipos[k]."""
    lp, T = ctx.lp, ctx.T
    ac, links = ctx.branches.table, ctx.links.table
    f, fwd, rev = lp.variables["ac_flow"], lp.variables["link_fwd"], lp.variables["link_rev"]
    coef = mem["coefficient"].to_numpy()
    is_ac = mem["branch"].isin(ac.index).to_numpy()
    rows = rb.start + np.arange(T)[:, None] * rb.n + ipos[None, :]
    acpos = ac.index.get_indexer(mem["branch"][is_ac])
    lp.add_coeffs(rows[:, is_ac], f.idx[:, acpos], coef[is_ac][None, :])
    lpos = links.index.get_indexer(mem["branch"][~is_ac])
    lp.add_coeffs(rows[:, ~is_ac], fwd.idx[:, lpos], coef[~is_ac][None, :])
    lp.add_coeffs(rows[:, ~is_ac], rev.idx[:, lpos], (-coef[~is_ac] * ctx.links.efficiency_reverse[lpos])[None, :])


def _member_capacity(ctx: Context, rb, grow: pd.DataFrame, ipos: np.ndarray, coef: np.ndarray) -> None:
    """Extended members' capacities in the rows of block `rb` (member k in row ipos[k]) with `coef` per MW."""
    T = ctx.T
    for comp in grow["component"].unique():
        k = (grow["component"] == comp).to_numpy()
        e = ctx.capacity[comp]
        rows = rb.start + np.arange(T)[:, None] * rb.n + ipos[k][None, :]
        ctx.lp.add_coeffs(rows, e.cap_idx(T, grow["pos"].to_numpy()[k]), coef[k][None, :])


def extract_flows(ctx: Context, sv: Solved) -> pd.DataFrame:
    """Per branch and hour: flow at each end (p0 withdrawn at bus0, p1 at bus1), limits, and the shadow
    prices of the limits (CNY per MW and hour); links also give each direction and their contracts."""
    T, w = ctx.T, ctx.weights[:, None]
    ac = ctx.branches.table
    f = sv.value("ac_flow")
    rating_rows = tuple(f"{c}_rating_{s}" for c in AC_COMPONENTS for s in ("max", "min"))
    fd = limit_price(sv, "ac_flow", rating_rows) / w if len(ac) else np.zeros((T, 0))
    s_max = ctx.branches.ratings(ctx, sv)
    flows_ac = long_table(ctx.snapshots, ac.index, "branch", kind=ac["kind"].to_numpy(), bus0=ac["bus0"].to_numpy(),
                          bus1=ac["bus1"].to_numpy(), p0_mw=f, p1_mw=-f, limit_mw=s_max, limit_reverse_mw=s_max,
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
    dfw = limit_price(sv, "link_fwd", ("link_rating_fwd",)) / w if len(links) else np.zeros((T, 0))
    drv = limit_price(sv, "link_rev", ("link_rating_rev",)) / w if len(links) else np.zeros((T, 0))
    fmax, rmax = lk.limits(ctx, sv)
    flows_dc = long_table(ctx.snapshots, links.index, "branch",
                          kind=np.where(links["carrier"].str.upper() == "B2B", "b2b", "dc"),
                          bus0=links["bus0"].to_numpy(), bus1=links["bus1"].to_numpy(),
                          p0_mw=fwd - lk.efficiency_reverse * rev, p1_mw=-lk.efficiency * fwd + rev,
                          limit_mw=fmax, limit_reverse_mw=rmax,
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
    if "interface_reverse" in sv.lp.rows:  # interfaces with extended members: the reverse limit is its own row
        rr = sv.lp.rows["interface_reverse"]
        mu[:, itf.index.get_indexer(rr.elements)] += sv.row_price("interface_reverse") / ctx.weights[:, None]
    hi, lo, held = ctx.interfaces.limits(ctx, sv)
    return long_table(ctx.snapshots, itf.index, "interface", flow_mw=act - held, limit_mw=hi, limit_reverse_mw=lo,
                      mu_upper_cny_per_mw=np.maximum(-mu, 0.0), mu_lower_cny_per_mw=np.maximum(mu, 0.0))
