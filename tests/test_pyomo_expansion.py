"""Capacity expansion in the pyomo twin: each extendable family on its own and all together, hand-computed
where small enough; both paths give the same objective, capacities and investment, and the twin's tables
satisfy the physics at its optimal capacities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_lp_properties import check_physics
from tiny import buses, net, series, solve

import gridopt
from gridopt.schema import EXTENDABLE
from gridopt.solvers.pyomo import build_pyomo_model

OPTIMAL = ("optimal_mw", "optimal_mm3_per_day", "optimal_mm3", "optimal_mwh")


def both(n, **kw):
    """Fast path and twin: `solve` compares their objectives; here also capacities, investment and the
    twin's own tables."""
    fast = solve(n, **kw)
    twin = gridopt.dispatch(n, solver="pyomo", **kw)
    assert twin.summary["status"] == "optimal" and twin.checks == fast.checks
    check_physics(n, twin, kw.get("carbon_price"))
    a, b = fast.capacities, twin.capacities
    assert list(a["element"]) == list(b["element"])
    for col in OPTIMAL:
        same = np.allclose(a[col].astype(float), b[col].astype(float), rtol=1e-6, atol=1e-6, equal_nan=True)
        assert same, col
    inv = fast.summary["investment_cny"]
    assert twin.summary["investment_cny"] == pytest.approx(inv, rel=1e-6, abs=1e-6)
    assert twin.summary["capacity_built"].keys() == fast.summary["capacity_built"].keys()
    return fast, twin


def gen(name: str, bus: str, carrier: str, p_nom: float, cost: float = 0.0, **kw) -> dict:
    return {"name": name, "bus": bus, "carrier": carrier, "p_nom": p_nom, "marginal_cost": cost, **kw}


def grow(cc: float, top: float = 1000.0, flag: str = "p_nom_extendable", hi: str = "p_nom_max") -> dict:
    """Extendable up to `top` at capital cost `cc` (PyPSA's power columns unless named)."""
    return {flag: True, hi: top, "capital_cost": cc}


def grow_s(cc: float, top: float = 1000.0) -> dict:
    return grow(cc, top, "s_nom_extendable", "s_nom_max")


def optimal(r, element: str, col: str = "optimal_mw") -> float:
    return float(r.capacities.set_index("element").at[element, col])


def value(r, element: str) -> float:
    return float(r.capacities.set_index("element").at[element, "value_cny_per_unit"])


def unit(r, name: str) -> pd.DataFrame:
    return r.generation[r.generation["unit"] == name]


@pytest.mark.parametrize("s_nom_max, cap, worth", [(500.0, 100.0, 15.0), (75.0, 75.0, 0.8 * 40)])
def test_extendable_line_carries_more_than_its_existing_rating(s_nom_max, cap, worth):
    # every MW across saves 40 CNY and costs 15 per MW of capacity: extend until the load is met (0.8 * cap =
    # 80) or to the maximum, where a MW of capacity is worth the 0.8 * 40 CNY it would save
    n = net({"buses": buses("a", "b"),
             "generators": [gen("cheap", "a", "coal", 200, 10), gen("dear", "b", "gas", 200, 50)],
             "lines": [{"name": "l", "bus0": "a", "bus1": "b", "x": 10, "s_nom": 40, "s_max_pu": 0.8,
                        **grow_s(15, s_nom_max)}]},
            {"load_firm_mw": series(1, b=80.0)})
    fast, twin = both(n)
    for r in (fast, twin):
        assert optimal(r, "l") == pytest.approx(cap)
        assert r.flows["p0_mw"].iloc[0] == pytest.approx(0.8 * cap)  # above 0.8 * 40 existing
        assert r.flows["limit_mw"].iloc[0] == pytest.approx(0.8 * cap)
        assert r.summary["investment_cny"] == pytest.approx(15 * (cap - 40))
        objective = 0.8 * cap * 10 + (80 - 0.8 * cap) * 50 + 15 * (cap - 40)
        assert r.summary["objective_cny"] == pytest.approx(objective)
        assert value(r, "l") == pytest.approx(worth)  # the twin's reduced cost of the capacity maps back
        assert r.flows["mu_upper_cny_per_mw"].iloc[0] == pytest.approx(worth / 0.8)  # the rating row's dual


