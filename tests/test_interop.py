"""Exchange formats: PyPSA CSV folders in and out, MATPOWER cases in.

Small PyPSA networks are built here, solved by PyPSA (HiGHS) and, after `import-pypsa`, by gridopt:
the objectives must agree to 1e-6 relative. MATPOWER cases (case9 typed in from the published file) are
checked against an independent angle-formulation DC-OPF solved with scipy.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tiny import buses, net, series

import gridopt
from gridopt.cli import main
from gridopt.interop import InteropWarning, read_matpower, read_pypsa

DATA = Path(__file__).parent / "data" / "interop"
REL = 1e-6


def _pypsa():
    pypsa = pytest.importorskip("pypsa")
    for name in ("pypsa", "linopy", "highspy"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return pypsa


def new_network(hours: int, weight: float | None = None):
    pypsa = _pypsa()
    n = pypsa.Network()
    n.set_snapshots(pd.date_range("2025-01-01", periods=hours, freq="h"))
    if weight is not None:
        n.snapshot_weightings.loc[:, :] = weight
    return n


def pypsa_objective(n) -> float:
    status, condition = n.optimize(solver_name="highs")
    assert status == "ok", condition
    return float(n.objective)


def import_and_dispatch(n, tmp_path: Path, name: str = "net"):
    """Export `n` to CSV, import it as a gridopt case folder, load it back and dispatch it."""
    folder = tmp_path / f"{name}_pypsa"
    n.export_to_csv_folder(str(folder))
    assert main(["import-pypsa", str(folder), str(tmp_path / name)]) == 0
    return gridopt.dispatch(gridopt.load_case(tmp_path / name))


def assert_same_objective(n, tmp_path: Path) -> float:
    expected = pypsa_objective(n)
    res = import_and_dispatch(n, tmp_path)
    assert res.summary["objective_cny"] == pytest.approx(expected, rel=REL)
    assert sum(res.summary["penalties_cny"].values()) == pytest.approx(0.0, abs=1e-6)
    return expected


# ---- PyPSA -> gridopt ---------------------------------------------------------------------------

def test_meshed_ac_with_parallel_lines(tmp_path):
    n = new_network(3)
    n.add("Carrier", "gas", co2_emissions=0.2)
    for b in "abcd":
        n.add("Bus", b, v_nom=110.0)
    n.add("Line", "ab", bus0="a", bus1="b", x=10.0, r=1.0, s_nom=120.0)
    n.add("Line", "ab2", bus0="a", bus1="b", x=20.0, r=2.0, s_nom=60.0)  # parallel circuit
    n.add("Line", "bc", bus0="b", bus1="c", x=15.0, s_nom=200.0)
    n.add("Line", "ca", bus0="c", bus1="a", x=12.0, s_nom=80.0)
    n.add("Line", "cd", bus0="c", bus1="d", x=8.0, s_nom=150.0, s_max_pu=0.8)
    n.add("Generator", "cheap", bus="a", p_nom=400.0, marginal_cost=10.0, carrier="gas", efficiency=0.4)
    n.add("Generator", "mid", bus="b", p_nom=200.0, marginal_cost=30.0, p_min_pu=0.1)
    n.add("Generator", "dear", bus="d", p_nom=300.0, marginal_cost=80.0)
    n.add("Load", "lc", bus="c", p_set=[150.0, 180.0, 120.0])
    n.add("Load", "ld", bus="d", p_set=[140.0, 160.0, 100.0])
    n.add("Load", "ld2", bus="d", p_set=20.0)  # two loads at one bus are summed
    obj = assert_same_objective(n, tmp_path)
    assert main(["run", str(tmp_path / "net"), "--hours", "3", "--out", str(tmp_path / "results")]) == 0
    summary = json.loads((tmp_path / "results" / "summary.json").read_text())
    assert summary["objective_cny"] == pytest.approx(obj, rel=REL)
    case = gridopt.load_case(tmp_path / "net")
    assert case.tables["generators"].at["cheap", "co2_t_per_mwh"] == pytest.approx(0.5)
    assert case.series["load_firm_mw"]["d"].tolist() == [160.0, 180.0, 120.0]
    assert obj > 0


def test_one_way_lossy_link_and_lossless_two_way_link(tmp_path):
    n = new_network(2)
    for b in ("a", "b", "c"):
        n.add("Bus", b, v_nom=500.0)
    n.add("Link", "hvdc", bus0="a", bus1="b", p_nom=100.0, efficiency=0.95, marginal_cost=1.0)
    n.add("Link", "b2b", bus0="c", bus1="b", p_nom=80.0, p_min_pu=-1.0)
    n.add("Generator", "ga", bus="a", p_nom=300.0, marginal_cost=5.0)
    n.add("Generator", "gb", bus="b", p_nom=300.0, marginal_cost=60.0)
    n.add("Generator", "gc", bus="c", p_nom=50.0, marginal_cost=20.0)
    n.add("Load", "lb", bus="b", p_set=[200.0, 100.0])
    n.add("Load", "lc", bus="c", p_set=[20.0, 120.0])  # hour 2: c imports over b2b in reverse
    assert_same_objective(n, tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_pypsa(tmp_path / "net_pypsa")
    assert not [w for w in caught if issubclass(w.category, InteropWarning)]  # neither link is approximated


def test_link_availability_series_comes_in_and_goes_back_out(tmp_path):
    """links-p_max_pu.csv (e.g. a link entering service) becomes link_p_max_pu, on the link's scaled rating, and
    export-pypsa writes it back: PyPSA's objective both ways."""
    n = new_network(3)
    for b in ("a", "b"):
        n.add("Bus", b, v_nom=500.0)
    n.add("Link", "new_dc", bus0="a", bus1="b", p_nom=100.0, p_max_pu=[0.0, 0.4, 1.2], efficiency=0.97)
    n.add("Generator", "ga", bus="a", p_nom=300.0, marginal_cost=5.0)
    n.add("Generator", "gb", bus="b", p_nom=300.0, marginal_cost=60.0)
    n.add("Load", "lb", bus="b", p_set=[90.0, 90.0, 90.0])
    obj = assert_same_objective(n, tmp_path)
    case = gridopt.load_case(tmp_path / "net")
    assert case.tables["links"].at["new_dc", "p_nom"] == pytest.approx(120.0)
    assert case.series["link_p_max_pu"]["new_dc"].tolist() == pytest.approx([0.0, 0.4 / 1.2, 1.0])
    assert main(["export-pypsa", str(tmp_path / "net"), str(tmp_path / "back")]) == 0
    back = pd.read_csv(tmp_path / "back" / "links-p_max_pu.csv", index_col=0)
    assert back["new_dc"].tolist() == pytest.approx([0.0, 0.4 / 1.2, 1.0])
    assert main(["import-pypsa", str(tmp_path / "back"), str(tmp_path / "again")]) == 0
    res = gridopt.dispatch(gridopt.load_case(tmp_path / "again"))
    assert res.summary["objective_cny"] == pytest.approx(obj, rel=REL)


