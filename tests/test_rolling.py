"""Rolling horizons: windows stitched into one feasible dispatch close to the monolithic optimum."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import gridopt
from gridopt.checks import check_tables
from gridopt.rolling import RollingOptions, dispatch_rolling, plan_windows
from gridopt.solvers.highs import has_solver
from gridopt.synthetic import synthetic_network

K = 3600 / 1e6


@pytest.fixture(scope="module")
def syn():
    return synthetic_network(4, 120, seed=3)


def test_windows_cover_the_horizon_once():
    ws = plan_windows(pd.Timestamp("2025-01-01"), 100, 24, 12)
    assert sum(w.keep for w in ws) == 100
    # look-ahead stops at the horizon; the 4 h left over join the last window, which sees the horizon's end
    assert [w.hours for w in ws] == [36, 36, 36, 28] and [w.keep for w in ws] == [24, 24, 24, 28]
    assert [w.keep for w in plan_windows(pd.Timestamp("2025-01-01"), 84, 24, 12)] == [24, 24, 24, 12]


def test_coarse_daily_model_equals_hourly_when_inputs_are_flat():
    """With inputs constant within each day, a daily snapshot (weight 24) costs what 24 hourly ones do."""
    from tiny import buses, net, series
    n = net({"buses": buses("a"),
             "generators": [{"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 300, "marginal_cost": 10},
                            {"name": "gas", "bus": "a", "carrier": "gas", "p_nom": 300, "marginal_cost": 40}],
             "storage_units": [{"name": "s", "bus": "a", "p_nom": 50, "max_hours": 30, "cyclic_state_of_charge": False,
                                "state_of_charge_initial": 600}]},
            {"load_firm_mw": series(48, a=[200.0] * 24 + [350.0] * 24)}, hours=48)
    hourly = gridopt.dispatch(n)
    coarse = gridopt.dispatch(n.resample(24))
    assert coarse.summary["objective_cny"] == pytest.approx(hourly.summary["objective_cny"], rel=1e-9)
    assert coarse.storage["soc_mwh"].iloc[-1] == pytest.approx(hourly.storage["soc_mwh"].iloc[-1])


def test_coarse_daily_model_prices_a_missed_end_target_as_hourly():
    """An end target missed by some water costs the same whatever the last snapshot's length: the daily
    coarse solve that guides rolling windows must weigh the target against fuel as the hourly model does."""
    from tiny import buses, net, series
    hours = 48
    n = net({"buses": buses("a"),
             "generators": [{"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 500, "marginal_cost": 300}],
             "reservoirs": [{"name": "dam", "bus": "a", "p_nom": 200.0, "production_mw_per_m3s": 1.0,
                             "volume_min_hm3": 5.0, "volume_max_hm3": 100.0, "volume_initial_hm3": 20.0}]},
            {"load_firm_mw": series(hours, a=[250.0] * 24 + [300.0] * 24),
             "inflow_m3s": series(hours, dam=50.0), "volume_target_hm3": series(hours, dam=90.0)},
            hours=hours, penalties={"curtailment_cny_per_mwh": 0.0, "spill_cny_per_mwh": 0.0,
                                    "end_target_cny_per_mwh": 200.0})
    hourly = gridopt.dispatch(n)
    coarse = gridopt.dispatch(n.resample(24))
    short = hourly.summary["end_target_shortfall_hm3"]
    assert short > 1.0  # the target is out of reach: its penalty is part of both optima
    assert coarse.summary["end_target_shortfall_hm3"] == pytest.approx(short, rel=1e-6)
    assert coarse.summary["penalties_cny"]["end_target_cny"] == pytest.approx(
        hourly.summary["penalties_cny"]["end_target_cny"], rel=1e-6)
    assert coarse.summary["objective_cny"] == pytest.approx(hourly.summary["objective_cny"], rel=1e-9)


def test_a_coarse_model_keeps_the_water_in_transit_at_its_start():
    """Water released upstream in the hours before the horizon reaches the reservoir below within it, in a
    daily model as in the hourly one (a daily snapshot keeps a 6-h delay within the day, so that water comes
    in its first snapshot). The coarse solve that guides rolling windows starts with all the hourly water."""
    from tiny import buses, net, series
    hours = 48
    n = net({"buses": buses("a"),
             "generators": [{"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 500, "marginal_cost": 300}],
             "reservoirs": [{"name": "up", "bus": "a", "p_nom": 100.0, "production_mw_per_m3s": 1.0,
                             "volume_min_hm3": 1.0, "volume_max_hm3": 50.0, "volume_initial_hm3": 10.0,
                             "downstream": "down", "delay_hours": 6, "release_before_m3s": 400.0},
                            {"name": "down", "bus": "a", "p_nom": 100.0, "production_mw_per_m3s": 1.0,
                             "volume_min_hm3": 1.0, "volume_max_hm3": 50.0, "volume_initial_hm3": 10.0}]},
            {"load_firm_mw": series(hours, a=250.0), "inflow_m3s": series(hours, up=20.0, down=5.0)}, hours=hours)
    in_transit = 400.0 * 6 * 3600 / 1e6  # hm3 released before the start, arriving in its first 6 hours
    for model, dt in ((n, 1), (n.resample(24), 24)):
        h = gridopt.dispatch(model).hydro.set_index("reservoir")
        out = (h.loc["up", "release_m3s"] + h.loc["up", "spill_m3s"]).to_numpy() * dt * 3600 / 1e6
        if dt == 1:  # the last 6 hours' releases are still on their way at the end
            out = out[:-6]
        came = float(h.loc["down", "upstream_inflow_m3s"].sum()) * dt * 3600 / 1e6
        assert came == pytest.approx(out.sum() + in_transit, rel=1e-9), dt


def test_a_terminal_water_value_counts_the_water_on_its_way_down():
    """Water left at a window's end earns the guide's value (rolling windows); what the reservoir above
    released in its last delay hours is still on its way then and earns the value of the reservoir it
    flows into. Else a window would hold that water upstream in its last hours, worth less there."""
    from tiny import buses, net, series

    from gridopt.formulation.context import Targets
    hours, delay, q_max = 6, 3, 100.0
    n = net({"buses": buses("a"),
             "generators": [{"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 500, "marginal_cost": 300}],
             "reservoirs": [{"name": "up", "bus": "a", "p_nom": q_max * 1e-3, "production_mw_per_m3s": 1e-3,
                             "volume_min_hm3": 1.0, "volume_max_hm3": 50.0, "volume_initial_hm3": 10.0,
                             "spill_max_m3s": 0.0, "downstream": "down", "delay_hours": delay},
                            {"name": "down", "bus": "a", "p_nom": 100.0, "production_mw_per_m3s": 1.0,
                             "volume_min_hm3": 1.0, "volume_max_hm3": 50.0, "volume_initial_hm3": 10.0}]},
            {"load_firm_mw": series(hours, a=250.0), "inflow_m3s": series(hours, up=0.0, down=0.0)}, hours=hours)
    # a hm3 is worth 500 CNY held up there and 1,000 below: every hour's release gains 0.36 x 500 CNY
    tg = Targets(water_value_cny_per_hm3={"up": 500.0, "down": 1000.0}, case_end_target=False)
    r = gridopt.dispatch(n, targets=tg)
    q_up = r.hydro.set_index("reservoir").loc["up", "release_m3s"].to_numpy()
    assert q_up == pytest.approx(np.full(hours, q_max), abs=1e-6)  # the last 3 hours' water too
    # worth more up there, it stays there: no release at all
    r = gridopt.dispatch(n, targets=Targets(water_value_cny_per_hm3={"up": 2000.0, "down": 1000.0},
                                           case_end_target=False))
    assert r.hydro.set_index("reservoir").loc["up", "release_m3s"].to_numpy() == pytest.approx(np.zeros(hours), abs=1e-6)


def test_the_coarse_solve_leans_to_the_plan_only_where_cost_does_not_tell():
    """With flat prices a reservoir's water is worth the same every day, so any path to the end target is
    optimal: the pull towards the plan picks the plan's path, at no cost. Where the plan is dearer (it
    leaves too little water for a peak that would otherwise be shed), the coarse solve leaves it."""
    from tiny import buses, net, series

    from gridopt.formulation.context import State
    from gridopt.rolling import pull_to_plan
    hours = 96
    plan = np.linspace(20.0, 60.0, hours)

    def case(load):
        return net({"buses": buses("a"),
                    "generators": [{"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 400, "marginal_cost": 300}],
                    "reservoirs": [{"name": "dam", "bus": "a", "p_nom": 300.0, "production_mw_per_m3s": 1.0,
                                    "volume_min_hm3": 5.0, "volume_max_hm3": 100.0, "volume_initial_hm3": 20.0}]},
                   {"load_firm_mw": series(hours, a=load), "inflow_m3s": series(hours, dam=300.0),
                    "volume_target_hm3": pd.DataFrame({"dam": plan}, index=series(hours, a=0.0).index)}, hours=hours)

    def coarse(n, pull):
        return gridopt.dispatch(n.resample(24), state=State(volume_hm3={"dam": 20.0}),
                                hooks=(pull_to_plan(pull),) if pull else ())

    n = case(300.0)
    free, pulled = coarse(n, 0.0), coarse(n, 0.05)
    day_end_plan = plan[23::24]
    got = pulled.tables["hydro"]["volume_hm3"].to_numpy()
    assert got == pytest.approx(day_end_plan, abs=1e-4)
    cost = lambda r: r.summary["cost_total_cny"] + r.summary["penalties_total_cny"]
    assert cost(pulled) == pytest.approx(cost(free), rel=1e-9)
    # a peak on day 2 that only water saved the day before can serve without shedding: the pull gives way
    n = case([300.0] * 24 + [650.0] * 24 + [300.0] * 48)
    free, pulled = coarse(n, 0.0), coarse(n, 0.05)
    assert pulled.summary["load_shed_mwh"]["total"] == pytest.approx(0.0, abs=1e-6)
    vol = pulled.tables["hydro"]["volume_hm3"].to_numpy()
    assert vol[0] > day_end_plan[0] + 1.0  # water saved above the plan on day 1 for the peak
    assert vol[1:] == pytest.approx(day_end_plan[1:], abs=1e-4)  # and back on the plan from then on
    assert cost(pulled) == pytest.approx(cost(free), rel=1e-6)


def test_an_8_hour_guide_keeps_the_water_an_evening_peak_needs():
    """Coal covers the day on average but not its 8-h evening peak, which only stored water can serve. Water
    sells best on day 1: a daily guide sends it all east then and leaves days 2 and 3 to shed their peaks;
    three snapshots a day (the default on short horizons) see the peaks and keep the water for them."""
    from tiny import buses, net, series

    hours = 72
    day = [60.0] * 16 + [150.0] * 8
    n = net({"buses": buses("a", "x", region=["A", "external"]),
             "generators": [{"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 100, "marginal_cost": 300}],
             "links": [{"name": "east", "bus0": "a", "bus1": "x", "p_nom": 100.0}],
             "markets": [{"name": "buyer", "bus": "x", "buy_max_mw": 100.0}],
             "reservoirs": [{"name": "dam", "bus": "a", "p_nom": 100.0, "production_mw_per_m3s": 1.0,
                             "volume_min_hm3": 1.0, "volume_max_hm3": 100.0, "volume_initial_hm3": 6.0}]},
            {"load_firm_mw": series(hours, a=day * 3), "inflow_m3s": series(hours, dam=0.0),
             "buy_price": series(hours, buyer=[500.0] * 24 + [100.0] * 48)}, hours=hours)
    mono = gridopt.dispatch(n)
    assert mono.summary["load_shed_mwh"]["total"] == pytest.approx(0.0, abs=1e-6)
    kw = dict(window=24, overlap=0, tail=0)
    daily, fine, default = (dispatch_rolling(n, coarse_hours=c, **kw) for c in (24, 8, None))
    assert RollingOptions.for_horizon(hours).coarse_hours == 8 and default.summary["rolling"]["coarse_hours"] == 8
    # the daily guide: about 2 x 400 MWh of peak shed on days 2 and 3
    assert daily.summary["load_shed_mwh"]["total"] > 700.0
    for r in (fine, default):
        assert r.summary["load_shed_mwh"]["total"] == pytest.approx(0.0, abs=1e-3)
        assert r.summary["objective_cny"] == pytest.approx(mono.summary["objective_cny"], rel=1e-6)
    assert RollingOptions.for_horizon(8760).coarse_hours == 24


def test_water_kept_above_the_guides_volumes_earns_its_value():
    """A daily guide sells water whenever the day's average price (567 CNY/MWh) beats the water's end value
    (the missed end target, 500), so its volumes are too low. Hourly, water sells only in the 900-CNY
    evening peak, not at 400. Windows bound only by the guide's volumes sell down to them at 400; credited
    at the guide's water value for what they keep above them, they keep it for the peaks, as the one LP."""
    from tiny import buses, net, series
    hours = 96
    n = net({"buses": buses("a", "x", region=["A", "external"]),
             "links": [{"name": "east", "bus0": "a", "bus1": "x", "p_nom": 200.0}],
             "markets": [{"name": "buyer", "bus": "x", "buy_max_mw": 200.0}],
             "reservoirs": [{"name": "dam", "bus": "a", "p_nom": 100.0, "production_mw_per_m3s": 1.0,
                             "volume_min_hm3": 1.0, "volume_max_hm3": 100.0, "volume_initial_hm3": 10.0}]},
            {"load_firm_mw": series(hours, a=0.0), "inflow_m3s": series(hours, dam=60.0),
             "buy_price": series(hours, buyer=([400.0] * 16 + [900.0] * 8) * 4),
             "volume_target_hm3": series(hours, dam=90.0)},
            hours=hours, penalties={"curtailment_cny_per_mwh": 0.0, "spill_cny_per_mwh": 0.0,
                                    "end_target_cny_per_mwh": 500.0})
    mono = gridopt.dispatch(n)
    kw = dict(window=24, overlap=0, tail=0, coarse_hours=24)
    credited, bare = dispatch_rolling(n, credit=True, **kw), dispatch_rolling(n, **kw)
    # by default only with a guide finer than a day, in one chain (docs/rolling.md gives the measurements)
    assert credited.summary["rolling"]["credit"] and not bare.summary["rolling"]["credit"]
    credit = lambda **kw: RollingOptions.for_horizon(hours, window=24, **kw).credit
    assert credit(coarse_hours=8) and not credit(coarse_hours=24) and not credit(coarse_hours=8, chains=2)
    assert not credit(coarse_hours=8, guide="rule") and not credit(coarse_hours=8, credit=True, guide="rule")
    assert credited.summary["objective_cny"] == pytest.approx(mono.summary["objective_cny"], rel=1e-9)
    day_end = lambda r: r.hydro["volume_hm3"].to_numpy()[23::24]
    assert day_end(credited) == pytest.approx(day_end(mono), abs=1e-6)
    # without the credit, water sold at 400 instead of kept: days end 0.9, 6.7 and 12.5 hm3 lower, and 5 %
    # dearer (the stitched objective holds no credit, so it compares with the one LP's)
    assert (day_end(bare)[:3] < day_end(mono)[:3] - 0.5).all()
    assert bare.summary["objective_cny"] > 1.03 * mono.summary["objective_cny"]


