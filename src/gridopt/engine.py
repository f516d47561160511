"""`dispatch`: build the LP, solve it, and return results that check their own physics."""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from ._version import __version__
from .accounts import region_accounts
from .checks import check_tables
from .errors import SolveError, UsageError
from .formulation import build_lp
from .formulation.capacity import built_capacity, changed_capacity, investment_warnings
from .formulation.context import Context
from .formulation.emissions import carbon_price_covers, imported_emissions_summary
from .lp import OBJ_SCALE
from .network import Network
from .results import Result, extract
from .solvers.highs import Solution
from .units import HM3_PER_M3S_HOUR


def dispatch(net: Network, start=None, hours: int | None = None, carbon_price: float | None = None,
             carbon_caps: dict[str, float] | None = None, intensity_caps: dict[str, float] | None = None,
             solver: str = "highs", kvl: str = "cycles", threads: int | None = 1, time_limit: float | None = None,
             reserves: bool = True, gas: bool = True, hooks=(), highs_options: dict[str, Any] | None = None,
             raise_on_failure: bool = True, state=None, targets=None, imported_emissions: str | None = None,
             progress: Callable[[str], None] | None = None) -> Result:
    """Dispatch `net` over `hours` snapshots from `start` at least cost plus priced CO2.

    Parameters carry units: carbon_price in CNY/t, carbon_caps in t over the horizon per region
    (or 'system'), intensity_caps in t/MWh, time_limit in seconds. `imported_emissions` ('none' or
    'attributed'; default the case's) says whether the carbon price and caps also cover the emissions of
    power bought from outside the regions (the rule: gridopt.formulation.emissions). `solver` is 'highs' (the
    sparse fast path) or 'pyomo' (the twin model, solved by HiGHS through pyomo). `hooks` are callables given the
    build context after every family is added, to add rows over named variable blocks. `state` and `targets`
    (gridopt.formulation.State / Targets) carry initial states and end targets, as rolling horizons do.
    `progress`, if given, is told a long HiGHS solve's elapsed time and iterations now and then (fast path).
    Returns a `Result`; raises SolveError (status infeasible/unbounded/error) unless raise_on_failure=False.
    """
    if solver not in ("highs", "pyomo"):
        raise UsageError(f"--solver must be 'highs' or 'pyomo', got {solver!r}")
    if solver == "pyomo" and net.periods is not None and net.periods.storage == "clustered":
        raise UsageError("the pyomo twin chains every store through the snapshots: representative periods with "
                         "clustered storage run on --solver highs (or use --periods-storage chained)")
    opts = dict(start=start, hours=hours, carbon_price=carbon_price, carbon_caps=carbon_caps,
                intensity_caps=intensity_caps, kvl=kvl, reserves=reserves, gas=gas, hooks=hooks, state=state,
                targets=targets, imported_emissions=imported_emissions)
    t0 = time.perf_counter()
    if solver == "pyomo":
        from .solvers.pyomo import solve_pyomo
        ctx, sol, build_s = solve_pyomo(net, threads=threads, time_limit=time_limit, **opts)
    else:
        ctx = build_lp(net, **opts)
        _ = ctx.lp.matrix  # assembly belongs to the build
        build_s = time.perf_counter() - t0
        from .solvers.highs import solve
        sol = solve(ctx.lp, threads=threads, time_limit=time_limit, progress=progress, **(highs_options or {}))
    return finish(ctx, sol, build_s, solver, raise_on_failure)


def finish(ctx: Context, sol: Solution, build_seconds: float, solver: str, raise_on_failure: bool = True) -> Result:
    summary = base_summary(ctx, sol, build_seconds, solver)
    if sol.status in ("optimal", "time_limit") and sol.x.size == ctx.lp.ncols:
        t0 = time.perf_counter()
        tables, parts = extract(ctx, sol)
        checks = check_tables(tables)
        summary.update(summarise(ctx, sol, tables, parts))
        summary["extract_seconds"] = round(time.perf_counter() - t0, 4)
        summary["checks"] = checks
        return Result(summary=summary, tables=tables, checks=checks, context=ctx, solution=sol, parts=parts)
    if raise_on_failure:
        raise SolveError(f"{sol.status}: {sol.message}", status=sol.status)
    return Result(summary=summary, context=ctx, solution=sol)


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "unknown"