def test_extendable_transformer_flows_against_its_orientation():
    # bus0 is the low-voltage side: the flow is negative, limited by the rating's lower row
    n = net({"buses": buses("hv", v_nom=500.0) + buses("lv", v_nom=220.0),
             "generators": [gen("cheap", "hv", "coal", 300, 10), gen("dear", "lv", "gas", 300, 100)],
             "transformers": [{"name": "t", "bus0": "lv", "bus1": "hv", "x": 0.1, "s_nom": 50, **grow_s(5)}]},
            {"load_firm_mw": series(1, lv=120.0)})
    fast, twin = both(n)
    for r in (fast, twin):
        assert optimal(r, "t") == pytest.approx(120)
        assert r.flows["p0_mw"].iloc[0] == pytest.approx(-120)  # beyond -50 existing
        assert r.flows["mu_lower_cny_per_mw"].iloc[0] == pytest.approx(5)  # a MW of rating costs 5 CNY
        assert r.summary["objective_cny"] == pytest.approx(120 * 10 + 5 * 70)


def four_units(p_nom: float) -> list[dict]:
    """Cheap and dear units at buses a and b."""
    return [gen("ca", "a", "coal", p_nom, 10), gen("cb", "b", "coal", p_nom, 10),
            gen("da", "a", "gas", p_nom, 100), gen("db", "b", "gas", p_nom, 100)]


def test_extendable_link_in_both_directions():
    # hour 0 sends 60 MW a -> b, hour 1 80 MW b -> a: one capacity for both directions (p_min_pu = -1)
    n = net({"buses": buses("a", "b"), "generators": four_units(200),
             "links": [{"name": "k", "bus0": "a", "bus1": "b", "p_nom": 30, "p_min_pu": -1.0, **grow(20)}]},
            {"load_firm_mw": series(2, a=[0.0, 80.0], b=[60.0, 0.0]),
             "p_max_pu": series(2, ca=[1.0, 0.0], cb=[0.0, 1.0])}, hours=2)
    fast, twin = both(n)
    for r in (fast, twin):
        assert optimal(r, "k") == pytest.approx(80)
        fl = r.flows
        assert fl["forward_mw"].tolist() == pytest.approx([60, 0])  # above 30 existing
        assert fl["reverse_mw"].tolist() == pytest.approx([0, 80])
        assert r.summary["objective_cny"] == pytest.approx(140 * 10 + 20 * 50)


def test_export_contract_of_an_extendable_link_binds_at_its_largest_capacity():
    # a contract of 80 MW on a link that can reach 50 asks for 50: the link is built to its maximum
    n = net({"buses": buses("a", "b"),
             "generators": [gen("cheap", "a", "coal", 200, 10), gen("dear", "b", "gas", 200, 100)],
             "links": [{"name": "k", "bus0": "a", "bus1": "b", "p_nom": 30, **grow(1000, 50)}]},
            {"load_firm_mw": series(1, b=60.0), "contract_min_mw": series(1, k=80.0)},
            penalties={"curtailment_cny_per_mwh": 0.0, "export_shortfall_cny_per_mwh": 5000.0})
    fast, twin = both(n)
    for r in (fast, twin):
        assert optimal(r, "k") == pytest.approx(50)
        assert r.flows["contract_min_mw"].iloc[0] == pytest.approx(50)
        assert r.flows["contract_shortfall_mw"].iloc[0] == pytest.approx(0)
        assert r.summary["objective_cny"] == pytest.approx(50 * 10 + 10 * 100 + 1000 * 20)


