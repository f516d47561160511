"""Carbon caps in the twin: totals and intensities, per region or for the system, and imported emissions."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ...formulation.context import Context
from ...formulation.emissions import SYSTEM, importers
from .record import Key, Twin


def add_emission_caps(tw: Twin, ctx: Context) -> None:
    """Weighted emissions over the horizon within each total cap (t), and within intensity x generation for
    each intensity cap (t/MWh); 'system' spans every region, external buses none.

    Mirrors gridopt.formulation.emissions.
    """
    _add_imported_emissions(tw, ctx)
    m, w, T = tw.m, ctx.energy_weights, ctx.T  # caps count PyPSA's 'generators' weighting
    caps, icaps = ctx.options.carbon_caps, ctx.options.intensity_caps
    regions = ctx.net.regions

    def scope(store: defaultdict[Key, list[Any]], key: str, t: int) -> Any:
        # what the system alone imports (SYSTEM) counts in 'system' caps only
        return sum(x for r in (regions + [SYSTEM] if key == "system" else [key]) for x in store.get((t, r), []))
    m.CAP = pyo.Set(initialize=list(caps), ordered=True)
    m.carbon_cap = pyo.Constraint(
        m.CAP, rule=lambda m, k: _row(sum(w[t] * scope(tw.emissions, k, t) for t in range(T)) <= caps[k]))
    m.ICAP = pyo.Set(initialize=list(icaps), ordered=True)
    m.carbon_intensity_cap = pyo.Constraint(m.ICAP, rule=lambda m, k: _row(sum(
        w[t] * (scope(tw.emissions, k, t) - icaps[k] * scope(tw.generation, k, t)) for t in range(T)) <= 0))


def _row(relation: Any) -> Any:
    """A cap over no emitter compares numbers (caps are >= 0, so it holds): no row, as the fast path's is empty."""
    return pyo.Constraint.Skip if isinstance(relation, (bool, np.bool_)) else relation


def _add_imported_emissions(tw: Twin, ctx: Context) -> None:
    """With imported_emissions = "attributed": output of units and market sales at external buses pay the
    carbon price on their emission factor and count, emissions and MWh, under the importing region (the rule
    of gridopt.formulation.emissions: `importers`)."""
    if ctx.options.imported_emissions != "attributed":
        return
    m, w, cp = tw.m, ctx.weights, ctx.options.carbon_price
    importer = importers(ctx.net)
    for var, table in ((m.gen_p, ctx.net.active("generators")), (m.market_sell, ctx.net.tables["markets"])):
        for name, r in table.iterrows():
            if r["bus"] not in importer.index:
                continue
            key, co2 = importer[r["bus"]], float(r["co2_t_per_mwh"])
            for t in range(ctx.T):
                tw.cost.append(w[t] * cp * co2 * var[t, name])
                tw.emissions[t, key].append(co2 * var[t, name])
                tw.generation[t, key].append(var[t, name])
