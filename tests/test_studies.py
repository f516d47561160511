"""Studies across runs: compare, sweep (local processes and a dask cluster), the cost-emissions frontier."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from tiny import buses, net, series

import gridopt
from gridopt.cli import main
from gridopt.plot.folders import snapshot_weights
from gridopt.studies import exports_by_link_mwh
from gridopt.studies.sweeps import TIMING_KEYS

HOURS = 3


def two_fuels(export: bool = False):
    """One region, 3 hours of 100 MW firm + 20 MW interruptible load, wind 25 MW, coal (10 CNY/MWh, 1 t/MWh) and
    gas (30 CNY/MWh, 0.4 t/MWh). At least cost coal covers the 95 MW left: 285 t, 2,850 CNY. Replacing coal
    by gas costs 20 CNY per 0.6 t avoided, 33.33 CNY/t, down to 114 t at 8,550 CNY. With `export`, a 20 MW
    link from the bus sells to a market at 50 CNY/MWh at its far end: it runs full, from coal."""
    tables = {"buses": buses("a") + buses("x", region="external"),
              "generators": [
                  {"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 300.0, "marginal_cost": 10.0,
                   "co2_t_per_mwh": 1.0},
                  {"name": "gas", "bus": "a", "carrier": "gas", "p_nom": 300.0, "marginal_cost": 30.0,
                   "co2_t_per_mwh": 0.4},
                  {"name": "wind", "bus": "a", "carrier": "wind", "p_nom": 50.0}]}
    if export:
        tables["links"] = [{"name": "dc", "bus0": "a", "bus1": "x", "p_nom": 20.0, "efficiency": 0.9}]
        tables["markets"] = [{"name": "east", "bus": "x", "buy_max_mw": 100.0, "buy_price": 50.0}]
    ser = {"load_firm_mw": series(HOURS, a=100.0), "load_interruptible_mw": series(HOURS, a=20.0),
           "p_max_pu": series(HOURS, wind=0.5)}
    return net(tables, ser, hours=HOURS, regions=["A"], carbon_price=0.0, name="fuels")


@pytest.fixture
def fuels_case(tmp_path):
    return gridopt.write_case(two_fuels(export=True), tmp_path / "fuels")


@pytest.fixture
def small_with_scenario(small_case):
    (small_case / "scenarios").mkdir(exist_ok=True)
    (small_case / "scenarios" / "dry.toml").write_text('[[scale]]\nseries = "inflow_m3s"\nfactor = 0.5\n')
    return small_case


def run(case, out, *args) -> str:
    assert main(["run", str(case), "--out", str(out), *args]) == 0
    return str(out)


# ---- compare -----------------------------------------------------------------------------------------------

def test_compare_of_a_run_with_itself_is_all_zeros(small_case, tmp_path):
    a = run(small_case, tmp_path / "a")
    table = gridopt.compare([a, a])
    diff = table["a#2 - a#1"]
    assert len(table) > 50 and (diff.dropna() == 0).all()
    assert diff.isna().sum() == table["a#1"].isna().sum()  # missing only where the figure itself is


def test_compare_gives_the_hand_checked_differences(fuels_case, tmp_path, capsys):
    a = run(fuels_case, tmp_path / "free")
    b = run(fuels_case, tmp_path / "priced", "--carbon-price", "10")
    table = gridopt.compare([a, b]).set_index(["quantity", "item"])
    d = table["priced - free"]
    # coal runs 95 MW for the load and 20 MW for the link, 3 hours: 345 t at 10 CNY/t
    assert table.loc[("emissions_t", "system"), "free"] == pytest.approx(345.0)
    assert d[("objective_cny", "")] == pytest.approx(3450.0)
    assert d[("cost_cny", "carbon_cny")] == pytest.approx(3450.0)
    assert d[("emissions_t", "system")] == pytest.approx(0.0)
    # the link sends 20 MW for 3 hours from the in-region bus; the market pays for the 18 MW arriving
    assert table.loc[("exports_by_link_mwh", "dc"), "free"] == pytest.approx(60.0)
    assert table.loc[("export_revenue_cny", ""), "free"] == pytest.approx(-50.0 * 18 * 3)
    assert table.loc[("cost_gross_cny", "without export revenue"), "free"] == pytest.approx(
        (95 + 20) * 3 * 10.0)
    assert table.loc[("generation_mwh", "A/coal"), "free"] == pytest.approx(345.0)
    assert main(["compare", a, b, "--out", str(tmp_path / "c.md")]) == 0
    assert "objective_cny" in capsys.readouterr().out
    assert "| objective_cny |" in (tmp_path / "c.md").read_text()
    assert main(["compare", a, b, "--out", str(tmp_path / "c.csv")]) == 0
    csv = pd.read_csv(tmp_path / "c.csv")
    assert csv.loc[csv["quantity"] == "objective_cny", "priced - free"].item() == pytest.approx(3450.0)


def test_compare_refuses_runs_of_different_horizons(fuels_case, tmp_path, capsys):
    a = run(fuels_case, tmp_path / "two", "--hours", "2")
    b = run(fuels_case, tmp_path / "three")
    capsys.readouterr()
    assert main(["compare", a, b]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "different horizons" in err[0]
    assert main(["compare", a, b, "--allow-different-horizons"]) == 0
    assert main(["compare", a]) == 2


def test_exports_by_link_count_what_leaves_the_regions_at_the_in_region_end():
    hours = pd.date_range("2025-01-01", periods=2, freq="h")
    rows = []
    for h in hours:
        rows += [{"hour": h, "branch": "out", "bus0": "a", "bus1": "x", "p0_mw": 100.0, "p1_mw": -95.0, "forward_mw": 100.0},
                 {"hour": h, "branch": "in", "bus0": "x", "bus1": "a", "p0_mw": 50.0, "p1_mw": -45.0, "forward_mw": 50.0},
                 {"hour": h, "branch": "inside", "bus0": "a", "bus1": "b", "p0_mw": 10.0, "p1_mw": -9.0, "forward_mw": 10.0},
                 {"hour": h, "branch": "line", "bus0": "a", "bus1": "x", "p0_mw": 7.0, "p1_mw": -7.0, "forward_mw": np.nan}]
    regions = {"a": "A", "b": "A", "x": "external"}
    out = exports_by_link_mwh(pd.DataFrame(rows), regions, pd.Series([3.0, 1.0], index=hours))
    assert out == {"out": pytest.approx(400.0), "in": pytest.approx(-180.0)}


def test_weights_of_representative_periods_come_from_the_summary():
    hours = pd.DatetimeIndex(list(pd.date_range("2025-01-02", periods=2, freq="h"))
                             + list(pd.date_range("2025-03-01", periods=2, freq="h")))
    s = {"periods": {"hours_each": 2, "origin": ["2025-01-02 00:00:00", "2025-03-01 00:00:00"], "weights": [10.0, 5.0]},
         "represented_hours": 30.0}
    assert snapshot_weights(s, hours).tolist() == [10.0, 10.0, 5.0, 5.0]
    assert snapshot_weights({"represented_hours": 4.0}, hours).tolist() == [1.0] * 4


# ---- sweep -------------------------------------------------------------------------------------------------

def _comparable(table: pd.DataFrame) -> pd.DataFrame:
    drop = [c for c in table.columns if c in TIMING_KEYS or c == "reused"]
    return table.drop(columns=drop).sort_values("run").reset_index(drop=True)


def test_a_sweep_on_local_processes_and_on_a_dask_cluster_gives_the_same_summaries(small_with_scenario, tmp_path):
    distributed = pytest.importorskip("distributed")
    vary = {"carbon_price": [0, 200], "scenario": ["base", "dry"]}
    local = gridopt.sweep(small_with_scenario, vary, tmp_path / "local", processes=2)
    # one worker thread: HiGHS solves do not run side by side in threads of one process
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        remote = gridopt.sweep(small_with_scenario, vary, tmp_path / "dask", executor=client)
        # the command line reaches the same cluster by its scheduler's address
        assert main(["sweep", str(small_with_scenario), "--vary", "carbon_price=0", "--scheduler",
                     cl.scheduler_address, "--out", str(tmp_path / "cli")]) == 0
    assert (local["status"] == "optimal").all() and len(local) == 4
    assert local["objective_cny"].nunique() == 4  # every combination is a different run
    pd.testing.assert_frame_equal(_comparable(local), _comparable(remote))
    on_disk = pd.read_parquet(tmp_path / "dask" / "sweep.parquet")
    assert sorted(on_disk["run"]) == sorted(p.name for p in (tmp_path / "dask").iterdir() if p.is_dir())
    summary = json.loads((tmp_path / "local" / "carbon_price=200_scenario=dry" / "summary.json").read_text())
    assert summary["carbon_price_cny_per_t"] == 200.0 and summary["scenario"] == "dry"


def test_a_resumed_sweep_redoes_nothing(fuels_case, tmp_path):
    vary = {"carbon_price": [0, 10], "scale.load_firm_mw": [1, 1.1]}
    first = gridopt.sweep(fuels_case, vary, tmp_path / "sw", processes=2)
    assert not first["reused"].any() and (first["status"] == "optimal").all()
    # load scaled by 1.1: 330 MWh of firm load instead of 300, plus 60 interruptible
    assert sorted(first["load_mwh"].round(6).unique()) == [360.0, 390.0]
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "sw").glob("*/summary.json")}
    again = gridopt.sweep(fuels_case, vary, tmp_path / "sw", processes=2)
    assert again["reused"].all()
    assert stamps == {p: p.stat().st_mtime_ns for p in (tmp_path / "sw").glob("*/summary.json")}
    pd.testing.assert_frame_equal(_comparable(first), _comparable(again))
    # a changed setting of the sweep is a different run: solved again
    other = gridopt.sweep(fuels_case, vary, tmp_path / "sw", processes=2, hours=2)
    assert not other["reused"].any()


def test_sweep_keys_reach_the_run(fuels_case, tmp_path):
    table = gridopt.sweep(fuels_case, {"carbon_cap.system": [1000, 300], "scale.generators.marginal_cost": [1, 2]},
                          tmp_path / "sw", processes=2).set_index(["vary.carbon_cap.system",
                                                                    "vary.scale.generators.marginal_cost"])
    assert (table["status"] == "optimal").all()
    # uncapped: coal makes 115 MW for 3 h (345 t) and the link earns 50 CNY/MWh on 18 MW
    assert table.loc[(1000.0, 1.0), "objective_cny"] == pytest.approx(345 * 10.0 - 50 * 18 * 3)
    assert table.loc[(1000.0, 2.0), "objective_cny"] == pytest.approx(345 * 20.0 - 50 * 18 * 3)
    assert table.loc[(300.0, 1.0), "emissions_t.system"] == pytest.approx(300.0, rel=1e-6)
    assert table.loc[(300.0, 1.0), "carbon_shadow_price_cny_per_t.cap:system"] == pytest.approx(20 / 0.6, rel=1e-6)


def test_a_failing_run_is_recorded_and_the_others_finish(small_with_scenario, tmp_path, capsys):
    out = tmp_path / "sw"
    rc = main(["sweep", str(small_with_scenario), "--vary", "scenario=dry,nosuch", "--vary", "carbon_price=0,50",
               "--vary", "penalties.voll_firm_cny_per_mwh=20000", "--out", str(out), "--processes", "2"])
    assert rc == 3
    err = capsys.readouterr().err
    assert "2 of 4 runs failed" in err and "unknown scenario 'nosuch'" in err
    table = pd.read_parquet(out / "sweep.parquet")
    assert table.set_index("run")["status"].to_dict() == {
        "scenario=dry_carbon_price=0_penalties.voll_firm_cny_per_mwh=20000": "optimal",
        "scenario=dry_carbon_price=50_penalties.voll_firm_cny_per_mwh=20000": "optimal",
        "scenario=nosuch_carbon_price=0_penalties.voll_firm_cny_per_mwh=20000": "error",
        "scenario=nosuch_carbon_price=50_penalties.voll_firm_cny_per_mwh=20000": "error"}
    assert table["vary.carbon_price"].tolist() == [0.0, 50.0, 0.0, 50.0]


def test_sweep_keys_are_checked_before_any_run(fuels_case, tmp_path, capsys):
    for bad in ("carbon_price=cheap", "no_such_setting=1", "scale.nothing=2", "carbon_cap=5"):
        assert main(["sweep", str(fuels_case), "--vary", bad, "--out", str(tmp_path / "sw")]) == 2
    assert main(["sweep", str(fuels_case), "--vary", "carbon_price=0", "--scheduler", "tcp://127.0.0.1:9",
                 "--processes", "2", "--out", str(tmp_path / "sw")]) == 2
    assert not (tmp_path / "sw" / "sweep.parquet").exists()


# ---- pareto ------------------------------------------------------------------------------------------------

def test_the_frontier_is_monotone_and_ends_at_the_least_cost_and_least_emission_runs(tmp_path):
    n = two_fuels()
    table = gridopt.pareto(n, points=4, out=tmp_path / "p", processes=2)
    assert (table["status"] == "optimal").all()
    # hand-checked: 285 t at 2,850 CNY down to 114 t at 8,550 CNY, 33.33 CNY/t all along
    assert table["emissions_t"].to_numpy() == pytest.approx([285.0, 228.0, 171.0, 114.0], rel=1e-5)
    assert table["cost_cny"].to_numpy() == pytest.approx([2850.0, 4750.0, 6650.0, 8550.0], rel=1e-5)
    assert table["carbon_shadow_price_cny_per_t"].iloc[1:].to_numpy() == pytest.approx([20 / 0.6] * 3, rel=1e-6)
    assert (np.diff(table["emissions_t"]) < 0).all() and (np.diff(table["cost_cny"]) > 0).all()
    least_cost = gridopt.dispatch(n, carbon_price=0.0).summary
    assert table["cost_cny"].iloc[0] == pytest.approx(least_cost["objective_cny"])
    assert table["emissions_t"].iloc[0] == pytest.approx(least_cost["emissions_t"]["system"])
    least_emission = table.attrs["least_emission"]
    assert table["emissions_t"].iloc[-1] == pytest.approx(least_emission["emissions_t"], rel=1e-5)
    # shedding the interruptible load would cut emissions more; the frontier keeps it served at both ends
    assert table["load_shed_mwh"].to_numpy() == pytest.approx([least_cost["load_shed_mwh"]["total"]] * 4, abs=1e-6)
    assert least_emission["load_shed_mwh"] == pytest.approx(least_cost["load_shed_mwh"]["total"], abs=1e-6)
    assert (tmp_path / "p" / "pareto.png").stat().st_size > 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "p" / "pareto.parquet"), table)


def test_pareto_command(fuels_case, tmp_path, capsys):
    assert main(["pareto", str(fuels_case), "--points", "3", "--out", str(tmp_path / "p")]) == 0
    table = pd.read_parquet(tmp_path / "p" / "pareto.parquet")
    assert len(table) == 3 and table["emissions_t"].is_monotonic_decreasing
    assert main(["pareto", str(fuels_case), "--points", "1", "--out", str(tmp_path / "q")]) == 2


def test_the_library_calls_stay_functions_once_their_modules_are_loaded():
    import gridopt.plot.runs
    import gridopt.studies.comparison
    import gridopt.studies.frontier
    import gridopt.studies.sweeps
    assert all(callable(getattr(gridopt, n)) for n in ("compare", "sweep", "pareto", "plot"))
    assert callable(gridopt.studies.compare) and callable(gridopt.studies.pareto)
