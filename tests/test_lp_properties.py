"""Properties of the LP checked from outside it: every balance and the objective recomputed from the result
tables and the case's own tables (never from the summary's breakdown or the LP's own maps), duals against
perturbed re-solves, and random small networks (hypothesis) on which both KVL formulations agree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.optimize import linprog
from tiny import series

import gridopt
from gridopt.formulation.capacity import fixed_capacities
from gridopt.network import Network
from gridopt.units import HM3_PER_M3S_HOUR, KCM_PER_MM3

EXTERNAL = "external"  # the region of buses outside every region
GAS_TIER = {"residential": "gas_shed_residential_cny_per_kcm", "industry": "gas_shed_industry_cny_per_kcm",
            "export": "gas_export_shortfall_cny_per_kcm"}  # other kinds pay the industry tier


# ---- reading the tables -------------------------------------------------------------------------------

def hours_of(r) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.sort(r.prices["hour"].unique()))


def wide(df: pd.DataFrame, key: str, value: str, hours: pd.DatetimeIndex, names=None) -> pd.DataFrame:
    """A long result table as (hour x element); elements missing from the table read 0."""
    if not len(df):
        out = pd.DataFrame(index=hours)
    else:
        out = df.pivot(index="hour", columns=key, values=value).reindex(hours)
    return out if names is None else out.reindex(columns=pd.Index(names), fill_value=0.0)


def case_series(net: Network, name: str, table: str, column: str | None, names, hours) -> pd.DataFrame:
    """The case's series `name` at `hours` (hour x element): its own column where it has one, else the static
    `column` of `table`, else 0."""
    names = pd.Index(names)
    t = net.tables.get(table)
    static = np.zeros(len(names))
    if column and t is not None:
        static = t[column].reindex(names).astype(float).to_numpy()
    out = pd.DataFrame(np.tile(static, (len(hours), 1)), index=hours, columns=names)
    df = net.series.get(name)
    if df is not None:
        cols = [c for c in names if c in df.columns]
        if cols:
            out[cols] = df.loc[hours, cols].to_numpy(dtype=float)
    return out


def weights(net: Network, hours) -> np.ndarray:
    df = net.series.get("weighting")
    if df is None:
        return np.ones(len(hours))
    return df["objective" if "objective" in df else "weighting"].reindex(hours).to_numpy(dtype=float)


def own_generators(net: Network, r) -> pd.DataFrame:
    """The generation rows of the case's generators (the table also holds reservoirs and market sales)."""
    gens = net.tables["generators"]
    g = r.generation
    mine = g["unit"].isin(gens.index).to_numpy().copy()
    mine[mine] = g["carrier"].to_numpy()[mine] == gens["carrier"].reindex(g["unit"][mine]).to_numpy()
    return g[mine]


def market_sales(net: Network, r) -> pd.DataFrame:
    mk = net.tables["markets"]
    g = r.generation
    rest = g.drop(own_generators(net, r).index)
    at_its_bus = rest["bus"].to_numpy() == mk["bus"].reindex(rest["unit"]).to_numpy()
    return rest[rest["unit"].isin(mk.index) & at_its_bus]


def cascade_mw_per_m3s(res: pd.DataFrame) -> pd.Series:
    """MW that one m3/s released at each reservoir yields there and at every station below it."""
    out = {}
    for name in res.index:
        total, cur, seen = 0.0, name, set()
        while cur in res.index and cur not in seen:
            seen.add(cur)
            total += float(res.at[cur, "production_mw_per_m3s"])
            cur = res.at[cur, "downstream"]
        out[name] = total
    return pd.Series(out, dtype=float)


def hydro_wide(r, hours, names) -> dict[str, pd.DataFrame]:
    cols = ("release_m3s", "spill_m3s", "volume_hm3", "p_mw")
    return {c: wide(r.hydro, "reservoir", c, hours, names) for c in cols}


def market_purchases(net: Network, r, hours) -> pd.DataFrame:
    """MW bought by the markets at each of their buses: the bus's reported load less the case's own load."""
    mk = net.tables["markets"]
    at = pd.Index(mk["bus"].unique())
    load = wide(r.prices, "bus", "load_mw", hours, at)
    own = case_series(net, "load_firm_mw", "buses", None, at, hours) \
        + case_series(net, "load_interruptible_mw", "buses", None, at, hours)
    return load - own


