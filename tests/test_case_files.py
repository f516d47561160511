"""Case folders and their series, scenario dates, lists of scenarios and the default horizon.

Rules under test: a case's series are in its own `timeseries/`, else (only for a case folder inside a
`networks/` folder) in the sibling `timeseries/<case folder>/`; series the tables need are never replaced by
defaults; dated scenario changes hold only within their dates; scenarios combine in order.
"""

from __future__ import annotations

import shutil
import tomllib

import pandas as pd
import pytest

import gridopt
from gridopt import CaseError, load_case
from gridopt.casefiles import repo_root, series_dirs, timeseries_dir
from gridopt.errors import UsageError
from gridopt.formulation import DispatchOptions


def _messages(exc: CaseError) -> str:
    return "\n".join(f"{p.file} {p.column} {p.message}" for p in exc.problems)


# ---- where series are found -------------------------------------------------------------------------

def test_copied_case_with_its_series_loads_anywhere(small_case, tmp_path):
    copy = shutil.copytree(small_case, tmp_path / "elsewhere" / "renamed")
    net = load_case(copy)
    assert timeseries_dir(copy) == (copy / "timeseries").absolute()
    assert net.series["load_firm_mw"].sum().sum() > 0


def test_copied_case_without_its_series_is_an_error_naming_where_it_looked(small_case, tmp_path):
    copy = shutil.copytree(small_case, tmp_path / "mycase", ignore=shutil.ignore_patterns("timeseries"))
    with pytest.raises(CaseError) as exc:
        load_case(copy)
    text = _messages(exc.value)
    assert "missing series folder" in text and str(copy / "timeseries") in text


def test_copy_of_the_shipped_case_does_not_borrow_its_series(tmp_path):
    # a copy named like the shipped case but outside networks/ must not pick up timeseries/sichuan_chongqing
    src = repo_root() / "networks" / "sichuan_chongqing"
    copy = shutil.copytree(src, tmp_path / "sichuan_chongqing", ignore=shutil.ignore_patterns("timeseries"))
    with pytest.raises(CaseError) as exc:
        load_case(copy)
    assert "missing series folder" in _messages(exc.value)
    assert "default_hours" not in _messages(exc.value)  # the missing folder is reported alone


def test_case_in_a_networks_folder_finds_the_sibling_timeseries(small_case, tmp_path):
    root = tmp_path / "repo"
    case = root / "networks" / "mine"
    shutil.copytree(small_case, case, ignore=shutil.ignore_patterns("timeseries"))
    shutil.copytree(small_case / "timeseries", root / "timeseries" / "mine")
    assert series_dirs(case)[1] == (root / "timeseries" / "mine").absolute()
    net = load_case(case)
    assert "load_firm_mw" in net.series


def test_sibling_rule_needs_the_networks_folder(small_case, tmp_path):
    # the same layout under another folder name is not the repository layout
    case = tmp_path / "repo" / "cases" / "mine"
    shutil.copytree(small_case, case, ignore=shutil.ignore_patterns("timeseries"))
    shutil.copytree(small_case / "timeseries", tmp_path / "repo" / "timeseries" / "mine")
    assert len(series_dirs(case)) == 1
    with pytest.raises(CaseError, match="missing series folder"):
        load_case(case)


def test_own_timeseries_wins_over_the_sibling(small_case, tmp_path):
    root = tmp_path / "repo"
    case = root / "networks" / "mine"
    shutil.copytree(small_case, case)
    (root / "timeseries" / "mine").mkdir(parents=True)  # empty: would fail if it were read
    assert timeseries_dir(case) == (case / "timeseries").absolute()
    load_case(case)


def test_no_load_series_is_an_error_naming_load_firm_mw(small_case):
    for f in ("load_firm_mw", "load_interruptible_mw"):
        (small_case / "timeseries" / f"{f}.parquet").unlink()
    with pytest.raises(CaseError) as exc:
        load_case(small_case)
    text = _messages(exc.value)
    assert "load_firm_mw.parquet" in text and "no load" in text


