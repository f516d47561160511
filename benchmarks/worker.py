"""Measure one case under one variant, in this process, phase by phase.

Run as ``python -m benchmarks.worker SPEC.json OUT.json`` by the runner, one process per measurement, so
the peak resident set of one case never mixes with another's. Phases (wall seconds from ``time.perf_counter``, and
CPU seconds of this process from ``time.process_time`` as ``<phase>_cpu_s``):

- ``load_s``: load or generate the network (not part of the model's cost; reported apart);
- ``warmup_s``: a 2-hour build, so first-call costs (imports, caches) stay out of ``build_s``;
- ``build_s``: ``build_lp`` plus the one CSC assembly of the matrix;
- ``pass_s``: ``make_highs``: options, conversion to a ``HighsLp`` and ``passModel``;
- ``run_s``: ``Highs.run()``;
- ``extract_s``: reading solution arrays back (``read_solution``) and ``gridopt.engine.finish``
  (tidy tables, after-solve balance checks, summary).

Memory: ``ru_maxrss`` (RUSAGE_SELF, Linux reports KiB) after every phase, so the phase that sets the
peak is visible, and RUSAGE_CHILDREN at the end.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import traceback
from typing import Any

from benchmarks.phases import Phase, peak_rss_mb


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Measure the case and variant described by `spec` (see `benchmarks.runner.spec_for`)."""
    from benchmarks.cases import CASES, Case
    from benchmarks.variants import Variant

    fields = spec.get("case_fields") or {}
    case = Case(**{**fields, "tags": frozenset(fields.get("tags", ()))}) if fields else CASES[spec["case"]]
    variant = Variant.from_dict(spec["variant"])
    out: dict[str, Any] = {"case": case.name, "variant": variant.label, "path": variant.path, "kvl": variant.kvl,
                           "highs_options": dict(variant.highs), "threads": spec["threads"],
                           "time_limit_s": spec.get("time_limit")}
    import gridopt  # noqa: F401 - counted in the baseline memory
    out["rss_after_imports_mb"] = peak_rss_mb()
    with Phase(out, "load"):
        net = case.network()
    out["rss_after_load_mb"] = peak_rss_mb()
    out["input_hash"] = net.content_hash()  # which data were measured (the shipped series can be rebuilt)
    if variant.path == "fast":
        _fast(case, variant, net, spec, out)
    elif variant.path == "pyomo":
        _pyomo(case, variant, net, spec, out)
    elif variant.path == "rolling":
        _rolling(case, variant, net, spec, out)
    elif variant.path == "pypsa":
        from benchmarks.pypsa_twin import measure_pypsa
        measure_pypsa(case, variant, net, spec, out)
    else:
        raise ValueError(f"unknown path {variant.path!r}")
    out["peak_rss_self_mb"] = peak_rss_mb()
    out["peak_rss_children_mb"] = peak_rss_mb(resource.RUSAGE_CHILDREN)
    return out


def _fast(case, variant, net, spec: dict[str, Any], out: dict[str, Any]) -> None:
    import gridopt
    from gridopt.engine import finish
    from gridopt.solvers.highs import make_highs, read_solution

    threads, time_limit = spec["threads"], spec.get("time_limit")
    with Phase(out, "warmup"):
        if net.periods is None:  # representative periods are built whole or not at all
            warm = gridopt.build_lp(net, start=case.start, hours=min(2, case.hours), kvl=variant.kvl)
            _ = warm.lp.matrix
            del warm

    with Phase(out, "build"):
        ctx = gridopt.build_lp(net, start=case.start, hours=case.hours, kvl=variant.kvl)
        _ = ctx.lp.matrix
    out["rss_after_build_mb"] = peak_rss_mb()
    out.update(ctx.lp.size_info())

    with Phase(out, "pass"):
        h = make_highs(ctx.lp, threads=threads, time_limit=time_limit, **variant.highs)
    out["rss_after_pass_mb"] = peak_rss_mb()

    with Phase(out, "run"):
        h.run()
    out["rss_after_run_mb"] = peak_rss_mb()
    out["highs_run_time_s"] = float(h.getRunTime())

    with Phase(out, "extract"):
        sol = read_solution(h, pass_seconds=out["pass_s"], solve_seconds=out["run_s"])
        res = finish(ctx, sol, out["build_s"], "highs", raise_on_failure=False)
    out["rss_after_extract_mb"] = peak_rss_mb()
    _outcome(res, sol, out)
    info = h.getInfo()
    out["iterations"]["pdlp"] = int(getattr(info, "pdlp_iteration_count", 0))
    out["algorithm"] = sol.algorithm
    out["total_s"] = out["build_s"] + out["pass_s"] + out["run_s"] + out["extract_s"]
    out["total_cpu_s"] = out["build_cpu_s"] + out["pass_cpu_s"] + out["run_cpu_s"] + out["extract_cpu_s"]


