"""Representative periods: clustering keeps the year's energy, weights stand for the periods, stores link."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tiny import buses, net, series

import gridopt
from gridopt.errors import UsageError
from gridopt.periods import cluster, parse_periods, with_periods


def daily(days: int, shape, scale=None) -> np.ndarray:
    """`days` days of an hourly shape, each day times scale[d]."""
    scale = np.ones(days) if scale is None else np.asarray(scale, float)
    return (np.asarray(shape, float)[None, :] * scale[:, None]).ravel()


DAY = np.r_[np.full(8, 60.0), np.full(10, 100.0), np.full(6, 80.0)]


def storage_case(days: int, scale=None, shape=DAY):
    """One bus: cheap coal to 70 MW, dear gas, and pumped storage that shifts cheap night energy to the day."""
    h = 24 * days
    return net({"buses": buses("a"),
                "generators": [{"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 70, "marginal_cost": 10},
                               {"name": "gas", "bus": "a", "carrier": "gas", "p_nom": 200, "marginal_cost": 60}],
                "storage_units": [{"name": "ps", "bus": "a", "p_nom": 20, "max_hours": 6, "efficiency_store": 0.9}]},
               {"load_firm_mw": series(h, a=daily(days, shape, scale))}, hours=h)


def test_identical_days_clustered_to_one_equal_the_full_run():
    full = gridopt.dispatch(storage_case(4))
    one = cluster(storage_case(4), "typical-days", 1)
    assert one.periods.weights == (4.0,) and len(one.snapshots) == 24
    r = gridopt.dispatch(one)
    assert r.summary["objective_cny"] == pytest.approx(full.summary["objective_cny"], rel=1e-9)
    assert r.summary["represented_hours"] == pytest.approx(96.0)
    assert r.summary["load_mwh"] == pytest.approx(full.summary["load_mwh"], rel=1e-12)
    assert r.summary["periods"]["count"] == 1 and r.summary["periods"]["weights"] == [4.0]


def test_storage_is_cyclic_within_each_period_when_clustered_and_chained_otherwise():
    # two kinds of day: in the clustered mode each representative cycles its own storage
    n = storage_case(6, scale=[1, 1, 1, 0.5, 0.5, 0.5])
    c = cluster(n, "typical-days", 2)
    r = gridopt.dispatch(c)
    st = r.storage
    for first in (0, 24):
        day = st.iloc[first:first + 24]
        charge, discharge = day["charge_mw"].sum(), day["discharge_mw"].sum()
        assert 0.9 * charge == pytest.approx(discharge, rel=1e-6, abs=1e-6)  # the day's energy balance closes
    chained = gridopt.dispatch(cluster(n, "typical-days", 2, storage="chained"))
    assert chained.summary["objective_cny"] <= r.summary["objective_cny"] + 1e-6  # one cycle over both days


def test_a_clustered_year_carries_the_cases_annual_load_energy():
    shipped = gridopt.load_case("sichuan_chongqing")
    c = cluster(shipped, "typical-days", 6, ("peak", "dry"))
    w = c.weightings(slice(None))
    for name in ("load_firm_mw", "load_interruptible_mw"):
        year = shipped.series[name].to_numpy().sum(axis=0)
        kept = (c.series[name].to_numpy() * w[:, None]).sum(axis=0)
        np.testing.assert_allclose(kept, year, rtol=1e-9)
    assert w.sum() == pytest.approx(8760.0)
    assert len(c.periods.sequence) == 365 and c.periods.count == 8
    # the extreme days stand for themselves
    assert sorted(c.periods.weights)[:2] == [1.0, 1.0]
    peak_day = c.periods.origin[int(np.argmin(c.periods.weights))]
    assert pd.Timestamp(peak_day).hour == 0


def reservoir_case(days: int, inflow_scale):
    h = 24 * days
    res = [{"name": "r", "bus": "a", "p_nom": 100, "production_mw_per_m3s": 1.0, "volume_min_hm3": 0.0,
            "volume_max_hm3": 20.0, "volume_initial_hm3": 10.0}]
    inflow = np.repeat(np.asarray(inflow_scale, float) * 50.0, 24)  # m3/s
    return net({"buses": buses("a"), "reservoirs": res,
                "generators": [{"name": "gas", "bus": "a", "carrier": "gas", "p_nom": 200, "marginal_cost": 60}]},
               {"load_firm_mw": series(h, a=80.0), "inflow_m3s": series(h, r=list(inflow)),
                "volume_target_hm3": series(h, r=10.0)}, hours=h)


def test_linked_levels_keep_the_reservoirs_year_balance():
    # wet days and dry days: the reservoir carries water from one to the other in calendar order
    n = reservoir_case(8, [2, 2, 0.2, 0.2, 2, 2, 0.2, 0.2])
    c = cluster(n, "typical-days", 2)
    r = gridopt.dispatch(c)
    lv = r.levels
    assert len(lv) == 8 and (lv["kind"] == "reservoir").all()
    hy = r.hydro
    k = 0.0036  # hm3 per m3/s and hour
    change = []  # each representative's net change of volume over its day
    for first in (0, 24):
        day = hy.iloc[first:first + 24]
        change.append(k * float((day["natural_inflow_m3s"] + day["upstream_inflow_m3s"] - day["release_m3s"]
                                 - day["spill_m3s"]).sum()))
    levels = np.r_[10.0, lv["level_hm3"].to_numpy()]
    np.testing.assert_allclose(np.diff(levels), np.asarray(change)[lv["representative"].to_numpy()], atol=1e-6)
    assert levels.min() >= -1e-6 and levels.max() <= 20 + 1e-6
    # the year balance: the final level is the initial plus inflow minus outflow over the represented year
    inflow = float(c.series["inflow_m3s"]["r"].to_numpy() @ c.weightings(slice(None))) * k
    outflow = float(((hy["release_m3s"] + hy["spill_m3s"]) * c.weightings(slice(None))).sum()) * k
    assert levels[-1] == pytest.approx(10.0 + inflow - outflow, abs=1e-6)


def test_periods_specs_are_parsed_or_refused_in_one_line():
    assert parse_periods("typical-days:16+peak") == ("typical-days", 16, ("peak",))
    assert parse_periods("weeks:4+dry+peak") == ("weeks", 4, ("dry", "peak"))
    for bad in ("days:4", "weeks:0", "weeks:4+wet", "typical-days"):
        with pytest.raises(UsageError):
            parse_periods(bad)
    with pytest.raises(UsageError, match="whole periods"):
        cluster(storage_case(2), "weeks", 1)
    c = cluster(storage_case(4), "typical-days", 1)
    with pytest.raises(UsageError, match="one year"):
        gridopt.dispatch(c, hours=12)
    assert with_periods(storage_case(2)) is not None


def test_the_cli_runs_a_clustered_year_and_reports_annual_figures(tmp_path):
    import json

    from gridopt.cli import main
    case = gridopt.write_case(storage_case(4), tmp_path / "four_days")
    out = tmp_path / "r"
    assert main(["run", str(case), "--periods", "typical-days:1", "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["periods"]["method"] == "typical-days" and s["represented_hours"] == pytest.approx(96.0)
    assert s["hours"] == 24
    full = gridopt.dispatch(storage_case(4))
    assert s["objective_cny"] == pytest.approx(full.summary["objective_cny"], rel=1e-9)


def test_three_hourly_snapshots_with_pypsas_weightings_equal_the_hourly_run():
    # the same day hourly and as 3-hourly snapshots weighted 3 h (objective, stores and generators): with data
    # constant within each 3 hours, the optimum is the same, storage advancing 3 h per snapshot
    day = np.r_[np.full(9, 60.0), np.full(9, 100.0), np.full(6, 80.0)]
    hourly = storage_case(1, shape=day)
    load = day.reshape(8, 3)
    idx = pd.date_range("2025-01-01", periods=8, freq="3h", name="snapshot")
    w = pd.DataFrame({"objective": 3.0, "stores": 3.0, "generators": 3.0}, index=idx)
    coarse = net({"buses": buses("a"),
                  "generators": hourly.tables["generators"].reset_index().to_dict("records"),
                  "storage_units": hourly.tables["storage_units"].reset_index().to_dict("records")},
                 {"load_firm_mw": pd.DataFrame({"a": load[:, 0]}, index=idx), "weighting": w}, hours=8)
    assert (coarse.durations() == 3).all()
    a, b = gridopt.dispatch(hourly), gridopt.dispatch(coarse)
    assert b.summary["objective_cny"] == pytest.approx(a.summary["objective_cny"], rel=1e-9)
    assert b.storage["soc_mwh"].max() <= 120 + 1e-6


def test_snapshots_must_lie_as_far_apart_as_their_stores_weighting():
    from gridopt.errors import CaseError
    idx = pd.date_range("2025-01-01", periods=4, freq="2h", name="snapshot")
    with pytest.raises(CaseError, match="as many hours apart"):
        net({"buses": buses("a")}, {"load_firm_mw": pd.DataFrame({"a": 1.0}, index=idx),
                                    "weighting": pd.DataFrame({"objective": 3.0, "stores": 3.0}, index=idx)}, hours=4)


def test_results_map_back_onto_the_year_and_add_up_to_the_annual_summary():
    n = storage_case(6, scale=[1, 1, 1, 0.5, 0.5, 0.5])
    r = gridopt.dispatch(cluster(n, "typical-days", 2))
    y = r.tables["year"]
    assert sorted(y["period_start"].unique()) == list(n.snapshots[::24])  # every day of the year, in order
    assert y.loc[y["carrier"] == "load", "energy_mwh"].sum() == pytest.approx(r.summary["load_mwh"], rel=1e-9)
    for carrier, mwh in r.summary["generation_mwh"].items():
        assert y.loc[y["carrier"] == carrier, "energy_mwh"].sum() == pytest.approx(mwh, rel=1e-9)
    # the fourth day is a half-load day: its load is the half-load representative's
    day4 = y[(y["carrier"] == "load") & (y["period_start"] == n.snapshots[72])]["energy_mwh"].sum()
    assert day4 == pytest.approx(0.5 * DAY.sum(), rel=1e-9)
