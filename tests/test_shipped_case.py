"""The shipped Sichuan–Chongqing case: a week's physics recomputed from its own written results."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_lp_properties import check_physics

import gridopt
from gridopt.cli import main

SUMMARY_KEYS = {"case", "scenario", "start", "hours", "status", "gridopt_version", "highspy_version", "objective_cny",
                "cost_cny", "penalties_cny", "emissions_t", "load_shed_mwh", "curtailment_mwh", "spill_hm3",
                "interchange_sc_to_cq_mwh", "carbon_shadow_price_cny_per_t", "build_seconds", "solve_seconds", "rows",
                "columns", "nonzeros", "input_hash"}


@pytest.fixture(scope="module")
def net():
    return gridopt.load_case("sichuan_chongqing")


@pytest.fixture(scope="module")
def summer_week(net, tmp_path_factory):
    out = tmp_path_factory.mktemp("results") / "summer"
    assert main(["run", "sichuan_chongqing", "--start", "2025-07-01", "--hours", "168", "--out", str(out)]) == 0
    return out


def read_results(folder) -> gridopt.results.Result:
    tables = {p.stem: pd.read_parquet(p) for p in folder.glob("*.parquet")}
    return gridopt.results.Result(summary=json.loads((folder / "summary.json").read_text()), tables=tables)


@pytest.mark.slow
def test_summer_week_written_results_prove_their_physics(net, summer_week):
    r = read_results(summer_week)
    assert SUMMARY_KEYS <= set(r.summary)
    assert r.summary["status"] == "optimal" and r.summary["checks"] == []
    assert set(gridopt.results.TABLES) <= set(r.tables)
    check_physics(net, r)
    # a wet-season week: hydro carries most of Sichuan, exports run, and nobody is shed
    s = r.summary
    hydro = s["generation_mwh"].get("hydro_reservoir", 0) + s["generation_mwh"].get("hydro", 0)
    assert hydro > 0.6 * sum(s["generation_mwh"].values())
    assert s["load_shed_mwh"]["total"] == pytest.approx(0.0, abs=1.0)
    exports = r.flows[(r.flows["kind"] == "dc") & r.flows["bus1"].str.startswith("EXT_")]
    assert exports["p0_mw"].sum() > 0


@pytest.mark.slow
def test_winter_week_gas_balances_and_heat_rates(net):
    r = gridopt.dispatch(net, start="2025-01-13", hours=168)
    assert r.summary["status"] == "optimal" and not r.checks
    check_physics(net, r)
    assert r.summary["gas"]["power_burn_mm3"] > 0
    assert (r.gas["price_cny_per_kcm"] > 0).all()


@pytest.mark.parametrize("bus, hour", [("CQ_C", 19), ("SC_CD", 10)])
def test_shipped_case_price_matches_perturbed_re_solve(net, bus, hour):
    start = "2025-01-13"
    base = gridopt.dispatch(net, start=start, hours=24, reserves=False)
    when = pd.Timestamp(start) + pd.Timedelta(hours=hour)
    price = base.prices.set_index(["bus", "hour"]).at[(bus, when), "price_cny_per_mwh"]
    eps = 1.0
    costs = []
    for sign in (-1, 1):
        load = net.series["load_firm_mw"].copy()
        load.loc[when, bus] += sign * eps
        r = gridopt.dispatch(net.replace(series={**net.series, "load_firm_mw": load}), start=start, hours=24, reserves=False)
        costs.append(r.summary["objective_cny"])
    c0 = base.summary["objective_cny"]
    down, up = (c0 - costs[0]) / eps, (costs[1] - c0) / eps
    tol = 1e-3 * max(1.0, abs(price))
    assert down - tol <= price <= up + tol


def test_make_run_output_and_scenarios_load(net):
    for name in net.scenarios:
        scen = net.with_scenario(name)
        assert scen.scenario == name
    drought = net.with_scenario("drought_2022")
    assert drought.series["inflow_m3s"].loc["2025-08"].sum().sum() < net.series["inflow_m3s"].loc["2025-08"].sum().sum()
    no_uhv = net.with_scenario("no_uhv_ac")
    assert not (no_uhv.tables["lines"]["bus0"].str.startswith("UHV_")).any()


def test_installed_capacity_matches_published_provincial_totals(net):
    from gridopt.report import capacity_table
    cap = capacity_table(net).set_index(["region", "carrier"])
    for key in [("Sichuan", "coal+gas"), ("Sichuan", "pv+wind"), ("Chongqing", "coal+gas"), ("Chongqing", "hydro"),
                ("Chongqing", "pv"), ("Chongqing", "wind"), ("Chongqing", "phs")]:
        row = cap.loc[key]
        assert row["case_mw"] == pytest.approx(row["published_mw"], rel=0.02), key
    # Sichuan hydro counts the Jinsha border plants whole (official figures count them in part)
    assert 1.0 <= cap.loc[("Sichuan", "hydro"), "case_mw"] / cap.loc[("Sichuan", "hydro"), "published_mw"] < 1.25


def test_interior_point_codes_agree_and_auto_picks_by_size(net, tmp_path, monkeypatch):
    """IPX and HiPO (where highspy-extras is installed) reach the same optimum and both written solutions
    prove their physics; the default picks IPX below HIPO_MIN_NONZEROS and HiPO from there, and the summary
    says which code ran."""
    from gridopt.solvers import highs
    ipx = gridopt.dispatch(net, start="2025-07-01", hours=24)
    assert ipx.summary["nonzeros"] < highs.HIPO_MIN_NONZEROS and ipx.summary["algorithm"] == "ipx"
    if not highs.has_solver("hipo"):
        pytest.skip("this highspy has no HiPO (highspy-extras is not installed)")
    out = tmp_path / "hipo"
    assert main(["run", "sichuan_chongqing", "--start", "2025-07-01", "--hours", "24", "--algorithm", "hipo",
                 "--out", str(out)]) == 0
    r = read_results(out)
    assert r.summary["algorithm"] == "hipo" and r.summary["checks"] == []
    check_physics(net, r)
    assert r.summary["objective_cny"] == pytest.approx(ipx.summary["objective_cny"], rel=1e-7)
    monkeypatch.setattr(highs, "HIPO_MIN_NONZEROS", ipx.summary["nonzeros"])
    assert gridopt.dispatch(net, start="2025-07-01", hours=24).summary["algorithm"] == "hipo"
