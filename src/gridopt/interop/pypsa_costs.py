"""Capacity expansion of a PyPSA CSV folder's elements as gridopt columns.

Lines, transformers, links, generators, storage units without inflow and stores: *_nom_extendable,
*_nom_min, *_nom_max (a *_nom_set fixes both) and the cost per unit of capacity for the horizon, capital_cost
(or overnight_cost annuitised over lifetime at discount_rate and scaled to the horizon's years, objective
weightings / 8760 h) plus fom_cost, on every element; gridopt pays it on optimal minus existing capacity of
extendable elements, as PyPSA (nothing at fixed capacities). Where p_nom is rescaled (limits beyond 1 pu, a
storage unit's p_max_pu) the bounds scale with it and the cost per MW inversely. Refused here: modular
expansion (*_nom_mod), a *_nom_set outside [*_nom_min, *_nom_max], overnight_cost without a discount rate
or a positive lifetime. Refused where the elements are mapped: extendable storage units with inflow, set
states or whose charge disappears (the reservoir volume, stores, turbine, pump and sink are separate
capacities in gridopt, PyPSA's follow one p_nom), an extendable storage unit at p_nom 0 with
p_min_pu != -p_max_pu (gridopt takes the charge-to-dispatch ratio from the existing capacities), extendable
price takers (markets have no capacity decision), an extendable transformer at s_nom 0 (its reactance
x / s_nom would be infinite). Capital costs are per horizon in both tools, never weighted.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .pypsa_csv import PypsaFolder

_INF = math.inf
_NAN = math.nan

# component -> the prefix of its capacity attributes (p_nom, p_nom_extendable, ...)
NOM = {"generators": "p", "links": "p", "storage_units": "p", "stores": "e", "lines": "s", "transformers": "s"}
_HOURS_PER_YEAR = 8760.0  # PyPSA's horizon in years: objective weightings / 8760 h


class CostReader(PypsaFolder):
    """A PyPSA folder reader that maps capacity decisions and their costs."""

    def expansion(self, comp: str, scale: float | pd.Series = 1.0) -> pd.DataFrame:
        """The capacity decision of each element of `comp` as gridopt columns, indexed by name: flag, bounds
        and capital cost of a capacity that is `scale` times PyPSA's (bounds scale with it, the cost per MW
        inversely, so that the investment is PyPSA's)."""
        nom = f"{NOM[comp]}_nom"
        c = lambda a, d: self.col(comp, a, d)
        ext = c(f"{nom}_extendable", False).astype(bool)
        lo, hi, fixed, modular = (c(f"{nom}_{a}", d).astype(float) for a, d in
                                  (("min", 0.0), ("max", _INF), ("set", _NAN), ("mod", 0.0)))
        for name in ext.index[ext]:
            if modular[name] != 0:
                self.refuse(comp, name, f"{nom}_mod", f"{modular[name]:g}: modular expansion needs integer "
                                                      "variables, not supported by the LP")
            if not math.isnan(fixed[name]) and not lo[name] <= fixed[name] <= hi[name]:
                self.refuse(comp, name, f"{nom}_set", f"{fixed[name]:g} outside [{nom}_min, {nom}_max] = "
                            f"[{lo[name]:g}, {hi[name]:g}]: PyPSA's problem is infeasible")
        pinned = ext & fixed.notna()  # a set capacity is a decision with equal bounds
        lo, hi = lo.where(~pinned, fixed), hi.where(~pinned, fixed)
        return pd.DataFrame({f"{nom}_extendable": ext, f"{nom}_min": lo * scale, f"{nom}_max": hi * scale,
                             "capital_cost": self.capital_cost(comp, ext) / scale})

    def capital_cost(self, comp: str, ext: pd.Series) -> pd.Series:
        """Cost per unit of capacity for the horizon, as PyPSA charges it: capital_cost, or where given
        overnight_cost times the annuity factor r / (1 - (1 + r)^-lifetime) (1 / lifetime at r = 0) times the
        horizon in years; plus fom_cost."""
        c = lambda a, d: self.col(comp, a, d).astype(float)
        overnight, rate, life = c("overnight_cost", _NAN), c("discount_rate", _NAN), c("lifetime", _INF)
        given = overnight.notna()
        for name in given.index[given & ext & rate.isna()]:
            self.refuse(comp, name, "discount_rate",
                        "missing: overnight_cost needs a discount rate to be annuitised")
        for name in given.index[given & ext & ~(life > 0)]:
            self.refuse(comp, name, "lifetime", f"{life[name]:g}: overnight_cost needs a positive lifetime")
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            r, n = rate.to_numpy(dtype=float), life.to_numpy(dtype=float)
            factor = np.where(r == 0, 1.0 / n, r / (1.0 - (1.0 + r) ** -n))
            factor = np.where(np.isinf(n) & (r != 0), np.maximum(r, 0.0), factor)  # the limit of long lives
        years = float(np.sum(self.weights)) / _HOURS_PER_YEAR
        base = c("capital_cost", 0.0).where(~given, overnight * factor * years)
        return base.fillna(0.0) + c("fom_cost", 0.0)
