"""Tiny hand-checkable networks for the tests, built in code."""

from __future__ import annotations

import numpy as np
import pandas as pd

import gridopt
from gridopt.network import Network


def snapshots(hours: int, start: str = "2025-01-01 00:00") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=hours, freq="h", name="snapshot")


def series(hours: int, **cols) -> pd.DataFrame:
    return pd.DataFrame({k: np.broadcast_to(np.asarray(v, float), (hours,)) for k, v in cols.items()},
                        index=snapshots(hours))


def net(tables: dict, series_: dict | None = None, hours: int = 1, **config) -> Network:
    cfg = {"name": "tiny", "regions": ["A", "B"], "timeseries_start": "2025-01-01 00:00", "hours": hours,
           "penalties": {"curtailment_cny_per_mwh": 0.0, "spill_cny_per_mwh": 0.0}}
    cfg.update(config)
    frames = {k: pd.DataFrame(v) for k, v in tables.items()}
    return Network.from_tables(cfg, frames, series_ or {})


def buses(*names, region="A", v_nom=500.0):
    return [{"name": n, "region": region if isinstance(region, str) else region[i], "v_nom": v_nom}
            for i, n in enumerate(names)]


def solve(n: Network, twin: bool = True, **kw):
    """Dispatch on the fast path and check its tables (every balance and the objective, recomputed from them);
    also solve the pyomo twin and require the same status and objective."""
    from test_lp_properties import check_physics

    res = gridopt.dispatch(n, **kw)
    if res.summary["status"] == "optimal":
        check_physics(n, res, kw.get("carbon_price"))
    if twin:
        other = gridopt.dispatch(n, solver="pyomo", **kw)
        assert other.summary["status"] == res.summary["status"]
        a, b = res.summary["objective_cny"], other.summary["objective_cny"]
        assert abs(a - b) <= 1e-6 * max(1.0, abs(a)), (a, b)
    return res
