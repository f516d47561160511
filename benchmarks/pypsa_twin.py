"""The optional PyPSA comparison: a synthetic network written as a PyPSA network, solved by HiGHS.

Used only when ``pypsa`` imports. On the registry's plain cases (``syn_*_plain``: no reservoirs,
commitment or reserves) gridopt's own exporter writes the network and PyPSA solves the same LP; the
objectives agree. On the full synthetic cases ``to_pypsa`` below builds a model close to gridopt's but not identical, and the ratios
compare tools, not answers: reservoirs become independent storage units holding their water as
energy at their own production coefficient, fed by their own natural inflow (no cascade coupling: a
downstream station never receives upstream releases), the clustered commitment becomes PyPSA's linearised unit
commitment, the regional reserve rows are left out, and the end-volume target is a fixed state of charge at
the last hour (gridopt's is elastic). Load shedding is a generator per bus priced at
the value of lost load. Phases: build = the PyPSA network plus ``n.optimize.create_model``; run =
``n.optimize.solve_model(solver_name="highs", io_api="direct", ...)``, which includes passing the model
to HiGHS and writing the solution back to the network (PyPSA does not expose those steps apart).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

MWH_PER_HM3_PER_MW_PER_M3S = 1e6 / 3600.0


def to_pypsa(net, hours: int):
    """A `pypsa.Network` holding `net`'s buses, lines, links, units, storage and loads for `hours`."""
    import pypsa

    snaps = net.snapshots[:hours]
    n = pypsa.Network()
    n.set_snapshots(snaps)
    t = net.tables
    cp = float(net.config["carbon_price"])
    pen = net.config["penalties"]
    buses = t["buses"]
    n.add("Bus", buses.index, v_nom=buses["v_nom"].to_numpy())
    lines = t["lines"]
    if len(lines):
        n.add("Line", lines.index, bus0=lines["bus0"].to_numpy(), bus1=lines["bus1"].to_numpy(),
              x=lines["x"].to_numpy(), s_nom=(lines["s_nom"] * lines["s_max_pu"]).to_numpy())
    links = t["links"]
    if len(links):
        n.add("Link", links.index, bus0=links["bus0"].to_numpy(), bus1=links["bus1"].to_numpy(),
              p_nom=links["p_nom"].to_numpy(), p_min_pu=links["p_min_pu"].to_numpy(),
              efficiency=links["efficiency"].to_numpy())
    g = t["generators"]
    cost = (g["marginal_cost"] + g["fuel_price"] * g["heat_rate"] + cp * g["co2_t_per_mwh"]).to_numpy()
    pmax = net.series.get("p_max_pu")
    for committable in (True, False):
        sel = g[g["committable"] == committable]
        if not len(sel):
            continue
        kw: dict[str, Any] = {}
        if committable:
            kw = {"committable": True, "p_min_pu": sel["p_min_pu"].to_numpy(),
                  "start_up_cost": (sel["start_up_cost"] * sel["p_nom"]).to_numpy()}
        ramp_up = sel["ramp_limit_up"].to_numpy()
        ramp_down = sel["ramp_limit_down"].to_numpy()
        n.add("Generator", sel.index, bus=sel["bus"].to_numpy(), carrier=sel["carrier"].to_numpy(),
              p_nom=sel["p_nom"].to_numpy(), marginal_cost=cost[g["committable"].to_numpy() == committable],
              ramp_limit_up=np.where(np.isfinite(ramp_up), ramp_up, np.nan),
              ramp_limit_down=np.where(np.isfinite(ramp_down), ramp_down, np.nan), **kw)
    if pmax is not None:
        cols = [c for c in pmax.columns if c in n.generators.index]
        n.generators_t.p_max_pu[cols] = pmax[cols].iloc[:hours].to_numpy()
    firm = net.series["load_firm_mw"].iloc[:hours]
    inter = net.series.get("load_interruptible_mw")
    inter = inter.iloc[:hours].reindex(columns=firm.columns, fill_value=0.0) if inter is not None else firm * 0.0
    total = firm + inter
    n.add("Load", total.columns, bus=total.columns.to_numpy(), p_set=total)
    cap = total.max()
    n.add("Generator", [f"shed_{b}" for b in total.columns], bus=total.columns.to_numpy(), carrier="shed",
          p_nom=cap.to_numpy(), marginal_cost=pen["voll_interruptible_cny_per_mwh"])
    su = t["storage_units"]
    if len(su):
        n.add("StorageUnit", su.index, bus=su["bus"].to_numpy(), p_nom=su["p_nom"].to_numpy(),
              max_hours=su["max_hours"].to_numpy(), efficiency_store=su["efficiency_store"].to_numpy(),
              efficiency_dispatch=su["efficiency_dispatch"].to_numpy(), cyclic_state_of_charge=True)
    res = t["reservoirs"]
    if len(res):
        coef = res["production_mw_per_m3s"].to_numpy()
        mwh_per_hm3 = coef * MWH_PER_HM3_PER_MW_PER_M3S  # this station's own head only
        energy_max = res["volume_max_hm3"].to_numpy() * mwh_per_hm3
        n.add("StorageUnit", res.index, bus=res["bus"].to_numpy(), carrier="hydro", p_nom=res["p_nom"].to_numpy(),
              p_min_pu=0.0, max_hours=energy_max / res["p_nom"].to_numpy(), efficiency_store=0.0,
              efficiency_dispatch=1.0, cyclic_state_of_charge=False,
              state_of_charge_initial=(res["volume_initial_hm3"].to_numpy() * mwh_per_hm3),
              spill_cost=pen["spill_cny_per_mwh"])
        inflow = net.series["inflow_m3s"].iloc[:hours][res.index]
        n.storage_units_t.inflow[res.index] = inflow.to_numpy() * coef[None, :]
        target = net.series.get("volume_target_hm3")
        if target is not None:  # the end target as the last hour's state of charge (gridopt's is elastic)
            cols = [r for r in res.index if r in target.columns]
            end = target[cols].iloc[hours - 1].clip(upper=res.loc[cols, "volume_max_hm3"])
            soc_set = np.full((hours, len(cols)), np.nan)
            soc_set[-1] = end.to_numpy() * mwh_per_hm3[res.index.get_indexer(cols)]
            n.storage_units_t.state_of_charge_set[cols] = soc_set
    return n


def measure_pypsa(case, variant, net, spec: dict[str, Any], out: dict[str, Any]) -> None:
    """Fill `out` with the PyPSA phases (see the module docstring) for `case`."""
    import tempfile

    import pypsa  # imported before the clock starts, as gridopt is

    from benchmarks.worker import peak_rss_mb

    folder = None
    if case.plain:  # the same LP: gridopt's own exporter writes the network PyPSA reads
        from gridopt.interop.pypsa_out import export_pypsa
        folder = tempfile.mkdtemp(prefix="gridopt-pypsa-")
        export_pypsa(net.slice(net.snapshots[0], case.hours), f"{folder}/net")
        out["pypsa_network"] = "gridopt export-pypsa (same LP)"
    else:
        out["pypsa_network"] = "benchmarks.pypsa_twin.to_pypsa (close, not the same LP)"

    def network(hours: int):
        if folder is None:
            return to_pypsa(net, hours)
        n = pypsa.Network(f"{folder}/net")
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
    if folder is not None:
        import shutil
        shutil.rmtree(folder, ignore_errors=True)
    out["iterations"] = {}
    out["balance_check_failures"] = None
    out["total_s"] = out["build_s"] + out["run_s"]