def pipeline_transport_cny(pipes: pd.DataFrame, nodes: pd.Index, sent: pd.DataFrame, received: pd.DataFrame,
                           w: np.ndarray) -> float:
    """Transport cost (CNY) of the cheapest pipeline flows that give every node the totals it reports as sent
    and received (Mm3/h, hour x node), within the capacities.

    The node totals fix every gas balance whatever the pipelines carrying them, so an optimum carries them
    at the least tariff: this is the dispatch's transport cost, found by a small LP independent of gridopt.
    Where the totals determine the flows (as many independent totals as flows), that LP has one point."""
    cols = []
    for _, p in pipes.iterrows():
        cols.append((p["node0"], p["node1"], p["efficiency"], p["capacity_mm3_per_h"], p["cost_cny_per_kcm"]))
        if p["capacity_reverse_mm3_per_h"] > 0:
            cols.append((p["node1"], p["node0"], p["efficiency"], p["capacity_reverse_mm3_per_h"],
                         p["cost_cny_per_kcm"]))
    if not cols:
        assert np.abs(sent.to_numpy()).max(initial=0.0) <= 1e-9
        assert np.abs(received.to_numpy()).max(initial=0.0) <= 1e-9
        return 0.0
    n, T = len(nodes), len(sent)
    A = np.zeros((2 * n, len(cols)))
    for j, (src, dst, eff, _, _) in enumerate(cols):
        A[nodes.get_loc(src), j] += 1.0  # sent from src
        A[n + nodes.get_loc(dst), j] += eff  # received at dst
    b = np.hstack([sent[nodes].to_numpy(), received[nodes].to_numpy()])  # hour x (2 n)
    tariff = np.array([c[4] for c in cols])
    cap = np.array([c[3] for c in cols])
    bounds = np.column_stack([np.zeros(T * len(cols)), np.tile(cap, T) * (1 + 1e-9) + 1e-12])
    lp = linprog(np.kron(w, tariff) * KCM_PER_MM3, A_eq=sparse.block_diag([A] * T, format="csr"),
                 b_eq=b.ravel(), bounds=bounds, method="highs")
    assert lp.status == 0, f"no pipeline flows give the nodes' reported totals: {lp.message}"
    return float(lp.fun)


def by_node(amount: pd.DataFrame, elements: pd.DataFrame, price: pd.Series,
            w: np.ndarray) -> tuple[float, float]:
    """Weighted amount x price summed over nodes (CNY, amount in Mm3/h, price per 1000 m3). Where a node's
    elements carry different prices the table cannot say which one served: bounded by the cheapest and the
    dearest. A node without elements must show none of the amount."""
    lo = hi = 0.0
    for node in amount.columns:
        a = amount[node].to_numpy() * KCM_PER_MM3
        prices = price[elements.index[elements["node"] == node]]
        if not len(prices):
            assert np.abs(a).max() <= 1e-6, node
            continue
        lo += float((w * a * prices.min()).sum())
        hi += float((w * a * prices.max()).sum())
    return lo, hi


# ---- the objective ------------------------------------------------------------------------------------

