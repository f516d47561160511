"""Tiny hand-computed networks, one per formulation family, with exact objectives."""

from __future__ import annotations

import numpy as np
import pytest
from tiny import buses, net, series, solve

import gridopt


def two_bus(line_mw=40.0, load=(80.0,), **cfg):
    h = len(load)
    return net({"buses": buses("a", "b"),
                "generators": [{"name": "cheap", "bus": "a", "carrier": "coal", "p_nom": 100, "marginal_cost": 10},
                               {"name": "dear", "bus": "b", "carrier": "gas", "p_nom": 100, "marginal_cost": 50}],
                "lines": [{"name": "l", "bus0": "a", "bus1": "b", "x": 10, "s_nom": line_mw}]},
               {"load_firm_mw": series(h, b=list(load))}, hours=h, **cfg)


def test_one_bus_two_units_merit_order():
    n = net({"buses": buses("a"),
             "generators": [{"name": "g1", "bus": "a", "carrier": "coal", "p_nom": 60, "marginal_cost": 10},
                            {"name": "g2", "bus": "a", "carrier": "gas", "p_nom": 100, "marginal_cost": 30}]},
            {"load_firm_mw": series(1, a=100.0)})
    r = solve(n)
    assert r.summary["objective_cny"] == pytest.approx(60 * 10 + 40 * 30)
    p = r.generation.set_index("unit")["p_mw"]
    assert p["g1"] == pytest.approx(60) and p["g2"] == pytest.approx(40)
    assert r.prices["price_cny_per_mwh"].iloc[0] == pytest.approx(30)


def test_congested_line_splits_prices_and_shadow_price_is_the_difference():
    r = solve(two_bus())
    pr = r.prices.set_index("bus")["price_cny_per_mwh"]
    assert pr["a"] == pytest.approx(10) and pr["b"] == pytest.approx(50)
    fl = r.flows.iloc[0]
    assert fl["p0_mw"] == pytest.approx(40) and fl["p1_mw"] == pytest.approx(-40)
    assert fl["mu_upper_cny_per_mw"] == pytest.approx(pr["b"] - pr["a"])
    assert r.summary["objective_cny"] == pytest.approx(40 * 10 + 40 * 50)


def test_uncongested_line_has_one_price_and_no_shadow_price():
    r = solve(two_bus(line_mw=200.0))
    assert set(np.round(r.prices["price_cny_per_mwh"], 6)) == {10.0}
    assert r.flows["mu_upper_cny_per_mw"].iloc[0] == pytest.approx(0)


def test_kvl_splits_flow_by_reactance_on_a_triangle_with_parallel_circuits():
    # a -> c directly (x=10) and via b (x=10 + 10); parallel second circuit a-c doubles the direct path
    lines = [{"name": "ab", "bus0": "a", "bus1": "b", "x": 10, "s_nom": 1000},
             {"name": "bc", "bus0": "b", "bus1": "c", "x": 10, "s_nom": 1000},
             {"name": "ac1", "bus0": "a", "bus1": "c", "x": 10, "s_nom": 1000},
             {"name": "ac2", "bus0": "a", "bus1": "c", "x": 10, "s_nom": 1000}]
    n = net({"buses": buses("a", "b", "c"), "lines": lines,
             "generators": [{"name": "g", "bus": "a", "carrier": "coal", "p_nom": 500, "marginal_cost": 1}]},
            {"load_firm_mw": series(1, c=100.0)})
    for kvl in ("cycles", "angles"):
        f = solve(n, kvl=kvl).flows.set_index("branch")["p0_mw"]
        # direct path reactance 5 (two circuits), indirect 20: shares 0.8 / 0.2
        assert f["ab"] == pytest.approx(20) and f["bc"] == pytest.approx(20)
        assert f["ac1"] == pytest.approx(40) and f["ac2"] == pytest.approx(40)


