"""From a case's raw input to typed tables, and every problem with it.

Settings are merged over their defaults (`merge_config`), tables typed by the schema with defaults filled
(`coerce_table`), and the typed tables checked for references, ranges, units, series and cascades (`check`).
Every step appends `Problem`s naming file, row (element) and column; nothing raises here. The functions take
plain settings and tables, not a `Network`: the network module calls them when it builds one.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from .errors import Problem
from .schema import (
    BRANCH_COMPONENTS,
    DEFAULT_CONFIG,
    DEFAULT_PENALTIES,
    EXTENDABLE,
    EXTERNAL,
    IMPORTED_EMISSIONS,
    SCHEMA,
    SERIES,
    in_range,
)

HUGE = 1e12  # no quantity of a grid case comes near this in its unit (MW, hm3, CNY/MWh, ...)
# attributes where inf (no limit) is the default
UNLIMITED = frozenset({"spill_max_m3s"} | {hi for _, _, _, hi in EXTENDABLE.values()})


def file_of(component: str) -> str:
    """The file a component's table is read from."""
    return f"{component}.csv"


def coerce_table(component: str, raw: pd.DataFrame, file: str, problems: list[Problem]) -> pd.DataFrame:
    """Typed table from a frame of strings (or objects); fills defaults, records every bad cell."""
    attrs = SCHEMA[component]
    for col in raw.columns:
        if col not in attrs:
            problems.append(Problem(file, "", str(col), f"unknown column (expected one of: {', '.join(attrs)})"))
    out = {}
    n = len(raw)
    names = raw["name"].astype(str).tolist() if "name" in raw.columns else [str(i + 2) for i in range(n)]
    for a in attrs.values():
        if a.name not in raw.columns:
            if a.required:
                problems.append(Problem(file, "", a.name, f"missing required column ({a.unit or a.type})"))
            values = [a.default] * n
        else:
            values = []
            for i, v in enumerate(raw[a.name].tolist()):
                rowref = f"{i + 2} ({names[i]})" if "name" in raw.columns else str(i + 2)
                text = "" if v is None or (isinstance(v, float) and math.isnan(v) and a.type != "float") else v
                if isinstance(text, str):
                    text = text.strip()
                if isinstance(text, str) and text == "":
                    if a.required:
                        problems.append(Problem(file, rowref, a.name, "empty value, a value is required"))
                    values.append(a.default)
                    continue
                try:
                    if a.type == "float":
                        x = float(text)
                        if math.isnan(x):
                            if a.required:
                                problems.append(Problem(file, rowref, a.name, "NaN, a number is required"))
                            x = a.default
                    elif a.type == "int":
                        fx = float(text)
                        if not fx.is_integer() or abs(fx) >= 2.0**63:  # whole, and fits a 64-bit integer
                            raise ValueError
                        x = int(fx)
                    elif a.type == "bool":
                        if isinstance(text, (bool, np.bool_)):
                            x = bool(text)
                        elif str(text).lower() in ("true", "1", "yes"):
                            x = True
                        elif str(text).lower() in ("false", "0", "no"):
                            x = False
                        else:
                            raise ValueError
                    else:
                        x = str(text)
                except (TypeError, ValueError):
                    problems.append(Problem(file, rowref, a.name, f"{v!r} is not a valid {a.type} ({a.unit or a.type})"))
                    x = a.default
                values.append(x)
        if a.type == "float":
            out[a.name] = pd.Series(values, dtype="float64")
        elif a.type == "int":
            out[a.name] = pd.Series([0 if v is None else v for v in values], dtype="int64")
        elif a.type == "bool":
            out[a.name] = pd.Series(values, dtype="bool")
        else:
            out[a.name] = pd.Series(["" if v is None else v for v in values], dtype="object")
    df = pd.DataFrame(out, index=pd.RangeIndex(n))
    if "name" in attrs:
        df = df.set_index("name", drop=True)
    return df


