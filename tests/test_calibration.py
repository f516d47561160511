"""gridopt calibrate: every published figure gets its model value, the committed table matches the case."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gridopt.casefiles import load_case
from gridopt.cli import main

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "networks" / "sichuan_chongqing"


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    out = tmp_path_factory.mktemp("cal") / "calibration"
    assert main(["calibrate", "sichuan_chongqing", "--start", "2025-08-01", "--hours", "168", "--out", str(out),
                 "--quiet"]) == 0
    return out


def test_every_published_figure_gets_a_row_and_a_model_value(week):
    pub = pd.read_csv(CASE / "calibration.csv", dtype={"item": str})
    got = pd.read_csv(week / "calibration.csv", dtype={"item": str}, keep_default_na=False,
                      na_values={"model": [""], "gap": [""]})
    assert len(got) == len(pub)
    assert list(zip(got["figure"], got["region"])) == list(zip(pub["figure"], pub["region"]))
    by_month = got["figure"].isin(["hydro_month_share_pct", "hydro_wet_season_share_pct"])
    assert got.loc[~by_month, "model"].notna().all()  # a week has every figure but the shares of the year
    assert (got.loc[by_month, "verdict"] == "needs a full year").all()
    text = (week / "CALIBRATION.md").read_text()
    assert f"Case input hash: `{load_case('sichuan_chongqing').content_hash()}`" in text
    assert "annualised from 168 h" in text
    for png in ("calibration_gaps.png", "calibration_exports.png", "calibration_generation.png"):
        assert f"]({png})" in text and (week / png).stat().st_size > 10_000


def test_figures_agree_with_the_run_summary(week):
    """Annual energies are the run's own sums x 8760 / 168; CO2 and factors follow the one stated rule."""
    s = json.loads((week / "run" / "summary.json").read_text())
    got = pd.read_csv(week / "calibration.csv", dtype={"item": str}, keep_default_na=False,
                      na_values={"model": [""]}).set_index(["figure", "region"])
    k = 8760 / 168
    served = (s["load_mwh"] - s["load_shed_mwh"]["total"]) * k / 1e6
    consumed = got.loc[("consumption_twh", "Sichuan"), "model"] + got.loc[("consumption_twh", "Chongqing"), "model"]
    assert consumed == pytest.approx(served, rel=1e-9)
    # the net receiver of the interchange adds it at the sender's own emissions over generation
    into_cq = s["interchange_sc_to_cq_mwh"]
    receiver, sender = ("Chongqing", "Sichuan") if into_cq > 0 else ("Sichuan", "Chongqing")
    gen_all = pd.read_parquet(week / "run" / "generation.parquet").groupby("region")["p_mw"].sum()
    for reg in ("Sichuan", "Chongqing"):
        co2 = s["emissions_t"][reg] + s["emissions_imported_t"][reg]
        if reg == receiver:
            co2 += abs(into_cq) * s["emissions_t"][sender] / gen_all[sender]
        assert got.loc[("co2_mt", reg), "model"] == pytest.approx(co2 * k / 1e6, rel=1e-9)
    assert got.loc[("interchange_twh", "Sichuan"), "model"] == pytest.approx(s["interchange_sc_to_cq_mwh"] * k / 1e6)
    # the scope counts half of JS_LOWER's output: Sichuan hydro = all of it - half of JS_LOWER's
    g = pd.read_parquet(week / "run" / "generation.parquet")
    hy = g[(g["region"] == "Sichuan") & g["carrier"].isin(["hydro", "hydro_reservoir"])]
    want = (hy["p_mw"].sum() - 0.5 * hy.loc[hy["bus"] == "JS_LOWER", "p_mw"].sum()) * k / 1e6
    gen = got.xs("generation_twh")
    assert gen[gen["item"] == "hydro"]["model"].iloc[0] == pytest.approx(want, rel=1e-9)
    util = got.loc[("hydro_utilisation_pct", "Sichuan"), "model"]
    assert 0 < util <= 100


