"""Loads, load shedding, neighbouring markets, and the nodal power balance.

Power balance, for every bus b and hour t (MW):

    sum_k coef_k * x_k[t]  (every injection registered at b)  + shed_int[t,b] + shed_firm[t,b]
        = load_firm[t,b] + load_interruptible[t,b]

Its dual is the locational price; the results divide it by the snapshot weighting to give CNY/MWh.
Shedding is priced at the two values of lost load (interruptible < firm), times the weighting.
Markets at external buses buy (price-responsive load: revenue = -buy_price per MWh) and sell
(supply at sell_price per MWh), each up to its limit.
"""

from __future__ import annotations

import numpy as np

from .context import Context


def add_loads_and_markets(ctx: Context) -> None:
    lp, w = ctx.lp, ctx.weights[:, None]
    firm = ctx.series("load_firm_mw", ctx.buses)
    inter = ctx.series("load_interruptible_mw", ctx.buses)
    ctx.data["load_firm"], ctx.data["load_int"] = firm, inter
    has_load = (firm.max(axis=0) > 0) | (inter.max(axis=0) > 0)
    loaded = ctx.buses[has_load]
    pos = np.flatnonzero(has_load)
    s_int = lp.add_variables("shed_interruptible", loaded, 0.0, inter[:, pos],
                             w * ctx.penalty("voll_interruptible_cny_per_mwh"))
    s_firm = lp.add_variables("shed_firm", loaded, 0.0, firm[:, pos], w * ctx.penalty("voll_firm_cny_per_mwh"))
    ctx.inject(s_int, 1.0, loaded)
    ctx.inject(s_firm, 1.0, loaded)

    markets = ctx.net.tables["markets"]
    buy_price = ctx.series("buy_price", markets.index)
    sell_price = ctx.series("sell_price", markets.index)
    ctx.data["buy_price"], ctx.data["sell_price"] = buy_price, sell_price
    buy = lp.add_variables("market_buy", markets.index, 0.0, markets["buy_max_mw"].to_numpy(), -w * buy_price)
    sell = lp.add_variables("market_sell", markets.index, 0.0, markets["sell_max_mw"].to_numpy(), w * sell_price)
    ctx.inject(buy, -1.0, markets["bus"])
    ctx.inject(sell, 1.0, markets["bus"])


def add_balance(ctx: Context) -> None:
    """Assemble the nodal balance rows from every registered injection."""
    lp = ctx.lp
    load = ctx.data["load_firm"] + ctx.data["load_int"]
    rb = lp.add_rows("balance", ctx.buses, load, load)
    nb = len(ctx.buses)
    tt = np.arange(ctx.T)[:, None]
    for term in ctx.injections:
        if term.idx.size == 0:
            continue
        rows = rb.start + tt * nb + term.key[None, :]
        lp.add_coeffs(rows, term.idx, np.broadcast_to(term.coef, term.idx.shape))