def empty_table(component: str) -> pd.DataFrame:
    """A typed table of `component` without elements."""
    return coerce_table(component, pd.DataFrame({a: pd.Series([], dtype=object) for a in SCHEMA[component]}),
                         file_of(component), [])


def merge_config(raw: Mapping[str, Any], file: str, problems: list[Problem]) -> dict[str, Any]:
    """case.toml settings over their defaults; records every unknown key and bad value."""
    cfg = copy.deepcopy(DEFAULT_CONFIG)
    for key, value in raw.items():
        if key not in DEFAULT_CONFIG:
            problems.append(Problem(file, "", key, f"unknown key (expected one of: {', '.join(DEFAULT_CONFIG)})"))
            continue
        default = DEFAULT_CONFIG[key]
        if key == "published_capacity_mw":
            ok = isinstance(value, dict) and all(
                isinstance(v, dict) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v.values())
                for v in value.values())
            if not ok:
                problems.append(Problem(file, "", key, "expected tables of region -> {carrier = MW}"))
            else:
                cfg[key] = {r: {c: float(x) for c, x in v.items()} for r, v in value.items()}
            continue
        if key == "expansion_limits":
            cfg[key] = _expansion_limits(value, file, problems)
            continue
        if isinstance(default, dict):
            if not isinstance(value, dict):
                problems.append(Problem(file, "", key, "expected a table"))
                continue
            merged = dict(default)
            for k, v in value.items():
                if key == "penalties" and k not in DEFAULT_PENALTIES:
                    problems.append(Problem(file, key, k, "unknown penalty"))
                elif not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
                    problems.append(Problem(file, key, k, f"{v!r} is not a finite number >= 0"))
                else:
                    merged[k] = float(v)
            cfg[key] = merged
        elif isinstance(default, list):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(Problem(file, "", key, "expected a list of names"))
            else:
                cfg[key] = list(value)
        elif isinstance(default, bool):
            # true/false settings: a string such as "false" would read as true
            if not isinstance(value, bool):
                problems.append(Problem(file, "", key, f"{value!r} is not true or false"))
            else:
                cfg[key] = value
        elif isinstance(default, (int, float)) and not isinstance(default, bool):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                problems.append(Problem(file, "", key, f"{value!r} is not a number"))
            elif isinstance(default, int) and not float(value).is_integer():
                # whole-number settings (year, hours): 168.5 must not be cut to 168 unseen
                problems.append(Problem(file, "", key, f"{value!r} is not a whole number"))
            else:
                cfg[key] = type(default)(value)
        elif key == "imported_emissions" and value not in IMPORTED_EMISSIONS:
            problems.append(Problem(file, "", key, f"{value!r} is not one of: {', '.join(IMPORTED_EMISSIONS)}"))
        else:
            cfg[key] = str(value)
    return cfg


EXPANSION_LIMIT_KINDS = ("volume_mw_km", "cost_cny")


def _expansion_limits(value: Any, file: str, problems: list[Problem]) -> dict[str, dict[str, Any]]:
    """`expansion_limits`: name -> {carriers = [names], and one of volume_mw_km or cost_cny = a number >= 0}."""
    if not isinstance(value, dict):
        problems.append(Problem(file, "", "expansion_limits", "expected a table of name -> {carriers, volume_mw_km "
                                                             "or cost_cny}"))
        return {}
    out = {}
    for name, spec in value.items():
        where = f"expansion_limits.{name}"
        if not isinstance(spec, dict):
            problems.append(Problem(file, where, "", "expected {carriers = [...], volume_mw_km = V or cost_cny = C}"))
            continue
        for k in spec:
            if k not in ("carriers", *EXPANSION_LIMIT_KINDS):
                problems.append(Problem(file, where, k, "unknown key (expected carriers, volume_mw_km or cost_cny)"))
        carriers = spec.get("carriers")
        if not isinstance(carriers, list) or not carriers or not all(isinstance(c, str) for c in carriers):
            problems.append(Problem(file, where, "carriers", "expected a non-empty list of carrier names"))
            continue
        kinds = [k for k in EXPANSION_LIMIT_KINDS if k in spec]
        if len(kinds) != 1:
            problems.append(Problem(file, where, "", "give one of volume_mw_km or cost_cny"))
            continue
        v = spec[kinds[0]]
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
            problems.append(Problem(file, where, kinds[0], f"{v!r} is not a finite number >= 0"))
            continue
        out[str(name)] = {"carriers": list(carriers), kinds[0]: float(v)}
    return out


