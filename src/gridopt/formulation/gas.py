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

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..lp import COST, PENALTY
from ..units import KCM_PER_MM3 as X
from .capacity import add_capacity, add_ratings
from .context import Context, Solved, long_table
from .linking import clustered, link_levels, previous

_TIER = {"residential": "gas_shed_residential_cny_per_kcm", "industry": "gas_shed_industry_cny_per_kcm",
         "export": "gas_export_shortfall_cny_per_kcm"}


@dataclass
class GasSystem:
    """The gas network's elements (active), their capacities in kcm and kcm/h, and non-power demand."""

    nodes: pd.Index
    supplies: pd.DataFrame
    pipelines: pd.DataFrame
    storages: pd.DataFrame
    demands: pd.DataFrame
    demand_kcm_per_h: np.ndarray  # (hours, demands)
    working_gas_kcm: np.ndarray  # storage capacity
    shed_penalty_cny_per_kcm: np.ndarray  # by demand, from its kind


def tier_penalty(ctx: Context, kinds) -> np.ndarray:
    """CNY per kcm of non-power gas demand not served, by the demand's kind (industry when unknown)."""
    return np.array([ctx.penalty(_TIER.get(k, "gas_shed_industry_cny_per_kcm")) for k in kinds], dtype=float)


def add_gas(ctx: Context) -> None:
    net = ctx.net
    if not ctx.options.gas or len(net.tables["gas_nodes"]) == 0:
        return
    lp, w = ctx.lp, ctx.weights[:, None]
    sup, pipes, stor = (net.active(k) for k in ("gas_supplies", "pipelines", "gas_storages"))
    dem = net.tables["gas_demands"]
    gas = ctx.gas = GasSystem(net.tables["gas_nodes"].index, sup, pipes, stor, dem,
                              ctx.series("gas_demand_mm3_per_h", dem.index) * X, stor["working_gas_mm3"].to_numpy() * X,
                              tier_penalty(ctx, dem["kind"]))
    terms = []  # (var idx (T, n), coef, node position (n,))
    node_of = gas.nodes.get_indexer

    s = lp.add_variables("gas_supply", sup.index, sup["min_mm3_per_h"].to_numpy() * X,
                         sup["capacity_mm3_per_h"].to_numpy() * X, w * sup["cost_cny_per_kcm"].to_numpy(),
                         label="gas_supply_cny", kind=COST)
    terms.append((s.idx, 1.0, node_of(sup["node"])))

    tariff = pipes["cost_cny_per_kcm"].to_numpy()
    eff = pipes["efficiency"].to_numpy()
    cap = add_capacity(ctx, "pipelines", pipes, scale=X)
    fmax, rmax = pipes["capacity_mm3_per_h"].to_numpy(), pipes["capacity_reverse_mm3_per_h"].to_numpy()
    fwd = lp.add_variables("pipe_fwd", pipes.index, 0.0, cap.free(fmax * X, np.inf), w * tariff,
                           label="gas_transport_cny", kind=COST)
    rev = lp.add_variables("pipe_rev", pipes.index, 0.0, cap.free(rmax * X, np.inf), w * tariff,
                           label="gas_transport_cny", kind=COST)
    # an extendable pipeline's reverse capacity follows its capacity in the table's ratio
    add_ratings(ctx, "pipe_capacity_fwd", cap, fwd.idx, 1.0)
    add_ratings(ctx, "pipe_capacity_rev", cap, rev.idx, np.divide(rmax, fmax, out=np.zeros(len(fmax)), where=fmax > 0))
    n0, n1 = node_of(pipes["node0"]), node_of(pipes["node1"])
    terms += [(fwd.idx, -1.0, n0), (fwd.idx, eff, n1), (rev.idx, -1.0, n1), (rev.idx, eff, n0)]

    inj, wd = _add_gas_storage(ctx)
    sn = node_of(stor["node"])
    terms += [(wd.idx, 1.0, sn), (inj.idx, -1.0, sn)]

    shed = lp.add_variables("gas_shed", dem.index, 0.0, gas.demand_kcm_per_h, w * gas.shed_penalty_cny_per_kcm,
                            label="gas_shed_cny", kind=PENALTY)
    dn = node_of(dem["node"])
    terms.append((shed.idx, 1.0, dn))
    node_demand = np.zeros((ctx.T, len(gas.nodes)))
    np.add.at(node_demand, (slice(None), dn), gas.demand_kcm_per_h)
    for b in ctx.gas_burn:
        terms.append((b.idx, -np.asarray(b.coef), b.key))
    rb = lp.add_rows("gas_balance", gas.nodes, node_demand, node_demand)
    tt = np.arange(ctx.T)[:, None]
    for idx, coef, key in terms:
        if idx.size:
            lp.add_coeffs(rb.start + tt * len(gas.nodes) + key[None, :], idx, np.broadcast_to(coef, idx.shape))


