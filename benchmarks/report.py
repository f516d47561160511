"""Ratios, fitted exponents and the Markdown report of one benchmark run.

Comparisons are ratios of figures measured in the same run on the same machine, never assertions:
each variant against its comparison's baseline (a "presolve off" variant against the same settings with
presolve on). Exponents are least-squares slopes of log(seconds) against log(hours).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

PHASE_COLUMNS = (("build_s", "build s"), ("pass_s", "pass s"), ("run_s", "HiGHS run s"),
                 ("run_cpu_s", "run CPU s"), ("extract_s", "extract s"), ("total_s", "total s"))
PRESOLVE_OFF = ", presolve off"


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None


def overhead(r: dict[str, Any]) -> float | None:
    """Modelling overhead: (build + pass + extract) / HiGHS run."""
    parts = [_num(r.get(k)) for k in ("build_s", "pass_s", "extract_s", "run_s")]
    if any(p is None for p in parts) or parts[3] <= 0:
        return None
    return (parts[0] + parts[1] + parts[2]) / parts[3]


def comparison_ratios(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For every comparison group and case: each variant's figures over its reference variant's."""
    out = []
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in results:
        if r.get("group", "suite") != "suite":
            groups.setdefault((r["group"], r["case"]), []).append(r)
    for (group, case), rows in groups.items():
        by_label = {r["variant"]: r for r in rows}
        base = rows[0]
        for r in rows[1:]:
            label = r["variant"]
            ref = by_label.get(label[:-len(PRESOLVE_OFF)]) if label.endswith(PRESOLVE_OFF) else None
            ref = ref or base
            entry: dict[str, Any] = {"group": group, "case": case, "variant": label, "reference": ref["variant"],
                                     "status": r.get("status"), "reference_status": ref.get("status")}
            for key in ("build_s", "pass_s", "run_s", "run_cpu_s", "extract_s", "total_s", "rows", "columns", "nonzeros",
                        "peak_rss_mb"):
                a, b = _num(r.get(key)), _num(ref.get(key))
                entry[f"{key}_ratio"] = a / b if a is not None and b else None
            a, b = _num(r.get("objective_cny")), _num(ref.get("objective_cny"))
            entry["objective_rel_diff"] = (a - b) / abs(b) if a is not None and b else None
            out.append(entry)
    return out


BEFORE_SOLVE = ("build_s", "build_cpu_s", "pass_s", "nonzeros")  # complete even when the solve is not


