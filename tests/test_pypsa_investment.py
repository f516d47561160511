"""PyPSA investment networks: stores, snapshot weightings, global constraints and cost attributes.

Each PyPSA network is built here with pypsa, solved by PyPSA (HiGHS, ``include_objective_constant=True``),
exported, imported and dispatched by gridopt without options: the objectives (gridopt's plus the import's
constant) must agree to 1e-6 relative. The networks follow PyPSA's own kinds of example: AC-DC meshes under a
CO2 limit and a transmission expansion limit, storage with HVDC, and one node of batteries and hydrogen at
3-hourly resolution. The gridopt-native tests check the Store formulation by hand and against the pyomo twin.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_interop import _pypsa
from test_pypsa_expansion import imported, pypsa_objective
from tiny import buses, net, series, solve

import gridopt
from gridopt.cli import main
from gridopt.errors import CaseError
from gridopt.network import Network
from gridopt.periods import cluster

REL = 1e-6
CAP_REL = 1e-4




def assert_same_as_pypsa(n, tmp_path: Path, name: str = "net"):
    """Solve `n` with PyPSA and, once imported, with gridopt (no options): the same objective."""
    expected = pypsa_objective(n)
    case, constant = imported(n, tmp_path, name)
    res = gridopt.dispatch(case)
    got = res.summary["objective_cny"] + constant
    print(f"{name}: objective gap to PyPSA {abs(got - expected) / abs(expected):.2e} relative "
          f"({got:.6f} vs {expected:.6f})")
    assert got == pytest.approx(expected, rel=REL)
    assert sum(res.summary["penalties_cny"].values()) == pytest.approx(0.0, abs=1e-6)
    assert res.checks == []
    return case, res


def assert_same_stores(n, res, names=None) -> None:
    """Optimal energy capacities of the extendable stores as PyPSA's."""
    caps = res.capacities.set_index(["component", "element"])["optimal_mwh"]
    ext = n.stores.index[n.stores.e_nom_extendable.astype(bool)]
    for name in ext if names is None else names:
        assert caps[("stores", name)] == pytest.approx(n.stores.at[name, "e_nom_opt"], rel=CAP_REL, abs=1e-3), name


def hours(n: int, freq: str = "h") -> pd.DatetimeIndex:
    return pd.date_range("2025-01-01", periods=n, freq=freq)


def network(snapshots: pd.DatetimeIndex, weight: float | None = None):
    n = _pypsa().Network()
    n.set_snapshots(snapshots)
    if weight is not None:
        n.snapshot_weightings.loc[:, :] = weight
    return n


# ---- stores -------------------------------------------------------------------------------------

def test_stores_with_standing_loss_extendable_and_not_cyclic_and_not(tmp_path):
    n = network(hours(8))
    n.add("Bus", "a")
    n.add("Bus", "h2", carrier="H2")
    n.add("Generator", "base", bus="a", p_nom=90.0, marginal_cost=10.0)
    n.add("Generator", "peak", bus="a", p_nom=300.0, marginal_cost=100.0)
    n.add("Load", "l", bus="a", p_set=[50.0, 40.0, 60.0, 130.0, 150.0, 120.0, 70.0, 60.0])
    n.add("Store", "battery", bus="a", e_nom_extendable=True, capital_cost=20.0, standing_loss=0.01, e_cyclic=True)
    # not cyclic: starts with energy, loses it, pays for what it gives and keeps levels within varying limits
    n.add("Store", "old", bus="a", e_nom=30.0, e_initial=25.0, standing_loss=0.05, marginal_cost=2.0, e_min_pu=0.1,
          e_max_pu=[1.0, 1.0, 1.0, 0.8, 0.8, 1.0, 1.0, 1.0])
    n.add("Link", "electrolysis", bus0="a", bus1="h2", p_nom=20.0, efficiency=0.7)
    n.add("Link", "fuel cell", bus0="h2", bus1="a", p_nom=20.0, efficiency=0.5)
    # extendable and not cyclic, with existing capacity, a largest one and a cost on the energy held
    n.add("Store", "tank", bus="h2", e_nom=40.0, e_nom_extendable=True, capital_cost=1.0, e_nom_max=100.0,
          e_initial=10.0, marginal_cost_storage=0.05)
    case, res = assert_same_as_pypsa(n, tmp_path)
    assert_same_stores(n, res)
    st = case.tables["stores"]
    assert set(st.index) == {"battery", "old", "tank"} and st.at["old", "e_min_pu"] == 0.1
    assert st.at["old", "e_initial"] == pytest.approx(25.0 / 0.95)  # before the first hour's loss
    assert "old" in case.series["e_max_pu"].columns
    level = res.stores.pivot(index="hour", columns="store", values="e_mwh")
    assert np.allclose(level["old"], n.stores_t.e["old"], atol=1e-6)  # levels are forced by the dispatch here
    assert n.stores.at["battery", "e_nom_opt"] > 1.0 and n.stores.at["tank", "e_nom_opt"] < 40.0