def _add_gas_storage(ctx: Context):
    """Injection, withdrawal and inventory of underground storage, with its balance and end conditions."""
    lp, T, w, gas = ctx.lp, ctx.T, ctx.weights[:, None], ctx.gas
    stor = gas.storages
    e = add_capacity(ctx, "gas_storages", stor, scale=X)
    imax, wmax = stor["injection_max_mm3_per_h"].to_numpy(), stor["withdrawal_max_mm3_per_h"].to_numpy()
    inj = lp.add_variables("gas_injection", stor.index, 0.0, e.free(imax * X, np.inf))
    wd = lp.add_variables("gas_withdrawal", stor.index, 0.0, e.free(wmax * X, np.inf),
                          w * stor["cost_cny_per_kcm"].to_numpy(), label="gas_storage_cny", kind=COST)
    # an extendable storage's rates follow its working gas in the table's ratios (per hour)
    per = np.divide(1.0, stor["working_gas_mm3"].to_numpy(), out=np.zeros(len(stor)),
                    where=stor["working_gas_mm3"].to_numpy() > 0)
    add_ratings(ctx, "gas_injection_max", e, inj.idx, imax * per)
    add_ratings(ctx, "gas_withdrawal_max", e, wd.idx, wmax * per)
    cap = e.free(gas.working_gas_kcm, np.inf)[0]
    init = ctx.pick(ctx.state.gas_inventory_mm3, stor.index, stor["inventory_initial_mm3"].to_numpy()) * X
    final = np.where(stor["cyclic"].to_numpy(), init, stor["inventory_final_min_mm3"].to_numpy() * X)
    lo = np.zeros((T, len(stor)))
    linked = clustered(ctx) is not None and len(stor) > 0  # the year's end condition holds on linked levels
    given = {k: v * X for k, v in ctx.targets.gas_inventory_min_mm3.items()}
    aimed = stor.index.isin(list(given))
    if not linked:
        lo[-1] = np.where(aimed, 0.0, np.minimum(final, cap))  # explicit targets replace the case's final minimum
    at = ctx.targets.at(T)
    lo[at] = np.maximum(lo[at], np.where(aimed, np.minimum(ctx.pick(given, stor.index, final), cap), 0.0))
    inv = lp.add_variables("gas_inventory", stor.index, lo, cap)
    add_ratings(ctx, "gas_inventory_max", e, inv.idx, 1.0)
    if len(stor):
        rhs = np.zeros((T, len(stor)))
        if not linked:
            rhs[0] = init
        rb = lp.add_constraint("gas_storage_balance", stor.index, [(inv, 1.0), (inj, -ctx.dt), (wd, ctx.dt)], rhs, rhs)
        prev = previous(ctx)
        has = prev >= 0
        lp.add_coeffs(rb.idx[has], inv.idx[prev[has]], -1.0)
    if linked:
        lv = link_levels(ctx, "gas", inv, rb, 0.0, cap, init)
        add_ratings(ctx, "gas_period_start_max", e, lv.start.idx, 1.0)
        add_ratings(ctx, "gas_level_max", e, lv.level.idx, 1.0)
        end = lp.add_rows("gas_final_level", stor.index, final, np.where(stor["cyclic"].to_numpy(), init, np.inf),
                          hours=1)
        lp.add_coeffs(end.idx[0], lv.level.idx[-1], 1.0)
    return inj, wd