def check(config: Mapping[str, Any], tables: Mapping[str, pd.DataFrame],
          series: Mapping[str, pd.DataFrame]) -> list[Problem]:
    """Every problem of merged settings, typed tables (one per component) and hourly series."""
    problems: list[Problem] = []
    _check_config(config, problems)
    _check_tables(config, tables, problems)
    _check_units(tables, problems)
    _check_cascades(tables, problems)
    _check_series(config, tables, series, problems)
    return problems


def _check_config(config: Mapping[str, Any], problems: list[Problem]) -> None:
    regions = config["regions"]
    if EXTERNAL in regions:
        problems.append(Problem("case.toml", "", "regions", f"'{EXTERNAL}' is reserved for buses outside all regions"))
    for r in config["interchange"]:
        if r not in regions:
            problems.append(Problem("case.toml", "", "interchange", f"unknown region {r!r}"))
    if config["interchange"] and len(config["interchange"]) != 2:
        problems.append(Problem("case.toml", "", "interchange", "expected two regions [from, to]"))
    for r in config["reserves"]:
        if r not in regions:
            problems.append(Problem("case.toml", "reserves", r, "unknown region"))
    for r in config["carbon_caps"]:
        if r not in regions and r != "system":
            problems.append(Problem("case.toml", "carbon_caps", r, "unknown region (a region or 'system')"))
    try:
        pd.Timestamp(config["timeseries_start"])
    except (ValueError, TypeError):
        problems.append(Problem("case.toml", "", "timeseries_start", "not a timestamp (expected e.g. 2025-01-01 00:00)"))


def _check_tables(config: Mapping[str, Any], tables: Mapping[str, pd.DataFrame], problems: list[Problem]) -> None:
    regions = set(config["regions"]) | {EXTERNAL}
    branch_seen: dict[str, str] = {}
    for comp, attrs in SCHEMA.items():
        df = tables[comp]
        file = file_of(comp)
        if "name" in attrs:
            names = df.index.to_series()
            for n in names[names.duplicated()].unique():
                problems.append(Problem(file, str(n), "name", "duplicate name"))
            for n in names:
                if not isinstance(n, str) or n.strip() == "":
                    problems.append(Problem(file, repr(n), "name", "empty name"))
                elif len(n) > 200:
                    problems.append(Problem(file, n[:40] + "...", "name", "name longer than 200 characters"))
            if comp in BRANCH_COMPONENTS:
                for n in names:
                    if n in branch_seen and branch_seen[n] != comp:
                        problems.append(Problem(file, str(n), "name",
                                                f"branch name also used in {file_of(branch_seen[n])} (branch names are unique)"))
                    branch_seen.setdefault(n, comp)
        rowref = _rowrefs(df)
        for a in attrs.values():
            if a.name == "name":
                continue
            col = df[a.name]
            if a.type in ("float", "int") and a.valid:
                vals = col.to_numpy(dtype=float)
                for i in np.flatnonzero([not in_range(a.valid, v) for v in vals]):
                    problems.append(Problem(file, rowref[i], a.name, f"{vals[i]:g} out of range (expected {a.valid}, {a.unit})"))
                if a.valid in (">=0", ">0"):
                    for i in np.flatnonzero(np.isneginf(vals)):
                        problems.append(Problem(file, rowref[i], a.name, "-inf out of range"))
            if a.type == "float":
                vals = col.to_numpy(dtype=float)
                if a.name not in UNLIMITED:
                    for i in np.flatnonzero(np.isinf(vals)):
                        problems.append(Problem(file, rowref[i], a.name, f"{vals[i]:g} is not finite ({a.unit})"))
                for i in np.flatnonzero(np.isfinite(vals) & (np.abs(vals) > HUGE)):
                    problems.append(Problem(file, rowref[i], a.name,
                                            f"{vals[i]:.3g} is implausibly large (|value| > {HUGE:.0e} {a.unit})"))
            if a.references:
                target = _reference_set(tables, a.references, regions)
                for i, v in enumerate(col.tolist()):
                    if v == "" and not a.required:
                        continue
                    if v not in target:
                        what = "region" if a.references == "region" else a.references
                        problems.append(Problem(file, rowref[i], a.name, f"unknown {what} {v!r}"))