def recompute_objective(net: Network, r, carbon_price: float | None = None,
                        gas: bool = True) -> tuple[float, float]:
    """The objective (CNY) from the dispatch tables and the case's own tables and prices, as (low, high).

    Exact (low == high) except where a table sums elements that carry different prices: several markets at
    one bus (purchases are reported per bus), several gas supplies, storages or demand kinds at one node.
    Those terms are bounded by the cheapest and the dearest price they could carry. Pipeline flows, reported
    as node totals only, cost the least tariff that carries those totals (see pipeline_transport_cny).
    Start-ups are not reported: they are the rises of committed capacity (an optimum starts no more than it
    commits)."""
    cp = float(net.config["carbon_price"] if carbon_price is None else carbon_price)
    pen = net.config["penalties"]
    hours = hours_of(r)
    w = weights(net, hours)
    W = w[:, None]
    total = 0.0

    # generators: output x (marginal cost + fuel bought outside the gas network + carbon inside a region)
    gens = net.tables["generators"]
    gg = own_generators(net, r)
    p = wide(gg, "unit", "p_mw", hours)
    gt = gens.loc[p.columns]
    gas_network = gas and len(net.tables["gas_nodes"]) > 0
    on_gas = (gt["gas_node"].fillna("").astype(str) != "").to_numpy() & gas_network
    fuel = np.where(on_gas, 0.0, gt["fuel_price"] * gt["heat_rate"])
    inside = net.tables["buses"]["region"].reindex(gt["bus"]).to_numpy() != EXTERNAL
    price = gt["marginal_cost"].to_numpy() + fuel + cp * gt["co2_t_per_mwh"].to_numpy() * inside
    total += float((W * p.to_numpy() * price).sum())
    total += float((W * wide(gg, "unit", "curtailed_mw", hours, p.columns).to_numpy()).sum()) \
        * pen["curtailment_cny_per_mwh"]
    committable = gt["committable"].astype(bool).to_numpy()
    if committable.any():
        u = wide(gg, "unit", "committed_mw", hours, p.columns[committable]).to_numpy()
        init = gt["committed_init"].to_numpy(dtype=float)[committable]
        # no start-up is counted in the first hour unless the commitment before it is stated
        before = np.vstack([np.where(np.isnan(init), u[0], init), u[:-1]])
        starts = np.maximum(u - before, 0.0)
        total += float((W * starts * gt["start_up_cost"].to_numpy()[committable]).sum())

    # storage: discharge x its marginal cost
    su = net.tables["storage_units"]
    if len(r.storage):
        dis = wide(r.storage, "unit", "discharge_mw", hours)
        total += float((W * dis.to_numpy() * su.loc[dis.columns, "marginal_cost"].to_numpy()).sum())

    # stores: signed power x its marginal cost, level x its storage cost
    sto = net.tables["stores"]
    if len(r.stores):
        for col, cost in (("p_mw", "marginal_cost"), ("e_mwh", "marginal_cost_storage")):
            x = wide(r.stores, "store", col, hours)
            total += float((W * x.to_numpy() * sto.loc[x.columns, cost].to_numpy()).sum())

    # hydro: output cost; spill, rule-curve, ecological-flow and end-target penalties per MWh of the water's
    # energy down its cascade
    res = net.tables["reservoirs"]
    if len(r.hydro):
        names = pd.Index(r.hydro["reservoir"].unique())
        rt = res.loc[names]
        e = cascade_mw_per_m3s(res)[names].to_numpy()  # MWh per (m3/s for an hour)
        mwh_per_hm3 = e / HM3_PER_M3S_HOUR
        h = hydro_wide(r, hours, names)
        q, s, v = h["release_m3s"].to_numpy(), h["spill_m3s"].to_numpy(), h["volume_hm3"].to_numpy()
        total += float((W * h["p_mw"].to_numpy() * rt["marginal_cost"].to_numpy()).sum())
        total += float((W * s * e).sum()) * pen["spill_cny_per_mwh"]
        for name, sign in (("volume_min_rule_hm3", 1.0), ("volume_max_rule_hm3", -1.0)):
            has = names.isin(net.series[name].columns) if name in net.series else np.zeros(len(names), bool)
            if has.any():
                rule = case_series(net, name, "reservoirs", None, names[has], hours).to_numpy()
                off = np.maximum(sign * (rule - v[:, has]), 0.0)
                total += float((W * off * mwh_per_hm3[has]).sum()) * pen["rule_curve_cny_per_mwh"]
        eco = rt["eco_flow_min_m3s"].to_numpy()
        short = np.where(eco > 0, np.maximum(eco - q - s, 0.0), 0.0)
        total += float((W * short * e).sum()) * pen["eco_flow_cny_per_mwh"]
        if "volume_target_hm3" in net.series:
            has = names.isin(net.series["volume_target_hm3"].columns)
            target = case_series(net, "volume_target_hm3", "reservoirs", None, names[has], hours).iloc[-1]
            target = target.to_numpy()
            target = np.minimum(target, rt["volume_max_hm3"].to_numpy()[has])
            short = np.maximum(target - v[-1, has], 0.0)  # water missing once, at the last hour: not weighted
            total += float((short * mwh_per_hm3[has]).sum()) * pen["end_target_cny_per_mwh"]

    # links: energy sent either way x marginal cost, and the export contracts' shortfalls
    links = net.tables["links"]
    fl = r.flows[r.flows["branch"].isin(links.index) & r.flows["kind"].isin(["dc", "b2b"])]
    if len(fl):
        fwd, rev = wide(fl, "branch", "forward_mw", hours), wide(fl, "branch", "reverse_mw", hours)
        lt = links.loc[fwd.columns]
        total += float((W * (fwd + rev).to_numpy() * lt["marginal_cost"].to_numpy()).sum())
        contract = net.series.get("contract_min_mw")
        cols = [c for c in fwd.columns if contract is not None and c in contract.columns]
        if cols:
            cap = links.loc[cols, "p_nom"].to_numpy() * case_series(net, "link_p_max_pu", "links", "p_max_pu", cols,
                                                                    hours).to_numpy()
            cmin = np.minimum(case_series(net, "contract_min_mw", "links", None, cols, hours).to_numpy(), cap)
            short = np.maximum(cmin - fwd[cols].to_numpy(), 0.0)
            total += float((W * short).sum()) * pen["export_shortfall_cny_per_mwh"]

    # load shed at the two values of lost load
    pr = r.prices
    total += float((W * wide(pr, "bus", "shed_interruptible_mw", hours).to_numpy()).sum()) \
        * pen["voll_interruptible_cny_per_mwh"]
    total += float((W * wide(pr, "bus", "shed_firm_mw", hours).to_numpy()).sum()) \
        * pen["voll_firm_cny_per_mwh"]

    low = high = total
    # markets: sales at their asking price; purchases (reported per bus) earn what the market pays
    mk = net.tables["markets"]
    if len(mk):
        sold = wide(market_sales(net, r), "unit", "p_mw", hours, mk.index)
        ask = case_series(net, "sell_price", "markets", "sell_price", mk.index, hours)
        low += float((W * (sold * ask).to_numpy()).sum())
        high += float((W * (sold * ask).to_numpy()).sum())
        bought = market_purchases(net, r, hours)
        pays = case_series(net, "buy_price", "markets", "buy_price", mk.index, hours)
        for bus in bought.columns:
            there = pays[mk.index[mk["bus"] == bus]]
            b = bought[bus].to_numpy()
            low -= float((w * b * there.max(axis=1).to_numpy()).sum())
            high -= float((w * b * there.min(axis=1).to_numpy()).sum())

    # gas: supply, transport, storage withdrawal and shed, each x its price per 1000 m3
    gas_t = r.gas
    if gas_network and len(gas_t):
        nodes = net.tables["gas_nodes"].index
        col = lambda c: wide(gas_t, "node", c, hours, nodes)
        sup, stor, dem = net.active("gas_supplies"), net.active("gas_storages"), net.tables["gas_demands"]
        tier = dem["kind"].map(lambda k: pen[GAS_TIER.get(k, GAS_TIER["industry"])])
        for amount, elements, price in ((col("supply_mm3_per_h"), sup, sup["cost_cny_per_kcm"]),
                                        (col("storage_withdrawal_mm3_per_h"), stor, stor["cost_cny_per_kcm"]),
                                        (col("shed_mm3_per_h"), dem, tier)):
            lo, hi = by_node(amount, elements, price, w)
            low, high = low + lo, high + hi
        sent, received = col("pipeline_out_mm3_per_h"), col("pipeline_in_mm3_per_h")
        transport = pipeline_transport_cny(net.active("pipelines"), nodes, sent, received, w)
        low, high = low + transport, high + transport
    return low, high


