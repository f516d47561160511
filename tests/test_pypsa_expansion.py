"""Capacity expansion across the PyPSA exchange: extendable lines, transformers, links, generators, storage.

Each network is solved by PyPSA (HiGHS, ``include_objective_constant=True``: its objective is operating
cost plus capital_cost * (optimal - existing capacity) of extendable elements) and, after `import-pypsa`,
by gridopt: the objectives must agree to 1e-6 relative and the optimal capacities to 1e-4 relative
(costs are chosen so that the optimum is unique).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_interop import _pypsa, new_network
from tiny import buses, net, series

import gridopt
from gridopt.cli import main
from gridopt.interop import InteropWarning, read_pypsa

REL = 1e-6
CAP_REL = 1e-4
NOM = {"generators": "p_nom", "lines": "s_nom", "transformers": "s_nom", "links": "p_nom",
       "storage_units": "p_nom"}


def pypsa_objective(n) -> float:
    """PyPSA's objective with the constant of existing extendable capacity subtracted (PyPSA's default)."""
    status, condition = n.optimize(solver_name="highs", include_objective_constant=True)
    assert status == "ok", condition
    return float(n.objective)


def imported(n, tmp_path: Path, name: str = "net"):
    """Export `n` and import it with the command line; returns the case and the import's cost constant."""
    folder = tmp_path / f"{name}_pypsa"
    n.export_to_csv_folder(str(folder))
    assert main(["import-pypsa", str(folder), str(tmp_path / name)]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InteropWarning)
        constant = read_pypsa(folder).constant_cny
    return gridopt.load_case(tmp_path / name), constant


def import_and_dispatch(n, tmp_path: Path, name: str = "net"):
    """Export `n`, import it with the command line, solve the case written; also the import's constant."""
    case, constant = imported(n, tmp_path, name)
    return gridopt.dispatch(case), constant


def assert_same_capacities(n, res, scale: dict[str, float] | None = None) -> int:
    """Every extendable element's optimal capacity as PyPSA's (times `scale` where the import rescales p_nom);
    returns how many were compared."""
    caps = res.capacities.set_index(["component", "element"])["optimal_mw"]
    scale = scale or {}
    count = 0
    for comp, nom in NOM.items():
        static = getattr(n, comp)
        for name in static.index[static[f"{nom}_extendable"].astype(bool)]:
            expected = float(static.at[name, f"{nom}_opt"]) * scale.get(name, 1.0)
            assert caps[(comp, name)] == pytest.approx(expected, rel=CAP_REL, abs=1e-3), (comp, name)
            count += 1
    return count


def assert_same_as_pypsa(n, tmp_path: Path, scale: dict[str, float] | None = None):
    expected = pypsa_objective(n)
    res, constant = import_and_dispatch(n, tmp_path)
    got = res.summary["objective_cny"] + constant
    gap = abs(got - expected) / abs(expected)
    print(f"objective gap to PyPSA: {gap:.2e} relative ({got:.6f} vs {expected:.6f})")
    assert got == pytest.approx(expected, rel=REL)
    assert sum(res.summary["penalties_cny"].values()) == pytest.approx(0.0, abs=1e-6)
    assert assert_same_capacities(n, res, scale) > 0
    return res, expected


def existing_capital(n) -> float:
    """capital_cost * existing capacity of the extendable elements: PyPSA's objective constant."""
    total = 0.0
    for comp, nom in NOM.items():
        static = getattr(n, comp)
        ext = static[f"{nom}_extendable"].astype(bool)
        total += float((static["capital_cost"] * static[nom])[ext].sum())
    return total


# ---- PyPSA -> gridopt ---------------------------------------------------------------------------

