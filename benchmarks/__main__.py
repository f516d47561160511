"""``python -m benchmarks``: measure gridopt phase by phase on a registry of sized cases.

Examples::

    python -m benchmarks --quick                       # CI smoke: tiny synthetic + shipped 24 h
    python -m benchmarks                               # the standard suite
    python -m benchmarks --cases shipped_168h syn_30x168 --compare solvers
    python -m benchmarks --cases shipped_168h --compare kvl --repeat 3
    python -m benchmarks --cases shipped_8760h --time-limit 600
    python -m benchmarks --merge benchmarks/results/A.json benchmarks/results/B.json --label all

Writes ``benchmarks/results/<timestamp>_<label>.json`` and ``.md`` and prints the Markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .cases import CASES, Case, select
from .report import comparison_ratios, fit_exponents, markdown
from .runner import machine_info, run_suite
from .variants import BASELINE, COMPARISONS, Variant, pyomo_available, pypsa_available

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="cases: " + ", ".join(f"{c.name} [{'/'.join(sorted(c.tags))}]"
                                                             for c in CASES.values()))
    p.add_argument("--quick", action="store_true", help="smoke run: tiny synthetic + shipped 24 h (seconds)")
    p.add_argument("--cases", nargs="+", metavar="NAME", help="cases to run (default: the standard suite)")
    p.add_argument("--compare", nargs="+", choices=sorted(COMPARISONS), default=[],
                   help="comparisons on the selected cases (run instead of the plain suite)")
    p.add_argument("--highs", nargs="+", default=[], metavar="OPTION=VALUE",
                   help="HiGHS options for the plain suite instead of ipm + crossover + presolve "
                        "(e.g. run_crossover=off)")
    p.add_argument("--repeat", type=int, default=1, help="measurements per case and variant; medians reported")
    p.add_argument("--threads", type=int, default=1, help="HiGHS threads (default 1, recorded)")
    p.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                   help="HiGHS time limit per solve, in seconds (status time_limit when reached)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="kill a measurement after this many seconds of wall time (default: time limit + 600 s)")
    p.add_argument("--label", default=None, help="name of the run in the output files")
    p.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON and Markdown files")
    p.add_argument("--merge", nargs="+", type=Path, metavar="JSON",
                   help="measure nothing: one report from earlier runs' JSON files (ratios, exponents recomputed)")
    p.add_argument("--no-write", action="store_true", help="print only; write no files")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be >= 1")
    if args.threads < 1:
        p.error("--threads must be >= 1")
    try:
        args.highs = dict(_option(o) for o in args.highs)
    except ValueError as exc:
        p.error(str(exc))
    return args


def _option(text: str) -> tuple[str, object]:
    """A HiGHS option from ``name=value``: numbers become int or float, everything else stays text."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ValueError(f"--highs expects OPTION=VALUE, got {text!r}")
    for cast in (int, float):
        try:
            return name, cast(value)
        except ValueError:
            pass
    return name, value


def plan_for(cases: list[Case], compare: list[str], notes: list[str],
             highs: dict[str, object] | None = None) -> list[tuple[str, Case, Variant]]:
    """(group, case, variant) triples: the baseline per case, or each comparison's variants per case."""
    if not compare:
        base = BASELINE
        if highs:
            base = Variant(", ".join(f"{k}={v}" for k, v in highs.items()), highs={**BASELINE.highs, **highs})
        return [("suite", c, base) for c in cases]
    plan = []
    for name in compare:
        if name == "pyomo":
            ok, why = pyomo_available()
            if not ok:
                notes.append(f"--compare pyomo skipped: {why}")
                continue
        if name == "pypsa":
            ok, why = pypsa_available()
            if not ok:
                notes.append(f"--compare pypsa skipped: {why}")
                continue
            synthetic = [c for c in cases if c.kind == "synthetic"]
            if len(synthetic) < len(cases):
                notes.append("--compare pypsa runs on synthetic cases only (the shipped case has no PyPSA twin)")
            for c in synthetic:
                plan += [(name, c, v) for v in COMPARISONS[name]()]
            continue
        variants = COMPARISONS[name]()
        if name == "solvers":
            labels = [v.label for v in variants]
            if "pdlp" not in labels:
                notes.append("the installed highspy has no pdlp solver")
        for c in cases:
            plan += [(name, c, v) for v in variants]
    return plan


