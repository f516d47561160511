"""Figures computed from a run's tables that its summary does not hold, weighted by snapshot weightings.

`exports_by_link_mwh` is the one definition of energy sent per link, for comparisons and calibration alike.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..network import EXTERNAL
from ..plot.folders import RunFolder, weighted


def exports_by_link_mwh(flows: pd.DataFrame, regions: Mapping[str, str] | pd.Series,
                        weights: pd.Series | None = None) -> dict[str, float]:
    """Energy each link carries out of the case's regions over the horizon (MWh, weighted), by link.

    Counted for every link with one end at a bus in a region and the other at an external bus, as the power
    leaving the in-region end (p0 where bus0 is in a region, p1 where bus1 is): what the converter there
    sends, before the line's losses. Power flowing in counts negative, as received at that end. Links are
    the rows of `flows` with forward/reverse flows (lines and transformers have none). `regions` maps a bus
    to its region; `weights` (by hour) default to 1.
    """
    if not len(flows) or "forward_mw" not in flows.columns:
        return {}
    links = flows[flows["forward_mw"].notna()]
    reg = pd.Series(regions) if not isinstance(regions, pd.Series) else regions
    r0, r1 = links["bus0"].map(reg), links["bus1"].map(reg)
    out0 = (r0 != EXTERNAL) & r0.notna() & (r1 == EXTERNAL)
    out1 = (r1 != EXTERNAL) & r1.notna() & (r0 == EXTERNAL)
    sent = np.where(out0, links["p0_mw"], np.where(out1, links["p1_mw"], np.nan))
    frame = links.assign(sent_mw=sent)[out0 | out1]
    w = weights if weights is not None else pd.Series(1.0, index=pd.Index(frame["hour"].unique()))
    energy = weighted(frame, "sent_mw", w).groupby(frame["branch"].to_numpy(), sort=False).sum()
    return {str(k): float(v) for k, v in energy.items()}


def generation_by_region_mwh(run: RunFolder) -> dict[str, float]:
    """Weighted generation (MWh) by 'region/carrier', external buses included (imports bought there)."""
    g = run.table("generation")
    if not len(g):
        return {}
    e = weighted(g, "p_mw", run.weights()).groupby([g["region"].to_numpy(), g["carrier"].to_numpy()]).sum()
    return {f"{r}/{c}": float(v) for (r, c), v in e.items()}


def mean_prices(run: RunFolder) -> tuple[dict[str, float], dict[str, float]]:
    """Mean price per region (CNY/MWh) over buses and hours: (weighted by load and snapshot weighting,
    weighted by snapshot weighting alone with every bus of the region counting alike)."""
    pr = run.table("prices")
    w = pr["hour"].map(run.weights()).fillna(1.0).to_numpy()
    by_load, by_time = {}, {}
    for r in run.regions() + [EXTERNAL]:
        m = (pr["region"] == r).to_numpy()
        if not m.any():
            continue
        p = pr["price_cny_per_mwh"].to_numpy()[m]
        load = np.maximum(pr["load_mw"].to_numpy()[m], 0.0) * w[m]
        if load.sum() > 0:
            by_load[r] = float(np.average(p, weights=load))
        by_time[r] = float(np.average(p, weights=w[m]))
    return by_load, by_time


def corridor_values(run: RunFolder) -> dict[str, float]:
    """Value of one more MW of each corridor (CNY/MW over the horizon, corridors.parquet)."""
    c = run.table("corridors")
    return {} if not len(c) else {str(k): float(v) for k, v in zip(c["corridor"], c["value_cny_per_mw"])}