def test_lossy_two_way_link_is_imported_with_a_warning(tmp_path):
    n = new_network(1)
    n.add("Bus", "a")
    n.add("Bus", "b")
    n.add("Link", "lossy", bus0="a", bus1="b", p_nom=100.0, p_min_pu=-1.0, efficiency=0.9)
    n.add("Generator", "gb", bus="b", p_nom=200.0, marginal_cost=10.0)
    n.add("Generator", "ga", bus="a", p_nom=200.0, marginal_cost=50.0)
    n.add("Load", "la", bus="a", p_set=80.0)
    expected = pypsa_objective(n)
    folder = tmp_path / "lossy_pypsa"
    n.export_to_csv_folder(str(folder))
    with pytest.warns(InteropWarning, match=r"link lossy: lossy two-way link"):
        imp = read_pypsa(folder)
    link = imp.network.tables["links"].loc["lossy"]
    assert link["efficiency_reverse"] == pytest.approx(0.9) and link["p_min_pu"] == -1.0
    res = gridopt.dispatch(imp.network)
    # PyPSA delivers 80 MW at a for 0.9 * 80 MW at b; gridopt's reverse flow loses energy instead
    assert expected == pytest.approx(0.9 * 80 * 10)
    assert res.summary["objective_cny"] == pytest.approx(80 / 0.9 * 10)


def test_storage_units_with_and_without_inflow(tmp_path):
    hours = 6
    n = new_network(hours)
    n.add("Bus", "a", v_nom=110.0)
    n.add("Generator", "base", bus="a", p_nom=60.0, marginal_cost=10.0)
    n.add("Generator", "peak", bus="a", p_nom=200.0, marginal_cost=100.0)
    n.add("Load", "l", bus="a", p_set=[50.0, 40.0, 90.0, 120.0, 110.0, 60.0])
    n.add("StorageUnit", "battery", bus="a", p_nom=20.0, max_hours=2.0, efficiency_store=0.95,
          efficiency_dispatch=0.9, standing_loss=0.01, cyclic_state_of_charge=True, marginal_cost=0.5)
    n.add("StorageUnit", "phs", bus="a", p_nom=15.0, max_hours=4.0, efficiency_store=0.85,
          efficiency_dispatch=0.85, state_of_charge_initial=20.0, standing_loss=0.02)
    # a hydro unit whose inflow overfills its small reservoir: it must spill, at 2 per MWh
    n.add("StorageUnit", "hydro", bus="a", p_nom=25.0, max_hours=2.0, p_min_pu=0.0, efficiency_dispatch=0.9,
          inflow=[60.0, 50.0, 10.0, 5.0, 0.0, 40.0], spill_cost=2.0, state_of_charge_initial=30.0,
          marginal_cost=1.0)
    expected = pypsa_objective(n)
    assert float(n.storage_units_t.spill["hydro"].sum()) > 1.0  # the spill is priced in this test
    res = import_and_dispatch(n, tmp_path)
    assert res.summary["objective_cny"] == pytest.approx(expected, rel=REL)
    case = gridopt.load_case(tmp_path / "net")
    r = case.tables["reservoirs"].loc["hydro"]
    assert r["production_mw_per_m3s"] == pytest.approx(0.9)
    assert r["volume_max_hm3"] == pytest.approx(50.0 * 0.0036)
    assert r["volume_initial_hm3"] == pytest.approx(30.0 * 0.0036)
    assert case.config["penalties"]["spill_cny_per_mwh"] == pytest.approx(2.0 / 0.9)
    hy = res.hydro.set_index("hour")
    out = hy["p_mw"].to_numpy()
    assert out == pytest.approx(n.storage_units_t.p_dispatch["hydro"].to_numpy(), abs=1e-5)


def test_time_varying_availability_must_run_ramps_and_weightings(tmp_path):
    hours = 4
    n = new_network(hours, weight=3.0)
    n.add("Bus", "a")
    n.add("Bus", "b")
    n.add("Line", "ab", bus0="a", bus1="b", x=0.1, s_nom=90.0)
    n.add("Generator", "wind", bus="a", carrier="wind", p_nom=150.0, p_max_pu=[0.9, 0.2, 0.6, 1.0])
    n.add("Generator", "chp", bus="b", p_nom=80.0, marginal_cost=40.0, p_min_pu=[0.5, 0.2, 0.0, 0.3],
          p_max_pu=[1.0, 1.0, 0.8, 1.0])
    n.add("Generator", "coal", bus="b", p_nom=120.0, marginal_cost=25.0, ramp_limit_up=0.25, ramp_limit_down=0.25,
          p_init=30.0)
    n.add("Generator", "big", bus="a", p_nom=50.0, marginal_cost=5.0, p_max_pu=[1.5, 1.2, 0.0, 1.0])
    n.add("Load", "l", bus="b", p_set=[150.0, 190.0, 100.0, 170.0])
    assert_same_objective(n, tmp_path)
    case = gridopt.load_case(tmp_path / "net")
    assert case.series["weighting"]["objective"].tolist() == [3.0] * hours
    assert case.tables["generators"].at["big", "p_nom"] == pytest.approx(75.0)  # p_max_pu 1.5 rescaled
    assert "chp" in case.series["must_run_pu"].columns