def test_extendable_committable_unit_ramps_with_its_capacity():
    # load 40 -> 100 -> 60: the 60 MW step needs ramp_limit_up * cap >= 60, so cap = 120, not the 100 the
    # load alone needs (the 90 CNY/MWh saved on the last 10 MW outweighs 5 CNY/MW on 20 MW more); committing
    # 80 MW at hour 0 (p_min_pu 0.5 of 40 MW) leaves 20 MW to start
    new = gen("new", "a", "coal", 20, 10, committable=True, p_min_pu=0.5, start_up_cost=1, ramp_limit_up=0.5,
              ramp_limit_down=0.5, p_init=40, **grow(5))
    n = net({"buses": buses("a"), "generators": [new, gen("peaker", "a", "gas", 500, 100)]},
            {"load_firm_mw": series(3, a=[40.0, 100.0, 60.0]), "must_run_pu": series(3, new=0.2)}, hours=3)
    fast, twin = both(n)
    for r in (fast, twin):
        assert optimal(r, "new") == pytest.approx(120)
        p = unit(r, "new")["p_mw"].to_numpy()
        assert p == pytest.approx([40, 100, 60])  # 100 > 20 existing; +60 > 0.5 * 20 existing ramp
        assert (p >= 0.2 * 120 - 1e-6).all()  # must-run on the built capacity
        assert r.summary["objective_cny"] == pytest.approx(200 * 10 + 5 * 100 + 1 * 20, rel=1e-9)


def test_extendable_committable_unit_must_run_binds_on_the_built_capacity():
    # a must-run share of 0.5 on a unit built for the peak forces output above a 10 MW off-peak load
    new = gen("new", "a", "coal", 0, 10, committable=True, **grow(5))
    n = net({"buses": buses("a"), "generators": [new, gen("peaker", "a", "gas", 500, 100)],
             "markets": [{"name": "dump", "bus": "a", "buy_max_mw": 1000, "buy_price": 1}]},
            {"load_firm_mw": series(2, a=[10.0, 100.0]), "must_run_pu": series(2, new=0.5)}, hours=2)
    fast, twin = both(n)
    for r in (fast, twin):
        assert optimal(r, "new") == pytest.approx(100)
        # 50 at hour 0: half of the built 100, 40 sold at 1 CNY/MWh
        assert unit(r, "new")["p_mw"].tolist() == pytest.approx([50, 100])


def test_extendable_renewable_pays_curtailment_on_its_grown_availability():
    # cap 150: hour 0 takes 0.2 * 150 = 30, hour 1 curtails 0.6 * 150 - 30 = 60 MW at 3 CNY/MWh
    n = net({"buses": buses("a"),
             "generators": [gen("wind", "a", "wind", 10, **grow(5)), gen("gas", "a", "gas", 500, 50)]},
            {"load_firm_mw": series(2, a=30.0), "p_max_pu": series(2, wind=[0.2, 0.6])}, hours=2,
            penalties={"curtailment_cny_per_mwh": 3.0, "spill_cny_per_mwh": 0.0})
    fast, twin = both(n)
    for r in (fast, twin):
        assert optimal(r, "wind") == pytest.approx(150)
        g = unit(r, "wind")
        assert g["available_mw"].tolist() == pytest.approx([30, 90])
        assert g["curtailed_mw"].tolist() == pytest.approx([0, 60])
        assert r.summary["objective_cny"] == pytest.approx(5 * 140 + 3 * 60)


@pytest.mark.parametrize("p_nom_store, max_hours, cap", [
    (10.0, 3.0, 120.0),  # charge rating 0.5 * cap carries 60 MW
    (np.nan, 0.5, 120.0),  # 0.5 h * cap holds 60 MWh
    (40.0, 3.0, 60.0)], ids=["charge", "energy", "discharge"])  # charge rating 2 * cap: the discharge binds
def test_extendable_storage_charge_and_energy_follow_its_capacity(p_nom_store, max_hours, cap):
    # cheap energy at hour 0 only, shifted to the 60 MW load of hour 1 (efficiencies 1; 1 CNY/MWh discharged
    # rules out charging and discharging at once); p_nom 20
    s = {"name": "s", "bus": "a", "p_nom": 20, "p_nom_store": p_nom_store, "max_hours": max_hours,
         "cyclic_state_of_charge": False, "marginal_cost": 1, **grow(1)}
    n = net({"buses": buses("a"),
             "generators": [gen("cheap", "a", "coal", 200, 10), gen("dear", "a", "gas", 200, 100)],
             "storage_units": [s]},
            {"load_firm_mw": series(2, a=[0.0, 60.0]), "p_max_pu": series(2, cheap=[1.0, 0.0])}, hours=2)
    fast, twin = both(n)
    for r in (fast, twin):
        assert optimal(r, "s") == pytest.approx(cap)
        assert optimal(r, "s", "optimal_mwh") == pytest.approx(cap * max_hours)
        st = r.storage
        assert st["charge_mw"].tolist() == pytest.approx([60, 0])  # above every existing rating
        assert st["discharge_mw"].tolist() == pytest.approx([0, 60])
        assert r.summary["objective_cny"] == pytest.approx(60 * 10 + 60 * 1 + 1 * (cap - 20))


