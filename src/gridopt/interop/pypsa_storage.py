"""PyPSA storage units and stores as gridopt components, each mapping exact in the LP.

A PyPSA storage unit has, per snapshot of `stores` weighting h (hours), p_dispatch (<= p_nom * p_max_pu),
p_store (<= -p_min_pu * p_nom), spill (<= inflow, only where there is inflow) and

    soc[t] = (1 - standing_loss)^h * soc[t-1] + h * (efficiency_store * p_store[t] - p_dispatch[t] / efficiency_dispatch
             + inflow[t] - spill[t]),        soc[t] <= max_hours * p_nom,

with soc[-1] = soc[T-1] when cyclic_state_of_charge, else state_of_charge_initial without a loss at the first
snapshot, and soc[t] = state_of_charge_set[t] where that is given; costs are marginal_cost * p_dispatch +
spill_cost * spill, weighted by the objective weighting. gridopt's snapshots last h hours (`pypsa_csv`), and
its initial states lose the first snapshot's standing loss, so they are PyPSA's divided by (1 - loss)^h.
Four shapes:

- no inflow, no set states -> a gridopt storage unit (p_nom_store = -p_min_pu * p_nom; a static p_max_pu < 1
  scales p_nom, with max_hours scaled so the energy capacity is kept).
- inflow, not cyclic, no pumping, no standing loss, no set states -> a reservoir in energy-equivalent units:
  one "m3/s" is one MW of stored energy flow, so volume_hm3 = energy_MWh * HM3_PER_M3S_HOUR, inflow_m3s =
  inflow (MW), production_mw_per_m3s = efficiency_dispatch, spill_max_m3s = the largest inflow (PyPSA bounds
  spill by the snapshot's inflow; gridopt's bound is static: a stated relaxation) and the case's spill penalty =
  spill_cost / efficiency_dispatch.
- inflow with a cyclic state of charge, pumping or a standing loss, or any unit with set states -> a gridopt
  store `NAME` on a bus of its own, `NAME:water` (e_nom = max_hours * p_nom, the unit's standing loss, cyclic
  or initial level; set states pin its e_min_pu and e_max_pu series at set / e_nom), a generator `NAME:inflow`
  of up to the snapshot's inflow where there is inflow (what it leaves unused is the spill; its marginal cost
  is -spill_cost, so the objective differs from PyPSA's by the constant spill_cost * weighted inflow, which
  `Imported.constant_cny` carries), a link `NAME:turbine` to the unit's bus (efficiency_dispatch,
  marginal_cost * efficiency_dispatch per MWh drawn from the store) and, where it charges, a link
  `NAME:pump` from the unit's bus (efficiency_store).
- p_min_pu < 0 with efficiency_store = 0 (PyPSA's default p_min_pu on hydro): the charge disappears, so
  the unit is also a free power sink of -p_min_pu * p_nom MW: a market `NAME:sink` at its bus buying
  that much at price 0.

An extendable unit (p_nom_extendable: dispatch, charge and energy all follow one p_nom) is exact as a
gridopt storage unit: p_nom scaled by p_max_pu as above, so its bounds by p_max_pu and its capital cost
by 1 / p_max_pu; the charge rating and the energy follow in the ratios p_nom_store / p_nom and max_hours.
Every other shape splits the unit into elements of their own capacity (a reservoir volume, a store,
turbine and pump links, a sink market), so an extendable unit with inflow, set states or whose charge
disappears is refused, and so is one at p_nom 0 whose charge rating is not its dispatch rating (gridopt
reads the ratio from the existing p_nom_store / p_nom).

A PyPSA store is a gridopt store (`gridopt.formulation.stores`: the same level balance, limits, costs and
capacity), its e_initial divided by (1 - standing_loss)^h as above and e_set pinning e_min_pu and e_max_pu
at e_set / e_nom; refused: an infinite e_nom, e_min_pu < 0 or e_max_pu > 1, set levels on an extendable
store.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..units import HM3_PER_M3S_HOUR


@dataclass
class _Units:
    """The storage units' attributes (PyPSA's defaults filled in), each a Series by unit name."""

    index: pd.Index
    inflow: pd.DataFrame  # (snapshots, units), MW
    bus: pd.Series
    carrier: pd.Series
    p_nom: pd.Series
    p_min_pu: pd.Series
    p_max_pu: pd.Series
    standing_loss: pd.Series
    eff_dispatch: pd.Series
    eff_store: pd.Series
    cyclic: pd.Series
    soc0: pd.Series
    spill_cost: pd.Series
    marginal_cost: pd.Series
    max_hours: pd.Series
    soc_set: pd.DataFrame  # (snapshots, units), MWh; NaN where not set
    first_hours: float  # duration of the first snapshot (h)

    @classmethod
    def read(cls, r) -> _Units:
        c = lambda a, d: r.col("storage_units", a, d)
        return cls(r.static["storage_units"].index, r.matrix("storage_units", "inflow", 0.0), c("bus", ""),
                   c("carrier", ""), c("p_nom", 0.0), c("p_min_pu", -1.0), c("p_max_pu", 1.0),
                   c("standing_loss", 0.0), c("efficiency_dispatch", 1.0), c("efficiency_store", 1.0),
                   c("cyclic_state_of_charge", False), c("state_of_charge_initial", 0.0), c("spill_cost", 0.0),
                   c("marginal_cost", 0.0), c("max_hours", 1.0), r.matrix("storage_units", "state_of_charge_set", np.nan),
                   float(r.dt[0]) if len(r.dt) else 1.0)

    @property
    def has_set(self) -> pd.Series:
        return self.soc_set.notna().any(axis=0).reindex(self.index, fill_value=False)

    @property
    def store_mw(self) -> pd.Series:
        """Charging power; none where the charge disappears (a free sink instead)."""
        return (-self.p_min_pu * self.p_nom).where(~self.index.isin(self.sinks), 0.0)

    @property
    def sinks(self) -> pd.Index:
        return self.index[((self.p_min_pu < 0) & (self.eff_store == 0)).to_numpy()]

    @property
    def pumps(self) -> pd.Series:
        return (self.p_min_pu < 0) & (self.eff_store > 0)

    @property
    def soc_start(self) -> pd.Series:
        """The initial state before the first snapshot's loss: PyPSA starts from it without a loss."""
        return initial_before_loss(self.soc0, self.standing_loss, self.first_hours)

    @property
    def e_max(self) -> pd.Series:
        return self.max_hours * self.p_nom