@pytest.mark.parametrize("parallel,chains", [(False, None), (True, None), (True, 2)])
def test_rolling_stitches_a_feasible_dispatch_near_the_optimum(syn, parallel, chains):
    mono = gridopt.dispatch(syn)
    roll = dispatch_rolling(syn, window=24, overlap=12, parallel=parallel, processes=2, chains=chains)
    assert roll.summary["status"] == "optimal"
    info = roll.summary["rolling"]
    assert info["windows"] == 5 and info["chains"] == (chains or 5 if parallel else 1)
    # windows are small LPs, on IPX; the coarse solve runs HiPO where it is installed
    assert info["coarse_algorithm"] == ("hipo" if has_solver("hipo") else "ipx")
    assert roll.summary["algorithm"] == "ipx"
    t = roll.tables
    assert t["prices"]["hour"].nunique() == 120 and len(t["prices"]) == 120 * len(syn.tables["buses"])
    assert check_tables(t) == []
    gap = (roll.summary["objective_cny"] - mono.summary["objective_cny"]) / abs(mono.summary["objective_cny"])
    hy = t["hydro"]
    piv = {c: hy.pivot(index="hour", columns="reservoir", values=c)
           for c in ("volume_hm3", "natural_inflow_m3s", "upstream_inflow_m3s", "release_m3s", "spill_m3s")}
    d = (piv["natural_inflow_m3s"] + piv["upstream_inflow_m3s"] - piv["release_m3s"] - piv["spill_m3s"]).to_numpy()
    vol = piv["volume_hm3"].to_numpy()
    step = np.isclose(vol[1:] - vol[:-1], K * d[1:], atol=1e-6).all(axis=1)  # volume continues into hour t+1
    # windows of one chain carry every state: volumes continue across their joins (hours 24, 48, ...); chains
    # (two here: windows 1-3 and 4-5) meet at a boundary state, where they may not
    joins_at = {None: [] if not parallel else [24, 48, 72, 96], 2: [72]}[chains]
    assert all(step[h - 1] for h in range(1, 120) if h not in joins_at)
    if not parallel:
        assert gap >= -1e-7  # one feasible dispatch of the whole horizon
    # chains join on boundary states: nothing a window starts with is missing from its predecessor's end
    # (committed capacity they find at their start is charged its start-up cost in the stitched objective)
    joins = info["joins"]
    assert joins["water_created_hm3"] < 1e-6 and joins["soc_created_mwh"] < 1e-6 and joins["gas_created_mm3"] < 1e-6
    if not parallel:
        assert all(v == 0 for v in joins.values())
    else:
        assert joins["start_up_unpaid_cny"] > 0  # the seed's windows do find capacity committed at their start
    assert gap >= -1e-7  # in parallel only with the unpaid start-ups charged: they are worth 0.45 % here
    assert abs(gap) < 0.05, gap
    print(f"rolling gap ({'parallel' if parallel else 'sequential'}, chains {chains}): {gap:+.4%}")


