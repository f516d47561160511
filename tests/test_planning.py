"""The planning study: scenarios that build on others, the plan_2030 scenario, and who pays for what."""

from __future__ import annotations

import pytest
from tiny import buses, net, series

import gridopt
from gridopt.errors import UsageError


def two_regions(cc=60.0):
    """Cheap power in region A, dear in B, load in B, an extendable line between them."""
    return net({"buses": buses("a", "b", region=["A", "B"]),
                "generators": [{"name": "cheap", "bus": "a", "carrier": "coal", "p_nom": 500, "marginal_cost": 10},
                               {"name": "dear", "bus": "b", "carrier": "gas", "p_nom": 500, "marginal_cost": 50}],
                "lines": [{"name": "l", "bus0": "a", "bus1": "b", "x": 10, "s_nom": 40, "s_nom_extendable": True,
                           "s_nom_min": 40, "capital_cost": cc}]},
               {"load_firm_mw": series(3, b=[80, 60, 30])}, hours=3)


def test_the_objective_splits_by_region_and_a_shared_line_is_paid_by_both_ends():
    r = gridopt.dispatch(two_regions())
    by = r.summary["by_region"]
    assert sum(v["total_cny"] for v in by.values()) == pytest.approx(r.summary["objective_cny"], rel=1e-12)
    assert by["A"]["investment_cny"] == pytest.approx(600.0) and by["B"]["investment_cny"] == pytest.approx(600.0)
    assert by["A"]["cost_cny"] == pytest.approx((60 + 60 + 30) * 10)  # the cheap unit's fuel
    assert by["B"]["cost_cny"] == pytest.approx(20 * 50)
    # B pays for its load at its own price; A's generator earns A's
    pr = r.prices.set_index(["hour", "bus"])["price_cny_per_mwh"]
    assert by["B"]["load_payments_cny"] == pytest.approx(sum(pr.xs("b", level="bus") * [80, 60, 30]))


def test_a_scenario_builds_on_others_in_order(tmp_path):
    case = gridopt.write_case(two_regions(), tmp_path / "c")
    (case / "scenarios").mkdir(exist_ok=True)
    (case / "scenarios" / "dear.toml").write_text('[case]\ncarbon_price = 50.0\n')
    (case / "scenarios" / "plan.toml").write_text('builds_on = ["dear"]\n[case]\nyear = 2030\n')
    (case / "scenarios" / "loop.toml").write_text('builds_on = ["loop"]\n')
    n = gridopt.load_case(case).with_scenario("plan")
    assert n.config["carbon_price"] == 50.0 and n.config["year"] == 2030
    assert n.scenario == "plan"  # named as asked for; what it builds on is part of it
    with pytest.raises(UsageError, match="builds on itself"):
        gridopt.load_case(case).with_scenario("loop")


def test_plan_2030_builds_on_the_2030_outlook_and_makes_capacity_decisions():
    n = gridopt.load_case("sichuan_chongqing").with_scenario("plan_2030")
    assert n.scenario == "plan_2030" and n.config["year"] == 2030
    assert set(n.extendable()) == {"generators", "lines", "storage_units", "gas_storages"}
    assert n.config["periods"].startswith("typical-days:")
    lines = n.active("lines")
    ext = lines[lines["s_nom_extendable"]]
    assert (ext["s_nom_min"] == ext["s_nom"]).all()  # nothing existing is retired
    assert (ext["s_max_pu"] == 0.7).all()


@pytest.mark.slow
def test_plan_2030_short_form_builds_something_and_its_regions_add_up(tmp_path):
    from gridopt.periods import with_periods
    n = with_periods(gridopt.load_case("sichuan_chongqing").with_scenario("plan_2030"), "typical-days:2")
    r = gridopt.dispatch(n)
    s = r.summary
    assert s["status"] == "optimal"
    assert s["investment_cny"] > 0 and not r.checks
    cap = r.capacities[r.capacities["extendable"]]
    grown = cap[cap["optimal_mw"].fillna(cap["optimal_mm3"]) > cap["existing_mw"].fillna(cap["existing_mm3"]) + 1]
    assert len(grown) > 0
    total = sum(v["total_cny"] for v in s["by_region"].values())
    assert total == pytest.approx(s["objective_cny"], rel=1e-9)
    assert sum(v["investment_cny"] for v in s["by_region"].values()) == pytest.approx(s["investment_cny"], rel=1e-9)


def test_a_plan_is_re_dispatched_with_its_capacities_fixed(tmp_path):
    import json

    from gridopt.cli import main
    case = gridopt.write_case(two_regions(), tmp_path / "c")
    assert main(["run", str(case), "--out", str(tmp_path / "plan")]) == 0
    plan = json.loads((tmp_path / "plan" / "summary.json").read_text())
    assert plan["capacity_built"]["lines"]["l"] == pytest.approx(60.0)
    assert main(["run", str(case), "--capacities", str(tmp_path / "plan"), "--out", str(tmp_path / "again")]) == 0
    again = json.loads((tmp_path / "again" / "summary.json").read_text())
    assert again["capacity_built"] == {} and again["investment_cny"] == 0.0
    assert again["objective_cny"] == pytest.approx(plan["objective_cny"] - plan["investment_cny"])
    assert main(["run", str(case), "--capacities", str(tmp_path), "--out", str(tmp_path / "x")]) == 2


def test_the_no_build_case_fixes_every_capacity_at_its_existing_value(tmp_path):
    import json

    from gridopt.cli import main
    case = gridopt.write_case(two_regions(), tmp_path / "c")
    assert main(["run", str(case), "--capacities", "existing", "--out", str(tmp_path / "none")]) == 0
    s = json.loads((tmp_path / "none" / "summary.json").read_text())
    assert s["capacity_built"] == {} and s["investment_cny"] == 0.0
    assert s["objective_cny"] == pytest.approx((40 + 40 + 30) * 10 + (40 + 20) * 50)