def test_two_voltage_levels_joined_by_transformers(tmp_path):
    n = new_network(2)
    n.add("Bus", "hv1", v_nom=380.0)
    n.add("Bus", "hv2", v_nom=380.0)
    n.add("Bus", "lv1", v_nom=110.0)
    n.add("Bus", "lv2", v_nom=110.0)
    n.add("Line", "hv", bus0="hv1", bus1="hv2", x=40.0, s_nom=500.0)
    n.add("Line", "lv", bus0="lv1", bus1="lv2", x=6.0, s_nom=45.0)
    n.add("Transformer", "t1", bus0="hv1", bus1="lv1", x=0.12, s_nom=200.0, tap_ratio=1.05)
    n.add("Transformer", "t2", bus0="hv2", bus1="lv2", x=0.10, s_nom=150.0)
    n.add("Generator", "g_hv", bus="hv1", p_nom=400.0, marginal_cost=20.0)
    n.add("Generator", "g_lv", bus="lv2", p_nom=100.0, marginal_cost=70.0)
    n.add("Load", "load_lv1", bus="lv1", p_set=[60.0, 90.0])
    n.add("Load", "load_lv2", bus="lv2", p_set=[120.0, 150.0])
    assert_same_objective(n, tmp_path)


def test_co2_cap_becomes_the_case_carbon_cap(tmp_path):
    n = new_network(2)
    n.add("Carrier", "coal", co2_emissions=0.34)
    n.add("Bus", "a")
    n.add("Generator", "coal", bus="a", carrier="coal", p_nom=100.0, marginal_cost=10.0, efficiency=0.4)
    n.add("Generator", "gas", bus="a", p_nom=100.0, marginal_cost=50.0)
    n.add("Load", "l", bus="a", p_set=[80.0, 80.0])
    n.add("GlobalConstraint", "co2_limit", sense="<=", constant=85.0)
    expected = pypsa_objective(n)
    folder = tmp_path / "co2_pypsa"
    n.export_to_csv_folder(str(folder))
    imp = read_pypsa(folder)
    assert imp.carbon_cap_t == pytest.approx(85.0)
    assert imp.network.config["carbon_caps"] == {"system": 85.0}
    res = gridopt.dispatch(imp.network)  # the case's cap, without options
    assert res.summary["objective_cny"] == pytest.approx(expected, rel=REL)
    assert res.summary["carbon_caps_t"] == {"system": 85.0}


# ---- refusals -----------------------------------------------------------------------------------

def _refused(n, tmp_path: Path, capsys) -> str:
    folder = tmp_path / "refused_pypsa"
    n.export_to_csv_folder(str(folder))
    assert main(["import-pypsa", str(folder), str(tmp_path / "refused")]) == 1
    assert not (tmp_path / "refused").exists()
    return capsys.readouterr().err


def _one_bus(hours: int = 1):
    n = new_network(hours)
    n.add("Bus", "a")
    n.add("Load", "l", bus="a", p_set=10.0)
    return n


def test_committable_generator_is_refused(tmp_path, capsys):
    n = _one_bus()
    n.add("Generator", "unit", bus="a", p_nom=50.0, committable=True, p_min_pu=0.3)
    err = _refused(n, tmp_path, capsys)
    assert "generators.csv, row unit, column committable" in err and "unit commitment" in err
    assert len(err.strip().splitlines()) == 1


def test_unequal_weightings_are_kept(tmp_path):
    n = _one_bus(2)
    n.add("Generator", "g", bus="a", p_nom=50.0, marginal_cost=3.0)
    n.snapshot_weightings["objective"] = 2.0
    assert_same_objective(n, tmp_path)
    w = gridopt.load_case(tmp_path / "net").series["weighting"]
    assert w["objective"].tolist() == [2.0, 2.0] and w["generators"].tolist() == [1.0, 1.0]


def test_other_unsupported_features_are_refused_and_named(tmp_path, capsys):
    n = _one_bus(2)
    n.add("Bus", "b")
    n.add("Generator", "g", bus="a", p_nom=50.0, marginal_cost=[1.0, 2.0], p_min_pu=0.2)
    n.add("Line", "ab", bus0="a", bus1="b", x=1.0, s_nom=10.0, s_max_pu=[1.0, 0.5])
    n.add("StorageUnit", "soc_priced", bus="a", p_nom=5.0, marginal_cost_storage=1.0)
    n.add("ShuntImpedance", "sh", bus="a", g=0.1)
    n.add("GlobalConstraint", "tx", type="operational_limit", carrier_attribute="gas", sense="<=", constant=1.0)
    err = _refused(n, tmp_path, capsys)
    assert "generators.csv, row g, column marginal_cost: time-varying marginal_cost is only supported" in err
    assert "lines-s_max_pu.csv, row ab, column s_max_pu: time-varying" in err
    assert "storage_units.csv, row soc_priced, column marginal_cost_storage" in err
    assert "shunt_impedances.csv, row sh" in err
    assert "global_constraints.csv, row tx, column type" in err


# ---- gridopt -> PyPSA -> gridopt ----------------------------------------------------------------

