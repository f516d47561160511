"""Charts across runs: a sweep's cost and emissions against the carbon price (one line per combination of
the other varied keys), and the cost-emissions frontier of `gridopt pareto`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UsageError
from .common import figure, save

PRICE = "vary.carbon_price"


def frontier(table: pd.DataFrame, path: Path) -> Path:
    """The frontier: cost (M CNY) against emissions (kt), and the carbon shadow price at each point."""
    t = table[table["status"] == "optimal"]
    fig = figure(12, 5)
    left, right = fig.subplots(1, 2)
    left.plot(t["emissions_t"] / 1e3, t["cost_cny"] / 1e6, marker="o", color="C0")
    for _, r in t.iterrows():
        left.annotate(str(r["point"]), (r["emissions_t"] / 1e3, r["cost_cny"] / 1e6), fontsize=7,
                      xytext=(4, 4), textcoords="offset points")
    left.set_xlabel("CO2 emissions (kt)")
    left.set_ylabel("cost (M CNY)")
    left.set_title("Cost-emissions frontier (epsilon-constraint)")
    right.plot(t["emissions_t"] / 1e3, t["carbon_shadow_price_cny_per_t"], marker="s", color="C3")
    right.set_xlabel("CO2 emissions (kt)")
    right.set_ylabel("carbon shadow price (CNY/t)")
    right.set_title("Price of the emission cap")
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
    return save(fig, path)


def _x(table: pd.DataFrame) -> tuple[str, str]:
    if PRICE in table.columns:
        return PRICE, "carbon price (CNY/t)"
    if "carbon_price_cny_per_t" in table.columns:
        return "carbon_price_cny_per_t", "carbon price (CNY/t)"
    raise UsageError("the sweep holds no carbon price to draw against")


def against_carbon_price(table: pd.DataFrame, path: Path) -> Path:
    """Objective (M CNY) and in-region emissions (kt) of every run against its carbon price."""
    t = table[table["status"] == "optimal"].copy()
    xcol, xlabel = _x(t)
    t[xcol] = pd.to_numeric(t[xcol], errors="coerce")
    others = [c for c in t.columns if c.startswith("vary.") and c != xcol]
    groups = t.groupby(others, sort=False, dropna=False) if others else [((), t)]
    fig = figure(12, 5)
    left, right = fig.subplots(1, 2)
    for i, (key, g) in enumerate(groups):
        g = g.sort_values(xcol)
        key = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{c[5:]}={v}" for c, v in zip(others, key)) or "runs"
        left.plot(g[xcol], g["objective_cny"] / 1e6, marker="o", color=f"C{i % 10}", label=label)
        right.plot(g[xcol], g["emissions_t.system"] / 1e3, marker="o", color=f"C{i % 10}", label=label)
    left.set_ylabel("objective (M CNY)")
    left.set_title("Cost against the carbon price")
    right.set_ylabel("CO2 emissions in the regions (kt)")
    right.set_title("Emissions against the carbon price")
    for ax in (left, right):
        ax.set_xlabel(xlabel)
        ax.grid(True, alpha=0.3)
    left.legend(fontsize=8)
    return save(fig, path)


def plot_sweep(path: str | os.PathLike, out: str | os.PathLike | None = None) -> list[Path]:
    """The cross-run charts of a sweep folder (sweep.parquet) and of a frontier (pareto.parquet) in it."""
    d = Path(path)
    target = Path(out) if out is not None else d / "charts"
    files = []
    if (d / "sweep.parquet").is_file():
        table = pd.read_parquet(d / "sweep.parquet")
        if (table["status"] == "optimal").any():
            files.append(against_carbon_price(table, target / "sweep_carbon_price.png"))
    if (d / "pareto.parquet").is_file():
        files.append(frontier(pd.read_parquet(d / "pareto.parquet"), target / "pareto.png"))
    if not files and not np.any([(d / f).is_file() for f in ("sweep.parquet", "pareto.parquet")]):
        raise UsageError(f"{d}: neither a results folder (summary.json) nor a sweep (sweep.parquet, pareto.parquet)")
    return files