def test_extendable_reservoir_turbine_releases_cap_over_production():
    res = [{"name": "r", "bus": "a", "p_nom": 10, "production_mw_per_m3s": 2.0, "volume_max_hm3": 20,
            "volume_initial_hm3": 10, **grow(2)}]
    n = net({"buses": buses("a"), "reservoirs": res, "generators": [gen("dear", "a", "gas", 200, 100)]},
            {"load_firm_mw": series(1, a=50.0)})
    fast, twin = both(n)
    for r in (fast, twin):
        assert optimal(r, "r") == pytest.approx(50)
        assert r.hydro["release_m3s"].iloc[0] == pytest.approx(25)  # above 10 / 2 existing
        assert r.summary["objective_cny"] == pytest.approx(2 * 40)


def supply(name: str, node: str, mm3_per_h: float, cny_per_kcm: float) -> dict:
    return {"name": name, "node": node, "capacity_mm3_per_h": mm3_per_h, "cost_cny_per_kcm": cny_per_kcm}


def test_extendable_pipeline_reverse_capacity_follows_the_table_ratio():
    # hour 0: 8 kcm/h g1 -> g2; hour 1: g1 needs 10 kcm/h more than its field, sent back at half the capacity
    pipe = {"name": "p", "node0": "g1", "node1": "g2", "capacity_mm3_per_h": 0.005,
            "capacity_reverse_mm3_per_h": 0.0025,
            **grow(5e5, 0.05, "capacity_extendable", "capacity_max_mm3_per_h")}
    tables = {"buses": buses("a"),
              "gas_nodes": [{"name": "g1", "region": "A"}, {"name": "g2", "region": "B"}],
              "gas_supplies": [supply("cheap", "g1", 0.010, 1000), supply("dear", "g2", 1.0, 3000)],
              "pipelines": [pipe],
              "gas_demands": [{"name": "city2", "node": "g2", "kind": "residential"},
                              {"name": "city1", "node": "g1", "kind": "residential"}]}
    n = net(tables, {"load_firm_mw": series(2, a=0.0),
                     "gas_demand_mm3_per_h": series(2, city2=[0.008, 0.0], city1=[0.0, 0.020])}, hours=2)
    fast, twin = both(n)
    for r in (fast, twin):
        # reverse 0.010 = 0.5 * cap
        assert optimal(r, "p", "optimal_mm3_per_day") == pytest.approx(0.020 * 24)
        g = r.gas.set_index(["node", "hour"])
        assert g["pipeline_out_mm3_per_h"].loc["g2"].tolist() == pytest.approx([0.0, 0.010])  # above 0.0025
        assert g["shed_mm3_per_h"].sum() == pytest.approx(0)


@pytest.mark.parametrize("injection, withdrawal, cap", [(0.001, 0.004, 0.012), (0.004, 0.001, 0.012),
                                                       (0.004, 0.004, 0.006)])
