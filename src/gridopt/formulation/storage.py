"""Pumped storage (storage units).

For every unit s and snapshot t (duration dt_t hours): 0 <= charge <= p_nom_store, 0 <= discharge <= p_nom,
0 <= soc <= max_hours * p_nom (MWh), and

    soc[t] = (1 - standing_loss)^dt_t * soc[t-1] + dt_t * (efficiency_store * charge[t] - discharge[t] / efficiency_dispatch)

with soc[-1] = soc[T-1] when cyclic_state_of_charge, else state_of_charge_initial. A carried state (rolling
horizons) replaces both, and a target may set a lower bound on soc at the last (or a given) hour. On
representative periods in the clustered mode every unit is cyclic within each period (`linking`).
Discharge costs marginal_cost per MWh (weighted).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..lp import COST, OTHER
from .capacity import add_capacity, add_ratings
from .context import Context, Solved, Term, long_table
from .linking import add_level_balance


@dataclass
class Storage:
    """The active storage units and their capacities."""

    table: pd.DataFrame
    p_nom_mw: np.ndarray  # discharge rating
    p_nom_store_mw: np.ndarray  # charge rating (p_nom where not given)
    e_nom_mwh: np.ndarray  # energy capacity, max_hours * p_nom

    @property
    def store_ratio(self) -> np.ndarray:
        """Charge rating per MW of discharge rating: p_nom_store / p_nom; 1 where p_nom is 0 (a unit built
        from nothing charges at its discharge rating)."""
        return np.divide(self.p_nom_store_mw, self.p_nom_mw, out=np.ones(len(self.p_nom_mw)), where=self.p_nom_mw > 0)


def add_storage(ctx: Context) -> None:
    lp, T, w = ctx.lp, ctx.T, ctx.weights[:, None]
    su = ctx.net.active("storage_units")
    p_nom = su["p_nom"].to_numpy()
    st = ctx.storage = Storage(su, p_nom, su["p_nom_store"].fillna(su["p_nom"]).to_numpy(),
                               su["max_hours"].to_numpy() * p_nom)
    cap = add_capacity(ctx, "storage_units", su)
    ch = lp.add_variables("storage_charge", su.index, 0.0, cap.free(st.p_nom_store_mw, np.inf))
    dis = lp.add_variables("storage_discharge", su.index, 0.0, cap.free(st.p_nom_mw, np.inf),
                           w * su["marginal_cost"].to_numpy(), label="operation_cny", kind=COST)
    soc_lo = np.zeros((T, len(su)))
    most = cap.free(st.e_nom_mwh, np.inf)[0]  # an extendable unit's target binds once it is built
    soc_lo[ctx.targets.at(T)] = np.minimum(ctx.pick(ctx.targets.soc_min_mwh, su.index, np.zeros(len(su))), most)
    soc = lp.add_variables("storage_soc", su.index, soc_lo, cap.free(st.e_nom_mwh, np.inf))
    # an extendable unit's charge rating and energy follow its power capacity in the table's ratios
    add_ratings(ctx, "storage_charge_max", cap, ch.idx, st.store_ratio)
    add_ratings(ctx, "storage_discharge_max", cap, dis.idx, 1.0)
    add_ratings(ctx, "storage_soc_max", cap, soc.idx, su["max_hours"].to_numpy())
    ctx.inject(ch, -1.0, su["bus"])
    ctx.inject(dis, 1.0, su["bus"])
    if len(su) == 0:
        return
    dt = ctx.dt  # (hours, 1)
    keep = (1.0 - su["standing_loss"].to_numpy())[None, :] ** dt  # (hours, units): kept over each snapshot
    given = np.array([n in ctx.state.soc_mwh for n in su.index], dtype=bool)
    cyclic = su["cyclic_state_of_charge"].to_numpy() & ~given  # a carried state replaces the cycle
    initial = ctx.pick(ctx.state.soc_mwh, su.index, su["state_of_charge_initial"].to_numpy())
    add_level_balance(ctx, "storage_soc_balance", soc, [(ch, -dt * su["efficiency_store"].to_numpy()),
                                                        (dis, dt / su["efficiency_dispatch"].to_numpy())],
                      keep, cyclic, initial)
    if ctx.targets.soc_value_cny_per_mwh:  # terminal value of the energy left at the end (rolling windows)
        terminal = np.zeros((T, len(su)))
        terminal[-1] = -ctx.pick(ctx.targets.soc_value_cny_per_mwh, su.index, np.zeros(len(su)))
        lp.add_cost(soc, terminal, "terminal_value_cny", OTHER)
    rmask = su["provides_reserve"].to_numpy()
    reg = ctx.region_pos(su["bus"][rmask])
    ctx.reserve.append(Term(dis.idx[:, rmask], -np.ones(rmask.sum()), reg))
    ri = np.flatnonzero(rmask)
    ctx.reserve_const.append((reg, cap.free(np.broadcast_to(st.p_nom_mw[rmask], (T, rmask.sum())), 0.0, ri)))
    grown = ri[cap.extendable[ri]]
    if len(grown):
        ctx.reserve.append(Term(cap.cap_idx(T, grown), np.ones(len(grown)), ctx.region_pos(su["bus"].iloc[grown])))


def extract_storage(ctx: Context, sv: Solved) -> pd.DataFrame:
    """Per unit and hour: charge, discharge, state of charge and its value (minus the balance's dual)."""
    su = ctx.storage.table
    soc = sv.value("storage_soc")
    value = -sv.row_price("storage_soc_balance") if "storage_soc_balance" in sv.lp.rows else np.full(soc.shape, np.nan)
    regions = ctx.net.tables["buses"]["region"]
    return long_table(ctx.snapshots, su.index, "unit", bus=su["bus"].to_numpy(),
                      region=regions.reindex(su["bus"]).to_numpy(), charge_mw=sv.value("storage_charge"),
                      discharge_mw=sv.value("storage_discharge"), soc_mwh=soc, soc_value_cny_per_mwh=value)