# ---- physics ------------------------------------------------------------------------------------------

def check_power_balance(r, hours) -> None:
    """Per bus and hour: generation + discharge - charge - what branches take at both ends + shed = load."""
    buses = pd.Index(r.prices["bus"].unique())
    gen = r.generation.groupby(["hour", "bus"], as_index=False)["p_mw"].sum()
    inj = wide(gen, "bus", "p_mw", hours, buses)
    st = r.storage
    if len(st):
        net_st = st.assign(x=st["discharge_mw"] - st["charge_mw"])
        net_st = net_st.groupby(["hour", "bus"], as_index=False)["x"].sum()
        inj += wide(net_st, "bus", "x", hours, buses)
    if len(r.stores):
        inj += wide(r.stores.groupby(["hour", "bus"], as_index=False)["p_mw"].sum(), "bus", "p_mw", hours, buses)
    fl = r.flows
    for end, col in (("bus0", "p0_mw"), ("bus1", "p1_mw")):
        taken = fl.groupby(["hour", end], as_index=False)[col].sum().rename(columns={end: "bus"})
        inj -= wide(taken, "bus", col, hours, buses)
    inj += wide(r.prices, "bus", "shed_mw", hours, buses)
    load = wide(r.prices, "bus", "load_mw", hours, buses)
    scale = max(1.0, float(load.abs().max().max()))
    assert (inj - load).abs().max().max() <= 1e-6 * scale


def check_generation(net: Network, r, hours) -> None:
    """Availability from the case (p_nom x p_max_pu), output within it, curtailment what is left of it (or
    nothing), and CO2 = output x emission factor, summed per region in the emissions table."""
    gens = net.tables["generators"]
    gg = own_generators(net, r)
    p = wide(gg, "unit", "p_mw", hours)
    avail = case_series(net, "p_max_pu", "generators", "p_max_pu", p.columns, hours) \
        * gens.loc[p.columns, "p_nom"].to_numpy()
    assert np.allclose(wide(gg, "unit", "available_mw", hours, p.columns), avail, rtol=1e-9, atol=1e-9)
    scale = max(1.0, float(avail.abs().max().max()))
    assert (p.to_numpy() <= avail.to_numpy() + 1e-6 * scale).all() and (p.to_numpy() >= -1e-6 * scale).all()
    curt = wide(gg, "unit", "curtailed_mw", hours, p.columns).to_numpy()
    tol = 1e-6 * scale
    assert ((np.abs(curt) <= tol) | (np.abs(curt - (avail - p).to_numpy()) <= tol)).all()
    g = r.generation
    sold = g.index.isin(market_sales(net, r).index)
    kind = np.where(g.index.isin(gg.index), "generator", np.where(sold, "market", "reservoir"))
    per_mwh = np.where(kind == "reservoir", 0.0, np.where(
        kind == "generator", gens["co2_t_per_mwh"].reindex(g["unit"]).to_numpy(),
        net.tables["markets"]["co2_t_per_mwh"].reindex(g["unit"]).to_numpy()))
    assert np.allclose(g["co2_t"], g["p_mw"] * per_mwh, rtol=1e-9, atol=1e-9)
    region = net.tables["buses"]["region"].reindex(g["bus"]).to_numpy()
    em = g.assign(region=region).groupby(["hour", "region"])["co2_t"].sum()
    told = r.emissions.set_index(["hour", "region"])["co2_t"]
    assert np.allclose(told.reindex(em.index).to_numpy(), em.to_numpy())


