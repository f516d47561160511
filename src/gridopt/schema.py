"""Component schema as data.

`schema.csv` holds one row per component attribute (type, unit, default, whether required, the
table it references, its valid range); `series.csv` names the hourly time series and the component
whose element names are their columns. Everything that checks or fills a table reads these two
tables, so a new attribute is added in one place. The settings a `case.toml` may hold, with their
defaults, are stated here too.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Attribute:
    component: str
    name: str
    type: str  # str, float, int, bool
    unit: str
    default: object
    required: bool
    references: str  # a component name, 'branches', 'region' or ''
    valid: str  # '', '>=0', '>0', '[0,1]', '(0,1]', '[-1,0]', '+-1'
    description: str


@dataclass(frozen=True)
class SeriesSpec:
    name: str
    component: str
    unit: str
    overrides: str
    description: str


def _parse_default(typ: str, text: str) -> object:
    if text == "":
        return "" if typ == "str" else (math.nan if typ == "float" else None)
    if typ == "float":
        return float(text)
    if typ == "int":
        return int(text)
    if typ == "bool":
        return text.lower() == "true"
    return text


def _read(name: str) -> list[dict[str, str]]:
    with resources.files("gridopt").joinpath(name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _load_schema() -> dict[str, dict[str, Attribute]]:
    out: dict[str, dict[str, Attribute]] = {}
    for r in _read("schema.csv"):
        a = Attribute(
            component=r["component"], name=r["attribute"], type=r["type"], unit=r["unit"],
            default=_parse_default(r["type"], r["default"]), required=r["required"] == "yes",
            references=r["references"], valid=r["valid"], description=r["description"],
        )
        out.setdefault(a.component, {})[a.name] = a
    return out


SCHEMA: dict[str, dict[str, Attribute]] = _load_schema()
COMPONENTS: tuple[str, ...] = tuple(SCHEMA)
SERIES: dict[str, SeriesSpec] = {r["series"]: SeriesSpec(**{k if k != "series" else "name": v for k, v in r.items()})
                                 for r in _read("series.csv")}
BRANCH_COMPONENTS = ("lines", "transformers", "links")

# capacity expansion: per component, its capacity column, the flag that makes it a decision, and the bounds
# of that decision (PyPSA's names for power; the gas tables' own units for gas)
EXTENDABLE: dict[str, tuple[str, str, str, str]] = {
    "generators": ("p_nom", "p_nom_extendable", "p_nom_min", "p_nom_max"),
    "lines": ("s_nom", "s_nom_extendable", "s_nom_min", "s_nom_max"),
    "transformers": ("s_nom", "s_nom_extendable", "s_nom_min", "s_nom_max"),
    "links": ("p_nom", "p_nom_extendable", "p_nom_min", "p_nom_max"),
    "storage_units": ("p_nom", "p_nom_extendable", "p_nom_min", "p_nom_max"),
    "stores": ("e_nom", "e_nom_extendable", "e_nom_min", "e_nom_max"),
    "reservoirs": ("p_nom", "p_nom_extendable", "p_nom_min", "p_nom_max"),
    "pipelines": ("capacity_mm3_per_h", "capacity_extendable", "capacity_min_mm3_per_h", "capacity_max_mm3_per_h"),
    "gas_storages": ("working_gas_mm3", "working_gas_extendable", "working_gas_min_mm3", "working_gas_max_mm3"),
}

# case.toml: every setting a case may give, with its default; penalties in CNY per MWh or per kcm
DEFAULT_PENALTIES: dict[str, float] = {
    "curtailment_cny_per_mwh": 1.0,
    "spill_cny_per_mwh": 1.0,
    "rule_curve_cny_per_mwh": 1500.0,
    "end_target_cny_per_mwh": 1500.0,
    "voll_interruptible_cny_per_mwh": 3000.0,
    "export_shortfall_cny_per_mwh": 4000.0,
    "eco_flow_cny_per_mwh": 6000.0,
    "voll_firm_cny_per_mwh": 20000.0,
    "gas_shed_industry_cny_per_kcm": 10000.0,
    "gas_export_shortfall_cny_per_kcm": 12000.0,
    "gas_shed_residential_cny_per_kcm": 200000.0,
}

DEFAULT_CONFIG: dict[str, Any] = {
    "name": "",
    "description": "",
    "currency": "CNY",
    "year": 0,
    "timeseries_start": "2025-01-01 00:00",
    "hours": 24,  # snapshots of a case without series
    "default_hours": 0,  # hours `run` solves when not told: 0 = the whole series
    "snapshot_hours": 1,
    "carbon_price": 0.0,
    # carbon caps (t over the horizon) by region or 'system': what a run caps when it is given no caps
    "carbon_caps": {},
    # limits on the extendable lines and links of named carriers, PyPSA's transmission expansion limits:
    # name -> {carriers = [...], volume_mw_km = V} (sum of length_km x capacity) or {..., cost_cny = C} (sum of
    # capital_cost x capacity); see gridopt.formulation.capacity.add_expansion_limits
    "expansion_limits": {},
    # emissions of power from outside the regions under the carbon price and caps: one of IMPORTED_EMISSIONS
    "imported_emissions": "none",
    "regions": [],
    "interchange": [],
    "gas_lhv_gj_per_kcm": 34.0,
    "penalties": DEFAULT_PENALTIES,
    "load_shedding": True,  # false: no shed variables (imported cases, whose source has none)
    "reserves": {},
    "published_capacity_mw": {},
    "periods": "",  # representative periods a run takes by default, as --periods (e.g. "typical-days:16+peak")
    "periods_storage": "clustered",  # how stores link periods: clustered or chained (gridopt.periods)
}

# "none": the carbon price and caps cover emissions inside the regions; "attributed": also what the regions
# import (the rule: gridopt.formulation.emissions)
IMPORTED_EMISSIONS = ("none", "attributed")

EXTERNAL = "external"  # the region of buses outside all regions (markets, export terminals); reserved


def in_range(valid: str, x: float) -> bool:
    """True when value `x` satisfies the schema range `valid` (NaN passes: defaults are checked apart)."""
    if valid == "" or math.isnan(x):
        return True
    if valid == ">=0":
        return x >= 0
    if valid == ">0":
        return x > 0
    if valid == "[0,1]":
        return 0 <= x <= 1
    if valid == "(0,1]":
        return 0 < x <= 1
    if valid == "[-1,0]":
        return -1 <= x <= 0
    if valid == "+-1":
        return x in (1.0, -1.0)
    raise ValueError(f"unknown range {valid!r} in schema.csv")
