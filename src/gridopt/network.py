"""The Network: immutable component tables and hourly time series of one case.

Case folders are read and written by `gridopt.casefiles` (`load_case`, `write_case`); `Network.from_tables`
validates everything and raises one `CaseError` carrying every problem found.

Typing and checking (`gridopt.validate`) and scenario overlays (`gridopt.overlay`) work on plain settings
and tables and know nothing of the Network: it calls them, so imports run one way, from here down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import CaseError, Problem, UsageError
from .overlay import apply_overlay, overlay_dates, read_overlay
from .schema import COMPONENTS, EXTENDABLE, EXTERNAL, SCHEMA, SERIES
from .validate import check, coerce_table, empty_table, file_of, merge_config

# EXTERNAL is named here too, beside the Network, for the modules that read networks
__all__ = ["EXTERNAL", "Network"]


@dataclass(frozen=True)
class Network:
    """A validated case: one table per component (indexed by element name) and hourly series.

    Networks are immutable by convention: methods return new networks and never change tables in place.
    """

    name: str
    config: Mapping[str, Any]
    tables: Mapping[str, pd.DataFrame]
    series: Mapping[str, pd.DataFrame]
    path: Path | None = None
    scenario: str = "base"
    scenario_files: Mapping[str, Path] = field(default_factory=dict)
    # dated changes of scenarios that no hourly series can hold (e.g. a storage outage): applied by
    # `for_horizon` to a horizon that overlaps their dates; entries as `apply_overlay` hands them back
    dated_changes: tuple[Mapping[str, Any], ...] = ()
    # (scenario, entry, start, end) of every dated entry of the scenarios applied: for `scenario_warnings`
    scenario_dates: tuple[tuple[str, str, pd.Timestamp, pd.Timestamp], ...] = ()
    # representative periods (`gridopt.periods.Periods`) when the series are a clustered year, else None
    periods: Any = None

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def from_tables(cls, config: Mapping[str, Any], tables: Mapping[str, pd.DataFrame],
                    series: Mapping[str, pd.DataFrame] | None = None, *, path: Path | None = None,
                    scenario_files: Mapping[str, Path] | None = None, validate: bool = True) -> Network:
        """Build a network from plain frames (a `name` column or index per named component)."""
        problems: list[Problem] = []
        cfg = merge_config(config, "case.toml", problems)
        typed: dict[str, pd.DataFrame] = {}
        for comp in COMPONENTS:
            raw = tables.get(comp)
            if raw is None:
                typed[comp] = empty_table(comp)
                continue
            raw = raw.reset_index() if raw.index.name == "name" else raw.reset_index(drop=True)
            typed[comp] = coerce_table(comp, raw, file_of(comp), problems)
        for comp in tables:
            if comp not in SCHEMA:
                problems.append(Problem(file_of(comp), "", "", "unknown component table"))
        ser = {k: v for k, v in (series or {}).items()}
        net = cls(name=cfg["name"] or (path.name if path else "case"), config=cfg, tables=typed, series=ser,
                  path=path, scenario_files=dict(scenario_files or {}))
        if validate:
            problems += check(net.config, net.tables, net.series)
        if problems:
            raise CaseError(problems)
        return net

    # ---- views --------------------------------------------------------------------------------
    @property
    def snapshots(self) -> pd.DatetimeIndex:
        """Hourly timestamps (China Standard Time for the shipped case) covered by the series."""
        for df in self.series.values():
            return pd.DatetimeIndex(df.index)
        start = pd.Timestamp(self.config["timeseries_start"])
        return pd.date_range(start, periods=int(self.config["hours"]), freq="h", name="snapshot")

    @property
    def default_hours(self) -> int:
        """Hours a run covers when none are given: case.toml `default_hours`, else every snapshot."""
        return int(self.config.get("default_hours") or 0) or len(self.snapshots)

    @property
    def regions(self) -> list[str]:
        return list(self.config["regions"])

    def is_active(self, component: str) -> np.ndarray:
        """Boolean mask of elements in service in the case year (build_year <= year < retire_year)."""
        df = self.tables[component]
        year = int(self.config["year"])
        if "build_year" not in df.columns or year <= 0:
            return np.ones(len(df), dtype=bool)
        return ((df["build_year"] <= year) & (df["retire_year"] > year)).to_numpy()

    def active(self, component: str) -> pd.DataFrame:
        """The component's elements in service in the case year."""
        df = self.tables[component]
        return df[self.is_active(component)]

    def extendable(self) -> list[str]:
        """Components with an active element whose capacity is a decision of the LP."""
        return [c for c, (_, flag, _, _) in EXTENDABLE.items() if self.active(c)[flag].astype(bool).any()]

    def branch_names(self) -> list[str]:
        return [n for c in ("lines", "transformers", "links") for n in self.tables[c].index]

    def series_values(self, name: str, elements: pd.Index, rows: slice | np.ndarray) -> np.ndarray:
        """Series `name` for `elements` at snapshot positions `rows`, as a (hours, elements) array.

        Elements without a column take the static attribute the series overrides, or 0.
        """
        spec = SERIES[name]
        table = self.tables.get(spec.component)
        n_rows = len(self.snapshots[rows])
        if spec.overrides and table is not None:
            static = table[spec.overrides].reindex(elements).to_numpy(dtype=float)
        else:
            static = np.zeros(len(elements))
        out = np.tile(static, (n_rows, 1))
        df = self.series.get(name)
        if df is not None and len(elements):
            cols = [c for c in elements if c in df.columns]
            if cols:
                pos = elements.get_indexer(cols)
                out[:, pos] = df[cols].to_numpy(dtype=float)[rows]
        return out

    def weightings(self, rows: slice | np.ndarray) -> np.ndarray:
        """Objective weighting of the snapshots at `rows`: the `weighting` series' `objective` (or `weighting`)
        column, else 1. With `stores` (hours each snapshot advances storage, `durations`) and `generators`
        (weighting of energy and emission limits, `energy_weightings`) these are PyPSA's three columns."""
        return self._weighting(("objective", "weighting"), rows)

    def energy_weightings(self, rows: slice | np.ndarray) -> np.ndarray:
        """Weighting of energy and emission limits at `rows`: the `generators` column, else the objective's."""
        return self._weighting(("generators", "objective", "weighting"), rows)

    def _weighting(self, columns: tuple[str, ...], rows: slice | np.ndarray) -> np.ndarray:
        df = self.series.get("weighting")
        for col in columns if df is not None else ():
            if col in df.columns:
                return df[col].to_numpy(dtype=float)[rows]
        return np.ones(len(self.snapshots[rows]))

    def bus_region(self) -> pd.Series:
        return self.tables["buses"]["region"]

    # ---- scenarios ----------------------------------------------------------------------------
    @property
    def scenarios(self) -> list[str]:
        return sorted(self.scenario_files)

    def with_scenario(self, name: str | Sequence[str] | None) -> Network:
        """A new network with the scenario overlay `name` applied (None or 'base' returns self). A list of
        names applies them in order, so a later one wins where two set the same value; the network's
        scenario is then the names joined by '+'."""
        if isinstance(name, (list, tuple)):
            out = self
            for n in name:
                out = out.with_scenario(n)
            return out
        if name in (None, "", "base"):
            return self
        return self._with_scenario(name, ())

    def _with_scenario(self, name: str, stack: tuple[str, ...]) -> Network:
        if name not in self.scenario_files:
            raise UsageError(f"unknown scenario {name!r} (available: {', '.join(self.scenarios) or 'none'})")
        if name in stack:
            raise UsageError(f"scenario {name!r} builds on itself: {' -> '.join((*stack, name))}")
        path = self.scenario_files[name]
        spec = read_overlay(path)
        base = spec.get("builds_on", [])
        if not isinstance(base, list) or not all(isinstance(b, str) for b in base):
            raise CaseError([Problem(str(path), "", "builds_on", "expected a list of scenario names")])
        out = self
        for b in base:  # the scenarios it builds on come first, each with its own foundations
            out = out._with_scenario(b, (*stack, name))
        out = out.with_overlay(spec, name=name, file=str(path))
        # named as asked for: what it builds on is part of it
        return out.replace(scenario=name if self.scenario == "base" else f"{self.scenario}+{name}")

    def with_overlay(self, spec: Mapping[str, Any], name: str = "overlay", file: str = "overlay") -> Network:
        """A new network with the overlay `spec` (what a scenario file holds, see `gridopt.overlay`) applied
        and checked; every problem is raised as one CaseError naming `file`. The scenario becomes `name`."""
        dated: list[dict[str, Any]] = []
        edited = apply_overlay(self.config, self.tables, self.series, spec, file, dated=dated)
        out = self._checked(file, *edited, scenario_files=self.scenario_files)
        dated = [{**d, "scenario": name, "file": file} for d in dated]
        if dated:
            # the values of dated changes are checked now, as if their dates covered the whole series
            sets = {"set": [{k: d[k] for k in ("table", "names", "values")} for d in dated]}
            self._checked(file, *apply_overlay(out.config, out.tables, out.series, sets))
        dates = tuple((name, entry, lo, hi) for entry, lo, hi in overlay_dates(spec))
        return out.replace(scenario=name if self.scenario == "base" else f"{self.scenario}+{name}",
                           dated_changes=self.dated_changes + tuple(dated),
                           scenario_dates=self.scenario_dates + dates)

    def _checked(self, file: str, config, tables, series, **kw: Any) -> Network:
        """A network of this case's from edited settings and tables; problems are named as in `file`."""
        try:
            return Network.from_tables(config, tables, series, path=self.path, **kw)
        except CaseError as exc:
            raise CaseError([Problem(f"{file} -> {p.file}", p.row, p.column, p.message)
                             for p in exc.problems]) from None

    def _horizon(self, start: Any, hours: int) -> tuple[pd.Timestamp, pd.Timestamp]:
        """[first hour, end) of `hours` snapshots from `start` (end: past the last snapshot)."""
        t0 = pd.Timestamp(start) if start is not None else self.snapshots[0]
        pos = self.snapshots.get_indexer([t0])[0]
        if pos < 0:
            return t0, t0 + pd.Timedelta(hours=int(hours))
        dur = self.durations(slice(pos, pos + int(hours)))
        return t0, self.snapshots[pos] + pd.Timedelta(hours=float(dur.sum()))

    def for_horizon(self, start: Any, hours: int) -> Network:
        """The network as it stands over `hours` snapshots from `start`: dated scenario changes that no
        hourly series holds apply when their dates overlap the horizon (to all of it: a table value cannot
        change within a run), and are left out otherwise. Returns self when there are none."""
        if not self.dated_changes:
            return self
        lo, hi = self._horizon(start, hours)
        sets = [{"table": d["table"], "names": list(d["names"]), "values": dict(d["values"])}
                for d in self.dated_changes if d["start"] < hi and d["end"] > lo]
        out = self
        if sets:
            config, tables, series = apply_overlay(self.config, self.tables, self.series, {"set": sets})
            # values were checked when the scenario was applied; the series may be coarse (not hourly) here
            out = Network.from_tables(config, tables, series, path=self.path, scenario_files=self.scenario_files,
                                      validate=False)
            out = out.replace(scenario=self.scenario, scenario_dates=self.scenario_dates)
        return out.replace(dated_changes=())

    def scenario_warnings(self, start: Any = None, hours: int | None = None) -> list[str]:
        """Warnings about the scenarios' dates against a horizon of `hours` snapshots from `start`
        (defaults: the first snapshot, `default_hours`): a scenario whose dated changes all fall outside
        the horizon changes nothing there, and a dated change of a table value that covers only part of
        the horizon applies to all of it."""
        lo, hi = self._horizon(start, self.default_hours if hours is None else hours)
        out = []
        by_scen: dict[str, list[tuple[str, pd.Timestamp, pd.Timestamp]]] = {}
        for scen, entry, a, b in self.scenario_dates:
            by_scen.setdefault(scen, []).append((entry, a, b))
        for scen, entries in by_scen.items():
            if not any(a < hi and b > lo for _, a, b in entries):
                first, last = min(a for _, a, _ in entries), max(b for _, _, b in entries)
                out.append(f"scenario {scen}: its dated changes ({_day(first)} .. {_day(last)}) all fall "
                           f"outside the horizon {_day(lo)} .. {_day(hi)}, so they change nothing in this run")
        for d in self.dated_changes:
            if d["start"] < hi and d["end"] > lo and (d["start"] > lo or d["end"] < hi):
                out.append(f"scenario {d['scenario']}: {d['entry']} ({d['table']} {', '.join(d['values'])}, "
                           f"{_day(d['start'])} .. {_day(d['end'])}) covers part of the horizon "
                           f"{_day(lo)} .. {_day(hi)} but applies to all of it (no hourly series holds it)")
        return out

    def replace(self, **changes: Any) -> Network:
        return replace(self, **changes)

    def slice(self, start: pd.Timestamp, hours: int) -> Network:
        """The same network with its series cut to `hours` snapshots from `start`. It begins as a horizon
        starting at `start` does: reservoirs with a target series start on it (within their limits)."""
        pos = self.snapshots.get_indexer([pd.Timestamp(start)])[0]
        if pos < 0:
            raise UsageError(f"{self.name}: {start} is not one of the case's snapshots")
        series = {k: v.iloc[pos:pos + hours] for k, v in self.series.items()}
        tables = dict(self.tables)
        planned = self.planned_volumes(pos) if pos > 0 else pd.Series(dtype=float)
        if len(planned):
            tables["reservoirs"] = self.tables["reservoirs"].copy()
            tables["reservoirs"].loc[planned.index, "volume_initial_hm3"] = planned
        # a slice is a horizon of its own: a run of it without hours covers all of it
        return replace(self, tables=tables, series=series,
                       config={**self.config, "timeseries_start": str(pd.Timestamp(start)), "default_hours": 0})

    def planned_volumes(self, pos: int) -> pd.Series:
        """The target series' volumes at snapshot position `pos`, within each reservoir's limits (hm3): where a
        horizon starting at that snapshot begins (reservoirs without a target series are left out)."""
        plan = self.series.get("volume_target_hm3")
        res = self.tables["reservoirs"]
        if plan is None or not len(res):
            return pd.Series(dtype=float)
        cols = [r for r in plan.columns if r in res.index]
        return plan.iloc[pos][cols].astype(float).clip(res.loc[cols, "volume_min_hm3"], res.loc[cols, "volume_max_hm3"])

    def durations(self, rows: slice | np.ndarray | None = None) -> np.ndarray:
        """Hours per snapshot at positions `rows` (all by default; 1 for hourly cases, more in a resampled
        network)."""
        rows = np.s_[:] if rows is None else rows
        df = self.series.get("snapshot_hours")
        if df is not None:
            return df["snapshot_hours"].to_numpy(dtype=float)[rows]
        w = self.series.get("weighting")
        if w is not None and "stores" in w.columns:
            return w["stores"].to_numpy(dtype=float)[rows]
        return np.full(len(self.snapshots[rows]), float(self.config.get("snapshot_hours", 1)))

    def resample(self, hours: int, keep: int = 0) -> Network:
        """A coarse copy: the first `keep` snapshots as they are, the rest in blocks of `hours` snapshots (the
        last block may be shorter). Series are averaged over a block, except volumes (``*_hm3``: states at
        the end of a snapshot), which take the block's last value; weightings are summed, and each snapshot's
        duration (`durations`) scales storage, reservoirs, gas inventories, ramps and travel delays. Used for
        long-horizon guidance, and for a rolling window's coarse look-ahead beyond its hourly hours."""
        if (self.durations() != 1).any():
            raise ValueError("resample an hourly network only")
        snaps = self.snapshots
        pos = np.arange(len(snaps))
        key = np.where(pos < keep, pos, keep + (pos - keep) // hours)
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        first = pd.DatetimeIndex(snaps[starts], name="snapshot")
        series = {}
        for name, df in self.series.items():
            if name in ("weighting", "snapshot_hours"):
                continue
            agg = df.groupby(key).last() if name.endswith("_hm3") else df.groupby(key).mean()
            agg.index = first
            series[name] = agg
        w = self.weightings(slice(None))
        series["weighting"] = pd.DataFrame({"weighting": pd.Series(w).groupby(key).sum().to_numpy()}, index=first)
        series["snapshot_hours"] = pd.DataFrame({"snapshot_hours": np.bincount(key).astype(float)}, index=first)
        config = {**self.config, "snapshot_hours": int(hours)} if keep == 0 else dict(self.config)
        config["default_hours"] = 0  # hours of the hourly case mean nothing here: a run covers every snapshot
        return replace(self, config=config, series=series)

    def content_hash(self) -> str:
        """A short hash of every table, series and setting: traces a result to its inputs."""
        import hashlib
        h = hashlib.sha256()
        h.update(repr(sorted((k, repr(v)) for k, v in self.config.items())).encode())
        for comp in COMPONENTS:
            h.update(comp.encode())
            h.update(pd.util.hash_pandas_object(self.tables[comp].reset_index(), index=False).to_numpy().tobytes())
        for name in sorted(self.series):
            h.update(name.encode())
            h.update(pd.util.hash_pandas_object(self.series[name], index=True).to_numpy().tobytes())
        for d in self.dated_changes:
            h.update(repr(sorted((k, repr(v)) for k, v in d.items())).encode())
        return h.hexdigest()[:16]


def _day(t: pd.Timestamp) -> str:
    return "open" if t in (pd.Timestamp.min, pd.Timestamp.max) else str(t)[:16]