def check_flows(net: Network, r, hours) -> None:
    """AC limits and Kirchhoff's voltage law (x_pu * flow must be an angle difference, per hour: solved for
    the angles by least squares, the residual must vanish); link ends from their efficiencies."""
    fl = r.flows
    scale = max(1.0, float(r.prices["load_mw"].abs().max()))
    ac = fl[fl["kind"].isin(["ac", "transformer"])]
    assert (ac["p0_mw"].abs() <= ac["limit_mw"] + 1e-6 * scale).all()
    assert np.allclose(ac["p1_mw"], -ac["p0_mw"])
    lines, tr, vnom = net.tables["lines"], net.tables["transformers"], net.tables["buses"]["v_nom"]
    f = wide(ac, "branch", "p0_mw", hours)
    if f.shape[1]:
        x = pd.concat([lines["x"] / vnom.reindex(lines["bus0"]).to_numpy() ** 2,
                       tr["x"] / tr["s_nom"] * tr["tap_ratio"]])[f.columns].to_numpy()
        ends = pd.concat([lines[["bus0", "bus1"]], tr[["bus0", "bus1"]]]).loc[f.columns]
        buses = pd.Index(pd.unique(ends.to_numpy().ravel()))
        B = np.zeros((len(f.columns), len(buses)))
        B[np.arange(len(f.columns)), buses.get_indexer(ends["bus0"])] = 1.0
        B[np.arange(len(f.columns)), buses.get_indexer(ends["bus1"])] = -1.0
        drop = (f.to_numpy() * x).T  # branches x hours
        theta = np.linalg.lstsq(B, drop, rcond=None)[0]
        assert np.abs(B @ theta - drop).max() <= 1e-7 * max(1e-12, np.abs(drop).max())
    links = net.tables["links"]
    dc = fl[fl["branch"].isin(links.index) & fl["kind"].isin(["dc", "b2b"])]
    if len(dc):
        lk = links.loc[dc["branch"]]
        eff = lk["efficiency"].to_numpy()
        eff_r = lk["efficiency_reverse"].fillna(lk["efficiency"]).to_numpy()
        fwd, rev = dc["forward_mw"].to_numpy(), dc["reverse_mw"].to_numpy()
        tol = 1e-6 * scale
        pu = case_series(net, "link_p_max_pu", "links", "p_max_pu", links.index, hours).to_numpy()
        pu = pu[pd.Index(hours).get_indexer(dc["hour"]), links.index.get_indexer(dc["branch"])]
        assert (fwd >= -tol).all() and (fwd <= lk["p_nom"].to_numpy() * pu + tol).all()
        assert (rev >= -tol).all() and (rev <= (-lk["p_nom"] * lk["p_min_pu"]).to_numpy() + tol).all()
        assert np.allclose(dc["p0_mw"], fwd - eff_r * rev) and np.allclose(dc["p1_mw"], -eff * fwd + rev)


def check_storage(net: Network, r, hours) -> None:
    su = net.active("storage_units")
    st = r.storage
    for name, row in su.iterrows():
        s = st[st["unit"] == name].set_index("hour").reindex(hours)
        soc = s["soc_mwh"].to_numpy()
        prev = np.r_[soc[-1] if row["cyclic_state_of_charge"] else row["state_of_charge_initial"], soc[:-1]]
        expect = (1 - row["standing_loss"]) * prev + row["efficiency_store"] * s["charge_mw"].to_numpy() \
            - s["discharge_mw"].to_numpy() / row["efficiency_dispatch"]
        assert np.allclose(soc, expect, atol=1e-6 * max(1.0, soc.max()))
        assert soc.min() >= -1e-6 and soc.max() <= row["max_hours"] * row["p_nom"] * (1 + 1e-9) + 1e-6