# ---- snapshot weightings ------------------------------------------------------------------------

def three_hourly(T: int = 8):
    n = network(hours(T, "3h"), weight=3.0)
    n.add("Bus", "a")
    n.add("Bus", "b")
    n.add("Line", "ab", bus0="a", bus1="b", x=0.1, s_nom=60.0)
    n.add("Generator", "coal", bus="a", p_nom=120.0, marginal_cost=20.0, ramp_limit_up=0.3, ramp_limit_down=0.4,
          p_init=50.0)
    n.add("Generator", "gas", bus="b", p_nom=200.0, marginal_cost=70.0)
    n.add("Generator", "wind", bus="b", carrier="wind", p_nom=80.0, p_max_pu=np.abs(np.sin(np.arange(T))) * 0.9)
    n.add("Load", "la", bus="a", p_set=50.0 + 20.0 * np.cos(np.arange(T)))
    n.add("Load", "lb", bus="b", p_set=90.0 + 40.0 * np.sin(np.arange(T)))
    n.add("StorageUnit", "battery", bus="b", p_nom=20.0, max_hours=4.0, efficiency_store=0.9, efficiency_dispatch=0.9,
          standing_loss=0.01, state_of_charge_initial=30.0)
    n.add("StorageUnit", "cyclic", bus="a", p_nom=10.0, max_hours=6.0, efficiency_store=0.85, efficiency_dispatch=0.9,
          standing_loss=0.02, cyclic_state_of_charge=True, p_nom_extendable=True, capital_cost=40.0)
    # a reservoir (inflow, no pumping, no loss) and a heat store losing 3 % an hour
    n.add("StorageUnit", "dam", bus="a", p_nom=30.0, max_hours=10.0, efficiency_dispatch=0.9, p_min_pu=0.0,
          inflow=np.linspace(5.0, 15.0, T), state_of_charge_initial=100.0, spill_cost=0.3, marginal_cost=1.0)
    n.add("Store", "heat", bus="b", e_nom=50.0, standing_loss=0.03, e_initial=20.0)
    return n


def test_three_hourly_weightings_with_storage_units_stores_reservoirs_and_ramps(tmp_path):
    n = three_hourly()
    case, res = assert_same_as_pypsa(n, tmp_path)
    assert (case.snapshots == n.snapshots).all()  # the real timestamps, 3 h apart
    w = case.series["weighting"]
    assert w["objective"].tolist() == [3.0] * 8 and w["stores"].tolist() == [3.0] * 8
    assert case.tables["generators"].at["coal", "ramp_limit_up"] == pytest.approx(0.1)  # per hour of 3
    assert len(case.tables["reservoirs"]) == 1
    assert np.abs(np.diff(n.generators_t.p["coal"])).max() == pytest.approx(0.4 * 120.0)  # a ramp binds
    soc = res.storage.pivot(index="hour", columns="unit", values="soc_mwh")
    assert np.allclose(soc["battery"], n.storage_units_t.state_of_charge["battery"], atol=1e-5)


def test_pumping_hydro_with_inflow_standing_loss_and_set_states(tmp_path):
    T = 8
    n = network(hours(T, "2h"), weight=2.0)
    n.snapshot_weightings["objective"] = 5.0  # costs weigh more than the snapshots last
    n.add("Bus", "a")
    n.add("Generator", "nuclear", bus="a", p_nom=60.0, marginal_cost=3.0)
    n.add("Generator", "gas", bus="a", p_nom=300.0, marginal_cost=60.0)
    n.add("Load", "l", bus="a", p_set=[40.0, 50.0, 120.0, 150.0, 110.0, 70.0, 45.0, 90.0])
    # pumps, has natural inflow, loses energy, and its state of charge is set at two snapshots
    n.add("StorageUnit", "phs", bus="a", p_nom=40.0, max_hours=4.0, efficiency_store=0.8, efficiency_dispatch=0.85,
          inflow=[6.0, 2.0, 0.0, 0.0, 3.0, 8.0, 4.0, 1.0], standing_loss=0.01, state_of_charge_initial=50.0,
          spill_cost=0.4, marginal_cost=0.5,
          state_of_charge_set=[np.nan, np.nan, np.nan, 60.0, np.nan, np.nan, np.nan, 80.0])
    # the usual hydro: cyclic, efficiency_store 0 and the default p_min_pu -1: a free sink too
    n.add("StorageUnit", "hydro", bus="a", p_nom=20.0, max_hours=6.0, efficiency_store=0.0, cyclic_state_of_charge=True,
          inflow=5.0, spill_cost=0.2)
    case, res = assert_same_as_pypsa(n, tmp_path)
    st = case.tables["stores"]
    assert st.at["phs", "bus"] == "phs:water" and {"phs:pump", "phs:turbine"} <= set(case.tables["links"].index)
    level = res.stores.pivot(index="hour", columns="store", values="e_mwh")["phs"].to_numpy()
    assert level[3] == pytest.approx(60.0) and level[7] == pytest.approx(80.0)
    assert np.allclose(level, n.storage_units_t.state_of_charge["phs"], atol=1e-5)