def test_extendable_lines_in_a_meshed_ac_network(tmp_path):
    n = new_network(4)
    for b in "abcd":
        n.add("Bus", b, v_nom=220.0)
    n.add("Line", "ab", bus0="a", bus1="b", x=10.0, s_nom=100.0, s_nom_extendable=True, capital_cost=310.0,
          s_nom_max=250.0)
    n.add("Line", "bc", bus0="b", bus1="c", x=15.0, s_nom=80.0, s_nom_extendable=True, capital_cost=205.0)
    n.add("Line", "ca", bus0="c", bus1="a", x=12.0, s_nom=120.0)
    # more than the flows need: the optimum gives part of it back (a negative investment)
    n.add("Line", "cd", bus0="c", bus1="d", x=8.0, s_nom=400.0, s_nom_extendable=True, capital_cost=520.0,
          s_nom_min=50.0)
    n.add("Line", "bd", bus0="b", bus1="d", x=20.0, s_nom=60.0, s_nom_extendable=True, capital_cost=150.0,
          s_max_pu=0.7)
    n.add("Generator", "cheap", bus="a", p_nom=700.0, marginal_cost=10.0)
    n.add("Generator", "mid", bus="b", p_nom=200.0, marginal_cost=41.0)
    n.add("Generator", "gas", bus="c", p_nom=150.0, marginal_cost=63.0)
    n.add("Generator", "dear", bus="d", p_nom=400.0, marginal_cost=97.0)
    n.add("Load", "lc", bus="c", p_set=[150.0, 200.0, 260.0, 180.0])
    n.add("Load", "ld", bus="d", p_set=[120.0, 160.0, 220.0, 140.0])
    res, expected = assert_same_as_pypsa(n, tmp_path)
    assert n.lines.at["cd", "s_nom_opt"] < 400.0 and res.summary["investment_cny"] < 0
    grown = n.lines.s_nom_opt > n.lines.s_nom + 1.0
    assert grown[["ab", "bc", "bd"]].sum() >= 2  # flows split by reactance: more than one line is extended
    # the total system cost, which PyPSA reports apart
    total = res.summary["objective_cny"] + existing_capital(n)
    assert expected + n.objective_constant == pytest.approx(total, rel=REL)


def test_extendable_transformers_keep_their_reactance(tmp_path):
    n = new_network(3)
    for b, v in (("hv1", 380.0), ("hv2", 380.0), ("lv1", 110.0), ("lv2", 110.0)):
        n.add("Bus", b, v_nom=v)
    n.add("Line", "hv", bus0="hv1", bus1="hv2", x=40.0, s_nom=500.0)
    n.add("Line", "lv", bus0="lv1", bus1="lv2", x=6.0, s_nom=45.0, s_nom_extendable=True, capital_cost=83.0)
    n.add("Transformer", "t1", bus0="hv1", bus1="lv1", x=0.12, s_nom=100.0, tap_ratio=1.05,
          s_nom_extendable=True, capital_cost=121.0, s_nom_max=400.0)
    n.add("Transformer", "t2", bus0="hv2", bus1="lv2", x=0.10, s_nom=150.0, s_nom_extendable=True,
          capital_cost=94.0)
    n.add("Generator", "g_hv", bus="hv1", p_nom=600.0, marginal_cost=20.0)
    n.add("Generator", "g_lv", bus="lv2", p_nom=300.0, marginal_cost=75.0)
    n.add("Load", "load_lv1", bus="lv1", p_set=[90.0, 140.0, 210.0])
    n.add("Load", "load_lv2", bus="lv2", p_set=[120.0, 170.0, 230.0])
    assert_same_as_pypsa(n, tmp_path)
    assert (n.transformers.s_nom_opt > n.transformers.s_nom).any()
    case = gridopt.load_case(tmp_path / "net")
    assert case.tables["transformers"].at["t1", "s_nom"] == 100.0  # the reactance's base: the existing rating
    assert bool(case.tables["transformers"].at["t1", "s_nom_extendable"])


