"""Windows joined into one Result: their kept hours, costs and summary, and an account of their joins."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..checks import check_tables
from ..engine import table_summary
from ..formulation.context import DispatchOptions, State
from ..network import Network
from ..results import TABLES, Result
from .joins import table_joins
from .states import state_after, transit
from .windows import Window, kept

UNITS = {"water_": "hm3", "soc_": "mwh", "gas_": "mm3", "committed_": "mw"}


def joins(net: Network, windows: list[Window], results: list[Result],
          starts: list[State]) -> tuple[dict[str, float], list[float]]:
    """How far each window's end state (after its kept hours) is from the state the next window started
    from, summed over the joins: `dropped` is what a window kept that the next did not get (lost, a
    conservative error), `created` is what the next window started with that its predecessor did not leave.
    Water counts each reservoir's volume plus the water on its way in from upstream; committed capacity
    created at a join was started without paying its start-up cost (`start_up_unpaid_cny`, also returned
    per window: the stitched start-up cost adds it in the window's first hour).
    Windows in one chain carry their state exactly (all zero); chains join where their end targets hold.
    These compare states at the joins; `stitch` adds the water checked hour by hour from the stitched table
    (`joins.table_joins`, its totals here and its per-reservoir report as summary["rolling"]
    ["joins_by_reservoir"]), counting the water in transit where it arrives."""
    out = {f"{key}{how}_{unit}": 0.0 for key, unit in UNITS.items() for how in ("dropped", "created")}
    out["start_up_unpaid_cny"] = 0.0
    gs, g = net.active("gas_storages"), net.tables["generators"]
    unpaid_at = [0.0]  # per window, paid in its first hour
    for k in range(1, len(windows)):
        end = state_after(net, results[k - 1], windows[k - 1], gs)
        nxt = starts[k]
        water = [{r: v + t.get(r, 0.0) for r, v in st.volume_hm3.items()}
                 for st, t in ((end, transit(net, end.outflow_m3s)), (nxt, transit(net, nxt.outflow_m3s)))]
        for key, a, b in (("water_", *water), ("soc_", end.soc_mwh, nxt.soc_mwh),
                          ("gas_", end.gas_inventory_mm3, nxt.gas_inventory_mm3),
                          ("committed_", end.committed_mw, nxt.committed_mw)):
            d = np.array([a[e] - b[e] for e in a if e in b])
            out[f"{key}dropped_{UNITS[key]}"] += float(d[d > 0].sum())
            out[f"{key}created_{UNITS[key]}"] += float(-d[d < 0].sum())
        created = {e: max(nxt.committed_mw[e] - v, 0.0) for e, v in end.committed_mw.items() if e in nxt.committed_mw}
        unpaid = float(sum(v * g.at[e, "start_up_cost"] for e, v in created.items()))
        out["start_up_unpaid_cny"] += unpaid
        unpaid_at.append(unpaid)
    return {k: round(float(v), 6) for k, v in out.items()}, unpaid_at


def _hourly_parts(windows: list[Window], results: list[Result], unpaid_at: list[float]):
    """Cost and penalty terms by hour over the kept hours; capacity a window found committed at its start
    is started there."""
    cost_h: dict[str, list] = {}
    pen_h: dict[str, list] = {}
    for r, w in zip(results, windows):
        for key, store in (("cost", cost_h), ("penalties", pen_h)):
            for k, v in r.parts[key].items():
                store.setdefault(k, []).append(np.asarray(v)[:w.keep])
    cost = {k: np.concatenate(v) for k, v in cost_h.items()}
    if "start_up_cny" in cost:
        first = np.cumsum([0] + [w.keep for w in windows[:-1]])
        cost["start_up_cny"][first] += unpaid_at
    return cost, {k: np.concatenate(v) for k, v in pen_h.items()}


def stitch(net: Network, run: DispatchOptions, windows: list[Window], results: list[Result], starts: list[State],
           coarse: Result, settings: dict[str, Any], seconds: float) -> Result:
    """One Result over the horizon from the windows' kept hours; `settings` go to summary["rolling"]."""
    join, unpaid_at = joins(net, windows, results, starts)
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        parts = [kept(r, w)[name] for r, w in zip(results, windows) if name in r.tables]
        parts = [p for p in parts if len(p)]
        tables[name] = pd.concat(parts, ignore_index=True) if parts else results[0].tables.get(name, pd.DataFrame())
    # water checked from the stitched table itself, per reservoir: a jump of one does not hide behind another's
    by_reservoir = table_joins(net, tables["hydro"], results[0].summary.get("hydro_initial_volume_hm3"))
    join.update({k: v for k, v in by_reservoir.items() if k != "reservoirs"})
    cost, pen = _hourly_parts(windows, results, unpaid_at)
    first = net.snapshots.get_loc(run.start)
    weights = pd.Series(net.weightings(slice(first, first + run.hours)),
                        index=pd.date_range(run.start, periods=run.hours, freq="h"))
    summary = {k: v for k, v in results[0].summary.items()
               if k in ("case", "scenario", "gridopt_version", "highspy_version", "input_hash", "kvl",
                        "carbon_price_covers")}
    summary.update(table_summary(net, weights, tables, cost, pen))
    summary.update({
        "start": run.start.isoformat(), "hours": run.hours, "status": _status(results),
        "objective_cny": float(sum(np.sum(v) for v in cost.values()) + sum(np.sum(v) for v in pen.values())),
        "carbon_price_cny_per_t": run.carbon_price, "carbon_caps_t": run.carbon_caps,
        "carbon_intensity_caps_t_per_mwh": run.intensity_caps,
        "carbon_shadow_price_cny_per_t": coarse.summary["carbon_shadow_price_cny_per_t"],
        "rolling": {"windows": len(windows), "window_hours": windows[0].keep,
                    "overlap_hours": windows[0].hours - windows[0].keep, **settings,
                    # its cost and penalties, without the pull towards the plan
                    "coarse_objective_cny": coarse.summary["cost_total_cny"] + coarse.summary["penalties_total_cny"],
                    "coarse_solve_seconds": coarse.summary["solve_seconds"],
                    "coarse_algorithm": coarse.summary.get("algorithm", ""), "wall_seconds": round(seconds, 2),
                    "joins": join, "joins_by_reservoir": by_reservoir["reservoirs"]},
        "build_seconds": float(sum(r.summary["build_seconds"] for r in results)),
        "solve_seconds": float(sum(r.summary["solve_seconds"] for r in results)),
        "rows": max(r.summary["rows"] for r in results), "columns": max(r.summary["columns"] for r in results),
        "nonzeros": max(r.summary["nonzeros"] for r in results),
        # the interior point code of each window, by size: "ipx", "hipo" or both ("hipo+ipx")
        "algorithm": "+".join(sorted({r.summary.get("algorithm", "") for r in results} - {""})),
        "hydro_initial_volume_hm3": results[0].summary.get("hydro_initial_volume_hm3", {}),
        "warnings": sorted({x for r in results for x in r.summary.get("warnings", [])}),
    })
    checks = check_tables(tables)
    summary["checks"] = checks
    return Result(summary=summary, tables=tables, checks=checks)


def _status(results: list[Result]) -> str:
    """optimal when every window is; time_limit when the rest stopped at the time limit with a solution."""
    statuses = {r.summary["status"] for r in results}
    if statuses <= {"optimal"}:
        return "optimal"
    return "time_limit" if statuses <= {"optimal", "time_limit"} else "error"
