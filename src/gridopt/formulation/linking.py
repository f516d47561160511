"""Stores across representative periods: chained, cyclic within a period, or linked in calendar order.

On a network of representative periods (`gridopt.periods`) in the ``clustered`` storage mode, short-term
storage (pumped storage, batteries, and every element of the stores table) is cyclic within each
representative period, and seasonal stores (reservoirs, gas storage) are linked across the year in calendar order (Kotzur et al. 2018). For a store
with level x[t] over the representative snapshots, each representative period c gets a start level x0[c]
(the level just before its first hour, from which its own balance runs), and the year a sequence of levels
S[n] at the end of each of its periods n = 0..N-1, S[-1] being the initial level:

    S[n] = S[n-1] + (x[last hour of c(n)] - x0[c(n)])       (what representative c(n) adds or takes)
    lo <= S[n] <= hi,  lo <= x0[c], x[t] <= hi

where c(n) is the representative standing for period n. Levels are bounded at every period's end and along
each representative's own trajectory, not at every hour of the year: a period's swing within the day or
week is taken to fit where its representative's does (a simplification of Kotzur's bounds, stated).
In the ``chained`` mode, and on any other network, every store runs through the snapshots in their order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..lp import Block
from .context import Context


@dataclass
class Linked:
    """A store linked across the year: each representative's start level and the year's period-end levels."""

    start: Block  # (representatives, stores)
    level: Block  # (periods of the year, stores)


def clustered(ctx: Context):
    """The network's representative periods when stores are cyclic or linked per period, else None."""
    p = ctx.net.periods
    return p if p is not None and p.storage == "clustered" else None


def previous(ctx: Context) -> np.ndarray:
    """(hours,) the snapshot each snapshot's store balance follows: t - 1, and -1 where there is none (the
    first snapshot; in the clustered mode, the first snapshot of every representative period)."""
    prev = np.arange(ctx.T) - 1
    p = clustered(ctx)
    if p is not None:
        prev[p.starts()] = -1
    return prev


def add_level_balance(ctx: Context, name: str, level: Block, terms: list, keep: np.ndarray, cyclic: np.ndarray,
                      initial: np.ndarray) -> Block:
    """Rows ``level[t] - keep[t] * level[t-1] + sum(terms) = 0`` of a store (pumped storage, a Store): the level
    before the first snapshot is the last one where `cyclic`, else `initial` (times keep[0]); on representative
    periods in the clustered mode every period is cyclic on its own. `terms` as `lp.add_constraint` takes them,
    `keep` (hours, stores) the share kept over each snapshot (standing loss)."""
    lp, T = ctx.lp, ctx.T
    rhs = np.zeros((T, level.n))
    per = clustered(ctx)
    if per is None:
        rhs[0] = np.where(cyclic, 0.0, keep[0] * initial)
    rb = lp.add_constraint(name, level.elements, [(level, 1.0), *terms], rhs, rhs)
    lp.add_coeffs(rb.idx[1:], level.idx[:-1], -keep[1:])
    if per is None:
        cyc = np.flatnonzero(cyclic)
        lp.add_coeffs(rb.idx[0, cyc], level.idx[T - 1, cyc], -keep[0, cyc])
    else:
        first = per.starts()
        lp.add_coeffs(rb.idx[first[1:]], level.idx[first[1:] - 1], keep[first[1:]])  # undo the chain across periods
        lp.add_coeffs(rb.idx[first], level.idx[first + per.hours - 1], -keep[first])
    return rb