def test_extendable_one_and_two_way_links(tmp_path):
    n = new_network(4)
    for b in "abcd":
        n.add("Bus", b, v_nom=500.0)
    n.add("Link", "hvdc", bus0="a", bus1="b", p_nom=50.0, efficiency=0.95, marginal_cost=1.0, p_max_pu=0.9,
          p_nom_extendable=True, capital_cost=152.0)
    n.add("Link", "b2b", bus0="c", bus1="b", p_nom=30.0, p_min_pu=-1.0, p_nom_extendable=True,
          capital_cost=101.0)
    # existing 100 MW above its largest capacity: the optimum is at most 60 MW
    n.add("Link", "asym", bus0="d", bus1="a", p_nom=100.0, p_min_pu=-0.5, p_nom_extendable=True,
          capital_cost=61.0, p_nom_max=60.0)
    n.add("Generator", "ga", bus="a", p_nom=400.0, marginal_cost=5.0)
    n.add("Generator", "gb", bus="b", p_nom=300.0, marginal_cost=90.0)
    n.add("Generator", "gc", bus="c", p_nom=80.0, marginal_cost=22.0)
    n.add("Generator", "gd", bus="d", p_nom=150.0, marginal_cost=47.0)
    n.add("Load", "lb", bus="b", p_set=[200.0, 120.0, 260.0, 90.0])
    n.add("Load", "lc", bus="c", p_set=[20.0, 140.0, 30.0, 110.0])  # c imports over b2b in reverse at times
    n.add("Load", "ld", bus="d", p_set=[60.0, 70.0, 180.0, 40.0])
    res, _ = assert_same_as_pypsa(n, tmp_path)
    assert n.links.at["asym", "p_nom_opt"] <= 60.0 + 1e-6
    assert n.links_t.p0["b2b"].min() < -1.0  # the reverse direction is used
    case = gridopt.load_case(tmp_path / "net")
    asym = case.tables["links"].loc["asym"]
    assert asym["p_min_pu"] == -0.5 and asym["p_nom_max"] == 60.0 and asym["capital_cost"] == 61.0
    flows = res.flows[res.flows["branch"] == "b2b"]
    assert flows["limit_reverse_mw"].max() == pytest.approx(n.links.at["b2b", "p_nom_opt"], rel=CAP_REL)


def test_extendable_generators_with_a_renewable_series_minimum_output_and_ramps(tmp_path):
    n = new_network(6)
    n.add("Bus", "a", v_nom=220.0)
    n.add("Bus", "b", v_nom=220.0)
    n.add("Line", "ab", bus0="a", bus1="b", x=10.0, s_nom=150.0)
    n.add("Generator", "coal", bus="a", p_nom=100.0, marginal_cost=20.0, p_nom_extendable=True,
          capital_cost=100.0, p_nom_max=300.0, ramp_limit_up=0.4, ramp_limit_down=0.5)
    n.add("Generator", "gas", bus="b", p_nom=0.0, marginal_cost=55.0, p_nom_extendable=True,
          capital_cost=47.0, p_min_pu=0.1)
    n.add("Generator", "wind", bus="a", carrier="wind", p_nom=0.0, p_nom_extendable=True, capital_cost=33.0,
          p_nom_max=150.0, p_max_pu=[0.9, 0.7, 0.2, 0.1, 0.5, 0.8])
    # existing 200 MW above its largest capacity of 120 MW
    n.add("Generator", "old", bus="b", p_nom=200.0, marginal_cost=45.0, p_nom_extendable=True,
          capital_cost=35.0, p_nom_max=120.0)
    n.add("Generator", "peak", bus="b", p_nom=400.0, marginal_cost=300.0, capital_cost=50.0)  # fixed: no cost
    # availability above 1 pu: imported with p_nom (and its bounds) times 1.5, the capital cost per MW / 1.5
    n.add("Generator", "run_of_river", bus="a", p_nom=10.0, marginal_cost=2.0, p_nom_extendable=True,
          capital_cost=90.0, p_nom_max=50.0, p_max_pu=[1.5, 1.2, 0.6, 0.3, 0.9, 1.1])
    n.add("Generator", "contracted", bus="b", p_nom=0.0, marginal_cost=30.0, p_nom_extendable=True,
          capital_cost=20.0, p_nom_set=40.0)  # a set capacity: a decision with equal bounds
    n.add("Load", "la", bus="a", p_set=[80.0, 90.0, 110.0, 130.0, 100.0, 70.0])
    n.add("Load", "lb", bus="b", p_set=[150.0, 180.0, 260.0, 300.0, 240.0, 170.0])
    res, _ = assert_same_as_pypsa(n, tmp_path, scale={"run_of_river": 1.5})
    opt = n.generators.p_nom_opt
    assert opt["contracted"] == pytest.approx(40.0)
    assert opt["run_of_river"] == pytest.approx(50.0)  # at its largest capacity, 75 MW once imported
    assert opt["wind"] > 1.0 and opt["gas"] > 1.0 and opt["old"] <= 120.0 + 1e-6
    p = n.generators_t.p
    assert p["gas"].min() == pytest.approx(0.1 * opt["gas"])  # the minimum output follows the capacity
    assert p["coal"].diff().max() == pytest.approx(0.4 * opt["coal"])  # and so does the ramp limit
    caps = res.capacities.set_index("element")
    assert caps.at["old", "investment_cny"] == pytest.approx(35.0 * (opt["old"] - 200.0), rel=CAP_REL)
    assert caps.at["peak", "investment_cny"] == 0.0
    ror = gridopt.load_case(tmp_path / "net").tables["generators"].loc["run_of_river"]
    assert ror["p_nom"] == 15.0 and ror["p_nom_max"] == 75.0
    assert ror["capital_cost"] == pytest.approx(90.0 / 1.5)