def check_stores(net: Network, r, hours) -> None:
    """Each store's level from the last: kept (1 - standing_loss)^dt and less dt x the power it gave, from the
    level before the first snapshot (e_initial, or the last level when cyclic); within its pu limits."""
    sto = net.active("stores")
    dt = net.durations(net.snapshots.get_indexer(hours))
    for name, row in sto.iterrows():
        s = r.stores[r.stores["store"] == name].set_index("hour").reindex(hours)
        e, p = s["e_mwh"].to_numpy(), s["p_mw"].to_numpy()
        prev = np.r_[e[-1] if row["e_cyclic"] else row["e_initial"], e[:-1]]
        expect = (1 - row["standing_loss"]) ** dt * prev - dt * p
        tol = 1e-6 * max(1.0, np.abs(e).max())
        assert np.allclose(e, expect, atol=tol)
        lo = case_series(net, "e_min_pu", "stores", "e_min_pu", [name], hours)[name].to_numpy() * row["e_nom"]
        hi = case_series(net, "e_max_pu", "stores", "e_max_pu", [name], hours)[name].to_numpy() * row["e_nom"]
        assert (e >= lo - tol).all() and (e <= hi + tol).all()


def upstream_arrivals(net: Network, hydro: pd.DataFrame, hours) -> pd.DataFrame:
    """Water reaching each reservoir from the reservoirs directly above it (m3/s, hour x reservoir): their
    reported release + spill `delay_hours` earlier; before the horizon their stated release_before_m3s, else
    the steady state (the natural inflow of that reservoir and of all above it, at the first hour)."""
    res = net.tables["reservoirs"].loc[pd.Index(hydro["reservoir"].unique())]
    out = wide(hydro, "reservoir", "release_m3s", hours, res.index) \
        + wide(hydro, "reservoir", "spill_m3s", hours, res.index)
    inflow0 = case_series(net, "inflow_m3s", "reservoirs", None, res.index, hours).iloc[0]

    def above(name: str) -> list[str]:  # every reservoir whose water passes `name`, itself included
        found = []
        for other in res.index:
            cur, seen = other, set()
            while cur in res.index and cur not in seen:
                if cur == name:
                    found.append(other)
                    break
                seen.add(cur)
                cur = res.at[cur, "downstream"]
        return found

    arrivals = pd.DataFrame(0.0, index=hours, columns=res.index)
    for u, row in res.iterrows():
        if row["downstream"] not in res.index:
            continue
        d = int(row["delay_hours"])
        before = row["release_before_m3s"]
        if np.isnan(before):
            before = float(inflow0[above(u)].sum())
        came = np.r_[np.full(min(d, len(hours)), before), out[u].to_numpy()[:max(len(hours) - d, 0)]]
        arrivals[row["downstream"]] += came
    return arrivals


def check_hydro(net: Network, r, hours) -> None:
    """Every reservoir's volume balance in hm3 from the reported hydro table alone (hourly):
    V[t] = V[t-1] + HM3_PER_M3S_HOUR * (natural inflow + upstream arrivals - release - spill), with V[-1] the
    case's initial volume (or, for a later start, the target series at the start within the limits)."""
    hy = r.hydro
    if not len(hy):
        return
    hourly = (hours[1:] - hours[:-1] == pd.Timedelta("1h")).all() and (weights(net, hours) == 1.0).all()
    assert hourly and "snapshot_hours" not in net.series, "the check is written for hourly snapshots"
    res = net.tables["reservoirs"].loc[pd.Index(hy["reservoir"].unique())]
    names = res.index
    h = hydro_wide(r, hours, names)
    natural = case_series(net, "inflow_m3s", "reservoirs", None, names, hours)
    assert np.allclose(wide(hy, "reservoir", "natural_inflow_m3s", hours, names), natural)
    arrivals = upstream_arrivals(net, hy, hours)
    assert np.allclose(wide(hy, "reservoir", "upstream_inflow_m3s", hours, names), arrivals, atol=1e-6)
    v0 = res["volume_initial_hm3"].astype(float).copy()
    first = net.snapshots.get_loc(hours[0])
    plan = net.series.get("volume_target_hm3")
    if first > 0 and plan is not None:
        cols = [c for c in names if c in plan.columns]
        v0[cols] = plan.iloc[first][cols].astype(float).clip(res.loc[cols, "volume_min_hm3"],
                                                             res.loc[cols, "volume_max_hm3"])
    vol = h["volume_hm3"].to_numpy()
    prev = np.vstack([v0.to_numpy()[None, :], vol[:-1]])
    flow = natural.to_numpy() + arrivals.to_numpy() - h["release_m3s"].to_numpy() - h["spill_m3s"].to_numpy()
    assert np.allclose(vol, prev + HM3_PER_M3S_HOUR * flow, rtol=0.0, atol=1e-6 * max(1.0, np.abs(vol).max()))
    tol = 1e-6 * max(1.0, np.abs(vol).max())
    assert (vol >= res["volume_min_hm3"].to_numpy() - tol).all()
    assert (vol <= res["volume_max_hm3"].to_numpy() + tol).all()
    assert np.allclose(h["p_mw"], h["release_m3s"] * res["production_mw_per_m3s"].to_numpy())


