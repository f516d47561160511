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


def test_committed_table_matches_the_case():
    """A data change without a regenerated CALIBRATION.md fails here (gridopt calibrate --publish)."""
    text = (CASE / "CALIBRATION.md").read_text()
    stamp = re.search(r"Case input hash: `([0-9a-f]{16})`", text)
    assert stamp, "CALIBRATION.md has no input-hash stamp"
    assert stamp.group(1) == load_case("sichuan_chongqing").content_hash(), \
        "the case changed since CALIBRATION.md was written: run gridopt calibrate sichuan_chongqing --publish"
    assert "needs a full year" not in text  # the committed table comes from a whole year


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
