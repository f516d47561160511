"""Solving the twin with HiGHS through pyomo, and mapping its solution onto the fast path's layout."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ...lp import OBJ_SCALE
from ...network import Network
from ..highs import Solution
from .model import build_pyomo_model


def solve_model(m: pyo.ConcreteModel, threads: int | None = 1, time_limit: float | None = None) -> dict[str, Any]:
    """Solve a (possibly extended) twin model with HiGHS through pyomo; returns status and objective (CNY).

    Values, duals (``m.dual``) and reduced costs (``m.rc``) are loaded into the model when it is optimal.
    HiGHS runs IPX with crossover (the fast path's choice below 500,000 nonzeros, where the twin is compared).
    """
    opt = pyo.SolverFactory("appsi_highs")
    opt.highs_options = {"threads": int(threads or 1), "solver": "ipx", "run_crossover": "on"}
    if time_limit:
        opt.config.time_limit = float(time_limit)
    # HiGHS keeps one thread scheduler per process, sized by the first solve that asks for threads; reset it
    # so that this solve's thread count is honoured whatever ran before in the process
    import highspy
    highspy.Highs.resetGlobalScheduler(True)
    t0 = time.perf_counter()
    res = opt.solve(m, load_solutions=False)
    seconds = time.perf_counter() - t0
    highspy.Highs.resetGlobalScheduler(True)
    tc = str(res.solver.termination_condition)
    status = {"optimal": "optimal", "infeasible": "infeasible", "unbounded": "unbounded",
              "maxTimeLimit": "time_limit", "infeasibleOrUnbounded": "infeasible"}.get(tc, "error")
    if status == "optimal":
        m.solutions.load_from(res)
        if hasattr(m, "rc") and m.rc.import_enabled():
            # results built without loading carry no per-variable reduced costs: the solver still holds them
            for v, val in opt.get_reduced_costs().items():
                m.rc[v] = val
    return {"status": status, "objective_cny": pyo.value(m.objective) / OBJ_SCALE if status == "optimal" else float("nan"),
            "solve_seconds": seconds, "message": tc, "algorithm": opt.highs_options["solver"]}


def solve_pyomo(net: Network, threads: int | None = 1, time_limit: float | None = None, **options: Any):
    """Build and solve the twin; map values and duals onto the fast path's layout for the result tables."""
    from ...formulation import build_lp
    options.pop("hooks", None)
    t0 = time.perf_counter()
    m = build_pyomo_model(net, **options)
    build_s = time.perf_counter() - t0
    out = solve_model(m, threads=threads, time_limit=time_limit)
    ctx = build_lp(net, **{**options, "kvl": "angles"})  # layout only: maps twin components to result columns
    lp = ctx.lp
    sol = Solution(status=out["status"], message=out["message"], solve_seconds=out["solve_seconds"],
                   algorithm=out["algorithm"])
    if out["status"] not in ("optimal", "time_limit"):
        return ctx, sol, build_s
    x = np.zeros(lp.ncols)
    rd = np.zeros(lp.nrows)
    act = np.zeros(lp.nrows)
    for name, b in lp.variables.items():
        comp = getattr(m, name, None)
        if comp is None:
            continue
        vals = _values(comp, b, lambda v: v.value if v.value is not None else 0.0)
        x[b.start:b.start + b.size] = vals
    for name, b in lp.rows.items():
        comp = getattr(m, name, None)
        if comp is None:
            continue
        rd[b.start:b.start + b.size] = _values(comp, b, lambda c: m.dual.get(c, 0.0))
    sol.x = x
    sol.row_dual = rd
    sol.col_dual = _reduced_costs(m, lp)
    sol.row_activity = lp.matrix @ x if lp.nrows else act
    sol.objective = out["objective_cny"] * OBJ_SCALE
    sol.primal_feasible = True
    return ctx, sol, build_s


def _values(comp, block, get) -> np.ndarray:
    out = np.zeros((block.hours, block.n))
    for i, e in enumerate(block.elements):
        for t in range(block.hours):
            key = (t, e) if block.hours > 1 or comp.dim() == 2 else e
            if key in comp:
                out[t, i] = get(comp[key])
    return out.ravel()


def _reduced_costs(m: pyo.ConcreteModel, lp) -> np.ndarray:
    """Reduced costs of the variables whose bounds carry shadow prices: flows, and capacities (the value of
    capacity is its capital cost minus its reduced cost)."""
    out = np.zeros(lp.ncols)
    for name in ("ac_flow", "link_fwd", "link_rev", *(n for n in lp.variables if n.startswith("capacity_"))):
        if name in lp.variables and hasattr(m, name):
            b = lp.variables[name]
            out[b.start:b.start + b.size] = _values(getattr(m, name), b, lambda v: m.rc.get(v, 0.0))
    return out