def _pyomo(case, variant, net, spec: dict[str, Any], out: dict[str, Any]) -> None:
    """The pyomo twin through gridopt's own back-end (``solve_pyomo``, HiGHS via pyomo's appsi interface).

    build = ``build_pyomo_model``; HiGHS run = the appsi solve, which also passes the model to HiGHS (no
    separate pass figure); extract = mapping values and duals back onto the fast path's layout (what
    ``solve_pyomo`` does after the solve) plus ``engine.finish``. The twin writes KVL with angles and
    solves with its own HiGHS settings (IPX + crossover), whatever the variant says.
    """
    from gridopt.engine import finish
    from gridopt.solvers.pyomo import solve_pyomo

    t = time.perf_counter()
    ctx, sol, build_s = solve_pyomo(net, threads=spec["threads"], time_limit=spec.get("time_limit"),
                                    start=case.start, hours=case.hours)
    wall = time.perf_counter() - t
    out["build_s"] = float(build_s)
    out["pass_s"] = None
    out["run_s"] = float(sol.solve_seconds)
    out["rss_after_run_mb"] = peak_rss_mb()
    t = time.perf_counter()
    res = finish(ctx, sol, build_s, "pyomo", raise_on_failure=False)
    out["extract_s"] = max(wall - build_s - sol.solve_seconds, 0.0) + time.perf_counter() - t
    out["rss_after_extract_mb"] = peak_rss_mb()
    out.update(ctx.lp.size_info())  # the fast path's angle layout, which the twin mirrors row for row
    out["size_note"] = "rows/columns/nonzeros of the fast path's angle formulation"
    _outcome(res, sol, out)
    out["total_s"] = out["build_s"] + out["run_s"] + out["extract_s"]


def _rolling(case, variant, net, spec: dict[str, Any], out: dict[str, Any]) -> None:
    """Rolling windows (``gridopt.dispatch_rolling``): the whole run is timed; build and HiGHS figures are
    sums over the coarse solve's and the windows' own measurements; parallel workers count as children
    in the peak resident set."""
    from gridopt.rolling import dispatch_rolling

    with Phase(out, "total"):
        res = dispatch_rolling(net, start=case.start, hours=case.hours, kvl=variant.kvl, threads=spec["threads"],
                               time_limit=spec.get("time_limit"), highs_options=dict(variant.highs), **variant.rolling)
    roll = res.summary["rolling"]
    out["build_s"] = float(res.summary["build_seconds"])
    out["pass_s"] = None
    out["run_s"] = float(res.summary["solve_seconds"]) + float(roll["coarse_solve_seconds"])
    out["extract_s"] = None
    out.update({"rows": res.summary["rows"], "columns": res.summary["columns"], "nonzeros": res.summary["nonzeros"]})
    out["size_note"] = "rows/columns/nonzeros of the largest window"
    out["status"] = res.summary["status"]
    out["objective_cny"] = float(res.summary["objective_cny"])
    out["iterations"] = {}
    out["balance_check_failures"] = len(res.checks)
    out["rolling"] = {k: roll[k] for k in ("windows", "window_hours", "overlap_hours", "tail_hours", "tail_block_hours",
                                           "coarse_hours", "mode", "chains", "guide", "credit",
                                           "coarse_solve_seconds", "joins")}
    if variant.rolling.get("parallel"):  # workers run side by side: at most this much at once
        out["rss_parallel_bound_mb"] = peak_rss_mb() + variant.rolling.get("processes", 2) * peak_rss_mb(
            resource.RUSAGE_CHILDREN)


def _outcome(res, sol, out: dict[str, Any]) -> None:
    from gridopt.lp import OBJ_SCALE
    out["status"] = sol.status
    out["objective_cny"] = float(sol.objective) / OBJ_SCALE if sol.objective == sol.objective else None
    out["iterations"] = dict(sol.iterations)
    out["balance_check_failures"] = len(res.checks) if res.tables else None  # None: nothing extracted
    if res.tables:  # what the run says about the horizon it stands for (the year, for representative periods)
        s = res.summary
        out["generation_twh"] = {c: v / 1e6 for c, v in s["generation_mwh"].items()}
        out["represented_hours"] = s.get("represented_hours")
        out["emissions_system_mt"] = s["emissions_t"].get("system", 0.0) / 1e6


def main(argv: list[str]) -> int:
    spec_path, out_path = argv[1], argv[2]
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    try:
        out = measure(spec)
        out["ok"] = True
    except Exception as exc:  # noqa: BLE001 - every failure is reported in the results, not raised
        out = {"case": spec.get("case"), "variant": spec.get("variant", {}).get("label"), "ok": False,
               "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(limit=8),
               "peak_rss_self_mb": peak_rss_mb()}
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f, default=float)
    return 0 if out.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
