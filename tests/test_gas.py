"""The gas network: hand-computed storage arbitrage and pipeline congestion (`solve` also recomputes the
balances, the burn from heat rates and the objective from the tables)."""

from __future__ import annotations

import pytest
from tiny import buses, net, series, solve

from gridopt import CaseError


def gas_plant_net(with_storage=True):
    tables = {
        "buses": buses("a"),
        "generators": [{"name": "ccgt", "bus": "a", "carrier": "gas", "p_nom": 200, "heat_rate": 6.8, "gas_node": "g"},
                       {"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 200, "marginal_cost": 1000}],
        "gas_nodes": [{"name": "g", "region": "A"}],
        "gas_supplies": [{"name": "field", "node": "g", "capacity_mm3_per_h": 0.010, "cost_cny_per_kcm": 1000}],
    }
    if with_storage:
        tables["gas_storages"] = [{"name": "ugs", "node": "g", "working_gas_mm3": 0.1, "injection_max_mm3_per_h": 0.01,
                                   "withdrawal_max_mm3_per_h": 0.01, "inventory_initial_mm3": 0.0}]
    return net(tables, {"load_firm_mw": series(2, a=[20.0, 80.0])}, hours=2, gas_lhv_gj_per_kcm=34.0)


def test_gas_storage_arbitrage_feeds_the_peak():
    r = solve(gas_plant_net())
    gas = r.gas
    # 0.2 kcm per MWh: burn 4 then 16 kcm/h; the field gives 10 each hour, storage moves 6 from hour 0 to 1
    assert gas["power_burn_mm3_per_h"].tolist() == pytest.approx([0.004, 0.016])
    assert gas["storage_injection_mm3_per_h"].tolist() == pytest.approx([0.006, 0.0])
    assert gas["storage_withdrawal_mm3_per_h"].tolist() == pytest.approx([0.0, 0.006])
    assert r.summary["objective_cny"] == pytest.approx(20 * 1000)
    # the marginal gas displaces coal at 1000 CNY/MWh: 1000 / 0.2 = 5000 CNY per 1000 m3, in both hours
    assert gas["price_cny_per_kcm"].tolist() == pytest.approx([5000, 5000])
    without = solve(gas_plant_net(with_storage=False))
    assert without.summary["objective_cny"] == pytest.approx((4 + 10) * 1000 + 30 * 1000)  # coal covers 30 MWh


def test_pipeline_congestion_splits_gas_prices():
    tables = {
        "buses": buses("a"),
        "gas_nodes": [{"name": "g1", "region": "A"}, {"name": "g2", "region": "B"}],
        "gas_supplies": [{"name": "cheap", "node": "g1", "capacity_mm3_per_h": 1.0, "cost_cny_per_kcm": 1000},
                         {"name": "dear", "node": "g2", "capacity_mm3_per_h": 1.0, "cost_cny_per_kcm": 3000}],
        "pipelines": [{"name": "p", "node0": "g1", "node1": "g2", "capacity_mm3_per_h": 0.005}],
        "gas_demands": [{"name": "city", "node": "g2", "kind": "residential", "demand_mm3_per_h": 0.008}],
    }
    r = solve(net(tables, {"load_firm_mw": series(1, a=0.0)}))
    gas = r.gas.set_index("node")
    assert gas.loc["g1", "price_cny_per_kcm"] == pytest.approx(1000)
    assert gas.loc["g2", "price_cny_per_kcm"] == pytest.approx(3000)
    assert r.summary["objective_cny"] == pytest.approx(5 * 1000 + 3 * 3000)


def test_households_are_never_cut_to_run_a_gas_plant():
    tables = {
        "buses": buses("a"),
        "generators": [{"name": "ccgt", "bus": "a", "carrier": "gas", "p_nom": 200, "heat_rate": 6.8, "gas_node": "g"}],
        "gas_nodes": [{"name": "g", "region": "A"}],
        "gas_supplies": [{"name": "field", "node": "g", "capacity_mm3_per_h": 0.010, "cost_cny_per_kcm": 1000}],
        "gas_demands": [{"name": "homes", "node": "g", "kind": "residential", "demand_mm3_per_h": 0.008},
                        {"name": "plant", "node": "g", "kind": "industry", "demand_mm3_per_h": 0.002}],
    }
    r = solve(net(tables, {"load_firm_mw": series(1, a=30.0)}))
    gas = r.gas.iloc[0]
    assert gas["shed_mm3_per_h"] == pytest.approx(0.002)  # industry cut first: power VOLL beats its penalty
    shed = r.prices.iloc[0]
    assert shed["shed_mw"] == pytest.approx(30 - 0.002 * 1000 / 0.2)  # homes keep their gas, power is shed


def test_gas_unit_naming_a_node_and_a_fuel_price_is_rejected():
    with pytest.raises(CaseError) as exc:
        net({"buses": buses("a"), "gas_nodes": [{"name": "g", "region": "A"}],
             "generators": [{"name": "ccgt", "bus": "a", "carrier": "gas", "p_nom": 10, "heat_rate": 6.8,
                             "gas_node": "g", "fuel_price": 60}]})
    assert any("ccgt" in str(p) and "fuel_price" in str(p) for p in exc.value.problems)