# ---- global constraints -------------------------------------------------------------------------

def ac_dc_mesh(T: int = 6):
    """Five AC cities, a North Sea DC grid (DC lines and converters) and Norway behind an AC line; wind to build
    far from the load, gas and coal near it; objective weightings 2, generator weightings 1.5."""
    n = network(hours(T))
    n.snapshot_weightings["objective"] = 2.0
    n.snapshot_weightings["generators"] = 1.5
    n.add("Carrier", "gas", co2_emissions=0.24)
    n.add("Carrier", "coal", co2_emissions=0.34)
    n.add("Carrier", "wind")
    for b in ("London", "Norwich", "Manchester", "Bremen", "Frankfurt", "Norway"):
        n.add("Bus", b, v_nom=380.0)
    for b in ("London DC", "Norwich DC", "Bremen DC", "Frankfurt DC"):
        n.add("Bus", b, carrier="DC", v_nom=200.0)
    for name, a, b, length, cap in (("UK1", "London", "Norwich", 160, 300), ("UK2", "Norwich", "Manchester", 250, 200),
                                    ("UK3", "London", "Manchester", 260, 200), ("DE1", "Bremen", "Frankfurt", 370, 200)):
        n.add("Line", name, bus0=a, bus1=b, x=0.05 * length, s_nom=cap, length=length, s_nom_extendable=True,
              capital_cost=0.05 * length)
    n.add("Line", "NO", bus0="Norway", bus1="Bremen", x=30.0, s_nom=300.0, length=700.0, s_nom_extendable=True,
          capital_cost=40.0)
    for name, a, b, length in (("DC1", "London DC", "Norwich DC", 160), ("DC2", "Norwich DC", "Bremen DC", 600),
                               ("DC3", "Bremen DC", "Frankfurt DC", 370)):
        n.add("Line", name, bus0=a, bus1=b, r=0.02 * length, s_nom=100.0, length=length, s_nom_extendable=True,
              capital_cost=0.06 * length)
    for city in ("London", "Norwich", "Bremen", "Frankfurt"):
        n.add("Link", f"{city} converter", bus0=city, bus1=f"{city} DC", p_nom=100.0, p_min_pu=-1.0, carrier="DC",
              p_nom_extendable=True, capital_cost=5.0, length=1.0)
    rng = np.random.default_rng(3)
    for city in ("Manchester", "Norway", "Norwich"):
        n.add("Generator", f"{city} wind", bus=city, carrier="wind", p_nom=100.0, p_nom_extendable=True,
              capital_cost=10.0, p_nom_max=1500.0, p_max_pu=rng.uniform(0.3, 0.95, T))
    for city in ("London", "Frankfurt", "Bremen"):
        n.add("Generator", f"{city} gas", bus=city, carrier="gas", p_nom=800.0, marginal_cost=50.0, efficiency=0.5)
    n.add("Generator", "Frankfurt coal", bus="Frankfurt", carrier="coal", p_nom=500.0, marginal_cost=25.0,
          efficiency=0.38)
    for city, base in (("London", 500), ("Manchester", 100), ("Norwich", 100), ("Bremen", 200), ("Frankfurt", 600)):
        n.add("Load", city, bus=city, p_set=base * (1 + 0.3 * np.sin(np.arange(T))))
    return n