def storage_units(r, tables: dict[str, pd.DataFrame],
                  series: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Storage units of the PyPSA folder reader `r` -> (storage units, reservoirs, spill penalty).

    Water buses, inflow generators, turbine and pump links and sink markets are added to `tables` and
    `series`; the spill constant is added to `r.constant_cny`.
    """
    u = _Units.read(r)
    _refuse(r, u)
    has_inflow = ((u.inflow > 0).any(axis=0) if len(u.index) else pd.Series(dtype=bool)).reindex(
        u.index, fill_value=False)
    expansion = r.expansion("storage_units", u.p_max_pu)
    _refuse_extendable(r, u, expansion["p_nom_extendable"], has_inflow)
    own_bus = (has_inflow & (u.cyclic | u.pumps | (u.standing_loss > 0))) | u.has_set
    st = _plain_storage(u, u.index[(~has_inflow & ~u.has_set).to_numpy()], expansion)
    hyd = u.index[(has_inflow & ~own_bus).to_numpy()]
    res, spill_pen = _reservoirs(r, u, hyd, series)
    wat = u.index[own_bus.to_numpy()]
    if len(wat):
        _water_buses(r, u, wat, tables, series)
    if len(u.sinks):
        sinks = u.sinks
        _append(tables, "markets", pd.DataFrame({
            "name": [f"{n}:sink" for n in sinks], "bus": u.bus[sinks].to_numpy(),
            "buy_max_mw": (-u.p_min_pu * u.p_nom)[sinks].to_numpy(), "sell_max_mw": 0.0, "buy_price": 0.0,
            "sell_price": 0.0, "co2_t_per_mwh": 0.0}))
    return st.reset_index(drop=True), res, spill_pen


def _refuse(r, u: _Units) -> None:
    """What none of the mappings can hold."""
    for name in u.index:
        if u.p_min_pu[name] > 0:
            r.refuse("storage_units", name, "p_min_pu", f"{u.p_min_pu[name]:g}: must be <= 0")
        if not u.p_max_pu[name] > 0:
            r.refuse("storage_units", name, "p_max_pu", f"{u.p_max_pu[name]:g}: must be > 0")
        if (u.inflow[name] < 0).any():
            r.refuse("storage_units", name, "inflow", "negative inflow is not supported")
        if u.spill_cost[name] < 0:
            r.refuse("storage_units", name, "spill_cost", f"{u.spill_cost[name]:g}: must be >= 0")


def _refuse_extendable(r, u: _Units, ext: pd.Series, has_inflow: pd.Series) -> None:
    """Extendable units that only the plain mapping holds, and that one only with a ratio it can read."""
    ext, inflow, sinks = ext.to_numpy(dtype=bool), has_inflow.to_numpy(dtype=bool), u.index.isin(u.sinks)
    for name in u.index[ext & inflow]:
        r.refuse("storage_units", name, "p_nom_extendable",
                 "True on a unit with inflow: its energy, turbine and pump follow p_nom in PyPSA, but are "
                 "separate capacities in gridopt's reservoirs and water stores")
    for name in u.index[ext & ~inflow & u.has_set.to_numpy()]:
        r.refuse("storage_units", name, "p_nom_extendable", "True on a unit with state_of_charge_set: its set "
                 "states are imported as limits on a store of fixed size")
    for name in u.index[ext & ~inflow & sinks]:
        r.refuse("storage_units", name, "p_nom_extendable", "True on a unit whose charge disappears "
                 "(efficiency_store 0, p_min_pu < 0): the free sink it is imported as has a fixed size")
    pmin, pmax = u.p_min_pu.to_numpy(dtype=float), u.p_max_pu.to_numpy(dtype=float)
    ratio_lost = ext & (u.p_nom.to_numpy(dtype=float) == 0) & ~np.isclose(-pmin, pmax) & ~sinks & ~inflow
    for name in u.index[ratio_lost]:
        r.refuse("storage_units", name, "p_nom",
                 f"0 on an extendable unit with p_min_pu {u.p_min_pu[name]:g} and p_max_pu "
                 f"{u.p_max_pu[name]:g}: gridopt's charge rating follows p_nom in the ratio of the existing "
                 "capacities, which needs p_nom > 0 (or p_min_pu = -p_max_pu)")


def _plain_storage(u: _Units, sto: pd.Index, expansion: pd.DataFrame) -> pd.DataFrame:
    """Units without inflow as gridopt storage units."""
    return pd.DataFrame({"name": sto, "bus": u.bus[sto], "carrier": u.carrier[sto].replace("", "storage"),
                         "p_nom": (u.p_nom * u.p_max_pu)[sto], "p_nom_store": u.store_mw[sto],
                         "max_hours": (u.max_hours / u.p_max_pu.clip(lower=1e-12))[sto],
                         "efficiency_store": u.eff_store.where(u.eff_store > 0, 1.0)[sto],
                         "efficiency_dispatch": u.eff_dispatch[sto], "standing_loss": u.standing_loss[sto],
                         "cyclic_state_of_charge": u.cyclic[sto], "state_of_charge_initial": u.soc_start[sto],
                         "marginal_cost": u.marginal_cost[sto], **expansion.loc[sto]})


def _reservoirs(r, u: _Units, hyd: pd.Index, series: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, float]:
    """Units with inflow that neither cycle, pump nor lose energy as reservoirs in energy units, and the
    case's spill penalty (one per case)."""
    spill_pen = {round(u.spill_cost[n] / u.eff_dispatch[n], 9) for n in hyd}
    if len(spill_pen) > 1:
        r.refuse("storage_units", ", ".join(hyd), "spill_cost",
                 "spill_cost / efficiency_dispatch differs between storage units with inflow: gridopt has one "
                 "spill penalty per case")
    res = pd.DataFrame({"name": hyd, "bus": u.bus[hyd], "p_nom": (u.p_nom * u.p_max_pu)[hyd],
                        "production_mw_per_m3s": u.eff_dispatch[hyd], "volume_min_hm3": 0.0,
                        "volume_max_hm3": u.e_max[hyd] * HM3_PER_M3S_HOUR,
                        "volume_initial_hm3": u.soc0[hyd] * HM3_PER_M3S_HOUR,
                        "spill_max_m3s": u.inflow[hyd].max(axis=0) if len(hyd) else pd.Series(dtype=float),
                        "marginal_cost": u.marginal_cost[hyd]}).reset_index(drop=True)
    if len(hyd):
        series["inflow_m3s"] = u.inflow[list(hyd)]
    return res, (spill_pen.pop() if len(spill_pen) == 1 else 0.0)


def _water_buses(r, u: _Units, wat: pd.Index, tables: dict[str, pd.DataFrame],
                 series: dict[str, pd.DataFrame]) -> None:
    """Units with inflow that cycle, pump or lose energy, and units with set states: a store on a bus of its
    own fed by an inflow generator (where there is inflow), with a turbine link and, where it charges, a pump
    link."""
    water = pd.Index([f"{n}:water" for n in wat])
    bus = u.bus[wat].to_numpy()
    turbine_in = (u.p_nom * u.p_max_pu / u.eff_dispatch.where(u.eff_dispatch > 0, 1.0))[wat]
    regions = tables["buses"].set_index("name")["region"]
    _append(tables, "buses", pd.DataFrame({"name": water, "region": regions.reindex(bus).to_numpy(), "v_nom": 1.0}))
    e_nom = u.e_max[wat]
    lo, hi = pd.DataFrame(0.0, index=u.soc_set.index, columns=wat), pd.DataFrame(1.0, index=u.soc_set.index, columns=wat)
    pinned = [n for n in wat if u.has_set[n]]
    for n in pinned:
        fixed = u.soc_set[n]
        if e_nom[n] <= 0 and (fixed.fillna(0.0) > 0).any() or (fixed > e_nom[n] * (1 + 1e-9)).any() or (fixed < 0).any():
            r.refuse("storage_units", n, "state_of_charge_set", f"set states outside [0, max_hours * p_nom = "
                     f"{e_nom[n]:g}] MWh: PyPSA's problem is infeasible")
            continue
        pu = (fixed / e_nom[n]).clip(0.0, 1.0) if e_nom[n] > 0 else fixed * 0.0
        lo[n], hi[n] = pu.where(fixed.notna(), 0.0), pu.where(fixed.notna(), 1.0)
    _append(tables, "stores", pd.DataFrame({
        "name": wat, "bus": water, "carrier": u.carrier[wat].replace("", "hydro").to_numpy(), "e_nom": e_nom.to_numpy(),
        "standing_loss": u.standing_loss[wat].to_numpy(), "e_cyclic": u.cyclic[wat].to_numpy(),
        "e_initial": u.soc_start[wat].to_numpy()}))
    if pinned:
        _add_series(series, "e_min_pu", lo[pinned])
        _add_series(series, "e_max_pu", hi[pinned])
    fed = pd.Index([n for n in wat if (u.inflow[n] > 0).any()])
    if len(fed):
        peak = u.inflow[fed].max(axis=0)
        gens = pd.Index([f"{n}:inflow" for n in fed])
        _append(tables, "generators", pd.DataFrame({
            "name": gens, "bus": [f"{n}:water" for n in fed], "carrier": "inflow", "p_nom": peak.to_numpy(),
            "p_max_pu": 1.0, "p_min_pu": 0.0, "marginal_cost": -u.spill_cost[fed].to_numpy(), "co2_t_per_mwh": 0.0}))
        avail = u.inflow[fed] / peak
        avail.columns = gens
        _add_series(series, "p_max_pu", avail)
        # spill cost * spill = spill cost * (inflow - what the inflow generator takes), weighted as costs
        w = np.asarray(r.weights, dtype=float)[:, None]
        r.constant_cny += float((w * u.inflow[fed].to_numpy() * u.spill_cost[fed].to_numpy()[None, :]).sum())
    links = [pd.DataFrame({"name": [f"{n}:turbine" for n in wat], "bus0": water, "bus1": bus,
                           "p_nom": turbine_in.to_numpy(), "efficiency": u.eff_dispatch[wat].to_numpy(),
                           "marginal_cost": (u.marginal_cost * u.eff_dispatch)[wat].to_numpy(), "carrier": "turbine"})]
    pumping = wat[u.pumps[wat].to_numpy()]
    if len(pumping):
        links.append(pd.DataFrame({"name": [f"{n}:pump" for n in pumping], "bus0": u.bus[pumping].to_numpy(),
                                   "bus1": [f"{n}:water" for n in pumping], "p_nom": u.store_mw[pumping].to_numpy(),
                                   "efficiency": u.eff_store[pumping].to_numpy(), "marginal_cost": 0.0,
                                   "carrier": "pump"}))
    _append(tables, "links", pd.concat(links))


def stores(r, tables: dict[str, pd.DataFrame], series: dict[str, pd.DataFrame]) -> None:
    """The PyPSA folder reader `r`'s stores as gridopt stores, added to `tables` and `series`."""
    st = r.static["stores"]
    if not len(st):
        return
    c = lambda a, d: r.col("stores", a, d)
    e_nom, loss = c("e_nom", 0.0).astype(float), c("standing_loss", 0.0).astype(float)
    lo, hi = r.matrix("stores", "e_min_pu", 0.0), r.matrix("stores", "e_max_pu", 1.0)
    fixed = r.matrix("stores", "e_set", np.nan)
    exp = r.expansion("stores")
    ext = exp["e_nom_extendable"].astype(bool)
    for name in st.index:
        if not np.isfinite(e_nom[name]):
            r.refuse("stores", name, "e_nom", f"{e_nom[name]:g}: an infinite capacity is not supported")
        if (lo[name] < 0).any():
            r.refuse("stores", name, "e_min_pu", f"{lo[name].min():g}: a level below 0 is not supported")
        if (hi[name] > 1).any():
            r.refuse("stores", name, "e_max_pu", f"{hi[name].max():g}: a level above e_nom is not supported")
        if not 0 <= loss[name] <= 1:
            r.refuse("stores", name, "standing_loss", f"{loss[name]:g}: must be within [0, 1]")
        given = fixed[name].notna()
        if given.any() and ext[name]:
            r.refuse("stores", name, "e_set", "set levels on an extendable store: they are fixed energies, "
                                             "gridopt's level limits scale with the capacity")
        elif given.any():
            pu = fixed[name] / e_nom[name] if e_nom[name] > 0 else fixed[name] * 0.0
            lo[name], hi[name] = pu.where(given, lo[name]), pu.where(given, hi[name])
    dt = float(r.dt[0]) if len(r.dt) else 1.0
    varying = [n for n in st.index if not (np.allclose(lo[n], lo[n].iloc[0]) and np.allclose(hi[n], hi[n].iloc[0]))]
    _append(tables, "stores", pd.DataFrame({
        "name": st.index, "bus": c("bus", ""), "carrier": c("carrier", "").replace("", "store"), "e_nom": e_nom,
        "e_min_pu": lo.iloc[0].clip(0.0, 1.0) if r.T else 0.0, "e_max_pu": hi.iloc[0].clip(0.0, 1.0) if r.T else 1.0,
        "e_cyclic": c("e_cyclic", False), "e_initial": initial_before_loss(c("e_initial", 0.0), loss, dt),
        "standing_loss": loss, "marginal_cost": c("marginal_cost", 0.0),
        "marginal_cost_storage": c("marginal_cost_storage", 0.0), **exp}).reset_index(drop=True))
    if varying:
        _add_series(series, "e_min_pu", lo[varying].clip(0.0, 1.0))
        _add_series(series, "e_max_pu", hi[varying].clip(0.0, 1.0))


def initial_before_loss(level: pd.Series, standing_loss: pd.Series, hours: float) -> pd.Series:
    """A level PyPSA starts from without a loss, as gridopt's level before the first snapshot of `hours`."""
    return level / ((1.0 - standing_loss) ** hours).clip(lower=1e-12)


def _add_series(series: dict[str, pd.DataFrame], name: str, df: pd.DataFrame) -> None:
    series[name] = pd.concat([series[name], df], axis=1) if name in series else df


def _append(tables: dict[str, pd.DataFrame], comp: str, rows: pd.DataFrame) -> None:
    old = tables.get(comp)
    tables[comp] = rows.reset_index(drop=True) if old is None or not len(old) else \
        pd.concat([old, rows], ignore_index=True)