NUMERIC_SPAN_WARN = 1e9  # HiGHS works best below ~1e9 between the largest and smallest matrix entries


def numerical_warnings(ctx: Context, sol: Solution) -> tuple[dict[str, list[float]], list[str]]:
    """Coefficient ranges of the LP and warnings a planner should see (bad scaling, unreliable status)."""
    ranges = ctx.lp.ranges()
    warnings = []
    lo, hi = ranges["matrix"]
    if lo > 0 and hi / lo > NUMERIC_SPAN_WARN:
        warnings.append(f"matrix coefficients span {lo:.3g} .. {hi:.3g} (ratio {hi / lo:.2g}); HiGHS may lose accuracy: "
                        "check for tiny reactances, production coefficients or huge ratings")
    lo, hi = ranges["cost"]
    if lo > 0 and hi / lo > 1e12:
        warnings.append(f"objective coefficients span {lo:.3g} .. {hi:.3g}; check penalties and prices")
    if sol.status == "optimal" and sol.message not in ("Optimal",):
        warnings.append(f"HiGHS reported {sol.message!r}")
    if sol.status not in ("optimal", "infeasible", "unbounded") and sol.message:
        warnings.append(f"HiGHS ended with {sol.message!r}")
    return ranges, warnings


def base_summary(ctx: Context, sol: Solution, build_seconds: float, solver: str) -> dict[str, Any]:
    o = ctx.options
    size = ctx.lp.size_info()
    ranges, warnings = numerical_warnings(ctx, sol)
    warnings += investment_warnings(ctx)
    return {
        "case": ctx.net.name, "scenario": ctx.net.scenario, "start": o.start.isoformat(), "hours": o.hours,
        "status": sol.status, "solver": solver, "algorithm": sol.algorithm, "gridopt_version": __version__,
        "highspy_version": _version("highspy"), "input_hash": ctx.net.content_hash(),
        "carbon_price_cny_per_t": o.carbon_price, "carbon_price_covers": carbon_price_covers(o), "kvl": o.kvl,
        "carbon_caps_t": o.carbon_caps, "carbon_intensity_caps_t_per_mwh": o.intensity_caps,
        "build_seconds": round(build_seconds, 4), "pass_seconds": round(sol.pass_seconds, 4),
        "solve_seconds": round(sol.solve_seconds, 4), **size, "iterations": sol.iterations,
        "solver_message": sol.message, "coefficient_ranges": ranges, "warnings": warnings,
        # representative periods: what the snapshots stand for; weighted figures below are then annual
        "periods": None if ctx.net.periods is None else ctx.net.periods.summary(),
        "represented_hours": float(ctx.weights.sum()),
    }


