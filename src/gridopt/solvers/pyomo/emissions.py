"""Carbon caps in the twin: totals and intensities, per region or for the system."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyomo.environ as pyo

from ...formulation.context import Context
from .record import Key, Twin


def add_emission_caps(tw: Twin, ctx: Context) -> None:
    """Weighted emissions over the horizon within each total cap (t), and within intensity x generation for
    each intensity cap (t/MWh); 'system' spans every region, external buses none.

    Mirrors gridopt.formulation.emissions.
    """
    m, w, T = tw.m, ctx.weights, ctx.T
    caps, icaps = ctx.options.carbon_caps, ctx.options.intensity_caps
    regions = ctx.net.regions

    def scope(store: defaultdict[Key, list[Any]], key: str, t: int) -> Any:
        return sum(x for r in (regions if key == "system" else [key]) for x in store.get((t, r), []))
    m.CAP = pyo.Set(initialize=list(caps), ordered=True)
    m.carbon_cap = pyo.Constraint(
        m.CAP, rule=lambda m, k: sum(w[t] * scope(tw.emissions, k, t) for t in range(T)) <= caps[k])
    m.ICAP = pyo.Set(initialize=list(icaps), ordered=True)
    m.carbon_intensity_cap = pyo.Constraint(m.ICAP, rule=lambda m, k: sum(
        w[t] * (scope(tw.emissions, k, t) - icaps[k] * scope(tw.generation, k, t)) for t in range(T)) <= 0)
