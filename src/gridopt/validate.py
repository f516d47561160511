"""Semantic checks of a typed network: references, ranges, units, series, cascades.

Every check appends `Problem`s naming file, row (element) and column; nothing raises here.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd

from .errors import Problem
from .network import EXTERNAL, Network
from .schema import BRANCH_COMPONENTS, SCHEMA, SERIES, in_range

HUGE = 1e12  # no quantity of a grid case comes near this in its unit (MW, hm3, CNY/MWh, ...)


def _f(comp: str) -> str:
    return f"{comp}.csv"


def check(net: Network) -> list[Problem]:
    problems: list[Problem] = []
    _check_config(net, problems)
    _check_tables(net, problems)
    _check_units(net, problems)
    _check_cascades(net, problems)
    _check_series(net, problems)
    return problems


def _check_config(net: Network, problems: list[Problem]) -> None:
    regions = net.config["regions"]
    if EXTERNAL in regions:
        problems.append(Problem("case.toml", "", "regions", f"'{EXTERNAL}' is reserved for buses outside all regions"))
    for r in net.config["interchange"]:
        if r not in regions:
            problems.append(Problem("case.toml", "", "interchange", f"unknown region {r!r}"))
    if net.config["interchange"] and len(net.config["interchange"]) != 2:
        problems.append(Problem("case.toml", "", "interchange", "expected two regions [from, to]"))
    for r in net.config["reserves"]:
        if r not in regions:
            problems.append(Problem("case.toml", "reserves", r, "unknown region"))
    try:
        pd.Timestamp(net.config["timeseries_start"])
    except (ValueError, TypeError):
        problems.append(Problem("case.toml", "", "timeseries_start", "not a timestamp (expected e.g. 2025-01-01 00:00)"))


def _check_tables(net: Network, problems: list[Problem]) -> None:
    regions = set(net.config["regions"]) | {EXTERNAL}
    branch_seen: dict[str, str] = {}
    for comp, attrs in SCHEMA.items():
        df = net.tables[comp]
        file = _f(comp)
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
                                                f"branch name also used in {_f(branch_seen[n])} (branch names are unique)"))
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
                if a.name != "spill_max_m3s":  # the one attribute where inf (no limit) is the default
                    for i in np.flatnonzero(np.isinf(vals)):
                        problems.append(Problem(file, rowref[i], a.name, f"{vals[i]:g} is not finite ({a.unit})"))
                for i in np.flatnonzero(np.isfinite(vals) & (np.abs(vals) > HUGE)):
                    problems.append(Problem(file, rowref[i], a.name,
                                            f"{vals[i]:.3g} is implausibly large (|value| > {HUGE:.0e} {a.unit})"))
            if a.references:
                target = _reference_set(net, a.references, regions)
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


def _reference_set(net: Network, ref: str, regions: set[str]) -> set[str]:
    if ref == "region":
        return regions
    if ref == "branches":
        return set(net.branch_names())
    return set(net.tables[ref].index)


def _check_units(net: Network, problems: list[Problem]) -> None:
    buses = net.tables["buses"]
    vnom = buses["v_nom"].groupby(level=0).first()  # duplicates are reported elsewhere; keep the first here
    lines = net.tables["lines"]
    for i, (n, r) in enumerate(lines.iterrows()):
        v0, v1 = vnom.get(r["bus0"]), vnom.get(r["bus1"])
        if v0 is not None and v1 is not None and not math.isclose(v0, v1, rel_tol=1e-6):
            problems.append(Problem("lines.csv", f"{i + 2} ({n})", "bus1",
                                    f"line joins buses of different voltage ({v0:g} kV and {v1:g} kV): use a transformer"))
    for comp in BRANCH_COMPONENTS:
        for i, (n, r) in enumerate(net.tables[comp].iterrows()):
            if r["bus0"] == r["bus1"]:
                problems.append(Problem(_f(comp), f"{i + 2} ({n})", "bus1", "branch connects a bus to itself"))
    gens = net.tables["generators"]
    for i, (n, r) in enumerate(gens.iterrows()):
        if r["gas_node"] and r["fuel_price"] > 0:
            problems.append(Problem("generators.csv", f"{i + 2} ({n})", "fuel_price",
                                    "a unit fed from a gas_node buys its fuel there: fuel_price must be 0"))
        if r["gas_node"] and r["heat_rate"] <= 0:
            problems.append(Problem("generators.csv", f"{i + 2} ({n})", "heat_rate",
                                    "a unit fed from a gas_node needs a heat_rate > 0 (GJ/MWh)"))
    res = net.tables["reservoirs"]
    for i, (n, r) in enumerate(res.iterrows()):
        ref = f"{i + 2} ({n})"
        if r["volume_min_hm3"] > r["volume_max_hm3"]:
            problems.append(Problem("reservoirs.csv", ref, "volume_min_hm3", "dead pool above the maximum volume"))
        if not r["volume_min_hm3"] <= r["volume_initial_hm3"] <= r["volume_max_hm3"]:
            problems.append(Problem("reservoirs.csv", ref, "volume_initial_hm3",
                                    f"{r['volume_initial_hm3']:g} hm3 outside [volume_min_hm3, volume_max_hm3]"))
        if r["production_mw_per_m3s"] <= 0:
            problems.append(Problem("reservoirs.csv", ref, "production_mw_per_m3s", "must be > 0 (MW per m3/s)"))
    gs = net.tables["gas_storages"]
    for i, (n, r) in enumerate(gs.iterrows()):
        if r["inventory_initial_mm3"] > r["working_gas_mm3"]:
            problems.append(Problem("gas_storages.csv", f"{i + 2} ({n})", "inventory_initial_mm3",
                                    "initial inventory above the working gas capacity"))


def _check_cascades(net: Network, problems: list[Problem]) -> None:
    res = net.tables["reservoirs"]
    g = nx.DiGraph()
    g.add_edges_from((n, d) for n, d in res["downstream"].items() if d)
    try:
        cycle = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return
    path = " -> ".join([cycle[0][0]] + [e[1] for e in cycle])
    problems.append(Problem("reservoirs.csv", cycle[0][0], "downstream", f"cascade loops: {path}"))


def _check_series(net: Network, problems: list[Problem]) -> None:
    ref_index: pd.DatetimeIndex | None = None
    ref_name = ""
    for name, df in net.series.items():
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
        bad = np.flatnonzero(np.asarray(idx[1:] - idx[:-1]) != np.timedelta64(1, "h"))
        if len(bad) and not len(dup):
            i = bad[0]
            problems.append(Problem(file, str(idx[i + 1]), "index",
                                    f"not hourly: gap or disorder after {idx[i]} ({len(bad)} place(s))"))
        if ref_index is None:
            ref_index, ref_name = idx, name
        elif len(idx) != len(ref_index):
            problems.append(Problem(file, "", "index", f"{len(idx)} rows, but {ref_name}.parquet has {len(ref_index)}"))
        elif not idx.equals(ref_index):
            problems.append(Problem(file, str(idx[0]), "index", f"timestamps differ from {ref_name}.parquet"))
        if spec.component == "snapshots":
            valid_cols = {"weighting"}
        else:
            valid_cols = set(net.tables[spec.component].index)
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
    if ref_index is not None:
        try:
            start = pd.Timestamp(net.config["timeseries_start"])
            if len(ref_index) and ref_index[0] != start:
                problems.append(Problem(f"{ref_name}.parquet", str(ref_index[0]), "index",
                                        f"series start {ref_index[0]} differs from case.toml timeseries_start {start}"))
        except (ValueError, TypeError):
            pass