def test_a_link_outside_its_service_dates_exports_nothing(week):
    """Jinshang-Hubei enters service on 18 Dec 2025: in August it carries nothing."""
    fl = pd.read_parquet(week / "run" / "flows.parquet")
    jh = fl[fl["branch"] == "DC_JINSHANG_HUBEI"]
    assert len(jh) == 168 and np.abs(jh["p0_mw"]).max() == 0.0 and (jh["limit_mw"] == 0.0).all()


@pytest.mark.parametrize("report", sorted(p.name for p in CASE.glob("CALIBRATION*.md")))
def test_committed_table_matches_the_case(report):
    """A data change without a regenerated report fails here (gridopt calibrate --publish; a scenario's report
    is stamped with the case as its scenarios change it)."""
    text = (CASE / report).read_text()
    stamp = re.search(r"Case input hash: `([0-9a-f]{16})`", text)
    scenario = re.search(r"Run: scenario `([^`]+)`", text)
    assert stamp and scenario, f"{report} has no input-hash stamp"
    net = load_case("sichuan_chongqing")
    net = net if scenario.group(1) == "base" else net.with_scenario(scenario.group(1).split("+"))
    assert stamp.group(1) == net.content_hash(), \
        f"the case changed since {report} was written: run gridopt calibrate sichuan_chongqing ... --publish"
    assert "needs a full year" not in text


def test_the_year_and_the_backtest_are_published():
    assert {"CALIBRATION.md", "CALIBRATION_backtest_2022.md"} <= {p.name for p in CASE.glob("CALIBRATION*.md")}


def test_a_bad_calibration_file_is_one_line_naming_row_and_column(tmp_path, capsys):
    case = tmp_path / "sc"
    shutil.copytree(CASE, case)
    shutil.copytree(ROOT / "timeseries" / "sichuan_chongqing", case / "timeseries",
                    ignore=shutil.ignore_patterns("inputs"))
    pub = pd.read_csv(case / "calibration.csv", dtype=str, keep_default_na=False)
    pub.loc[3, "figure"] = "consumption_pj"
    pub.to_csv(case / "calibration.csv", index=False)
    out = tmp_path / "cal"
    assert main(["calibrate", str(case), "--hours", "24", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "calibration.csv: row 5, column figure: unknown figure 'consumption_pj'" in err[0]
    assert not out.exists()


@pytest.fixture(scope="module")
def backtest_days(tmp_path_factory):
    out = tmp_path_factory.mktemp("bt") / "calibration"
    assert main(["calibrate", "sichuan_chongqing", "--scenario", "backtest_2022", "--figures",
                 "calibration_backtest_2022.csv", "--start", "2025-08-16", "--hours", "48", "--out", str(out),
                 "--quiet"]) == 0
    return out


def test_backtest_from_any_date_starts_on_its_drought_storage_and_sheds_in_the_evening(backtest_days):
    got = pd.read_csv(backtest_days / "calibration.csv", dtype={"item": str}, keep_default_na=False,
                      na_values={"model": [""]})
    pub = pd.read_csv(CASE / "calibration_backtest_2022.csv", dtype={"item": str})
    assert len(got) == len(pub) and got["model"].notna().all() and (got["tolerance"] == 0.30).all()
    assert got["verdict"].isin(["within 30 %", "explained", "outside"]).all()
    # the run starts on the scenario's plan for 16 August, not on the base case's
    s = json.loads((backtest_days / "run" / "summary.json").read_text())
    net = load_case("sichuan_chongqing")
    pos = net.snapshots.get_indexer([pd.Timestamp("2025-08-16")])[0]
    dry, usual = net.with_scenario("backtest_2022").planned_volumes(pos), net.planned_volumes(pos)
    start = pd.Series(s["hydro_initial_volume_hm3"])
    assert start["Baihetan"] == pytest.approx(dry["Baihetan"]) and start["Baihetan"] < usual["Baihetan"]
    # load is shed by day and in the evening peak, not at night
    pr = pd.read_parquet(backtest_days / "run" / "prices.parquet")
    shed = pr[pr["region"] == "Sichuan"].groupby(pr["hour"].dt.hour)["shed_mw"].sum()
    assert shed.sum() > 0 and shed.loc[1:7].sum() == 0
    assert shed.loc[17:22].sum() > shed.loc[9:14].sum()