def test_ac_dc_mesh_with_a_binding_co2_limit_and_transmission_volume_limit(tmp_path):
    n = ac_dc_mesh()
    n.add("GlobalConstraint", "co2_limit", sense="<=", constant=200.0)
    n.add("GlobalConstraint", "lv_limit", type="transmission_volume_expansion_limit", carrier_attribute="AC, DC",
          sense="<=", constant=950_000.0)
    case, res = assert_same_as_pypsa(n, tmp_path)
    mu = n.global_constraints.mu
    assert mu["co2_limit"] < -1.0 and mu["lv_limit"] < -1e-3  # both bind
    assert case.config["carbon_caps"] == {"system": 200.0}
    assert case.config["expansion_limits"] == {"lv_limit": {"carriers": ["AC", "DC"], "volume_mw_km": 950_000.0}}
    assert res.summary["carbon_shadow_price_cny_per_t"]["cap:system"] == pytest.approx(-mu["co2_limit"], rel=1e-5)
    caps = res.capacities.set_index("element")["optimal_mw"]
    for name in n.lines.index[n.lines.s_nom_extendable]:
        assert caps[name] == pytest.approx(n.lines.at[name, "s_nom_opt"], rel=CAP_REL, abs=1e-3), name
    # `gridopt run` without options keeps the case's carbon cap and expansion limit
    assert main(["run", str(tmp_path / "net"), "--out", str(tmp_path / "results")]) == 0
    summary = json.loads((tmp_path / "results" / "summary.json").read_text())
    assert summary["objective_cny"] == pytest.approx(n.objective, rel=REL)


def test_storage_with_hvdc_and_a_transmission_cost_limit(tmp_path):
    """Storage units and stores to build at both ends of HVDC converters, AC expansion capped by its cost."""
    n = ac_dc_mesh()
    for city, kind in (("London", "battery"), ("Bremen", "phs"), ("Frankfurt", "battery")):
        n.add("StorageUnit", f"{city} {kind}", bus=city, carrier=kind, p_nom_extendable=True, max_hours=4.0,
              efficiency_store=0.92, efficiency_dispatch=0.92, cyclic_state_of_charge=True, capital_cost=15.0,
              standing_loss=0.001)
    n.add("Store", "Norway pondage", bus="Norway", carrier="hydro", e_nom=300.0, e_nom_extendable=True,
          capital_cost=0.5, e_cyclic=True)
    n.add("GlobalConstraint", "co2_limit", sense="<=", constant=200.0)
    n.add("GlobalConstraint", "lc_limit", type="transmission_expansion_cost_limit", carrier_attribute="AC",
          sense="<=", constant=25_000.0)
    case, res = assert_same_as_pypsa(n, tmp_path)
    assert n.global_constraints.mu["lc_limit"] < -1e-3
    assert case.config["expansion_limits"]["lc_limit"] == {"carriers": ["AC"], "cost_cny": 25_000.0}
    assert (n.storage_units.p_nom_opt > 1.0).any()
    caps = res.capacities.set_index("element")["optimal_mw"]
    for name in n.storage_units.index:
        assert caps[name] == pytest.approx(n.storage_units.at[name, "p_nom_opt"], rel=CAP_REL, abs=1e-3), name


# ---- one node, a year of hydrogen and batteries -------------------------------------------------

def one_node(days: int, seed: int = 1):
    """model.energy's kind: wind and solar to build, batteries (a store with charger and discharger links) and
    hydrogen (electrolysis, a tank, fuel cells) for a constant load, 3-hourly; costs as overnight costs with
    lifetimes, a discount rate and fixed O&M (PyPSA >= 1.1), annuitised for the horizon's years."""
    T = 8 * days
    n = network(hours(T, "3h"), weight=3.0)
    t = np.arange(T)
    rng = np.random.default_rng(seed)
    solar = np.clip(np.sin((t % 8 - 2) / 8 * 2 * np.pi), 0, None).round(9) * (0.7 + 0.2 * np.cos(t / T * 2 * np.pi))
    wind = np.clip(0.45 + 0.35 * np.sin(t / 23.0) + rng.normal(0.0, 0.12, T), 0.0, 1.0)
    n.add("Bus", "electricity")
    n.add("Bus", "battery", carrier="battery")
    n.add("Bus", "hydrogen", carrier="H2")
    n.add("Load", "demand", bus="electricity", p_set=100.0)
    r = {"discount_rate": 0.07}
    n.add("Generator", "solar", bus="electricity", carrier="solar", p_nom_extendable=True, p_max_pu=solar,
          overnight_cost=400_000.0, lifetime=25.0, fom_cost=8_000.0, **r)
    n.add("Generator", "wind", bus="electricity", carrier="wind", p_nom_extendable=True, p_max_pu=wind,
          overnight_cost=700_000.0, lifetime=25.0, fom_cost=30_000.0, **r)
    n.add("Generator", "backup", bus="electricity", carrier="oil", p_nom=100.0, marginal_cost=2000.0)
    n.add("Store", "battery storage", bus="battery", carrier="battery", e_nom_extendable=True, e_cyclic=True,
          overnight_cost=150_000.0, lifetime=15.0, **r)
    n.add("Link", "battery charger", bus0="electricity", bus1="battery", efficiency=0.95, p_nom_extendable=True,
          overnight_cost=80_000.0, lifetime=15.0, **r)
    n.add("Link", "battery discharger", bus0="battery", bus1="electricity", efficiency=0.95, p_nom_extendable=True)
    n.add("Store", "hydrogen storage", bus="hydrogen", carrier="H2", e_nom_extendable=True, e_cyclic=True,
          standing_loss=0.0001, overnight_cost=1_500.0, lifetime=30.0, fom_cost=100.0, **r)
    n.add("Link", "electrolysis", bus0="electricity", bus1="hydrogen", efficiency=0.65, p_nom_extendable=True,
          overnight_cost=250_000.0, lifetime=25.0, fom_cost=5_000.0, **r)
    n.add("Link", "fuel cell", bus0="hydrogen", bus1="electricity", efficiency=0.5, p_nom_extendable=True,
          overnight_cost=300_000.0, lifetime=10.0, **r)
    return n


