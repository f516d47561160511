from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tiny import series

import gridopt
from gridopt.network import Network

HOURS = 6


def small_network() -> Network:
    """A small case touching every component: 2 regions, 4 buses, a cascade, storage, a link, a market."""
    tables = {
        "buses": [{"name": "a", "region": "A", "v_nom": 500.0}, {"name": "b", "region": "A", "v_nom": 500.0},
                  {"name": "c", "region": "B", "v_nom": 500.0}, {"name": "c_hv", "region": "B", "v_nom": 1000.0},
                  {"name": "x", "region": "external", "v_nom": 500.0}],
        "lines": [{"name": "ab", "bus0": "a", "bus1": "b", "x": 28.0, "s_nom": 1000.0, "length_km": 100},
                  {"name": "bc", "bus0": "b", "bus1": "c", "x": 56.0, "s_nom": 500.0},
                  {"name": "ac", "bus0": "a", "bus1": "c", "x": 84.0, "s_nom": 400.0}],
        "transformers": [{"name": "t_c", "bus0": "c_hv", "bus1": "c", "x": 0.18, "s_nom": 3000.0}],
        "links": [{"name": "dc", "bus0": "a", "bus1": "x", "p_nom": 300.0, "efficiency": 0.95}],
        "interfaces": [{"name": "A_B", "limit_mw": 700.0, "limit_reverse_mw": 700.0}],
        "interface_members": [{"interface": "A_B", "branch": "bc", "coefficient": 1},
                              {"interface": "A_B", "branch": "ac", "coefficient": 1}],
        "generators": [
            {"name": "coal_a", "bus": "a", "carrier": "coal", "p_nom": 800.0, "committable": True, "p_min_pu": 0.4,
             "start_up_cost": 100.0, "marginal_cost": 20.0, "fuel_price": 40.0, "heat_rate": 9.0,
             "co2_t_per_mwh": 0.85, "ramp_limit_up": 0.5, "ramp_limit_down": 0.5, "provides_reserve": True},
            {"name": "gas_c", "bus": "c", "carrier": "gas", "p_nom": 400.0, "marginal_cost": 15.0, "gas_node": "gB",
             "heat_rate": 6.3, "co2_t_per_mwh": 0.35, "provides_reserve": True},
            {"name": "pv_b", "bus": "b", "carrier": "pv", "p_nom": 500.0},
            {"name": "hydro_c", "bus": "c", "carrier": "hydro", "p_nom": 200.0},
            {"name": "later", "bus": "c", "carrier": "gas", "p_nom": 300.0, "build_year": 2030,
             "marginal_cost": 1.0}],
        "storage_units": [{"name": "phs", "bus": "c", "p_nom": 200.0, "max_hours": 6.0, "efficiency_store": 0.87,
                           "efficiency_dispatch": 0.87}],
        "reservoirs": [
            {"name": "up", "bus": "a", "p_nom": 300.0, "production_mw_per_m3s": 1.5, "volume_min_hm3": 10.0,
             "volume_max_hm3": 100.0, "volume_initial_hm3": 60.0, "downstream": "down", "delay_hours": 2,
             "eco_flow_min_m3s": 20.0},
            {"name": "down", "bus": "b", "p_nom": 200.0, "production_mw_per_m3s": 1.0, "volume_min_hm3": 1.0,
             "volume_max_hm3": 5.0, "volume_initial_hm3": 3.0}],
        "markets": [{"name": "east", "bus": "x", "buy_max_mw": 300.0, "buy_price": 350.0}],
        "gas_nodes": [{"name": "gA", "region": "A"}, {"name": "gB", "region": "B"}],
        "gas_supplies": [{"name": "field", "node": "gA", "capacity_mm3_per_h": 0.6, "cost_cny_per_kcm": 1800.0}],
        "pipelines": [{"name": "pipe", "node0": "gA", "node1": "gB", "capacity_mm3_per_h": 0.5,
                       "capacity_reverse_mm3_per_h": 0.5, "efficiency": 0.99, "cost_cny_per_kcm": 50.0}],
        "gas_storages": [{"name": "ugs", "node": "gB", "working_gas_mm3": 2.0, "injection_max_mm3_per_h": 0.2,
                          "withdrawal_max_mm3_per_h": 0.3, "inventory_initial_mm3": 1.0, "cyclic": True}],
        "gas_demands": [{"name": "homes", "node": "gB", "kind": "residential"},
                        {"name": "works", "node": "gA", "kind": "industry"}],
    }
    import pandas as pd
    ser = {
        "load_firm_mw": series(HOURS, a=[500, 520, 600, 700, 650, 550], b=[300, 300, 350, 380, 360, 320],
                               c=[400, 420, 500, 600, 580, 450]),
        "load_interruptible_mw": series(HOURS, a=50.0, c=40.0),
        "p_max_pu": series(HOURS, pv_b=[0.0, 0.2, 0.6, 0.8, 0.5, 0.1], hydro_c=0.6),
        "inflow_m3s": series(HOURS, up=150.0, down=30.0),
        "volume_target_hm3": series(HOURS, up=58.0),
        "contract_min_mw": series(HOURS, dc=100.0),
        "gas_demand_mm3_per_h": series(HOURS, homes=[0.1, 0.1, 0.2, 0.3, 0.3, 0.2], works=0.15),
    }
    cfg = {"name": "small", "year": 2025, "regions": ["A", "B"], "interchange": ["A", "B"],
           "timeseries_start": "2025-01-01 00:00", "carbon_price": 80.0, "reserves": {"A": 0.05, "B": 0.05}}
    return Network.from_tables(cfg, {k: pd.DataFrame(v) for k, v in tables.items()}, ser)


@pytest.fixture
def small() -> Network:
    return small_network()


@pytest.fixture
def small_case(tmp_path) -> Path:
    """The small network written as a case folder (its series under its own timeseries/)."""
    return gridopt.write_case(small_network(), tmp_path / "small")