GAS_COLUMNS = ["hour", "node", "supply_mm3_per_h", "pipeline_in_mm3_per_h", "pipeline_out_mm3_per_h",
               "storage_injection_mm3_per_h", "storage_withdrawal_mm3_per_h", "inventory_mm3", "power_burn_mm3_per_h",
               "other_demand_mm3_per_h", "shed_mm3_per_h", "price_cny_per_kcm"]


def extract_gas(ctx: Context, sv: Solved) -> tuple[pd.DataFrame, dict]:
    """Per gas node and hour: every term of the gas balance (Mm3/h), inventory (Mm3) and price (CNY per
    1000 m3); and the horizon's totals (Mm3, weighted)."""
    gas, T = ctx.gas, ctx.T
    if gas is None or "gas_balance" not in sv.lp.rows:
        return pd.DataFrame(columns=GAS_COLUMNS), {}
    V = lambda name: sv.value(name) / X

    def at_nodes(values: np.ndarray, node_names) -> np.ndarray:
        out = np.zeros((T, len(gas.nodes)))
        np.add.at(out, (slice(None), gas.nodes.get_indexer(pd.Index(node_names))), values)
        return out
    sup, pipes, stor, dem = gas.supplies, gas.pipelines, gas.storages, gas.demands
    s, fwd, rev = V("gas_supply"), V("pipe_fwd"), V("pipe_rev")
    inj, wd, inv, shed = V("gas_injection"), V("gas_withdrawal"), V("gas_inventory"), V("gas_shed")
    eff = pipes["efficiency"].to_numpy()
    burn = np.zeros((T, len(gas.nodes)))
    for b in ctx.gas_burn:
        np.add.at(burn, (slice(None), b.key), sv.x[b.idx] * b.coef / X)
    demand = gas.demand_kcm_per_h / X
    table = long_table(ctx.snapshots, gas.nodes, "node", supply_mm3_per_h=at_nodes(s, sup["node"]),
                       pipeline_in_mm3_per_h=at_nodes(eff * fwd, pipes["node1"]) + at_nodes(eff * rev, pipes["node0"]),
                       pipeline_out_mm3_per_h=at_nodes(fwd, pipes["node0"]) + at_nodes(rev, pipes["node1"]),
                       storage_injection_mm3_per_h=at_nodes(inj, stor["node"]),
                       storage_withdrawal_mm3_per_h=at_nodes(wd, stor["node"]), inventory_mm3=at_nodes(inv, stor["node"]),
                       power_burn_mm3_per_h=burn, other_demand_mm3_per_h=at_nodes(demand, dem["node"]),
                       shed_mm3_per_h=at_nodes(shed, dem["node"]),
                       price_cny_per_kcm=sv.row_price("gas_balance") / ctx.weights[:, None])
    w1 = ctx.weights
    wm = lambda a: float((w1 @ a).sum())
    totals = {"supply_mm3": {n: wm(s[:, i]) for i, n in enumerate(sup.index)},
              "storage_withdrawn_mm3": wm(wd), "storage_injected_mm3": wm(inj), "power_burn_mm3": wm(burn),
              "other_demand_mm3": wm(demand), "shed_mm3": wm(shed),
              "shed_by_kind_mm3": {k: wm(shed[:, (dem["kind"] == k).to_numpy()]) for k in sorted(set(dem["kind"]))},
              "inventory_end_mm3": {n: float(inv[-1, i]) for i, n in enumerate(stor.index)},
              "mean_price_cny_per_kcm": float(np.average(table["price_cny_per_kcm"],
                                                         weights=np.maximum(table["power_burn_mm3_per_h"]
                                                                            + table["other_demand_mm3_per_h"], 1e-12)))}
    return table, totals
