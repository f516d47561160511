"""Hourly electricity load per zone, firm and interruptible (MW).

Inputs: the 2018 provincial hourly loads (``load_hourly_2018_sc_cq_mw.csv``), ``regions.csv`` (annual
energy, peak, the reported peak date and interruptible share) and ``zones.csv`` (each zone's share of its
region's load).

Calendar mapping: every 2025 day takes a whole 2018 day of the same weekday. Outside the Spring Festival
window the 2018 day lies 2 days later in the year (2025-01-01, a Wednesday, takes 2018-01-03). In the
window (13 Jan to 2 Mar 2025) it lies two weeks further on, 16 days: the whole-week shift nearest to the
18 days between the two festivals (16 Feb 2018, 29 Jan 2025), so the 2018 holiday dip falls inside the
2025 holiday week. The window's ends are Mondays in ordinary weeks, so the 14 days of 2018 skipped at
its start (late January) and used twice after its end (early March) are ordinary working weeks. Then,
per region, the Monday-to-Sunday week holding the annual peak swaps places with the week holding the
reported peak date, which keeps weekdays and moves the peak by whole weeks only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .common import HOURS, SNAPSHOTS, Inputs, bisect, hourly_frame

# The interruptible block follows the monthly mean more than the hour: industrial load is flat-ish, EST.
INTERRUPTIBLE_MONTHLY_WEIGHT = 0.6
WEEKDAY_OFFSET = 2                                   # 2018-01-03 has the weekday of 2025-01-01
SPRING_FESTIVAL = {2018: "2018-02-16", 2025: "2025-01-29"}
FESTIVAL_WINDOW = ("2025-01-13", "2025-03-03")      # Mondays; [start, end) of 2025 days shifted further


def day_of_year(date: str) -> int:
    return int(pd.Timestamp(date).dayofyear) - 1


def festival_offset() -> int:
    """Day offset in the festival window: the weekday offset plus the whole weeks nearest to the gap
    between the two festivals' days of the year."""
    gap = day_of_year(SPRING_FESTIVAL[2018]) - day_of_year(SPRING_FESTIVAL[2025])
    return WEEKDAY_OFFSET + 7 * round((gap - WEEKDAY_OFFSET) / 7)


def mapped_days() -> np.ndarray:
    """The 2018 day (0-based) each 2025 day takes; the last days wrap back one week."""
    days = np.arange(365) + WEEKDAY_OFFSET
    lo, hi = (day_of_year(d) for d in FESTIVAL_WINDOW)
    days[lo:hi] += festival_offset() - WEEKDAY_OFFSET
    days[days > 364] -= 7
    return days


def move_peak_week(days: np.ndarray, daily_max: np.ndarray, peak_date: str) -> np.ndarray:
    """Swap the Monday-to-Sunday week holding the largest daily value with the week of ``peak_date``."""
    start = SNAPSHOTS[0].dayofweek   # weekday of 1 January (Monday = 0)

    def monday(d: int) -> int:
        return d - (d + start) % 7

    a, b = monday(int(np.argmax(daily_max))), monday(day_of_year(peak_date))
    out = days.copy()
    out[a:a + 7], out[b:b + 7] = days[b:b + 7], days[a:a + 7]
    return out


def hours_of(days: np.ndarray) -> np.ndarray:
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
    days = mapped_days()
    share_of_zone = dict(zip(inp["zones"].zone, inp["zones"].load_share, strict=True))
    firm, intr = {}, {}
    for reg in inp["regions"].itertuples(index=False):
        y = raw[f"{reg.region.lower()}_mw"].to_numpy()
        daily_max = y[hours_of(days)].reshape(365, 24).max(axis=1)
        x = y[hours_of(move_peak_week(days, daily_max, reg.peak_date))]
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
