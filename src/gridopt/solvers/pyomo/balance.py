"""Loads, shedding, neighbouring markets and the nodal power balance of the twin."""

from __future__ import annotations

import pandas as pd
import pyomo.environ as pyo

from ...formulation.balance import sheds_load
from ...formulation.context import Context
from .record import Twin, frame


def add_loads_and_markets(tw: Twin, ctx: Context) -> None:
    """Two tiers of shed at every bus with load, and the markets' purchases and sales (MW).

    Mirrors gridopt.formulation.balance.add_loads_and_markets.
    """
    m, w, T = tw.m, ctx.weights, ctx.T
    pen = ctx.net.config["penalties"]
    buses = ctx.net.tables["buses"].index
    firm = ctx.series("load_firm_mw", buses)
    inter = ctx.series("load_interruptible_mw", buses)
    tw.load_mw = firm + inter
    loaded = [b for i, b in enumerate(buses) if firm[:, i].max() > 0 or inter[:, i].max() > 0]
    if not sheds_load(ctx.net.config):  # no shed variables, as on the fast path
        loaded = []
    li = buses.get_indexer(loaded)
    m.L = pyo.Set(initialize=loaded, ordered=True)
    ub_i, ub_f = frame(inter[:, li], pd.Index(loaded)), frame(firm[:, li], pd.Index(loaded))
    m.shed_interruptible = pyo.Var(m.T, m.L, bounds=lambda m, t, b: (0, ub_i[t, b]))
    m.shed_firm = pyo.Var(m.T, m.L, bounds=lambda m, t, b: (0, ub_f[t, b]))
    for t in range(T):
        for b in loaded:
            tw.injections[t, b].append(m.shed_interruptible[t, b] + m.shed_firm[t, b])
            tw.cost.append(w[t] * (pen["voll_interruptible_cny_per_mwh"] * m.shed_interruptible[t, b]
                                   + pen["voll_firm_cny_per_mwh"] * m.shed_firm[t, b]))
    _add_markets(tw, ctx)


def _add_markets(tw: Twin, ctx: Context) -> None:
    """A market sells into its bus at its sell price and buys from it at its buy price (a revenue)."""
    m, w = tw.m, ctx.weights
    mk = ctx.net.tables["markets"]
    m.M = pyo.Set(initialize=list(mk.index), ordered=True)
    buy_p = frame(ctx.series("buy_price", mk.index), mk.index)
    sell_p = frame(ctx.series("sell_price", mk.index), mk.index)
    m.market_buy = pyo.Var(m.T, m.M, bounds=lambda m, t, k: (0, mk.at[k, "buy_max_mw"]))
    m.market_sell = pyo.Var(m.T, m.M, bounds=lambda m, t, k: (0, mk.at[k, "sell_max_mw"]))
    for t in range(ctx.T):
        for k in mk.index:
            tw.injections[t, mk.at[k, "bus"]].append(m.market_sell[t, k] - m.market_buy[t, k])
            tw.cost.append(w[t] * (sell_p[t, k] * m.market_sell[t, k] - buy_p[t, k] * m.market_buy[t, k]))


def add_balance(tw: Twin, ctx: Context) -> None:
    """At every bus and hour the registered injections meet the load (MW); the dual is the price.

    Mirrors gridopt.formulation.balance.add_balance.
    """
    order = {b: i for i, b in enumerate(ctx.net.tables["buses"].index)}

    def balance_rule(m, t, b):
        terms, demand = tw.injections.get((t, b), []), float(tw.load_mw[t, order[b]])
        if not terms:  # an isolated bus (e.g. one not yet in service): fine without load, infeasible with it
            return pyo.Constraint.Skip if demand == 0 else pyo.Constraint.Infeasible
        return sum(terms) == demand
    tw.m.balance = pyo.Constraint(tw.m.T, tw.m.B, rule=balance_rule)
