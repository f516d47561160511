"""The gas network in the twin (kcm, kcm/h; the case's tables in Mm3 and Mm3/h)."""

from __future__ import annotations

import pandas as pd
import pyomo.environ as pyo

from ...formulation.context import Context
from ...formulation.gas import _TIER
from ...units import KCM_PER_MM3
from .record import Twin, add_capacity, frame, gas_network_on

X = KCM_PER_MM3  # the tables give Mm3 and Mm3/h; the model counts kcm and kcm/h


def add_gas(tw: Twin, ctx: Context) -> None:
    """Supplies, pipelines with losses, underground storage, non-power demand with priced shed, and the gas
    balance at every node, which also carries what gas-fed generators burn (kcm/h). An extendable pipeline's
    capacity is a variable (kcm/h) and its reverse capacity follows in the table's ratio (rows).

    Mirrors gridopt.formulation.gas; nothing is added when the case has no gas network or it is switched off.
    """
    if not gas_network_on(ctx):
        return
    m, net = tw.m, ctx.net
    sup, pipes, stor = net.active("gas_supplies"), net.active("pipelines"), net.active("gas_storages")
    dem = net.tables["gas_demands"]
    m.GN = pyo.Set(initialize=list(net.tables["gas_nodes"].index), ordered=True)
    m.GS = pyo.Set(initialize=list(sup.index), ordered=True)
    m.GP = pyo.Set(initialize=list(pipes.index), ordered=True)
    m.GU = pyo.Set(initialize=list(stor.index), ordered=True)
    m.GD = pyo.Set(initialize=list(dem.index), ordered=True)
    m.gas_supply = pyo.Var(m.T, m.GS, bounds=lambda m, t, s: (sup.at[s, "min_mm3_per_h"] * X,
                                                              sup.at[s, "capacity_mm3_per_h"] * X))
    cap = add_capacity(tw, "pipelines", pipes, scale=X)
    m.pipe_fwd = pyo.Var(m.T, m.GP, bounds=lambda m, t, p: (0, None) if p in cap
                         else (0, pipes.at[p, "capacity_mm3_per_h"] * X))
    m.pipe_rev = pyo.Var(m.T, m.GP, bounds=lambda m, t, p: (0, None) if p in cap
                         else (0, pipes.at[p, "capacity_reverse_mm3_per_h"] * X))
    # reverse capacity per unit of capacity; 0 for a pipeline without forward capacity
    back = {p: pipes.at[p, "capacity_reverse_mm3_per_h"] / pipes.at[p, "capacity_mm3_per_h"]
            if pipes.at[p, "capacity_mm3_per_h"] > 0 else 0.0 for p in cap}
    m.GPX = pyo.Set(initialize=list(cap), ordered=True)
    m.pipe_capacity_fwd = pyo.Constraint(m.T, m.GPX, rule=lambda m, t, p: m.pipe_fwd[t, p] <= cap[p])
    m.pipe_capacity_rev = pyo.Constraint(m.T, m.GPX,
                                         rule=lambda m, t, p: m.pipe_rev[t, p] <= back[p] * cap[p])
    _add_gas_storage(tw, ctx, stor)
    demand = frame(ctx.series("gas_demand_mm3_per_h", dem.index) * X, dem.index)
    m.gas_shed = pyo.Var(m.T, m.GD, bounds=lambda m, t, d: (0, demand[t, d]))

    def gas_balance(m, t, n):
        return (sum(m.gas_supply[t, s] for s in sup.index[sup["node"] == n])
                + sum(pipes.at[p, "efficiency"] * m.pipe_fwd[t, p] - m.pipe_rev[t, p]
                      for p in pipes.index[pipes["node1"] == n])
                + sum(pipes.at[p, "efficiency"] * m.pipe_rev[t, p] - m.pipe_fwd[t, p]
                      for p in pipes.index[pipes["node0"] == n])
                + sum(m.gas_withdrawal[t, s] - m.gas_injection[t, s] for s in stor.index[stor["node"] == n])
                - sum(tw.gas_burn.get((t, n), []))
                + sum(m.gas_shed[t, d] for d in dem.index[dem["node"] == n])
                == sum(demand[t, d] for d in dem.index[dem["node"] == n]))
    m.gas_balance = pyo.Constraint(m.T, m.GN, rule=gas_balance)
    _add_gas_costs(tw, ctx, sup, pipes, stor, dem)