def test_extendable_gas_storage_rates_follow_its_working_gas(injection, withdrawal, cap):
    # 6 kcm moved from hour 0 to hour 1: a rate of 0.5 per hour per unit of working gas (injection, then
    # withdrawal) needs 12 kcm of working gas; at 2 per hour both ways the inventory (6 kcm) binds instead
    ugs = {"name": "ugs", "node": "g", "working_gas_mm3": 0.002, "injection_max_mm3_per_h": injection,
           "withdrawal_max_mm3_per_h": withdrawal, "inventory_initial_mm3": 0.0,
           **grow(1e5, 1.0, "working_gas_extendable", "working_gas_max_mm3")}
    tables = {"buses": buses("a"),
              "generators": [gen("ccgt", "a", "gas", 200, heat_rate=6.8, gas_node="g"),
                             gen("coal", "a", "coal", 200, 1000)],
              "gas_nodes": [{"name": "g", "region": "A"}],
              "gas_supplies": [supply("field", "g", 0.010, 1000)],
              "gas_storages": [ugs]}
    n = net(tables, {"load_firm_mw": series(2, a=[20.0, 80.0])}, hours=2, gas_lhv_gj_per_kcm=34.0)
    fast, twin = both(n)
    for r in (fast, twin):
        assert optimal(r, "ugs", "optimal_mm3") == pytest.approx(cap)
        g = r.gas
        # injection above the existing rate
        assert g["storage_injection_mm3_per_h"].tolist() == pytest.approx([0.006, 0.0])
        assert g["inventory_mm3"].tolist() == pytest.approx([0.006, 0.0])  # above 0.002 existing
        assert r.summary["objective_cny"] == pytest.approx(20 * 1000 + 1e5 * (cap - 0.002))


def test_interface_limits_grow_with_an_extended_member():
    # two equal parallel circuits share the flow; the interface (50 MW each way) grows by what l1 adds:
    # 100 MW a -> b at hour 0 and 120 MW b -> a at hour 1 need cap 110 (reverse: 50 + cap - 40 >= 120)
    n = net({"buses": buses("a", "b"), "generators": four_units(300),
             "lines": [{"name": "l1", "bus0": "a", "bus1": "b", "x": 10, "s_nom": 40, **grow_s(10)},
                       {"name": "l2", "bus0": "a", "bus1": "b", "x": 10, "s_nom": 1000}],
             "interfaces": [{"name": "ab", "limit_mw": 50, "limit_reverse_mw": 50}],
             "interface_members": [{"interface": "ab", "branch": "l1", "coefficient": 1},
                                   {"interface": "ab", "branch": "l2", "coefficient": 1}]},
            {"load_firm_mw": series(2, a=[0.0, 120.0], b=[100.0, 0.0]),
             "p_max_pu": series(2, ca=[1.0, 0.0], cb=[0.0, 1.0])}, hours=2)
    fast, twin = both(n)
    for r in (fast, twin):
        assert optimal(r, "l1") == pytest.approx(110)
        itf = r.interfaces
        assert itf["flow_mw"].tolist() == pytest.approx([100, -120])  # beyond 50 either way
        assert itf["limit_mw"].tolist() == pytest.approx([120, 120])
        assert itf["limit_reverse_mw"].tolist() == pytest.approx([120, 120])
        assert r.summary["objective_cny"] == pytest.approx(220 * 10 + 10 * 70)
    # the reverse limit binds at hour 1: its shadow price maps back from the twin's own row
    mu = [r.interfaces["mu_lower_cny_per_mw"].iloc[1] for r in (fast, twin)]
    assert mu[1] == pytest.approx(mu[0], rel=1e-6) and mu[0] > 0


def test_interface_with_an_extended_link_of_negative_coefficient():
    # the link runs b -> a; counted with -1 its reverse capability (p_min_pu = -0.5) raises the forward limit
    n = net({"buses": buses("a", "b"),
             "generators": [gen("ca", "a", "coal", 300, 10), gen("db", "b", "gas", 300, 100)],
             "links": [{"name": "k", "bus0": "b", "bus1": "a", "p_nom": 40, "p_min_pu": -0.5, **grow(10)}],
             "interfaces": [{"name": "ab", "limit_mw": 10, "limit_reverse_mw": 10}],
             "interface_members": [{"interface": "ab", "branch": "k", "coefficient": -1}]},
            {"load_firm_mw": series(1, b=60.0)})
    fast, twin = both(n)
    for r in (fast, twin):
        # reverse flow 60 <= 0.5 * cap and interface 60 <= 10 + 0.5 * (cap - 40): cap = 140
        assert optimal(r, "k") == pytest.approx(140)
        assert r.interfaces["flow_mw"].iloc[0] == pytest.approx(60)