def test_extendable_storage_units_cyclic_and_not(tmp_path):
    hours = 8
    n = new_network(hours)
    n.add("Bus", "a", v_nom=110.0)
    n.add("Generator", "base", bus="a", p_nom=90.0, marginal_cost=10.0)
    n.add("Generator", "peak", bus="a", p_nom=300.0, marginal_cost=100.0)
    n.add("Load", "l", bus="a", p_set=[50.0, 40.0, 60.0, 130.0, 150.0, 120.0, 70.0, 60.0])
    n.add("StorageUnit", "battery", bus="a", p_nom=0.0, max_hours=2.0, efficiency_store=0.95,
          efficiency_dispatch=0.93, cyclic_state_of_charge=True, p_nom_extendable=True, capital_cost=52.0)
    # non-cyclic, charging at half its dispatch rating, with a standing loss and energy to start with
    n.add("StorageUnit", "phs", bus="a", p_nom=10.0, max_hours=4.0, p_min_pu=-0.5, efficiency_store=0.85,
          efficiency_dispatch=0.88, standing_loss=0.01, state_of_charge_initial=15.0, p_nom_extendable=True,
          capital_cost=83.0, p_nom_max=25.0)
    # dispatch and charge at 0.8 of p_nom: imported at 0.8 * p_nom, its bounds and costs rescaled
    n.add("StorageUnit", "flow", bus="a", p_nom=5.0, max_hours=3.0, p_max_pu=0.8, p_min_pu=-0.8,
          efficiency_store=0.9, efficiency_dispatch=0.9, cyclic_state_of_charge=True, p_nom_extendable=True,
          capital_cost=61.0, marginal_cost=0.5, p_nom_max=12.0)
    n.add("StorageUnit", "fixed", bus="a", p_nom=5.0, max_hours=1.0, cyclic_state_of_charge=True,
          capital_cost=9.0)
    res, _ = assert_same_as_pypsa(n, tmp_path, scale={"flow": 0.8})
    opt = n.storage_units.p_nom_opt
    assert (opt[["battery", "phs", "flow"]] > 1.0).all()
    assert opt["phs"] < 10.0  # below its existing capacity
    case = gridopt.load_case(tmp_path / "net")
    flow = case.tables["storage_units"].loc["flow"]
    assert flow["p_nom_max"] == pytest.approx(0.8 * 12.0)
    assert flow["capital_cost"] == pytest.approx(61.0 / 0.8)
    assert case.tables["storage_units"].at["battery", "p_nom_max"] == np.inf
    caps = res.capacities.set_index("element")
    energy = 3.0 * n.storage_units.at["flow", "p_nom_opt"]
    assert caps.at["flow", "optimal_mwh"] == pytest.approx(energy, rel=CAP_REL)


