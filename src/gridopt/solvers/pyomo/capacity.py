"""Limits on capacities in the twin: PyPSA's transmission expansion limits."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from ...formulation.context import Context
from .record import Twin


def add_expansion_limits(tw: Twin, ctx: Context) -> None:
    """One row per limit of case.toml `expansion_limits`: the length-weighted (volume_mw_km) or
    capital-cost-weighted (cost_cny) sum of the capacities of the extendable lines and links of its carriers.

    Mirrors gridopt.formulation.capacity.add_expansion_limits.
    """
    m = tw.m
    rows = {}
    for name, spec in (ctx.net.config.get("expansion_limits") or {}).items():
        volume = "volume_mw_km" in spec
        terms = []
        for comp in ("lines", "links"):
            table = ctx.net.active(comp)
            for e, var in tw.capacity.get(comp, {}).items():
                if table.at[e, "carrier"] in spec["carriers"]:
                    length = table.at[e, "length_km"]
                    per = (0.0 if np.isnan(length) else length) if volume else table.at[e, "capital_cost"]
                    terms.append(per * var)
        if terms:
            rows[name] = (sum(terms), spec["volume_mw_km" if volume else "cost_cny"])
    m.XL = pyo.Set(initialize=list(rows), ordered=True)
    m.expansion_limit = pyo.Constraint(m.XL, rule=lambda m, k: rows[k][0] <= rows[k][1])
