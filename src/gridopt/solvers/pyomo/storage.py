"""Pumped storage in the twin."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from ...formulation.context import Context
from .record import Twin, add_capacity


def add_storage(tw: Twin, ctx: Context) -> None:
    """Charge, discharge and state of charge (MW, MWh) with efficiencies, standing loss, cyclic or given start.
    An extendable unit's capacity variable is its discharge rating; its charge rating follows in the ratio
    p_nom_store / p_nom and its energy is max_hours times it (rows).

    Mirrors gridopt.formulation.storage.
    """
    m, w, T = tw.m, ctx.weights, ctx.T
    su = ctx.net.active("storage_units")
    m.S = pyo.Set(initialize=list(su.index), ordered=True)
    store_max = {s: su.at[s, "p_nom_store"] if not np.isnan(su.at[s, "p_nom_store"]) else su.at[s, "p_nom"]
                 for s in su.index}  # pumping power: stated, else the turbine's
    cap = add_capacity(tw, "storage_units", su)
    # charge rating per MW of discharge rating; 1 where p_nom is 0 (no ratio stated)
    ratio = {s: store_max[s] / su.at[s, "p_nom"] if su.at[s, "p_nom"] > 0 else 1.0 for s in cap}
    m.storage_charge = pyo.Var(m.T, m.S, bounds=lambda m, t, s: (0, None) if s in cap else (0, store_max[s]))
    m.storage_discharge = pyo.Var(m.T, m.S, bounds=lambda m, t, s: (0, None) if s in cap
                                  else (0, su.at[s, "p_nom"]))
    m.storage_soc = pyo.Var(m.T, m.S, bounds=lambda m, t, s: (0, None) if s in cap
                            else (0, su.at[s, "max_hours"] * su.at[s, "p_nom"]))
    m.SX = pyo.Set(initialize=list(cap), ordered=True)
    m.storage_charge_max = pyo.Constraint(
        m.T, m.SX, rule=lambda m, t, s: m.storage_charge[t, s] <= ratio[s] * cap[s])
    m.storage_discharge_max = pyo.Constraint(
        m.T, m.SX, rule=lambda m, t, s: m.storage_discharge[t, s] <= cap[s])
    m.storage_soc_max = pyo.Constraint(
        m.T, m.SX, rule=lambda m, t, s: m.storage_soc[t, s] <= su.at[s, "max_hours"] * cap[s])

    def soc_rule(m, t, s):
        r = su.loc[s]
        keep = 1 - r["standing_loss"]
        prev = m.storage_soc[t - 1, s] if t > 0 else (m.storage_soc[T - 1, s] if r["cyclic_state_of_charge"]
                                                          else r["state_of_charge_initial"])
        return m.storage_soc[t, s] == keep * prev + r["efficiency_store"] * m.storage_charge[t, s] \
            - m.storage_discharge[t, s] / r["efficiency_dispatch"]
    m.storage_soc_balance = pyo.Constraint(m.T, m.S, rule=soc_rule)
    for s, r in su.iterrows():
        for t in range(T):
            tw.injections[t, r["bus"]].append(m.storage_discharge[t, s] - m.storage_charge[t, s])
            tw.cost.append(w[t] * r["marginal_cost"] * m.storage_discharge[t, s])
            if r["provides_reserve"]:
                rating = cap[s] if s in cap else r["p_nom"]
                tw.headroom[t, tw.bus_region[r["bus"]]].append(rating - m.storage_discharge[t, s])
