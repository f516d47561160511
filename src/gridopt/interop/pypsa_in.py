"""Read a PyPSA CSV folder (as written by ``pypsa.Network.export_to_csv_folder``) into a gridopt network.

The CSV files are read with pandas; PyPSA itself is not needed. Every element keeps its PyPSA name.

What maps to what (PyPSA attribute -> gridopt column; units as in PyPSA, MW, MWh, ohm, currency/MWh):

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
- capacity expansion (lines, transformers, links, generators, storage units without inflow, stores):
  *_nom_extendable, *_nom_min, *_nom_max (a *_nom_set fixes both) and the cost per unit of capacity
  for the horizon, capital_cost (or overnight_cost annuitised over lifetime at discount_rate and scaled
  to the horizon's years, objective weightings / 8760 h) plus fom_cost, on every element; gridopt pays
  it on optimal minus existing capacity of extendable elements, as PyPSA (nothing at fixed capacities).
  Where p_nom is rescaled (limits beyond 1 pu, a storage unit's p_max_pu) the bounds scale with it and
  the cost per MW inversely. Refused: modular expansion (*_nom_mod), extendable storage units with
  inflow, set states or whose charge disappears (the reservoir volume, stores, turbine, pump and sink are
  separate capacities in gridopt, PyPSA's follow one p_nom), an extendable storage unit at p_nom 0
  with p_min_pu != -p_max_pu (gridopt takes the charge-to-dispatch ratio from the existing capacities),
  extendable price takers (markets have no capacity decision).
- snapshots and weightings: PyPSA's objective, stores and generators weightings become the ``weighting``
  series' columns of those names (`Network.weightings`, `durations`, `energy_weightings`): costs, the hours
  each snapshot advances storage, and energy and emission limits. gridopt's snapshots lie `stores` hours
  apart: the timestamps are kept where they do (and where they are hourly in a network that stores nothing,
  whose `stores` weighting is then dropped), else relabelled from the first one with a warning
  (`PypsaFolder.place_snapshots`). Ramp limits, per snapshot in PyPSA and per hour in gridopt, are divided
  by the snapshots' duration (refused where durations differ). Capital costs are per horizon in both tools,
  never weighted.
- global constraints: CO2 caps (primary_energy on co2_emissions, <=) become the case's ``carbon_caps``
  ``system`` cap (counted with the `generators` weighting, as PyPSA does), the smallest where there are
  several; refused where PyPSA also counts what gridopt's caps do not (non-cyclic storage units and stores of
  emitting carriers, emitting price takers). transmission_volume_expansion_limit and
  transmission_expansion_cost_limit (<=) become ``expansion_limits`` (`capacity.add_expansion_limits`);
  refused where gridopt would weigh other elements (a link without a carrier is DC in gridopt), a rescaled
  link's p_nom or an element's fom_cost. Every other kind is refused.

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
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CaseError, Problem
from .common import IMPORT_SETTINGS, Imported, import_penalties, imported_network, warn
from .pypsa_csv import PypsaFolder
from .pypsa_storage import storage_units, stores
from .pypsa_types import line_values, transformer_values, type_table

DEFAULT_REGION = "pypsa"
_COMPONENTS = ("buses", "carriers", "generators", "loads", "lines", "transformers", "links", "storage_units",
               "stores", "global_constraints")
_REFUSED_COMPONENTS = {"shunt_impedances": "shunt impedances are not supported by a linear dispatch",
                       "processes": "Process components are not supported"}
_INF = math.inf
_NAN = math.nan

# component -> the prefix of its capacity attributes (p_nom, p_nom_extendable, ...)
_NOM = {"generators": "p", "links": "p", "storage_units": "p", "stores": "e", "lines": "s", "transformers": "s"}
_HOURS_PER_YEAR = 8760.0
# PyPSA's transmission expansion limits -> the key of gridopt's expansion_limits settings
_TRANSMISSION_LIMITS = {"transmission_volume_expansion_limit": "volume_mw_km",
                        "transmission_expansion_cost_limit": "cost_cny"}  # PyPSA's horizon in years: objective weightings / 8760 h

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


class _Reader(PypsaFolder):
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
        tables["markets"] = self.markets(series)
        tables["generators"] = self.generators(series)
        self.loads(series)
        su, res, spill_pen = storage_units(self, tables, series)
        tables["storage_units"], tables["reservoirs"] = su, res
        stores(self, tables, series)
        limits = self.global_constraints(tables)
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

    # ---- capacity expansion ------------------------------------------------------------------
    def expansion(self, comp: str, scale: float | pd.Series = 1.0) -> pd.DataFrame:
        """The capacity decision of each element of `comp` as gridopt columns, indexed by name: flag, bounds
        and capital cost of a capacity that is `scale` times PyPSA's (bounds scale with it, the cost per MW
        inversely, so that the investment is PyPSA's)."""
        nom = f"{_NOM[comp]}_nom"
        c = lambda a, d: self.col(comp, a, d)
        ext = c(f"{nom}_extendable", False).astype(bool)
        lo, hi, fixed, modular = (c(f"{nom}_{a}", d).astype(float) for a, d in
                                  (("min", 0.0), ("max", _INF), ("set", _NAN), ("mod", 0.0)))
        for name in ext.index[ext]:
            if modular[name] != 0:
                self.refuse(comp, name, f"{nom}_mod", f"{modular[name]:g}: modular expansion needs integer "
                                                      "variables, not supported by the LP")
            if not math.isnan(fixed[name]) and not lo[name] <= fixed[name] <= hi[name]:
                self.refuse(comp, name, f"{nom}_set", f"{fixed[name]:g} outside [{nom}_min, {nom}_max] = "
                            f"[{lo[name]:g}, {hi[name]:g}]: PyPSA's problem is infeasible")
        pinned = ext & fixed.notna()  # a set capacity is a decision with equal bounds
        lo, hi = lo.where(~pinned, fixed), hi.where(~pinned, fixed)
        return pd.DataFrame({f"{nom}_extendable": ext, f"{nom}_min": lo * scale, f"{nom}_max": hi * scale,
                             "capital_cost": self.capital_cost(comp, ext) / scale})

    def capital_cost(self, comp: str, ext: pd.Series) -> pd.Series:
        """Cost per unit of capacity for the horizon, as PyPSA charges it: capital_cost, or where given
        overnight_cost times the annuity factor r / (1 - (1 + r)^-lifetime) (1 / lifetime at r = 0) times the
        horizon in years; plus fom_cost."""
        c = lambda a, d: self.col(comp, a, d).astype(float)
        overnight, rate, life = c("overnight_cost", _NAN), c("discount_rate", _NAN), c("lifetime", _INF)
        given = overnight.notna()
        for name in given.index[given & ext & rate.isna()]:
            self.refuse(comp, name, "discount_rate",
                        "missing: overnight_cost needs a discount rate to be annuitised")
        for name in given.index[given & ext & ~(life > 0)]:
            self.refuse(comp, name, "lifetime", f"{life[name]:g}: overnight_cost needs a positive lifetime")
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            r, n = rate.to_numpy(dtype=float), life.to_numpy(dtype=float)
            factor = np.where(r == 0, 1.0 / n, r / (1.0 - (1.0 + r) ** -n))
            factor = np.where(np.isinf(n) & (r != 0), np.maximum(r, 0.0), factor)  # the limit of long lives
        years = float(np.sum(self.weights)) / _HOURS_PER_YEAR
        base = c("capital_cost", 0.0).where(~given, overnight * factor * years)
        return base.fillna(0.0) + c("fom_cost", 0.0)

    # ---- components -------------------------------------------------------------------------
    def buses(self) -> tuple[pd.DataFrame, list[str]]:
        b = self.static["buses"]
        region = pd.Series(DEFAULT_REGION, index=b.index, dtype=object)
        for attr in ("region", "country"):
            if attr in b.columns:
                vals = self.col("buses", attr, "")
                region = vals.where(vals != "", DEFAULT_REGION)
                break
        x, y = self.col("buses", "x", 0.0), self.col("buses", "y", 0.0)
        placed = (x > 0) & ((x != 0) | (y != 0))
        out = pd.DataFrame({"name": b.index, "region": region.to_numpy(), "v_nom": self.col("buses", "v_nom", 1.0),
                            "x": x.where(placed, np.nan), "y": y.where(placed, np.nan)})
        regions = sorted(r for r in set(region) if r != "external")
        self.bus_carrier = self.col("buses", "carrier", "AC")
        return out.reset_index(drop=True), regions

    def lines(self, buses: pd.DataFrame) -> pd.DataFrame:
        ln = self.static["lines"]
        dc = self.col("lines", "bus0", "").map(self.bus_carrier).fillna("AC").eq("DC")
        x, r = self.col("lines", "x", 0.0), self.col("lines", "r", 0.0)
        length = self.col("lines", "length", 0.0)
        typed = self.col("lines", "type", "").ne("")
        if typed.any():  # a standard type sets x and r from the length; s_nom stays the line's own
            v = line_values(self.types("lines", typed), self.col("lines", "type", "")[typed], length[typed],
                            self.col("lines", "num_parallel", 1.0)[typed])
            x, r = x.where(~typed, v["x"].reindex(x.index)), r.where(~typed, v["r"].reindex(r.index))
        x = x.where(~dc, r)
        return pd.DataFrame({"name": ln.index, "bus0": self.col("lines", "bus0", ""),
                             "bus1": self.col("lines", "bus1", ""), "x": x, "s_nom": self.col("lines", "s_nom", 0.0),
                             "s_max_pu": self.col("lines", "s_max_pu", 1.0), "carrier": self.line_carriers(),
                             "length_km": length.where(length > 0, np.nan), **self.expansion("lines")}
                            ).reset_index(drop=True)

    def line_carriers(self) -> pd.Series:
        """A line's carrier as PyPSA's optimisation reads it: its own, else its bus0's (AC by default)."""
        own = self.col("lines", "carrier", "")
        return own.where(own != "", self.col("lines", "bus0", "").map(self.bus_carrier).fillna("AC").replace("", "AC"))

    def transformers(self) -> pd.DataFrame:
        t = self.static["transformers"]
        c = lambda a, d: self.col("transformers", a, d)
        x, s_nom, tap, shift = c("x", 0.0), c("s_nom", 0.0), c("tap_ratio", 1.0), c("phase_shift", 0.0)
        typed = c("type", "").ne("")
        if typed.any():  # a standard type sets x, s_nom, the tap ratio and the phase shift
            v = transformer_values(self.types("transformers", typed), c("type", "")[typed],
                                   c("tap_position", 0.0)[typed], c("num_parallel", 1.0)[typed]).reindex(t.index)
            x, s_nom = x.where(~typed, v["x"]), s_nom.where(~typed, v["s_nom"])
            tap, shift = tap.where(~typed, v["tap_ratio"]), shift.where(~typed, v["phase_shift"])
        exp = self.expansion("transformers")
        for name in t.index[exp["s_nom_extendable"] & (s_nom == 0)]:  # PyPSA's x_pu = x / s_nom is infinite
            self.refuse("transformers", name, "s_nom",
                        "0 on an extendable transformer: its reactance x / s_nom is taken at the existing "
                        "s_nom, which must be > 0")
        return pd.DataFrame({"name": t.index, "bus0": c("bus0", ""), "bus1": c("bus1", ""), "x": x,
                             "s_nom": s_nom, "s_max_pu": c("s_max_pu", 1.0), "tap_ratio": tap,
                             "phase_shift": shift, **exp}).reset_index(drop=True)

    def types(self, comp: str, typed: pd.Series) -> pd.DataFrame:
        """The standard types `comp` uses (see pypsa_types); unknown types are refused."""
        table = type_table(comp, self.folder)
        names = self.col(comp, "type", "")[typed]
        for name, kind in names[~names.isin(table.index)].items():
            self.refuse(comp, name, "type", f"{kind!r}: not a type of the folder's {comp[:-1]}_types.csv "
                                            "nor of the installed pypsa package's standard types")
        return table

    def check_phase_shifts(self, lines: pd.DataFrame, transformers: pd.DataFrame) -> None:
        """Phase shifts that only rotate bus angles are dropped; any other is refused.

        PyPSA adds each transformer's phase shift to Kirchhoff's voltage law around every cycle. When
        there are bus angles phi with shift = phi(bus0) - phi(bus1) on every AC branch (0 on lines), every
        cycle's shifts sum to zero and the flows are those of the network without shifts (the usual case:
        transformers of one vector group between two voltage levels).
        """
        shift = transformers.pop("phase_shift").to_numpy(dtype=float)
        if not np.any(shift != 0):
            return
        edges: dict[str, list[tuple[str, float, str]]] = {}
        branches = [(r.bus0, r.bus1, 0.0, f"line {r.name}") for r in lines.itertuples()] \
            + [(b0, b1, s, f"transformer {n}") for b0, b1, s, n in
               zip(transformers["bus0"], transformers["bus1"], shift, transformers["name"])]
        for b0, b1, s, what in branches:
            edges.setdefault(b0, []).append((b1, -s, what))
            edges.setdefault(b1, []).append((b0, s, what))
        phi: dict[str, float] = {}
        for root in edges:
            if root in phi:
                continue
            phi[root], stack = 0.0, [root]
            while stack:
                bus = stack.pop()
                for other, step, what in edges[bus]:
                    if other not in phi:
                        phi[other] = phi[bus] + step
                        stack.append(other)
                    elif not math.isclose(phi[other], phi[bus] + step, abs_tol=1e-9):
                        shifted = transformers["name"].to_numpy()[shift != 0]
                        row = what.split(" ", 1)[1] if what.startswith("transformer") else shifted[0]
                        self.refuse("transformers", row, "phase_shift",
                                    f"phase shifts drive flows around a cycle (closed by {what}): not supported")
                        return

    def links(self) -> pd.DataFrame:
        lk = self.static["links"]
        c = lambda a, d: self.col("links", a, d)
        for col in lk.columns:
            if re.fullmatch(r"bus[2-9]\d*", col):
                for name, v in c(col, "").items():
                    if v:
                        self.refuse("links", name, col, f"{v!r}: multi-port links are not supported")
        p_nom, pmin, pmax = c("p_nom", 0.0), c("p_min_pu", 0.0), c("p_max_pu", 1.0)
        eff, mc = c("efficiency", 1.0), c("marginal_cost", 0.0)
        for name in lk.index:
            if pmin[name] > 0:
                self.refuse("links", name, "p_min_pu", f"{pmin[name]:g}: a minimum forward flow is not supported "
                                                       "(p_min_pu must be <= 0)")
            if pmax[name] < 0:
                self.refuse("links", name, "p_max_pu", f"{pmax[name]:g}: p_max_pu must be >= 0")
            if not 0 < eff[name] <= 1:
                self.refuse("links", name, "efficiency", f"{eff[name]:g}: gridopt links need 0 < efficiency <= 1")
            if pmin[name] < 0 and mc[name] != 0:
                self.refuse("links", name, "marginal_cost",
                            f"{mc[name]:g} on a two-way link (p_min_pu < 0): PyPSA earns it back on reverse flow, "
                            "gridopt charges both directions")
            if pmin[name] < 0 and eff[name] < 1:
                warn(f"link {name}: lossy two-way link (efficiency {eff[name]:g}, p_min_pu {pmin[name]:g}) imported "
                     "with efficiency_reverse = efficiency; PyPSA's single variable would create energy on reverse "
                     "flow (delivering p / efficiency), so objectives differ")
        scale = np.maximum(1.0, np.maximum(pmax, -pmin))
        self.link_scale = scale
        carrier = c("carrier", "DC").replace("", "DC")
        length = c("length", 0.0)
        return pd.DataFrame({"name": lk.index, "bus0": c("bus0", ""), "bus1": c("bus1", ""), "p_nom": p_nom * scale,
                             "p_max_pu": pmax / scale, "p_min_pu": pmin / scale, "efficiency": eff,
                             "efficiency_reverse": eff, "marginal_cost": mc, "carrier": carrier,
                             "length_km": length.where(length > 0, np.nan), **self.expansion("links", scale)}
                            ).reset_index(drop=True)

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

    def global_constraints(self, tables: dict[str, pd.DataFrame]) -> dict:
        """PyPSA's global constraints as case settings: CO2 caps (primary_energy on co2_emissions, <=) as the
        case's 'system' carbon cap (the smallest where there are several, as they bound the same sum), and
        transmission volume and cost limits as `expansion_limits`; every other kind is refused."""
        gc = self.static["global_constraints"]
        c = lambda a, d: self.col("global_constraints", a, d)
        kind, attr, sense, const = c("type", "primary_energy"), c("carrier_attribute", "co2_emissions"), \
            c("sense", "=="), c("constant", 0.0)
        caps, limits = [], {}
        for name in gc.index:
            k = kind[name]
            if k == "primary_energy" and attr[name] == "co2_emissions" and sense[name] == "<=":
                if const[name] < 0:
                    self.refuse("global_constraints", name, "constant", f"{const[name]:g}: a negative CO2 cap is "
                                "not supported (gridopt's emission factors and caps are >= 0)")
                elif self.co2_cap_matches(name, tables):
                    caps.append(float(const[name]))
            elif k in _TRANSMISSION_LIMITS and sense[name] == "<=":
                carriers = [x.strip() for x in re.sub(r"[\[\]()]", "", attr[name]).split(",") if x.strip()]
                if carriers and self.transmission_limit_matches(name, k, carriers, tables):
                    limits[name] = {"carriers": carriers, _TRANSMISSION_LIMITS[k]: float(const[name])}
            else:
                self.refuse("global_constraints", name, "type",
                            f"{k} on {attr[name]} ({sense[name]}): only CO2 caps (primary_energy on co2_emissions) "
                            "and transmission volume or cost expansion limits, with sense <=, are supported")
        out: dict = {}
        if caps:
            out["carbon_caps"] = {"system": min(caps)}
        if limits:
            out["expansion_limits"] = limits
        return out

    def co2_cap_matches(self, name: str, tables: dict[str, pd.DataFrame]) -> bool:
        """Whether gridopt's 'system' cap counts what PyPSA's CO2 cap `name` counts: generators' emissions
        (co2_t_per_mwh, with the `generators` weighting); PyPSA also counts the energy that non-cyclic storage
        units and stores of emitting carriers lose over the horizon, and price takers (imported as markets)
        emit outside gridopt's caps, so those are refused."""
        co2 = self.col("carriers", "co2_emissions", 0.0) if len(self.static["carriers"]) else pd.Series(dtype=float)
        emitting = set(co2.index[co2 != 0])
        ok = True
        for comp, cyclic in (("storage_units", "cyclic_state_of_charge"), ("stores", "e_cyclic")):
            car, cyc = self.col(comp, "carrier", ""), self.col(comp, cyclic, False)
            for el in car.index[car.isin(emitting) & ~cyc]:
                self.refuse("global_constraints", name, "carrier_attribute",
                            f"{comp[:-1].replace('_', ' ')} {el} of emitting carrier {car[el]!r} is not cyclic: "
                            "PyPSA counts the energy it loses over the horizon in the CO2 cap, gridopt does not")
                ok = False
        mk = tables["markets"]
        for el in mk.index[mk["co2_t_per_mwh"].to_numpy() > 0] if len(mk) else []:
            self.refuse("global_constraints", name, "carrier_attribute",
                        f"price taker {mk.at[el, 'name']} (imported as a market) emits: PyPSA counts it in the CO2 cap, "
                        "gridopt's caps count markets only as imports at external buses")
            ok = False
        return ok

    def transmission_limit_matches(self, name: str, kind: str, carriers: list[str],
                                   tables: dict[str, pd.DataFrame]) -> bool:
        """Whether gridopt's limit (over extendable lines and links of the carriers, by their gridopt
        capacity) is PyPSA's `kind` limit `name`: the same elements (a link without a carrier is DC in
        gridopt, none in PyPSA), links at PyPSA's p_nom for a volume (not rescaled) and without fom_cost for a
        cost (PyPSA's cost limit weighs the annuity alone)."""
        ok = True
        for comp, pypsa_carrier in (("lines", self.line_carriers()), ("links", self.col("links", "carrier", ""))):
            nom = f"{_NOM[comp]}_nom"
            g = tables[comp].iloc[:len(self.static[comp])]  # the folder's own, in its order (own-bus links follow)
            ext = g[f"{nom}_extendable"].to_numpy(dtype=bool)
            theirs = ext & pypsa_carrier.isin(carriers).to_numpy()
            ours = ext & g["carrier"].isin(carriers).to_numpy()
            names = self.static[comp].index
            for el in names[theirs != ours]:
                self.refuse("global_constraints", name, "carrier_attribute",
                            f"{comp[:-1]} {el}: its carrier {pypsa_carrier[el]!r} is {g['carrier'].iloc[names.get_loc(el)]!r} "
                            "in gridopt, so the limit would count other elements")
                ok = False
            if comp == "links" and kind == "transmission_volume_expansion_limit":
                for el in names[theirs & (np.asarray(self.link_scale) != 1.0)]:
                    self.refuse("global_constraints", name, "carrier_attribute",
                                f"link {el}: limits beyond 1 pu rescale its p_nom, which the volume limit weighs")
                    ok = False
            if kind == "transmission_expansion_cost_limit":
                fom = self.col(comp, "fom_cost", 0.0).to_numpy(dtype=float)
                for el in names[theirs & (fom != 0)]:
                    self.refuse("global_constraints", name, "carrier_attribute",
                                f"{comp[:-1]} {el}: fom_cost counts in gridopt's capital_cost, not in PyPSA's "
                                "expansion cost limit")
                    ok = False
        return ok


def qualify_branch_names(tables: dict[str, pd.DataFrame]) -> None:
    """Names shared by a line, a transformer or a link become `line:NAME`, `transformer:NAME`, `link:NAME`.

    PyPSA names each component apart; gridopt's branch names are one namespace (flows, interfaces).
    """
    kinds = {"lines": "line", "transformers": "transformer", "links": "link"}
    seen = pd.concat([tables[c]["name"] for c in kinds]).astype(str)
    shared = set(seen[seen.duplicated(keep=False)])
    if not shared:
        return
    for comp, kind in kinds.items():
        df = tables[comp]
        df["name"] = [f"{kind}:{n}" if n in shared else n for n in df["name"].astype(str)]
    warn(f"branch names shared between lines, transformers and links qualified by kind: {', '.join(sorted(shared))}")
