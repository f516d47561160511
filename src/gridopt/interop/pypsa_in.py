"""Read a PyPSA CSV folder (as written by ``pypsa.Network.export_to_csv_folder``) into a gridopt network.

The CSV files are read with pandas; PyPSA itself is not needed. Every element keeps its PyPSA name.

What maps to what (PyPSA attribute -> gridopt column; units as in PyPSA, MW, MWh, ohm, currency/MWh). Buses,
lines, transformers, standard types, branch names and links are mapped in `pypsa_grid`; generators, price
takers and loads here:

- buses: v_nom -> v_nom; region from a ``country`` or ``region`` column, else the one region "pypsa".
- lines: x (ohm; r for lines on DC buses, as PyPSA's DC sub-networks use it), s_nom, s_max_pu; r, g, b
  are not used by a linear power flow. gridopt computes x / v_nom(bus0)^2 itself, as PyPSA does.
- transformers: x (pu on s_nom), s_nom, s_max_pu, tap_ratio: x / s_nom * tap_ratio in both tools, with
  the existing s_nom also for an extendable transformer (an extendable one with s_nom 0 is refused: its
  reactance would be infinite).
- standard types (``type``): lines and transformers take x (and r, s_nom of transformers, tap ratio,
  phase shift) from PyPSA's type tables as PyPSA applies them (`pypsa_types`: the folder's
  ``line_types.csv`` / ``transformer_types.csv``, else the installed pypsa package's standard types).
  Phase shifts are dropped when they only rotate bus angles (every cycle's shifts sum to zero), else
  refused.
- branch names: PyPSA names lines, transformers and links apart, gridopt in one namespace; a name used
  by more than one becomes ``line:NAME``, ``transformer:NAME``, ``link:NAME`` (with a warning).
- links: p_nom, p_min_pu, p_max_pu, efficiency, marginal_cost. A link with p_min_pu < 0 becomes a
  two-direction gridopt link (reverse limit -p_min_pu * p_nom). PyPSA's single variable delivers
  |p| at bus0 for efficiency * |p| taken at bus1 on reverse flow, creating energy when efficiency < 1;
  gridopt loses energy both ways (efficiency_reverse = efficiency), so such links are warned about.
  Limits beyond [-1, 1] pu are rescaled onto p_nom.
- generators: p_nom, p_max_pu (static or series), p_min_pu (static -> p_min_pu; series -> the
  must_run_pu series), marginal_cost, ramp limits, p_init; co2_t_per_mwh = carrier co2_emissions
  (t/MWh_th) / efficiency. Availability above 1 pu is rescaled onto p_nom.
- loads: p_set (static or series) summed over the loads at each bus -> load_firm_mw.
- storage units and stores: see `pypsa_storage` (storage units; reservoirs; units with inflow that cycle,
  pump or lose energy, and units with set states of charge, as a gridopt store on a bus of its own fed by an
  inflow generator; a unit whose charge disappears, efficiency_store = 0 with p_min_pu < 0, also as a free
  power sink; PyPSA's stores as gridopt stores). A spill cost on the own-bus hydro is an objective constant,
  `Imported.constant_cny`.
- capacity expansion (lines, transformers, links, generators, storage units without inflow, stores): see
  `pypsa_costs` (*_nom_extendable, *_nom_min, *_nom_max, *_nom_set; capital_cost, or overnight_cost
  annuitised over the horizon, plus fom_cost), paid on optimal minus existing capacity of extendable
  elements, as PyPSA. Refused: modular expansion, extendable storage units gridopt cannot expand as PyPSA
  does (see `pypsa_storage`), extendable price takers.
- snapshots and weightings: PyPSA's objective, stores and generators weightings become the ``weighting``
  series' columns of those names (`Network.weightings`, `durations`, `energy_weightings`): costs, the hours
  each snapshot advances storage, and energy and emission limits. gridopt's snapshots lie `stores` hours
  apart: the timestamps are kept where they do (and where they are hourly in a network that stores nothing,
  whose `stores` weighting is then dropped), else relabelled from the first one with a warning
  (`PypsaFolder.place_snapshots`). Ramp limits, per snapshot in PyPSA and per hour in gridopt, are divided
  by the snapshots' duration (refused where durations differ). Capital costs are per horizon in both tools,
  never weighted.
- global constraints: see `pypsa_constraints` (CO2 caps, primary_energy on co2_emissions, become the case's
  ``carbon_caps`` ``system`` cap; transmission volume and cost expansion limits become ``expansion_limits``).
  Every other kind is refused.

Results PyPSA writes after a solve (p, q, marginal_price, state_of_charge, *_opt, mu_*...) are ignored.
Anything the LP cannot hold (unit commitment, modular expansion, other global constraints, shunt
impedances, multi-port links, time-varying limits gridopt has no series for, ...) is refused
with a `CaseError` naming file, element and attribute, never dropped.
The imported case's penalties are those of `common.import_penalties`, it has no load shedding
(``load_shedding = false``) and ``default_hours`` is the number of snapshots, so gridopt's objective
(plus `Imported.constant_cny`) equals PyPSA's ``Network.optimize()`` objective ``n.objective`` as PyPSA
computes it by default (``include_objective_constant=True``: the capital cost of existing extendable
capacity is subtracted, ``n.objective_constant``); solved with ``include_objective_constant=False``,
PyPSA's objective is higher by that constant.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CaseError, Problem
from .common import IMPORT_SETTINGS, Imported, import_penalties, imported_network
from .pypsa_constraints import global_constraints
from .pypsa_grid import GridReader, qualify_branch_names
from .pypsa_storage import storage_units, stores

_COMPONENTS = ("buses", "carriers", "generators", "loads", "lines", "transformers", "links", "storage_units",
               "stores", "global_constraints")
_REFUSED_COMPONENTS = {"shunt_impedances": "shunt impedances are not supported by a linear dispatch",
                       "processes": "Process components are not supported"}
_INF = math.inf
_NAN = math.nan

# attribute -> (value at which it is harmless, why any other value is refused)
_REFUSE = {
    "generators": {
        "committable": (False, "committable generators (unit commitment) are not supported"),
        "marginal_cost_quadratic": (0.0, "quadratic costs are not supported by the LP"),
        "sign": (1.0, "generators with sign other than 1 are not supported"),
        "e_sum_min": (-_INF, "energy sum limits are not supported"),
        "e_sum_max": (_INF, "energy sum limits are not supported"),
        "p_set": (_NAN, "fixed dispatch (p_set) is not supported"),
        "maintainable": (False, "maintenance scheduling is not supported"),
    },
    "links": {
        "committable": (False, "committable links (unit commitment) are not supported"),
        "marginal_cost_quadratic": (0.0, "quadratic costs are not supported by the LP"),
        "p_set": (_NAN, "fixed flow (p_set) is not supported"),
        "delay": (0.0, "delayed links are not supported"),
        "ramp_limit_up": (_NAN, "ramp limits on links are not supported"),
        "ramp_limit_down": (_NAN, "ramp limits on links are not supported"),
        "maintainable": (False, "maintenance scheduling is not supported"),
    },
    "lines": {
        "v_ang_min": (-_INF, "angle-difference limits are not supported"),
        "v_ang_max": (_INF, "angle-difference limits are not supported"),
    },
    "transformers": {
        "v_ang_min": (-_INF, "angle-difference limits are not supported"),
        "v_ang_max": (_INF, "angle-difference limits are not supported"),
    },
    "storage_units": {
        "sign": (1.0, "storage units with sign other than 1 are not supported"),
        "marginal_cost_quadratic": (0.0, "quadratic costs are not supported by the LP"),
        "marginal_cost_storage": (0.0, "costs on the state of charge are not supported"),
        "p_set": (_NAN, "fixed dispatch (p_set) is not supported"),
        "p_dispatch_set": (_NAN, "fixed dispatch is not supported"),
        "p_store_set": (_NAN, "fixed charging is not supported"),
    },
    "stores": {
        "sign": (1.0, "stores with sign other than 1 are not supported"),
        "marginal_cost_quadratic": (0.0, "quadratic costs are not supported by the LP"),
        "p_set": (_NAN, "fixed dispatch (p_set) is not supported"),
    },
    "loads": {"sign": (-1.0, "loads with sign other than -1 are not supported")},
}


def read_pypsa(folder: str | os.PathLike) -> Imported:
    """Read the PyPSA CSV folder `folder` into a validated gridopt network (see the module docstring).

    Raises CaseError listing every unsupported feature; warns (InteropWarning) about approximations.
    """
    return _Reader(Path(folder)).read()


class _Reader(GridReader):
    """Maps the folder's components to gridopt tables and series."""

    # ---- the whole folder -------------------------------------------------------------------
    def read(self) -> Imported:
        if not self.folder.is_dir():
            raise CaseError([Problem(str(self.folder), "", "", "no such folder")])
        if not (self.folder / "buses.csv").is_file():
            raise CaseError([Problem(self.f("buses.csv"), "", "", "missing file: not a PyPSA CSV folder")])
        self.constant_cny = 0.0
        self.read_snapshots()
        for comp, why in _REFUSED_COMPONENTS.items():
            df = self.read_static(comp)
            if len(df):
                self.refuse(comp, df.index[0], "", f"{why} ({len(df)} element(s))")
        for comp in _COMPONENTS:
            self.static[comp] = self.read_static(comp)
            self.dyn[comp] = self.read_series(comp, self.T) if comp not in ("buses", "carriers") else {}
        for path in self.folder.glob("*piecewise*"):
            self.problems.append(Problem(str(path), "", "", "piecewise cost or efficiency curves are not supported"))
        self.drop_inactive()
        self.fold_constant_series()
        for comp, checks in _REFUSE.items():
            self.refuse_nondefault(comp, checks)
        self.place_snapshots(storage=len(self.static["storage_units"]) + len(self.static["stores"]) > 0)
        buses, regions = self.buses()
        tables: dict[str, pd.DataFrame] = {"buses": buses}
        series: dict[str, pd.DataFrame] = {}
        tables["lines"] = self.lines(buses)
        tables["transformers"] = self.transformers()
        self.check_phase_shifts(tables["lines"], tables["transformers"])
        tables["links"] = self.links()
        qualify_branch_names(tables)
        if self.link_pmax is not None:  # series follow the names the links end up with
            new = dict(zip(self.static["links"].index, tables["links"]["name"], strict=True))
            series["link_p_max_pu"] = self.link_pmax.rename(columns=new)
        tables["markets"] = self.markets(series)
        tables["generators"] = self.generators(series)
        self.loads(series)
        su, res, spill_pen = storage_units(self, tables, series)
        tables["storage_units"], tables["reservoirs"] = su, res
        stores(self, tables, series)
        limits = global_constraints(self, tables)
        weighting = self.weighting_frame()
        if weighting is not None:
            series["weighting"] = weighting
        if self.problems:
            raise CaseError(self.problems)

        name = self.network_name()
        config = {"name": name, "description": f"imported from the PyPSA CSV folder {self.folder.name}",
                  "timeseries_start": str(self.index[0]), "hours": self.T, "default_hours": self.T,
                  "regions": regions, "penalties": import_penalties(spill_pen), **limits, **IMPORT_SETTINGS}
        for df in series.values():
            df.index = self.index
        net = imported_network(config, tables, series, self.folder)
        cap = limits.get("carbon_caps", {}).get("system")
        return Imported(net, constant_cny=self.constant_cny, carbon_cap_t=cap)

    # ---- components -------------------------------------------------------------------------
    def markets(self, series: dict[str, pd.DataFrame]) -> pd.DataFrame:
        """Generators that are price takers become gridopt markets (removed from the generators).

        A buyer (static p_max_pu = 0, p_min_pu < 0: negative output earning marginal_cost) is a market
        buying up to -p_min_pu * p_nom at buy_price = marginal_cost; a seller (time-varying
        marginal_cost, p_min_pu = 0, static p_max_pu) a market selling up to p_nom * p_max_pu at
        sell_price = marginal_cost. Both are exact: the LP terms are the same.
        """
        g = self.static["generators"]
        dyn = self.dyn["generators"]
        c = lambda a, d: self.col("generators", a, d)
        fixed = ~g.index.isin(list(dyn.get("p_max_pu", pd.DataFrame()).columns)
                              + list(dyn.get("p_min_pu", pd.DataFrame()).columns))
        pmin, pmax, p_nom = c("p_min_pu", 0.0), c("p_max_pu", 1.0), c("p_nom", 0.0)
        price_ser = dyn.get("marginal_cost", pd.DataFrame())
        buyer = fixed & (pmin < 0).to_numpy() & (pmax == 0).to_numpy()
        seller = fixed & (pmin == 0).to_numpy() & g.index.isin(list(price_ser.columns)) & ~buyer
        for name in price_ser.columns:
            if name in g.index and not (buyer | seller)[g.index.get_loc(name)]:
                self.refuse("generators", name, "marginal_cost",
                            "time-varying marginal_cost is only supported on price takers (p_min_pu = 0 and "
                            "static p_max_pu, or buyers with p_max_pu = 0), imported as gridopt markets")
        co2 = self.col("carriers", "co2_emissions", 0.0) if len(self.static["carriers"]) else pd.Series(dtype=float)
        eff = c("efficiency", 1.0)
        factor = (c("carrier", "").map(co2).fillna(0.0) / eff.where(eff > 0, 1.0))
        bi, si = g.index[buyer], g.index[seller]
        for name in g.index[(buyer | seller) & c("p_nom_extendable", False).to_numpy()]:
            self.refuse("generators", name, "p_nom_extendable",
                        "True on a price taker (imported as a gridopt market, whose limits are fixed)")
        m = pd.DataFrame({"name": list(bi) + list(si), "bus": list(c("bus", "")[bi]) + list(c("bus", "")[si]),
                          "buy_max_mw": list(-(pmin * p_nom)[bi]) + [0.0] * len(si),
                          "sell_max_mw": [0.0] * len(bi) + list((pmax * p_nom)[si]),
                          "buy_price": list(c("marginal_cost", 0.0)[bi]) + [0.0] * len(si),
                          "sell_price": [0.0] * len(bi) + list(c("marginal_cost", 0.0)[si]),
                          "co2_t_per_mwh": list(factor[bi]) + list(factor[si])})
        for key, names in (("buy_price", bi), ("sell_price", si)):
            cols = [n for n in names if n in price_ser.columns]
            if cols:
                series[key] = price_ser[cols].copy()
        keep = ~(buyer | seller)
        self.static["generators"] = g[keep]
        self.dyn["generators"] = {a: df[[col for col in df.columns if col in set(g.index[keep])]]
                                  for a, df in dyn.items() if a != "marginal_cost"}
        return m

    def generators(self, series: dict[str, pd.DataFrame]) -> pd.DataFrame:
        g = self.static["generators"]
        c = lambda a, d: self.col("generators", a, d)
        pmax = self.matrix("generators", "p_max_pu", 1.0)
        pmin = self.matrix("generators", "p_min_pu", 0.0)
        for name in g.index:
            if (pmin[name] < 0).any():
                self.refuse("generators", name, "p_min_pu", f"{pmin[name].min():g}: negative output is not supported")
            if (pmax[name] < 0).any():
                self.refuse("generators", name, "p_max_pu", f"{pmax[name].min():g}: p_max_pu must be >= 0")
        scale = np.maximum(1.0, pmax.max(axis=0).to_numpy()) if len(g) else np.ones(0)
        carriers = self.static["carriers"]
        co2_of = self.col("carriers", "co2_emissions", 0.0) if len(carriers) else pd.Series(dtype=float)
        carrier = c("carrier", "")
        eff = c("efficiency", 1.0)
        co2 = carrier.map(co2_of).fillna(0.0) / eff.where(eff > 0, 1.0)
        pmax_ser = self.dyn["generators"].get("p_max_pu")
        pmin_ser = self.dyn["generators"].get("p_min_pu")
        varying_max = [n for n in g.index if pmax_ser is not None and n in pmax_ser.columns]
        varying_min = [n for n in g.index if pmin_ser is not None and n in pmin_ser.columns]
        sc = pd.Series(scale, index=g.index)
        if varying_max:
            series["p_max_pu"] = (pmax[varying_max] / sc[varying_max]).clip(0.0, 1.0)
        if varying_min:
            series["must_run_pu"] = (pmin[varying_min] / sc[varying_min]).clip(0.0, 1.0)
        static_min = c("p_min_pu", 0.0).where(~g.index.isin(varying_min), 0.0)
        # PyPSA limits ramps per snapshot, gridopt per hour of a snapshot's duration
        ramped = g.index[c("ramp_limit_up", np.nan).notna() | c("ramp_limit_down", np.nan).notna()]
        dt = float(self.dt[0]) if self.T else 1.0
        if len(ramped) and not np.allclose(self.dt, dt):
            self.refuse("generators", ramped[0], "ramp_limit_up", f"ramp limits ({len(ramped)} generator(s)) with "
                        "snapshots of different 'stores' weightings: gridopt's per-hour limit cannot give PyPSA's "
                        "per-snapshot one")
        return pd.DataFrame({"name": g.index, "bus": c("bus", ""), "carrier": carrier.replace("", "other"),
                             "p_nom": c("p_nom", 0.0) * scale, "p_max_pu": (c("p_max_pu", 1.0) / scale).clip(0, 1),
                             "p_min_pu": (static_min / scale).clip(0, 1), "marginal_cost": c("marginal_cost", 0.0),
                             "co2_t_per_mwh": co2, "ramp_limit_up": c("ramp_limit_up", np.nan) / scale / dt,
                             "ramp_limit_down": c("ramp_limit_down", np.nan) / scale / dt,
                             "p_init": c("p_init", np.nan), **self.expansion("generators", sc)}
                            ).reset_index(drop=True)

    def loads(self, series: dict[str, pd.DataFrame]) -> None:
        ld = self.static["loads"]
        if len(ld) == 0:
            return
        p = self.matrix("loads", "p_set", 0.0)
        bus = self.col("loads", "bus", "")
        per_bus = p.T.groupby(bus.reindex(p.columns).to_numpy()).sum().T
        per_bus = per_bus.loc[:, (per_bus != 0).any(axis=0)]
        for b in per_bus.columns[(per_bus < 0).any(axis=0)]:
            self.refuse("loads", ", ".join(bus.index[bus == b]), "p_set",
                        f"the loads at bus {b} sum to a negative demand ({per_bus[b].min():g} MW): not supported")
        if per_bus.shape[1]:
            series["load_firm_mw"] = per_bus
