"""PyPSA's global constraints as gridopt case settings.

CO2 caps (primary_energy on co2_emissions, <=) become the case's ``carbon_caps`` ``system`` cap (counted
with the `generators` weighting, as PyPSA does), the smallest where there are several; refused where PyPSA
also counts what gridopt's caps do not (non-cyclic storage units and stores of emitting carriers, emitting
price takers) and where the cap is negative. transmission_volume_expansion_limit and
transmission_expansion_cost_limit (<=) become ``expansion_limits`` (`capacity.add_expansion_limits`); refused
where gridopt would weigh other elements (a link without a carrier is DC in gridopt), a rescaled link's
p_nom or an element's fom_cost. Every other kind is refused.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .pypsa_costs import NOM

# PyPSA's transmission expansion limits -> the key of gridopt's expansion_limits settings
_TRANSMISSION_LIMITS = {"transmission_volume_expansion_limit": "volume_mw_km",
                        "transmission_expansion_cost_limit": "cost_cny"}


def global_constraints(r, tables: dict[str, pd.DataFrame]) -> dict:
    """The global constraints of the PyPSA folder reader `r` as case settings: CO2 caps (primary_energy on
    co2_emissions, <=) as the case's 'system' carbon cap (the smallest where there are several, as they bound
    the same sum), and transmission volume and cost limits as `expansion_limits`; every other kind is refused.

    `tables` are the gridopt tables mapped so far (markets, lines and links are read)."""
    gc = r.static["global_constraints"]
    c = lambda a, d: r.col("global_constraints", a, d)
    kind, attr, sense, const = c("type", "primary_energy"), c("carrier_attribute", "co2_emissions"), \
        c("sense", "=="), c("constant", 0.0)
    caps, limits = [], {}
    for name in gc.index:
        k = kind[name]
        if k == "primary_energy" and attr[name] == "co2_emissions" and sense[name] == "<=":
            if const[name] < 0:
                r.refuse("global_constraints", name, "constant", f"{const[name]:g}: a negative CO2 cap is "
                         "not supported (gridopt's emission factors and caps are >= 0)")
            elif _co2_cap_matches(r, name, tables):
                caps.append(float(const[name]))
        elif k in _TRANSMISSION_LIMITS and sense[name] == "<=":
            carriers = [x.strip() for x in re.sub(r"[\[\]()]", "", attr[name]).split(",") if x.strip()]
            if carriers and _transmission_limit_matches(r, name, k, carriers, tables):
                limits[name] = {"carriers": carriers, _TRANSMISSION_LIMITS[k]: float(const[name])}
        else:
            r.refuse("global_constraints", name, "type",
                     f"{k} on {attr[name]} ({sense[name]}): only CO2 caps (primary_energy on co2_emissions) "
                     "and transmission volume or cost expansion limits, with sense <=, are supported")
    out: dict = {}
    if caps:
        out["carbon_caps"] = {"system": min(caps)}
    if limits:
        out["expansion_limits"] = limits
    return out


def _co2_cap_matches(r, name: str, tables: dict[str, pd.DataFrame]) -> bool:
    """Whether gridopt's 'system' cap counts what PyPSA's CO2 cap `name` counts: generators' emissions
    (co2_t_per_mwh, with the `generators` weighting); PyPSA also counts the energy that non-cyclic storage
    units and stores of emitting carriers lose over the horizon, and price takers (imported as markets)
    emit outside gridopt's caps, so those are refused."""
    co2 = r.col("carriers", "co2_emissions", 0.0) if len(r.static["carriers"]) else pd.Series(dtype=float)
    emitting = set(co2.index[co2 != 0])
    ok = True
    for comp, cyclic in (("storage_units", "cyclic_state_of_charge"), ("stores", "e_cyclic")):
        car, cyc = r.col(comp, "carrier", ""), r.col(comp, cyclic, False)
        for el in car.index[car.isin(emitting) & ~cyc]:
            r.refuse("global_constraints", name, "carrier_attribute",
                     f"{comp[:-1].replace('_', ' ')} {el} of emitting carrier {car[el]!r} is not cyclic: "
                     "PyPSA counts the energy it loses over the horizon in the CO2 cap, gridopt does not")
            ok = False
    mk = tables["markets"]
    for el in mk.index[mk["co2_t_per_mwh"].to_numpy() > 0] if len(mk) else []:
        r.refuse("global_constraints", name, "carrier_attribute",
                 f"price taker {mk.at[el, 'name']} (imported as a market) emits: PyPSA counts it in the CO2 cap, "
                 "gridopt's caps count markets only as imports at external buses")
        ok = False
    return ok


def _transmission_limit_matches(r, name: str, kind: str, carriers: list[str],
                                tables: dict[str, pd.DataFrame]) -> bool:
    """Whether gridopt's limit (over extendable lines and links of the carriers, by their gridopt
    capacity) is PyPSA's `kind` limit `name`: the same elements (a link without a carrier is DC in
    gridopt, none in PyPSA), links at PyPSA's p_nom for a volume (not rescaled) and without fom_cost for a
    cost (PyPSA's cost limit weighs the annuity alone)."""
    ok = True
    for comp, pypsa_carrier in (("lines", r.line_carriers()), ("links", r.col("links", "carrier", ""))):
        nom = f"{NOM[comp]}_nom"
        g = tables[comp].iloc[:len(r.static[comp])]  # the folder's own, in its order (own-bus links follow)
        ext = g[f"{nom}_extendable"].to_numpy(dtype=bool)
        theirs = ext & pypsa_carrier.isin(carriers).to_numpy()
        ours = ext & g["carrier"].isin(carriers).to_numpy()
        names = r.static[comp].index
        for el in names[theirs != ours]:
            r.refuse("global_constraints", name, "carrier_attribute",
                     f"{comp[:-1]} {el}: its carrier {pypsa_carrier[el]!r} is {g['carrier'].iloc[names.get_loc(el)]!r} "
                     "in gridopt, so the limit would count other elements")
            ok = False
        if comp == "links" and kind == "transmission_volume_expansion_limit":
            for el in names[theirs & (np.asarray(r.link_scale) != 1.0)]:
                r.refuse("global_constraints", name, "carrier_attribute",
                         f"link {el}: limits beyond 1 pu rescale its p_nom, which the volume limit weighs")
                ok = False
        if kind == "transmission_expansion_cost_limit":
            fom = r.col(comp, "fom_cost", 0.0).to_numpy(dtype=float)
            for el in names[theirs & (fom != 0)]:
                r.refuse("global_constraints", name, "carrier_attribute",
                         f"{comp[:-1]} {el}: fom_cost counts in gridopt's capital_cost, not in PyPSA's "
                         "expansion cost limit")
                ok = False
    return ok
