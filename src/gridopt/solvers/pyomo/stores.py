"""Stores in the twin."""

from __future__ import annotations

import pyomo.environ as pyo

from ...formulation.context import Context
from .record import Twin, add_capacity


def add_stores(tw: Twin, ctx: Context) -> None:
    """Power given to the bus (free in sign, MW) and level (MWh) of every store: the level loses its standing
    loss per hour and falls by what the store gives, from the level before the first hour (e_initial) or, when
    cyclic, from the last hour's. The level lies within e_min_pu and e_max_pu times e_nom; an extendable
    store's e_nom is its capacity variable (rows). Costs: marginal_cost on the power, marginal_cost_storage
    on the level.

    Mirrors gridopt.formulation.stores.
    """
    m, w, T = tw.m, ctx.weights, ctx.T
    st = ctx.net.active("stores")
    m.STO = pyo.Set(initialize=list(st.index), ordered=True)
    lo = dict(zip(st.index, ctx.series("e_min_pu", st.index).T))  # store -> (hours,) pu
    hi = dict(zip(st.index, ctx.series("e_max_pu", st.index).T))
    cap = add_capacity(tw, "stores", st)
    dt = ctx.dt[:, 0]
    m.store_p = pyo.Var(m.T, m.STO, bounds=(None, None))
    m.store_e = pyo.Var(m.T, m.STO, bounds=lambda m, t, s: (0, None) if s in cap
                        else (lo[s][t] * st.at[s, "e_nom"], hi[s][t] * st.at[s, "e_nom"]))
    m.STX = pyo.Set(initialize=list(cap), ordered=True)
    m.store_e_max = pyo.Constraint(m.T, m.STX, rule=lambda m, t, s: m.store_e[t, s] - hi[s][t] * cap[s] <= 0)
    low = [s for s in cap if (lo[s] > 0).any()]
    m.STL = pyo.Set(initialize=low, ordered=True)
    m.store_e_min = pyo.Constraint(m.T, m.STL, rule=lambda m, t, s: m.store_e[t, s] - lo[s][t] * cap[s] >= 0)

    def balance(m, t, s):
        r = st.loc[s]
        keep = (1.0 - r["standing_loss"]) ** dt[t]
        if t > 0:
            before = m.store_e[t - 1, s]
        else:
            before = m.store_e[T - 1, s] if r["e_cyclic"] else r["e_initial"]
        return m.store_e[t, s] == keep * before - dt[t] * m.store_p[t, s]
    m.store_balance = pyo.Constraint(m.T, m.STO, rule=balance)
    for s, r in st.iterrows():
        for t in range(T):
            tw.injections[t, r["bus"]].append(m.store_p[t, s])
            tw.cost.append(w[t] * r["marginal_cost"] * m.store_p[t, s])
            if r["marginal_cost_storage"] != 0:
                tw.cost.append(w[t] * r["marginal_cost_storage"] * m.store_e[t, s])

