"""The natural-gas network: fields and imports, pipelines, underground storage, non-power demand.

Gas is carried in the LP in 1000 m3 (kcm) and kcm/h at China's reference conditions (20 C, 101.325 kPa);
the case's tables give Mm3 and Mm3/h (x 1000 on the way in). For every gas node n and hour t:

    sum supply + sum_p eff_p * in_p - sum_p out_p + withdrawal - injection - burn + shed = demand

where a pipeline p sends out_p (forward: node0 -> node1, up to capacity; reverse up to the reverse
capacity) and delivers efficiency * out_p, burn = sum over gas-fired units at n of p * heat_rate / LHV,
and shed is non-power demand not served, priced by tier (industry < export shortfall < residential, all
above power VOLL / heat rate so households are never cut to run a gas plant). Storage:
    inventory[t] = inventory[t-1] + injection[t] - withdrawal[t]   (hourly; inventory[-1] = initial)
with inventory[T-1] = initial when cyclic, else >= inventory_final_min_mm3. The balance dual divided by
the weighting is the gas price (CNY per 1000 m3).
"""

from __future__ import annotations

import numpy as np

from ..units import KCM_PER_MM3
from .context import Context

_TIER = {"residential": "gas_shed_residential_cny_per_kcm", "industry": "gas_shed_industry_cny_per_kcm",
         "export": "gas_export_shortfall_cny_per_kcm"}


def add_gas(ctx: Context) -> None:
    net = ctx.net
    if not ctx.options.gas or len(net.tables["gas_nodes"]) == 0:
        return
    lp, T, w = ctx.lp, ctx.T, ctx.weights[:, None]
    nodes = net.tables["gas_nodes"].index
    nn = len(nodes)
    sup = net.active("gas_supplies")
    pipes = net.active("pipelines")
    stor = net.active("gas_storages")
    dem = net.tables["gas_demands"]
    ctx.data.update(gas_supplies=sup, pipelines=pipes, gas_storages=stor, gas_demands=dem)
    terms = []  # (var idx (T, n), coef, node position (n,))

    s = lp.add_variables("gas_supply", sup.index, sup["min_mm3_per_h"].to_numpy() * KCM_PER_MM3,
                         sup["capacity_mm3_per_h"].to_numpy() * KCM_PER_MM3, w * sup["cost_cny_per_kcm"].to_numpy())
    terms.append((s.idx, 1.0, nodes.get_indexer(sup["node"])))

    tariff = pipes["cost_cny_per_kcm"].to_numpy()
    eff = pipes["efficiency"].to_numpy()
    fwd = lp.add_variables("pipe_fwd", pipes.index, 0.0, pipes["capacity_mm3_per_h"].to_numpy() * KCM_PER_MM3, w * tariff)
    rev = lp.add_variables("pipe_rev", pipes.index, 0.0,
                           pipes["capacity_reverse_mm3_per_h"].to_numpy() * KCM_PER_MM3, w * tariff)
    n0, n1 = nodes.get_indexer(pipes["node0"]), nodes.get_indexer(pipes["node1"])
    terms += [(fwd.idx, -1.0, n0), (fwd.idx, eff, n1), (rev.idx, -1.0, n1), (rev.idx, eff, n0)]

    inj = lp.add_variables("gas_injection", stor.index, 0.0, stor["injection_max_mm3_per_h"].to_numpy() * KCM_PER_MM3)
    wd = lp.add_variables("gas_withdrawal", stor.index, 0.0, stor["withdrawal_max_mm3_per_h"].to_numpy() * KCM_PER_MM3,
                          w * stor["cost_cny_per_kcm"].to_numpy())
    cap = stor["working_gas_mm3"].to_numpy() * KCM_PER_MM3
    init = ctx.pick(ctx.state.gas_inventory_mm3, stor.index, stor["inventory_initial_mm3"].to_numpy()) * KCM_PER_MM3
    final = np.where(stor["cyclic"].to_numpy(), init, stor["inventory_final_min_mm3"].to_numpy() * KCM_PER_MM3)
    lo = np.zeros((T, len(stor)))
    given = {k: v * KCM_PER_MM3 for k, v in ctx.targets.gas_inventory_min_mm3.items()}
    aimed = stor.index.isin(list(given))
    lo[-1] = np.where(aimed, 0.0, np.minimum(final, cap))  # explicit targets replace the case's final minimum
    at = ctx.targets.at(T)
    lo[at] = np.maximum(lo[at], np.where(aimed, np.minimum(ctx.pick(given, stor.index, final), cap), 0.0))
    inv = lp.add_variables("gas_inventory", stor.index, lo, cap)
    if len(stor):
        rhs = np.zeros((T, len(stor)))
        rhs[0] = init
        rb = lp.add_constraint("gas_storage_balance", stor.index, [(inv, 1.0), (inj, -ctx.dt), (wd, ctx.dt)], rhs, rhs)
        lp.add_coeffs(rb.idx[1:], inv.idx[:-1], -1.0)
    sn = nodes.get_indexer(stor["node"])
    terms += [(wd.idx, 1.0, sn), (inj.idx, -1.0, sn)]

    demand = ctx.series("gas_demand_mm3_per_h", dem.index) * KCM_PER_MM3
    pen = np.array([ctx.penalty(_TIER.get(k, "gas_shed_industry_cny_per_kcm")) for k in dem["kind"]])
    shed = lp.add_variables("gas_shed", dem.index, 0.0, demand, w * pen)
    dn = nodes.get_indexer(dem["node"])
    terms.append((shed.idx, 1.0, dn))
    node_demand = np.zeros((T, nn))
    np.add.at(node_demand, (slice(None), dn), demand)
    ctx.data["gas_demand"] = demand

    for b in ctx.gas_burn:
        terms.append((b.idx, -np.asarray(b.coef), b.key))
    rb = lp.add_rows("gas_balance", nodes, node_demand, node_demand)
    tt = np.arange(T)[:, None]
    for idx, coef, key in terms:
        if idx.size:
            lp.add_coeffs(rb.start + tt * nn + key[None, :], idx, np.broadcast_to(coef, idx.shape))