def test_one_node_batteries_and_hydrogen_three_hourly_with_overnight_costs(tmp_path):
    n = one_node(28)
    case, res = assert_same_as_pypsa(n, tmp_path)
    assert_same_stores(n, res)
    assert (n.stores.e_nom_opt > 1.0).all()  # both stores are built
    years = 28 * 24 / 8760
    annuity = 0.07 / (1 - 1.07 ** -30)
    assert case.tables["stores"].at["hydrogen storage", "capital_cost"] == pytest.approx(
        1_500.0 * annuity * years + 100.0)


@pytest.mark.slow
def test_one_node_year_of_batteries_and_hydrogen(tmp_path):
    n = one_node(365)
    case, res = assert_same_as_pypsa(n, tmp_path)
    assert len(case.snapshots) == 2920 and case.durations().sum() == 8760.0
    assert_same_stores(n, res)


# ---- refusals -----------------------------------------------------------------------------------

def test_what_cannot_be_matched_is_refused_one_line_each(tmp_path, capsys):
    n = network(hours(3))
    n.add("Carrier", "gas", co2_emissions=0.2)
    n.add("Bus", "a")
    n.add("Bus", "b")
    n.add("Load", "l", bus="a", p_set=10.0)
    n.add("Generator", "g", bus="a", p_nom=50.0)
    n.add("Generator", "import", bus="a", carrier="gas", p_nom=20.0, marginal_cost=[10.0, 20.0, 30.0])
    n.add("Store", "gas tank", bus="a", carrier="gas", e_nom=10.0, e_initial=5.0)  # not cyclic, emitting
    n.add("Store", "endless", bus="a", e_nom=np.inf)
    n.add("Store", "pinned", bus="a", e_nom_extendable=True, e_set=[np.nan, 1.0, np.nan])
    n.add("StorageUnit", "set", bus="a", p_nom=5.0, p_nom_extendable=True, state_of_charge_set=[np.nan, 2.0, np.nan])
    n.add("Link", "dc", bus0="a", bus1="b", p_nom=10.0, p_nom_extendable=True, length=100.0)  # no carrier
    n.add("GlobalConstraint", "co2_limit", sense="<=", constant=100.0)
    n.add("GlobalConstraint", "lv", type="transmission_volume_expansion_limit", carrier_attribute="DC",
          sense="<=", constant=1000.0)
    n.add("GlobalConstraint", "gas_limit", type="operational_limit", carrier_attribute="gas", sense="<=",
          constant=5.0)
    folder = tmp_path / "refused_pypsa"
    n.export_to_csv_folder(str(folder))
    assert main(["import-pypsa", str(folder), str(tmp_path / "refused")]) == 1
    err = capsys.readouterr().err
    for needle in ("global_constraints.csv, row co2_limit, column carrier_attribute: store gas tank",
                   "global_constraints.csv, row co2_limit, column carrier_attribute: price taker import",
                   "global_constraints.csv, row lv, column carrier_attribute: link dc",
                   "global_constraints.csv, row gas_limit, column type",
                   "stores.csv, row endless, column e_nom", "stores.csv, row pinned, column e_set",
                   "storage_units.csv, row set, column p_nom_extendable"):
        lines = [line for line in err.splitlines() if needle in line]
        assert len(lines) == 1, (needle, err)