def test_end_targets_can_count_water_in_transit(syn):
    """With transit_hm3 given, a reservoir's end target adds that much water and counts the upstream
    releases of the last delay hours, which arrive after the end."""
    from gridopt.formulation.context import Targets
    res = syn.tables["reservoirs"]
    links = [(u, d, int(n)) for u, (d, n) in res[["downstream", "delay_hours"]].iterrows() if d in res.index and n > 0]
    downs = sorted({d for _, d, _ in links})
    assert downs

    def water(r):
        hy = r.tables["hydro"]
        out = (hy["release_m3s"] + hy["spill_m3s"]).groupby([hy["hour"], hy["reservoir"]]).sum().unstack()
        w = hy.pivot(index="hour", columns="reservoir", values="volume_hm3").iloc[-1][downs].to_dict()
        for u, d, n in links:
            w[d] += K * out[u].iloc[-n:].sum()
        return w

    free = gridopt.dispatch(syn, hours=48)
    base = free.tables["hydro"].pivot(index="hour", columns="reservoir", values="volume_hm3").iloc[-1]
    tg = Targets(volume_hm3={d: base[d] + 2.0 for d in downs}, transit_hm3={d: 3.0 for d in downs},
                 case_end_target=False)
    r = gridopt.dispatch(syn, hours=48, targets=tg)
    got = water(r)
    short = sum(max(base[d] + 5.0 - got[d], 0.0) for d in downs)
    assert short <= r.summary["end_target_shortfall_hm3"] + 1e-6
    assert r.summary["end_target_shortfall_hm3"] < 0.5 * 5.0 * len(downs)  # mostly met, not paid away