def test_load_series_naming_no_bus_is_an_error(small_case):
    for f in ("load_firm_mw", "load_interruptible_mw"):
        (small_case / "timeseries" / f"{f}.parquet").unlink()
    # a series that names no bus of the case holds no load either
    idx = pd.date_range("2025-01-01", periods=6, freq="h", name="snapshot")
    pd.DataFrame(index=idx).to_parquet(small_case / "timeseries" / "load_firm_mw.parquet")
    with pytest.raises(CaseError, match="no load series for any bus"):
        load_case(small_case)


def test_interruptible_load_alone_is_load(small_case):
    (small_case / "timeseries" / "load_firm_mw.parquet").unlink()
    load_case(small_case)


def test_pv_without_availability_and_reservoir_without_inflow_are_errors(small_case):
    ts = small_case / "timeseries"
    pd.read_parquet(ts / "p_max_pu.parquet").drop(columns=["pv_b"]).to_parquet(ts / "p_max_pu.parquet")
    (ts / "inflow_m3s.parquet").unlink()
    with pytest.raises(CaseError) as exc:
        load_case(small_case)
    text = _messages(exc.value)
    assert "p_max_pu.parquet" in text and "pv_b" in text
    assert "inflow_m3s.parquet" in text and "up" in text


def test_write_case_puts_series_in_the_case_folder(small, tmp_path):
    out = gridopt.write_case(small, tmp_path / "deep" / "written")
    assert (out / "timeseries" / "load_firm_mw.parquet").is_file()
    assert "default_hours" not in (out / "case.toml").read_text()  # absent stays absent
    assert load_case(out).content_hash() == small.content_hash()


# ---- scenario dates -----------------------------------------------------------------------------------

def _write_scenario(case, name, text):
    (case / "scenarios").mkdir(exist_ok=True)
    (case / "scenarios" / f"{name}.toml").write_text(text, encoding="utf-8")


OUTAGE = """
[[set]]
table = "gas_storages"
names = ["ugs"]
values = { withdrawal_max_mm3_per_h = 0.0 }
start = "2025-01-01 03:00"
end = "2025-01-01 06:00"
"""


def test_dated_set_of_a_table_value_applies_only_to_horizons_meeting_its_dates(small_case):
    _write_scenario(small_case, "outage", OUTAGE)
    net = load_case(small_case).with_scenario("outage")
    base_w = load_case(small_case).tables["gas_storages"].loc["ugs", "withdrawal_max_mm3_per_h"]
    # not applied to the tables at once: a table value cannot change within a run
    assert net.tables["gas_storages"].loc["ugs", "withdrawal_max_mm3_per_h"] == base_w
    before = net.for_horizon(pd.Timestamp("2025-01-01 00:00"), 3)
    during = net.for_horizon(pd.Timestamp("2025-01-01 03:00"), 2)
    assert before.tables["gas_storages"].loc["ugs", "withdrawal_max_mm3_per_h"] == base_w
    assert during.tables["gas_storages"].loc["ugs", "withdrawal_max_mm3_per_h"] == 0.0
    assert net.scenario_warnings("2025-01-01 03:00", 2) == []
    warn = net.scenario_warnings("2025-01-01 00:00", 3)
    assert len(warn) == 1 and "outage" in warn[0] and "outside the horizon" in warn[0]
    part = net.scenario_warnings("2025-01-01 00:00", 6)
    assert len(part) == 1 and "applies to all of it" in part[0]
    # the dispatch sees the outage only in a horizon that meets it
    ctx = gridopt.build_lp(net, start="2025-01-01 00:00", hours=3)
    assert ctx.net.tables["gas_storages"].loc["ugs", "withdrawal_max_mm3_per_h"] == base_w
    ctx = gridopt.build_lp(net, start="2025-01-01 03:00", hours=3)
    assert ctx.net.tables["gas_storages"].loc["ugs", "withdrawal_max_mm3_per_h"] == 0.0
    with pytest.raises(UsageError, match="dated changes"):
        gridopt.write_case(net, small_case.parent / "out")