@pytest.mark.parametrize("provider", ["generator", "committable", "storage", "reservoir"])
def test_reserve_headroom_grows_with_an_extendable_provider(provider):
    # 100 MW load and 10% reserve on one provider: its capacity reaches 110, 10 MW more than the energy needs
    ext = {"name": "x", "bus": "a", "p_nom": 50, "marginal_cost": 10, "provides_reserve": True, **grow(1)}
    tables = {"buses": buses("a"), "generators": [gen("dear", "a", "gas", 500, 100)]}
    if provider in ("generator", "committable"):
        tables["generators"].append({"carrier": "coal", "committable": provider == "committable", **ext})
    elif provider == "storage":
        tables["storage_units"] = [{"max_hours": 20, "cyclic_state_of_charge": False,
                                    "state_of_charge_initial": 1000, **ext}]
    else:
        tables["reservoirs"] = [{"production_mw_per_m3s": 1.0, "volume_max_hm3": 20, "volume_initial_hm3": 10,
                                 **ext}]
    n = net(tables, {"load_firm_mw": series(1, a=100.0)}, reserves={"A": 0.1})
    fast, twin = both(n)
    for r in (fast, twin):
        assert optimal(r, "x") == pytest.approx(110)
        assert r.reserves["provided_mw"].iloc[0] == pytest.approx(10)
        assert r.summary["objective_cny"] == pytest.approx(100 * 10 + 60)


def test_capacity_above_its_maximum_is_reduced_with_negative_investment():
    # p_nom 100 and s_nom 200 above their maxima: both end at the 50 MW they serve, and pay back
    n = net({"buses": buses("a", "b"),
             "generators": [gen("g", "a", "coal", 100, 20, **grow(10, 60)),
                            gen("dear", "b", "gas", 200, 100)],
             "lines": [{"name": "l", "bus0": "a", "bus1": "b", "x": 10, "s_nom": 200, **grow_s(1, 80)}]},
            {"load_firm_mw": series(1, b=50.0)})
    fast, twin = both(n)
    for r in (fast, twin):
        assert optimal(r, "g") == pytest.approx(50) and optimal(r, "l") == pytest.approx(50)
        assert r.summary["investment_cny"] == pytest.approx(10 * (50 - 100) + 1 * (50 - 200))
        assert r.summary["objective_cny"] == pytest.approx(50 * 20 - 650)