def round_trip_network(hours: int = 4):
    tables = {
        "buses": buses("a", "b") + buses("c", region="B") + buses("a_lv", v_nom=220.0)
        + buses("x", region="external"),
        "lines": [{"name": "ab", "bus0": "a", "bus1": "b", "x": 30.0, "s_nom": 150.0},
                  {"name": "bc", "bus0": "b", "bus1": "c", "x": 40.0, "s_nom": 100.0},
                  {"name": "ca", "bus0": "c", "bus1": "a", "x": 50.0, "s_nom": 120.0}],
        "transformers": [{"name": "t", "bus0": "a", "bus1": "a_lv", "x": 0.1, "s_nom": 300.0, "tap_ratio": 0.98}],
        "links": [{"name": "dc", "bus0": "c", "bus1": "x", "p_nom": 60.0, "p_min_pu": -0.5, "efficiency": 0.97,
                   "efficiency_reverse": 0.95, "marginal_cost": 2.0}],
        "generators": [
            {"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 250.0, "marginal_cost": 20.0, "fuel_price": 30.0,
             "heat_rate": 9.0, "co2_t_per_mwh": 0.9, "ramp_limit_up": 0.3, "ramp_limit_down": 0.3},
            {"name": "gas", "bus": "c", "carrier": "gas", "p_nom": 150.0, "marginal_cost": 15.0, "fuel_price": 60.0,
             "heat_rate": 7.0, "co2_t_per_mwh": 0.4, "p_min_pu": 0.1},
            {"name": "pv", "bus": "b", "carrier": "pv", "p_nom": 120.0},
            {"name": "chp", "bus": "a_lv", "carrier": "coal", "p_nom": 40.0, "marginal_cost": 300.0,
             "co2_t_per_mwh": 0.9}],
        "storage_units": [{"name": "phs", "bus": "b", "p_nom": 30.0, "p_nom_store": 25.0, "max_hours": 3.0,
                           "efficiency_store": 0.88, "efficiency_dispatch": 0.9, "standing_loss": 0.01,
                           "cyclic_state_of_charge": False, "state_of_charge_initial": 20.0}],
        "reservoirs": [{"name": "dam", "bus": "c", "p_nom": 50.0, "production_mw_per_m3s": 0.8,
                        "volume_max_hm3": 0.5, "volume_min_hm3": 0.1, "volume_initial_hm3": 0.3,
                        "marginal_cost": 3.0}],
        "markets": [{"name": "east", "bus": "x", "buy_max_mw": 40.0, "buy_price": 120.0, "sell_max_mw": 30.0,
                     "sell_price": 400.0}],
    }
    ser = {"load_firm_mw": series(hours, a=[150.0, 200.0, 260.0, 180.0], b=[80.0, 120.0, 140.0, 90.0],
                                  c=[60.0, 70.0, 150.0, 60.0], a_lv=30.0),
           "load_interruptible_mw": series(hours, b=[10.0, 10.0, 40.0, 10.0]),
           "p_max_pu": series(hours, pv=[0.0, 0.5, 0.9, 0.3]),
           "must_run_pu": series(hours, chp=[0.5, 0.5, 0.0, 0.0]),
           "inflow_m3s": series(hours, dam=[20.0, 10.0, 30.0, 5.0]),
           "sell_price": series(hours, east=[400.0, 420.0, 500.0, 380.0])}
    return net(tables, ser, hours=hours, carbon_price=50.0,
               penalties={"curtailment_cny_per_mwh": 0.0, "spill_cny_per_mwh": 2.0,
                          "voll_interruptible_cny_per_mwh": 250.0})


def test_round_trip_gridopt_pypsa_gridopt_keeps_the_objective(tmp_path, capsys):
    pypsa = _pypsa()
    original = round_trip_network()
    expected = gridopt.dispatch(original).summary
    assert expected["load_shed_mwh"]["interruptible"] > 0  # shedding is priced in this test
    case = gridopt.write_case(original, tmp_path / "orig")
    assert main(["export-pypsa", str(case), str(tmp_path / "out_pypsa")]) == 0
    err = capsys.readouterr().err
    assert "warning: reservoir dam exported as a StorageUnit in energy units" in err
    assert "carbon price 50" in err
    n = pypsa.Network(str(tmp_path / "out_pypsa"))
    assert set(n.links.index) == {"dc", "dc_reverse"}
    assert pypsa_objective(n) == pytest.approx(expected["objective_cny"], rel=REL)
    assert main(["import-pypsa", str(tmp_path / "out_pypsa"), str(tmp_path / "back")]) == 0
    back = gridopt.dispatch(gridopt.load_case(tmp_path / "back")).summary
    assert back["objective_cny"] == pytest.approx(expected["objective_cny"], rel=REL)


def test_export_warns_about_what_pypsa_cannot_hold(small_case, tmp_path, capsys):
    assert main(["export-pypsa", str(small_case), str(tmp_path / "small_pypsa")]) == 0
    err = capsys.readouterr().err.splitlines()
    for needle in ("committable units exported as non-committable", "interface A_B not exported",
                   "upward reserve requirements not exported", "export contract minimums not exported",
                   "reservoir up exported as a StorageUnit", "cascade to down", "ecological minimum flow"):
        assert any(needle in line for line in err), needle
    assert all(line.startswith("warning: ") for line in err)
    pypsa = _pypsa()
    n = pypsa.Network(str(tmp_path / "small_pypsa"))
    assert len(n.generators) and len(n.storage_units) == 3
    # a second export into the same folder needs --force
    assert main(["export-pypsa", str(small_case), str(tmp_path / "small_pypsa")]) == 2


# ---- MATPOWER -----------------------------------------------------------------------------------

def dc_opf_by_angles(bus, gen, branch, gencost, base, load_scale=1.0) -> float:
    """Independent DC-OPF with polynomial costs c2 P^2 + c1 P + c0: B-theta flows, rateA limits (scipy)."""
    from scipy.optimize import linprog, minimize
    nb, ng = len(bus), len(gen)
    idx = {int(b): i for i, b in enumerate(bus[:, 0])}
    nv = ng + nb  # P (MW), theta (rad)
    a_eq = np.zeros((nb + 1, nv))
    b_eq = np.concatenate([bus[:, 2] * load_scale, [0.0]])
    for k, g in enumerate(gen):
        a_eq[idx[int(g[0])], k] = 1.0
    a_ub, b_ub = [], []
    for br in branch:
        f, t = idx[int(br[0])], idx[int(br[1])]
        tap = br[8] if br[8] != 0 else 1.0
        b = base / (br[3] * tap)  # MW per rad
        a_eq[f, [ng + f, ng + t]] += [-b, b]
        a_eq[t, [ng + t, ng + f]] += [-b, b]
        row = np.zeros(nv)
        row[ng + f], row[ng + t] = b, -b
        a_ub += [row, -row]
        b_ub += [br[5], br[5]]
    a_eq[nb, ng + 0] = 1.0  # reference angle
    bounds = [(g[9], g[8]) for g in gen] + [(None, None)] * nb
    c2, c1, c0 = gencost[:, 4], gencost[:, 5], gencost[:, 6]
    if not c2.any():
        res = linprog(np.concatenate([c1, np.zeros(nb)]), A_ub=np.array(a_ub), b_ub=b_ub, A_eq=a_eq, b_eq=b_eq,
                      bounds=bounds, method="highs")
        assert res.status == 0
        return float(res.fun + c0.sum())
    a_ub = np.array(a_ub)
    cost = lambda v: float(c2 @ v[:ng] ** 2 + c1 @ v[:ng])
    grad = lambda v: np.concatenate([2 * c2 * v[:ng] + c1, np.zeros(nb)])
    start = np.concatenate([gen[:, 8] * b_eq[:nb].sum() / gen[:, 8].sum(), np.zeros(nb)])
    res = minimize(cost, start, jac=grad, method="SLSQP", bounds=bounds, options={"ftol": 1e-12, "maxiter": 500},
                   constraints=[{"type": "eq", "fun": lambda v: a_eq @ v - b_eq, "jac": lambda v: a_eq},
                                {"type": "ineq", "fun": lambda v: b_ub - a_ub @ v, "jac": lambda v: -a_ub}])
    assert res.success, res.message
    return float(res.fun + c0.sum())


