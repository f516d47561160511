"""The optional PyPSA comparison: the case written for PyPSA by gridopt's own exporter, solved by HiGHS.

Used only when ``pypsa`` imports. PyPSA reads the folder that ``gridopt export-pypsa``
(`gridopt.interop.pypsa_out`) writes, so the two tools share one mapping. On the registry's plain cases
(``syn_*_plain``: no reservoirs, commitment or reserves) that folder holds the same LP as gridopt's, and
the objectives agree. On the other cases the exporter approximates what PyPSA cannot hold (reservoirs as
storage units in energy units without cascades, commitment dropped, reserves and the gas system left out,
...); its warnings are recorded as ``pypsa_approximations``, and the ratios compare tools, not answers.

Phases: writing the folder is not timed (as loading the network is not for gridopt); build = reading the
folder plus ``n.optimize.create_model``; run = ``n.optimize.solve_model(solver_name="highs",
io_api="direct", ...)``, which includes passing the model to HiGHS and writing the solution back to the
network (PyPSA does not expose those steps apart).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.phases import peak_rss_mb


def export_for_pypsa(net, start: pd.Timestamp, hours: int, folder: Path) -> list[str]:
    """Write `hours` of `net` from `start` as a PyPSA CSV folder; returns the exporter's approximations."""
    from gridopt.interop import InteropWarning, export_pypsa

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InteropWarning)
        export_pypsa(net.slice(start, hours), folder)
    for w in caught:  # anything else is shown as it would have been
        if not issubclass(w.category, InteropWarning):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return [str(w.message) for w in caught if issubclass(w.category, InteropWarning)]


def measure_pypsa(case, variant, net, spec: dict[str, Any], out: dict[str, Any]) -> None:
    """Fill `out` with the PyPSA phases (see the module docstring) for `case`."""
    import pypsa  # imported before the clock starts, as gridopt is

    tmp = Path(tempfile.mkdtemp(prefix="gridopt-pypsa-"))
    try:
        start = pd.Timestamp(case.start) if case.start else net.snapshots[0]
        approximations = export_for_pypsa(net, start, case.hours, tmp / "net")
        out["pypsa_network"] = "gridopt export-pypsa " + ("(same LP)" if case.plain else "(approximated)")
        out["pypsa_approximations"] = approximations
        _solve(pypsa, tmp / "net", case, variant, spec, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _solve(pypsa, folder: Path, case, variant, spec: dict[str, Any], out: dict[str, Any]) -> None:
    def network(hours: int):
        n = pypsa.Network(str(folder))
        n.set_snapshots(n.snapshots[:hours])
        return n

    t0 = time.perf_counter()
    warm = network(min(2, case.hours))  # first-call costs out of the build, as for gridopt
    warm.optimize.create_model(linearized_unit_commitment=True)
    del warm
    out["warmup_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    n = network(case.hours)
    n.optimize.create_model(linearized_unit_commitment=True)
    out["build_s"] = time.perf_counter() - t0
    out["rss_after_build_mb"] = peak_rss_mb()
    m = n.model
    out["rows"] = int(m.constraints.ncons)
    out["columns"] = int(m.variables.nvars)
    try:
        out["nonzeros"] = int(m.matrices.A.nnz)
    except Exception:  # noqa: BLE001 - the count is informative only
        out["nonzeros"] = None
    opts = dict(variant.highs)
    if opts.get("solver") == "auto":  # no gridopt run of this LP before (the runner passes the code it chose)
        opts["solver"] = "ipx"
    opts["threads"] = spec["threads"]
    if spec.get("time_limit"):
        opts["time_limit"] = float(spec["time_limit"])
    opts["output_flag"] = False
    t0 = time.perf_counter()
    _status, condition = n.optimize.solve_model(solver_name="highs", io_api="direct", **opts)
    out["run_s"] = time.perf_counter() - t0
    out["pass_s"] = None
    out["extract_s"] = None
    out["rss_after_run_mb"] = peak_rss_mb()
    out["status"] = "optimal" if str(condition) == "optimal" else str(condition)
    out["objective_cny"] = float(n.objective) + float(getattr(n, "objective_constant", 0.0) or 0.0) \
        if n.objective is not None else None
    out["iterations"] = {}
    out["balance_check_failures"] = None
    out["total_s"] = out["build_s"] + out["run_s"]
