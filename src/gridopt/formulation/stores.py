"""Stores: energy levels with one power variable free in sign (PyPSA's Store).

For every store s and snapshot t (duration dt_t hours, the `stores` weighting):

    e[t] = (1 - standing_loss)^dt_t * e[t-1] - dt_t * p[t]
    e_min_pu[t] * e_nom <= e[t] <= e_max_pu[t] * e_nom

p is the power the store gives its bus (negative while it charges), free in sign, and enters the bus's
balance as it is; e is the level in MWh, e[-1] = e[T-1] when e_cyclic, else e_initial (the level an hour
before the horizon, so the first snapshot's standing loss applies to it, as for storage units). A carried
state (rolling horizons) replaces both, and a target may set a lower bound on e at the last (or a given)
hour. On representative periods in the clustered mode every store is cyclic within each period (`linking`).

Costs per snapshot, weighted as every cost: marginal_cost * p (signed: charging earns it) and
marginal_cost_storage * e. An extendable store's capacity is e_nom (`capacity`): its level limits become
rows e[t] - e_max_pu[t] * cap <= 0 and e[t] - e_min_pu[t] * cap >= 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..lp import COST, OTHER
from .capacity import add_capacity, add_ratings
from .context import Context, Solved, long_table
from .linking import add_level_balance


@dataclass
class Stores:
    """The active stores, their capacities and level limits."""

    table: pd.DataFrame
    e_nom_mwh: np.ndarray  # (n,) existing energy capacity
    e_min_pu: np.ndarray  # (hours, n)
    e_max_pu: np.ndarray  # (hours, n)


def add_stores(ctx: Context) -> None:
    lp, T, w = ctx.lp, ctx.T, ctx.weights[:, None]
    st = ctx.net.active("stores")
    n = len(st)
    e_nom = st["e_nom"].to_numpy(dtype=float)
    lo_pu, hi_pu = ctx.series("e_min_pu", st.index), ctx.series("e_max_pu", st.index)
    ctx.stores = Stores(st, e_nom, lo_pu, hi_pu)
    cap = add_capacity(ctx, "stores", st)
    p = lp.add_variables("store_p", st.index, -np.inf, np.inf, w * st["marginal_cost"].to_numpy(dtype=float),
                         label="operation_cny", kind=COST)
    e_lo = cap.free(lo_pu * e_nom, 0.0)  # an extendable store's limits are rows (below); its level stays >= 0
    at = ctx.targets.at(T)  # an extendable store's target binds once it is built
    target = np.minimum(ctx.pick(ctx.targets.soc_min_mwh, st.index, np.zeros(n)), cap.free(hi_pu * e_nom, np.inf)[at])
    e_lo[at] = np.maximum(e_lo[at], target)
    e = lp.add_variables("store_e", st.index, e_lo, cap.free(hi_pu * e_nom, np.inf),
                         w * st["marginal_cost_storage"].to_numpy(dtype=float), label="operation_cny", kind=COST)
    add_ratings(ctx, "store_e_max", cap, e.idx, hi_pu)
    add_ratings(ctx, "store_e_min", cap, e.idx, lo_pu, upper=False, keep=(lo_pu > 0).any(axis=0))
    ctx.inject(p, 1.0, st["bus"])
    if n == 0:
        return
    dt = ctx.dt  # (hours, 1)
    keep = (1.0 - st["standing_loss"].to_numpy(dtype=float))[None, :] ** dt  # kept over each snapshot
    given = np.array([s in ctx.state.soc_mwh for s in st.index], dtype=bool)
    cyclic = st["e_cyclic"].to_numpy(dtype=bool) & ~given  # a carried state replaces the cycle
    initial = ctx.pick(ctx.state.soc_mwh, st.index, st["e_initial"].to_numpy(dtype=float))
    add_level_balance(ctx, "store_balance", e, [(p, dt)], keep, cyclic, initial)
    if ctx.targets.soc_value_cny_per_mwh:  # terminal value of the energy left at the end (rolling windows)
        terminal = np.zeros((T, n))
        terminal[-1] = -ctx.pick(ctx.targets.soc_value_cny_per_mwh, st.index, np.zeros(n))
        lp.add_cost(e, terminal, "terminal_value_cny", OTHER)


def extract_stores(ctx: Context, sv: Solved) -> pd.DataFrame:
    """Per store and snapshot: the power it gives its bus (negative while charging) and its level."""
    st = ctx.stores.table
    return long_table(ctx.snapshots, st.index, "store", bus=st["bus"].to_numpy(), p_mw=sv.value("store_p"),
                      e_mwh=sv.value("store_e"))