def test_matpower_case9_matches_an_independent_dc_opf(tmp_path, capsys):
    from gridopt.interop.matpower import parse_m
    mpc = parse_m((DATA / "case9_linear.m").read_text())
    expected = dc_opf_by_angles(mpc["bus"], mpc["gen"], mpc["branch"], mpc["gencost"], mpc["baseMVA"])
    assert main(["import-matpower", str(DATA / "case9_linear.m"), str(tmp_path / "case9")]) == 0
    assert "cost constant 1085" in capsys.readouterr().out
    res = gridopt.dispatch(gridopt.load_case(tmp_path / "case9"))
    imp = read_matpower(DATA / "case9_linear.m")
    assert imp.constant_cny == pytest.approx(150 + 600 + 335)
    assert res.summary["objective_cny"] + imp.constant_cny == pytest.approx(expected, rel=REL)
    # by hand: no limit binds with these costs, so merit order: gen3 full (270 MW at 1), gen2 the rest of
    # the 315 MW less gen1's 10 MW minimum (35 MW at 1.2), gen1 at its minimum (10 MW at 5)
    assert res.summary["objective_cny"] == pytest.approx(270 * 1 + 35 * 1.2 + 10 * 5)
    assert res.generation.set_index("unit")["p_mw"].to_dict() == pytest.approx({"gen1": 10, "gen2": 35, "gen3": 270})


def test_matpower_quadratic_costs_are_linearised_in_segments(tmp_path):
    from gridopt.interop.matpower import parse_m
    text = (DATA / "case9_linear.m").read_text().replace("3\t0\t5\t150", "3\t0.11\t5\t150") \
        .replace("3\t0\t1.2\t600", "3\t0.085\t1.2\t600").replace("3\t0\t1\t335", "3\t0.1225\t1\t335")
    path = tmp_path / "case9.m"
    path.write_text(text)
    mpc = parse_m(text)
    exact = dc_opf_by_angles(mpc["bus"], mpc["gen"], mpc["branch"], mpc["gencost"], mpc["baseMVA"])
    assert exact == pytest.approx(5216.03, abs=0.01)  # MATPOWER's rundcopf('case9')
    c2, width = mpc["gencost"][:, 4], mpc["gen"][:, 8] - mpc["gen"][:, 9]
    totals = []
    for s in (1, 4, 16):
        imp = read_matpower(path, segments=s)
        assert len(imp.network.tables["generators"]) == 3 * s
        total = gridopt.dispatch(imp.network).summary["objective_cny"] + imp.constant_cny
        # chords over-estimate a convex curve by at most c2 * (width / s)^2 / 4 per unit
        assert exact - 1e-6 <= total <= exact + float((c2 * (width / s) ** 2 / 4).sum())
        totals.append(total)
    assert totals[0] > totals[1] > totals[2]


MATPOWER_TRANSFORMERS = """
mpc.baseMVA = 100;
mpc.bus = [
  1 3 0  0 0 0 1 1 0 230 1 1.1 0.9;
  2 1 0  0 0 0 1 1 0 230 1 1.1 0.9;
  3 1 80 0 0 0 1 1 0 115 1 1.1 0.9;
  4 1 60 0 0 0 2 1 0 115 1 1.1 0.9;
  5 4 10 0 0 0 2 1 0 115 1 1.1 0.9;
];
mpc.gen = [
  1 0 0 0 0 1 100 1 200 20 0 0 0 0 0 0 0 0 0 0 0;
  4 0 0 0 0 1 100 1 100 0  0 0 0 0 0 0 0 0 0 0 0;
  2 0 0 0 0 1 100 0 100 0  0 0 0 0 0 0 0 0 0 0 0;
];
mpc.branch = [
  1 2 0 0.05 0 90  0 0 0    0 1 -360 360;
  2 3 0 0.08 0 0   0 0 0.97 0 1 -360 360;
  1 4 0 0.10 0 0   0 0 1.02 0 1 -360 360;
  3 4 0 0.20 0 40  0 0 0    0 1 -360 360;
  4 5 0 0.20 0 40  0 0 0    0 1 -360 360;
];
mpc.gencost = [
  1 0 0 3 20 200 100 1000 200 3000;
  2 0 0 2 30 10;
  2 0 0 2 1 0;
];
"""