def mixed_network(hours: int = 6, weight: float | None = None, storage: bool = True):
    """Lines, a transformer, links, generators (one renewable) and storage units, all extendable."""
    n = new_network(hours, weight)
    for b, v in (("a", 220.0), ("b", 220.0), ("c", 220.0), ("lv", 110.0), ("x", 500.0)):
        n.add("Bus", b, v_nom=v)
    n.add("Line", "ab", bus0="a", bus1="b", x=12.0, s_nom=80.0, s_nom_extendable=True, capital_cost=230.0)
    n.add("Line", "bc", bus0="b", bus1="c", x=9.0, s_nom=100.0, s_nom_extendable=True, capital_cost=170.0,
          s_nom_max=300.0)
    n.add("Line", "ca", bus0="c", bus1="a", x=14.0, s_nom=90.0)
    n.add("Transformer", "tc", bus0="c", bus1="lv", x=0.1, s_nom=60.0, s_nom_extendable=True,
          capital_cost=140.0)
    n.add("Link", "dc", bus0="x", bus1="a", p_nom=40.0, efficiency=0.97, p_nom_extendable=True,
          capital_cost=260.0)
    n.add("Link", "tie", bus0="b", bus1="x", p_nom=20.0, p_min_pu=-1.0, p_nom_extendable=True,
          capital_cost=90.0, p_nom_max=150.0)
    profile = 0.5 + 0.45 * np.sin(np.arange(hours) * 2.1)
    n.add("Generator", "hydro_x", bus="x", p_nom=300.0, marginal_cost=4.0)
    n.add("Generator", "wind", bus="b", carrier="wind", p_nom=30.0, p_nom_extendable=True, capital_cost=280.0,
          p_nom_max=250.0, p_max_pu=profile)
    n.add("Generator", "ccgt", bus="c", p_nom=120.0, marginal_cost=58.0, p_nom_extendable=True,
          capital_cost=190.0)
    n.add("Generator", "oil", bus="lv", p_nom=200.0, marginal_cost=160.0)
    n.add("Load", "la", bus="a", p_set=np.linspace(60.0, 140.0, hours))
    n.add("Load", "lc", bus="c", p_set=140.0 + 60.0 * np.cos(np.arange(hours)))
    n.add("Load", "llv", bus="lv", p_set=np.linspace(90.0, 50.0, hours))
    if storage:
        n.add("StorageUnit", "bat", bus="lv", p_nom=5.0, max_hours=3.0, efficiency_store=0.92,
              efficiency_dispatch=0.92, cyclic_state_of_charge=True, p_nom_extendable=True, capital_cost=75.0)
        n.add("StorageUnit", "phs", bus="a", p_nom=20.0, max_hours=5.0, efficiency_store=0.86,
              efficiency_dispatch=0.9, p_nom_extendable=True, capital_cost=95.0, p_nom_min=10.0)
    return n


def test_a_mix_of_every_extendable_kind(tmp_path):
    n = mixed_network()
    res, _ = assert_same_as_pypsa(n, tmp_path)
    built = res.summary["capacity_built"]
    assert {"lines", "transformers", "links", "generators", "storage_units"} <= set(built)


def test_weighted_snapshots_pay_capital_costs_once(tmp_path):
    """Three snapshots standing for a year (2920 h each): marginal costs are weighted, capital costs are not;
    an overnight cost is annuitised over its lifetime for the horizon's one year, plus its fixed O&M."""
    n = mixed_network(3, weight=2920.0, storage=False)
    for c in ("lines", "transformers", "links", "generators"):  # annual costs, as a year's operation costs
        getattr(n, c)["capital_cost"] *= 400.0
    n.add("Generator", "solar", bus="c", carrier="solar", p_nom=0.0, p_nom_extendable=True,
          overnight_cost=500_000.0, discount_rate=0.07, lifetime=25.0, fom_cost=8000.0,
          p_max_pu=[0.0, 0.8, 0.3])
    res, _ = assert_same_as_pypsa(n, tmp_path)
    case = gridopt.load_case(tmp_path / "net")
    assert case.series["weighting"]["objective"].tolist() == [2920.0] * 3
    annuity = 0.07 / (1 - 1.07 ** -25)
    solar = case.tables["generators"].loc["solar"]
    assert solar["capital_cost"] == pytest.approx(500_000.0 * annuity + 8000.0)
    assert n.generators.at["solar", "p_nom_opt"] > 1.0
    assert not [w for w in res.summary["warnings"] if "capital costs" in w]  # the weightings sum to a year


