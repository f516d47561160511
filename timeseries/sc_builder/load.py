"""Hourly electricity load per zone, firm and interruptible (MW).

Inputs: the 2018 provincial hourly loads (``load_hourly_2018_sc_cq_mw.csv``), ``regions.csv`` (annual
energy, peak and interruptible share) and ``zones.csv`` (each zone's share of its region's load).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .common import HOURS, SNAPSHOTS, Inputs, bisect, hourly_frame

# The interruptible block follows the monthly mean more than the hour: industrial load is flat-ish, EST.
INTERRUPTIBLE_MONTHLY_WEIGHT = 0.6


def weekday_aligned_hours() -> np.ndarray:
    """Hour indices into 2018 such that each 2025 day maps to a 2018 day of the same weekday
    (2025-01-01 is a Wednesday, as is 2018-01-03); the last days wrap back one week."""
    days = np.arange(365) + 2
    days[days > 364] -= 7
    return (days[:, None] * 24 + np.arange(24)[None, :]).ravel()


def calibrated_load(x: np.ndarray, energy_twh: float, peak_mw: float) -> tuple[np.ndarray, float]:
    """L = peak * x^k for x = load / max(load), with k such that the annual energy is met
    (mean(x^k) equals the load factor; the mean falls as k grows)."""
    lf = energy_twh * 1e6 / (peak_mw * HOURS)
    k = bisect(lambda kk: -np.mean(x ** kk), 0.05, 5.0, -lf)
    return peak_mw * x ** k, k


def build_load(inp: Inputs, info: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Firm and interruptible load per zone: the region's calibrated load x the zone's load_share.

    interruptible = share x (0.6 x monthly mean + 0.4 x hourly load); firm = load - interruptible.
    """
    raw = inp["load_hourly_2018_sc_cq_mw"]
    idx = weekday_aligned_hours()
    share_of_zone = dict(zip(inp["zones"].zone, inp["zones"].load_share, strict=True))
    firm, intr = {}, {}
    for reg in inp["regions"].itertuples(index=False):
        x = raw[f"{reg.region.lower()}_mw"].to_numpy()[idx]
        x = x / x.max()
        load, k = calibrated_load(x, reg.load_energy_twh, reg.load_peak_mw)
        info[f"load_k_{reg.region}"] = k
        monthly_mean = pd.Series(load, index=SNAPSHOTS).groupby(SNAPSHOTS.month).transform("mean").to_numpy()
        w = INTERRUPTIBLE_MONTHLY_WEIGHT
        interruptible = reg.interruptible_share * (w * monthly_mean + (1 - w) * load)
        for z in inp.zones(reg.region):
            firm[z] = np.round(share_of_zone[z] * (load - interruptible), 1)
            intr[z] = np.round(share_of_zone[z] * interruptible, 1)
    return hourly_frame(firm), hourly_frame(intr)
