"""Charts of a calibration table (`gridopt.studies.calibration`): every figure's gap, hydro by month, exports
per DC line and generation by carrier, model beside published."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .common import colour, figure, save

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _label(r) -> str:
    return " ".join(str(x) for x in (r.figure, r.region, r.item) if x)


def gaps_chart(table: pd.DataFrame, path: Path, tolerance: float) -> Path | None:
    """Each figure's gap to its published value (%), the tolerance band shaded; explained gaps hatched."""
    t = table[table["gap"].notna() & (table["figure"] != "hydro_month_share_pct")]
    if not len(t):
        return None
    fig = figure(10.0, 0.28 * len(t) + 1.5)
    ax = fig.subplots()
    y = np.arange(len(t))[::-1]
    gap = 100.0 * t["gap"].to_numpy()
    shown = np.clip(gap, -200.0, 200.0)  # a few gaps run to thousands of per cent: the bar stops at the frame
    cols = np.where(t["verdict"].str.startswith("within"), "#31a354",
                    np.where(t["verdict"] == "explained", "#fdae6b", "#de2d26"))
    ax.barh(y, shown, color=cols)
    for yi, g, s in zip(y, gap, shown, strict=True):
        if g != s:
            ax.text(s, yi, f" {g:+.0f} %", va="center", ha="left" if g > 0 else "right", fontsize=7)
    ax.axvspan(-100 * tolerance, 100 * tolerance, color="#31a354", alpha=0.12)
    ax.set_yticks(y, [_label(r) for r in t.itertuples(index=False)], fontsize=7)
    ax.set_xlabel("gap to the published figure (%): green within the band, orange explained, red outside")
    ax.axvline(0.0, color="k", lw=0.6)
    return save(fig, path)


def months_chart(table: pd.DataFrame, path: Path) -> Path | None:
    """Hydro output by month as a share of the year: the run beside the published wet/dry pattern."""
    t = table[table["figure"] == "hydro_month_share_pct"]
    if not len(t) or t["model"].isna().all():
        return None
    fig = figure(9.0, 4.0)
    ax = fig.subplots()
    for region, g in t.groupby("region", sort=False):
        x = g["item"].astype(int).to_numpy()
        ax.plot(x, g["published"], "o--", color="#888888", label=f"{region}: published pattern")
        ax.bar(x, g["model"], color=colour("hydro_reservoir", 0), alpha=0.8, label=f"{region}: model")
    ax.set_xticks(range(1, 13), MONTHS)
    ax.set_ylabel("share of the year's hydro output (%)")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    return save(fig, path)


def pairs_chart(table: pd.DataFrame, figure_name: str, path: Path, unit: str) -> Path | None:
    """Model beside published for every row of one figure (e.g. exports per DC line)."""
    t = table[table["figure"] == figure_name]
    if not len(t):
        return None
    fig = figure(10.0, 0.45 * len(t) + 1.5)
    ax = fig.subplots()
    y = np.arange(len(t))[::-1]
    ax.barh(y + 0.2, t["model"], height=0.4, color="#2b8cbe", label="model")
    ax.barh(y - 0.2, t["published"], height=0.4, color="#bdbdbd", label="published")
    ax.set_yticks(y, [" ".join(x for x in (r.region, r.item) if x) for r in t.itertuples(index=False)], fontsize=8)
    ax.set_xlabel(unit)
    ax.legend(fontsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    return save(fig, path)


def calibration_charts(table: pd.DataFrame, out: Path, tolerance: float) -> list[Path]:
    """Every chart of a calibration table into folder `out`; returns the files written."""
    made = [gaps_chart(table, out / "calibration_gaps.png", tolerance),
            months_chart(table, out / "calibration_hydro_months.png"),
            pairs_chart(table, "export_twh", out / "calibration_exports.png", "TWh a year (received: negative)"),
            pairs_chart(table, "generation_twh", out / "calibration_generation.png", "TWh a year")]
    return [p for p in made if p is not None]