def test_matpower_transformers_piecewise_cost_and_profile(tmp_path):
    path = tmp_path / "tr.m"
    path.write_text(MATPOWER_TRANSFORMERS)
    prof = tmp_path / "profile.csv"
    pd.DataFrame({"snapshot": pd.date_range("2025-07-01", periods=3, freq="h"),
                  "multiplier": [0.5, 1.0, 1.5]}).to_csv(prof, index=False)
    imp = read_matpower(path, profile=prof)
    case = imp.network
    # 2-3 and 1-4 have tap ratios; 4-5 goes to the isolated bus 5 and is skipped with it
    assert list(case.tables["transformers"].index) == ["branch2", "branch3"]
    assert list(case.tables["lines"].index) == ["branch1", "branch4"]
    assert case.regions == ["area1", "area2"] and case.snapshots[0] == pd.Timestamp("2025-07-01 00:00")
    # gen1's curve (20, 200) (100, 1000) (200, 3000): two pieces at 10 and 20 per MWh, constant 200 - 10 * 20
    # = 0; gen2: 30 per MWh + 10 per hour; gen3 is out of service
    assert imp.constant_cny == pytest.approx(3 * 10.0)
    res = gridopt.dispatch(case)
    # the same dispatch solved independently hour by hour, gen1's pieces as two generators
    bus = np.array([[1, 3, 0, 0, 0, 0, 1, 1, 0, 230], [2, 1, 0, 0, 0, 0, 1, 1, 0, 230],
                    [3, 1, 80, 0, 0, 0, 1, 1, 0, 115], [4, 1, 60, 0, 0, 0, 2, 1, 0, 115]], float)
    gen = np.array([[1, 0, 0, 0, 0, 1, 100, 1, 100, 20], [1, 0, 0, 0, 0, 1, 100, 1, 100, 0],
                    [4, 0, 0, 0, 0, 1, 100, 1, 100, 0]], float)
    gencost = np.array([[2, 0, 0, 3, 0, 10, 0], [2, 0, 0, 3, 0, 20, 0], [2, 0, 0, 3, 0, 30, 10]], float)
    branch = np.array([[1, 2, 0, 0.05, 0, 90, 0, 0, 0], [2, 3, 0, 0.08, 0, 1e5, 0, 0, 0.97],
                       [1, 4, 0, 0.10, 0, 1e5, 0, 0, 1.02], [3, 4, 0, 0.20, 0, 40, 0, 0, 0]], float)
    expected = sum(dc_opf_by_angles(bus, gen, branch, gencost, 100.0, m) for m in (0.5, 1.0, 1.5))
    assert res.summary["objective_cny"] + imp.constant_cny == pytest.approx(expected, rel=REL)
    f12 = res.flows.loc[res.flows["branch"] == "branch1", "p0_mw"]
    assert f12.max() == pytest.approx(90.0)  # 1-2 binds at the peak: the dearer gen2 at bus 4 runs
    assert res.summary["load_shed_mwh"]["total"] == pytest.approx(0.0)


def test_matpower_refuses_phase_shifters(tmp_path, capsys):
    text = (DATA / "case9_linear.m").read_text().replace("0.0576\t0\t250\t250\t250\t0\t0", "0.0576\t0\t250\t250\t250\t0\t5")
    path = tmp_path / "shift.m"
    path.write_text(text)
    assert main(["import-matpower", str(path), str(tmp_path / "x")]) == 1
    assert "branch row 1, column SHIFT" in capsys.readouterr().err


# ---- networks PyPSA users bring -------------------------------------------------------------------

def test_header_only_investment_periods_table_is_accepted(tmp_path):
    n = _one_bus(2)
    n.add("Generator", "g", bus="a", p_nom=50.0, marginal_cost=3.0)
    expected = pypsa_objective(n)
    folder = tmp_path / "periods_pypsa"
    n.export_to_csv_folder(str(folder))
    (folder / "investment_periods.csv").write_text("period,objective,years\n")
    res = gridopt.dispatch(read_pypsa(folder).network)
    assert res.summary["objective_cny"] == pytest.approx(expected, rel=REL)
    (folder / "investment_periods.csv").write_text("period,objective,years\n2030,1.0,10\n")
    with pytest.raises(gridopt.CaseError, match="investment periods"):
        read_pypsa(folder)


def _typed_mesh(n, hours: int):
    """Two 380 kV and two 110 kV buses: standard-type lines in a mesh, standard-type transformers between."""
    for b, v in (("h1", 380.0), ("h2", 380.0), ("h3", 380.0), ("l1", 110.0), ("l2", 110.0)):
        n.add("Bus", b, v_nom=v)
    n.add("Line", "h12", bus0="h1", bus1="h2", type="Al/St 240/40 4-bundle 380.0", length=120.0, s_nom=900.0)
    n.add("Line", "h23", bus0="h2", bus1="h3", type="Al/St 240/40 4-bundle 380.0", length=60.0, s_nom=500.0,
          num_parallel=2)
    n.add("Line", "h31", bus0="h3", bus1="h1", type="Al/St 240/40 4-bundle 380.0", length=90.0, s_nom=300.0)
    n.add("Line", "l12", bus0="l1", bus1="l2", type="243-AL1/39-ST1A 110.0", length=40.0, s_nom=120.0)
    n.add("Transformer", "t1", bus0="h1", bus1="l1", type="100 MVA 220/110 kV")
    n.add("Transformer", "t2", bus0="h3", bus1="l2", type="100 MVA 220/110 kV", num_parallel=2, tap_position=2)
    n.add("Generator", "g1", bus="h1", p_nom=1200.0, marginal_cost=10.0)
    n.add("Generator", "g2", bus="h2", p_nom=400.0, marginal_cost=45.0)
    n.add("Generator", "g3", bus="l2", p_nom=200.0, marginal_cost=80.0)
    n.add("Load", "d3", bus="h3", p_set=np.linspace(500.0, 700.0, hours))
    n.add("Load", "dl1", bus="l1", p_set=np.linspace(90.0, 150.0, hours))
    n.add("Load", "dl2", bus="l2", p_set=np.linspace(100.0, 160.0, hours))


def test_standard_line_and_transformer_types_as_pypsa_applies_them(tmp_path):
    n = new_network(3)
    _typed_mesh(n, 3)
    folder = tmp_path / "typed_pypsa"
    n.export_to_csv_folder(str(folder))  # before the solve: types only, no x in the files
    expected = pypsa_objective(n)
    assert n.lines_t.p0["h31"].abs().max() == pytest.approx(300.0)  # a limit binds: reactances matter
    imp = read_pypsa(folder)
    res = gridopt.dispatch(imp.network)
    assert res.summary["objective_cny"] == pytest.approx(expected, rel=REL)
    ln, tr = imp.network.tables["lines"], imp.network.tables["transformers"]
    assert ln.loc["h23", "x"] == pytest.approx(n.lines.at["h23", "x"]) and ln.loc["h23", "s_nom"] == 500.0
    assert tr.loc["t2", "x"] == pytest.approx(n.transformers.at["t2", "x"])
    assert tr.loc["t2", "s_nom"] == pytest.approx(n.transformers.at["t2", "s_nom"])
    assert tr.loc["t2", "tap_ratio"] == pytest.approx(n.transformers.at["t2", "tap_ratio"])
    # the folder's own type table is used when it has one
    types = pd.read_csv(Path(pypsa_types_folder()) / "line_types.csv", index_col=0)
    own = types.loc[["Al/St 240/40 4-bundle 380.0"]].rename(index=lambda _: "my type")
    own["x_per_length"] *= 2
    own.to_csv(folder / "line_types.csv")
    lines = pd.read_csv(folder / "lines.csv", index_col=0)
    lines.loc["h12", "type"] = "my type"
    lines.to_csv(folder / "lines.csv")
    assert read_pypsa(folder).network.tables["lines"].loc["h12", "x"] == pytest.approx(2 * ln.loc["h12", "x"])