def test_targets_at_a_given_hour(small):
    """Targets.hour moves the volume, charge and gas targets to that hour, where they hold (a rolling
    window's boundary at the end of its kept hours, with look-ahead after it)."""
    from gridopt.formulation.context import Targets
    T, at = 6, 3
    free = gridopt.dispatch(small, hours=T)
    soc_free = free.tables["storage"].set_index("hour")["soc_mwh"]
    vol_free = free.tables["hydro"].pivot(index="hour", columns="reservoir", values="volume_hm3")
    gas_free = free.tables["gas"].set_index(["hour", "node"])["inventory_mm3"].xs("gB", level="node")
    want = {"soc": float(soc_free.iloc[at]) + 100.0, "up": float(vol_free["up"].iloc[at]) + 1.0,
            "gas": min(float(gas_free.iloc[at]) + 0.3, 2.0)}
    tg = Targets(volume_hm3={"up": want["up"]}, soc_min_mwh={"phs": want["soc"]}, gas_inventory_min_mm3={"ugs": want["gas"]},
                 hour=at, case_end_target=False)
    r = gridopt.dispatch(small, hours=T, targets=tg)
    soc = r.tables["storage"].set_index("hour")["soc_mwh"]
    vol = r.tables["hydro"].pivot(index="hour", columns="reservoir", values="volume_hm3")
    gas = r.tables["gas"].set_index(["hour", "node"])["inventory_mm3"].xs("gB", level="node")
    assert soc.iloc[at] >= want["soc"] - 1e-6 and soc_free.iloc[at] < want["soc"] - 1.0
    assert gas.iloc[at] >= want["gas"] - 1e-6
    short = r.summary["end_target_shortfall_hm3"]
    assert vol["up"].iloc[at] + short >= want["up"] - 1e-6
    assert vol_free["up"].iloc[at] < want["up"] - 0.5 and short < 1.0  # binding, and met rather than paid


