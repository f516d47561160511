"""Properties of the LP: physics recomputed from the result tables, duals against perturbed re-solves,
and random small networks (hypothesis) on which both KVL formulations agree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny import series

import gridopt
from gridopt.checks import power_balance_residual
from gridopt.formulation.transmission import ac_branches, cycle_matrix
from gridopt.network import Network

K = 3600 / 1e6


def recompute_objective(net: Network, r) -> float:
    """Cost + penalties recomputed from the written tables and the case's prices (CNY)."""
    s = r.summary
    wmap = pd.Series(1.0, index=net.snapshots) if "weighting" not in net.series else net.series["weighting"]["weighting"]
    g = r.generation
    gens = net.tables["generators"]
    gg = g[g["unit"].isin(gens.index)].merge(gens, left_on="unit", right_index=True, suffixes=("", "_t"))
    wt = gg["hour"].map(wmap).to_numpy()
    internal = (gg["region"] != "external").to_numpy()
    fuel = np.where(gg["gas_node"] != "", 0.0, gg["fuel_price"] * gg["heat_rate"])  # gas bought in the gas network
    unit_cost = gg["marginal_cost"] + fuel + s["carbon_price_cny_per_t"] * gg["co2_t_per_mwh"] * internal
    total = float((wt * gg["p_mw"] * unit_cost).sum())
    total += float((wt * gg["curtailed_mw"]).sum()) * net.config["penalties"]["curtailment_cny_per_mwh"]
    pr = r.prices
    pen = net.config["penalties"]
    wp = pr["hour"].map(wmap)
    total += float((wp * pr["shed_interruptible_mw"]).sum()) * pen["voll_interruptible_cny_per_mwh"]
    total += float((wp * pr["shed_firm_mw"]).sum()) * pen["voll_firm_cny_per_mwh"]
    # start-ups, markets, storage, hydro and link terms come from the summary's own breakdown; check their sum
    rest = (s["cost_cny"]["start_up_cny"] + s["cost_cny"]["imports_cny"] + s["cost_cny"]["export_revenue_cny"]
            + s["cost_cny"]["transmission_cny"] + recompute_gas_cost(net, r) + sum(v for k, v in s["penalties_cny"].items()
                                                      if k not in ("curtailment_cny", "interruptible_shed_cny",
                                                                   "firm_shed_cny", "gas_shed_cny")))
    hy = r.hydro
    res = net.tables["reservoirs"]
    total += float((hy["hour"].map(wmap) * hy["p_mw"] * hy["reservoir"].map(res["marginal_cost"])).sum())
    return total + rest


def recompute_gas_cost(net: Network, r) -> float:
    """Gas supply, transport, storage and shed costs from the gas table and the case's prices (CNY)."""
    g = r.gas
    if not len(g):
        return 0.0
    sup, pipes = net.tables["gas_supplies"], net.tables["pipelines"]
    pen = net.config["penalties"]
    one = lambda col: g.groupby("node")[col].sum()
    cost = float((one("supply_mm3_per_h").reindex(sup["node"]).to_numpy() * sup["cost_cny_per_kcm"].to_numpy()).sum()) * 1000
    if len(pipes) <= 1:  # the node table carries one tariff only when there is one pipeline
        cost += float(one("pipeline_out_mm3_per_h").sum()) * 1000 * float(pipes["cost_cny_per_kcm"].sum())
    else:
        cost += r.summary["cost_cny"]["gas_transport_cny"]
    kinds = net.tables["gas_demands"].set_index("node")["kind"]
    tier = {"residential": pen["gas_shed_residential_cny_per_kcm"], "industry": pen["gas_shed_industry_cny_per_kcm"],
            "export": pen["gas_export_shortfall_cny_per_kcm"]}
    cost += sum(float(v) * 1000 * tier[kinds[n]] for n, v in one("shed_mm3_per_h").items() if v)
    return cost


def check_gas(net: Network, r) -> None:
    g = r.gas
    if not len(g):
        return
    resid = (g["supply_mm3_per_h"] + g["pipeline_in_mm3_per_h"] - g["pipeline_out_mm3_per_h"]
             + g["storage_withdrawal_mm3_per_h"] - g["storage_injection_mm3_per_h"] - g["power_burn_mm3_per_h"]
             - g["other_demand_mm3_per_h"] + g["shed_mm3_per_h"])
    assert np.abs(resid).max() <= 1e-6 * max(1.0, g["other_demand_mm3_per_h"].abs().max())
    gen = r.generation
    gens = net.tables["generators"]
    burners = gens[gens["gas_node"] != ""]
    lhv = net.config["gas_lhv_gj_per_kcm"]
    gb = gen[gen["unit"].isin(burners.index)]
    expect = gb["p_mw"] * gb["unit"].map(burners["heat_rate"]) / lhv / 1000
    assert np.allclose(gb["gas_mm3_per_h"], expect)
    by_node = gb.assign(node=gb["unit"].map(burners["gas_node"])).groupby(["hour", "node"])["gas_mm3_per_h"].sum()
    burn = g.set_index(["hour", "node"])["power_burn_mm3_per_h"]
    assert np.allclose(by_node.reindex(burn.index, fill_value=0.0), burn, atol=1e-9)