def test_storage_arbitrage():
    n = net({"buses": buses("a"),
             "generators": [{"name": "cheap", "bus": "a", "carrier": "coal", "p_nom": 200, "marginal_cost": 10},
                            {"name": "dear", "bus": "a", "carrier": "gas", "p_nom": 200, "marginal_cost": 50}],
             "storage_units": [{"name": "s", "bus": "a", "p_nom": 50, "max_hours": 2, "efficiency_store": 0.9,
                                "efficiency_dispatch": 0.9, "cyclic_state_of_charge": False}]},
            {"load_firm_mw": series(2, a=100.0), "p_max_pu": series(2, cheap=[1.0, 0.0])}, hours=2)
    r = solve(n)
    st = r.storage
    assert list(st["charge_mw"].round(6)) == [50.0, 0.0]
    assert st["discharge_mw"].iloc[1] == pytest.approx(50 * 0.81)
    assert st["soc_mwh"].iloc[0] == pytest.approx(45)
    assert r.summary["objective_cny"] == pytest.approx(150 * 10 + (100 - 40.5) * 50)


def test_cyclic_storage_ends_where_it_starts():
    n = net({"buses": buses("a"),
             "generators": [{"name": "g", "bus": "a", "carrier": "coal", "p_nom": 200, "marginal_cost": 10}],
             "storage_units": [{"name": "s", "bus": "a", "p_nom": 50, "max_hours": 4, "efficiency_store": 0.9,
                                "efficiency_dispatch": 0.9, "cyclic_state_of_charge": True}]},
            {"load_firm_mw": series(4, a=[50.0, 150.0, 250.0, 50.0])}, hours=4)
    r = solve(n)  # which also checks the state of charge hour by hour, the first hour from the last
    st = r.storage
    assert st["discharge_mw"].iloc[2] == pytest.approx(50)  # 250 MW load, 200 MW generator
    # back where it started: the 50 MWh out must have gone in, at 0.9 * 0.9 round trip, and no more
    assert st["charge_mw"].sum() == pytest.approx(50 / 0.81)
    assert r.summary["objective_cny"] == pytest.approx((500 + 50 / 0.81 - 50) * 10)