def pypsa_types_folder() -> Path:
    from gridopt.interop.pypsa_types import pypsa_standard_types_folder
    folder = pypsa_standard_types_folder()
    assert folder is not None and (folder / "transformer_types.csv").is_file()
    return folder


def test_phase_shifts_around_a_cycle_are_refused(tmp_path, capsys):
    n = new_network(1)
    for b, v in (("h1", 110.0), ("h2", 110.0), ("l1", 20.0), ("l2", 20.0)):
        n.add("Bus", b, v_nom=v)
    n.add("Line", "h12", bus0="h1", bus1="h2", x=10.0, s_nom=100.0)
    n.add("Line", "l12", bus0="l1", bus1="l2", x=5.0, s_nom=100.0)
    n.add("Transformer", "t1", bus0="h1", bus1="l1", type="63 MVA 110/20 kV")  # 150 degrees
    n.add("Transformer", "t2", bus0="l2", bus1="h2", type="63 MVA 110/20 kV")  # the other way round
    n.add("Generator", "g", bus="h1", p_nom=100.0)
    n.add("Load", "d", bus="l2", p_set=10.0)
    err = _refused(n, tmp_path, capsys)
    assert "transformers.csv" in err and "phase_shift" in err and "cycle" in err


def test_line_and_transformer_sharing_a_name(tmp_path, capsys):
    n = new_network(2)
    for b, v in (("h1", 220.0), ("h2", 220.0), ("l1", 110.0)):
        n.add("Bus", b, v_nom=v)
    n.add("Line", "x1", bus0="h1", bus1="h2", x=20.0, s_nom=80.0)
    n.add("Transformer", "x1", bus0="h1", bus1="l1", x=0.1, s_nom=200.0)
    n.add("Transformer", "x2", bus0="h2", bus1="l1", x=0.2, s_nom=100.0)
    n.add("Generator", "g1", bus="h1", p_nom=300.0, marginal_cost=5.0)
    n.add("Generator", "g2", bus="h2", p_nom=300.0, marginal_cost=50.0)
    n.add("Load", "d", bus="h2", p_set=[100.0, 200.0])
    n.add("Load", "dl", bus="l1", p_set=[50.0, 80.0])
    assert_same_objective(n, tmp_path)
    assert "warning: branch names shared between lines, transformers and links qualified by kind: x1" \
        in capsys.readouterr().err
    case = gridopt.load_case(tmp_path / "net")
    assert list(case.tables["lines"].index) == ["line:x1"]
    assert list(case.tables["transformers"].index) == ["transformer:x1", "x2"]


def test_cyclic_hydro_with_inflow_pumping_and_free_sinks(tmp_path):
    hours = 6
    n = new_network(hours)
    n.add("Bus", "a", v_nom=220.0)
    n.add("Bus", "b", v_nom=220.0)
    n.add("Line", "ab", bus0="a", bus1="b", x=10.0, s_nom=80.0)
    n.add("Generator", "nuclear", bus="a", p_nom=120.0, p_min_pu=1.0, marginal_cost=2.0)  # must run at full
    n.add("Generator", "gas", bus="b", p_nom=300.0, marginal_cost=60.0)
    n.add("Load", "l", bus="b", p_set=[40.0, 60.0, 150.0, 210.0, 180.0, 90.0])
    # PyPSA's usual hydro: cyclic, inflow, efficiency_store = 0 and the default p_min_pu = -1
    n.add("StorageUnit", "hydro", bus="a", p_nom=60.0, max_hours=5.0, efficiency_store=0.0,
          efficiency_dispatch=0.9, inflow=[20.0, 30.0, 25.0, 5.0, 0.0, 40.0], cyclic_state_of_charge=True,
          spill_cost=0.5, marginal_cost=1.0)
    # pumped hydro with natural inflow, cyclic and with a standing loss
    n.add("StorageUnit", "phs", bus="b", p_nom=40.0, max_hours=3.0, efficiency_store=0.8, efficiency_dispatch=0.85,
          inflow=[5.0, 0.0, 0.0, 2.0, 0.0, 3.0], cyclic_state_of_charge=True, standing_loss=0.01)
    # a unit that cannot store: its default p_min_pu = -1 is a free sink
    n.add("StorageUnit", "dump", bus="a", p_nom=30.0, max_hours=1.0, efficiency_store=0.0)
    expected = pypsa_objective(n)
    assert n.storage_units_t.p_store["dump"].max() > 1.0 or n.storage_units_t.p_store["hydro"].max() > 1.0
    folder = tmp_path / "hydro_pypsa"
    n.export_to_csv_folder(str(folder))
    imp = read_pypsa(folder)
    res = gridopt.dispatch(imp.network)
    assert imp.constant_cny == pytest.approx(0.5 * 120.0)
    assert res.summary["objective_cny"] + imp.constant_cny == pytest.approx(expected, rel=REL)
    case = imp.network
    assert {"hydro:sink", "dump:sink"} <= set(case.tables["markets"].index)
    assert case.tables["stores"].loc["hydro", "e_cyclic"] and case.tables["stores"].at["phs", "bus"] == "phs:water"
    assert set(case.tables["links"].index) == {"hydro:turbine", "phs:turbine", "phs:pump"}


