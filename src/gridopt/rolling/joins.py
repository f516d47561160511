"""An independent check of a written hydro table: does every reservoir balance hour by hour, and does the
water arriving from upstream equal what the reservoirs above released the travel delay before?

For reservoir r and hour t (k = 0.0036 hm3 per m3/s-hour, arrivals recomputed from the table itself):

    jump[t, r] = V[t, r] - V[t-1, r] - k * (natural[t, r] + sum_u (q + s)[t - d_u, u] - q[t, r] - s[t, r])
    arrival_error[t, r] = upstream_inflow[t, r] (as written) - sum_u (q + s)[t - d_u, u]

A physical trajectory has both zero. Where a release before the table's first hour would be needed, the
written arrival stands (it cannot be checked); the first hour's jump needs the volume before it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..network import Network
from ..units import HM3_PER_M3S_HOUR as K

COLUMNS = ("volume_hm3", "natural_inflow_m3s", "upstream_inflow_m3s", "release_m3s", "spill_m3s")
TOLERANCE_HM3 = 1e-4  # a jump smaller than this is the solver's tolerance, not water created or lost
TOLERANCE_M3S = 1e-2  # likewise for an arrival (0.01 m3/s for an hour is 3.6e-5 hm3)


def delayed_outflows(net: Network, outflow: pd.DataFrame) -> pd.DataFrame:
    """Water arriving at each reservoir from the reservoirs directly above it (m3/s, hour x reservoir):
    their release + spill `delay_hours` earlier (hourly rows in time order; NaN where that is before the
    first row). Delays are placed as the formulation places them: a release at an hour's midpoint arrives
    in the hour holding midpoint + delay."""
    res = net.active("reservoirs")
    out = pd.DataFrame(0.0, index=outflow.index, columns=outflow.columns)
    for u, (d, delay) in res[["downstream", "delay_hours"]].iterrows():
        if d in out.columns and u in outflow.columns:
            out[d] = out[d] + outflow[u].shift(int(np.floor(float(delay) + 0.5)))
    return out


def water_jumps(net: Network, hydro: pd.DataFrame, initial_hm3: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Each reservoir's balance error (hm3) and arrival error (m3/s) in every hour of an hourly hydro table
    (a result's `tables["hydro"]`), recomputed from the table and the case's cascade: columns hour,
    reservoir, jump_hm3 (water that appeared, + , or vanished, -, in the reservoir that hour),
    arrival_error_m3s (written upstream inflow less the delayed outflows above). `initial_hm3`: volumes
    before the first hour (else its jump is 0: it cannot be checked)."""
    if not len(hydro):
        return pd.DataFrame(columns=["hour", "reservoir", "jump_hm3", "arrival_error_m3s"])
    p = {c: hydro.pivot(index="hour", columns="reservoir", values=c).sort_index() for c in COLUMNS}
    hours = p["volume_hm3"].index
    if len(hours) > 1 and not (np.diff(hours.to_numpy()) == np.timedelta64(1, "h")).all():
        raise ValueError("water_jumps needs an hourly table without gaps")
    arrivals = delayed_outflows(net, p["release_m3s"] + p["spill_m3s"])
    known = arrivals.notna()
    arrivals = arrivals.where(known, p["upstream_inflow_m3s"])
    error = (p["upstream_inflow_m3s"] - arrivals).where(known, 0.0)
    vol = p["volume_hm3"]
    before = vol.shift(1)
    if initial_hm3 is not None:
        before.iloc[0] = pd.Series(initial_hm3, dtype=float).reindex(vol.columns)
    net_in = p["natural_inflow_m3s"] + arrivals - p["release_m3s"] - p["spill_m3s"]
    jump = (vol - before - K * net_in).fillna(0.0)
    out = pd.DataFrame({"jump_hm3": jump.stack(), "arrival_error_m3s": error.stack()})
    out.index.names = ["hour", "reservoir"]
    return out.reset_index()


def by_reservoir(jumps: pd.DataFrame, tol_hm3: float = TOLERANCE_HM3,
                 tol_m3s: float = TOLERANCE_M3S) -> dict[str, dict[str, float]]:
    """Per reservoir: water created (the sum of its jumps above `tol_hm3`), water dropped (of those below
    -tol_hm3, as a positive number) and the largest arrival error (m3/s, beyond `tol_m3s`). Jumps of
    different reservoirs, or hours, never cancel."""
    out = {}
    for r, g in jumps.groupby("reservoir", sort=False):
        j, e = g["jump_hm3"].to_numpy(), np.abs(g["arrival_error_m3s"].to_numpy())
        err = float(e.max()) if len(e) else 0.0
        out[str(r)] = {"created_hm3": round(float(j[j > tol_hm3].sum()), 6),
                       "dropped_hm3": round(float(-j[j < -tol_hm3].sum()), 6) + 0.0,
                       "max_arrival_error_m3s": round(err if err > tol_m3s else 0.0, 6)}
    return out


def table_joins(net: Network, hydro: pd.DataFrame, initial_hm3: Mapping[str, float] | None = None) -> dict:
    """The join report's water part checked from a written hydro table: per reservoir (`by_reservoir`), and
    the totals over reservoirs of what was created and dropped and the largest arrival error."""
    per = by_reservoir(water_jumps(net, hydro, initial_hm3))
    return {"reservoirs": per,
            "reservoir_water_created_hm3": round(sum(v["created_hm3"] for v in per.values()), 6),
            "reservoir_water_dropped_hm3": round(sum(v["dropped_hm3"] for v in per.values()), 6),
            "max_arrival_error_m3s": max((v["max_arrival_error_m3s"] for v in per.values()), default=0.0)}