def test_mixed_resolution_conserves_water_and_energy(syn):
    """A window with an hourly head and 24-h blocks after it (a rolling window's coarse look-ahead): every
    reservoir and store balances over each snapshot's own duration, and water crossing from the hourly
    hours into the blocks through the cascade's travel delays is neither lost nor created."""
    head = 36
    mixed = syn.slice(syn.snapshots[0], 108).resample(24, keep=head)
    dt = mixed.durations()
    assert dt.tolist() == [1.0] * head + [24.0] * 3
    r = gridopt.dispatch(mixed)
    assert r.summary["status"] == "optimal" and r.summary["snapshot_hours"] is None
    hourly = gridopt.dispatch(syn, hours=108)

    def ledger(res, dur):
        hy = res.tables["hydro"]
        piv = {c: hy.pivot(index="hour", columns="reservoir", values=c)
               for c in ("volume_hm3", "natural_inflow_m3s", "upstream_inflow_m3s", "release_m3s", "spill_m3s")}
        net_in = piv["natural_inflow_m3s"] + piv["upstream_inflow_m3s"] - piv["release_m3s"] - piv["spill_m3s"]
        vol = piv["volume_hm3"].to_numpy()
        assert np.allclose(vol[1:] - vol[:-1], K * dur[1:, None] * net_in.to_numpy()[1:], atol=1e-6)
        res_tab = syn.tables["reservoirs"]
        feeds = res_tab.index[res_tab["downstream"].isin(res_tab.index)]
        sent = float((K * dur[:, None] * (piv["release_m3s"] + piv["spill_m3s"])[feeds].to_numpy()).sum())
        got = float((K * dur[:, None] * piv["upstream_inflow_m3s"].to_numpy()).sum())
        # what arrived = what was sent in the horizon - what is still on its way + what was on its way at the start
        return got - sent + res.summary["water_in_transit_hm3"]

    # the water on its way at the start is the same in both (same hourly head), so the ledgers agree
    assert ledger(r, dt) == pytest.approx(ledger(hourly, np.ones(108)), abs=1e-6)
    st = r.tables["storage"]
    units = syn.tables["storage_units"]
    for u, grp in st.groupby("unit"):
        soc, ch, dis = (grp[c].to_numpy() for c in ("soc_mwh", "charge_mw", "discharge_mw"))
        keep = (1 - units.at[u, "standing_loss"]) ** dt[1:]
        flows = dt[1:] * (units.at[u, "efficiency_store"] * ch[1:] - dis[1:] / units.at[u, "efficiency_dispatch"])
        assert np.allclose(soc[1:], keep * soc[:-1] + flows, atol=1e-5)
    # the blocks are a relaxation of the hours they average, up to the delays' rounding: close to the hourly cost
    assert r.summary["objective_cny"] == pytest.approx(hourly.summary["objective_cny"], rel=0.05)


def test_rolling_with_a_coarse_look_ahead_is_feasible(syn):
    """Sequential windows that see the rest of the horizon in 6-h blocks: the stitched dispatch carries every
    state, so it costs at least the one-LP optimum, and close to it."""
    mono = gridopt.dispatch(syn)
    roll = dispatch_rolling(syn, window=24, overlap=12, tail=None, tail_block=6)
    info = roll.summary["rolling"]
    assert info["tail_hours"] == 120 - 36 and info["tail_block_hours"] == 6
    assert check_tables(roll.tables) == [] and roll.tables["prices"]["hour"].nunique() == 120
    assert all(v == 0 for v in info["joins"].values())
    gap = (roll.summary["objective_cny"] - mono.summary["objective_cny"]) / abs(mono.summary["objective_cny"])
    assert -1e-7 <= gap < 0.05, gap