def test_imported_cases_have_no_load_shedding(tmp_path):
    n = new_network(2)
    n.add("Bus", "a")
    n.add("Generator", "g", bus="a", p_nom=100.0, marginal_cost=10.0)
    n.add("Load", "l", bus="a", p_set=[100.0, 60.0])  # hour 1 uses the whole capacity: a degenerate price
    assert_same_objective(n, tmp_path)
    res = gridopt.dispatch(gridopt.load_case(tmp_path / "net"))
    prices = res.prices["price_cny_per_mwh"].to_numpy()
    assert prices[1] == pytest.approx(10.0) and 10.0 - 1e-6 <= prices[0] < 1e3  # no price of a shed variable
    assert "load_shedding = false" in (tmp_path / "net" / "case.toml").read_text()
    assert res.prices["shed_mw"].abs().max() == 0.0
    assert {"interruptible_shed_cny", "firm_shed_cny"} <= set(res.summary["penalties_cny"])
    n.add("Load", "more", bus="a", p_set=50.0)  # now infeasible in PyPSA, and so in gridopt
    folder = tmp_path / "short_pypsa"
    n.export_to_csv_folder(str(folder))
    with pytest.raises(gridopt.SolveError):
        gridopt.dispatch(read_pypsa(folder).network)


def test_imported_case_runs_its_whole_horizon_by_default(tmp_path):
    n = _one_bus(24)
    n.add("Generator", "g", bus="a", p_nom=50.0, marginal_cost=3.0)
    import_and_dispatch(n, tmp_path)
    assert "default_hours = 24" in (tmp_path / "net" / "case.toml").read_text()
    assert gridopt.load_case(tmp_path / "net").config["default_hours"] == 24
    assert main(["run", str(tmp_path / "net"), "--out", str(tmp_path / "results")]) == 0
    summary = json.loads((tmp_path / "results" / "summary.json").read_text())
    assert len(pd.read_parquet(tmp_path / "results" / "prices.parquet")["hour"].unique()) == 24, summary["horizon"]


def test_export_prints_what_it_wrote(tmp_path, capsys):
    case = gridopt.write_case(round_trip_network(), tmp_path / "orig")
    assert main(["export-pypsa", str(case), str(tmp_path / "out_pypsa")]) == 0
    out = capsys.readouterr().out
    for comp in ("links", "generators", "storage_units", "buses", "lines", "transformers"):
        rows = len(pd.read_csv(tmp_path / "out_pypsa" / f"{comp}.csv", index_col=0))
        assert f"{rows} {comp.replace('_', ' ')}" in out, comp
    assert "2 links" in out  # the lossy two-way link is written as two one-way links


def random_typed_network(n_buses: int, hours: int, seed: int = 7):
    """A meshed 380/110 kV network (random trees plus extra lines of standard types, transformers of a type),
    with 20 kV pairs fed from two 110 kV buses each: loops through transformers whose phase shifts cancel."""
    rng = np.random.default_rng(seed)
    n = new_network(hours)
    hv = [f"h{i}" for i in range(n_buses // 2)]
    lv = [f"l{i}" for i in range(n_buses - len(hv))]
    for b in hv:
        n.add("Bus", b, v_nom=380.0)
    for b in lv:
        n.add("Bus", b, v_nom=110.0)
    lines = []
    for level, names, kind in ((380.0, hv, "Al/St 240/40 4-bundle 380.0"), (110.0, lv, "243-AL1/39-ST1A 110.0")):
        for i in range(1, len(names)):
            lines.append((names[i], names[int(rng.integers(0, i))], kind))
        for _ in range(len(names) // 4):
            a, b = rng.choice(len(names), 2, replace=False)
            lines.append((names[a], names[b], kind))
    for k, (a, b, kind) in enumerate(lines):
        n.add("Line", f"line{k}", bus0=a, bus1=b, type=kind, length=float(rng.uniform(10, 150)),
              num_parallel=int(rng.integers(1, 3)), s_nom=float(rng.uniform(150, 600)))
    for k in range(0, len(lv), 8):  # each 220 kV island is tied to the 380 kV grid at several points
        n.add("Transformer", f"tr{k}", bus0=hv[int(rng.integers(0, len(hv)))], bus1=lv[k],
              type="160 MVA 380/110 kV", num_parallel=int(rng.integers(1, 3)))
    for k in range(len(lv) // 10):
        pair = [f"m{k}a", f"m{k}b"]
        for j, b in enumerate(pair):
            n.add("Bus", b, v_nom=20.0)
            n.add("Transformer", f"tm{k}{j}", bus0=lv[int(rng.integers(0, len(lv)))], bus1=b, type="63 MVA 110/20 kV")
            n.add("Load", f"dm{k}{j}", bus=b, p_set=float(rng.uniform(10, 40)))
        n.add("Line", f"mline{k}", bus0=pair[0], bus1=pair[1], type="NA2XS2Y 1x240 RM/25 12/20 kV", length=5.0,
              s_nom=30.0)
    buses = hv + lv
    for k in range(n_buses // 3):
        n.add("Generator", f"g{k}", bus=buses[int(rng.integers(0, n_buses))], p_nom=float(rng.uniform(100, 500)),
              marginal_cost=float(rng.uniform(5, 90)))
    for k in range(n_buses // 2):
        n.add("Load", f"d{k}", bus=buses[int(rng.integers(0, n_buses))],
              p_set=rng.uniform(20, 120) * (1 + 0.3 * np.sin(np.arange(hours))))
    for b in buses:  # a dear local unit everywhere, so that no line limit makes the network infeasible
        n.add("Generator", f"peak_{b}", bus=b, p_nom=300.0, marginal_cost=float(rng.uniform(300, 400)))
    return n


@pytest.mark.slow
def test_several_hundred_bus_network_with_types_matches_pypsa(tmp_path):
    n = random_typed_network(240, 4)
    assert len(n.buses) >= 250 and len(n.lines) > 250 and len(n.transformers) >= 30
    expected = pypsa_objective(n)
    res = import_and_dispatch(n, tmp_path)
    assert res.summary["objective_cny"] == pytest.approx(expected, rel=REL)
    assert res.summary["penalties_cny"]["firm_shed_cny"] == 0.0