def fit_exponents(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Slope of log(seconds) vs log(hours) per network (shipped, or synthetic of a given size), baseline runs.

    Solve, extract, total and memory figures come from complete (optimal) measurements only; build and pass
    figures also from solves stopped at the time limit, since those phases finished. Where a horizon was
    measured more than once, the optimal measurement counts.
    """
    series: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        if not r.get("ok") or r.get("status") not in ("optimal", "time_limit") or r.get("variant") != "ipm+crossover":
            continue
        if r.get("kvl", "cycles") != "cycles" or r.get("path", "fast") != "fast":
            continue
        key = "shipped" if r.get("kind") == "shipped" else f"synthetic {r.get('n_buses')} buses"
        series.setdefault(key, []).append(r)
    out = []
    for key, rows in series.items():
        by_hours: dict[int, dict[str, Any]] = {}
        for r in sorted(rows, key=lambda r: r.get("status") != "optimal"):
            by_hours.setdefault(int(r["hours"]), r)
        if len(by_hours) < 2:
            continue
        hours = np.array(sorted(by_hours), dtype=float)
        entry: dict[str, Any] = {"network": key, "hours": [int(h) for h in hours],
                                 "status": [by_hours[int(h)].get("status") for h in hours]}
        for k in ("build_s", "build_cpu_s", "pass_s", "run_s", "run_cpu_s", "extract_s", "total_s", "nonzeros",
                  "peak_rss_mb"):
            vals = np.array([(_num(by_hours[int(h)].get(k)) or np.nan)
                             if k in BEFORE_SOLVE or by_hours[int(h)].get("status") == "optimal" else np.nan
                             for h in hours])
            ok = np.isfinite(vals) & (vals > 0)
            name = k.removesuffix("_s")
            if ok.sum() >= 2:
                slope, _ = np.polyfit(np.log(hours[ok]), np.log(vals[ok]), 1)
                entry[f"{name}_exponent"] = float(slope)
                entry[f"{name}_hours"] = [int(h) for h in hours[ok]]
            entry[f"{k}_values"] = [None if not np.isfinite(v) else float(v) for v in vals]
        out.append(entry)
    return out


# ---- Markdown ------------------------------------------------------------------------------------

def _f(x: Any, digits: int = 3) -> str:
    v = _num(x)
    if v is None:
        return "–"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def _i(x: Any) -> str:
    v = _num(x)
    return "–" if v is None else f"{int(v):,}"


def results_table(results: list[dict[str, Any]]) -> list[str]:
    head = ["case", "variant", "hours", "rows", "columns", "nonzeros"] + [h for _, h in PHASE_COLUMNS] + [
        "overhead", "peak RSS MiB", "status", "iterations"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in results:
        if not r.get("ok"):
            lines.append(f"| {r.get('case')} | {r.get('variant')} | {r.get('hours', '')} | "
                         + " | ".join("–" for _ in range(3 + len(PHASE_COLUMNS) + 2))
                         + f" | failed: {str(r.get('error', ''))[:80]} | |")
            continue
        it = r.get("iterations") or {}
        iters = ", ".join(f"{k} {v}" for k, v in it.items() if v)
        if r.get("algorithm"):
            iters = f"{r['algorithm']}: {iters}"
        cells = [r["case"], r["variant"], _i(r.get("hours")), _i(r.get("rows")), _i(r.get("columns")),
                 _i(r.get("nonzeros"))] + [_f(r.get(k)) for k, _ in PHASE_COLUMNS] + [
            _f(overhead(r), 2), _f(r.get("peak_rss_mb"), 0), str(r.get("status")), iters or "–"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _bounded(e: dict[str, Any], key: str, prefix: str) -> str:
    return prefix + _f(e.get(key), 2) if _num(e.get(key)) is not None else "–"


def ratio_table(ratios: list[dict[str, Any]]) -> list[str]:
    head = ["comparison", "case", "variant / reference", "HiGHS run", "run CPU", "build", "total", "rows", "nonzeros",
            "peak RSS", "objective diff", "status"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for e in ratios:
        od = _num(e.get("objective_rel_diff"))
        # a variant stopped at the time limit only gives a lower bound on its time ratios
        lb = "≥ " if e.get("status") == "time_limit" and e.get("reference_status") == "optimal" else ""
        lines.append("| " + " | ".join([
            e["group"], e["case"], f"{e['variant']} / {e['reference']}", _bounded(e, "run_s_ratio", lb),
            _bounded(e, "run_cpu_s_ratio", lb),
            _f(e.get("build_s_ratio"), 2), _bounded(e, "total_s_ratio", lb), _f(e.get("rows_ratio"), 2),
            _f(e.get("nonzeros_ratio"), 2), _f(e.get("peak_rss_mb_ratio"), 2),
            "–" if od is None else f"{od:+.1e}", f"{e.get('status')} / {e.get('reference_status')}"]) + " |")
    return lines


def exponent_table(exps: list[dict[str, Any]]) -> list[str]:
    """One row per network; each cell is the exponent and, in brackets, the horizons it was fitted on."""
    cols = (("build", "build"), ("build_cpu", "build CPU"), ("pass", "pass"), ("run", "HiGHS run"),
            ("run_cpu", "run CPU"), ("extract", "extract"), ("total", "total"), ("nonzeros", "nonzeros"),
            ("peak_rss_mb", "peak RSS"))
    head = ["network"] + [h for _, h in cols]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for e in exps:
        cells = [e["network"]]
        for k, _ in cols:
            v = e.get(f"{k}_exponent")
            cells.append("–" if v is None else f"{v:.2f} ({', '.join(str(h) for h in e[f'{k}_hours'])} h)")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def markdown(doc: dict[str, Any]) -> str:
    m, run = doc["machine"], doc["run"]
    v = m["versions"]
    out = [f"# gridopt benchmarks: {run['label']}", "",
           f"{run['started']} · {m['cpu_model']}, {m['cpus_usable']} of {m['cpu_count']} CPUs, "
           f"{m['memory_gib']} GiB · {m['platform']} · HiGHS threads {run['threads']} · "
           f"repeats {run['repeat']} (medians)" + (f" · HiGHS time limit {run['time_limit']} s"
                                                   if run.get("time_limit") else ""),
           f"Python {m['python']}, numpy {v.get('numpy')}, scipy {v.get('scipy')}, highspy {v.get('highspy')}, "
           f"pyomo {v.get('pyomo')}, gridopt {v.get('gridopt')} · commit {(m.get('git_commit') or '?')[:10]}"
           + (" (uncommitted changes)" if m.get("git_dirty") else "")
           + f" · load average at start {', '.join(f'{x:.2f}' for x in m.get('load_average') or [])}", "",
           ("Seconds per phase: build = build_lp + CSC assembly; pass = make_highs (options, HighsLp, passModel); "
            "HiGHS run = Highs.run() (run CPU = its CPU seconds, steadier on a shared machine); extract = read_solution + engine.finish (tables, balance checks, summary). "
            "total = the phases' sum, or for rolling the whole run's wall time, while its HiGHS run sums "
            "every window's and the coarse solve's, side by side in parallel modes. "
            "Overhead = (build + pass + extract) / HiGHS run. Peak RSS = the measuring process's maximum "
            "resident set (one process per measurement)."), ""]
    out += results_table(doc["results"])
    if doc.get("ratios"):
        out += ["", "## Comparisons (ratios measured in this run)", ""]
        out += ratio_table(doc["ratios"])
    if doc.get("exponents"):
        out += ["", "## Fitted exponents: seconds ∝ hours^k (baseline runs)", ""]
        out += exponent_table(doc["exponents"])
    if doc.get("notes"):
        out += ["", "## Notes", ""] + [f"- {n}" for n in doc["notes"]]
    return "\n".join(out) + "\n"