def check_gas(net: Network, r) -> None:
    g = r.gas
    if not len(g):
        return
    resid = (g["supply_mm3_per_h"] + g["pipeline_in_mm3_per_h"] - g["pipeline_out_mm3_per_h"]
             + g["storage_withdrawal_mm3_per_h"] - g["storage_injection_mm3_per_h"]
             - g["power_burn_mm3_per_h"] - g["other_demand_mm3_per_h"] + g["shed_mm3_per_h"])
    assert np.abs(resid).max() <= 1e-6 * max(1.0, g["other_demand_mm3_per_h"].abs().max())
    gen = r.generation
    gens = net.tables["generators"]
    burners = gens[gens["gas_node"].fillna("") != ""]
    lhv = net.config["gas_lhv_gj_per_kcm"]
    gb = gen[gen["unit"].isin(burners.index)]
    expect = gb["p_mw"] * gb["unit"].map(burners["heat_rate"]) / lhv / KCM_PER_MM3
    assert np.allclose(gb["gas_mm3_per_h"], expect)
    burnt = gb.assign(node=gb["unit"].map(burners["gas_node"]))
    burnt = burnt.groupby(["hour", "node"])["gas_mm3_per_h"].sum()
    burn = g.set_index(["hour", "node"])["power_burn_mm3_per_h"]
    assert np.allclose(burnt.reindex(burn.index, fill_value=0.0), burn, atol=1e-9)


def at_optimum(net: Network, r) -> tuple[Network, float]:
    """The case with every extendable element at its reported optimal capacity, and the investment that costs."""
    return fixed_capacities(net, r.capacities)


def check_physics(net: Network, r, carbon_price: float | None = None) -> None:
    """Every balance and limit, and the objective, recomputed from the result tables and the case (with
    extendable elements at their optimal capacities, whose investment the objective adds)."""
    net, invest = at_optimum(net, r)
    hours = hours_of(r)
    check_power_balance(r, hours)
    check_generation(net, r, hours)
    check_flows(net, r, hours)
    check_storage(net, r, hours)
    check_stores(net, r, hours)
    check_hydro(net, r, hours)
    check_gas(net, r)
    mk = net.tables["markets"]
    if len(mk):
        bought = market_purchases(net, r, hours)
        most = mk.groupby("bus")["buy_max_mw"].sum()[bought.columns].to_numpy()
        assert (bought.to_numpy() >= -1e-6).all() and (bought.to_numpy() <= most + 1e-6).all()
    low, high = recompute_objective(net, r, carbon_price)
    low, high = low + invest, high + invest
    obj = r.summary["objective_cny"]
    tol = 1e-7 * max(abs(low), abs(high), abs(obj)) + 1e-3
    assert low - tol <= obj <= high + tol, (low, obj, high)


def test_small_case_physics(small):
    r = gridopt.dispatch(small)
    assert not r.checks
    check_physics(small, r)


def test_water_released_before_the_start_reaches_the_reservoir_below(small):
    """A stated release before the horizon (instead of the steady state) arrives below in the first delay
    hours: the volume balance recomputed from the hydro table holds only with it."""
    res = small.tables["reservoirs"].copy()
    res.loc["up", "release_before_m3s"] = 80.0
    n = small.replace(tables={**small.tables, "reservoirs": res})
    r = gridopt.dispatch(n)
    assert r.summary["status"] == "optimal"
    check_physics(n, r)


@pytest.mark.parametrize("bus, hour", [("a", 3), ("b", 1), ("c", 4), ("x", 2), ("c", 0)])
def test_price_lies_between_perturbed_cost_differences(small, bus, hour):
    """price * weighting in [(C0 - C(-e))/e, (C(+e) - C0)/e]; equal to both where the dual is not degenerate.

    Load also sets the region's reserve requirement (share * load), so the marginal cost of load is the
    energy price plus share * the reserve price of the bus's region.
    """
    base = gridopt.dispatch(small)
    price = base.prices.set_index(["bus", "hour"])["price_cny_per_mwh"].loc[(bus, small.snapshots[hour])]
    region = small.tables["buses"].at[bus, "region"]
    rv = base.reserves.set_index(["region", "hour"])["price_cny_per_mw"]
    if (region, small.snapshots[hour]) in rv.index:
        price += small.config["reserves"][region] * rv.loc[(region, small.snapshots[hour])]
    eps = 1e-2
    costs = {}
    for sign in (-1, 1):
        load = small.series["load_firm_mw"].copy()
        if bus not in load:
            load[bus] = 0.0
        load.iloc[hour, load.columns.get_loc(bus)] += sign * eps
        if sign < 0 and load.iloc[hour, load.columns.get_loc(bus)] < 0:
            # an external bus has no load to reduce: a market purchase lower by eps is the same thing
            continue
        moved = small.replace(series={**small.series, "load_firm_mw": load})
        costs[sign] = gridopt.dispatch(moved).summary["objective_cny"]
    c0 = base.summary["objective_cny"]
    up = (costs[1] - c0) / eps
    assert price <= up + 1e-3 * max(1, abs(up))
    if -1 in costs:
        down = (c0 - costs[-1]) / eps
        assert down - 1e-3 * max(1, abs(down)) <= price
        if abs(up - down) < 1e-6 * max(1.0, abs(up)):
            assert price == pytest.approx(up, rel=1e-6)


