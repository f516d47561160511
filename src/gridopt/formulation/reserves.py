"""Upward reserve per region.

For every region r with a reserve share (case.toml [reserves]) and hour t (MW):

    sum of headroom of providers in r  >=  share_r * load_r[t]

Headroom: committed capacity minus output for committable units; availability minus output for other
units that provide reserve; p_nom minus turbined output for reservoirs; p_nom minus discharge for storage
(the state of charge is not checked against the reserve: a stated simplification).
Constant parts of the headroom move to the right-hand side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .context import Context, Solved, long_table


@dataclass
class Reserves:
    regions: list[str]
    requirement_mw: np.ndarray  # (hours, regions)


def add_reserves(ctx: Context) -> None:
    shares = ctx.net.config["reserves"]
    regions = [r for r in ctx.regions if shares.get(r, 0.0) > 0]
    if not ctx.options.reserves or not regions:
        return
    lp, T = ctx.lp, ctx.T
    pos = np.array([ctx.regions.index(r) for r in regions])
    load = ctx.loads.total_mw
    bus_reg = ctx.region_pos(ctx.buses)
    req = np.stack([load[:, bus_reg == p].sum(axis=1) * shares[r] for p, r in zip(pos, regions)], axis=1)
    const = np.zeros((T, len(regions)))
    for key, values in ctx.reserve_const:
        for j, p in enumerate(pos):
            const[:, j] += values[:, key == p].sum(axis=1)
    rb = lp.add_rows("reserve", regions, req - const, np.inf)
    ctx.reserves = Reserves(regions, req)
    tt = np.arange(T)[:, None]
    lookup = np.full(len(ctx.regions) + 1, -1)
    lookup[pos] = np.arange(len(regions))
    for term in ctx.reserve:
        j = lookup[term.key]
        keep = j >= 0
        if not keep.any():
            continue
        rows = rb.start + tt * len(regions) + j[keep][None, :]
        lp.add_coeffs(rows, term.idx[:, keep], np.broadcast_to(term.coef, term.idx.shape)[:, keep])


def extract_reserves(ctx: Context, sv: Solved) -> pd.DataFrame:
    """Per region and hour: requirement, headroom provided, and price (the row's dual per MW and hour)."""
    if "reserve" not in sv.lp.rows:
        return pd.DataFrame(columns=["hour", "region", "requirement_mw", "provided_mw", "price_cny_per_mw"])
    rb = sv.lp.rows["reserve"]
    req = ctx.reserves.requirement_mw
    lower = rb.take(sv.lp.arrays()["row_lower"])
    act = sv.activity("reserve")
    act = np.full(req.shape, np.nan) if act is None else act
    return long_table(ctx.snapshots, rb.elements, "region", requirement_mw=req, provided_mw=act + (req - lower),
                      price_cny_per_mw=sv.row_price("reserve") / ctx.weights[:, None])
