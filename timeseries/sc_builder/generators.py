"""The generator table: thermal fleets, run-of-river and border hydro, wind and PV, in that order.

Columns a fleet does not set take the schema defaults (0, not committable, no reserve, no gas node).
"""

from __future__ import annotations

import pandas as pd

from . import hydro, renewables, thermal
from .common import Inputs

COLUMNS = ["name", "bus", "carrier", "p_nom", "p_min_pu", "committable", "start_up_cost", "ramp_limit_up",
           "ramp_limit_down", "marginal_cost", "fuel_price", "heat_rate", "co2_t_per_mwh", "gas_node",
           "provides_reserve", "build_year", "description"]
ZERO_DEFAULTS = ("p_min_pu", "start_up_cost", "marginal_cost", "fuel_price", "heat_rate", "co2_t_per_mwh")


def build_generators(inp: Inputs) -> tuple[pd.DataFrame, dict]:
    info: dict = {}
    rows = thermal.fleet_rows(inp, info)
    rows += hydro.run_of_river_rows(inp, info)
    rows += hydro.plant_group_rows(inp)
    rows += renewables.wind_rows(inp)
    rows += renewables.pv_rows(inp)
    df = pd.DataFrame(rows)
    df["gas_node"] = df["gas_node"].fillna("")
    df["committable"] = df["committable"].fillna(False).astype(bool)
    df["provides_reserve"] = df["provides_reserve"].fillna(False).astype(bool)
    for c in ZERO_DEFAULTS:
        df[c] = df[c].fillna(0.0)
    df["build_year"] = df["build_year"].astype(int)
    return df[COLUMNS], info
