"""Scenario overlays: TOML files that change a case without copying it.

An overlay may hold a `[case]` table (overrides of case.toml values, e.g. `year`, `carbon_price`,
`penalties`) and arrays of tables:

    [[set]]      table, names, values = {column = value}, start, end (optional)   change values of named
                 elements; with dates, only over [start, end) (see below)
    [[remove]]   table, names                              drop elements (memberships and series columns too)
    [[add]]      table, rows = [{...}]                     append elements
    [[scale]]    series, columns (optional), factor, start, end   multiply a series over [start, end)
    [[replace]]  series, columns (optional), value, start, end    set a series over [start, end)

`start` and `end` are timestamps of the case's series (`end` excluded); either may be left out (the
series' first hour, or past its last). A dated change holds only within its dates: `scale` and `replace`
edit those hours of the series; a dated `set` of a column that an hourly series overrides (`p_max_pu`,
market prices, gas demand) writes those hours of the series, and a dated `set` of any other column cannot
vary hour by hour, so it is handed back apart (`dated`) for the network to apply to a horizon that
overlaps its dates, and to leave out otherwise.

Naming a table, element, column or series that does not exist is an error. The functions here edit
plain settings, tables and series; `Network.with_scenario` and `Network.with_overlay` apply them and
type and check the result, so this module needs no `Network`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import CaseError, Problem
from .schema import SCHEMA, SERIES

_KEYS = {"description", "case", "set", "remove", "add", "scale", "replace"}
# the keys each kind of entry may hold: a misspelt key (say `ends`) would otherwise be ignored unseen
_ENTRY_KEYS = {"set": {"table", "names", "values", "start", "end"}, "remove": {"table", "names"},
               "add": {"table", "rows"}, "scale": {"series", "columns", "factor", "start", "end"},
               "replace": {"series", "columns", "value", "start", "end"}}


def read_overlay(path: Path) -> dict[str, Any]:
    """The overlay in the TOML file at `path`; raises CaseError naming the file if it is not valid TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CaseError([Problem(str(path), "", "", f"not valid TOML: {exc}")]) from None


Tables = dict[str, pd.DataFrame]


def _dates(e: Mapping[str, Any], index: pd.DatetimeIndex | None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end) of an overlay entry; open ends reach the series' first hour or past its last."""
    lo = pd.Timestamp(e["start"]) if "start" in e else (index[0] if index is not None and len(index) else pd.Timestamp.min)
    hi = (pd.Timestamp(e["end"]) if "end" in e else
          (index[-1] + pd.Timedelta("1h") if index is not None and len(index) else pd.Timestamp.max))
    return lo, hi


def overlay_dates(spec: Mapping[str, Any]) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """(entry, start, end) of every entry of `spec` bounded by dates (`start` or `end`); bad dates are left
    out (apply_overlay reports them)."""
    out = []
    for kind in ("set", "scale", "replace"):
        for i, e in enumerate(spec.get(kind, [])):
            if isinstance(e, Mapping) and ("start" in e or "end" in e):
                try:
                    lo, hi = _dates(e, None)
                except (ValueError, TypeError):
                    continue
                out.append((f"{kind} #{i + 1}", lo, hi))
    return out


def _overriding_series(table: str, column: str) -> str | None:
    """The hourly series that overrides `column` of `table`, if any."""
    for name, s in SERIES.items():
        if s.component == table and s.overrides == column:
            return name
    return None


