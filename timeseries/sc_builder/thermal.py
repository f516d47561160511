"""Coal and gas fleets (generator rows) and their derate and must-run series.

Inputs: GEM units (``gem_plants_by_zone.csv``), ``regions.csv`` (reported thermal capacity),
``coal_heat_rates.csv``, ``gas_plants.csv``, ``thermal_fleets.csv``, ``chp_must_run.csv``,
``monthly_profiles.csv`` and the figures. Units: MW, GJ/MWh, t/MWh, CNY/MW (start-up), CNY/MWh, CNY/GJ.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .common import YEAR, Inputs, hourly_frame, mid_month_curve, monthly, monthly_anchor_curve


def coal_heat_rate(inp: Inputs, unit_mw: pd.Series) -> np.ndarray:
    """Heat rate of each unit (GJ/MWh): the tier with the largest ``unit_mw_min`` the unit reaches."""
    tiers = inp["coal_heat_rates"].sort_values("unit_mw_min", ascending=False)
    hr = np.select([unit_mw >= t for t in tiers.unit_mw_min], list(tiers.heat_rate_gj_per_mwh), np.nan)
    assert not np.isnan(hr).any(), "coal_heat_rates.csv must have a tier for the smallest unit"
    return hr


def gas_units(inp: Inputs) -> pd.DataFrame:
    """GEM gas units with an in-service year and a heat rate.

    Units under construction take the year, unit size and heat rate of their ``gas_plants.csv`` entry
    (matched by name prefix), else a default year; other heat rates follow the unit size.
    """
    f = inp.fig
    gem = inp["gem_plants_by_zone"]
    plants = inp["gas_plants"]
    gas = gem[gem.type.str.startswith("gas")].copy()
    by, hr = [], []
    for label, r in gas.iterrows():
        small = r.MW < f.gas_small_unit_mw_below
        size_hr = f.gas_small_heat_rate_gj_per_mwh if small else f.gas_ccgt_heat_rate_gj_per_mwh
        if r.type != "gas_cons":
            by.append(0)
            hr.append(size_hr)
            continue
        match = plants[[r.plant.startswith(p) for p in plants.plant_prefix]]
        if match.empty:
            by.append(int(f.gas_construction_build_year))
            hr.append(size_hr)
            continue
        p = match.iloc[0]
        by.append(int(p.build_year))
        hr.append(float(p.heat_rate_gj_per_mwh))
        if not pd.isna(p.unit_mw):
            gas.loc[label, "MW"] = float(p.unit_mw)
    gas["build_year"] = by
    gas["hr"] = hr
    return gas


def coal_fleets(inp: Inputs) -> pd.DataFrame:
    """GEM coal units per zone and size class, scaled per region so that coal + gas in service in the base
    year meets the reported thermal capacity less the part still under construction (GEM misses CHP,
    captive and recent units; units under construction cannot run in the base year)."""
    gem = inp["gem_plants_by_zone"]
    large_min = inp.fig.coal_large_unit_mw_min
    coal = gem[gem.type == "coal"].copy()
    coal["size"] = np.where(coal.MW >= large_min, "large", "small")
    coal["hr"] = coal_heat_rate(inp, coal.MW)
    gas = gas_units(inp)
    rows = []
    for reg in inp["regions"].itertuples(index=False):
        zones = inp.zones(reg.region)
        sub = coal[coal.zone.isin(zones)]
        gas_mw = gas[(gas.zone.isin(zones)) & (gas.build_year <= YEAR)].MW.sum()
        in_service_mw = reg.thermal_reported_mw - reg.thermal_under_construction_mw
        scale = (in_service_mw - gas_mw) / sub.MW.sum()
        for (zone, size), g in sub.groupby(["zone", "size"], sort=True):
            hr = float(np.average(g.hr, weights=g.MW))
            rows.append(dict(name=f"{zone}_coal_{size}", bus=zone, carrier="coal",
                             p_nom=round(g.MW.sum() * scale, 1), gem_mw=g.MW.sum(), scale=scale,
                             heat_rate=round(hr, 3), size=size))
    return pd.DataFrame(rows)


def fleet_rows(inp: Inputs, info: dict) -> list[dict]:
    """Generator rows: coal fleets, then gas fleets per zone and in-service year."""
    return coal_rows(inp, info) + gas_rows(inp)


def coal_rows(inp: Inputs, info: dict) -> list[dict]:
    f = inp.fig
    tech = inp["thermal_fleets"].set_index("fleet")
    cf = coal_fleets(inp)
    info["coal_scale"] = cf.groupby(cf.bus.str[:2]).scale.first().to_dict()
    rows = []
    for r in cf.itertuples(index=False):
        t = tech.loc[f"coal_{r.size}"]
        size_text = f"{'>=' if r.size == 'large' else '<'} {f.coal_large_unit_mw_min:.0f}"
        text = (f"coal units {size_text} MW; GEM {r.gem_mw:.0f} MW x {r.scale:.3f} "
                "to the provincial thermal total in service")
        rows.append(dict(name=r.name, bus=r.bus, carrier="coal", p_nom=r.p_nom, p_min_pu=t.p_min_pu,
                         committable=True, start_up_cost=t.start_up_cost_cny_per_mw,
                         ramp_limit_up=t.ramp_limit_pu_per_h, ramp_limit_down=t.ramp_limit_pu_per_h,
                         marginal_cost=t.marginal_cost_cny_per_mwh, fuel_price=f.coal_price_cny_per_gj,
                         heat_rate=r.heat_rate, co2_t_per_mwh=round(r.heat_rate * f.coal_co2_t_per_gj, 3),
                         provides_reserve=True, build_year=0, description=text))
    return rows


def short_plant_name(plant: str) -> str:
    return plant.replace(" power station", "").replace(" power project", "")


def gas_rows(inp: Inputs) -> list[dict]:
    """Gas fleets buy their fuel in the gas network (``gas_node``), so their fuel_price is 0 (the case
    format requires it); the gas supply costs put that fuel at about ``gas_price_power_cny_per_gj``."""
    t = inp["thermal_fleets"].set_index("fleet").loc["gas"]
    node_of_zone = dict(zip(inp["zones"].zone, inp["zones"].gas_node, strict=True))
    rows = []
    for (zone, by), g in gas_units(inp).groupby(["zone", "build_year"], sort=True):
        hr = float(np.average(g.hr, weights=g.MW))
        name = f"{zone}_gas" if by <= YEAR else f"{zone}_gas_{by}"
        plants = ", ".join(sorted({short_plant_name(p) for p in g.plant}))
        rows.append(dict(name=name, bus=zone, carrier="gas", p_nom=round(g.MW.sum(), 1), p_min_pu=t.p_min_pu,
                         committable=True, start_up_cost=t.start_up_cost_cny_per_mw,
                         ramp_limit_up=t.ramp_limit_pu_per_h, ramp_limit_down=t.ramp_limit_pu_per_h,
                         marginal_cost=t.marginal_cost_cny_per_mwh, fuel_price=0.0,
                         gas_node=node_of_zone[zone],
                         heat_rate=round(hr, 3), co2_t_per_mwh=round(hr * inp.fig.gas_co2_t_per_gj, 3),
                         provides_reserve=True, build_year=int(by), description=f"gas: {plants}"))
    return rows


def build_thermal_pmax(inp: Inputs, gens: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Maintenance derates (p_max_pu, monthly means interpolated by day) of every coal and gas fleet, and
    the winter must-run (share of p_nom, anchored at month starts) of the heat-led coal fleets."""
    coal_m = monthly(inp, "coal_availability_pu")
    gas_m = monthly(inp, "gas_availability_pu")
    out = {}
    for g in gens[gens.carrier.isin(["coal", "gas"])].itertuples(index=False):
        out[g.name] = np.round(mid_month_curve(coal_m if g.carrier == "coal" else gas_m), 3)
    must = {}
    winter = monthly(inp, "chp_must_run_pu")
    names = set(gens.name)
    for name in inp["chp_must_run"].generator:
        if name in names:
            must[name] = np.round(monthly_anchor_curve(winter), 3)
    return hourly_frame(out), hourly_frame(must)
