"""Reading a PyPSA CSV folder: static tables, time series in snapshot order, snapshots and weightings.

`PypsaFolder` reads what ``export_to_csv_folder`` writes with pandas (PyPSA is not imported), keeps the
problems it finds (file, element, attribute) and folds series that are constant in time into static
values. Result series PyPSA writes after a solve are skipped. The mapping to gridopt is in `pypsa_in`.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import Problem
from .common import warn

DEFAULT_START = "2025-01-01 00:00"  # first hour given to snapshots that are not timestamps
_OUTPUT_SERIES = {"p", "q", "p0", "p1", "q0", "q1", "status", "start_up", "shut_down", "marginal_price",
                  "v_ang", "v_mag_pu", "state_of_charge", "spill", "p_store", "p_dispatch", "e", "p_slack",
                  "maintenance", "n_mod"}
# series gridopt holds per hour; every other input series must be constant in time
_SUPPORTED_SERIES = {"generators": {"p_max_pu", "p_min_pu"}, "loads": {"p_set"}, "links": {"p_max_pu"},
                     "storage_units": {"inflow", "state_of_charge_set"}, "stores": {"e_min_pu", "e_max_pu", "e_set"}}
# series kept where they vary (constant columns become static values): generator prices make markets
_VARYING_OK = {("generators", "marginal_cost")}


def _is_output_series(attr: str) -> bool:
    return attr in _OUTPUT_SERIES or attr.startswith("mu_") or re.fullmatch(r"[pq]\d+", attr) is not None


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, str):
        return ("" if a is None or (isinstance(a, float) and math.isnan(a)) else str(a).strip()) == b
    if isinstance(b, bool):
        return _to_bool(a, b) == b
    try:
        a = float(a)
    except (TypeError, ValueError):
        return False
    if math.isnan(b):
        return math.isnan(a)
    return a == b


def _to_bool(v: Any, default: bool) -> bool:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return default
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    return str(v).strip().lower() in ("true", "1", "1.0", "yes")


class PypsaFolder:
    """The CSV files of one PyPSA folder, read into frames, with the problems found so far."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.problems: list[Problem] = []
        self.static: dict[str, pd.DataFrame] = {}
        self.dyn: dict[str, dict[str, pd.DataFrame]] = {}

    # ---- low-level reading --------------------------------------------------------------------
    def f(self, name: str) -> str:
        return str(self.folder / name)

    def refuse(self, comp: str, row: str, column: str, message: str) -> None:
        self.problems.append(Problem(self.f(f"{comp}.csv"), row, column, message))

    def _read_csv(self, path: Path) -> pd.DataFrame | None:
        try:
            return pd.read_csv(path, index_col=0)
        except pd.errors.EmptyDataError:
            return pd.DataFrame()
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            self.problems.append(Problem(str(path), "", "", f"unreadable CSV: {str(exc).splitlines()[0]}"))
            return None

    def read_static(self, comp: str) -> pd.DataFrame:
        path = self.folder / f"{comp}.csv"
        df = self._read_csv(path) if path.is_file() else None
        if df is None:
            df = pd.DataFrame()
        df.index = df.index.astype(str)
        df.index.name = "name"
        return df

    def read_series(self, comp: str, n: int) -> dict[str, pd.DataFrame]:
        out = {}
        for path in sorted(self.folder.glob(f"{comp}-*.csv")):
            attr = path.stem[len(comp) + 1:]
            if _is_output_series(attr):
                continue
            df = self._read_csv(path)
            if df is None:
                continue
            df.columns = df.columns.astype(str)
            if len(df) != n:
                self.problems.append(Problem(str(path), "", "", f"{len(df)} rows, but snapshots.csv has {n}"))
                continue
            bad = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
            if bad:
                self.problems.append(Problem(str(path), "", bad[0], "non-numeric values"))
                continue
            out[attr] = df.reset_index(drop=True)
        return out

    def col(self, comp: str, attr: str, default: Any) -> pd.Series:
        df = self.static[comp]
        if attr not in df.columns:
            return pd.Series([default] * len(df), index=df.index, dtype=object if isinstance(default, str) else None)
        s = df[attr]
        if isinstance(default, bool):
            return s.map(lambda v: _to_bool(v, default)).astype(bool)
        if isinstance(default, str):
            return s.map(lambda v: default if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip())
        vals = pd.to_numeric(s, errors="coerce")
        for name in vals.index[vals.isna() & s.notna()]:
            self.refuse(comp, name, attr, f"{s[name]!r} is not a number")
        return vals.fillna(default) if not (isinstance(default, float) and math.isnan(default)) else vals

    def matrix(self, comp: str, attr: str, default: float) -> pd.DataFrame:
        """(snapshots, elements) values of attr: the static value, overridden by the series columns."""
        static = self.col(comp, attr, default).astype(float)
        out = pd.DataFrame(np.tile(static.to_numpy(), (self.T, 1)), columns=static.index)
        ser = self.dyn[comp].get(attr)
        if ser is not None:
            cols = [c for c in ser.columns if c in out.columns]
            out[cols] = ser[cols].to_numpy(dtype=float)
        return out

    def network_name(self) -> str:
        df = self.read_static("network")
        if "name" in df.columns and len(df):
            name = str(df["name"].iloc[0])
        elif len(df):
            name = str(df.index[0])
        else:
            name = ""
        return self.folder.name if name in ("", "nan", "Unnamed Network") else name

    def read_snapshots(self) -> None:
        path = self.folder / "snapshots.csv"
        net = self.read_static("network")
        if "_multi_invest" in net.columns and len(net) and _to_bool(net["_multi_invest"].iloc[0], False):
            self.problems.append(Problem(self.f("network.csv"), "", "_multi_invest",
                                         "multi-period investment networks are not supported"))
        for extra in ("investment_periods.csv", "scenarios.csv"):
            # only rows are a feature: PyPSA may write these tables with their header alone
            table = self._read_csv(self.folder / extra) if (self.folder / extra).is_file() else None
            if table is not None and len(table):
                self.problems.append(Problem(self.f(extra), "", "", "investment periods and stochastic scenarios "
                                                                   "are not supported"))
        df = self._read_csv(path) if path.is_file() else None
        if df is None or len(df) == 0:
            labels = pd.Series(["now"])
            df = pd.DataFrame(index=[0])
        elif "snapshot" in df.columns:
            labels = df["snapshot"].astype(str).reset_index(drop=True)
        else:
            labels = pd.Series(df.index.astype(str))
        if "period" in df.columns:
            self.problems.append(Problem(str(path), "", "period", "multi-period snapshots are not supported"))
        self.T = len(labels)
        try:
            if labels.str.fullmatch(r"now|[-+]?\d+(\.\d*)?").any():  # PyPSA's default and integer snapshots
                raise ValueError("not timestamps")
            stamps = pd.DatetimeIndex(pd.to_datetime(labels))
            self.stamps = stamps.tz_localize(None) if stamps.tz is not None else stamps
        except (ValueError, TypeError, pd.errors.ParserError):
            self.stamps = None
        # PyPSA's three weightings (an old single 'weightings' column stands for all three), default 1
        cols = {c: c for c in ("objective", "stores", "generators") if c in df.columns}
        if not cols and "weightings" in df.columns:
            cols = dict.fromkeys(("objective", "stores", "generators"), "weightings")
        w = pd.DataFrame(1.0, index=range(self.T), columns=["objective", "stores", "generators"])
        for c, src in cols.items():
            w[c] = pd.to_numeric(df[src], errors="coerce").fillna(1.0).to_numpy(dtype=float)
        for c in w.columns:
            bad = np.flatnonzero(~(w[c].to_numpy() >= 0) | ~np.isfinite(w[c].to_numpy()))
            if len(bad) or (c == "stores" and (w[c] <= 0).any()):
                i = int(bad[0]) if len(bad) else int(np.flatnonzero(w[c] <= 0)[0])
                self.problems.append(Problem(str(path), labels[i], c, f"weighting {w.at[i, c]:g}: expected a finite "
                                             "number >= 0 (> 0 for stores)"))
        self.w = w
        self.weights = w["objective"].to_numpy(dtype=float)  # the horizon in years: objective weightings / 8760 h

    def place_snapshots(self, storage: bool) -> None:
        """The gridopt snapshots, `self.index`, and their durations, `self.dt` (hours each advances storage).

        gridopt's snapshots lie as many hours apart as their `stores` weighting says. PyPSA's timestamps are
        kept where they do; where they are hourly and nothing stores energy, the `stores` weighting is dropped
        (it weighs nothing there) and they are kept too; otherwise they are relabelled from the first timestamp
        (or 2025-01-01 for snapshots that are not timestamps), `stores` hours apart, with a warning.
        """
        stores = self.w["stores"].to_numpy(dtype=float)
        start = self.stamps[0] if self.stamps is not None else pd.Timestamp(DEFAULT_START)
        gaps = (np.asarray(self.stamps[1:] - self.stamps[:-1]) / np.timedelta64(1, "h")
                if self.stamps is not None else None)
        if gaps is not None and (self.T == 1 or np.allclose(gaps, stores[:-1], rtol=0.0, atol=1e-9)):
            self.index, self.dt = self.stamps, stores
        elif gaps is not None and not storage and np.allclose(gaps, 1.0, rtol=0.0, atol=1e-9):
            self.index, self.dt = self.stamps, np.ones(self.T)
        else:
            self.dt = stores if storage or self.stamps is not None else np.ones(self.T)
            self.index = start + pd.to_timedelta(np.r_[0.0, np.cumsum(self.dt[:-1])], unit="h")
            if self.stamps is not None and self.T > 1:
                warn(f"snapshots of {self.folder.name} relabelled {self.dt[0]:g} h apart from {start} as their "
                     "'stores' weightings say (costs, storage and limits keep every weighting)")
        self.index = pd.DatetimeIndex(self.index, name="snapshot")
        if len(self.index) != len(set(self.index)):
            self.problems.append(Problem(self.f("snapshots.csv"), "", "snapshot", "duplicate timestamps"))

    def weighting_frame(self) -> pd.DataFrame | None:
        """The case's `weighting` series: PyPSA's objective and generators weightings (generators only where it
        differs) and, where it is not 1, the snapshots' durations as `stores`; None when all are 1."""
        obj, gen = self.w["objective"].to_numpy(), self.w["generators"].to_numpy()
        out = {}
        if not (np.allclose(obj, 1.0) and np.allclose(gen, 1.0) and np.allclose(self.dt, 1.0)):
            out["objective"] = obj
            if not np.allclose(gen, obj, rtol=1e-12, atol=0.0):
                out["generators"] = gen
            if not np.allclose(self.dt, 1.0):
                out["stores"] = self.dt
        return pd.DataFrame(out, index=self.index) if out else None

    def drop_inactive(self) -> None:
        for comp, df in self.static.items():
            if "active" in df.columns:
                keep = df["active"].map(lambda v: _to_bool(v, True)).astype(bool)
                if not keep.all():
                    self.static[comp] = df[keep.to_numpy()]
                    self.dyn[comp] = {a: s[[c for c in s.columns if c in set(df.index[keep.to_numpy()])]]
                                      for a, s in self.dyn[comp].items()}

    def fold_constant_series(self) -> None:
        """Series of attributes gridopt holds statically: constant in time -> the static value, else refused."""
        for comp, ser in self.dyn.items():
            for attr, df in list(ser.items()):
                if attr in _SUPPORTED_SERIES.get(comp, ()):
                    continue
                static = self.static[comp]
                varying = []
                for c in df.columns:
                    vals = df[c].to_numpy(dtype=float)
                    if np.allclose(vals, vals[0], equal_nan=True):
                        if c in static.index:
                            if attr not in static.columns:
                                static[attr] = np.nan
                                static[attr] = static[attr].astype(object)
                            static.loc[c, attr] = vals[0]
                    elif (comp, attr) in _VARYING_OK:
                        varying.append(c)
                    else:
                        self.problems.append(Problem(self.f(f"{comp}-{attr}.csv"), c, attr,
                                                     f"time-varying {attr} is not supported (gridopt holds it "
                                                     "as a fixed value)"))
                if varying:
                    ser[attr] = df[varying]
                else:
                    del ser[attr]

    def refuse_nondefault(self, comp: str, checks: dict[str, tuple[Any, str]]) -> None:
        df = self.static[comp]
        for attr, (ok, why) in checks.items():
            if attr not in df.columns:
                continue
            for name, v in df[attr].items():
                if isinstance(ok, float) and not isinstance(ok, bool) and (v is None or (isinstance(v, float) and math.isnan(v))):
                    continue  # an empty cell is the default
                if not _same(v, ok):
                    self.refuse(comp, name, attr, f"{v!r}: {why}")