def table_summary(net: Network, weights: pd.Series, t: dict[str, pd.DataFrame], cost_hourly: dict[str, np.ndarray],
                  pen_hourly: dict[str, np.ndarray]) -> dict[str, Any]:
    """Summary figures computed from result tables and per-hour cost/penalty parts (any set of hours)."""
    w = weights
    wt = lambda df, col: float((df[col] * df["hour"].map(w)).sum())
    cost = {k: float(np.sum(v)) for k, v in cost_hourly.items()}
    pen = {k: float(np.sum(v)) for k, v in pen_hourly.items()}
    gen = t["generation"]
    regions = net.regions
    em = t["emissions"]
    # emissions count as the caps do, with the energy weighting (PyPSA's 'generators'; the objective's unless given)
    pos = net.snapshots.get_indexer(w.index)
    we = pd.Series(net.energy_weightings(pos), index=w.index) if (pos >= 0).all() else w
    emissions = {r: float((em.loc[em["region"] == r, "co2_t"] * em.loc[em["region"] == r, "hour"].map(we)).sum())
                 for r in sorted(em["region"].unique())}
    emissions["system"] = sum(v for r, v in emissions.items() if r in regions)
    gen_by = {c: wt(gen[gen["carrier"] == c], "p_mw") for c in sorted(gen["carrier"].unique())}
    curt = {c: wt(gen[gen["carrier"] == c], "curtailed_mw") for c in sorted(gen["carrier"].unique())
            if gen.loc[gen["carrier"] == c, "curtailed_mw"].sum() > 0 or c in ("pv", "wind")}
    pr = t["prices"]
    prices = {}
    for r in regions + ["external"]:
        sub = pr[pr["region"] == r]
        if len(sub) and (sub["load_mw"] > 0).any():
            # weighted by the energy each hour's load stands for (snapshot weightings: representative periods)
            prices[r] = float(np.average(sub["price_cny_per_mwh"],
                                         weights=np.maximum(sub["load_mw"], 1e-9) * sub["hour"].map(w).to_numpy()))
    interchange = 0.0
    pair = net.config["interchange"]
    if len(pair) == 2:
        br = net.tables["buses"]["region"]
        fl = t["flows"]
        r0, r1 = fl["bus0"].map(br), fl["bus1"].map(br)
        fwd = fl[(r0 == pair[0]) & (r1 == pair[1])]
        back = fl[(r0 == pair[1]) & (r1 == pair[0])]
        # power leaving the first region: p0 where it holds bus0, p1 where it holds bus1
        interchange = wt(fwd, "p0_mw") + wt(back, "p1_mw")
    hy = t["hydro"]
    dur = np.unique(net.durations(net.snapshots.get_indexer(weights.index)))
    dt = float(dur[0]) if len(dur) == 1 else None  # None: mixed durations (a window with a coarse look-ahead)
    return {
        "cost_total_cny": sum(cost.values()), "penalties_total_cny": sum(pen.values()),
        "cost_cny": cost, "penalties_cny": pen,
        "emissions_t": emissions,
        **imported_emissions_summary(net, w, t),
        "generation_mwh": gen_by,
        "load_mwh": wt(pr[pr["region"] != "external"], "load_mw"),
        "load_shed_mwh": {"interruptible": wt(pr, "shed_interruptible_mw"), "firm": wt(pr, "shed_firm_mw"),
                          "total": wt(pr, "shed_mw")},
        "curtailment_mwh": curt,
        "spill_hm3": float((hy["spill_m3s"] * hy["hour"].map(w)).sum() * HM3_PER_M3S_HOUR) if len(hy) else 0.0,
        "interchange_sc_to_cq_mwh": interchange,
        "interchange_regions": list(pair),
        "mean_price_cny_per_mwh": prices,
        "snapshot_hours": dt,
    }


def summarise(ctx: Context, sol: Solution, t: dict[str, pd.DataFrame], parts: dict[str, Any]) -> dict[str, Any]:
    out = table_summary(ctx.net, pd.Series(ctx.weights, index=ctx.snapshots), t, parts["cost"], parts["penalties"])
    shadow = {}
    lp = ctx.lp
    if sol.row_dual.size == lp.nrows:
        for rows, label in (("carbon_cap", "cap"), ("carbon_intensity_cap", "intensity_cap")):
            if rows in lp.rows:
                d = -lp.rows[rows].take(sol.row_dual)[0] / OBJ_SCALE
                for k, v in zip(lp.rows[rows].elements, d):
                    shadow[f"{label}:{k}"] = float(max(v, 0.0))
    out.update({
        "objective_cny": sol.objective / OBJ_SCALE,
        # terms of the objective outside cost and penalties (rolling windows' terminal values, build hooks):
        # objective_cny = cost_total_cny + penalties_total_cny + the sum of these
        "other_objective_cny": {k: float(np.sum(v)) for k, v in parts["other"].items()},
        # capital cost of capacity the LP decided: capital_cost * (optimal - existing), apart from operation;
        # objective_cny = cost_total_cny + penalties_total_cny + investment_cny + the other terms
        "investment_cny": float(sum(np.sum(v) for v in parts["investment"].values())),
        "capacity_built": built_capacity(t["capacities"]),
        "capacity_changed": changed_capacity(t["capacities"]),  # [existing, optimal] where they differ
        "water_in_transit_hm3": parts["water_in_transit_hm3"],
        "hydro_initial_volume_hm3": dict(zip(ctx.hydro.table.index, map(float, ctx.hydro.volume_initial_hm3))),
        "end_target_shortfall_hm3": float(parts["end_shortfall_hm3"].sum()),
        "carbon_shadow_price_cny_per_t": shadow,
        # the objective split by region, term by term (adds up to objective_cny; rules in gridopt.accounts)
        "by_region": region_accounts(ctx, sol.x, t),
        "gas": {k: v for k, v in parts["gas"].items()},
    })
    return out
