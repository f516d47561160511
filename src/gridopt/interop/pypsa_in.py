"""Read a PyPSA CSV folder (as written by ``pypsa.Network.export_to_csv_folder``) into a gridopt network.

The CSV files are read with pandas; PyPSA itself is not needed. Every element keeps its PyPSA name.

What maps to what (PyPSA attribute -> gridopt column; units as in PyPSA, MW, MWh, ohm, currency/MWh):

- buses: v_nom -> v_nom; region from a ``country`` or ``region`` column, else the one region "pypsa".
- lines: x (ohm; r for lines on DC buses, as PyPSA's DC sub-networks use it), s_nom, s_max_pu; r, g, b
  are not used by a linear power flow. gridopt computes x / v_nom(bus0)^2 itself, as PyPSA does.
- transformers: x (pu on s_nom), s_nom, s_max_pu, tap_ratio: x / s_nom * tap_ratio in both tools.
- links: p_nom, p_min_pu, p_max_pu, efficiency, marginal_cost. A link with p_min_pu < 0 becomes a
  two-direction gridopt link (reverse limit -p_min_pu * p_nom). PyPSA's single variable delivers
  |p| at bus0 for efficiency * |p| taken at bus1 on reverse flow, creating energy when efficiency < 1;
  gridopt loses energy both ways (efficiency_reverse = efficiency), so such links are warned about.
  Limits beyond [-1, 1] pu are rescaled onto p_nom.
- generators: p_nom, p_max_pu (static or series), p_min_pu (static -> p_min_pu; series -> the
  must_run_pu series), marginal_cost, ramp limits, p_init; co2_t_per_mwh = carrier co2_emissions
  (t/MWh_th) / efficiency. Availability above 1 pu is rescaled onto p_nom.
- loads: p_set (static or series) summed over the loads at each bus -> load_firm_mw.
- storage units without inflow -> storage_units (p_nom_store = -p_min_pu * p_nom; a static
  p_max_pu < 1 scales p_nom with max_hours scaled so the energy capacity is kept;
  state_of_charge_initial is divided by 1 - standing_loss since PyPSA starts from it without a loss).
- storage units with inflow -> reservoirs in energy-equivalent units: one "m3/s" is one MW of stored
  energy flow, so volume_hm3 = energy_MWh * 0.0036 (hm3 per m3/s over one hour), inflow_m3s = inflow
  (MW), production_mw_per_m3s = efficiency_dispatch (so release / efficiency_dispatch empties the
  store as in PyPSA), volume_max_hm3 = max_hours * p_nom * 0.0036, volume_initial_hm3 =
  state_of_charge_initial * 0.0036, spill_max_m3s = the largest inflow (PyPSA bounds spill by the
  hour's inflow; gridopt's bound is static: a stated relaxation), and the case's spill penalty =
  spill_cost / efficiency_dispatch (gridopt prices spill per MWh of the water's energy). Such units
  must not store power (p_min_pu = 0), lose energy standing, or be cyclic: gridopt reservoirs do none.
- snapshots: hourly timestamps (others are relabelled as consecutive hours, with a warning); the
  weightings become the ``weighting`` series when PyPSA's objective, generator and store weightings
  are equal (else refused; with storage they must be 1, since gridopt's storage dynamics are hourly).
- global constraints: a CO2 cap (primary_energy on co2_emissions, sense <=) is returned as
  `Imported.carbon_cap_t` with a warning (gridopt takes caps as a run option).

Results PyPSA writes after a solve (p, q, marginal_price, state_of_charge, *_opt, mu_*...) are ignored.
Anything the LP cannot hold (unit commitment, extendable capacities, other global constraints, shunt
impedances, stores, multi-port links, time-varying limits gridopt has no series for, ...) is refused
with a `CaseError` naming file, element and attribute, never dropped.
The imported case's penalties are those of `common.import_penalties`, so gridopt's objective equals
PyPSA's ``Network.optimize()`` objective.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CaseError, Problem
from ..units import HM3_PER_M3S_HOUR
from .common import Imported, import_penalties, imported_network, warn
from .pypsa_csv import PypsaFolder

DEFAULT_REGION = "pypsa"
_COMPONENTS = ("buses", "carriers", "generators", "loads", "lines", "transformers", "links", "storage_units",
               "global_constraints")
_REFUSED_COMPONENTS = {"stores": "Store components are not supported (use a StorageUnit)",
                       "shunt_impedances": "shunt impedances are not supported by a linear dispatch",
                       "processes": "Process components are not supported"}
_INF = math.inf
_NAN = math.nan

# attribute -> (value at which it is harmless, why any other value is refused)
_EXTENDABLE = "extendable capacity (capacity expansion) is not supported: gridopt dispatches fixed capacities"
_REFUSE = {
    "generators": {
        "committable": (False, "committable generators (unit commitment) are not supported"),
        "p_nom_extendable": (False, _EXTENDABLE),
        "marginal_cost_quadratic": (0.0, "quadratic costs are not supported by the LP"),
        "sign": (1.0, "generators with sign other than 1 are not supported"),
        "e_sum_min": (-_INF, "energy sum limits are not supported"),
        "e_sum_max": (_INF, "energy sum limits are not supported"),
        "p_set": (_NAN, "fixed dispatch (p_set) is not supported"),
        "maintainable": (False, "maintenance scheduling is not supported"),
    },
    "links": {
        "p_nom_extendable": (False, _EXTENDABLE),
        "committable": (False, "committable links (unit commitment) are not supported"),
        "marginal_cost_quadratic": (0.0, "quadratic costs are not supported by the LP"),
        "p_set": (_NAN, "fixed flow (p_set) is not supported"),
        "delay": (0.0, "delayed links are not supported"),
        "ramp_limit_up": (_NAN, "ramp limits on links are not supported"),
        "ramp_limit_down": (_NAN, "ramp limits on links are not supported"),
        "maintainable": (False, "maintenance scheduling is not supported"),
    },
    "lines": {
        "s_nom_extendable": (False, _EXTENDABLE),
        "type": ("", "line types are not supported: give x and s_nom per line"),
        "v_ang_min": (-_INF, "angle-difference limits are not supported"),
        "v_ang_max": (_INF, "angle-difference limits are not supported"),
    },
    "transformers": {
        "s_nom_extendable": (False, _EXTENDABLE),
        "type": ("", "transformer types are not supported: give x, s_nom and tap_ratio per transformer"),
        "phase_shift": (0.0, "phase-shifting transformers are not supported"),
        "v_ang_min": (-_INF, "angle-difference limits are not supported"),
        "v_ang_max": (_INF, "angle-difference limits are not supported"),
    },
    "storage_units": {
        "p_nom_extendable": (False, _EXTENDABLE),
        "sign": (1.0, "storage units with sign other than 1 are not supported"),
        "marginal_cost_quadratic": (0.0, "quadratic costs are not supported by the LP"),
        "marginal_cost_storage": (0.0, "costs on the state of charge are not supported"),
        "p_set": (_NAN, "fixed dispatch (p_set) is not supported"),
        "p_dispatch_set": (_NAN, "fixed dispatch is not supported"),
        "p_store_set": (_NAN, "fixed charging is not supported"),
        "state_of_charge_set": (_NAN, "fixed states of charge are not supported"),
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
        capital = [c for c in ("generators", "links", "lines", "transformers", "storage_units")
                   if (self.col(c, "capital_cost", 0.0) != 0).any()]
        if capital:
            warn(f"capital costs of {', '.join(capital)} are a constant at fixed capacities and are not imported")

        buses, regions = self.buses()
        tables: dict[str, pd.DataFrame] = {"buses": buses}
        series: dict[str, pd.DataFrame] = {}
        tables["lines"] = self.lines(buses)
        tables["transformers"] = self.transformers()
        tables["links"] = self.links()
        tables["markets"] = self.markets(series)
        tables["generators"] = self.generators(series)
        self.loads(series)
        su, res, spill_pen = self.storage(series)
        tables["storage_units"], tables["reservoirs"] = su, res
        cap = self.global_constraints()
        if self.weights is not None:
            if len(su) or len(res):
                self.problems.append(Problem(self.f("snapshots.csv"), "", "stores",
                                             "snapshot weightings other than 1 with storage units: gridopt's "
                                             "storage dynamics are hourly"))
            series["weighting"] = pd.DataFrame({"weighting": self.weights}, index=self.index)
        if self.problems:
            raise CaseError(self.problems)

        name = self.network_name()
        config = {"name": name, "description": f"imported from the PyPSA CSV folder {self.folder.name}",
                  "timeseries_start": str(self.index[0]), "hours": self.T, "regions": regions,
                  "penalties": import_penalties(spill_pen)}
        for df in series.values():
            df.index = self.index
        net = imported_network(config, tables, series, self.folder)
        return Imported(net, carbon_cap_t=cap)
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
        x = self.col("lines", "x", 0.0).where(~dc, self.col("lines", "r", 0.0))
        length = self.col("lines", "length", 0.0)
        return pd.DataFrame({"name": ln.index, "bus0": self.col("lines", "bus0", ""),
                             "bus1": self.col("lines", "bus1", ""), "x": x, "s_nom": self.col("lines", "s_nom", 0.0),
                             "s_max_pu": self.col("lines", "s_max_pu", 1.0), "carrier": np.where(dc, "DC", "AC"),
                             "length_km": length.where(length > 0, np.nan)}).reset_index(drop=True)

    def transformers(self) -> pd.DataFrame:
        t = self.static["transformers"]
        c = lambda a, d: self.col("transformers", a, d)
        return pd.DataFrame({"name": t.index, "bus0": c("bus0", ""), "bus1": c("bus1", ""), "x": c("x", 0.0),
                             "s_nom": c("s_nom", 0.0), "s_max_pu": c("s_max_pu", 1.0),
                             "tap_ratio": c("tap_ratio", 1.0)}).reset_index(drop=True)

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
        carrier = c("carrier", "DC").replace("", "DC")
        length = c("length", 0.0)
        return pd.DataFrame({"name": lk.index, "bus0": c("bus0", ""), "bus1": c("bus1", ""), "p_nom": p_nom * scale,
                             "p_max_pu": pmax / scale, "p_min_pu": pmin / scale, "efficiency": eff,
                             "efficiency_reverse": eff, "marginal_cost": mc, "carrier": carrier,
                             "length_km": length.where(length > 0, np.nan)}).reset_index(drop=True)

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
        return pd.DataFrame({"name": g.index, "bus": c("bus", ""), "carrier": carrier.replace("", "other"),
                             "p_nom": c("p_nom", 0.0) * scale, "p_max_pu": (c("p_max_pu", 1.0) / scale).clip(0, 1),
                             "p_min_pu": (static_min / scale).clip(0, 1), "marginal_cost": c("marginal_cost", 0.0),
                             "co2_t_per_mwh": co2, "ramp_limit_up": c("ramp_limit_up", np.nan) / scale,
                             "ramp_limit_down": c("ramp_limit_down", np.nan) / scale,
                             "p_init": c("p_init", np.nan)}).reset_index(drop=True)

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

    def storage(self, series: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame, float]:
        su = self.static["storage_units"]
        c = lambda a, d: self.col("storage_units", a, d)
        inflow = self.matrix("storage_units", "inflow", 0.0)
        has_inflow = (inflow > 0).any(axis=0) if len(su) else pd.Series(dtype=bool)
        p_nom, pmin, pmax = c("p_nom", 0.0), c("p_min_pu", -1.0), c("p_max_pu", 1.0)
        loss, eff_d = c("standing_loss", 0.0), c("efficiency_dispatch", 1.0)
        cyclic, soc0 = c("cyclic_state_of_charge", False), c("state_of_charge_initial", 0.0)
        spill_cost = c("spill_cost", 0.0)
        for name in su.index:
            if pmin[name] > 0:
                self.refuse("storage_units", name, "p_min_pu", f"{pmin[name]:g}: must be <= 0")
            if not pmax[name] > 0:
                self.refuse("storage_units", name, "p_max_pu", f"{pmax[name]:g}: must be > 0")
            if (inflow[name] < 0).any():
                self.refuse("storage_units", name, "inflow", "negative inflow is not supported")
        sto = su.index[~has_inflow.reindex(su.index, fill_value=False).to_numpy()]
        hyd = su.index[has_inflow.reindex(su.index, fill_value=False).to_numpy()]
        pm = pmax.clip(lower=1e-12)
        keep = (1.0 - loss).clip(lower=1e-12)
        st = pd.DataFrame({"name": sto, "bus": c("bus", "")[sto], "carrier": c("carrier", "")[sto].replace("", "storage"),
                           "p_nom": (p_nom * pmax)[sto], "p_nom_store": (-pmin * p_nom)[sto],
                           "max_hours": (c("max_hours", 1.0) / pm)[sto],
                           "efficiency_store": c("efficiency_store", 1.0)[sto], "efficiency_dispatch": eff_d[sto],
                           "standing_loss": loss[sto], "cyclic_state_of_charge": cyclic[sto],
                           "state_of_charge_initial": (soc0 / keep)[sto],
                           "marginal_cost": c("marginal_cost", 0.0)[sto]}).reset_index(drop=True)
        spill_pen = set()
        for name in hyd:
            why = [("p_min_pu", pmin[name] < 0, (f"{pmin[name]:g}: a storage unit with inflow that also stores power "
                                                 "has no gridopt equivalent (reservoirs do not pump); set p_min_pu = 0")),
                   ("standing_loss", loss[name] > 0, f"{loss[name]:g}: reservoirs have no standing loss"),
                   ("cyclic_state_of_charge", bool(cyclic[name]),
                    "True: reservoirs with inflow start from state_of_charge_initial (not cyclic)"),
                   ("spill_cost", spill_cost[name] < 0, f"{spill_cost[name]:g}: must be >= 0")]
            for attr, bad, msg in why:
                if bad:
                    self.refuse("storage_units", name, attr, msg)
            spill_pen.add(round(spill_cost[name] / eff_d[name], 9))
        if len(spill_pen) > 1:
            self.refuse("storage_units", ", ".join(hyd), "spill_cost",
                        "spill_cost / efficiency_dispatch differs between storage units with inflow: gridopt has one "
                        "spill penalty per case")
        e_max = (c("max_hours", 1.0) * p_nom)[hyd]
        res = pd.DataFrame({"name": hyd, "bus": c("bus", "")[hyd], "p_nom": (p_nom * pmax)[hyd],
                            "production_mw_per_m3s": eff_d[hyd], "volume_min_hm3": 0.0,
                            "volume_max_hm3": e_max * HM3_PER_M3S_HOUR,
                            "volume_initial_hm3": soc0[hyd] * HM3_PER_M3S_HOUR,
                            "spill_max_m3s": inflow[hyd].max(axis=0) if len(hyd) else pd.Series(dtype=float),
                            "marginal_cost": c("marginal_cost", 0.0)[hyd]}).reset_index(drop=True)
        if len(hyd):
            series["inflow_m3s"] = inflow[list(hyd)]
        return st, res, (spill_pen.pop() if len(spill_pen) == 1 else 0.0)

    def global_constraints(self) -> float | None:
        gc = self.static["global_constraints"]
        cap = None
        c = lambda a, d: self.col("global_constraints", a, d)
        kind, attr, sense, const = c("type", "primary_energy"), c("carrier_attribute", "co2_emissions"), \
            c("sense", "=="), c("constant", 0.0)
        for name in gc.index:
            if kind[name] != "primary_energy" or attr[name] != "co2_emissions" or sense[name] != "<=":
                self.refuse("global_constraints", name, "type",
                            f"{kind[name]} on {attr[name]} ({sense[name]}): only CO2 caps (primary_energy on "
                            "co2_emissions, <=) are supported")
                continue
            if cap is not None:
                self.refuse("global_constraints", name, "type", "more than one CO2 cap")
                continue
            co2 = self.col("carriers", "co2_emissions", 0.0) if len(self.static["carriers"]) else pd.Series(dtype=float)
            su_carrier = self.col("storage_units", "carrier", "")
            if (su_carrier.map(co2).fillna(0.0) != 0).any():
                self.refuse("global_constraints", name, "constant",
                            "CO2 cap with emitting storage-unit carriers is not supported")
            cap = float(const[name])
            warn(f"global constraint {name}: CO2 cap of {cap:g} t over the horizon is not a case setting in gridopt; "
                 f"run with --carbon-cap system={cap:g}")
        return cap
