"""Carbon caps: totals and intensities per region or for the system ("dual control"), and the rule for
emissions imported into the regions.

Total cap for region r (t over the horizon):      sum_t w_t sum_{g in r} co2_g * p[t,g] <= cap_r
Intensity cap (t/MWh of the region's generation): sum_t w_t sum_{g in r} (co2_g - I_r) * gen[t,g] <= 0
where generation counts generators and reservoir hydro at the region's buses ('system' = all regions;
external buses are outside every region), plus imports when attributed (below). The carbon price on
in-region emissions is in the generators' cost; on imported ones, added here (add_imported_emissions).
The cap's dual, sign-flipped, is the shadow carbon price (CNY/t). A rolling window may also cap the
emissions of its first hours (Targets.carbon_caps_t, up to Targets.hour).

Imported emissions, one rule for the summary, the carbon price, the caps and the reports:
- What is imported: at every external bus, what neighbouring markets sell there (market_sell x the market's
  co2_t_per_mwh) and what generators there produce (p x their co2_t_per_mwh), gross: power that leaves such a
  bus again to a market earns no credit (exports carry none), so the rule never undercounts an import.
- Who imports it: the region of the internal buses that the bus's lines, transformers and links in service
  can carry power to (directly or through other external buses; a link only in the directions its limits
  allow). Where that is several regions, the system alone imports it (there is no single importer: 'system'
  caps count it, regional caps do not); where it is none, nothing is imported.
- What follows: the summary reports these emissions whatever the option (`emissions_imported_t`, by
  importing region and 'system'). With imported_emissions = "attributed" they also pay the carbon price and
  count in the caps: a region's total cap counts what it imports, its intensity cap the imported MWh beside
  its generation. With "none" (the default) the carbon price and caps cover emissions inside the regions only.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from ..lp import COST
from ..network import EXTERNAL, Network
from .context import Context, DispatchOptions, Term

SYSTEM = "system"  # importer of what enters several regions: counted by 'system' caps alone


def importers(net: Network) -> pd.Series:
    """Each external bus whose power can enter the regions -> the region importing it, or 'system' where it
    can enter several (the rule in the module docstring)."""
    region = net.tables["buses"]["region"]
    external = set(region.index[region == EXTERNAL])
    reach: defaultdict[str, set[str]] = defaultdict(set)  # the buses each bus can send power to directly
    for comp in ("lines", "transformers"):
        br = net.active(comp)
        usable = (br["s_nom"] > 0) | br["s_nom_extendable"].astype(bool)
        for b0, b1 in zip(br["bus0"][usable], br["bus1"][usable], strict=True):
            reach[b0].add(b1)
            reach[b1].add(b0)
    lk = net.active("links")
    lk = lk[(lk["p_nom"] > 0) | lk["p_nom_extendable"].astype(bool)]
    for b0, b1, fwd, rev in zip(lk["bus0"], lk["bus1"], lk["p_max_pu"], lk["p_min_pu"], strict=True):
        if fwd > 0:
            reach[b0].add(b1)
        if rev < 0:
            reach[b1].add(b0)
    out = {}
    for bus in sorted(external):
        seen, todo, regions = {bus}, [bus], set()
        while todo:
            for nb in reach[todo.pop()] - seen:
                seen.add(nb)
                if nb in external:
                    todo.append(nb)
                else:
                    regions.add(region[nb])
        if regions:
            out[bus] = regions.pop() if len(regions) == 1 else SYSTEM
    return pd.Series(out, dtype=object)


def carbon_price_covers(options: DispatchOptions) -> str:
    """Which emissions the carbon price (and the caps) cover under `options`."""
    return "in-region + imported" if options.imported_emissions == "attributed" else "in-region"


def imported_emissions_summary(net: Network, weights: pd.Series, tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Summary key `emissions_imported_t`: imported emissions (t) by importing region and 'system', from the
    generation table (units and market sales at external buses), whatever the option."""
    gen = tables["generation"]
    co2 = (gen["co2_t"] * gen["hour"].map(weights)).groupby(gen["bus"].map(importers(net))).sum()
    out = {r: float(co2.get(r, 0.0)) for r in net.regions}
    out[SYSTEM] = float(co2.sum())
    return {"emissions_imported_t": out}


def add_imported_emissions(ctx: Context) -> None:
    """With imported_emissions = "attributed": the carbon price on imported emissions, and their terms in the
    caps (emissions, and MWh for intensity caps) under the importing region's position ('system': one past
    the last region, so that only 'system' caps count it)."""
    if ctx.options.imported_emissions != "attributed":
        return
    imp = importers(ctx.net)
    lookup = {r: i for i, r in enumerate(ctx.regions)} | {SYSTEM: len(ctx.regions)}
    w = ctx.weights[:, None]
    for name, table in (("gen_p", ctx.generators.table), ("market_sell", ctx.loads.markets)):
        key = np.array([lookup.get(imp.get(b), -1) for b in table["bus"]], dtype=int)
        sel = np.flatnonzero(key >= 0)
        if not len(sel):
            continue
        block = ctx.lp.variables[name]
        co2 = table["co2_t_per_mwh"].to_numpy(dtype=float)
        ctx.lp.add_cost(block, w * ctx.options.carbon_price * co2 * (key >= 0), "carbon_cny", COST)
        ctx.emissions.append(Term(block.idx[:, sel], co2[sel], key[sel]))
        ctx.generation.append(Term(block.idx[:, sel], np.ones(len(sel)), key[sel]))


def _cap_rows(ctx: Context, name: str, caps: dict[str, float], terms_of, hours: int | None = None) -> None:
    """One row per cap key: sum of weighted terms <= caps[key], over the first `hours` hours (default all)."""
    if not caps:
        return
    lp = ctx.lp
    keys = list(caps)
    rb = lp.add_rows(name, keys, -np.inf, np.array([caps[k] for k in keys])[None, :], hours=1)
    n = ctx.T if hours is None else hours
    w = ctx.energy_weights[:n, None]  # energy and emission limits count PyPSA's 'generators' weighting
    for j, key in enumerate(keys):
        in_scope = (lambda reg: reg >= 0) if key == "system" else (lambda reg, p=ctx.regions.index(key): reg == p)
        for term, coef in terms_of(key):
            keep = in_scope(term.key)
            if keep.any():
                c = np.broadcast_to(coef, term.idx.shape)[:n, keep] * w
                lp.add_coeffs(rb.start + j, term.idx[:n, keep], c)


def add_emission_caps(ctx: Context) -> None:
    add_imported_emissions(ctx)
    emitted = lambda key: [(t, t.coef) for t in ctx.emissions]
    _cap_rows(ctx, "carbon_cap", ctx.options.carbon_caps, emitted)
    tg = ctx.targets
    _cap_rows(ctx, "carbon_cap_boundary", tg.carbon_caps_t, emitted, hours=tg.at(ctx.T) + 1)

    def intensity_terms(key: str) -> list[tuple[Term, np.ndarray]]:
        limit = ctx.options.intensity_caps[key]
        return ([(t, t.coef) for t in ctx.emissions]
                + [(t, -limit * np.broadcast_to(t.coef, t.idx.shape)) for t in ctx.generation])
    _cap_rows(ctx, "carbon_intensity_cap", dict.fromkeys(ctx.options.intensity_caps, 0.0), intensity_terms)
