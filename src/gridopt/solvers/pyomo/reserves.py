"""Upward reserve per region in the twin."""

from __future__ import annotations

import pyomo.environ as pyo

from ...formulation.context import Context
from .record import Twin


def add_reserves(tw: Twin, ctx: Context) -> None:
    """In every region with a reserve share, the providers' registered headroom covers share x load (MW).

    Mirrors gridopt.formulation.reserves.
    """
    m, net = tw.m, ctx.net
    shares = net.config["reserves"]
    m.Z = pyo.Set(initialize=[r for r in net.regions if shares.get(r, 0.0) > 0] if ctx.options.reserves else [],
                  ordered=True)
    buses = net.tables["buses"].index

    def reserve_rule(m, t, z):
        zb = m.region_buses[z]
        need = shares[z] * float(sum(tw.load_mw[t, i] for i, b in enumerate(buses) if b in zb))
        return sum(tw.headroom.get((t, z), [])) >= need
    m.reserve = pyo.Constraint(m.T, m.Z, rule=reserve_rule)