def everything(extendable: bool = True, fixed: bool = False) -> gridopt.Network:
    """Every extendable family in one network over 3 hours, with reserves and an interface. With `fixed`
    every capacity is pinned to its existing value (min = max = existing)."""
    def ext(kind: str, existing: float, cc: float) -> dict:
        _, flag, lo, hi = EXTENDABLE[kind]
        if not extendable:
            return {}
        top = existing if fixed else 1000.0
        return {flag: True, lo: existing if fixed else 0.0, hi: top, "capital_cost": cc}
    tables = {
        "buses": buses("a", "b") + buses("c", region="B", v_nom=220.0) + buses("d", region="B"),
        "generators": [
            gen("coal", "a", "coal", 60, 20, committable=True, p_min_pu=0.4, start_up_cost=2,
                ramp_limit_up=0.4, ramp_limit_down=0.4, p_init=40, provides_reserve=True,
                **ext("generators", 60, 4)),
            gen("wind", "b", "wind", 20, **ext("generators", 20, 6)),
            gen("ccgt", "c", "gas", 80, heat_rate=6.8, gas_node="g1", provides_reserve=True),
            gen("peak", "d", "oil", 500, 400)],
        "lines": [{"name": "ab", "bus0": "a", "bus1": "b", "x": 10, "s_nom": 40, **ext("lines", 40, 3)},
                  {"name": "bd", "bus0": "b", "bus1": "d", "x": 10, "s_nom": 30, "s_max_pu": 0.9},
                  {"name": "ad", "bus0": "a", "bus1": "d", "x": 20, "s_nom": 30}],
        "transformers": [{"name": "t", "bus0": "d", "bus1": "c", "x": 0.1, "s_nom": 30,
                          **ext("transformers", 30, 2)}],
        "links": [{"name": "k", "bus0": "b", "bus1": "c", "p_nom": 20, "p_min_pu": -1.0, "efficiency": 0.97,
                   **ext("links", 20, 5)}],
        "storage_units": [{"name": "s", "bus": "d", "p_nom": 10, "p_nom_store": 5, "max_hours": 2,
                           "efficiency_store": 0.9, "efficiency_dispatch": 0.9, "provides_reserve": True,
                           **ext("storage_units", 10, 3)}],
        "reservoirs": [{"name": "r", "bus": "b", "p_nom": 10, "production_mw_per_m3s": 1.0,
                        "volume_max_hm3": 1.0, "volume_initial_hm3": 0.5, "provides_reserve": True,
                        **ext("reservoirs", 10, 4)}],
        "interfaces": [{"name": "west", "limit_mw": 50, "limit_reverse_mw": 40}],
        "interface_members": [{"interface": "west", "branch": "ab", "coefficient": 1},
                              {"interface": "west", "branch": "k", "coefficient": -1}],
        "gas_nodes": [{"name": "g1", "region": "B"}, {"name": "g2", "region": "B"}],
        "gas_supplies": [supply("field", "g2", 0.012, 1500), supply("lng", "g1", 1.0, 4000)],
        "pipelines": [{"name": "p", "node0": "g2", "node1": "g1", "capacity_mm3_per_h": 0.004,
                       "capacity_reverse_mm3_per_h": 0.002, "efficiency": 0.98,
                       **ext("pipelines", 0.004, 2e5)}],
        "gas_storages": [{"name": "ugs", "node": "g1", "working_gas_mm3": 0.005,
                          "injection_max_mm3_per_h": 0.002, "withdrawal_max_mm3_per_h": 0.003,
                          "inventory_initial_mm3": 0.001,
                          **ext("gas_storages", 0.005, 5e4)}],
    }
    ser = {"load_firm_mw": series(3, a=[20.0, 30.0, 25.0], b=[30.0, 20.0, 40.0], c=[40.0, 90.0, 60.0],
                                  d=[60.0, 110.0, 70.0]),
           "p_max_pu": series(3, wind=[0.9, 0.2, 0.5]),
           "inflow_m3s": series(3, r=5.0)}
    return net(tables, ser, hours=3, gas_lhv_gj_per_kcm=34.0, reserves={"A": 0.1, "B": 0.05},
               penalties={"curtailment_cny_per_mwh": 2.0, "spill_cny_per_mwh": 0.0})


def test_every_family_extendable_together():
    fast, twin = both(everything())
    built = fast.summary["capacity_built"]
    assert set(built) == {"generators", "lines", "transformers", "links", "storage_units", "reservoirs",
                          "pipelines", "gas_storages"}
    grown = fast.capacities[fast.capacities["extendable"].astype(bool)]
    assert (grown["investment_cny"].abs() > 1e-6).all()  # every capacity moved: each family's ratings bind
    for key in ("cost_total_cny", "penalties_total_cny"):
        assert twin.summary[key] == pytest.approx(fast.summary[key], rel=1e-6, abs=1e-3), key


def test_capacities_pinned_at_existing_give_the_dispatch_without_expansion():
    """min = max = existing: the capacity rows and investment (zero) leave the optimum as without them."""
    plain = solve(everything(extendable=False))
    pinned, twin = both(everything(fixed=True))
    assert pinned.summary["objective_cny"] == pytest.approx(plain.summary["objective_cny"], rel=1e-9)
    assert twin.summary["investment_cny"] == pytest.approx(0, abs=1e-6)


def test_without_extendable_elements_the_twin_has_no_capacity_and_no_investment():
    n = everything(extendable=False)
    m = build_pyomo_model(n)
    assert not [c for c in m.component_objects() if c.name.startswith("capacity_")]
    r = gridopt.dispatch(n, solver="pyomo")
    assert r.summary["investment_cny"] == 0.0 and r.summary["capacity_built"] == {}
    caps = r.capacities
    assert not caps["extendable"].astype(bool).any()
    assert np.allclose(pd.to_numeric(caps["investment_cny"]), 0.0)
