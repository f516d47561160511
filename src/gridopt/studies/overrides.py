"""What one run of a sweep changes: `KEY=VALUE` overrides of a case and of a run's options.

Keys (values as given after `--vary KEY=`):

    carbon_price              CNY/t
    carbon_cap.REGION         t of CO2 over the horizon, per region or `system`
    intensity_cap.REGION      t/MWh
    scenario                  scenario overlays, `+`-joined and applied in that order (`base`: none),
                              after any given to the whole sweep
    start, hours              first snapshot, number of snapshots
    periods                   representative periods as --periods (`none`: hourly)
    imported_emissions        none | attributed
    scale.SERIES              factor on an hourly series over all its columns (e.g. scale.inflow_m3s,
                              scale.load_firm_mw, scale.gas_demand_mm3_per_h)
    scale.TABLE.COLUMN        factor on a column of a table for every element (e.g.
                              scale.gas_supplies.cost_cny_per_kcm, scale.generators.fuel_price)
    SETTING[.KEY...]          a case.toml setting, dotted into its tables (e.g. year,
                              penalties.voll_firm_cny_per_mwh, reserves.Sichuan); the value is read as TOML
                              (a number, true/false, or else text)

Case changes apply in this order: scenarios, then settings and scalings (one overlay), then periods.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..errors import UsageError
from ..schema import SCHEMA, SERIES

RUN_KEYS = {"carbon_price": float, "hours": int, "start": str, "imported_emissions": str}
DICT_KEYS = {"carbon_cap": "carbon_caps", "intensity_cap": "intensity_caps"}


def parse_vary(text: str) -> tuple[str, list[str]]:
    """`KEY=V1,V2,...` as (KEY, [V1, V2, ...]); the key's form is checked here, its values when a run applies
    them (a wrong value fails that run alone)."""
    if "=" not in text:
        raise UsageError(f"--vary {text!r}: expected KEY=V1,V2,...")
    key, values = (x.strip() for x in text.split("=", 1))
    check_key(key)
    vals = [v.strip() for v in values.split(",")]
    if not all(vals):
        raise UsageError(f"--vary {text!r}: an empty value")
    return key, vals


def check_key(key: str) -> None:
    head, _, rest = key.partition(".")
    if key in RUN_KEYS or key in ("scenario", "periods"):
        return
    if head in DICT_KEYS:
        if not rest:
            raise UsageError(f"--vary {key}: name the region, e.g. {head}.system")
        return
    if head == "scale":
        table, _, column = rest.partition(".")
        if column and table in SCHEMA:
            return
        if not column and table in SERIES:
            return
        raise UsageError(f"--vary {key}: scale.SERIES (one of {', '.join(sorted(SERIES))}) or scale.TABLE.COLUMN")
    if not all(key.split(".")):
        raise UsageError(f"--vary {key}: not a key (see docs/studies.md)")


def check_setting(net, key: str) -> None:
    """A key that is none of the run's options must name a case.toml setting of `net`."""
    head = key.partition(".")[0]
    if key in RUN_KEYS or key in ("scenario", "periods") or head in DICT_KEYS or head == "scale":
        return
    if head not in net.config:
        raise UsageError(f"--vary {key}: {head!r} is not a setting of case {net.name} (nor a sweep key: see "
                         "docs/studies.md)")


def typed(key: str, value: str) -> Any:
    """The value of `key` as the run takes it (numbers for numeric keys; text otherwise)."""
    head = key.partition(".")[0]
    try:
        if key in RUN_KEYS:
            return RUN_KEYS[key](value)
        if head in DICT_KEYS or head == "scale":
            return float(value)
    except ValueError:
        raise UsageError(f"--vary {key}: {value!r} is not a number") from None
    return value


def _toml(value: str) -> Any:
    try:
        return tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return value


def apply(net, overrides: Mapping[str, str], run: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    """(network, dispatch keywords) of one run: `net` and the sweep's own keywords `run` with `overrides`."""
    kw = {**run, "carbon_caps": dict(run.get("carbon_caps") or {}),
          "intensity_caps": dict(run.get("intensity_caps") or {})}
    case: dict[str, Any] = {}
    sets: list[dict[str, Any]] = []
    scales: list[dict[str, Any]] = []
    periods = None
    for key, value in overrides.items():
        head, _, rest = key.partition(".")
        v = typed(key, value)
        if key == "scenario":
            names = [n for n in value.split("+") if n and n != "base"]
            net = net.with_scenario(names) if names else net
        elif key == "periods":
            periods = value
        elif key in RUN_KEYS:
            kw[key] = v
        elif head in DICT_KEYS:
            kw[DICT_KEYS[head]][rest] = v
        elif head == "scale":
            table, _, column = rest.partition(".")
            if column:
                sets += _scaled_column(net, table, column, v)
            else:
                scales.append({"series": table, "factor": v})
        else:
            node = case
            parts = key.split(".")
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            node[parts[-1]] = _toml(value)
    spec = {k: x for k, x in (("case", case), ("set", sets), ("scale", scales)) if x}
    if spec:
        label = ",".join(f"{k}={overrides[k]}" for k in overrides if k not in RUN_KEYS and k not in ("scenario",
                                                                                                    "periods"))
        scen = net.scenario
        net = net.with_overlay(spec, name=label, file=f"--vary {label}")
        net = net.replace(scenario=scen)  # a sweep's settings are its overrides, not a scenario
    for k in DICT_KEYS.values():  # none given: the case's own caps apply, as on the command line
        kw[k] = kw[k] or None
    if periods is not None and periods != "none":
        from ..periods import with_periods
        net = with_periods(net, periods)
    return net, kw


def _scaled_column(net, table: str, column: str, factor: float) -> list[dict[str, Any]]:
    """`set` entries multiplying `column` of every element of `table` by `factor` (one entry per value)."""
    df = net.tables[table]
    if column not in df.columns:
        raise UsageError(f"scale.{table}.{column}: {table} has no column {column!r}")
    col = pd.to_numeric(df[column], errors="coerce")
    col = col[col.notna()]
    return [{"table": table, "names": [str(n) for n in names], "values": {column: float(value) * factor}}
            for value, names in col.groupby(col).groups.items()]
