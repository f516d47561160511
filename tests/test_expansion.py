"""Capacity expansion on hand-computable networks: what is built, what it costs, and what capacity is worth.
Every solve runs both paths (`tiny.solve`: the pyomo twin must give the same objective) and checks physics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tiny import buses, net, series, solve

import gridopt
from gridopt.errors import CaseError, UsageError
from gridopt.formulation import build_lp

CHEAP, DEAR = 10.0, 50.0


def two_bus(load, line: dict | None = None, weights=None, extra: dict | None = None):
    """Cheap generation at a, dear at b, load at b, one line a-b (40 MW unless `line` says otherwise)."""
    h = len(load)
    ln = {"name": "l", "bus0": "a", "bus1": "b", "x": 10, "s_nom": 40}
    ln.update(line or {})
    tables = {"buses": buses("a", "b"),
              "generators": [{"name": "cheap", "bus": "a", "carrier": "coal", "p_nom": 500, "marginal_cost": CHEAP},
                             {"name": "dear", "bus": "b", "carrier": "gas", "p_nom": 500, "marginal_cost": DEAR}],
              "lines": [ln]}
    tables.update(extra or {})
    ts = {"load_firm_mw": series(h, b=list(load))}
    if weights is not None:
        ts["weighting"] = series(h, weighting=list(weights))
    return net(tables, ts, hours=h)


def test_line_is_built_while_the_price_difference_it_removes_pays_its_capital_cost():
    # at capacity x the line is congested in the hours with load > x, each worth DEAR - CHEAP per MW and hour:
    # 2 h x 40 = 80 CNY/MW above 60 MW of load... x stops where the hours left are worth less than 60
    r = solve(two_bus([80, 60, 30], {"s_nom_extendable": True, "capital_cost": 60.0}))
    cap = r.capacities.set_index("element")
    assert cap.at["l", "optimal_mw"] == pytest.approx(60.0)
    assert cap.at["l", "investment_cny"] == pytest.approx(60.0 * (60 - 40))
    # strictly between its bounds, the capacity is worth exactly what it costs: Σ w·μ = capital_cost
    assert cap.at["l", "value_cny_per_unit"] == pytest.approx(60.0)
    corr = r.corridors.set_index("corridor")
    assert corr.at["l", "value_cny_per_mw"] == pytest.approx(60.0)
    operation = 60 * CHEAP + 20 * DEAR + 60 * CHEAP + 30 * CHEAP
    s = r.summary
    assert s["investment_cny"] == pytest.approx(1200.0)
    assert s["objective_cny"] == pytest.approx(operation + 1200.0)
    assert s["objective_cny"] == pytest.approx(s["cost_total_cny"] + s["penalties_total_cny"] + s["investment_cny"])
    assert s["capacity_built"] == {"lines": {"l": pytest.approx(60.0)}}


def test_weightings_scale_the_operating_value_but_never_the_capital_cost():
    # the same three hours standing for 100 h each: every MW is worth 100x more, the capital cost is not
    # pro-rated, so at 6000 CNY/MW the line is built to the same 60 MW
    r = solve(two_bus([80, 60, 30], {"s_nom_extendable": True, "capital_cost": 6000.0}, weights=[100, 100, 100]))
    assert r.capacities.set_index("element").at["l", "optimal_mw"] == pytest.approx(60.0)
    assert r.summary["investment_cny"] == pytest.approx(6000.0 * 20)
    assert any("not a year" in w for w in r.summary["warnings"])
    year = solve(two_bus([80, 60, 30], {"s_nom_extendable": True, "capital_cost": 6000.0},
                         weights=[2920, 2920, 2920]))
    assert not any("not a year" in w for w in year.summary["warnings"])


def test_capacity_worth_less_than_it_costs_is_retired_and_the_investment_is_negative():
    # 150 CNY/MW against at most 3 h x 40 = 120 CNY/MW of value: with no minimum the LP gives the line up
    r = solve(two_bus([80, 60, 30], {"s_nom_extendable": True, "capital_cost": 150.0}))
    assert r.capacities.set_index("element").at["l", "optimal_mw"] == pytest.approx(0.0, abs=1e-6)
    assert r.summary["investment_cny"] == pytest.approx(-150.0 * 40)
    assert r.summary["objective_cny"] == pytest.approx((80 + 60 + 30) * DEAR - 150.0 * 40)
    # with s_nom_min at the existing rating it stays, worth 2 h x 40 = 80 < 150 CNY/MW
    kept = solve(two_bus([80, 60, 30], {"s_nom_extendable": True, "capital_cost": 150.0, "s_nom_min": 40.0}))
    cap = kept.capacities.set_index("element")
    assert cap.at["l", "optimal_mw"] == pytest.approx(40.0)
    assert cap.at["l", "value_cny_per_unit"] == pytest.approx(80.0)
    assert kept.summary["investment_cny"] == pytest.approx(0.0, abs=1e-9)


def test_storage_is_sized_by_arbitrage_against_a_hand_computation():
    # cheap power only in hour 0, load 100 MW in both hours; storage charges at 10 and saves 50 per MWh it
    # returns, 90 % of what it took: a MW of storage earns 0.9 * 50 - 10 = 35 CNY
    def case(cc):
        return net({"buses": buses("a"),
                    "generators": [{"name": "cheap", "bus": "a", "carrier": "coal", "p_nom": 500, "marginal_cost": 10},
                                   {"name": "dear", "bus": "a", "carrier": "gas", "p_nom": 500, "marginal_cost": 50}],
                    "storage_units": [{"name": "s", "bus": "a", "p_nom": 0, "max_hours": 1, "efficiency_store": 0.9,
                                       "p_nom_extendable": True, "capital_cost": cc}]},
                   {"load_firm_mw": series(2, a=[100, 100]), "p_max_pu": series(2, cheap=[1, 0])}, hours=2)
    r = solve(case(20.0))
    built = 100 / 0.9  # enough to serve hour 1 from storage: beyond it a MW earns nothing
    cap = r.capacities.set_index("element")
    assert cap.at["s", "optimal_mw"] == pytest.approx(built)
    assert cap.at["s", "optimal_mwh"] == pytest.approx(built)
    assert r.summary["objective_cny"] == pytest.approx((100 + built) * 10 + 20 * built)
    st = r.storage.set_index("unit")
    assert st["soc_mwh"].max() <= built * (1 + 1e-9)
    none = solve(case(40.0))  # dearer than the 35 CNY a MW earns: nothing built
    cap = none.capacities.set_index("element")
    assert cap.at["s", "optimal_mw"] == pytest.approx(0.0, abs=1e-6)
    # at its lower bound the value is a subgradient: at least what the first MW earns, at most what it costs
    assert 35.0 - 1e-6 <= cap.at["s", "value_cny_per_unit"] <= 40.0 + 1e-6


def test_an_extended_member_raises_its_interface_by_the_rating_it_adds():
    # two equal circuits split the flow evenly; the interface holds their sum to 60 MW, circuit l2 (not
    # extendable) to 50 MW each. Extending l1 by D raises the interface to 60 + D: transfer rises to 100 MW
    # (l2 full) when D = 40, and the dear unit serves the last 20 MW
    lines = [{"name": "l1", "bus0": "a", "bus1": "b", "x": 10, "s_nom": 50, "s_nom_extendable": True,
              "capital_cost": 1.0},
             {"name": "l2", "bus0": "a", "bus1": "b", "x": 10, "s_nom": 50}]
    n = two_bus([120], extra={"lines": lines,
                              "interfaces": [{"name": "ab", "limit_mw": 60, "limit_reverse_mw": 60}],
                              "interface_members": [{"interface": "ab", "branch": "l1"},
                                                    {"interface": "ab", "branch": "l2"}]})
    r = solve(n)
    assert r.capacities.set_index("element").at["l1", "optimal_mw"] == pytest.approx(90.0)
    itf = r.interfaces.iloc[0]
    assert itf["flow_mw"] == pytest.approx(100.0)
    assert itf["limit_mw"] == pytest.approx(100.0) and itf["limit_reverse_mw"] == pytest.approx(100.0)
    assert r.summary["objective_cny"] == pytest.approx(100 * CHEAP + 20 * DEAR + 40 * 1.0)
    # without the growth rule the interface would have held the transfer at 60 MW whatever was built
    fixed = solve(two_bus([120], extra={"lines": [dict(lines[0], s_nom_extendable=False), lines[1]],
                                        "interfaces": [{"name": "ab", "limit_mw": 60, "limit_reverse_mw": 60}],
                                        "interface_members": [{"interface": "ab", "branch": "l1"},
                                                              {"interface": "ab", "branch": "l2"}]}))
    assert fixed.interfaces.iloc[0]["flow_mw"] == pytest.approx(60.0)


def test_an_lp_without_extendable_elements_is_unchanged_by_the_expansion_columns():
    base = two_bus([80, 60, 30])
    priced = two_bus([80, 60, 30], {"s_nom_min": 10.0, "s_nom_max": 90.0, "capital_cost": 60.0})
    a, b = build_lp(base).lp, build_lp(priced).lp
    assert a.size_info() == b.size_info()
    assert (a.matrix != b.matrix).nnz == 0
    for k, v in a.arrays().items():
        np.testing.assert_array_equal(v, b.arrays()[k])
    grown = build_lp(two_bus([80, 60, 30], {"s_nom_extendable": True})).lp
    assert grown.ncols == a.ncols + 1 and grown.nrows == a.nrows + 2 * 3  # a capacity, two ratings per hour


def test_corridor_values_rank_congested_branches_by_their_shadow_prices():
    r = gridopt.dispatch(two_bus([80, 60, 30]))
    corr = r.corridors.set_index("corridor")
    # congested in hours 0 and 1 (load above 40 MW), each worth the price difference per MW
    assert corr.at["l", "value_cny_per_mw"] == pytest.approx(2 * (DEAR - CHEAP))
    assert corr.at["l", "hours_at_limit"] == pytest.approx(2.0)
    assert corr.at["l", "congestion_rent_cny"] == pytest.approx(2 * 40 * (DEAR - CHEAP))
    assert corr.at["l", "rank"] == 1


def test_bad_expansion_bounds_are_refused_naming_the_cell():
    with pytest.raises(CaseError, match=r"lines.csv.*s_nom_min.*above s_nom_max"):
        two_bus([80], {"s_nom_extendable": True, "s_nom_min": 50.0, "s_nom_max": 10.0})


def test_rolling_windows_refuse_capacity_decisions():
    from gridopt.rolling import dispatch_rolling
    n = two_bus([80] * 48, {"s_nom_extendable": True, "capital_cost": 1.0})
    with pytest.raises(UsageError, match="one LP"):
        dispatch_rolling(n, hours=48, window=24)


def test_capacities_table_reports_gas_in_planners_units():
    r = gridopt.dispatch(two_bus([80], {"s_nom_extendable": True, "capital_cost": 1.0}))
    cols = r.capacities.columns
    for c in ("existing_mw", "optimal_mw", "existing_mm3_per_day", "optimal_mm3", "capital_cost", "investment_cny",
              "value_cny_per_unit"):
        assert c in cols
    assert isinstance(r.capacities, pd.DataFrame) and set(r.capacities["component"]) == {"generators", "lines"}
