"""Loads, load shedding, neighbouring markets, and the nodal power balance.

Power balance, for every bus b and hour t (MW):

    sum_k coef_k * x_k[t]  (every injection registered at b)  + shed_int[t,b] + shed_firm[t,b]
        = load_firm[t,b] + load_interruptible[t,b]

Its dual is the locational price; the results divide it by the snapshot weighting to give CNY/MWh.
Shedding is priced at the two values of lost load (interruptible < firm), times the weighting. A case
with ``load_shedding = false`` (imported cases: their source has no shed variables) has no shed terms.
Markets at external buses buy (price-responsive load: revenue = -buy_price per MWh) and sell
(supply at sell_price per MWh), each up to its limit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..lp import COST, PENALTY
from .context import Context, Solved, long_table


@dataclass
class Loads:
    """Load per bus and the neighbouring markets, (hours, buses) and (hours, markets) arrays."""

    firm_mw: np.ndarray
    interruptible_mw: np.ndarray
    markets: pd.DataFrame
    buy_price: np.ndarray  # CNY/MWh the market pays for power it takes
    sell_price: np.ndarray  # CNY/MWh the market asks for power it gives

    @property
    def total_mw(self) -> np.ndarray:
        return self.firm_mw + self.interruptible_mw


def add_loads_and_markets(ctx: Context) -> None:
    lp, w = ctx.lp, ctx.weights[:, None]
    markets = ctx.net.tables["markets"]
    ld = ctx.loads = Loads(ctx.series("load_firm_mw", ctx.buses), ctx.series("load_interruptible_mw", ctx.buses),
                           markets, ctx.series("buy_price", markets.index), ctx.series("sell_price", markets.index))
    has_load = (ld.firm_mw.max(axis=0) > 0) | (ld.interruptible_mw.max(axis=0) > 0)
    if not sheds_load(ctx.net.config):  # empty shed blocks: no variables, yet the cost keys and tables stay
        has_load = np.zeros_like(has_load)
    loaded = ctx.buses[has_load]
    pos = np.flatnonzero(has_load)
    s_int = lp.add_variables("shed_interruptible", loaded, 0.0, ld.interruptible_mw[:, pos],
                             w * ctx.penalty("voll_interruptible_cny_per_mwh"), label="interruptible_shed_cny",
                             kind=PENALTY)
    s_firm = lp.add_variables("shed_firm", loaded, 0.0, ld.firm_mw[:, pos], w * ctx.penalty("voll_firm_cny_per_mwh"),
                              label="firm_shed_cny", kind=PENALTY)
    ctx.inject(s_int, 1.0, loaded)
    ctx.inject(s_firm, 1.0, loaded)

    buy = lp.add_variables("market_buy", markets.index, 0.0, markets["buy_max_mw"].to_numpy(), -w * ld.buy_price,
                           label="export_revenue_cny", kind=COST)
    sell = lp.add_variables("market_sell", markets.index, 0.0, markets["sell_max_mw"].to_numpy(), w * ld.sell_price,
                            label="imports_cny", kind=COST)
    ctx.inject(buy, -1.0, markets["bus"])
    ctx.inject(sell, 1.0, markets["bus"])


def sheds_load(config) -> bool:
    """The case's ``load_shedding`` setting (default true)."""
    return bool(config.get("load_shedding", True))


def add_balance(ctx: Context) -> None:
    """Assemble the nodal balance rows from every registered injection."""
    lp = ctx.lp
    load = ctx.loads.total_mw
    rb = lp.add_rows("balance", ctx.buses, load, load)
    nb = len(ctx.buses)
    tt = np.arange(ctx.T)[:, None]
    for term in ctx.injections:
        if term.idx.size == 0:
            continue
        rows = rb.start + tt * nb + term.key[None, :]
        lp.add_coeffs(rows, term.idx, np.broadcast_to(term.coef, term.idx.shape))


def extract_markets(ctx: Context, sv: Solved) -> pd.DataFrame:
    """Power sold into the region by neighbouring markets, as generation rows (carrier 'import')."""
    mk = ctx.loads.markets
    sell = sv.value("market_sell")
    regions = ctx.net.tables["buses"]["region"]
    return long_table(ctx.snapshots, mk.index, "unit", bus=mk["bus"].to_numpy(),
                      region=regions.reindex(mk["bus"]).to_numpy(), carrier="import", p_mw=sell,
                      available_mw=mk["sell_max_mw"].to_numpy(), curtailed_mw=0.0, committed_mw=np.nan,
                      co2_t=sell * mk["co2_t_per_mwh"].to_numpy(), gas_mm3_per_h=0.0)


def extract_prices(ctx: Context, sv: Solved) -> pd.DataFrame:
    """Per bus and hour: load (markets' purchases included), shed by tier, and the locational price."""
    T, nb = ctx.T, len(ctx.buses)
    mk = ctx.loads.markets
    bought = np.zeros((T, nb))
    np.add.at(bought, (slice(None), ctx.bus_pos(mk["bus"])), sv.value("market_buy"))
    shed = {}
    for name in ("shed_interruptible", "shed_firm"):
        full = np.zeros((T, nb))
        full[:, ctx.bus_pos(sv.lp.variables[name].elements)] = sv.value(name)
        shed[name] = full
    regions = ctx.net.tables["buses"]["region"].to_numpy()
    return long_table(ctx.snapshots, ctx.buses, "bus", region=regions, load_mw=ctx.loads.total_mw + bought,
                      shed_mw=shed["shed_interruptible"] + shed["shed_firm"],
                      shed_interruptible_mw=shed["shed_interruptible"], shed_firm_mw=shed["shed_firm"],
                      price_cny_per_mwh=sv.row_price("balance") / ctx.weights[:, None])
