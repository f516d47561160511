"""Gas system tables (nodes, supplies, pipelines, storages, demands) and the hourly gas demand.

Inputs: ``gas_nodes.csv``, ``gas_supplies.csv``, ``pipelines.csv``, ``gas_storages.csv``,
``gas_demands.csv``, the residential day profile of ``hourly_profiles.csv`` and the figures.
Volumes in bcm/yr are turned into Mm3/h over the 8,760 hours of the year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .common import DAY_NOON, HOURS, SNAPSHOTS, Inputs, hourly_frame

INJECTION_OF_WITHDRAWAL = (2, 3)   # injection rate = 2/3 of the withdrawal rate, EST
SPRING_FESTIVAL = ("2025-01-28", "2025-02-05")   # industry at 70 % in that week
# seasonal amplitude of each demand kind, peak in mid-January, EST
RESIDENTIAL_SWING, INDUSTRY_SWING, EXPORT_SWING = 0.45, 0.05, 0.15
WEEKEND_INDUSTRY, FESTIVAL_INDUSTRY = 0.92, 0.70


def bcm_to_mm3h(bcm: float) -> float:
    return bcm * 1000.0 / HOURS


def gas_storage_table(inp: Inputs) -> pd.DataFrame:
    """Storage rates per hour from the daily withdrawal rate; inventories as shares of working gas."""
    num, den = INJECTION_OF_WITHDRAWAL
    rows = []
    for s in inp["gas_storages"].itertuples(index=False):
        w = s.withdrawal_max_mm3_per_day / 24.0
        wg = s.working_gas_mm3
        rows.append(dict(name=s.name, node=s.node, working_gas_mm3=round(wg, 1),
                         injection_max_mm3_per_h=round(w * num / den, 4),
                         withdrawal_max_mm3_per_h=round(w, 4),
                         inventory_initial_mm3=round(s.inventory_initial_share * wg, 1), cyclic=False,
                         inventory_final_min_mm3=round(s.inventory_final_min_share * wg, 1),
                         build_year=s.build_year))
    return pd.DataFrame(rows)


def build_gas_tables(inp: Inputs) -> dict[str, pd.DataFrame]:
    """Supply capacity = annual output x ``gas_supply_headroom``; pipeline capacities as given."""
    n = inp["gas_nodes"]
    nodes = pd.DataFrame({"name": n.name, "region": n.region, "x": n.lon_deg, "y": n.lat_deg})
    headroom = inp.fig.gas_supply_headroom
    supplies = pd.DataFrame([dict(name=s.name, node=s.node, kind=s.kind,
                                  capacity_mm3_per_h=round(bcm_to_mm3h(s.supply_bcm_per_year) * headroom, 4),
                                  cost_cny_per_kcm=float(s.cost_cny_per_kcm), build_year=s.build_year)
                             for s in inp["gas_supplies"].itertuples(index=False)])
    pipes = pd.DataFrame([dict(name=p.name, node0=p.node0, node1=p.node1,
                               capacity_mm3_per_h=round(bcm_to_mm3h(p.capacity_bcm_per_year), 4),
                               capacity_reverse_mm3_per_h=round(
                                   bcm_to_mm3h(p.capacity_reverse_bcm_per_year), 4),
                               efficiency=p.efficiency, cost_cny_per_kcm=float(p.cost_cny_per_kcm),
                               length_km=float(p.length_km), build_year=p.build_year)
                          for p in inp["pipelines"].itertuples(index=False)])
    dem = pd.DataFrame([dict(name=f"{d.node}_{d.kind}", node=d.node, kind=d.kind,
                             demand_mm3_per_h=round(bcm_to_mm3h(d.demand_bcm_per_year), 4))
                        for d in inp["gas_demands"].itertuples(index=False)])
    return dict(gas_nodes=nodes, gas_supplies=supplies, pipelines=pipes, gas_storages=gas_storage_table(inp),
                gas_demands=dem)


def demand_shapes(inp: Inputs) -> dict[str, np.ndarray]:
    """Hourly shapes, mean 1, per demand kind. Seasonal factors step once a day (cosine peaking on
    15 January); residential adds a day profile, industry dips at weekends and in the Spring Festival."""
    doy = DAY_NOON / 24.0
    hod = SNAPSHOTS.hour.to_numpy()
    dow = SNAPSHOTS.day_of_week.to_numpy()
    season = np.cos(2 * np.pi * (doy - 15.0) / 365.0)
    res_day = inp["hourly_profiles"].sort_values("hour").gas_residential_factor.to_numpy(dtype=float)
    res_day = res_day / res_day.mean()
    residential = (1.0 + RESIDENTIAL_SWING * season) * res_day[hod]
    festival = (SNAPSHOTS >= SPRING_FESTIVAL[0]) & (SNAPSHOTS < SPRING_FESTIVAL[1])
    industry = (1.0 + INDUSTRY_SWING * season) * np.where(dow >= 5, WEEKEND_INDUSTRY, 1.0)
    industry = industry * np.where(festival, FESTIVAL_INDUSTRY, 1.0)
    export = 1.0 + EXPORT_SWING * season
    return {"residential": residential / residential.mean(), "industry": industry / industry.mean(),
            "export": export / export.mean()}


def build_gas_demand(tables: dict[str, pd.DataFrame], inp: Inputs) -> pd.DataFrame:
    """Non-power gas demand (Mm3/h) = annual mean of the demand table x the shape of its kind."""
    shapes = demand_shapes(inp)
    out = {}
    for d in tables["gas_demands"].itertuples(index=False):
        out[d.name] = np.round(d.demand_mm3_per_h * shapes[d.kind], 4)
    return hourly_frame(out)