def _rowrefs(df: pd.DataFrame) -> list[str]:
    if df.index.name == "name":
        return [f"{i + 2} ({n})" for i, n in enumerate(df.index)]
    return [str(i + 2) for i in range(len(df))]


def _reference_set(tables: Mapping[str, pd.DataFrame], ref: str, regions: set[str]) -> set[str]:
    if ref == "region":
        return regions
    if ref == "branches":
        return {n for c in BRANCH_COMPONENTS for n in tables[c].index}
    return set(tables[ref].index)


def _check_units(tables: Mapping[str, pd.DataFrame], problems: list[Problem]) -> None:
    buses = tables["buses"]
    vnom = buses["v_nom"].groupby(level=0).first()  # duplicates are reported elsewhere; keep the first here
    lines = tables["lines"]
    for i, (n, r) in enumerate(lines.iterrows()):
        v0, v1 = vnom.get(r["bus0"]), vnom.get(r["bus1"])
        if v0 is not None and v1 is not None and not math.isclose(v0, v1, rel_tol=1e-6):
            problems.append(Problem("lines.csv", f"{i + 2} ({n})", "bus1",
                                    f"line joins buses of different voltage ({v0:g} kV and {v1:g} kV): use a transformer"))
    for comp in BRANCH_COMPONENTS:
        for i, (n, r) in enumerate(tables[comp].iterrows()):
            if r["bus0"] == r["bus1"]:
                problems.append(Problem(file_of(comp), f"{i + 2} ({n})", "bus1", "branch connects a bus to itself"))
    gens = tables["generators"]
    for i, (n, r) in enumerate(gens.iterrows()):
        if r["gas_node"] and r["fuel_price"] > 0:
            problems.append(Problem("generators.csv", f"{i + 2} ({n})", "fuel_price",
                                    "a unit fed from a gas_node buys its fuel there: fuel_price must be 0"))
        if r["gas_node"] and r["heat_rate"] <= 0:
            problems.append(Problem("generators.csv", f"{i + 2} ({n})", "heat_rate",
                                    "a unit fed from a gas_node needs a heat_rate > 0 (GJ/MWh)"))
    res = tables["reservoirs"]
    for i, (n, r) in enumerate(res.iterrows()):
        ref = f"{i + 2} ({n})"
        if r["volume_min_hm3"] > r["volume_max_hm3"]:
            problems.append(Problem("reservoirs.csv", ref, "volume_min_hm3", "dead pool above the maximum volume"))
        if not r["volume_min_hm3"] <= r["volume_initial_hm3"] <= r["volume_max_hm3"]:
            problems.append(Problem("reservoirs.csv", ref, "volume_initial_hm3",
                                    f"{r['volume_initial_hm3']:g} hm3 outside [volume_min_hm3, volume_max_hm3]"))
        if r["production_mw_per_m3s"] <= 0:
            problems.append(Problem("reservoirs.csv", ref, "production_mw_per_m3s", "must be > 0 (MW per m3/s)"))
    for i, (n, r) in enumerate(tables["transformers"].iterrows()):
        if r["s_nom"] <= 0:  # its reactance is per unit of its own rating
            problems.append(Problem("transformers.csv", f"{i + 2} ({n})", "s_nom",
                                    "must be > 0: a transformer's x is per unit of its s_nom"))
    gs = tables["gas_storages"]
    for i, (n, r) in enumerate(gs.iterrows()):
        if r["inventory_initial_mm3"] > r["working_gas_mm3"]:
            problems.append(Problem("gas_storages.csv", f"{i + 2} ({n})", "inventory_initial_mm3",
                                    "initial inventory above the working gas capacity"))
    _check_extendable(tables, problems)


