"""Joins of a rolling run checked from the written tables: every reservoir balances hour by hour, and the
water arriving from upstream is what the reservoirs above released the travel delay before."""

from __future__ import annotations

import pandas as pd
import pytest

import gridopt
from gridopt.rolling.joins import by_reservoir, table_joins, water_jumps

K = 3600 / 1e6


@pytest.fixture(scope="module")
def net():
    return gridopt.load_case("sichuan_chongqing")


@pytest.fixture(scope="module")
def one_lp(net):
    return gridopt.dispatch(net, start="2025-07-01", hours=48)


def test_one_lp_balances_hour_by_hour(net, one_lp):
    hy = one_lp.tables["hydro"]
    j = water_jumps(net, hy, one_lp.summary["hydro_initial_volume_hm3"])
    assert len(j) == len(hy) and set(j.columns) == {"hour", "reservoir", "jump_hm3", "arrival_error_m3s"}
    assert j["jump_hm3"].abs().max() < 1e-6 and j["arrival_error_m3s"].abs().max() < 1e-6
    report = table_joins(net, hy, one_lp.summary["hydro_initial_volume_hm3"])
    assert report["reservoir_water_created_hm3"] == 0 and report["reservoir_water_dropped_hm3"] == 0
    assert set(report["reservoirs"]) == set(net.active("reservoirs").index)


def test_a_mismatch_that_nets_to_zero_is_counted_per_reservoir(net, one_lp):
    """+5 hm3 in Baihetan and -5 hm3 in Ertan from noon on: the water over all reservoirs is unchanged, yet
    each jump is counted where it happened; an arrival off what was released above is counted too."""
    hy = one_lp.tables["hydro"].copy()
    later = hy["hour"] >= pd.Timestamp("2025-07-01 12:00")
    hy.loc[later & (hy["reservoir"] == "Baihetan"), "volume_hm3"] += 5.0
    hy.loc[later & (hy["reservoir"] == "Ertan"), "volume_hm3"] -= 5.0
    per = by_reservoir(water_jumps(net, hy))
    assert per["Baihetan"]["created_hm3"] == pytest.approx(5.0) and per["Baihetan"]["dropped_hm3"] == 0
    assert per["Ertan"]["dropped_hm3"] == pytest.approx(5.0) and per["Ertan"]["created_hm3"] == 0
    assert all(v["created_hm3"] == v["dropped_hm3"] == 0 for r, v in per.items() if r not in ("Baihetan", "Ertan"))
    report = table_joins(net, hy)
    assert report["reservoir_water_created_hm3"] == pytest.approx(5.0)
    assert report["reservoir_water_dropped_hm3"] == pytest.approx(5.0)
    # Xiluodu's arrivals (from Baihetan, 8 h) written 100 m3/s high for an hour: its water jumps by the same
    at = pd.Timestamp("2025-07-01 20:00")
    hy.loc[(hy["hour"] == at) & (hy["reservoir"] == "Xiluodu"), "upstream_inflow_m3s"] += 100.0
    j = water_jumps(net, hy).set_index(["hour", "reservoir"])
    assert j.loc[(at, "Xiluodu"), "arrival_error_m3s"] == pytest.approx(100.0)
    assert by_reservoir(j.reset_index())["Xiluodu"]["max_arrival_error_m3s"] == pytest.approx(100.0)


@pytest.mark.slow
def test_two_chains_meet_in_one_physical_trajectory(net):
    """Two weeks in two chains meeting at 2025-07-02 00:00 (where the default year's did not balance:
    Baihetan +94 hm3 and arrivals off by up to 4,860 m3/s here before): the chain before ends on the state
    the next starts from, so every reservoir balances across the join with arrivals equal to the delayed
    outflows, and the join report says what the written tables show."""
    r = gridopt.dispatch_rolling(net, start="2025-06-25", hours=336, window=168, overlap=6, tail=120,
                                 coarse_hours=24, chains=2, processes=2)
    info = r.summary["rolling"]
    assert info["chains"] == 2 and r.summary["status"] == "optimal"
    hy = r.tables["hydro"]
    assert hy["hour"].nunique() == 336
    initial = r.summary["hydro_initial_volume_hm3"]
    j = water_jumps(net, hy, initial)
    assert j["jump_hm3"].abs().max() < 1e-3, j.loc[j["jump_hm3"].abs().idxmax()]
    assert j["arrival_error_m3s"].abs().max() < 0.1, j.loc[j["arrival_error_m3s"].abs().idxmax()]
    # written: the reservoir balances through the join, from the table's own columns
    piv = {c: hy.pivot(index="hour", columns="reservoir", values=c)
           for c in ("volume_hm3", "natural_inflow_m3s", "upstream_inflow_m3s", "release_m3s", "spill_m3s")}
    join = pd.Timestamp("2025-07-02")
    d = piv["natural_inflow_m3s"] + piv["upstream_inflow_m3s"] - piv["release_m3s"] - piv["spill_m3s"]
    step = piv["volume_hm3"].diff() - K * d
    assert step.loc[join:join + pd.Timedelta(hours=12)].abs().max().max() < 1e-3
    # the report is the checker's, per reservoir
    joins = info["joins"]
    assert info["joins_by_reservoir"] == table_joins(net, hy, initial)["reservoirs"]
    assert joins["reservoir_water_created_hm3"] < 1e-3 and joins["reservoir_water_dropped_hm3"] < 1e-3
    assert joins["max_arrival_error_m3s"] < 0.1
    assert joins["water_created_hm3"] < 1e-3 and joins["water_dropped_hm3"] < 1e-3
