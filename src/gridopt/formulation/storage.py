"""Pumped storage (storage units).

For every unit s and hour t: 0 <= charge <= p_nom_store, 0 <= discharge <= p_nom,
0 <= soc <= max_hours * p_nom (MWh), and hourly

    soc[t] = (1 - standing_loss) * soc[t-1] + efficiency_store * charge[t] - discharge[t] / efficiency_dispatch

with soc[-1] = soc[T-1] when cyclic_state_of_charge, else state_of_charge_initial. A carried state (rolling
horizons) replaces both, and a target may set a lower bound on soc at the last (or a given) hour.
Storage dynamics stay hourly whatever the snapshot weighting. Discharge costs marginal_cost per MWh (weighted).
"""

from __future__ import annotations

import numpy as np

from .context import Context, Term


def add_storage(ctx: Context) -> None:
    lp, T, w = ctx.lp, ctx.T, ctx.weights[:, None]
    su = ctx.net.active("storage_units")
    ctx.data["storage"] = su
    p_nom = su["p_nom"].to_numpy()
    p_store = su["p_nom_store"].fillna(su["p_nom"]).to_numpy()
    e_max = su["max_hours"].to_numpy() * p_nom
    ch = lp.add_variables("storage_charge", su.index, 0.0, p_store)
    dis = lp.add_variables("storage_discharge", su.index, 0.0, p_nom, w * su["marginal_cost"].to_numpy())
    soc_lo = np.zeros((T, len(su)))
    soc_lo[ctx.targets.at(T)] = np.minimum(ctx.pick(ctx.targets.soc_min_mwh, su.index, np.zeros(len(su))), e_max)
    soc = lp.add_variables("storage_soc", su.index, soc_lo, e_max)
    ctx.inject(ch, -1.0, su["bus"])
    ctx.inject(dis, 1.0, su["bus"])
    if len(su) == 0:
        return
    dt = ctx.dt  # (hours, 1)
    keep = (1.0 - su["standing_loss"].to_numpy())[None, :] ** dt  # (hours, units): kept over each snapshot
    given = np.array([n in ctx.state.soc_mwh for n in su.index], dtype=bool)
    cyclic = su["cyclic_state_of_charge"].to_numpy() & ~given  # a carried state replaces the cycle
    initial = ctx.pick(ctx.state.soc_mwh, su.index, su["state_of_charge_initial"].to_numpy())
    rhs = np.zeros((T, len(su)))
    rhs[0] = np.where(cyclic, 0.0, keep[0] * initial)
    rb = lp.add_constraint("storage_soc_balance", su.index,
                           [(soc, 1.0), (ch, -dt * su["efficiency_store"].to_numpy()),
                            (dis, dt / su["efficiency_dispatch"].to_numpy())], rhs, rhs)
    lp.add_coeffs(rb.idx[1:], soc.idx[:-1], -keep[1:])
    cyc = np.flatnonzero(cyclic)
    lp.add_coeffs(rb.idx[0, cyc], soc.idx[T - 1, cyc], -keep[0, cyc])
    if ctx.targets.soc_value_cny_per_mwh:  # terminal value of the energy left at the end (rolling windows)
        terminal = np.zeros((T, len(su)))
        terminal[-1] = -ctx.pick(ctx.targets.soc_value_cny_per_mwh, su.index, np.zeros(len(su)))
        lp.add_cost(soc, terminal)
    rmask = su["provides_reserve"].to_numpy()
    reg = ctx.region_pos(su["bus"][rmask])
    ctx.reserve.append(Term(dis.idx[:, rmask], -np.ones(rmask.sum()), reg))
    ctx.reserve_const.append((reg, np.broadcast_to(p_nom[rmask], (T, rmask.sum()))))