def test_ramps_with_snapshots_of_different_lengths_are_refused(tmp_path, capsys):
    n = network(pd.DatetimeIndex(["2025-01-01 00:00", "2025-01-01 01:00", "2025-01-01 04:00"]))
    n.snapshot_weightings["stores"] = [1.0, 3.0, 1.0]
    n.add("Bus", "a")
    n.add("Load", "l", bus="a", p_set=10.0)
    n.add("Generator", "g", bus="a", p_nom=50.0, ramp_limit_up=0.5)
    n.add("Store", "s", bus="a", e_nom=5.0)
    folder = tmp_path / "ramps_pypsa"
    n.export_to_csv_folder(str(folder))
    assert main(["import-pypsa", str(folder), str(tmp_path / "ramps")]) == 1
    err = capsys.readouterr().err
    assert "generators.csv, row g, column ramp_limit_up: ramp limits" in err and len(err.strip().splitlines()) == 1


# ---- gridopt -> PyPSA -> gridopt ----------------------------------------------------------------

def investment_case(T: int = 6) -> Network:
    """Three-hourly: an extendable store with a varying upper level, a fixed one, storage units, an extendable
    line and link under a volume limit, and a binding system carbon cap."""
    idx = pd.date_range("2025-01-01", periods=T, freq="3h", name="snapshot")
    frame = lambda **cols: pd.DataFrame({k: np.broadcast_to(np.asarray(v, float), (T,)) for k, v in cols.items()},
                                        index=idx)
    tables = {
        "buses": buses("a", "b"),
        "lines": [{"name": "ab", "bus0": "a", "bus1": "b", "x": 20.0, "s_nom": 40.0, "s_nom_extendable": True,
                   "capital_cost": 30.0, "length_km": 200.0}],
        "links": [{"name": "dc", "bus0": "b", "bus1": "a", "p_nom": 10.0, "p_min_pu": -1.0, "p_nom_extendable": True,
                   "capital_cost": 60.0, "length_km": 500.0}],
        "generators": [{"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 150.0, "marginal_cost": 20.0,
                        "co2_t_per_mwh": 0.9, "ramp_limit_up": 0.08, "ramp_limit_down": 0.08},
                       {"name": "gas", "bus": "b", "carrier": "gas", "p_nom": 200.0, "marginal_cost": 55.0,
                        "co2_t_per_mwh": 0.4},
                       {"name": "pv", "bus": "b", "carrier": "pv", "p_nom": 120.0}],
        "storage_units": [{"name": "phs", "bus": "a", "p_nom": 20.0, "max_hours": 5.0, "efficiency_store": 0.85,
                           "efficiency_dispatch": 0.9, "standing_loss": 0.002, "cyclic_state_of_charge": False,
                           "state_of_charge_initial": 30.0}],
        "stores": [{"name": "battery", "bus": "b", "e_nom": 10.0, "e_nom_extendable": True, "capital_cost": 4.0,
                    "standing_loss": 0.01, "e_cyclic": True, "marginal_cost": 0.5},
                   {"name": "heat", "bus": "a", "e_nom": 60.0, "e_initial": 30.0, "standing_loss": 0.02,
                    "e_min_pu": 0.1, "marginal_cost_storage": 0.02}],
    }
    ser = {"load_firm_mw": frame(a=[80.0, 90.0, 140.0, 160.0, 120.0, 90.0], b=[60.0, 70.0, 90.0, 120.0, 100.0, 80.0]),
           "p_max_pu": frame(pv=[0.0, 0.3, 0.9, 0.8, 0.2, 0.0]),
           "e_max_pu": frame(battery=[1.0, 1.0, 0.9, 0.9, 1.0, 1.0]),
           "weighting": pd.DataFrame({"objective": 3.0, "stores": 3.0, "generators": 3.0}, index=idx)}
    cfg = {"name": "investment", "regions": ["A"], "timeseries_start": "2025-01-01 00:00", "hours": T,
           "penalties": {"curtailment_cny_per_mwh": 0.0, "spill_cny_per_mwh": 0.0}, "load_shedding": False,
           "carbon_caps": {"system": 2200.0},
           "expansion_limits": {"lv": {"carriers": ["AC", "DC"], "volume_mw_km": 3_000.0}}}
    return Network.from_tables(cfg, {k: pd.DataFrame(v) for k, v in tables.items()}, ser)


