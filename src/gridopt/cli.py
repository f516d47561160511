"""The `gridopt` command: parses, calls the API, prints. No model logic lives here.

Exit codes: 0 ok, 1 invalid case, 2 wrong usage, 3 infeasible/unbounded/solver failure, 4 time limit,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM). Nothing is written by a run that does not end with 0 or 4.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .argtypes import kv, nonneg_float, positive_int, tail_hours, timestamp
from .errors import CaseError, GridoptError, UsageError
from .progress import Progress
from .schema import IMPORTED_EMISSIONS

PROGRESS = Progress()  # stderr; silenced by --quiet


def _progress(msg: str) -> None:
    PROGRESS.say(msg)


def add_quiet_opt(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr (errors and warnings still)")


def _add_case_opts(p: argparse.ArgumentParser, dispatch_opts: bool = True) -> None:
    p.add_argument("case", help="case name in networks/ or path to a case folder")
    p.add_argument("--scenario", action="append", default=None, metavar="NAME",
                   help="scenario overlay from the case's scenarios/ folder; repeat to combine several, applied "
                        "in the order given (a later one overrides what an earlier one set)")
    if not dispatch_opts:
        return
    p.add_argument("--start", type=timestamp, default=None,
                   help="first snapshot, e.g. 2025-07-01 (the case's time zone; China Standard Time for the shipped "
                        "case); default: the first of the series")
    p.add_argument("--hours", type=positive_int, default=None,
                   help="number of snapshots (default: the case's default_hours, else its whole series)")
    p.add_argument("--carbon-price", type=nonneg_float, default=None,
                   help="carbon price in CNY per tCO2 (default: the case's). It covers emissions inside the case's "
                        "regions only; with --imported-emissions attributed also those of power bought from outside "
                        "them (neighbouring markets' sales, units at external buses)")
    p.add_argument("--imported-emissions", choices=IMPORTED_EMISSIONS, default=None,
                   help="whether the carbon price and caps cover the emissions of imported power (default: the "
                        "case's imported_emissions, else none). none: only emissions inside the regions. "
                        "attributed: what markets sell at an external bus (times their co2_t_per_mwh) and what "
                        "units there produce count as emitted by the region its lines and links carry power into "
                        "('system' alone where they reach several regions); exports earn no credit. The summary "
                        "reports these imported emissions (emissions_imported_t) either way")
    p.add_argument("--carbon-cap", type=kv, action="append", default=[], metavar="REGION=TONNES",
                   help="cap on CO2 over the horizon, in tonnes, per region or 'system' (repeatable; default: "
                        "the case's carbon_caps)")
    p.add_argument("--carbon-intensity-cap", type=kv, action="append", default=[], metavar="REGION=T_PER_MWH",
                   help="cap on CO2 intensity of the region's generation, tCO2/MWh (repeatable)")
    p.add_argument("--kvl", choices=["cycles", "angles"], default="cycles",
                   help="Kirchhoff's voltage law on a cycle basis (default) or with voltage angles")
    p.add_argument("--no-reserves", action="store_true", help="drop the upward reserve requirement")
    p.add_argument("--no-gas", action="store_true", help="gas units buy fuel at fixed prices, no gas network")


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr and exit code 2 (argparse prints the usage block otherwise)."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see '{self.prog} --help')\n")


def _add_capacities_opt(p) -> None:
    p.add_argument("--capacities", default=None, metavar="RUN",
                   help="fix every extendable element at the optimal capacity of an earlier run's results folder "
                        "(its capacities.parquet): re-dispatch a plan on other weather or hydrology; 'existing' "
                        "fixes them at their existing capacity (the plan's no-build case)")


def _add_periods_opts(p) -> None:
    p.add_argument("--periods", default="", metavar="SPEC",
                   help="solve the year as one LP over representative periods: typical-days:K or weeks:K, "
                        "optionally +peak (the day or week of the highest load) and +dry (the least inflow) kept "
                        "on their own; clustered from the case's year (default: the case's `periods` setting, "
                        "else none). Summary figures are then annual; see docs/periods.md")
    p.add_argument("--periods-storage", default=None, choices=["clustered", "chained"],
                   help="with --periods: clustered (default) = pumped storage cyclic within each period, "
                        "reservoirs and gas storage linked across the year in calendar order; chained = every "
                        "store through all snapshots in order, as PyPSA does")


def parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="gridopt", description="Hourly least-cost, least-CO2 dispatch of a power and gas system.")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("run", help="dispatch a case and write its results folder")
    _add_case_opts(p)
    p.add_argument("--out", default=None, help="results folder (default results/<case>[_<scenario>])")
    p.add_argument("--force", action="store_true", help="replace the results folder if it exists")
    add_quiet_opt(p)
    _add_periods_opts(p)
    _add_capacities_opt(p)
    p.add_argument("--solver", choices=["highs", "pyomo"], default="highs",
                   help="highs: sparse fast path (default); pyomo: the pyomo twin model via HiGHS")
    p.add_argument("--algorithm", choices=["auto", "ipx", "hipo", "simplex"], default="auto",
                   help="HiGHS algorithm: auto (default: interior point, IPX below 500,000 nonzeros and HiPO "
                        "above, where highspy-extras is installed), ipx, hipo, simplex")
    p.add_argument("--time-limit", type=nonneg_float, default=None, help="solver time limit in seconds")
    p.add_argument("--threads", type=positive_int, default=1, help="solver threads (default 1: deterministic)")
    from .rolling import options as ro
    by_horizon = lambda key: f"{ro.SHORT[key]} up to {ro.SHORT_HORIZON_HOURS:,} h, else {ro.LONG[key]}"
    p.add_argument("--window", type=int, default=None, metavar="HOURS",
                   help="rolling horizon: hours kept per window (0 = one LP; default: one LP up to "
                        f"{ro.AUTO_ROLLING_HOURS} h, else {ro.WINDOW_HOURS}-h windows guided by a coarse solve; "
                        "rolling defaults are explained in docs/rolling.md)")
    p.add_argument("--overlap", type=int, default=None, metavar="HOURS",
                   help=f"hourly look-ahead hours per window (default {by_horizon('overlap')}; the coarse "
                        "look-ahead follows)")
    p.add_argument("--tail", type=tail_hours, default="auto", metavar="HOURS",
                   help="coarse look-ahead after a window's hourly hours, in blocks of --tail-block hours "
                        f"(default {by_horizon('tail')}; 0 = none; 'end' = to the horizon's end)")
    p.add_argument("--tail-block", type=positive_int, default=None, metavar="HOURS",
                   help=f"hours per snapshot in the coarse look-ahead (default {ro.TAIL_BLOCK_HOURS}: keeps the daily "
                        "peaks)")
    p.add_argument("--coarse-hours", type=positive_int, default=None, metavar="HOURS",
                   help="hours per snapshot of the coarse solve that guides rolling windows (default "
                        f"{by_horizon('coarse_hours')})")
    p.add_argument("--guide", choices=["rule", "targets", "values"], default=None,
                   help="what a rolling window aims at when it ends: targets = the coarse solve's volumes "
                        "(default), rule = the case's planned volumes, values = the coarse solve's water values")
    p.add_argument("--credit", action=argparse.BooleanOptionalAction, default=None,
                   help="with --guide targets: water a rolling window keeps above its targets earns the coarse "
                        "solve's water value (default: on with a guide finer than a day, in one chain)")
    p.add_argument("--passes", type=positive_int, default=None, metavar="N",
                   help="rolling passes: each after the first aims its windows at the water the pass before "
                        "left at their ends; the cheapest is kept (default: one pass)")
    p.add_argument("--chains", type=positive_int, default=None, metavar="N",
                   help="rolling windows in N consecutive chains, each solved in sequence carrying every state, the "
                        f"chains side by side and joined at boundary states (default {by_horizon('chains')})")
    p.add_argument("--parallel", action="store_true",
                   help="every window on its own, joined at boundary states (the plan or the coarse solve): "
                        "fastest, least exact")
    p.add_argument("--processes", type=positive_int, default=None,
                   help=f"processes for chains or --parallel (default {ro.PROCESSES})")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run rolling chains or --parallel windows on the dask.distributed cluster at ADDRESS "
                        "(e.g. tcp://10.0.0.5:8786) instead of local processes")

    p = sub.add_parser("validate", help="check a case; one line per problem, exit 1 if any")
    _add_case_opts(p, dispatch_opts=False)

    p = sub.add_parser("info", help="buses, lines, units by carrier and region, horizon, LP size")
    _add_case_opts(p, dispatch_opts=False)
    p.add_argument("--hours", type=positive_int, default=24, help="horizon used to report the LP size (default 24)")

    p = sub.add_parser("export-lp", help="write the LP as an MPS file through HiGHS")
    _add_case_opts(p)
    _add_periods_opts(p)
    p.add_argument("path", help="output .mps (or .lp) file")

    from .interop.cli import register
    register(sub, _COMMANDS)
    from .studies.cli import register as register_studies
    register_studies(sub, _COMMANDS)
    return ap


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered as an interrupt so a running solve is cancelled and nothing half-written remains."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    import signal
    import threading
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:  # an interrupt while the modules load ends as cleanly as one during a solve
        args = parser().parse_args(argv)
        PROGRESS.quiet = bool(getattr(args, "quiet", False))
        return _COMMANDS[args.command](args)
    except CaseError as exc:
        for prob in exc.problems:
            print(f"error: {prob}", file=sys.stderr)
        return exc.exit_code
    except GridoptError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        print("error: interrupted; no results written", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130


def _load(args) -> object:
    from .casefiles import load_case
    net = load_case(args.case)
    net = net.with_scenario(args.scenario) if args.scenario else net
    if getattr(args, "capacities", None) == "existing":
        from .formulation.capacity import existing_capacities
        net = existing_capacities(net)
        _progress("capacities fixed at their existing values: nothing is built")
    elif getattr(args, "capacities", None):
        import pandas as pd

        from .formulation.capacity import fixed_capacities
        path = Path(args.capacities) / "capacities.parquet"
        if not path.exists():
            raise UsageError(f"--capacities {args.capacities}: no capacities.parquet there (a results folder of run)")
        net, invest = fixed_capacities(net, pd.read_parquet(path))
        _progress(f"capacities fixed at those of {args.capacities} (its investment, {invest:,.0f} CNY, not counted)")
    if getattr(args, "periods", None) is None:
        return net
    from .periods import with_periods
    return with_periods(net, args.periods, args.periods_storage)


def _scenario_label(args) -> str:
    return "+".join(args.scenario or [])


def _dispatch_kwargs(args) -> dict:
    return dict(start=args.start, hours=args.hours, carbon_price=args.carbon_price,
                carbon_caps=dict(args.carbon_cap) or None, intensity_caps=dict(args.carbon_intensity_cap),
                kvl=args.kvl, reserves=not args.no_reserves, gas=not args.no_gas,
                imported_emissions=args.imported_emissions)


def cmd_run(args) -> int:
    from .engine import dispatch
    from .report import summary_text
    from .results import write_atomic
    _progress(f"loading {args.case}" + (f" with scenario {_scenario_label(args)}" if args.scenario else ""))
    from .solvers.highs import has_solver
    if args.algorithm != "auto" and not has_solver(args.algorithm):
        raise UsageError(f"--algorithm {args.algorithm} is not in this highspy build"
                         + (" (HiPO comes with highspy-extras)" if args.algorithm == "hipo" else ""))
    net = _load(args)
    out = Path(args.out) if args.out else Path("results") / (net.name + (f"_{_scenario_label(args)}" if args.scenario
                                                                          else ""))
    if out.exists() and not args.force:
        raise UsageError(f"{out} exists: give --force to replace it, or another --out")
    from .formulation import DispatchOptions
    from .rolling import RollingOptions, dispatch_rolling
    horizon = DispatchOptions.create(net, start=args.start, hours=args.hours)  # checks start and hours first
    args.start, args.hours = horizon.start.isoformat(sep=" "), horizon.hours
    for w in net.scenario_warnings(horizon.start, horizon.hours):
        print(f"warning: {w}", file=sys.stderr)
    if args.parallel and args.chains is not None:
        raise UsageError("--parallel runs every window on its own: leave out --chains, or drop --parallel")
    # capacity decisions and representative periods need one LP over the whole horizon
    window = 0 if args.window is None and (net.extendable() or net.periods is not None) else args.window
    roll = RollingOptions.for_horizon(
        args.hours, window=window, overlap=args.overlap, tail=args.tail, tail_block=args.tail_block,
        coarse_hours=args.coarse_hours, guide=args.guide, credit=args.credit, passes=args.passes,
        chains=args.chains, parallel=True if args.parallel else None, processes=args.processes)
    if roll.windowed:
        if args.solver != "highs":
            raise UsageError("rolling horizons run on the fast path: use --solver highs or --window 0")
        tail = "" if roll.tail == 0 else f", then {'to the end' if roll.tail is None else f'{roll.tail} h'} " \
            f"in {roll.tail_block}-h blocks"
        how = "in sequence" if roll.chains == 1 else "each window on its own" if args.parallel \
            else f"in {roll.chains} chains"
        _progress(f"rolling horizon: {args.hours} h in {roll.window}-h windows (+{roll.overlap} h look-ahead{tail}), "
                  f"{how}")
        if args.scheduler and args.processes is not None:
            raise UsageError("--processes is for local processes: leave it out with --scheduler")
        from .executors import connect
        client = connect(args.scheduler) if args.scheduler else None
        try:
            res = dispatch_rolling(net, options=roll, threads=args.threads, time_limit=args.time_limit,
                                   progress=_progress, highs_options={"solver": args.algorithm}, executor=client,
                                   **_dispatch_kwargs(args))
        finally:
            if client is not None:
                client.close()
    else:
        if args.scheduler:
            raise UsageError("--scheduler runs rolling chains or windows: this run is one LP (see --window)")
        p = net.periods
        _progress(f"building and solving {args.hours} h from {args.start} ({args.solver})" if p is None else
                  f"building and solving {p.count} representative {p.method.replace('typical-', '')} "
                  f"({args.hours} h) standing for {p.represented_hours:g} h ({args.solver})")
        res = dispatch(net, solver=args.solver, threads=args.threads, time_limit=args.time_limit,
                       raise_on_failure=False, highs_options={"solver": args.algorithm},
                       progress=_progress if PROGRESS.terminal else None, **_dispatch_kwargs(args))
    s = res.summary
    status = s["status"]
    if status == "optimal" or (status == "time_limit" and res.tables and not res.checks):
        write_atomic(out, s, res.tables)
        print(summary_text(s))
        _progress(f"results written to {out}")
        for w in s.get("warnings", []):
            print(f"warning: {w}", file=sys.stderr)
        for c in res.checks:
            print(f"warning: after-solve check: {c}", file=sys.stderr)
        return 0 if status == "optimal" else 4
    write_atomic(out, s, {})
    if status == "time_limit":
        print(f"error: time limit reached without a checked feasible solution; {out}/summary.json holds only the "
              "status", file=sys.stderr)
        return 4
    from .diagnose import diagnose
    print(f"error: the LP is {status} ({s['solver_message']}); {out}/summary.json holds only the status",
          file=sys.stderr)
    for line in diagnose(net, **_dispatch_kwargs(args)) if status == "infeasible" else []:
        print(f"error: {line}", file=sys.stderr)
    return 3


def cmd_validate(args) -> int:
    net = _load(args)
    print(f"{args.case}: valid ({len(net.tables['buses'])} buses, {len(net.snapshots)} hours"
          + (f", scenario {_scenario_label(args)}" if args.scenario else "") + ")")
    return 0


def cmd_info(args) -> int:
    from .report import info_text
    net = _load(args)
    print(info_text(net, hours=args.hours))
    return 0


def cmd_export_lp(args) -> int:
    from .formulation import build_lp
    from .solvers.highs import make_highs
    net = _load(args)
    ctx = build_lp(net, **_dispatch_kwargs(args))
    h = make_highs(ctx.lp)
    path = Path(args.path)
    if path.suffix not in (".mps", ".lp"):
        raise UsageError(f"{path}: the file name must end in .mps or .lp")
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    h.writeModel(str(tmp))
    tmp.replace(path)
    info = ctx.lp.size_info()
    print(f"wrote {path}: {info['rows']} rows, {info['columns']} columns, {info['nonzeros']} nonzeros")
    return 0


_COMMANDS = {"run": cmd_run, "validate": cmd_validate, "info": cmd_info, "export-lp": cmd_export_lp}

def entry() -> None:
    """The `gridopt` command: main(), then exit with its code. An interrupt raised while a C extension runs
    Python code of its own (as some do while they load) can leave CPython believing it went unhandled even
    though main() caught it, and the interpreter would then end the process by SIGINT instead of exit 130:
    an interrupted command therefore leaves without the interpreter's shutdown, its output flushed."""
    code = main()
    if code in (130, 143):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