def apply_overlay(config: Mapping[str, Any], tables: Mapping[str, pd.DataFrame], series: Mapping[str, pd.DataFrame],
                  spec: Mapping[str, Any], file: str = "overlay",
                  dated: list[dict[str, Any]] | None = None) -> tuple[dict[str, Any], Tables, Tables]:
    """Copies of a network's settings, tables (element names as a `name` column) and series with `spec`
    applied; the inputs are left untouched. Every problem of the spec itself is collected and raised as one
    CaseError naming `file`; the edited tables are typed and checked by whoever builds a network of them.

    Dated `[[set]]` entries of columns without an hourly series are appended to `dated` (as entries with
    `table`, `names`, `values`, `start`, `end`, `entry`) instead of being applied; without a `dated` list
    they are an error, since applying them to every hour would ignore their dates."""
    problems: list[Problem] = []
    for k in spec:
        if k not in _KEYS:
            problems.append(Problem(file, "", k, f"unknown overlay key (expected one of: {', '.join(sorted(_KEYS))})"))
    for kind, allowed in _ENTRY_KEYS.items():
        entries = spec.get(kind, [])
        if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
            problems.append(Problem(file, "", kind, f"expected [[{kind}]] tables"))
            spec = {k: v for k, v in spec.items() if k != kind}
            continue
        for i, e in enumerate(entries):
            for k in e:
                if k not in allowed:
                    problems.append(Problem(file, f"{kind} #{i + 1}", k,
                                            f"unknown key (expected one of: {', '.join(sorted(allowed))})"))
            if kind in ("set", "remove") and not e.get("names"):
                problems.append(Problem(file, f"{kind} #{i + 1}", "names", "no element named: the entry changes nothing"))
    tables = {k: v.reset_index() if v.index.name == "name" else v.copy() for k, v in tables.items()}
    series = {k: v.copy() for k, v in series.items()}
    config = {k: (dict(v) if isinstance(v, dict) else v) for k, v in config.items()}
    for k, v in spec.get("case", {}).items():
        if k not in config:
            problems.append(Problem(file, "case", k, "unknown case setting"))
        elif isinstance(config[k], dict) and isinstance(v, dict):
            config[k] = {**config[k], **v}
        else:
            config[k] = v

    def table_of(i: int, kind: str, entry: dict) -> str | None:
        t = entry.get("table")
        if t not in SCHEMA:
            problems.append(Problem(file, f"{kind} #{i + 1}", "table", f"unknown table {t!r}"))
            return None
        return t

    def check_names(i: int, kind: str, t: str, names: list) -> list:
        have = set(tables[t]["name"]) if "name" in tables[t] else set()
        missing = [n for n in names if n not in have]
        for n in missing:
            problems.append(Problem(file, f"{kind} #{i + 1}", "names", f"no element {n!r} in {t}"))
        return [n for n in names if n in have]

    any_index = next((pd.DatetimeIndex(v.index) for v in series.values()
                      if isinstance(v.index, pd.DatetimeIndex)), None)
    for i, e in enumerate(spec.get("set", [])):
        t = table_of(i, "set", e)
        if t is None:
            continue
        names = check_names(i, "set", t, list(e.get("names", [])))
        bounded = "start" in e or "end" in e
        if bounded:
            try:
                lo, hi = _dates(e, any_index)
            except (ValueError, TypeError):
                problems.append(Problem(file, f"set #{i + 1}", "start", "start/end are not timestamps"))
                continue
        later: dict[str, Any] = {}
        for col, val in e.get("values", {}).items():
            if col not in SCHEMA[t] or col == "name":
                problems.append(Problem(file, f"set #{i + 1}", col, f"no column {col!r} in {t}"))
                continue
            sname = _overriding_series(t, col) if bounded else None
            if bounded and sname is not None:
                # the series holds the hourly value: write the dated hours, static value elsewhere
                if not isinstance(val, (int, float)) or isinstance(val, bool):
                    problems.append(Problem(file, f"set #{i + 1}", col, f"expected a number, got {val!r}"))
                    continue
                if any_index is None:
                    problems.append(Problem(file, f"set #{i + 1}", "start", "dates given, but the case has no series"))
                    continue
                df = series.get(sname)
                df = pd.DataFrame(index=any_index) if df is None else df.copy()
                static = tables[t].set_index("name")[col] if col in tables[t] else pd.Series(dtype=float)
                for n in names:
                    if n not in df.columns:
                        df[n] = pd.to_numeric(static.get(n, SCHEMA[t][col].default), errors="coerce")
                rows = (df.index >= lo) & (df.index < hi)
                df = df.astype({n: float for n in names})
                df.loc[rows, names] = float(val)
                series[sname] = df
            elif bounded:
                later[col] = val
            else:
                mask = tables[t]["name"].isin(names)
                tables[t].loc[mask, col] = val
        if later:
            if dated is None:
                problems.append(Problem(file, f"set #{i + 1}", "start",
                                        f"{', '.join(later)} of {t} has no hourly series: dates cannot apply here"))
            else:
                dated.append({"table": t, "names": names, "values": later, "start": lo, "end": hi,
                              "entry": f"set #{i + 1}"})
    for i, e in enumerate(spec.get("remove", [])):
        t = table_of(i, "remove", e)
        if t is None:
            continue
        names = check_names(i, "remove", t, list(e.get("names", [])))
        tables[t] = tables[t][~tables[t]["name"].isin(names)].reset_index(drop=True)
        if t in ("lines", "transformers", "links"):
            m = tables["interface_members"]
            tables["interface_members"] = m[~m["branch"].isin(names)].reset_index(drop=True)
        for sname, spec_s in SERIES.items():
            if spec_s.component == t and sname in series:
                series[sname] = series[sname].drop(columns=[n for n in names if n in series[sname].columns])
    for i, e in enumerate(spec.get("add", [])):
        t = table_of(i, "add", e)
        if t is None:
            continue
        rows = pd.DataFrame(e.get("rows", []))
        for col in rows.columns:
            if col not in SCHEMA[t]:
                problems.append(Problem(file, f"add #{i + 1}", col, f"no column {col!r} in {t}"))
        tables[t] = pd.concat([tables[t], rows[[c for c in rows.columns if c in SCHEMA[t]]]], ignore_index=True)
    for kind in ("scale", "replace"):
        for i, e in enumerate(spec.get(kind, [])):
            sname = e.get("series")
            if sname not in series:
                problems.append(Problem(file, f"{kind} #{i + 1}", "series",
                                        f"no series {sname!r} in the case (have: {', '.join(sorted(series))})"))
                continue
            df = series[sname]
            cols = e.get("columns", list(df.columns))
            bad = [c for c in cols if c not in df.columns]
            for c in bad:
                problems.append(Problem(file, f"{kind} #{i + 1}", "columns", f"no column {c!r} in series {sname}"))
            cols = [c for c in cols if c in df.columns]
            try:
                lo = pd.Timestamp(e["start"]) if "start" in e else df.index[0]
                hi = pd.Timestamp(e["end"]) if "end" in e else df.index[-1] + pd.Timedelta("1h")
            except (ValueError, TypeError):
                problems.append(Problem(file, f"{kind} #{i + 1}", "start", "start/end are not timestamps"))
                continue
            rows = (df.index >= lo) & (df.index < hi)
            if not rows.any():
                problems.append(Problem(file, f"{kind} #{i + 1}", "start", f"[{lo}, {hi}) selects no hour of the series"))
            key = "factor" if kind == "scale" else "value"
            val = e.get(key)
            if not isinstance(val, (int, float)) or isinstance(val, bool) or not np.isfinite(val):
                problems.append(Problem(file, f"{kind} #{i + 1}", key, f"expected a number, got {val!r}"))
                continue
            df = df.astype({c: float for c in cols})
            if kind == "scale":
                df.loc[rows, cols] = df.loc[rows, cols] * float(val)
            else:
                df.loc[rows, cols] = float(val)
            series[sname] = df
    if problems:
        raise CaseError(problems)
    return config, tables, series