def test_round_trip_keeps_stores_weightings_caps_and_limits(tmp_path, capsys):
    pypsa = _pypsa()
    original = investment_case()
    res = gridopt.dispatch(original)
    expected = res.summary["objective_cny"]
    assert res.summary["carbon_shadow_price_cny_per_t"]["cap:system"] > 1.0  # the cap binds
    limit = res.context.lp.rows["expansion_limit"]
    assert res.solution.row_dual[limit.start] != 0.0  # and so does the volume limit
    ramp = res.context.lp.rows["ramp"]
    assert np.abs(res.solution.row_dual[ramp.start:ramp.start + ramp.size]).max() > 0.0  # and a ramp limit
    case = gridopt.write_case(original, tmp_path / "orig")
    back_case = gridopt.load_case(case)
    assert back_case.config["expansion_limits"] == original.config["expansion_limits"]
    assert back_case.config["carbon_caps"] == {"system": 2200.0}
    assert main(["export-pypsa", str(case), str(tmp_path / "out_pypsa")]) == 0
    assert "warning" not in capsys.readouterr().err
    n = pypsa.Network(str(tmp_path / "out_pypsa"))
    assert n.snapshot_weightings["stores"].tolist() == [3.0] * 6
    assert n.generators.at["coal", "ramp_limit_up"] == pytest.approx(0.24)  # per snapshot of 3 h
    assert set(n.global_constraints.index) == {"co2_limit", "lv"}
    assert pypsa_objective(n) == pytest.approx(expected, rel=REL)
    assert n.stores.at["battery", "e_nom_opt"] == pytest.approx(
        res.capacities.set_index("element").at["battery", "optimal_mwh"], rel=CAP_REL)
    assert main(["import-pypsa", str(tmp_path / "out_pypsa"), str(tmp_path / "back")]) == 0
    back = gridopt.load_case(tmp_path / "back")
    assert (back.snapshots == original.snapshots).all()
    assert gridopt.dispatch(back).summary["objective_cny"] == pytest.approx(expected, rel=REL)
    cols = ["e_nom", "e_nom_extendable", "e_cyclic", "e_initial", "standing_loss", "e_min_pu", "marginal_cost",
            "marginal_cost_storage", "capital_cost"]
    pd.testing.assert_frame_equal(original.tables["stores"][cols], back.tables["stores"][cols], check_dtype=False)


# ---- the Store formulation, by hand and against the pyomo twin ------------------------------------

def one_bus(stores: list[dict], T: int = 2, load=10.0, **gens) -> Network:
    g = [{"name": "cheap", "bus": "a", "carrier": "coal", "p_nom": 100.0, "marginal_cost": 10.0},
         {"name": "dear", "bus": "a", "carrier": "gas", "p_nom": 100.0, "marginal_cost": 50.0}]
    ser = {"load_firm_mw": series(T, a=load)}
    if "cheap_pu" in gens:
        ser["p_max_pu"] = series(T, cheap=gens["cheap_pu"])
    return net({"buses": buses("a"), "generators": g, "stores": stores}, ser, hours=T)


def test_a_store_gives_what_it_keeps_after_its_standing_loss():
    # 8 MWh an hour before the horizon, half lost in the first hour: 4 MWh to give at 10 + 1 (its cost) < 50 ...
    n = one_bus([{"name": "s", "bus": "a", "e_nom": 20.0, "e_initial": 8.0, "standing_loss": 0.5,
                  "marginal_cost": 1.0}], cheap_pu=[0.0, 1.0])
    r = solve(n)
    st = r.stores.set_index("hour")
    assert st["p_mw"].tolist() == pytest.approx([4.0, 0.0], abs=1e-6) and st["e_mwh"].tolist() == pytest.approx([0.0, 0.0])
    # ... the rest of the first hour from the dear unit, the second from the cheap one
    assert r.summary["objective_cny"] == pytest.approx(4.0 * 1.0 + 6.0 * 50.0 + 10.0 * 10.0)


def test_an_extendable_cyclic_store_is_built_to_carry_cheap_energy():
    # cheap energy only in the first hour: each MWh given in the second costs (10 + 5) / 0.8 = 18.75 < 50
    n = one_bus([{"name": "s", "bus": "a", "e_nom_extendable": True, "capital_cost": 5.0, "standing_loss": 0.2,
                  "e_cyclic": True}], cheap_pu=[1.0, 0.0])
    r = solve(n)
    assert r.summary["objective_cny"] == pytest.approx(10.0 * (10.0 + 12.5) + 5.0 * 12.5)
    assert r.summary["capacity_built"]["stores"]["s"] == pytest.approx(12.5)
    assert r.stores["p_mw"].tolist() == pytest.approx([-12.5, 10.0])