def check_physics(net: Network, r) -> None:
    check_gas(net, r)
    t = r.tables
    scale = max(1.0, t["prices"]["load_mw"].abs().max())
    assert power_balance_residual(t).abs().max() <= 1e-6 * scale
    # line limits
    fl = t["flows"]
    assert (fl["p0_mw"].abs() <= np.maximum(fl["limit_mw"], fl["limit_reverse_mw"]) + 1e-6 * scale).all()
    # Kirchhoff's voltage law around every cycle of the AC network
    from gridopt.formulation import build_lp
    ctx = build_lp(net, start=r.summary["start"], hours=r.summary["hours"])
    br = ac_branches(ctx)
    if len(br):
        C = cycle_matrix(br)
        f = fl[fl["kind"].isin(["ac", "transformer"])].pivot(index="hour", columns="branch", values="p0_mw")[br.index]
        if len(C):
            kvl = (f.to_numpy() * br["x_pu"].to_numpy()) @ C.T
            assert np.abs(kvl).max() <= 1e-6 * max(1.0, np.abs(f.to_numpy() * br["x_pu"].to_numpy()).max()) * 10
    # storage dynamics
    su = net.active("storage_units")
    if len(su):
        stt = t["storage"]
        for name, row in su.iterrows():
            s = stt[stt["unit"] == name].sort_values("hour")
            soc = s["soc_mwh"].to_numpy()
            prev = np.r_[soc[-1] if row["cyclic_state_of_charge"] else row["state_of_charge_initial"], soc[:-1]]
            expect = (1 - row["standing_loss"]) * prev + row["efficiency_store"] * s["charge_mw"].to_numpy() \
                - s["discharge_mw"].to_numpy() / row["efficiency_dispatch"]
            assert np.allclose(soc, expect, atol=1e-6 * max(1.0, soc.max()))
    # reservoir volumes with upstream arrivals
    res = net.active("reservoirs")
    if len(res):
        hy = t["hydro"]
        piv = {c: hy.pivot(index="hour", columns="reservoir", values=c)[res.index]
               for c in ("volume_hm3", "natural_inflow_m3s", "upstream_inflow_m3s", "release_m3s", "spill_m3s")}
        vol = piv["volume_hm3"].to_numpy()
        v0 = pd.Series(r.summary["hydro_initial_volume_hm3"]).reindex(res.index).to_numpy()  # as written
        prev = np.vstack([np.asarray(v0)[None, :], vol[:-1]])
        net_in = piv["natural_inflow_m3s"] + piv["upstream_inflow_m3s"] - piv["release_m3s"] - piv["spill_m3s"]
        assert np.allclose(vol, prev + K * net_in.to_numpy(), atol=1e-6 * max(1.0, vol.max()))
        out = (piv["release_m3s"] + piv["spill_m3s"]).to_numpy()
        for i, (name, row) in enumerate(res.iterrows()):
            if row["downstream"] in res.index:
                j = res.index.get_loc(row["downstream"])
                d = int(row["delay_hours"])
                arrivals = np.zeros(len(vol))
                arrivals[d:] = out[:len(vol) - d, i]
                others = piv["upstream_inflow_m3s"].to_numpy()[:, j] - arrivals
                assert (others[d:] >= -1e-6).all()
    # emissions
    g = t["generation"]
    em = g.groupby(["hour", "region"])["co2_t"].sum()
    assert np.allclose(em.to_numpy(), t["emissions"].set_index(["hour", "region"])["co2_t"].reindex(em.index).to_numpy())
    # objective = cost + penalties, and recomputed from the tables
    s = r.summary
    assert s["objective_cny"] == pytest.approx(s["cost_total_cny"] + s["penalties_total_cny"], rel=1e-7, abs=1e-3)
    assert s["objective_cny"] == pytest.approx(recompute_objective(net, r), rel=1e-7, abs=1e-3)


def test_small_case_physics(small):
    r = gridopt.dispatch(small)
    assert not r.checks
    check_physics(small, r)


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
        costs[sign] = gridopt.dispatch(small.replace(series={**small.series, "load_firm_mw": load})).summary["objective_cny"]
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
            lines.append({"name": f"c{k}", "bus0": a, "bus1": b, "x": draw(st.floats(5, 100)), "s_nom": draw(st.floats(50, 500))})
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
    check_physics(n, r)
    a = gridopt.dispatch(n, carbon_price=carbon_price, kvl="angles")
    assert a.summary["objective_cny"] == pytest.approx(r.summary["objective_cny"], rel=1e-6, abs=1e-4)


def test_a_subnormal_load_is_zero_load():
    """Input can hold numbers like 4e-308 MW (found by the random networks above): HiGHS's interior point code
    failed on such a right-hand side ("Solve error"). The LP takes magnitudes below 1e-12 as zero."""
    from tiny import buses, net
    n = net({"buses": buses("a", "b", region=["A", "B"]),
             "lines": [{"name": "ab", "bus0": "a", "bus1": "b", "x": 5.0, "s_nom": 50.0}],
             "generators": [{"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 50, "marginal_cost": 0.0}],
             "storage_units": [{"name": "s", "bus": "a", "p_nom": 10.0, "max_hours": 1.0, "efficiency_store": 0.7,
                                "efficiency_dispatch": 0.7}]},
            {"load_firm_mw": series(3, a=0.0, b=[0.0, 0.0, 4.317456e-308])}, hours=3)
    r = gridopt.dispatch(n)
    assert r.summary["status"] == "optimal" and r.checks == []
    assert r.summary["objective_cny"] == pytest.approx(0.0, abs=1e-6)
