"""Explain an infeasible LP in a planner's terms.

HiGHS's feasibility relaxation finds the smallest weighted violation of row and column bounds that makes
the LP feasible; the violated rows and columns are mapped back to their block (constraint family),
element and hour, and the largest are reported.
"""

from __future__ import annotations

import numpy as np

from .formulation import build_lp
from .network import Network
from .solvers.highs import make_highs

# the unit a violation of each block is measured in, by the block's name (rows and variables alike)
_UNITS = (("hydro_volume", "hm3"), ("hydro_end", "hm3"), ("hydro_boundary", "hm3"), ("hydro_rule", "hm3"),
          ("hydro_eco", "m3/s"), ("hydro_release", "m3/s"), ("hydro_spill", "m3/s"), ("storage_soc", "MWh"),
          ("gas_storage_balance", "1000 m3"), ("gas_inventory", "1000 m3"), ("gas", "1000 m3/h"),
          ("pipe", "1000 m3/h"), ("carbon_intensity", "t"), ("carbon", "t"), ("kvl", "MW (scaled by reactance)"),
          ("", "MW"))


def unit_of(block: str) -> str:
    """The unit of a row or variable block's values (MW unless the block is about water, energy, gas or CO2)."""
    return next(u for prefix, u in _UNITS if block.startswith(prefix))


def diagnose(net: Network, top: int = 8, **options) -> list[str]:
    ctx = build_lp(net, **options)
    lp = ctx.lp
    h = make_highs(lp)
    # bounds (ratings, must-run, dead pool) cost ten times more to relax than rows, so the diagnosis names
    # first where energy or water does not balance, and a bound only where no row relaxation would do
    h.feasibilityRelaxation(10.0, 10.0, 1.0)
    sol = h.getSolution()
    if not sol.value_valid:
        return ["no diagnosis: the feasibility relaxation found no solution"]
    arr = lp.arrays()
    x = np.asarray(sol.col_value)
    act = np.asarray(sol.row_value)
    row_v = np.maximum(arr["row_lower"] - act, 0) + np.maximum(act - arr["row_upper"], 0)
    col_v = np.maximum(arr["col_lower"] - x, 0) + np.maximum(x - arr["col_upper"], 0)
    out = []
    for blocks, viol, what in ((lp.rows, row_v, "constraint"), (lp.variables, col_v, "bound of")):
        for name, b in blocks.items():
            v = b.take(viol)
            if v.size == 0 or v.max() <= 1e-6:
                continue
            t_idx, e_idx = np.nonzero(v > 1e-6)
            by_elem = {}
            for t, e in zip(t_idx, e_idx):
                by_elem.setdefault(b.elements[e], []).append((t, v[t, e]))
            for elem, hits in sorted(by_elem.items(), key=lambda kv: -max(h for _, h in kv[1]))[:top]:
                hours = [ctx.snapshots[t] if b.hours == ctx.T else "horizon" for t, _ in hits]
                worst = max(h for _, h in hits)
                out.append(f"{what} {name} at {elem}: violated in {len(hits)} hour(s) from {hours[0]} "
                           f"(largest violation {worst:.4g} {unit_of(name)}); relax it or check its inputs")
    return out[:top] or ["no violated constraint found by the relaxation"]