def _add_gas_storage(tw: Twin, ctx: Context, stor: pd.DataFrame) -> None:
    """Inventory moves by injection minus withdrawal; at the last hour it is back to the start (cyclic) or at
    least the stated final minimum. An extendable storage's working gas is a variable (kcm): the inventory
    stays below it and the injection and withdrawal rates follow it in the table's ratios (rows)."""
    m, T = tw.m, ctx.T
    ext = add_capacity(tw, "gas_storages", stor, scale=X)
    m.gas_injection = pyo.Var(m.T, m.GU, bounds=lambda m, t, s: (0, None) if s in ext
                              else (0, stor.at[s, "injection_max_mm3_per_h"] * X))
    m.gas_withdrawal = pyo.Var(m.T, m.GU, bounds=lambda m, t, s: (0, None) if s in ext
                               else (0, stor.at[s, "withdrawal_max_mm3_per_h"] * X))

    def inv_bounds(m, t, s):
        cap = None if s in ext else stor.at[s, "working_gas_mm3"] * X
        if t < T - 1:
            return (0, cap)
        low = stor.at[s, "inventory_initial_mm3"] if stor.at[s, "cyclic"] else stor.at[s, "inventory_final_min_mm3"]
        return (low * X if cap is None else min(low * X, cap), cap)
    m.gas_inventory = pyo.Var(m.T, m.GU, bounds=inv_bounds)
    m.GUX = pyo.Set(initialize=list(ext), ordered=True)
    # rates per hour and kcm of working gas, from the table
    working = stor["working_gas_mm3"]
    rate = {(s, col): stor.at[s, col] / working[s] if working[s] > 0 else 0.0
            for s in ext for col in ("injection_max_mm3_per_h", "withdrawal_max_mm3_per_h")}
    m.gas_injection_max = pyo.Constraint(m.T, m.GUX, rule=lambda m, t, s: m.gas_injection[t, s]
                                         <= rate[s, "injection_max_mm3_per_h"] * ext[s])
    m.gas_withdrawal_max = pyo.Constraint(m.T, m.GUX, rule=lambda m, t, s: m.gas_withdrawal[t, s]
                                          <= rate[s, "withdrawal_max_mm3_per_h"] * ext[s])
    m.gas_inventory_max = pyo.Constraint(m.T, m.GUX, rule=lambda m, t, s: m.gas_inventory[t, s] <= ext[s])
    m.gas_storage_balance = pyo.Constraint(m.T, m.GU, rule=lambda m, t, s: m.gas_inventory[t, s] == (
        m.gas_inventory[t - 1, s] if t > 0 else stor.at[s, "inventory_initial_mm3"] * X)
        + m.gas_injection[t, s] - m.gas_withdrawal[t, s])


def _add_gas_costs(tw: Twin, ctx: Context, sup: pd.DataFrame, pipes: pd.DataFrame, stor: pd.DataFrame,
                   dem: pd.DataFrame) -> None:
    """Supply, transport and withdrawal costs, and demand shed at its tier's penalty (CNY per kcm)."""
    m, w = tw.m, ctx.weights
    pen = ctx.net.config["penalties"]
    for t in range(ctx.T):
        tw.cost.append(w[t] * sum(sup.at[s, "cost_cny_per_kcm"] * m.gas_supply[t, s] for s in sup.index))
        tw.cost.append(w[t] * sum(pipes.at[p, "cost_cny_per_kcm"] * (m.pipe_fwd[t, p] + m.pipe_rev[t, p])
                                  for p in pipes.index))
        tw.cost.append(w[t] * sum(stor.at[s, "cost_cny_per_kcm"] * m.gas_withdrawal[t, s] for s in stor.index))
        tw.cost.append(w[t] * sum(pen[_TIER.get(dem.at[d, "kind"], "gas_shed_industry_cny_per_kcm")]
                                  * m.gas_shed[t, d] for d in dem.index))
