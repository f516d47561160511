"""Loading, validation (one line per problem naming file, row and column), overlays and round trips."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

import gridopt
from gridopt import CaseError, load_case
from gridopt.cli import main


def problems_of(case) -> list[str]:
    with pytest.raises(CaseError) as exc:
        load_case(case)
    return [str(p) for p in exc.value.problems]


def edit_csv(case, comp, fn):
    f = case / f"{comp}.csv"
    df = pd.read_csv(f, dtype=str, keep_default_na=False)
    df = fn(df)
    df.to_csv(f, index=False)


def edit_series(case, name, fn):
    f = case / "timeseries" / f"{name}.parquet"
    fn(pd.read_parquet(f)).to_parquet(f)


def test_round_trip_keeps_tables_series_and_objective(small, small_case):
    back = load_case(small_case)
    for comp, df in small.tables.items():
        pd.testing.assert_frame_equal(df, back.tables[comp], check_dtype=False, check_index_type=False,
                                      obj=comp) if len(df) else None
    for name, df in small.series.items():
        pd.testing.assert_frame_equal(df, back.series[name], check_freq=False)
    assert back.content_hash() == small.content_hash()
    a, b = gridopt.dispatch(small), gridopt.dispatch(back)
    assert a.summary["objective_cny"] == pytest.approx(b.summary["objective_cny"], rel=1e-9)


def test_year_flags_elements_in_and_out_of_service(small):
    assert "later" not in small.active("generators").index
    later = small.replace(config={**small.config, "year": 2030})
    assert "later" in later.active("generators").index


@pytest.mark.parametrize("mutate, expect", [
    (lambda c: (c / "buses.csv").unlink(), ["buses.csv", "missing file"]),
    (lambda c: edit_csv(c, "generators", lambda d: d.drop(columns=["p_nom"])), ["generators.csv", "p_nom", "missing required column"]),
    (lambda c: edit_csv(c, "generators", lambda d: d.assign(bus=d["bus"].where(d["name"] != "gas_c", "nowhere"))),
     ["generators.csv", "gas_c", "column bus", "unknown buses 'nowhere'"]),
    (lambda c: edit_csv(c, "lines", lambda d: pd.concat([d, d.iloc[:1]])), ["lines.csv", "ab", "duplicate name"]),
    (lambda c: edit_csv(c, "generators", lambda d: d.assign(p_nom=d["p_nom"].where(d["name"] != "pv_b", "-5"))),
     ["generators.csv", "pv_b", "p_nom", "out of range"]),
    (lambda c: edit_csv(c, "generators", lambda d: d.assign(p_nom=d["p_nom"].where(d["name"] != "pv_b", "nan"))),
     ["generators.csv", "pv_b", "p_nom", "NaN"]),
    (lambda c: edit_csv(c, "storage_units", lambda d: d.assign(efficiency_store="1.2")),
     ["storage_units.csv", "phs", "efficiency_store", "(0,1]"]),
    (lambda c: edit_csv(c, "links", lambda d: d.assign(efficiency="0")), ["links.csv", "dc", "efficiency"]),
    (lambda c: edit_csv(c, "lines", lambda d: d.assign(bus1=d["bus1"].where(d["name"] != "bc", "c_hv"))),
     ["lines.csv", "bc", "different voltage"]),
    (lambda c: edit_csv(c, "reservoirs", lambda d: d.assign(downstream=d["name"].map({"up": "down", "down": "up"}))),
     ["reservoirs.csv", "cascade loops"]),
    (lambda c: edit_csv(c, "generators", lambda d: d.assign(colour="red")), ["generators.csv", "colour", "unknown column"]),
    (lambda c: edit_csv(c, "generators", lambda d: d.assign(p_nom=d["p_nom"].where(d["name"] != "pv_b", "lots"))),
     ["generators.csv", "pv_b", "p_nom", "'lots' is not a valid float"]),
    (lambda c: edit_series(c, "load_firm_mw", lambda d: d.drop(d.index[2])), ["load_firm_mw.parquet", "not hourly"]),
    (lambda c: edit_series(c, "load_firm_mw", lambda d: pd.concat([d, d.iloc[-1:]])),
     ["load_firm_mw.parquet", "duplicate timestamp"]),
    (lambda c: edit_series(c, "inflow_m3s", lambda d: d.assign(up=np.where(np.arange(len(d)) == 3, np.nan, d["up"]))),
     ["inflow_m3s.parquet", "up", "NaN/inf"]),
    (lambda c: edit_series(c, "p_max_pu", lambda d: d.assign(pv_b=np.inf)), ["p_max_pu.parquet", "pv_b", "NaN/inf"]),
    (lambda c: edit_series(c, "p_max_pu", lambda d: d.iloc[:-1]), ["p_max_pu.parquet", "rows, but"]),
    (lambda c: edit_series(c, "p_max_pu", lambda d: d.assign(ghost=0.5)), ["p_max_pu.parquet", "ghost", "no element"]),
    (lambda c: edit_series(c, "load_firm_mw", lambda d: d.assign(a=-1.0)), ["load_firm_mw.parquet", "negative"]),
])
def test_each_bad_input_class_gives_a_precise_line(small_case, mutate, expect):
    mutate(small_case)
    lines = problems_of(small_case)
    assert any(all(e in line for e in expect) for line in lines), lines


def test_validate_lists_every_problem_one_line_each_and_exits_1(small_case, capsys):
    edit_csv(small_case, "generators", lambda d: d.assign(p_nom="-1"))
    edit_csv(small_case, "lines", lambda d: d.assign(bus0="nowhere"))
    assert main(["validate", str(small_case)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) >= 5 + 3  # five generators and three lines, each on its own line
    assert all(line.startswith("error: ") and "Traceback" not in line for line in err)


def test_validate_ok_and_info_print(small_case, capsys):
    assert main(["validate", str(small_case)]) == 0
    assert main(["info", str(small_case)]) == 0
    out = capsys.readouterr().out
    assert "LP for" in out and "coal" in out


def test_symlink_out_of_the_case_is_refused(small_case, tmp_path):
    outside = tmp_path / "elsewhere.csv"
    shutil.copy(small_case / "markets.csv", outside)
    (small_case / "markets.csv").unlink()
    (small_case / "markets.csv").symlink_to(outside)
    assert any("symbolic link" in p for p in problems_of(small_case))


def test_overlay_set_remove_add_scale_replace(small):
    spec = {"case": {"year": 2030},
            "set": [{"table": "generators", "names": ["gas_c"], "values": {"p_nom": 999.0}}],
            "remove": [{"table": "lines", "names": ["ac"]}],
            "add": [{"table": "generators", "rows": [{"name": "wind_a", "bus": "a", "carrier": "wind", "p_nom": 50.0}]}],
            "scale": [{"series": "inflow_m3s", "columns": ["up"], "factor": 0.5, "start": "2025-01-01 02:00",
                       "end": "2025-01-01 04:00"}],
            "replace": [{"series": "load_interruptible_mw", "value": 0.0}]}
    n = small.with_overlay(spec, name="test")
    assert n.scenario == "test"
    assert n.tables["generators"].at["gas_c", "p_nom"] == 999.0
    assert "ac" not in n.tables["lines"].index and "ac" not in set(n.tables["interface_members"]["branch"])
    assert "wind_a" in n.tables["generators"].index
    assert n.series["inflow_m3s"]["up"].tolist() == [150, 150, 75, 75, 150, 150]
    assert (n.series["load_interruptible_mw"] == 0).all().all()
    assert "later" in n.active("generators").index
    assert small.tables["generators"].at["gas_c", "p_nom"] == 400.0  # the original is untouched


@pytest.mark.parametrize("spec, expect", [
    ({"set": [{"table": "generators", "names": ["nope"], "values": {"p_nom": 1.0}}]}, "no element 'nope'"),
    ({"set": [{"table": "generators", "names": ["gas_c"], "values": {"colour": 1.0}}]}, "no column 'colour'"),
    ({"remove": [{"table": "cables", "names": ["x"]}]}, "unknown table 'cables'"),
    ({"scale": [{"series": "wind", "factor": 2.0}]}, "no series 'wind'"),
    ({"scale": [{"series": "inflow_m3s", "columns": ["ghost"], "factor": 2.0}]}, "no column 'ghost'"),
    ({"scale": [{"series": "inflow_m3s", "factor": 2.0, "start": "2030-01-01"}]}, "selects no hour"),
    ({"surprise": 1}, "unknown overlay key"),
    ({"set": [{"table": "generators", "names": ["gas_c"], "values": {"p_nom": -3.0}}]}, "out of range"),
])
def test_overlay_naming_anything_missing_is_an_error(small, spec, expect):
    with pytest.raises(CaseError) as exc:
        small.with_overlay(spec)
    assert any(expect in str(p) for p in exc.value.problems), exc.value.problems


def test_unknown_scenario_is_a_usage_error(small_case):
    assert main(["run", str(small_case), "--scenario", "nope", "--hours", "2"]) == 2


def test_export_lp_writes_an_mps_that_solves_to_the_same_objective(small_case, tmp_path, capsys):
    import highspy

    from gridopt.lp import OBJ_SCALE
    path = tmp_path / "model.mps"
    assert main(["export-lp", str(small_case), "--hours", "6", str(path)]) == 0
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(path))
    h.run()
    direct = gridopt.dispatch(load_case(small_case), hours=6)
    assert h.getInfo().objective_function_value / OBJ_SCALE == pytest.approx(direct.summary["objective_cny"], rel=1e-7)


def test_a_slice_begins_as_a_horizon_starting_there_does():
    from gridopt.synthetic import synthetic_network
    net = synthetic_network(4, 72, seed=3)
    plan = net.series["volume_target_hm3"]  # a plan drawing the reservoirs down by a fifth over the horizon
    net = net.replace(series={**net.series, "volume_target_hm3": plan.mul(np.linspace(1.0, 0.8, len(plan)), axis=0)})
    t = net.snapshots[30]
    planned = net.planned_volumes(30)
    assert len(planned) and not np.allclose(planned, net.tables["reservoirs"].loc[planned.index, "volume_initial_hm3"])
    a, b = gridopt.dispatch(net, start=t, hours=24), gridopt.dispatch(net.slice(t, 24))
    first = lambda r: r.tables["hydro"].groupby("reservoir").first()
    pd.testing.assert_series_equal(first(a)["volume_hm3"], first(b)["volume_hm3"], rtol=1e-6)
    assert a.summary["objective_cny"] == pytest.approx(b.summary["objective_cny"], rel=1e-9)
    with pytest.raises(gridopt.UsageError, match="not one of the case's snapshots"):
        net.slice(net.snapshots[0] - pd.Timedelta(hours=1), 24)
