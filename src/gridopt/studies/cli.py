"""Sub-commands of `gridopt` for studies across runs (registered by gridopt.cli).

    gridopt compare RUN_A RUN_B [RUN_C ...] [--out FILE.md|FILE.csv] [--all] [--allow-different-horizons]
    gridopt sweep CASE --vary KEY=V1,V2,... [--vary ...] --out DIR [--processes N | --scheduler ADDRESS]
    gridopt pareto CASE --points K --out DIR
    gridopt plot RUN_OR_SWEEP [--out DIR] [--case CASE]

Exit codes as `gridopt run`: 0 ok, 2 wrong usage, 3 a run (or frontier point) not solved.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from ..argtypes import kv, nonneg_float, positive_int, timestamp
from ..errors import UsageError
from ..progress import Progress

IMPORTED = ["none", "attributed"]


def _say(msg: str) -> None:
    Progress().say(msg)


def _run_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", help="case name in networks/ or path to a case folder")
    p.add_argument("--scenario", action="append", default=None, metavar="NAME",
                   help="scenario overlay for every run; repeat to combine, applied in the order given")
    p.add_argument("--start", type=timestamp, default=None, help="first snapshot, e.g. 2025-08-04")
    p.add_argument("--hours", type=positive_int, default=None, help="number of snapshots (default: the case's)")
    p.add_argument("--carbon-cap", type=kv, action="append", default=[], metavar="REGION=TONNES",
                   help="cap on CO2 over the horizon, t, per region or 'system' (repeatable)")
    p.add_argument("--imported-emissions", choices=IMPORTED, default=None,
                   help="whether the carbon price and caps cover imported power's emissions (default: the case's)")
    p.add_argument("--processes", type=positive_int, default=None,
                   help="local processes solving side by side (default 2)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress lines on stderr (errors still); on a terminal each finished run gets a line")


def register(sub: argparse._SubParsersAction, commands: dict[str, Callable]) -> None:
    """Add the study commands to the parser and their handlers to `commands`."""
    p = sub.add_parser("compare", help="table of what differs between results folders",
                       description="Compare results folders of `gridopt run`: per figure, its value in every run "
                                   "and the difference of each later run from the first (later minus first). "
                                   "Money in CNY, energy in MWh, emissions in t, prices in CNY/MWh, corridor "
                                   "values in CNY/MW; sums weighted by snapshot weightings.")
    p.add_argument("runs", nargs="+", metavar="RUN", help="results folders (two or more; the first is the reference)")
    p.add_argument("--out", default=None, metavar="FILE", help="also write the table: FILE.md (Markdown) or FILE.csv")
    p.add_argument("--all", action="store_true", help="also show rows that are zero in every run")
    p.add_argument("--allow-different-horizons", action="store_true",
                   help="compare runs whose start, hours or represented hours differ")
    commands["compare"] = cmd_compare

    p = sub.add_parser("sweep", help="one run per combination of overrides, and sweep.parquet",
                       description="Dispatch a case once per combination of --vary values (their cartesian "
                                   "product), each run in its own folder under --out, and write --out/sweep.parquet "
                                   "(a row per run: its overrides and its summary). Keys: carbon_price (CNY/t), "
                                   "carbon_cap.REGION (t), intensity_cap.REGION (t/MWh), scenario (A+B), start, "
                                   "hours, periods, imported_emissions, scale.SERIES, scale.TABLE.COLUMN (factors) "
                                   "and any case.toml setting by a dotted key (penalties.voll_firm_cny_per_mwh); "
                                   "see docs/studies.md. Runs complete from an earlier sweep of the same inputs "
                                   "are kept. Exit 0 if every run is optimal, else 3.")
    _run_opts(p)
    p.add_argument("--vary", action="append", required=True, metavar="KEY=V1,V2,...",
                   help="a key and its values (repeatable: every combination is run)")
    p.add_argument("--carbon-price", type=nonneg_float, default=None,
                   help="carbon price in CNY/t for every run (default: the case's)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on a dask.distributed cluster (e.g. tcp://10.0.0.5:8786) instead of local processes; "
                        "its workers write the run folders, so --out must be a folder they reach")
    p.add_argument("--out", required=True, metavar="DIR", help="sweep folder")
    commands["sweep"] = cmd_sweep

    p = sub.add_parser("pareto", help="cost-emissions frontier (epsilon-constraint)",
                       description="Trace the cost-emissions frontier between the least-cost and the "
                                   "least-emission dispatch by the epsilon-constraint method, with every penalty "
                                   "(load shed, curtailment, spill, ...) held at its least-cost value; writes "
                                   "pareto.parquet (cost in CNY, CO2 in t, carbon shadow price in CNY/t) and "
                                   "pareto.png to --out. See docs/studies.md.")
    _run_opts(p)
    p.add_argument("--points", type=positive_int, default=5, help="points on the frontier, both ends included (>= 2)")
    p.add_argument("--carbon-price", type=nonneg_float, default=0.0,
                   help="carbon price in CNY/t on every point (default 0: cost holds no carbon charge)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for pareto.parquet and pareto.png")
    commands["pareto"] = cmd_pareto

    p = sub.add_parser("plot", help="PNG charts of a results folder or of a sweep",
                       description="Draw the charts of a results folder (dispatch, prices, flows, reservoirs, "
                                   "storage, gas, capacities, network map) or of a sweep or pareto folder "
                                   "(cost and emissions against the carbon price, the frontier).")
    p.add_argument("path", metavar="RUN", help="results folder, or a folder with sweep.parquet or pareto.parquet")
    p.add_argument("--out", default=None, metavar="DIR", help="folder for the PNG files (default RUN/charts)")
    p.add_argument("--case", default=None,
                   help="the run's case (name or folder) where its summary's case name does not find it")
    commands["plot"] = cmd_plot
    _register_calibrate(sub, commands)


def _register_calibrate(sub: argparse._SubParsersAction, commands: dict[str, Callable]) -> None:
    p = sub.add_parser("calibrate", help="the case's year beside published figures: CALIBRATION.md and charts",
                       description="Run the case over its year (the rolling default, or one LP with --exact) "
                                   "and set what it did beside the published figures of its calibration.csv: "
                                   "generation by carrier, hydro utilisation and months, exports per DC line, "
                                   "interchange, peak load, CO2 and grid emission factors, gas production and "
                                   "storage. Writes CALIBRATION.md, calibration.csv, PNG charts and the run "
                                   "(run/) to --out. A shorter --hours annualises energies. With --scenario and "
                                   "--figures calibration_<name>.csv, a scenario's own horizon (a backtest month) "
                                   "beside its own figures.")
    p.add_argument("case", help="case name in networks/ or path to a case folder")
    p.add_argument("--scenario", action="append", default=None, metavar="NAME",
                   help="scenario overlay from the case's scenarios/ folder; repeat to combine, in order")
    p.add_argument("--figures", default=None, metavar="FILE",
                   help="published figures in the case folder: calibration.csv (default) or "
                        "calibration_<name>.csv; --publish writes CALIBRATION_<name>.md and calibration_<name>/")
    p.add_argument("--out", default=None, metavar="DIR", help="output folder (default results/calibration)")
    p.add_argument("--start", type=timestamp, default=None, help="first snapshot (default: the series' first)")
    p.add_argument("--hours", type=positive_int, default=None, help="snapshots (default: the whole series)")
    p.add_argument("--exact", action="store_true", help="one LP over the horizon instead of the rolling default")
    p.add_argument("--from", dest="run", default=None, metavar="RUN",
                   help="take this results folder of the case instead of running it")
    p.add_argument("--publish", action="store_true",
                   help="also write the report and its charts (CALIBRATION.md, calibration/) into the case folder")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--processes", type=positive_int, default=None, help="local processes for rolling chains")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    commands["calibrate"] = cmd_calibrate


def cmd_compare(args) -> int:
    from .comparison import compare, to_text, write
    table = compare(args.runs, allow_different_horizons=args.allow_different_horizons)
    if args.out is not None and not args.out.endswith((".md", ".csv")):
        raise UsageError(f"{args.out}: --out must end in .md or .csv")
    print(to_text(table, show_all=args.all))
    if args.out is not None:
        _say(f"table written to {write(table, args.out, show_all=args.all)}")
    return 0


def _run_kwargs(args) -> dict:
    return dict(start=args.start, hours=args.hours, carbon_caps=dict(args.carbon_cap) or None,
                imported_emissions=args.imported_emissions)


def cmd_sweep(args) -> int:
    from .overrides import parse_vary
    from .sweeps import failed, sweep
    vary: dict[str, list[str]] = {}
    for text in args.vary:
        key, values = parse_vary(text)
        if key in vary:
            raise UsageError(f"--vary {key} is given twice: list all its values in one --vary")
        vary[key] = values
    if args.scheduler and args.processes is not None:
        raise UsageError("--processes is for local processes: leave it out with --scheduler")
    say = Progress(quiet=args.quiet)
    table = sweep(args.case, vary, args.out, scenario=args.scenario, processes=args.processes or 2,
                  scheduler=args.scheduler, progress=say, carbon_price=args.carbon_price, **_run_kwargs(args))
    for _, r in table.iterrows():
        obj = r.get("objective_cny")
        em = r.get("emissions_t.system")
        figures = f"objective {obj / 1e6:,.2f} M CNY, CO2 {em / 1e3:,.1f} kt" if r["status"] == "optimal" else ""
        print(f"{r['run']:<48} {r['status']:<10} {figures}{'  (kept)' if r['reused'] else ''}")
    say(f"sweep table written to {args.out}/sweep.parquet")
    bad = failed(table)
    if len(bad):
        print(f"error: {len(bad)} of {len(table)} runs failed:", file=sys.stderr)
        for _, r in bad.iterrows():
            print(f"error: {r['run']}: {r['error'] or r['status']}", file=sys.stderr)
        return 3
    return 0


def cmd_pareto(args) -> int:
    from .frontier import pareto
    say = Progress(quiet=args.quiet)
    table = pareto(args.case, points=args.points, out=args.out, scenario=args.scenario,
                   carbon_price=args.carbon_price, processes=args.processes or 2, progress=say, **_run_kwargs(args))
    print(f"{'point':>5} {'CO2 (kt)':>12} {'cost (M CNY)':>14} {'shed (MWh)':>11} {'shadow (CNY/t)':>15}")
    for _, r in table.iterrows():
        print(f"{r['point']:>5} {r['emissions_t'] / 1e3:>12,.2f} {r['cost_cny'] / 1e6:>14,.3f} "
              f"{r['load_shed_mwh']:>11,.1f} {r['carbon_shadow_price_cny_per_t']:>15,.2f}")
    say(f"frontier written to {args.out}/pareto.parquet and pareto.png")
    return 0


def cmd_plot(args) -> int:
    from ..plot import plot
    files = plot(args.path, out=args.out, case=args.case)
    for f in files:
        print(f)
    return 0


def cmd_calibrate(args) -> int:
    from ..casefiles import load_case
    from .calibration import YEAR_FIGURES, calibrate, default_out, report_names
    out = args.out or str(default_out())
    if Path(out).exists() and not args.force:
        raise UsageError(f"{out} exists: give --force to replace it, or another --out")
    if args.run is not None and (args.start or args.hours or args.exact):
        raise UsageError("--from takes a finished run: leave out --start, --hours and --exact")
    figures = args.figures or YEAR_FIGURES
    report_names(figures)
    net = load_case(args.case)
    net = net.with_scenario(args.scenario) if args.scenario else net
    say = Progress(quiet=args.quiet)
    say(f"calibrating {net.name}" + (f" with scenario {'+'.join(args.scenario)}" if args.scenario else "")
        + (f" on {args.run}" if args.run else ""))
    common = dict(run=args.run, publish=args.publish, progress=say, figures=figures)
    table = calibrate(net, out, start=args.start, hours=args.hours, exact=args.exact, processes=args.processes,
                      **common) if args.run is None else calibrate(net, out, **common)
    counts = table["verdict"].value_counts()
    print(", ".join(f"{k}: {v}" for k, v in counts.items()))
    say(f"calibration written to {out}/CALIBRATION.md"
        + (f" and {net.path}/{report_names(figures)[0]}" if args.publish else ""))
    return 0
