"""The objective and its reported breakdown come from one list of labelled cost terms."""

from __future__ import annotations

import numpy as np
import pytest
from tiny import buses, net, series

import gridopt
from gridopt.formulation import Targets
from gridopt.lp import COST, OBJ_SCALE, PENALTY
from gridopt.synthetic import synthetic_network


def _cost_vector_from_terms(lp) -> tuple[np.ndarray, float]:
    """The objective's coefficients and constant rebuilt from the registered terms alone."""
    c = np.zeros(lp.ncols)
    const = 0.0
    for t in lp.costs:
        if t.block is not None and t.block.size:
            c[t.block.idx.ravel()] += t.coef.ravel() * OBJ_SCALE
        if t.constant is not None:
            const += float(t.constant.sum()) * OBJ_SCALE
    return c, const


def _fee_hook(ctx):
    """A user's hook that adds a priced variable: one fixed unit at 7 CNY in every hour."""
    ctx.lp.add_variables("fee", ["fee"], 1.0, 1.0, 7.0)


CASES = {
    "shipped": lambda: (gridopt.load_case("sichuan_chongqing"),
                        dict(start="2025-08-01", hours=24, carbon_price=60.0, carbon_caps={"Chongqing": 3e5})),
    "synthetic": lambda: (synthetic_network(8, 24, seed=3), dict(hours=24)),
    "window": lambda: (gridopt.load_case("sichuan_chongqing"),
                       dict(start="2025-06-01", hours=24, hooks=(_fee_hook,),
                            targets=Targets(water_value_cny_per_hm3={"Baihetan": 3e5, "Xiluodu": 2e5},
                                            soc_value_cny_per_mwh={"PS_Lianghekou": 300.0}))),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_objective_is_the_sum_of_registered_terms(case):
    n, kw = CASES[case]()
    ctx = gridopt.build_lp(n, **kw)
    c, const = _cost_vector_from_terms(ctx.lp)
    np.testing.assert_allclose(ctx.lp.arrays()["col_cost"], c, rtol=1e-12, atol=1e-15)
    assert ctx.lp.offset == pytest.approx(const, rel=1e-12)
    r = gridopt.dispatch(n, **kw)
    s = r.summary
    other = sum(s["other_objective_cny"].values())
    assert s["objective_cny"] == pytest.approx(s["cost_total_cny"] + s["penalties_total_cny"] + other, rel=1e-9)
    if case == "window":  # terminal values and the hook's cost are in the objective, outside cost and penalties
        assert s["other_objective_cny"]["terminal_value_cny"] < 0
        assert s["other_objective_cny"]["other_cny"] == pytest.approx(7 * 24)


def test_breakdown_keeps_its_labels_when_a_family_is_empty():
    n = net({"buses": buses("a"),
             "generators": [{"name": "g", "bus": "a", "carrier": "coal", "p_nom": 100, "marginal_cost": 10}]},
            {"load_firm_mw": series(2, a=[50.0, 60.0])}, hours=2)
    s = gridopt.dispatch(n).summary
    for label in ("fuel_cny", "operation_cny", "start_up_cny", "carbon_cny", "imports_cny", "export_revenue_cny",
                  "transmission_cny"):
        assert label in s["cost_cny"]
    for label in ("curtailment_cny", "spill_cny", "rule_curve_cny", "eco_flow_cny", "end_target_cny",
                  "export_shortfall_cny", "interruptible_shed_cny", "firm_shed_cny"):
        assert label in s["penalties_cny"]
    assert s["cost_cny"]["operation_cny"] == pytest.approx(110 * 10)


def test_labels_by_hand_on_one_bus():
    """Fuel, operation, carbon, curtailment and shed, each computed here from the dispatch it implies."""
    n = net({"buses": buses("a"),
             "generators": [{"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 30, "marginal_cost": 5,
                             "fuel_price": 20.0, "heat_rate": 9.0, "co2_t_per_mwh": 0.9},
                            {"name": "pv", "bus": "a", "carrier": "pv", "p_nom": 50, "marginal_cost": 0}]},
            {"load_firm_mw": series(2, a=[40.0, 80.0]), "p_max_pu": series(2, pv=[1.0, 0.6])}, hours=2,
            penalties={"curtailment_cny_per_mwh": 2.0, "spill_cny_per_mwh": 0.0, "voll_firm_cny_per_mwh": 9000.0},
            carbon_price=100.0)
    s = gridopt.dispatch(n).summary
    # hour 0: pv 40 (10 curtailed), coal 0; hour 1: pv 30, coal 30, 20 MW shed
    cost, pen = s["cost_cny"], s["penalties_cny"]
    assert cost["fuel_cny"] == pytest.approx(30 * 20 * 9)
    assert cost["operation_cny"] == pytest.approx(30 * 5)
    assert cost["carbon_cny"] == pytest.approx(30 * 0.9 * 100)
    assert pen["curtailment_cny"] == pytest.approx(10 * 2)
    assert pen["firm_shed_cny"] == pytest.approx(20 * 9000)
    assert s["objective_cny"] == pytest.approx(sum(cost.values()) + sum(pen.values()), rel=1e-12)


def test_cost_kind_is_checked():
    n = synthetic_network(2, 2, seed=1)
    ctx = gridopt.build_lp(n, hours=2)
    with pytest.raises(ValueError, match="kind"):
        ctx.lp.add_cost(ctx.lp.variables["gen_p"], 1.0, "x_cny", "bonus")
    assert {t.kind for t in ctx.lp.costs} == {COST, PENALTY}