def test_dated_set_of_a_column_with_an_hourly_series_writes_those_hours(small_case):
    _write_scenario(small_case, "derate", """
[[set]]
table = "generators"
names = ["gas_c"]
values = { p_max_pu = 0.5 }
start = "2025-01-01 02:00"
end = "2025-01-01 04:00"
""")
    net = load_case(small_case).with_scenario("derate")
    assert net.dated_changes == ()
    col = net.series["p_max_pu"]["gas_c"].tolist()
    assert col == [1.0, 1.0, 0.5, 0.5, 1.0, 1.0]


def test_dated_series_change_outside_the_horizon_warns(small_case):
    _write_scenario(small_case, "late_peak", """
[[scale]]
series = "load_firm_mw"
factor = 1.2
start = "2025-01-01 04:00"
""")
    net = load_case(small_case).with_scenario("late_peak")
    assert "late_peak" in net.scenario_warnings("2025-01-01 00:00", 4)[0]
    assert net.scenario_warnings("2025-01-01 00:00", 5) == []
    assert load_case(small_case).scenario_warnings("2025-01-01 00:00", 2) == []  # no scenario, no warning


def test_shipped_winter_outage_is_bounded_to_its_week():
    net = load_case("sichuan_chongqing").with_scenario("winter_cold_spell")
    july = net.for_horizon(pd.Timestamp("2025-07-01"), 24)
    january = net.for_horizon(pd.Timestamp("2025-01-07"), 24)
    assert july.tables["gas_storages"].loc["UGS_XIANGGUOSI", "withdrawal_max_mm3_per_h"] > 0
    assert january.tables["gas_storages"].loc["UGS_XIANGGUOSI", "withdrawal_max_mm3_per_h"] == 0
    assert any("outside the horizon" in w for w in net.scenario_warnings(pd.Timestamp("2025-07-01"), 24))


def test_scale_above_a_table_column_moves_only_the_part_above_it(small_case):
    net = load_case(small_case)
    res = net.tables["reservoirs"]
    name = res.index[0]
    _write_scenario(small_case, "low_water", f"""
[[scale]]
series = "inflow_m3s"
columns = ["{name}"]
factor = 0.5
above = "eco_flow_min_m3s"
""")
    low = load_case(small_case).with_scenario("low_water")
    floor = float(res.at[name, "eco_flow_min_m3s"])
    want = floor + 0.5 * (net.series["inflow_m3s"][name] - floor)
    pd.testing.assert_series_equal(low.series["inflow_m3s"][name], want, check_names=False)
    _write_scenario(small_case, "bad_above", """
[[scale]]
series = "inflow_m3s"
factor = 0.5
above = "no_such_column"
""")
    with pytest.raises(CaseError, match="above"):
        load_case(small_case).with_scenario("bad_above")


def test_shipped_drought_starts_on_its_reservoir_state_at_any_date():
    """A run from 1 August begins on the drought's plan (half the usable volume), not the base plan."""
    net = load_case("sichuan_chongqing")
    drought = net.with_scenario("drought_2022")
    res = net.tables["reservoirs"]
    pos = net.snapshots.get_indexer([pd.Timestamp("2025-08-01")])[0]
    base, dry = net.planned_volumes(pos), drought.planned_volumes(pos)
    floor = res["volume_min_hm3"].reindex(base.index)
    assert dry["Baihetan"] - floor["Baihetan"] == pytest.approx(0.5 * (base["Baihetan"] - floor["Baihetan"]))
    assert dry["Wudongde"] == base["Wudongde"]          # not among the drought's reservoirs
    sliced = drought.slice(pd.Timestamp("2025-08-01"), 24)
    assert sliced.tables["reservoirs"].at["Baihetan", "volume_initial_hm3"] == pytest.approx(dry["Baihetan"])