# ---- refusals -----------------------------------------------------------------------------------

def test_what_no_mapping_can_extend_is_refused_one_line_each(tmp_path, capsys):
    n = new_network(2)
    n.add("Bus", "a")
    n.add("Bus", "b", v_nom=20.0)
    n.add("Load", "l", bus="a", p_set=10.0)
    n.add("Generator", "g", bus="a", p_nom=50.0)
    n.add("Generator", "nuclear", bus="a", p_nom=0.0, p_nom_extendable=True, p_nom_mod=100.0)
    n.add("Transformer", "t", bus0="a", bus1="b", x=0.1, s_nom=0.0, s_nom_extendable=True)
    n.add("StorageUnit", "dam", bus="a", p_nom=10.0, max_hours=5.0, inflow=[3.0, 1.0], p_nom_extendable=True)
    n.add("StorageUnit", "dump", bus="a", p_nom=10.0, efficiency_store=0.0, p_nom_extendable=True)
    n.add("StorageUnit", "half", bus="a", p_nom=0.0, p_min_pu=-0.5, p_nom_extendable=True)
    n.add("Generator", "buyer", bus="a", p_nom=10.0, p_min_pu=-1.0, p_max_pu=0.0, p_nom_extendable=True)
    folder = tmp_path / "refused_pypsa"
    n.export_to_csv_folder(str(folder))
    assert main(["import-pypsa", str(folder), str(tmp_path / "refused")]) == 1
    err = capsys.readouterr().err
    for needle in ("generators.csv, row nuclear, column p_nom_mod", "transformers.csv, row t, column s_nom",
                   "storage_units.csv, row dam, column p_nom_extendable: True on a unit with inflow",
                   "storage_units.csv, row dump, column p_nom_extendable",
                   "storage_units.csv, row half, column p_nom",
                   "generators.csv, row buyer, column p_nom_extendable"):
        lines = [line for line in err.splitlines() if needle in line]
        assert len(lines) == 1, (needle, err)


# ---- gridopt -> PyPSA -> gridopt ----------------------------------------------------------------

def expansion_network(hours: int = 4):
    tables = {
        "buses": buses("a", "b", "c") + buses("lv", v_nom=110.0),
        "lines": [{"name": "ab", "bus0": "a", "bus1": "b", "x": 30.0, "s_nom": 100.0,
                   "s_nom_extendable": True, "capital_cost": 120.0, "s_nom_max": 250.0},
                  {"name": "bc", "bus0": "b", "bus1": "c", "x": 40.0, "s_nom": 90.0, "s_nom_extendable": True,
                   "capital_cost": 95.0},
                  {"name": "ca", "bus0": "c", "bus1": "a", "x": 50.0, "s_nom": 120.0}],
        "transformers": [{"name": "t", "bus0": "c", "bus1": "lv", "x": 0.1, "s_nom": 80.0, "tap_ratio": 0.98,
                          "s_nom_extendable": True, "capital_cost": 70.0}],
        "links": [{"name": "dc", "bus0": "a", "bus1": "lv", "p_nom": 30.0, "p_min_pu": -1.0,
                   "p_nom_extendable": True, "capital_cost": 150.0, "p_nom_max": 90.0}],
        "generators": [
            {"name": "coal", "bus": "a", "carrier": "coal", "p_nom": 250.0, "marginal_cost": 20.0},
            {"name": "gas", "bus": "c", "carrier": "gas", "p_nom": 50.0, "marginal_cost": 60.0,
             "p_nom_extendable": True, "capital_cost": 110.0, "p_nom_min": 20.0},
            {"name": "pv", "bus": "b", "carrier": "pv", "p_nom": 0.0, "p_nom_extendable": True,
             "capital_cost": 130.0, "p_nom_max": 200.0},
            {"name": "peak", "bus": "lv", "carrier": "oil", "p_nom": 300.0, "marginal_cost": 250.0}],
        "storage_units": [{"name": "bat", "bus": "b", "p_nom": 10.0, "p_nom_store": 5.0, "max_hours": 3.0,
                           "efficiency_store": 0.9, "efficiency_dispatch": 0.9, "p_nom_extendable": True,
                           "capital_cost": 60.0}],
    }
    ser = {"load_firm_mw": series(hours, a=[150.0, 200.0, 260.0, 180.0], b=[80.0, 120.0, 140.0, 90.0],
                                  c=[60.0, 70.0, 150.0, 60.0], lv=[70.0, 90.0, 120.0, 80.0]),
           "p_max_pu": series(hours, pv=[0.0, 0.5, 0.9, 0.3])}
    return net(tables, ser, hours=hours)