def test_cli_rolling_defaults_follow_the_horizon(small_case, tmp_path, monkeypatch):
    """`run --window` solves windows in one chain guided by an 8-h coarse solve up to a quarter of a year, and
    in 2 chains guided by a daily one beyond (options.SHORT_HORIZON_HOURS, lowered here to 4 h), crediting water kept
    above the guide's volumes only in the first, and with a longer look-ahead there; --chains, --guide, --tail, --tail-block, --coarse-hours and
    --credit/--no-credit say otherwise; --parallel (every window alone) and --chains together are refused."""
    import json

    import gridopt.rolling.options
    from gridopt.cli import main

    def modes(*runs):
        out = {}
        for extra in runs:
            folder = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
            assert main(["run", str(small_case), "--hours", "6", "--window", "2", "--overlap", "1", "--out",
                         str(folder), *extra]) == 0
            info = json.loads((folder / "summary.json").read_text())["rolling"]
            out[" ".join(extra)] = (info["mode"], info["chains"], info["tail_hours"], info["tail_block_hours"],
                                    info["guide"], info["coarse_hours"], info["credit"])
        return out

    assert modes([], ["--chains", "2", "--guide", "rule", "--tail", "0"], ["--parallel", "--credit"],
                 ["--tail", "end", "--tail-block", "2", "--coarse-hours", "2", "--no-credit"]) == {
        "": ("sequential", 1, 3, 3, "targets", 8, True),
        "--chains 2 --guide rule --tail 0": ("parallel", 2, 0, 3, "rule", 8, False),
        "--parallel --credit": ("parallel", 3, 3, 3, "targets", 8, True),
        "--tail end --tail-block 2 --coarse-hours 2 --no-credit": ("sequential", 1, 3, 2, "targets", 2, False)}
    # the look-ahead by horizon: 24 h hourly + 336 h in blocks up to a quarter of a year, 6 + 120 h beyond
    look_ahead = lambda hours: (RollingOptions.for_horizon(hours).overlap, RollingOptions.for_horizon(hours).tail)
    assert look_ahead(2190) == (24, 336) and look_ahead(2191) == (6, 120)
    monkeypatch.setattr(gridopt.rolling.options, "SHORT_HORIZON_HOURS", 4)
    assert modes([], ["--chains", "1"]) == {"": ("parallel", 2, 3, 3, "targets", 24, False),
                                            "--chains 1": ("sequential", 1, 3, 3, "targets", 24, False)}
    # --passes N: every pass's objective is reported and the cheapest pass is the result
    out = tmp_path / "passes"
    assert main(["run", str(small_case), "--hours", "6", "--window", "2", "--overlap", "1", "--chains", "1",
                 "--passes", "2", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    info = summary["rolling"]
    assert info["passes"] == 2 and len(info["pass_objectives_cny"]) == 2
    assert summary["objective_cny"] == pytest.approx(min(info["pass_objectives_cny"]), rel=1e-12)
    assert info["pass_objectives_cny"][info["best_pass"] - 1] == min(info["pass_objectives_cny"])
    with pytest.raises(SystemExit) as exc:
        main(["run", str(small_case), "--hours", "6", "--window", "2", "--passes", "0", "--out", str(tmp_path / "bad")])
    assert exc.value.code == 2
    assert main(["run", str(small_case), "--hours", "6", "--window", "2", "--parallel", "--chains", "2",
                 "--out", str(tmp_path / "bad")]) == 2
    assert not (tmp_path / "bad").exists()


def test_rolling_keeps_a_carbon_cap(syn):
    """A system cap over the horizon is split between chains along the coarse emission path. Within a chain
    each window is capped by the coarse share of its hours and the last takes what the chain has left, in
    its kept hours where the next chain follows (Targets.carbon_caps_t): every mode keeps the cap."""
    free = gridopt.dispatch(syn).summary["emissions_t"]["system"]
    cap = 0.9 * free
    mono = gridopt.dispatch(syn, carbon_caps={"system": cap})
    assert mono.summary["carbon_shadow_price_cny_per_t"]["cap:system"] > 0  # binding
    for parallel, chains in ((False, None), (True, 2), (True, None)):
        roll = dispatch_rolling(syn, window=24, overlap=12, parallel=parallel, chains=chains, processes=2,
                                carbon_caps={"system": cap})
        assert roll.summary["status"] == "optimal"
        assert roll.summary["emissions_t"]["system"] <= cap * (1 + 1e-6)
        assert roll.summary["emissions_t"]["system"] > 0.97 * cap  # the cap is used, not wasted
        if not parallel:
            assert roll.summary["objective_cny"] >= mono.summary["objective_cny"] * (1 - 1e-7)


@pytest.fixture(scope="module")
def june_4d():
    from gridopt.casefiles import load_case
    net = load_case("sichuan_chongqing")
    return net, gridopt.dispatch(net, start="2025-06-01", hours=96)


@pytest.mark.slow
def test_windows_aimed_at_the_optimum_keep_its_water(june_4d):
    """Windows guided by the one-LP optimum's own water (volume plus water on its way in) hold what the
    optimum holds where they join. A window whose end target left out the water in transit stopped its
    releases before its end to keep that water in its targets, and spent it earlier instead: on this case
    its first 48 h ended 0.7 TWh (in stored energy down the cascades) below the optimum."""
    from gridopt.formulation import build_lp
    from gridopt.rolling import water_path
    net, mono = june_4d
    path = water_path(net, mono)
    roll = dispatch_rolling(net, start="2025-06-01", hours=96, window=48, overlap=24, tail=0, volumes=path)
    assert roll.summary["rolling"]["guide"] == "volumes" and roll.summary["rolling"]["windows"] == 2
    energy = pd.Series(build_lp(net, start="2025-06-01", hours=1).hydro.mwh_per_hm3,
                       index=net.active("reservoirs").index)
    join = path.index[47]
    off = ((water_path(net, roll).loc[join] - path.loc[join]) * energy).sum()
    # MWh: -0.02 TWh here; +0.11 TWh where the targets count the water in transit but the windows do not
    assert abs(off) < 0.06e6, off
    # the water path: volume plus the upstream releases of the last delay hours
    res = net.active("reservoirs")
    u, (d, n) = next((u, (d, n)) for u, (d, n) in res[["downstream", "delay_hours"]].iterrows() if n >= 2)
    hy = mono.tables["hydro"]
    out = hy[hy["reservoir"] == u].set_index("hour")[["release_m3s", "spill_m3s"]].sum(axis=1)
    vol = hy[hy["reservoir"] == d].set_index("hour")["volume_hm3"]
    n = int(np.rint(n))
    assert path.loc[join, d] == pytest.approx(vol[join] + K * out.loc[:join].iloc[-n:].sum(), rel=1e-12)
    with pytest.raises(gridopt.UsageError, match="volume path"):
        dispatch_rolling(net, start="2025-06-01", hours=96, window=48, volumes=path.iloc[:10])


def test_chains_meet_within_the_rule_curves():
    """Where chains meet, the next chain starts on the guide's volume less the water then in transit, and
    no lower than the case's rule curve: on the shipped case small reservoirs below big ones (Houziyan,
    Dagangshan) otherwise started below their rule minimum, and a year paid 0.25 G CNY for it at its join."""
    from gridopt.casefiles import load_case
    net = load_case("sichuan_chongqing")
    r = dispatch_rolling(net, start="2025-06-30", hours=96, window=48, overlap=24, tail=0, parallel=True, chains=2,
                         processes=1)
    assert r.summary["rolling"]["chains"] == 2
    hy = r.tables["hydro"]
    join = hy[hy["hour"] == pd.Timestamp("2025-07-02")].set_index("reservoir")
    rule = net.series["volume_min_rule_hm3"].loc[pd.Timestamp("2025-07-02")]
    assert join["rule_min_violation_hm3"].sum() < 1e-6  # 1.9 hm3 before
    assert r.summary["penalties_cny"]["rule_curve_cny"] < 1e3  # 6.7 M CNY before
    has = rule.dropna().index.intersection(join.index)
    assert (join.loc[has, "volume_hm3"] >= rule[has] - 1e-6).all()


def test_chains_start_within_a_rule_curve_that_steps_up_where_they_meet():
    """The shipped rule curves step at midnight, where chains meet. A chain starts within the curves of the
    hour before it and of its own first hour: the day-1 coarse volume, all a daily model must hold, is short
    of the minimum that holds from the first hour of day 2."""
    from tiny import buses, net, series
    hours = 48
    n = net({"buses": buses("a"),
             "generators": [{"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 100, "marginal_cost": 300},
                            {"name": "gas", "bus": "a", "carrier": "gas", "p_nom": 500, "marginal_cost": 600}],
             "reservoirs": [{"name": "dam", "bus": "a", "p_nom": 100.0, "production_mw_per_m3s": 1.0,
                             "volume_min_hm3": 1.0, "volume_max_hm3": 100.0, "volume_initial_hm3": 20.0}]},
            # water is worth more on day 1 (gas at the margin) than on day 2 (coal): the daily model spends it
            # on day 1 down to what day 2 needs to end on its minimum
            {"load_firm_mw": series(hours, a=[150.0] * 24 + [80.0] * 24), "inflow_m3s": series(hours, dam=10.0),
             "volume_min_rule_hm3": series(hours, dam=[5.0] * 24 + [15.0] * 24)}, hours=hours)
    r = dispatch_rolling(n, window=24, overlap=0, tail=0, parallel=True, chains=2, processes=1)
    hy = r.tables["hydro"].set_index("hour")
    assert hy["rule_min_violation_hm3"].max() < 1e-6  # 0.83 hm3 at hour 24 before
    assert hy["volume_hm3"].iloc[24] >= 15.0 - 1e-6
    assert r.summary["penalties_cny"]["rule_curve_cny"] < 1e-3


@pytest.mark.slow
def test_later_passes_aim_at_the_water_the_pass_before_found(june_4d):
    """passes=2: the second pass's windows aim at the first pass's water path; the cheaper pass is kept and
    every pass's objective is reported."""
    net, mono = june_4d
    one = dispatch_rolling(net, start="2025-06-01", hours=96, window=48, overlap=24, tail=0)
    two = dispatch_rolling(net, start="2025-06-01", hours=96, window=48, overlap=24, tail=0, passes=2)
    info = two.summary["rolling"]
    assert info["passes"] == 2 and len(info["pass_objectives_cny"]) == 2
    assert info["pass_objectives_cny"][0] == pytest.approx(one.summary["objective_cny"], rel=1e-6)
    assert two.summary["objective_cny"] == pytest.approx(min(info["pass_objectives_cny"]), rel=1e-12)
    assert info["best_pass"] == 1 + int(np.argmin(info["pass_objectives_cny"]))
    assert check_tables(two.tables) == []
    # the second pass alone: the first pass's water as the guide
    from gridopt.rolling import water_path
    again = dispatch_rolling(net, start="2025-06-01", hours=96, window=48, overlap=24, tail=0,
                             volumes=water_path(net, one))
    assert again.summary["objective_cny"] == pytest.approx(info["pass_objectives_cny"][1], rel=1e-6)
    print("passes", [round(o / 1e6, 3) for o in info["pass_objectives_cny"]], "one LP", mono.summary["objective_cny"] / 1e6)


def test_options_fill_every_default_by_the_horizon():
    """One LP up to a month and windows beyond; up to a quarter of a year an 8-h guide pulled towards the
    plan, 24 + 336 h of look-ahead, one chain and the credit; beyond, a daily guide without the pull,
    6 + 120 h and 2 chains without the credit."""
    O = RollingOptions.for_horizon
    assert not O(744).windowed and O(745).windowed and O(745).window == 168
    short, long = O(2190), O(2191)
    assert (short.coarse_hours, short.overlap, short.tail, short.chains, short.credit) == (8, 24, 336, 1, True)
    assert (long.coarse_hours, long.overlap, long.tail, long.chains, long.credit) == (24, 6, 120, 2, False)
    assert (short.plan_pull, long.plan_pull) == (0.05, 0.0)
    for o in (short, long):
        assert (o.tail_block, o.guide, o.processes, o.passes) == (3, "targets", 2, 1)
    assert not short.parallel and long.parallel
    # a window given decides whether the horizon is split: 0 or the whole horizon is one LP
    assert [O(100, window=w).windowed for w in (0, 24, 100)] == [False, True, False]
    # chains: at most one per window (100 h in 24-h windows: 4, the last keeping 28 h)
    assert O(100, window=24, parallel=True).chains == 4 and O(100, window=24, chains=9).chains == 4
    assert O(8760, parallel=False).chains == 1 and O(8760, guide="values").chains == 1
    assert O(8760, credit=True).credit and not O(100, credit=False).credit
    assert O(100, tail=None).tail is None and O(100, tail=0).tail == 0 and O(100, tail="auto").tail == 336
    with pytest.raises(AttributeError):
        short.window = 24  # frozen
    for bad in (dict(guide="plan"), dict(plan_pull=-1.0), dict(overlap=-1), dict(window=-1), dict(tail=-1),
                dict(tail="soon"), dict(tail_block=0), dict(passes=0), dict(coarse_hours=0), dict(processes=0),
                dict(chains=0), dict(parallel=False, chains=2), dict(guide="values", chains=2), dict(hurry=True)):
        with pytest.raises(gridopt.UsageError):
            O(8760, **bad)


def test_the_command_line_and_the_library_resolve_the_same_options(monkeypatch, tmp_path):
    """`gridopt run --hours H` and `dispatch_rolling(net, hours=H)` run with RollingOptions.for_horizon(H)
    (stopped before any solve); up to a month the command line solves one LP."""
    import gridopt.engine
    import gridopt.rolling
    import gridopt.rolling.run
    from gridopt.cli import main

    class Stop(gridopt.UsageError):
        pass

    seen = {}

    def stop(key, value):
        seen[key] = value
        raise Stop("stopped before solving")

    monkeypatch.setattr(gridopt.rolling, "dispatch_rolling", lambda net, options=None, **kw: stop("cli", options))
    monkeypatch.setattr(gridopt.rolling.run, "solve_guide", lambda net, run, options, *a, **kw: stop("lib", options))
    monkeypatch.setattr(gridopt.engine, "dispatch", lambda net, **kw: stop("one LP", kw["hours"]))
    net = gridopt.load_case("sichuan_chongqing")
    for hours in (745, 2190, 2191, 8760):
        seen.clear()
        assert main(["run", "sichuan_chongqing", "--hours", str(hours), "--out", str(tmp_path / "x")]) == 2
        with pytest.raises(Stop):
            gridopt.rolling.run.dispatch_rolling(net, hours=hours)
        assert seen["cli"] == seen["lib"] == RollingOptions.for_horizon(hours), hours
    assert seen["cli"].chains == 2 and seen["cli"].parallel
    seen.clear()
    assert main(["run", "sichuan_chongqing", "--hours", "744", "--out", str(tmp_path / "x")]) == 2
    assert seen == {"one LP": 744}
    # options given on the command line are the same options in the library
    seen.clear()
    assert main(["run", "sichuan_chongqing", "--hours", "2000", "--window", "96", "--chains", "3", "--tail", "end",
                 "--no-credit", "--out", str(tmp_path / "x")]) == 2
    assert seen["cli"] == RollingOptions.for_horizon(2000, window=96, chains=3, tail=None, credit=False)
    assert not (tmp_path / "x").exists()


def _unit_off(unit: str, seen: list):
    """A build hook holding `unit`'s output at zero in every snapshot; records the snapshots it saw."""

    def hook(ctx) -> None:
        seen.append(len(ctx.snapshots))
        p = ctx.lp.variables["gen_p"]
        j = p.elements.get_loc(unit)
        ctx.lp.add_constraint("user_unit_off", [unit], [(p.idx[:, [j]], 1.0)], upper=0.0)

    return hook


def test_user_hooks_apply_to_the_coarse_solve_and_every_window(syn):
    """A hook given to dispatch_rolling builds into the coarse solve (first) and every window, in one chain
    and in chains on local processes (forked: a hook defined in a function need not pickle)."""
    kw = dict(window=24, overlap=12, tail=0)
    free = dispatch_rolling(syn, **kw).generation.groupby("unit")["p_mw"].sum()
    unit = free[free.index.str.startswith("coal")].idxmax()
    assert free[unit] > 1.0
    for extra in ({}, dict(parallel=True, chains=2, processes=1)):
        seen: list[int] = []
        r = dispatch_rolling(syn, hooks=[_unit_off(unit, seen)], **kw, **extra)
        gen = r.generation
        assert r.summary["status"] == "optimal" and gen.loc[gen["unit"] == unit, "p_mw"].abs().max() < 1e-6
        # the coarse solve in 8-h snapshots, then (here, in one chain) 5 windows of 36 h, the last 24 h
        assert seen == ([15, 36, 36, 36, 36, 24] if not extra else [15])


def test_solver_options_reach_every_solve_unchanged(syn, monkeypatch):
    """threads, time_limit and highs_options cross rolling once, to the coarse solve and every window."""
    import gridopt.engine
    import gridopt.rolling.chains
    import gridopt.rolling.guide
    calls = []

    def spy(net, **kw):
        calls.append({k: kw.get(k) for k in ("threads", "time_limit", "highs_options")})
        return gridopt.engine.dispatch(net, **kw)

    monkeypatch.setattr(gridopt.rolling.chains, "dispatch", spy)
    monkeypatch.setattr(gridopt.rolling.guide, "dispatch", spy)
    options = dict(threads=1, time_limit=600.0, highs_options={"solver": "ipx"})
    r = dispatch_rolling(syn, window=48, overlap=12, tail=0, **options)
    assert r.summary["status"] == "optimal"
    assert calls == [options] * 4  # the coarse solve and 3 windows