def test_backtest_2022_is_the_grid_of_2022_on_the_drought():
    net = load_case("sichuan_chongqing")
    bt = net.with_scenario("backtest_2022")
    aug = bt.for_horizon(pd.Timestamp("2025-08-01"), 24)
    assert not aug.active("lines").index.str.startswith("UHV_").any()           # no 1000 kV ring
    assert "DC_HAMI_CHONGQING" not in aug.active("links").index                 # first power June 2025
    assert "PHS_PANLONG" not in aug.active("storage_units").index
    assert (bt.series["link_p_max_pu"]["DC_BAIHETAN_ZHEJIANG"] == 0).all()      # in service 30 Dec 2022
    pos = net.snapshots.get_indexer([pd.Timestamp("2025-08-01")])[0]
    floor = net.tables["reservoirs"]["volume_min_hm3"]
    usual = (net.planned_volumes(pos) - floor.reindex(net.planned_volumes(pos).index))["Baihetan"]
    low = (bt.planned_volumes(pos) - floor.reindex(bt.planned_volumes(pos).index))["Baihetan"]
    assert low == pytest.approx(0.5 * 0.46 * usual)                             # 23 % of the usual volume


# ---- scenario lists -----------------------------------------------------------------------------------

def test_scenarios_combine_in_order_and_the_later_wins(small_case):
    _write_scenario(small_case, "low", '[case]\ncarbon_price = 10.0\n')
    _write_scenario(small_case, "high", '[case]\ncarbon_price = 200.0\n')
    base = load_case(small_case)
    lh = base.with_scenario(["low", "high"])
    hl = base.with_scenario(("high", "low"))
    assert lh.scenario == "low+high" and hl.scenario == "high+low"
    assert lh.config["carbon_price"] == 200.0 and hl.config["carbon_price"] == 10.0
    assert lh.content_hash() != hl.content_hash()
    assert base.with_scenario("low").with_scenario("high").content_hash() == lh.content_hash()
    assert base.with_scenario([]) is base
    with pytest.raises(UsageError, match="unknown scenario"):
        base.with_scenario(["low", "nope"])
    res = gridopt.dispatch(lh, hours=2)
    assert res.summary["scenario"] == "low+high"


# ---- default horizon ----------------------------------------------------------------------------------

def _set_toml(case, line):
    f = case / "case.toml"
    f.write_text(line + "\n" + f.read_text(encoding="utf-8"), encoding="utf-8")


def test_default_hours_sets_the_horizon_of_a_run_without_hours(small_case):
    assert load_case(small_case).default_hours == 6  # absent: every snapshot
    _set_toml(small_case, "default_hours = 4")
    net = load_case(small_case)
    assert net.default_hours == 4
    assert DispatchOptions.create(net).hours == 4
    # from a later start the default horizon is cut at the end of the series
    assert DispatchOptions.create(net, start="2025-01-01 04:00").hours == 2
    assert DispatchOptions.create(net, hours=6).hours == 6


@pytest.mark.parametrize("value", ["0.5", "-3", "7", '"a week"'])
def test_bad_default_hours_is_an_error(small_case, value):
    _set_toml(small_case, f"default_hours = {value}")
    with pytest.raises(CaseError, match="default_hours"):
        load_case(small_case)


def test_shipped_case_keeps_a_week_by_default():
    cfg = tomllib.loads((repo_root() / "networks" / "sichuan_chongqing" / "case.toml").read_text(encoding="utf-8"))
    assert cfg["default_hours"] == 168


def test_dated_change_applies_to_a_coarse_copy_and_its_values_are_checked_early(small_case):
    _write_scenario(small_case, "outage", OUTAGE)
    net = load_case(small_case).with_scenario("outage")
    coarse = net.slice(pd.Timestamp("2025-01-01 00:00"), 6).resample(3)
    assert coarse.default_hours == 2  # a slice or coarse copy runs over all its snapshots
    ctx = gridopt.build_lp(coarse)
    assert ctx.net.tables["gas_storages"].loc["ugs", "withdrawal_max_mm3_per_h"] == 0.0
    _write_scenario(small_case, "bad", OUTAGE.replace("0.0 }", "-1.0 }"))
    with pytest.raises(CaseError, match="withdrawal_max_mm3_per_h"):
        load_case(small_case).with_scenario("bad")


def test_misspelt_overlay_key_is_an_error(small_case):
    # a date under a wrong key would otherwise leave the change undated, applied to every hour
    _write_scenario(small_case, "typo", OUTAGE.replace("end =", "ends ="))
    with pytest.raises(CaseError, match="unknown key"):
        load_case(small_case).with_scenario("typo")