def test_cascade_with_travel_delay():
    # upstream water 100 (m3/s)*h worth 1 MWh each at 'up' and 2 more at 'down' if it arrives by hour 3
    k = 3600 / 1e6
    res = [{"name": "up", "bus": "a", "p_nom": 1000, "production_mw_per_m3s": 1.0, "volume_max_hm3": 10,
            "volume_initial_hm3": 100 * k, "downstream": "down", "delay_hours": 2},
           {"name": "down", "bus": "a", "p_nom": 1000, "production_mw_per_m3s": 2.0, "volume_max_hm3": 10,
            "volume_initial_hm3": 0.0}]
    n = net({"buses": buses("a"), "reservoirs": res,
             "generators": [{"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 1000, "marginal_cost": 100}]},
            {"load_firm_mw": series(4, a=300.0)}, hours=4)
    r = solve(n)  # which also recomputes both volume balances, with the arrivals two hours late
    assert r.summary["objective_cny"] == pytest.approx((4 * 300 - 300) * 100)
    # one more hm3 at 'up' in hour 0 turbines there and downstream in time: (1 + 2) MWh per (m3/s)h of coal
    wv = r.hydro.set_index(["reservoir", "hour"])["water_value_cny_per_hm3"]
    assert wv[("up", r.hydro["hour"].min())] == pytest.approx(3 * 100 / k)


def test_lossy_link_both_directions_creates_no_energy():
    n = net({"buses": buses("a", "b"),
             "links": [{"name": "dc", "bus0": "a", "bus1": "b", "p_nom": 100, "p_min_pu": -1, "efficiency": 0.9,
                        "efficiency_reverse": 0.8}],
             "generators": [{"name": "ga", "bus": "a", "carrier": "coal", "p_nom": 100, "marginal_cost": 10},
                            {"name": "gb", "bus": "b", "carrier": "coal", "p_nom": 100, "marginal_cost": 20},
                            {"name": "xa", "bus": "a", "carrier": "gas", "p_nom": 100, "marginal_cost": 100},
                            {"name": "xb", "bus": "b", "carrier": "gas", "p_nom": 100, "marginal_cost": 100}]},
            {"load_firm_mw": series(2, a=[0.0, 40.0], b=[50.0, 0.0]), "p_max_pu": series(2, ga=[1, 0], gb=[0, 1])},
            hours=2)
    r = solve(n)
    fl = r.flows
    assert fl["p0_mw"].tolist() == pytest.approx([50 / 0.9, -40.0])
    assert fl["p1_mw"].tolist() == pytest.approx([-50.0, 50.0])
    assert r.summary["objective_cny"] == pytest.approx(50 / 0.9 * 10 + 50 * 20)
    assert not r.checks


def carbon_net(**kw):
    return net({"buses": buses("a"),
                "generators": [{"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 100, "marginal_cost": 10,
                                "co2_t_per_mwh": 1.0},
                               {"name": "gas", "bus": "a", "carrier": "gas", "p_nom": 100, "marginal_cost": 40,
                                "co2_t_per_mwh": 0.4}]},
               {"load_firm_mw": series(1, a=100.0)}, **kw)


@pytest.mark.parametrize("cap", [{"carbon_caps": {"system": 70.0}}, {"carbon_caps": {"A": 70.0}},
                                 {"intensity_caps": {"A": 0.7}}])
def test_binding_carbon_cap_shadow_price_is_the_switching_cost(cap):
    r = solve(carbon_net(), **cap)
    assert r.summary["objective_cny"] == pytest.approx(50 * 10 + 50 * 40)
    (shadow,) = r.summary["carbon_shadow_price_cny_per_t"].values()
    assert shadow == pytest.approx((40 - 10) / (1.0 - 0.4))
    assert r.summary["emissions_t"]["A"] == pytest.approx(70)


def test_carbon_price_enters_the_merit_order():
    # at 60 CNY/t coal costs 70, gas 64: gas first
    r = solve(carbon_net(), carbon_price=60.0)
    p = r.generation.set_index("unit")["p_mw"]
    assert p["gas"] == pytest.approx(100)
    assert r.summary["cost_cny"]["carbon_cny"] == pytest.approx(60 * 40)


def test_min_stable_level_and_start_up_cost():
    n = net({"buses": buses("a"),
             "generators": [{"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 100, "marginal_cost": 10,
                             "committable": True, "p_min_pu": 0.5, "start_up_cost": 1000}]},
            {"load_firm_mw": series(3, a=[100.0, 30.0, 100.0])}, hours=3)
    r = solve(n)
    g = r.generation
    assert g["committed_mw"].tolist() == pytest.approx([100, 60, 100])
    assert r.summary["cost_cny"]["start_up_cny"] == pytest.approx(40 * 1000)
    assert r.summary["objective_cny"] == pytest.approx(230 * 10 + 40 * 1000)


def test_min_stable_level_keeps_a_fleet_committed():
    # dropping to 60 MW fits above 50 % of 100 MW committed: the fleet stays fully committed, no start-up
    n = net({"buses": buses("a"),
             "generators": [{"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 100, "marginal_cost": 10,
                             "committable": True, "p_min_pu": 0.5, "start_up_cost": 1000},
                            {"name": "gas", "bus": "a", "carrier": "gas", "p_nom": 100, "marginal_cost": 50}]},
            {"load_firm_mw": series(3, a=[100.0, 60.0, 100.0])}, hours=3)
    r = solve(n)
    coal = r.generation[r.generation["unit"] == "coal"]
    assert coal["committed_mw"].tolist() == pytest.approx([100, 100, 100])
    assert r.summary["objective_cny"] == pytest.approx(260 * 10)


def test_ramp_limit():
    n = net({"buses": buses("a"),
             "generators": [{"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 100, "marginal_cost": 10,
                             "ramp_limit_up": 0.2},
                            {"name": "gas", "bus": "a", "carrier": "gas", "p_nom": 100, "marginal_cost": 50}]},
            {"load_firm_mw": series(3, a=[20.0, 100.0, 100.0])}, hours=3)
    p = solve(n).generation.pivot(index="hour", columns="unit", values="p_mw")
    assert p["coal"].tolist() == pytest.approx([20, 40, 60])


def test_load_shed_tiers_and_prices():
    n = net({"buses": buses("a"),
             "generators": [{"name": "g", "bus": "a", "carrier": "coal", "p_nom": 50, "marginal_cost": 10}]},
            {"load_firm_mw": series(2, a=[40.0, 70.0]), "load_interruptible_mw": series(2, a=[20.0, 20.0])}, hours=2)
    r = solve(n)
    pr = r.prices
    pen = n.config["penalties"]
    assert pr["shed_interruptible_mw"].tolist() == pytest.approx([10, 20])
    assert pr["shed_firm_mw"].tolist() == pytest.approx([0, 20])
    assert pr["price_cny_per_mwh"].tolist() == pytest.approx([pen["voll_interruptible_cny_per_mwh"],
                                                             pen["voll_firm_cny_per_mwh"]])


def test_snapshot_weighting_scales_costs_and_prices_stay_per_mwh():
    base = two_bus(load=(80.0, 80.0))
    w = {**base.series, "weighting": series(2, weighting=[1.0, 3.0])}
    r = gridopt.dispatch(base.replace(series=w))
    assert r.summary["objective_cny"] == pytest.approx((40 * 10 + 40 * 50) * 4)
    assert r.prices.groupby("bus")["price_cny_per_mwh"].max().to_dict() == pytest.approx({"a": 10, "b": 50})
    assert r.flows["mu_upper_cny_per_mw"].tolist() == pytest.approx([40, 40])


def test_external_market_buys_and_sells_at_its_prices():
    n = net({"buses": buses("a") + buses("x", region="external"),
             "generators": [{"name": "g", "bus": "a", "carrier": "hydro", "p_nom": 100, "marginal_cost": 0}],
             "links": [{"name": "dc", "bus0": "a", "bus1": "x", "p_nom": 60, "efficiency": 0.95}],
             "markets": [{"name": "east", "bus": "x", "buy_max_mw": 100, "buy_price": 300}]},
            {"load_firm_mw": series(1, a=30.0)})
    r = solve(n)
    assert r.flows["p0_mw"].iloc[0] == pytest.approx(60)
    assert r.summary["cost_cny"]["export_revenue_cny"] == pytest.approx(-60 * 0.95 * 300)
    pr = r.prices.set_index("bus")
    assert pr.loc["x", "load_mw"] == pytest.approx(57)  # what the market bought


def test_export_contract_shortfall_is_elastic_and_reported():
    n = net({"buses": buses("a") + buses("x", region="external"),
             "generators": [{"name": "g", "bus": "a", "carrier": "coal", "p_nom": 50, "marginal_cost": 10}],
             "links": [{"name": "dc", "bus0": "a", "bus1": "x", "p_nom": 100, "efficiency": 1.0}],
             "markets": [{"name": "east", "bus": "x", "buy_max_mw": 100, "buy_price": 0}]},
            {"load_firm_mw": series(1, a=10.0), "contract_min_mw": series(1, dc=80.0)})
    r = solve(n)
    fl = r.flows.iloc[0]
    assert fl["forward_mw"] == pytest.approx(40) and fl["contract_shortfall_mw"] == pytest.approx(40)
    assert r.summary["penalties_cny"]["export_shortfall_cny"] == pytest.approx(40 * n.config["penalties"]["export_shortfall_cny_per_mwh"])


def test_interface_limit_binds_with_a_shadow_price():
    n = net({"buses": buses("a", "b"),
             "generators": [{"name": "cheap", "bus": "a", "carrier": "coal", "p_nom": 100, "marginal_cost": 10},
                            {"name": "dear", "bus": "b", "carrier": "gas", "p_nom": 100, "marginal_cost": 50}],
             "lines": [{"name": "l1", "bus0": "a", "bus1": "b", "x": 10, "s_nom": 100},
                       {"name": "l2", "bus0": "b", "bus1": "a", "x": 10, "s_nom": 100}],
             "interfaces": [{"name": "ab", "limit_mw": 30, "limit_reverse_mw": 30}],
             "interface_members": [{"interface": "ab", "branch": "l1", "coefficient": 1},
                                   {"interface": "ab", "branch": "l2", "coefficient": -1}]},
            {"load_firm_mw": series(1, b=80.0)})
    r = solve(n)
    itf = r.interfaces.iloc[0]
    assert itf["flow_mw"] == pytest.approx(30)
    assert itf["mu_upper_cny_per_mw"] == pytest.approx(40)
    f = r.flows.set_index("branch")["p0_mw"]
    assert f["l1"] == pytest.approx(15) and f["l2"] == pytest.approx(-15)


def test_curtailment_reported_and_penalised():
    n = net({"buses": buses("a"),
             "generators": [{"name": "pv", "bus": "a", "carrier": "pv", "p_nom": 100}]},
            {"load_firm_mw": series(1, a=30.0), "p_max_pu": series(1, pv=0.5)},
            penalties={"curtailment_cny_per_mwh": 2.0})
    r = solve(n)
    g = r.generation.iloc[0]
    assert g["curtailed_mw"] == pytest.approx(20) and g["available_mw"] == pytest.approx(50)
    assert r.summary["penalties_cny"]["curtailment_cny"] == pytest.approx(40)
    assert r.summary["objective_cny"] == pytest.approx(40)
    assert r.summary["curtailment_mwh"]["pv"] == pytest.approx(20)


def test_threads_hold_after_another_solve_in_the_process():
    """HiGHS sizes one thread scheduler per process at its first parallel solve; a solve asking for another
    thread count afterwards (the CLI's and the benchmarks' default is 1) must still run, not stop unsolved."""
    from gridopt.solvers.highs import make_highs
    n = net({"buses": buses("a"),
             "generators": [{"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 100, "marginal_cost": 10},
                            {"name": "gas", "bus": "a", "carrier": "gas", "p_nom": 100, "marginal_cost": 20}]},
            {"load_firm_mw": series(3, a=[50.0, 150.0, 120.0])}, hours=3)
    other = make_highs(gridopt.build_lp(n).lp, presolve="off")
    other.setOptionValue("threads", 2)
    other.run()
    h = make_highs(gridopt.build_lp(n).lp, threads=1)
    h.run()  # the benchmarks' path
    assert str(h.getModelStatus()).endswith("kOptimal")
    r = gridopt.dispatch(n, threads=1)
    assert r.summary["objective_cny"] == pytest.approx(50 * 10 + 100 * 10 + 50 * 20 + 100 * 10 + 20 * 20)


def test_a_link_outside_its_service_dates_carries_nothing():
    """link_p_max_pu 0 before a link's first power: no flow, no contract to meet; the limit is reported."""
    n = net({"buses": buses("a", "b"),
             "generators": [{"name": "cheap", "bus": "a", "carrier": "coal", "p_nom": 200, "marginal_cost": 10},
                            {"name": "dear", "bus": "b", "carrier": "gas", "p_nom": 200, "marginal_cost": 50}],
             "links": [{"name": "dc", "bus0": "a", "bus1": "b", "p_nom": 100, "efficiency": 1.0}]},
            {"load_firm_mw": series(3, b=80.0), "link_p_max_pu": series(3, dc=[0.0, 0.5, 1.0]),
             "contract_min_mw": series(3, dc=70.0)}, hours=3)
    r = solve(n)
    fl = r.flows.set_index("hour")
    assert list(fl["p0_mw"]) == pytest.approx([0.0, 50.0, 80.0])
    assert list(fl["limit_mw"]) == pytest.approx([0.0, 50.0, 100.0])
    assert list(fl["contract_shortfall_mw"]) == pytest.approx([0.0, 0.0, 0.0])
    assert r.summary["penalties_cny"].get("export_shortfall_cny", 0.0) == pytest.approx(0.0)