def merge(paths: list[Path], label: str) -> dict[str, Any]:
    """One document from several runs: their results side by side, each tagged with its source file."""
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    results, notes, cases = [], [], {}
    for p, d in zip(paths, docs):
        for r in d["results"]:
            results.append({**r, "source": p.name})
        notes += [f"{p.name}: {n}" for n in d.get("notes", [])]
        cases.update(d.get("cases", {}))
    first = docs[0]
    run = {**first["run"], "label": label, "merged_from": [p.name for p in paths],
           "started": min(d["run"]["started"] for d in docs), "finished": max(d["run"]["finished"] for d in docs),
           "load_averages": {p.name: [d["machine"].get("load_average"), d["machine"].get("load_average_end")]
                             for p, d in zip(paths, docs)}}
    return {"schema": first.get("schema"), "run": run, "machine": first["machine"], "cases": cases,
            "results": results, "ratios": comparison_ratios(results), "exponents": fit_exponents(results),
            "notes": notes}


def write(doc: dict[str, Any], out: Path, label: str, started: datetime, progress) -> None:
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{started.strftime('%Y%m%d-%H%M%S')}_{label}"
    json_path, md_path = out / f"{stem}.json", out / f"{stem}.md"
    json_path.write_text(json.dumps(doc, indent=1, default=str) + "\n", encoding="utf-8")
    md_path.write_text(markdown(doc), encoding="utf-8")
    if progress:
        progress(f"wrote {json_path} and {md_path}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    progress = None if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    if args.merge:
        label = args.label or "merged"
        doc = merge(args.merge, label)
        print(markdown(doc))
        if not args.no_write:
            write(doc, args.out, label, datetime.now(UTC).astimezone(), progress)
        return 0
    try:
        cases = select(args.cases) if args.cases else select(tag="quick" if args.quick else "standard")
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    notes: list[str] = []
    plan = plan_for(cases, args.compare, notes, args.highs)
    label = args.label or ("quick" if args.quick else "-".join(["compare"] + args.compare) if args.compare
                           else "suite")
    started = datetime.now(UTC).astimezone()
    machine = machine_info()
    timeout = args.timeout if args.timeout is not None else (
        args.time_limit + 600.0 if args.time_limit else None)
    t0 = time.perf_counter()
    results = run_suite(plan, repeat=args.repeat, threads=args.threads, time_limit=args.time_limit,
                        timeout=timeout, progress=progress)
    for r in results:
        if r.get("status") == "time_limit":
            notes.append(f"{r['case']} / {r['variant']}: HiGHS stopped at the time limit ({args.time_limit} s); "
                         "its HiGHS run time is a lower bound")
        if r.get("timed_out"):
            notes.append(f"{r['case']} / {r['variant']}: killed after {timeout} s of wall time")
    doc: dict[str, Any] = {
        "schema": "gridopt-benchmarks/1",
        "run": {"label": label, "started": started.isoformat(timespec="seconds"),
                "finished": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
                "wall_s": time.perf_counter() - t0, "argv": sys.argv[1:] if argv is None else list(argv),
                "threads": args.threads, "repeat": args.repeat, "time_limit": args.time_limit,
                "compare": args.compare},
        "machine": machine,
        "cases": {c.name: {"kind": c.kind, "hours": c.hours, "start": c.start, "n_buses": c.n_buses,
                           "seed": c.seed, "description": c.describe()} for c in cases},
        "results": results,
        "ratios": comparison_ratios(results),
        "exponents": fit_exponents(results),
        "notes": notes,
    }
    doc["machine"]["load_average_end"] = machine_info()["load_average"]
    print(markdown(doc))
    if not args.no_write:
        write(doc, args.out, label, started, progress)
    return 0 if all(r.get("ok") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
