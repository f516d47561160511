"""After-solve checks computed from the result tables alone (so anyone can rerun them on a results folder).

`power_balance_residual` recomputes, per bus and hour,
    sum generation + sum discharge - sum charge + sum store power - sum p0 (bus0) - sum p1 (bus1) + shed - load
which must be ~0. `check_tables` returns human-readable issues: balance residuals, limit violations,
simultaneous charging and discharging, and simultaneous flow in both directions of a link.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def power_balance_residual(t: dict[str, pd.DataFrame]) -> pd.Series:
    """Residual (MW) per (hour, bus) of the nodal balance recomputed from the tables."""
    inj = [t["generation"].groupby(["hour", "bus"])["p_mw"].sum()]
    if len(t["storage"]):
        st = t["storage"]
        inj.append((st["discharge_mw"] - st["charge_mw"]).groupby([st["hour"], st["bus"]]).sum())
    stores = t.get("stores")
    if stores is not None and len(stores):
        inj.append(stores.groupby(["hour", "bus"])["p_mw"].sum())
    fl = t["flows"]
    inj.append(-fl.groupby(["hour", "bus0"])["p0_mw"].sum().rename_axis(["hour", "bus"]))
    inj.append(-fl.groupby(["hour", "bus1"])["p1_mw"].sum().rename_axis(["hour", "bus"]))
    pr = t["prices"].set_index(["hour", "bus"])
    inj.append(pr["shed_mw"])
    inj.append(-pr["load_mw"])
    total = pd.concat(inj).groupby(level=[0, 1]).sum()
    return total.reindex(pr.index, fill_value=0.0)


def check_tables(t: dict[str, pd.DataFrame], rtol: float = 1e-6) -> list[str]:
    issues: list[str] = []
    pr = t["prices"]
    scale = max(1.0, float(pr["load_mw"].abs().max()) if len(pr) else 1.0)
    res = power_balance_residual(t)
    bad = res[res.abs() > rtol * scale]
    if len(bad):
        (h, b), v = next(iter(bad.items()))
        issues.append(f"power balance off at {len(bad)} (hour, bus) pairs, e.g. {b} {h}: {v:.3g} MW")
    tol = 1e-6 * scale
    fl = t["flows"]
    over = fl[(fl["p0_mw"] > fl["limit_mw"] + tol) | (-fl["p1_mw"] > fl["limit_mw"] + tol)
              | (fl["p1_mw"] > fl["limit_reverse_mw"] + tol) | (-fl["p0_mw"] > fl["limit_reverse_mw"] + tol)]
    if len(over):
        r = over.iloc[0]
        issues.append(f"{len(over)} branch-hours over their limits, e.g. {r['branch']} {r['hour']}: {r['p0_mw']:.1f} MW")
    # Simultaneous charge and discharge (or two-way flow on a lossy link) wastes energy. Where the price is
    # not positive (a surplus that would otherwise be curtailed) it is an LP-equivalent of curtailment and
    # costs nothing; where energy has value it means a modelling error, so only those hours are flagged.
    price = pr.set_index(["hour", "bus"])["price_cny_per_mwh"]
    valued = lambda hours, buses: price.reindex(pd.MultiIndex.from_arrays([hours, buses])).to_numpy() > 1e-6
    if "forward_mw" in fl:
        both = fl[(fl["forward_mw"] > tol) & (fl["reverse_mw"] > tol)]
        both = both[valued(both["hour"], both["bus0"]) | valued(both["hour"], both["bus1"])]
        if len(both):
            r = both.iloc[0]
            issues.append(f"{len(both)} link-hours flow both ways at once, e.g. {r['branch']} {r['hour']}")
    st = t["storage"]
    if len(st):
        both = st[(st["charge_mw"] > tol) & (st["discharge_mw"] > tol)]
        both = both[valued(both["hour"], both["bus"])]
        if len(both):
            r = both.iloc[0]
            issues.append(f"{len(both)} storage-hours charge and discharge at once, e.g. {r['unit']} {r['hour']}")
    g = t["generation"]
    over = g[g["p_mw"] > g["available_mw"] + tol]
    if len(over):
        r = over.iloc[0]
        issues.append(f"{len(over)} unit-hours above availability, e.g. {r['unit']} {r['hour']}")
    if len(g) and np.any(g["p_mw"] < -tol):
        issues.append("negative generator output")
    return issues
