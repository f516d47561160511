"""Results folders as `gridopt run` writes them: summary.json, one Parquet table per topic, and the weighting
of every snapshot, which the folder does not hold and is rebuilt from the summary.

Weightings: an hourly run weighs each hour 1; a run over representative periods weighs each hour of a
representative by the periods it stands for (the summary's `periods`: `origin`, `hours_each`, `weights`).
Where these do not add up to the summary's `represented_hours` (a case with a weighting series of its own),
they are scaled evenly to that total: totals are then right and their spread over the hours approximate.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import UsageError
from ..network import EXTERNAL

OK_STATUS = ("optimal", "time_limit")


class RunFolder:
    """One results folder: its summary, its tables (read once, on first use) and its snapshot weightings."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        f = self.path / "summary.json"
        if not f.is_file():
            raise UsageError(f"{self.path}: not a results folder (no summary.json)")
        try:
            self.summary: dict[str, Any] = json.loads(f.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UsageError(f"{f}: not valid JSON ({exc})") from None
        self._tables: dict[str, pd.DataFrame] = {}

    @property
    def name(self) -> str:
        return self.path.resolve().name

    @property
    def solved(self) -> bool:
        """Whether the folder holds a solution's tables (not only the status of a failed solve)."""
        return self.summary.get("status") in OK_STATUS and (self.path / "prices.parquet").is_file()

    def table(self, name: str) -> pd.DataFrame:
        """The table `name` (e.g. 'generation'); an empty frame when the folder has none."""
        if name not in self._tables:
            f = self.path / f"{name}.parquet"
            self._tables[name] = pd.read_parquet(f) if f.is_file() else pd.DataFrame()
        return self._tables[name]

    def hours(self) -> pd.DatetimeIndex:
        """The run's snapshots, in order (from the prices table: every bus has a row in every hour)."""
        pr = self.table("prices")
        return pd.DatetimeIndex(sorted(pr["hour"].unique()) if len(pr) else [], name="hour")

    def weights(self) -> pd.Series:
        """Objective weighting of every snapshot (h per snapshot as summed by the summary), indexed by hour."""
        return snapshot_weights(self.summary, self.hours())

    def horizon(self) -> tuple[str, int, float]:
        """(start, snapshots, represented hours): runs that differ in any of these cover different spans."""
        s = self.summary
        return str(s.get("start")), int(s.get("hours") or 0), float(s.get("represented_hours") or 0.0)

    def bus_regions(self) -> pd.Series:
        """Region of every bus, from the prices table."""
        pr = self.table("prices")
        return pr.drop_duplicates("bus").set_index("bus")["region"] if len(pr) else pd.Series(dtype=str)

    def regions(self) -> list[str]:
        """The case's regions in the order the summary reports them (external buses left out)."""
        order = list(self.summary.get("emissions_t", {}))
        found = [r for r in self.bus_regions().unique() if r != EXTERNAL]
        return [r for r in order if r in found] + sorted(r for r in found if r not in order)

    def case(self, case: str | os.PathLike | None = None):
        """The run's case (a name in networks/ or a folder) with the run's scenarios applied, or None where it
        cannot be loaded: charts that need the case's data are then left out."""
        from ..casefiles import load_case
        from ..errors import GridoptError
        name = case if case is not None else self.summary.get("case")
        if not name:
            return None
        try:
            net = load_case(name)
        except (GridoptError, OSError):
            return None
        scen = self.summary.get("scenario") or "base"
        try:
            return net.with_scenario(scen.split("+")) if scen != "base" else net
        except GridoptError:
            return net


def snapshot_weights(summary: dict[str, Any], hours: pd.DatetimeIndex) -> pd.Series:
    """Weighting of each of `hours` in a run with `summary` (the rule is stated in the module)."""
    w = pd.Series(1.0, index=hours, name="weight")
    per = summary.get("periods")
    if per and len(hours):
        span = pd.Timedelta(hours=float(per["hours_each"]))
        for origin, weight in zip(per["origin"], per["weights"]):
            t0 = pd.Timestamp(origin)
            w[(w.index >= t0) & (w.index < t0 + span)] = float(weight)
    total = float(summary.get("represented_hours") or 0.0)
    s = float(w.sum())
    if total > 0 and s > 0 and not np.isclose(s, total, rtol=1e-9):
        w *= total / s
    return w


def weighted(df: pd.DataFrame, column: str, weights: pd.Series) -> pd.Series:
    """`df[column]` times the weighting of each row's hour."""
    return df[column] * df["hour"].map(weights).fillna(1.0).to_numpy()