def period_ends(ctx: Context) -> np.ndarray:
    """(hours,) in the clustered mode, the last snapshot of each snapshot's representative period."""
    p = clustered(ctx)
    return (np.arange(ctx.T) // p.hours) * p.hours + p.hours - 1


def calendar(ctx: Context, series: str, names: pd.Index) -> np.ndarray | None:
    """(periods of the year, names) values of a volume series at the last hour of each period, or None."""
    cal = ctx.net.periods.calendar.get(series)
    if cal is None:
        return None
    cols = [n for n in names if n in cal.columns]
    if not cols:
        return None
    return cal.reindex(columns=names).to_numpy(dtype=float)


def link_levels(ctx: Context, prefix: str, x: Block, balance: Block, lo, hi, initial) -> Linked:
    """Start levels of each representative (entering `balance`, the store's balance rows, at each period's
    first snapshot with coefficient -1, as x[t-1] does elsewhere) and the year's linked sequence of levels.
    `lo`, `hi` (per store) bound both; `initial` is the level before the year."""
    p = ctx.net.periods
    lp = ctx.lp
    names = x.elements
    n = len(names)
    lo = np.broadcast_to(np.asarray(lo, float), (n,))
    hi = np.broadcast_to(np.asarray(hi, float), (n,))
    x0 = lp.add_variables(f"{prefix}_period_start", names, lo, hi, hours=p.count)
    N = len(p.sequence)
    S = lp.add_variables(f"{prefix}_level", names, lo, hi, hours=N)
    starts = p.starts()
    lp.add_coeffs(balance.idx[starts], x0.idx, -1.0)
    # S[n] - S[n-1] - x[end of c(n)] + x0[c(n)] = 0, with S[-1] the initial level on the right-hand side
    rhs = np.zeros((N, n))
    rhs[0] = initial
    rb = lp.add_rows(f"{prefix}_level_balance", names, rhs, rhs, hours=N)
    seq = np.asarray(p.sequence)
    lp.add_coeffs(rb.idx, S.idx, 1.0)
    lp.add_coeffs(rb.idx[1:], S.idx[:-1], -1.0)
    lp.add_coeffs(rb.idx, x.idx[starts[seq] + p.hours - 1], -1.0)
    lp.add_coeffs(rb.idx, x0.idx[seq], 1.0)
    return Linked(x0, S)


def period_weights(ctx: Context) -> np.ndarray:
    """(periods of the year, 1) hours each period of the year stands for (its length, with the year's left-over
    hours spread over all periods as the representatives' weights are)."""
    p = ctx.net.periods
    return np.full((len(p.sequence), 1), p.represented_hours / len(p.sequence))


def extract_levels(ctx: Context, sv) -> pd.DataFrame:
    """Representative periods, clustered: the year's linked levels at the end of every period, in calendar
    order (reservoirs in hm3, gas storage in Mm3), with the representative each period took."""
    cols = ["period_end", "store", "kind", "representative", "level_hm3", "level_mm3"]
    p = clustered(ctx)
    if p is None:
        return pd.DataFrame(columns=cols)
    from ..units import KCM_PER_MM3
    ends = next(iter(p.calendar.values())).index if p.calendar else \
        pd.RangeIndex(len(p.sequence))
    frames = []
    for prefix, kind, scale, col in (("hydro", "reservoir", 1.0, "level_hm3"), ("gas", "gas_storage", KCM_PER_MM3,
                                                                               "level_mm3")):
        name = f"{prefix}_level"
        if not sv.has(name):
            continue
        S = sv.value(name) / scale
        names = sv.lp.variables[name].elements
        frames.append(pd.DataFrame({"period_end": np.repeat(np.asarray(ends), len(names)),
                                    "store": np.tile(np.asarray(names, dtype=object), len(ends)), "kind": kind,
                                    "representative": np.repeat(np.asarray(p.sequence), len(names)),
                                    col: S.ravel()}))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    return out.reindex(columns=cols)


def extract_year(ctx: Context, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Representative periods mapped back onto the year: for every period of the year in calendar order, the
    energy of its representative by region and carrier (MWh in that period), its CO2 (t), and the region's
    load and shed as carriers 'load' and 'shed'. Sums over the year equal the summary's annual figures."""
    cols = ["period_start", "representative", "region", "carrier", "energy_mwh", "co2_t"]
    p = ctx.net.periods
    if p is None:
        return pd.DataFrame(columns=cols)
    scale = p.represented_hours / (len(p.sequence) * p.hours)  # left-over hours spread over every period
    rep_of = pd.Series(np.arange(ctx.T) // p.hours, index=ctx.snapshots)
    g, pr = tables["generation"], tables["prices"]
    gen = g.assign(rep=g["hour"].map(rep_of)).groupby(["rep", "region", "carrier"])[["p_mw", "co2_t"]].sum()
    gen = gen.rename(columns={"p_mw": "energy_mwh"}).reset_index()
    inside = pr[pr["region"].isin(ctx.regions)].assign(rep=lambda d: d["hour"].map(rep_of))
    load = inside.groupby(["rep", "region"])[["load_mw", "shed_mw"]].sum().reset_index()
    extra = [load.assign(carrier=c, energy_mwh=load[col], co2_t=0.0)[["rep", "region", "carrier", "energy_mwh",
                                                                      "co2_t"]]
             for c, col in (("load", "load_mw"), ("shed", "shed_mw"))]
    per_rep = pd.concat([gen, *extra], ignore_index=True)
    start = pd.DatetimeIndex(p.calendar_starts)
    year = pd.DataFrame({"period": np.arange(len(p.sequence)), "rep": np.asarray(p.sequence)})
    out = year.merge(per_rep, on="rep", how="left")
    out["energy_mwh"] *= scale * ctx.dt[0, 0]
    out["co2_t"] *= scale * ctx.dt[0, 0]
    out["period_start"] = start[out["period"].to_numpy()]
    return out.rename(columns={"rep": "representative"}).reindex(columns=cols)