def test_round_trip_keeps_the_expansion_and_the_objective(tmp_path, capsys):
    pypsa = _pypsa()
    original = expansion_network()
    res = gridopt.dispatch(original)
    expected = res.summary["objective_cny"]
    assert res.summary["capacity_built"]["lines"]  # extension is priced in this test
    case = gridopt.write_case(original, tmp_path / "orig")
    assert main(["export-pypsa", str(case), str(tmp_path / "out_pypsa")]) == 0
    assert "warning" not in capsys.readouterr().err
    n = pypsa.Network(str(tmp_path / "out_pypsa"))
    assert bool(n.lines.at["ab", "s_nom_extendable"]) and n.lines.at["ab", "s_nom_max"] == 250.0
    assert n.links.at["dc", "capital_cost"] == 150.0 and n.storage_units.at["bat", "p_min_pu"] == -0.5
    assert pypsa_objective(n) == pytest.approx(expected, rel=REL)
    assert assert_same_capacities(n, res) == 7
    assert main(["import-pypsa", str(tmp_path / "out_pypsa"), str(tmp_path / "back")]) == 0
    back_net = gridopt.load_case(tmp_path / "back")
    back = gridopt.dispatch(back_net)
    assert back.summary["objective_cny"] == pytest.approx(expected, rel=REL)
    for comp, nom in NOM.items():
        cols = [f"{nom}_extendable", f"{nom}_min", f"{nom}_max", "capital_cost"]
        a, b = original.tables[comp][cols], back_net.tables[comp][cols].reindex(original.tables[comp].index)
        pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=comp)


def test_export_warns_where_pypsa_cannot_extend_as_gridopt(tmp_path, capsys):
    tables = {"buses": buses("a", "b"),
              "links": [{"name": "lossy", "bus0": "a", "bus1": "b", "p_nom": 40.0, "p_min_pu": -1.0,
                         "efficiency": 0.95, "p_nom_extendable": True, "capital_cost": 10.0}],
              "generators": [{"name": "g", "bus": "a", "carrier": "coal", "p_nom": 100.0,
                              "marginal_cost": 10.0}],
              "reservoirs": [{"name": "dam", "bus": "b", "p_nom": 20.0, "production_mw_per_m3s": 1.0,
                              "volume_max_hm3": 1.0, "volume_initial_hm3": 0.5, "p_nom_extendable": True,
                              "capital_cost": 5.0}]}
    ser = {"load_firm_mw": series(2, b=[30.0, 50.0]), "inflow_m3s": series(2, dam=[5.0, 8.0])}
    case = gridopt.write_case(net(tables, ser, hours=2), tmp_path / "orig")
    assert main(["export-pypsa", str(case), str(tmp_path / "out_pypsa")]) == 0
    err = capsys.readouterr().err
    assert "extendable two-way links exported as two one-way links, extended forward only" in err
    assert "p_nom): lossy" in err
    assert "extendable reservoir turbines exported at their existing capacity" in err and "dam" in err
    links = pd.read_csv(tmp_path / "out_pypsa" / "links.csv", index_col=0)
    assert bool(links.at["lossy", "p_nom_extendable"])
    assert not bool(links.at["lossy_reverse", "p_nom_extendable"])
