"""Paths, the calendar of the base year, curve functions, and the readers and writers of the builder.

Every hourly curve function returns one value per snapshot of the base year (8,760 hours, China Standard
Time). Seasonal curves step once a day so that a day's hours share one value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
INPUTS = ROOT / "timeseries" / "sichuan_chongqing" / "inputs"
SERIES_DIR = ROOT / "timeseries" / "sichuan_chongqing"
NETWORK_DIR = ROOT / "networks" / "sichuan_chongqing"

YEAR = 2025
HOURS = 8760
SNAPSHOTS = pd.date_range("2025-01-01 00:00", periods=HOURS, freq="h", name="snapshot")
SEED = 20250101

DAY_START = np.repeat(np.arange(365) * 24.0, 24)   # hour of each snapshot's day start
DAY_NOON = DAY_START + 12.0

# Compact copies of public data sets, read with pandas' default number parser as they always were:
# another parser may move the last bit of a value and with it the shipped series.
PUBLIC_INPUTS = ("gem_plants_by_zone", "dams_sc_region", "dam_cascade_links",
                 "hydro_monthly_availability_pik", "load_hourly_2018_sc_cq_mw")


@dataclass(frozen=True)
class Inputs:
    """The input tables by file stem, and the single figures of ``figures.csv`` as attributes."""

    tables: dict[str, pd.DataFrame]
    fig: SimpleNamespace

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def zones(self, region: str) -> list[str]:
        """Load zones of a region, in the order of ``zones.csv``."""
        z = self.tables["zones"]
        return list(z.zone[z.region == region])

    def region_of_zone(self, zone: str) -> str:
        z = self.tables["zones"]
        return str(z.region[z.zone == zone].iloc[0])


def read_table(path: Path) -> pd.DataFrame:
    """A builder table: blank cells are NaN in number columns and "" in text columns.

    Numbers are parsed with Python's own conversion, so a value reads back exactly as written.
    """
    df = pd.read_csv(path, float_precision="round_trip", keep_default_na=False, na_values=[""])
    for c in df.columns:
        if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])):
            df[c] = df[c].fillna("")
    return df


def read_inputs(folder: Path = INPUTS) -> Inputs:
    tables = {name: pd.read_csv(folder / f"{name}.csv") for name in PUBLIC_INPUTS}
    for path in sorted(folder.glob("*.csv")):
        if path.stem not in tables:
            tables[path.stem] = read_table(path)
    figures = tables.pop("figures")
    values = {str(n): float(v) for n, v in zip(figures.name, figures.value, strict=True)}
    return Inputs(tables, SimpleNamespace(**values))


def monthly(inp: Inputs, column: str) -> list[float]:
    """Twelve monthly values, January first, from ``monthly_profiles.csv``."""
    m = inp["monthly_profiles"].sort_values("month")
    assert list(m.month) == list(range(1, 13)), "monthly_profiles.csv needs months 1..12"
    return [float(v) for v in m[column]]


def month_index() -> np.ndarray:
    return SNAPSHOTS.month.to_numpy() - 1


def monthly_anchor_curve(values: Sequence[float]) -> np.ndarray:
    """Daily-step curve, linear between values anchored at the first hour of each month (cyclic);
    each day holds the value of its first hour."""
    starts = [pd.Timestamp(YEAR, m, 1) for m in range(1, 13)] + [pd.Timestamp(YEAR + 1, 1, 1)]
    xs = np.array([(s - SNAPSHOTS[0]) / pd.Timedelta(hours=1) for s in starts])
    ys = np.array(list(values) + [values[0]], dtype=float)
    return np.interp(DAY_START, xs, ys)


def mid_month_curve(values: Sequence[float]) -> np.ndarray:
    """Daily-step curve through monthly means placed at mid-month, linear and cyclic (value at noon)."""
    firsts = [pd.Timestamp(YEAR, m, 1) for m in range(1, 13)]
    nexts = [pd.Timestamp(YEAR + (m == 12), m % 12 + 1, 1) for m in range(1, 13)]
    mids = [a + (b - a) / 2 for a, b in zip(firsts, nexts, strict=True)]
    xs = np.array([(s - SNAPSHOTS[0]) / pd.Timedelta(hours=1) for s in mids])
    xs = np.concatenate([[xs[-1] - HOURS], xs, [xs[0] + HOURS]])
    ys = np.concatenate([[values[-1]], values, [values[0]]])
    return np.interp(DAY_NOON, xs, ys)


def ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """Stationary AR(1) with unit variance: x[i] = phi x[i-1] + sqrt(1 - phi^2) e[i].

    A plain recursion keeps the draws and their rounding identical from one build to the next.
    """
    e = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = e[0]
    s = math.sqrt(1.0 - phi * phi)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + s * e[i]
    return x


def daily_to_hourly(daily: np.ndarray) -> np.ndarray:
    """Daily values held through each day's 24 hours."""
    return np.repeat(daily[:365], 24)


def bisect(f: Callable[[float], float], lo: float, hi: float, target: float, n: int = 60) -> float:
    """Root of f(x) = target for increasing f."""
    for _ in range(n):
        mid = 0.5 * (lo + hi)
        if f(mid) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def hourly_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(columns, index=SNAPSHOTS)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Booleans as ``true``/``false``, the spelling of the case tables."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == bool:
            out[c] = np.where(out[c], "true", "false")
    out.to_csv(path, index=False, lineterminator="\n")


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    df = df.astype("float64")
    df.index = SNAPSHOTS
    df.to_parquet(path, compression="zstd")