def test_level_limits_storage_cost_and_an_expansion_limit_agree_with_the_twin():
    T = 6
    tables = {"buses": buses("a", "b"),
              "lines": [{"name": "ab", "bus0": "a", "bus1": "b", "x": 10.0, "s_nom": 20.0, "s_nom_extendable": True,
                         "capital_cost": 3.0, "length_km": 100.0}],
              "links": [{"name": "dc", "bus0": "a", "bus1": "b", "p_nom": 5.0, "p_min_pu": -1.0, "carrier": "DC",
                         "p_nom_extendable": True, "capital_cost": 2.0, "length_km": 300.0}],
              "generators": [{"name": "cheap", "bus": "a", "carrier": "coal", "p_nom": 200.0, "marginal_cost": 10.0},
                             {"name": "dear", "bus": "b", "carrier": "gas", "p_nom": 200.0, "marginal_cost": 80.0}],
              "stores": [{"name": "tank", "bus": "b", "e_nom": 30.0, "e_nom_extendable": True, "capital_cost": 1.0,
                          "e_min_pu": 0.2, "standing_loss": 0.05, "e_initial": 10.0, "marginal_cost_storage": 0.3},
                         {"name": "pond", "bus": "b", "e_nom": 40.0, "e_cyclic": True, "marginal_cost": -1.0}]}
    ser = {"load_firm_mw": series(T, b=[20.0, 60.0, 30.0, 90.0, 40.0, 70.0]),
           "e_max_pu": series(T, tank=[1.0, 0.8, 0.6, 0.6, 0.8, 1.0], pond=[1.0, 1.0, 0.5, 0.5, 1.0, 1.0])}
    n = net(tables, ser, hours=T, expansion_limits={"tx": {"carriers": ["AC", "DC"], "volume_mw_km": 5000.0}})
    r = solve(n)  # the fast path, every balance recomputed, and the pyomo twin: the same objective
    assert r.summary["status"] == "optimal"
    caps = r.capacities.set_index("element")
    assert 100.0 * caps.at["ab", "optimal_mw"] + 300.0 * caps.at["dc", "optimal_mw"] == pytest.approx(5000.0)
    e = r.stores.pivot(index="hour", columns="store", values="e_mwh")
    assert (e["tank"] >= 0.2 * caps.at["tank", "optimal_mwh"] - 1e-6).all()


def test_stores_are_cyclic_within_each_representative_period():
    days = 4
    load = np.tile(np.r_[np.full(8, 60.0), np.full(10, 100.0), np.full(6, 80.0)], days)
    n = net({"buses": buses("a"),
             "generators": [{"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 70, "marginal_cost": 10},
                            {"name": "gas", "bus": "a", "carrier": "gas", "p_nom": 200, "marginal_cost": 60}],
             "stores": [{"name": "s", "bus": "a", "e_nom": 80.0, "e_initial": 40.0}]},
            {"load_firm_mw": series(24 * days, a=load)}, hours=24 * days)
    one = cluster(n, "typical-days", 1)
    r = gridopt.dispatch(one)
    assert r.stores["p_mw"].sum() == pytest.approx(0.0, abs=1e-6)  # the day returns to its start
    full = n.replace(tables={**n.tables, "stores": n.tables["stores"].assign(e_cyclic=True)})
    assert r.summary["objective_cny"] == pytest.approx(gridopt.dispatch(full).summary["objective_cny"], rel=1e-9)


def test_case_settings_of_caps_and_limits_are_checked():
    base = {"buses": buses("a"), "generators": [{"name": "g", "bus": "a", "carrier": "coal", "p_nom": 10.0,
                                                 "co2_t_per_mwh": 0.1}]}
    with pytest.raises(CaseError) as exc:
        net(base, carbon_caps={"Mars": 5.0}, expansion_limits={"x": {"carriers": ["AC"]},
                                                               "y": {"carriers": "AC", "cost_cny": 1.0},
                                                               "z": {"carriers": ["AC"], "volume_mw_km": -1.0}})
    text = str(exc.value)
    for needle in ("carbon_caps", "Mars", "give one of volume_mw_km or cost_cny", "non-empty list",
                   "-1.0 is not a finite number"):
        assert needle in text, (needle, text)
    ok = net(base, carbon_caps={"system": 5.0, "A": 2.0})
    assert gridopt.dispatch(ok).summary["carbon_caps_t"] == {"system": 5.0, "A": 2.0}
    assert gridopt.dispatch(ok, carbon_caps={}).summary["carbon_caps_t"] == {}  # an explicit empty set of caps
