"""Windows over the horizon, what each aims at when it ends, and its share of the carbon caps."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..formulation.context import Targets
from ..results import Result
from .guide import Guide
from .options import window_starts


@dataclass
class Window:
    index: int
    start: pd.Timestamp
    hours: int  # solved hourly (kept + look-ahead)
    keep: int  # kept
    tail: int = 0  # hours of coarse look-ahead after the hourly ones

    @property
    def end(self) -> pd.Timestamp:
        """The last hour the window sees (its coarse look-ahead included)."""
        return self.start + pd.Timedelta(hours=self.hours + self.tail - 1)

    @property
    def kept_end(self) -> pd.Timestamp:
        """The first hour after the kept ones."""
        return self.start + pd.Timedelta(hours=self.keep)


def plan_windows(start: pd.Timestamp, hours: int, window: int, overlap: int, tail: int | None = 0) -> list[Window]:
    """Windows keeping `window` hours each, with `overlap` hours of hourly look-ahead and then `tail` hours
    (None: up to the horizon's end) of coarse look-ahead. The kept hours cover the horizon once."""
    out = []
    starts = window_starts(hours, window)
    for k, s in enumerate(starts):
        keep = window if k < len(starts) - 1 else hours - s
        solved = min(keep + overlap, hours - s)
        rest = hours - s - solved
        out.append(Window(k, start + pd.Timedelta(hours=s), solved, keep, rest if tail is None else min(tail, rest)))
    return out


def kept(r: Result, w: Window) -> dict[str, pd.DataFrame]:
    """A window's result tables cut to its kept hours."""
    end = w.kept_end
    return {k: (df[df["hour"] < end] if len(df) and "hour" in df else df) for k, df in r.tables.items()}


def targets_for(w: Window, sees_end: bool, guide: Guide, aim: str, credit: bool) -> Targets:
    """What window `w` aims at when it ends: the case's own end targets where it sees the horizon's end;
    else by `aim` ("targets", "rule" or "values", see RollingOptions) at the end of its look-ahead."""
    if sees_end:
        return guide.end_targets
    end = w.end
    gas, values = guide.gas_at(end), guide.values_at(end)
    if aim == "rule":  # the case's planned volumes where it has them, the coarse water value elsewhere
        net = guide.net
        res_tab = net.active("reservoirs")
        planned = set(net.series["volume_target_hm3"].columns) if "volume_target_hm3" in net.series else set()
        cols = [r for r in res_tab.index if r in planned]
        plan_end = net.series["volume_target_hm3"].loc[end, cols].clip(
            res_tab.loc[cols, "volume_min_hm3"], res_tab.loc[cols, "volume_max_hm3"])
        return Targets(volume_hm3=plan_end.to_dict(),
                       water_value_cny_per_hm3={r: v for r, v in values.items() if r not in planned},
                       gas_inventory_min_mm3=gas, case_end_target=False, transit_hm3={})
    if aim == "values":  # pumped storage cycles within a day: its coarse value misleads, so it is left free
        return Targets(water_value_cny_per_hm3=values, gas_inventory_min_mm3=gas, case_end_target=False)
    # a window may end a little below the coarse charge: the next one starts where it ended. A volume is the
    # reservoir's water, what is on its way in counting towards it: else a window would stop its releases
    # before its end to hold that water, and spend it earlier.
    return Targets(volume_hm3=guide.volume_at(end).to_dict(), soc_min_mwh=(0.95 * guide.charge_at(end)).to_dict(),
                   gas_inventory_min_mm3=gas, case_end_target=False, transit_hm3={},
                   water_value_cny_per_hm3=values if credit else {})


def cap_share(guide: Guide, caps: dict[str, float], a: pd.Timestamp, b: pd.Timestamp) -> dict[str, float]:
    """Each carbon cap times the coarse solve's share of its emissions in hours [a, b)."""
    out = {}
    em = guide.emissions
    for key, cap in caps.items():
        sel = em[em["region"].isin(guide.net.regions)] if key == "system" else em[em["region"] == key]
        per = sel.groupby("hour")["co2_t"].sum()
        if per.sum() <= 0:  # the coarse solve emits nothing there: share by hours
            per = pd.Series(1.0, index=pd.date_range(guide.t0, periods=guide.hours, freq="h"))
        out[key] = float(cap * per[(per.index >= a) & (per.index < b)].sum() / per.sum())
    return out
