"""PyPSA storage units as gridopt components, each mapping exact in the LP.

A PyPSA storage unit has, per hour, p_dispatch (<= p_nom * p_max_pu), p_store (<= -p_min_pu * p_nom),
spill (<= inflow, only where there is inflow) and

    soc[t] = (1 - standing_loss) * soc[t-1] + efficiency_store * p_store[t] - p_dispatch[t] / efficiency_dispatch
             + inflow[t] - spill[t],        soc[t] <= max_hours * p_nom,

with soc[-1] = soc[T-1] when cyclic_state_of_charge, else state_of_charge_initial; costs are
marginal_cost * p_dispatch + spill_cost * spill. Four shapes:

- no inflow -> a gridopt storage unit (p_nom_store = -p_min_pu * p_nom; a static p_max_pu < 1 scales
  p_nom, with max_hours scaled so the energy capacity is kept; state_of_charge_initial divided by
  1 - standing_loss, since PyPSA starts from it without a loss).
- inflow, not cyclic, no pumping, no standing loss -> a reservoir in energy-equivalent units: one "m3/s"
  is one MW of stored energy flow, so volume_hm3 = energy_MWh * HM3_PER_M3S_HOUR, inflow_m3s = inflow (MW),
  production_mw_per_m3s = efficiency_dispatch, spill_max_m3s = the largest inflow (PyPSA bounds spill by
  the hour's inflow; gridopt's bound is static: a stated relaxation) and the case's spill penalty =
  spill_cost / efficiency_dispatch.
- inflow with a cyclic state of charge, pumping or a standing loss -> the store on a bus of its own,
  `NAME:water`, whose energy is the store's: a storage unit `NAME` there (efficiencies 1, the unit's
  standing loss, cyclic or initial state, energy capacity max_hours * p_nom), a generator
  `NAME:inflow` of up to the hour's inflow (what it leaves unused is the spill; its marginal cost is
  -spill_cost, so the objective differs from PyPSA's by the constant spill_cost * total inflow, which
  `Imported.constant_cny` carries), a link `NAME:turbine` to the unit's bus (efficiency_dispatch,
  marginal_cost * efficiency_dispatch per MWh drawn from the store) and, where it pumps, a link
  `NAME:pump` from the unit's bus (efficiency_store).
- p_min_pu < 0 with efficiency_store = 0 (PyPSA's default p_min_pu on hydro): the charge disappears, so
  the unit is also a free power sink of -p_min_pu * p_nom MW: a market `NAME:sink` at its bus buying
  that much at price 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..units import HM3_PER_M3S_HOUR


def storage_units(r, tables: dict[str, pd.DataFrame],
                  series: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Storage units of the PyPSA folder reader `r` -> (storage units, reservoirs, spill penalty).

    Water buses, inflow generators, turbine and pump links and sink markets are added to `tables` and
    `series`; the spill constant is added to `r.constant_cny`.
    """
    su = r.static["storage_units"]
    c = lambda a, d: r.col("storage_units", a, d)
    inflow = r.matrix("storage_units", "inflow", 0.0)
    has_inflow = ((inflow > 0).any(axis=0) if len(su) else pd.Series(dtype=bool)).reindex(su.index, fill_value=False)
    p_nom, pmin, pmax = c("p_nom", 0.0), c("p_min_pu", -1.0), c("p_max_pu", 1.0)
    loss, eff_d, eff_s = c("standing_loss", 0.0), c("efficiency_dispatch", 1.0), c("efficiency_store", 1.0)
    cyclic, soc0 = c("cyclic_state_of_charge", False), c("state_of_charge_initial", 0.0)
    spill_cost, mc, bus = c("spill_cost", 0.0), c("marginal_cost", 0.0), c("bus", "")
    carrier = c("carrier", "")
    for name in su.index:
        if pmin[name] > 0:
            r.refuse("storage_units", name, "p_min_pu", f"{pmin[name]:g}: must be <= 0")
        if not pmax[name] > 0:
            r.refuse("storage_units", name, "p_max_pu", f"{pmax[name]:g}: must be > 0")
        if (inflow[name] < 0).any():
            r.refuse("storage_units", name, "inflow", "negative inflow is not supported")
        if spill_cost[name] < 0:
            r.refuse("storage_units", name, "spill_cost", f"{spill_cost[name]:g}: must be >= 0")

    sinks = su.index[((pmin < 0) & (eff_s == 0)).to_numpy()]  # charge that disappears: a free sink
    pumps = (pmin < 0) & (eff_s > 0)
    own_bus = has_inflow & (cyclic | pumps | (loss > 0))
    sto = su.index[~has_inflow.to_numpy()]
    hyd = su.index[(has_inflow & ~own_bus).to_numpy()]
    wat = su.index[own_bus.to_numpy()]
    keep = (1.0 - loss).clip(lower=1e-12)
    store_mw = (-pmin * p_nom).where(~su.index.isin(sinks), 0.0)

    pm = pmax.clip(lower=1e-12)
    st = pd.DataFrame({"name": sto, "bus": bus[sto], "carrier": carrier[sto].replace("", "storage"),
                       "p_nom": (p_nom * pmax)[sto], "p_nom_store": store_mw[sto],
                       "max_hours": (c("max_hours", 1.0) / pm)[sto],
                       "efficiency_store": eff_s.where(eff_s > 0, 1.0)[sto], "efficiency_dispatch": eff_d[sto],
                       "standing_loss": loss[sto], "cyclic_state_of_charge": cyclic[sto],
                       "state_of_charge_initial": (soc0 / keep)[sto], "marginal_cost": mc[sto]})

    spill_pen = {round(spill_cost[n] / eff_d[n], 9) for n in hyd}
    if len(spill_pen) > 1:
        r.refuse("storage_units", ", ".join(hyd), "spill_cost",
                 "spill_cost / efficiency_dispatch differs between storage units with inflow: gridopt has one "
                 "spill penalty per case")
    e_max = c("max_hours", 1.0) * p_nom
    res = pd.DataFrame({"name": hyd, "bus": bus[hyd], "p_nom": (p_nom * pmax)[hyd],
                        "production_mw_per_m3s": eff_d[hyd], "volume_min_hm3": 0.0,
                        "volume_max_hm3": e_max[hyd] * HM3_PER_M3S_HOUR,
                        "volume_initial_hm3": soc0[hyd] * HM3_PER_M3S_HOUR,
                        "spill_max_m3s": inflow[hyd].max(axis=0) if len(hyd) else pd.Series(dtype=float),
                        "marginal_cost": mc[hyd]}).reset_index(drop=True)
    if len(hyd):
        series["inflow_m3s"] = inflow[list(hyd)]

    if len(wat):
        water = pd.Index([f"{n}:water" for n in wat])
        peak = inflow[wat].max(axis=0)
        turbine_in = (p_nom * pmax / eff_d.where(eff_d > 0, 1.0))[wat]
        pump_out = (store_mw * eff_s)[wat].where(pumps[wat], 0.0)
        regions = tables["buses"].set_index("name")["region"]
        _append(tables, "buses", pd.DataFrame({"name": water, "region": regions.reindex(bus[wat]).to_numpy(),
                                               "v_nom": 1.0}))
        rate = np.maximum(turbine_in.to_numpy(), (peak + pump_out).to_numpy())
        st = pd.concat([st, pd.DataFrame({
            "name": wat, "bus": water, "carrier": carrier[wat].replace("", "hydro"), "p_nom": rate,
            "p_nom_store": rate, "max_hours": e_max[wat] / np.maximum(rate, 1e-12), "efficiency_store": 1.0,
            "efficiency_dispatch": 1.0, "standing_loss": loss[wat], "cyclic_state_of_charge": cyclic[wat],
            "state_of_charge_initial": (soc0 / keep)[wat], "marginal_cost": 0.0})])
        gens = pd.Index([f"{n}:inflow" for n in wat])
        _append(tables, "generators", pd.DataFrame({
            "name": gens, "bus": water, "carrier": "inflow", "p_nom": peak.to_numpy(), "p_max_pu": 1.0,
            "p_min_pu": 0.0, "marginal_cost": -spill_cost[wat].to_numpy(), "co2_t_per_mwh": 0.0}))
        avail = inflow[wat] / peak
        avail.columns = gens
        series["p_max_pu"] = pd.concat([series["p_max_pu"], avail], axis=1) if "p_max_pu" in series else avail
        r.constant_cny += float((inflow[wat].sum(axis=0) * spill_cost[wat]).sum())
        links = [pd.DataFrame({"name": [f"{n}:turbine" for n in wat], "bus0": water, "bus1": bus[wat].to_numpy(),
                               "p_nom": turbine_in.to_numpy(), "efficiency": eff_d[wat].to_numpy(),
                               "marginal_cost": (mc * eff_d)[wat].to_numpy(), "carrier": "turbine"})]
        pumping = wat[pumps[wat].to_numpy()]
        if len(pumping):
            links.append(pd.DataFrame({"name": [f"{n}:pump" for n in pumping], "bus0": bus[pumping].to_numpy(),
                                       "bus1": [f"{n}:water" for n in pumping], "p_nom": store_mw[pumping].to_numpy(),
                                       "efficiency": eff_s[pumping].to_numpy(), "marginal_cost": 0.0,
                                       "carrier": "pump"}))
        _append(tables, "links", pd.concat(links))

    if len(sinks):
        _append(tables, "markets", pd.DataFrame({
            "name": [f"{n}:sink" for n in sinks], "bus": bus[sinks].to_numpy(),
            "buy_max_mw": (-pmin * p_nom)[sinks].to_numpy(), "sell_max_mw": 0.0, "buy_price": 0.0,
            "sell_price": 0.0, "co2_t_per_mwh": 0.0}))
    return st.reset_index(drop=True), res, (spill_pen.pop() if len(spill_pen) == 1 else 0.0)


def _append(tables: dict[str, pd.DataFrame], comp: str, rows: pd.DataFrame) -> None:
    old = tables.get(comp)
    tables[comp] = rows.reset_index(drop=True) if old is None or not len(old) else \
        pd.concat([old, rows], ignore_index=True)
