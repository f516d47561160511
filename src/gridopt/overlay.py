"""Scenario overlays: TOML files that change a case without copying it.

An overlay may name the scenarios it builds on (`builds_on = ["year_2030"]`: applied first, in order, by
`Network.with_scenario`), hold a `[case]` table (overrides of case.toml values, e.g. `year`,
`carbon_price`, `penalties`) and arrays of tables:

    [[set]]      table, names, values = {column = value}, start, end (optional)   change values of named
                 elements; with dates, only over [start, end) (see below)
    [[remove]]   table, names                              drop elements (memberships and series columns too)
    [[add]]      table, rows = [{...}]                     append elements
    [[scale]]    series, columns (optional), factor, start, end, above (optional)   multiply a series
                 over [start, end); with `above` (a column of the series' table, e.g. volume_min_hm3)
                 only the part above that column's value: x -> above + factor x (x - above)
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

_KEYS = {"description", "builds_on", "case", "set", "remove", "add", "scale", "replace"}
# the keys each kind of entry may hold: a misspelt key (say `ends`) would otherwise be ignored unseen
_ENTRY_KEYS = {"set": {"table", "names", "values", "start", "end"}, "remove": {"table", "names"},
               "add": {"table", "rows"}, "scale": {"series", "columns", "factor", "start", "end", "above"},
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
    edit = _Edit(config, tables, series, file, dated)
    spec = edit.check_spec(spec)
    edit.case(spec.get("case", {}))
    for kind in ("set", "remove", "add", "scale", "replace"):
        for i, e in enumerate(spec.get(kind, [])):
            getattr(edit, kind if kind in ("set", "remove", "add") else "series_values")(f"{kind} #{i + 1}", kind, e)
    if edit.problems:
        raise CaseError(edit.problems)
    return edit.config, edit.tables, edit.series


class _Edit:
    """Copies of a case's settings, tables and series being edited entry by entry, and the problems met."""

    def __init__(self, config: Mapping[str, Any], tables: Mapping[str, pd.DataFrame],
                 series: Mapping[str, pd.DataFrame], file: str, dated: list[dict[str, Any]] | None) -> None:
        self.file, self.dated = file, dated
        self.problems: list[Problem] = []
        self.tables = {k: v.reset_index() if v.index.name == "name" else v.copy() for k, v in tables.items()}
        self.series = {k: v.copy() for k, v in series.items()}
        self.config = {k: (dict(v) if isinstance(v, dict) else v) for k, v in config.items()}
        self.hours = next((pd.DatetimeIndex(v.index) for v in self.series.values()
                           if isinstance(v.index, pd.DatetimeIndex)), None)

    def problem(self, row: str, column: str, message: str) -> None:
        self.problems.append(Problem(self.file, row, column, message))

    def check_spec(self, spec: Mapping[str, Any]) -> Mapping[str, Any]:
        """`spec` without entry lists of the wrong shape; unknown and misspelt keys are problems."""
        for k in spec:
            if k not in _KEYS:
                self.problem("", k, f"unknown overlay key (expected one of: {', '.join(sorted(_KEYS))})")
        for kind, allowed in _ENTRY_KEYS.items():
            entries = spec.get(kind, [])
            if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
                self.problem("", kind, f"expected [[{kind}]] tables")
                spec = {k: v for k, v in spec.items() if k != kind}
                continue
            for i, e in enumerate(entries):
                for k in e:
                    if k not in allowed:
                        self.problem(f"{kind} #{i + 1}", k, f"unknown key (expected one of: {', '.join(sorted(allowed))})")
                if kind in ("set", "remove") and not e.get("names"):
                    self.problem(f"{kind} #{i + 1}", "names", "no element named: the entry changes nothing")
        return spec

    def case(self, values: Mapping[str, Any]) -> None:
        """Overrides of case.toml settings; a table of settings (e.g. penalties) is merged key by key."""
        for k, v in values.items():
            if k not in self.config:
                self.problem("case", k, "unknown case setting")
            elif isinstance(self.config[k], dict) and isinstance(v, dict):
                self.config[k] = {**self.config[k], **v}
            else:
                self.config[k] = v

    def table(self, entry: str, e: Mapping[str, Any]) -> str | None:
        t = e.get("table")
        if t not in SCHEMA:
            self.problem(entry, "table", f"unknown table {t!r}")
            return None
        return t

    def names(self, entry: str, t: str, e: Mapping[str, Any]) -> list:
        """The entry's element names that exist in table `t`; the others are problems."""
        have = set(self.tables[t]["name"]) if "name" in self.tables[t] else set()
        names = list(e.get("names", []))
        for n in names:
            if n not in have:
                self.problem(entry, "names", f"no element {n!r} in {t}")
        return [n for n in names if n in have]

    def set(self, entry: str, kind: str, e: Mapping[str, Any]) -> None:
        """Values of named elements: everywhere, or with dates only over [start, end)."""
        t = self.table(entry, e)
        if t is None:
            return
        names = self.names(entry, t, e)
        bounded = "start" in e or "end" in e
        lo = hi = None
        if bounded:
            try:
                lo, hi = _dates(e, self.hours)
            except (ValueError, TypeError):
                self.problem(entry, "start", "start/end are not timestamps")
                return
        later: dict[str, Any] = {}
        for col, val in e.get("values", {}).items():
            if col not in SCHEMA[t] or col == "name":
                self.problem(entry, col, f"no column {col!r} in {t}")
            elif not bounded:
                mask = self.tables[t]["name"].isin(names)
                self.tables[t].loc[mask, col] = val
            elif _overriding_series(t, col) is not None:
                self._set_hours(entry, t, col, names, val, lo, hi)
            else:
                later[col] = val
        if not later:
            return
        if self.dated is None:
            self.problem(entry, "start", f"{', '.join(later)} of {t} has no hourly series: dates cannot apply here")
        else:
            self.dated.append({"table": t, "names": names, "values": later, "start": lo, "end": hi, "entry": entry})

    def _set_hours(self, entry: str, t: str, col: str, names: list, val: Any, lo, hi) -> None:
        """A dated value of a column an hourly series overrides: written into those hours of the series,
        the static value elsewhere."""
        if not isinstance(val, (int, float)) or isinstance(val, bool):
            self.problem(entry, col, f"expected a number, got {val!r}")
            return
        if self.hours is None:
            self.problem(entry, "start", "dates given, but the case has no series")
            return
        sname = _overriding_series(t, col)
        df = self.series.get(sname)
        df = pd.DataFrame(index=self.hours) if df is None else df.copy()
        static = self.tables[t].set_index("name")[col] if col in self.tables[t] else pd.Series(dtype=float)
        for n in names:
            if n not in df.columns:
                df[n] = pd.to_numeric(static.get(n, SCHEMA[t][col].default), errors="coerce")
        rows = (df.index >= lo) & (df.index < hi)
        df = df.astype({n: float for n in names})
        df.loc[rows, names] = float(val)
        self.series[sname] = df

    def remove(self, entry: str, kind: str, e: Mapping[str, Any]) -> None:
        """Drop named elements, their interface memberships and their series columns."""
        t = self.table(entry, e)
        if t is None:
            return
        names = self.names(entry, t, e)
        self.tables[t] = self.tables[t][~self.tables[t]["name"].isin(names)].reset_index(drop=True)
        if t in ("lines", "transformers", "links"):
            m = self.tables["interface_members"]
            self.tables["interface_members"] = m[~m["branch"].isin(names)].reset_index(drop=True)
        for sname, spec_s in SERIES.items():
            if spec_s.component == t and sname in self.series:
                self.series[sname] = self.series[sname].drop(columns=[n for n in names if n in self.series[sname].columns])

    def add(self, entry: str, kind: str, e: Mapping[str, Any]) -> None:
        """Append rows to a table."""
        t = self.table(entry, e)
        if t is None:
            return
        rows = pd.DataFrame(e.get("rows", []))
        for col in rows.columns:
            if col not in SCHEMA[t]:
                self.problem(entry, col, f"no column {col!r} in {t}")
        self.tables[t] = pd.concat([self.tables[t], rows[[c for c in rows.columns if c in SCHEMA[t]]]],
                                   ignore_index=True)

    def series_values(self, entry: str, kind: str, e: Mapping[str, Any]) -> None:
        """`scale` (multiply by `factor`) or `replace` (set to `value`) a series' columns over [start, end)."""
        sname = e.get("series")
        if sname not in self.series:
            self.problem(entry, "series", f"no series {sname!r} in the case (have: {', '.join(sorted(self.series))})")
            return
        df = self.series[sname]
        cols = e.get("columns", list(df.columns))
        for c in cols:
            if c not in df.columns:
                self.problem(entry, "columns", f"no column {c!r} in series {sname}")
        cols = [c for c in cols if c in df.columns]
        try:
            lo, hi = _dates(e, pd.DatetimeIndex(df.index))
        except (ValueError, TypeError):
            self.problem(entry, "start", "start/end are not timestamps")
            return
        rows = (df.index >= lo) & (df.index < hi)
        if not rows.any():
            self.problem(entry, "start", f"[{lo}, {hi}) selects no hour of the series")
        key = "factor" if kind == "scale" else "value"
        val = e.get(key)
        if not isinstance(val, (int, float)) or isinstance(val, bool) or not np.isfinite(val):
            self.problem(entry, key, f"expected a number, got {val!r}")
            return
        base = self._base(entry, sname, e["above"], cols) if "above" in e else 0.0
        if base is None:
            return
        df = df.astype({c: float for c in cols})
        df.loc[rows, cols] = base + (df.loc[rows, cols] - base) * float(val) if kind == "scale" else float(val)
        self.series[sname] = df

    def _base(self, entry: str, sname: str, column: Any, cols: list) -> pd.Series | None:
        """Per series column, the value of `column` of the element it names (`above` of a scale)."""
        t = SERIES[sname].component if sname in SERIES else ""
        table = self.tables.get(t)
        if table is None or not isinstance(column, str) or column not in table.columns:
            self.problem(entry, "above", f"expected a column of {t or 'the series table'}, got {column!r}")
            return None
        values = table.set_index("name")[column]
        missing = [c for c in cols if c not in values.index]
        if missing:
            self.problem(entry, "above", f"{', '.join(missing)} not in {t}")
            return None
        return values.reindex(cols).astype(float)