def _check_extendable(tables: Mapping[str, pd.DataFrame], problems: list[Problem]) -> None:
    """Bounds of every capacity decision, and the ratios that let an element's other limits follow it."""
    follow = {"storage_units": ("p_nom_store", "the charge rating"),
              "pipelines": ("capacity_reverse_mm3_per_h", "the reverse capacity"),
              "gas_storages": ("injection_max_mm3_per_h", "the injection rate")}
    for comp, (nom, flag, lo, hi) in EXTENDABLE.items():
        df = tables[comp]
        if not len(df):
            continue
        refs = _rowrefs(df)
        for i in np.flatnonzero(df[flag].to_numpy(dtype=bool) & (df[lo] > df[hi]).to_numpy()):
            problems.append(Problem(file_of(comp), refs[i], lo, f"{df[lo].iloc[i]:g} above {hi} {df[hi].iloc[i]:g}"))
        # a negative capital cost pays for building: without a largest capacity the LP would be unbounded
        for i in np.flatnonzero(df[flag].to_numpy(dtype=bool) & (df["capital_cost"] < 0).to_numpy()
                                & np.isinf(df[hi].to_numpy(dtype=float))):
            problems.append(Problem(file_of(comp), refs[i], "capital_cost",
                                    f"{df['capital_cost'].iloc[i]:g} < 0 needs a finite {hi}"))
        if comp in follow:
            other, what = follow[comp]
            bad = df[flag].to_numpy(dtype=bool) & (df[nom] <= 0).to_numpy() & (df[other].fillna(0.0) > 0).to_numpy()
            if comp == "gas_storages":
                bad = df[flag].to_numpy(dtype=bool) & (df[nom] <= 0).to_numpy()
            for i in np.flatnonzero(bad):
                problems.append(Problem(file_of(comp), refs[i], nom, f"must be > 0 when extendable: {what} follows "
                                        f"the capacity in the ratio {other} / {nom}"))


def _check_cascades(tables: Mapping[str, pd.DataFrame], problems: list[Problem]) -> None:
    res = tables["reservoirs"]
    g = nx.DiGraph()
    g.add_edges_from((n, d) for n, d in res["downstream"].items() if d)
    try:
        cycle = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return
    path = " -> ".join([cycle[0][0]] + [e[1] for e in cycle])
    problems.append(Problem("reservoirs.csv", cycle[0][0], "downstream", f"cascade loops: {path}"))


