"""Who pays and who gains: the objective split by region, term by term.

Every cost term of the LP is kept element by element (`lp.CostTerm`), so the objective splits exactly by
the region each element belongs to, and the regions' parts add up to the objective:

- units, storage, stores, reservoirs, load and shed at a bus: the bus's region; gas supplies, storages and demands:
  their gas node's region ('system' at external gas nodes: pipeline imports feed both regions' network);
- a line, transformer, link or pipeline joining two regions: half to each (its investment and its tariffs
  alike: a shared corridor is paid for by both ends, the simplest neutral rule);
- a market or unit at an external bus: the region its power can enter (`emissions.importers`: the one
  rule for imports), or the region that sends power there (an export terminal); 'system' where several;
- fixed parts registered without elements, and anything else: 'system'.

Beside costs, each region's load payments (load served x its price) and generators' revenues (output x
price) tell who gains from a corridor: prices fall where it brings power and rise where it takes it from.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from .formulation.context import Context
from .network import EXTERNAL, Network

SYSTEM = "system"


def element_regions(net: Network) -> dict[str, dict[str, float]]:
    """Each element name -> {region: share} (shares add up to 1)."""
    from .formulation.emissions import importers
    bus = net.tables["buses"]["region"].to_dict()
    # gas bought at external nodes (imports by pipeline) is the system's: it feeds both regions' gas network
    node = {n: SYSTEM if r == EXTERNAL else r for n, r in net.tables["gas_nodes"]["region"].items()}
    ext_to = importers(net).to_dict()
    # export terminals: external buses fed from a single region
    senders: defaultdict[str, set[str]] = defaultdict(set)
    for comp in ("lines", "transformers", "links"):
        t = net.active(comp)
        for b0, b1 in zip(t["bus0"], t["bus1"], strict=True):
            for a, b in ((b0, b1), (b1, b0)):
                if bus.get(b) == EXTERNAL and bus.get(a) not in (EXTERNAL, None):
                    senders[b].add(bus[a])
    for b, regions in senders.items():
        ext_to.setdefault(b, next(iter(regions)) if len(regions) == 1 else SYSTEM)

    def at_bus(b: str) -> str:
        r = bus.get(b, SYSTEM)
        return ext_to.get(b, SYSTEM) if r == EXTERNAL else r

    out: dict[str, dict[str, float]] = {b: {at_bus(b): 1.0} for b in bus}
    for comp in ("generators", "storage_units", "stores", "reservoirs", "markets"):
        for name, b in net.tables[comp]["bus"].items():
            out[name] = {at_bus(b): 1.0}
    for comp in ("lines", "transformers", "links"):
        for name, b0, b1 in zip(net.tables[comp].index, net.tables[comp]["bus0"], net.tables[comp]["bus1"],
                                strict=True):
            out[name] = _halves(at_bus(b0), at_bus(b1))
    for comp in ("gas_supplies", "gas_storages", "gas_demands"):
        for name, n in net.tables[comp]["node"].items():
            out[name] = {node.get(n, SYSTEM): 1.0}
    for name, n0, n1 in zip(net.tables["pipelines"].index, net.tables["pipelines"]["node0"],
                            net.tables["pipelines"]["node1"], strict=True):
        out[name] = _halves(node.get(n0, SYSTEM), node.get(n1, SYSTEM))
    return out


def _halves(a: str, b: str) -> dict[str, float]:
    return {a: 1.0} if a == b else {a: 0.5, b: 0.5}


def objective_by_region(ctx: Context, x: np.ndarray) -> dict[str, dict[str, float]]:
    """CNY by region and kind of objective term (cost, penalty, investment, other): adds up to the objective."""
    share = element_regions(ctx.net)
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for t in ctx.lp.costs:
        per = np.zeros(0) if t.block is None else (t.coef * t.block.take(x)).sum(axis=0)
        if t.constant is not None and t.constant.ndim == 2:
            per = per + t.constant.sum(axis=0)
        elif t.constant is not None:
            out[SYSTEM][t.kind] += float(t.constant.sum())
        if t.block is None:
            continue
        for name, v in zip(t.block.elements, per, strict=True):
            for region, f in share.get(name, {SYSTEM: 1.0}).items():
                out[region][t.kind] += f * float(v)
    return {r: dict(v) for r, v in out.items()}


def region_accounts(ctx: Context, x: np.ndarray, tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Summary key `by_region`: per region (and 'system'), the objective's parts (CNY), their total, and
    load payments and generators' revenues at the regions' prices (CNY)."""
    parts = objective_by_region(ctx, x)
    w = pd.Series(ctx.weights, index=ctx.snapshots)
    pr, gen = tables["prices"], tables["generation"]
    price = pr.set_index(["hour", "bus"])["price_cny_per_mwh"]
    pay = (pr["load_mw"] - pr["shed_mw"]) * pr["price_cny_per_mwh"] * pr["hour"].map(w)
    g_price = price.reindex(pd.MultiIndex.from_arrays([gen["hour"], gen["bus"]])).to_numpy()
    rev = gen["p_mw"].to_numpy() * g_price * gen["hour"].map(w).to_numpy()
    out = {}
    for region in [*ctx.regions, *sorted(set(parts) - set(ctx.regions))]:
        p = parts.get(region, {})
        row = {f"{k}_cny": float(p.get(k, 0.0)) for k in ("cost", "penalty", "investment", "other")}
        row["total_cny"] = sum(row.values())
        if region in ctx.regions:
            row["load_payments_cny"] = float(pay[(pr["region"] == region).to_numpy()].sum())
            row["generator_revenue_cny"] = float(np.nansum(rev[(gen["region"] == region).to_numpy()]))
        out[region] = row
    return out