@st.composite
def random_networks(draw):
    nb = draw(st.integers(2, 5))
    hours = draw(st.integers(1, 4))
    names = [f"n{i}" for i in range(nb)]
    buses = [{"name": n, "region": "A" if i % 2 == 0 else "B", "v_nom": 500.0} for i, n in enumerate(names)]
    lines = [{"name": f"r{i}", "bus0": names[i], "bus1": names[(i + 1) % nb], "x": draw(st.floats(5, 100)),
              "s_nom": draw(st.floats(50, 500))} for i in range(nb if nb > 2 else 1)]
    n_chords = draw(st.integers(0, 2))
    for k in range(n_chords):
        a, b = draw(st.sampled_from(names)), draw(st.sampled_from(names))
        if a != b:
            lines.append({"name": f"c{k}", "bus0": a, "bus1": b, "x": draw(st.floats(5, 100)),
                          "s_nom": draw(st.floats(50, 500))})
    gens = []
    for i, n in enumerate(names):
        if draw(st.booleans()) or i == 0:
            committable = draw(st.booleans())  # a must-take minimum without commitment could be infeasible
            gens.append({"name": f"g{i}", "bus": n, "carrier": draw(st.sampled_from(["coal", "gas"])),
                         "p_nom": draw(st.floats(50, 800)), "marginal_cost": draw(st.floats(0, 200)),
                         "co2_t_per_mwh": draw(st.floats(0, 1)), "committable": committable,
                         "p_min_pu": draw(st.floats(0, 0.6)) if committable else 0.0,
                         "start_up_cost": draw(st.floats(0, 100))})
    su = []
    if draw(st.booleans()):
        su.append({"name": "s", "bus": draw(st.sampled_from(names)), "p_nom": draw(st.floats(10, 200)),
                   "max_hours": draw(st.floats(1, 6)), "efficiency_store": draw(st.floats(0.7, 1.0)),
                   "efficiency_dispatch": draw(st.floats(0.7, 1.0))})
    load = {n: [draw(st.floats(0, 300)) for _ in range(hours)] for n in names}
    cfg = {"name": "random", "regions": ["A", "B"], "timeseries_start": "2025-01-01 00:00", "hours": hours}
    tables = {"buses": pd.DataFrame(buses), "lines": pd.DataFrame(lines), "generators": pd.DataFrame(gens)}
    if su:
        tables["storage_units"] = pd.DataFrame(su)
    return Network.from_tables(cfg, tables, {"load_firm_mw": series(hours, **load)})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_networks(), st.floats(0, 150))
def test_random_networks_balance_and_formulations_agree(n, carbon_price):
    r = gridopt.dispatch(n, carbon_price=carbon_price)
    check_physics(n, r, carbon_price)
    a = gridopt.dispatch(n, carbon_price=carbon_price, kvl="angles")
    assert a.summary["objective_cny"] == pytest.approx(r.summary["objective_cny"], rel=1e-6, abs=1e-4)


def test_a_subnormal_load_is_zero_load():
    """Input can hold numbers like 4e-308 MW (found by the random networks above): HiGHS's interior point code
    failed on such a right-hand side ("Solve error"). The LP takes magnitudes below 1e-12 as zero."""
    from tiny import buses, net
    n = net({"buses": buses("a", "b", region=["A", "B"]),
             "lines": [{"name": "ab", "bus0": "a", "bus1": "b", "x": 5.0, "s_nom": 50.0}],
             "generators": [{"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 50,
                             "marginal_cost": 0.0}],
             "storage_units": [{"name": "s", "bus": "a", "p_nom": 10.0, "max_hours": 1.0,
                                "efficiency_store": 0.7, "efficiency_dispatch": 0.7}]},
            {"load_firm_mw": series(3, a=0.0, b=[0.0, 0.0, 4.317456e-308])}, hours=3)
    r = gridopt.dispatch(n)
    assert r.summary["status"] == "optimal" and r.checks == []
    assert r.summary["objective_cny"] == pytest.approx(0.0, abs=1e-6)
