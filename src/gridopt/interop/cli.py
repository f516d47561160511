"""Sub-commands of `gridopt` for the exchange formats (registered by gridopt.cli).

    gridopt import-pypsa PYPSA_CSV_FOLDER CASE_DIR
    gridopt export-pypsa CASE PYPSA_CSV_FOLDER
    gridopt import-matpower CASE.m CASE_DIR [--segments 4] [--profile CSV]

Approximations are printed to stderr as one ``warning:`` line each; the command still exits 0.
Unsupported features raise CaseError (exit 1); bad options raise UsageError (exit 2).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable

from ..argtypes import positive_int
from .common import InteropWarning


def register(sub: argparse._SubParsersAction, commands: dict[str, Callable]) -> None:
    """Add this module's sub-commands to the parser and their handlers to `commands`."""
    p = sub.add_parser("import-pypsa", help="write a gridopt case from a PyPSA CSV folder",
                       description="Convert a PyPSA CSV folder (Network.export_to_csv_folder) into a gridopt case "
                                   "folder with its series under CASE_DIR/timeseries/. Units are PyPSA's: MW, MWh, "
                                   "kV, ohm, currency per MWh (read as CNY/MWh). Unsupported features are refused.")
    p.add_argument("folder", metavar="PYPSA_CSV_FOLDER", help="folder of PyPSA CSV files (buses.csv, ...)")
    p.add_argument("case_dir", metavar="CASE_DIR", help="case folder to write (must be empty unless --force)")
    p.add_argument("--force", action="store_true", help="replace CASE_DIR if it exists")
    commands["import-pypsa"] = cmd_import_pypsa

    p = sub.add_parser("export-pypsa", help="write a case's electrical part as a PyPSA CSV folder",
                       description="Write the electrical part of a gridopt case as a PyPSA CSV folder readable by "
                                   "pypsa.Network(folder). Units: MW, MWh, kV, ohm, CNY/MWh. Hydro reservoirs become "
                                   "StorageUnits in MWh; what PyPSA cannot hold is listed as warnings.")
    p.add_argument("case", help="case name in networks/ or path to a case folder")
    p.add_argument("folder", metavar="PYPSA_CSV_FOLDER", help="folder to write (must be empty unless --force)")
    p.add_argument("--scenario", default=None, help="scenario overlay from the case's scenarios/ folder")
    p.add_argument("--force", action="store_true", help="replace PYPSA_CSV_FOLDER if it exists")
    commands["export-pypsa"] = cmd_export_pypsa

    p = sub.add_parser("import-matpower", help="write a gridopt case (DC dispatch) from a MATPOWER case file",
                       description="Convert a MATPOWER case file (mpc.baseMVA, bus, gen, branch, gencost) into a "
                                   "gridopt case for a DC dispatch: Pd in MW per bus as firm load, Pmin/Pmax in MW, "
                                   "x in per unit on baseMVA converted to ohm, rateA in MVA (0 = unlimited). "
                                   "The cost constant (c0 and the cost at Pmin, currency per hour) is reported "
                                   "apart from the LP.")
    p.add_argument("path", metavar="CASE.m", help="MATPOWER case file")
    p.add_argument("case_dir", metavar="CASE_DIR", help="case folder to write (must be empty unless --force)")
    p.add_argument("--segments", type=positive_int, default=4,
                   help="linear pieces per quadratic cost curve between Pmin and Pmax in MW (default 4; "
                        "linear costs are exact with one piece)")
    p.add_argument("--profile", default=None, metavar="CSV",
                   help="hourly load profile: CSV with a 'multiplier' column (dimensionless factor on Pd) and "
                        "an optional 'snapshot' timestamp column; default: one hour at Pd")
    p.add_argument("--force", action="store_true", help="replace CASE_DIR if it exists")
    commands["import-matpower"] = cmd_import_matpower


def _with_warnings(fn: Callable[[], str]) -> int:
    """Run fn, printing each interop warning to stderr as one line, then fn's summary to stdout."""
    caught: list = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", InteropWarning)
            summary = fn()
    finally:  # approximations are worth reading even when something else is refused
        for w in caught:
            if issubclass(w.category, InteropWarning):
                print(f"warning: {w.message}", file=sys.stderr)
            else:
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    print(summary)
    return 0


def _describe(net) -> str:
    t = net.tables
    parts = [f"{len(t[c])} {c.replace('_', ' ')}" for c in ("buses", "lines", "transformers", "links", "generators",
                                                            "storage_units", "stores", "reservoirs") if len(t[c])]
    hours = float(net.durations().sum())
    return ", ".join(parts) + f"; {len(net.snapshots)} snapshots ({hours:g} h) from {net.snapshots[0]}"


def cmd_import_pypsa(args) -> int:
    from .common import write_case_atomic
    from .pypsa_in import read_pypsa

    def run() -> str:
        imp = read_pypsa(args.folder)
        out = write_case_atomic(imp.network, args.case_dir, force=args.force)
        return f"wrote {out}: {_describe(imp.network)}"
    return _with_warnings(run)


def cmd_export_pypsa(args) -> int:
    from ..casefiles import load_case
    from .pypsa_out import describe_folder, export_pypsa

    def run() -> str:
        net = load_case(args.case).with_scenario(args.scenario)
        out = export_pypsa(net, args.folder, force=args.force)
        # counted from the files: the export splits and adds elements (reverse links, shedding generators)
        return f"wrote {out}: PyPSA CSV folder of {net.name} ({describe_folder(out)})"
    return _with_warnings(run)


def cmd_import_matpower(args) -> int:
    from .common import write_case_atomic
    from .matpower import read_matpower

    def run() -> str:
        imp = read_matpower(args.path, segments=args.segments, profile=args.profile)
        out = write_case_atomic(imp.network, args.case_dir, force=args.force)
        return (f"wrote {out}: {_describe(imp.network)}; cost constant {imp.constant_cny:g} "
                "(c0 and cost at Pmin over the horizon) is not in the LP: add it to the objective to compare "
                "with MATPOWER")
    return _with_warnings(run)