def _check_series(config: Mapping[str, Any], tables: Mapping[str, pd.DataFrame], series: Mapping[str, pd.DataFrame],
                  problems: list[Problem]) -> None:
    ref_index: pd.DatetimeIndex | None = None
    ref_name = ""
    w = series.get("weighting")
    # snapshots are consecutive hours, or as many hours apart as each advances storage (PyPSA's 'stores')
    stores = w["stores"].to_numpy(dtype=float) if w is not None and "stores" in getattr(w, "columns", ()) else None
    for name, df in series.items():
        file = f"{name}.parquet"
        spec = SERIES.get(name)
        if spec is None:
            problems.append(Problem(file, "", "", "unknown series"))
            continue
        idx = df.index
        if not isinstance(idx, pd.DatetimeIndex):
            if "snapshot" in df.columns:
                problems.append(Problem(file, "", "snapshot", "timestamps must be the index, not a column"))
            else:
                problems.append(Problem(file, "", "index", "not indexed by hourly timestamps"))
            continue
        if len(idx) == 0:
            problems.append(Problem(file, "", "index", "empty series"))
            continue
        dup = idx[idx.duplicated()]
        if len(dup):
            problems.append(Problem(file, str(dup[0]), "index", f"{len(dup)} duplicate timestamp(s)"))
        step = np.asarray(idx[1:] - idx[:-1]) / np.timedelta64(1, "h")
        want = stores[:-1] if stores is not None and len(stores) == len(idx) else 1.0
        bad = np.flatnonzero(step != want)
        if len(bad) and not len(dup):
            i = bad[0]
            what = "not hourly" if stores is None else "not as many hours apart as the 'stores' weighting says"
            problems.append(Problem(file, str(idx[i + 1]), "index",
                                    f"{what}: gap or disorder after {idx[i]} ({len(bad)} place(s))"))
        if ref_index is None:
            ref_index, ref_name = idx, name
        elif len(idx) != len(ref_index):
            problems.append(Problem(file, "", "index", f"{len(idx)} rows, but {ref_name}.parquet has {len(ref_index)}"))
        elif not idx.equals(ref_index):
            problems.append(Problem(file, str(idx[0]), "index", f"timestamps differ from {ref_name}.parquet"))
        if spec.component == "snapshots":
            valid_cols = {"weighting", "objective", "stores", "generators"}  # PyPSA's three columns, or one
            if {"weighting", "objective"} <= set(df.columns):
                problems.append(Problem(file, "", "objective", "give the objective weighting once: 'weighting' "
                                        "or 'objective'"))
        else:
            valid_cols = set(tables[spec.component].index)
        _check_values(file, name, df, valid_cols, problems)
    n_snap = len(ref_index) if ref_index is not None else int(config["hours"])
    dh = int(config.get("default_hours") or 0)
    if dh < 0 or dh > n_snap:
        # the default horizon runs from the first snapshot, so it must fit in the series
        problems.append(Problem("case.toml", "", "default_hours",
                                f"{dh} is not a positive number of hours within the series ({n_snap} snapshots)"))
    if ref_index is not None:
        try:
            start = pd.Timestamp(config["timeseries_start"])
            if len(ref_index) and ref_index[0] != start:
                problems.append(Problem(f"{ref_name}.parquet", str(ref_index[0]), "index",
                                        f"series start {ref_index[0]} differs from case.toml timeseries_start {start}"))
        except (ValueError, TypeError):
            pass


def _check_values(file: str, name: str, df: pd.DataFrame, valid_cols: set, problems: list[Problem]) -> None:
    """Every column of series `name` names an element and holds finite, plausible numbers of the right sign."""
    spec, idx = SERIES[name], df.index
    for c in df.columns:
        if c not in valid_cols:
            problems.append(Problem(file, "", str(c), f"column names no element of {spec.component}"))
            continue
        try:
            vals = df[c].to_numpy(dtype=float)
        except (TypeError, ValueError):
            problems.append(Problem(file, "", str(c), "non-numeric values"))
            continue
        huge = np.flatnonzero(np.isfinite(vals) & (np.abs(vals) > HUGE))
        if len(huge):
            problems.append(Problem(file, str(idx[huge[0]]), str(c),
                                    f"{len(huge)} implausibly large value(s), first {vals[huge[0]]:.3g} ({spec.unit})"))
        nonfinite = np.flatnonzero(~np.isfinite(vals))
        if len(nonfinite):
            problems.append(Problem(file, str(idx[nonfinite[0]]), str(c),
                                    f"{len(nonfinite)} NaN/inf value(s), first {vals[nonfinite[0]]:g}"))
        neg = np.flatnonzero(vals < 0) if name not in ("buy_price", "sell_price") else []
        if len(neg):
            problems.append(Problem(file, str(idx[neg[0]]), str(c),
                                    f"{len(neg)} negative value(s), first {vals[neg[0]]:g} ({spec.unit})"))
        if spec.unit == "pu":
            high = np.flatnonzero(vals > 1 + 1e-9)
            if len(high):
                problems.append(Problem(file, str(idx[high[0]]), str(c),
                                        f"{len(high)} value(s) above 1 pu, first {vals[high[0]]:g}"))
